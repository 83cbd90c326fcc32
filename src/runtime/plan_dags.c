/* plan_dags.c — checking a config file's `dags:` block (see plan_dags.h):
 * every setting through the option tables of plan_settings.c, then what
 * the tables cannot say: a schedule that is a valid cron expression (its
 * mistake placed at its column in the file), an interval or null; a zone
 * of the tz database; start and end dates in order; one body per task;
 * the pipelines and tasks named existing; no cycle in depends_on.
 */
#include "runtime/plan_dags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"
#include "core/tz.h"
#include "runtime/plan_settings.h"
#include "runtime/plan_task.h"
#include "scheduler/cron.h"
#include "scheduler/macros.h"

static int worse(int a, int b)
{
    if (a == SL_ENOMEM || b == SL_ENOMEM) return SL_ENOMEM;
    return a ? a : b;
}

/* Whether a task of some DAG of the file runs the pipeline called name. */
static bool is_task_pipeline(const sl_node *dags, const char *name)
{
    for (size_t d = 0; dags && dags->kind == SL_NODE_MAP && d < dags->n_pairs; d++) {
        const sl_node *tasks = sl_node_get(dags->pairs[d].value, "tasks");
        for (size_t t = 0; tasks && tasks->kind == SL_NODE_MAP && t < tasks->n_pairs; t++) {
            const sl_node *pipeline = sl_node_get(tasks->pairs[t].value, "pipeline");
            if (pipeline && pipeline->kind == SL_NODE_SCALAR && pipeline->scalar && strcmp(pipeline->scalar, name) == 0)
                return true;
        }
    }
    return false;
}

static int check_schedule(sl_diagnostics *diags, const sl_node *schedule, const char *where)
{
    if (!schedule) return SL_OK;   /* absent or null: manual runs only */
    if (schedule->kind == SL_NODE_MAP) {
        sl_every_conf every = { 0 };
        char every_where[400];
        snprintf(every_where, sizeof every_where, "%s.schedule", where);
        int rc = sl_options_apply_all(sl_every_options, schedule, &every, every_where, diags);
        sl_options_free(sl_every_options, &every);
        return rc;
    }
    if (schedule->kind != SL_NODE_SCALAR)
        return sl_diag_error_at(diags, schedule, "%s.schedule: expected a cron expression, { every: DURATION } or "
                                "null, found a %s", where, sl_node_kind_name(schedule->kind));
    sl_cron cron;
    sl_error err;
    sl_error_clear(&err);
    size_t column = 0;
    if (sl_cron_parse_at(schedule->scalar, &cron, &column, &err) == SL_OK) return SL_OK;
    /* Inside a quoted scalar the text starts one column after the quote. */
    if (column > 0 && !strchr(schedule->scalar, '\n'))
        return sl_diag_error_at_position(diags, schedule->file, schedule->line,
                                         schedule->column + (int)column - 1 + (schedule->is_quoted ? 1 : 0),
                                         "%s.schedule: %s", where, err.message);
    return sl_diag_error_at(diags, schedule, "%s.schedule: %s", where, err.message);
}

/* A date setting in tz; SL_OK with *us, or an error at its node. */
static int check_date(sl_diagnostics *diags, const sl_node *dag, const char *key, const char *text, const sl_tz *tz,
                      const char *where, int64_t *us)
{
    if (!text || !tz) return SL_OK;
    sl_error err;
    sl_error_clear(&err);
    if (sl_tz_parse_time(tz, text, us, &err) == SL_OK) return SL_OK;
    return sl_diag_error_at(diags, sl_node_get(dag, key), "%s.%s: %s", where, key, err.message);
}

/* A scalar with its run macros given the values of a sample run (logical
 * date 2000-01-01, try 1), as checks see it. */
static int expand_sample(void *context, sl_arena *arena, const char *text, const char **out, sl_error *err)
{
    (void)context;
    *out = text;
    if (!strstr(text, "${")) return SL_OK;
    sl_macro_context sample = { .dag_id = "dag", .task_id = "task", .run_id = "manual__2000-01-01T00:00:00+00:00",
                                .data_interval_start_us = INT64_C(946684800000000),
                                .data_interval_end_us = INT64_C(946771200000000), .try_number = 1 };
    char *expanded = NULL;
    int rc = sl_macros_expand(text, &sample, &expanded, err);
    if (rc) return rc;
    *out = sl_arena_strndup(arena, expanded, strlen(expanded));
    free(expanded);
    return *out ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
}

