/* SPDX-License-Identifier: MPL-2.0 */
/* test_image.c: opening symcache images: header and section validation, unaligned buffers,
 * files (mmap), batch lookups, and robustness: truncated and bit-flipped images must give
 * SYM_ECORRUPT or some answer, never a crash or an out-of-bounds read (run under ASan). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "format_int.h"
#include "sym/alloc.h"
#include "symtest.h"
#include "util_int.h"

static const char fixture[] =
    "MODULE Linux x86_64 D48F191186D67E69DF025AD71FB91E1F0 testproj\n"
    "INFO CODE_ID 80AE0509E7CE335AE3CAB61C274274DE96049B64\n"
    "FILE 0 /src/main.rs\nFILE 1 /src/helper.rs\n"
    "INLINE_ORIGIN 0 helper::middle\nINLINE_ORIGIN 1 helper::inner\n"
    "FUNC 7a40 85 0 testproj::main\n"
    "INLINE 0 4 0 0 7a40 7d\n"
    "INLINE 1 2 1 1 7a40 49\n"
    "7a40 7 3 0\n7a47 33 392 1\n7a7a f 7 1\n7a89 31 392 1\n7aba 3 3 1\n7abd 8 5 0\n"
    "FUNC 8000 400 8 long_function\n"
    "PUBLIC 9000 4 a_public\n"
    "STACK CFI INIT 7a40 85 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
    "STACK CFI 7a41 .cfa: $rsp 16 + $rbp: .cfa -16 + ^\n"
    "STACK WIN 4 8000 400 0 0 8 0 0 0 1 $eip 4 + ^ =\n"
    "STACK WIN 0 8100 10 0 0 0 0 0 0 0 1\n";

/* A function with many lines, so that line checkpoints exist. */
static char *long_fixture(size_t *len)
{
    size_t cap = 1 << 16;
    char *t = malloc(cap);
    int n = snprintf(t, cap, "%sFUNC 10000 1000 0 many_lines\n", fixture);
    for (int i = 0; i < 200; i++)
        n += snprintf(t + n, cap - (size_t)n, "%x %x %d %d\n", 0x10000 + 16 * i, 12, 1000 + i,
                      i % 2);
    *len = (size_t)n;
    return t;
}

static void test_open_validation(void)
{
    struct st_image s;
    st_build(&s, fixture);
    struct sym_image *img;
    struct sym_diag d;
    T_ASSERT_ERR(sym_image_open(NULL, 0, &img, &d), SYM_EINVAL);
    T_ASSERT_ERR(sym_image_open(s.buf.data, 10, &img, &d), SYM_ECORRUPT);
    T_ASSERT_ERR(sym_image_open(s.buf.data, s.buf.len - 1, &img, &d), SYM_ECORRUPT);
    T_ASSERT(strstr(d.msg, "truncated") != NULL);
    char *copy = malloc(s.buf.len + 8);
    memcpy(copy, s.buf.data, s.buf.len);
    copy[0] ^= 1;
    T_ASSERT_ERR(sym_image_open(copy, s.buf.len, &img, &d), SYM_ECORRUPT);
    T_ASSERT(strstr(d.msg, "magic") != NULL);
    copy[0] ^= 1;
    /* The version follows the 8-byte magic. */
    uint32_t v = SYM_IMAGE_VERSION + 1;
    memcpy(copy + 8, &v, 4);
    T_ASSERT_ERR(sym_image_open(copy, s.buf.len, &img, &d), SYM_ECORRUPT);
    T_ASSERT(strstr(d.msg, "version") != NULL);
    v = SYM_IMAGE_VERSION;
    memcpy(copy + 8, &v, 4);
    /* Unaligned storage (an LMDB value may sit at any address). */
    memmove(copy + 1, copy, s.buf.len);
    T_ASSERT_OK(sym_image_open(copy + 1, s.buf.len, &img, &d));
    struct sym_lookup l;
    T_ASSERT_OK(sym_image_lookup(img, 0x7a7a, &l));
    T_ASSERT_STR_EQ(st_str(l.function), "testproj::main");
    T_ASSERT_EQ(l.n_inlines, 2);
    size_t len;
    T_ASSERT(sym_image_data(img, &len) == copy + 1 && len == s.buf.len);
    sym_image_close(img);
    sym_image_close(NULL);
    free(copy);
    st_free(&s);
}

