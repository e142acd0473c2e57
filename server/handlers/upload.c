/* SPDX-License-Identifier: MPL-2.0 */
/* upload.c: POST /upload/, Tecken's v1 upload API. Runs on a body thread (http/bodyreq.h):
 * authentication and permissions are decided before the body is read (a refused client gets its
 * 403 once the transport has discarded the rest of the body); the zip, a multipart file part
 * whose field name is the archive name, is spooled to disk, or fetched from an allowed URL
 * (url=...); the upload row is created, the members are validated, extracted, compressed and
 * stored in parallel (upload/pipeline.h), and the row is completed. The answer is Tecken's 201
 * JSON, or {"error": ...} with Tecken's texts.
 *
 * Divergences from Tecken, on purpose: a try-only token always uploads to try storage (Tecken
 * lets `try=` with an empty value write to regular storage); `try=0`, `false`, `no` and `off`
 * mean regular storage (Tecken treats any non-empty value as try); the other divergences are
 * those of upload/ingest.h and upload/fetch.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "buildinfo.h"
#include "db/queries.h"
#include "handlers/handlers.h"
#include "http/bodyreq.h"
#include "http/respond.h"
#include "upload/auth.h"
#include "upload/fetch.h"
#include "upload/form.h"
#include "upload/pipeline.h"
#include "upload/settings.h"

/* Django's DATA_UPLOAD_MAX_MEMORY_SIZE and DATA_UPLOAD_MAX_NUMBER_FILES + fields. */
#define MAX_FIELD_BYTES  (2621440)
#define MAX_PARTS        1100
#define MAX_QUEUED_BYTES ((uint64_t)256 << 20)

struct upload_req {
    struct srv_body_req *br;
    struct srv_app *app;
    struct srv_principal who;
    bool try_storage;
    /* the archive */
    const char *zip_path;
    const char *filename;
    uint64_t size;
    const char *download_url;
    json_t *redirect_urls; /* borrowed, may be NULL */
};

static void count_upload(struct srv_app *app, const char *result)
{
    char labels[40];
    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    srv_counter_inc(srv_metrics_counter(app->metrics, "sigil_uploads_total",
                                        "Upload requests by outcome", labels));
}

static void refuse(struct srv_body_req *br, int status, const char *msg)
{
    count_upload(br->app, status == 403 ? "denied" : "refused");
    /* Messages quote client input (names, URLs), which may not be UTF-8: escape such bytes. */
    json_t *text = json_string(msg);
    if (text == NULL) {
        struct sym_buf b;
        sym_buf_init(&b, 8192);
        for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
            if (*p < 0x80)
                sym_buf_append_char(&b, (char)*p);
            else
                sym_buf_printf(&b, "\\x%02x", *p);
        }
        text = sym_buf_err(&b) == SYM_OK ? json_string(b.data) : NULL;
        sym_buf_cleanup(&b);
    }
    json_t *body = json_object();
    json_object_set_new(body, "error", text ? text : json_string("Bad Request"));
    srv_br_respond_json(br, status, body);
}

/* Server-side failures: a generic text for the client, the details in the log. */
static void fail(struct srv_body_req *br, sym_err rc, const char *what, const char *detail)
{
    count_upload(br->app, "failed");
    srv_log_json(&br->app->log, SRV_LOG_ERROR, "upload_failed", NULL, "%s %s: %s: %s",
                 br->request_id, what, sym_errname(rc), detail ? detail : "");
    if (rc == SYM_EUNAVAIL) {
        srv_br_add_header(br, "retry-after", "15");
        srv_br_respond_error(br, 503, "Service Unavailable");
    } else {
        srv_br_respond_error(br, 500, "Internal Server Error");
    }
}

/* --- form fields ---------------------------------------------------------------------------- */

/* try-ness: a token without upload_symbols only ever uploads to try storage; otherwise the try
 * field decides (false, 0, no, off and empty mean regular), and without one, regular. */
static bool want_try(const struct srv_principal *who, const char *try_value)
{
    if (!srv_principal_can(who, DB_PERM_UPLOAD))
        return true;
    if (try_value == NULL || try_value[0] == '\0')
        return false;
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcasecmp(try_value, no[i]) == 0)
            return false;
    return true;
}

/* Python's os.path.splitext(name)[1]: from the last dot of the last component, leading dots of
 * that component not counting. */
static const char *splitext(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *p = base;
    while (*p == '.')
        p++;
    const char *dot = strrchr(p, '.');
    return dot ? dot : name + strlen(name);
}

