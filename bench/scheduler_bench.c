/* scheduler_bench.c — what the scheduler costs per task, beside the
 * ceiling measured in the same run: the same programs started and waited
 * for by a hand-written loop (posix_spawn + waitpid), with nothing else.
 *
 *   chain  N command tasks `true`, each depending on the one before: every
 *          task waits for its upstream's end, so the run's time is N times
 *          (process + scheduling); the loop runs the N processes one after
 *          the other.
 *   wide   N independent `true` tasks: up to SL_SCHEDULER_MAX_RUNNING at
 *          once; the loop runs them 16 at a time as well.
 * Also the dispatch latency from the store itself: a task's start minus its
 * upstream's end, median and 99th percentile (Airflow's scheduler finds a
 * ready task on its next poll of the database, every few seconds by
 * default; here an ending try wakes the loop); the chain's N commands run
 * by a shell loop (`sh -c 'while ...; do /bin/true; done'`), the ceiling a
 * user compares with; and the scheduler idle with 1,000 DAGs loaded: its
 * CPU per second and the process's RSS.
 *
 *   build/scheduler_bench [N] [metadata]   (default 40 tasks, SQLite in a
 *   temporary data dir; metadata may be a postgres:// URL)
 * Prints figures and ratios; asserts nothing.
 */
#include <spawn.h>
#include <sys/resource.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logger.h"
#include "log/log.h"
#include "metadata/metadata.h"
#include "runtime/plan.h"
#include "scheduler/scheduler.h"

extern char **environ;

static double ceiling_ms(int n, int at_once)
{
    char *argv[] = { "true", NULL };
    int64_t began = sl_clock_monotonic_us();
    pid_t *pids = calloc((size_t)at_once, sizeof *pids);
    for (int done = 0; done < n;) {
        int batch = n - done < at_once ? n - done : at_once;
        for (int i = 0; i < batch; i++)
            if (posix_spawnp(&pids[i], "true", NULL, NULL, argv, environ) != 0) pids[i] = -1;
        for (int i = 0; i < batch; i++)
            if (pids[i] > 0) waitpid(pids[i], NULL, 0);
        done += batch;
    }
    free(pids);
    return (double)(sl_clock_monotonic_us() - began) / 1000.0;
}

/* The same n programs run by a shell loop: the ceiling a user compares with. */
static double shell_loop_ms(int n)
{
    char command[200];
    snprintf(command, sizeof command, "i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done", n);
    char *argv[] = { "sh", "-c", command, NULL };
    int64_t began = sl_clock_monotonic_us();
    pid_t pid;
    if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0) return -1;
    waitpid(pid, NULL, 0);
    return (double)(sl_clock_monotonic_us() - began) / 1000.0;
}

static int write_config(const char *dir, int n, const char *metadata)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bench.yaml", dir);
    FILE *file = fopen(path, "w");
    if (!file) return -1;
    fprintf(file, "data_dir: %s/data\n", dir);
    if (metadata) fprintf(file, "metadata: \"%s\"\n", metadata);
    fprintf(file, "dags:\n  chain:\n    tasks:\n");
    for (int i = 0; i < n; i++) {
        if (i == 0) fprintf(file, "      t%04d: { command: [\"true\"] }\n", i);
        else fprintf(file, "      t%04d: { command: [\"true\"], depends_on: [t%04d] }\n", i, i - 1);
    }
    fprintf(file, "  wide:\n    max_active_runs: 1\n    tasks:\n");
    for (int i = 0; i < n; i++) fprintf(file, "      t%04d: { command: [\"true\"] }\n", i);
    fclose(file);
    return 0;
}

static int compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The chain's dispatch latencies from the SQLite store. */
static void chain_latency(const char *db_path, int n, double *median_ms, double *p99_ms)
{
    *median_ms = *p99_ms = -1;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return;
    sqlite3_stmt *stmt = NULL;
    const char *sql = "SELECT b.start_us - a.end_us FROM task_instances a JOIN task_instances b ON a.run = b.run "
                      "JOIN dag_runs r ON r.id = a.run WHERE r.dag_id = 'chain' AND "
                      "CAST(substr(b.task_id, 2) AS INTEGER) = CAST(substr(a.task_id, 2) AS INTEGER) + 1";
    int64_t *gaps = calloc((size_t)n, sizeof *gaps);
    size_t count = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK)
        while (sqlite3_step(stmt) == SQLITE_ROW && count < (size_t)n) gaps[count++] = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (count > 0) {
        qsort(gaps, count, sizeof *gaps, compare);
        *median_ms = (double)gaps[count / 2] / 1000.0;
        *p99_ms = (double)gaps[count * 99 / 100 < count ? count * 99 / 100 : count - 1] / 1000.0;
    }
    free(gaps);
}

