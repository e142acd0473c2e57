/* SPDX-License-Identifier: MPL-2.0 */
/* siglists.c: reading, validating and compiling the signature lists; the reload cell.
 *
 * File format (.siglist, documented in signature/rules/README.md):
 *   %siglist 1 regex|literal      first non-blank line, required
 *   %upstream <text>              optional provenance lines
 *   # comment, blank lines        ignored
 *   <entry>                       one per line, surrounding whitespace trimmed
 * Upstream Socorro files (no header) are read with the kind implied by their name. */
#include "signature/siglists.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr_int.h"
#include "siglists_int.h"
#include "sym/alloc.h"

#ifndef SIG_DEFAULT_RULES_DIR
#define SIG_DEFAULT_RULES_DIR "signature/rules"
#endif

static const char *const file_names[SIG_LIST_COUNT] = {
    "irrelevant.siglist",
    "prefix.siglist",
    "line_numbers.siglist",
    "sentinels.siglist",
};
static const char *const upstream_names[SIG_LIST_COUNT] = {
    "irrelevant_signature_re.txt",
    "prefix_signature_re.txt",
    "signatures_with_line_numbers_re.txt",
    "signature_sentinels.txt",
};

const char *sig_list_file_name(enum sig_list_kind kind)
{
    return (unsigned)kind < SIG_LIST_COUNT ? file_names[kind] : "";
}

const char *sig_list_upstream_file_name(enum sig_list_kind kind)
{
    return (unsigned)kind < SIG_LIST_COUNT ? upstream_names[kind] : "";
}

const char *sig_lists_default_dir(void)
{
    return SIG_DEFAULT_RULES_DIR;
}

/* ================================================================ */
/* entries                                                          */
/* ================================================================ */

struct entry {
    const char *p; /* into the file text */
    size_t len;
    size_t line;
};

struct entries {
    struct entry *items;
    size_t n, cap;
};

static sym_err entries_push(struct entries *e, const char *p, size_t len, size_t line)
{
    if (e->n >= SIG_LISTS_MAX_ENTRIES)
        return SYM_ELIMIT;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        struct entry *n = sym_reallocarray(e->items, cap, sizeof(*n));
        if (n == NULL)
            return SYM_ENOMEM;
        e->items = n;
        e->cap = cap;
    }
    e->items[e->n++] = (struct entry){p, len, line};
    return SYM_OK;
}

/* Splits a list file into entries; checks the header when require_header. */
static sym_err split_entries(const char *text, size_t len, const char *name, bool require_header,
                             bool want_regex, struct entries *out, struct sym_diag *diag)
{
    if (len > SIG_LISTS_MAX_FILE_BYTES)
        return sym_diag_set(diag, SYM_ELIMIT, "%s: larger than %zu bytes", name,
                            SIG_LISTS_MAX_FILE_BYTES);
    bool seen_header = false;
    size_t line_no = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        line_no++;
        if (end - i > SIG_LISTS_MAX_LINE_BYTES)
            return sym_diag_set(diag, SYM_ELIMIT, "%s:%zu: line longer than %d bytes", name,
                                line_no, SIG_LISTS_MAX_LINE_BYTES);
        size_t a, b;
        py_strip(text + i, end - i, &a, &b);
        const char *s = text + i + a;
        size_t n = b - a;
        i = nl ? end + 1 : len;
        if (n == 0 || s[0] == '#')
            continue;
        if (require_header && !seen_header) {
            const char *want = want_regex ? "%siglist 1 regex" : "%siglist 1 literal";
            size_t wl = strlen(want);
            if (n != wl || memcmp(s, want, wl) != 0)
                return sym_diag_set(diag, SYM_EPARSE,
                                    "%s:%zu: expected the header \"%s\" as the first line", name,
                                    line_no, want);
            seen_header = true;
            continue;
        }
        if (require_header && s[0] == '%') {
            if (n >= 9 && memcmp(s, "%upstream", 9) == 0 && (n == 9 || s[9] == ' '))
                continue;
            return sym_diag_set(diag, SYM_EPARSE, "%s:%zu: unknown directive", name, line_no);
        }
        sym_err rc = entries_push(out, s, n, line_no);
        if (rc == SYM_ELIMIT)
            return sym_diag_set(diag, rc, "%s: more than %d entries", name, SIG_LISTS_MAX_ENTRIES);
        if (rc != SYM_OK)
            return sym_diag_set(diag, rc, "%s: out of memory", name);
    }
    if (require_header && !seen_header)
        return sym_diag_set(diag, SYM_EPARSE, "%s: missing the \"%%siglist 1 ...\" header", name);
    return SYM_OK;
}

