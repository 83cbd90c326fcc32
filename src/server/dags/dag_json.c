/* dag_json.c — the JSON writer and the objects of the DAG endpoints (see
 * dag_json.h). */
#include "server/dags/dag_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timefmt.h"
#include "scheduler/task_rules.h"
#include "scheduler/timetable.h"

void sl_json_out_init(sl_json_out *out, sl_buffer *buf)
{
    *out = (sl_json_out){ .buf = buf };
}

/* Before a value: the comma between array items, none after a key. */
static bool value_start(sl_json_out *out)
{
    if (out->rc) return false;
    if (out->after_key) {
        out->after_key = false;
        return true;
    }
    if (out->has_item[out->depth]) out->rc = sl_buffer_append_byte(out->buf, ',');
    out->has_item[out->depth] = true;
    return out->rc == SL_OK;
}

static void append(sl_json_out *out, const char *text)
{
    if (out->rc == SL_OK) out->rc = sl_buffer_append_cstr(out->buf, text);
}

static void begin(sl_json_out *out, const char *open)
{
    if (!value_start(out)) return;
    if (out->depth + 1 >= SL_DAG_JSON_DEPTH) {
        out->rc = SL_ETOOBIG;
        return;
    }
    append(out, open);
    out->has_item[++out->depth] = false;
}

static void end(sl_json_out *out, const char *close)
{
    if (out->rc) return;
    out->depth--;
    append(out, close);
}

void sl_json_begin_object(sl_json_out *out) { begin(out, "{"); }
void sl_json_end_object(sl_json_out *out) { end(out, "}"); }
void sl_json_begin_array(sl_json_out *out) { begin(out, "["); }
void sl_json_end_array(sl_json_out *out) { end(out, "]"); }

void sl_json_key(sl_json_out *out, const char *key)
{
    if (out->rc) return;
    if (out->has_item[out->depth]) append(out, ",");
    out->has_item[out->depth] = true;
    if (out->rc == SL_OK) out->rc = sl_json_write_string(out->buf, key, strlen(key));
    append(out, ":");
    out->after_key = true;
}

void sl_json_string(sl_json_out *out, const char *text)
{
    if (!value_start(out)) return;
    if (!text) append(out, "null");
    else out->rc = sl_json_write_string(out->buf, text, strlen(text));
}

void sl_json_int(sl_json_out *out, int64_t value)
{
    if (value_start(out)) out->rc = sl_buffer_printf(out->buf, "%" PRId64, value);
}

void sl_json_bool(sl_json_out *out, bool value)
{
    if (value_start(out)) append(out, value ? "true" : "false");
}

void sl_json_null(sl_json_out *out)
{
    if (value_start(out)) append(out, "null");
}

void sl_json_time(sl_json_out *out, int64_t us)
{
    if (us == SL_META_NO_TIME) {
        sl_json_null(out);
        return;
    }
    char text[SL_TIME_ISO_MAX];
    sl_time_format_iso(us, text);
    sl_json_string(out, text);
}

void sl_json_seconds(sl_json_out *out, int64_t us)
{
    if (us == SL_META_NO_TIME) {
        sl_json_null(out);
        return;
    }
    if (value_start(out)) out->rc = sl_buffer_printf(out->buf, "%.3f", (double)us / 1e6);
}

void sl_json_raw(sl_json_out *out, const char *json)
{
    if (value_start(out)) append(out, json);
}

/* ---- objects ---- */

void sl_dag_json_task(sl_json_out *out, const sl_dag *dag, const sl_dag_task *task)
{
    sl_json_begin_object(out);
    sl_json_key(out, "task_id");
    sl_json_string(out, task->name);
    sl_json_key(out, "kind");
    sl_json_string(out, sl_task_kind_name(task->kind));
    sl_json_key(out, "depends_on");
    sl_json_begin_array(out);
    for (size_t u = 0; u < task->n_upstream; u++) sl_json_string(out, dag->tasks[task->upstream[u]].name);
    sl_json_end_array(out);
    sl_json_key(out, "trigger_rule");
    sl_json_string(out, sl_trigger_rule_name(task->trigger_rule));
    sl_json_key(out, "retries");
    sl_json_int(out, task->retries);
    sl_json_key(out, "timeout_s");
    if (task->timeout_ms > 0) sl_json_seconds(out, task->timeout_ms * 1000);
    else sl_json_null(out);
    sl_json_end_object(out);
}

