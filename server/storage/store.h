/* SPDX-License-Identifier: MPL-2.0 */
/* store.h: object storage behind one interface, with two backends: a local folder (the embedded
 * default) and S3-compatible object storage over libcurl (SigV4, path-style).
 *
 * Keys are full object keys, prefix included: "v1/<debug_file>/<debug_id>/<file>" or
 * "try/v1/...". They are built only by store_key_build(), which validates every component,
 * because debug_file and file come from URLs and zip members. Every operation checks its key
 * again with store_key_check() and answers SYM_EINVAL for a bad one, touching nothing.
 *
 * Every function is thread-safe: one struct store is shared by all worker threads. Every call may
 * block (disk, network), so none of them may run on an event-loop thread. Errors:
 *   SYM_ENOTFOUND  no object at that key (a result, not a failure);
 *   SYM_EUNAVAIL   the backend did not answer, timed out, or answered 5xx/429 after retries, or
 *                  the bucket does not exist (retryable);
 *   SYM_EIO        local I/O failed, or the backend refused the request (4xx other than 404, for
 *                  example bad credentials: not retryable by waiting);
 *   SYM_EEXISTS    local folder only: the key runs through an existing object, or a directory
 *                  sits where the object would go ("a/b" stored, then "a/b/c" put);
 *   SYM_ECORRUPT   the stored attributes of an object are malformed;
 *   SYM_EINVAL     a bad key or argument;
 *   SYM_ENOMEM     out of memory;
 *   SYM_ELIMIT     the sink refused more bytes, or an object exceeds a backend limit;
 * with a message in the optional struct sym_diag (operations never put URLs, keys or
 * credentials there; store_open() names the folder it could not create). */
#ifndef SRV_STORE_H
#define SRV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"

/* Longest object key accepted (S3's limit), and longest key component. */
#define STORE_MAX_KEY_LEN       1024
#define STORE_MAX_COMPONENT_LEN 255
/* Content type recorded when a put gives none (what GCS and S3 clients default to). */
#define STORE_DEFAULT_CONTENT_TYPE "application/octet-stream"

/* What is known of a stored object. Strings are "" when absent. */
struct store_object_info {
    uint64_t size; /* stored bytes (the gzip size for .sym objects) */
    bool has_original_size;
    uint64_t original_size;    /* x-amz-meta-original_size: uncompressed size */
    char original_md5[33];     /* x-amz-meta-original_md5_hash: lowercase hex MD5 */
    char content_type[128];    /* e.g. "text/plain" */
    char content_encoding[32]; /* e.g. "gzip" */
    char cache_control[64];    /* e.g. "no-transform" */
    char etag[80];             /* an HTTP entity tag, quotes included, e.g. "\"9a0364b9\"" */
    int64_t last_modified;     /* Unix seconds, 0 when unknown */
};

/* Attributes to store with an object; NULL (or "") strings mean "none". Strings must be printable
 * ASCII (no control characters, so no header injection) and fit the matching field of struct
 * store_object_info; original_md5 is 32 lowercase hex characters. Anything else: SYM_EINVAL.
 * A NULL content_type is stored as STORE_DEFAULT_CONTENT_TYPE. */
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

/* The backend vtable. Call through it as s->ops->get(s->impl, ...). Every pointer argument is
 * borrowed for the call only; opts may be NULL (no attributes); d may be NULL. */
struct store_ops {
    const char *name; /* "file" or "s3" */
    /* Fills *out (only on success). SYM_ENOTFOUND when absent. */
    sym_err (*head)(void *impl, const char *key, struct store_object_info *out, struct sym_diag *d);
    /* Streams the object into sink; *info_out (optional) is filled before the first byte (also
     * for an empty object). A sink refusal gives SYM_ELIMIT. On S3, a transfer cut after bytes
     * reached the sink is not retried (the sink cannot take them twice): SYM_EUNAVAIL. */
    sym_err (*get)(void *impl, const char *key, store_sink_fn sink, void *sink_ctx,
                   struct store_object_info *info_out, struct sym_diag *d);
    /* Stores the whole file at path under key, atomically: readers see the old object or the
     * new one, never a torn one, and an object's attributes always come with its bytes. The file
     * is streamed, never held in memory. SYM_EIO when path cannot be read; SYM_ELIMIT on S3 for
     * a file over 5 GiB (the single-PUT limit). */
    sym_err (*put_file)(void *impl, const char *key, const char *path,
                        const struct store_put_opts *opts, struct sym_diag *d);
    sym_err (*put_mem)(void *impl, const char *key, const void *data, size_t len,
                       const struct store_put_opts *opts, struct sym_diag *d);
    /* Removes the object. Deleting a missing key is SYM_OK, as on S3. */
    sym_err (*del)(void *impl, const char *key, struct sym_diag *d);
    /* Cheap reachability check for /__heartbeat__: SYM_OK when the backend answers and the
     * bucket or folder exists, SYM_EUNAVAIL otherwise (with the reason in d). */
    sym_err (*ping)(void *impl, struct sym_diag *d);
    /* The URL a client is redirected to for key: for S3 the public URL (when one is configured)
     * or a presigned GET URL (a plain URL when the store has no credentials); the local-folder
     * backend has none and returns SYM_ENOTFOUND, and the server then serves the object itself
     * (store_fs_open_read()). Appends to out; SYM_ENOMEM/SYM_ELIMIT from the buffer. Does not
     * check that the object exists. */
    sym_err (*url)(void *impl, const char *key, struct sym_buf *out);
    void (*close)(void *impl);
    /* Local folder only (NULL for S3): see store_fs_open_read(). */
    sym_err (*open_read)(void *impl, const char *key, int *fd_out,
                         struct store_object_info *info_out, struct sym_diag *d);
};

