/* json_write.c — the compact JSON writer of json.h.
 *
 * Strings are escaped with the short forms where JSON has them and \u00XX
 * for other control bytes; invalid UTF-8 is replaced by U+FFFD so the output
 * is always valid JSON. Plain strings (the common case) are copied eight
 * bytes per step while being checked. Doubles print with the fewest of 15,
 * 16 or 17 significant digits that read back exactly, always with a '.' or
 * an exponent so they read back as doubles; timestamps as ISO-8601 UTC
 * strings, bytes as base64.
 */
#include "core/json.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json_scan.h"
#include "core/interval.h"
#include "core/timefmt.h"

/* ---- writer ---- */

static inline int put_bytes(sl_buffer *out, const void *bytes, size_t n)
{
    if (out->capacity - out->len < n) {
        int rc = sl_buffer_reserve(out, n);
        if (rc) return rc;
    }
    memcpy(out->data + out->len, bytes, n);
    out->len += n;
    return SL_OK;
}

static inline int put_byte(sl_buffer *out, char byte)
{
    if (out->capacity == out->len) {
        int rc = sl_buffer_reserve(out, 1);
        if (rc) return rc;
    }
    out->data[out->len++] = byte;
    return SL_OK;
}

static int write_escape(sl_buffer *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char escape[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    switch (c) {
    case '"': return put_bytes(out, "\\\"", 2);
    case '\\': return put_bytes(out, "\\\\", 2);
    case '\b': return put_bytes(out, "\\b", 2);
    case '\f': return put_bytes(out, "\\f", 2);
    case '\n': return put_bytes(out, "\\n", 2);
    case '\r': return put_bytes(out, "\\r", 2);
    case '\t': return put_bytes(out, "\\t", 2);
    default: return put_bytes(out, escape, sizeof escape);
    }
}

/* The rest of a string from p on, where some byte needs escaping or UTF-8
 * checking; ends the literal with its closing quote. */
static int write_string_slow(sl_buffer *out, const unsigned char *p, const unsigned char *end)
{
    const unsigned char *run = p;   /* bytes from run to p go out unchanged */
    int rc;
    for (;;) {
        p = skip_plain(p, end);
        if (p == end) break;
        if (*p >= 0x80) {
            size_t n = sl__json_utf8_length(p, end);
            if (n) {
                p += n;
                continue;
            }
        }
        rc = put_bytes(out, run, (size_t)(p - run));
        if (!rc) rc = *p >= 0x80 ? put_bytes(out, "\xEF\xBF\xBD", 3) : write_escape(out, *p);
        if (rc) return rc;
        run = ++p;
    }
    rc = put_bytes(out, run, (size_t)(p - run));
    if (!rc) rc = put_byte(out, '"');
    return rc;
}

/* Most strings need no escaping: they are copied in one pass, eight bytes
 * per step, checking each word as it is copied; the first word that holds
 * a byte to escape or a non-ASCII byte hands over to the slow path. */
static int write_string(sl_buffer *out, const char *text, size_t len)
{
    if (len == 0) return put_bytes(out, "\"\"", 2);   /* text may then be NULL */
    if (out->capacity - out->len < len + 2) {
        int rc = sl_buffer_reserve(out, len + 2);
        if (rc) return rc;
    }
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    char *dst = out->data + out->len;
    *dst++ = '"';
    while (end - p >= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        if (word_special_bytes(word)) break;
        memcpy(dst, &word, sizeof word);
        dst += 8;
        p += 8;
    }
    while (p < end && string_class(*p) == CLASS_PLAIN) *dst++ = (char)*p++;
    out->len = (size_t)(dst - out->data);
    if (p < end) return write_string_slow(out, p, end);
    out->data[out->len++] = '"';   /* room reserved above */
    return SL_OK;
}

static int write_int(sl_buffer *out, int64_t value)
{
    char digits[24];
    char *p = digits + sizeof digits;
    uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) *--p = '-';
    return put_bytes(out, p, (size_t)(digits + sizeof digits - p));
}

