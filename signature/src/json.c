/* SPDX-License-Identifier: MPL-2.0 */
/* json.c: json.loads()-compatible parser. The grammar and the error texts follow CPython's
 * json.decoder/scanner (strict mode): whitespace is [ \t\n\r], numbers match
 * -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?, and positions are counted in code points. */
#include "signature/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr_int.h"
#include "sym/alloc.h"
#include "sym/buf.h"

struct parser {
    const char *s;
    size_t len;
    struct sig_arena *arena;
    struct sig_json_error *err;
    sym_err rc;
};

static sym_err fail_at(struct parser *p, const char *what, size_t pos)
{
    if (p->rc != SYM_OK)
        return p->rc;
    p->rc = SYM_EPARSE;
    if (p->err) {
        /* Python reports the position as a code-point index with 1-based line and column. */
        size_t ch = py_cplen(p->s, pos);
        size_t line = 1, line_start = 0;
        for (size_t i = 0; i < pos; i++)
            if (p->s[i] == '\n') {
                line++;
                line_start = i + 1;
            }
        size_t col = py_cplen(p->s + line_start, pos - line_start) + 1;
        p->err->code = SYM_EPARSE;
        snprintf(p->err->msg, sizeof(p->err->msg), "%s: line %zu column %zu (char %zu)", what, line,
                 col, ch);
    }
    return p->rc;
}

static sym_err fail_nomem(struct parser *p)
{
    if (p->rc == SYM_OK)
        p->rc = SYM_ENOMEM;
    return p->rc;
}

static size_t skip_ws(const struct parser *p, size_t i)
{
    while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t' || p->s[i] == '\n' || p->s[i] == '\r'))
        i++;
    return i;
}

