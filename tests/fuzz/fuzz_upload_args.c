/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_upload_args.c: the request arguments of the upload and listing APIs on arbitrary bytes:
 * urlencoded form values, the size and date filters, and Auth-Token values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upload/filters.h"
#include "upload/form.h"
#include "upload/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    static const char *const keys[] = {"url", "try", "size", "created_at", ""};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        bool present;
        size_t len = 0;
        char *v = srv_form_value(s, size, keys[k], &present, &len);
        if (v != NULL && len > 0 && v[len] != '\0')
            abort();
        if (v != NULL) {
            int64_t lo, hi;
            bool null;
            (void)srv_filter_size(v, len, &lo, &hi);
            (void)srv_filter_date(v, len, 1783680190000000, &lo, &hi, &null);
        }
        free(v);
    }
    int64_t lo = 0, hi = 0;
    bool null = false;
    (void)srv_filter_size(s, size, &lo, &hi);
    (void)srv_filter_date(s, size, 0, &lo, &hi, &null);
    unsigned char hash[32];
    (void)srv_token_hash(s, size, hash);
    return 0;
}
