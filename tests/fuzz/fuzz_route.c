/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_route.c: request-path splitting, percent-decoding, route matching and the symbol-path
 * character rules on arbitrary paths and methods. */
#include <stdint.h>
#include <string.h>

#include "http/pathutil.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "X"};
    const char *method = methods[data[0] % 7];
    const char *path = (const char *)data + 1;
    size_t len = size - 1;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    struct srv_route_match m;
    srv_router_match(&pool, method, strlen(method), path, len, &m);
    for (size_t i = 0; m.route != NULL && i < m.n_params; i++) {
        (void)srv_component_valid(m.params[i], m.param_lens[i]);
        (void)srv_hex_valid(m.params[i], m.param_lens[i]);
        (void)srv_percent_encode_path(&pool, m.params[i], m.param_lens[i]);
    }
    h2o_iovec_t value;
    (void)srv_query_get(&pool, h2o_iovec_init(path, len), "code_file", &value);
    h2o_mem_clear_pool(&pool);
    return 0;
}
