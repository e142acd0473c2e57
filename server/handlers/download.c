/* SPDX-License-Identifier: MPL-2.0 */
/* download.c: GET|HEAD /{debug_filename}/{debug_id}/{filename} (and /try/..., ?try).
 *
 * A hit is a 302 to the stored object (HEAD: 200 keeping Location); a miss of a .sym whose id is
 * shorter than a debug id falls back to the code-info lookup and a relative 302 to the debug
 * file's path; otherwise 404, counted as a missing symbol. Storage and lookup results are cached
 * in-process (positive and negative, with TTLs; ?_refresh bypasses), so a warm request is
 * answered on the event loop without any storage or database round trip. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db/queries.h"
#include "handlers/handlers.h"
#include "http/async.h"
#include "http/pathutil.h"
#include "http/respond.h"
#include "missing.h"
#include "ttlcache.h"

#define NULL_DEBUG_ID     "000000000000000000000000000000000"
#define DEBUG_ID_LEN      33
#define MISSING_FIELD_MAX 150
#define LOCATION_MAX      4096

struct download {
    const char *debug_filename, *debug_id, *filename; /* request pool; debug_id upper-cased */
    size_t debug_filename_len, debug_id_len, filename_len;
    bool try_storage, refresh, debug, codeid_eligible;
    h2o_iovec_t query;
    const char *key[2]; /* [0] regular, [1] try (NULL unless try_storage); request pool */
};

struct download_job {
    struct srv_req_job base;
    struct download dl; /* strings copied to the heap below, since work() runs off the loop */
    char *strings;
    bool lookup_storage[2];
    bool lookup_codeid;
    /* results */
    sym_err rc;
    struct sym_diag diag;
    int found; /* -1 none, 0 regular, 1 try */
    char *location;
    bool codeid_found;
    char *codeid_debug_filename, *codeid_debug_id;
    double lookup_seconds;
};

/* --- responses ----------------------------------------------------------------------------- */

static void add_cors(h2o_req_t *req)
{
    srv_add_header(req, "access-control-allow-origin", "*");
    srv_add_header(req, "access-control-allow-methods", "GET");
    srv_add_header(req, "access-control-allow-headers",
                   "accept,accept-encoding,authorization,content-type,dnt,origin,user-agent,"
                   "x-csrftoken,x-requested-with");
}

static void add_debug_time(h2o_req_t *req, const struct download *dl, double seconds)
{
    if (!dl->debug)
        return;
    char v[32];
    snprintf(v, sizeof(v), "%.6f", seconds);
    srv_add_header(req, "debug-time", v);
}

static void respond_found(struct srv_reqctx *rc, h2o_req_t *req, const struct download *dl,
                          const char *location, size_t len, double seconds)
{
    add_cors(req);
    add_debug_time(req, dl, seconds);
    /* HEAD answers 200 and keeps Location: dump_syms and others read "HEAD 200" as "exists". */
    srv_respond_redirect(req, rc->is_head ? 200 : 302, location, len);
}

static void respond_missing(struct srv_reqctx *rc, h2o_req_t *req, const struct download *dl,
                            double seconds)
{
    if (!rc->is_head) {
        h2o_iovec_t code_file = {NULL, 0}, code_id = {NULL, 0};
        bool has_file = srv_query_get(&req->pool, dl->query, "code_file", &code_file);
        bool has_id = srv_query_get(&req->pool, dl->query, "code_id", &code_id);
        if (dl->debug_filename_len <= MISSING_FIELD_MAX && dl->filename_len <= MISSING_FIELD_MAX &&
            dl->debug_id_len <= MISSING_FIELD_MAX && code_file.len <= MISSING_FIELD_MAX &&
            code_id.len <= MISSING_FIELD_MAX)
            srv_missing_record(rc->app->missing, dl->debug_filename, dl->debug_id, dl->filename,
                               has_file ? code_file.base : NULL, has_id ? code_id.base : NULL);
    }
    add_cors(req);
    add_debug_time(req, dl, seconds);
    srv_respond_text(req, 404, "text/html; charset=utf-8", "Symbol Not Found");
}

static void respond_codeid(struct srv_reqctx *rc, h2o_req_t *req, const struct download *dl,
                           const char *debug_filename, const char *debug_id, double seconds)
{
    h2o_iovec_t file = srv_percent_encode_path(&req->pool, debug_filename, strlen(debug_filename));
    h2o_iovec_t name = srv_percent_encode_path(&req->pool, dl->filename, dl->filename_len);
    size_t cap = file.len + name.len + strlen(debug_id) + dl->query.len + 16;
    char *loc = h2o_mem_alloc_pool(&req->pool, cap);
    int n =
        snprintf(loc, cap, "%s/%s/%s/%s%s%.*s", dl->try_storage ? "/try" : "", file.base, debug_id,
                 name.base, dl->query.len ? "?" : "", (int)dl->query.len, dl->query.base);
    (void)rc;
    add_cors(req);
    add_debug_time(req, dl, seconds);
    /* 302 for HEAD too: the client must follow it to learn whether the debug file exists. */
    srv_respond_redirect(req, 302, loc, (size_t)n);
}

