/* SPDX-License-Identifier: MPL-2.0 */
/* context.c: decoding of minidump CONTEXT records and register naming. Every field is read at an
 * explicit offset with a bounds check; C struct layout is never relied on. */
#include "stackwalk/context.h"

#include <string.h>

#include "md_int.h"

/* context_flags CPU bits (the low byte holds the register-group flags). */
#define CF_X86       0x00010000u
#define CF_AMD64     0x00100000u
#define CF_ARM       0x40000000u
#define CF_ARM_OLD   0x00000040u
#define CF_ARM64     0x00400000u
#define CF_ARM64_OLD 0x80000000u
#define CF_PPC       0x20000000u
#define CF_SPARC     0x10000000u
#define CF_MIPS      0x00040000u
#define CF_MIPS64    0x00080000u

static const char *const x86_names[SW_X86_NREGS] = {
    "eip", "esp", "ebp", "ebx", "esi", "edi", "eax", "ecx", "edx", "eflags",
};
static const char *const amd64_names[SW_AMD64_NREGS] = {
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8",
    "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
};
static const char *const arm_names[SW_ARM_NREGS] = {
    "r0", "r1",  "r2", "r3",  "r4", "r5", "r6", "r7",   "r8",
    "r9", "r10", "fp", "r12", "sp", "lr", "pc", "cpsr",
};
static const char *const arm64_names[SW_ARM64_NREGS] = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",   "x10", "x11",
    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",  "x22", "x23",
    "x24", "x25", "x26", "x27", "x28", "fp",  "lr",  "sp",  "pc",  "cpsr",
};

unsigned sw_cpu_pointer_size(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
    case SW_CPU_ARM:
    case SW_CPU_PPC:
    case SW_CPU_SPARC:
    case SW_CPU_MIPS:
        return 4;
    default:
        return 8;
    }
}

unsigned sw_cpu_nregs(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
        return SW_X86_NREGS;
    case SW_CPU_AMD64:
        return SW_AMD64_NREGS;
    case SW_CPU_ARM:
        return SW_ARM_NREGS;
    case SW_CPU_ARM64:
        return SW_ARM64_NREGS;
    default:
        return 0;
    }
}

const char *sw_cpu_name(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
        return "x86";
    case SW_CPU_AMD64:
        return "amd64";
    case SW_CPU_ARM:
        return "arm";
    case SW_CPU_ARM64:
        return "arm64";
    case SW_CPU_PPC:
        return "ppc";
    case SW_CPU_PPC64:
        return "ppc64";
    case SW_CPU_SPARC:
        return "sparc";
    case SW_CPU_MIPS:
        return "mips";
    case SW_CPU_MIPS64:
        return "mips64";
    default:
        return "unknown";
    }
}

const char *sw_reg_name(enum sw_cpu cpu, unsigned idx)
{
    switch (cpu) {
    case SW_CPU_X86:
        return idx < SW_X86_NREGS ? x86_names[idx] : NULL;
    case SW_CPU_AMD64:
        return idx < SW_AMD64_NREGS ? amd64_names[idx] : NULL;
    case SW_CPU_ARM:
        return idx < SW_ARM_NREGS ? arm_names[idx] : NULL;
    case SW_CPU_ARM64:
        return idx < SW_ARM64_NREGS ? arm64_names[idx] : NULL;
    default:
        return NULL;
    }
}

static bool name_is(const char *name, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && memcmp(name, lit, l) == 0;
}

/* Parses the decimal suffix of "x12" / "r7" style names; -1 when not a plain number < limit. */
static int reg_number(const char *s, size_t n, int limit)
{
    if (n == 0 || n > 2)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (n == 2 && s[0] == '0')
        return -1;
    return v < limit ? v : -1;
}

