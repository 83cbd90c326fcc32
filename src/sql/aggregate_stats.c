/* aggregate_stats.c — variance and standard deviation: var_samp, var_pop,
 * stddev_samp, stddev_pop, and PostgreSQL's other names for them (variance
 * is var_samp, stddev is stddev_samp).
 *
 * The state is Welford's running count, mean and sum of squared deviations
 * (M2), which, unlike the sum of squares, loses no precision when the mean
 * is large beside the spread. Two states merge with Chan, Golub and
 * LeVeque's pairwise formula, which is the same algebra as adding one
 * state's rows to the other. Sample statistics are NULL below two rows,
 * population ones below one, as in PostgreSQL.
 */
#include <math.h>
#include <stdint.h>

#include "sql/aggregate_internal.h"

typedef struct moments {
    int64_t n;
    double mean;
    double m2;     /* sum of (x - mean)^2 */
} moments;

static void moments_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(moments *)state = (moments){ 0 };
}

static int moments_add(moments *m, const sl_value *value, const char *name, sl_error *err)
{
    double x;
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (!sl__agg_number(value, &x)) return sl__agg_type_error(err, name, "a number", value);
    m->n++;
    double delta = x - m->mean;
    m->mean += delta / (double)m->n;
    m->m2 += delta * (x - m->mean);
    return SL_OK;
}

static int moments_merge(void *dst, const void *src, sl_error *err)
{
    moments *a = dst;
    const moments *b = src;
    (void)err;
    if (b->n == 0) return SL_OK;
    if (a->n == 0) {
        *a = *b;
        return SL_OK;
    }
    double n = (double)(a->n + b->n);
    double delta = b->mean - a->mean;
    a->mean += delta * ((double)b->n / n);
    a->m2 += b->m2 + delta * delta * ((double)a->n * (double)b->n / n);
    a->n += b->n;
    return SL_OK;
}

/* M2 / (n - ddof) (the sample variance for ddof 1, the population's for 0),
 * its square root when is_root; NULL when n <= ddof. */
static sl_value moments_value(const moments *m, int ddof, bool is_root)
{
    if (m->n <= ddof) return sl_value_null();
    double variance = m->m2 / (double)(m->n - ddof);
    if (variance < 0) variance = 0;   /* rounding of m2 near zero */
    return sl_value_double(is_root ? sqrt(variance) : variance);
}

/* Each name below is three one-line functions (its check, add and result
 * know the name, the divisor and whether to take the root) and a row. */

static int stddev_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("stddev", is_distinct, err);
}

static int stddev_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "stddev", err);
}

static int stddev_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 1, true);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_stddev = {
    .name = "stddev",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = stddev_check,
    .init = moments_init,
    .add = stddev_add,
    .merge = moments_merge,
    .result = stddev_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

static int stddev_samp_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("stddev_samp", is_distinct, err);
}

static int stddev_samp_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "stddev_samp", err);
}

static int stddev_samp_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 1, true);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_stddev_samp = {
    .name = "stddev_samp",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = stddev_samp_check,
    .init = moments_init,
    .add = stddev_samp_add,
    .merge = moments_merge,
    .result = stddev_samp_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

static int stddev_pop_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("stddev_pop", is_distinct, err);
}

static int stddev_pop_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "stddev_pop", err);
}

static int stddev_pop_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 0, true);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_stddev_pop = {
    .name = "stddev_pop",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = stddev_pop_check,
    .init = moments_init,
    .add = stddev_pop_add,
    .merge = moments_merge,
    .result = stddev_pop_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

static int variance_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("variance", is_distinct, err);
}

static int variance_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "variance", err);
}

static int variance_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 1, false);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_variance = {
    .name = "variance",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = variance_check,
    .init = moments_init,
    .add = variance_add,
    .merge = moments_merge,
    .result = variance_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

static int var_samp_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("var_samp", is_distinct, err);
}

static int var_samp_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "var_samp", err);
}

static int var_samp_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 1, false);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_var_samp = {
    .name = "var_samp",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = var_samp_check,
    .init = moments_init,
    .add = var_samp_add,
    .merge = moments_merge,
    .result = var_samp_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};

static int var_pop_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("var_pop", is_distinct, err);
}

static int var_pop_add(void *state, const sl_value *value, sl_error *err)
{
    return moments_add(state, value, "var_pop", err);
}

static int var_pop_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = moments_value(state, 0, false);
    return SL_OK;
}

const sl_sql_aggregate sl__agg_var_pop = {
    .name = "var_pop",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(moments),
    .check = var_pop_check,
    .init = moments_init,
    .add = var_pop_add,
    .merge = moments_merge,
    .result = var_pop_result,
    .heap_bytes = sl__agg_no_heap,
    .release = sl__agg_release_nothing,
};
