/* SPDX-License-Identifier: MPL-2.0 */
/* fetch.c: upload by download with libcurl. Redirects are never followed by curl: each hop is
 * parsed, checked (scheme, host, resolved addresses) and requested with its addresses pinned
 * (CURLOPT_RESOLVE), so what was checked is what is connected to. */
#include "upload/fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_REDIRECTS     5
#define MAX_URL_LEN       2048
#define HEAD_TIMEOUT_S    5
#define CONNECT_TIMEOUT_S 5
#define HEAD_RETRIES      5
#define RETRY_BACKOFF_MS  200

static sym_err refuse(struct srv_fetch_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sym_err refuse(struct srv_fetch_error *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->status = status;
    return SYM_EINVAL;
}

/* ---- address checks ------------------------------------------------------------------------ */

static bool v4_public(uint32_t a)
{
    uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16), b2 = (uint8_t)(a >> 8);
    if (b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224) /* this, private, loopback, multicast */
        return false;
    if (b0 == 100 && (b1 & 0xc0) == 64) /* carrier-grade NAT */
        return false;
    if (b0 == 169 && b1 == 254) /* link-local, cloud metadata */
        return false;
    if (b0 == 172 && (b1 & 0xf0) == 16)
        return false;
    if (b0 == 192 && b1 == 168)
        return false;
    if (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2)) /* IETF, TEST-NET-1 */
        return false;
    if (b0 == 198 && (b1 & 0xfe) == 18) /* benchmarking */
        return false;
    if ((b0 == 198 && b1 == 51 && b2 == 100) || (b0 == 203 && b1 == 0 && b2 == 113))
        return false;
    return true;
}

bool srv_fetch_public_address(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (addr->sa_family != AF_INET6)
        return false;
    const unsigned char *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0)
        return v4_public((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
                         b[15]);
    bool zero_prefix = true;
    for (int i = 0; i < 15; i++)
        zero_prefix = zero_prefix && b[i] == 0;
    if (zero_prefix) /* :: and ::1 */
        return false;
    if ((b[0] & 0xfe) == 0xfc) /* unique local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local */
        return false;
    if (b[0] == 0xff) /* multicast */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
        return false;
    if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) /* NAT64 of anything */
        return false;
    return true;
}

/* ---- one hop ------------------------------------------------------------------------------- */

struct hop {
    char *url;    /* normalized by curl */
    char *scheme; /* curl_free() */
    char *host;
    long port;
    struct curl_slist *resolve; /* "host:port:addr,addr" pin */
};

static void hop_cleanup(struct hop *h)
{
    curl_free(h->url);
    curl_free(h->scheme);
    curl_free(h->host);
    curl_slist_free_all(h->resolve);
    memset(h, 0, sizeof(*h));
}

static bool host_allowed(const struct srv_fetch_config *cfg, const char *host)
{
    if (cfg->any_domain)
        return true;
    for (char *const *d = cfg->domains; d != NULL && *d != NULL; d++)
        if (strcasecmp(*d, host) == 0)
            return true;
    return false;
}

/* Parses and checks a hop's URL; with `shown` the text quoted in messages (what the client sent
 * or the Location header). Resolves the host and pins its checked addresses. */
