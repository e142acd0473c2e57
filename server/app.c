/* SPDX-License-Identifier: MPL-2.0 */
/* app.c: building the process state, the event-loop threads, the listening socket and graceful
 * shutdown. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <h2o/version.h>

#include "db/migrate.h"
#include "http/bodyreq.h"
#include "http/router.h"
#include "missing.h"
#include "symbolicate/service.h"
#include "symsource/http_source.h"
#include "symsource/store_source.h"
#include "ttlcache.h"

sym_err srv_store_open_from_config(const struct srv_config *cfg, struct store *out,
                                   struct sym_diag *d)
{
    struct store_config scfg = {
        .url = cfg->storage_url,
        .access_key = cfg->s3_access_key,
        .secret_key = cfg->s3_secret_key,
        .public_url = *cfg->storage_public_url ? cfg->storage_public_url : NULL,
        .presign_expiry_s = cfg->storage_presign_expiry_s,
        .timeout_ms = cfg->storage_timeout_ms,
        .connect_timeout_ms = cfg->storage_timeout_ms < 5000 ? cfg->storage_timeout_ms : 5000,
        .retries = cfg->storage_retries,
    };
    return store_open(&scfg, out, d);
}

uint64_t srv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct srv_worker *srv_worker_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(struct srv_worker, ctx, req->conn->ctx);
}

void srv_app_storage_observe(struct srv_app *app, uint64_t started_us, sym_err rc)
{
    srv_counter_inc(app->m_storage_calls);
    if (rc != SYM_OK && rc != SYM_ENOTFOUND)
        srv_counter_inc(app->m_storage_errors);
    srv_histogram_observe_us(app->m_storage_latency, srv_now_us() - started_us);
}

void srv_app_db_observe(struct srv_app *app, uint64_t started_us, sym_err rc)
{
    srv_counter_inc(app->m_db_calls);
    if (rc != SYM_OK && rc != SYM_ENOTFOUND)
        srv_counter_inc(app->m_db_errors);
    srv_histogram_observe_us(app->m_db_latency, srv_now_us() - started_us);
}

static void free_generator(void *g)
{
    sig_generator_free(g);
}

struct sig_generator *srv_app_sig_generator(struct srv_app *app)
{
    struct sig_generator *g = pthread_getspecific(app->sig_generator_key);
    if (g == NULL && sig_generator_new(&g) == SYM_OK)
        pthread_setspecific(app->sig_generator_key, g);
    return g;
}

static void register_core_metrics(struct srv_app *app)
{
    struct srv_metrics *m = app->metrics;
    app->m_storage_calls =
        srv_metrics_counter(m, "sigil_storage_calls_total", "Object storage calls", "");
    app->m_storage_errors =
        srv_metrics_counter(m, "sigil_storage_errors_total",
                            "Object storage calls that failed (not-found excluded)", "");
    app->m_storage_latency = srv_metrics_histogram(m, "sigil_storage_call_duration_seconds",
                                                   "Object storage call latency", "");
    app->m_db_calls = srv_metrics_counter(m, "sigil_db_calls_total", "Database calls", "");
    app->m_db_errors =
        srv_metrics_counter(m, "sigil_db_errors_total", "Database calls that failed", "");
    app->m_db_latency =
        srv_metrics_histogram(m, "sigil_db_call_duration_seconds", "Database call latency", "");
    app->m_exists_hit =
        srv_metrics_counter(m, "sigil_cache_requests_total", "Lookups in the in-process caches",
                            "cache=\"exists\",result=\"hit\"");
    app->m_exists_negative_hit = srv_metrics_counter(m, "sigil_cache_requests_total", NULL,
                                                     "cache=\"exists\",result=\"negative\"");
    app->m_exists_miss = srv_metrics_counter(m, "sigil_cache_requests_total", NULL,
                                             "cache=\"exists\",result=\"miss\"");
    app->m_codeid_hit = srv_metrics_counter(m, "sigil_cache_requests_total", NULL,
                                            "cache=\"codeid\",result=\"hit\"");
    app->m_codeid_miss = srv_metrics_counter(m, "sigil_cache_requests_total", NULL,
                                             "cache=\"codeid\",result=\"miss\"");
}

/* The bucket (or folder) name recorded with uploaded files. */
static const char *bucket_of(const char *storage_url)
{
    if (strncmp(storage_url, "s3://", 5) == 0)
        return storage_url + 5;
    return storage_url;
}

