/* SPDX-License-Identifier: MPL-2.0 */
/* slice.h: a borrowed byte range {p, n}. Slices are how the symbol core hands out names, paths
 * and rule texts without copying: they point into a symcache image (or the caller's input) and
 * live exactly as long as that storage. They are NOT NUL-terminated. */
#ifndef SYM_SLICE_H
#define SYM_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct sym_slice {
    const char *p; /* borrowed; may be NULL when n == 0 */
    size_t n;
};

static inline struct sym_slice sym_slice_make(const char *p, size_t n)
{
    struct sym_slice s = {p, n};
    return s;
}

/* A slice over a NUL-terminated string (NULL gives the empty slice). */
static inline struct sym_slice sym_slice_cstr(const char *s)
{
    struct sym_slice r = {s, s ? strlen(s) : 0};
    return r;
}

static inline bool sym_slice_eq(struct sym_slice a, struct sym_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool sym_slice_eq_cstr(struct sym_slice a, const char *s)
{
    return sym_slice_eq(a, sym_slice_cstr(s));
}

/* printf helper: printf("%.*s", SYM_SLICE_FMT_ARGS(s)). */
#define SYM_SLICE_FMT_ARGS(s) (int)((s).n > 0x7fffffff ? 0x7fffffff : (s).n), ((s).n ? (s).p : "")

#endif
