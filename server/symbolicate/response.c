/* SPDX-License-Identifier: MPL-2.0 */
/* response.c: writing v5 and v4 symbolication bodies. */
#include "symbolicate/response.h"

#include <string.h>

#include "sym/alloc.h"
#include "symbolicate/jsonw.h"

static const struct srv_symb_module *module_of(const struct srv_symb_job *job,
                                               const struct srv_symb_frame *f)
{
    return f->module == SRV_SYMB_NO_MODULE ? NULL : &job->modules[f->module];
}

static const struct srv_symb_resolved *resolved_of(const struct srv_symb_resolved *res,
                                                   const struct srv_symb_module *m)
{
    if (m == NULL || m->group == SRV_SYMB_NO_GROUP)
        return NULL;
    return &res[m->group];
}

/* The "module" of a frame: the symbol file's module name when it was found, else the debug
 * file name as sent, "<unknown>" when there is none. */
static struct sym_slice frame_module_name(const struct srv_symb_module *m,
                                          const struct srv_symb_resolved *r)
{
    if (m == NULL || m->filename_len == 0)
        return sym_slice_cstr("<unknown>");
    struct sym_slice fn = sym_slice_make(m->debug_filename, m->filename_len);
    if (r != NULL && r->found == SRV_SYMB_FOUND)
        return sym_image_module_name(r->img, fn);
    return fn;
}

/* Frames are looked up a window at a time, grouped by module, with sym_image_lookup_many():
 * the searches of one module overlap in the CPU and their blocks are prefetched before use. */
#define WINDOW 16

struct window {
    struct sym_lookup *lk; /* WINDOW results (heap: each is a few KB) */
    int slot[WINDOW];      /* per frame of the window: its result in lk, or -1 (bare frame) */
};

static sym_err window_init(struct window *w)
{
    w->lk = sym_malloc(WINDOW * sizeof(*w->lk));
    return w->lk ? SYM_OK : SYM_ENOMEM;
}

static void window_cleanup(struct window *w)
{
    sym_free(w->lk);
}

static void window_fill(struct window *w, const struct srv_symb_job *job,
                        const struct srv_symb_resolved *res, const struct srv_symb_frame *frames,
                        size_t n, struct srv_symb_write_stats *st)
{
    const struct sym_image *imgs[WINDOW];
    bool gathered[WINDOW];
    for (size_t i = 0; i < n; i++) {
        const struct srv_symb_resolved *r = resolved_of(res, module_of(job, &frames[i]));
        bool look = r != NULL && r->found == SRV_SYMB_FOUND && frames[i].offset >= 0;
        imgs[i] = look ? r->img : NULL;
        w->slot[i] = -1;
        gathered[i] = false;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (imgs[i] == NULL || gathered[i])
            continue;
        uint64_t offsets[WINDOW];
        size_t idx[WINDOW], k = 0;
        for (size_t j = i; j < n; j++) {
            if (imgs[j] == imgs[i] && !gathered[j]) {
                gathered[j] = true;
                offsets[k] = (uint64_t)frames[j].offset;
                idx[k] = j;
                w->slot[j] = (int)(used + k);
                k++;
            }
        }
        if (sym_image_lookup_many(imgs[i], offsets, k, &w->lk[used]) != SYM_OK) {
            /* A corrupt image: these frames stay bare (and the count tells the operator). */
            for (size_t q = 0; q < k; q++)
                w->slot[idx[q]] = -1;
            st->lookup_errors += k;
            continue;
        }
        for (size_t q = 0; q < k; q++) {
            if (w->lk[used + q].found)
                st->frames_symbolicated++;
            else
                w->slot[idx[q]] = -1;
        }
        used += k;
    }
}

/* The lookup of frame i of the window, or NULL when it has no function. */
static const struct sym_lookup *window_at(const struct window *w, size_t i)
{
    return w->slot[i] >= 0 ? &w->lk[w->slot[i]] : NULL;
}

/* The usual size of a body (a symbolicated frame is a few hundred bytes), capped: a request
 * of bare frames must not reserve for names it will never write. */
