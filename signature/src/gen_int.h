/* SPDX-License-Identifier: MPL-2.0 */
/* gen_int.h: state shared by the rule pipeline (generator.c, java.c) and frame normalization
 * (normalize.c). Internal to signature/.
 *
 * Internal functions return an int: 0 success, SIG_RAISED when Socorro's Python would have
 * raised (the exception text is in g->exc and the calling rule is recorded as failed), or a
 * negative sym_err for real failures (out of memory, limits). */
#ifndef SIG_GEN_INT_H
#define SIG_GEN_INT_H

#include "siglists_int.h"
#include "signature/generator.h"

#define SIG_RAISED 1

struct sig_generator {
    pcre2_match_data *md;
    struct sym_buf s1, s2, s3; /* normalization stages */
    struct sym_buf mod;        /* lowercased module of the current frame */
    struct sym_buf exc;        /* text of the exception a rule raised */
    struct sym_buf next_sig;   /* signature being built by a rule */
    struct sym_buf tmp;
    size_t *marks; /* tokenizer: positions of top-level spaces */
    unsigned char *stack;
    size_t marks_cap, stack_cap;
    size_t *picked;         /* indexes of frames picked for the signature */
    struct sig_arena arena; /* JSON parsed by the shutdown-timeout rule */
};

/* Formats the exception text and returns SIG_RAISED. */
int sig_raise(struct sig_generator *g, const char *fmt, ...) SYM_PRINTF(2, 3);

/* One stack entry as Socorro's normalize_frame() sees it (an inline pseudo-frame takes
 * function/file/line from the inline and module/offset from its frame). NULL means missing. */
struct sig_xframe {
    const struct sig_value *function, *module, *file, *line, *offset, *unloaded_modules;
    bool has_module_key, has_file_key, has_function_key;
};

/* Normalizes one entry, appending the text to out. */
int sig_normalize_frame(struct sig_generator *g, const struct sig_lists *lists,
                        const struct sig_xframe *f, struct sym_buf *out);

/* parse_source_file(): the source path inside a VCS-qualified file name, or false. */
bool sig_parse_source_file(const char *file, size_t len, const char **path, size_t *path_len);

/* The Java tools of SignatureGenerationRule: write the signature text to sig and push their
 * notes (already prefixed with the rule name) to notes. */
int sig_java_stack_trace(struct sig_generator *g, const struct sig_value *trace,
                         struct sym_buf *sig, struct sig_strlist *notes);
int sig_java_exception(struct sig_generator *g, const struct sig_value *exc, struct sym_buf *sig,
                       struct sig_strlist *notes);
/* Appends one entry to a string list. */
int sig_strlist_push(struct sig_strlist *l, const char *s, size_t n);

/* Buffer helpers that turn a failed sym_buf into the int convention. */
static inline int buf_rc(const struct sym_buf *b)
{
    return b->err == SYM_OK ? 0 : (int)b->err;
}

#endif
