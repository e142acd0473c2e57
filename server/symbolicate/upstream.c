/* SPDX-License-Identifier: MPL-2.0 */
/* upstream.c: HTTP symbol server client with retries, timeouts and pooled easy handles. */
#include "symbolicate/upstream.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sym/alloc.h"
#include "sym/buf.h"

#define POOL_MAX      16
#define MAX_REDIRECTS 5
/* A transfer slower than this for LOW_SPEED_S is abandoned (a stalled server), whatever the
 * total timeout allows. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_S     30L

struct srv_upstream {
    char *base; /* ends with '/' */
    char *user_agent;
    uint32_t timeout_ms, connect_timeout_ms, retries, backoff_ms;
    pthread_mutex_t lock;
    CURL *idle[POOL_MAX];
    size_t n_idle;
};

sym_err srv_upstream_new(const struct srv_upstream_config *cfg, struct srv_upstream **out,
                         struct sym_diag *d)
{
    const char *b = cfg->base_url;
    if (b == NULL || !(strncmp(b, "http://", 7) == 0 || strncmp(b, "https://", 8) == 0))
        return sym_diag_set(d, SYM_EINVAL, "a symbol server URL must start with http(s)://");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sym_diag_set(d, SYM_EIO, "libcurl cannot be initialised");
    struct srv_upstream *u = sym_calloc(1, sizeof(*u));
    struct sym_buf base;
    sym_buf_init(&base, 4096);
    sym_buf_append_str(&base, b);
    if (base.len > 0 && base.data[base.len - 1] != '/')
        sym_buf_append_char(&base, '/');
    const char *ua = cfg->user_agent ? cfg->user_agent : "sigil";
    if (u != NULL) {
        u->base = sym_buf_steal(&base, NULL);
        u->user_agent = sym_strndup(ua, strlen(ua));
    }
    sym_buf_cleanup(&base);
    if (u == NULL || u->base == NULL || u->user_agent == NULL) {
        if (u != NULL) {
            sym_free(u->base);
            sym_free(u->user_agent);
            sym_free(u);
        }
        curl_global_cleanup();
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    u->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 60000;
    u->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
    u->retries = cfg->retries;
    u->backoff_ms = cfg->backoff_ms ? cfg->backoff_ms : 200;
    pthread_mutex_init(&u->lock, NULL);
    *out = u;
    return SYM_OK;
}

void srv_upstream_free(struct srv_upstream *u)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < u->n_idle; i++)
        curl_easy_cleanup(u->idle[i]);
    pthread_mutex_destroy(&u->lock);
    sym_free(u->base);
    sym_free(u->user_agent);
    sym_free(u);
    curl_global_cleanup();
}

const char *srv_upstream_base(const struct srv_upstream *u)
{
    return u->base;
}

static CURL *take_handle(struct srv_upstream *u)
{
    CURL *h = NULL;
    pthread_mutex_lock(&u->lock);
    if (u->n_idle > 0)
        h = u->idle[--u->n_idle];
    pthread_mutex_unlock(&u->lock);
    if (h == NULL)
        return curl_easy_init();
    curl_easy_reset(h); /* keeps its connections */
    return h;
}

