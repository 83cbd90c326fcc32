/* dag_actions.c — the DAG endpoints that change the store (see dag_api.h):
 * pause and unpause, trigger a manual run, clear tasks of a run (Airflow's
 * clear, downstream included unless asked not to), backfill a range of
 * logical dates. Request bodies are JSON objects whose every field is
 * checked: an unknown one, a wrong type or a bad date is a 400 naming it.
 * The DAG's row is made here when the scheduler has not made it yet (a DAG
 * added by a reload a moment ago), with the file's paused: as it would.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "scheduler/timetable.h"
#include "server/dags/dag_api.h"
#include "server/dags/dag_body.h"
#include "server/dags/dag_json.h"

/* How often a default run id is moved on by 1 µs when taken. */
#define RUN_ID_ATTEMPTS 1000

/* ---- the DAG's row ---- */

typedef struct row_probe {
    const char *dag_id;
    bool is_present;
} row_probe;

static int probe_row(void *context, const sl_meta_dag *dag)
{
    row_probe *probe = context;
    if (strcmp(dag->dag_id, probe->dag_id) == 0) probe->is_present = true;
    return SL_OK;
}

static int ensure_dag_row(sl_metadata *store, const sl_dag *dag, sl_error *err)
{
    row_probe probe = { dag->name, false };
    int rc = sl_metadata_dag_list(store, probe_row, &probe, err);
    if (rc || probe.is_present) return rc;
    rc = sl_metadata_dag_upsert(store, dag->name, dag->fingerprint, err);
    if (rc == SL_OK && dag->is_paused_at_creation) rc = sl_metadata_dag_set_paused(store, dag->name, true, err);
    return rc;
}

/* ---- pause ---- */

void sl_dag_api_set_paused(const sl_dag_api *api, const char *dag_id, bool is_paused, sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    sl_error err;
    sl_error_clear(&err);
    int rc = ensure_dag_row(api->store, dag, &err);
    if (rc == SL_OK) rc = sl_metadata_dag_set_paused(api->store, dag_id, is_paused, &err);
    if (rc == SL_OK) rc = sl_dag_api_write_dag(api, dag, &out->body, false, &err);
    if (rc) sl_dag_api_store_error(out, &err);
}

/* ---- trigger ---- */

/* The interval whose logical date is at: [at, the next fire time) when at
 * is a fire time of the schedule, [at, at] for a DAG without one; else 400. */
static int interval_at(const sl_dag *dag, int64_t at, sl_interval *interval, sl_error *err)
{
    const sl_timetable *timetable = &dag->timetable;
    int64_t next;
    if (timetable->kind == SL_SCHEDULE_NONE || (sl_timetable_is_fire(timetable, at) &&
                                                sl_timetable_fire_after(timetable, at, &next) != SL_OK)) {
        *interval = (sl_interval){ at, at };
        return SL_OK;
    }
    if (sl_timetable_is_fire(timetable, at)) {
        *interval = (sl_interval){ at, next };
        return SL_OK;
    }
    char at_text[SL_TIME_ISO_MAX], before_text[SL_TIME_ISO_MAX] = "none", after_text[SL_TIME_ISO_MAX] = "none";
    int64_t before, after;
    sl_time_format_iso(at, at_text);
    if (sl_timetable_fire_before(timetable, at, &before) == SL_OK) sl_time_format_iso(before, before_text);
    if (sl_timetable_fire_after(timetable, at, &after) == SL_OK) sl_time_format_iso(after, after_text);
    return sl_error_set_permanent(err, SL_EINVAL, "logical_date %s starts no interval of DAG %s's schedule '%s' "
                                  "(the nearest start before it is %s, after it %s)", at_text, dag->name,
                                  dag->schedule_text, before_text, after_text);
}

/* "manual__2024-01-01T00:00:00.123456+00:00". */
static void manual_run_id(int64_t us, char run_id[SL_META_NAME_MAX + 1])
{
    int64_t seconds = us / 1000000 - (us % 1000000 < 0);
    int micros = (int)(us - seconds * 1000000);
    char date[SL_TIME_ISO_MAX];
    size_t len = sl_time_format_offset(seconds * 1000000, 0, date);
    size_t cut = len >= 6 ? len - 6 : len;   /* before "+00:00" */
    snprintf(run_id, SL_META_NAME_MAX + 1, "manual__%.*s.%06d%s", (int)cut, date, micros, date + cut);
}

