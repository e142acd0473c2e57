/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_symfile.c: libFuzzer target for the .sym parser. The input is fed whole, again in two
 * pieces split where its first byte says (chunk boundaries inside lines and CRLF pairs), and
 * once more on two threads with pieces of 1 KiB (the threads share pieces, records cross
 * pieces), in chunks whose sizes its second byte says; all must give the same result. A built
 * image is then opened and queried. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/image.h"
#include "sym/symfile.h"

static void query(const struct sym_buf *b, const uint8_t *data, size_t size)
{
    struct sym_image *img;
    if (sym_image_open(b->data, b->len, &img, NULL) != SYM_OK)
        abort(); /* the parser's own output must always open */
    struct sym_image_info info;
    sym_image_info(img, &info);
    for (size_t i = 0; i + 4 <= size && i < 64; i += 4) {
        uint32_t off;
        memcpy(&off, data + i, 4);
        struct sym_lookup l;
        if (sym_image_lookup(img, off, &l) != SYM_OK)
            abort();
        struct sym_buf rules;
        sym_buf_init(&rules, 1 << 20);
        sym_err rc = sym_image_cfi_rules(img, off, &rules);
        if (rc != SYM_OK && rc != SYM_ENOTFOUND)
            abort();
        sym_buf_cleanup(&rules);
        struct sym_win_frame w;
        rc = sym_image_win_frame(img, off, &w);
        if (rc != SYM_OK && rc != SYM_ENOTFOUND)
            abort();
    }
    for (size_t i = 0; i < info.counts.funcs && i < 16; i++) {
        struct sym_func_info f;
        struct sym_lookup l;
        if (sym_image_func_at(img, i, &f) != SYM_OK ||
            sym_image_lookup(img, f.start, &l) != SYM_OK || !l.found)
            abort();
    }
    sym_image_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_errors = UINT64_MAX;
    o.max_line_len = 4096;
    struct sym_buf whole, split;
    sym_buf_init(&whole, 0);
    sym_buf_init(&split, 0);
    sym_err a = sym_parse_buffer(data, size, &o, &whole, NULL, NULL);

    struct sym_parser *p;
    if (sym_parser_new(&o, &p) != SYM_OK)
        abort();
    size_t cut = size ? data[0] % (size + 1) : 0;
    sym_err b = sym_parser_feed(p, data, cut);
    sym_err b2 = sym_parser_feed(p, data + cut, size - cut);
    if (b == SYM_OK)
        b = b2;
    sym_err f = sym_parser_finish(p, &split, NULL, NULL);
    if (b == SYM_OK)
        b = f;
    sym_parser_free(p);
    if (a != b)
        abort();

    struct sym_buf threaded;
    sym_buf_init(&threaded, 0);
    struct sym_parse_opts o2 = o;
    o2.threads = 2;
    o2.piece_bytes = SYM_MIN_PIECE_BYTES;
    if (sym_parser_new(&o2, &p) != SYM_OK)
        abort();
    size_t step = size > 1 ? 1 + (size_t)data[1] * 13 : 1;
    sym_err c = SYM_OK;
    for (size_t at = 0; at < size && c == SYM_OK; at += step)
        c = sym_parser_feed(p, data + at, size - at < step ? size - at : step);
    f = sym_parser_finish(p, &threaded, NULL, NULL);
    if (c == SYM_OK)
        c = f;
    sym_parser_free(p);
    if (a != c)
        abort();

    if (a == SYM_OK) {
        if (whole.len != split.len || memcmp(whole.data, split.data, whole.len) != 0)
            abort();
        if (whole.len != threaded.len || memcmp(whole.data, threaded.data, whole.len) != 0)
            abort();
        query(&whole, data, size);
    }
    sym_buf_cleanup(&whole);
    sym_buf_cleanup(&split);
    sym_buf_cleanup(&threaded);
    return 0;
}
