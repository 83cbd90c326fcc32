/* interval.c — interval arithmetic (see sql/interval.h), following
 * PostgreSQL 15's timestamp.c: timestamp_pl_interval, timestamp_mi,
 * interval_pl/mi/um, interval_mul/div, interval_cmp and the justify_
 * functions, with the same order of steps so that results agree to the µs.
 */
#include "sql/interval.h"

#include <math.h>
#include <stdlib.h>

#include "core/interval.h"
#include "core/timefmt.h"

static const char *const INTERVAL_RANGE = "interval out of range";
static const char *const TIMESTAMP_RANGE = "timestamp out of range";

/* PostgreSQL's first timestamp, 4714-11-24 00:00:00 BC, in µs since 1970. */
#define MIN_TIMESTAMP INT64_C(-210866803200000000)

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

bool sl_sql_interval_fixed_micros(const sl_value *v, int64_t *out)
{
    if (v->type != SL_TYPE_INTERVAL || v->interval.months != 0) return false;
    int64_t days_us;
    return !__builtin_mul_overflow((int64_t)v->interval.days, SL_US_PER_DAY, &days_us) &&
           !__builtin_add_overflow(days_us, v->interval.micros, out);
}

const char *sl_sql_timestamp_add_interval(int64_t ts, sl_interval_value interval, bool is_subtract, int64_t *out)
{
    int64_t months = interval.months, days = interval.days, micros = interval.micros;
    if (is_subtract) {
        months = -months;
        days = -days;
        if (micros == INT64_MIN) return INTERVAL_RANGE;
        micros = -micros;
    }
    if (months != 0) {
        int64_t day_number = floor_div(ts, SL_US_PER_DAY), in_day = ts - day_number * SL_US_PER_DAY, year;
        int month, day;
        sl_civil_from_days(day_number, &year, &month, &day);
        int64_t index = year * 12 + (month - 1) + months;
        year = floor_div(index, 12);
        month = (int)(index - year * 12) + 1;
        int last = sl_days_in_month(year, month);
        if (year > 300000 || year < -5000) return TIMESTAMP_RANGE;
        int64_t moved_days = sl_days_from_civil(year, month, day > last ? last : day);
        if (__builtin_mul_overflow(moved_days, SL_US_PER_DAY, &ts) || __builtin_add_overflow(ts, in_day, &ts) ||
            ts < MIN_TIMESTAMP)
            return TIMESTAMP_RANGE;
    }
    if (days != 0) {
        int64_t moved;
        if (__builtin_mul_overflow(days, SL_US_PER_DAY, &moved) || __builtin_add_overflow(ts, moved, &ts))
            return TIMESTAMP_RANGE;
        if (ts < MIN_TIMESTAMP) return TIMESTAMP_RANGE;
    }
    if (__builtin_add_overflow(ts, micros, &ts) || ts < MIN_TIMESTAMP) return TIMESTAMP_RANGE;
    *out = ts;
    return NULL;
}

const char *sl_sql_timestamp_diff(int64_t a, int64_t b, sl_interval_value *out)
{
    int64_t micros;
    if (__builtin_sub_overflow(a, b, &micros)) return INTERVAL_RANGE;
    return sl_sql_interval_justify_hours((sl_interval_value){ 0, 0, micros }, out);
}

const char *sl_sql_interval_add(sl_interval_value a, sl_interval_value b, bool is_subtract, sl_interval_value *out)
{
    sl_interval_value sum;
    bool is_overflow = is_subtract ? __builtin_sub_overflow(a.months, b.months, &sum.months) ||
                                         __builtin_sub_overflow(a.days, b.days, &sum.days) ||
                                         __builtin_sub_overflow(a.micros, b.micros, &sum.micros)
                                   : __builtin_add_overflow(a.months, b.months, &sum.months) ||
                                         __builtin_add_overflow(a.days, b.days, &sum.days) ||
                                         __builtin_add_overflow(a.micros, b.micros, &sum.micros);
    if (is_overflow) return INTERVAL_RANGE;
    *out = sum;
    return NULL;
}

const char *sl_sql_interval_negate(sl_interval_value a, sl_interval_value *out)
{
    if (a.months == INT32_MIN || a.days == INT32_MIN || a.micros == INT64_MIN) return INTERVAL_RANGE;
    *out = (sl_interval_value){ -a.months, -a.days, -a.micros };
    return NULL;
}

/* PostgreSQL's TSROUND: to the nearest µs-th, against float noise. */
static double round_to_micros(double value)
{
    return rint(value * 1000000.0) / 1000000.0;
}

static bool fits_int32(double d)
{
    return d >= (double)INT32_MIN && d < -(double)INT32_MIN;
}

