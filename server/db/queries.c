/* SPDX-License-Identifier: MPL-2.0 */
/* queries.c: the SQL of the server, as named constants with typed wrappers. */
#include "db/queries.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pool.h"
#include "sym/buf.h"

static const char SQL_PING[] = "SELECT 1";

/* Tecken's lookup: the OR is answered by a BitmapOr of the two partial indexes. */
static const char SQL_SYMINFO[] =
    "SELECT f.debug_filename, f.debug_id, f.code_file, f.code_id, f.generator, f.try_symbols "
    "FROM file_uploads f "
    "WHERE (f.debug_filename = $1 AND f.debug_id = $2) "
    "   OR (f.code_file = $1 AND f.code_id = $2) "
    "ORDER BY f.id DESC LIMIT 1";

static const char SQL_MISSING_ADD[] =
    "INSERT INTO missing_symbols AS m "
    "  (debug_filename, debug_id, filename, code_file, code_id, count) "
    "SELECT x.debug_filename, x.debug_id, x.filename, coalesce(x.code_file, ''), "
    "       coalesce(x.code_id, ''), x.count "
    "FROM json_to_recordset($1::json) AS x(debug_filename text, debug_id text, filename text, "
    "     code_file text, code_id text, count bigint) "
    "ON CONFLICT (debug_filename, debug_id, filename, code_file, code_id) "
    "DO UPDATE SET count = m.count + EXCLUDED.count, modified_at = now()";

static const char SQL_USER_ENSURE[] =
    "WITH ins AS (INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO NOTHING "
    "RETURNING id) "
    "SELECT id FROM ins UNION ALL SELECT id FROM users WHERE email = $1 LIMIT 1";

static const char SQL_UPLOAD_CREATE[] =
    "INSERT INTO uploads (user_id, filename, bucket_name, size, content_hash, download_url, "
    "                     redirect_urls, try_symbols) "
    "VALUES ($1, $2, $3, $4, $5, $6, "
    "        CASE WHEN $7::json IS NULL THEN NULL "
    "             ELSE ARRAY(SELECT json_array_elements_text($7::json)) END, $8) "
    "RETURNING id";

static const char SQL_UPLOAD_COMPLETE[] =
    "UPDATE uploads SET "
    "  skipped_keys = CASE WHEN json_array_length($2::json) = 0 THEN NULL "
    "                 ELSE ARRAY(SELECT json_array_elements_text($2::json)) END, "
    "  ignored_keys = CASE WHEN json_array_length($3::json) = 0 THEN NULL "
    "                 ELSE ARRAY(SELECT json_array_elements_text($3::json)) END, "
    "  completed_at = now() "
    "WHERE id = $1";

static const char SQL_FILE_INSERT[] =
    "INSERT INTO file_uploads (upload_id, bucket_name, key, update, compressed, size, "
    "  try_symbols, debug_filename, debug_id, code_file, code_id, generator, created_at, "
    "  completed_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13::timestamptz, now()), "
    "        now()) "
    "RETURNING id";

sym_err db_ping(PGconn *conn, struct sym_diag *d)
{
    return db_exec_cmd(conn, SQL_PING, 0, NULL, d);
}

static char *dup_value(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return strdup(PQgetvalue(res, row, col));
}

sym_err db_syminfo_lookup(PGconn *conn, const char *file, const char *id, struct db_syminfo *out,
                          struct sym_diag *d)
{
    const char *params[] = {file, id};
    PGresult *res;
    sym_err rc = db_exec(conn, SQL_SYMINFO, 2, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return SYM_ENOTFOUND;
    }
    struct db_syminfo s = {
        .debug_filename = dup_value(res, 0, 0),
        .debug_id = dup_value(res, 0, 1),
        .code_file = dup_value(res, 0, 2),
        .code_id = dup_value(res, 0, 3),
        .generator = dup_value(res, 0, 4),
        .try_symbols = strcmp(PQgetvalue(res, 0, 5), "t") == 0,
    };
    PQclear(res);
    if (s.debug_filename == NULL || s.debug_id == NULL) {
        /* A row matched on code info but carries no debug info: nothing to redirect to. */
        db_syminfo_cleanup(&s);
        return SYM_ENOTFOUND;
    }
    *out = s;
    return SYM_OK;
}

void db_syminfo_cleanup(struct db_syminfo *s)
{
    free(s->debug_filename);
    free(s->debug_id);
    free(s->code_file);
    free(s->code_id);
    free(s->generator);
    memset(s, 0, sizeof(*s));
}

