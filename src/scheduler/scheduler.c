/* scheduler.c — the scheduler's loop (see scheduler.h).
 *
 * Threads: the loop runs on one thread, which alone uses the metadata store
 * (a store is one connection); each try runs on a thread of its own and
 * touches nothing shared but its own running_try, whose is_done flag it
 * sets under the mutex when it ends. The server's main thread calls apply,
 * wake and stop, which only hand things to the loop under the mutex.
 *
 * A reload makes a new generation (a plan and its DAGs); a try keeps a
 * reference to the generation it started in, so its task's definition
 * stays valid until it ends.
 */
#include "scheduler/scheduler.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logger.h"
#include "core/timefmt.h"
#include "scheduler/dag.h"
#include "scheduler/task_rules.h"
#include "scheduler/timetable.h"

#define LOG_PATH_MAX 4096
#define ERROR_REPEAT_MS 30000
#define ACTIVE_RUNS_MAX 1000
#define RUNS_CREATED_PER_PASS 100

/* ---- generations ---- */

/* A generation is what sl_scheduler_dags_acquire hands out. */
struct sl_scheduler_dags {
    sl_plan *plan;
    sl_dag_set *dags;
    atomic_int refs;
};
typedef struct sl_scheduler_dags generation;

static int generation_new(sl_plan *plan, generation **out, sl_error *err)
{
    generation *gen = calloc(1, sizeof *gen);
    if (!gen) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_dag_set_build(plan, &gen->dags, err);
    if (rc) {
        free(gen);
        return rc;
    }
    gen->plan = sl_plan_retain(plan);
    atomic_init(&gen->refs, 1);
    *out = gen;
    return SL_OK;
}

static void generation_release(generation *gen)
{
    if (!gen || atomic_fetch_sub(&gen->refs, 1) > 1) return;
    sl_dag_set_free(gen->dags);
    sl_plan_free(gen->plan);
    free(gen);
}

/* ---- a try running here ---- */

typedef struct running_try {
    struct running_try *next;
    struct sl_scheduler *scheduler;
    generation *gen;
    int64_t ti_id;
    int64_t run_row;
    char dag_id[SL_META_NAME_MAX + 1];
    char task_id[SL_META_NAME_MAX + 1];
    char run_id[SL_META_NAME_MAX + 1];
    char log_path[LOG_PATH_MAX];
    sl_task_try try_;
    sl_task_outcome outcome;
    atomic_bool cancel;
    char cancel_reason[300];     /* why the loop cancelled it; "" when it did not */
    bool is_final;               /* no retry whatever tries are left (the run timed out) */
    int64_t deadline_ms;         /* monotonic; 0 = no timeout */
    pthread_t thread;
    bool is_done;                /* under the scheduler's mutex */
    bool is_joined;
} running_try;

struct sl_scheduler {
    sl_metadata *store;
    char server_id[160];
    sl_log *log;
    char *data_dir;
    sl_task_control_fn control;
    void *control_context;
    int64_t only_run;
    pthread_t thread;
    bool has_thread;

    pthread_mutex_t mutex;       /* guards what follows, up to `running` */
    pthread_cond_t wake;         /* the loop waits on it */
    pthread_cond_t run_ended;    /* wait_run waits on it */
    bool is_woken;
    bool is_stopping;
    generation *pending;         /* a reload's generation, not taken by the loop yet */
    generation *latest;          /* the last one given (start or apply), for sl_scheduler_dags_acquire */
    bool is_only_run_ended;
    sl_meta_run_state only_run_state;

    /* The loop's own, no lock needed: */
    generation *current;
    bool *is_paused;             /* per DAG of current */
    running_try *running;
    size_t n_running;
    int64_t next_heartbeat_ms;
    int64_t next_wake_us;
    char last_error[400];
    int64_t last_error_ms;
};

/* A store failure does not stop the scheduler: it is logged (the same one
 * at most every ERROR_REPEAT_MS) and the pass is tried again. */
static void report(sl_scheduler *s, const char *what, const sl_error *err)
{
    int64_t now = sl_clock_monotonic_ms();
    char message[sizeof s->last_error];
    snprintf(message, sizeof message, "%.80s: %.310s", what, err->message);
    if (strcmp(message, s->last_error) == 0 && now - s->last_error_ms < ERROR_REPEAT_MS) return;
    snprintf(s->last_error, sizeof s->last_error, "%s", message);
    s->last_error_ms = now;
    sl_error_log("scheduler", "%s%s", message, sl_error_is_transient(err) ? " (tried again)" : "");
}

static void wake_at(sl_scheduler *s, int64_t at_us)
{
    if (at_us < s->next_wake_us) s->next_wake_us = at_us;
}

static sl_task_state task_state_of(sl_meta_ti_state state)
{
    static const sl_task_state states[SL_META_TI_STATE_COUNT] = {
        [SL_META_TI_NONE] = SL_TASK_NONE,
        [SL_META_TI_SCHEDULED] = SL_TASK_SCHEDULED,
        [SL_META_TI_QUEUED] = SL_TASK_QUEUED,
        [SL_META_TI_RUNNING] = SL_TASK_RUNNING,
        [SL_META_TI_SUCCESS] = SL_TASK_SUCCESS,
        [SL_META_TI_FAILED] = SL_TASK_FAILED,
        [SL_META_TI_UP_FOR_RETRY] = SL_TASK_UP_FOR_RETRY,
        [SL_META_TI_UPSTREAM_FAILED] = SL_TASK_UPSTREAM_FAILED,
        [SL_META_TI_SKIPPED] = SL_TASK_SKIPPED,
    };
    return (size_t)state < SL_META_TI_STATE_COUNT ? states[state] : SL_TASK_NONE;
}

