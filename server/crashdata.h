/* SPDX-License-Identifier: MPL-2.0 */
/* crashdata.h: crash_data JSON (jansson) -> the signature library's input tree, and the
 * Socorro processor's assembly of crash_data from a stackwalk (rust-minidump JSON shape) plus
 * crash annotations. Tolerant: any JSON value converts (the generator reproduces Socorro's
 * behaviour for garbage types); only size and depth are bounded. */
#ifndef SRV_CRASHDATA_H
#define SRV_CRASHDATA_H

#include <jansson.h>

#include "signature/value.h"
#include "sym/err.h"

/* Bounds on a converted document (SYM_ELIMIT beyond them). */
#define SRV_CRASHDATA_MAX_DEPTH 512
#define SRV_CRASHDATA_MAX_NODES ((size_t)4 << 20)

/* Owns the converted tree. */
struct srv_crashdata {
    struct sig_arena arena;
    struct sig_value root;
};

/* Converts any JSON value (normally an object) into out->root; out is caller-allocated and
 * initialized here. Strings and keys are borrowed from j: j must outlive out. Returns SYM_OK;
 * SYM_EINVAL for NULL arguments; SYM_ELIMIT when the document is deeper or larger than the bounds
 * above; SYM_ENOMEM. On failure out holds nothing to free (srv_crashdata_cleanup is still allowed).
 */
sym_err srv_crashdata_from_json(const json_t *j, struct srv_crashdata *out,
                                struct sym_diag *diag) SYM_MUST_CHECK;
/* NULL is a no-op. */
void srv_crashdata_cleanup(struct srv_crashdata *cd);

/* Builds the crash_data object Socorro's processor hands its signature generator:
 *   crashing_thread <- stackwalk.crash_info.crashing_thread
 *   reason          <- stackwalk.crash_info.type
 *   threads         <- stackwalk.threads
 *   os              <- stackwalk.system_info.os
 *   mdsw_status_string <- stackwalk.status (when not "OK")
 * and from the annotations (the `extra` object a crash reporter sends; values are strings):
 *   AbortMessage -> abort_message, AsyncShutdownTimeout -> async_shutdown_timeout,
 *   IPCChannelError -> ipc_channel_error, IPCMessageName -> ipc_message_name,
 *   OOMAllocationSize -> oom_allocation_size (an integer, or null when not one),
 *   JSLargeAllocationFailure -> js_large_allocation_failure, JavaStackTrace ->
 *   java_stack_trace, JavaException -> java_exception (parsed JSON), MozCrashReason ->
 *   moz_crash_reason, Hang -> hang, additional_minidumps (list or comma-separated string) ->
 *   additional_minidumps (list).
 * Either input may be NULL or of the wrong type (treated as empty). Returns SYM_OK and a new
 * object in *out (caller owns the reference); SYM_ENOMEM. */
sym_err srv_crashdata_build(const json_t *stackwalk, const json_t *annotations,
                            json_t **out) SYM_MUST_CHECK;

#endif
