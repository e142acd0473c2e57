/* SPDX-License-Identifier: MPL-2.0 */
/* health.c: the dockerflow health endpoints and the Prometheus metrics endpoint. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buildinfo.h"
#include "handlers/handlers.h"
#include "http/async.h"
#include "http/respond.h"
#include "jobs.h"

void srv_handle_lbheartbeat(struct srv_reqctx *rc, h2o_req_t *req)
{
    (void)rc;
    srv_respond_body(req, 200, "application/json; charset=utf-8", "", 0);
}

void srv_handle_version(struct srv_reqctx *rc, h2o_req_t *req)
{
    (void)rc;
    json_t *body = json_object();
    if (body != NULL) {
        json_object_set_new(body, "source", json_string("sigil"));
        json_object_set_new(body, "version", json_string(srv_version()));
        json_object_set_new(body, "commit", json_string(srv_git_commit()));
        json_object_set_new(body, "build", json_string(srv_build_id()));
    }
    srv_respond_json(req, 200, body);
}

void srv_handle_metrics(struct srv_reqctx *rc, h2o_req_t *req)
{
    struct srv_app *app = rc->app;
    srv_gauge_set(srv_metrics_gauge(app->metrics, "sigil_blocking_jobs_pending",
                                    "Jobs queued or running on the blocking threads", ""),
                  (int64_t)srv_jobs_pending(app->jobs));
    struct sym_buf out;
    sym_buf_init(&out, 64u << 20);
    sym_err rc_render = srv_metrics_render(app->metrics, &out);
    if (rc_render != SYM_OK) {
        sym_buf_cleanup(&out);
        srv_respond_sym_err(req, rc_render, NULL);
        return;
    }
    srv_respond_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    sym_buf_cleanup(&out);
}

struct heartbeat_job {
    struct srv_req_job base;
    sym_err db_rc, store_rc;
    struct sym_diag db_diag, store_diag;
};

static void heartbeat_work(struct srv_req_job *job)
{
    struct heartbeat_job *hb = (struct heartbeat_job *)job;
    struct srv_app *app = job->app;
    uint64_t t0 = srv_now_us();
    PGconn *conn;
    hb->db_rc = db_acquire(app->db, &conn, &hb->db_diag);
    if (hb->db_rc == SYM_OK) {
        hb->db_rc = db_exec_cmd(conn, "SELECT 1", 0, NULL, &hb->db_diag);
        db_release(app->db, conn);
    }
    srv_app_db_observe(app, t0, hb->db_rc);
    t0 = srv_now_us();
    hb->store_rc = app->store.ops->ping(app->store.impl, &hb->store_diag);
    srv_app_storage_observe(app, t0, hb->store_rc);
}

static json_t *check_detail(const char *id, const char *message)
{
    json_t *messages = json_object();
    json_object_set_new(messages, id, json_string(message));
    json_t *detail = json_object();
    json_object_set_new(detail, "status", json_string("error"));
    json_object_set_new(detail, "level", json_integer(40));
    json_object_set_new(detail, "messages", messages);
    return detail;
}

static void heartbeat_done(struct srv_req_job *job, h2o_req_t *req)
{
    struct heartbeat_job *hb = (struct heartbeat_job *)job;
    bool ok = hb->db_rc == SYM_OK && hb->store_rc == SYM_OK;
    json_t *body = json_object();
    json_t *checks = json_object();
    json_t *details = json_object();
    json_object_set_new(checks, "database", json_string(hb->db_rc == SYM_OK ? "ok" : "error"));
    json_object_set_new(checks, "storage", json_string(hb->store_rc == SYM_OK ? "ok" : "error"));
    if (hb->db_rc != SYM_OK)
        json_object_set_new(details, "database",
                            check_detail("sigil.health.E001", hb->db_diag.msg[0]
                                                                  ? hb->db_diag.msg
                                                                  : sym_strerror(hb->db_rc)));
    if (hb->store_rc != SYM_OK)
        json_object_set_new(details, "storage",
                            check_detail("sigil.health.E002", hb->store_diag.msg[0]
                                                                  ? hb->store_diag.msg
                                                                  : sym_strerror(hb->store_rc)));
    json_object_set_new(body, "status", json_string(ok ? "ok" : "error"));
    json_object_set_new(body, "checks", checks);
    json_object_set_new(body, "details", details);
    srv_respond_json(req, ok ? 200 : 500, body);
}

static void heartbeat_free(struct srv_req_job *job)
{
    free(job);
}

void srv_handle_heartbeat(struct srv_reqctx *rc, h2o_req_t *req)
{
    struct heartbeat_job *hb = calloc(1, sizeof(*hb));
    if (hb == NULL) {
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    srv_req_job_submit(rc, req, &hb->base, heartbeat_work, heartbeat_done, heartbeat_free);
}
