/* dag_api.c — the reading DAG endpoints (see dag_api.h): the DAGs of the
 * file with their pause flag and next data interval from the store, one
 * DAG with its tasks and latest runs, a DAG's runs paged (by state in the
 * store's statement), one run with every try, and a try's log (the whole
 * file under DATA_DIR/logs, else the tail the store keeps).
 */
#include "server/dags/dag_api.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "scheduler/timetable.h"
#include "server/dags/dag_json.h"

/* ---- shared ---- */

void sl_dag_api_store_error(sl_http_response *out, const sl_error *err)
{
    sl_http_error(out, sl_error_is_transient(err) ? 503 : 500, "%s", err->message);
}

const sl_dag *sl_dag_api_find(const sl_dag_api *api, const char *dag_id, sl_http_response *out)
{
    const sl_dag *dag = api->dags ? sl_dag_set_find(api->dags, dag_id) : NULL;
    if (dag) return dag;
    char names[600] = "";
    size_t used = 0;
    for (size_t d = 0; api->dags && d < api->dags->n_dags && used < sizeof names; d++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", d ? ", " : "", api->dags->dags[d].name);
    if (!api->dags)
        sl_http_error(out, 404, "no DAG called '%s'", dag_id);
    else if (api->dags->n_dags == 0)
        sl_http_error(out, 404, "no DAG called '%s': the file has no DAGs", dag_id);
    else
        sl_http_error(out, 404, "no DAG called '%s' in the file (its DAGs: %s)", dag_id, names);
    return NULL;
}

/* The store's rows of the dags table. */
typedef struct dag_row {
    char *dag_id;
    bool is_paused;
} dag_row;

typedef struct dag_rows {
    dag_row *items;
    size_t n, capacity;
} dag_rows;

static int keep_dag_row(void *context, const sl_meta_dag *dag)
{
    dag_rows *rows = context;
    if (rows->n == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 16;
        dag_row *items = realloc(rows->items, capacity * sizeof *items);
        if (!items) return SL_ENOMEM;
        rows->items = items;
        rows->capacity = capacity;
    }
    rows->items[rows->n].dag_id = strdup(dag->dag_id);
    if (!rows->items[rows->n].dag_id) return SL_ENOMEM;
    rows->items[rows->n++].is_paused = dag->is_paused;
    return SL_OK;
}

static void dag_rows_free(dag_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) free(rows->items[i].dag_id);
    free(rows->items);
}

static int load_dag_rows(const sl_dag_api *api, dag_rows *rows, sl_error *err)
{
    *rows = (dag_rows){ 0 };
    int rc = sl_metadata_dag_list(api->store, keep_dag_row, rows, err);
    if (rc == SL_ENOMEM && err->message[0] == '\0') sl_error_set(err, SL_ENOMEM, "out of memory");
    return rc;
}

static const dag_row *find_row(const dag_rows *rows, const char *dag_id)
{
    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->items[i].dag_id, dag_id) == 0) return &rows->items[i];
    return NULL;
}

/* "limit" of a list: default, or 1..SL_DAG_API_LIMIT_MAX; false after a 400. */
static bool parse_limit(const char *text, int *limit, sl_http_response *out)
{
    *limit = SL_DAG_API_LIMIT_DEFAULT;
    if (!text) return true;
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (!*text || *end || errno || value < 1 || value > SL_DAG_API_LIMIT_MAX) {
        sl_http_error(out, 400, "limit '%s' is not a number from 1 to %d", text, SL_DAG_API_LIMIT_MAX);
        return false;
    }
    *limit = (int)value;
    return true;
}

static void bad_cursor(sl_http_response *out, const char *cursor)
{
    sl_http_error(out, 400, "cursor '%.80s' is not one this list gave as next_cursor", cursor);
}

/* A runs cursor ("start.id" of the last run of the page before); true
 * without one; false after a 400. */
static bool parse_run_cursor(const char *cursor, sl_meta_run_cursor *after, sl_http_response *out)
{
    *after = (sl_meta_run_cursor){ 0 };
    if (!cursor) return true;
    char text[64];
    long long start = 0, id = 0;
    int used = 0;
    if (!sl_dag_cursor_decode('r', cursor, text, sizeof text) ||
        sscanf(text, "%lld.%lld%n", &start, &id, &used) != 2 || text[used] != '\0') {
        bad_cursor(out, cursor);
        return false;
    }
    *after = (sl_meta_run_cursor){ true, start, id };
    return true;
}

