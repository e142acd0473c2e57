/* SPDX-License-Identifier: MPL-2.0 */
/* queries.h: every SQL statement of the server, each behind a typed function. Values travel only
 * as $n parameters. All functions block; they return SYM_OK, SYM_ENOTFOUND where a lookup found
 * nothing, SYM_EEXISTS on a uniqueness conflict, SYM_EUNAVAIL when the database is unreachable, or
 * SYM_EINTERNAL for other SQL errors, with libpq's message in d. */
#ifndef DB_QUERIES_H
#define DB_QUERIES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sym/err.h"

sym_err db_ping(PGconn *conn, struct sym_diag *d) SYM_MUST_CHECK;

/* The code-info lookup of the download API: the most recent file whose (debug_filename,
 * debug_id) or (code_file, code_id) equals (file, id). Strings are malloc'd; free with
 * db_syminfo_cleanup(). */
struct db_syminfo {
    char *debug_filename, *debug_id, *code_file, *code_id, *generator;
    bool try_symbols;
};
sym_err db_syminfo_lookup(PGconn *conn, const char *file, const char *id, struct db_syminfo *out,
                          struct sym_diag *d) SYM_MUST_CHECK;
void db_syminfo_cleanup(struct db_syminfo *s);

/* Adds counts of missing symbols. rows is a JSON array of objects with debug_filename, debug_id,
 * filename, code_file, code_id (strings) and count (integer); borrowed. One statement whatever
 * the number of rows. */
sym_err db_missing_add(PGconn *conn, json_t *rows, struct sym_diag *d) SYM_MUST_CHECK;

/* Returns the id of the user with that email, creating an active user without permissions when
 * there is none. */
sym_err db_user_ensure(PGconn *conn, const char *email, int64_t *id_out,
                       struct sym_diag *d) SYM_MUST_CHECK;

struct db_upload {
    int64_t user_id;
    const char *filename;
    const char *bucket_name;
    uint64_t size;
    const char *content_hash; /* may be NULL */
    const char *download_url; /* may be NULL */
    json_t *redirect_urls;    /* JSON array of strings or NULL; borrowed */
    bool try_symbols;
};
/* Inserts an upload with completed_at NULL. */
sym_err db_upload_create(PGconn *conn, const struct db_upload *u, int64_t *id_out,
                         struct sym_diag *d) SYM_MUST_CHECK;
/* Sets skipped_keys and ignored_keys (JSON arrays of strings; empty or NULL stores NULL) and
 * completed_at = now(). */
sym_err db_upload_complete(PGconn *conn, int64_t upload_id, json_t *skipped_keys,
                           json_t *ignored_keys, struct sym_diag *d) SYM_MUST_CHECK;

struct db_file {
    int64_t upload_id; /* 0 for none */
    const char *bucket_name;
    const char *key; /* without the v1/ or try/v1/ prefix */
    bool update;
    bool compressed;
    uint64_t size; /* stored bytes */
    bool try_symbols;
    /* From the .sym header; NULL when the file is not a .sym or its header did not parse. */
    const char *debug_filename, *debug_id, *code_file, *code_id, *generator;
    int64_t created_at_us; /* Unix microseconds; 0 means now() */
};
sym_err db_file_insert(PGconn *conn, const struct db_file *f, int64_t *id_out,
                       struct sym_diag *d) SYM_MUST_CHECK;

/* Formats Unix microseconds as an ISO 8601 timestamp literal for a timestamptz parameter. */
void db_format_time_us(int64_t us, char out[40]);

#endif
