/* SPDX-License-Identifier: MPL-2.0 */
/* image.c: opening a symcache image in place and answering lookups from it (layout in
 * format_int.h). sym_image_open checks only the header and the section table; every record
 * field that leads elsewhere (string offsets, block offsets, varint lengths, table indexes) is
 * checked when it is read, so a corrupt image yields SYM_ECORRUPT instead of a stray read.
 * Lookups allocate nothing and write only their output. Depends on libc only. */
#include "sym/image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "format_int.h"
#include "util_int.h"

#ifdef __SSE2__
/* Set bits in a 16-bit compare mask; without a popcnt instruction in the baseline x86-64,
 * __builtin_popcount is a library call. */
static inline unsigned pop16(unsigned m)
{
    m = m - ((m >> 1) & 0x5555u);
    m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
    m = (m + (m >> 4)) & 0x0f0fu;
    return (m + (m >> 8)) & 0x1fu;
}
#endif

/* An address table: level 0 holds the starts (every `stride` bytes, at offset 0), the index
 * levels above it sampled starts (format_int.h). */
struct table {
    const uint8_t *starts, *recs;
    size_t n, stride;
    int n_levels;
    const uint8_t *level[IMG_MAX_LEVELS]; /* level[0] is index level 1 */
    size_t level_n[IMG_MAX_LEVELS];
    const uint8_t *radix;        /* u32 entries (format_int.h), radix_n of them; NULL if none */
    const uint8_t *hints;        /* FUNC block hints: u32 entries, hints_n; NULL if none */
    const uint8_t *group_blocks; /* u32 per level-1 entry (format_int.h); NULL if none */
    const uint8_t *group_lines;  /* IMG_GROUP_LINE bytes per level-1 entry; NULL if none */
    uint64_t radix_min, hints_min;
    unsigned radix_shift, hints_shift;
    size_t radix_n, hints_n;
};

struct sym_image {
    const uint8_t *base;
    size_t len;
    void *map;
    size_t map_len;
    struct img_header h;
    bool wide;
    const uint8_t *strings;
    uint64_t strings_len;
    const uint8_t *files, *origins, *rules;
    size_t n_files, n_origins, n_rules;
    struct table funcs, pubs, cfis, win[2]; /* win[0] FRAME_DATA, win[1] FPO (recs = segs) */
    const uint8_t *blocks, *deltas, *wins;
    uint64_t blocks_len, deltas_len;
    size_t n_wins;
};

/* ============================================================================================
 * Opening
 * ========================================================================================== */

static bool str_ok(const struct sym_image *img, struct img_str s)
{
    return (uint64_t)s.off + s.len <= img->strings_len;
}

static struct sym_slice str_slice(const struct sym_image *img, struct img_str s)
{
    return sym_slice_make((const char *)img->strings + s.off, s.len);
}

static sym_err corrupt(struct sym_diag *d, const char *what)
{
    return sym_diag_set(d, SYM_ECORRUPT, "not a valid symcache image: %s", what);
}

/* Binds an address table. Level 0 is the starts section (entries of `stride` bytes, the
 * start first; recs NULL when the records are in the entries themselves, as for FUNC), the
 * index section holds the sampled levels. */
static bool bind_table(struct sym_image *img, struct table *t, int s_starts, int s_index,
                       int s_recs, size_t stride, size_t rec_size)
{
    size_t asz = img->wide ? 8 : 4;
    const struct img_sect_ent *e = img->h.sect;
    if (e[s_starts].size % stride != 0)
        return false;
    t->n = (size_t)(e[s_starts].size / stride);
    t->stride = stride;
    t->starts = img->base + e[s_starts].off;
    if (s_recs >= 0) {
        if (e[s_recs].size % rec_size != 0 || e[s_recs].size / rec_size != t->n)
            return false;
        t->recs = img->base + e[s_recs].off;
    }
    uint64_t sizes[IMG_MAX_LEVELS], total = 0;
    t->n_levels = img_index_levels(t->n, sizes);
    const uint8_t *p = img->base + e[s_index].off;
    for (int i = 0; i < t->n_levels; i++) {
        t->level[i] = p + total * asz;
        t->level_n[i] = (size_t)sizes[i];
        total += sizes[i];
    }
    return e[s_index].size == total * asz;
}

/* A radix-like section: struct img_radix, then n u32. Only its size and header are checked:
 * any entry value is safe (format_int.h). */
static bool bind_buckets(const struct sym_image *img, const struct img_sect_ent *e,
                         const uint8_t **entries, uint64_t *min, unsigned *shift, size_t *n)
{
    struct img_radix rh;
    if (e->size < sizeof(rh))
        return false;
    memcpy(&rh, img->base + e->off, sizeof(rh));
    if (rh.n == 0 || rh.shift > 63 || e->size != sizeof(rh) + (uint64_t)rh.n * 4)
        return false;
    *entries = img->base + e->off + sizeof(rh);
    *min = rh.min;
    *shift = rh.shift;
    *n = rh.n;
    return true;
}

