/* SPDX-License-Identifier: MPL-2.0 */
/* normalize.c: frame normalization (Socorro's normalize_frame and its C++/Rust function
 * normalizers). Each step mirrors one Python string operation; the comments name the quirk a
 * step preserves when it is not obvious. Scratch buffers live in the generator so the hot path
 * allocates nothing once they have grown. */
#include <stdarg.h>
#include <string.h>

#include "gen_int.h"
#include "pystr_int.h"
#include "sym/alloc.h"

/* Python's recursion limit, hit by absurdly nested IPC::ParamTraits<...> */
#define MAX_COLLAPSE_DEPTH 900

bool sig_parse_source_file(const char *file, size_t len, const char **path, size_t *path_len)
{
    if (len == 0)
        return false;
    /* Count ':' separated parts. */
    size_t parts = 1;
    for (size_t i = 0; i < len; i++)
        if (file[i] == ':')
            parts++;
    if (parts == 4) {
        const char *p = file;
        for (int k = 0; k < 2; k++)
            p = memchr(p, ':', len - (size_t)(p - file)) + 1;
        const char *e = memchr(p, ':', len - (size_t)(p - file));
        *path = p;
        *path_len = (size_t)(e - p);
        return true;
    }
    if (parts == 2) {
        const char *p = (const char *)memchr(file, ':', len) + 1;
        *path = p;
        *path_len = len - (size_t)(p - file);
        return true;
    }
    if (file[0] == '/') {
        *path = file;
        *path_len = len;
        return true;
    }
    return false;
}

/* ---- drop_prefix_and_return_type ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *n = sym_reallocarray(*p, ncap, elem);
    if (n == NULL)
        return SYM_ENOMEM;
    *p = n;
    *cap = ncap;
    return 0;
}

static char closer_of(char c)
{
    switch (c) {
    case '(':
        return ')';
    case '{':
        return '}';
    case '[':
        return ']';
    case '<':
        return '>';
    case '`':
        return '\'';
    default:
        return 0;
    }
}

/* Splits on spaces outside every bracket pair and returns the span of the last token, merged
 * with the tokens before it while it starts with "(" or "[clone". The merged text is exactly
 * the original span, since tokens are rejoined with the single space they were split on. */
static int drop_prefix(struct sig_generator *g, const char *s, size_t n, size_t *start)
{
    if (grow((void **)&g->stack, &g->stack_cap, n + 1, 1) != 0 ||
        grow((void **)&g->marks, &g->marks_cap, n + 2, sizeof(size_t)) != 0)
        return SYM_ENOMEM;
    size_t depth = 0, n_marks = 0;
    g->marks[n_marks++] = 0; /* token starts */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (closer_of(c)) {
            g->stack[depth++] = (unsigned char)c;
        } else if (c == ')' || c == '}' || c == ']' || c == '>' || c == '\'') {
            /* A closer that does not match the innermost opener is just a character. */
            if (depth && closer_of((char)g->stack[depth - 1]) == c)
                depth--;
        } else if (c == ' ' && depth == 0) {
            g->marks[n_marks++] = i + 1;
        }
    }
    size_t k = n_marks - 1;
    while (k > 0) {
        const char *t = s + g->marks[k];
        size_t tl = n - g->marks[k];
        if (!(py_startswith(t, tl, "(") || py_startswith(t, tl, "[clone")))
            break;
        k--;
    }
    *start = g->marks[k];
    return 0;
}

/* ---- collapse ---- */

enum collapse_kind { COLLAPSE_CPP_TYPES, COLLAPSE_CPP_ARGS, COLLAPSE_RUST_TYPES, COLLAPSE_DROP };

static int collapse(struct sig_generator *g, const char *s, size_t n, char open, char close,
                    enum collapse_kind kind, struct sym_buf *out, int depth_level);

