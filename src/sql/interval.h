/* sql/interval.h — interval arithmetic of the SQL engine, as PostgreSQL 15.
 *
 * An interval (core/value.h) has three independent fields: months, days,
 * µs. Moving a timestamp applies them in that order on the UTC calendar
 * (months keep the day of the month, cut to the month's last; then days;
 * then µs). Intervals order as PostgreSQL orders them: a month counts as 30
 * days and a day as 24 hours, so '1 mon' = '30 days'. Multiplying or
 * dividing by a number lets fractions of months spill into days and of days
 * into µs, never upward. A result that does not fit fails, never wraps.
 *
 * The functions that can fail return NULL, or the reason ("interval out of
 * range", "timestamp out of range", "division by zero") for the caller to
 * report at its position.
 */
#ifndef SL_SQL_INTERVAL_H
#define SL_SQL_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/value.h"

/* The length of a constant interval in µs, for window sizes: false for an
 * interval with months (no fixed length), one that is not an interval, or
 * one whose length does not fit in 64 bits. Days count as 24 hours. */
bool sl_sql_interval_fixed_micros(const sl_value *v, int64_t *out);

/* ts + interval (ts - interval with is_subtract). */
const char *sl_sql_timestamp_add_interval(int64_t ts, sl_interval_value interval, bool is_subtract, int64_t *out);

/* a - b as PostgreSQL gives it: days and time ('1 day 02:00:00'), never months. */
const char *sl_sql_timestamp_diff(int64_t a, int64_t b, sl_interval_value *out);

/* a + b, or a - b with is_subtract, field by field. */
const char *sl_sql_interval_add(sl_interval_value a, sl_interval_value b, bool is_subtract, sl_interval_value *out);

const char *sl_sql_interval_negate(sl_interval_value a, sl_interval_value *out);

/* a * factor, or a / factor with is_divide (division by zero fails). */
const char *sl_sql_interval_scale(sl_interval_value a, double factor, bool is_divide, sl_interval_value *out);

/* <0, 0, >0 as PostgreSQL's interval_cmp (months as 30 days, days as 24 h). */
int sl_sql_interval_compare(sl_interval_value a, sl_interval_value b);

/* justify_hours: whole 24 hours into days; justify_days: whole 30 days
 * into months; justify_interval: both, with the signs made to agree. */
const char *sl_sql_interval_justify_hours(sl_interval_value a, sl_interval_value *out);
const char *sl_sql_interval_justify_days(sl_interval_value a, sl_interval_value *out);
const char *sl_sql_interval_justify(sl_interval_value a, sl_interval_value *out);

#endif
