/* SPDX-License-Identifier: MPL-2.0 */
/* migrate.c: `sigil migrate`, applying the embedded schema migrations. */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

static const char usage[] =
    "usage: sigil migrate [settings] [--status]\n\n"
    "Applies the pending database migrations, each once and in its own transaction.\n"
    "--status prints the current and the latest schema version and changes nothing.\n";

int cli_migrate_main(int argc, char **argv)
{
    struct srv_config cfg;
    const char **pos = NULL;
    int n_pos = 0, code = 0;
    if (!cli_load_config(&cfg, SRV_CFG_DB, argc, argv, usage, &pos, &n_pos, &code))
        return code;
    bool status = false;
    for (int i = 0; i < n_pos; i++) {
        if (strcmp(pos[i], "--status") == 0) {
            status = true;
        } else {
            fprintf(stderr, "sigil migrate: unknown argument '%s' (see sigil migrate --help)\n",
                    pos[i]);
            code = 2;
        }
    }
    free(pos);
    PGconn *conn = code == 0 ? cli_db_connect(&cfg) : NULL;
    if (code == 0 && conn == NULL)
        code = 1;
    if (conn != NULL) {
        struct sym_diag d = {0};
        int version = 0, applied = 0;
        sym_err rc =
            status ? db_schema_version(conn, &version, &d) : db_migrate(conn, &applied, &d);
        if (rc == SYM_OK && !status)
            rc = db_schema_version(conn, &version, &d);
        if (rc != SYM_OK) {
            fprintf(stderr, "sigil migrate: %s\n", d.msg);
            code = 1;
        } else if (status) {
            printf("schema version %d, latest %zu%s\n", version, db_n_migrations,
                   (size_t)version == db_n_migrations ? "" : " (run sigil migrate)");
        } else {
            printf("applied %d migration(s); schema version %d\n", applied, version);
        }
        PQfinish(conn);
    }
    srv_config_free(&cfg);
    return code;
}
