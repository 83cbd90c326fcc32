/* json_test.c — the strict JSON reader and compact writer: round trips,
 * numbers at the edges, unicode escapes, borrowed versus decoded strings,
 * every kind of malformed input with its line/column, the depth limit and
 * the writer's escaping (run plain and under ASan+UBSan). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/json.h"
#include "core/key_text.h"
#include "test_util.h"

static sl_arena *arena;

static void setup(void)
{
    arena = sl_arena_new(0);
    cr_assert_not_null(arena);
}

static void teardown(void)
{
    sl_arena_free(arena);
}

TestSuite(json, .init = setup, .fini = teardown);

/* The error message for text, which must be rejected with SL_EPARSE. */
static const char *parse_error(const char *text, size_t len)
{
    static sl_error err;
    sl_value value = sl_value_int(7);
    sl_error_clear(&err);
    int rc = sl_json_parse(arena, text, len, &value, &err);
    cr_assert_eq(rc, SL_EPARSE, "expected %.*s to be rejected, got %d", (int)len, text, rc);
    cr_assert_eq(err.code, SL_EPARSE);
    cr_assert_eq(value.type, SL_TYPE_NULL, "a failed parse leaves a null value");
    return err.message;
}

/* Writes value into a fresh NUL-terminated string owned by the arena. */
static const char *write_text(const sl_value *value)
{
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_json_write(&out, value), SL_OK);
    char *copy = sl_arena_strndup(arena, out.data ? out.data : "", out.len);
    sl_buffer_free(&out);
    return copy;
}

static const char *rewrite(const char *text)
{
    sl_value value = test_parse_json(arena, text);
    return write_text(&value);
}

static sl_value field(const sl_value *object, const char *key)
{
    const sl_value *found = sl_value_get(object, sl_str_from(key));
    cr_assert_not_null(found, "no member %s", key);
    return *found;
}

Test(json, parses_a_nested_record_into_typed_values)
{
    sl_value v = test_parse_json(arena, " {\"name\": {\"first\": \"Ann\", \"last\": \"Lee\"},\n"
                          "  \"age\": 42, \"score\": 9.5, \"ok\": true, \"no\": false,\n"
                          "  \"gone\": null, \"tags\": [\"a\", 1, [], {}]} \n");
    cr_assert_eq(v.type, SL_TYPE_OBJECT);
    cr_assert_eq(v.object.n_members, 7);
    cr_assert(sl_str_eq_cstr(v.object.members[0].key, "name"), "keys keep their order");
    sl_str path[] = { SL_STR_LIT("name"), SL_STR_LIT("last") };
    const sl_value *last = sl_value_get_path(&v, path, 2);
    cr_assert(last && sl_str_eq_cstr(last->string, "Lee"));
    cr_assert_eq(field(&v, "age").type, SL_TYPE_INT);
    cr_assert_eq(field(&v, "age").integer, 42);
    cr_assert_eq(field(&v, "score").type, SL_TYPE_DOUBLE);
    cr_assert_eq(field(&v, "score").number, 9.5);
    cr_assert(field(&v, "ok").boolean);
    cr_assert_eq(field(&v, "no").type, SL_TYPE_BOOL);
    cr_assert_not(field(&v, "no").boolean);
    cr_assert_eq(field(&v, "gone").type, SL_TYPE_NULL);
    sl_value tags = field(&v, "tags");
    cr_assert_eq(tags.type, SL_TYPE_ARRAY);
    cr_assert_eq(tags.array.n_items, 4);
    cr_assert_eq(tags.array.items[2].type, SL_TYPE_ARRAY);
    cr_assert_eq(tags.array.items[2].array.n_items, 0);
    cr_assert_eq(tags.array.items[3].type, SL_TYPE_OBJECT);
    cr_assert_eq(tags.array.items[3].object.n_members, 0);
}

