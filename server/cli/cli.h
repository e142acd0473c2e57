/* SPDX-License-Identifier: MPL-2.0 */
/* cli.h: the subcommands of the sigil binary. Each takes argv with argv[0] = the subcommand name
 * and returns the process exit code: 0 success, 1 runtime failure, 2 usage or configuration
 * error. */
#ifndef SRV_CLI_H
#define SRV_CLI_H

struct srv_subcommand {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

int cli_serve_main(int argc, char **argv);
int cli_migrate_main(int argc, char **argv);
int cli_import_main(int argc, char **argv);
int cli_token_main(int argc, char **argv);
int cli_sym_main(int argc, char **argv);
int cli_stackwalk_main(int argc, char **argv);
int cli_signature_main(int argc, char **argv);

#endif