static sym_err hop_open(const struct srv_fetch_config *cfg, const char *url, const char *shown,
                        struct hop *h, struct srv_fetch_error *err)
{
    memset(h, 0, sizeof(*h));
    size_t ulen = strlen(url);
    if (ulen > MAX_URL_LEN)
        return refuse(err, 400, "Enter a valid URL.");
    for (size_t i = 0; i < ulen; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return refuse(err, 400, "Enter a valid URL.");
    CURLU *u = curl_url();
    if (u == NULL)
        return SYM_ENOMEM;
    sym_err rc = SYM_OK;
    char *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_DEFAULT_SCHEME | CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &h->scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h->host, 0) != CURLUE_OK || h->host[0] == '\0' ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &h->url, 0) != CURLUE_OK) {
        rc = refuse(err, 400, "Enter a valid URL.");
        goto out;
    }
    h->port = strtol(port, NULL, 10);
    bool https = strcasecmp(h->scheme, "https") == 0;
    bool http = strcasecmp(h->scheme, "http") == 0;
    if (!(https || (http && cfg->allow_local))) {
        rc = refuse(err, 400, "Insecure URL");
        goto out;
    }
    /* IPv6 literals come back bracketed; the allow-list and the resolver want them bare. */
    char host[256];
    size_t hl = strlen(h->host);
    if (hl >= 2 && h->host[0] == '[' && h->host[hl - 1] == ']')
        snprintf(host, sizeof(host), "%.*s", (int)(hl - 2), h->host + 1);
    else
        snprintf(host, sizeof(host), "%s", h->host);
    if (!host_allowed(cfg, host)) {
        rc = refuse(err, 400, "Not an allowed domain ('%s') to download from.", host);
        goto out;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        rc = refuse(err, 500, "ConnectionError trying to open %s", shown);
        goto out;
    }
    char pin[1024];
    int n = snprintf(pin, sizeof(pin), "%s:%ld:", h->host, h->port);
    bool first = true;
    for (struct addrinfo *ai = res; ai != NULL && rc == SYM_OK; ai = ai->ai_next) {
        if (!cfg->allow_local && !srv_fetch_public_address(ai->ai_addr)) {
            rc = refuse(err, 400, "Not an allowed address for '%s' to download from.", host);
            break;
        }
        char a[INET6_ADDRSTRLEN];
        const void *src = ai->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (inet_ntop(ai->ai_family, src, a, sizeof(a)) == NULL)
            continue;
        if (n > 0 && (size_t)n < sizeof(pin) - strlen(a) - 4) {
            n += snprintf(pin + n, sizeof(pin) - (size_t)n,
                          ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", first ? "" : ",", a);
            first = false;
        }
    }
    freeaddrinfo(res);
    if (rc == SYM_OK && first)
        rc = refuse(err, 500, "ConnectionError trying to open %s", shown);
    if (rc == SYM_OK) {
        h->resolve = curl_slist_append(NULL, pin);
        if (h->resolve == NULL)
            rc = SYM_ENOMEM;
    }
out:
    curl_free(port);
    curl_url_cleanup(u);
    if (rc != SYM_OK)
        hop_cleanup(h);
    return rc;
}

/* ---- requests ------------------------------------------------------------------------------ */

struct sink {
    FILE *fp;
    uint64_t bytes, max;
    bool too_big, write_failed;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * n;
    if (s->fp == NULL)
        return len;
    if (s->bytes + len > s->max) {
        s->too_big = true;
        return 0;
    }
    if (fwrite(data, 1, len, s->fp) != len) {
        s->write_failed = true;
        return 0;
    }
    s->bytes += len;
    return len;
}

static void setup(CURL *c, const struct srv_fetch_config *cfg, const struct hop *h, bool head,
                  struct sink *sink)
{
    /* Only the final answer's body is kept: drop what a redirect or a retried answer wrote. */
    if (sink != NULL && sink->fp != NULL && sink->bytes > 0) {
        fflush(sink->fp);
        if (ftruncate(fileno(sink->fp), 0) != 0)
            sink->write_failed = true;
        rewind(sink->fp);
        sink->bytes = 0;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, h->resolve);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, cfg->allow_local ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, head ? (long)HEAD_TIMEOUT_S : (long)cfg->timeout_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
}

