/* SPDX-License-Identifier: MPL-2.0 */
/* http_source.c: the HTTP symbol-server client (see http_source.h). One transfer = one pooled
 * curl easy handle; a 200 body goes through a symstream (gzip sniffing and inflation, size cap,
 * straight into the .sym parser or a buffer); other bodies are dropped. */
#include "symsource/http_source.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "stackwalk/minidump.h"
#include "sym/alloc.h"
#include "sym/symfile.h"
#include "symsource/image_cache.h"
#include "symsource/sympath.h"
#include "symsource/symstream.h"

#define POOL_MAX 16

struct srv_http_source {
    char **urls;
    size_t n_urls;
    struct srv_http_source_opts o;
    char *user_agent;
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    size_t n_idle;
    struct srv_http_stats stats;
    struct srv_image_cache *cache;
};

void srv_http_source_opts_init(struct srv_http_source_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 5000;
    o->timeout_ms = 60000;
    o->max_retries = 3;
    o->retry_base_ms = 250;
    o->retry_max_ms = 5000;
    o->max_redirects = 5;
    o->max_body_bytes = (size_t)1 << 30;
    o->max_cache_bytes = (size_t)2 << 30;
    o->user_agent = "sigil";
}

static char *dup_str(const char *s)
{
    return s ? sym_strndup(s, strlen(s)) : NULL;
}

sym_err srv_http_source_new(const struct srv_http_source_opts *o, struct srv_http_source **out,
                            struct sym_diag *d)
{
    if (o == NULL || o->n_urls == 0 || o->urls == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no symbol server URL given");
    for (size_t i = 0; i < o->n_urls; i++) {
        const char *u = o->urls[i];
        if (u == NULL || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
            return sym_diag_set(d, SYM_EINVAL, "symbol server URL must be http(s): %s",
                                u ? u : "(null)");
    }
    struct srv_http_source *s = sym_calloc(1, sizeof(*s));
    if (s == NULL)
        return SYM_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->o = *o;
    struct srv_http_source_opts def;
    srv_http_source_opts_init(&def);
    if (s->o.connect_timeout_ms <= 0)
        s->o.connect_timeout_ms = def.connect_timeout_ms;
    if (s->o.timeout_ms <= 0)
        s->o.timeout_ms = def.timeout_ms;
    if (s->o.retry_base_ms <= 0)
        s->o.retry_base_ms = def.retry_base_ms;
    if (s->o.retry_max_ms <= 0)
        s->o.retry_max_ms = def.retry_max_ms;
    if (s->o.max_body_bytes == 0)
        s->o.max_body_bytes = def.max_body_bytes;
    s->user_agent = dup_str(o->user_agent ? o->user_agent : def.user_agent);
    s->urls = sym_calloc(o->n_urls, sizeof(char *));
    if (s->user_agent == NULL || s->urls == NULL)
        goto oom;
    for (size_t i = 0; i < o->n_urls; i++) {
        size_t n = strlen(o->urls[i]);
        while (n > 0 && o->urls[i][n - 1] == '/')
            n--; /* paths are appended with their own '/' */
        s->urls[i] = sym_strndup(o->urls[i], n);
        if (s->urls[i] == NULL)
            goto oom;
        s->n_urls = i + 1;
    }
    s->o.urls = NULL;
    struct srv_image_cache_opts co = {o->max_cache_bytes, 0, o->negative_ttl_ms};
    if (srv_image_cache_new(&co, &s->cache) != SYM_OK)
        goto oom;
    *out = s;
    return SYM_OK;
oom:
    srv_http_source_free(s);
    return sym_diag_set(d, SYM_ENOMEM, "out of memory creating the symbol server client");
}

void srv_http_source_free(struct srv_http_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_idle; i++)
        curl_easy_cleanup(s->idle[i]);
    for (size_t i = 0; i < s->n_urls; i++)
        sym_free(s->urls[i]);
    sym_free(s->urls);
    sym_free(s->user_agent);
    srv_image_cache_free(s->cache);
    pthread_mutex_destroy(&s->mu);
    sym_free(s);
}

void srv_http_origin_cleanup(struct srv_http_origin *o)
{
    sym_free(o->url);
    sym_free(o->debug_file);
    sym_free(o->debug_id);
    memset(o, 0, sizeof(*o));
}

void srv_http_source_stats(struct srv_http_source *s, struct srv_http_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

static void count(struct srv_http_source *s, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&s->mu);
    *field += n;
    pthread_mutex_unlock(&s->mu);
}

static CURL *take_handle(struct srv_http_source *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->n_idle > 0)
        h = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->mu);
    return h ? h : curl_easy_init();
}

