/* SPDX-License-Identifier: MPL-2.0 */
/* ttlcache.c: 64 shards, each a chained hash table with an LRU list under its own mutex, so that
 * loop threads rarely contend. */
#include "ttlcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_SHARDS 64

struct entry {
    struct entry *hnext;               /* hash chain */
    struct entry *lru_prev, *lru_next; /* most recent at head */
    uint64_t hash;
    uint64_t expires_us;
    bool negative;
    uint32_t key_len, value_len;
    char data[]; /* key then value */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t n_buckets, n_entries, max_entries;
    struct entry *lru_head, *lru_tail;
};

struct srv_ttlcache {
    size_t max_entries;
    struct shard shards[N_SHARDS];
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

struct srv_ttlcache *srv_ttlcache_new(size_t max_entries)
{
    struct srv_ttlcache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->max_entries = max_entries;
    size_t per_shard = max_entries / N_SHARDS + (max_entries % N_SHARDS != 0);
    size_t n_buckets = 16;
    while (n_buckets < per_shard)
        n_buckets <<= 1;
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->max_entries = per_shard;
        s->n_buckets = n_buckets;
        s->buckets = calloc(n_buckets, sizeof(*s->buckets));
        if (s->buckets == NULL) {
            srv_ttlcache_free(c);
            return NULL;
        }
    }
    return c;
}

void srv_ttlcache_free(struct srv_ttlcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &c->shards[i];
        struct entry *e = s->lru_head;
        while (e) {
            struct entry *n = e->lru_next;
            free(e);
            e = n;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct shard *s, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = e;
    s->lru_head = e;
    if (s->lru_tail == NULL)
        s->lru_tail = e;
}

/* The low bits pick the shard, so buckets use higher ones. */
static size_t bucket_of(const struct shard *s, uint64_t h)
{
    return (size_t)(h >> 8) & (s->n_buckets - 1);
}

static struct entry **find_slot(struct shard *s, uint64_t h, const char *key, size_t len)
{
    struct entry **slot = &s->buckets[bucket_of(s, h)];
    while (*slot) {
        struct entry *e = *slot;
        if (e->hash == h && e->key_len == len && memcmp(e->data, key, len) == 0)
            return slot;
        slot = &e->hnext;
    }
    return slot;
}

static void remove_entry(struct shard *s, struct entry **slot)
{
    struct entry *e = *slot;
    *slot = e->hnext;
    lru_unlink(s, e);
    s->n_entries--;
    free(e);
}

enum srv_ttl_result srv_ttlcache_get(struct srv_ttlcache *c, const char *key, size_t key_len,
                                     uint64_t now_us, char *value, size_t value_cap,
                                     size_t *value_len)
{
    if (c == NULL || c->max_entries == 0)
        return SRV_TTL_MISS;
    uint64_t h = hash_key(key, key_len);
    struct shard *s = &c->shards[h % N_SHARDS];
    enum srv_ttl_result r = SRV_TTL_MISS;
    pthread_mutex_lock(&s->lock);
    struct entry **slot = find_slot(s, h, key, key_len);
    struct entry *e = *slot;
    if (e != NULL) {
        if (e->expires_us <= now_us) {
            remove_entry(s, slot);
        } else if (e->negative) {
            r = SRV_TTL_NEGATIVE;
        } else if (e->value_len < value_cap) {
            memcpy(value, e->data + e->key_len, e->value_len);
            value[e->value_len] = '\0';
            *value_len = e->value_len;
            r = SRV_TTL_HIT;
        }
        if (r != SRV_TTL_MISS && s->lru_head != e) {
            lru_unlink(s, e);
            lru_push_front(s, e);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void srv_ttlcache_put(struct srv_ttlcache *c, const char *key, size_t key_len, const char *value,
                      size_t value_len, bool negative, uint64_t expires_us)
{
    if (c == NULL || c->max_entries == 0 || key_len > UINT32_MAX || value_len > UINT32_MAX)
        return;
    if (negative)
        value_len = 0;
    struct entry *e = malloc(sizeof(*e) + key_len + value_len);
    if (e == NULL)
        return;
    memset(e, 0, sizeof(*e));
    e->hash = hash_key(key, key_len);
    e->expires_us = expires_us;
    e->negative = negative;
    e->key_len = (uint32_t)key_len;
    e->value_len = (uint32_t)value_len;
    memcpy(e->data, key, key_len);
    if (value_len)
        memcpy(e->data + key_len, value, value_len);
    struct shard *s = &c->shards[e->hash % N_SHARDS];
    pthread_mutex_lock(&s->lock);
    struct entry **slot = find_slot(s, e->hash, key, key_len);
    if (*slot != NULL)
        remove_entry(s, slot);
    while (s->n_entries >= s->max_entries && s->lru_tail != NULL) {
        struct entry *victim = s->lru_tail;
        remove_entry(s, find_slot(s, victim->hash, victim->data, victim->key_len));
    }
    slot = &s->buckets[bucket_of(s, e->hash)];
    e->hnext = *slot;
    *slot = e;
    lru_push_front(s, e);
    s->n_entries++;
    pthread_mutex_unlock(&s->lock);
}

void srv_ttlcache_del(struct srv_ttlcache *c, const char *key, size_t key_len)
{
    if (c == NULL || c->max_entries == 0)
        return;
    uint64_t h = hash_key(key, key_len);
    struct shard *s = &c->shards[h % N_SHARDS];
    pthread_mutex_lock(&s->lock);
    struct entry **slot = find_slot(s, h, key, key_len);
    if (*slot != NULL)
        remove_entry(s, slot);
    pthread_mutex_unlock(&s->lock);
}

size_t srv_ttlcache_size(struct srv_ttlcache *c)
{
    size_t n = 0;
    if (c == NULL)
        return 0;
    for (size_t i = 0; i < N_SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        n += c->shards[i].n_entries;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    return n;
}
