/* SPDX-License-Identifier: MPL-2.0 */
/* test_store_s3_http.c: the S3 backend against a scripted HTTP server written here with plain
 * sockets, for what a real server will not do on demand: 5xx and retries, refused credentials,
 * missing buckets, oversized headers, hanging and cut responses, a dead endpoint. It also
 * captures the requests, to check their headers and to verify libcurl's SigV4 signatures with
 * the independent implementation in sigv4.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "storage/sigv4.h"
#include "storage/store.h"
#include "store_suite.h"
#include "t.h"

/* ------------------------------------------------------------------------------------------ */
/* Scripted server                                                                            */
/* ------------------------------------------------------------------------------------------ */

#define HANG      "<hang>" /* accept, read the request, never answer */
#define MAX_REQS  16
#define HEAD_CAP  (64 * 1024)
#define BODY_KEEP (512 * 1024)

struct request {
    char head[HEAD_CAP];
    char *body; /* first BODY_KEEP bytes */
    size_t body_len;
};

struct mock {
    int fd, port;
    pthread_t thread;
    int stop;                  /* atomic */
    const char *const *script; /* responses in order; the last one repeats */
    size_t n_script;
    struct request reqs[MAX_REQS];
    int n_reqs; /* atomic: requests[0..n_reqs) are complete */
};

static bool wait_readable(struct mock *m, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED)) {
        int r = poll(&p, 1, 20);
        if (r > 0)
            return true;
    }
    return false;
}

static void send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void serve_one(struct mock *m, int c)
{
    struct request *r = &m->reqs[m->n_reqs < MAX_REQS ? m->n_reqs : MAX_REQS - 1];
    size_t have = 0;
    char *end = NULL;
    memset(r->head, 0, sizeof(r->head));
    while (end == NULL && have < HEAD_CAP - 1 && wait_readable(m, c)) {
        ssize_t n = recv(c, r->head + have, HEAD_CAP - 1 - have, 0);
        if (n <= 0)
            return;
        have += (size_t)n;
        r->head[have] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    if (end == NULL)
        return;
    size_t head_len = (size_t)(end + 4 - r->head);
    size_t body_have = have - head_len;
    unsigned long long clen = 0;
    const char *cl = strcasestr(r->head, "\r\ncontent-length:");
    if (cl != NULL)
        clen = strtoull(cl + 17, NULL, 10);
    if (strcasestr(r->head, "\r\nexpect: 100-continue") != NULL)
        send_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    free(r->body);
    r->body = malloc(BODY_KEEP);
    r->body_len = 0;
    if (r->body == NULL)
        return;
    size_t keep = body_have < BODY_KEEP ? body_have : BODY_KEEP;
    memcpy(r->body, r->head + head_len, keep);
    r->body_len = body_have;
    r->head[head_len] = '\0';
    char buf[65536];
    while (r->body_len < clen && wait_readable(m, c)) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        if (r->body_len < BODY_KEEP)
            memcpy(r->body + r->body_len, buf,
                   (size_t)n < BODY_KEEP - r->body_len ? (size_t)n : BODY_KEEP - r->body_len);
        r->body_len += (size_t)n;
    }
    int idx = m->n_reqs;
    const char *resp = m->script[(size_t)idx < m->n_script ? (size_t)idx : m->n_script - 1];
    __atomic_store_n(&m->n_reqs, idx + 1, __ATOMIC_RELEASE);
    if (strcmp(resp, HANG) == 0) {
        while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED) && wait_readable(m, c)) {
            if (recv(c, buf, sizeof(buf), 0) <= 0)
                break;
        }
        return;
    }
    send_all(c, resp, strlen(resp));
}