/* ---- rows read from the store ---- */

typedef struct run_row {
    int64_t id;
    char run_id[SL_META_NAME_MAX + 1];
    sl_meta_run_state state;
    int64_t start_us;            /* when it started running */
    int64_t interval_start_us;
    int64_t interval_end_us;
} run_row;

typedef struct run_rows {
    run_row *items;
    size_t n, capacity;
} run_rows;

static int collect_run(void *context, const sl_meta_run *run)
{
    run_rows *rows = context;
    if (rows->n == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 8;
        run_row *items = realloc(rows->items, capacity * sizeof *items);
        if (!items) return SL_ENOMEM;
        rows->items = items;
        rows->capacity = capacity;
    }
    run_row *row = &rows->items[rows->n++];
    row->id = run->id;
    snprintf(row->run_id, sizeof row->run_id, "%s", run->run_id);
    row->state = run->state;
    row->start_us = run->start_us;
    row->interval_start_us = run->data_interval_start_us;
    row->interval_end_us = run->data_interval_end_us;
    return SL_OK;
}

/* The latest try of one task of a run. */
typedef struct ti_row {
    int64_t id;
    bool is_present;
    int try_number;
    int max_tries;
    sl_meta_ti_state state;
    int64_t end_us;
} ti_row;

typedef struct ti_rows {
    const sl_dag *dag;
    ti_row *by_task;             /* dag->n_tasks of them */
} ti_rows;

static int collect_ti(void *context, const sl_meta_ti *ti)
{
    ti_rows *rows = context;
    size_t index = sl_dag_task_index(rows->dag, ti->task_id);
    if (index == (size_t)-1) return SL_OK;   /* a task no longer in the file */
    ti_row *row = &rows->by_task[index];
    if (row->is_present && row->try_number > ti->try_number) return SL_OK;
    row->is_present = true;
    row->id = ti->id;
    row->try_number = ti->try_number;
    row->max_tries = ti->max_tries;
    row->state = ti->state;
    row->end_us = ti->end_us;
    return SL_OK;
}

typedef struct ti_detail {
    int64_t run;
    char dag_id[SL_META_NAME_MAX + 1];
    char run_id[SL_META_NAME_MAX + 1];
    char task_id[SL_META_NAME_MAX + 1];
    int try_number;
    int max_tries;
} ti_detail;

static int keep_ti(void *context, const sl_meta_ti *ti)
{
    ti_detail *detail = context;
    detail->run = ti->run;
    snprintf(detail->dag_id, sizeof detail->dag_id, "%s", ti->dag_id);
    snprintf(detail->run_id, sizeof detail->run_id, "%s", ti->run_id);
    snprintf(detail->task_id, sizeof detail->task_id, "%s", ti->task_id);
    detail->try_number = ti->try_number;
    detail->max_tries = ti->max_tries;
    return SL_OK;
}

typedef struct dag_flags {
    const sl_dag_set *dags;
    bool *is_paused;
    bool *has_row;
} dag_flags;

static int keep_dag(void *context, const sl_meta_dag *row)
{
    dag_flags *flags = context;
    for (size_t d = 0; d < flags->dags->n_dags; d++) {
        if (strcmp(flags->dags->dags[d].name, row->dag_id) != 0) continue;
        flags->is_paused[d] = row->is_paused;
        if (flags->has_row) flags->has_row[d] = true;
    }
    return SL_OK;
}

/* ---- DAG rows ---- */

/* Records the DAGs of the current generation: a new DAG's row starts
 * paused when the file says paused: true; an existing row keeps the pause
 * it was given (the API's, or the file's when it was created). */