Test(json, round_trips_through_compact_output)
{
    static const char *const docs[] = {
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\",\"f\":-2.5}}",
        "[]",
        "{}",
        "[[[[]]],{\"\":\"\"}]",
        "\"plain\"",
        "\"tab\\there \\\"quoted\\\" back\\\\slash\\nline\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "-9223372036854775808",
        "[0.1,1.0e+100,-0.0,123.456,1e-07]",
        "{\"dup\":1,\"dup\":2}",
    };
    static const char *const expected[] = {
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\",\"f\":-2.5}}",
        "[]",
        "{}",
        "[[[[]]],{\"\":\"\"}]",
        "\"plain\"",
        "\"tab\\there \\\"quoted\\\" back\\\\slash\\nline\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "-9223372036854775808",
        "[0.1,1e+100,-0.0,123.456,1e-07]",
        "{\"dup\":1,\"dup\":2}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        const char *once = rewrite(docs[i]);
        cr_assert_str_eq(once, expected[i]);
        cr_assert_str_eq(rewrite(once), once, "writing is stable for %s", docs[i]);
        sl_value a = test_parse_json(arena, docs[i]), b = test_parse_json(arena, once);
        cr_assert(sl_value_equal(&a, &b), "same value after a round trip: %s", docs[i]);
    }
}

Test(json, accepts_whitespace_everywhere_rfc_allows_it)
{
    sl_value v = test_parse_json(arena, "\t\r\n [ 1 ,\n\t2 , { \"k\" \r\n : \"v\" } ] \n\r\t");
    cr_assert_str_eq(write_text(&v), "[1,2,{\"k\":\"v\"}]");
}

Test(json, integers_at_the_int64_edges)
{
    sl_value v = test_parse_json(arena, "9223372036854775807");
    cr_assert_eq(v.type, SL_TYPE_INT);
    cr_assert_eq(v.integer, INT64_MAX);
    v = test_parse_json(arena, "-9223372036854775808");
    cr_assert_eq(v.type, SL_TYPE_INT);
    cr_assert_eq(v.integer, INT64_MIN);
    v = test_parse_json(arena, "-0");
    cr_assert_eq(v.type, SL_TYPE_INT);
    cr_assert_eq(v.integer, 0);
    v = test_parse_json(arena, "9223372036854775808");
    cr_assert_eq(v.type, SL_TYPE_DOUBLE, "one past INT64_MAX becomes a double");
    cr_assert_eq(v.number, 9223372036854775808.0);
    v = test_parse_json(arena, "-9223372036854775809");
    cr_assert_eq(v.type, SL_TYPE_DOUBLE);
    cr_assert_eq(v.number, -9223372036854775809.0);
    v = test_parse_json(arena, "123456789012345678901234567890");
    cr_assert_eq(v.type, SL_TYPE_DOUBLE);
    cr_assert_eq(v.number, 123456789012345678901234567890.0);
    v = test_parse_json(arena, "10000000000000000000");
    cr_assert_eq(v.type, SL_TYPE_DOUBLE);
    cr_assert_eq(v.number, 1e19);
    cr_assert_str_eq(rewrite("[9223372036854775807,-9223372036854775808,0,-1,10]"),
                     "[9223372036854775807,-9223372036854775808,0,-1,10]");
}

Test(json, doubles_at_the_edges_read_exactly)
{
    static const char *const texts[] = {
        "1e308", "1.7976931348623157e308", "5e-324", "4.9406564584124654e-324",
        "2.2250738585072014e-308", "2.2250738585072011e-308", "0.1", "0.30000000000000004",
        "1E2", "1e+2", "1.5E-2", "123456789012345678e-5", "9007199254740993.0",
        "0.000000000000000000000000000001", "1e22", "1e23", "8.98846567431158e307",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "-2.5e-3", "3.14159265358979323846264338327950288",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sl_value v = test_parse_json(arena, texts[i]);
        cr_assert_eq(v.type, SL_TYPE_DOUBLE, "%s", texts[i]);
        double expected = strtod(texts[i], NULL);
        cr_assert(memcmp(&v.number, &expected, sizeof expected) == 0, "%s read as %.17g, not %.17g",
                  texts[i], v.number, expected);
    }
    sl_value zero = test_parse_json(arena, "-0.0");
    cr_assert_eq(zero.type, SL_TYPE_DOUBLE);
    cr_assert(zero.number == 0 && signbit(zero.number), "-0.0 keeps its sign");
    cr_assert(test_parse_json(arena, "5e-324").number > 0, "the smallest subnormal is not flushed to zero");
    cr_assert(test_parse_json(arena, "1e-400").number == 0, "underflow reads as zero");
}

Test(json, rejects_numbers_beyond_the_double_range)
{
    cr_assert_str_eq(parse_error("[1e309]", 7),
                     "line 1 column 2 (byte 1): number out of range of a double");
    parse_error("-1e400", 6);
}

