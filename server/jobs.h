/* SPDX-License-Identifier: MPL-2.0 */
/* jobs.h: the pool of threads that run blocking work (libpq, libcurl, disk, parsing) so that no
 * event loop ever blocks. A job's work() runs on a pool thread; its done() then runs on the event
 * loop that submitted it, delivered through h2o's multithread queue. */
#ifndef SRV_JOBS_H
#define SRV_JOBS_H

#define H2O_USE_LIBUV 0
#include <stddef.h>

#include <h2o.h>
#include <h2o/multithread.h>

#include "sym/err.h"

struct srv_job;
typedef void (*srv_job_fn)(struct srv_job *job);

/* Embedded by the caller in its own struct (use container_of-style casts). The caller owns the
 * memory; it must stay valid until done() has run (or work() has returned, when done is NULL). */
struct srv_job {
    h2o_multithread_message_t msg;        /* internal: delivery to the loop */
    struct srv_job *next;                 /* internal: queue link */
    srv_job_fn work;                      /* required; runs on a pool thread */
    srv_job_fn done;                      /* optional; runs on receiver's loop after work() */
    h2o_multithread_receiver_t *receiver; /* loop that gets done(); NULL: done runs on the pool */
};

struct srv_jobs;

/* Starts n_threads threads; max_queued bounds waiting jobs (0 = unbounded). NULL on failure. */
struct srv_jobs *srv_jobs_new(size_t n_threads, size_t max_queued);
/* Runs the queued jobs, stops and joins the threads, frees the pool. NULL is a no-op. Jobs whose
 * done() targets a loop must have been delivered before the loop stops. */
void srv_jobs_free(struct srv_jobs *jobs);

/* Queues job. SYM_EUNAVAIL when the queue is full or the pool is stopping: the job was not taken
 * and neither callback will run. */
sym_err srv_jobs_submit(struct srv_jobs *jobs, struct srv_job *job) SYM_MUST_CHECK;

/* Receiver callback that runs done() of delivered jobs; register it on each loop with
 * h2o_multithread_register_receiver(queue, receiver, srv_jobs_on_complete). */
void srv_jobs_on_complete(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/* Jobs waiting or running, for metrics. */
size_t srv_jobs_pending(struct srv_jobs *jobs);

#endif
