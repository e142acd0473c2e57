/* SPDX-License-Identifier: MPL-2.0 */
/* format_int.h: the on-disk layout of a symcache image, shared by the writer (build.c) and the
 * reader (image.c). Native byte order (checked by the endian marker); every section starts at a
 * multiple of 8 bytes from the image start.
 *
 * Layout: header, then the sections of enum img_sect. An address table is a sorted array of
 * starts (u32, or u64 when IMG_F_WIDE is set) with a multi-level sampled index: level 1 holds
 * every IMG_FANOUT-th start, level 2 every IMG_FANOUT-th entry of level 1, and so on until a
 * level has at most IMG_FANOUT entries; the levels are stored top-down-last (level 1 first) in
 * the table's index section. A lookup scans one window of IMG_FANOUT entries per level, so it
 * touches one cache line or two per level, and the top levels stay in cache. Strings are
 * referenced as (offset, length) into the string section; each string is followed by a NUL.
 *
 * FUNC table: one {start, block offset} pair per function (u32 + u32, or u64 + u32 + 4 bytes of
 * padding when wide), so that finding the function also finds its block.
 * FUNC block (varints are unsigned LEB128; offsets are relative to the function start):
 *   size; name_off; name_len; hdr = param_size << 1 | is_multiple
 *   the line records: one range list
 *   n_depths, then the INLINE ranges of each depth 0 .. n_depths - 1: one range list each
 * Range list: n; when n > 0: n_ck, n_ck x {u32 start, u32 byte_offset} (fixed width),
 *   stream_bytes, stream. Checkpoint k (1-based) starts entry k * IMG_LIST_CK, where the decoder
 *   state resets to (prev_end = checkpoint start, prev_line = 0, file = none); it starts as
 *   (0, 0, none). Entries are sorted and disjoint.
 * Line entry: head = size << 2 | has_gap << 1 | file_changed; [gap]; zigzag(line - prev_line);
 *   [file_off, file_len]; start = prev_end + gap.
 * Inline entry: head = size << 1 | has_gap; [gap]; origin_off; origin_len; call_file (0 = not
 *   recorded, else file_off + 1); [call_file_len when call_file != 0]; call_line.
 * Names are referenced directly (not through the FILE / INLINE_ORIGIN tables) so that a lookup
 * needs no table access after the block.
 * CFI deltas: n, n x (address - previous address (the INIT start for the first), rule_index).
 * FUNC radix: a direct table over the address range of the FUNC index's level 1, so that a
 * lookup starts at level 1 instead of descending from the top: entry b is the position in level
 * 1 of the last entry <= min + (b << shift). A lookup scans one window of level 1 from there and
 * uses the result only when the window holds the answer (the key is not below its first entry
 * nor at or past its last); otherwise it descends as usual. So any entry value gives the right
 * answer, and a corrupt table can only slow a lookup down.
 * FUNC group blocks: one u32 per level-1 entry g, the block offset of function g * IMG_FANOUT.
 * The blocks of a group of IMG_FANOUT functions lie between two such offsets, in address order,
 * so once level 1 has named the group, the key's share of the group's address span tells
 * roughly where its block is, and the reader starts fetching it while it still searches the
 * pairs window that names it exactly (one memory latency instead of two in a row). They are
 * also the base of the group lines' block offsets.
 * FUNC group lines: one 64-byte line per level-1 entry g (the section starts at a multiple of
 * 64 from the image start): u16 start[IMG_FANOUT], the starts of functions g * IMG_FANOUT + i
 * less the first one's, then u16 block[IMG_FANOUT], their block offsets less the first one's.
 * Missing functions (past the last) have start 0xffff. A group whose deltas do not fit in
 * 0 .. 0xfffe is marked by start[0] = 0xffff and searched in the pairs instead. A single
 * lookup reads this one line where the pairs window takes two or three, from a table half
 * the size, so it is more often in cache.
 * FUNC block hints: struct img_radix, then n u32: entry b is the block offset of the function
 * that holds address min + (b << shift), that is the last one starting at or below it (the
 * first function for an address below every start). Buckets of 2^shift bytes span the starts,
 * about one per IMG_HINT_FUNCS functions (within a factor of two), so that the table stays in
 * cache; the last entry, for the bucket after the last start, ends the last stretch.
 * The block of the function holding a key in bucket b lies between entries b and b + 1, and
 * the key's share of the bucket's span points into that stretch, so a single lookup starts
 * fetching its block straight from the key, before any table search (the group prefetch
 * above waits for the radix, level 1 and the group offsets in turn). They are hints only:
 * any value gives the right answer, a wrong one only costs time. */
#ifndef SYM_FORMAT_INT_H
#define SYM_FORMAT_INT_H

#include <stdint.h>

