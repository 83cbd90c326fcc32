/* aggregate_sum.c — sum and avg.
 *
 * sum of ints is an int64 that never wraps: a row that would overflow it is
 * that row's error and leaves the sum as it was. Once a double arrives the
 * sum is a double (the int part so far converted), as int + double is in
 * SQL. avg is a double in every case, from a Neumaier-compensated sum so
 * that many small values after a large one are not lost.
 */
#include <math.h>
#include <stdint.h>

#include "sql/aggregate_internal.h"

typedef struct sum_state {
    bool has_value;
    bool is_double;
    int64_t integer;
    double number;
} sum_state;

static int sum_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("sum", is_distinct, err);
}

static void sum_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(sum_state *)state = (sum_state){ 0 };
}

/* Adds part (an int or a double sum) to sum; sum is unchanged on overflow. */
static int sum_fold(sum_state *sum, const sum_state *part, sl_error *err)
{
    if (!part->has_value) return SL_OK;
    if (!sum->has_value) {
        *sum = *part;
        return SL_OK;
    }
    if (!sum->is_double && !part->is_double) {
        int64_t total;
        if (__builtin_add_overflow(sum->integer, part->integer, &total))
            return sl_error_set(err, SL_ESQL, "sum() overflows int64: %lld + %lld", (long long)sum->integer,
                                (long long)part->integer);
        sum->integer = total;
        return SL_OK;
    }
    double left = sum->is_double ? sum->number : (double)sum->integer;
    double right = part->is_double ? part->number : (double)part->integer;
    sum->is_double = true;
    sum->number = left + right;
    return SL_OK;
}

static int sum_add(void *state, const sl_value *value, sl_error *err)
{
    sum_state row = { .has_value = true };
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type == SL_TYPE_INT) {
        row.integer = value->integer;
    } else if (value->type == SL_TYPE_DOUBLE) {
        row.is_double = true;
        row.number = value->number;
    } else {
        return sl__agg_type_error(err, "sum", "a number", value);
    }
    return sum_fold(state, &row, err);
}

static int sum_merge(void *dst, const void *src, sl_error *err)
{
    return sum_fold(dst, src, err);
}

static int sum_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const sum_state *sum = state;
    (void)arena;
    (void)err;
    if (!sum->has_value) *out = sl_value_null();
    else if (sum->is_double) *out = sl_value_double(sum->number);
    else *out = sl_value_int(sum->integer);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_sum = {
    .name = "sum",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(sum_state),
    .check = sum_check,
    .init = sum_init,
    .add = sum_add,
    .merge = sum_merge,
    .result = sum_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

/* ---- avg ---- */

typedef struct avg_state {
    int64_t n;
    double sum;
    double compensation;   /* the low-order bits sum lost (Neumaier) */
} avg_state;

static int avg_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("avg", is_distinct, err);
}

static void avg_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(avg_state *)state = (avg_state){ 0 };
}

static void avg_fold(avg_state *avg, double x)
{
    double total = avg->sum + x;
    if (fabs(avg->sum) >= fabs(x)) avg->compensation += (avg->sum - total) + x;
    else avg->compensation += (x - total) + avg->sum;
    avg->sum = total;
}

static int avg_add(void *state, const sl_value *value, sl_error *err)
{
    avg_state *avg = state;
    double x;
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (!sl__agg_number(value, &x)) return sl__agg_type_error(err, "avg", "a number", value);
    avg_fold(avg, x);
    avg->n++;
    return SL_OK;
}

static int avg_merge(void *dst, const void *src, sl_error *err)
{
    avg_state *avg = dst;
    const avg_state *part = src;
    (void)err;
    avg_fold(avg, part->sum);
    avg->compensation += part->compensation;
    avg->n += part->n;
    return SL_OK;
}

static int avg_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const avg_state *avg = state;
    (void)arena;
    (void)err;
    *out = avg->n ? sl_value_double((avg->sum + avg->compensation) / (double)avg->n) : sl_value_null();
    return SL_OK;
}

const sl_sql_aggregate sl__agg_avg = {
    .name = "avg",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(avg_state),
    .check = avg_check,
    .init = avg_init,
    .add = avg_add,
    .merge = avg_merge,
    .result = avg_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};