static int sync_dags(sl_scheduler *s, sl_error *err)
{
    const sl_dag_set *dags = s->current->dags;
    free(s->is_paused);
    s->is_paused = calloc(dags->n_dags ? dags->n_dags : 1, sizeof *s->is_paused);
    bool *has_row = calloc(dags->n_dags ? dags->n_dags : 1, sizeof *has_row);
    if (!s->is_paused || !has_row) {
        free(has_row);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    dag_flags flags = { dags, s->is_paused, has_row };
    int rc = sl_metadata_dag_list(s->store, keep_dag, &flags, err);
    for (size_t d = 0; rc == SL_OK && d < dags->n_dags; d++) {
        const sl_dag *dag = &dags->dags[d];
        rc = sl_metadata_dag_upsert(s->store, dag->name, dag->fingerprint, err);
        if (rc == SL_OK && !has_row[d] && dag->is_paused_at_creation) {
            rc = sl_metadata_dag_set_paused(s->store, dag->name, true, err);
            s->is_paused[d] = true;
        }
    }
    free(has_row);
    return rc;
}

static int read_paused(sl_scheduler *s, sl_error *err)
{
    dag_flags flags = { s->current->dags, s->is_paused, NULL };
    return sl_metadata_dag_list(s->store, keep_dag, &flags, err);
}

/* ---- runs ---- */

static int create_due_runs(sl_scheduler *s, const sl_dag *dag, size_t n_active, int64_t now_us, sl_error *err)
{
    if (dag->timetable.kind == SL_SCHEDULE_NONE) return SL_OK;
    int64_t last_end = SL_TIMETABLE_NONE;
    bool found = false;
    int rc = sl_metadata_run_latest_interval_end(s->store, dag->name, &last_end, &found, err);
    if (rc) return rc;
    if (!found) last_end = SL_TIMETABLE_NONE;
    for (int made = 0; made < RUNS_CREATED_PER_PASS && (int64_t)n_active < dag->max_active_runs; made++) {
        sl_interval next;
        if (sl_timetable_next(&dag->timetable, last_end, now_us, &next) != SL_OK) return SL_OK;
        if (now_us < next.end_us) {
            wake_at(s, next.end_us);
            return SL_OK;
        }
        sl_meta_run_spec spec = { .dag_id = dag->name, .run_type = SL_META_RUN_SCHEDULED,
                                  .data_interval_start_us = next.start_us, .data_interval_end_us = next.end_us };
        int64_t id;
        bool created;
        rc = sl_metadata_run_create(s->store, &spec, &id, &created, err);
        if (rc) return rc;
        if (created) {
            char start[SL_TIME_ISO_MAX];
            sl_time_format_iso(next.start_us, start);
            sl_info("scheduler", "dag %s: run for the interval starting %s queued", dag->name, start);
            n_active++;
        }
        last_end = next.end_us;
    }
    wake_at(s, now_us);   /* more to create: go on at once */
    return SL_OK;
}

static int create_task_instances(sl_scheduler *s, const sl_dag *dag, int64_t run, const ti_rows *rows, sl_error *err)
{
    for (size_t t = 0; t < dag->n_tasks; t++) {
        if (rows && rows->by_task[t].is_present) continue;
        const char *task_id = dag->tasks[t].name;
        int rc = sl_metadata_ti_create(s->store, run, &task_id, 1, dag->tasks[t].retries + 1, NULL, err);
        if (rc) return rc;
    }
    return SL_OK;
}

static int set_ti(sl_scheduler *s, int64_t id, sl_meta_ti_state from, sl_meta_ti_state to, bool *changed,
                  sl_error *err)
{
    return sl_metadata_ti_set_state(s->store, id, from, to, NULL, changed, err);
}

static void cancel_tries_of_run(sl_scheduler *s, int64_t run, const char *reason)
{
    for (running_try *rt = s->running; rt; rt = rt->next) {
        if (rt->run_row != run || atomic_load(&rt->cancel)) continue;
        snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "%s", reason);
        rt->is_final = true;
        atomic_store(&rt->cancel, true);
    }
}

static void note_run_end(sl_scheduler *s, const sl_dag *dag, const run_row *run, sl_meta_run_state state,
                         const char *why)
{
    sl_info("scheduler", "dag %s run %s: %s%s%s", dag->name, run->run_id, sl_meta_run_state_name(state),
            why ? ": " : "", why ? why : "");
    if (run->id != s->only_run) return;
    pthread_mutex_lock(&s->mutex);
    s->is_only_run_ended = true;
    s->only_run_state = state;
    pthread_cond_broadcast(&s->run_ended);
    pthread_mutex_unlock(&s->mutex);
}

/* A run past dagrun_timeout: what has not started is skipped, what runs
 * here is cancelled, and the run fails. */
static int time_out_run(sl_scheduler *s, const sl_dag *dag, const run_row *run, ti_rows *rows, sl_error *err)
{
    char reason[200];
    snprintf(reason, sizeof reason, "the DAG run timed out (dagrun_timeout %" PRId64 " s)",
             dag->dagrun_timeout_ms / 1000);
    cancel_tries_of_run(s, run->id, reason);
    for (size_t t = 0; t < dag->n_tasks; t++) {
        ti_row *row = &rows->by_task[t];
        if (!row->is_present) continue;
        bool changed;
        if (row->state == SL_META_TI_NONE || row->state == SL_META_TI_SCHEDULED ||
            row->state == SL_META_TI_UP_FOR_RETRY) {
            int rc = set_ti(s, row->id, row->state, SL_META_TI_SKIPPED, &changed, err);
            if (rc) return rc;
        }
    }
    bool changed;
    int rc = sl_metadata_run_set_state(s->store, run->id, SL_META_RUN_RUNNING, SL_META_RUN_FAILED, &changed, err);
    if (rc == SL_OK && changed) note_run_end(s, dag, run, SL_META_RUN_FAILED, reason);
    return rc;
}

