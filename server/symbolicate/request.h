/* SPDX-License-Identifier: MPL-2.0 */
/* request.h: a symbolication request body (v5 or v4) parsed and validated as Eliot does it, into
 * flat arrays ready for lookup. The body is read with the project's Python-compatible JSON parser
 * (signature/json.h), so "Payload is not valid JSON" fires exactly where Eliot's json.load fails;
 * the checks then run in Eliot's order with Eliot's messages (tecken-api.md 3.2), plus this
 * server's own limits on frames, modules and stacks.
 *
 * Everything a request holds lives in its arena; one srv_symb_request_free() releases it. */
#ifndef SRV_SYMB_REQUEST_H
#define SRV_SYMB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signature/value.h"
#include "sym/err.h"

/* Eliot's MAX_JOBS (v5 only). */
#define SRV_SYMB_MAX_JOBS 10
/* memoryMap index of a frame outside any module (-1 in the request). */
#define SRV_SYMB_NO_MODULE UINT32_MAX
/* Group of a memoryMap entry whose debug_filename or debug_id is empty: never looked up. */
#define SRV_SYMB_NO_GROUP UINT32_MAX

enum srv_symb_version {
    SRV_SYMB_V4 = 4,
    SRV_SYMB_V5 = 5,
};

/* This server's limits beyond Eliot's; 0 means no limit. Exceeding one gives status 413. */
struct srv_symb_limits {
    uint64_t max_frames;  /* frames in the whole request */
    uint64_t max_modules; /* memoryMap entries of one job */
    uint64_t max_stacks;  /* stacks of one job */
};

/* One memoryMap entry. Strings are NUL-terminated, in the arena. */
struct srv_symb_module {
    const char *debug_filename;
    const char *debug_id;
    uint32_t filename_len, id_len;
    uint32_t group; /* index into srv_symb_request.groups, or SRV_SYMB_NO_GROUP */
};

struct srv_symb_frame {
    int64_t offset;  /* module_offset, >= -1 */
    uint32_t module; /* memoryMap index within the job, or SRV_SYMB_NO_MODULE */
};

struct srv_symb_stack {
    struct srv_symb_frame *frames;
    uint32_t n_frames;
};

struct srv_symb_job {
    struct srv_symb_module *modules;
    struct srv_symb_stack *stacks;
    uint32_t n_modules, n_stacks;
};

/* A distinct (debug_filename, debug_id) pair, exactly as sent, over every job of the request:
 * Eliot looks each one up once per request and reports the outcome in the found_modules of every
 * job that lists it. Both strings are non-empty. */
struct srv_symb_group {
    const char *debug_filename;
    const char *debug_id;
    uint32_t filename_len, id_len;
    bool referenced; /* some frame points at it: it is looked up */
};

struct srv_symb_request {
    enum srv_symb_version version;
    struct srv_symb_job *jobs;
    uint32_t n_jobs;
    struct srv_symb_group *groups;
    uint32_t n_groups;
    uint64_t n_frames; /* in all jobs */
    struct sig_arena arena;
};

/* A rejected request: the HTTP status (400 as Eliot, 413 for this server's limits, 503 when
 * memory ran out) and the title of the {"title": ...} body. */
struct srv_symb_error {
    int status;
    char title[256];
};

/* Parses and validates body[0..len) as a request of the given version. On success returns
 * SYM_OK and fills *out (release with srv_symb_request_free). Otherwise *out is left empty and
 * err says why:
 *   SYM_EPARSE  the body is not JSON (or not UTF-8), or fails one of Eliot's checks (400);
 *   SYM_ELIMIT  more frames, modules or stacks than lim allows (413);
 *   SYM_ENOMEM  (503).
 * The first failure in Eliot's order wins. */
sym_err srv_symb_request_parse(const char *body, size_t len, enum srv_symb_version version,
                               const struct srv_symb_limits *lim, struct srv_symb_request *out,
                               struct srv_symb_error *err) SYM_MUST_CHECK;

/* Releases everything the request holds; the struct may be parsed into again. */
void srv_symb_request_free(struct srv_symb_request *r);

#endif
