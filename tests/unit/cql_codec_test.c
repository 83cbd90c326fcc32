/* cql_codec_test.c — CQL value serialization (native_protocol_v4.spec §6):
 * exact byte vectors for every supported type, encode → decode round trips,
 * and every rejection with its message.
 *
 * The vectors follow the spec's text (the varint table of §6.23, the 2^31
 * date epoch of §6.5, decimal as [int scale][varint] of §6.6). The varint and
 * decimal vectors were also checked against the Python cassandra-driver
 * 3.30.1 (IntegerType / DecimalType.serialize). Type trees are built by hand
 * from local structs so this test needs nothing but the codec.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/value.h"
#include "cql/codec.h"
#include "test_util.h"

TestSuite(cql_codec);

#define STR(text) sl_value_string(SL_STR_LIT(text))

static sl_cql_type scalar(sl_cql_type_code code)
{
    sl_cql_type type = { .code = code };
    return type;
}

static sl_value bytes_value(const char *bytes, size_t len)
{
    sl_value v = { .type = SL_TYPE_BYTES };
    v.string = (sl_str){ bytes, len };
    return v;
}

/* Encodes value and checks the whole [bytes] cell, length prefix included. */
static void expect_encoding(const sl_cql_type *type, sl_value value, const char *want_hex)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_error err = { 0 };
    int rc = sl_cql_encode_value(type, &value, &out, &err);
    cr_assert_eq(rc, SL_OK, "encoding for %s failed: %s", want_hex, err.message);
    char hex[512];
    cr_assert_lt(out.len * 2, sizeof hex);
    test_hex_encode(out.data, out.len, hex);
    cr_assert_str_eq(hex, want_hex);
    sl_buffer_free(&out);
}

/* Encodes value into a buffer already holding "XY"; checks the code, the
 * exact message and that the buffer is left as it was. */
static void expect_rejection(const sl_cql_type *type, sl_value value, int want_rc,
                             const char *want_message)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_error err = { 0 };
    cr_assert_eq(sl_buffer_append(&out, "XY", 2), SL_OK);
    int rc = sl_cql_encode_value(type, &value, &out, &err);
    cr_assert_eq(rc, want_rc, "want %d for \"%s\", got %d (%s)", want_rc, want_message, rc,
                 err.message);
    cr_assert_str_eq(err.message, want_message);
    cr_assert_eq(out.len, 2, "a rejected value leaves the buffer as it was");
    cr_assert_eq(memcmp(out.data, "XY", 2), 0);
    sl_buffer_free(&out);
}

/* Encodes, then decodes the cell's content back, into arena. */
static sl_value round_trip(sl_arena *arena, const sl_cql_type *type, sl_value value)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_encode_value(type, &value, &out, &err), SL_OK, "%s", err.message);
    cr_assert_geq(out.len, 4);
    const uint8_t *cell = (const uint8_t *)out.data;
    int32_t len = (int32_t)((uint32_t)cell[0] << 24 | (uint32_t)cell[1] << 16 |
                            (uint32_t)cell[2] << 8 | cell[3]);
    cr_assert_eq(len < 0 ? 4 : (size_t)len + 4, out.len);
    sl_value back;
    cr_assert_eq(sl_cql_decode_value(type, cell + 4, len, arena, &back, &err), SL_OK, "%s",
                 err.message);
    sl_buffer_free(&out);
    return back;
}

static sl_value decode_hex(sl_arena *arena, const sl_cql_type *type, const char *hex, int *rc,
                           sl_error *err)
{
    uint8_t bytes[256];
    size_t n = test_hex_decode(hex, bytes, sizeof bytes);
    sl_value out;
    *rc = sl_cql_decode_value(type, bytes, (int32_t)n, arena, &out, err);
    return out;
}

static void expect_decoded_string(const sl_cql_type *type, const char *hex, const char *want)
{
    sl_arena *arena = sl_arena_new(0);
    sl_error err = { 0 };
    int rc;
    sl_value v = decode_hex(arena, type, hex, &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(v.type, SL_TYPE_STRING, "%s decodes to a string", hex);
    cr_assert(sl_str_eq_cstr(v.string, want), "%s: got %.*s, want %s", hex, (int)v.string.len,
              v.string.ptr, want);
    sl_arena_free(arena);
}

/* ---- encoding: exact bytes ---- */

Test(cql_codec, null_and_unset_have_negative_lengths)
{
    sl_cql_type t = scalar(SL_CQL_INT);
    expect_encoding(&t, sl_value_null(), "ffffffff");
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_encode_unset(&out), SL_OK);
    cr_assert_eq(out.len, 4);
    cr_assert_eq(memcmp(out.data, "\xff\xff\xff\xfe", 4), 0);
    sl_buffer_free(&out);
}

Test(cql_codec, fixed_width_integers_are_big_endian_twos_complement)
{
    sl_cql_type tiny = scalar(SL_CQL_TINYINT), small = scalar(SL_CQL_SMALLINT),
                i32 = scalar(SL_CQL_INT), i64 = scalar(SL_CQL_BIGINT),
                counter = scalar(SL_CQL_COUNTER);
    expect_encoding(&tiny, sl_value_int(-128), "0000000180");
    expect_encoding(&tiny, sl_value_int(127), "000000017f");
    expect_encoding(&small, sl_value_int(300), "00000002012c");
    expect_encoding(&small, sl_value_int(-2), "00000002fffe");
    expect_encoding(&i32, sl_value_int(1), "0000000400000001");
    expect_encoding(&i32, sl_value_int(-1), "00000004ffffffff");
    expect_encoding(&i32, sl_value_int(INT32_MIN), "0000000480000000");
    expect_encoding(&i64, sl_value_int(1), "000000080000000000000001");
    expect_encoding(&i64, sl_value_int(INT64_MIN), "000000088000000000000000");
    expect_encoding(&i64, sl_value_double(3.0), "000000080000000000000003");
    expect_encoding(&i32, sl_value_double(-7.0), "00000004fffffff9");
    expect_encoding(&counter, sl_value_int(5), "000000080000000000000005");
}

