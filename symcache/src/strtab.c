/* SPDX-License-Identifier: MPL-2.0 */
/* strtab.c: the builder's string interner (each distinct name, path or rule text stored once)
 * and the id maps that turn the arbitrary FILE / INLINE_ORIGIN ids of a .sym file into dense
 * indexes. Both are open-addressing tables that grow by doubling: the id maps at half load,
 * the interner at 70 % (STRTAB_MAX_LOAD_NUM / STRTAB_MAX_LOAD_DEN). */
#include <string.h>

#include "build_int.h"

/* ---- strtab ------------------------------------------------------------------------------- */

/* The interner's slots keep the hash's top 32 bits, so that a probe compares strings only on a
 * likely match, and linear probing reads neighbouring slots: at this load a new string's probe
 * still reads about 5 slots, one or two cache lines. Fuller than the usual half, because the
 * table is sized for the file before its strings come (strtab_reserve) and stays that size: its
 * pages are fresh memory, which on a virtual machine costs more than the extra probes. */
#define STRTAB_MAX_LOAD_NUM 7
#define STRTAB_MAX_LOAD_DEN 10

/* The first slot a hash probes. Any table size works (no power of two needed): the top 32
 * bits of the hash, scaled to n. */
static inline size_t home_slot(uint64_t h, size_t n)
{
    return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

/* Slot arrays are zeroed blocks (block_new): the large ones regions. */
static uint64_t *slots_new(size_t n)
{
    return n > SIZE_MAX / sizeof(uint64_t) ? NULL : block_new(n * sizeof(uint64_t));
}

static void slots_free(uint64_t *slots, size_t n)
{
    block_free(slots, n * sizeof(uint64_t));
}

sym_err strtab_init(struct strtab *t, uint64_t max_bytes)
{
    memset(t, 0, sizeof(*t));
    t->max_bytes = max_bytes;
    t->n_slots = 1024;
    t->slots = slots_new(t->n_slots);
    return t->slots ? SYM_OK : SYM_ENOMEM;
}

void strtab_cleanup(struct strtab *t)
{
    vec_free(&t->bytes);
    strtab_drop_index(t);
}

void *strtab_release_index(struct strtab *t, size_t *bytes)
{
    size_t n = t->n_slots * sizeof(uint64_t);
    void *slots = t->slots;
    *bytes = 0;
    if (slots == NULL || !block_is_region(n)) {
        strtab_drop_index(t);
        return NULL;
    }
    t->slots = NULL;
    t->n_slots = t->n_used = 0;
    *bytes = n;
    return slots;
}

void strtab_drop_index(struct strtab *t)
{
    slots_free(t->slots, t->n_slots);
    t->slots = NULL;
    t->n_slots = t->n_used = 0;
}

/* Moves the index to n slots (at most 2^32, more than n_used at the maximum load). */
static sym_err strtab_rehash(struct strtab *t, size_t n)
{
    uint64_t *slots = slots_new(n);
    if (slots == NULL)
        return SYM_ENOMEM;
    for (size_t i = 0; i < t->n_slots; i++) {
        uint64_t e = t->slots[i];
        if (e == 0)
            continue;
        /* The stored high bits are the top 32 bits of the hash; probing starts from them. */
        size_t j = home_slot(e, n);
        while (slots[j] != 0)
            j = j + 1 < n ? j + 1 : 0;
        slots[j] = e;
    }
    slots_free(t->slots, t->n_slots);
    t->slots = slots;
    t->n_slots = n;
    t->slots_handed = 0;
    return SYM_OK;
}

static sym_err strtab_grow(struct strtab *t)
{
    return strtab_rehash(t, t->n_slots * 2);
}

sym_err strtab_reserve(struct strtab *t, size_t n_strings)
{
    /* n_strings fill two thirds of the slots: some headroom under the maximum load for an
     * estimate that falls short. */
    size_t n = n_strings < STRTAB_RESERVE_MAX_SLOTS ? n_strings : STRTAB_RESERVE_MAX_SLOTS;
    n = n / 2 * 3 + 1;
    if (n > STRTAB_RESERVE_MAX_SLOTS)
        n = STRTAB_RESERVE_MAX_SLOTS;
    return n > t->n_slots ? strtab_rehash(t, n) : SYM_OK;
}

void strtab_prefetch(const struct strtab *t, uint64_t h)
{
    __builtin_prefetch(&t->slots[home_slot(h, t->n_slots)]);
}

sym_err strtab_intern(struct strtab *t, const char *s, size_t n, struct img_str *out)
{
    return strtab_intern_hashed(t, s, n, hash_bytes(s, n), false, out);
}

sym_err strtab_intern_hashed(struct strtab *t, const char *s, size_t n, uint64_t h, bool no_nul,
                             struct img_str *out)
{
    if (n > UINT32_MAX - 1)
        return SYM_ELIMIT;
    if (n == 0)
        s = ""; /* an empty name may come from an empty (NULL) buffer */
    uint32_t tag = (uint32_t)(h >> 32);
    size_t n_slots = t->n_slots;
    size_t i = home_slot(h, n_slots);
    const char *base = t->bytes.data;
    for (;;) {
        uint64_t e = t->slots[i];
        if (e == 0)
            break;
        if ((uint32_t)(e >> 32) == tag) {
            uint32_t off = (uint32_t)e - 1;
            if (off + (uint64_t)n < t->bytes.len && base[off + n] == '\0' &&
                memcmp(base + off, s, n) == 0) {
                out->off = off;
                out->len = (uint32_t)n;
                return SYM_OK;
            }
        }
        i = i + 1 < n_slots ? i + 1 : 0;
    }
    uint64_t off = t->bytes.len;
    if (off + n + 1 > t->max_bytes || off + n + 1 > UINT32_MAX)
        return SYM_ELIMIT;
    if (!vec_reserve(&t->bytes, 1, n + 1))
        return SYM_ENOMEM;
    char *dst = (char *)t->bytes.data + off;
    memcpy(dst, s, n);
    dst[n] = '\0';
    /* Interior NULs would make the NUL-terminated comparison above ambiguous; the parser has
     * already counted them as a warning. */
    char *z = no_nul ? NULL : memchr(dst, '\0', n);
    if (z != NULL) {
        t->nul_replaced++;
        for (; z != NULL; z = memchr(z, '\0', (size_t)(dst + n - z)))
            *z = '_';
    }
    t->bytes.len += n + 1;
    t->slots[i] = ((uint64_t)tag << 32) | (off + 1);
    t->n_used++;
    out->off = (uint32_t)off;
    out->len = (uint32_t)n;
    if (t->n_used * STRTAB_MAX_LOAD_DEN > t->n_slots * STRTAB_MAX_LOAD_NUM)
        return strtab_grow(t);
    return SYM_OK;
}

/* ---- idmap -------------------------------------------------------------------------------- */

/* Ids below this use a direct table (dump_syms numbers ids densely from 0 or 1); larger ones a
 * hash table, so a hostile `FILE 4000000000 x` costs one slot, not 16 GB. */
#define IDMAP_DIRECT_MAX (1u << 20)

void idmap_cleanup(struct idmap *m)
{
    sym_free(m->direct);
    slots_free(m->slots, m->n_slots);
    memset(m, 0, sizeof(*m));
}

static sym_err idmap_new_index(struct idmap *m, uint32_t *index)
{
    if (m->next >= UINT32_MAX - 1)
        return SYM_ELIMIT;
    *index = m->next++;
    return SYM_OK;
}

static sym_err idmap_direct(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new)
{
    if (id >= m->n_direct) {
        size_t n = m->n_direct ? m->n_direct : 256;
        while (n <= id)
            n *= 2;
        uint32_t *d = sym_reallocarray(m->direct, n, sizeof(uint32_t));
        if (d == NULL)
            return SYM_ENOMEM;
        memset(d + m->n_direct, 0, (n - m->n_direct) * sizeof(uint32_t));
        m->direct = d;
        m->n_direct = n;
    }
    if (m->direct[id] != 0) {
        *index = m->direct[id] - 1;
        *is_new = false;
        return SYM_OK;
    }
    sym_err rc = idmap_new_index(m, index);
    if (rc != SYM_OK)
        return rc;
    m->direct[id] = *index + 1;
    *is_new = true;
    return SYM_OK;
}

static size_t id_hash(uint32_t id, size_t mask)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static sym_err idmap_hashed(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new)
{
    if (m->slots == NULL) {
        m->n_slots = 64;
        m->slots = sym_calloc(m->n_slots, sizeof(uint64_t));
        if (m->slots == NULL) {
            m->n_slots = 0;
            return SYM_ENOMEM;
        }
    }
    size_t mask = m->n_slots - 1;
    size_t i = id_hash(id, mask);
    while (m->slots[i] != 0) {
        if ((uint32_t)(m->slots[i] >> 32) == id) {
            *index = (uint32_t)m->slots[i] - 1;
            *is_new = false;
            return SYM_OK;
        }
        i = (i + 1) & mask;
    }
    sym_err rc = idmap_new_index(m, index);
    if (rc != SYM_OK)
        return rc;
    m->slots[i] = ((uint64_t)id << 32) | ((uint64_t)*index + 1);
    m->n_used++;
    *is_new = true;
    if (m->n_used * 2 <= m->n_slots)
        return SYM_OK;
    size_t n = m->n_slots * 2;
    uint64_t *slots = slots_new(n);
    if (slots == NULL)
        return SYM_ENOMEM;
    for (size_t k = 0; k < m->n_slots; k++) {
        uint64_t e = m->slots[k];
        if (e == 0)
            continue;
        size_t j = id_hash((uint32_t)(e >> 32), n - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n - 1);
        slots[j] = e;
    }
    slots_free(m->slots, m->n_slots);
    m->slots = slots;
    m->n_slots = n;
    return SYM_OK;
}

static sym_err idmap_find_or_add(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new)
{
    return id < IDMAP_DIRECT_MAX ? idmap_direct(m, id, index, is_new)
                                 : idmap_hashed(m, id, index, is_new);
}

sym_err idmap_get_slow(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new)
{
    if (!m->mixed) {
        if (id == m->next) { /* the ids are still 0, 1, 2, ... in order: no table needed */
            sym_err rc = idmap_new_index(m, index);
            *is_new = rc == SYM_OK;
            return rc;
        }
        /* The first id out of that order: record the ones so far, each its own index. */
        uint32_t n = m->next;
        m->next = 0;
        m->mixed = true;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t idx;
            bool fresh;
            sym_err rc = idmap_find_or_add(m, i, &idx, &fresh);
            if (rc != SYM_OK)
                return rc;
        }
    }
    if (m->has_last && m->last_id == id) {
        *index = m->last_index;
        *is_new = false;
        return SYM_OK;
    }
    sym_err rc = idmap_find_or_add(m, id, index, is_new);
    if (rc != SYM_OK)
        return rc;
    m->has_last = true;
    m->last_id = id;
    m->last_index = *index;
    return SYM_OK;
}
