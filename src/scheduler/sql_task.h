/* sql_task.h — a DAG task that runs SQL against a database of the file's
 * choosing: a PostgreSQL database (a postgres:// or postgresql:// URL,
 * through libpq: sql_task_postgres.c) or an SQLite file (any other text, a
 * path: sql_task.c). The statements run in one transaction, so a failing
 * one leaves the database as it was. A timeout or a cancel interrupts the
 * statement in progress.
 */
#ifndef SL_SQL_TASK_H
#define SL_SQL_TASK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sl_sql_task_spec {
    const char *database;     /* a postgres:// URL, or an SQLite file's path */
    const char *statements;   /* one or more statements separated by ';' */
    int64_t timeout_ms;       /* 0 = no limit */
} sl_sql_task_spec;

/* Runs spec. SL_OK with detail saying how many rows changed; otherwise
 * err names the database and what it said (SL_ETIMEOUT, SL_ECANCELED,
 * SL_ESQL for a statement the database refused, SL_EIO when it cannot be
 * opened). */
int sl_sql_task_run(const sl_sql_task_spec *spec, const atomic_bool *cancel, char *detail, size_t detail_size,
                    sl_error *err);

/* The PostgreSQL half, for sl_sql_task_run. */
int sl__sql_task_run_postgres(const sl_sql_task_spec *spec, const atomic_bool *cancel, char *detail,
                              size_t detail_size, sl_error *err);

#endif
