/* aggregate_bool.c — bool_and, bool_or (PostgreSQL's) and count_if.
 *
 * bool_and is TRUE when every non-NULL row is TRUE, bool_or when any is;
 * NULL when there is none. count_if(cond) counts the rows whose condition
 * is TRUE (FALSE and NULL rows are not counted) and is 0 over no rows. Any
 * argument that is not a boolean is that row's error.
 */
#include <stdint.h>

#include "sql/aggregate_internal.h"

typedef struct bool_state {
    bool has_value;
    bool value;
} bool_state;

static int bool_and_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("bool_and", is_distinct, err);
}

static int bool_or_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("bool_or", is_distinct, err);
}

static void bool_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(bool_state *)state = (bool_state){ 0 };
}

/* Folds value into state: the AND (is_and) or OR of the values so far. */
static void bool_fold(bool_state *state, bool value, bool is_and)
{
    if (!state->has_value) state->value = value;
    else state->value = is_and ? state->value && value : state->value || value;
    state->has_value = true;
}

static int bool_and_add(void *state, const sl_value *value, sl_error *err)
{
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type != SL_TYPE_BOOL) return sl__agg_type_error(err, "bool_and", "a boolean", value);
    bool_fold(state, value->boolean, true);
    return SL_OK;
}

static int bool_or_add(void *state, const sl_value *value, sl_error *err)
{
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type != SL_TYPE_BOOL) return sl__agg_type_error(err, "bool_or", "a boolean", value);
    bool_fold(state, value->boolean, false);
    return SL_OK;
}

static int bool_and_merge(void *dst, const void *src, sl_error *err)
{
    const bool_state *part = src;
    (void)err;
    if (part->has_value) bool_fold(dst, part->value, true);
    return SL_OK;
}

static int bool_or_merge(void *dst, const void *src, sl_error *err)
{
    const bool_state *part = src;
    (void)err;
    if (part->has_value) bool_fold(dst, part->value, false);
    return SL_OK;
}

static int bool_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const bool_state *result = state;
    (void)arena;
    (void)err;
    *out = result->has_value ? sl_value_bool(result->value) : sl_value_null();
    return SL_OK;
}

const sl_sql_aggregate sl__agg_bool_and = {
    .name = "bool_and",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(bool_state),
    .check = bool_and_check,
    .init = bool_init,
    .add = bool_and_add,
    .merge = bool_and_merge,
    .result = bool_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

const sl_sql_aggregate sl__agg_bool_or = {
    .name = "bool_or",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(bool_state),
    .check = bool_or_check,
    .init = bool_init,
    .add = bool_or_add,
    .merge = bool_or_merge,
    .result = bool_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

/* ---- count_if ---- */

typedef struct count_if_state {
    int64_t n;
} count_if_state;

static int count_if_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("count_if", is_distinct, err);
}

static void count_if_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(count_if_state *)state = (count_if_state){ 0 };
}

static int count_if_add(void *state, const sl_value *value, sl_error *err)
{
    count_if_state *count = state;
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type != SL_TYPE_BOOL) return sl__agg_type_error(err, "count_if", "a boolean", value);
    if (value->boolean) count->n++;
    return SL_OK;
}

static int count_if_merge(void *dst, const void *src, sl_error *err)
{
    (void)err;
    ((count_if_state *)dst)->n += ((const count_if_state *)src)->n;
    return SL_OK;
}

static int count_if_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = sl_value_int(((const count_if_state *)state)->n);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_count_if = {
    .name = "count_if",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(count_if_state),
    .check = count_if_check,
    .init = count_if_init,
    .add = count_if_add,
    .merge = count_if_merge,
    .result = count_if_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};
