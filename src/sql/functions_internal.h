/* functions_internal.h — what the files of SQL functions share: the error
 * helpers every function words its failures with, the per-thread random
 * numbers (uuid, random), and the C functions the table in functions.c
 * names. functions.c holds the table, the string and uuid functions;
 * functions_math.c the numbers; functions_text.c more of the strings;
 * functions_time.c the dates; functions_interval.c the intervals' fields,
 * justify_* and make_interval; functions_hash.c the digests. Not for use outside src/sql.
 */
#ifndef SL_SQL_FUNCTIONS_INTERNAL_H
#define SL_SQL_FUNCTIONS_INTERNAL_H

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>

#include "sql/functions.h"

/* "name() expects EXPECTED, got TYPE". */
int sl__sql_type_error(sl_sql_call *call, const char *name, const char *expected, const sl_value *got);
int sl__sql_out_of_memory(sl_sql_call *call, const char *name);

/* The C.UTF-8 locale (made once, shared read-only by every thread), whose
 * towlower/towupper/iswalnum know every Unicode letter; (locale_t)0 when
 * the machine lacks it. */
locale_t sl__sql_utf8_locale(void);

/* lower() or upper() of arg (a string, else a type error naming name). */
int sl__sql_change_case(sl_sql_call *call, const char *name, const sl_value *arg, bool is_upper, sl_value *out);

/* 64 random bits from this thread's generator. */
uint64_t sl__sql_random_next(void);

/* ---- functions_math.c ---- */
sl_sql_function_fn sl__sql_fn_round, sl__sql_fn_floor, sl__sql_fn_ceil, sl__sql_fn_trunc, sl__sql_fn_power,
    sl__sql_fn_sqrt, sl__sql_fn_exp, sl__sql_fn_ln, sl__sql_fn_log, sl__sql_fn_mod, sl__sql_fn_sign,
    sl__sql_fn_greatest, sl__sql_fn_least, sl__sql_fn_random;

/* ---- functions_text.c ---- */
sl_sql_function_fn sl__sql_fn_replace, sl__sql_fn_split_part, sl__sql_fn_lpad, sl__sql_fn_rpad,
    sl__sql_fn_starts_with, sl__sql_fn_ends_with, sl__sql_fn_strpos, sl__sql_fn_reverse, sl__sql_fn_initcap;

/* ---- functions_regex.c ---- */
sl_sql_function_fn sl__sql_fn_regexp_like, sl__sql_fn_regexp_extract, sl__sql_fn_regexp_replace;

/* ---- functions_json.c ---- */
sl_sql_function_fn sl__sql_fn_parse_json, sl__sql_fn_to_json, sl__sql_fn_json_extract, sl__sql_fn_json_array_length,
    sl__sql_fn_cardinality, sl__sql_fn_element_at;
/* left -> key (as_text: ->>), for eval.c. */
int sl__sql_json_arrow(sl_sql_call *call, const sl_value *left, const sl_value *key, bool as_text, sl_value *out);

/* ---- functions_time.c ---- */
sl_sql_function_fn sl__sql_fn_date_trunc, sl__sql_fn_date_part, sl__sql_fn_to_timestamp, sl__sql_fn_from_unixtime,
    sl__sql_fn_to_unixtime, sl__sql_fn_date_add, sl__sql_fn_date_diff;
/* ts AT TIME ZONE zone, for eval.c. */
int sl__sql_at_time_zone(sl_sql_call *call, const sl_value *ts, const sl_value *zone, sl_value *out);

/* ---- functions_interval.c ---- */
sl_sql_function_fn sl__sql_fn_justify_hours, sl__sql_fn_justify_days, sl__sql_fn_justify_interval,
    sl__sql_fn_make_interval;
/* date_part(field, interval), for date_part. */
int sl__sql_interval_part(sl_sql_call *call, sl_str field, sl_interval_value interval, sl_value *out);
/* date_add(ts, interval), for date_add. */
int sl__sql_date_add_interval(sl_sql_call *call, int64_t ts, const sl_value *interval, sl_value *out);

/* ---- functions_hash.c ---- */
sl_sql_function_fn sl__sql_fn_md5, sl__sql_fn_sha1, sl__sql_fn_sha256, sl__sql_fn_murmur3, sl__sql_fn_hash64;

#endif