/* Trigger rules, retries and the end of one running run. */
static int advance_run(sl_scheduler *s, const sl_dag *dag, const run_row *run, int64_t now_us, sl_error *err)
{
    ti_row *by_task = calloc(dag->n_tasks ? dag->n_tasks : 1, sizeof *by_task);
    sl_task_state *states = calloc(dag->n_tasks ? dag->n_tasks : 1, sizeof *states);
    int *is_leaf = calloc(dag->n_tasks ? dag->n_tasks : 1, sizeof *is_leaf);
    sl_task_state *upstream = calloc(dag->n_tasks ? dag->n_tasks : 1, sizeof *upstream);
    int rc = by_task && states && is_leaf && upstream ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    ti_rows rows = { dag, by_task };
    if (rc == SL_OK) rc = sl_metadata_ti_list(s->store, run->id, collect_ti, &rows, err);
    bool is_missing = false;
    for (size_t t = 0; rc == SL_OK && t < dag->n_tasks; t++) is_missing |= !by_task[t].is_present;
    if (rc == SL_OK && is_missing) {
        /* A run started before a crash, or a task added by a reload. */
        rc = create_task_instances(s, dag, run->id, &rows, err);
        memset(by_task, 0, dag->n_tasks * sizeof *by_task);
        if (rc == SL_OK) rc = sl_metadata_ti_list(s->store, run->id, collect_ti, &rows, err);
    }
    if (rc) goto done;
    if (dag->dagrun_timeout_ms > 0 && run->start_us != SL_META_NO_TIME) {
        int64_t deadline = run->start_us + dag->dagrun_timeout_ms * 1000;
        if (now_us >= deadline) {
            rc = time_out_run(s, dag, run, &rows, err);
            goto done;
        }
        wake_at(s, deadline);
    }
    bool is_changed = true;
    while (is_changed && rc == SL_OK) {
        is_changed = false;
        for (size_t t = 0; t < dag->n_tasks; t++) states[t] = task_state_of(by_task[t].state);
        for (size_t t = 0; t < dag->n_tasks && rc == SL_OK; t++) {
            const sl_dag_task *task = &dag->tasks[t];
            ti_row *row = &by_task[t];
            if (!row->is_present) continue;
            bool changed = false;
            if (row->state == SL_META_TI_NONE) {
                for (size_t u = 0; u < task->n_upstream; u++) upstream[u] = states[task->upstream[u]];
                sl_trigger_decision decision = sl_trigger_decide(task->trigger_rule, upstream, task->n_upstream);
                sl_meta_ti_state to = decision == SL_TRIGGER_RUN ? SL_META_TI_SCHEDULED
                                      : decision == SL_TRIGGER_SKIP ? SL_META_TI_SKIPPED
                                      : decision == SL_TRIGGER_UPSTREAM_FAILED ? SL_META_TI_UPSTREAM_FAILED
                                                                               : SL_META_TI_NONE;
                if (to == SL_META_TI_NONE) continue;
                rc = set_ti(s, row->id, SL_META_TI_NONE, to, &changed, err);
                if (rc == SL_OK && changed) {
                    row->state = to;
                    is_changed = true;
                }
            } else if (row->state == SL_META_TI_UP_FOR_RETRY) {
                int64_t delay_ms = sl_retry_delay_ms(task->retry_delay_ms, task->retry_exponential_backoff,
                                                     task->max_retry_delay_ms, row->try_number);
                int64_t due = (row->end_us == SL_META_NO_TIME ? now_us : row->end_us) + delay_ms * 1000;
                if (now_us < due) {
                    wake_at(s, due);
                    continue;
                }
                if (row->try_number >= row->max_tries) {
                    rc = set_ti(s, row->id, SL_META_TI_UP_FOR_RETRY, SL_META_TI_FAILED, &changed, err);
                    if (rc == SL_OK && changed) row->state = SL_META_TI_FAILED;
                    is_changed = true;
                    continue;
                }
                int64_t new_id;
                bool created;
                rc = sl_metadata_ti_retry(s->store, row->id, &new_id, &created, err);
                if (rc == SL_OK) {
                    row->id = new_id;
                    row->try_number++;
                    row->state = SL_META_TI_SCHEDULED;
                }
            }
        }
    }
    if (rc) goto done;
    bool is_all_done = true;
    for (size_t t = 0; t < dag->n_tasks; t++) {
        states[t] = task_state_of(by_task[t].state);
        is_leaf[t] = dag->tasks[t].is_leaf;
        if (!sl_task_state_is_done(states[t])) is_all_done = false;
    }
    if (!is_all_done) goto done;
    sl_task_state outcome = sl_dag_run_outcome(states, is_leaf, dag->n_tasks);
    sl_meta_run_state end = outcome == SL_TASK_SUCCESS ? SL_META_RUN_SUCCESS : SL_META_RUN_FAILED;
    bool changed;
    rc = sl_metadata_run_set_state(s->store, run->id, SL_META_RUN_RUNNING, end, &changed, err);
    if (rc == SL_OK && changed)
        note_run_end(s, dag, run, end, end == SL_META_RUN_FAILED ? "a task it ends with did not succeed" : NULL);
done:
    free(by_task);
    free(states);
    free(is_leaf);
    free(upstream);
    return rc;
}

/* Starts queued runs up to max_active_runs (unless paused), then advances
 * the running ones. */
