/* SPDX-License-Identifier: MPL-2.0 */
/* generator.c: Socorro's signature rule pipeline. Rules run in Socorro's order; each is a
 * predicate plus an action rewriting the signature. A rule that would raise in Python is
 * recorded as "<Rule>: Rule failed: <text>" and the pipeline continues with whatever the rule
 * had already written, as Socorro's generator does. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gen_int.h"
#include "pystr_int.h"
#include "signature/json.h"
#include "sym/alloc.h"

/* ================================================================ */
/* string lists and results                                         */
/* ================================================================ */

static void strlist_init(struct sig_strlist *l)
{
    sym_buf_init(&l->data, SIG_MAX_STRING_BYTES);
    l->offs = NULL;
    l->n = l->cap = 0;
}

static void strlist_cleanup(struct sig_strlist *l)
{
    sym_buf_cleanup(&l->data);
    sym_free(l->offs);
    l->offs = NULL;
    l->n = l->cap = 0;
}

static void strlist_reset(struct sig_strlist *l)
{
    sym_buf_reset(&l->data);
    l->n = 0;
    if (l->offs)
        l->offs[0] = 0;
}

/* Marks the end of an entry appended to l->data since the previous commit. */
static int strlist_commit(struct sig_strlist *l)
{
    if (l->data.err != SYM_OK)
        return (int)l->data.err;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        size_t *n = sym_reallocarray(l->offs, cap, sizeof(size_t));
        if (n == NULL)
            return SYM_ENOMEM;
        if (l->offs == NULL)
            n[0] = 0;
        l->offs = n;
        l->cap = cap;
    }
    if (l->n == 0)
        l->offs[0] = 0;
    l->offs[++l->n] = l->data.len;
    return 0;
}

int sig_strlist_push(struct sig_strlist *l, const char *s, size_t n)
{
    sym_buf_append(&l->data, s, n);
    return strlist_commit(l);
}

const char *sig_strlist_get(const struct sig_strlist *l, size_t i, size_t *len)
{
    if (i >= l->n) {
        *len = 0;
        return "";
    }
    *len = l->offs[i + 1] - l->offs[i];
    /* Entries that are all empty leave the buffer unallocated. */
    return l->data.data ? l->data.data + l->offs[i] : "";
}

static bool strlist_eq(const struct sig_strlist *l, size_t i, const char *s, size_t n)
{
    size_t len;
    const char *e = sig_strlist_get(l, i, &len);
    return len == n && memcmp(e, s, n) == 0;
}

void sig_result_init(struct sig_result *r)
{
    sym_buf_init(&r->signature, SIG_MAX_STRING_BYTES);
    strlist_init(&r->notes);
    strlist_init(&r->debug_log);
    r->has_proto = false;
    sym_buf_init(&r->proto_signature, SIG_MAX_STRING_BYTES);
    strlist_init(&r->frames);
}

void sig_result_cleanup(struct sig_result *r)
{
    if (r == NULL)
        return;
    sym_buf_cleanup(&r->signature);
    strlist_cleanup(&r->notes);
    strlist_cleanup(&r->debug_log);
    sym_buf_cleanup(&r->proto_signature);
    strlist_cleanup(&r->frames);
}

static void result_reset(struct sig_result *r)
{
    sym_buf_reset(&r->signature);
    sym_buf_append(&r->signature, "", 0); /* allocate, so data is never NULL */
    strlist_reset(&r->notes);
    strlist_reset(&r->debug_log);
    r->has_proto = false;
    sym_buf_reset(&r->proto_signature);
    strlist_reset(&r->frames);
}

/* ================================================================ */
/* generator                                                        */
/* ================================================================ */

sym_err sig_generator_new(struct sig_generator **out)
{
    struct sig_generator *g = sym_calloc(1, sizeof(*g));
    if (g == NULL)
        return SYM_ENOMEM;
    g->md = pcre2_match_data_create(1, NULL);
    if (g->md == NULL) {
        sym_free(g);
        return SYM_ENOMEM;
    }
    struct sym_buf *bufs[] = {&g->s1, &g->s2, &g->s3, &g->mod, &g->exc, &g->next_sig, &g->tmp};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        sym_buf_init(bufs[i], SIG_MAX_STRING_BYTES);
    sig_arena_init(&g->arena, 64u << 20);
    *out = g;
    return SYM_OK;
}

void sig_generator_free(struct sig_generator *g)
{
    if (g == NULL)
        return;
    pcre2_match_data_free(g->md);
    struct sym_buf *bufs[] = {&g->s1, &g->s2, &g->s3, &g->mod, &g->exc, &g->next_sig, &g->tmp};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        sym_buf_cleanup(bufs[i]);
    sym_free(g->marks);
    sym_free(g->stack);
    sym_free(g->picked);
    sig_arena_cleanup(&g->arena);
    sym_free(g);
}

int sig_raise(struct sig_generator *g, const char *fmt, ...)
{
    sym_buf_reset(&g->exc);
    va_list ap;
    va_start(ap, fmt);
    sym_buf_vprintf(&g->exc, fmt, ap);
    va_end(ap);
    return g->exc.err == SYM_OK ? SIG_RAISED : (int)g->exc.err;
}

/* ================================================================ */
/* one run                                                          */
/* ================================================================ */

/* The top-level crash_data keys the rules read, resolved once per run. */
static const char *const cd_keys[] = {
    "java_stack_trace",
    "java_exception",
    "crashing_thread",
    "threads",
    "os",
    "mdsw_status_string",
    "reason",
    "oom_allocation_size",
    "js_large_allocation_failure",
    "abort_message",
    "async_shutdown_timeout",
    "ipc_channel_error",
    "additional_minidumps",
    "ipc_message_name",
    "hang",
};
#define N_CD_KEYS (sizeof(cd_keys) / sizeof(cd_keys[0]))

struct run {
    struct sig_generator *g;
    const struct sig_lists *lists;
    const struct sig_lists *builtin;
    const struct sig_value *cd;
    bool debug;
    struct sig_result *r;
    const struct sig_value *keys[N_CD_KEYS];
};

