/* SPDX-License-Identifier: MPL-2.0 */
/* test_walk.c: the unwinder on synthetic dumps, one scenario per strategy and architecture:
 * x86 frame pointers and STACK WIN, amd64 STACK CFI and scanning, arm64 frame records with
 * pointer authentication, arm CFI, inline frames, termination rules, thread selection and
 * symbol-supplier bookkeeping, and allocation failures. Symbols come from .sym texts built
 * into images by the symbol core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdsynth.h"
#include "stackwalk/process.h"
#include "sym/alloc.h"
#include "sym/image.h"
#include "sym/symfile.h"
#include "t.h"

/* ---- a supplier serving .sym texts by debug id ---- */

struct fixture_sym {
    const char *debug_id;
    const char *text;
    struct sym_buf buf;
    struct sym_image *img;
};

struct fixture {
    struct fixture_sym *syms;
    size_t n;
    int calls;
    sym_err fail_with; /* when set, every request fails with it */
};

static sym_err fixture_get(void *impl, const struct sw_module_key *key, struct sw_symbols *out)
{
    struct fixture *f = impl;
    f->calls++;
    if (f->fail_with != SYM_OK)
        return f->fail_with;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->syms[i].debug_id, key->debug_id) != 0)
            continue;
        out->image = f->syms[i].img;
        out->corrupt = false;
        out->url = "https://symbols.example/test";
        out->debug_file = NULL;
        out->debug_id = NULL;
        out->handle = NULL;
        return SYM_OK;
    }
    return SYM_ENOTFOUND;
}

static const struct sw_supplier_ops fixture_ops = {fixture_get, NULL};

static void fixture_init(struct fixture *f, struct fixture_sym *syms, size_t n)
{
    memset(f, 0, sizeof(*f));
    f->syms = syms;
    f->n = n;
    for (size_t i = 0; i < n; i++) {
        sym_buf_init(&syms[i].buf, 0);
        T_ASSERT_OK(
            sym_parse_buffer(syms[i].text, strlen(syms[i].text), NULL, &syms[i].buf, NULL, NULL));
        T_ASSERT_OK(sym_image_open(syms[i].buf.data, syms[i].buf.len, &syms[i].img, NULL));
    }
}

static void fixture_cleanup(struct fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        sym_image_close(f->syms[i].img);
        sym_buf_cleanup(&f->syms[i].buf);
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Lays out the dump and releases the builder. */
static uint8_t *finish(struct mds *m, size_t *len)
{
    uint8_t *data = mds_finish(m, 0, len);
    mds_free(m);
    return data;
}

struct run {
    uint8_t *data;
    struct sw_minidump *md;
    struct sw_process_state *st;
};

static void run_dump(struct mds *m, struct fixture *fx, struct run *r)
{
    size_t len;
    r->data = mds_finish(m, 1000, &len);
    mds_free(m);
    struct sym_diag d;
    T_ASSERT_OK(sw_minidump_open(r->data, len, NULL, &r->md, &d));
    struct sw_supplier sup = {&fixture_ops, fx};
    T_ASSERT_OK(sw_process(r->md, &sup, fx ? 1 : 0, NULL, &r->st, &d));
}

static void run_free(struct run *r)
{
    sw_process_state_free(r->st);
    sw_minidump_free(r->md);
    free(r->data);
}

static const uint8_t guid_a[16] = {0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xcc, 0xcc,
                                   1,    2,    3,    4,    5,    6,    7,    8};
#define GUID_A_ID "AAAAAAAABBBBCCCC01020304050607081"

/* ---------------------------------------------------------------------------------------------
 * x86
 * ------------------------------------------------------------------------------------------- */

static struct mds *x86_dump(const uint8_t *stack, size_t n, uint32_t esp, uint32_t ebp,
                            uint32_t eip)
{
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 10, 0, 19041, "", "GenuineIntel");
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = eip;
    regs[SW_X86_ESP] = esp;
    regs[SW_X86_EBP] = ebp;
    regs[SW_X86_EBX] = 0xb0b0;
    uint8_t ctx[716];
    size_t cn = mds_context_x86(ctx, regs);
    mds_thread(m, 1, esp, stack, n, ctx, cn);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x10000,
                             .name = "C:\\app\\app.exe",
                             .cv_kind = 1,
                             .age = 1,
                             .pdb = "app.pdb"};
    memcpy(mod.guid, guid_a, 16);
    mds_module(m, &mod);
    return m;
}

