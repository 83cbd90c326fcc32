/* sqlite_store.c — the metadata store's SQLite backend: one database file
 * (WAL, synchronous=FULL, foreign keys on), every statement prepared once
 * from the table below and run with bound values.
 *
 * Claiming and reaping run in BEGIN IMMEDIATE transactions: the write lock
 * is taken before the rows are read, so two connections (two processes on
 * one file) can never pick the same row, and a connection waits up to
 * BUSY_TIMEOUT_MS for the lock before the operation fails as transient.
 * Times come from this machine's wall clock.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/sqlite/sqlite_schema.h"
#include "core/clock.h"
#include "core/paths.h"
#include "metadata/backend.h"
#include "metadata/migrations.h"

#define BUSY_TIMEOUT_MS 5000

/* The columns read_run and read_ti read, in their order. */
#define RUN_COLUMNS \
    "id, dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us, conf, " \
    "queued_at_us, start_us, end_us"
#define TI_COLUMNS \
    "ti.id, ti.run, r.dag_id, r.run_id, ti.task_id, ti.try_number, ti.max_tries, ti.state, ti.server_id, " \
    "ti.queued_at_us, ti.start_us, ti.end_us, ti.duration_us, ti.exit_status, ti.log_path, ti.log_tail " \
    "FROM task_instances ti JOIN dag_runs r ON r.id = ti.run"

typedef enum statement_id {
    ST_VERSION,
    ST_RECORD_MIGRATION,
    ST_DAG_UPSERT,
    ST_DAG_SET_PAUSED,
    ST_DAG_LIST,
    ST_RUN_INSERT,
    ST_RUN_FIND,
    ST_RUN_GET,
    ST_RUN_SET_STATE,
    ST_RUN_LIST_FIRST,
    ST_RUN_LIST_AFTER,
    ST_RUN_LIST_ACTIVE,
    ST_RUN_BY_RUN_ID,
    ST_RUN_LATEST_END,
    ST_TI_INSERT,
    ST_TI_GET,
    ST_TI_LIST,
    ST_TI_CLAIM,
    ST_TI_SET_STATE,
    ST_TI_RETRY_INSERT,
    ST_TI_RETRY_FIND,
    ST_TI_CLEAR,
    ST_RUN_REQUEUE,
    ST_TI_SET_LOG,
    ST_SERVER_REGISTER,
    ST_SERVER_HEARTBEAT,
    ST_SERVER_LIST,
    ST_REAP,
    ST_TOKEN_INSERT,
    ST_TOKEN_DELETE,
    ST_TOKEN_LIST,
    ST_COUNT
} statement_id;

