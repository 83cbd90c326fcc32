/* timefmt.h — ISO-8601 UTC text for timestamps (µs since the Unix epoch).
 *
 * One place for the text form of SL_TYPE_TIMESTAMP: the JSON writer prints
 * timestamps with it, and readers of text (JSON fields, CSV, config) parse
 * with it. Pure functions over the proleptic Gregorian calendar; no time
 * zone database, no locale, thread-safe.
 */
#ifndef SL_TIMEFMT_H
#define SL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text sl_time_format_iso writes, plus its NUL. */
#define SL_TIME_ISO_MAX 40

/* Writes us as "2024-01-02T03:04:05.123456Z" into out (NUL-terminated),
 * dropping the fraction when it is zero. Years outside 0000..9999 get a sign
 * and as many digits as they need. Returns the length written. */
size_t sl_time_format_iso(int64_t us, char out[SL_TIME_ISO_MAX]);

/* Writes us as the wall time of a zone offset_seconds east of UTC, with the
 * offset: "2024-01-02T04:04:05+01:00" (seconds of the offset only when it
 * has some, as in local mean times). Returns the length written. */
size_t sl_time_format_offset(int64_t us, int32_t offset_seconds, char out[SL_TIME_ISO_MAX]);

/* Parses text[0..len) into µs since the epoch. Accepts "2024-01-02",
 * "2024-01-02T03:04:05" (or a space instead of 'T'), with an optional
 * fraction of 1 to 9 digits (beyond µs truncated) and an optional 'Z' or
 * +hh:mm / -hh:mm offset; without an offset the time is taken as UTC.
 * Returns 0, or SL_EPARSE when the text is not such a date (fields out of
 * range included) and then leaves *us unchanged. */
int sl_time_parse_iso(const char *text, size_t len, int64_t *us);

/* The proleptic Gregorian calendar, for code that works in calendar days
 * (the scheduler's cron, time zone rules). */

/* Days from 1970-01-01 to year-month-day (month 1..12), negative before. */
int64_t sl_days_from_civil(int64_t year, int month, int day);
/* The inverse of sl_days_from_civil. */
void sl_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
bool sl_is_leap_year(int64_t year);
int sl_days_in_month(int64_t year, int month);   /* month 1..12 */
/* 0 = Sunday .. 6 = Saturday for a day count from sl_days_from_civil. */
int sl_weekday_from_days(int64_t days);

#endif
