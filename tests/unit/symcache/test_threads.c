/* SPDX-License-Identifier: MPL-2.0 */
/* test_threads.c: the parser's two-thread mode (a tokenizing thread ahead of the builder) gives
 * the same image, statistics and errors as the one-thread mode, for well-formed, malformed and
 * rejected inputs, however the input is cut into chunks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symtest.h"

struct text {
    char *p;
    size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        T_ASSERT(t->p != NULL);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void putf(struct text *t, const char *fmt, ...) SYM_PRINTF(2, 3);

static void putf(struct text *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    T_ASSERT(n >= 0 && (size_t)n < sizeof(line));
    put(t, line, (size_t)n);
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A module with every record type, some records out of order, duplicates and overlaps, and
 * (when messy) malformed lines, NUL bytes, CRLF endings, unknown records and an overlong line. */
static void generate(struct text *t, uint64_t seed, unsigned n_funcs, bool messy)
{
    uint64_t s = seed | 1;
    putf(t, "MODULE windows x86 %016llX%016llX1 test.pdb\r\n", (unsigned long long)seed,
         (unsigned long long)~seed);
    putf(t, "INFO CODE_ID 5F1E2D3C4000 test.dll\n");
    putf(t, "INFO GENERATOR generator 1.0\n");
    for (unsigned f = 0; f < 40; f++)
        putf(t, "FILE %u c:\\src\\dir%u\\file%u.cpp\n", f, f % 3, f);
    for (unsigned o = 0; o < 30; o++)
        putf(t, o % 2 ? "INLINE_ORIGIN %u inlined_%u()\n" : "INLINE_ORIGIN %u -1 old_%u()\n", o, o);
    uint64_t addr = 0x1000;
    for (unsigned i = 0; i < n_funcs; i++) {
        uint64_t size = 0x20 + next(&s) % 0x100;
        putf(t, "FUNC %s%llx %llx %x ns::f%u(int)\n", next(&s) % 50 == 0 ? "m " : "",
             (unsigned long long)addr, (unsigned long long)size, (unsigned)(next(&s) % 16), i);
        if (next(&s) % 3 == 0)
            putf(t, "INLINE 0 %u %u %u %llx %llx\n", (unsigned)(next(&s) % 90),
                 (unsigned)(next(&s) % 45), (unsigned)(next(&s) % 32), (unsigned long long)addr,
                 (unsigned long long)(size / 2));
        if (next(&s) % 5 == 0)
            putf(t, "INLINE 1 %u %u %llx %llx %llx 4\n", (unsigned)(next(&s) % 90),
                 (unsigned)(next(&s) % 32), (unsigned long long)addr + 2, 4ull,
                 (unsigned long long)addr + 12);
        for (uint64_t off = 0; off < size; off += 0x10)
            putf(t, "%llx %llx %u %u\n", (unsigned long long)(addr + off),
                 (unsigned long long)(off + 0x10 <= size ? 0x10 : size - off),
                 (unsigned)(i * 3 + off), (unsigned)(next(&s) % 45));
        if (messy) {
            switch (next(&s) % 40) {
            case 0:
                putf(t, "FUNC zz 10 0 bad\n");
                break;
            case 1:
                putf(t, "%llx 10 oops 1\r\n", (unsigned long long)addr);
                break;
            case 2:
                putf(t, "FRAME_DATA unknown record\n");
                break;
            case 3:
                put(t, "PUBLIC 10 0 nul\0name\n", 21);
                break;
            case 4:
                putf(t, "\n\r\n\n");
                break;
            case 5:
                putf(t, "STACK CFI %llx\n", (unsigned long long)addr);
                break;
            case 6:
                putf(t, "FILE 99 late_file.cpp\n");
                break;
            case 7:
                putf(t, "FUNC %llx 8 0 ", (unsigned long long)addr + 1);
                put(t, "nul\0func\n", 9);
                break;
            case 8:
                putf(t, "PUBLIC %llx 0 p\n%llx 4 1 1\n", (unsigned long long)addr,
                     (unsigned long long)addr);
                break;
            default:
                break;
            }
        }
        if (next(&s) % 7 == 0)
            addr += size + next(&s) % 64; /* a gap */
        else if (next(&s) % 23 == 0)
            addr += size / 2; /* an overlap */
        else
            addr += size;
    }
    for (unsigned i = 0; i < n_funcs / 10 + 1; i++)
        putf(t, "PUBLIC %s%llx %x public_%u\n", i % 7 ? "" : "m ",
             (unsigned long long)(0x800 + 0x40 * i), i % 3, i);
    for (uint64_t a = 0x1000; a < addr; a += 0x80) {
        putf(t, "STACK CFI INIT %llx 80 .cfa: $esp 4 + .ra: .cfa 4 - ^\n", (unsigned long long)a);
        putf(t, "STACK CFI %llx .cfa: $esp %u +\n", (unsigned long long)a + 1,
             (unsigned)(next(&s) % 5) * 4);
        if (next(&s) % 4 == 0)
            putf(t, "STACK WIN 4 %llx 40 4 0 8 0 10 0 1 $T0 $ebp = $eip $T0 4 + ^ =\n",
                 (unsigned long long)a);
        if (next(&s) % 9 == 0)
            putf(t, "STACK WIN 0 %llx 20 3 0 4 0 0 0 0 1\n", (unsigned long long)a + 0x40);
    }
    if (messy) {
        char big[3000];
        memset(big, 'x', sizeof(big));
        put(t, "PUBLIC 1 0 ", 11);
        put(t, big, sizeof(big));
        put(t, "\n", 1);
        putf(t, "STACK CFI INIT 10 10 no_rule_here\n");
    }
    putf(t, "PUBLIC fffff 0 last_without_newline");
}

