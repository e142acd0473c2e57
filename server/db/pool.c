/* SPDX-License-Identifier: MPL-2.0 */
/* pool.c: libpq connection pool and checked statement execution. */
#include "db/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct db_pool_config cfg;
    char *conninfo;
    char *app_name;
    PGconn **idle; /* stack of idle connections */
    size_t n_idle;
    size_t n_open; /* idle + borrowed */
};

static void trim_message(struct sym_diag *d, sym_err code, const char *what, const char *msg)
{
    char clean[160];
    snprintf(clean, sizeof(clean), "%s", msg ? msg : "");
    size_t n = strlen(clean);
    while (n > 0 && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    sym_diag_set(d, code, "%s: %s", what, clean);
}

sym_err db_connect(const struct db_pool_config *cfg, PGconn **out, struct sym_diag *d)
{
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%u", cfg->connect_timeout_s);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {cfg->conninfo, timeout,
                          cfg->application_name ? cfg->application_name : "sigil", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory connecting to the database");
    if (PQstatus(conn) != CONNECTION_OK) {
        trim_message(d, SYM_EUNAVAIL, "cannot connect to the database", PQerrorMessage(conn));
        PQfinish(conn);
        return SYM_EUNAVAIL;
    }
    char stmt_timeout[16];
    snprintf(stmt_timeout, sizeof(stmt_timeout), "%u", cfg->statement_timeout_ms);
    const char *params[] = {stmt_timeout};
    sym_err rc =
        db_exec_cmd(conn, "SELECT set_config('statement_timeout', $1, false)", 1, params, d);
    if (rc != SYM_OK) {
        PQfinish(conn);
        return rc;
    }
    *out = conn;
    return SYM_OK;
}

sym_err db_pool_open(const struct db_pool_config *cfg, struct db_pool **out, struct sym_diag *d)
{
    struct db_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    pool->cfg = *cfg;
    if (pool->cfg.size == 0)
        pool->cfg.size = 1;
    pool->conninfo = strdup(cfg->conninfo);
    pool->app_name = strdup(cfg->application_name ? cfg->application_name : "sigil");
    pool->idle = calloc(pool->cfg.size, sizeof(*pool->idle));
    if (pool->conninfo == NULL || pool->app_name == NULL || pool->idle == NULL) {
        free(pool->conninfo);
        free(pool->app_name);
        free(pool->idle);
        free(pool);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
    pool->cfg.conninfo = pool->conninfo;
    pool->cfg.application_name = pool->app_name;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    PGconn *first;
    sym_err rc = db_connect(&pool->cfg, &first, d);
    if (rc != SYM_OK) {
        db_pool_close(pool);
        return rc;
    }
    pool->idle[pool->n_idle++] = first;
    pool->n_open = 1;
    *out = pool;
    return SYM_OK;
}

void db_pool_close(struct db_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->n_idle; i++)
        PQfinish(pool->idle[i]);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool->idle);
    free(pool->conninfo);
    free(pool->app_name);
    free(pool);
}

sym_err db_acquire(struct db_pool *pool, PGconn **out, struct sym_diag *d)
{
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        if (pool->n_idle > 0) {
            PGconn *conn = pool->idle[--pool->n_idle];
            pthread_mutex_unlock(&pool->lock);
            if (PQstatus(conn) == CONNECTION_OK) {
                *out = conn;
                return SYM_OK;
            }
            /* Broken while idle (server restart): replace it below, outside the lock. */
            PQfinish(conn);
            pthread_mutex_lock(&pool->lock);
            pool->n_open--;
            continue;
        }
        if (pool->n_open < pool->cfg.size) {
            pool->n_open++;
            pthread_mutex_unlock(&pool->lock);
            PGconn *conn;
            sym_err rc = db_connect(&pool->cfg, &conn, d);
            if (rc != SYM_OK) {
                pthread_mutex_lock(&pool->lock);
                pool->n_open--;
                pthread_cond_signal(&pool->cond);
                pthread_mutex_unlock(&pool->lock);
                return rc;
            }
            *out = conn;
            return SYM_OK;
        }
        pthread_cond_wait(&pool->cond, &pool->lock);
    }
}

void db_release(struct db_pool *pool, PGconn *conn)
{
    if (conn == NULL)
        return;
    bool healthy = PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    if (!healthy)
        PQfinish(conn);
    pthread_mutex_lock(&pool->lock);
    if (healthy)
        pool->idle[pool->n_idle++] = conn;
    else
        pool->n_open--;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
}

sym_err db_exec(PGconn *conn, const char *sql, int n_params, const char *const *params,
                PGresult **out, struct sym_diag *d)
{
    PGresult *res = PQexecParams(conn, sql, n_params, NULL, params, NULL, NULL, 0);
    if (res == NULL) {
        trim_message(d, SYM_EUNAVAIL, "database error", PQerrorMessage(conn));
        return SYM_EUNAVAIL;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return SYM_OK;
    }
    sym_err rc = SYM_EINTERNAL;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQstatus(conn) != CONNECTION_OK)
        rc = SYM_EUNAVAIL;
    else if (state && strcmp(state, "23505") == 0)
        rc = SYM_EEXISTS;
    else if (state && strncmp(state, "08", 2) == 0)
        rc = SYM_EUNAVAIL;
    else if (state && strcmp(state, "57014") == 0) /* statement timeout */
        rc = SYM_EUNAVAIL;
    trim_message(d, rc, "database error", PQresultErrorMessage(res));
    PQclear(res);
    return rc;
}

sym_err db_exec_cmd(PGconn *conn, const char *sql, int n_params, const char *const *params,
                    struct sym_diag *d)
{
    return db_exec(conn, sql, n_params, params, NULL, d);
}

sym_err db_tx_begin(PGconn *conn, struct sym_diag *d)
{
    return db_exec_cmd(conn, "BEGIN", 0, NULL, d);
}

sym_err db_tx_commit(PGconn *conn, struct sym_diag *d)
{
    return db_exec_cmd(conn, "COMMIT", 0, NULL, d);
}

void db_tx_rollback(PGconn *conn)
{
    PGresult *res = PQexec(conn, "ROLLBACK");
    PQclear(res);
}
