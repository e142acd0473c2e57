/* SPDX-License-Identifier: MPL-2.0 */
/* uploads_api.c: Tecken's upload listing API and symbol info:
 *   GET /api/uploads/                   uploads, newest first, 20 a page; only the caller's
 *                                       without view_all_uploads; filters user (email
 *                                       substring, "!" excludes; view-all only), size,
 *                                       created_at, completed_at (upload/filters.h),
 *                                       upload_type (try|regular), sort (size|created_at),
 *                                       reverse, page;
 *   GET /api/uploads/upload/{id}        one upload with its files and related uploads (the
 *                                       owner's, or with view_all_uploads);
 *   GET /api/uploads/files/             files (view_all_uploads), 40 a page; filters size,
 *                                       created_at, completed_at, key (comma-separated
 *                                       substrings, all must match), bucket_name (comma-
 *                                       separated, "!" excludes), upload_type, and the .sym
 *                                       fields debug_filename, debug_id, code_file, code_id;
 *   GET /api/uploads/files/file/{id}    one file;
 *   GET /api/syminfo/{file}/{id}        the code-info lookup of the download API as JSON
 *                                       (public, CORS *).
 * `total` is a real count when a filter is given, else 1000000 (as Tecken, to spare a full
 * count). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/queries.h"
#include "handlers/api_call.h"
#include "handlers/handlers.h"
#include "sym/buf.h"
#include "upload/filters.h"

#define UPLOADS_BATCH    20
#define FILES_BATCH      40
#define MAX_PAGE         100000
#define UNFILTERED_TOTAL 1000000
#define MAX_LIST_FILTER  50

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static json_t *array_or_empty(json_t *v)
{
    return json_is_array(v) ? json_incref(v) : json_array();
}

static json_t *user_json(json_t *id, json_t *email)
{
    json_t *u = json_object();
    if (id != NULL)
        json_object_set(u, "id", id);
    json_object_set(u, "email", email);
    return u;
}

/* An upload row in the API's shape. */
static json_t *upload_json(json_t *row, bool with_user_id, bool with_counts)
{
    json_t *u = json_object();
    json_object_set(u, "id", json_object_get(row, "id"));
    json_object_set_new(u, "user",
                        user_json(with_user_id ? json_object_get(row, "user_id") : NULL,
                                  json_object_get(row, "user_email")));
    json_object_set(u, "filename", json_object_get(row, "filename"));
    json_object_set(u, "size", json_object_get(row, "size"));
    json_object_set(u, "bucket_name", json_object_get(row, "bucket_name"));
    json_object_set_new(u, "skipped_keys", array_or_empty(json_object_get(row, "skipped_keys")));
    json_object_set_new(u, "ignored_keys", array_or_empty(json_object_get(row, "ignored_keys")));
    json_object_set(u, "try_symbols", json_object_get(row, "try_symbols"));
    json_object_set(u, "download_url", json_object_get(row, "download_url"));
    json_object_set_new(u, "redirect_urls", array_or_empty(json_object_get(row, "redirect_urls")));
    json_object_set(u, "completed_at", json_object_get(row, "completed_at"));
    json_object_set(u, "created_at", json_object_get(row, "created_at"));
    if (with_counts) {
        json_object_set(u, "files_count", json_object_get(row, "files_count"));
        json_object_set(u, "files_incomplete_count",
                        json_object_get(row, "files_incomplete_count"));
    }
    return u;
}

/* A file row (db_files_list() shape) in the API's shape. */
static json_t *file_json(json_t *row, bool detail)
{
    json_t *f = json_object();
    static const char *const basic[] = {"id",   "key",         "update",       "compressed",
                                        "size", "bucket_name", "completed_at", "created_at"};
    for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
        json_object_set(f, basic[i], json_object_get(row, basic[i]));
    if (detail) {
        static const char *const sym[] = {"debug_filename", "debug_id", "code_file", "code_id",
                                          "generator"};
        for (size_t i = 0; i < sizeof(sym) / sizeof(sym[0]); i++)
            json_object_set(f, sym[i], json_object_get(row, sym[i]));
    }
    json_t *uid = json_object_get(row, "upload_id");
    if (json_is_integer(uid)) {
        json_t *u = json_object();
        bool try_ = json_is_true(json_object_get(row, "upload_try_symbols"));
        json_object_set(u, "id", uid);
        json_object_set_new(u, "upload_type", json_string(try_ ? "try" : "regular"));
        json_object_set_new(u, "try_symbols", json_boolean(try_));
        json_object_set_new(u, "user",
                            user_json(json_object_get(row, "upload_user_id"),
                                      json_object_get(row, "upload_user_email")));
        json_object_set(u, "created_at", json_object_get(row, "upload_created_at"));
        json_object_set_new(f, "upload", u);
    } else {
        json_object_set_new(f, "upload", json_null());
    }
    return f;
}

