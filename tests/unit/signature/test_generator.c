/* SPDX-License-Identifier: MPL-2.0 */
/* test_generator.c: generator behaviour the corpus does not pin down (debug log, reuse of a
 * result, edge inputs), allocation-failure injection, and concurrent use of shared lists. */
#include <pthread.h>
#include <string.h>

#include "signature/generator.h"
#include "signature/json.h"
#include "sym/alloc.h"
#include "t.h"

static struct sig_lists *shipped(void)
{
    struct sig_lists *l = NULL;
    struct sym_diag d;
    if (sig_lists_load(sig_lists_default_dir(), true, &l, &d) != SYM_OK)
        T_FAIL("%s", d.msg);
    return l;
}

/* Generates from JSON text; returns the signature in a static buffer. */
static const char *gen(struct sig_generator *g, struct sig_lists *l, const char *json,
                       struct sig_result *r, unsigned flags)
{
    static char out[1024];
    struct sig_arena a;
    sig_arena_init(&a, 0);
    struct sig_value v;
    struct sig_json_error e;
    T_ASSERT_OK(sig_json_parse(json, strlen(json), &a, &v, &e));
    T_ASSERT_OK(sig_generate(g, l, l, &v, flags, r));
    snprintf(out, sizeof(out), "%s", r->signature.data);
    sig_arena_cleanup(&a);
    return out;
}

static void test_edge_inputs(void)
{
    struct sig_lists *l = shipped();
    struct sig_generator *g;
    T_ASSERT_OK(sig_generator_new(&g));
    struct sig_result r;
    sig_result_init(&r);
    T_ASSERT_STR_EQ(gen(g, l, "[]", &r, 0), "EMPTY: no frame data available");
    T_ASSERT_STR_EQ(
        gen(g, l, "{\"threads\":[{\"frames\":[{\"function\":\"f(int ,char)\"}]}]}", &r, 0), "f");
    T_ASSERT_STR_EQ(
        gen(g, l, "{\"threads\":[{\"frames\":[{\"function\":\"a<b ,c>::f\"}]}]}", &r, 0),
        "a<T>::f");
    T_ASSERT_STR_EQ(
        gen(g, l, "{\"threads\":[{\"frames\":[{\"function\":\"g(x) [clone .cold.1]\"}]}]}", &r, 0),
        "g");
    /* A frame that is not an object makes the generation rule fail, not the process. */
    T_ASSERT_STR_EQ(gen(g, l, "{\"threads\":[{\"frames\":[7]}]}", &r, 0), "");
    T_ASSERT_EQ(r.notes.n, 1);
    size_t n;
    const char *note = sig_strlist_get(&r.notes, 0, &n);
    T_ASSERT(strncmp(note, "SignatureGenerationRule: Rule failed: ", 38) == 0);
    /* Offsets: lowercase, no leading zeros, unparsable ones kept. */
    T_ASSERT_STR_EQ(gen(g, l, "{\"threads\":[{\"frames\":[{\"offset\":\"0x00AB\"}]}]}", &r, 0),
                    "@0xab");
    T_ASSERT_STR_EQ(gen(g, l, "{\"threads\":[{\"frames\":[{\"offset\":\"zz\"}]}]}", &r, 0), "@zz");
    /* Debug log on request only. */
    gen(g, l, "{\"threads\":[{\"frames\":[{\"function\":\"main\"}]}]}", &r, 0);
    T_ASSERT_EQ(r.debug_log.n, 0);
    gen(g, l, "{\"threads\":[{\"frames\":[{\"function\":\"main\"}]}]}", &r, SIG_GEN_DEBUG);
    T_ASSERT(r.debug_log.n >= 3);
    note = sig_strlist_get(&r.debug_log, 0, &n);
    T_ASSERT(n == 45 && memcmp(note, "SignatureGenerationRule: using CSignatureTool", 45) == 0);
    sig_result_cleanup(&r);
    sig_generator_free(g);
    sig_lists_unref(l);
}

static const char *const busy_input =
    "{\"crashing_thread\":1,\"os\":\"Windows NT\",\"threads\":[{\"frames\":[{\"function\":\"A::B("
    "int)\",\"module\":\"XUL.DLL\"}]},{\"last_error_value\":\"x\",\"frames\":[{\"function\":"
    "\"mozilla::`anonymous namespace'::RunWatchdog(void*)\",\"inlines\":[{\"function\":\"i\"}]},"
    "{\"module\":\"[a.dll]\"}]}],\"async_shutdown_timeout\":\"{\\\"phase\\\":\\\"p\\\","
    "\\\"conditions\\\":[\\\"b\\\",{\\\"name\\\":\\\"a\\\"}]}\",\"abort_message\":\"x ###!!! "
    "ABORT: boom: file y\",\"oom_allocation_size\":\"300000\",\"hang\":true,"
    "\"ipc_message_name\":\"M\",\"java_exception\":{}}";

static void test_alloc_failures(void)
{
    struct sig_lists *l = shipped();
    struct sig_arena a;
    sig_arena_init(&a, 0);
    struct sig_value v;
    struct sig_json_error e;
    T_ASSERT_OK(sig_json_parse(busy_input, strlen(busy_input), &a, &v, &e));
    for (unsigned long k = 1; k < 400; k++) {
        struct sig_generator *g = NULL;
        struct sig_result r;
        sig_result_init(&r);
        sym_alloc_fail_at(k);
        sym_err rc = sig_generator_new(&g);
        if (rc == SYM_OK)
            rc = sig_generate(g, l, l, &v, SIG_GEN_DEBUG, &r);
        sym_alloc_fail_at(0);
        T_ASSERT(rc == SYM_OK || rc == SYM_ENOMEM);
        sig_result_cleanup(&r);
        sig_generator_free(g);
    }
    sig_arena_cleanup(&a);
    sig_lists_unref(l);
}

struct worker {
    struct sig_lists *lists;
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct sig_generator *g;
    if (sig_generator_new(&g) != SYM_OK)
        return NULL;
    struct sig_arena a;
    sig_arena_init(&a, 0);
    struct sig_value v;
    struct sig_json_error e;
    struct sig_result r;
    sig_result_init(&r);
    char first[512] = "";
    if (sig_json_parse(busy_input, strlen(busy_input), &a, &v, &e) == SYM_OK) {
        w->ok = 1;
        for (int i = 0; i < 500 && w->ok; i++) {
            if (sig_generate(g, w->lists, w->lists, &v, 0, &r) != SYM_OK)
                w->ok = 0;
            else if (i == 0)
                snprintf(first, sizeof(first), "%s", r.signature.data);
            else if (strcmp(first, r.signature.data) != 0)
                w->ok = 0;
        }
    }
    sig_result_cleanup(&r);
    sig_arena_cleanup(&a);
    sig_generator_free(g);
    return NULL;
}

static void test_threads_share_lists(void)
{
    struct sig_lists *l = shipped();
    struct worker w[2] = {{l, 0}, {l, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        T_ASSERT_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    T_ASSERT(w[0].ok && w[1].ok);
    sig_lists_unref(l);
}

T_LIST(T_TEST(test_edge_inputs), T_TEST(test_alloc_failures), T_TEST(test_threads_share_lists))
