/* codec.c — CQL value serialization (native_protocol_v4.spec §6) for
 * sluice values, both ways (see codec.h).
 *
 * Encoding appends a [bytes] cell in place: four bytes are set aside for the
 * length, the content is written after them, and the length is patched in at
 * the end; on failure the buffer is cut back to where it was. Nothing but the
 * output buffer is allocated, so a row costs a few appends per column.
 *
 * varint is the one type without a fixed width: the minimal big-endian two's
 * complement of any integer (§6.23). Decimal text of any length is turned into
 * it with schoolbook multiplication by 10^9 per nine digits, on scratch space
 * borrowed from the output buffer's spare capacity; decimal (§6.6) is an [int]
 * scale followed by such a varint. Decoding goes back by repeated division.
 *
 * date is days since 1970-01-01 offset by 2^31 as an unsigned int (§6.5);
 * the day ↔ year/month/day conversion uses the era arithmetic of the
 * proleptic Gregorian calendar (a 400-year era has 146097 days; counting
 * years from March puts the leap day last).
 *
 * Decoding lives in codec_decode.c; the helpers both use are in
 * codec_internal.h.
 */
#include "cql/codec.h"

#include <arpa/inet.h>
#include <float.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/interval.h"
#include "core/timefmt.h"
#include "cql/codec_internal.h"

#define US_PER_DAY INT64_C(86400000000)
#define MAX_QUOTED 40   /* longest piece of a bad value quoted in a message */
/* Digits of varint/decimal text we convert: the conversion is quadratic, and
 * one absurd field must not stall a pipeline (10000 digits take ~1 ms). */
#define MAX_NUMBER_DIGITS 10000

/* ---- names and messages ---- */

/* text in double quotes, cut to MAX_QUOTED bytes with "..." after. */
static void quote(sl_str text, char *buf, size_t size)
{
    bool is_cut = text.len > MAX_QUOTED;
    snprintf(buf, size, "\"%.*s%s\"", (int)(is_cut ? MAX_QUOTED : text.len), text.ptr,
             is_cut ? "..." : "");
}

/* The fewest significant digits (15 to 17) that read back as d, as %g text. */
void sl_cql_codec_shortest_double(double d, char text[32])
{
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, 32, "%.*g", precision, d);
        if (precision == 17 || strtod(text, NULL) == d) return;
    }
}

/* "string \"abc\"", "int 5", "array", ...: the value as a message shows it. */
static void describe(const sl_value *value, char *buf, size_t size)
{
    char text[SL_TIME_ISO_MAX + MAX_QUOTED + 8];
    switch (value->type) {
    case SL_TYPE_BOOL: snprintf(buf, size, "bool %s", value->boolean ? "true" : "false"); return;
    case SL_TYPE_INT: snprintf(buf, size, "int %" PRId64, value->integer); return;
    case SL_TYPE_DOUBLE:
        sl_cql_codec_shortest_double(value->number, text);
        snprintf(buf, size, "double %s", text);
        return;
    case SL_TYPE_STRING:
        quote(value->string, text, sizeof text);
        snprintf(buf, size, "string %s", text);
        return;
    case SL_TYPE_BYTES: snprintf(buf, size, "bytes (%zu bytes)", value->string.len); return;
    case SL_TYPE_TIMESTAMP:
        sl_time_format_iso(value->timestamp, text);
        snprintf(buf, size, "timestamp %s", text);
        return;
    case SL_TYPE_INTERVAL: {
        char interval_text[SL_INTERVAL_TEXT_MAX];
        sl_interval_format(value->interval, interval_text);
        snprintf(buf, size, "interval '%s'", interval_text);
        return;
    }
    default: snprintf(buf, size, "%s", sl_type_name(value->type)); return;
    }
}

static int reject(sl_error *err, const sl_value *value, const sl_cql_type *type)
{
    char what[SL_TIME_ISO_MAX + MAX_QUOTED + 32];
    describe(value, what, sizeof what);
    return sl_error_set(err, SL_ETYPE, "cannot convert %s to %s", what, sl_cql_type_code_name(type->code));
}

