/* SPDX-License-Identifier: MPL-2.0 */
/* pathutil.c: path splitting, decoding, validation and encoding. */
#include "http/pathutil.h"

#include <stdint.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long srv_percent_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0' || c == '/')
                return -1;
            i += 2;
        } else if (c == '\0') {
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

enum srv_path_result srv_path_split(h2o_mem_pool_t *pool, const char *p, size_t n,
                                    struct srv_path *out)
{
    if (n > SRV_MAX_PATH_LEN)
        return SRV_PATH_TOO_LONG;
    if (n == 0 || p[0] != '/')
        return SRV_PATH_INVALID;
    out->n_segments = 0;
    size_t i = 1;
    for (;;) {
        const char *slash = memchr(p + i, '/', n - i);
        size_t end = slash ? (size_t)(slash - p) : n;
        if (out->n_segments >= SRV_MAX_SEGMENTS)
            return SRV_PATH_INVALID;
        char *seg = h2o_mem_alloc_pool(pool, end - i + 1);
        long len = srv_percent_decode(p + i, end - i, seg);
        if (len < 0)
            return SRV_PATH_INVALID;
        out->segments[out->n_segments] = seg;
        out->segment_lens[out->n_segments] = (size_t)len;
        out->n_segments++;
        if (slash == NULL)
            break;
        i = end + 1;
    }
    return SRV_PATH_OK;
}

/* Decodes one UTF-8 code point; returns its length or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        c = s[0] & 0x1f;
        min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        c = s[0] & 0x0f;
        min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        c = s[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

bool srv_component_valid(const char *s, size_t n)
{
    static const char forbidden[] = "\\^`><{}[]#%\"'|/";
    if (n == 0)
        return false;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(u + i, n - i, &cp);
        if (len == 0)
            return false;
        if (cp < 0x20 || (cp >= 0x80 && cp <= 0xff))
            return false;
        if (cp < 0x80 && strchr(forbidden, (int)cp) != NULL)
            return false;
        i += len;
    }
    return true;
}

bool srv_hex_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return false;
    return true;
}

h2o_iovec_t srv_percent_encode_path(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = h2o_mem_alloc_pool(pool, n * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return h2o_iovec_init(out, o);
}

bool srv_form_find(const char *data, size_t len, const char *key, const char **value,
                   size_t *value_len)
{
    size_t klen = strlen(key);
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == klen && memcmp(p, key, klen) == 0) {
            *value = eq ? eq + 1 : stop;
            *value_len = (size_t)(stop - *value);
            return true;
        }
        p = stop + 1;
    }
    return false;
}

size_t srv_form_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '+') {
            out[o++] = ' ';
        } else if (in[i] == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            out[o++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

bool srv_query_get(h2o_mem_pool_t *pool, h2o_iovec_t query, const char *key, h2o_iovec_t *out)
{
    const char *v;
    size_t n;
    if (!srv_form_find(query.base, query.len, key, &v, &n))
        return false;
    char *decoded = h2o_mem_alloc_pool(pool, n + 1);
    size_t len = srv_form_decode(v, n, decoded);
    *out = h2o_iovec_init(decoded, len);
    return true;
}
