/* SPDX-License-Identifier: MPL-2.0 */
/* ranges.c: resolving overlapping address ranges the way Breakpad's range maps do, where the
 * record stored first (in file order) wins, and flattening nested STACK WIN ranges into
 * elementary segments for an O(log n) "innermost range" lookup.
 *
 * Well-formed files have no overlaps, so a linear check accepts them without further work. The
 * general case replays the records in file order against a max segment tree over their sorted
 * positions, which answers "is a kept range in the way" in O(log n) per record. */
#include <stdlib.h>
#include <string.h>

#include "build_int.h"

static int cmp_disjoint(const void *a, const void *b)
{
    const struct ival *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_laminar(const void *a, const void *b)
{
    const struct ival *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool is_sorted(const struct ival *it, size_t n, int (*cmp)(const void *, const void *))
{
    for (size_t i = 1; i < n; i++)
        if (cmp(&it[i - 1], &it[i]) > 0)
            return false;
    return true;
}

/* True when no two items overlap (disjoint) or every pair nests without repeats (laminar);
 * items sorted. */
static bool no_conflicts(const struct ival *it, size_t n, bool laminar)
{
    if (!laminar) {
        for (size_t i = 1; i < n; i++)
            if (it[i].start < it[i - 1].end)
                return false;
        return true;
    }
    /* A stack of open ranges; each new one must fit inside the innermost open one. The stack
     * depth is bounded by n; we reuse no memory, so check with a simple scan instead. */
    uint64_t open_end[64];
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        while (depth > 0 && open_end[depth - 1] <= it[i].start)
            depth--;
        if (depth > 0 && it[i].end > open_end[depth - 1])
            return false;
        if (i > 0 && it[i].start == it[i - 1].start && it[i].end == it[i - 1].end)
            return false;
        if (depth == 64)
            return false; /* very deep nesting: let the general path decide */
        open_end[depth++] = it[i].end;
    }
    return true;
}

/* ---- Max segment tree over sorted positions ----------------------------------------------- */

struct segtree {
    uint64_t *t; /* 2 * m nodes, leaves at m .. 2m-1 */
    size_t m;
};

static void st_set(struct segtree *s, size_t pos, uint64_t v)
{
    size_t i = pos + s->m;
    s->t[i] = v;
    for (i >>= 1; i >= 1; i >>= 1) {
        uint64_t a = s->t[2 * i], b = s->t[2 * i + 1];
        s->t[i] = a > b ? a : b;
    }
}

/* Max over positions [lo, hi). */
static uint64_t st_max(const struct segtree *s, size_t lo, size_t hi)
{
    uint64_t r = 0;
    for (lo += s->m, hi += s->m; lo < hi; lo >>= 1, hi >>= 1) {
        if (lo & 1) {
            uint64_t v = s->t[lo++];
            r = v > r ? v : r;
        }
        if (hi & 1) {
            uint64_t v = s->t[--hi];
            r = v > r ? v : r;
        }
    }
    return r;
}

/* Rightmost position < p whose value exceeds x, or SIZE_MAX. Walks down from the root,
 * preferring right children; each level is visited at most twice along the boundary. */
static size_t st_last_greater(const struct segtree *s, size_t p, uint64_t x)
{
    if (p == 0)
        return SIZE_MAX;
    /* Collect the O(log n) canonical nodes covering [0, p) from right to left. */
    size_t nodes[130];
    size_t n_nodes = 0;
    size_t lo = s->m, hi = p + s->m;
    size_t left_nodes[65], n_left = 0;
    while (lo < hi) {
        if (lo & 1)
            left_nodes[n_left++] = lo++;
        if (hi & 1)
            nodes[n_nodes++] = --hi;
        lo >>= 1;
        hi >>= 1;
    }
    /* nodes[] are right-side nodes from right to left; left_nodes[] left-side from left to
     * right, so the full right-to-left order is nodes[] then left_nodes[] reversed. */
    while (n_left > 0)
        nodes[n_nodes++] = left_nodes[--n_left];
    for (size_t k = 0; k < n_nodes; k++) {
        size_t i = nodes[k];
        if (s->t[i] <= x)
            continue;
        while (i < s->m)
            i = s->t[2 * i + 1] > x ? 2 * i + 1 : 2 * i;
        return i - s->m;
    }
    return SIZE_MAX;
}

static int cmp_u32_by_seq(const void *a, const void *b, void *ctx)
{
    const struct ival *it = ctx;
    uint32_t x = it[*(const uint32_t *)a].seq, y = it[*(const uint32_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* First position >= from whose start is >= key. */
static size_t lower_bound_start(const struct ival *it, size_t from, size_t n, uint64_t key)
{
    size_t lo = from, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (it[mid].start < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static sym_err resolve_general(struct ival *it, size_t n, bool laminar, uint8_t *keep)
{
    struct segtree s;
    s.m = 1;
    while (s.m < n)
        s.m *= 2;
    s.t = sym_calloc(2 * s.m, sizeof(uint64_t));
    uint32_t *order = sym_calloc(n, sizeof(uint32_t));
    if (s.t == NULL || order == NULL) {
        sym_free(s.t);
        sym_free(order);
        return SYM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof(uint32_t), cmp_u32_by_seq, it);
    memset(keep, 0, n);
    for (size_t k = 0; k < n; k++) {
        size_t p = order[k];
        uint64_t start = it[p].start, end = it[p].end;
        size_t j = st_last_greater(&s, p, start);
        if (j != SIZE_MAX) {
            /* j is the innermost kept range containing `start` that sorts before p. */
            if (!laminar || it[j].end < end || (it[j].start == start && it[j].end == end))
                continue;
        }
        size_t r = lower_bound_start(it, p + 1, n, end);
        uint64_t mx = st_max(&s, p + 1, r);
        if (laminar ? mx > end : mx > 0)
            continue;
        keep[p] = 1;
        st_set(&s, p, end);
    }
    sym_free(s.t);
    sym_free(order);
    return SYM_OK;
}

sym_err ivals_resolve(struct ival *items, size_t n, bool laminar, uint8_t *keep)
{
    if (n == 0)
        return SYM_OK;
    int (*cmp)(const void *, const void *) = laminar ? cmp_laminar : cmp_disjoint;
    if (!is_sorted(items, n, cmp))
        qsort(items, n, sizeof(*items), cmp);
    if (no_conflicts(items, n, laminar)) {
        memset(keep, 1, n);
        return SYM_OK;
    }
    return resolve_general(items, n, laminar, keep);
}

/* ---- Segments ------------------------------------------------------------------------------ */

struct seg_out {
    uint64_t *starts;
    uint32_t *recs;
    size_t n;
};

static void seg_emit(struct seg_out *o, uint64_t pos, uint32_t rec)
{
    if (o->n > 0 && o->starts[o->n - 1] == pos) {
        o->recs[o->n - 1] = rec;
        if (o->n > 1 && o->recs[o->n - 2] == rec)
            o->n--;
        return;
    }
    if (o->n > 0 && o->recs[o->n - 1] == rec)
        return;
    o->starts[o->n] = pos;
    o->recs[o->n] = rec;
    o->n++;
}

void ivals_segments(const struct ival *items, size_t n, const uint8_t *keep, uint64_t *starts,
                    uint32_t *recs, size_t *n_out)
{
    struct seg_out o = {starts, recs, 0};
    /* The open ranges form a chain of nested ranges, which can be as long as n. Their item
     * positions are kept as a stack growing down from the end of recs[]: with k ranges kept so
     * far and s of them open, at most 2k - s segments have been emitted, so the segments and
     * the stack never meet within the 2n entries. */
    size_t cap = 2 * n;
    size_t top = cap; /* stack grows down from the end of recs[] */
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        while (top < cap && items[recs[top]].end <= items[i].start) {
            uint64_t end = items[recs[top]].end;
            top++;
            seg_emit(&o, end, top < cap ? items[recs[top]].id : IMG_NONE);
        }
        recs[--top] = (uint32_t)i;
        seg_emit(&o, items[i].start, items[i].id);
    }
    while (top < cap) {
        uint64_t end = items[recs[top]].end;
        top++;
        seg_emit(&o, end, top < cap ? items[recs[top]].id : IMG_NONE);
    }
    *n_out = o.n;
}
