/* SPDX-License-Identifier: MPL-2.0 */
/* store_s3_int.h: the S3 backend's settings, parsed from the storage URL and struct
 * store_config by store_s3_config.c and used by store_s3.c. */
#ifndef SRV_STORE_S3_INT_H
#define SRV_STORE_S3_INT_H

#include <stdint.h>

#include "storage/store.h"
#include "sym/err.h"

#define STORE_S3_DEFAULT_TIMEOUT_MS 30000
#define STORE_S3_DEFAULT_CONNECT_MS 5000
#define STORE_S3_DEFAULT_PRESIGN_S  3600
#define STORE_S3_MAX_RETRIES        10
#define STORE_S3_MAX_URL            (16 * 1024)

/* Every string is owned (sym_malloc) and NUL-terminated. */
struct store_s3_settings {
    char *bucket;
    char *prefix;     /* "" or a valid key without trailing '/', put before every key */
    char *base;       /* scheme://authority[/path], lower-cased scheme and host, no trailing '/' */
    char *base_path;  /* the "/path" part of base, "" when none */
    char *host;       /* the Host header clients send for base (default port dropped) */
    char *region;     /* e.g. "us-east-1" */
    char *sigv4;      /* CURLOPT_AWS_SIGV4 value: "aws:amz:<region>:s3" */
    char *access_key; /* NULL: requests go unsigned and url() gives plain URLs */
    char *secret_key; /* NULL exactly when access_key is */
    char *public_url; /* NULL, or an http(s) base URL without trailing '/' */
    uint32_t presign_expiry_s, timeout_ms, connect_timeout_ms, retries;
};

/* Parses rest (the storage URL after "s3://") and cfg into *out, which the caller zeroes and
 * always cleans up with store_s3_settings_cleanup(), also on failure. SYM_EINVAL with a message
 * naming the bad part; SYM_ENOMEM. Empty access/secret keys and public URLs count as absent. */
sym_err store_s3_settings_parse(const char *rest, const struct store_config *cfg,
                                struct store_s3_settings *out, struct sym_diag *d);
/* Frees every string (wiping the secret key); s stays zeroed. */
void store_s3_settings_cleanup(struct store_s3_settings *s);

#endif