static void resolve_keys(struct run *x)
{
    memset(x->keys, 0, sizeof(x->keys));
    if (x->cd->type != SIG_T_OBJ)
        return;
    /* Forward, so the last of duplicate keys wins as in a dict. */
    for (size_t i = 0; i < x->cd->u.obj.n; i++) {
        const struct sig_member *m = &x->cd->u.obj.members[i];
        for (size_t k = 0; k < N_CD_KEYS; k++) {
            if (m->key_len == strlen(cd_keys[k]) && memcmp(m->key, cd_keys[k], m->key_len) == 0) {
                x->keys[k] = &m->value;
                break;
            }
        }
    }
}

static const struct sig_value *cd_get(const struct run *x, const char *key)
{
    for (size_t k = 0; k < N_CD_KEYS; k++)
        if (cd_keys[k] == key || strcmp(cd_keys[k], key) == 0)
            return x->keys[k];
    return sig_value_get(x->cd, key);
}

/* Appends "<rule>: " to a list and returns its buffer for the message. */
static struct sym_buf *line_begin(struct sig_strlist *l, const char *rule)
{
    sym_buf_append_str(&l->data, rule);
    sym_buf_append_str(&l->data, ": ");
    return &l->data;
}

static int note(struct run *x, const char *rule, const char *msg, size_t len)
{
    struct sym_buf *b = line_begin(&x->r->notes, rule);
    sym_buf_append(b, msg, len);
    return strlist_commit(&x->r->notes);
}

static int note_str(struct run *x, const char *rule, const char *msg)
{
    return note(x, rule, msg, strlen(msg));
}

static int debug(struct run *x, const char *rule, const char *msg, size_t len)
{
    if (!x->debug)
        return 0;
    struct sym_buf *b = line_begin(&x->r->debug_log, rule);
    sym_buf_append(b, msg, len);
    return strlist_commit(&x->r->debug_log);
}

static int debug_str(struct run *x, const char *rule, const char *msg)
{
    return debug(x, rule, msg, strlen(msg));
}

/* debug line of the form <prefix>"<s>"<suffix> */
static int debug_quoted(struct run *x, const char *rule, const char *prefix, const char *s,
                        size_t n, const char *suffix)
{
    if (!x->debug)
        return 0;
    struct sym_buf *b = line_begin(&x->r->debug_log, rule);
    sym_buf_append_str(b, prefix);
    sym_buf_append_char(b, '"');
    sym_buf_append(b, s, n);
    sym_buf_append_char(b, '"');
    sym_buf_append_str(b, suffix);
    return strlist_commit(&x->r->debug_log);
}

/* Replaces the signature with g->next_sig, logging the change as Socorro does. */
static int commit_signature(struct run *x, const char *rule)
{
    struct sig_generator *g = x->g;
    if (g->next_sig.err != SYM_OK)
        return (int)g->next_sig.err;
    if (x->debug) {
        struct sym_buf *b = line_begin(&x->r->debug_log, rule);
        sym_buf_append_str(b, "change signature: \"");
        sym_buf_append(b, x->r->signature.data, x->r->signature.len);
        sym_buf_append_str(b, "\" -> \"");
        sym_buf_append(b, g->next_sig.data ? g->next_sig.data : "", g->next_sig.len);
        sym_buf_append_char(b, '"');
        int rc = strlist_commit(&x->r->debug_log);
        if (rc != 0)
            return rc;
    }
    struct sym_buf t = x->r->signature;
    x->r->signature = g->next_sig;
    g->next_sig = t;
    if (x->r->signature.data == NULL)
        sym_buf_append(&x->r->signature, "", 0);
    return buf_rc(&x->r->signature);
}

static struct sym_buf *sig_begin(struct run *x)
{
    sym_buf_reset(&x->g->next_sig);
    return &x->g->next_sig;
}

#define SIG(x) ((x)->r->signature.data), ((x)->r->signature.len)

/* ================================================================ */
/* crashing thread                                                  */
/* ================================================================ */

/* get_crashing_thread(): int() of the value, 0 when Python's int() would raise. */
static int64_t crashing_thread_index(const struct sig_value *v, bool *nomem)
{
    *nomem = false;
    if (v == NULL)
        return 0;
    switch (v->type) {
    case SIG_T_BOOL:
        return v->u.b ? 1 : 0;
    case SIG_T_INT:
        return v->u.i;
    case SIG_T_REAL: {
        double d = v->u.r;
        if (d != d || d >= 9.3e18 || d <= -9.3e18)
            return d != d ? 0 : (d > 0 ? INT64_MAX : INT64_MIN);
        return (int64_t)d;
    }
    case SIG_T_STR: {
        struct py_int pi;
        if (!py_parse_int(v->u.s.p, v->u.s.len, 10, &pi, nomem))
            return 0;
        int64_t r = py_int_to_i64(&pi);
        py_int_release(&pi);
        return r;
    }
    default:
        return 0;
    }
}

/* glom(crash_data, "threads.<n>", default={}): NULL when there is no such thread. */
static const struct sig_value *thread_at(const struct run *x, int64_t idx)
{
    const struct sig_value *threads = cd_get(x, "threads");
    if (threads == NULL || threads->type != SIG_T_LIST)
        return NULL;
    int64_t n = (int64_t)threads->u.list.n;
    if (idx < 0) {
        if (idx < -n)
            return NULL;
        idx += n;
    }
    if (idx >= n)
        return NULL;
    return &threads->u.list.items[idx];
}

/* ================================================================ */
/* C/C++/Rust signature                                             */
/* ================================================================ */

