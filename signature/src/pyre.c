/* SPDX-License-Identifier: MPL-2.0 */
/* pyre.c: Python `re` pattern -> PCRE2 pattern with the same meaning. The subset Python's
 * siglists need is translated construct by construct; anything whose meaning differs between
 * the engines and has no exact rewrite is refused, so a list never silently changes meaning.
 *
 * Differences handled (Python -> PCRE2, with PCRE2_UTF|PCRE2_UCP and LF newlines):
 *   \s, \S            explicit classes of the code points str.isspace() accepts
 *   \Z                \z          (Python's \Z never matches before a final newline)
 *   \v \a \f \xhh \uhhhh \Uhhhhhhhh \0oo   explicit \x{...}
 *   {,n} {,}          {0,n} {0,}  (PCRE2 10.42 reads "{,n}" as literal text)
 *   { } that are not quantifiers, ] and } outside classes   escaped literals
 *   [ inside a class  \[          (PCRE2 would read [:alpha:] as a POSIX class)
 *   (...)             (?:...)     (captures do not change match/no-match; no backrefs)
 * \d, \w, \b, ., ^, $, classes, alternation, lookarounds and atomic groups mean the same. */
#include <stdio.h>
#include <string.h>

#include "signature/siglists.h"

/* str.isspace() code points, as a class body. */
#define PY_SPACE_BODY                                                                            \
    "\\x{09}-\\x{0d}\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}" \
    "\\x{202f}\\x{205f}\\x{3000}"

struct tr {
    const char *p;
    size_t len;
    size_t i;
    struct sym_buf *out;
    struct sym_diag *diag;
    int depth;
    /* What precedes the current position, for "nothing to repeat"/"multiple repeat". */
    enum { PREV_NONE, PREV_ATOM, PREV_REPEAT, PREV_ANCHOR } prev;
};

static sym_err bad(struct tr *t, const char *what)
{
    return sym_diag_set(t->diag, SYM_EPARSE, "%s at position %zu", what, t->i);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

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

static bool is_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
}

static void emit_cp(struct tr *t, unsigned long cp)
{
    sym_buf_printf(t->out, "\\x{%lx}", cp);
}

/* Reads n hex digits at t->i into *cp. */
static int read_hex(struct tr *t, size_t n, unsigned long *cp)
{
    if (t->len - t->i < n)
        return -1;
    unsigned long v = 0;
    for (size_t k = 0; k < n; k++) {
        int d = hexval(t->p[t->i + k]);
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned long)d;
    }
    t->i += n;
    *cp = v;
    return 0;
}

/* An escape, t->i just past the backslash. in_class changes \b and the class shorthands. */
static sym_err escape(struct tr *t, bool in_class)
{
    if (t->i >= t->len)
        return bad(t, "bad escape (end of pattern)");
    char c = t->p[t->i];
    unsigned long cp;
    t->prev = PREV_ATOM;
    switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
        sym_buf_append_char(t->out, '\\');
        sym_buf_append_char(t->out, c);
        t->i++;
        return SYM_OK;
    case 's':
        sym_buf_append_str(t->out, in_class ? PY_SPACE_BODY : "[" PY_SPACE_BODY "]");
        t->i++;
        return SYM_OK;
    case 'S':
        if (in_class)
            return bad(t, "\\S inside a character class has no exact PCRE2 equivalent");
        sym_buf_append_str(t->out, "[^" PY_SPACE_BODY "]");
        t->i++;
        return SYM_OK;
    case 'b':
        t->i++;
        if (in_class) {
            emit_cp(t, 8);
        } else {
            sym_buf_append_str(t->out, "\\b");
            t->prev = PREV_ANCHOR;
        }
        return SYM_OK;
    case 'B':
    case 'A':
    case 'Z':
        if (in_class)
            return bad(t, "bad escape in character class");
        t->i++;
        sym_buf_append_str(t->out, c == 'B' ? "\\B" : c == 'A' ? "\\A" : "\\z");
        t->prev = PREV_ANCHOR;
        return SYM_OK;
    case 'a':
        t->i++;
        emit_cp(t, 7);
        return SYM_OK;
    case 'f':
        t->i++;
        emit_cp(t, 12);
        return SYM_OK;
    case 'n':
        t->i++;
        emit_cp(t, 10);
        return SYM_OK;
    case 'r':
        t->i++;
        emit_cp(t, 13);
        return SYM_OK;
    case 't':
        t->i++;
        emit_cp(t, 9);
        return SYM_OK;
    case 'v':
        t->i++;
        emit_cp(t, 11);
        return SYM_OK;
    case 'x':
        t->i++;
        if (read_hex(t, 2, &cp) != 0)
            return bad(t, "incomplete escape \\x");
        emit_cp(t, cp);
        return SYM_OK;
    case 'u':
        t->i++;
        if (read_hex(t, 4, &cp) != 0)
            return bad(t, "incomplete escape \\u");
        emit_cp(t, cp);
        return SYM_OK;
    case 'U':
        t->i++;
        if (read_hex(t, 8, &cp) != 0 || cp > 0x10ffff)
            return bad(t, "bad escape \\U");
        emit_cp(t, cp);
        return SYM_OK;
    case 'N':
        return bad(t, "named Unicode escapes (\\N{...}) are not supported in siglists");
    default:
        break;
    }
    if (is_digit(c)) {
        /* Octal: \0 with up to two more octal digits, or three octal digits; any other digit
         * escape is a backreference, which joined lists would renumber. */
        size_t n = 0;
        unsigned long v = 0;
        size_t max = c == '0' ? 3 : 3;
        while (n < max && t->i + n < t->len && t->p[t->i + n] >= '0' && t->p[t->i + n] <= '7') {
            v = v * 8 + (unsigned long)(t->p[t->i + n] - '0');
            n++;
        }
        if (c == '0' || n == 3) {
            if (v > 0377)
                return bad(t, "octal escape value outside of range 0-0o377");
            t->i += n ? n : 1;
            emit_cp(t, v);
            return SYM_OK;
        }
        return bad(t, "backreferences are not supported in siglists");
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return sym_diag_set(t->diag, SYM_EPARSE, "bad escape \\%c at position %zu", c, t->i - 1);
    if ((unsigned char)c < 0x80) {
        sym_buf_append_char(t->out, '\\');
        sym_buf_append_char(t->out, c);
        t->i++;
        return SYM_OK;
    }
    /* A non-ASCII character after a backslash is itself: copy the whole UTF-8 sequence. */
    size_t start = t->i++;
    while (t->i < t->len && ((unsigned char)t->p[t->i] & 0xc0) == 0x80)
        t->i++;
    sym_buf_append(t->out, t->p + start, t->i - start);
    return SYM_OK;
}

