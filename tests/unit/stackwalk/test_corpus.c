/* SPDX-License-Identifier: MPL-2.0 */
/* test_corpus.c: every minidump of the public corpus walked with the corpus symbols and compared
 * with Breakpad's machine-readable output (expected/<name>.stackwalk.machine_readable.txt).
 * Breakpad lists inline frames as frames of their own and leaves the dump thread out, so our
 * result is flattened the same way (reference C.11/D.9). Per dump it reports the fraction of
 * frames, all threads, whose module, function, file and line agree; a dump with symbols fails
 * below 99%. Module lists must match exactly, and unreadable dumps must be rejected. */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackwalk/minidump.h"
#include "stackwalk/process.h"
#include "symsource/local_source.h"
#include "t.h"

struct corpus_dir {
    const char *dir;       /* corpus sub-directory */
    const char *dump_root; /* where its dumps are */
    const char *symbols;   /* symbol path Breakpad was run with */
};

static const struct corpus_dir dirs[] = {
    {"breakpad", "breakpad/src/processor/testdata", "breakpad/src/processor/testdata/symbols"},
    {"rust-minidump", "rust-minidump/testdata", "rust-minidump/testdata/symbols"},
    {"symbolic", "symbolic/py/tests/res/minidump", "symbolic/expected/symbols"},
    {"symbolicator", "symbolicator/tests/fixtures", "symbolicator/expected/symbols"},
};

struct xframe {
    long thread, frame;
    char module[256], function[1024], file[1024], line[32], offset[32];
};

struct xlist {
    struct xframe *v;
    size_t n, cap;
};