Test(json, writes_doubles_that_read_back_exactly_and_as_doubles)
{
    sl_value values[] = {
        sl_value_double(1e308), sl_value_double(-0.0), sl_value_double(5e-324),
        sl_value_double(0.1), sl_value_double(1.0 / 3.0), sl_value_double(2.0),
        sl_value_double(-1e15), sl_value_double(1e16), sl_value_double(123.456),
        sl_value_double(0.1 + 0.2), sl_value_double(1.7976931348623157e308),
    };
    static const char *const expected[] = {
        "1e+308", "-0.0", "4.94065645841247e-324", "0.1", "0.3333333333333333", "2.0", "-1000000000000000.0", "1e+16",
        "123.456", "0.30000000000000004", "1.7976931348623157e+308",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *text = write_text(&values[i]);
        cr_assert_str_eq(text, expected[i]);
        sl_value back = test_parse_json(arena, text);
        cr_assert_eq(back.type, SL_TYPE_DOUBLE, "%s reads back as a double", text);
        cr_assert(memcmp(&back.number, &values[i].number, sizeof(double)) == 0,
                  "%s reads back as %.17g", text, values[i].number);
    }
}

Test(json, random_doubles_survive_write_then_parse_bit_for_bit)
{
    uint64_t state = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        test_xorshift64(&state);
        double d;
        memcpy(&d, &state, sizeof d);
        if (!isfinite(d)) continue;
        sl_value value = sl_value_double(d);
        sl_buffer out = SL_BUFFER_INIT;
        cr_assert_eq(sl_json_write(&out, &value), SL_OK);
        sl_value back;
        sl_error err;
        cr_assert_eq(sl_json_parse(arena, out.data, out.len, &back, &err), SL_OK, "%s",
                     err.message);
        cr_assert_eq(back.type, SL_TYPE_DOUBLE);
        cr_assert(memcmp(&back.number, &d, sizeof d) == 0, "%.*s is not %.17g", (int)out.len,
                  out.data, d);
        sl_buffer_free(&out);
        if (i % 1000 == 0) sl_arena_reset(arena);
    }
}

/* As PostgreSQL's to_json: strings, never null (which would lose them). */
Test(json, writes_non_finite_doubles_as_strings)
{
    sl_value items[] = { sl_value_double(NAN), sl_value_double(INFINITY),
                         sl_value_double(-INFINITY) };
    sl_value array = { .type = SL_TYPE_ARRAY, .array = { items, 3 } };
    cr_assert_str_eq(write_text(&array), "[\"NaN\",\"Infinity\",\"-Infinity\"]");
}