Test(cql_codec, varint_matches_the_spec_table_and_goes_past_64_bits)
{
    sl_cql_type t = scalar(SL_CQL_VARINT);
    /* The table of §6.23. */
    expect_encoding(&t, sl_value_int(0), "0000000100");
    expect_encoding(&t, sl_value_int(1), "0000000101");
    expect_encoding(&t, sl_value_int(127), "000000017f");
    expect_encoding(&t, sl_value_int(128), "000000020080");
    expect_encoding(&t, sl_value_int(129), "000000020081");
    expect_encoding(&t, sl_value_int(-1), "00000001ff");
    expect_encoding(&t, sl_value_int(-128), "0000000180");
    expect_encoding(&t, sl_value_int(-129), "00000002ff7f");
    expect_encoding(&t, sl_value_int(INT64_MIN), "000000088000000000000000");
    expect_encoding(&t, sl_value_int(INT64_MAX), "000000087fffffffffffffff");
    /* The same from decimal text, and text past 64 bits. */
    expect_encoding(&t, STR("0"), "0000000100");
    expect_encoding(&t, STR("-0"), "0000000100");
    expect_encoding(&t, STR("+127"), "000000017f");
    expect_encoding(&t, STR("000128"), "000000020080");
    expect_encoding(&t, STR("-128"), "0000000180");
    expect_encoding(&t, STR("-129"), "00000002ff7f");
    expect_encoding(&t, STR("-9223372036854775808"), "000000088000000000000000");
    expect_encoding(&t, STR("18446744073709551616"), "00000009010000000000000000");
    expect_encoding(&t, STR("-18446744073709551616"), "00000009ff0000000000000000");
    expect_encoding(&t, STR("1000000000000000000000000000000"), "0000000d0c9f2c9cd04674edea40000000");
    expect_encoding(&t, STR("-1000000000000000000000000000000"), "0000000df360d3632fb98b1215c0000000");
}

Test(cql_codec, decimal_is_scale_then_varint_of_the_unscaled_value)
{
    sl_cql_type t = scalar(SL_CQL_DECIMAL);
    expect_encoding(&t, sl_value_double(1.5), "00000005000000010f");
    expect_encoding(&t, sl_value_double(-0.5), "0000000500000001fb");
    expect_encoding(&t, sl_value_double(0.1), "000000050000000101");
    expect_encoding(&t, sl_value_double(100.0), "000000050000000064");
    expect_encoding(&t, sl_value_double(1e20), "00000005ffffffec01");
    expect_encoding(&t, sl_value_int(100), "000000050000000064");
    expect_encoding(&t, STR("-12.345"), "0000000600000003cfc7");
    expect_encoding(&t, STR("1e-3"), "000000050000000301");
    expect_encoding(&t, STR("1.50"), "00000006000000020096");
    expect_encoding(&t, STR("1E+2"), "00000005fffffffe01");
    expect_encoding(&t, STR(".5"), "000000050000000105");
    expect_encoding(&t, STR("12345678901234567890.12"), "0000000d0000000242ed123b0bd8203a14");
}

Test(cql_codec, floats_are_ieee_754_big_endian)
{
    sl_cql_type f = scalar(SL_CQL_FLOAT), d = scalar(SL_CQL_DOUBLE);
    expect_encoding(&f, sl_value_double(1.5), "000000043fc00000");
    expect_encoding(&f, sl_value_int(2), "0000000440000000");
    expect_encoding(&d, sl_value_double(1.5), "000000083ff8000000000000");
    expect_encoding(&d, sl_value_double(-0.25), "00000008bfd0000000000000");
    expect_encoding(&d, sl_value_int(1), "000000083ff0000000000000");
}

Test(cql_codec, boolean_is_one_byte)
{
    sl_cql_type t = scalar(SL_CQL_BOOLEAN);
    expect_encoding(&t, sl_value_bool(true), "0000000101");
    expect_encoding(&t, sl_value_bool(false), "0000000100");
}

Test(cql_codec, text_takes_strings_as_is_and_numbers_as_their_json_text)
{
    sl_cql_type text = scalar(SL_CQL_VARCHAR), ascii = scalar(SL_CQL_ASCII);
    expect_encoding(&text, STR("h\xc3\xa9"), "0000000368c3a9");
    expect_encoding(&text, STR(""), "00000000");
    expect_encoding(&text, sl_value_int(12345), "000000053132333435");
    expect_encoding(&text, sl_value_int(-7), "000000022d37");
    expect_encoding(&text, sl_value_double(1.5), "00000003312e35");
    expect_encoding(&text, sl_value_bool(true), "0000000474727565");
    expect_encoding(&text, sl_value_timestamp(0), "00000014313937302d30312d30315430303a30303a30305a");
    expect_encoding(&ascii, STR("abc"), "00000003616263");
}

Test(cql_codec, timestamp_is_milliseconds_since_the_epoch)
{
    sl_cql_type t = scalar(SL_CQL_TIMESTAMP);
    expect_encoding(&t, sl_value_timestamp(1500), "000000080000000000000001");
    expect_encoding(&t, sl_value_timestamp(-1), "00000008ffffffffffffffff");   /* floor */
    expect_encoding(&t, sl_value_int(1700000000000), "000000080000018bcfe56800");
    expect_encoding(&t, STR("2024-01-02T03:04:05.678Z"), "000000080000018cc820db2e");
    expect_encoding(&t, STR("2024-01-02T05:04:05.678+02:00"), "000000080000018cc820db2e");
}