static void write_next_cursor(sl_json_out *json, const sl_meta_run_cursor *next)
{
    sl_json_key(json, "next_cursor");
    if (!next->is_set) {
        sl_json_null(json);
        return;
    }
    char text[64], encoded[SL_DAG_CURSOR_MAX];
    snprintf(text, sizeof text, "%" PRId64 ".%" PRId64, next->data_interval_start_us, next->id);
    sl_dag_cursor_encode('r', text, encoded);
    sl_json_string(json, encoded);
}

/* ---- a DAG ---- */

typedef struct run_writer {
    sl_json_out *json;
} run_writer;

static int write_run(void *context, const sl_meta_run *run)
{
    run_writer *writer = context;
    sl_dag_json_run(writer->json, run);
    return writer->json->rc;
}

/* The DAG object: dag_id and the file's settings (null without the file),
 * is_paused from the store (the file's paused: before the scheduler made
 * the row), the next data interval, and with details its tasks and latest
 * runs. */
static int write_dag(const sl_dag_api *api, const sl_dag *dag, const char *dag_id, const dag_row *row,
                     bool with_details, sl_json_out *json, sl_error *err)
{
    sl_json_begin_object(json);
    sl_json_key(json, "dag_id");
    sl_json_string(json, dag_id);
    sl_json_key(json, "description");
    sl_json_string(json, dag ? dag->description : NULL);
    sl_json_key(json, "schedule");
    sl_json_string(json, dag && dag->timetable.kind != SL_SCHEDULE_NONE ? dag->schedule_text : NULL);
    sl_json_key(json, "timezone");
    sl_json_string(json, dag ? sl_tz_name(dag->tz) : NULL);
    sl_json_key(json, "is_paused");
    if (row) sl_json_bool(json, row->is_paused);
    else if (dag) sl_json_bool(json, dag->is_paused_at_creation);
    else sl_json_null(json);
    sl_json_key(json, "catchup");
    if (dag) sl_json_bool(json, dag->timetable.catchup);
    else sl_json_null(json);
    sl_json_key(json, "max_active_runs");
    if (dag) sl_json_int(json, dag->max_active_runs);
    else sl_json_null(json);
    sl_json_key(json, "task_count");
    if (dag) sl_json_int(json, (int64_t)dag->n_tasks);
    else sl_json_null(json);
    sl_json_key(json, "next_dagrun_data_interval");
    sl_interval next;
    bool has_next = false;
    if (dag && dag->timetable.kind != SL_SCHEDULE_NONE) {
        int64_t last_end = SL_TIMETABLE_NONE;
        bool found = false;
        int rc = sl_metadata_run_latest_interval_end(api->store, dag_id, &last_end, &found, err);
        if (rc) return rc;
        has_next = sl_timetable_next(&dag->timetable, found ? last_end : SL_TIMETABLE_NONE, api->now_us, &next) ==
                   SL_OK;
    }
    if (has_next) {
        sl_json_begin_object(json);
        sl_json_key(json, "start");
        sl_json_time(json, next.start_us);
        sl_json_key(json, "end");
        sl_json_time(json, next.end_us);
        sl_json_end_object(json);
    } else {
        sl_json_null(json);
    }
    if (with_details) {
        sl_json_key(json, "tasks");
        sl_json_begin_array(json);
        for (size_t t = 0; dag && t < dag->n_tasks; t++) sl_dag_json_task(json, dag, &dag->tasks[t]);
        sl_json_end_array(json);
        sl_json_key(json, "recent_runs");
        sl_json_begin_array(json);
        run_writer writer = { json };
        sl_meta_run_cursor next_page;
        int rc = sl_metadata_run_list(api->store, dag_id, NULL, SL_DAG_API_RECENT_RUNS, write_run, &writer,
                                      &next_page, err);
        if (rc) return rc == json->rc ? sl_error_set(err, rc, "out of memory") : rc;
        sl_json_end_array(json);
    }
    sl_json_end_object(json);
    return json->rc ? sl_error_set(err, json->rc, "out of memory") : SL_OK;
}

