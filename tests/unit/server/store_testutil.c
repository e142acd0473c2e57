/* SPDX-License-Identifier: MPL-2.0 */
/* store_testutil.c: helpers shared by the storage tests (see store_testutil.h). */
#include "store_testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "t.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

int mem_sink(void *ctx, const void *data, size_t len)
{
    struct mem_sink *m = ctx;
    m->calls++;
    if (len > m->cap - m->len)
        return 1;
    char *p = realloc(m->data, m->len + len + 1);
    if (p == NULL)
        return 1;
    m->data = p;
    memcpy(m->data + m->len, data, len);
    m->len += len;
    m->data[m->len] = '\0';
    return 0;
}

void mem_sink_free(struct mem_sink *m)
{
    free(m->data);
    m->data = NULL;
    m->len = 0;
}

void hex_encode(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void md5_hex_of(const void *data, size_t len, char out[33])
{
    unsigned char md[16];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) != 1)
        T_FAIL("EVP_Digest failed");
    hex_encode(md, 16, out);
}

void gen_file(const char *path, uint64_t size, uint32_t seed, char md5_hex[33])
{
    enum { CHUNK = 1 << 20 };
    uint32_t *buf = malloc(CHUNK);
    FILE *f = fopen(path, "wb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    T_ASSERT(buf != NULL && f != NULL && ctx != NULL);
    T_ASSERT(EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1);
    uint32_t x = seed | 1;
    for (uint64_t done = 0; done < size;) {
        for (size_t i = 0; i < CHUNK / 4; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = x;
        }
        size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        T_ASSERT(fwrite(buf, 1, n, f) == n);
        T_ASSERT(EVP_DigestUpdate(ctx, buf, n) == 1);
        done += n;
    }
    unsigned char md[16];
    unsigned int n = 0;
    T_ASSERT(EVP_DigestFinal_ex(ctx, md, &n) == 1);
    hex_encode(md, 16, md5_hex);
    EVP_MD_CTX_free(ctx);
    T_ASSERT(fclose(f) == 0);
    free(buf);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct fetch_headers {
    char *ce;
    size_t cap;
};

static size_t fetch_header(char *buf, size_t size, size_t n, void *ud)
{
    struct fetch_headers *h = ud;
    size_t len = size * n;
    if (len > 17 && strncasecmp(buf, "content-encoding:", 17) == 0) {
        const char *v = buf + 17;
        size_t vlen = len - 17;
        while (vlen > 0 && (*v == ' ')) {
            v++;
            vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        if (vlen < h->cap) {
            memcpy(h->ce, v, vlen);
            h->ce[vlen] = '\0';
        }
    }
    return len;
}

static size_t fetch_body(char *buf, size_t size, size_t n, void *ud)
{
    return mem_sink(ud, buf, size * n) == 0 ? size * n : 0;
}

long http_fetch(const char *url, struct mem_sink *body, char *content_encoding, size_t ce_cap)
{
    struct fetch_headers h = {content_encoding, ce_cap};
    content_encoding[0] = '\0';
    CURL *c = curl_easy_init();
    T_ASSERT(c != NULL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fetch_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    CURLcode r = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (r != CURLE_OK)
        T_FAIL("fetching a storage URL failed: %s", curl_easy_strerror(r));
    return status;
}
