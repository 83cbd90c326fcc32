/* metadata_test.c — the metadata store (src/metadata) on both backends:
 * migrations from an older version and the refusal of a newer one,
 * idempotent run creation, compare-and-set transitions, claiming (also by
 * several processes at once), stale heartbeats and retries, paging (also by
 * state), finding a run by its run id, Airflow's clear, and the log tail
 * keeping the last 64 KiB. Rows are also read with sqlite3 or libpq
 * directly, not only through the store.
 *
 * Suite metadata_sqlite runs each check on a fresh SQLite file. Suite
 * metadata_postgres runs the same checks on a fresh database of the server
 * at $SLUICE_TEST_POSTGRES_URL (a superuser's URL, e.g. what
 * `tests/servers/postgres.sh url` prints); without it those tests are
 * skipped: tests/e2e/test_metadata_postgres.py starts a server and runs
 * them. Suite metadata runs what needs no store (URLs, names, unreachable
 * servers).
 */
#include <criterion/criterion.h>

#include <libpq-fe.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metadata/metadata.h"
#include "metadata/migrations.h"
#include "metadata/postgres_url.h"
#include "test_util.h"

#define HOUR_US (3600LL * 1000000)
#define DAY_US (24 * HOUR_US)
#define T0 1704067200000000LL   /* 2024-01-01T00:00:00Z */

/* ---- fixtures: a fresh store per test ------------------------------------------ */

typedef enum backend { SQLITE, POSTGRES } backend;

static struct {
    backend kind;
    char dir[64];
    char target[1024];
    char base_url[1024];         /* postgres: the server's URL, for the maintenance connection */
    char database[64];           /* postgres: this test's database */
} fx;

/* base with its database (the path after the host) replaced by database. */
static void url_with_database(const char *base, const char *database, char *out, size_t size)
{
    const char *authority = strstr(base, "://");
    cr_assert(authority, "SLUICE_TEST_POSTGRES_URL %s is not a URL", base);
    const char *slash = strchr(authority + 3, '/');
    const char *query = strchr(authority + 3, '?');
    size_t host_end = slash ? (size_t)(slash - base) : query ? (size_t)(query - base) : strlen(base);
    snprintf(out, size, "%.*s/%s%s", (int)host_end, base, database, query ? query : "");
}

/* The server's notices ("database ... does not exist, skipping") are not news. */
static void quiet(void *context, const char *message)
{
    (void)context;
    (void)message;
}

static void pg_admin(const char *sql)
{
    PGconn *conn = PQconnectdb(fx.base_url);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK, "connecting to %s: %s", fx.base_url, PQerrorMessage(conn));
    PQsetNoticeProcessor(conn, quiet, NULL);
    PGresult *res = PQexec(conn, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
}

static void begin(backend kind)
{
    memset(&fx, 0, sizeof fx);
    fx.kind = kind;
    if (kind == SQLITE) {
        test_make_temp_dir(fx.dir, sizeof fx.dir, "metadata");
        snprintf(fx.target, sizeof fx.target, "%s/data/metadata.db", fx.dir);
        return;
    }
    const char *url = getenv("SLUICE_TEST_POSTGRES_URL");
    if (!url || !*url) cr_skip_test("SLUICE_TEST_POSTGRES_URL is not set (tests/e2e/test_metadata_postgres.py sets it)");
    snprintf(fx.base_url, sizeof fx.base_url, "%s", url);
    snprintf(fx.database, sizeof fx.database, "sl_test_%d", (int)getpid());
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx.database);
    pg_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", fx.database);
    pg_admin(sql);
    url_with_database(fx.base_url, fx.database, fx.target, sizeof fx.target);
}

static void finish(void)
{
    if (fx.kind == SQLITE && fx.dir[0]) test_remove_tree(fx.dir);
    if (fx.kind == POSTGRES && fx.database[0]) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx.database);
        pg_admin(sql);
    }
}

TestSuite(metadata);
TestSuite(metadata_sqlite, .fini = finish);
TestSuite(metadata_postgres, .fini = finish);

/* ---- the store's tables read directly ------------------------------------------- */

static void raw_exec(const char *sql)
{
    if (fx.kind == SQLITE) {
        sqlite3 *db = NULL;
        cr_assert_eq(sqlite3_open(fx.target, &db), SQLITE_OK);
        char *message = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
        cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, message ? message : "?");
        sqlite3_close(db);
        return;
    }
    PGconn *conn = PQconnectdb(fx.target);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, sql);
    cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
              PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
}

/* The one integer sql returns (-1 for NULL). */
static long long raw_int(const char *sql)
{
    long long value = -1;
    if (fx.kind == SQLITE) {
        sqlite3 *db = NULL;
        sqlite3_stmt *stmt = NULL;
        cr_assert_eq(sqlite3_open(fx.target, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
        cr_assert_eq(sqlite3_step(stmt), SQLITE_ROW, "%s: no row", sql);
        if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) value = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return value;
    }
    PGconn *conn = PQconnectdb(fx.target);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(conn));
    cr_assert_eq(PQntuples(res), 1, "%s: %d rows", sql, PQntuples(res));
    if (!PQgetisnull(res, 0, 0)) value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return value;
}

/* Whether table has column (the schema as the database describes it). */
static bool raw_has_column(const char *table, const char *column)
{
    char sql[256];
    if (fx.kind == SQLITE)
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table, column);
    else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema.columns WHERE table_name = '%s' "
                 "AND column_name = '%s'", table, column);
    return raw_int(sql) == 1;
}

/* ---- helpers over the store ------------------------------------------------------ */

static sl_metadata *open_store(void)
{
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    int rc = sl_metadata_open(fx.target, &store, &err);
    cr_assert_eq(rc, SL_OK, "open %s: %s", fx.target, err.message);
    return store;
}

static int64_t make_run(sl_metadata *store, const char *dag, sl_meta_run_type type, int64_t start, bool *created)
{
    sl_meta_run_spec spec = { .dag_id = dag, .run_type = type, .data_interval_start_us = start,
                              .data_interval_end_us = start + DAY_US };
    int64_t id = 0;
    bool made = false;
    sl_error err = { 0 };
    int rc = sl_metadata_run_create(store, &spec, &id, &made, &err);
    cr_assert_eq(rc, SL_OK, "run_create: %s", err.message);
    if (created) *created = made;
    return id;
}

static void make_dag(sl_metadata *store, const char *dag)
{
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_dag_upsert(store, dag, "hash-1", &err), SL_OK, "%s", err.message);
}

typedef struct ti_copy {
    int64_t id, run, queued_at_us, start_us, end_us, duration_us;
    char task_id[64], server_id[64], dag_id[64], run_id[96], log_path[256];
    int try_number, max_tries, exit_status;
    bool has_exit_status, has_server;
    sl_meta_ti_state state;
    unsigned char *tail;
    size_t tail_len;
} ti_copy;

static int copy_ti(void *context, const sl_meta_ti *ti)
{
    ti_copy *out = context;
    free(out->tail);
    *out = (ti_copy){ .id = ti->id, .run = ti->run, .queued_at_us = ti->queued_at_us, .start_us = ti->start_us,
                      .end_us = ti->end_us, .duration_us = ti->duration_us, .try_number = ti->try_number,
                      .max_tries = ti->max_tries, .exit_status = ti->exit_status,
                      .has_exit_status = ti->has_exit_status, .has_server = ti->server_id != NULL,
                      .state = ti->state };
    snprintf(out->task_id, sizeof out->task_id, "%s", ti->task_id);
    snprintf(out->dag_id, sizeof out->dag_id, "%s", ti->dag_id);
    snprintf(out->run_id, sizeof out->run_id, "%s", ti->run_id);
    snprintf(out->server_id, sizeof out->server_id, "%s", ti->server_id ? ti->server_id : "");
    snprintf(out->log_path, sizeof out->log_path, "%s", ti->log_path ? ti->log_path : "");
    out->tail = malloc(ti->log_tail_len + 1);
    cr_assert(out->tail);
    if (ti->log_tail_len) memcpy(out->tail, ti->log_tail, ti->log_tail_len);
    out->tail_len = ti->log_tail_len;
    return 0;
}

static ti_copy get_ti(sl_metadata *store, int64_t id)
{
    ti_copy ti = { 0 };
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_ti_get(store, id, copy_ti, &ti, &err), SL_OK, "ti_get %lld: %s", (long long)id,
                 err.message);
    return ti;
}