Test(json, decodes_unicode_escapes_to_utf8)
{
    sl_value v = test_parse_json(arena, "\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\\u0000x\"");
    const char expected[] = "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0x";
    cr_assert_eq(v.string.len, sizeof expected - 1);
    cr_assert(memcmp(v.string.ptr, expected, sizeof expected - 1) == 0);
    v = test_parse_json(arena, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    cr_assert_eq(v.string.len, 8);
    cr_assert(memcmp(v.string.ptr, "\"\\/\b\f\n\r\t", 8) == 0);
    v = test_parse_json(arena, "\"\\uDBFF\\uDFFF\"");
    cr_assert(memcmp(v.string.ptr, "\xf4\x8f\xbf\xbf", 4) == 0 && v.string.len == 4,
              "U+10FFFF, the last code point");
}

Test(json, rejects_lone_surrogates_and_bad_escapes)
{
    cr_assert_str_eq(parse_error("\"ab\\uD800\"", 10),
                     "line 1 column 4 (byte 3): invalid \\u escape: high surrogate \\uD800 not "
                     "followed by a low one");
    cr_assert_str_eq(parse_error("\"\\uDC00\"", 8),
                     "line 1 column 2 (byte 1): invalid \\u escape: lone low surrogate \\uDC00");
    parse_error("\"\\uD800\\u0041\"", 14);
    parse_error("\"\\uD800\\n\"", 10);
    cr_assert_str_eq(parse_error("\"\\u12G4\"", 8),
                     "line 1 column 2 (byte 1): invalid \\u escape: expected 4 hex digits");
    parse_error("\"\\u12\"", 6);
    cr_assert_str_eq(parse_error("\"a\\x\"", 5), "line 1 column 3 (byte 2): invalid escape in string");
    parse_error("\"\\'\"", 4);
    parse_error("\"\\\"", 3);
}

Test(json, borrows_plain_strings_and_decodes_escaped_ones_into_the_arena)
{
    const char *text = "{\"plain\":\"hello\",\"escaped\":\"a\\nb\",\"unicode\":\"caf\xc3\xa9\"}";
    size_t len = strlen(text);
    sl_value v = test_parse_json(arena, text);
    sl_value plain = field(&v, "plain"), escaped = field(&v, "escaped"),
             unicode = field(&v, "unicode");
    cr_assert(plain.string.ptr >= text && plain.string.ptr < text + len,
              "a string without escapes points into the input");
    cr_assert_eq(plain.string.ptr, strstr(text, "hello"));
    cr_assert(unicode.string.ptr >= text && unicode.string.ptr < text + len);
    cr_assert(v.object.members[0].key.ptr == text + 2, "keys are borrowed too");
    cr_assert(escaped.string.ptr < text || escaped.string.ptr >= text + len,
              "a string with escapes is decoded elsewhere");
    cr_assert_eq(escaped.string.len, 3);
    cr_assert(memcmp(escaped.string.ptr, "a\nb", 3) == 0);
}

Test(json, rejects_malformed_input_naming_line_column_and_byte)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "{\"a\": 1 x}", "line 1 column 9 (byte 8): expected ',' or '}' after object member" },
        { "[1,2,]", "line 1 column 6 (byte 5): trailing comma before ']'" },
        { "{\"a\":1,}", "line 1 column 8 (byte 7): trailing comma before '}'" },
        { "{\"a\":1,2}", "line 1 column 8 (byte 7): expected string key after ','" },
        { "{1:2}", "line 1 column 2 (byte 1): expected string key or '}'" },
        { "{\"a\" 1}", "line 1 column 6 (byte 5): expected ':' after object key" },
        { "[1 2]", "line 1 column 4 (byte 3): expected ',' or ']' after array element" },
        { "[01]", "line 1 column 2 (byte 1): leading zeros are not allowed" },
        { "-01", "line 1 column 2 (byte 1): leading zeros are not allowed" },
        { "1.", "line 1 column 3 (byte 2): expected a digit after '.'" },
        { ".5", "line 1 column 1 (byte 0): unexpected '.': expected a JSON value" },
        { "1e", "line 1 column 3 (byte 2): expected a digit in the exponent" },
        { "1e+", "line 1 column 4 (byte 3): expected a digit in the exponent" },
        { "-", "line 1 column 2 (byte 1): expected a digit after '-'" },
        { "+1", "line 1 column 1 (byte 0): unexpected '+': expected a JSON value" },
        { "NaN", "line 1 column 1 (byte 0): NaN and Infinity are not valid JSON" },
        { "[Infinity]", "line 1 column 2 (byte 1): NaN and Infinity are not valid JSON" },
        { "-Infinity", "line 1 column 1 (byte 0): NaN and Infinity are not valid JSON" },
        { "nul", "line 1 column 1 (byte 0): invalid literal (expected true, false or null)" },
        { "True", "line 1 column 1 (byte 0): unexpected 'T': expected a JSON value" },
        { "{} {}", "line 1 column 4 (byte 3): unexpected data after the JSON value" },
        { "1 2", "line 1 column 3 (byte 2): unexpected data after the JSON value" },
        { "\"abc", "line 1 column 1 (byte 0): unterminated string" },
        { "[\"a\\", "line 1 column 2 (byte 1): unterminated string" },
        { "", "line 1 column 1 (byte 0): unexpected end of input: expected a JSON value" },
        { "  \n ", "line 2 column 2 (byte 4): unexpected end of input: expected a JSON value" },
        { "[1,", "line 1 column 4 (byte 3): unexpected end of input: expected a JSON value" },
        { "{\"a\":1", "line 1 column 7 (byte 6): unexpected end of input: expected ',' or '}' "
                      "after object member" },
        { "{\n  \"a\": [1,\n  2,]\n}", "line 3 column 5 (byte 17): trailing comma before ']'" },
        { "\"a\tb\"", "line 1 column 3 (byte 2): control character 0x09 in string (must be "
                      "escaped)" },
        { "[\"line\nbreak\"]", "line 1 column 7 (byte 6): control character 0x0A in string "
                               "(must be escaped)" },
        { "'single'", "line 1 column 1 (byte 0): unexpected ''': expected a JSON value" },
        { "[1]]", "line 1 column 4 (byte 3): unexpected data after the JSON value" },
        { "\xef\xbb\xbf{}", "line 1 column 1 (byte 0): unexpected byte 0xEF: expected a JSON value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(parse_error(cases[i].text, strlen(cases[i].text)), cases[i].message,
                         "input %s", cases[i].text);
}

