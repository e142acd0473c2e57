/* SPDX-License-Identifier: MPL-2.0 */
/* test_stackwalk_json.c: the reports of server/stackwalk_json.c. Against the public corpus:
 * Breakpad's machine-readable and human reports byte for byte for every dump, and
 * rust-minidump's JSON snapshots (byte for byte where the snapshot has no instruction
 * analysis, structurally otherwise). On synthetic dumps: the JSON details the corpus does not
 * show (registers, unloaded modules, inlines, limits, errors). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mdsynth.h"
#include "stackwalk_json.h"
#include "symsource/local_source.h"
#include "t.h"

/* ---- corpus: Breakpad reports ---- */

struct corpus_dir {
    const char *dir, *dump_root, *symbols;
};

static const struct corpus_dir dirs[] = {
    {"breakpad", "breakpad/src/processor/testdata", "breakpad/src/processor/testdata/symbols"},
    {"rust-minidump", "rust-minidump/testdata", "rust-minidump/testdata/symbols"},
    {"symbolic", "symbolic/py/tests/res/minidump", "symbolic/expected/symbols"},
    {"symbolicator", "symbolicator/tests/fixtures", "symbolicator/expected/symbols"},
};

/* Walks a corpus dump with one symbol directory; NULL state when the dump is unreadable. */
static struct sw_process_state *walk(const char *dump_path, const char *sym_dir, uint8_t **data,
                                     struct sw_minidump **md, struct srv_local_source **src)
{
    size_t len;
    *data = (uint8_t *)t_read_file(dump_path, &len);
    *src = NULL;
    if (sw_minidump_open(*data, len, NULL, md, NULL) != SYM_OK) {
        *md = NULL;
        return NULL;
    }
    const char *d[1] = {sym_dir};
    T_ASSERT_OK(srv_local_source_new(d, 1, 0, src));
    struct sw_supplier sup = srv_local_source_supplier(*src);
    struct sw_process_state *st;
    T_ASSERT_OK(sw_process(*md, &sup, 1, NULL, &st, NULL));
    return st;
}

static int compare_reports(const char *corpus, const struct corpus_dir *cd, const char *exp_name)
{
    const char *suffix = ".stackwalk.machine_readable.txt";
    char name[256], sym_dir[4096], path[4096];
    snprintf(name, sizeof(name), "%.*s", (int)(strlen(exp_name) - strlen(suffix)), exp_name);
    snprintf(sym_dir, sizeof(sym_dir), "%s/%s", corpus, cd->symbols);
    char *tag = strstr(name, ".with-new-sym");
    char base[256];
    snprintf(base, sizeof(base), "%s", name);
    if (tag != NULL) {
        base[tag - name] = '\0';
        snprintf(sym_dir, sizeof(sym_dir), "%s/%s/expected/symbols", corpus, cd->dir);
    }
    snprintf(path, sizeof(path), "%s/%s/%s.dmp", corpus, cd->dump_root, base);
    uint8_t *data;
    struct sw_minidump *md;
    struct srv_local_source *src;
    struct sw_process_state *st = walk(path, sym_dir, &data, &md, &src);
    int failures = 0;
    for (int human = 0; human < 2; human++) {
        snprintf(path, sizeof(path), "%s/%s/expected/%s.stackwalk%s.txt", corpus, cd->dir, name,
                 human ? "" : ".machine_readable");
        size_t elen;
        char *exp = t_read_file(path, &elen);
        struct sym_buf out;
        sym_buf_init(&out, 0);
        if (st != NULL)
            T_ASSERT_OK(human ? srv_stackwalk_human(st, &out) : srv_stackwalk_machine(st, &out));
        if (out.len != elen || (elen && memcmp(out.data, exp, elen) != 0)) {
            printf("  %s: %s report differs from Breakpad's\n", name, human ? "human" : "machine");
            failures++;
        }
        sym_buf_cleanup(&out);
        free(exp);
    }
    sw_process_state_free(st);
    srv_local_source_free(src);
    sw_minidump_free(md);
    free(data);
    return failures;
}