static size_t reserve_for(const struct srv_symb_request *req, size_t per_frame)
{
    uint64_t n = req->n_frames * per_frame + 1024;
    return n > ((size_t)8 << 20) ? (size_t)8 << 20 : (size_t)n;
}

/* ---- v5 ------------------------------------------------------------------------------------ */

static void write_inlines(struct sym_buf *b, const struct sym_lookup *l)
{
    SRV_JW_LIT(b, ",\"inlines\":[");
    for (size_t i = 0; i < l->n_inlines; i++) {
        const struct sym_inline_frame *in = &l->inlines[i];
        if (i)
            SRV_JW_LIT(b, ",");
        SRV_JW_LIT(b, "{\"function\":");
        srv_jw_str(b, in->function.p, in->function.n);
        if (in->file.n > 0) {
            SRV_JW_LIT(b, ",\"file\":");
            srv_jw_str(b, in->file.p, in->file.n);
            if (in->line != 0) {
                SRV_JW_LIT(b, ",\"line\":");
                srv_jw_int(b, in->line);
            }
        }
        SRV_JW_LIT(b, "}");
    }
    SRV_JW_LIT(b, "]");
}

static void write_frame_v5(struct sym_buf *b, const struct srv_symb_job *job,
                           const struct srv_symb_resolved *res, uint32_t index,
                           const struct srv_symb_frame *f, const struct sym_lookup *l)
{
    const struct srv_symb_module *m = module_of(job, f);
    const struct srv_symb_resolved *r = resolved_of(res, m);
    struct sym_slice name = frame_module_name(m, r);
    SRV_JW_LIT(b, "{\"frame\":");
    srv_jw_int(b, index);
    SRV_JW_LIT(b, ",\"module\":");
    srv_jw_str(b, name.p, name.n);
    SRV_JW_LIT(b, ",\"module_offset\":");
    srv_jw_hex(b, f->offset);
    if (l != NULL) {
        SRV_JW_LIT(b, ",\"function\":");
        srv_jw_str(b, l->function.p, l->function.n);
        SRV_JW_LIT(b, ",\"function_offset\":");
        srv_jw_hex_u64(b, (uint64_t)f->offset - l->function_start);
        if (l->has_size) {
            SRV_JW_LIT(b, ",\"function_size\":");
            srv_jw_hex_u64(b, l->function_size);
        }
        if (l->file.n > 0) {
            SRV_JW_LIT(b, ",\"file\":");
            srv_jw_str(b, l->file.p, l->file.n);
            if (l->line != 0) {
                SRV_JW_LIT(b, ",\"line\":");
                srv_jw_int(b, l->line);
            }
        }
        if (l->n_inlines > 0)
            write_inlines(b, l);
    }
    SRV_JW_LIT(b, "}");
}

static void write_found_value(struct sym_buf *b, enum srv_symb_found found)
{
    switch (found) {
    case SRV_SYMB_FOUND:
        SRV_JW_LIT(b, "true");
        break;
    case SRV_SYMB_MISSING:
        SRV_JW_LIT(b, "false");
        break;
    case SRV_SYMB_UNCHECKED:
        SRV_JW_LIT(b, "null");
        break;
    }
}

static enum srv_symb_found found_of(const struct srv_symb_resolved *res,
                                    const struct srv_symb_module *m)
{
    const struct srv_symb_resolved *r = resolved_of(res, m);
    return r ? r->found : SRV_SYMB_UNCHECKED;
}

static void write_key(struct sym_buf *b, const char *fn, size_t fn_len, const char *id,
                      size_t id_len)
{
    SRV_JW_LIT(b, "\"");
    srv_jw_escaped(b, fn, fn_len);
    SRV_JW_LIT(b, "/");
    srv_jw_escaped(b, id, id_len);
    SRV_JW_LIT(b, "\"");
}

/* True when an earlier memoryMap entry of the job has the same "<file>/<id>" key (a Python dict
 * keeps one entry per key). Entries with a group compare by group; the others by text. */
