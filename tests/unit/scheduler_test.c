/* scheduler_test.c — the scheduler's loop against a real SQLite store in a
 * temporary data dir, with command tasks: runs created on schedule and in
 * catchup order, trigger rules, retries after their delay, task and
 * DAG-run timeouts, max_active_runs, pause, a run tested alone, and tries
 * cancelled at stop. What happened is read back from the store's file with
 * SQLite directly, and every wait is on a condition with a generous
 * deadline. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "log/log.h"
#include "metadata/metadata.h"
#include "runtime/plan.h"
#include "scheduler/scheduler.h"
#include "scheduler/timetable.h"
#include "test_util.h"

#define DEADLINE_MS 60000

static char dir[256];
static char db_path[400];
static sl_plan *plan;
static sl_log *log_;
static sl_scheduler *scheduler;

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "scheduler");
    snprintf(db_path, sizeof db_path, "%s/data/metadata.db", dir);
}

static void teardown(void)
{
    sl_scheduler_stop(scheduler);
    scheduler = NULL;
    sl_log_close(log_);
    log_ = NULL;
    sl_plan_free(plan);
    plan = NULL;
    test_remove_tree(dir);
}

TestSuite(scheduler, .init = setup, .fini = teardown, .timeout = 180);

/* Writes the file (with data_dir set to the test's) and loads it. */
static void load(const char *dags)
{
    char path[300], text[8192];
    snprintf(path, sizeof path, "%s/dags.yaml", dir);
    snprintf(text, sizeof text, "data_dir: %s/data\ndags:\n%s", dir, dags);
    test_write_text(path, text);
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    cr_assert_eq(sl_log_open(data_dir, &log_, &err), SL_OK, "%s", err.message);
}

static void start(int64_t only_run)
{
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    sl_scheduler_options options = { .log = log_, .data_dir = data_dir, .only_run = only_run };
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_scheduler_start(plan, &options, &scheduler, &err), SL_OK, "%s", err.message);
}

/* The first column of the first row of sql on the store, as an integer (-1 when no row). */
static long long query_int(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    long long value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

/* The first column of the first row as text into out ("" when no row). */
static void query_text(const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    const unsigned char *text = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
    snprintf(out, size, "%s", text ? (const char *)text : "");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

/* Waits until sql gives at least want. */
static void wait_for(const char *sql, long long want)
{
    int64_t deadline = sl_clock_monotonic_ms() + DEADLINE_MS;
    long long got = -1;
    while (sl_clock_monotonic_ms() < deadline) {
        if (access(db_path, F_OK) == 0 && (got = query_int(sql)) >= want) return;
        sl_sleep_ms(50);
    }
    cr_assert_fail("waited %d s for '%s' to reach %lld; it is %lld", DEADLINE_MS / 1000, sql, want, got);
}

static long long task_count(const char *task, const char *state)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM task_instances WHERE task_id = '%s' AND state = '%s'", task, state);
    return query_int(sql);
}

Test(scheduler, runs_a_dag_on_its_schedule_with_its_trigger_rules)
{
    load("  tick:\n"
         "    schedule: { every: 1s }\n"
         "    max_active_runs: 1\n"
         "    tasks:\n"
         "      a: { command: [\"true\"] }\n"
         "      b: { command: [\"false\"], depends_on: [a] }\n"
         "      all_ok: { command: [\"true\"], depends_on: [b] }\n"
         "      after_failure: { command: [\"true\"], depends_on: [b], trigger_rule: one_failed }\n"
         "      anyway: { command: [\"true\"], depends_on: [all_ok, after_failure], trigger_rule: all_done }\n"
         "      clean: { command: [\"true\"], depends_on: [after_failure], trigger_rule: none_failed }\n");
    start(0);
    wait_for("SELECT count(*) FROM dag_runs WHERE state = 'success'", 2);
    long long runs = query_int("SELECT count(*) FROM dag_runs WHERE state IN ('failed', 'success')");
    /* Every ended run has the same story; its leaves succeeded, so it did, though b failed. */
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE state = 'failed'"), 0);
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM task_instances ti JOIN dag_runs r ON r.id = ti.run "
             "WHERE r.state = 'success' AND ti.task_id = 'a' AND ti.state = 'success'");
    cr_assert_geq(query_int(sql), runs);
    cr_assert_geq(task_count("b", "failed"), runs);
    cr_assert_geq(task_count("all_ok", "upstream_failed"), runs);
    cr_assert_geq(task_count("after_failure", "success"), runs);
    cr_assert_geq(task_count("anyway", "success"), runs);
    cr_assert_geq(task_count("clean", "success"), runs);
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE run_type <> 'scheduled'"), 0);
    /* Data intervals follow each other, one second long, their runs one at a time. */
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE data_interval_end_us - data_interval_start_us "
                           "<> 1000000"), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs a JOIN dag_runs b ON a.id < b.id AND b.start_us < a.end_us"),
                 0);
    /* The exit status and the log of each try are kept. */
    cr_assert_eq(query_int("SELECT exit_status FROM task_instances WHERE task_id = 'b' AND state = 'failed'"), 1);
    char log[600];
    query_text("SELECT log_path FROM task_instances WHERE task_id = 'b' AND state = 'failed'", log, sizeof log);
    cr_assert(strstr(log, "/logs/dag_id=tick/run_id=scheduled__") && strstr(log, "/task_id=b/attempt=1.log"),
              "%s", log);
    char *text = test_read_file(log, NULL);
    cr_assert(strstr(text, "try 1 of 1") && strstr(text, "failed after") && strstr(text, "exit 1"), "%s", text);
    free(text);
    query_text("SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'b' AND state = 'failed'", log,
               sizeof log);
    cr_assert(strstr(log, "exit 1"), "%s", log);
}