static int out_of_range(sl_error *err, const sl_value *value, const sl_cql_type *type)
{
    char what[SL_TIME_ISO_MAX + MAX_QUOTED + 32];
    describe(value, what, sizeof what);
    return sl_error_set(err, SL_ETYPE, "%s out of range for %s", what, sl_cql_type_code_name(type->code));
}

/* `"zz" is not a uuid` */
static int not_a(sl_error *err, sl_str text, const char *what)
{
    char quoted[MAX_QUOTED + 8];
    quote(text, quoted, sizeof quoted);
    return sl_error_set(err, SL_ETYPE, "%s is not %s", quoted, what);
}

/* ---- byte helpers ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t sl_cql_codec_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends the low `width` bytes of v, big-endian. */
static int put_be(sl_buffer *out, uint64_t v, int width)
{
    int rc = sl_buffer_reserve(out, (size_t)width);
    if (rc) return rc;
    uint8_t *p = (uint8_t *)out->data + out->len;
    for (int i = width - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
    out->len += (size_t)width;
    return SL_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Reads exactly n digits at *pos. */
static bool read_fixed(sl_str text, size_t *pos, int n, int64_t *value)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, (*pos)++) {
        if (*pos >= text.len || text.ptr[*pos] < '0' || text.ptr[*pos] > '9') return false;
        v = v * 10 + (text.ptr[*pos] - '0');
    }
    *value = v;
    return true;
}

/* "[+-]YYYY-MM-DD" (years of 4 to 7 digits) into days since the epoch. */
static bool parse_date(sl_str text, int64_t *days)
{
    size_t pos = 0;
    bool is_negative = false;
    if (text.len && (text.ptr[0] == '-' || text.ptr[0] == '+')) is_negative = text.ptr[pos++] == '-';
    size_t year_digits = 0;
    while (pos + year_digits < text.len && text.ptr[pos + year_digits] >= '0' &&
           text.ptr[pos + year_digits] <= '9')
        year_digits++;
    int64_t year, month, day;
    if (year_digits < 4 || year_digits > 7 || !read_fixed(text, &pos, (int)year_digits, &year))
        return false;
    if (pos >= text.len || text.ptr[pos++] != '-' || !read_fixed(text, &pos, 2, &month) ||
        pos >= text.len || text.ptr[pos++] != '-' || !read_fixed(text, &pos, 2, &day) ||
        pos != text.len)
        return false;
    if (is_negative) year = -year;
    if (month < 1 || month > 12 || day < 1 || day > sl_days_in_month(year, (int)month)) return false;
    *days = sl_days_from_civil(year, (int)month, (int)day);
    return true;
}

/* "HH:MM:SS[.f{1,9}]" into nanoseconds since midnight. */
static bool parse_time(sl_str text, int64_t *ns)
{
    size_t pos = 0;
    int64_t hour, minute, second, fraction = 0, scale = 100000000;
    if (!read_fixed(text, &pos, 2, &hour) || pos >= text.len || text.ptr[pos++] != ':' ||
        !read_fixed(text, &pos, 2, &minute) || pos >= text.len || text.ptr[pos++] != ':' ||
        !read_fixed(text, &pos, 2, &second))
        return false;
    if (hour > 23 || minute > 59 || second > 59) return false;
    if (pos < text.len) {
        if (text.ptr[pos++] != '.' || pos == text.len || text.len - pos > 9) return false;
        for (; pos < text.len; pos++, scale /= 10) {
            if (text.ptr[pos] < '0' || text.ptr[pos] > '9') return false;
            fraction += (text.ptr[pos] - '0') * scale;
        }
    }
    *ns = ((hour * 60 + minute) * 60 + second) * INT64_C(1000000000) + fraction;
    return true;
}

/* ---- varint ---- */

