/* SPDX-License-Identifier: MPL-2.0 */
/* request.c: symbolication request parsing and validation in Eliot's order. */
#include "symbolicate/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "signature/json.h"

/* The tree of a body costs a few times its size (about 12 bytes per byte for the densest valid
 * frames, "[0,1],"); beyond this factor the body is pathological and refused as too large. */
#define ARENA_PER_BODY_BYTE 16u
#define ARENA_BASE          (1u << 20)

static sym_err fail(struct srv_symb_error *err, sym_err code, int status, const char *fmt, ...)
    SYM_PRINTF(4, 5);

static sym_err fail(struct srv_symb_error *err, sym_err code, int status, const char *fmt, ...)
{
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->title, sizeof(err->title), fmt, ap);
    va_end(ap);
    return code;
}

static sym_err fail_nomem(struct srv_symb_error *err)
{
    return fail(err, SYM_ENOMEM, 503, "Service Unavailable: out of memory");
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF): what Python's
 * bytes.decode("utf-8") accepts before json.load sees the text. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* Request bodies are ASCII but for the odd name: skip 8 ASCII bytes at a time. */
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Every frame, stack, module and job is a JSON array or object, and the limits bound how many a
 * valid request has: counting the brackets (a string holding some only makes the count larger)
 * refuses an oversized request before its tree is built, so the tree's memory follows the limits
 * and not the body size. */
static bool too_many_containers(const char *s, size_t n, const struct srv_symb_limits *lim)
{
    if (lim->max_frames == 0 || lim->max_modules == 0 || lim->max_stacks == 0)
        return false;
    uint64_t allowed = lim->max_frames +
                       (uint64_t)SRV_SYMB_MAX_JOBS * (lim->max_modules + lim->max_stacks + 4) + 16;
    uint64_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '[' || s[i] == '{';
    return count > allowed;
}

/* Python's len() of a str: code points. */
static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

/* Python's re.match(r"^(...)*$"): `$` also matches just before a final "\n", so one trailing
 * newline passes Eliot's checks; it is accepted here too (such a module is then simply not
 * found, since no storage key or URL can name it). */
static size_t match_len(const char *s, size_t n)
{
    return n > 0 && s[n - 1] == '\n' ? n - 1 : n;
}

static bool valid_debug_filename(const char *s, size_t n)
{
    n = match_len(s, n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  strchr("_.+{}@<> ~-", c) != NULL;
        if (!ok || c == '\0')
            return false;
    }
    return true;
}

