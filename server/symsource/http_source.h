/* SPDX-License-Identifier: MPL-2.0 */
/* http_source.h: fetching Breakpad symbol files from HTTP symbol servers (Tecken-compatible
 * stores such as https://symbols.mozilla.org/), tried in order. For a module it requests
 *     <base>/<debug_file>/<debug_id>/<debug_file without .pdb>.sym
 * and, when the module has no debug id (or that is not found) but a code file and code id,
 *     <base>/<code_file>/<CODE_ID>/<code_file without .exe/.dll>.sym
 * whose redirect names the real debug file and id. Redirects are followed (bounded), gzip is
 * decoded (Content-Encoding or a gzip body), 404 means "not here", 429 and 5xx are retried with
 * exponential backoff, every transfer has connect and total timeouts and a body-size cap.
 *
 * Two levels: srv_http_fetch() returns the .sym bytes; srv_http_image() streams the body
 * straight into the .sym parser and keeps the image in a cache shared by all callers (each key
 * is fetched and parsed once while cached, concurrent callers share the work). The source is
 * thread-safe: any number of threads may call it; curl handles are pooled for connection reuse.
 * Uses libcurl and zlib; the caller initialises libcurl process-wide (curl_global_init) before
 * creating one. */
#ifndef SRV_HTTP_SOURCE_H
#define SRV_HTTP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackwalk/supplier.h"
#include "sym/buf.h"
#include "sym/err.h"
#include "sym/image.h"

struct srv_http_source_opts {
    const char *const *urls; /* base URLs ("https://host/prefix"), tried in order; copied */
    size_t n_urls;
    long connect_timeout_ms;  /* default 5000 */
    long timeout_ms;          /* one transfer, redirects included; default 60000 */
    unsigned max_retries;     /* per URL on 429/5xx/transient errors; default 3 */
    long retry_base_ms;       /* first backoff, doubled each time; default 250 */
    long retry_max_ms;        /* backoff cap, also for Retry-After; default 5000 */
    unsigned max_redirects;   /* default 5 */
    size_t max_body_bytes;    /* decoded .sym size cap; default 1 GiB */
    size_t max_cache_bytes;   /* images kept by srv_http_image; default 2 GiB */
    uint64_t negative_ttl_ms; /* how long a not-found is remembered; default 0: for ever */
    const char *user_agent;   /* default "sigil" */
};
/* Fills the defaults (no URLs). */
void srv_http_source_opts_init(struct srv_http_source_opts *o);

struct srv_http_source;

/* Returns SYM_OK and *out (free with srv_http_source_free); SYM_EINVAL (no URL, or a URL that
 * is not http(s)); SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_http_source_new(const struct srv_http_source_opts *o,
                                           struct srv_http_source **out, struct sym_diag *d);
/* No call may be running and no image of srv_http_image may be in use. NULL is a no-op. */
void srv_http_source_free(struct srv_http_source *s);

/* What to look for; strings borrowed for the call. debug_file/debug_id may be empty when
 * code_file/code_id are given, and vice versa. */
struct srv_http_key {
    const char *debug_file, *debug_id, *code_file, *code_id;
};

/* Where a result came from. Strings are owned by the caller (free with sym_free). */
struct srv_http_origin {
    char *url;        /* the URL asked (before redirects) */
    char *debug_file; /* when found by code id: the debug file and id the redirect named */
    char *debug_id;
};
void srv_http_origin_cleanup(struct srv_http_origin *o);

/* Downloads the .sym text (decompressed) into text (previous contents replaced; its max_len
 * applies too). Returns SYM_OK and *origin; SYM_ENOTFOUND (no server has it); SYM_EUNAVAIL
 * (a server kept failing or timing out and none had it); SYM_ELIMIT (body over the cap);
 * SYM_EINVAL (unusable names: empty, '/', "..", control characters); SYM_ENOMEM. d describes
 * failures. */
SYM_MUST_CHECK sym_err srv_http_fetch(struct srv_http_source *s, const struct srv_http_key *key,
                                      struct sym_buf *text, struct srv_http_origin *origin,
                                      struct sym_diag *d);

struct srv_http_image {
    const struct sym_image *image;     /* valid until srv_http_source_free */
    bool corrupt;                      /* the .sym had malformed lines */
    const char *url;                   /* owned by the source */
    const char *debug_file, *debug_id; /* when found by code id; owned by the source */
    void *ref;
};

/* The parsed image for key, fetched and parsed once while cached. Returns SYM_OK and *out (a
 * reference: give it back with srv_http_image_release), the errors of srv_http_fetch, or
 * SYM_EPARSE when the server's file is not a symbol file. A transient failure (SYM_EUNAVAIL) is
 * not remembered: a later call tries again; a not-found is, for negative_ttl_ms. */
SYM_MUST_CHECK sym_err srv_http_image(struct srv_http_source *s, const struct srv_http_key *key,
                                      struct srv_http_image *out, struct sym_diag *d);
void srv_http_image_release(struct srv_http_source *s, struct srv_http_image *img);

/* The stack-walker supplier view (srv_http_image per module); valid as long as s. */
struct sw_supplier srv_http_source_supplier(struct srv_http_source *s);

/* Counters since creation (for metrics and tests). */
struct srv_http_stats {
    uint64_t requests, retries, not_found, failures, bytes;
};
void srv_http_source_stats(struct srv_http_source *s, struct srv_http_stats *out);

#endif