static int check_body(sl_diagnostics *diags, const sl_node *dags, const sl_plan *plan, const sl_node *task_node,
                      const sl_task_conf *task, const char *where)
{
    int n_bodies = (task->pipeline != NULL) + (task->command.n_items > 0) + (task->shell != NULL) +
                   (task->sql != NULL) + (task->sensor != NULL) + (task->control != NULL);
    if (n_bodies != 1)
        return sl_diag_error_at(diags, task_node, "%s: give exactly one of pipeline, command, shell, sql, sensor or "
                                "control (it has %d)", where, n_bodies);
    char sub_where[800];
    int rc = SL_OK;
    if (task->pipeline && !sl_plan_pipeline(plan, task->pipeline))
        return sl_diag_error_at(diags, sl_node_get(task_node, "pipeline"), "%s: no pipeline named '%s' in this file",
                                where, task->pipeline);
    if (task->overrides && !task->pipeline)
        return sl_diag_error_at(diags, task->overrides, "%s.overrides: only a pipeline task has overrides", where);
    if (task->pipeline) {
        /* The pipeline as the task will run it, its macros given the values
         * of a sample run, so a ${ds_nodash} seed checks as the number it
         * will be. */
        sl_plan *derived = NULL;
        sl_error err;
        sl_error_clear(&err);
        int derive_rc = sl_plan_for_task((sl_plan *)plan, task->pipeline, task->overrides, expand_sample, NULL,
                                         &derived, &err);
        sl_plan_free(derived);
        snprintf(sub_where, sizeof sub_where, "%s.overrides", where);
        if (derive_rc) return sl_diag_add_error_at(diags, task->overrides, sub_where, &err);
    }
    if (task->command.n_items > 0 && task->command.items[0][0] == '\0')
        return sl_diag_error_at(diags, sl_node_get(task_node, "command"), "%s.command: the program name is empty",
                                where);
    if (task->sql) {
        sl_task_sql_conf sql = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.sql", where);
        rc = sl_options_apply_all(sl_task_sql_options, task->sql, &sql, sub_where, diags);
        sl_options_free(sl_task_sql_options, &sql);
    }
    if (task->sensor) {
        sl_task_sensor_conf sensor = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.sensor", where);
        rc = sl_options_apply_all(sl_task_sensor_options, task->sensor, &sensor, sub_where, diags);
        if (rc == SL_OK && strcmp(sensor.until, "lag_zero") == 0 && !sensor.group)
            rc = sl_diag_error_at(diags, task->sensor, "%s: until: lag_zero needs the group whose lag is watched",
                                  sub_where);
        sl_options_free(sl_task_sensor_options, &sensor);
    }
    if (task->control) {
        sl_task_control_conf control = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.control", where);
        rc = sl_options_apply_all(sl_task_control_options, task->control, &control, sub_where, diags);
        const sl_node *named = sl_node_get(task->control, "pipeline");
        if (rc == SL_OK && !sl_plan_pipeline(plan, control.pipeline))
            rc = sl_diag_error_at(diags, named, "%s: no pipeline named '%s' in this file", sub_where,
                                  control.pipeline);
        else if (rc == SL_OK && is_task_pipeline(dags, control.pipeline))
            rc = sl_diag_error_at(diags, named, "%s: pipeline '%s' is run by a task, so it is not a continuous "
                                  "pipeline of the server to %s", sub_where, control.pipeline, control.action);
        sl_options_free(sl_task_control_options, &control);
    }
    return rc;
}

/* ---- cycles in depends_on ---- */

typedef struct task_graph {
    const sl_node *tasks;
    sl_str_list *depends_on;   /* per task */
    int *mark;                 /* 0 unseen, 1 on the path, 2 done */
    size_t *path;
    size_t path_len;
} task_graph;