int sl_dag_api_write_dag(const sl_dag_api *api, const sl_dag *dag, sl_buffer *buf, bool with_details, sl_error *err)
{
    dag_rows rows;
    int rc = load_dag_rows(api, &rows, err);
    sl_json_out json;
    sl_json_out_init(&json, buf);
    if (rc == SL_OK) rc = write_dag(api, dag, dag->name, find_row(&rows, dag->name), with_details, &json, err);
    if (rc == SL_OK) rc = sl_buffer_append_byte(buf, '\n');
    dag_rows_free(&rows);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a DAG is listed under the filters: its name starts with prefix
 * (NULL: any), and its pause is paused (-1: either). */
static bool is_listed(const sl_dag_api *api, const dag_rows *rows, const char *name, const char *prefix, int paused)
{
    if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) return false;
    if (paused < 0) return true;
    const dag_row *row = find_row(rows, name);
    const sl_dag *dag = api->dags ? sl_dag_set_find(api->dags, name) : NULL;
    bool is_paused = row ? row->is_paused : dag && dag->is_paused_at_creation;
    return is_paused == (paused == 1);
}

void sl_dag_api_list_dags(const sl_dag_api *api, const char *limit_text, const char *cursor, const char *prefix,
                          const char *paused_text, sl_http_response *out)
{
    int limit;
    if (!parse_limit(limit_text, &limit, out)) return;
    int paused = -1;
    if (paused_text && strcmp(paused_text, "true") == 0) paused = 1;
    else if (paused_text && strcmp(paused_text, "false") == 0) paused = 0;
    else if (paused_text) {
        sl_http_error(out, 400, "paused must be true or false, not '%s'", paused_text);
        return;
    }
    char after[SL_META_NAME_MAX + 1] = "";
    if (cursor && !sl_dag_cursor_decode('d', cursor, after, sizeof after)) {
        bad_cursor(out, cursor);
        return;
    }
    sl_error err;
    sl_error_clear(&err);
    dag_rows rows;
    int rc = load_dag_rows(api, &rows, &err);
    if (rc) {
        sl_dag_api_store_error(out, &err);
        dag_rows_free(&rows);
        return;
    }
    /* The names listed, by name: the file's DAGs, or without the file the store's. */
    size_t n = api->dags ? api->dags->n_dags : rows.n;
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        dag_rows_free(&rows);
        sl_http_error(out, 500, "out of memory");
        return;
    }
    size_t n_all = n;
    n = 0;
    for (size_t i = 0; i < n_all; i++) {
        const char *name = api->dags ? api->dags->dags[i].name : rows.items[i].dag_id;
        if (is_listed(api, &rows, name, prefix, paused)) names[n++] = name;
    }
    qsort(names, n, sizeof *names, compare_names);
    size_t first = 0;
    while (cursor && first < n && strcmp(names[first], after) <= 0) first++;
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dags");
    sl_json_begin_array(&json);
    size_t i = first;
    for (; rc == SL_OK && i < n && i < first + (size_t)limit; i++) {
        const sl_dag *dag = api->dags ? sl_dag_set_find(api->dags, names[i]) : NULL;
        rc = write_dag(api, dag, names[i], find_row(&rows, names[i]), false, &json, &err);
    }
    sl_json_end_array(&json);
    sl_json_key(&json, "next_cursor");
    if (rc == SL_OK && i < n) {
        char next[SL_DAG_CURSOR_MAX];
        sl_dag_cursor_encode('d', names[i - 1], next);
        sl_json_string(&json, next);
    } else {
        sl_json_null(&json);
    }
    sl_json_end_object(&json);
    if (rc == SL_OK && json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (rc) sl_dag_api_store_error(out, &err);
    else if (json.rc) sl_http_error(out, 500, "out of memory");
    free(names);
    dag_rows_free(&rows);
}

/* The DAG for a read: the file's, or without the file one the store has.
 * false after a 404 (or a store error) in out. */
static bool known_dag(const sl_dag_api *api, const char *dag_id, const sl_dag **dag, dag_rows *rows,
                      sl_http_response *out)
{
    sl_error err;
    sl_error_clear(&err);
    *dag = NULL;
    if (load_dag_rows(api, rows, &err)) {
        sl_dag_api_store_error(out, &err);
        return false;
    }
    if (api->dags) {
        *dag = sl_dag_api_find(api, dag_id, out);
        return *dag != NULL;
    }
    if (find_row(rows, dag_id)) return true;
    sl_http_error(out, 404, "no DAG called '%s' in the metadata store %s", dag_id, sl_metadata_where(api->store));
    return false;
}

void sl_dag_api_get_dag(const sl_dag_api *api, const char *dag_id, sl_http_response *out)
{
    const sl_dag *dag;
    dag_rows rows;
    if (known_dag(api, dag_id, &dag, &rows, out)) {
        sl_error err;
        sl_error_clear(&err);
        sl_json_out json;
        sl_json_out_init(&json, &out->body);
        int rc = write_dag(api, dag, dag_id, find_row(&rows, dag_id), true, &json, &err);
        if (rc == SL_OK) rc = sl_buffer_append_byte(&out->body, '\n');
        if (rc) sl_dag_api_store_error(out, &err);
    }
    dag_rows_free(&rows);
}