static bool fits_int64(double d)
{
    return d >= (double)INT64_MIN && d < -(double)INT64_MIN;
}

const char *sl_sql_interval_scale(sl_interval_value a, double factor, bool is_divide, sl_interval_value *out)
{
    if (is_divide && factor == 0) return "division by zero";
    double month_product = is_divide ? a.months / factor : a.months * factor;
    double day_product = is_divide ? a.days / factor : a.days * factor;
    if (isnan(month_product) || !fits_int32(month_product) || isnan(day_product) || !fits_int32(day_product))
        return INTERVAL_RANGE;
    int32_t months = (int32_t)month_product, days = (int32_t)day_product;
    /* The fractions cascade down: of months into days (30 each), of days into seconds. */
    double month_remainder_days = round_to_micros((month_product - months) * 30);
    double second_remainder =
        round_to_micros((day_product - days + month_remainder_days - (int)month_remainder_days) * 86400);
    if (fabs(second_remainder) >= 86400) {
        if (__builtin_add_overflow(days, (int)(second_remainder / 86400), &days)) return INTERVAL_RANGE;
        second_remainder -= (int)(second_remainder / 86400) * 86400.0;
    }
    if (__builtin_add_overflow(days, (int32_t)month_remainder_days, &days)) return INTERVAL_RANGE;
    double micros = rint((is_divide ? (double)a.micros / factor : (double)a.micros * factor) +
                         second_remainder * 1e6);
    if (isnan(micros) || !fits_int64(micros)) return INTERVAL_RANGE;
    *out = (sl_interval_value){ months, days, (int64_t)micros };
    return NULL;
}

int sl_sql_interval_compare(sl_interval_value a, sl_interval_value b)
{
    __int128 span_a = ((__int128)a.months * 30 + a.days) * SL_US_PER_DAY + a.micros;
    __int128 span_b = ((__int128)b.months * 30 + b.days) * SL_US_PER_DAY + b.micros;
    return span_a < span_b ? -1 : span_a > span_b ? 1 : 0;
}

const char *sl_sql_interval_justify_hours(sl_interval_value a, sl_interval_value *out)
{
    int64_t whole_days = a.micros / SL_US_PER_DAY;
    int64_t micros = a.micros - whole_days * SL_US_PER_DAY, days = a.days + whole_days;
    if (days < INT32_MIN || days > INT32_MAX) return INTERVAL_RANGE;
    if (days > 0 && micros < 0) {
        micros += SL_US_PER_DAY;
        days--;
    } else if (days < 0 && micros > 0) {
        micros -= SL_US_PER_DAY;
        days++;
    }
    *out = (sl_interval_value){ a.months, (int32_t)days, micros };
    return NULL;
}

const char *sl_sql_interval_justify_days(sl_interval_value a, sl_interval_value *out)
{
    int32_t whole_months = a.days / 30, days = a.days - whole_months * 30, months;
    if (__builtin_add_overflow(a.months, whole_months, &months)) return INTERVAL_RANGE;
    if (months > 0 && days < 0) {
        days += 30;
        months--;
    } else if (months < 0 && days > 0) {
        days -= 30;
        months++;
    }
    *out = (sl_interval_value){ months, days, a.micros };
    return NULL;
}

const char *sl_sql_interval_justify(sl_interval_value a, sl_interval_value *out)
{
    int32_t months = a.months, days = a.days;
    int64_t micros = a.micros;
    if ((days > 0 && micros > 0) || (days < 0 && micros < 0)) {   /* days first, so adding hours cannot overflow */
        int32_t whole = days / 30;
        days -= whole * 30;
        if (__builtin_add_overflow(months, whole, &months)) return INTERVAL_RANGE;
    }
    int64_t whole_days = micros / SL_US_PER_DAY;
    micros -= whole_days * SL_US_PER_DAY;
    if (__builtin_add_overflow(days, whole_days, &days)) return INTERVAL_RANGE;
    int32_t whole_months = days / 30;
    days -= whole_months * 30;
    if (__builtin_add_overflow(months, whole_months, &months)) return INTERVAL_RANGE;
    if (months > 0 && (days < 0 || (days == 0 && micros < 0))) {
        days += 30;
        months--;
    } else if (months < 0 && (days > 0 || (days == 0 && micros > 0))) {
        days -= 30;
        months++;
    }
    if (days > 0 && micros < 0) {
        micros += SL_US_PER_DAY;
        days--;
    } else if (days < 0 && micros > 0) {
        micros -= SL_US_PER_DAY;
        days++;
    }
    *out = (sl_interval_value){ months, days, micros };
    return NULL;
}
