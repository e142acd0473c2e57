/* SPDX-License-Identifier: MPL-2.0 */
/* build.c: turns the records of a .sym file into a symcache image (format_int.h). Records
 * arrive in file order; each FUNC block (lines, inlines) is encoded as soon as the next block
 * opens, so memory holds the encoded tables plus one open block, never the text. bld_finish sorts
 * the tables, applies the first-in-file-wins overlap policies and writes the sections in order
 * through a sink. */
#include <stdlib.h>
#include <string.h>

#include "build_int.h"

/* ============================================================================================
 * Setup
 * ========================================================================================== */

sym_err bld_init(struct builder *b, const struct sym_parse_opts *opts)
{
    memset(b, 0, sizeof(*b));
    b->opts = *opts;
    b->deltas_in_place = true;
    uint64_t max = IMG_MAX_U32;
    if (opts->max_image_bytes != 0 && opts->max_image_bytes < max)
        max = opts->max_image_bytes;
    return strtab_init(&b->strings, max);
}

/* At most about one distinct string per this many bytes of text: the names of FUNC, PUBLIC,
 * FILE and INLINE_ORIGIN records of a libxul-shaped file come one per 340-400 bytes. Fewer
 * strings leave the index sparse; more make it grow. */
#define INPUT_BYTES_PER_STRING 256

void bld_expect_input(struct builder *b, uint64_t bytes)
{
    uint64_t n = bytes / INPUT_BYTES_PER_STRING;
    /* Growing as the strings come is the fallback when the memory cannot be had now. */
    (void)strtab_reserve(&b->strings, n < SIZE_MAX ? (size_t)n : SIZE_MAX);
}

void bld_cleanup(struct builder *b)
{
    strtab_cleanup(&b->strings);
    idmap_cleanup(&b->rule_ids);
    struct vec *vs[] = {&b->files,         &b->origins,        &b->rules,         &b->funcs,
                        &b->blocks,        &b->pubs,           &b->cfis,          &b->deltas_blob,
                        &b->deltas,        &b->pending_copy,   &b->wins,          &b->cur_lines,
                        &b->cur_inl,       &b->cur_inl_depths, &b->scratch_ivals, &b->scratch_keep,
                        &b->scratch_bytes, &b->scratch_ck,     &b->scratch_lines, &b->scratch_inl,
                        &b->scratch_count, &b->deferred,       &b->def_lines,     &b->def_inl,
                        &b->def_depths,    &b->scratch_deltas};
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
        vec_free(vs[i]);
}

static sym_err reject(struct builder *b, const char *why)
{
    b->warn = why;
    return SYM_EPARSE;
}

/* The table slot of dense index idx, growing the table with unnamed slots. */
static struct img_str *name_slot(struct vec *table, uint32_t idx)
{
    while (table->len <= idx) {
        struct img_str *s = vec_push(table, sizeof(*s));
        if (s == NULL)
            return NULL;
        s->off = UINT32_MAX;
        s->len = 0;
    }
    return &VEC_AT(table, struct img_str, idx);
}

/* ============================================================================================
 * Header records
 * ========================================================================================== */

sym_err bld_module_field(struct builder *b, enum img_module_field f, const char *s, size_t n)
{
    if (b->module[f].len != 0 || n == 0)
        return SYM_OK;
    return strtab_intern(&b->strings, s, n, &b->module[f]);
}

sym_err bld_module(struct builder *b, const char *os, size_t os_n, const char *arch, size_t arch_n,
                   const char *id, size_t id_n, const char *file, size_t file_n)
{
    if (b->has_module)
        return SYM_OK;
    b->has_module = true;
    sym_err rc = bld_module_field(b, IMG_M_OS, os, os_n);
    if (rc == SYM_OK)
        rc = bld_module_field(b, IMG_M_ARCH, arch, arch_n);
    if (rc == SYM_OK)
        rc = bld_module_field(b, IMG_M_DEBUG_ID, id, id_n);
    if (rc == SYM_OK)
        rc = bld_module_field(b, IMG_M_DEBUG_FILE, file, file_n);
    return rc;
}

/* Names the slot of dense index idx (from the block front), unless an earlier record did. */
static sym_err named_slot(struct builder *b, struct vec *table, size_t *named, uint32_t idx,
                          const char *name, size_t n, uint64_t hash, bool had_nul)
{
    struct img_str *slot = name_slot(table, idx);
    if (slot == NULL)
        return SYM_ENOMEM;
    if (slot->off != UINT32_MAX)
        return SYM_OK; /* a later duplicate id: the first wins */
    if (had_nul)
        b->strings.nul_replaced++; /* counted on this line, as a warning */
    struct img_str s;
    sym_err rc = strtab_intern_hashed(&b->strings, name, n, hash, true, &s);
    if (rc == SYM_OK) {
        *slot = s;
        (*named)++;
    }
    return rc;
}

sym_err bld_file_at(struct builder *b, uint32_t idx, const char *name, size_t n, uint64_t hash,
                    bool had_nul)
{
    b->read.files++;
    return named_slot(b, &b->files, &b->files_named, idx, name, n, hash, had_nul);
}

sym_err bld_origin_at(struct builder *b, uint32_t idx, const char *name, size_t n, uint64_t hash,
                      bool had_nul)
{
    b->read.inline_origins++;
    return named_slot(b, &b->origins, &b->origins_named, idx, name, n, hash, had_nul);
}

/* Grows a name table to n slots (ids the block front has numbered, not yet named). */
static sym_err cover(struct vec *table, uint32_t n)
{
    return n == 0 || name_slot(table, n - 1) != NULL ? SYM_OK : SYM_ENOMEM;
}

/* ============================================================================================
 * FUNC blocks
 * ========================================================================================== */

/* A FILE or INLINE_ORIGIN name by dense index; an id never declared is the empty string. */
static struct img_str name_ref(const struct vec *table, uint32_t idx)
{
    const struct img_str *t = table->data;
    if (idx >= table->len || t[idx].off == UINT32_MAX)
        return (struct img_str){0, 0};
    return t[idx];
}

/* Encodes the entries of one range list (sorted, disjoint, relative to the function start):
 * the entry stream into scratch_bytes and the checkpoints into scratch_ck. Exactly one of ln
 * (line records) and in (inline ranges) is non-NULL. */
static sym_err encode_entries(struct builder *b, const struct bline *ln, const struct binl *in,
                              size_t n, size_t n_ck)
{
    struct vec *ls = &b->scratch_bytes, *ck = &b->scratch_ck;
    ls->len = 0;
    ck->len = 0;
    if (!vec_reserve(ls, 1, n * 7 * VARINT_MAX) || !vec_reserve(ck, 2 * sizeof(uint32_t), n_ck))
        return SYM_ENOMEM;
    uint8_t *out = ls->data;
    uint32_t *cks = ck->data;
    size_t pos = 0;
    uint64_t prev_end = 0;
    uint32_t prev_line = 0, prev_file = IMG_NONE;
    for (size_t i = 0; i < n; i++) {
        uint64_t start = ln ? ln[i].start : in[i].start, end = ln ? ln[i].end : in[i].end;
        if (n_ck != 0 && i != 0 && i % IMG_LIST_CK == 0) {
            if (pos > UINT32_MAX)
                return SYM_ELIMIT;
            cks[2 * ck->len] = (uint32_t)start;
            cks[2 * ck->len + 1] = (uint32_t)pos;
            ck->len++;
            prev_end = start;
            prev_line = 0;
            prev_file = IMG_NONE;
        }
        uint64_t gap = start - prev_end;
        if (ln != NULL) {
            bool file_changed = ln[i].file != prev_file;
            pos += varint_put(out + pos, (end - start) << 2 | (gap ? 2u : 0u) | file_changed);
            if (gap)
                pos += varint_put(out + pos, gap);
            pos += varint_put(out + pos, zigzag((int64_t)ln[i].line - (int64_t)prev_line));
            if (file_changed) {
                struct img_str f = name_ref(&b->files, ln[i].file);
                pos += varint_put(out + pos, f.off);
                pos += varint_put(out + pos, f.len);
            }
            prev_line = ln[i].line;
            prev_file = ln[i].file;
        } else {
            pos += varint_put(out + pos, (end - start) << 1 | (gap ? 1u : 0u));
            if (gap)
                pos += varint_put(out + pos, gap);
            struct img_str o = name_ref(&b->origins, in[i].origin);
            pos += varint_put(out + pos, o.off);
            pos += varint_put(out + pos, o.len);
            if (in[i].call_file == 0) {
                pos += varint_put(out + pos, 0);
            } else {
                struct img_str f = name_ref(&b->files, in[i].call_file - 1);
                pos += varint_put(out + pos, (uint64_t)f.off + 1);
                pos += varint_put(out + pos, f.len);
            }
            pos += varint_put(out + pos, in[i].call_line);
        }
        prev_end = end;
    }
    ls->len = pos;
    return SYM_OK;
}

/* Appends a whole range list to the block under construction: n, then (when n > 0) n_ck,
 * the checkpoints, the stream length and the stream. */
static sym_err append_list(struct builder *b, const struct bline *ln, const struct binl *in,
                           size_t n)
{
    size_t n_ck = n > IMG_LIST_CK ? (n - 1) / IMG_LIST_CK : 0;
    sym_err rc = SYM_OK;
    if (n > 0)
        rc = encode_entries(b, ln, in, n, n_ck);
    if (rc != SYM_OK)
        return rc;
    size_t len = 3 * VARINT_MAX + (n ? 8 * n_ck + b->scratch_bytes.len : 0);
    if (!vec_reserve(&b->blocks, 1, len))
        return SYM_ENOMEM;
    uint8_t *out = (uint8_t *)b->blocks.data + b->blocks.len, *start = out;
    out += varint_put(out, n);
    if (n > 0) {
        out += varint_put(out, n_ck);
        if (n_ck > 0)
            memcpy(out, b->scratch_ck.data, 8 * n_ck);
        out += 8 * n_ck;
        out += varint_put(out, b->scratch_bytes.len);
        memcpy(out, b->scratch_bytes.data, b->scratch_bytes.len);
        out += b->scratch_bytes.len;
    }
    b->blocks.len += (size_t)(out - start);
    return SYM_OK;
}