void srv_app_block_signals(sigset_t *set)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

int srv_app_open(struct srv_app *app, const struct srv_config *cfg)
{
    /* Before any thread starts (pools, flushers): every thread inherits the mask, so the
     * shutdown signals reach only the main thread's sigwait, never a default action. */
    sigset_t set;
    srv_app_block_signals(&set);
    memset(app, 0, sizeof(*app));
    app->cfg = cfg;
    app->listen_fd = -1;
    srv_log_init(&app->log, cfg->log_level);
    if (getrandom(&app->boot_id, sizeof(app->boot_id), 0) != sizeof(app->boot_id))
        app->boot_id = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    app->metrics = srv_metrics_new();
    if (app->metrics == NULL) {
        fprintf(stderr, "sigil: out of memory\n");
        return 1;
    }
    register_core_metrics(app);

    struct sym_diag d = {0};
    sym_err rc = srv_store_open_from_config(cfg, &app->store, &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: storage-url: %s\n", d.msg[0] ? d.msg : sym_strerror(rc));
        srv_app_close(app);
        return rc == SYM_EINVAL ? 2 : 1;
    }
    app->bucket_name = bucket_of(cfg->storage_url);
    /* A cached presigned URL must outlive its cache entry. */
    uint64_t ttl_s = cfg->exists_cache_ttl_s;
    if (strncmp(cfg->storage_url, "s3://", 5) == 0 && *cfg->storage_public_url == '\0' &&
        ttl_s > cfg->storage_presign_expiry_s / 2)
        ttl_s = cfg->storage_presign_expiry_s / 2;
    app->exists_ttl_us = ttl_s * 1000000u;

    struct db_pool_config pcfg = {
        .conninfo = cfg->database_url,
        .size = cfg->db_pool_size,
        .statement_timeout_ms = cfg->db_statement_timeout_ms,
        .connect_timeout_s = cfg->db_connect_timeout_s,
        .application_name = "sigil",
    };
    rc = db_pool_open(&pcfg, &app->db, &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: database-url: %s\n", d.msg);
        srv_app_close(app);
        return 1;
    }
    PGconn *conn;
    rc = db_acquire(app->db, &conn, &d);
    if (rc == SYM_OK) {
        if (cfg->migrate_on_start) {
            int applied = 0;
            rc = db_migrate(conn, &applied, &d);
            if (rc == SYM_OK && applied > 0)
                srv_log_info(&app->log, "migrated", "applied %d migration(s)", applied);
        }
        if (rc == SYM_OK)
            rc = db_check_schema(conn, &d);
        db_release(app->db, conn);
    }
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: %s\n", d.msg);
        srv_app_close(app);
        return 1;
    }

    app->jobs = srv_jobs_new(cfg->blocking_threads, 65536);
    app->body_jobs = srv_jobs_new(cfg->body_threads, (size_t)cfg->body_threads * 16);
    if (*cfg->spool_dir) {
        app->spool_dir = strdup(cfg->spool_dir);
    } else if (asprintf(&app->spool_dir, "%s/spool", cfg->cache_dir) < 0) {
        app->spool_dir = NULL;
    }
    if (app->spool_dir == NULL) {
        fprintf(stderr, "sigil: out of memory\n");
        srv_app_close(app);
        return 1;
    }
    if (mkdir(cfg->cache_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sigil: cache-dir: cannot create %s: %s\n", cfg->cache_dir,
                strerror(errno));
        srv_app_close(app);
        return 1;
    }
    rc = srv_body_spool_init(app->spool_dir, &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: spool-dir: %s\n", d.msg);
        srv_app_close(app);
        return 1;
    }
    app->exists_cache = srv_ttlcache_new(cfg->exists_cache_entries);
    app->codeid_cache = srv_ttlcache_new(cfg->exists_cache_entries);
    app->missing = srv_missing_new(app->db, &app->log, app->metrics, cfg->missing_flush_interval_ms,
                                   cfg->missing_max_pending);
    app->download_exts = srv_list_split(cfg->download_extensions);
    if (app->jobs == NULL || app->body_jobs == NULL || app->exists_cache == NULL ||
        app->codeid_cache == NULL || app->missing == NULL || app->download_exts == NULL) {
        fprintf(stderr, "sigil: out of memory\n");
        srv_app_close(app);
        return 1;
    }

    rc = srv_signature_init(&app->signature, *cfg->signature_rules ? cfg->signature_rules : NULL,
                            &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: signature-rules: %s\n", d.msg);
        srv_app_close(app);
        return rc == SYM_ENOMEM ? 1 : 2;
    }
    app->signature_ready = true;
    if (pthread_key_create(&app->sig_generator_key, free_generator) != 0) {
        fprintf(stderr, "sigil: cannot create thread-local storage\n");
        srv_app_close(app);
        return 1;
    }
    app->sig_generator_key_ready = true;
    rc = srv_symbolicator_open_config(cfg, &app->store, app->metrics, &app->log, &app->symbolicator,
                                      &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: symbolication: %s\n", d.msg);
        srv_app_close(app);
        return rc == SYM_EINVAL ? 2 : 1;
    }

    /* Symbols for minidumps: own storage, then the upstream servers. A miss is remembered for
     * a minute only, so freshly uploaded symbols are found. */
    struct srv_image_cache_opts ic = {.max_bytes = (size_t)(cfg->cache_max_mb << 20) / 2,
                                      .negative_ttl_ms = 60000};
    rc = srv_store_source_new(&app->store, 0, &ic, &app->sym_store_source);
    if (rc == SYM_OK && *cfg->symbol_urls) {
        struct srv_http_source_opts ho;
        srv_http_source_opts_init(&ho);
        char **urls = srv_list_split(cfg->symbol_urls);
        size_t n = 0;
        while (urls && urls[n])
            n++;
        ho.urls = (const char *const *)urls;
        ho.n_urls = n;
        ho.negative_ttl_ms = 60000;
        ho.max_cache_bytes = (size_t)(cfg->cache_max_mb << 20) / 2;
        rc = urls ? srv_http_source_new(&ho, &app->sym_http_source, &d) : SYM_ENOMEM;
        srv_list_free(urls);
    }
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil: symbol-urls: %s\n", d.msg[0] ? d.msg : sym_strerror(rc));
        srv_app_close(app);
        return rc == SYM_EINVAL ? 2 : 1;
    }

    h2o_config_init(&app->h2o);
    app->h2o.server_name = h2o_iovec_init(H2O_STRLIT("sigil"));
    app->h2o.http1.req_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    /* Large bodies normally arrive through the stream transport; on a keep-alive connection h2o
     * reads them, up to the largest body any route accepts. */
    app->h2o.max_request_entity_size = (size_t)cfg->max_body_bytes;
    srv_router_setup(app);
    if (app->route_metrics == NULL) {
        fprintf(stderr, "sigil: out of memory\n");
        srv_app_close(app);
        return 1;
    }
    return 0;
}