static const char *const statement_sql[ST_COUNT] = {
    [ST_VERSION] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
    [ST_RECORD_MIGRATION] = "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?1, ?2, ?3)",
    [ST_DAG_UPSERT] =
        "INSERT INTO dags (dag_id, file_hash, updated_at_us) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (dag_id) DO UPDATE SET file_hash = excluded.file_hash, updated_at_us = excluded.updated_at_us",
    [ST_DAG_SET_PAUSED] = "UPDATE dags SET is_paused = ?2, updated_at_us = ?3 WHERE dag_id = ?1",
    [ST_DAG_LIST] = "SELECT dag_id, is_paused, file_hash, updated_at_us FROM dags ORDER BY dag_id",
    [ST_RUN_INSERT] =
        "INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us, "
        "conf, queued_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING RETURNING id",
    /* The row an insert that did nothing met: the same run id, or for a
     * scheduled run the scheduled run of the same interval start. */
    [ST_RUN_FIND] =
        "SELECT id FROM dag_runs WHERE dag_id = ?1 AND (run_id = ?2 OR (?3 = 'scheduled' AND "
        "run_type = 'scheduled' AND data_interval_start_us = ?4)) ORDER BY run_id = ?2 DESC LIMIT 1",
    [ST_RUN_GET] = "SELECT " RUN_COLUMNS " FROM dag_runs WHERE id = ?1",
    [ST_RUN_SET_STATE] =
        "UPDATE dag_runs SET state = ?3, start_us = CASE WHEN ?5 THEN ?4 ELSE start_us END, "
        "end_us = CASE WHEN ?6 THEN ?4 ELSE end_us END WHERE id = ?1 AND state = ?2",
    /* ?5: only runs in this state; NULL: any. */
    [ST_RUN_LIST_FIRST] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = ?1 AND (?5 IS NULL OR state = ?5) "
        "ORDER BY data_interval_start_us DESC, id DESC LIMIT ?2",
    [ST_RUN_LIST_AFTER] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = ?1 AND (data_interval_start_us, id) < (?3, ?4) "
        "AND (?5 IS NULL OR state = ?5) ORDER BY data_interval_start_us DESC, id DESC LIMIT ?2",
    [ST_RUN_BY_RUN_ID] = "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = ?1 AND run_id = ?2",
    [ST_RUN_LIST_ACTIVE] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = ?1 AND state IN ('queued', 'running') "
        "ORDER BY data_interval_start_us, id LIMIT ?2",
    [ST_RUN_LATEST_END] =
        "SELECT MAX(data_interval_end_us) FROM dag_runs WHERE dag_id = ?1 AND run_type IN (?2, ?3)",
    [ST_TI_INSERT] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) VALUES (?1, ?2, 1, ?3, ?4) "
        "ON CONFLICT DO NOTHING",
    [ST_TI_GET] = "SELECT " TI_COLUMNS " WHERE ti.id = ?1",
    [ST_TI_LIST] = "SELECT " TI_COLUMNS " WHERE ti.run = ?1 ORDER BY ti.task_id, ti.try_number",
    [ST_TI_CLAIM] =
        "UPDATE task_instances SET state = ?3, server_id = ?1, queued_at_us = ?4 WHERE id IN ("
        "SELECT ti.id FROM task_instances ti JOIN dag_runs r ON r.id = ti.run JOIN dags d ON d.dag_id = r.dag_id "
        "WHERE ti.state = ?2 AND (?6 = 0 AND d.is_paused = 0 OR ti.run = ?6) "
        "ORDER BY r.data_interval_start_us, ti.id LIMIT ?5) AND state = ?2 RETURNING id",
    [ST_TI_SET_STATE] =
        "UPDATE task_instances SET state = ?3, start_us = CASE WHEN ?5 THEN ?4 ELSE start_us END, "
        "end_us = CASE WHEN ?6 THEN ?4 ELSE end_us END, "
        "duration_us = CASE WHEN ?6 THEN ?4 - start_us ELSE duration_us END, "
        "exit_status = CASE WHEN ?7 THEN ?8 ELSE exit_status END WHERE id = ?1 AND state = ?2",
    [ST_TI_RETRY_INSERT] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
        "SELECT run, task_id, try_number + 1, max_tries, ?3 FROM task_instances "
        "WHERE id = ?1 AND state = ?2 AND try_number < max_tries ON CONFLICT DO NOTHING RETURNING id",
    [ST_TI_RETRY_FIND] =
        "SELECT n.id, t.state, t.try_number, t.max_tries FROM task_instances t LEFT JOIN task_instances n "
        "ON n.run = t.run AND n.task_id = t.task_id AND n.try_number = t.try_number + 1 WHERE t.id = ?1",
    /* The next try of a task whose latest try ended in one of ?5..?8: ?1
     * the run, ?2 the task, ?3 its retries, ?4 the new state (none). */
    [ST_TI_CLEAR] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
        "SELECT run, task_id, try_number + 1, try_number + 1 + ?3, ?4 FROM task_instances "
        "WHERE run = ?1 AND task_id = ?2 AND state IN (?5, ?6, ?7, ?8) AND try_number = "
        "(SELECT MAX(try_number) FROM task_instances WHERE run = ?1 AND task_id = ?2) "
        "ON CONFLICT DO NOTHING RETURNING id",
    [ST_RUN_REQUEUE] =
        "UPDATE dag_runs SET state = ?2, queued_at_us = ?3, start_us = NULL, end_us = NULL WHERE id = ?1",
    [ST_TI_SET_LOG] = "UPDATE task_instances SET log_path = COALESCE(?2, log_path), log_tail = ?3 WHERE id = ?1",
    [ST_SERVER_REGISTER] =
        "INSERT INTO servers (server_id, hostname, pid, started_at_us, heartbeat_us) VALUES (?1, ?2, ?3, ?4, ?4) "
        "ON CONFLICT (server_id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, "
        "started_at_us = excluded.started_at_us, heartbeat_us = excluded.heartbeat_us",
    [ST_SERVER_HEARTBEAT] = "UPDATE servers SET heartbeat_us = ?2 WHERE server_id = ?1",
    [ST_SERVER_LIST] =
        "SELECT server_id, hostname, pid, started_at_us, heartbeat_us FROM servers ORDER BY server_id",
    /* ?1 up_for_retry, ?2 failed, ?3 now, ?4 queued, ?5 running, ?6 the
     * oldest heartbeat still alive, ?7 how many at most. */
    [ST_REAP] =
        "UPDATE task_instances SET state = CASE WHEN try_number < max_tries THEN ?1 ELSE ?2 END, "
        "end_us = ?3, duration_us = ?3 - start_us WHERE id IN ("
        "SELECT id FROM task_instances WHERE state IN (?4, ?5) AND (server_id IS NULL OR server_id NOT IN "
        "(SELECT server_id FROM servers WHERE heartbeat_us >= ?6)) ORDER BY id LIMIT ?7) "
        "AND state IN (?4, ?5) RETURNING id",
    [ST_TOKEN_INSERT] = "INSERT INTO api_tokens (name, role, token_hash, created_at_us) VALUES (?1, ?2, ?3, ?4) "
                        "ON CONFLICT (name) DO NOTHING",
    [ST_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE name = ?1",
    [ST_TOKEN_LIST] = "SELECT name, role, token_hash, created_at_us FROM api_tokens ORDER BY name",
};

typedef struct sqlite_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *statements[ST_COUNT];
} sqlite_store;