/* Keeps the first (in file order) of overlapping entries; returns the kept ones sorted by start
 * in *out (which may be `items` itself when nothing needed resolving). esz is the entry size;
 * entries start with {uint32_t start, end}. */
static sym_err resolve_entries(struct builder *b, const void *items, size_t n, size_t esz,
                               struct vec *kept_out, const void **out, size_t *n_out)
{
    const uint8_t *it = items;
    bool ordered = true;
    for (size_t i = 1; i < n && ordered; i++) {
        const uint32_t *prev = (const void *)(it + (i - 1) * esz),
                       *cur = (const void *)(it + i * esz);
        ordered = cur[0] >= prev[1];
    }
    if (ordered) {
        *out = items;
        *n_out = n;
        return SYM_OK;
    }
    b->scratch_ivals.len = b->scratch_keep.len = kept_out->len = 0;
    if (!vec_reserve(&b->scratch_ivals, sizeof(struct ival), n) ||
        !vec_reserve(&b->scratch_keep, 1, n) || !vec_reserve(kept_out, esz, n))
        return SYM_ENOMEM;
    struct ival *iv = b->scratch_ivals.data;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *e = (const void *)(it + i * esz);
        iv[i] = (struct ival){e[0], e[1], (uint32_t)i, (uint32_t)i};
    }
    uint8_t *keep = b->scratch_keep.data;
    sym_err rc = ivals_resolve(iv, n, false, keep);
    if (rc != SYM_OK)
        return rc;
    uint8_t *dst = kept_out->data;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            memcpy(dst + esz * k++, it + (size_t)iv[i].id * esz, esz);
    *out = dst;
    *n_out = k;
    return SYM_OK;
}

/* The inline section: n_depths, then one range list per depth 0 .. n_depths - 1. Depths stop
 * at the first one without any range, since a lookup stops there too. Returns the number of
 * INLINE records kept (those of the depths written) in *kept. */
static sym_err append_inlines(struct builder *b, const struct binl *in, size_t n,
                              const uint32_t *depths, size_t n_records, uint32_t *kept)
{
    /* Counting sort by depth (stable, so file order is kept within a depth). */
    b->scratch_count.len = 0;
    if (!vec_reserve(&b->scratch_count, sizeof(uint32_t), n + 2) ||
        !vec_reserve(&b->scratch_inl, sizeof(struct binl), n))
        return SYM_ENOMEM;
    uint32_t *count = b->scratch_count.data;
    memset(count, 0, (n + 2) * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        if (in[i].depth < n)
            count[in[i].depth + 1]++;
    size_t n_depths = 0;
    while (n_depths < n && count[n_depths + 1] != 0)
        n_depths++;
    for (size_t d = 1; d <= n_depths; d++)
        count[d] += count[d - 1];
    struct binl *by_depth = b->scratch_inl.data;
    for (size_t i = 0; i < n; i++)
        if (in[i].depth < n_depths)
            by_depth[count[in[i].depth]++] = in[i];
    /* count[d] is now the end of depth d's run. */
    *kept = 0;
    for (size_t i = 0; i < n_records; i++)
        *kept += depths[i] < n_depths;
    if (!vec_reserve(&b->blocks, 1, VARINT_MAX))
        return SYM_ENOMEM;
    b->blocks.len += varint_put((uint8_t *)b->blocks.data + b->blocks.len, n_depths);
    struct vec resolved = {.data = NULL};
    sym_err rc = SYM_OK;
    for (size_t d = 0; d < n_depths && rc == SYM_OK; d++) {
        size_t first = d ? count[d - 1] : 0;
        const void *list;
        size_t k;
        rc = resolve_entries(b, by_depth + first, count[d] - first, sizeof(struct binl), &resolved,
                             &list, &k);
        if (rc == SYM_OK)
            rc = append_list(b, NULL, list, k);
    }
    vec_free(&resolved);
    return rc;
}

/* Encodes a function's block at the end of `blocks`: size, name, header, lines, inlines. */
static sym_err encode_block(struct builder *b, struct bfunc *f, const struct bfunc_head *head,
                            const struct bline *lines, size_t n_lines, const struct binl *in,
                            size_t n_in, const uint32_t *depths, size_t n_records)
{
    size_t block_start = b->blocks.len;
    if (!vec_reserve(&b->blocks, 1, 4 * VARINT_MAX))
        return SYM_ENOMEM;
    uint8_t *out = (uint8_t *)b->blocks.data + b->blocks.len, *p = out;
    p += varint_put(p, f->size);
    p += varint_put(p, head->name.off);
    p += varint_put(p, head->name.len);
    p += varint_put(p, (uint64_t)head->param << 1 | head->multiple);
    b->blocks.len += (size_t)(p - out);
    const void *kept;
    size_t n_kept;
    uint32_t n_inlines = 0;
    sym_err rc =
        resolve_entries(b, lines, n_lines, sizeof(struct bline), &b->scratch_lines, &kept, &n_kept);
    if (rc == SYM_OK)
        rc = append_list(b, kept, NULL, n_kept);
    if (rc == SYM_OK)
        rc = append_inlines(b, in, n_in, depths, n_records, &n_inlines);
    if (rc != SYM_OK)
        return rc;
    uint64_t len = b->blocks.len - block_start;
    if (len > UINT32_MAX || b->blocks.len > IMG_MAX_U32)
        return SYM_ELIMIT;
    f->n_lines = (uint32_t)n_kept;
    f->n_inlines = n_inlines;
    f->block_off = (uint32_t)block_start;
    f->block_len = (uint32_t)len;
    return SYM_OK;
}

/* The open block's line records: the lent batch, or the ones gathered. */
static const struct bline *open_lines(const struct builder *b, size_t *n)
{
    *n = b->n_lent != 0 ? b->n_lent : b->cur_lines.len;
    return b->n_lent != 0 ? b->lent_lines : b->cur_lines.data;
}

/* Copies a lent batch into cur_lines. */
static sym_err keep_lent_lines(struct builder *b)
{
    size_t n = b->n_lent;
    b->n_lent = 0;
    if (n != 0 && !vec_append_n(&b->cur_lines, sizeof(struct bline), b->lent_lines, n))
        return SYM_ENOMEM;
    return SYM_OK;
}

/* True when every FILE and INLINE_ORIGIN id the open block uses has been declared, so that its
 * names can be written into the block now. */
static bool block_names_known(const struct builder *b)
{
    /* Every slot named (the usual file: declarations before use): nothing to look at. */
    if (b->files_named == b->files.len && b->origins_named == b->origins.len)
        return true;
    const struct img_str *files = b->files.data, *origins = b->origins.data;
    size_t n_lines;
    const struct bline *ln = open_lines(b, &n_lines);
    for (size_t i = 0; i < n_lines; i++)
        if (files[ln[i].file].off == UINT32_MAX)
            return false;
    const struct binl *in = b->cur_inl.data;
    for (size_t i = 0; i < b->cur_inl.len; i++)
        if (origins[in[i].origin].off == UINT32_MAX ||
            (in[i].call_file != 0 && files[in[i].call_file - 1].off == UINT32_MAX))
            return false;
    return true;
}

/* Keeps the open block's records until bld_finish, when every declaration has been read
 * (records out of dump_syms order: a FILE or INLINE_ORIGIN after the block using it). */
static sym_err defer_block(struct builder *b, struct bfunc *f, const struct bfunc_head *head)
{
    struct bdeferred *d = vec_push(&b->deferred, sizeof(*d));
    if (d == NULL)
        return SYM_ENOMEM;
    size_t n_lines;
    const struct bline *ln = open_lines(b, &n_lines);
    *d = (struct bdeferred){(uint32_t)(b->funcs.len - 1),
                            *head,
                            b->def_lines.len,
                            n_lines,
                            b->def_inl.len,
                            b->cur_inl.len,
                            b->def_depths.len,
                            b->cur_inl_depths.len};
    if (!vec_append_n(&b->def_lines, sizeof(struct bline), ln, n_lines) ||
        !vec_append_n(&b->def_inl, sizeof(struct binl), b->cur_inl.data, b->cur_inl.len) ||
        !vec_append_n(&b->def_depths, sizeof(uint32_t), b->cur_inl_depths.data,
                      b->cur_inl_depths.len))
        return SYM_ENOMEM;
    f->block_off = UINT32_MAX;
    return SYM_OK;
}

/* Encodes the deferred blocks, now that every declaration has been read. */
static sym_err encode_deferred(struct builder *b)
{
    const struct bdeferred *d = b->deferred.data;
    for (size_t i = 0; i < b->deferred.len; i++) {
        struct bfunc *f = &VEC_AT(&b->funcs, struct bfunc, d[i].func);
        /* An empty vector has no buffer: pointer arithmetic on NULL is undefined. */
        const struct bline *ln =
            d[i].n_lines ? (const struct bline *)b->def_lines.data + d[i].lines_first : NULL;
        const struct binl *in =
            d[i].n_inl ? (const struct binl *)b->def_inl.data + d[i].inl_first : NULL;
        const uint32_t *dp =
            d[i].n_depths ? (const uint32_t *)b->def_depths.data + d[i].depths_first : NULL;
        sym_err rc =
            encode_block(b, f, &d[i].head, ln, d[i].n_lines, in, d[i].n_inl, dp, d[i].n_depths);
        if (rc != SYM_OK)
            return rc;
    }
    vec_free(&b->def_lines);
    vec_free(&b->def_inl);
    vec_free(&b->def_depths);
    return SYM_OK;
}

static void reset_func_block(struct builder *b)
{
    b->cur_lines.len = b->cur_inl.len = b->cur_inl_depths.len = 0;
    b->n_lent = 0;
}

static sym_err close_func(struct builder *b)
{
    if (!b->func_open)
        return SYM_OK;
    b->func_open = false;
    if (!b->func_kept) {
        reset_func_block(b);
        return SYM_OK;
    }
    struct bfunc *f = &VEC_AT(&b->funcs, struct bfunc, b->funcs.len - 1);
    struct bfunc_head head = {{0, 0}, b->pending_param, b->pending_multiple};
    sym_err rc = strtab_intern_hashed(&b->strings, b->pending_name, b->pending_len, b->pending_hash,
                                      true, &head.name);
    if (rc == SYM_OK) {
        size_t n_lines;
        const struct bline *ln = open_lines(b, &n_lines);
        if (block_names_known(b))
            rc = encode_block(b, f, &head, ln, n_lines, b->cur_inl.data, b->cur_inl.len,
                              b->cur_inl_depths.data, b->cur_inl_depths.len);
        else
            rc = defer_block(b, f, &head);
    }
    reset_func_block(b);
    return rc;
}

/* The fate of a FUNC record: the block front and the builder must agree on it. */
enum func_verdict func_verdict(uint64_t addr, uint64_t size, uint64_t param, const char **why)
{
    /* Size 0 is ignored silently, like Breakpad; its block is read and dropped. */
    if (size == 0)
        return FUNC_DROP;
    if (addr + size < addr) {
        *why = "FUNC range wraps around the address space";
        return FUNC_REJECT;
    }
    if (size > UINT32_MAX || param > UINT32_MAX) {
        *why = "FUNC size or parameter size over 32 bits";
        return FUNC_REJECT;
    }
    return FUNC_KEEP;
}

sym_err bld_func(struct builder *b, const struct bld_func_rec *r)
{
    sym_err rc = close_func(b);
    if (rc != SYM_OK)
        return rc;
    b->read.funcs++;
    b->func_open = true;
    b->func_kept = false;
    if (r->verdict == FUNC_DROP)
        return SYM_OK;
    if (r->verdict == FUNC_REJECT)
        return reject(b, r->why);
    struct bfunc *f = vec_push(&b->funcs, sizeof(*f));
    if (f == NULL)
        return SYM_ENOMEM;
    b->pending_name = r->n ? r->name : "";
    b->pending_len = r->n;
    if (r->had_nul)
        b->strings.nul_replaced++; /* counted on this line, as a warning */
    b->pending_hash = r->hash;
    strtab_prefetch(&b->strings, r->hash);
    b->pending_param = r->param;
    b->pending_multiple = r->multiple;
    *f = (struct bfunc){.start = r->addr, .size = r->size};
    b->func_kept = true;
    return SYM_OK;
}

sym_err bld_pin(struct builder *b)
{
    if (keep_lent_lines(b) != SYM_OK)
        return SYM_ENOMEM;
    if (!b->func_open || !b->func_kept || b->pending_name == b->pending_copy.data)
        return SYM_OK;
    b->pending_copy.len = 0;
    if (!vec_append(&b->pending_copy, b->pending_name, b->pending_len))
        return SYM_ENOMEM;
    b->pending_name = b->pending_len ? b->pending_copy.data : "";
    return SYM_OK;
}

sym_err bld_lines(struct builder *b, const struct bline *lines, size_t n, uint32_t n_files)
{
    if (cover(&b->files, n_files) != SYM_OK)
        return SYM_ENOMEM;
    if (n == 0)
        return SYM_OK;
    if (b->cur_lines.len == 0 && b->n_lent == 0) {
        b->lent_lines = lines;
        b->n_lent = n;
        return SYM_OK;
    }
    if (keep_lent_lines(b) != SYM_OK ||
        !vec_append_n(&b->cur_lines, sizeof(struct bline), lines, n))
        return SYM_ENOMEM;
    return SYM_OK;
}

void bld_prefetch_lines(const struct builder *b, const struct bline *lines, size_t n)
{
    const struct img_str *files = b->files.data;
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t f = lines[i].file;
        if (f != prev && f < b->files.len)
            __builtin_prefetch(&files[f]);
        prev = f;
    }
}

