/* cmd_dag_test.c — `sluice dag test FILE DAG` (see cmd_dag_test.h).
 *
 * Loads FILE, takes its data dir's log (sl_log_open holds the dir's lock,
 * so this refuses while a server owns the dir), creates a manual run of DAG
 * for the logical date (default now, sl_timetable_manual) as the API's
 * trigger does, and starts a scheduler that runs that run alone
 * (options.only_run). A waiter thread blocks in sl_scheduler_wait_run;
 * the main thread takes SIGINT/SIGTERM with sigtimedwait (they are blocked
 * in every thread) and on one interrupts the scheduler, which cancels the
 * tries running and records them; the run is then marked failed so no
 * server picks it up later. At the end each task's final state, duration
 * and the tail of its log are printed on stdout.
 */
#include "cli/cmd_dag_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/timefmt.h"
#include "log/log.h"
#include "runtime/plan.h"
#include "scheduler/dag.h"
#include "scheduler/scheduler.h"
#include "server/dags/dag_api.h"

#define SIGNAL_WAIT_MS 100
/* Lines of each task's log printed at the end. */
#define TAIL_LINES 10

int sl_dag_parse_conf(const char *conf, sl_buffer *out)
{
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) return SL_ENOMEM;
    sl_value value;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_json_parse(arena, conf, strlen(conf), &value, &err);
    if (rc) {
        fprintf(stderr, "sluice dag: --conf is not JSON: %s\n", err.message);
        rc = SL_EUSAGE;
    } else if (value.type != SL_TYPE_OBJECT) {
        fprintf(stderr, "sluice dag: --conf must be a JSON object ({\"key\": value}), not %s\n",
                sl_type_name(value.type));
        rc = SL_EUSAGE;
    } else {
        rc = sl_json_write(out, &value);
    }
    sl_arena_free(arena);
    return rc;
}

/* ---- waiting ---- */

typedef struct waiter {
    sl_scheduler *scheduler;
    int64_t run;
    sl_meta_run_state state;
    int rc;
    atomic_bool is_done;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    sl_error err;
    sl_error_clear(&err);
    w->rc = sl_scheduler_wait_run(w->scheduler, w->run, &w->state, &err);
    atomic_store(&w->is_done, true);
    return NULL;
}

/* Waits for the run or a signal; the signal's number, 0 when the run ended. */
static int wait_for_run(waiter *w, const sigset_t *signals)
{
    struct timespec wait = { 0, SIGNAL_WAIT_MS * 1000000L };
    while (!atomic_load(&w->is_done)) {
        int signal_number = sigtimedwait(signals, NULL, &wait);
        if (signal_number == SIGINT || signal_number == SIGTERM) return signal_number;
    }
    return 0;
}

/* ---- the summary ---- */

/* The latest try of each task, copied. */
typedef struct task_end {
    int try_number, max_tries;
    sl_meta_ti_state state;
    int64_t duration_us;
    char *tail;
    size_t tail_len;
} task_end;

typedef struct task_ends {
    const sl_dag *dag;
    task_end *by_task;
} task_ends;

static int keep_end(void *context, const sl_meta_ti *ti)
{
    task_ends *ends = context;
    size_t index = sl_dag_task_index(ends->dag, ti->task_id);
    if (index == (size_t)-1 || ends->by_task[index].try_number > ti->try_number) return SL_OK;
    task_end *end = &ends->by_task[index];
    free(end->tail);
    *end = (task_end){ ti->try_number, ti->max_tries, ti->state, ti->duration_us, malloc(ti->log_tail_len + 1),
                       ti->log_tail_len };
    if (!end->tail) return SL_ENOMEM;
    if (ti->log_tail_len) memcpy(end->tail, ti->log_tail, ti->log_tail_len);
    end->tail[ti->log_tail_len] = '\0';
    return SL_OK;
}

/* The last TAIL_LINES lines of text, each indented. */
static void print_tail(const char *text, size_t len, FILE *out)
{
    while (len && text[len - 1] == '\n') len--;
    size_t start = len, lines = 0;
    while (start > 0 && lines < TAIL_LINES) {
        start--;
        if (text[start] == '\n' && ++lines == TAIL_LINES) {
            start++;
            break;
        }
    }
    while (start < len) {
        size_t line = start;
        while (line < len && text[line] != '\n') line++;
        fprintf(out, "    | %.*s\n", (int)(line - start), text + start);
        start = line + 1;
    }
}

