/* SPDX-License-Identifier: MPL-2.0 */
/* store_testutil.h: helpers shared by the storage tests: sinks, generated files, MD5s,
 * directory removal, and a plain HTTP client for redirect URLs. */
#ifndef SIGIL_TEST_STORE_TESTUTIL_H
#define SIGIL_TEST_STORE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

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
/* Lowercase hex of n bytes into out[2n+1]. */
void hex_encode(const unsigned char *b, size_t n, char *out);
/* MD5 of a buffer, as lowercase hex. */
void md5_hex_of(const void *data, size_t len, char out[33]);
/* rm -rf. */
void remove_tree(const char *path);
/* Fetches url with libcurl, no credentials; body capped at cap bytes. Returns the HTTP status;
 * *content_encoding receives the response's Content-Encoding ("" when none). */
long http_fetch(const char *url, struct mem_sink *body, char *content_encoding, size_t ce_cap);

#endif