static sym_err char_class(struct tr *t)
{
    t->i++; /* '[' */
    sym_buf_append_char(t->out, '[');
    if (t->i < t->len && t->p[t->i] == '^') {
        sym_buf_append_char(t->out, '^');
        t->i++;
    }
    bool first = true;
    for (;;) {
        if (t->i >= t->len)
            return bad(t, "unterminated character set");
        char c = t->p[t->i];
        if (c == ']' && !first) {
            t->i++;
            break;
        }
        first = false;
        if (c == '\\') {
            t->i++;
            sym_err rc = escape(t, true);
            if (rc != SYM_OK)
                return rc;
            continue;
        }
        if (c == '[' || c == ']') {
            sym_buf_append_char(t->out, '\\');
            sym_buf_append_char(t->out, c);
            t->i++;
            continue;
        }
        sym_buf_append_char(t->out, c);
        t->i++;
    }
    sym_buf_append_char(t->out, ']');
    t->prev = PREV_ATOM;
    return SYM_OK;
}

/* At '{': is it a Python quantifier? Fills lo/hi text spans. */
static bool brace_quantifier(const struct tr *t, size_t *end, size_t *lo_s, size_t *lo_n,
                             size_t *hi_s, size_t *hi_n, bool *comma)
{
    size_t i = t->i + 1;
    if (i < t->len && t->p[i] == '}')
        return false;
    *lo_s = i;
    while (i < t->len && is_digit(t->p[i]))
        i++;
    *lo_n = i - *lo_s;
    *comma = false;
    *hi_s = i;
    *hi_n = 0;
    if (i < t->len && t->p[i] == ',') {
        *comma = true;
        i++;
        *hi_s = i;
        while (i < t->len && is_digit(t->p[i]))
            i++;
        *hi_n = i - *hi_s;
    }
    if (i >= t->len || t->p[i] != '}')
        return false;
    *end = i + 1;
    return true;
}

static sym_err repeat_suffix(struct tr *t)
{
    /* Lazy (?) and possessive (+) suffixes mean the same in both engines. */
    if (t->i < t->len && (t->p[t->i] == '?' || t->p[t->i] == '+')) {
        sym_buf_append_char(t->out, t->p[t->i]);
        t->i++;
    }
    t->prev = PREV_REPEAT;
    return SYM_OK;
}

static sym_err check_repeatable(struct tr *t)
{
    if (t->prev == PREV_REPEAT)
        return bad(t, "multiple repeat");
    if (t->prev != PREV_ATOM)
        return bad(t, "nothing to repeat");
    return SYM_OK;
}

