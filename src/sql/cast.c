/* cast.c — CAST and value conversions (see cast.h for the rules).
 *
 * Every conversion is total over its input type: it either yields a value or
 * an error naming the value and the target type, never a silent default.
 * Timestamp text is core/timefmt's ISO-8601, the same the JSON writer uses.
 */
#include "sql/cast.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/interval.h"
#include "core/timefmt.h"
#include "core/utf8.h"

static const struct {
    const char *name;
    sl_type type;
} type_names[] = {
    { "int", SL_TYPE_INT },           { "integer", SL_TYPE_INT },     { "bigint", SL_TYPE_INT },
    { "int8", SL_TYPE_INT },          { "long", SL_TYPE_INT },        { "double", SL_TYPE_DOUBLE },
    { "float", SL_TYPE_DOUBLE },      { "real", SL_TYPE_DOUBLE },     { "float8", SL_TYPE_DOUBLE },
    { "string", SL_TYPE_STRING },     { "text", SL_TYPE_STRING },     { "varchar", SL_TYPE_STRING },
    { "char", SL_TYPE_STRING },       { "boolean", SL_TYPE_BOOL },    { "bool", SL_TYPE_BOOL },
    { "timestamp", SL_TYPE_TIMESTAMP }, { "timestamptz", SL_TYPE_TIMESTAMP }, { "interval", SL_TYPE_INTERVAL },
};

int sl_sql_type_from_name(sl_str name, sl_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strlen(type_names[i].name) == name.len &&
            strncasecmp(type_names[i].name, name.ptr, name.len) == 0) {
            *out = type_names[i].type;
            return 0;
        }
    }
    return -1;
}

const char *sl_sql_type_sql_name(sl_type type)
{
    switch (type) {
    case SL_TYPE_INT: return "INT";
    case SL_TYPE_DOUBLE: return "DOUBLE";
    case SL_TYPE_STRING: return "STRING";
    case SL_TYPE_BOOL: return "BOOLEAN";
    case SL_TYPE_TIMESTAMP: return "TIMESTAMP";
    case SL_TYPE_INTERVAL: return "INTERVAL";
    default: return sl_type_name(type);
    }
}

void sl_sql_value_describe(const sl_value *value, char *buf, size_t size)
{
    switch (value->type) {
    case SL_TYPE_NULL: snprintf(buf, size, "NULL"); break;
    case SL_TYPE_BOOL: snprintf(buf, size, "%s", value->boolean ? "TRUE" : "FALSE"); break;
    case SL_TYPE_INT: snprintf(buf, size, "%" PRId64, value->integer); break;
    case SL_TYPE_DOUBLE: snprintf(buf, size, "%.17g", value->number); break;
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES:
        if (value->string.len > 60)   /* cut between characters, never inside one */
            snprintf(buf, size, "'%.*s...'", (int)sl_utf8_cut(value->string.ptr, value->string.len, 60),
                     value->string.ptr);
        else
            snprintf(buf, size, "'%.*s'", (int)value->string.len, value->string.ptr);
        break;
    case SL_TYPE_TIMESTAMP: {
        char text[SL_TIME_ISO_MAX];
        sl_time_format_iso(value->timestamp, text);
        snprintf(buf, size, "TIMESTAMP '%s'", text);
        break;
    }
    case SL_TYPE_INTERVAL: {
        char text[SL_INTERVAL_TEXT_MAX];
        sl_interval_format(value->interval, text);
        snprintf(buf, size, "INTERVAL '%s'", text);
        break;
    }
    case SL_TYPE_ARRAY: snprintf(buf, size, "an array"); break;
    case SL_TYPE_OBJECT: snprintf(buf, size, "an object"); break;
    }
}

static int cast_error(const sl_value *in, sl_type target, const char *why, sl_error *err)
{
    char shown[96];
    sl_sql_value_describe(in, shown, sizeof shown);
    return sl_error_set(err, SL_ESQL, "cannot cast %s to %s%s", shown, sl_sql_type_sql_name(target),
                        why);
}

/* ---- numbers ---- */

static sl_str trim_spaces(sl_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) s.len--;
    return s;
}

static int parse_int(sl_str text, int64_t *out)
{
    text = trim_spaces(text);
    size_t pos = 0;
    bool is_negative = false;
    if (pos < text.len && (text.ptr[pos] == '+' || text.ptr[pos] == '-'))
        is_negative = text.ptr[pos++] == '-';
    if (pos == text.len) return -1;
    uint64_t value = 0, limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; pos < text.len; pos++) {
        char c = text.ptr[pos];
        if (c < '0' || c > '9') return -1;
        if (value > (limit - (uint64_t)(c - '0')) / 10) return -1;
        value = value * 10 + (uint64_t)(c - '0');
    }
    *out = is_negative ? (int64_t)(0 - value) : (int64_t)value;
    return 0;
}