void bld_prefetch_inlines(const struct builder *b, const struct binl *ranges, size_t n)
{
    const struct img_str *files = b->files.data, *origins = b->origins.data;
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].origin < b->origins.len)
            __builtin_prefetch(&origins[ranges[i].origin]);
        if (ranges[i].call_file != 0 && ranges[i].call_file - 1 < b->files.len)
            __builtin_prefetch(&files[ranges[i].call_file - 1]);
    }
}

sym_err bld_inline(struct builder *b, uint32_t depth, const struct binl *ranges, size_t n,
                   uint32_t n_files, uint32_t n_origins)
{
    uint32_t *d = vec_push(&b->cur_inl_depths, sizeof(uint32_t));
    if (d == NULL || cover(&b->files, n_files) != SYM_OK ||
        cover(&b->origins, n_origins) != SYM_OK ||
        !vec_append_n(&b->cur_inl, sizeof(struct binl), ranges, n))
        return SYM_ENOMEM;
    *d = depth;
    return SYM_OK;
}

size_t bld_rooms(struct builder *b, size_t ahead, struct bld_room out[BLD_ROOMS])
{
    size_t k = 0;
    k += vec_room(&b->strings.bytes, 1, ahead, &out[k].at, &out[k].n);
    k += vec_room(&b->blocks, 1, ahead, &out[k].at, &out[k].n);
    k += vec_room(&b->funcs, sizeof(struct bfunc), ahead, &out[k].at, &out[k].n);
    struct strtab *st = &b->strings;
    size_t index_bytes = st->n_slots * sizeof(uint64_t);
    if (block_is_region(index_bytes) && st->slots_handed < index_bytes) {
        size_t n = index_bytes - st->slots_handed < ahead ? index_bytes - st->slots_handed : ahead;
        out[k++] = (struct bld_room){(uintptr_t)st->slots + st->slots_handed, n};
        st->slots_handed += n;
    }
    return k;
}

/* ============================================================================================
 * The block front
 * ========================================================================================== */

void front_cleanup(struct bfront *f)
{
    idmap_cleanup(&f->file_ids);
    idmap_cleanup(&f->origin_ids);
    memset(f, 0, sizeof(*f));
}

sym_err front_file(struct bfront *f, uint32_t id, uint32_t *idx)
{
    bool is_new;
    return idmap_get(&f->file_ids, id, idx, &is_new);
}

sym_err front_origin(struct bfront *f, uint32_t id, uint32_t *idx)
{
    bool is_new;
    return idmap_get(&f->origin_ids, id, idx, &is_new);
}

enum func_verdict front_func(struct bfront *f, uint64_t addr, uint64_t size, uint64_t param,
                             const char **why)
{
    enum func_verdict v = func_verdict(addr, size, param, why);
    f->func_open = true;
    f->func_kept = v == FUNC_KEEP;
    f->func_start = addr;
    f->func_size = (uint32_t)size;
    return v;
}

void front_public(struct bfront *f)
{
    f->func_open = f->func_kept = false;
}

sym_err front_inline(struct bfront *f, uint32_t depth, uint32_t call_line, bool has_call_file,
                     uint32_t call_file, uint32_t origin, const uint64_t *ranges, size_t n_ranges,
                     struct vec *out, bool *keep, const char **why)
{
    *keep = false;
    if (!f->func_open) {
        *why = "INLINE record outside a FUNC";
        return SYM_EPARSE;
    }
    f->inlines_read++;
    if (!f->func_kept)
        return SYM_OK;
    for (size_t i = 0; i < n_ranges; i++) {
        if (ranges[2 * i] + ranges[2 * i + 1] < ranges[2 * i]) {
            *why = "INLINE range wraps around the address space";
            return SYM_EPARSE;
        }
    }
    uint32_t origin_idx, file_ref = 0;
    bool is_new;
    sym_err rc = idmap_get(&f->origin_ids, origin, &origin_idx, &is_new);
    if (rc != SYM_OK)
        return rc;
    if (has_call_file) {
        uint32_t idx;
        rc = idmap_get(&f->file_ids, call_file, &idx, &is_new);
        if (rc != SYM_OK)
            return rc;
        file_ref = idx + 1;
    }
    if (!vec_reserve(out, sizeof(struct binl), n_ranges))
        return SYM_ENOMEM;
    uint64_t fs = f->func_start, fe = fs + f->func_size;
    for (size_t i = 0; i < n_ranges; i++) {
        uint64_t s = ranges[2 * i], e = s + ranges[2 * i + 1];
        if (s < fs)
            s = fs;
        if (e > fe)
            e = fe;
        if (s >= e)
            continue; /* empty, or outside the function: never reached by a lookup */
        struct binl *in = vec_push(out, sizeof(*in));
        *in = (struct binl){(uint32_t)(s - fs), (uint32_t)(e - fs), depth,
                            origin_idx,         file_ref,           call_line};
    }
    *keep = true;
    return SYM_OK;
}

/* ============================================================================================
 * PUBLIC, STACK CFI, STACK WIN
 * ========================================================================================== */

sym_err bld_public(struct builder *b, const struct bld_public_rec *r)
{
    sym_err rc = close_func(b); /* a PUBLIC ends the FUNC block, as in Breakpad */
    if (rc != SYM_OK)
        return rc;
    b->read.publics++;
    if (r->addr == 0)
        return SYM_OK; /* e.g. `PUBLIC 0 0 _mh_execute_header`: dropped, as Breakpad does */
    if (r->param > UINT32_MAX)
        return reject(b, "PUBLIC parameter size over 32 bits");
    if (r->had_nul)
        b->strings.nul_replaced++; /* counted on this line, as a warning */
    struct img_str s;
    rc = strtab_intern_hashed(&b->strings, r->name, r->n, r->hash, true, &s);
    if (rc != SYM_OK)
        return rc;
    struct bpub *p = vec_push(&b->pubs, sizeof(*p));
    if (p == NULL)
        return SYM_ENOMEM;
    *p =
        (struct bpub){.addr = r->addr,
                      .rec = {s.off, s.len, (uint32_t)r->param, r->multiple ? IMG_PUB_MULTIPLE : 0},
                      .seq = b->seq++};
    return SYM_OK;
}

/* The rule cache's view of a text of n > 0 bytes: its first and last 16 bytes (overlapping
 * when shorter; the first and last 8 under 16 bytes, the text itself under 8), which with n
 * determine a text of up to 32 bytes. Returns the cache slot. */
static size_t rule_words(const char *rule, size_t n, uint64_t w[4])
{
    w[1] = w[2] = w[3] = 0;
    if (n >= 16) {
        memcpy(&w[0], rule, 8);
        memcpy(&w[1], rule + 8, 8);
        memcpy(&w[2], rule + n - 16, 8);
        memcpy(&w[3], rule + n - 8, 8);
    } else if (n >= 8) {
        memcpy(&w[0], rule, 8);
        memcpy(&w[3], rule + n - 8, 8);
    } else {
        w[0] = 0;
        memcpy(&w[0], rule, n);
    }
    return (size_t)(((w[0] * 0x9e3779b97f4a7c15ull) ^ (w[3] * 0xc2b2ae3d27d4eb4full) ^ n) >> 56);
}