static const struct {
    const char *file, *function;
    struct sig_value fixed;
} rust_fixes[] = {
#define RF(file, fn, fixed)                       \
    {                                             \
        file, fn,                                 \
        {                                         \
            SIG_T_STR,                            \
            {                                     \
                .s = { fixed, sizeof(fixed) - 1 } \
            }                                     \
        }                                         \
    }
    RF("src/liballoc/raw_vec.rs", "capacity_overflow", "alloc::raw_vec::capacity_overflow"),
    RF("src/libcore/option.rs", "expect_failed", "core::option::expect_failed"),
    RF("src/libcore/panicking.rs", "panic_bounds_check", "core::panicking::panic_bounds_check"),
    RF("src/libcore/panicking.rs", "panic_fmt", "core::panicking::panic_fmt"),
    RF("src/libcore/panicking.rs", "panic", "core::panicking::panic"),
    RF("src/libcore/slice/mod.rs", "slice_index_order_fail", "core::slice::slice_index_order_fail"),
    RF("src/libstd/panicking.rs", "begin_panic_fmt", "std::panicking::begin_panic_fmt"),
    RF("src/libstd/panicking.rs", "continue_panic_fmt", "std::panicking::continue_panic_fmt"),
    RF("src/libstd/panicking.rs", "rust_panic_with_hook", "std::panicking::rust_panic_with_hook"),
#undef RF
};

/* fix_missing_module(): Rust 1.34 panic symbols lost their module path. */
static int fix_rust_function(struct sig_generator *g, struct sig_xframe *f)
{
    if (!f->has_file_key || !f->has_function_key)
        return 0;
    const char *path = NULL;
    size_t pl = 0;
    bool have_path = false;
    if (sig_value_truthy(f->file)) {
        const char *s;
        size_t n;
        if (!sig_value_str(f->file, &s, &n))
            return sig_raise(g, "'%s' object has no attribute 'split'", py_type_name(f->file));
        have_path = sig_parse_source_file(s, n, &path, &pl);
    }
    if (f->function && (f->function->type == SIG_T_LIST || f->function->type == SIG_T_OBJ))
        return sig_raise(g, "unhashable type: '%s'", py_type_name(f->function));
    const char *fn;
    size_t fl;
    if (!have_path || !sig_value_str(f->function, &fn, &fl))
        return 0;
    for (size_t i = 0; i < sizeof(rust_fixes) / sizeof(rust_fixes[0]); i++) {
        if (strlen(rust_fixes[i].file) == pl && memcmp(rust_fixes[i].file, path, pl) == 0 &&
            strlen(rust_fixes[i].function) == fl && memcmp(rust_fixes[i].function, fn, fl) == 0) {
            f->function = &rust_fixes[i].fixed;
            return 0;
        }
    }
    return 0;
}

/* Fix-ups, Windows module lowercasing, normalization; appends one entry to r->frames. */
static int add_frame(struct run *x, const struct sig_lists *lists, struct sig_xframe *f,
                     bool lower_modules)
{
    struct sig_generator *g = x->g;
    int rc = fix_rust_function(g, f);
    if (rc != 0)
        return rc;
    struct sig_value lowered;
    if (lower_modules && f->has_module_key && f->module != NULL && f->module->type != SIG_T_NULL) {
        const char *s;
        size_t n;
        if (!sig_value_str(f->module, &s, &n))
            return sig_raise(g, "'%s' object has no attribute 'lower'", py_type_name(f->module));
        sym_buf_reset(&g->mod);
        py_lower(&g->mod, s, n);
        if (g->mod.err != SYM_OK)
            return (int)g->mod.err;
        lowered = sig_value_strn(g->mod.data ? g->mod.data : "", g->mod.len);
        f->module = &lowered;
    }
    rc = sig_normalize_frame(g, lists, f, &x->r->frames.data);
    if (rc != 0)
        return rc;
    return strlist_commit(&x->r->frames);
}

/* create_frame_list(): inlines first, then the frame; at most SIG_MAX_FRAMES entries. */
static int build_frames(struct run *x, const struct sig_lists *lists,
                        const struct sig_value *thread, bool lower_modules)
{
    struct sig_generator *g = x->g;
    if (thread == NULL)
        return 0;
    if (thread->type != SIG_T_OBJ)
        return sig_raise(g, "'%s' object has no attribute 'get'", py_type_name(thread));
    const struct sig_value *frames = sig_value_get(thread, "frames");
    if (frames == NULL)
        return 0;
    switch (frames->type) {
    case SIG_T_LIST:
        break;
    case SIG_T_STR:
        if (frames->u.s.len == 0)
            return 0;
        return sig_raise(g, "'str' object has no attribute 'get'");
    case SIG_T_OBJ:
        if (frames->u.obj.n == 0)
            return 0;
        return sig_raise(g, "'str' object has no attribute 'get'");
    default:
        return sig_raise(g, "'%s' object is not iterable", py_type_name(frames));
    }
    size_t count = 0;
    for (size_t i = 0; i < frames->u.list.n && count < SIG_MAX_FRAMES; i++) {
        const struct sig_value *fr = &frames->u.list.items[i];
        if (fr->type != SIG_T_OBJ)
            return sig_raise(g, "'%s' object has no attribute 'get'", py_type_name(fr));
        const struct sig_value *module = sig_value_get(fr, "module");
        const struct sig_value *offset = sig_value_get(fr, "offset");
        const struct sig_value *inlines = sig_value_get(fr, "inlines");
        if (sig_value_truthy(inlines)) {
            if (inlines->type != SIG_T_LIST)
                return sig_raise(g, "'%s' object has no attribute 'get'",
                                 inlines->type == SIG_T_OBJ || inlines->type == SIG_T_STR
                                     ? "str"
                                     : py_type_name(inlines));
            for (size_t k = 0; k < inlines->u.list.n && count < SIG_MAX_FRAMES; k++) {
                const struct sig_value *in = &inlines->u.list.items[k];
                if (in->type != SIG_T_OBJ)
                    return sig_raise(g, "'%s' object has no attribute 'get'", py_type_name(in));
                struct sig_xframe xf = {
                    .function = sig_value_get(in, "function"),
                    .file = sig_value_get(in, "file"),
                    .line = sig_value_get(in, "line"),
                    .module = module,
                    .offset = offset,
                    .unloaded_modules = NULL,
                    .has_module_key = true,
                    .has_file_key = true,
                    .has_function_key = true,
                };
                int rc = add_frame(x, lists, &xf, lower_modules);
                if (rc != 0)
                    return rc;
                count++;
            }
            if (count >= SIG_MAX_FRAMES)
                break;
        }
        struct sig_xframe xf = {
            .function = sig_value_get(fr, "function"),
            .file = sig_value_get(fr, "file"),
            .line = sig_value_get(fr, "line"),
            .module = module,
            .offset = offset,
            .unloaded_modules = sig_value_get(fr, "unloaded_modules"),
        };
        xf.has_module_key = module != NULL;
        xf.has_file_key = xf.file != NULL;
        xf.has_function_key = xf.function != NULL;
        int rc = add_frame(x, lists, &xf, lower_modules);
        if (rc != 0)
            return rc;
        count++;
    }
    return 0;
}