static int print_summary(const sl_plan *plan, const sl_dag *dag, int64_t run, const char *run_id,
                         sl_meta_run_state state)
{
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    task_ends ends = { dag, calloc(dag->n_tasks ? dag->n_tasks : 1, sizeof *ends.by_task) };
    int rc = ends.by_task ? sl_metadata_open(plan->metadata, &store, &err) : SL_ENOMEM;
    if (rc == SL_OK) rc = sl_metadata_ti_list(store, run, keep_end, &ends, &err);
    if (rc == SL_OK) {
        printf("dag %s run %s: %s\n", dag->name, run_id, sl_meta_run_state_name(state));
        for (size_t t = 0; t < dag->n_tasks; t++) {
            const task_end *end = &ends.by_task[t];
            if (!end->try_number) {
                printf("  %s: no try\n", dag->tasks[t].name);
                continue;
            }
            char duration[32] = "-";
            if (end->duration_us != SL_META_NO_TIME)
                snprintf(duration, sizeof duration, "%.3f s", (double)end->duration_us / 1e6);
            printf("  %s: %s, try %d of %d, %s\n", dag->tasks[t].name, sl_meta_ti_state_name(end->state),
                   end->try_number, end->max_tries, duration);
            print_tail(end->tail, end->tail_len, stdout);
        }
    } else {
        fprintf(stderr, "sluice dag test: reading the run's tasks: %s\n", rc == SL_ENOMEM ? "out of memory"
                                                                                           : err.message);
    }
    for (size_t t = 0; ends.by_task && t < dag->n_tasks; t++) free(ends.by_task[t].tail);
    free(ends.by_task);
    sl_metadata_close(store);
    return rc;
}

/* An interrupted run: failed, so no server goes on with it later. */
static void fail_run(const sl_plan *plan, int64_t run)
{
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    bool changed = false;
    int rc = sl_metadata_open(plan->metadata, &store, &err);
    if (rc == SL_OK) rc = sl_metadata_run_set_state(store, run, SL_META_RUN_RUNNING, SL_META_RUN_FAILED, &changed, &err);
    if (rc == SL_OK && !changed)
        rc = sl_metadata_run_set_state(store, run, SL_META_RUN_QUEUED, SL_META_RUN_FAILED, &changed, &err);
    if (rc) fprintf(stderr, "sluice dag test: marking the interrupted run failed: %s\n", err.message);
    sl_metadata_close(store);
}

/* ---- the command ---- */

static const sl_dag *find_dag(const sl_dag_set *dags, const char *file, const char *name)
{
    const sl_dag *dag = sl_dag_set_find(dags, name);
    if (dag) return dag;
    fprintf(stderr, "sluice dag test: %s has no DAG called '%s'", file, name);
    for (size_t d = 0; d < dags->n_dags; d++) fprintf(stderr, "%s%s", d ? ", " : " (its DAGs: ", dags->dags[d].name);
    fprintf(stderr, "%s\n", dags->n_dags ? ")" : "; it has no dags:");
    return NULL;
}

/* Creates the run; 0 or the exit code after saying why. */
static int create_run(const sl_plan *plan, const sl_dag *dag, const sl_dag_args *args, int64_t *row,
                      char run_id[SL_META_NAME_MAX + 1])
{
    sl_buffer conf = { 0 };
    sl_dag_trigger trigger = { 0 };
    if (args->conf) {
        int rc = sl_dag_parse_conf(args->conf, &conf);
        if (rc == SL_OK) rc = sl_buffer_append_byte(&conf, '\0');
        if (rc) {
            sl_buffer_free(&conf);
            return rc == SL_EUSAGE ? SL_EXIT_USAGE : SL_EXIT_FAILURE;
        }
        trigger.conf = conf.data;
    }
    if (args->logical_date) {
        if (sl_time_parse_iso(args->logical_date, strlen(args->logical_date), &trigger.logical_date_us)) {
            fprintf(stderr, "sluice dag test: --logical-date '%s' is not an ISO 8601 date (2024-01-01, "
                            "2024-01-01T06:00:00Z; without an offset it is UTC)\n", args->logical_date);
            sl_buffer_free(&conf);
            return SL_EXIT_USAGE;
        }
        trigger.has_logical_date = true;
    }
    sl_metadata *store = NULL;
    sl_error err;
    sl_error_clear(&err);
    int status = sl_metadata_open(plan->metadata, &store, &err) ? 500
                 : sl_dag_api_create_run(store, dag, &trigger, sl_clock_wall_us(), row, run_id, &err);
    sl_metadata_close(store);
    sl_buffer_free(&conf);
    if (status == 201) return SL_EXIT_OK;
    fprintf(stderr, "sluice dag test: %s\n", err.message);
    return status == 400 ? SL_EXIT_USAGE : SL_EXIT_FAILURE;
}