void srv_app_close(struct srv_app *app)
{
    srv_symbolicator_close(app->symbolicator); /* its flights use the store and the metrics */
    app->symbolicator = NULL;
    if (app->signature_ready)
        srv_signature_cleanup(&app->signature);
    srv_missing_free(app->missing); /* flushes, so before the pool closes */
    app->missing = NULL;
    srv_jobs_free(app->body_jobs);
    app->body_jobs = NULL;
    srv_jobs_free(app->jobs);
    app->jobs = NULL;
    free(app->spool_dir);
    if (app->route_metrics != NULL) {
        h2o_config_dispose(&app->h2o);
        srv_router_cleanup(app);
    }
    srv_http_source_free(app->sym_http_source);
    srv_store_source_free(app->sym_store_source);
    srv_ttlcache_free(app->exists_cache);
    srv_ttlcache_free(app->codeid_cache);
    srv_list_free(app->download_exts);
    if (app->sig_generator_key_ready) {
        /* Threads that exited ran the destructor; this thread's generator goes here. */
        free_generator(pthread_getspecific(app->sig_generator_key));
        pthread_key_delete(app->sig_generator_key);
    }
    db_pool_close(app->db);
    if (app->store.ops != NULL)
        store_close(&app->store);
    srv_metrics_free(app->metrics);
    if (app->listen_fd >= 0)
        close(app->listen_fd);
    memset(app, 0, sizeof(*app));
    app->listen_fd = -1;
}