static void give_handle(struct srv_http_source *s, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&s->mu);
    if (s->n_idle < POOL_MAX) {
        s->idle[s->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* ---------------------------------------------------------------------------------------------
 * Body sink: status check, gzip sniffing and inflation, size cap, buffer or parser
 * ------------------------------------------------------------------------------------------- */

struct sink {
    CURL *h;
    struct srv_symstream ss; /* status 200 bodies: gzip, cap, parser or buffer */
    size_t discarded;        /* bytes of non-200 bodies */
    char location[2048];     /* the first redirect's Location */
    bool have_location;
    long retry_after_s;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *k = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        /* Error pages are read and dropped, within a small bound. */
        k->discarded += n;
        return k->discarded > (1u << 20) ? 0 : n;
    }
    return srv_symstream_feed(&k->ss, ptr, n) == SYM_OK ? n : 0;
}

static bool header_is(const char *h, size_t n, const char *name)
{
    size_t l = strlen(name);
    if (n <= l || h[l] != ':')
        return false;
    for (size_t i = 0; i < l; i++)
        if (tolower((unsigned char)h[i]) != name[i])
            return false;
    return true;
}

static size_t on_header(char *h, size_t size, size_t nmemb, void *ud)
{
    struct sink *k = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
    const char *v;
    size_t vn;
    if (header_is(h, n, "location") && !k->have_location && code >= 300 && code < 400) {
        v = h + 9;
        vn = n - 9;
    } else if (header_is(h, n, "retry-after")) {
        v = h + 12;
        vn = n - 12;
    } else {
        return n;
    }
    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
        vn--;
    if (h[0] == 'L' || h[0] == 'l') {
        if (vn < sizeof(k->location)) {
            memcpy(k->location, v, vn);
            k->location[vn] = '\0';
            k->have_location = true;
        }
    } else {
        long secs = 0;
        size_t i = 0;
        for (; i < vn && i < 6 && v[i] >= '0' && v[i] <= '9'; i++)
            secs = secs * 10 + (v[i] - '0');
        if (i > 0 && i == vn)
            k->retry_after_s = secs;
    }
    return n;
}

static void sink_cleanup(struct sink *k)
{
    srv_symstream_cleanup(&k->ss);
}

/* ---------------------------------------------------------------------------------------------
 * Transfers
 * ------------------------------------------------------------------------------------------- */

enum outcome { OK_200, NOT_HERE, RETRY, FATAL };

static enum outcome perform(struct srv_http_source *s, const char *url, struct sink *k,
                            struct sym_diag *d)
{
    CURL *h = take_handle(s);
    if (h == NULL) {
        k->ss.err = SYM_ENOMEM;
        return FATAL;
    }
    k->h = h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)s->o.max_redirects);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl can decode */
    curl_easy_setopt(h, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    give_handle(s, h);
    k->h = NULL;
    count(s, &s->stats.requests, 1);
    if (cc == CURLE_WRITE_ERROR && k->ss.err != SYM_OK) {
        sym_diag_set(d, k->ss.err, "%s: %s", url,
                     k->ss.err == SYM_ELIMIT ? "symbol file exceeds the size limit"
                                             : "not a usable symbol file");
        return FATAL;
    }
    if (cc != CURLE_OK) {
        sym_diag_set(d, SYM_EUNAVAIL, "%s: %s", url, curl_easy_strerror(cc));
        return RETRY;
    }
    if (code == 200) {
        if (srv_symstream_finish(&k->ss) != SYM_OK) {
            sym_diag_set(d, SYM_EPARSE, "%s: truncated gzip body", url);
            return FATAL;
        }
        return OK_200;
    }
    if (code == 429 || code >= 500) {
        sym_diag_set(d, SYM_EUNAVAIL, "%s: HTTP %ld", url, code);
        return RETRY;
    }
    return NOT_HERE; /* 404, and other client errors: this server does not have it */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Percent-encodes each path component and appends "<base>/<a>/<b>/<c>" to url. */
static bool build_url(const char *base, const char *rel, char *url, size_t cap)
{
    int n = snprintf(url, cap, "%s", base);
    if (n < 0 || (size_t)n >= cap)
        return false;
    size_t o = (size_t)n;
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *esc = curl_easy_escape(NULL, p, (int)len);
        if (esc == NULL)
            return false;
        n = snprintf(url + o, cap - o, "/%s", esc);
        curl_free(esc);
        if (n < 0 || (size_t)n >= cap - o)
            return false;
        o += (size_t)n;
        p = slash ? slash + 1 : p + len;
    }
    return true;
}

/* The debug file and id named by a code-id redirect: the last three path components of the
 * Location (".../<debug_file>/<debug_id>/<file>.sym"), percent-decoded. */
