/* SPDX-License-Identifier: MPL-2.0 */
/* jsonw.c: escaping and number formatting for symbolication responses. */
#include "symbolicate/jsonw.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sym/alloc.h"

void srv_jw_reserve(struct sym_buf *b, size_t n)
{
    if (b->err != SYM_OK || n > b->max_len - b->len || n < b->cap - b->len)
        return;
    size_t cap = b->len + n + 1;
    char *p = sym_realloc(b->data, cap);
    if (p == NULL)
        return;
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Non-zero when some byte of the word needs escaping or a UTF-8 check: below 0x20, '"', '\\'
 * or 0x80 and above. */
static uint64_t special_bytes(uint64_t w)
{
    uint64_t lt20 = (w - ONES * 0x20) & ~w;
    uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
    uint64_t quote = (q - ONES) & ~q, backslash = (bs - ONES) & ~bs;
    return (lt20 | quote | backslash | w) & HIGHS;
}

/* Bytes from s[0] that need nothing: a word at a time, then byte by byte. */
static size_t plain_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (special_bytes(w) != 0)
            break;
        i += 8;
    }
    while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void srv_jw_escaped(struct sym_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        i += plain_run(s + i, n - i);
        if (i > run)
            srv_jw_raw(b, (const char *)s + run, i - run);
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_seq(s + i, n - i);
            if (len > 0) {
                srv_jw_raw(b, (const char *)s + i, len);
                i += len;
            } else {
                srv_jw_raw(b, "\xef\xbf\xbd", 3); /* U+FFFD */
                i++;
            }
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        srv_jw_raw(b, esc, elen);
        i++;
    }
}

void srv_jw_str(struct sym_buf *b, const char *s, size_t n)
{
    srv_jw_raw(b, "\"", 1);
    srv_jw_escaped(b, s, n);
    srv_jw_raw(b, "\"", 1);
}

void srv_jw_int(struct sym_buf *b, int64_t v)
{
    char tmp[24];
    size_t o = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--o] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[--o] = '-';
    srv_jw_raw(b, tmp + o, sizeof(tmp) - o);
}

static void hex_string(struct sym_buf *b, bool negative, uint64_t u, bool quoted)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[24];
    size_t o = sizeof(tmp);
    if (quoted)
        tmp[--o] = '"';
    do {
        tmp[--o] = hex[u & 15];
        u >>= 4;
    } while (u != 0);
    tmp[--o] = 'x';
    tmp[--o] = '0';
    if (negative)
        tmp[--o] = '-';
    if (quoted)
        tmp[--o] = '"';
    srv_jw_raw(b, tmp + o, sizeof(tmp) - o);
}

void srv_jw_hex(struct sym_buf *b, int64_t v)
{
    hex_string(b, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, true);
}

void srv_jw_hex_bare(struct sym_buf *b, int64_t v)
{
    hex_string(b, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, false);
}

void srv_jw_hex_u64(struct sym_buf *b, uint64_t v)
{
    hex_string(b, false, v, true);
}

void srv_jw_real(struct sym_buf *b, double v)
{
    if (!isfinite(v))
        v = 0;
    char tmp[40];
    int n = snprintf(tmp, sizeof(tmp), "%.9g", v);
    if (n <= 0 || (size_t)n >= sizeof(tmp))
        return;
    bool has_dot = false;
    for (int i = 0; i < n; i++)
        has_dot |= tmp[i] == '.' || tmp[i] == 'e' || tmp[i] == 'n';
    sym_buf_append(b, tmp, (size_t)n);
    if (!has_dot)
        sym_buf_append(b, ".0", 2); /* stays a float, as Python prints time values */
}
