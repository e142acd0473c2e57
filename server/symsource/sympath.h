/* SPDX-License-Identifier: MPL-2.0 */
/* sympath.h: symbol-store paths, shared by the local and HTTP symbol sources:
 *     <debug_file>/<debug_id>/<debug_file without .pdb>.sym
 *     <code_file>/<code_id>/<code_file with its .exe/.dll extension replaced>.sym
 * Names are the basenames of the paths a dump records (split on '/' and '\'). Every part is
 * validated before it is used in a file path or URL. */
#ifndef SRV_SYMPATH_H
#define SRV_SYMPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "stackwalk/supplier.h"
#include "sym/err.h"
#include "symsource/image_cache.h"

/* Writes "<name>/<id>/<symfile>" into out. by_code_file selects the code-file form (its
 * extension is replaced by .sym; the id is upper-cased as symbol servers store code ids);
 * otherwise a trailing ".pdb" (any case) is stripped and ".sym" appended. Returns SYM_OK;
 * SYM_EINVAL when name or id is empty, ".", "..", or holds '/', '\', control characters or
 * '%'; SYM_ELIMIT when out is too small. */
SYM_MUST_CHECK sym_err srv_sym_path(const char *name, const char *id, bool by_code_file, char *out,
                                    size_t out_len);

/* Looks a module up the way Breakpad's symbol stores are searched: its debug path first (the
 * code file standing in for a missing debug file, as MinGW builds need), then its code path.
 * try_rel(ctx, rel, out) loads one store-relative path and returns SYM_ENOTFOUND to go on.
 * upper_debug_id upper-cases the debug id first (stores that keep ids upper-case). Returns the
 * first answer other than SYM_ENOTFOUND, else SYM_ENOTFOUND. */
typedef sym_err (*srv_sym_try_fn)(void *ctx, const char *rel, struct sw_symbols *out);
sym_err srv_sym_find(const struct sw_module_key *key, bool upper_debug_id, srv_sym_try_fn try_rel,
                     void *ctx, struct sw_symbols *out);

/* Fills out from an image the source holds a cache reference to (out->handle is that
 * reference, for the source's release). */
void srv_sym_from_cache(const struct srv_cached_image *ci, struct sw_symbols *out);

#endif
