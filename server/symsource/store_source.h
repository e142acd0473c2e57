/* SPDX-License-Identifier: MPL-2.0 */
/* store_source.h: a symbol supplier over the server's own storage (storage/store.h): a module's
 * symbols are the object v1/<debug_file>/<debug_id>/<debug_file without .pdb>.sym, else
 * v1/<code_file>/<CODE_ID>/<code_file without .exe/.dll>.sym, stored plain or gzip-compressed.
 * Each object is streamed once through the .sym parser into a symcache image shared by the walks
 * that need it (concurrent requests for one module share the work; unused images are evicted
 * within the cache bounds). Thread-safe when the store is. */
#ifndef SRV_STORE_SOURCE_H
#define SRV_STORE_SOURCE_H

#include <stddef.h>

#include "stackwalk/supplier.h"
#include "storage/store.h"
#include "sym/err.h"
#include "symsource/image_cache.h"

struct srv_store_source;

/* store is borrowed and must outlive the source. max_body_bytes caps a decoded .sym (0: 1 GiB);
 * cache_opts bound the images kept and say how long a missing object is remembered (NULL: the
 * defaults of image_cache.h; a server gives a negative TTL so new uploads are seen). Returns
 * SYM_OK and *out (free with srv_store_source_free), SYM_EINVAL or SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_store_source_new(const struct store *store, size_t max_body_bytes,
                                            const struct srv_image_cache_opts *cache_opts,
                                            struct srv_store_source **out);
/* No walk may still use its images. NULL is a no-op. */
void srv_store_source_free(struct srv_store_source *s);

/* The supplier view; valid as long as s. get() returns SYM_OK, SYM_ENOTFOUND, SYM_EUNAVAIL or
 * SYM_EIO (storage failing; not remembered, so a later walk asks again), SYM_EPARSE (the object
 * is not a symbol file), SYM_ELIMIT, SYM_ENOMEM. */
struct sw_supplier srv_store_source_supplier(struct srv_store_source *s);

#endif
