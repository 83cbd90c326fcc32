/* codec_decode.c — CQL [bytes] cells back to sluice values (see codec.h):
 * fixed-width types by their width, varint and decimal to exact text by
 * repeated division, collections element by element, every length checked
 * against the cell before it is read. */
#include "cql/codec.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/timefmt.h"
#include "cql/codec_internal.h"

/* ---- decoding ---- */

static int corrupt(sl_error *err, const sl_cql_type *type, int32_t len, const char *expected)
{
    return sl_error_set(err, SL_ECORRUPT, "corrupt %s value: %d bytes, expected %s",
                        sl_cql_type_code_name(type->code), (int)len, expected);
}

static int64_t get_signed(const uint8_t *bytes, int32_t len)
{
    uint64_t v = (bytes[0] & 0x80) ? UINT64_MAX : 0;
    for (int32_t i = 0; i < len; i++) v = (v << 8) | bytes[i];
    int64_t result;
    memcpy(&result, &v, sizeof result);
    return result;
}

/* The decimal digits (with a '-' first when negative) of a two's complement
 * big-endian integer of any length, NUL-terminated in arena. Each pass of
 * long division by 10^9 over the magnitude yields nine digits. */
static char *varint_text(const uint8_t *bytes, size_t len, sl_arena *arena)
{
    uint8_t *magnitude = sl_arena_alloc(arena, len);
    size_t size = len * 3 + 12;   /* 256^len < 10^(2.41 len), rounded up to whole passes */
    char *text = sl_arena_alloc(arena, size);
    if (!magnitude || !text) return NULL;
    bool is_negative = bytes[0] & 0x80;
    unsigned carry = 1;
    for (size_t i = len; i > 0; i--) {
        unsigned t = is_negative ? (uint8_t)~bytes[i - 1] + carry : bytes[i - 1];
        magnitude[i - 1] = (uint8_t)t;
        carry = t >> 8;
    }
    char *p = text + size;
    *--p = '\0';
    size_t first = 0;
    do {
        uint64_t remainder = 0;
        for (size_t i = first; i < len; i++) {
            uint64_t current = remainder << 8 | magnitude[i];
            magnitude[i] = (uint8_t)(current / 1000000000);
            remainder = current % 1000000000;
        }
        for (int i = 0; i < 9; i++, remainder /= 10) *--p = (char)('0' + remainder % 10);
        while (first < len && magnitude[first] == 0) first++;
    } while (first < len);
    while (p[0] == '0' && p[1] != '\0') p++;
    if (is_negative) *--p = '-';
    return p;
}

/* unscaled × 10^-scale as exact text, the way Java's BigDecimal.toString
 * writes it: plain when the scale is not negative and the number is not
 * tiny, else one digit, a point, the rest and "E±exponent". */
static char *decimal_text(const char *unscaled, int32_t scale, sl_arena *arena)
{
    bool is_negative = unscaled[0] == '-';
    const char *digits = unscaled + is_negative;
    int64_t n = (int64_t)strlen(digits), adjusted = n - 1 - (int64_t)scale;
    char *text = sl_arena_alloc(arena, (size_t)n + 32);
    if (!text) return NULL;
    char *p = text;
    if (is_negative) *p++ = '-';
    if (scale == 0) {
        memcpy(p, digits, (size_t)n);
        p += n;
    } else if (scale > 0 && adjusted >= -6) {
        if (n > scale) {
            memcpy(p, digits, (size_t)(n - scale));
            p += n - scale;
            *p++ = '.';
            memcpy(p, digits + n - scale, (size_t)scale);
            p += scale;
        } else {
            *p++ = '0';
            *p++ = '.';
            for (int64_t i = n; i < scale; i++) *p++ = '0';
            memcpy(p, digits, (size_t)n);
            p += n;
        }
    } else {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(n - 1));
            p += n - 1;
        }
        p += sprintf(p, "E%+" PRId64, adjusted);
    }
    *p = '\0';
    return text;
}

static int decode_varint(const uint8_t *bytes, int32_t len, sl_arena *arena, sl_value *out,
                         char **text)
{
    /* Redundant sign bytes do not change the value: drop them first. */
    while (len > 1 && ((bytes[0] == 0x00 && !(bytes[1] & 0x80)) ||
                       (bytes[0] == 0xFF && (bytes[1] & 0x80)))) {
        bytes++;
        len--;
    }
    if (out && len <= 8) {
        *out = sl_value_int(get_signed(bytes, len));
        return SL_OK;
    }
    *text = varint_text(bytes, (size_t)len, arena);
    if (!*text) return SL_ENOMEM;
    if (out) *out = sl_value_string(sl_str_from(*text));
    return SL_OK;
}

