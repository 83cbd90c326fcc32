/* functions_json.c — JSON in SQL: the operators -> and ->> (eval.c calls
 * sl__sql_json_arrow), json_extract with a JSONPath of members and
 * indexes, parse_json, to_json, json_array_length, and the array/object
 * functions cardinality and element_at.
 *
 * Every one takes a value of the record (an object or an array) or a
 * string holding JSON text, which is parsed for the call (into the
 * record's arena). As PostgreSQL's json operators: `->` gives the member
 * (a key) or element (an index from 0) as a value, `->>` as text (a
 * string as it is, anything else as its JSON text), and a missing one is
 * NULL. element_at counts from 1 (negative: from the end), as Spark and
 * Trino do.
 */
#include <stdio.h>
#include <string.h>

#include "core/buffer.h"
#include "core/error.h"
#include "core/json.h"
#include "sql/functions_internal.h"

/* v itself, or the JSON a string holds. */
static int json_of(sl_sql_call *call, const char *name, const sl_value *v, sl_value *out)
{
    if (v->type != SL_TYPE_STRING) {
        *out = *v;
        return SL_OK;
    }
    sl_error problem = { 0 };
    if (sl_json_parse(call->arena, v->string.ptr, v->string.len, out, &problem) == SL_OK) return SL_OK;
    if (problem.code == SL_ENOMEM) return sl__sql_out_of_memory(call, name);
    return sl_error_set(call->err, SL_ESQL, "%s(): the string is not JSON: %s", name, problem.message);
}

/* The member key of an object or the element index (from 0; negative from
 * the end) of an array; NULL when there is none. */
static sl_value step(const sl_value *from, const sl_value *key)
{
    if (from->type == SL_TYPE_OBJECT && key->type == SL_TYPE_STRING) {
        const sl_value *member = sl_value_get(from, key->string);
        return member ? *member : sl_value_null();
    }
    if (from->type == SL_TYPE_ARRAY && key->type == SL_TYPE_INT) {
        int64_t i = key->integer < 0 ? (int64_t)from->array.n_items + key->integer : key->integer;
        return i >= 0 && (uint64_t)i < from->array.n_items ? from->array.items[i] : sl_value_null();
    }
    return sl_value_null();
}

/* JSON text of v as a string value. */
static int to_text(sl_sql_call *call, const char *name, const sl_value *v, sl_value *out)
{
    sl_buffer text = { 0 };
    int rc = sl_json_write(&text, v);
    char *copy = rc ? NULL : sl_arena_alloc(call->arena, text.len + 1);
    if (copy) {
        memcpy(copy, text.data, text.len);
        copy[text.len] = '\0';
        *out = sl_value_string((sl_str){ copy, text.len });
    }
    sl_buffer_free(&text);
    return copy ? SL_OK : sl__sql_out_of_memory(call, name);
}

int sl__sql_json_arrow(sl_sql_call *call, const sl_value *left, const sl_value *key, bool as_text, sl_value *out)
{
    const char *name = as_text ? "->>" : "->";
    if (key->type != SL_TYPE_STRING && key->type != SL_TYPE_INT)
        return sl_error_set(call->err, SL_ESQL, "%s takes a string key or an int index, not %s", name,
                            sl_type_name(key->type));
    sl_value json;
    int rc = json_of(call, name, left, &json);
    if (rc) return rc;
    sl_value found = step(&json, key);
    if (!as_text || found.type == SL_TYPE_NULL || found.type == SL_TYPE_STRING) {
        *out = found;
        return SL_OK;
    }
    return to_text(call, name, &found, out);
}

int sl__sql_fn_parse_json(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "parse_json", "a string", &args[0]);
    return json_of(call, "parse_json", &args[0], out);
}

int sl__sql_fn_to_json(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return to_text(call, "to_json", &args[0], out);
}

