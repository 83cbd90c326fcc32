/* sql_task_postgres.c — SQL tasks on PostgreSQL through libpq (see
 * sql_task.h). The statements go in one simple-protocol query, which
 * PostgreSQL runs as one implicit transaction (unless they manage their own
 * with BEGIN/COMMIT), so a failing statement leaves the database as it was.
 * The query is sent without blocking and watched every WATCH_MS: a timeout
 * or a cancel asks the server to cancel it (PQcancel), and it is rolled
 * back. Messages name the database by its URL with the password as ***.
 */
#include "scheduler/sql_task.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "metadata/postgres_url.h"

#define WATCH_MS 100
#define CONNECT_TIMEOUT "10"

/* Connection failures, lost connections, serialization failures and
 * deadlocks, too many connections, an operator's intervention: worth a
 * retry. Anything else (syntax, a missing table, a constraint) is not. */
static bool sqlstate_is_transient(const char *sqlstate)
{
    if (!sqlstate) return true;
    return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "40", 2) == 0 || strncmp(sqlstate, "53", 2) == 0 ||
           strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0;
}

/* libpq's message on one line, without the password it may quote. */
static void clean_message(const char *message, const char *password, char *out, size_t size)
{
    snprintf(out, size, "%s", message ? message : "");
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    size_t len = strlen(out);
    while (len > 0 && out[len - 1] == ' ') out[--len] = '\0';
    sl_pg_scrub(out, size, password);
}

static int connect_db(const sl_sql_task_spec *spec, const char *where, const char *password, PGconn **out,
                      sl_error *err)
{
    const char *const keywords[] = { "connect_timeout", "application_name", "dbname", NULL };
    const char *const values[] = { CONNECT_TIMEOUT, "sluice", spec->database, NULL };
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    if (!conn) return sl_error_set(err, SL_ENOMEM, "postgres %s: out of memory", where);
    if (PQstatus(conn) == CONNECTION_OK) {
        *out = conn;
        return SL_OK;
    }
    char message[600];
    clean_message(PQerrorMessage(conn), password, message, sizeof message);
    PGPing ping = PQpingParams(keywords, values, 1);
    PQfinish(conn);
    if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT)
        return sl_error_set_permanent(err, SL_ECONFIG, "postgres %s: %s: %s", where,
                                      ping == PQPING_OK ? "the server refused the connection" : "bad connection URL",
                                      message);
    return sl_error_set_transient(err, SL_EIO, "postgres %s: cannot reach the server: %s", where, message);
}

/* Waits for the query's results, cancelling it past the deadline or on
 * cancel; *is_late / *is_canceled say which. */
static void wait_for_results(PGconn *conn, const atomic_bool *cancel, int64_t deadline_ms, bool *is_late,
                             bool *is_canceled)
{
    bool is_cancel_sent = false;
    while (PQisBusy(conn)) {
        if (!is_cancel_sent) {
            if (cancel && atomic_load(cancel)) *is_canceled = true;
            if (deadline_ms && sl_clock_monotonic_ms() >= deadline_ms) *is_late = true;
            if (*is_canceled || *is_late) {
                PGcancel *handle = PQgetCancel(conn);
                char ignored[256];
                if (handle) {
                    PQcancel(handle, ignored, sizeof ignored);
                    PQfreeCancel(handle);
                }
                is_cancel_sent = true;
            }
        }
        struct pollfd fd = { .fd = PQsocket(conn), .events = POLLIN };
        if (fd.fd < 0) return;
        poll(&fd, 1, WATCH_MS);
        if (!PQconsumeInput(conn)) return;
    }
}

int sl__sql_task_run_postgres(const sl_sql_task_spec *spec, const atomic_bool *cancel, char *detail,
                              size_t detail_size, sl_error *err)
{
    char *where = sl_pg_url_redact(spec->database);
    if (!where) return sl_error_set(err, SL_ENOMEM, "out of memory");
    char password[256];
    sl_pg_url_password(spec->database, password, sizeof password);
    PGconn *conn = NULL;
    int rc = connect_db(spec, where, password, &conn, err);
    if (rc) {
        free(where);
        return rc;
    }
    if (!PQsendQuery(conn, spec->statements)) {
        char message[600];
        clean_message(PQerrorMessage(conn), password, message, sizeof message);
        rc = sl_error_set_transient(err, SL_EIO, "postgres %s: sending the statements: %s", where, message);
        PQfinish(conn);
        free(where);
        return rc;
    }
    bool is_late = false, is_canceled = false;
    int64_t deadline_ms = spec->timeout_ms > 0 ? sl_clock_monotonic_ms() + spec->timeout_ms : 0;
    wait_for_results(conn, cancel, deadline_ms, &is_late, &is_canceled);
    long long changed = 0;
    char message[600] = "";
    const char *sqlstate = NULL;
    char sqlstate_copy[8] = "";
    bool is_failed = false;
    PGresult *result;
    while ((result = PQgetResult(conn)) != NULL) {
        ExecStatusType status = PQresultStatus(result);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            changed += atoll(PQcmdTuples(result));
        } else if (!is_failed) {
            is_failed = true;
            clean_message(PQresultErrorMessage(result), password, message, sizeof message);
            sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
            if (sqlstate) snprintf(sqlstate_copy, sizeof sqlstate_copy, "%s", sqlstate);
        }
        PQclear(result);
    }
    if (!is_failed && PQstatus(conn) != CONNECTION_OK) {
        is_failed = true;
        clean_message(PQerrorMessage(conn), password, message, sizeof message);
    }
    if (is_failed && is_late)
        rc = sl_error_set(err, SL_ETIMEOUT, "postgres %s: the statements ran past the task's timeout of %lld ms and "
                          "were rolled back", where, (long long)spec->timeout_ms);
    else if (is_failed && is_canceled)
        rc = sl_error_set(err, SL_ECANCELED, "postgres %s: canceled; the statements were rolled back", where);
    else if (is_failed && sqlstate_is_transient(sqlstate_copy[0] ? sqlstate_copy : NULL))
        rc = sl_error_set_transient(err, SL_ESQL, "postgres %s: %s (SQLSTATE %s)", where, message,
                                    sqlstate_copy[0] ? sqlstate_copy : "none");
    else if (is_failed)
        rc = sl_error_set_permanent(err, SL_ESQL, "postgres %s: %s (SQLSTATE %s); the statements were rolled back",
                                    where, message, sqlstate_copy);
    else
        snprintf(detail, detail_size, "%lld row%s changed", changed, changed == 1 ? "" : "s");
    PQfinish(conn);
    free(where);
    return rc;
}