/* ---- errors and statements ---- */

/* SL_EIO naming the store, what was being done and sqlite's message,
 * classed by sqlite's result code. */
static int db_fail(sqlite_store *store, const char *what, sl_error *err)
{
    int code = sqlite3_extended_errcode(store->db);
    sl_error_set(err, SL_EIO, "metadata store %s: %s: %s", store->path, what, sqlite3_errmsg(store->db));
    return sl_error_mark(err, sl_sqlite_error_class(code));
}

/* The prepared statement id, reset and without bindings. */
static int statement(sqlite_store *store, statement_id id, sqlite3_stmt **out, sl_error *err)
{
    if (!store->statements[id]) {
        if (sqlite3_prepare_v3(store->db, statement_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                               &store->statements[id], NULL) != SQLITE_OK)
            return db_fail(store, "preparing a statement", err);
    }
    sqlite3_reset(store->statements[id]);
    sqlite3_clear_bindings(store->statements[id]);
    *out = store->statements[id];
    return SL_OK;
}

static int exec_sql(sqlite_store *store, const char *sql, const char *what, sl_error *err)
{
    char *message = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &message) == SQLITE_OK) return SL_OK;
    int code = sqlite3_extended_errcode(store->db);
    sl_error_set(err, SL_EIO, "metadata store %s: %s: %s", store->path, what,
                 message ? message : sqlite3_errmsg(store->db));
    sqlite3_free(message);
    return sl_error_mark(err, sl_sqlite_error_class(code));
}

static void rollback(sqlite_store *store)
{
    if (!sqlite3_get_autocommit(store->db)) sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text) sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else sqlite3_bind_null(stmt, index);
}

/* Steps a statement that returns no rows; SL_OK on SQLITE_DONE. */
static int step_done(sqlite_store *store, sqlite3_stmt *stmt, const char *what, sl_error *err)
{
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? SL_OK : db_fail(store, what, err);
    sqlite3_reset(stmt);
    return result;
}

/* A failed insert: a foreign key naming a missing row gets its own message. */
static int insert_fail(sqlite_store *store, const char *what, const char *missing, sl_error *err)
{
    if (sqlite3_extended_errcode(store->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        return sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: %s: %s is not in the store",
                                      store->path, what, missing);
    return db_fail(store, what, err);
}

static int64_t column_time(sqlite3_stmt *stmt, int column)
{
    return sqlite3_column_type(stmt, column) == SQLITE_NULL ? SL_META_NO_TIME : sqlite3_column_int64(stmt, column);
}

static const char *column_text(sqlite3_stmt *stmt, int column)
{
    return (const char *)sqlite3_column_text(stmt, column);
}

/* ---- rows ---- */

static int read_run(sqlite_store *store, sqlite3_stmt *stmt, sl_meta_run *run, sl_error *err)
{
    *run = (sl_meta_run){
        .id = sqlite3_column_int64(stmt, 0),
        .dag_id = column_text(stmt, 1),
        .run_id = column_text(stmt, 2),
        .data_interval_start_us = sqlite3_column_int64(stmt, 5),
        .data_interval_end_us = sqlite3_column_int64(stmt, 6),
        .conf = column_text(stmt, 7),
        .queued_at_us = column_time(stmt, 8),
        .start_us = column_time(stmt, 9),
        .end_us = column_time(stmt, 10),
    };
    int rc = sl_meta_run_type_parse(column_text(stmt, 3), &run->run_type, err);
    if (!rc) rc = sl_meta_run_state_parse(column_text(stmt, 4), &run->state, err);
    if (rc) sl_error_prefix(err, "metadata store %s: dag run %lld: ", store->path, (long long)run->id);
    return rc;
}

static int read_ti(sqlite_store *store, sqlite3_stmt *stmt, sl_meta_ti *ti, sl_error *err)
{
    *ti = (sl_meta_ti){
        .id = sqlite3_column_int64(stmt, 0),
        .run = sqlite3_column_int64(stmt, 1),
        .dag_id = column_text(stmt, 2),
        .run_id = column_text(stmt, 3),
        .task_id = column_text(stmt, 4),
        .try_number = sqlite3_column_int(stmt, 5),
        .max_tries = sqlite3_column_int(stmt, 6),
        .server_id = column_text(stmt, 8),
        .queued_at_us = column_time(stmt, 9),
        .start_us = column_time(stmt, 10),
        .end_us = column_time(stmt, 11),
        .duration_us = column_time(stmt, 12),
        .has_exit_status = sqlite3_column_type(stmt, 13) != SQLITE_NULL,
        .exit_status = sqlite3_column_int(stmt, 13),
        .log_path = column_text(stmt, 14),
        .log_tail = sqlite3_column_blob(stmt, 15),
        .log_tail_len = (size_t)sqlite3_column_bytes(stmt, 15),
    };
    int rc = sl_meta_ti_state_parse(column_text(stmt, 7), &ti->state, err);
    if (rc) sl_error_prefix(err, "metadata store %s: task instance %lld: ", store->path, (long long)ti->id);
    return rc;
}

/* Steps stmt, giving fn each run; *n how many, the last in *last. */
static int each_run(sqlite_store *store, sqlite3_stmt *stmt, sl_meta_run_fn fn, void *context, size_t *n,
                    sl_meta_run_cursor *last, sl_error *err)
{
    int rc = SL_OK, step;
    *n = 0;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sl_meta_run run;
        rc = read_run(store, stmt, &run, err);
        if (rc) break;
        (*n)++;
        if (last) *last = (sl_meta_run_cursor){ true, run.data_interval_start_us, run.id };
        rc = fn(context, &run);
    }
    if (!rc && step != SQLITE_DONE) rc = db_fail(store, "reading dag runs", err);
    sqlite3_reset(stmt);
    return rc;
}

