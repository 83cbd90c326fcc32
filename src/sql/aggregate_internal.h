/* aggregate_internal.h — what the files of SQL aggregates share: the error
 * wording, held copies of values, and the table rows aggregate.c lists.
 * aggregate_count.c has count and approx_count_distinct, aggregate_bool.c
 * bool_and, bool_or and count_if, aggregate_sum.c sum and avg,
 * aggregate_order.c min, max, first_value and last_value, aggregate_stats.c
 * the variances, aggregate_percentile.c approx_percentile; aggregate.c
 * the table and the helpers below, aggregate_value.c the held copies. Not for use
 * outside src/sql.
 */
#ifndef SL_SQL_AGGREGATE_INTERNAL_H
#define SL_SQL_AGGREGATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sql/aggregate.h"

/* "name() expects EXPECTED, got TYPE" (SL_ESQL). */
int sl__agg_type_error(sl_error *err, const char *name, const char *expected, const sl_value *got);
/* "out of memory in name()" (SL_ENOMEM). */
int sl__agg_out_of_memory(sl_error *err, const char *name);

/* check for aggregates whose only argument is the row's: no DISTINCT. */
int sl__agg_check_plain(const char *name, bool is_distinct, sl_error *err);

/* A value the state keeps beyond the row's batch: a deep copy in one
 * malloc'ed block the holder owns, reused while the next value fits. */
typedef struct sl__agg_held {
    sl_value value;      /* points into block */
    void *block;
    size_t capacity;     /* bytes of block */
} sl__agg_held;

/* Replaces held's value by a copy of value; on failure (SL_ENOMEM, naming
 * name) held is unchanged. */
int sl__agg_hold(sl__agg_held *held, const sl_value *value, const char *name, sl_error *err);
void sl__agg_held_release(sl__agg_held *held);

/* heap_bytes and release of states that own no heap. */
size_t sl__agg_no_heap(const void *state);
void sl__agg_release_nothing(void *state);

/* A number's value as a double (int or double); false for other types. */
bool sl__agg_number(const sl_value *value, double *out);

extern const sl_sql_aggregate sl__agg_count, sl__agg_approx_count_distinct, sl__agg_count_if,
    sl__agg_bool_and, sl__agg_bool_or, sl__agg_sum, sl__agg_avg, sl__agg_min, sl__agg_max,
    sl__agg_first_value, sl__agg_last_value, sl__agg_stddev, sl__agg_stddev_samp, sl__agg_stddev_pop,
    sl__agg_variance, sl__agg_var_samp, sl__agg_var_pop, sl__agg_approx_percentile;

#endif
