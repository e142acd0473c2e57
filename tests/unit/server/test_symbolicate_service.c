/* SPDX-License-Identifier: MPL-2.0 */
/* test_symbolicate_service.c: the symbolication service without HTTP: a call's steps (parse,
 * run, fetch, run), one fetch and one parse for many concurrent calls (single flight), the
 * symcache store surviving a reopen, remembered misses, and the v5/v4 bodies it writes (parsed
 * back with jansson). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "symbolicate/service.h"
#include "t.h"

#define ID  "0123456789ABCDEF0123456789ABCDEF0"
#define ID2 "FEDCBA9876543210FEDCBA98765432100"

static const char app_sym[] = "MODULE Linux x86_64 " ID " app\n"
                              "INFO CODE_ID 0011223344 app.dll\n"
                              "FILE 0 /src/main.c\n"
                              "FILE 1 /src/inl.h\n"
                              "INLINE_ORIGIN 0 outer_inline\n"
                              "INLINE_ORIGIN 1 inner_inline\n"
                              "FUNC 1000 100 0 main\n"
                              "INLINE 0 20 0 0 1010 40\n"
                              "INLINE 1 5 1 1 1020 10\n"
                              "1000 10 7 0\n"
                              "1010 10 21 0\n"
                              "1020 10 30 1\n"
                              "1030 d0 8 0\n"
                              "PUBLIC 4000 0 exported\n";

struct env {
    char dir[4096];
    struct store store;
    struct srv_metrics *metrics;
    struct srv_log log;
    struct srv_symbolicator *svc;
};

static void put_sym(struct env *e, const char *file, const char *id, const char *name,
                    const char *text)
{
    struct sym_buf key;
    sym_buf_init(&key, 0);
    T_ASSERT_OK(store_key_build(&key, false, file, id, name));
    T_ASSERT_OK(e->store.ops->put_mem(e->store.impl, key.data, text, strlen(text), NULL, NULL));
    sym_buf_cleanup(&key);
}

static void open_service(struct env *e)
{
    char cache[4200];
    snprintf(cache, sizeof(cache), "%s/cache", e->dir);
    struct srv_symb_config cfg = {
        .cache_dir = cache,
        .cache_max_bytes = 64u << 20,
        .cache_no_sync = true,
        .negative_ttl_s = 600,
        .error_ttl_s = 0,
        .threads = 2,
        .store = &e->store,
        .upstream_urls = "",
        .max_sym_bytes = 1 << 20,
        .limits = {1000, 100, 100},
        .loop_max_frames = 100,
    };
    struct sym_diag d;
    sym_err rc = srv_symbolicator_open(&cfg, e->metrics, &e->log, &e->svc, &d);
    if (rc != SYM_OK)
        T_FAIL("open: %s", d.msg);
}

static void env_open(struct env *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "%s", t_tmpdir());
    char url[4200];
    snprintf(url, sizeof(url), "file://%s/store", e->dir);
    struct store_config sc = {.url = url};
    T_ASSERT_OK(store_open(&sc, &e->store, NULL));
    e->metrics = srv_metrics_new();
    T_ASSERT(e->metrics != NULL);
    srv_log_init(&e->log, "error");
    put_sym(e, "app", ID, "app.sym", app_sym);
    open_service(e);
}

static void env_close(struct env *e)
{
    srv_symbolicator_close(e->svc);
    srv_metrics_free(e->metrics);
    store_close(&e->store);
}

static double metric(struct env *e, const char *name, const char *labels)
{
    double v = 0;
    if (srv_metrics_value(e->metrics, name, labels, &v) != SYM_OK)
        return 0;
    return v;
}

/* Waiting for notify, as the HTTP handler's loop would. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fired;
};

static void on_notify(void *ctx)
{
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->fired++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Drives a call to its body; returns the parsed JSON. fetched counts the fetch rounds. */
static json_t *drive(struct env *e, enum srv_symb_version v, bool debug, const char *body,
                     int *fetched)
{
    struct srv_symb_call *c;
    T_ASSERT_OK(srv_symb_call_new(e->svc, v, debug, &c));
    if (srv_symb_call_parse(c, body, strlen(body)) != SYM_OK)
        T_FAIL("parse: %s", srv_symb_call_error(c)->title);
    enum srv_symb_step step;
    int rounds = 0;
    for (;;) {
        T_ASSERT_OK(srv_symb_call_run(c, &step));
        if (step == SRV_SYMB_DONE)
            break;
        struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
        srv_symb_call_fetch(c, on_notify, &w);
        pthread_mutex_lock(&w.mu);
        while (w.fired == 0)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        T_ASSERT_EQ(w.fired, 1);
        rounds++;
    }
    if (fetched)
        *fetched = rounds;
    size_t len;
    const char *text = srv_symb_call_body(c, &len);
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (doc == NULL)
        T_FAIL("body is not JSON (%s): %.*s", err.text, (int)len, text);
    srv_symb_call_free(c);
    return doc;
}

