/* dag.c — building the scheduler's DAGs from a checked plan (see dag.h):
 * each block through the same option tables the check used
 * (runtime/plan_settings.c), then the schedule into a timetable, the
 * dates into instants of the DAG's zone, depends_on into indexes.
 */
#include "scheduler/dag.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/fingerprint.h"
#include "config/options.h"
#include "runtime/plan_settings.h"

static const char *const kind_names[] = { "pipeline", "command", "shell", "sql", "sensor", "control" };

const char *sl_task_kind_name(sl_task_kind kind)
{
    if ((size_t)kind >= sizeof kind_names / sizeof kind_names[0]) return NULL;
    return kind_names[kind];
}

static int copy(char **to, const char *from, sl_error *err)
{
    if (!from) {
        *to = NULL;
        return SL_OK;
    }
    *to = strdup(from);
    return *to ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
}

static void task_free(sl_dag_task *task)
{
    free(task->name);
    free(task->pipeline);
    for (size_t i = 0; i < task->argc; i++) free(task->argv[i]);
    free(task->argv);
    free(task->shell);
    free(task->sql_database);
    free(task->sql_statement);
    free(task->sensor_topic);
    free(task->sensor_group);
    free(task->control_action);
    free(task->upstream);
}

static void dag_free(sl_dag *dag)
{
    for (size_t t = 0; t < dag->n_tasks; t++) task_free(&dag->tasks[t]);
    free(dag->tasks);
    free(dag->name);
    free(dag->description);
    free(dag->schedule_text);
    sl_tz_free(dag->tz);
}

void sl_dag_set_free(sl_dag_set *set)
{
    if (!set) return;
    for (size_t d = 0; d < set->n_dags; d++) dag_free(&set->dags[d]);
    free(set->dags);
    free(set);
}

const sl_dag *sl_dag_set_find(const sl_dag_set *set, const char *name)
{
    for (size_t d = 0; set && d < set->n_dags; d++)
        if (strcmp(set->dags[d].name, name) == 0) return &set->dags[d];
    return NULL;
}

size_t sl_dag_task_index(const sl_dag *dag, const char *name)
{
    for (size_t t = 0; t < dag->n_tasks; t++)
        if (strcmp(dag->tasks[t].name, name) == 0) return t;
    return (size_t)-1;
}

/* ---- one task ---- */

static int build_command(sl_dag_task *task, const sl_str_list *command, sl_error *err)
{
    task->argv = calloc(command->n_items + 1, sizeof *task->argv);
    if (!task->argv) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < command->n_items; i++) {
        int rc = copy(&task->argv[i], command->items[i], err);
        if (rc) return rc;
        task->argc++;
    }
    return SL_OK;
}

static int build_body(sl_dag_task *task, const sl_task_conf *conf, const char *where, sl_error *err)
{
    if (conf->pipeline) {
        task->kind = SL_TASK_KIND_PIPELINE;
        task->overrides = conf->overrides;
        return copy(&task->pipeline, conf->pipeline, err);
    }
    if (conf->command.n_items > 0) {
        task->kind = SL_TASK_KIND_COMMAND;
        return build_command(task, &conf->command, err);
    }
    if (conf->shell) {
        task->kind = SL_TASK_KIND_SHELL;
        return copy(&task->shell, conf->shell, err);
    }
    char sub_where[800];
    int rc;
    if (conf->sql) {
        task->kind = SL_TASK_KIND_SQL;
        sl_task_sql_conf sql = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.sql", where);
        rc = sl_options_apply(sl_task_sql_options, conf->sql, &sql, sub_where, err);
        if (rc == SL_OK) rc = copy(&task->sql_database, sql.database, err);
        if (rc == SL_OK) rc = copy(&task->sql_statement, sql.statement, err);
        sl_options_free(sl_task_sql_options, &sql);
        return rc;
    }
    if (conf->sensor) {
        task->kind = SL_TASK_KIND_SENSOR;
        sl_task_sensor_conf sensor = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.sensor", where);
        rc = sl_options_apply(sl_task_sensor_options, conf->sensor, &sensor, sub_where, err);
        if (rc == SL_OK) {
            task->sensor_until = strcmp(sensor.until, "lag_zero") == 0 ? SL_SENSOR_LAG_ZERO
                                                                       : SL_SENSOR_EVENT_TIME_PAST;
            task->poke_interval_ms = sensor.poke_interval_ms;
            rc = copy(&task->sensor_topic, sensor.topic, err);
        }
        if (rc == SL_OK) rc = copy(&task->sensor_group, sensor.group, err);
        sl_options_free(sl_task_sensor_options, &sensor);
        return rc;
    }
    if (conf->control) {
        task->kind = SL_TASK_KIND_CONTROL;
        sl_task_control_conf control = { 0 };
        snprintf(sub_where, sizeof sub_where, "%s.control", where);
        rc = sl_options_apply(sl_task_control_options, conf->control, &control, sub_where, err);
        if (rc == SL_OK) rc = copy(&task->control_action, control.action, err);
        if (rc == SL_OK) rc = copy(&task->pipeline, control.pipeline, err);
        sl_options_free(sl_task_control_options, &control);
        return rc;
    }
    return sl_error_set(err, SL_ECONFIG, "%s: the task has no body", where);
}

