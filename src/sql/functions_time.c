/* functions_time.c — the SQL date and time functions (see
 * functions_internal.h): date_trunc, date_part (and EXTRACT(field FROM x),
 * which the parser turns into it), to_timestamp of epoch seconds or of text
 * in a format, to_unixtime and from_unixtime.
 *
 * Timestamps are µs since the epoch, UTC. A string where a timestamp is
 * wanted is read as ISO 8601 (with an offset, or UTC without one).
 * date_trunc and date_part work in UTC, or in the IANA zone given as
 * date_trunc's third argument (a day in Europe/Paris starts at its local
 * midnight, across DST as the zone's rules say). Fields and units are
 * PostgreSQL's names; weeks start on Monday (ISO 8601), as there.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "sql/functions_internal.h"

#define US_PER_SECOND 1000000LL
#define US_PER_DAY (86400LL * US_PER_SECOND)

/* v as µs: a timestamp, or ISO 8601 text. */
static int timestamp_of(sl_sql_call *call, const char *name, const sl_value *v, int64_t *us)
{
    if (v->type == SL_TYPE_TIMESTAMP) {
        *us = v->timestamp;
        return SL_OK;
    }
    if (v->type == SL_TYPE_STRING && sl_time_parse_iso(v->string.ptr, v->string.len, us) == SL_OK) return SL_OK;
    if (v->type == SL_TYPE_STRING)
        return sl_error_set(call->err, SL_ESQL, "%s(): '%.60s' is not an ISO 8601 timestamp", name, v->string.ptr);
    return sl__sql_type_error(call, name, "a timestamp", v);
}

/* A day count's civil date. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Zones loaded by this thread, kept for its later records (a statement
 * names the same zone each time); freed with the thread. */
#define ZONE_CACHE 8

typedef struct zone_cache {
    sl_tz *zones[ZONE_CACHE];
    size_t next;
} zone_cache;

static pthread_key_t zone_key;
static pthread_once_t zone_once = PTHREAD_ONCE_INIT;

static void free_zones(void *value)
{
    zone_cache *cache = value;
    for (size_t i = 0; cache && i < ZONE_CACHE; i++) sl_tz_free(cache->zones[i]);
    free(cache);
}

static void make_zone_key(void)
{
    pthread_key_create(&zone_key, free_zones);
}

/* The zone of an optional argument (NULL: UTC), owned by the thread's cache. */
static int zone_of(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args, size_t at, sl_tz **tz)
{
    *tz = NULL;
    if (n_args <= at) return SL_OK;
    if (args[at].type != SL_TYPE_STRING) return sl__sql_type_error(call, name, "a time zone name", &args[at]);
    char zone[128];
    if (args[at].string.len >= sizeof zone) return sl_error_set(call->err, SL_ESQL, "%s(): time zone name too long", name);
    memcpy(zone, args[at].string.ptr, args[at].string.len);
    zone[args[at].string.len] = '\0';
    pthread_once(&zone_once, make_zone_key);
    zone_cache *cache = pthread_getspecific(zone_key);
    if (!cache) {
        cache = calloc(1, sizeof *cache);
        if (!cache || pthread_setspecific(zone_key, cache) != 0) {
            free(cache);
            return sl__sql_out_of_memory(call, name);
        }
    }
    for (size_t i = 0; i < ZONE_CACHE; i++) {
        if (cache->zones[i] && strcmp(sl_tz_name(cache->zones[i]), zone) == 0) {
            *tz = cache->zones[i];
            return SL_OK;
        }
    }
    sl_error problem = { 0 };
    sl_tz *loaded = NULL;
    if (sl_tz_load(zone, &loaded, &problem) != SL_OK)
        return sl_error_set(call->err, SL_ESQL, "%s(): %s", name, problem.message);
    sl_tz_free(cache->zones[cache->next]);
    cache->zones[cache->next] = loaded;
    cache->next = (cache->next + 1) % ZONE_CACHE;
    *tz = loaded;
    return SL_OK;
}

static const char *const units[] = { "microseconds", "milliseconds", "second", "minute", "hour", "day", "week",
                                     "month", "quarter", "year", "decade", "century", "millennium", NULL };

