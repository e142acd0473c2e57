/* SPDX-License-Identifier: MPL-2.0 */
/* missing.c: in-memory aggregation of missing-symbol requests and the periodic batch write. */
#include "missing.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db/queries.h"

struct pending {
    struct pending *next;
    uint64_t count;
    char *fields[5]; /* debug_filename, debug_id, filename, code_file, code_id */
};

struct srv_missing {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool stopping;
    struct db_pool *pool;
    const struct srv_log *log;
    uint32_t interval_ms;
    size_t max_pending, n_pending;
    struct pending **table;
    size_t n_buckets;
    struct srv_counter *m_recorded, *m_dropped, *m_flush_errors, *m_rows;
};

static uint64_t hash_fields(const char *const f[5])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 5; i++) {
        for (const char *p = f[i]; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 0x100000001b3ULL;
        }
        h ^= 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void free_pending(struct pending *p)
{
    for (int i = 0; i < 5; i++)
        free(p->fields[i]);
    free(p);
}

/* Takes the whole pending set under the lock, writes it without the lock. */
static void flush_now(struct srv_missing *m)
{
    pthread_mutex_lock(&m->lock);
    struct pending **table = m->table;
    size_t n_buckets = m->n_buckets;
    m->table = calloc(n_buckets, sizeof(*m->table));
    if (m->table == NULL) { /* keep counting into the old table; try again later */
        m->table = table;
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->n_pending = 0;
    pthread_mutex_unlock(&m->lock);

    static const char *const names[5] = {"debug_filename", "debug_id", "filename", "code_file",
                                         "code_id"};
    json_t *rows = json_array();
    size_t n_rows = 0;
    for (size_t b = 0; b < n_buckets; b++) {
        for (struct pending *p = table[b], *next; p; p = next) {
            next = p->next;
            json_t *row = json_object();
            for (int i = 0; i < 5; i++)
                json_object_set_new(row, names[i], json_string(p->fields[i]));
            json_object_set_new(row, "count", json_integer((json_int_t)p->count));
            json_array_append_new(rows, row);
            n_rows++;
            free_pending(p);
        }
    }
    free(table);
    if (n_rows > 0) {
        PGconn *conn;
        struct sym_diag d = {0};
        sym_err rc = db_acquire(m->pool, &conn, &d);
        if (rc == SYM_OK) {
            rc = db_missing_add(conn, rows, &d);
            db_release(m->pool, conn);
        }
        if (rc != SYM_OK) {
            srv_counter_inc(m->m_flush_errors);
            srv_log_warn(m->log, "missing_symbols_flush_failed", "%s", d.msg);
        } else {
            srv_counter_add(m->m_rows, n_rows);
        }
    }
    json_decref(rows);
}

static void *flush_thread(void *arg)
{
    struct srv_missing *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += m->interval_ms / 1000;
        until.tv_nsec += (long)(m->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!m->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&m->cond, &m->lock, &until);
        pthread_mutex_unlock(&m->lock);
        flush_now(m);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

struct srv_missing *srv_missing_new(struct db_pool *pool, const struct srv_log *log,
                                    struct srv_metrics *metrics, uint32_t flush_interval_ms,
                                    size_t max_pending)
{
    struct srv_missing *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->pool = pool;
    m->log = log;
    m->interval_ms = flush_interval_ms;
    m->max_pending = max_pending;
    m->n_buckets = 64;
    while (m->n_buckets < max_pending / 2 && m->n_buckets < ((size_t)1 << 20))
        m->n_buckets <<= 1;
    m->table = calloc(m->n_buckets, sizeof(*m->table));
    if (m->table == NULL) {
        free(m);
        return NULL;
    }
    m->m_recorded = srv_metrics_counter(metrics, "sigil_missing_symbols_recorded_total",
                                        "Download misses counted as missing symbols", "");
    m->m_dropped = srv_metrics_counter(metrics, "sigil_missing_symbols_dropped_total",
                                       "Missing-symbol counts dropped because too many were "
                                       "pending",
                                       "");
    m->m_flush_errors = srv_metrics_counter(metrics, "sigil_missing_symbols_flush_errors_total",
                                            "Failed batch writes of missing-symbol counts", "");
    m->m_rows = srv_metrics_counter(metrics, "sigil_missing_symbols_rows_written_total",
                                    "Missing-symbol rows written or updated", "");
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (pthread_create(&m->thread, NULL, flush_thread, m) != 0) {
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        free(m->table);
        free(m);
        return NULL;
    }
    return m;
}

void srv_missing_free(struct srv_missing *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    flush_now(m);
    free(m->table);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void srv_missing_record(struct srv_missing *m, const char *debug_filename, const char *debug_id,
                        const char *filename, const char *code_file, const char *code_id)
{
    if (m == NULL)
        return;
    const char *f[5] = {debug_filename, debug_id, filename, code_file ? code_file : "",
                        code_id ? code_id : ""};
    uint64_t h = hash_fields(f);
    pthread_mutex_lock(&m->lock);
    struct pending **slot = &m->table[h & (m->n_buckets - 1)];
    for (struct pending *p = *slot; p; p = p->next) {
        bool same = true;
        for (int i = 0; i < 5 && same; i++)
            same = strcmp(p->fields[i], f[i]) == 0;
        if (same) {
            p->count++;
            pthread_mutex_unlock(&m->lock);
            srv_counter_inc(m->m_recorded);
            return;
        }
    }
    if (m->n_pending >= m->max_pending) {
        pthread_mutex_unlock(&m->lock);
        srv_counter_inc(m->m_dropped);
        return;
    }
    struct pending *p = calloc(1, sizeof(*p));
    bool ok = p != NULL;
    for (int i = 0; i < 5 && ok; i++)
        ok = (p->fields[i] = strdup(f[i])) != NULL;
    if (!ok) {
        if (p)
            free_pending(p);
        pthread_mutex_unlock(&m->lock);
        srv_counter_inc(m->m_dropped);
        return;
    }
    p->count = 1;
    p->next = *slot;
    *slot = p;
    m->n_pending++;
    pthread_mutex_unlock(&m->lock);
    srv_counter_inc(m->m_recorded);
}

void srv_missing_flush(struct srv_missing *m)
{
    if (m != NULL)
        flush_now(m);
}
