/* SPDX-License-Identifier: MPL-2.0 */
/* walk_arm64.c: finding the caller of an arm64 frame: STACK CFI, the frame-record chain (x29),
 * stack scanning. Recovered code pointers are stripped of pointer-authentication bits when the
 * stripped value lands in a module. */
#include "walk_int.h"

uint64_t walk_arm64_strip(const struct walker *w, uint64_t ptr)
{
    uint64_t stripped = ptr & w->arm64_mask;
    return sw_minidump_module_at(w->md, stripped) != NULL ? stripped : ptr;
}

static bool by_cfi(struct walker *w, struct sw_frame *out, sym_err *err)
{
    struct sw_context c;
    sym_err rc = w_cfi(w, &w->frames[w->n - 1], &c);
    if (rc == SYM_ENOMEM)
        *err = rc;
    if (rc != SYM_OK)
        return false;
    c.regs[SW_ARM64_PC] = walk_arm64_strip(w, c.regs[SW_ARM64_PC]);
    *out = (struct sw_frame){0};
    out->ctx = c;
    out->trust = SW_TRUST_CFI;
    return true;
}

/* A frame whose lr is unknown (recovered by CFI without an lr rule) gets it back from its
 * callee's frame record, when that record agrees with the frame's fp. */
static void correct_lr(struct walker *w, struct sw_frame *last)
{
    if (w->n < 2 || last->ctx.regs[SW_ARM64_FP] <= last->ctx.regs[SW_ARM64_SP])
        return;
    const struct sw_frame *callee = &w->frames[w->n - 2];
    uint64_t callee_fp = callee->ctx.regs[SW_ARM64_FP], fp = 0, lr = 0;
    if (callee_fp && !w_read(w, callee_fp, &fp))
        return;
    if (last->ctx.regs[SW_ARM64_FP] != fp)
        return;
    if (callee_fp && !w_read(w, callee_fp + 8, &lr))
        return;
    last->ctx.regs[SW_ARM64_LR] = walk_arm64_strip(w, lr);
}

static bool by_frame_pointer(struct walker *w, struct sw_frame *out)
{
    struct sw_frame *last = &w->frames[w->n - 1];
    if (!sw_ctx_has(&last->ctx, SW_ARM64_LR))
        correct_lr(w, last);
    uint64_t fp = last->ctx.regs[SW_ARM64_FP], caller_fp = 0, caller_lr = 0;
    if (fp && (!w_read(w, fp, &caller_fp) || !w_read(w, fp + 8, &caller_lr)))
        return false;
    caller_lr = walk_arm64_strip(w, caller_lr);
    uint64_t caller_sp = fp ? fp + 16 : last->ctx.regs[SW_ARM64_SP];
    *out = (struct sw_frame){0};
    out->trust = SW_TRUST_FP;
    out->ctx = last->ctx;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, SW_ARM64_FP, caller_fp);
    sw_ctx_set(&out->ctx, SW_ARM64_SP, caller_sp);
    sw_ctx_set(&out->ctx, SW_ARM64_PC, last->ctx.regs[SW_ARM64_LR]);
    sw_ctx_set(&out->ctx, SW_ARM64_LR, caller_lr);
    return true;
}

static bool by_scan(struct walker *w, struct sw_frame *out)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    uint64_t loc, ip;
    if (!w_scan_caller(w, last, &loc, &ip))
        return false;
    *out = (struct sw_frame){0};
    out->trust = SW_TRUST_SCAN;
    out->ctx = last->ctx;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, SW_ARM64_PC, ip);
    sw_ctx_set(&out->ctx, SW_ARM64_SP, loc + 8);
    return true;
}

bool walk_arm64_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    bool ok = by_cfi(w, out, err);
    if (*err != SYM_OK)
        return false;
    if (!ok)
        ok = by_frame_pointer(w, out);
    if (!ok && scan_allowed)
        ok = by_scan(w, out);
    if (!ok)
        return false;
    uint64_t pc = out->ctx.regs[SW_ARM64_PC];
    if (w_terminate(pc, out->ctx.regs[SW_ARM64_SP], last->ctx.regs[SW_ARM64_SP],
                    w_is_context(last)))
        return false;
    out->instruction = pc - 4;
    return true;
}