static int each_ti(sqlite_store *store, sqlite3_stmt *stmt, sl_meta_ti_fn fn, void *context, size_t *n,
                   sl_error *err)
{
    int rc = SL_OK, step;
    *n = 0;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sl_meta_ti ti;
        rc = read_ti(store, stmt, &ti, err);
        if (rc) break;
        (*n)++;
        rc = fn(context, &ti);
    }
    if (!rc && step != SQLITE_DONE) rc = db_fail(store, "reading task instances", err);
    sqlite3_reset(stmt);
    return rc;
}

/* Steps an UPDATE ... RETURNING id into ids[] (at most max). */
static int collect_ids(sqlite_store *store, sqlite3_stmt *stmt, int64_t *ids, size_t max, size_t *n,
                       const char *what, sl_error *err)
{
    int step;
    *n = 0;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n < max) ids[(*n)++] = sqlite3_column_int64(stmt, 0);
    }
    int rc = step == SQLITE_DONE ? SL_OK : db_fail(store, what, err);
    sqlite3_reset(stmt);
    return rc;
}

/* ---- opening and migrating ---- */

static void sqlite_close(void *state)
{
    sqlite_store *store = state;
    if (!store) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(store->statements[i]);
    sqlite3_close(store->db);
    free(store->path);
    free(store);
}

/* One step of the migration loop: in a BEGIN IMMEDIATE transaction, reads
 * the version and applies the next step when it is below max_version.
 * *version is the version after; *is_done when nothing was left to do. */
static int migrate_once(sqlite_store *store, int max_version, int *version, bool *is_done, sl_error *err)
{
    int rc = exec_sql(store, "BEGIN IMMEDIATE", "starting a migration", err);
    if (rc) return rc;
    rc = exec_sql(store, sl_meta_sqlite_version_table, "creating the version table", err);
    sqlite3_stmt *stmt = NULL;
    if (!rc) rc = statement(store, ST_VERSION, &stmt, err);
    if (rc) goto fail;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        rc = db_fail(store, "reading the schema version", err);
        goto fail;
    }
    int current = sqlite3_column_int(stmt, 0);
    sqlite3_reset(stmt);
    int latest = sl_meta_migrations[sl_meta_n_migrations - 1].version;
    if (current > latest) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "metadata store %s has schema version %d, newer than the "
                                    "%d this sluice knows: run a newer sluice (migrations only go forward)",
                                    store->path, current, latest);
        goto fail;
    }
    if (current >= max_version) {
        *version = current;
        *is_done = true;
        return exec_sql(store, "COMMIT", "reading the schema version", err);
    }
    const sl_meta_migration *step = &sl_meta_migrations[current];
    char what[160];
    snprintf(what, sizeof what, "migrating to schema version %d (%s)", step->version, step->name);
    rc = exec_sql(store, step->sqlite_sql, what, err);
    if (!rc) rc = statement(store, ST_RECORD_MIGRATION, &stmt, err);
    if (rc) goto fail;
    sqlite3_bind_int(stmt, 1, step->version);
    bind_text(stmt, 2, step->name);
    sqlite3_bind_int64(stmt, 3, sl_clock_wall_us());
    rc = step_done(store, stmt, what, err);
    if (!rc) rc = exec_sql(store, "COMMIT", what, err);
    if (rc) goto fail;
    *version = step->version;
    return SL_OK;
fail:
    rollback(store);
    return rc;
}