static void *mock_main(void *arg)
{
    struct mock *m = arg;
    while (wait_readable(m, m->fd)) {
        int c = accept(m->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(m, c);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static int n_reqs(struct mock *m)
{
    return __atomic_load_n(&m->n_reqs, __ATOMIC_ACQUIRE);
}

static struct mock *mock_start(const char *const *script, size_t n)
{
    struct mock *m = calloc(1, sizeof(*m));
    T_ASSERT(m != NULL);
    m->script = script;
    m->n_script = n;
    m->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    T_ASSERT(m->fd >= 0);
    T_ASSERT(bind(m->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    T_ASSERT(listen(m->fd, 16) == 0);
    T_ASSERT(getsockname(m->fd, (struct sockaddr *)&a, &len) == 0);
    m->port = ntohs(a.sin_port);
    T_ASSERT(pthread_create(&m->thread, NULL, mock_main, m) == 0);
    return m;
}

static void mock_stop(struct mock *m)
{
    __atomic_store_n(&m->stop, 1, __ATOMIC_RELAXED);
    pthread_join(m->thread, NULL);
    close(m->fd);
    for (int i = 0; i < MAX_REQS; i++)
        free(m->reqs[i].body);
    free(m);
}

#define MOCK(...)                                      \
    static const char *const script[] = {__VA_ARGS__}; \
    struct mock *m = mock_start(script, sizeof(script) / sizeof(script[0]))

static struct store open_mock(struct mock *m, const char *prefix, bool creds, uint32_t retries,
                              uint32_t timeout_ms)
{
    char url[256];
    snprintf(url, sizeof(url), "s3://bkt%s?endpoint=http://127.0.0.1:%d&region=us-east-1", prefix,
             m->port);
    struct store_config cfg = {.url = url,
                               .access_key = creds ? "AKIDTEST" : NULL,
                               .secret_key = creds ? "secret/key+1" : NULL,
                               .retries = retries,
                               .timeout_ms = timeout_ms,
                               .connect_timeout_ms = timeout_ms};
    struct store s;
    struct sym_diag d = {0};
    sym_err rc = store_open(&cfg, &s, &d);
    if (rc != SYM_OK)
        T_FAIL("store_open: %s", d.msg);
    return s;
}

static double elapsed_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

#define OK_HEAD                                                            \
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n" \
    "ETag: \"abc\"\r\nLast-Modified: Fri, 24 May 2013 00:00:00 GMT\r\n"    \
    "x-amz-meta-original_size: 12\r\nX-Amz-Meta-Original_md5_hash: "       \
    "D41D8CD98F00B204E9800998ECF8427E\r\nConnection: close\r\n\r\n"
/* An S3 error document; the body runs to the end of the connection. */
#define ERR(code, text, s3code)                                                                 \
    "HTTP/1.1 " #code " " text "\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n" \
    "<Error><Code>" s3code "</Code></Error>"

/* ------------------------------------------------------------------------------------------ */
/* Status handling and retries                                                                */
/* ------------------------------------------------------------------------------------------ */

static void test_5xx_then_ok(void)
{
    MOCK(ERR(500, "Internal Server Error", "InternalError"), ERR(503, "Slow Down", "SlowDown"),
         OK_HEAD);
    struct store s = open_mock(m, "", true, 2, 5000);
    struct store_object_info info;
    T_ASSERT_OK(s.ops->head(s.impl, "v1/a", &info, NULL));
    T_ASSERT_EQ(n_reqs(m), 3);
    T_ASSERT_EQ(info.size, 5);
    T_ASSERT_STR_EQ(info.content_type, "text/plain");
    T_ASSERT_STR_EQ(info.etag, "\"abc\"");
    T_ASSERT_EQ(info.last_modified, 1369353600);
    T_ASSERT(info.has_original_size);
    T_ASSERT_EQ(info.original_size, 12);
    T_ASSERT_STR_EQ(info.original_md5, "d41d8cd98f00b204e9800998ecf8427e"); /* lower-cased */
    store_close(&s);
    mock_stop(m);
}

static void test_5xx_exhausts_retries(void)
{
    MOCK(ERR(500, "Internal Server Error", "InternalError"));
    struct store s = open_mock(m, "", true, 2, 5000);
    struct store_object_info info;
    struct sym_diag d = {0};
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a", &info, &d), SYM_EUNAVAIL);
    T_ASSERT_EQ(n_reqs(m), 3);
    T_ASSERT(strstr(d.msg, "HTTP 500") != NULL);
    T_ASSERT(strstr(d.msg, "after 3 attempts") != NULL);
    T_ASSERT(strstr(d.msg, "127.0.0.1") == NULL); /* no URL in messages */
    struct mem_sink ms = {.cap = 100};
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a", mem_sink, &ms, NULL, &d), SYM_EUNAVAIL);
    T_ASSERT(strstr(d.msg, "InternalError") != NULL); /* the S3 error code from the body */
    T_ASSERT_EQ(ms.calls, 0);                         /* error bodies never reach the sink */
    T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/a", "x", 1, NULL, NULL), SYM_EUNAVAIL);
    T_ASSERT_ERR(s.ops->del(s.impl, "v1/a", NULL), SYM_EUNAVAIL);
    T_ASSERT_ERR(s.ops->ping(s.impl, NULL), SYM_EUNAVAIL);
    store_close(&s);
    mock_stop(m);
}

static void test_4xx_not_retried(void)
{
    MOCK(ERR(403, "Forbidden", "AccessDenied"));
    struct store s = open_mock(m, "", true, 3, 5000);
    struct sym_diag d = {0};
    T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/a", "x", 1, NULL, &d), SYM_EIO);
    T_ASSERT_EQ(n_reqs(m), 1);
    T_ASSERT_STR_EQ(d.msg, "storage PUT answered HTTP 403 (AccessDenied)");
    /* For the heartbeat, refused credentials mean the storage is unusable. */
    T_ASSERT_ERR(s.ops->ping(s.impl, &d), SYM_EUNAVAIL);
    T_ASSERT(strstr(d.msg, "403") != NULL);
    store_close(&s);
    mock_stop(m);
}

static void test_404_mapping(void)
{
    MOCK(ERR(404, "Not Found", "NoSuchKey"), ERR(404, "Not Found", "NoSuchKey"),
         ERR(404, "Not Found", "NoSuchKey"), ERR(404, "Not Found", "NoSuchBucket"),
         "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    struct store s = open_mock(m, "", true, 2, 5000);
    struct store_object_info info;
    struct mem_sink ms = {.cap = 100};
    struct sym_diag d = {0};
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a", mem_sink, &ms, NULL, NULL), SYM_ENOTFOUND);
    T_ASSERT_OK(s.ops->del(s.impl, "v1/a", NULL));
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a", mem_sink, &ms, NULL, &d), SYM_EUNAVAIL);
    T_ASSERT_STR_EQ(d.msg, "storage bucket does not exist");
    T_ASSERT_ERR(s.ops->ping(s.impl, &d), SYM_EUNAVAIL); /* HEAD on a missing bucket */
    T_ASSERT_STR_EQ(d.msg, "storage bucket does not exist");
    T_ASSERT_EQ(n_reqs(m), 5); /* none of these is retried */
    T_ASSERT_EQ(ms.calls, 0);
    store_close(&s);
    mock_stop(m);
}

static void test_ping_ok(void)
{
    MOCK("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    struct store s = open_mock(m, "/pre", true, 0, 5000);
    T_ASSERT_OK(s.ops->ping(s.impl, NULL));
    T_ASSERT(strncmp(m->reqs[0].head, "HEAD /bkt HTTP/1.1\r\n", 20) == 0);
    store_close(&s);
    mock_stop(m);
}

/* ------------------------------------------------------------------------------------------ */
/* Limits, timeouts, broken transfers                                                         */
/* ------------------------------------------------------------------------------------------ */

static void test_header_cap(void)
{
    static char resp[80 * 1024];
    size_t n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n");
    while (n < 70 * 1024)
        n += (size_t)snprintf(resp + n, sizeof(resp) - n, "X-Pad: %0100d\r\n", 0);
    snprintf(resp + n, sizeof(resp) - n, "Content-Length: 0\r\nConnection: close\r\n\r\n");
    MOCK(resp);
    struct store s = open_mock(m, "", true, 2, 5000);
    struct store_object_info info;
    struct sym_diag d = {0};
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a", &info, &d), SYM_EIO);
    T_ASSERT(strstr(d.msg, "headers exceed") != NULL);
    T_ASSERT_EQ(n_reqs(m), 1);
    store_close(&s);
    mock_stop(m);
}

static void test_bad_attrs(void)
{
    static char resp[1024];
    char ct[201];
    memset(ct, 't', 200);
    ct[200] = '\0';
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 3\r\n"
             "x-amz-meta-original_size: lots\r\nConnection: close\r\n\r\nabc",
             ct);
    MOCK(resp);
    struct store s = open_mock(m, "", true, 0, 5000);
    struct store_object_info info;
    struct mem_sink ms = {.cap = 100};
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a", &info, NULL), SYM_ECORRUPT);
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a", mem_sink, &ms, &info, NULL), SYM_ECORRUPT);
    T_ASSERT_EQ(ms.calls, 0);
    store_close(&s);
    mock_stop(m);
}

static void test_hang_times_out(void)
{
    MOCK(HANG);
    struct store s = open_mock(m, "", true, 1, 300);
    struct store_object_info info;
    struct sym_diag d = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a", &info, &d), SYM_EUNAVAIL);
    double secs = elapsed_since(&t0);
    printf("    \"%s\" after %.3f s\n", d.msg, secs);
    T_ASSERT(strstr(d.msg, "timed out") != NULL);
    T_ASSERT_EQ(n_reqs(m), 2);
    T_ASSERT(secs >= 0.55 && secs < 4.0);
    store_close(&s);
    mock_stop(m);
}

static void test_dead_endpoint(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    T_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    T_ASSERT(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    char url[128];
    snprintf(url, sizeof(url), "s3://bkt?endpoint=http://127.0.0.1:%d", ntohs(a.sin_port));
    struct store_config cfg = {.url = url, .retries = 2, .connect_timeout_ms = 500};
    struct store s;
    struct sym_diag d = {0};
    struct timespec t0;
    T_ASSERT_OK(store_open(&cfg, &s, &d));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_ASSERT_ERR(s.ops->ping(s.impl, &d), SYM_EUNAVAIL);
    printf("    \"%s\" after %.3f s\n", d.msg, elapsed_since(&t0));
    T_ASSERT(elapsed_since(&t0) < 3.0);
    T_ASSERT(strstr(d.msg, "after 3 attempts") != NULL);
    store_close(&s);
}

static void test_cut_get_not_retried(void)
{
    static char resp[1024];
    size_t n = (size_t)snprintf(resp, sizeof(resp),
                                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                                "Content-Encoding: gzip\r\nConnection: close\r\n\r\n");
    memset(resp + n, 'p', 500);
    resp[n + 500] = '\0';
    MOCK(resp);
    struct store s = open_mock(m, "", true, 3, 5000);
    struct mem_sink ms = {.cap = 10000};
    struct store_object_info info;
    struct sym_diag d = {0};
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/a", mem_sink, &ms, &info, &d), SYM_EUNAVAIL);
    T_ASSERT_EQ(n_reqs(m), 1); /* the sink already had bytes: no second attempt */
    T_ASSERT_EQ(ms.len, 500);
    T_ASSERT_STR_EQ(info.content_encoding, "gzip"); /* info came before the first byte */
    mem_sink_free(&ms);
    store_close(&s);
    mock_stop(m);
}

/* ------------------------------------------------------------------------------------------ */
/* Request shape and signatures                                                               */
/* ------------------------------------------------------------------------------------------ */

/* The value of header name in a captured request head, or NULL; copied into out. */
static const char *header_of(const struct request *r, const char *name, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "\r\n%s:", name);
    const char *p = strcasestr(r->head, pat);
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\r");
    while (len > 0 && p[len - 1] == ' ')
        len--;
    T_ASSERT(len < cap);
    memcpy(out, p, len);
    out[len] = '\0';
    return out;
}

/* Recomputes the SigV4 signature of a captured request from its method, path and signed
 * headers, and compares it with the one libcurl put in Authorization. */
static void verify_signature(const struct request *r, const char *secret)
{
    char auth[1024], date[64], signed_hdrs[512], sig[65], value[512], mine[65], digest[65];
    T_ASSERT(header_of(r, "authorization", auth, sizeof(auth)) != NULL);
    T_ASSERT(header_of(r, "x-amz-date", date, sizeof(date)) != NULL);
    const char *sh = strstr(auth, "SignedHeaders=");
    const char *sg = strstr(auth, "Signature=");
    T_ASSERT(sh != NULL && sg != NULL);
    sh += 14;
    size_t shl = strcspn(sh, ",");
    memcpy(signed_hdrs, sh, shl);
    signed_hdrs[shl] = '\0';
    memcpy(sig, sg + 10, 64);
    sig[64] = '\0';
    T_ASSERT(strstr(auth, "Credential=AKIDTEST/") != NULL);
    T_ASSERT(strstr(signed_hdrs, "x-amz-content-sha256") != NULL);

    struct sym_buf cr;
    sym_buf_init(&cr, 0);
    size_t ml = strcspn(r->head, " ");
    const char *path = r->head + ml + 1;
    sym_buf_printf(&cr, "%.*s\n%.*s\n\n", (int)ml, r->head, (int)strcspn(path, " ?"), path);
    for (const char *h = signed_hdrs; *h != '\0';) {
        char name[128];
        size_t nl = strcspn(h, ";");
        T_ASSERT(nl < sizeof(name));
        memcpy(name, h, nl);
        name[nl] = '\0';
        T_ASSERT(header_of(r, name, value, sizeof(value)) != NULL);
        sym_buf_printf(&cr, "%s:%s\n", name, value);
        h += nl + (h[nl] == ';');
    }
    T_ASSERT(header_of(r, "x-amz-content-sha256", value, sizeof(value)) != NULL);
    sym_buf_printf(&cr, "\n%s\n%s", signed_hdrs, value);
    T_ASSERT_OK(store_sigv4_sha256_hex(cr.data, cr.len, digest));
    char sts[512], date8[9];
    memcpy(date8, date, 8);
    date8[8] = '\0';
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/us-east-1/s3/aws4_request\n%s", date,
             date8, digest);
    T_ASSERT_OK(store_sigv4_signature(secret, date8, "us-east-1", "s3", sts, mine));
    T_ASSERT_STR_EQ(mine, sig);
    sym_buf_cleanup(&cr);
}

static void test_put_request_shape(void)
{
    MOCK("HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    struct store s = open_mock(m, "/pre%20fix", true, 0, 5000);
    struct store_put_opts opts = {.content_type = "text/plain",
                                  .content_encoding = "gzip",
                                  .cache_control = "no-transform",
                                  .has_original_size = true,
                                  .original_size = 123456,
                                  .original_md5 = "d41d8cd98f00b204e9800998ecf8427e"};
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/a+b.pdb/ID/\xc3\xa9 x.sym", "payload", 7, &opts, NULL));
    const struct request *r = &m->reqs[0];
    char v[256], sha[65];
    T_ASSERT(strncmp(r->head, "PUT /bkt/pre%20fix/v1/a%2Bb.pdb/ID/%C3%A9%20x.sym HTTP/1.1\r\n",
                     59) == 0);
    T_ASSERT_STR_EQ(header_of(r, "content-type", v, sizeof(v)), "text/plain");
    T_ASSERT_STR_EQ(header_of(r, "content-encoding", v, sizeof(v)), "gzip");
    T_ASSERT_STR_EQ(header_of(r, "cache-control", v, sizeof(v)), "no-transform");
    T_ASSERT_STR_EQ(header_of(r, "x-amz-meta-original_size", v, sizeof(v)), "123456");
    T_ASSERT_STR_EQ(header_of(r, "x-amz-meta-original_md5_hash", v, sizeof(v)),
                    "d41d8cd98f00b204e9800998ecf8427e");
    T_ASSERT_OK(store_sigv4_sha256_hex("payload", 7, sha));
    T_ASSERT_STR_EQ(header_of(r, "x-amz-content-sha256", v, sizeof(v)), sha);
    T_ASSERT_EQ(r->body_len, 7);
    T_ASSERT_MEM_EQ(r->body, "payload", 7);
    verify_signature(r, "secret/key+1");
    store_close(&s);
    mock_stop(m);
}

static void test_get_request_shape(void)
{
    /* Gzip bytes labelled as such come back exactly as stored, never decoded. */
    MOCK("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Encoding: gzip\r\n"
         "Connection: close\r\n\r\n\x1f\x8b\x08\x01");
    struct store s = open_mock(m, "", true, 0, 5000);
    struct mem_sink ms = {.cap = 100};
    struct store_object_info info;
    T_ASSERT_OK(s.ops->get(s.impl, "v1/x.pdb/ID/x.sym", mem_sink, &ms, &info, NULL));
    T_ASSERT_EQ(ms.len, 4);
    T_ASSERT_MEM_EQ(ms.data, "\x1f\x8b\x08\x01", 4);
    T_ASSERT_STR_EQ(info.content_encoding, "gzip");
    const struct request *r = &m->reqs[0];
    char v[256];
    T_ASSERT(strncmp(r->head, "GET /bkt/v1/x.pdb/ID/x.sym HTTP/1.1\r\n", 37) == 0);
    T_ASSERT(header_of(r, "accept-encoding", v, sizeof(v)) == NULL);
    T_ASSERT_STR_EQ(header_of(r, "x-amz-content-sha256", v, sizeof(v)), STORE_SIGV4_EMPTY_SHA256);
    verify_signature(r, "secret/key+1");
    mem_sink_free(&ms);
    store_close(&s);
    mock_stop(m);
}

static void test_unsigned_requests(void)
{
    MOCK(OK_HEAD);
    struct store s = open_mock(m, "", false, 0, 5000);
    struct store_object_info info;
    char v[256];
    T_ASSERT_OK(s.ops->head(s.impl, "v1/a", &info, NULL));
    T_ASSERT(header_of(&m->reqs[0], "authorization", v, sizeof(v)) == NULL);
    store_close(&s);
    mock_stop(m);
}

/* A retried PUT from a file sends the whole file again, from its first byte. */
static void test_put_file_retry_rewinds(void)
{
    MOCK(ERR(500, "Internal Server Error", "InternalError"),
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    char path[512], md5[33], got[33];
    snprintf(path, sizeof(path), "%s/upload.bin", t_tmpdir());
    gen_file(path, 300 * 1024, 7, md5);
    struct store s = open_mock(m, "", true, 1, 5000);
    struct sym_diag d = {0};
    sym_err rc = s.ops->put_file(s.impl, "v1/f", path, NULL, &d);
    if (rc != SYM_OK)
        T_FAIL("put_file: %s", d.msg);
    T_ASSERT_EQ(n_reqs(m), 2);
    const struct request *r = &m->reqs[1];
    char v[256];
    T_ASSERT_EQ(r->body_len, 300 * 1024);
    md5_hex_of(r->body, r->body_len, got);
    T_ASSERT_STR_EQ(got, md5);
    T_ASSERT_STR_EQ(header_of(r, "x-amz-content-sha256", v, sizeof(v)), "UNSIGNED-PAYLOAD");
    T_ASSERT_STR_EQ(header_of(r, "content-type", v, sizeof(v)), STORE_DEFAULT_CONTENT_TYPE);
    verify_signature(r, "secret/key+1");
    remove(path);
    store_close(&s);
    mock_stop(m);
}

T_LIST(T_TEST(test_5xx_then_ok), T_TEST(test_5xx_exhausts_retries), T_TEST(test_4xx_not_retried),
       T_TEST(test_404_mapping), T_TEST(test_ping_ok), T_TEST(test_header_cap),
       T_TEST(test_bad_attrs), T_TEST(test_hang_times_out), T_TEST(test_dead_endpoint),
       T_TEST(test_cut_get_not_retried), T_TEST(test_put_request_shape),
       T_TEST(test_get_request_shape), T_TEST(test_unsigned_requests),
       T_TEST(test_put_file_retry_rewinds))
