/* SPDX-License-Identifier: MPL-2.0 */
/* multipart.h: an incremental multipart/form-data parser (RFC 7578). It is fed the request body
 * in chunks of any size and reports each part's headers and data through callbacks, so that file
 * parts go straight to disk and no part is ever held in memory whole. Bounded: part headers at
 * most SRV_MP_MAX_HEADER bytes, parts at most max_parts. */
#ifndef SRV_MULTIPART_H
#define SRV_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "sym/err.h"

#define SRV_MP_MAX_BOUNDARY 70
#define SRV_MP_MAX_HEADER   16384

/* A part's disposition: name and filename are NUL-terminated, "" when absent. */
struct srv_mp_part_info {
    char name[256];
    char filename[256];
    char content_type[128];
    bool has_filename;
};

struct srv_mp_callbacks {
    /* A new part begins. Return SYM_OK to go on; any error stops the parser with it. */
    sym_err (*part_begin)(void *ctx, const struct srv_mp_part_info *info);
    sym_err (*part_data)(void *ctx, const char *data, size_t len);
    sym_err (*part_end)(void *ctx);
};

struct srv_multipart;

/* Extracts the boundary from a Content-Type value ("multipart/form-data; boundary=..."), quoted
 * or not, into out (NUL-terminated). SYM_EINVAL when the type is not multipart/form-data or the
 * boundary is missing or longer than 70 characters. */
sym_err srv_mp_boundary(const char *content_type, size_t len, char out[SRV_MP_MAX_BOUNDARY + 1]);

/* NULL on allocation failure. cb and ctx are borrowed. */
struct srv_multipart *srv_mp_new(const char *boundary, size_t max_parts,
                                 const struct srv_mp_callbacks *cb, void *ctx);
void srv_mp_free(struct srv_multipart *mp);

/* Feeds body bytes. SYM_EPARSE for malformed input (message in d), SYM_ELIMIT when headers or
 * the part count exceed their bounds, or a callback's error. After an error, feeding stops. */
sym_err srv_mp_feed(struct srv_multipart *mp, const char *data, size_t len, struct sym_diag *d);
/* The body ended: SYM_OK only when the closing delimiter was seen. */
sym_err srv_mp_finish(struct srv_multipart *mp, struct sym_diag *d);

#endif