/* One manual run of dag, tested alone; its wall time in ms, or -1. */
static double run_dag(sl_plan *plan, sl_log *log, const char *data_dir, const char *dag, const char *run_id)
{
    sl_error err;
    sl_error_clear(&err);
    sl_metadata *store = NULL;
    if (sl_metadata_open(plan->metadata, &store, &err) != SL_OK ||
        sl_metadata_dag_upsert(store, dag, "bench", &err) != SL_OK) {
        fprintf(stderr, "scheduler_bench: %s\n", err.message);
        sl_metadata_close(store);
        return -1;
    }
    sl_meta_run_spec spec = { .dag_id = dag, .run_id = run_id, .run_type = SL_META_RUN_MANUAL };
    int64_t id;
    bool created;
    int rc = sl_metadata_run_create(store, &spec, &id, &created, &err);
    sl_metadata_close(store);
    if (rc) {
        fprintf(stderr, "scheduler_bench: %s\n", err.message);
        return -1;
    }
    int64_t began = sl_clock_monotonic_us();
    sl_scheduler *scheduler = NULL;
    sl_scheduler_options options = { .log = log, .data_dir = data_dir, .only_run = id };
    if (sl_scheduler_start(plan, &options, &scheduler, &err) != SL_OK) {
        fprintf(stderr, "scheduler_bench: %s\n", err.message);
        return -1;
    }
    sl_meta_run_state state = SL_META_RUN_FAILED;
    rc = sl_scheduler_wait_run(scheduler, id, &state, &err);
    double took = (double)(sl_clock_monotonic_us() - began) / 1000.0;
    sl_scheduler_stop(scheduler);
    if (rc || state != SL_META_RUN_SUCCESS) {
        fprintf(stderr, "scheduler_bench: the %s run did not succeed\n", dag);
        return -1;
    }
    return took;
}

static long rss_kb(void)
{
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (status) fclose(status);
    return kb;
}

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           usage.ru_stime.tv_usec / 1e6;
}

/* 1,000 DAGs (a third hourly, a third daily, a third manual) loaded and
 * idle: once the runs due at start have ended, the CPU of 10 s and the RSS. */