/* Appends the minimal two's complement of v (§6.23). */
static int put_varint_int64(sl_buffer *out, int64_t v)
{
    uint64_t bits = (uint64_t)v;
    int width = 8;
    while (width > 1) {
        uint8_t top = (uint8_t)(bits >> (8 * (width - 1)));
        uint8_t next = (uint8_t)(bits >> (8 * (width - 2)));
        if (!((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80)))) break;
        width--;
    }
    return put_be(out, bits, width);
}

/* Appends the varint of the decimal digits in text (any '.' in it skipped),
 * negated when is_negative. The little-endian magnitude is built in the
 * upper half of the reserved space and written big-endian into the lower
 * half: a value of n digits needs at most n/2 + 2 bytes. */
static int put_varint_digits(sl_buffer *out, sl_str text, bool is_negative, sl_error *err)
{
    if (text.len > MAX_NUMBER_DIGITS)
        return sl_error_set(err, SL_ETYPE, "number of %zu digits is over the limit of %d digits",
                            text.len, MAX_NUMBER_DIGITS);
    size_t cap = text.len / 2 + 2;
    int rc = sl_buffer_reserve(out, 2 * cap);
    if (rc) return rc;
    uint8_t *base = (uint8_t *)out->data + out->len, *magnitude = base + cap;
    size_t used = 0, pos = 0;
    while (pos < text.len) {
        uint64_t chunk = 0, multiplier = 1;
        for (int n = 0; n < 9 && pos < text.len; pos++) {
            if (text.ptr[pos] == '.') continue;
            chunk = chunk * 10 + (uint64_t)(text.ptr[pos] - '0');
            multiplier *= 10;
            n++;
        }
        uint64_t carry = chunk;
        for (size_t i = 0; i < used; i++) {
            uint64_t t = magnitude[i] * multiplier + carry;
            magnitude[i] = (uint8_t)t;
            carry = t >> 8;
        }
        for (; carry; carry >>= 8) magnitude[used++] = (uint8_t)carry;
    }
    magnitude[used++] = 0;   /* room for the sign bit */
    if (is_negative) {
        unsigned carry = 1;
        for (size_t i = 0; i < used; i++) {
            unsigned t = (uint8_t)~magnitude[i] + carry;
            magnitude[i] = (uint8_t)t;
            carry = t >> 8;
        }
    }
    size_t width = used;
    while (width > 1 && ((magnitude[width - 1] == 0x00 && !(magnitude[width - 2] & 0x80)) ||
                         (magnitude[width - 1] == 0xFF && (magnitude[width - 2] & 0x80))))
        width--;
    for (size_t i = 0; i < width; i++) base[i] = magnitude[width - 1 - i];
    out->len += width;
    return SL_OK;
}

/* An integer's text: optional sign, then one or more digits. */
static bool split_integer(sl_str text, sl_str *digits, bool *is_negative)
{
    size_t pos = 0;
    *is_negative = false;
    if (text.len && (text.ptr[0] == '-' || text.ptr[0] == '+')) *is_negative = text.ptr[pos++] == '-';
    if (pos == text.len) return false;
    for (size_t i = pos; i < text.len; i++)
        if (text.ptr[i] < '0' || text.ptr[i] > '9') return false;
    *digits = (sl_str){ text.ptr + pos, text.len - pos };
    return true;
}

/* Decimal text "[+-]digits[.digits][(e|E)[+-]digits]": the mantissa (with
 * its '.', for put_varint_digits) and the scale, digits after the point
 * minus the exponent. */
