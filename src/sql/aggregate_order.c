/* aggregate_order.c — min, max, first_value and last_value: the aggregates
 * that keep one row's value.
 *
 * min and max compare as SQL's < does (sl_sql_compare): numbers across int
 * and double, strings and bytes by their bytes (PostgreSQL's C collation),
 * timestamps, booleans (false < true); NaN is above every number, as in
 * PostgreSQL. Values of two different kinds (a string and a number, a
 * string and a timestamp) are that row's error, as are arrays and objects.
 * first_value and last_value keep whatever arrived first or last, NULL
 * included, in arrival order. Kept values are copies the state owns.
 */
#include "sql/aggregate_internal.h"
#include "sql/eval.h"

typedef struct kept_state {
    bool has_value;
    sl__agg_held held;
} kept_state;

static void kept_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(kept_state *)state = (kept_state){ .held.value = { .type = SL_TYPE_NULL } };
}

static int kept_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const kept_state *kept = state;
    if (!kept->has_value) {
        *out = sl_value_null();
        return SL_OK;
    }
    if (sl_value_clone(arena, &kept->held.value, out)) return sl__agg_out_of_memory(err, "result");
    return SL_OK;
}

static size_t kept_heap_bytes(const void *state)
{
    return ((const kept_state *)state)->held.capacity;
}

static void kept_release(void *state)
{
    sl__agg_held_release(&((kept_state *)state)->held);
}

static int kept_set(kept_state *kept, const sl_value *value, const char *name, sl_error *err)
{
    int rc = sl__agg_hold(&kept->held, value, name, err);
    if (rc == SL_OK) kept->has_value = true;
    return rc;
}

/* ---- min, max ---- */

static bool is_number(sl_type type)
{
    return type == SL_TYPE_INT || type == SL_TYPE_DOUBLE;
}

/* Keeps value when it orders before (sign -1, min) or after (sign 1, max)
 * the kept one. */
static int extreme_fold(kept_state *kept, const sl_value *value, int sign, const char *name, sl_error *err)
{
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type == SL_TYPE_ARRAY || value->type == SL_TYPE_OBJECT)
        return sl__agg_type_error(err, name, "a number, string, bytes, timestamp or boolean", value);
    if (!kept->has_value) return kept_set(kept, value, name, err);
    const sl_value *current = &kept->held.value;
    int order;
    bool is_same_kind = value->type == current->type || (is_number(value->type) && is_number(current->type));
    if (!is_same_kind || sl_sql_compare(value, current, &order))
        return sl_error_set(err, SL_ESQL, "%s() cannot compare %s with %s", name, sl_type_name(value->type),
                            sl_type_name(current->type));
    if (order * sign > 0) return kept_set(kept, value, name, err);
    return SL_OK;
}

static int min_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("min", is_distinct, err);
}

static int max_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("max", is_distinct, err);
}

static int min_add(void *state, const sl_value *value, sl_error *err)
{
    return extreme_fold(state, value, -1, "min", err);
}

static int max_add(void *state, const sl_value *value, sl_error *err)
{
    return extreme_fold(state, value, 1, "max", err);
}

static int min_merge(void *dst, const void *src, sl_error *err)
{
    const kept_state *part = src;
    return part->has_value ? extreme_fold(dst, &part->held.value, -1, "min", err) : SL_OK;
}

static int max_merge(void *dst, const void *src, sl_error *err)
{
    const kept_state *part = src;
    return part->has_value ? extreme_fold(dst, &part->held.value, 1, "max", err) : SL_OK;
}

const sl_sql_aggregate sl__agg_min = {
    .name = "min",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(kept_state),
    .check = min_check,
    .init = kept_init,
    .add = min_add,
    .merge = min_merge,
    .result = kept_result,
    .heap_bytes = kept_heap_bytes,
    .release = kept_release,
};

const sl_sql_aggregate sl__agg_max = {
    .name = "max",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(kept_state),
    .check = max_check,
    .init = kept_init,
    .add = max_add,
    .merge = max_merge,
    .result = kept_result,
    .heap_bytes = kept_heap_bytes,
    .release = kept_release,
};

/* ---- first_value, last_value ---- */

static int first_value_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("first_value", is_distinct, err);
}

static int last_value_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("last_value", is_distinct, err);
}

static int first_value_add(void *state, const sl_value *value, sl_error *err)
{
    kept_state *kept = state;
    return kept->has_value ? SL_OK : kept_set(kept, value, "first_value", err);
}

static int last_value_add(void *state, const sl_value *value, sl_error *err)
{
    return kept_set(state, value, "last_value", err);
}

/* src's rows came after dst's: dst's first stays unless dst saw none. */
static int first_value_merge(void *dst, const void *src, sl_error *err)
{
    const kept_state *part = src;
    return part->has_value ? first_value_add(dst, &part->held.value, err) : SL_OK;
}

static int last_value_merge(void *dst, const void *src, sl_error *err)
{
    const kept_state *part = src;
    return part->has_value ? last_value_add(dst, &part->held.value, err) : SL_OK;
}

const sl_sql_aggregate sl__agg_first_value = {
    .name = "first_value",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(kept_state),
    .check = first_value_check,
    .init = kept_init,
    .add = first_value_add,
    .merge = first_value_merge,
    .result = kept_result,
    .heap_bytes = kept_heap_bytes,
    .release = kept_release,
};

const sl_sql_aggregate sl__agg_last_value = {
    .name = "last_value",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(kept_state),
    .check = last_value_check,
    .init = kept_init,
    .add = last_value_add,
    .merge = last_value_merge,
    .result = kept_result,
    .heap_bytes = kept_heap_bytes,
    .release = kept_release,
};