/* Decides what replaces one top-level slice s[a..b) given the text `before` it. */
static int replace_slice(struct sig_generator *g, const char *slice, size_t sl, const char *before,
                         size_t bl, enum collapse_kind kind, bool closed, struct sym_buf *out,
                         int depth_level)
{
    switch (kind) {
    case COLLAPSE_CPP_TYPES:
        if ((sl == 14 && memcmp(slice, "<name omitted>", 14) == 0) ||
            py_contains(slice, sl, " as ", 4) || py_contains(slice, sl, " in ", 4) ||
            py_endswith(before, bl, "operator")) {
            sym_buf_append(out, slice, sl);
            return 0;
        }
        if (py_endswith(before, bl, "IPC::ParamTraits")) {
            if (depth_level >= MAX_COLLAPSE_DEPTH)
                return sig_raise(g, "maximum recursion depth exceeded");
            sym_buf_append_char(out, '<');
            int rc =
                collapse(g, slice + 1, sl - (closed ? 2 : 1), '<', '>', kind, out, depth_level + 1);
            if (rc != 0)
                return rc;
            sym_buf_append_char(out, '>');
            return 0;
        }
        sym_buf_append_str(out, "<T>");
        return 0;
    case COLLAPSE_CPP_ARGS:
        if ((sl == 21 && memcmp(slice, "(anonymous namespace)", 21) == 0) ||
            py_endswith(before, bl, "operator"))
            sym_buf_append(out, slice, sl);
        return 0;
    case COLLAPSE_RUST_TYPES:
        if (py_contains(slice, sl, " as ", 4))
            sym_buf_append(out, slice, sl);
        else
            sym_buf_append_str(out, "<T>");
        return 0;
    case COLLAPSE_DROP:
        return 0;
    }
    return 0;
}

/* The enclosed-slice scan: one pass with a depth counter; an opener at depth 0 starts a slice,
 * the closer that brings the depth back to 0 ends it, a closer at depth 0 is text, and an
 * unclosed slice runs to the end. */
static int collapse(struct sig_generator *g, const char *s, size_t n, char open, char close,
                    enum collapse_kind kind, struct sym_buf *out, int depth_level)
{
    if (n == 0)
        return buf_rc(out); /* also covers a NULL s from a buffer that failed earlier */
    size_t depth = 0, start = 0, seg = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == open) {
            if (depth == 0)
                start = i;
            depth++;
        } else if (c == close && depth > 0) {
            depth--;
            if (depth == 0) {
                sym_buf_append(out, s + seg, start - seg);
                int rc = replace_slice(g, s + start, i + 1 - start, s + seg, start - seg, kind,
                                       true, out, depth_level);
                if (rc != 0)
                    return rc;
                seg = i + 1;
            }
        }
    }
    if (depth > 0) {
        sym_buf_append(out, s + seg, start - seg);
        int rc = replace_slice(g, s + start, n - start, s + seg, start - seg, kind, false, out,
                               depth_level);
        if (rc != 0)
            return rc;
    } else {
        sym_buf_append(out, s + seg, n - seg);
    }
    return buf_rc(out);
}

/* ---- small rewrites ---- */

/* `anonymous namespace' -> (anonymous namespace), same length, in place. */
static void fix_anonymous(char *s, size_t n)
{
    static const char from[] = "`anonymous namespace'";
    const size_t fl = sizeof(from) - 1;
    size_t i = 0;
    while (i + fl <= n) {
        char *p = memmem(s + i, n - i, from, fl);
        if (p == NULL)
            break;
        p[0] = '(';
        p[fl - 1] = ')';
        i = (size_t)(p - s) + fl;
    }
}

/* re.sub(r"::\$_\d+::", "::$::", s) */
static void fix_lambda(const char *s, size_t n, struct sym_buf *out)
{
    size_t i = 0, copied = 0;
    while (i + 5 <= n) {
        if (s[i] == ':' && s[i + 1] == ':' && s[i + 2] == '$' && s[i + 3] == '_' &&
            s[i + 4] >= '0' && s[i + 4] <= '9') {
            size_t j = i + 4;
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            if (j + 2 <= n && s[j] == ':' && s[j + 1] == ':') {
                sym_buf_append(out, s + copied, i - copied);
                sym_buf_append_str(out, "::$::");
                i = j + 2;
                copied = i;
                continue;
            }
        }
        i++;
    }
    sym_buf_append(out, s + copied, n - copied);
}

/* re.sub(r" (?=[\*&,])", "", s) then re.sub(r",(?! )", ", ", s). The comma rule runs on the
 * output of the space rule, so "a ,b" becomes "a, b". Runs of untouched bytes are copied whole. */
static void fix_space_comma(const char *s, size_t n, struct sym_buf *out)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '&' || s[i + 1] == ',')) {
            sym_buf_append(out, s + run, i - run);
            run = i + 1;
        } else if (c == ',') {
            /* The byte after this comma in the space-rule output: a space survives only when
             * it is not itself followed by * & or ,. */
            bool spaced = i + 1 < n && s[i + 1] == ' ' &&
                          !(i + 2 < n && (s[i + 2] == '*' || s[i + 2] == '&' || s[i + 2] == ','));
            if (!spaced) {
                sym_buf_append(out, s + run, i + 1 - run);
                sym_buf_append_char(out, ' ');
                run = i + 1;
            }
        }
    }
    sym_buf_append(out, s + run, n - run);
}

