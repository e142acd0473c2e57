/* SPDX-License-Identifier: MPL-2.0 */
/* test_corpus.c: the symbol core against the public corpus (SIGIL_CORPUS_DIR, read in place;
 * every test skips when it is absent): Breakpad's resolver vectors, test_app.sym record counts
 * and its LF/CRLF copies, the linux_inline pair, rust-minidump's crash-client snapshot,
 * symbolic's parsed-content snapshots, Eliot's request/response cases, and a parse of every
 * .sym file in the corpus. jansson reads the JSON expectations (test code only). */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>

#include "symtest.h"

static void build_file(struct st_image *s, const char *rel)
{
    size_t len;
    char *text = t_read_file(t_corpus_path(rel), &len);
    st_build_n(s, text, len);
    free(text);
}

#define TESTDATA "breakpad/src/processor/testdata/"

/* ---- Breakpad ------------------------------------------------------------------------------ */

static void test_breakpad_module1(void)
{
    struct st_image s;
    build_file(&s, TESTDATA "module1.out");
    struct sym_lookup *l = st_lookup(&s, 0x1000);
    T_ASSERT_STR_EQ(st_str(l->function), "Function1_1");
    T_ASSERT_STR_EQ(st_str(l->file), "file1_1.cc");
    T_ASSERT_EQ(l->line, 44);
    T_ASSERT_U64_EQ(l->line_start, 0x1000);
    T_ASSERT(l->is_multiple);
    ST_ASSERT_SYM(&s, 0x800, "", "", 0);
    ST_ASSERT_SYM(&s, 0x1280, "Function1_3", "", 0);
    ST_ASSERT_SYM(&s, 0x1380, "Function1_4", "", 0);
    ST_ASSERT_SYM(&s, 0x2000, "", "", 0); /* Test_Zero_Size_Function_Is_Ignored */
    ST_ASSERT_SYM(&s, 0x2900, "PublicSymbol", "", 0);
    ST_ASSERT_SYM(&s, 0x3000, "LargeFunction", "file1_3.cc", 4098359);
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3d40), ".cfa: $esp 4 + .ra: .cfa 4 - ^");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3d41), ".cfa: $esp 4 + .ra: .cfa 4 - ^ .cfa: $esp 8 +");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3d43), ".cfa: $esp 4 + .ra: .cfa 4 - ^ .cfa: $esp 8 + .cfa: "
                                        "$ebp 8 + $ebp: .cfa 8 - ^");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3d84),
                    ".cfa: $esp 4 + .ra: .cfa 4 - ^ .cfa: $esp 8 + .cfa: $ebp 8 + $ebp: .cfa 8 "
                    "- ^ $ebx: .cfa 20 - ^ $esi: .cfa 16 - ^ $edi: .cfa 12 - ^");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3d3f), "-");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3e9f), "-");
    struct sym_win_frame w;
    T_ASSERT_OK(sym_image_win_frame(s.img, 0x1100, &w));
    T_ASSERT_U64_EQ(w.code_size, 8); /* nested: the inner 1100+8 inside 1100+100 */
    T_ASSERT_OK(sym_image_win_frame(s.img, 0x1150, &w));
    T_ASSERT_U64_EQ(w.code_size, 0x100);
    st_free(&s);

    build_file(&s, TESTDATA "module2.out");
    ST_ASSERT_SYM(&s, 0x2000, "Function2_1", "", 0);
    ST_ASSERT_SYM(&s, 0x2165, "Public2_1", "", 0);
    ST_ASSERT_SYM(&s, 0x2170, "Function2_2", "file2_2.cc", 10);
    ST_ASSERT_SYM(&s, 0x21a0, "Public2_2", "", 0);
    st_free(&s);
}

static void test_breakpad_bad_modules(void)
{
    struct st_image s;
    build_file(&s, TESTDATA "module3_bad.out");
    T_ASSERT_EQ(s.stats.n_warnings, 1); /* a FUNC line cut short */
    st_free(&s);
    build_file(&s, TESTDATA "module4_bad.out");
    T_ASSERT_EQ(s.stats.n_warnings, 2); /* line records before any FUNC */
    T_ASSERT_EQ(s.stats.first_warning_line, 4);
    st_free(&s);
}

