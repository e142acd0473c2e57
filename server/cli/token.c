/* SPDX-License-Identifier: MPL-2.0 */
/* token.c: `sigil token create|list|revoke`, API token administration from the command line.
 * The operator acts as an administrator: creating a token for a user also grants the user the
 * token's permissions (creating the user when missing). The key is printed once and never
 * stored; only its SHA-256 is. */
#include "upload/token.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "db/queries.h"

static const char usage[] =
    "usage: sigil token create --user EMAIL --permission NAME [--permission NAME ...]\n"
    "                          [--expires-days N] [--notes TEXT]\n"
    "       sigil token list [--user EMAIL] [--expired | --all]\n"
    "       sigil token revoke ID\n\n"
    "API tokens for the Auth-Token header. `create` prints the new key (32 hex characters) on\n"
    "stdout, once: only its hash is kept. It creates the user when missing and grants it the\n"
    "permissions. Permissions: upload_symbols, upload_try_symbols (not both on one token),\n"
    "view_all_uploads, manage_tokens. Tokens expire after --expires-days (default 365).\n"
    "`list` shows active tokens (--expired: expired ones, --all: both); `revoke` disables one.\n";

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "--name VALUE" or "--name=VALUE" at pos[*i]; advances *i past the value. */
static const char *flag_value(const char **pos, int n, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *a = pos[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] == '\0' && *i + 1 < n) {
        (*i)++;
        return pos[*i];
    }
    return NULL;
}

static int add_permissions(const char *list, unsigned *perms)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), p);
        int id = len > 0 ? srv_permission_by_name(name) : 0;
        if (id == 0) {
            fprintf(stderr,
                    "sigil token: unknown permission '%s' (upload_symbols, upload_try_symbols, "
                    "view_all_uploads, manage_tokens)\n",
                    name);
            return 2;
        }
        *perms |= DB_PERM_BIT((unsigned)id);
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int cmd_create(PGconn *conn, const char **pos, int n)
{
    const char *email = NULL, *notes = "", *v;
    unsigned perms = 0;
    uint32_t days = SRV_TOKEN_DEFAULT_DAYS;
    for (int i = 1; i < n; i++) {
        if ((v = flag_value(pos, n, &i, "--user")) != NULL) {
            email = v;
        } else if ((v = flag_value(pos, n, &i, "--permission")) != NULL) {
            if (add_permissions(v, &perms) != 0)
                return 2;
        } else if ((v = flag_value(pos, n, &i, "--expires-days")) != NULL) {
            if (!parse_u32(v, 1, 36500, &days)) {
                fprintf(stderr, "sigil token: invalid --expires-days '%s' (1 to 36500)\n", v);
                return 2;
            }
        } else if ((v = flag_value(pos, n, &i, "--notes")) != NULL) {
            notes = v;
        } else {
            fprintf(stderr, "sigil token create: unexpected argument '%s'\n", pos[i]);
            return 2;
        }
    }
    if (email == NULL || *email == '\0' || perms == 0) {
        fprintf(stderr, "sigil token create: --user and at least one --permission are needed\n");
        return 2;
    }
    if (!srv_permissions_valid(perms)) {
        fprintf(stderr, "sigil token create: Invalid combination of permissions "
                        "(upload_symbols and upload_try_symbols exclude each other)\n");
        return 2;
    }
    char key[SRV_TOKEN_KEY_LEN + 1];
    if (srv_token_generate(key) != SYM_OK) {
        fprintf(stderr, "sigil token: no system randomness\n");
        return 1;
    }
    struct sym_diag d = {0};
    struct db_token_new t = {
        .notes = notes, .expires_days = days, .perms = perms, .grant_user = true};
    char hint[SRV_TOKEN_HINT_LEN + 1];
    snprintf(hint, sizeof(hint), "%.*s", SRV_TOKEN_HINT_LEN, key);
    t.key_hint = hint;
    SHA256((const unsigned char *)key, SRV_TOKEN_KEY_LEN, t.key_hash);
    int64_t id = 0;
    sym_err rc = db_user_ensure(conn, email, &t.user_id, &d);
    if (rc == SYM_OK)
        rc = db_token_create(conn, &t, &id, &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil token: database: %s\n", d.msg);
        return 1;
    }
    printf("%s\n", key);
    fprintf(stderr, "token %" PRId64 " for %s, expires in %u days; the key is shown only once\n",
            id, email, days);
    return 0;
}

