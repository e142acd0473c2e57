/* SPDX-License-Identifier: MPL-2.0 */
/* store_suite.h: one body of storage tests, run unchanged against every backend. Each test
 * executable (test_store_fs.c, test_store_s3.c) defines suite_backend, which opens fresh stores
 * of its kind, and lists STORE_SUITE_TESTS in its T_LIST. */
#ifndef SIGIL_TEST_STORE_SUITE_H
#define SIGIL_TEST_STORE_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "store_testutil.h"

struct suite_backend {
    const char *name;
    /* Opens a fresh, empty store (its own folder or its own key prefix); T_SKIPs when the
     * backend is not available. */
    void (*open)(struct store *out);
    /* Opens a store whose backend cannot be reached (removed folder, closed port), with short
     * timeouts. */
    void (*open_dead)(struct store *out);
    /* Removes what open() created, after store_close(). */
    void (*cleanup)(void);
    /* Concurrent readers never see a torn overwrite. Real S3 and the local folder guarantee it;
     * s3rver writes objects in place, so against it overwrites and reads take turns. */
    bool atomic_overwrite;
    /* url() gives redirect URLs (S3) rather than SYM_ENOTFOUND (local folder). */
    bool has_urls;
};

extern const struct suite_backend suite_backend;

void suite_roundtrip(void);
void suite_metadata(void);
void suite_not_found(void);
void suite_empty_object(void);
void suite_overwrite(void);
void suite_special_keys(void);
void suite_large_streamed(void);
void suite_invalid_keys(void);
void suite_invalid_opts(void);
void suite_concurrent(void);
void suite_url_fetch(void);
void suite_ping(void);
void suite_ping_dead(void);
void suite_put_file_missing(void);
void suite_sink_refusal(void);

#define STORE_SUITE_TESTS                                                                     \
    T_TEST(suite_roundtrip), T_TEST(suite_metadata), T_TEST(suite_not_found),                 \
        T_TEST(suite_empty_object), T_TEST(suite_overwrite), T_TEST(suite_special_keys),      \
        T_TEST(suite_large_streamed), T_TEST(suite_invalid_keys), T_TEST(suite_invalid_opts), \
        T_TEST(suite_concurrent), T_TEST(suite_url_fetch), T_TEST(suite_ping),                \
        T_TEST(suite_ping_dead), T_TEST(suite_put_file_missing), T_TEST(suite_sink_refusal)

#endif