static const char *frame_str(json_t *doc, size_t job, size_t stack, size_t frame, const char *key)
{
    json_t *f = json_array_get(
        json_array_get(
            json_object_get(json_array_get(json_object_get(doc, "results"), job), "stacks"), stack),
        frame);
    return json_string_value(json_object_get(f, key));
}

static void test_call_steps_and_frames(void)
{
    struct env e;
    env_open(&e);
    const char *body =
        "{\"jobs\": [{\"memoryMap\": [[\"app\", \"" ID "\"], [\"gone\", \"" ID2
        "\"], [\"app\", \"" ID "\"], [\"x\", \"\"]], \"stacks\": [[[0, 4135], "
        "[0, 4096], [0, 16400], [1, 1], [0, -1], [-1, 7], [3, 9]]]}, "
        "{\"memoryMap\": [[\"gone\", \"" ID2 "\"], [\"new\", \"" ID "\"]], \"stacks\": [[]]}]}";
    int fetched;
    json_t *doc = drive(&e, SRV_SYMB_V5, true, body, &fetched);
    T_ASSERT_EQ(fetched, 1);
    /* Nested inlines: innermost first; the outer frame takes the outermost call site. */
    json_t *f0 = json_array_get(
        json_array_get(
            json_object_get(json_array_get(json_object_get(doc, "results"), 0), "stacks"), 0),
        0);
    char *s = json_dumps(f0, JSON_COMPACT | JSON_SORT_KEYS);
    T_ASSERT_STR_EQ(
        s, "{\"file\":\"/src/main.c\",\"frame\":0,\"function\":\"main\",\"function_offset\":"
           "\"0x27\",\"function_size\":\"0x100\",\"inlines\":[{\"file\":\"/src/inl.h\","
           "\"function\":\"inner_inline\",\"line\":30},{\"file\":\"/src/inl.h\",\"function\":"
           "\"outer_inline\",\"line\":5}],\"line\":20,\"module\":\"app.dll\",\"module_offset\":"
           "\"0x1027\"}");
    free(s);
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 1, "function_offset"), "0x0");
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 2, "function"), "exported");
    T_ASSERT(frame_str(doc, 0, 0, 2, "function_size") == NULL);
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 3, "module"), "gone");
    T_ASSERT(frame_str(doc, 0, 0, 3, "function") == NULL);
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 4, "module_offset"), "-0x1");
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 4, "module"), "app.dll");
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 5, "module"), "<unknown>");
    T_ASSERT_STR_EQ(frame_str(doc, 0, 0, 6, "module"), "x");
    /* found_modules: one key per pair; the second job reports a pair only the first one used. */
    json_t *results = json_object_get(doc, "results");
    s = json_dumps(json_object_get(json_array_get(results, 0), "found_modules"), JSON_COMPACT);
    T_ASSERT_STR_EQ(s, "{\"app/" ID "\":true,\"gone/" ID2 "\":false,\"x/\":null}");
    free(s);
    s = json_dumps(json_object_get(json_array_get(results, 1), "found_modules"), JSON_COMPACT);
    T_ASSERT_STR_EQ(s, "{\"gone/" ID2 "\":false,\"new/" ID "\":null}");
    free(s);
    /* Debug statistics: 2 lookups, both missed; one download per module. */
    json_t *dbg = json_object_get(doc, "debug");
    T_ASSERT_EQ(json_integer_value(json_object_get(json_object_get(dbg, "cache_lookups"), "count")),
                2);
    T_ASSERT_EQ(json_integer_value(json_object_get(json_object_get(dbg, "cache_lookups"), "hits")),
                0);
    json_t *dl = json_object_get(dbg, "downloads");
    T_ASSERT_EQ(json_integer_value(json_object_get(dl, "count")), 2);
    T_ASSERT_EQ(json_integer_value(json_object_get(dl, "size")), (long long)strlen(app_sym));
    T_ASSERT(json_object_get(json_object_get(dl, "fail_time_per_module"), "gone/" ID2) != NULL);
    T_ASSERT_EQ(json_integer_value(json_object_get(json_object_get(dbg, "modules"), "count")), 3);
    json_t *spm = json_object_get(json_object_get(dbg, "modules"), "stacks_per_module");
    T_ASSERT_EQ(json_integer_value(json_object_get(spm, "gone/" ID2)), 2);
    json_decref(doc);

    /* Warm: no fetch round, everything from the cache (found and negative). */
    doc = drive(&e, SRV_SYMB_V5, true, body, &fetched);
    T_ASSERT_EQ(fetched, 0);
    dbg = json_object_get(doc, "debug");
    T_ASSERT_EQ(json_integer_value(json_object_get(json_object_get(dbg, "cache_lookups"), "hits")),
                2);
    T_ASSERT_EQ(json_integer_value(json_object_get(json_object_get(dbg, "downloads"), "count")), 0);
    json_decref(doc);
    T_ASSERT(metric(&e, "sigil_symbolicate_cache_total", "result=\"hit\"") == 1);
    T_ASSERT(metric(&e, "sigil_symbolicate_cache_total", "result=\"negative\"") == 1);

    /* v4 on the same modules. */
    doc = drive(&e, SRV_SYMB_V4, false,
                "{\"memoryMap\": [[\"app\", \"" ID "\"], [\"gone\", \"" ID2
                "\"], [\"y\", \"AB\"]], \"stacks\": [[[0, 4135], [1, 16], [-1, 2]]]}",
                NULL);
    s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    T_ASSERT_STR_EQ(s, "{\"knownModules\":[true,false,null],\"symbolicatedStacks\":[[\"main (in "
                       "app.dll)\",\"0x10 (in gone)\",\"0x2 (in <unknown>)\"]]}");
    free(s);
    json_decref(doc);
    env_close(&e);
}