/* Most STACK CFI records repeat one of a few hundred rule texts: a cache of the last text seen
 * per slot answers them with a few word comparisons (a byte comparison only for the middle of
 * a text over 32 bytes) before any hashing. Texts with a NUL byte are never cached, so that
 * each of their lines is interned and counted as a warning. */
static sym_err rule_index(struct builder *b, const char *rule, size_t n, uint32_t *idx)
{
    uint64_t w[4];
    struct rule_cache_ent *ce = n != 0 ? &b->rule_cache[rule_words(rule, n, w)] : NULL;
    if (ce != NULL && ce->len == n && ce->w[0] == w[0] && ce->w[1] == w[1] && ce->w[2] == w[2] &&
        ce->w[3] == w[3] &&
        (n <= 32 ||
         memcmp((const char *)b->strings.bytes.data + ce->off + 16, rule + 16, n - 32) == 0)) {
        *idx = ce->idx;
        return SYM_OK;
    }
    struct img_str s;
    sym_err rc = strtab_intern(&b->strings, rule, n, &s);
    if (rc != SYM_OK)
        return rc;
    bool is_new;
    rc = idmap_get(&b->rule_ids, s.off, idx, &is_new);
    if (rc != SYM_OK)
        return rc;
    if (is_new) {
        struct img_str *slot = name_slot(&b->rules, *idx);
        if (slot == NULL)
            return SYM_ENOMEM;
        *slot = s;
    }
    if (ce != NULL && n <= UINT32_MAX && memchr(rule, '\0', n) == NULL)
        *ce = (struct rule_cache_ent){{w[0], w[1], w[2], w[3]}, s.off, (uint32_t)n, *idx};
    return SYM_OK;
}

/* One entry of the delta stream (struct builder): the step from the previous delta's address,
 * then the rule index. Returns its length, at most 2 * VARINT_MAX. */
static size_t put_delta(uint8_t *out, uint64_t prev, uint64_t addr, uint32_t rule)
{
    size_t len = varint_put(out, zigzag((int64_t)(addr - prev)));
    return len + varint_put(out + len, rule);
}

/* Appends a delta to the stream. */
static sym_err stream_delta(struct builder *b, uint64_t addr, uint32_t rule)
{
    if (!vec_reserve(&b->deltas, 1, 2 * VARINT_MAX))
        return SYM_ENOMEM;
    b->deltas.len +=
        put_delta((uint8_t *)b->deltas.data + b->deltas.len, b->delta_last, addr, rule);
    if (addr < b->delta_last)
        b->deltas_unsorted = true;
    b->delta_last = addr;
    b->n_deltas++;
    return SYM_OK;
}

/* Appends (address step, rule index) to a list of pairs being gathered for one INIT. */
static sym_err push_delta_pair(struct vec *pairs, uint64_t step, uint32_t rule)
{
    if (!vec_reserve(pairs, sizeof(uint64_t), 2))
        return SYM_ENOMEM;
    uint64_t *pair = (uint64_t *)pairs->data + pairs->len;
    pair[0] = step;
    pair[1] = rule;
    pairs->len += 2;
    return SYM_OK;
}

/* Starts deltas_blob with its offset 0, the shared empty list, unless it has begun. */
static sym_err start_delta_blob(struct builder *b)
{
    return b->deltas_blob.len != 0 || vec_append(&b->deltas_blob, "", 1) ? SYM_OK : SYM_ENOMEM;
}

/* The last INIT kept so far, or NULL. */
static const struct bcfi *last_cfi(const struct builder *b)
{
    return b->cfis.len ? &VEC_AT(&b->cfis, struct bcfi, b->cfis.len - 1) : NULL;
}

/* Appends c's list of k deltas (v: address step, rule index pairs) to deltas_blob: k, then the
 * pairs. */
static sym_err put_delta_list(struct builder *b, struct bcfi *c, const uint64_t *v, size_t k)
{
    if (start_delta_blob(b) != SYM_OK)
        return SYM_ENOMEM;
    if (!vec_reserve(&b->deltas_blob, 1, (2 * k + 1) * VARINT_MAX))
        return SYM_ENOMEM;
    uint8_t *start = (uint8_t *)b->deltas_blob.data + b->deltas_blob.len, *out = start;
    out += varint_put(out, k);
    for (size_t x = 0; x < 2 * k; x++)
        out += varint_put(out, v[x]);
    if (b->deltas_blob.len + (size_t)(out - start) > IMG_MAX_U32)
        return SYM_ELIMIT;
    c->n_deltas = (uint32_t)k;
    c->delta_off = (uint32_t)b->deltas_blob.len;
    b->deltas_blob.len += (size_t)(out - start);
    return SYM_OK;
}

/* Gives the open INIT (the last) its pairs gathered in scratch_deltas. */
static sym_err close_open_deltas(struct builder *b)
{
    struct vec *pairs = &b->scratch_deltas;
    size_t k = pairs->len / 2;
    if (k == 0)
        return SYM_OK;
    pairs->len = 0;
    return put_delta_list(b, &VEC_AT(&b->cfis, struct bcfi, b->cfis.len - 1), pairs->data, k);
}

/* Leaves the in-place encoding: the lists encoded so far (INITs in file order, which is also
 * address order) become the stream, as if every delta had been streamed. */
static sym_err deltas_to_stream(struct builder *b)
{
    sym_err rc = close_open_deltas(b);
    if (rc != SYM_OK)
        return rc;
    b->deltas_in_place = false;
    b->deltas.len = 0;
    b->n_deltas = 0;
    b->delta_last = 0;
    b->deltas_unsorted = false;
    struct bcfi *cfis = b->cfis.data;
    for (size_t i = 0; i < b->cfis.len; i++) {
        struct bcfi *c = &cfis[i];
        if (c->n_deltas == 0)
            continue;
        const uint8_t *blob = b->deltas_blob.data;
        struct cursor cur = {blob + c->delta_off, blob + b->deltas_blob.len, false};
        uint64_t k = cur_varint(&cur), addr = c->start;
        for (uint64_t j = 0; j < k && !cur.bad; j++) {
            addr += cur_varint(&cur);
            rc = stream_delta(b, addr, (uint32_t)cur_varint(&cur));
            if (rc != SYM_OK)
                return rc;
        }
        if (cur.bad)
            return SYM_EINTERNAL;
        c->n_deltas = 0;
        c->delta_off = 0;
    }
    b->deltas_blob.len = 0;
    return SYM_OK;
}

sym_err bld_cfi_init(struct builder *b, uint64_t addr, uint64_t size, const char *rule, size_t n)
{
    b->read.cfi_inits++;
    if (b->opts.skip_unwind || size == 0)
        return SYM_OK;
    if (addr + size < addr)
        return reject(b, "STACK CFI INIT range wraps around the address space");
    if (size > UINT32_MAX)
        return reject(b, "STACK CFI INIT size over 32 bits");
    uint32_t idx;
    sym_err rc = rule_index(b, rule, n, &idx);
    if (rc == SYM_OK && b->deltas_in_place) {
        rc = close_open_deltas(b);
        const struct bcfi *last = last_cfi(b);
        if (rc == SYM_OK && last != NULL && addr < last->start + last->size)
            rc = deltas_to_stream(b);
    }
    if (rc != SYM_OK)
        return rc;
    struct bcfi *c = vec_push(&b->cfis, sizeof(*c));
    if (c == NULL)
        return SYM_ENOMEM;
    *c = (struct bcfi){.start = addr, .size = (uint32_t)size, .rule = idx};
    return SYM_OK;
}

sym_err bld_cfi_delta(struct builder *b, uint64_t addr, const char *rule, size_t n)
{
    b->read.cfi_deltas++;
    if (b->opts.skip_unwind)
        return SYM_OK;
    /* Like Breakpad, deltas form one module-wide table keyed by address: at finish each kept
     * INIT takes the deltas inside its range, whichever INIT line they followed. */
    uint32_t idx;
    sym_err rc = rule_index(b, rule, n, &idx);
    if (rc != SYM_OK)
        return rc;
    if (b->deltas_in_place) {
        const struct bcfi *c = last_cfi(b);
        struct vec *pairs = &b->scratch_deltas;
        bool any = pairs->len != 0;
        if (c != NULL && addr >= c->start && addr - c->start < c->size &&
            (!any || addr >= b->open_last)) {
            if (any && addr == b->open_last) { /* the later in the file wins */
                ((uint64_t *)pairs->data)[pairs->len - 1] = idx;
                return SYM_OK;
            }
            uint64_t step = addr - (any ? b->open_last : c->start);
            b->open_last = addr;
            return push_delta_pair(pairs, step, idx);
        }
        rc = deltas_to_stream(b);
        if (rc != SYM_OK)
            return rc;
    }
    return stream_delta(b, addr, idx);
}

sym_err bld_win(struct builder *b, uint32_t type, const uint64_t f[8], bool has_program,
                bool allocates_bp, const char *program, size_t n)
{
    if (type == 0)
        b->read.win_fpo++;
    else if (type == 4)
        b->read.win_framedata++;
    else if (type <= 3) {
        b->n_win_other++; /* TRAP, TSS, STANDARD: never used for unwinding */
        return SYM_OK;
    } else
        return reject(b, "unknown STACK WIN type");
    if (b->opts.skip_unwind || f[1] == 0)
        return SYM_OK;
    if (f[0] + f[1] < f[0])
        return reject(b, "STACK WIN range wraps around the address space");
    for (int i = 1; i < 8; i++)
        if (f[i] > UINT32_MAX)
            return reject(b, "STACK WIN field over 32 bits");
    struct img_str prog = {0, 0};
    if (has_program) {
        sym_err rc = strtab_intern(&b->strings, program, n, &prog);
        if (rc != SYM_OK)
            return rc;
    }
    struct bwin *w = vec_push(&b->wins, sizeof(*w));
    if (w == NULL)
        return SYM_ENOMEM;
    uint32_t flags = type | (has_program ? IMG_WIN_HAS_PROGRAM : 0) |
                     (!has_program && allocates_bp ? IMG_WIN_ALLOCS_BP : 0);
    *w = (struct bwin){.rva = f[0],
                       .rec = {(uint32_t)f[0], (uint32_t)(f[0] >> 32), (uint32_t)f[1],
                               (uint32_t)f[2], (uint32_t)f[3], (uint32_t)f[4], (uint32_t)f[5],
                               (uint32_t)f[6], (uint32_t)f[7], flags, prog.off, prog.len},
                       .seq = b->seq++};
    return SYM_OK;
}

