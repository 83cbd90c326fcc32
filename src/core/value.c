/* value.c — helpers for the tagged union values (see value.h). */
#include "core/value.h"

#include <string.h>

#include "core/error.h"

sl_str sl_str_from(const char *text)
{
    sl_str s = { text ? text : "", text ? strlen(text) : 0 };
    return s;
}

bool sl_str_eq(sl_str a, sl_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool sl_str_eq_cstr(sl_str a, const char *text)
{
    return sl_str_eq(a, sl_str_from(text));
}

const char *sl_type_name(sl_type type)
{
    switch (type) {
    case SL_TYPE_NULL: return "null";
    case SL_TYPE_BOOL: return "bool";
    case SL_TYPE_INT: return "int";
    case SL_TYPE_DOUBLE: return "double";
    case SL_TYPE_STRING: return "string";
    case SL_TYPE_BYTES: return "bytes";
    case SL_TYPE_TIMESTAMP: return "timestamp";
    case SL_TYPE_ARRAY: return "array";
    case SL_TYPE_OBJECT: return "object";
    case SL_TYPE_INTERVAL: return "interval";
    }
    return "unknown";
}

int sl_value_string_copy(sl_arena *arena, const char *text, size_t len, sl_value *out)
{
    char *copy = sl_arena_strndup(arena, text, len);
    if (!copy) {
        *out = sl_value_null();
        return SL_ENOMEM;
    }
    *out = sl_value_string((sl_str){ copy, len });
    return SL_OK;
}

const sl_value *sl_value_get(const sl_value *object, sl_str key)
{
    if (!object || object->type != SL_TYPE_OBJECT) return NULL;
    for (size_t i = 0; i < object->object.n_members; i++) {
        const sl_member *member = &object->object.members[i];
        if (sl_str_eq(member->key, key)) return &member->value;
    }
    return NULL;
}

const sl_value *sl_value_get_path(const sl_value *value, const sl_str *keys, size_t n_keys)
{
    for (size_t i = 0; i < n_keys && value; i++) value = sl_value_get(value, keys[i]);
    return value;
}

int sl_path_split(sl_str path, sl_str *keys, size_t max_keys)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= path.len; i++) {
        if (i == path.len || path.ptr[i] == '.') {
            if (i == start || n == max_keys) return -1;
            keys[n++] = (sl_str){ path.ptr + start, i - start };
            start = i + 1;
        }
    }
    return (int)n;
}

void sl_object_begin(sl_object_builder *builder, sl_arena *arena, size_t expected)
{
    builder->arena = arena;
    builder->members = NULL;
    builder->n_members = 0;
    builder->capacity = 0;
    if (expected) {
        builder->members = sl_arena_alloc(arena, expected * sizeof(sl_member));
        if (builder->members) builder->capacity = expected;
    }
}

int sl_object_add(sl_object_builder *builder, sl_str key, sl_value value)
{
    if (builder->n_members == builder->capacity) {
        size_t capacity = builder->capacity ? builder->capacity * 2 : 8;
        sl_member *grown = sl_arena_realloc(builder->arena, builder->members,
                                            builder->capacity * sizeof(sl_member),
                                            capacity * sizeof(sl_member));
        if (!grown) return SL_ENOMEM;
        builder->members = grown;
        builder->capacity = capacity;
    }
    builder->members[builder->n_members].key = key;
    builder->members[builder->n_members].value = value;
    builder->n_members++;
    return SL_OK;
}

int sl_object_add_cstr(sl_object_builder *builder, const char *key, const char *text)
{
    sl_value value;
    int rc = sl_value_string_copy(builder->arena, text, strlen(text), &value);
    if (rc) return rc;
    return sl_object_add(builder, sl_str_from(key), value);
}

sl_value sl_object_end(sl_object_builder *builder)
{
    sl_value v = { .type = SL_TYPE_OBJECT };
    v.object.members = builder->members;
    v.object.n_members = builder->n_members;
    return v;
}

bool sl_value_equal(const sl_value *a, const sl_value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case SL_TYPE_NULL: return true;
    case SL_TYPE_BOOL: return a->boolean == b->boolean;
    case SL_TYPE_INT: return a->integer == b->integer;
    case SL_TYPE_DOUBLE: return a->number == b->number;
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES: return sl_str_eq(a->string, b->string);
    case SL_TYPE_TIMESTAMP: return a->timestamp == b->timestamp;
    case SL_TYPE_INTERVAL:   /* field by field: '1 mon' and '30 days' are equal in SQL, not here */
        return a->interval.months == b->interval.months && a->interval.days == b->interval.days &&
               a->interval.micros == b->interval.micros;
    case SL_TYPE_ARRAY:
        if (a->array.n_items != b->array.n_items) return false;
        for (size_t i = 0; i < a->array.n_items; i++)
            if (!sl_value_equal(&a->array.items[i], &b->array.items[i])) return false;
        return true;
    case SL_TYPE_OBJECT:
        if (a->object.n_members != b->object.n_members) return false;
        for (size_t i = 0; i < a->object.n_members; i++) {
            const sl_member *ma = &a->object.members[i], *mb = &b->object.members[i];
            if (!sl_str_eq(ma->key, mb->key) || !sl_value_equal(&ma->value, &mb->value))
                return false;
        }
        return true;
    }
    return false;
}

static int clone_str(sl_arena *arena, sl_str in, sl_str *out)
{
    char *copy = sl_arena_strndup(arena, in.ptr, in.len);
    if (!copy) return SL_ENOMEM;
    *out = (sl_str){ copy, in.len };
    return SL_OK;
}

int sl_value_clone(sl_arena *arena, const sl_value *value, sl_value *out)
{
    *out = *value;
    switch (value->type) {
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES:
        return clone_str(arena, value->string, &out->string);
    case SL_TYPE_ARRAY: {
        size_t n = value->array.n_items;
        sl_value *items = n ? sl_arena_alloc(arena, n * sizeof *items) : NULL;
        if (n && !items) return SL_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = sl_value_clone(arena, &value->array.items[i], &items[i]);
            if (rc) return rc;
        }
        out->array.items = items;
        return SL_OK;
    }
    case SL_TYPE_OBJECT: {
        size_t n = value->object.n_members;
        sl_member *members = n ? sl_arena_alloc(arena, n * sizeof *members) : NULL;
        if (n && !members) return SL_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = clone_str(arena, value->object.members[i].key, &members[i].key);
            if (!rc) rc = sl_value_clone(arena, &value->object.members[i].value, &members[i].value);
            if (rc) return rc;
        }
        out->object.members = members;
        return SL_OK;
    }
    default:
        return SL_OK;
    }
}