Test(json, rejects_nul_bytes_outside_and_inside_strings)
{
    cr_assert_str_eq(parse_error("[1,\0]", 5),
                     "line 1 column 4 (byte 3): unexpected byte 0x00: expected a JSON value");
    cr_assert_str_eq(parse_error("\"a\0\"", 4),
                     "line 1 column 3 (byte 2): control character 0x00 in string (must be escaped)");
    cr_assert_str_eq(parse_error("1\0", 2),
                     "line 1 column 2 (byte 1): unexpected data after the JSON value");
}

Test(json, rejects_invalid_utf8_in_strings)
{
    static const char *const bad[] = {
        "\"\x80\"",                 /* lone continuation byte */
        "\"\xc0\x80\"",             /* overlong NUL */
        "\"\xc1\xbf\"",             /* overlong */
        "\"\xe0\x9f\xbf\"",         /* overlong 3-byte */
        "\"\xed\xa0\x80\"",         /* UTF-8 encoded surrogate U+D800 */
        "\"\xf0\x8f\xbf\xbf\"",     /* overlong 4-byte */
        "\"\xf4\x90\x80\x80\"",     /* above U+10FFFF */
        "\"\xf5\x80\x80\x80\"",     /* invalid lead */
        "\"\xff\"",
        "\"ab\xc3\"",               /* truncated before the quote */
        "\"\xe2\x82\"",             /* truncated 3-byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *message = parse_error(bad[i], strlen(bad[i]));
        cr_assert(strstr(message, "invalid UTF-8 in string"), "case %zu: %s", i, message);
    }
    cr_assert_str_eq(parse_error("[\"okay\", \"caf\xc3\"]", 16),
                     "line 1 column 14 (byte 13): invalid UTF-8 in string");
    sl_value fine = test_parse_json(arena, "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80"
                             "\xf4\x8f\xbf\xbf\"");
    cr_assert_eq(fine.string.len, 21, "the edge cases of each sequence length are accepted");
}

Test(json, finds_special_bytes_at_every_offset_of_a_long_string)
{
    /* exercises the eight-bytes-at-a-time scan at each alignment */
    char text[64];
    for (size_t at = 1; at < 40; at++) {
        memset(text, 'x', sizeof text);
        text[0] = '"';
        text[at] = '\x01';
        text[45] = '"';
        char expected[128];
        snprintf(expected, sizeof expected,
                 "line 1 column %zu (byte %zu): control character 0x01 in string (must be escaped)",
                 at + 1, at);
        cr_assert_str_eq(parse_error(text, 46), expected);
        text[at] = '"';
        sl_value value;
        sl_error err;
        cr_assert_eq(sl_json_parse(arena, text, at + 1, &value, &err), SL_OK, "%s", err.message);
        cr_assert_eq(value.string.len, at - 1);
    }
}

/* "[[[...]]]" or {"a":{"a":...}} nested depth times. */
static char *nested(int depth, bool is_object)
{
    size_t cap = (size_t)depth * 6 + 8, n = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (int i = 0; i < depth; i++) {
        if (is_object) {
            memcpy(text + n, "{\"a\":", 5);
            n += 5;
        } else {
            text[n++] = '[';
        }
    }
    text[n++] = '1';
    for (int i = 0; i < depth; i++) text[n++] = is_object ? '}' : ']';
    text[n] = '\0';
    return text;
}

Test(json, accepts_nesting_up_to_the_limit_and_rejects_deeper)
{
    for (int is_object = 0; is_object <= 1; is_object++) {
        char *ok = nested(SL_JSON_MAX_DEPTH, is_object);
        sl_value v = test_parse_json(arena, ok);
        for (int i = 0; i < SL_JSON_MAX_DEPTH; i++)
            v = is_object ? v.object.members[0].value : v.array.items[0];
        cr_assert_eq(v.type, SL_TYPE_INT);
        free(ok);

        char *deep = nested(SL_JSON_MAX_DEPTH + 1, is_object);
        char expected[128];
        size_t at = is_object ? (size_t)SL_JSON_MAX_DEPTH * 5 : SL_JSON_MAX_DEPTH;
        snprintf(expected, sizeof expected,
                 "line 1 column %zu (byte %zu): nesting deeper than 128 arrays and objects",
                 at + 1, at);
        cr_assert_str_eq(parse_error(deep, strlen(deep)), expected);
        free(deep);
    }
    char *hostile = nested(100000, false);
    parse_error(hostile, strlen(hostile));
    free(hostile);
}

Test(json, builds_large_arrays_and_objects_past_the_scratch_stack)
{
    sl_buffer text = SL_BUFFER_INIT;
    cr_assert_eq(sl_buffer_append_cstr(&text, "{"), SL_OK);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(sl_buffer_printf(&text, "%s\"k%d\":[", i ? "," : "", i), SL_OK);
        for (int j = 0; j < 100; j++)
            cr_assert_eq(sl_buffer_printf(&text, "%s%d", j ? "," : "", i * 100 + j), SL_OK);
        cr_assert_eq(sl_buffer_append_cstr(&text, "]"), SL_OK);
    }
    cr_assert_eq(sl_buffer_append_cstr(&text, "}"), SL_OK);
    sl_value v;
    sl_error err;
    cr_assert_eq(sl_json_parse(arena, text.data, text.len, &v, &err), SL_OK, "%s", err.message);
    cr_assert_eq(v.object.n_members, 300);
    for (int i = 0; i < 300; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        cr_assert(sl_str_eq_cstr(v.object.members[i].key, key));
        const sl_value *items = &v.object.members[i].value;
        cr_assert_eq(items->array.n_items, 100);
        for (int j = 0; j < 100; j++) cr_assert_eq(items->array.items[j].integer, i * 100 + j);
    }
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_json_write(&out, &v), SL_OK);
    cr_assert_eq(out.len, text.len);
    cr_assert(memcmp(out.data, text.data, text.len) == 0);
    sl_buffer_free(&out);
    sl_buffer_free(&text);
}