/* json_extract(j, path): path is `$` then `.key`, `["key"]` or `[index]` steps. */
int sl__sql_fn_json_extract(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[1].type != SL_TYPE_STRING) return sl__sql_type_error(call, "json_extract", "a string path", &args[1]);
    sl_value at;
    int rc = json_of(call, "json_extract", &args[0], &at);
    if (rc) return rc;
    sl_str path = args[1].string;
    size_t i = 0;
    if (path.len == 0 || path.ptr[0] != '$')
        return sl_error_set(call->err, SL_ESQL, "json_extract(): the path must start with $, not '%.40s'", path.ptr);
    for (i = 1; i < path.len;) {
        sl_value key;
        if (path.ptr[i] == '.') {
            size_t start = ++i;
            while (i < path.len && path.ptr[i] != '.' && path.ptr[i] != '[') i++;
            if (i == start) break;
            key = sl_value_string((sl_str){ path.ptr + start, i - start });
        } else if (path.ptr[i] == '[' && i + 1 < path.len && path.ptr[i + 1] == '"') {
            size_t start = i + 2, end = start;
            while (end < path.len && path.ptr[end] != '"') end++;
            if (end + 1 >= path.len || path.ptr[end + 1] != ']') break;
            key = sl_value_string((sl_str){ path.ptr + start, end - start });
            i = end + 2;
        } else if (path.ptr[i] == '[') {
            size_t start = ++i;
            int64_t index = 0;
            bool is_negative = i < path.len && path.ptr[i] == '-';
            if (is_negative) i++;
            while (i < path.len && path.ptr[i] >= '0' && path.ptr[i] <= '9' && index < 100000000)
                index = index * 10 + (path.ptr[i++] - '0');
            if (i == start + is_negative || i >= path.len || path.ptr[i] != ']') break;
            i++;
            key = sl_value_int(is_negative ? -index : index);
        } else {
            break;
        }
        at = step(&at, &key);
    }
    if (i < path.len)
        return sl_error_set(call->err, SL_ESQL, "json_extract(): bad path '%.60s' at character %zu (steps: .key, "
                            "[\"key\"], [index])", path.ptr, i + 1);
    *out = at;
    return SL_OK;
}

int sl__sql_fn_json_array_length(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    sl_value json;
    int rc = json_of(call, "json_array_length", &args[0], &json);
    if (rc) return rc;
    if (json.type != SL_TYPE_ARRAY)
        return sl_error_set(call->err, SL_ESQL, "json_array_length(): cannot get the length of %s, only of an array",
                            sl_type_name(json.type));
    *out = sl_value_int((int64_t)json.array.n_items);
    return SL_OK;
}

int sl__sql_fn_cardinality(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type == SL_TYPE_ARRAY) *out = sl_value_int((int64_t)args[0].array.n_items);
    else if (args[0].type == SL_TYPE_OBJECT) *out = sl_value_int((int64_t)args[0].object.n_members);
    else return sl__sql_type_error(call, "cardinality", "an array or an object", &args[0]);
    return SL_OK;
}

/* element_at(array, i): from 1, negative from the end; element_at(object, key). NULL when absent. */
int sl__sql_fn_element_at(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type == SL_TYPE_ARRAY) {
        if (args[1].type != SL_TYPE_INT) return sl__sql_type_error(call, "element_at", "an int index", &args[1]);
        if (args[1].integer == 0) return sl_error_set(call->err, SL_ESQL, "element_at(): the index is from 1, not 0");
        sl_value index = sl_value_int(args[1].integer > 0 ? args[1].integer - 1 : args[1].integer);
        *out = step(&args[0], &index);
        return SL_OK;
    }
    if (args[0].type == SL_TYPE_OBJECT) {
        if (args[1].type != SL_TYPE_STRING) return sl__sql_type_error(call, "element_at", "a string key", &args[1]);
        *out = step(&args[0], &args[1]);
        return SL_OK;
    }
    return sl__sql_type_error(call, "element_at", "an array or an object", &args[0]);
}
