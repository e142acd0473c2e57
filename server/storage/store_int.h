/* SPDX-License-Identifier: MPL-2.0 */
/* store_int.h: names shared by the storage backends (store.c, store_fs.c, store_s3.c, sigv4.c)
 * and their unit tests; not part of the storage contract in store.h. */
#ifndef SRV_STORE_INT_H
#define SRV_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "sym/buf.h"
#include "sym/err.h"

/* Prefix of the local folder's temporary files; no key component may start with it. */
#define STORE_TMP_PREFIX ".sigil-tmp."

extern const struct store_ops store_fs_ops;
extern const struct store_ops store_s3_ops;

/* Backend constructors, called by store_open() once the scheme is known. rest is the URL after
 * "file://" or "s3://". Same errors as store_open(). */
sym_err store_fs_open(const char *rest, struct store *out, struct sym_diag *d);
sym_err store_s3_open(const char *rest, const struct store_config *cfg, struct store *out,
                      struct sym_diag *d);

/* Parsers of stored data, exposed for tests and fuzzing. store_fs_attrs_parse() reads the local
 * folder's attribute text (store_fs.c) into info (which the caller zeroes): SYM_ECORRUPT when
 * malformed. store_s3_header() reads one S3 response header line "Name: value" (no CRLF) into
 * info; false when a stored attribute (content type, encoding, cache control) cannot be
 * represented. Both read exactly len bytes. */
sym_err store_fs_attrs_parse(const char *buf, size_t len, struct store_object_info *info,
                             struct sym_diag *d);
bool store_s3_header(struct store_object_info *info, const char *line, size_t len);

/* SYM_EINVAL unless opts (NULL allowed) follows the rules of struct store_put_opts. */
sym_err store_put_opts_check(const struct store_put_opts *opts, struct sym_diag *d);
/* The content type to record for opts (NULL allowed): never NULL. */
const char *store_put_content_type(const struct store_put_opts *opts);

/* True when s[0..len) is printable ASCII (0x20..0x7e), the alphabet of stored attributes. */
bool store_attr_text_ok(const char *s, size_t len);
/* True when s[0..len) is 32 lowercase hex digits. */
bool store_md5_hex_ok(const char *s, size_t len);
/* Copies s[0..len) into dst[cap] with a NUL when it fits and is store_attr_text_ok(); otherwise
 * returns false and leaves dst untouched. */
bool store_attr_copy(char *dst, size_t cap, const char *s, size_t len);

/* Appends s[0..len) percent-encoded as SigV4 wants for URIs: every byte except the unreserved
 * A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex); '/' is kept when keep_slash. */
void store_uri_encode(struct sym_buf *out, const char *s, size_t len, bool keep_slash);
/* Decodes %XX escapes of s[0..len) into a new NUL-terminated string (caller frees with
 * sym_free). SYM_EINVAL for a malformed escape or an encoded NUL; SYM_ENOMEM. '+' stays '+'. */
sym_err store_pct_decode(const char *s, size_t len, char **out);

#endif
