/* SPDX-License-Identifier: MPL-2.0 */
/* pipeline.h: a validated zip (an ingest after symup_ingest_open()) from the spooled body to
 * storage: one thread extracts members one after the other while a bounded pool of worker
 * threads compresses and stores those already extracted (storefile.h), in parallel. Members
 * flow through a queue bounded in count and bytes, and each member's temporary files are removed
 * as soon as it is stored, so disk and memory use stay bounded whatever the zip size.
 *
 * In strict mode (cfg.strict_header) every .sym member is checked as soon as it is extracted and
 * nothing is stored until the whole archive passed, so a refused upload stores nothing. */
#ifndef SRV_UPLOAD_PIPELINE_H
#define SRV_UPLOAD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sym/err.h"
#include "upload/error.h"
#include "upload/ingest.h"
#include "upload/storefile.h"

struct srv_pipeline_result {
    json_t *skipped_keys; /* keys not written (already stored); owned, caller json_decref()s */
    size_t n_stored, n_skipped;
    uint64_t stored_bytes;   /* bytes written to storage */
    uint64_t original_bytes; /* uncompressed bytes of every member */
};

struct srv_pipeline_config {
    unsigned workers;          /* storing threads, at least 1 */
    uint64_t max_queued_bytes; /* extracted bytes waiting for a worker (one member always fits) */
    bool strict;               /* see above */
};

/* Runs the pipeline for every member of ing, extracting into work_dir (an empty folder of the
 * caller's). *out is written only on success. On failure, files stored before it stay stored
 * with their rows (a retry skips them), and err says what went wrong: its reason tells a
 * refusal of the archive (NOT_ZIP...HEADER_MISMATCH, limits: the client's fault) from a failure
 * of this server (IO, NOMEM, CONFIG), and its code is the sym_err returned. */
SYM_MUST_CHECK sym_err srv_pipeline_run(const struct srv_storefile_target *t,
                                        struct symup_ingest *ing, const char *work_dir,
                                        const struct srv_pipeline_config *cfg,
                                        struct srv_pipeline_result *out, struct symup_error *err);

/* True when the error is the archive's fault (a 400), false when it is the server's (5xx). */
bool srv_pipeline_client_error(const struct symup_error *err);

#endif