static int sqlite_open(const char *target, int max_version, void **state, int *version, char **where,
                       sl_error *err)
{
    sqlite_store *store = calloc(1, sizeof *store);
    if (!store) return sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", target);
    store->path = strdup(target);
    *where = strdup(target);
    int rc = SL_OK;
    if (!store->path || !*where) {
        rc = sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", target);
        goto fail;
    }
    rc = sl_make_parent_dirs(target, err);
    if (rc) {
        sl_error_prefix(err, "metadata store %s: ", target);
        goto fail;
    }
    if (sqlite3_open_v2(target, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = store->db ? db_fail(store, "opening", err)
                       : sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", target);
        goto fail;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
    rc = exec_sql(store, "PRAGMA journal_mode = WAL", "setting WAL mode", err);
    if (!rc) rc = exec_sql(store, "PRAGMA synchronous = FULL", "setting synchronous", err);
    if (!rc) rc = exec_sql(store, "PRAGMA foreign_keys = ON", "turning foreign keys on", err);
    bool is_done = false;
    while (!rc && !is_done) rc = migrate_once(store, max_version, version, &is_done, err);
    if (rc) goto fail;
    *state = store;
    return SL_OK;
fail:
    sqlite_close(store);
    free(*where);
    *where = NULL;
    return rc;
}

/* ---- dags ---- */

static int sqlite_dag_upsert(void *state, const char *dag_id, const char *file_hash, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_DAG_UPSERT, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    bind_text(stmt, 2, file_hash);
    sqlite3_bind_int64(stmt, 3, sl_clock_wall_us());
    return step_done(store, stmt, "upserting a dag", err);
}

static int sqlite_dag_set_paused(void *state, const char *dag_id, bool is_paused, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_DAG_SET_PAUSED, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    sqlite3_bind_int(stmt, 2, is_paused);
    sqlite3_bind_int64(stmt, 3, sl_clock_wall_us());
    rc = step_done(store, stmt, "pausing a dag", err);
    if (!rc && sqlite3_changes(store->db) == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: dag %s is not in the store",
                                    store->path, dag_id);
    return rc;
}

static int sqlite_dag_list(void *state, sl_meta_dag_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_DAG_LIST, &stmt, err), step;
    if (rc) return rc;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sl_meta_dag dag = {
            .dag_id = column_text(stmt, 0),
            .is_paused = sqlite3_column_int(stmt, 1) != 0,
            .file_hash = column_text(stmt, 2),
            .updated_at_us = sqlite3_column_int64(stmt, 3),
        };
        rc = fn(context, &dag);
    }
    if (!rc && step != SQLITE_DONE) rc = db_fail(store, "listing dags", err);
    sqlite3_reset(stmt);
    return rc;
}

/* ---- dag runs ---- */

static int sqlite_run_create(void *state, const sl_meta_run_spec *spec, int64_t *id, bool *created, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    *created = false;
    int rc = statement(store, ST_RUN_INSERT, &stmt, err);
    if (rc) return rc;
    const char *type = sl_meta_run_type_name(spec->run_type);
    bind_text(stmt, 1, spec->dag_id);
    bind_text(stmt, 2, spec->run_id);
    bind_text(stmt, 3, type);
    bind_text(stmt, 4, sl_meta_run_state_name(SL_META_RUN_QUEUED));
    sqlite3_bind_int64(stmt, 5, spec->data_interval_start_us);
    sqlite3_bind_int64(stmt, 6, spec->data_interval_end_us);
    bind_text(stmt, 7, spec->conf);
    sqlite3_bind_int64(stmt, 8, sl_clock_wall_us());
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(stmt, 0);
        *created = true;
        step = sqlite3_step(stmt);
    }
    if (step != SQLITE_DONE) {
        char missing[SL_META_NAME_MAX + 8];
        snprintf(missing, sizeof missing, "dag %s", spec->dag_id);
        rc = insert_fail(store, "creating a dag run", missing, err);
    }
    sqlite3_reset(stmt);
    if (rc || *created) return rc;
    rc = statement(store, ST_RUN_FIND, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, spec->dag_id);
    bind_text(stmt, 2, spec->run_id);
    bind_text(stmt, 3, type);
    sqlite3_bind_int64(stmt, 4, spec->data_interval_start_us);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *id = sqlite3_column_int64(stmt, 0);
    else if (step == SQLITE_DONE)
        rc = sl_error_set(err, SL_EIO, "metadata store %s: dag %s run %s: neither created nor found",
                          store->path, spec->dag_id, spec->run_id);
    else rc = db_fail(store, "finding a dag run", err);
    sqlite3_reset(stmt);
    return rc;
}

static int sqlite_run_get(void *state, int64_t id, sl_meta_run_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_RUN_GET, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    size_t n = 0;
    rc = each_run(store, stmt, fn, context, &n, NULL, err);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no dag run %lld", store->path,
                                    (long long)id);
    return rc;
}

static int sqlite_run_set_state(void *state, int64_t id, sl_meta_run_state expected, sl_meta_run_state run_state,
                                bool *changed, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    *changed = false;
    int rc = statement(store, ST_RUN_SET_STATE, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, sl_meta_run_state_name(expected));
    bind_text(stmt, 3, sl_meta_run_state_name(run_state));
    sqlite3_bind_int64(stmt, 4, sl_clock_wall_us());
    sqlite3_bind_int(stmt, 5, run_state == SL_META_RUN_RUNNING);
    sqlite3_bind_int(stmt, 6, run_state == SL_META_RUN_SUCCESS || run_state == SL_META_RUN_FAILED);
    rc = step_done(store, stmt, "setting a dag run's state", err);
    if (!rc) *changed = sqlite3_changes(store->db) > 0;
    return rc;
}