static int open_listener(struct srv_app *app)
{
    const struct srv_config *cfg = app->cfg;
    char port[8];
    snprintf(port, sizeof(port), "%u", cfg->listen_port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "sigil: listen: cannot resolve '%s': %s\n", cfg->listen_host,
                gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int err = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "sigil: listen: cannot listen on %s: %s\n", cfg->listen, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            app->bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            app->bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    app->listen_fd = fd;
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    struct srv_worker *w = listener->data;
    /* Several loops share the listening socket; a loop that loses the race gets NULL. */
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        srv_body_accept(w, sock);
    }
}

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct srv_worker, control, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        free(msg);
    }
    if (w->stopping)
        return;
    w->stopping = true;
    if (w->listener != NULL) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
    h2o_context_request_shutdown(&w->ctx);
}

static void flush_access_log(h2o_timeout_entry_t *entry)
{
    struct srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct srv_worker, access_log_flush, entry);
    srv_log_flush_buf(&w->access_log);
}

/* Everything of a loop is created on its own thread: h2o's sockets take their buffer allocator
 * from the creating thread (a thread-local prototype that is not locked), so a queue or listener
 * socket made by the main thread would have every worker allocate from the main thread's free
 * list at once. */
static void worker_setup(struct srv_worker *w)
{
    struct srv_app *app = w->app;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, loop, &app->h2o);
    h2o_multithread_register_receiver(w->ctx.queue, &w->completions, srv_jobs_on_complete);
    h2o_multithread_register_receiver(w->ctx.queue, &w->control, on_control);
    w->access_log_flush.cb = flush_access_log;
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = app->h2o.hosts;
    int fd = dup(app->listen_fd);
    if (fd >= 0) {
        w->listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
        w->listener->data = w;
        h2o_socket_read_start(w->listener, on_accept);
    } else {
        srv_log_warn(&app->log, "listener", "worker %u cannot share the listening socket: %s",
                     w->id, strerror(errno));
    }
}

static void *worker_main(void *arg)
{
    struct srv_worker *w = arg;
    struct srv_app *app = w->app;
    worker_setup(w);
    /* From here on the main thread may send to the control receiver. */
    sem_post(w->set_up);
    h2o_evloop_t *loop = w->ctx.loop;
    uint64_t deadline = 0;
    for (;;) {
        if (w->stopping) {
            if (deadline == 0)
                deadline = srv_now_us() + (uint64_t)app->cfg->shutdown_timeout_s * 1000000u;
            if ((w->inflight == 0 && w->jobs_outstanding == 0) || srv_now_us() >= deadline)
                break;
        }
        h2o_evloop_run(loop, w->stopping ? 50 : 1000);
    }
    if (w->inflight != 0)
        srv_log_warn(&app->log, "shutdown_timeout",
                     "worker %u exits with %llu request(s) still in flight", w->id,
                     (unsigned long long)w->inflight);
    /* Let the last responses and connection closes go out. */
    for (int i = 0; i < 5; i++)
        h2o_evloop_run(loop, 10);
    if (h2o_timeout_is_linked(&w->access_log_flush))
        h2o_timeout_unlink(&w->access_log_flush);
    if (w->jobs_outstanding != 0) {
        srv_log_flush_buf(&w->access_log);
        return NULL; /* a job will still post to this loop's queue: keep the loop alive */
    }
    /* h2o 2.2.5 leaves its own entries in some timeouts (one_sec_timeout) and asserts in
     * h2o_context_dispose that they are empty; every connection is gone, so drop them. */
    h2o_timeout_t *timeouts[] = {&w->ctx.zero_timeout,
                                 &w->ctx.one_sec_timeout,
                                 &w->ctx.hundred_ms_timeout,
                                 &w->ctx.handshake_timeout,
                                 &w->ctx.http1.req_timeout,
                                 &w->ctx.http2.idle_timeout,
                                 &w->ctx.http2.graceful_shutdown_timeout,
                                 &w->ctx.proxy.io_timeout};
    for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
        while (!h2o_linklist_is_empty(&timeouts[i]->_entries))
            h2o_timeout_unlink(
                H2O_STRUCT_FROM_MEMBER(h2o_timeout_entry_t, _link, timeouts[i]->_entries.next));
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->completions);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->control);
    h2o_multithread_queue_t *queue = w->ctx.queue;
    h2o_context_dispose(&w->ctx);
    /* Sockets closed by the dispose (the queue's wake-up pipe) are freed on the next turn. */
    h2o_evloop_run(loop, 0);
    /* libh2o 0.13 (h2o 2.2.x) closes the queue's pipe but never frees the queue itself. */