/* ---- runs ---- */

void sl_dag_api_list_runs(const sl_dag_api *api, const char *dag_id, const char *state_text, const char *limit_text,
                          const char *cursor, sl_http_response *out)
{
    const sl_dag *dag;
    dag_rows rows;
    bool is_known = known_dag(api, dag_id, &dag, &rows, out);
    dag_rows_free(&rows);
    if (!is_known) return;
    int limit;
    if (!parse_limit(limit_text, &limit, out)) return;
    sl_error err;
    sl_error_clear(&err);
    sl_meta_run_state state = SL_META_RUN_QUEUED;
    bool has_state = state_text && *state_text;
    if (has_state && sl_meta_run_state_parse(state_text, &state, &err)) {
        sl_http_error(out, 400, "state: %s", err.message);
        return;
    }
    sl_meta_run_cursor after = { 0 };
    if (!parse_run_cursor(cursor, &after, out)) return;
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dag_runs");
    sl_json_begin_array(&json);
    run_writer writer = { &json };
    sl_meta_run_cursor next;
    int rc = has_state ? sl_metadata_run_list_state(api->store, dag_id, state, &after, limit, write_run, &writer,
                                                    &next, &err)
                       : sl_metadata_run_list(api->store, dag_id, &after, limit, write_run, &writer, &next, &err);
    sl_json_end_array(&json);
    write_next_cursor(&json, &next);
    sl_json_end_object(&json);
    if (rc == SL_OK && json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (rc && rc == json.rc) sl_http_error(out, 500, "out of memory");
    else if (rc) sl_dag_api_store_error(out, &err);
    else if (json.rc) sl_http_error(out, 500, "out of memory");
}

/* ---- the grid: runs × tasks ---- */

/* A page of runs being written: each run's object is left open in its own
 * buffer until its tasks' states are added. */
typedef struct grid_run {
    int64_t row;
    sl_buffer text;
    sl_json_out json;
} grid_run;

typedef struct grid_page {
    grid_run *runs;
    size_t n, capacity;
} grid_page;

static int keep_grid_run(void *context, const sl_meta_run *run)
{
    grid_page *page = context;
    if (page->n == page->capacity) return SL_OK;   /* the store gives no more than the limit */
    grid_run *at = &page->runs[page->n++];
    at->row = run->id;
    sl_json_out_init(&at->json, &at->text);
    sl_json_begin_object(&at->json);
    sl_dag_json_run_members(&at->json, run);
    return at->json.rc;
}

/* The latest try of each task, written as "task": {"state", "try_number"}
 * (tries come by task, then try number: the last of a task is its latest). */
typedef struct grid_states {
    sl_json_out *json;
    char task[SL_META_NAME_MAX + 1];
    sl_meta_ti_state state;
    int try_number;
    bool has_task;
} grid_states;

static void grid_flush(grid_states *states)
{
    if (!states->has_task) return;
    sl_json_key(states->json, states->task);
    sl_json_begin_object(states->json);
    sl_json_key(states->json, "state");
    sl_json_string(states->json, sl_meta_ti_state_name(states->state));
    sl_json_key(states->json, "try_number");
    sl_json_int(states->json, states->try_number);
    sl_json_end_object(states->json);
    states->has_task = false;
}

static int keep_grid_state(void *context, const sl_meta_ti *ti)
{
    grid_states *states = context;
    if (states->has_task && strcmp(states->task, ti->task_id) != 0) grid_flush(states);
    snprintf(states->task, sizeof states->task, "%s", ti->task_id);
    states->state = ti->state;
    states->try_number = ti->try_number;
    states->has_task = true;
    return states->json->rc;
}

void sl_dag_api_grid(const sl_dag_api *api, const char *dag_id, const char *limit_text, const char *cursor,
                     sl_http_response *out)
{
    const sl_dag *dag;
    dag_rows rows;
    bool is_known = known_dag(api, dag_id, &dag, &rows, out);
    dag_rows_free(&rows);
    if (!is_known) return;
    int limit;
    if (!parse_limit(limit_text ? limit_text : "25", &limit, out)) return;
    sl_meta_run_cursor after = { 0 };
    if (!parse_run_cursor(cursor, &after, out)) return;
    grid_page page = { calloc((size_t)limit, sizeof *page.runs), 0, (size_t)limit };
    if (!page.runs) {
        sl_http_error(out, 500, "out of memory");
        return;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_meta_run_cursor next;
    int rc = sl_metadata_run_list(api->store, dag_id, &after, limit, keep_grid_run, &page, &next, &err);
    for (size_t i = 0; rc == SL_OK && i < page.n; i++) {
        grid_run *run = &page.runs[i];
        grid_states states = { .json = &run->json };
        sl_json_key(&run->json, "task_states");
        sl_json_begin_object(&run->json);
        rc = sl_metadata_ti_list(api->store, run->row, keep_grid_state, &states, &err);
        grid_flush(&states);
        sl_json_end_object(&run->json);
        sl_json_end_object(&run->json);
        if (rc == SL_OK && run->json.rc == SL_OK) run->json.rc = sl_buffer_append_byte(&run->text, '\0');
        if (rc == SL_OK) rc = run->json.rc;
    }
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dag_id");
    sl_json_string(&json, dag_id);
    sl_json_key(&json, "tasks");
    sl_json_begin_array(&json);
    for (size_t t = 0; dag && t < dag->n_tasks; t++) sl_dag_json_task(&json, dag, &dag->tasks[t]);
    sl_json_end_array(&json);
    sl_json_key(&json, "dag_runs");
    sl_json_begin_array(&json);
    for (size_t i = 0; rc == SL_OK && i < page.n; i++) sl_json_raw(&json, page.runs[i].text.data);
    sl_json_end_array(&json);
    write_next_cursor(&json, &next);
    sl_json_end_object(&json);
    if (rc == SL_OK && json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (rc == SL_ENOMEM || (rc == SL_OK && json.rc)) sl_http_error(out, 500, "out of memory");
    else if (rc) sl_dag_api_store_error(out, &err);
    for (size_t i = 0; i < page.n; i++) sl_buffer_free(&page.runs[i].text);
    free(page.runs);
}

/* The run's row id into *row, with the run's JSON into json when it is not NULL. */
typedef struct found_run {
    int64_t row;
    sl_json_out *json;
} found_run;

static int keep_found_run(void *context, const sl_meta_run *run)
{
    found_run *found = context;
    found->row = run->id;
    if (!found->json) return SL_OK;
    sl_json_begin_object(found->json);   /* left open for the tries */
    sl_dag_json_run_members(found->json, run);
    return found->json->rc;
}

/* Finds dag_id's run run_id: *row; false after a 404 or store error in out. */
static bool find_run(const sl_dag_api *api, const char *dag_id, const char *run_id, found_run *found,
                     sl_http_response *out)
{
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_metadata_run_find(api->store, dag_id, run_id, keep_found_run, found, &err);
    if (rc == SL_OK) return true;
    if (rc == SL_ENOTFOUND) sl_http_error(out, 404, "DAG '%s' has no run '%s'", dag_id, run_id);
    else if (rc == SL_EINVAL) sl_http_error(out, 400, "%s", err.message);
    else if (found->json && rc == found->json->rc) sl_http_error(out, 500, "out of memory");
    else sl_dag_api_store_error(out, &err);
    return false;
}

static int write_ti(void *context, const sl_meta_ti *ti)
{
    sl_json_out *json = context;
    sl_dag_json_ti(json, ti);
    return json->rc;
}

void sl_dag_api_get_run(const sl_dag_api *api, const char *dag_id, const char *run_id, sl_http_response *out)
{
    const sl_dag *dag;
    dag_rows rows;
    bool is_known = known_dag(api, dag_id, &dag, &rows, out);
    dag_rows_free(&rows);
    if (!is_known) return;
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    found_run found = { 0, &json };
    if (!find_run(api, dag_id, run_id, &found, out)) return;
    /* The run object is open: its tries go in as one more member. */
    sl_json_key(&json, "task_instances");
    sl_json_begin_array(&json);
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_metadata_ti_list(api->store, found.row, write_ti, &json, &err);
    sl_json_end_array(&json);
    sl_json_end_object(&json);
    if (json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (rc && rc == json.rc) sl_http_error(out, 500, "out of memory");
    else if (rc) sl_dag_api_store_error(out, &err);
    else if (json.rc) sl_http_error(out, 500, "out of memory");
}

/* ---- a task's log ---- */

typedef struct chosen_try {
    const char *task_id;
    int want;                    /* 0: the latest */
    int found;                   /* the try chosen; 0: none */
    int latest;
    char *log_path;
    unsigned char *tail;
    size_t tail_len;
} chosen_try;

static int keep_try(void *context, const sl_meta_ti *ti)
{
    chosen_try *chosen = context;
    if (strcmp(ti->task_id, chosen->task_id) != 0) return SL_OK;
    if (ti->try_number > chosen->latest) chosen->latest = ti->try_number;
    bool is_it = chosen->want ? ti->try_number == chosen->want : ti->try_number >= chosen->found;
    if (!is_it) return SL_OK;
    free(chosen->log_path);
    free(chosen->tail);
    chosen->found = ti->try_number;
    chosen->log_path = ti->log_path ? strdup(ti->log_path) : NULL;
    chosen->tail = malloc(ti->log_tail_len + 1);
    if (!chosen->tail || (ti->log_path && !chosen->log_path)) return SL_ENOMEM;
    if (ti->log_tail_len) memcpy(chosen->tail, ti->log_tail, ti->log_tail_len);
    chosen->tail_len = ti->log_tail_len;
    return SL_OK;
}

/* Whether path is a file under DATA_DIR/logs, symbolic links resolved. */
static bool is_under_logs(const char *data_dir, const char *path)
{
    char logs[PATH_MAX + 8], real_logs[PATH_MAX], real_path[PATH_MAX];
    snprintf(logs, sizeof logs, "%s/logs", data_dir);
    if (!realpath(logs, real_logs) || !realpath(path, real_path)) return false;
    size_t len = strlen(real_logs);
    return strncmp(real_path, real_logs, len) == 0 && real_path[len] == '/';
}

/* The file's text into out (its last SL_DAG_API_LOG_MAX bytes, after a
 * line saying so, when it is bigger); false when it cannot be read. */
static bool read_log_file(const char *path, sl_buffer *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    off_t from = 0;
    if (ok && st.st_size > SL_DAG_API_LOG_MAX) {
        from = st.st_size - SL_DAG_API_LOG_MAX;
        ok = sl_buffer_printf(out, "[the first %lld bytes of %s are not shown]\n", (long long)from, path) == SL_OK;
    }
    char chunk[65536];
    while (ok) {
        ssize_t n = pread(fd, chunk, sizeof chunk, from);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        ok = sl_buffer_append(out, chunk, (size_t)n) == SL_OK;
        from += n;
    }
    close(fd);
    return ok;
}

void sl_dag_api_task_log(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *task_id,
                         const char *try_text, sl_http_response *out)
{
    const sl_dag *dag;
    dag_rows rows;
    bool is_known = known_dag(api, dag_id, &dag, &rows, out);
    dag_rows_free(&rows);
    if (!is_known) return;
    chosen_try chosen = { .task_id = task_id };
    if (try_text) {
        char *end = NULL;
        errno = 0;
        long value = strtol(try_text, &end, 10);
        if (!*try_text || *end || errno || value < 1 || value > INT_MAX) {
            sl_http_error(out, 400, "try '%s' is not a try number (1, 2, ...)", try_text);
            return;
        }
        chosen.want = (int)value;
    }
    found_run found = { 0, NULL };
    if (!find_run(api, dag_id, run_id, &found, out)) return;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_metadata_ti_list(api->store, found.row, keep_try, &chosen, &err);
    if (rc == SL_ENOMEM && !err.message[0]) sl_http_error(out, 500, "out of memory");
    else if (rc) sl_dag_api_store_error(out, &err);
    else if (!chosen.latest)
        sl_http_error(out, 404, "run '%s' of DAG '%s' has no task '%s'", run_id, dag_id, task_id);
    else if (!chosen.found)
        sl_http_error(out, 404, "task '%s' of run '%s' has no try %d (tries 1 to %d)", task_id, run_id, chosen.want,
                      chosen.latest);
    else {
        out->content_type = "text/plain; charset=utf-8";
        bool from_file = chosen.log_path && api->data_dir && is_under_logs(api->data_dir, chosen.log_path) &&
                         read_log_file(chosen.log_path, &out->body);
        if (!from_file) {
            sl_buffer_clear(&out->body);
            if (chosen.tail_len == 0)
                sl_http_error(out, 404, "task '%s' try %d of run '%s' has no log yet", task_id, chosen.found, run_id);
            else if (sl_buffer_append(&out->body, chosen.tail, chosen.tail_len))
                sl_http_error(out, 500, "out of memory");
        }
        if (out->status != 200) out->content_type = NULL;
    }
    free(chosen.log_path);
    free(chosen.tail);
}