static void origin_from_location(const char *loc, struct srv_http_origin *o)
{
    const char *path = loc;
    const char *scheme = strstr(loc, "://");
    if (scheme != NULL) {
        path = strchr(scheme + 3, '/');
        if (path == NULL)
            return;
    }
    size_t n = strcspn(path, "?#");
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    const char *end = path + n;
    for (int i = 2; i >= 0; i--) {
        const char *e = end;
        const char *b = e;
        while (b > path && b[-1] != '/')
            b--;
        if (b == e)
            return;
        parts[i] = b;
        lens[i] = (size_t)(e - b);
        end = b > path ? b - 1 : b;
        if (i > 0 && b == path)
            return;
    }
    int fl = 0, il = 0;
    char *file = curl_easy_unescape(NULL, parts[0], (int)lens[0], &fl);
    char *id = curl_easy_unescape(NULL, parts[1], (int)lens[1], &il);
    bool ok = file && id && fl > 0 && il >= 8 && il <= 64 && !strchr(file, '/');
    for (int i = 0; ok && i < il; i++)
        ok = isxdigit((unsigned char)id[i]);
    if (ok) {
        o->debug_file = sym_strndup(file, (size_t)fl);
        o->debug_id = sym_strndup(id, (size_t)il);
        for (char *c = o->debug_id; c && *c; c++)
            *c = (char)toupper((unsigned char)*c);
    }
    curl_free(file);
    curl_free(id);
}

/* The fetch loop shared by both levels. make_sink (re)initialises the body sink before each
 * attempt (a retried transfer starts over). */
struct fetch_mode {
    struct sym_buf *text;
    struct sym_parse_opts *popts;
    struct sym_parser *parser; /* created per attempt in parse mode */
};

static sym_err attempt_sink(struct fetch_mode *m, struct sink *k, size_t max)
{
    memset(k, 0, sizeof(*k));
    if (m->text != NULL) {
        sym_buf_reset(m->text);
        srv_symstream_init(&k->ss, NULL, m->text, max);
        return SYM_OK;
    }
    sym_parser_free(m->parser);
    m->parser = NULL;
    sym_err rc = sym_parser_new(m->popts, &m->parser);
    srv_symstream_init(&k->ss, m->parser, NULL, max);
    return rc;
}

static sym_err fetch(struct srv_http_source *s, const struct srv_http_key *key,
                     struct fetch_mode *m, struct srv_http_origin *origin, struct sym_diag *d)
{
    char rel[2][1024];
    bool by_code[2];
    int n_rel = 0;
    const char *debug_file =
        key->debug_file && key->debug_file[0] ? key->debug_file : key->code_file;
    if (key->debug_id && key->debug_id[0] && debug_file &&
        srv_sym_path(debug_file, key->debug_id, false, rel[n_rel], sizeof(rel[0])) == SYM_OK)
        by_code[n_rel++] = false;
    if (key->code_id && key->code_id[0] && key->code_file &&
        srv_sym_path(key->code_file, key->code_id, true, rel[n_rel], sizeof(rel[0])) == SYM_OK)
        by_code[n_rel++] = true;
    if (n_rel == 0)
        return sym_diag_set(d, SYM_EINVAL, "module has no usable debug or code identifier");

    bool unavailable = false;
    for (int r = 0; r < n_rel; r++) {
        for (size_t u = 0; u < s->n_urls; u++) {
            char url[4096];
            if (!build_url(s->urls[u], rel[r], url, sizeof(url)))
                continue;
            for (unsigned attempt = 0;; attempt++) {
                struct sink k;
                sym_err rc = attempt_sink(m, &k, s->o.max_body_bytes);
                if (rc != SYM_OK)
                    return rc;
                enum outcome oc = perform(s, url, &k, d);
                sink_cleanup(&k);
                if (oc == OK_200) {
                    count(s, &s->stats.bytes, k.ss.total);
                    memset(origin, 0, sizeof(*origin));
                    origin->url = dup_str(url);
                    if (by_code[r] && k.have_location)
                        origin_from_location(k.location, origin);
                    if (origin->url == NULL) {
                        srv_http_origin_cleanup(origin);
                        return SYM_ENOMEM;
                    }
                    return SYM_OK;
                }
                if (oc == FATAL) {
                    count(s, &s->stats.failures, 1);
                    return k.ss.err != SYM_OK ? k.ss.err : SYM_EUNAVAIL;
                }
                if (oc == NOT_HERE) {
                    count(s, &s->stats.not_found, 1);
                    break;
                }
                if (attempt >= s->o.max_retries) {
                    count(s, &s->stats.failures, 1);
                    unavailable = true;
                    break;
                }
                count(s, &s->stats.retries, 1);
                long wait = s->o.retry_base_ms << (attempt < 16 ? attempt : 16);
                if (k.retry_after_s > 0)
                    wait = k.retry_after_s * 1000;
                if (wait > s->o.retry_max_ms)
                    wait = s->o.retry_max_ms;
                sleep_ms(wait);
            }
        }
    }
    if (unavailable)
        return SYM_EUNAVAIL; /* d holds the last failure */
    return sym_diag_set(d, SYM_ENOTFOUND, "no symbol server has %s", rel[0]);
}