static void test_linux_inline(void)
{
    static const char *const dir =
        TESTDATA "symbols/linux_inline/BBA6FA10B8AAB33D00000000000000000/";
    char rel[256];
    for (int old = 0; old < 2; old++) {
        snprintf(rel, sizeof(rel), "%slinux_inline.%s.sym", dir, old ? "old" : "new");
        struct st_image s;
        build_file(&s, rel);
        T_ASSERT_EQ(s.stats.n_warnings, 0);
        struct sym_lookup *l = st_lookup(&s, 0x161b6);
        static const char *const fn[] = {"func()", "bar()", "foo()"};
        static const char *const file[] = {"linux_inline.cpp", "c.cpp", "b.cpp"};
        static const uint32_t line[] = {27, 32, 39};
        static const uint64_t base[] = {0x15b83, 0x15b72, 0x15b45};
        T_ASSERT_EQ(l->n_inlines, 3);
        for (int i = 0; i < 3; i++) {
            T_ASSERT_STR_EQ(st_str(l->inlines[i].function), fn[i]);
            T_ASSERT_STR_EQ(st_str(l->inlines[i].file), old ? "linux_inline.cpp" : file[i]);
            T_ASSERT_EQ(l->inlines[i].line, line[i]);
            T_ASSERT_U64_EQ(l->inlines[i].function_start, base[i]);
        }
        T_ASSERT_STR_EQ(st_str(l->function), "main");
        T_ASSERT_STR_EQ(st_str(l->file), old ? "linux_inline.cpp" : "a.cpp");
        T_ASSERT_EQ(l->line, 42);
        T_ASSERT_U64_EQ(l->function_start, 0x15b30);
        st_free(&s);
    }
}

/* ---- rust-minidump -------------------------------------------------------------------------- */

static void test_app_lf_crlf(void)
{
    static const char *const copies[] = {
        "rust-minidump/breakpad-symbols/testdata/symbols/test_app.pdb/"
        "5A9832E5287241C1838ED98914E9B7FF1/test_app.sym",
        "rust-minidump/breakpad-symbols/testdata/symbols/test_app.pdb/"
        "6A9832E5287241C1838ED98914E9B7FF1/test_app.sym"};
    struct st_image s[2];
    for (int i = 0; i < 2; i++) {
        build_file(&s[i], copies[i]);
        const struct sym_image_counts *r = &s[i].stats.read;
        T_ASSERT_EQ(r->files, 6661);
        T_ASSERT_EQ(r->publics, 5);
        T_ASSERT_EQ(r->funcs, 1065);
        T_ASSERT_EQ(r->win_framedata, 1556);
        T_ASSERT_EQ(r->win_fpo, 259);
        T_ASSERT_EQ(s[i].stats.n_warnings, 0);
        struct sym_lookup *l = st_lookup(&s[i], 0x1000);
        T_ASSERT_STR_EQ(st_str(l->function), "vswprintf");
        T_ASSERT_U64_EQ(l->function_size, 0x13);
        T_ASSERT_EQ(l->param_size, 4);
        l = st_lookup(&s[i], 0x1012);
        T_ASSERT_STR_EQ(st_str(l->function), "vswprintf");
        l = st_lookup(&s[i], 0x1013);
        T_ASSERT(!sym_slice_eq_cstr(l->function, "vswprintf"));
    }
    /* Identical answers for every function start and end, and the STACK WIN records. */
    struct sym_image_info info;
    sym_image_info(s[0].img, &info);
    for (size_t i = 0; i < info.counts.funcs; i++) {
        struct sym_func_info f;
        T_ASSERT_OK(sym_image_func_at(s[0].img, i, &f));
        uint64_t offs[3] = {f.start, f.start + f.size / 2, f.start + f.size - 1};
        for (int k = 0; k < 3; k++) {
            struct sym_lookup a, b;
            T_ASSERT_OK(sym_image_lookup(s[0].img, offs[k], &a));
            T_ASSERT_OK(sym_image_lookup(s[1].img, offs[k], &b));
            T_ASSERT(sym_slice_eq(a.function, b.function) && sym_slice_eq(a.file, b.file));
            T_ASSERT_EQ(a.line, b.line);
            struct sym_win_frame wa, wb;
            sym_err ra = sym_image_win_frame(s[0].img, offs[k], &wa);
            T_ASSERT_ERR(sym_image_win_frame(s[1].img, offs[k], &wb), ra);
            if (ra == SYM_OK)
                T_ASSERT(wa.rva == wb.rva && sym_slice_eq(wa.program, wb.program));
        }
    }
    st_free(&s[0]);
    st_free(&s[1]);
}