static int cmd_list(PGconn *conn, const char **pos, int n)
{
    const char *email = NULL, *state = "", *v;
    for (int i = 1; i < n; i++) {
        if ((v = flag_value(pos, n, &i, "--user")) != NULL)
            email = v;
        else if (strcmp(pos[i], "--expired") == 0)
            state = "expired";
        else if (strcmp(pos[i], "--all") == 0)
            state = "all";
        else {
            fprintf(stderr, "sigil token list: unexpected argument '%s'\n", pos[i]);
            return 2;
        }
    }
    struct sym_diag d = {0};
    int64_t user_id = 0;
    sym_err rc = SYM_OK;
    if (email != NULL) {
        rc = db_user_find(conn, email, &user_id, &d);
        if (rc == SYM_ENOTFOUND) {
            fprintf(stderr, "sigil token list: no user %s\n", email);
            return 1;
        }
    }
    json_t *rows = NULL;
    if (rc == SYM_OK)
        rc = db_token_list(conn, user_id, state, &rows, &d);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil token: database: %s\n", d.msg);
        return 1;
    }
    printf("%-6s %-32s %-6s %-24s %-24s %-24s %s\n", "ID", "USER", "KEY", "EXPIRES", "LAST USED",
           "PERMISSIONS", "NOTES");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char names[256] = "";
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(row, "permissions"), k, p)
        {
            const char *code = json_string_value(json_object_get(p, "codename"));
            const char *dot = code ? strchr(code, '.') : NULL;
            size_t used = strlen(names);
            snprintf(names + used, sizeof(names) - used, "%s%s", used ? "," : "",
                     dot ? dot + 1 : "?");
        }
        const char *last = json_string_value(json_object_get(row, "last_used_at"));
        printf("%-6" JSON_INTEGER_FORMAT " %-32s %-6s %-24s %-24s %-24s %s%s\n",
               json_integer_value(json_object_get(row, "id")),
               json_string_value(json_object_get(row, "user_email")),
               json_string_value(json_object_get(row, "key_hint")),
               json_string_value(json_object_get(row, "expires_at")), last ? last : "never", names,
               json_string_value(json_object_get(row, "notes")),
               json_is_true(json_object_get(row, "is_expired")) ? " (expired)" : "");
    }
    json_decref(rows);
    return 0;
}

static int cmd_revoke(PGconn *conn, const char **pos, int n)
{
    uint32_t id;
    if (n != 2 || !parse_u32(pos[1], 1, UINT32_MAX, &id)) {
        fprintf(stderr, "sigil token revoke: expected one token ID (see sigil token list)\n");
        return 2;
    }
    struct sym_diag d = {0};
    sym_err rc = db_token_revoke(conn, id, 0, &d);
    if (rc == SYM_ENOTFOUND) {
        fprintf(stderr, "sigil token revoke: no active token %u\n", id);
        return 1;
    }
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil token: database: %s\n", d.msg);
        return 1;
    }
    printf("token %u revoked\n", id);
    return 0;
}

int cli_token_main(int argc, char **argv)
{
    struct srv_config cfg;
    const char **pos = NULL;
    int n_pos = 0, code = 0;
    if (!cli_load_config(&cfg, SRV_CFG_DB, argc, argv, usage, &pos, &n_pos, &code))
        return code;
    int (*cmd)(PGconn *, const char **, int) = NULL;
    if (n_pos > 0 && strcmp(pos[0], "create") == 0)
        cmd = cmd_create;
    else if (n_pos > 0 && strcmp(pos[0], "list") == 0)
        cmd = cmd_list;
    else if (n_pos > 0 && strcmp(pos[0], "revoke") == 0)
        cmd = cmd_revoke;
    if (cmd == NULL) {
        fputs(usage, stderr);
        code = 2;
    } else {
        PGconn *conn = cli_db_connect(&cfg);
        if (conn == NULL) {
            code = 1;
        } else {
            code = cmd(conn, pos, n_pos);
            PQfinish(conn);
        }
    }
    free(pos);
    srv_config_free(&cfg);
    return code;
}