static bool dedupe_candidate(const char *e, size_t n)
{
    if (py_startswith(e, n, "(unloaded"))
        return false;
    if ((n == 3 && memcmp(e, "XUL", 3) == 0) || (n == 14 && memcmp(e, "<name omitted>", 14) == 0) ||
        py_startswith(e, n, "<unknown in"))
        return true;
    /* lower().endswith(".dll") / (".so"): only ASCII letters can lowercase into these. */
    if (n >= 4 && e[n - 4] == '.' && (e[n - 3] | 0x20) == 'd' && (e[n - 2] | 0x20) == 'l' &&
        (e[n - 1] | 0x20) == 'l')
        return true;
    if (n >= 3 && e[n - 3] == '.' && (e[n - 2] | 0x20) == 's' && (e[n - 1] | 0x20) == 'o')
        return true;
    return false;
}

static const char RULE_GEN[] = "SignatureGenerationRule";

/* CSignatureTool.generate(): sentinels, then irrelevant/prefix walking. Writes the signature
 * text to g->next_sig. */
static int c_signature(struct run *x, const struct sig_lists *lists, int64_t thread_no)
{
    struct sig_generator *g = x->g;
    const struct sig_strlist *L = &x->r->frames;
    size_t start = 0;
    bool found = false;
    for (size_t s = 0; s < lists->n_sentinels; s++) {
        for (size_t i = 0; i < L->n; i++) {
            if (strlist_eq(L, i, lists->sentinels[s], lists->sentinel_lens[s])) {
                if (!found || i < start)
                    start = i;
                found = true;
                break;
            }
        }
    }
    if (found && x->debug) {
        size_t n;
        const char *e = sig_strlist_get(L, start, &n);
        char idx[32];
        snprintf(idx, sizeof(idx), " index %zu", start);
        int rc = debug_quoted(x, RULE_GEN, "sentinel; starting at ", e, n, idx);
        if (rc != 0)
            return rc;
    }
    if (g->picked == NULL) {
        g->picked = sym_calloc(SIG_MAX_FRAMES + 1, sizeof(size_t));
        if (g->picked == NULL)
            return SYM_ENOMEM;
    }
    size_t n_picked = 0;
    for (size_t i = start; i < L->n; i++) {
        size_t n;
        const char *e = sig_strlist_get(L, i, &n);
        int rc;
        if (n == 0) {
            rc = debug_str(x, RULE_GEN, "empty string; ignoring: \"\"");
            if (rc != 0)
                return rc;
            continue;
        }
        if (sig_matcher_match(&lists->m[SIG_LIST_IRRELEVANT], e, n, g->md)) {
            rc = debug_quoted(x, RULE_GEN, "irrelevant; ignoring: ", e, n, "");
            if (rc != 0)
                return rc;
            continue;
        }
        if (n_picked > 0 && dedupe_candidate(e, n) && strlist_eq(L, g->picked[n_picked - 1], e, n))
            continue;
        g->picked[n_picked++] = i;
        if (!sig_matcher_match(&lists->m[SIG_LIST_PREFIX], e, n, g->md)) {
            rc = debug_quoted(x, RULE_GEN, "not a prefix; stop: ", e, n, "");
            if (rc != 0)
                return rc;
            break;
        }
        rc = debug_quoted(x, RULE_GEN, "prefix; continue iterating: ", e, n, "");
        if (rc != 0)
            return rc;
    }
    struct sym_buf *out = sig_begin(x);
    for (size_t k = 0; k < n_picked; k++) {
        size_t n;
        const char *e = sig_strlist_get(L, g->picked[k], &n);
        if (k)
            sym_buf_append_str(out, " | ");
        sym_buf_append(out, e, n);
    }
    if (out->len == 0) {
        struct sym_buf *b = line_begin(&x->r->notes, RULE_GEN);
        sym_buf_printf(b, "CSignatureTool: no frame data for crashing thread (%lld)",
                       (long long)thread_no);
        int rc = strlist_commit(&x->r->notes);
        if (rc != 0)
            return rc;
        if (start < L->n) {
            size_t n;
            const char *e = sig_strlist_get(L, start, &n);
            sym_buf_append(out, e, n);
        } else {
            sym_buf_append_str(out, "EMPTY: no frame data available");
        }
    }
    return buf_rc(out);
}

