/* SPDX-License-Identifier: MPL-2.0 */
/* jobs.c: a fixed set of threads pulling from one FIFO. */
#include "jobs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct srv_jobs {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct srv_job *head, *tail;
    size_t queued, running, max_queued;
    bool stopping;
    size_t n_threads;
    pthread_t *threads;
};

static void *thread_main(void *arg)
{
    struct srv_jobs *jobs = arg;
    pthread_mutex_lock(&jobs->lock);
    for (;;) {
        while (jobs->head == NULL && !jobs->stopping)
            pthread_cond_wait(&jobs->cond, &jobs->lock);
        if (jobs->head == NULL)
            break; /* stopping and drained */
        struct srv_job *job = jobs->head;
        jobs->head = job->next;
        if (jobs->head == NULL)
            jobs->tail = NULL;
        jobs->queued--;
        jobs->running++;
        pthread_mutex_unlock(&jobs->lock);

        /* A job without done() may release itself in work(): read what follows first. */
        srv_job_fn done = job->done;
        h2o_multithread_receiver_t *receiver = job->receiver;
        job->work(job);
        if (done != NULL) {
            if (receiver != NULL)
                h2o_multithread_send_message(receiver, &job->msg);
            else
                done(job);
        }

        pthread_mutex_lock(&jobs->lock);
        jobs->running--;
    }
    pthread_mutex_unlock(&jobs->lock);
    return NULL;
}

struct srv_jobs *srv_jobs_new(size_t n_threads, size_t max_queued)
{
    struct srv_jobs *jobs = calloc(1, sizeof(*jobs));
    if (jobs == NULL)
        return NULL;
    jobs->threads = calloc(n_threads ? n_threads : 1, sizeof(*jobs->threads));
    if (jobs->threads == NULL) {
        free(jobs);
        return NULL;
    }
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_cond_init(&jobs->cond, NULL);
    jobs->max_queued = max_queued;
    for (size_t i = 0; i < n_threads; i++) {
        if (pthread_create(&jobs->threads[i], NULL, thread_main, jobs) != 0)
            break;
        jobs->n_threads++;
    }
    if (jobs->n_threads == 0) {
        srv_jobs_free(jobs);
        return NULL;
    }
    return jobs;
}

void srv_jobs_free(struct srv_jobs *jobs)
{
    if (jobs == NULL)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->stopping = true;
    pthread_cond_broadcast(&jobs->cond);
    pthread_mutex_unlock(&jobs->lock);
    for (size_t i = 0; i < jobs->n_threads; i++)
        pthread_join(jobs->threads[i], NULL);
    pthread_cond_destroy(&jobs->cond);
    pthread_mutex_destroy(&jobs->lock);
    free(jobs->threads);
    free(jobs);
}

sym_err srv_jobs_submit(struct srv_jobs *jobs, struct srv_job *job)
{
    job->next = NULL;
    memset(&job->msg, 0, sizeof(job->msg));
    pthread_mutex_lock(&jobs->lock);
    if (jobs->stopping || (jobs->max_queued != 0 && jobs->queued >= jobs->max_queued)) {
        pthread_mutex_unlock(&jobs->lock);
        return SYM_EUNAVAIL;
    }
    if (jobs->tail)
        jobs->tail->next = job;
    else
        jobs->head = job;
    jobs->tail = job;
    jobs->queued++;
    pthread_cond_signal(&jobs->cond);
    pthread_mutex_unlock(&jobs->lock);
    return SYM_OK;
}

void srv_jobs_on_complete(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        struct srv_job *job = H2O_STRUCT_FROM_MEMBER(struct srv_job, msg, msg);
        job->done(job);
    }
}

size_t srv_jobs_pending(struct srv_jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    size_t n = jobs->queued + jobs->running;
    pthread_mutex_unlock(&jobs->lock);
    return n;
}