Test(json, writer_escapes_quotes_backslashes_and_control_characters)
{
    sl_buffer out = SL_BUFFER_INIT;
    const char raw[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\0end";
    cr_assert_eq(sl_json_write_string(&out, raw, sizeof raw - 1), SL_OK);
    const char *expected = "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000end\"";
    cr_assert_eq(out.len, strlen(expected));
    cr_assert(memcmp(out.data, expected, out.len) == 0, "%.*s", (int)out.len, out.data);
    sl_value back;
    sl_error err;
    cr_assert_eq(sl_json_parse(arena, out.data, out.len, &back, &err), SL_OK, "%s", err.message);
    cr_assert_eq(back.string.len, sizeof raw - 1);
    cr_assert(memcmp(back.string.ptr, raw, sizeof raw - 1) == 0);
    sl_buffer_free(&out);
}

Test(json, writer_keeps_valid_utf8_and_replaces_invalid_bytes)
{
    sl_buffer out = SL_BUFFER_INIT;
    const char raw[] = "long ascii run before it: caf\xc3\xa9 \xff \xc3 \xed\xa0\x80 \xf0\x9f\x98\x80";
    cr_assert_eq(sl_json_write_string(&out, raw, sizeof raw - 1), SL_OK);
    const char *expected = "\"long ascii run before it: caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd "
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80\"";
    cr_assert_eq(out.len, strlen(expected), "%.*s", (int)out.len, out.data);
    cr_assert(memcmp(out.data, expected, out.len) == 0);
    sl_value back;
    sl_error err;
    cr_assert_eq(sl_json_parse(arena, out.data, out.len, &back, &err), SL_OK,
                 "the output is valid JSON: %s", err.message);
    sl_buffer_clear(&out);
    cr_assert_eq(sl_json_write_string(&out, NULL, 0), SL_OK);
    cr_assert_eq(out.len, 2);
    cr_assert(memcmp(out.data, "\"\"", 2) == 0);
    sl_buffer_free(&out);
}

Test(json, writer_prints_timestamps_bytes_and_ints_as_json)
{
    sl_value items[] = {
        sl_value_timestamp(1704164645123456),   /* 2024-01-02T03:04:05.123456Z */
        sl_value_timestamp(1704164645000000),
        sl_value_timestamp(-1),
        { .type = SL_TYPE_BYTES, .string = { "\x00\xff\x10hi", 5 } },
        { .type = SL_TYPE_BYTES, .string = { "", 0 } },
        sl_value_int(INT64_MIN),
        sl_value_int(INT64_MAX),
        sl_value_int(0),
        sl_value_bool(true),
        sl_value_null(),
    };
    sl_value array = { .type = SL_TYPE_ARRAY, .array = { items, sizeof items / sizeof items[0] } };
    items[9] = sl_value_string((sl_str){ NULL, 0 });
    items[8] = (sl_value){ .type = SL_TYPE_BYTES, .string = { NULL, 0 } };
    cr_assert_str_eq(write_text(&array),
                     "[\"2024-01-02T03:04:05.123456Z\",\"2024-01-02T03:04:05Z\","
                     "\"1969-12-31T23:59:59.999999Z\",\"AP8QaGk=\",\"\","
                     "-9223372036854775808,9223372036854775807,0,\"\",\"\"]",
                     "empty strings and bytes may have a NULL pointer");
    items[8] = sl_value_bool(true);
    items[9] = sl_value_null();
    cr_assert_str_eq(write_text(&array),
                     "[\"2024-01-02T03:04:05.123456Z\",\"2024-01-02T03:04:05Z\","
                     "\"1969-12-31T23:59:59.999999Z\",\"AP8QaGk=\",\"\","
                     "-9223372036854775808,9223372036854775807,0,true,null]");
}

Test(json, writer_prints_intervals_as_postgresql_text)
{
    sl_value items[] = {
        sl_value_interval(0, 1, 2 * 3600000000LL + 3 * 60000000 + 4000000),
        sl_value_interval(1, 0, 0),
        sl_value_interval(0, 0, -1000000),
        sl_value_interval(0, 0, 300000000),
        sl_value_interval(0, 0, 0),
        sl_value_interval(-14, 3, INT64_MIN),
        sl_value_interval(INT32_MIN, INT32_MIN, 1500000),
    };
    sl_value array = { .type = SL_TYPE_ARRAY, .array = { items, sizeof items / sizeof items[0] } };
    cr_assert_str_eq(write_text(&array),
                     "[\"1 day 02:03:04\",\"1 mon\",\"-00:00:01\",\"00:05:00\",\"00:00:00\","
                     "\"-1 years -2 mons +3 days -2562047788:00:54.775808\","
                     "\"-178956970 years -8 mons -2147483648 days +00:00:01.5\"]");
}

Test(json, writer_appends_to_what_the_buffer_holds)
{
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_buffer_append_cstr(&out, "x="), SL_OK);
    sl_value v = test_parse_json(arena, "{\"a\":[1,2]}");
    cr_assert_eq(sl_json_write(&out, &v), SL_OK);
    cr_assert_eq(out.len, 13);
    cr_assert(memcmp(out.data, "x={\"a\":[1,2]}", 13) == 0);
    sl_buffer_free(&out);
}