static void put_utf8(struct sym_buf *b, uint32_t cp)
{
    /* Surrogates are written in the generalized 3-byte form: Python keeps lone surrogates in
     * its str, and the bytes decode back to the same code point here. */
    char o[4];
    if (cp < 0x80) {
        o[0] = (char)cp;
        sym_buf_append(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(b, o, 3);
    } else {
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        sym_buf_append(b, o, 4);
    }
}

static int hex4(const char *s, size_t len, size_t i, uint32_t *out)
{
    if (len < 4 || i > len - 4)
        return -1;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        char c = s[i + k];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* p->s[*pos] is the opening quote. */
static sym_err parse_string(struct parser *p, size_t *pos, const char **out, size_t *out_len)
{
    size_t start = *pos;
    size_t i = start + 1;
    struct sym_buf b;
    sym_buf_init(&b, 0);
    for (;;) {
        size_t run = i;
        while (i < p->len && p->s[i] != '"' && p->s[i] != '\\' && (unsigned char)p->s[i] >= 0x20)
            i++;
        sym_buf_append(&b, p->s + run, i - run);
        if (i >= p->len) {
            sym_buf_cleanup(&b);
            return fail_at(p, "Unterminated string starting at", start);
        }
        char c = p->s[i];
        if (c == '"') {
            i++;
            break;
        }
        if (c != '\\') {
            sym_buf_cleanup(&b);
            return fail_at(p, "Invalid control character at", i);
        }
        if (i + 1 >= p->len) {
            sym_buf_cleanup(&b);
            return fail_at(p, "Unterminated string starting at", start);
        }
        char e = p->s[i + 1];
        const char *simple = NULL;
        switch (e) {
        case '"':
            simple = "\"";
            break;
        case '\\':
            simple = "\\";
            break;
        case '/':
            simple = "/";
            break;
        case 'b':
            simple = "\b";
            break;
        case 'f':
            simple = "\f";
            break;
        case 'n':
            simple = "\n";
            break;
        case 'r':
            simple = "\r";
            break;
        case 't':
            simple = "\t";
            break;
        default:
            break;
        }
        if (simple) {
            sym_buf_append(&b, simple, 1);
            i += 2;
            continue;
        }
        if (e != 'u') {
            sym_buf_cleanup(&b);
            return fail_at(p, "Invalid \\escape", i);
        }
        uint32_t cp;
        if (hex4(p->s, p->len, i + 2, &cp) != 0) {
            sym_buf_cleanup(&b);
            return fail_at(p, "Invalid \\uXXXX escape", i + 1);
        }
        i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < p->len && p->s[i] == '\\' &&
            p->s[i + 1] == 'u') {
            uint32_t lo;
            if (hex4(p->s, p->len, i + 2, &lo) != 0) {
                sym_buf_cleanup(&b);
                return fail_at(p, "Invalid \\uXXXX escape", i + 1);
            }
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        put_utf8(&b, cp);
    }
    if (sym_buf_err(&b) != SYM_OK) {
        sym_buf_cleanup(&b);
        return fail_nomem(p);
    }
    char *copy = sig_arena_strndup(p->arena, b.data ? b.data : "", b.len);
    size_t n = b.len;
    sym_buf_cleanup(&b);
    if (copy == NULL)
        return fail_nomem(p);
    *out = copy;
    *out_len = n;
    *pos = i;
    return SYM_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool match_word(const struct parser *p, size_t i, const char *w)
{
    size_t n = strlen(w);
    return p->len - i >= n && memcmp(p->s + i, w, n) == 0;
}

/* Growable array of values/members kept on the C heap while parsing one container. */
struct vec {
    void *items;
    size_t n, cap, elem;
};

static int vec_push(struct vec *v, const void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void *n = sym_reallocarray(v->items, cap, v->elem);
        if (n == NULL)
            return -1;
        v->items = n;
        v->cap = cap;
    }
    memcpy((char *)v->items + v->n * v->elem, item, v->elem);
    v->n++;
    return 0;
}

static void *vec_to_arena(struct vec *v, struct sig_arena *a)
{
    if (v->n == 0)
        return NULL;
    void *dst = sig_arena_alloc(a, v->n * v->elem);
    if (dst)
        memcpy(dst, v->items, v->n * v->elem);
    return dst;
}

static sym_err parse_value(struct parser *p, size_t *pos, struct sig_value *out, int depth);

static sym_err parse_array(struct parser *p, size_t *pos, struct sig_value *out, int depth)
{
    struct vec v = {NULL, 0, 0, sizeof(struct sig_value)};
    size_t i = skip_ws(p, *pos + 1);
    sym_err rc = SYM_OK;
    if (i < p->len && p->s[i] == ']') {
        i++;
    } else {
        for (;;) {
            struct sig_value item;
            rc = parse_value(p, &i, &item, depth + 1);
            if (rc != SYM_OK)
                goto out;
            if (vec_push(&v, &item) != 0) {
                rc = fail_nomem(p);
                goto out;
            }
            i = skip_ws(p, i);
            if (i < p->len && p->s[i] == ']') {
                i++;
                break;
            }
            if (i >= p->len || p->s[i] != ',') {
                rc = fail_at(p, "Expecting ',' delimiter", i);
                goto out;
            }
            i = skip_ws(p, i + 1);
        }
    }
    *out = sig_value_null();
    out->type = SIG_T_LIST;
    out->u.list.n = v.n;
    out->u.list.items = vec_to_arena(&v, p->arena);
    if (v.n && out->u.list.items == NULL) {
        rc = fail_nomem(p);
        goto out;
    }
    *pos = i;
out:
    sym_free(v.items);
    return rc;
}

static sym_err parse_object(struct parser *p, size_t *pos, struct sig_value *out, int depth)
{
    struct vec v = {NULL, 0, 0, sizeof(struct sig_member)};
    size_t i = skip_ws(p, *pos + 1);
    sym_err rc = SYM_OK;
    if (i < p->len && p->s[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (i >= p->len || p->s[i] != '"') {
                rc = fail_at(p, "Expecting property name enclosed in double quotes", i);
                goto out;
            }
            struct sig_member m;
            memset(&m, 0, sizeof(m));
            rc = parse_string(p, &i, &m.key, &m.key_len);
            if (rc != SYM_OK)
                goto out;
            i = skip_ws(p, i);
            if (i >= p->len || p->s[i] != ':') {
                rc = fail_at(p, "Expecting ':' delimiter", i);
                goto out;
            }
            i = skip_ws(p, i + 1);
            rc = parse_value(p, &i, &m.value, depth + 1);
            if (rc != SYM_OK)
                goto out;
            if (vec_push(&v, &m) != 0) {
                rc = fail_nomem(p);
                goto out;
            }
            i = skip_ws(p, i);
            if (i < p->len && p->s[i] == '}') {
                i++;
                break;
            }
            if (i >= p->len || p->s[i] != ',') {
                rc = fail_at(p, "Expecting ',' delimiter", i);
                goto out;
            }
            i = skip_ws(p, i + 1);
        }
    }
    *out = sig_value_null();
    out->type = SIG_T_OBJ;
    out->u.obj.n = v.n;
    out->u.obj.members = vec_to_arena(&v, p->arena);
    if (v.n && out->u.obj.members == NULL) {
        rc = fail_nomem(p);
        goto out;
    }
    *pos = i;
out:
    sym_free(v.items);
    return rc;
}

static sym_err parse_number(struct parser *p, size_t *pos, struct sig_value *out)
{
    size_t i = *pos, start = i;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->s[i]))
        return fail_at(p, "Expecting value", start);
    if (p->s[i] == '0') {
        i++;
    } else {
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    bool real = false;
    if (i + 1 < p->len && p->s[i] == '.' && is_digit(p->s[i + 1])) {
        real = true;
        i++;
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (p->s[j] == '+' || p->s[j] == '-'))
            j++;
        if (j < p->len && is_digit(p->s[j])) {
            real = true;
            while (j < p->len && is_digit(p->s[j]))
                j++;
            i = j;
        }
    }
    char tmp[64];
    size_t n = i - start;
    char *heap = NULL;
    char *txt = tmp;
    if (n >= sizeof(tmp)) {
        heap = sym_malloc(n + 1);
        if (heap == NULL)
            return fail_nomem(p);
        txt = heap;
    }
    memcpy(txt, p->s + start, n);
    txt[n] = '\0';
    if (!real) {
        char *end;
        errno = 0;
        long long v = strtoll(txt, &end, 10);
        if (errno == 0) {
            *out = sig_value_int(v);
        } else {
            /* Python ints are unbounded; beyond int64 keep the magnitude as a double. */
            *out = sig_value_real(strtod(txt, NULL));
        }
    } else {
        *out = sig_value_real(strtod(txt, NULL));
    }
    sym_free(heap);
    *pos = i;
    return SYM_OK;
}

