/* aggregate_count.c — count(*), count(x), count(DISTINCT x) and
 * approx_count_distinct(x).
 *
 * count(*) counts rows, count(x) the rows where x is not NULL; both are 0
 * over no rows. count(DISTINCT x) counts distinct non-NULL values exactly up
 * to SL_SQL_DISTINCT_EXACT_MAX of them, then estimates (aggregate_distinct.h).
 * approx_count_distinct always estimates with the HyperLogLog sketch, whose
 * 16 KiB are allocated on the first non-NULL row.
 */
#include <stdint.h>

#include "sql/aggregate_distinct.h"
#include "sql/aggregate_hll.h"
#include "sql/aggregate_internal.h"

typedef struct count_state {
    bool is_star;        /* count(*): every row counts */
    bool is_distinct;
    int64_t n;
    sl__distinct distinct;
} count_state;

static int count_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    if (n_args == 0 && is_distinct) return sl_error_set(err, SL_ESQL, "count(DISTINCT *) is not valid: name a value");
    return SL_OK;
}

static void count_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    *(count_state *)state = (count_state){ .is_star = n_args == 0, .is_distinct = is_distinct };
}

static int count_add(void *state, const sl_value *value, sl_error *err)
{
    count_state *count = state;
    if (count->is_star) {
        count->n++;
        return SL_OK;
    }
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (count->is_distinct) {
        if (sl__distinct_add(&count->distinct, sl__distinct_hash(value))) return sl__agg_out_of_memory(err, "count");
        return SL_OK;
    }
    count->n++;
    return SL_OK;
}

static int count_merge(void *dst, const void *src, sl_error *err)
{
    count_state *count = dst;
    const count_state *part = src;
    if (count->is_distinct) {
        if (sl__distinct_merge(&count->distinct, &part->distinct)) return sl__agg_out_of_memory(err, "count");
        return SL_OK;
    }
    count->n += part->n;
    return SL_OK;
}

static int count_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    const count_state *count = state;
    (void)arena;
    (void)err;
    *out = sl_value_int(count->is_distinct ? sl__distinct_count(&count->distinct) : count->n);
    return SL_OK;
}

static size_t count_heap_bytes(const void *state)
{
    return sl__distinct_heap_bytes(&((const count_state *)state)->distinct);
}

static void count_release(void *state)
{
    sl__distinct_release(&((count_state *)state)->distinct);
}

const sl_sql_aggregate sl__agg_count = {
    .name = "count",
    .min_args = 0,
    .max_args = 1,
    .allows_distinct = true,
    .state_size = sizeof(count_state),
    .check = count_check,
    .init = count_init,
    .add = count_add,
    .merge = count_merge,
    .result = count_result,
    .heap_bytes = count_heap_bytes,
    .release = count_release,
};

/* ---- approx_count_distinct ---- */

typedef struct approx_state {
    sl__hll hll;
} approx_state;

static int approx_check(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err)
{
    (void)constant_args;
    (void)n_args;
    return sl__agg_check_plain("approx_count_distinct", is_distinct, err);
}

static void approx_init(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct)
{
    (void)constant_args;
    (void)n_args;
    (void)is_distinct;
    *(approx_state *)state = (approx_state){ 0 };
}

static int approx_add(void *state, const sl_value *value, sl_error *err)
{
    approx_state *approx = state;
    if (value->type == SL_TYPE_NULL) return SL_OK;
    if (sl__hll_add(&approx->hll, sl__distinct_hash(value)))
        return sl__agg_out_of_memory(err, "approx_count_distinct");
    return SL_OK;
}

static int approx_merge(void *dst, const void *src, sl_error *err)
{
    if (sl__hll_merge(&((approx_state *)dst)->hll, &((const approx_state *)src)->hll))
        return sl__agg_out_of_memory(err, "approx_count_distinct");
    return SL_OK;
}

static int approx_result(const void *state, sl_arena *arena, sl_value *out, sl_error *err)
{
    (void)arena;
    (void)err;
    *out = sl_value_int(sl__hll_estimate(&((const approx_state *)state)->hll));
    return SL_OK;
}

static size_t approx_heap_bytes(const void *state)
{
    return sl__hll_heap_bytes(&((const approx_state *)state)->hll);
}

static void approx_release(void *state)
{
    sl__hll_release(&((approx_state *)state)->hll);
}

const sl_sql_aggregate sl__agg_approx_count_distinct = {
    .name = "approx_count_distinct",
    .min_args = 1,
    .max_args = 1,
    .state_size = sizeof(approx_state),
    .check = approx_check,
    .init = approx_init,
    .add = approx_add,
    .merge = approx_merge,
    .result = approx_result,
    .heap_bytes = approx_heap_bytes,
    .release = approx_release,
};
