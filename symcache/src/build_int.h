/* SPDX-License-Identifier: MPL-2.0 */
/* build_int.h: the image builder behind the .sym parser. symfile.c tokenizes lines, does the
 * per-record work of FUNC blocks that needs no builder state with the block front (struct
 * bfront, possibly on another thread) and calls the bld_* functions in file order; the builder
 * interns strings, encodes each FUNC block and CFI INIT block as soon as it closes, and at the
 * end sorts, resolves overlaps and writes the image (format_int.h). Internal to libsym. */
#ifndef SYM_BUILD_INT_H
#define SYM_BUILD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format_int.h"
#include "sym/err.h"
#include "sym/symfile.h"
#include "util_int.h"

/* ---- String interner: one copy of each distinct string ------------------------------------ */

struct strtab {
    struct vec bytes; /* u8: strings, each followed by NUL */
    uint64_t *slots;  /* open addressing: hash high 32 bits << 32 | (offset + 1); 0 = empty */
    size_t n_slots, n_used;
    size_t slots_handed; /* bytes of slots handed out as a room (bld_rooms) */
    uint64_t max_bytes;
    uint64_t nul_replaced; /* strings stored with NUL bytes replaced */
};

sym_err strtab_init(struct strtab *t, uint64_t max_bytes);
void strtab_cleanup(struct strtab *t);
/* Frees the hash slots only (the bytes stay), once no more strings will be added. */
void strtab_drop_index(struct strtab *t);
/* The same, except that slots of VEC_REGION_MIN bytes or more are handed to the caller instead
 * of freed: a region (sym/alloc.h) of *bytes bytes, whose pages are already the process's, for
 * the caller to reuse and free with sym_region_free. NULL (and *bytes 0) when they were freed. */
void *strtab_release_index(struct strtab *t, size_t *bytes);
/* Returns SYM_OK and *out, SYM_ENOMEM, or SYM_ELIMIT (string section over max_bytes). NUL bytes
 * in s are stored as '_' (as Breakpad does) and counted in nul_replaced. */
sym_err strtab_intern(struct strtab *t, const char *s, size_t n, struct img_str *out);
/* The same with h = hash_bytes(s, n) already computed; no_nul: s is known to hold no NUL byte
 * (it is not scanned for one). */
sym_err strtab_intern_hashed(struct strtab *t, const char *s, size_t n, uint64_t h, bool no_nul,
                             struct img_str *out);
/* Sizes the index for n_strings strings in all, so that it need not grow (and rehash
 * everything it holds) while they are added; at most STRTAB_RESERVE_MAX_SLOTS slots. Returns
 * SYM_OK or SYM_ENOMEM (the table is then unchanged and still grows as it fills). */
#define STRTAB_RESERVE_MAX_SLOTS ((size_t)1 << 24)
sym_err strtab_reserve(struct strtab *t, size_t n_strings);
/* Starts loading the slot that string hash h will probe first (a hint; see bld_func). */
void strtab_prefetch(const struct strtab *t, uint64_t h);

/* ---- Id map: arbitrary u32 ids -> dense indexes in order of first sight ------------------- */

struct idmap {
    uint32_t *direct; /* ids below n_direct: index + 1, 0 = unassigned */
    size_t n_direct;
    uint64_t *slots; /* larger ids: id << 32 | (index + 1) */
    size_t n_slots, n_used;
    uint32_t next; /* next dense index */
    uint32_t last_id, last_index;
    bool has_last;
    /* false while the ids seen are exactly 0 .. next - 1, each its own index (FILE and
     * INLINE_ORIGIN ids as dump_syms writes them): then the tables above are left empty and a
     * lookup reads no memory. */
    bool mixed;
};

void idmap_cleanup(struct idmap *m);
sym_err idmap_get_slow(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new);

/* *index receives the dense index of id (assigned now when new, *is_new set). SYM_ENOMEM or
 * SYM_ELIMIT (over 2^32 - 2 ids). Consecutive lookups of one id (line records of one file)
 * and known small ids take the inline path. */