static bool split_decimal(sl_str text, sl_str *mantissa, bool *is_negative, int32_t *scale)
{
    size_t pos = 0, n_digits = 0, n_fraction = 0;
    *is_negative = false;
    if (text.len && (text.ptr[0] == '-' || text.ptr[0] == '+')) *is_negative = text.ptr[pos++] == '-';
    size_t start = pos;
    bool has_point = false;
    for (; pos < text.len; pos++) {
        char c = text.ptr[pos];
        if (c >= '0' && c <= '9') {
            n_digits++;
            n_fraction += has_point;
        } else if (c == '.' && !has_point) {
            has_point = true;
        } else {
            break;
        }
    }
    if (n_digits == 0) return false;
    *mantissa = (sl_str){ text.ptr + start, pos - start };
    int64_t exponent = 0;
    if (pos < text.len) {
        if (text.ptr[pos] != 'e' && text.ptr[pos] != 'E') return false;
        bool is_exponent_negative = false;
        if (++pos < text.len && (text.ptr[pos] == '-' || text.ptr[pos] == '+'))
            is_exponent_negative = text.ptr[pos++] == '-';
        if (pos == text.len) return false;
        for (; pos < text.len; pos++) {
            if (text.ptr[pos] < '0' || text.ptr[pos] > '9') return false;
            exponent = exponent * 10 + (text.ptr[pos] - '0');
            if (exponent > INT32_MAX) return false;
        }
        if (is_exponent_negative) exponent = -exponent;
    }
    int64_t s = (int64_t)n_fraction - exponent;
    if (s < INT32_MIN || s > INT32_MAX) return false;
    *scale = (int32_t)s;
    return true;
}

/* ---- encoding by type ---- */

/* The value as an int64 for an integer column: INT, or a DOUBLE with no
 * fraction; range-checked against [min, max]. */
static int integer_of(const sl_cql_type *type, const sl_value *value, int64_t min, int64_t max,
                      int64_t *out, sl_error *err)
{
    int64_t v;
    if (value->type == SL_TYPE_INT) {
        v = value->integer;
    } else if (value->type == SL_TYPE_DOUBLE) {
        double d = value->number;
        if (!isfinite(d) || d != trunc(d)) return reject(err, value, type);
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return out_of_range(err, value, type);
        v = (int64_t)d;
    } else {
        return reject(err, value, type);
    }
    if (v < min || v > max) return out_of_range(err, value, type);
    *out = v;
    return SL_OK;
}

static int encode_text(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                       sl_error *err)
{
    switch (value->type) {
    case SL_TYPE_STRING:
        if (type->code == SL_CQL_ASCII)
            for (size_t i = 0; i < value->string.len; i++)
                if ((unsigned char)value->string.ptr[i] > 127) return not_a(err, value->string, "ascii");
        return sl_buffer_append(out, value->string.ptr, value->string.len);
    case SL_TYPE_INT:
    case SL_TYPE_BOOL: return sl_json_write(out, value);
    case SL_TYPE_DOUBLE:
        if (!isfinite(value->number)) return reject(err, value, type);
        return sl_json_write(out, value);
    case SL_TYPE_TIMESTAMP: {
        char text[SL_TIME_ISO_MAX];
        size_t n = sl_time_format_iso(value->timestamp, text);
        return sl_buffer_append(out, text, n);
    }
    case SL_TYPE_INTERVAL: {   /* PostgreSQL's text, as the JSON writer gives it */
        char text[SL_INTERVAL_TEXT_MAX];
        size_t n = sl_interval_format(value->interval, text);
        return sl_buffer_append(out, text, n);
    }
    default: return reject(err, value, type);
    }
}

static int encode_varint(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                         sl_error *err)
{
    if (value->type == SL_TYPE_STRING) {
        sl_str digits;
        bool is_negative;
        if (!split_integer(value->string, &digits, &is_negative))
            return not_a(err, value->string, "an integer");
        return put_varint_digits(out, digits, is_negative, err);
    }
    int64_t v;
    int rc = integer_of(type, value, INT64_MIN, INT64_MAX, &v, err);
    return rc ? rc : put_varint_int64(out, v);
}

