/* SPDX-License-Identifier: MPL-2.0 */
/* signature.c: POST /signature: crash_data JSON in, {"signature", "notes", "proto_signature"}
 * out, as Socorro's signature generator computes them. The work runs on a blocking thread with
 * that thread's generator. `?debug` (or a Debug header) adds the generator's debug log. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers/handlers.h"
#include "http/async.h"
#include "http/respond.h"

struct signature_job {
    struct srv_req_job base;
    char *body;
    size_t len;
    bool debug;
    int status;
    json_t *out;
    struct sym_diag diag;
};

static void signature_work(struct srv_req_job *job)
{
    struct signature_job *sj = (struct signature_job *)job;
    struct srv_app *app = job->app;
    json_error_t jerr;
    json_t *doc = json_loadb(sj->body, sj->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        sj->status = 400;
        sym_diag_set(&sj->diag, SYM_EPARSE, "Payload is not valid JSON: %s", jerr.text);
        return;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        sj->status = 400;
        sym_diag_set(&sj->diag, SYM_EINVAL, "crash_data must be a JSON object");
        return;
    }
    struct sig_generator *g = srv_app_sig_generator(app);
    sym_err rc = g ? srv_signature_json(&app->signature, g, doc, sj->debug, &sj->out, &sj->diag)
                   : SYM_ENOMEM;
    json_decref(doc);
    sj->status = rc == SYM_OK ? 200 : srv_status_for_err(rc);
    if (rc != SYM_OK && sj->diag.msg[0] == '\0')
        sym_diag_set(&sj->diag, rc, "%s", sym_strerror(rc));
}

static void signature_done(struct srv_req_job *job, h2o_req_t *req)
{
    struct signature_job *sj = (struct signature_job *)job;
    if (sj->status == 200) {
        srv_respond_json(req, 200, sj->out);
        sj->out = NULL;
    } else if (sj->status >= 500) {
        srv_respond_sym_err(req, sj->diag.code ? sj->diag.code : SYM_EINTERNAL, &sj->diag);
    } else {
        srv_respond_error(req, sj->status, sj->diag.msg);
    }
}

static void signature_free(struct srv_req_job *job)
{
    struct signature_job *sj = (struct signature_job *)job;
    json_decref(sj->out);
    free(sj->body);
    free(sj);
}

void srv_handle_signature(struct srv_reqctx *rc, h2o_req_t *req)
{
    const struct srv_config *cfg = rc->app->cfg;
    if (req->entity.len > cfg->signature_max_bytes) {
        srv_respond_error(req, 413, "the crash_data body is too large");
        return;
    }
    struct signature_job *sj = calloc(1, sizeof(*sj));
    char *body = sj ? malloc(req->entity.len + 1) : NULL;
    if (body == NULL) {
        free(sj);
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    if (req->entity.len)
        memcpy(body, req->entity.base, req->entity.len);
    body[req->entity.len] = '\0';
    sj->body = body;
    sj->len = req->entity.len;
    sj->debug =
        srv_query_has(srv_req_query(req), "debug") || srv_req_header(req, "debug", NULL) != NULL;
    srv_req_job_submit(rc, req, &sj->base, signature_work, signature_done, signature_free);
}
