/* SPDX-License-Identifier: MPL-2.0 */
/* store.h: object storage behind one interface, with two backends: a local folder (the embedded
 * default) and S3-compatible object storage over libcurl (SigV4, path-style).
 *
 * Keys are full object keys, prefix included: "v1/<debug_file>/<debug_id>/<file>" or
 * "try/v1/...". They are built only by store_key_build(), which validates every component,
 * because debug_file and file come from URLs and zip members.
 *
 * Every function is thread-safe: one struct store is shared by all worker threads. Every call may
 * block (disk, network), so none of them may run on an event-loop thread. Errors:
 *   SYM_ENOTFOUND  no object at that key (a result, not a failure);
 *   SYM_EUNAVAIL   the backend did not answer or answered 5xx after retries (retryable);
 *   SYM_EIO        local I/O failed;
 *   SYM_EINVAL     a bad key or argument;
 *   SYM_ENOMEM     out of memory;
 *   SYM_ELIMIT     a body exceeded the caller's cap;
 * with a message in the optional struct sym_diag (URLs and credentials never go there). */
#ifndef SRV_STORE_H
#define SRV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"

/* What is known of a stored object. Strings are "" when absent. */
struct store_object_info {
    uint64_t size; /* stored bytes (the gzip size for .sym objects) */
    bool has_original_size;
    uint64_t original_size;    /* x-amz-meta-original_size: uncompressed size */
    char original_md5[33];     /* x-amz-meta-original_md5_hash: lowercase hex MD5 */
    char content_type[128];    /* e.g. "text/plain" */
    char content_encoding[32]; /* e.g. "gzip" */
    char cache_control[64];    /* e.g. "no-transform" */
    char etag[80];
    int64_t last_modified; /* Unix seconds, 0 when unknown */
};

/* Attributes to store with an object; NULL strings mean "none". */
struct store_put_opts {
    const char *content_type;
    const char *content_encoding;
    const char *cache_control;
    bool has_original_size;
    uint64_t original_size;
    const char *original_md5; /* 32 lowercase hex chars or NULL */
};

/* Receives object bytes in order; returns 0 to go on, non-zero to abort with SYM_ELIMIT. */
typedef int (*store_sink_fn)(void *ctx, const void *data, size_t len);

struct store_ops {
    const char *name; /* "file" or "s3" */
    sym_err (*head)(void *impl, const char *key, struct store_object_info *out, struct sym_diag *d);
    /* Streams the object into sink; *info_out (optional) is filled before the first byte. */
    sym_err (*get)(void *impl, const char *key, store_sink_fn sink, void *sink_ctx,
                   struct store_object_info *info_out, struct sym_diag *d);
    /* Stores the whole file at path under key, atomically: readers see the old object or the
     * new one, never a torn one. */
    sym_err (*put_file)(void *impl, const char *key, const char *path,
                        const struct store_put_opts *opts, struct sym_diag *d);
    sym_err (*put_mem)(void *impl, const char *key, const void *data, size_t len,
                       const struct store_put_opts *opts, struct sym_diag *d);
    sym_err (*del)(void *impl, const char *key, struct sym_diag *d);
    /* Cheap reachability check for /__heartbeat__: SYM_OK when the backend answers and the
     * bucket or folder exists. */
    sym_err (*ping)(void *impl, struct sym_diag *d);
    /* The URL a client is redirected to for key: for S3 the public URL (when one is configured)
     * or a presigned GET URL; the local-folder backend has none and returns SYM_ENOTFOUND, and
     * the server then serves the object itself. Appends to out. */
    sym_err (*url)(void *impl, const char *key, struct sym_buf *out);
    void (*close)(void *impl);
};

struct store {
    const struct store_ops *ops;
    void *impl;
};

/* Settings for store_open(); strings are borrowed for the duration of the call only. */
struct store_config {
    const char *url;           /* "file:///abs/dir" or "s3://bucket?endpoint=...&region=..." */
    const char *access_key;    /* S3 only */
    const char *secret_key;    /* S3 only */
    const char *public_url;    /* S3 only: base URL for redirects; NULL means presigned URLs */
    uint32_t presign_expiry_s; /* S3 only: lifetime of presigned URLs */
    uint32_t timeout_ms;       /* per request, S3 only */
    uint32_t connect_timeout_ms;
    uint32_t retries; /* extra attempts on network errors and 5xx, S3 only */
};

/* Opens the backend named by cfg->url. SYM_EINVAL with a message naming what is wrong for a
 * malformed URL; SYM_EIO when the local folder cannot be created. *out is written only on
 * success; the caller closes it with store_close(). */
sym_err store_open(const struct store_config *cfg, struct store *out, struct sym_diag *d);
void store_close(struct store *s);

/* Builds "[try/]v1/<debug_file>/<debug_id>/<file>" into out (appending). Each component must be
 * non-empty, at most 255 bytes, contain no '/', no control characters, and not be "." or "..".
 * SYM_EINVAL otherwise. debug_id is copied as given (callers upper-case it). */
sym_err store_key_build(struct sym_buf *out, bool try_storage, const char *debug_file,
                        const char *debug_id, const char *file);

#endif
