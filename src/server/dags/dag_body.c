/* dag_body.c — request bodies, task choices and run lookups shared by the
 * DAG endpoints that change the store (see dag_body.h). */
#include "server/dags/dag_body.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timefmt.h"

/* The body as a JSON object (an empty body is {}), every key one of
 * allowed (NULL-ended); false after a 400 in out. */
bool sl_dag_body_parse(sl_arena *arena, const char *body, size_t len, const char *const *allowed, sl_value *object,
                       sl_http_response *out)
{
    size_t start = 0;
    while (start < len && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' || body[start] == '\t'))
        start++;
    if (start == len) {
        *object = (sl_value){ .type = SL_TYPE_OBJECT };
        return true;
    }
    sl_error err;
    sl_error_clear(&err);
    if (sl_json_parse(arena, body, len, object, &err)) {
        sl_http_error(out, 400, "the request body is not JSON: %s", err.message);
        return false;
    }
    if (object->type != SL_TYPE_OBJECT) {
        sl_http_error(out, 400, "the request body must be a JSON object, not %s", sl_type_name(object->type));
        return false;
    }
    for (size_t m = 0; m < object->object.n_members; m++) {
        const sl_str key = object->object.members[m].key;
        bool is_allowed = false;
        char names[200] = "";
        size_t used = 0;
        for (size_t a = 0; allowed[a]; a++) {
            is_allowed |= sl_str_eq_cstr(key, allowed[a]);
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", a ? ", " : "", allowed[a]);
        }
        if (!is_allowed) {
            sl_http_error(out, 400, "unknown field '%.*s' in the request body (fields: %s)", (int)key.len, key.ptr,
                          names);
            return false;
        }
    }
    return true;
}

const sl_value *sl_dag_body_field(const sl_value *object, const char *name)
{
    const sl_value *value = sl_value_get(object, sl_str_from(name));
    return value && value->type != SL_TYPE_NULL ? value : NULL;
}

/* A string field copied into out (size bytes); false after a 400. */
bool sl_dag_body_string(const sl_value *value, const char *name, char *text, size_t size, sl_http_response *out)
{
    if (value->type != SL_TYPE_STRING) {
        sl_http_error(out, 400, "%s must be a string, not %s", name, sl_type_name(value->type));
        return false;
    }
    if (value->string.len == 0 || value->string.len >= size || memchr(value->string.ptr, '\0', value->string.len)) {
        sl_http_error(out, 400, "%s must be 1 to %zu bytes of text", name, size - 1);
        return false;
    }
    memcpy(text, value->string.ptr, value->string.len);
    text[value->string.len] = '\0';
    return true;
}

bool sl_dag_body_date(const sl_value *value, const char *name, int64_t *us, sl_http_response *out)
{
    char text[64];
    if (value->type != SL_TYPE_STRING || value->string.len >= sizeof text) {
        sl_http_error(out, 400, "%s must be an ISO 8601 date string like 2024-01-01T00:00:00Z", name);
        return false;
    }
    memcpy(text, value->string.ptr, value->string.len);
    text[value->string.len] = '\0';
    if (sl_time_parse_iso(text, strlen(text), us) == SL_OK) return true;
    sl_http_error(out, 400, "%s '%s' is not an ISO 8601 date (2024-01-01, 2024-01-01T06:00:00Z, "
                  "2024-01-01T08:00:00+02:00; without an offset it is UTC)", name, text);
    return false;
}

bool sl_dag_body_bool(const sl_value *value, const char *name, bool *flag, sl_http_response *out)
{
    if (value->type != SL_TYPE_BOOL) {
        sl_http_error(out, 400, "%s must be true or false, not %s", name, sl_type_name(value->type));
        return false;
    }
    *flag = value->boolean;
    return true;
}

/* 400 for bad arguments, else 503/500 by the error's class. */
int sl_dag_api_status_of(int rc, const sl_error *err)
{
    if (rc == SL_EINVAL) return 400;
    return sl_error_is_transient(err) ? 503 : 500;
}

int sl_dag_keep_run_state(void *context, const sl_meta_run *run)
{
    sl_dag_run_state *found = context;
    found->row = run->id;
    found->state = run->state;
    return SL_OK;
}

/* Which tasks a clear takes: those named (or all), with their downstream
 * tasks unless downstream is false. false after a 400. */
bool sl_dag_api_choose_tasks(const sl_dag *dag, const sl_value *names, bool downstream, bool *chosen,
                         sl_http_response *out)
{
    for (size_t t = 0; t < dag->n_tasks; t++) chosen[t] = names == NULL;
    if (names && names->type != SL_TYPE_ARRAY) {
        sl_http_error(out, 400, "tasks must be a list of task ids, not %s", sl_type_name(names->type));
        return false;
    }
    for (size_t i = 0; names && i < names->array.n_items; i++) {
        char task_id[SL_META_NAME_MAX + 1];
        if (!sl_dag_body_string(&names->array.items[i], "each of tasks", task_id, sizeof task_id, out)) return false;
        size_t index = sl_dag_task_index(dag, task_id);
        if (index == (size_t)-1) {
            char known[600] = "";
            size_t used = 0;
            for (size_t t = 0; t < dag->n_tasks && used < sizeof known; t++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", t ? ", " : "",
                                         dag->tasks[t].name);
            sl_http_error(out, 400, "'%s' is not a task of DAG %s (its tasks: %s)", task_id, dag->name, known);
            return false;
        }
        chosen[index] = true;
    }
    if (downstream) sl_dag_add_downstream(dag, chosen);
    return true;
}

void sl_dag_add_downstream(const sl_dag *dag, bool *chosen)
{
    for (bool is_changed = true; is_changed;) {
        is_changed = false;
        for (size_t t = 0; t < dag->n_tasks; t++) {
            for (size_t u = 0; !chosen[t] && u < dag->tasks[t].n_upstream; u++) {
                if (!chosen[dag->tasks[t].upstream[u]]) continue;
                chosen[t] = true;
                is_changed = true;
            }
        }
    }
}