static inline sym_err idmap_get(struct idmap *m, uint32_t id, uint32_t *index, bool *is_new)
{
    if (!m->mixed && id < m->next) {
        *index = id;
        *is_new = false;
        return SYM_OK;
    }
    if (m->has_last && m->last_id == id) {
        *index = m->last_index;
        *is_new = false;
        return SYM_OK;
    }
    if (id < m->n_direct && m->direct[id] != 0) {
        *index = m->direct[id] - 1;
        *is_new = false;
        m->last_id = id;
        m->last_index = *index;
        m->has_last = true;
        return SYM_OK;
    }
    return idmap_get_slow(m, id, index, is_new);
}

/* ---- Overlap resolution (ranges.c) -------------------------------------------------------- */

struct ival {
    uint64_t start, end; /* [start, end), end > start */
    uint32_t seq;        /* file order; unique */
    uint32_t id;         /* caller's record index */
};

/* Sorts items by start (then, for laminar, by end descending) and file order, and sets keep[k]
 * for the k-th sorted item. Disjoint mode keeps a record unless it overlaps a record kept
 * earlier in file order; laminar mode (Breakpad's contained range map) also allows nesting but
 * drops partial overlaps and repeated ranges. Returns SYM_OK or SYM_ENOMEM. */
sym_err ivals_resolve(struct ival *items, size_t n, bool laminar, uint8_t *keep);

/* Flattens kept laminar items (sorted as ivals_resolve left them) into elementary segments:
 * starts[i] begins a segment covered innermost by record recs[i] (IMG_NONE = gap) until
 * starts[i + 1]. The arrays must hold 2 * n entries; *n_out receives the count. */
void ivals_segments(const struct ival *items, size_t n, const uint8_t *keep, uint64_t *starts,
                    uint32_t *recs, size_t *n_out);

/* ---- Builder ------------------------------------------------------------------------------ */

/* A kept FUNC once its block is encoded: the name and parameter size live in the block, so
 * that a 650 MB file's million functions take 32 bytes each while the parse runs. */
struct bfunc {
    uint64_t start;
    uint32_t size;
    uint32_t block_off; /* into blocks (at most IMG_MAX_U32); UINT32_MAX while deferred */
    uint32_t block_len, n_lines, n_inlines;
};

/* The header fields of a FUNC block: what encode_block writes before the records. */
struct bfunc_head {
    struct img_str name;
    uint32_t param;
    bool multiple;
};

/* A FUNC block kept as records until bld_finish (see defer_block in build.c). */
struct bdeferred {
    uint32_t func; /* index in funcs */
    struct bfunc_head head;
    uint64_t lines_first, n_lines, inl_first, n_inl, depths_first, n_depths;
};

/* Range entries begin with {start, end}, relative to the function start and clipped to it, so
 * 32 bits each (a kept FUNC is under 4 GiB): these are most of what the tokenizing thread
 * hands over, twelve million line records for a 650 MB file. */
struct bline {
    uint32_t start, end;
    uint32_t line, file; /* file: dense index */
};

/* One address range of an INLINE record. */
struct binl {
    uint32_t start, end;
    uint32_t depth, origin, call_file, call_line; /* call_file: 0 none, else index + 1 */
};

struct bpub {
    uint64_t addr;
    struct img_pub rec;
    uint32_t seq;
};

struct bcfi {
    uint64_t start;
    uint32_t size, rule, n_deltas;
    uint32_t delta_off; /* into deltas_blob; 0 is the shared empty list */
};

struct bdelta {
    uint64_t addr;
    uint32_t rule, seq;
};

struct bwin {
    uint64_t rva;
    struct img_win rec;
    uint32_t seq;
};

struct builder {
    struct sym_parse_opts opts;
    struct strtab strings;
    struct idmap rule_ids;             /* keyed by string offset */
    struct vec files, origins, rules;  /* struct img_str; off UINT32_MAX = unnamed */
    size_t files_named, origins_named; /* slots of files and origins named so far */
    struct vec funcs;                  /* struct bfunc */
    struct vec blocks;                 /* u8 */
    struct vec pubs;                   /* struct bpub */
    struct vec cfis;                   /* struct bcfi */
    /* STACK CFI deltas, module-wide, in file order: per delta the zigzag varint step from the
     * previous delta's address and the varint rule index (3 bytes for most, not 16). */
    struct vec deltas;      /* u8 */
    uint64_t delta_last;    /* address of the last delta */
    uint64_t n_deltas;      /* deltas in the stream */
    bool deltas_unsorted;   /* some delta's address is below the one before */
    struct vec deltas_blob; /* u8: encoded per kept INIT (at finish, unless deltas_in_place) */
    /* As long as INITs come in address order without overlapping, and each delta falls inside
     * the last INIT after the ones before it (dump_syms output), every INIT keeps its deltas and
     * no others: each INIT's list is encoded into deltas_blob as it arrives (its open pairs in
     * scratch_deltas until the next INIT), and the stream stays empty. The first record that
     * breaks this turns what was encoded back into the stream (deltas_to_stream in build.c). */
    bool deltas_in_place;
    uint64_t open_last; /* address of the last delta of the open INIT's pairs */
    struct vec wins;    /* struct bwin */
    uint32_t seq;

