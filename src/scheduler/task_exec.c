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
#include "runtime/run.h"
#include "scheduler/command.h"
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

static void run_pipeline(const sl_task_try *try_, sl_task_outcome *outcome)
{
    FILE *summary = fopen(try_->log_path, "a");
    sl_run_options options = {
        .only_pipeline = try_->task->pipeline,
        .show_summary = summary != NULL,
        .log = try_->log,
        .stop = try_->cancel,
        .summary_file = summary,
    };
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_run_plan(try_->plan, &options, &err);
    if (summary) fclose(summary);
    if (rc == SL_OK) {
        outcome->is_success = true;
        snprintf(outcome->summary, sizeof outcome->summary, "pipeline %s finished with its data",
                 try_->task->pipeline);
    } else {
        fail(outcome, "pipeline %s: %s", try_->task->pipeline, err.message);
    }
}

static void run_command(const sl_task_try *try_, sl_task_outcome *outcome)
{
    const sl_dag_task *task = try_->task;
    sl_command_spec spec = {
        .argv = task->kind == SL_TASK_KIND_COMMAND ? (const char *const *)task->argv : NULL,
        .shell = task->kind == SL_TASK_KIND_SHELL ? task->shell : NULL,
        .timeout_ms = try_->task->timeout_ms,
        .log_path = try_->log_path,
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

static void run_sql(const sl_task_try *try_, sl_task_outcome *outcome)
{
    sl_sql_task_spec spec = {
        .database = try_->task->sql_database,
        .statements = try_->task->sql_statement,
        .timeout_ms = try_->task->timeout_ms,
    };
    sl_error err;
    sl_error_clear(&err);
    if (sl_sql_task_run(&spec, try_->cancel, outcome->summary, sizeof outcome->summary, &err) == SL_OK)
        outcome->is_success = true;
    else
        fail(outcome, "%s", err.message);
}

static void run_sensor(const sl_task_try *try_, sl_task_outcome *outcome)
{
    const sl_dag_task *task = try_->task;
    sl_sensor_spec spec = {
        .topic = task->sensor_topic,
        .group = task->sensor_group,
        .until = task->sensor_until,
        .after_ms = try_->data_interval_end_us / 1000,
        .poke_interval_ms = task->poke_interval_ms,
        .timeout_ms = try_->task->timeout_ms,
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

static void run_control(const sl_task_try *try_, sl_task_outcome *outcome)
{
    const sl_dag_task *task = try_->task;
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
    case SL_TASK_KIND_SQL: snprintf(out, size, "sql on %s", task->sql_database); break;
    case SL_TASK_KIND_SENSOR:
        snprintf(out, size, "sensor on topic %s (%s)", task->sensor_topic,
                 task->sensor_until == SL_SENSOR_LAG_ZERO ? "lag zero" : "event time past the interval end");
        break;
    case SL_TASK_KIND_CONTROL: snprintf(out, size, "control: %s %s", task->control_action, task->pipeline); break;
    }
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
    switch (try_->task->kind) {
    case SL_TASK_KIND_PIPELINE: run_pipeline(try_, outcome); break;
    case SL_TASK_KIND_COMMAND:
    case SL_TASK_KIND_SHELL: run_command(try_, outcome); break;
    case SL_TASK_KIND_SQL: run_sql(try_, outcome); break;
    case SL_TASK_KIND_SENSOR: run_sensor(try_, outcome); break;
    case SL_TASK_KIND_CONTROL: run_control(try_, outcome); break;
    }
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