static int advance_runs(sl_scheduler *s, const sl_dag *dag, const run_rows *active, bool is_paused, int64_t now_us,
                        sl_error *err)
{
    int64_t n_running = 0;
    for (size_t r = 0; r < active->n; r++) n_running += active->items[r].state == SL_META_RUN_RUNNING;
    int rc = SL_OK;
    for (size_t r = 0; r < active->n && rc == SL_OK; r++) {
        run_row *run = &active->items[r];
        bool is_wanted = s->only_run ? run->id == s->only_run : !is_paused && n_running < dag->max_active_runs;
        if (run->state != SL_META_RUN_QUEUED || !is_wanted) continue;
        bool changed;
        rc = sl_metadata_run_set_state(s->store, run->id, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, err);
        if (rc || !changed) continue;
        rc = create_task_instances(s, dag, run->id, NULL, err);
        run->state = SL_META_RUN_RUNNING;
        run->start_us = sl_clock_wall_us();
        n_running++;
        sl_info("scheduler", "dag %s run %s: running", dag->name, run->run_id);
    }
    for (size_t r = 0; r < active->n && rc == SL_OK; r++) {
        const run_row *run = &active->items[r];
        if (run->state != SL_META_RUN_RUNNING) continue;
        if (s->only_run ? run->id != s->only_run : is_paused) continue;   /* a paused DAG's runs wait */
        rc = advance_run(s, dag, run, now_us, err);
    }
    return rc;
}

static int schedule_dag(sl_scheduler *s, size_t index, int64_t now_us, sl_error *err)
{
    const sl_dag *dag = &s->current->dags->dags[index];
    run_rows active = { 0 };
    int rc = sl_metadata_run_list_active(s->store, dag->name, ACTIVE_RUNS_MAX, collect_run, &active, err);
    if (rc == SL_OK && !s->only_run && !s->is_paused[index]) {
        rc = create_due_runs(s, dag, active.n, now_us, err);
        if (rc == SL_OK) {
            active.n = 0;
            rc = sl_metadata_run_list_active(s->store, dag->name, ACTIVE_RUNS_MAX, collect_run, &active, err);
        }
    }
    if (rc == SL_OK) rc = advance_runs(s, dag, &active, s->is_paused[index], now_us, err);
    free(active.items);
    return rc;
}

/* ---- tries ---- */

static void *try_main(void *arg)
{
    running_try *rt = arg;
    sl_task_execute(&rt->try_, &rt->outcome);
    sl_scheduler *s = rt->scheduler;
    pthread_mutex_lock(&s->mutex);
    rt->is_done = true;
    s->is_woken = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mutex);
    return NULL;
}

typedef struct run_interval {
    int64_t start_us;
    int64_t end_us;
} run_interval;

static int keep_interval(void *context, const sl_meta_run *run)
{
    run_interval *interval = context;
    interval->start_us = run->data_interval_start_us;
    interval->end_us = run->data_interval_end_us;
    return SL_OK;
}

/* Fails a claimed try that this server cannot run, saying why in its log. */
static int refuse_try(sl_scheduler *s, int64_t id, const char *why, sl_error *err)
{
    sl_warn("scheduler", "task instance %" PRId64 ": %s", id, why);
    int rc = sl_metadata_ti_set_log(s->store, id, NULL, why, strlen(why), err);
    bool changed;
    if (rc == SL_OK) rc = set_ti(s, id, SL_META_TI_QUEUED, SL_META_TI_FAILED, &changed, err);
    return rc;
}

static int start_try(sl_scheduler *s, int64_t id, sl_error *err)
{
    ti_detail detail = { 0 };
    int rc = sl_metadata_ti_get(s->store, id, keep_ti, &detail, err);
    if (rc) return rc;
    const sl_dag *dag = sl_dag_set_find(s->current->dags, detail.dag_id);
    size_t index = dag ? sl_dag_task_index(dag, detail.task_id) : (size_t)-1;
    if (index == (size_t)-1) {
        char why[700];
        snprintf(why, sizeof why, "dag %s task %s is not in this server's file", detail.dag_id, detail.task_id);
        return refuse_try(s, id, why, err);
    }
    run_interval interval = { 0 };
    rc = sl_metadata_run_get(s->store, detail.run, keep_interval, &interval, err);
    if (rc) return rc;
    running_try *rt = calloc(1, sizeof *rt);
    if (!rt) return sl_error_set(err, SL_ENOMEM, "out of memory");
    rt->scheduler = s;
    rt->ti_id = id;
    rt->run_row = detail.run;
    snprintf(rt->dag_id, sizeof rt->dag_id, "%s", detail.dag_id);
    snprintf(rt->task_id, sizeof rt->task_id, "%s", detail.task_id);
    snprintf(rt->run_id, sizeof rt->run_id, "%s", detail.run_id);
    if (sl_task_log_path(s->data_dir, detail.dag_id, detail.run_id, detail.task_id, detail.try_number, rt->log_path,
                         sizeof rt->log_path)) {
        free(rt);
        return refuse_try(s, id, "its log's path is too long", err);
    }
    bool changed;
    rc = set_ti(s, id, SL_META_TI_QUEUED, SL_META_TI_RUNNING, &changed, err);
    if (rc == SL_OK && changed) rc = sl_metadata_ti_set_log(s->store, id, rt->log_path, "", 0, err);
    if (rc || !changed) {
        free(rt);
        return rc;
    }
    const sl_dag_task *task = &dag->tasks[index];
    rt->gen = s->current;
    atomic_fetch_add(&rt->gen->refs, 1);
    atomic_init(&rt->cancel, false);
    rt->deadline_ms = task->timeout_ms > 0 ? sl_clock_monotonic_ms() + task->timeout_ms : 0;
    rt->try_ = (sl_task_try){
        .plan = rt->gen->plan,
        .dag = dag,
        .task = task,
        .log = s->log,
        .run_id = rt->run_id,
        .data_interval_start_us = interval.start_us,
        .data_interval_end_us = interval.end_us,
        .try_number = detail.try_number,
        .max_tries = detail.max_tries,
        .log_path = rt->log_path,
        .cancel = &rt->cancel,
        .control = s->control,
        .control_context = s->control_context,
    };
    if (pthread_create(&rt->thread, NULL, try_main, rt) != 0) {
        generation_release(rt->gen);
        free(rt);
        bool ignored;
        set_ti(s, id, SL_META_TI_RUNNING, SL_META_TI_UP_FOR_RETRY, &ignored, err);
        return sl_error_set(err, SL_ENOMEM, "dag %s task %s: cannot start a thread", detail.dag_id, detail.task_id);
    }
    sl_info("scheduler", "dag %s run %s task %s: try %d of %d started", detail.dag_id, detail.run_id, detail.task_id,
            detail.try_number, detail.max_tries);
    rt->next = s->running;
    s->running = rt;
    s->n_running++;
    return SL_OK;
}

