/* SPDX-License-Identifier: MPL-2.0 */
/* md_int.h: internals shared by the stackwalk sources: bounds-checked little/big-endian field
 * readers over a byte range, and a block arena for the many small strings a dump yields. */
#ifndef SW_MD_INT_H
#define SW_MD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A byte range of untrusted input. Every read checks off + size against len. */
struct md_rd {
    const uint8_t *p;
    size_t len;
    bool swap; /* big-endian dump */
};

static inline bool md_has(const struct md_rd *r, uint64_t off, uint64_t n)
{
    return off <= r->len && n <= r->len - off;
}

/* The readers store 0 when the field is out of bounds, so a failed read never leaves a value
 * undefined. */
static inline bool md_u8(const struct md_rd *r, uint64_t off, uint8_t *out)
{
    *out = 0;
    if (!md_has(r, off, 1))
        return false;
    *out = r->p[off];
    return true;
}

static inline bool md_u16(const struct md_rd *r, uint64_t off, uint16_t *out)
{
    *out = 0;
    if (!md_has(r, off, 2))
        return false;
    const uint8_t *b = r->p + off;
    *out = r->swap ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
    return true;
}

static inline bool md_u32(const struct md_rd *r, uint64_t off, uint32_t *out)
{
    *out = 0;
    if (!md_has(r, off, 4))
        return false;
    const uint8_t *b = r->p + off;
    if (r->swap)
        *out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    else
        *out = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    return true;
}

static inline bool md_u64(const struct md_rd *r, uint64_t off, uint64_t *out)
{
    uint32_t a, b;
    *out = 0;
    if (!md_u32(r, off, &a) || !md_u32(r, off + 4, &b))
        return false;
    *out = r->swap ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
    return true;
}

/* A sub-range [off, off + n) of r; false when it does not fit. */
static inline bool md_sub(const struct md_rd *r, uint64_t off, uint64_t n, struct md_rd *out)
{
    if (!md_has(r, off, n))
        return false;
    out->p = r->p + off;
    out->len = (size_t)n;
    out->swap = r->swap;
    return true;
}

/* Block arena: allocations live until md_arena_free. Blocks grow to fit large requests. */
struct md_arena_block;
struct md_arena {
    struct md_arena_block *head;
    size_t used, cap; /* of head */
    size_t total;     /* bytes allocated */
    size_t limit;     /* allocations beyond this many bytes fail (0: none) */
    bool over_limit;  /* an allocation failed because of limit, not memory */
};

void md_arena_init(struct md_arena *a);
void md_arena_free(struct md_arena *a);
/* 8-byte aligned, zeroed; NULL on allocation failure. */
void *md_arena_alloc(struct md_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n); NULL on allocation failure. */
char *md_arena_strndup(struct md_arena *a, const char *s, size_t n);

/* ---- Reader state and helpers shared by minidump.c and md_streams.c ---- */

#include "stackwalk/minidump.h"

struct md_dirent {
    uint32_t type, size, rva;
};

struct md_priv {
    struct md_arena arena;
    struct md_rd whole;
    struct sw_md_limits lim;
    size_t n_dir;
    struct md_dirent *dir;
    /* Module lookup ranges sorted by start, without overlaps (see build_module_index). */
    size_t n_ranges;
    struct mod_range {
        uint64_t start, end;
        uint32_t index;
    } * ranges;
};

struct md_priv *md_priv_of(const struct sw_minidump *md);
/* Records a damaged optional stream in md->warnings. */
void md_warn(struct sw_minidump *md, uint32_t stream, sym_err code, const char *fmt, ...)
    SYM_PRINTF(4, 5);
/* The first stream of a type as a sub-range of the file; false when absent or out of bounds. */
bool md_stream_rd(const struct sw_minidump *md, uint32_t type, struct md_rd *out);
/* A location descriptor {u32 size, u32 rva} at off in r, resolved against the whole file;
 * false when empty or out of bounds. */
bool md_read_location(const struct sw_minidump *md, const struct md_rd *r, uint64_t off,
                      struct sw_bytes *out);
/* MINIDUMP_STRING at rva as UTF-8 in the arena; NULL when unreadable or over the limit. */
char *md_read_string(struct sw_minidump *md, uint64_t rva);
/* n_units UTF-16 code units at r[off] as UTF-8 in the arena; NULL when out of bounds. */
char *md_utf16_to_utf8(struct md_arena *a, const struct md_rd *r, uint64_t off, size_t n_units);
/* A NUL-terminated 8-bit string at r[off], at most max bytes; NULL when unterminated. */
char *md_read_cstring(struct md_arena *a, const struct md_rd *r, uint64_t off, size_t max);

/* Auxiliary stream parsers (md_streams.c). Damage becomes a warning; only SYM_ENOMEM fails. */
SYM_MUST_CHECK sym_err md_parse_linux(struct sw_minidump *md);
void md_parse_crashpad(struct sw_minidump *md);
SYM_MUST_CHECK sym_err md_parse_handles(struct sw_minidump *md);
SYM_MUST_CHECK sym_err md_parse_mac_crash_info(struct sw_minidump *md);
void md_parse_mozilla(struct sw_minidump *md);

#endif