/* The part after the insta snapshot header. */
static char *snapshot_body(const char *rel)
{
    char *text = t_read_file(t_corpus_path(rel), NULL);
    char *p = strstr(text, "\n---\n");
    T_ASSERT(p != NULL);
    memmove(text, p + 5, strlen(p + 5) + 1);
    return text;
}

/* The next non-empty line of a mutable buffer (NUL-terminated in place), or NULL. */
static char *next_line(char **cursor)
{
    char *p = *cursor;
    while (*p == '\n')
        p++;
    if (*p == '\0')
        return NULL;
    char *nl = strchr(p, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = p + strlen(p);
    }
    return p;
}

static uint64_t hex_value(const char *s)
{
    T_ASSERT(s != NULL && s[0] == '0' && s[1] == 'x');
    return strtoull(s + 2, NULL, 16);
}

static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* rust-minidump's minidump-stackwalk output for pipeline-inlines-macos-segv.dmp: every frame in
 * crash-client, with its inline frames. */
static void test_crash_client_snapshot(void)
{
    char *body = snapshot_body("rust-minidump/minidump-stackwalk/tests/snapshots/"
                               "test_minidump_stackwalk__macos_inlines_json_pretty.snap");
    json_error_t err;
    json_t *root = json_loads(body, 0, &err);
    free(body);
    T_ASSERT(root != NULL);
    struct st_image s;
    build_file(&s, "rust-minidump/testdata/symbols/crash-client/"
                   "509C0610949836F7B70BD88BCF03E5400/crash-client.sym");
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    size_t checked = 0, with_inlines = 0;
    json_t *threads = json_object_get(root, "threads"), *th;
    size_t ti;
    json_array_foreach(threads, ti, th)
    {
        json_t *frames = json_object_get(th, "frames"), *fr;
        size_t fi;
        json_array_foreach(frames, fi, fr)
        {
            const char *module = json_str(fr, "module");
            if (module == NULL || strcmp(module, "crash-client") != 0)
                continue;
            uint64_t off = hex_value(json_str(fr, "module_offset"));
            /* Caller frames are looked up at the return address - 1. */
            const char *trust = json_str(fr, "trust");
            uint64_t probe = trust && strcmp(trust, "context") == 0 ? off : off - 1;
            struct sym_lookup *l = st_lookup(&s, probe);
            const char *fn = json_str(fr, "function");
            if (fn == NULL) {
                T_ASSERT(!l->found);
                continue;
            }
            T_ASSERT_STR_EQ(st_str(l->function), fn);
            T_ASSERT_U64_EQ(off - l->function_start, hex_value(json_str(fr, "function_offset")));
            const char *file = json_str(fr, "file");
            T_ASSERT_STR_EQ(st_str(l->file), file ? file : "");
            json_t *line = json_object_get(fr, "line");
            T_ASSERT_EQ(l->line, json_is_integer(line) ? json_integer_value(line) : 0);
            json_t *inl = json_object_get(fr, "inlines"), *in;
            size_t n_inl = json_is_array(inl) ? json_array_size(inl) : 0;
            T_ASSERT_EQ(l->n_inlines, n_inl);
            size_t ii;
            json_array_foreach(inl, ii, in)
            {
                T_ASSERT_STR_EQ(st_str(l->inlines[ii].function), json_str(in, "function"));
                T_ASSERT_STR_EQ(st_str(l->inlines[ii].file), json_str(in, "file"));
                T_ASSERT_EQ(l->inlines[ii].line, json_integer_value(json_object_get(in, "line")));
            }
            checked++;
            with_inlines += n_inl > 0;
        }
    }
    T_ASSERT(checked >= 10 && with_inlines >= 3);
    json_decref(root);
    st_free(&s);
}