static int encode_decimal(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                          sl_error *err)
{
    char text[32];
    sl_str decimal;
    if (value->type == SL_TYPE_INT ||
        (value->type == SL_TYPE_DOUBLE && value->number == trunc(value->number) &&
         fabs(value->number) < 9223372036854775808.0)) {
        int64_t v = value->type == SL_TYPE_INT ? value->integer : (int64_t)value->number;
        int rc = put_be(out, 0, 4);
        return rc ? rc : put_varint_int64(out, v);
    } else if (value->type == SL_TYPE_DOUBLE) {
        if (!isfinite(value->number)) return reject(err, value, type);
        sl_cql_codec_shortest_double(value->number, text);
        decimal = sl_str_from(text);
    } else if (value->type == SL_TYPE_STRING) {
        decimal = value->string;
    } else {
        return reject(err, value, type);
    }
    sl_str mantissa;
    bool is_negative;
    int32_t scale;
    if (!split_decimal(decimal, &mantissa, &is_negative, &scale))
        return not_a(err, decimal, "a decimal number");
    int rc = put_be(out, (uint32_t)scale, 4);
    return rc ? rc : put_varint_digits(out, mantissa, is_negative, err);
}

static int encode_float(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                        sl_error *err)
{
    double d;
    if (value->type == SL_TYPE_INT) d = (double)value->integer;
    else if (value->type == SL_TYPE_DOUBLE) d = value->number;
    else return reject(err, value, type);
    uint64_t bits;
    if (type->code == SL_CQL_DOUBLE) {
        memcpy(&bits, &d, sizeof bits);
        return put_be(out, bits, 8);
    }
    if (isfinite(d) && fabs(d) > FLT_MAX) return out_of_range(err, value, type);
    float f = (float)d;
    uint32_t bits32;
    memcpy(&bits32, &f, sizeof bits32);
    return put_be(out, bits32, 4);
}

static int encode_timestamp(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                            sl_error *err)
{
    int64_t ms, us;
    if (value->type == SL_TYPE_TIMESTAMP) {
        ms = floor_div(value->timestamp, 1000);
    } else if (value->type == SL_TYPE_INT) {
        ms = value->integer;
    } else if (value->type == SL_TYPE_STRING) {
        if (sl_time_parse_iso(value->string.ptr, value->string.len, &us))
            return not_a(err, value->string, "an ISO-8601 timestamp");
        ms = floor_div(us, 1000);
    } else {
        return reject(err, value, type);
    }
    return put_be(out, (uint64_t)ms, 8);
}

static int encode_date(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                       sl_error *err)
{
    int64_t days;
    if (value->type == SL_TYPE_STRING) {
        if (!parse_date(value->string, &days)) return not_a(err, value->string, "a date (YYYY-MM-DD)");
    } else if (value->type == SL_TYPE_INT) {
        days = value->integer;
    } else if (value->type == SL_TYPE_TIMESTAMP) {
        days = floor_div(value->timestamp, US_PER_DAY);
    } else {
        return reject(err, value, type);
    }
    if (days < -(int64_t)DATE_EPOCH || days > (int64_t)UINT32_MAX - (int64_t)DATE_EPOCH)
        return out_of_range(err, value, type);
    return put_be(out, (uint64_t)(days + (int64_t)DATE_EPOCH), 4);
}

static int encode_time(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                       sl_error *err)
{
    int64_t ns;
    if (value->type == SL_TYPE_STRING) {
        if (!parse_time(value->string, &ns))
            return not_a(err, value->string, "a time of day (HH:MM:SS[.fraction])");
    } else if (value->type == SL_TYPE_INT) {
        ns = value->integer;
        if (ns < 0 || ns >= NS_PER_DAY) return out_of_range(err, value, type);
    } else {
        return reject(err, value, type);
    }
    return put_be(out, (uint64_t)ns, 8);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool parse_uuid(sl_str text, uint8_t uuid[16])
{
    if (text.len != 36) return false;
    size_t n = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text.ptr[i] != '-') return false;
            continue;
        }
        int high = hex_digit(text.ptr[i]), low = hex_digit(text.ptr[i + 1]);
        if (high < 0 || low < 0) return false;
        uuid[n++] = (uint8_t)(high << 4 | low);
        i++;
    }
    return true;
}