/* re.sub(r"::h[0-9a-fA-F]+$", "", s): `$` also matches before a final newline. */
static size_t strip_rust_hash(const char *s, size_t n, size_t *keep_tail)
{
    *keep_tail = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t end = n;
        if (pass == 1) {
            if (n == 0 || s[n - 1] != '\n')
                break;
            end = n - 1;
        }
        size_t j = end;
        while (j > 0) {
            char c = s[j - 1];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                break;
            j--;
        }
        if (j < end && j >= 3 && s[j - 1] == 'h' && s[j - 2] == ':' && s[j - 3] == ':') {
            *keep_tail = n - end;
            return j - 3;
        }
    }
    return n;
}

static void append_line(struct sym_buf *out, const struct sig_value *line)
{
    sym_buf_append_char(out, ':');
    py_str(out, line); /* a missing line prints as None, as in Python */
}

static void swap_bufs(struct sym_buf *a, struct sym_buf *b)
{
    struct sym_buf t = *a;
    *a = *b;
    *b = t;
}

static int normalize_cpp(struct sig_generator *g, const struct sig_lists *lists, const char *fn,
                         size_t fl, const struct sig_value *line, struct sym_buf *out)
{
    /* 1. Trailing qualifiers, each tested once in this order; a plain suffix test. */
    static const char *const quals[] = {"const", "const&", "const &", "&&", "&"};
    const char *s = fn;
    size_t n = fl;
    for (size_t q = 0; q < sizeof(quals) / sizeof(quals[0]); q++) {
        if (py_endswith(s, n, quals[q])) {
            n -= strlen(quals[q]);
            size_t a, b;
            py_strip(s, n, &a, &b);
            s += a;
            n = b - a;
        }
    }
    /* 2. Prefix and return type, unless this is an operator. */
    if (!py_contains(s, n, "::operator", 10)) {
        size_t start;
        int rc = drop_prefix(g, s, n, &start);
        if (rc != 0)
            return rc;
        s += start;
        n -= start;
    }
    struct sym_buf *a = &g->s1, *b = &g->s2;
    sym_buf_reset(a);
    sym_buf_append(a, s, n);
    if (a->err != SYM_OK)
        return (int)a->err;
    /* 3. `anonymous namespace' */
    fix_anonymous(a->data, a->len);
    /* 4. Lambda numbers */
    sym_buf_reset(b);
    fix_lambda(a->data, a->len, b);
    if (b->err != SYM_OK)
        return (int)b->err;
    swap_bufs(a, b);
    /* 5. Types */
    sym_buf_reset(b);
    int rc = collapse(g, a->data, a->len, '<', '>', COLLAPSE_CPP_TYPES, b, 0);
    if (rc != 0)
        return rc;
    swap_bufs(a, b);
    /* 6. Arguments */
    sym_buf_reset(b);
    rc = collapse(g, a->data, a->len, '(', ')', COLLAPSE_CPP_ARGS, b, 0);
    if (rc != 0)
        return rc;
    swap_bufs(a, b);
    /* 7. PGO clone labels */
    if (py_contains(a->data, a->len, "clone .cold", 11)) {
        sym_buf_reset(b);
        rc = collapse(g, a->data, a->len, '[', ']', COLLAPSE_DROP, b, 0);
        if (rc != 0)
            return rc;
        swap_bufs(a, b);
    }
    /* 8. Line numbers */
    if (sig_matcher_match(&lists->m[SIG_LIST_LINE_NUMBERS], a->data, a->len, g->md))
        append_line(a, line);
    if (a->err != SYM_OK)
        return (int)a->err;
    /* 9, 10. Spaces before * & , and a space after commas */
    fix_space_comma(a->data, a->len, out);
    return buf_rc(out);
}

static int normalize_rust(struct sig_generator *g, const struct sig_lists *lists, const char *fn,
                          size_t fl, const struct sig_value *line, struct sym_buf *out)
{
    size_t start;
    int rc = drop_prefix(g, fn, fl, &start);
    if (rc != 0)
        return rc;
    struct sym_buf *a = &g->s1, *b = &g->s2;
    sym_buf_reset(a);
    rc = collapse(g, fn + start, fl - start, '<', '>', COLLAPSE_RUST_TYPES, a, 0);
    if (rc != 0)
        return rc;
    sym_buf_reset(b);
    rc = collapse(g, a->data, a->len, '(', ')', COLLAPSE_DROP, b, 0);
    if (rc != 0)
        return rc;
    swap_bufs(a, b);
    if (sig_matcher_match(&lists->m[SIG_LIST_LINE_NUMBERS], a->data, a->len, g->md))
        append_line(a, line);
    if (a->err != SYM_OK)
        return (int)a->err;
    sym_buf_reset(b);
    fix_space_comma(a->data, a->len, b);
    if (b->err != SYM_OK)
        return (int)b->err;
    size_t tail;
    size_t cut = strip_rust_hash(b->data, b->len, &tail);
    sym_buf_append(out, b->data, cut);
    sym_buf_append(out, b->data + b->len - tail, tail);
    return buf_rc(out);
}

