/* SPDX-License-Identifier: MPL-2.0 */
/* common.h: what the subcommands share: loading the configuration with the standard error
 * handling, and opening the database or storage from it. */
#ifndef SRV_CLI_COMMON_H
#define SRV_CLI_COMMON_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "config.h"
#include "storage/store.h"

/* Loads cfg for a subcommand; prints help (with `usage` first) and returns 0 via *exit_code when
 * --help is given; on a bad setting prints the one-line error and sets *exit_code to 2. Returns
 * true when the command should go on. */
bool cli_load_config(struct srv_config *cfg, unsigned scopes, int argc, char **argv,
                     const char *usage, const char ***positional, int *n_positional,
                     int *exit_code);

/* Opens one database connection from cfg; prints the error and returns NULL on failure. */
PGconn *cli_db_connect(const struct srv_config *cfg);
/* Opens storage from cfg; prints the error and returns false on failure. */
bool cli_store_open(const struct srv_config *cfg, struct store *out);

#endif
