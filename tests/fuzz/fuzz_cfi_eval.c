/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_cfi_eval.c: libFuzzer target for STACK CFI rule sets and STACK WIN programs. Input:
 * "<cpu>\n<rules or program>\n<stack bytes>", cpu one of x86, amd64, arm, arm64 (a CFI rule set
 * evaluated over registers pointing into the stack) or win (a STACK WIN program over the usual
 * dictionary). Any other first line is evaluated both ways. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stackwalk/cfi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_cfi(enum sw_cpu cpu, struct sym_slice rules, const struct sw_memory *mem)
{
    struct sw_context callee, caller;
    memset(&callee, 0, sizeof(callee));
    callee.cpu = cpu;
    for (unsigned i = 0; i < sw_cpu_nregs(cpu); i++)
        sw_ctx_set(&callee, (int)i, mem->base + 8 * i);
    if (sw_cfi_eval(cpu, rules, &callee, mem, &caller) == SYM_OK && caller.valid == 0)
        __builtin_trap(); /* success always recovers at least pc and sp */
}

static void run_win(struct sym_slice prog, const struct sw_memory *mem)
{
    struct sw_win_vars v;
    sw_win_vars_init(&v);
    static const char *names[] = {"$ebp",         "$esp",      "$ebx",      ".cbCalleeParams",
                                  ".cbSavedRegs", ".cbLocals", ".raSearch", ".raSearchStart",
                                  ".cbParams"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (sw_win_vars_set(&v, names[i], (uint32_t)mem->base + 4 * i) != SYM_OK)
            __builtin_trap();
    sym_err rc = sw_win_eval(prog, &v, mem);
    (void)rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl1 = memchr(p, '\n', size);
    if (nl1 == NULL)
        return 0;
    const char *rest = nl1 + 1;
    size_t rest_n = size - (size_t)(rest - p);
    const char *nl2 = memchr(rest, '\n', rest_n);
    size_t prog_n = nl2 ? (size_t)(nl2 - rest) : rest_n;
    struct sym_slice prog = {rest, prog_n};
    struct sw_memory mem = {0x10000, NULL, 0, false};
    if (nl2 != NULL) {
        mem.data = (const uint8_t *)nl2 + 1;
        mem.size = rest_n - prog_n - 1;
    }
    size_t cn = (size_t)(nl1 - p);
    if (cn == 3 && memcmp(p, "x86", 3) == 0) {
        run_cfi(SW_CPU_X86, prog, &mem);
    } else if (cn == 5 && memcmp(p, "amd64", 5) == 0) {
        run_cfi(SW_CPU_AMD64, prog, &mem);
    } else if (cn == 3 && memcmp(p, "arm", 3) == 0) {
        run_cfi(SW_CPU_ARM, prog, &mem);
    } else if (cn == 5 && memcmp(p, "arm64", 5) == 0) {
        run_cfi(SW_CPU_ARM64, prog, &mem);
    } else if (cn == 3 && memcmp(p, "win", 3) == 0) {
        run_win(prog, &mem);
    } else {
        run_cfi(SW_CPU_AMD64, prog, &mem);
        run_win(prog, &mem);
    }
    return 0;
}