Test(scheduler, retries_a_failed_try_after_its_delay)
{
    char flag[300], dags[2000];
    snprintf(flag, sizeof flag, "%s/flag", dir);
    snprintf(dags, sizeof dags,
             "  again:\n"
             "    tasks:\n"
             "      flaky: { shell: 'test -f %s || { touch %s; exit 7; }', retries: 2, retry_delay: 1s }\n"
             "      after: { command: [\"true\"], depends_on: [flaky] }\n",
             flag, flag);
    load(dags);
    start(0);
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_open(plan->metadata, &store, &err), SL_OK, "%s", err.message);
    sl_meta_run_spec spec = { .dag_id = "again", .run_type = SL_META_RUN_MANUAL, .run_id = "manual_1",
                              .data_interval_start_us = 0, .data_interval_end_us = 0 };
    int64_t id;
    bool created;
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    sl_metadata_close(store);
    sl_scheduler_wake(scheduler);
    wait_for("SELECT count(*) FROM dag_runs WHERE state = 'success'", 1);
    cr_assert_eq(query_int("SELECT count(*) FROM task_instances WHERE task_id = 'flaky'"), 2);
    cr_assert_eq(query_int("SELECT exit_status FROM task_instances WHERE task_id = 'flaky' AND try_number = 1"), 7);
    char state[40];
    query_text("SELECT state FROM task_instances WHERE task_id = 'flaky' AND try_number = 1", state, sizeof state);
    cr_assert_str_eq(state, "up_for_retry");
    query_text("SELECT state FROM task_instances WHERE task_id = 'flaky' AND try_number = 2", state, sizeof state);
    cr_assert_str_eq(state, "success");
    /* The second try waited for the delay after the first ended. */
    cr_assert_geq(query_int("SELECT b.start_us - a.end_us FROM task_instances a JOIN task_instances b ON "
                            "a.task_id = b.task_id AND b.try_number = 2 WHERE a.task_id = 'flaky' AND a.try_number = 1"),
                  1000000);
    cr_assert_eq(task_count("after", "success"), 1);
}