#define IMG_MAGIC      "SIGLSYMC"
#define IMG_ENDIAN     0x01020304u
#define IMG_FANOUT     16u
#define IMG_MAX_LEVELS 16
#define IMG_LIST_CK    32u         /* range-list entries per checkpoint group */
#define IMG_NONE       0xffffffffu /* "no record" in segment tables */
#define IMG_MAX_U32    0xffffffffull
#define IMG_GROUP_LINE 64u     /* bytes per FUNC group line */
#define IMG_GROUP_NONE 0xffffu /* a missing function, or (first entry) an unusable line */
#define IMG_HINT_FUNCS 32u     /* functions per FUNC block hint bucket, about */

enum {
    IMG_F_WIDE = 1u << 0,       /* address tables are u64 */
    IMG_F_HAS_MODULE = 1u << 1, /* a MODULE record was read */
};

enum img_sect {
    IMG_S_STRINGS,     /* bytes */
    IMG_S_FILES,       /* struct img_str per file index (enumeration only) */
    IMG_S_ORIGINS,     /* struct img_str per inline-origin index (enumeration only) */
    IMG_S_RULES,       /* struct img_str per CFI rule index */
    IMG_S_FUNC_TABLE,  /* {start, block} pairs */
    IMG_S_FUNC_INDEX,  /* index levels over the starts */
    IMG_S_FUNC_BLOCKS, /* bytes */
    IMG_S_PUB_STARTS,
    IMG_S_PUB_INDEX,
    IMG_S_PUB_RECS, /* struct img_pub */
    IMG_S_CFI_STARTS,
    IMG_S_CFI_INDEX,
    IMG_S_CFI_RECS,    /* struct img_cfi */
    IMG_S_CFI_DELTAS,  /* bytes */
    IMG_S_WIN_RECS,    /* struct img_win */
    IMG_S_WIN4_STARTS, /* segment starts of the FRAME_DATA records */
    IMG_S_WIN4_INDEX,
    IMG_S_WIN4_SEGS,   /* u32 record index or IMG_NONE, one per segment */
    IMG_S_WIN0_STARTS, /* the same for FPO records */
    IMG_S_WIN0_INDEX,
    IMG_S_WIN0_SEGS,
    IMG_S_FUNC_RADIX,  /* struct img_radix, then n u32 (empty when the FUNC table has no index) */
    IMG_S_FUNC_GROUPS, /* u32 block offset per level-1 entry (empty when there is no level 1) */
    IMG_S_FUNC_GROUP_LINES, /* IMG_GROUP_LINE bytes per level-1 entry (the same) */
    IMG_S_FUNC_HINTS,       /* struct img_radix, then n u32 block offsets (empty as the radix) */
    IMG_S_COUNT
};

enum img_module_field {
    IMG_M_OS,
    IMG_M_ARCH,
    IMG_M_DEBUG_ID,
    IMG_M_DEBUG_FILE,
    IMG_M_CODE_ID,
    IMG_M_CODE_FILE,
    IMG_M_GENERATOR,
    IMG_M_PE_NAME,
    IMG_M_COUNT
};

enum img_count {
    IMG_C_FILES,
    IMG_C_ORIGINS,
    IMG_C_FUNCS,
    IMG_C_LINES,
    IMG_C_INLINES,
    IMG_C_PUBLICS,
    IMG_C_CFI_INITS,
    IMG_C_CFI_DELTAS,
    IMG_C_WIN_FPO,
    IMG_C_WIN_FRAMEDATA,
    IMG_C_COUNT
};

struct img_str {
    uint32_t off, len;
};

/* The number of index levels above level 0 for n starts; sizes[] receives their entry counts,
 * level 1 first. */
static inline int img_index_levels(uint64_t n, uint64_t sizes[IMG_MAX_LEVELS])
{
    int k = 0;
    while (n > IMG_FANOUT && k < IMG_MAX_LEVELS) {
        n = (n + IMG_FANOUT - 1) / IMG_FANOUT;
        sizes[k++] = n;
    }
    return k;
}

_Static_assert(IMG_GROUP_LINE == 4 * IMG_FANOUT, "a group line holds two u16 per function");

struct img_radix {
    uint64_t min;
    uint32_t shift, n;
};

struct img_sect_ent {
    uint64_t off, size;
};

struct img_header {
    char magic[8];
    uint32_t version;
    uint32_t endian;
    uint32_t header_size;
    uint32_t flags;
    uint64_t total_size;
    uint32_t fanout;
    uint32_t n_sections;
    uint64_t source_bytes;
    uint64_t parse_warnings;
    uint64_t counts[IMG_C_COUNT];
    struct img_str module[IMG_M_COUNT];
    struct img_sect_ent sect[IMG_S_COUNT];
};

enum { IMG_PUB_MULTIPLE = 1u };

struct img_pub {
    uint32_t name_off, name_len, param_size, flags;
};

struct img_cfi {
    uint32_t size, rule, deltas;
};

enum {
    IMG_WIN_TYPE_MASK = 0xffu,
    IMG_WIN_HAS_PROGRAM = 1u << 8,
    IMG_WIN_ALLOCS_BP = 1u << 9,
};

struct img_win {
    uint32_t rva_lo, rva_hi;
    uint32_t code_size, prolog, epilog, params, saved_regs, locals, max_stack, flags;
    uint32_t prog_off, prog_len;
};

#endif
