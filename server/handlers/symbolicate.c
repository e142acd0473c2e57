/* SPDX-License-Identifier: MPL-2.0 */
/* symbolicate.c: POST /symbolicate/v5 and /symbolicate/v4 (and their CORS preflight), the HTTP
 * side of the symbolication service (symbolicate/service.h).
 *
 * A request whose modules are all in the symcache store is answered on its event loop: parse,
 * look up, write, send, with no thread hop. Large bodies are parsed, and large requests written,
 * on a blocking thread; modules that must be fetched are waited for without holding any thread
 * (the service's flights post back to this loop). Errors are Eliot's {"title": ...} bodies. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers/handlers.h"
#include "http/respond.h"
#include "sym/alloc.h"
#include "symbolicate/service.h"

/* Bodies up to this size are parsed on the event loop (a 150-frame request is ~3 KB). */
#define LOOP_PARSE_MAX (256u * 1024u)

static const char expose_headers[] = "accept, accept-encoding, authorization, content-type, dnt, "
                                     "origin, user-agent, x-csrftoken, x-requested-with";

enum phase {
    PHASE_PARSE, /* job: parse (and run when large) */
    PHASE_RUN,   /* job: run */
};

struct symb_req {
    struct srv_job job; /* pool work, and the flights' wake-up message to this loop */
    struct srv_symb_call *call;
    struct srv_app *app;
    struct srv_worker *worker;
    h2o_req_t *req; /* NULL once the request is gone */
    struct srv_reqctx *rc;
    struct symb_req **hook; /* slot in the request pool pointing back here */
    enum phase phase;
    char *body_copy; /* the body, for a parse on a blocking thread */
    size_t body_len;
    sym_err parse_rc, run_rc;
    enum srv_symb_step step;
};

static void advance(struct symb_req *sr);
static void notify_fetched(void *ctx);

/* ---- responses ------------------------------------------------------------------------------ */

static void add_cors(h2o_req_t *req)
{
    srv_add_header(req, "access-control-allow-origin", "*");
}

/* Eliot's error body, {"title": "..."}, with json.dumps' spacing. */
static void respond_title(h2o_req_t *req, int status, const char *title)
{
    json_t *body = json_object();
    char *text = NULL;
    if (body != NULL && json_object_set_new(body, "title", json_string(title)) == 0)
        text = json_dumps(body, JSON_PRESERVE_ORDER);
    json_decref(body);
    add_cors(req);
    if (text == NULL) {
        static const char oom[] = "{\"title\": \"500 Internal Server Error\"}";
        srv_respond_body(req, 500, "application/json", oom, sizeof(oom) - 1);
        return;
    }
    srv_respond_body(req, status, "application/json", text, strlen(text));
    free(text);
}

struct body_hold {
    char *data;
};

static void free_held_body(void *p)
{
    sym_free(((struct body_hold *)p)->data);
}

