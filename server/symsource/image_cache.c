/* SPDX-License-Identifier: MPL-2.0 */
/* image_cache.c: shared, reference-counted cache of parsed symcache images with single-flight
 * loading and LRU eviction (see image_cache.h). A chained hash table under one mutex; loads run
 * outside the lock and waiters sleep on a condition variable until the loading entry resolves.
 * Eviction scans for the least recently used unreferenced entry: O(entries), run only when the
 * cache is full. */
#include "symsource/image_cache.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "sym/alloc.h"

enum { E_LOADING, E_READY, E_FAILED };

struct entry {
    struct entry *next;
    char *key;
    int state;
    sym_err err;
    uint64_t failed_at_ms;
    uint64_t used; /* LRU clock value of the last use */
    unsigned refs;
    bool unlinked; /* evicted or replaced while referenced: freed at the last release */
    char *data;    /* image bytes (owned) */
    size_t len;
    struct sym_image *image;
    struct srv_image_meta meta;
};

struct srv_image_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct entry **buckets;
    size_t n_buckets, n_entries;
    size_t bytes;
    uint64_t clock;
    struct srv_image_cache_opts o;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

sym_err srv_image_cache_new(const struct srv_image_cache_opts *opts, struct srv_image_cache **out)
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
    if (opts != NULL)
        c->o = *opts;
    if (c->o.max_bytes == 0)
        c->o.max_bytes = (size_t)2 << 30;
    if (c->o.max_entries == 0)
        c->o.max_entries = 100000;
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

/* Takes e out of the table; it is freed now, or at its last release when referenced. */
static void unlink_entry(struct srv_image_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[hash(e->key) % c->n_buckets];
    while (*pp != NULL && *pp != e)
        pp = &(*pp)->next;
    if (*pp != e)
        return;
    *pp = e->next;
    c->n_entries--;
    if (e->state == E_READY)
        c->bytes -= e->len;
    e->unlinked = true;
    if (e->refs == 0)
        entry_free(e);
}

/* Evicts the least recently used unreferenced, resolved entry; false when there is none. */
static bool evict_one(struct srv_image_cache *c)
{
    struct entry *victim = NULL;
    for (size_t i = 0; i < c->n_buckets; i++)
        for (struct entry *e = c->buckets[i]; e != NULL; e = e->next)
            if (e->refs == 0 && e->state != E_LOADING && (!victim || e->used < victim->used))
                victim = e;
    if (victim == NULL)
        return false;
    unlink_entry(c, victim);
    return true;
}

static sym_err result(struct srv_image_cache *c, struct entry *e, struct srv_cached_image *out)
{
    if (e->state == E_FAILED)
        return e->err;
    e->refs++;
    e->used = ++c->clock;
    out->image = e->image;
    out->corrupt = e->meta.corrupt;
    out->url = e->meta.url;
    out->debug_file = e->meta.debug_file;
    out->debug_id = e->meta.debug_id;
    out->ref = e;
    return SYM_OK;
}

static struct entry *find(struct srv_image_cache *c, const char *key)
{
    for (struct entry *e = c->buckets[hash(key) % c->n_buckets]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

sym_err srv_image_cache_get(struct srv_image_cache *c, const char *key, srv_image_load_fn load,
                            void *ctx, struct srv_cached_image *out)
{
    if (c == NULL || key == NULL || load == NULL || out == NULL)
        return SYM_EINVAL;
    pthread_mutex_lock(&c->mu);
    struct entry *e;
    for (;;) {
        e = find(c, key);
        if (e != NULL && e->state == E_FAILED && c->o.negative_ttl_ms != 0 &&
            now_ms() - e->failed_at_ms >= c->o.negative_ttl_ms) {
            unlink_entry(c, e); /* a stale "not found": ask again */
            e = NULL;
        }
        if (e == NULL || e->state != E_LOADING)
            break;
        pthread_cond_wait(&c->cv, &c->mu); /* another thread is loading this key */
    }
    if (e != NULL) {
        sym_err rc = result(c, e, out);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    while (c->n_entries >= c->o.max_entries && evict_one(c))
        ;
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
    if (rc == SYM_OK && sym_image_open(img.data, img.len, &image, NULL) != SYM_OK)
        rc = SYM_ECORRUPT;

    pthread_mutex_lock(&c->mu);
    if (rc == SYM_OK) {
        while (c->bytes + img.len > c->o.max_bytes && evict_one(c))
            ;
        if (c->bytes + img.len > c->o.max_bytes) {
            sym_image_close(image);
            image = NULL;
            rc = SYM_ELIMIT;
        }
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
        e->failed_at_ms = now_ms();
    }
    sym_err ret = result(c, e, out);
    /* Transient failures and a full cache are not remembered. */
    if (rc == SYM_EUNAVAIL || rc == SYM_EIO || rc == SYM_ENOMEM || rc == SYM_ELIMIT)
        unlink_entry(c, e);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    sym_buf_cleanup(&img);
    sym_free(meta.url);
    sym_free(meta.debug_file);
    sym_free(meta.debug_id);
    return ret;
}

void srv_image_cache_release(struct srv_image_cache *c, void *ref)
{
    struct entry *e = ref;
    if (c == NULL || e == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (e->refs > 0)
        e->refs--;
    bool gone = e->unlinked && e->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (gone)
        entry_free(e);
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
