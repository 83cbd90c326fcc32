/* json.c — strict RFC 8259 JSON reader (see json.h).
 *
 * Why hand-written: the JSON libraries Debian packages (json-c, jansson,
 * yajl) malloc every node and copy every string, so they can neither build
 * values inside a batch's arena nor borrow strings from the input text, and
 * they are several times slower than this reader on our records.
 *
 * Reader. A recursive descent over the bytes, depth bounded by
 * SL_JSON_MAX_DEPTH. Strings are scanned eight bytes at a time for the only
 * bytes that need a look (quote, backslash, control, non-ASCII), the first
 * one found by counting trailing zero bits, and non-ASCII bytes are checked
 * as UTF-8 sequences on the spot; a string without escapes is returned as a
 * pointer into the input, one with escapes is decoded into the arena (its
 * decoded form is never longer than its source). The children of an array or
 * object are collected on a scratch stack shared by all levels (on the C
 * stack first, malloc'ed if it outgrows that, freed before return) and copied
 * to the arena once their count is known, so the arena holds no waste.
 * Integers that fit int64 are SL_TYPE_INT; every other number is a double,
 * computed exactly when mantissa and power of ten are both exact doubles
 * (Clinger's fast path) and by strtod on a bounded copy otherwise. Errors
 * name the first bad byte as "line L column C (byte B)": lines count '\n',
 * columns count bytes from 1, B is the 0-based offset. Duplicate keys are
 * kept in order (RFC 8259 §4 leaves them open); sl_value_get finds the first.
 *
 * The writer is in json_write.c.
 *
 * strtod and snprintf follow the C locale's decimal point; sluice never calls
 * setlocale, so that is '.'.
 */
#include "core/json.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 when it is
 * invalid: bad lead byte, missing continuation, overlong form, a surrogate
 * code point or one above U+10FFFF (RFC 3629 §4). */
