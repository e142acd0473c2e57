/* SPDX-License-Identifier: MPL-2.0 */
/* util_int.h: small helpers shared inside libsym: a growable array, LEB128 varints, unaligned
 * little-endian loads, and the string hash. Internal; not installed. */
#ifndef SYM_UTIL_INT_H
#define SYM_UTIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym/alloc.h"
#include "sym/err.h"

#define SYM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SYM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- Growable array of fixed-size elements ------------------------------------------------ */

/* len/cap count elements; the element size is passed to each call. Small arrays live in
 * sym_realloc memory; from VEC_REGION_MIN bytes on, in a region (sym/alloc.h) that grows
 * without copying. map_bytes is the region size, 0 while the array is malloc'd. */
struct vec {
    void *data;
    size_t len, cap;
    size_t map_bytes;
};

#define VEC_REGION_MIN ((size_t)1 << 20)

static inline void vec_free(struct vec *v)
{
    if (v->map_bytes != 0)
        sym_region_free(v->data, v->map_bytes);
    else
        sym_free(v->data);
    v->data = NULL;
    v->len = v->cap = v->map_bytes = 0;
}

/* A zeroed block of bytes that is never resized (a hash table's slots, a finished table): from
 * VEC_REGION_MIN bytes on a region, whose fresh zero pages need no clearing and come as huge
 * pages where the kernel allows (a heap block was faulted 4 KiB at a time, or cleared by
 * calloc when reused), else sym_calloc memory. NULL when out of memory. */
static inline bool block_is_region(size_t bytes)
{
    return bytes >= VEC_REGION_MIN;
}

static inline void *block_new(size_t bytes)
{
    return block_is_region(bytes) ? sym_region_grow(NULL, 0, bytes) : sym_calloc(1, bytes);
}

/* Frees what block_new(bytes) returned (NULL is ignored). */
static inline void block_free(void *p, size_t bytes)
{
    if (p != NULL && block_is_region(bytes))
        sym_region_free(p, bytes);
    else
        sym_free(p);
}

/* Hands the leading whole pages of a byte array held in a region to dst (sym_region_give):
 * afterwards the array is its remaining tail. Returns the bytes given (0: nothing moved, the
 * array is unchanged and dst still writable), or SIZE_MAX when dst became unusable. */
size_t vec_give_front(struct vec *v, void *dst);

/* Hands up to n bytes (whole pages) of a region-held array's pages, from its front, to dst
 * (sym_region_give), their content dropped: for an array no longer needed, whose pages are
 * already the process's. Afterwards the array is empty (its length 0): only vec_donate, for
 * more of its pages, or vec_free may follow.
 * Returns the bytes given (0: nothing moved, dst still writable), or SIZE_MAX when dst became
 * unusable. */
size_t vec_donate(struct vec *v, void *dst, size_t n);

/* Where a region-held array will be written next: up to `ahead` bytes of its unused
 * capacity, from the first whole page after its elements, in *at and *n. Returns false when
 * there is none (a malloc'd array, or less than a page left). Computes addresses only. */
bool vec_room(const struct vec *v, size_t esz, size_t ahead, uintptr_t *at, size_t *n);

/* Out of line: the growth path of vec_reserve. */
bool vec_grow(struct vec *v, size_t esz, size_t extra);

/* Makes room for `extra` more elements; false on overflow or OOM (v unchanged). */
static inline bool vec_reserve(struct vec *v, size_t esz, size_t extra)
{
    if (SYM_LIKELY(v->cap - v->len >= extra))
        return true;
    return vec_grow(v, esz, extra);
}

/* Appends one uninitialised element and returns it, or NULL on OOM. */
static inline void *vec_push(struct vec *v, size_t esz)
{
    if (SYM_UNLIKELY(v->len == v->cap) && !vec_reserve(v, esz, 1))
        return NULL;
    return (char *)v->data + esz * v->len++;
}

static inline bool vec_append(struct vec *v, const void *src, size_t n_bytes)
{
    if (!vec_reserve(v, 1, n_bytes))
        return false;
    if (n_bytes)
        memcpy((char *)v->data + v->len, src, n_bytes);
    v->len += n_bytes;
    return true;
}

/* Appends n elements of esz bytes. */
static inline bool vec_append_n(struct vec *v, size_t esz, const void *src, size_t n)
{
    if (!vec_reserve(v, esz, n))
        return false;
    if (n)
        memcpy((char *)v->data + esz * v->len, src, esz * n);
    v->len += n;
    return true;
}

#define VEC_AT(v, type, i) (((type *)(v)->data)[i])

/* ---- Varints (unsigned LEB128, at most 10 bytes) ------------------------------------------ */

#define VARINT_MAX 10

static inline size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Bounds-checked reader over an untrusted byte range. A read past the end or an over-long
 * varint sets `bad` and returns 0; callers check `bad` once after a group of reads. */
struct cursor {
    const uint8_t *p, *end;
    bool bad;
};

static inline uint64_t cur_varint(struct cursor *c)
{
    const uint8_t *p = c->p;
    if (SYM_LIKELY(p < c->end && *p < 0x80)) {
        c->p = p + 1;
        return *p;
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* A varint of 2 to 8 bytes with 8 bytes to read: without a loop whose exit mispredicts
     * with the length. The bytes up to the first without the high bit are kept, then their
     * 7-bit groups are packed in three steps (pairs, fours, eights). */
    if (SYM_LIKELY(c->end - p >= 8)) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t stop = ~x & UINT64_C(0x8080808080808080);
        if (SYM_LIKELY(stop != 0)) {
            c->p = p + (unsigned)__builtin_ctzll(stop) / 8 + 1;
            x &= (stop ^ (stop - 1)) & UINT64_C(0x7f7f7f7f7f7f7f7f);
            x = ((x & UINT64_C(0x7f007f007f007f00)) >> 1) | (x & UINT64_C(0x007f007f007f007f));
            x = ((x & UINT64_C(0x3fff00003fff0000)) >> 2) | (x & UINT64_C(0x00003fff00003fff));
            x = ((x & UINT64_C(0x0fffffff00000000)) >> 4) | (x & UINT64_C(0x000000000fffffff));
            return x;
        }
    }
#endif
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (SYM_UNLIKELY(p >= c->end))
            break;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            c->p = p;
            return v;
        }
    }
    c->bad = true;
    c->p = c->end;
    return 0;
}

/* ---- Unaligned loads (images may sit at any address, e.g. inside an LMDB page) ------------ */

static inline uint16_t ld16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t ld32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t ld64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- Hash --------------------------------------------------------------------------------- */

static inline uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/* A fast non-cryptographic hash for interning names (8 bytes per step). */
static inline uint64_t hash_bytes(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0x94d049bb133111ebull;
    }
    return hash_mix(h);
}

#endif