/* SignatureGenerationRule.action() */
static int rule_generation(struct run *x, const struct sig_lists *lists, bool thread_zero)
{
    struct sig_generator *g = x->g;
    int rc;
    if (sig_value_truthy(cd_get(x, "java_stack_trace"))) {
        rc = debug_str(x, RULE_GEN, "using JavaSignatureTool");
        if (rc == 0)
            rc = sig_java_stack_trace(g, cd_get(x, "java_stack_trace"), sig_begin(x), &x->r->notes);
        return rc != 0 ? rc : commit_signature(x, RULE_GEN);
    }
    if (sig_value_truthy(cd_get(x, "java_exception"))) {
        rc = debug_str(x, RULE_GEN, "using JavaExceptionSignatureTool");
        if (rc == 0)
            rc = sig_java_exception(g, cd_get(x, "java_exception"), sig_begin(x), &x->r->notes);
        return rc != 0 ? rc : commit_signature(x, RULE_GEN);
    }
    rc = debug_str(x, RULE_GEN, "using CSignatureTool");
    if (rc != 0)
        return rc;
    if (x->debug) {
        struct sym_buf *b = line_begin(&x->r->debug_log, RULE_GEN);
        if (sig_lists_is_default(lists))
            sym_buf_append_str(b, "using included signature lists");
        else
            sym_buf_printf(b, "using signature lists from %s", sig_lists_origin(lists));
        rc = strlist_commit(&x->r->debug_log);
        if (rc != 0)
            return rc;
    }
    bool nomem;
    int64_t thread_no =
        thread_zero ? 0 : crashing_thread_index(cd_get(x, "crashing_thread"), &nomem);
    if (!thread_zero && nomem)
        return SYM_ENOMEM;
    const struct sig_value *os = cd_get(x, "os");
    bool windows = os && os->type == SIG_T_STR && os->u.s.len == 10 &&
                   memcmp(os->u.s.p, "Windows NT", 10) == 0;

    /* Frames are built into a fresh list; a failure part-way leaves the previous proto
     * signature (if any) as it was, like Python's untouched result.extra. */
    struct sig_strlist saved = x->r->frames;
    strlist_init(&x->r->frames);
    rc = build_frames(x, lists, thread_at(x, thread_no), windows);
    if (rc == 0)
        rc = c_signature(x, lists, thread_no);
    if (rc != 0 || x->r->frames.n == 0) {
        strlist_cleanup(&x->r->frames);
        x->r->frames = saved;
    } else {
        strlist_cleanup(&saved);
        x->r->has_proto = true;
        sym_buf_reset(&x->r->proto_signature);
        for (size_t i = 0; i < x->r->frames.n; i++) {
            size_t n;
            const char *e = sig_strlist_get(&x->r->frames, i, &n);
            if (i)
                sym_buf_append_str(&x->r->proto_signature, " | ");
            sym_buf_append(&x->r->proto_signature, e, n);
        }
        rc = buf_rc(&x->r->proto_signature);
    }
    if (rc != 0)
        return rc;
    if (g->next_sig.len == 0)
        return 0;
    return commit_signature(x, RULE_GEN);
}

/* ================================================================ */
/* the other rules                                                  */
/* ================================================================ */

static int rule_stackwalker_error(struct run *x)
{
    const struct sig_value *st = cd_get(x, "mdsw_status_string");
    if (!py_startswith(SIG(x), "EMPTY") || !sig_value_truthy(st))
        return 0;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append(b, SIG(x));
    sym_buf_append_str(b, "; ");
    py_str(b, st);
    return commit_signature(x, "StackwalkerErrorSignatureRule");
}

/* Python's `needle in value` for str, list and dict values; raises for the rest. */
static int py_in(struct run *x, const struct sig_value *v, const char *needle, bool *found)
{
    size_t nl = strlen(needle);
    *found = false;
    switch (v->type) {
    case SIG_T_STR:
        *found = py_contains(v->u.s.p, v->u.s.len, needle, nl);
        return 0;
    case SIG_T_LIST:
        for (size_t i = 0; i < v->u.list.n; i++) {
            const struct sig_value *it = &v->u.list.items[i];
            if (it->type == SIG_T_STR && it->u.s.len == nl && memcmp(it->u.s.p, needle, nl) == 0)
                *found = true;
        }
        return 0;
    case SIG_T_OBJ:
        *found = sig_value_get(v, needle) != NULL;
        return 0;
    default:
        return sig_raise(x->g, "argument of type '%s' is not iterable", py_type_name(v));
    }
}

static int rule_bad_hardware(struct run *x)
{
    const struct sig_value *reason = cd_get(x, "reason");
    if (!sig_value_truthy(reason))
        return 0;
    bool found;
    int rc = py_in(x, reason, "STATUS_DEVICE_DATA_ERROR", &found);
    if (rc != 0 || !found)
        return rc;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, "bad hardware | ");
    sym_buf_append(b, SIG(x));
    return commit_signature(x, "BadHardware");
}

static bool str_equals(const struct sig_value *v, const char *s)
{
    size_t n = strlen(s);
    return v && v->type == SIG_T_STR && v->u.s.len == n && memcmp(v->u.s.p, s, n) == 0;
}

static int rule_oom(struct run *x)
{
    static const char RULE[] = "OOMSignature";
    static const char *const fragments[] = {"NS_ABORT_OOM", "mozalloc_handle_oom",
                                            "CrashAtUnhandlableOOM", "AutoEnterOOMUnsafeRegion",
                                            "alloc::oom::oom"};
    const struct sig_value *size = cd_get(x, "oom_allocation_size");
    const struct sig_value *jslarge = cd_get(x, "js_large_allocation_failure");
    bool fire = sig_value_truthy(size);
    for (size_t i = 0; !fire && x->r->signature.len && i < 5; i++)
        fire = py_contains(SIG(x), fragments[i], strlen(fragments[i]));
    if (!fire) {
        bool nomem;
        int64_t idx = crashing_thread_index(cd_get(x, "crashing_thread"), &nomem);
        if (nomem)
            return SYM_ENOMEM;
        const struct sig_value *thread = thread_at(x, idx);
        if (sig_value_truthy(thread)) {
            if (thread->type != SIG_T_OBJ)
                return sig_raise(x->g, "'%s' object has no attribute 'get'", py_type_name(thread));
            const struct sig_value *lev = sig_value_get(thread, "last_error_value");
            fire = str_equals(lev, "ERROR_COMMITMENT_LIMIT") ||
                   str_equals(lev, "ERROR_NOT_ENOUGH_MEMORY");
        }
    }
    if (!fire) {
        const struct sig_value *reason = cd_get(x, "reason");
        fire = str_equals(reason, "STATUS_FATAL_MEMORY_EXHAUSTION") ||
               str_equals(reason, "STATUS_NO_MEMORY");
    }
    if (!fire)
        fire = str_equals(jslarge, "Reporting");
    if (!fire)
        return 0;

    struct sym_buf *b = sig_begin(x);
    if (str_equals(jslarge, "Reporting")) {
        sym_buf_append_str(b, "OOM | large | ");
        sym_buf_append(b, SIG(x));
        return commit_signature(x, RULE);
    }
    /* int(oom_allocation_size): TypeError means unknown; ValueError/OverflowError escape. */
    enum { UNKNOWN, SMALL, LARGE } kind = UNKNOWN;
    if (size != NULL) {
        switch (size->type) {
        case SIG_T_BOOL:
            kind = SMALL;
            break;
        case SIG_T_INT:
            kind = size->u.i <= 262144 ? SMALL : LARGE;
            break;
        case SIG_T_REAL:
            if (size->u.r != size->u.r)
                return sig_raise(x->g, "cannot convert float NaN to integer");
            if (size->u.r == 1.0 / 0.0 || size->u.r == -1.0 / 0.0)
                return sig_raise(x->g, "cannot convert float infinity to integer");
            kind = size->u.r < 262145.0 ? SMALL : LARGE;
            break;
        case SIG_T_STR: {
            struct py_int pi;
            bool nomem;
            if (!py_parse_int(size->u.s.p, size->u.s.len, 10, &pi, &nomem)) {
                if (nomem)
                    return SYM_ENOMEM;
                struct sym_buf *e = &x->g->tmp;
                sym_buf_reset(e);
                py_repr_str(e, size->u.s.p, size->u.s.len);
                if (e->err != SYM_OK)
                    return (int)e->err;
                return sig_raise(x->g, "invalid literal for int() with base 10: %s", e->data);
            }
            kind = py_int_to_i64(&pi) <= 262144 ? SMALL : LARGE;
            py_int_release(&pi);
            break;
        }
        default:
            kind = UNKNOWN;
            break;
        }
    }
    if (kind == SMALL) {
        sym_buf_append_str(b, "OOM | small");
    } else {
        sym_buf_append_str(b, kind == LARGE ? "OOM | large | " : "OOM | unknown | ");
        sym_buf_append(b, SIG(x));
    }
    return commit_signature(x, RULE);
}