#if H2O_LIBRARY_VERSION_MAJOR == 0 && H2O_LIBRARY_VERSION_MINOR == 13
    free(queue);
#else
    (void)queue;
#endif
    h2o_evloop_destroy(loop);
    /* After the context: disposing it may still finish (and log) requests. */
    srv_log_flush_buf(&w->access_log);
    sym_buf_cleanup(&w->access_log);
    return NULL;
}

int srv_app_serve(struct srv_app *app)
{
    const struct srv_config *cfg = app->cfg;
    if (open_listener(app) != 0)
        return 1;
    sigset_t set;
    srv_app_block_signals(&set);

    unsigned n = cfg->workers;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (unsigned)cores : 1;
    }
    app->workers = calloc(n, sizeof(*app->workers));
    if (app->workers == NULL) {
        fprintf(stderr, "sigil: out of memory\n");
        return 1;
    }
    sem_t set_up;
    sem_init(&set_up, 0, 0);
    for (unsigned i = 0; i < n; i++) {
        struct srv_worker *w = &app->workers[i];
        w->app = app;
        w->id = i;
        w->set_up = &set_up;
        sym_buf_init(&w->access_log, 1u << 20);
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            fprintf(stderr, "sigil: cannot start worker thread: %s\n", strerror(rc));
            break;
        }
        /* Wait for its control receiver, so that a signal arriving at once can stop it. */
        while (sem_wait(&set_up) != 0 && errno == EINTR)
            ;
        app->n_workers++;
    }
    sem_destroy(&set_up);
    json_t *f = json_object();
    json_object_set_new(f, "listen", json_string(cfg->listen));
    json_object_set_new(f, "port", json_integer(app->bound_port));
    json_object_set_new(f, "workers", json_integer(app->n_workers));
    json_object_set_new(f, "storage", json_string(app->store.ops->name));
    srv_log_json(&app->log, SRV_LOG_INFO, "listening", f, "sigil is serving on port %u",
                 app->bound_port);

    int sig = 0;
    while (app->n_workers == n) {
        if (sigwait(&set, &sig) != 0)
            break;
        if (sig != SIGHUP)
            break;
        struct sym_diag d = {0};
        if (srv_signature_reload(&app->signature, &d) == SYM_OK)
            srv_log_info(&app->log, "reloaded", "signature lists reloaded");
        else
            srv_log_error(&app->log, "reload_failed", "signature lists kept: %s", d.msg);
    }
    srv_log_info(&app->log, "shutdown", "signal %d: finishing in-flight requests", sig);
    atomic_store(&app->stopping, true);
    /* Workers are stopped through their own queues: loop state is touched only by its thread. */
    for (unsigned i = 0; i < app->n_workers; i++) {
        h2o_multithread_message_t *msg = calloc(1, sizeof(*msg));
        if (msg != NULL)
            h2o_multithread_send_message(&app->workers[i].control, msg);
    }
    for (unsigned i = 0; i < app->n_workers; i++)
        pthread_join(app->workers[i].thread, NULL);
    /* Requests taken off the loops (large bodies) finish on their own threads. */
    uint64_t deadline = srv_now_us() + (uint64_t)cfg->shutdown_timeout_s * 1000000u;
    while (atomic_load(&app->body_inflight) > 0 && srv_now_us() < deadline) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    free(app->workers);
    app->workers = NULL;
    srv_log_info(&app->log, "stopped", "all requests finished");
    return app->n_workers == n ? 0 : 1;
}