sym_err srv_http_fetch(struct srv_http_source *s, const struct srv_http_key *key,
                       struct sym_buf *text, struct srv_http_origin *origin, struct sym_diag *d)
{
    if (s == NULL || key == NULL || text == NULL || origin == NULL)
        return SYM_EINVAL;
    struct fetch_mode m = {text, NULL, NULL};
    return fetch(s, key, &m, origin, d);
}

/* ---------------------------------------------------------------------------------------------
 * Parsed images
 * ------------------------------------------------------------------------------------------- */

struct image_load {
    struct srv_http_source *s;
    const struct srv_http_key *key;
    struct sym_diag *d;
};

static sym_err image_loader(void *vctx, struct sym_buf *image, struct srv_image_meta *meta)
{
    struct image_load *il = vctx;
    struct sym_parse_opts popts;
    sym_parse_opts_init(&popts);
    popts.max_input_bytes = il->s->o.max_body_bytes;
    struct fetch_mode m = {NULL, &popts, NULL};
    struct srv_http_origin origin;
    memset(&origin, 0, sizeof(origin));
    sym_err rc = fetch(il->s, il->key, &m, &origin, il->d);
    if (rc == SYM_OK) {
        struct sym_parse_stats stats;
        memset(&stats, 0, sizeof(stats));
        rc = sym_parser_finish(m.parser, image, &stats, il->d);
        meta->corrupt = stats.n_warnings > 0;
        meta->url = origin.url;
        meta->debug_file = origin.debug_file;
        meta->debug_id = origin.debug_id;
        memset(&origin, 0, sizeof(origin));
    }
    sym_parser_free(m.parser);
    srv_http_origin_cleanup(&origin);
    return rc;
}

sym_err srv_http_image(struct srv_http_source *s, const struct srv_http_key *key,
                       struct srv_http_image *out, struct sym_diag *d)
{
    if (s == NULL || key == NULL || out == NULL)
        return SYM_EINVAL;
    char ckey[2048];
    int n = snprintf(ckey, sizeof(ckey), "%s/%s|%s/%s", key->debug_file ? key->debug_file : "",
                     key->debug_id ? key->debug_id : "", key->code_file ? key->code_file : "",
                     key->code_id ? key->code_id : "");
    if (n < 0 || (size_t)n >= sizeof(ckey))
        return sym_diag_set(d, SYM_EINVAL, "module names too long");
    struct image_load il = {s, key, d};
    struct srv_cached_image ci;
    sym_err rc = srv_image_cache_get(s->cache, ckey, image_loader, &il, &ci);
    if (rc != SYM_OK)
        return rc;
    out->image = ci.image;
    out->corrupt = ci.corrupt;
    out->url = ci.url;
    out->debug_file = ci.debug_file;
    out->debug_id = ci.debug_id;
    out->ref = ci.ref;
    return SYM_OK;
}

void srv_http_image_release(struct srv_http_source *s, struct srv_http_image *img)
{
    if (s != NULL && img != NULL)
        srv_image_cache_release(s->cache, img->ref);
}

static sym_err supplier_get(void *impl, const struct sw_module_key *key, struct sw_symbols *out)
{
    /* The walker passes full paths; symbol servers are keyed by basenames. */
    struct srv_http_key k = {sw_basename(key->debug_file), key->debug_id,
                             sw_basename(key->code_file), key->code_id};
    struct srv_http_image img;
    sym_err rc = srv_http_image(impl, &k, &img, NULL);
    if (rc != SYM_OK)
        return rc;
    out->image = img.image;
    out->corrupt = img.corrupt;
    out->url = img.url;
    out->debug_file = img.debug_file;
    out->debug_id = img.debug_id;
    out->handle = img.ref;
    return SYM_OK;
}

static void supplier_release(void *impl, const struct sw_symbols *syms)
{
    struct srv_http_source *s = impl;
    srv_image_cache_release(s->cache, syms->handle);
}

static const struct sw_supplier_ops http_ops = {supplier_get, supplier_release};

struct sw_supplier srv_http_source_supplier(struct srv_http_source *s)
{
    struct sw_supplier sup = {&http_ops, s};
    return sup;
}
