/* SPDX-License-Identifier: MPL-2.0 */
/* local_source.h: a symbol supplier over local directories in Breakpad's symbol-store layout,
 * tried in order:
 *     <dir>/<debug_file>/<debug_id>/<debug_file without .pdb>.sym
 * and, for modules without a debug id (or not found that way) that have a code id,
 *     <dir>/<code_file>/<code_id>/<code_file without .dll/.exe>.sym
 * (file names are basenames of the dump's paths). Each file is parsed once, streaming, into a
 * symcache image kept while walks use it (and after, within max_bytes). Thread-safe. */
#ifndef SRV_LOCAL_SOURCE_H
#define SRV_LOCAL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "stackwalk/supplier.h"
#include "sym/err.h"

struct srv_local_source;

/* dirs: n_dirs directory paths (copied). max_bytes bounds the images kept (0: 2 GiB).
 * Returns SYM_OK and *out (free with srv_local_source_free), SYM_EINVAL (no dirs) or
 * SYM_ENOMEM. Directories that do not exist simply hold no symbols. */
SYM_MUST_CHECK sym_err srv_local_source_new(const char *const *dirs, size_t n_dirs,
                                            size_t max_bytes, struct srv_local_source **out);
/* No walk may still be using its images. NULL is a no-op. */
void srv_local_source_free(struct srv_local_source *s);

/* The supplier view; valid as long as s. Its get() returns SYM_OK, SYM_ENOTFOUND, SYM_EIO (a
 * file exists but cannot be read), SYM_EPARSE (not a symbol file), SYM_ELIMIT, SYM_ENOMEM. */
struct sw_supplier srv_local_source_supplier(struct srv_local_source *s);

#endif
