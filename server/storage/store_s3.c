/* SPDX-License-Identifier: MPL-2.0 */
/* store_s3.c: the S3-compatible storage backend over libcurl: path-style URLs
 * (endpoint/bucket/[prefix/]key), SigV4 header signing by libcurl (CURLOPT_AWS_SIGV4) plus the
 * x-amz-content-sha256 header it does not add, presigned GET URLs computed in sigv4.c.
 *
 * Threads: the store is shared by every worker. Calls borrow an easy handle from a small
 * mutex-guarded pool, so each handle is used by one thread at a time and keeps its own
 * connections alive between calls; the DNS cache and TLS sessions are shared through a CURLSH
 * with one mutex per data kind. Connections are not shared: libcurl documents a shared
 * connection cache as unsafe across concurrent threads.
 *
 * Limits: connect timeout; a per-request deadline of timeout_ms plus 1 s per MiB of body, so a
 * multi-GB stream is not cut while a stalled one is; response headers capped at 64 KiB, error
 * bodies kept to 4 KiB. Network errors, 5xx and 429 are retried with jittered exponential
 * backoff, except a GET that already passed bytes to its sink.
 *
 * AWS answers 404 for a missing key only to credentials allowed to list the bucket
 * (s3:ListBucket); to others it answers 403, which is reported as SYM_EIO, not SYM_ENOTFOUND. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "storage/sigv4.h"
#include "storage/store.h"
#include "storage/store_int.h"
#include "storage/store_s3_int.h"
#include "sym/alloc.h"

#define S3_POOL_MAX         32                          /* idle easy handles kept */
#define S3_MAX_HEADER_BYTES (64 * 1024)                 /* all response headers of a request */
#define S3_MAX_ERROR_BODY   4096                        /* error document bytes kept */
#define S3_MAX_PUT_BYTES    (5ULL * 1024 * 1024 * 1024) /* S3's single-PUT limit */
#define S3_MS_PER_MIB       1000 /* deadline allowance: at least 1 MiB/s of body */
#define S3_BACKOFF_BASE_MS  100
#define S3_BACKOFF_MAX_MS   2000

struct s3_store {
    struct store_s3_settings set; /* read-only once open */

    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    bool share_locks_ready;
    pthread_mutex_t pool_lock;
    bool pool_lock_ready;
    CURL *idle[S3_POOL_MAX];
    size_t n_idle;
};

/* ------------------------------------------------------------------------------------------ */
/* Handle pool and share locks                                                                */
/* ------------------------------------------------------------------------------------------ */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    struct s3_store *s3 = ud;
    pthread_mutex_lock(&s3->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    struct s3_store *s3 = ud;
    pthread_mutex_unlock(&s3->share_locks[data]);
}

static CURL *pool_get(struct s3_store *s3)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s3->pool_lock);
    if (s3->n_idle > 0)
        h = s3->idle[--s3->n_idle];
    pthread_mutex_unlock(&s3->pool_lock);
    return h ? h : curl_easy_init();
}

