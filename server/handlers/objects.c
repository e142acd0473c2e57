/* SPDX-License-Identifier: MPL-2.0 */
/* objects.c: GET|HEAD /objects/[try/]v1/{debug_filename}/{debug_id}/{filename}, the target of
 * download redirects when storage is a local folder. The object is sent as stored (a .sym stays
 * gzip with Content-Encoding: gzip), with its stored headers. Reads happen in chunks on the
 * blocking threads, never on the event loop, one chunk ahead of the socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "handlers/handlers.h"
#include "http/async.h"
#include "http/respond.h"

#define CHUNK_SIZE (256 * 1024)

struct object_stream {
    h2o_generator_t gen;
    struct srv_job job;
    struct srv_app *app;
    struct srv_worker *worker;
    h2o_req_t *req; /* NULL once the request is disposed */
    int fd;
    uint64_t offset, size;
    sym_err rc;
    struct sym_diag diag;
    struct store_object_info info;
    char *key;
    size_t len;
    bool opened, job_inflight, eof, head_only;
    char buf[CHUNK_SIZE];
};

static void stream_free(struct object_stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->key);
    free(s);
}

static void on_request_gone(void *p)
{
    struct object_stream *s = *(struct object_stream **)p;
    s->req = NULL;
    if (!s->job_inflight)
        stream_free(s);
}

/* Blocking thread: open on the first call, then read the next chunk. */
static void read_work(struct srv_job *job)
{
    struct object_stream *s = H2O_STRUCT_FROM_MEMBER(struct object_stream, job, job);
    if (!s->opened) {
        uint64_t t0 = srv_now_us();
        s->rc = store_fs_open_read(&s->app->store, s->key, &s->fd, &s->info, &s->diag);
        srv_app_storage_observe(s->app, t0, s->rc);
        if (s->rc != SYM_OK)
            return;
        s->opened = true;
        s->size = s->info.size;
        if (s->head_only)
            return;
    }
    size_t want = s->size - s->offset < CHUNK_SIZE ? (size_t)(s->size - s->offset) : CHUNK_SIZE;
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(s->fd, s->buf + got, want - got, (off_t)(s->offset + got));
        if (n < 0) {
            s->rc = sym_diag_set(&s->diag, SYM_EIO, "reading a stored object failed");
            return;
        }
        if (n == 0)
            break; /* the file shrank: end the response short rather than hang */
        got += (size_t)n;
    }
    s->len = got;
    s->offset += got;
    s->eof = got < want || s->offset >= s->size;
}

static void start_read(struct object_stream *s);

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    struct object_stream *s = H2O_STRUCT_FROM_MEMBER(struct object_stream, gen, gen);
    start_read(s);
}

static void add_stored_headers(h2o_req_t *req, const struct store_object_info *info)
{
    if (info->content_type[0])
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       h2o_strdup(&req->pool, info->content_type, SIZE_MAX).base,
                       strlen(info->content_type));
    if (info->content_encoding[0])
        srv_add_header(req, "content-encoding", info->content_encoding);
    if (info->cache_control[0])
        srv_add_header(req, "cache-control", info->cache_control);
    if (info->etag[0])
        srv_add_header(req, "etag", info->etag);
    if (info->last_modified > 0) {
        char date[64];
        time_t t = (time_t)info->last_modified;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv_add_header(req, "last-modified", date);
    }
    srv_add_header(req, "access-control-allow-origin", "*");
}

/* Loop thread: the job finished. */
static void read_done(struct srv_job *job)
{
    struct object_stream *s = H2O_STRUCT_FROM_MEMBER(struct object_stream, job, job);
    s->job_inflight = false;
    s->worker->jobs_outstanding--;
    h2o_req_t *req = s->req;
    if (req == NULL) {
        stream_free(s);
        return;
    }
    bool first = req->res.status == 0;
    if (s->rc != SYM_OK) {
        if (first) {
            if (s->rc == SYM_ENOTFOUND || s->rc == SYM_EINVAL)
                srv_respond_text(req, 404, "text/html; charset=utf-8", "Symbol Not Found");
            else
                srv_respond_sym_err(req, s->rc, &s->diag);
        } else {
            /* Headers are out: all that can be done is to cut the response short. */
            h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        }
        return;
    }
    if (first) {
        req->res.status = 200;
        req->res.reason = srv_reason_phrase(200);
        req->res.content_length = s->size;
        add_stored_headers(req, &s->info);
        h2o_start_response(req, &s->gen);
        if (s->head_only) {
            h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
            return;
        }
    }
    h2o_iovec_t chunk = h2o_iovec_init(s->buf, s->len);
    h2o_send(req, &chunk, 1, s->eof ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void start_read(struct object_stream *s)
{
    s->job.work = read_work;
    s->job.done = read_done;
    s->job.receiver = &s->worker->completions;
    s->job_inflight = true;
    s->worker->jobs_outstanding++;
    if (srv_jobs_submit(s->app->jobs, &s->job) != SYM_OK) {
        s->job_inflight = false;
        s->worker->jobs_outstanding--;
        if (s->req == NULL)
            return;
        if (s->req->res.status == 0)
            srv_respond_sym_err(s->req, SYM_EUNAVAIL, NULL);
        else
            h2o_send(s->req, NULL, 0, H2O_SEND_STATE_ERROR);
    }
}

void srv_handle_object(struct srv_reqctx *rc, h2o_req_t *req)
{
    struct srv_app *app = rc->app;
    if (app->store.ops->open_read == NULL) {
        srv_respond_text(req, 404, "text/html; charset=utf-8", "Symbol Not Found");
        return;
    }
    struct sym_buf key;
    sym_buf_init(&key, 4096);
    bool try_storage = strcmp(rc->route->name, "object_try") == 0;
    sym_err rc_key =
        store_key_build(&key, try_storage, rc->params[0], rc->params[1], rc->params[2]);
    if (rc_key != SYM_OK || sym_buf_err(&key) != SYM_OK) {
        sym_buf_cleanup(&key);
        srv_respond_text(req, 404, "text/html; charset=utf-8", "Symbol Not Found");
        return;
    }
    struct object_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        sym_buf_cleanup(&key);
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    s->app = app;
    s->worker = rc->worker;
    s->req = req;
    s->fd = -1;
    s->key = sym_buf_steal(&key, NULL);
    s->head_only = rc->is_head;
    s->gen.proceed = on_proceed;
    s->gen.stop = NULL;
    struct object_stream **hook = h2o_mem_alloc_shared(&req->pool, sizeof(*hook), on_request_gone);
    *hook = s;
    start_read(s);
}
