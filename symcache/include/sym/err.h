/* SPDX-License-Identifier: MPL-2.0 */
/* err.h: the one error space of Sigil. Every fallible function returns a sym_err; foreign codes
 * (errno, libpq, CURLcode, ARCHIVE_*, MDB_*) are translated at the boundary. A sym_diag, owned by
 * the caller, carries a human message (the foreign library's own text where there is one). */
#ifndef SYM_ERR_H
#define SYM_ERR_H

#include <stdbool.h>
#include <stdint.h>

#define SYM_MUST_CHECK               __attribute__((warn_unused_result))
#define SYM_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))

#define SYM_ERR_MAP(X)                                 \
    X(NOMEM, -1, "out of memory")                      \
    X(INVAL, -2, "invalid argument")                   \
    X(PARSE, -3, "malformed input")                    \
    X(LIMIT, -4, "input exceeds a configured limit")   \
    X(NOTFOUND, -5, "not found")                       \
    X(EXISTS, -6, "already exists")                    \
    X(IO, -7, "I/O error")                             \
    X(UNAVAIL, -8, "backend unavailable; retry later") \
    X(CORRUPT, -9, "stored data failed validation")    \
    X(DENIED, -10, "permission denied")                \
    X(INTERNAL, -11, "internal error")

typedef enum {
    SYM_OK = 0,
#define SYM_ERR_ENUM(name, val, msg) SYM_E##name = (val),
    SYM_ERR_MAP(SYM_ERR_ENUM)
#undef SYM_ERR_ENUM
} sym_err;

/* Static text for an error code; never NULL (unknown codes give "unknown error"). */
const char *sym_strerror(sym_err e);
/* Symbolic name such as "SYM_EPARSE"; never NULL. */
const char *sym_errname(sym_err e);
/* True for errors worth retrying later (UNAVAIL, IO). */
bool sym_err_retryable(sym_err e);

/* Optional detail for an error, owned by the caller; thread-safe unlike errno. */
struct sym_diag {
    sym_err code;
    uint32_t line;   /* 1-based input line, 0 when not applicable */
    uint64_t offset; /* byte offset into the input, when applicable */
    char msg[200];   /* NUL-terminated, truncated to fit */
};

/* Fills *d (when d is non-NULL) with code and a formatted message; returns code so that callers
 * can write `return sym_diag_set(d, SYM_EPARSE, "...")`. */
sym_err sym_diag_set(struct sym_diag *d, sym_err code, const char *fmt, ...) SYM_PRINTF(3, 4);
/* Resets *d to SYM_OK with an empty message; NULL is a no-op. */
void sym_diag_clear(struct sym_diag *d);

#endif
