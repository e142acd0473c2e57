/* SPDX-License-Identifier: MPL-2.0 */
/* sigv4.c: AWS Signature Version 4 presigning over OpenSSL: canonical request, string to sign,
 * signing-key derivation (HMAC chain over date, region, service, "aws4_request"). */
#include "storage/sigv4.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "storage/store_int.h"

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

sym_err store_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        return SYM_ENOMEM;
    to_hex(md, 32, out);
    return SYM_OK;
}

static sym_err hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &len) ==
            NULL ||
        len != 32)
        return SYM_ENOMEM;
    return SYM_OK;
}

sym_err store_sigv4_signature(const char *secret, const char *date8, const char *region,
                              const char *service, const char *string_to_sign, char out[65])
{
    unsigned char k[32], k2[32];
    char first[4 + 256];
    size_t slen = strlen(secret);
    if (slen > sizeof(first) - 5)
        return SYM_EINVAL;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, secret, slen + 1);
    sym_err rc = hmac(first, 4 + slen, date8, k);
    if (rc == SYM_OK)
        rc = hmac(k, 32, region, k2);
    if (rc == SYM_OK)
        rc = hmac(k2, 32, service, k);
    if (rc == SYM_OK)
        rc = hmac(k, 32, "aws4_request", k2);
    if (rc == SYM_OK)
        rc = hmac(k2, 32, string_to_sign, k);
    if (rc == SYM_OK)
        to_hex(k, 32, out);
    OPENSSL_cleanse(first, sizeof(first));
    OPENSSL_cleanse(k2, sizeof(k2));
    return rc;
}

void store_sigv4_timestamp(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

sym_err store_sigv4_presign_query(const struct store_sigv4_presign *p, struct sym_buf *out)
{
    if (p->method == NULL || p->host == NULL || p->path == NULL || p->region == NULL ||
        p->access_key == NULL || p->secret_key == NULL || p->expires_s == 0 ||
        p->expires_s > STORE_SIGV4_MAX_EXPIRES)
        return SYM_EINVAL;
    char stamp[17], date8[9], digest[65], sig[65];
    store_sigv4_timestamp(p->now, stamp);
    memcpy(date8, stamp, 8);
    date8[8] = '\0';

    struct sym_buf query, scratch;
    sym_buf_init(&query, 4096);
    sym_buf_init(&scratch, 8192);
    /* Parameters in byte order of their names, as the canonical query string needs them. */
    sym_buf_append_str(&query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    store_uri_encode(&query, p->access_key, strlen(p->access_key), false);
    sym_buf_printf(&query, "%%2F%s%%2F", date8);
    store_uri_encode(&query, p->region, strlen(p->region), false);
    sym_buf_printf(&query,
                   "%%2Fs3%%2Faws4_request&X-Amz-Date=%s&X-Amz-Expires=%u"
                   "&X-Amz-SignedHeaders=host",
                   stamp, (unsigned)p->expires_s);
    sym_err rc = sym_buf_err(&query);
    if (rc != SYM_OK)
        goto out;

    sym_buf_printf(&scratch, "%s\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", p->method, p->path,
                   query.data, p->host);
    rc = sym_buf_err(&scratch);
    if (rc == SYM_OK)
        rc = store_sigv4_sha256_hex(scratch.data, scratch.len, digest);
    if (rc != SYM_OK)
        goto out;
    sym_buf_reset(&scratch);
    sym_buf_printf(&scratch, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", stamp, date8,
                   p->region, digest);
    rc = sym_buf_err(&scratch);
    if (rc == SYM_OK)
        rc = store_sigv4_signature(p->secret_key, date8, p->region, "s3", scratch.data, sig);
    if (rc != SYM_OK)
        goto out;
    sym_buf_append(out, query.data, query.len);
    sym_buf_printf(out, "&X-Amz-Signature=%s", sig);
    rc = sym_buf_err(out);
out:
    sym_buf_cleanup(&query);
    sym_buf_cleanup(&scratch);
    return rc;
}
