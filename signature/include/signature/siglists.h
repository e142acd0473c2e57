/* SPDX-License-Identifier: MPL-2.0 */
/* siglists.h: the signature lists (siglists) that steer frame selection: irrelevant frames,
 * prefix frames, frames that get a line number, and sentinels. They are data files in
 * signature/rules/ (format in signature/rules/README.md), loaded at start and reloadable.
 *
 * Regular-expression lists use Python `re` semantics with match-at-start (re.match on the
 * entries joined with "|"). Every entry is translated to an equivalent PCRE2 pattern; an entry
 * PCRE2 cannot express with exactly Python's meaning is a load error naming the file and line,
 * never a silent skip. Patterns are compiled once (JIT when available) and grouped by the first
 * byte they can match so a lookup runs only the alternatives that could apply.
 *
 * A loaded struct sig_lists is immutable and reference counted: any number of threads may match
 * against it while a reload builds a replacement (see struct sig_lists_cell). */
#ifndef SIG_SIGLISTS_H
#define SIG_SIGLISTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sym/buf.h"
#include "sym/err.h"

enum sig_list_kind {
    SIG_LIST_IRRELEVANT = 0, /* regex: frames skipped entirely */
    SIG_LIST_PREFIX,         /* regex: frames kept, walking continues */
    SIG_LIST_LINE_NUMBERS,   /* regex: frames that get ":<line>" appended */
    SIG_LIST_SENTINELS,      /* literal strings: the earliest one found starts the signature */
    SIG_LIST_COUNT
};

/* File names in a rules directory, ours first; a directory holding Socorro's file names
 * (irrelevant_signature_re.txt ...) is accepted as well, so an operator can point the server
 * at a checkout of upstream lists. */
const char *sig_list_file_name(enum sig_list_kind kind);
const char *sig_list_upstream_file_name(enum sig_list_kind kind);

/* Limits on list files (SYM_ELIMIT beyond them). */
#define SIG_LISTS_MAX_FILE_BYTES ((size_t)4 << 20)
#define SIG_LISTS_MAX_ENTRIES    20000
#define SIG_LISTS_MAX_LINE_BYTES 4096

struct sig_lists;

/* The rules directory compiled into the binary (the source tree's signature/rules), used when
 * nothing else is configured. Static string, never NULL. */
const char *sig_lists_default_dir(void);

/* Loads and compiles the four lists from dir. is_default marks the lists as the built-in ones
 * (only the debug log shows the difference).
 * Returns SYM_OK and *out (one reference, release with sig_lists_unref); SYM_EINVAL for a NULL
 * argument; SYM_ENOTFOUND when a list file is missing; SYM_EIO when one cannot be read;
 * SYM_ELIMIT when a file exceeds the limits above; SYM_EPARSE when a file has no valid header
 * or an entry is not a regex Python accepts or PCRE2 can express identically (diag names the
 * file and line); SYM_ENOMEM; SYM_EINTERNAL when PCRE2 rejects a translated pattern.
 * *out is untouched on failure. */
sym_err sig_lists_load(const char *dir, bool is_default, struct sig_lists **out,
                       struct sym_diag *diag) SYM_MUST_CHECK;

/* Same from in-memory file texts (texts[k] of lens[k] bytes, in the .siglist format, for kind
 * k); origin names them in messages and the debug log. Same errors as sig_lists_load minus the
 * file ones. */
sym_err sig_lists_from_texts(const char *const texts[SIG_LIST_COUNT],
                             const size_t lens[SIG_LIST_COUNT], const char *origin,
                             struct sig_lists **out, struct sym_diag *diag) SYM_MUST_CHECK;

/* Reference counting; both are thread-safe. unref(NULL) is a no-op. */
struct sig_lists *sig_lists_ref(struct sig_lists *l);
void sig_lists_unref(struct sig_lists *l);

/* Where the lists came from (directory or origin), borrowed for the lists' lifetime. */
const char *sig_lists_origin(const struct sig_lists *l);
bool sig_lists_is_default(const struct sig_lists *l);
size_t sig_lists_n_entries(const struct sig_lists *l, enum sig_list_kind kind);
/* True when PCRE2's JIT compiled every pattern. */
bool sig_lists_jit(const struct sig_lists *l);

/* Translates one Python `re` pattern to a PCRE2 pattern with the same meaning (compiled with
 * PCRE2_UTF|PCRE2_UCP and LF newlines, as sig_lists does), appending to out.
 * Returns SYM_OK; SYM_EPARSE with a message in diag when Python would reject the pattern or it
 * uses a construct without an exact PCRE2 equivalent (backreferences, named groups,
 * conditionals, inline flags, \N{...}); SYM_ENOMEM/SYM_ELIMIT from out. */
sym_err sig_regex_translate(const char *py, size_t len, struct sym_buf *out,
                            struct sym_diag *diag) SYM_MUST_CHECK;

/* A thread-safe slot holding the current lists and the built-in lists, for a server that
 * reloads while serving. Readers take references (cheap, a mutex held for two increments);
 * reload loads and compiles outside the lock and swaps only on success. */
struct sig_lists_cell {
    pthread_mutex_t mu;
    struct sig_lists *current;
    struct sig_lists *builtin;
    char *dir;         /* owned */
    char *builtin_dir; /* owned; NULL when the current lists are the built-in ones */
};

/* Loads dir (the configured lists) and, when builtin_dir is non-NULL and differs from dir, the
 * built-in lists too (the shutdown-hang rule always uses those, as Socorro does). dir NULL
 * means the compiled-in default. Errors as sig_lists_load; on failure the cell is left empty
 * and must not be used (cleanup is still allowed). */
sym_err sig_lists_cell_init(struct sig_lists_cell *cell, const char *dir, const char *builtin_dir,
                            struct sym_diag *diag) SYM_MUST_CHECK;
/* Re-reads both directories and swaps atomically. On any error the previous lists stay in
 * service and the error is returned (as sig_lists_load). */
sym_err sig_lists_cell_reload(struct sig_lists_cell *cell, struct sym_diag *diag) SYM_MUST_CHECK;
/* Gives the caller one reference to each (release both with sig_lists_unref). */
void sig_lists_cell_acquire(struct sig_lists_cell *cell, struct sig_lists **lists,
                            struct sig_lists **builtin);
void sig_lists_cell_cleanup(struct sig_lists_cell *cell);

#endif