int sw_reg_lookup(enum sw_cpu cpu, const char *name, size_t n)
{
    /* Breakpad's files name x86/amd64 registers with '$'; rust-minidump accepts an optional '$'
     * on every architecture, and so do we. */
    if (n > 0 && name[0] == '$') {
        name++;
        n--;
    }
    if (n == 0)
        return -1;
    switch (cpu) {
    case SW_CPU_X86:
        for (unsigned i = 0; i < SW_X86_NREGS; i++)
            if (name_is(name, n, x86_names[i]))
                return (int)i;
        if (name_is(name, n, "efl"))
            return SW_X86_EFLAGS;
        return -1;
    case SW_CPU_AMD64:
        for (unsigned i = 0; i < SW_AMD64_NREGS; i++)
            if (name_is(name, n, amd64_names[i]))
                return (int)i;
        return -1;
    case SW_CPU_ARM:
        if (name[0] == 'r') {
            int r = reg_number(name + 1, n - 1, 16);
            if (r >= 0)
                return r;
        }
        if (name_is(name, n, "sp"))
            return SW_ARM_SP;
        if (name_is(name, n, "lr"))
            return SW_ARM_LR;
        if (name_is(name, n, "pc"))
            return SW_ARM_PC;
        if (name_is(name, n, "fp"))
            return SW_ARM_FP;
        if (name_is(name, n, "ip"))
            return SW_ARM_R12;
        if (name_is(name, n, "cpsr"))
            return SW_ARM_CPSR;
        return -1;
    case SW_CPU_ARM64:
        if (name[0] == 'x') {
            int r = reg_number(name + 1, n - 1, 32);
            if (r >= 0)
                return r == 31 ? SW_ARM64_SP : r;
        }
        if (name_is(name, n, "sp"))
            return SW_ARM64_SP;
        if (name_is(name, n, "pc"))
            return SW_ARM64_PC;
        if (name_is(name, n, "fp"))
            return SW_ARM64_FP;
        if (name_is(name, n, "lr"))
            return SW_ARM64_LR;
        return -1;
    default:
        return -1;
    }
}

int sw_reg_pc(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
        return SW_X86_EIP;
    case SW_CPU_AMD64:
        return SW_AMD64_RIP;
    case SW_CPU_ARM:
        return SW_ARM_PC;
    case SW_CPU_ARM64:
        return SW_ARM64_PC;
    default:
        return -1;
    }
}

int sw_reg_sp(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
        return SW_X86_ESP;
    case SW_CPU_AMD64:
        return SW_AMD64_RSP;
    case SW_CPU_ARM:
        return SW_ARM_SP;
    case SW_CPU_ARM64:
        return SW_ARM64_SP;
    default:
        return -1;
    }
}

int sw_reg_fp(enum sw_cpu cpu)
{
    switch (cpu) {
    case SW_CPU_X86:
        return SW_X86_EBP;
    case SW_CPU_AMD64:
        return SW_AMD64_RBP;
    case SW_CPU_ARM:
        return SW_ARM_FP;
    case SW_CPU_ARM64:
        return SW_ARM64_FP;
    default:
        return -1;
    }
}

/* The CPU named by a context_flags word, judged by its CPU bits. */
static enum sw_cpu cpu_of_flags(uint32_t flags)
{
    if (flags & CF_ARM64_OLD)
        return SW_CPU_ARM64; /* old layout; the caller re-checks the u64 form */
    switch (flags & 0xFFFFFF00u) {
    case CF_X86:
        return SW_CPU_X86;
    case CF_AMD64:
        return SW_CPU_AMD64;
    case CF_ARM:
        return SW_CPU_ARM;
    case CF_ARM64:
        return SW_CPU_ARM64;
    case CF_PPC:
        return SW_CPU_PPC;
    case CF_SPARC:
        return SW_CPU_SPARC;
    case CF_MIPS:
        return SW_CPU_MIPS;
    case CF_MIPS64:
        return SW_CPU_MIPS64;
    default:
        break;
    }
    if ((flags & 0xFFFFFF00u) == 0 && (flags & CF_ARM_OLD))
        return SW_CPU_ARM;
    return SW_CPU_UNKNOWN;
}

static sym_err parse_x86(const struct md_rd *r, struct sw_context *c)
{
    if (r->len < SW_CONTEXT_X86_MIN_SIZE)
        return SYM_EPARSE;
    static const struct {
        int reg;
        uint32_t off;
    } map[] = {
        {SW_X86_EDI, 156},    {SW_X86_ESI, 160}, {SW_X86_EBX, 164}, {SW_X86_EDX, 168},
        {SW_X86_ECX, 172},    {SW_X86_EAX, 176}, {SW_X86_EBP, 180}, {SW_X86_EIP, 184},
        {SW_X86_EFLAGS, 192}, {SW_X86_ESP, 196},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        uint32_t v;
        if (!md_u32(r, map[i].off, &v))
            return SYM_EPARSE;
        sw_ctx_set(c, map[i].reg, v);
    }
    return SYM_OK;
}

static sym_err parse_amd64(const struct md_rd *r, struct sw_context *c)
{
    if (r->len < SW_CONTEXT_AMD64_MIN_SIZE)
        return SYM_EPARSE;
    /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 rip are consecutive u64s from offset 120. */
    static const int order[] = {
        SW_AMD64_RAX, SW_AMD64_RCX, SW_AMD64_RDX, SW_AMD64_RBX, SW_AMD64_RSP, SW_AMD64_RBP,
        SW_AMD64_RSI, SW_AMD64_RDI, SW_AMD64_R8,  SW_AMD64_R9,  SW_AMD64_R10, SW_AMD64_R11,
        SW_AMD64_R12, SW_AMD64_R13, SW_AMD64_R14, SW_AMD64_R15, SW_AMD64_RIP};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        uint64_t v;
        if (!md_u64(r, 120 + 8 * i, &v))
            return SYM_EPARSE;
        sw_ctx_set(c, order[i], v);
    }
    uint32_t efl;
    if (!md_u32(r, 68, &efl))
        return SYM_EPARSE;
    sw_ctx_set(c, SW_AMD64_EFLAGS, efl);
    return SYM_OK;
}