    /* the open FUNC block */
    bool func_open;
    bool func_kept;       /* false for a dropped FUNC: its records are read and discarded */
    struct vec cur_lines; /* struct bline */
    /* The block's one batch of line records while it is still the caller's (see bld_lines):
     * most blocks arrive in one batch, encoded from where it lies instead of a copy. */
    const struct bline *lent_lines;
    size_t n_lent;             /* 0: nothing lent */
    struct vec cur_inl;        /* struct binl, one per INLINE range, in file order */
    struct vec cur_inl_depths; /* u32: the depth of each INLINE record of the block */

    /* scratch reused by the block encoders */
    struct vec scratch_ivals;  /* struct ival */
    struct vec scratch_keep;   /* u8 */
    struct vec scratch_bytes;  /* u8: a line stream */
    struct vec scratch_ck;     /* u32 pairs: line checkpoints */
    struct vec scratch_lines;  /* struct bline */
    struct vec scratch_inl;    /* struct binl */
    struct vec deferred;       /* struct bdeferred */
    struct vec def_lines;      /* struct bline of the deferred blocks */
    struct vec def_inl;        /* struct binl of the deferred blocks */
    struct vec def_depths;     /* u32 of the deferred blocks */
    struct vec scratch_count;  /* u32 */
    struct vec scratch_deltas; /* u64 pairs: address step, rule index (see deltas_in_place) */

    struct img_str module[IMG_M_COUNT];
    bool has_module, seen_code_id;
    struct sym_image_counts read;
    uint64_t n_win_other;
    const char *warn; /* reason of the last SYM_EPARSE from a bld_* call */

    /* The open FUNC's name, interned when the block closes: by then the hash slot prefetched
     * when the FUNC line was read is in cache, which hides a cache miss per function. The name
     * is the caller's (see bld_func) until bld_pin copies it into pending_copy. */
    const char *pending_name;
    size_t pending_len;
    struct vec pending_copy; /* u8 */
    uint64_t pending_hash;
    uint32_t pending_param; /* the open FUNC's parameter size and `m` flag */
    bool pending_multiple;

    /* Recently used CFI rule texts: most deltas repeat one of a few texts. */
    struct rule_cache_ent {
        uint64_t w[4];          /* rule_words() of the text */
        uint32_t off, len, idx; /* len 0: an empty slot */
    } rule_cache[256];
};

/* ---- Block front: the per-record work of FUNC blocks that needs no builder state ----------
 * (done by the parser where it tokenizes, which may be another thread than the builder's):
 * numbering FILE and INLINE_ORIGIN ids, judging FUNC records, and checking, clipping and
 * numbering line records and INLINE ranges against the open FUNC. */
struct bfront {
    struct idmap file_ids, origin_ids; /* ids -> dense indexes in order of first sight */
    bool func_open;                    /* a FUNC has been read (and no PUBLIC since) */
    bool func_kept;                    /* ... and it is kept */
    uint64_t func_start;
    uint32_t func_size;
    uint64_t lines_read, inlines_read; /* records read inside a FUNC block */
};

void front_cleanup(struct bfront *f);
/* The dense index of a FILE / INLINE_ORIGIN id. SYM_ENOMEM or SYM_ELIMIT. */
sym_err front_file(struct bfront *f, uint32_t id, uint32_t *idx);
sym_err front_origin(struct bfront *f, uint32_t id, uint32_t *idx);
/* A FUNC record opens a block; returns its verdict (func_verdict). */
enum func_verdict front_func(struct bfront *f, uint64_t addr, uint64_t size, uint64_t param,
                             const char **why);
