/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_store.c: libFuzzer target for the storage layer's parsers of outside input: object keys
 * and key components (from URLs and zip members), %-decoding, storage URLs (opened without any
 * request, then asked for an object URL), the local folder's stored attribute text and S3
 * response header lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store.h"
#include "storage/store_int.h"
#include "sym/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t keep; /* results go here so that no check is optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sym_diag d;
    struct store_object_info info;
    struct sym_buf b;
    char *s = malloc(size + 6);
    if (s == NULL)
        return 0;
    memcpy(s, "s3://", 5);
    memcpy(s + 5, data, size);
    s[size + 5] = '\0';
    const char *text = s + 5;

    size_t sum = store_key_check(text, &d) == SYM_OK;

    /* Three components separated by newlines. */
    char *parts[3] = {NULL, NULL, NULL};
    char *copy = strdup(text);
    if (copy != NULL) {
        char *p = copy;
        for (int i = 0; i < 3 && p != NULL; i++) {
            parts[i] = p;
            p = strchr(p, '\n');
            if (p != NULL)
                *p++ = '\0';
        }
        if (parts[2] != NULL) {
            sym_buf_init(&b, 4096);
            sum += store_key_build(&b, parts[0][0] == 't', parts[0], parts[1], parts[2]) == SYM_OK;
            sym_buf_cleanup(&b);
        }
        free(copy);
    }

    char *decoded = NULL;
    if (store_pct_decode(text, strlen(text), &decoded) == SYM_OK)
        sym_free(decoded);

    struct store st;
    struct store_config cfg = {.url = s, .access_key = "AK", .secret_key = "SK"};
    if (store_open(&cfg, &st, &d) == SYM_OK) {
        sym_buf_init(&b, 0);
        (void)st.ops->url(st.impl, "v1/a b+c.pdb/ID/x.sym", &b);
        sym_buf_cleanup(&b);
        store_close(&st);
    }

    memset(&info, 0, sizeof(info));
    (void)store_fs_attrs_parse((const char *)data, size, &info, &d);

    memset(&info, 0, sizeof(info));
    for (size_t at = 0; at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        (void)store_s3_header(&info, (const char *)data + at, len);
        at += len + 1;
    }
    free(s);
    keep = sum;
    return 0;
}