/* Runs run with a scheduler of its own; the exit code. */
static int run_it(sl_plan *plan, sl_log *log, const sl_dag *dag, int64_t run, const char *run_id)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);   /* before any thread starts: they all inherit it */
    signal(SIGPIPE, SIG_IGN);
    sl_error err;
    sl_error_clear(&err);
    sl_scheduler_options options = { .log = log, .data_dir = plan->data_dir, .only_run = run };
    sl_scheduler *scheduler = NULL;
    if (sl_scheduler_start(plan, &options, &scheduler, &err)) {
        fprintf(stderr, "sluice dag test: %s\n", err.message);
        return SL_EXIT_FAILURE;
    }
    fprintf(stderr, "sluice dag test: dag %s run %s started; SIGINT or SIGTERM stops it\n", dag->name, run_id);
    waiter w = { .scheduler = scheduler, .run = run };
    atomic_init(&w.is_done, false);
    pthread_t thread;
    int signal_number = 0;
    if (pthread_create(&thread, NULL, wait_main, &w) != 0) {
        fprintf(stderr, "sluice dag test: cannot start a thread\n");
        sl_scheduler_stop(scheduler);
        return SL_EXIT_FAILURE;
    }
    signal_number = wait_for_run(&w, &signals);
    if (signal_number) {
        fprintf(stderr, "sluice dag test: %s: stopping the run\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
        sl_scheduler_interrupt(scheduler);
    }
    pthread_join(thread, NULL);
    sl_scheduler_stop(scheduler);
    if (signal_number || w.rc) {
        fail_run(plan, run);
        print_summary(plan, dag, run, run_id, SL_META_RUN_FAILED);
        return signal_number ? 128 + signal_number : SL_EXIT_FAILURE;
    }
    if (print_summary(plan, dag, run, run_id, w.state)) return SL_EXIT_FAILURE;
    return w.state == SL_META_RUN_SUCCESS ? SL_EXIT_OK : SL_EXIT_FAILURE;
}

int sl_dag_test(const sl_dag_args *args)
{
    const char *file = args->words[0];
    sl_error err;
    sl_error_clear(&err);
    sl_plan *plan = NULL;
    int rc = sl_plan_load(file, &plan, &err);
    if (rc) {
        fprintf(stderr, "sluice dag test: %s\n", err.message);
        return rc == SL_EIO ? SL_EXIT_USAGE : sl_exit_code_for(rc);
    }
    int level = sl_level_parse(plan->log_level);
    sl_logger_configure(level < 0 ? SL_LEVEL_INFO : (sl_level)level, strcmp(plan->log_format, "json") == 0);
    sl_dag_set *dags = NULL;
    sl_log *log = NULL;
    int code = SL_EXIT_OK;
    if (sl_dag_set_build(plan, &dags, &err)) {
        fprintf(stderr, "sluice dag test: %s\n", err.message);
        code = SL_EXIT_USAGE;
        goto done;
    }
    const sl_dag *dag = find_dag(dags, file, args->words[1]);
    if (!dag) {
        code = SL_EXIT_USAGE;
        goto done;
    }
    rc = sl_log_open(plan->data_dir, &log, &err);
    if (rc) {
        fprintf(stderr, "sluice dag test: %s%s\n", err.message,
                rc == SL_ELOCKED ? ": dag test runs the DAG here and needs the data dir to itself; stop the server "
                                   "that holds it, or run the DAG there with `sluice dag trigger`" : "");
        code = SL_EXIT_FAILURE;
        goto done;
    }
    int64_t run = 0;
    char run_id[SL_META_NAME_MAX + 1] = "";
    code = create_run(plan, dag, args, &run, run_id);
    if (code == SL_EXIT_OK) code = run_it(plan, log, dag, run, run_id);
done:
    sl_log_close(log);
    sl_dag_set_free(dags);
    sl_plan_free(plan);
    return code;
}
