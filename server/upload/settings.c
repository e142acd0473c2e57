/* SPDX-License-Identifier: MPL-2.0 */
/* settings.c: upload settings from the configuration table. */
#include "upload/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sym_err srv_upload_settings_init(struct srv_upload_settings *s, const struct srv_config *cfg,
                                 struct sym_diag *d)
{
    memset(s, 0, sizeof(*s));
    symup_config_init(&s->symup);
    s->snippets = srv_list_split(cfg->upload_disallowed_snippets);
    s->compress = srv_list_split(cfg->upload_compress_extensions);
    if (s->snippets == NULL || s->compress == NULL) {
        srv_upload_settings_cleanup(s);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    /* Extensions are compared without their dot, in lower case. */
    for (char **p = s->compress; *p; p++) {
        if ((*p)[0] == '.')
            memmove(*p, *p + 1, strlen(*p));
        for (char *c = *p; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    struct symup_config *u = &s->symup;
    u->limits.max_members = cfg->upload_max_members;
    u->limits.max_member_size = cfg->upload_max_file_bytes;
    u->limits.max_total_size = cfg->upload_max_total_bytes;
    u->limits.max_ratio = cfg->upload_max_ratio;
    u->limits.max_name_len = cfg->upload_max_name_bytes;
    u->disallowed_snippets = (const char *const *)s->snippets;
    u->n_disallowed_snippets = srv_list_len(s->snippets);
    u->compress_extensions = (const char *const *)s->compress;
    u->n_compress_extensions = srv_list_len(s->compress);
    u->gzip_level = (int)cfg->upload_gzip_level;
    u->strict_header = cfg->upload_strict_headers;
    s->workers = cfg->upload_workers;
    if (s->workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        s->workers = cores > 0 ? (unsigned)(cores > 64 ? 64 : cores) : 1;
    }
    return SYM_OK;
}

void srv_upload_settings_cleanup(struct srv_upload_settings *s)
{
    srv_list_free(s->snippets);
    srv_list_free(s->compress);
    memset(s, 0, sizeof(*s));
}

void srv_bucket_name(const char *storage_url, char *out, size_t cap)
{
    const char *p = storage_url;
    size_t n;
    if (strncmp(p, "s3://", 5) == 0) {
        p += 5;
        n = strcspn(p, "?");
    } else {
        if (strncmp(p, "file://", 7) == 0)
            p += 7;
        n = strlen(p);
    }
    snprintf(out, cap, "%.*s", (int)n, p);
}