static void give_handle(struct srv_upstream *u, CURL *h)
{
    pthread_mutex_lock(&u->lock);
    if (u->n_idle < POOL_MAX) {
        u->idle[u->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&u->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* RFC 3986 unreserved characters stay; everything else is %XX. */
static void append_encoded(struct sym_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            sym_buf_append_char(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            sym_buf_append(b, esc, 3);
        }
    }
}

struct xfer {
    CURL *h;
    srv_upstream_sink_fn sink;
    void *ctx;
    long status;
    bool status_known, delivered, refused;
    uint64_t bytes;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t len = size * nmemb;
    if (!x->status_known) {
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        x->status = code;
        x->status_known = true;
    }
    if (x->status != 200)
        return len; /* an error page: read and dropped */
    x->delivered = true;
    x->bytes += len;
    if (x->sink(x->ctx, data, len) != 0) {
        x->refused = true;
        return 0; /* aborts the transfer */
    }
    return len;
}

static bool retryable_status(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        /* Timeouts are not retried: a server that hung once is likely to hang again, and each
         * attempt would cost the whole timeout. */
        return false;
    }
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

#define SET(opt, val)                                                      \
    do {                                                                   \
        if (curl_easy_setopt(h, opt, val) != CURLE_OK) {                   \
            rc = sym_diag_set(d, SYM_ENOMEM, "libcurl refused an option"); \
            goto out;                                                      \
        }                                                                  \
    } while (0)

sym_err srv_upstream_get(struct srv_upstream *u, const char *debug_file, const char *debug_id,
                         const char *sym_file, srv_upstream_sink_fn sink,
                         srv_upstream_reset_fn reset, void *ctx, struct srv_upstream_stats *st,
                         struct sym_diag *d)
{
    struct srv_upstream_stats stats = {0, 0, 0};
    struct sym_buf url;
    sym_buf_init(&url, 16384);
    sym_buf_append_str(&url, u->base);
    append_encoded(&url, debug_file);
    sym_buf_append_char(&url, '/');
    append_encoded(&url, debug_id);
    sym_buf_append_char(&url, '/');
    append_encoded(&url, sym_file);
    sym_err rc = SYM_OK;
    CURL *h = NULL;
    if (sym_buf_err(&url) != SYM_OK) {
        rc = sym_diag_set(d, SYM_ENOMEM, "out of memory building the URL");
        goto out;
    }
    h = take_handle(u);
    if (h == NULL) {
        rc = sym_diag_set(d, SYM_ENOMEM, "libcurl cannot create a handle");
        goto out;
    }
    uint64_t delay = u->backoff_ms;
    for (uint32_t attempt = 0;; attempt++) {
        struct xfer x = {h, sink, ctx, 0, false, false, false, 0};
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_reset(h);
        SET(CURLOPT_URL, url.data);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_ACCEPT_ENCODING, "");
        SET(CURLOPT_USERAGENT, u->user_agent);
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long)u->connect_timeout_ms);
        SET(CURLOPT_TIMEOUT_MS, (long)u->timeout_ms);
        SET(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
        SET(CURLOPT_LOW_SPEED_TIME, LOW_SPEED_S);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_BUFFERSIZE, 256L * 1024);
        SET(CURLOPT_WRITEFUNCTION, on_body);
        SET(CURLOPT_WRITEDATA, &x);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        CURLcode cc = curl_easy_perform(h);
        stats.attempts++;
        stats.wire_bytes += x.bytes;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        stats.status = status;
        bool retry;
        if (x.refused) {
            rc = sym_diag_set(d, SYM_ELIMIT, "the symbol file was refused while reading");
            break;
        }
        if (cc == CURLE_OK && status == 200) {
            rc = SYM_OK;
            break;
        }
        if (cc == CURLE_OK && !retryable_status(status)) {
            rc = sym_diag_set(d, SYM_ENOTFOUND, "HTTP %ld", status);
            break;
        }
        if (cc == CURLE_OK) {
            retry = true;
            rc = sym_diag_set(d, SYM_EUNAVAIL, "HTTP %ld", status);
        } else {
            retry = retryable_curl(cc);
            rc = sym_diag_set(d, SYM_EUNAVAIL, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
        if (!retry || attempt >= u->retries || (x.delivered && reset == NULL))
            break;
        if (x.delivered)
            reset(ctx);
        sleep_ms(delay);
        delay = delay * 2 > 10000 ? 10000 : delay * 2;
    }
out:
    if (h != NULL) {
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        give_handle(u, h);
    }
    sym_buf_cleanup(&url);
    if (st != NULL)
        *st = stats;
    return rc;
}
