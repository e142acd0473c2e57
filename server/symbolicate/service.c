/* SPDX-License-Identifier: MPL-2.0 */
/* service.c: the symbolication service: cache, single-flight fetches and call steps. */
#include "symbolicate/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buildinfo.h"
#include "jobs.h"
#include "sym/alloc.h"
#include "sym/image.h"
#include "symbolicate/fetch.h"
#include "symbolicate/modkey.h"
#include "symbolicate/response.h"
#include "symbolicate/upstream.h"

#define FLIGHT_BUCKETS 256
#define IDLE_READERS   64
#define BODY_MAX       ((size_t)2 << 30)
/* Images at least this large are handed to the waiting requests before being stored. */
#define EARLY_ANSWER_BYTES ((size_t)4 << 20)
/* A module evicted between its fetch and the request's next look costs one more round; past
 * this many rounds the request is answered with what it has. */
#define MAX_ROUNDS 4

/* ============================================================================================
 * Types
 * ========================================================================================== */

/* Image bytes handed from a flight to the calls that waited for it: they may not find them in
 * the cache (too large to store, or already evicted). */
struct blob {
    atomic_uint refs;
    size_t len;
    char *data;
};

struct waiter {
    struct waiter *next;
    struct srv_symb_call *call;
    uint32_t group;
};

struct flight {
    struct srv_job job;
    struct srv_symbolicator *svc;
    struct flight *next;
    uint64_t hash;
    char *key; /* "<debug_file>/<DEBUG_ID>", NUL-terminated; debug_file is key[0..file_len) */
    size_t file_len;
    struct waiter *waiters;
    /* Results, written by the flight thread before the waiters are told. */
    enum srv_symb_found found;
    bool from_cache; /* found in the cache after all: waiters read it from there */
    struct blob *blob;
    struct srv_symb_timing timing;
};

struct srv_symbolicator {
    const struct srv_log *log;
    uint32_t negative_ttl_s, error_ttl_s;
    struct srv_symb_limits limits;
    uint64_t loop_max_frames;
    struct sym_cache *cache;
    struct srv_jobs *pool;
    struct srv_upstream **upstreams;
    size_t n_upstreams;
    struct srv_symb_sources sources;

    pthread_mutex_t lock; /* flights and idle readers */
    struct flight *flights[FLIGHT_BUCKETS];
    struct sym_cache_reader *idle[IDLE_READERS];
    size_t n_idle;

    struct srv_counter *m_requests[2], *m_frames, *m_frames_symbolicated, *m_lookup_errors;
    struct srv_histogram *m_frames_per_request;
    struct srv_counter *m_cache_hit, *m_cache_negative, *m_cache_miss;
    struct srv_counter *m_fetch[4], *m_parses, *m_sym_bytes, *m_stored_bytes;
    struct srv_counter *m_cache_writes, *m_cache_write_errors, *m_joined, *m_flights;
    struct srv_histogram *m_fetch_latency, *m_parse_latency;
    struct srv_gauge *m_inflight, *m_cache_bytes, *m_cache_entries, *m_cache_evictions;
};

struct srv_symb_call {
    struct srv_symbolicator *svc;
    enum srv_symb_version version;
    bool debug;
    struct srv_symb_request req;
    struct srv_symb_error err;
    struct srv_symb_resolved *res;
    struct blob **blobs; /* per group: image bytes delivered by a flight */
    uint8_t *state;      /* per group, see GROUP_* */
    uint32_t *missing;   /* groups the last run() could not resolve */
    uint32_t n_missing;
    atomic_uint pending; /* flights not finished, + 1 while fetch() is starting them */
    srv_symb_notify_fn notify;
    void *notify_ctx;
    struct sym_buf body;
    double started_s;
    unsigned rounds;
    bool fetched_any, looked_any;
};

/* Per-group state across rounds. */
enum {
    GROUP_NEW = 0,       /* not looked up yet */
    GROUP_LOOKED = 1,    /* looked up in the cache once (counted in the metrics) */
    GROUP_DELIVERED = 2, /* a flight delivered its result: res[] (and blobs[]) hold it */
    GROUP_RECHECK = 3,   /* a flight found it cached: look in the cache again */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t wall_s(void)
{
    return (uint64_t)time(NULL);
}

static uint64_t hash_key(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void blob_unref(struct blob *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
        sym_free(b->data);
        sym_free(b);
    }
}

static struct blob *blob_ref(struct blob *b)
{
    if (b != NULL)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

/* ============================================================================================
 * Readers (MDB_NOTLS: any thread may use any reader, one at a time)
 * ========================================================================================== */

static struct sym_cache_reader *take_reader(struct srv_symbolicator *s)
{
    struct sym_cache_reader *r = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->n_idle > 0)
        r = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->lock);
    if (r == NULL && sym_cache_reader_new(s->cache, &r) != SYM_OK)
        return NULL;
    return r;
}