/* Keeps the handle (and its live connection) for the next call. */
static void pool_put(struct s3_store *s3, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&s3->pool_lock);
    if (s3->n_idle < S3_POOL_MAX) {
        s3->idle[s3->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s3->pool_lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* ------------------------------------------------------------------------------------------ */
/* One call: request description and response state                                           */
/* ------------------------------------------------------------------------------------------ */

enum s3_method { S3_HEAD, S3_GET, S3_PUT, S3_DELETE };

static const char *const method_names[] = {"HEAD", "GET", "PUT", "DELETE"};

struct s3_call {
    struct s3_store *s3;
    enum s3_method method;
    const char *url;
    struct curl_slist *headers;

    /* Upload source (PUT): src_fd >= 0, else src_mem. */
    int src_fd;
    const char *src_mem;
    uint64_t src_len, src_off;
    int read_errno;
    bool src_short;

    /* Download target (GET). */
    store_sink_fn sink;
    void *sink_ctx;
    struct store_object_info *info_out;
    uint64_t delivered;
    bool info_sent, sink_refused;

    /* Response of the current attempt. */
    long status;
    size_t header_bytes;
    bool headers_too_big, bad_attrs;
    struct store_object_info info;
    struct sym_buf err_body;

    uint64_t start_ms;
    bool timed_out;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void call_reset_response(struct s3_call *c)
{
    c->status = 0;
    c->header_bytes = 0;
    c->headers_too_big = false;
    c->bad_attrs = false;
    memset(&c->info, 0, sizeof(c->info));
    sym_buf_reset(&c->err_body);
    c->src_off = 0;
    c->read_errno = 0;
    c->src_short = false;
    c->timed_out = false;
    c->start_ms = now_ms();
}

static bool has_2xx(const struct s3_call *c)
{
    return c->status >= 200 && c->status < 300;
}

/* ------------------------------------------------------------------------------------------ */
/* libcurl callbacks                                                                          */
/* ------------------------------------------------------------------------------------------ */

static bool header_is(const char *name, size_t nlen, const char *want)
{
    return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

/* One response header into info; false when a stored attribute cannot be represented. */
static bool parse_header(struct store_object_info *info, const char *name, size_t nlen,
                         const char *v, size_t vlen)
{
    char tmp[64];
    if (header_is(name, nlen, "content-length")) {
        if (vlen < 21 && all_digits(v, vlen)) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            info->size = strtoull(tmp, NULL, 10);
        }
    } else if (header_is(name, nlen, "content-type")) {
        return store_attr_copy(info->content_type, sizeof(info->content_type), v, vlen);
    } else if (header_is(name, nlen, "content-encoding")) {
        return store_attr_copy(info->content_encoding, sizeof(info->content_encoding), v, vlen);
    } else if (header_is(name, nlen, "cache-control")) {
        return store_attr_copy(info->cache_control, sizeof(info->cache_control), v, vlen);
    } else if (header_is(name, nlen, "etag")) {
        if (!store_attr_copy(info->etag, sizeof(info->etag), v, vlen))
            info->etag[0] = '\0';
    } else if (header_is(name, nlen, "last-modified")) {
        if (vlen < sizeof(tmp)) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            time_t t = curl_getdate(tmp, NULL);
            info->last_modified = t > 0 ? (int64_t)t : 0;
        }
    } else if (header_is(name, nlen, "x-amz-meta-original_size")) {
        /* Metadata written by other tools may be anything: a bad value counts as absent, and
         * callers then fall back on the stored size, as Tecken does. */
        if (vlen < 21 && all_digits(v, vlen)) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            errno = 0;
            unsigned long long n = strtoull(tmp, NULL, 10);
            info->has_original_size = errno == 0;
            info->original_size = info->has_original_size ? n : 0;
        }
    } else if (header_is(name, nlen, "x-amz-meta-original_md5_hash") && vlen == 32) {
        for (size_t i = 0; i < 32; i++)
            tmp[i] = (v[i] >= 'A' && v[i] <= 'F') ? (char)(v[i] - 'A' + 'a') : v[i];
        if (store_md5_hex_ok(tmp, 32)) {
            memcpy(info->original_md5, tmp, 32);
            info->original_md5[32] = '\0';
        }
    }
    return true;
}

bool store_s3_header(struct store_object_info *info, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return true;
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return parse_header(info, line, (size_t)(colon - line), v, (size_t)(end - v));
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_call *c = ud;
    size_t len = size * n;
    c->header_bytes += len;
    if (c->header_bytes > S3_MAX_HEADER_BYTES) {
        c->headers_too_big = true;
        return 0;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget what the previous one said. */
        memset(&c->info, 0, sizeof(c->info));
        c->bad_attrs = false;
        const char *sp = memchr(buf, ' ', len);
        c->status = 0;
        if (sp != NULL && (size_t)(buf + len - sp) >= 4)
            for (int i = 1; i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
                c->status = c->status * 10 + (sp[i] - '0');
        return size * n;
    }
    if (!store_s3_header(&c->info, buf, len))
        c->bad_attrs = true;
    return size * n;
}

/* Hands the object's information to the caller once, before the first byte. */
static void send_info(struct s3_call *c)
{
    if (c->info_sent)
        return;
    c->info_sent = true;
    if (c->info_out != NULL)
        *c->info_out = c->info;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_call *c = ud;
    size_t len = size * n;
    if (!has_2xx(c)) {
        size_t room = S3_MAX_ERROR_BODY - c->err_body.len;
        if (c->err_body.len < S3_MAX_ERROR_BODY)
            sym_buf_append(&c->err_body, buf, len < room ? len : room);
        return len;
    }
    if (c->sink == NULL)
        return len;
    if (c->bad_attrs)
        return 0;
    send_info(c);
    if (c->sink(c->sink_ctx, buf, len) != 0) {
        c->sink_refused = true;
        return 0;
    }
    c->delivered += len;
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_call *c = ud;
    size_t want = size * n;
    uint64_t left = c->src_len - c->src_off;
    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (c->src_fd < 0) {
        memcpy(buf, c->src_mem + c->src_off, want);
        c->src_off += want;
        return want;
    }
    for (;;) {
        ssize_t got = pread(c->src_fd, buf, want, (off_t)c->src_off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            c->read_errno = errno;
            return CURL_READFUNC_ABORT;
        }
        if (got == 0) {
            /* The file shrank under us: the announced length can no longer be met. */
            c->src_short = true;
            return CURL_READFUNC_ABORT;
        }
        c->src_off += (uint64_t)got;
        return (size_t)got;
    }
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct s3_call *c = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->src_len)
        return CURL_SEEKFUNC_CANTSEEK;
    c->src_off = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dlnow;
    (void)ulnow;
    struct s3_call *c = ud;
    uint64_t body = c->src_len;
    if (dltotal > 0 && (uint64_t)dltotal > body)
        body = (uint64_t)dltotal;
    if (ultotal > 0 && (uint64_t)ultotal > body)
        body = (uint64_t)ultotal;
    uint64_t allowed = c->s3->set.timeout_ms + (body >> 20) * S3_MS_PER_MIB;
    if (now_ms() - c->start_ms > allowed) {
        c->timed_out = true;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Performing a call with retries                                                             */
/* ------------------------------------------------------------------------------------------ */

static CURLcode setup(CURL *h, struct s3_call *c)
{
    struct s3_store *s3 = c->s3;
    CURLcode r = CURLE_OK;
#define SET(opt, val)                          \
    do {                                       \
        if (r == CURLE_OK)                     \
            r = curl_easy_setopt(h, opt, val); \
    } while (0)
    SET(CURLOPT_URL, c->url);
    SET(CURLOPT_SHARE, s3->share);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PATH_AS_IS, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)s3->set.connect_timeout_ms);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, c);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_BUFFERSIZE, 128L * 1024);
    SET(CURLOPT_HTTPHEADER, c->headers);
    if (s3->set.access_key != NULL) {
        SET(CURLOPT_AWS_SIGV4, s3->set.sigv4);
        SET(CURLOPT_USERNAME, s3->set.access_key);
        SET(CURLOPT_PASSWORD, s3->set.secret_key);
    }
    switch (c->method) {
    case S3_HEAD:
        SET(CURLOPT_NOBODY, 1L);
        break;
    case S3_GET:
        break;
    case S3_PUT:
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, c);
        SET(CURLOPT_SEEKFUNCTION, on_seek);
        SET(CURLOPT_SEEKDATA, c);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->src_len);
        break;
    case S3_DELETE:
        SET(CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
    }
