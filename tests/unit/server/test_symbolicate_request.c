/* SPDX-License-Identifier: MPL-2.0 */
/* test_symbolicate_request.c: symbolication request validation (Eliot's checks, order and
 * messages; this server's limits), module grouping, and the module naming helpers. */
#include "t.h"

#include <string.h>

#include "symbolicate/modkey.h"
#include "symbolicate/request.h"

static const struct srv_symb_limits no_limits = {0, 0, 0};

static void expect_error(const char *body, enum srv_symb_version v,
                         const struct srv_symb_limits *lim, int status, const char *title)
{
    struct srv_symb_request r;
    struct srv_symb_error err;
    sym_err rc = srv_symb_request_parse(body, strlen(body), v, lim ? lim : &no_limits, &r, &err);
    if (rc == SYM_OK) {
        srv_symb_request_free(&r);
        T_FAIL("accepted %s", body);
    }
    if (err.status != status || strcmp(err.title, title) != 0)
        T_FAIL("%s: got %d \"%s\", want %d \"%s\"", body, err.status, err.title, status, title);
    T_ASSERT(r.jobs == NULL);
}

static void expect_ok(const char *body, enum srv_symb_version v, struct srv_symb_request *r)
{
    struct srv_symb_error err;
    sym_err rc = srv_symb_request_parse(body, strlen(body), v, &no_limits, r, &err);
    if (rc != SYM_OK)
        T_FAIL("%s rejected: %d %s", body, err.status, err.title);
}

static void test_not_json(void)
{
    const char *bad[] = {"", "{", "{\"jobs\": [}", "[1,]", "{'a': 1}", "nul", "\xff{}", "{} x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error(bad[i], SRV_SYMB_V5, NULL, 400, "Payload is not valid JSON");
        expect_error(bad[i], SRV_SYMB_V4, NULL, 400, "Payload is not valid JSON");
    }
}

static void test_python_json_extensions_are_json(void)
{
    /* json.load accepts these; they then fail the later checks, not the JSON one. */
    expect_error("NaN", SRV_SYMB_V5, NULL, 400, "job 0 is invalid");
    expect_error("\xef\xbb\xbf{}", SRV_SYMB_V5, NULL, 400, "job 0 is invalid: no stacks specified");
    expect_error("{\"stacks\": [[[0, Infinity]]], \"memoryMap\": [[\"a\", \"B\"]]}", SRV_SYMB_V5,
                 NULL, 400,
                 "job 0 has invalid stacks: stack 0 frame 0 has an invalid module_offset");
}

static void test_jobs(void)
{
    expect_error("{}", SRV_SYMB_V5, NULL, 400, "job 0 is invalid: no stacks specified");
    expect_error("{\"modules\": []}", SRV_SYMB_V5, NULL, 400,
                 "job 0 is invalid: no stacks specified");
    expect_error("{\"stacks\": [[]]}", SRV_SYMB_V5, NULL, 400,
                 "job 0 is invalid: no memoryMap specified");
    expect_error("{\"jobs\": [{\"stacks\": [[]], \"memoryMap\": []}, 5]}", SRV_SYMB_V5, NULL, 400,
                 "job 1 is invalid");
    expect_error("{\"jobs\": [{\"stacks\": [[[0, 1]]], \"memoryMap\": [[\"a\", \"B\"]]}, "
                 "{\"modules\": []}]}",
                 SRV_SYMB_V5, NULL, 400, "job 1 is invalid: no stacks specified");
    expect_error("{\"jobs\": [1,2,3,4,5,6,7,8,9,10,11]}", SRV_SYMB_V5, NULL, 400,
                 "please limit number of jobs in a single request to <= 10");
    expect_error("{\"jobs\": {\"a\": 1}}", SRV_SYMB_V5, NULL, 400, "job 0 is invalid");
    expect_error("{\"jobs\": 5}", SRV_SYMB_V5, NULL, 400, "jobs must be a list");
    expect_error("[1]", SRV_SYMB_V5, NULL, 400, "job 0 is invalid");
    /* v4 has no jobs key and no jobs limit: the payload is the job. */
    expect_error("{\"jobs\": []}", SRV_SYMB_V4, NULL, 400, "job 0 is invalid: no stacks specified");

    struct srv_symb_request r;
    expect_ok("{\"jobs\": []}", SRV_SYMB_V5, &r);
    T_ASSERT_EQ(r.n_jobs, 0);
    srv_symb_request_free(&r);
    expect_ok("{\"jobs\": \"\"}", SRV_SYMB_V5, &r);
    T_ASSERT_EQ(r.n_jobs, 0);
    srv_symb_request_free(&r);
}

