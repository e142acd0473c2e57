/* SPDX-License-Identifier: MPL-2.0 */
/* sigv4.h: the parts of AWS Signature Version 4 the S3 backend computes itself: presigned GET
 * query strings (libcurl signs headers only), and the primitives under them, which the tests
 * also use to check the Authorization headers libcurl computes. OpenSSL does the hashing. */
#ifndef SRV_STORE_SIGV4_H
#define SRV_STORE_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sym/buf.h"
#include "sym/err.h"

/* Hex SHA-256 of an empty body. */
#define STORE_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Longest presigned lifetime AWS accepts (seven days). */
#define STORE_SIGV4_MAX_EXPIRES 604800

/* out receives 64 lowercase hex digits and a NUL. SYM_ENOMEM when OpenSSL fails. */
sym_err store_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* The hex signature of string_to_sign under the key derived from secret for date8 (YYYYMMDD),
 * region and service ("s3"). SYM_ENOMEM when OpenSSL fails. */
sym_err store_sigv4_signature(const char *secret, const char *date8, const char *region,
                              const char *service, const char *string_to_sign, char out[65]);

/* Formats t as SigV4's date-time "YYYYMMDDTHHMMSSZ" (UTC) into out[17]. */
void store_sigv4_timestamp(time_t t, char out[17]);

/* What a presigned URL is computed from. Strings are borrowed. */
struct store_sigv4_presign {
    const char *method;     /* "GET" */
    const char *host;       /* the Host header a client will send: host[:port] */
    const char *path;       /* the request path exactly as sent, already percent-encoded */
    const char *region;     /* e.g. "us-east-1" */
    const char *access_key; /* any bytes; encoded into X-Amz-Credential */
    const char *secret_key;
    uint32_t expires_s; /* 1..STORE_SIGV4_MAX_EXPIRES */
    time_t now;         /* the signing time */
};

/* Appends the query string of a presigned request signing only the host header, with an
 * unsigned payload: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders, then X-Amz-Signature. SYM_EINVAL for a missing field or expiry out of
 * range; SYM_ENOMEM/SYM_ELIMIT from the buffer or OpenSSL. */
sym_err store_sigv4_presign_query(const struct store_sigv4_presign *p, struct sym_buf *out);

#endif