#undef SET
    return r;
}

/* The <Code> of an S3 error document, or "" (printable ASCII only, bounded). */
static void error_code(const struct s3_call *c, char *out, size_t cap)
{
    out[0] = '\0';
    if (c->err_body.data == NULL)
        return;
    const char *p = strstr(c->err_body.data, "<Code>");
    if (p == NULL)
        return;
    p += 6;
    const char *e = strstr(p, "</Code>");
    if (e == NULL || (size_t)(e - p) >= cap || !store_attr_text_ok(p, (size_t)(e - p)))
        return;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
}

static bool curl_retryable(CURLcode r)
{
    switch (r) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

static bool status_retryable(long status)
{
    return status >= 500 || status == 429 || status == 408;
}

/* The outcome of one attempt: rc, and whether trying again may help. */
static sym_err classify(struct s3_call *c, CURLcode r, bool *retry, struct sym_diag *d)
{
    const char *op = method_names[c->method];
    char code[64];
    *retry = false;
    if (c->sink_refused)
        return sym_diag_set(d, SYM_ELIMIT, "the reader refused the object bytes");
    if (c->headers_too_big)
        return sym_diag_set(d, SYM_EIO, "storage %s response headers exceed %d bytes", op,
                            S3_MAX_HEADER_BYTES);
    if (c->read_errno != 0) {
        char buf[128];
        return sym_diag_set(d, SYM_EIO, "cannot read source file: %s",
                            strerror_r(c->read_errno, buf, sizeof(buf)));
    }
    if (c->src_short)
        return sym_diag_set(d, SYM_EIO, "source file shrank while it was being stored");
    if (r == CURLE_OK || (r == CURLE_WRITE_ERROR && c->bad_attrs && has_2xx(c))) {
        if (has_2xx(c) && c->bad_attrs)
            return sym_diag_set(d, SYM_ECORRUPT,
                                "stored object attributes are too long or not ASCII");
        if (has_2xx(c))
            return SYM_OK;
        error_code(c, code, sizeof(code));
        if (c->status == 404 && strcmp(code, "NoSuchBucket") == 0)
            return sym_diag_set(d, SYM_EUNAVAIL, "storage bucket does not exist");
        if (c->status == 404)
            return SYM_ENOTFOUND;
        *retry = status_retryable(c->status);
        return sym_diag_set(d, *retry ? SYM_EUNAVAIL : SYM_EIO,
                            "storage %s answered HTTP %ld%s%s%s", op, c->status,
                            code[0] ? " (" : "", code, code[0] ? ")" : "");
    }
    if (r == CURLE_ABORTED_BY_CALLBACK && c->timed_out) {
        *retry = true;
        return sym_diag_set(d, SYM_EUNAVAIL, "storage %s timed out", op);
    }
    if (r == CURLE_OUT_OF_MEMORY)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory in storage %s", op);
    *retry = curl_retryable(r);
    return sym_diag_set(d, *retry ? SYM_EUNAVAIL : SYM_EIO, "storage %s failed: %s", op,
                        curl_easy_strerror(r));
}

static void backoff(unsigned attempt)
{
    uint64_t ms = S3_BACKOFF_BASE_MS << (attempt < 5 ? attempt : 5);
    if (ms > S3_BACKOFF_MAX_MS)
        ms = S3_BACKOFF_MAX_MS;
    /* Full jitter in [ms/2, ms), so that workers hit by one outage do not retry in step. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ms = ms / 2 + (uint64_t)ts.tv_nsec % (ms / 2);
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static sym_err perform(struct s3_call *c, struct sym_diag *d)
{
    struct s3_store *s3 = c->s3;
    sym_err rc = SYM_EUNAVAIL;
    unsigned attempt;
    for (attempt = 0;; attempt++) {
        CURL *h = pool_get(s3);
        if (h == NULL)
            return sym_diag_set(d, SYM_ENOMEM, "out of memory creating an HTTP handle");
        call_reset_response(c);
        CURLcode r = setup(h, c);
        if (r == CURLE_OK)
            r = curl_easy_perform(h);
        if (r == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
        pool_put(s3, h);
        bool retry;
        rc = classify(c, r, &retry, d);
        /* Bytes already in the sink cannot be taken back, so such a GET is not repeated. */
        if (!retry || c->delivered > 0 || attempt >= s3->set.retries)
            break;
        backoff(attempt);
    }
    if (rc == SYM_OK && c->method == S3_GET && c->sink != NULL)
        send_info(c); /* an empty object: no body callback ran */
    if (rc == SYM_EUNAVAIL && attempt > 0 && d != NULL) {
        size_t n = strlen(d->msg);
        snprintf(d->msg + n, sizeof(d->msg) - n, " (after %u attempts)", attempt + 1);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Operations                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Appends the URL of key (NULL: the bucket itself). */
static void object_url(const struct s3_store *s3, const char *key, struct sym_buf *out)
{
    sym_buf_printf(out, "%s/%s", s3->set.base, s3->set.bucket);
    if (key == NULL)
        return;
    sym_buf_append_char(out, '/');
    if (s3->set.prefix[0] != '\0') {
        store_uri_encode(out, s3->set.prefix, strlen(s3->set.prefix), true);
        sym_buf_append_char(out, '/');
    }
    store_uri_encode(out, key, strlen(key), true);
}

static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[256];
    if (value == NULL || value[0] == '\0')
        return true;
    if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >= sizeof(line))
        return false;
    struct curl_slist *n = curl_slist_append(*list, line);
    if (n == NULL)
        return false;
    *list = n;
    return true;
}