/* --- cache keys ----------------------------------------------------------------------------- */

static size_t codeid_cache_key(const struct download *dl, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s//%s", dl->debug_filename, dl->debug_id);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* --- the blocking part ---------------------------------------------------------------------- */

static char *object_location(struct srv_app *app, const char *key)
{
    struct sym_buf b;
    sym_buf_init(&b, LOCATION_MAX);
    sym_err rc = app->store.ops->url(app->store.impl, key, &b);
    if (rc == SYM_ENOTFOUND) {
        /* The local-folder backend: this server streams the object itself. */
        sym_buf_reset(&b);
        sym_buf_append_str(&b, app->cfg->public_url);
        if (b.len > 0 && b.data[b.len - 1] == '/')
            b.data[--b.len] = '\0';
        sym_buf_append_str(&b, "/objects/");
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
            unsigned char c = *p;
            if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
                sym_buf_append_char(&b, (char)c);
            } else {
                char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
                sym_buf_append(&b, esc, 3);
            }
        }
    } else if (rc != SYM_OK) {
        sym_buf_cleanup(&b);
        return NULL;
    }
    return sym_buf_steal(&b, NULL);
}

static void download_work(struct srv_req_job *base)
{
    struct download_job *job = (struct download_job *)base;
    struct srv_app *app = base->app;
    uint64_t t0 = srv_now_us();
    job->found = -1;
    for (int i = 0; i < 2 && job->found < 0; i++) {
        if (!job->lookup_storage[i])
            continue;
        struct store_object_info info;
        uint64_t ts = srv_now_us();
        sym_err rc = app->store.ops->head(app->store.impl, job->dl.key[i], &info, &job->diag);
        srv_app_storage_observe(app, ts, rc);
        if (rc == SYM_OK) {
            job->location = object_location(app, job->dl.key[i]);
            if (job->location == NULL) {
                job->rc = SYM_ENOMEM;
                return;
            }
            job->found = i;
        } else if (rc != SYM_ENOTFOUND) {
            job->rc = rc;
            return;
        }
    }
    if (job->found < 0 && job->lookup_codeid) {
        PGconn *conn;
        uint64_t ts = srv_now_us();
        sym_err rc = db_acquire(app->db, &conn, &job->diag);
        if (rc == SYM_OK) {
            struct db_syminfo info;
            rc = db_syminfo_lookup(conn, job->dl.debug_filename, job->dl.debug_id, &info,
                                   &job->diag);
            db_release(app->db, conn);
            if (rc == SYM_OK) {
                job->codeid_found = true;
                job->codeid_debug_filename = info.debug_filename;
                job->codeid_debug_id = info.debug_id;
                info.debug_filename = info.debug_id = NULL;
                db_syminfo_cleanup(&info);
            }
        }
        srv_app_db_observe(app, ts, rc);
        if (rc != SYM_OK && rc != SYM_ENOTFOUND) {
            job->rc = rc;
            return;
        }
    }
    job->lookup_seconds = (double)(srv_now_us() - t0) / 1e6;
}