static int sqlite_run_list(void *state, const char *dag_id, const sl_meta_run_state *run_state,
                           const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context, size_t *n,
                           sl_meta_run_cursor *last, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, after ? ST_RUN_LIST_AFTER : ST_RUN_LIST_FIRST, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    sqlite3_bind_int(stmt, 2, limit);
    if (after) {
        sqlite3_bind_int64(stmt, 3, after->data_interval_start_us);
        sqlite3_bind_int64(stmt, 4, after->id);
    }
    bind_text(stmt, 5, run_state ? sl_meta_run_state_name(*run_state) : NULL);
    return each_run(store, stmt, fn, context, n, last, err);
}

static int sqlite_run_find(void *state, const char *dag_id, const char *run_id, sl_meta_run_fn fn, void *context,
                           sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_RUN_BY_RUN_ID, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    bind_text(stmt, 2, run_id);
    size_t n = 0;
    rc = each_run(store, stmt, fn, context, &n, NULL, err);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: dag %s has no run %s", store->path,
                                    dag_id, run_id);
    return rc;
}

static int sqlite_run_list_active(void *state, const char *dag_id, int limit, sl_meta_run_fn fn, void *context,
                                  sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_RUN_LIST_ACTIVE, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    sqlite3_bind_int(stmt, 2, limit);
    size_t n = 0;
    return each_run(store, stmt, fn, context, &n, NULL, err);
}

static int sqlite_run_latest_interval_end(void *state, const char *dag_id, int64_t *end_us, bool *found,
                                          sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_RUN_LATEST_END, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, dag_id);
    bind_text(stmt, 2, sl_meta_run_type_name(SL_META_RUN_SCHEDULED));
    bind_text(stmt, 3, sl_meta_run_type_name(SL_META_RUN_BACKFILL));
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        *found = sqlite3_column_type(stmt, 0) != SQLITE_NULL;
        if (*found) *end_us = sqlite3_column_int64(stmt, 0);
    } else {
        rc = db_fail(store, "reading the latest data interval", err);
    }
    sqlite3_reset(stmt);
    return rc;
}

/* ---- task instances ---- */

static int sqlite_ti_create(void *state, int64_t run, const char *const *task_ids, size_t n_tasks, int max_tries,
                            size_t *created, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    size_t made = 0;
    int rc = exec_sql(store, "BEGIN IMMEDIATE", "creating task instances", err);
    if (rc) return rc;
    for (size_t i = 0; !rc && i < n_tasks; i++) {
        rc = statement(store, ST_TI_INSERT, &stmt, err);
        if (rc) break;
        sqlite3_bind_int64(stmt, 1, run);
        bind_text(stmt, 2, task_ids[i]);
        sqlite3_bind_int(stmt, 3, max_tries);
        bind_text(stmt, 4, sl_meta_ti_state_name(SL_META_TI_NONE));
        if (sqlite3_step(stmt) != SQLITE_DONE) {
            char missing[48];
            snprintf(missing, sizeof missing, "dag run %lld", (long long)run);
            rc = insert_fail(store, "creating task instances", missing, err);
        } else {
            made += (size_t)sqlite3_changes(store->db);
        }
        sqlite3_reset(stmt);
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "creating task instances", err);
    if (rc) {
        rollback(store);
        return rc;
    }
    *created = made;
    return SL_OK;
}

static int sqlite_ti_get(void *state, int64_t id, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TI_GET, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    size_t n = 0;
    rc = each_ti(store, stmt, fn, context, &n, err);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->path,
                                    (long long)id);
    return rc;
}

static int sqlite_ti_list(void *state, int64_t run, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TI_LIST, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, run);
    size_t n = 0;
    return each_ti(store, stmt, fn, context, &n, err);
}

static int sqlite_ti_claim(void *state, const char *server_id, int64_t run, int64_t *ids, size_t max, size_t *n,
                           sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = exec_sql(store, "BEGIN IMMEDIATE", "claiming task instances", err);
    if (rc) return rc;
    rc = statement(store, ST_TI_CLAIM, &stmt, err);
    if (!rc) {
        bind_text(stmt, 1, server_id);
        bind_text(stmt, 2, sl_meta_ti_state_name(SL_META_TI_SCHEDULED));
        bind_text(stmt, 3, sl_meta_ti_state_name(SL_META_TI_QUEUED));
        sqlite3_bind_int64(stmt, 4, sl_clock_wall_us());
        sqlite3_bind_int64(stmt, 5, max > INT32_MAX ? INT32_MAX : (int64_t)max);
        sqlite3_bind_int64(stmt, 6, run);
        rc = collect_ids(store, stmt, ids, max, n, "claiming task instances", err);
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "claiming task instances", err);
    if (rc) {
        *n = 0;
        rollback(store);
    }
    return rc;
}

static int sqlite_ti_set_state(void *state, int64_t id, sl_meta_ti_state expected, sl_meta_ti_state ti_state,
                               const int *exit_status, bool *changed, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TI_SET_STATE, &stmt, err);
    if (rc) return rc;
    bool is_finished = sl_meta_ti_state_is_finished(ti_state);
    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, sl_meta_ti_state_name(expected));
    bind_text(stmt, 3, sl_meta_ti_state_name(ti_state));
    sqlite3_bind_int64(stmt, 4, sl_clock_wall_us());
    sqlite3_bind_int(stmt, 5, ti_state == SL_META_TI_RUNNING);
    sqlite3_bind_int(stmt, 6, is_finished);
    sqlite3_bind_int(stmt, 7, is_finished && exit_status);
    if (exit_status) sqlite3_bind_int(stmt, 8, *exit_status);
    rc = step_done(store, stmt, "setting a task instance's state", err);
    if (!rc) *changed = sqlite3_changes(store->db) > 0;
    return rc;
}