static void respond_ok(struct symb_req *sr, h2o_req_t *req)
{
    size_t len = 0;
    /* The body goes out from the call's buffer, kept until the request is disposed: a response
     * of tens of KB is not copied again. */
    struct body_hold *hold = h2o_mem_alloc_shared(&req->pool, sizeof(*hold), free_held_body);
    hold->data = srv_symb_call_steal_body(sr->call, &len);
    if (hold->data == NULL) {
        respond_title(req, 500, "500 Internal Server Error");
        return;
    }
    static h2o_generator_t generator = {NULL, NULL};
    add_cors(req);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_start_response(req, &generator);
    h2o_iovec_t buf = h2o_iovec_init(hold->data, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/* ---- the request's life --------------------------------------------------------------------- */

static void on_request_gone(void *p)
{
    struct symb_req **hook = p;
    if (*hook != NULL) {
        (*hook)->req = NULL;
        (*hook)->rc = NULL;
    }
}

static void finish(struct symb_req *sr)
{
    if (sr->req != NULL)
        *sr->hook = NULL;
    srv_symb_call_free(sr->call);
    free(sr->body_copy);
    free(sr);
}

/* Answers from the call's outcome. */
static void respond_outcome(struct symb_req *sr)
{
    h2o_req_t *req = sr->req;
    if (req != NULL) {
        sr->rc->cache_state = srv_symb_call_cache_state(sr->call);
        if (sr->parse_rc != SYM_OK) {
            const struct srv_symb_error *e = srv_symb_call_error(sr->call);
            respond_title(req, e->status ? e->status : 500,
                          e->title[0] ? e->title : "500 Internal Server Error");
        } else if (sr->run_rc == SYM_ELIMIT) {
            respond_title(req, 413, "Payload Too Large: the response would be too large");
        } else if (sr->run_rc != SYM_OK) {
            respond_title(req, 503, "Service Unavailable: out of memory");
        } else {
            respond_ok(sr, req);
        }
    }
    finish(sr);
}

static void job_work(struct srv_job *job)
{
    struct symb_req *sr = (struct symb_req *)job;
    if (sr->phase == PHASE_PARSE) {
        sr->parse_rc = srv_symb_call_parse(sr->call, sr->body_copy, sr->body_len);
        free(sr->body_copy);
        sr->body_copy = NULL;
        if (sr->parse_rc != SYM_OK || srv_symb_call_run_on_loop(sr->call))
            return;
    }
    sr->run_rc = srv_symb_call_run(sr->call, &sr->step);
}

/* After a run: answer, or fetch what is missing and run again once it is there. */
static void after_run(struct symb_req *sr)
{
    if (sr->run_rc != SYM_OK || sr->step == SRV_SYMB_DONE) {
        respond_outcome(sr);
        return;
    }
    sr->worker->jobs_outstanding++;
    srv_symb_call_fetch(sr->call, notify_fetched, sr);
}

/* Back on the loop after a blocking-thread phase. */
static void job_done(struct srv_job *job)
{
    struct symb_req *sr = (struct symb_req *)job;
    sr->worker->jobs_outstanding--;
    if (sr->req == NULL) {
        finish(sr);
        return;
    }
    if (sr->parse_rc != SYM_OK)
        respond_outcome(sr);
    else if (sr->phase == PHASE_PARSE && srv_symb_call_run_on_loop(sr->call))
        advance(sr);
    else
        after_run(sr);
}

static void submit(struct symb_req *sr, enum phase phase)
{
    sr->phase = phase;
    sr->job.work = job_work;
    sr->job.done = job_done;
    sr->job.receiver = &sr->worker->completions;
    sr->worker->jobs_outstanding++;
    if (srv_jobs_submit(sr->app->jobs, &sr->job) != SYM_OK) {
        sr->worker->jobs_outstanding--;
        if (sr->req != NULL) {
            srv_add_header(sr->req, "retry-after", "5");
            respond_title(sr->req, 503, "Service Unavailable: the server is busy; retry later");
        }
        finish(sr);
    }
}

/* The flights this request waited for are done (runs on this request's loop). */
static void on_fetched(struct srv_job *job)
{
    struct symb_req *sr = (struct symb_req *)job;
    sr->worker->jobs_outstanding--;
    if (sr->req == NULL) {
        finish(sr);
        return;
    }
    advance(sr);
}

/* From any thread: wake the request's loop. */
static void notify_fetched(void *ctx)
{
    struct symb_req *sr = ctx;
    memset(&sr->job.msg, 0, sizeof(sr->job.msg));
    sr->job.done = on_fetched;
    h2o_multithread_send_message(&sr->worker->completions, &sr->job.msg);
}

/* Resolves and writes, here or on a blocking thread. */
static void advance(struct symb_req *sr)
{
    if (!srv_symb_call_run_on_loop(sr->call)) {
        submit(sr, PHASE_RUN);
        return;
    }
    sr->run_rc = srv_symb_call_run(sr->call, &sr->step);
    after_run(sr);
}

static void handle_post(struct srv_reqctx *rc, h2o_req_t *req, enum srv_symb_version version)
{
    struct srv_app *app = rc->app;
    uint64_t max = app->cfg->symbolicate_max_bytes;
    if (req->entity.len > max) {
        char title[160];
        snprintf(title, sizeof(title),
                 "Payload Too Large: this server accepts symbolication bodies up to %llu bytes",
                 (unsigned long long)max);
        respond_title(req, 413, title);
        return;
    }
    size_t dlen = 0;
    const char *dbg = srv_req_header(req, "debug", &dlen);
    struct symb_req *sr = calloc(1, sizeof(*sr));
    if (sr == NULL || srv_symb_call_new(app->symbolicator, version, dbg != NULL && dlen > 0,
                                        &sr->call) != SYM_OK) {
        free(sr);
        respond_title(req, 503, "Service Unavailable: out of memory");
        return;
    }
    sr->app = app;
    sr->worker = rc->worker;
    sr->req = req;
    sr->rc = rc;
    sr->hook = h2o_mem_alloc_shared(&req->pool, sizeof(*sr->hook), on_request_gone);
    *sr->hook = sr;
    const char *body = req->entity.base ? req->entity.base : "";
    size_t len = req->entity.len;
    if (len > LOOP_PARSE_MAX) {
        sr->body_copy = malloc(len);
        if (sr->body_copy == NULL) {
            respond_title(req, 503, "Service Unavailable: out of memory");
            finish(sr);
            return;
        }
        memcpy(sr->body_copy, body, len);
        sr->body_len = len;
        submit(sr, PHASE_PARSE);
        return;
    }
    sr->parse_rc = srv_symb_call_parse(sr->call, body, len);
    if (sr->parse_rc != SYM_OK) {
        respond_outcome(sr);
        return;
    }
    advance(sr);
}

static void handle(struct srv_reqctx *rc, h2o_req_t *req, enum srv_symb_version version)
{
    if (srv_req_is(req, "OPTIONS")) {
        /* CORS preflight: any origin may POST; the headers a browser asked for are allowed. */
        add_cors(req);
        srv_add_header(req, "access-control-allow-methods", "POST");
        srv_add_header(req, "access-control-expose-headers", expose_headers);
        size_t n = 0;
        const char *asked = srv_req_header(req, "access-control-request-headers", &n);
        if (asked != NULL && n > 0 && n < 4096)
            srv_add_header_n(req, "access-control-allow-headers", asked, n);
        srv_add_header(req, "access-control-max-age", "86400");
        srv_respond_body(req, 200, "application/json", "", 0);
        return;
    }
    handle_post(rc, req, version);
}

void srv_handle_symbolicate_v5(struct srv_reqctx *rc, h2o_req_t *req)
{
    handle(rc, req, SRV_SYMB_V5);
}

void srv_handle_symbolicate_v4(struct srv_reqctx *rc, h2o_req_t *req)
{
    handle(rc, req, SRV_SYMB_V4);
}