static void test_breakpad_reports(void)
{
    const char *corpus = t_corpus_dir();
    if (corpus == NULL)
        T_SKIP("corpus not present (set SIGIL_CORPUS_DIR)");
    int files = 0, failures = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char exp_dir[4096];
        snprintf(exp_dir, sizeof(exp_dir), "%s/%s/expected", corpus, dirs[i].dir);
        DIR *dir = opendir(exp_dir);
        if (dir == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            const char *suffix = ".stackwalk.machine_readable.txt";
            size_t n = strlen(e->d_name), sl = strlen(suffix);
            if (n <= sl || strcmp(e->d_name + n - sl, suffix) != 0)
                continue;
            failures += compare_reports(corpus, &dirs[i], e->d_name);
            files++;
        }
        closedir(dir);
    }
    printf("  %d dumps, %d machine+human reports identical to Breakpad's, %d differ\n", files,
           2 * files - failures, failures);
    T_ASSERT(files >= 59);
    T_ASSERT_EQ(failures, 0);
}

/* ---- corpus: rust-minidump JSON snapshots ---- */

static char *snapshot_body(const char *snap, size_t *len)
{
    size_t n;
    char *s = t_read_file(t_corpus_path(snap), &n);
    char *body = strstr(s, "\n---\n");
    T_ASSERT(body != NULL);
    body += 5;
    size_t bl = n - (size_t)(body - s);
    memmove(s, body, bl + 1);
    *len = bl;
    return s;
}

static json_t *render(const char *dump_rel, const char *sym_rel)
{
    char sym_dir[4096];
    snprintf(sym_dir, sizeof(sym_dir), "%s/%s", t_corpus_dir(), sym_rel ? sym_rel : "none");
    uint8_t *data;
    struct sw_minidump *md;
    struct srv_local_source *src;
    struct sw_process_state *st = walk(t_corpus_path(dump_rel), sym_dir, &data, &md, &src);
    T_ASSERT(st != NULL);
    if (sym_rel == NULL) {
        /* No symbols at all: walk again without a supplier, as minidump-stackwalk does. */
        sw_process_state_free(st);
        T_ASSERT_OK(sw_process(md, NULL, 0, NULL, &st, NULL));
    }
    json_t *j;
    T_ASSERT_OK(srv_stackwalk_json(st, &j));
    sw_process_state_free(st);
    srv_local_source_free(src);
    sw_minidump_free(md);
    free(data);
    return j;
}

#define SNAP "rust-minidump/minidump-stackwalk/tests/snapshots/test_minidump_stackwalk__"

static void check_exact(const char *snap, const char *dump, const char *syms, size_t flags)
{
    size_t n;
    char *want = snapshot_body(snap, &n);
    json_t *j = render(dump, syms);
    char *got = json_dumps(j, flags | JSON_SORT_KEYS);
    /* The snapshot ends with a newline after the document. */
    if (n > 0 && want[n - 1] == '\n')
        want[--n] = '\0';
    if (strcmp(got, want) != 0)
        T_FAIL("%s: output differs from the snapshot", snap);
    free(got);
    json_decref(j);
    free(want);
}

static void test_snapshots_exact(void)
{
    check_exact(SNAP "json-pretty-symbols.snap", "rust-minidump/testdata/test.dmp",
                "rust-minidump/testdata/symbols", JSON_INDENT(2));
    check_exact(SNAP "json-pretty.snap", "rust-minidump/testdata/test.dmp", NULL, JSON_INDENT(2));
    check_exact(SNAP "json.snap", "rust-minidump/testdata/test.dmp", NULL, JSON_COMPACT);
    check_exact(SNAP "json-stable-all.snap", "rust-minidump/testdata/test.dmp", NULL,
                JSON_INDENT(2));
}

/* Snapshots whose crash_info carries instruction analysis (a disassembler's output, which we
 * report as null as the schema allows): everything else must be equal. */