static int sqlite_ti_retry(void *state, int64_t id, int64_t *new_id, bool *created, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TI_RETRY_INSERT, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, sl_meta_ti_state_name(SL_META_TI_UP_FOR_RETRY));
    bind_text(stmt, 3, sl_meta_ti_state_name(SL_META_TI_SCHEDULED));
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *new_id = sqlite3_column_int64(stmt, 0);
        *created = true;
        step = sqlite3_step(stmt);
    }
    if (step != SQLITE_DONE) rc = db_fail(store, "retrying a task instance", err);
    sqlite3_reset(stmt);
    if (rc || *created) return rc;
    /* Nothing inserted: the next try exists already, or this one cannot be retried. */
    rc = statement(store, ST_TI_RETRY_FIND, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
        *new_id = sqlite3_column_int64(stmt, 0);
    } else if (step == SQLITE_ROW) {
        const char *now = column_text(stmt, 1);
        int try_number = sqlite3_column_int(stmt, 2), max_tries = sqlite3_column_int(stmt, 3);
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: task instance %lld cannot be retried: it "
                                    "is %s, try %d of %d", store->path, (long long)id, now ? now : "?",
                                    try_number, max_tries);
    } else if (step == SQLITE_DONE) {
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->path,
                                    (long long)id);
    } else {
        rc = db_fail(store, "retrying a task instance", err);
    }
    sqlite3_reset(stmt);
    return rc;
}

/* The states a clear takes a try from: ?5..?8 of ST_TI_CLEAR. */
static void clear_states(bool only_failed, const char *names[4])
{
    names[0] = sl_meta_ti_state_name(SL_META_TI_FAILED);
    names[1] = sl_meta_ti_state_name(SL_META_TI_UPSTREAM_FAILED);
    names[2] = sl_meta_ti_state_name(SL_META_TI_SKIPPED);
    names[3] = sl_meta_ti_state_name(only_failed ? SL_META_TI_FAILED : SL_META_TI_SUCCESS);
}

static int sqlite_ti_clear(void *state, int64_t run, const sl_meta_clear_task *tasks, size_t n, bool only_failed,
                           bool *cleared, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    const char *states[4];
    clear_states(only_failed, states);
    bool is_any = false;
    int rc = exec_sql(store, "BEGIN IMMEDIATE", "clearing task instances", err);
    if (rc) return rc;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = statement(store, ST_TI_CLEAR, &stmt, err);
        if (rc) break;
        sqlite3_bind_int64(stmt, 1, run);
        bind_text(stmt, 2, tasks[i].task_id);
        sqlite3_bind_int(stmt, 3, tasks[i].retries);
        bind_text(stmt, 4, sl_meta_ti_state_name(SL_META_TI_NONE));
        for (int s = 0; s < 4; s++) bind_text(stmt, 5 + s, states[s]);
        int step;
        while ((step = sqlite3_step(stmt)) == SQLITE_ROW) cleared[i] = true;
        if (step != SQLITE_DONE) rc = db_fail(store, "clearing task instances", err);
        sqlite3_reset(stmt);
        is_any |= cleared[i];
    }
    if (!rc && is_any) {
        rc = statement(store, ST_RUN_REQUEUE, &stmt, err);
        if (!rc) {
            sqlite3_bind_int64(stmt, 1, run);
            bind_text(stmt, 2, sl_meta_run_state_name(SL_META_RUN_QUEUED));
            sqlite3_bind_int64(stmt, 3, sl_clock_wall_us());
            rc = step_done(store, stmt, "queueing a cleared dag run", err);
        }
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "clearing task instances", err);
    if (rc) rollback(store);
    return rc;
}

static int sqlite_ti_set_log(void *state, int64_t id, const char *log_path, const void *tail, size_t len,
                             sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TI_SET_LOG, &stmt, err);
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, log_path);
    sqlite3_bind_blob64(stmt, 3, tail, len, SQLITE_STATIC);
    rc = step_done(store, stmt, "storing a task's log", err);
    if (!rc && sqlite3_changes(store->db) == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->path,
                                    (long long)id);
    return rc;
}

/* ---- servers ---- */

static int sqlite_server_register(void *state, const char *server_id, const char *hostname, int64_t pid,
                                  sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_SERVER_REGISTER, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, server_id);
    bind_text(stmt, 2, hostname);
    sqlite3_bind_int64(stmt, 3, pid);
    sqlite3_bind_int64(stmt, 4, sl_clock_wall_us());
    return step_done(store, stmt, "registering a server", err);
}