struct store {
    const struct store_ops *ops;
    void *impl;
};

/* Settings for store_open(); strings are borrowed for the duration of the call only. Zero
 * numbers mean the defaults given. */
struct store_config {
    /* "file:///abs/dir" (percent-encoded path; host empty or "localhost"), or
     * "s3://bucket[/prefix]?endpoint=http://host:port&region=us-east-1[&public_url=URL]
     * [&path_style=1]". The endpoint defaults to https://s3.<region>.amazonaws.com and the
     * region to us-east-1; requests are path-style (endpoint/bucket/key). A prefix is put in
     * front of every key ("prefix/v1/..."). Unknown parameters are rejected. */
    const char *url;
    const char *access_key;      /* S3 only; NULL with secret_key NULL: unsigned requests */
    const char *secret_key;      /* S3 only */
    const char *public_url;      /* S3 only: base URL for redirects, overrides ?public_url= in
                                  * url; NULL (and no ?public_url=) means presigned URLs */
    uint32_t presign_expiry_s;   /* S3 only: lifetime of presigned URLs (3600; max 604800) */
    uint32_t timeout_ms;         /* S3 only: per request (30000), plus 1 s per MiB of body */
    uint32_t connect_timeout_ms; /* S3 only (5000) */
    uint32_t retries; /* S3 only: extra attempts on network errors, 5xx and 429 (0; max 10) */
};

/* Opens the backend named by cfg->url. SYM_EINVAL with a message naming what is wrong for a
 * malformed URL or setting; SYM_EIO when the local folder cannot be created, or its filesystem
 * cannot store the attributes (user extended attributes, see store_fs.c), or libcurl cannot be
 * initialised; SYM_ENOMEM. Opening S3 makes no request: ping() does. *out is written only on
 * success; the caller closes it with store_close(). */
sym_err store_open(const struct store_config *cfg, struct store *out,
                   struct sym_diag *d) SYM_MUST_CHECK;
/* Releases everything; s may be NULL or already closed. No call may be in flight. */
void store_close(struct store *s);

/* Checks a full object key: 1..STORE_MAX_KEY_LEN bytes of valid UTF-8 without control
 * characters, '/'-separated components that are non-empty, at most STORE_MAX_COMPONENT_LEN
 * bytes, not "." or "..", and do not start with ".sigil-tmp." (reserved for the local folder's
 * temporary files). SYM_EINVAL with the reason otherwise. */
sym_err store_key_check(const char *key, struct sym_diag *d) SYM_MUST_CHECK;

/* Builds "[try/]v1/<debug_file>/<debug_id>/<file>" into out (appending). Each component must be
 * non-empty, at most 255 bytes of valid UTF-8, contain no '/', no control characters, not be
 * "." or "..", and not start with ".sigil-tmp.". SYM_EINVAL otherwise (out untouched);
 * SYM_ENOMEM/SYM_ELIMIT from the buffer. debug_id is copied as given (callers upper-case it). */
sym_err store_key_build(struct sym_buf *out, bool try_storage, const char *debug_file,
                        const char *debug_id, const char *file) SYM_MUST_CHECK;

/* Local folder only, for the server's route that serves objects itself: opens the object at key
 * for reading and fills *info_out (optional) with its size and stored attributes. *fd_out is a
 * read-only descriptor at offset 0 of a regular file, owned by the caller (close() it); it keeps
 * reading the same bytes even if the object is overwritten or deleted meanwhile. Written only on
 * success. SYM_ENOTFOUND when absent; SYM_EINVAL for a bad key or when s is not a local-folder
 * store (S3 objects are served through url()); SYM_EIO; SYM_ECORRUPT. */
sym_err store_fs_open_read(const struct store *s, const char *key, int *fd_out,
                           struct store_object_info *info_out, struct sym_diag *d) SYM_MUST_CHECK;

#endif
