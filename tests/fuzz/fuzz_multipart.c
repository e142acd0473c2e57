/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_multipart.c: the multipart/form-data parser on arbitrary bodies, fed in chunks whose
 * sizes come from the input, plus the Content-Type boundary extraction. */
#include <stdint.h>
#include <string.h>

#include "http/multipart.h"

static sym_err on_begin(void *ctx, const struct srv_mp_part_info *info)
{
    (void)ctx;
    return info->name[0] == '!' ? SYM_ELIMIT : SYM_OK;
}

static sym_err on_data(void *ctx, const char *data, size_t len)
{
    size_t *total = ctx;
    if (len > 0 && data[len - 1] == '\0')
        (*total)++;
    *total += len;
    return SYM_OK;
}

static sym_err on_end(void *ctx)
{
    (void)ctx;
    return SYM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct srv_mp_callbacks cbs = {on_begin, on_data, on_end};
    if (size < 2)
        return 0;
    char boundary[SRV_MP_MAX_BOUNDARY + 1];
    (void)srv_mp_boundary((const char *)data, size < 200 ? size : 200, boundary);
    size_t chunk = (size_t)data[0] + 1;
    size_t total = 0;
    struct srv_multipart *mp = srv_mp_new("b0und", 8, &cbs, &total);
    if (mp == NULL)
        return 0;
    struct sym_diag d = {0};
    sym_err rc = SYM_OK;
    for (size_t off = 1; off < size && rc == SYM_OK; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        rc = srv_mp_feed(mp, (const char *)data + off, n, &d);
    }
    if (rc == SYM_OK)
        (void)srv_mp_finish(mp, &d);
    srv_mp_free(mp);
    return 0;
}
