/* SPDX-License-Identifier: MPL-2.0 */
/* walk_x86.c: finding the caller of an x86 frame, in Breakpad's order: STACK WIN (FRAME_DATA
 * program strings, FPO records with their synthesized programs, and the scanning corrections
 * around them), then STACK CFI, then the %ebp chain with a scanning fallback. All arithmetic is
 * 32-bit. */
#include <string.h>

#include "walk_int.h"

/* The largest plausible distance between two frames when rebuilding an %ebp chain after a scan
 * (99.5% of frames of common libraries are smaller). */
#define MAX_FRAME_GAP (128u * 1024u)

enum { WIN_NONE = 0, WIN_PARAM_ONLY, WIN_FULL };

struct win_info {
    int kind;
    uint32_t param_size;
    struct sym_win_frame rec;
};

/* Breakpad's FindWindowsFrameInfo: a STACK WIN record covering the instruction, else the
 * parameter size of the FUNC containing it. */
static void find_win_info(struct walker *w, const struct sw_frame *f, struct win_info *wi)
{
    wi->kind = WIN_NONE;
    const struct sym_image *img;
    long idx = w_module(w, f->instruction, &img);
    if (idx < 0 || img == NULL)
        return;
    uint64_t rel = f->instruction - w->md->modules[idx].base;
    if (sym_image_win_frame(img, rel, &wi->rec) == SYM_OK) {
        wi->kind = WIN_FULL;
        wi->param_size = wi->rec.parameter_size;
        return;
    }
    struct sym_lookup *lk = &w->p->lookup;
    if (sym_image_lookup(img, rel, lk) == SYM_OK && lk->found && !lk->is_public) {
        wi->kind = WIN_PARAM_ONLY;
        wi->param_size = lk->param_size;
    }
}