/* The unit's index in units; "seconds", "days"... and upper case accepted. */
static int unit_index(sl_str text)
{
    for (int i = 0; units[i]; i++) {
        size_t len = strlen(units[i]);
        bool is_plural = units[i][len - 1] == 's';
        if ((text.len == len && strncasecmp(text.ptr, units[i], len) == 0) ||
            (!is_plural && text.len == len + 1 && strncasecmp(text.ptr, units[i], len) == 0 &&
             (text.ptr[len] == 's' || text.ptr[len] == 'S')) ||
            (is_plural && text.len == len - 1 && strncasecmp(text.ptr, units[i], len - 1) == 0))
            return i;
    }
    return -1;
}

int sl__sql_fn_date_trunc(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "date_trunc", "a unit name", &args[0]);
    int unit = unit_index(args[0].string);
    if (unit < 0)
        return sl_error_set(call->err, SL_ESQL, "date_trunc(): unit '%.40s' is not one of microseconds, "
                            "milliseconds, second, minute, hour, day, week, month, quarter, year, decade, century, "
                            "millennium", args[0].string.ptr);
    int64_t us;
    sl_tz *tz = NULL;
    int rc = timestamp_of(call, "date_trunc", &args[1], &us);
    if (rc == SL_OK) rc = zone_of(call, "date_trunc", args, n_args, 2, &tz);
    if (rc) return rc;
    int64_t offset_us = tz ? (int64_t)sl_tz_offset(tz, floor_div(us, US_PER_SECOND)) * US_PER_SECOND : 0;
    int64_t local = us + offset_us, cut = local;
    static const int64_t unit_us[] = { 1, 1000, US_PER_SECOND, 60 * US_PER_SECOND, 3600 * US_PER_SECOND,
                                       US_PER_DAY };
    if (unit <= 5) {
        cut = floor_div(local, unit_us[unit]) * unit_us[unit];
    } else {
        int64_t days = floor_div(local, US_PER_DAY), year;
        int month, day;
        civil_from_days(days, &year, &month, &day);
        if (unit == 6) {
            int weekday = sl_weekday_from_days(days);   /* 0 = Sunday */
            days -= (weekday + 6) % 7;
        } else {
            if (unit >= 8) month = ((month - 1) / 3) * 3 + 1;   /* quarter */
            if (unit >= 9) month = 1;
            if (unit == 10) year = floor_div(year, 10) * 10;
            if (unit == 11) year = floor_div(year - 1, 100) * 100 + 1;
            if (unit == 12) year = floor_div(year - 1, 1000) * 1000 + 1;
            days = sl_days_from_civil(year, month, 1);
        }
        cut = days * US_PER_DAY;
    }
    /* Back to UTC: the instant the zone's clock shows the truncated local
     * time (the first, in a repeated hour; in a skipped one, what the
     * offset before it gives). */
    int64_t result = cut;
    if (tz) {
        int64_t utc[2], local_seconds = floor_div(cut, US_PER_SECOND);
        size_t n = sl_tz_from_local(tz, local_seconds, utc);
        int64_t rest = cut - local_seconds * US_PER_SECOND;
        result = n ? utc[0] * US_PER_SECOND + rest : cut - offset_us;
    }
    *out = sl_value_timestamp(result);
    return SL_OK;
}

static bool is_field(sl_str field, const char *name)
{
    return field.len == strlen(name) && strncasecmp(field.ptr, name, field.len) == 0;
}

