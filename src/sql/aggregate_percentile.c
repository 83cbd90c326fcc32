/* aggregate_percentile.c — approx_percentile(x, fraction): the value at
 * that fraction of the non-NULL numbers, as percentile_disc picks it
 * (fraction 0 is the least, 1 the greatest), from a KLL sketch
 * (aggregate_kll.h): exact up to SL_SQL_PERCENTILE_K rows, then within the
 * rank error docs/sql.md states. The result is a double; ints are read as
 * doubles. fraction is a constant in [0, 1], checked before any row.
 */

#include <stdlib.h>

#include "sql/aggregate_internal.h"
#include "sql/aggregate_kll.h"

typedef struct percentile_state {
    double fraction;
    sl__kll kll;
} percentile_state;

static int percentile_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    double fraction;
    if (is_distinct) return sl_error_set(err, SL_ESQL, "approx_percentile() does not take DISTINCT");
    if (n_args != 2) return sl_error_set(err, SL_ESQL, "approx_percentile() expects 2 arguments, got %zu", n_args);
    if (!sl__agg_number(&constant_args[0], &fraction))
        return sl__agg_type_error(err, "approx_percentile", "a number as its fraction", &constant_args[0]);
    if (!(fraction >= 0.0 && fraction <= 1.0))
        return sl_error_set(err, SL_ESQL, "approx_percentile() fraction must be between 0 and 1, got %g", fraction);
    return SL_OK;
}

static void percentile_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    percentile_state *percentile = state;
    (void)n_args;
    (void)is_distinct;
    sl__kll_init(&percentile->kll);
    if (!sl__agg_number(&constant_args[0], &percentile->fraction)) abort();   /* check accepts numbers only */
}

static int percentile_add(void *state, const sl_value *value, sl_error *err)
{
    percentile_state *percentile = state;
    double x;
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (!sl__agg_number(value, &x)) return sl__agg_type_error(err, "approx_percentile", "a number", value);
    if (sl__kll_add(&percentile->kll, x)) return sl__agg_out_of_memory(err, "approx_percentile");
    return SL_OK;
}

static int percentile_merge(void *dst, const void *src, sl_error *err)
{
    if (sl__kll_merge(&((percentile_state *)dst)->kll, &((const percentile_state *)src)->kll))
        return sl__agg_out_of_memory(err, "approx_percentile");
    return SL_OK;
}

static int percentile_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const percentile_state *percentile = state;
    double x;
    if (percentile->kll.n == 0) {
        *out = sl_value_null();
        return SL_OK;
    }
    if (sl__kll_quantile(&percentile->kll, percentile->fraction, arena, &x))
        return sl__agg_out_of_memory(err, "approx_percentile");
    *out = sl_value_double(x);
    return SL_OK;
}

static size_t percentile_heap_bytes(const void *state)
{
    return sl__kll_heap_bytes(&((const percentile_state *)state)->kll);
}

static void percentile_release(void *state)
{
    sl__kll_release(&((percentile_state *)state)->kll);
}

const sl_sql_aggregate sl__agg_approx_percentile = {
    .name = "approx_percentile",
    .min_args = 2,
    .max_args = 2,
    .state_size = sizeof(percentile_state),
    .check = percentile_check,
    .init = percentile_init,
    .add = percentile_add,
    .merge = percentile_merge,
    .result = percentile_result,
    .heap_bytes = percentile_heap_bytes,
    .release = percentile_release,
};
