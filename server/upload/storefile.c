/* SPDX-License-Identifier: MPL-2.0 */
/* storefile.c: one file from its prepared temporary files to storage and the file_uploads table
 * (see storefile.h for the order of the steps and why). */
#include "upload/storefile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "db/queries.h"
#include "ttlcache.h"
#include "upload/symheader.h"

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Server-side failures (storage, database) in the upload library's error record. */
static sym_err fail(struct symup_error *err, sym_err code, const char *fmt, ...) SYM_PRINTF(3, 4);
static sym_err fail(struct symup_error *err, sym_err code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    symup_error_clear(err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->code = code;
    err->reason = code == SYM_ENOMEM ? SYMUP_R_NOMEM : SYMUP_R_IO;
    err->diag.code = code;
    size_t n = strnlen(err->msg, sizeof(err->diag.msg) - 1);
    memcpy(err->diag.msg, err->msg, n);
    err->diag.msg[n] = '\0';
    return code;
}

static void count(const struct srv_storefile_target *t, const char *result, uint64_t bytes)
{
    if (t->app == NULL)
        return;
    char labels[40];
    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    srv_counter_inc(srv_metrics_counter(t->app->metrics, "sigil_upload_files_total",
                                        "Files of uploads and imports by outcome", labels));
    if (bytes > 0)
        srv_counter_add(srv_metrics_counter(t->app->metrics, "sigil_upload_stored_bytes_total",
                                            "Bytes written to storage by uploads and imports", ""),
                        bytes);
}

static void forget_codeid(struct srv_app *app, const char *file, const char *id)
{
    if (file == NULL || id == NULL || file[0] == '\0' || id[0] == '\0')
        return;
    char key[1024];
    int n = snprintf(key, sizeof(key), "%s//%s", file, id);
    if (n > 0 && (size_t)n < sizeof(key))
        srv_ttlcache_del(app->codeid_cache, key, (size_t)n);
}

/* A download right after the upload must not be answered from a cached miss. */
static void forget_cached(const struct srv_storefile_target *t, const char *full_key,
                          const struct symup_header *h)
{
    if (t->app == NULL)
        return;
    srv_ttlcache_del(t->app->exists_cache, full_key, strlen(full_key));
    if (h != NULL && h->valid) {
        forget_codeid(t->app, h->debug_filename, h->debug_id);
        forget_codeid(t->app, h->code_file, h->code_id);
    }
}

/* Timed, counted storage call results for the server's metrics. */
static void observe_storage(const struct srv_storefile_target *t, uint64_t started, sym_err rc)
{
    if (t->app != NULL)
        srv_app_storage_observe(t->app, started, rc);
}

static sym_err record_row(const struct srv_storefile_target *t, const struct db_file *row,
                          int64_t since_us, bool any_size, int64_t *id_out, struct symup_error *err)
{
    PGconn *conn;
    struct sym_diag d = {0};
    uint64_t t0 = srv_now_us();
    sym_err rc = db_acquire(t->db, &conn, &d);
    if (rc == SYM_OK) {
        rc = db_file_record(conn, row, since_us, any_size, id_out, &d);
        db_release(t->db, conn);
    }
    if (t->app != NULL)
        srv_app_db_observe(t->app, t0, rc == SYM_EEXISTS ? SYM_OK : rc);
    if (rc != SYM_OK && rc != SYM_EEXISTS)
        return fail(err, rc, "recording %s failed: %s", row->key, d.msg);
    return rc;
}

static void fill_row(struct db_file *row, const struct srv_storefile_target *t, const char *key,
                     const struct symup_header *h)
{
    memset(row, 0, sizeof(*row));
    row->upload_id = t->upload_id;
    row->bucket_name = t->bucket_name;
    row->key = key;
    row->try_symbols = t->try_storage;
    row->debug_filename = symup_header_debug_filename(h);
    row->debug_id = symup_header_debug_id(h);
    row->code_file = symup_header_code_file(h);
    row->code_id = symup_header_code_id(h);
    row->generator = symup_header_generator(h);
}

static bool is_unchanged(const struct symup_member *m, const struct store_object_info *info,
                         const struct symup_digest *dg, uint64_t new_stored_size)
{
    if (!m->compress)
        return info->size == m->size;
    if (info->has_original_size)
        return info->original_size == dg->size && strcmp(info->original_md5, dg->md5) == 0;
    /* An object stored without the metadata: compare the gzip sizes (Tecken's legacy rule). */
    return new_stored_size > 0 && info->size == new_stored_size;
}

sym_err srv_storefile_member(const struct srv_storefile_target *t, struct symup_ingest *ing,
                             size_t i, struct srv_storefile_result *out, struct symup_error *err)
{
    const struct symup_member *m = symup_ingest_member(ing, i);
    if (m == NULL)
        return fail(err, SYM_EINVAL, "no member %zu", i);
    struct srv_storefile_result res;
    memset(&res, 0, sizeof(res));
    res.size = m->size;
    res.compressed = m->compress;
    snprintf(res.key, sizeof(res.key), "%s", m->key);
    struct sym_buf kb;
    sym_buf_init(&kb, STORE_MAX_KEY_LEN);
    sym_err rc = store_key_build(&kb, t->try_storage, m->debug_file, m->debug_id, m->file);
    if (rc != SYM_OK || sym_buf_err(&kb) != SYM_OK) {
        sym_buf_cleanup(&kb);
        return fail(err, SYM_EINVAL, "%s cannot be stored under that name", m->name);
    }
    const char *full_key = kb.data;
    struct sym_diag d = {0};
    int64_t since = wall_us();

    struct store_object_info info;
    uint64_t ts = srv_now_us();
    rc = t->store->ops->head(t->store->impl, full_key, &info, &d);
    observe_storage(t, ts, rc);
    bool exists = rc == SYM_OK;
    if (rc != SYM_OK && rc != SYM_ENOTFOUND) {
        rc = fail(err, rc, "storage lookup of %s failed: %s", m->key, d.msg);
        goto out;
    }
    res.update = exists;

    struct symup_prepared prep;
    memset(&prep, 0, sizeof(prep));
    bool have_digest = false, have_stored = false, skip = false;
    if (exists && !m->compress && !m->is_sym) {
        skip = is_unchanged(m, &info, NULL, 0);
    } else if (exists) {
        rc = symup_member_digest(ing, i, &prep.digest, err);
        if (rc != SYM_OK)
            goto out;
        have_digest = true;
        if (m->compress && !info.has_original_size) {
            rc = symup_member_store_file(ing, i, &prep.stored, err);
            if (rc != SYM_OK)
                goto out;
            have_stored = true;
        }
        skip = is_unchanged(m, &info, &prep.digest, have_stored ? prep.stored.size : 0);
    }

    if (skip) {
        res.skipped = true;
        count(t, "skipped", 0);
        /* A .sym whose object outlived its row (a run that died in between): record it now. An
         * object stored moments ago is left alone: the upload that stored it is recording it. */
        bool settled = info.last_modified == 0 ||
                       info.last_modified <= since / 1000000 - SRV_STOREFILE_SETTLE_S;
        if (m->is_sym && settled) {
            if (!have_digest) {
                rc = symup_member_digest(ing, i, &prep.digest, err);
                if (rc != SYM_OK)
                    goto out;
            }
            const struct symup_header *h = &prep.digest.header;
            if (h->valid && (h->debug_filename[0] != '\0' || h->code_file[0] != '\0')) {
                struct db_file row;
                fill_row(&row, t, m->key, h);
                row.update = true;
                row.compressed = m->compress;
                row.size = info.size;
                int64_t id = 0;
                rc = record_row(t, &row, 0, true, &id, err);
                if (rc == SYM_OK) {
                    res.file_id = id;
                    forget_cached(t, full_key, h);
                } else if (rc != SYM_EEXISTS) {
                    goto out;
                }
            }
        }
        rc = SYM_OK;
        goto out;
    }

    if (!have_digest) {
        rc = symup_prepare(ing, i, &prep, err);
        have_stored = true;
    } else if (!have_stored) {
        rc = symup_member_store_file(ing, i, &prep.stored, err);
    }
    if (rc != SYM_OK)
        goto out;
    struct store_put_opts opts = {
        .content_type = prep.stored.content_type,
        .content_encoding = prep.stored.content_encoding,
        .cache_control = "no-transform",
        .has_original_size = prep.stored.compressed,
        .original_size = prep.digest.size,
        .original_md5 = prep.stored.compressed ? prep.digest.md5 : NULL,
    };
    int64_t created = wall_us();
    ts = srv_now_us();
    rc = t->store->ops->put_file(t->store->impl, full_key, prep.stored.path, &opts, &d);
    observe_storage(t, ts, rc);
    if (rc != SYM_OK) {
        count(t, "failed", 0);
        rc = fail(err, rc, "storing %s failed: %s", m->key, d.msg);
        goto out;
    }
    forget_cached(t, full_key, &prep.digest.header);
    res.stored_size = prep.stored.size;

    struct db_file row;
    fill_row(&row, t, m->key, &prep.digest.header);
    row.update = exists;
    row.compressed = prep.stored.compressed;
    row.size = prep.stored.size;
    row.created_at_us = created;
    row.completed_at_us = wall_us(); /* after the PUT: what concurrent uploads compare with */
    int64_t id = 0;
    rc = record_row(t, &row, since, false, &id, err);
    if (rc == SYM_EEXISTS) {
        /* Another upload stored and recorded the same file meanwhile. */
        res.skipped = true;
        res.stored_size = 0;
        count(t, "skipped", 0);
        rc = SYM_OK;
    } else if (rc == SYM_OK) {
        res.file_id = id;
        count(t, "stored", prep.stored.size);
    } else {
        count(t, "failed", 0);
    }
out:
    sym_buf_cleanup(&kb);
    if (rc == SYM_OK)
        *out = res;
    return rc;
}