sym_err sym_image_open(const void *data, size_t len, struct sym_image **out, struct sym_diag *d)
{
    if (data == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no image data");
    struct img_header h;
    if (len < sizeof(h))
        return corrupt(d, "shorter than its header");
    memcpy(&h, data, sizeof(h));
    if (memcmp(h.magic, IMG_MAGIC, 8) != 0)
        return corrupt(d, "bad magic");
    if (h.version != SYM_IMAGE_VERSION)
        return sym_diag_set(d, SYM_ECORRUPT,
                            "symcache format version %u, this build reads version %u",
                            (unsigned)h.version, (unsigned)SYM_IMAGE_VERSION);
    if (h.endian != IMG_ENDIAN)
        return corrupt(d, "written on a machine of another byte order");
    if (h.header_size != sizeof(h) || h.n_sections != IMG_S_COUNT || h.fanout != IMG_FANOUT)
        return corrupt(d, "unexpected header layout");
    if (h.total_size != len)
        return sym_diag_set(d, SYM_ECORRUPT,
                            "symcache is %zu bytes but its header says %llu (truncated?)", len,
                            (unsigned long long)h.total_size);
    for (int i = 0; i < IMG_S_COUNT; i++) {
        const struct img_sect_ent *e = &h.sect[i];
        if (e->off % 8 != 0 || e->off < sizeof(h) || e->off > len || e->size > len - e->off)
            return corrupt(d, "section outside the image");
    }
    struct sym_image *img = sym_calloc(1, sizeof(*img));
    if (img == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    img->base = data;
    img->len = len;
    img->h = h;
    img->wide = (h.flags & IMG_F_WIDE) != 0;
    const uint8_t *b = data;
    const struct img_sect_ent *e = h.sect;
    img->strings = b + e[IMG_S_STRINGS].off;
    img->strings_len = e[IMG_S_STRINGS].size;
    img->files = b + e[IMG_S_FILES].off;
    img->origins = b + e[IMG_S_ORIGINS].off;
    img->rules = b + e[IMG_S_RULES].off;
    img->n_files = (size_t)(e[IMG_S_FILES].size / sizeof(struct img_str));
    img->n_origins = (size_t)(e[IMG_S_ORIGINS].size / sizeof(struct img_str));
    img->n_rules = (size_t)(e[IMG_S_RULES].size / sizeof(struct img_str));
    img->blocks = b + e[IMG_S_FUNC_BLOCKS].off;
    img->blocks_len = e[IMG_S_FUNC_BLOCKS].size;
    img->deltas = b + e[IMG_S_CFI_DELTAS].off;
    img->deltas_len = e[IMG_S_CFI_DELTAS].size;
    img->wins = b + e[IMG_S_WIN_RECS].off;
    img->n_wins = (size_t)(e[IMG_S_WIN_RECS].size / sizeof(struct img_win));
    size_t asz = img->wide ? 8 : 4;
    bool ok = e[IMG_S_FILES].size % sizeof(struct img_str) == 0 &&
              e[IMG_S_ORIGINS].size % sizeof(struct img_str) == 0 &&
              e[IMG_S_RULES].size % sizeof(struct img_str) == 0 &&
              e[IMG_S_WIN_RECS].size % sizeof(struct img_win) == 0 &&
              e[IMG_S_STRINGS].size <= IMG_MAX_U32 &&
              bind_table(img, &img->funcs, IMG_S_FUNC_TABLE, IMG_S_FUNC_INDEX, -1, 2 * asz, 0) &&
              bind_table(img, &img->pubs, IMG_S_PUB_STARTS, IMG_S_PUB_INDEX, IMG_S_PUB_RECS, asz,
                         sizeof(struct img_pub)) &&
              bind_table(img, &img->cfis, IMG_S_CFI_STARTS, IMG_S_CFI_INDEX, IMG_S_CFI_RECS, asz,
                         sizeof(struct img_cfi)) &&
              bind_table(img, &img->win[0], IMG_S_WIN4_STARTS, IMG_S_WIN4_INDEX, IMG_S_WIN4_SEGS,
                         asz, sizeof(uint32_t)) &&
              bind_table(img, &img->win[1], IMG_S_WIN0_STARTS, IMG_S_WIN0_INDEX, IMG_S_WIN0_SEGS,
                         asz, sizeof(uint32_t));
    struct table *ft = &img->funcs;
    if (ok && e[IMG_S_FUNC_RADIX].size != 0)
        ok = ft->n_levels >= 1 && bind_buckets(img, &e[IMG_S_FUNC_RADIX], &ft->radix,
                                               &ft->radix_min, &ft->radix_shift, &ft->radix_n);
    if (ok && e[IMG_S_FUNC_HINTS].size != 0)
        ok = bind_buckets(img, &e[IMG_S_FUNC_HINTS], &ft->hints, &ft->hints_min, &ft->hints_shift,
                          &ft->hints_n);
    if (ok && e[IMG_S_FUNC_GROUPS].size != 0) {
        /* Only the sizes are checked: the offsets are prefetch hints and, with the group
         * lines, bases of block offsets that read_block_head bounds (format_int.h). */
        ok = img->funcs.n_levels >= 1 &&
             e[IMG_S_FUNC_GROUPS].size == (uint64_t)img->funcs.level_n[0] * 4;
        img->funcs.group_blocks = img->base + e[IMG_S_FUNC_GROUPS].off;
    }
    if (ok && e[IMG_S_FUNC_GROUP_LINES].size != 0) {
        ok = img->funcs.group_blocks != NULL &&
             e[IMG_S_FUNC_GROUP_LINES].size == (uint64_t)img->funcs.level_n[0] * IMG_GROUP_LINE;
        img->funcs.group_lines = img->base + e[IMG_S_FUNC_GROUP_LINES].off;
    }
    for (int i = 0; ok && i < IMG_M_COUNT; i++)
        ok = str_ok(img, h.module[i]);
    if (!ok) {
        sym_free(img);
        return corrupt(d, "inconsistent section sizes");
    }
    *out = img;
    return SYM_OK;
}

sym_err sym_image_open_file(const char *path, struct sym_image **out, struct sym_diag *d)
{
    if (path == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sym_diag_set(d, errno == ENOENT ? SYM_ENOTFOUND : SYM_EIO, "cannot open %s: %s",
                            path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sym_diag_set(d, SYM_EIO, "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return sym_diag_set(d, SYM_ECORRUPT, "%s is not a symcache image (empty or not a file)",
                            path);
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return sym_diag_set(d, SYM_EIO, "cannot map %s: %s", path, strerror(e));
    struct sym_image *img;
    sym_err rc = sym_image_open(map, len, &img, d);
    if (rc != SYM_OK) {
        munmap(map, len);
        return rc;
    }
    img->map = map;
    img->map_len = len;
    *out = img;
    return SYM_OK;
}

bool sym_image_sniff(const void *data, size_t len)
{
    return data != NULL && len >= 8 && memcmp(data, IMG_MAGIC, 8) == 0;
}

void sym_image_close(struct sym_image *img)
{
    if (img == NULL)
        return;
    if (img->map != NULL)
        munmap(img->map, img->map_len);
    sym_free(img);
}

const void *sym_image_data(const struct sym_image *img, size_t *len_out)
{
    if (len_out != NULL)
        *len_out = img->len;
    return img->base;
}

/* ============================================================================================
 * Module information
 * ========================================================================================== */

void sym_image_module(const struct sym_image *img, struct sym_module_info *out)
{
    const struct img_str *m = img->h.module;
    out->os = str_slice(img, m[IMG_M_OS]);
    out->arch = str_slice(img, m[IMG_M_ARCH]);
    out->debug_id = str_slice(img, m[IMG_M_DEBUG_ID]);
    out->debug_file = str_slice(img, m[IMG_M_DEBUG_FILE]);
    out->code_id = str_slice(img, m[IMG_M_CODE_ID]);
    out->code_file = str_slice(img, m[IMG_M_CODE_FILE]);
    out->generator = str_slice(img, m[IMG_M_GENERATOR]);
    out->pe_name = str_slice(img, m[IMG_M_PE_NAME]);
    out->has_module = (img->h.flags & IMG_F_HAS_MODULE) != 0;
}

struct sym_slice sym_image_module_name(const struct sym_image *img, struct sym_slice debug_filename)
{
    struct img_str pe = img->h.module[IMG_M_PE_NAME];
    return pe.len != 0 ? str_slice(img, pe) : debug_filename;
}

void sym_image_info(const struct sym_image *img, struct sym_image_info *out)
{
    const uint64_t *c = img->h.counts;
    memset(out, 0, sizeof(*out));
    out->version = img->h.version;
    out->wide_addresses = img->wide;
    out->image_bytes = img->len;
    out->string_bytes = img->strings_len;
    out->source_bytes = img->h.source_bytes;
    out->parse_warnings = img->h.parse_warnings;
    out->counts = (struct sym_image_counts){
        .files = c[IMG_C_FILES],
        .inline_origins = c[IMG_C_ORIGINS],
        .funcs = c[IMG_C_FUNCS],
        .lines = c[IMG_C_LINES],
        .inlines = c[IMG_C_INLINES],
        .publics = c[IMG_C_PUBLICS],
        .cfi_inits = c[IMG_C_CFI_INITS],
        .cfi_deltas = c[IMG_C_CFI_DELTAS],
        .win_fpo = c[IMG_C_WIN_FPO],
        .win_framedata = c[IMG_C_WIN_FRAMEDATA],
    };
}

/* ============================================================================================
 * Address tables
 * ========================================================================================== */

static inline uint64_t load_start(bool wide, const uint8_t *p)
{
    return wide ? ld64(p) : ld32(p);
}

/* How many of the n entries (every stride bytes from p) are <= key. Branch-free, so that the
 * window's cache line or two is the only cost. */
static inline size_t count_le(bool wide, const uint8_t *p, size_t stride, size_t n, uint64_t key)
{
#ifdef __SSE2__
    /* The usual window, IMG_FANOUT packed 32-bit starts: four compares. SSE2 compares signed,
     * so both sides are moved by 2^31. */
    if (!wide && stride == 4 && n == 16) {
        if (key > UINT32_MAX)
            return n;
        __m128i bias = _mm_set1_epi32(INT32_MIN);
        __m128i k = _mm_xor_si128(_mm_set1_epi32((int32_t)(uint32_t)key), bias);
        __m128i g0 = _mm_cmpgt_epi32(_mm_xor_si128(_mm_loadu_si128((const void *)p), bias), k);
        __m128i g1 =
            _mm_cmpgt_epi32(_mm_xor_si128(_mm_loadu_si128((const void *)(p + 16)), bias), k);
        __m128i g2 =
            _mm_cmpgt_epi32(_mm_xor_si128(_mm_loadu_si128((const void *)(p + 32)), bias), k);
        __m128i g3 =
            _mm_cmpgt_epi32(_mm_xor_si128(_mm_loadu_si128((const void *)(p + 48)), bias), k);
        __m128i g = _mm_packs_epi16(_mm_packs_epi32(g0, g1), _mm_packs_epi32(g2, g3));
        return n - pop16((unsigned)_mm_movemask_epi8(g));
    }
#endif
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += load_start(wide, p + i * stride) <= key;
    return c;
}

/* lo plus the share of [lo, hi) that d's offset within its bucket of 2^shift bytes names, that
 * offset scaled to at most 32 bits so that the product fits (the block hints and the radix
 * guess positions this way, format_int.h). */
static inline uint64_t bucket_share(uint64_t d, unsigned shift, uint64_t lo, uint64_t hi)
{
    unsigned drop = shift > 32 ? shift - 32 : 0;
    uint64_t within = (d & ((UINT64_C(1) << shift) - 1)) >> drop;
    return lo + ((within * (hi - lo)) >> (shift - drop));
}

/* Starts fetching the FUNC block cache lines around block offset at, where a guess put a
 * function's block (at may be anything: nothing past the blocks is touched): with `wide`, from
 * two lines before to three after, else the line before to the line after. Blocks take two
 * lines on average and the guess is off by up to a few lines: three lines around it held the
 * whole block in 63 % of xul-inl benchmark lookups, six in 98 %, and a line a single lookup
 * misses costs it a second memory latency. A batch, with several lookups' fetches in flight,
 * was 5 % faster with three lines each. */
static inline void prefetch_around(const struct sym_image *img, uint64_t at, bool wide)
{
    uint64_t before = wide ? 128 : 64, after = wide ? 192 : 64;
    for (uint64_t p = at >= before ? at - before : 0; p <= at + after && p < img->blocks_len;
         p += 64)
        __builtin_prefetch(img->blocks + p);
}

/* Starts fetching the block of the function that holds key, in the group g (first start s0)
 * that level 1 has named: the group's blocks lie between the block offsets of groups g and
 * g + 1, and the key's share of the group's address span points into them (format_int.h).
 * Three lines around that point held the block's start in 93-99 % of benchmark lookups
 * (six are fetched); the fetch then overlaps the read of the group line, and the
 * page-table walk is done once. A wrong offset only costs time. */
static inline void prefetch_block(const struct sym_image *img, const struct table *t, size_t g,
                                  uint64_t s0, uint64_t key)
{
    if (t->group_blocks == NULL || g + 1 >= t->level_n[0])
        return;
    bool wide = img->wide;
    uint64_t s1 = load_start(wide, t->level[0] + (g + 1) * (wide ? 8 : 4));
    uint32_t b0 = ld32(t->group_blocks + 4 * g), b1 = ld32(t->group_blocks + 4 * (g + 1));
    if (key < s0 || key >= s1 || b1 <= b0 || s1 - s0 > UINT32_MAX)
        return;
    uint64_t at = b0 + (key - s0) * (uint64_t)(b1 - b0) / (s1 - s0);
    prefetch_around(img, at, true);
}

/* Starts fetching the block of the function that holds key from the FUNC block hints
 * (format_int.h), before any table search; `wide` as for prefetch_around. */
static inline void prefetch_hinted_block(const struct sym_image *img, uint64_t key, bool wide)
{
    const struct table *t = &img->funcs;
    if (t->hints == NULL || key < t->hints_min)
        return;
    uint64_t d = key - t->hints_min, b = d >> t->hints_shift;
    if (b >= t->hints_n - 1) /* bind_buckets saw hints_n >= 1 */
        return;
    uint32_t lo = ld32(t->hints + 4 * b), hi = ld32(t->hints + 4 * (b + 1));
    if (hi < lo)
        return;
    prefetch_around(img, bucket_share(d, t->hints_shift, lo, hi), wide);
}

/* The function found for a key: k as upper_bound returns it and, when k > 0, the start and
 * block offset of function k - 1. */
struct func_pick {
    size_t k;
    uint64_t start;
    uint32_t block;
};

/* Finds key in the group line of group g (format_int.h), whose first function starts at s0 <=
 * key. False when the line is marked unusable or names functions past the table (corrupt). */
static inline bool search_group_line(const struct table *t, size_t g, uint64_t s0, uint64_t key,
                                     struct func_pick *pick)
{
    const uint8_t *line = t->group_lines + (size_t)g * IMG_GROUP_LINE;
    if (ld16(line) != 0)
        return false;
    uint64_t d = key - s0;
    uint32_t kd = d < IMG_GROUP_NONE - 1 ? (uint32_t)d : IMG_GROUP_NONE - 1;
    size_t c = 0;
#ifdef __SSE2__
    /* e <= kd exactly when the saturating e - kd is 0. */
    _Static_assert(IMG_FANOUT == 16, "two 8-lane compares");
    __m128i kv = _mm_set1_epi16((int16_t)(uint16_t)kd), z = _mm_setzero_si128();
    __m128i le0 = _mm_cmpeq_epi16(_mm_subs_epu16(_mm_loadu_si128((const void *)line), kv), z);
    __m128i le1 =
        _mm_cmpeq_epi16(_mm_subs_epu16(_mm_loadu_si128((const void *)(line + 16)), kv), z);
    c = pop16((unsigned)_mm_movemask_epi8(_mm_packs_epi16(le0, le1)));
#else
    for (size_t i = 0; i < IMG_FANOUT; i++)
        c += ld16(line + 2 * i) <= kd;
#endif
    size_t k = g * IMG_FANOUT + c;
    if (k > t->n)
        return false;
    pick->k = k;
    pick->start = s0 + ld16(line + 2 * (c - 1));
    pick->block = ld32(t->group_blocks + 4 * g) + ld16(line + 2 * (IMG_FANOUT + c - 1));
    return true;
}

/* The group line that the key's share of radix bucket b (first group lo < level_n[0]) names:
 * the key's own or the one before it (the bucket's first group starts at or below the
 * bucket). SIZE_MAX when the bucket's end entry is unusable (only in a corrupt image). */
static inline size_t radix_group_guess(const struct table *t, uint64_t key, uint64_t b, size_t lo)
{
    size_t hi = ld32(t->radix + 4 * (b + 1));
    if (hi < lo || hi > t->level_n[0])
        return SIZE_MAX;
    return (size_t)bucket_share(key - t->radix_min, t->radix_shift, lo, hi);
}

/* Through the radix: the answer of upper_bound, or SIZE_MAX when the radix window does not
 * hold it (format_int.h). With `pick` (a single lookup), also starts fetching the function's
 * block, and takes the function from the group line when there is one, filling *pick. */
static inline size_t radix_bound(const struct sym_image *img, const struct table *t, uint64_t key,
                                 struct func_pick *pick)
{
    if (key < t->radix_min)
        return SIZE_MAX;
    uint64_t b = (key - t->radix_min) >> t->radix_shift;
    if (b >= t->radix_n)
        b = t->radix_n - 1;
    bool wide = img->wide;
    size_t asz = wide ? 8 : 4, n1 = t->level_n[0], lo = ld32(t->radix + 4 * b);
    if (lo >= n1)
        return SIZE_MAX;
    if (pick != NULL && t->group_lines != NULL && b + 1 < t->radix_n) {
        /* Fetching the guessed group line and the next now takes the level-1 read off the
         * way to the line. */
        size_t g = radix_group_guess(t, key, b, lo);
        if (g != SIZE_MAX) {
            __builtin_prefetch(t->group_lines + g * IMG_GROUP_LINE);
            if (g + 1 < n1)
                __builtin_prefetch(t->group_lines + (g + 1) * IMG_GROUP_LINE);
        }
    }
    size_t width = n1 - lo < IMG_FANOUT ? n1 - lo : IMG_FANOUT;
    size_t c = count_le(wide, t->level[0] + lo * asz, asz, width, key);
    if (c == 0 || (c == width && lo + width < n1))
        return SIZE_MAX;
    size_t g = lo + c - 1;
    if (pick != NULL) {
        uint64_t s0 = load_start(wide, t->level[0] + g * asz);
        if (t->hints == NULL) /* else sym_image_lookup has fetched it from the hints */
            prefetch_block(img, t, g, s0, key);
        if (t->group_lines != NULL && search_group_line(t, g, s0, key, pick))
            return pick->k;
    }
    size_t first = g * IMG_FANOUT;
    if (first >= t->n)
        return SIZE_MAX; /* only in a corrupt image */
    width = t->n - first < IMG_FANOUT ? t->n - first : IMG_FANOUT;
    c = count_le(wide, t->starts + first * t->stride, t->stride, width, key);
    return c == 0 ? SIZE_MAX : first + c;
}

/* The number of starts <= key in table t (one past the last range that may contain key), 0 if
 * none. From the top index level down, each level narrows the search to a window of
 * IMG_FANOUT entries of the level below. The radix, when there is one, skips the upper levels.
 * With pick, the FUNC table's single lookup: see radix_bound; pick->k is set only when the
 * group line gave the answer. */
static size_t upper_bound_ex(const struct sym_image *img, const struct table *t, uint64_t key,
                             struct func_pick *pick)
{
    if (t->radix != NULL) {
        size_t k = radix_bound(img, t, key, pick);
        if (k != SIZE_MAX)
            return k;
    }
    bool wide = img->wide;
    size_t asz = wide ? 8 : 4;
    size_t first = 0; /* window start at the current level */
    for (int lv = t->n_levels - 1; lv >= -1; lv--) {
        const uint8_t *base = lv >= 0 ? t->level[lv] : t->starts;
        size_t n = lv >= 0 ? t->level_n[lv] : t->n;
        size_t stride = lv >= 0 ? asz : t->stride;
        size_t width = lv == t->n_levels - 1 ? n : IMG_FANOUT; /* the top level is one window */
        if (first >= n)
            return 0; /* only in a corrupt image: the levels disagree */
        if (width > n - first)
            width = n - first;
        size_t c = count_le(wide, base + first * stride, stride, width, key);
        if (c == 0)
            return 0;
        size_t sel = first + c - 1;
        if (lv < 0)
            return sel + 1;
        first = sel * IMG_FANOUT;
    }
    return 0;
}

static size_t upper_bound(const struct sym_image *img, const struct table *t, uint64_t key)
{
    return upper_bound_ex(img, t, key, NULL);
}

static inline uint64_t start_at(const struct sym_image *img, const struct table *t, size_t i)
{
    return load_start(img->wide, t->starts + i * t->stride);
}

/* ============================================================================================
 * Symbol lookup
 * ========================================================================================== */

static sym_err file_slice(const struct sym_image *img, uint64_t idx, struct sym_slice *out)
{
    if (idx >= img->n_files)
        return SYM_ECORRUPT;
    struct img_str s;
    memcpy(&s, img->files + idx * sizeof(s), sizeof(s));
    if (!str_ok(img, s))
        return SYM_ECORRUPT;
    *out = str_slice(img, s);
    return SYM_OK;
}

/* Where to decode in a range list for offset r. */
struct list_pos {
    struct cursor s;   /* at the first entry of the checkpoint group that may contain r */
    uint64_t count;    /* entries left in that group */
    uint64_t prev_end; /* decoder state at the group start */
};

/* Reads the header of the range list at c, moves c past the whole list and positions *pos for
 * offset r (pos->count is 0 for an empty list). */
static sym_err list_seek(struct cursor *c, uint64_t r, struct list_pos *pos)
{
    uint64_t n = cur_varint(c);
    pos->count = 0;
    pos->prev_end = 0;
    if (c->bad)
        return SYM_ECORRUPT;
    if (n == 0)
        return SYM_OK;
    uint64_t n_ck = cur_varint(c);
    if (c->bad || n_ck > (uint64_t)(c->end - c->p) / 8 || n_ck > n / IMG_LIST_CK)
        return SYM_ECORRUPT;
    const uint8_t *ck = c->p;
    c->p += 8 * n_ck;
    uint64_t bytes = cur_varint(c);
    if (c->bad || bytes > (uint64_t)(c->end - c->p))
        return SYM_ECORRUPT;
    pos->s = (struct cursor){c->p, c->p + bytes, false};
    c->p += bytes;
    size_t lo = 0, hi = (size_t)n_ck;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ld32(ck + 8 * mid) <= r)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t first = 0;
    if (lo > 0) {
        uint32_t off = ld32(ck + 8 * (lo - 1) + 4);
        if (off > bytes)
            return SYM_ECORRUPT;
        pos->s.p += off;
        first = (uint64_t)lo * IMG_LIST_CK;
        pos->prev_end = ld32(ck + 8 * (lo - 1));
    }
    pos->count = n_ck ? IMG_LIST_CK : n;
    if (pos->count > n - first)
        pos->count = n - first;
    return SYM_OK;
}

struct line_hit {
    bool found;
    uint64_t start; /* relative */
    uint32_t line;
    struct img_str file;
};

/* Finds the line record containing r (relative to the function start). */
static sym_err find_line(struct cursor *c, uint64_t r, struct line_hit *hit)
{
    struct list_pos pos;
    sym_err rc = list_seek(c, r, &pos);
    if (rc != SYM_OK)
        return rc;
    uint64_t prev_end = pos.prev_end;
    uint32_t prev_line = 0;
    struct img_str file = {0, 0};
    for (uint64_t i = 0; i < pos.count; i++) {
        uint64_t head = cur_varint(&pos.s);
        uint64_t start = prev_end + ((head & 2) ? cur_varint(&pos.s) : 0);
        uint32_t line = prev_line + (uint32_t)unzigzag(cur_varint(&pos.s));
        if (head & 1) {
            file.off = (uint32_t)cur_varint(&pos.s);
            file.len = (uint32_t)cur_varint(&pos.s);
        }
        if (pos.s.bad)
            return SYM_ECORRUPT;
        if (start > r)
            break;
        uint64_t size = head >> 2;
        if (r - start < size) {
            *hit = (struct line_hit){true, start, line, file};
            return SYM_OK;
        }
        prev_end = start + size;
        prev_line = line;
    }
    hit->found = false;
    return SYM_OK;
}

struct chain_ent {
    struct img_str origin, call_file;
    bool has_call_file; /* false: old-form INLINE, the call site file is the line record's */
    uint32_t call_line;
    uint64_t range_start;
};

/* Finds, depth by depth, the INLINE range containing r and stops at the first depth without
 * one. Returns the depth reached in *depth, at most SYM_MAX_INLINE_DEPTH + 1 (one more than
 * reported, so that the deepest reported frame can show the call site of the first one cut). */
static sym_err walk_inlines(struct cursor *c, uint64_t r, struct chain_ent *chain, size_t *depth)
{
    uint64_t n_depths = cur_varint(c);
    if (c->bad)
        return SYM_ECORRUPT;
    size_t d = 0;
    for (; d < n_depths && d <= SYM_MAX_INLINE_DEPTH; d++) {
        struct list_pos pos;
        sym_err rc = list_seek(c, r, &pos);
        if (rc != SYM_OK)
            return rc;
        uint64_t prev_end = pos.prev_end;
        bool hit = false;
        for (uint64_t i = 0; i < pos.count; i++) {
            uint64_t head = cur_varint(&pos.s);
            uint64_t start = prev_end + ((head & 1) ? cur_varint(&pos.s) : 0);
            struct chain_ent e;
            e.origin.off = (uint32_t)cur_varint(&pos.s);
            e.origin.len = (uint32_t)cur_varint(&pos.s);
            uint64_t cf = cur_varint(&pos.s);
            e.has_call_file = cf != 0;
            e.call_file.off = (uint32_t)(cf - e.has_call_file);
            e.call_file.len = e.has_call_file ? (uint32_t)cur_varint(&pos.s) : 0;
            e.call_line = (uint32_t)cur_varint(&pos.s);
            e.range_start = start;
            if (pos.s.bad)
                return SYM_ECORRUPT;
            if (start > r)
                break;
            uint64_t size = head >> 1;
            if (r - start < size) {
                chain[d] = e;
                hit = true;
                break;
            }
            prev_end = start + size;
        }
        if (!hit)
            break;
    }
    *depth = d;
    return SYM_OK;
}

/* A string reference read from a block; SYM_ECORRUPT when it points outside the strings. */
static inline sym_err ref_slice(const struct sym_image *img, struct img_str s,
                                struct sym_slice *out)
{
    if (!str_ok(img, s))
        return SYM_ECORRUPT;
    *out = str_slice(img, s);
    return SYM_OK;
}

/* The file of a call site: an old-form INLINE records none, and the frame shows the line
 * record's file, as Breakpad does. */
static sym_err call_file_slice(const struct sym_image *img, const struct chain_ent *e,
                               struct sym_slice line_file, struct sym_slice *out)
{
    if (!e->has_call_file) {
        *out = line_file;
        return SYM_OK;
    }
    return ref_slice(img, e->call_file, out);
}

/* The fixed fields at the start of a FUNC block; c is left on the line list. */
struct block_head {
    uint64_t size, hdr;
    struct img_str name;
};

static inline uint32_t block_at(const struct sym_image *img, const struct table *t, size_t i)
{
    return ld32(t->starts + i * t->stride + (img->wide ? 8 : 4));
}

static sym_err read_block_head(const struct sym_image *img, uint32_t block, struct cursor *c,
                               struct block_head *bh)
{
    if (block >= img->blocks_len)
        return SYM_ECORRUPT;
    *c = (struct cursor){img->blocks + block, img->blocks + img->blocks_len, false};
    bh->size = cur_varint(c);
    bh->name.off = (uint32_t)cur_varint(c);
    bh->name.len = (uint32_t)cur_varint(c);
    bh->hdr = cur_varint(c);
    return c->bad || !str_ok(img, bh->name) ? SYM_ECORRUPT : SYM_OK;
}

static sym_err func_hit(const struct sym_image *img, uint64_t fs, const struct block_head *bh,
                        struct cursor *c, uint64_t offset, struct sym_lookup *out)
{
    uint64_t r = offset - fs;
    struct line_hit lh = {false, 0, 0, {0, 0}};
    sym_err rc = find_line(c, r, &lh);
    if (rc != SYM_OK)
        return rc;
    out->found = true;
    out->has_size = true;
    out->is_multiple = bh->hdr & 1;
    out->function = str_slice(img, bh->name);
    out->function_start = fs;
    out->function_size = bh->size;
    out->param_size = (uint32_t)(bh->hdr >> 1);
    struct sym_slice line_file = {NULL, 0};
    if (lh.found) {
        rc = ref_slice(img, lh.file, &line_file);
        if (rc != SYM_OK)
            return rc;
        out->has_line = true;
        out->line_start = fs + lh.start;
    }
    uint32_t line_no = lh.found ? lh.line : 0;
    out->file = line_file;
    out->line = line_no;
    struct chain_ent chain[SYM_MAX_INLINE_DEPTH + 1];
    size_t depth;
    rc = walk_inlines(c, r, chain, &depth);
    if (rc != SYM_OK || depth == 0)
        return rc;
    /* The outer frame shows the outermost call site; frame k shows the call site of frame
     * k + 1; the innermost shows the line record. */
    rc = call_file_slice(img, &chain[0], line_file, &out->file);
    if (rc != SYM_OK)
        return rc;
    out->line = chain[0].call_line;
    size_t n = depth > SYM_MAX_INLINE_DEPTH ? SYM_MAX_INLINE_DEPTH : depth;
    for (size_t k = 0; k < n; k++) {
        struct sym_inline_frame *f = &out->inlines[n - 1 - k];
        rc = ref_slice(img, chain[k].origin, &f->function);
        if (rc != SYM_OK)
            return rc;
        f->function_start = fs + chain[k].range_start;
        if (k + 1 < depth) {
            rc = call_file_slice(img, &chain[k + 1], line_file, &f->file);
            if (rc != SYM_OK)
                return rc;
            f->line = chain[k + 1].call_line;
        } else {
            f->file = line_file;
            f->line = line_no;
        }
    }
    out->n_inlines = n;
    return SYM_OK;
}

/* The pick for k = upper_bound(funcs, offset), from the pairs. */
static inline struct func_pick pick_from_pairs(const struct sym_image *img, size_t k)
{
    struct func_pick p = {k, 0, 0};
    if (k > 0) {
        p.start = start_at(img, &img->funcs, k - 1);
        p.block = block_at(img, &img->funcs, k - 1);
    }
    return p;
}

/* The lookup proper, with the function already found. */
static sym_err lookup_at(const struct sym_image *img, uint64_t offset, struct func_pick pick,
                         struct sym_lookup *out)
{
    size_t k = pick.k;
    out->found = out->is_public = out->has_size = out->is_multiple = out->has_line = false;
    out->function = out->file = sym_slice_make(NULL, 0);
    out->function_start = out->function_size = out->line_start = 0;
    out->param_size = out->line = 0;
    out->n_inlines = 0;
    uint64_t fs = 0;
    if (k > 0) {
        fs = pick.start;
        struct cursor c;
        struct block_head bh;
        sym_err rc = read_block_head(img, pick.block, &c, &bh);
        if (rc != SYM_OK)
            return rc;
        if (offset - fs < bh.size)
            return func_hit(img, fs, &bh, &c, offset, out);
    }
    size_t q = upper_bound(img, &img->pubs, offset);
    if (q == 0)
        return SYM_OK;
    uint64_t ps = start_at(img, &img->pubs, q - 1);
    /* The PUBLIC extends only up to the next symbol: a FUNC starting between it and the offset
     * ends it. */
    if (k > 0 && fs >= ps)
        return SYM_OK;
    struct img_pub rec;
    memcpy(&rec, img->pubs.recs + (q - 1) * sizeof(rec), sizeof(rec));
    struct img_str name = {rec.name_off, rec.name_len};
    if (!str_ok(img, name))
        return SYM_ECORRUPT;
    out->found = true;
    out->is_public = true;
    out->is_multiple = (rec.flags & IMG_PUB_MULTIPLE) != 0;
    out->function = str_slice(img, name);
    out->function_start = ps;
    out->param_size = rec.param_size;
    return SYM_OK;
}

/* Finds the function for offset (from its group line, else the pairs) and looks it up. */
static inline sym_err find_and_look_up(const struct sym_image *img, uint64_t offset,
                                       struct sym_lookup *out)
{
    struct func_pick pick = {SIZE_MAX, 0, 0};
    size_t k = upper_bound_ex(img, &img->funcs, offset, &pick);
    if (pick.k != k)
        pick = pick_from_pairs(img, k);
    return lookup_at(img, offset, pick, out);
}

sym_err sym_image_lookup(const struct sym_image *img, uint64_t offset, struct sym_lookup *out)
{
    if (img == NULL || out == NULL)
        return SYM_EINVAL;
    /* A single lookup waits on its block: start fetching it from the key at once (the block
     * hints), and meanwhile find the function in the group line. (A batch starts such
     * fetches a few offsets ahead, sym_image_lookup_many.) */
    prefetch_hinted_block(img, offset, true);
    return find_and_look_up(img, offset, out);
}

/* How many offsets ahead of the one it looks up a batch starts fetching: four lookups' work
 * covers most of a memory latency; more outstanding fetches only queue behind each other
 * (2, 3, 4, 6, 8 and 16 measured on the benchmark files). */
#define LOOKUP_AHEAD 4

/* Starts fetching what the lookup of key will wait on: its block (from the hints) and its
 * group line (from the radix). */
static inline void prefetch_lookup(const struct sym_image *img, uint64_t key)
{
    prefetch_hinted_block(img, key, false);
    const struct table *t = &img->funcs;
    if (t->radix == NULL || t->group_lines == NULL || key < t->radix_min)
        return;
    uint64_t b = (key - t->radix_min) >> t->radix_shift;
    if (t->radix_n < 2 || b >= t->radix_n - 1)
        return;
    size_t lo = ld32(t->radix + 4 * b);
    if (lo >= t->level_n[0])
        return;
    size_t g = radix_group_guess(t, key, b, lo);
    if (g != SIZE_MAX)
        __builtin_prefetch(t->group_lines + g * IMG_GROUP_LINE);
}

sym_err sym_image_lookup_many(const struct sym_image *img, const uint64_t *offsets, size_t n,
                              struct sym_lookup *outs)
{
    if (img == NULL || (n > 0 && (offsets == NULL || outs == NULL)))
        return SYM_EINVAL;
    /* Pipelined: while offset i is looked up, the memory offset i + LOOKUP_AHEAD needs is on
     * its way, so the lookups' memory latencies overlap instead of adding up. */
    for (size_t i = 0; i < n && i < LOOKUP_AHEAD; i++)
        prefetch_lookup(img, offsets[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + LOOKUP_AHEAD < n)
            prefetch_lookup(img, offsets[i + LOOKUP_AHEAD]);
        sym_err rc = find_and_look_up(img, offsets[i], &outs[i]);
        if (rc != SYM_OK)
            return rc;
    }
    return SYM_OK;
}

/* ============================================================================================
 * Unwind rules
 * ========================================================================================== */

static sym_err rule_slice(const struct sym_image *img, uint64_t idx, struct sym_slice *out)
{
    if (idx >= img->n_rules)
        return SYM_ECORRUPT;
    struct img_str s;
    memcpy(&s, img->rules + idx * sizeof(s), sizeof(s));
    if (!str_ok(img, s))
        return SYM_ECORRUPT;
    *out = str_slice(img, s);
    return SYM_OK;
}

sym_err sym_image_cfi_rules(const struct sym_image *img, uint64_t offset, struct sym_buf *out)
{
    if (img == NULL || out == NULL)
        return SYM_EINVAL;
    size_t k = upper_bound(img, &img->cfis, offset);
    if (k == 0)
        return SYM_ENOTFOUND;
    uint64_t cs = start_at(img, &img->cfis, k - 1);
    struct img_cfi rec;
    memcpy(&rec, img->cfis.recs + (k - 1) * sizeof(rec), sizeof(rec));
    if (offset - cs >= rec.size)
        return SYM_ENOTFOUND;
    struct sym_slice rule;
    sym_err rc = rule_slice(img, rec.rule, &rule);
    if (rc != SYM_OK)
        return rc;
    if (rec.deltas >= img->deltas_len)
        return SYM_ECORRUPT;
    struct cursor c = {img->deltas + rec.deltas, img->deltas + img->deltas_len, false};
    uint64_t n = cur_varint(&c);
    if (c.bad || n > (uint64_t)(c.end - c.p) / 2)
        return SYM_ECORRUPT;
    sym_buf_append(out, rule.p, rule.n);
    uint64_t addr = cs;
    for (uint64_t i = 0; i < n; i++) {
        addr += cur_varint(&c);
        uint64_t idx = cur_varint(&c);
        if (c.bad)
            return SYM_ECORRUPT;
        if (addr > offset)
            break;
        rc = rule_slice(img, idx, &rule);
        if (rc != SYM_OK)
            return rc;
        sym_buf_append_char(out, ' ');
        sym_buf_append(out, rule.p, rule.n);
    }
    return sym_buf_err(out);
}

sym_err sym_image_win_frame(const struct sym_image *img, uint64_t offset, struct sym_win_frame *out)
{
    if (img == NULL || out == NULL)
        return SYM_EINVAL;
    for (int t = 0; t < 2; t++) {
        const struct table *tb = &img->win[t];
        size_t k = upper_bound(img, tb, offset);
        if (k == 0)
            continue;
        uint32_t idx = ld32(tb->recs + 4 * (k - 1));
        if (idx == IMG_NONE)
            continue;
        if (idx >= img->n_wins)
            return SYM_ECORRUPT;
        struct img_win w;
        memcpy(&w, img->wins + (size_t)idx * sizeof(w), sizeof(w));
        struct img_str prog = {w.prog_off, w.prog_len};
        if (!str_ok(img, prog))
            return SYM_ECORRUPT;
        out->type = w.flags & IMG_WIN_TYPE_MASK;
        out->rva = (uint64_t)w.rva_hi << 32 | w.rva_lo;
        out->code_size = w.code_size;
        out->prolog_size = w.prolog;
        out->epilog_size = w.epilog;
        out->parameter_size = w.params;
        out->saved_register_size = w.saved_regs;
        out->local_size = w.locals;
        out->max_stack_size = w.max_stack;
        out->has_program = (w.flags & IMG_WIN_HAS_PROGRAM) != 0;
        out->allocates_base_pointer = (w.flags & IMG_WIN_ALLOCS_BP) != 0;
        out->program = out->has_program ? str_slice(img, prog) : sym_slice_make(NULL, 0);
        return SYM_OK;
    }
    return SYM_ENOTFOUND;
}

/* ============================================================================================
 * Enumeration
 * ========================================================================================== */

sym_err sym_image_func_at(const struct sym_image *img, size_t i, struct sym_func_info *out)
{
    if (img == NULL || out == NULL || i >= img->funcs.n)
        return SYM_EINVAL;
    struct cursor c;
    struct block_head bh;
    sym_err rc = read_block_head(img, block_at(img, &img->funcs, i), &c, &bh);
    if (rc != SYM_OK)
        return rc;
    uint64_t n_lines = cur_varint(&c);
    if (c.bad)
        return SYM_ECORRUPT;
    out->start = start_at(img, &img->funcs, i);
    out->size = bh.size;
    out->param_size = (uint32_t)(bh.hdr >> 1);
    out->is_multiple = bh.hdr & 1;
    out->name = str_slice(img, bh.name);
    out->n_lines = n_lines;
    return SYM_OK;
}

sym_err sym_image_public_at(const struct sym_image *img, size_t i, struct sym_public_info *out)
{
    if (img == NULL || out == NULL || i >= img->pubs.n)
        return SYM_EINVAL;
    struct img_pub rec;
    memcpy(&rec, img->pubs.recs + i * sizeof(rec), sizeof(rec));
    struct img_str name = {rec.name_off, rec.name_len};
    if (!str_ok(img, name))
        return SYM_ECORRUPT;
    out->address = start_at(img, &img->pubs, i);
    out->param_size = rec.param_size;
    out->is_multiple = (rec.flags & IMG_PUB_MULTIPLE) != 0;
    out->name = str_slice(img, name);
    return SYM_OK;
}

sym_err sym_image_file_at(const struct sym_image *img, size_t i, struct sym_slice *out)
{
    if (img == NULL || out == NULL || i >= img->n_files)
        return SYM_EINVAL;
    return file_slice(img, i, out);
}
