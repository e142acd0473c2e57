/* SPDX-License-Identifier: MPL-2.0 */
/* test_store_s3.c: the storage suite against a real s3rver (started by deploy/dev/s3rver.sh
 * through the CTest fixture, which exports SIGIL_TEST_S3_*), plus S3-only behaviour: public and
 * presigned URLs fetched by a plain client, key prefixes, and what s3rver does with stored
 * encodings. Skipped (77) when no s3rver was started. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/store.h"
#include "storage/store_int.h"
#include "store_suite.h"
#include "t.h"

static const char *env_or_skip(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        const char *why = getenv("SIGIL_TEST_S3_SKIP");
        t_skip("%s", why && why[0] ? why : "no s3rver: SIGIL_TEST_S3_ENDPOINT is not set");
    }
    return v;
}

/* s3rver (3.7.1) answers a PUT once the body has gone through its hashing stream, not once its
 * file stream has written it: FilesystemStore.putObject resolves on the Transform's 'finish',
 * and putMetadata() is awaited but the object file's open and writes are not. A GET right after
 * the PUT then finds no object, or an empty or short one with the new metadata and ETag, more
 * often on a loaded machine. Real S3 reads are consistent right after a PUT. So the stores these
 * tests use wait after each successful put until s3rver reports the full size (its HEAD stats
 * the object file); the bytes a later get returns are still checked in full. */
#define SETTLE_TIMEOUT_MS 15000

static void wait_settled(void *impl, const char *key, uint64_t size)
{
    struct timespec t0, now, pause = {.tv_nsec = 5 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct store_object_info info;
        if (store_s3_ops.head(impl, key, &info, NULL) == SYM_OK && info.size == size)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            SETTLE_TIMEOUT_MS)
            return; /* the test's own checks report what is wrong */
        nanosleep(&pause, NULL);
    }
}

static sym_err settled_put_mem(void *impl, const char *key, const void *data, size_t len,
                               const struct store_put_opts *opts, struct sym_diag *d)
{
    sym_err rc = store_s3_ops.put_mem(impl, key, data, len, opts, d);
    if (rc == SYM_OK)
        wait_settled(impl, key, len);
    return rc;
}

static sym_err settled_put_file(void *impl, const char *key, const char *path,
                                const struct store_put_opts *opts, struct sym_diag *d)
{
    struct stat st;
    sym_err rc = store_s3_ops.put_file(impl, key, path, opts, d);
    if (rc == SYM_OK && stat(path, &st) == 0)
        wait_settled(impl, key, (uint64_t)st.st_size);
    return rc;
}

/* The S3 operations with settled puts; filled in by open_s3(), on the main thread. */
static struct store_ops settled_ops;

/* Opens the bucket under a key prefix of its own, so tests and runs never see each other's
 * objects. public_url may be NULL. */
static void open_s3(struct store *out, const char *endpoint, const char *public_url,
                    uint32_t timeout_ms, uint32_t retries)
{
    static unsigned seq;
    char url[1024];
    const char *bucket = env_or_skip("SIGIL_TEST_S3_BUCKET");
    snprintf(url, sizeof(url), "s3://%s/run-%ld-%d/t%u?endpoint=%s&region=%s", bucket,
             (long)time(NULL), (int)getpid(), seq++, endpoint, env_or_skip("SIGIL_TEST_S3_REGION"));
    struct store_config cfg = {
        .url = url,
        .access_key = env_or_skip("SIGIL_TEST_S3_ACCESS_KEY"),
        .secret_key = env_or_skip("SIGIL_TEST_S3_SECRET_KEY"),
        .public_url = public_url,
        .timeout_ms = timeout_ms,
        .connect_timeout_ms = timeout_ms,
        .retries = retries,
    };
    struct sym_diag d = {0};
    sym_err rc = store_open(&cfg, out, &d);
    if (rc != SYM_OK)
        T_FAIL("store_open: %s: %s", sym_errname(rc), d.msg);
    T_ASSERT(out->ops == &store_s3_ops);
    if (settled_ops.name == NULL) {
        settled_ops = store_s3_ops;
        settled_ops.put_mem = settled_put_mem;
        settled_ops.put_file = settled_put_file;
    }
    out->ops = &settled_ops;
}

