/* SPDX-License-Identifier: MPL-2.0 */
/* feeder.c: a ring of buffers between the reading thread and a parsing thread. */
#include "symbolicate/feeder.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "sym/alloc.h"

#define FEED_BUF   (1u << 20)
#define FEED_SLOTS 4

struct srv_feeder {
    struct sym_parser *parser;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* "a buffer was handed over" and "a buffer was parsed" */
    char *bufs[FEED_SLOTS];
    size_t lens[FEED_SLOTS];
    size_t head;   /* next buffer to parse */
    size_t n_full; /* handed over and not yet parsed; the one being parsed counts */
    size_t fill;   /* the buffer the caller fills: (head + n_full) % FEED_SLOTS */
    size_t fill_len;
    bool closing;
    sym_err err;
    double parse_s;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *run(void *arg)
{
    struct srv_feeder *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->n_full == 0 && !f->closing)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->n_full == 0)
            break; /* closing and drained */
        size_t slot = f->head;
        bool feed = f->err == SYM_OK;
        pthread_mutex_unlock(&f->mu);
        sym_err rc = SYM_OK;
        double t0 = now_s();
        if (feed)
            rc = sym_parser_feed(f->parser, f->bufs[slot], f->lens[slot]);
        double dt = now_s() - t0;
        pthread_mutex_lock(&f->mu);
        f->parse_s += dt;
        if (rc != SYM_OK && f->err == SYM_OK)
            f->err = rc;
        /* After an error the buffers are still taken, unread, so the caller never waits. */
        f->head = (f->head + 1) % FEED_SLOTS;
        f->n_full--;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void free_feeder(struct srv_feeder *f)
{
    for (size_t i = 0; i < FEED_SLOTS; i++)
        sym_free(f->bufs[i]);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    sym_free(f);
}

sym_err srv_feeder_start(struct sym_parser *parser, struct srv_feeder **out)
{
    struct srv_feeder *f = sym_calloc(1, sizeof(*f));
    if (f == NULL)
        return SYM_ENOMEM;
    f->parser = parser;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    bool ok = true;
    for (size_t i = 0; i < FEED_SLOTS; i++) {
        f->bufs[i] = sym_malloc(FEED_BUF);
        ok = ok && f->bufs[i] != NULL;
    }
    if (!ok || pthread_create(&f->thread, NULL, run, f) != 0) {
        free_feeder(f);
        return SYM_ENOMEM;
    }
    *out = f;
    return SYM_OK;
}

/* Hands the buffer being filled to the parser and waits for a free one. Returns the error. */
static sym_err hand_over(struct srv_feeder *f)
{
    pthread_mutex_lock(&f->mu);
    f->lens[f->fill] = f->fill_len;
    f->n_full++;
    pthread_cond_broadcast(&f->cv);
    while (f->n_full == FEED_SLOTS)
        pthread_cond_wait(&f->cv, &f->mu);
    f->fill = (f->head + f->n_full) % FEED_SLOTS;
    f->fill_len = 0;
    sym_err rc = f->err;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

sym_err srv_feeder_push(struct srv_feeder *f, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        size_t n = FEED_BUF - f->fill_len < len ? FEED_BUF - f->fill_len : len;
        memcpy(f->bufs[f->fill] + f->fill_len, p, n);
        f->fill_len += n;
        p += n;
        len -= n;
        if (f->fill_len == FEED_BUF) {
            sym_err rc = hand_over(f);
            if (rc != SYM_OK)
                return rc;
        }
    }
    pthread_mutex_lock(&f->mu);
    sym_err rc = f->err;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

sym_err srv_feeder_stop(struct srv_feeder *f, double *parse_s)
{
    if (f->fill_len > 0) {
        sym_err rc = hand_over(f);
        (void)rc; /* reported below */
    }
    pthread_mutex_lock(&f->mu);
    f->closing = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    sym_err rc = f->err;
    if (parse_s != NULL)
        *parse_s = f->parse_s;
    free_feeder(f);
    return rc;
}
