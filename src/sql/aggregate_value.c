/* aggregate_value.c — copies of values that outlive their batch, for the
 * aggregates that keep a row's value (min, max, first_value, last_value).
 *
 * A copy is one malloc'ed block: the value's arrays, members and bytes laid
 * out in two passes (measure, then copy) that round every piece to 8 bytes
 * the same way. The block is kept and reused while the next value fits, so
 * last_value over short strings allocates once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/aggregate_internal.h"

static size_t round_up8(size_t size)
{
    return (size + 7) & ~(size_t)7;
}

/* Bytes the parts of value that live outside it need. */
static size_t value_size(const sl_value *value)
{
    size_t size = 0;
    switch (value->type) {
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES:
        return round_up8(value->string.len);
    case SL_TYPE_ARRAY:
        size = round_up8(value->array.n_items * sizeof(sl_value));
        for (size_t i = 0; i < value->array.n_items; i++) size += value_size(&value->array.items[i]);
        return size;
    case SL_TYPE_OBJECT:
        size = round_up8(value->object.n_members * sizeof(sl_member));
        for (size_t i = 0; i < value->object.n_members; i++)
            size += round_up8(value->object.members[i].key.len) + value_size(&value->object.members[i].value);
        return size;
    default:
        return 0;
    }
}

static const char *copy_bytes(sl_str text, char **next)
{
    char *copy = *next;
    if (text.len) memcpy(copy, text.ptr, text.len);
    *next += round_up8(text.len);
    return copy;
}

/* Copies value's outside parts to *next (advanced past them) into out. */
static void copy_value(const sl_value *value, char **next, sl_value *out)
{
    *out = *value;
    switch (value->type) {
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES:
        out->string.ptr = copy_bytes(value->string, next);
        break;
    case SL_TYPE_ARRAY: {
        sl_value *items = (sl_value *)(void *)*next;
        *next += round_up8(value->array.n_items * sizeof(sl_value));
        for (size_t i = 0; i < value->array.n_items; i++) copy_value(&value->array.items[i], next, &items[i]);
        out->array.items = items;
        break;
    }
    case SL_TYPE_OBJECT: {
        sl_member *members = (sl_member *)(void *)*next;
        *next += round_up8(value->object.n_members * sizeof(sl_member));
        for (size_t i = 0; i < value->object.n_members; i++) {
            const sl_member *member = &value->object.members[i];
            members[i].key.ptr = copy_bytes(member->key, next);
            members[i].key.len = member->key.len;
            copy_value(&member->value, next, &members[i].value);
        }
        out->object.members = members;
        break;
    }
    default:
        break;
    }
}

int sl__agg_hold(sl__agg_held *held, const sl_value *value, const char *name, sl_error *err)
{
    size_t size = value_size(value);
    if (size > held->capacity) {
        void *block = malloc(size);
        if (!block) return sl__agg_out_of_memory(err, name);
        free(held->block);
        held->block = block;
        held->capacity = size;
    }
    char *next = held->block;
    copy_value(value, &next, &held->value);
    return SL_OK;
}

void sl__agg_held_release(sl__agg_held *held)
{
    free(held->block);
    held->block = NULL;
    held->capacity = 0;
    held->value = sl_value_null();
}
