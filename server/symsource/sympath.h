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

#include "sym/err.h"

/* Writes "<name>/<id>/<symfile>" into out. by_code_file selects the code-file form (its
 * extension is replaced by .sym; the id is upper-cased as symbol servers store code ids);
 * otherwise a trailing ".pdb" (any case) is stripped and ".sym" appended. Returns SYM_OK;
 * SYM_EINVAL when name or id is empty, ".", "..", or holds '/', '\', control characters or
 * '%'; SYM_ELIMIT when out is too small. */
SYM_MUST_CHECK sym_err srv_sym_path(const char *name, const char *id, bool by_code_file, char *out,
                                    size_t out_len);

#endif