static void test_x86_frame_pointer(void)
{
    uint8_t stack[0x100] = {0};
    uint32_t base = 0x120000;
    put32(stack + 0x10, base + 0x40);
    put32(stack + 0x14, 0x401234);
    put32(stack + 0x40, base + 0x80);
    put32(stack + 0x44, 0x402345);
    put32(stack + 0x80, 0);
    put32(stack + 0x84, 0); /* end of the chain */
    struct run r;
    run_dump(x86_dump(stack, sizeof(stack), base, base + 0x10, 0x401000), NULL, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT_EQ(t->status, SW_THREAD_OK);
    T_ASSERT_EQ(t->n_frames, 3);
    T_ASSERT_EQ(t->frames[0].trust, SW_TRUST_CONTEXT);
    T_ASSERT_U64_EQ(t->frames[0].instruction, 0x401000);
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_FP);
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x401233);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_X86_ESP], base + 0x18);
    T_ASSERT_U64_EQ(t->frames[2].instruction, 0x402344);
    T_ASSERT_EQ(t->frames[2].module, 0);
    T_ASSERT(t->frames[2].function == NULL);
    /* No supplier: the module was asked about by nobody. */
    T_ASSERT(!r.st->modules[0].asked);
    T_ASSERT(!r.st->modules[0].missing_symbols);
    run_free(&r);
}

static void test_x86_stack_win(void)
{
    /* main (0x1000) calls leaf (0x2000) which uses FPO: 8 bytes of locals, 4 saved. */
    struct fixture_sym syms[] = {{GUID_A_ID,
                                  "MODULE windows x86 " GUID_A_ID " app.pdb\n"
                                  "FILE 1 c:\\src\\app.c\n"
                                  "FUNC 1000 100 0 main\n"
                                  "1000 100 10 1\n"
                                  "FUNC 2000 100 8 leaf\n"
                                  "2000 100 20 1\n"
                                  "STACK WIN 4 1000 100 0 0 0 0 0 0 1 "
                                  "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =\n"
                                  "STACK WIN 0 2000 100 0 0 8 4 8 0 0 0\n",
                                  {0},
                                  NULL}};
    struct fixture fx;
    fixture_init(&fx, syms, 1);
    uint8_t stack[0x100] = {0};
    uint32_t base = 0x120000;
    /* leaf frame: esp -> 8 bytes locals, 4 bytes saved reg, return address into main. */
    put32(stack + 0x0c, 0x401050);
    /* main's frame: ebp = base + 0x40 -> saved ebp 0, return address 0. */
    put32(stack + 0x40, 0);
    put32(stack + 0x44, 0x402080); /* main "returns" into leaf's range: a valid code address */
    struct run r;
    run_dump(x86_dump(stack, sizeof(stack), base, base + 0x40, 0x402010), &fx, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_STR_EQ(t->frames[0].function, "leaf");
    T_ASSERT_STR_EQ(t->frames[0].file, "c:\\src\\app.c");
    T_ASSERT_EQ(t->frames[0].line, 20);
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_CFI);
    T_ASSERT_STR_EQ(t->frames[1].function, "main");
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_X86_ESP], base + 0x10);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_X86_EBP], base + 0x40);
    T_ASSERT(sw_ctx_has(&t->frames[1].ctx, SW_X86_EBX)); /* FPO forwards %ebx */
    T_ASSERT(r.st->modules[0].loaded_symbols);
    T_ASSERT_STR_EQ(r.st->modules[0].symbol_url, "https://symbols.example/test");
    if (t->n_frames >= 3)
        T_ASSERT_EQ(t->frames[2].trust, SW_TRUST_CFI);
    run_free(&r);
    fixture_cleanup(&fx);
}

/* ---------------------------------------------------------------------------------------------
 * amd64
 * ------------------------------------------------------------------------------------------- */

