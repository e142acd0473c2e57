/* SPDX-License-Identifier: MPL-2.0 */
/* auth.h: Auth-Token authentication, with Tecken's outcomes and messages. A request without the
 * header is anonymous; with it, the token must exist (not revoked), not be expired, and belong
 * to an active user, else 403. Permissions come from the token only (those its user still
 * holds). Hashes are compared in constant time. Blocking (one database query): call it from a
 * blocking thread. */
#ifndef SRV_UPLOAD_AUTH_H
#define SRV_UPLOAD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "sym/err.h"

enum srv_auth_status {
    SRV_AUTH_ANONYMOUS,   /* no Auth-Token header */
    SRV_AUTH_OK,          /* authenticated: see the principal */
    SRV_AUTH_NOT_MATCHED, /* 403 "API Token not matched" */
    SRV_AUTH_EXPIRED,     /* 403 "API Token found but expired" */
    SRV_AUTH_INACTIVE,    /* 403 "API Token matched but user not active" */
};

struct srv_principal {
    int64_t user_id, token_id;
    char email[320];
    unsigned perms; /* DB_PERM_BIT() set */
    bool is_superuser;
    int64_t expires_at_us;
};

#define SRV_AUTH_HEADER    "auth-token"
#define SRV_AUTH_REQUIRED  "This requires an Auth-Token to authenticate the request"
#define SRV_AUTH_FORBIDDEN "Forbidden"

/* Authenticates the Auth-Token header value (value NULL: no header). *status is always set;
 * *out only for SRV_AUTH_OK. Errors: SYM_EUNAVAIL / SYM_EINTERNAL from the database (then
 * *status is not meaningful), SYM_ENOMEM. */
sym_err srv_auth_token(struct db_pool *db, const char *value, size_t len,
                       enum srv_auth_status *status, struct srv_principal *out,
                       struct sym_diag *d) SYM_MUST_CHECK;

/* The 403 message of a failed status; NULL for ANONYMOUS and OK. */
const char *srv_auth_message(enum srv_auth_status status);

/* Permission check on a principal. */
bool srv_principal_can(const struct srv_principal *p, int permission_id);

#endif
