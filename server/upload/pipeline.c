/* SPDX-License-Identifier: MPL-2.0 */
/* pipeline.c: extraction on the calling thread, storage on a bounded pool of workers, joined by
 * a queue of member indexes bounded in count and in extracted bytes. The first failure stops
 * everything: extraction at its next member, workers after their current one (queued members
 * are then released unstored). */
#include "upload/pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pipe {
    const struct srv_storefile_target *t;
    struct symup_ingest *ing;
    bool strict;

    pthread_mutex_t lock;
    pthread_cond_t can_take, can_put;
    size_t *queue;
    size_t cap, head, n;
    uint64_t queued_bytes, max_bytes;
    bool closed, failed;

    /* Results, under lock. */
    struct symup_error err; /* the first failure */
    bool *skipped;          /* per member */
    size_t n_stored, n_skipped;
    uint64_t stored_bytes;

    /* Strict mode: members held back until the whole archive is checked (extraction thread). */
    size_t *deferred;
    size_t n_deferred;
};

/* Records the first failure; later ones are consequences of stopping. Call under lock. */
static void set_failed(struct pipe *p, const struct symup_error *err)
{
    if (p->failed)
        return;
    p->failed = true;
    p->err = *err;
    pthread_cond_broadcast(&p->can_put);
    pthread_cond_broadcast(&p->can_take);
}

static void fail_locked(struct pipe *p, const struct symup_error *err)
{
    pthread_mutex_lock(&p->lock);
    set_failed(p, err);
    pthread_mutex_unlock(&p->lock);
}

