/* SPDX-License-Identifier: MPL-2.0 */
/* test_cfi.c: STACK CFI rule-set and STACK WIN program evaluation: Breakpad's worked vectors
 * (module1.out's CFI at each delta), the amd64/arm/arm64 forms, every error class and the
 * evaluation bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackwalk/cfi.h"
#include "t.h"

static uint8_t stack_bytes[0x40];
static struct sw_memory stack_mem = {0x10000, stack_bytes, sizeof(stack_bytes), false};

static void put32(uint64_t addr, uint32_t v)
{
    uint8_t *p = stack_bytes + (addr - 0x10000);
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void setup_module1_stack(void)
{
    memset(stack_bytes, 0, sizeof(stack_bytes));
    put32(0x10008, 0x98ecadc3); /* saved ebx */
    put32(0x1000c, 0x878f7524); /* saved esi */
    put32(0x10010, 0x6312f9a5); /* saved edi */
    put32(0x10014, 0x10038);    /* caller's ebp */
    put32(0x10018, 0xf6438648); /* return address */
}

static void append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf), k = strlen(s);
    if (n + k >= cap)
        T_FAIL("test buffer too small");
    memcpy(buf + n, s, k + 1);
}

static struct sym_slice S(const char *s) {
    return sym_slice_cstr(s);
}

static void
x86_callee(struct sw_context *c, uint32_t esp, uint32_t ebp, uint32_t ebx, uint32_t esi,
           uint32_t edi)
{
    memset(c, 0, sizeof(*c));
    c->cpu = SW_CPU_X86;
    sw_ctx_set(c, SW_X86_EIP, 0x3d40);
    sw_ctx_set(c, SW_X86_ESP, esp);
    sw_ctx_set(c, SW_X86_EBP, ebp);
    sw_ctx_set(c, SW_X86_EBX, ebx);
    sw_ctx_set(c, SW_X86_ESI, esi);
    sw_ctx_set(c, SW_X86_EDI, edi);
    sw_ctx_set(c, SW_X86_EAX, 0x1234);
}

static void check_module1_caller(const struct sw_context *caller)
{
    T_ASSERT_U64_EQ(caller->regs[SW_X86_ESP], 0x1001c);
    T_ASSERT_U64_EQ(caller->regs[SW_X86_EIP], 0xf6438648);
    T_ASSERT_U64_EQ(caller->regs[SW_X86_EBP], 0x10038);
    T_ASSERT_U64_EQ(caller->regs[SW_X86_EBX], 0x98ecadc3);
    T_ASSERT_U64_EQ(caller->regs[SW_X86_ESI], 0x878f7524);
    T_ASSERT_U64_EQ(caller->regs[SW_X86_EDI], 0x6312f9a5);
    T_ASSERT(!sw_ctx_has(caller, SW_X86_EAX)); /* not callee-saved */
}

/* Breakpad's module1.out CFI: INIT 3d40 and deltas 3d41, 3d43, 3d54, 3d5a, 3d84. */
static void test_module1_vectors(void)
{
    setup_module1_stack();
    struct sw_context callee, caller;
    const char *init = ".cfa: $esp 4 + .ra: .cfa 4 - ^";
    /* At 0x3d40: nothing pushed yet. */
    x86_callee(&callee, 0x10018, 0x10038, 0x98ecadc3, 0x878f7524, 0x6312f9a5);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_X86, S(init), &callee, &stack_mem, &caller));
    check_module1_caller(&caller);
    /* At 0x3d41: ebp pushed. */
    char rules[512];
    snprintf(rules, sizeof(rules), "%s .cfa: $esp 8 + ", init);
    x86_callee(&callee, 0x10014, 0x10038, 0x98ecadc3, 0x878f7524, 0x6312f9a5);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_X86, S(rules), &callee, &stack_mem, &caller));
    check_module1_caller(&caller);
    /* At 0x3d43: ebp = esp; caller ebp from the stack. */
    snprintf(rules, sizeof(rules), "%s .cfa: $esp 8 +  .cfa: $ebp 8 + $ebp: .cfa 8 - ^", init);
    x86_callee(&callee, 0x10014, 0x10014, 0x98ecadc3, 0x878f7524, 0x6312f9a5);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_X86, S(rules), &callee, &stack_mem, &caller));
    check_module1_caller(&caller);
    /* At 0x3d84: every saved register comes from the stack, callee values are garbage. */
    snprintf(rules, sizeof(rules),
             "%s .cfa: $esp 8 + .cfa: $ebp 8 + $ebp: .cfa 8 - ^ $ebx: .cfa 20 - ^ "
             "$esi: .cfa 16 - ^ $edi: .cfa 12 - ^",
             init);
    x86_callee(&callee, 0x10000, 0x10014, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_X86, S(rules), &callee, &stack_mem, &caller));
    check_module1_caller(&caller);
}