int sl__sql_fn_date_part(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "date_part", "a field name", &args[0]);
    if (args[1].type == SL_TYPE_INTERVAL) return sl__sql_interval_part(call, args[0].string, args[1].interval, out);
    int64_t us;
    int rc = timestamp_of(call, "date_part", &args[1], &us);
    if (rc) return rc;
    sl_str field = args[0].string;
    int64_t days = floor_div(us, US_PER_DAY), in_day = us - days * US_PER_DAY, year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    int weekday = sl_weekday_from_days(days);
    if (is_field(field, "epoch")) *out = sl_value_double((double)us / 1e6);
    else if (is_field(field, "year") || is_field(field, "years")) *out = sl_value_int(year);
    else if (is_field(field, "quarter")) *out = sl_value_int((month - 1) / 3 + 1);
    else if (is_field(field, "month") || is_field(field, "months")) *out = sl_value_int(month);
    else if (is_field(field, "day") || is_field(field, "days")) *out = sl_value_int(day);
    else if (is_field(field, "hour") || is_field(field, "hours")) *out = sl_value_int(in_day / (3600 * US_PER_SECOND));
    else if (is_field(field, "minute") || is_field(field, "minutes")) *out = sl_value_int(in_day / (60 * US_PER_SECOND) % 60);
    else if (is_field(field, "second") || is_field(field, "seconds")) *out = sl_value_double((double)(in_day % (60 * US_PER_SECOND)) / 1e6);
    else if (is_field(field, "milliseconds")) *out = sl_value_double((double)(in_day % (60 * US_PER_SECOND)) / 1e3);
    else if (is_field(field, "microseconds")) *out = sl_value_int(in_day % (60 * US_PER_SECOND));
    else if (is_field(field, "dow")) *out = sl_value_int(weekday);
    else if (is_field(field, "isodow")) *out = sl_value_int(weekday == 0 ? 7 : weekday);
    else if (is_field(field, "doy")) *out = sl_value_int(days - sl_days_from_civil(year, 1, 1) + 1);
    else if (is_field(field, "week")) {
        /* ISO 8601: the week with the year's first Thursday is week 1. */
        int64_t thursday = days - (weekday + 6) % 7 + 3, iso_year;
        int iso_month, iso_day;
        civil_from_days(thursday, &iso_year, &iso_month, &iso_day);
        *out = sl_value_int((thursday - sl_days_from_civil(iso_year, 1, 1)) / 7 + 1);
    } else {
        return sl_error_set(call->err, SL_ESQL, "date_part(): field '%.40s' is not one of epoch, year, quarter, month, "
                            "week, day, dow, isodow, doy, hour, minute, second, milliseconds, microseconds",
                            field.ptr);
    }
    return SL_OK;
}

/* to_timestamp(seconds): from epoch seconds; to_timestamp(text, format):
 * text read by a format of YYYY, MM, DD, HH24, HH12 with AM/PM, MI, SS, MS,
 * US and literal characters (PostgreSQL's patterns), in UTC. */
static int parse_digits(const char *text, size_t len, size_t *at, int width, int64_t *value)
{
    int n = 0;
    *value = 0;
    while (n < width && *at < len && text[*at] >= '0' && text[*at] <= '9') {
        *value = *value * 10 + (text[(*at)++] - '0');
        n++;
    }
    return n > 0 ? SL_OK : SL_EINVAL;
}

static int parse_with_format(sl_sql_call *call, sl_str text, sl_str format, int64_t *us)
{
    int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, fraction_us = 0;
    int pm = -1;
    size_t t = 0, f = 0;
    while (f < format.len) {
        const char *p = format.ptr + f;
        size_t left = format.len - f;
        int64_t value = 0;
        int rc = SL_OK;
        if (left >= 4 && strncmp(p, "YYYY", 4) == 0) rc = parse_digits(text.ptr, text.len, &t, 4, &year), f += 4;
        else if (left >= 4 && strncmp(p, "HH24", 4) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &hour), f += 4;
        else if (left >= 4 && strncmp(p, "HH12", 4) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &hour), f += 4;
        else if (left >= 2 && (strncmp(p, "AM", 2) == 0 || strncmp(p, "PM", 2) == 0)) {
            if (t + 2 > text.len) rc = SL_EINVAL;
            else if (strncasecmp(text.ptr + t, "AM", 2) == 0) pm = 0;
            else if (strncasecmp(text.ptr + t, "PM", 2) == 0) pm = 1;
            else rc = SL_EINVAL;
            t += 2;
            f += 2;
        } else if (left >= 2 && strncmp(p, "HH", 2) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &hour), f += 2;
        else if (left >= 2 && strncmp(p, "MM", 2) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &month), f += 2;
        else if (left >= 2 && strncmp(p, "DD", 2) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &day), f += 2;
        else if (left >= 2 && strncmp(p, "MI", 2) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &minute), f += 2;
        else if (left >= 2 && strncmp(p, "SS", 2) == 0) rc = parse_digits(text.ptr, text.len, &t, 2, &second), f += 2;
        else if (left >= 2 && strncmp(p, "MS", 2) == 0) {
            rc = parse_digits(text.ptr, text.len, &t, 3, &value);
            fraction_us = value * 1000;
            f += 2;
        } else if (left >= 2 && strncmp(p, "US", 2) == 0) {
            rc = parse_digits(text.ptr, text.len, &t, 6, &fraction_us);
            f += 2;
        } else {
            if (t >= text.len || text.ptr[t] != *p) rc = SL_EINVAL;
            t++;
            f++;
        }
        if (rc)
            return sl_error_set(call->err, SL_ESQL, "to_timestamp(): '%.60s' does not fit the format '%.60s' at "
                                "character %zu", text.ptr, format.ptr, t + 1);
    }
    if (t != text.len)
        return sl_error_set(call->err, SL_ESQL, "to_timestamp(): '%.60s' has more than the format '%.60s' reads",
                            text.ptr, format.ptr);
    if (pm >= 0) hour = hour % 12 + (pm ? 12 : 0);
    if (month < 1 || month > 12 || day < 1 || day > sl_days_in_month(year, (int)month) || hour > 23 ||
        minute > 59 || second > 59)
        return sl_error_set(call->err, SL_ESQL, "to_timestamp(): '%.60s' is not a date and time that exists",
                            text.ptr);
    *us = (sl_days_from_civil(year, (int)month, (int)day) * 86400 + hour * 3600 + minute * 60 + second) *
              US_PER_SECOND + fraction_us;
    return SL_OK;
}