static bool seen_before(const struct srv_symb_job *job, uint32_t i, const uint8_t *group_seen)
{
    const struct srv_symb_module *m = &job->modules[i];
    if (m->group != SRV_SYMB_NO_GROUP)
        return group_seen[m->group] != 0;
    for (uint32_t k = 0; k < i; k++) {
        const struct srv_symb_module *o = &job->modules[k];
        if (o->group == SRV_SYMB_NO_GROUP && o->filename_len == m->filename_len &&
            o->id_len == m->id_len &&
            memcmp(o->debug_filename, m->debug_filename, m->filename_len) == 0 &&
            memcmp(o->debug_id, m->debug_id, m->id_len) == 0)
            return true;
    }
    return false;
}

/* found_modules of one job; group_seen (n_groups bytes, zero on entry) is left dirty. Returns
 * the number of non-null entries written, for the debug statistics. */
static uint32_t write_found_modules(struct sym_buf *b, const struct srv_symb_job *job,
                                    const struct srv_symb_resolved *res, uint8_t *group_seen,
                                    uint32_t *job_refs)
{
    uint32_t non_null = 0;
    bool first = true;
    SRV_JW_LIT(b, "{");
    for (uint32_t i = 0; i < job->n_modules; i++) {
        const struct srv_symb_module *m = &job->modules[i];
        if (seen_before(job, i, group_seen))
            continue;
        if (m->group != SRV_SYMB_NO_GROUP)
            group_seen[m->group] = 1;
        if (!first)
            SRV_JW_LIT(b, ",");
        first = false;
        write_key(b, m->debug_filename, m->filename_len, m->debug_id, m->id_len);
        SRV_JW_LIT(b, ":");
        enum srv_symb_found found = found_of(res, m);
        write_found_value(b, found);
        if (found != SRV_SYMB_UNCHECKED) {
            non_null++;
            if (job_refs != NULL)
                job_refs[m->group]++;
        }
    }
    SRV_JW_LIT(b, "}");
    return non_null;
}

/* One "<file>/<id>": value entry of a debug map. */
static void debug_entry(struct sym_buf *b, bool *first, const struct srv_symb_group *g)
{
    if (!*first)
        SRV_JW_LIT(b, ",");
    *first = false;
    write_key(b, g->debug_filename, g->filename_len, g->debug_id, g->id_len);
    SRV_JW_LIT(b, ":");
}

enum debug_map { MAP_DL_SIZE, MAP_DL_TIME, MAP_DL_FAIL, MAP_PARSE, MAP_PARSE_FAIL, MAP_SAVE };

/* Writes `,"name":{...}` with the groups that have the statistic; nothing when none has it (the
 * per-module maps only appear when non-empty). */
static void debug_map(struct sym_buf *b, const char *name, const struct srv_symb_request *req,
                      const struct srv_symb_resolved *res, enum debug_map which)
{
    bool first = true;
    for (uint32_t g = 0; g < req->n_groups; g++) {
        const struct srv_symb_timing *t = &res[g].timing;
        if (res[g].found == SRV_SYMB_UNCHECKED)
            continue;
        bool has;
        switch (which) {
        case MAP_DL_SIZE:
        case MAP_DL_TIME:
            has = t->downloaded;
            break;
        case MAP_DL_FAIL:
            has = t->download_failed;
            break;
        case MAP_PARSE:
            has = t->parsed;
            break;
        case MAP_PARSE_FAIL:
            has = t->parse_failed;
            break;
        case MAP_SAVE:
            has = t->saved;
            break;
        }
        if (!has)
            continue;
        if (first) {
            SRV_JW_LIT(b, ",\"");
            srv_jw_raw(b, name, strlen(name));
            SRV_JW_LIT(b, "\":{");
        }
        debug_entry(b, &first, &req->groups[g]);
        switch (which) {
        case MAP_DL_SIZE:
            srv_jw_int(b, (int64_t)t->download_bytes);
            break;
        case MAP_DL_TIME:
        case MAP_DL_FAIL:
            srv_jw_real(b, t->download_s);
            break;
        case MAP_PARSE:
        case MAP_PARSE_FAIL:
            srv_jw_real(b, t->parse_s);
            break;
        case MAP_SAVE:
            srv_jw_real(b, t->save_s);
            break;
        }
    }
    if (!first)
        SRV_JW_LIT(b, "}");
}

