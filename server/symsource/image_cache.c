/* SPDX-License-Identifier: MPL-2.0 */
/* image_cache.c: run-lifetime cache of parsed symcache images with single-flight loading (see
 * image_cache.h). A chained hash table under one mutex; loads run outside the lock, and
 * waiters sleep on a condition variable until the loading entry is resolved. */
#include "symsource/image_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "sym/alloc.h"

enum { E_LOADING, E_READY, E_FAILED };

struct entry {
    struct entry *next;
    char *key;
    int state;
    sym_err err;
    char *data; /* image bytes (owned) */
    size_t len;
    struct sym_image *image;
    struct srv_image_meta meta;
};

struct srv_image_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct entry **buckets;
    size_t n_buckets, n_entries;
    size_t bytes, max_bytes;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

sym_err srv_image_cache_new(size_t max_bytes, struct srv_image_cache **out)
{
    struct srv_image_cache *c = sym_calloc(1, sizeof(*c));
    if (c == NULL)
        return SYM_ENOMEM;
    c->n_buckets = 256;
    c->buckets = sym_calloc(c->n_buckets, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        sym_free(c);
        return SYM_ENOMEM;
    }
    c->max_bytes = max_bytes ? max_bytes : ((size_t)2 << 30);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    *out = c;
    return SYM_OK;
}

static void entry_free(struct entry *e)
{
    sym_image_close(e->image);
    sym_free(e->data);
    sym_free(e->meta.url);
    sym_free(e->meta.debug_file);
    sym_free(e->meta.debug_id);
    sym_free(e->key);
    sym_free(e);
}

void srv_image_cache_free(struct srv_image_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    sym_free(c->buckets);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sym_free(c);
}

static void grow(struct srv_image_cache *c)
{
    size_t nb = c->n_buckets * 2;
    struct entry **b = sym_calloc(nb, sizeof(*b));
    if (b == NULL)
        return; /* keep the longer chains */
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            size_t k = hash(e->key) % nb;
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    sym_free(c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
}

static sym_err result(const struct entry *e, struct srv_cached_image *out)
{
    if (e->state == E_FAILED)
        return e->err;
    out->image = e->image;
    out->corrupt = e->meta.corrupt;
    out->url = e->meta.url;
    out->debug_file = e->meta.debug_file;
    out->debug_id = e->meta.debug_id;
    return SYM_OK;
}

static void unlink_entry(struct srv_image_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[hash(e->key) % c->n_buckets];
    while (*pp != NULL && *pp != e)
        pp = &(*pp)->next;
    if (*pp == e) {
        *pp = e->next;
        c->n_entries--;
    }
}

sym_err srv_image_cache_get(struct srv_image_cache *c, const char *key, srv_image_load_fn load,
                            void *ctx, struct srv_cached_image *out)
{
    if (c == NULL || key == NULL || load == NULL || out == NULL)
        return SYM_EINVAL;
    pthread_mutex_lock(&c->mu);
    struct entry *e;
    for (;;) {
        for (e = c->buckets[hash(key) % c->n_buckets]; e != NULL; e = e->next)
            if (strcmp(e->key, key) == 0)
                break;
        if (e == NULL || e->state != E_LOADING)
            break;
        pthread_cond_wait(&c->cv, &c->mu); /* another thread is loading this key */
    }
    if (e != NULL) {
        sym_err rc = result(e, out);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    e = sym_calloc(1, sizeof(*e));
    char *k = e ? sym_strndup(key, strlen(key)) : NULL;
    if (k == NULL) {
        sym_free(e);
        pthread_mutex_unlock(&c->mu);
        return SYM_ENOMEM;
    }
    e->key = k;
    e->state = E_LOADING;
    if (c->n_entries >= c->n_buckets)
        grow(c);
    size_t b = hash(key) % c->n_buckets;
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n_entries++;
    pthread_mutex_unlock(&c->mu);

    /* Load outside the lock. */
    struct sym_buf img;
    sym_buf_init(&img, 0);
    struct srv_image_meta meta;
    memset(&meta, 0, sizeof(meta));
    sym_err rc = load(ctx, &img, &meta);
    struct sym_image *image = NULL;
    if (rc == SYM_OK) {
        rc = sym_image_open(img.data, img.len, &image, NULL);
        if (rc != SYM_OK)
            rc = SYM_ECORRUPT;
    }

    pthread_mutex_lock(&c->mu);
    if (rc == SYM_OK && c->bytes + img.len > c->max_bytes) {
        sym_image_close(image);
        image = NULL;
        rc = SYM_ELIMIT;
    }
    if (rc == SYM_OK) {
        e->data = sym_buf_steal(&img, &e->len);
        e->image = image;
        e->meta = meta;
        memset(&meta, 0, sizeof(meta));
        e->state = E_READY;
        c->bytes += e->len;
    } else {
        e->state = E_FAILED;
        e->err = rc;
    }
    sym_err ret = result(e, out);
    /* Transient failures and the cache being full are not remembered. */
    if (rc == SYM_EUNAVAIL || rc == SYM_EIO || rc == SYM_ENOMEM || rc == SYM_ELIMIT) {
        unlink_entry(c, e);
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        entry_free(e);
    } else {
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    sym_buf_cleanup(&img);
    sym_free(meta.url);
    sym_free(meta.debug_file);
    sym_free(meta.debug_id);
    return ret;
}

void srv_image_cache_stats(struct srv_image_cache *c, size_t *bytes, size_t *entries)
{
    pthread_mutex_lock(&c->mu);
    if (bytes)
        *bytes = c->bytes;
    if (entries)
        *entries = c->n_entries;
    pthread_mutex_unlock(&c->mu);
}
