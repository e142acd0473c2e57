/* SPDX-License-Identifier: MPL-2.0 */
/* upstream.h: an upstream symbol server over HTTP (libcurl), in the Tecken download layout
 * <base>/<debug_file>/<debug_id>/<sym_file>. Redirects are followed (Tecken answers 302 to its
 * storage), Content-Encoding gzip is decoded, 429 and 5xx answers and connection failures are
 * retried with exponential backoff, 404 and other 4xx mean "not there", and every attempt has a
 * connect timeout and a total timeout, so a server that hangs costs a bounded time.
 *
 * The body of a 200 streams into the caller's sink as it arrives. An object is thread-safe: idle
 * easy handles are pooled, so connections to the server are reused across calls. Every call
 * blocks: worker threads only. */
#ifndef SRV_SYMB_UPSTREAM_H
#define SRV_SYMB_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"

struct srv_upstream_config {
    const char *base_url;        /* http:// or https://, with or without a trailing '/' */
    uint32_t timeout_ms;         /* per attempt, whole transfer (60000) */
    uint32_t connect_timeout_ms; /* per attempt (5000) */
    uint32_t retries;            /* extra attempts after a retryable failure (0) */
    uint32_t backoff_ms;         /* first retry delay, doubled each time (200) */
    const char *user_agent;      /* NULL: "sigil" */
};

struct srv_upstream;

/* Returns SYM_OK and *out, SYM_EINVAL for a base URL that is not http(s), SYM_EIO when libcurl
 * cannot be initialised, SYM_ENOMEM. The strings are copied. */
sym_err srv_upstream_new(const struct srv_upstream_config *cfg, struct srv_upstream **out,
                         struct sym_diag *d) SYM_MUST_CHECK;
void srv_upstream_free(struct srv_upstream *u);
/* The base URL, normalised to end with '/'. */
const char *srv_upstream_base(const struct srv_upstream *u);

/* Receives body bytes of a 200 in order; returns 0 to go on, non-zero to abort the transfer. */
typedef int (*srv_upstream_sink_fn)(void *ctx, const void *data, size_t len);
/* Called before a retry when bytes already reached the sink: the sink starts over. */
typedef void (*srv_upstream_reset_fn)(void *ctx);

struct srv_upstream_stats {
    uint32_t attempts;
    long status;         /* final HTTP status, 0 when none was received */
    uint64_t wire_bytes; /* body bytes received (after content decoding) */
};

/* GETs <base>/<debug_file>/<debug_id>/<sym_file> (each part percent-encoded). Returns:
 *   SYM_OK        the whole body of a 200 went to sink;
 *   SYM_ENOTFOUND 404 or another 4xx (except 429);
 *   SYM_EUNAVAIL  429/5xx, timeout or connection failure, after the retries;
 *   SYM_ELIMIT    the sink refused bytes (the transfer was aborted, not retried);
 *   SYM_ENOMEM.
 * d (optional) says what happened (no credentials ever appear in it); st (optional) is filled. */
sym_err srv_upstream_get(struct srv_upstream *u, const char *debug_file, const char *debug_id,
                         const char *sym_file, srv_upstream_sink_fn sink,
                         srv_upstream_reset_fn reset, void *ctx, struct srv_upstream_stats *st,
                         struct sym_diag *d) SYM_MUST_CHECK;

#endif