static sl_meta_ti_state ti_state(sl_metadata *store, int64_t id)
{
    ti_copy ti = get_ti(store, id);
    free(ti.tail);
    return ti.state;
}

/* Every task instance of run, ids in order of task id then try. */
typedef struct ti_ids {
    int64_t ids[64];
    char tasks[64][16];
    int tries[64];
    size_t n;
} ti_ids;

static int collect_ti(void *context, const sl_meta_ti *ti)
{
    ti_ids *out = context;
    cr_assert_lt(out->n, 64);
    out->ids[out->n] = ti->id;
    snprintf(out->tasks[out->n], sizeof out->tasks[0], "%s", ti->task_id);
    out->tries[out->n] = ti->try_number;
    out->n++;
    return 0;
}

static ti_ids list_tis(sl_metadata *store, int64_t run)
{
    ti_ids out = { 0 };
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_ti_list(store, run, collect_ti, &out, &err), SL_OK, "%s", err.message);
    return out;
}

static void set_ti(sl_metadata *store, int64_t id, sl_meta_ti_state from, sl_meta_ti_state to, bool want_changed)
{
    bool changed = !want_changed;
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_ti_set_state(store, id, from, to, NULL, &changed, &err), SL_OK, "%s", err.message);
    cr_assert_eq(changed, want_changed, "ti %lld %s -> %s: changed %d", (long long)id, sl_meta_ti_state_name(from),
                 sl_meta_ti_state_name(to), changed);
}

/* A run of dag with tasks t0..t(n-1) (max_tries tries each), all scheduled. */
static int64_t scheduled_tasks(sl_metadata *store, const char *dag, int64_t start, size_t n, int max_tries,
                               ti_ids *tis)
{
    int64_t run = make_run(store, dag, SL_META_RUN_SCHEDULED, start, NULL);
    char names[64][16];
    const char *tasks[64];
    cr_assert_leq(n, 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "t%02zu", i);
        tasks[i] = names[i];
    }
    size_t created = 0;
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_ti_create(store, run, tasks, n, max_tries, &created, &err), SL_OK, "%s", err.message);
    cr_assert_eq(created, n);
    *tis = list_tis(store, run);
    for (size_t i = 0; i < tis->n; i++) set_ti(store, tis->ids[i], SL_META_TI_NONE, SL_META_TI_SCHEDULED, true);
    return run;
}

/* ---- checks, each run on both backends -------------------------------------------- */

static void check_fresh_store(void)
{
    sl_metadata *store = open_store();
    cr_assert_eq(sl_metadata_version(store), sl_metadata_latest_version());
    cr_assert_eq(sl_metadata_latest_version(), (int)sl_meta_n_migrations);
    for (size_t i = 0; i < sl_meta_n_migrations; i++)
        cr_assert_eq(sl_meta_migrations[i].version, (int)i + 1, "migration %zu has version %d", i,
                     sl_meta_migrations[i].version);
    cr_assert_str_eq(sl_metadata_backend(store), fx.kind == SQLITE ? "sqlite" : "postgres");
    sl_metadata_close(store);
    cr_assert_eq(raw_int("SELECT count(*) FROM schema_migrations"), (long long)sl_meta_n_migrations);
    cr_assert_eq(raw_int("SELECT max(version) FROM schema_migrations"), sl_metadata_latest_version());
    /* Opening again changes nothing. */
    store = open_store();
    sl_metadata_close(store);
    cr_assert_eq(raw_int("SELECT count(*) FROM schema_migrations"), (long long)sl_meta_n_migrations);
}

static int count_run(void *context, const sl_meta_run *run)
{
    (void)run;
    (*(int *)context)++;
    return SL_OK;
}

static void check_migrates_from_older(void)
{
    int latest = sl_metadata_latest_version();
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    /* From the first version through every later step. */
    cr_assert_eq(sl_metadata_open_version(fx.target, 1, &store, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_version(store), 1);
    /* An older schema is only looked at: operations are refused, by name. */
    int rc = sl_metadata_dag_upsert(store, "d", "h", &err);
    cr_assert_eq(rc, SL_ECONFIG);
    cr_assert(strstr(err.message, "schema version 1"), "%s", err.message);
    sl_metadata_close(store);
    cr_assert_eq(raw_int("SELECT max(version) FROM schema_migrations"), 1);
    cr_assert(!raw_has_column("task_instances", "log_tail"));
    /* Rows written at version 1 survive the migrations to the latest. */
    raw_exec("INSERT INTO dags (dag_id, file_hash, updated_at_us) VALUES ('old', 'h0', 1)");
    raw_exec("INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us,"
             " conf, queued_at_us) VALUES ('old', 'r1', 'manual', 'success', 10, 20, '{}', 5)");
    raw_exec("INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
             "SELECT id, 'extract', 1, 1, 'success' FROM dag_runs");
    store = open_store();
    cr_assert_eq(sl_metadata_version(store), latest);
    cr_assert(raw_has_column("task_instances", "log_tail"));
    cr_assert(raw_has_column("task_instances", "log_path"));
    cr_assert_eq(raw_int("SELECT count(*) FROM schema_migrations"), latest);
    int64_t ti = raw_int("SELECT id FROM task_instances WHERE task_id = 'extract'");
    cr_assert_eq(sl_metadata_ti_set_log(store, ti, "/logs/extract.log", "done\n", 5, &err), SL_OK, "%s",
                 err.message);
    ti_copy copy = get_ti(store, ti);
    cr_assert_str_eq(copy.task_id, "extract");
    cr_assert_str_eq(copy.dag_id, "old");
    cr_assert_eq(copy.state, SL_META_TI_SUCCESS);
    cr_assert_eq(copy.tail_len, 5);
    cr_assert_str_eq(copy.log_path, "/logs/extract.log");
    free(copy.tail);
    /* Version 3's index of active runs serves the old rows too. */
    raw_exec("INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us,"
             " conf, queued_at_us) VALUES ('old', 'r2', 'manual', 'running', 30, 40, '{}', 6)");
    int n = 0;
    cr_assert_eq(sl_metadata_run_list_active(store, "old", 10, count_run, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    sl_metadata_close(store);
}

static void check_refuses_newer(void)
{
    sl_metadata *store = open_store();
    sl_metadata_close(store);
    char sql[200];
    int newer = sl_metadata_latest_version() + 1;
    snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, name, applied_at_us) "
             "VALUES (%d, 'from a newer sluice', 0)", newer);
    raw_exec(sql);
    sl_error err = { 0 };
    int rc = sl_metadata_open(fx.target, &store, &err);
    cr_assert_eq(rc, SL_ECONFIG, "opening a newer store: %s", sl_error_name(rc));
    cr_assert_null(store);
    char want[64];
    snprintf(want, sizeof want, "schema version %d, newer than the %d", newer, newer - 1);
    cr_assert(strstr(err.message, want), "%s", err.message);
    cr_assert(strstr(err.message, "newer sluice"), "%s", err.message);
    cr_assert(!sl_error_is_transient(&err));
    /* Nothing was changed by the refusal. */
    cr_assert_eq(raw_int("SELECT max(version) FROM schema_migrations"), newer);
}

static int count_dag(void *context, const sl_meta_dag *dag)
{
    char *seen = context;
    size_t len = strlen(seen);
    snprintf(seen + len, 256 - len, "%s:%d:%s ", dag->dag_id, dag->is_paused, dag->file_hash);
    return 0;
}

static void check_dags(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "b_dag");
    make_dag(store, "a_dag");
    cr_assert_eq(sl_metadata_dag_upsert(store, "b_dag", "hash-2", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_dag_set_paused(store, "a_dag", true, &err), SL_OK, "%s", err.message);
    char seen[256] = "";
    cr_assert_eq(sl_metadata_dag_list(store, count_dag, seen, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(seen, "a_dag:1:hash-1 b_dag:0:hash-2 ");
    cr_assert_eq(sl_metadata_dag_set_paused(store, "a_dag", false, &err), SL_OK, "%s", err.message);
    seen[0] = '\0';
    cr_assert_eq(sl_metadata_dag_list(store, count_dag, seen, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(seen, "a_dag:0:hash-1 b_dag:0:hash-2 ");
    cr_assert_eq(sl_metadata_dag_set_paused(store, "nope", true, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "dag nope is not in the store"), "%s", err.message);
    cr_assert_eq(sl_metadata_dag_upsert(store, "", "h", &err), SL_EINVAL);
    cr_assert(strstr(err.message, "dag id is empty"), "%s", err.message);
    sl_metadata_close(store);
}

typedef struct run_copy {
    int64_t id, start_us, end_us, queued_at_us, interval_start;
    char run_id[96], conf[64];
    sl_meta_run_state state;
    sl_meta_run_type type;
} run_copy;

static int copy_run(void *context, const sl_meta_run *run)
{
    run_copy *out = context;
    *out = (run_copy){ .id = run->id, .start_us = run->start_us, .end_us = run->end_us,
                       .queued_at_us = run->queued_at_us, .interval_start = run->data_interval_start_us,
                       .state = run->state, .type = run->run_type };
    snprintf(out->run_id, sizeof out->run_id, "%s", run->run_id);
    snprintf(out->conf, sizeof out->conf, "%s", run->conf);
    return 0;
}

static void check_idempotent_runs(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    bool created = false;
    int64_t first = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, &created);
    cr_assert(created);
    int64_t again = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, &created);
    cr_assert(!created, "the same scheduled run was created twice");
    cr_assert_eq(again, first);
    /* Another server naming the same scheduled interval differently gets the same row. */
    sl_meta_run_spec other = { .dag_id = "etl", .run_id = "scheduled-by-another-name",
                               .run_type = SL_META_RUN_SCHEDULED, .data_interval_start_us = T0,
                               .data_interval_end_us = T0 + DAY_US };
    int64_t id = 0;
    cr_assert_eq(sl_metadata_run_create(store, &other, &id, &created, &err), SL_OK, "%s", err.message);
    cr_assert(!created);
    cr_assert_eq(id, first);
    /* A manual run of the same interval is a run of its own. */
    int64_t manual = make_run(store, "etl", SL_META_RUN_MANUAL, T0, &created);
    cr_assert(created);
    cr_assert_neq(manual, first);
    cr_assert_eq(raw_int("SELECT count(*) FROM dag_runs"), 2);

    run_copy run = { 0 };
    cr_assert_eq(sl_metadata_run_get(store, first, copy_run, &run, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(run.run_id, "scheduled__2024-01-01T00:00:00+00:00");
    cr_assert_str_eq(run.conf, "{}");
    cr_assert_eq(run.state, SL_META_RUN_QUEUED);
    cr_assert_eq(run.type, SL_META_RUN_SCHEDULED);
    cr_assert_eq(run.start_us, SL_META_NO_TIME);
    cr_assert_neq(run.queued_at_us, SL_META_NO_TIME);

    sl_meta_run_spec spec = { .dag_id = "etl", .run_id = "manual-conf", .run_type = SL_META_RUN_MANUAL,
                              .data_interval_start_us = T0, .data_interval_end_us = T0, .conf = "{\"n\": 1}" };
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_run_get(store, id, copy_run, &run, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(run.conf, "{\"n\": 1}");

    /* Bad input: a missing dag, conf not an object, an interval ending first. */
    spec.dag_id = "missing";
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "dag missing is not in the store"), "%s", err.message);
    spec.dag_id = "etl";
    spec.conf = "[1]";
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "conf must be a JSON object"), "%s", err.message);
    spec.conf = "{oops";
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "conf is not JSON"), "%s", err.message);
    spec.conf = NULL;
    spec.data_interval_end_us = T0 - 1;
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "ends"), "%s", err.message);
    cr_assert_eq(sl_metadata_run_get(store, 999999, copy_run, &run, &err), SL_ENOTFOUND);
    sl_metadata_close(store);
}