static void swap_vec(struct vec *a, struct vec *b)
{
    struct vec t = *a;
    *a = *b;
    *b = t;
}

sym_err bld_take_unwind(struct builder *b, struct builder *u)
{
    if (b->rules.len != 0 || b->cfis.len != 0 || b->deltas.len != 0 || b->wins.len != 0)
        return SYM_EINTERNAL;
    uint64_t base = b->strings.bytes.len, add = u->strings.bytes.len;
    if (base + add > b->strings.max_bytes || base + add > UINT32_MAX)
        return SYM_ELIMIT;
    if (!vec_append(&b->strings.bytes, u->strings.bytes.data, add))
        return SYM_ENOMEM;
    swap_vec(&b->rules, &u->rules);
    struct img_str *rules = b->rules.data;
    for (size_t i = 0; i < b->rules.len; i++)
        if (rules[i].off != UINT32_MAX)
            rules[i].off += (uint32_t)base;
    if (u->deltas_in_place) {
        sym_err rc = close_open_deltas(u);
        if (rc != SYM_OK)
            return rc;
    }
    swap_vec(&b->cfis, &u->cfis);
    swap_vec(&b->deltas, &u->deltas);
    swap_vec(&b->deltas_blob, &u->deltas_blob);
    b->deltas_in_place = u->deltas_in_place;
    b->delta_last = u->delta_last;
    b->n_deltas = u->n_deltas;
    b->deltas_unsorted = u->deltas_unsorted;
    u->n_deltas = 0;
    swap_vec(&b->wins, &u->wins);
    struct bwin *wins = b->wins.data;
    for (size_t i = 0; i < b->wins.len; i++)
        if (wins[i].rec.flags & IMG_WIN_HAS_PROGRAM)
            wins[i].rec.prog_off += (uint32_t)base;
    b->read.cfi_inits += u->read.cfi_inits;
    b->read.cfi_deltas += u->read.cfi_deltas;
    b->read.win_fpo += u->read.win_fpo;
    b->read.win_framedata += u->read.win_framedata;
    b->n_win_other += u->n_win_other;
    u->read.cfi_inits = u->read.cfi_deltas = u->read.win_fpo = u->read.win_framedata = 0;
    u->n_win_other = 0;
    return SYM_OK;
}

/* ============================================================================================
 * Finishing: resolve, lay out, write
 * ========================================================================================== */

struct layout {
    struct img_header h;
    uint64_t pos;
};

/* Sections of this size or more that the image holds as one of the builder's arrays start on a
 * page, so that a sink may take the array's pages (struct sink_give). A property of the
 * layout, not of the sink: every sink writes the same bytes. */
#define GIVE_MIN_BYTES VEC_REGION_MIN

static void lay(struct layout *l, enum img_sect s, uint64_t size)
{
    if (size >= GIVE_MIN_BYTES &&
        (s == IMG_S_STRINGS || s == IMG_S_FUNC_BLOCKS || s == IMG_S_CFI_DELTAS))
        l->pos = (l->pos + SYM_REGION_PAGE - 1) & ~(uint64_t)(SYM_REGION_PAGE - 1);
    l->pos = (l->pos + 7) & ~(uint64_t)7;
    l->h.sect[s].off = l->pos;
    l->h.sect[s].size = size;
    l->pos += size;
}

/* Small pieces (a record, a pair) are gathered in stage and handed to the sink a few KiB at a
 * time: a sink call per 8-byte pair cost more than building the pair. */
#define WRITER_STAGE  8192
#define WRITER_DIRECT 512 /* pieces this large go to the sink as they are */

struct writer {
    struct sink *sink;
    uint64_t pos; /* bytes written, staged ones included */
    sym_err rc;
    size_t staged;
    uint8_t stage[WRITER_STAGE];
};

static void flush_stage(struct writer *w)
{
    if (w->staged != 0 && w->rc == SYM_OK)
        w->rc = w->sink->write(w->sink, w->stage, w->staged);
    w->staged = 0;
}

static void put(struct writer *w, const void *p, size_t n)
{
    if (w->rc != SYM_OK || n == 0)
        return;
    w->pos += n;
    if (n < WRITER_DIRECT) {
        if (w->staged + n > sizeof(w->stage))
            flush_stage(w);
        memcpy(w->stage + w->staged, p, n);
        w->staged += n;
        return;
    }
    flush_stage(w);
    if (w->rc == SYM_OK)
        w->rc = w->sink->write(w->sink, p, n);
}

/* A section the sink may have taken at begin: what it took is in place, the rest is copied. */
static void put_given(struct writer *w, const struct sink_give *g)
{
    flush_stage(w);
    if (w->rc == SYM_OK && g->given != 0) {
        w->rc = w->sink->write(w->sink, NULL, g->given);
        w->pos += g->given;
    }
    put(w, g->v->data, g->v->len);
}

static void pad_to(struct writer *w, uint64_t off)
{
    static const uint8_t zeros[64];
    while (off > w->pos && w->rc == SYM_OK) {
        uint64_t gap = off - w->pos;
        put(w, zeros, gap < sizeof(zeros) ? (size_t)gap : sizeof(zeros));
    }
}

/* Writes starts as u32 or u64, or every stride-th of them for an index. */
static void put_starts(struct writer *w, const uint64_t *starts, size_t n, bool wide, size_t stride)
{
    uint8_t buf[4096];
    size_t used = 0, esz = wide ? 8 : 4;
    for (size_t i = 0; i < n; i += stride) {
        if (used + esz > sizeof(buf)) {
            put(w, buf, used);
            used = 0;
        }
        if (wide) {
            memcpy(buf + used, &starts[i], 8);
        } else {
            uint32_t v = (uint32_t)starts[i];
            memcpy(buf + used, &v, 4);
        }
        used += esz;
    }
    put(w, buf, used);
}

/* The FUNC table: {start, block offset} pairs of u32, or of u64 and u32 + padding when wide. */
static void put_func_table(struct writer *w, const uint64_t *starts, const uint32_t *block_offs,
                           size_t n, bool wide)
{
    uint32_t buf[2048];
    size_t k = 0, per = wide ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
        if (k + per > sizeof(buf) / sizeof(buf[0])) {
            put(w, buf, k * sizeof(buf[0]));
            k = 0;
        }
        if (wide) {
            memcpy(&buf[k], &starts[i], 8);
            buf[k + 2] = block_offs[i];
            buf[k + 3] = 0;
        } else {
            buf[k] = (uint32_t)starts[i];
            buf[k + 1] = block_offs[i];
        }
        k += per;
    }
    put(w, buf, k * sizeof(buf[0]));
}

static void put_cfi_recs(struct writer *w, const struct bcfi *cfis, const uint32_t *order, size_t n)
{
    struct img_cfi buf[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k == sizeof(buf) / sizeof(buf[0])) {
            put(w, buf, sizeof(buf));
            k = 0;
        }
        const struct bcfi *c = &cfis[order[i]];
        buf[k++] = (struct img_cfi){c->size, c->rule, c->delta_off};
    }
    put(w, buf, k * sizeof(buf[0]));
}

/* Size in entries of the index levels over n starts (format_int.h). */
static size_t index_len(size_t n)
{
    uint64_t sizes[IMG_MAX_LEVELS], total = 0;
    int levels = img_index_levels(n, sizes);
    for (int i = 0; i < levels; i++)
        total += sizes[i];
    return (size_t)total;
}

/* Writes the index levels of starts: level i holds every IMG_FANOUT^i-th start. */
static void put_index(struct writer *w, const uint64_t *starts, size_t n, bool wide)
{
    uint64_t sizes[IMG_MAX_LEVELS];
    int levels = img_index_levels(n, sizes);
    size_t stride = 1;
    for (int i = 0; i < levels; i++) {
        stride *= IMG_FANOUT;
        put_starts(w, starts, n, wide, stride);
    }
}

/* Buckets of 2^shift bytes from min: the smallest shift that leaves fewer than cap buckets
 * over [min, max], cap the power of two at or above want; rh->n is that count plus extra. */
static void plan_buckets(uint64_t min, uint64_t max, uint64_t want, uint32_t extra,
                         struct img_radix *rh)
{
    uint64_t cap = 1;
    while (cap < want)
        cap <<= 1;
    unsigned shift = 0;
    while (shift < 63 && ((max - min) >> shift) >= cap)
        shift++;
    rh->min = min;
    rh->shift = shift;
    rh->n = (uint32_t)(((max - min) >> shift) + extra);
}

/* The FUNC radix (format_int.h) over level 1 of the index of n sorted starts: a power of two
 * of buckets, about one per eight level-1 entries, so that a lookup's level-1 window of 16
 * usually holds the answer while the table stays small enough to stay in cache (4 KB per
 * 100,000 functions). rh->n is 0 when there is no level 1. */
static void radix_plan(const uint64_t *starts, size_t n, struct img_radix *rh)
{
    memset(rh, 0, sizeof(*rh));
    if (n <= IMG_FANOUT)
        return;
    size_t n1 = (n + IMG_FANOUT - 1) / IMG_FANOUT;
    plan_buckets(starts[0], starts[(n1 - 1) * IMG_FANOUT], n1 / 8, 1, rh);
}

static void put_radix(struct writer *w, const uint64_t *starts, size_t n,
                      const struct img_radix *rh)
{
    if (rh->n == 0)
        return;
    put(w, rh, sizeof(*rh));
    size_t n1 = (n + IMG_FANOUT - 1) / IMG_FANOUT, j = 0;
    uint32_t buf[1024];
    size_t k = 0;
    for (uint64_t b = 0; b < rh->n; b++) {
        uint64_t bucket_start = rh->min + (b << rh->shift);
        while (j + 1 < n1 && starts[(j + 1) * IMG_FANOUT] <= bucket_start)
            j++;
        buf[k++] = (uint32_t)j;
        if (k == sizeof(buf) / sizeof(buf[0])) {
            put(w, buf, sizeof(buf));
            k = 0;
        }
    }
    put(w, buf, k * sizeof(buf[0]));
}