Test(cql_codec, date_is_days_with_the_epoch_at_2_pow_31)
{
    sl_cql_type t = scalar(SL_CQL_DATE);
    expect_encoding(&t, STR("1970-01-01"), "0000000480000000");
    expect_encoding(&t, STR("1969-12-31"), "000000047fffffff");
    expect_encoding(&t, STR("2024-02-29"), "0000000480004d46");
    expect_encoding(&t, STR("-5877641-06-23"), "0000000400000000");   /* the spec's 0 */
    /* 2^32 - 1, the last day. The spec's table puts 5881580-07-11 at 2^32,
     * one past the range; counting in 400-year eras (146097 days) from
     * 1970-01-01 independently gives 2^31 - 1 days → 5881580-07-11. */
    expect_encoding(&t, STR("5881580-07-11"), "00000004ffffffff");
    expect_encoding(&t, sl_value_int(1), "0000000480000001");
    expect_encoding(&t, sl_value_timestamp(-1), "000000047fffffff");
    expect_encoding(&t, sl_value_timestamp(INT64_C(86400000000)), "0000000480000001");
}

Test(cql_codec, time_is_nanoseconds_since_midnight)
{
    sl_cql_type t = scalar(SL_CQL_TIME);
    expect_encoding(&t, STR("00:00:01"), "00000008000000003b9aca00");
    expect_encoding(&t, STR("12:34:56.789"), "00000008000029327b048f40");
    expect_encoding(&t, STR("23:59:59.999999999"), "0000000800004e94914effff");
    expect_encoding(&t, sl_value_int(0), "000000080000000000000000");
}

Test(cql_codec, uuid_and_timeuuid_are_sixteen_bytes)
{
    sl_cql_type uuid = scalar(SL_CQL_UUID), timeuuid = scalar(SL_CQL_TIMEUUID);
    expect_encoding(&uuid, STR("550E8400-e29b-41d4-a716-446655440000"),
                    "00000010550e8400e29b41d4a716446655440000");
    expect_encoding(&uuid, bytes_value("0123456789abcdef", 16),
                    "0000001030313233343536373839616263646566");
    expect_encoding(&timeuuid, STR("c1b3e7a0-5e7a-11ee-8c99-0242ac120002"),
                    "00000010c1b3e7a05e7a11ee8c990242ac120002");
}

Test(cql_codec, inet_is_four_or_sixteen_bytes)
{
    sl_cql_type t = scalar(SL_CQL_INET);
    expect_encoding(&t, STR("127.0.0.1"), "000000047f000001");
    expect_encoding(&t, STR("::1"), "0000001000000000000000000000000000000001");
    expect_encoding(&t, STR("2001:db8::ff00:42:8329"), "0000001020010db8000000000000ff0000428329");
}

Test(cql_codec, blob_takes_bytes_and_string_bytes)
{
    sl_cql_type t = scalar(SL_CQL_BLOB);
    expect_encoding(&t, bytes_value("\x00\x01\xff", 3), "000000030001ff");
    expect_encoding(&t, STR("ab"), "000000026162");
}

Test(cql_codec, list_set_and_map_follow_the_collection_layout)
{
    sl_cql_type i32 = scalar(SL_CQL_INT), text = scalar(SL_CQL_VARCHAR);
    sl_cql_type *int_param[1] = { &i32 }, *text_param[1] = { &text };
    sl_cql_type list = { .code = SL_CQL_LIST, .params = int_param, .n_params = 1 };
    sl_cql_type set = { .code = SL_CQL_SET, .params = text_param, .n_params = 1 };
    sl_cql_type *text_int[2] = { &text, &i32 }, *int_text[2] = { &i32, &text };
    sl_cql_type map = { .code = SL_CQL_MAP, .params = text_int, .n_params = 2 };
    sl_cql_type int_map = { .code = SL_CQL_MAP, .params = int_text, .n_params = 2 };

    sl_value items[2] = { sl_value_int(1), sl_value_int(2) };
    sl_value array = { .type = SL_TYPE_ARRAY };
    array.array.items = items;
    array.array.n_items = 2;
    expect_encoding(&list, array, "00000014" "00000002" "0000000400000001" "0000000400000002");

    sl_value one_text[1] = { STR("a") };
    sl_value text_array = { .type = SL_TYPE_ARRAY };
    text_array.array.items = one_text;
    text_array.array.n_items = 1;
    expect_encoding(&set, text_array, "00000009" "00000001" "0000000161");

    sl_value empty = { .type = SL_TYPE_ARRAY };
    expect_encoding(&list, empty, "0000000400000000");

    sl_member members[1] = { { SL_STR_LIT("a"), sl_value_int(1) } };
    sl_value object = { .type = SL_TYPE_OBJECT };
    object.object.members = members;
    object.object.n_members = 1;
    expect_encoding(&map, object, "00000011" "00000001" "0000000161" "0000000400000001");

    sl_member int_members[1] = { { SL_STR_LIT("7"), STR("x") } };
    sl_value int_object = { .type = SL_TYPE_OBJECT };
    int_object.object.members = int_members;
    int_object.object.n_members = 1;
    expect_encoding(&int_map, int_object, "00000011" "00000001" "0000000400000007" "0000000178");
}

/* ---- encoding: rejections ---- */