static int build_task(sl_dag_task *task, const sl_node_pair *pair, const char *dag_where, sl_task_conf *conf,
                      sl_error *err)
{
    char where[700];
    snprintf(where, sizeof where, "%s.tasks.%s", dag_where, pair->key);
    int rc = sl_options_apply(sl_task_options, pair->value, conf, where, err);
    if (rc) return rc;
    rc = copy(&task->name, pair->key, err);
    if (rc == SL_OK) rc = build_body(task, conf, where, err);
    if (rc) return rc;
    int rule = sl_trigger_rule_parse(conf->trigger_rule);
    if (rule < 0) return sl_error_set(err, SL_ECONFIG, "%s: unknown trigger_rule '%s'", where, conf->trigger_rule);
    task->trigger_rule = (sl_trigger_rule)rule;
    task->retries = (int)conf->retries;
    task->retry_delay_ms = conf->retry_delay_ms;
    task->retry_exponential_backoff = conf->retry_exponential_backoff;
    task->max_retry_delay_ms = conf->max_retry_delay_ms;
    task->timeout_ms = conf->timeout_ms;
    return SL_OK;
}

/* depends_on names into indexes, and which tasks are leaves. */
static int link_tasks(sl_dag *dag, const sl_task_conf *confs, const char *where, sl_error *err)
{
    for (size_t t = 0; t < dag->n_tasks; t++) dag->tasks[t].is_leaf = true;
    for (size_t t = 0; t < dag->n_tasks; t++) {
        sl_dag_task *task = &dag->tasks[t];
        const sl_str_list *names = &confs[t].depends_on;
        if (names->n_items == 0) continue;
        task->upstream = calloc(names->n_items, sizeof *task->upstream);
        if (!task->upstream) return sl_error_set(err, SL_ENOMEM, "out of memory");
        for (size_t d = 0; d < names->n_items; d++) {
            size_t up = sl_dag_task_index(dag, names->items[d]);
            if (up == (size_t)-1 || up == t)
                return sl_error_set(err, SL_ECONFIG, "%s.tasks.%s: depends on unknown task '%s'", where, task->name,
                                    names->items[d]);
            task->upstream[task->n_upstream++] = up;
            dag->tasks[up].is_leaf = false;
        }
    }
    return SL_OK;
}

/* ---- one DAG ---- */