static int sqlite_server_heartbeat(void *state, const char *server_id, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_SERVER_HEARTBEAT, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, server_id);
    sqlite3_bind_int64(stmt, 2, sl_clock_wall_us());
    rc = step_done(store, stmt, "recording a heartbeat", err);
    if (!rc && sqlite3_changes(store->db) == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: server %s is not registered",
                                    store->path, server_id);
    return rc;
}

static int sqlite_server_list(void *state, sl_meta_server_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_SERVER_LIST, &stmt, err), step;
    if (rc) return rc;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sl_meta_server server = {
            .server_id = column_text(stmt, 0),
            .hostname = column_text(stmt, 1),
            .pid = sqlite3_column_int64(stmt, 2),
            .started_at_us = sqlite3_column_int64(stmt, 3),
            .heartbeat_us = sqlite3_column_int64(stmt, 4),
        };
        rc = fn(context, &server);
    }
    if (!rc && step != SQLITE_DONE) rc = db_fail(store, "listing servers", err);
    sqlite3_reset(stmt);
    return rc;
}

/* ---- API tokens ---- */

static int sqlite_token_create(void *state, const char *name, const char *role, const char *token_hash,
                               bool *created, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TOKEN_INSERT, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, role);
    bind_text(stmt, 3, token_hash);
    sqlite3_bind_int64(stmt, 4, sl_clock_wall_us());
    rc = step_done(store, stmt, "storing an API token", err);
    *created = rc == SL_OK && sqlite3_changes(store->db) == 1;
    return rc;
}

static int sqlite_token_delete(void *state, const char *name, bool *found, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TOKEN_DELETE, &stmt, err);
    if (rc) return rc;
    bind_text(stmt, 1, name);
    rc = step_done(store, stmt, "removing an API token", err);
    *found = rc == SL_OK && sqlite3_changes(store->db) > 0;
    return rc;
}

static int sqlite_token_list(void *state, sl_meta_token_fn fn, void *context, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = statement(store, ST_TOKEN_LIST, &stmt, err), step;
    if (rc) return rc;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sl_meta_token token = {
            .name = column_text(stmt, 0),
            .role = column_text(stmt, 1),
            .token_hash = column_text(stmt, 2),
            .created_at_us = sqlite3_column_int64(stmt, 3),
        };
        rc = fn(context, &token);
    }
    if (!rc && step != SQLITE_DONE) rc = db_fail(store, "listing API tokens", err);
    sqlite3_reset(stmt);
    return rc;
}

static int sqlite_reap_stale(void *state, int64_t timeout_us, int64_t *ids, size_t max, size_t *n, sl_error *err)
{
    sqlite_store *store = state;
    sqlite3_stmt *stmt = NULL;
    int rc = exec_sql(store, "BEGIN IMMEDIATE", "failing the tasks of stale servers", err);
    if (rc) return rc;
    rc = statement(store, ST_REAP, &stmt, err);
    if (!rc) {
        int64_t now = sl_clock_wall_us();
        bind_text(stmt, 1, sl_meta_ti_state_name(SL_META_TI_UP_FOR_RETRY));
        bind_text(stmt, 2, sl_meta_ti_state_name(SL_META_TI_FAILED));
        sqlite3_bind_int64(stmt, 3, now);
        bind_text(stmt, 4, sl_meta_ti_state_name(SL_META_TI_QUEUED));
        bind_text(stmt, 5, sl_meta_ti_state_name(SL_META_TI_RUNNING));
        sqlite3_bind_int64(stmt, 6, now - timeout_us);
        sqlite3_bind_int64(stmt, 7, max > INT32_MAX ? INT32_MAX : (int64_t)max);
        rc = collect_ids(store, stmt, ids, max, n, "failing the tasks of stale servers", err);
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "failing the tasks of stale servers", err);
    if (rc) {
        *n = 0;
        rollback(store);
    }
    return rc;
}

const sl_metadata_ops sl_metadata_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .dag_upsert = sqlite_dag_upsert,
    .dag_set_paused = sqlite_dag_set_paused,
    .dag_list = sqlite_dag_list,
    .run_create = sqlite_run_create,
    .run_get = sqlite_run_get,
    .run_set_state = sqlite_run_set_state,
    .run_list = sqlite_run_list,
    .run_find = sqlite_run_find,
    .run_list_active = sqlite_run_list_active,
    .run_latest_interval_end = sqlite_run_latest_interval_end,
    .ti_create = sqlite_ti_create,
    .ti_get = sqlite_ti_get,
    .ti_list = sqlite_ti_list,
    .ti_claim = sqlite_ti_claim,
    .ti_set_state = sqlite_ti_set_state,
    .ti_retry = sqlite_ti_retry,
    .ti_clear = sqlite_ti_clear,
    .ti_set_log = sqlite_ti_set_log,
    .server_register = sqlite_server_register,
    .server_heartbeat = sqlite_server_heartbeat,
    .server_list = sqlite_server_list,
    .token_create = sqlite_token_create,
    .token_delete = sqlite_token_delete,
    .token_list = sqlite_token_list,
    .reap_stale = sqlite_reap_stale,
};
