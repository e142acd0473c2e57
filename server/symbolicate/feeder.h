/* SPDX-License-Identifier: MPL-2.0 */
/* feeder.h: a .sym parser (sym/symfile.h) running on a thread of its own, so that parsing a large
 * symbol file overlaps with reading and inflating it on the caller's thread: a cold 160 MB file
 * then costs about the longer of the two instead of their sum. The caller's bytes are copied
 * into a few 1 MiB buffers handed over in order through a small ring; the caller blocks only when
 * every buffer waits for the parser. Memory: the ring (4 MiB), whatever the file's size. */
#ifndef SRV_SYMB_FEEDER_H
#define SRV_SYMB_FEEDER_H

#include <stddef.h>

#include "sym/err.h"
#include "sym/symfile.h"

struct srv_feeder;

/* Starts the parsing thread for parser (borrowed until srv_feeder_stop(); nothing else may feed
 * it meanwhile). Returns SYM_OK and *out, or SYM_ENOMEM (no memory or no thread: the caller then
 * feeds the parser itself). */
sym_err srv_feeder_start(struct sym_parser *parser, struct srv_feeder **out) SYM_MUST_CHECK;

/* Queues len more bytes of the text. Returns SYM_OK, or the first error sym_parser_feed()
 * returned for earlier bytes (every later push repeats it and queues nothing). */
sym_err srv_feeder_push(struct srv_feeder *f, const void *data, size_t len) SYM_MUST_CHECK;

/* Hands over the last bytes, waits until the parser has taken everything, stops the thread and
 * frees f. Returns the parser's first error or SYM_OK; *parse_s (optional) receives the time the
 * thread spent parsing. The parser may then be finished by the caller. */
sym_err srv_feeder_stop(struct srv_feeder *f, double *parse_s) SYM_MUST_CHECK;

#endif