/* ---- symbolic ------------------------------------------------------------------------------- */

#define SYMBOLIC "symbolic/symbolic-debuginfo/tests/snapshots/test_objects__breakpad_"
#define FIXTURES "symbolic/symbolic-testutils/fixtures/"

static void test_symbolic_files_and_symbols(void)
{
    struct st_image s;
    build_file(&s, FIXTURES "windows/crash.sym");
    char *body = snapshot_body(SYMBOLIC "files.snap");
    size_t i = 0;
    char *cur = body;
    for (char *line = next_line(&cur); line; line = next_line(&cur), i++) {
        struct sym_slice f;
        T_ASSERT_OK(sym_image_file_at(s.img, i, &f));
        T_ASSERT_STR_EQ(st_str(f), line);
    }
    T_ASSERT_EQ(i, 10);
    free(body);

    body = snapshot_body(SYMBOLIC "symbols.snap");
    i = 0;
    cur = body;
    for (char *line = next_line(&cur); line; line = next_line(&cur)) {
        char *p = line + strspn(line, " ");
        char *name = strchr(p, ' ');
        T_ASSERT(name != NULL);
        *name++ = '\0';
        struct sym_public_info pi;
        T_ASSERT_OK(sym_image_public_at(s.img, i++, &pi));
        T_ASSERT_U64_EQ(pi.address, strtoull(p, NULL, 16));
        T_ASSERT_STR_EQ(st_str(pi.name), name);
    }
    T_ASSERT_EQ(i, 35);
    free(body);
    st_free(&s);
}

/* The frame at nesting depth d of a lookup: 0 is the function, d >= 1 the d-th inline level
 * counted from the outside. */
static void frame_at(const struct sym_lookup *l, size_t d, struct sym_slice *fn,
                     struct sym_slice *file, uint32_t *line, uint64_t *start)
{
    T_ASSERT(d <= l->n_inlines);
    if (d == 0) {
        *fn = l->function;
        *file = l->file;
        *line = l->line;
        *start = l->function_start;
        return;
    }
    const struct sym_inline_frame *f = &l->inlines[l->n_inlines - d];
    *fn = f->function;
    *file = f->file;
    *line = f->line;
    *start = f->function_start;
}

/* symbolic lists functions as "> 0xADDR: name (0xSIZE)" and their lines as
 * "0xADDR: basename:line (dir)", indented two spaces per inline level. Each listed address
 * must resolve, at that level, to the listed function or location. */
