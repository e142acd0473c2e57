/* SPDX-License-Identifier: MPL-2.0 */
/* symstream.h: the byte path every symbol source shares between "bytes arrive" and "symcache
 * image": detects a gzip body by its magic and inflates it, enforces a cap on the decoded size,
 * and feeds the text either straight into a .sym parser (no copy of the file is kept) or into a
 * buffer. Caller-allocated, one per transfer; not thread-safe. Uses zlib. */
#ifndef SRV_SYMSTREAM_H
#define SRV_SYMSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <zlib.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "sym/symfile.h"

struct srv_symstream {
    struct sym_parser *parser; /* borrowed; NULL: buffer mode */
    struct sym_buf *text;      /* borrowed; buffer mode */
    size_t max;                /* decoded bytes allowed */
    size_t total;              /* decoded bytes delivered */
    bool started, gzip, zinit, zdone;
    z_stream zs;
    sym_err err; /* first error, sticky */
};

/* Exactly one of parser and text is non-NULL. max 0 means no cap. */
void srv_symstream_init(struct srv_symstream *s, struct sym_parser *parser, struct sym_buf *text,
                        size_t max);
/* Takes the next bytes. Returns SYM_OK, or the first error, which later calls repeat:
 * SYM_ELIMIT (decoded size over max), SYM_EPARSE (corrupt gzip, or the parser's verdict that
 * this is not a symbol file), SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_symstream_feed(struct srv_symstream *s, const void *data, size_t len);
/* Ends the input: SYM_EPARSE when a gzip body was cut short, else the sticky error. */
SYM_MUST_CHECK sym_err srv_symstream_finish(struct srv_symstream *s);
/* Releases the inflater (the parser and buffer belong to the caller). */
void srv_symstream_cleanup(struct srv_symstream *s);

#endif
