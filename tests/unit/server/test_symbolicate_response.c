/* SPDX-License-Identifier: MPL-2.0 */
/* test_symbolicate_response.c: the JSON writer of symbolication responses (escaping, bytes that
 * are not UTF-8, Python's hex(), numbers) and the v5/v4 writers on a hand-made image with hostile
 * names: the output is always JSON that jansson reads back to the expected values. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sym/image.h"
#include "sym/symfile.h"
#include "symbolicate/jsonw.h"
#include "symbolicate/response.h"
#include "t.h"

static json_t *load(const struct sym_buf *b)
{
    json_error_t e;
    json_t *v = json_loadb(b->data, b->len, JSON_DECODE_ANY, &e);
    if (v == NULL)
        T_FAIL("not JSON (%s): %.*s", e.text, (int)b->len, b->data);
    return v;
}

static void test_strings(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    srv_jw_str(&b, "a\"b\\c\n\t\x01/\x7f", 10);
    T_ASSERT_STR_EQ(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001/\x7f\"");
    json_t *v = load(&b);
    T_ASSERT_STR_EQ(json_string_value(v), "a\"b\\c\n\t\x01/\x7f");
    json_decref(v);
    /* Valid UTF-8 passes; anything else becomes U+FFFD, one per bad byte. */
    sym_buf_reset(&b);
    static const char mixed[] = "\xc3\xa9|\xff|\xc3|\xed\xa0\x80|\xf0\x9f\x98\x80|\xc0\xaf";
    srv_jw_str(&b, mixed, sizeof(mixed) - 1);
    v = load(&b);
    T_ASSERT_STR_EQ(json_string_value(v), "\xc3\xa9|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf"
                                          "\xbd\xef\xbf\xbd|\xf0\x9f\x98\x80|\xef\xbf\xbd\xef\xbf"
                                          "\xbd");
    json_decref(v);
    sym_buf_reset(&b);
    srv_jw_str(&b, "x\0y", 3);
    T_ASSERT_STR_EQ(b.data, "\"x\\u0000y\"");
    sym_buf_cleanup(&b);
}

static void test_numbers(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    srv_jw_hex(&b, -1);
    srv_jw_raw(&b, " ", 1);
    srv_jw_hex(&b, 0);
    srv_jw_raw(&b, " ", 1);
    srv_jw_hex(&b, INT64_MAX);
    srv_jw_raw(&b, " ", 1);
    srv_jw_hex_u64(&b, UINT64_MAX);
    srv_jw_raw(&b, " ", 1);
    srv_jw_hex_bare(&b, 1000);
    srv_jw_raw(&b, " ", 1);
    srv_jw_int(&b, INT64_MIN);
    srv_jw_raw(&b, " ", 1);
    srv_jw_int(&b, 0);
    srv_jw_raw(&b, " ", 1);
    srv_jw_real(&b, 2.0);
    srv_jw_raw(&b, " ", 1);
    srv_jw_real(&b, 0.000125);
    T_ASSERT_STR_EQ(b.data, "\"-0x1\" \"0x0\" \"0x7fffffffffffffff\" \"0xffffffffffffffff\" 0x3e8 "
                            "-9223372036854775808 0 2.0 0.000125");
    sym_buf_cleanup(&b);
}

static const char hostile_sym[] = "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 m\n"
                                  "INFO CODE_ID 00 not a pe name\n"
                                  "FILE 0 C:\\src\\\"q\".c\n"
                                  "FUNC 10 20 0 op\xff\"()\n"
                                  "10 20 0 0\n"
                                  "FUNC 40 10 0 noline\n";

static void test_writers_on_hostile_names(void)
{
    struct sym_buf img_bytes;
    sym_buf_init(&img_bytes, 0);
    T_ASSERT_OK(
        sym_parse_buffer(hostile_sym, sizeof(hostile_sym) - 1, NULL, &img_bytes, NULL, NULL));
    struct sym_image *img;
    T_ASSERT_OK(sym_image_open(img_bytes.data, img_bytes.len, &img, NULL));
    static const char body[] = "{\"memoryMap\": [[\"m\", \"0123456789ABCDEF0123456789ABCDEF0\"]], "
                               "\"stacks\": [[[0, 16], [0, 64], [0, 4096]]]}";
    struct srv_symb_limits lim = {0, 0, 0};
    struct srv_symb_request req;
    struct srv_symb_error err;
    T_ASSERT_OK(srv_symb_request_parse(body, sizeof(body) - 1, SRV_SYMB_V5, &lim, &req, &err));
    struct srv_symb_resolved res = {.found = SRV_SYMB_FOUND, .img = img};
    struct sym_buf out;
    sym_buf_init(&out, 0);
    struct srv_symb_write_stats st;
    T_ASSERT_OK(srv_symb_write_v5(&req, &res, NULL, &out, &st));
    T_ASSERT_EQ(st.frames_symbolicated, 2);
    json_t *doc = load(&out);
    json_t *stack = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "results"), 0), "stacks"), 0);
    json_t *f0 = json_array_get(stack, 0), *f1 = json_array_get(stack, 1);
    /* A 3-token... here 6-token CODE_ID line is no PE name: the debug file name stays. */
    T_ASSERT_STR_EQ(json_string_value(json_object_get(f0, "module")), "m");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(f0, "function")), "op\xef\xbf\xbd\"()");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(f0, "file")), "C:\\src\\\"q\".c");
    /* Line 0 is not reported, even with a file. */
    T_ASSERT(json_object_get(f0, "line") == NULL);
    T_ASSERT(json_object_get(f1, "file") == NULL);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(f1, "function_size")), "0x10");
    T_ASSERT(json_object_get(json_array_get(stack, 2), "function") == NULL);
    json_decref(doc);

    sym_buf_reset(&out);
    T_ASSERT_OK(srv_symb_write_v4(&req, &res, &out, NULL));
    doc = load(&out);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    T_ASSERT_STR_EQ(s, "{\"knownModules\":[true],\"symbolicatedStacks\":[[\"op\xef\xbf\xbd\\\"() "
                       "(in m)\",\"noline (in m)\",\"0x1000 (in m)\"]]}");
    free(s);
    json_decref(doc);
    sym_buf_cleanup(&out);
    srv_symb_request_free(&req);
    sym_image_close(img);
    sym_buf_cleanup(&img_bytes);
}