static size_t task_index(const task_graph *graph, const char *name)
{
    for (size_t i = 0; i < graph->tasks->n_pairs; i++)
        if (strcmp(graph->tasks->pairs[i].key, name) == 0) return i;
    return (size_t)-1;
}

/* Depth-first: returns the index where a cycle starts on graph->path, or -1. */
static long find_cycle(task_graph *graph, size_t task)
{
    graph->mark[task] = 1;
    graph->path[graph->path_len++] = task;
    for (size_t d = 0; d < graph->depends_on[task].n_items; d++) {
        size_t next = task_index(graph, graph->depends_on[task].items[d]);
        if (next == (size_t)-1 || next == task) continue;   /* unknown, or itself: reported apart */
        if (graph->mark[next] == 1) {
            for (size_t p = 0; p < graph->path_len; p++)
                if (graph->path[p] == next) return (long)p;
        }
        if (graph->mark[next] == 0) {
            long found = find_cycle(graph, next);
            if (found >= 0) return found;
        }
    }
    graph->mark[task] = 2;
    graph->path_len--;
    return -1;
}

static int check_cycles(sl_diagnostics *diags, const sl_node *tasks, sl_str_list *depends_on, const char *where)
{
    size_t n = tasks->n_pairs;
    task_graph graph = { tasks, depends_on, calloc(n, sizeof(int)), calloc(n, sizeof(size_t)), 0 };
    int rc = SL_OK;
    if (!graph.mark || !graph.path) rc = sl_diag_error_at(diags, tasks, "out of memory");
    for (size_t t = 0; rc == SL_OK && t < n; t++) {
        if (graph.mark[t]) continue;
        graph.path_len = 0;
        long start = find_cycle(&graph, t);
        if (start < 0) continue;
        char cycle[600] = "";
        size_t len = 0;
        for (size_t p = (size_t)start; p < graph.path_len && len < sizeof cycle; p++)
            len += (size_t)snprintf(cycle + len, sizeof cycle - len, "%s → ", tasks->pairs[graph.path[p]].key);
        if (len < sizeof cycle) snprintf(cycle + len, sizeof cycle - len, "%s", tasks->pairs[graph.path[start]].key);
        const sl_node_pair *first = &tasks->pairs[graph.path[start]];
        rc = sl_diag_error_at(diags, sl_node_get(first->value, "depends_on"), "%s.tasks: depends_on makes a cycle: %s",
                              where, cycle);
    }
    free(graph.mark);
    free(graph.path);
    return rc;
}

/* ---- a DAG ---- */