static void write_debug(struct sym_buf *b, const struct srv_symb_request *req,
                        const struct srv_symb_resolved *res, const struct srv_symb_debug *debug,
                        uint32_t modules_count, const uint32_t *job_refs)
{
    uint64_t lookups = 0, hits = 0, downloads = 0, dl_bytes = 0;
    double cache_s = 0, dl_s = 0, parse_s = 0, save_s = 0;
    for (uint32_t g = 0; g < req->n_groups; g++) {
        const struct srv_symb_timing *t = &res[g].timing;
        if (res[g].found == SRV_SYMB_UNCHECKED)
            continue;
        lookups++;
        cache_s += t->cache_s;
        if (t->cache_hit) {
            hits++;
            continue;
        }
        downloads++;
        if (t->downloaded) {
            dl_bytes += t->download_bytes;
            dl_s += t->download_s;
        }
        if (t->parsed)
            parse_s += t->parse_s;
        if (t->saved)
            save_s += t->save_s;
    }
    SRV_JW_LIT(b, ",\"debug\":{\"time\":");
    srv_jw_real(b, debug->total_s);
    SRV_JW_LIT(b, ",\"cache_lookups\":{\"count\":");
    srv_jw_int(b, (int64_t)lookups);
    if (lookups > 0) {
        SRV_JW_LIT(b, ",\"hits\":");
        srv_jw_int(b, (int64_t)hits);
    }
    SRV_JW_LIT(b, ",\"time\":");
    srv_jw_real(b, cache_s);
    SRV_JW_LIT(b, "},\"downloads\":{\"count\":");
    srv_jw_int(b, (int64_t)downloads);
    SRV_JW_LIT(b, ",\"size\":");
    srv_jw_int(b, (int64_t)dl_bytes);
    SRV_JW_LIT(b, ",\"time\":");
    srv_jw_real(b, dl_s);
    debug_map(b, "size_per_module", req, res, MAP_DL_SIZE);
    debug_map(b, "time_per_module", req, res, MAP_DL_TIME);
    debug_map(b, "fail_time_per_module", req, res, MAP_DL_FAIL);
    SRV_JW_LIT(b, "},\"parse_sym\":{\"time\":");
    srv_jw_real(b, parse_s);
    debug_map(b, "time_per_module", req, res, MAP_PARSE);
    debug_map(b, "fail_time_per_module", req, res, MAP_PARSE_FAIL);
    SRV_JW_LIT(b, "},\"save_symcache\":{\"time\":");
    srv_jw_real(b, save_s);
    debug_map(b, "time_per_module", req, res, MAP_SAVE);
    SRV_JW_LIT(b, "},\"modules\":{\"count\":");
    srv_jw_int(b, modules_count);
    bool first = true;
    for (uint32_t g = 0; g < req->n_groups; g++) {
        if (job_refs[g] == 0)
            continue;
        if (first)
            SRV_JW_LIT(b, ",\"stacks_per_module\":{");
        debug_entry(b, &first, &req->groups[g]);
        srv_jw_int(b, job_refs[g]);
    }
    if (!first)
        SRV_JW_LIT(b, "}");
    SRV_JW_LIT(b, "}}");
}

