/* SPDX-License-Identifier: MPL-2.0 */
/* gen_stackwalk_seeds.c: writes the seed corpora of the minidump, stackwalk and cfi_eval fuzz
 * targets (tests/fuzz/corpus/{minidump,stackwalk,cfi_eval}/) from synthetic inputs built with
 * mdsynth. Run by hand when the seed set changes:
 *     gen_stackwalk_seeds <repo>/tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mdsynth.h"
#include "stackwalk/context.h"

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* x86 Windows: ebp chain through two frames into a module. */
static uint8_t *dump_x86(size_t *len)
{
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 10, 0, 19041, "", "GenuineIntel");
    uint8_t stack[256] = {0};
    uint32_t base = 0x00120000;
    put32(stack + 0x10, base + 0x40); /* saved ebp */
    put32(stack + 0x14, 0x00401234);  /* return address */
    put32(stack + 0x40, 0);
    put32(stack + 0x44, 0x00402345);
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = 0x00401000;
    regs[SW_X86_ESP] = base;
    regs[SW_X86_EBP] = base + 0x10;
    uint8_t ctx[716];
    size_t n = mds_context_x86(ctx, regs);
    mds_thread(m, 1, base, stack, sizeof(stack), ctx, n);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x10000,
                             .name = "C:\\app.exe",
                             .cv_kind = 1,
                             .age = 1,
                             .pdb = "app.pdb",
                             .version = true};
    memset(mod.guid, 0x11, 16);
    mds_module(m, &mod);
    uint64_t params[2] = {0, 0x10};
    mds_exception(m, 1, 0xC0000005, 0, 0x401000, params, 2, ctx, n);
    mds_thread_name(m, 1, "main");
    mds_misc_info(m, 42, 1000);
    mds_unloaded_module(m, 0x500000, 0x1000, 1, "old.dll");
    uint8_t *d = mds_finish(m, 2000, len);
    mds_free(m);
    return d;
}

/* amd64 Linux with a build id, lsb-release and a scanned return address. */
static uint8_t *dump_amd64(size_t *len)
{
    static const uint8_t bid[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                    11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    struct mds *m = mds_new();
    mds_system_info(m, 9, 0x8201, 0, 0, 0, "Linux 5.10.0 #1 SMP x86_64", "");
    uint8_t stack[512] = {0};
    uint64_t base = 0x7ffd00000000;
    put64(stack + 0x18, 0x400800);
    put64(stack + 0x40, base + 0x80);
    put64(stack + 0x48, 0x400900);
    uint64_t regs[SW_AMD64_NREGS] = {0};
    regs[SW_AMD64_RIP] = 0x400100;
    regs[SW_AMD64_RSP] = base;
    regs[SW_AMD64_RBP] = base + 0x40;
    uint8_t ctx[1232];
    size_t n = mds_context_amd64(ctx, regs);
    mds_thread(m, 100, base, stack, sizeof(stack), ctx, n);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x2000,
                             .name = "/usr/bin/app",
                             .cv_kind = 2,
                             .build_id = bid,
                             .build_id_len = sizeof(bid)};
    mds_module(m, &mod);
    const char lsb[] = "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"
                       "DISTRIB_DESCRIPTION=\"Ubuntu 22.04 LTS\"\n";
    mds_raw_stream(m, 0x47670005, lsb, sizeof(lsb) - 1);
    const char status[] = "Name:\tapp\nPid:\t100\n";
    mds_raw_stream(m, 0x47670004, status, sizeof(status) - 1);
    const char maps[] = "00400000-00402000 r-xp 00000000 08:01 1 /usr/bin/app\n";
    mds_raw_stream(m, 0x47670009, maps, sizeof(maps) - 1);
    mds_exception(m, 100, 11, 1, 0, NULL, 0, ctx, n);
    uint8_t *d = mds_finish(m, 0, len);
    mds_free(m);
    return d;
}