static void s3_open(struct store *out)
{
    open_s3(out, env_or_skip("SIGIL_TEST_S3_ENDPOINT"), NULL, 20000, 2);
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    T_ASSERT(fd >= 0);
    T_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    T_ASSERT(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void s3_open_dead(struct store *out)
{
    char endpoint[64];
    env_or_skip("SIGIL_TEST_S3_ENDPOINT");
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", closed_port());
    open_s3(out, endpoint, NULL, 500, 1);
}

const struct suite_backend suite_backend = {
    .name = "s3",
    .open = s3_open,
    .open_dead = s3_open_dead,
    .cleanup = NULL,
    .atomic_overwrite = false,
    .has_urls = true,
};

/* Public URLs: the bucket's own address here, as a CDN or public bucket would be. */
static void test_s3_public_url(void)
{
    char pub[600];
    struct store s;
    struct sym_buf url;
    snprintf(pub, sizeof(pub), "%s/%s/", env_or_skip("SIGIL_TEST_S3_ENDPOINT"),
             env_or_skip("SIGIL_TEST_S3_BUCKET"));
    open_s3(&s, env_or_skip("SIGIL_TEST_S3_ENDPOINT"), pub, 20000, 0);
    struct store_put_opts opts = {.content_type = "text/plain", .content_encoding = "gzip"};
    const char *key = "v1/a b+c.pdb/ID/\xc3\xa9.sym";
    T_ASSERT_OK(s.ops->put_mem(s.impl, key, "payload", 7, &opts, NULL));
    sym_buf_init(&url, 0);
    T_ASSERT_OK(s.ops->url(s.impl, key, &url));
    /* public URL (trailing '/' dropped) + '/' + the percent-encoded prefixed key, no query. */
    T_ASSERT(strncmp(url.data, pub, strlen(pub)) == 0);
    T_ASSERT(strstr(url.data, "/v1/a%20b%2Bc.pdb/ID/%C3%A9.sym") != NULL);
    T_ASSERT(strchr(url.data, '?') == NULL);
    T_ASSERT(strstr(url.data, "//v1") == NULL);
    struct mem_sink m = {.cap = 100};
    char ce[32];
    T_ASSERT_EQ(http_fetch(url.data, &m, ce, sizeof(ce)), 200);
    T_ASSERT_STR_EQ(ce, "gzip");
    T_ASSERT_EQ(m.len, 7);
    mem_sink_free(&m);
    sym_buf_cleanup(&url);
    store_close(&s);
}

/* Presigned URLs carry every SigV4 query parameter and expire as configured. */
static void test_s3_presigned_url(void)
{
    struct store s;
    struct sym_buf url;
    s3_open(&s);
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/p.pdb/ID/p.sym", "signed", 6, NULL, NULL));
    sym_buf_init(&url, 0);
    T_ASSERT_OK(s.ops->url(s.impl, "v1/p.pdb/ID/p.sym", &url));
    static const char *const params[] = {"?X-Amz-Algorithm=AWS4-HMAC-SHA256&",
                                         "&X-Amz-Credential=S3RVER%2F",
                                         "%2Fs3%2Faws4_request&",
                                         "&X-Amz-Date=",
                                         "&X-Amz-Expires=3600&",
                                         "&X-Amz-SignedHeaders=host&",
                                         "&X-Amz-Signature="};
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
        if (strstr(url.data, params[i]) == NULL)
            T_FAIL("presigned URL lacks %s", params[i]);
    struct mem_sink m = {.cap = 100};
    char ce[32];
    T_ASSERT_EQ(http_fetch(url.data, &m, ce, sizeof(ce)), 200);
    T_ASSERT_EQ(m.len, 6);
    T_ASSERT_MEM_EQ(m.data, "signed", 6);
    mem_sink_free(&m);
    /* The server checks the expiry: one that ended long ago is refused. */
    char *expired = strdup(url.data);
    char *date = strstr(expired, "X-Amz-Date=");
    T_ASSERT(date != NULL);
    memcpy(date + 11, "2001", 4);
    m = (struct mem_sink){.cap = 4096};
    T_ASSERT_EQ(http_fetch(expired, &m, ce, sizeof(ce)), 403);
    mem_sink_free(&m);
    free(expired);
    sym_buf_cleanup(&url);
    store_close(&s);
}

/* Two stores on one bucket with different prefixes do not see each other's objects. */
static void test_s3_prefixes_isolate(void)
{
    struct store a, b;
    struct store_object_info info;
    s3_open(&a);
    s3_open(&b);
    T_ASSERT_OK(a.ops->put_mem(a.impl, "v1/x.pdb/ID/x.sym", "a", 1, NULL, NULL));
    T_ASSERT_ERR(b.ops->head(b.impl, "v1/x.pdb/ID/x.sym", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_OK(a.ops->head(a.impl, "v1/x.pdb/ID/x.sym", &info, NULL));
    store_close(&a);
    store_close(&b);
}

static void test_s3_missing_bucket(void)
{
    char url[600];
    struct store s;
    struct sym_diag d = {0};
    snprintf(url, sizeof(url), "s3://no-such-bucket-here?endpoint=%s",
             env_or_skip("SIGIL_TEST_S3_ENDPOINT"));
    struct store_config cfg = {.url = url, .access_key = "S3RVER", .secret_key = "S3RVER"};
    T_ASSERT_OK(store_open(&cfg, &s, &d));
    T_ASSERT_ERR(s.ops->ping(s.impl, &d), SYM_EUNAVAIL);
    T_ASSERT(strstr(d.msg, "bucket does not exist") != NULL);
    struct mem_sink m = {.cap = 10};
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a.pdb/ID/a.sym", mem_sink, &m, NULL, &d), SYM_EUNAVAIL);
    int fd;
    T_ASSERT_ERR(store_fs_open_read(&s, "v1/a.pdb/ID/a.sym", &fd, NULL, NULL), SYM_EINVAL);
    store_close(&s);
}

T_LIST(STORE_SUITE_TESTS, T_TEST(test_s3_public_url), T_TEST(test_s3_presigned_url),
       T_TEST(test_s3_prefixes_isolate), T_TEST(test_s3_missing_bucket))