static sym_err parse_arm(const struct md_rd *r, struct sw_context *c)
{
    if (r->len < SW_CONTEXT_ARM_MIN_SIZE)
        return SYM_EPARSE;
    for (unsigned i = 0; i < 17; i++) {
        uint32_t v;
        if (!md_u32(r, 4 + 4 * i, &v))
            return SYM_EPARSE;
        sw_ctx_set(c, (int)i, v); /* r0..r15 then cpsr */
    }
    return SYM_OK;
}

static sym_err parse_arm64(const struct md_rd *r, struct sw_context *c)
{
    if (r->len < SW_CONTEXT_ARM64_MIN_SIZE)
        return SYM_EPARSE;
    uint32_t cpsr;
    if (!md_u32(r, 4, &cpsr))
        return SYM_EPARSE;
    for (unsigned i = 0; i < 33; i++) { /* x0..x30, sp, pc */
        uint64_t v;
        if (!md_u64(r, 8 + 8 * i, &v))
            return SYM_EPARSE;
        sw_ctx_set(c, (int)i, v);
    }
    sw_ctx_set(c, SW_ARM64_CPSR, cpsr);
    return SYM_OK;
}

static sym_err parse_arm64_old(const struct md_rd *r, struct sw_context *c)
{
    if (r->len < SW_CONTEXT_ARM64_OLD_MIN_SIZE)
        return SYM_EPARSE;
    for (unsigned i = 0; i < 33; i++) { /* x0..x30, sp (iregs[31]), pc */
        uint64_t v;
        if (!md_u64(r, 8 + 8 * i, &v))
            return SYM_EPARSE;
        sw_ctx_set(c, (int)i, v);
    }
    uint32_t cpsr;
    if (!md_u32(r, 272, &cpsr))
        return SYM_EPARSE;
    sw_ctx_set(c, SW_ARM64_CPSR, cpsr);
    return SYM_OK;
}

sym_err sw_context_parse(enum sw_cpu cpu_hint, const uint8_t *data, size_t len, bool swap,
                         struct sw_context *out)
{
    struct md_rd r = {data, len, swap};
    struct sw_context c;
    memset(&c, 0, sizeof(c));
    /* The x86 and arm layouts start with the flags; amd64 keeps them at offset 48. */
    uint32_t f0 = 0, f48 = 0;
    bool have0 = md_u32(&r, 0, &f0), have48 = md_u32(&r, 48, &f48);
    enum sw_cpu cpu = SW_CPU_UNKNOWN;
    bool old_arm64 = false;
    if (cpu_hint == SW_CPU_AMD64 || (cpu_hint == SW_CPU_UNKNOWN && have48 &&
                                     (f48 & 0xFFFFFF00u) == CF_AMD64 && cpu_of_flags(f0) == 0)) {
        if (!have48 || (f48 & 0xFFFFFF00u) != CF_AMD64)
            return SYM_EPARSE;
        cpu = SW_CPU_AMD64;
        c.context_flags = f48;
    } else if (have0) {
        cpu = cpu_of_flags(f0);
        if (cpu == SW_CPU_ARM64 && (f0 & CF_ARM64_OLD)) {
            /* Breakpad's pre-Windows arm64 layout carries a u64 flags word. */
            uint64_t f64;
            if (!md_u64(&r, 0, &f64))
                return SYM_EPARSE;
            old_arm64 = true;
            c.context_flags = f64;
        } else {
            c.context_flags = f0;
        }
    }
    if (cpu == SW_CPU_UNKNOWN || (cpu_hint != SW_CPU_UNKNOWN && cpu != cpu_hint))
        return SYM_EPARSE;
    c.cpu = cpu;
    sym_err rc;
    switch (cpu) {
    case SW_CPU_X86:
        rc = parse_x86(&r, &c);
        break;
    case SW_CPU_AMD64:
        rc = parse_amd64(&r, &c);
        break;
    case SW_CPU_ARM:
        rc = parse_arm(&r, &c);
        break;
    case SW_CPU_ARM64:
        rc = old_arm64 ? parse_arm64_old(&r, &c) : parse_arm64(&r, &c);
        break;
    default:
        rc = SYM_EPARSE; /* no unwinder for this CPU */
        break;
    }
    if (rc != SYM_OK)
        return rc;
    *out = c;
    return SYM_OK;
}
