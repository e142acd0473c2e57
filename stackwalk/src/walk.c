/* SPDX-License-Identifier: MPL-2.0 */
/* walk.c: the architecture-independent parts of stack walking: symbol access through the
 * suppliers (once per module per process call), frame symbolization with inline frames,
 * Breakpad's stack-scanning heuristic and termination rules. The strategies per CPU live in
 * walk_<cpu>.c. */
#include <string.h>

#include "sym/alloc.h"
#include "walk_int.h"

bool w_read(const struct walker *w, uint64_t addr, uint64_t *out)
{
    return sw_memory_read(&w->stack, addr, w->width, out);
}

/* Asks the suppliers, in order, for a module's symbols. Any outcome is final for this call. */
static void load_symbols(struct walker *w, long idx)
{
    struct sz_module *sm = &w->p->mods[idx];
    struct sw_module_state *ms = &w->st->modules[idx];
    const struct sw_md_module *m = &w->md->modules[idx];
    sm->state = SZ_MISSING;
    if (w->p->n_suppliers == 0)
        return; /* walking without symbols: nothing was looked for */
    ms->asked = true;
    ms->missing_symbols = true;
    struct sw_module_key key = {m->code_file, m->code_id, m->debug_file, m->debug_id};
    for (size_t i = 0; i < w->p->n_suppliers; i++) {
        const struct sw_supplier *s = &w->p->suppliers[i];
        struct sw_symbols syms = {NULL, false, NULL, NULL, NULL, NULL};
        if (s->ops == NULL || s->ops->get == NULL)
            continue;
        if (s->ops->get(s->impl, &key, &syms) != SYM_OK || syms.image == NULL)
            continue;
        sm->state = SZ_LOADED;
        sm->image = syms.image;
        sm->from = s;
        sm->syms = syms;
        ms->loaded_symbols = true;
        ms->missing_symbols = false;
        ms->corrupt_symbols = syms.corrupt;
        struct md_arena *a = &w->p->arena;
        ms->symbol_url = syms.url ? md_arena_strndup(a, syms.url, strlen(syms.url)) : NULL;
        if (syms.debug_file != NULL && syms.debug_id != NULL) {
            ms->debug_file = md_arena_strndup(a, syms.debug_file, strlen(syms.debug_file));
            ms->debug_id = md_arena_strndup(a, syms.debug_id, strlen(syms.debug_id));
        }
        return;
    }
}

long w_module(struct walker *w, uint64_t addr, const struct sym_image **img)
{
    *img = NULL;
    const struct sw_md_module *m = sw_minidump_module_at(w->md, addr);
    if (m == NULL)
        return -1;
    long idx = (long)(m - w->md->modules);
    if (w->p->mods[idx].state == SZ_UNASKED)
        load_symbols(w, idx);
    if (w->p->mods[idx].state == SZ_LOADED)
        *img = w->p->mods[idx].image;
    return idx;
}

bool w_address_seems_valid(struct walker *w, uint64_t addr)
{
    const struct sym_image *img;
    long idx = w_module(w, addr, &img);
    if (idx < 0)
        return false;
    if (img == NULL)
        return true; /* a module without symbols: any address in it is plausible */
    struct sym_lookup *lk = &w->p->lookup;
    if (sym_image_lookup(img, addr - w->md->modules[idx].base, lk) != SYM_OK)
        return true; /* a corrupt image is "symbols with an error": plausible */
    return lk->found && lk->function.n > 0;
}

bool w_scan(struct walker *w, uint64_t start, int words, uint64_t *loc, uint64_t *ip)
{
    uint64_t end = start + (uint64_t)words * w->width;
    if (end < start)
        end = UINT64_MAX;
    for (uint64_t a = start; a <= end; a += w->width) {
        uint64_t v;
        if (!w_read(w, a, &v))
            return false;
        /* A return address follows its call; v - 1 is inside the call even when the callee
         * does not return and the call is the last instruction of its function. */
        if (sw_minidump_module_at(w->md, v - 1) != NULL && w_address_seems_valid(w, v - 1)) {
            *loc = a;
            *ip = v;
            return true;
        }
        if (a > UINT64_MAX - w->width)
            break;
    }
    return false;
}

bool w_scan_caller(struct walker *w, const struct sw_frame *last, uint64_t *loc, uint64_t *ip)
{
    int sp = sw_reg_sp(w->cpu);
    return w_scan(w, last->ctx.regs[sp], w_is_context(last) ? 160 : 40, loc, ip);
}

