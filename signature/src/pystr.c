/* SPDX-License-Identifier: MPL-2.0 */
/* pystr.c: Python str semantics on UTF-8 (see pystr_int.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr_int.h"
#include "sym/alloc.h"

uint32_t py_decode(const char *s, size_t len, size_t i, size_t *n)
{
    const unsigned char *p = (const unsigned char *)s + i;
    size_t left = len - i;
    unsigned char c = p[0];
    *n = 1;
    if (c < 0x80)
        return c;
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return c; /* stray byte: its own code point */
    }
    if (left < need)
        return c;
    for (size_t k = 1; k < need; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return c;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    *n = need;
    return cp;
}

size_t py_prev(const char *s, size_t end)
{
    size_t i = end - 1;
    size_t steps = 0;
    while (i > 0 && steps < 3 && ((unsigned char)s[i] & 0xc0) == 0x80) {
        i--;
        steps++;
    }
    size_t n;
    py_decode(s, end, i, &n);
    /* When the lead byte does not decode to a sequence reaching `end`, the last byte stands
     * alone, exactly as the forward decoder would see it. */
    return i + n == end ? i : end - 1;
}

bool py_isspace(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

void py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
    size_t a = 0, b = len;
    while (a < b) {
        size_t n;
        uint32_t cp = py_decode(s, b, a, &n);
        if (!py_isspace(cp))
            break;
        a += n;
    }
    while (b > a) {
        size_t p = py_prev(s, b);
        size_t n;
        uint32_t cp = py_decode(s, b, p, &n);
        if (!py_isspace(cp))
            break;
        b = p;
    }
    *start = a;
    *end = b;
}

size_t py_cplen(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        size_t n;
        py_decode(s, len, i, &n);
        i += n;
        count++;
    }
    return count;
}

size_t py_cpprefix(const char *s, size_t len, size_t n_cp)
{
    size_t i = 0;
    for (size_t k = 0; k < n_cp && i < len; k++) {
        size_t n;
        py_decode(s, len, i, &n);
        i += n;
    }
    return i;
}

static void put_cp(struct sym_buf *out, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char)cp;
        sym_buf_append(out, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(out, b, 3);
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(out, b, 4);
    }
}

/* Simple lowercase mappings of the scripts module names realistically use (Latin, Greek,
 * Cyrillic, fullwidth) plus the two letters whose lowercase contains ASCII; other code points
 * are left as they are. */
static uint32_t lower_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0xc0)
        return c;
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
        (c >= 0x410 && c <= 0x42f) || (c >= 0xff21 && c <= 0xff3a))
        return c + 32;
    if (c >= 0x400 && c <= 0x40f)
        return c + 80;
    if (c >= 0x100 && c <= 0x17f) {
        if (c == 0x130 || c == 0x138 || c == 0x149 || c == 0x17f)
            return c;
        if (c == 0x178)
            return 0xff;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
            return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf))
        return (c & 1) ? c : c + 1;
    switch (c) {
    case 0x386:
        return 0x3ac;
    case 0x388:
    case 0x389:
    case 0x38a:
        return c + 37;
    case 0x38c:
        return 0x3cc;
    case 0x38e:
    case 0x38f:
        return c + 63;
    case 0x2126:
        return 0x3c9;
    case 0x212a:
        return 'k';
    case 0x212b:
        return 0xe5;
    default:
        return c;
    }
}

void py_lower(struct sym_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            sym_buf_append_char(out, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c);
            i++;
            continue;
        }
        size_t n;
        uint32_t cp = py_decode(s, len, i, &n);
        if (n == 1 && cp >= 0x80) {
            sym_buf_append(out, s + i, 1); /* stray byte kept as is */
        } else if (cp == 0x130) {
            sym_buf_append(out, "i\xcc\x87", 3); /* U+0130 lowercases to i + U+0307 */
        } else {
            put_cp(out, lower_cp(cp));
        }
        i += n;
    }
}

const char *py_find(const char *s, size_t len, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return s;
    if (nlen > len)
        return NULL;
    /* The needles here are short and the haystacks frame-sized: a memchr on the first byte
     * and a compare beats memmem's setup. */
    const char *end = s + len - nlen + 1;
    const char *p = s;
    while (p < end) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL)
            return NULL;
        if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
            return p;
        p++;
    }
    return NULL;
}

bool py_contains(const char *s, size_t len, const char *needle, size_t nlen)
{
    return py_find(s, len, needle, nlen) != NULL;
}

