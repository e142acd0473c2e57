/* SPDX-License-Identifier: MPL-2.0 */
/* image_cache.h: parsed symcache images shared by the walks of a process (one CLI run, or a
 * long-lived server), keyed by a string such as "<debug_file>/<debug_id>". Each key is loaded
 * once even under concurrency: the first caller runs the loader while the others wait for its
 * result (single flight). Failures are remembered for negative_ttl_ms (not-found answers) so a
 * stream of walks does not hammer a symbol server, except transient ones (SYM_EUNAVAIL,
 * SYM_EIO), which the next caller retries.
 *
 * Every successful get() takes a reference that the caller gives back with release(); images
 * nobody references are evicted, least recently used first, to keep the cache under max_bytes
 * and max_entries. An image stays valid while referenced. Thread-safe. */
#ifndef SRV_IMAGE_CACHE_H
#define SRV_IMAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "sym/image.h"

struct srv_image_cache;

struct srv_image_cache_opts {
    size_t max_bytes;         /* images held (default 2 GiB) */
    size_t max_entries;       /* keys held, images and remembered failures (default 100000) */
    uint64_t negative_ttl_ms; /* how long a not-found is remembered (default 0: for ever) */
};

/* opts NULL selects the defaults (0 fields too). Returns SYM_OK and *out (free with
 * srv_image_cache_free), or SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_image_cache_new(const struct srv_image_cache_opts *opts,
                                           struct srv_image_cache **out);
/* Frees every image. No get() may be running and every reference must have been released. */
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
    const struct sym_image *image; /* valid until the reference is released */
    bool corrupt;
    const char *url; /* NULL or owned by the cache, like the two below */
    const char *debug_file, *debug_id;
    void *ref; /* give back with srv_image_cache_release() */
};

/* Returns the image for key (taking a reference), running load when it is not cached.
 * Returns SYM_OK and *out; the loader's error for a failed load (remembered as described
 * above); SYM_ECORRUPT when the loader's bytes are not a valid image; SYM_ELIMIT when the image
 * does not fit even after evicting every unreferenced one; SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_image_cache_get(struct srv_image_cache *c, const char *key,
                                           srv_image_load_fn load, void *ctx,
                                           struct srv_cached_image *out);
/* Gives a reference back; NULL is a no-op. */
void srv_image_cache_release(struct srv_image_cache *c, void *ref);

/* Bytes of images held and number of keys (for metrics and tests). */
void srv_image_cache_stats(struct srv_image_cache *c, size_t *bytes, size_t *entries);

#endif