Test(cql_codec, numbers_out_of_range_or_of_the_wrong_kind_are_rejected)
{
    sl_cql_type tiny = scalar(SL_CQL_TINYINT), small = scalar(SL_CQL_SMALLINT),
                i32 = scalar(SL_CQL_INT), i64 = scalar(SL_CQL_BIGINT),
                f = scalar(SL_CQL_FLOAT), varint = scalar(SL_CQL_VARINT),
                decimal = scalar(SL_CQL_DECIMAL), boolean = scalar(SL_CQL_BOOLEAN);
    expect_rejection(&i32, STR("abc"), SL_ETYPE, "cannot convert string \"abc\" to int");
    expect_rejection(&small, sl_value_int(70000), SL_ETYPE, "int 70000 out of range for smallint");
    expect_rejection(&tiny, sl_value_int(128), SL_ETYPE, "int 128 out of range for tinyint");
    expect_rejection(&i32, sl_value_int(INT64_C(2147483648)), SL_ETYPE,
                     "int 2147483648 out of range for int");
    expect_rejection(&i32, sl_value_double(1.5), SL_ETYPE, "cannot convert double 1.5 to int");
    expect_rejection(&i64, sl_value_double(1e20), SL_ETYPE, "double 1e+20 out of range for bigint");
    expect_rejection(&i64, sl_value_bool(true), SL_ETYPE, "cannot convert bool true to bigint");
    expect_rejection(&f, sl_value_double(1e300), SL_ETYPE, "double 1e+300 out of range for float");
    expect_rejection(&f, STR("1.5"), SL_ETYPE, "cannot convert string \"1.5\" to float");
    expect_rejection(&varint, STR("12a"), SL_ETYPE, "\"12a\" is not an integer");
    expect_rejection(&varint, STR("-"), SL_ETYPE, "\"-\" is not an integer");
    expect_rejection(&varint, sl_value_double(0.5), SL_ETYPE, "cannot convert double 0.5 to varint");
    expect_rejection(&decimal, STR("1.2.3"), SL_ETYPE, "\"1.2.3\" is not a decimal number");
    expect_rejection(&decimal, STR("1e"), SL_ETYPE, "\"1e\" is not a decimal number");
    expect_rejection(&decimal, STR("1e99999999999"), SL_ETYPE,
                     "\"1e99999999999\" is not a decimal number");
    expect_rejection(&decimal, sl_value_bool(false), SL_ETYPE, "cannot convert bool false to decimal");
    expect_rejection(&boolean, sl_value_int(1), SL_ETYPE, "cannot convert int 1 to boolean");

    static char digits[10002];
    memset(digits, '7', sizeof digits - 1);
    sl_value huge = sl_value_string((sl_str){ digits, 10001 });
    expect_rejection(&varint, huge, SL_ETYPE, "number of 10001 digits is over the limit of 10000 digits");
    huge.string.len = 10000;
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_encode_value(&varint, &huge, &out, NULL), SL_OK, "10000 digits are fine");
    cr_assert_eq(out.len, 4 + 4153, "7...7 (10000 digits) has 33219 bits, plus a sign bit: 4153 bytes");
    sl_buffer_free(&out);
}

Test(cql_codec, malformed_text_for_typed_columns_is_rejected_with_the_value_quoted)
{
    sl_cql_type ascii = scalar(SL_CQL_ASCII), text = scalar(SL_CQL_VARCHAR),
                uuid = scalar(SL_CQL_UUID), timeuuid = scalar(SL_CQL_TIMEUUID),
                ts = scalar(SL_CQL_TIMESTAMP), date = scalar(SL_CQL_DATE),
                time = scalar(SL_CQL_TIME), inet = scalar(SL_CQL_INET),
                blob = scalar(SL_CQL_BLOB), i32 = scalar(SL_CQL_INT);
    expect_rejection(&ascii, STR("h\xc3\xa9"), SL_ETYPE, "\"h\xc3\xa9\" is not ascii");
    sl_value array = { .type = SL_TYPE_ARRAY };
    expect_rejection(&text, array, SL_ETYPE, "cannot convert array to text");
    sl_value object = { .type = SL_TYPE_OBJECT };
    expect_rejection(&text, object, SL_ETYPE, "cannot convert object to text");
    expect_rejection(&text, bytes_value("ab", 2), SL_ETYPE, "cannot convert bytes (2 bytes) to text");
    expect_rejection(&uuid, STR("zz"), SL_ETYPE, "\"zz\" is not a uuid");
    expect_rejection(&uuid, STR("550e8400-e29b-41d4-a716-44665544000g"), SL_ETYPE,
                     "\"550e8400-e29b-41d4-a716-44665544000g\" is not a uuid");
    expect_rejection(&uuid, STR("550e8400e29b-41d4-a716-4466554400000"), SL_ETYPE,
                     "\"550e8400e29b-41d4-a716-4466554400000\" is not a uuid");
    expect_rejection(&uuid, bytes_value("short", 5), SL_ETYPE, "cannot convert bytes (5 bytes) to uuid");
    expect_rejection(&timeuuid, STR("550e8400-e29b-41d4-a716-446655440000"), SL_ETYPE,
                     "\"550e8400-e29b-41d4-a716-446655440000\" is not a version 1 (time-based) "
                     "uuid, as timeuuid needs");
    expect_rejection(&ts, STR("yesterday"), SL_ETYPE, "\"yesterday\" is not an ISO-8601 timestamp");
    expect_rejection(&ts, sl_value_double(1.5), SL_ETYPE, "cannot convert double 1.5 to timestamp");
    expect_rejection(&date, STR("2023-02-29"), SL_ETYPE, "\"2023-02-29\" is not a date (YYYY-MM-DD)");
    expect_rejection(&date, STR("2023-01-01T00:00:00"), SL_ETYPE,
                     "\"2023-01-01T00:00:00\" is not a date (YYYY-MM-DD)");
    expect_rejection(&date, sl_value_int(INT64_C(3000000000)), SL_ETYPE,
                     "int 3000000000 out of range for date");
    expect_rejection(&time, STR("24:00:00"), SL_ETYPE,
                     "\"24:00:00\" is not a time of day (HH:MM:SS[.fraction])");
    expect_rejection(&time, STR("12:00:00.1234567890"), SL_ETYPE,
                     "\"12:00:00.1234567890\" is not a time of day (HH:MM:SS[.fraction])");
    expect_rejection(&time, sl_value_int(-1), SL_ETYPE, "int -1 out of range for time");
    expect_rejection(&time, sl_value_int(INT64_C(86400000000000)), SL_ETYPE,
                     "int 86400000000000 out of range for time");
    expect_rejection(&inet, STR("999.1.1.1"), SL_ETYPE, "\"999.1.1.1\" is not an IP address");
    expect_rejection(&inet, STR("1::2::3"), SL_ETYPE, "\"1::2::3\" is not an IP address");
    expect_rejection(&blob, sl_value_int(1), SL_ETYPE, "cannot convert int 1 to blob");
    expect_rejection(&i32,
                     STR("aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee"), SL_ETYPE,
                     "cannot convert string \"aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...\" to int");
}

