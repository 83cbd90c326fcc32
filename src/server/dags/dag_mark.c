/* dag_mark.c — Airflow's "mark success" and "mark failed", for a whole DAG
 * run and for tasks of a run (see dag_api.h).
 *
 * A run marked success: the latest try of every task that has not
 * succeeded becomes success. A run marked failed: tries queued or running
 * become failed, those not started yet (none, scheduled, up for retry)
 * skipped; finished ones stay. Then the run takes that state.
 *
 * Tasks marked (the one named, with its downstream or upstream tasks when
 * asked): the latest try of each becomes the state. Then, as Airflow does,
 * the failed and upstream_failed tasks downstream of them are cleared so
 * they run again by their trigger rules (which queues the run); when
 * nothing was cleared and every task is done, the run's state is worked out
 * again from its tasks (a failed run whose failed leaf was marked success
 * succeeds).
 *
 * Every change is a compare-and-set on the state read a moment before, so
 * a try that ends meanwhile is never overwritten blindly: the mark reads
 * again and goes on (a few times, then 409). A try running on a server is
 * cancelled by its scheduler when it sees the row marked (its process
 * killed, "cancelled: its task instance was marked ..." in its log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "server/dags/dag_api.h"
#include "server/dags/dag_body.h"
#include "server/dags/dag_json.h"
#include "scheduler/task_rules.h"

/* Reads and compare-and-sets before a mark gives up on a busy run. */
#define MARK_ATTEMPTS 5

/* The latest try of each task of a run. */
typedef struct latest_tries {
    const sl_dag *dag;
    int64_t *id;
    int *try_number;
    sl_meta_ti_state *state;
    bool *is_present;
} latest_tries;

static int keep_latest(void *context, const sl_meta_ti *ti)
{
    latest_tries *latest = context;
    size_t t = sl_dag_task_index(latest->dag, ti->task_id);
    if (t == (size_t)-1) return SL_OK;   /* a task a reload removed */
    if (latest->is_present[t] && latest->try_number[t] >= ti->try_number) return SL_OK;
    latest->is_present[t] = true;
    latest->id[t] = ti->id;
    latest->try_number[t] = ti->try_number;
    latest->state[t] = ti->state;
    return SL_OK;
}

static int latest_new(const sl_dag *dag, latest_tries *latest)
{
    size_t n = dag->n_tasks ? dag->n_tasks : 1;
    *latest = (latest_tries){ dag, calloc(n, sizeof(int64_t)), calloc(n, sizeof(int)),
                              calloc(n, sizeof(sl_meta_ti_state)), calloc(n, sizeof(bool)) };
    return latest->id && latest->try_number && latest->state && latest->is_present ? SL_OK : SL_ENOMEM;
}

static void latest_free(latest_tries *latest)
{
    free(latest->id);
    free(latest->try_number);
    free(latest->state);
    free(latest->is_present);
}

static int latest_read(sl_metadata *store, int64_t run, latest_tries *latest, sl_error *err)
{
    memset(latest->is_present, 0, (latest->dag->n_tasks ? latest->dag->n_tasks : 1) * sizeof(bool));
    return sl_metadata_ti_list(store, run, keep_latest, latest, err);
}

/* "success" or "failed" from the body's state field; false after a 400. */
static bool target_state(const sl_value *request, sl_meta_ti_state *state, sl_http_response *out)
{
    const sl_value *value = sl_dag_body_field(request, "state");
    char text[16];
    if (!value) {
        sl_http_error(out, 400, "state is required: \"success\" or \"failed\"");
        return false;
    }
    if (!sl_dag_body_string(value, "state", text, sizeof text, out)) return false;
    if (strcmp(text, "success") == 0) *state = SL_META_TI_SUCCESS;
    else if (strcmp(text, "failed") == 0) *state = SL_META_TI_FAILED;
    else {
        sl_http_error(out, 400, "state '%s' cannot be marked: \"success\" or \"failed\"", text);
        return false;
    }
    return true;
}

