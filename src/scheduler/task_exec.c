/* task_exec.c — one try of a DAG task (see task_exec.h): the log file's
 * header, the body by kind, the footer. Bodies that write output (a
 * command) append to the same file; the others get their result written
 * into it here.
 */
#include "scheduler/task_exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/paths.h"
#include "core/timefmt.h"
#include "metadata/postgres_url.h"
#include "runtime/plan_task.h"
#include "runtime/run.h"
#include "scheduler/command.h"
#include "scheduler/macros.h"
#include "scheduler/sensor.h"
#include "scheduler/sql_task.h"

/* ---- the log file ---- */

/* Appends one line "[time] text" to the try's log. The directory was made
 * before the try began; a file that cannot be opened now (a full disk) costs
 * the line, not the task. */
static void log_line(const sl_task_try *try_, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const sl_task_try *try_, const char *format, ...)
{
    FILE *file = fopen(try_->log_path, "a");
    if (!file) return;
    char now[SL_TIME_ISO_MAX];
    sl_time_format_iso(sl_clock_wall_us(), now);
    fprintf(file, "[%s] ", now);
    va_list args;
    va_start(args, format);
    vfprintf(file, format, args);
    va_end(args);
    fputc('\n', file);
    fclose(file);
}

static void fail(sl_task_outcome *outcome, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void fail(sl_task_outcome *outcome, const char *format, ...)
{
    outcome->is_success = false;
    va_list args;
    va_start(args, format);
    vsnprintf(outcome->summary, sizeof outcome->summary, format, args);
    va_end(args);
}

/* ---- bodies ---- */

/* A scalar of the pipeline's settings with the try's macros expanded. */
static int expand_scalar(void *context, sl_arena *arena, const char *text, const char **out, sl_error *err)
{
    *out = text;
    if (!strstr(text, "${")) return SL_OK;
    char *expanded = NULL;
    int rc = sl_macros_expand(text, context, &expanded, err);
    if (rc) return rc;
    if (strcmp(expanded, text) != 0) {
        *out = sl_arena_strndup(arena, expanded, strlen(expanded));
        if (!*out) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    free(expanded);
    return rc;
}

static void run_pipeline(const sl_task_try *try_, const sl_dag_task *task, const sl_macro_context *context,
                         sl_task_outcome *outcome)
{
    sl_plan *plan = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_plan_for_task((sl_plan *)try_->plan, task->pipeline, task->overrides, expand_scalar, (void *)context,
                         &plan, &err) != SL_OK) {
        fail(outcome, "pipeline %s as this task runs it: %s", task->pipeline, err.message);
        return;
    }
    FILE *summary = fopen(try_->log_path, "a");
    sl_run_options options = {
        .only_pipeline = task->pipeline,
        .show_summary = summary != NULL,
        .log = try_->log,
        .stop = try_->cancel,
        .summary_file = summary,
    };
    int rc = sl_run_plan(plan, &options, &err);
    if (summary) fclose(summary);
    sl_plan_free(plan);
    if (rc == SL_OK) {
        outcome->is_success = true;
        snprintf(outcome->summary, sizeof outcome->summary, "pipeline %s finished with its data",
                 task->pipeline);
    } else {
        fail(outcome, "pipeline %s: %s", task->pipeline, err.message);
    }
}

static void run_command(const sl_task_try *try_, const sl_dag_task *task, char **try_env, sl_task_outcome *outcome)
{
    sl_command_spec spec = {
        .argv = task->kind == SL_TASK_KIND_COMMAND ? (const char *const *)task->argv : NULL,
        .shell = task->kind == SL_TASK_KIND_SHELL ? task->shell : NULL,
        .env = (const char *const *)try_env,
        .timeout_ms = task->timeout_ms,
        .log_path = try_->log_path,
        .pid_path = try_->pid_path,
    };
    sl_command_result result;
    memset(&result, 0, sizeof result);
    sl_error err;
    sl_error_clear(&err);
    if (sl_command_run(&spec, try_->cancel, &result, &err) != SL_OK) {
        fail(outcome, "%s", err.message);
        return;
    }
    sl_command_describe(&result, &spec, outcome->summary, sizeof outcome->summary);
    outcome->is_success = result.exit_code == 0 && !result.is_timed_out && !result.is_canceled;
    outcome->has_exit_status = result.exit_code >= 0;
    outcome->exit_status = result.exit_code;
    sl_command_result_free(&result);
}

static void run_sql(const sl_task_try *try_, const sl_dag_task *task, sl_task_outcome *outcome)
{
    sl_sql_task_spec spec = {
        .database = task->sql_database,
        .statements = task->sql_statement,
        .timeout_ms = task->timeout_ms,
    };
    sl_error err;
    sl_error_clear(&err);
    if (sl_sql_task_run(&spec, try_->cancel, outcome->summary, sizeof outcome->summary, &err) == SL_OK)
        outcome->is_success = true;
    else
        fail(outcome, "%s", err.message);
}

static void run_sensor(const sl_task_try *try_, const sl_dag_task *task, sl_task_outcome *outcome)
{
    /* A file whose topic: blocks live on Kafka has its sensors watch Kafka. */
    const sl_node *kafka = sl_node_get(sl_node_get(sl_config_root(try_->plan->doc), "topics"), "kafka");
    const sl_node *brokers = sl_node_get(kafka, "brokers");
    sl_sensor_spec spec = {
        .kafka_brokers = brokers && brokers->kind == SL_NODE_SCALAR ? brokers->scalar : NULL,
        .kafka_properties = sl_node_get(kafka, "properties"),
        .topic = task->sensor_topic,
        .group = task->sensor_group,
        .until = task->sensor_until,
        .after_ms = try_->data_interval_end_us / 1000,
        .poke_interval_ms = task->poke_interval_ms,
        .timeout_ms = task->timeout_ms,
    };
    sl_error err;
    sl_error_clear(&err);
    char detail[400] = "";
    if (sl_sensor_wait(try_->log, &spec, try_->cancel, detail, sizeof detail, &err) == SL_OK) {
        outcome->is_success = true;
        snprintf(outcome->summary, sizeof outcome->summary, "sensor met: %s", detail);
    } else {
        fail(outcome, "%s", err.message);
    }
}

static void run_control(const sl_task_try *try_, const sl_dag_task *task, sl_task_outcome *outcome)
{
    if (!try_->control) {
        fail(outcome, "control: %s pipeline %s needs the pipelines of `sluice server`; nothing runs them here",
             task->control_action, task->pipeline);
        return;
    }
    char reason[600];
    snprintf(reason, sizeof reason, "dag %s run %s task %s", try_->dag->name, try_->run_id, task->name);
    char detail[400] = "";
    sl_error err;
    sl_error_clear(&err);
    if (try_->control(try_->control_context, task->pipeline, task->control_action, reason, detail, sizeof detail,
                      &err) == SL_OK) {
        outcome->is_success = true;
        snprintf(outcome->summary, sizeof outcome->summary, "%s pipeline %s: %s", task->control_action,
                 task->pipeline, detail[0] ? detail : "done");
    } else {
        fail(outcome, "%s pipeline %s: %s", task->control_action, task->pipeline, err.message);
    }
}

/* ---- one try ---- */

static void describe_body(const sl_dag_task *task, char *out, size_t size)
{
    switch (task->kind) {
    case SL_TASK_KIND_PIPELINE: snprintf(out, size, "pipeline %s", task->pipeline); break;
    case SL_TASK_KIND_COMMAND: snprintf(out, size, "command %s (%zu arguments)", task->argv[0], task->argc - 1); break;
    case SL_TASK_KIND_SHELL: snprintf(out, size, "shell: %.300s", task->shell); break;
    case SL_TASK_KIND_SQL: {
        char *where = sl_pg_url_redact(task->sql_database);   /* a URL's password never reaches a log */
        snprintf(out, size, "sql on %s", where ? where : "a database");
        free(where);
        break;
    }
    case SL_TASK_KIND_SENSOR:
        snprintf(out, size, "sensor on topic %s (%s)", task->sensor_topic,
                 task->sensor_until == SL_SENSOR_LAG_ZERO ? "lag zero" : "event time past the interval end");
        break;
    case SL_TASK_KIND_CONTROL: snprintf(out, size, "control: %s %s", task->control_action, task->pipeline); break;
    }
}

/* ---- macros ---- */

static int expand(const sl_macro_context *context, char **text, sl_error *err)
{
    if (!*text) return SL_OK;
    char *expanded = NULL;
    int rc = sl_macros_expand(*text, context, &expanded, err);
    if (rc == SL_OK) *text = expanded;
    else *text = NULL;
    return rc;
}

/* A copy of task whose strings have this try's macros expanded; only its
 * strings are its own (free them with unexpand). */
static int expand_task(const sl_task_try *try_, const sl_macro_context *context, sl_dag_task *out, sl_error *err)
{
    *out = *try_->task;
    out->argv = NULL;
    out->shell = out->sql_database = out->sql_statement = out->sensor_topic = out->sensor_group = NULL;
    const sl_dag_task *task = try_->task;
    int rc = SL_OK;
    if (task->argv) {
        out->argv = calloc(task->argc + 1, sizeof *out->argv);
        if (!out->argv) return sl_error_set(err, SL_ENOMEM, "out of memory");
        for (size_t i = 0; i < task->argc && rc == SL_OK; i++) {
            out->argv[i] = task->argv[i];
            rc = expand(context, &out->argv[i], err);
        }
    }
    out->shell = task->shell;
    out->sql_database = task->sql_database;
    out->sql_statement = task->sql_statement;
    out->sensor_topic = task->sensor_topic;
    out->sensor_group = task->sensor_group;
    if (rc == SL_OK) rc = expand(context, &out->shell, err);
    if (rc == SL_OK) rc = expand(context, &out->sql_database, err);
    if (rc == SL_OK) rc = expand(context, &out->sql_statement, err);
    if (rc == SL_OK) rc = expand(context, &out->sensor_topic, err);
    if (rc == SL_OK) rc = expand(context, &out->sensor_group, err);
    return rc;
}

static void unexpand(const sl_dag_task *original, sl_dag_task *task)
{
    for (size_t i = 0; task->argv && i < original->argc; i++) free(task->argv[i]);
    free(task->argv);
    if (task->shell != original->shell) free(task->shell);
    if (task->sql_database != original->sql_database) free(task->sql_database);
    if (task->sql_statement != original->sql_statement) free(task->sql_statement);
    if (task->sensor_topic != original->sensor_topic) free(task->sensor_topic);
    if (task->sensor_group != original->sensor_group) free(task->sensor_group);
}

void sl_task_execute(const sl_task_try *try_, sl_task_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    sl_error err;
    sl_error_clear(&err);
    if (sl_make_parent_dirs(try_->log_path, &err) != SL_OK) {
        fail(outcome, "the task's log %s: %s", try_->log_path, err.message);
        return;
    }
    char body[400], start[SL_TIME_ISO_MAX], end[SL_TIME_ISO_MAX];
    describe_body(try_->task, body, sizeof body);
    sl_time_format_iso(try_->data_interval_start_us, start);
    sl_time_format_iso(try_->data_interval_end_us, end);
    log_line(try_, "dag %s run %s task %s: try %d of %d: %s; data interval [%s, %s)", try_->dag->name,
             try_->run_id, try_->task->name, try_->try_number, try_->max_tries, body, start, end);
    int64_t began = sl_clock_monotonic_ms();
    sl_macro_context context = {
        .dag_id = try_->dag->name,
        .task_id = try_->task->name,
        .run_id = try_->run_id,
        .data_interval_start_us = try_->data_interval_start_us,
        .data_interval_end_us = try_->data_interval_end_us,
        .try_number = try_->try_number,
        .tz = try_->dag->tz,
    };
    sl_dag_task task;
    char **env = NULL;
    int rc = expand_task(try_, &context, &task, &err);
    if (rc == SL_OK) rc = sl_macros_env(&context, &env, &err);
    if (rc) {
        fail(outcome, "expanding the task's macros: %s", err.message);
    } else {
        switch (task.kind) {
        case SL_TASK_KIND_PIPELINE: run_pipeline(try_, &task, &context, outcome); break;
        case SL_TASK_KIND_COMMAND:
        case SL_TASK_KIND_SHELL: run_command(try_, &task, env, outcome); break;
        case SL_TASK_KIND_SQL: run_sql(try_, &task, outcome); break;
        case SL_TASK_KIND_SENSOR: run_sensor(try_, &task, outcome); break;
        case SL_TASK_KIND_CONTROL: run_control(try_, &task, outcome); break;
        }
    }
    unexpand(try_->task, &task);
    sl_macros_env_free(env);
    double seconds = (double)(sl_clock_monotonic_ms() - began) / 1000.0;
    log_line(try_, "%s after %.3f s: %s", outcome->is_success ? "success" : "failed", seconds,
             outcome->summary);
}

/* ---- where logs go ---- */

/* Appends name with every byte outside [A-Za-z0-9._:+=-] as %XX, and a
 * leading dot escaped too, so a name can neither climb out of its folder
 * nor hide. */
static int append_escaped(char *out, size_t size, size_t *len, const char *name)
{
    for (size_t i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        bool is_plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        ((c == '.') && i > 0) || c == '_' || c == ':' || c == '+' || c == '-' || c == '=';
        int n = is_plain ? snprintf(out + *len, size - *len, "%c", c) : snprintf(out + *len, size - *len, "%%%02X", c);
        if (n < 0 || (size_t)n >= size - *len) return SL_ETOOBIG;
        *len += (size_t)n;
    }
    return SL_OK;
}

int sl_task_log_path(const char *data_dir, const char *dag_id, const char *run_id, const char *task_id,
                     int try_number, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/logs/dag_id=", data_dir);
    if (n < 0 || (size_t)n >= size) return SL_ETOOBIG;
    size_t len = (size_t)n;
    if (append_escaped(out, size, &len, dag_id)) return SL_ETOOBIG;
    n = snprintf(out + len, size - len, "/run_id=");
    if (n < 0 || (size_t)n >= size - len) return SL_ETOOBIG;
    len += (size_t)n;
    if (append_escaped(out, size, &len, run_id)) return SL_ETOOBIG;
    n = snprintf(out + len, size - len, "/task_id=");
    if (n < 0 || (size_t)n >= size - len) return SL_ETOOBIG;
    len += (size_t)n;
    if (append_escaped(out, size, &len, task_id)) return SL_ETOOBIG;
    n = snprintf(out + len, size - len, "/attempt=%d.log", try_number);
    if (n < 0 || (size_t)n >= size - len) return SL_ETOOBIG;
    return SL_OK;
}
