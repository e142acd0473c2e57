/* SPDX-License-Identifier: MPL-2.0 */
/* test_core.c: the server's building blocks without a network: the settings table, path
 * splitting and the symbol-path rules, route matching, the TTL cache, metrics rendering and the
 * blocking job pool. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http/pathutil.h"
#include "http/router.h"
#include "jobs.h"
#include "metrics.h"
#include "t.h"
#include "ttlcache.h"

static void test_config_defaults_env_and_flags(void)
{
    /* The storage default is asserted below: a shell that sourced a dev setup's sigil.env must
     * not decide it. */
    unsetenv("SIGIL_STORAGE_URL");
    setenv("SIGIL_LISTEN", "127.0.0.1:9001", 1);
    setenv("SIGIL_WORKERS", "3", 1);
    char *argv[] = {"serve", "--workers=5", "--access-log", "pos1", "--unknown-flag", NULL};
    struct srv_config cfg;
    const char **pos;
    int n_pos;
    FILE *err = tmpfile();
    T_ASSERT_OK(srv_config_load(&cfg, SRV_CFG_SERVE | SRV_CFG_DB | SRV_CFG_STORAGE, 5, argv, &pos,
                                &n_pos, err));
    T_ASSERT_STR_EQ(cfg.listen_host, "127.0.0.1");
    T_ASSERT_EQ(cfg.listen_port, 9001);
    T_ASSERT_EQ(cfg.workers, 5); /* the flag wins over the environment */
    T_ASSERT(cfg.access_log);
    T_ASSERT_STR_EQ(cfg.storage_url, "file:///var/lib/sigil/storage");
    T_ASSERT_EQ(n_pos, 2);
    T_ASSERT_STR_EQ(pos[0], "pos1");
    T_ASSERT_STR_EQ(pos[1], "--unknown-flag");
    free(pos);
    srv_config_free(&cfg);
    unsetenv("SIGIL_LISTEN");
    unsetenv("SIGIL_WORKERS");
    fclose(err);
}

static void expect_bad(const char *flag, const char *name)
{
    char *argv[] = {"serve", (char *)flag, NULL};
    struct srv_config cfg;
    FILE *err = tmpfile();
    T_ASSERT_ERR(srv_config_load(&cfg, SRV_CFG_SERVE | SRV_CFG_DB | SRV_CFG_STORAGE, 2, argv, NULL,
                                 NULL, err),
                 SYM_EINVAL);
    char line[512] = "";
    rewind(err);
    T_ASSERT(fgets(line, sizeof(line), err) != NULL);
    if (strstr(line, name) == NULL)
        T_FAIL("message '%s' does not name %s", line, name);
    srv_config_free(&cfg);
    fclose(err);
}

static void test_config_errors_name_the_setting(void)
{
    expect_bad("--listen=nohostport", "listen");
    expect_bad("--listen=[::1]", "listen");
    expect_bad("--listen=1.2.3.4:70000", "listen");
    expect_bad("--workers=-1", "workers");
    expect_bad("--db-pool-size=0", "db-pool-size");
    expect_bad("--storage-url=s3://?endpoint=x", "storage-url");
    expect_bad("--storage-url=file:relative", "storage-url");
    expect_bad("--log-level=loud", "log-level");
    expect_bad("--access-log=perhaps", "access-log");
    expect_bad("--symbol-urls=ftp://x", "symbol-urls");
}

static void test_percent_decoding(void)
{
    char out[64];
    T_ASSERT_EQ(srv_percent_decode("c%2B%2Bfilt", 11, out), 7);
    T_ASSERT_STR_EQ(out, "c++filt");
    T_ASSERT_EQ(srv_percent_decode("a%2", 3, out), -1);
    T_ASSERT_EQ(srv_percent_decode("a%zz", 4, out), -1);
    T_ASSERT_EQ(srv_percent_decode("a%00b", 5, out), -1);
    T_ASSERT_EQ(srv_percent_decode("a%2Fb", 5, out), -1);
    T_ASSERT_EQ(srv_percent_decode("", 0, out), 0);
}

static void test_component_rules(void)
{
    T_ASSERT(srv_component_valid("xul.pdb", 7));
    T_ASSERT(srv_component_valid("Font Awesome.otf", 16));
    T_ASSERT(srv_component_valid("\xe6\xbc\xa2.sym", 7)); /* CJK allowed */
    T_ASSERT(srv_component_valid("a\x7f", 2));            /* DEL allowed */
    T_ASSERT(!srv_component_valid("x\xc3\xbcl.pdb", 7));  /* U+00FC refused */
    T_ASSERT(!srv_component_valid("p%eter", 6));
    T_ASSERT(!srv_component_valid("xul#.ex_", 8));
    T_ASSERT(!srv_component_valid("a\x01", 2));
    T_ASSERT(!srv_component_valid("\xff", 1)); /* invalid UTF-8 */
    T_ASSERT(!srv_component_valid("", 0));
    T_ASSERT(srv_hex_valid("AbC019", 6));
    T_ASSERT(!srv_hex_valid("XYZ", 3));
    T_ASSERT(!srv_hex_valid("", 0));
}