sym_err w_cfi(struct walker *w, const struct sw_frame *f, struct sw_context *caller)
{
    const struct sym_image *img;
    long idx = w_module(w, f->instruction, &img);
    if (idx < 0 || img == NULL)
        return SYM_ENOTFOUND;
    sym_buf_reset(&w->rules);
    sym_err rc = sym_image_cfi_rules(img, f->instruction - w->md->modules[idx].base, &w->rules);
    if (rc == SYM_ENOMEM)
        return rc;
    if (rc != SYM_OK)
        return SYM_ENOTFOUND;
    rc = sw_cfi_eval(w->cpu, sym_slice_make(w->rules.data, w->rules.len), &f->ctx, &w->stack,
                     caller);
    return rc == SYM_OK ? SYM_OK : SYM_ENOTFOUND;
}

bool w_terminate(uint64_t caller_ip, uint64_t caller_sp, uint64_t callee_sp, bool first_unwind)
{
    if (caller_ip < 4096)
        return true;
    return first_unwind ? caller_sp < callee_sp : caller_sp <= callee_sp;
}

/* ---------------------------------------------------------------------------------------------
 * Symbolization
 * ------------------------------------------------------------------------------------------- */

static size_t intern_slot(const struct proc *p, const char *src, size_t n)
{
    uint64_t h = ((uint64_t)(uintptr_t)src * 0x9E3779B97F4A7C15ull) ^ n;
    size_t mask = p->cap_interned - 1;
    size_t i = (size_t)(h >> 17) & mask;
    while (p->interned[i].src != NULL && (p->interned[i].src != src || p->interned[i].n != n))
        i = (i + 1) & mask;
    return i;
}

static bool intern_grow(struct proc *p)
{
    size_t cap = p->cap_interned ? p->cap_interned * 2 : 256;
    struct intern_entry *old = p->interned;
    size_t old_cap = p->cap_interned;
    p->interned = sym_calloc(cap, sizeof(*p->interned));
    if (p->interned == NULL) {
        p->interned = old;
        return false;
    }
    p->cap_interned = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].src != NULL)
            p->interned[intern_slot(p, old[i].src, old[i].n)] = old[i];
    sym_free(old);
    return true;
}

/* A copy of a name from a symbol image, shared by every frame that shows it. */
static const char *copy_slice(struct proc *p, struct sym_slice s, bool *oom)
{
    if (s.n == 0)
        return "";
    if ((p->n_interned + 1) * 2 > p->cap_interned && !intern_grow(p)) {
        *oom = true;
        return NULL;
    }
    size_t i = intern_slot(p, s.p, s.n);
    if (p->interned[i].src != NULL)
        return p->interned[i].copy;
    char *c = md_arena_strndup(&p->arena, s.p, s.n);
    if (c == NULL) {
        *oom = true;
        return NULL;
    }
    p->interned[i] = (struct intern_entry){s.p, s.n, c};
    p->n_interned++;
    return c;
}