static sym_err group_open(struct tr *t)
{
    t->i++; /* '(' */
    if (t->i < t->len && t->p[t->i] == '?') {
        const char *r = t->p + t->i + 1;
        size_t left = t->len - t->i - 1;
        if (left >= 1 && r[0] == ':') {
            sym_buf_append_str(t->out, "(?:");
            t->i += 2;
        } else if (left >= 1 && (r[0] == '=' || r[0] == '!' || r[0] == '>')) {
            sym_buf_append(t->out, t->p + t->i - 1, 3);
            t->i += 2;
        } else if (left >= 2 && r[0] == '<' && (r[1] == '=' || r[1] == '!')) {
            sym_buf_append(t->out, t->p + t->i - 1, 4);
            t->i += 3;
        } else if (left >= 1 && r[0] == '#') {
            /* A comment: dropped, and it leaves what precedes it repeatable as before. */
            const char *close = memchr(r, ')', left);
            if (close == NULL)
                return bad(t, "missing ), unterminated comment");
            t->i = (size_t)(close - t->p) + 1;
            return SYM_OK;
        } else if (left >= 1 && r[0] == 'P') {
            return bad(t, "named groups are not supported in siglists");
        } else if (left >= 1 && r[0] == '(') {
            return bad(t, "conditional groups are not supported in siglists");
        } else {
            return bad(t, "inline flags are not supported in siglists");
        }
    } else {
        sym_buf_append_str(t->out, "(?:");
    }
    t->depth++;
    t->prev = PREV_NONE;
    return SYM_OK;
}

sym_err sig_regex_translate(const char *py, size_t len, struct sym_buf *out, struct sym_diag *diag)
{
    struct tr t = {py, len, 0, out, diag, 0, PREV_NONE};
    while (t.i < t.len) {
        char c = t.p[t.i];
        sym_err rc = SYM_OK;
        switch (c) {
        case '\\':
            t.i++;
            rc = escape(&t, false);
            break;
        case '[':
            rc = char_class(&t);
            break;
        case '(':
            rc = group_open(&t);
            break;
        case ')':
            if (t.depth == 0)
                return bad(&t, "unbalanced parenthesis");
            t.depth--;
            sym_buf_append_char(out, ')');
            t.i++;
            t.prev = PREV_ATOM;
            break;
        case '|':
            sym_buf_append_char(out, '|');
            t.i++;
            t.prev = PREV_NONE;
            break;
        case '^':
        case '$':
            sym_buf_append_char(out, c);
            t.i++;
            t.prev = PREV_ANCHOR;
            break;
        case '.':
            sym_buf_append_char(out, '.');
            t.i++;
            t.prev = PREV_ATOM;
            break;
        case '*':
        case '+':
        case '?':
            rc = check_repeatable(&t);
            if (rc != SYM_OK)
                return rc;
            sym_buf_append_char(out, c);
            t.i++;
            rc = repeat_suffix(&t);
            break;
        case '{': {
            size_t end, lo_s, lo_n, hi_s, hi_n;
            bool comma;
            if (!brace_quantifier(&t, &end, &lo_s, &lo_n, &hi_s, &hi_n, &comma)) {
                sym_buf_append_str(out, "\\{");
                t.i++;
                t.prev = PREV_ATOM;
                break;
            }
            rc = check_repeatable(&t);
            if (rc != SYM_OK)
                return rc;
            sym_buf_append_char(out, '{');
            if (lo_n)
                sym_buf_append(out, t.p + lo_s, lo_n);
            else
                sym_buf_append_char(out, '0');
            if (comma) {
                sym_buf_append_char(out, ',');
                sym_buf_append(out, t.p + hi_s, hi_n);
            }
            sym_buf_append_char(out, '}');
            t.i = end;
            rc = repeat_suffix(&t);
            break;
        }
        case '}':
        case ']':
            sym_buf_append_char(out, '\\');
            sym_buf_append_char(out, c);
            t.i++;
            t.prev = PREV_ATOM;
            break;
        default:
            if (!is_ascii_alnum(c) && (unsigned char)c < 0x80 && c != ' ' && c != '_' &&
                c != '\0') {
                /* Other ASCII punctuation is literal in both engines; escaping it keeps it so
                 * whatever PCRE2 version reads the pattern. */
                sym_buf_append_char(out, '\\');
            }
            if (c == '\0') {
                sym_buf_append_str(out, "\\x{0}");
                t.i++;
            } else {
                size_t start = t.i++;
                while (t.i < t.len && ((unsigned char)t.p[t.i] & 0xc0) == 0x80)
                    t.i++;
                sym_buf_append(out, t.p + start, t.i - start);
            }
            t.prev = PREV_ATOM;
            break;
        }
        if (rc != SYM_OK)
            return rc;
    }
    if (t.depth != 0)
        return bad(&t, "missing ), unterminated subpattern");
    return sym_buf_err(out);
}