static int check_dag(sl_diagnostics *diags, const sl_plan *plan, const sl_node *dags, const sl_node_pair *pair)
{
    sl_dag_conf dag = { 0 };
    char where[300];
    snprintf(where, sizeof where, "dags.%s", pair->key);
    int rc = sl_options_apply_all(sl_dag_options, pair->value, &dag, where, diags);
    if (rc == SL_ENOMEM) goto done;
    rc = worse(rc, check_schedule(diags, dag.schedule, where));
    sl_tz *tz = NULL;
    if (dag.timezone) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_tz_load(dag.timezone, &tz, &err))
            rc = worse(rc, sl_diag_error_at(diags, sl_node_get(pair->value, "timezone"), "%s.timezone: %s", where,
                                            err.message));
    }
    int64_t start = 0, end = 0;
    int start_rc = check_date(diags, pair->value, "start_date", dag.start_date, tz, where, &start);
    int end_rc = check_date(diags, pair->value, "end_date", dag.end_date, tz, where, &end);
    rc = worse(rc, worse(start_rc, end_rc));
    if (tz && dag.start_date && dag.end_date && start_rc == SL_OK && end_rc == SL_OK && end < start)
        rc = worse(rc, sl_diag_error_at(diags, sl_node_get(pair->value, "end_date"), "%s.end_date: %s is before "
                                        "start_date %s", where, dag.end_date, dag.start_date));
    sl_tz_free(tz);
    if (!dag.tasks) goto done;
    size_t n = dag.tasks->n_pairs;
    sl_str_list *depends_on = calloc(n ? n : 1, sizeof *depends_on);
    if (!depends_on) {
        rc = SL_ENOMEM;
        goto done;
    }
    for (size_t t = 0; t < n && rc != SL_ENOMEM; t++) {
        const sl_node_pair *task_pair = &dag.tasks->pairs[t];
        sl_task_conf task = { 0 };
        char task_where[700];
        snprintf(task_where, sizeof task_where, "%s.tasks.%s", where, task_pair->key);
        int task_rc = sl_options_apply_all(sl_task_options, task_pair->value, &task, task_where, diags);
        if (task_rc == SL_OK) task_rc = check_body(diags, dags, plan, task_pair->value, &task, task_where);
        for (size_t d = 0; task_rc != SL_ENOMEM && d < task.depends_on.n_items; d++) {
            const char *name = task.depends_on.items[d];
            if (strcmp(name, task_pair->key) == 0)
                task_rc = sl_diag_error_at(diags, sl_node_get(task_pair->value, "depends_on"),
                                           "%s: depends on itself", task_where);
            else if (!sl_node_get(dag.tasks, name))
                task_rc = sl_diag_error_at(diags, sl_node_get(task_pair->value, "depends_on"),
                                           "%s: depends on unknown task '%s'", task_where, name);
        }
        rc = worse(rc, task_rc);
        depends_on[t] = task.depends_on;
        task.depends_on = (sl_str_list){ 0 };
        sl_options_free(sl_task_options, &task);
    }
    if (rc != SL_ENOMEM) rc = worse(rc, check_cycles(diags, dag.tasks, depends_on, where));
    for (size_t t = 0; t < n; t++) sl_str_list_free(&depends_on[t]);
    free(depends_on);
done:
    sl_options_free(sl_dag_options, &dag);
    return rc;
}

/* ---- run macros outside DAG tasks ---- */

/* The first run macro named in text ("ds" of "out/${ds}.jsonl") into name,
 * or false; `$${` escapes are skipped. */
static bool find_macro(const char *text, char *name, size_t size)
{
    for (const char *at = strstr(text, "${"); at; at = strstr(at + 2, "${")) {
        if (at > text && at[-1] == '$') continue;
        const char *end = strchr(at + 2, '}');
        if (!end) return false;
        if (sl_macros_is_name(at + 2, (size_t)(end - at - 2))) {
            snprintf(name, size, "%.*s", (int)(end - at - 2), at + 2);
            return true;
        }
    }
    return false;
}

static int check_no_macros(sl_diagnostics *diags, const sl_node *node, const char *pipeline)
{
    if (!node) return SL_OK;
    char name[64];
    if (node->kind == SL_NODE_SCALAR && node->scalar && find_macro(node->scalar, name, sizeof name))
        return sl_diag_error_at(diags, node, "pipelines.%s: ${%s} is a run macro, expanded only in a pipeline a DAG "
                                "task runs; no task runs this one", pipeline, name);
    int rc = SL_OK;
    for (size_t i = 0; node->kind == SL_NODE_MAP && i < node->n_pairs && rc == SL_OK; i++)
        rc = check_no_macros(diags, node->pairs[i].value, pipeline);
    for (size_t i = 0; node->kind == SL_NODE_LIST && i < node->n_items && rc == SL_OK; i++)
        rc = check_no_macros(diags, node->items[i], pipeline);
    return rc;
}

int sl__plan_check_macros(const sl_plan *plan, const sl_node *dags, sl_diagnostics *diags)
{
    int rc = SL_OK;
    for (size_t i = 0; i < plan->n_pipelines; i++) {
        const sl_pipeline_plan *pipeline = &plan->pipelines[i];
        if (!pipeline->node || is_task_pipeline(dags, pipeline->name)) continue;
        rc = worse(rc, check_no_macros(diags, pipeline->node, pipeline->name));
    }
    return rc;
}

int sl__plan_check_dags(const sl_plan *plan, const sl_node *dags, sl_diagnostics *diags)
{
    int rc = SL_OK;
    for (size_t i = 0; i < dags->n_pairs && rc != SL_ENOMEM; i++) rc = worse(rc, check_dag(diags, plan, dags, &dags->pairs[i]));
    return rc;
}