static void test_amd64_example(void)
{
    uint8_t mem[32] = {0};
    uint64_t s = 0x7fff0000;
    mem[0] = 0x11; /* [S] = saved rbx */
    mem[8] = 0x22; /* [S+8] = return address */
    struct sw_memory m = {s, mem, sizeof(mem), false};
    struct sw_context callee, caller;
    memset(&callee, 0, sizeof(callee));
    callee.cpu = SW_CPU_AMD64;
    sw_ctx_set(&callee, SW_AMD64_RSP, s);
    sw_ctx_set(&callee, SW_AMD64_RIP, 0x1170);
    sw_ctx_set(&callee, SW_AMD64_RBP, 0x5555);
    sw_ctx_set(&callee, SW_AMD64_R12, 0x1212);
    sw_ctx_set(&callee, SW_AMD64_RBX, 0x9999);
    sw_ctx_set(&callee, SW_AMD64_RAX, 0xaaaa);
    const char *rules = ".cfa: $rsp 8 + .ra: .cfa -8 + ^ $rbx: .cfa -16 + ^ .cfa: $rsp 16 +";
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_AMD64, S(rules), &callee, &m, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RSP], s + 16);
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RIP], 0x22);
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RBX], 0x11);
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RBP], 0x5555);
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_R12], 0x1212);
    T_ASSERT(!sw_ctx_has(&caller, SW_AMD64_RAX));
    T_ASSERT(!sw_ctx_has(&caller, SW_AMD64_R13)); /* callee-saved but unknown in the callee */
    /* A rule for $rsp itself wins over .cfa; one for $rip over .ra. */
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_AMD64,
                            S(".cfa: $rsp 8 + .ra: .cfa -8 + ^ $rsp: .cfa 8 + $rip: 77"), &callee,
                            &m, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RSP], s + 16);
    T_ASSERT_U64_EQ(caller.regs[SW_AMD64_RIP], 77);
    /* A failing register rule leaves that register unknown, even a callee-saved one. */
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_AMD64, S(".cfa: $rsp 8 + .ra: .cfa -8 + ^ $rbp: $r13"), &callee,
                            &m, &caller));
    T_ASSERT(!sw_ctx_has(&caller, SW_AMD64_RBP));
}

static void test_arm_forms(void)
{
    uint8_t mem[64] = {0};
    uint64_t sp = 0x100000;
    mem[0x18] = 0x40; /* [cfa-8] = return address (cfa = fp + 16 = sp + 0x20) */
    mem[0x19] = 0x01;
    struct sw_memory m = {sp, mem, sizeof(mem), false};
    struct sw_context callee, caller;
    memset(&callee, 0, sizeof(callee));
    callee.cpu = SW_CPU_ARM64;
    sw_ctx_set(&callee, SW_ARM64_SP, sp);
    sw_ctx_set(&callee, SW_ARM64_PC, 0x4e690);
    sw_ctx_set(&callee, SW_ARM64_LR, 0x4e123);
    sw_ctx_set(&callee, SW_ARM64_FP, sp + 0x10);
    sw_ctx_set(&callee, 19, 0x1919);
    sw_ctx_set(&callee, 0, 0x0);
    /* Leaf: .ra is the link register. */
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_ARM64, S(".cfa: sp 0 + .ra: x30"), &callee, &m, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_ARM64_PC], 0x4e123);
    T_ASSERT_U64_EQ(caller.regs[SW_ARM64_SP], sp);
    T_ASSERT_U64_EQ(caller.regs[19], 0x1919);
    T_ASSERT(!sw_ctx_has(&caller, 0));
    /* Frame record. */
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_ARM64,
                            S(".cfa: sp 0 + .ra: x30 .cfa: x29 16 + .ra: .cfa -8 + ^ "
                              "x29: .cfa -16 + ^"),
                            &callee, &m, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_ARM64_SP], sp + 0x20);
    T_ASSERT_U64_EQ(caller.regs[SW_ARM64_PC], 0x0140);
    T_ASSERT_U64_EQ(caller.regs[SW_ARM64_FP], 0);

    /* arm: r4-r11 forwarding, 32-bit wrap-around. */
    uint8_t m32[32] = {0};
    m32[0x10] = 0x01; /* [cfa-4] = return address 0x8101 */
    m32[0x11] = 0x81;
    m32[0x0c] = 0x77; /* [cfa-8] = saved r7 */
    struct sw_memory mm = {0x1000, m32, sizeof(m32), false};
    memset(&callee, 0, sizeof(callee));
    callee.cpu = SW_CPU_ARM;
    sw_ctx_set(&callee, SW_ARM_SP, 0x1000);
    sw_ctx_set(&callee, SW_ARM_LR, 0x8001);
    sw_ctx_set(&callee, 4, 0x44);
    sw_ctx_set(&callee, 3, 0x33);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_ARM, S(".cfa: sp 20 + .ra: .cfa -4 + ^ r7: .cfa -8 + ^"),
                            &callee, &mm, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_ARM_SP], 0x1014);
    T_ASSERT_U64_EQ(caller.regs[SW_ARM_PC], 0x8101);
    T_ASSERT_U64_EQ(caller.regs[7], 0x77);
    T_ASSERT_U64_EQ(caller.regs[4], 0x44);
    T_ASSERT(!sw_ctx_has(&caller, 3));
    sw_ctx_set(&callee, SW_ARM_SP, 0xfffffff0u);
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_ARM, S(".cfa: sp 20 + .ra: lr"), &callee, &mm, &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_ARM_SP], 0x4);
    T_ASSERT_U64_EQ(caller.regs[SW_ARM_PC], 0x8001);
}