static void give_reader(struct srv_symbolicator *s, struct sym_cache_reader *r)
{
    if (r == NULL)
        return;
    sym_cache_release(r);
    pthread_mutex_lock(&s->lock);
    if (s->n_idle < IDLE_READERS) {
        s->idle[s->n_idle++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    sym_cache_reader_free(r);
}

/* ============================================================================================
 * Opening and closing
 * ========================================================================================== */

static void register_metrics(struct srv_symbolicator *s, struct srv_metrics *m)
{
    s->m_requests[0] =
        srv_metrics_counter(m, "sigil_symbolicate_requests_total",
                            "Symbolication requests accepted, by API version", "version=\"v4\"");
    s->m_requests[1] =
        srv_metrics_counter(m, "sigil_symbolicate_requests_total", NULL, "version=\"v5\"");
    s->m_frames = srv_metrics_counter(m, "sigil_symbolicate_frames_total",
                                      "Frames in accepted symbolication requests", "");
    static const uint64_t frame_bounds[] = {1,    10,   50,    100,   250,    500,
                                            1000, 2500, 10000, 25000, 100000, 1000000};
    s->m_frames_per_request = srv_metrics_histogram_bounds(
        m, "sigil_symbolicate_request_frames", "Frames per accepted symbolication request", "",
        frame_bounds, sizeof(frame_bounds) / sizeof(frame_bounds[0]));
    s->m_frames_symbolicated = srv_metrics_counter(m, "sigil_symbolicate_frames_symbolicated_total",
                                                   "Frames that got a function name", "");
    s->m_lookup_errors = srv_metrics_counter(m, "sigil_symbolicate_lookup_errors_total",
                                             "Frame lookups that met a corrupt cached module", "");
    s->m_cache_hit = srv_metrics_counter(m, "sigil_symbolicate_cache_total",
                                         "Module lookups in the symcache store", "result=\"hit\"");
    s->m_cache_negative =
        srv_metrics_counter(m, "sigil_symbolicate_cache_total", NULL, "result=\"negative\"");
    s->m_cache_miss =
        srv_metrics_counter(m, "sigil_symbolicate_cache_total", NULL, "result=\"miss\"");
    static const char *const results[4] = {"found", "notfound", "invalid", "unavailable"};
    for (int i = 0; i < 4; i++) {
        char labels[40];
        snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
        s->m_fetch[i] = srv_metrics_counter(m, "sigil_symbolicate_fetches_total",
                                            "Module fetches from the symbol sources", labels);
    }
    s->m_parses = srv_metrics_counter(m, "sigil_symbolicate_parses_total",
                                      "Symbol files parsed into symcaches", "");
    s->m_sym_bytes =
        srv_metrics_counter(m, "sigil_symbolicate_downloaded_bytes_total",
                            "Symbol file bytes read from the sources (uncompressed)", "");
    s->m_stored_bytes =
        srv_metrics_counter(m, "sigil_symbolicate_transferred_bytes_total",
                            "Symbol file bytes as transferred (compressed when stored so)", "");
    s->m_cache_writes =
        srv_metrics_counter(m, "sigil_symbolicate_cache_writes_total",
                            "Entries written to the symcache store", "result=\"ok\"");
    s->m_cache_write_errors =
        srv_metrics_counter(m, "sigil_symbolicate_cache_writes_total", NULL, "result=\"error\"");
    s->m_flights = srv_metrics_counter(m, "sigil_symbolicate_flights_total",
                                       "Module fetches started (one per module at a time)", "");
    s->m_joined =
        srv_metrics_counter(m, "sigil_symbolicate_flights_joined_total",
                            "Requests that waited for a fetch another request had started", "");
    s->m_fetch_latency = srv_metrics_histogram(m, "sigil_symbolicate_fetch_duration_seconds",
                                               "Fetch, inflate and parse of one module", "");
    s->m_parse_latency = srv_metrics_histogram(m, "sigil_symbolicate_parse_duration_seconds",
                                               "Inflate and parse time of one module", "");
    s->m_inflight = srv_metrics_gauge(m, "sigil_symbolicate_flights_inflight",
                                      "Module fetches running or queued", "");
    s->m_cache_bytes =
        srv_metrics_gauge(m, "sigil_symbolicate_cache_bytes",
                          "Bytes held by the symcache store (after the last write)", "");
    s->m_cache_entries =
        srv_metrics_gauge(m, "sigil_symbolicate_cache_entries",
                          "Entries in the symcache store, negative ones included", "");
    s->m_cache_evictions = srv_metrics_gauge(m, "sigil_symbolicate_cache_evictions",
                                             "Entries evicted since the store was created", "");
}

static sym_err open_upstreams(struct srv_symbolicator *s, const struct srv_symb_config *cfg,
                              struct sym_diag *d)
{
    const char *p = cfg->upstream_urls ? cfg->upstream_urls : "";
    size_t n = 0;
    for (const char *q = p; *q; q++)
        n += *q == ',';
    s->upstreams = sym_calloc(n + 1, sizeof(*s->upstreams));
    if (s->upstreams == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            char *url = sym_strndup(p, len);
            if (url == NULL)
                return sym_diag_set(d, SYM_ENOMEM, "out of memory");
            struct srv_upstream_config uc = {
                .base_url = url,
                .timeout_ms = cfg->upstream_timeout_ms,
                .connect_timeout_ms = cfg->upstream_connect_timeout_ms,
                .retries = cfg->upstream_retries,
                .backoff_ms = cfg->upstream_backoff_ms,
                .user_agent = cfg->user_agent,
            };
            sym_err rc = srv_upstream_new(&uc, &s->upstreams[s->n_upstreams], d);
            sym_free(url);
            if (rc != SYM_OK)
                return rc;
            s->n_upstreams++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return SYM_OK;
}

sym_err srv_symbolicator_open(const struct srv_symb_config *cfg, struct srv_metrics *metrics,
                              const struct srv_log *log, struct srv_symbolicator **out,
                              struct sym_diag *d)
{
    struct srv_symbolicator *s = sym_calloc(1, sizeof(*s));
    if (s == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->log = log;
    s->negative_ttl_s = cfg->negative_ttl_s ? cfg->negative_ttl_s : 1;
    s->error_ttl_s = cfg->error_ttl_s;
    s->limits = cfg->limits;
    s->loop_max_frames = cfg->loop_max_frames;
    register_metrics(s, metrics);

    struct sym_cache_opts co;
    sym_cache_opts_init(&co);
    co.max_bytes = cfg->cache_max_bytes;
    co.negative_ttl_s = s->negative_ttl_s;
    co.no_sync = cfg->cache_no_sync;
    sym_err rc = sym_cache_open(cfg->cache_dir, &co, &s->cache, d);
    if (rc == SYM_OK)
        rc = open_upstreams(s, cfg, d);
    if (rc == SYM_OK) {
        s->pool = srv_jobs_new(cfg->threads ? cfg->threads : 1, 0);
        if (s->pool == NULL)
            rc = sym_diag_set(d, SYM_ENOMEM, "cannot start the symbolication threads");
    }
    if (rc != SYM_OK) {
        srv_symbolicator_close(s);
        return rc;
    }
    s->sources.store = cfg->store;
    s->sources.upstreams = s->upstreams;
    s->sources.n_upstreams = s->n_upstreams;
    s->sources.max_sym_bytes = cfg->max_sym_bytes;
    /* An image larger than the whole cache could never be kept. */
    s->sources.max_image_bytes = co.max_bytes;
    s->sources.keep_unwind = cfg->keep_unwind;
    *out = s;
    return SYM_OK;
}

sym_err srv_symbolicator_open_config(const struct srv_config *cfg, const struct store *store,
                                     struct srv_metrics *metrics, const struct srv_log *log,
                                     struct srv_symbolicator **out, struct sym_diag *d)
{
    struct sym_buf dir, ua;
    sym_buf_init(&dir, 0);
    sym_buf_init(&ua, 0);
    sym_buf_printf(&dir, "%s/symbolicate", cfg->cache_dir);
    sym_buf_printf(&ua, "sigil/%s", srv_version());
    if (sym_buf_err(&dir) != SYM_OK || sym_buf_err(&ua) != SYM_OK) {
        sym_buf_cleanup(&dir);
        sym_buf_cleanup(&ua);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    struct srv_symb_config sc = {
        .cache_dir = dir.data,
        .cache_max_bytes = cfg->cache_max_mb << 20,
        .negative_ttl_s = cfg->symbolicate_negative_ttl_s,
        .error_ttl_s = cfg->symbolicate_error_ttl_s,
        .threads = cfg->symbolicate_threads,
        .store = store,
        .upstream_urls = cfg->symbol_urls,
        .upstream_timeout_ms = cfg->symbol_timeout_ms,
        .upstream_connect_timeout_ms = cfg->symbol_connect_timeout_ms,
        .upstream_retries = cfg->symbol_retries,
        .user_agent = ua.data,
        .max_sym_bytes = cfg->symbolicate_max_sym_bytes,
        .limits = {cfg->symbolicate_max_frames, cfg->symbolicate_max_modules,
                   cfg->symbolicate_max_stacks},
        .loop_max_frames = cfg->symbolicate_loop_frames,
    };
    sym_err rc = srv_symbolicator_open(&sc, metrics, log, out, d);
    sym_buf_cleanup(&dir);
    sym_buf_cleanup(&ua);
    return rc;
}

void srv_symbolicator_close(struct srv_symbolicator *s)
{
    if (s == NULL)
        return;
    srv_jobs_free(s->pool); /* runs what is queued: every flight completes */
    for (size_t i = 0; i < s->n_idle; i++)
        sym_cache_reader_free(s->idle[i]);
    for (size_t i = 0; i < s->n_upstreams; i++)
        srv_upstream_free(s->upstreams[i]);
    sym_free(s->upstreams);
    sym_cache_close(s->cache);
    pthread_mutex_destroy(&s->lock);
    sym_free(s);
}

const struct srv_symb_limits *srv_symbolicator_limits(const struct srv_symbolicator *s)
{
    return &s->limits;
}

/* ============================================================================================
 * Flights
 * ========================================================================================== */

/* The cache key parts of a group: its debug file and its debug id upper-cased (into id_buf,
 * SYM_CACHE_MAX_KEY + 1 bytes). False when the pair is too long to be a key. */
static bool group_key(const struct srv_symb_group *g, char *id_buf, struct sym_slice *file,
                      struct sym_slice *id)
{
    if ((size_t)g->filename_len + g->id_len > SYM_CACHE_MAX_KEY)
        return false;
    for (uint32_t i = 0; i < g->id_len; i++) {
        char c = g->debug_id[i];
        id_buf[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    id_buf[g->id_len] = '\0';
    *file = sym_slice_make(g->debug_filename, g->filename_len);
    *id = sym_slice_make(id_buf, g->id_len);
    return true;
}

static void deliver(struct flight *f, struct srv_symb_call *c, uint32_t group)
{
    struct srv_symb_resolved *r = &c->res[group];
    double cache_s = r->timing.cache_s;
    r->found = f->found;
    r->timing = f->timing;
    r->timing.cache_s = cache_s; /* this request's own look, which missed */
    r->timing.cache_hit = false;
    blob_unref(c->blobs[group]);
    c->blobs[group] = blob_ref(f->blob);
    c->state[group] = f->from_cache ? GROUP_RECHECK : GROUP_DELIVERED;
    if (atomic_fetch_sub(&c->pending, 1) == 1)
        c->notify(c->notify_ctx);
}

/* Records a fetch's outcome: metrics, debug timings, the log line's fields, the negative entry
 * of a miss, and the image bytes (the blob) of a hit. Returns the answer for the waiters. */
static enum srv_symb_found settle_fetch(struct flight *f, struct srv_symb_fetch_out *out,
                                        json_t *fields)
{
    struct srv_symbolicator *s = f->svc;
    srv_counter_inc(s->m_fetch[out->result]);
    srv_counter_add(s->m_sym_bytes, out->sym_bytes);
    srv_counter_add(s->m_stored_bytes, out->stored_bytes);
    srv_histogram_observe_us(s->m_fetch_latency, (uint64_t)(out->timing.total_s * 1e6));
    f->timing.download_s = out->timing.fetch_s + out->timing.inflate_s;
    f->timing.download_bytes = out->sym_bytes;
    if (out->result == SRV_SYMB_FETCH_FOUND || out->result == SRV_SYMB_FETCH_INVALID) {
        f->timing.downloaded = out->sym_bytes > 0;
        f->timing.download_failed = !f->timing.downloaded;
        f->timing.parse_s = out->timing.parse_s;
        f->timing.parsed = out->result == SRV_SYMB_FETCH_FOUND;
        f->timing.parse_failed = f->timing.downloaded && !f->timing.parsed;
        if (f->timing.downloaded) {
            srv_counter_inc(s->m_parses);
            srv_histogram_observe_us(s->m_parse_latency,
                                     (uint64_t)((out->timing.inflate_s + f->timing.parse_s) * 1e6));
        }
    } else {
        f->timing.download_failed = true;
    }
    json_object_set_new(fields, "module", json_string(f->key));
    json_object_set_new(fields, "source", json_string(out->source));
    json_object_set_new(fields, "sym_bytes", json_integer((json_int_t)out->sym_bytes));
    json_object_set_new(fields, "fetch_s", json_real(out->timing.fetch_s));
    json_object_set_new(fields, "inflate_s", json_real(out->timing.inflate_s));
    json_object_set_new(fields, "parse_s", json_real(out->timing.parse_s));
    json_object_set_new(fields, "parse_held_s", json_real(out->timing.held_s));
    if (out->result != SRV_SYMB_FETCH_FOUND) {
        uint32_t ttl = out->result == SRV_SYMB_FETCH_UNAVAIL ? s->error_ttl_s : s->negative_ttl_s;
        struct sym_slice file = sym_slice_make(f->key, f->file_len);
        struct sym_slice id = sym_slice_cstr(f->key + f->file_len + 1);
        if (ttl > 0 && sym_cache_put_negative(s->cache, file, id, wall_s(), ttl) != SYM_OK)
            srv_counter_inc(s->m_cache_write_errors);
        json_object_set_new(fields, "reason", json_string(out->reason));
        return SRV_SYMB_MISSING;
    }
    json_object_set_new(fields, "image_bytes", json_integer((json_int_t)out->image.len));
    /* The waiters get the bytes themselves: the entry may be evicted before they look, or may
     * not fit at all. */
    f->blob = sym_calloc(1, sizeof(*f->blob));
    if (f->blob == NULL)
        return SRV_SYMB_MISSING;
    atomic_init(&f->blob->refs, 1);
    f->blob->data = sym_buf_steal(&out->image, &f->blob->len);
    if (f->blob->data == NULL) {
        sym_free(f->blob);
        f->blob = NULL;
        return SRV_SYMB_MISSING;
    }
    return SRV_SYMB_FOUND;
}

/* Writes the flight's image into the store. */
static void store_image(struct flight *f, json_t *fields)
{
    struct srv_symbolicator *s = f->svc;
    struct sym_slice file = sym_slice_make(f->key, f->file_len);
    struct sym_slice id = sym_slice_cstr(f->key + f->file_len + 1);
    double t0 = now_s();
    sym_err rc = sym_cache_put(s->cache, file, id, f->blob->data, f->blob->len, wall_s());
    f->timing.save_s = now_s() - t0;
    f->timing.saved = rc == SYM_OK;
    srv_counter_inc(rc == SYM_OK ? s->m_cache_writes : s->m_cache_write_errors);
    json_object_set_new(fields, "cache_write_s", json_real(f->timing.save_s));
    struct sym_cache_stats cs;
    if (sym_cache_stats(s->cache, &cs) == SYM_OK) {
        srv_gauge_set(s->m_cache_bytes, (int64_t)cs.bytes);
        srv_gauge_set(s->m_cache_entries, (int64_t)cs.entries);
        srv_gauge_set(s->m_cache_evictions, (int64_t)cs.evictions);
    }
    if (rc != SYM_OK)
        json_object_set_new(fields, "cache_error", json_string(sym_strerror(rc)));
}

/* Hands the result to the waiters registered so far; with `last`, the flight also leaves the
 * table, so later requests find the store instead. */
static void deliver_all(struct flight *f, bool last)
{
    struct srv_symbolicator *s = f->svc;
    pthread_mutex_lock(&s->lock);
    if (last) {
        struct flight **pp = &s->flights[f->hash % FLIGHT_BUCKETS];
        while (*pp != f)
            pp = &(*pp)->next;
        *pp = f->next;
    }
    struct waiter *w = f->waiters;
    f->waiters = NULL;
    pthread_mutex_unlock(&s->lock);
    while (w != NULL) {
        struct waiter *next = w->next;
        deliver(f, w->call, w->group);
        sym_free(w);
        w = next;
    }
}

static void flight_work(struct srv_job *job)
{
    struct flight *f = (struct flight *)job;
    struct srv_symbolicator *s = f->svc;
    struct sym_slice file = sym_slice_make(f->key, f->file_len);
    struct sym_slice id = sym_slice_cstr(f->key + f->file_len + 1);

    /* A flight that just finished may have stored it between the caller's look and now. */
    struct sym_cache_reader *r = take_reader(s);
    struct sym_cache_value v;
    sym_err rc = r ? sym_cache_get(r, file, id, wall_s(), &v) : SYM_ENOTFOUND;
    if (rc == SYM_OK) {
        f->found = v.kind == SYM_CACHE_IMAGE ? SRV_SYMB_FOUND : SRV_SYMB_MISSING;
        f->from_cache = v.kind == SYM_CACHE_IMAGE;
        f->timing.cache_hit = true;
    }
    give_reader(s, r);
    if (rc == SYM_OK) {
        deliver_all(f, true);
        srv_gauge_add(s->m_inflight, -1);
        return;
    }
    /* The id of the key is upper-cased, as storage keys and Tecken URLs have it. */
    char debug_file[SYM_CACHE_MAX_KEY + 1];
    memcpy(debug_file, f->key, f->file_len);
    debug_file[f->file_len] = '\0';
    struct srv_symb_fetch_out out;
    json_t *fields = json_object();
    sym_err frc = srv_symb_fetch(&s->sources, debug_file, id.p, &out);
    f->found = frc == SYM_OK ? settle_fetch(f, &out, fields) : SRV_SYMB_MISSING;
    srv_symb_fetch_out_cleanup(&out);
    if (f->found == SRV_SYMB_FOUND) {
        /* A large image is written to the store after the waiting requests have their answer:
         * the write is not on their critical path. Requests arriving meanwhile still join this
         * flight (it stays in the table) and are answered once the entry is stored. */
        if (f->blob->len >= EARLY_ANSWER_BYTES)
            deliver_all(f, false);
        store_image(f, fields);
    }
    srv_log_json(s->log,
                 f->found == SRV_SYMB_FOUND || out.result != SRV_SYMB_FETCH_UNAVAIL ? SRV_LOG_INFO
                                                                                    : SRV_LOG_WARN,
                 "symbolicate_fetch", fields, "%s %s",
                 f->found == SRV_SYMB_FOUND ? "parsed" : "no symbols for", f->key);
    deliver_all(f, true);
    srv_gauge_add(s->m_inflight, -1);
}

/* Runs on the pool thread right after flight_work(): the pool reads the job after work(). */
static void flight_free(struct srv_job *job)
{
    struct flight *f = (struct flight *)job;
    blob_unref(f->blob);
    sym_free(f->key);
    sym_free(f);
}

/* Adds c as a waiter for group g's module, starting a flight when none runs. Called with
 * s->lock held. False when no flight could be started. */
static bool join_or_start(struct srv_symbolicator *s, struct srv_symb_call *c, uint32_t g,
                          const char *key, size_t key_len, size_t file_len)
{
    struct waiter *w = sym_calloc(1, sizeof(*w));
    if (w == NULL)
        return false;
    w->call = c;
    w->group = g;
    uint64_t h = hash_key(key, key_len);
    struct flight *f = s->flights[h % FLIGHT_BUCKETS];
    while (f != NULL && !(f->hash == h && strcmp(f->key, key) == 0))
        f = f->next;
    if (f != NULL) {
        w->next = f->waiters;
        f->waiters = w;
        srv_counter_inc(s->m_joined);
        return true;
    }
    f = sym_calloc(1, sizeof(*f));
    char *k = sym_strndup(key, key_len);
    if (f == NULL || k == NULL) {
        sym_free(f);
        sym_free(k);
        sym_free(w);
        return false;
    }
    f->svc = s;
    f->key = k;
    f->file_len = file_len;
    f->hash = h;
    f->waiters = w;
    f->job.work = flight_work;
    f->job.done = flight_free;
    f->job.receiver = NULL; /* done runs on the pool thread */
    if (srv_jobs_submit(s->pool, &f->job) != SYM_OK) {
        sym_free(k);
        sym_free(f);
        sym_free(w);
        return false;
    }
    f->next = s->flights[h % FLIGHT_BUCKETS];
    s->flights[h % FLIGHT_BUCKETS] = f;
    srv_counter_inc(s->m_flights);
    srv_gauge_add(s->m_inflight, 1);
    return true;
}

/* ============================================================================================
 * Calls
 * ========================================================================================== */

sym_err srv_symb_call_new(struct srv_symbolicator *s, enum srv_symb_version version, bool debug,
                          struct srv_symb_call **out)
{
    struct srv_symb_call *c = sym_calloc(1, sizeof(*c));
    if (c == NULL)
        return SYM_ENOMEM;
    c->svc = s;
    c->version = version;
    c->debug = debug && version == SRV_SYMB_V5;
    sym_buf_init(&c->body, BODY_MAX);
    atomic_init(&c->pending, 0);
    *out = c;
    return SYM_OK;
}

void srv_symb_call_free(struct srv_symb_call *c)
{
    if (c == NULL)
        return;
    if (c->blobs != NULL)
        for (uint32_t g = 0; g < c->req.n_groups; g++)
            blob_unref(c->blobs[g]);
    sym_free(c->blobs);
    sym_free(c->res);
    sym_free(c->state);
    sym_free(c->missing);
    srv_symb_request_free(&c->req);
    sym_buf_cleanup(&c->body);
    sym_free(c);
}

sym_err srv_symb_call_parse(struct srv_symb_call *c, const char *body, size_t len)
{
    c->started_s = now_s();
    sym_err rc = srv_symb_request_parse(body, len, c->version, &c->svc->limits, &c->req, &c->err);
    if (rc != SYM_OK)
        return rc;
    size_t n = c->req.n_groups ? c->req.n_groups : 1;
    c->res = sym_calloc(n, sizeof(*c->res));
    c->blobs = sym_calloc(n, sizeof(*c->blobs));
    c->state = sym_calloc(n, 1);
    c->missing = sym_calloc(n, sizeof(*c->missing));
    if (c->res == NULL || c->blobs == NULL || c->state == NULL || c->missing == NULL) {
        c->err.status = 503;
        snprintf(c->err.title, sizeof(c->err.title), "Service Unavailable: out of memory");
        return SYM_ENOMEM;
    }
    srv_counter_inc(c->svc->m_requests[c->version == SRV_SYMB_V5 ? 1 : 0]);
    srv_counter_add(c->svc->m_frames, c->req.n_frames);
    srv_histogram_observe(c->svc->m_frames_per_request, c->req.n_frames);
    return SYM_OK;
}

const struct srv_symb_error *srv_symb_call_error(const struct srv_symb_call *c)
{
    return &c->err;
}

bool srv_symb_call_run_on_loop(const struct srv_symb_call *c)
{
    return c->svc->loop_max_frames == 0 || c->req.n_frames <= c->svc->loop_max_frames;
}

/* Opens the image of a found group from the bytes a flight delivered. */
static bool open_delivered(struct srv_symb_call *c, uint32_t g)
{
    struct blob *b = c->blobs[g];
    struct sym_image *img;
    if (b == NULL || sym_image_open(b->data, b->len, &img, NULL) != SYM_OK)
        return false;
    c->res[g].img = img;
    return true;
}

/* Looks group g up in the reader's snapshot. Returns false when it must be fetched. */
static bool resolve_cached(struct srv_symb_call *c, struct sym_cache_reader *r, uint32_t g)
{
    struct srv_symbolicator *s = c->svc;
    const struct srv_symb_group *grp = &c->req.groups[g];
    struct srv_symb_resolved *res = &c->res[g];
    bool first = c->state[g] == GROUP_NEW;
    char id_buf[SYM_CACHE_MAX_KEY + 1];
    struct sym_slice file, id;
    if (!group_key(grp, id_buf, &file, &id)) {
        res->found = SRV_SYMB_MISSING; /* no symbol file can have such a name */
        return true;
    }
    double t0 = now_s();
    struct sym_cache_value v;
    sym_err rc = r ? sym_cache_get(r, file, id, wall_s(), &v) : SYM_EUNAVAIL;
    struct sym_image *img = NULL;
    if (rc == SYM_OK && v.kind == SYM_CACHE_IMAGE &&
        sym_image_open(v.data, v.len, &img, NULL) != SYM_OK) {
        /* A stored image that does not open is dropped and rebuilt. */
        rc = SYM_ECORRUPT;
        sym_err del = sym_cache_delete(s->cache, file, id);
        (void)del;
    }
    if (first) {
        c->state[g] = GROUP_LOOKED;
        res->timing.cache_s = now_s() - t0;
        srv_counter_inc(rc != SYM_OK                   ? s->m_cache_miss
                        : v.kind == SYM_CACHE_NEGATIVE ? s->m_cache_negative
                                                       : s->m_cache_hit);
    }
    if (rc != SYM_OK)
        return false;
    if (first)
        res->timing.cache_hit = true;
    if (v.kind == SYM_CACHE_NEGATIVE) {
        res->found = SRV_SYMB_MISSING;
        return true;
    }
    res->found = SRV_SYMB_FOUND;
    res->img = img;
    return true;
}

static void close_images(struct srv_symb_call *c)
{
    for (uint32_t g = 0; g < c->req.n_groups; g++) {
        sym_image_close((struct sym_image *)c->res[g].img);
        c->res[g].img = NULL;
    }
}

static sym_err write_body(struct srv_symb_call *c)
{
    struct srv_symb_write_stats st;
    sym_buf_reset(&c->body);
    sym_err rc;
    if (c->version == SRV_SYMB_V5) {
        struct srv_symb_debug dbg = {now_s() - c->started_s};
        rc = srv_symb_write_v5(&c->req, c->res, c->debug ? &dbg : NULL, &c->body, &st);
    } else {
        rc = srv_symb_write_v4(&c->req, c->res, &c->body, &st);
    }
    if (rc == SYM_OK) {
        srv_counter_add(c->svc->m_frames_symbolicated, st.frames_symbolicated);
        srv_counter_add(c->svc->m_lookup_errors, st.lookup_errors);
    }
    return rc;
}

sym_err srv_symb_call_run(struct srv_symb_call *c, enum srv_symb_step *step)
{
    struct srv_symbolicator *s = c->svc;
    struct sym_cache_reader *r = NULL;
    c->n_missing = 0;
    c->rounds++;
    for (uint32_t g = 0; g < c->req.n_groups; g++) {
        if (!c->req.groups[g].referenced)
            continue;
        c->looked_any = true;
        if (c->state[g] == GROUP_DELIVERED) {
            if (c->res[g].found == SRV_SYMB_FOUND && !open_delivered(c, g))
                c->res[g].found = SRV_SYMB_MISSING;
            continue;
        }
        if (r == NULL)
            r = take_reader(s);
        if (!resolve_cached(c, r, g)) {
            if (c->rounds >= MAX_ROUNDS)
                c->res[g].found = SRV_SYMB_MISSING;
            else
                c->missing[c->n_missing++] = g;
        }
    }
    sym_err rc = SYM_OK;
    if (c->n_missing > 0) {
        *step = SRV_SYMB_NEED_FETCH;
    } else {
        rc = write_body(c);
        *step = SRV_SYMB_DONE;
    }
    /* Images point into the snapshot (or the blobs): close them before it is released. */
    close_images(c);
    give_reader(s, r);
    return rc;
}

void srv_symb_call_fetch(struct srv_symb_call *c, srv_symb_notify_fn notify, void *ctx)
{
    struct srv_symbolicator *s = c->svc;
    c->notify = notify;
    c->notify_ctx = ctx;
    c->fetched_any = true;
    /* The extra count keeps notify from firing while flights are still being started. */
    atomic_store(&c->pending, c->n_missing + 1);
    struct sym_buf key;
    sym_buf_init(&key, SYM_CACHE_MAX_KEY + 2);
    for (uint32_t i = 0; i < c->n_missing; i++) {
        uint32_t g = c->missing[i];
        const struct srv_symb_group *grp = &c->req.groups[g];
        sym_buf_reset(&key);
        srv_symb_module_key(&key, grp->debug_filename, grp->filename_len, grp->debug_id,
                            grp->id_len);
        bool ok = sym_buf_err(&key) == SYM_OK;
        if (ok) {
            pthread_mutex_lock(&s->lock);
            ok = join_or_start(s, c, g, key.data, key.len, grp->filename_len);
            pthread_mutex_unlock(&s->lock);
        }
        if (!ok) {
            c->res[g].found = SRV_SYMB_MISSING;
            c->state[g] = GROUP_DELIVERED;
            atomic_fetch_sub(&c->pending, 1);
        }
    }
    sym_buf_cleanup(&key);
    c->n_missing = 0;
    if (atomic_fetch_sub(&c->pending, 1) == 1)
        notify(ctx);
}

const char *srv_symb_call_body(const struct srv_symb_call *c, size_t *len_out)
{
    *len_out = c->body.len;
    return c->body.data ? c->body.data : "";
}

char *srv_symb_call_steal_body(struct srv_symb_call *c, size_t *len_out)
{
    return sym_buf_steal(&c->body, len_out);
}

const char *srv_symb_call_cache_state(const struct srv_symb_call *c)
{
    if (c->fetched_any)
        return "miss";
    return c->looked_any ? "hit" : NULL;
}
