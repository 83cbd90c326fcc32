/* interval.h — the text of SL_TYPE_INTERVAL values, read and written as
 * PostgreSQL 15 does.
 *
 * Written in PostgreSQL's default IntervalStyle (`postgres`): "1 year 2 mons
 * 3 days 04:05:06.5", "-00:00:01", "00:00:00"; the JSON writer, the sinks and
 * CAST(x AS TEXT) all use it. Read: PostgreSQL's free form ("1 day 2 hours",
 * "1.5 seconds", "-1 hour", "2 days ago", "1 02:03:04", "1-2"), ISO 8601's
 * designators ("P1Y2M3DT4H5M6.5S", "P2W"), and the SQL standard's literals
 * with a qualifier naming their fields (INTERVAL '02:30' HOUR TO MINUTE): a
 * bare number is the qualifier's last field, and fields below it are cut off.
 * Pure functions, no locale, thread-safe.
 */
#ifndef SL_INTERVAL_H
#define SL_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/value.h"

#define SL_US_PER_SECOND 1000000LL
#define SL_US_PER_MINUTE (60 * SL_US_PER_SECOND)
#define SL_US_PER_HOUR (3600 * SL_US_PER_SECOND)
#define SL_US_PER_DAY (24 * SL_US_PER_HOUR)

/* Longest text sl_interval_format writes, plus its NUL. */
#define SL_INTERVAL_TEXT_MAX 96

/* The fields of a SQL interval qualifier, or'ed: YEAR TO MONTH is
 * SL_INTERVAL_YEAR | SL_INTERVAL_MONTH. SL_INTERVAL_ALL_FIELDS: none given. */
enum {
    SL_INTERVAL_YEAR = 1 << 0,
    SL_INTERVAL_MONTH = 1 << 1,
    SL_INTERVAL_DAY = 1 << 2,
    SL_INTERVAL_HOUR = 1 << 3,
    SL_INTERVAL_MINUTE = 1 << 4,
    SL_INTERVAL_SECOND = 1 << 5,
    SL_INTERVAL_ALL_FIELDS = (1 << 6) - 1,
};

/* Writes interval as PostgreSQL prints it into out (NUL-terminated);
 * returns the length. */
size_t sl_interval_format(sl_interval_value interval, char out[SL_INTERVAL_TEXT_MAX]);

/* Reads text[0..len) as an interval of the qualifier's fields (a mask of
 * SL_INTERVAL_*, only the combinations SQL allows). Errors: SL_EPARSE with
 * "invalid input syntax for type interval: 'text' (why)" or "interval field
 * value out of range: 'text'"; *out is then unchanged. */
int sl_interval_parse(const char *text, size_t len, unsigned fields, sl_interval_value *out, sl_error *err);

/* Whether fields is a qualifier SQL allows: one field, or YEAR TO MONTH, DAY
 * TO HOUR/MINUTE/SECOND, HOUR TO MINUTE/SECOND, MINUTE TO SECOND. */
bool sl_interval_fields_valid(unsigned fields);

#endif
