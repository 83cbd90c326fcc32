/* timefmt.c — ISO-8601 UTC formatting and parsing of µs timestamps (see
 * timefmt.h).
 *
 * Dates convert to and from a day count with the era arithmetic of the
 * proleptic Gregorian calendar: shifting the year to start in March puts the
 * leap day last, so a 400-year era has a fixed 146097 days and a day of the
 * year maps to a month with one linear formula. Division is floored so times
 * before 1970 work the same way. Digits are written by hand: this runs once
 * per timestamp in the JSON writer and snprintf would dominate it.
 */
#include "core/timefmt.h"

#include <stdbool.h>

#include "core/error.h"

#define US_PER_SECOND INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SECOND)

int64_t sl_days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;                              /* 0..399 */
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

void sl_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;                            /* 0..146096 */
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;              /* 0 = March */
    *day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    *month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

bool sl_is_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int sl_days_in_month(int64_t year, int month)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && sl_is_leap_year(year) ? 29 : days[month - 1];
}

int sl_weekday_from_days(int64_t days)
{
    return (int)(((days % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday */
}

/* Writes value as exactly `width` digits (value < 10^width). */
static char *put_digits(char *out, int64_t value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

size_t sl_time_format_iso(int64_t us, char out[SL_TIME_ISO_MAX])
{
    int64_t days = us / US_PER_DAY;
    int64_t us_of_day = us % US_PER_DAY;
    if (us_of_day < 0) {
        us_of_day += US_PER_DAY;
        days--;
    }
    int64_t year;
    int month, day;
    sl_civil_from_days(days, &year, &month, &day);

    char *p = out;
    if (year < 0 || year > 9999) {
        *p++ = year < 0 ? '-' : '+';
        int64_t magnitude = year < 0 ? -year : year;
        int width = 4;
        for (int64_t limit = 10000; magnitude >= limit; limit *= 10) width++;
        p = put_digits(p, magnitude, width);
    } else {
        p = put_digits(p, year, 4);
    }
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    int64_t seconds = us_of_day / US_PER_SECOND;
    p = put_digits(p, seconds / 3600, 2);
    *p++ = ':';
    p = put_digits(p, seconds / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, seconds % 60, 2);
    int64_t fraction = us_of_day % US_PER_SECOND;
    if (fraction) {
        *p++ = '.';
        p = put_digits(p, fraction, 6);
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}

size_t sl_time_format_offset(int64_t us, int32_t offset_seconds, char out[SL_TIME_ISO_MAX])
{
    size_t len = sl_time_format_iso(us + (int64_t)offset_seconds * US_PER_SECOND, out) - 1;   /* drop 'Z' */
    int32_t magnitude = offset_seconds < 0 ? -offset_seconds : offset_seconds;
    char *p = out + len;
    *p++ = offset_seconds < 0 ? '-' : '+';
    p = put_digits(p, magnitude / 3600, 2);
    *p++ = ':';
    p = put_digits(p, magnitude / 60 % 60, 2);
    if (magnitude % 60) {
        *p++ = ':';
        p = put_digits(p, magnitude % 60, 2);
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* Reads exactly `width` digits at text[*pos]; false when any is not a digit. */
static bool read_digits(const char *text, size_t len, size_t *pos, int width, int *value)
{
    if (len - *pos < (size_t)width) return false;
    int result = 0;
    for (int i = 0; i < width; i++) {
        char c = text[*pos + (size_t)i];
        if (c < '0' || c > '9') return false;
        result = result * 10 + (c - '0');
    }
    *pos += (size_t)width;
    *value = result;
    return true;
}

static bool read_char(const char *text, size_t len, size_t *pos, char expected)
{
    if (*pos >= len || text[*pos] != expected) return false;
    (*pos)++;
    return true;
}

int sl_time_parse_iso(const char *text, size_t len, int64_t *us)
{
    size_t pos = 0;
    int year, month, day, hour = 0, minute = 0, second = 0;
    int64_t fraction_us = 0, offset_seconds = 0;

    if (!read_digits(text, len, &pos, 4, &year) || !read_char(text, len, &pos, '-') ||
        !read_digits(text, len, &pos, 2, &month) || !read_char(text, len, &pos, '-') ||
        !read_digits(text, len, &pos, 2, &day))
        return SL_EPARSE;
    if (month < 1 || month > 12 || day < 1 || day > sl_days_in_month(year, month)) return SL_EPARSE;

    if (pos < len) {
        char separator = text[pos++];
        if (separator != 'T' && separator != 't' && separator != ' ') return SL_EPARSE;
        if (!read_digits(text, len, &pos, 2, &hour) || !read_char(text, len, &pos, ':') ||
            !read_digits(text, len, &pos, 2, &minute) || !read_char(text, len, &pos, ':') ||
            !read_digits(text, len, &pos, 2, &second))
            return SL_EPARSE;
        if (hour > 23 || minute > 59 || second > 59) return SL_EPARSE;

        if (read_char(text, len, &pos, '.')) {
            int n_digits = 0;
            int64_t scale = 100000;
            while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
                if (++n_digits > 9) return SL_EPARSE;
                fraction_us += (text[pos] - '0') * scale;
                scale /= 10;
                pos++;
            }
            if (n_digits == 0) return SL_EPARSE;
        }

        if (read_char(text, len, &pos, 'Z') || read_char(text, len, &pos, 'z')) {
            /* UTC */
        } else if (pos < len && (text[pos] == '+' || text[pos] == '-')) {
            int sign = text[pos++] == '-' ? -1 : 1;
            int offset_hours, offset_minutes;
            if (!read_digits(text, len, &pos, 2, &offset_hours) ||
                !read_char(text, len, &pos, ':') ||
                !read_digits(text, len, &pos, 2, &offset_minutes))
                return SL_EPARSE;
            if (offset_hours > 23 || offset_minutes > 59) return SL_EPARSE;
            offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
        }
    }
    if (pos != len) return SL_EPARSE;

    int64_t seconds = sl_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                      second - offset_seconds;
    *us = seconds * US_PER_SECOND + fraction_us;
    return SL_OK;
}