/* Fills module, function, file/line and inline frames of f from its instruction address. */
static sym_err symbolize(struct walker *w, struct sw_frame *f)
{
    const struct sym_image *img;
    f->module = w_module(w, f->instruction, &img);
    if (f->module < 0) {
        /* Unloaded modules covering the address (rust-minidump's frame.unloaded_modules). */
        const struct sw_minidump *md = w->md;
        size_t hits = 0;
        for (size_t i = 0; i < md->n_unloaded_modules; i++) {
            const struct sw_md_unloaded_module *u = &md->unloaded_modules[i];
            if (f->instruction >= u->base && f->instruction - u->base < u->size)
                hits++;
        }
        if (hits == 0)
            return SYM_OK;
        f->unloaded = md_arena_alloc(&w->p->arena, hits * sizeof(*f->unloaded));
        if (f->unloaded == NULL)
            return SYM_ENOMEM;
        for (size_t i = 0; i < md->n_unloaded_modules; i++) {
            const struct sw_md_unloaded_module *u = &md->unloaded_modules[i];
            if (f->instruction >= u->base && f->instruction - u->base < u->size) {
                f->unloaded[f->n_unloaded].name = sw_basename(u->name);
                f->unloaded[f->n_unloaded].offset = f->instruction - u->base;
                f->n_unloaded++;
            }
        }
        return SYM_OK;
    }
    if (img == NULL)
        return SYM_OK;
    uint64_t base = w->md->modules[f->module].base;
    struct sym_lookup *lk = &w->p->lookup;
    if (sym_image_lookup(img, f->instruction - base, lk) != SYM_OK || !lk->found)
        return SYM_OK;
    bool oom = false;
    f->function = copy_slice(w->p, lk->function, &oom);
    f->function_base = base + lk->function_start;
    f->function_is_public = lk->is_public;
    if (lk->file.n > 0) {
        f->file = copy_slice(w->p, lk->file, &oom);
        f->line = lk->line;
        f->source_line_base = base + (lk->has_line ? lk->line_start : lk->function_start);
    }
    if (lk->n_inlines > 0) {
        f->inlines = md_arena_alloc(&w->p->arena, lk->n_inlines * sizeof(*f->inlines));
        if (f->inlines == NULL)
            return SYM_ENOMEM;
        for (size_t i = 0; i < lk->n_inlines; i++) {
            struct sw_inline_frame *in = &f->inlines[i];
            in->function = copy_slice(w->p, lk->inlines[i].function, &oom);
            in->file = lk->inlines[i].file.n ? copy_slice(w->p, lk->inlines[i].file, &oom) : NULL;
            in->line = lk->inlines[i].line;
            in->function_base = base + lk->inlines[i].function_start;
        }
        f->n_inlines = lk->n_inlines;
    }
    return oom ? SYM_ENOMEM : SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The per-thread walk
 * ------------------------------------------------------------------------------------------- */

static sym_err push_frame(struct walker *w, const struct sw_frame *f)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        if (cap > w->max_frames)
            cap = w->max_frames;
        struct sw_frame *nf = sym_reallocarray(w->frames, cap, sizeof(*nf));
        if (nf == NULL)
            return SYM_ENOMEM;
        w->frames = nf;
        struct wextra *ne = sym_reallocarray(w->extra, cap, sizeof(*ne));
        if (ne == NULL)
            return SYM_ENOMEM;
        w->extra = ne;
        w->cap = cap;
    }
    w->frames[w->n] = *f;
    memset(&w->extra[w->n], 0, sizeof(w->extra[0]));
    w->n++;
    return SYM_OK;
}

sym_err walk_thread(struct walker *w, const struct sw_context *ctx, struct sw_thread *t)
{
    sym_err rc = SYM_OK;
    struct sw_frame f;
    memset(&f, 0, sizeof(f));
    f.ctx = *ctx;
    f.trust = SW_TRUST_CONTEXT;
    f.instruction = ctx->regs[sw_reg_pc(w->cpu)];
    if (w->cpu == SW_CPU_ARM64 && sw_ctx_has(&f.ctx, SW_ARM64_LR))
        f.ctx.regs[SW_ARM64_LR] = walk_arm64_strip(w, f.ctx.regs[SW_ARM64_LR]);
    w->n = 0;
    w->scanned = 0;
    for (;;) {
        if ((rc = symbolize(w, &f)) != SYM_OK)
            goto out;
        if (f.trust == SW_TRUST_SCAN || f.trust == SW_TRUST_CFI_SCAN || f.trust == SW_TRUST_NONE ||
            f.trust == SW_TRUST_LEAF)
            w->scanned++;
        if ((rc = push_frame(w, &f)) != SYM_OK)
            goto out;
        if (w->n >= w->max_frames) {
            t->truncated = true;
            break;
        }
        if (w->stack.data == NULL)
            break;
        bool scan_allowed = w->scanned < w->max_scanned;
        memset(&f, 0, sizeof(f));
        bool more;
        switch (w->cpu) {
        case SW_CPU_X86:
            more = walk_x86_caller(w, scan_allowed, &f, &rc);
            break;
        case SW_CPU_AMD64:
            more = walk_amd64_caller(w, scan_allowed, &f, &rc);
            break;
        case SW_CPU_ARM:
            more = walk_arm_caller(w, scan_allowed, &f, &rc);
            break;
        case SW_CPU_ARM64:
            more = walk_arm64_caller(w, scan_allowed, &f, &rc);
            break;
        default:
            more = false;
            break;
        }
        if (rc != SYM_OK)
            goto out;
        if (!more)
            break;
    }
    t->frames = md_arena_alloc(&w->p->arena, w->n * sizeof(*t->frames));
    if (t->frames == NULL && w->n > 0) {
        rc = SYM_ENOMEM;
        goto out;
    }
    if (w->n > 0)
        memcpy(t->frames, w->frames, w->n * sizeof(*t->frames));
    t->n_frames = w->n;
out:
    return rc;
}