Test(json, keeps_parsed_values_in_the_arena_only)
{
    size_t before = sl_arena_bytes_used(arena);
    sl_value v = test_parse_json(arena, "[\"a\",\"b\",{\"c\":\"d\"}]");
    size_t used = sl_arena_bytes_used(arena) - before;
    /* three items of 24 bytes and one member of 40, nothing else */
    cr_assert_eq(used, 3 * sizeof(sl_value) + sizeof(sl_member));
    cr_assert_eq(v.array.n_items, 3);
}

/* ---- projected parsing ---- */

Test(json, projected_parse_keeps_only_named_members)
{
    static const sl_str city_keys[] = { SL_STR_LIT("city") };
    static const sl_json_projection *const city_children[] = { NULL };
    static const sl_json_projection location = { 1, city_keys, city_children };
    static const sl_str top_keys[] = { SL_STR_LIT("location"), SL_STR_LIT("tags") };
    static const sl_json_projection *const top_children[] = { &location, NULL };
    static const sl_json_projection top = { 2, top_keys, top_children };
    const char *text = "{\"name\":{\"first\":\"Ada\"},\"location\":{\"street\":{\"number\":1},\"city\":\"Oslo\"},"
                       "\"tags\":[1,{\"a\":2}],\"age\":42}";
    sl_value value;
    sl_error err;
    cr_assert_eq(sl_json_parse_projected(arena, text, strlen(text), &top, &value, &err), SL_OK, "%s", err.message);
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_json_write(&out, &value), SL_OK);
    cr_assert_eq(out.len, strlen("{\"location\":{\"city\":\"Oslo\"},\"tags\":[1,{\"a\":2}]}"));
    cr_assert(memcmp(out.data, "{\"location\":{\"city\":\"Oslo\"},\"tags\":[1,{\"a\":2}]}", out.len) == 0,
              "%.*s", (int)out.len, out.data);
    sl_buffer_free(&out);
}

