/* SPDX-License-Identifier: MPL-2.0 */
/* tokens.c: the token API, Tecken's /api/tokens/ for a token holding manage_tokens:
 *   GET    /api/tokens/?state=            the caller's tokens (active, expired or all), the
 *                                         permissions it may grant, and totals;
 *   POST   /api/tokens/                   a new token (form: permissions = comma-separated ids,
 *                                         expires = days, notes); the answer carries the key,
 *                                         shown this once (Tecken lists keys later; Sigil only
 *                                         keeps their hash, so lists show the first characters);
 *   DELETE /api/tokens/token/{id}         revokes one of the caller's tokens (any, for a
 *                                         superuser);
 *   POST   /api/tokens/token/{id}/extend  moves its expiry (form: days, default 365). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "db/queries.h"
#include "handlers/api_call.h"
#include "handlers/handlers.h"
#include "upload/token.h"

#define MAX_EXPIRES_DAYS 36500

/* [{name, id}] of a permission bit set. */
static json_t *permission_list(unsigned perms)
{
    json_t *list = json_array();
    for (int id = 1; list != NULL && id <= DB_N_PERMISSIONS; id++) {
        if (!(perms & DB_PERM_BIT((unsigned)id)))
            continue;
        json_t *p = json_object();
        json_object_set_new(p, "name", json_string(srv_permission_display(id)));
        json_object_set_new(p, "id", json_integer(id));
        json_array_append_new(list, p);
    }
    return list;
}

static void tokens_list(struct srv_api_call *call, PGconn *conn)
{
    bool present;
    const char *state = srv_api_arg(call, "state", false, &present);
    if (state == NULL)
        state = "";
    if (strcmp(state, "") != 0 && strcmp(state, "expired") != 0 && strcmp(state, "all") != 0) {
        srv_api_error(call, 400, "Unrecognized state value '%.200s'", state);
        return;
    }
    json_t *rows = NULL, *totals = NULL;
    unsigned perms = 0;
    struct sym_diag d = {0};
    sym_err rc = db_token_list(conn, call->who.user_id, state, &rows, &d);
    if (rc == SYM_OK)
        rc = db_token_totals(conn, call->who.user_id, &totals, &d);
    if (rc == SYM_OK)
        rc = db_user_perms(conn, call->who.user_id, &perms, &d);
    if (rc != SYM_OK) {
        json_decref(rows);
        json_decref(totals);
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *tokens = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *t = json_object();
        json_t *plist = json_array();
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(row, "permissions"), k, p)
        {
            json_t *e = json_object();
            json_object_set(e, "name", json_object_get(p, "name"));
            json_object_set(e, "id", json_object_get(p, "id"));
            json_array_append_new(plist, e);
        }
        char key[SRV_TOKEN_HINT_LEN + 8];
        snprintf(key, sizeof(key), "%s\xe2\x80\xa6",
                 json_string_value(json_object_get(row, "key_hint")));
        json_object_set(t, "id", json_object_get(row, "id"));
        json_object_set(t, "expires_at", json_object_get(row, "expires_at"));
        json_object_set(t, "is_expired", json_object_get(row, "is_expired"));
        json_object_set_new(t, "key", json_string(key));
        json_object_set_new(t, "permissions", plist);
        json_object_set(t, "notes", json_object_get(row, "notes"));
        json_object_set(t, "created_at", json_object_get(row, "created_at"));
        json_object_set(t, "last_used_at", json_object_get(row, "last_used_at"));
        json_array_append_new(tokens, t);
    }
    json_decref(rows);
    json_t *body = json_object();
    json_object_set_new(body, "tokens", tokens);
    json_object_set_new(body, "permissions", permission_list(perms));
    json_object_set_new(body, "totals", totals);
    srv_api_json(call, 200, body);
}

