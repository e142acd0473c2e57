/* SPDX-License-Identifier: MPL-2.0 */
/* buf.h: a growable byte buffer with a hard cap. The first failed append (out of memory or over
 * the cap) frees the contents and makes every later append a no-op; sym_buf_err() reports that
 * first error, so callers may append many times and check once. */
#ifndef SYM_BUF_H
#define SYM_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "sym/err.h"

struct sym_buf {
    char *data; /* owned; always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;
    size_t cap;     /* allocated bytes */
    size_t max_len; /* appends that would exceed this fail with SYM_ELIMIT */
    sym_err err;    /* first error, SYM_OK while healthy */
};

/* Caller-allocated; max_len 0 means SIZE_MAX / 2. */
void sym_buf_init(struct sym_buf *b, size_t max_len);
void sym_buf_cleanup(struct sym_buf *b);
/* Empties the buffer and clears its error, keeping the allocation. */
void sym_buf_reset(struct sym_buf *b);

void sym_buf_append(struct sym_buf *b, const void *data, size_t len);
void sym_buf_append_str(struct sym_buf *b, const char *s);
void sym_buf_append_char(struct sym_buf *b, char c);
void sym_buf_printf(struct sym_buf *b, const char *fmt, ...) SYM_PRINTF(2, 3);
void sym_buf_vprintf(struct sym_buf *b, const char *fmt, va_list ap) SYM_PRINTF(2, 0);

/* SYM_OK, SYM_ENOMEM or SYM_ELIMIT. */
sym_err sym_buf_err(const struct sym_buf *b);
/* Hands the contents to the caller (free with sym_free) and resets b to empty; NULL when the
 * buffer is in error. *len_out, when non-NULL, receives the length. */
char *sym_buf_steal(struct sym_buf *b, size_t *len_out);

#endif
