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
       T_TEST(test_capped_output))