/* Shared by every operation: builds the URL and base headers, performs, cleans up. */
static sym_err run(struct s3_call *c, const char *key, const char *payload_sha256,
                   struct sym_diag *d)
{
    struct sym_buf url;
    sym_buf_init(&url, STORE_S3_MAX_URL);
    sym_buf_init(&c->err_body, S3_MAX_ERROR_BODY + 1);
    object_url(c->s3, key, &url);
    sym_err rc = sym_buf_err(&url);
    if (rc != SYM_OK) {
        rc = sym_diag_set(d, rc, "cannot build the storage URL");
        goto out;
    }
    /* S3 rejects SigV4 requests without it, and libcurl 7.88 does not add it. */
    if (!add_header(&c->headers, "x-amz-content-sha256", payload_sha256)) {
        rc = sym_diag_set(d, SYM_ENOMEM, "out of memory building storage headers");
        goto out;
    }
    c->url = url.data;
    rc = perform(c, d);
out:
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    sym_buf_cleanup(&c->err_body);
    sym_buf_cleanup(&url);
    return rc;
}

static void call_init(struct s3_call *c, struct s3_store *s3, enum s3_method m)
{
    memset(c, 0, sizeof(*c));
    c->s3 = s3;
    c->method = m;
    c->src_fd = -1;
}

