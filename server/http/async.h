/* SPDX-License-Identifier: MPL-2.0 */
/* async.h: blocking work on behalf of a request. The handler allocates a struct that begins with
 * struct srv_req_job, submits it, and returns; work() runs on a blocking thread (it must not touch
 * the request), then done() runs on the request's event loop and answers it. When the client went
 * away meanwhile, done() is skipped and only free() runs. */
#ifndef SRV_ASYNC_H
#define SRV_ASYNC_H

#include "http/router.h"
#include "jobs.h"

struct srv_req_job;
typedef void (*srv_req_work_fn)(struct srv_req_job *job);
typedef void (*srv_req_done_fn)(struct srv_req_job *job, h2o_req_t *req);
typedef void (*srv_req_free_fn)(struct srv_req_job *job);

struct srv_req_job {
    struct srv_job base;       /* internal */
    struct srv_reqctx *rc;     /* valid in done() only; NULL once the request is gone */
    h2o_req_t *req;            /* internal */
    struct srv_req_job **hook; /* internal: slot in the request pool pointing back here */
    struct srv_app *app;       /* usable from work() */
    struct srv_worker *worker; /* internal */
    srv_req_work_fn work;
    srv_req_done_fn done;
    srv_req_free_fn free; /* releases the job (its memory is the caller's) */
};

/* Submits job for req. On SYM_OK the request is answered later by done(). On failure (the pool
 * is saturated) the request has been answered with 503 and job->free has run. */
void srv_req_job_submit(struct srv_reqctx *rc, h2o_req_t *req, struct srv_req_job *job,
                        srv_req_work_fn work, srv_req_done_fn done, srv_req_free_fn free_fn);

/* The same, on a given pool (e.g. the body-route pool) instead of the app's default one. */
void srv_req_job_submit_to(struct srv_jobs *jobs, struct srv_reqctx *rc, h2o_req_t *req,
                           struct srv_req_job *job, srv_req_work_fn work, srv_req_done_fn done,
                           srv_req_free_fn free_fn);

#endif