static struct xframe *xpush(struct xlist *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (l->v == NULL)
            T_FAIL("out of memory");
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

static void copy_field(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Parses "thread|frame|module|function|file|line|offset" lines. */
static void parse_expected(char *text, struct xlist *out, char ***modules, size_t *n_modules)
{
    *modules = NULL;
    *n_modules = 0;
    for (char *line = text, *next; line != NULL && *line; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (strncmp(line, "Module|", 7) == 0) {
            *modules = realloc(*modules, (*n_modules + 1) * sizeof(char *));
            (*modules)[(*n_modules)++] = strdup(line);
            continue;
        }
        if (line[0] < '0' || line[0] > '9')
            continue;
        const char *f[7];
        size_t fl[7];
        const char *p = line;
        int k = 0;
        for (; k < 7; k++) {
            const char *bar = k < 6 ? strchr(p, '|') : NULL;
            f[k] = p;
            fl[k] = bar ? (size_t)(bar - p) : strlen(p);
            if (bar == NULL) {
                k++;
                break;
            }
            p = bar + 1;
        }
        if (k != 7)
            continue;
        struct xframe *x = xpush(out);
        x->thread = strtol(f[0], NULL, 10);
        x->frame = strtol(f[1], NULL, 10);
        copy_field(x->module, sizeof(x->module), f[2], fl[2]);
        copy_field(x->function, sizeof(x->function), f[3], fl[3]);
        copy_field(x->file, sizeof(x->file), f[4], fl[4]);
        copy_field(x->line, sizeof(x->line), f[5], fl[5]);
        copy_field(x->offset, sizeof(x->offset), f[6], fl[6]);
    }
}

/* Breakpad replaces '|' in names; keep the comparison byte-exact otherwise. */
static void set_str(char *dst, size_t cap, const char *s)
{
    copy_field(dst, cap, s ? s : "", s ? strlen(s) : 0);
    for (char *c = dst; *c; c++)
        if (*c == '|')
            *c = '_';
}

static void flatten(const struct sw_process_state *st, struct xlist *out)
{
    const struct sw_minidump *md = st->md;
    for (size_t t = 0; t < st->n_threads; t++) {
        const struct sw_thread *th = &st->threads[t];
        if (th->status == SW_THREAD_DUMP_THREAD)
            continue;
        long bt = sw_process_breakpad_thread_index(st, (long)t);
        long k = 0;
        for (size_t i = 0; i < th->n_frames; i++) {
            const struct sw_frame *f = &th->frames[i];
            const char *mod = f->module >= 0 ? sw_basename(md->modules[f->module].code_file) : "";
            uint64_t ret = f->ctx.regs[sw_reg_pc(f->ctx.cpu)];
            for (size_t j = 0; j < f->n_inlines; j++) {
                const struct sw_inline_frame *in = &f->inlines[j];
                struct xframe *x = xpush(out);
                x->thread = bt;
                x->frame = k++;
                set_str(x->module, sizeof(x->module), mod);
                set_str(x->function, sizeof(x->function), in->function);
                set_str(x->file, sizeof(x->file), in->file);
                if (in->file) {
                    snprintf(x->line, sizeof(x->line), "%" PRIu32, in->line);
                    /* Breakpad: the inline frame's address is the adjusted one, its line base
                     * the real frame's. */
                    snprintf(x->offset, sizeof(x->offset), "0x%" PRIx64,
                             f->instruction - f->source_line_base);
                }
            }
            struct xframe *x = xpush(out);
            x->thread = bt;
            x->frame = k++;
            set_str(x->module, sizeof(x->module), mod);
            set_str(x->function, sizeof(x->function), f->function);
            if (f->function && f->file) {
                /* The real frame of an inline chain shows the call site of the outermost. */
                set_str(x->file, sizeof(x->file), f->file);
                snprintf(x->line, sizeof(x->line), "%" PRIu32, f->line);
                snprintf(x->offset, sizeof(x->offset), "0x%" PRIx64, ret - f->source_line_base);
            } else if (f->function) {
                snprintf(x->offset, sizeof(x->offset), "0x%" PRIx64, ret - f->function_base);
            } else if (f->module >= 0) {
                snprintf(x->offset, sizeof(x->offset), "0x%" PRIx64,
                         ret - md->modules[f->module].base);
            } else {
                snprintf(x->offset, sizeof(x->offset), "0x%" PRIx64, ret);
            }
        }
    }
}

static int cmp_xframe(const void *a, const void *b)
{
    const struct xframe *x = a, *y = b;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static char *find_dump(const char *corpus, const struct corpus_dir *cd, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%s.dmp", corpus, cd->dump_root, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fclose(f);
    return strdup(path);
}

struct totals {
    int dumps, failed;
    size_t frames, matched, offsets_matched;
};

static void compare_one(const char *corpus, const struct corpus_dir *cd, const char *exp_name,
                        struct totals *tot)
{
    const char *suffix = ".stackwalk.machine_readable.txt";
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(strlen(exp_name) - strlen(suffix)), exp_name);
    char sym_dir[4096];
    snprintf(sym_dir, sizeof(sym_dir), "%s/%s", corpus, cd->symbols);
    char *tag = strstr(name, ".with-new-sym");
    if (tag != NULL) {
        *tag = '\0';
        snprintf(sym_dir, sizeof(sym_dir), "%s/%s/expected/symbols", corpus, cd->dir);
    }
    char *dump_path = find_dump(corpus, cd, name);
    if (dump_path == NULL)
        T_FAIL("no dump for %s", exp_name);
    char exp_path[4096];
    snprintf(exp_path, sizeof(exp_path), "%s/%s/expected/%s", corpus, cd->dir, exp_name);
    size_t elen, dlen;
    char *exp = t_read_file(exp_path, &elen);
    uint8_t *data = (uint8_t *)t_read_file(dump_path, &dlen);

    struct sw_minidump *md = NULL;
    struct sym_diag d;
    sym_err rc = sw_minidump_open(data, dlen, NULL, &md, &d);
    tot->dumps++;
    if (elen == 0) {
        printf("  %-48s rejected as Breakpad does: %s\n", name, rc ? d.msg : "NOT REJECTED");
        if (rc == SYM_OK) {
            tot->failed++;
            sw_minidump_free(md);
        }
        free(exp);
        free(data);
        free(dump_path);
        return;
    }
    if (rc != SYM_OK)
        T_FAIL("%s: %s", name, d.msg);
    const char *dirs_[1] = {sym_dir};
    struct srv_local_source *src;
    T_ASSERT_OK(srv_local_source_new(dirs_, 1, 0, &src));
    struct sw_supplier sup = srv_local_source_supplier(src);
    struct sw_process_state *st;
    T_ASSERT_OK(sw_process(md, &sup, 1, NULL, &st, &d));

    struct xlist want = {0}, got = {0};
    char **mods;
    size_t n_mods;
    parse_expected(exp, &want, &mods, &n_mods);
    flatten(st, &got);

    /* Module lines: same order as Breakpad's (by address). */
    size_t mod_mismatch = 0;
    for (size_t i = 0; i < n_mods; i++) {
        bool found = false;
        for (size_t m = 0; m < md->n_modules && !found; m++) {
            const struct sw_md_module *mm = &md->modules[m];
            const char *dfile = mm->debug_file, *did = mm->debug_id;
            if (st->modules[m].debug_id != NULL) {
                dfile = st->modules[m].debug_file;
                did = st->modules[m].debug_id;
            }
            char line[2048];
            snprintf(line, sizeof(line), "Module|%s|%s|%s|%s|0x%08" PRIx64 "|0x%08" PRIx64 "|%d",
                     sw_basename(mm->code_file), mm->version ? mm->version : "", sw_basename(dfile),
                     did, mm->base, mm->base + mm->size - 1, m == 0);
            found = strcmp(line, mods[i]) == 0;
        }
        if (!found) {
            mod_mismatch++;
            printf("    module line not matched: %s\n", mods[i]);
        }
        free(mods[i]);
    }
    free(mods);

    /* Frames, position by position per thread (Breakpad prints the crashed thread first). */
    qsort(want.v, want.n, sizeof(*want.v), cmp_xframe);
    qsort(got.v, got.n, sizeof(*got.v), cmp_xframe);
    size_t total = 0, match = 0, off_match = 0;
    size_t i = 0, j = 0;
    int shown = 0;
    while (i < want.n || j < got.n) {
        long ti = i < want.n ? want.v[i].thread : LONG_MAX;
        long tj = j < got.n ? got.v[j].thread : LONG_MAX;
        long t = ti < tj ? ti : tj;
        size_t i0 = i, j0 = j;
        while (i < want.n && want.v[i].thread == t)
            i++;
        while (j < got.n && got.v[j].thread == t)
            j++;
        size_t nw = i - i0, ng = j - j0, n = nw > ng ? nw : ng;
        total += n;
        for (size_t k = 0; k < n; k++) {
            const struct xframe *a = k < nw ? &want.v[i0 + k] : NULL;
            const struct xframe *b = k < ng ? &got.v[j0 + k] : NULL;
            bool same = a && b && strcmp(a->module, b->module) == 0 &&
                        strcmp(a->function, b->function) == 0 && strcmp(a->file, b->file) == 0 &&
                        strcmp(a->line, b->line) == 0;
            if (same) {
                match++;
                off_match += strcmp(a->offset, b->offset) == 0;
            } else if (shown < 6 && getenv("SIGIL_CORPUS_VERBOSE")) {
                shown++;
                printf("    thread %ld frame %zu: want %s|%s|%s|%s  got %s|%s|%s|%s\n", t, k,
                       a ? a->module : "-", a ? a->function : "-", a ? a->file : "-",
                       a ? a->line : "-", b ? b->module : "-", b ? b->function : "-",
                       b ? b->file : "-", b ? b->line : "-");
            }
        }
    }
    bool with_symbols = false;
    for (size_t m = 0; m < md->n_modules; m++)
        with_symbols |= st->modules[m].loaded_symbols;
    double frac = total ? (double)match / (double)total : 1.0;
    bool bad = mod_mismatch > 0 || (with_symbols && frac < 0.99);
    printf("  %-48s %s frames %4zu/%-4zu %6.2f%%  offsets %6.2f%%%s%s\n", name,
           with_symbols ? "sym  " : "nosym", match, total, 100.0 * frac,
           total ? 100.0 * (double)off_match / (double)total : 100.0,
           mod_mismatch ? "  MODULES DIFFER" : "", bad ? "  FAIL" : "");
    tot->frames += total;
    tot->matched += match;
    tot->offsets_matched += off_match;
    if (bad)
        tot->failed++;
    free(want.v);
    free(got.v);
    sw_process_state_free(st);
    srv_local_source_free(src);
    sw_minidump_free(md);
    free(exp);
    free(data);
    free(dump_path);
}

static void test_corpus_against_breakpad(void)
{
    const char *corpus = t_corpus_dir();
    if (corpus == NULL)
        T_SKIP("corpus not present (set SIGIL_CORPUS_DIR)");
    struct totals tot = {0};
    for (size_t di = 0; di < sizeof(dirs) / sizeof(dirs[0]); di++) {
        char exp_dir[4096];
        snprintf(exp_dir, sizeof(exp_dir), "%s/%s/expected", corpus, dirs[di].dir);
        struct dirent **names;
        int n = scandir(exp_dir, &names, NULL, alphasort);
        if (n < 0)
            continue;
        for (int k = 0; k < n; k++) {
            const char *e = names[k]->d_name;
            const char *suffix = ".stackwalk.machine_readable.txt";
            size_t el = strlen(e), sl = strlen(suffix);
            if (el > sl && strcmp(e + el - sl, suffix) == 0)
                compare_one(corpus, &dirs[di], e, &tot);
            free(names[k]);
        }
        free(names);
    }
    printf("  total: %d dumps, frames %zu/%zu (%.2f%%), offsets %.2f%%, %d failing\n", tot.dumps,
           tot.matched, tot.frames,
           tot.frames ? 100.0 * (double)tot.matched / (double)tot.frames : 0,
           tot.frames ? 100.0 * (double)tot.offsets_matched / (double)tot.frames : 0, tot.failed);
    T_ASSERT(tot.dumps >= 59);
    T_ASSERT_EQ(tot.failed, 0);
}

T_LIST(T_TEST(test_corpus_against_breakpad))