static sym_err parse_value(struct parser *p, size_t *pos, struct sig_value *out, int depth)
{
    size_t i = *pos;
    if (depth > SIG_JSON_MAX_DEPTH) {
        if (p->rc == SYM_OK) {
            p->rc = SYM_ELIMIT;
            if (p->err) {
                p->err->code = SYM_ELIMIT;
                snprintf(p->err->msg, sizeof(p->err->msg),
                         "maximum recursion depth exceeded while decoding a JSON document");
            }
        }
        return p->rc;
    }
    if (i >= p->len)
        return fail_at(p, "Expecting value", i);
    char c = p->s[i];
    switch (c) {
    case '"': {
        const char *s;
        size_t n;
        sym_err rc = parse_string(p, &i, &s, &n);
        if (rc != SYM_OK)
            return rc;
        *out = sig_value_strn(s, n);
        *pos = i;
        return SYM_OK;
    }
    case '{':
        return parse_object(p, pos, out, depth);
    case '[':
        return parse_array(p, pos, out, depth);
    default:
        break;
    }
    if (match_word(p, i, "null")) {
        *out = sig_value_null();
        *pos = i + 4;
        return SYM_OK;
    }
    if (match_word(p, i, "true")) {
        *out = sig_value_bool(true);
        *pos = i + 4;
        return SYM_OK;
    }
    if (match_word(p, i, "false")) {
        *out = sig_value_bool(false);
        *pos = i + 5;
        return SYM_OK;
    }
    if (match_word(p, i, "NaN")) {
        *out = sig_value_real(NAN);
        *pos = i + 3;
        return SYM_OK;
    }
    if (match_word(p, i, "Infinity")) {
        *out = sig_value_real(INFINITY);
        *pos = i + 8;
        return SYM_OK;
    }
    if (match_word(p, i, "-Infinity")) {
        *out = sig_value_real(-INFINITY);
        *pos = i + 9;
        return SYM_OK;
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, pos, out);
    return fail_at(p, "Expecting value", i);
}

sym_err sig_json_parse(const char *text, size_t len, struct sig_arena *arena, struct sig_value *out,
                       struct sig_json_error *err)
{
    struct parser p = {text, len, arena, err, SYM_OK};
    if (err) {
        err->code = SYM_OK;
        err->msg[0] = '\0';
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        /* json.loads() refuses a str that starts with U+FEFF, before any parsing. */
        p.rc = SYM_EPARSE;
        if (err) {
            err->code = SYM_EPARSE;
            snprintf(err->msg, sizeof(err->msg),
                     "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)");
        }
        return SYM_EPARSE;
    }
    size_t i = skip_ws(&p, 0);
    struct sig_value v;
    sym_err rc = parse_value(&p, &i, &v, 0);
    if (rc != SYM_OK)
        return rc;
    i = skip_ws(&p, i);
    if (i != len)
        return fail_at(&p, "Extra data", i);
    *out = v;
    return SYM_OK;
}