static void check_structural(const char *snap, const char *dump, const char *syms)
{
    size_t n;
    char *text = snapshot_body(snap, &n);
    json_error_t err;
    json_t *want = json_loadb(text, n, 0, &err);
    T_ASSERT(want != NULL);
    json_t *ci = json_object_get(want, "crash_info");
    static const char *analysis[] = {"instruction", "memory_accesses", "possible_bit_flips",
                                     "instruction_pointer_update", "adjusted_address"};
    for (size_t i = 0; i < sizeof(analysis) / sizeof(analysis[0]); i++)
        T_ASSERT(json_object_set_new(ci, analysis[i], json_null()) == 0);
    json_t *got = render(dump, syms);
    if (!json_equal(want, got)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);
        size_t k = 0;
        while (g[k] && g[k] == w[k])
            k++;
        T_FAIL("%s differs near byte %zu: ...%.80s", snap, k, g + (k > 40 ? k - 40 : 0));
    }
    json_decref(want);
    json_decref(got);
    free(text);
}

static void test_snapshots_structural(void)
{
    check_structural(SNAP "linux_json_pretty.snap", "rust-minidump/testdata/linux-mini.dmp", NULL);
    check_structural(SNAP "macos_inlines_json_pretty.snap",
                     "rust-minidump/testdata/pipeline-inlines-macos-segv.dmp",
                     "rust-minidump/testdata/symbols");
}

static void test_corrupt_dumps(void)
{
    static const char *bad[] = {"rust-minidump/testdata/invalid-range.dmp",
                                "rust-minidump/testdata/invalid-record-count.dmp"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *data = t_read_file(t_corpus_path(bad[i]), &len);
        json_t *j = NULL;
        struct sym_diag d;
        T_ASSERT_ERR(srv_stackwalk_dump(data, len, NULL, 0, NULL, &j, &d), SYM_EPARSE);
        T_ASSERT(j == NULL);
        T_ASSERT(d.msg[0] != '\0');
        free(data);
    }
}

/* ---- synthetic ---- */

