/* cron.h — 5-field cron expressions and their fire times in a time zone.
 *
 * The fields are minute, hour, day of month, month and day of week, each a
 * list of values, ranges (a-b), steps (*\/n, a-b/n, a/n) and names (jan..dec,
 * sun..sat; 7 is Sunday too), or one of @yearly, @annually, @monthly,
 * @weekly, @daily, @midnight, @hourly. As POSIX cron and Airflow (croniter)
 * have it, when neither day field has a "*" item a day matches either of
 * them ("0 0 13 * fri": the 13th and every Friday); otherwise it must
 * match both. A list of every day ("0-6", or a step of 1) is not a "*".
 *
 * Fire times are wall-clock times of the zone: a time that does not exist
 * that day (the hour skipped in spring) does not fire, and a time that
 * occurs twice (the hour repeated in autumn) fires once, at its first
 * occurrence.
 */
#ifndef SL_CRON_H
#define SL_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tz.h"

typedef struct sl_cron {
    uint64_t minutes;   /* bit m for minute m, 0..59 */
    uint32_t hours;     /* 0..23 */
    uint32_t days;      /* bit d for day d of the month, 1..31 */
    uint16_t months;    /* 1..12 */
    uint8_t weekdays;   /* 0 (Sunday)..6 */
    bool is_either_day; /* neither day field is "*": a day matches either */
} sl_cron;

/* Parses text into *cron. A mistake is SL_EPARSE with a message naming the
 * field and its column (1-based) in text; an expression that can never fire
 * (day 30 of February) is an error too. */
int sl_cron_parse(const char *text, sl_cron *cron, sl_error *err);

/* The same, with the 1-based column of the mistake in text in *column
 * (0 when it concerns the whole expression). */
int sl_cron_parse_at(const char *text, sl_cron *cron, size_t *column, sl_error *err);

/* The first fire time strictly after after_utc (seconds since the epoch),
 * in *next. SL_ENOTFOUND when there is none in the next 30 years. */
int sl_cron_next(const sl_cron *cron, const sl_tz *tz, int64_t after_utc, int64_t *next);

/* The last fire time strictly before before_utc, in *previous.
 * SL_ENOTFOUND when there is none in the 30 years before. */
int sl_cron_prev(const sl_cron *cron, const sl_tz *tz, int64_t before_utc, int64_t *previous);

#endif