static const size_t chunks[] = {0, 1, 7, 4093, 65536, (1u << 20) + 3};

static void test_generated_inputs(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct text t = {0};
        generate(&t, seed * 0x9e3779b97f4a7c15ull, seed <= 2 ? 300 : 6000, seed % 2 == 0);
        struct sym_parse_opts o;
        sym_parse_opts_init(&o);
        o.max_errors = UINT64_MAX;
        o.max_line_len = 2048;
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            if (chunks[c] == 1 && t.len > 100000)
                continue; /* one byte per call: only for the small ones */
            st_check_threads_agree(t.p, t.len, chunks[c], &o);
        }
        /* The default options too: 100 malformed lines at most. */
        st_check_threads_agree(t.p, t.len, 4096, NULL);
        free(t.p);
    }
}

/* Inputs the parser rejects, or stops on, at the same line with the same message. */
static void test_rejections(void)
{
    static const char gz[] = "\x1f\x8b\x08\x00 not text";
    static const char *const texts[] = {
        "",
        "\n\n\r\n",
        "this is not a symbol file\nFUNC 1000 10 0 f\n",
        "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 a.so\nFUNC 1 1 0 f\n\xff\xfe",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
            st_check_threads_agree(texts[i], strlen(texts[i]), chunks[c], NULL);
    st_check_threads_agree(gz, sizeof(gz) - 1, 0, NULL);

    /* Too many malformed lines: fatal at the same line. */
    struct text t = {0};
    putf(&t, "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 a.so\n");
    for (int i = 0; i < 50000; i++)
        putf(&t, i % 2 ? "FUNC %x 10 0 f%d\n" : "%x 10 what %d\n", 0x1000 + 0x10 * i, i);
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_errors = 1000;
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
        if (chunks[c] != 1)
            st_check_threads_agree(t.p, t.len, chunks[c], &o);
    /* An input limit. */
    sym_parse_opts_init(&o);
    o.max_input_bytes = t.len / 2;
    st_check_threads_agree(t.p, t.len, 65536, &o);
    free(t.p);
}

/* With threads == 0 the second thread starts only past a few megabytes: a large input crosses
 * that point in the middle of the text, and the image is still the same. */
static void test_switch_to_two_threads(void)
{
    struct text t = {0};
    generate(&t, 42, 60000, true);
    T_ASSERT(t.len > (8u << 20));
    struct sym_parse_opts o1, o0;
    sym_parse_opts_init(&o1);
    o1.threads = 1;
    o1.max_errors = UINT64_MAX;
    o1.max_line_len = 2048;
    o0 = o1;
    o0.threads = 0;
    struct st_run a;
    st_check_runs_agree(t.p, t.len, 1u << 20, &o1, &o0, &a);
    T_ASSERT_OK(a.rc);
    T_ASSERT(a.stats.n_warnings > 0);
    sym_buf_cleanup(&a.image);
    free(t.p);
}

static sym_err reserve_heap(void *ctx, uint64_t total, void **dst)
{
    char **out = ctx;
    *out = malloc(total ? (size_t)total : 1);
    *dst = *out;
    return *out != NULL ? SYM_OK : SYM_ENOMEM;
}

/* An image of many megabytes is written while the second thread populates its memory: the
 * image is still byte for byte the one-thread image, into the parser's buffer and into memory
 * the caller reserves. */
static void test_large_image_two_threads(void)
{
    struct text t = {0};
    generate(&t, 99, 200000, false);
    struct sym_parse_opts o1, o2;
    sym_parse_opts_init(&o1);
    o1.threads = 1;
    o2 = o1;
    o2.threads = 2;
    struct st_run a;
    st_check_runs_agree(t.p, t.len, 1u << 20, &o1, &o2, &a);
    T_ASSERT_OK(a.rc);
    T_ASSERT(a.image.len > (12u << 20)); /* well past the size that is populated */

    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(&o2, &p));
    for (size_t at = 0; at < t.len; at += 1u << 20)
        T_ASSERT_OK(sym_parser_feed(p, t.p + at, t.len - at < (1u << 20) ? t.len - at : 1u << 20));
    char *into = NULL;
    struct sym_parse_stats st;
    struct sym_diag d;
    T_ASSERT_OK(sym_parser_finish_into(p, reserve_heap, &into, &st, &d));
    sym_parser_free(p);
    T_ASSERT_U64_EQ(st.image_bytes, a.image.len);
    T_ASSERT(memcmp(into, a.image.data, a.image.len) == 0);
    free(into);
    sym_buf_cleanup(&a.image);
    free(t.p);
}