sym_err db_missing_add(PGconn *conn, json_t *rows, struct sym_diag *d)
{
    char *text = json_dumps(rows, JSON_COMPACT);
    if (text == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    const char *params[] = {text};
    sym_err rc = db_exec_cmd(conn, SQL_MISSING_ADD, 1, params, d);
    free(text);
    return rc;
}

static sym_err single_id(PGconn *conn, const char *sql, int n, const char *const *params,
                         int64_t *id_out, struct sym_diag *d)
{
    PGresult *res;
    sym_err rc = db_exec(conn, sql, n, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sym_diag_set(d, SYM_EINTERNAL, "database returned no id");
    }
    *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return SYM_OK;
}

sym_err db_user_ensure(PGconn *conn, const char *email, int64_t *id_out, struct sym_diag *d)
{
    const char *params[] = {email};
    return single_id(conn, SQL_USER_ENSURE, 1, params, id_out, d);
}

sym_err db_upload_create(PGconn *conn, const struct db_upload *u, int64_t *id_out,
                         struct sym_diag *d)
{
    char user_id[24], size[24];
    snprintf(user_id, sizeof(user_id), "%" PRId64, u->user_id);
    snprintf(size, sizeof(size), "%" PRIu64, u->size);
    char *redirects = u->redirect_urls ? json_dumps(u->redirect_urls, JSON_COMPACT) : NULL;
    if (u->redirect_urls && redirects == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    const char *params[] = {
        user_id,         u->filename,     u->bucket_name, size,
        u->content_hash, u->download_url, redirects,      u->try_symbols ? "true" : "false"};
    sym_err rc = single_id(conn, SQL_UPLOAD_CREATE, 8, params, id_out, d);
    free(redirects);
    return rc;
}

sym_err db_upload_complete(PGconn *conn, int64_t upload_id, json_t *skipped_keys,
                           json_t *ignored_keys, struct sym_diag *d)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, upload_id);
    char *skipped = skipped_keys ? json_dumps(skipped_keys, JSON_COMPACT) : strdup("[]");
    char *ignored = ignored_keys ? json_dumps(ignored_keys, JSON_COMPACT) : strdup("[]");
    sym_err rc;
    if (skipped == NULL || ignored == NULL) {
        rc = sym_diag_set(d, SYM_ENOMEM, "out of memory");
    } else {
        const char *params[] = {id, skipped, ignored};
        rc = db_exec_cmd(conn, SQL_UPLOAD_COMPLETE, 3, params, d);
    }
    free(skipped);
    free(ignored);
    return rc;
}

void db_format_time_us(int64_t us, char out[40])
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%06dZ", (int)(us % 1000000));
}

/* The 13 parameters a file row takes, in the order of SQL_FILE_INSERT; strings point into b. */
struct file_row_params {
    char upload_id[24], size[24], created[40];
    const char *values[13];
};

static void file_row_params_init(struct file_row_params *b, const struct db_file *f)
{
    snprintf(b->upload_id, sizeof(b->upload_id), "%" PRId64, f->upload_id);
    snprintf(b->size, sizeof(b->size), "%" PRIu64, f->size);
    if (f->created_at_us > 0)
        db_format_time_us(f->created_at_us, b->created);
    const char *values[13] = {
        f->upload_id > 0 ? b->upload_id : NULL,
        f->bucket_name,
        f->key,
        f->update ? "true" : "false",
        f->compressed ? "true" : "false",
        b->size,
        f->try_symbols ? "true" : "false",
        f->debug_filename,
        f->debug_id,
        f->code_file,
        f->code_id,
        f->generator,
        f->created_at_us > 0 ? b->created : NULL,
    };
    memcpy(b->values, values, sizeof(values));
}

sym_err db_file_insert(PGconn *conn, const struct db_file *f, int64_t *id_out, struct sym_diag *d)
{
    struct file_row_params p;
    file_row_params_init(&p, f);
    return single_id(conn, SQL_FILE_INSERT, 13, p.values, id_out, d);
}

/* ---- Upload pipeline ------------------------------------------------------------------------ */

static const char SQL_FILE_LOCK[] = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

static const char SQL_FILE_RECORD[] =
    "INSERT INTO file_uploads (upload_id, bucket_name, key, update, compressed, size, "
    "  try_symbols, debug_filename, debug_id, code_file, code_id, generator, created_at, "
    "  completed_at) "
    "SELECT $1::bigint, $2::text, $3::text, $4::boolean, $5::boolean, $6::bigint, $7::boolean, "
    "       $8::text, $9::text, $10::text, $11::text, $12::text, "
    "       coalesce($13::timestamptz, now()), coalesce($16::timestamptz, now()) "
    "WHERE NOT EXISTS (SELECT 1 FROM file_uploads f WHERE f.key = $3::text "
    "  AND f.bucket_name = $2::text AND f.try_symbols = $7::boolean "
    "  AND ($15::boolean OR f.size = $6::bigint) "
    "  AND ($14::timestamptz IS NULL OR f.completed_at >= $14::timestamptz)) "
    "RETURNING id";

