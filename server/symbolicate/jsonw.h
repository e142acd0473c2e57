/* SPDX-License-Identifier: MPL-2.0 */
/* jsonw.h: the JSON text writer of symbolication responses. A warm response is tens of KB of
 * frames built thousands of times a second; jansson's tree-then-dump serializer measured about
 * 1 ms for a 150-frame response (90 MB/s), which alone would cap the endpoint far below its
 * target, so responses are written straight into a buffer by these few primitives. They are the
 * only way symbolication output is produced: every string goes through srv_jw_str(), which
 * escapes as RFC 8259 requires and replaces bytes that are not UTF-8 with U+FFFD, so the output
 * is always valid JSON whatever a symbol file contains (tests parse it back with jansson).
 * Errors stick in the buffer (see sym/buf.h). */
#ifndef SRV_SYMB_JSONW_H
#define SRV_SYMB_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym/buf.h"

/* Punctuation and key literals written verbatim; s must be JSON text (e.g. "{\"frame\":").
 * Inline: a response is thousands of these small appends, so the common case (room left in the
 * buffer) is a plain copy; anything else goes through sym_buf_append() and its error rules. */
static inline void srv_jw_raw(struct sym_buf *b, const char *s, size_t n)
{
    if (b->err == SYM_OK && b->data != NULL && n < b->cap - b->len && n <= b->max_len - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    sym_buf_append(b, s, n);
}

/* Makes room for n more bytes at once (a response's expected size), so that writing it does not
 * grow the buffer step by step. Failing to reserve is not an error: the appends then grow it. */
void srv_jw_reserve(struct sym_buf *b, size_t n);
/* lit must be a string literal (the "" concatenation rejects anything else at compile time). */
#define SRV_JW_LIT(b, lit) srv_jw_raw((b), "" lit, sizeof(lit) - 1)

/* A JSON string of s[0..n) (any bytes). */
void srv_jw_str(struct sym_buf *b, const char *s, size_t n);
/* The same without the quotes, for a string written in pieces between two SRV_JW_LIT(b, "\""). */
void srv_jw_escaped(struct sym_buf *b, const char *s, size_t n);
/* A decimal integer. */
void srv_jw_int(struct sym_buf *b, int64_t v);
/* A JSON string of Python's hex(v): "0x1c", "-0x1". */
void srv_jw_hex(struct sym_buf *b, int64_t v);
void srv_jw_hex_u64(struct sym_buf *b, uint64_t v);
/* hex(v) without quotes, inside a string written in pieces. */
void srv_jw_hex_bare(struct sym_buf *b, int64_t v);
/* A finite number (non-finite values are written as 0). */
void srv_jw_real(struct sym_buf *b, double v);

#endif