/* --- filters shared by both lists ------------------------------------------------------------ */

/* size / created_at / completed_at / upload_type / page; false when one was answered 400. */
static bool common_filters(struct srv_api_call *call, int64_t *size_min, int64_t *size_max,
                           int64_t created[2], int64_t completed[2], bool *completed_null,
                           int *try_symbols, int64_t *page, bool *filtered)
{
    int64_t now = wall_us();
    bool present, created_null = false;
    const char *v = srv_api_arg(call, "size", false, &present);
    if (v != NULL && v[0] != '\0') {
        if (!srv_filter_size(v, strlen(v), size_min, size_max)) {
            srv_api_form_error(call, "size", "Invalid size filter '%.100s'", v);
            return false;
        }
        *filtered = true;
    }
    v = srv_api_arg(call, "created_at", false, &present);
    if (v != NULL && v[0] != '\0') {
        if (!srv_filter_date(v, strlen(v), now, &created[0], &created[1], &created_null)) {
            srv_api_form_error(call, "created_at", "Invalid date filter '%.100s'", v);
            return false;
        }
        if (created_null) /* created_at is never null: nothing matches */
            created[0] = created[1] = 1;
        *filtered = true;
    }
    v = srv_api_arg(call, "completed_at", false, &present);
    if (v != NULL && v[0] != '\0') {
        if (!srv_filter_date(v, strlen(v), now, &completed[0], &completed[1], completed_null)) {
            srv_api_form_error(call, "completed_at", "Invalid date filter '%.100s'", v);
            return false;
        }
        *filtered = true;
    }
    v = srv_api_arg(call, "upload_type", false, &present);
    if (v != NULL && v[0] != '\0') {
        if (strcmp(v, "try") == 0) {
            *try_symbols = 1;
        } else if (strcmp(v, "regular") == 0) {
            *try_symbols = 0;
        } else {
            srv_api_form_error(call, "upload_type", "Unrecognized upload type '%.100s'", v);
            return false;
        }
        *filtered = true;
    }
    v = srv_api_arg(call, "page", false, &present);
    if (v != NULL && v[0] != '\0' && !srv_api_int(v, 1, MAX_PAGE, page)) {
        srv_api_form_error(call, "page", "Not a number '%.100s'", v);
        return false;
    }
    return true;
}

/* --- GET /api/uploads/ ----------------------------------------------------------------------- */