Test(cql_codec, bad_collection_members_are_rejected_and_named)
{
    sl_cql_type i32 = scalar(SL_CQL_INT), text = scalar(SL_CQL_VARCHAR);
    sl_cql_type *int_param[1] = { &i32 };
    sl_cql_type list = { .code = SL_CQL_LIST, .params = int_param, .n_params = 1 };
    sl_cql_type *int_text[2] = { &i32, &text };
    sl_cql_type int_map = { .code = SL_CQL_MAP, .params = int_text, .n_params = 2 };
    sl_cql_type bare_list = { .code = SL_CQL_LIST };

    sl_value items[2] = { sl_value_int(1), STR("x") };
    sl_value array = { .type = SL_TYPE_ARRAY };
    array.array.items = items;
    array.array.n_items = 2;
    expect_rejection(&list, array, SL_ETYPE, "list element 1: cannot convert string \"x\" to int");
    items[1] = sl_value_null();
    expect_rejection(&list, array, SL_ETYPE, "list element 1: null is not allowed in a collection");
    expect_rejection(&list, sl_value_int(1), SL_ETYPE, "cannot convert int 1 to list");
    expect_rejection(&bare_list, array, SL_ETYPE, "cql list type has no element type");

    sl_member members[1] = { { SL_STR_LIT("x"), STR("y") } };
    sl_value object = { .type = SL_TYPE_OBJECT };
    object.object.members = members;
    object.object.n_members = 1;
    expect_rejection(&int_map, object, SL_ETYPE, "map key \"x\": \"x\" is not an integer");
    members[0].key = SL_STR_LIT(" 5");
    expect_rejection(&int_map, object, SL_ETYPE, "map key \" 5\": \" 5\" is not an integer");
    members[0].key = SL_STR_LIT("5");
    members[0].value = sl_value_null();
    expect_rejection(&int_map, object, SL_ETYPE, "map key \"5\": null is not allowed in a collection");
    expect_rejection(&int_map, array, SL_ETYPE, "cannot convert array to map");
}

Test(cql_codec, unsupported_types_are_named)
{
    sl_cql_type udt = scalar(SL_CQL_UDT), tuple = scalar(SL_CQL_TUPLE), custom = scalar(SL_CQL_CUSTOM);
    expect_rejection(&udt, STR("x"), SL_ETYPE, "cql type udt is not supported");
    expect_rejection(&tuple, STR("x"), SL_ETYPE, "cql type tuple is not supported");
    expect_rejection(&custom, STR("x"), SL_ETYPE, "cql type custom is not supported");
}

/* ---- decoding and round trips ---- */