/* The block offset of every IMG_FANOUT-th function (format_int.h). */
static void put_groups(struct writer *w, const uint32_t *block_offs, size_t n_groups)
{
    uint32_t buf[1024];
    size_t k = 0;
    for (size_t g = 0; g < n_groups; g++) {
        buf[k++] = block_offs[g * IMG_FANOUT];
        if (k == sizeof(buf) / sizeof(buf[0])) {
            put(w, buf, sizeof(buf));
            k = 0;
        }
    }
    put(w, buf, k * sizeof(buf[0]));
}

/* The group lines (format_int.h): per IMG_FANOUT functions their starts and block offsets
 * relative to the group's first. */
static void put_group_lines(struct writer *w, const uint32_t *block_offs, const uint64_t *starts,
                            size_t n_funcs, size_t n_groups)
{
    for (size_t g = 0; g < n_groups; g++) {
        uint16_t line[2 * IMG_FANOUT];
        uint64_t s0 = starts[g * IMG_FANOUT], b0 = block_offs[g * IMG_FANOUT];
        bool fits = true;
        for (size_t i = 0; i < IMG_FANOUT; i++) {
            size_t f = g * IMG_FANOUT + i;
            line[i] = IMG_GROUP_NONE;
            line[IMG_FANOUT + i] = 0;
            if (f >= n_funcs)
                continue;
            uint64_t ds = starts[f] - s0, db = block_offs[f] - b0;
            if (ds >= IMG_GROUP_NONE || db >= IMG_GROUP_NONE)
                fits = false;
            line[i] = (uint16_t)ds;
            line[IMG_FANOUT + i] = (uint16_t)db;
        }
        if (!fits)
            line[0] = IMG_GROUP_NONE;
        put(w, line, sizeof(line));
    }
}

/* The FUNC block hints (format_int.h): about one bucket per IMG_HINT_FUNCS functions, from the
 * first start to past the last. rh->n is 0 when the table is not worth it (as for the radix). */
static void hints_plan(const uint64_t *starts, size_t n, struct img_radix *rh)
{
    memset(rh, 0, sizeof(*rh));
    if (n <= IMG_FANOUT)
        return;
    plan_buckets(starts[0], starts[n - 1], n / IMG_HINT_FUNCS, 2, rh);
}

static void put_hints(struct writer *w, const uint32_t *block_offs, const uint64_t *starts,
                      size_t n_funcs, const struct img_radix *rh)
{
    if (rh->n == 0)
        return;
    put(w, rh, sizeof(*rh));
    uint32_t buf[1024];
    size_t k = 0, j = 0;
    for (uint64_t b = 0; b < rh->n; b++) {
        /* The last bucket starts past the last start unless shift is 63 and it wraps; either
         * way its entry is the last function's block. */
        uint64_t bucket_start = rh->min + (b << rh->shift);
        bool past_end = b + 1 == rh->n;
        while (j + 1 < n_funcs && (past_end || starts[j + 1] <= bucket_start))
            j++;
        buf[k++] = block_offs[j];
        if (k == sizeof(buf) / sizeof(buf[0])) {
            put(w, buf, sizeof(buf));
            k = 0;
        }
    }
    put(w, buf, k * sizeof(buf[0]));
}

struct resolved {
    /* funcs */
    uint32_t *funcs;
    size_t n_funcs;
    uint64_t *func_starts;
    /* The offset of each kept function's block in the section (blocks are written back to back
     * in address order), then the section's size: one pass over the function records serves
     * every table that needs them. */
    uint32_t *block_offs;
    uint64_t blocks_size;
    /* publics */
    struct bpub **pubs;
    size_t n_pubs;
    uint64_t *pub_starts;
    /* cfi */
    uint32_t *cfis;
    size_t n_cfis;
    uint64_t *cfi_starts;
    uint64_t deltas_size;
    /* win: records of both types, then the segments per type */
    struct img_win *wins;
    size_t n_wins;
    uint64_t *seg_starts[2]; /* [0] FRAME_DATA, [1] FPO */
    uint32_t *seg_recs[2];
    size_t n_segs[2];
    size_t n_win_kept[2];
    /* Memory the string index no longer needs (strtab_release_index): the arrays above are cut
     * from it while they fit. Its pages were faulted in while the strings came; fresh pages
     * instead would each cost a fault and a zeroing, on a virtual machine often more. */
    char *spare;
    size_t spare_bytes, spare_used;
    /* Every other array above, as resolved_alloc made it */
    struct owned {
        void *p;
        size_t bytes; /* for block_free */
    } owned[16];
    size_t n_owned;
};

/* A zeroed array of n elements of esz bytes, freed by resolved_free: cut from the spare memory
 * while it lasts, else a block (block_new; a heap block took 8,000 faults of 4 KiB for the
 * tables of a 650 MB file). NULL when out of memory. */
static void *resolved_alloc(struct resolved *r, size_t n, size_t esz)
{
    if (esz != 0 && n > SIZE_MAX / esz)
        return NULL;
    size_t bytes = (n ? n : 1) * esz;
    size_t aligned = (bytes + 63) & ~(size_t)63;
    if (aligned >= bytes && aligned <= r->spare_bytes - r->spare_used) {
        void *p = r->spare + r->spare_used;
        r->spare_used += aligned;
        memset(p, 0, bytes);
        return p;
    }
    if (r->n_owned == sizeof(r->owned) / sizeof(r->owned[0]))
        return NULL;
    void *p = block_new(bytes);
    if (p != NULL)
        r->owned[r->n_owned++] = (struct owned){p, bytes};
    return p;
}

static void resolved_free(struct resolved *r)
{
    for (size_t i = 0; i < r->n_owned; i++)
        block_free(r->owned[i].p, r->owned[i].bytes);
    r->n_owned = 0;
    if (r->spare != NULL)
        sym_region_free(r->spare, r->spare_bytes);
    r->spare = NULL;
    r->spare_bytes = r->spare_used = 0;
}

/* Runs the disjoint first-wins resolution over n records and returns the indexes of the kept
 * ones, and their starts, in address order. */
static sym_err resolve_disjoint(struct builder *b, struct resolved *res, const void *recs, size_t n,
                                size_t esz, uint64_t (*start_of)(const void *),
                                uint64_t (*end_of)(const void *), uint32_t **ids_out, size_t *n_out,
                                uint64_t **starts_out)
{
    uint32_t *kept = resolved_alloc(res, n, sizeof(uint32_t));
    uint64_t *starts = resolved_alloc(res, n, sizeof(uint64_t));
    if (kept == NULL || starts == NULL)
        return SYM_ENOMEM;
    /* The usual case, records already sorted and disjoint, needs no interval table. */
    size_t k = 0;
    uint64_t prev_end = 0;
    for (; k < n; k++) {
        const void *r = (const char *)recs + k * esz;
        uint64_t s = start_of(r);
        if (k > 0 && s < prev_end)
            break;
        kept[k] = (uint32_t)k;
        starts[k] = s;
        prev_end = end_of(r);
    }
    if (k == n) {
        *ids_out = kept;
        *n_out = n;
        *starts_out = starts;
        return SYM_OK;
    }
    b->scratch_ivals.len = b->scratch_keep.len = 0;
    if (!vec_reserve(&b->scratch_ivals, sizeof(struct ival), n) ||
        !vec_reserve(&b->scratch_keep, 1, n))
        return SYM_ENOMEM;
    struct ival *iv = b->scratch_ivals.data;
    uint8_t *keep = b->scratch_keep.data;
    for (size_t i = 0; i < n; i++) {
        const void *r = (const char *)recs + i * esz;
        /* The records are in file order: the index serves as the sequence number. */
        iv[i] = (struct ival){start_of(r), end_of(r), (uint32_t)i, (uint32_t)i};
    }
    sym_err rc = ivals_resolve(iv, n, false, keep);
    if (rc != SYM_OK)
        return rc;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        kept[k] = iv[i].id;
        starts[k] = iv[i].start;
        k++;
    }
    *ids_out = kept;
    *n_out = k;
    *starts_out = starts;
    return SYM_OK;
}

static uint64_t func_start(const void *r)
{
    return ((const struct bfunc *)r)->start;
}
static uint64_t func_end(const void *r)
{
    return ((const struct bfunc *)r)->start + ((const struct bfunc *)r)->size;
}
static uint64_t cfi_start(const void *r)
{
    return ((const struct bcfi *)r)->start;
}
static uint64_t cfi_end(const void *r)
{
    return ((const struct bcfi *)r)->start + ((const struct bcfi *)r)->size;
}

static int cmp_pub_ptr(const void *a, const void *b)
{
    const struct bpub *x = *(const struct bpub *const *)a, *y = *(const struct bpub *const *)b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static sym_err resolve_publics(struct builder *b, struct resolved *r)
{
    size_t n = b->pubs.len;
    r->pubs = resolved_alloc(r, n, sizeof(struct bpub *));
    r->pub_starts = resolved_alloc(r, n, sizeof(uint64_t));
    if (r->pubs == NULL || r->pub_starts == NULL)
        return SYM_ENOMEM;
    struct bpub *p = b->pubs.data;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        r->pubs[i] = &p[i];
        if (i > 0 && p[i].addr < p[i - 1].addr)
            sorted = false;
    }
    if (!sorted)
        qsort(r->pubs, n, sizeof(struct bpub *), cmp_pub_ptr);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && r->pubs[k - 1]->addr == r->pubs[i]->addr)
            continue; /* same address: the first in the file wins */
        r->pubs[k] = r->pubs[i];
        r->pub_starts[k] = r->pubs[i]->addr;
        k++;
    }
    r->n_pubs = k;
    return SYM_OK;
}