static struct mds *amd64_dump(uint32_t platform, const uint8_t *stack, size_t n, uint64_t rsp,
                              uint64_t rbp, uint64_t rip)
{
    struct mds *m = mds_new();
    mds_system_info(m, 9, platform, 0, 0, 0, "Linux 5.10 #1 SMP x86_64", "");
    uint64_t regs[SW_AMD64_NREGS] = {0};
    regs[SW_AMD64_RIP] = rip;
    regs[SW_AMD64_RSP] = rsp;
    regs[SW_AMD64_RBP] = rbp;
    regs[SW_AMD64_RBX] = 0xbbbb;
    regs[SW_AMD64_R12] = 0x1212;
    uint8_t ctx[1232];
    size_t cn = mds_context_amd64(ctx, regs);
    mds_thread(m, 77, rsp, stack, n, ctx, cn);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x10000,
                             .name = "/usr/bin/app",
                             .cv_kind = 1,
                             .age = 1,
                             .pdb = "app"};
    memcpy(mod.guid, guid_a, 16);
    mds_module(m, &mod);
    return m;
}

static void test_amd64_cfi(void)
{
    struct fixture_sym syms[] = {{GUID_A_ID,
                                  "MODULE Linux x86_64 " GUID_A_ID " app\n"
                                  "FUNC 1000 100 0 callee\n"
                                  "FUNC 2000 100 0 caller\n"
                                  "STACK CFI INIT 1000 100 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
                                  "STACK CFI 1004 $rbx: .cfa -16 + ^ .cfa: $rsp 16 +\n",
                                  {0},
                                  NULL}};
    struct fixture fx;
    fixture_init(&fx, syms, 1);
    uint8_t stack[0x100] = {0};
    uint64_t base = 0x7ffd0000;
    put64(stack + 0, 0x5555);   /* saved rbx */
    put64(stack + 8, 0x402010); /* return address into caller */
    struct run r;
    run_dump(amd64_dump(0x8201, stack, sizeof(stack), base, 0, 0x401010), &fx, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_STR_EQ(t->frames[0].function, "callee");
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_CFI);
    T_ASSERT_STR_EQ(t->frames[1].function, "caller");
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x40200f);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_AMD64_RSP], base + 16);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_AMD64_RBX], 0x5555);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_AMD64_R12], 0x1212);
    T_ASSERT(!sw_ctx_has(&t->frames[1].ctx, SW_AMD64_RAX));
    T_ASSERT_EQ(fx.calls, 1); /* asked once per module per walk */
    run_free(&r);
    fixture_cleanup(&fx);
}

static void test_amd64_scan_and_symbols(void)
{
    /* With symbols, a scanned candidate must fall inside a function: 0x40f000 is in the module
     * but in no function, so the scan skips it and takes 0x401801. */
    struct fixture_sym syms[] = {{GUID_A_ID,
                                  "MODULE Linux x86_64 " GUID_A_ID " app\n"
                                  "FUNC 1000 1000 0 work\n",
                                  {0},
                                  NULL}};
    struct fixture fx;
    fixture_init(&fx, syms, 1);
    uint8_t stack[0x200] = {0};
    uint64_t base = 0x7ffd0000;
    put64(stack + 0x08, 0x12345678); /* not in a module */
    put64(stack + 0x10, 0x40f000);   /* module, outside any function */
    put64(stack + 0x18, 0x401801);   /* a return address */
    struct run r;
    run_dump(amd64_dump(0x8201, stack, sizeof(stack), base, 0x3, 0x401000), &fx, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_SCAN);
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x401800);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_AMD64_RSP], base + 0x20);
    T_ASSERT_STR_EQ(t->frames[1].function, "work");
    run_free(&r);

    /* Without symbols any address inside the module is accepted. */
    run_dump(amd64_dump(0x8201, stack, sizeof(stack), base, 0x3, 0x401000), NULL, &r);
    t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x40efff);
    run_free(&r);

    /* A failing supplier: the module is reported missing, scanning still works. */
    fx.fail_with = SYM_EUNAVAIL;
    run_dump(amd64_dump(0x8201, stack, sizeof(stack), base, 0x3, 0x401000), &fx, &r);
    T_ASSERT(r.st->modules[0].asked && r.st->modules[0].missing_symbols);
    T_ASSERT(!r.st->modules[0].loaded_symbols);
    T_ASSERT(r.st->threads[0].n_frames >= 2);
    run_free(&r);
    fixture_cleanup(&fx);
}

static void test_amd64_windows_leaf(void)
{
    uint8_t stack[0x100] = {0};
    uint64_t base = 0x7ffd0000;
    put64(stack + 0, 0x401500); /* the leaf's return address right at rsp */
    struct run r;
    run_dump(amd64_dump(2, stack, sizeof(stack), base, base + 0x80, 0x401000), NULL, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_LEAF);
    T_ASSERT_STR_EQ(sw_trust_json_name(t->frames[1].trust), "scan");
    T_ASSERT(sw_ctx_has(&t->frames[1].ctx, SW_AMD64_R12)); /* everything forwarded */
    run_free(&r);
}