static bool valid_debug_id(const char *s, size_t n)
{
    n = match_len(s, n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Python's isinstance(v, int): bool is an int subclass, so true and false pass as 1 and 0. */
static bool python_int(const struct sig_value *v, int64_t *out)
{
    if (v->type == SIG_T_INT) {
        *out = v->u.i;
        return true;
    }
    if (v->type == SIG_T_BOOL) {
        *out = v->u.b ? 1 : 0;
        return true;
    }
    return false;
}

/* ---- groups: distinct (debug_filename, debug_id) pairs ------------------------------------ */

struct group_table {
    uint32_t *slots; /* group index + 1; 0 is empty */
    size_t mask;
};

static uint64_t hash_pair(const char *a, size_t an, const char *b, size_t bn)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < an; i++)
        h = (h ^ (unsigned char)a[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < bn; i++)
        h = (h ^ (unsigned char)b[i]) * 1099511628211ull;
    return h;
}

static uint32_t group_of(struct srv_symb_request *r, struct group_table *t,
                         const struct srv_symb_module *m)
{
    size_t i =
        (size_t)hash_pair(m->debug_filename, m->filename_len, m->debug_id, m->id_len) & t->mask;
    for (;; i = (i + 1) & t->mask) {
        uint32_t s = t->slots[i];
        if (s == 0)
            break;
        struct srv_symb_group *g = &r->groups[s - 1];
        if (g->filename_len == m->filename_len && g->id_len == m->id_len &&
            memcmp(g->debug_filename, m->debug_filename, m->filename_len) == 0 &&
            memcmp(g->debug_id, m->debug_id, m->id_len) == 0)
            return s - 1;
    }
    struct srv_symb_group *g = &r->groups[r->n_groups];
    g->debug_filename = m->debug_filename;
    g->filename_len = m->filename_len;
    g->debug_id = m->debug_id;
    g->id_len = m->id_len;
    t->slots[i] = ++r->n_groups;
    return r->n_groups - 1;
}

/* ---- validation ----------------------------------------------------------------------------- */

static sym_err check_modules(struct srv_symb_request *r, uint32_t job_i, const struct sig_value *mm,
                             const struct srv_symb_limits *lim, struct srv_symb_job *job,
                             struct srv_symb_error *err)
{
    if (mm->type != SIG_T_LIST)
        return fail(err, SYM_EPARSE, 400, "job %u has invalid modules: modules must be a list",
                    job_i);
    if (lim->max_modules && mm->u.list.n > lim->max_modules)
        return fail(err, SYM_ELIMIT, 413,
                    "job %u has too many modules: %zu (this server accepts at most %llu)", job_i,
                    mm->u.list.n, (unsigned long long)lim->max_modules);
    job->n_modules = (uint32_t)mm->u.list.n;
    job->modules = sig_arena_alloc(&r->arena, sizeof(*job->modules) * (mm->u.list.n + 1));
    if (job->modules == NULL)
        return fail_nomem(err);
    for (size_t i = 0; i < mm->u.list.n; i++) {
        const struct sig_value *item = &mm->u.list.items[i];
        if (item->type != SIG_T_LIST || item->u.list.n != 2)
            return fail(err, SYM_EPARSE, 400,
                        "job %u has invalid modules: module index %zu does not have a "
                        "debug_filename and debug_id",
                        job_i, i);
        const struct sig_value *fn = &item->u.list.items[0], *id = &item->u.list.items[1];
        if (fn->type != SIG_T_STR || !valid_debug_filename(fn->u.s.p, fn->u.s.len) ||
            fn->u.s.len > UINT32_MAX)
            return fail(err, SYM_EPARSE, 400,
                        "job %u has invalid modules: module index %zu has an invalid "
                        "debug_filename",
                        job_i, i);
        if (id->type != SIG_T_STR || !valid_debug_id(id->u.s.p, id->u.s.len) ||
            id->u.s.len > UINT32_MAX)
            return fail(err, SYM_EPARSE, 400,
                        "job %u has invalid modules: module index %zu has an invalid debug_id",
                        job_i, i);
        struct srv_symb_module *m = &job->modules[i];
        m->debug_filename = fn->u.s.p;
        m->filename_len = (uint32_t)fn->u.s.len;
        m->debug_id = id->u.s.p;
        m->id_len = (uint32_t)id->u.s.len;
        m->group = SRV_SYMB_NO_GROUP;
    }
    return SYM_OK;
}

static sym_err check_stacks(struct srv_symb_request *r, uint32_t job_i,
                            const struct sig_value *stacks, const struct srv_symb_limits *lim,
                            struct srv_symb_job *job, struct srv_symb_error *err)
{
    if (stacks->type != SIG_T_LIST)
        return fail(err, SYM_EPARSE, 400,
                    "job %u has invalid stacks: stacks must be a list of lists", job_i);
    if (stacks->u.list.n == 0)
        return fail(err, SYM_EPARSE, 400, "job %u has invalid stacks: no stacks specified", job_i);
    if (lim->max_stacks && stacks->u.list.n > lim->max_stacks)
        return fail(err, SYM_ELIMIT, 413,
                    "job %u has too many stacks: %zu (this server accepts at most %llu)", job_i,
                    stacks->u.list.n, (unsigned long long)lim->max_stacks);
    job->n_stacks = (uint32_t)stacks->u.list.n;
    job->stacks = sig_arena_alloc(&r->arena, sizeof(*job->stacks) * stacks->u.list.n);
    if (job->stacks == NULL)
        return fail_nomem(err);
    for (size_t s = 0; s < stacks->u.list.n; s++) {
        const struct sig_value *stack = &stacks->u.list.items[s];
        if (stack->type != SIG_T_LIST)
            return fail(err, SYM_EPARSE, 400, "job %u has invalid stacks: stack %zu is not a list",
                        job_i, s);
        size_t n = stack->u.list.n;
        if (lim->max_frames && n > lim->max_frames - r->n_frames)
            return fail(err, SYM_ELIMIT, 413,
                        "too many frames: this server accepts at most %llu per request",
                        (unsigned long long)lim->max_frames);
        struct srv_symb_stack *out = &job->stacks[s];
        out->n_frames = (uint32_t)n;
        out->frames = n ? sig_arena_alloc(&r->arena, sizeof(*out->frames) * n) : NULL;
        if (n && out->frames == NULL)
            return fail_nomem(err);
        for (size_t f = 0; f < n; f++) {
            const struct sig_value *frame = &stack->u.list.items[f];
            if (frame->type != SIG_T_LIST || frame->u.list.n != 2)
                return fail(err, SYM_EPARSE, 400,
                            "job %u has invalid stacks: stack %zu frame %zu is not a list of two "
                            "items",
                            job_i, s, f);
            int64_t index, offset;
            if (!python_int(&frame->u.list.items[0], &index))
                return fail(err, SYM_EPARSE, 400,
                            "job %u has invalid stacks: stack %zu frame %zu has an invalid "
                            "module_index",
                            job_i, s, f);
            if (index < -1 || index >= (int64_t)job->n_modules)
                return fail(err, SYM_EPARSE, 400,
                            "job %u has invalid stacks: stack %zu frame %zu has a module_index "
                            "that isn't in modules",
                            job_i, s, f);
            if (!python_int(&frame->u.list.items[1], &offset) || offset < -1)
                return fail(err, SYM_EPARSE, 400,
                            "job %u has invalid stacks: stack %zu frame %zu has an invalid "
                            "module_offset",
                            job_i, s, f);
            out->frames[f].offset = offset;
            out->frames[f].module = index < 0 ? SRV_SYMB_NO_MODULE : (uint32_t)index;
        }
        r->n_frames += n;
    }
    return SYM_OK;
}

static sym_err check_job(struct srv_symb_request *r, uint32_t i, const struct sig_value *job,
                         const struct srv_symb_limits *lim, struct srv_symb_error *err)
{
    if (job->type != SIG_T_OBJ)
        return fail(err, SYM_EPARSE, 400, "job %u is invalid", i);
    const struct sig_value *stacks = sig_value_get(job, "stacks");
    const struct sig_value *mm = sig_value_get(job, "memoryMap");
    if (stacks == NULL)
        return fail(err, SYM_EPARSE, 400, "job %u is invalid: no stacks specified", i);
    if (mm == NULL)
        return fail(err, SYM_EPARSE, 400, "job %u is invalid: no memoryMap specified", i);
    sym_err rc = check_modules(r, i, mm, lim, &r->jobs[i], err);
    if (rc == SYM_OK)
        rc = check_stacks(r, i, stacks, lim, &r->jobs[i], err);
    return rc;
}

/* Groups the memoryMap entries of every job and marks the ones some frame uses. */
static sym_err build_groups(struct srv_symb_request *r, struct srv_symb_error *err)
{
    size_t total = 0;
    for (uint32_t j = 0; j < r->n_jobs; j++)
        total += r->jobs[j].n_modules;
    if (total == 0)
        return SYM_OK;
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    struct group_table t = {sig_arena_alloc(&r->arena, cap * sizeof(uint32_t)), cap - 1};
    r->groups = sig_arena_alloc(&r->arena, total * sizeof(*r->groups));
    if (t.slots == NULL || r->groups == NULL)
        return fail_nomem(err);
    for (uint32_t j = 0; j < r->n_jobs; j++) {
        struct srv_symb_job *job = &r->jobs[j];
        for (uint32_t m = 0; m < job->n_modules; m++) {
            struct srv_symb_module *mod = &job->modules[m];
            if (mod->filename_len > 0 && mod->id_len > 0)
                mod->group = group_of(r, &t, mod);
        }
        for (uint32_t s = 0; s < job->n_stacks; s++) {
            const struct srv_symb_stack *st = &job->stacks[s];
            for (uint32_t f = 0; f < st->n_frames; f++) {
                uint32_t m = st->frames[f].module;
                if (m != SRV_SYMB_NO_MODULE && job->modules[m].group != SRV_SYMB_NO_GROUP)
                    r->groups[job->modules[m].group].referenced = true;
            }
        }
    }
    return SYM_OK;
}

/* The jobs of a v5 payload: payload["jobs"] when the payload is an object with that key, else
 * the payload itself as the only job. Python iterates whatever "jobs" holds: the keys of an
 * object and the characters of a string are jobs that are not objects. */
static sym_err v5_jobs(const struct sig_value *payload, const struct sig_value **items,
                       size_t *n_items, size_t *n_declared, struct srv_symb_error *err)
{
    const struct sig_value *jobs = sig_value_get(payload, "jobs");
    if (jobs == NULL) {
        *items = payload;
        *n_items = *n_declared = 1;
        return SYM_OK;
    }
    switch (jobs->type) {
    case SIG_T_LIST:
        *items = jobs->u.list.items;
        *n_items = *n_declared = jobs->u.list.n;
        return SYM_OK;
    case SIG_T_OBJ:
        *items = NULL;
        *n_items = 0;
        *n_declared = jobs->u.obj.n;
        return SYM_OK;
    case SIG_T_STR:
        *items = NULL;
        *n_items = 0;
        *n_declared = utf8_length(jobs->u.s.p, jobs->u.s.len);
        return SYM_OK;
    default:
        return fail(err, SYM_EPARSE, 400, "jobs must be a list");
    }
}

sym_err srv_symb_request_parse(const char *body, size_t len, enum srv_symb_version version,
                               const struct srv_symb_limits *lim, struct srv_symb_request *out,
                               struct srv_symb_error *err)
{
    struct srv_symb_request r;
    memset(&r, 0, sizeof(r));
    r.version = version;
    size_t cap = len > (SIZE_MAX - ARENA_BASE) / ARENA_PER_BODY_BYTE
                     ? SIZE_MAX / 2
                     : ARENA_BASE + len * ARENA_PER_BODY_BYTE;
    sig_arena_init(&r.arena, cap);
    err->status = 0;
    err->title[0] = '\0';
    sym_err rc;

    /* json.load() on bytes detects UTF-8 with a byte order mark and drops the mark. */
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
        body += 3;
        len -= 3;
    }
    struct sig_value payload;
    struct sig_json_error jerr;
    if (!valid_utf8((const unsigned char *)body, len)) {
        rc = fail(err, SYM_EPARSE, 400, "Payload is not valid JSON");
        goto out;
    }
    if (too_many_containers(body, len, lim)) {
        rc = fail(err, SYM_ELIMIT, 413,
                  "too many frames: this server accepts at most %llu per request",
                  (unsigned long long)lim->max_frames);
        goto out;
    }
    rc = sig_json_parse(body, len, &r.arena, &payload, &jerr);
    if (rc == SYM_ENOMEM) {
        rc = fail(err, SYM_ELIMIT, 413, "Payload Too Large: the request is too complex");
        goto out;
    }
    if (rc != SYM_OK) {
        rc = fail(err, SYM_EPARSE, 400, "Payload is not valid JSON");
        goto out;
    }

    const struct sig_value *items = &payload;
    size_t n_items = 1, n_declared = 1;
    if (version == SRV_SYMB_V5) {
        rc = v5_jobs(&payload, &items, &n_items, &n_declared, err);
        if (rc != SYM_OK)
            goto out;
        if (n_declared > SRV_SYMB_MAX_JOBS) {
            rc =
                fail(err, SYM_EPARSE, 400,
                     "please limit number of jobs in a single request to <= %d", SRV_SYMB_MAX_JOBS);
            goto out;
        }
        if (n_items < n_declared) {
            rc = fail(err, SYM_EPARSE, 400, "job 0 is invalid");
            goto out;
        }
    }
    r.n_jobs = (uint32_t)n_items;
    r.jobs = sig_arena_alloc(&r.arena, sizeof(*r.jobs) * (n_items + 1));
    if (r.jobs == NULL) {
        rc = fail_nomem(err);
        goto out;
    }
    for (uint32_t i = 0; i < r.n_jobs; i++) {
        rc = check_job(&r, i, &items[i], lim, err);
        if (rc != SYM_OK)
            goto out;
    }
    rc = build_groups(&r, err);
out:
    if (rc != SYM_OK) {
        sig_arena_cleanup(&r.arena);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    *out = r;
    return SYM_OK;
}

void srv_symb_request_free(struct srv_symb_request *r)
{
    if (r == NULL)
        return;
    sig_arena_cleanup(&r->arena);
    memset(r, 0, sizeof(*r));
}
