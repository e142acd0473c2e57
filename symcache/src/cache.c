/* SPDX-License-Identifier: MPL-2.0 */
/* cache.c: the LMDB symcache store (contract in sym/cache.h). Four databases in one
 * environment:
 *   meta     "version" -> u32 format version; "bytes", "entries", "negatives", "evictions" -> u64
 *   entries  key -> struct entry_hdr + image bytes (immutable once written)
 *   access   key -> u64 last use (seconds)
 *   lru      big-endian u64 last use + key -> (empty), so the first item is the eviction victim
 * where key = debug_file NUL debug_id. Readers never write: they append uses to an in-memory
 * log that the next write transaction applies to access/lru. The only lmdb user in symcache/. */
#include "sym/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "sym/alloc.h"
#include "sym/image.h"
#include "sym/symfile.h"

#define ENTRY_MAGIC 0x31454353u /* "SCE1" */
#define ENTRY_EXTRA 64u         /* bytes charged per entry for its access and lru records */
#define TOUCH_MAX   4096u       /* uses buffered between write transactions */
#define LRU_KEY_MAX (8 + SYM_CACHE_MAX_KEY + 1)

struct entry_hdr {
    uint32_t magic, kind, version, reserved;
    uint64_t stored_at, expires_at;
};

struct touch {
    uint64_t when;
    uint32_t key_len;
    char key[SYM_CACHE_MAX_KEY + 1];
};

struct sym_cache {
    MDB_env *env;
    MDB_dbi meta, entries, access, lru;
    struct sym_cache_opts o;
    pthread_mutex_t mu; /* guards touches */
    struct touch *touches;
    size_t n_touches;
    atomic_uint_fast64_t hits, negative_hits, misses;
};

struct sym_cache_reader {
    struct sym_cache *c;
    MDB_txn *txn;
    bool active;
};

/* The key as stored: debug_file NUL debug_id. */
struct key {
    char bytes[SYM_CACHE_MAX_KEY + 1];
    size_t len;
};

struct counters {
    uint64_t bytes, entries, negatives, evictions;
};

/* ============================================================================================
 * Helpers
 * ========================================================================================== */

static sym_err from_mdb(int rc, struct sym_diag *d, const char *what)
{
    sym_err e;
    switch (rc) {
    case MDB_SUCCESS:
        return SYM_OK;
    case MDB_NOTFOUND:
        return SYM_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        e = SYM_ELIMIT;
        break;
    case MDB_READERS_FULL:
        e = SYM_EUNAVAIL;
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        e = SYM_ECORRUPT;
        break;
    case ENOMEM:
        e = SYM_ENOMEM;
        break;
    case EACCES:
    case EPERM:
        e = SYM_EDENIED;
        break;
    default:
        e = SYM_EIO;
        break;
    }
    return sym_diag_set(d, e, "symcache store: %s: %s", what, mdb_strerror(rc));
}