static void test_open_file(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/x.symc", t_tmpdir());
    struct sym_image *img;
    struct sym_diag d;
    T_ASSERT_ERR(sym_image_open_file(path, &img, &d), SYM_ENOTFOUND);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    T_ASSERT(fd >= 0);
    close(fd);
    T_ASSERT_ERR(sym_image_open_file(path, &img, &d), SYM_ECORRUPT);
    struct st_image s;
    st_build(&s, fixture);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    T_ASSERT(write(fd, s.buf.data, s.buf.len) == (ssize_t)s.buf.len);
    close(fd);
    T_ASSERT_OK(sym_image_open_file(path, &img, &d));
    struct sym_lookup l;
    T_ASSERT_OK(sym_image_lookup(img, 0x9010, &l));
    T_ASSERT_STR_EQ(st_str(l.function), "a_public");
    sym_image_close(img);
    unlink(path);
    st_free(&s);
}

/* sym_convert_file streams a .sym file into an image file; the result is what an in-memory
 * parse gives. */
static void test_convert_file(void)
{
    const char *dir = t_tmpdir();
    char in[512], out[512];
    snprintf(in, sizeof(in), "%s/in.sym", dir);
    snprintf(out, sizeof(out), "%s/out.symc", dir);
    size_t len;
    char *text = long_fixture(&len);
    int fd = open(in, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    T_ASSERT(write(fd, text, len) == (ssize_t)len);
    close(fd);
    struct sym_parse_stats st;
    struct sym_diag d;
    T_ASSERT_OK(sym_convert_file(in, out, NULL, &st, &d));
    struct st_image s;
    st_build_n(&s, text, len);
    T_ASSERT_U64_EQ(st.image_bytes, s.buf.len);
    size_t olen;
    char *img_bytes = t_read_file(out, &olen);
    T_ASSERT_EQ(olen, s.buf.len);
    T_ASSERT_MEM_EQ(img_bytes, s.buf.data, olen);
    free(img_bytes);
    char missing[512];
    snprintf(missing, sizeof(missing), "%s/missing.sym", dir);
    T_ASSERT_ERR(sym_convert_file(missing, out, NULL, NULL, &d), SYM_ENOTFOUND);
    /* A failed conversion leaves no output or temporary file behind. */
    fd = open(in, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    T_ASSERT(write(fd, "junk junk\n", 10) == 10);
    close(fd);
    unlink(out);
    T_ASSERT_ERR(sym_convert_file(in, out, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT(access(out, F_OK) != 0);
    unlink(in);
    rmdir(dir);
    free(text);
    st_free(&s);
}

/* sym_convert_file under allocation failures: SYM_ENOMEM, no leak, no file left behind. */
static void test_convert_allocation_failures(void)
{
    const char *dir = t_tmpdir();
    char in[512], out[512];
    snprintf(in, sizeof(in), "%s/in.sym", dir);
    snprintf(out, sizeof(out), "%s/out.symc", dir);
    int fd = open(in, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    T_ASSERT(write(fd, fixture, sizeof(fixture) - 1) == (ssize_t)(sizeof(fixture) - 1));
    close(fd);
    for (unsigned long k = 1;; k++) {
        sym_alloc_fail_at(k);
        sym_err rc = sym_convert_file(in, out, NULL, NULL, NULL);
        unsigned long used = sym_alloc_count();
        sym_alloc_fail_at(0);
        if (k > used) {
            T_ASSERT_OK(rc);
            break;
        }
        T_ASSERT_ERR(rc, SYM_ENOMEM);
        T_ASSERT(access(out, F_OK) != 0);
        DIR *dh = opendir(dir);
        int files = 0;
        for (struct dirent *e; (e = readdir(dh)) != NULL;)
            files += e->d_name[0] != '.';
        closedir(dh);
        T_ASSERT_EQ(files, 1); /* only the input: no temporary left */
    }
    unlink(out);
    unlink(in);
    rmdir(dir);
}

static void test_lookup_many(void)
{
    size_t len;
    char *text = long_fixture(&len);
    struct st_image s;
    st_build_n(&s, text, len);
    enum { N = 600 };
    uint64_t offs[N];
    for (int i = 0; i < N; i++)
        offs[i] = (uint64_t)(i * 7919) % 0x11000 + (i % 3 ? 0x7a00 : 0);
    struct sym_lookup *many = calloc(N, sizeof(*many));
    T_ASSERT_OK(sym_image_lookup_many(s.img, offs, N, many));
    for (int i = 0; i < N; i++)
        st_same_lookup(st_lookup(&s, offs[i]), &many[i]);
    T_ASSERT_OK(sym_image_lookup_many(s.img, NULL, 0, NULL));
    T_ASSERT_ERR(sym_image_lookup_many(s.img, NULL, 1, many), SYM_EINVAL);
    /* Lines past a checkpoint. */
    ST_ASSERT_SYM(&s, 0x10000 + 16 * 151 + 3, "many_lines", "/src/helper.rs", 1151);
    ST_ASSERT_SYM(&s, 0x10000 + 16 * 199, "many_lines", "/src/helper.rs", 1199);
    ST_ASSERT_SYM(&s, 0x10000 + 16 * 64, "many_lines", "/src/main.rs", 1064);
    ST_ASSERT_SYM(&s, 0x10000 + 16 * 64 + 12, "many_lines", "", 0);
    free(many);
    free(text);
    st_free(&s);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* Runs every query on an image that opened; any error must be SYM_ECORRUPT or a not-found. */
static void query_everything(const struct sym_image *img)
{
    static const uint64_t offs[] = {0,      0x7a40,  0x7a41,  0x7a7a,  0x7abd,
                                    0x7ac4, 0x8000,  0x8100,  0x83ff,  0x9000,
                                    0x9100, 0x10000, 0x10c83, 0x11000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        struct sym_lookup l;
        sym_err rc = sym_image_lookup(img, offs[i], &l);
        T_ASSERT(rc == SYM_OK || rc == SYM_ECORRUPT);
        if (rc == SYM_OK && l.found) {
            volatile char sink = 0;
            for (size_t k = 0; k < l.function.n; k++)
                sink ^= l.function.p[k];
            for (size_t k = 0; k < l.file.n; k++)
                sink ^= l.file.p[k];
            for (size_t j = 0; j < l.n_inlines; j++)
                for (size_t k = 0; k < l.inlines[j].function.n; k++)
                    sink ^= l.inlines[j].function.p[k];
            (void)sink;
        }
        struct sym_buf b;
        sym_buf_init(&b, 1 << 20);
        rc = sym_image_cfi_rules(img, offs[i], &b);
        T_ASSERT(rc == SYM_OK || rc == SYM_ENOTFOUND || rc == SYM_ECORRUPT);
        sym_buf_cleanup(&b);
        struct sym_win_frame w;
        rc = sym_image_win_frame(img, offs[i], &w);
        T_ASSERT(rc == SYM_OK || rc == SYM_ENOTFOUND || rc == SYM_ECORRUPT);
    }
    struct sym_image_info info;
    sym_image_info(img, &info);
    for (size_t i = 0; i < 8; i++) {
        struct sym_func_info f;
        struct sym_public_info p;
        struct sym_slice sl;
        sym_err rc = sym_image_func_at(img, i, &f);
        T_ASSERT(rc == SYM_OK || rc == SYM_EINVAL || rc == SYM_ECORRUPT);
        rc = sym_image_public_at(img, i, &p);
        T_ASSERT(rc == SYM_OK || rc == SYM_EINVAL || rc == SYM_ECORRUPT);
        rc = sym_image_file_at(img, i, &sl);
        T_ASSERT(rc == SYM_OK || rc == SYM_EINVAL || rc == SYM_ECORRUPT);
    }
    struct sym_module_info m;
    sym_image_module(img, &m);
}

/* Truncations and random corruption never crash. Each case runs on an exactly-sized heap copy
 * so that ASan catches any read past the end. */
static void test_corruption(void)
{
    size_t len;
    char *text = long_fixture(&len);
    struct st_image s;
    st_build_n(&s, text, len);
    free(text);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int opened = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = s.buf.len;
        char *copy = malloc(n);
        memcpy(copy, s.buf.data, n);
        int flips = 1 + (int)(rng_next(&seed) % 8);
        /* A third of the rounds corrupt only the header and section table (where offsets
         * live), the others only the record data (which opening does not look at). */
        bool header = round % 3 == 0;
        size_t hdr = 1024 < n ? 1024 : n;
        for (int f = 0; f < flips; f++) {
            size_t at = header ? (size_t)(rng_next(&seed) % hdr)
                               : hdr + (size_t)(rng_next(&seed) % (n - hdr));
            copy[at] = (char)rng_next(&seed);
        }
        struct sym_image *img;
        if (sym_image_open(copy, n, &img, NULL) == SYM_OK) {
            opened++;
            query_everything(img);
            sym_image_close(img);
        }
        free(copy);
    }
    /* Most data-section corruptions still open (no per-record validation at open). */
    T_ASSERT(opened > 1500);
    for (size_t cut = 0; cut < s.buf.len; cut += 1 + cut / 8) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, s.buf.data, cut);
        struct sym_image *img;
        T_ASSERT_ERR(sym_image_open(copy, cut, &img, NULL), SYM_ECORRUPT);
        free(copy);
    }
    st_free(&s);
}

/* Functions with gaps of up to 5,000 bytes, and a few of 128 KiB: the groups of IMG_FANOUT
 * across those span more than a group line can say (format_int.h) and are searched in the
 * pairs. */
struct gappy {
    struct sym_buf text;
    struct st_image s;
    uint64_t end;        /* past the last function */
    struct img_header h; /* the image's header, for its section table */
    const uint8_t *base; /* the image bytes */
};

static void build_gappy(struct gappy *g)
{
    struct sym_buf *text = &g->text;
    sym_buf_init(text, 0);
    uint64_t seed = 42, addr = 0x10000;
    sym_buf_printf(text, "FILE 0 a.c\n");
    for (int i = 0; i < 5000; i++) {
        uint64_t size = 1 + rng_next(&seed) % 300;
        sym_buf_printf(text, "FUNC %llx %llx 0 f%d\n%llx %llx %d 0\n", (unsigned long long)addr,
                       (unsigned long long)size, i, (unsigned long long)addr,
                       (unsigned long long)size, i + 1);
        addr += size + (rng_next(&seed) % 4 == 0 ? rng_next(&seed) % 5000 : 0);
        if (i % 700 == 350)
            addr += 0x20000;
    }
    g->end = addr;
    st_build_n(&g->s, text->data, text->len);
    memcpy(&g->h, g->s.buf.data, sizeof(g->h));
    g->base = (const uint8_t *)g->s.buf.data;
}

static void free_gappy(struct gappy *g)
{
    st_free(&g->s);
    sym_buf_cleanup(&g->text);
}

/* The group lines agree with the pairs, and groups that do not fit are marked. */
static void test_group_lines(void)
{
    struct gappy gp;
    build_gappy(&gp);
    const struct img_sect_ent *g = &gp.h.sect[IMG_S_FUNC_GROUPS],
                              *gl = &gp.h.sect[IMG_S_FUNC_GROUP_LINES];
    size_t n_groups = (5000 + IMG_FANOUT - 1) / IMG_FANOUT, marked = 0;
    T_ASSERT_U64_EQ(g->size, n_groups * 4);
    T_ASSERT_U64_EQ(gl->size, n_groups * IMG_GROUP_LINE);
    T_ASSERT_U64_EQ(gl->off % IMG_GROUP_LINE, 0);
    for (size_t i = 0; i < n_groups; i++) {
        uint32_t b0, pair[2];
        memcpy(&b0, gp.base + g->off + 4 * i, 4);
        uint16_t line[2 * IMG_FANOUT];
        memcpy(line, gp.base + gl->off + IMG_GROUP_LINE * i, sizeof(line));
        uint32_t s0 = 0;
        for (size_t j = 0; j < IMG_FANOUT; j++) {
            size_t f = i * IMG_FANOUT + j;
            if (f >= 5000) {
                T_ASSERT_EQ(line[j], IMG_GROUP_NONE);
                continue;
            }
            memcpy(pair, gp.base + gp.h.sect[IMG_S_FUNC_TABLE].off + 8 * f, 8);
            if (j == 0) {
                T_ASSERT_EQ(b0, pair[1]);
                s0 = pair[0];
                if (line[0] == IMG_GROUP_NONE) {
                    marked++;
                    break;
                }
            }
            T_ASSERT_EQ(line[j], pair[0] - s0);
            T_ASSERT_EQ(line[IMG_FANOUT + j], pair[1] - b0);
        }
    }
    T_ASSERT(marked > 0 && marked < n_groups / 2);
    /* Every lookup through the lines equals the batch lookup, which reads the pairs. */
    uint64_t seed = 7;
    for (uint64_t off = 0xff00; off < gp.end + 10; off += 1 + rng_next(&seed) % 37) {
        struct sym_lookup one, many;
        T_ASSERT_OK(sym_image_lookup(gp.s.img, off, &one));
        T_ASSERT_OK(sym_image_lookup_many(gp.s.img, &off, 1, &many));
        T_ASSERT_EQ(one.found, many.found);
        T_ASSERT_U64_EQ(one.function_start, many.function_start);
        T_ASSERT(sym_slice_eq(one.function, many.function));
        T_ASSERT_EQ(one.line, many.line);
    }
    free_gappy(&gp);
}

/* The FUNC block hints name, per bucket, the block of the function holding the bucket's first
 * address (format_int.h), checked against the pairs. */
static void test_block_hints(void)
{
    struct gappy gp;
    build_gappy(&gp);
    const struct img_sect_ent *e = &gp.h.sect[IMG_S_FUNC_HINTS];
    struct img_radix rh;
    T_ASSERT(e->size > sizeof(rh));
    memcpy(&rh, gp.base + e->off, sizeof(rh));
    T_ASSERT_U64_EQ(e->size, sizeof(rh) + (uint64_t)rh.n * 4);
    /* 5,000 functions: 256 buckets at most (a power of two over 5,000 / 32), at least half. */
    T_ASSERT(rh.n >= 128 && rh.n <= 257);
    uint32_t first[2], last[2];
    memcpy(first, gp.base + gp.h.sect[IMG_S_FUNC_TABLE].off, 8);
    memcpy(last, gp.base + gp.h.sect[IMG_S_FUNC_TABLE].off + 8 * 4999, 8);
    T_ASSERT_U64_EQ(rh.min, first[0]);
    T_ASSERT(((last[0] - rh.min) >> rh.shift) + 2 == rh.n);
    size_t f = 0;
    for (uint32_t b = 0; b < rh.n; b++) {
        uint64_t at = rh.min + ((uint64_t)b << rh.shift);
        uint32_t pair[2], entry;
        while (f + 1 < 5000) {
            memcpy(pair, gp.base + gp.h.sect[IMG_S_FUNC_TABLE].off + 8 * (f + 1), 8);
            if (pair[0] > at)
                break;
            f++;
        }
        memcpy(pair, gp.base + gp.h.sect[IMG_S_FUNC_TABLE].off + 8 * f, 8);
        memcpy(&entry, gp.base + e->off + sizeof(rh) + 4 * b, 4);
        T_ASSERT_EQ(entry, pair[1]);
    }
    T_ASSERT_EQ(f, 4999);
    free_gappy(&gp);
}

/* The FUNC radix only shortens the index descent and the block hints only start a fetch:
 * whatever their entries say, every lookup gives the answer of the full descent
 * (format_int.h). Corrupt group offsets or lines may give a wrong function, as corrupt pairs
 * may, but every lookup stays inside the image (the fuzz target and test_corruption check that
 * under ASan). */
static void test_index_hints_cannot_mislead(void)
{
    uint64_t seed = 43;
    struct gappy gp;
    build_gappy(&gp);
    static const int sects[4] = {IMG_S_FUNC_RADIX, IMG_S_FUNC_GROUPS, IMG_S_FUNC_GROUP_LINES,
                                 IMG_S_FUNC_HINTS};
    static const size_t skip[4] = {sizeof(struct img_radix), 0, 0, sizeof(struct img_radix)};
    static const bool exact[4] = {true, false, false, true};
    char *copy = malloc(gp.s.buf.len);
    for (int t = 0; t < 4; t++) {
        const struct img_sect_ent *e = &gp.h.sect[sects[t]];
        T_ASSERT(e->size > skip[t]);
        size_t n_entries = (size_t)((e->size - skip[t]) / 4);
        for (int pattern = 0; pattern < 5; pattern++) {
            memcpy(copy, gp.s.buf.data, gp.s.buf.len);
            uint8_t *entries = (uint8_t *)copy + e->off + skip[t];
            for (size_t i = 0; i < n_entries; i++) {
                uint32_t v = pattern == 0   ? 0
                             : pattern == 1 ? UINT32_MAX
                             : pattern == 2 ? (uint32_t)(rng_next(&seed) % 400)
                             : pattern == 3 ? (uint32_t)(n_entries - 1 - i)
                                            : (uint32_t)i + 1;
                memcpy(entries + 4 * i, &v, 4);
            }
            struct sym_image *img;
            T_ASSERT_OK(sym_image_open(copy, gp.s.buf.len, &img, NULL));
            for (uint64_t off = 0xff00; off < gp.end + 10; off += 1 + rng_next(&seed) % 97) {
                struct sym_lookup want, got;
                T_ASSERT_OK(sym_image_lookup(gp.s.img, off, &want));
                sym_err rc = sym_image_lookup(img, off, &got);
                if (!exact[t]) {
                    T_ASSERT(rc == SYM_OK || rc == SYM_ECORRUPT);
                    continue;
                }
                T_ASSERT_OK(rc);
                T_ASSERT_EQ(want.found, got.found);
                T_ASSERT_U64_EQ(want.function_start, got.function_start);
                T_ASSERT(sym_slice_eq(want.function, got.function));
                T_ASSERT_EQ(want.line, got.line);
            }
            sym_image_close(img);
        }
    }
    /* Bucket headers that make a key's bucket wrap or fall outside the table, with keys at
     * both ends of the address space. */
    static const struct {
        uint64_t min;
        uint32_t shift;
    } heads[4] = {{0, 0}, {0x10000, 0}, {UINT64_MAX, 63}, {1, 63}};
    static const uint64_t keys[5] = {0, 1, 0x10400, UINT64_MAX - 1, UINT64_MAX};
    for (int t = 0; t < 4; t += 3) {
        const struct img_sect_ent *e = &gp.h.sect[sects[t]];
        for (int k = 0; k < 4; k++) {
            memcpy(copy, gp.s.buf.data, gp.s.buf.len);
            struct img_radix rh;
            memcpy(&rh, copy + e->off, sizeof(rh));
            rh.min = heads[k].min;
            rh.shift = heads[k].shift;
            memcpy(copy + e->off, &rh, sizeof(rh));
            struct sym_image *img;
            T_ASSERT_OK(sym_image_open(copy, gp.s.buf.len, &img, NULL));
            for (int i = 0; i < 5; i++) {
                struct sym_lookup want, got;
                T_ASSERT_OK(sym_image_lookup(gp.s.img, keys[i], &want));
                T_ASSERT_OK(sym_image_lookup(img, keys[i], &got));
                T_ASSERT_EQ(want.found, got.found);
                T_ASSERT_U64_EQ(want.function_start, got.function_start);
            }
            sym_image_close(img);
        }
    }
    free(copy);
    free_gappy(&gp);
}

/* The image reader's varints: every length from 1 to 10 bytes, with the 8-byte-load path
 * (room after the varint) and without it (the varint ends the buffer), truncated and over-long
 * ones. */
static void test_varints(void)
{
    uint8_t buf[32];
    for (unsigned bits = 0; bits <= 64; bits++) {
        for (int form = 0; form < 3; form++) {
            uint64_t v = bits == 0 ? 0 : bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
            if (form == 1 && bits > 0)
                v = UINT64_C(1) << (bits - 1); /* only the top bit of the length */
            if (form == 2)
                v ^= UINT64_C(0x5555555555555555) & (bits == 64 ? UINT64_MAX : v);
            memset(buf, 0xee, sizeof(buf));
            size_t n = varint_put(buf, v);
            for (size_t room = 0; room <= 8; room += 8) {
                struct cursor c = {buf, buf + n + room, false};
                T_ASSERT_EQ(cur_varint(&c), v);
                T_ASSERT(!c.bad);
                T_ASSERT(c.p == buf + n);
            }
            if (n > 1) { /* cut before its last byte */
                struct cursor c = {buf, buf + n - 1, false};
                T_ASSERT_EQ(cur_varint(&c), 0);
                T_ASSERT(c.bad);
            }
        }
    }
    /* Eleven continuation bytes: over-long, with or without room to read 8 bytes at once. */
    memset(buf, 0x80, sizeof(buf));
    for (size_t len = 10; len <= sizeof(buf); len += sizeof(buf) - 10) {
        struct cursor c = {buf, buf + len, false};
        T_ASSERT_EQ(cur_varint(&c), 0);
        T_ASSERT(c.bad);
        T_ASSERT(c.p == c.end);
    }
}

T_LIST(T_TEST(test_varints), T_TEST(test_open_validation), T_TEST(test_open_file),
       T_TEST(test_convert_file), T_TEST(test_convert_allocation_failures),
       T_TEST(test_lookup_many), T_TEST(test_corruption), T_TEST(test_group_lines),
       T_TEST(test_block_hints), T_TEST(test_index_hints_cannot_mislead))