static void uploads_list(struct srv_api_call *call, PGconn *conn)
{
    bool view_all = srv_principal_can(&call->who, DB_PERM_VIEW_ALL);
    struct db_upload_filter f = {.size_min = -1, .size_max = -1, .try_symbols = -1};
    int64_t created[2] = {0, 0}, completed[2] = {0, 0}, page = 1;
    bool filtered = false, present;
    if (!common_filters(call, &f.size_min, &f.size_max, created, completed, &f.completed_null,
                        &f.try_symbols, &page, &filtered))
        return;
    f.created_from_us = created[0];
    f.created_to_us = created[1];
    f.completed_from_us = completed[0];
    f.completed_to_us = completed[1];
    f.only_user_id = view_all ? 0 : call->who.user_id;
    const char *user = srv_api_arg(call, "user", false, &present);
    if (view_all && user != NULL && user[0] != '\0') {
        f.user_exclude = user[0] == '!';
        f.user_substr = user + (f.user_exclude ? 1 : 0);
        filtered = true;
    }
    const char *sort = srv_api_arg(call, "sort", false, &present);
    if (sort != NULL && sort[0] != '\0' && strcmp(sort, "size") != 0 &&
        strcmp(sort, "created_at") != 0) {
        srv_api_form_error(call, "sort", "Unrecognized sort '%.100s'", sort);
        return;
    }
    f.sort_by_size = sort != NULL && strcmp(sort, "size") == 0;
    const char *reverse = srv_api_arg(call, "reverse", false, &present);
    f.reverse = reverse == NULL || reverse[0] == '\0' || strcasecmp(reverse, "true") == 0;
    if (reverse != NULL && reverse[0] != '\0' && strcasecmp(reverse, "true") != 0 &&
        strcasecmp(reverse, "false") != 0) {
        srv_api_form_error(call, "reverse", "Expected true or false, not '%.100s'", reverse);
        return;
    }
    f.limit = UPLOADS_BATCH + 1;
    f.offset = (page - 1) * UPLOADS_BATCH;

    json_t *rows = NULL;
    int64_t total = UNFILTERED_TOTAL;
    struct sym_diag d = {0};
    sym_err rc = db_uploads_list(conn, &f, &rows, &d);
    if (rc == SYM_OK && (filtered || !view_all))
        rc = db_uploads_count(conn, &f, &total, &d);
    if (rc != SYM_OK) {
        json_decref(rows);
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *uploads = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (i < UPLOADS_BATCH)
            json_array_append_new(uploads, upload_json(row, false, true));
    }
    bool has_next = json_array_size(rows) > UPLOADS_BATCH;
    json_decref(rows);
    json_t *order = json_object();
    json_object_set_new(order, "sort", json_string(f.sort_by_size ? "size" : "created_at"));
    json_object_set_new(order, "reverse", json_boolean(f.reverse));
    json_t *body = json_object();
    json_object_set_new(body, "can_view_all", json_boolean(view_all));
    json_object_set_new(body, "uploads", uploads);
    json_object_set_new(body, "batch_size", json_integer(UPLOADS_BATCH));
    json_object_set_new(body, "order_by", order);
    json_object_set_new(body, "has_next", json_boolean(has_next));
    json_object_set_new(body, "total", json_integer(total));
    srv_api_json(call, 200, body);
}

void srv_handle_api_uploads(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, 0, uploads_list);
}

/* --- GET /api/uploads/upload/{id} ------------------------------------------------------------ */

static void upload_detail(struct srv_api_call *call, PGconn *conn)
{
    int64_t id;
    if (!srv_api_int(call->params[0], 1, INT64_MAX, &id)) {
        srv_api_error(call, 404, "Upload not found");
        return;
    }
    json_t *row = NULL, *files = NULL, *related = NULL;
    struct sym_diag d = {0};
    sym_err rc = db_upload_json(conn, id, &row, &d);
    if (rc == SYM_ENOTFOUND) {
        srv_api_error(call, 404, "Upload not found");
        return;
    }
    if (rc == SYM_OK && json_integer_value(json_object_get(row, "user_id")) != call->who.user_id &&
        !srv_principal_can(&call->who, DB_PERM_VIEW_ALL)) {
        json_decref(row);
        srv_api_error(call, 403, "Insufficient access to view this upload");
        return;
    }
    if (rc == SYM_OK)
        rc = db_upload_files(conn, id, &files, &d);
    if (rc == SYM_OK)
        rc = db_upload_related(conn, id, &related, &d);
    if (rc != SYM_OK) {
        json_decref(row);
        json_decref(files);
        json_decref(related);
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *u = upload_json(row, true, false);
    json_t *rel = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(related, i, r)
    {
        json_array_append_new(rel, upload_json(r, true, false));
    }
    json_object_set_new(u, "file_uploads", files);
    json_object_set_new(u, "related", rel);
    json_decref(related);
    json_decref(row);
    json_t *body = json_object();
    json_object_set_new(body, "upload", u);
    srv_api_json(call, 200, body);
}

void srv_handle_api_upload(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, 0, upload_detail);
}

/* --- GET /api/uploads/files/ ----------------------------------------------------------------- */

/* Comma-separated values into a JSON array; with split_bang, "!x" values go to *exclude. */
static bool list_arg(const char *v, json_t **include, json_t **exclude)
{
    size_t n = 0;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            if (++n > MAX_LIST_FILTER)
                return false;
            bool neg = exclude != NULL && p[0] == '!';
            json_t **dst = neg ? exclude : include;
            if (*dst == NULL)
                *dst = json_array();
            const char *s = p + (neg ? 1 : 0);
            size_t sl = len - (neg ? 1 : 0);
            if (*dst == NULL || json_array_append_new(*dst, json_stringn(s, sl)) != 0)
                return false;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return true;
}