static int claim_tries(sl_scheduler *s, sl_error *err)
{
    if (s->n_running >= SL_SCHEDULER_MAX_RUNNING) return SL_OK;
    int64_t ids[SL_SCHEDULER_MAX_RUNNING];
    size_t n = 0, room = SL_SCHEDULER_MAX_RUNNING - s->n_running;
    int rc = s->only_run ? sl_metadata_ti_claim_run(s->store, s->server_id, s->only_run, ids, room, &n, err)
                         : sl_metadata_ti_claim(s->store, s->server_id, ids, room, &n, err);
    for (size_t i = 0; i < n && rc == SL_OK; i++) rc = start_try(s, ids[i], err);
    return rc;
}

/* Records how a try ended: its log, then its state. SL_OK once recorded;
 * an error leaves it to be recorded on the next pass. */
static int record_try(sl_scheduler *s, running_try *rt, sl_error *err)
{
    if (!rt->is_joined) {
        pthread_join(rt->thread, NULL);
        rt->is_joined = true;
        if (rt->cancel_reason[0]) {
            FILE *log = fopen(rt->log_path, "a");
            if (log) {
                char now[SL_TIME_ISO_MAX];
                sl_time_format_iso(sl_clock_wall_us(), now);
                fprintf(log, "[%s] cancelled: %s\n", now, rt->cancel_reason);
                fclose(log);
            }
            char summary[sizeof rt->outcome.summary];
            snprintf(summary, sizeof summary, "%.200s (%.300s)", rt->cancel_reason, rt->outcome.summary);
            memcpy(rt->outcome.summary, summary, sizeof summary);
            rt->outcome.is_success = false;
        }
    }
    const sl_task_outcome *outcome = &rt->outcome;
    sl_meta_ti_state state = outcome->is_success ? SL_META_TI_SUCCESS
                             : !rt->is_final && rt->try_.try_number < rt->try_.max_tries ? SL_META_TI_UP_FOR_RETRY
                                                                                        : SL_META_TI_FAILED;
    int rc = sl_metadata_ti_set_log_file(s->store, rt->ti_id, rt->log_path, err);
    bool changed = false;
    if (rc == SL_OK)
        rc = sl_metadata_ti_set_state(s->store, rt->ti_id, SL_META_TI_RUNNING, state,
                                      outcome->has_exit_status ? &outcome->exit_status : NULL, &changed, err);
    if (rc) return rc;
    if (changed)
        sl_info("scheduler", "dag %s run %s task %s: try %d %s: %s", rt->dag_id, rt->run_id, rt->task_id,
                rt->try_.try_number, sl_meta_ti_state_name(state), outcome->summary);
    else
        sl_warn("scheduler", "dag %s run %s task %s: try %d ended (%s) but its row had been moved on (the server "
                "was taken for dead?)", rt->dag_id, rt->run_id, rt->task_id, rt->try_.try_number, outcome->summary);
    return SL_OK;
}

/* Records the tries that ended, cancels those past their timeout. */
static int reap_tries(sl_scheduler *s, sl_error *err)
{
    int64_t now_ms = sl_clock_monotonic_ms();
    int rc = SL_OK;
    for (running_try **at = &s->running; *at;) {
        running_try *rt = *at;
        pthread_mutex_lock(&s->mutex);
        bool is_done = rt->is_done;
        pthread_mutex_unlock(&s->mutex);
        if (!is_done) {
            if (rt->deadline_ms && now_ms >= rt->deadline_ms && !atomic_load(&rt->cancel)) {
                snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "timed out after %" PRId64 " s (timeout)",
                         rt->try_.task->timeout_ms / 1000);
                atomic_store(&rt->cancel, true);
            } else if (rt->deadline_ms && !atomic_load(&rt->cancel)) {
                wake_at(s, sl_clock_wall_us() + (rt->deadline_ms - now_ms) * 1000);
            }
            at = &rt->next;
            continue;
        }
        if (rc == SL_OK) rc = record_try(s, rt, err);
        if (rc) {
            at = &rt->next;
            continue;
        }
        *at = rt->next;
        s->n_running--;
        generation_release(rt->gen);
        free(rt);
    }
    return rc;
}