static void test_cfi_errors(void)
{
    setup_module1_stack();
    struct sw_context callee, caller;
    x86_callee(&callee, 0x10018, 0x10038, 1, 2, 3);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(".cfa: $esp 4 +"), &callee, &stack_mem, &caller),
                 SYM_ENOTFOUND);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S("$esp 4 + .cfa: $esp"), &callee, &stack_mem, &caller),
                 SYM_EPARSE);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(".cfa: .ra: $esp"), &callee, &stack_mem, &caller),
                 SYM_EPARSE);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(".cfa: $esp 4 + .ra:"), &callee, &stack_mem, &caller),
                 SYM_EPARSE);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(": 1 .cfa: 1 .ra: 2"), &callee, &stack_mem, &caller),
                 SYM_EPARSE);
    /* Unreadable memory, unknown register, division by zero, wrong result counts. */
    static const char *bad[] = {
        ".cfa: $esp 4000 + .ra: .cfa ^",
        ".cfa: $xyz .ra: 1",
        ".cfa: $esp 0 / .ra: 1",
        ".cfa: $esp 0 % .ra: 1",
        ".cfa: 1 2 .ra: 1",
        ".cfa: + .ra: 1",
        ".cfa: 1 .ra: ^",
        ".cfa: $eflags .ra: 1",
        ".cfa: .cfa .ra: 1",
        ".cfa: 4294967296 .ra: 1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sym_err rc = sw_cfi_eval(SW_CPU_X86, S(bad[i]), &callee, &stack_mem, &caller);
        if (rc != SYM_ENOTFOUND)
            T_FAIL("%s: %d", bad[i], rc);
    }
    /* Literals: negative, alignment. */
    T_ASSERT_OK(sw_cfi_eval(SW_CPU_X86, S(".cfa: $esp -24 + 16 @ .ra: 7 -3 *"), &callee, &stack_mem,
                            &caller));
    T_ASSERT_U64_EQ(caller.regs[SW_X86_ESP], 0x10000);
    T_ASSERT_U64_EQ(caller.regs[SW_X86_EIP], (uint32_t)-21);
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_PPC, S(".cfa: 1 .ra: 1"), &callee, &stack_mem, &caller),
                 SYM_EINVAL);
}

static void test_bounds(void)
{
    struct sw_context callee, caller;
    x86_callee(&callee, 0x10018, 0x10038, 1, 2, 3);
    /* 65 operands exceed the stack. */
    char deep[1024] = ".cfa:";
    for (int i = 0; i < 65; i++)
        append(deep, sizeof(deep), " 1");
    append(deep, sizeof(deep), " .ra: 1");
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(deep), &callee, &stack_mem, &caller), SYM_ELIMIT);
    /* 5000 tokens exceed the step limit. */
    size_t cap = 5000 * 4 + 64;
    char *longexpr = malloc(cap);
    size_t n = (size_t)snprintf(longexpr, cap, ".cfa: 1");
    for (int i = 0; i < 2500; i++)
        n += (size_t)snprintf(longexpr + n, cap - n, " 1 +");
    snprintf(longexpr + n, cap - n, " .ra: 1");
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(longexpr), &callee, &stack_mem, &caller), SYM_ELIMIT);
    free(longexpr);
    /* 65 distinct register names. */
    char many[4096] = ".cfa: 1 .ra: 1";
    for (int i = 0; i < 65; i++) {
        char r[32];
        snprintf(r, sizeof(r), " $t%d: 1", i);
        append(many, sizeof(many), r);
    }
    T_ASSERT_ERR(sw_cfi_eval(SW_CPU_X86, S(many), &callee, &stack_mem, &caller), SYM_ELIMIT);
}

/* ---- STACK WIN ---- */