/* "@" + hex(int(offset, 16)), or the offset unchanged when Python's int() rejects it. */
static void offset_text(const char *s, size_t n, struct sym_buf *out)
{
    struct py_int v;
    bool nomem;
    sym_buf_append_char(out, '@');
    if (py_parse_int(s, n, 16, &v, &nomem)) {
        if (v.negative)
            sym_buf_append_char(out, '-');
        sym_buf_append_str(out, "0x");
        sym_buf_append(out, v.digits, v.n_digits);
        py_int_release(&v);
    } else if (nomem) {
        out->err = out->err ? out->err : SYM_ENOMEM;
    } else {
        sym_buf_append(out, s, n);
    }
}

int sig_normalize_frame(struct sig_generator *g, const struct sig_lists *lists,
                        const struct sig_xframe *f, struct sym_buf *out)
{
    const char *s;
    size_t n;
    if (sig_value_truthy(f->function)) {
        bool rust = false;
        if (sig_value_truthy(f->file)) {
            if (!sig_value_str(f->file, &s, &n))
                return sig_raise(g, "'%s' object has no attribute 'split'", py_type_name(f->file));
            const char *path;
            size_t pl;
            rust = sig_parse_source_file(s, n, &path, &pl) && py_endswith(path, pl, ".rs");
        }
        if (!sig_value_str(f->function, &s, &n))
            return sig_raise(g, "'%s' object has no attribute '%s'", py_type_name(f->function),
                             rust ? "split" : "endswith");
        return rust ? normalize_rust(g, lists, s, n, f->line, out)
                    : normalize_cpp(g, lists, s, n, f->line, out);
    }
    if (sig_value_truthy(f->file) && sig_value_truthy(f->line)) {
        if (!sig_value_str(f->file, &s, &n))
            return sig_raise(g, "'%s' object has no attribute 'rstrip'", py_type_name(f->file));
        while (n > 0 && (s[n - 1] == '/' || s[n - 1] == '\\'))
            n--;
        char sep = memchr(s, '\\', n) ? '\\' : '/';
        const char *base = s;
        for (size_t i = 0; i < n; i++)
            if (s[i] == sep)
                base = s + i + 1;
        sym_buf_append(out, base, n - (size_t)(base - s));
        sym_buf_append_char(out, '#');
        py_str(out, f->line);
        return buf_rc(out);
    }
    if (sig_value_truthy(f->module)) {
        if (!sig_value_str(f->module, &s, &n))
            return sig_raise(g, "'%s' object has no attribute 'strip'", py_type_name(f->module));
        size_t a = 0, b = n;
        while (a < b && (s[a] == '[' || s[a] == ']'))
            a++;
        while (b > a && (s[b - 1] == '[' || s[b - 1] == ']'))
            b--;
        sym_buf_append(out, s + a, b - a);
        return buf_rc(out);
    }
    if (sig_value_truthy(f->unloaded_modules)) {
        const struct sig_value *u = f->unloaded_modules;
        if (u->type == SIG_T_OBJ)
            return sig_raise(g, "0");
        if (u->type == SIG_T_STR)
            return sig_raise(g, "'str' object has no attribute 'get'");
        if (u->type != SIG_T_LIST)
            return sig_raise(g, "'%s' object is not subscriptable", py_type_name(u));
        const struct sig_value *first = &u->u.list.items[0];
        if (first->type != SIG_T_OBJ)
            return sig_raise(g, "'%s' object has no attribute 'get'", py_type_name(first));
        sym_buf_append_str(out, "(unloaded ");
        py_str(out, sig_value_get(first, "module"));
        sym_buf_append_char(out, ')');
        return buf_rc(out);
    }
    if (sig_value_truthy(f->offset)) {
        if (!sig_value_str(f->offset, &s, &n))
            return sig_raise(g, "int() can't convert non-string with explicit base");
        offset_text(s, n, out);
        return buf_rc(out);
    }
    return 0;
}
