/* SPDX-License-Identifier: MPL-2.0 */
/* test_minidump.c: the minidump reader on synthetic dumps (every field we write must read back,
 * identifiers formatted per the symbol-store rules), on damaged dumps (truncation at every
 * length, bit flips, hostile counts, allocation failures) and on the public corpus (module lists
 * against Breakpad's machine-readable output, corrupt dumps rejected). */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdsynth.h"
#include "stackwalk/minidump.h"
#include "sym/alloc.h"
#include "t.h"

static const uint8_t test_guid[16] = {0xE5, 0x32, 0x98, 0x5A, 0x72, 0x28, 0xC1, 0x41,
                                      0x83, 0x8E, 0xD9, 0x89, 0x14, 0xE9, 0xB7, 0xFF};

/* A small Windows x86 dump: one crashed thread, two modules, an exception. */
static uint8_t *make_x86_dump(size_t *len)
{
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 5, 1, 2600, "Service Pack 2", "GenuineIntel");
    uint8_t stack[64];
    for (unsigned i = 0; i < sizeof(stack); i++)
        stack[i] = (uint8_t)i;
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = 0x0040429e;
    regs[SW_X86_ESP] = 0x0012fe84;
    regs[SW_X86_EBP] = 0x0012fe88;
    regs[SW_X86_EAX] = 0x45;
    regs[SW_X86_EFLAGS] = 0x10246;
    uint8_t ctx[716];
    size_t n = mds_context_x86(ctx, regs);
    mds_thread(m, 3060, 0x0012fe80, stack, sizeof(stack), ctx, n);
    mds_thread(m, 4544, 0x00220000, stack, 16, ctx, n);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x2d000,
                             .time_date_stamp = 0x45D35F6C,
                             .name = "C:\\test_app.exe",
                             .cv_kind = 1,
                             .age = 0x1a,
                             .pdb = "c:\\build\\test_app.pdb"};
    memcpy(mod.guid, test_guid, 16);
    mds_module(m, &mod);
    struct mds_module k32 = {.base = 0x7c800000,
                             .size = 0xf4000,
                             .time_date_stamp = 0x44ab9a84,
                             .name = "C:\\WINDOWS\\system32\\kernel32.dll",
                             .version = true};
    mds_module(m, &k32);
    mds_unloaded_module(m, 0x10000000, 0x1000, 0xB1054D2A, "gone.dll");
    uint64_t params[2] = {1, 0x45};
    mds_exception(m, 3060, 0xC0000005, 0, 0x0040429e, params, 2, ctx, n);
    mds_breakpad_info(m, true, 4544, true, 3060);
    mds_misc_info(m, 3932, 1171000000);
    mds_thread_name(m, 3060, "main");
    uint8_t *data = mds_finish(m, 1171000000, len);
    mds_free(m);
    return data;
}

