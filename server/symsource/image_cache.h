/* SPDX-License-Identifier: MPL-2.0 */
/* image_cache.h: parsed symcache images kept for the life of a run (one CLI invocation, or a
 * server component), keyed by a string such as "<debug_file>/<debug_id>". Each key is loaded
 * once even under concurrency: the first caller runs the loader while others wait for its
 * result (single flight); negative results are kept too. Images stay valid until the cache is
 * freed, so stack walkers may borrow them freely. Memory is bounded: once max_bytes of images
 * are held, further loads are reported as SYM_ELIMIT instead of being kept. Thread-safe. */
#ifndef SRV_IMAGE_CACHE_H
#define SRV_IMAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "sym/image.h"

struct srv_image_cache;

/* max_bytes 0 means 2 GiB. Returns SYM_OK and *out (free with srv_image_cache_free), or
 * SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_image_cache_new(size_t max_bytes, struct srv_image_cache **out);
/* Frees every image. No srv_image_cache_get() may be running, and no image may be in use. */
void srv_image_cache_free(struct srv_image_cache *c);

/* What a loader reports besides the image. Strings are sym_malloc'd (or NULL) and owned by the
 * cache once the loader returns, whatever it returns. */
struct srv_image_meta {
    bool corrupt;     /* the .sym had malformed lines */
    char *url;        /* where it came from */
    char *debug_file; /* when found by code id: the debug file and id it names */
    char *debug_id;
};

/* A loader fills image (a built symcache, see sym/symfile.h) and returns SYM_OK, or returns
 * SYM_ENOTFOUND / another error. meta is zeroed before the call. */
typedef sym_err (*srv_image_load_fn)(void *ctx, struct sym_buf *image, struct srv_image_meta *meta);

struct srv_cached_image {
    const struct sym_image *image; /* valid until srv_image_cache_free */
    bool corrupt;
    const char *url; /* NULL or owned by the cache, like the two below */
    const char *debug_file, *debug_id;
};

/* Returns the image for key, running load (once per key per cache) when it is not cached.
 * Returns SYM_OK and *out; the loader's error for a failed load (SYM_ENOTFOUND and other
 * non-retryable errors are remembered; SYM_EUNAVAIL/SYM_EIO are not, so a later call retries);
 * SYM_ECORRUPT when the loader's bytes are not a valid image; SYM_ELIMIT when the cache is
 * full; SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_image_cache_get(struct srv_image_cache *c, const char *key,
                                           srv_image_load_fn load, void *ctx,
                                           struct srv_cached_image *out);

/* Bytes of images held and number of keys (for metrics and tests). */
void srv_image_cache_stats(struct srv_image_cache *c, size_t *bytes, size_t *entries);

#endif
