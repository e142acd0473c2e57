/* SPDX-License-Identifier: MPL-2.0 */
/* process.c: sw_process(): choose each thread's initial context (the exception context for the
 * crashing thread), find its stack memory, walk it, and assemble the crash analysis. The dump
 * thread (the handler that wrote the dump) is listed but not walked. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sym/alloc.h"
#include "walk_int.h"

void sw_process_options_default(struct sw_process_options *o)
{
    o->max_frames = 8192;
    o->max_scanned_frames = 1u << 14;
    o->max_threads = 4096;
    o->max_total_frames = 1u << 18;
}

const char *sw_trust_json_name(enum sw_trust t)
{
    switch (t) {
    case SW_TRUST_SCAN:
    case SW_TRUST_LEAF:
        return "scan";
    case SW_TRUST_CFI_SCAN:
        return "cfi_scan";
    case SW_TRUST_FP:
        return "frame_pointer";
    case SW_TRUST_CFI:
        return "cfi";
    case SW_TRUST_PREWALKED:
        return "prewalked";
    case SW_TRUST_CONTEXT:
        return "context";
    default:
        return "none";
    }
}

const char *sw_trust_breakpad_name(enum sw_trust t)
{
    switch (t) {
    case SW_TRUST_SCAN:
        return "stack scanning";
    case SW_TRUST_LEAF:
        return "simulating a return from leaf function";
    case SW_TRUST_CFI_SCAN:
        return "call frame info with scanning";
    case SW_TRUST_FP:
        return "previous frame's frame pointer";
    case SW_TRUST_CFI:
        return "call frame info";
    case SW_TRUST_PREWALKED:
        return "recovered by external stack walker";
    case SW_TRUST_CONTEXT:
        return "given as instruction pointer in context";
    default:
        return "unknown";
    }
}

long sw_process_breakpad_thread_index(const struct sw_process_state *st, long thread)
{
    if (st == NULL || thread < 0 || (size_t)thread >= st->n_threads)
        return -1;
    long idx = 0;
    for (long i = 0; i < thread; i++)
        if (st->threads[i].status != SW_THREAD_DUMP_THREAD)
            idx++;
    return idx;
}

/* Breakpad's assertion wording. */
static sym_err format_assertion(struct sw_process_state *st, struct md_arena *a)
{
    const struct sw_md_assertion *as = &st->md->assertion;
    if (!as->present)
        return SYM_OK;
    char buf[1024];
    int n;
    switch (as->type) {
    case 1:
        n = snprintf(buf, sizeof(buf), "Invalid parameter passed to library function");
        break;
    case 2:
        n = snprintf(buf, sizeof(buf), "Pure virtual function called");
        break;
    default:
        n = snprintf(buf, sizeof(buf), "Unknown assertion type 0x%08" PRIx32, as->type);
        break;
    }
    if (as->expression[0] != '\0' && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s", as->expression);
    if (as->function[0] != '\0' && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " in function %s", as->function);
    if (as->file[0] != '\0' && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", in file %s", as->file);
    if (as->line != 0 && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " at line %" PRIu32, as->line);
    if (n < 0)
        return SYM_OK;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    st->assertion = md_arena_strndup(a, buf, len);
    return st->assertion ? SYM_OK : SYM_ENOMEM;
}

/* The thread's stack: its descriptor's bytes, else the memory-list region holding its start,
 * else the one holding its stack pointer. */
static void thread_stack(const struct sw_minidump *md, const struct sw_md_thread *t,
                         const struct sw_context *ctx, struct sw_memory *out)
{
    memset(out, 0, sizeof(*out));
    out->big_endian = md->big_endian;
    if (t->stack.p != NULL) {
        out->base = t->stack_start;
        out->data = t->stack.p;
        out->size = t->stack.n;
    } else {
        const struct sw_md_memory *m =
            t->stack_start ? sw_minidump_memory_at(md, t->stack_start) : NULL;
        int sp = sw_reg_sp(ctx->cpu);
        if (m == NULL && sp >= 0)
            m = sw_minidump_memory_at(md, ctx->regs[sp]);
        if (m == NULL)
            return;
        out->base = m->base;
        out->data = m->data;
        out->size = (size_t)m->size;
    }
    /* A 32-bit CPU cannot have a stack above 4 GiB: such bounds are corrupt. */
    if (sw_cpu_pointer_size(ctx->cpu) == 4 && out->size > 0 &&
        out->base + (out->size - 1) > 0xFFFFFFFFu)
        out->data = NULL;
}

/* GetLastError() lives in the TEB (x86: +0x34, amd64: +0x68) when the dump captured it. */
static void last_error(const struct sw_minidump *md, enum sw_cpu cpu, struct sw_thread *t,
                       uint64_t teb)
{
    uint64_t off = cpu == SW_CPU_X86 ? 0x34 : cpu == SW_CPU_AMD64 ? 0x68 : 0;
    if (off == 0 || teb == 0 || teb > UINT64_MAX - off)
        return;
    const struct sw_md_memory *m = sw_minidump_memory_at(md, teb + off);
    struct sw_memory mem = {m ? m->base : 0, m ? m->data : NULL, m ? (size_t)m->size : 0,
                            md->big_endian};
    uint64_t v;
    if (m != NULL && sw_memory_read(&mem, teb + off, 4, &v)) {
        t->has_last_error = true;
        t->last_error = (uint32_t)v;
    }
}

static uint64_t arm64_mask(const struct sw_minidump *md)
{
    uint64_t top = 0;
    for (size_t i = 0; i < md->n_modules; i++) {
        uint64_t end = md->modules[i].base + md->modules[i].size;
        if (end > top)
            top = end;
    }
    if (top == 0)
        return UINT64_MAX;
    top |= top >> 1;
    top |= top >> 2;
    top |= top >> 4;
    top |= top >> 8;
    top |= top >> 16;
    top |= top >> 32;
    return top;
}

sym_err sw_process(const struct sw_minidump *md, const struct sw_supplier *suppliers,
                   size_t n_suppliers, const struct sw_process_options *opts,
                   struct sw_process_state **out, struct sym_diag *d)
{
    if (md == NULL || out == NULL || (n_suppliers > 0 && suppliers == NULL))
        return sym_diag_set(d, SYM_EINVAL, "sw_process: missing dump or output");
    struct sw_process_options o;
    if (opts != NULL)
        o = *opts;
    else
        sw_process_options_default(&o);
    if (o.max_frames == 0)
        o.max_frames = 1;
    if (o.max_total_frames == 0)
        o.max_total_frames = 1u << 18;

    sym_err rc = SYM_ENOMEM;
    struct sw_process_state *st = sym_calloc(1, sizeof(*st));
    struct proc *p = sym_calloc(1, sizeof(*p));
    struct walker w;
    memset(&w, 0, sizeof(w));
    sym_buf_init(&w.rules, 1u << 20);
    if (st == NULL || p == NULL) {
        sym_free(st);
        sym_free(p);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory processing the minidump");
    }
    md_arena_init(&p->arena);
    st->priv = p;
    st->md = md;
    st->os = md->system_info.os;
    st->cpu = md->system_info.cpu;
    st->requesting_thread = -1;
    p->suppliers = suppliers;
    p->n_suppliers = n_suppliers;

    if (md->n_modules > 0) {
        st->modules = md_arena_alloc(&p->arena, md->n_modules * sizeof(*st->modules));
        p->mods = md_arena_alloc(&p->arena, md->n_modules * sizeof(*p->mods));
        if (st->modules == NULL || p->mods == NULL)
            goto out;
    }
    st->n_threads = md->n_threads;
    if (md->n_threads > 0) {
        st->threads = md_arena_alloc(&p->arena, md->n_threads * sizeof(*st->threads));
        if (st->threads == NULL)
            goto out;
    }

    /* Without SystemInfo the CPU comes from the first decodable context. */
    if (st->cpu == SW_CPU_UNKNOWN) {
        struct sw_context c;
        if (sw_minidump_exception_context(md, &c) == SYM_OK)
            st->cpu = c.cpu;
        for (size_t i = 0; i < md->n_threads && st->cpu == SW_CPU_UNKNOWN; i++)
            if (sw_minidump_thread_context(md, i, &c) == SYM_OK)
                st->cpu = c.cpu;
    }

    st->crashed = md->exception.present;
    if ((rc = reason_fill(st, &p->arena)) != SYM_OK ||
        (rc = format_assertion(st, &p->arena)) != SYM_OK)
        goto out;

    const struct sw_md_breakpad_info *bi = &md->breakpad_info;
    bool has_req = bi->present && bi->has_requesting_thread;
    uint32_t req_tid = bi->requesting_thread_id;
    if (md->exception.present) {
        has_req = true;
        req_tid = md->exception.thread_id;
    }

    w.st = st;
    w.p = p;
    w.md = md;
    w.os = st->os;
    w.max_frames = o.max_frames;
    w.max_scanned = o.max_scanned_frames;
    w.arm64_mask = arm64_mask(md);

    size_t walked = 0;
    for (size_t i = 0; i < md->n_threads; i++) {
        const struct sw_md_thread *mt = &md->threads[i];
        struct sw_thread *t = &st->threads[i];
        t->thread_id = mt->thread_id;
        t->name = mt->name;
        if (bi->present && bi->has_dump_thread && mt->thread_id == bi->dump_thread_id) {
            t->status = SW_THREAD_DUMP_THREAD;
            continue;
        }
        bool requesting = has_req && mt->thread_id == req_tid && st->requesting_thread < 0;
        if (requesting)
            st->requesting_thread = (long)i;
        struct sw_context ctx;
        sym_err crc = SYM_ENOTFOUND;
        /* The crashed thread's own context is inside the exception handler; the exception
         * context is where it crashed. */
        if (requesting && st->crashed)
            crc = sw_minidump_exception_context(md, &ctx);
        if (crc != SYM_OK)
            crc = sw_minidump_thread_context(md, i, &ctx);
        if (crc != SYM_OK || walked >= o.max_threads || sw_cpu_nregs(ctx.cpu) == 0) {
            t->status = SW_THREAD_NO_CONTEXT;
            continue;
        }
        walked++;
        w.cpu = ctx.cpu;
        w.width = sw_cpu_pointer_size(ctx.cpu);
        thread_stack(md, mt, &ctx, &w.stack);
        if (w.stack.data == NULL)
            t->status = SW_THREAD_MISSING_MEMORY;
        /* A frame costs a few hundred bytes: the budget bounds memory for any dump. */
        uint64_t left =
            o.max_total_frames > st->n_frames_total ? o.max_total_frames - st->n_frames_total : 0;
        w.max_frames = left < o.max_frames ? (left > 0 ? (uint32_t)left : 1) : o.max_frames;
        if ((rc = walk_thread(&w, &ctx, t)) != SYM_OK)
            goto out;
        st->n_frames_total += t->n_frames;
        if (st->os == SW_OS_WINDOWS)
            last_error(md, ctx.cpu, t, mt->teb);
    }
    rc = SYM_OK;
out:
    /* Names were copied: the images can go back to their suppliers. */
    for (size_t i = 0; p->mods != NULL && i < md->n_modules; i++) {
        const struct sz_module *sm = &p->mods[i];
        if (sm->state == SZ_LOADED && sm->from->ops->release != NULL)
            sm->from->ops->release(sm->from->impl, &sm->syms);
    }
    sym_free(w.frames);
    sym_free(w.extra);
    sym_buf_cleanup(&w.rules);
    if (rc != SYM_OK) {
        sw_process_state_free(st);
        return sym_diag_set(d, rc, "%s while processing the minidump", sym_strerror(rc));
    }
    *out = st;
    return SYM_OK;
}

void sw_process_state_free(struct sw_process_state *st)
{
    if (st == NULL)
        return;
    struct proc *p = st->priv;
    if (p != NULL) {
        sym_free(p->interned);
        md_arena_free(&p->arena);
        sym_free(p);
    }
    sym_free(st);
}