void sl_dag_json_run(sl_json_out *out, const sl_meta_run *run)
{
    sl_json_begin_object(out);
    sl_dag_json_run_members(out, run);
    sl_json_end_object(out);
}

void sl_dag_json_run_members(sl_json_out *out, const sl_meta_run *run)
{
    sl_json_key(out, "dag_id");
    sl_json_string(out, run->dag_id);
    sl_json_key(out, "run_id");
    sl_json_string(out, run->run_id);
    sl_json_key(out, "run_type");
    sl_json_string(out, sl_meta_run_type_name(run->run_type));
    sl_json_key(out, "state");
    sl_json_string(out, sl_meta_run_state_name(run->state));
    sl_json_key(out, "logical_date");
    sl_json_time(out, run->data_interval_start_us);
    sl_json_key(out, "data_interval_start");
    sl_json_time(out, run->data_interval_start_us);
    sl_json_key(out, "data_interval_end");
    sl_json_time(out, run->data_interval_end_us);
    sl_json_key(out, "conf");
    sl_json_raw(out, run->conf && *run->conf ? run->conf : "{}");   /* checked as an object when stored */
    sl_json_key(out, "queued_at");
    sl_json_time(out, run->queued_at_us);
    sl_json_key(out, "start_date");
    sl_json_time(out, run->start_us);
    sl_json_key(out, "end_date");
    sl_json_time(out, run->end_us);
}

void sl_dag_json_ti(sl_json_out *out, const sl_meta_ti *ti)
{
    sl_json_begin_object(out);
    sl_json_key(out, "task_id");
    sl_json_string(out, ti->task_id);
    sl_json_key(out, "try_number");
    sl_json_int(out, ti->try_number);
    sl_json_key(out, "max_tries");
    sl_json_int(out, ti->max_tries);
    sl_json_key(out, "state");
    sl_json_string(out, sl_meta_ti_state_name(ti->state));
    sl_json_key(out, "server_id");
    sl_json_string(out, ti->server_id);
    sl_json_key(out, "queued_at");
    sl_json_time(out, ti->queued_at_us);
    sl_json_key(out, "start_date");
    sl_json_time(out, ti->start_us);
    sl_json_key(out, "end_date");
    sl_json_time(out, ti->end_us);
    sl_json_key(out, "duration_s");
    sl_json_seconds(out, ti->duration_us);
    sl_json_key(out, "exit_status");
    if (ti->has_exit_status) sl_json_int(out, ti->exit_status);
    else sl_json_null(out);
    sl_json_end_object(out);
}

/* ---- cursors ---- */

void sl_dag_cursor_encode(char kind, const char *text, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0, max = SL_DAG_CURSOR_MAX - 1;
    out[n++] = digits[(unsigned char)kind >> 4];
    out[n++] = digits[(unsigned char)kind & 15];
    for (const unsigned char *c = (const unsigned char *)text; *c && n + 2 <= max; c++) {
        out[n++] = digits[*c >> 4];
        out[n++] = digits[*c & 15];
    }
    out[n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool sl_dag_cursor_decode(char kind, const char *cursor, char *out, size_t size)
{
    size_t len = strlen(cursor);
    if (len < 2 || len % 2 || (len - 2) / 2 + 1 > size) return false;
    for (size_t i = 0; i < len; i += 2) {
        int high = hex_value(cursor[i]), low = hex_value(cursor[i + 1]);
        if (high < 0 || low < 0) return false;
        char byte = (char)(high * 16 + low);
        if (i == 0 && byte != kind) return false;
        if (i > 0 && byte == '\0') return false;
        if (i > 0) out[i / 2 - 1] = byte;
    }
    out[(len - 2) / 2] = '\0';
    return true;
}