bool py_startswith(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

bool py_endswith(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* ---- int() ---- */

static int digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool py_parse_int(const char *s, size_t len, int base, struct py_int *out, bool *nomem)
{
    *nomem = false;
    size_t a, b;
    py_strip(s, len, &a, &b);
    out->negative = false;
    out->alloc = NULL;
    if (a < b && (s[a] == '+' || s[a] == '-')) {
        out->negative = s[a] == '-';
        a++;
    }
    /* An underscore may follow the base prefix (int("0x_1f", 16) is valid). */
    bool underscore_ok = false;
    if (base == 16 && b - a >= 2 && s[a] == '0' && (s[a + 1] == 'x' || s[a + 1] == 'X')) {
        a += 2;
        underscore_ok = true;
    }
    if (a >= b)
        return false;
    bool has_underscore = false;
    bool prev_digit = false;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_') {
            if (!(prev_digit || (i == a && underscore_ok)) || i + 1 >= b)
                return false;
            has_underscore = true;
            prev_digit = false;
            continue;
        }
        int d = digit_value(c);
        if (d < 0 || d >= base)
            return false;
        prev_digit = true;
    }
    if (!prev_digit)
        return false;
    const char *digits = s + a;
    size_t n = b - a;
    if (has_underscore || base == 16) {
        char *copy = sym_malloc(n + 1);
        if (copy == NULL) {
            *nomem = true;
            return false;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            char c = digits[i];
            if (c == '_')
                continue;
            if (c >= 'A' && c <= 'F')
                c = (char)(c + 32);
            copy[k++] = c;
        }
        copy[k] = '\0';
        out->alloc = copy;
        digits = copy;
        n = k;
    }
    while (n > 1 && digits[0] == '0') {
        digits++;
        n--;
    }
    if (n == 1 && digits[0] == '0')
        out->negative = false; /* -0 is 0 */
    out->digits = digits;
    out->n_digits = n;
    return true;
}

void py_int_release(struct py_int *v)
{
    sym_free((void *)v->alloc);
    v->alloc = NULL;
}

int64_t py_int_to_i64(const struct py_int *v)
{
    uint64_t acc = 0;
    bool overflow = false;
    for (size_t i = 0; i < v->n_digits; i++) {
        unsigned d = (unsigned)(v->digits[i] - '0');
        if (acc > (UINT64_MAX - d) / 10) {
            overflow = true;
            break;
        }
        acc = acc * 10 + d;
    }
    if (v->negative) {
        if (overflow || acc > (uint64_t)INT64_MAX + 1)
            return INT64_MIN;
        return acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    }
    if (overflow || acc > (uint64_t)INT64_MAX)
        return INT64_MAX;
    return (int64_t)acc;
}

/* ---- str() / repr() ---- */