static sym_err s3_head(void *impl, const char *key, struct store_object_info *out,
                       struct sym_diag *d)
{
    struct s3_call c;
    if (out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no place for the object information");
    sym_err rc = store_key_check(key, d);
    if (rc != SYM_OK)
        return rc;
    call_init(&c, impl, S3_HEAD);
    rc = run(&c, key, STORE_SIGV4_EMPTY_SHA256, d);
    if (rc == SYM_OK)
        *out = c.info;
    return rc;
}

static sym_err s3_get(void *impl, const char *key, store_sink_fn sink, void *sink_ctx,
                      struct store_object_info *info_out, struct sym_diag *d)
{
    struct s3_call c;
    if (sink == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no sink for the object bytes");
    sym_err rc = store_key_check(key, d);
    if (rc != SYM_OK)
        return rc;
    call_init(&c, impl, S3_GET);
    c.sink = sink;
    c.sink_ctx = sink_ctx;
    c.info_out = info_out;
    return run(&c, key, STORE_SIGV4_EMPTY_SHA256, d);
}

static sym_err put_headers(struct s3_call *c, const struct store_put_opts *opts, struct sym_diag *d)
{
    char size[24] = "";
    if (opts != NULL && opts->has_original_size)
        snprintf(size, sizeof(size), "%" PRIu64, opts->original_size);
    bool ok = add_header(&c->headers, "Content-Type", store_put_content_type(opts));
    if (opts != NULL) {
        ok = ok && add_header(&c->headers, "Content-Encoding", opts->content_encoding);
        ok = ok && add_header(&c->headers, "Cache-Control", opts->cache_control);
        ok = ok && add_header(&c->headers, "x-amz-meta-original_size", size);
        ok = ok && add_header(&c->headers, "x-amz-meta-original_md5_hash", opts->original_md5);
    }
    if (ok)
        return SYM_OK;
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    return sym_diag_set(d, SYM_ENOMEM, "out of memory building storage headers");
}

static sym_err s3_put_mem(void *impl, const char *key, const void *data, size_t len,
                          const struct store_put_opts *opts, struct sym_diag *d)
{
    struct s3_call c;
    char sha[65];
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = store_put_opts_check(opts, d);
    if (rc != SYM_OK)
        return rc;
    if (data == NULL && len > 0)
        return sym_diag_set(d, SYM_EINVAL, "object bytes are missing");
    if ((uint64_t)len > S3_MAX_PUT_BYTES)
        return sym_diag_set(d, SYM_ELIMIT, "objects over 5 GiB cannot be stored");
    /* In memory the real hash is cheap, and lets the server check the body it got. */
    if (store_sigv4_sha256_hex(data ? data : "", len, sha) != SYM_OK)
        return sym_diag_set(d, SYM_ENOMEM, "cannot hash the object");
    call_init(&c, impl, S3_PUT);
    c.src_mem = data ? data : "";
    c.src_len = len;
    rc = put_headers(&c, opts, d);
    if (rc != SYM_OK)
        return rc;
    return run(&c, key, sha, d);
}

static sym_err s3_put_file(void *impl, const char *key, const char *path,
                           const struct store_put_opts *opts, struct sym_diag *d)
{
    struct s3_call c;
    struct stat st;
    char buf[128];
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = store_put_opts_check(opts, d);
    if (rc != SYM_OK)
        return rc;
    if (path == NULL)
        return sym_diag_set(d, SYM_EINVAL, "source file path is missing");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sym_diag_set(d, SYM_EIO, "cannot open source file: %s",
                            strerror_r(errno, buf, sizeof(buf)));
    int e = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (e != 0) {
        close(fd);
        return sym_diag_set(d, SYM_EIO, "cannot read source file: %s",
                            strerror_r(e, buf, sizeof(buf)));
    }
    if ((uint64_t)st.st_size > S3_MAX_PUT_BYTES) {
        close(fd);
        return sym_diag_set(d, SYM_ELIMIT, "objects over 5 GiB cannot be stored");
    }
    call_init(&c, impl, S3_PUT);
    c.src_fd = fd;
    c.src_len = (uint64_t)st.st_size;
    rc = put_headers(&c, opts, d);
    /* Hashing a multi-GB file before sending it would read it twice; TLS and TCP carry the
     * integrity instead. */
    if (rc == SYM_OK)
        rc = run(&c, key, "UNSIGNED-PAYLOAD", d);
    close(fd);
    return rc;
}

static sym_err s3_del(void *impl, const char *key, struct sym_diag *d)
{
    struct s3_call c;
    sym_err rc = store_key_check(key, d);
    if (rc != SYM_OK)
        return rc;
    call_init(&c, impl, S3_DELETE);
    rc = run(&c, key, STORE_SIGV4_EMPTY_SHA256, d);
    return rc == SYM_ENOTFOUND ? SYM_OK : rc;
}

static sym_err s3_ping(void *impl, struct sym_diag *d)
{
    struct s3_call c;
    call_init(&c, impl, S3_HEAD);
    sym_err rc = run(&c, NULL, STORE_SIGV4_EMPTY_SHA256, d);
    if (rc == SYM_ENOTFOUND)
        return sym_diag_set(d, SYM_EUNAVAIL, "storage bucket does not exist");
    if (rc != SYM_OK && rc != SYM_EUNAVAIL) {
        /* Refused credentials and the like: the message already says which. */
        rc = SYM_EUNAVAIL;
        if (d != NULL)
            d->code = rc;
    }
    return rc;
}

static sym_err s3_url(void *impl, const char *key, struct sym_buf *out)
{
    struct s3_store *s3 = impl;
    if (store_key_check(key, NULL) != SYM_OK || out == NULL)
        return SYM_EINVAL;
    if (s3->set.public_url != NULL) {
        sym_buf_printf(out, "%s/", s3->set.public_url);
        if (s3->set.prefix[0] != '\0') {
            store_uri_encode(out, s3->set.prefix, strlen(s3->set.prefix), true);
            sym_buf_append_char(out, '/');
        }
        store_uri_encode(out, key, strlen(key), true);
        return sym_buf_err(out);
    }
    struct sym_buf path;
    sym_buf_init(&path, STORE_S3_MAX_URL);
    sym_buf_append_str(&path, s3->set.base_path);
    sym_buf_append_char(&path, '/');
    sym_buf_append_str(&path, s3->set.bucket);
    sym_buf_append_char(&path, '/');
    if (s3->set.prefix[0] != '\0') {
        store_uri_encode(&path, s3->set.prefix, strlen(s3->set.prefix), true);
        sym_buf_append_char(&path, '/');
    }
    store_uri_encode(&path, key, strlen(key), true);
    sym_err rc = sym_buf_err(&path);
    if (rc == SYM_OK && s3->set.access_key == NULL) {
        object_url(s3, key, out);
        rc = sym_buf_err(out);
    } else if (rc == SYM_OK) {
        /* base already ends with base_path, so only the bucket and key follow it. */
        sym_buf_append_str(out, s3->set.base);
        sym_buf_append(out, path.data + strlen(s3->set.base_path),
                       path.len - strlen(s3->set.base_path));
        sym_buf_append_char(out, '?');
        struct store_sigv4_presign p = {
            .method = "GET",
            .host = s3->set.host,
            .path = path.data,
            .region = s3->set.region,
            .access_key = s3->set.access_key,
            .secret_key = s3->set.secret_key,
            .expires_s = s3->set.presign_expiry_s,
            .now = time(NULL),
        };
        rc = sym_buf_err(out);
        if (rc == SYM_OK)
            rc = store_sigv4_presign_query(&p, out);
    }
    sym_buf_cleanup(&path);
    return rc;
}

static void s3_close(void *impl)
{
    struct s3_store *s3 = impl;
    if (s3 == NULL)
        return;
    for (size_t i = 0; i < s3->n_idle; i++)
        curl_easy_cleanup(s3->idle[i]);
    if (s3->share != NULL)
        curl_share_cleanup(s3->share);
    if (s3->share_locks_ready)
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&s3->share_locks[i]);
    if (s3->pool_lock_ready) {
        pthread_mutex_destroy(&s3->pool_lock);
        curl_global_cleanup();
    }
    store_s3_settings_cleanup(&s3->set);
    sym_free(s3);
}

const struct store_ops store_s3_ops = {
    .name = "s3",
    .head = s3_head,
    .get = s3_get,
    .put_file = s3_put_file,
    .put_mem = s3_put_mem,
    .del = s3_del,
    .ping = s3_ping,
    .url = s3_url,
    .close = s3_close,
    .open_read = NULL,
};

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static sym_err setup_share(struct s3_store *s3, struct sym_diag *d)
{
    int locks = 0;
    while (locks < CURL_LOCK_DATA_LAST && pthread_mutex_init(&s3->share_locks[locks], NULL) == 0)
        locks++;
    if (locks < CURL_LOCK_DATA_LAST) {
        while (locks-- > 0)
            pthread_mutex_destroy(&s3->share_locks[locks]);
        return sym_diag_set(d, SYM_ENOMEM, "cannot create a mutex");
    }
    s3->share_locks_ready = true;
    s3->share = curl_share_init();
    if (s3->share == NULL ||
        curl_share_setopt(s3->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(s3->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(s3->share, CURLSHOPT_USERDATA, s3) != CURLSHE_OK ||
        curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        return sym_diag_set(d, SYM_ENOMEM, "cannot set up libcurl sharing");
    return SYM_OK;
}

sym_err store_s3_open(const char *rest, const struct store_config *cfg, struct store *out,
                      struct sym_diag *d)
{
    struct s3_store *s3 = sym_calloc(1, sizeof(*s3));
    if (s3 == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory opening storage");
    sym_err rc = store_s3_settings_parse(rest, cfg, &s3->set, d);
    if (rc != SYM_OK)
        goto fail;
    if (pthread_mutex_init(&s3->pool_lock, NULL) != 0) {
        rc = sym_diag_set(d, SYM_ENOMEM, "cannot create a mutex");
        goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pthread_mutex_destroy(&s3->pool_lock);
        rc = sym_diag_set(d, SYM_EIO, "cannot initialise libcurl");
        goto fail;
    }
    s3->pool_lock_ready = true; /* from here s3_close() undoes both */
    rc = setup_share(s3, d);
    if (rc != SYM_OK)
        goto fail;
    out->ops = &store_s3_ops;
    out->impl = s3;
    return SYM_OK;
fail:
    s3_close(s3);
    return rc;
}