Test(json, projected_parse_still_rejects_bad_json_in_skipped_members)
{
    static const sl_str keys[] = { SL_STR_LIT("kept") };
    static const sl_json_projection *const children[] = { NULL };
    static const sl_json_projection only_kept = { 1, keys, children };
    const char *bad[] = {
        "{\"kept\":1,\"skipped\":{\"a\":[1,2,]}}",
        "{\"kept\":1,\"skipped\":\"bad \\x escape\"}",
        "{\"kept\":1,\"skipped\":01}",
        "{\"kept\":1,\"skipped\":{\"a\" 1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_value value;
        sl_error err;
        int rc = sl_json_parse_projected(arena, bad[i], strlen(bad[i]), &only_kept, &value, &err);
        cr_assert_eq(rc, SL_EPARSE, "input %zu should be rejected: %s", i, bad[i]);
        sl_error full_err;
        cr_assert_eq(sl_json_parse(arena, bad[i], strlen(bad[i]), &value, &full_err), SL_EPARSE);
        cr_assert_str_eq(err.message, full_err.message, "a projected parse reports the same error");
    }
}

Test(json, projected_parse_with_no_keys_keeps_an_empty_object_and_non_objects_whole)
{
    static const sl_json_projection nothing = { 0, NULL, NULL };
    sl_value value;
    sl_error err;
    cr_assert_eq(sl_json_parse_projected(arena, "{\"a\":1}", 7, &nothing, &value, &err), SL_OK);
    cr_assert_eq(value.type, SL_TYPE_OBJECT);
    cr_assert_eq(value.object.n_members, 0);
    cr_assert_eq(sl_json_parse_projected(arena, "[1,2]", 5, &nothing, &value, &err), SL_OK);
    cr_assert_eq(value.array.n_items, 2);
}

/* ---- message keys from values (key_text.h) ---- */

Test(json, key_text_is_kafka_like_for_every_kind_of_value)
{
    static const struct {
        const char *json;
        const char *key; /* NULL = no key */
    } cases[] = {
        { "{\"k\":\"abc\"}", "abc" },
        { "{\"k\":\"\"}", "" },
        { "{\"k\":42}", "42" },
        { "{\"k\":-7}", "-7" },
        { "{\"k\":1.5}", "1.5" },
        { "{\"k\":true}", "true" },
        { "{\"k\":false}", "false" },
        { "{\"k\":{\"a\": [1, 2]}}", "{\"a\":[1,2]}" },
        { "{\"k\":[\"x\", null]}", "[\"x\",null]" },
        { "{\"k\":null}", NULL },
        { "{\"other\":1}", NULL },
    };
    sl_buffer scratch = SL_BUFFER_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_value value;
        sl_error err;
        cr_assert_eq(sl_json_parse(arena, cases[i].json, strlen(cases[i].json), &value, &err), SL_OK);
        sl_str path = SL_STR_LIT("k");
        sl_str key = { "unset", 5 };
        cr_assert_eq(sl_key_text(sl_value_get_path(&value, &path, 1), &scratch, &key), SL_OK);
        if (!cases[i].key) {
            cr_assert_null(key.ptr, "%s: expected no key", cases[i].json);
            continue;
        }
        /* "" must come back as an empty key that is not null. */
        cr_assert_not_null(key.ptr, "%s: expected a key", cases[i].json);
        cr_assert(sl_str_eq_cstr(key, cases[i].key), "%s: got '%.*s'", cases[i].json, (int)key.len, key.ptr);
    }
    sl_value stamp = { .type = SL_TYPE_TIMESTAMP, .timestamp = 1700000000123456 };
    sl_str key;
    cr_assert_eq(sl_key_text(&stamp, &scratch, &key), SL_OK);
    cr_assert(sl_str_eq_cstr(key, "2023-11-14T22:13:20.123456Z"), "%.*s", (int)key.len, key.ptr);
    sl_value span = sl_value_interval(0, 1, -1);
    cr_assert_eq(sl_key_text(&span, &scratch, &key), SL_OK);
    cr_assert(sl_str_eq_cstr(key, "1 day -00:00:00.000001"), "%.*s", (int)key.len, key.ptr);
    sl_buffer_free(&scratch);
}