static void check_functions_snapshot(const char *snap, const char *sym)
{
    struct st_image s;
    build_file(&s, sym);
    char *body = snapshot_body(snap);
    char *cur = body;
    size_t n_funcs = 0, n_lines = 0;
    for (char *line = next_line(&cur); line; line = next_line(&cur)) {
        size_t indent = strspn(line, " ");
        char *p = line + indent;
        bool is_func = p[0] == '>';
        if (is_func)
            p += 2;
        /* A function header is indented by its level, its lines by one more. */
        size_t depth = indent / 2 - (is_func ? 0 : 1);
        char *colon = strstr(p, ": ");
        T_ASSERT(colon != NULL);
        *colon = '\0';
        uint64_t addr = hex_value(p);
        char *rest = colon + 2;
        /* "name (0xSIZE)" for a function (names contain parentheses: split at the last one);
         * "basename:line (dir)" for a line (directories contain them: split at the first
         * " (" that follows ":<digits>"). */
        char *paren = NULL;
        if (is_func) {
            paren = strrchr(rest, '(');
        } else {
            for (char *q = strstr(rest, " ("); q != NULL; q = strstr(q + 1, " (")) {
                char *digits = q;
                while (digits > rest && digits[-1] >= '0' && digits[-1] <= '9')
                    digits--;
                if (digits < q && digits > rest && digits[-1] == ':') {
                    paren = q + 1;
                    break;
                }
            }
        }
        T_ASSERT(paren != NULL && paren > rest);
        paren[-1] = '\0';
        struct sym_lookup *l = st_lookup(&s, addr);
        struct sym_slice fn, file;
        uint32_t ln;
        uint64_t start;
        frame_at(l, depth, &fn, &file, &ln, &start);
        if (is_func) {
            T_ASSERT_STR_EQ(st_str(fn), rest);
            T_ASSERT_U64_EQ(start, addr);
            if (depth == 0)
                T_ASSERT_U64_EQ(l->function_size, hex_value(paren + 1));
            n_funcs++;
            continue;
        }
        char *lc = strrchr(rest, ':');
        T_ASSERT(lc != NULL);
        *lc = '\0';
        T_ASSERT_EQ(ln, strtoul(lc + 1, NULL, 10));
        char *dir = paren + 1;
        size_t dl = strlen(dir);
        T_ASSERT(dl > 0 && dir[dl - 1] == ')');
        dir[dl - 1] = '\0';
        const char *path = st_str(file);
        size_t pl = strlen(path), bl = strlen(rest);
        T_ASSERT(pl >= bl && strcmp(path + pl - bl, rest) == 0);
        T_ASSERT(strncmp(path, dir, strlen(dir)) == 0);
        n_lines++;
    }
    T_ASSERT(n_funcs >= 10 && n_lines >= 30);
    free(body);
    st_free(&s);
}

static void test_symbolic_functions(void)
{
    check_functions_snapshot(SYMBOLIC "functions.snap", FIXTURES "windows/crash.sym");
}

static void test_symbolic_functions_with_inlines(void)
{
    check_functions_snapshot(SYMBOLIC "functions_mac_with_inlines.snap",
                             FIXTURES "macos/crash.inlines.sym");
}

/* ---- Eliot ---------------------------------------------------------------------------------- */

static char *eliot_path(const char *rel)
{
    static _Thread_local char p[512];
    snprintf(p, sizeof(p), "eliot/%s", rel);
    return p;
}

/* One symbolication frame of a v5 response. */
static void check_v5_frame(const struct st_image *s, const char *module_name, json_t *want,
                           uint64_t offset)
{
    struct sym_lookup *l = st_lookup(s, offset);
    T_ASSERT_STR_EQ(module_name, json_str(want, "module"));
    const char *fn = json_str(want, "function");
    T_ASSERT(l->found == (fn != NULL));
    if (fn == NULL)
        return;
    T_ASSERT_STR_EQ(st_str(l->function), fn);
    char hex[32];
    snprintf(hex, sizeof(hex), "0x%" PRIx64, offset - l->function_start);
    T_ASSERT_STR_EQ(hex, json_str(want, "function_offset"));
    /* v5: file only when known; line only when non-zero and a file is present. */
    const char *file = json_str(want, "file");
    T_ASSERT_STR_EQ(st_str(l->file), file ? file : "");
    json_t *line = json_object_get(want, "line");
    T_ASSERT_EQ(l->file.n && l->line ? l->line : 0, line ? json_integer_value(line) : 0);
    json_t *inl = json_object_get(want, "inlines"), *in;
    T_ASSERT_EQ(l->n_inlines, inl ? json_array_size(inl) : 0);
    size_t i;
    json_array_foreach(inl, i, in)
    {
        T_ASSERT_STR_EQ(st_str(l->inlines[i].function), json_str(in, "function"));
        const char *f = json_str(in, "file");
        T_ASSERT_STR_EQ(st_str(l->inlines[i].file), f ? f : "");
        json_t *il = json_object_get(in, "line");
        T_ASSERT_EQ(l->inlines[i].line, il ? json_integer_value(il) : 0);
    }
}