static void test_modules(void)
{
    const char *pre = "job 0 has invalid modules: ";
    struct {
        const char *mm, *msg;
    } cases[] = {
        {"123", "modules must be a list"},
        {"{}", "modules must be a list"},
        {"[\"ab\"]", "module index 0 does not have a debug_filename and debug_id"},
        {"[[\"ab\"]]", "module index 0 does not have a debug_filename and debug_id"},
        {"[[\"a\", \"B\"], [\"a\", \"B\", \"C\"]]",
         "module index 1 does not have a debug_filename and debug_id"},
        {"[[\"(\", \"ABC\"]]", "module index 0 has an invalid debug_filename"},
        {"[[\"[x.so\", \"ABC\"]]", "module index 0 has an invalid debug_filename"},
        {"[[\"a/b\", \"ABC\"]]", "module index 0 has an invalid debug_filename"},
        {"[[1, \"ABC\"]]", "module index 0 has an invalid debug_filename"},
        {"[[\"a\\u0000b\", \"ABC\"]]", "module index 0 has an invalid debug_filename"},
        {"[[\"x.so\", \"xyz\"]]", "module index 0 has an invalid debug_id"},
        {"[[\"x.so\", \"  abc\"]]", "module index 0 has an invalid debug_id"},
        {"[[\"x.so\", null]]", "module index 0 has an invalid debug_id"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256], want[256];
        snprintf(body, sizeof(body), "{\"stacks\": [[]], \"memoryMap\": %s}", cases[i].mm);
        snprintf(want, sizeof(want), "%s%s", pre, cases[i].msg);
        expect_error(body, SRV_SYMB_V5, NULL, 400, want);
    }
    /* Modules are checked before stacks. */
    expect_error("{\"stacks\": 5, \"memoryMap\": 5}", SRV_SYMB_V5, NULL, 400,
                 "job 0 has invalid modules: modules must be a list");

    struct srv_symb_request r;
    expect_ok("{\"stacks\": [[]], \"memoryMap\": [[\"\", \"\"], [\"<unknown>\", \"000\"], "
              "[\"libstdc++.so.6\", \"ab\"], [\"{e8}.xpi\", \"0\"], [\"Font A-5 ~x@y.otf\", "
              "\"F\"], [\"x.so\\n\", \"AB\\n\"]]}",
              SRV_SYMB_V5, &r);
    T_ASSERT_EQ(r.n_jobs, 1);
    T_ASSERT_EQ(r.jobs[0].n_modules, 6);
    T_ASSERT_EQ(r.jobs[0].modules[0].group, SRV_SYMB_NO_GROUP);
    T_ASSERT_EQ(r.n_groups, 5);
    for (uint32_t g = 0; g < r.n_groups; g++)
        T_ASSERT(!r.groups[g].referenced);
    srv_symb_request_free(&r);
}

static void test_stacks(void)
{
    const char *mm = "[[\"x.so\", \"ABC\"]]";
    struct {
        const char *stacks, *msg;
    } cases[] = {
        {"[]", "no stacks specified"},
        {"\"abc\"", "stacks must be a list of lists"},
        {"{}", "stacks must be a list of lists"},
        {"[\"abc\"]", "stack 0 is not a list"},
        {"[[], 5]", "stack 1 is not a list"},
        {"[[0]]", "stack 0 frame 0 is not a list of two items"},
        {"[[[0, 1, 2]]]", "stack 0 frame 0 is not a list of two items"},
        {"[[[0, 1], {}]]", "stack 0 frame 1 is not a list of two items"},
        {"[[[\"abc\", 0]]]", "stack 0 frame 0 has an invalid module_index"},
        {"[[[1.0, 0]]]", "stack 0 frame 0 has an invalid module_index"},
        {"[[[-2, 0]]]", "stack 0 frame 0 has a module_index that isn't in modules"},
        {"[[[1, 0]]]", "stack 0 frame 0 has a module_index that isn't in modules"},
        {"[[[0, \"abc\"]]]", "stack 0 frame 0 has an invalid module_offset"},
        {"[[[0, -2]]]", "stack 0 frame 0 has an invalid module_offset"},
        {"[[[0, 1.5]]]", "stack 0 frame 0 has an invalid module_offset"},
        {"[[[0, 1]], [[0, 2], [0, null]]]", "stack 1 frame 1 has an invalid module_offset"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256], want[256];
        snprintf(body, sizeof(body), "{\"stacks\": %s, \"memoryMap\": %s}", cases[i].stacks, mm);
        snprintf(want, sizeof(want), "job 0 has invalid stacks: %s", cases[i].msg);
        expect_error(body, SRV_SYMB_V5, NULL, 400, want);
        expect_error(body, SRV_SYMB_V4, NULL, 400, want);
    }
}

