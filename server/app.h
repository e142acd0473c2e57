/* SPDX-License-Identifier: MPL-2.0 */
/* app.h: process state (struct srv_app), built in `sigil serve`, read-only once the worker
 * threads start; and per-event-loop state (struct srv_worker). Mutable shared parts (caches,
 * metrics, pools) are thread-safe objects of their own. */
#ifndef SRV_APP_H
#define SRV_APP_H

#define H2O_USE_LIBUV 0
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>
#include <h2o/multithread.h>

#include "config.h"
#include "db/pool.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "signature_json.h"
#include "storage/store.h"

struct srv_ttlcache;
struct srv_missing;
struct srv_symbolicator;
struct srv_route_metrics;
struct srv_store_source;
struct srv_http_source;

struct srv_worker {
    struct srv_app *app;
    unsigned id;
    h2o_context_t ctx; /* ctx.loop is this worker's event loop */
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t completions; /* srv_job done() callbacks */
    h2o_multithread_receiver_t control;     /* shutdown requests */
    pthread_t thread;
    sem_t *set_up;             /* posted by the worker once its loop exists; valid until then */
    uint64_t inflight;         /* requests started and not yet disposed; loop thread only */
    uint64_t next_req_id;      /* loop thread only */
    uint64_t jobs_outstanding; /* jobs whose done() will be delivered here; loop thread only */
    struct sym_buf access_log; /* lines not yet written; loop thread only */
    h2o_timeout_entry_t access_log_flush;
    bool stopping;
};

struct srv_app {
    const struct srv_config *cfg;
    struct srv_log log;
    struct srv_metrics *metrics;
    struct store store;
    struct db_pool *db;
    struct srv_jobs *jobs;
    struct srv_jobs *body_jobs; /* body routes: uploads, minidumps (see http/bodyreq.h) */
    char *spool_dir;            /* request bodies spooled to disk */
    _Atomic int body_inflight;  /* stream-transport requests being served */
    _Atomic uint64_t body_seq;
    struct srv_ttlcache *exists_cache; /* storage key -> redirect location (or negative) */
    struct srv_ttlcache *codeid_cache; /* "file/ID" -> debug_filename/debug_id (or negative) */
    struct srv_missing *missing;       /* batched missing-symbol counts */
    struct srv_signature signature;    /* siglists, reloaded on SIGHUP */
    bool signature_ready;
    pthread_key_t sig_generator_key; /* one signature generator per thread */
    bool sig_generator_key_ready;
    struct srv_store_source *sym_store_source; /* minidump symbols from own storage */
    struct srv_http_source *sym_http_source;   /* and from SIGIL_SYMBOL_URLS; NULL if none */
    struct srv_symbolicator *symbolicator;     /* POST /symbolicate/v5 and /v4 */
    char **download_exts;                      /* NULL-terminated allow-list */
    const char *bucket_name;                   /* for the database rows */
    uint64_t exists_ttl_us;                    /* positive existence-cache lifetime */
    h2o_globalconf_t h2o;
    struct srv_route_metrics *route_metrics; /* one per route, see http/router.c */
    uint32_t boot_id;                        /* random, prefixes generated request ids */
    struct srv_worker *workers;
    unsigned n_workers;
    int listen_fd;
    uint16_t bound_port;
    _Atomic bool stopping;

    /* Metrics used by the core paths. */
    struct srv_counter *m_storage_calls, *m_storage_errors, *m_db_calls, *m_db_errors;
    struct srv_counter *m_exists_hit, *m_exists_negative_hit, *m_exists_miss;
    struct srv_counter *m_codeid_hit, *m_codeid_miss;
    struct srv_histogram *m_storage_latency, *m_db_latency;
};

/* Ignores SIGPIPE and blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in every
 * thread it starts afterwards); fills set with those three for sigwait. */
void srv_app_block_signals(sigset_t *set);

/* Builds the app from cfg: opens storage, the database pool (checking the schema, migrating first
 * when configured), metrics, caches and the blocking pool. On failure prints one line to stderr
 * and returns the exit code (1 runtime, 2 configuration), leaving nothing open. */
int srv_app_open(struct srv_app *app, const struct srv_config *cfg);
void srv_app_close(struct srv_app *app);

/* Binds, starts the worker threads and serves until SIGTERM/SIGINT, then shuts down gracefully
 * (stop accepting, finish in-flight requests within the shutdown timeout). Returns the exit
 * code. */
int srv_app_serve(struct srv_app *app);

/* The worker that runs the loop of this request. */
struct srv_worker *srv_worker_of(h2o_req_t *req);

/* The calling thread's signature generator (created on first use), or NULL when out of
 * memory. */
struct sig_generator *srv_app_sig_generator(struct srv_app *app);

/* Opens the storage the settings name (SIGIL_STORAGE_URL and the S3 settings); store_open()'s
 * errors. */
sym_err srv_store_open_from_config(const struct srv_config *cfg, struct store *out,
                                   struct sym_diag *d) SYM_MUST_CHECK;

/* Monotonic microseconds. */
uint64_t srv_now_us(void);

/* Timed, counted storage and database calls for the blocking threads. */
void srv_app_storage_observe(struct srv_app *app, uint64_t started_us, sym_err rc);
void srv_app_db_observe(struct srv_app *app, uint64_t started_us, sym_err rc);

#endif