/* What a run marked `to` does to a try in `from`; from itself when nothing. */
static sl_meta_ti_state run_mark_of(sl_meta_ti_state from, sl_meta_ti_state to)
{
    if (to == SL_META_TI_SUCCESS) return SL_META_TI_SUCCESS;
    switch (from) {
    case SL_META_TI_QUEUED:
    case SL_META_TI_RUNNING: return SL_META_TI_FAILED;
    case SL_META_TI_NONE:
    case SL_META_TI_SCHEDULED:
    case SL_META_TI_UP_FOR_RETRY: return SL_META_TI_SKIPPED;
    default: return from;
    }
}

/* Moves the run from its current state to state, reading it again when it
 * moved meanwhile. */
static int set_run_state(sl_metadata *store, int64_t row, sl_meta_run_state state, sl_error *err)
{
    for (int attempt = 0; attempt < MARK_ATTEMPTS; attempt++) {
        sl_dag_run_state run = { 0 };
        int rc = sl_metadata_run_get(store, row, sl_dag_keep_run_state, &run, err);
        if (rc || run.state == state) return rc;
        bool changed = false;
        rc = sl_metadata_run_set_state(store, row, run.state, state, &changed, err);
        if (rc || changed) return rc;
    }
    return sl_error_set(err, SL_EAGAIN, "the run kept changing state while it was being marked; try again");
}

static void write_names(sl_json_out *json, const char *key, const sl_dag *dag, const bool *flags)
{
    sl_json_key(json, key);
    sl_json_begin_array(json);
    for (size_t t = 0; t < dag->n_tasks; t++)
        if (flags[t]) sl_json_string(json, dag->tasks[t].name);
    sl_json_end_array(json);
}