size_t sl__json_utf8_length(const unsigned char *p, const unsigned char *end)
{
    size_t available = (size_t)(end - p);
    unsigned char lead = p[0];
    if (lead >= 0xC2 && lead <= 0xDF)
        return available >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
        unsigned char high = lead == 0xED ? 0x9F : 0xBF;
        if (available < 3 || p[1] < low || p[1] > high || (p[2] & 0xC0) != 0x80) return 0;
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
        unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
        if (available < 4 || p[1] < low || p[1] > high || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* ---- reader ---- */

typedef struct json_parser {
    const char *start;
    const char *end;
    const char *cur;
    sl_arena *arena;
    sl_error *err;
    sl_value *items;       /* scratch stack of array elements being built */
    size_t n_items;
    size_t items_capacity;
    bool items_on_heap;
    sl_member *members;    /* scratch stack of object members being built */
    size_t n_members;
    size_t members_capacity;
    bool members_on_heap;
} json_parser;

/* Fails with SL_EPARSE at byte `at`, prefixing the message with where. */
__attribute__((format(printf, 3, 4)))
static int parse_fail(json_parser *parser, const char *at, const char *format, ...)
{
    size_t line = 1;
    const char *line_start = parser->start;
    for (const char *p = parser->start; p < at; p++) {
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        }
    }
    char what[256];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    return sl_error_set(parser->err, SL_EPARSE, "line %zu column %zu (byte %zu): %s", line,
                        (size_t)(at - line_start) + 1, (size_t)(at - parser->start), what);
}

/* "expected X", or "unexpected end of input: expected X" at the end. */
static int parse_fail_expected(json_parser *parser, const char *what)
{
    if (parser->cur >= parser->end)
        return parse_fail(parser, parser->cur, "unexpected end of input: expected %s", what);
    return parse_fail(parser, parser->cur, "expected %s", what);
}

static int parse_fail_memory(json_parser *parser)
{
    return sl_error_set(parser->err, SL_ENOMEM, "out of memory parsing JSON");
}

static inline void skip_whitespace(json_parser *parser)
{
    const char *p = parser->cur;
    while (p < parser->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    parser->cur = p;
}

/* A scratch array twice as long as `capacity` elements holding the first
 * `capacity` of data; frees data if it was on the heap. NULL when out of
 * memory (data is then left alone). */
static void *scratch_grow(void *data, size_t capacity, bool is_on_heap, size_t element_size)
{
    if (capacity > SIZE_MAX / 2 / element_size) return NULL;
    if (is_on_heap) return realloc(data, capacity * 2 * element_size);
    void *grown = malloc(capacity * 2 * element_size);
    if (grown) memcpy(grown, data, capacity * element_size);
    return grown;
}

/* Appends an uninitialised slot to the items stack (is_member false) or the
 * members stack, so values are parsed in place instead of copied there. */
static int push_slot(json_parser *parser, bool is_member)
{
    if (!is_member && parser->n_items == parser->items_capacity) {
        sl_value *grown = scratch_grow(parser->items, parser->items_capacity,
                                       parser->items_on_heap, sizeof *grown);
        if (!grown) return parse_fail_memory(parser);
        parser->items = grown;
        parser->items_capacity *= 2;
        parser->items_on_heap = true;
    }
    if (is_member && parser->n_members == parser->members_capacity) {
        sl_member *grown = scratch_grow(parser->members, parser->members_capacity,
                                        parser->members_on_heap, sizeof *grown);
        if (!grown) return parse_fail_memory(parser);
        parser->members = grown;
        parser->members_capacity *= 2;
        parser->members_on_heap = true;
    }
    if (is_member)
        parser->n_members++;
    else
        parser->n_items++;
    return SL_OK;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The code unit of the "\uXXXX" at p (before end), or -1. */
static long read_unicode_escape(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
    long code = 0;
    for (int i = 2; i < 6; i++) {
        int digit = hex_digit((unsigned char)p[i]);
        if (digit < 0) return -1;
        code = code * 16 + digit;
    }
    return code;
}

static char *put_utf8(char *out, unsigned long code)
{
    if (code < 0x80) {
        *out++ = (char)code;
    } else if (code < 0x800) {
        *out++ = (char)(0xC0 | code >> 6);
        *out++ = (char)(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *out++ = (char)(0xE0 | code >> 12);
        *out++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *out++ = (char)(0x80 | (code & 0x3F));
    } else {
        *out++ = (char)(0xF0 | code >> 18);
        *out++ = (char)(0x80 | ((code >> 12) & 0x3F));
        *out++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *out++ = (char)(0x80 | (code & 0x3F));
    }
    return out;
}

/* Decodes the escapes of body[0..len) (already scanned: every byte is legal
 * and every backslash is followed by one of "\/bfnrtu) into the arena. */
static int decode_string(json_parser *parser, const char *body, size_t len, sl_str *out)
{
    char *decoded = sl_arena_alloc(parser->arena, len);
    if (!decoded) return parse_fail_memory(parser);
    const char *p = body, *end = body + len;
    char *q = decoded;
    while (p < end) {
        const char *backslash = memchr(p, '\\', (size_t)(end - p));
        if (!backslash) backslash = end;
        memcpy(q, p, (size_t)(backslash - p));
        q += backslash - p;
        p = backslash;
        if (p == end) break;
        switch (p[1]) {
        case '"': *q++ = '"'; break;
        case '\\': *q++ = '\\'; break;
        case '/': *q++ = '/'; break;
        case 'b': *q++ = '\b'; break;
        case 'f': *q++ = '\f'; break;
        case 'n': *q++ = '\n'; break;
        case 'r': *q++ = '\r'; break;
        case 't': *q++ = '\t'; break;
        default: { /* 'u', checked by the scan */
            long code = read_unicode_escape(p, end);
            if (code < 0) return parse_fail(parser, p, "invalid \\u escape: expected 4 hex digits");
            if (code >= 0xDC00 && code <= 0xDFFF)
                return parse_fail(parser, p, "invalid \\u escape: lone low surrogate \\u%04lX", code);
            if (code >= 0xD800 && code <= 0xDBFF) {
                long low = read_unicode_escape(p + 6, end);
                if (low < 0xDC00 || low > 0xDFFF)
                    return parse_fail(parser, p,
                                      "invalid \\u escape: high surrogate \\u%04lX not followed by a low one",
                                      code);
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            }
            q = put_utf8(q, (unsigned long)code);
            p += 4;
        }
        }
        p += 2;
    }
    out->ptr = decoded;
    out->len = (size_t)(q - decoded);
    return SL_OK;
}

/* Parses the string whose opening quote is at parser->cur. */
static int parse_string(json_parser *parser, sl_str *out)
{
    const char *open = parser->cur;
    const unsigned char *p = (const unsigned char *)open + 1;
    const unsigned char *end = (const unsigned char *)parser->end;
    bool has_escape = false;
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end) return parse_fail(parser, open, "unterminated string");
        if (*p == '"') {   /* the common case, tested first */
            const char *body = open + 1;
            size_t len = (size_t)((const char *)p - body);
            parser->cur = (const char *)p + 1;
            if (!has_escape) {
                out->ptr = body;
                out->len = len;
                return SL_OK;
            }
            return decode_string(parser, body, len, out);
        }
        switch (string_class(*p)) {
        case CLASS_BACKSLASH:
            if (end - p < 2) return parse_fail(parser, open, "unterminated string");
            if (!memchr("\"\\/bfnrtu", p[1], 9) || p[1] == '\0')
                return parse_fail(parser, (const char *)p, "invalid escape in string");
            has_escape = true;
            p += 2;
            break;
        case CLASS_CONTROL:
            return parse_fail(parser, (const char *)p,
                              "control character 0x%02X in string (must be escaped)", *p);
        default: { /* CLASS_HIGH */
            size_t n = sl__json_utf8_length(p, end);
            if (!n) return parse_fail(parser, (const char *)p, "invalid UTF-8 in string");
            p += n;
        }
        }
    }
}

/* Exact powers of ten as doubles (10^22 is the last one). */
static const double exact_powers_of_ten[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Sets *out to mantissa * 10^exponent, correctly rounded, when both are
 * exact doubles, so the one rounding of * or / is the right one (Clinger's
 * fast path); false when the caller must use strtod. */
bool sl__json_decimal_to_double(uint64_t mantissa, long exponent, double *out)
{
#if FLT_EVAL_METHOD == 0
    if (mantissa > (UINT64_C(1) << 53) || exponent < -22 || exponent > 22) return false;
    double number = (double)mantissa;
    if (exponent < 0)
        number /= exact_powers_of_ten[-exponent];
    else
        number *= exact_powers_of_ten[exponent];
    *out = number;
    return true;
#else
    return false;
#endif
}

/* strtod on a NUL-terminated copy of text[0..len) (a checked JSON number). */
static int number_by_strtod(json_parser *parser, const char *text, size_t len, double *out)
{
    char local[64];
    char *copy = len < sizeof local ? local : malloc(len + 1);
    if (!copy) return parse_fail_memory(parser);
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    if (copy != local) free(copy);
    if (isinf(*out)) return parse_fail(parser, text, "number out of range of a double");
    return SL_OK;
}

static inline bool is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static int parse_number(json_parser *parser, sl_value *out)
{
    const char *start = parser->cur, *end = parser->end, *p = start;
    bool is_negative = false, is_integer = true, is_truncated = false;
    uint64_t mantissa = 0;     /* the first 19 significant digits */
    int n_significant = 0;
    long exponent = 0;         /* the value is mantissa * 10^exponent */

    if (*p == '-') {
        is_negative = true;
        p++;
        if (p < end && (*p == 'I' || *p == 'i'))
            return parse_fail(parser, start, "NaN and Infinity are not valid JSON");
    }
    if (!is_digit(p, end)) return parse_fail(parser, p, "expected a digit after '-'");
    if (*p == '0') {
        p++;
        if (is_digit(p, end)) return parse_fail(parser, p - 1, "leading zeros are not allowed");
    } else {
        for (; is_digit(p, end); p++) {
            if (n_significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                n_significant++;
            } else {
                is_truncated = true;
                exponent++;
            }
        }
    }
    if (p < end && *p == '.') {
        is_integer = false;
        p++;
        if (!is_digit(p, end)) return parse_fail(parser, p, "expected a digit after '.'");
        for (; is_digit(p, end); p++) {
            if (mantissa == 0 && *p == '0') {
                exponent--;
            } else if (n_significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                n_significant++;
                exponent--;
            } else {
                is_truncated = true;
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_integer = false;
        p++;
        bool is_negative_exponent = false;
        if (p < end && (*p == '+' || *p == '-')) is_negative_exponent = *p++ == '-';
        if (!is_digit(p, end)) return parse_fail(parser, p, "expected a digit in the exponent");
        long written = 0;
        for (; is_digit(p, end); p++)
            if (written < 100000) written = written * 10 + (*p - '0');
        exponent += is_negative_exponent ? -written : written;
    }
    parser->cur = p;

    if (is_integer && !is_truncated) {
        if (!is_negative && mantissa <= (uint64_t)INT64_MAX) {
            *out = sl_value_int((int64_t)mantissa);
            return SL_OK;
        }
        if (is_negative && mantissa <= (uint64_t)INT64_MAX + 1) {
            *out = sl_value_int(mantissa == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mantissa);
            return SL_OK;
        }
    }
    double number = 0;
    if (!is_truncated && sl__json_decimal_to_double(mantissa, exponent, &number)) {
        *out = sl_value_double(is_negative ? -number : number);
        return SL_OK;
    }
    int rc = number_by_strtod(parser, start, (size_t)(p - start), &number);
    if (rc) return rc;
    *out = sl_value_double(number);
    return SL_OK;
}

static int parse_value(json_parser *parser, sl_value *out, int depth, const sl_json_projection *projection);

/* Marks values that are checked but not kept (keys a projection leaves out). */
static const sl_json_projection skip_value = { 0, NULL, NULL };

/* What to keep of the member named key under projection: NULL = all of it,
 * &skip_value = nothing, else the child projection. */
static const sl_json_projection *member_projection(const sl_json_projection *projection, sl_str key)
{
    if (!projection) return NULL;
    if (projection == &skip_value) return &skip_value;
    for (size_t i = 0; i < projection->n_keys; i++)
        if (sl_str_eq(projection->keys[i], key)) return projection->children[i];
    return &skip_value;
}

/* Parses the next value into slot `index` of a scratch stack. A scalar is
 * written there directly; an array or object pushes its own children, which
 * may move the stack, so it is parsed aside and stored when done. (Writing in
 * place also spares the store-to-load stall of copying a fresh 24-byte value,
 * which cost a sixth of the parse time.) */
static int parse_into_slot(json_parser *parser, bool is_member, size_t index, int depth,
                           const sl_json_projection *projection)
{
    skip_whitespace(parser);
    if (parser->cur < parser->end && (*parser->cur == '{' || *parser->cur == '[')) {
        sl_value nested;
        int rc = parse_value(parser, &nested, depth, projection);
        if (rc) return rc;
        if (is_member)
            parser->members[index].value = nested;
        else
            parser->items[index] = nested;
        return SL_OK;
    }
    return parse_value(parser, is_member ? &parser->members[index].value : &parser->items[index],
                       depth, projection);
}

/* An array is kept whole unless it is skipped: projections name object
 * members only. */
static int parse_array(json_parser *parser, sl_value *out, int depth, const sl_json_projection *projection)
{
    bool is_skipped = projection == &skip_value;
    if (depth > SL_JSON_MAX_DEPTH)
        return parse_fail(parser, parser->cur, "nesting deeper than %d arrays and objects",
                          SL_JSON_MAX_DEPTH);
    size_t base = parser->n_items;
    parser->cur++;
    skip_whitespace(parser);
    if (parser->cur < parser->end && *parser->cur == ']') {
        parser->cur++;
    } else {
        for (;;) {
            int rc;
            if (is_skipped) {
                sl_value ignored;
                rc = parse_value(parser, &ignored, depth, &skip_value);
            } else {
                rc = push_slot(parser, false);
                if (!rc) rc = parse_into_slot(parser, false, parser->n_items - 1, depth, NULL);
            }
            if (rc) return rc;
            skip_whitespace(parser);
            if (parser->cur < parser->end && *parser->cur == ',') {
                parser->cur++;
                skip_whitespace(parser);
                if (parser->cur < parser->end && *parser->cur == ']')
                    return parse_fail(parser, parser->cur, "trailing comma before ']'");
            } else if (parser->cur < parser->end && *parser->cur == ']') {
                parser->cur++;
                break;
            } else {
                return parse_fail_expected(parser, "',' or ']' after array element");
            }
        }
    }
    size_t n = parser->n_items - base;
    sl_value *items = NULL;
    if (n) {
        items = sl_arena_alloc(parser->arena, n * sizeof *items);
        if (!items) return parse_fail_memory(parser);
        memcpy(items, parser->items + base, n * sizeof *items);
    }
    parser->n_items = base;
    out->type = SL_TYPE_ARRAY;
    out->array.items = items;
    out->array.n_items = n;
    return SL_OK;
}

static int parse_object(json_parser *parser, sl_value *out, int depth, const sl_json_projection *projection)
{
    if (depth > SL_JSON_MAX_DEPTH)
        return parse_fail(parser, parser->cur, "nesting deeper than %d arrays and objects",
                          SL_JSON_MAX_DEPTH);
    size_t base = parser->n_members;
    parser->cur++;
    skip_whitespace(parser);
    if (parser->cur < parser->end && *parser->cur == '}') {
        parser->cur++;
    } else {
        if (parser->cur >= parser->end || *parser->cur != '"')
            return parse_fail_expected(parser, "string key or '}'");
        for (;;) {
            sl_str key;
            int rc = parse_string(parser, &key);
            if (rc) return rc;
            skip_whitespace(parser);
            if (parser->cur >= parser->end || *parser->cur != ':')
                return parse_fail_expected(parser, "':' after object key");
            parser->cur++;
            const sl_json_projection *child = member_projection(projection, key);
            if (child == &skip_value) {
                sl_value ignored;
                rc = parse_value(parser, &ignored, depth, &skip_value);
            } else {
                rc = push_slot(parser, true);
                if (!rc) {
                    parser->members[parser->n_members - 1].key = key;
                    rc = parse_into_slot(parser, true, parser->n_members - 1, depth, child);
                }
            }
            if (rc) return rc;
            skip_whitespace(parser);
            if (parser->cur < parser->end && *parser->cur == ',') {
                parser->cur++;
                skip_whitespace(parser);
                if (parser->cur < parser->end && *parser->cur == '"') continue;
                if (parser->cur < parser->end && *parser->cur == '}')
                    return parse_fail(parser, parser->cur, "trailing comma before '}'");
                return parse_fail_expected(parser, "string key after ','");
            }
            if (parser->cur < parser->end && *parser->cur == '}') {
                parser->cur++;
                break;
            }
            return parse_fail_expected(parser, "',' or '}' after object member");
        }
    }
    size_t n = parser->n_members - base;
    sl_member *members = NULL;
    if (n) {
        members = sl_arena_alloc(parser->arena, n * sizeof *members);
        if (!members) return parse_fail_memory(parser);
        memcpy(members, parser->members + base, n * sizeof *members);
    }
    parser->n_members = base;
    out->type = SL_TYPE_OBJECT;
    out->object.members = members;
    out->object.n_members = n;
    return SL_OK;
}

/* Matches the literal word (true/false/null) at parser->cur. */
static int parse_literal(json_parser *parser, const char *word, size_t len, sl_value value,
                         sl_value *out)
{
    if ((size_t)(parser->end - parser->cur) < len || memcmp(parser->cur, word, len) != 0)
        return parse_fail(parser, parser->cur, "invalid literal (expected true, false or null)");
    parser->cur += len;
    *out = value;
    return SL_OK;
}

static int parse_value(json_parser *parser, sl_value *out, int depth, const sl_json_projection *projection)
{
    skip_whitespace(parser);
    if (parser->cur >= parser->end) return parse_fail_expected(parser, "a JSON value");
    unsigned char c = (unsigned char)*parser->cur;
    if (c == '"') {   /* the common case, tested before the jump table */
        out->type = SL_TYPE_STRING;
        return parse_string(parser, &out->string);
    }
    switch (c) {
    case '{': return parse_object(parser, out, depth + 1, projection);
    case '[': return parse_array(parser, out, depth + 1, projection);
    case 't': return parse_literal(parser, "true", 4, sl_value_bool(true), out);
    case 'f': return parse_literal(parser, "false", 5, sl_value_bool(false), out);
    case 'n': return parse_literal(parser, "null", 4, sl_value_null(), out);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(parser, out);
    case 'N': case 'I':
        return parse_fail(parser, parser->cur, "NaN and Infinity are not valid JSON");
    default:
        if (c >= 0x21 && c < 0x7F)
            return parse_fail(parser, parser->cur, "unexpected '%c': expected a JSON value", c);
        return parse_fail(parser, parser->cur, "unexpected byte 0x%02X: expected a JSON value", c);
    }
}

int sl_json_parse(sl_arena *arena, const char *text, size_t len, sl_value *out, sl_error *err)
{
    return sl_json_parse_projected(arena, text, len, NULL, out, err);
}

int sl_json_parse_projected(sl_arena *arena, const char *text, size_t len,
                            const sl_json_projection *projection, sl_value *out, sl_error *err)
{
    sl_value local_items[64];
    sl_member local_members[64];
    json_parser parser = {
        .start = text ? text : "",
        .arena = arena,
        .err = err,
        .items = local_items,
        .items_capacity = sizeof local_items / sizeof local_items[0],
        .members = local_members,
        .members_capacity = sizeof local_members / sizeof local_members[0],
    };
    parser.cur = parser.start;
    parser.end = parser.start + (text ? len : 0);

    sl_value value;
    int rc = parse_value(&parser, &value, 0, projection);
    if (rc) goto done;
    skip_whitespace(&parser);
    if (parser.cur < parser.end)
        rc = parse_fail(&parser, parser.cur, "unexpected data after the JSON value");
done:
    if (parser.items_on_heap) free(parser.items);
    if (parser.members_on_heap) free(parser.members);
    *out = rc ? sl_value_null() : value;
    return rc;
}