/* Frames of several modules interleaved, found and not, over more than one lookup window: each
 * frame gets exactly what a lookup of its own offset gives. */
static void test_windows_match_single_lookups(void)
{
    static const char a_sym[] = "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 a\n"
                                "FUNC 100 10 0 a1\nFUNC 200 10 0 a2\nPUBLIC 300 0 a_pub\n";
    static const char b_sym[] = "MODULE Linux x86_64 1123456789ABCDEF0123456789ABCDEF0 b\n"
                                "FUNC 100 20 0 b1\nFUNC 400 10 0 b2\n";
    struct sym_buf ab, bb;
    sym_buf_init(&ab, 0);
    sym_buf_init(&bb, 0);
    T_ASSERT_OK(sym_parse_buffer(a_sym, sizeof(a_sym) - 1, NULL, &ab, NULL, NULL));
    T_ASSERT_OK(sym_parse_buffer(b_sym, sizeof(b_sym) - 1, NULL, &bb, NULL, NULL));
    struct sym_image *imgs[2];
    T_ASSERT_OK(sym_image_open(ab.data, ab.len, &imgs[0], NULL));
    T_ASSERT_OK(sym_image_open(bb.data, bb.len, &imgs[1], NULL));
    struct sym_buf body;
    sym_buf_init(&body, 0);
    sym_buf_append_str(&body, "{\"memoryMap\": [[\"a\", \"0123456789ABCDEF0123456789ABCDEF0\"], "
                              "[\"b\", \"1123456789ABCDEF0123456789ABCDEF0\"], [\"c\", \"AB\"]], "
                              "\"stacks\": [[");
    int64_t offsets[] = {0x105, 0x50, 0x405, 0x205, 0x115, 0x999, 0x305, -1, 0x100};
    enum { N = 53 };
    int mods[N];
    int64_t offs[N];
    for (int i = 0; i < N; i++) {
        mods[i] = (i * 7 + i / 5) % 4 - 1; /* -1, 0, 1, 2 */
        offs[i] = offsets[(i * 5) % 9];
        sym_buf_printf(&body, "%s[%d, %lld]", i ? ", " : "", mods[i], (long long)offs[i]);
    }
    sym_buf_append_str(&body, "]]}");
    struct srv_symb_limits lim = {0, 0, 0};
    struct srv_symb_request req;
    struct srv_symb_error err;
    T_ASSERT_OK(srv_symb_request_parse(body.data, body.len, SRV_SYMB_V5, &lim, &req, &err));
    struct srv_symb_resolved res[3];
    memset(res, 0, sizeof(res));
    for (int g = 0; g < 3; g++) {
        res[g].found = g < 2 ? SRV_SYMB_FOUND : SRV_SYMB_MISSING;
        res[g].img = g < 2 ? imgs[g] : NULL;
    }
    struct sym_buf out;
    sym_buf_init(&out, 0);
    T_ASSERT_OK(srv_symb_write_v5(&req, res, NULL, &out, NULL));
    json_t *doc = load(&out);
    json_t *stack = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "results"), 0), "stacks"), 0);
    T_ASSERT_EQ(json_array_size(stack), N);
    for (int i = 0; i < N; i++) {
        const char *got =
            json_string_value(json_object_get(json_array_get(stack, (size_t)i), "function"));
        const char *want = NULL;
        char name[64];
        if (mods[i] >= 0 && mods[i] < 2 && offs[i] >= 0) {
            struct sym_lookup l;
            T_ASSERT_OK(sym_image_lookup(imgs[mods[i]], (uint64_t)offs[i], &l));
            if (l.found) {
                snprintf(name, sizeof(name), "%.*s", SYM_SLICE_FMT_ARGS(l.function));
                want = name;
            }
        }
        if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
            T_FAIL("frame %d (module %d, offset %lld): got %s, want %s", i, mods[i],
                   (long long)offs[i], got ? got : "none", want ? want : "none");
    }
    json_decref(doc);
    sym_buf_cleanup(&out);
    sym_buf_cleanup(&body);
    srv_symb_request_free(&req);
    sym_image_close(imgs[0]);
    sym_image_close(imgs[1]);
    sym_buf_cleanup(&ab);
    sym_buf_cleanup(&bb);
}

static void test_capped_output(void)
{
    static const char body[] = "{\"stacks\": [[[-1, 1], [-1, 2]]], \"memoryMap\": []}";
    struct srv_symb_limits lim = {0, 0, 0};
    struct srv_symb_request req;
    struct srv_symb_error err;
    T_ASSERT_OK(srv_symb_request_parse(body, sizeof(body) - 1, SRV_SYMB_V5, &lim, &req, &err));
    struct sym_buf out;
    sym_buf_init(&out, 40);
    T_ASSERT_ERR(srv_symb_write_v5(&req, NULL, NULL, &out, NULL), SYM_ELIMIT);
    sym_buf_cleanup(&out);
    srv_symb_request_free(&req);
}

T_LIST(T_TEST(test_strings), T_TEST(test_numbers), T_TEST(test_writers_on_hostile_names),
       T_TEST(test_windows_match_single_lookups), T_TEST(test_capped_output))
