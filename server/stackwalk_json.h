/* SPDX-License-Identifier: MPL-2.0 */
/* stackwalk_json.h: renders a processed minidump (stackwalk/process.h) as rust-minidump's
 * `minidump-stackwalk --json` document (jansson), or as Breakpad minidump_stackwalk's text
 * reports (--machine pipe-delimited, --human), and wraps dump -> walk -> JSON in one call for
 * the HTTP endpoint. The only place jansson meets the stack walker. */
#ifndef SRV_STACKWALK_JSON_H
#define SRV_STACKWALK_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "stackwalk/process.h"
#include "sym/buf.h"
#include "sym/err.h"

/* The JSON object (keys as rust-minidump writes them; dump with JSON_SORT_KEYS for its key
 * order, JSON_INDENT(2) for --pretty). Returns SYM_OK and *out (a new reference, caller
 * json_decref()s it) or SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_stackwalk_json(const struct sw_process_state *st, json_t **out);

/* Breakpad's machine-readable report (OS|, CPU|, GPU|, Crash|, Module| lines, a blank line, then
 * thread|frame|module|function|file|line|offset per frame, inline frames as frames, the dump
 * thread left out), appended to out. Returns sym_buf_err(out). */
SYM_MUST_CHECK sym_err srv_stackwalk_machine(const struct sw_process_state *st,
                                             struct sym_buf *out);
/* Breakpad's human-readable report, appended to out. Returns sym_buf_err(out). */
SYM_MUST_CHECK sym_err srv_stackwalk_human(const struct sw_process_state *st, struct sym_buf *out);

/* Limits of srv_stackwalk_dump (0 fields take the defaults of the reader and walker). */
struct srv_stackwalk_limits {
    size_t max_dump_bytes; /* default 512 MiB; larger dumps fail with SYM_ELIMIT */
    uint32_t max_threads;  /* threads walked */
    uint32_t max_frames;   /* per thread */
};

/* Parses a minidump held in memory, walks it with the suppliers (tried in order per module;
 * none: frame pointers and scanning only) and returns the JSON document. Thread-safe when the
 * suppliers are. lim may be NULL. Returns SYM_OK and *out (caller json_decref()s); SYM_EPARSE
 * for a dump that cannot be read (d says why: a client error); SYM_ELIMIT for a dump over the
 * limits; SYM_EINVAL for NULL arguments; SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_stackwalk_dump(const void *dump, size_t len,
                                          const struct sw_supplier *suppliers, size_t n_suppliers,
                                          const struct srv_stackwalk_limits *lim, json_t **out,
                                          struct sym_diag *d);

#endif