static void write_answer(sl_http_response *out, const char *dag_id, const char *run_id, const char *task_id,
                         const sl_dag *dag, const bool *marked, const bool *cleared, sl_meta_run_state run_state)
{
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dag_id");
    sl_json_string(&json, dag_id);
    sl_json_key(&json, "run_id");
    sl_json_string(&json, run_id);
    if (task_id) {
        sl_json_key(&json, "task_id");
        sl_json_string(&json, task_id);
    }
    write_names(&json, "marked", dag, marked);
    if (cleared) write_names(&json, "cleared", dag, cleared);
    sl_json_key(&json, "state");
    sl_json_string(&json, sl_meta_run_state_name(run_state));
    sl_json_end_object(&json);
    if (json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (json.rc) sl_http_error(out, 500, "out of memory");
}

/* Sets the latest try of each task t with wanted[t] to the state
 * state_of(its state, to), reading again after a lost race. marked[t] says
 * which changed. */
static int mark_tries(sl_metadata *store, int64_t run, latest_tries *latest, const bool *wanted,
                      sl_meta_ti_state to, bool is_run_mark, bool *marked, sl_error *err)
{
    const sl_dag *dag = latest->dag;
    for (int attempt = 0; attempt < MARK_ATTEMPTS; attempt++) {
        int rc = latest_read(store, run, latest, err);
        if (rc) return rc;
        bool is_lost = false;
        for (size_t t = 0; t < dag->n_tasks; t++) {
            if (!wanted[t] || !latest->is_present[t]) continue;
            sl_meta_ti_state from = latest->state[t];
            sl_meta_ti_state state = is_run_mark ? run_mark_of(from, to) : to;
            if (state == from) continue;
            bool changed = false;
            rc = sl_metadata_ti_set_state(store, latest->id[t], from, state, NULL, &changed, err);
            if (rc) return rc;
            if (changed) marked[t] = true;
            else is_lost = true;
        }
        if (!is_lost) return SL_OK;
    }
    return sl_error_set(err, SL_EAGAIN, "tries of the run kept changing state while they were being marked; "
                        "try again");
}

static int answer_status(int rc, const sl_error *err)
{
    return rc == SL_EAGAIN ? 409 : sl_dag_api_status_of(rc, err);
}

void sl_dag_api_mark_run(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *body,
                         size_t len, sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    static const char *const fields[] = { "state", NULL };
    size_t n = dag->n_tasks ? dag->n_tasks : 1;
    sl_arena *arena = sl_arena_new(1024);
    bool *all = calloc(n, sizeof *all), *marked = calloc(n, sizeof *marked);
    latest_tries latest;
    int rc = latest_new(dag, &latest);
    sl_error err;
    sl_error_clear(&err);
    if (!arena || !all || !marked || rc) {
        sl_http_error(out, 500, "out of memory");
        goto done;
    }
    sl_value request;
    sl_meta_ti_state to;
    if (!sl_dag_body_parse(arena, body, len, fields, &request, out) || !target_state(&request, &to, out)) goto done;
    sl_dag_run_state run = { 0 };
    rc = sl_metadata_run_find(api->store, dag_id, run_id, sl_dag_keep_run_state, &run, &err);
    if (rc == SL_ENOTFOUND) {
        sl_http_error(out, 404, "DAG '%s' has no run '%s'", dag_id, run_id);
        goto done;
    }
    for (size_t t = 0; t < dag->n_tasks; t++) all[t] = true;
    sl_meta_run_state run_to = to == SL_META_TI_SUCCESS ? SL_META_RUN_SUCCESS : SL_META_RUN_FAILED;
    if (rc == SL_OK) rc = mark_tries(api->store, run.row, &latest, all, to, true, marked, &err);
    if (rc == SL_OK) rc = set_run_state(api->store, run.row, run_to, &err);
    if (rc) {
        sl_http_error(out, answer_status(rc, &err), "%s", err.message);
        goto done;
    }
    write_answer(out, dag_id, run_id, NULL, dag, marked, NULL, run_to);
done:
    latest_free(&latest);
    free(all);
    free(marked);
    sl_arena_free(arena);
}

/* The tasks upstream of those chosen, added to chosen. */
static void add_upstream(const sl_dag *dag, bool *chosen)
{
    for (bool is_changed = true; is_changed;) {
        is_changed = false;
        for (size_t t = 0; t < dag->n_tasks; t++) {
            if (!chosen[t]) continue;
            for (size_t u = 0; u < dag->tasks[t].n_upstream; u++) {
                if (chosen[dag->tasks[t].upstream[u]]) continue;
                chosen[dag->tasks[t].upstream[u]] = true;
                is_changed = true;
            }
        }
    }
}

/* After a task mark: the failed and upstream_failed tasks downstream of
 * those marked are cleared; when none was and every task is done, the
 * run's state is worked out from its tasks again. */
static int follow_task_mark(sl_metadata *store, const sl_dag *dag, int64_t run, const bool *chosen,
                            latest_tries *latest, bool *cleared, sl_error *err)
{
    size_t n = dag->n_tasks ? dag->n_tasks : 1;
    bool *downstream = calloc(n, sizeof *downstream);
    sl_meta_clear_task *tasks = calloc(n, sizeof *tasks);
    size_t *index_of = calloc(n, sizeof *index_of);
    bool *was_cleared = calloc(n, sizeof *was_cleared);
    sl_task_state *states = calloc(n, sizeof *states);
    int *is_leaf = calloc(n, sizeof *is_leaf);
    int rc = downstream && tasks && index_of && was_cleared && states && is_leaf ? SL_OK : SL_ENOMEM;
    if (rc) {
        sl_error_set(err, rc, "out of memory");
        goto done;
    }
    memcpy(downstream, chosen, n * sizeof *downstream);
    sl_dag_add_downstream(dag, downstream);
    size_t n_clear = 0;
    for (size_t t = 0; t < dag->n_tasks; t++) {
        if (!downstream[t] || chosen[t]) continue;
        tasks[n_clear] = (sl_meta_clear_task){ dag->tasks[t].name, dag->tasks[t].retries };
        index_of[n_clear++] = t;
    }
    size_t n_cleared = 0;
    if (n_clear) rc = sl_metadata_ti_clear(store, run, tasks, n_clear, true, was_cleared, &n_cleared, err);
    for (size_t i = 0; rc == SL_OK && i < n_clear; i++) cleared[index_of[i]] = was_cleared[i];
    if (rc || n_cleared) goto done;
    rc = latest_read(store, run, latest, err);
    if (rc) goto done;
    for (size_t t = 0; t < dag->n_tasks; t++) {
        states[t] = latest->is_present[t] ? sl_task_state_of_meta(latest->state[t]) : SL_TASK_NONE;
        is_leaf[t] = dag->tasks[t].is_leaf;
        if (!sl_task_state_is_done(states[t])) goto done;   /* the scheduler ends it */
    }
    sl_task_state outcome = sl_dag_run_outcome(states, is_leaf, dag->n_tasks);
    rc = set_run_state(store, run, outcome == SL_TASK_SUCCESS ? SL_META_RUN_SUCCESS : SL_META_RUN_FAILED, err);
done:
    free(downstream);
    free(tasks);
    free(index_of);
    free(was_cleared);
    free(states);
    free(is_leaf);
    return rc;
}

void sl_dag_api_mark_task(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *task_id,
                          const char *body, size_t len, sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    static const char *const fields[] = { "state", "downstream", "upstream", NULL };
    size_t n = dag->n_tasks ? dag->n_tasks : 1;
    sl_arena *arena = sl_arena_new(1024);
    bool *chosen = calloc(n, sizeof *chosen), *marked = calloc(n, sizeof *marked);
    bool *cleared = calloc(n, sizeof *cleared);
    latest_tries latest;
    int rc = latest_new(dag, &latest);
    sl_error err;
    sl_error_clear(&err);
    if (!arena || !chosen || !marked || !cleared || rc) {
        sl_http_error(out, 500, "out of memory");
        goto done;
    }
    sl_value request;
    sl_meta_ti_state to;
    bool downstream = false, upstream = false;
    const sl_value *value;
    if (!sl_dag_body_parse(arena, body, len, fields, &request, out) || !target_state(&request, &to, out)) goto done;
    if ((value = sl_dag_body_field(&request, "downstream")) && !sl_dag_body_bool(value, "downstream", &downstream, out))
        goto done;
    if ((value = sl_dag_body_field(&request, "upstream")) && !sl_dag_body_bool(value, "upstream", &upstream, out))
        goto done;
    size_t index = sl_dag_task_index(dag, task_id);
    if (index == (size_t)-1) {
        sl_http_error(out, 404, "DAG '%s' has no task '%s'", dag_id, task_id);
        goto done;
    }
    sl_dag_run_state run = { 0 };
    rc = sl_metadata_run_find(api->store, dag_id, run_id, sl_dag_keep_run_state, &run, &err);
    if (rc == SL_ENOTFOUND) {
        sl_http_error(out, 404, "DAG '%s' has no run '%s'", dag_id, run_id);
        goto done;
    }
    if (rc == SL_OK) rc = latest_read(api->store, run.row, &latest, &err);
    if (rc == SL_OK && !latest.is_present[index]) {
        sl_http_error(out, 409, "task '%s' of run '%s' has no try yet (the run has not started): mark the run "
                      "instead", task_id, run_id);
        goto done;
    }
    chosen[index] = true;
    if (downstream) sl_dag_add_downstream(dag, chosen);
    if (upstream) add_upstream(dag, chosen);
    if (rc == SL_OK) rc = mark_tries(api->store, run.row, &latest, chosen, to, false, marked, &err);
    if (rc == SL_OK) rc = follow_task_mark(api->store, dag, run.row, chosen, &latest, cleared, &err);
    if (rc == SL_OK) rc = sl_metadata_run_get(api->store, run.row, sl_dag_keep_run_state, &run, &err);
    if (rc) {
        sl_http_error(out, answer_status(rc, &err), "%s", err.message);
        goto done;
    }
    write_answer(out, dag_id, run_id, task_id, dag, marked, cleared, run.state);
done:
    latest_free(&latest);
    free(chosen);
    free(marked);
    free(cleared);
    sl_arena_free(arena);
}