static int encode_uuid(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                       sl_error *err)
{
    uint8_t uuid[16];
    const char *what = type->code == SL_CQL_TIMEUUID ? "a timeuuid" : "a uuid";
    if (value->type == SL_TYPE_STRING) {
        if (!parse_uuid(value->string, uuid)) return not_a(err, value->string, what);
    } else if (value->type == SL_TYPE_BYTES && value->string.len == 16) {
        memcpy(uuid, value->string.ptr, 16);
    } else {
        return reject(err, value, type);
    }
    if (type->code == SL_CQL_TIMEUUID && uuid[6] >> 4 != 1) {
        if (value->type == SL_TYPE_STRING)
            return not_a(err, value->string, "a version 1 (time-based) uuid, as timeuuid needs");
        return sl_error_set(err, SL_ETYPE, "16 bytes of version %d are not a timeuuid (version 1)",
                            uuid[6] >> 4);
    }
    return sl_buffer_append(out, uuid, 16);
}

static int encode_inet(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                       sl_error *err)
{
    if (value->type == SL_TYPE_BYTES && (value->string.len == 4 || value->string.len == 16))
        return sl_buffer_append(out, value->string.ptr, value->string.len);
    if (value->type != SL_TYPE_STRING) return reject(err, value, type);
    char text[64];
    uint8_t address[16];
    sl_str s = value->string;
    if (s.len >= sizeof text || memchr(s.ptr, '\0', s.len)) return not_a(err, s, "an IP address");
    memcpy(text, s.ptr, s.len);
    text[s.len] = '\0';
    bool is_v6 = memchr(s.ptr, ':', s.len) != NULL;
    if (inet_pton(is_v6 ? AF_INET6 : AF_INET, text, address) != 1)
        return not_a(err, s, "an IP address");
    return sl_buffer_append(out, address, is_v6 ? 16 : 4);
}

static int encode_content(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                          sl_error *err);

const sl_cql_type *sl_cql_codec_param(const sl_cql_type *type, size_t i)
{
    return i < type->n_params ? type->params[i] : NULL;
}

/* Appends one element of a collection as [bytes]; nulls are refused. */
static int encode_element(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                          sl_error *err)
{
    if (value->type == SL_TYPE_NULL)
        return sl_error_set(err, SL_ETYPE, "null is not allowed in a collection");
    return sl_cql_encode_value(type, value, out, err);
}

/* A map key (always text in an object) as the value the key type takes:
 * numbers and booleans are parsed from it, other types take the text. */
static int map_key_value(const sl_cql_type *key_type, sl_str key, sl_value *out, sl_error *err)
{
    char text[64];
    char *end;
    sl_cql_type_code code = key_type->code;
    bool is_integer = code == SL_CQL_TINYINT || code == SL_CQL_SMALLINT || code == SL_CQL_INT ||
                      code == SL_CQL_BIGINT || code == SL_CQL_COUNTER;
    bool is_float = code == SL_CQL_FLOAT || code == SL_CQL_DOUBLE;
    *out = sl_value_string(key);
    if (!is_integer && !is_float && code != SL_CQL_BOOLEAN) return SL_OK;
    if (code == SL_CQL_BOOLEAN) {
        if (sl_str_eq_cstr(key, "true") || sl_str_eq_cstr(key, "false")) {
            *out = sl_value_bool(key.len == 4);
            return SL_OK;
        }
        return not_a(err, key, "a boolean (true or false)");
    }
    /* Only plain number text: strtoll/strtod would also take spaces, "inf",
     * "nan" and hex. */
    bool is_ok = key.len > 0 && key.len < sizeof text;
    for (size_t i = 0; i < key.len && is_ok; i++)
        is_ok = key.ptr[i] != '\0' && strchr(is_integer ? "+-0123456789" : "+-0123456789.eE", key.ptr[i]) != NULL;
    if (is_ok) {
        memcpy(text, key.ptr, key.len);
        text[key.len] = '\0';
        errno = 0;
        if (is_integer) {
            long long v = strtoll(text, &end, 10);
            *out = sl_value_int(v);
        } else {
            double d = strtod(text, &end);
            *out = sl_value_double(d);
        }
        is_ok = *end == '\0' && errno == 0;
    }
    if (!is_ok) return not_a(err, key, is_integer ? "an integer" : "a number");
    return SL_OK;
}

