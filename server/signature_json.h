/* SPDX-License-Identifier: MPL-2.0 */
/* signature_json.h: the signature service the HTTP endpoints and `sigil signature` call: the
 * loaded siglists (reloadable while serving), crash_data JSON in -> {"signature", "notes",
 * "proto_signature"} out, and the processed-crash assembly for POST /process. */
#ifndef SRV_SIGNATURE_JSON_H
#define SRV_SIGNATURE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "signature/generator.h"
#include "signature/siglists.h"
#include "sym/err.h"

/* Where the lists are, in order: `configured` when non-NULL and non-empty; else
 * $SIGIL_SIGNATURE_RULES; else <dir of the executable>/../share/sigil/signature-rules when it
 * exists; else the source tree's signature/rules compiled into the library. Returns a static or
 * `configured` string, never NULL. buf (at least 4096 bytes) holds the computed path. */
const char *srv_signature_rules_dir(const char *configured, char *buf, size_t buf_len);
/* The built-in lists: the installed copy when it exists, else the compiled-in directory. */
const char *srv_signature_builtin_dir(char *buf, size_t buf_len);

/* Process-wide state: the reloadable lists. Thread-safe after init. */
struct srv_signature {
    struct sig_lists_cell cell;
};

/* Loads the lists from rules_dir (NULL: srv_signature_rules_dir(NULL)). Errors as
 * sig_lists_load (diag says which file and line). */
sym_err srv_signature_init(struct srv_signature *s, const char *rules_dir,
                           struct sym_diag *diag) SYM_MUST_CHECK;
/* Re-reads the lists; on failure the old ones stay in service. */
sym_err srv_signature_reload(struct srv_signature *s, struct sym_diag *diag) SYM_MUST_CHECK;
void srv_signature_cleanup(struct srv_signature *s);

/* Generates the signature of one crash_data JSON value. g is the calling thread's generator.
 * *out is a new object {"signature": str, "notes": [str], "proto_signature": str|null} plus
 * "debug_log": [str] when debug. Returns SYM_OK; SYM_ELIMIT when the document is too deep or
 * large; SYM_ENOMEM. Garbage crash data is not an error (the notes explain the outcome). */
sym_err srv_signature_json(struct srv_signature *s, struct sig_generator *g,
                           const json_t *crash_data, bool debug, json_t **out,
                           struct sym_diag *diag) SYM_MUST_CHECK;

/* The processed crash for POST /process: builds crash_data from the stackwalk JSON and the
 * annotations (see srv_crashdata_build), generates its signature, and returns a new object
 *   {"json_dump": <stackwalk>, "crash_data": {...}, "signature": str,
 *    "proto_signature": str|null, "signature_notes": [str]}
 * plus "signature_debug" (the debug log joined with newlines) when debug. The stackwalk value
 * is referenced, not copied. Errors as srv_signature_json. */
sym_err srv_signature_process(struct srv_signature *s, struct sig_generator *g, json_t *stackwalk,
                              const json_t *annotations, bool debug, json_t **out,
                              struct sym_diag *diag) SYM_MUST_CHECK;

/* A JSON string of bytes that may not be valid UTF-8 (crash strings are copied verbatim from
 * input, which jansson guarantees is UTF-8; this is the guard for the rest). */
json_t *srv_json_stringn_lossy(const char *s, size_t n);

#endif
