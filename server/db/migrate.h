/* SPDX-License-Identifier: MPL-2.0 */
/* migrate.h: forward-only schema migrations, embedded in the binary at build time from
 * migrations/NNNN_name.sql. Each is applied exactly once, in order, in its own transaction, under
 * an advisory lock so that concurrent migrators (two servers starting) serialize. */
#ifndef DB_MIGRATE_H
#define DB_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

#include "sym/err.h"

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};

/* The embedded list, ordered by version, numbered 1..db_n_migrations (checked at build time). */
extern const struct db_migration db_migrations[];
extern const size_t db_n_migrations;

/* Highest applied version (0 for an empty database). SYM_EUNAVAIL/SYM_EINTERNAL on SQL errors. */
sym_err db_schema_version(PGconn *conn, int *out, struct sym_diag *d) SYM_MUST_CHECK;

/* Applies every pending migration; *n_applied (optional) counts them. SYM_EINTERNAL naming the
 * failed migration when one fails (that migration is rolled back; earlier ones stay applied). */
sym_err db_migrate(PGconn *conn, int *n_applied, struct sym_diag *d) SYM_MUST_CHECK;

/* SYM_OK when the schema is exactly at the embedded version; SYM_EINVAL with a message saying
 * whether it is behind (run `sigil migrate`) or ahead (a newer sigil wrote it). */
sym_err db_check_schema(PGconn *conn, struct sym_diag *d) SYM_MUST_CHECK;

#endif