/* arm64 macOS: frame records. */
static uint8_t *dump_arm64(size_t *len)
{
    struct mds *m = mds_new();
    mds_system_info(m, 12, 0x8101, 12, 0, 0, "21A559", NULL);
    uint8_t stack[256] = {0};
    uint64_t base = 0x16f000000;
    put64(stack + 0x20, base + 0x60);
    put64(stack + 0x28, 0x100004000);
    uint64_t regs[SW_ARM64_NREGS] = {0};
    regs[SW_ARM64_PC] = 0x100001000;
    regs[SW_ARM64_SP] = base;
    regs[SW_ARM64_FP] = base + 0x20;
    regs[SW_ARM64_LR] = 0x100002000;
    uint8_t ctx[912];
    size_t n = mds_context_arm64(ctx, regs);
    mds_thread(m, 7, base, stack, sizeof(stack), ctx, n);
    struct mds_module mod = {
        .base = 0x100000000, .size = 0x10000, .name = "/Applications/x", .cv_kind = 1, .pdb = "x"};
    memset(mod.guid, 0x22, 16);
    mds_module(m, &mod);
    uint8_t *d = mds_finish(m, 0, len);
    mds_free(m);
    return d;
}

/* arm Android. */
static uint8_t *dump_arm(size_t *len)
{
    struct mds *m = mds_new();
    mds_system_info(m, 5, 0x8203, 0, 0, 0, "Linux 4.4 armv7l", NULL);
    uint8_t stack[128] = {0};
    uint64_t base = 0xbe000000;
    put32(stack + 0x8, 0x8100);
    uint64_t regs[SW_ARM_NREGS] = {0};
    regs[SW_ARM_PC] = 0x8000;
    regs[SW_ARM_SP] = base;
    regs[SW_ARM_LR] = 0x8201;
    uint8_t ctx[368];
    size_t n = mds_context_arm(ctx, regs);
    mds_thread(m, 9, base, stack, sizeof(stack), ctx, n);
    struct mds_module mod = {.base = 0x8000, .size = 0x1000, .name = "/system/bin/app"};
    mds_module(m, &mod);
    uint8_t *d = mds_finish(m, 0, len);
    mds_free(m);
    return d;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus root>\n", argv[0]);
        return 2;
    }
    char dir[4096];
    struct {
        const char *name;
        uint8_t *(*make)(size_t *);
    } dumps[] = {{"x86-windows.dmp", dump_x86},
                 {"amd64-linux.dmp", dump_amd64},
                 {"arm64-macos.dmp", dump_arm64},
                 {"arm-android.dmp", dump_arm}};
    const char *targets[] = {"minidump", "stackwalk"};
    for (size_t t = 0; t < 2; t++) {
        snprintf(dir, sizeof(dir), "%s/%s", argv[1], targets[t]);
        mkdir(dir, 0755);
        for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
            size_t len;
            uint8_t *d = dumps[i].make(&len);
            write_file(dir, dumps[i].name, d, len);
            if (t == 0) {
                /* A truncated copy and a copy with a hostile thread count. */
                char name[128];
                snprintf(name, sizeof(name), "truncated-%s", dumps[i].name);
                write_file(dir, name, d, len / 2);
            }
            free(d);
        }
    }
    /* cfi_eval seeds: "<cpu>\n<rules>\n" then stack bytes (see fuzz_cfi_eval.c). */
    snprintf(dir, sizeof(dir), "%s/cfi_eval", argv[1]);
    mkdir(dir, 0755);
    static const char *rules[][2] = {
        {"amd64", ".cfa: $rsp 8 + .ra: .cfa -8 + ^ $rbx: .cfa -16 + ^ .cfa: $rsp 16 +"},
        {"x86", ".cfa: $esp 4 + .ra: .cfa 4 - ^ $ebp: .cfa 8 - ^"},
        {"arm64", ".cfa: sp 0 + .ra: x30 .cfa: x29 16 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^"},
        {"arm", ".cfa: sp 0 + .ra: lr .cfa: sp 20 + .ra: .cfa -4 + ^ r7: .cfa -8 + ^"},
        {"win", "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="},
        {"win", "$T1 .raSearch = $T0 $T1 4 - 8 @ = $ebp $T1 4 - ^ = $eip $T1 ^ = $esp $T1 4 + = "
                "$20 $T0 48 - ^ = $23 $T0 52 - ^ ="},
        {"win", "$T0 $ebp = $eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + = $T1 .undef ="},
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        uint8_t buf[512];
        int n = snprintf((char *)buf, sizeof(buf), "%s\n%s\n", rules[i][0], rules[i][1]);
        for (int k = 0; k < 64; k++)
            buf[n + k] = (uint8_t)(k * 8);
        char name[64];
        snprintf(name, sizeof(name), "rules-%zu", i);
        write_file(dir, name, buf, (size_t)n + 64);
    }
    return 0;
}