Test(scheduler, fails_a_try_past_its_timeout_and_a_run_past_dagrun_timeout)
{
    load("  slow:\n"
         "    tasks:\n"
         "      sleepy: { command: [sleep, \"60\"], timeout: 1s }\n"
         "  whole:\n"
         "    dagrun_timeout: 1s\n"
         "    tasks:\n"
         "      long: { command: [sleep, \"60\"], retries: 3 }\n"
         "      never: { command: [\"true\"], depends_on: [long] }\n");
    start(0);
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_open(plan->metadata, &store, &err), SL_OK, "%s", err.message);
    const char *dag_ids[] = { "slow", "whole" };
    for (int i = 0; i < 2; i++) {
        sl_meta_run_spec spec = { .dag_id = dag_ids[i], .run_type = SL_META_RUN_MANUAL, .run_id = "m" };
        int64_t id;
        bool created;
        cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    }
    sl_metadata_close(store);
    sl_scheduler_wake(scheduler);
    wait_for("SELECT count(*) FROM dag_runs WHERE state = 'failed'", 2);
    wait_for("SELECT count(*) FROM task_instances WHERE task_id = 'long' AND state = 'failed'", 1);
    cr_assert_eq(task_count("sleepy", "failed"), 1);
    char log[600];
    query_text("SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'sleepy'", log, sizeof log);
    cr_assert(strstr(log, "timed out"), "%s", log);
    /* The run's timeout is final: no retry although three were allowed; what had not started is skipped. */
    cr_assert_eq(query_int("SELECT count(*) FROM task_instances WHERE task_id = 'long'"), 1);
    cr_assert_eq(task_count("never", "skipped"), 1);
    query_text("SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'long'", log, sizeof log);
    cr_assert(strstr(log, "dagrun_timeout"), "%s", log);
}

Test(scheduler, catches_up_missed_intervals_in_order_and_leaves_paused_dags_alone)
{
    char dags[2000];
    /* Five hourly intervals have ended since start_date. */
    int64_t hour = 3600 * INT64_C(1000000);
    int64_t start_us = (sl_clock_wall_us() / hour - 5) * hour;
    char start_text[64];
    time_t seconds = (time_t)(start_us / 1000000);
    struct tm fields;
    gmtime_r(&seconds, &fields);
    strftime(start_text, sizeof start_text, "%Y-%m-%dT%H:%M:%SZ", &fields);
    snprintf(dags, sizeof dags,
             "  hourly:\n"
             "    schedule: '0 * * * *'\n"
             "    start_date: %s\n"
             "    catchup: true\n"
             "    tasks: { t: { command: [\"true\"] } }\n"
             "  resting:\n"
             "    schedule: { every: 1s }\n"
             "    paused: true\n"
             "    tasks: { t: { command: [\"true\"] } }\n",
             start_text);
    load(dags);
    start(0);
    wait_for("SELECT count(*) FROM dag_runs WHERE dag_id = 'hourly' AND state = 'success'", 5);
    sl_sleep_ms(1500);
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE dag_id = 'hourly'"), 5);
    cr_assert_eq(query_int("SELECT min(data_interval_start_us) FROM dag_runs WHERE dag_id = 'hourly'"), start_us);
    cr_assert_eq(query_int("SELECT max(data_interval_end_us) FROM dag_runs WHERE dag_id = 'hourly'"),
                 start_us + 5 * hour);
    /* Created in the order of their intervals. */
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs a JOIN dag_runs b ON a.dag_id = b.dag_id AND a.id < b.id "
                           "AND a.data_interval_start_us > b.data_interval_start_us"), 0);
    cr_assert_eq(query_int("SELECT is_paused FROM dags WHERE dag_id = 'resting'"), 1);
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE dag_id = 'resting'"), 0);
}

