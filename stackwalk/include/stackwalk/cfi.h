/* SPDX-License-Identifier: MPL-2.0 */
/* cfi.h: evaluation of the unwind programs of Breakpad symbol files: STACK CFI rule sets (the
 * postfix expressions that recover the caller's registers from the callee's) and STACK WIN
 * program strings (x86 Windows frame data, with variables and assignment).
 *
 * Both use one postfix language: decimal literals (optionally negative), register and variable
 * names, the binary operators + - * / % and @ (align down), the unary dereference ^ and, in
 * STACK WIN programs, assignment =. Arithmetic wraps at the CPU's register width; dereferences
 * read only the given memory region (the thread's stack). Evaluation is iterative with a
 * bounded operand stack and a step limit, allocates nothing, and never reads outside the rule
 * text or the memory region. */
#ifndef SW_CFI_H
#define SW_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackwalk/context.h"
#include "sym/err.h"
#include "sym/slice.h"

/* A readable memory region: size bytes of the dump starting at address base. */
struct sw_memory {
    uint64_t base;
    const uint8_t *data; /* NULL: no memory */
    size_t size;
    bool big_endian;
};

/* Reads a width-byte (4 or 8) little/big-endian word at addr; false when any byte of it lies
 * outside the region. */
bool sw_memory_read(const struct sw_memory *m, uint64_t addr, unsigned width, uint64_t *out);

/* Evaluation bounds (per expression or program). */
#define SW_EVAL_MAX_STEPS 4096u /* tokens processed */
#define SW_EVAL_MAX_STACK 64u   /* operand stack depth */
#define SW_EVAL_MAX_VARS  48u   /* STACK WIN variables */
#define SW_EVAL_MAX_RULES 64u   /* distinct registers named in one CFI rule set */

/* Recovers the caller's registers from a STACK CFI rule set (INIT rules followed by the deltas
 * in force, as sym_image_cfi_rules() returns them; a later rule for a register replaces an
 * earlier one). Per Breakpad: .cfa is evaluated over the callee's valid registers, then .ra and
 * every named register over the same registers plus .cfa (always callee values). The caller's
 * stack pointer is the rule of its own name if any, else .cfa; its pc likewise, else .ra; other
 * registers named by a rule get their value when their expression evaluates (a failing one is
 * left unknown); callee-saved registers not named by any rule are copied when valid in the
 * callee (x86: ebp ebx esi edi; amd64: rbx rbp r12-r15; arm: r4-r11; arm64: x19-x29).
 * Returns SYM_OK with *caller written (cpu, valid set, regs); SYM_ENOTFOUND when the set lacks a
 * .cfa or .ra rule or either cannot be evaluated (unknown register, unreadable memory, division
 * by zero, not exactly one result); SYM_EPARSE for a malformed rule set (a name with no
 * expression, an expression before any name); SYM_ELIMIT over the bounds above; SYM_EINVAL for a
 * CPU without an unwinder. *caller is written only on success. */
SYM_MUST_CHECK sym_err sw_cfi_eval(enum sw_cpu cpu, struct sym_slice rules,
                                   const struct sw_context *callee, const struct sw_memory *stack,
                                   struct sw_context *caller);

/* ---- STACK WIN ----------------------------------------------------------------------------- */

/* The variable dictionary of a STACK WIN evaluation (32-bit values). Names are copied. */
struct sw_win_vars {
    unsigned n;
    struct {
        char name[24];
        uint8_t len;
        bool assigned; /* set by the program (not only by the caller) */
        uint32_t value;
    } v[SW_EVAL_MAX_VARS];
};

void sw_win_vars_init(struct sw_win_vars *vars);
/* Sets (or adds) a variable. SYM_ELIMIT when the table is full or the name is too long. */
SYM_MUST_CHECK sym_err sw_win_vars_set(struct sw_win_vars *vars, const char *name, uint32_t value);
/* Looks a variable up; false when unset. *assigned (optional) tells whether the program set
 * it. */
bool sw_win_vars_get(const struct sw_win_vars *vars, const char *name, uint32_t *value,
                     bool *assigned);

/* Runs a STACK WIN program string over vars (which it updates in place: assignments made before
 * a failure stay, as in Breakpad). Only '$' names may be assigned; assigning the value .undef
 * removes the variable; a '=' glued to the next token ("=$ebp", seen in MSVC output) is split.
 * Returns SYM_OK when the whole program ran and left no operand behind; SYM_ENOTFOUND when it
 * read an unset variable or unreadable memory or divided by zero; SYM_EPARSE for an operator
 * without operands, an assignment to a literal or a non-'$' name, or operands left over;
 * SYM_ELIMIT over the bounds above. */
SYM_MUST_CHECK sym_err sw_win_eval(struct sym_slice program, struct sw_win_vars *vars,
                                   const struct sw_memory *stack);

#endif