static void test_synthetic_json(void)
{
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 10, 0, 19041, NULL, "GenuineIntel");
    uint8_t stack[32] = {0};
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = 0x500010; /* in an unloaded module */
    regs[SW_X86_ESP] = 0x120000;
    regs[SW_X86_EBP] = 0x120000;
    uint8_t ctx[716];
    size_t cn = mds_context_x86(ctx, regs);
    mds_thread(m, 5, 0x120000, stack, sizeof(stack), ctx, cn);
    mds_thread(m, 6, 0x130000, stack, sizeof(stack), ctx, cn);
    mds_thread_name(m, 5, "main thread");
    struct mds_module mod = {
        .base = 0x400000, .size = 0x1000, .name = "C:\\a\\app.exe", .time_date_stamp = 0x5E000000};
    mds_module(m, &mod);
    mds_unloaded_module(m, 0x500000, 0x1000, 1, "C:\\x\\b.dll");
    mds_unloaded_module(m, 0x500000, 0x2000, 2, "C:\\x\\a.dll");
    mds_unloaded_module(m, 0x500000, 0x1000, 3, "C:\\x\\b.dll");
    uint64_t params[2] = {8, 0x500010};
    mds_exception(m, 5, 0xC0000005, 0, 0x500010, params, 2, ctx, cn);
    mds_breakpad_info(m, true, 6, false, 0);
    mds_misc_info(m, 77, 900);
    size_t len;
    uint8_t *data = mds_finish(m, 1000, &len);
    mds_free(m);

    json_t *j = NULL;
    struct sym_diag d;
    struct srv_stackwalk_limits lim = {.max_dump_bytes = len - 1};
    T_ASSERT_ERR(srv_stackwalk_dump(data, len, NULL, 0, &lim, &j, &d), SYM_ELIMIT);
    T_ASSERT_OK(srv_stackwalk_dump(data, len, NULL, 0, NULL, &j, &d));
    json_t *ci = json_object_get(j, "crash_info");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(ci, "type")),
                    "EXCEPTION_ACCESS_VIOLATION_EXEC");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(ci, "address")), "0x00500010");
    T_ASSERT_EQ(json_integer_value(json_object_get(ci, "crashing_thread")), 0);
    T_ASSERT_EQ(json_integer_value(json_object_get(j, "pid")), 77);
    T_ASSERT_EQ(json_integer_value(json_object_get(j, "process_uptime")), 100);
    T_ASSERT_EQ(json_integer_value(json_object_get(j, "thread_count")), 2);
    json_t *threads = json_object_get(j, "threads");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(threads, 0), "thread_name")),
                    "main thread");
    /* The dump thread is listed with no frames. */
    T_ASSERT_EQ(json_integer_value(json_object_get(json_array_get(threads, 1), "frame_count")), 0);
    json_t *ct = json_object_get(j, "crashing_thread");
    T_ASSERT_EQ(json_integer_value(json_object_get(ct, "threads_index")), 0);
    json_t *f0 = json_array_get(json_object_get(ct, "frames"), 0);
    json_t *r = json_object_get(f0, "registers");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(r, "eip")), "0x00500010");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(r, "eflags")), "0x00000000");
    T_ASSERT(json_is_null(json_object_get(f0, "module")));
    T_ASSERT(json_is_true(json_object_get(f0, "missing_symbols")));
    /* Unloaded modules: grouped by name, sorted, offsets de-duplicated. */
    json_t *um = json_object_get(f0, "unloaded_modules");
    T_ASSERT_EQ(json_array_size(um), 2);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(um, 0), "module")), "a.dll");
    json_t *boffs = json_object_get(json_array_get(um, 1), "offsets");
    T_ASSERT_EQ(json_array_size(boffs), 1);
    T_ASSERT_STR_EQ(json_string_value(json_array_get(boffs, 0)), "0x00000010");
    /* Not the crashing thread's view: no registers. */
    T_ASSERT(
        json_object_get(json_array_get(json_object_get(json_array_get(threads, 0), "frames"), 0),
                        "registers") == NULL);
    json_t *mod0 = json_array_get(json_object_get(j, "modules"), 0);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(mod0, "debug_id")),
                    "000000000000000000000000000000000");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(mod0, "code_id")), "5e0000001000");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(mod0, "filename")), "app.exe");
    json_t *unl = json_object_get(j, "unloaded_modules");
    T_ASSERT_EQ(json_array_size(unl), 3);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(unl, 0), "code_id")),
                    "000000011000");
    json_t *si = json_object_get(j, "system_info");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(si, "os_ver")), "10.0.19041");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(si, "cpu_info")),
                    "GenuineIntel family 6 model 13 stepping 8");
    json_decref(j);

    /* The machine report names the dump's crashing thread first and leaves the dump thread
     * out. */
    struct sw_minidump *md;
    struct sw_process_state *st;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, NULL));
    T_ASSERT_OK(sw_process(md, NULL, 0, NULL, &st, NULL));
    struct sym_buf out;
    sym_buf_init(&out, 0);
    T_ASSERT_OK(srv_stackwalk_machine(st, &out));
    T_ASSERT(strstr(out.data, "Crash|EXCEPTION_ACCESS_VIOLATION_EXEC|0x500010|0\n") != NULL);
    T_ASSERT(strstr(out.data, "\n0|0|||||0x500010\n") != NULL);
    T_ASSERT(strstr(out.data, "\n1|") == NULL);
    sym_buf_cleanup(&out);
    sw_process_state_free(st);
    sw_minidump_free(md);
    free(data);
}

T_LIST(T_TEST(test_breakpad_reports), T_TEST(test_snapshots_exact),
       T_TEST(test_snapshots_structural), T_TEST(test_corrupt_dumps), T_TEST(test_synthetic_json))
