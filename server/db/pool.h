/* SPDX-License-Identifier: MPL-2.0 */
/* pool.h: a small pool of libpq connections shared by the blocking threads. Each connection has
 * statement_timeout set; a connection found broken is dropped and reopened on the next acquire.
 * Every call blocks: never call these from an event loop. */
#ifndef DB_POOL_H
#define DB_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sym/err.h"

struct db_pool;

struct db_pool_config {
    const char *conninfo; /* libpq connection string or URI */
    size_t size;          /* connections at most */
    uint32_t statement_timeout_ms;
    uint32_t connect_timeout_s;
    const char *application_name;
};

/* Creates the pool and opens one connection to fail fast. SYM_EUNAVAIL with libpq's message when
 * the database cannot be reached; SYM_ENOMEM. *out written only on success. */
sym_err db_pool_open(const struct db_pool_config *cfg, struct db_pool **out, struct sym_diag *d);
/* Closes every connection; all must have been released. NULL is a no-op. */
void db_pool_close(struct db_pool *pool);

/* Borrows a connection, waiting while all are in use, opening one when a slot is empty.
 * SYM_EUNAVAIL when a connection cannot be opened. */
sym_err db_acquire(struct db_pool *pool, PGconn **out, struct sym_diag *d) SYM_MUST_CHECK;
/* Returns a connection; a broken one (or one left inside a transaction) is closed. */
void db_release(struct db_pool *pool, PGconn *conn);

/* Runs a parameterized statement (text parameters, NULL = SQL NULL) and checks its status.
 * On success *out (caller PQclear()s it) holds the result. SYM_EUNAVAIL when the connection failed,
 * SYM_EEXISTS on a unique violation, SYM_EINTERNAL for other SQL errors; the message goes to d. */
sym_err db_exec(PGconn *conn, const char *sql, int n_params, const char *const *params,
                PGresult **out, struct sym_diag *d) SYM_MUST_CHECK;
/* The same, discarding the result. */
sym_err db_exec_cmd(PGconn *conn, const char *sql, int n_params, const char *const *params,
                    struct sym_diag *d) SYM_MUST_CHECK;

/* Transactions: BEGIN / COMMIT / ROLLBACK (rollback never fails visibly). */
sym_err db_tx_begin(PGconn *conn, struct sym_diag *d) SYM_MUST_CHECK;
sym_err db_tx_commit(PGconn *conn, struct sym_diag *d) SYM_MUST_CHECK;
void db_tx_rollback(PGconn *conn);

/* Connects once without a pool (for CLI commands). */
sym_err db_connect(const struct db_pool_config *cfg, PGconn **out, struct sym_diag *d);

#endif