static int from_seconds(sl_sql_call *call, const char *name, const sl_value *v, sl_value *out)
{
    if (v->type != SL_TYPE_INT && v->type != SL_TYPE_DOUBLE)
        return sl__sql_type_error(call, name, "epoch seconds", v);
    double seconds = v->type == SL_TYPE_INT ? (double)v->integer : v->number;
    if (!isfinite(seconds) || fabs(seconds) > 9.2e12)
        return sl_error_set(call->err, SL_ESQL, "%s(): %g seconds is out of range", name, seconds);
    *out = sl_value_timestamp((int64_t)llround(seconds * 1e6));
    return SL_OK;
}

int sl__sql_fn_to_timestamp(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (n_args == 1) return from_seconds(call, "to_timestamp", &args[0], out);
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "to_timestamp", "a string", &args[0]);
    if (args[1].type != SL_TYPE_STRING) return sl__sql_type_error(call, "to_timestamp", "a format", &args[1]);
    int64_t us = 0;
    int rc = parse_with_format(call, args[0].string, args[1].string, &us);
    if (rc == SL_OK) *out = sl_value_timestamp(us);
    return rc;
}

int sl__sql_fn_from_unixtime(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return from_seconds(call, "from_unixtime", &args[0], out);
}

int sl__sql_fn_to_unixtime(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int64_t us;
    int rc = timestamp_of(call, "to_unixtime", &args[0], &us);
    if (rc == SL_OK) *out = sl_value_double((double)us / 1e6);
    return rc;
}

/* ts moved by n months on the calendar, the day kept or cut to the month's
 * last (2024-01-31 and one month: 2024-02-29), as PostgreSQL's intervals. */
static int add_months(sl_sql_call *call, const char *name, int64_t us, int64_t months, int64_t *out)
{
    int64_t days = floor_div(us, US_PER_DAY), in_day = us - days * US_PER_DAY, year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    if (months > 120000 || months < -120000) return sl_error_set(call->err, SL_ESQL, "%s(): out of range", name);
    int64_t index = year * 12 + (month - 1) + months;
    year = floor_div(index, 12);
    month = (int)(index - year * 12) + 1;
    int last = sl_days_in_month(year, month);
    *out = sl_days_from_civil(year, month, day > last ? last : day) * US_PER_DAY + in_day;
    return SL_OK;
}

/* The µs of a fixed unit (0 for month, quarter, year: those move on the calendar), or -1. */
static int64_t unit_us_of(int unit, int64_t *months)
{
    static const int64_t fixed[] = { 1, 1000, US_PER_SECOND, 60 * US_PER_SECOND, 3600 * US_PER_SECOND, US_PER_DAY,
                                     7 * US_PER_DAY };
    static const int64_t calendar[] = { 1, 3, 12, 120, 1200, 12000 };   /* month .. millennium */
    *months = 0;
    if (unit >= 0 && unit <= 6) return fixed[unit];
    if (unit >= 7 && unit <= 12) {
        *months = calendar[unit - 7];
        return 0;
    }
    return -1;
}

/* date_add(unit, n, ts): ts moved by n units (Trino's and Spark's name for
 * PostgreSQL's ts + interval). */
