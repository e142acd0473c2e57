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
    int64_t created_at_us;   /* Unix microseconds; 0 means now() */
    int64_t completed_at_us; /* db_file_record() only; 0 means now() */
};
sym_err db_file_insert(PGconn *conn, const struct db_file *f, int64_t *id_out,
                       struct sym_diag *d) SYM_MUST_CHECK;

/* Formats Unix microseconds as an ISO 8601 timestamp literal for a timestamptz parameter. */
void db_format_time_us(int64_t us, char out[40]);

/* ---- Upload pipeline (server/upload/) -------------------------------------------------------- */

/* Records a stored file, unless a row for the same (bucket_name, key, try_symbols) already
 * describes it: one with the same size completed (stored) at or after since_us (Unix
 * microseconds, taken before this upload looked for the object: another upload stored the same
 * file meanwhile), or, with since_us 0 and any_size, any row at all (a
 * retry filling in the row of an object stored before a crash). Serialized per key with a
 * transaction-scoped advisory lock, so two concurrent identical uploads write one row.
 * SYM_EEXISTS (nothing written) when such a row exists; *id_out is written only on SYM_OK. */
sym_err db_file_record(PGconn *conn, const struct db_file *f, int64_t since_us, bool any_size,
                       int64_t *id_out, struct sym_diag *d) SYM_MUST_CHECK;

/* One upload as a JSON object: id, user_id, user_email, filename, bucket_name, size,
 * content_hash, download_url, redirect_urls, skipped_keys, ignored_keys (arrays or null),
 * try_symbols, created_at, completed_at (Django-style UTC datetimes or null). Caller
 * json_decref()s *out. SYM_ENOTFOUND when there is no such upload. */
sym_err db_upload_json(PGconn *conn, int64_t id, json_t **out, struct sym_diag *d) SYM_MUST_CHECK;

/* Formats Unix microseconds as Django's JSON encoder does: ISO 8601 in UTC with a "Z", the
 * fraction truncated to milliseconds and left out when the microseconds are 0. */
void db_format_django_time(int64_t us, char out[40]);

/* ---- Tokens and permissions ------------------------------------------------------------------ */

/* Permission ids are fixed by the initial migration; permission bit sets use 1 << (id - 1). */
enum db_permission {
    DB_PERM_UPLOAD = 1,     /* upload.upload_symbols */
    DB_PERM_UPLOAD_TRY = 2, /* upload.upload_try_symbols */
    DB_PERM_VIEW_ALL = 3,   /* upload.view_all_uploads */
    DB_PERM_MANAGE_TOKENS = 4,
};
#define DB_PERM_BIT(id)  (1u << ((id)-1))
#define DB_N_PERMISSIONS 4

/* The token whose key hashes to key_hash (SHA-256 of the 32-hex key), not revoked. perms holds
 * the token's permissions that its user still has (all of them for a superuser). email is
 * malloc'd; free with db_token_auth_cleanup(). SYM_ENOTFOUND when there is none. */
struct db_token_auth {
    int64_t token_id, user_id;
    char *email;
    bool user_active, is_superuser, expired;
    int64_t expires_at_us;
    unsigned perms;
    unsigned char key_hash[32]; /* as stored, for a constant-time comparison */
};
sym_err db_token_auth(PGconn *conn, const unsigned char key_hash[32], struct db_token_auth *out,
                      struct sym_diag *d) SYM_MUST_CHECK;
void db_token_auth_cleanup(struct db_token_auth *t);
/* Sets last_used_at, at most once a minute per token. */
sym_err db_token_touch(PGconn *conn, int64_t token_id, struct sym_diag *d) SYM_MUST_CHECK;

struct db_token_new {
    int64_t user_id;
    unsigned char key_hash[32];
    const char *key_hint; /* the first characters of the key, shown in lists */
    const char *notes;
    uint32_t expires_days;
    unsigned perms;  /* permission bit set */
    bool grant_user; /* also give the user these permissions (administrators) */
};
/* Creates the token with its permissions in one transaction. */
sym_err db_token_create(PGconn *conn, const struct db_token_new *t, int64_t *id_out,
                        struct sym_diag *d) SYM_MUST_CHECK;
/* Tokens (not revoked) as a JSON array, newest first: id, user_email, key_hint, notes,
 * expires_at, created_at, last_used_at, is_expired, permissions [{id, name, codename}].
 * user_id 0 lists every user's; state "" lists active ones, "expired" expired ones, "all" both. */
sym_err db_token_list(PGconn *conn, int64_t user_id, const char *state, json_t **out,
                      struct sym_diag *d) SYM_MUST_CHECK;