/* Long runs of STACK CFI and of STACK WIN records are shared between the threads piece by
 * piece: whatever else they hold (malformed, rejected and overlong records, a FUNC, NUL bytes,
 * CRLF, blank lines, records cut by piece and chunk boundaries), the result is the one-thread
 * result. */
static void test_shared_unwind_pieces(void)
{
    struct text t = {0};
    generate(&t, 5, 3000, true);
    uint64_t s = 77;
    static const char cfi_nul[] = "STACK CFI 12 .cfa: $rsp\0 8 +\n",
                      win_nul[] = "STACK WIN 4 10 20 4 0 8 0 10 0 1 $T0\0$ebp =\n";
    char overlong[3000];
    memset(overlong, 'a', sizeof(overlong));
    for (unsigned i = 0; i < 150000; i++) {
        uint64_t r = next(&s);
        unsigned addr = 0x400000 + i * 16, k = (unsigned)(r % 2000);
        if (k == 0)
            putf(&t, "STACK CFI %x .cfa: $rsp 8 +\r\n", addr);
        else if (k == 1)
            putf(&t, "STACK CFI %x\n", addr);
        else if (k == 2)
            putf(&t, "STACK CFI INIT %x 0 .cfa: $rsp 8 +\n", addr);
        else if (k == 3)
            putf(&t, "STACK WIN 4 %x 10 0 0 0 0 0 0 1 $T0 .raSearch =\n", addr);
        else if (k == 4)
            putf(&t, "\n\r\n");
        else if (k == 5)
            putf(&t, "FUNC %x 10 0 late_function_%u\n%x 4 7 1\n", addr, i, addr);
        else if (k == 6)
            put(&t, cfi_nul, sizeof(cfi_nul) - 1);
        else if (k == 7)
            putf(&t, "STACK CFI INIT %x ffffffffff .cfa: $rsp 8 +\n", addr);
        else if (k == 8)
            putf(&t, "not a record %u\n", i);
        else if (k == 9) {
            put(&t, "STACK CFI 10 .cfa: ", 19);
            put(&t, overlong, sizeof(overlong));
            put(&t, "\n", 1);
        } else if (k % 7 == 0)
            putf(&t, "STACK CFI INIT %x %x .cfa: $rsp 8 + .ra: .cfa -8 + ^\n", addr,
                 16 + (unsigned)(r >> 32) % 64);
        else
            putf(&t, "STACK CFI %x .cfa: $rsp %u + $rbp: .cfa -16 + ^\n", addr,
                 (unsigned)(r >> 40) % 64 * 8);
    }
    for (unsigned i = 0; i < 100000; i++) {
        uint64_t r = next(&s);
        unsigned rva = 0x900000 + i * 32, k = (unsigned)(r % 1000);
        if (k == 0)
            putf(&t, "STACK WIN 4 %x 20 4 0 8 0 10 0 1\n", rva); /* no program */
        else if (k == 1)
            putf(&t, "STACK WIN 0 %x 20 3 0 4 0 0 0 0 2\n", rva); /* bad allocates_bp */
        else if (k == 2)
            putf(&t, "STACK WIN 2 %x 20 3 0 4 0 0 0 0 1\n", rva); /* a type never used */
        else if (k == 3)
            putf(&t, "STACK WIN 7 %x 20 3 0 4 0 0 0 0 1\n", rva); /* an unknown type */
        else if (k == 4)
            putf(&t, "STACK WIN 4 %x 0 4 0 8 0 10 0 1 $T0 $ebp =\r\n", rva); /* no size */
        else if (k == 5)
            putf(&t, "STACK WIN 4 %x 20 4 0 1ffffffff 0 10 0 1 $T0 $ebp =\n", rva);
        else if (k == 6)
            put(&t, win_nul, sizeof(win_nul) - 1);
        else if (k == 7)
            putf(&t, "STACK WIN 4 fffffffffffffff0 20 4 0 8 0 10 0 1 $T0 $ebp =\n");
        else if (k == 8)
            putf(&t, "STACK CFI INIT %x 10 .cfa: $esp 4 +\n", rva);
        else if (r % 3 == 0)
            putf(&t, "STACK WIN 0 %x %x 3 0 4 %x 0 0 0 %u\n", rva, 8 + (unsigned)(r >> 20) % 40,
                 (unsigned)(r >> 32) % 16, (unsigned)(r >> 40) % 2);
        else
            putf(&t, "STACK WIN 4 %x %x 6 0 %x 0 %x 0 1 $T0 $ebp = $eip $T0 4 + ^ = %s\n", rva,
                 8 + (unsigned)(r >> 20) % 40, (unsigned)(r >> 32) % 16, (unsigned)(r >> 40) % 64,
                 (r >> 50) % 2 ? "$ebp $T0 ^ =" : "");
    }
    T_ASSERT(t.len > (10u << 20));
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_errors = UINT64_MAX;
    o.max_line_len = 2048;
    static const size_t cuts[] = {0, 1u << 20, 300007, 40000};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        st_check_threads_agree(t.p, t.len, cuts[i], &o);
    /* The input ends inside a shared piece, in the middle of a record. */
    st_check_threads_agree(t.p, t.len - 10, 0, &o);

    /* Small chunks after shared pieces: gathered into the parser's own pieces, which the
     * threads share in turn. */
    struct st_run one;
    struct sym_parse_opts o1 = o;
    o1.threads = 1;
    st_run(&one, t.p, t.len, 0, &o1);
    T_ASSERT_OK(one.rc);
    struct sym_parse_opts o2 = o;
    o2.threads = 2;
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(&o2, &p));
    size_t at = 0, big = t.len / 2;
    for (; at + (1u << 20) <= big; at += 1u << 20)
        T_ASSERT_OK(sym_parser_feed(p, t.p + at, 1u << 20));
    for (size_t step = 1000; at < t.len; at += step, step = step * 3 % 50000 + 1)
        T_ASSERT_OK(sym_parser_feed(p, t.p + at, t.len - at < step ? t.len - at : step));
    struct sym_buf img;
    sym_buf_init(&img, 0);
    struct sym_parse_stats st;
    struct sym_diag d;
    T_ASSERT_OK(sym_parser_finish(p, &img, &st, &d));
    sym_parser_free(p);
    T_ASSERT_EQ(img.len, one.image.len);
    T_ASSERT(memcmp(img.data, one.image.data, img.len) == 0);
    T_ASSERT_U64_EQ(st.n_warnings, one.stats.n_warnings);
    T_ASSERT_U64_EQ(st.first_warning_line, one.stats.first_warning_line);
    T_ASSERT_U64_EQ(st.input_lines, one.stats.input_lines);
    sym_buf_cleanup(&img);
    sym_buf_cleanup(&one.image);
    free(t.p);
}