/* Timestamps leave the database as Unix microseconds in columns named *_at, which
 * result_json() formats; arrays leave it as json. */
#define SQL_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static const char SQL_UPLOAD_JSON[] =
    "SELECT u.id, u.user_id, us.email AS user_email, u.filename, u.bucket_name, u.size, "
    "  u.content_hash, u.download_url, to_json(u.redirect_urls) AS redirect_urls, "
    "  to_json(u.skipped_keys) AS skipped_keys, to_json(u.ignored_keys) AS ignored_keys, "
    "  u.try_symbols, " SQL_US("u.created_at") " AS created_at, " SQL_US(
        "u.completed_at") " AS completed_at "
                          "FROM uploads u JOIN users us ON us.id = u.user_id WHERE u.id = $1";

void db_format_django_time(int64_t us, char out[40])
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac != 0)
        snprintf(out + n, 40 - n, ".%03dZ", (int)(frac / 1000));
    else
        snprintf(out + n, 40 - n, "Z");
}

static bool ends_with_at(const char *name)
{
    size_t n = strlen(name);
    return n >= 3 && strcmp(name + n - 3, "_at") == 0;
}

/* One row as a JSON object keyed by column name: booleans, integers, json columns parsed, other
 * values as strings, NULL as null; integer columns named *_at are Unix microseconds, formatted
 * as Django datetimes. */
