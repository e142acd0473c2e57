/* SPDX-License-Identifier: MPL-2.0 */
/* walk_arm.c: finding the caller of a 32-bit ARM frame: STACK CFI (not on iOS, whose CFI is not
 * trusted), the r7 frame chain on iOS only, stack scanning. */
#include "walk_int.h"

static bool by_cfi(struct walker *w, struct sw_frame *out, sym_err *err)
{
    struct sw_context c;
    sym_err rc = w_cfi(w, &w->frames[w->n - 1], &c);
    if (rc == SYM_ENOMEM)
        *err = rc;
    if (rc != SYM_OK)
        return false;
    *out = (struct sw_frame){0};
    out->ctx = c;
    out->trust = SW_TRUST_CFI;
    return true;
}

static bool by_frame_pointer(struct walker *w, struct sw_frame *out)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    const int fpr = SW_ARM_R7;
    if (!sw_ctx_has(&last->ctx, fpr))
        return false;
    uint32_t fp = (uint32_t)last->ctx.regs[fpr];
    uint64_t caller_fp = 0, caller_lr = 0;
    if (fp && (!sw_memory_read(&w->stack, fp, 4, &caller_fp) ||
               !sw_memory_read(&w->stack, (uint32_t)(fp + 4), 4, &caller_lr)))
        return false;
    uint32_t caller_sp = fp ? (uint32_t)(fp + 8) : (uint32_t)last->ctx.regs[SW_ARM_SP];
    *out = (struct sw_frame){0};
    out->trust = SW_TRUST_FP;
    out->ctx = last->ctx;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, fpr, caller_fp);
    sw_ctx_set(&out->ctx, SW_ARM_SP, caller_sp);
    sw_ctx_set(&out->ctx, SW_ARM_PC, (uint32_t)last->ctx.regs[SW_ARM_LR]);
    sw_ctx_set(&out->ctx, SW_ARM_LR, caller_lr);
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
    sw_ctx_set(&out->ctx, SW_ARM_PC, ip);
    sw_ctx_set(&out->ctx, SW_ARM_SP, (uint32_t)(loc + 4));
    return true;
}

bool walk_arm_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    bool ios = w->os == SW_OS_IOS;
    bool ok = false;
    if (!ios) {
        ok = by_cfi(w, out, err);
        if (*err != SYM_OK)
            return false;
    }
    if (!ok && ios)
        ok = by_frame_pointer(w, out);
    if (!ok && scan_allowed)
        ok = by_scan(w, out);
    if (!ok)
        return false;
    uint32_t pc = (uint32_t)out->ctx.regs[SW_ARM_PC];
    if (w_terminate(pc, (uint32_t)out->ctx.regs[SW_ARM_SP], (uint32_t)last->ctx.regs[SW_ARM_SP],
                    w_is_context(last)))
        return false;
    out->instruction = (uint32_t)(pc - 2);
    return true;
}
