/* SPDX-License-Identifier: MPL-2.0 */
/* metrics.h: Prometheus metrics. Series are registered at start-up (or lazily, under a lock) and
 * return stable pointers; the hot path only does relaxed atomic adds on them. Rendering produces
 * the Prometheus text exposition format for GET /metrics. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"

#define SRV_HIST_BUCKETS 14

struct srv_counter {
    _Atomic uint64_t value;
};

struct srv_gauge {
    _Atomic int64_t value;
};

/* A histogram: latency in seconds with fixed bucket bounds (see metrics.c), or sizes and counts
 * with bounds given at registration. */
struct srv_histogram {
    _Atomic uint64_t buckets[SRV_HIST_BUCKETS]; /* non-cumulative; rendered cumulative */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us; /* sum of the observed values (microseconds for latencies) */
    const uint64_t *bounds;  /* upper bounds, ascending; the last bucket is +Inf */
    size_t n_bounds;         /* at most SRV_HIST_BUCKETS - 1 */
    double scale;            /* value units per rendered unit (1e6 for seconds) */
};

struct srv_metrics; /* opaque registry */

/* NULL on allocation failure. */
struct srv_metrics *srv_metrics_new(void);
void srv_metrics_free(struct srv_metrics *m);

/* Returns the series for (name, labels), creating the family and the series when new. labels is
 * the Prometheus label list without braces, e.g. `route="download",status="302"`, or "".
 * The help text of the first registration wins. Returns NULL only on allocation failure, or when
 * name is already registered with another type. Thread-safe. */
struct srv_counter *srv_metrics_counter(struct srv_metrics *m, const char *name, const char *help,
                                        const char *labels);
struct srv_gauge *srv_metrics_gauge(struct srv_metrics *m, const char *name, const char *help,
                                    const char *labels);
struct srv_histogram *srv_metrics_histogram(struct srv_metrics *m, const char *name,
                                            const char *help, const char *labels);

/* A histogram of plain values (sizes, counts) with the given upper bounds (static storage, at
 * most SRV_HIST_BUCKETS - 1, ascending); observe with srv_histogram_observe(). */
struct srv_histogram *srv_metrics_histogram_bounds(struct srv_metrics *m, const char *name,
                                                   const char *help, const char *labels,
                                                   const uint64_t *bounds, size_t n_bounds);

/* NULL-safe helpers for the hot path. */
void srv_counter_add(struct srv_counter *c, uint64_t n);
static inline void srv_counter_inc(struct srv_counter *c)
{
    srv_counter_add(c, 1);
}
uint64_t srv_counter_get(const struct srv_counter *c);
void srv_gauge_set(struct srv_gauge *g, int64_t v);
void srv_gauge_add(struct srv_gauge *g, int64_t delta);
void srv_histogram_observe_us(struct srv_histogram *h, uint64_t micros);
void srv_histogram_observe(struct srv_histogram *h, uint64_t value);

/* Appends the exposition text to out; the first error of out is returned. */
sym_err srv_metrics_render(struct srv_metrics *m, struct sym_buf *out);

/* Current value of a counter or gauge series, for tests and /__heartbeat__ details: SYM_OK and
 * *out, or SYM_ENOTFOUND. */
sym_err srv_metrics_value(struct srv_metrics *m, const char *name, const char *labels, double *out);

#endif
