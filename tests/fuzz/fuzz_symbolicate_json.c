/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_symbolicate_json.c: a symbolication request body through the v5 and v4 parser/validator,
 * then, when accepted, through both response writers against a small symcache image (modules
 * found, missing and never looked up in turn); every response must parse back as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sym/alloc.h"
#include "sym/image.h"
#include "sym/symfile.h"
#include "symbolicate/request.h"
#include "symbolicate/response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sym_text[] = "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 fuzz\n"
                               "INFO CODE_ID 0123 fuzz.dll\n"
                               "FILE 0 /src/a \"quoted\"\\path\n"
                               "FILE 1 /src/\x01\xff.h\n"
                               "INLINE_ORIGIN 0 inl\xc3\xa9\n"
                               "FUNC 10 40 0 f\x80name\n"
                               "INLINE 0 3 1 0 20 8\n"
                               "10 10 1 0\n"
                               "20 8 2 1\n"
                               "PUBLIC 100 0 pub\n";

static struct sym_image *image(void)
{
    static struct sym_buf buf;
    static struct sym_image *img;
    if (img == NULL) {
        sym_buf_init(&buf, 0);
        if (sym_parse_buffer(sym_text, sizeof(sym_text) - 1, NULL, &buf, NULL, NULL) != SYM_OK ||
            sym_image_open(buf.data, buf.len, &img, NULL) != SYM_OK)
            abort();
    }
    return img;
}

static void check(const struct sym_buf *out)
{
    json_error_t e;
    json_t *v = json_loadb(out->data, out->len, 0, &e);
    if (v == NULL)
        abort(); /* the writers must always produce JSON */
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct srv_symb_limits lim = {20000, 2000, 2000};
    for (int v = 0; v < 2; v++) {
        enum srv_symb_version version = v ? SRV_SYMB_V4 : SRV_SYMB_V5;
        struct srv_symb_request req;
        struct srv_symb_error err;
        if (srv_symb_request_parse((const char *)data, size, version, &lim, &req, &err) != SYM_OK) {
            if (err.status < 400 || err.title[0] == '\0')
                abort(); /* every refusal says why */
            continue;
        }
        size_t n = req.n_groups ? req.n_groups : 1;
        struct srv_symb_resolved *res = sym_calloc(n, sizeof(*res));
        if (res == NULL)
            abort();
        for (uint32_t g = 0; g < req.n_groups; g++) {
            res[g].found = (enum srv_symb_found)(g % 3);
            if (res[g].found == SRV_SYMB_FOUND)
                res[g].img = image();
            res[g].timing.downloaded = g % 2;
            res[g].timing.parsed = g % 4 == 1;
        }
        struct sym_buf out;
        sym_buf_init(&out, 0);
        struct srv_symb_debug dbg = {0.5};
        if (srv_symb_write_v5(&req, res, &dbg, &out, NULL) == SYM_OK)
            check(&out);
        sym_buf_reset(&out);
        if (srv_symb_write_v4(&req, res, &out, NULL) == SYM_OK)
            check(&out);
        sym_buf_cleanup(&out);
        sym_free(res);
        srv_symb_request_free(&req);
    }
    return 0;
}