static void test_percent_encoding(void)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    h2o_iovec_t v = srv_percent_encode_path(&pool, "v1/c++filt/AB/a b.sym", 21);
    T_ASSERT_STR_EQ(v.base, "v1/c%2B%2Bfilt/AB/a%20b.sym");
    h2o_iovec_t q;
    T_ASSERT(srv_query_get(&pool, h2o_iovec_init(H2O_STRLIT("try&code_file=a+b%21&x=1")),
                           "code_file", &q));
    T_ASSERT_STR_EQ(q.base, "a b!");
    T_ASSERT(!srv_query_get(&pool, h2o_iovec_init(H2O_STRLIT("try")), "code_id", &q));
    h2o_mem_clear_pool(&pool);
}

static void test_route_matching(void)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    struct srv_route_match m;
    srv_router_match(&pool, "GET", 3, H2O_STRLIT("/xul.pdb/ABC/xul.sym"), &m);
    T_ASSERT(m.route != NULL);
    T_ASSERT_STR_EQ(m.route->name, "download");
    T_ASSERT_EQ(m.status, 0);
    T_ASSERT_EQ(m.n_params, 3);
    T_ASSERT_STR_EQ(m.params[1], "ABC");
    srv_router_match(&pool, "GET", 3, H2O_STRLIT("/try/c%2B%2Bfilt/ABC/c%2B%2Bfilt.sym"), &m);
    T_ASSERT_STR_EQ(m.route->name, "download_try");
    T_ASSERT_STR_EQ(m.params[0], "c++filt");
    srv_router_match(&pool, "PUT", 3, H2O_STRLIT("/xul.pdb/ABC/xul.sym"), &m);
    T_ASSERT_EQ(m.status, 405);
    srv_router_match(&pool, "GET", 3, H2O_STRLIT("/__lbheartbeat__"), &m);
    T_ASSERT_STR_EQ(m.route->name, "lbheartbeat");
    srv_router_match(&pool, "GET", 3, H2O_STRLIT("/a//b"), &m);
    T_ASSERT(m.route == NULL);
    T_ASSERT_EQ(m.status, 404);
    srv_router_match(&pool, "GET", 3, H2O_STRLIT("/a%zz/b/c"), &m);
    T_ASSERT_EQ(m.status, 404);
    char long_path[5000];
    memset(long_path, 'a', sizeof(long_path));
    long_path[0] = '/';
    srv_router_match(&pool, "GET", 3, long_path, sizeof(long_path), &m);
    T_ASSERT_EQ(m.status, 414);
    h2o_mem_clear_pool(&pool);
}

static void test_ttlcache(void)
{
    struct srv_ttlcache *c = srv_ttlcache_new(128);
    T_ASSERT(c != NULL);
    char v[64];
    size_t len;
    T_ASSERT_EQ(srv_ttlcache_get(c, "a", 1, 100, v, sizeof(v), &len), SRV_TTL_MISS);
    srv_ttlcache_put(c, "a", 1, "/loc", 4, false, 200);
    T_ASSERT_EQ(srv_ttlcache_get(c, "a", 1, 100, v, sizeof(v), &len), SRV_TTL_HIT);
    T_ASSERT_STR_EQ(v, "/loc");
    T_ASSERT_EQ(srv_ttlcache_get(c, "a", 1, 200, v, sizeof(v), &len), SRV_TTL_MISS); /* expired */
    srv_ttlcache_put(c, "b", 1, NULL, 0, true, 1000);
    T_ASSERT_EQ(srv_ttlcache_get(c, "b", 1, 100, v, sizeof(v), &len), SRV_TTL_NEGATIVE);
    srv_ttlcache_del(c, "b", 1);
    T_ASSERT_EQ(srv_ttlcache_get(c, "b", 1, 100, v, sizeof(v), &len), SRV_TTL_MISS);
    /* Bounded: thousands of puts keep at most the configured number. */
    for (int i = 0; i < 5000; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "k%d", i);
        srv_ttlcache_put(c, k, (size_t)n, "x", 1, false, 1000);
    }
    T_ASSERT(srv_ttlcache_size(c) <= 128 + 64);
    T_ASSERT(srv_ttlcache_size(c) > 64);
    /* A value that does not fit the caller's buffer is a miss, not a truncation. */
    srv_ttlcache_put(c, "long", 4, "0123456789", 10, false, 1000);
    T_ASSERT_EQ(srv_ttlcache_get(c, "long", 4, 1, v, 5, &len), SRV_TTL_MISS);
    srv_ttlcache_free(c);
    struct srv_ttlcache *off = srv_ttlcache_new(0);
    srv_ttlcache_put(off, "a", 1, "x", 1, false, 1000);
    T_ASSERT_EQ(srv_ttlcache_get(off, "a", 1, 1, v, sizeof(v), &len), SRV_TTL_MISS);
    srv_ttlcache_free(off);
}