static bool check_zip_name(struct srv_body_req *br, const char *name)
{
    const char *ext = splitext(name);
    if (strcasecmp(ext, ".zip") == 0)
        return true;
    json_t *body = json_object();
    struct sym_buf msg;
    sym_buf_init(&msg, 4096);
    sym_buf_printf(&msg, "Unrecognized archive file extension \"%s\"", ext);
    /* The field name comes from the client and may not be UTF-8: then a generic text. */
    json_t *text = sym_buf_err(&msg) == SYM_OK ? json_string(msg.data) : NULL;
    json_object_set_new(body, "error",
                        text ? text : json_string("Unrecognized archive file extension"));
    sym_buf_cleanup(&msg);
    count_upload(br->app, "refused");
    srv_br_respond_json(br, 400, body);
    return false;
}

/* --- the upload ----------------------------------------------------------------------------- */

static void remove_work_dir(const char *dir)
{
    /* The pipeline removes every file it made; anything left is removed here. */
    if (rmdir(dir) == 0 || errno == ENOENT)
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static json_t *response_body(json_t *row, json_t *skipped)
{
    json_t *u = json_object();
    json_t *redirects = json_object_get(row, "redirect_urls");
    json_object_set(u, "id", json_object_get(row, "id"));
    json_object_set(u, "size", json_object_get(row, "size"));
    json_object_set(u, "filename", json_object_get(row, "filename"));
    json_object_set(u, "bucket", json_object_get(row, "bucket_name"));
    json_object_set(u, "download_url", json_object_get(row, "download_url"));
    json_object_set(u, "try_symbols", json_object_get(row, "try_symbols"));
    json_object_set_new(u, "redirect_urls",
                        json_is_array(redirects) ? json_incref(redirects) : json_array());
    json_object_set(u, "completed_at", json_object_get(row, "completed_at"));
    json_object_set(u, "created_at", json_object_get(row, "created_at"));
    json_object_set(u, "user", json_object_get(row, "user_email"));
    json_object_set(u, "skipped_keys", skipped);
    json_t *body = json_object();
    json_object_set_new(body, "upload", u);
    return body;
}

/* Validates and stores the zip at ur->zip_path; answers the request. */
static void run_upload(struct upload_req *ur)
{
    struct srv_body_req *br = ur->br;
    struct srv_app *app = ur->app;
    struct sym_diag d = {0};
    struct srv_upload_settings settings;
    if (srv_upload_settings_init(&settings, app->cfg, &d) != SYM_OK) {
        fail(br, SYM_ENOMEM, "settings", d.msg);
        return;
    }
    struct symup_error *err = calloc(1, sizeof(*err));
    struct symup_ingest *ing = NULL;
    json_t *row = NULL;
    struct srv_pipeline_result res = {0};
    char work_dir[4096] = "";
    PGconn *conn = NULL;
    uint64_t t0 = srv_now_us();
    if (err == NULL) {
        fail(br, SYM_ENOMEM, "upload", "out of memory");
        goto out;
    }
    sym_err rc = symup_ingest_open(ur->zip_path, &settings.symup, &ing, err);
    if (rc != SYM_OK) {
        if (srv_pipeline_client_error(err))
            refuse(br, 400, err->msg);
        else
            fail(br, rc, "zip", err->msg);
        goto out;
    }

    char bucket[256];
    srv_bucket_name(app->cfg->storage_url, bucket, sizeof(bucket));
    int64_t upload_id = 0;
    struct db_upload u = {
        .user_id = ur->who.user_id,
        .filename = ur->filename,
        .bucket_name = bucket,
        .size = ur->size,
        .content_hash = symup_ingest_content_hash(ing),
        .download_url = ur->download_url,
        .redirect_urls =
            ur->redirect_urls && json_array_size(ur->redirect_urls) ? ur->redirect_urls : NULL,
        .try_symbols = ur->try_storage,
    };
    rc = db_acquire(app->db, &conn, &d);
    if (rc == SYM_OK)
        rc = db_upload_create(conn, &u, &upload_id, &d);
    if (conn != NULL)
        db_release(app->db, conn);
    conn = NULL;
    if (rc != SYM_OK) {
        fail(br, rc, "database", d.msg);
        goto out;
    }

    snprintf(work_dir, sizeof(work_dir), "%s/upload-XXXXXX", app->spool_dir);
    if (mkdtemp(work_dir) == NULL) {
        fail(br, SYM_EIO, "work folder", strerror(errno));
        work_dir[0] = '\0';
        goto out;
    }
    struct srv_storefile_target target = {
        .store = &app->store,
        .db = app->db,
        .bucket_name = bucket,
        .try_storage = ur->try_storage,
        .upload_id = upload_id,
        .app = app,
    };
    struct srv_pipeline_config pcfg = {
        .workers = settings.workers,
        .max_queued_bytes = MAX_QUEUED_BYTES,
        .strict = settings.symup.strict_header,
    };
    rc = srv_pipeline_run(&target, ing, work_dir, &pcfg, &res, err);
    if (rc != SYM_OK) {
        if (srv_pipeline_client_error(err))
            refuse(br, 400, err->msg);
        else
            fail(br, rc, "storing", err->msg);
        goto out;
    }

    json_t *ignored = json_array();
    for (size_t i = 0; ignored != NULL && i < symup_ingest_n_ignored(ing); i++)
        json_array_append_new(ignored, json_string(symup_ingest_ignored(ing, i)));
    rc = ignored != NULL ? db_acquire(app->db, &conn, &d) : SYM_ENOMEM;
    if (rc == SYM_OK)
        rc = db_upload_complete(conn, upload_id, res.skipped_keys, ignored, &d);
    if (rc == SYM_OK)
        rc = db_upload_json(conn, upload_id, &row, &d);
    if (conn != NULL)
        db_release(app->db, conn);
    json_decref(ignored);
    if (rc != SYM_OK) {
        fail(br, rc, "database", d.msg);
        goto out;
    }
    count_upload(app, "created");
    json_t *f = json_object();
    json_object_set_new(f, "upload_id", json_integer(upload_id));
    json_object_set_new(f, "request_id", json_string(br->request_id));
    json_object_set_new(f, "user", json_string(ur->who.email));
    json_object_set_new(f, "size", json_integer((json_int_t)ur->size));
    json_object_set_new(f, "files_stored", json_integer((json_int_t)res.n_stored));
    json_object_set_new(f, "files_skipped", json_integer((json_int_t)res.n_skipped));
    json_object_set_new(f, "bytes_stored", json_integer((json_int_t)res.stored_bytes));
    json_object_set_new(f, "bytes_original", json_integer((json_int_t)res.original_bytes));
    json_object_set_new(f, "try", json_boolean(ur->try_storage));
    json_object_set_new(f, "duration_ms", json_real((double)(srv_now_us() - t0) / 1000.0));
    srv_log_json(&app->log, SRV_LOG_INFO, "upload", f, "upload %" PRId64 " stored", upload_id);
    srv_br_respond_json(br, 201, response_body(row, res.skipped_keys));
out:
    json_decref(row);
    json_decref(res.skipped_keys);
    symup_ingest_free(ing);
    if (work_dir[0] != '\0')
        remove_work_dir(work_dir);
    free(err);
    srv_upload_settings_cleanup(&settings);
}

/* url=...: fetch the zip, then as a posted one. */
static void upload_by_download(struct upload_req *ur, const char *url)
{
    struct srv_body_req *br = ur->br;
    const struct srv_config *cfg = ur->app->cfg;
    char **domains = srv_list_split(cfg->upload_by_download_domains);
    if (domains == NULL) {
        fail(br, SYM_ENOMEM, "by download", "out of memory");
        return;
    }
    for (char **p = domains; *p; p++)
        for (char *c = *p; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    char agent[64];
    snprintf(agent, sizeof(agent), "sigil/%s", srv_version());
    struct srv_fetch_config fc = {
        .domains = domains,
        .any_domain = cfg->upload_by_download_any_domain,
        .allow_local = cfg->upload_by_download_allow_local,
        .timeout_s = cfg->upload_by_download_timeout_s,
        .max_bytes = cfg->max_body_bytes,
        .spool_dir = ur->app->spool_dir,
        .user_agent = agent,
    };
    struct srv_fetch f;
    struct srv_fetch_error ferr = {0};
    sym_err rc = srv_fetch_check(&fc, url, &f, &ferr);
    if (rc == SYM_OK && !check_zip_name(br, f.archive_name)) {
        srv_fetch_cleanup(&f);
        srv_list_free(domains);
        return;
    }
    if (rc == SYM_OK)
        rc = srv_fetch_download(&fc, &f, &ferr);
    if (rc == SYM_EINVAL) {
        if (ferr.status >= 500) {
            count_upload(ur->app, "failed");
            srv_log_json(&ur->app->log, SRV_LOG_WARN, "upload_download_failed", NULL, "%s: %s",
                         br->request_id, ferr.msg);
            srv_br_respond_error(br, ferr.status, ferr.msg);
        } else {
            refuse(br, ferr.status, ferr.msg);
        }
    } else if (rc != SYM_OK) {
        fail(br, rc, "by download", "cannot write the download");
    } else {
        ur->zip_path = f.path;
        ur->filename = f.archive_name;
        ur->size = f.size;
        ur->download_url = f.url;
        ur->redirect_urls = f.redirect_urls;
        run_upload(ur);
    }
    srv_fetch_cleanup(&f);
    srv_list_free(domains);
}

void srv_handle_upload(struct srv_body_req *br)
{
    struct srv_app *app = br->app;
    size_t token_len = 0;
    const char *token = srv_br_header(br, SRV_AUTH_HEADER, &token_len);
    if (token != NULL)
        srv_br_add_header(br, "vary", "Auth-Token");
    struct upload_req ur = {.br = br, .app = app};
    enum srv_auth_status st;
    struct sym_diag d = {0};
    sym_err rc = srv_auth_token(app->db, token, token_len, &st, &ur.who, &d);
    if (rc != SYM_OK) {
        fail(br, rc, "authentication", d.msg);
        return;
    }
    if (st != SRV_AUTH_OK && st != SRV_AUTH_ANONYMOUS) {
        refuse(br, 403, srv_auth_message(st));
        return;
    }
    if (st == SRV_AUTH_ANONYMOUS) {
        refuse(br, 403, SRV_AUTH_REQUIRED);
        return;
    }
    if (!srv_principal_can(&ur.who, DB_PERM_UPLOAD) &&
        !srv_principal_can(&ur.who, DB_PERM_UPLOAD_TRY)) {
        refuse(br, 403, SRV_AUTH_FORBIDDEN);
        return;
    }

    struct srv_body_limits lim = {
        .max_body = app->cfg->max_body_bytes,
        .max_field = MAX_FIELD_BYTES,
        .max_parts = MAX_PARTS,
        .files_to_disk = true,
    };
    /* Refused before reading, so the transport discards the body and the client sees it. */
    size_t cl_len = 0;
    const char *cl = srv_br_header(br, "content-length", &cl_len);
    if (cl != NULL && cl_len > 0 && cl_len < 21) {
        char num[24];
        memcpy(num, cl, cl_len);
        num[cl_len] = '\0';
        char *end;
        unsigned long long n = strtoull(num, &end, 10);
        if (*end == '\0' && n > lim.max_body) {
            char msg[96];
            snprintf(msg, sizeof(msg), "the request body is larger than %llu bytes",
                     (unsigned long long)lim.max_body);
            refuse(br, 413, msg);
            return;
        }
    }
    rc = srv_br_read_body(br, &lim, &d);
    if (rc == SYM_ELIMIT) {
        refuse(br, 413, d.msg);
        return;
    }
    if (rc == SYM_EIO) {
        /* The client went away or stalled: nobody reads the answer, the log says why. */
        srv_log_json(&app->log, SRV_LOG_INFO, "upload_aborted", NULL, "%s: %s", br->request_id,
                     d.msg);
        refuse(br, 400, d.msg);
        return;
    }
    if (rc != SYM_OK) {
        if (rc == SYM_ENOMEM)
            fail(br, rc, "body", d.msg);
        else
            refuse(br, 400, d.msg);
        return;
    }

    /* The first file part is the archive; its field name is the archive name. */
    const struct srv_body_part *file = NULL;
    for (size_t i = 0; i < br->n_parts && file == NULL; i++)
        if (br->parts[i].has_filename && br->parts[i].path != NULL)
            file = &br->parts[i];
    char *try_value = NULL, *url = NULL;
    bool has_try = false, has_url = false;
    if (br->n_parts > 0) {
        const struct srv_body_part *p = srv_br_part(br, "try");
        if (p != NULL && !p->has_filename) {
            has_try = true;
            try_value = strdup(p->data ? p->data : "");
        }
        p = srv_br_part(br, "url");
        if (p != NULL && !p->has_filename && p->data != NULL) {
            has_url = true;
            url = strdup(p->data);
        }
    } else if (br->raw != NULL &&
               strncasecmp(br->content_type, "application/x-www-form-urlencoded", 33) == 0) {
        try_value = srv_form_value(br->raw, br->raw_len, "try", &has_try, NULL);
        size_t url_len = 0;
        url = srv_form_value(br->raw, br->raw_len, "url", &has_url, &url_len);
        if (url != NULL && url_len != strlen(url))
            url[0] = '\x01'; /* an encoded NUL: not a URL */
    }
    if ((has_try && try_value == NULL) || (has_url && url == NULL)) {
        fail(br, SYM_ENOMEM, "form", "out of memory");
    } else {
        ur.try_storage = want_try(&ur.who, has_try ? try_value : NULL);
        if (file != NULL) {
            if (check_zip_name(br, file->name)) {
                ur.zip_path = file->path;
                ur.filename = file->name;
                ur.size = file->size;
                run_upload(&ur);
            }
        } else if (url != NULL && url[0] != '\0') {
            upload_by_download(&ur, url);
        } else {
            refuse(br, 400, "Must be multipart form data with at least one file");
        }
    }
    free(try_value);
    free(url);
}