/* A PUBLIC record ends the block. */
void front_public(struct bfront *f);
/* A line record: *keep and *out when it belongs in the block; SYM_EPARSE with *why for a
 * rejected record (a warning); SYM_ENOMEM or SYM_ELIMIT. Inline: the tokenizer calls it for
 * every line record, millions of times for a large file. */
static inline sym_err front_line(struct bfront *f, uint64_t addr, uint64_t size, uint32_t line,
                                 uint32_t file, struct bline *out, bool *keep, const char **why)
{
    *keep = false;
    if (!f->func_open) {
        *why = "line record outside a FUNC";
        return SYM_EPARSE;
    }
    f->lines_read++;
    if (!f->func_kept || size == 0)
        return SYM_OK;
    uint64_t end = addr + size;
    if (end < addr) {
        *why = "line record range wraps around the address space";
        return SYM_EPARSE;
    }
    uint64_t fs = f->func_start, fe = fs + f->func_size;
    if (end <= fs || addr >= fe)
        return SYM_OK; /* unreachable by any lookup */
    uint32_t idx;
    bool is_new;
    sym_err rc = idmap_get(&f->file_ids, file, &idx, &is_new);
    if (rc != SYM_OK)
        return rc;
    out->start = (uint32_t)((addr < fs ? fs : addr) - fs);
    out->end = (uint32_t)((end > fe ? fe : end) - fs);
    out->line = line;
    out->file = idx;
    *keep = true;
    return SYM_OK;
}
/* An INLINE record: when *keep, its ranges inside the FUNC were appended to out (struct binl,
 * possibly none). Errors as front_line. */
sym_err front_inline(struct bfront *f, uint32_t depth, uint32_t call_line, bool has_call_file,
                     uint32_t call_file, uint32_t origin, const uint64_t *ranges, size_t n_ranges,
                     struct vec *out, bool *keep, const char **why);

sym_err bld_init(struct builder *b, const struct sym_parse_opts *opts);
void bld_cleanup(struct builder *b);
/* A hint that about bytes of text are to come: the string index is sized for them. */
void bld_expect_input(struct builder *b, uint64_t bytes);

/* Each returns SYM_OK; SYM_EPARSE when the record is rejected (b->warn says why; the caller
 * counts a warning); or a fatal SYM_ENOMEM / SYM_ELIMIT. Strings are copied. */
sym_err bld_module(struct builder *b, const char *os, size_t os_n, const char *arch, size_t arch_n,
                   const char *id, size_t id_n, const char *file, size_t file_n);
sym_err bld_module_field(struct builder *b, enum img_module_field f, const char *s, size_t n);
/* FILE and INLINE_ORIGIN names, by the dense index the block front gave their ids: name has no
 * NUL byte (had_nul: some were replaced) and hash is hash_bytes(name, n). */
sym_err bld_file_at(struct builder *b, uint32_t idx, const char *name, size_t n, uint64_t hash,
                    bool had_nul);
sym_err bld_origin_at(struct builder *b, uint32_t idx, const char *name, size_t n, uint64_t hash,
                      bool had_nul);

enum func_verdict { FUNC_KEEP, FUNC_DROP, FUNC_REJECT };
/* What happens to a FUNC record; *why is set for FUNC_REJECT. */
enum func_verdict func_verdict(uint64_t addr, uint64_t size, uint64_t param, const char **why);

/* A FUNC record as the block front judged it (func_verdict). For FUNC_KEEP, size and param fit
 * in 32 bits, name has no NUL byte (had_nul: some were replaced) and hash is
 * hash_bytes(name, n). */
struct bld_func_rec {
    enum func_verdict verdict;
    const char *why;
    uint64_t addr, hash;
    uint32_t size, param;
    bool multiple, had_nul;
    const char *name;
    size_t n;
};

/* Closes the open block and opens the FUNC's. r->name must stay valid until the block closes
 * (the next bld_func or bld_public, or bld_finish) or bld_pin is called. */
sym_err bld_func(struct builder *b, const struct bld_func_rec *r);
/* Copies what the builder still borrows (the open FUNC's name and line records), before the
 * caller reuses it. */
sym_err bld_pin(struct builder *b);
/* Line records and INLINE ranges of the open (kept) block, from the block front; n_files and
 * n_origins are the front's counts of dense indexes so far, so that every index used has a
 * slot. The lines must stay valid, like a FUNC's name, until the block closes or bld_pin. */