static char *upper_dup(const char *s)
{
    char *out = strdup(s);
    for (char *c = out; c != NULL && *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return out;
}

static void files_list(struct srv_api_call *call, PGconn *conn)
{
    struct db_file_filter f = {.size_min = -1, .size_max = -1, .try_symbols = -1};
    int64_t created[2] = {0, 0}, completed[2] = {0, 0}, page = 1;
    bool filtered = false, present;
    if (!common_filters(call, &f.size_min, &f.size_max, created, completed, &f.completed_null,
                        &f.try_symbols, &page, &filtered))
        return;
    f.created_from_us = created[0];
    f.created_to_us = created[1];
    f.completed_from_us = completed[0];
    f.completed_to_us = completed[1];
    char *debug_id = NULL, *code_id = NULL;
    const char *v = srv_api_arg(call, "key", false, &present);
    bool ok = true;
    if (v != NULL && v[0] != '\0') {
        ok = list_arg(v, &f.key_substrs, NULL);
        filtered = true;
    }
    v = srv_api_arg(call, "bucket_name", false, &present);
    if (ok && v != NULL && v[0] != '\0') {
        ok = list_arg(v, &f.buckets, &f.buckets_exclude);
        filtered = true;
    }
    static const char *const exact[] = {"debug_filename", "debug_id", "code_file", "code_id"};
    const char *values[4] = {NULL, NULL, NULL, NULL};
    for (size_t i = 0; i < 4; i++) {
        values[i] = srv_api_arg(call, exact[i], false, &present);
        if (values[i] != NULL && values[i][0] == '\0')
            values[i] = NULL;
        filtered = filtered || values[i] != NULL;
    }
    /* Ids are stored upper-cased from the .sym header. */
    debug_id = values[1] ? upper_dup(values[1]) : NULL;
    code_id = values[3] ? upper_dup(values[3]) : NULL;
    if (!ok || (values[1] && !debug_id) || (values[3] && !code_id)) {
        srv_api_form_error(call, "key", "Too many values");
        goto out;
    }
    f.debug_filename = values[0];
    f.debug_id = debug_id;
    f.code_file = values[2];
    f.code_id = code_id;
    f.limit = FILES_BATCH + 1;
    f.offset = (page - 1) * FILES_BATCH;

    json_t *rows = NULL;
    int64_t total = UNFILTERED_TOTAL;
    struct sym_diag d = {0};
    sym_err rc = db_files_list(conn, &f, &rows, &d);
    if (rc == SYM_OK && filtered)
        rc = db_files_count(conn, &f, &total, &d);
    if (rc != SYM_OK) {
        json_decref(rows);
        srv_api_fail(call, rc, &d);
        goto out;
    }
    json_t *files = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (i < FILES_BATCH)
            json_array_append_new(files, file_json(row, false));
    }
    bool has_next = json_array_size(rows) > FILES_BATCH;
    json_decref(rows);
    json_t *body = json_object();
    json_object_set_new(body, "files", files);
    json_object_set_new(body, "has_next", json_boolean(has_next));
    json_object_set_new(body, "batch_size", json_integer(FILES_BATCH));
    json_object_set_new(body, "total", json_integer(total));
    srv_api_json(call, 200, body);
out:
    json_decref(f.key_substrs);
    json_decref(f.buckets);
    json_decref(f.buckets_exclude);
    free(debug_id);
    free(code_id);
}

void srv_handle_api_files(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, DB_PERM_VIEW_ALL, files_list);
}

/* --- GET /api/uploads/files/file/{id} -------------------------------------------------------- */