static void download_done(struct srv_req_job *base, h2o_req_t *req)
{
    struct download_job *job = (struct download_job *)base;
    struct srv_reqctx *rc = base->rc;
    struct srv_app *app = rc->app;
    const struct srv_config *cfg = app->cfg;
    struct download *dl = &job->dl;
    if (job->rc != SYM_OK) {
        srv_log_json(&app->log, SRV_LOG_ERROR, "download_lookup_failed", NULL, "%s: %s",
                     sym_errname(job->rc), job->diag.msg);
        srv_respond_sym_err(req, job->rc == SYM_ENOTFOUND ? SYM_EINTERNAL : job->rc, NULL);
        return;
    }
    uint64_t now = srv_now_us();
    uint64_t pos_until = now + app->exists_ttl_us;
    uint64_t neg_until = now + (uint64_t)cfg->exists_cache_negative_ttl_s * 1000000u;
    for (int i = 0; i < 2; i++) {
        if (!job->lookup_storage[i])
            continue;
        const char *key = dl->key[i];
        if (job->found == i)
            srv_ttlcache_put(app->exists_cache, key, strlen(key), job->location,
                             strlen(job->location), false, pos_until);
        else if (job->found < 0 && cfg->exists_cache_negative_ttl_s > 0)
            srv_ttlcache_put(app->exists_cache, key, strlen(key), NULL, 0, true, neg_until);
    }
    if (job->found >= 0) {
        respond_found(rc, req, dl, job->location, strlen(job->location), job->lookup_seconds);
        return;
    }
    if (job->lookup_codeid) {
        char ckey[1024];
        size_t klen = codeid_cache_key(dl, ckey, sizeof(ckey));
        uint64_t until = now + (uint64_t)cfg->codeid_cache_ttl_s * 1000000u;
        if (job->codeid_found) {
            char value[1024];
            int n = snprintf(value, sizeof(value), "%s/%s", job->codeid_debug_filename,
                             job->codeid_debug_id);
            if (klen > 0 && n > 0 && (size_t)n < sizeof(value) && cfg->codeid_cache_ttl_s > 0)
                srv_ttlcache_put(app->codeid_cache, ckey, klen, value, (size_t)n, false, until);
            respond_codeid(rc, req, dl, job->codeid_debug_filename, job->codeid_debug_id,
                           job->lookup_seconds);
            return;
        }
        if (klen > 0 && cfg->codeid_cache_ttl_s > 0)
            srv_ttlcache_put(app->codeid_cache, ckey, klen, NULL, 0, true, until);
    }
    respond_missing(rc, req, dl, job->lookup_seconds);
}

static void download_free(struct srv_req_job *base)
{
    struct download_job *job = (struct download_job *)base;
    free(job->location);
    free(job->codeid_debug_filename);
    free(job->codeid_debug_id);
    free(job->strings);
    free(job);
}

/* Copies the request's strings to the heap: the job may outlive the request. */
static struct download_job *job_new(const struct download *dl)
{
    size_t lens[5] = {dl->debug_filename_len, dl->debug_id_len, dl->filename_len,
                      strlen(dl->key[0]), dl->key[1] ? strlen(dl->key[1]) : 0};
    size_t total = 0;
    for (int i = 0; i < 5; i++)
        total += lens[i] + 1;
    struct download_job *job = calloc(1, sizeof(*job));
    char *s = malloc(total);
    if (job == NULL || s == NULL) {
        free(job);
        free(s);
        return NULL;
    }
    job->dl = *dl;
    job->dl.query = h2o_iovec_init(NULL, 0); /* not needed off the loop */
    job->strings = s;
    const char *src[5] = {dl->debug_filename, dl->debug_id, dl->filename, dl->key[0], dl->key[1]};
    const char **dst[5] = {&job->dl.debug_filename, &job->dl.debug_id, &job->dl.filename,
                           &job->dl.key[0], &job->dl.key[1]};
    for (int i = 0; i < 5; i++) {
        if (src[i] == NULL) {
            *dst[i] = NULL;
            continue;
        }
        memcpy(s, src[i], lens[i] + 1);
        *dst[i] = s;
        s += lens[i] + 1;
    }
    return job;
}