static sym_err make_key(struct sym_slice file, struct sym_slice id, struct key *k)
{
    if (file.n == 0 || id.n == 0 || file.n + 1 + id.n > SYM_CACHE_MAX_KEY ||
        memchr(file.p, '\0', file.n) != NULL || memchr(id.p, '\0', id.n) != NULL)
        return SYM_EINVAL;
    memcpy(k->bytes, file.p, file.n);
    k->bytes[file.n] = '\0';
    memcpy(k->bytes + file.n + 1, id.p, id.n);
    k->len = file.n + 1 + id.n;
    return SYM_OK;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static MDB_val lru_key(unsigned char *buf, uint64_t when, const char *key, size_t len)
{
    put_be64(buf, when);
    memcpy(buf + 8, key, len);
    return (MDB_val){8 + len, buf};
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return MDB_SUCCESS;
    }
    if (rc == MDB_SUCCESS) {
        if (v.mv_size != 8)
            return MDB_CORRUPTED;
        memcpy(out, v.mv_data, 8);
    }
    return rc;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
{
    MDB_val k = {strlen(name), (void *)name}, v = {8, &value};
    return mdb_put(txn, dbi, &k, &v, 0);
}

static int read_counters(struct sym_cache *c, MDB_txn *txn, struct counters *n)
{
    int rc = meta_get_u64(txn, c->meta, "bytes", &n->bytes);
    if (rc == MDB_SUCCESS)
        rc = meta_get_u64(txn, c->meta, "entries", &n->entries);
    if (rc == MDB_SUCCESS)
        rc = meta_get_u64(txn, c->meta, "negatives", &n->negatives);
    if (rc == MDB_SUCCESS)
        rc = meta_get_u64(txn, c->meta, "evictions", &n->evictions);
    return rc;
}

static int write_counters(struct sym_cache *c, MDB_txn *txn, const struct counters *n)
{
    int rc = meta_put_u64(txn, c->meta, "bytes", n->bytes);
    if (rc == MDB_SUCCESS)
        rc = meta_put_u64(txn, c->meta, "entries", n->entries);
    if (rc == MDB_SUCCESS)
        rc = meta_put_u64(txn, c->meta, "negatives", n->negatives);
    if (rc == MDB_SUCCESS)
        rc = meta_put_u64(txn, c->meta, "evictions", n->evictions);
    return rc;
}

/* ============================================================================================
 * Opening and closing
 * ========================================================================================== */

void sym_cache_opts_init(struct sym_cache_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_bytes = (uint64_t)1 << 30;
    o->max_readers = 126;
    o->negative_ttl_s = 3600;
    o->touch_granularity_s = 60;
}

/* Creates the databases, and drops every entry when the stored format version differs. */
static int init_store(struct sym_cache *c)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS)
        return rc;
    rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &c->meta);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "entries", MDB_CREATE, &c->entries);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "access", MDB_CREATE, &c->access);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "lru", MDB_CREATE, &c->lru);
    uint32_t version = 0;
    bool fresh = true;
    if (rc == MDB_SUCCESS) {
        MDB_val k = {7, "version"}, v;
        int g = mdb_get(txn, c->meta, &k, &v);
        if (g == MDB_SUCCESS && v.mv_size == 4) {
            memcpy(&version, v.mv_data, 4);
            fresh = false;
        } else if (g != MDB_NOTFOUND && g != MDB_SUCCESS) {
            rc = g;
        }
    }
    if (rc == MDB_SUCCESS && (fresh || version != c->o.format_version)) {
        /* Another format (or a new store): every entry is a stale cache. */
        rc = mdb_drop(txn, c->entries, 0);
        if (rc == MDB_SUCCESS)
            rc = mdb_drop(txn, c->access, 0);
        if (rc == MDB_SUCCESS)
            rc = mdb_drop(txn, c->lru, 0);
        uint64_t evictions = 0;
        if (rc == MDB_SUCCESS)
            rc = meta_get_u64(txn, c->meta, "evictions", &evictions);
        struct counters n = {0, 0, 0, evictions};
        if (rc == MDB_SUCCESS)
            rc = write_counters(c, txn, &n);
        if (rc == MDB_SUCCESS) {
            MDB_val k = {7, "version"}, v = {4, &c->o.format_version};
            rc = mdb_put(txn, c->meta, &k, &v, 0);
        }
    }
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