/* ---------------------------------------------------------------------------------------------
 * arm64 and arm
 * ------------------------------------------------------------------------------------------- */

static void test_arm64_frame_records(void)
{
    struct mds *m = mds_new();
    mds_system_info(m, 12, 0x8101, 12, 0, 0, "21A559", NULL);
    uint8_t stack[0x100] = {0};
    uint64_t base = 0x16f000000;
    /* frame record at fp: saved fp, then a pointer-authenticated return address. */
    put64(stack + 0x20, base + 0x60);
    put64(stack + 0x28, 0x002d000100004100ull);
    put64(stack + 0x60, 0);
    put64(stack + 0x68, 0);
    uint64_t regs[SW_ARM64_NREGS] = {0};
    regs[SW_ARM64_PC] = 0x100001000;
    regs[SW_ARM64_SP] = base;
    regs[SW_ARM64_FP] = base + 0x20;
    regs[SW_ARM64_LR] = 0x7f00000100002000ull; /* signed lr */
    uint8_t ctx[912];
    size_t cn = mds_context_arm64(ctx, regs);
    mds_thread(m, 7, base, stack, sizeof(stack), ctx, cn);
    struct mds_module mod = {.base = 0x100000000, .size = 0x10000, .name = "/Applications/x"};
    mds_module(m, &mod);
    struct run r;
    run_dump(m, NULL, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 3);
    /* The leaf's caller is the (stripped) lr, then the frame record's return address. */
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_FP);
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x100002000 - 4);
    T_ASSERT_U64_EQ(t->frames[2].instruction, 0x100004100 - 4);
    run_free(&r);
}

static void test_arm_cfi(void)
{
    struct fixture_sym syms[] = {{GUID_A_ID,
                                  "MODULE Linux arm " GUID_A_ID " app\n"
                                  "FUNC 100 100 0 leaf\n"
                                  "FUNC 400 100 0 outer\n"
                                  "STACK CFI INIT 100 100 .cfa: sp 0 + .ra: lr\n"
                                  "STACK CFI 104 .cfa: sp 8 + .ra: .cfa -4 + ^ r4: .cfa -8 + ^\n",
                                  {0},
                                  NULL}};
    struct fixture fx;
    fixture_init(&fx, syms, 1);
    struct mds *m = mds_new();
    mds_system_info(m, 5, 0x8201, 0, 0, 0, "Linux armv7l", NULL);
    uint8_t stack[0x40] = {0};
    uint32_t base = 0xbe000000;
    put32(stack + 0, 0x4444); /* saved r4 */
    put32(stack + 4, 0x8421); /* return address (thumb) */
    uint64_t regs[SW_ARM_NREGS] = {0};
    regs[SW_ARM_PC] = 0x8110;
    regs[SW_ARM_SP] = base;
    regs[SW_ARM_LR] = 0x8001;
    uint8_t ctx[368];
    size_t cn = mds_context_arm(ctx, regs);
    mds_thread(m, 9, base, stack, sizeof(stack), ctx, cn);
    struct mds_module mod = {
        .base = 0x8000, .size = 0x1000, .name = "/bin/app", .cv_kind = 1, .age = 1, .pdb = "app"};
    memcpy(mod.guid, guid_a, 16);
    mds_module(m, &mod);
    struct run r;
    run_dump(m, &fx, &r);
    const struct sw_thread *t = &r.st->threads[0];
    T_ASSERT(t->n_frames >= 2);
    T_ASSERT_STR_EQ(t->frames[0].function, "leaf");
    T_ASSERT_EQ(t->frames[1].trust, SW_TRUST_CFI);
    T_ASSERT_U64_EQ(t->frames[1].instruction, 0x8421 - 2);
    T_ASSERT_STR_EQ(t->frames[1].function, "outer");
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[4], 0x4444);
    T_ASSERT_U64_EQ(t->frames[1].ctx.regs[SW_ARM_SP], base + 8);
    run_free(&r);
    fixture_cleanup(&fx);
}

/* ---------------------------------------------------------------------------------------------
 * Inlines, termination, threads
 * ------------------------------------------------------------------------------------------- */