void py_float_repr(struct sym_buf *out, double d)
{
    if (isnan(d)) {
        sym_buf_append_str(out, "nan");
        return;
    }
    if (isinf(d)) {
        sym_buf_append_str(out, d < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is [-]d.ddde[+-]XX with the shortest digits; lay it out the way Python's repr does:
     * positional when -4 <= exponent < 16, otherwise scientific. */
    char mant[32];
    size_t nm = 0;
    bool neg = tmp[0] == '-';
    const char *p = tmp + (neg ? 1 : 0);
    for (; *p && *p != 'e' && nm < sizeof(mant); p++)
        if (*p != '.')
            mant[nm++] = *p;
    long e = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    while (nm > 1 && mant[nm - 1] == '0')
        nm--;
    if (neg)
        sym_buf_append_char(out, '-');
    if (e >= -4 && e < 16) {
        if (e < 0) {
            sym_buf_append_str(out, "0.");
            for (long k = -1; k > e; k--)
                sym_buf_append_char(out, '0');
            sym_buf_append(out, mant, nm);
        } else if ((size_t)e + 1 >= nm) {
            sym_buf_append(out, mant, nm);
            for (size_t k = nm; k < (size_t)e + 1; k++)
                sym_buf_append_char(out, '0');
            sym_buf_append_str(out, ".0");
        } else {
            sym_buf_append(out, mant, (size_t)e + 1);
            sym_buf_append_char(out, '.');
            sym_buf_append(out, mant + e + 1, nm - (size_t)e - 1);
        }
        return;
    }
    sym_buf_append(out, mant, 1);
    if (nm > 1) {
        sym_buf_append_char(out, '.');
        sym_buf_append(out, mant + 1, nm - 1);
    }
    sym_buf_printf(out, "e%c%02ld", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

/* Python's str.isprintable() for the code points repr() must escape: controls, DEL, the C1
 * block, NBSP, soft hyphen, the line/paragraph separators and the other format characters a
 * crash string may plausibly carry. */
static bool repr_printable(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7f)
        return false;
    if (cp >= 0x80 && cp <= 0xa0)
        return false;
    if (cp == 0xad || cp == 0x2028 || cp == 0x2029 || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
        cp == 0x202f || cp == 0x205f || cp == 0x3000)
        return false;
    return true;
}

void py_repr_str(struct sym_buf *out, const char *s, size_t len)
{
    bool has_sq = memchr(s, '\'', len) != NULL;
    bool has_dq = memchr(s, '"', len) != NULL;
    char quote = (has_sq && !has_dq) ? '"' : '\'';
    sym_buf_append_char(out, quote);
    for (size_t i = 0; i < len;) {
        size_t n;
        uint32_t cp = py_decode(s, len, i, &n);
        if (cp == (uint32_t)quote || cp == '\\') {
            sym_buf_append_char(out, '\\');
            sym_buf_append_char(out, (char)cp);
        } else if (cp == '\n') {
            sym_buf_append_str(out, "\\n");
        } else if (cp == '\r') {
            sym_buf_append_str(out, "\\r");
        } else if (cp == '\t') {
            sym_buf_append_str(out, "\\t");
        } else if (!repr_printable(cp)) {
            if (cp < 0x100)
                sym_buf_printf(out, "\\x%02x", (unsigned)cp);
            else if (cp < 0x10000)
                sym_buf_printf(out, "\\u%04x", (unsigned)cp);
            else
                sym_buf_printf(out, "\\U%08x", (unsigned)cp);
        } else {
            sym_buf_append(out, s + i, n);
        }
        i += n;
    }
    sym_buf_append_char(out, quote);
}

static void repr_depth(struct sym_buf *out, const struct sig_value *v, bool top_str, int depth)
{
    if (depth > 200) {
        sym_buf_append_str(out, "...");
        return;
    }
    if (v == NULL) {
        sym_buf_append_str(out, "None");
        return;
    }
    switch (v->type) {
    case SIG_T_NULL:
        sym_buf_append_str(out, "None");
        break;
    case SIG_T_BOOL:
        sym_buf_append_str(out, v->u.b ? "True" : "False");
        break;
    case SIG_T_INT:
        sym_buf_printf(out, "%lld", (long long)v->u.i);
        break;
    case SIG_T_REAL:
        py_float_repr(out, v->u.r);
        break;
    case SIG_T_STR:
        if (top_str)
            sym_buf_append(out, v->u.s.p, v->u.s.len);
        else
            py_repr_str(out, v->u.s.p, v->u.s.len);
        break;
    case SIG_T_LIST:
        sym_buf_append_char(out, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                sym_buf_append_str(out, ", ");
            repr_depth(out, &v->u.list.items[i], false, depth + 1);
        }
        sym_buf_append_char(out, ']');
        break;
    case SIG_T_OBJ:
        sym_buf_append_char(out, '{');
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const struct sig_member *m = &v->u.obj.members[i];
            if (i)
                sym_buf_append_str(out, ", ");
            py_repr_str(out, m->key, m->key_len);
            sym_buf_append_str(out, ": ");
            repr_depth(out, &m->value, false, depth + 1);
        }
        sym_buf_append_char(out, '}');
        break;
    }
}

void py_str(struct sym_buf *out, const struct sig_value *v)
{
    repr_depth(out, v, true, 0);
}

void py_repr(struct sym_buf *out, const struct sig_value *v)
{
    repr_depth(out, v, false, 0);
}

const char *py_type_name(const struct sig_value *v)
{
    if (v == NULL)
        return "NoneType";
    switch (v->type) {
    case SIG_T_NULL:
        return "NoneType";
    case SIG_T_BOOL:
        return "bool";
    case SIG_T_INT:
        return "int";
    case SIG_T_REAL:
        return "float";
    case SIG_T_STR:
        return "str";
    case SIG_T_LIST:
        return "list";
    case SIG_T_OBJ:
        return "dict";
    }
    return "object";
}
