/* SPDX-License-Identifier: MPL-2.0 */
/* generator.h: Socorro-compatible crash signature generation. Input is the crash_data tree
 * (value.h) Socorro's generator takes; output is the signature, the user-visible notes, the
 * debug log, and for C/C++/Rust stacks the proto signature and normalized frames. The rule
 * pipeline, notes and normalization follow Socorro's current generator byte for byte, including
 * its behaviour on garbage input (a rule that would raise in Python is recorded as
 * "<Rule>: Rule failed: <text>" and the pipeline goes on).
 *
 * A struct sig_generator holds per-thread scratch (PCRE2 match data, buffers): use one per
 * thread, with any number of threads sharing the same struct sig_lists. */
#ifndef SIG_GENERATOR_H
#define SIG_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "signature/siglists.h"
#include "signature/value.h"
#include "sym/buf.h"
#include "sym/err.h"

/* Socorro's limits. */
#define SIG_MAX_LENGTH 255 /* signatures longer than this are cut to 252 + "..." */
#define SIG_MAX_FRAMES 40  /* expanded frames (inlines included) considered */

/* Byte cap of every string the generator builds (signature, each frame, notes). */
#define SIG_MAX_STRING_BYTES ((size_t)64 << 20)

/* A list of strings stored back to back; each may contain NUL bytes. */
struct sig_strlist {
    struct sym_buf data;
    size_t *offs; /* n + 1 offsets into data */
    size_t n, cap;
};

/* Entry i (i < n) as a pointer into the list and its length; valid until the list changes. */
const char *sig_strlist_get(const struct sig_strlist *l, size_t i, size_t *len);

struct sig_result {
    struct sym_buf signature;       /* always NUL-terminated after sig_generate succeeds */
    struct sig_strlist notes;       /* "<Rule>: <message>" */
    struct sig_strlist debug_log;   /* filled only with SIG_GEN_DEBUG */
    bool has_proto;                 /* proto_signature and frames are set */
    struct sym_buf proto_signature; /* normalized frames joined with " | " */
    struct sig_strlist frames;      /* normalized frames */
};

/* Caller-allocated result; reuse it across calls to avoid reallocating. */
void sig_result_init(struct sig_result *r);
void sig_result_cleanup(struct sig_result *r);

struct sig_generator;

/* Returns SYM_OK and *out; SYM_ENOMEM. */
sym_err sig_generator_new(struct sig_generator **out) SYM_MUST_CHECK;
/* NULL is a no-op. */
void sig_generator_free(struct sig_generator *g);

enum {
    SIG_GEN_DEBUG = 1 << 0, /* collect the debug log */
};

/* Runs the whole rule pipeline on crash_data (an object; anything else behaves like {}).
 * lists are the configured siglists; builtin the built-in ones, used by the shutdown-hang rule
 * as Socorro does (NULL: use lists). out is reset first.
 * Returns SYM_OK (garbage input is not an error: the notes say what happened); SYM_EINVAL when
 * g, lists, crash_data or out is NULL; SYM_ENOMEM; SYM_ELIMIT when a built string would exceed
 * SIG_MAX_STRING_BYTES. On error *out holds no usable result. */
sym_err sig_generate(struct sig_generator *g, const struct sig_lists *lists,
                     const struct sig_lists *builtin, const struct sig_value *crash_data,
                     unsigned flags, struct sig_result *out) SYM_MUST_CHECK;

#endif
