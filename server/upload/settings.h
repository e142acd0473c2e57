/* SPDX-License-Identifier: MPL-2.0 */
/* settings.h: the upload library's configuration (struct symup_config) built from the server's
 * settings table, shared by POST /upload/ and `sigil import` so both apply the same rules, limits
 * and storage attributes. */
#ifndef SRV_UPLOAD_SETTINGS_H
#define SRV_UPLOAD_SETTINGS_H

#include "config.h"
#include "sym/err.h"
#include "upload/ingest.h"

struct srv_upload_settings {
    struct symup_config symup; /* points into the lists below */
    char **snippets;           /* NULL-terminated, owned */
    char **compress;           /* NULL-terminated, owned */
    unsigned workers;          /* upload-workers, 0 resolved to the number of cores */
};

/* Fills *s from cfg. SYM_ENOMEM; SYM_EINVAL (message in d) when a list is malformed. On failure
 * *s holds nothing to free. The result borrows nothing from cfg. */
sym_err srv_upload_settings_init(struct srv_upload_settings *s, const struct srv_config *cfg,
                                 struct sym_diag *d) SYM_MUST_CHECK;
void srv_upload_settings_cleanup(struct srv_upload_settings *s);

/* The bucket (or folder) name recorded in upload and file rows for a storage URL: the bucket and
 * key prefix of an s3:// URL without its parameters ("symbols/prefix"), the folder of a file://
 * URL. Written into out (cap bytes, truncated). */
void srv_bucket_name(const char *storage_url, char *out, size_t cap);

#endif