/* Percent-encodes a key for a URL path (unreserved characters and '/' kept). */
static char *encode_path(const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(key);
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

static void file_detail(struct srv_api_call *call, PGconn *conn)
{
    int64_t id;
    if (!srv_api_int(call->params[0], 1, INT64_MAX, &id)) {
        srv_api_error(call, 404, "File not found");
        return;
    }
    json_t *row = NULL;
    struct sym_diag d = {0};
    sym_err rc = db_file_json(conn, id, &row, &d);
    if (rc == SYM_ENOTFOUND) {
        srv_api_error(call, 404, "File not found");
        return;
    }
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    json_t *owner = json_object_get(row, "upload_user_id");
    if (!srv_principal_can(&call->who, DB_PERM_VIEW_ALL) &&
        !(json_is_integer(owner) && json_integer_value(owner) == call->who.user_id)) {
        json_decref(row);
        srv_api_error(call, 403, "Insufficient access to view this file");
        return;
    }
    json_t *f = file_json(row, true);
    char *path = encode_path(json_string_value(json_object_get(row, "key")));
    if (path != NULL) {
        struct sym_buf url;
        sym_buf_init(&url, 0);
        sym_buf_printf(&url, "/%s%s", path,
                       json_is_true(json_object_get(row, "try_symbols")) ? "?try" : "");
        if (sym_buf_err(&url) == SYM_OK)
            json_object_set_new(f, "url", json_string(url.data));
        sym_buf_cleanup(&url);
        free(path);
    }
    json_decref(row);
    json_t *body = json_object();
    json_object_set_new(body, "file", f);
    srv_api_json(call, 200, body);
}

void srv_handle_api_file(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_LOGIN, 0, file_detail);
}

/* --- GET /api/syminfo/{file}/{id} ------------------------------------------------------------ */

/* The symbol file name of a debug file: xul.pdb -> xul.sym, libxul.so -> libxul.so.sym (Tecken
 * reuses the debug file name as it is for anything but .pdb, a link that does not work). */
static void sym_name(const char *debug_file, struct sym_buf *out)
{
    size_t n = strlen(debug_file);
    if (n > 4 && strcasecmp(debug_file + n - 4, ".pdb") == 0)
        sym_buf_append(out, debug_file, n - 4);
    else
        sym_buf_append(out, debug_file, n);
    sym_buf_append_str(out, ".sym");
}

static void syminfo(struct srv_api_call *call, PGconn *conn)
{
    call->cors = true;
    char *id = upper_dup(call->params[1]);
    if (id == NULL) {
        srv_api_fail(call, SYM_ENOMEM, NULL);
        return;
    }
    struct db_syminfo info;
    struct sym_diag d = {0};
    sym_err rc = db_syminfo_lookup(conn, call->params[0], id, &info, &d);
    free(id);
    if (rc == SYM_ENOTFOUND) {
        call->status = 404;
        call->text = strdup("Code file / id Not Found");
        if (call->text == NULL)
            srv_api_fail(call, SYM_ENOMEM, NULL);
        return;
    }
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, &d);
        return;
    }
    struct sym_buf name, url;
    sym_buf_init(&name, 4096);
    sym_buf_init(&url, 16384);
    sym_name(info.debug_filename, &name);
    char *file = encode_path(info.debug_filename);
    char *sym = name.data ? encode_path(name.data) : NULL;
    char *did = encode_path(info.debug_id);
    if (file != NULL && sym != NULL && did != NULL)
        sym_buf_printf(&url, "%s%s/%s/%s/%s", call->base_url, info.try_symbols ? "/try" : "", file,
                       did, sym);
    json_t *body = json_object();
    json_object_set_new(body, "debug_id", json_string(info.debug_id));
    json_object_set_new(body, "debug_filename", json_string(info.debug_filename));
    json_object_set_new(body, "code_file",
                        info.code_file ? json_string(info.code_file) : json_null());
    json_object_set_new(body, "code_id", info.code_id ? json_string(info.code_id) : json_null());
    json_object_set_new(body, "generator",
                        info.generator ? json_string(info.generator) : json_null());
    json_object_set_new(
        body, "url", sym_buf_err(&url) == SYM_OK && url.data ? json_string(url.data) : json_null());
    free(file);
    free(sym);
    free(did);
    sym_buf_cleanup(&name);
    sym_buf_cleanup(&url);
    db_syminfo_cleanup(&info);
    srv_api_json(call, 200, body);
}

void srv_handle_api_syminfo(struct srv_reqctx *rc, h2o_req_t *req)
{
    srv_api_submit(rc, req, SRV_API_PUBLIC, 0, syminfo);
}
