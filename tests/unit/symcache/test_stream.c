/* SPDX-License-Identifier: MPL-2.0 */
/* test_stream.c: the parser as a stream consumer: a gzip-compressed .sym inflated piece by
 * piece (as it comes out of storage) builds the same image as the plain text, and the
 * parser's memory follows what it keeps, not how much text goes through it. zlib is used by
 * the test only; libsym never inflates. */
#include <malloc.h>
#include <stdlib.h>

#include <zlib.h>

#include "symtest.h"

static const char fixture[] =
    "MODULE Linux x86_64 0905AE80CEE75A33E3CAB61C274274DE0 testproj\r\n"
    "INFO CODE_ID 80AE0509E7CE335AE3CAB61C274274DE96049B64\r\n"
    "FILE 0 /home/user/src/main.rs\r\nFILE 1 /home/user/src/helper.rs\r\n"
    "INLINE_ORIGIN 0 helper::middle\r\nINLINE_ORIGIN 1 helper::inner\r\n"
    "FUNC 7a40 85 0 testproj::main\r\n"
    "INLINE 0 4 0 0 7a40 7d\r\nINLINE 1 2 1 1 7a40 49\r\n"
    "7a40 7 3 0\r\n7a47 33 392 1\r\n7a7a f 7 1\r\n7a89 31 392 1\r\n7aba 3 3 1\r\n"
    "STACK CFI INIT 7a40 85 .cfa: $rsp 8 + .ra: .cfa -8 + ^\r\n"
    "STACK CFI 7a41 .cfa: $rsp 16 + $rbp: .cfa -16 + ^\r\n";

static void test_gzip_stream(void)
{
    /* Compress as a storage backend would (gzip wrapper). */
    z_stream z;
    memset(&z, 0, sizeof(z));
    T_ASSERT(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    unsigned char gz[4096];
    z.next_in = (unsigned char *)fixture;
    z.avail_in = sizeof(fixture) - 1;
    z.next_out = gz;
    z.avail_out = sizeof(gz);
    T_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t gz_len = sizeof(gz) - z.avail_out;
    deflateEnd(&z);

    /* Inflate in tiny pieces straight into the parser. */
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    memset(&z, 0, sizeof(z));
    T_ASSERT(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
    z.next_in = gz;
    z.avail_in = (uInt)gz_len;
    int zr = Z_OK;
    size_t pieces = 0;
    while (zr != Z_STREAM_END) {
        unsigned char out[7];
        z.next_out = out;
        z.avail_out = sizeof(out);
        zr = inflate(&z, Z_NO_FLUSH);
        T_ASSERT(zr == Z_OK || zr == Z_STREAM_END);
        T_ASSERT_OK(sym_parser_feed(p, out, sizeof(out) - z.avail_out));
        pieces++;
    }
    inflateEnd(&z);
    T_ASSERT(pieces > 50);
    struct sym_buf streamed, direct;
    sym_buf_init(&streamed, 0);
    sym_buf_init(&direct, 0);
    T_ASSERT_OK(sym_parser_finish(p, &streamed, NULL, NULL));
    sym_parser_free(p);
    T_ASSERT_OK(sym_parse_buffer(fixture, sizeof(fixture) - 1, NULL, &direct, NULL, NULL));
    T_ASSERT_EQ(streamed.len, direct.len);
    T_ASSERT_MEM_EQ(streamed.data, direct.data, direct.len);

    struct st_image s;
    st_build(&s, fixture);
    struct sym_lookup *l = st_lookup(&s, 0x7a7a);
    T_ASSERT_EQ(l->n_inlines, 2);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "helper::inner");
    st_free(&s);
    sym_buf_cleanup(&streamed);
    sym_buf_cleanup(&direct);
}

/* 64 MB of text that adds nothing to the tables (the lines of a zero-size FUNC, skipped INFO
 * lines) leaves the parser's heap as it was: memory follows the output, not the input. */
static void test_memory_follows_output(void)
{
    enum { CHUNK = 1 << 16 };
    char *chunk = malloc(CHUNK);
    size_t n = 0;
    static const char line[] = "1000 10 42 7\n";
    static const char info[] = "INFO URL https://example.org/some/long/path/of/no/interest.sym\n";
    while (n + sizeof(info) < CHUNK) {
        const char *src = (n / 64) % 5 == 0 ? info : line;
        size_t len = (n / 64) % 5 == 0 ? sizeof(info) - 1 : sizeof(line) - 1;
        memcpy(chunk + n, src, len);
        n += len;
    }
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    static const char head[] = "MODULE Linux x86_64 ID big\nFILE 7 a.c\nFUNC 1000 0 0 empty\n";
    T_ASSERT_OK(sym_parser_feed(p, head, sizeof(head) - 1));
    /* Warm up: the line carried between chunks, and the per-piece buffers of both threads
     * (the thread starts after a few megabytes), reach their size. */
    for (int i = 0; i < 256; i++)
        T_ASSERT_OK(sym_parser_feed(p, chunk, n));
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 1024; i++)
        T_ASSERT_OK(sym_parser_feed(p, chunk, n));
    size_t after = mallinfo2().uordblks;
    /* The per-piece buffers may still grow a little as the share of a piece each thread
     * takes adapts (bounded by the piece size); growth with the input would be megabytes. */
    T_ASSERT(after < before + 1024 * 1024);
    struct sym_buf img;
    sym_buf_init(&img, 0);
    struct sym_parse_stats st;
    T_ASSERT_OK(sym_parser_finish(p, &img, &st, NULL));
    T_ASSERT(st.input_bytes > 64u * 1000 * 1000);
    T_ASSERT(st.read.lines > 3u * 1000 * 1000);
    T_ASSERT_EQ(st.kept.lines, 0);
    T_ASSERT(img.len < 4096);
    sym_parser_free(p);
    sym_buf_cleanup(&img);
    free(chunk);
}

T_LIST(T_TEST(test_gzip_stream), T_TEST(test_memory_follows_output))