static int rule_abort(struct run *x)
{
    static const char RULE[] = "AbortSignature";
    const struct sig_value *v = cd_get(x, "abort_message");
    if (!sig_value_truthy(v))
        return 0;
    if (v->type != SIG_T_STR) {
        if (v->type == SIG_T_LIST || v->type == SIG_T_OBJ)
            return sig_raise(x->g, "'%s' object has no attribute 'split'", py_type_name(v));
        return sig_raise(x->g, "argument of type '%s' is not iterable", py_type_name(v));
    }
    const char *m = v->u.s.p;
    size_t n = v->u.s.len;
    struct sym_buf *b = sig_begin(x);
    if (py_contains(m, n, "###!!! ABORT: file ", 19)) {
        sym_buf_append_str(b, "Abort | ");
        sym_buf_append(b, SIG(x));
        return commit_signature(x, RULE);
    }
    const char *p = py_find(m, n, "###!!! ABORT:", 13);
    if (p) {
        n -= (size_t)(p + 13 - m);
        m = p + 13;
    }
    p = py_find(m, n, ": file ", 7);
    if (p)
        n = (size_t)(p - m);
    struct sym_buf *t = &x->g->tmp;
    sym_buf_reset(t);
    if (py_contains(m, n, "unable to find a usable font", 28)) {
        const char *open = memchr(m, '(', n);
        const char *close = NULL;
        for (size_t i = n; i-- > 0;)
            if (m[i] == ')') {
                close = m + i;
                break;
            }
        if (open && close) {
            /* msg[:open] + msg[close + 1:], even when the parentheses are out of order. */
            sym_buf_append(t, m, (size_t)(open - m));
            sym_buf_append(t, close + 1, n - (size_t)(close + 1 - m));
        } else {
            sym_buf_append(t, m, n);
        }
    } else {
        sym_buf_append(t, m, n);
    }
    if (t->err != SYM_OK)
        return (int)t->err;
    /* drop_bad_characters(): printable ASCII only; then strip() and cut to 80. */
    size_t w = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->data[i];
        if (c >= 0x20 && c <= 0x7e)
            t->data[w++] = (char)c;
    }
    size_t a = 0;
    while (a < w && py_isspace((unsigned char)t->data[a]))
        a++;
    while (w > a && py_isspace((unsigned char)t->data[w - 1]))
        w--;
    sym_buf_append_str(b, "Abort | ");
    if (w - a > 80) {
        sym_buf_append(b, t->data + a, 77);
        sym_buf_append_str(b, "...");
    } else {
        sym_buf_append(b, t->data + a, w - a);
    }
    sym_buf_append_str(b, " | ");
    sym_buf_append(b, SIG(x));
    return commit_signature(x, RULE);
}

static int cmp_spans(const void *a, const void *b)
{
    const struct sig_value *x = a, *y = b;
    size_t n = x->u.s.len < y->u.s.len ? x->u.s.len : y->u.s.len;
    int c = memcmp(x->u.s.p, y->u.s.p, n);
    if (c)
        return c;
    return x->u.s.len < y->u.s.len ? -1 : x->u.s.len > y->u.s.len;
}

