/* cast.h — SQL CAST and the value conversions operators need.
 *
 * CAST(x AS type) for INT/INTEGER/BIGINT, DOUBLE/FLOAT/REAL, STRING/TEXT/
 * VARCHAR, BOOLEAN/BOOL, TIMESTAMP and INTERVAL. NULL casts to NULL. Conversions:
 *   double → int truncates toward zero (out of range is an error);
 *   string → int/double must be a whole number literal (spaces around ok);
 *   string → boolean accepts true/false/t/f/yes/no/on/off/1/0 (any case);
 *   string → timestamp accepts ISO-8601 as core/timefmt.h reads it:
 *     2024-01-01, 2024-01-01 10:00:00, 2024-01-01T10:00:00.123Z, ...+02:00
 *     (no zone means UTC);
 *   timestamp ↔ int is microseconds since the Unix epoch;
 *   timestamp → string is timefmt's ISO-8601 UTC: 2024-01-01T10:00:00.123000Z,
 *     the same text the JSON writer gives;
 *   string ↔ interval is PostgreSQL's text (core/interval.h): '1 day 02:00:00'
 *     out, its free form and ISO 8601 in.
 * Arrays and objects cast only to themselves' types (no JSON text yet).
 */
#ifndef SL_SQL_CAST_H
#define SL_SQL_CAST_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

/* The sl_type for a SQL type name (case-insensitive); -1 when unknown. */
int sl_sql_type_from_name(sl_str name, sl_type *out);

/* "INT", "DOUBLE", "STRING", "BOOLEAN", "TIMESTAMP", else sl_type_name. */
const char *sl_sql_type_sql_name(sl_type type);

/* Converts in to target; new strings are allocated in arena. Errors: SL_ESQL
 * "cannot cast 'abc' to INT" (value shown, then the type); SL_ENOMEM. */
int sl_sql_cast(const sl_value *in, sl_type target, sl_arena *arena, sl_value *out,
                sl_error *err);

/* A short rendering of value for error messages: 'text' (cut at 60 bytes),
 * 42, 1.5, TRUE, NULL, an array, ... */
void sl_sql_value_describe(const sl_value *value, char *buf, size_t size);

#endif
