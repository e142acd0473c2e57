/* SPDX-License-Identifier: MPL-2.0 */
/* fileprep.h: one symbol file that is not in a zip (a file of an existing Breakpad store on disk),
 * made ready for storage with exactly the rules and outputs of a zip member: the same name rules,
 * key (debug id upper-cased), size, MD5, .sym header fields, gzip file and content type. The
 * result is an ingest (ingest.h) holding that single member, so callers store zip members and
 * plain files through one code path. No network, no database. */
#ifndef SYMUP_FILEPREP_H
#define SYMUP_FILEPREP_H

#include "sym/err.h"
#include "upload/error.h"
#include "upload/ingest.h"

/* Opens the file at path (symbolic links are followed; the target must be a regular file) as
 * member 0 of a new ingest, under the member name `name` ("<debug_file>/<debug_id>/<file>",
 * UTF-8, as it would appear in a zip). The file is read, never written, moved or removed; a
 * compressed copy is written to gz_path (created exclusively by symup_member_store_file() /
 * symup_prepare(), removed by symup_member_release() and symup_ingest_free()); gz_path must not
 * exist and its folder must.
 * Then: symup_ingest_member(ing, 0), symup_member_digest(), symup_member_store_file(),
 * symup_prepare() and symup_member_release() as for an extracted zip member;
 * symup_ingest_extract() is refused (CONFIG).
 * Errors (*out untouched):
 *   SYM_EINVAL  NULL argument or bad cfg (CONFIG); the name breaks the upload rules: forbidden
 *               snippet (SNIPPET), not a "<debug_file>/<hex>/<file>" key (PATTERN), an ignored
 *               name such as "*-symbols.txt" (EMPTY), component or key too long (KEY_TOO_LONG);
 *               the path is not a regular file (NOT_REGULAR);
 *   SYM_ELIMIT  name longer than cfg->limits.max_name_len (NAME_TOO_LONG), file larger than
 *               cfg->limits.max_member_size (MEMBER_TOO_LARGE);
 *   SYM_ENOTFOUND  no file at path (IO reason);
 *   SYM_EIO     the file cannot be opened or examined;
 *   SYM_ENOMEM.
 * Thread-safe for distinct ingests. Free with symup_ingest_free(). */
SYM_MUST_CHECK sym_err symup_fileprep_open(const char *path, const char *name, const char *gz_path,
                                           const struct symup_config *cfg,
                                           struct symup_ingest **out, struct symup_error *err);

#endif