static bool read32(const struct walker *w, uint32_t addr, uint32_t *out)
{
    uint64_t v;
    if (!sw_memory_read(&w->stack, addr, 4, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool scan32(struct walker *w, uint32_t start, int words, uint32_t *loc, uint32_t *ip)
{
    uint64_t l, v;
    if (!w_scan(w, start, words, &l, &v))
        return false;
    *loc = (uint32_t)l;
    *ip = (uint32_t)v;
    return true;
}

static uint32_t var(const struct sw_win_vars *v, const char *name)
{
    uint32_t x = 0;
    (void)sw_win_vars_get(v, name, &x, NULL);
    return x;
}

static bool assigned(const struct sw_win_vars *v, const char *name)
{
    bool a = false;
    return sw_win_vars_get(v, name, NULL, &a) && a;
}

static bool set_vars(struct sw_win_vars *v, const char *const *names, const uint32_t *vals,
                     size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sw_win_vars_set(v, names[i], vals[i]) != SYM_OK)
            return false;
    return true;
}

static bool by_win_info(struct walker *w, const struct win_info *wi, bool scan_allowed,
                        struct sw_frame *out)
{
    struct sw_frame *last = &w->frames[w->n - 1];
    struct wextra *lx = &w->extra[w->n - 1];
    /* Remembered for the frame this one calls into: its callee parameter size. */
    lx->win_param_valid = true;
    lx->win_param_size = wi->param_size;
    if (wi->kind != WIN_FULL)
        return false;
    const struct sym_win_frame *rec = &wi->rec;
    const struct sw_context *lc = &last->ctx;
    uint32_t esp = (uint32_t)lc->regs[SW_X86_ESP], ebp = (uint32_t)lc->regs[SW_X86_EBP];
    bool ebp_valid = sw_ctx_has(lc, SW_X86_EBP);

    /* The parameters this frame pushed for its callee are still on the stack below the
     * locals. The callee is the frame walked just before this one (Breakpad's loop ends at the
     * innermost frame instead, which no corpus dump depends on). */
    uint32_t callee_params = 0;
    if (w->n >= 2 && w->extra[w->n - 2].win_param_valid)
        callee_params = w->extra[w->n - 2].win_param_size;

    struct sw_win_vars v;
    sw_win_vars_init(&v);
    static const char *const base_names[] = {"$ebp",         "$esp",      ".cbCalleeParams",
                                             ".cbSavedRegs", ".cbLocals", ".cbParams"};
    uint32_t base_vals[] = {
        ebp, esp, callee_params, rec->saved_register_size, rec->local_size, rec->parameter_size};
    if (!set_vars(&v, base_names, base_vals, 6))
        return false;
    if (sw_ctx_has(lc, SW_X86_EBX) && sw_win_vars_set(&v, "$ebx", (uint32_t)lc->regs[SW_X86_EBX]))
        return false;

    uint32_t ra_search = esp + callee_params + rec->local_size + rec->saved_register_size;
    uint32_t ra_old = ra_search, found = 0, loc;
    /* Allow for up to three words of alignment padding above the computed location. */
    if (scan32(w, ra_search, 3, &loc, &found)) {
        ra_search = loc;
        /* An FPO system call in the context frame may have left its own return address on
         * top of the stack: skip it and look again. */
        if (w_is_context(last) && rec->type == 0 && ra_old == ra_search &&
            found == (uint32_t)lc->regs[SW_X86_EIP]) {
            ra_search += 4;
            if (scan32(w, ra_search, 3, &loc, &found))
                ra_search = loc;
        }
    }

    char synth[128];
    struct sym_slice program;
    bool recover_ebp = true;
    if (rec->has_program) {
        program = rec->program;
    } else if (rec->allocates_base_pointer) {
        /* The function saved %ebp in its saved-register area and uses it for other data. */
        program = sym_slice_cstr("$eip .raSearchStart ^ = "
                                 "$ebp $esp .cbCalleeParams + .cbSavedRegs + 8 - ^ = "
                                 "$esp .raSearchStart 4 + =");
    } else {
        /* %ebp untouched; %ebx is forwarded too, which ntdll forwarding stubs need. */
        size_t n = strlen("$eip .raSearchStart ^ = $esp .raSearchStart 4 + =");
        memcpy(synth, "$eip .raSearchStart ^ = $esp .raSearchStart 4 + =", n + 1);
        if (sw_ctx_has(lc, SW_X86_EBX)) {
            memcpy(synth + n, " $ebx $ebx =", strlen(" $ebx $ebx =") + 1);
            n += strlen(" $ebx $ebx =");
        }
        program = sym_slice_make(synth, n);
        recover_ebp = false;
    }
    /* With stack realignment (@) only %ebp locates the return address. */
    if (ebp_valid && program.n > 0 && memchr(program.p, '@', program.n) != NULL)
        ra_search = ebp + 4;
    if (sw_win_vars_set(&v, ".raSearchStart", ra_search) ||
        sw_win_vars_set(&v, ".raSearch", ra_search))
        return false;

    enum sw_trust trust = SW_TRUST_CFI;
    sym_err rc = sw_win_eval(program, &v, &w->stack);
    if (rc != SYM_OK || !assigned(&v, "$eip") || !assigned(&v, "$esp")) {
        /* The program could not run here (e.g. %ebp does not point into the stack): scan. */
        uint32_t ip;
        if (!scan_allowed || !scan32(w, esp, w_is_context(last) ? 160 : 40, &loc, &ip))
            return false;
        if (sw_win_vars_set(&v, "$eip", ip) || sw_win_vars_set(&v, "$esp", loc + 4))
            return false;
        trust = SW_TRUST_SCAN;
    }

    /* Both %eip and %ebp 0 means the end of the stack; otherwise check the result. */
    if (var(&v, "$eip") != 0 || var(&v, "$ebp") != 0) {
        uint32_t offset = 0;
        if (sw_minidump_module_at(w->md, var(&v, "$eip")) == NULL) {
            /* Not a return address: look for one above .raSearchStart. */
            uint32_t start = var(&v, ".raSearchStart") + 4, ip;
            if (scan_allowed && scan32(w, start, w_is_context(last) ? 160 : 40, &loc, &ip)) {
                if (sw_win_vars_set(&v, "$eip", ip) || sw_win_vars_set(&v, "$esp", loc + 4))
                    return false;
                offset = loc - start;
                trust = SW_TRUST_CFI_SCAN;
            }
        }
        if (recover_ebp) {
            /* When frames may have been skipped or %ebp does not point into the stack, take
             * the highest word of the saved-register area that does. */
            uint32_t new_ebp = var(&v, "$ebp"), probe;
            bool skipped = trust != SW_TRUST_CFI && new_ebp <= ra_search + offset;
            if (skipped || !read32(w, new_ebp, &probe)) {
                uint32_t search = rec->saved_register_size + offset;
                uint32_t end = esp + callee_params;
                uint32_t steps = search / 4 + 1;
                for (uint32_t a = end + search; steps-- > 0; a -= 4) {
                    uint32_t cand;
                    if (!read32(w, a, &cand))
                        break;
                    if (read32(w, cand, &probe)) {
                        if (sw_win_vars_set(&v, "$ebp", cand))
                            return false;
                        break;
                    }
                }
            }
        }
    }

    *out = (struct sw_frame){0};
    out->trust = trust;
    out->ctx = *lc;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, SW_X86_EIP, var(&v, "$eip"));
    sw_ctx_set(&out->ctx, SW_X86_ESP, var(&v, "$esp"));
    sw_ctx_set(&out->ctx, SW_X86_EBP, var(&v, "$ebp"));
    static const struct {
        const char *name;
        int reg;
    } saved[] = {{"$ebx", SW_X86_EBX}, {"$esi", SW_X86_ESI}, {"$edi", SW_X86_EDI}};
    for (size_t i = 0; i < 3; i++)
        if (assigned(&v, saved[i].name))
            sw_ctx_set(&out->ctx, saved[i].reg, var(&v, saved[i].name));
    return true;
}

static bool by_cfi(struct walker *w, struct sw_frame *out, sym_err *err)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    struct sw_context c;
    sym_err rc = w_cfi(w, last, &c);
    if (rc == SYM_ENOMEM)
        *err = rc;
    if (rc != SYM_OK)
        return false;
    if (!sw_ctx_has(&c, SW_X86_EIP) || !sw_ctx_has(&c, SW_X86_ESP) || !sw_ctx_has(&c, SW_X86_EBP))
        return false;
    *out = (struct sw_frame){0};
    out->ctx = c;
    out->trust = SW_TRUST_CFI;
    return true;
}