int sl_dag_api_create_run(sl_metadata *store, const sl_dag *dag, const sl_dag_trigger *trigger, int64_t now_us,
                          int64_t *row, char run_id[SL_META_NAME_MAX + 1], sl_error *err)
{
    sl_interval interval = sl_timetable_manual(&dag->timetable, now_us);
    if (trigger->has_logical_date && interval_at(dag, trigger->logical_date_us, &interval, err)) return 400;
    int rc = ensure_dag_row(store, dag, err);
    if (rc) return sl_dag_api_status_of(rc, err);
    sl_meta_run_spec spec = { .dag_id = dag->name, .run_type = SL_META_RUN_MANUAL,
                              .data_interval_start_us = interval.start_us, .data_interval_end_us = interval.end_us,
                              .conf = trigger->conf };
    for (int attempt = 0; attempt < RUN_ID_ATTEMPTS; attempt++) {
        if (trigger->run_id) snprintf(run_id, SL_META_NAME_MAX + 1, "%s", trigger->run_id);
        else manual_run_id(now_us + attempt, run_id);
        spec.run_id = run_id;
        bool created = false;
        rc = sl_metadata_run_create(store, &spec, row, &created, err);
        if (rc) return sl_dag_api_status_of(rc, err);
        if (created) return 201;
        if (trigger->run_id) {
            sl_error_set_permanent(err, SL_EEXIST, "DAG %s has a run called '%s' already", dag->name, run_id);
            return 409;
        }
    }
    sl_error_set(err, SL_EEXIST, "DAG %s: no free run id near %s", dag->name, run_id);
    return 500;
}

static int write_created_run(void *context, const sl_meta_run *run)
{
    sl_json_out *json = context;
    sl_dag_json_run(json, run);
    return json->rc;
}

void sl_dag_api_trigger(const sl_dag_api *api, const char *dag_id, const char *body, size_t len,
                        sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    static const char *const fields[] = { "conf", "logical_date", "run_id", NULL };
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) {
        sl_http_error(out, 500, "out of memory");
        return;
    }
    sl_value request;
    sl_buffer conf = { 0 };
    char given_run_id[SL_META_NAME_MAX + 1];
    sl_dag_trigger trigger = { 0 };
    bool ok = sl_dag_body_parse(arena, body, len, fields, &request, out);
    const sl_value *value = ok ? sl_dag_body_field(&request, "conf") : NULL;
    if (value && value->type != SL_TYPE_OBJECT) {
        sl_http_error(out, 400, "conf must be a JSON object, not %s", sl_type_name(value->type));
        ok = false;
    } else if (value) {
        if (sl_json_write(&conf, value) || sl_buffer_append_byte(&conf, '\0')) {
            sl_http_error(out, 500, "out of memory");
            ok = false;
        }
        trigger.conf = conf.data;
    }
    if (ok && (value = sl_dag_body_field(&request, "logical_date"))) {
        ok = sl_dag_body_date(value, "logical_date", &trigger.logical_date_us, out);
        trigger.has_logical_date = true;
    }
    if (ok && (value = sl_dag_body_field(&request, "run_id"))) {
        ok = sl_dag_body_string(value, "run_id", given_run_id, sizeof given_run_id, out);
        trigger.run_id = given_run_id;
    }
    if (ok) {
        sl_error err;
        sl_error_clear(&err);
        int64_t row = 0;
        char run_id[SL_META_NAME_MAX + 1];
        int status = sl_dag_api_create_run(api->store, dag, &trigger, api->now_us, &row, run_id, &err);
        if (status != 201) {
            sl_http_error(out, status, "%s", err.message);
        } else {
            sl_json_out json;
            sl_json_out_init(&json, &out->body);
            int rc = sl_metadata_run_get(api->store, row, write_created_run, &json, &err);
            if (rc == SL_OK) rc = json.rc ? json.rc : sl_buffer_append_byte(&out->body, '\n');
            if (rc) sl_dag_api_store_error(out, &err);
            else out->status = 201;
        }
    }
    sl_buffer_free(&conf);
    sl_arena_free(arena);
}

/* ---- clear ---- */

