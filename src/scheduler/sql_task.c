/* sql_task.c — SQL tasks on SQLite (see sql_task.h; PostgreSQL URLs go to
 * sql_task_postgres.c). sqlite3_exec runs the
 * statements between BEGIN IMMEDIATE and COMMIT; its progress handler,
 * called every PROGRESS_STEPS virtual-machine steps, ends a statement that
 * outlived the timeout or was canceled. A busy database is waited for up
 * to BUSY_TIMEOUT_MS, like the sqlite sink. */
#include "scheduler/sql_task.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"

#define PROGRESS_STEPS 1000
#define BUSY_TIMEOUT_MS 5000

typedef struct watch {
    const atomic_bool *cancel;
    int64_t deadline_ms;      /* 0 = none */
    bool is_late, is_canceled;
} watch;

static int on_progress(void *arg)
{
    watch *w = arg;
    if (w->cancel && atomic_load(w->cancel)) w->is_canceled = true;
    if (w->deadline_ms && sl_clock_monotonic_ms() >= w->deadline_ms) w->is_late = true;
    return w->is_canceled || w->is_late;
}

int sl_sql_task_run(const sl_sql_task_spec *spec, const atomic_bool *cancel, char *detail, size_t detail_size,
                    sl_error *err)
{
    if (strncmp(spec->database, "postgres://", 11) == 0 || strncmp(spec->database, "postgresql://", 13) == 0)
        return sl__sql_task_run_postgres(spec, cancel, detail, detail_size, err);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(spec->database, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = sl_error_set_permanent(err, SL_EIO, "sqlite %s: cannot open it: %s", spec->database,
                                        db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    watch w = { cancel, spec->timeout_ms > 0 ? sl_clock_monotonic_ms() + spec->timeout_ms : 0, false, false };
    sqlite3_progress_handler(db, PROGRESS_STEPS, on_progress, &w);
    char *message = NULL;
    int rc = SL_OK;
    int result = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &message);
    if (result == SQLITE_OK) result = sqlite3_exec(db, spec->statements, NULL, NULL, &message);
    int changes = sqlite3_total_changes(db);
    if (result == SQLITE_OK) result = sqlite3_exec(db, "COMMIT", NULL, NULL, &message);
    if (result != SQLITE_OK) {
        if (w.is_late)
            rc = sl_error_set(err, SL_ETIMEOUT, "sqlite %s: the statements ran past the task's timeout of %lld ms "
                              "and were rolled back", spec->database, (long long)spec->timeout_ms);
        else if (w.is_canceled)
            rc = sl_error_set(err, SL_ECANCELED, "sqlite %s: canceled; the statements were rolled back",
                              spec->database);
        else if (result == SQLITE_BUSY)
            rc = sl_error_set_transient(err, SL_ESQL, "sqlite %s: %s", spec->database,
                                        message ? message : sqlite3_errstr(result));
        else
            rc = sl_error_set_permanent(err, SL_ESQL, "sqlite %s: %s; the statements were rolled back",
                                        spec->database, message ? message : sqlite3_errstr(result));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        snprintf(detail, detail_size, "%d row%s changed", changes, changes == 1 ? "" : "s");
    }
    sqlite3_free(message);
    sqlite3_close(db);
    return rc;
}