Test(cql_codec, scalars_round_trip_through_encode_and_decode)
{
    sl_arena *arena = sl_arena_new(0);
    struct {
        sl_cql_type_code code;
        sl_value in;
        sl_value want;
    } cases[] = {
        { SL_CQL_TINYINT, sl_value_int(-5), sl_value_int(-5) },
        { SL_CQL_SMALLINT, sl_value_int(-32768), sl_value_int(-32768) },
        { SL_CQL_INT, sl_value_int(123456), sl_value_int(123456) },
        { SL_CQL_BIGINT, sl_value_int(INT64_MIN), sl_value_int(INT64_MIN) },
        { SL_CQL_COUNTER, sl_value_int(42), sl_value_int(42) },
        { SL_CQL_VARINT, sl_value_int(-129), sl_value_int(-129) },
        { SL_CQL_VARINT, sl_value_int(INT64_MAX), sl_value_int(INT64_MAX) },
        { SL_CQL_VARINT, STR("18446744073709551616"), STR("18446744073709551616") },
        { SL_CQL_VARINT, STR("-18446744073709551617"), STR("-18446744073709551617") },
        { SL_CQL_VARINT, STR("-1000000000000000000000000000000"),
          STR("-1000000000000000000000000000000") },
        { SL_CQL_DECIMAL, sl_value_double(1.5), STR("1.5") },
        { SL_CQL_DECIMAL, STR("-12.345"), STR("-12.345") },
        { SL_CQL_DECIMAL, STR("1e-3"), STR("0.001") },
        { SL_CQL_DECIMAL, STR("1.50"), STR("1.50") },
        { SL_CQL_DECIMAL, STR("1E+2"), STR("1E+2") },
        { SL_CQL_DECIMAL, STR("0.000001"), STR("0.000001") },
        { SL_CQL_DECIMAL, STR("1E-7"), STR("1E-7") },
        { SL_CQL_DECIMAL, STR("-1.23E-10"), STR("-1.23E-10") },
        { SL_CQL_DECIMAL, STR("12345678901234567890.12"), STR("12345678901234567890.12") },
        { SL_CQL_DECIMAL, sl_value_int(-7), STR("-7") },
        { SL_CQL_FLOAT, sl_value_double(1.5), sl_value_double(1.5) },
        { SL_CQL_DOUBLE, sl_value_double(0.1), sl_value_double(0.1) },
        { SL_CQL_BOOLEAN, sl_value_bool(true), sl_value_bool(true) },
        { SL_CQL_TIMESTAMP, sl_value_timestamp(1704164645678000), sl_value_timestamp(1704164645678000) },
        { SL_CQL_TIMESTAMP, sl_value_timestamp(1999), sl_value_timestamp(1000) },
        { SL_CQL_DATE, STR("2024-02-29"), STR("2024-02-29") },
        { SL_CQL_DATE, STR("0001-01-01"), STR("0001-01-01") },
        { SL_CQL_DATE, STR("-0044-03-15"), STR("-0044-03-15") },
        { SL_CQL_DATE, STR("-5877641-06-23"), STR("-5877641-06-23") },
        { SL_CQL_DATE, STR("5881580-07-11"), STR("5881580-07-11") },
        { SL_CQL_TIME, STR("12:34:56.789"), STR("12:34:56.789000000") },
        { SL_CQL_TIME, sl_value_int(1), STR("00:00:00.000000001") },
        { SL_CQL_UUID, STR("550E8400-E29B-41D4-A716-446655440000"),
          STR("550e8400-e29b-41d4-a716-446655440000") },
        { SL_CQL_TIMEUUID, STR("c1b3e7a0-5e7a-11ee-8c99-0242ac120002"),
          STR("c1b3e7a0-5e7a-11ee-8c99-0242ac120002") },
        { SL_CQL_INET, STR("10.1.2.3"), STR("10.1.2.3") },
        { SL_CQL_INET, STR("2001:DB8:0:0::FF00:42:8329"), STR("2001:db8::ff00:42:8329") },
        { SL_CQL_BLOB, bytes_value("\x00z", 2), bytes_value("\x00z", 2) },
        { SL_CQL_ASCII, STR("plain"), STR("plain") },
        { SL_CQL_VARCHAR, STR("caf\xc3\xa9"), STR("caf\xc3\xa9") },
        { SL_CQL_VARCHAR, sl_value_int(2100), STR("2100") },
        { SL_CQL_INT, sl_value_null(), sl_value_null() },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_cql_type type = scalar(cases[i].code);
        sl_value back = round_trip(arena, &type, cases[i].in);
        char got[128] = "", want[128] = "";
        if (back.type == SL_TYPE_STRING) snprintf(got, sizeof got, "%.*s", (int)back.string.len, back.string.ptr);
        if (cases[i].want.type == SL_TYPE_STRING)
            snprintf(want, sizeof want, "%.*s", (int)cases[i].want.string.len, cases[i].want.string.ptr);
        cr_assert(sl_value_equal(&back, &cases[i].want), "case %zu: got %s %s, want %s %s", i,
                  sl_type_name(back.type), got, sl_type_name(cases[i].want.type), want);
    }
    sl_arena_free(arena);
}

Test(cql_codec, decoded_strings_are_copied_into_the_arena)
{
    sl_arena *arena = sl_arena_new(0);
    sl_cql_type text = scalar(SL_CQL_VARCHAR);
    uint8_t cell[3] = { 'a', 'b', 'c' };
    sl_value v;
    cr_assert_eq(sl_cql_decode_value(&text, cell, 3, arena, &v, NULL), SL_OK);
    cell[0] = 'X';
    cr_assert(sl_str_eq_cstr(v.string, "abc"));
    sl_arena_free(arena);
}

Test(cql_codec, varint_decodes_to_int_when_it_fits_even_if_not_minimal)
{
    sl_arena *arena = sl_arena_new(0);
    sl_cql_type t = scalar(SL_CQL_VARINT);
    sl_error err = { 0 };
    int rc;
    sl_value v = decode_hex(arena, &t, "000000000001", &rc, &err);
    cr_assert_eq(rc, SL_OK);
    cr_assert(v.type == SL_TYPE_INT && v.integer == 1);
    v = decode_hex(arena, &t, "ffffffffffffffffff7f", &rc, &err);
    cr_assert(v.type == SL_TYPE_INT && v.integer == -129);
    v = decode_hex(arena, &t, "ff7fffffffffffffff", &rc, &err);   /* -2^63 - 1 */
    cr_assert_eq(v.type, SL_TYPE_STRING);
    cr_assert(sl_str_eq_cstr(v.string, "-9223372036854775809"));
    sl_arena_free(arena);
}

Test(cql_codec, dates_times_and_decimals_decode_to_their_text)
{
    sl_cql_type date = scalar(SL_CQL_DATE), time = scalar(SL_CQL_TIME),
                decimal = scalar(SL_CQL_DECIMAL), inet = scalar(SL_CQL_INET);
    expect_decoded_string(&date, "80000000", "1970-01-01");
    expect_decoded_string(&date, "00000000", "-5877641-06-23");
    expect_decoded_string(&date, "ffffffff", "5881580-07-11");
    expect_decoded_string(&time, "00004e94914effff", "23:59:59.999999999");
    expect_decoded_string(&decimal, "00000000" "00", "0");
    expect_decoded_string(&decimal, "00000003" "cfc7", "-12.345");
    expect_decoded_string(&decimal, "00000005" "01", "0.00001");
    expect_decoded_string(&decimal, "fffffffd" "7b", "1.23E+5");
    expect_decoded_string(&decimal, "00000010" "7b", "1.23E-14");
    expect_decoded_string(&inet, "c0a80001", "192.168.0.1");
}

