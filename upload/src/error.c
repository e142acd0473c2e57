/* SPDX-License-Identifier: MPL-2.0 */
/* error.c: the upload library's error record: reason names and message formatting. */
#include "upload/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upload_int.h"

const char *symup_reason_name(enum symup_reason r)
{
    switch (r) {
#define SYMUP_REASON_TEXT(name, text) \
    case SYMUP_R_##name:              \
        return text;
        SYMUP_REASON_MAP(SYMUP_REASON_TEXT)
#undef SYMUP_REASON_TEXT
    }
    return "unknown";
}

bool symup_error_is_input(const struct symup_error *e)
{
    if (e == NULL)
        return false;
    switch (e->reason) {
    case SYMUP_R_NONE:
    case SYMUP_R_IO:
    case SYMUP_R_NOMEM:
    case SYMUP_R_CONFIG:
        return false;
    default:
        return true;
    }
}

void symup_error_clear(struct symup_error *e)
{
    if (e == NULL)
        return;
    e->code = SYM_OK;
    e->reason = SYMUP_R_NONE;
    e->msg[0] = '\0';
    sym_diag_clear(&e->diag);
}

/* Cuts s (NUL-terminated, within cap) so that no UTF-8 sequence is left incomplete. */
static void trim_utf8(char *s, size_t len)
{
    size_t end = len;
    size_t back = 0;
    while (end > 0 && back < 4 && ((unsigned char)s[end - 1] & 0xC0) == 0x80) {
        end--;
        back++;
    }
    if (end == 0)
        return;
    unsigned char lead = (unsigned char)s[end - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (need != back + 1 && lead >= 0xC0)
        s[end - 1] = '\0';
}

static void finish(struct symup_error *e, sym_err code, enum symup_reason reason, size_t len)
{
    if (len >= sizeof(e->msg)) {
        len = sizeof(e->msg) - 1;
        e->msg[len] = '\0';
        trim_utf8(e->msg, len);
    }
    e->code = code;
    e->reason = reason;
    sym_diag_clear(&e->diag);
    e->diag.code = code;
    size_t n = strlen(e->msg);
    if (n >= sizeof(e->diag.msg)) {
        n = sizeof(e->diag.msg) - 1;
        memcpy(e->diag.msg, e->msg, n);
        e->diag.msg[n] = '\0';
        trim_utf8(e->diag.msg, n);
    } else {
        memcpy(e->diag.msg, e->msg, n + 1);
    }
}

sym_err symup__fail(struct symup_error *e, sym_err code, enum symup_reason reason, const char *fmt,
                    ...)
{
    if (e == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        e->msg[0] = '\0';
        n = 0;
    }
    finish(e, code, reason, (size_t)n);
    return code;
}

void symup__msg_init(struct sym_buf *b)
{
    sym_buf_init(b, 0); /* names are already capped by max_name_len */
}

sym_err symup__fail_buf(struct symup_error *e, sym_err code, enum symup_reason reason,
                        struct sym_buf *b)
{
    sym_err berr = sym_buf_err(b);
    if (berr == SYM_ENOMEM) {
        sym_buf_cleanup(b);
        return symup__fail(e, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
    }
    if (e != NULL) {
        size_t len = b->len;
        if (b->data == NULL)
            len = 0;
        size_t n = len < sizeof(e->msg) - 1 ? len : sizeof(e->msg) - 1;
        if (n > 0)
            memcpy(e->msg, b->data, n);
        e->msg[n] = '\0';
        finish(e, code, reason, len);
    }
    sym_buf_cleanup(b);
    return code;
}

bool symup__utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = *pos;
    if (i >= len)
        return false;
    uint32_t c = p[i];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        *pos = i + 1;
        return true;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (len - i - 1 < n)
        return false;
    for (size_t k = 1; k <= n; k++) {
        if ((p[i + k] & 0xC0) != 0x80)
            return false;
        c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return false;
    *cp = c;
    *pos = i + 1 + n;
    return true;
}

bool symup__utf8_valid(const char *s, size_t len)
{
    size_t pos = 0;
    uint32_t cp;
    while (pos < len)
        if (!symup__utf8_next(s, len, &pos, &cp))
            return false;
    return true;
}

bool symup__ends_with_ci(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    if (n > len)
        return false;
    const char *t = s + len - n;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return false;
    }
    return true;
}