static json_t *row_json(PGresult *res, int row)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    int nf = PQnfields(res);
    for (int c = 0; c < nf; c++) {
        const char *name = PQfname(res, c);
        json_t *v;
        if (PQgetisnull(res, row, c)) {
            v = json_null();
        } else {
            const char *text = PQgetvalue(res, row, c);
            Oid type = PQftype(res, c);
            switch (type) {
            case 16: /* bool */
                v = json_boolean(text[0] == 't');
                break;
            case 20: /* int8 */
            case 21: /* int2 */
            case 23: /* int4 */ {
                long long n = strtoll(text, NULL, 10);
                if (type == 20 && ends_with_at(name)) {
                    char when[40];
                    db_format_django_time((int64_t)n, when);
                    v = json_string(when);
                } else {
                    v = json_integer((json_int_t)n);
                }
                break;
            }
            case 114:  /* json */
            case 3802: /* jsonb */
                v = json_loads(text, JSON_DECODE_ANY, NULL);
                break;
            default:
                v = json_string(text);
            }
        }
        if (v == NULL || json_object_set_new(obj, name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* Every row as a JSON array of objects. */
static sym_err result_json(PGresult *res, json_t **out, struct sym_diag *d)
{
    json_t *arr = json_array();
    int n = PQntuples(res);
    for (int r = 0; arr != NULL && r < n; r++) {
        json_t *o = row_json(res, r);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (arr == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    *out = arr;
    return SYM_OK;
}

/* Runs a query and returns its rows as a JSON array. */
static sym_err query_json(PGconn *conn, const char *sql, int n, const char *const *params,
                          json_t **out, struct sym_diag *d)
{
    PGresult *res;
    sym_err rc = db_exec(conn, sql, n, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    rc = result_json(res, out, d);
    PQclear(res);
    return rc;
}

/* Runs a query expected to return at most one row; SYM_ENOTFOUND for none. */
static sym_err query_json_one(PGconn *conn, const char *sql, int n, const char *const *params,
                              json_t **out, struct sym_diag *d)
{
    json_t *rows;
    sym_err rc = query_json(conn, sql, n, params, &rows, d);
    if (rc != SYM_OK)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return SYM_ENOTFOUND;
    }
    *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return SYM_OK;
}

sym_err db_file_record(PGconn *conn, const struct db_file *f, int64_t since_us, bool any_size,
                       int64_t *id_out, struct sym_diag *d)
{
    char since[40], completed[40];
    struct file_row_params fp;
    file_row_params_init(&fp, f);
    if (f->completed_at_us > 0)
        db_format_time_us(f->completed_at_us, completed);
    if (since_us > 0)
        db_format_time_us(since_us, since);
    struct sym_buf lock;
    sym_buf_init(&lock, 0);
    sym_buf_printf(&lock, "%s\n%s\n%d", f->bucket_name, f->key, f->try_symbols ? 1 : 0);
    if (sym_buf_err(&lock) != SYM_OK)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    const char *params[16];
    memcpy(params, fp.values, sizeof(fp.values));
    params[13] = since_us > 0 ? since : NULL;
    params[14] = any_size ? "true" : "false";
    params[15] = f->completed_at_us > 0 ? completed : NULL;
    const char *lock_params[] = {lock.data};
    PGresult *res = NULL;
    sym_err rc = db_tx_begin(conn, d);
    if (rc != SYM_OK)
        goto out;
    rc = db_exec_cmd(conn, SQL_FILE_LOCK, 1, lock_params, d);
    if (rc == SYM_OK)
        rc = db_exec(conn, SQL_FILE_RECORD, 16, params, &res, d);
    if (rc == SYM_OK)
        rc = db_tx_commit(conn, d);
    else
        db_tx_rollback(conn);
    if (rc == SYM_OK) {
        if (PQntuples(res) == 0)
            rc = SYM_EEXISTS;
        else
            *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
out:
    PQclear(res);
    sym_buf_cleanup(&lock);
    return rc;
}

sym_err db_upload_json(PGconn *conn, int64_t id, json_t **out, struct sym_diag *d)
{
    char ids[24];
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    const char *params[] = {ids};
    return query_json_one(conn, SQL_UPLOAD_JSON, 1, params, out, d);
}

/* ---- Tokens and permissions ----------------------------------------------------------------- */

/* A token's effective permissions: its own, as long as its user still holds them. */
#define SQL_TOKEN_PERMS                                                                         \
    "coalesce((SELECT sum(1 << (tp.permission_id - 1)) FROM token_permissions tp "              \
    "  WHERE tp.token_id = t.id AND (u.is_superuser OR EXISTS (SELECT 1 FROM user_permissions " \
    "  up WHERE up.user_id = t.user_id AND up.permission_id = tp.permission_id))), 0)::bigint"

static const char SQL_TOKEN_AUTH[] =
    "SELECT t.id, t.user_id, u.email, u.is_active, u.is_superuser, t.expires_at < now(), "
    "  " SQL_US("t.expires_at") ", encode(t.key_hash, 'hex'), " SQL_TOKEN_PERMS " "
                                "FROM tokens t JOIN users u ON u.id = t.user_id "
                                "WHERE t.key_hash = decode($1, 'hex') AND t.revoked_at IS NULL";

static const char SQL_TOKEN_TOUCH[] =
    "UPDATE tokens SET last_used_at = now() WHERE id = $1 "
    "AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')";

static const char SQL_TOKEN_CREATE[] =
    "INSERT INTO tokens (user_id, key_hash, key_hint, notes, expires_at) "
    "VALUES ($1, decode($2, 'hex'), $3, $4, now() + make_interval(days => $5::int)) RETURNING id";

static const char SQL_TOKEN_GRANT[] =
    "INSERT INTO token_permissions (token_id, permission_id) "
    "SELECT $1, p.id FROM permissions p WHERE ($2::int & (1 << (p.id - 1))) <> 0";

static const char SQL_USER_GRANT[] =
    "INSERT INTO user_permissions (user_id, permission_id) "
    "SELECT $1, p.id FROM permissions p WHERE ($2::int & (1 << (p.id - 1))) <> 0 "
    "ON CONFLICT DO NOTHING";

static const char SQL_TOKEN_LIST[] =
    "SELECT t.id, u.email AS user_email, t.key_hint, t.notes, "
    "  " SQL_US("t.expires_at") " AS expires_at, " SQL_US(
        "t.created_at") " AS created_at, "
                        "  " SQL_US(
                            "t.last_used_at") " AS last_used_at, t.expires_at < now() AS "
                                              "is_expired, "
                                              "  coalesce((SELECT json_agg(json_build_object('id', "
                                              "p.id, 'name', p.name, "
                                              "            'codename', p.codename) ORDER BY p.id) "
                                              "   FROM token_permissions tp JOIN permissions p ON "
                                              "p.id = tp.permission_id "
                                              "   WHERE tp.token_id = t.id), '[]'::json) AS "
                                              "permissions "
                                              "FROM tokens t JOIN users u ON u.id = t.user_id "
                                              "WHERE t.revoked_at IS NULL AND ($1::bigint = 0 OR "
                                              "t.user_id = $1::bigint) "
                                              "  AND ($2 = 'all' OR ($2 = 'expired') = "
                                              "(t.expires_at < now())) "
                                              "ORDER BY t.created_at DESC, t.id DESC";

static const char SQL_TOKEN_TOTALS[] =
    "SELECT count(*) AS \"all\", count(*) FILTER (WHERE t.expires_at >= now()) AS active, "
    "  count(*) FILTER (WHERE t.expires_at < now()) AS expired "
    "FROM tokens t WHERE t.revoked_at IS NULL AND ($1::bigint = 0 OR t.user_id = $1::bigint)";

static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL "
    "AND ($2::bigint = 0 OR user_id = $2::bigint) RETURNING id";

static const char SQL_TOKEN_EXTEND[] =
    "UPDATE tokens SET expires_at = expires_at + make_interval(days => $3::int) "
    "WHERE id = $1 AND revoked_at IS NULL AND ($2::bigint = 0 OR user_id = $2::bigint) "
    "RETURNING id";

static const char SQL_USER_PERMS[] =
    "SELECT CASE WHEN u.is_superuser THEN (1 << 4) - 1 ELSE "
    "  coalesce((SELECT sum(1 << (up.permission_id - 1)) FROM user_permissions up "
    "            WHERE up.user_id = u.id), 0) END::bigint "
    "FROM users u WHERE u.id = $1";

static const char SQL_USER_FIND[] = "SELECT id FROM users WHERE email = $1";

static bool hex_decode(const char *s, unsigned char *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            unsigned x = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                                : 16;
            if (x > 15)
                return false;
            v = v * 16 + x;
        }
        out[i] = (unsigned char)v;
    }
    return true;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

sym_err db_token_auth(PGconn *conn, const unsigned char key_hash[32], struct db_token_auth *out,
                      struct sym_diag *d)
{
    char hash[65];
    hex_encode(key_hash, 32, hash);
    const char *params[] = {hash};
    PGresult *res;
    sym_err rc = db_exec(conn, SQL_TOKEN_AUTH, 1, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return SYM_ENOTFOUND;
    }
    struct db_token_auth t = {
        .token_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10),
        .user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10),
        .email = strdup(PQgetvalue(res, 0, 2)),
        .user_active = PQgetvalue(res, 0, 3)[0] == 't',
        .is_superuser = PQgetvalue(res, 0, 4)[0] == 't',
        .expired = PQgetvalue(res, 0, 5)[0] == 't',
        .expires_at_us = strtoll(PQgetvalue(res, 0, 6), NULL, 10),
        .perms = (unsigned)strtoul(PQgetvalue(res, 0, 8), NULL, 10),
    };
    bool ok = hex_decode(PQgetvalue(res, 0, 7), t.key_hash, 32);
    PQclear(res);
    if (t.email == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    if (!ok) {
        free(t.email);
        return sym_diag_set(d, SYM_EINTERNAL, "malformed stored token hash");
    }
    *out = t;
    return SYM_OK;
}

void db_token_auth_cleanup(struct db_token_auth *t)
{
    free(t->email);
    memset(t, 0, sizeof(*t));
}

sym_err db_token_touch(PGconn *conn, int64_t token_id, struct sym_diag *d)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, token_id);
    const char *params[] = {id};
    return db_exec_cmd(conn, SQL_TOKEN_TOUCH, 1, params, d);
}

sym_err db_token_create(PGconn *conn, const struct db_token_new *t, int64_t *id_out,
                        struct sym_diag *d)
{
    char user_id[24], hash[65], days[16], perms[16], token_id[24];
    snprintf(user_id, sizeof(user_id), "%" PRId64, t->user_id);
    hex_encode(t->key_hash, 32, hash);
    snprintf(days, sizeof(days), "%u", t->expires_days);
    snprintf(perms, sizeof(perms), "%u", t->perms);
    const char *params[] = {user_id, hash, t->key_hint, t->notes ? t->notes : "", days};
    int64_t id = 0;
    sym_err rc = db_tx_begin(conn, d);
    if (rc != SYM_OK)
        return rc;
    rc = single_id(conn, SQL_TOKEN_CREATE, 5, params, &id, d);
    if (rc == SYM_OK) {
        snprintf(token_id, sizeof(token_id), "%" PRId64, id);
        const char *grant[] = {token_id, perms};
        rc = db_exec_cmd(conn, SQL_TOKEN_GRANT, 2, grant, d);
    }
    if (rc == SYM_OK && t->grant_user) {
        const char *grant[] = {user_id, perms};
        rc = db_exec_cmd(conn, SQL_USER_GRANT, 2, grant, d);
    }
    if (rc == SYM_OK)
        rc = db_tx_commit(conn, d);
    else
        db_tx_rollback(conn);
    if (rc == SYM_OK)
        *id_out = id;
    return rc;
}

sym_err db_token_list(PGconn *conn, int64_t user_id, const char *state, json_t **out,
                      struct sym_diag *d)
{
    char uid[24];
    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    const char *params[] = {uid, state};
    return query_json(conn, SQL_TOKEN_LIST, 2, params, out, d);
}

sym_err db_token_totals(PGconn *conn, int64_t user_id, json_t **out, struct sym_diag *d)
{
    char uid[24];
    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    const char *params[] = {uid};
    return query_json_one(conn, SQL_TOKEN_TOTALS, 1, params, out, d);
}

static sym_err update_owned(PGconn *conn, const char *sql, int64_t token_id, int64_t user_id,
                            const char *extra, struct sym_diag *d)
{
    char id[24], uid[24];
    snprintf(id, sizeof(id), "%" PRId64, token_id);
    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    const char *params[] = {id, uid, extra};
    PGresult *res;
    sym_err rc = db_exec(conn, sql, extra ? 3 : 2, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    int n = PQntuples(res);
    PQclear(res);
    return n == 0 ? SYM_ENOTFOUND : SYM_OK;
}

sym_err db_token_revoke(PGconn *conn, int64_t token_id, int64_t user_id, struct sym_diag *d)
{
    return update_owned(conn, SQL_TOKEN_REVOKE, token_id, user_id, NULL, d);
}

sym_err db_token_extend(PGconn *conn, int64_t token_id, int64_t user_id, uint32_t days,
                        struct sym_diag *d)
{
    char n[16];
    snprintf(n, sizeof(n), "%u", days);
    return update_owned(conn, SQL_TOKEN_EXTEND, token_id, user_id, n, d);
}

sym_err db_user_perms(PGconn *conn, int64_t user_id, unsigned *perms_out, struct sym_diag *d)
{
    char uid[24];
    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    const char *params[] = {uid};
    int64_t v;
    PGresult *res;
    sym_err rc = db_exec(conn, SQL_USER_PERMS, 1, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return SYM_ENOTFOUND;
    }
    v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    *perms_out = (unsigned)v;
    return SYM_OK;
}

sym_err db_user_find(PGconn *conn, const char *email, int64_t *id_out, struct sym_diag *d)
{
    const char *params[] = {email};
    PGresult *res;
    sym_err rc = db_exec(conn, SQL_USER_FIND, 1, params, &res, d);
    if (rc != SYM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return SYM_ENOTFOUND;
    }
    *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return SYM_OK;
}

/* ---- Upload listing API --------------------------------------------------------------------- */

#define SQL_UPLOAD_COLUMNS                                                               \
    "u.id, u.user_id, us.email AS user_email, u.filename, u.size, u.bucket_name, "       \
    "to_json(u.skipped_keys) AS skipped_keys, to_json(u.ignored_keys) AS ignored_keys, " \
    "u.try_symbols, u.download_url, to_json(u.redirect_urls) AS redirect_urls, "         \
    "u.content_hash, "                                                                   \
    "(extract(epoch FROM u.completed_at) * 1000000)::bigint AS completed_at, "           \
    "(extract(epoch FROM u.created_at) * 1000000)::bigint AS created_at, "               \
    "(SELECT count(*) FROM file_uploads f WHERE f.upload_id = u.id) AS files_count, "    \
    "(SELECT count(*) FROM file_uploads f WHERE f.upload_id = u.id "                     \
    " AND f.completed_at IS NULL) AS files_incomplete_count "

/* Every filter is optional: a NULL parameter disables it. */
#define SQL_UPLOAD_FILTER                                                                      \
    "($1::bigint = 0 OR u.user_id = $1::bigint) "                                              \
    "AND ($2::text IS NULL OR (strpos(lower(us.email), lower($2::text)) > 0) <> $3::boolean) " \
    "AND ($4::bigint IS NULL OR u.size >= $4::bigint) "                                        \
    "AND ($5::bigint IS NULL OR u.size <= $5::bigint) "                                        \
    "AND ($6::timestamptz IS NULL OR u.created_at >= $6::timestamptz) "                        \
    "AND ($7::timestamptz IS NULL OR u.created_at < $7::timestamptz) "                         \
    "AND ($8::timestamptz IS NULL OR u.completed_at >= $8::timestamptz) "                      \
    "AND ($9::timestamptz IS NULL OR u.completed_at < $9::timestamptz) "                       \
    "AND (NOT $10::boolean OR u.completed_at IS NULL) "                                        \
    "AND ($11::boolean IS NULL OR u.try_symbols = $11::boolean) "

static const char SQL_UPLOADS_LIST[] =
    "SELECT " SQL_UPLOAD_COLUMNS "FROM uploads u JOIN users us ON us.id = u.user_id "
    "WHERE " SQL_UPLOAD_FILTER "ORDER BY "
    "  CASE WHEN $12::boolean AND $13::boolean THEN u.size END DESC, "
    "  CASE WHEN $12::boolean AND NOT $13::boolean THEN u.size END ASC, "
    "  CASE WHEN NOT $12::boolean AND NOT $13::boolean THEN u.created_at END ASC, "
    "  u.created_at DESC, u.id DESC "
    "LIMIT $14 OFFSET $15";

static const char SQL_UPLOADS_COUNT[] =
    "SELECT count(*) FROM uploads u JOIN users us ON us.id = u.user_id WHERE " SQL_UPLOAD_FILTER;

static const char SQL_UPLOAD_FILES[] =
    "SELECT f.id, f.bucket_name, f.key, f.update, f.compressed, f.size, " SQL_US(
        "f.completed_at") " AS completed_at, " SQL_US("f.created_at") " AS created_at "
                                                                      "FROM file_uploads f WHERE "
                                                                      "f.upload_id = $1 ORDER BY "
                                                                      "f.created_at, f.id";

static const char SQL_UPLOAD_RELATED[] =
    "SELECT " SQL_UPLOAD_COLUMNS "FROM uploads o JOIN uploads u ON u.user_id = o.user_id "
    "  AND u.size = o.size AND u.id <> o.id "
    "  AND (CASE WHEN o.content_hash IS NOT NULL THEN u.content_hash = o.content_hash "
    "            ELSE u.filename = o.filename END) "
    "JOIN users us ON us.id = u.user_id "
    "WHERE o.id = $1 ORDER BY u.created_at DESC, u.id DESC LIMIT 100";

#define SQL_FILE_COLUMNS                                                                    \
    "f.id, f.key, f.update, f.compressed, f.size, f.bucket_name, "                          \
    "(extract(epoch FROM f.completed_at) * 1000000)::bigint AS completed_at, "              \
    "(extract(epoch FROM f.created_at) * 1000000)::bigint AS created_at, "                  \
    "f.debug_filename, f.debug_id, f.code_file, f.code_id, f.generator, f.try_symbols, "    \
    "u.id AS upload_id, u.try_symbols AS upload_try_symbols, u.user_id AS upload_user_id, " \
    "us.email AS upload_user_email, "                                                       \
    "(extract(epoch FROM u.created_at) * 1000000)::bigint AS upload_created_at "

#define SQL_FILE_FROM                                                \
    "FROM file_uploads f LEFT JOIN uploads u ON u.id = f.upload_id " \
    "LEFT JOIN users us ON us.id = u.user_id "

#define SQL_FILE_FILTER                                                                        \
    "($1::bigint IS NULL OR f.size >= $1::bigint) "                                            \
    "AND ($2::bigint IS NULL OR f.size <= $2::bigint) "                                        \
    "AND ($3::timestamptz IS NULL OR f.created_at >= $3::timestamptz) "                        \
    "AND ($4::timestamptz IS NULL OR f.created_at < $4::timestamptz) "                         \
    "AND ($5::timestamptz IS NULL OR f.completed_at >= $5::timestamptz) "                      \
    "AND ($6::timestamptz IS NULL OR f.completed_at < $6::timestamptz) "                       \
    "AND (NOT $7::boolean OR f.completed_at IS NULL) "                                         \
    "AND ($8::json IS NULL OR NOT EXISTS (SELECT 1 FROM json_array_elements_text($8::json) k " \
    "     WHERE strpos(lower(f.key), lower(k)) = 0)) "                                         \
    "AND ($9::json IS NULL OR f.bucket_name IN (SELECT json_array_elements_text($9::json))) "  \
    "AND ($10::json IS NULL OR f.bucket_name NOT IN "                                          \
    "     (SELECT json_array_elements_text($10::json))) "                                      \
    "AND ($11::boolean IS NULL OR f.try_symbols = $11::boolean) "                              \
    "AND ($12::text IS NULL OR f.debug_filename = $12::text) "                                 \
    "AND ($13::text IS NULL OR f.debug_id = $13::text) "                                       \
    "AND ($14::text IS NULL OR f.code_file = $14::text) "                                      \
    "AND ($15::text IS NULL OR f.code_id = $15::text) "

static const char SQL_FILES_LIST[] =
    "SELECT " SQL_FILE_COLUMNS SQL_FILE_FROM "WHERE " SQL_FILE_FILTER
    "ORDER BY f.created_at DESC, f.id DESC LIMIT $16 OFFSET $17";

static const char SQL_FILES_COUNT[] = "SELECT count(*) " SQL_FILE_FROM "WHERE " SQL_FILE_FILTER;

static const char SQL_FILE_JSON[] = "SELECT " SQL_FILE_COLUMNS SQL_FILE_FROM "WHERE f.id = $1";

/* Parameter text of an optional number / time; NULL when unset. */
static const char *opt_i64(int64_t v, int64_t unset, char buf[24])
{
    if (v == unset)
        return NULL;
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

static const char *opt_time(int64_t us, char buf[40])
{
    if (us == 0)
        return NULL;
    db_format_time_us(us, buf);
    return buf;
}

static const char *opt_bool(int v)
{
    return v < 0 ? NULL : v ? "true" : "false";
}

struct upload_params {
    char uid[24], smin[24], smax[24], cf[40], ct[40], pf[40], pt[40], limit[24], offset[24];
    const char *v[15];
};

static void upload_params(const struct db_upload_filter *f, struct upload_params *p)
{
    snprintf(p->uid, sizeof(p->uid), "%" PRId64, f->only_user_id);
    snprintf(p->limit, sizeof(p->limit), "%" PRId64, f->limit);
    snprintf(p->offset, sizeof(p->offset), "%" PRId64, f->offset);
    const char *v[15] = {
        p->uid,
        f->user_substr,
        f->user_exclude ? "true" : "false",
        opt_i64(f->size_min, -1, p->smin),
        opt_i64(f->size_max, -1, p->smax),
        opt_time(f->created_from_us, p->cf),
        opt_time(f->created_to_us, p->ct),
        opt_time(f->completed_from_us, p->pf),
        opt_time(f->completed_to_us, p->pt),
        f->completed_null ? "true" : "false",
        opt_bool(f->try_symbols),
        f->sort_by_size ? "true" : "false",
        f->reverse ? "true" : "false",
        p->limit,
        p->offset,
    };
    memcpy(p->v, v, sizeof(v));
}

static sym_err count_query(PGconn *conn, const char *sql, int n, const char *const *params,
                           int64_t *n_out, struct sym_diag *d)
{
    return single_id(conn, sql, n, params, n_out, d);
}

sym_err db_uploads_list(PGconn *conn, const struct db_upload_filter *f, json_t **out,
                        struct sym_diag *d)
{
    struct upload_params p;
    upload_params(f, &p);
    return query_json(conn, SQL_UPLOADS_LIST, 15, p.v, out, d);
}

sym_err db_uploads_count(PGconn *conn, const struct db_upload_filter *f, int64_t *n_out,
                         struct sym_diag *d)
{
    struct upload_params p;
    upload_params(f, &p);
    return count_query(conn, SQL_UPLOADS_COUNT, 11, p.v, n_out, d);
}

sym_err db_upload_files(PGconn *conn, int64_t upload_id, json_t **out, struct sym_diag *d)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, upload_id);
    const char *params[] = {id};
    return query_json(conn, SQL_UPLOAD_FILES, 1, params, out, d);
}

sym_err db_upload_related(PGconn *conn, int64_t upload_id, json_t **out, struct sym_diag *d)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, upload_id);
    const char *params[] = {id};
    return query_json(conn, SQL_UPLOAD_RELATED, 1, params, out, d);
}