/* Text for a decoded map key of a non-text type. */
static int key_text(const sl_value *key, sl_arena *arena, sl_str *out)
{
    char text[SL_TIME_ISO_MAX + 32];
    size_t n = 0;
    int rc = SL_OK;
    sl_buffer json = SL_BUFFER_INIT;
    const char *source = text;
    switch (key->type) {
    case SL_TYPE_STRING: *out = key->string; return SL_OK;
    case SL_TYPE_INT: n = (size_t)snprintf(text, sizeof text, "%" PRId64, key->integer); break;
    case SL_TYPE_DOUBLE: sl_cql_codec_shortest_double(key->number, text); n = strlen(text); break;
    case SL_TYPE_BOOL: n = (size_t)snprintf(text, sizeof text, "%s", key->boolean ? "true" : "false"); break;
    case SL_TYPE_TIMESTAMP: n = sl_time_format_iso(key->timestamp, text); break;
    case SL_TYPE_BYTES:   /* as a CQL blob literal: 0x and hex */
        rc = sl_buffer_append(&json, "0x", 2);
        for (size_t i = 0; i < key->string.len && !rc; i++)
            rc = sl_buffer_printf(&json, "%02x", (unsigned char)key->string.ptr[i]);
        source = json.data;
        n = json.len;
        break;
    default:   /* frozen collections as JSON */
        rc = sl_json_write(&json, key);
        source = json.data;
        n = json.len;
        break;
    }
    char *copy = rc ? NULL : sl_arena_strndup(arena, source ? source : "", n);
    sl_buffer_free(&json);
    if (!copy) return SL_ENOMEM;
    *out = (sl_str){ copy, n };
    return SL_OK;
}

static int decode_collection(const sl_cql_type *type, const uint8_t *bytes, int32_t len,
                             sl_arena *arena, sl_value *out, sl_error *err)
{
    const char *name = sl_cql_type_code_name(type->code);
    bool is_map = type->code == SL_CQL_MAP;
    const sl_cql_type *first = sl_cql_codec_param(type, 0), *second = sl_cql_codec_param(type, 1);
    if (!first || (is_map && !second))
        return sl_error_set(err, SL_ETYPE, "cql %s type has no element type", name);
    if (len < 4) return corrupt(err, type, len, "at least 4");
    int32_t n = (int32_t)sl_cql_codec_get_be32(bytes);
    size_t pos = 4, per_item = is_map ? 8 : 4;
    if (n < 0 || (size_t)n > ((size_t)len - pos) / per_item)
        return sl_error_set(err, SL_ECORRUPT, "corrupt %s value: %d elements in %d bytes", name,
                            (int)n, (int)len);
    void *items = sl_arena_alloc(arena, (size_t)n * (is_map ? sizeof(sl_member) : sizeof(sl_value)));
    if (n && !items) return SL_ENOMEM;
    for (int32_t i = 0; i < n * (is_map ? 2 : 1); i++) {
        if ((size_t)len - pos < 4)
            return sl_error_set(err, SL_ECORRUPT, "corrupt %s value: truncated at element %d",
                                name, (int)(i / (is_map ? 2 : 1)));
        int32_t item_len = (int32_t)sl_cql_codec_get_be32(bytes + pos);
        pos += 4;
        if (item_len > 0 && (size_t)item_len > (size_t)len - pos)
            return sl_error_set(err, SL_ECORRUPT,
                                "corrupt %s value: element %d of %d bytes past the end", name,
                                (int)(i / (is_map ? 2 : 1)), (int)item_len);
        sl_value item;
        const sl_cql_type *item_type = is_map && i % 2 == 0 ? first : is_map ? second : first;
        int rc = sl_cql_decode_value(item_type, bytes + pos, item_len, arena, &item, err);
        if (rc) return rc;
        if (item_len > 0) pos += (size_t)item_len;
        if (!is_map) {
            ((sl_value *)items)[i] = item;
            continue;
        }
        sl_member *member = &((sl_member *)items)[i / 2];
        if (i % 2 == 1) {
            member->value = item;
        } else if (item.type == SL_TYPE_NULL) {
            return sl_error_set(err, SL_ECORRUPT, "corrupt map value: null key %d", (int)(i / 2));
        } else if ((rc = key_text(&item, arena, &member->key))) {
            return rc;
        }
    }
    if (pos != (size_t)len)
        return sl_error_set(err, SL_ECORRUPT, "corrupt %s value: %d bytes left over", name,
                            (int)((size_t)len - pos));
    out->type = is_map ? SL_TYPE_OBJECT : SL_TYPE_ARRAY;
    if (is_map) {
        out->object.members = items;
        out->object.n_members = (size_t)n;
    } else {
        out->array.items = items;
        out->array.n_items = (size_t)n;
    }
    return SL_OK;
}

static int decode_copy(const uint8_t *bytes, int32_t len, sl_type as, sl_arena *arena,
                       sl_value *out)
{
    char *copy = sl_arena_strndup(arena, (const char *)bytes, (size_t)len);
    if (!copy) return SL_ENOMEM;
    out->type = as;
    out->string = (sl_str){ copy, (size_t)len };
    return SL_OK;
}

/* Formats into a small text and copies it into arena as a STRING. */
static int decode_text(const char *text, size_t n, sl_arena *arena, sl_value *out)
{
    return sl_value_string_copy(arena, text, n, out);
}