static sym_err resolve_wins(struct builder *b, struct resolved *r)
{
    size_t n = b->wins.len;
    const struct bwin *w = b->wins.data;
    r->wins = resolved_alloc(r, n, sizeof(struct img_win));
    if (r->wins == NULL)
        return SYM_ENOMEM;
    static const uint32_t types[2] = {4, 0};
    for (int t = 0; t < 2; t++) {
        b->scratch_ivals.len = b->scratch_keep.len = 0;
        if (!vec_reserve(&b->scratch_ivals, sizeof(struct ival), n) ||
            !vec_reserve(&b->scratch_keep, 1, n))
            return SYM_ENOMEM;
        struct ival *iv = b->scratch_ivals.data;
        uint8_t *keep = b->scratch_keep.data;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((w[i].rec.flags & IMG_WIN_TYPE_MASK) == types[t])
                iv[m++] =
                    (struct ival){w[i].rva, w[i].rva + w[i].rec.code_size, w[i].seq, (uint32_t)i};
        sym_err rc = ivals_resolve(iv, m, true, keep);
        if (rc != SYM_OK)
            return rc;
        /* Renumber kept records into r->wins and point the intervals at their new index. */
        for (size_t i = 0; i < m; i++) {
            if (!keep[i])
                continue;
            r->wins[r->n_wins] = w[iv[i].id].rec;
            iv[i].id = (uint32_t)r->n_wins++;
            r->n_win_kept[t]++;
        }
        r->seg_starts[t] = resolved_alloc(r, 2 * m + 1, sizeof(uint64_t));
        r->seg_recs[t] = resolved_alloc(r, 2 * m + 1, sizeof(uint32_t));
        if (r->seg_starts[t] == NULL || r->seg_recs[t] == NULL)
            return SYM_ENOMEM;
        ivals_segments(iv, m, keep, r->seg_starts[t], r->seg_recs[t], &r->n_segs[t]);
    }
    return SYM_OK;
}

