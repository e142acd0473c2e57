/* SPDX-License-Identifier: MPL-2.0 */
/* vec.c: the growth path of the internal growable array (util_int.h). */
#include <stdint.h>
#include <string.h>

#include "util_int.h"

bool vec_grow(struct vec *v, size_t esz, size_t extra)
{
    if (extra > SIZE_MAX / esz - v->len)
        return false;
    size_t need = v->len + extra;
    size_t cap = v->cap ? v->cap : 16;
    while (cap < need)
        cap = cap > SIZE_MAX / 4 ? need : cap * 2;
    if (cap > SIZE_MAX / esz)
        return false;
    size_t bytes = cap * esz;
    if (bytes < VEC_REGION_MIN) {
        void *p = sym_reallocarray(v->data, cap, esz);
        if (p == NULL)
            return false;
        v->data = p;
        v->cap = cap;
        return true;
    }
    if (v->map_bytes != 0) {
        void *p = sym_region_grow(v->data, v->map_bytes, bytes);
        if (p == NULL)
            return false;
        v->data = p;
    } else {
        void *p = sym_region_grow(NULL, 0, bytes);
        if (p == NULL)
            return false;
        if (v->len > 0)
            memcpy(p, v->data, v->len * esz);
        sym_free(v->data);
        v->data = p;
    }
    v->map_bytes = bytes;
    v->cap = cap;
    return true;
}

/* Moves the n leading bytes (whole pages) of a region-held array's pages to dst and drops
 * them from the region; the caller adjusts len and cap. Returns n, 0 when nothing moved, or
 * SIZE_MAX when dst became unusable (sym_region_give). */
static size_t give_front_pages(struct vec *v, void *dst, size_t n)
{
    if (v->map_bytes == 0 || n == 0)
        return 0;
    int rc = sym_region_give(v->data, v->map_bytes, dst, n);
    if (rc <= 0)
        return rc == 0 ? 0 : SIZE_MAX;
    v->map_bytes -= n;
    v->data = v->map_bytes != 0 ? (char *)v->data + n : NULL;
    return n;
}

size_t vec_give_front(struct vec *v, void *dst)
{
    size_t n = give_front_pages(v, dst, v->len / SYM_REGION_PAGE * SYM_REGION_PAGE);
    if (n != 0 && n != SIZE_MAX) {
        v->len -= n;
        v->cap -= n;
    }
    return n;
}

size_t vec_donate(struct vec *v, void *dst, size_t n)
{
    size_t have = v->map_bytes / SYM_REGION_PAGE * SYM_REGION_PAGE;
    n = give_front_pages(v, dst, (n < have ? n : have) / SYM_REGION_PAGE * SYM_REGION_PAGE);
    if (n != 0 && n != SIZE_MAX)
        v->len = v->cap = 0;
    return n;
}

bool vec_room(const struct vec *v, size_t esz, size_t ahead, uintptr_t *at, size_t *n)
{
    if (v->map_bytes == 0)
        return false;
    uintptr_t base = (uintptr_t)v->data, page = SYM_REGION_PAGE;
    uintptr_t from = (base + v->len * esz + page - 1) & ~(page - 1);
    uintptr_t end = (base + v->map_bytes) & ~(page - 1);
    if (from >= end)
        return false;
    *at = from;
    *n = end - from < ahead ? (size_t)(end - from) : ahead;
    return true;
}