static void test_win_frame_data(void)
{
    setup_module1_stack();
    struct sw_win_vars v;
    sw_win_vars_init(&v);
    T_ASSERT_OK(sw_win_vars_set(&v, "$ebp", 0x10014));
    T_ASSERT_OK(sw_win_vars_set(&v, "$esp", 0x10000));
    T_ASSERT_OK(sw_win_vars_set(&v, ".cbSavedRegs", 8));
    T_ASSERT_OK(sw_win_vars_set(&v, ".cbParams", 4));
    const char *prog = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = "
                       "$L $T0 .cbSavedRegs - = $P $T0 8 + .cbParams + =";
    T_ASSERT_OK(sw_win_eval(S(prog), &v, &stack_mem));
    uint32_t x;
    bool assigned;
    T_ASSERT(sw_win_vars_get(&v, "$eip", &x, &assigned) && assigned);
    T_ASSERT_U64_EQ(x, 0xf6438648);
    T_ASSERT(sw_win_vars_get(&v, "$ebp", &x, &assigned) && assigned);
    T_ASSERT_U64_EQ(x, 0x10038);
    T_ASSERT(sw_win_vars_get(&v, "$esp", &x, NULL));
    T_ASSERT_U64_EQ(x, 0x1001c);
    T_ASSERT(sw_win_vars_get(&v, "$P", &x, NULL));
    T_ASSERT_U64_EQ(x, 0x10014 + 8 + 4);
    T_ASSERT(sw_win_vars_get(&v, ".cbParams", &x, &assigned) && !assigned);
    T_ASSERT(!sw_win_vars_get(&v, "$ebx", NULL, NULL));

    /* A glued '=' and a realignment program. */
    sw_win_vars_init(&v);
    T_ASSERT_OK(sw_win_vars_set(&v, "$ebp", 0x10014));
    T_ASSERT_OK(sw_win_vars_set(&v, ".raSearch", 0x10018));
    T_ASSERT_OK(sw_win_eval(S("$T1 .raSearch = $T0 $T1 4 - 8 @ =$eip $T1 ^ = $esp $T1 4 + ="), &v,
                            &stack_mem));
    T_ASSERT(sw_win_vars_get(&v, "$T0", &x, NULL));
    T_ASSERT_U64_EQ(x, 0x10010);
    T_ASSERT(sw_win_vars_get(&v, "$eip", &x, NULL));
    T_ASSERT_U64_EQ(x, 0xf6438648);
    /* .undef removes a variable. */
    T_ASSERT_OK(sw_win_eval(S("$T0 .undef ="), &v, &stack_mem));
    T_ASSERT(!sw_win_vars_get(&v, "$T0", NULL, NULL));
}

static void test_win_errors(void)
{
    setup_module1_stack();
    struct sw_win_vars v;
    sw_win_vars_init(&v);
    T_ASSERT_OK(sw_win_vars_set(&v, "$esp", 0x10000));
    T_ASSERT_ERR(sw_win_eval(S("$eip $nope ="), &v, &stack_mem), SYM_ENOTFOUND);
    T_ASSERT_ERR(sw_win_eval(S("5 $esp ="), &v, &stack_mem), SYM_EPARSE);
    T_ASSERT_ERR(sw_win_eval(S(".x $esp ="), &v, &stack_mem), SYM_EPARSE);
    T_ASSERT_ERR(sw_win_eval(S("$eip $esp"), &v, &stack_mem), SYM_EPARSE);
    T_ASSERT_ERR(sw_win_eval(S("="), &v, &stack_mem), SYM_EPARSE);
    T_ASSERT_ERR(sw_win_eval(S("$eip $esp 4096 + ^ ="), &v, &stack_mem), SYM_ENOTFOUND);
    /* Assignments before the failure stay (Breakpad's dictionary is updated in place). */
    sw_win_vars_init(&v);
    T_ASSERT_OK(sw_win_vars_set(&v, "$esp", 0x10000));
    T_ASSERT_ERR(sw_win_eval(S("$ebp 7 = $eip $bad ="), &v, &stack_mem), SYM_ENOTFOUND);
    uint32_t x;
    T_ASSERT(sw_win_vars_get(&v, "$ebp", &x, NULL));
    T_ASSERT_EQ(x, 7);
    /* Variable table limit. */
    sw_win_vars_init(&v);
    char prog[4096] = "";
    for (int i = 0; i < 60; i++) {
        char a[32];
        snprintf(a, sizeof(a), "$v%d 1 = ", i);
        append(prog, sizeof(prog), a);
    }
    T_ASSERT_ERR(sw_win_eval(S(prog), &v, &stack_mem), SYM_ELIMIT);
    T_ASSERT_ERR(sw_win_vars_set(&v, "$a_very_long_variable_name_indeed", 1), SYM_ELIMIT);
}

T_LIST(T_TEST(test_module1_vectors), T_TEST(test_amd64_example), T_TEST(test_arm_forms),
       T_TEST(test_cfi_errors), T_TEST(test_bounds), T_TEST(test_win_frame_data),
       T_TEST(test_win_errors))