static void check_run_transitions(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    int64_t id = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, NULL);
    bool changed = false;
    cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK, "%s", err.message);
    cr_assert(changed);
    /* A second server making the same move finds the run moved already. */
    cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK, "%s", err.message);
    cr_assert(!changed);
    run_copy run = { 0 };
    cr_assert_eq(sl_metadata_run_get(store, id, copy_run, &run, &err), SL_OK);
    cr_assert_eq(run.state, SL_META_RUN_RUNNING);
    cr_assert_neq(run.start_us, SL_META_NO_TIME);
    cr_assert_eq(run.end_us, SL_META_NO_TIME);
    cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_RUNNING, SL_META_RUN_SUCCESS, &changed, &err),
                 SL_OK);
    cr_assert(changed);
    cr_assert_eq(sl_metadata_run_get(store, id, copy_run, &run, &err), SL_OK);
    cr_assert_eq(run.state, SL_META_RUN_SUCCESS);
    cr_assert_geq(run.end_us, run.start_us);
    cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_RUNNING, (sl_meta_run_state)42, &changed, &err),
                 SL_EINVAL);
    cr_assert(strstr(err.message, "not a dag run state"), "%s", err.message);
    sl_metadata_close(store);
}

/* Every state name of states.c passes the schema's CHECKs. */
static void check_every_state_stored(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids tis;
    scheduled_tasks(store, "etl", T0, 1, 1, &tis);
    sl_meta_ti_state now = SL_META_TI_SCHEDULED;
    for (int s = 0; s < SL_META_TI_STATE_COUNT; s++) {
        if ((sl_meta_ti_state)s == now) continue;
        set_ti(store, tis.ids[0], now, (sl_meta_ti_state)s, true);
        cr_assert_eq(ti_state(store, tis.ids[0]), (sl_meta_ti_state)s);
        now = (sl_meta_ti_state)s;
    }
    int64_t run = make_run(store, "etl", SL_META_RUN_BACKFILL, T0 + DAY_US, NULL);
    sl_meta_run_state run_now = SL_META_RUN_QUEUED;
    for (int s = 0; s < SL_META_RUN_STATE_COUNT; s++) {
        if ((sl_meta_run_state)s == run_now) continue;
        bool changed = false;
        cr_assert_eq(sl_metadata_run_set_state(store, run, run_now, (sl_meta_run_state)s, &changed, &err), SL_OK,
                     "%s", err.message);
        cr_assert(changed);
        run_now = (sl_meta_run_state)s;
    }
    sl_metadata_close(store);
}

typedef struct page {
    int64_t ids[32];
    int64_t starts[32];
    size_t n;
} page;

static int collect_run(void *context, const sl_meta_run *run)
{
    page *out = context;
    cr_assert_lt(out->n, 32);
    out->ids[out->n] = run->id;
    out->starts[out->n] = run->data_interval_start_us;
    out->n++;
    return 0;
}

static void check_paging(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    make_dag(store, "other");
    /* 20 daily scheduled runs created out of order, plus 5 manual runs that
     * share one start (the id breaks the tie), plus another dag's run. */
    for (int i = 0; i < 20; i++) make_run(store, "etl", SL_META_RUN_SCHEDULED, T0 + ((i * 7) % 20) * DAY_US, NULL);
    for (int i = 0; i < 5; i++) {
        char run_id[32];
        snprintf(run_id, sizeof run_id, "manual-%d", i);
        sl_meta_run_spec spec = { .dag_id = "etl", .run_id = run_id, .run_type = SL_META_RUN_MANUAL,
                                  .data_interval_start_us = T0 + 5 * DAY_US, .data_interval_end_us = T0 + 5 * DAY_US };
        int64_t id;
        bool created;
        cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    }
    make_run(store, "other", SL_META_RUN_SCHEDULED, T0, NULL);
    sl_meta_run_cursor cursor = { 0 };
    int64_t seen[32];
    size_t n_seen = 0, pages = 0;
    int64_t last_start = INT64_MAX, last_id = INT64_MAX;
    do {
        page p = { 0 };
        sl_meta_run_cursor next;
        cr_assert_eq(sl_metadata_run_list(store, "etl", &cursor, 10, collect_run, &p, &next, &err), SL_OK, "%s",
                     err.message);
        pages++;
        for (size_t i = 0; i < p.n; i++) {
            /* Newest first: by start, then by id, both descending. */
            cr_assert(p.starts[i] < last_start || (p.starts[i] == last_start && p.ids[i] < last_id),
                      "page %zu row %zu out of order", pages, i);
            last_start = p.starts[i];
            last_id = p.ids[i];
            for (size_t j = 0; j < n_seen; j++) cr_assert_neq(seen[j], p.ids[i], "run %lld on two pages",
                                                              (long long)p.ids[i]);
            seen[n_seen++] = p.ids[i];
        }
        cr_assert_eq(p.n, pages < 3 ? 10 : 5, "page %zu has %zu runs", pages, p.n);
        cursor = next;
    } while (cursor.is_set);
    cr_assert_eq(pages, 3);
    cr_assert_eq(n_seen, 25);
    page p = { 0 };
    sl_meta_run_cursor next;
    cr_assert_eq(sl_metadata_run_list(store, "etl", NULL, 1001, collect_run, &p, &next, &err), SL_EINVAL);
    cr_assert_eq(sl_metadata_run_list(store, "nobody", NULL, 10, collect_run, &p, &next, &err), SL_OK);
    cr_assert_eq(p.n, 0);
    cr_assert(!next.is_set);
    sl_metadata_close(store);
}