static void test_synthetic_fields(void)
{
    size_t len;
    uint8_t *data = make_x86_dump(&len);
    struct sw_minidump *md = NULL;
    struct sym_diag d;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, &d));
    T_ASSERT_EQ(md->n_warnings, 0);
    T_ASSERT(md->system_info.present);
    T_ASSERT_EQ(md->system_info.cpu, SW_CPU_X86);
    T_ASSERT_EQ(md->system_info.os, SW_OS_WINDOWS);
    T_ASSERT_STR_EQ(md->system_info.csd_version, "Service Pack 2");
    T_ASSERT_STR_EQ(md->system_info.vendor_id, "GenuineIntel");
    T_ASSERT_EQ(md->n_threads, 2);
    T_ASSERT_EQ(md->threads[0].thread_id, 3060);
    T_ASSERT_STR_EQ(md->threads[0].name, "main");
    T_ASSERT(md->threads[1].name == NULL);
    T_ASSERT_EQ(md->threads[0].stack.n, 64);
    T_ASSERT_U64_EQ(md->threads[0].stack_start, 0x0012fe80);

    T_ASSERT_EQ(md->n_modules, 2);
    const struct sw_md_module *m0 = &md->modules[0];
    T_ASSERT_EQ(m0->cv_kind, SW_CV_PDB70);
    T_ASSERT_STR_EQ(m0->debug_id, "5A9832E5287241C1838ED98914E9B7FF1a");
    T_ASSERT_STR_EQ(m0->code_id, "45D35F6C2d000");
    T_ASSERT_STR_EQ(sw_basename(m0->code_file), "test_app.exe");
    T_ASSERT_STR_EQ(sw_basename(m0->debug_file), "test_app.pdb");
    T_ASSERT(m0->version == NULL);
    const struct sw_md_module *m1 = &md->modules[1];
    T_ASSERT_EQ(m1->cv_kind, SW_CV_NONE);
    T_ASSERT_STR_EQ(m1->debug_id, "");
    T_ASSERT_STR_EQ(m1->version, "1.2.3.4");
    T_ASSERT_STR_EQ(m1->code_id, "44AB9A84f4000");

    T_ASSERT(sw_minidump_module_at(md, 0x3fffff) == NULL);
    T_ASSERT(sw_minidump_module_at(md, 0x400000) == m0);
    T_ASSERT(sw_minidump_module_at(md, 0x42cfff) == m0);
    T_ASSERT(sw_minidump_module_at(md, 0x42d000) == NULL);
    T_ASSERT(sw_minidump_module_at(md, 0x7c8f3fff) == m1);

    T_ASSERT_EQ(md->n_unloaded_modules, 1);
    T_ASSERT_STR_EQ(md->unloaded_modules[0].name, "gone.dll");
    T_ASSERT_STR_EQ(md->unloaded_modules[0].code_id, "B1054D2A1000");

    T_ASSERT(md->exception.present);
    T_ASSERT_EQ(md->exception.thread_id, 3060);
    T_ASSERT_U64_EQ(md->exception.code, 0xC0000005);
    T_ASSERT_EQ(md->exception.n_params, 2);
    T_ASSERT_U64_EQ(md->exception.params[1], 0x45);
    struct sw_context c;
    T_ASSERT_OK(sw_minidump_exception_context(md, &c));
    T_ASSERT_EQ(c.cpu, SW_CPU_X86);
    T_ASSERT_U64_EQ(c.regs[SW_X86_EIP], 0x0040429e);
    T_ASSERT_U64_EQ(c.regs[SW_X86_ESP], 0x0012fe84);
    T_ASSERT_U64_EQ(c.regs[SW_X86_EFLAGS], 0x10246);
    T_ASSERT(sw_ctx_has(&c, SW_X86_EBP));
    T_ASSERT_OK(sw_minidump_thread_context(md, 1, &c));

    T_ASSERT(md->breakpad_info.present && md->breakpad_info.has_dump_thread);
    T_ASSERT_EQ(md->breakpad_info.dump_thread_id, 4544);
    T_ASSERT(md->misc_info.has_process_id);
    T_ASSERT_EQ(md->misc_info.process_id, 3932);
    T_ASSERT(md->misc_info.has_process_times);

    /* Memory: both stacks are in the memory list. */
    const struct sw_md_memory *mem = sw_minidump_memory_at(md, 0x0012fe80 + 63);
    T_ASSERT(mem != NULL);
    T_ASSERT_U64_EQ(mem->base, 0x0012fe80);
    T_ASSERT(sw_minidump_memory_at(md, 0x0012fe80 + 64) == NULL);
    struct sw_bytes raw;
    T_ASSERT(sw_minidump_stream(md, SW_STREAM_SYSTEM_INFO, &raw));
    T_ASSERT_EQ(raw.n, 56);
    sw_minidump_free(md);
    free(data);
}

