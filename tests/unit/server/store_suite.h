/* SPDX-License-Identifier: MPL-2.0 */
/* store_suite.h: one body of storage tests, run unchanged against every backend. Each test
 * executable (test_store_fs.c, test_store_s3.c) defines suite_backend, which opens fresh stores
 * of its kind, and lists STORE_SUITE_TESTS in its T_LIST. Also helpers shared by the storage
 * tests: sinks, generated files, directory removal. */
#ifndef SIGIL_TEST_STORE_SUITE_H
#define SIGIL_TEST_STORE_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

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

/* ---- helpers shared by the storage tests ---- */

/* A sink that keeps up to cap bytes in memory (malloc'd data, freed by mem_sink_free()). */
struct mem_sink {
    char *data;
    size_t len, cap;
    unsigned calls;
};
int mem_sink(void *ctx, const void *data, size_t len);
void mem_sink_free(struct mem_sink *m);

/* Writes size bytes of a deterministic pseudo-random stream (seeded) to path in 1 MiB chunks,
 * never holding the whole file; md5_hex receives the file's MD5. */
void gen_file(const char *path, uint64_t size, uint32_t seed, char md5_hex[33]);
/* MD5 of a buffer, as lowercase hex. */
void md5_hex_of(const void *data, size_t len, char out[33]);
/* rm -rf. */
void remove_tree(const char *path);
/* Fetches url with libcurl, no credentials; body capped at cap bytes. Returns the HTTP status;
 * *content_encoding receives the response's Content-Encoding ("" when none). */
long http_fetch(const char *url, struct mem_sink *body, char *content_encoding, size_t ce_cap);

#endif