/* ---- the loop ---- */

static int heartbeat(sl_scheduler *s, sl_error *err)
{
    int64_t now = sl_clock_monotonic_ms();
    if (now < s->next_heartbeat_ms) return SL_OK;
    int rc = sl_metadata_server_heartbeat(s->store, s->server_id, err);
    if (rc == SL_ENOTFOUND) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        rc = sl_metadata_server_register(s->store, s->server_id, host, (int64_t)getpid(), err);
    }
    int64_t ids[64];
    size_t n = 0;
    if (rc == SL_OK) rc = sl_metadata_reap_stale(s->store, (int64_t)SL_SCHEDULER_STALE_MS * 1000, ids, 64, &n, err);
    for (size_t i = 0; i < n; i++)
        sl_warn("scheduler", "task instance %" PRId64 ": its server stopped heartbeating; failed or up for retry",
                ids[i]);
    if (rc == SL_OK) s->next_heartbeat_ms = now + SL_SCHEDULER_HEARTBEAT_MS;
    return rc;
}

/* Takes a reload's generation, when one is waiting. */
static int take_pending(sl_scheduler *s, sl_error *err)
{
    pthread_mutex_lock(&s->mutex);
    generation *pending = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->mutex);
    if (!pending) return SL_OK;
    generation_release(s->current);
    s->current = pending;
    return sync_dags(s, err);
}

static int pass(sl_scheduler *s, sl_error *err)
{
    int64_t now_us = sl_clock_wall_us();
    int rc = take_pending(s, err);
    if (rc == SL_OK) rc = reap_tries(s, err);
    if (rc == SL_OK) rc = heartbeat(s, err);
    if (rc == SL_OK) rc = read_paused(s, err);
    for (size_t d = 0; rc == SL_OK && d < s->current->dags->n_dags; d++) rc = schedule_dag(s, d, now_us, err);
    if (rc == SL_OK) rc = claim_tries(s, err);
    return rc;
}

static void wait_for_work(sl_scheduler *s, int64_t wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = (int64_t)until.tv_nsec + (wait_ms % 1000) * 1000000;
    until.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&s->mutex);
    while (!s->is_woken && !s->is_stopping)
        if (pthread_cond_timedwait(&s->wake, &s->mutex, &until) != 0) break;
    s->is_woken = false;
    pthread_mutex_unlock(&s->mutex);
}

static bool is_stopping(sl_scheduler *s)
{
    pthread_mutex_lock(&s->mutex);
    bool stopping = s->is_stopping;
    pthread_mutex_unlock(&s->mutex);
    return stopping;
}

/* Cancels what runs here and records each try as it ends. */
static void drain_tries(sl_scheduler *s)
{
    for (running_try *rt = s->running; rt; rt = rt->next) {
        if (atomic_load(&rt->cancel)) continue;
        snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "the server stopped");
        atomic_store(&rt->cancel, true);
    }
    int64_t give_up = sl_clock_monotonic_ms() + 60000;
    while (s->running) {
        sl_error err;
        sl_error_clear(&err);
        if (reap_tries(s, &err) && sl_clock_monotonic_ms() > give_up) {
            report(s, "recording the tries cancelled at stop", &err);
            break;
        }
        if (s->running) sl_sleep_ms(20);
    }
    while (s->running) {   /* not recorded: the store is gone; another server's reaper will see them */
        running_try *rt = s->running;
        s->running = rt->next;
        if (!rt->is_joined) pthread_join(rt->thread, NULL);
        generation_release(rt->gen);
        free(rt);
    }
}

static void *scheduler_main(void *arg)
{
    sl_scheduler *s = arg;
    int64_t backoff_ms = 0;
    while (!is_stopping(s)) {
        s->next_wake_us = sl_clock_wall_us() + SL_SCHEDULER_IDLE_WAIT_MS * 1000;
        sl_error err;
        sl_error_clear(&err);
        int rc = pass(s, &err);
        int64_t wait_ms = (s->next_wake_us - sl_clock_wall_us()) / 1000;
        if (rc) {
            report(s, "a scheduler pass", &err);
            backoff_ms = backoff_ms ? backoff_ms * 2 : 500;
            if (backoff_ms > 30000) backoff_ms = 30000;
            wait_ms = backoff_ms;
        } else {
            backoff_ms = 0;
        }
        if (wait_ms > 0) wait_for_work(s, wait_ms);
    }
    drain_tries(s);
    return NULL;
}

/* ---- the interface ---- */

static void make_server_id(char *out, size_t size)
{
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    unsigned random = 0;
    FILE *urandom = fopen("/dev/urandom", "rb");
    if (!urandom || fread(&random, sizeof random, 1, urandom) != 1) random = (unsigned)sl_clock_monotonic_us();
    if (urandom) fclose(urandom);
    snprintf(out, size, "%s-%ld-%08x", host, (long)getpid(), random);
}