static void test_elf_ids(void)
{
    static const uint8_t bid[20] = {0xf1, 0xc3, 0xbc, 0xc0, 0x27, 0x98, 0x65, 0xfe, 0x30, 0x58,
                                    0x40, 0x4b, 0x28, 0x31, 0xd9, 0xe6, 0x41, 0x35, 0x38, 0x6c};
    static const uint8_t short_bid[4] = {0x01, 0x02, 0x03, 0x04};
    struct mds *m = mds_new();
    mds_system_info(m, 9, 0x8201, 0, 0, 0, "Linux 4.9.60 #1 SMP x86_64", NULL);
    uint64_t regs[SW_AMD64_NREGS] = {0};
    regs[SW_AMD64_RIP] = 0x401d72;
    regs[SW_AMD64_RSP] = 0x7fff5ae4aa20;
    uint8_t ctx[1232];
    size_t n = mds_context_amd64(ctx, regs);
    uint8_t stack[32] = {0};
    mds_thread(m, 1304, 0x7fff5ae4aa20, stack, sizeof(stack), ctx, n);
    struct mds_module a = {.base = 0x400000,
                           .size = 0x1a000,
                           .name = "/tmp/crash",
                           .cv_kind = 2,
                           .build_id = bid,
                           .build_id_len = sizeof(bid)};
    mds_module(m, &a);
    struct mds_module b = {.base = 0x500000,
                           .size = 0x1000,
                           .name = "/lib/short.so",
                           .cv_kind = 2,
                           .build_id = short_bid,
                           .build_id_len = 4};
    mds_module(m, &b);
    /* Overlapping mapping of the same library: the lower range gets truncated. */
    struct mds_module c = {
        .base = 0x400800, .size = 0x800, .name = "/tmp/other", .time_date_stamp = 1};
    mds_module(m, &c);
    size_t len;
    uint8_t *data = mds_finish(m, 0, &len);
    mds_free(m);
    struct sw_minidump *md;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, NULL));
    T_ASSERT_EQ(md->system_info.cpu, SW_CPU_AMD64);
    T_ASSERT_STR_EQ(md->modules[0].debug_id, "C0BCC3F19827FE653058404B2831D9E60");
    T_ASSERT_STR_EQ(md->modules[0].code_id, "f1c3bcc0279865fe3058404b2831d9e64135386c");
    T_ASSERT_STR_EQ(md->modules[0].debug_file, "/tmp/crash");
    T_ASSERT_STR_EQ(md->modules[1].debug_id, "040302010000000000000000000000000");
    T_ASSERT_STR_EQ(md->modules[1].code_id, "01020304");
    T_ASSERT(sw_minidump_module_at(md, 0x4007ff) == &md->modules[0]);
    T_ASSERT(sw_minidump_module_at(md, 0x400800) == &md->modules[2]);
    T_ASSERT(sw_minidump_module_at(md, 0x401000) == NULL);
    struct sw_context cx;
    T_ASSERT_OK(sw_minidump_thread_context(md, 0, &cx));
    T_ASSERT_U64_EQ(cx.regs[SW_AMD64_RIP], 0x401d72);
    T_ASSERT_U64_EQ(cx.regs[SW_AMD64_RSP], 0x7fff5ae4aa20);
    sw_minidump_free(md);
    free(data);
}

static void test_contexts_roundtrip(void)
{
    uint64_t regs[SW_MAX_REGS];
    for (unsigned i = 0; i < SW_MAX_REGS; i++)
        regs[i] = 0x1000 + i * 0x10;
    uint8_t buf[1232];
    struct sw_context c;
    size_t n = mds_context_arm64(buf, regs);
    T_ASSERT_OK(sw_context_parse(SW_CPU_ARM64, buf, n, false, &c));
    T_ASSERT_U64_EQ(c.regs[SW_ARM64_FP], regs[29]);
    T_ASSERT_U64_EQ(c.regs[SW_ARM64_SP], regs[31]);
    T_ASSERT_U64_EQ(c.regs[SW_ARM64_PC], regs[32]);
    n = mds_context_arm(buf, regs);
    T_ASSERT_OK(sw_context_parse(SW_CPU_UNKNOWN, buf, n, false, &c));
    T_ASSERT_EQ(c.cpu, SW_CPU_ARM);
    T_ASSERT_U64_EQ(c.regs[SW_ARM_PC], regs[15]);
    n = mds_context_amd64(buf, regs);
    T_ASSERT_OK(sw_context_parse(SW_CPU_UNKNOWN, buf, n, false, &c));
    T_ASSERT_EQ(c.cpu, SW_CPU_AMD64);
    T_ASSERT_U64_EQ(c.regs[SW_AMD64_R15], regs[SW_AMD64_R15]);
    /* A context that disagrees with SystemInfo, or is too short, is rejected. */
    T_ASSERT_ERR(sw_context_parse(SW_CPU_X86, buf, n, false, &c), SYM_EPARSE);
    n = mds_context_x86(buf, regs);
    T_ASSERT_ERR(sw_context_parse(SW_CPU_X86, buf, 100, false, &c), SYM_EPARSE);
    T_ASSERT_OK(sw_context_parse(SW_CPU_X86, buf, n, false, &c));
    /* Old arm64 layout: u64 flags with the top bit. */
    memset(buf, 0, sizeof(buf));
    buf[3] = 0x80;
    buf[0] = 0x02;
    buf[264] = 0x34;
    T_ASSERT_OK(sw_context_parse(SW_CPU_ARM64, buf, 800, false, &c));
    T_ASSERT_U64_EQ(c.regs[SW_ARM64_PC], 0x34);
    /* Register names. */
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_AMD64, "$rsp", 4), SW_AMD64_RSP);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_ARM64, "x29", 3), SW_ARM64_FP);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_ARM64, "x31", 3), SW_ARM64_SP);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_ARM, "r7", 2), 7);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_ARM, "r16", 3), -1);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_X86, "$eip", 4), SW_X86_EIP);
    T_ASSERT_EQ(sw_reg_lookup(SW_CPU_X86, "$rip", 4), -1);
}