static bool by_ebp(struct walker *w, bool scan_allowed, struct sw_frame *out)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    uint32_t esp = (uint32_t)last->ctx.regs[SW_X86_ESP];
    uint32_t ebp = (uint32_t)last->ctx.regs[SW_X86_EBP];
    uint32_t caller_eip, caller_esp, caller_ebp;
    enum sw_trust trust;
    if (read32(w, ebp + 4, &caller_eip) && read32(w, ebp, &caller_ebp)) {
        caller_esp = ebp + 8;
        trust = SW_TRUST_FP;
    } else {
        uint32_t loc;
        if (!scan_allowed || !scan32(w, esp, w_is_context(last) ? 160 : 40, &loc, &caller_eip))
            return false;
        caller_esp = loc + 4;
        /* The caller's %ebp is normally saved just below the return address. */
        uint32_t link = caller_esp - 8;
        if (!read32(w, link, &caller_ebp) || caller_ebp <= link ||
            caller_ebp - link > MAX_FRAME_GAP)
            caller_ebp = ebp;
        trust = SW_TRUST_SCAN;
    }
    *out = (struct sw_frame){0};
    out->trust = trust;
    out->ctx = last->ctx;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, SW_X86_EIP, caller_eip);
    sw_ctx_set(&out->ctx, SW_X86_ESP, caller_esp);
    sw_ctx_set(&out->ctx, SW_X86_EBP, caller_ebp);
    return true;
}

bool walk_x86_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    struct win_info wi;
    find_win_info(w, last, &wi);
    bool ok = false;
    if (wi.kind != WIN_NONE)
        ok = by_win_info(w, &wi, scan_allowed, out);
    if (!ok)
        ok = by_cfi(w, out, err);
    if (*err != SYM_OK)
        return false;
    if (!ok)
        ok = by_ebp(w, scan_allowed, out);
    if (!ok)
        return false;
    uint32_t eip = (uint32_t)out->ctx.regs[SW_X86_EIP];
    if (w_terminate(eip, (uint32_t)out->ctx.regs[SW_X86_ESP], (uint32_t)last->ctx.regs[SW_X86_ESP],
                    w_is_context(last)))
        return false;
    out->instruction = (uint32_t)(eip - 1);
    return true;
}
