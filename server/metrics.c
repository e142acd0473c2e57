/* SPDX-License-Identifier: MPL-2.0 */
/* metrics.c: a small Prometheus registry. Families and series live in linked lists guarded by a
 * mutex that is taken only to register or render; values are atomics. */
#include "metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum family_type { FAM_COUNTER, FAM_GAUGE, FAM_HISTOGRAM };

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bucket_bounds_us[SRV_HIST_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

struct series {
    struct series *next;
    char *labels;
    union {
        struct srv_counter counter;
        struct srv_gauge gauge;
        struct srv_histogram hist;
    } v;
};

struct family {
    struct family *next;
    char *name;
    char *help;
    enum family_type type;
    struct series *series, **series_tail;
};

struct srv_metrics {
    pthread_mutex_t lock;
    struct family *families, **tail;
};

struct srv_metrics *srv_metrics_new(void)
{
    struct srv_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->tail = &m->families;
    return m;
}

void srv_metrics_free(struct srv_metrics *m)
{
    if (m == NULL)
        return;
    struct family *f = m->families;
    while (f) {
        struct family *fn = f->next;
        struct series *s = f->series;
        while (s) {
            struct series *sn = s->next;
            free(s->labels);
            free(s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct series *lookup_locked(struct srv_metrics *m, const char *name, const char *help,
                                    const char *labels, enum family_type type, bool create)
{
    struct family *f;
    for (f = m->families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f == NULL) {
        if (!create)
            return NULL;
        f = calloc(1, sizeof(*f));
        if (f == NULL)
            return NULL;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        if (f->name == NULL || f->help == NULL) {
            free(f->name);
            free(f->help);
            free(f);
            return NULL;
        }
        f->type = type;
        f->series_tail = &f->series;
        *m->tail = f;
        m->tail = &f->next;
    }
    if (f->type != type)
        return NULL;
    for (struct series *s = f->series; s; s = s->next)
        if (strcmp(s->labels, labels) == 0)
            return s;
    if (!create)
        return NULL;
    struct series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->labels = strdup(labels);
    if (s->labels == NULL) {
        free(s);
        return NULL;
    }
    *f->series_tail = s;
    f->series_tail = &s->next;
    return s;
}

static struct series *get_series(struct srv_metrics *m, const char *name, const char *help,
                                 const char *labels, enum family_type type)
{
    if (m == NULL)
        return NULL;
    pthread_mutex_lock(&m->lock);
    struct series *s = lookup_locked(m, name, help, labels ? labels : "", type, true);
    pthread_mutex_unlock(&m->lock);
    return s;
}

struct srv_counter *srv_metrics_counter(struct srv_metrics *m, const char *name, const char *help,
                                        const char *labels)
{
    struct series *s = get_series(m, name, help, labels, FAM_COUNTER);
    return s ? &s->v.counter : NULL;
}

struct srv_gauge *srv_metrics_gauge(struct srv_metrics *m, const char *name, const char *help,
                                    const char *labels)
{
    struct series *s = get_series(m, name, help, labels, FAM_GAUGE);
    return s ? &s->v.gauge : NULL;
}

static struct srv_histogram *histogram_with(struct srv_metrics *m, const char *name,
                                            const char *help, const char *labels,
                                            const uint64_t *bounds, size_t n_bounds, double scale)
{
    if (n_bounds > SRV_HIST_BUCKETS - 1)
        return NULL;
    struct series *s = get_series(m, name, help, labels, FAM_HISTOGRAM);
    if (s == NULL)
        return NULL;
    /* Set once, before any observation can see the series (registration happens at start). */
    if (s->v.hist.bounds == NULL) {
        s->v.hist.bounds = bounds;
        s->v.hist.n_bounds = n_bounds;
        s->v.hist.scale = scale;
    }
    return &s->v.hist;
}

struct srv_histogram *srv_metrics_histogram(struct srv_metrics *m, const char *name,
                                            const char *help, const char *labels)
{
    return histogram_with(m, name, help, labels, bucket_bounds_us, SRV_HIST_BUCKETS - 1, 1e6);
}

struct srv_histogram *srv_metrics_histogram_bounds(struct srv_metrics *m, const char *name,
                                                   const char *help, const char *labels,
                                                   const uint64_t *bounds, size_t n_bounds)
{
    return histogram_with(m, name, help, labels, bounds, n_bounds, 1.0);
}

void srv_counter_add(struct srv_counter *c, uint64_t n)
{
    if (c != NULL)
        atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

uint64_t srv_counter_get(const struct srv_counter *c)
{
    return c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}

void srv_gauge_set(struct srv_gauge *g, int64_t v)
{
    if (g != NULL)
        atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

void srv_gauge_add(struct srv_gauge *g, int64_t delta)
{
    if (g != NULL)
        atomic_fetch_add_explicit(&g->value, delta, memory_order_relaxed);
}

void srv_histogram_observe(struct srv_histogram *h, uint64_t value)
{
    if (h == NULL)
        return;
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, value, memory_order_relaxed);
}

void srv_histogram_observe_us(struct srv_histogram *h, uint64_t micros)
{
    srv_histogram_observe(h, micros);
}

static void render_labels(struct sym_buf *out, const char *labels, const char *extra)
{
    bool has = labels && *labels;
    if (!has && extra == NULL)
        return;
    sym_buf_append_char(out, '{');
    if (has)
        sym_buf_append_str(out, labels);
    if (extra) {
        if (has)
            sym_buf_append_char(out, ',');
        sym_buf_append_str(out, extra);
    }
    sym_buf_append_char(out, '}');
}

sym_err srv_metrics_render(struct srv_metrics *m, struct sym_buf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->lock);
    for (struct family *f = m->families; f; f = f->next) {
        sym_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                       type_names[f->type]);
        for (struct series *s = f->series; s; s = s->next) {
            if (f->type == FAM_COUNTER) {
                sym_buf_append_str(out, f->name);
                render_labels(out, s->labels, NULL);
                sym_buf_printf(out, " %llu\n", (unsigned long long)srv_counter_get(&s->v.counter));
            } else if (f->type == FAM_GAUGE) {
                sym_buf_append_str(out, f->name);
                render_labels(out, s->labels, NULL);
                sym_buf_printf(
                    out, " %lld\n",
                    (long long)atomic_load_explicit(&s->v.gauge.value, memory_order_relaxed));
            } else {
                uint64_t cum = 0;
                const struct srv_histogram *h = &s->v.hist;
                for (size_t i = 0; i <= h->n_bounds; i++) {
                    cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
                    char le[48];
                    if (i < h->n_bounds)
                        snprintf(le, sizeof(le), "le=\"%g\"", (double)h->bounds[i] / h->scale);
                    else
                        snprintf(le, sizeof(le), "le=\"+Inf\"");
                    sym_buf_printf(out, "%s_bucket", f->name);
                    render_labels(out, s->labels, le);
                    sym_buf_printf(out, " %llu\n", (unsigned long long)cum);
                }
                sym_buf_printf(out, "%s_sum", f->name);
                render_labels(out, s->labels, NULL);
                sym_buf_printf(out, " %.6f\n",
                               (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) /
                                   h->scale);
                sym_buf_printf(out, "%s_count", f->name);
                render_labels(out, s->labels, NULL);
                sym_buf_printf(out, " %llu\n",
                               (unsigned long long)atomic_load_explicit(&s->v.hist.count,
                                                                        memory_order_relaxed));
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return sym_buf_err(out);
}

sym_err srv_metrics_value(struct srv_metrics *m, const char *name, const char *labels, double *out)
{
    sym_err rc = SYM_ENOTFOUND;
    pthread_mutex_lock(&m->lock);
    for (struct family *f = m->families; f; f = f->next) {
        if (strcmp(f->name, name) != 0)
            continue;
        for (struct series *s = f->series; s; s = s->next) {
            if (strcmp(s->labels, labels ? labels : "") != 0)
                continue;
            if (f->type == FAM_COUNTER)
                *out = (double)srv_counter_get(&s->v.counter);
            else if (f->type == FAM_GAUGE)
                *out = (double)atomic_load_explicit(&s->v.gauge.value, memory_order_relaxed);
            else
                *out = (double)atomic_load_explicit(&s->v.hist.count, memory_order_relaxed);
            rc = SYM_OK;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}