static int encode_collection(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                             sl_error *err)
{
    const char *name = sl_cql_type_code_name(type->code);
    bool is_map = type->code == SL_CQL_MAP;
    const sl_cql_type *first = sl_cql_codec_param(type, 0), *second = sl_cql_codec_param(type, 1);
    if (!first || (is_map && !second))
        return sl_error_set(err, SL_ETYPE, "cql %s type has no element type", name);
    if (value->type != (is_map ? SL_TYPE_OBJECT : SL_TYPE_ARRAY)) return reject(err, value, type);
    size_t n = is_map ? value->object.n_members : value->array.n_items;
    if (n > INT32_MAX) return sl_error_set(err, SL_ETOOBIG, "%s of %zu elements", name, n);
    int rc = put_be(out, n, 4);
    for (size_t i = 0; i < n && !rc; i++) {
        if (!is_map) {
            rc = encode_element(first, &value->array.items[i], out, err);
            if (rc) sl_error_prefix(err, "%s element %zu: ", name, i);
            continue;
        }
        const sl_member *member = &value->object.members[i];
        char quoted[MAX_QUOTED + 8];
        sl_value key;
        rc = map_key_value(first, member->key, &key, err);
        if (!rc) rc = sl_cql_encode_value(first, &key, out, err);
        if (!rc) rc = encode_element(second, &member->value, out, err);
        if (rc) {
            quote(member->key, quoted, sizeof quoted);
            sl_error_prefix(err, "map key %s: ", quoted);
        }
    }
    return rc;
}

/* A signed vint as Cassandra's VIntCoding writes it: zigzag, then big-endian
 * bytes whose count is told by the first byte's leading 1 bits (one byte for
 * 0..127, nine with a first byte of 0xff). */
static int put_signed_vint(sl_buffer *out, int64_t value)
{
    uint64_t zigzag = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
    int significant_bits = 64 - __builtin_clzll(zigzag | 1);
    int size = significant_bits <= 7 ? 1 : significant_bits >= 57 ? 9 : (significant_bits - 1) / 7 + 1;
    uint8_t bytes[9];
    for (int i = size - 1; i >= 0; i--, zigzag >>= 8) bytes[i] = (uint8_t)zigzag;
    bytes[0] |= (uint8_t)~(0xffu >> (size - 1));
    return sl_buffer_append(out, bytes, (size_t)size);
}

/* duration: months, days and nanoseconds as three signed vints; an
 * interval maps field for field (µs × 1000), and text is read as an
 * interval. Cassandra wants the three of one sign: '1 mon -1 day' is
 * refused here, before the server would. */
static int encode_duration(const sl_cql_type *type, const sl_value *value, sl_buffer *out, sl_error *err)
{
    sl_interval_value interval;
    sl_error problem = { 0 };
    if (value->type == SL_TYPE_INTERVAL) {
        interval = value->interval;
    } else if (value->type != SL_TYPE_STRING) {
        return reject(err, value, type);
    } else if (sl_interval_parse(value->string.ptr, value->string.len, SL_INTERVAL_ALL_FIELDS, &interval, &problem)) {
        return not_a(err, value->string, "an interval ('1 day 02:00:00', 'P1DT2H')");
    }
    int64_t nanoseconds;
    bool has_positive = interval.months > 0 || interval.days > 0 || interval.micros > 0;
    bool has_negative = interval.months < 0 || interval.days < 0 || interval.micros < 0;
    if (has_positive && has_negative)
        return sl_error_set(err, SL_ETYPE, "cannot convert interval with fields of both signs to duration "
                            "(Cassandra's months, days and nanoseconds must share one sign)");
    if (__builtin_mul_overflow(interval.micros, 1000, &nanoseconds)) return out_of_range(err, value, type);
    int rc = put_signed_vint(out, interval.months);
    if (!rc) rc = put_signed_vint(out, interval.days);
    return rc ? rc : put_signed_vint(out, nanoseconds);
}

