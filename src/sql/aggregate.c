/* aggregate.c — the table of SQL aggregates and the helpers their files
 * share (error wording, numbers). Adding an aggregate is adding its const
 * row in its file and naming it here.
 */
#include "sql/aggregate.h"

#include <strings.h>

#include "sql/aggregate_internal.h"

static const sl_sql_aggregate *const aggregates[] = {
    &sl__agg_count,      &sl__agg_approx_count_distinct, &sl__agg_count_if,
    &sl__agg_sum,        &sl__agg_avg,                   &sl__agg_min,
    &sl__agg_max,        &sl__agg_first_value,           &sl__agg_last_value,
    &sl__agg_bool_and,   &sl__agg_bool_or,               &sl__agg_stddev,
    &sl__agg_stddev_samp, &sl__agg_stddev_pop,           &sl__agg_variance,
    &sl__agg_var_samp,   &sl__agg_var_pop,               &sl__agg_approx_percentile,
};

#define N_AGGREGATES (sizeof aggregates / sizeof aggregates[0])

const sl_sql_aggregate *sl_sql_aggregate_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < N_AGGREGATES; i++)
        if (strcasecmp(aggregates[i]->name, name) == 0) return aggregates[i];
    return NULL;
}

size_t sl_sql_aggregate_count(void)
{
    return N_AGGREGATES;
}

const sl_sql_aggregate *sl_sql_aggregate_at(size_t index)
{
    return index < N_AGGREGATES ? aggregates[index] : NULL;
}

int sl__agg_type_error(sl_error *err, const char *name, const char *expected, const sl_value *got)
{
    return sl_error_set(err, SL_ESQL, "%s() expects %s, got %s", name, expected, sl_type_name(got->type));
}

int sl__agg_out_of_memory(sl_error *err, const char *name)
{
    return sl_error_set(err, SL_ENOMEM, "out of memory in %s()", name);
}

int sl__agg_check_plain(const char *name, bool is_distinct, sl_error *err)
{
    if (is_distinct) return sl_error_set(err, SL_ESQL, "%s() does not take DISTINCT", name);
    return SL_OK;
}

bool sl__agg_number(const sl_value *value, double *out)
{
    if (value->type == SL_TYPE_INT) *out = (double)value->integer;
    else if (value->type == SL_TYPE_DOUBLE) *out = value->number;
    else return false;
    return true;
}

size_t sl__agg_no_heap(const void *state)
{
    (void)state;
    return 0;
}

void sl__agg_release_nothing(void *state)
{
    (void)state;
}
