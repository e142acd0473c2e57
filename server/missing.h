/* SPDX-License-Identifier: MPL-2.0 */
/* missing.h: counts download misses in memory and writes them to the database in batches from a
 * background thread, so the hot 404 path never waits on a database write. Distinct symbols beyond
 * the pending bound are counted as dropped (a metric), never blocking a request. */
#ifndef SRV_MISSING_H
#define SRV_MISSING_H

#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "log.h"
#include "metrics.h"

struct srv_missing;

/* Starts the flush thread. NULL on failure. pool, log and metrics are borrowed and must outlive
 * the recorder. */
struct srv_missing *srv_missing_new(struct db_pool *pool, const struct srv_log *log,
                                    struct srv_metrics *metrics, uint32_t flush_interval_ms,
                                    size_t max_pending);
/* Flushes what is pending, stops the thread, frees. NULL is a no-op. */
void srv_missing_free(struct srv_missing *m);

/* Counts one miss; code_file/code_id may be NULL. Thread-safe, never blocks on I/O. */
void srv_missing_record(struct srv_missing *m, const char *debug_filename, const char *debug_id,
                        const char *filename, const char *code_file, const char *code_id);

/* Writes pending counts now (blocking); used at shutdown and by tests. */
void srv_missing_flush(struct srv_missing *m);

#endif