sym_err sym_cache_open(const char *dir, const struct sym_cache_opts *opts, struct sym_cache **out,
                       struct sym_diag *d)
{
    if (dir == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "symcache store: no directory");
    struct sym_cache_opts o;
    if (opts != NULL)
        o = *opts;
    else
        sym_cache_opts_init(&o);
    if (o.max_bytes == 0)
        o.max_bytes = (uint64_t)1 << 30;
    if (o.map_bytes == 0)
        o.map_bytes = 2 * o.max_bytes + ((uint64_t)64 << 20);
    if (o.max_readers == 0)
        o.max_readers = 126;
    if (o.negative_ttl_s == 0)
        o.negative_ttl_s = 3600;
    if (o.format_version == 0)
        o.format_version = SYM_IMAGE_VERSION;
    if (o.map_bytes < o.max_bytes || o.map_bytes > SIZE_MAX)
        return sym_diag_set(d, SYM_EINVAL, "symcache store: map size below max_bytes");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sym_diag_set(d, errno == EACCES ? SYM_EDENIED : SYM_EIO,
                            "symcache store: cannot create %s: %s", dir, strerror(errno));
    struct sym_cache *c = sym_calloc(1, sizeof(*c));
    if (c == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    c->o = o;
    c->touches = sym_calloc(TOUCH_MAX, sizeof(struct touch));
    if (c->touches == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        sym_free(c->touches);
        sym_free(c);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    int rc = mdb_env_create(&c->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(c->env, 4);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(c->env, (size_t)o.map_bytes);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxreaders(c->env, o.max_readers);
    if (rc == MDB_SUCCESS) {
        /* NOTLS: read transactions belong to reader objects, not to threads. */
        unsigned flags = MDB_NOTLS | (o.no_sync ? MDB_NOSYNC | MDB_NOMETASYNC : 0);
        rc = mdb_env_open(c->env, dir, flags, 0644);
    }
    if (rc == MDB_SUCCESS)
        rc = init_store(c);
    if (rc != MDB_SUCCESS) {
        sym_err e = from_mdb(rc, d, dir);
        if (c->env != NULL)
            mdb_env_close(c->env);
        pthread_mutex_destroy(&c->mu);
        sym_free(c->touches);
        sym_free(c);
        return e;
    }
    *out = c;
    return SYM_OK;
}

static sym_err flush_touches(struct sym_cache *c);

void sym_cache_close(struct sym_cache *c)
{
    if (c == NULL)
        return;
    sym_err rc = flush_touches(c);
    (void)rc; /* recency is advisory: losing the last uses only ages those entries */
    mdb_env_close(c->env);
    pthread_mutex_destroy(&c->mu);
    sym_free(c->touches);
    sym_free(c);
}

/* ============================================================================================
 * Reading
 * ========================================================================================== */

sym_err sym_cache_reader_new(struct sym_cache *c, struct sym_cache_reader **out)
{
    if (c == NULL || out == NULL)
        return SYM_EINVAL;
    struct sym_cache_reader *r = sym_calloc(1, sizeof(*r));
    if (r == NULL)
        return SYM_ENOMEM;
    r->c = c;
    *out = r;
    return SYM_OK;
}

void sym_cache_reader_free(struct sym_cache_reader *r)
{
    if (r == NULL)
        return;
    if (r->txn != NULL)
        mdb_txn_abort(r->txn);
    sym_free(r);
}

void sym_cache_release(struct sym_cache_reader *r)
{
    if (r != NULL && r->active) {
        mdb_txn_reset(r->txn);
        r->active = false;
    }
}

static void record_touch(struct sym_cache *c, const struct key *k, uint64_t now_s)
{
    pthread_mutex_lock(&c->mu);
    /* A full log drops the use: recency is approximate by design, never a reason to block. */
    if (c->n_touches < TOUCH_MAX) {
        struct touch *t = &c->touches[c->n_touches++];
        t->when = now_s;
        t->key_len = (uint32_t)k->len;
        memcpy(t->key, k->bytes, k->len);
    }
    pthread_mutex_unlock(&c->mu);
}

sym_err sym_cache_get(struct sym_cache_reader *r, struct sym_slice debug_file,
                      struct sym_slice debug_id, uint64_t now_s, struct sym_cache_value *out)
{
    if (r == NULL || out == NULL)
        return SYM_EINVAL;
    struct sym_cache *c = r->c;
    struct key k;
    if (make_key(debug_file, debug_id, &k) != SYM_OK)
        return SYM_EINVAL;
    int rc = MDB_SUCCESS;
    if (!r->active) {
        rc = r->txn == NULL ? mdb_txn_begin(c->env, NULL, MDB_RDONLY, &r->txn)
                            : mdb_txn_renew(r->txn);
        if (rc != MDB_SUCCESS)
            return from_mdb(rc, NULL, "begin read");
        r->active = true;
    }
    MDB_val kv = {k.len, k.bytes}, v;
    rc = mdb_get(r->txn, c->entries, &kv, &v);
    if (rc == MDB_NOTFOUND) {
        atomic_fetch_add(&c->misses, 1);
        return SYM_ENOTFOUND;
    }
    if (rc != MDB_SUCCESS)
        return from_mdb(rc, NULL, "get");
    struct entry_hdr h;
    if (v.mv_size < sizeof(h))
        return SYM_ECORRUPT;
    memcpy(&h, v.mv_data, sizeof(h));
    if (h.magic != ENTRY_MAGIC || h.version != c->o.format_version ||
        (h.kind != SYM_CACHE_IMAGE && h.kind != SYM_CACHE_NEGATIVE))
        return SYM_ECORRUPT;
    if (h.kind == SYM_CACHE_NEGATIVE && now_s >= h.expires_at) {
        atomic_fetch_add(&c->misses, 1);
        return SYM_ENOTFOUND;
    }
    atomic_fetch_add(h.kind == SYM_CACHE_IMAGE ? &c->hits : &c->negative_hits, 1);
    MDB_val av;
    uint64_t last = 0;
    if (mdb_get(r->txn, c->access, &kv, &av) == MDB_SUCCESS && av.mv_size == 8)
        memcpy(&last, av.mv_data, 8);
    if (now_s >= last + c->o.touch_granularity_s && now_s > last)
        record_touch(c, &k, now_s);
    out->kind = (enum sym_cache_kind)h.kind;
    out->data = (const char *)v.mv_data + sizeof(h);
    out->len = v.mv_size - sizeof(h);
    out->stored_at = h.stored_at;
    out->expires_at = h.expires_at;
    return SYM_OK;
}

/* ============================================================================================
 * Writing
 * ========================================================================================== */

/* Moves the buffered uses into access/lru. Runs inside a write transaction. */
static int apply_touches(struct sym_cache *c, MDB_txn *txn, const struct touch *t, size_t n)
{
    unsigned char buf[LRU_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {t[i].key_len, (void *)t[i].key}, v;
        int rc = mdb_get(txn, c->access, &k, &v);
        if (rc == MDB_NOTFOUND)
            continue; /* evicted or deleted since */
        if (rc != MDB_SUCCESS)
            return rc;
        uint64_t old;
        if (v.mv_size != 8)
            return MDB_CORRUPTED;
        memcpy(&old, v.mv_data, 8);
        if (t[i].when <= old)
            continue;
        MDB_val lk = lru_key(buf, old, t[i].key, t[i].key_len);
        rc = mdb_del(txn, c->lru, &lk, NULL);
        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
            return rc;
        lk = lru_key(buf, t[i].when, t[i].key, t[i].key_len);
        MDB_val empty = {0, NULL};
        rc = mdb_put(txn, c->lru, &lk, &empty, 0);
        if (rc == MDB_SUCCESS) {
            uint64_t when = t[i].when;
            MDB_val nv = {8, &when};
            rc = mdb_put(txn, c->access, &k, &nv, 0);
        }
        if (rc != MDB_SUCCESS)
            return rc;
    }
    return MDB_SUCCESS;
}

/* Takes the buffered uses (the caller frees the returned copy with sym_free). */
static struct touch *take_touches(struct sym_cache *c, size_t *n)
{
    pthread_mutex_lock(&c->mu);
    *n = c->n_touches;
    struct touch *copy = NULL;
    if (*n > 0) {
        copy = sym_calloc(*n, sizeof(struct touch));
        if (copy != NULL) {
            memcpy(copy, c->touches, *n * sizeof(struct touch));
            c->n_touches = 0;
        } else {
            *n = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return copy;
}

/* Deletes the entry of key (if any) with its access and lru records. */
static int remove_entry(struct sym_cache *c, MDB_txn *txn, const char *key, size_t key_len,
                        struct counters *n, bool *found)
{
    MDB_val k = {key_len, (void *)key}, v;
    *found = false;
    int rc = mdb_get(txn, c->entries, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MDB_SUCCESS;
    if (rc != MDB_SUCCESS)
        return rc;
    *found = true;
    struct entry_hdr h;
    memset(&h, 0, sizeof(h));
    if (v.mv_size >= sizeof(h))
        memcpy(&h, v.mv_data, sizeof(h));
    uint64_t cost = key_len + v.mv_size + ENTRY_EXTRA;
    n->bytes = n->bytes > cost ? n->bytes - cost : 0;
    n->entries -= n->entries > 0;
    if (h.kind == SYM_CACHE_NEGATIVE)
        n->negatives -= n->negatives > 0;
    MDB_val av;
    rc = mdb_get(txn, c->access, &k, &av);
    if (rc == MDB_SUCCESS && av.mv_size == 8) {
        uint64_t last;
        memcpy(&last, av.mv_data, 8);
        unsigned char buf[LRU_KEY_MAX];
        MDB_val lk = lru_key(buf, last, key, key_len);
        rc = mdb_del(txn, c->lru, &lk, NULL);
        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
            return rc;
    }
    rc = mdb_del(txn, c->access, &k, NULL);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return rc;
    return mdb_del(txn, c->entries, &k, NULL);
}

/* Evicts least recently used entries until `need` more bytes fit under limit. */
static int evict(struct sym_cache *c, MDB_txn *txn, struct counters *n, uint64_t need,
                 uint64_t limit)
{
    while (n->bytes + need > limit) {
        MDB_cursor *cur;
        int rc = mdb_cursor_open(txn, c->lru, &cur);
        if (rc != MDB_SUCCESS)
            return rc;
        MDB_val lk, lv;
        rc = mdb_cursor_get(cur, &lk, &lv, MDB_FIRST);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND) {
            n->bytes = 0; /* nothing left: the counter had drifted */
            return MDB_SUCCESS;
        }
        if (rc != MDB_SUCCESS)
            return rc;
        if (lk.mv_size <= 8 || lk.mv_size > LRU_KEY_MAX)
            return MDB_CORRUPTED;
        char key[SYM_CACHE_MAX_KEY + 1];
        size_t key_len = lk.mv_size - 8;
        memcpy(key, (const char *)lk.mv_data + 8, key_len);
        bool found;
        rc = remove_entry(c, txn, key, key_len, n, &found);
        if (rc != MDB_SUCCESS)
            return rc;
        if (!found) {
            /* An lru record without its entry: drop it so the loop progresses. */
            unsigned char buf[LRU_KEY_MAX];
            memcpy(buf, lk.mv_data, lk.mv_size);
            MDB_val stale = {lk.mv_size, buf};
            rc = mdb_del(txn, c->lru, &stale, NULL);
            if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
                return rc;
        } else {
            n->evictions++;
        }
    }
    return MDB_SUCCESS;
}

struct put_args {
    const struct key *k;
    uint32_t kind;
    const void *data;
    size_t len;
    uint64_t now, expires_at;
};

/* One write transaction: apply uses, replace the entry, evict down to max_bytes (or to `limit`
 * when recovering from a full map). */
static int put_txn(struct sym_cache *c, const struct put_args *a, uint64_t limit,
                   const struct touch *t, size_t n_touches)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS)
        return rc;
    struct counters n;
    rc = read_counters(c, txn, &n);
    if (rc == MDB_SUCCESS)
        rc = apply_touches(c, txn, t, n_touches);
    bool found;
    if (rc == MDB_SUCCESS)
        rc = remove_entry(c, txn, a->k->bytes, a->k->len, &n, &found);
    uint64_t size = sizeof(struct entry_hdr) + a->len;
    uint64_t cost = a->k->len + size + ENTRY_EXTRA;
    if (rc == MDB_SUCCESS)
        rc = evict(c, txn, &n, cost, limit);
    MDB_val k = {a->k->len, (void *)a->k->bytes};
    if (rc == MDB_SUCCESS) {
        /* Reserve the value in the map and fill it in place: one copy of the image. */
        MDB_val v = {(size_t)size, NULL};
        rc = mdb_put(txn, c->entries, &k, &v, MDB_RESERVE);
        if (rc == MDB_SUCCESS) {
            struct entry_hdr h = {ENTRY_MAGIC, a->kind, c->o.format_version,
                                  0,           a->now,  a->expires_at};
            memcpy(v.mv_data, &h, sizeof(h));
            if (a->len > 0)
                memcpy((char *)v.mv_data + sizeof(h), a->data, a->len);
        }
    }
    if (rc == MDB_SUCCESS) {
        uint64_t when = a->now;
        MDB_val av = {8, &when};
        rc = mdb_put(txn, c->access, &k, &av, 0);
    }
    if (rc == MDB_SUCCESS) {
        unsigned char buf[LRU_KEY_MAX];
        MDB_val lk = lru_key(buf, a->now, a->k->bytes, a->k->len), empty = {0, NULL};
        rc = mdb_put(txn, c->lru, &lk, &empty, 0);
    }
    if (rc == MDB_SUCCESS) {
        n.bytes += cost;
        n.entries++;
        n.negatives += a->kind == SYM_CACHE_NEGATIVE;
        rc = write_counters(c, txn, &n);
    }
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static sym_err put_entry(struct sym_cache *c, const struct put_args *a)
{
    uint64_t cost = a->k->len + sizeof(struct entry_hdr) + a->len + ENTRY_EXTRA;
    if (cost > c->o.max_bytes)
        return SYM_ELIMIT;
    size_t n_touches;
    struct touch *t = take_touches(c, &n_touches);
    int rc = put_txn(c, a, c->o.max_bytes, t, n_touches);
    if (rc == MDB_MAP_FULL) {
        /* Freed pages are reused only once no reader holds them: make more room than the
         * bound asks for and try once more. */
        rc = put_txn(c, a, c->o.max_bytes / 2, t, n_touches);
    }
    sym_free(t);
    return rc == MDB_SUCCESS ? SYM_OK : from_mdb(rc, NULL, "put");
}

/* sym_cache_put_parsed: the parser writes the image straight into a value reserved in the
 * write transaction, once its size is known. */
struct parsed_ctx {
    struct sym_cache *c;
    MDB_txn *txn;
    const struct key *k;
    struct counters *n;
    uint64_t now, cost;
};

static sym_err reserve_entry(void *ctx, uint64_t total, void **dst)
{
    struct parsed_ctx *x = ctx;
    uint64_t size = sizeof(struct entry_hdr) + total;
    uint64_t cost = x->k->len + size + ENTRY_EXTRA;
    if (cost > x->c->o.max_bytes || size > SIZE_MAX)
        return SYM_ELIMIT;
    int rc = evict(x->c, x->txn, x->n, cost, x->c->o.max_bytes);
    MDB_val k = {x->k->len, (void *)x->k->bytes}, v = {(size_t)size, NULL};
    if (rc == MDB_SUCCESS)
        rc = mdb_put(x->txn, x->c->entries, &k, &v, MDB_RESERVE);
    if (rc != MDB_SUCCESS)
        return from_mdb(rc, NULL, "put");
    struct entry_hdr h = {ENTRY_MAGIC, SYM_CACHE_IMAGE, x->c->o.format_version, 0, x->now, 0};
    memcpy(v.mv_data, &h, sizeof(h));
    *dst = (char *)v.mv_data + sizeof(h);
    x->cost = cost;
    return SYM_OK;
}

sym_err sym_cache_put_parsed(struct sym_cache *c, struct sym_slice debug_file,
                             struct sym_slice debug_id, struct sym_parser *p, uint64_t now_s,
                             struct sym_parse_stats *stats, struct sym_diag *d)
{
    if (c == NULL || p == NULL)
        return sym_diag_set(d, SYM_EINVAL, "symcache store: no parser");
    struct key k;
    if (make_key(debug_file, debug_id, &k) != SYM_OK)
        return sym_diag_set(d, SYM_EINVAL, "symcache store: invalid key");
    size_t n_touches;
    struct touch *t = take_touches(c, &n_touches);
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS) {
        sym_free(t);
        return from_mdb(rc, d, "put");
    }
    struct counters n;
    bool found;
    rc = read_counters(c, txn, &n);
    if (rc == MDB_SUCCESS)
        rc = apply_touches(c, txn, t, n_touches);
    if (rc == MDB_SUCCESS)
        rc = remove_entry(c, txn, k.bytes, k.len, &n, &found);
    sym_free(t);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return from_mdb(rc, d, "put");
    }
    struct parsed_ctx x = {c, txn, &k, &n, now_s, 0};
    sym_err e = sym_parser_finish_into(p, reserve_entry, &x, stats, d);
    if (e != SYM_OK) {
        mdb_txn_abort(txn);
        return e;
    }
    MDB_val kv = {k.len, k.bytes};
    uint64_t when = now_s;
    MDB_val av = {8, &when};
    rc = mdb_put(txn, c->access, &kv, &av, 0);
    if (rc == MDB_SUCCESS) {
        unsigned char buf[LRU_KEY_MAX];
        MDB_val lk = lru_key(buf, now_s, k.bytes, k.len), empty = {0, NULL};
        rc = mdb_put(txn, c->lru, &lk, &empty, 0);
    }
    if (rc == MDB_SUCCESS) {
        n.bytes += x.cost;
        n.entries++;
        rc = write_counters(c, txn, &n);
    }
    if (rc == MDB_SUCCESS)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    return rc == MDB_SUCCESS ? SYM_OK : from_mdb(rc, d, "put");
}

sym_err sym_cache_put(struct sym_cache *c, struct sym_slice debug_file, struct sym_slice debug_id,
                      const void *image, size_t len, uint64_t now_s)
{
    if (c == NULL || (image == NULL && len > 0))
        return SYM_EINVAL;
    struct key k;
    if (make_key(debug_file, debug_id, &k) != SYM_OK)
        return SYM_EINVAL;
    struct put_args a = {&k, SYM_CACHE_IMAGE, image, len, now_s, 0};
    return put_entry(c, &a);
}

sym_err sym_cache_put_negative(struct sym_cache *c, struct sym_slice debug_file,
                               struct sym_slice debug_id, uint64_t now_s, uint32_t ttl_s)
{
    if (c == NULL)
        return SYM_EINVAL;
    struct key k;
    if (make_key(debug_file, debug_id, &k) != SYM_OK)
        return SYM_EINVAL;
    struct put_args a = {
        &k, SYM_CACHE_NEGATIVE, NULL, 0, now_s, now_s + (ttl_s ? ttl_s : c->o.negative_ttl_s)};
    return put_entry(c, &a);
}

sym_err sym_cache_delete(struct sym_cache *c, struct sym_slice debug_file,
                         struct sym_slice debug_id)
{
    if (c == NULL)
        return SYM_EINVAL;
    struct key k;
    if (make_key(debug_file, debug_id, &k) != SYM_OK)
        return SYM_EINVAL;
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS)
        return from_mdb(rc, NULL, "delete");
    struct counters n;
    bool found = false;
    rc = read_counters(c, txn, &n);
    if (rc == MDB_SUCCESS)
        rc = remove_entry(c, txn, k.bytes, k.len, &n, &found);
    if (rc == MDB_SUCCESS && found)
        rc = write_counters(c, txn, &n);
    if (rc != MDB_SUCCESS || !found) {
        mdb_txn_abort(txn);
        return rc != MDB_SUCCESS ? from_mdb(rc, NULL, "delete") : SYM_ENOTFOUND;
    }
    rc = mdb_txn_commit(txn);
    return rc == MDB_SUCCESS ? SYM_OK : from_mdb(rc, NULL, "delete");
}

static sym_err flush_touches(struct sym_cache *c)
{
    size_t n_touches;
    struct touch *t = take_touches(c, &n_touches);
    if (n_touches == 0)
        return SYM_OK;
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc == MDB_SUCCESS) {
        rc = apply_touches(c, txn, t, n_touches);
        if (rc == MDB_SUCCESS)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    sym_free(t);
    return rc == MDB_SUCCESS ? SYM_OK : from_mdb(rc, NULL, "record uses");
}

sym_err sym_cache_stats(struct sym_cache *c, struct sym_cache_stats *out)
{
    if (c == NULL || out == NULL)
        return SYM_EINVAL;
    sym_err e = flush_touches(c);
    if (e != SYM_OK)
        return e;
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS)
        return from_mdb(rc, NULL, "stats");
    struct counters n;
    rc = read_counters(c, txn, &n);
    mdb_txn_abort(txn);
    if (rc != MDB_SUCCESS)
        return from_mdb(rc, NULL, "stats");
    out->entries = n.entries;
    out->negative_entries = n.negatives;
    out->bytes = n.bytes;
    out->max_bytes = c->o.max_bytes;
    out->evictions = n.evictions;
    out->hits = atomic_load(&c->hits);
    out->negative_hits = atomic_load(&c->negative_hits);
    out->misses = atomic_load(&c->misses);
    return SYM_OK;
}