static void test_inline_frames(void)
{
    struct fixture_sym syms[] = {{GUID_A_ID,
                                  "MODULE Linux x86_64 " GUID_A_ID " app\n"
                                  "FILE 0 a.cpp\nFILE 1 b.cpp\nFILE 2 c.cpp\n"
                                  "INLINE_ORIGIN 0 foo()\nINLINE_ORIGIN 1 bar()\n"
                                  "FUNC 1000 100 0 main\n"
                                  "INLINE 0 42 0 0 1010 40\n"
                                  "INLINE 1 39 1 1 1020 10\n"
                                  "1000 100 27 2\n",
                                  {0},
                                  NULL}};
    struct fixture fx;
    fixture_init(&fx, syms, 1);
    uint8_t stack[0x40] = {0};
    struct run r;
    run_dump(amd64_dump(0x8201, stack, sizeof(stack), 0x7ffd0000, 0, 0x401024), &fx, &r);
    const struct sw_frame *f = &r.st->threads[0].frames[0];
    T_ASSERT_STR_EQ(f->function, "main");
    T_ASSERT_EQ(f->n_inlines, 2);
    T_ASSERT_STR_EQ(f->inlines[0].function, "bar()");
    T_ASSERT_STR_EQ(f->inlines[0].file, "c.cpp");
    T_ASSERT_EQ(f->inlines[0].line, 27);
    T_ASSERT_STR_EQ(f->inlines[1].function, "foo()");
    T_ASSERT_STR_EQ(f->inlines[1].file, "b.cpp");
    T_ASSERT_EQ(f->inlines[1].line, 39);
    T_ASSERT_STR_EQ(f->file, "a.cpp");
    T_ASSERT_EQ(f->line, 42);
    run_free(&r);
    fixture_cleanup(&fx);
}

static void test_termination(void)
{
    /* A self-referencing %ebp: the caller's esp does not grow after the first unwind. */
    uint8_t stack[0x40] = {0};
    uint32_t base = 0x120000;
    put32(stack + 0x10, base + 0x10);
    put32(stack + 0x14, 0x401234);
    struct run r;
    run_dump(x86_dump(stack, sizeof(stack), base, base + 0x10, 0x401000), NULL, &r);
    T_ASSERT(r.st->threads[0].n_frames <= 3);
    run_free(&r);

    /* max_frames truncates. */
    uint8_t big[0x400] = {0};
    for (uint32_t i = 0; i < 0x3f0; i += 8) {
        put32(big + i, base + i + 8);
        put32(big + i + 4, 0x401234);
    }
    size_t len;
    uint8_t *data = finish(x86_dump(big, sizeof(big), base, base, 0x401000), &len);
    struct sw_minidump *md;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, NULL));
    struct sw_process_options o;
    sw_process_options_default(&o);
    o.max_frames = 10;
    struct sw_process_state *st;
    T_ASSERT_OK(sw_process(md, NULL, 0, &o, &st, NULL));
    T_ASSERT_EQ(st->threads[0].n_frames, 10);
    T_ASSERT(st->threads[0].truncated);
    sw_process_state_free(st);
    /* The budget across threads. */
    o.max_frames = 8192;
    o.max_total_frames = 7;
    T_ASSERT_OK(sw_process(md, NULL, 0, &o, &st, NULL));
    T_ASSERT_EQ(st->threads[0].n_frames, 7);
    T_ASSERT(st->threads[0].truncated);
    sw_process_state_free(st);
    /* Without a limit the whole chain is walked. */
    T_ASSERT_OK(sw_process(md, NULL, 0, NULL, &st, NULL));
    T_ASSERT(st->threads[0].n_frames > 100);
    T_ASSERT(!st->threads[0].truncated);
    sw_process_state_free(st);
    sw_minidump_free(md);
    free(data);
}

