/* SPDX-License-Identifier: MPL-2.0 */
/* auth.c: Auth-Token lookups. */
#include "upload/auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db/queries.h"
#include "upload/token.h"

sym_err srv_auth_token(struct db_pool *db, const char *value, size_t len,
                       enum srv_auth_status *status, struct srv_principal *out, struct sym_diag *d)
{
    if (value == NULL) {
        *status = SRV_AUTH_ANONYMOUS;
        return SYM_OK;
    }
    unsigned char hash[32];
    if (!srv_token_hash(value, len, hash)) {
        *status = SRV_AUTH_NOT_MATCHED;
        return SYM_OK;
    }
    PGconn *conn;
    sym_err rc = db_acquire(db, &conn, d);
    if (rc != SYM_OK)
        return rc;
    struct db_token_auth t;
    rc = db_token_auth(conn, hash, &t, d);
    if (rc == SYM_ENOTFOUND) {
        db_release(db, conn);
        *status = SRV_AUTH_NOT_MATCHED;
        return SYM_OK;
    }
    if (rc != SYM_OK) {
        db_release(db, conn);
        return rc;
    }
    /* The lookup went through an index on the hash; the final word is a constant-time compare. */
    if (CRYPTO_memcmp(t.key_hash, hash, sizeof(hash)) != 0)
        *status = SRV_AUTH_NOT_MATCHED;
    else if (t.expired)
        *status = SRV_AUTH_EXPIRED;
    else if (!t.user_active)
        *status = SRV_AUTH_INACTIVE;
    else
        *status = SRV_AUTH_OK;
    if (*status == SRV_AUTH_OK) {
        memset(out, 0, sizeof(*out));
        out->user_id = t.user_id;
        out->token_id = t.token_id;
        snprintf(out->email, sizeof(out->email), "%s", t.email);
        out->perms = t.perms;
        out->is_superuser = t.is_superuser;
        out->expires_at_us = t.expires_at_us;
        struct sym_diag ignored = {0};
        /* Bookkeeping only: a failure here does not fail the request. */
        (void)!db_token_touch(conn, t.token_id, &ignored);
    }
    db_release(db, conn);
    db_token_auth_cleanup(&t);
    return SYM_OK;
}

const char *srv_auth_message(enum srv_auth_status status)
{
    switch (status) {
    case SRV_AUTH_NOT_MATCHED:
        return "API Token not matched";
    case SRV_AUTH_EXPIRED:
        return "API Token found but expired";
    case SRV_AUTH_INACTIVE:
        return "API Token matched but user not active";
    case SRV_AUTH_ANONYMOUS:
    case SRV_AUTH_OK:
        break;
    }
    return NULL;
}

bool srv_principal_can(const struct srv_principal *p, int permission_id)
{
    return (p->perms & DB_PERM_BIT((unsigned)permission_id)) != 0;
}