int sl_cql_decode_value(const sl_cql_type *type, const uint8_t *bytes, int32_t len,
                        sl_arena *arena, sl_value *out, sl_error *err)
{
    char text[64];
    int n;
    *out = sl_value_null();
    if (len < 0) return SL_OK;
    if (type->code == SL_CQL_ASCII || type->code == SL_CQL_VARCHAR)
        return decode_copy(bytes, len, SL_TYPE_STRING, arena, out);
    if (type->code == SL_CQL_BLOB) return decode_copy(bytes, len, SL_TYPE_BYTES, arena, out);
    if (len == 0) return SL_OK;   /* an "empty" value (§6): no value */

    switch (type->code) {
    case SL_CQL_TINYINT:
    case SL_CQL_SMALLINT:
    case SL_CQL_INT:
    case SL_CQL_BIGINT:
    case SL_CQL_COUNTER: {
        int32_t width = type->code == SL_CQL_TINYINT ? 1 : type->code == SL_CQL_SMALLINT ? 2
                      : type->code == SL_CQL_INT     ? 4 : 8;
        if (len != width) return corrupt(err, type, len, width == 1 ? "1" : width == 2 ? "2" : width == 4 ? "4" : "8");
        *out = sl_value_int(get_signed(bytes, len));
        return SL_OK;
    }
    case SL_CQL_VARINT: {
        char *digits;
        return decode_varint(bytes, len, arena, out, &digits);
    }
    case SL_CQL_DECIMAL: {
        if (len < 5) return corrupt(err, type, len, "at least 5");
        char *unscaled, *decimal;
        int rc = decode_varint(bytes + 4, len - 4, arena, NULL, &unscaled);
        if (rc) return rc;
        decimal = decimal_text(unscaled, (int32_t)sl_cql_codec_get_be32(bytes), arena);
        if (!decimal) return SL_ENOMEM;
        *out = sl_value_string(sl_str_from(decimal));
        return SL_OK;
    }
    case SL_CQL_FLOAT: {
        if (len != 4) return corrupt(err, type, len, "4");
        uint32_t bits = sl_cql_codec_get_be32(bytes);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = sl_value_double(f);
        return SL_OK;
    }
    case SL_CQL_DOUBLE: {
        if (len != 8) return corrupt(err, type, len, "8");
        uint64_t bits = (uint64_t)get_signed(bytes, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        *out = sl_value_double(d);
        return SL_OK;
    }
    case SL_CQL_BOOLEAN:
        if (len != 1) return corrupt(err, type, len, "1");
        *out = sl_value_bool(bytes[0] != 0);
        return SL_OK;
    case SL_CQL_TIMESTAMP: {
        if (len != 8) return corrupt(err, type, len, "8");
        int64_t ms = get_signed(bytes, 8);
        if (ms > INT64_MAX / 1000 || ms < INT64_MIN / 1000)
            return sl_error_set(err, SL_ECORRUPT, "timestamp %" PRId64 " ms is out of range", ms);
        *out = sl_value_timestamp(ms * 1000);
        return SL_OK;
    }
    case SL_CQL_DATE: {
        if (len != 4) return corrupt(err, type, len, "4");
        int64_t year;
        int month, day;
        sl_civil_from_days((int64_t)sl_cql_codec_get_be32(bytes) - (int64_t)DATE_EPOCH, &year, &month, &day);
        n = snprintf(text, sizeof text, year < 0 ? "-%04" PRId64 "-%02d-%02d" : "%04" PRId64 "-%02d-%02d",
                     year < 0 ? -year : year, month, day);
        return decode_text(text, (size_t)n, arena, out);
    }
    case SL_CQL_TIME: {
        if (len != 8) return corrupt(err, type, len, "8");
        int64_t ns = get_signed(bytes, 8);
        if (ns < 0 || ns >= NS_PER_DAY)
            return sl_error_set(err, SL_ECORRUPT, "corrupt time value: %" PRId64 " ns is not a time of day", ns);
        int64_t seconds = ns / 1000000000;
        n = snprintf(text, sizeof text, "%02d:%02d:%02d.%09d", (int)(seconds / 3600),
                     (int)(seconds / 60 % 60), (int)(seconds % 60), (int)(ns % 1000000000));
        return decode_text(text, (size_t)n, arena, out);
    }
    case SL_CQL_UUID:
    case SL_CQL_TIMEUUID: {
        if (len != 16) return corrupt(err, type, len, "16");
        static const char hex[] = "0123456789abcdef";
        char *p = text;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
            *p++ = hex[bytes[i] >> 4];
            *p++ = hex[bytes[i] & 15];
        }
        return decode_text(text, 36, arena, out);
    }
    case SL_CQL_INET:
        if (len != 4 && len != 16) return corrupt(err, type, len, "4 or 16");
        if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text))
            return corrupt(err, type, len, "an address");
        return decode_text(text, strlen(text), arena, out);
    case SL_CQL_LIST:
    case SL_CQL_SET:
    case SL_CQL_MAP: return decode_collection(type, bytes, len, arena, out, err);
    default: return decode_copy(bytes, len, SL_TYPE_BYTES, arena, out);
    }
}
