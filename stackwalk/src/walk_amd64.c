/* SPDX-License-Identifier: MPL-2.0 */
/* walk_amd64.c: finding the caller of an amd64 frame: STACK CFI; on Windows, for the context
 * frame only, a simulated return (a leaf function without unwind data); the %rbp chain except on
 * Windows (MSVC code does not keep one); stack scanning. */
#include "walk_int.h"

static bool non_canonical(uint64_t p)
{
    return p > 0x7FFFFFFFFFFFull && p < 0xFFFF800000000000ull;
}

static bool by_cfi(struct walker *w, struct sw_frame *out, sym_err *err)
{
    struct sw_context c;
    sym_err rc = w_cfi(w, &w->frames[w->n - 1], &c);
    if (rc == SYM_ENOMEM)
        *err = rc;
    if (rc != SYM_OK)
        return false;
    if (!sw_ctx_has(&c, SW_AMD64_RIP) || !sw_ctx_has(&c, SW_AMD64_RSP) ||
        c.regs[SW_AMD64_RIP] == 0 || c.regs[SW_AMD64_RSP] == 0)
        return false;
    *out = (struct sw_frame){0};
    out->ctx = c;
    out->trust = SW_TRUST_CFI;
    return true;
}

static bool by_simulated_return(struct walker *w, struct sw_frame *out)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    uint64_t loc, ip;
    if (!w_scan(w, last->ctx.regs[SW_AMD64_RSP], 1, &loc, &ip))
        return false;
    *out = (struct sw_frame){0};
    out->trust = SW_TRUST_LEAF;
    out->ctx = last->ctx; /* a leaf changes no callee-saved register */
    out->ctx.regs[SW_AMD64_RIP] = ip;
    out->ctx.regs[SW_AMD64_RSP] = loc + 8;
    return true;
}

static bool by_frame_pointer(struct walker *w, struct sw_frame *out)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    uint64_t rbp = last->ctx.regs[SW_AMD64_RBP];
    if (rbp % 8 != 0)
        return false;
    uint64_t rip, caller_rbp, probe;
    if (!w_read(w, rbp + 8, &rip) || !w_read(w, rbp, &caller_rbp))
        return false;
    uint64_t rsp = rbp + 16;
    if (non_canonical(rip) || rsp <= rbp || caller_rbp < rsp)
        return false;
    if (!w_read(w, caller_rbp, &probe))
        return false;
    *out = (struct sw_frame){0};
    out->trust = SW_TRUST_FP;
    out->ctx = last->ctx;
    out->ctx.valid = 0;
    sw_ctx_set(&out->ctx, SW_AMD64_RIP, rip);
    sw_ctx_set(&out->ctx, SW_AMD64_RSP, rsp);
    sw_ctx_set(&out->ctx, SW_AMD64_RBP, caller_rbp);
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
    sw_ctx_set(&out->ctx, SW_AMD64_RIP, ip);
    sw_ctx_set(&out->ctx, SW_AMD64_RSP, loc + 8);
    /* Keep a plausible %rbp: functions push the caller's just below the return address. */
    if (sw_ctx_has(&last->ctx, SW_AMD64_RBP)) {
        uint64_t rbp = last->ctx.regs[SW_AMD64_RBP], caller_rbp;
        if (loc - 8 == rbp) {
            if (w_read(w, rbp, &caller_rbp) && caller_rbp > loc)
                sw_ctx_set(&out->ctx, SW_AMD64_RBP, caller_rbp);
        } else if (rbp >= loc + 8) {
            sw_ctx_set(&out->ctx, SW_AMD64_RBP, rbp);
        }
    }
    return true;
}

bool walk_amd64_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err)
{
    const struct sw_frame *last = &w->frames[w->n - 1];
    bool windows = w->os == SW_OS_WINDOWS;
    bool ok = by_cfi(w, out, err);
    if (*err != SYM_OK)
        return false;
    if (!ok && windows && w_is_context(last))
        ok = by_simulated_return(w, out);
    if (!ok && !windows)
        ok = by_frame_pointer(w, out);
    if (!ok && scan_allowed)
        ok = by_scan(w, out);
    if (!ok)
        return false;
    if (w->os == SW_OS_NACL) {
        /* Native Client sandbox: only the low 32 bits of these registers are meaningful. */
        out->ctx.regs[SW_AMD64_RIP] = (uint32_t)out->ctx.regs[SW_AMD64_RIP];
        out->ctx.regs[SW_AMD64_RSP] = (uint32_t)out->ctx.regs[SW_AMD64_RSP];
        out->ctx.regs[SW_AMD64_RBP] = (uint32_t)out->ctx.regs[SW_AMD64_RBP];
    }
    uint64_t rip = out->ctx.regs[SW_AMD64_RIP];
    if (w_terminate(rip, out->ctx.regs[SW_AMD64_RSP], last->ctx.regs[SW_AMD64_RSP],
                    w_is_context(last)))
        return false;
    out->instruction = rip - 1;
    return true;
}