Test(scheduler, tests_one_run_alone_and_cancels_tries_when_stopped)
{
    load("  one:\n"
         "    schedule: { every: 1s }\n"
         "    tasks:\n"
         "      first: { command: [\"true\"] }\n"
         "      second: { shell: 'exit 0', depends_on: [first] }\n"
         "  stuck:\n"
         "    tasks: { forever: { command: [sleep, \"60\"], retries: 1 } }\n");
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_open(plan->metadata, &store, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_dag_upsert(store, "one", "x", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_dag_upsert(store, "stuck", "x", &err), SL_OK, "%s", err.message);
    sl_meta_run_spec spec = { .dag_id = "one", .run_type = SL_META_RUN_MANUAL, .run_id = "test_run" };
    int64_t id, stuck_id;
    bool created;
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    spec.dag_id = "stuck";
    cr_assert_eq(sl_metadata_run_create(store, &spec, &stuck_id, &created, &err), SL_OK, "%s", err.message);
    sl_metadata_close(store);
    start(id);
    sl_meta_run_state state;
    cr_assert_eq(sl_scheduler_wait_run(scheduler, id, &state, &err), SL_OK, "%s", err.message);
    cr_assert_eq(state, SL_META_RUN_SUCCESS);
    /* Nothing else ran: no scheduled run, and the other DAG's run still waits. */
    cr_assert_eq(query_int("SELECT count(*) FROM dag_runs WHERE run_type = 'scheduled'"), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM task_instances WHERE task_id = 'forever'"), 0);
    sl_scheduler_stop(scheduler);
    scheduler = NULL;

    /* A try running when the scheduler stops is cancelled and recorded. */
    start(0);
    wait_for("SELECT count(*) FROM task_instances WHERE task_id = 'forever' AND state = 'running'", 1);
    int64_t began = sl_clock_monotonic_ms();
    sl_scheduler_stop(scheduler);
    scheduler = NULL;
    cr_assert_lt(sl_clock_monotonic_ms() - began, 50000, "stopping waited for the sleep");
    char text[600];
    query_text("SELECT state FROM task_instances WHERE task_id = 'forever'", text, sizeof text);
    cr_assert_str_eq(text, "up_for_retry");
    query_text("SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'forever'", text, sizeof text);
    cr_assert(strstr(text, "the server stopped"), "%s", text);
}

Test(scheduler, waits_longer_before_each_retry_with_exponential_backoff)
{
    load("  backoff:\n"
         "    tasks:\n"
         "      flaky: { shell: 'test \"$SLUICE_TRY_NUMBER\" -ge 3 || exit 5', retries: 3, retry_delay: 1s,\n"
         "               retry_exponential_backoff: true, max_retry_delay: 1h }\n");
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_open(plan->metadata, &store, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_dag_upsert(store, "backoff", "x", &err), SL_OK, "%s", err.message);
    sl_meta_run_spec spec = { .dag_id = "backoff", .run_type = SL_META_RUN_MANUAL, .run_id = "m" };
    int64_t id;
    bool created;
    cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
    sl_metadata_close(store);
    start(0);
    wait_for("SELECT count(*) FROM dag_runs WHERE state = 'success'", 1);
    cr_assert_eq(query_int("SELECT count(*) FROM task_instances"), 3);
    cr_assert_eq(query_int("SELECT count(*) FROM task_instances WHERE state = 'up_for_retry' AND exit_status = 5"), 2);
    /* The delay before try 2 is retry_delay, before try 3 twice that. */
    long long first = query_int("SELECT b.start_us - a.end_us FROM task_instances a JOIN task_instances b ON "
                                "b.try_number = 2 WHERE a.try_number = 1");
    long long second = query_int("SELECT b.start_us - a.end_us FROM task_instances a JOIN task_instances b ON "
                                 "b.try_number = 3 WHERE a.try_number = 2");
    cr_assert_geq(first, 1000000, "%lld µs before try 2", first);
    cr_assert_geq(second, 2000000, "%lld µs before try 3", second);
}
