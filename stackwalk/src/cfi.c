/* SPDX-License-Identifier: MPL-2.0 */
/* cfi.c: the postfix machine shared by STACK CFI rule sets and STACK WIN programs, and the two
 * front ends (see stackwalk/cfi.h). Operands are kept typed (a value, or a name resolved when an
 * operator needs it) instead of as strings; the semantics follow Breakpad's evaluator: literals
 * are decimal with an optional '-', arithmetic is unsigned and wraps at the register width. */
#include "stackwalk/cfi.h"

#include <string.h>

bool sw_memory_read(const struct sw_memory *m, uint64_t addr, unsigned width, uint64_t *out)
{
    if (m == NULL || m->data == NULL || addr < m->base)
        return false;
    uint64_t off = addr - m->base;
    if (off > m->size || m->size - off < width)
        return false;
    const uint8_t *p = m->data + off;
    uint64_t v = 0;
    if (m->big_endian) {
        for (unsigned i = 0; i < width; i++)
            v = v << 8 | p[i];
    } else {
        for (unsigned i = width; i-- > 0;)
            v = v << 8 | p[i];
    }
    *out = v;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * The machine
 * ------------------------------------------------------------------------------------------- */

struct pf_item {
    bool is_value;
    uint64_t value;
    const char *name; /* when !is_value */
    size_t name_len;
};

struct pf_machine {
    unsigned width; /* 4 or 8 */
    uint64_t mask;
    const struct sw_memory *mem;
    struct pf_item stack[SW_EVAL_MAX_STACK];
    size_t depth;
    uint32_t steps;
    /* Resolves a name to a value: SYM_OK, SYM_ENOTFOUND (unset). */
    sym_err (*lookup)(void *ctx, const char *name, size_t n, uint64_t *out);
    /* Assigns (NULL: assignment not allowed). undef: the value was the name ".undef". */
    sym_err (*assign)(void *ctx, const char *name, size_t n, uint64_t v, bool undef);
    void *ctx;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses a decimal literal with an optional leading '-'; false when tok is not one (it is then
 * a name). Values that do not fit the register width are names too, as in Breakpad. */
static bool parse_literal(const char *tok, size_t n, uint64_t mask, uint64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (n > 0 && tok[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return false;
        uint64_t d = (uint64_t)(tok[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > mask)
        return false;
    *out = (neg ? (uint64_t)0 - v : v) & mask;
    return true;
}

static sym_err push(struct pf_machine *m, struct pf_item it)
{
    if (m->depth >= SW_EVAL_MAX_STACK)
        return SYM_ELIMIT;
    m->stack[m->depth++] = it;
    return SYM_OK;
}

static sym_err push_value(struct pf_machine *m, uint64_t v)
{
    struct pf_item it = {true, v & m->mask, NULL, 0};
    return push(m, it);
}

/* Pops one operand as a value, resolving a name through the lookup callback. */
static sym_err pop_value(struct pf_machine *m, uint64_t *out)
{
    if (m->depth == 0)
        return SYM_EPARSE;
    struct pf_item it = m->stack[--m->depth];
    if (it.is_value) {
        *out = it.value;
        return SYM_OK;
    }
    uint64_t v;
    sym_err rc = m->lookup(m->ctx, it.name, it.name_len, &v);
    if (rc != SYM_OK)
        return rc;
    *out = v & m->mask;
    return SYM_OK;
}

static sym_err eval_token(struct pf_machine *m, const char *tok, size_t n)
{
    sym_err rc;
    if (++m->steps > SW_EVAL_MAX_STEPS)
        return SYM_ELIMIT;
    if (n == 1 && strchr("+-*/%@", tok[0]) != NULL) {
        uint64_t a, b;
        if ((rc = pop_value(m, &b)) != SYM_OK || (rc = pop_value(m, &a)) != SYM_OK)
            return rc;
        uint64_t r;
        switch (tok[0]) {
        case '+':
            r = a + b;
            break;
        case '-':
            r = a - b;
            break;
        case '*':
            r = a * b;
            break;
        case '/':
            if (b == 0)
                return SYM_ENOTFOUND;
            r = a / b;
            break;
        case '%':
            if (b == 0)
                return SYM_ENOTFOUND;
            r = a % b;
            break;
        default: /* '@': align a down to a multiple of b */
            r = a & (m->mask ^ ((b - 1) & m->mask));
            break;
        }
        return push_value(m, r);
    }
    if (n == 1 && tok[0] == '^') {
        uint64_t addr, v;
        if ((rc = pop_value(m, &addr)) != SYM_OK)
            return rc;
        if (!sw_memory_read(m->mem, addr, m->width, &v))
            return SYM_ENOTFOUND;
        return push_value(m, v);
    }
    if (n == 1 && tok[0] == '=') {
        if (m->assign == NULL || m->depth < 2)
            return SYM_EPARSE;
        struct pf_item val = m->stack[m->depth - 1];
        struct pf_item dst = m->stack[m->depth - 2];
        bool undef = !val.is_value && val.name_len == 6 && memcmp(val.name, ".undef", 6) == 0;
        uint64_t v = 0;
        if (!undef && (rc = pop_value(m, &v)) != SYM_OK)
            return rc;
        if (undef)
            m->depth--;
        m->depth--;
        if (dst.is_value || dst.name_len == 0 || dst.name[0] != '$')
            return SYM_EPARSE;
        return m->assign(m->ctx, dst.name, dst.name_len, v & m->mask, undef);
    }
    struct pf_item it = {false, 0, tok, n};
    uint64_t lit;
    if (parse_literal(tok, n, m->mask, &lit)) {
        it.is_value = true;
        it.value = lit;
    }
    return push(m, it);
}

/* Runs every token of text[0..len). Tokens are whitespace-separated; a token starting with '='
 * followed by more characters is an assignment glued to the next token. */
static sym_err pf_run(struct pf_machine *m, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && is_space(text[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(text[i]))
            i++;
        if (i == start)
            break;
        const char *tok = text + start;
        size_t n = i - start;
        sym_err rc;
        if (n > 1 && tok[0] == '=') {
            if ((rc = eval_token(m, tok, 1)) != SYM_OK)
                return rc;
            tok++;
            n--;
        }
        if ((rc = eval_token(m, tok, n)) != SYM_OK)
            return rc;
    }
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * STACK CFI
 * ------------------------------------------------------------------------------------------- */

struct cfi_rule {
    const char *name;
    size_t name_len;
    const char *expr;
    size_t expr_len;
};

struct cfi_ctx {
    enum sw_cpu cpu;
    const struct sw_context *callee;
    bool have_cfa;
    uint64_t cfa;
};

static bool name_eq(const char *a, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(a, lit, n) == 0;
}

/* The registers the callee dictionary holds (Breakpad's per-CPU register maps). */
static bool cfi_dict_reg(enum sw_cpu cpu, int idx)
{
    switch (cpu) {
    case SW_CPU_X86:
        return idx != SW_X86_EFLAGS;
    case SW_CPU_AMD64:
        return idx != SW_AMD64_EFLAGS;
    case SW_CPU_ARM:
        return idx != SW_ARM_CPSR;
    case SW_CPU_ARM64:
        return idx != SW_ARM64_CPSR;
    default:
        return false;
    }
}

static bool callee_saved(enum sw_cpu cpu, int idx)
{
    switch (cpu) {
    case SW_CPU_X86:
        return idx == SW_X86_EBP || idx == SW_X86_EBX || idx == SW_X86_ESI || idx == SW_X86_EDI;
    case SW_CPU_AMD64:
        return idx == SW_AMD64_RBX || idx == SW_AMD64_RBP ||
               (idx >= SW_AMD64_R12 && idx <= SW_AMD64_R15);
    case SW_CPU_ARM:
        return idx >= 4 && idx <= 11;
    case SW_CPU_ARM64:
        return idx >= 19 && idx <= 29;
    default:
        return false;
    }
}

static sym_err cfi_lookup(void *vctx, const char *name, size_t n, uint64_t *out)
{
    struct cfi_ctx *c = vctx;
    if (name_eq(name, n, ".cfa")) {
        if (!c->have_cfa)
            return SYM_ENOTFOUND;
        *out = c->cfa;
        return SYM_OK;
    }
    int idx = sw_reg_lookup(c->cpu, name, n);
    if (idx < 0 || !cfi_dict_reg(c->cpu, idx) || !sw_ctx_has(c->callee, idx))
        return SYM_ENOTFOUND;
    *out = c->callee->regs[idx];
    return SYM_OK;
}

/* Evaluates one expression to exactly one value. */
static sym_err cfi_value(struct cfi_ctx *c, const struct sw_memory *mem, const char *expr,
                         size_t len, uint64_t *out)
{
    struct pf_machine m;
    m.width = sw_cpu_pointer_size(c->cpu);
    m.mask = m.width == 4 ? 0xFFFFFFFFu : UINT64_MAX;
    m.mem = mem;
    m.depth = 0;
    m.steps = 0;
    m.lookup = cfi_lookup;
    m.assign = NULL;
    m.ctx = c;
    sym_err rc = pf_run(&m, expr, len);
    if (rc == SYM_ELIMIT)
        return rc;
    if (rc != SYM_OK || m.depth != 1)
        return SYM_ENOTFOUND;
    return pop_value(&m, out) == SYM_OK ? SYM_OK : SYM_ENOTFOUND;
}

/* Splits a rule set into (name, expression) pairs; a later pair for a name replaces the
 * earlier one. */
static sym_err cfi_parse(struct sym_slice rules, struct cfi_rule *out, size_t *n_out)
{
    size_t n = 0;
    struct cfi_rule *cur = NULL;
    const char *p = rules.p;
    size_t len = rules.n, i = 0;
    while (i < len) {
        while (i < len && is_space(p[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(p[i]))
            i++;
        if (i == start)
            break;
        const char *tok = p + start;
        size_t tn = i - start;
        if (tok[tn - 1] == ':') {
            if (tn < 2 || (cur != NULL && cur->expr_len == 0))
                return SYM_EPARSE;
            size_t k;
            for (k = 0; k < n; k++)
                if (out[k].name_len == tn - 1 && memcmp(out[k].name, tok, tn - 1) == 0)
                    break;
            if (k == n) {
                if (n >= SW_EVAL_MAX_RULES)
                    return SYM_ELIMIT;
                n++;
            }
            cur = &out[k];
            cur->name = tok;
            cur->name_len = tn - 1;
            cur->expr = NULL;
            cur->expr_len = 0;
        } else {
            if (cur == NULL)
                return SYM_EPARSE;
            if (cur->expr_len == 0)
                cur->expr = tok;
            cur->expr_len = (size_t)(tok + tn - cur->expr);
        }
    }
    if (cur != NULL && cur->expr_len == 0)
        return SYM_EPARSE;
    *n_out = n;
    return SYM_OK;
}

sym_err sw_cfi_eval(enum sw_cpu cpu, struct sym_slice rules, const struct sw_context *callee,
                    const struct sw_memory *stack, struct sw_context *caller)
{
    if (sw_cpu_nregs(cpu) == 0 || callee == NULL || caller == NULL)
        return SYM_EINVAL;
    struct cfi_rule r[SW_EVAL_MAX_RULES];
    size_t n;
    sym_err rc = cfi_parse(rules, r, &n);
    if (rc != SYM_OK)
        return rc;
    const struct cfi_rule *cfa_rule = NULL, *ra_rule = NULL;
    for (size_t i = 0; i < n; i++) {
        if (name_eq(r[i].name, r[i].name_len, ".cfa"))
            cfa_rule = &r[i];
        else if (name_eq(r[i].name, r[i].name_len, ".ra"))
            ra_rule = &r[i];
    }
    if (cfa_rule == NULL || ra_rule == NULL)
        return SYM_ENOTFOUND;

    struct cfi_ctx c = {cpu, callee, false, 0};
    uint64_t cfa, ra;
    if ((rc = cfi_value(&c, stack, cfa_rule->expr, cfa_rule->expr_len, &cfa)) != SYM_OK)
        return rc;
    c.have_cfa = true;
    c.cfa = cfa;
    if ((rc = cfi_value(&c, stack, ra_rule->expr, ra_rule->expr_len, &ra)) != SYM_OK)
        return rc;

    struct sw_context out;
    memset(&out, 0, sizeof(out));
    out.cpu = cpu;
    out.context_flags = callee->context_flags;
    uint64_t named = 0; /* registers some rule names, recovered or not */
    for (size_t i = 0; i < n; i++) {
        if (&r[i] == cfa_rule || &r[i] == ra_rule)
            continue;
        int idx = sw_reg_lookup(cpu, r[i].name, r[i].name_len);
        if (idx < 0)
            continue; /* a register we do not track (e.g. vector registers) */
        named |= (uint64_t)1 << idx;
        uint64_t v;
        rc = cfi_value(&c, stack, r[i].expr, r[i].expr_len, &v);
        if (rc == SYM_ELIMIT)
            return rc;
        if (rc == SYM_OK)
            sw_ctx_set(&out, idx, v);
    }
    int sp = sw_reg_sp(cpu), pc = sw_reg_pc(cpu);
    if (!sw_ctx_has(&out, sp))
        sw_ctx_set(&out, sp, cfa);
    if (!sw_ctx_has(&out, pc))
        sw_ctx_set(&out, pc, ra);
    unsigned nregs = sw_cpu_nregs(cpu);
    for (unsigned i = 0; i < nregs; i++) {
        if (sw_ctx_has(&out, (int)i) || ((named >> i) & 1))
            continue;
        if (callee_saved(cpu, (int)i) && sw_ctx_has(callee, (int)i))
            sw_ctx_set(&out, (int)i, callee->regs[i]);
    }
    *caller = out;
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * STACK WIN
 * ------------------------------------------------------------------------------------------- */

void sw_win_vars_init(struct sw_win_vars *vars)
{
    vars->n = 0;
}

static int var_find(const struct sw_win_vars *vars, const char *name, size_t n)
{
    for (unsigned i = 0; i < vars->n; i++)
        if (vars->v[i].len == n && memcmp(vars->v[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

static sym_err var_set(struct sw_win_vars *vars, const char *name, size_t n, uint32_t value,
                       bool assigned)
{
    int i = var_find(vars, name, n);
    if (i < 0) {
        if (vars->n >= SW_EVAL_MAX_VARS || n >= sizeof(vars->v[0].name))
            return SYM_ELIMIT;
        i = (int)vars->n++;
        memcpy(vars->v[i].name, name, n);
        vars->v[i].name[n] = '\0';
        vars->v[i].len = (uint8_t)n;
        vars->v[i].assigned = false;
    }
    vars->v[i].value = value;
    vars->v[i].assigned |= assigned;
    return SYM_OK;
}

sym_err sw_win_vars_set(struct sw_win_vars *vars, const char *name, uint32_t value)
{
    return var_set(vars, name, strlen(name), value, false);
}

bool sw_win_vars_get(const struct sw_win_vars *vars, const char *name, uint32_t *value,
                     bool *assigned)
{
    int i = var_find(vars, name, strlen(name));
    if (i < 0)
        return false;
    if (value)
        *value = vars->v[i].value;
    if (assigned)
        *assigned = vars->v[i].assigned;
    return true;
}

static sym_err win_lookup(void *ctx, const char *name, size_t n, uint64_t *out)
{
    struct sw_win_vars *vars = ctx;
    int i = var_find(vars, name, n);
    if (i < 0)
        return SYM_ENOTFOUND;
    *out = vars->v[i].value;
    return SYM_OK;
}

static sym_err win_assign(void *ctx, const char *name, size_t n, uint64_t v, bool undef)
{
    struct sw_win_vars *vars = ctx;
    if (undef) {
        int i = var_find(vars, name, n);
        if (i >= 0) {
            vars->v[i] = vars->v[vars->n - 1];
            vars->n--;
        }
        return SYM_OK;
    }
    return var_set(vars, name, n, (uint32_t)v, true);
}

sym_err sw_win_eval(struct sym_slice program, struct sw_win_vars *vars,
                    const struct sw_memory *stack)
{
    struct pf_machine m;
    m.width = 4;
    m.mask = 0xFFFFFFFFu;
    m.mem = stack;
    m.depth = 0;
    m.steps = 0;
    m.lookup = win_lookup;
    m.assign = win_assign;
    m.ctx = vars;
    sym_err rc = pf_run(&m, program.p, program.n);
    if (rc != SYM_OK)
        return rc;
    return m.depth == 0 ? SYM_OK : SYM_EPARSE;
}