/* Waits for room, then queues member i. False when the pipeline failed meanwhile. */
static bool enqueue(struct pipe *p, size_t i)
{
    uint64_t size = symup_ingest_member(p->ing, i)->size;
    pthread_mutex_lock(&p->lock);
    while (!p->failed &&
           (p->n == p->cap || (p->queued_bytes > 0 && p->queued_bytes + size > p->max_bytes)))
        pthread_cond_wait(&p->can_put, &p->lock);
    bool ok = !p->failed;
    if (ok) {
        p->queue[(p->head + p->n) % p->cap] = i;
        p->n++;
        p->queued_bytes += size;
        pthread_cond_signal(&p->can_take);
    }
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static sym_err on_extracted(void *ctx, size_t i)
{
    struct pipe *p = ctx;
    if (p->strict) {
        const struct symup_member *m = symup_ingest_member(p->ing, i);
        if (m->is_sym) {
            struct symup_digest dg;
            struct symup_error err;
            symup_error_clear(&err);
            sym_err rc = symup_member_digest(p->ing, i, &dg, &err);
            if (rc != SYM_OK) {
                fail_locked(p, &err);
                return rc;
            }
        }
        p->deferred[p->n_deferred++] = i;
        return SYM_OK;
    }
    return enqueue(p, i) ? SYM_OK : SYM_EINTERNAL;
}

static void *worker_main(void *arg)
{
    struct pipe *p = arg;
    struct symup_error err;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->n == 0 && !p->closed && !p->failed)
            pthread_cond_wait(&p->can_take, &p->lock);
        if (p->n == 0) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        size_t i = p->queue[p->head];
        p->head = (p->head + 1) % p->cap;
        p->n--;
        bool failed = p->failed;
        pthread_mutex_unlock(&p->lock);

        if (!failed) {
            struct srv_storefile_result res;
            symup_error_clear(&err);
            sym_err rc = srv_storefile_member(p->t, p->ing, i, &res, &err);
            pthread_mutex_lock(&p->lock);
            if (rc != SYM_OK) {
                set_failed(p, &err);
            } else if (res.skipped) {
                p->skipped[i] = true;
                p->n_skipped++;
            } else {
                p->n_stored++;
                p->stored_bytes += res.stored_size;
            }
            pthread_mutex_unlock(&p->lock);
        }
        uint64_t size = symup_ingest_member(p->ing, i)->size;
        symup_member_release(p->ing, i);
        pthread_mutex_lock(&p->lock);
        p->queued_bytes -= size;
        pthread_cond_broadcast(&p->can_put);
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

bool srv_pipeline_client_error(const struct symup_error *err)
{
    switch (err->reason) {
    case SYMUP_R_IO:
    case SYMUP_R_NOMEM:
    case SYMUP_R_CONFIG:
    case SYMUP_R_NONE:
        return false;
    default:
        return true;
    }
}

static sym_err nomem(struct symup_error *err)
{
    if (err != NULL) {
        symup_error_clear(err);
        err->code = SYM_ENOMEM;
        err->reason = SYMUP_R_NOMEM;
        snprintf(err->msg, sizeof(err->msg), "out of memory");
        snprintf(err->diag.msg, sizeof(err->diag.msg), "out of memory");
    }
    return SYM_ENOMEM;
}

sym_err srv_pipeline_run(const struct srv_storefile_target *t, struct symup_ingest *ing,
                         const char *work_dir, const struct srv_pipeline_config *cfg,
                         struct srv_pipeline_result *out, struct symup_error *err)
{
    size_t n_members = symup_ingest_n_members(ing);
    unsigned n_workers = cfg->workers > 0 ? cfg->workers : 1;
    if (n_workers > n_members)
        n_workers = n_members > 0 ? (unsigned)n_members : 1;
    struct pipe *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nomem(err);
    p->t = t;
    p->ing = ing;
    p->strict = cfg->strict;
    p->cap = (size_t)n_workers * 2;
    p->max_bytes = cfg->max_queued_bytes;
    p->queue = calloc(p->cap, sizeof(*p->queue));
    p->skipped = calloc(n_members ? n_members : 1, sizeof(*p->skipped));
    p->deferred = cfg->strict ? calloc(n_members ? n_members : 1, sizeof(*p->deferred)) : NULL;
    pthread_t *threads = calloc(n_workers, sizeof(*threads));
    if (p->queue == NULL || p->skipped == NULL || (cfg->strict && p->deferred == NULL) ||
        threads == NULL) {
        free(threads);
        free(p->queue);
        free(p->skipped);
        free(p->deferred);
        free(p);
        return nomem(err);
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->can_take, NULL);
    pthread_cond_init(&p->can_put, NULL);

    unsigned started = 0;
    for (; started < n_workers; started++)
        if (pthread_create(&threads[started], NULL, worker_main, p) != 0)
            break;
    struct symup_error xerr;
    symup_error_clear(&xerr);
    sym_err rc = SYM_OK;
    if (started == 0) {
        xerr.code = SYM_EINTERNAL;
        xerr.reason = SYMUP_R_CONFIG;
        snprintf(xerr.msg, sizeof(xerr.msg), "cannot start the upload threads");
        fail_locked(p, &xerr);
    } else {
        rc = symup_ingest_extract(ing, work_dir, on_extracted, p, &xerr);
        if (rc != SYM_OK)
            fail_locked(p, &xerr); /* ignored when a worker failed first */
        for (size_t k = 0; rc == SYM_OK && k < p->n_deferred; k++)
            if (!enqueue(p, p->deferred[k]))
                break;
    }
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_cond_broadcast(&p->can_take);
    pthread_mutex_unlock(&p->lock);
    for (unsigned k = 0; k < started; k++)
        pthread_join(threads[k], NULL);

    if (p->failed) {
        rc = p->err.code != SYM_OK ? p->err.code : SYM_EINTERNAL;
        if (err != NULL)
            *err = p->err;
    } else {
        json_t *skipped = json_array();
        for (size_t i = 0; skipped != NULL && i < n_members; i++)
            if (p->skipped[i] &&
                json_array_append_new(skipped, json_string(symup_ingest_member(ing, i)->key)) != 0)
                break;
        if (skipped == NULL || json_array_size(skipped) != p->n_skipped) {
            json_decref(skipped);
            rc = nomem(err);
        } else {
            uint64_t total = 0;
            for (size_t i = 0; i < n_members; i++)
                total += symup_ingest_member(ing, i)->size;
            out->skipped_keys = skipped;
            out->n_stored = p->n_stored;
            out->n_skipped = p->n_skipped;
            out->stored_bytes = p->stored_bytes;
            out->original_bytes = total;
            rc = SYM_OK;
        }
    }
    pthread_cond_destroy(&p->can_take);
    pthread_cond_destroy(&p->can_put);
    pthread_mutex_destroy(&p->lock);
    free(threads);
    free(p->queue);
    free(p->skipped);
    free(p->deferred);
    free(p);
    return rc;
}
