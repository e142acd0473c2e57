/* SPDX-License-Identifier: MPL-2.0 */
/* async.c: tying a blocking job to the lifetime of its request. */
#include "http/async.h"

#include "app.h"
#include "http/respond.h"

/* Runs on the loop when the request's pool is released before the job finished. */
static void on_request_gone(void *p)
{
    struct srv_req_job **hook = p;
    if (*hook != NULL) {
        (*hook)->req = NULL;
        (*hook)->rc = NULL;
    }
}

static void run_work(struct srv_job *base)
{
    struct srv_req_job *job = (struct srv_req_job *)base;
    job->work(job);
}

static void run_done(struct srv_job *base)
{
    struct srv_req_job *job = (struct srv_req_job *)base;
    job->worker->jobs_outstanding--;
    if (job->req != NULL) {
        *job->hook = NULL;
        job->done(job, job->req);
    }
    job->free(job);
}

void srv_req_job_submit(struct srv_reqctx *rc, h2o_req_t *req, struct srv_req_job *job,
                        srv_req_work_fn work, srv_req_done_fn done, srv_req_free_fn free_fn)
{
    srv_req_job_submit_to(rc->app->jobs, rc, req, job, work, done, free_fn);
}

void srv_req_job_submit_to(struct srv_jobs *jobs, struct srv_reqctx *rc, h2o_req_t *req,
                           struct srv_req_job *job, srv_req_work_fn work, srv_req_done_fn done,
                           srv_req_free_fn free_fn)
{
    job->rc = rc;
    job->req = req;
    job->app = rc->app;
    job->work = work;
    job->done = done;
    job->free = free_fn;
    job->base.work = run_work;
    job->base.done = run_done;
    job->base.receiver = &rc->worker->completions;
    job->worker = rc->worker;
    job->hook = h2o_mem_alloc_shared(&req->pool, sizeof(*job->hook), on_request_gone);
    *job->hook = job;
    rc->worker->jobs_outstanding++;
    if (srv_jobs_submit(jobs, &job->base) != SYM_OK) {
        rc->worker->jobs_outstanding--;
        *job->hook = NULL;
        free_fn(job);
        struct sym_diag d = {0};
        srv_respond_sym_err(req, SYM_EUNAVAIL, &d);
    }
}