static int rule_shutdown_timeout(struct run *x)
{
    static const char RULE[] = "SignatureShutdownTimeout";
    struct sig_generator *g = x->g;
    const struct sig_value *v = cd_get(x, "async_shutdown_timeout");
    if (!sig_value_truthy(v))
        return 0;
    if (v->type != SIG_T_STR)
        return sig_raise(g, "the JSON object must be str, bytes or bytearray, not %s",
                         py_type_name(v));
    sig_arena_cleanup(&g->arena);
    struct sig_value data;
    struct sig_json_error jerr;
    sym_err jrc = sig_json_parse(v->u.s.p, v->u.s.len, &g->arena, &data, &jerr);
    if (jrc == SYM_ENOMEM)
        return SYM_ENOMEM;
    if (jrc == SYM_ELIMIT)
        return sig_raise(g, "%s", jerr.msg);
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, "AsyncShutdownTimeout");
    int rc = 0;
    const char *error = NULL; /* the caught ValueError/KeyError text */
    struct sym_buf *conds_text = &g->s3;
    sym_buf_reset(conds_text);
    struct sig_value *items = NULL;
    if (jrc != SYM_OK) {
        error = jerr.msg;
    } else {
        if (data.type != SIG_T_OBJ)
            return sig_raise(g, "'%s' object has no attribute 'get'", py_type_name(&data));
        const struct sig_value *phase = sig_value_get(&data, "phase");
        sym_buf_append_str(b, " | ");
        if (phase && phase->type == SIG_T_STR)
            sym_buf_append(b, phase->u.s.p, phase->u.s.len);
        else
            sym_buf_append_str(b, "(unknown)");
        /* conditions = data.get("conditions") or []; iterating a str yields its characters and
         * a dict its keys. */
        const struct sig_value *conds = sig_value_get(&data, "conditions");
        size_t n = 0;
        if (sig_value_truthy(conds)) {
            size_t cap = conds->type == SIG_T_LIST  ? conds->u.list.n
                         : conds->type == SIG_T_OBJ ? conds->u.obj.n
                         : conds->type == SIG_T_STR ? conds->u.s.len
                                                    : 0;
            if (conds->type != SIG_T_LIST && conds->type != SIG_T_OBJ && conds->type != SIG_T_STR)
                return sig_raise(g, "'%s' object is not iterable", py_type_name(conds));
            items = sig_arena_alloc(&g->arena, (cap ? cap : 1) * sizeof(*items));
            if (items == NULL)
                return SYM_ENOMEM;
            for (size_t i = 0; i < cap && error == NULL; i++) {
                struct sym_buf *t = &g->tmp;
                sym_buf_reset(t);
                if (conds->type == SIG_T_STR) {
                    size_t cl;
                    py_decode(conds->u.s.p, conds->u.s.len, i, &cl);
                    sym_buf_append(t, conds->u.s.p + i, cl);
                    i += cl - 1;
                } else if (conds->type == SIG_T_OBJ) {
                    sym_buf_append(t, conds->u.obj.members[i].key, conds->u.obj.members[i].key_len);
                } else {
                    const struct sig_value *c = &conds->u.list.items[i];
                    if (c->type == SIG_T_OBJ) {
                        const struct sig_value *name = sig_value_get(c, "name");
                        if (name == NULL) {
                            error = "'name'";
                            break;
                        }
                        py_str(t, name);
                    } else {
                        py_str(t, c);
                    }
                }
                if (t->err != SYM_OK)
                    return (int)t->err;
                char *copy = sig_arena_strndup(&g->arena, t->data ? t->data : "", t->len);
                if (copy == NULL)
                    return SYM_ENOMEM;
                items[n++] = sig_value_strn(copy, t->len);
            }
        }
        if (error == NULL) {
            sym_buf_append_str(b, " | ");
            if (n == 0) {
                sym_buf_append_str(b, "(none)");
            } else {
                qsort(items, n, sizeof(*items), cmp_spans);
                for (size_t i = 0; i < n; i++) {
                    if (i)
                        sym_buf_append_char(b, ',');
                    sym_buf_append(b, items[i].u.s.p, items[i].u.s.len);
                }
            }
        }
    }
    if (error != NULL) {
        sym_buf_append_str(b, " | UNKNOWN");
        struct sym_buf *nb = line_begin(&x->r->notes, RULE);
        sym_buf_append_str(nb, "Error parsing AsyncShutdownTimeout: ");
        sym_buf_append_str(nb, error);
        rc = strlist_commit(&x->r->notes);
        if (rc != 0)
            return rc;
    }
    struct sym_buf *nb = line_begin(&x->r->notes, RULE);
    sym_buf_append_str(nb, "Signature replaced with a Shutdown Timeout signature, was: \"");
    sym_buf_append(nb, SIG(x));
    sym_buf_append_char(nb, '"');
    rc = strlist_commit(&x->r->notes);
    if (rc != 0)
        return rc;
    return commit_signature(x, RULE);
}

static int rule_run_watchdog(struct run *x)
{
    static const char RULE[] = "SignatureRunWatchDog";
    if (!py_contains(SIG(x), "RunWatchdog", 11))
        return 0;
    const struct sig_lists *lists = x->builtin ? x->builtin : x->lists;
    int rc = rule_generation(x, lists, true);
    if (rc != 0)
        return rc;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, "shutdownhang | ");
    sym_buf_append(b, SIG(x));
    return commit_signature(x, RULE);
}

static int rule_ipc_channel_error(struct run *x)
{
    static const char RULE[] = "SignatureIPCChannelError";
    const struct sig_value *err = cd_get(x, "ipc_channel_error");
    if (!sig_value_truthy(err))
        return 0;
    const struct sig_value *md = cd_get(x, "additional_minidumps");
    bool browser = false;
    if (sig_value_truthy(md)) {
        int rc = py_in(x, md, "upload_file_minidump_browser", &browser);
        if (rc != 0)
            return rc;
    }
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, browser ? "IPCError-browser | " : "IPCError-content | ");
    if (err->type == SIG_T_STR) {
        sym_buf_append(b, err->u.s.p, py_cpprefix(err->u.s.p, err->u.s.len, 100));
    } else if (err->type == SIG_T_LIST) {
        struct sig_value head = *err;
        if (head.u.list.n > 100)
            head.u.list.n = 100;
        py_str(b, &head);
    } else if (err->type == SIG_T_OBJ) {
        return sig_raise(x->g, "unhashable type: 'slice'");
    } else {
        return sig_raise(x->g, "'%s' object is not subscriptable", py_type_name(err));
    }
    int rc = note_str(x, RULE, "IPC Channel Error stomped on signature");
    if (rc != 0)
        return rc;
    return commit_signature(x, RULE);
}

static int rule_ipc_message_name(struct run *x)
{
    const struct sig_value *name = cd_get(x, "ipc_message_name");
    if (!sig_value_truthy(name))
        return 0;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append(b, SIG(x));
    sym_buf_append_str(b, " | IPC_Message_Name=");
    py_str(b, name);
    return commit_signature(x, "SignatureIPCMessageName");
}

