/* SPDX-License-Identifier: MPL-2.0 */
/* migrate.c: applying the embedded migrations. */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"

/* Arbitrary constant shared by every sigil process: serializes migrators. */
#define MIGRATE_LOCK_KEY "7305210231"

sym_err db_schema_version(PGconn *conn, int *out, struct sym_diag *d)
{
    PGresult *res;
    sym_err rc =
        db_exec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &res, d);
    if (rc != SYM_OK)
        return rc;
    bool exists = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists) {
        *out = 0;
        return SYM_OK;
    }
    rc = db_exec(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &res, d);
    if (rc != SYM_OK)
        return rc;
    *out = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return SYM_OK;
}

static sym_err apply_one(PGconn *conn, const struct db_migration *m, bool *applied,
                         struct sym_diag *d)
{
    *applied = false;
    sym_err rc = db_tx_begin(conn, d);
    if (rc != SYM_OK)
        return rc;
    const char *lock_params[] = {MIGRATE_LOCK_KEY};
    rc = db_exec_cmd(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock_params, d);
    if (rc != SYM_OK)
        goto fail;
    int current;
    rc = db_schema_version(conn, &current, d);
    if (rc != SYM_OK)
        goto fail;
    if (current >= m->version) { /* another migrator got here first */
        db_tx_rollback(conn);
        return SYM_OK;
    }
    if (current != m->version - 1) {
        rc = sym_diag_set(d, SYM_EINTERNAL, "schema is at version %d, cannot apply %04d_%s",
                          current, m->version, m->name);
        goto fail;
    }
    /* The migration file is trusted build input with several statements: the simple-query
     * protocol is the one that runs a script. */
    PGresult *res = PQexec(conn, m->sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
        sym_diag_set(d, SYM_EINTERNAL, "migration %04d_%s failed: %.150s", m->version, m->name,
                     msg);
        PQclear(res);
        rc = SYM_EINTERNAL;
        goto fail;
    }
    PQclear(res);
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[] = {version, m->name};
    rc = db_exec_cmd(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                     params, d);
    if (rc != SYM_OK)
        goto fail;
    rc = db_tx_commit(conn, d);
    if (rc != SYM_OK)
        goto fail;
    *applied = true;
    return SYM_OK;
fail:
    db_tx_rollback(conn);
    return rc;
}

sym_err db_migrate(PGconn *conn, int *n_applied, struct sym_diag *d)
{
    int count = 0;
    for (size_t i = 0; i < db_n_migrations; i++) {
        bool applied;
        sym_err rc = apply_one(conn, &db_migrations[i], &applied, d);
        if (rc != SYM_OK)
            return rc;
        count += applied;
    }
    if (n_applied)
        *n_applied = count;
    return SYM_OK;
}

sym_err db_check_schema(PGconn *conn, struct sym_diag *d)
{
    int current;
    sym_err rc = db_schema_version(conn, &current, d);
    if (rc != SYM_OK)
        return rc;
    int latest = (int)db_n_migrations;
    if (current < latest)
        return sym_diag_set(d, SYM_EINVAL,
                            "database schema is at version %d but this sigil needs %d: run "
                            "`sigil migrate` (or set SIGIL_MIGRATE_ON_START=true)",
                            current, latest);
    if (current > latest)
        return sym_diag_set(d, SYM_EINVAL,
                            "database schema is at version %d, newer than this sigil (%d): "
                            "upgrade sigil",
                            current, latest);
    return SYM_OK;
}