static int parse_double(sl_str text, double *out)
{
    char copy[128];
    text = trim_spaces(text);
    if (text.len == 0 || text.len >= sizeof copy) return -1;
    for (size_t i = 0; i < text.len; i++)
        if (text.ptr[i] == 'x' || text.ptr[i] == 'X' || text.ptr[i] == '\0') return -1;
    memcpy(copy, text.ptr, text.len);
    copy[text.len] = '\0';
    char *end;
    *out = strtod(copy, &end);
    return end == copy + text.len ? 0 : -1;
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
static int format_double(double number, char *buf, size_t size)
{
    if (isnan(number)) return snprintf(buf, size, "NaN");
    if (isinf(number)) return snprintf(buf, size, number > 0 ? "Infinity" : "-Infinity");
    for (int precision = 15; precision <= 17; precision++) {
        int n = snprintf(buf, size, "%.*g", precision, number);
        if (strtod(buf, NULL) == number || precision == 17) return n;
    }
    return 0;
}

static int text_value(sl_arena *arena, const char *text, size_t len, sl_value *out, sl_error *err)
{
    if (sl_value_string_copy(arena, text, len, out))
        return sl_error_set(err, SL_ENOMEM, "out of memory in CAST");
    return SL_OK;
}

static bool str_eq_nocase(sl_str s, const char *word)
{
    return strlen(word) == s.len && strncasecmp(word, s.ptr, s.len) == 0;
}

int sl_sql_cast(const sl_value *in, sl_type target, sl_arena *arena, sl_value *out, sl_error *err)
{
    if (in->type == SL_TYPE_NULL || in->type == target) {
        *out = *in;
        return SL_OK;
    }
    char text[64];
    switch (target) {
    case SL_TYPE_INT:
        if (in->type == SL_TYPE_BOOL) {
            *out = sl_value_int(in->boolean);
        } else if (in->type == SL_TYPE_DOUBLE) {
            /* To the nearest, ties to even, as PostgreSQL (2.5 is 2, 3.5 is 4). */
            double rounded = rint(in->number);
            if (!(rounded >= -9223372036854775808.0 && rounded < 9223372036854775808.0))
                return cast_error(in, target, " (out of range)", err);
            *out = sl_value_int((int64_t)rounded);
        } else if (in->type == SL_TYPE_STRING) {
            int64_t value;
            if (parse_int(in->string, &value)) return cast_error(in, target, "", err);
            *out = sl_value_int(value);
        } else if (in->type == SL_TYPE_TIMESTAMP) {
            *out = sl_value_int(in->timestamp);
        } else {
            return cast_error(in, target, "", err);
        }
        return SL_OK;
    case SL_TYPE_DOUBLE:
        if (in->type == SL_TYPE_BOOL) {
            *out = sl_value_double(in->boolean ? 1.0 : 0.0);
        } else if (in->type == SL_TYPE_INT) {
            *out = sl_value_double((double)in->integer);
        } else if (in->type == SL_TYPE_STRING) {
            double value;
            if (parse_double(in->string, &value)) return cast_error(in, target, "", err);
            *out = sl_value_double(value);
        } else {
            return cast_error(in, target, "", err);
        }
        return SL_OK;
    case SL_TYPE_STRING:
        switch (in->type) {
        case SL_TYPE_BOOL:
            *out = sl_value_string(in->boolean ? SL_STR_LIT("true") : SL_STR_LIT("false"));
            return SL_OK;
        case SL_TYPE_INT: {
            int n = snprintf(text, sizeof text, "%" PRId64, in->integer);
            return text_value(arena, text, (size_t)n, out, err);
        }
        case SL_TYPE_DOUBLE: {
            int n = format_double(in->number, text, sizeof text);
            return text_value(arena, text, (size_t)n, out, err);
        }
        case SL_TYPE_BYTES:
            *out = sl_value_string(in->string);
            return SL_OK;
        case SL_TYPE_TIMESTAMP: {
            size_t n = sl_time_format_iso(in->timestamp, text);
            return text_value(arena, text, n, out, err);
        }
        case SL_TYPE_INTERVAL: {
            char interval_text[SL_INTERVAL_TEXT_MAX];
            size_t n = sl_interval_format(in->interval, interval_text);
            return text_value(arena, interval_text, n, out, err);
        }
        default: return cast_error(in, target, "", err);
        }
    case SL_TYPE_BOOL:
        if (in->type == SL_TYPE_INT) {
            *out = sl_value_bool(in->integer != 0);
        } else if (in->type == SL_TYPE_STRING) {
            sl_str s = trim_spaces(in->string);
            if (str_eq_nocase(s, "true") || str_eq_nocase(s, "t") || str_eq_nocase(s, "yes") ||
                str_eq_nocase(s, "on") || str_eq_nocase(s, "1"))
                *out = sl_value_bool(true);
            else if (str_eq_nocase(s, "false") || str_eq_nocase(s, "f") ||
                     str_eq_nocase(s, "no") || str_eq_nocase(s, "off") || str_eq_nocase(s, "0"))
                *out = sl_value_bool(false);
            else
                return cast_error(in, target, "", err);
        } else {
            return cast_error(in, target, "", err);
        }
        return SL_OK;
    case SL_TYPE_TIMESTAMP:
        if (in->type == SL_TYPE_INT) {
            *out = sl_value_timestamp(in->integer);
        } else if (in->type == SL_TYPE_STRING) {
            int64_t us;
            sl_str trimmed = trim_spaces(in->string);
            if (sl_time_parse_iso(trimmed.ptr, trimmed.len, &us))
                return cast_error(in, target, "", err);
            *out = sl_value_timestamp(us);
        } else {
            return cast_error(in, target, "", err);
        }
        return SL_OK;
    case SL_TYPE_INTERVAL: {
        sl_interval_value interval;
        sl_error problem = { 0 };
        if (in->type != SL_TYPE_STRING ||
            sl_interval_parse(in->string.ptr, in->string.len, SL_INTERVAL_ALL_FIELDS, &interval, &problem))
            return cast_error(in, target, "", err);
        *out = sl_value_interval(interval.months, interval.days, interval.micros);
        return SL_OK;
    }
    default:
        return cast_error(in, target, "", err);
    }
}