static void test_metrics_render(void)
{
    struct srv_metrics *m = srv_metrics_new();
    struct srv_counter *c = srv_metrics_counter(m, "x_total", "Things", "route=\"a\"");
    T_ASSERT(c == srv_metrics_counter(m, "x_total", "Things", "route=\"a\""));
    srv_counter_add(c, 3);
    struct srv_histogram *h = srv_metrics_histogram(m, "lat_seconds", "Latency", "");
    srv_histogram_observe_us(h, 300);
    srv_histogram_observe_us(h, 2000000);
    T_ASSERT(srv_metrics_gauge(m, "x_total", "wrong type", "") == NULL);
    static const uint64_t bounds[] = {10, 100};
    struct srv_histogram *sizes =
        srv_metrics_histogram_bounds(m, "frames", "Frames", "", bounds, 2);
    srv_histogram_observe(sizes, 7);
    srv_histogram_observe(sizes, 50);
    srv_histogram_observe(sizes, 5000);
    struct sym_buf out;
    sym_buf_init(&out, 0);
    T_ASSERT_OK(srv_metrics_render(m, &out));
    T_ASSERT(strstr(out.data, "# TYPE x_total counter\n") != NULL);
    T_ASSERT(strstr(out.data, "x_total{route=\"a\"} 3\n") != NULL);
    T_ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"0.0005\"} 1\n") != NULL);
    T_ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"+Inf\"} 2\n") != NULL);
    T_ASSERT(strstr(out.data, "lat_seconds_count 2\n") != NULL);
    T_ASSERT(strstr(out.data, "frames_bucket{le=\"10\"} 1\n") != NULL);
    T_ASSERT(strstr(out.data, "frames_bucket{le=\"100\"} 2\n") != NULL);
    T_ASSERT(strstr(out.data, "frames_bucket{le=\"+Inf\"} 3\n") != NULL);
    T_ASSERT(strstr(out.data, "frames_sum 5057.000000\n") != NULL);
    double v;
    T_ASSERT_OK(srv_metrics_value(m, "x_total", "route=\"a\"", &v));
    T_ASSERT_EQ((long)v, 3);
    sym_buf_cleanup(&out);
    srv_metrics_free(m);
}

struct count_job {
    struct srv_job job;
    _Atomic int *counter;
};

static void count_work(struct srv_job *job)
{
    struct count_job *cj = (struct count_job *)job;
    atomic_fetch_add(cj->counter, 1);
}

static void count_done(struct srv_job *job)
{
    free(job);
}

static void test_job_pool(void)
{
    _Atomic int counter = 0;
    struct srv_jobs *jobs = srv_jobs_new(3, 0);
    T_ASSERT(jobs != NULL);
    for (int i = 0; i < 1000; i++) {
        struct count_job *cj = calloc(1, sizeof(*cj));
        cj->job.work = count_work;
        cj->job.done = count_done; /* no receiver: runs on the pool thread */
        cj->counter = &counter;
        T_ASSERT_OK(srv_jobs_submit(jobs, &cj->job));
    }
    srv_jobs_free(jobs); /* drains the queue */
    T_ASSERT_EQ(atomic_load(&counter), 1000);

    struct srv_jobs *small = srv_jobs_new(1, 1);
    struct count_job block = {.job = {.work = count_work}, .counter = &counter};
    struct count_job a = block, b = block, c = block;
    /* With one thread and one queue slot, at most two jobs are taken before a refusal. */
    sym_err r1 = srv_jobs_submit(small, &a.job);
    sym_err r2 = srv_jobs_submit(small, &b.job);
    sym_err r3 = srv_jobs_submit(small, &c.job);
    T_ASSERT_OK(r1);
    T_ASSERT(r2 == SYM_OK || r2 == SYM_EUNAVAIL);
    T_ASSERT(r3 == SYM_OK || r3 == SYM_EUNAVAIL);
    srv_jobs_free(small);
}

T_LIST(T_TEST(test_config_defaults_env_and_flags), T_TEST(test_config_errors_name_the_setting),
       T_TEST(test_percent_decoding), T_TEST(test_component_rules), T_TEST(test_percent_encoding),
       T_TEST(test_route_matching), T_TEST(test_ttlcache), T_TEST(test_metrics_render),
       T_TEST(test_job_pool))