int sl_scheduler_start(sl_plan *plan, const sl_scheduler_options *options, sl_scheduler **out, sl_error *err)
{
    *out = NULL;
    sl_scheduler *s = calloc(1, sizeof *s);
    if (!s) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mutex, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->run_ended, NULL);
    s->log = options->log;
    s->control = options->control;
    s->control_context = options->control_context;
    s->only_run = options->only_run;
    make_server_id(s->server_id, sizeof s->server_id);
    /* Log paths are stored absolute, for readers with another working directory. */
    s->data_dir = realpath(options->data_dir, NULL);
    if (!s->data_dir) s->data_dir = strdup(options->data_dir);
    int rc = s->data_dir ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK) rc = generation_new(plan, &s->current, err);
    if (rc == SL_OK) rc = sl_metadata_open(plan->metadata, &s->store, err);
    if (rc == SL_OK) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        rc = sl_metadata_server_register(s->store, s->server_id, host, (int64_t)getpid(), err);
    }
    if (rc == SL_OK) rc = sync_dags(s, err);
    /* An SQLite store has one server, this one (it holds the data dir):
     * whatever another id left queued or running died with its process. */
    if (rc == SL_OK && strcmp(sl_metadata_backend(s->store), "sqlite") == 0) {
        int64_t ids[64];
        size_t n = 64;
        while (rc == SL_OK && n == 64) rc = sl_metadata_reap_stale(s->store, 0, ids, 64, &n, err);
    }
    s->next_heartbeat_ms = sl_clock_monotonic_ms() + SL_SCHEDULER_HEARTBEAT_MS;
    if (rc == SL_OK && pthread_create(&s->thread, NULL, scheduler_main, s) != 0)
        rc = sl_error_set(err, SL_ENOMEM, "cannot start the scheduler's thread");
    if (rc) {
        sl_metadata_close(s->store);
        generation_release(s->current);
        free(s->is_paused);
        free(s->data_dir);
        pthread_mutex_destroy(&s->mutex);
        pthread_cond_destroy(&s->wake);
        pthread_cond_destroy(&s->run_ended);
        free(s);
        return rc;
    }
    s->has_thread = true;
    s->latest = s->current;
    atomic_fetch_add(&s->latest->refs, 1);
    sl_info("scheduler", "started as %s with metadata in %s (%s), %zu DAGs", s->server_id,
            sl_metadata_where(s->store), sl_metadata_backend(s->store), s->current->dags->n_dags);
    *out = s;
    return SL_OK;
}

int sl_scheduler_apply(sl_scheduler *scheduler, sl_plan *plan, sl_error *err)
{
    generation *gen = NULL;
    int rc = generation_new(plan, &gen, err);
    if (rc) return rc;
    pthread_mutex_lock(&scheduler->mutex);
    generation *old = scheduler->pending;
    generation *old_latest = scheduler->latest;
    scheduler->pending = gen;
    atomic_fetch_add(&gen->refs, 1);
    scheduler->latest = gen;
    scheduler->is_woken = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_mutex_unlock(&scheduler->mutex);
    generation_release(old);
    generation_release(old_latest);
    return SL_OK;
}

void sl_scheduler_wake(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    scheduler->is_woken = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_mutex_unlock(&scheduler->mutex);
}

const char *sl_scheduler_server_id(const sl_scheduler *scheduler)
{
    return scheduler->server_id;
}

int sl_scheduler_wait_run(sl_scheduler *scheduler, int64_t id, sl_meta_run_state *state, sl_error *err)
{
    if (id != scheduler->only_run)
        return sl_error_set_permanent(err, SL_EINVAL, "the scheduler waits only for the run it was started for");
    pthread_mutex_lock(&scheduler->mutex);
    while (!scheduler->is_only_run_ended && !scheduler->is_stopping)
        pthread_cond_wait(&scheduler->run_ended, &scheduler->mutex);
    bool is_ended = scheduler->is_only_run_ended;
    *state = scheduler->only_run_state;
    pthread_mutex_unlock(&scheduler->mutex);
    return is_ended ? SL_OK : sl_error_set(err, SL_ECANCELED, "the scheduler stopped before the run ended");
}

sl_scheduler_dags *sl_scheduler_dags_acquire(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    generation *gen = scheduler->latest;
    atomic_fetch_add(&gen->refs, 1);
    pthread_mutex_unlock(&scheduler->mutex);
    return gen;
}

const sl_dag_set *sl_scheduler_dags_set(const sl_scheduler_dags *dags)
{
    return dags->dags;
}

const sl_plan *sl_scheduler_dags_plan(const sl_scheduler_dags *dags)
{
    return dags->plan;
}

void sl_scheduler_dags_release(sl_scheduler_dags *dags)
{
    generation_release(dags);
}

void sl_scheduler_interrupt(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    scheduler->is_stopping = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_cond_broadcast(&scheduler->run_ended);
    pthread_mutex_unlock(&scheduler->mutex);
}

void sl_scheduler_stop(sl_scheduler *scheduler)
{
    if (!scheduler) return;
    sl_scheduler_interrupt(scheduler);
    if (scheduler->has_thread) pthread_join(scheduler->thread, NULL);
    sl_metadata_close(scheduler->store);
    generation_release(scheduler->current);
    generation_release(scheduler->pending);
    generation_release(scheduler->latest);
    free(scheduler->is_paused);
    free(scheduler->data_dir);
    pthread_mutex_destroy(&scheduler->mutex);
    pthread_cond_destroy(&scheduler->wake);
    pthread_cond_destroy(&scheduler->run_ended);
    free(scheduler);
}