static bool retryable(long code)
{
    return code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Walks the chain from f->url with HEAD (check) or GET into sink (download). On success the
 * final hop answered 2xx; *length_out gets its Content-Length (-1 when absent). */
static sym_err walk(CURL *c, const struct srv_fetch_config *cfg, struct srv_fetch *f, bool head,
                    struct sink *sink, curl_off_t *length_out, struct srv_fetch_error *err)
{
    char *current = strdup(f->url);
    if (current == NULL)
        return SYM_ENOMEM;
    sym_err rc = SYM_OK;
    for (int hops = 0;; hops++) {
        if (hops > MAX_REDIRECTS) {
            rc = refuse(err, 400, "Too many redirects trying to open %s", f->url);
            break;
        }
        struct hop h;
        rc = hop_open(cfg, current, current, &h, err);
        if (rc != SYM_OK)
            break;
        long code = 0;
        CURLcode cc = CURLE_OK;
        for (int attempt = 0; attempt <= (head ? HEAD_RETRIES : 0); attempt++) {
            if (attempt > 0)
                pause_ms(RETRY_BACKOFF_MS << (attempt - 1));
            setup(c, cfg, &h, head, sink);
            cc = curl_easy_perform(c);
            code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (cc != CURLE_OK || !retryable(code))
                break;
        }
        if (cc != CURLE_OK) {
            if (sink != NULL && sink->too_big)
                rc = refuse(err, 413, "The file at %s is larger than %llu bytes", current,
                            (unsigned long long)cfg->max_bytes);
            else if (sink != NULL && sink->write_failed)
                rc = refuse(err, 500, "Internal Server Error");
            else
                rc = refuse(err, 500, "ConnectionError trying to open %s", current);
            hop_cleanup(&h);
            break;
        }
        if (code >= 300 && code < 400) {
            char *location = NULL;
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
            if (location == NULL) {
                rc = refuse(err, 400, "%s can't be found (%ld)", current, code);
                hop_cleanup(&h);
                break;
            }
            char *next = strdup(location);
            if (head) {
                /* the Location header as sent, when curl saw one */
                struct curl_header *lh = NULL;
                const char *shown = location;
                if (curl_easy_header(c, "location", 0, CURLH_HEADER, -1, &lh) == CURLHE_OK)
                    shown = lh->value;
                json_array_append_new(f->redirect_urls, json_string(shown));
            }
            hop_cleanup(&h);
            free(current);
            current = next;
            if (current == NULL)
                return SYM_ENOMEM;
            continue;
        }
        if (head && retryable(code)) {
            rc = refuse(err, 500, "RetryError trying to open %s", current);
        } else if (code >= 500) {
            rc = refuse(err, 500, "%s errored (%ld)", current, code);
        } else if (code >= 400) {
            rc = refuse(err, 400, "%s can't be found (%ld)", current, code);
        } else if (!head && code != 200) {
            rc = refuse(err, 400, "non-200 status code when retrieving %s", f->url);
        } else if (code < 200 || code >= 300) {
            rc = refuse(err, 400, "%s can't be found (%ld)", current, code);
        } else {
            curl_off_t len = -1;
            curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
            *length_out = len;
        }
        hop_cleanup(&h);
        break;
    }
    free(current);
    return rc;
}

/* ---- public -------------------------------------------------------------------------------- */

/* Python's os.path.basename(urlparse(url).path). */
static char *archive_name(const char *url)
{
    CURLU *u = curl_url();
    char *path = NULL, *out = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, CURLU_DEFAULT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        const char *slash = strrchr(path, '/');
        out = strdup(slash ? slash + 1 : path);
    } else {
        out = strdup("");
    }
    curl_free(path);
    curl_url_cleanup(u);
    return out;
}

sym_err srv_fetch_check(const struct srv_fetch_config *cfg, const char *url, struct srv_fetch *out,
                        struct srv_fetch_error *err)
{
    memset(out, 0, sizeof(*out));
    out->redirect_urls = json_array();
    if (out->redirect_urls == NULL)
        return SYM_ENOMEM;
    struct hop h;
    /* The URL itself first: a malformed or refused one is answered before any request. */
    sym_err rc = hop_open(cfg, url, url, &h, err);
    if (rc != SYM_OK)
        return rc;
    out->url = strdup(h.url);
    hop_cleanup(&h);
    out->archive_name = out->url ? archive_name(out->url) : NULL;
    if (out->url == NULL || out->archive_name == NULL)
        return SYM_ENOMEM;
    CURL *c = curl_easy_init();
    if (c == NULL)
        return SYM_ENOMEM;
    curl_off_t len = -1;
    rc = walk(c, cfg, out, true, NULL, &len, err);
    curl_easy_cleanup(c);
    if (rc != SYM_OK)
        return rc;
    if (len < 0)
        return refuse(err, 400, "%s did not give a Content-Length", out->url);
    if ((uint64_t)len > cfg->max_bytes)
        return refuse(err, 413, "The file at %s is larger than %llu bytes", out->url,
                      (unsigned long long)cfg->max_bytes);
    out->size = (uint64_t)len;
    return SYM_OK;
}

sym_err srv_fetch_download(const struct srv_fetch_config *cfg, struct srv_fetch *f,
                           struct srv_fetch_error *err)
{
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/upload-dl-XXXXXX", cfg->spool_dir);
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return SYM_EIO;
    f->path = strdup(tmpl);
    FILE *fp = fdopen(fd, "wb");
    if (f->path == NULL || fp == NULL) {
        if (fp == NULL)
            close(fd);
        else
            fclose(fp);
        unlink(tmpl);
        free(f->path);
        f->path = NULL;
        return SYM_ENOMEM;
    }
    struct sink sink = {.fp = fp, .max = cfg->max_bytes};
    CURL *c = curl_easy_init();
    curl_off_t len = -1;
    sym_err rc = c != NULL ? walk(c, cfg, f, false, &sink, &len, err) : SYM_ENOMEM;
    curl_easy_cleanup(c);
    if (fclose(fp) != 0 && rc == SYM_OK)
        rc = SYM_EIO;
    return rc;
}

void srv_fetch_cleanup(struct srv_fetch *f)
{
    if (f->path != NULL)
        unlink(f->path);
    free(f->path);
    free(f->url);
    free(f->archive_name);
    json_decref(f->redirect_urls);
    memset(f, 0, sizeof(*f));
}
