/* SPDX-License-Identifier: MPL-2.0 */
/* main.c: the sigil binary's entry point; dispatches to a subcommand and nothing else. */
#include <stdio.h>
#include <string.h>

#include "buildinfo.h"
#include "cli/cli.h"

static const struct srv_subcommand subcommands[] = {
    /* One line each, in the order `sigil --help` lists them. */
    {"serve", "run the symbols server (HTTP)", cli_serve_main},
    {"migrate", "apply pending database migrations", cli_migrate_main},
    {"import", "ingest an existing Breakpad symbol store", cli_import_main},
    {"token", "create, list and revoke API tokens", cli_token_main},
    {"signature", "Socorro crash signature of crash_data JSON", cli_signature_main},
    {"sym", "inspect, look up and convert Breakpad .sym files and symcaches", cli_sym_main},
    {"stackwalk", "unwind a minidump: rust-minidump JSON or Breakpad text", cli_stackwalk_main},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sigil <command> [options]\n\n"
            "Sigil is a symbols server: Breakpad symbol upload, download and symbolication.\n\n"
            "Commands:\n");
    for (size_t i = 0; subcommands[i].name != NULL; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\nRun `sigil <command> --help` for the options of a command.\n"
                 "`sigil --version` prints the version and the git commit it was built from.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("sigil %s (commit %s)\n", srv_version(), srv_git_commit());
        return 0;
    }
    for (size_t i = 0; subcommands[i].name != NULL; i++)
        if (strcmp(cmd, subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sigil: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