static int cmp_delta(const void *a, const void *b)
{
    const struct bdelta *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A reader of the delta stream in address order, one delta per address: of deltas at one
 * address (consecutive in a sorted stream) the later in the file wins, as Breakpad's map
 * overwrites. The stream is the builder's own, so it is well formed. */
struct delta_reader {
    struct cursor c;
    uint64_t addr;
    uint32_t rule;
    bool ok; /* addr/rule hold a delta */
};

static void delta_next(struct delta_reader *dr)
{
    dr->ok = dr->c.p < dr->c.end;
    if (!dr->ok)
        return;
    dr->addr += (uint64_t)unzigzag(cur_varint(&dr->c));
    dr->rule = (uint32_t)cur_varint(&dr->c);
    while (dr->c.p < dr->c.end && *dr->c.p == 0) { /* a step of 0: the same address again */
        dr->c.p++;
        dr->rule = (uint32_t)cur_varint(&dr->c);
    }
}

/* A stream with deltas out of address order is rewritten in order (stable: file order among
 * deltas at one address). Rare: dump_syms writes INITs and their deltas in address order. */
static sym_err sort_deltas(struct builder *b)
{
    if (b->n_deltas > UINT32_MAX) /* struct bdelta's seq */
        return SYM_ELIMIT;
    struct bdelta *d = sym_reallocarray(NULL, (size_t)b->n_deltas, sizeof(*d));
    if (d == NULL)
        return SYM_ENOMEM;
    struct cursor c = {b->deltas.data, (const uint8_t *)b->deltas.data + b->deltas.len, false};
    uint64_t addr = 0;
    size_t n = 0;
    while (c.p < c.end && n < b->n_deltas) {
        addr += (uint64_t)unzigzag(cur_varint(&c));
        d[n].addr = addr;
        d[n].rule = (uint32_t)cur_varint(&c);
        d[n].seq = (uint32_t)n;
        n++;
    }
    if (c.bad || c.p != c.end || n != b->n_deltas) {
        sym_free(d);
        return SYM_EINTERNAL;
    }
    qsort(d, n, sizeof(*d), cmp_delta);
    /* Written back over the stream, which first grows when the sorted steps take more bytes
     * than the file's. */
    uint8_t tmp[2 * VARINT_MAX];
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += put_delta(tmp, i > 0 ? d[i - 1].addr : 0, d[i].addr, d[i].rule);
    b->deltas.len = 0; /* everything is in d now */
    if (!vec_reserve(&b->deltas, 1, need)) {
        sym_free(d);
        return SYM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        b->deltas.len += put_delta((uint8_t *)b->deltas.data + b->deltas.len,
                                   i > 0 ? d[i - 1].addr : 0, d[i].addr, d[i].rule);
    b->deltas_unsorted = false;
    sym_free(d);
    return SYM_OK;
}

/* Gives each kept CFI INIT (disjoint, in address order) the deltas inside its range and
 * encodes them into deltas_blob: n, then (address - previous address, rule index) with the
 * INIT start as the first "previous". Deltas outside every kept INIT are dropped. When the
 * deltas were encoded in place (struct builder) and every INIT is kept, that is already done. */
static sym_err assign_deltas(struct builder *b, struct resolved *r)
{
    if (b->deltas_in_place) {
        sym_err rc = close_open_deltas(b);
        if (rc != SYM_OK)
            return rc;
        /* INITs in order and disjoint: every one is kept, with the list it was given. */
        if (r->n_cfis == b->cfis.len)
            return start_delta_blob(b);
        rc = deltas_to_stream(b);
        if (rc != SYM_OK)
            return rc;
    }
    if (b->deltas_unsorted) {
        sym_err rc = sort_deltas(b);
        if (rc != SYM_OK)
            return rc;
    }
    const uint8_t *stream = b->deltas.data; /* NULL when there are none */
    struct delta_reader dr = {
        {stream, stream != NULL ? stream + b->deltas.len : NULL, false}, 0, 0, false};
    delta_next(&dr);
    b->deltas_blob.len = 0;
    if (start_delta_blob(b) != SYM_OK)
        return SYM_ENOMEM;
    struct bcfi *cfis = b->cfis.data;
    struct vec *mine = &b->scratch_deltas;
    for (size_t i = 0; i < r->n_cfis; i++) {
        struct bcfi *c = &cfis[r->cfis[i]];
        uint64_t end = c->start + c->size;
        c->n_deltas = 0;
        c->delta_off = 0;
        while (dr.ok && dr.addr < c->start)
            delta_next(&dr);
        mine->len = 0;
        uint64_t prev = c->start;
        while (dr.ok && dr.addr < end) {
            if (push_delta_pair(mine, dr.addr - prev, dr.rule) != SYM_OK)
                return SYM_ENOMEM;
            prev = dr.addr;
            delta_next(&dr);
        }
        if (mine->len != 0) {
            sym_err rc = put_delta_list(b, c, mine->data, mine->len / 2);
            if (rc != SYM_OK)
                return rc;
        }
    }
    return dr.c.bad ? SYM_EINTERNAL : SYM_OK;
}

/* a is sorted (every resolved table of starts is): its last entry is its largest. */
static bool any_wide(const uint64_t *a, size_t n)
{
    return n > 0 && a[n - 1] > UINT32_MAX;
}

sym_err bld_finish(struct builder *b, uint64_t source_bytes, uint64_t warnings, struct sink *out,
                   struct sym_image_counts *kept_out)
{
    struct resolved r;
    memset(&r, 0, sizeof(r));
    sym_err rc = close_func(b);
    if (rc == SYM_OK)
        rc = encode_deferred(b);
    if (rc != SYM_OK)
        return rc;
    r.spare = strtab_release_index(&b->strings, &r.spare_bytes);
    idmap_cleanup(&b->rule_ids);

    rc = resolve_disjoint(b, &r, b->funcs.data, b->funcs.len, sizeof(struct bfunc), func_start,
                          func_end, &r.funcs, &r.n_funcs, &r.func_starts);
    if (rc == SYM_OK)
        rc = resolve_publics(b, &r);
    if (rc == SYM_OK)
        rc = resolve_disjoint(b, &r, b->cfis.data, b->cfis.len, sizeof(struct bcfi), cfi_start,
                              cfi_end, &r.cfis, &r.n_cfis, &r.cfi_starts);
    if (rc == SYM_OK)
        rc = assign_deltas(b, &r);
    if (rc == SYM_OK)
        rc = resolve_wins(b, &r);
    if (rc != SYM_OK)
        goto out;

    struct sym_image_counts kept;
    memset(&kept, 0, sizeof(kept));
    kept.files = b->files.len;
    kept.inline_origins = b->origins.len;
    kept.funcs = r.n_funcs;
    kept.publics = r.n_pubs;
    kept.cfi_inits = r.n_cfis;
    kept.win_framedata = r.n_win_kept[0];
    kept.win_fpo = r.n_win_kept[1];
    const struct bfunc *funcs = b->funcs.data;
    const struct bcfi *cfis = b->cfis.data;
    r.block_offs = resolved_alloc(&r, r.n_funcs + 1, sizeof(uint32_t));
    if (r.block_offs == NULL) {
        rc = SYM_ENOMEM;
        goto out;
    }
    /* The blocks were encoded in file order; in the common case (a dump_syms file: FUNCs in
     * address order, none dropped) that is the image's order, and the array is the section. */
    bool blocks_as_is = true;
    r.blocks_size = 0;
    for (size_t i = 0; i < r.n_funcs; i++) {
        const struct bfunc *f = &funcs[r.funcs[i]];
        kept.lines += f->n_lines;
        kept.inlines += f->n_inlines;
        blocks_as_is = blocks_as_is && f->block_off == r.blocks_size;
        r.block_offs[i] = (uint32_t)r.blocks_size;
        r.blocks_size += f->block_len;
        if (r.blocks_size > IMG_MAX_U32) {
            rc = SYM_ELIMIT;
            goto out;
        }
    }
    r.block_offs[r.n_funcs] = (uint32_t)r.blocks_size;
    blocks_as_is = blocks_as_is && r.blocks_size == b->blocks.len;
    r.deltas_size = b->deltas_blob.len;
    for (size_t i = 0; i < r.n_cfis; i++)
        kept.cfi_deltas += cfis[r.cfis[i]].n_deltas;
    if (r.deltas_size > IMG_MAX_U32) {
        rc = SYM_ELIMIT;
        goto out;
    }
    bool wide = any_wide(r.func_starts, r.n_funcs) || any_wide(r.pub_starts, r.n_pubs) ||
                any_wide(r.cfi_starts, r.n_cfis) || any_wide(r.seg_starts[0], r.n_segs[0]) ||
                any_wide(r.seg_starts[1], r.n_segs[1]);
    size_t asz = wide ? 8 : 4;

    struct layout l;
    memset(&l, 0, sizeof(l));
    struct img_header *h = &l.h;
    memcpy(h->magic, IMG_MAGIC, 8);
    h->version = SYM_IMAGE_VERSION;
    h->endian = IMG_ENDIAN;
    h->header_size = sizeof(*h);
    h->flags = (wide ? IMG_F_WIDE : 0) | (b->has_module ? IMG_F_HAS_MODULE : 0);
    h->fanout = IMG_FANOUT;
    h->n_sections = IMG_S_COUNT;
    h->source_bytes = source_bytes;
    h->parse_warnings = warnings;
    uint64_t counts[IMG_C_COUNT] = {
        kept.files,   kept.inline_origins, kept.funcs,      kept.lines,   kept.inlines,
        kept.publics, kept.cfi_inits,      kept.cfi_deltas, kept.win_fpo, kept.win_framedata};
    memcpy(h->counts, counts, sizeof(counts));
    memcpy(h->module, b->module, sizeof(h->module));
    l.pos = sizeof(*h);
    lay(&l, IMG_S_STRINGS, b->strings.bytes.len);
    lay(&l, IMG_S_FILES, b->files.len * sizeof(struct img_str));
    lay(&l, IMG_S_ORIGINS, b->origins.len * sizeof(struct img_str));
    lay(&l, IMG_S_RULES, b->rules.len * sizeof(struct img_str));
    lay(&l, IMG_S_FUNC_TABLE, r.n_funcs * 2 * asz);
    lay(&l, IMG_S_FUNC_INDEX, index_len(r.n_funcs) * asz);
    lay(&l, IMG_S_FUNC_BLOCKS, r.blocks_size);
    lay(&l, IMG_S_PUB_STARTS, r.n_pubs * asz);
    lay(&l, IMG_S_PUB_INDEX, index_len(r.n_pubs) * asz);
    lay(&l, IMG_S_PUB_RECS, r.n_pubs * sizeof(struct img_pub));
    lay(&l, IMG_S_CFI_STARTS, r.n_cfis * asz);
    lay(&l, IMG_S_CFI_INDEX, index_len(r.n_cfis) * asz);
    lay(&l, IMG_S_CFI_RECS, r.n_cfis * sizeof(struct img_cfi));
    lay(&l, IMG_S_CFI_DELTAS, r.deltas_size);
    lay(&l, IMG_S_WIN_RECS, r.n_wins * sizeof(struct img_win));
    lay(&l, IMG_S_WIN4_STARTS, r.n_segs[0] * asz);
    lay(&l, IMG_S_WIN4_INDEX, index_len(r.n_segs[0]) * asz);
    lay(&l, IMG_S_WIN4_SEGS, r.n_segs[0] * sizeof(uint32_t));
    lay(&l, IMG_S_WIN0_STARTS, r.n_segs[1] * asz);
    lay(&l, IMG_S_WIN0_INDEX, index_len(r.n_segs[1]) * asz);
    lay(&l, IMG_S_WIN0_SEGS, r.n_segs[1] * sizeof(uint32_t));
    struct img_radix radix;
    radix_plan(r.func_starts, r.n_funcs, &radix);
    lay(&l, IMG_S_FUNC_RADIX, radix.n ? sizeof(radix) + (uint64_t)radix.n * 4 : 0);
    size_t n_groups = r.n_funcs > IMG_FANOUT ? (r.n_funcs + IMG_FANOUT - 1) / IMG_FANOUT : 0;
    lay(&l, IMG_S_FUNC_GROUPS, (uint64_t)n_groups * 4);
    l.pos = (l.pos + IMG_GROUP_LINE - 1) & ~(uint64_t)(IMG_GROUP_LINE - 1);
    lay(&l, IMG_S_FUNC_GROUP_LINES, (uint64_t)n_groups * IMG_GROUP_LINE);
    struct img_radix hints;
    hints_plan(r.func_starts, r.n_funcs, &hints);
    lay(&l, IMG_S_FUNC_HINTS, hints.n ? sizeof(hints) + (uint64_t)hints.n * 4 : 0);
    l.pos = (l.pos + 7) & ~(uint64_t)7;
    h->total_size = l.pos;
    if (b->opts.max_image_bytes != 0 && h->total_size > b->opts.max_image_bytes) {
        rc = SYM_ELIMIT;
        goto out;
    }
    struct sink_give gives[3];
    size_t n_gives = 0;
    struct sink_give *give_strings = NULL, *give_blocks = NULL, *give_deltas = NULL;
    if (b->strings.bytes.len >= GIVE_MIN_BYTES) {
        give_strings = &gives[n_gives++];
        *give_strings = (struct sink_give){h->sect[IMG_S_STRINGS].off, &b->strings.bytes, 0};
    }
    if (blocks_as_is && r.blocks_size >= GIVE_MIN_BYTES) {
        give_blocks = &gives[n_gives++];
        *give_blocks = (struct sink_give){h->sect[IMG_S_FUNC_BLOCKS].off, &b->blocks, 0};
    }
    if (b->deltas_blob.len >= GIVE_MIN_BYTES) {
        give_deltas = &gives[n_gives++];
        *give_deltas = (struct sink_give){h->sect[IMG_S_CFI_DELTAS].off, &b->deltas_blob, 0};
    }
    if (out->begin != NULL) {
        /* The function records are read again only to copy blocks out of order. */
        rc = out->begin(out, h->total_size, gives, n_gives, blocks_as_is ? &b->funcs : NULL);
        if (rc != SYM_OK)
            goto out;
    }

    struct writer w = {out, 0, SYM_OK, 0, {0}};
    put(&w, h, sizeof(*h));
    pad_to(&w, h->sect[IMG_S_STRINGS].off);
    if (give_strings != NULL)
        put_given(&w, give_strings);
    else
        put(&w, b->strings.bytes.data, b->strings.bytes.len);
    /* Unnamed slots (ids used but never declared) become empty strings. */
    struct vec *tables[3] = {&b->files, &b->origins, &b->rules};
    static const enum img_sect tsect[3] = {IMG_S_FILES, IMG_S_ORIGINS, IMG_S_RULES};
    for (int t = 0; t < 3; t++) {
        struct img_str *s = tables[t]->data;
        for (size_t i = 0; i < tables[t]->len; i++)
            if (s[i].off == UINT32_MAX)
                s[i].off = s[i].len = 0;
        pad_to(&w, h->sect[tsect[t]].off);
        put(&w, s, tables[t]->len * sizeof(struct img_str));
    }

    /* {start, block} pairs; blocks are written in address order, so offsets are sums. */
    pad_to(&w, h->sect[IMG_S_FUNC_TABLE].off);
    put_func_table(&w, r.func_starts, r.block_offs, r.n_funcs, wide);
    pad_to(&w, h->sect[IMG_S_FUNC_INDEX].off);
    put_index(&w, r.func_starts, r.n_funcs, wide);
    pad_to(&w, h->sect[IMG_S_FUNC_BLOCKS].off);
    if (give_blocks != NULL) {
        put_given(&w, give_blocks);
    } else if (blocks_as_is) {
        put(&w, b->blocks.data, b->blocks.len);
    } else {
        for (size_t i = 0; i < r.n_funcs; i++) {
            const struct bfunc *f = &funcs[r.funcs[i]];
            put(&w, (const uint8_t *)b->blocks.data + f->block_off, f->block_len);
        }
    }

    pad_to(&w, h->sect[IMG_S_PUB_STARTS].off);
    put_starts(&w, r.pub_starts, r.n_pubs, wide, 1);
    pad_to(&w, h->sect[IMG_S_PUB_INDEX].off);
    put_index(&w, r.pub_starts, r.n_pubs, wide);
    pad_to(&w, h->sect[IMG_S_PUB_RECS].off);
    for (size_t i = 0; i < r.n_pubs; i++)
        put(&w, &r.pubs[i]->rec, sizeof(struct img_pub));

    pad_to(&w, h->sect[IMG_S_CFI_STARTS].off);
    put_starts(&w, r.cfi_starts, r.n_cfis, wide, 1);
    pad_to(&w, h->sect[IMG_S_CFI_INDEX].off);
    put_index(&w, r.cfi_starts, r.n_cfis, wide);
    pad_to(&w, h->sect[IMG_S_CFI_RECS].off);
    put_cfi_recs(&w, cfis, r.cfis, r.n_cfis);
    pad_to(&w, h->sect[IMG_S_CFI_DELTAS].off);
    if (give_deltas != NULL)
        put_given(&w, give_deltas);
    else
        put(&w, b->deltas_blob.data, b->deltas_blob.len);

    pad_to(&w, h->sect[IMG_S_WIN_RECS].off);
    put(&w, r.wins, r.n_wins * sizeof(struct img_win));
    static const enum img_sect seg_sect[2][3] = {
        {IMG_S_WIN4_STARTS, IMG_S_WIN4_INDEX, IMG_S_WIN4_SEGS},
        {IMG_S_WIN0_STARTS, IMG_S_WIN0_INDEX, IMG_S_WIN0_SEGS}};
    for (int t = 0; t < 2; t++) {
        pad_to(&w, h->sect[seg_sect[t][0]].off);
        put_starts(&w, r.seg_starts[t], r.n_segs[t], wide, 1);
        pad_to(&w, h->sect[seg_sect[t][1]].off);
        put_index(&w, r.seg_starts[t], r.n_segs[t], wide);
        pad_to(&w, h->sect[seg_sect[t][2]].off);
        put(&w, r.seg_recs[t], r.n_segs[t] * sizeof(uint32_t));
    }
    pad_to(&w, h->sect[IMG_S_FUNC_RADIX].off);
    put_radix(&w, r.func_starts, r.n_funcs, &radix);
    pad_to(&w, h->sect[IMG_S_FUNC_GROUPS].off);
    put_groups(&w, r.block_offs, n_groups);
    pad_to(&w, h->sect[IMG_S_FUNC_GROUP_LINES].off);
    put_group_lines(&w, r.block_offs, r.func_starts, r.n_funcs, n_groups);
    pad_to(&w, h->sect[IMG_S_FUNC_HINTS].off);
    put_hints(&w, r.block_offs, r.func_starts, r.n_funcs, &hints);
    pad_to(&w, h->total_size);
    flush_stage(&w);
    rc = w.rc;
    if (rc == SYM_OK && w.pos != h->total_size)
        rc = SYM_EINTERNAL;
    if (rc == SYM_OK && kept_out != NULL)
        *kept_out = kept;
out:
    resolved_free(&r);
    return rc;
}