/* ================================================================ */
/* compilation                                                      */
/* ================================================================ */

#define FIRST_ANY (-1)

/* The byte every match of this Python pattern must start with, or FIRST_ANY when that cannot
 * be told cheaply. Conservative: FIRST_ANY is always correct. */
static int first_byte(const char *p, size_t len)
{
    if (len == 0)
        return FIRST_ANY;
    /* A top-level alternation can start anywhere. */
    int depth = 0;
    bool in_class = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '\\') {
            i++;
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = false;
            continue;
        }
        if (c == '[') {
            in_class = true;
            if (i + 1 < len && p[i + 1] == ']')
                i++;
            else if (i + 2 < len && p[i + 1] == '^' && p[i + 2] == ']')
                i += 2;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        } else if (c == '|' && depth == 0) {
            return FIRST_ANY;
        }
    }
    size_t tok;
    int b;
    unsigned char c0 = (unsigned char)p[0];
    if (c0 == '\\') {
        if (len < 2)
            return FIRST_ANY;
        unsigned char e = (unsigned char)p[1];
        if (e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
            return FIRST_ANY;
        b = e;
        tok = 2;
    } else if (strchr(".^$*+?[]|()", (int)c0) != NULL || c0 == '\0') {
        return FIRST_ANY;
    } else if (c0 == '{') {
        /* Literal only when it does not read as a quantifier; a leading quantifier is an error
         * Python reports anyway. */
        b = '{';
        tok = 1;
    } else {
        b = c0;
        tok = 1;
        while (tok < len && ((unsigned char)p[tok] & 0xc0) == 0x80)
            tok++;
    }
    if (tok < len) {
        char n = p[tok];
        if (n == '?' || n == '*')
            return FIRST_ANY;
        if (n == '{' && tok + 1 < len && (p[tok + 1] == '0' || p[tok + 1] == ','))
            return FIRST_ANY;
    }
    return b;
}

static sym_err compile_one(const char *pat, size_t len, pcre2_compile_context *cctx,
                           pcre2_code **out, bool *jit, const char *name, size_t line,
                           struct sym_diag *diag)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, len,
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED |
                                         PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_BACKSLASH_C,
                                     &errcode, &erroff, cctx);
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        if (line)
            return sym_diag_set(diag, SYM_EPARSE, "%s:%zu: PCRE2 rejects the entry: %s", name, line,
                                (const char *)msg);
        return sym_diag_set(diag, SYM_EINTERNAL, "%s: PCRE2 rejects the joined list: %s", name,
                            (const char *)msg);
    }
    if (jit != NULL && pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0)
        *jit = false;
    *out = code;
    return SYM_OK;
}

static void matcher_free(struct sig_matcher *m)
{
    for (size_t i = 0; i < m->n_codes; i++)
        pcre2_code_free(m->codes[i]);
    sym_free(m->codes);
    memset(m, 0, sizeof(*m));
}

/* Builds the alternation "(?:t1)|(?:t2)|..." of the entries whose index has sel[i] set. */
static sym_err join(const struct sym_buf *translated, const size_t *offs, const size_t *lens,
                    const bool *sel, size_t n, struct sym_buf *out)
{
    sym_buf_reset(out);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!sel[i])
            continue;
        if (any)
            sym_buf_append_char(out, '|');
        sym_buf_append_str(out, "(?:");
        sym_buf_append(out, translated->data + offs[i], lens[i]);
        sym_buf_append_char(out, ')');
        any = true;
    }
    return sym_buf_err(out);
}