void sl_dag_api_clear(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *body, size_t len,
                      sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    static const char *const fields[] = { "tasks", "only_failed", "downstream", NULL };
    sl_arena *arena = sl_arena_new(4096);
    size_t n = dag->n_tasks ? dag->n_tasks : 1;
    bool *chosen = calloc(n, sizeof *chosen), *cleared = calloc(n, sizeof *cleared);
    sl_meta_clear_task *tasks = calloc(n, sizeof *tasks);
    size_t *index_of = calloc(n, sizeof *index_of);
    if (!arena || !chosen || !cleared || !tasks || !index_of) {
        sl_http_error(out, 500, "out of memory");
        goto done;
    }
    sl_value request;
    bool only_failed = true, downstream = true;
    const sl_value *value;
    if (!sl_dag_body_parse(arena, body, len, fields, &request, out)) goto done;
    if ((value = sl_dag_body_field(&request, "only_failed")) && !sl_dag_body_bool(value, "only_failed", &only_failed, out)) goto done;
    if ((value = sl_dag_body_field(&request, "downstream")) && !sl_dag_body_bool(value, "downstream", &downstream, out)) goto done;
    if (!sl_dag_api_choose_tasks(dag, sl_dag_body_field(&request, "tasks"), downstream, chosen, out)) goto done;
    sl_error err;
    sl_error_clear(&err);
    sl_dag_run_state run = { 0 };
    int rc = sl_metadata_run_find(api->store, dag_id, run_id, sl_dag_keep_run_state, &run, &err);
    if (rc == SL_ENOTFOUND) {
        sl_http_error(out, 404, "DAG '%s' has no run '%s'", dag_id, run_id);
        goto done;
    }
    size_t n_chosen = 0;
    for (size_t t = 0; t < dag->n_tasks; t++) {
        if (!chosen[t]) continue;
        tasks[n_chosen] = (sl_meta_clear_task){ dag->tasks[t].name, dag->tasks[t].retries };
        index_of[n_chosen++] = t;
    }
    if (rc == SL_OK) rc = sl_metadata_ti_clear(api->store, run.row, tasks, n_chosen, only_failed, cleared, NULL, &err);
    if (rc == SL_OK) rc = sl_metadata_run_get(api->store, run.row, sl_dag_keep_run_state, &run, &err);
    if (rc) {
        sl_http_error(out, sl_dag_api_status_of(rc, &err), "%s", err.message);
        goto done;
    }
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dag_id");
    sl_json_string(&json, dag_id);
    sl_json_key(&json, "run_id");
    sl_json_string(&json, run_id);
    sl_json_key(&json, "cleared");
    sl_json_begin_array(&json);
    for (size_t i = 0; i < n_chosen; i++)
        if (cleared[i]) sl_json_string(&json, dag->tasks[index_of[i]].name);
    sl_json_end_array(&json);
    sl_json_key(&json, "state");
    sl_json_string(&json, sl_meta_run_state_name(run.state));
    sl_json_end_object(&json);
    if (json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    if (json.rc) sl_http_error(out, 500, "out of memory");
done:
    free(chosen);
    free(cleared);
    free(tasks);
    free(index_of);
    sl_arena_free(arena);
}

/* ---- backfill ---- */

/* The runs whose logical date is in [from, to]: their start and run id. */
typedef struct existing_run {
    int64_t start_us;
    char *run_id;
} existing_run;

typedef struct existing_runs {
    existing_run *items;
    size_t n, capacity;
    int64_t from_us, to_us;
    bool is_below;               /* a run before from_us was seen: no page further holds one in range */
} existing_runs;

static int keep_existing(void *context, const sl_meta_run *run)
{
    existing_runs *runs = context;
    if (run->data_interval_start_us < runs->from_us) {
        runs->is_below = true;
        return SL_OK;
    }
    if (run->data_interval_start_us > runs->to_us) return SL_OK;
    if (runs->n == runs->capacity) {
        size_t capacity = runs->capacity ? runs->capacity * 2 : 16;
        existing_run *items = realloc(runs->items, capacity * sizeof *items);
        if (!items) return SL_ENOMEM;
        runs->items = items;
        runs->capacity = capacity;
    }
    runs->items[runs->n].start_us = run->data_interval_start_us;
    runs->items[runs->n].run_id = strdup(run->run_id);
    if (!runs->items[runs->n].run_id) return SL_ENOMEM;
    runs->n++;
    return SL_OK;
}

/* Pages down from the newest run starting at or before to_us, in the
 * store's order (start, id descending), until one starts before from_us. */
static int find_existing(sl_metadata *store, const char *dag_id, existing_runs *runs, sl_error *err)
{
    sl_meta_run_cursor cursor = { true, runs->to_us, INT64_MAX };
    int rc = SL_OK;
    while (rc == SL_OK && cursor.is_set && !runs->is_below) {
        sl_meta_run_cursor next;
        rc = sl_metadata_run_list(store, dag_id, &cursor, SL_DAG_API_LIMIT_MAX, keep_existing, runs, &next, err);
        if (rc == SL_ENOMEM && !err->message[0]) sl_error_set(err, SL_ENOMEM, "out of memory");
        cursor = next;
    }
    return rc;
}

static const char *existing_at(const existing_runs *runs, int64_t start_us)
{
    for (size_t i = 0; i < runs->n; i++)
        if (runs->items[i].start_us == start_us) return runs->items[i].run_id;
    return NULL;
}

static int keep_run_id(void *context, const sl_meta_run *run)
{
    snprintf(context, SL_META_NAME_MAX + 1, "%s", run->run_id);
    return SL_OK;
}

void sl_dag_api_backfill(const sl_dag_api *api, const char *dag_id, const char *body, size_t len,
                         sl_http_response *out)
{
    const sl_dag *dag = sl_dag_api_find(api, dag_id, out);
    if (!dag) return;
    static const char *const fields[] = { "from", "to", NULL };
    sl_arena *arena = sl_arena_new(4096);
    sl_interval *intervals = malloc(SL_DAG_API_BACKFILL_MAX * sizeof *intervals);
    existing_runs runs = { 0 };
    if (!arena || !intervals) {
        sl_http_error(out, 500, "out of memory");
        goto done;
    }
    sl_value request;
    if (!sl_dag_body_parse(arena, body, len, fields, &request, out)) goto done;
    const sl_value *from = sl_dag_body_field(&request, "from"), *to = sl_dag_body_field(&request, "to");
    if (!from || !to) {
        sl_http_error(out, 400, "a backfill needs \"from\" and \"to\", the first and last logical dates (ISO 8601)");
        goto done;
    }
    if (!sl_dag_body_date(from, "from", &runs.from_us, out) || !sl_dag_body_date(to, "to", &runs.to_us, out)) goto done;
    if (runs.from_us > runs.to_us) {
        sl_http_error(out, 400, "from is after to: nothing to backfill");
        goto done;
    }
    if (dag->timetable.kind == SL_SCHEDULE_NONE) {
        sl_http_error(out, 400, "DAG %s has no schedule (schedule: null): it has no intervals to backfill", dag_id);
        goto done;
    }
    size_t n = 0;
    int rc = sl_timetable_backfill(&dag->timetable, runs.from_us, runs.to_us, intervals, SL_DAG_API_BACKFILL_MAX, &n);
    if (rc == SL_ETOOBIG) {
        sl_http_error(out, 400, "the range holds more than %d intervals of DAG %s's schedule '%s': backfill it in "
                      "parts", SL_DAG_API_BACKFILL_MAX, dag_id, dag->schedule_text);
        goto done;
    }
    sl_error err;
    sl_error_clear(&err);
    rc = find_existing(api->store, dag_id, &runs, &err);
    if (rc == SL_OK && n) rc = ensure_dag_row(api->store, dag, &err);
    sl_json_out json;
    sl_json_out_init(&json, &out->body);
    sl_json_begin_object(&json);
    sl_json_key(&json, "dag_id");
    sl_json_string(&json, dag_id);
    sl_json_key(&json, "run_ids");
    sl_json_begin_array(&json);
    size_t n_created = 0;
    sl_buffer existing = { 0 };
    sl_json_out existing_json;
    sl_json_out_init(&existing_json, &existing);
    sl_json_begin_array(&existing_json);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        const char *there = existing_at(&runs, intervals[i].start_us);
        if (there) {
            sl_json_string(&existing_json, there);
            continue;
        }
        sl_meta_run_spec spec = { .dag_id = dag_id, .run_type = SL_META_RUN_BACKFILL,
                                  .data_interval_start_us = intervals[i].start_us,
                                  .data_interval_end_us = intervals[i].end_us };
        int64_t row = 0;
        bool created = false;
        char run_id[SL_META_NAME_MAX + 1] = "";
        rc = sl_metadata_run_create(api->store, &spec, &row, &created, &err);
        if (rc == SL_OK) rc = sl_metadata_run_get(api->store, row, keep_run_id, run_id, &err);
        if (rc) break;
        sl_json_string(created ? &json : &existing_json, run_id);
        n_created += created;
    }
    sl_json_end_array(&json);
    sl_json_end_array(&existing_json);
    sl_json_key(&json, "existing");
    if (existing_json.rc == SL_OK && existing.len) {
        if (sl_buffer_append_byte(&existing, '\0')) existing_json.rc = SL_ENOMEM;
        else sl_json_raw(&json, existing.data);
    }
    sl_json_end_object(&json);
    if (json.rc == SL_OK) json.rc = sl_buffer_append_byte(&out->body, '\n');
    sl_buffer_free(&existing);
    if (rc) sl_http_error(out, sl_dag_api_status_of(rc, &err), "%s", err.message);
    else if (json.rc || existing_json.rc) sl_http_error(out, 500, "out of memory");
    else out->status = n_created ? 201 : 200;
done:
    for (size_t i = 0; i < runs.n; i++) free(runs.items[i].run_id);
    free(runs.items);
    free(intervals);
    sl_arena_free(arena);
}