/* A v5 HTTP case whose modules are all served from corpus files. */
static size_t check_v5_case(json_t *c)
{
    json_t *req = json_object_get(c, "request");
    json_t *server = json_object_get(c, "symbol_server");
    json_t *want = json_object_get(json_object_get(c, "expected_response"), "json");
    json_t *jobs = json_object_get(json_object_get(req, "json"), "jobs");
    json_t *results = json_object_get(want, "results");
    if (!json_is_array(jobs) || !json_is_array(results))
        return 0;
    size_t frames = 0, ji;
    json_t *job;
    json_array_foreach(jobs, ji, job)
    {
        json_t *mm = json_object_get(job, "memoryMap"), *stacks = json_object_get(job, "stacks");
        json_t *res = json_array_get(results, ji);
        json_t *res_stacks = json_object_get(res, "stacks");
        size_t si;
        json_t *stack;
        json_array_foreach(stacks, si, stack)
        {
            size_t fi;
            json_t *fr;
            json_array_foreach(stack, fi, fr)
            {
                json_int_t mi = json_integer_value(json_array_get(fr, 0));
                json_int_t off = json_integer_value(json_array_get(fr, 1));
                json_t *m = json_array_get(mm, (size_t)mi);
                if (m == NULL || off < 0)
                    continue;
                const char *debug_file = json_string_value(json_array_get(m, 0));
                const char *debug_id = json_string_value(json_array_get(m, 1));
                /* The symbol server path: .pdb becomes .sym, anything else gets .sym added. */
                char key[512], symname[256];
                size_t dl = strlen(debug_file);
                if (dl > 4 && strcmp(debug_file + dl - 4, ".pdb") == 0)
                    snprintf(symname, sizeof(symname), "%.*s.sym", (int)(dl - 4), debug_file);
                else
                    snprintf(symname, sizeof(symname), "%s.sym", debug_file);
                snprintf(key, sizeof(key), "%s/%s/%s", debug_file, debug_id, symname);
                const char *file = json_str(json_object_get(server, key), "file");
                if (file == NULL)
                    continue;
                struct st_image s;
                build_file(&s, eliot_path(file));
                struct sym_slice name = sym_image_module_name(s.img, sym_slice_cstr(debug_file));
                json_t *wf = json_array_get(json_array_get(res_stacks, si), fi);
                T_ASSERT(wf != NULL);
                check_v5_frame(&s, st_str(name), wf, (uint64_t)off);
                st_free(&s);
                frames++;
            }
        }
    }
    return frames;
}

static void check_library_case(json_t *c, const char *op)
{
    json_t *req = json_object_get(c, "request");
    json_t *want = json_object_get(c, "expected_response");
    if (strcmp(op, "module_name") == 0) {
        struct st_image s;
        build_file(&s, eliot_path(json_str(req, "sym_file")));
        struct sym_slice name =
            sym_image_module_name(s.img, sym_slice_cstr(json_str(req, "debug_filename")));
        T_ASSERT_STR_EQ(st_str(name), json_str(want, "module_name"));
        st_free(&s);
    } else if (strcmp(op, "parse_and_lookup") == 0) {
        struct st_image s;
        build_file(&s, eliot_path(json_str(req, "sym_file")));
        struct sym_lookup *l = st_lookup(&s, hex_value(json_str(req, "module_offset")));
        T_ASSERT_STR_EQ(st_str(l->function), json_str(want, "function"));
        st_free(&s);
    } else if (strcmp(op, "parse") == 0 && json_str(req, "sym_file_bytes") != NULL) {
        /* Junk bytes are not a symbol file (Eliot: sym_malformed). */
        const char *bytes = json_str(req, "sym_file_bytes");
        struct sym_buf b;
        sym_buf_init(&b, 0);
        T_ASSERT_ERR(sym_parse_buffer(bytes, strlen(bytes), NULL, &b, NULL, NULL), SYM_EPARSE);
        sym_buf_cleanup(&b);
        T_ASSERT_STR_EQ(json_str(want, "error_reason"), "sym_malformed");
    }
}

