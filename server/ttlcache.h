/* SPDX-License-Identifier: MPL-2.0 */
/* ttlcache.h: a bounded, sharded, thread-safe map from short string keys to short string values
 * with per-entry expiry and negative entries, least recently used evicted first. Used for the
 * download existence cache and the code-id lookup cache, so a warm request costs no storage or
 * database round trip. */
#ifndef SRV_TTLCACHE_H
#define SRV_TTLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv_ttlcache;

enum srv_ttl_result {
    SRV_TTL_MISS,     /* absent or expired */
    SRV_TTL_HIT,      /* present; the value was copied out */
    SRV_TTL_NEGATIVE, /* known absent */
};

/* max_entries 0 gives a cache that stores nothing. NULL on allocation failure. */
struct srv_ttlcache *srv_ttlcache_new(size_t max_entries);
void srv_ttlcache_free(struct srv_ttlcache *c);

/* Looks key up at time now_us. On a hit, copies the value and a NUL into value (capacity
 * value_cap) and sets *value_len; a value that does not fit counts as a miss. */
enum srv_ttl_result srv_ttlcache_get(struct srv_ttlcache *c, const char *key, size_t key_len,
                                     uint64_t now_us, char *value, size_t value_cap,
                                     size_t *value_len);
/* Inserts or replaces. negative entries carry no value. Silently does nothing when out of
 * memory (a cache may forget). */
void srv_ttlcache_put(struct srv_ttlcache *c, const char *key, size_t key_len, const char *value,
                      size_t value_len, bool negative, uint64_t expires_us);
void srv_ttlcache_del(struct srv_ttlcache *c, const char *key, size_t key_len);
size_t srv_ttlcache_size(struct srv_ttlcache *c);

#endif