struct racer {
    struct env *e;
    const char *body;
    json_t *doc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    r->doc = drive(r->e, SRV_SYMB_V5, false, r->body, NULL);
    return NULL;
}

static void test_single_flight(void)
{
    struct env e;
    env_open(&e);
    enum { N = 12 };
    struct racer r[N];
    pthread_t th[N];
    const char *body = "{\"memoryMap\": [[\"app\", \"" ID "\"], [\"gone\", \"" ID2 "\"]], "
                       "\"stacks\": [[[0, 4096], [1, 5]]]}";
    for (int i = 0; i < N; i++) {
        r[i] = (struct racer){&e, body, NULL};
        T_ASSERT_EQ(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        T_ASSERT(r[i].doc != NULL);
        if (!json_equal(r[i].doc, r[0].doc))
            T_FAIL("call %d answered differently", i);
    }
    for (int i = 0; i < N; i++)
        json_decref(r[i].doc);
    /* Each module was fetched once, however the calls interleaved. */
    T_ASSERT(metric(&e, "sigil_symbolicate_parses_total", "") == 1);
    T_ASSERT(metric(&e, "sigil_symbolicate_fetches_total", "result=\"found\"") == 1);
    T_ASSERT(metric(&e, "sigil_symbolicate_fetches_total", "result=\"notfound\"") == 1);
    env_close(&e);
}

static void test_cache_survives_reopen(void)
{
    struct env e;
    env_open(&e);
    const char *body = "{\"memoryMap\": [[\"app\", \"" ID "\"]], \"stacks\": [[[0, 4096]]]}";
    json_t *first = drive(&e, SRV_SYMB_V5, false, body, NULL);
    srv_symbolicator_close(e.svc);
    /* The store loses the file: only the symcache store can answer now. */
    struct sym_buf key;
    sym_buf_init(&key, 0);
    T_ASSERT_OK(store_key_build(&key, false, "app", ID, "app.sym"));
    T_ASSERT_OK(e.store.ops->del(e.store.impl, key.data, NULL));
    sym_buf_cleanup(&key);
    srv_metrics_free(e.metrics);
    e.metrics = srv_metrics_new();
    open_service(&e);
    int fetched;
    json_t *again = drive(&e, SRV_SYMB_V5, false, body, &fetched);
    T_ASSERT_EQ(fetched, 0);
    T_ASSERT(json_equal(first, again));
    json_decref(first);
    json_decref(again);
    env_close(&e);
}

static void test_limits_and_errors(void)
{
    struct env e;
    env_open(&e);
    struct srv_symb_call *c;
    T_ASSERT_OK(srv_symb_call_new(e.svc, SRV_SYMB_V5, false, &c));
    const char *body = "{\"stacks\": [[[0, 1]]], \"memoryMap\": [[\"a\", \"(\"]]}";
    T_ASSERT_ERR(srv_symb_call_parse(c, body, strlen(body)), SYM_EPARSE);
    T_ASSERT_EQ(srv_symb_call_error(c)->status, 400);
    T_ASSERT_STR_EQ(srv_symb_call_error(c)->title,
                    "job 0 has invalid modules: module index 0 has an invalid debug_id");
    srv_symb_call_free(c);
    T_ASSERT_OK(srv_symb_call_new(e.svc, SRV_SYMB_V5, false, &c));
    T_ASSERT(srv_symb_call_cache_state(c) == NULL);
    body = "{\"stacks\": [[]], \"memoryMap\": [[\"a\", \"B\"]]}";
    T_ASSERT_OK(srv_symb_call_parse(c, body, strlen(body)));
    T_ASSERT(srv_symb_call_run_on_loop(c));
    enum srv_symb_step step;
    T_ASSERT_OK(srv_symb_call_run(c, &step));
    T_ASSERT_EQ(step, SRV_SYMB_DONE); /* nothing referenced: nothing looked up */
    T_ASSERT(srv_symb_call_cache_state(c) == NULL);
    srv_symb_call_free(c);
    T_ASSERT_EQ(srv_symbolicator_limits(e.svc)->max_frames, 1000);
    env_close(&e);
}

T_LIST(T_TEST(test_call_steps_and_frames), T_TEST(test_single_flight),
       T_TEST(test_cache_survives_reopen), T_TEST(test_limits_and_errors))