static int encode_content(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                          sl_error *err)
{
    int64_t v;
    int rc;
    switch (type->code) {
    case SL_CQL_ASCII:
    case SL_CQL_VARCHAR: return encode_text(type, value, out, err);
    case SL_CQL_TINYINT:
        rc = integer_of(type, value, INT8_MIN, INT8_MAX, &v, err);
        return rc ? rc : put_be(out, (uint64_t)v, 1);
    case SL_CQL_SMALLINT:
        rc = integer_of(type, value, INT16_MIN, INT16_MAX, &v, err);
        return rc ? rc : put_be(out, (uint64_t)v, 2);
    case SL_CQL_INT:
        rc = integer_of(type, value, INT32_MIN, INT32_MAX, &v, err);
        return rc ? rc : put_be(out, (uint64_t)v, 4);
    case SL_CQL_BIGINT:
    case SL_CQL_COUNTER:
        rc = integer_of(type, value, INT64_MIN, INT64_MAX, &v, err);
        return rc ? rc : put_be(out, (uint64_t)v, 8);
    case SL_CQL_VARINT: return encode_varint(type, value, out, err);
    case SL_CQL_DECIMAL: return encode_decimal(type, value, out, err);
    case SL_CQL_FLOAT:
    case SL_CQL_DOUBLE: return encode_float(type, value, out, err);
    case SL_CQL_BOOLEAN:
        if (value->type != SL_TYPE_BOOL) return reject(err, value, type);
        return put_be(out, value->boolean ? 1 : 0, 1);
    case SL_CQL_TIMESTAMP: return encode_timestamp(type, value, out, err);
    case SL_CQL_DATE: return encode_date(type, value, out, err);
    case SL_CQL_TIME: return encode_time(type, value, out, err);
    case SL_CQL_UUID:
    case SL_CQL_TIMEUUID: return encode_uuid(type, value, out, err);
    case SL_CQL_INET: return encode_inet(type, value, out, err);
    case SL_CQL_BLOB:
        if (value->type != SL_TYPE_BYTES && value->type != SL_TYPE_STRING)
            return reject(err, value, type);
        return sl_buffer_append(out, value->string.ptr, value->string.len);
    case SL_CQL_LIST:
    case SL_CQL_SET:
    case SL_CQL_MAP: return encode_collection(type, value, out, err);
    case SL_CQL_DURATION: return encode_duration(type, value, out, err);
    default:
        return sl_error_set(err, SL_ETYPE, "cql type %s is not supported", sl_cql_type_code_name(type->code));
    }
}

int sl_cql_encode_value(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                        sl_error *err)
{
    size_t start = out->len;
    if (value->type == SL_TYPE_NULL) return put_be(out, UINT32_MAX, 4);   /* -1 */
    int rc = put_be(out, 0, 4);
    if (!rc) rc = encode_content(type, value, out, err);
    size_t n = out->len - start - 4;
    if (!rc && n > INT32_MAX)
        rc = sl_error_set(err, SL_ETOOBIG, "%s value of %zu bytes is over the protocol's 2 GiB",
                          sl_cql_type_code_name(type->code), n);
    if (rc) {
        if (rc == SL_ENOMEM) sl_error_set(err, rc, "out of memory encoding a %s", sl_cql_type_code_name(type->code));
        out->len = start;
        return rc;
    }
    put_be32((uint8_t *)out->data + start, (uint32_t)n);
    return SL_OK;
}

int sl_cql_encode_unset(sl_buffer *out)
{
    return put_be(out, UINT32_MAX - 1, 4);   /* -2 */
}