/* {"all": n, "active": n, "expired": n} for user_id (0: everyone). */
sym_err db_token_totals(PGconn *conn, int64_t user_id, json_t **out,
                        struct sym_diag *d) SYM_MUST_CHECK;
/* Revokes token_id; with user_id non-zero only that user's. SYM_ENOTFOUND otherwise. */
sym_err db_token_revoke(PGconn *conn, int64_t token_id, int64_t user_id,
                        struct sym_diag *d) SYM_MUST_CHECK;
/* Moves expires_at days further; same ownership rule. */
sym_err db_token_extend(PGconn *conn, int64_t token_id, int64_t user_id, uint32_t days,
                        struct sym_diag *d) SYM_MUST_CHECK;
/* The permissions a user holds (every one for a superuser) as a bit set. */
sym_err db_user_perms(PGconn *conn, int64_t user_id, unsigned *perms_out,
                      struct sym_diag *d) SYM_MUST_CHECK;
/* The user with that email: SYM_ENOTFOUND when absent. */
sym_err db_user_find(PGconn *conn, const char *email, int64_t *id_out,
                     struct sym_diag *d) SYM_MUST_CHECK;

/* ---- Upload listing API ---------------------------------------------------------------------- */

/* Filters of GET /api/uploads/; unset bounds are -1 (sizes) or 0 (times, Unix microseconds).
 * Time ranges are [from, to). */
struct db_upload_filter {
    int64_t only_user_id;    /* 0: every user's uploads */
    const char *user_substr; /* email contains (case-insensitive); NULL: any */
    bool user_exclude;       /* ... or does not contain */
    int64_t size_min, size_max;
    int64_t created_from_us, created_to_us;
    int64_t completed_from_us, completed_to_us;
    bool completed_null; /* only incomplete uploads */
    int try_symbols;     /* -1 any, 0 regular, 1 try */
    bool sort_by_size;   /* else by created_at */
    bool reverse;        /* descending */
    int64_t limit, offset;
};
/* Uploads as a JSON array: id, user_id, user_email, filename, size, bucket_name, skipped_keys,
 * ignored_keys, try_symbols, download_url, redirect_urls, completed_at, created_at, files_count,
 * files_incomplete_count. */
sym_err db_uploads_list(PGconn *conn, const struct db_upload_filter *f, json_t **out,
                        struct sym_diag *d) SYM_MUST_CHECK;
sym_err db_uploads_count(PGconn *conn, const struct db_upload_filter *f, int64_t *n_out,
                         struct sym_diag *d) SYM_MUST_CHECK;
/* The files of an upload (id, bucket_name, key, update, compressed, size, completed_at,
 * created_at), oldest first. */
sym_err db_upload_files(PGconn *conn, int64_t upload_id, json_t **out,
                        struct sym_diag *d) SYM_MUST_CHECK;
/* Other uploads of the same user with the same size and content hash (or, without a hash, the
 * same file name), newest first, at most 100, in the shape of db_uploads_list(). */
sym_err db_upload_related(PGconn *conn, int64_t upload_id, json_t **out,
                          struct sym_diag *d) SYM_MUST_CHECK;

/* Filters of GET /api/uploads/files/. */
struct db_file_filter {
    int64_t size_min, size_max;
    int64_t created_from_us, created_to_us;
    int64_t completed_from_us, completed_to_us;
    bool completed_null;
    json_t *key_substrs;     /* array: every one must be in the key (case-insensitive); borrowed */
    json_t *buckets;         /* array: bucket_name is one of them; borrowed */
    json_t *buckets_exclude; /* array: bucket_name is none of them; borrowed */
    int try_symbols;         /* -1 any */
    const char *debug_filename, *debug_id, *code_file, *code_id; /* exact; NULL: any */
    int64_t limit, offset;
};
/* Files as a JSON array: id, key, update, compressed, size, bucket_name, completed_at,
 * created_at, debug_filename, debug_id, code_file, code_id, generator, try_symbols, upload_id,
 * upload_try_symbols, upload_user_id, upload_user_email, upload_created_at (upload_* null when
 * the file has no upload). Newest first. */
sym_err db_files_list(PGconn *conn, const struct db_file_filter *f, json_t **out,
                      struct sym_diag *d) SYM_MUST_CHECK;
sym_err db_files_count(PGconn *conn, const struct db_file_filter *f, int64_t *n_out,
                       struct sym_diag *d) SYM_MUST_CHECK;
/* One file in the shape of db_files_list(); SYM_ENOTFOUND. */
sym_err db_file_json(PGconn *conn, int64_t id, json_t **out, struct sym_diag *d) SYM_MUST_CHECK;

#endif