static void test_frames_and_groups(void)
{
    struct srv_symb_request r;
    /* Booleans are Python ints; -1 is "no module" and "no offset"; the last duplicate key wins. */
    expect_ok("{\"jobs\": [{\"stacks\": [[], [[0, 4096], [-1, 16], [1, -1], [true, false]]], "
              "\"memoryMap\": [[\"a.so\", \"AB\"], [\"b.pdb\", \"CD\"]]}, "
              "{\"stacks\": 1, \"stacks\": [[[0, 7]]], \"memoryMap\": [[\"b.pdb\", \"CD\"], "
              "[\"a.so\", \"ab\"], [\"c\", \"\"]]}]}",
              SRV_SYMB_V5, &r);
    T_ASSERT_EQ(r.n_jobs, 2);
    T_ASSERT_EQ(r.n_frames, 5);
    const struct srv_symb_job *j0 = &r.jobs[0], *j1 = &r.jobs[1];
    T_ASSERT_EQ(j0->n_stacks, 2);
    T_ASSERT_EQ(j0->stacks[0].n_frames, 0);
    T_ASSERT_EQ(j0->stacks[1].n_frames, 4);
    T_ASSERT_EQ(j0->stacks[1].frames[0].offset, 4096);
    T_ASSERT_EQ(j0->stacks[1].frames[1].module, SRV_SYMB_NO_MODULE);
    T_ASSERT_EQ(j0->stacks[1].frames[2].offset, -1);
    T_ASSERT_EQ(j0->stacks[1].frames[3].module, 1);
    T_ASSERT_EQ(j0->stacks[1].frames[3].offset, 0);
    T_ASSERT_EQ(j1->n_stacks, 1);
    /* Groups are the distinct pairs exactly as sent: "AB" and "ab" differ. */
    T_ASSERT_EQ(r.n_groups, 3);
    T_ASSERT_EQ(j0->modules[1].group, j1->modules[0].group);
    T_ASSERT(j0->modules[0].group != j1->modules[1].group);
    T_ASSERT_EQ(j1->modules[2].group, SRV_SYMB_NO_GROUP);
    T_ASSERT(r.groups[j0->modules[0].group].referenced);
    T_ASSERT(r.groups[j0->modules[1].group].referenced);
    T_ASSERT(!r.groups[j1->modules[1].group].referenced);
    T_ASSERT_STR_EQ(r.groups[j1->modules[1].group].debug_id, "ab");
    srv_symb_request_free(&r);
}