static void tokens_create(struct srv_api_call *call, PGconn *conn)
{
    bool present;
    const char *expires = srv_api_arg(call, "expires", true, &present);
    int64_t days;
    if (expires == NULL || expires[0] == '\0') {
        srv_api_form_error(call, "expires", "This field is required.");
        return;
    }
    if (!srv_api_int(expires, 1, MAX_EXPIRES_DAYS, &days)) {
        srv_api_form_error(call, "expires", "Invalid number of days ('%.100s')", expires);
        return;
    }
    const char *perm_text = srv_api_arg(call, "permissions", true, &present);
    unsigned perms = 0;
    for (const char *p = perm_text ? perm_text : ""; *p;) {
        size_t len = strcspn(p, ",");
        char idtext[24];
        snprintf(idtext, sizeof(idtext), "%.*s", (int)(len < 23 ? len : 23), p);
        int64_t id;
        if (!srv_api_int(idtext, 1, DB_N_PERMISSIONS, &id)) {
            srv_api_form_error(call, "permissions", "Invalid permission id ('%.100s')", idtext);
            return;
        }
        perms |= DB_PERM_BIT((unsigned)id);
        p += len;
        if (*p == ',')
            p++;
    }
    if (perms == 0) {
        srv_api_form_error(call, "permissions", "This field is required.");
        return;
    }
    if (!srv_permissions_valid(perms)) {
        srv_api_form_error(call, "permissions", "Invalid combination of permissions");
        return;
    }
    struct sym_diag d = {0};
    unsigned grantable = 0;
    sym_err rc = db_user_perms(conn, call->who.user_id, &grantable, &d);
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    for (int id = 1; id <= DB_N_PERMISSIONS; id++) {
        if ((perms & DB_PERM_BIT((unsigned)id)) && !(grantable & DB_PERM_BIT((unsigned)id))) {
            srv_api_error(call, 403, "%s not a valid permission", srv_permission_display(id));
            return;
        }
    }
    const char *notes = srv_api_arg(call, "notes", true, &present);
    char key[SRV_TOKEN_KEY_LEN + 1], hint[SRV_TOKEN_HINT_LEN + 1];
    if (srv_token_generate(key) != SYM_OK) {
        srv_api_fail(call, SYM_EIO, NULL);
        return;
    }
    snprintf(hint, sizeof(hint), "%.*s", SRV_TOKEN_HINT_LEN, key);
    struct db_token_new t = {
        .user_id = call->who.user_id,
        .key_hint = hint,
        .notes = notes ? notes : "",
        .expires_days = (uint32_t)days,
        .perms = perms,
    };
    SHA256((const unsigned char *)key, SRV_TOKEN_KEY_LEN, t.key_hash);
    int64_t id = 0;
    rc = db_token_create(conn, &t, &id, &d);
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "ok", json_true());
    json_object_set_new(body, "id", json_integer(id));
    json_object_set_new(body, "key", json_string(key));
    srv_api_json(call, 201, body);
}

void srv_handle_api_tokens(struct srv_reqctx *rc, h2o_req_t *req)
{
    bool post = req->method.len == 4 && memcmp(req->method.base, "POST", 4) == 0;
    srv_api_submit(rc, req, SRV_API_LOGIN, DB_PERM_MANAGE_TOKENS,
                   post ? tokens_create : tokens_list);
}

/* The token id of the path, and the owner restriction (none for a superuser). */
static bool token_target(struct srv_api_call *call, int64_t *id, int64_t *owner)
{
    if (!srv_api_int(call->params[0], 1, INT64_MAX, id)) {
        srv_api_error(call, 404, "Token not found");
        return false;
    }
    *owner = call->who.is_superuser ? 0 : call->who.user_id;
    return true;
}

static void token_delete(struct srv_api_call *call, PGconn *conn)
{
    int64_t id, owner;
    if (!token_target(call, &id, &owner))
        return;
    struct sym_diag d = {0};
    sym_err rc = db_token_revoke(conn, id, owner, &d);
    if (rc == SYM_ENOTFOUND) {
        srv_api_error(call, 404, "Token not found");
        return;
    }
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "ok", json_true());
    srv_api_json(call, 200, body);
}

static void token_extend(struct srv_api_call *call, PGconn *conn)
{
    int64_t id, owner;
    if (!token_target(call, &id, &owner))
        return;
    bool present;
    const char *days_text = srv_api_arg(call, "days", true, &present);
    int64_t days = SRV_TOKEN_DEFAULT_DAYS;
    if (days_text != NULL && days_text[0] != '\0' &&
        !srv_api_int(days_text, 1, MAX_EXPIRES_DAYS, &days)) {
        srv_api_error(call, 400, "Invalid number of days ('%.100s')", days_text);
        return;
    }
    struct sym_diag d = {0};
    sym_err rc = db_token_extend(conn, id, owner, (uint32_t)days, &d);
    if (rc == SYM_ENOTFOUND) {
        srv_api_error(call, 404, "Token not found");
        return;
    }
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "ok", json_true());
    json_object_set_new(body, "days", json_integer(days));
    srv_api_json(call, 200, body);
}

void srv_handle_api_token(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, 0, token_delete);
}

void srv_handle_api_token_extend(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, 0, token_extend);
}