Test(cql_codec, collections_decode_to_arrays_and_objects_with_text_keys)
{
    sl_arena *arena = sl_arena_new(0);
    sl_error err = { 0 };
    int rc;
    sl_cql_type i32 = scalar(SL_CQL_INT), text = scalar(SL_CQL_VARCHAR), d = scalar(SL_CQL_DOUBLE),
                boolean = scalar(SL_CQL_BOOLEAN);
    sl_cql_type *int_param[1] = { &i32 };
    sl_cql_type list = { .code = SL_CQL_LIST, .params = int_param, .n_params = 1 };
    sl_cql_type *int_text[2] = { &i32, &text }, *double_int[2] = { &d, &i32 },
                *bool_int[2] = { &boolean, &i32 };
    sl_cql_type int_map = { .code = SL_CQL_MAP, .params = int_text, .n_params = 2 };
    sl_cql_type double_map = { .code = SL_CQL_MAP, .params = double_int, .n_params = 2 };
    sl_cql_type bool_map = { .code = SL_CQL_MAP, .params = bool_int, .n_params = 2 };

    sl_value v = decode_hex(arena, &list, "00000002" "0000000400000001" "ffffffff", &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(v.type, SL_TYPE_ARRAY);
    cr_assert_eq(v.array.n_items, 2);
    cr_assert(v.array.items[0].type == SL_TYPE_INT && v.array.items[0].integer == 1);
    cr_assert_eq(v.array.items[1].type, SL_TYPE_NULL);

    v = decode_hex(arena, &int_map, "00000001" "0000000400000007" "0000000178", &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(v.type, SL_TYPE_OBJECT);
    cr_assert_eq(v.object.n_members, 1);
    cr_assert(sl_str_eq_cstr(v.object.members[0].key, "7"));
    cr_assert(sl_str_eq_cstr(v.object.members[0].value.string, "x"));

    v = decode_hex(arena, &double_map, "00000001" "000000083ff8000000000000" "0000000400000002",
                   &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert(sl_str_eq_cstr(v.object.members[0].key, "1.5"));
    v = decode_hex(arena, &bool_map, "00000001" "0000000101" "0000000400000002", &rc, &err);
    cr_assert(sl_str_eq_cstr(v.object.members[0].key, "true"));

    sl_cql_type blob = scalar(SL_CQL_BLOB);
    sl_cql_type *blob_int[2] = { &blob, &i32 };
    sl_cql_type blob_map = { .code = SL_CQL_MAP, .params = blob_int, .n_params = 2 };
    v = decode_hex(arena, &blob_map, "00000001" "00000002" "01ff" "0000000400000002", &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert(sl_str_eq_cstr(v.object.members[0].key, "0x01ff"), "blob keys read as CQL literals");

    /* map → object → map gives the same bytes back. */
    sl_buffer out = SL_BUFFER_INIT;
    v = decode_hex(arena, &int_map, "00000002" "00000004fffffffe" "0000000161" "0000000400000003"
                   "00000000", &rc, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(sl_cql_encode_value(&int_map, &v, &out, &err), SL_OK, "%s", err.message);
    char hex[128];
    test_hex_encode(out.data, out.len, hex);
    cr_assert_str_eq(hex, "0000001d" "00000002" "00000004fffffffe" "0000000161" "0000000400000003"
                          "00000000");
    sl_buffer_free(&out);
    sl_arena_free(arena);
}

Test(cql_codec, wrong_lengths_and_truncated_collections_are_corrupt)
{
    sl_arena *arena = sl_arena_new(0);
    sl_error err = { 0 };
    int rc;
    sl_cql_type i32 = scalar(SL_CQL_INT), uuid = scalar(SL_CQL_UUID), inet = scalar(SL_CQL_INET),
                decimal = scalar(SL_CQL_DECIMAL), time = scalar(SL_CQL_TIME);
    sl_cql_type *int_param[1] = { &i32 };
    sl_cql_type list = { .code = SL_CQL_LIST, .params = int_param, .n_params = 1 };
    struct {
        const sl_cql_type *type;
        const char *hex;
        const char *message;
    } cases[] = {
        { &i32, "000001", "corrupt int value: 3 bytes, expected 4" },
        { &uuid, "00", "corrupt uuid value: 1 bytes, expected 16" },
        { &inet, "0102030405", "corrupt inet value: 5 bytes, expected 4 or 16" },
        { &decimal, "00000001", "corrupt decimal value: 4 bytes, expected at least 5" },
        { &time, "ffffffffffffffff", "corrupt time value: -1 ns is not a time of day" },
        { &list, "000000", "corrupt list value: 3 bytes, expected at least 4" },
        { &list, "7fffffff00000000", "corrupt list value: 2147483647 elements in 8 bytes" },
        { &list, "ffffffff", "corrupt list value: -1 elements in 4 bytes" },
        { &list, "00000001" "00000004" "0000", "corrupt list value: element 0 of 4 bytes past the end" },
        { &list, "00000001" "00000003" "000000", "corrupt int value: 3 bytes, expected 4" },
        { &list, "00000001" "0000000400000001" "ff", "corrupt list value: 1 bytes left over" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_error_clear(&err);
        decode_hex(arena, cases[i].type, cases[i].hex, &rc, &err);
        cr_assert_eq(rc, SL_ECORRUPT, "case %zu (%s): rc %d", i, cases[i].hex, rc);
        cr_assert_str_eq(err.message, cases[i].message);
    }
    sl_arena_free(arena);
}

Test(cql_codec, null_and_empty_cells_decode_as_null_except_text_and_blob)
{
    sl_arena *arena = sl_arena_new(0);
    sl_cql_type i32 = scalar(SL_CQL_INT), text = scalar(SL_CQL_VARCHAR), blob = scalar(SL_CQL_BLOB),
                duration = scalar(SL_CQL_DURATION);
    sl_value v;
    cr_assert_eq(sl_cql_decode_value(&i32, NULL, -1, arena, &v, NULL), SL_OK);
    cr_assert_eq(v.type, SL_TYPE_NULL);
    cr_assert_eq(sl_cql_decode_value(&i32, (const uint8_t *)"", 0, arena, &v, NULL), SL_OK);
    cr_assert_eq(v.type, SL_TYPE_NULL);
    cr_assert_eq(sl_cql_decode_value(&text, (const uint8_t *)"", 0, arena, &v, NULL), SL_OK);
    cr_assert(v.type == SL_TYPE_STRING && v.string.len == 0);
    cr_assert_eq(sl_cql_decode_value(&blob, (const uint8_t *)"", 0, arena, &v, NULL), SL_OK);
    cr_assert(v.type == SL_TYPE_BYTES && v.string.len == 0);
    cr_assert_eq(sl_cql_decode_value(&duration, (const uint8_t *)"\x02\x04\x06", 3, arena, &v, NULL),
                 SL_OK);
    cr_assert(v.type == SL_TYPE_BYTES && v.string.len == 3, "unsupported types decode as raw bytes");
    sl_arena_free(arena);
}

Test(cql_codec, many_rows_encode_into_one_buffer_back_to_back)
{
    sl_cql_type i64 = scalar(SL_CQL_BIGINT), text = scalar(SL_CQL_VARCHAR);
    sl_buffer out = SL_BUFFER_INIT;
    sl_error err = { 0 };
    for (int i = 0; i < 1000; i++) {
        sl_value id = sl_value_int(i), name = STR("row");
        cr_assert_eq(sl_cql_encode_value(&i64, &id, &out, &err), SL_OK);
        cr_assert_eq(sl_cql_encode_value(&text, &name, &out, &err), SL_OK);
    }
    cr_assert_eq(out.len, 1000 * (12 + 7));
    cr_assert_eq(memcmp(out.data + 999 * 19, "\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x03\xe7", 12), 0);
    sl_buffer_free(&out);
}

Test(cql_codec, varint_text_and_int_paths_agree_and_long_numbers_decode_back)
{
    sl_cql_type t = scalar(SL_CQL_VARINT);
    sl_arena *arena = sl_arena_new(0);
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 2000; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        int64_t v = (int64_t)(state >> (i % 64));   /* every magnitude */
        if (i % 2) v = -v;
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)v);
        sl_buffer from_int = SL_BUFFER_INIT, from_text = SL_BUFFER_INIT;
        sl_value as_int = sl_value_int(v), as_text = sl_value_string(sl_str_from(text));
        cr_assert_eq(sl_cql_encode_value(&t, &as_int, &from_int, NULL), SL_OK);
        cr_assert_eq(sl_cql_encode_value(&t, &as_text, &from_text, NULL), SL_OK);
        cr_assert_eq(from_int.len, from_text.len, "%s", text);
        cr_assert_eq(memcmp(from_int.data, from_text.data, from_int.len), 0, "%s", text);
        sl_value back = round_trip(arena, &t, as_text);
        cr_assert(back.type == SL_TYPE_INT && back.integer == v, "%s", text);
        sl_buffer_free(&from_int);
        sl_buffer_free(&from_text);
    }

    /* 10000 digits there and back, positive and negative. */
    static char digits[10002];
    digits[0] = '-';
    for (int i = 1; i <= 10000; i++) digits[i] = (char)('0' + (i * 7 + i / 13) % 10);
    digits[1] = '9';
    for (int negative = 0; negative < 2; negative++) {
        sl_str text = { digits + !negative, 10000 + (size_t)negative };
        sl_value back = round_trip(arena, &t, sl_value_string(text));
        cr_assert_eq(back.type, SL_TYPE_STRING);
        cr_assert(sl_str_eq(back.string, text), "%d digits come back the same", 10000);
    }
    sl_arena_free(arena);
}

/* Cassandra's duration: three zigzag vints (months, days, nanoseconds), the
 * byte counts told by the first byte's leading 1 bits (VIntCoding). */
Test(cql_codec, duration_is_three_zigzag_vints_from_an_interval_or_its_text)
{
    sl_cql_type duration = scalar(SL_CQL_DURATION), text = scalar(SL_CQL_VARCHAR);
    /* 1 mon 2 days 1 µs: 1 → 02, 2 → 04, 1000 ns → zigzag 2000 = 0x7d0, two bytes 0x87 0xd0. */
    expect_encoding(&duration, sl_value_interval(1, 2, 1), "000000040204" "87d0");
    expect_encoding(&duration, sl_value_interval(-1, 0, 0), "00000003010000");
    /* Text is read as an interval: 1e9 ns → zigzag 2e9 = 0x77359400, five bytes after 0xf0's four 1 bits. */
    expect_encoding(&duration, STR("P1DT1S"), "00000007" "00" "02" "f077359400");
    /* The most negative µs: its ns zigzag to 64 bits, eight bytes after 0xff. */
    expect_encoding(&duration, sl_value_interval(0, 0, INT64_MIN / 1000), "0000000b" "00" "00" "ff" "fffffffffffff9af");
    expect_rejection(&duration, sl_value_interval(1, -1, 0), SL_ETYPE,
                     "cannot convert interval with fields of both signs to duration (Cassandra's months, days and "
                     "nanoseconds must share one sign)");
    expect_rejection(&duration, sl_value_interval(0, 0, INT64_MIN), SL_ETYPE,
                     "interval '-2562047788:00:54.775808' out of range for duration");
    expect_rejection(&duration, STR("soon"), SL_ETYPE, "\"soon\" is not an interval ('1 day 02:00:00', 'P1DT2H')");
    expect_rejection(&duration, sl_value_int(5), SL_ETYPE, "cannot convert int 5 to duration");
    sl_cql_type i32 = scalar(SL_CQL_INT);
    expect_rejection(&i32, sl_value_interval(0, 1, 0), SL_ETYPE, "cannot convert interval '1 day' to int");
    /* A text column gets PostgreSQL's text. */
    expect_encoding(&text, sl_value_interval(0, 1, 7200000000), "0000000e" "31206461792030323a30303a3030");
}