/* --- the handler ---------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool is_ignored(const struct srv_app *app, const struct download *dl)
{
    if (strcmp(dl->filename, "file.ptr") == 0)
        return true;
    if (strcmp(dl->debug_id, NULL_DEBUG_ID) == 0)
        return true;
    for (char **ext = app->download_exts; *ext; ext++)
        if (ends_with(dl->filename, dl->filename_len, *ext))
            return false;
    return true;
}

static bool debug_requested(h2o_req_t *req)
{
    size_t n;
    const char *v = srv_req_header(req, "debug", &n);
    if (v == NULL)
        return false;
    return (n == 1 && v[0] == '1') || (n == 4 && strncasecmp(v, "true", 4) == 0) ||
           (n == 3 && strncasecmp(v, "yes", 3) == 0);
}

static const char *build_key(h2o_req_t *req, bool try_storage, const struct download *dl)
{
    struct sym_buf b;
    sym_buf_init(&b, 4096);
    sym_err rc = store_key_build(&b, try_storage, dl->debug_filename, dl->debug_id, dl->filename);
    const char *key = NULL;
    if (rc == SYM_OK && sym_buf_err(&b) == SYM_OK)
        key = h2o_strdup(&req->pool, b.data, b.len).base;
    sym_buf_cleanup(&b);
    return key;
}

static void respond_not_found_json(h2o_req_t *req)
{
    json_t *body = json_object();
    size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    json_object_set_new(body, "error", json_string("Not Found"));
    json_object_set_new(body, "path", json_stringn(req->path.base, n > 1024 ? 1024 : n));
    srv_respond_json(req, 404, body);
}

void srv_handle_download(struct srv_reqctx *rc, h2o_req_t *req)
{
    struct srv_app *app = rc->app;
    const struct srv_config *cfg = app->cfg;
    struct download dl = {0};
    dl.debug_filename = rc->params[0];
    dl.debug_filename_len = rc->param_lens[0];
    dl.filename = rc->params[2];
    dl.filename_len = rc->param_lens[2];
    dl.debug_id_len = rc->param_lens[1];
    /* Paths a route of Tecken would not match get its JSON 404. */
    if (dl.debug_filename_len > cfg->max_path_component ||
        dl.filename_len > cfg->max_path_component || dl.debug_id_len > cfg->max_path_component ||
        !srv_component_valid(dl.debug_filename, dl.debug_filename_len) ||
        !srv_component_valid(dl.filename, dl.filename_len) ||
        !srv_hex_valid(rc->params[1], dl.debug_id_len)) {
        respond_not_found_json(req);
        return;
    }
    char *id = h2o_mem_alloc_pool(&req->pool, dl.debug_id_len + 1);
    for (size_t i = 0; i <= dl.debug_id_len; i++)
        id[i] = (char)toupper((unsigned char)rc->params[1][i]);
    dl.debug_id = id;
    dl.debug = debug_requested(req);
    dl.query = srv_req_query(req);
    if (is_ignored(app, &dl)) {
        add_cors(req);
        if (dl.debug)
            srv_add_header(req, "debug-time", "0");
        srv_respond_text(req, 404, "text/html; charset=utf-8", "Symbol Not Found (and ignored)");
        return;
    }
    dl.try_storage = strcmp(rc->route->name, "download_try") == 0 || srv_query_has(dl.query, "try");
    dl.refresh = srv_query_has(dl.query, "_refresh");
    dl.codeid_eligible =
        ends_with(dl.filename, dl.filename_len, ".sym") && dl.debug_id_len < DEBUG_ID_LEN;
    dl.key[0] = build_key(req, false, &dl);
    dl.key[1] = dl.try_storage ? build_key(req, true, &dl) : NULL;
    if (dl.key[0] == NULL || (dl.try_storage && dl.key[1] == NULL)) {
        respond_not_found_json(req);
        return;
    }

    /* The in-process caches first: a warm request never leaves the event loop. */
    bool lookup[2] = {true, dl.try_storage};
    uint64_t now = srv_now_us();
    if (!dl.refresh) {
        for (int i = 0; i < 2; i++) {
            if (!lookup[i])
                continue;
            char location[LOCATION_MAX];
            size_t len;
            enum srv_ttl_result r =
                srv_ttlcache_get(app->exists_cache, dl.key[i], strlen(dl.key[i]), now, location,
                                 sizeof(location), &len);
            if (r == SRV_TTL_HIT) {
                srv_counter_inc(app->m_exists_hit);
                rc->cache_state = "hit";
                respond_found(rc, req, &dl, location, len, 0.0);
                return;
            }
            if (r == SRV_TTL_NEGATIVE) {
                srv_counter_inc(app->m_exists_negative_hit);
                lookup[i] = false;
            } else {
                srv_counter_inc(app->m_exists_miss);
            }
        }
    }
    bool lookup_codeid = dl.codeid_eligible;
    if (!lookup[0] && !lookup[1]) {
        rc->cache_state = "negative";
        if (!dl.codeid_eligible) {
            respond_missing(rc, req, &dl, 0.0);
            return;
        }
        char ckey[1024], value[1024];
        size_t klen = codeid_cache_key(&dl, ckey, sizeof(ckey)), vlen;
        enum srv_ttl_result r =
            klen == 0 || dl.refresh
                ? SRV_TTL_MISS
                : srv_ttlcache_get(app->codeid_cache, ckey, klen, now, value, sizeof(value), &vlen);
        if (r != SRV_TTL_MISS) {
            srv_counter_inc(app->m_codeid_hit);
            char *slash = r == SRV_TTL_HIT ? strchr(value, '/') : NULL;
            if (slash != NULL) {
                *slash = '\0';
                respond_codeid(rc, req, &dl, value, slash + 1, 0.0);
            } else {
                respond_missing(rc, req, &dl, 0.0);
            }
            return;
        }
        srv_counter_inc(app->m_codeid_miss);
    } else {
        rc->cache_state = "miss";
    }

    struct download_job *job = job_new(&dl);
    if (job == NULL) {
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    job->lookup_storage[0] = lookup[0];
    job->lookup_storage[1] = lookup[1];
    job->lookup_codeid = lookup_codeid;
    job->dl.query = dl.query; /* read only in done(), on the loop, while the request lives */
    srv_req_job_submit(rc, req, &job->base, download_work, download_done, download_free);
}
