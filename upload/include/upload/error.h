/* SPDX-License-Identifier: MPL-2.0 */
/* error.h: how the upload library reports why an archive was refused. Every function returns a
 * sym_err; the optional struct symup_error adds a machine-readable reason (for status codes and
 * metrics) and the full user-facing text, which the server returns verbatim as
 * {"error": "<msg>"}. The embedded sym_diag carries the same text truncated to its 200 bytes for
 * code that only deals in sym_diag; Tecken's messages quote member names and often exceed that. */
#ifndef SYMUP_ERROR_H
#define SYMUP_ERROR_H

#include <stdbool.h>

#include "sym/err.h"

/* Room for the longest message: a fixed text plus a quoted member name of up to the configured
 * name limit. Longer texts are cut at a UTF-8 character boundary. */
#define SYMUP_MSG_MAX 4096

/* Why an archive or member was refused. The sym_err that goes with each is fixed:
 *   SYM_EPARSE  NOT_ZIP, CORRUPT, BAD_NAME, ENCRYPTED: the bytes are not a usable zip;
 *   SYM_EINVAL  DUPLICATE ... HEADER_MISMATCH: a well-formed zip that breaks an upload rule;
 *   SYM_ELIMIT  TOO_MANY_MEMBERS ... NAME_TOO_LONG: a configured limit (zip-bomb defence);
 *   SYM_EIO     IO: reading the archive or writing a temporary file failed;
 *   SYM_ENOMEM  NOMEM;
 *   SYM_EINVAL  CONFIG: the caller's configuration or arguments are wrong (a server bug, 500). */
#define SYMUP_REASON_MAP(X)                                                                \
    X(NONE, "none")                       /* no error */                                   \
    X(NOT_ZIP, "not_zip")                 /* "File is not a zip file" */                   \
    X(CORRUPT, "corrupt")                 /* damaged member data or directory */           \
    X(BAD_NAME, "bad_name")               /* member name is not valid UTF-8 */             \
    X(ENCRYPTED, "encrypted")             /* password-protected member */                  \
    X(METHOD, "method")                   /* compression other than store/deflate/bzip2 */ \
    X(DUPLICATE, "duplicate")             /* same name, different sizes */                 \
    X(UNSAFE_PATH, "unsafe_path")         /* absolute, "." or ".." component */            \
    X(NOT_REGULAR, "not_regular")         /* symlink, hard link, device... */              \
    X(SNIPPET, "snippet")                 /* name contains a forbidden snippet */          \
    X(PATTERN, "pattern")                 /* "Unrecognized file pattern..." */             \
    X(KEY_TOO_LONG, "key_too_long")       /* component > 255 or key > 300 */               \
    X(KEY_CONFLICT, "key_conflict")       /* two names map to one stored key */            \
    X(EMPTY, "empty")                     /* nothing to upload */                          \
    X(HEADER_MISMATCH, "header_mismatch") /* strict mode: MODULE vs path */                \
    X(TOO_MANY_MEMBERS, "too_many_members")                                                \
    X(MEMBER_TOO_LARGE, "member_too_large")                                                \
    X(TOTAL_TOO_LARGE, "total_too_large")                                                  \
    X(RATIO, "ratio")                                                                      \
    X(NAME_TOO_LONG, "name_too_long")                                                      \
    X(IO, "io")                                                                            \
    X(NOMEM, "nomem")                                                                      \
    X(CONFIG, "config")

enum symup_reason {
#define SYMUP_REASON_ENUM(name, text) SYMUP_R_##name,
    SYMUP_REASON_MAP(SYMUP_REASON_ENUM)
#undef SYMUP_REASON_ENUM
};

/* Caller-owned; every function that takes one may be passed NULL. On success the functions leave
 * it untouched; on failure they fill all of it. Thread-safe as long as each thread uses its own. */
struct symup_error {
    sym_err code;             /* the value the function returned */
    enum symup_reason reason; /* the cause, see above */
    char msg[SYMUP_MSG_MAX];  /* user-facing text, NUL-terminated */
    struct sym_diag diag;     /* code + msg truncated to 200 bytes */
};

/* Stable lower-case name of a reason ("pattern", "ratio"...), for metrics and logs; never NULL. */
const char *symup_reason_name(enum symup_reason r);

/* True when the archive (the client's input) caused the error, so that the caller answers with
 * e->msg as the client-facing reason: every reason from NOT_ZIP to NAME_TOO_LONG. False for NONE,
 * IO, NOMEM and CONFIG, which are the server's problems (their texts are for logs). */
bool symup_error_is_input(const struct symup_error *e);

/* Resets *e to SYM_OK / SYMUP_R_NONE with empty texts; NULL is a no-op. */
void symup_error_clear(struct symup_error *e);

#endif