sym_err bld_lines(struct builder *b, const struct bline *lines, size_t n, uint32_t n_files);
/* Starts loading the FILE slots that encoding a batch of line records will read (the table
 * is hundreds of KiB, read at random), and with them the batch itself, which the tokenizing
 * thread wrote on another core. Only a hint: no effect on the result. */
void bld_prefetch_lines(const struct builder *b, const struct bline *lines, size_t n);
/* The same for the INLINE_ORIGIN and call FILE slots that encoding inline ranges reads. */
void bld_prefetch_inlines(const struct builder *b, const struct binl *ranges, size_t n);
sym_err bld_inline(struct builder *b, uint32_t depth, const struct binl *ranges, size_t n,
                   uint32_t n_files, uint32_t n_origins);
/* A PUBLIC record: name has no NUL byte (had_nul: some were replaced) and hash is
 * hash_bytes(name, n). */
struct bld_public_rec {
    uint64_t addr, param, hash;
    bool multiple, had_nul;
    const char *name;
    size_t n;
};
sym_err bld_public(struct builder *b, const struct bld_public_rec *r);
sym_err bld_cfi_init(struct builder *b, uint64_t addr, uint64_t size, const char *rule, size_t n);
sym_err bld_cfi_delta(struct builder *b, uint64_t addr, const char *rule, size_t n);
/* f: the nine numeric fields after the type (rva .. max_stack), then has_program. */
sym_err bld_win(struct builder *b, uint32_t type, const uint64_t f[8], bool has_program,
                bool allocates_bp, const char *program, size_t n);

/* Moves the unwind tables (STACK CFI and STACK WIN records, their rule and program texts) of
 * u, a builder that was given only those records, into b, which was given none: the parser
 * builds them on its tokenizing thread. u's strings are appended to b's, so that the result is
 * the same whichever thread built what. u is left for bld_cleanup. Returns SYM_OK, SYM_ENOMEM,
 * SYM_ELIMIT (string section limits) or SYM_EINTERNAL (b already holds unwind records). */
sym_err bld_take_unwind(struct builder *b, struct builder *u);

/* The memory the builder's growing tables (strings, FUNC blocks, functions) will be written
 * into next, up to `ahead` bytes each (vec_room), and the next `ahead` bytes of the string
 * index not handed out before (its probes touch all of it from the first strings on):
 * addresses another thread may have the kernel supply pages for in advance. Returns how many
 * of out[0 .. BLD_ROOMS) were filled. */
#define BLD_ROOMS 4
struct bld_room {
    uintptr_t at;
    size_t n;
};
size_t bld_rooms(struct builder *b, size_t ahead, struct bld_room out[BLD_ROOMS]);

/* A large section that the image holds exactly as one of the builder's byte arrays (the
 * strings, the FUNC blocks), at a page-aligned image offset: a sink that writes into memory of
 * its own may take the array's leading pages instead of copying them (vec_give_front). */
struct sink_give {
    uint64_t off;  /* image offset of the section, a multiple of SYM_REGION_PAGE */
    struct vec *v; /* the section's bytes; after a give, only the tail still to be written */
    size_t given;  /* set by begin: bytes now in place at off (0: none) */
};

/* Where the image goes. bld_finish computes the total size first and calls begin() once, with
 * the sections it may take, then write() for consecutive pieces, with p NULL for the n bytes
 * that begin took; each returns SYM_OK or the sink's error. spare (NULL: none) is a builder
 * array no longer needed, whose pages a sink that may take pages can move under the rest of
 * the image (vec_donate) before it writes it: they are the process's already. */
struct sink {
    sym_err (*begin)(struct sink *s, uint64_t total, struct sink_give *gives, size_t n_gives,
                     struct vec *spare);
    sym_err (*write)(struct sink *s, const void *p, size_t n);
};

/* Closes the open blocks, resolves the tables and writes the image to out. kept (optional)
 * receives the counts of the image. Returns SYM_OK, SYM_ENOMEM, SYM_ELIMIT (a section beyond
 * the format's 32-bit offsets or max_image_bytes) or the sink's error. */
sym_err bld_finish(struct builder *b, uint64_t source_bytes, uint64_t warnings, struct sink *out,
                   struct sym_image_counts *kept);

#endif