static void check_latest_interval_end(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    int64_t end = 0;
    bool found = true;
    cr_assert_eq(sl_metadata_run_latest_interval_end(store, "etl", &end, &found, &err), SL_OK, "%s", err.message);
    cr_assert(!found);
    make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, NULL);
    make_run(store, "etl", SL_META_RUN_BACKFILL, T0 + 3 * DAY_US, NULL);
    /* A manual run does not move the schedule. */
    make_run(store, "etl", SL_META_RUN_MANUAL, T0 + 10 * DAY_US, NULL);
    cr_assert_eq(sl_metadata_run_latest_interval_end(store, "etl", &end, &found, &err), SL_OK, "%s", err.message);
    cr_assert(found);
    cr_assert_eq(end, T0 + 4 * DAY_US);
    sl_metadata_close(store);
}

static void check_task_instances(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    int64_t run = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, NULL);
    const char *tasks[] = { "load", "extract", "transform" };
    size_t created = 0;
    cr_assert_eq(sl_metadata_ti_create(store, run, tasks, 3, 3, &created, &err), SL_OK, "%s", err.message);
    cr_assert_eq(created, 3);
    cr_assert_eq(sl_metadata_ti_create(store, run, tasks, 3, 3, &created, &err), SL_OK, "%s", err.message);
    cr_assert_eq(created, 0, "creating the same task instances again made %zu", created);
    ti_ids tis = list_tis(store, run);
    cr_assert_eq(tis.n, 3);
    cr_assert_str_eq(tis.tasks[0], "extract");
    cr_assert_str_eq(tis.tasks[1], "load");
    cr_assert_str_eq(tis.tasks[2], "transform");
    ti_copy ti = get_ti(store, tis.ids[0]);
    cr_assert_eq(ti.state, SL_META_TI_NONE);
    cr_assert_eq(ti.try_number, 1);
    cr_assert_eq(ti.max_tries, 3);
    cr_assert(!ti.has_server);
    cr_assert_str_eq(ti.run_id, "scheduled__2024-01-01T00:00:00+00:00");
    cr_assert_eq(ti.tail_len, 0);
    free(ti.tail);
    cr_assert_eq(sl_metadata_ti_create(store, 424242, tasks, 1, 1, &created, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "dag run 424242 is not in the store"), "%s", err.message);
    cr_assert_eq(sl_metadata_ti_create(store, run, tasks, 1, 0, &created, &err), SL_EINVAL);
    cr_assert_eq(sl_metadata_ti_get(store, 424242, copy_ti, &ti, &err), SL_ENOTFOUND);
    sl_metadata_close(store);
}