static sym_err build_matcher(const struct entries *e, const char *name, struct sig_matcher *m,
                             bool *jit, struct sym_diag *diag)
{
    sym_err rc = SYM_OK;
    struct sym_buf tr, one, joined;
    sym_buf_init(&tr, 0);
    sym_buf_init(&one, 0);
    sym_buf_init(&joined, 0);
    size_t *offs = sym_calloc(e->n + 1, sizeof(size_t));
    size_t *lens = sym_calloc(e->n + 1, sizeof(size_t));
    int *firsts = sym_calloc(e->n + 1, sizeof(int));
    bool *sel = sym_calloc(e->n + 1, sizeof(bool));
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    memset(m, 0, sizeof(*m));
    m->n_entries = e->n;
    if (!offs || !lens || !firsts || !sel || !cctx) {
        rc = sym_diag_set(diag, SYM_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    pcre2_set_bsr(cctx, PCRE2_BSR_UNICODE);

    for (size_t i = 0; i < e->n; i++) {
        offs[i] = tr.len;
        struct sym_diag d;
        sym_diag_clear(&d);
        rc = sig_regex_translate(e->items[i].p, e->items[i].len, &tr, &d);
        if (rc != SYM_OK) {
            rc = sym_diag_set(diag, rc, "%s:%zu: %.*s: %s", name, e->items[i].line,
                              (int)(e->items[i].len > 80 ? 80 : e->items[i].len), e->items[i].p,
                              d.msg);
            goto out;
        }
        lens[i] = tr.len - offs[i];
        firsts[i] = first_byte(e->items[i].p, e->items[i].len);
        /* Each entry must compile on its own, as Socorro checks each line. */
        pcre2_code *check = NULL;
        rc = compile_one(tr.data + offs[i], lens[i], cctx, &check, NULL, name, e->items[i].line,
                         diag);
        if (rc != SYM_OK)
            goto out;
        pcre2_code_free(check);
    }
    if (e->n == 0)
        goto out;

    /* One pattern per distinct first byte (plus the any-start entries), one for any other first
     * byte, one with everything for the empty subject. */
    size_t max_codes = 258;
    m->codes = sym_calloc(max_codes, sizeof(pcre2_code *));
    if (m->codes == NULL) {
        rc = sym_diag_set(diag, SYM_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    for (size_t i = 0; i < e->n; i++)
        sel[i] = true;
    rc = join(&tr, offs, lens, sel, e->n, &joined);
    if (rc == SYM_OK)
        rc = compile_one(joined.data, joined.len, cctx, &m->codes[m->n_codes], jit, name, 0, diag);
    if (rc != SYM_OK)
        goto out;
    m->full = m->codes[m->n_codes++];

    bool any_only_exists = false;
    for (size_t i = 0; i < e->n; i++)
        sel[i] = firsts[i] == FIRST_ANY;
    for (size_t i = 0; i < e->n; i++)
        any_only_exists |= sel[i];
    pcre2_code *any_only = NULL;
    if (any_only_exists) {
        rc = join(&tr, offs, lens, sel, e->n, &joined);
        if (rc == SYM_OK)
            rc = compile_one(joined.data, joined.len, cctx, &m->codes[m->n_codes], jit, name, 0,
                             diag);
        if (rc != SYM_OK)
            goto out;
        any_only = m->codes[m->n_codes++];
    }
    for (int b = 0; b < 256; b++) {
        bool has = false;
        for (size_t i = 0; i < e->n; i++) {
            sel[i] = firsts[i] == FIRST_ANY || firsts[i] == b;
            has |= firsts[i] == b;
        }
        if (!has) {
            m->by_byte[b] = any_only;
            continue;
        }
        rc = join(&tr, offs, lens, sel, e->n, &joined);
        if (rc == SYM_OK)
            rc = compile_one(joined.data, joined.len, cctx, &m->codes[m->n_codes], jit, name, 0,
                             diag);
        if (rc != SYM_OK)
            goto out;
        m->by_byte[b] = m->codes[m->n_codes++];
    }
out:
    if (rc == SYM_OK && sym_buf_err(&tr) != SYM_OK)
        rc = sym_diag_set(diag, sym_buf_err(&tr), "%s: out of memory", name);
    if (rc != SYM_OK)
        matcher_free(m);
    pcre2_compile_context_free(cctx);
    sym_free(offs);
    sym_free(lens);
    sym_free(firsts);
    sym_free(sel);
    sym_buf_cleanup(&tr);
    sym_buf_cleanup(&one);
    sym_buf_cleanup(&joined);
    return rc;
}

bool sig_matcher_match(const struct sig_matcher *m, const char *s, size_t len, pcre2_match_data *md)
{
    const pcre2_code *code = len ? m->by_byte[(unsigned char)s[0]] : m->full;
    if (code == NULL)
        return false;
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
    return rc >= 0;
}

/* ================================================================ */
/* lists                                                            */
/* ================================================================ */

static void lists_free(struct sig_lists *l)
{
    if (l == NULL)
        return;
    for (int k = 0; k < SIG_LIST_SENTINELS; k++)
        matcher_free(&l->m[k]);
    for (size_t i = 0; i < l->n_sentinels; i++)
        sym_free(l->sentinels[i]);
    sym_free(l->sentinels);
    sym_free(l->sentinel_lens);
    sym_free(l->origin);
    sym_free(l);
}

struct sig_lists *sig_lists_ref(struct sig_lists *l)
{
    if (l)
        atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void sig_lists_unref(struct sig_lists *l)
{
    if (l && atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1)
        lists_free(l);
}

const char *sig_lists_origin(const struct sig_lists *l)
{
    return l->origin;
}

bool sig_lists_is_default(const struct sig_lists *l)
{
    return l->is_default;
}

size_t sig_lists_n_entries(const struct sig_lists *l, enum sig_list_kind kind)
{
    if (kind == SIG_LIST_SENTINELS)
        return l->n_sentinels;
    if ((unsigned)kind >= SIG_LIST_COUNT)
        return 0;
    return l->m[kind].n_entries;
}

bool sig_lists_jit(const struct sig_lists *l)
{
    return l->jit;
}

static sym_err build_sentinels(struct sig_lists *l, const struct entries *e, const char *name,
                               struct sym_diag *diag)
{
    /* Sentinels are plain strings, but Socorro still compiles each as a regex when loading,
     * so an entry Python would reject as a pattern is refused here too. */
    struct sym_buf tmp;
    sym_buf_init(&tmp, 0);
    for (size_t i = 0; i < e->n; i++) {
        sym_buf_reset(&tmp);
        struct sym_diag d;
        sym_diag_clear(&d);
        sym_err rc = sig_regex_translate(e->items[i].p, e->items[i].len, &tmp, &d);
        if (rc != SYM_OK) {
            sym_buf_cleanup(&tmp);
            return sym_diag_set(diag, rc, "%s:%zu: %s", name, e->items[i].line, d.msg);
        }
    }
    sym_buf_cleanup(&tmp);
    if (e->n == 0)
        return SYM_OK;
    l->sentinels = sym_calloc(e->n, sizeof(char *));
    l->sentinel_lens = sym_calloc(e->n, sizeof(size_t));
    if (!l->sentinels || !l->sentinel_lens)
        return sym_diag_set(diag, SYM_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < e->n; i++) {
        l->sentinels[i] = sym_strndup(e->items[i].p, e->items[i].len);
        if (l->sentinels[i] == NULL)
            return sym_diag_set(diag, SYM_ENOMEM, "%s: out of memory", name);
        l->sentinel_lens[i] = e->items[i].len;
        l->n_sentinels = i + 1;
    }
    return SYM_OK;
}

static sym_err build_lists(const char *const texts[SIG_LIST_COUNT],
                           const size_t lens[SIG_LIST_COUNT], const char *const names[],
                           const bool headers[SIG_LIST_COUNT], const char *origin, bool is_default,
                           struct sig_lists **out, struct sym_diag *diag)
{
    struct sig_lists *l = sym_calloc(1, sizeof(*l));
    if (l == NULL)
        return sym_diag_set(diag, SYM_ENOMEM, "out of memory");
    atomic_init(&l->refs, 1);
    l->is_default = is_default;
    l->jit = true;
    l->origin = sym_strndup(origin, strlen(origin));
    sym_err rc = l->origin ? SYM_OK : sym_diag_set(diag, SYM_ENOMEM, "out of memory");
    for (int k = 0; k < SIG_LIST_COUNT && rc == SYM_OK; k++) {
        struct entries e = {NULL, 0, 0};
        rc = split_entries(texts[k], lens[k], names[k], headers[k], k != SIG_LIST_SENTINELS, &e,
                           diag);
        if (rc == SYM_OK) {
            if (k == SIG_LIST_SENTINELS)
                rc = build_sentinels(l, &e, names[k], diag);
            else
                rc = build_matcher(&e, names[k], &l->m[k], &l->jit, diag);
        }
        sym_free(e.items);
    }
    if (rc != SYM_OK) {
        lists_free(l);
        return rc;
    }
    *out = l;
    return SYM_OK;
}

sym_err sig_lists_from_texts(const char *const texts[SIG_LIST_COUNT],
                             const size_t lens[SIG_LIST_COUNT], const char *origin,
                             struct sig_lists **out, struct sym_diag *diag)
{
    if (texts == NULL || lens == NULL || out == NULL)
        return sym_diag_set(diag, SYM_EINVAL, "missing argument");
    for (int k = 0; k < SIG_LIST_COUNT; k++)
        if (texts[k] == NULL)
            return sym_diag_set(diag, SYM_EINVAL, "missing text for %s", file_names[k]);
    static const bool headers[SIG_LIST_COUNT] = {true, true, true, true};
    return build_lists(texts, lens, (const char *const *)file_names, headers,
                       origin ? origin : "(memory)", false, out, diag);
}

/* Reads a whole file up to the limit. */
static sym_err read_file(const char *path, char **out, size_t *out_len, struct sym_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return SYM_ENOTFOUND;
        return sym_diag_set(diag, SYM_EIO, "%s: %s", path, strerror(errno));
    }
    struct sym_buf b;
    sym_buf_init(&b, SIG_LISTS_MAX_FILE_BYTES);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sym_buf_append(&b, chunk, n);
    bool ioerr = ferror(f) != 0;
    fclose(f);
    if (ioerr) {
        sym_buf_cleanup(&b);
        return sym_diag_set(diag, SYM_EIO, "%s: read error", path);
    }
    if (sym_buf_err(&b) != SYM_OK) {
        sym_err rc = sym_buf_err(&b);
        sym_buf_cleanup(&b);
        return sym_diag_set(diag, rc, "%s: %s", path,
                            rc == SYM_ELIMIT ? "file too large" : "out of memory");
    }
    *out_len = b.len;
    *out = sym_buf_steal(&b, NULL);
    if (*out == NULL) {
        *out = sym_strndup("", 0);
        if (*out == NULL)
            return sym_diag_set(diag, SYM_ENOMEM, "out of memory");
    }
    return SYM_OK;
}

sym_err sig_lists_load(const char *dir, bool is_default, struct sig_lists **out,
                       struct sym_diag *diag)
{
    if (dir == NULL || out == NULL)
        return sym_diag_set(diag, SYM_EINVAL, "missing argument");
    char *texts[SIG_LIST_COUNT] = {NULL, NULL, NULL, NULL};
    size_t lens[SIG_LIST_COUNT] = {0, 0, 0, 0};
    bool headers[SIG_LIST_COUNT];
    char *paths[SIG_LIST_COUNT] = {NULL, NULL, NULL, NULL};
    sym_err rc = SYM_OK;
    for (int k = 0; k < SIG_LIST_COUNT && rc == SYM_OK; k++) {
        for (int variant = 0; variant < 2; variant++) {
            const char *fname = variant == 0 ? file_names[k] : upstream_names[k];
            struct sym_buf path;
            sym_buf_init(&path, 8192);
            sym_buf_printf(&path, "%s/%s", dir, fname);
            if (sym_buf_err(&path) != SYM_OK) {
                rc = sym_diag_set(diag, sym_buf_err(&path), "%s: path too long", dir);
                sym_buf_cleanup(&path);
                break;
            }
            rc = read_file(path.data, &texts[k], &lens[k], diag);
            if (rc == SYM_OK) {
                headers[k] = variant == 0;
                paths[k] = sym_buf_steal(&path, NULL);
                if (paths[k] == NULL)
                    rc = sym_diag_set(diag, SYM_ENOMEM, "out of memory");
                break;
            }
            sym_buf_cleanup(&path);
            if (rc != SYM_ENOTFOUND)
                break;
            if (variant == 1)
                rc = sym_diag_set(diag, SYM_ENOTFOUND, "%s: no %s (nor %s)", dir, file_names[k],
                                  upstream_names[k]);
        }
    }
    if (rc == SYM_OK)
        rc = build_lists((const char *const *)texts, lens, (const char *const *)paths, headers, dir,
                         is_default, out, diag);
    for (int k = 0; k < SIG_LIST_COUNT; k++) {
        sym_free(texts[k]);
        sym_free(paths[k]);
    }
    return rc;
}

/* ================================================================ */
/* reload cell                                                      */
/* ================================================================ */

sym_err sig_lists_cell_init(struct sig_lists_cell *cell, const char *dir, const char *builtin_dir,
                            struct sym_diag *diag)
{
    memset(cell, 0, sizeof(*cell));
    if (pthread_mutex_init(&cell->mu, NULL) != 0)
        return sym_diag_set(diag, SYM_EINTERNAL, "cannot create a mutex");
    const char *def = sig_lists_default_dir();
    if (dir == NULL)
        dir = def;
    cell->dir = sym_strndup(dir, strlen(dir));
    if (builtin_dir != NULL && strcmp(builtin_dir, dir) != 0)
        cell->builtin_dir = sym_strndup(builtin_dir, strlen(builtin_dir));
    if (cell->dir == NULL ||
        (builtin_dir != NULL && strcmp(builtin_dir, dir) != 0 && cell->builtin_dir == NULL))
        return sym_diag_set(diag, SYM_ENOMEM, "out of memory");
    return sig_lists_cell_reload(cell, diag);
}

sym_err sig_lists_cell_reload(struct sig_lists_cell *cell, struct sym_diag *diag)
{
    struct sig_lists *cur = NULL, *builtin = NULL;
    bool cur_is_default = cell->builtin_dir == NULL;
    sym_err rc = sig_lists_load(cell->dir, cur_is_default, &cur, diag);
    if (rc != SYM_OK)
        return rc;
    if (cell->builtin_dir != NULL) {
        rc = sig_lists_load(cell->builtin_dir, true, &builtin, diag);
        if (rc != SYM_OK) {
            sig_lists_unref(cur);
            return rc;
        }
    } else {
        builtin = sig_lists_ref(cur);
    }
    pthread_mutex_lock(&cell->mu);
    struct sig_lists *old_cur = cell->current, *old_builtin = cell->builtin;
    cell->current = cur;
    cell->builtin = builtin;
    pthread_mutex_unlock(&cell->mu);
    sig_lists_unref(old_cur);
    sig_lists_unref(old_builtin);
    return SYM_OK;
}

void sig_lists_cell_acquire(struct sig_lists_cell *cell, struct sig_lists **lists,
                            struct sig_lists **builtin)
{
    pthread_mutex_lock(&cell->mu);
    *lists = sig_lists_ref(cell->current);
    *builtin = sig_lists_ref(cell->builtin);
    pthread_mutex_unlock(&cell->mu);
}

void sig_lists_cell_cleanup(struct sig_lists_cell *cell)
{
    if (cell == NULL)
        return;
    sig_lists_unref(cell->current);
    sig_lists_unref(cell->builtin);
    sym_free(cell->dir);
    sym_free(cell->builtin_dir);
    cell->current = cell->builtin = NULL;
    cell->dir = cell->builtin_dir = NULL;
    pthread_mutex_destroy(&cell->mu);
}
