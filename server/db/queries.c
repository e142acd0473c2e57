/* SPDX-License-Identifier: MPL-2.0 */
/* queries.c: the SQL of the server, as named constants with typed wrappers. */
#include "db/queries.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pool.h"

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

sym_err db_file_insert(PGconn *conn, const struct db_file *f, int64_t *id_out, struct sym_diag *d)
{
    char upload_id[24], size[24], created[40];
    snprintf(upload_id, sizeof(upload_id), "%" PRId64, f->upload_id);
    snprintf(size, sizeof(size), "%" PRIu64, f->size);
    if (f->created_at_us > 0)
        db_format_time_us(f->created_at_us, created);
    const char *params[] = {
        f->upload_id > 0 ? upload_id : NULL,
        f->bucket_name,
        f->key,
        f->update ? "true" : "false",
        f->compressed ? "true" : "false",
        size,
        f->try_symbols ? "true" : "false",
        f->debug_filename,
        f->debug_id,
        f->code_file,
        f->code_id,
        f->generator,
        f->created_at_us > 0 ? created : NULL,
    };
    return single_id(conn, SQL_FILE_INSERT, 13, params, id_out, d);
}