/* The 17 significant digits of magnitude (correctly rounded by the C
 * library) and the power of ten of the first one, from one "%.16e". */
static int double_digits(double magnitude, char digits[17], int *exponent)
{
    char text[40];
    int n = snprintf(text, sizeof text, "%.16e", magnitude);   /* d.dddddddddddddddde+XX */
    if (n < 21 || text[1] != '.' || text[18] != 'e') return SL_EINVAL;
    digits[0] = text[0];
    memcpy(digits + 1, text + 2, 16);
    *exponent = atoi(text + 19);
    return SL_OK;
}

/* Rounds the 17 digits to `precision` (half up, or down when is_down,
 * carrying into *exponent) into out, drops trailing zeros, and returns how
 * many digits are left. */
static int round_digits(const char digits[17], int precision, bool is_down, char out[17],
                        int *exponent)
{
    memcpy(out, digits, (size_t)precision);
    if (precision < 17 && digits[precision] >= '5' && !is_down) {
        int i = precision - 1;
        while (i >= 0 && out[i] == '9') out[i--] = '0';
        if (i >= 0) {
            out[i]++;
        } else {
            out[0] = '1';   /* 99..9 became 100..0 */
            (*exponent)++;
        }
    }
    int n = precision;
    while (n > 1 && out[n - 1] == '0') n--;
    return n;
}

/* Writes n digits (the first at 10^exponent) the way "%.<precision>g"
 * does, except that fixed notation always has a fraction ("2.0"). */
static size_t format_digits(char *text, bool is_negative, const char *digits, int n,
                            int exponent, int precision)
{
    char *p = text;
    if (is_negative) *p++ = '-';
    if (exponent < -4 || exponent >= precision) {
        *p++ = digits[0];
        if (n > 1) *p++ = '.';
        memcpy(p, digits + 1, (size_t)n - 1);
        p += n - 1;
        *p++ = 'e';
        *p++ = exponent < 0 ? '-' : '+';
        int magnitude = exponent < 0 ? -exponent : exponent;
        if (magnitude >= 100) *p++ = (char)('0' + magnitude / 100);
        *p++ = (char)('0' + magnitude / 10 % 10);
        *p++ = (char)('0' + magnitude % 10);
    } else if (exponent < 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > exponent; i--) *p++ = '0';
        memcpy(p, digits, (size_t)n);
        p += n;
    } else {
        for (int i = 0; i <= exponent; i++) *p++ = i < n ? digits[i] : '0';
        *p++ = '.';
        if (n > exponent + 1) {
            memcpy(p, digits + exponent + 1, (size_t)(n - exponent - 1));
            p += n - exponent - 1;
        } else {
            *p++ = '0';
        }
    }
    *p = '\0';
    return (size_t)(p - text);
}

/* Doubles: the fewest of 15, 16 or 17 digits that read back as value. One
 * snprintf gives 17 digits; shorter candidates are rounded from them and
 * kept only if they read back exactly, so the output is always exact. The
 * 17 digits are themselves rounded, so a cut at a '5' may belong either way:
 * both ways are tried. */
static int write_double(sl_buffer *out, double value)
{
    /* JSON has no number for these: written as PostgreSQL's to_json writes
     * them, strings, so nothing turns into null. */
    if (isnan(value)) return put_bytes(out, "\"NaN\"", 5);
    if (isinf(value)) return value > 0 ? put_bytes(out, "\"Infinity\"", 10) : put_bytes(out, "\"-Infinity\"", 11);
    if (value >= -1e15 && value <= 1e15 && value == (double)(int64_t)value &&
        !(value == 0 && signbit(value))) {
        int rc = write_int(out, (int64_t)value);
        return rc ? rc : put_bytes(out, ".0", 2);
    }
    char all_digits[17], digits[17], text[48];
    int all_exponent;
    int rc = double_digits(fabs(value), all_digits, &all_exponent);
    if (rc) return rc;
    for (int attempt = 0;; attempt++) {
        int precision = 15 + attempt / 2, exponent = all_exponent;
        bool is_down = attempt % 2;
        if (is_down && all_digits[precision] != '5') continue;
        int n = round_digits(all_digits, precision, is_down, digits, &exponent);
        size_t len = format_digits(text, signbit(value), digits, n, exponent, precision);
        if (precision == 17) return put_bytes(out, text, len);
        uint64_t mantissa = 0;
        for (int i = 0; i < n; i++) mantissa = mantissa * 10 + (uint64_t)(digits[i] - '0');
        double back;
        if (!sl__json_decimal_to_double(mantissa, exponent - (n - 1), &back)) back = strtod(text, NULL);
        else if (signbit(value)) back = -back;
        if (back == value) return put_bytes(out, text, len);
    }
}