static void idle_figures(const char *dir, const char *metadata)
{
    char path[512], data_dir[512], db_path[600];
    snprintf(path, sizeof path, "%s/idle.yaml", dir);
    snprintf(data_dir, sizeof data_dir, "%s/idle", dir);
    snprintf(db_path, sizeof db_path, "%s/metadata.db", data_dir);
    FILE *file = fopen(path, "w");
    if (!file) return;
    fprintf(file, "data_dir: %s\n", data_dir);
    if (metadata) fprintf(file, "metadata: \"%s\"\n", metadata);
    fprintf(file, "dags:\n");
    static const char *const schedules[] = { "\"@hourly\"", "\"0 3 * * *\"", "null" };
    for (int i = 0; i < 1000; i++)
        fprintf(file, "  idle%04d: { schedule: %s, tasks: { a: { command: [\"true\"] }, b: { command: [\"true\"], "
                "depends_on: [a] } } }\n", i, schedules[i % 3]);
    fclose(file);
    sl_plan *plan = NULL;
    sl_log *log = NULL;
    sl_scheduler *scheduler = NULL;
    sl_error err;
    sl_error_clear(&err);
    sl_scheduler_options options = { .data_dir = data_dir };
    if (sl_plan_load(path, &plan, &err) || sl_log_open(data_dir, &log, &err) ||
        (options.log = log, sl_scheduler_start(plan, &options, &scheduler, &err))) {
        fprintf(stderr, "scheduler_bench: idle: %s\n", err.message);
        sl_log_close(log);
        sl_plan_free(plan);
        return;
    }
    /* The runs due at start (one per scheduled DAG) end first. */
    int64_t deadline = sl_clock_monotonic_ms() + 300000;
    long long active = -1, ended = -1;
    while (sl_clock_monotonic_ms() < deadline && !metadata) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 5000);
            sqlite3_stmt *stmt = NULL;
            if (sqlite3_prepare_v2(db, "SELECT sum(state IN ('queued', 'running')), sum(state IN ('success', "
                                   "'failed')) FROM dag_runs", -1, &stmt, NULL) == SQLITE_OK &&
                sqlite3_step(stmt) == SQLITE_ROW) {
                active = sqlite3_column_int64(stmt, 0);
                ended = sqlite3_column_int64(stmt, 1);
            }
            sqlite3_finalize(stmt);
        }
        sqlite3_close(db);
        if (active == 0 && ended >= 666) break;
        sl_sleep_ms(200);
    }
    sl_sleep_ms(1000);
    double cpu_before = cpu_seconds();
    int64_t began = sl_clock_monotonic_ms();
    sl_sleep_ms(10000);
    double cpu = cpu_seconds() - cpu_before, wall = (double)(sl_clock_monotonic_ms() - began) / 1000.0;
    printf("  idle with 1000 DAGs loaded (%lld runs ended first): %.2f%% of a core, RSS %.1f MB "
           "(aim: near zero, under 30 MB)\n", ended, 100.0 * cpu / wall, rss_kb() / 1024.0);
    sl_scheduler_stop(scheduler);
    sl_log_close(log);
    sl_plan_free(plan);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 40;
    const char *metadata = argc > 2 ? argv[2] : NULL;
    if (n < 2 || n > 5000) {
        fprintf(stderr, "usage: scheduler_bench [TASKS 2..5000] [METADATA]\n");
        return 2;
    }
    char dir[] = "/tmp/sluice-scheduler-bench-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    if (write_config(dir, n, metadata)) return 1;
    char path[512], data_dir[512], db_path[600];
    snprintf(path, sizeof path, "%s/bench.yaml", dir);
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    snprintf(db_path, sizeof db_path, "%s/metadata.db", data_dir);
    sl_logger_configure(getenv("BENCH_VERBOSE") ? SL_LEVEL_INFO : SL_LEVEL_WARN, false);
    sl_plan *plan = NULL;
    sl_log *log = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_plan_load(path, &plan, &err) || sl_log_open(data_dir, &log, &err)) {
        fprintf(stderr, "scheduler_bench: %s\n", err.message);
        return 1;
    }
    double chain_ref = ceiling_ms(n, 1), wide_ref = ceiling_ms(n, SL_SCHEDULER_MAX_RUNNING);
    double shell_ref = shell_loop_ms(n);
    double chain = run_dag(plan, log, data_dir, "chain", "bench_chain");
    double wide = run_dag(plan, log, data_dir, "wide", "bench_wide");
    double median = -1, p99 = -1;
    if (!metadata) chain_latency(db_path, n, &median, &p99);
    printf("scheduler: %d command tasks, metadata %s\n", n, metadata ? "postgres" : "sqlite");
    printf("  chain: %8.1f ms = %6.2f ms/task; ceiling (spawn+wait, one at a time) %6.2f ms/task; ratio %.1fx; "
           "scheduling %.2f ms/task\n", chain, chain / n, chain_ref / n, chain / chain_ref, (chain - chain_ref) / n);
    printf("  wide:  %8.1f ms = %6.2f ms/task; ceiling (spawn+wait, %d at a time) %6.2f ms/task; ratio %.1fx\n", wide,
           wide / n, SL_SCHEDULER_MAX_RUNNING, wide_ref / n, wide / wide_ref);
    printf("  chain beside a shell loop running the same %d programs: %.1f ms vs %.1f ms, ratio %.1fx\n", n, chain,
           shell_ref, chain / shell_ref);
    if (median >= 0)
        printf("  dispatch latency (upstream end -> downstream start): median %.2f ms, p99 %.2f ms (aim: under 10 ms)\n",
               median, p99);
    printf("scheduler_tasks_per_s: chain %.0f wide %.0f\n", n / (chain / 1000), n / (wide / 1000));
    sl_log_close(log);
    sl_plan_free(plan);
    idle_figures(dir, metadata);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) fprintf(stderr, "scheduler_bench: could not remove %s\n", dir);
    return chain < 0 || wide < 0;
}
