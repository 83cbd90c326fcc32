/* scheduler_runs.c — the runs of each DAG, one pass at a time (see
 * scheduler.h): due runs created, queued ones started up to
 * max_active_runs, running ones advanced by the trigger rules, retried
 * after their delay, timed out, ended. */
#include <inttypes.h>
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
#include "scheduler/scheduler_loop.h"
#include "scheduler/task_rules.h"
#include "scheduler/timetable.h"

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
int sl__scheduler_sync_dags(sl_scheduler *s, sl_error *err)
{
    const sl_dag_set *dags = s->current->dags;
    free(s->is_paused);
    free(s->next_check_us);
    s->is_paused = calloc(dags->n_dags ? dags->n_dags : 1, sizeof *s->is_paused);
    s->next_check_us = calloc(dags->n_dags ? dags->n_dags : 1, sizeof *s->next_check_us);
    bool *has_row = calloc(dags->n_dags ? dags->n_dags : 1, sizeof *has_row);
    if (!s->is_paused || !s->next_check_us || !has_row) {
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

int sl__scheduler_read_paused(sl_scheduler *s, sl_error *err)
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
            sl__scheduler_wake_at(s, next.end_us);
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
    sl__scheduler_wake_at(s, now_us);   /* more to create: go on at once */
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
    sl__scheduler_cancel_tries_of_run(s, run->id, reason);
    for (size_t t = 0; t < dag->n_tasks; t++) {
        ti_row *row = &rows->by_task[t];
        if (!row->is_present) continue;
        bool changed;
        if (row->state == SL_META_TI_NONE || row->state == SL_META_TI_SCHEDULED ||
            row->state == SL_META_TI_UP_FOR_RETRY) {
            int rc = sl__scheduler_set_ti(s, row->id, row->state, SL_META_TI_SKIPPED, &changed, err);
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
        sl__scheduler_wake_at(s, deadline);
    }
    bool is_changed = true;
    while (is_changed && rc == SL_OK) {
        is_changed = false;
        for (size_t t = 0; t < dag->n_tasks; t++) states[t] = sl_task_state_of_meta(by_task[t].state);
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
                rc = sl__scheduler_set_ti(s, row->id, SL_META_TI_NONE, to, &changed, err);
                if (rc == SL_OK && changed) {
                    row->state = to;
                    is_changed = true;
                }
            } else if (row->state == SL_META_TI_UP_FOR_RETRY) {
                int64_t delay_ms = sl_retry_delay_ms(task->retry_delay_ms, task->retry_exponential_backoff,
                                                     task->max_retry_delay_ms, row->try_number);
                int64_t due = (row->end_us == SL_META_NO_TIME ? now_us : row->end_us) + delay_ms * 1000;
                if (now_us < due) {
                    sl__scheduler_wake_at(s, due);
                    continue;
                }
                if (row->try_number >= row->max_tries) {
                    rc = sl__scheduler_set_ti(s, row->id, SL_META_TI_UP_FOR_RETRY, SL_META_TI_FAILED, &changed, err);
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
        states[t] = sl_task_state_of_meta(by_task[t].state);
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

int sl__scheduler_schedule_dag(sl_scheduler *s, size_t index, int64_t now_us, sl_error *err)
{
    const sl_dag *dag = &s->current->dags->dags[index];
    int64_t loop_wake_us = s->next_wake_us;
    s->next_wake_us = now_us + SWEEP_MS * INT64_C(1000);   /* what this DAG asks for, below */
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
    bool is_busy = rc != SL_OK || (active.n > 0 && (!s->is_paused[index] || s->only_run));
    s->next_check_us[index] = is_busy ? 0 : s->next_wake_us;
    if (loop_wake_us < s->next_wake_us) s->next_wake_us = loop_wake_us;
    free(active.items);
    return rc;
}

