/* SPDX-License-Identifier: MPL-2.0 */
/* walk_int.h: the stack walker's internals shared by walk.c (the per-thread loop, symbol
 * access, scanning, termination) and the per-architecture caller finders walk_{x86,amd64,arm,
 * arm64}.c. */
#ifndef SW_WALK_INT_H
#define SW_WALK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "md_int.h"
#include "stackwalk/cfi.h"
#include "stackwalk/process.h"
#include "sym/buf.h"
#include "sym/image.h"

/* Per-module symbol state of one sw_process() call. */
enum { SZ_UNASKED = 0, SZ_LOADED, SZ_MISSING };
struct sz_module {
    uint8_t state;
    const struct sym_image *image;
    const struct sw_supplier *from; /* the supplier that gave it, for release */
    struct sw_symbols syms;
};

/* Names copied from symbol images, interned by their address in the image: a name shared by
 * many frames is copied once, which bounds the result by the images' size. */
struct intern_entry {
    const char *src;
    size_t n;
    const char *copy;
};

struct proc {
    struct md_arena arena; /* every string and array of the result */
    struct intern_entry *interned;
    size_t n_interned, cap_interned; /* open addressing, cap a power of two */
    const struct sw_supplier *suppliers;
    size_t n_suppliers;
    struct sz_module *mods;   /* parallel to md->modules */
    struct sym_lookup lookup; /* scratch (large: inline chain) */
};

/* What the walker remembers about each real frame beyond the public sw_frame. */
struct wextra {
    bool win_param_valid; /* x86: a STACK WIN record or FUNC parameter size was found */
    uint32_t win_param_size;
};

struct walker {
    struct sw_process_state *st;
    struct proc *p;
    const struct sw_minidump *md;
    enum sw_cpu cpu;
    enum sw_os os;
    unsigned width;         /* pointer size */
    struct sw_memory stack; /* the thread's stack; data NULL when missing */
    struct sw_frame *frames;
    struct wextra *extra;
    size_t n, cap;
    uint32_t max_frames, max_scanned, scanned;
    uint64_t arm64_mask;  /* pointer-authentication strip mask */
    struct sym_buf rules; /* scratch for CFI rule text */
};

/* Finds the caller of the last frame into *out (ctx, trust, instruction set); false ends the
 * walk. Errors are only SYM_ENOMEM (returned through *err). */
bool walk_x86_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err);
bool walk_amd64_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err);
bool walk_arm_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err);
bool walk_arm64_caller(struct walker *w, bool scan_allowed, struct sw_frame *out, sym_err *err);
/* arm64: the context frame's lr is stripped of pointer-authentication bits. */
uint64_t walk_arm64_strip(const struct walker *w, uint64_t ptr);

/* ---- walk.c ---- */

/* Walks one thread from its initial context: symbolizes each frame and asks the CPU's caller
 * finder for the next until it gives up, max_frames is reached or the stack is missing. The
 * frames end up in the result arena (t->frames, t->n_frames). SYM_ENOMEM only. */
sym_err walk_thread(struct walker *w, const struct sw_context *ctx, struct sw_thread *t);

/* Reads a pointer-sized word of the thread's stack. */
bool w_read(const struct walker *w, uint64_t addr, uint64_t *out);
/* The module containing addr and its symbols (asking the suppliers the first time); *img NULL
 * when the module has none. Returns the module index or -1. */
long w_module(struct walker *w, uint64_t addr, const struct sym_image **img);
/* Breakpad's InstructionAddressSeemsValid: inside a module, and inside a function when that
 * module has symbols. */
bool w_address_seems_valid(struct walker *w, uint64_t addr);
/* Stack scanning: from start, words+1 pointer-sized words (the bound is inclusive, as in
 * Breakpad); the first word v with v - 1 inside a module and valid wins. */
bool w_scan(struct walker *w, uint64_t start, int words, uint64_t *loc, uint64_t *ip);
/* The standard search window: 160 words from the context frame, 40 otherwise. */
bool w_scan_caller(struct walker *w, const struct sw_frame *last, uint64_t *loc, uint64_t *ip);
/* The CFI rule set covering f's instruction, evaluated into *caller. SYM_OK, SYM_ENOTFOUND (no
 * CFI or unusable), SYM_ENOMEM. */
sym_err w_cfi(struct walker *w, const struct sw_frame *f, struct sw_context *caller);
/* TerminateWalk: caller ip below 4096, or the stack pointer not moving up (equality allowed
 * only when unwinding the context frame). */
bool w_terminate(uint64_t caller_ip, uint64_t caller_sp, uint64_t callee_sp, bool first_unwind);

static inline bool w_is_context(const struct sw_frame *f)
{
    return f->trust == SW_TRUST_CONTEXT;
}

/* ---- crash reasons (reason.c) ---- */

/* Fills st->crash_reason, crash_reason_breakpad, crash_address. SYM_ENOMEM only. */
sym_err reason_fill(struct sw_process_state *st, struct md_arena *a);

#endif
