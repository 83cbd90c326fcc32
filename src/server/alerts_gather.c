/* alerts_gather.c — the pipeline metrics alert rules read, taken from the
 * supervisor's snapshot (the JSON of GET /api/v1/pipelines): per
 * continuous pipeline sluice_pipeline_up, _restarts_total,
 * _records_in_total, _records_out_total, _records_filtered_total,
 * _dead_letters_total and _bytes_in_total, named and typed as /metrics
 * names them. The server hands the evaluator this gatherer; the full
 * gathering of metrics (server/metrics.h, with lag, topics and groups)
 * takes its place where it is built.
 */
#include "server/alerts_gather.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "server/server.h"
#include "server/supervisor.h"

typedef struct counter_field {
    const char *field;        /* in the snapshot */
    const char *family;
    const char *help;
} counter_field;

static const counter_field counters[] = {
    { "restarts", "sluice_pipeline_restarts_total", "restarts of the pipeline after a failure or by a command" },
    { "records_in", "sluice_pipeline_records_in_total", "records read from the source" },
    { "records_out", "sluice_pipeline_records_out_total", "records every sink stored" },
    { "records_filtered", "sluice_pipeline_records_filtered_total", "records the transform's WHERE refused" },
    { "dead_letters", "sluice_pipeline_dead_letters_total", "records sent to the dead-letter topic" },
    { "bytes_in", "sluice_pipeline_bytes_in_total", "bytes read from the source" },
    { NULL, NULL, NULL },
};

static const sl_value *member(const sl_value *object, const char *key)
{
    if (object->type != SL_TYPE_OBJECT) return NULL;
    for (size_t i = 0; i < object->object.n_members; i++)
        if (sl_str_eq_cstr(object->object.members[i].key, key)) return &object->object.members[i].value;
    return NULL;
}

static double number_of(const sl_value *value)
{
    if (!value) return 0;
    if (value->type == SL_TYPE_INT) return (double)value->integer;
    if (value->type == SL_TYPE_DOUBLE) return value->number;
    return 0;
}

int sl_alerts_gather_pipelines(void *server, sl_metric_set **out, sl_error *err)
{
    *out = NULL;
    sl_buffer snapshot = { 0 };
    sl_arena *arena = sl_arena_new(16384);
    sl_metric_set *set = sl_metric_set_new();
    int rc = arena && set ? sl_supervisor_snapshot(sl_server_supervisor(server), &snapshot) : SL_ENOMEM;
    sl_value pipelines;
    if (rc == SL_OK) rc = sl_json_parse(arena, snapshot.data, snapshot.len, &pipelines, err);
    if (rc == SL_OK && pipelines.type != SL_TYPE_ARRAY) rc = sl_error_set(err, SL_EPARSE, "the snapshot is no array");
    if (rc == SL_OK) rc = sl_metric_set_family(set, "sluice_pipeline_up", SL_METRIC_GAUGE, "1 while the pipeline runs, else 0");
    for (const counter_field *c = counters; c->field && rc == SL_OK; c++)
        rc = sl_metric_set_family(set, c->family, SL_METRIC_COUNTER, c->help);
    for (size_t i = 0; rc == SL_OK && i < pipelines.array.n_items; i++) {
        const sl_value *pipeline = &pipelines.array.items[i];
        const sl_value *name = member(pipeline, "name"), *state = member(pipeline, "state");
        if (!name || name->type != SL_TYPE_STRING || !state || state->type != SL_TYPE_STRING) continue;
        char name_text[300];
        snprintf(name_text, sizeof name_text, "%.*s", (int)name->string.len, name->string.ptr);
        sl_metric_label label = { "pipeline", name_text };
        rc = sl_metric_set_add(set, "sluice_pipeline_up", &label, 1, sl_str_eq_cstr(state->string, "running") ? 1 : 0);
        for (const counter_field *c = counters; c->field && rc == SL_OK; c++)
            rc = sl_metric_set_add(set, c->family, &label, 1, number_of(member(pipeline, c->field)));
    }
    sl_buffer_free(&snapshot);
    sl_arena_free(arena);
    if (rc) {
        sl_metric_set_free(set);
        return rc == SL_ENOMEM ? sl_error_set(err, SL_ENOMEM, "out of memory") : rc;
    }
    *out = set;
    return SL_OK;
}
