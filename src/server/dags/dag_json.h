/* dag_json.h — the JSON the DAG endpoints answer with (docs/api.md): a
 * small writer that places the commas, the objects for a DAG's tasks, a
 * DAG run and a task instance, times as ISO 8601 UTC text, and the opaque
 * cursors of paged lists (hex text, so they need no escaping in a URL).
 *
 * The writer remembers the first failure (out of memory) in rc and writes
 * nothing after it, so callers check once at the end.
 */
#ifndef SL_DAG_JSON_H
#define SL_DAG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "metadata/metadata.h"
#include "scheduler/dag.h"

#define SL_DAG_JSON_DEPTH 16
/* Longest cursor text, NUL included. */
#define SL_DAG_CURSOR_MAX (2 * (SL_META_NAME_MAX + 48) + 1)

typedef struct sl_json_out {
    sl_buffer *buf;
    int rc;
    int depth;
    bool has_item[SL_DAG_JSON_DEPTH];
    bool after_key;
} sl_json_out;

void sl_json_out_init(sl_json_out *out, sl_buffer *buf);
void sl_json_begin_object(sl_json_out *out);
void sl_json_end_object(sl_json_out *out);
void sl_json_begin_array(sl_json_out *out);
void sl_json_end_array(sl_json_out *out);
void sl_json_key(sl_json_out *out, const char *key);
void sl_json_string(sl_json_out *out, const char *text);     /* NULL: null */
void sl_json_int(sl_json_out *out, int64_t value);
void sl_json_bool(sl_json_out *out, bool value);
void sl_json_null(sl_json_out *out);
void sl_json_time(sl_json_out *out, int64_t us);            /* SL_META_NO_TIME / SL_TIMETABLE_NONE: null */
void sl_json_seconds(sl_json_out *out, int64_t us);         /* µs as seconds; SL_META_NO_TIME: null */
void sl_json_raw(sl_json_out *out, const char *json);        /* text that is JSON already */

/* One task of a DAG: task_id, kind, depends_on, trigger_rule, retries, timeout_s. */
void sl_dag_json_task(sl_json_out *out, const sl_dag *dag, const sl_dag_task *task);

/* A DAG run: dag_id, run_id, run_type, state, logical_date, data interval, conf, times. */
void sl_dag_json_run(sl_json_out *out, const sl_meta_run *run);
/* Its members alone, into an object the caller opened (and closes). */
void sl_dag_json_run_members(sl_json_out *out, const sl_meta_run *run);

/* One try of a task: task_id, try_number, max_tries, state, server_id, times, duration_s, exit_status. */
void sl_dag_json_ti(sl_json_out *out, const sl_meta_ti *ti);

/* A cursor: kind (one letter) and text, as hex, into out (SL_DAG_CURSOR_MAX). */
void sl_dag_cursor_encode(char kind, const char *text, char *out);

/* The text of a cursor of kind into out (size bytes); false when cursor is
 * not one sl_dag_cursor_encode made for kind. */
bool sl_dag_cursor_decode(char kind, const char *cursor, char *out, size_t size);

#endif