static int write_bytes(sl_buffer *out, sl_str bytes)
{
    size_t n = sl_base64_encoded_len(bytes.len);
    int rc = sl_buffer_reserve(out, n + 2);
    if (rc) return rc;
    out->data[out->len++] = '"';
    out->len += sl_base64_encode(bytes.ptr, bytes.len, out->data + out->len);
    out->data[out->len++] = '"';
    return SL_OK;
}

static int write_timestamp(sl_buffer *out, int64_t us)
{
    char text[SL_TIME_ISO_MAX + 2];
    text[0] = '"';
    size_t n = sl_time_format_iso(us, text + 1);
    text[n + 1] = '"';
    return put_bytes(out, text, n + 2);
}

/* An interval as PostgreSQL's text, a JSON string ("1 day 02:03:04"). */
static int write_interval(sl_buffer *out, sl_interval_value interval)
{
    char text[SL_INTERVAL_TEXT_MAX + 2];
    text[0] = '"';
    size_t n = sl_interval_format(interval, text + 1);
    text[n + 1] = '"';
    return put_bytes(out, text, n + 2);
}

static int write_value(sl_buffer *out, const sl_value *value)
{
    int rc = SL_OK;
    switch (value->type) {
    case SL_TYPE_NULL: return put_bytes(out, "null", 4);
    case SL_TYPE_BOOL: return value->boolean ? put_bytes(out, "true", 4) : put_bytes(out, "false", 5);
    case SL_TYPE_INT: return write_int(out, value->integer);
    case SL_TYPE_DOUBLE: return write_double(out, value->number);
    case SL_TYPE_STRING: return write_string(out, value->string.ptr, value->string.len);
    case SL_TYPE_BYTES: return write_bytes(out, value->string);
    case SL_TYPE_TIMESTAMP: return write_timestamp(out, value->timestamp);
    case SL_TYPE_INTERVAL: return write_interval(out, value->interval);
    case SL_TYPE_ARRAY:
        rc = put_byte(out, '[');
        for (size_t i = 0; !rc && i < value->array.n_items; i++) {
            if (i) rc = put_byte(out, ',');
            if (!rc) rc = write_value(out, &value->array.items[i]);
        }
        return rc ? rc : put_byte(out, ']');
    case SL_TYPE_OBJECT:
        rc = put_byte(out, '{');
        for (size_t i = 0; !rc && i < value->object.n_members; i++) {
            const sl_member *member = &value->object.members[i];
            if (i) rc = put_byte(out, ',');
            if (!rc) rc = write_string(out, member->key.ptr, member->key.len);
            if (!rc) rc = put_byte(out, ':');
            if (!rc) rc = write_value(out, &member->value);
        }
        return rc ? rc : put_byte(out, '}');
    }
    return SL_EINVAL;
}

int sl_json_write(sl_buffer *out, const sl_value *value)
{
    size_t saved_len = out->len;
    int rc = write_value(out, value);
    if (rc) out->len = saved_len;
    return rc;
}

int sl_json_write_string(sl_buffer *out, const char *text, size_t len)
{
    size_t saved_len = out->len;
    int rc = write_string(out, text, text ? len : 0);
    if (rc) out->len = saved_len;
    return rc;
}