static void test_threads_and_crash(void)
{
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 10, 0, 19041, "", "GenuineIntel");
    uint8_t stack[0x20] = {0};
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = 0x401000;
    regs[SW_X86_ESP] = 0x120000;
    uint8_t ctx[716], ectx[716], lost[716];
    size_t cn = mds_context_x86(ctx, regs);
    regs[SW_X86_EIP] = 0x402000;
    mds_context_x86(ectx, regs);
    regs[SW_X86_ESP] = 0x900000;
    mds_context_x86(lost, regs);
    mds_thread(m, 10, 0, NULL, 0, lost, cn);                    /* no stack memory anywhere */
    mds_thread(m, 11, 0x120000, stack, sizeof(stack), ctx, cn); /* dump thread */
    mds_thread(m, 12, 0x130000, stack, sizeof(stack), ctx, cn); /* crashed */
    mds_thread(m, 13, 0x140000, stack, sizeof(stack), NULL, 0); /* no context */
    struct mds_module mod = {.base = 0x400000, .size = 0x10000, .name = "C:\\app.exe"};
    mds_module(m, &mod);
    uint64_t params[2] = {0, 0x1234};
    mds_exception(m, 12, 0xC0000005, 0, 0x402000, params, 2, ectx, cn);
    mds_breakpad_info(m, true, 11, false, 0);
    mds_unloaded_module(m, 0x500000, 0x1000, 0x1234, "C:\\gone.dll");
    struct run r;
    run_dump(m, NULL, &r);
    const struct sw_process_state *st = r.st;
    T_ASSERT_EQ(st->n_threads, 4);
    T_ASSERT_EQ(st->threads[0].status, SW_THREAD_MISSING_MEMORY);
    T_ASSERT_EQ(st->threads[0].n_frames, 1);
    T_ASSERT_EQ(st->threads[1].status, SW_THREAD_DUMP_THREAD);
    T_ASSERT_EQ(st->threads[1].n_frames, 0);
    T_ASSERT_EQ(st->threads[3].status, SW_THREAD_NO_CONTEXT);
    T_ASSERT_EQ(st->requesting_thread, 2);
    T_ASSERT_EQ(sw_process_breakpad_thread_index(st, 2), 1);
    T_ASSERT_U64_EQ(st->threads[2].frames[0].instruction, 0x402000); /* exception context */
    T_ASSERT(st->crashed);
    T_ASSERT_STR_EQ(st->crash_reason, "EXCEPTION_ACCESS_VIOLATION_READ");
    T_ASSERT_U64_EQ(st->crash_address, 0x1234);
    run_free(&r);
}

static void test_unloaded_hits(void)
{
    uint8_t stack[0x40] = {0};
    struct mds *m = x86_dump(stack, sizeof(stack), 0x120000, 0x120000, 0x500010);
    mds_unloaded_module(m, 0x500000, 0x1000, 0x1234, "C:\\gone.dll");
    mds_unloaded_module(m, 0x500000, 0x2000, 0x1235, "C:\\also.dll");
    struct run r;
    run_dump(m, NULL, &r);
    const struct sw_frame *f = &r.st->threads[0].frames[0];
    T_ASSERT_EQ(f->module, -1);
    T_ASSERT_EQ(f->n_unloaded, 2);
    T_ASSERT_STR_EQ(f->unloaded[0].name, "gone.dll");
    T_ASSERT_U64_EQ(f->unloaded[0].offset, 0x10);
    run_free(&r);
}

static void test_alloc_failures(void)
{
    uint8_t stack[0x100] = {0};
    uint32_t base = 0x120000;
    put32(stack + 0x10, base + 0x40);
    put32(stack + 0x14, 0x401234);
    size_t len;
    uint8_t *data = finish(x86_dump(stack, sizeof(stack), base, base + 0x10, 0x401000), &len);
    struct sw_minidump *md;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, NULL));
    bool done = false;
    for (unsigned long k = 1; k < 100 && !done; k++) {
        struct sw_process_state *st = NULL;
        sym_alloc_fail_at(k);
        sym_err rc = sw_process(md, NULL, 0, NULL, &st, NULL);
        sym_alloc_fail_at(0);
        if (rc == SYM_OK) {
            done = true;
            sw_process_state_free(st);
        } else {
            T_ASSERT_ERR(rc, SYM_ENOMEM);
        }
    }
    T_ASSERT(done);
    sw_minidump_free(md);
    free(data);
}

T_LIST(T_TEST(test_x86_frame_pointer), T_TEST(test_x86_stack_win), T_TEST(test_amd64_cfi),
       T_TEST(test_amd64_scan_and_symbols), T_TEST(test_amd64_windows_leaf),
       T_TEST(test_arm64_frame_records), T_TEST(test_arm_cfi), T_TEST(test_inline_frames),
       T_TEST(test_termination), T_TEST(test_threads_and_crash), T_TEST(test_unloaded_hits),
       T_TEST(test_alloc_failures))
