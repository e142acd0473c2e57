/* SPDX-License-Identifier: MPL-2.0 */
/* buf.c: capped growable buffer. */
#include "sym/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sym/alloc.h"

void sym_buf_init(struct sym_buf *b, size_t max_len)
{
    memset(b, 0, sizeof(*b));
    b->max_len = max_len ? max_len : SIZE_MAX / 2;
}

void sym_buf_cleanup(struct sym_buf *b)
{
    sym_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sym_buf_reset(struct sym_buf *b)
{
    b->len = 0;
    b->err = SYM_OK;
    if (b->data)
        b->data[0] = '\0';
}

static void fail(struct sym_buf *b, sym_err e)
{
    sym_buf_cleanup(b);
    b->err = e;
}

static int reserve(struct sym_buf *b, size_t extra)
{
    if (b->err != SYM_OK)
        return -1;
    if (extra > b->max_len - b->len) {
        fail(b, SYM_ELIMIT);
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = sym_realloc(b->data, cap);
    if (p == NULL) {
        fail(b, SYM_ENOMEM);
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void sym_buf_append(struct sym_buf *b, const void *data, size_t len)
{
    if (reserve(b, len) != 0)
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sym_buf_append_str(struct sym_buf *b, const char *s)
{
    sym_buf_append(b, s, strlen(s));
}

void sym_buf_append_char(struct sym_buf *b, char c)
{
    sym_buf_append(b, &c, 1);
}

void sym_buf_vprintf(struct sym_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (b->err == SYM_OK)
            fail(b, SYM_EINVAL);
        return;
    }
    if (reserve(b, (size_t)n) != 0)
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sym_buf_printf(struct sym_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sym_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

sym_err sym_buf_err(const struct sym_buf *b)
{
    return b->err;
}

char *sym_buf_steal(struct sym_buf *b, size_t *len_out)
{
    if (b->err != SYM_OK)
        return NULL;
    if (b->data == NULL && reserve(b, 0) != 0)
        return NULL;
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
