/* SPDX-License-Identifier: MPL-2.0 */
/* context.h: CPU register contexts of the four unwindable architectures (x86, amd64, arm, arm64),
 * decoded from the raw minidump CONTEXT records, plus register naming for symbol-file rules and
 * for output. Pure data and pure functions; no allocation. */
#ifndef SW_CONTEXT_H
#define SW_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"

enum sw_cpu {
    SW_CPU_UNKNOWN = 0,
    SW_CPU_X86,
    SW_CPU_AMD64,
    SW_CPU_ARM,
    SW_CPU_ARM64,
    SW_CPU_PPC,
    SW_CPU_PPC64,
    SW_CPU_SPARC,
    SW_CPU_MIPS,
    SW_CPU_MIPS64,
};

/* Register indices into sw_context.regs, per CPU. */
enum {
    SW_X86_EIP,
    SW_X86_ESP,
    SW_X86_EBP,
    SW_X86_EBX,
    SW_X86_ESI,
    SW_X86_EDI,
    SW_X86_EAX,
    SW_X86_ECX,
    SW_X86_EDX,
    SW_X86_EFLAGS,
    SW_X86_NREGS
};
enum {
    SW_AMD64_RAX,
    SW_AMD64_RDX,
    SW_AMD64_RCX,
    SW_AMD64_RBX,
    SW_AMD64_RSI,
    SW_AMD64_RDI,
    SW_AMD64_RBP,
    SW_AMD64_RSP,
    SW_AMD64_R8,
    SW_AMD64_R9,
    SW_AMD64_R10,
    SW_AMD64_R11,
    SW_AMD64_R12,
    SW_AMD64_R13,
    SW_AMD64_R14,
    SW_AMD64_R15,
    SW_AMD64_RIP,
    SW_AMD64_EFLAGS,
    SW_AMD64_NREGS
};
/* arm: r0..r15 then cpsr. r11 is the frame pointer except on iOS (r7). */
enum {
    SW_ARM_R7 = 7,
    SW_ARM_FP = 11,
    SW_ARM_R12 = 12,
    SW_ARM_SP = 13,
    SW_ARM_LR = 14,
    SW_ARM_PC = 15,
    SW_ARM_CPSR = 16,
    SW_ARM_NREGS = 17
};
/* arm64: x0..x28, fp (x29), lr (x30), sp, pc, cpsr. */
enum {
    SW_ARM64_FP = 29,
    SW_ARM64_LR = 30,
    SW_ARM64_SP = 31,
    SW_ARM64_PC = 32,
    SW_ARM64_CPSR = 33,
    SW_ARM64_NREGS = 34
};

#define SW_MAX_REGS 34

struct sw_context {
    enum sw_cpu cpu;
    uint64_t context_flags; /* as written by the dump writer */
    uint64_t valid;         /* bit i set: regs[i] holds a known value */
    uint64_t regs[SW_MAX_REGS];
};

/* Bytes of each layout that hold the registers decoded here; records carry more (FP and vector
 * state, XSTATE/CET extensions), which is accepted and ignored. */
#define SW_CONTEXT_X86_MIN_SIZE       204u
#define SW_CONTEXT_AMD64_MIN_SIZE     256u
#define SW_CONTEXT_ARM_MIN_SIZE       72u
#define SW_CONTEXT_ARM64_MIN_SIZE     272u
#define SW_CONTEXT_ARM64_OLD_MIN_SIZE 276u

/* Decodes a raw CONTEXT record. cpu_hint is the CPU named by the SystemInfo stream
 * (SW_CPU_UNKNOWN: decide from the record's context_flags alone). swap: the dump is big-endian.
 * Every register the layout carries is marked valid.
 * SYM_EPARSE: the flags name no supported CPU, disagree with cpu_hint, or the record is shorter
 * than its layout's register area. *out is written only on success. */
SYM_MUST_CHECK sym_err sw_context_parse(enum sw_cpu cpu_hint, const uint8_t *data, size_t len,
                                        bool swap, struct sw_context *out);

/* 4 or 8: the width of addresses and registers (8 for unknown CPUs). */
unsigned sw_cpu_pointer_size(enum sw_cpu cpu);
/* Number of registers in sw_context.regs for cpu (0 for CPUs without an unwinder). */
unsigned sw_cpu_nregs(enum sw_cpu cpu);
/* "x86", "amd64", "arm", "arm64", "ppc", "ppc64", "sparc", "mips", "mips64" or "unknown". */
const char *sw_cpu_name(enum sw_cpu cpu);

/* The output name of register idx ("eip", "rax", "fp", "x0", ...), NULL when out of range. */
const char *sw_reg_name(enum sw_cpu cpu, unsigned idx);
/* The index of a register named as symbol files name it ("$rsp", "$eip", "x29", "sp", "lr",
 * "r7", with the common aliases), or -1. n is the name length. */
int sw_reg_lookup(enum sw_cpu cpu, const char *name, size_t n);

/* Program counter, stack pointer and frame pointer indices of cpu (-1 when none). For arm the
 * frame pointer is r11; callers on iOS use r7. */
int sw_reg_pc(enum sw_cpu cpu);
int sw_reg_sp(enum sw_cpu cpu);
int sw_reg_fp(enum sw_cpu cpu);

static inline bool sw_ctx_has(const struct sw_context *c, int idx)
{
    return idx >= 0 && (c->valid >> idx) & 1u;
}
static inline void sw_ctx_set(struct sw_context *c, int idx, uint64_t v)
{
    c->regs[idx] = v;
    c->valid |= (uint64_t)1 << idx;
}

#endif
