/* SPDX-License-Identifier: MPL-2.0 */
/* service.h: the symbolication service behind POST /symbolicate/v5 and /v4. It owns the
 * symcache store (sym/cache.h, LMDB: parsed modules survive restarts; size-bounded LRU; misses
 * remembered briefly), the symbol sources (fetch.h), its own blocking pool for fetching and
 * parsing, and the single-flight table that makes concurrent requests for one module share one
 * fetch and one parse.
 *
 * A request is a struct srv_symb_call. Its life, driven by the HTTP handler:
 *   parse -> run -> [fetch -> (notify) -> run] -> body
 * run() opens every module the request needs from the cache, zero-copy inside one read
 * snapshot, and writes the response; a module missing from the cache makes it answer
 * SRV_SYMB_NEED_FETCH instead, and fetch() then starts (or joins) one flight per missing module
 * on the service's pool and calls notify once all of them have finished. No step blocks on
 * I/O except the flights; run() is CPU work bounded by the request's size, so small requests run
 * on an event loop and large ones on a blocking thread (srv_symb_call_run_on_loop()).
 *
 * Thread-safety: the service is thread-safe; a call is used by one thread at a time (the flight
 * threads touch only its per-module result slots, before notify). Knows nothing of h2o. */
#ifndef SRV_SYMB_SERVICE_H
#define SRV_SYMB_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "storage/store.h"
#include "sym/buf.h"
#include "sym/cache.h"
#include "sym/err.h"
#include "symbolicate/request.h"

struct srv_symb_config {
    const char *cache_dir;        /* LMDB directory (created) */
    uint64_t cache_max_bytes;     /* bound of the store */
    bool cache_no_sync;           /* tests: skip fsync */
    uint32_t negative_ttl_s;      /* every source said "no such file", or the file is unusable */
    uint32_t error_ttl_s;         /* a source failed; 0: not remembered */
    uint32_t threads;             /* fetch and parse threads */
    const struct store *store;    /* this server's storage, or NULL */
    const char *upstream_urls;    /* comma-separated base URLs, or "" */
    uint32_t upstream_timeout_ms; /* per attempt */
    uint32_t upstream_connect_timeout_ms;
    uint32_t upstream_retries;
    uint32_t upstream_backoff_ms;
    const char *user_agent;
    uint64_t max_sym_bytes; /* uncompressed .sym size accepted from a source */
    bool keep_unwind;       /* keep STACK records in images */
    struct srv_symb_limits limits;
    uint64_t loop_max_frames; /* larger requests are written on a blocking thread */
};

struct srv_symbolicator;

/* Opens the cache and the upstream clients and starts the pool. SYM_EINVAL (bad URL), SYM_EIO
 * / SYM_EDENIED / SYM_ECORRUPT (the cache directory), SYM_ENOMEM; d says which. metrics and log
 * are borrowed for the service's life. */
sym_err srv_symbolicator_open(const struct srv_symb_config *cfg, struct srv_metrics *metrics,
                              const struct srv_log *log, struct srv_symbolicator **out,
                              struct sym_diag *d) SYM_MUST_CHECK;
/* The same with the settings of the server's configuration: the store in
 * <cache_dir>/symbolicate bounded by cache_max_mb, the SIGIL_SYMBOL_* upstreams and the
 * SIGIL_SYMBOLICATE_* limits. store is borrowed for the service's life. */
sym_err srv_symbolicator_open_config(const struct srv_config *cfg, const struct store *store,
                                     struct srv_metrics *metrics, const struct srv_log *log,
                                     struct srv_symbolicator **out,
                                     struct sym_diag *d) SYM_MUST_CHECK;
/* Waits for running flights, then frees everything. No call may be alive. NULL is a no-op. */
void srv_symbolicator_close(struct srv_symbolicator *s);

const struct srv_symb_limits *srv_symbolicator_limits(const struct srv_symbolicator *s);

/* ---- calls ---------------------------------------------------------------------------------- */

struct srv_symb_call;

/* debug: add the Debug statistics (v5). SYM_ENOMEM. */
sym_err srv_symb_call_new(struct srv_symbolicator *s, enum srv_symb_version version, bool debug,
                          struct srv_symb_call **out) SYM_MUST_CHECK;
/* NULL is a no-op. Must not be called while a fetch() is pending (before notify). */
void srv_symb_call_free(struct srv_symb_call *c);

/* Parses and validates the body. SYM_OK, or an error whose status and title are in
 * srv_symb_call_error(). */
sym_err srv_symb_call_parse(struct srv_symb_call *c, const char *body, size_t len) SYM_MUST_CHECK;
const struct srv_symb_error *srv_symb_call_error(const struct srv_symb_call *c);
/* True when the parsed request is small enough to be written on an event loop. */
bool srv_symb_call_run_on_loop(const struct srv_symb_call *c);

enum srv_symb_step {
    SRV_SYMB_DONE,       /* the body is ready: srv_symb_call_body() */
    SRV_SYMB_NEED_FETCH, /* some modules are not cached: srv_symb_call_fetch() */
};

/* Resolves the modules and, when all are known, writes the response body. Returns SYM_OK and
 * *step, or SYM_ENOMEM / SYM_ELIMIT (response too large). */
sym_err srv_symb_call_run(struct srv_symb_call *c, enum srv_symb_step *step) SYM_MUST_CHECK;

/* Starts or joins the flights of the modules run() found missing. notify(ctx) is called exactly
 * once when all of them have finished (their results are then in the call: run() again), from a
 * service thread, or from this one before fetch() returns when there was nothing to wait for. A
 * module whose flight cannot start (pool saturated, out of memory) is answered as not found. */
typedef void (*srv_symb_notify_fn)(void *ctx);
void srv_symb_call_fetch(struct srv_symb_call *c, srv_symb_notify_fn notify, void *ctx);

/* The response body (JSON) after SRV_SYMB_DONE; owned by the call. */
const char *srv_symb_call_body(const struct srv_symb_call *c, size_t *len_out);
/* Hands the body to the caller (free with sym_free); NULL when out of memory. */
char *srv_symb_call_steal_body(struct srv_symb_call *c, size_t *len_out);
/* "hit" (every module came from the cache), "miss" (something was fetched) or NULL (nothing
 * looked up), for the access log. */
const char *srv_symb_call_cache_state(const struct srv_symb_call *c);

#endif
