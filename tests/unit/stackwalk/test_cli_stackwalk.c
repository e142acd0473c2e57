/* SPDX-License-Identifier: MPL-2.0 */
/* test_cli_stackwalk.c: `sigil stackwalk` end to end (the binary named by SIGIL_BIN): output
 * formats, symbols from a directory, an unreachable symbol server, exit statuses for usage
 * errors and unreadable dumps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>

#include "mdsynth.h"
#include "stackwalk/context.h"
#include "t.h"

static char dump_path[512], bad_path[512], sym_dir[512];

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    T_ASSERT(f != NULL);
    T_ASSERT(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void setup(void)
{
    if (dump_path[0])
        return;
    const char *dir = t_tmpdir();
    struct mds *m = mds_new();
    mds_system_info(m, 0, 2, 10, 0, 19041, "", "GenuineIntel");
    uint8_t stack[64] = {0};
    stack[0x14] = 0x34;
    stack[0x15] = 0x12;
    stack[0x16] = 0x40; /* [esp+0x14] = 0x401234 */
    uint64_t regs[SW_X86_NREGS] = {0};
    regs[SW_X86_EIP] = 0x401010;
    regs[SW_X86_ESP] = 0x120000;
    regs[SW_X86_EBP] = 0x120010;
    uint8_t ctx[716];
    size_t cn = mds_context_x86(ctx, regs);
    mds_thread(m, 1, 0x120000, stack, sizeof(stack), ctx, cn);
    struct mds_module mod = {.base = 0x400000,
                             .size = 0x10000,
                             .name = "C:\\app\\app.exe",
                             .cv_kind = 1,
                             .age = 1,
                             .pdb = "app.pdb"};
    memset(mod.guid, 0x11, 16);
    mds_module(m, &mod);
    uint64_t params[2] = {1, 0x10};
    mds_exception(m, 1, 0xC0000005, 0, 0x401010, params, 2, ctx, cn);
    size_t len;
    uint8_t *data = mds_finish(m, 0, &len);
    mds_free(m);
    snprintf(dump_path, sizeof(dump_path), "%s/app.dmp", dir);
    write_file(dump_path, data, len);
    snprintf(bad_path, sizeof(bad_path), "%s/bad.dmp", dir);
    write_file(bad_path, data, 40);
    free(data);
    /* symbols: <dir>/app.pdb/<id>/app.sym */
    const char *id = "111111111111111111111111111111111";
    char p[1024];
    snprintf(sym_dir, sizeof(sym_dir), "%s/syms", dir);
    T_ASSERT(mkdir(sym_dir, 0755) == 0);
    snprintf(p, sizeof(p), "%s/app.pdb", sym_dir);
    T_ASSERT(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/app.pdb/%s", sym_dir, id);
    T_ASSERT(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/app.pdb/%s/app.sym", sym_dir, id);
    static const char sym[] = "MODULE windows x86 111111111111111111111111111111111 app.pdb\n"
                              "FILE 1 c:\\app\\main.c\n"
                              "FUNC 1000 100 0 crash_here\n"
                              "1000 100 12 1\n"
                              "FUNC 1200 100 0 caller\n"
                              "1200 100 30 1\n";
    write_file(p, sym, sizeof(sym) - 1);
}

/* Runs `sigil stackwalk <args>`; returns the exit status, stdout in *out (caller frees). */
static int run(const char *args, char **out)
{
    const char *bin = getenv("SIGIL_BIN");
    if (bin == NULL || bin[0] == '\0')
        T_SKIP("SIGIL_BIN not set");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' stackwalk %s 2>/dev/null", bin, args);
    FILE *f = popen(cmd, "r");
    T_ASSERT(f != NULL);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    buf[n] = '\0';
    int status = pclose(f);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_formats(void)
{
    setup();
    char args[2048], *out;
    snprintf(args, sizeof(args), "'%s' --machine", dump_path);
    T_ASSERT_EQ(run(args, &out), 0);
    T_ASSERT(strncmp(out, "OS|Windows NT|10.0.19041 |", 26) == 0 || strstr(out, "OS|") == out);
    T_ASSERT(strstr(out, "Crash|EXCEPTION_ACCESS_VIOLATION_WRITE|0x10|0\n") != NULL);
    T_ASSERT(strstr(out, "\n0|0|app.exe||||0x1010\n") != NULL);
    free(out);

    snprintf(args, sizeof(args), "'%s' --json", dump_path);
    T_ASSERT_EQ(run(args, &out), 0);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    T_ASSERT(j != NULL);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")), "OK");
    json_decref(j);
    T_ASSERT(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    free(out);

    snprintf(args, sizeof(args), "'%s' --json --pretty", dump_path);
    T_ASSERT_EQ(run(args, &out), 0);
    T_ASSERT(strncmp(out, "{\n  \"crash_info\": {\n", 20) == 0);
    free(out);

    snprintf(args, sizeof(args), "--human '%s'", dump_path);
    T_ASSERT_EQ(run(args, &out), 0);
    T_ASSERT(strstr(out, "\nThread 0 (crashed)\n") != NULL);
    T_ASSERT(strstr(out, "Loaded modules:\n") != NULL);
    free(out);
}

static void test_symbols(void)
{
    setup();
    char args[2048], *out;
    snprintf(args, sizeof(args), "'%s' --machine --symbols-path /nonexistent --symbols-path '%s'",
             dump_path, sym_dir);
    T_ASSERT_EQ(run(args, &out), 0);
    T_ASSERT(strstr(out, "\n0|0|app.exe|crash_here|c:\\app\\main.c|12|0x10\n") != NULL);
    free(out);
    /* A symbol server that cannot be reached only leaves the module without symbols. */
    snprintf(args, sizeof(args), "'%s' --json --symbols-url=http://127.0.0.1:9/", dump_path);
    T_ASSERT_EQ(run(args, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    T_ASSERT(j != NULL);
    json_t *m0 = json_array_get(json_object_get(j, "modules"), 0);
    T_ASSERT(json_is_true(json_object_get(m0, "missing_symbols")));
    json_decref(j);
    free(out);
}

static void test_exit_statuses(void)
{
    setup();
    char args[2048];
    T_ASSERT_EQ(run("", NULL), 2);
    T_ASSERT_EQ(run("--help", NULL), 0);
    snprintf(args, sizeof(args), "'%s' --machine --json", dump_path);
    T_ASSERT_EQ(run(args, NULL), 2);
    snprintf(args, sizeof(args), "'%s' --human --pretty", dump_path);
    T_ASSERT_EQ(run(args, NULL), 2);
    snprintf(args, sizeof(args), "'%s' --frobnicate", dump_path);
    T_ASSERT_EQ(run(args, NULL), 2);
    snprintf(args, sizeof(args), "'%s' --symbols-path", dump_path);
    T_ASSERT_EQ(run(args, NULL), 2);
    snprintf(args, sizeof(args), "'%s' --symbols-url ftp://x/", dump_path);
    T_ASSERT_EQ(run(args, NULL), 1);
    snprintf(args, sizeof(args), "'%s'", bad_path);
    T_ASSERT_EQ(run(args, NULL), 1);
    T_ASSERT_EQ(run("/nonexistent/dump.dmp", NULL), 1);
}

T_LIST(T_TEST(test_formats), T_TEST(test_symbols), T_TEST(test_exit_statuses))