static void check_cas_transitions(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids tis;
    scheduled_tasks(store, "etl", T0, 1, 1, &tis);
    int64_t id = tis.ids[0];
    size_t n = 0;
    int64_t claimed[4];
    cr_assert_eq(sl_metadata_ti_claim(store, "server-a", claimed, 4, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    set_ti(store, id, SL_META_TI_QUEUED, SL_META_TI_RUNNING, true);
    /* Whoever expects it queued still is too late. */
    set_ti(store, id, SL_META_TI_QUEUED, SL_META_TI_RUNNING, false);
    ti_copy ti = get_ti(store, id);
    cr_assert_eq(ti.state, SL_META_TI_RUNNING);
    cr_assert_neq(ti.start_us, SL_META_NO_TIME);
    cr_assert_eq(ti.end_us, SL_META_NO_TIME);
    free(ti.tail);
    int status = 3;
    bool changed = false;
    cr_assert_eq(sl_metadata_ti_set_state(store, id, SL_META_TI_RUNNING, SL_META_TI_FAILED, &status, &changed, &err),
                 SL_OK, "%s", err.message);
    cr_assert(changed);
    ti = get_ti(store, id);
    cr_assert_eq(ti.state, SL_META_TI_FAILED);
    cr_assert(ti.has_exit_status);
    cr_assert_eq(ti.exit_status, 3);
    cr_assert_geq(ti.end_us, ti.start_us);
    cr_assert_eq(ti.duration_us, ti.end_us - ti.start_us);
    free(ti.tail);
    /* A finished try does not finish twice. */
    status = 0;
    cr_assert_eq(sl_metadata_ti_set_state(store, id, SL_META_TI_RUNNING, SL_META_TI_SUCCESS, &status, &changed, &err),
                 SL_OK);
    cr_assert(!changed);
    cr_assert_eq(raw_int("SELECT exit_status FROM task_instances"), 3);
    cr_assert_eq(sl_metadata_ti_set_state(store, id, (sl_meta_ti_state)-1, SL_META_TI_SUCCESS, NULL, &changed, &err),
                 SL_EINVAL);
    cr_assert(strstr(err.message, "not a task instance state"), "%s", err.message);
    sl_metadata_close(store);
}

static void check_claiming(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids later, earlier;
    scheduled_tasks(store, "etl", T0 + DAY_US, 2, 1, &later);
    scheduled_tasks(store, "etl", T0, 1, 1, &earlier);
    /* A task that is not scheduled is never claimed. */
    int64_t run = make_run(store, "etl", SL_META_RUN_MANUAL, T0, NULL);
    const char *idle[] = { "idle" };
    cr_assert_eq(sl_metadata_ti_create(store, run, idle, 1, 1, NULL, &err), SL_OK, "%s", err.message);
    int64_t ids[8];
    size_t n = 0;
    cr_assert_eq(sl_metadata_ti_claim(store, "server-a", ids, 2, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 2);
    /* The oldest run's task comes first. */
    cr_assert(ids[0] == earlier.ids[0] || ids[1] == earlier.ids[0], "the earlier run's task was not claimed first");
    for (size_t i = 0; i < n; i++) {
        ti_copy ti = get_ti(store, ids[i]);
        cr_assert_eq(ti.state, SL_META_TI_QUEUED);
        cr_assert_str_eq(ti.server_id, "server-a");
        cr_assert_neq(ti.queued_at_us, SL_META_NO_TIME);
        free(ti.tail);
    }
    cr_assert_eq(sl_metadata_ti_claim(store, "server-b", ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE server_id = 'server-b'"), 1);
    cr_assert_eq(sl_metadata_ti_claim(store, "server-b", ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE state = 'none' AND server_id IS NULL"), 1);
    cr_assert_eq(sl_metadata_ti_claim(store, "", ids, 8, &n, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "server id is empty"), "%s", err.message);
    sl_metadata_close(store);
}

/* N processes, each with its own store, claim one at a time until nothing
 * is left; every task instance goes to exactly one of them. */
#define CLAIMERS 4
#define CLAIMED_TASKS 40

static void check_concurrent_claims(void)
{
    sl_metadata *store = open_store();
    make_dag(store, "etl");
    ti_ids tis;
    scheduled_tasks(store, "etl", T0, CLAIMED_TASKS, 1, &tis);
    sl_metadata_close(store);
    int fds[CLAIMERS][2];
    pid_t pids[CLAIMERS];
    for (int c = 0; c < CLAIMERS; c++) {
        cr_assert_eq(pipe(fds[c]), 0);
        pids[c] = fork();
        cr_assert_geq(pids[c], 0);
        if (pids[c] == 0) {
            close(fds[c][0]);
            sl_metadata *own = NULL;
            sl_error err = { 0 };
            char server[32];
            snprintf(server, sizeof server, "claimer-%d", c);
            if (sl_metadata_open(fx.target, &own, &err)) _exit(2);
            for (;;) {
                int64_t id;
                size_t n = 0;
                if (sl_metadata_ti_claim(own, server, &id, 1, &n, &err)) _exit(3);
                if (n == 0) break;
                if (write(fds[c][1], &id, sizeof id) != sizeof id) _exit(4);
            }
            sl_metadata_close(own);
            _exit(0);
        }
        close(fds[c][1]);
    }
    int owner[CLAIMED_TASKS];
    for (int i = 0; i < CLAIMED_TASKS; i++) owner[i] = -1;
    int total = 0;
    for (int c = 0; c < CLAIMERS; c++) {
        int64_t id;
        while (read(fds[c][0], &id, sizeof id) == sizeof id) {
            int index = -1;
            for (size_t i = 0; i < tis.n; i++)
                if (tis.ids[i] == id) index = (int)i;
            cr_assert_geq(index, 0, "claimer %d got unknown id %lld", c, (long long)id);
            cr_assert_eq(owner[index], -1, "task instance %lld claimed by %d and %d", (long long)id, owner[index], c);
            owner[index] = c;
            total++;
        }
        close(fds[c][0]);
        int status = 0;
        cr_assert_eq(waitpid(pids[c], &status, 0), pids[c]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "claimer %d ended with status %d", c, status);
    }
    cr_assert_eq(total, CLAIMED_TASKS);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE state = 'queued' AND server_id LIKE 'claimer-%'"),
                 CLAIMED_TASKS);
}

static void check_stale_heartbeats(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    cr_assert_eq(sl_metadata_server_register(store, "server-a", "host-a", 100, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_server_register(store, "server-b", "host-b", 200, &err), SL_OK, "%s", err.message);
    ti_ids retried, final, other;
    scheduled_tasks(store, "etl", T0, 1, 2, &retried);        /* try 1 of 2: up_for_retry */
    scheduled_tasks(store, "etl", T0 + DAY_US, 1, 1, &final); /* try 1 of 1: failed */
    int64_t ids[8];
    size_t n = 0;
    cr_assert_eq(sl_metadata_ti_claim(store, "server-a", ids, 2, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 2);
    set_ti(store, retried.ids[0], SL_META_TI_QUEUED, SL_META_TI_RUNNING, true);
    scheduled_tasks(store, "etl", T0 + 2 * DAY_US, 1, 1, &other);
    cr_assert_eq(sl_metadata_ti_claim(store, "server-b", ids, 2, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    /* Both servers are fresh: nothing to reap. */
    cr_assert_eq(sl_metadata_reap_stale(store, 60 * 1000000LL, ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 0);
    /* server-a stopped heartbeating an hour ago; server-b beats on. */
    raw_exec("UPDATE servers SET heartbeat_us = heartbeat_us - 3600000000 WHERE server_id = 'server-a'");
    cr_assert_eq(sl_metadata_server_heartbeat(store, "server-b", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_reap_stale(store, 60 * 1000000LL, ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 2);
    cr_assert_eq(ti_state(store, retried.ids[0]), SL_META_TI_UP_FOR_RETRY);
    cr_assert_eq(ti_state(store, final.ids[0]), SL_META_TI_FAILED);
    cr_assert_eq(ti_state(store, other.ids[0]), SL_META_TI_QUEUED);
    ti_copy ti = get_ti(store, retried.ids[0]);
    cr_assert_neq(ti.end_us, SL_META_NO_TIME);
    free(ti.tail);
    /* Reaping again finds nothing: the moves were made once. */
    cr_assert_eq(sl_metadata_reap_stale(store, 60 * 1000000LL, ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 0);
    /* server-a wakes up and finishes its task: too late, it is not running any more. */
    set_ti(store, retried.ids[0], SL_META_TI_RUNNING, SL_META_TI_SUCCESS, false);

    /* The next try, once, however many servers ask. */
    int64_t next = 0, again = 0;
    bool created = false;
    cr_assert_eq(sl_metadata_ti_retry(store, retried.ids[0], &next, &created, &err), SL_OK, "%s", err.message);
    cr_assert(created);
    cr_assert_eq(sl_metadata_ti_retry(store, retried.ids[0], &again, &created, &err), SL_OK, "%s", err.message);
    cr_assert(!created);
    cr_assert_eq(again, next);
    ti = get_ti(store, next);
    cr_assert_eq(ti.try_number, 2);
    cr_assert_eq(ti.max_tries, 2);
    cr_assert_eq(ti.state, SL_META_TI_SCHEDULED);
    cr_assert(!ti.has_server);
    free(ti.tail);
    cr_assert_eq(sl_metadata_ti_claim(store, "server-b", ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(ids[0], next);
    cr_assert_eq(sl_metadata_ti_retry(store, final.ids[0], &again, &created, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "cannot be retried: it is failed, try 1 of 1"), "%s", err.message);
    /* A queued or running task whose server has no row at all is stale too. */
    raw_exec("UPDATE task_instances SET server_id = 'ghost' WHERE state = 'queued'");
    cr_assert_eq(sl_metadata_reap_stale(store, 60 * 1000000LL, ids, 8, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 2);
    cr_assert_eq(sl_metadata_server_heartbeat(store, "server-z", &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "server server-z is not registered"), "%s", err.message);
    sl_metadata_close(store);
}

typedef struct servers_seen {
    char text[256];
    int64_t heartbeat_a;
} servers_seen;

static int collect_server(void *context, const sl_meta_server *server)
{
    servers_seen *seen = context;
    size_t len = strlen(seen->text);
    snprintf(seen->text + len, sizeof seen->text - len, "%s@%s:%lld ", server->server_id, server->hostname,
             (long long)server->pid);
    if (strcmp(server->server_id, "a") == 0) seen->heartbeat_a = server->heartbeat_us;
    return 0;
}

static void check_servers(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_server_register(store, "b", "host-b", 2, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_server_register(store, "a", "host-a", 1, &err), SL_OK, "%s", err.message);
    raw_exec("UPDATE servers SET heartbeat_us = 5 WHERE server_id = 'a'");
    cr_assert_eq(sl_metadata_server_heartbeat(store, "a", &err), SL_OK, "%s", err.message);
    /* Registering again (a restarted server) renews the row. */
    cr_assert_eq(sl_metadata_server_register(store, "b", "host-b2", 3, &err), SL_OK, "%s", err.message);
    servers_seen seen = { "", 0 };
    cr_assert_eq(sl_metadata_server_list(store, collect_server, &seen, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(seen.text, "a@host-a:1 b@host-b2:3 ");
    cr_assert_gt(seen.heartbeat_a, T0, "the heartbeat was not renewed: %lld", (long long)seen.heartbeat_a);
    sl_metadata_close(store);
}

typedef struct tokens_seen {
    char text[256];
} tokens_seen;

static int collect_token(void *context, const sl_meta_token *token)
{
    tokens_seen *seen = context;
    size_t used = strlen(seen->text);
    snprintf(seen->text + used, sizeof seen->text - used, "%s:%s:%.4s ", token->name, token->role,
             token->token_hash);
    cr_assert_gt(token->created_at_us, T0);
    return SL_OK;
}

/* API tokens: created once by name, listed by name, deleted; the role is
 * checked before the store is asked, and by the table's CHECK after. */
static void check_tokens(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    bool created = false, found = false;
    cr_assert_eq(sl_metadata_token_create(store, "ops", "operator", "aaaa$bbbb", &created, &err), SL_OK, "%s",
                 err.message);
    cr_assert(created);
    cr_assert_eq(sl_metadata_token_create(store, "ops", "admin", "cccc$dddd", &created, &err), SL_OK, "%s",
                 err.message);
    cr_assert_not(created, "a second token of the same name was stored");
    cr_assert_eq(sl_metadata_token_create(store, "bot", "viewer", "eeee$ffff", &created, &err), SL_OK, "%s",
                 err.message);
    cr_assert_eq(sl_metadata_token_create(store, "x", "king", "eeee$ffff", &created, &err), SL_EINVAL);
    cr_assert_eq(sl_metadata_token_create(store, "x", "viewer", "nodollar", &created, &err), SL_EINVAL);
    cr_assert_eq(raw_int("SELECT count(*) FROM api_tokens"), 2);
    tokens_seen seen = { "" };
    cr_assert_eq(sl_metadata_token_list(store, collect_token, &seen, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(seen.text, "bot:viewer:eeee ops:operator:aaaa ");
    cr_assert_eq(sl_metadata_token_delete(store, "ops", &found, &err), SL_OK, "%s", err.message);
    cr_assert(found);
    cr_assert_eq(sl_metadata_token_delete(store, "ops", &found, &err), SL_OK, "%s", err.message);
    cr_assert_not(found);
    seen.text[0] = '\0';
    cr_assert_eq(sl_metadata_token_list(store, collect_token, &seen, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(seen.text, "bot:viewer:eeee ");
    sl_metadata_close(store);
}

/* 200 KiB of numbered lines; the stored tail is its last 64 KiB. */
static void check_log_tail(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids tis;
    scheduled_tasks(store, "etl", T0, 3, 1, &tis);
    size_t len = 200 * 1024;
    char *log = malloc(len);
    cr_assert(log);
    for (size_t i = 0; i < len; i++) log[i] = (char)('a' + (i * 7 + i / 26) % 26);
    cr_assert_eq(sl_metadata_ti_set_log(store, tis.ids[0], "/data/logs/t00.log", log, len, &err), SL_OK, "%s",
                 err.message);
    ti_copy ti = get_ti(store, tis.ids[0]);
    cr_assert_eq(ti.tail_len, SL_METADATA_LOG_TAIL_MAX);
    cr_assert(memcmp(ti.tail, log + len - SL_METADATA_LOG_TAIL_MAX, SL_METADATA_LOG_TAIL_MAX) == 0,
              "the tail is not the log's end");
    cr_assert_str_eq(ti.log_path, "/data/logs/t00.log");
    free(ti.tail);
    cr_assert_eq(raw_int(fx.kind == SQLITE ? "SELECT max(length(log_tail)) FROM task_instances"
                                           : "SELECT max(octet_length(log_tail)) FROM task_instances"),
                 SL_METADATA_LOG_TAIL_MAX);
    /* A short log is kept whole, bytes and all; NULL path keeps the path. */
    const char short_log[] = "line 1\n\0binary\xff\n";
    cr_assert_eq(sl_metadata_ti_set_log(store, tis.ids[0], NULL, short_log, sizeof short_log, &err), SL_OK, "%s",
                 err.message);
    ti = get_ti(store, tis.ids[0]);
    cr_assert_eq(ti.tail_len, sizeof short_log);
    cr_assert(memcmp(ti.tail, short_log, sizeof short_log) == 0);
    cr_assert_str_eq(ti.log_path, "/data/logs/t00.log");
    free(ti.tail);
    /* A UTF-8 character cut by the 64 KiB boundary is dropped whole. */
    memset(log, 'x', len);
    size_t cut = len - SL_METADATA_LOG_TAIL_MAX;
    memcpy(log + cut - 1, "\xe2\x82\xac", 3);   /* € straddles the boundary: 1 byte before, 2 after */
    cr_assert_eq(sl_metadata_ti_set_log(store, tis.ids[1], NULL, log, len, &err), SL_OK, "%s", err.message);
    ti = get_ti(store, tis.ids[1]);
    cr_assert_eq(ti.tail_len, SL_METADATA_LOG_TAIL_MAX - 2);
    cr_assert_eq(ti.tail[0], 'x');
    free(ti.tail);
    /* From a file, as a task's runner stores it. */
    char dir[64], path[128];
    test_make_temp_dir(dir, sizeof dir, "metadata-log");
    snprintf(path, sizeof path, "%s/t02.log", dir);
    for (size_t i = 0; i < len; i++) log[i] = (char)('0' + i % 10);
    test_write_file(path, "w", log, len);
    cr_assert_eq(sl_metadata_ti_set_log_file(store, tis.ids[2], path, &err), SL_OK, "%s", err.message);
    ti = get_ti(store, tis.ids[2]);
    cr_assert_eq(ti.tail_len, SL_METADATA_LOG_TAIL_MAX);
    cr_assert(memcmp(ti.tail, log + len - SL_METADATA_LOG_TAIL_MAX, SL_METADATA_LOG_TAIL_MAX) == 0);
    cr_assert_str_eq(ti.log_path, path);
    free(ti.tail);
    snprintf(path, sizeof path, "%s/missing.log", dir);
    cr_assert_eq(sl_metadata_ti_set_log_file(store, tis.ids[2], path, &err), SL_EIO);
    cr_assert(strstr(err.message, "missing.log") && strstr(err.message, "No such file"), "%s", err.message);
    test_remove_tree(dir);
    cr_assert_eq(sl_metadata_ti_set_log(store, 777777, NULL, "x", 1, &err), SL_ENOTFOUND);
    free(log);
    sl_metadata_close(store);
}

static void check_active_runs_and_claims_of_one_run(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids first, second;
    int64_t run_a = scheduled_tasks(store, "etl", T0, 2, 1, &first);
    int64_t run_b = scheduled_tasks(store, "etl", T0 + 3600 * INT64_C(1000000), 2, 1, &second);
    int64_t run_c = make_run(store, "etl", SL_META_RUN_MANUAL, T0 - 10, NULL);
    bool changed;
    cr_assert_eq(sl_metadata_run_set_state(store, run_b, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_run_set_state(store, run_c, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_run_set_state(store, run_c, SL_META_RUN_RUNNING, SL_META_RUN_SUCCESS, &changed, &err),
                 SL_OK, "%s", err.message);
    /* Queued and running ones, oldest first; an ended one is not active. */
    int n = 0;
    cr_assert_eq(sl_metadata_run_list_active(store, "etl", 10, count_run, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 2);
    n = 0;
    cr_assert_eq(sl_metadata_run_list_active(store, "etl", 1, count_run, &n, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(sl_metadata_run_list_active(store, "etl", 0, count_run, &n, &err), SL_EINVAL);
    /* A claim of one run takes only its task instances, though the other's are older. */
    int64_t ids[8];
    size_t got = 0;
    cr_assert_eq(sl_metadata_dag_set_paused(store, "etl", true, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_ti_claim_run(store, "tester", run_b, ids, 8, &got, &err), SL_OK, "%s", err.message);
    cr_assert_eq(got, 2, "a claim of one run ignores the pause");
    cr_assert_eq(sl_metadata_dag_set_paused(store, "etl", false, &err), SL_OK, "%s", err.message);
    for (size_t i = 0; i < got; i++) cr_assert(ids[i] == second.ids[0] || ids[i] == second.ids[1]);
    cr_assert_eq(sl_metadata_ti_claim_run(store, "tester", run_b, ids, 8, &got, &err), SL_OK, "%s", err.message);
    cr_assert_eq(got, 0);
    /* A paused DAG's task instances wait; unpaused, they are claimed. */
    cr_assert_eq(sl_metadata_dag_set_paused(store, "etl", true, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_ti_claim(store, "other", ids, 8, &got, &err), SL_OK, "%s", err.message);
    cr_assert_eq(got, 0);
    cr_assert_eq(sl_metadata_dag_set_paused(store, "etl", false, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_ti_claim(store, "other", ids, 8, &got, &err), SL_OK, "%s", err.message);
    cr_assert_eq(got, 2);
    (void)run_a;
    (void)first;
    sl_metadata_close(store);
}

/* A run found by its run id; another dag's run of the same id is not it. */
static void check_run_find(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    make_dag(store, "other");
    int64_t mine = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0, NULL);
    make_run(store, "other", SL_META_RUN_SCHEDULED, T0, NULL);
    run_copy run = { 0 };
    cr_assert_eq(sl_metadata_run_find(store, "etl", "scheduled__2024-01-01T00:00:00+00:00", copy_run, &run, &err),
                 SL_OK, "%s", err.message);
    cr_assert_eq(run.id, mine);
    cr_assert_str_eq(run.run_id, "scheduled__2024-01-01T00:00:00+00:00");
    cr_assert_eq(sl_metadata_run_find(store, "etl", "manual__nope", copy_run, &run, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "dag etl has no run manual__nope"), "%s", err.message);
    cr_assert_eq(sl_metadata_run_find(store, "nobody", "scheduled__2024-01-01T00:00:00+00:00", copy_run, &run,
                                      &err), SL_ENOTFOUND);
    cr_assert_eq(sl_metadata_run_find(store, "etl", "", copy_run, &run, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "run id is empty"), "%s", err.message);
    sl_metadata_close(store);
}

/* Pages of the runs in one state: the statement filters, so every page but
 * the last is full and holds only that state. */
static void check_state_paging(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    /* 30 daily runs: every third one failed, the others success. */
    for (int i = 0; i < 30; i++) {
        int64_t id = make_run(store, "etl", SL_META_RUN_SCHEDULED, T0 + i * DAY_US, NULL);
        bool changed = false;
        cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                     SL_OK, "%s", err.message);
        sl_meta_run_state end = i % 3 == 0 ? SL_META_RUN_FAILED : SL_META_RUN_SUCCESS;
        cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_RUNNING, end, &changed, &err), SL_OK, "%s",
                     err.message);
    }
    sl_meta_run_cursor cursor = { 0 };
    size_t pages = 0, total = 0;
    int64_t last_start = INT64_MAX;
    do {
        page p = { 0 };
        sl_meta_run_cursor next;
        cr_assert_eq(sl_metadata_run_list_state(store, "etl", SL_META_RUN_FAILED, &cursor, 4, collect_run, &p,
                                                &next, &err), SL_OK, "%s", err.message);
        pages++;
        cr_assert_eq(p.n, pages < 3 ? 4 : 2, "page %zu has %zu runs", pages, p.n);
        for (size_t i = 0; i < p.n; i++) {
            cr_assert_lt(p.starts[i], last_start);
            last_start = p.starts[i];
            cr_assert_eq((p.starts[i] - T0) / DAY_US % 3, 0, "a run not failed on page %zu", pages);
        }
        total += p.n;
        cursor = next;
    } while (cursor.is_set);
    cr_assert_eq(total, 10);
    page p = { 0 };
    sl_meta_run_cursor next;
    cr_assert_eq(sl_metadata_run_list_state(store, "etl", SL_META_RUN_RUNNING, NULL, 10, collect_run, &p, &next,
                                            &err), SL_OK, "%s", err.message);
    cr_assert_eq(p.n, 0);
    cr_assert(!next.is_set);
    cr_assert_eq(sl_metadata_run_list_state(store, "etl", SL_META_RUN_SUCCESS, NULL, 1000, collect_run, &p, &next,
                                            &err), SL_OK, "%s", err.message);
    cr_assert_eq(p.n, 20);
    cr_assert_eq(sl_metadata_run_list_state(store, "etl", (sl_meta_run_state)9, NULL, 10, collect_run, &p, &next,
                                            &err), SL_EINVAL);
    sl_metadata_close(store);
}

/* Airflow's clear: a new try in state none for the latest finished try of
 * each task asked for, the run queued again; others are left alone. */
static void check_clear(void)
{
    sl_metadata *store = open_store();
    sl_error err = { 0 };
    make_dag(store, "etl");
    ti_ids tis;
    /* t00 failed after 2 of 2 tries, t01 upstream_failed, t02 success, t03 running, t04 skipped. */
    int64_t run = scheduled_tasks(store, "etl", T0, 5, 2, &tis);
    bool changed = false;
    cr_assert_eq(sl_metadata_run_set_state(store, run, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK);
    set_ti(store, tis.ids[0], SL_META_TI_SCHEDULED, SL_META_TI_UP_FOR_RETRY, true);
    int64_t second = 0;
    bool created = false;
    cr_assert_eq(sl_metadata_ti_retry(store, tis.ids[0], &second, &created, &err), SL_OK, "%s", err.message);
    set_ti(store, second, SL_META_TI_SCHEDULED, SL_META_TI_FAILED, true);
    set_ti(store, tis.ids[1], SL_META_TI_SCHEDULED, SL_META_TI_UPSTREAM_FAILED, true);
    set_ti(store, tis.ids[2], SL_META_TI_SCHEDULED, SL_META_TI_SUCCESS, true);
    set_ti(store, tis.ids[3], SL_META_TI_SCHEDULED, SL_META_TI_RUNNING, true);
    set_ti(store, tis.ids[4], SL_META_TI_SCHEDULED, SL_META_TI_SKIPPED, true);
    cr_assert_eq(sl_metadata_run_set_state(store, run, SL_META_RUN_RUNNING, SL_META_RUN_FAILED, &changed, &err),
                 SL_OK);
    sl_meta_clear_task all[] = { { "t00", 1 }, { "t01", 0 }, { "t02", 0 }, { "t03", 0 }, { "t04", 0 }, { "t09", 0 } };
    bool cleared[6];
    size_t n_cleared = 0;
    cr_assert_eq(sl_metadata_ti_clear(store, run, all, 6, true, cleared, &n_cleared, &err), SL_OK, "%s",
                 err.message);
    cr_assert_eq(n_cleared, 3);
    bool want[6] = { true, true, false, false, true, false };
    for (int i = 0; i < 6; i++) cr_assert_eq(cleared[i], want[i], "task %s cleared %d", all[i].task_id, cleared[i]);
    /* t00's try 3 may be retried once more: max_tries 3 + 1. */
    cr_assert_eq(raw_int("SELECT max_tries FROM task_instances WHERE task_id = 't00' AND try_number = 3"), 4);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE task_id = 't00' AND try_number = 3 "
                         "AND state = 'none' AND server_id IS NULL AND start_us IS NULL"), 1);
    cr_assert_eq(raw_int("SELECT max_tries FROM task_instances WHERE task_id = 't01' AND try_number = 2"), 2);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE task_id IN ('t02', 't03')"), 2);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances"), 9);
    run_copy copy = { 0 };
    cr_assert_eq(sl_metadata_run_get(store, run, copy_run, &copy, &err), SL_OK);
    cr_assert_eq(copy.state, SL_META_RUN_QUEUED);
    cr_assert_eq(copy.start_us, SL_META_NO_TIME);
    cr_assert_eq(copy.end_us, SL_META_NO_TIME);
    /* The new tries are not finished: clearing again changes nothing, the run included. */
    cr_assert_eq(sl_metadata_run_set_state(store, run, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK);
    cr_assert_eq(sl_metadata_ti_clear(store, run, all, 6, true, NULL, &n_cleared, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n_cleared, 0);
    cr_assert_eq(sl_metadata_run_get(store, run, copy_run, &copy, &err), SL_OK);
    cr_assert_eq(copy.state, SL_META_RUN_RUNNING);
    /* only_failed false takes a success too. */
    cr_assert_eq(sl_metadata_ti_clear(store, run, &all[2], 1, true, cleared, &n_cleared, &err), SL_OK);
    cr_assert_eq(n_cleared, 0);
    cr_assert_eq(sl_metadata_ti_clear(store, run, &all[2], 1, false, cleared, &n_cleared, &err), SL_OK, "%s",
                 err.message);
    cr_assert_eq(n_cleared, 1);
    cr_assert(cleared[0]);
    cr_assert_eq(raw_int("SELECT count(*) FROM task_instances WHERE task_id = 't02' AND try_number = 2 "
                         "AND state = 'none'"), 1);
    cr_assert_eq(sl_metadata_run_get(store, run, copy_run, &copy, &err), SL_OK);
    cr_assert_eq(copy.state, SL_META_RUN_QUEUED);
    /* Bad arguments. */
    sl_meta_clear_task bad = { "t00", -1 };
    cr_assert_eq(sl_metadata_ti_clear(store, run, &bad, 1, true, NULL, NULL, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "-1 retries"), "%s", err.message);
    cr_assert_eq(sl_metadata_ti_clear(store, 0, all, 1, true, NULL, NULL, &err), SL_EINVAL);
    sl_metadata_close(store);
}

/* ---- both backends ---------------------------------------------------------------- */

Test(metadata_sqlite, fresh_store) { begin(SQLITE); check_fresh_store(); }
Test(metadata_sqlite, migrates_from_older) { begin(SQLITE); check_migrates_from_older(); }
Test(metadata_sqlite, refuses_newer) { begin(SQLITE); check_refuses_newer(); }
Test(metadata_sqlite, dags) { begin(SQLITE); check_dags(); }
Test(metadata_sqlite, idempotent_runs) { begin(SQLITE); check_idempotent_runs(); }
Test(metadata_sqlite, run_transitions) { begin(SQLITE); check_run_transitions(); }
Test(metadata_sqlite, every_state_stored) { begin(SQLITE); check_every_state_stored(); }
Test(metadata_sqlite, paging) { begin(SQLITE); check_paging(); }
Test(metadata_sqlite, latest_interval_end) { begin(SQLITE); check_latest_interval_end(); }
Test(metadata_sqlite, task_instances) { begin(SQLITE); check_task_instances(); }
Test(metadata_sqlite, cas_transitions) { begin(SQLITE); check_cas_transitions(); }
Test(metadata_sqlite, claiming) { begin(SQLITE); check_claiming(); }
Test(metadata_sqlite, concurrent_claims) { begin(SQLITE); check_concurrent_claims(); }
Test(metadata_sqlite, stale_heartbeats) { begin(SQLITE); check_stale_heartbeats(); }
Test(metadata_sqlite, servers) { begin(SQLITE); check_servers(); }
Test(metadata_sqlite, log_tail) { begin(SQLITE); check_log_tail(); }
Test(metadata_sqlite, active_runs_and_claims_of_one_run) { begin(SQLITE); check_active_runs_and_claims_of_one_run(); }
Test(metadata_sqlite, run_find) { begin(SQLITE); check_run_find(); }
Test(metadata_sqlite, state_paging) { begin(SQLITE); check_state_paging(); }
Test(metadata_sqlite, clear) { begin(SQLITE); check_clear(); }
Test(metadata_sqlite, tokens) { begin(SQLITE); check_tokens(); }

Test(metadata_postgres, fresh_store) { begin(POSTGRES); check_fresh_store(); }
Test(metadata_postgres, migrates_from_older) { begin(POSTGRES); check_migrates_from_older(); }
Test(metadata_postgres, refuses_newer) { begin(POSTGRES); check_refuses_newer(); }
Test(metadata_postgres, dags) { begin(POSTGRES); check_dags(); }
Test(metadata_postgres, idempotent_runs) { begin(POSTGRES); check_idempotent_runs(); }
Test(metadata_postgres, run_transitions) { begin(POSTGRES); check_run_transitions(); }
Test(metadata_postgres, every_state_stored) { begin(POSTGRES); check_every_state_stored(); }
Test(metadata_postgres, paging) { begin(POSTGRES); check_paging(); }
Test(metadata_postgres, latest_interval_end) { begin(POSTGRES); check_latest_interval_end(); }
Test(metadata_postgres, task_instances) { begin(POSTGRES); check_task_instances(); }
Test(metadata_postgres, cas_transitions) { begin(POSTGRES); check_cas_transitions(); }
Test(metadata_postgres, claiming) { begin(POSTGRES); check_claiming(); }
Test(metadata_postgres, concurrent_claims) { begin(POSTGRES); check_concurrent_claims(); }
Test(metadata_postgres, stale_heartbeats) { begin(POSTGRES); check_stale_heartbeats(); }
Test(metadata_postgres, servers) { begin(POSTGRES); check_servers(); }
Test(metadata_postgres, log_tail) { begin(POSTGRES); check_log_tail(); }
Test(metadata_postgres, active_runs_and_claims_of_one_run) { begin(POSTGRES); check_active_runs_and_claims_of_one_run(); }
Test(metadata_postgres, run_find) { begin(POSTGRES); check_run_find(); }
Test(metadata_postgres, state_paging) { begin(POSTGRES); check_state_paging(); }
Test(metadata_postgres, clear) { begin(POSTGRES); check_clear(); }
Test(metadata_postgres, tokens) { begin(POSTGRES); check_tokens(); }

/* ---- PostgreSQL's connection errors ------------------------------------------------ */

/* Refused credentials and a missing database are permanent, and the
 * message never shows the password. */
Test(metadata_postgres, refused_logins_are_permanent)
{
    begin(POSTGRES);
    char url[1200];
    const char *authority = strstr(fx.target, "://") + 3;
    const char *at = strchr(authority, '@');
    cr_assert(at, "the test URL %s has no user info", fx.target);
    const char *colon = memchr(authority, ':', (size_t)(at - authority));
    int user_len = (int)((colon ? colon : at) - authority);
    snprintf(url, sizeof url, "postgres://%.*s:Wr0ng-s3cret%s", user_len, authority, at);
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    int rc = sl_metadata_open(url, &store, &err);
    cr_assert_eq(rc, SL_ECONFIG, "%s: %s", sl_error_name(rc), err.message);
    cr_assert(!sl_error_is_transient(&err), "%s", err.message);
    cr_assert(strstr(err.message, "password authentication failed"), "%s", err.message);
    cr_assert(strstr(err.message, ":***@"), "%s", err.message);
    cr_assert(!strstr(err.message, "Wr0ng-s3cret"), "the password is in: %s", err.message);

    url_with_database(fx.base_url, "no_such_database", url, sizeof url);
    rc = sl_metadata_open(url, &store, &err);
    cr_assert_eq(rc, SL_ECONFIG, "%s: %s", sl_error_name(rc), err.message);
    cr_assert(!sl_error_is_transient(&err), "%s", err.message);
    cr_assert(strstr(err.message, "no_such_database"), "%s", err.message);
}

/* A port nobody listens on: a transient error naming host:port. */
Test(metadata, unreachable_postgres_is_transient)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t addr_len = sizeof addr;
    cr_assert_eq(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&addr, &addr_len), 0);
    int port = ntohs(addr.sin_port);
    close(s);  /* bound, never listened: connections are refused */
    char url[128], want[64];
    snprintf(url, sizeof url, "postgres://sluice:Pa55word@127.0.0.1:%d/sluice", port);
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    int rc = sl_metadata_open(url, &store, &err);
    cr_assert_eq(rc, SL_EIO, "%s: %s", sl_error_name(rc), err.message);
    cr_assert(sl_error_is_transient(&err), "%s", err.message);
    cr_assert(strstr(err.message, want), "%s", err.message);
    cr_assert(strstr(err.message, "cannot reach the server"), "%s", err.message);
    cr_assert(!strstr(err.message, "Pa55word"), "the password is in: %s", err.message);
    cr_assert_null(store);
}

/* ---- what needs no store ------------------------------------------------------------- */

Test(metadata, url_redaction)
{
    const char *cases[][2] = {
        { "postgres://user:secret@host:5432/db", "postgres://user:***@host:5432/db" },
        { "postgresql://u:p%40ss@h/db?sslmode=disable", "postgresql://u:***@h/db?sslmode=disable" },
        { "postgres://user@host/db", "postgres://user@host/db" },
        { "postgres://host/db?user=u&password=hunter2&sslmode=require",
          "postgres://host/db?user=u&password=***&sslmode=require" },
        { "postgres://a:b@host/db?password=c", "postgres://a:***@host/db?password=***" },
        { "postgres://host/db", "postgres://host/db" },
        /* An '@' inside the password: the user info ends at the last one. */
        { "postgres://u:p@ss@host/db", "postgres://u:***@host/db" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *redacted = sl_pg_url_redact(cases[i][0]);
        cr_assert_str_eq(redacted, cases[i][1], "%s", cases[i][0]);
        free(redacted);
    }
    char password[64];
    sl_pg_url_password("postgres://u:p@ss@host/db", password, sizeof password);
    cr_assert_str_eq(password, "p@ss");
    sl_pg_url_password("postgres://host/db?password=x1&a=b", password, sizeof password);
    cr_assert_str_eq(password, "x1");
    sl_pg_url_password("postgres://host/db", password, sizeof password);
    cr_assert_str_eq(password, "");
    char text[32] = "say ab and ab again";
    sl_pg_scrub(text, sizeof text, "ab");
    cr_assert_str_eq(text, "say *** and *** again");
    char tight[12] = "xx ab ab ab";
    sl_pg_scrub(tight, sizeof tight, "ab");
    cr_assert_str_eq(tight, "xx *** *** ");
}

Test(metadata, bad_targets)
{
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_open("mysql://u@h/db", &store, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "unknown scheme 'mysql://'"), "%s", err.message);
    cr_assert_eq(sl_metadata_open("", &store, &err), SL_ECONFIG);
    cr_assert_eq(sl_metadata_open("/proc/no/such/dir/metadata.db", &store, &err), SL_EIO);
    cr_assert(strstr(err.message, "/proc/no/such/dir"), "%s", err.message);
    cr_assert_eq(sl_metadata_open_version("x.db", 99, &store, &err), SL_EINVAL);
    cr_assert_null(store);
}

Test(metadata, state_names)
{
    sl_error err = { 0 };
    for (int s = 0; s < SL_META_TI_STATE_COUNT; s++) {
        sl_meta_ti_state back;
        cr_assert_eq(sl_meta_ti_state_parse(sl_meta_ti_state_name((sl_meta_ti_state)s), &back, &err), SL_OK);
        cr_assert_eq((int)back, s);
    }
    cr_assert_str_eq(sl_meta_ti_state_name(SL_META_TI_UP_FOR_RETRY), "up_for_retry");
    cr_assert_str_eq(sl_meta_run_type_name(SL_META_RUN_BACKFILL), "backfill");
    cr_assert_null(sl_meta_ti_state_name(SL_META_TI_STATE_COUNT));
    sl_meta_run_state run_state;
    cr_assert_eq(sl_meta_run_state_parse("done", &run_state, &err), SL_EINVAL);
    cr_assert_str_eq(err.message, "unknown dag run state 'done' (one of queued, running, success, failed)");
    cr_assert(sl_meta_ti_state_is_finished(SL_META_TI_SKIPPED));
    cr_assert(!sl_meta_ti_state_is_finished(SL_META_TI_RUNNING));
}
