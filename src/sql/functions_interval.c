/* functions_interval.c — the SQL functions of intervals (see
 * functions_internal.h): date_part and EXTRACT of an interval's fields,
 * justify_hours, justify_days, justify_interval, make_interval, and
 * date_add(ts, interval). The arithmetic itself is sql/interval.c's.
 *
 * Fields are PostgreSQL 15's interval_part: an interval is split as
 * years = months / 12, months % 12, days, and the µs into hours (not capped
 * at 24), minutes, seconds, each keeping its sign; epoch counts a year as
 * 365.25 days and a month as 30.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/interval.h"
#include "sql/functions_internal.h"
#include "sql/interval.h"

static bool is_field(sl_str field, const char *name)
{
    size_t len = strlen(name);
    return (field.len == len && strncasecmp(field.ptr, name, len) == 0) ||
           (field.len == len + 1 && strncasecmp(field.ptr, name, len) == 0 &&
            (field.ptr[len] == 's' || field.ptr[len] == 'S'));
}

int sl__sql_interval_part(sl_sql_call *call, sl_str field, sl_interval_value interval, sl_value *out)
{
    int64_t years = interval.months / 12, months = interval.months % 12;
    int64_t hours = interval.micros / SL_US_PER_HOUR, rest = interval.micros % SL_US_PER_HOUR;
    int64_t minutes = rest / SL_US_PER_MINUTE, second_us = rest % SL_US_PER_MINUTE;
    if (is_field(field, "epoch")) {
        int64_t day_seconds = (1461 * years + 120 * months + 4 * (int64_t)interval.days) * 21600;
        *out = sl_value_double((double)day_seconds + (double)interval.micros / 1e6);
    } else if (is_field(field, "microsecond")) {
        *out = sl_value_int(second_us);
    } else if (is_field(field, "millisecond")) {
        *out = sl_value_double((double)second_us / 1e3);
    } else if (is_field(field, "second")) {
        *out = sl_value_double((double)second_us / 1e6);
    } else if (is_field(field, "minute")) {
        *out = sl_value_int(minutes);
    } else if (is_field(field, "hour")) {
        *out = sl_value_int(hours);
    } else if (is_field(field, "day")) {
        *out = sl_value_int(interval.days);
    } else if (is_field(field, "month")) {
        *out = sl_value_int(months);
    } else if (is_field(field, "quarter")) {
        *out = sl_value_int(months / 3 + 1);
    } else if (is_field(field, "year")) {
        *out = sl_value_int(years);
    } else if (is_field(field, "decade")) {
        *out = sl_value_int(years / 10);
    } else if (is_field(field, "century") || (field.len == 9 && strncasecmp(field.ptr, "centuries", 9) == 0)) {
        *out = sl_value_int(years / 100);
    } else if (is_field(field, "millennium") || (field.len == 9 && strncasecmp(field.ptr, "millennia", 9) == 0)) {
        *out = sl_value_int(years / 1000);
    } else {
        return sl_error_set(call->err, SL_ESQL, "date_part(): field '%.40s' of an interval is not one of epoch, "
                            "year, quarter, month, day, hour, minute, second, milliseconds, microseconds, decade, "
                            "century, millennium", field.ptr);
    }
    return SL_OK;
}

static int interval_result(sl_sql_call *call, const char *name, const char *problem, sl_interval_value interval,
                           sl_value *out)
{
    if (problem) return sl_error_set(call->err, SL_ESQL, "%s(): %s", name, problem);
    *out = sl_value_interval(interval.months, interval.days, interval.micros);
    return SL_OK;
}

static int justify(sl_sql_call *call, const char *name, const sl_value *arg,
                   const char *(*how)(sl_interval_value, sl_interval_value *), sl_value *out)
{
    if (arg->type != SL_TYPE_INTERVAL) return sl__sql_type_error(call, name, "an interval", arg);
    sl_interval_value result = { 0, 0, 0 };
    const char *problem = how(arg->interval, &result);
    return interval_result(call, name, problem, result, out);
}

int sl__sql_fn_justify_hours(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return justify(call, "justify_hours", &args[0], sl_sql_interval_justify_hours, out);
}

int sl__sql_fn_justify_days(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return justify(call, "justify_days", &args[0], sl_sql_interval_justify_days, out);
}

int sl__sql_fn_justify_interval(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return justify(call, "justify_interval", &args[0], sl_sql_interval_justify, out);
}

/* make_interval(years, months, weeks, days, hours, mins, secs): each
 * argument optional from the right (0), the last a double or an int. */
int sl__sql_fn_make_interval(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    static const char *const names[] = { "years", "months", "weeks", "days", "hours", "mins", "secs" };
    int64_t whole[6] = { 0 };
    double seconds = 0;
    for (size_t i = 0; i < n_args; i++) {
        bool is_seconds = i == 6;
        if (args[i].type != SL_TYPE_INT && !(is_seconds && args[i].type == SL_TYPE_DOUBLE)) {
            char expected[40];
            snprintf(expected, sizeof expected, is_seconds ? "a number of %s" : "an int of %s", names[i]);
            return sl__sql_type_error(call, "make_interval", expected, &args[i]);
        }
        if (is_seconds) {
            seconds = args[i].type == SL_TYPE_INT ? (double)args[i].integer : args[i].number;
        } else if (args[i].integer < INT32_MIN || args[i].integer > INT32_MAX) {
            return sl_error_set(call->err, SL_ESQL, "make_interval(): interval out of range");
        } else {
            whole[i] = args[i].integer;
        }
    }
    double second_us = rint(seconds * 1e6);
    int64_t months = whole[0] * 12 + whole[1], days = whole[2] * 7 + whole[3], micros = 0;
    bool is_overflow = !isfinite(second_us) || !(second_us >= -9223372036854775808.0 && second_us < 9223372036854775808.0) ||
                       months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX ||
                       __builtin_mul_overflow(whole[4], SL_US_PER_HOUR, &micros) ||
                       __builtin_add_overflow(micros, whole[5] * SL_US_PER_MINUTE, &micros) ||
                       __builtin_add_overflow(micros, (int64_t)second_us, &micros);
    if (is_overflow) return sl_error_set(call->err, SL_ESQL, "make_interval(): interval out of range");
    *out = sl_value_interval((int32_t)months, (int32_t)days, micros);
    return SL_OK;
}

/* date_add(ts, interval): ts + interval (PostgreSQL 16's date_add, in UTC). */
int sl__sql_date_add_interval(sl_sql_call *call, int64_t ts, const sl_value *interval, sl_value *out)
{
    if (interval->type != SL_TYPE_INTERVAL) return sl__sql_type_error(call, "date_add", "an interval", interval);
    int64_t moved;
    const char *problem = sl_sql_timestamp_add_interval(ts, interval->interval, false, &moved);
    if (problem) return sl_error_set(call->err, SL_ESQL, "date_add(): %s", problem);
    *out = sl_value_timestamp(moved);
    return SL_OK;
}