static int build_timetable(sl_dag *dag, const sl_dag_conf *conf, const char *where, sl_error *err)
{
    sl_timetable *timetable = &dag->timetable;
    timetable->tz = dag->tz;
    timetable->catchup = conf->catchup;
    timetable->start_us = SL_TIMETABLE_NONE;
    timetable->end_us = SL_TIMETABLE_NONE;
    const sl_node *schedule = conf->schedule;
    int rc;
    char text[300];
    if (!schedule) {
        timetable->kind = SL_SCHEDULE_NONE;
        snprintf(text, sizeof text, "null");
    } else if (schedule->kind == SL_NODE_MAP) {
        sl_every_conf every = { 0 };
        char every_where[400];
        snprintf(every_where, sizeof every_where, "%s.schedule", where);
        rc = sl_options_apply(sl_every_options, schedule, &every, every_where, err);
        sl_options_free(sl_every_options, &every);
        if (rc) return rc;
        timetable->kind = SL_SCHEDULE_EVERY;
        timetable->every_us = every.every_ms * 1000;
        snprintf(text, sizeof text, "every %" PRId64 "s", every.every_ms / 1000);
    } else {
        timetable->kind = SL_SCHEDULE_CRON;
        rc = sl_cron_parse(schedule->scalar, &timetable->cron, err);
        if (rc) return sl_error_set(err, SL_ECONFIG, "%s.schedule: %s", where, err->message);
        snprintf(text, sizeof text, "%s", schedule->scalar);
    }
    rc = copy(&dag->schedule_text, text, err);
    if (rc == SL_OK && conf->start_date) rc = sl_tz_parse_time(dag->tz, conf->start_date, &timetable->start_us, err);
    if (rc == SL_OK && conf->end_date) rc = sl_tz_parse_time(dag->tz, conf->end_date, &timetable->end_us, err);
    return rc;
}

static int build_dag(sl_dag *dag, const sl_node_pair *pair, sl_error *err)
{
    sl_dag_conf conf = { 0 };
    char where[300];
    snprintf(where, sizeof where, "dags.%s", pair->key);
    int rc = sl_options_apply(sl_dag_options, pair->value, &conf, where, err);
    if (rc) return rc;
    rc = copy(&dag->name, pair->key, err);
    if (rc == SL_OK) rc = copy(&dag->description, conf.description, err);
    if (rc == SL_OK) rc = sl_tz_load(conf.timezone, &dag->tz, err);
    if (rc == SL_OK) rc = build_timetable(dag, &conf, where, err);
    dag->max_active_runs = conf.max_active_runs;
    dag->dagrun_timeout_ms = conf.dagrun_timeout_ms;
    dag->is_paused_at_creation = conf.paused;
    snprintf(dag->fingerprint, sizeof dag->fingerprint, "%016" PRIx64,
             sl_node_fingerprint(pair->value, SL_FINGERPRINT_SEED));
    size_t n = conf.tasks ? conf.tasks->n_pairs : 0;
    sl_task_conf *confs = calloc(n ? n : 1, sizeof *confs);
    dag->tasks = calloc(n ? n : 1, sizeof *dag->tasks);
    if (rc == SL_OK && (!confs || !dag->tasks)) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t t = 0; rc == SL_OK && t < n; t++) {
        rc = build_task(&dag->tasks[t], &conf.tasks->pairs[t], where, &confs[t], err);
        dag->n_tasks++;
    }
    if (rc == SL_OK) rc = link_tasks(dag, confs, where, err);
    for (size_t t = 0; confs && t < n; t++) sl_options_free(sl_task_options, &confs[t]);
    free(confs);
    sl_options_free(sl_dag_options, &conf);
    return rc;
}

int sl_dag_set_build(const sl_plan *plan, sl_dag_set **out, sl_error *err)
{
    *out = NULL;
    sl_dag_set *set = calloc(1, sizeof *set);
    if (!set) return sl_error_set(err, SL_ENOMEM, "out of memory");
    const sl_node *dags = sl_node_get(sl_config_root(plan->doc), "dags");
    size_t n = dags && dags->kind == SL_NODE_MAP ? dags->n_pairs : 0;
    set->dags = calloc(n ? n : 1, sizeof *set->dags);
    if (!set->dags) {
        free(set);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    int rc = SL_OK;
    for (size_t d = 0; rc == SL_OK && d < n; d++) {
        rc = build_dag(&set->dags[d], &dags->pairs[d], err);
        set->n_dags++;
    }
    if (rc) {
        sl_dag_set_free(set);
        return rc;
    }
    *out = set;
    return SL_OK;
}