struct file_params {
    char smin[24], smax[24], cf[40], ct[40], pf[40], pt[40], limit[24], offset[24];
    char *keys, *buckets, *exclude;
    const char *v[17];
};

static sym_err file_params(const struct db_file_filter *f, struct file_params *p,
                           struct sym_diag *d)
{
    memset(p, 0, sizeof(*p));
    p->keys = f->key_substrs ? json_dumps(f->key_substrs, JSON_COMPACT) : NULL;
    p->buckets = f->buckets ? json_dumps(f->buckets, JSON_COMPACT) : NULL;
    p->exclude = f->buckets_exclude ? json_dumps(f->buckets_exclude, JSON_COMPACT) : NULL;
    if ((f->key_substrs && !p->keys) || (f->buckets && !p->buckets) ||
        (f->buckets_exclude && !p->exclude)) {
        free(p->keys);
        free(p->buckets);
        free(p->exclude);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    snprintf(p->limit, sizeof(p->limit), "%" PRId64, f->limit);
    snprintf(p->offset, sizeof(p->offset), "%" PRId64, f->offset);
    const char *v[17] = {
        opt_i64(f->size_min, -1, p->smin),
        opt_i64(f->size_max, -1, p->smax),
        opt_time(f->created_from_us, p->cf),
        opt_time(f->created_to_us, p->ct),
        opt_time(f->completed_from_us, p->pf),
        opt_time(f->completed_to_us, p->pt),
        f->completed_null ? "true" : "false",
        p->keys,
        p->buckets,
        p->exclude,
        opt_bool(f->try_symbols),
        f->debug_filename,
        f->debug_id,
        f->code_file,
        f->code_id,
        p->limit,
        p->offset,
    };
    memcpy(p->v, v, sizeof(v));
    return SYM_OK;
}

static void file_params_cleanup(struct file_params *p)
{
    free(p->keys);
    free(p->buckets);
    free(p->exclude);
}

sym_err db_files_list(PGconn *conn, const struct db_file_filter *f, json_t **out,
                      struct sym_diag *d)
{
    struct file_params p;
    sym_err rc = file_params(f, &p, d);
    if (rc == SYM_OK)
        rc = query_json(conn, SQL_FILES_LIST, 17, p.v, out, d);
    file_params_cleanup(&p);
    return rc;
}

sym_err db_files_count(PGconn *conn, const struct db_file_filter *f, int64_t *n_out,
                       struct sym_diag *d)
{
    struct file_params p;
    sym_err rc = file_params(f, &p, d);
    if (rc == SYM_OK)
        rc = count_query(conn, SQL_FILES_COUNT, 15, p.v, n_out, d);
    file_params_cleanup(&p);
    return rc;
}

sym_err db_file_json(PGconn *conn, int64_t id, json_t **out, struct sym_diag *d)
{
    char ids[24];
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    const char *params[] = {ids};
    return query_json_one(conn, SQL_FILE_JSON, 1, params, out, d);
}