sym_err srv_symb_write_v5(const struct srv_symb_request *req, const struct srv_symb_resolved *res,
                          const struct srv_symb_debug *debug, struct sym_buf *out,
                          struct srv_symb_write_stats *stats)
{
    struct srv_symb_write_stats st = {0, 0};
    struct window w;
    if (window_init(&w) != SYM_OK)
        return SYM_ENOMEM;
    /* One byte per group marks found_modules keys already written in the current job; the debug
     * statistics also count, per group, the jobs that report it. */
    size_t scratch_len = req->n_groups ? req->n_groups : 1;
    uint8_t *seen = sym_calloc(scratch_len, 1);
    uint32_t *job_refs = debug ? sym_calloc(scratch_len, sizeof(uint32_t)) : NULL;
    if (seen == NULL || (debug != NULL && job_refs == NULL)) {
        sym_free(seen);
        sym_free(job_refs);
        window_cleanup(&w);
        return SYM_ENOMEM;
    }
    uint32_t modules_count = 0;
    srv_jw_reserve(out, reserve_for(req, 256));
    SRV_JW_LIT(out, "{\"results\":[");
    for (uint32_t j = 0; j < req->n_jobs; j++) {
        const struct srv_symb_job *job = &req->jobs[j];
        if (j)
            SRV_JW_LIT(out, ",");
        SRV_JW_LIT(out, "{\"stacks\":[");
        for (uint32_t s = 0; s < job->n_stacks; s++) {
            const struct srv_symb_stack *stack = &job->stacks[s];
            if (s)
                SRV_JW_LIT(out, ",");
            SRV_JW_LIT(out, "[");
            for (uint32_t f = 0; f < stack->n_frames; f++) {
                if (f % WINDOW == 0)
                    window_fill(&w, job, res, &stack->frames[f],
                                stack->n_frames - f < WINDOW ? stack->n_frames - f : WINDOW, &st);
                if (f)
                    SRV_JW_LIT(out, ",");
                write_frame_v5(out, job, res, f, &stack->frames[f], window_at(&w, f % WINDOW));
            }
            SRV_JW_LIT(out, "]");
        }
        SRV_JW_LIT(out, "],\"found_modules\":");
        memset(seen, 0, scratch_len);
        modules_count += write_found_modules(out, job, res, seen, job_refs);
        SRV_JW_LIT(out, "}");
    }
    SRV_JW_LIT(out, "]");
    if (debug != NULL)
        write_debug(out, req, res, debug, modules_count, job_refs);
    SRV_JW_LIT(out, "}");
    sym_free(seen);
    sym_free(job_refs);
    window_cleanup(&w);
    if (stats != NULL)
        *stats = st;
    return sym_buf_err(out);
}

/* ---- v4 ------------------------------------------------------------------------------------ */

sym_err srv_symb_write_v4(const struct srv_symb_request *req, const struct srv_symb_resolved *res,
                          struct sym_buf *out, struct srv_symb_write_stats *stats)
{
    struct srv_symb_write_stats st = {0, 0};
    struct window w;
    if (window_init(&w) != SYM_OK)
        return SYM_ENOMEM;
    srv_jw_reserve(out, reserve_for(req, 96));
    SRV_JW_LIT(out, "{\"symbolicatedStacks\":[");
    const struct srv_symb_job *job = req->n_jobs ? &req->jobs[0] : NULL;
    for (uint32_t s = 0; job != NULL && s < job->n_stacks; s++) {
        const struct srv_symb_stack *stack = &job->stacks[s];
        if (s)
            SRV_JW_LIT(out, ",");
        SRV_JW_LIT(out, "[");
        for (uint32_t f = 0; f < stack->n_frames; f++) {
            const struct srv_symb_frame *fr = &stack->frames[f];
            const struct srv_symb_module *m = module_of(job, fr);
            const struct srv_symb_resolved *r = resolved_of(res, m);
            struct sym_slice name = frame_module_name(m, r);
            if (f % WINDOW == 0)
                window_fill(&w, job, res, fr,
                            stack->n_frames - f < WINDOW ? stack->n_frames - f : WINDOW, &st);
            const struct sym_lookup *l = window_at(&w, f % WINDOW);
            if (f)
                SRV_JW_LIT(out, ",");
            SRV_JW_LIT(out, "\"");
            if (l != NULL) {
                srv_jw_escaped(out, l->function.p, l->function.n);
            } else {
                srv_jw_hex_bare(out, fr->offset);
            }
            SRV_JW_LIT(out, " (in ");
            srv_jw_escaped(out, name.p, name.n);
            SRV_JW_LIT(out, ")\"");
        }
        SRV_JW_LIT(out, "]");
    }
    SRV_JW_LIT(out, "],\"knownModules\":[");
    for (uint32_t i = 0; job != NULL && i < job->n_modules; i++) {
        if (i)
            SRV_JW_LIT(out, ",");
        write_found_value(out, found_of(res, &job->modules[i]));
    }
    SRV_JW_LIT(out, "]}");
    window_cleanup(&w);
    if (stats != NULL)
        *stats = st;
    return sym_buf_err(out);
}
