/* SPDX-License-Identifier: MPL-2.0 */
/* java.c: the two Java signature tools of SignatureGenerationRule: one for the Java stack
 * trace text Fennix/GeckoView crash reports carry, one for the structured java_exception. */
#include <string.h>

#include "gen_int.h"
#include "pystr_int.h"

#define JAVA_MAX 255

static int java_note(struct sig_strlist *notes, const char *tool, const char *msg)
{
    struct sym_buf *b = &notes->data;
    sym_buf_append_str(b, "SignatureGenerationRule: ");
    sym_buf_append_str(b, tool);
    sym_buf_append_str(b, ": ");
    sym_buf_append_str(b, msg);
    return sig_strlist_push(notes, "", 0);
}

/* Line boundaries of str.splitlines(). Returns the byte length of the boundary at s[i], 0 if
 * none. */
static size_t line_break(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '\r')
        return (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
    if (c == '\n' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e)
        return 1;
    if (c >= 0x80) {
        size_t n;
        uint32_t cp = py_decode(s, len, i, &n);
        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029)
            return n;
    }
    return 0;
}

struct span {
    const char *p;
    size_t n;
};

/* The first two lines of splitlines(), each stripped; returns how many exist (0, 1 or 2). */
static int first_lines(const char *s, size_t len, struct span out[2])
{
    int count = 0;
    size_t i = 0, start = 0;
    while (i < len && count < 2) {
        size_t br = line_break(s, len, i);
        if (br == 0) {
            i++;
            continue;
        }
        out[count].p = s + start;
        out[count].n = i - start;
        count++;
        i += br;
        start = i;
    }
    if (count < 2 && start < len) {
        out[count].p = s + start;
        out[count].n = len - start;
        count++;
    }
    for (int k = 0; k < count; k++) {
        size_t a, b;
        py_strip(out[k].p, out[k].n, &a, &b);
        out[k].p += a;
        out[k].n = b - a;
    }
    return count;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int sig_java_stack_trace(struct sig_generator *g, const struct sig_value *trace,
                         struct sym_buf *sig, struct sig_strlist *notes)
{
    static const char TOOL[] = "JavaSignatureTool";
    int rc;
    if (trace == NULL || trace->type != SIG_T_STR) {
        sym_buf_append_str(sig, "EMPTY: Java stack trace not in expected format");
        return java_note(notes, TOOL, "stack trace not in expected format");
    }
    struct span lines[2];
    int n_lines = first_lines(trace->u.s.p, trace->u.s.len, lines);
    if (n_lines == 0) {
        sym_buf_append_str(sig, "EMPTY: Java stack trace not in expected format");
        return java_note(notes, TOOL, "stack trace not in expected format");
    }
    struct span cls, desc = {"", 0};
    struct sym_buf *d = &g->s1;
    sym_buf_reset(d);
    const char *colon = memchr(lines[0].p, ':', lines[0].n);
    if (colon) {
        size_t a, b;
        py_strip(lines[0].p, (size_t)(colon - lines[0].p), &a, &b);
        cls.p = lines[0].p + a;
        cls.n = b - a;
        /* re.sub(r"@[0-9a-f]{8}", "@<addr>", description), then strip() */
        const char *s = colon + 1;
        size_t n = lines[0].n - (size_t)(s - lines[0].p);
        for (size_t i = 0; i < n;) {
            if (s[i] == '@' && i + 9 <= n) {
                bool hex = true;
                for (size_t k = 1; k <= 8 && hex; k++)
                    hex = is_lower_hex(s[i + k]);
                if (hex) {
                    sym_buf_append_str(d, "@<addr>");
                    i += 9;
                    continue;
                }
            }
            sym_buf_append_char(d, s[i]);
            i++;
        }
        if (d->err != SYM_OK)
            return (int)d->err;
        if (d->data) {
            size_t a2, b2;
            py_strip(d->data, d->len, &a2, &b2);
            desc.p = d->data + a2;
            desc.n = b2 - a2;
        }
    } else {
        cls = lines[0];
        rc = java_note(notes, TOOL, "stack trace line 1 is not in the expected format");
        if (rc != 0)
            return rc;
    }
    struct sym_buf *m = &g->s2;
    sym_buf_reset(m);
    if (n_lines < 2) {
        rc = java_note(notes, TOOL, "stack trace line 2 is missing");
        if (rc != 0)
            return rc;
    } else {
        /* re.sub(r"\.java\:\d+\)$", ".java)", line) */
        const char *s = lines[1].p;
        size_t n = lines[1].n, keep = n;
        if (n >= 2 && s[n - 1] == ')') {
            size_t j = n - 1;
            while (j > 0 && s[j - 1] >= '0' && s[j - 1] <= '9')
                j--;
            if (j < n - 1 && j >= 6 && memcmp(s + j - 6, ".java:", 6) == 0)
                keep = j - 1;
        }
        /* keep stops before the ':' so the text ends in ".java)" */
        sym_buf_append(m, s, keep);
        if (keep != n)
            sym_buf_append_char(m, ')');
        if (m->len == 0) {
            rc = java_note(notes, TOOL, "stack trace line 2 is empty");
            if (rc != 0)
                return rc;
        }
    }
    if (m->err != SYM_OK)
        return (int)m->err;
    const char *meth = m->data ? m->data : "";
    size_t meth_n = m->len;
    size_t start = sig->len;
    /* join_ignore_empty(): empty parts are left out together with their delimiter. */
    bool addr_end = desc.n >= 6 && memcmp(desc.p + desc.n - 6, "<addr>", 6) == 0;
    bool any = false;
    if (cls.n) {
        sym_buf_append(sig, cls.p, cls.n);
        any = true;
    }
    if (addr_end) {
        if (desc.n) {
            if (any)
                sym_buf_append_str(sig, ": ");
            sym_buf_append(sig, desc.p, desc.n);
            any = true;
        }
        if (meth_n) {
            if (any)
                sym_buf_append_str(sig, ": ");
            sym_buf_append(sig, meth, meth_n);
        }
    } else if (desc.n || meth_n) {
        if (any)
            sym_buf_append_str(sig, ": ");
        sym_buf_append(sig, desc.p, desc.n);
        if (desc.n && meth_n)
            sym_buf_append_char(sig, ' ');
        sym_buf_append(sig, meth, meth_n);
    }
    if (sig->err != SYM_OK)
        return (int)sig->err;
    if (py_cplen(sig->data + start, sig->len - start) > JAVA_MAX) {
        sig->len = start;
        sym_buf_append(sig, cls.p, cls.n);
        sym_buf_append_str(sig, ": ");
        sym_buf_append(sig, meth, meth_n);
        rc = java_note(notes, TOOL, "dropped Java exception description due to length");
        if (rc != 0)
            return rc;
    }
    return buf_rc(sig);
}

int sig_java_exception(struct sig_generator *g, const struct sig_value *exc, struct sym_buf *sig,
                       struct sig_strlist *notes)
{
    (void)g;
    static const char TOOL[] = "JavaExceptionSignatureTool";
    const struct sig_value *st = NULL;
    if (exc && exc->type == SIG_T_OBJ) {
        const struct sig_value *values = sig_value_get(sig_value_get(exc, "exception"), "values");
        if (values && values->type == SIG_T_LIST && values->u.list.n > 0)
            st = sig_value_get(&values->u.list.items[0], "stacktrace");
    }
    if (st == NULL || st->type != SIG_T_OBJ) {
        sym_buf_append_str(sig, "EMPTY: Java exception not in expected format");
        return java_note(notes, TOOL, "value not in expected format");
    }
    const struct sig_value *type = sig_value_get(st, "type");
    const struct sig_value *module = sig_value_get(st, "module");
    static const struct sig_value unknown = {SIG_T_STR, {.s = {"Unknown", 7}}};
    if (type == NULL)
        type = &unknown;
    if (sig_value_truthy(module) && sig_value_truthy(type)) {
        py_str(sig, module);
        sym_buf_append_char(sig, '.');
    }
    py_str(sig, type);
    const struct sig_value *frames = sig_value_get(st, "frames");
    if (sig_value_truthy(frames) && frames->type == SIG_T_LIST) {
        const struct sig_value *f = &frames->u.list.items[0];
        const struct sig_value *fm = sig_value_get(f, "module");
        const struct sig_value *ff = sig_value_get(f, "function");
        const struct sig_value *fn = sig_value_get(f, "filename");
        sym_buf_append_str(sig, ": at ");
        size_t at = sig->len;
        if (sig_value_truthy(fm))
            py_str(sig, fm);
        if (sig_value_truthy(ff)) {
            if (sig->len > at)
                sym_buf_append_char(sig, '.');
            py_str(sig, ff);
        }
        if (sig_value_truthy(fn)) {
            sym_buf_append_char(sig, '(');
            py_str(sig, fn);
            sym_buf_append_char(sig, ')');
        }
        if (sig->len == at)
            sym_buf_append_str(sig, "unknown");
    }
    return buf_rc(sig);
}
