/* group_eval.c — a grouped statement's per-record half (WHERE, event time,
 * keys and aggregate arguments into a prepared row) and its per-group half
 * (HAVING and the columns over a group row). Layouts: eval.h. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "core/timefmt.h"
#include "sql/aggregate.h"
#include "sql/eval.h"
#include "sql/joins.h"
#include "sql/windows.h"

bool sl_sql_is_grouped(const sl_sql_program *program)
{
    return program && (program->grouping || program->stream_join);
}

const char *sl_sql_event_time_column(const sl_sql_program *program)
{
    if (program && program->stream_join) return program->stream_join->sides[0].time_name;
    if (!program || !program->grouping || program->grouping->window.kind == SL_SQL_WINDOW_NONE) return NULL;
    return program->grouping->window.time_name;
}

bool sl_sql_is_event_time_column(const sl_sql_program *program, const char *column)
{
    for (int k = 0; program && program->stream_join && k < 2; k++) {
        const char *name = program->stream_join->sides[k].time_name;
        if (name && strcmp(name, column) == 0) return true;
    }
    const char *name = sl_sql_event_time_column(program);
    return name && strcmp(name, column) == 0;
}

/* The event time as µs: a timestamp, an ISO 8601 string, or an integer of
 * milliseconds since the epoch (Kafka's convention). */
int sl_sql_event_time(const char *time_name, const sl_value *value, int64_t *out, sl_error *err)
{
    switch (value->type) {
    case SL_TYPE_TIMESTAMP: *out = value->timestamp; return SL_OK;
    case SL_TYPE_STRING:
        if (sl_time_parse_iso(value->string.ptr, value->string.len, out) == SL_OK) return SL_OK;
        return sl_error_set(err, SL_ESQL, "event time %s: '%.*s' is not an ISO 8601 timestamp", time_name,
                            (int)(value->string.len > 40 ? 40 : value->string.len), value->string.ptr);
    case SL_TYPE_INT:
        if (value->integer > INT64_MAX / 1000 || value->integer < INT64_MIN / 1000)
            return sl_error_set(err, SL_ESQL, "event time %s: %" PRId64 " ms is out of range", time_name,
                                value->integer);
        *out = value->integer * 1000;
        return SL_OK;
    case SL_TYPE_NULL:
        return sl_error_set(err, SL_ESQL, "event time %s is NULL or missing", time_name);
    default:
        return sl_error_set(err, SL_ESQL, "event time %s is a %s: give a timestamp, an ISO 8601 string or "
                            "milliseconds since the epoch", time_name, sl_type_name(value->type));
    }
}

int sl_sql_group_prepare(const sl_sql_program *program, const sl_value *input, sl_arena *arena, sl_value *out,
                         sl_error *err)
{
    if (program->stream_join) return sl_sql_join_prepare(program, input, arena, out, err);
    const sl_sql_grouping *grouping = program->grouping;
    if (program->where) {
        sl_value keep;
        int rc = sl_sql_expr_eval(program->where, input, arena, &keep, err);
        if (rc) return sl_error_prefix(err, "WHERE: "), rc;
        if (keep.type != SL_TYPE_BOOL && keep.type != SL_TYPE_NULL)
            return sl_error_set(err, SL_ESQL, "WHERE: line %d column %d: condition must be boolean, got %s",
                                program->where->line, program->where->column, sl_type_name(keep.type));
        if (keep.type == SL_TYPE_NULL || !keep.boolean) return 0;
    }
    size_t n = 1 + grouping->n_keys + grouping->n_calls;
    sl_value *items = sl_arena_alloc(arena, n * sizeof *items);
    if (!items) return sl_error_set(err, SL_ENOMEM, "out of memory");
    items[0] = sl_value_timestamp(INT64_MIN);
    if (grouping->window.kind != SL_SQL_WINDOW_NONE) {
        sl_value time;
        int rc = sl_sql_expr_eval(grouping->window.time, input, arena, &time, err);
        if (rc == SL_OK) rc = sl_sql_event_time(grouping->window.time_name, &time, &items[0].timestamp, err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < grouping->n_keys; i++) {
        int rc = sl_sql_expr_eval(grouping->keys[i], input, arena, &items[1 + i], err);
        if (rc) return sl_error_prefix(err, "GROUP BY key %zu: ", i + 1), rc;
    }
    for (size_t i = 0; i < grouping->n_calls; i++) {
        sl_value *arg = &items[1 + grouping->n_keys + i];
        *arg = sl_value_null();
        if (!grouping->calls[i].arg) continue;
        int rc = sl_sql_expr_eval(grouping->calls[i].arg, input, arena, arg, err);
        if (rc) return sl_error_prefix(err, "%s(): ", grouping->calls[i].aggregate->name), rc;
    }
    out->type = SL_TYPE_ARRAY;
    out->array.items = items;
    out->array.n_items = n;
    return 1;
}

int64_t sl_sql_prepared_time(const sl_value *prepared)
{
    return prepared->array.items[0].timestamp;
}
