/* SPDX-License-Identifier: MPL-2.0 */
/* common.c: configuration and connection helpers of the subcommands. */
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "db/pool.h"

bool cli_load_config(struct srv_config *cfg, unsigned scopes, int argc, char **argv,
                     const char *usage, const char ***positional, int *n_positional, int *exit_code)
{
    if (srv_config_wants_help(argc, argv)) {
        fputs(usage, stdout);
        fputc('\n', stdout);
        srv_config_print_help(stdout, scopes);
        *exit_code = 0;
        return false;
    }
    if (srv_config_load(cfg, scopes, argc, argv, positional, n_positional, stderr) != SYM_OK) {
        srv_config_free(cfg);
        *exit_code = 2;
        return false;
    }
    return true;
}

PGconn *cli_db_connect(const struct srv_config *cfg)
{
    struct db_pool_config pcfg = {
        .conninfo = cfg->database_url,
        .size = 1,
        .statement_timeout_ms = 0, /* administrative commands may run long */
        .connect_timeout_s = cfg->db_connect_timeout_s,
        .application_name = "sigil-cli",
    };
    PGconn *conn;
    struct sym_diag d = {0};
    if (db_connect(&pcfg, &conn, &d) != SYM_OK) {
        fprintf(stderr, "sigil: database-url: %s\n", d.msg);
        return NULL;
    }
    return conn;
}

bool cli_store_open(const struct srv_config *cfg, struct store *out)
{
    struct sym_diag d = {0};
    if (srv_store_open_from_config(cfg, out, &d) != SYM_OK) {
        fprintf(stderr, "sigil: storage-url: %s\n", d.msg);
        return false;
    }
    return true;
}