static void test_limits(void)
{
    struct srv_symb_limits lim = {3, 2, 2};
    expect_error("{\"stacks\": [[[0, 1], [0, 2]], [[0, 3], [0, 4]]], \"memoryMap\": [[\"a\", "
                 "\"B\"]]}",
                 SRV_SYMB_V5, &lim, 413,
                 "too many frames: this server accepts at most 3 per request");
    expect_error("{\"stacks\": [[]], \"memoryMap\": [[\"a\", \"B\"], [\"a\", \"C\"], [\"a\", "
                 "\"D\"]]}",
                 SRV_SYMB_V5, &lim, 413,
                 "job 0 has too many modules: 3 (this server accepts at most 2)");
    expect_error("{\"stacks\": [[], [], []], \"memoryMap\": []}", SRV_SYMB_V5, &lim, 413,
                 "job 0 has too many stacks: 3 (this server accepts at most 2)");
    /* Frames count over the whole request. */
    expect_error("{\"jobs\": [{\"stacks\": [[[0, 1], [0, 2]]], \"memoryMap\": [[\"a\", \"B\"]]}, "
                 "{\"stacks\": [[[0, 1], [0, 2]]], \"memoryMap\": [[\"a\", \"B\"]]}]}",
                 SRV_SYMB_V5, &lim, 413,
                 "too many frames: this server accepts at most 3 per request");
    /* A body with far more arrays than the limits allow is refused before its tree is built. */
    struct sym_buf big;
    sym_buf_init(&big, 0);
    sym_buf_append_str(&big, "{\"memoryMap\": [[\"a\", \"B\"]], \"stacks\": [[");
    for (int i = 0; i < 200; i++)
        sym_buf_append_str(&big, i ? ", [0, 1]" : "[0, 1]");
    sym_buf_append_str(&big, "]]}");
    expect_error(big.data, SRV_SYMB_V5, &lim, 413,
                 "too many frames: this server accepts at most 3 per request");
    sym_buf_cleanup(&big);
    /* Deep nesting is not a stack overflow. */
    char deep[20001];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    expect_error(deep, SRV_SYMB_V5, NULL, 400, "Payload is not valid JSON");
}

static void test_debug_ids(void)
{
    struct srv_symb_debug_id a, b;
    char uuid[SRV_SYMB_UUID_BUF];
    T_ASSERT(srv_symb_debug_id_parse("58C99D979ADA4CD795F8740CE23C2E1F2", 33, &a));
    srv_symb_debug_id_format(&a, uuid);
    T_ASSERT_STR_EQ(uuid, "58c99d97-9ada-4cd7-95f8-740ce23c2e1f-2");
    T_ASSERT(srv_symb_debug_id_parse("D48F191186D67E69DF025AD71FB91E1F0", 33, &a));
    srv_symb_debug_id_format(&a, uuid);
    T_ASSERT_STR_EQ(uuid, "d48f1911-86d6-7e69-df02-5ad71fb91e1f");
    T_ASSERT(srv_symb_debug_id_parse("d48f191186d67e69df025ad71fb91e1f00", 34, &b));
    T_ASSERT(srv_symb_debug_id_eq(&a, &b));
    T_ASSERT(srv_symb_debug_id_parse("D48F191186D67E69DF025AD71FB91E1F1", 33, &b));
    T_ASSERT(!srv_symb_debug_id_eq(&a, &b));
    /* PDB 2.0 signature + age. */
    T_ASSERT(srv_symb_debug_id_parse("5F8599C48", 9, &a));
    T_ASSERT(a.pdb20);
    const char *bad[] = {"bad_id",
                         "abcde",
                         "ABCDE",
                         "D48F191186D67E69DF025AD71FB91E1F",
                         "D48F191186D67E69DF025AD71FB91E1F123456789",
                         "12345678",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (srv_symb_debug_id_parse(bad[i], strlen(bad[i]), &a))
            T_FAIL("%s accepted", bad[i]);
}

static void test_names(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    srv_symb_sym_filename(&b, "xul.pdb", 7);
    T_ASSERT_STR_EQ(b.data, "xul.sym");
    sym_buf_reset(&b);
    srv_symb_sym_filename(&b, "libxul.so", 9);
    T_ASSERT_STR_EQ(b.data, "libxul.so.sym");
    sym_buf_reset(&b);
    srv_symb_sym_filename(&b, "XUL.PDB", 7);
    T_ASSERT_STR_EQ(b.data, "XUL.PDB.sym");
    sym_buf_reset(&b);
    srv_symb_module_key(&b, "xul.pdb", 7, "44e4ec8cAB", 10);
    T_ASSERT_STR_EQ(b.data, "xul.pdb/44E4EC8CAB");
    sym_buf_cleanup(&b);
}

T_LIST(T_TEST(test_not_json), T_TEST(test_python_json_extensions_are_json), T_TEST(test_jobs),
       T_TEST(test_modules), T_TEST(test_stacks), T_TEST(test_frames_and_groups),
       T_TEST(test_limits), T_TEST(test_debug_ids), T_TEST(test_names))
