/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_image.c: libFuzzer target for opening and querying a (possibly corrupt) symcache image,
 * as read back from the LMDB store or a file. An input that starts with the image magic is
 * used as the image; any other input is a list of (u32 offset, u8 value) byte edits applied to
 * an image built from a fixed symbol file, which reaches the record data far more often. The
 * image always sits in an exactly-sized heap copy so that ASan sees any read past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/image.h"
#include "sym/symfile.h"

static const char base_sym[] =
    "MODULE Linux x86_64 0905AE80CEE75A33E3CAB61C274274DE0 fuzz\n"
    "INFO CODE_ID 80AE0509E7CE335AE3CAB61C274274DE96049B64 fuzz.so\n"
    "FILE 0 a.c\nFILE 1 b.h\nINLINE_ORIGIN 0 in0\nINLINE_ORIGIN 1 in1\n"
    "FUNC 1000 80 4 f\nINLINE 0 4 0 0 1000 40\nINLINE 1 2 1 1 1008 10 1030 8\n"
    "1000 8 1 0\n1008 10 2 1\n1018 28 3 0\n1040 40 4 1\n"
    "FUNC 2000 200 0 g\n"
    "2000 4 10 0\n2004 4 11 0\n2008 4 12 0\n200c 4 13 0\n2010 4 14 0\n2014 4 15 0\n"
    "2018 4 16 0\n201c 4 17 0\n2020 4 18 0\n2024 4 19 0\n2028 4 20 0\n202c 4 21 0\n"
    "2030 4 22 0\n2034 4 23 0\n2038 4 24 0\n203c 4 25 0\n2040 4 26 0\n2044 4 27 0\n"
    "2048 4 28 0\n204c 4 29 0\n2050 4 30 0\n2054 4 31 0\n2058 4 32 0\n205c 4 33 0\n"
    "2060 4 34 0\n2064 4 35 0\n2068 4 36 0\n206c 4 37 0\n2070 4 38 0\n2074 4 39 0\n"
    "2078 4 40 0\n207c 4 41 0\n2080 4 42 0\n2084 4 43 1\n"
    "PUBLIC 3000 8 p\n"
    "STACK CFI INIT 1000 80 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
    "STACK CFI 1001 .cfa: $rsp 16 +\nSTACK CFI 1004 $rbp: .cfa -16 + ^\n"
    "STACK WIN 4 2000 200 0 0 4 0 8 0 1 $eip 4 + ^ =\n"
    "STACK WIN 4 2010 10 0 0 4 0 8 0 1 $eip 8 + ^ =\n"
    "STACK WIN 0 3000 40 1 1 4 4 0 0 0 1\n"
    /* enough functions for an index level and its radix */
    "FUNC 4000 10 0 h0\nFUNC 4010 10 0 h1\nFUNC 4020 10 0 h2\nFUNC 4030 10 0 h3\n"
    "FUNC 4040 10 0 h4\nFUNC 4050 10 0 h5\nFUNC 4060 10 0 h6\nFUNC 4070 10 0 h7\n"
    "FUNC 4080 10 0 h8\nFUNC 4090 10 0 h9\nFUNC 40a0 10 0 ha\nFUNC 40b0 10 0 hb\n"
    "FUNC 40c0 10 0 hc\nFUNC 40d0 10 0 hd\nFUNC 40e0 10 0 he\nFUNC 40f0 10 0 hf\n"
    "FUNC 5000 10 0 i0\nFUNC 6000 10 0 i1\nFUNC 7000 10 0 i2\nFUNC 8000 10 0 i3\n";

static void query(const struct sym_image *img)
{
    static const uint64_t offs[] = {0,      0xfff,  0x1000, 0x1009, 0x1031,    0x107f, 0x1080,
                                    0x2000, 0x2011, 0x2086, 0x21ff, 0x3000,    0x3010, 0x4005,
                                    0x40f8, 0x5001, 0x7fff, 0x8008, UINT64_MAX};
    volatile unsigned sink = 0;
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        struct sym_lookup l;
        if (sym_image_lookup(img, offs[i], &l) == SYM_OK && l.found) {
            for (size_t k = 0; k < l.function.n; k++)
                sink += (unsigned char)l.function.p[k];
            for (size_t k = 0; k < l.file.n; k++)
                sink += (unsigned char)l.file.p[k];
            for (size_t j = 0; j < l.n_inlines; j++) {
                for (size_t k = 0; k < l.inlines[j].function.n; k++)
                    sink += (unsigned char)l.inlines[j].function.p[k];
                for (size_t k = 0; k < l.inlines[j].file.n; k++)
                    sink += (unsigned char)l.inlines[j].file.p[k];
            }
        }
        struct sym_buf rules;
        sym_buf_init(&rules, 1 << 20);
        (void)!sym_image_cfi_rules(img, offs[i], &rules);
        sym_buf_cleanup(&rules);
        struct sym_win_frame w;
        if (sym_image_win_frame(img, offs[i], &w) == SYM_OK)
            for (size_t k = 0; k < w.program.n; k++)
                sink += (unsigned char)w.program.p[k];
    }
    /* The batch path reads the tables ahead of the lookups, for offsets of its own. */
    enum { N_OFFS = sizeof(offs) / sizeof(offs[0]) };
    struct sym_lookup many[N_OFFS];
    if (sym_image_lookup_many(img, offs, N_OFFS, many) == SYM_OK)
        for (size_t i = 0; i < N_OFFS; i++)
            sink += (unsigned)many[i].found + (unsigned)many[i].n_inlines;
    struct sym_image_info info;
    sym_image_info(img, &info);
    for (size_t i = 0; i < 4; i++) {
        struct sym_func_info f;
        struct sym_public_info p;
        struct sym_slice s;
        if (sym_image_func_at(img, i, &f) == SYM_OK)
            for (size_t k = 0; k < f.name.n; k++)
                sink += (unsigned char)f.name.p[k];
        if (sym_image_public_at(img, i, &p) == SYM_OK)
            for (size_t k = 0; k < p.name.n; k++)
                sink += (unsigned char)p.name.p[k];
        if (sym_image_file_at(img, i, &s) == SYM_OK)
            for (size_t k = 0; k < s.n; k++)
                sink += (unsigned char)s.p[k];
    }
    struct sym_module_info m;
    sym_image_module(img, &m);
    for (size_t k = 0; k < m.debug_file.n; k++)
        sink += (unsigned char)m.debug_file.p[k];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sym_buf base; /* built once per process */
    if (base.data == NULL) {
        sym_buf_init(&base, 0);
        if (sym_parse_buffer(base_sym, sizeof(base_sym) - 1, NULL, &base, NULL, NULL) != SYM_OK)
            abort();
    }
    uint8_t *img_bytes;
    size_t len;
    if (sym_image_sniff(data, size)) {
        len = size;
        img_bytes = malloc(len);
        if (img_bytes == NULL)
            return 0;
        memcpy(img_bytes, data, len);
    } else {
        len = base.len;
        img_bytes = malloc(len);
        if (img_bytes == NULL)
            return 0;
        memcpy(img_bytes, base.data, len);
        for (size_t i = 0; i + 5 <= size; i += 5) {
            uint32_t at;
            memcpy(&at, data + i, 4);
            img_bytes[at % len] = data[i + 4];
        }
    }
    struct sym_image *img;
    if (sym_image_open(img_bytes, len, &img, NULL) == SYM_OK) {
        query(img);
        sym_image_close(img);
    }
    free(img_bytes);
    return 0;
}