static int rule_stack_overflow(struct run *x)
{
    if (!str_equals(cd_get(x, "reason"), "EXCEPTION_STACK_OVERFLOW"))
        return 0;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, "stackoverflow | ");
    sym_buf_append(b, SIG(x));
    return commit_signature(x, "StackOverflowSignature");
}

static int rule_hung_process(struct run *x)
{
    const struct sig_value *hang = cd_get(x, "hang");
    if (hang == NULL || hang->type == SIG_T_NULL)
        return 0;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append_str(b, "hang: ");
    py_str(b, hang);
    sym_buf_append_str(b, " | ");
    sym_buf_append(b, SIG(x));
    return commit_signature(x, "HungProcess");
}

static int rule_printable(struct run *x)
{
    static const char RULE[] = "SigPrintableCharsOnly";
    const char *s = x->r->signature.data;
    size_t len = x->r->signature.len;
    /* Common case: already printable ASCII with no surrounding whitespace. */
    bool clean = len == 0 || (s[0] != ' ' && s[len - 1] != ' ');
    for (size_t i = 0; clean && i < len; i++)
        clean = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e;
    if (clean)
        return 0;
    size_t a, e;
    py_strip(SIG(x), &a, &e);
    struct sym_buf *b = sig_begin(x);
    for (size_t i = a; i < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c <= 0x7e)
            sym_buf_append_char(b, (char)c);
    }
    if (b->err != SYM_OK)
        return (int)b->err;
    if (b->len == x->r->signature.len && memcmp(b->data ? b->data : "", s, b->len) == 0)
        return 0;
    int rc = commit_signature(x, RULE);
    if (rc != 0)
        return rc;
    return note_str(x, RULE, "unprintable characters removed");
}

static int rule_fix_whitespace(struct run *x)
{
    const char *sig = x->r->signature.data;
    size_t len = x->r->signature.len;
    bool clean = len == 0 ||
                 (!py_isspace((unsigned char)sig[0]) && !py_isspace((unsigned char)sig[len - 1]));
    for (size_t i = 0; clean && i < len; i++) {
        unsigned char c = (unsigned char)sig[i];
        if (c >= 0x80 || (py_isspace(c) && (c != ' ' || (i + 1 < len && sig[i + 1] == ' '))))
            clean = false;
    }
    if (clean)
        return 0;
    size_t a, e;
    py_strip(SIG(x), &a, &e);
    const char *s = x->r->signature.data;
    struct sym_buf *b = sig_begin(x);
    /* \s -> " ", then runs of two or more whitespace -> one space. */
    for (size_t i = a; i < e;) {
        size_t n;
        uint32_t cp = py_decode(s, e, i, &n);
        if (py_isspace(cp)) {
            size_t j = i + n;
            while (j < e) {
                size_t m;
                uint32_t c2 = py_decode(s, e, j, &m);
                if (!py_isspace(c2))
                    break;
                j += m;
            }
            sym_buf_append_char(b, ' ');
            i = j;
        } else {
            sym_buf_append(b, s + i, n);
            i += n;
        }
    }
    if (b->err != SYM_OK)
        return (int)b->err;
    if (b->len == x->r->signature.len && memcmp(b->data ? b->data : "", s, b->len) == 0)
        return 0;
    return commit_signature(x, "SigFixWhitespace");
}

static int rule_truncate(struct run *x)
{
    static const char RULE[] = "SigTruncate";
    if (py_cplen(SIG(x)) <= SIG_MAX_LENGTH)
        return 0;
    struct sym_buf *b = sig_begin(x);
    sym_buf_append(b, x->r->signature.data, py_cpprefix(SIG(x), SIG_MAX_LENGTH - 3));
    sym_buf_append_str(b, "...");
    int rc = commit_signature(x, RULE);
    if (rc != 0)
        return rc;
    return note_str(x, RULE, "SigTrunc: signature truncated due to length");
}

/* Turns a raised rule into its note; passes real errors through. */
static int run_rule(struct run *x, const char *rule, int rc)
{
    if (rc != SIG_RAISED)
        return rc;
    struct sym_buf *b = line_begin(&x->r->notes, rule);
    sym_buf_append_str(b, "Rule failed: ");
    sym_buf_append(b, x->g->exc.data ? x->g->exc.data : "", x->g->exc.len);
    return strlist_commit(&x->r->notes);
}

sym_err sig_generate(struct sig_generator *g, const struct sig_lists *lists,
                     const struct sig_lists *builtin, const struct sig_value *crash_data,
                     unsigned flags, struct sig_result *out)
{
    if (g == NULL || lists == NULL || crash_data == NULL || out == NULL)
        return SYM_EINVAL;
    result_reset(out);
    struct run x = {g, lists, builtin, crash_data, (flags & SIG_GEN_DEBUG) != 0, out, {NULL}};
    resolve_keys(&x);
    int rc = 0;
#define RULE(name, call)                 \
    do {                                 \
        rc = run_rule(&x, name, (call)); \
        if (rc != 0)                     \
            goto done;                   \
    } while (0)
    RULE(RULE_GEN, rule_generation(&x, lists, false));
    RULE("StackwalkerErrorSignatureRule", rule_stackwalker_error(&x));
    RULE("BadHardware", rule_bad_hardware(&x));
    RULE("OOMSignature", rule_oom(&x));
    RULE("AbortSignature", rule_abort(&x));
    RULE("SignatureShutdownTimeout", rule_shutdown_timeout(&x));
    RULE("SignatureRunWatchDog", rule_run_watchdog(&x));
    RULE("SignatureIPCChannelError", rule_ipc_channel_error(&x));
    RULE("SignatureIPCMessageName", rule_ipc_message_name(&x));
    RULE("StackOverflowSignature", rule_stack_overflow(&x));
    RULE("HungProcess", rule_hung_process(&x));
    RULE("SigPrintableCharsOnly", rule_printable(&x));
    RULE("SigFixWhitespace", rule_fix_whitespace(&x));
    RULE("SigTruncate", rule_truncate(&x));
#undef RULE
done:
    if (rc != 0)
        return rc < 0 ? (sym_err)rc : SYM_EINTERNAL;
    return SYM_OK;
}