static void check_damaged(const uint8_t *data, size_t len)
{
    struct sw_minidump *md = NULL;
    struct sym_diag d;
    sym_err rc = sw_minidump_open(data, len, NULL, &md, &d);
    if (rc == SYM_OK) {
        /* Whatever was read must be usable. */
        for (size_t i = 0; i < md->n_threads; i++) {
            struct sw_context c;
            sym_err crc = sw_minidump_thread_context(md, i, &c);
            T_ASSERT(crc == SYM_OK || crc == SYM_ENOTFOUND || crc == SYM_EPARSE);
        }
        for (size_t i = 0; i < md->n_modules; i++) {
            T_ASSERT(md->modules[i].debug_id != NULL && md->modules[i].code_id != NULL);
            (void)sw_minidump_module_at(md, md->modules[i].base);
        }
        sw_minidump_free(md);
    } else {
        T_ASSERT(rc == SYM_EPARSE || rc == SYM_ELIMIT);
    }
}

static void test_truncated_everywhere(void)
{
    size_t len;
    uint8_t *data = make_x86_dump(&len);
    for (size_t n = 0; n < len; n++) {
        /* A heap copy of exactly n bytes, so ASan sees reads past the end. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, data, n);
        check_damaged(cut, n);
        free(cut);
    }
    free(data);
}

static void test_bit_flips(void)
{
    size_t len;
    uint8_t *data = make_x86_dump(&len);
    uint8_t *copy = malloc(len);
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[pos] = (uint8_t)(seed >> 16);
        }
        check_damaged(copy, len);
    }
    free(copy);
    free(data);
}

static void test_hostile_counts(void)
{
    struct mds *m = mds_new();
    /* A thread list claiming 0xFFFFFFFF threads in 52 bytes. */
    uint8_t tl[52] = {0xFF, 0xFF, 0xFF, 0xFF};
    mds_raw_stream(m, SW_STREAM_THREAD_LIST, tl, sizeof(tl));
    size_t len;
    uint8_t *data = mds_finish(m, 0, &len);
    mds_free(m);
    /* mds_finish also added an (empty) thread list after ours; ours comes first and wins. */
    struct sw_minidump *md;
    struct sym_diag d;
    T_ASSERT_ERR(sw_minidump_open(data, len, NULL, &md, &d), SYM_EPARSE);
    free(data);

    /* A directory claiming a huge stream count. */
    uint8_t hdr[32] = {'M', 'D', 'M', 'P', 0x93, 0xA7, 0, 0, 0xFF, 0xFF, 0xFF, 0x0F, 32};
    T_ASSERT_ERR(sw_minidump_open(hdr, sizeof(hdr), NULL, &md, &d), SYM_ELIMIT);
    struct sw_md_limits lim;
    sw_md_limits_default(&lim);
    lim.max_streams = UINT32_MAX;
    T_ASSERT_ERR(sw_minidump_open(hdr, sizeof(hdr), &lim, &md, &d), SYM_EPARSE);
    /* Not a minidump at all. */
    T_ASSERT_ERR(sw_minidump_open("hello", 5, NULL, &md, &d), SYM_EPARSE);
    T_ASSERT_ERR(sw_minidump_open(hdr, 0, NULL, &md, &d), SYM_EPARSE);

    /* Thread limit. */
    data = make_x86_dump(&len);
    lim.max_threads = 1;
    T_ASSERT_ERR(sw_minidump_open(data, len, &lim, &md, &d), SYM_ELIMIT);
    free(data);
}

/* Many records pointing at one long string must not multiply memory without bound. */
static void test_string_amplification(void)
{
    struct mds *m = mds_new();
    uint64_t regs[SW_X86_NREGS] = {0};
    uint8_t ctx[716];
    size_t cn = mds_context_x86(ctx, regs);
    mds_system_info(m, 0, 2, 10, 0, 0, NULL, NULL);
    mds_thread(m, 1, 0, NULL, 0, ctx, cn);
    /* a 60 KB MINIDUMP_STRING */
    size_t sl = 4 + 60000;
    uint8_t *str = calloc(1, sl);
    str[0] = (uint8_t)(60000 & 0xFF);
    str[1] = (uint8_t)(60000 >> 8);
    for (size_t i = 4; i < sl; i += 2)
        str[i] = 'a';
    uint32_t rva = mds_append(m, str, sl);
    free(str);
    /* 1000 modules, all named by it */
    size_t n = 1000, ml = 4 + n * 108;
    uint8_t *list = calloc(1, ml);
    list[0] = (uint8_t)(n & 0xFF);
    list[1] = (uint8_t)(n >> 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = list + 4 + i * 108;
        uint64_t base = 0x10000000ull + i * 0x10000;
        for (int b = 0; b < 8; b++)
            e[b] = (uint8_t)(base >> (8 * b));
        e[8] = 0x00;
        e[9] = 0x10; /* size 0x1000 */
        for (int b = 0; b < 4; b++)
            e[20 + b] = (uint8_t)(rva >> (8 * b));
    }
    mds_raw_stream(m, SW_STREAM_MODULE_LIST, list, ml);
    free(list);
    size_t len;
    uint8_t *data = mds_finish(m, 0, &len);
    mds_free(m);
    struct sw_minidump *md;
    struct sym_diag d;
    T_ASSERT_ERR(sw_minidump_open(data, len, NULL, &md, &d), SYM_ELIMIT);
    /* With room for it, the same dump reads fine. */
    struct sw_md_limits lim;
    sw_md_limits_default(&lim);
    lim.max_decoded_bytes = (size_t)1 << 30;
    T_ASSERT_OK(sw_minidump_open(data, len, &lim, &md, &d));
    T_ASSERT_EQ(md->n_modules, 1000);
    T_ASSERT_EQ(strlen(md->modules[999].name), 30000);
    sw_minidump_free(md);
    free(data);
}

static void test_alloc_failures(void)
{
    size_t len;
    uint8_t *data = make_x86_dump(&len);
    struct sw_minidump *md;
    bool succeeded = false;
    for (unsigned long k = 1; k < 200 && !succeeded; k++) {
        sym_alloc_fail_at(k);
        sym_err rc = sw_minidump_open(data, len, NULL, &md, NULL);
        sym_alloc_fail_at(0);
        if (rc == SYM_OK) {
            succeeded = true;
            sw_minidump_free(md);
        } else {
            T_ASSERT_ERR(rc, SYM_ENOMEM);
        }
    }
    T_ASSERT(succeeded);
    free(data);
}

/* A big-endian dump (the format allows either byte order; the signature tells). */
static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_big_endian(void)
{
    uint8_t d[2048] = {0};
    /* header: signature, version, 2 streams, directory at 32 */
    be32(d, 0x504D444D);
    be32(d + 4, 0xA793);
    be32(d + 8, 2);
    be32(d + 12, 32);
    /* directory: SystemInfo (56 bytes at 64), ThreadList (52 bytes at 128) */
    be32(d + 32, 7);
    be32(d + 36, 56);
    be32(d + 40, 64);
    be32(d + 44, 3);
    be32(d + 48, 52);
    be32(d + 52, 128);
    /* SystemInfo: x86 (0), level 6, Windows NT */
    d[64 + 3] = 6;
    be32(d + 64 + 20, 2);
    /* ThreadList: one thread, stack 16 bytes at 256 based 0x1000, context 716 bytes at 512 */
    be32(d + 128, 1);
    be32(d + 132, 77);
    be32(d + 132 + 28, 0x1000); /* stack start, low word of a big-endian u64 */
    be32(d + 132 + 32, 16);
    be32(d + 132 + 36, 256);
    be32(d + 132 + 40, 716);
    be32(d + 132 + 44, 512);
    be32(d + 512, 0x0001003f);
    be32(d + 512 + 184, 0x401000); /* eip */
    be32(d + 512 + 196, 0x1000);   /* esp */
    size_t len = 512 + 716;
    struct sw_minidump *md;
    struct sym_diag diag;
    T_ASSERT_OK(sw_minidump_open(d, len, NULL, &md, &diag));
    T_ASSERT(md->big_endian);
    T_ASSERT_EQ(md->system_info.cpu, SW_CPU_X86);
    T_ASSERT_EQ(md->system_info.os, SW_OS_WINDOWS);
    T_ASSERT_EQ(md->n_threads, 1);
    T_ASSERT_EQ(md->threads[0].thread_id, 77);
    T_ASSERT_U64_EQ(md->threads[0].stack_start, 0x1000);
    T_ASSERT_EQ(md->threads[0].stack.n, 16);
    struct sw_context c;
    T_ASSERT_OK(sw_minidump_thread_context(md, 0, &c));
    T_ASSERT_U64_EQ(c.regs[SW_X86_EIP], 0x401000);
    T_ASSERT_U64_EQ(c.regs[SW_X86_ESP], 0x1000);
    sw_minidump_free(md);
}

/* ---- corpus ---- */

static uint8_t *load(const char *rel, size_t *len)
{
    return (uint8_t *)t_read_file(t_corpus_path(rel), len);
}

static void test_corpus_minidump2(void)
{
    size_t len;
    uint8_t *data = load("breakpad/src/processor/testdata/minidump2.dmp", &len);
    struct sw_minidump *md;
    struct sym_diag d;
    T_ASSERT_OK(sw_minidump_open(data, len, NULL, &md, &d));
    T_ASSERT_EQ(md->n_threads, 2);
    T_ASSERT_EQ(md->n_modules, 13);
    T_ASSERT_STR_EQ(md->system_info.csd_version, "Service Pack 2");
    T_ASSERT_EQ(md->system_info.build_number, 2600);
    T_ASSERT_STR_EQ(md->modules[0].debug_id, "5A9832E5287241C1838ED98914E9B7FF1");
    T_ASSERT_STR_EQ(md->modules[0].code_id, "45D35F6C2d000");
    T_ASSERT(md->exception.present);
    T_ASSERT_EQ(md->exception.thread_id, 3060);
    T_ASSERT(md->breakpad_info.has_dump_thread);
    T_ASSERT_EQ(md->breakpad_info.dump_thread_id, 4544);
    T_ASSERT_EQ(md->misc_info.process_id, 3932);
    struct sw_context c;
    T_ASSERT_OK(sw_minidump_exception_context(md, &c));
    T_ASSERT_U64_EQ(c.regs[SW_X86_EIP], 0x0040429e);
    T_ASSERT_U64_EQ(c.regs[SW_X86_EBX], 0x7c80abc1);
    sw_minidump_free(md);
    free(data);
}

static void test_corpus_invalid(void)
{
    static const char *bad[] = {"rust-minidump/testdata/invalid-range.dmp",
                                "rust-minidump/testdata/invalid-record-count.dmp"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        uint8_t *data = load(bad[i], &len);
        struct sw_minidump *md = NULL;
        struct sym_diag d;
        sym_err rc = sw_minidump_open(data, len, NULL, &md, &d);
        T_ASSERT(rc != SYM_OK);
        printf("  %s: %s (%s)\n", bad[i], sym_errname(rc), d.msg);
        free(data);
    }
}

/* Every expected/<name>.stackwalk.machine_readable.txt: the Module| lines must equal ours. */
static int cmp_u64p(const void *a, const void *b)
{
    const struct sw_md_module *x = *(const struct sw_md_module *const *)a;
    const struct sw_md_module *y = *(const struct sw_md_module *const *)b;
    return x->base < y->base ? -1 : x->base > y->base;
}

struct dump_ref {
    const char *dir;  /* corpus sub-directory */
    const char *dump; /* relative to dir */
};

static char *find_dump(const char *corpus_dir, const char *name)
{
    static const char *roots[] = {"breakpad/src/processor/testdata", "rust-minidump/testdata",
                                  "symbolic/py/tests/res/minidump", "symbolicator/tests/fixtures"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/%s.dmp", corpus_dir, roots[i], name);
        FILE *f = fopen(path, "rb");
        if (f != NULL) {
            fclose(f);
            return strdup(path);
        }
    }
    return NULL;
}

static void test_corpus_module_lists(void)
{
    const char *corpus = t_corpus_dir();
    if (corpus == NULL)
        T_SKIP("corpus not present");
    static const char *dirs[] = {"breakpad", "rust-minidump", "symbolic", "symbolicator"};
    int files = 0, modules_checked = 0;
    for (size_t di = 0; di < 4; di++) {
        char exp_dir[4096];
        snprintf(exp_dir, sizeof(exp_dir), "%s/%s/expected", corpus, dirs[di]);
        DIR *dir = opendir(exp_dir);
        if (dir == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            const char *suffix = ".stackwalk.machine_readable.txt";
            size_t nl = strlen(e->d_name), sl = strlen(suffix);
            if (nl <= sl || strcmp(e->d_name + nl - sl, suffix) != 0)
                continue;
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(nl - sl), e->d_name);
            char *dot = strstr(name, ".with-new-sym");
            if (dot)
                *dot = '\0';
            char *dump_path = find_dump(corpus, name);
            T_ASSERT(dump_path != NULL);
            char exp_path[4400];
            snprintf(exp_path, sizeof(exp_path), "%s/%s", exp_dir, e->d_name);
            size_t elen, dlen;
            char *exp = t_read_file(exp_path, &elen);
            uint8_t *data = (uint8_t *)t_read_file(dump_path, &dlen);
            struct sw_minidump *md = NULL;
            struct sym_diag d;
            sym_err rc = sw_minidump_open(data, dlen, NULL, &md, &d);
            if (elen == 0) {
                /* Breakpad could not read it: neither may we. */
                T_ASSERT(rc != SYM_OK);
            } else {
                if (rc != SYM_OK)
                    T_FAIL("%s: %s", dump_path, d.msg);
                const struct sw_md_module **sorted = calloc(md->n_modules + 1, sizeof(*sorted));
                for (size_t i = 0; i < md->n_modules; i++)
                    sorted[i] = &md->modules[i];
                qsort(sorted, md->n_modules, sizeof(*sorted), cmp_u64p);
                size_t k = 0;
                for (char *line = exp, *next; line != NULL && *line; line = next) {
                    next = strchr(line, '\n');
                    if (next != NULL)
                        *next++ = '\0';
                    if (strncmp(line, "Module|", 7) != 0)
                        continue;
                    if (k >= md->n_modules)
                        T_FAIL("%s: more Module lines than modules", name);
                    const struct sw_md_module *m = sorted[k++];
                    char want[2048];
                    snprintf(want, sizeof(want),
                             "Module|%s|%s|%s|%s|0x%08" PRIx64 "|0x%08" PRIx64 "|%d",
                             sw_basename(m->code_file), m->version ? m->version : "",
                             sw_basename(m->debug_file), m->debug_id, m->base,
                             m->base + m->size - 1, m == &md->modules[0]);
                    if (strcmp(line, want) != 0)
                        T_FAIL("%s:\n  expected %s\n  got      %s", name, line, want);
                    modules_checked++;
                }
                T_ASSERT_EQ(k, md->n_modules);
                free(sorted);
                sw_minidump_free(md);
            }
            free(exp);
            free(data);
            free(dump_path);
            files++;
        }
        closedir(dir);
    }
    printf("  %d expected files, %d module lines match\n", files, modules_checked);
    T_ASSERT(files >= 59);
}

T_LIST(T_TEST(test_synthetic_fields), T_TEST(test_elf_ids), T_TEST(test_contexts_roundtrip),
       T_TEST(test_truncated_everywhere), T_TEST(test_bit_flips), T_TEST(test_hostile_counts),
       T_TEST(test_string_amplification), T_TEST(test_alloc_failures), T_TEST(test_big_endian),
       T_TEST(test_corpus_minidump2), T_TEST(test_corpus_invalid), T_TEST(test_corpus_module_lists))