/* Pieces of a few KiB: the threads meet every few dozen lines, share pieces of FUNC blocks and
 * of unwind records, and carry records (the 3,000-byte PUBLIC among them) across many pieces.
 * The image, statistics and errors are still the ones of the default pieces on one thread. */
static void test_small_pieces(void)
{
    struct text t = {0};
    generate(&t, 11, 600, true);
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_errors = UINT64_MAX;
    o.max_line_len = 4096;
    struct sym_parse_opts o1 = o;
    o1.threads = 1;
    struct st_run ref;
    st_run(&ref, t.p, t.len, 0, &o1);
    T_ASSERT_OK(ref.rc);
    static const size_t pieces[] = {1, SYM_MIN_PIECE_BYTES, 1500, 4096, 70001};
    static const size_t cuts[] = {0, 1, 333, 5000};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        o.piece_bytes = pieces[i];
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++)
            st_check_threads_agree(t.p, t.len, cuts[c], &o);
        struct sym_parse_opts o2 = o;
        o2.threads = 2;
        struct st_run two;
        st_run(&two, t.p, t.len, 0, &o2);
        T_ASSERT_OK(two.rc);
        T_ASSERT_EQ(two.image.len, ref.image.len);
        T_ASSERT(memcmp(two.image.data, ref.image.data, ref.image.len) == 0);
        T_ASSERT_U64_EQ(two.stats.n_warnings, ref.stats.n_warnings);
        T_ASSERT_U64_EQ(two.stats.first_warning_line, ref.stats.first_warning_line);
        sym_buf_cleanup(&two.image);
    }
    sym_buf_cleanup(&ref.image);
    free(t.p);
}

/* A parser abandoned in the middle (no finish) ends its thread and frees everything. */
static void test_free_without_finish(void)
{
    struct text t = {0};
    generate(&t, 7, 2000, false);
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.threads = 2;
    for (size_t cut = 1; cut < t.len; cut += t.len / 5) {
        struct sym_parser *p;
        T_ASSERT_OK(sym_parser_new(&o, &p));
        T_ASSERT_OK(sym_parser_feed(p, t.p, cut));
        sym_parser_free(p);
    }
    free(t.p);
}

T_LIST(T_TEST(test_generated_inputs), T_TEST(test_rejections), T_TEST(test_switch_to_two_threads),
       T_TEST(test_large_image_two_threads), T_TEST(test_shared_unwind_pieces),
       T_TEST(test_small_pieces), T_TEST(test_free_without_finish))