int sl__sql_fn_date_add(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (n_args == 2) {   /* date_add(ts, interval) */
        int64_t ts;
        int rc = timestamp_of(call, "date_add", &args[0], &ts);
        return rc ? rc : sl__sql_date_add_interval(call, ts, &args[1], out);
    }
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "date_add", "a unit name", &args[0]);
    if (args[1].type != SL_TYPE_INT) return sl__sql_type_error(call, "date_add", "an int count", &args[1]);
    int64_t months, us, result = 0;
    int64_t step = unit_us_of(unit_index(args[0].string), &months);
    if (step < 0) return sl_error_set(call->err, SL_ESQL, "date_add(): unit '%.40s' is not one of microseconds, "
                                      "milliseconds, second, minute, hour, day, week, month, quarter, year, decade, "
                                      "century, millennium", args[0].string.ptr);
    int rc = timestamp_of(call, "date_add", &args[2], &us);
    if (rc) return rc;
    if (months) {
        int64_t total;
        if (__builtin_mul_overflow(months, args[1].integer, &total))
            return sl_error_set(call->err, SL_ESQL, "date_add(): out of range");
        rc = add_months(call, "date_add", us, total, &result);
        if (rc) return rc;
    } else {
        int64_t moved;
        if (__builtin_mul_overflow(step, args[1].integer, &moved) || __builtin_add_overflow(us, moved, &result))
            return sl_error_set(call->err, SL_ESQL, "date_add(): out of range");
    }
    *out = sl_value_timestamp(result);
    return SL_OK;
}

/* date_diff(unit, a, b): how many whole units from a to b (negative when
 * b is before a); months, quarters and years on the calendar. */
int sl__sql_fn_date_diff(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "date_diff", "a unit name", &args[0]);
    int64_t months, a, b;
    int64_t step = unit_us_of(unit_index(args[0].string), &months);
    if (step < 0) return sl_error_set(call->err, SL_ESQL, "date_diff(): unit '%.40s' is not one of microseconds, "
                                      "milliseconds, second, minute, hour, day, week, month, quarter, year, decade, "
                                      "century, millennium", args[0].string.ptr);
    int rc = timestamp_of(call, "date_diff", &args[1], &a);
    if (rc == SL_OK) rc = timestamp_of(call, "date_diff", &args[2], &b);
    if (rc) return rc;
    if (!months) {
        *out = sl_value_int((b - a) / step);
        return SL_OK;
    }
    int64_t days_a = floor_div(a, US_PER_DAY), days_b = floor_div(b, US_PER_DAY), ya, yb;
    int ma, da, mb, db;
    civil_from_days(days_a, &ya, &ma, &da);
    civil_from_days(days_b, &yb, &mb, &db);
    int64_t whole = (yb * 12 + mb) - (ya * 12 + ma);
    /* A month not complete yet does not count: compare what is left of each. */
    int64_t rest_a = a - sl_days_from_civil(ya, ma, 1) * US_PER_DAY, rest_b = b - sl_days_from_civil(yb, mb, 1) * US_PER_DAY;
    if (whole > 0 && rest_b < rest_a) whole--;
    if (whole < 0 && rest_b > rest_a) whole++;
    *out = sl_value_int(whole / months);
    return SL_OK;
}

/* ts AT TIME ZONE zone: ts as ISO 8601 text in the zone's local time with
 * its offset then ("2024-03-31T03:30:00+02:00"). */
int sl__sql_at_time_zone(sl_sql_call *call, const sl_value *ts, const sl_value *zone, sl_value *out)
{
    int64_t us;
    sl_tz *tz;
    int rc = timestamp_of(call, "AT TIME ZONE", ts, &us);
    if (rc == SL_OK) rc = zone_of(call, "AT TIME ZONE", zone, 1, 0, &tz);
    if (rc) return rc;
    char text[SL_TIME_ISO_MAX];
    size_t len = sl_time_format_offset(us, sl_tz_offset(tz, floor_div(us, US_PER_SECOND)), text);
    char *copy = sl_arena_alloc(call->arena, len + 1);
    if (!copy) return sl__sql_out_of_memory(call, "AT TIME ZONE");
    memcpy(copy, text, len + 1);
    *out = sl_value_string((sl_str){ copy, len });
    return SL_OK;
}