static void test_eliot_cases(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", t_corpus_path("eliot/cases"));
    DIR *d = opendir(dir);
    T_ASSERT(d != NULL);
    struct dirent *e;
    size_t cases = 0, frames = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".json") == NULL)
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        json_error_t err;
        json_t *c = json_load_file(path, JSON_ALLOW_NUL, &err);
        if (c == NULL)
            T_FAIL("%s: %s", path, err.text);
        json_t *req = json_object_get(c, "request");
        const char *op = json_str(req, "operation"), *rpath = json_str(req, "path");
        if (op != NULL) {
            check_library_case(c, op);
            cases++;
        } else if (rpath != NULL && strcmp(rpath, "/symbolicate/v5") == 0) {
            size_t n = check_v5_case(c);
            frames += n;
            cases += n > 0;
        }
        json_decref(c);
    }
    closedir(d);
    T_ASSERT(frames >= 5);
    T_ASSERT(cases >= 10);
}

/* ---- Every .sym in the corpus ------------------------------------------------------------- */

static size_t n_sym_files;

static bool is_symbol_file(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".sym") == 0) ||
           (n > 9 && strcmp(name + n - 9, ".original") == 0) ||
           (strncmp(name, "module", 6) == 0 && n > 4 && strcmp(name + n - 4, ".out") == 0);
}

static void check_symbol_file(const char *path)
{
    size_t len;
    char *text = t_read_file(path, &len);
    struct st_image s;
    st_build_n(&s, text, len);
    st_check_threads_agree(text, len, 65536, NULL);
    free(text);
    /* Malformed lines only where the file is malformed on purpose. */
    if (strstr(path, "_bad.out") == NULL && s.stats.n_warnings != 0)
        T_FAIL("%s: %" PRIu64 " warnings, first on line %" PRIu64 ": %s", path, s.stats.n_warnings,
               s.stats.first_warning_line, s.stats.first_warning);
    struct sym_image_info info;
    sym_image_info(s.img, &info);
    for (size_t i = 0; i < info.counts.funcs; i++) {
        struct sym_func_info f;
        T_ASSERT_OK(sym_image_func_at(s.img, i, &f));
        struct sym_lookup *l = st_lookup(&s, f.start);
        T_ASSERT(sym_slice_eq(l->function, f.name) && l->function_start == f.start);
        l = st_lookup(&s, f.start + f.size - 1);
        T_ASSERT(sym_slice_eq(l->function, f.name));
        struct sym_buf rules;
        sym_buf_init(&rules, 0);
        sym_err rc = sym_image_cfi_rules(s.img, f.start, &rules);
        T_ASSERT(rc == SYM_OK || rc == SYM_ENOTFOUND);
        sym_buf_cleanup(&rules);
    }
    st_free(&s);
    n_sym_files++;
}

static void walk(const char *dir, int depth)
{
    T_ASSERT(depth < 16);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(path, depth + 1);
        else if (is_symbol_file(e->d_name))
            check_symbol_file(path);
    }
    closedir(d);
}

static void test_every_corpus_symbol_file(void)
{
    const char *root = t_corpus_dir();
    if (root == NULL)
        T_SKIP("corpus not present (SIGIL_CORPUS_DIR)");
    walk(root, 0);
    T_ASSERT(n_sym_files >= 40);
    printf("  %zu symbol files parsed\n", n_sym_files);
}

T_LIST(T_TEST(test_breakpad_module1), T_TEST(test_breakpad_bad_modules), T_TEST(test_linux_inline),
       T_TEST(test_app_lf_crlf), T_TEST(test_crash_client_snapshot),
       T_TEST(test_symbolic_files_and_symbols), T_TEST(test_symbolic_functions),
       T_TEST(test_symbolic_functions_with_inlines), T_TEST(test_eliot_cases),
       T_TEST(test_every_corpus_symbol_file))
