/* cql_type_test.c — CQL type descriptors: [option] bytes of every shape
 * (native, custom, list, set, map, UDT, tuple) read exactly and refused when
 * short, unknown or nested without end; DDL type names parsed (case,
 * whitespace, frozen<> dropped, UDT references, custom classes) or refused
 * with the column of the fault; names formatted back. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cql/cql_type.h"

static sl_arena *arena;

static void setup(void) { arena = sl_arena_new(0); }
static void teardown(void) { sl_arena_free(arena); }

TestSuite(cql_type, .init = setup, .fini = teardown);

static sl_cql_type *read_ok(const uint8_t *bytes, size_t len)
{
    sl_cql_type *type = NULL;
    size_t used = 0;
    sl_error err = { 0 };
    int rc = sl_cql_type_read_option(bytes, len, &used, arena, &type, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(used, len, "used %zu of %zu", used, len);
    return type;
}

static const char *format(const sl_cql_type *type)
{
    static char text[256];
    return sl_cql_type_format(type, text, sizeof text);
}

Test(cql_type, reads_every_native_option)
{
    static const struct { uint16_t id; const char *name; } natives[] = {
        { 0x01, "ascii" }, { 0x02, "bigint" }, { 0x03, "blob" }, { 0x04, "boolean" },
        { 0x05, "counter" }, { 0x06, "decimal" }, { 0x07, "double" }, { 0x08, "float" },
        { 0x09, "int" }, { 0x0B, "timestamp" }, { 0x0C, "uuid" }, { 0x0D, "text" },
        { 0x0E, "varint" }, { 0x0F, "timeuuid" }, { 0x10, "inet" }, { 0x11, "date" },
        { 0x12, "time" }, { 0x13, "smallint" }, { 0x14, "tinyint" }, { 0x15, "duration" },
    };
    for (size_t i = 0; i < sizeof natives / sizeof natives[0]; i++) {
        uint8_t bytes[2] = { 0, (uint8_t)natives[i].id };
        sl_cql_type *type = read_ok(bytes, 2);
        cr_assert_eq(type->code, natives[i].id);
        cr_assert_eq(type->n_params, 0);
        cr_assert_str_eq(format(type), natives[i].name);
    }
}

Test(cql_type, reads_custom_list_set_and_map_options)
{
    const uint8_t custom[] = { 0x00, 0x00, 0x00, 0x03, 'a', '.', 'B' };
    sl_cql_type *type = read_ok(custom, sizeof custom);
    cr_assert_eq(type->code, SL_CQL_CUSTOM);
    cr_assert(sl_str_eq_cstr(type->custom_class, "a.B"));
    cr_assert_str_eq(format(type), "'a.B'");

    /* Protocol v4 names a duration column by its class: it is a duration. */
    const char duration_class[] = "org.apache.cassandra.db.marshal.DurationType";
    uint8_t duration[4 + sizeof duration_class] = { 0x00, 0x00, 0x00, (uint8_t)(sizeof duration_class - 1) };
    memcpy(duration + 4, duration_class, sizeof duration_class - 1);
    type = read_ok(duration, sizeof duration - 1);
    cr_assert_eq(type->code, SL_CQL_DURATION);
    cr_assert_str_eq(format(type), "duration");

    const uint8_t list[] = { 0x00, 0x20, 0x00, 0x0D };
    type = read_ok(list, sizeof list);
    cr_assert_eq(type->code, SL_CQL_LIST);
    cr_assert_eq(type->n_params, 1);
    cr_assert_eq(type->params[0]->code, SL_CQL_VARCHAR);

    const uint8_t set[] = { 0x00, 0x22, 0x00, 0x0C };
    cr_assert_str_eq(format(read_ok(set, sizeof set)), "set<uuid>");

    const uint8_t map[] = { 0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09 };
    type = read_ok(map, sizeof map);
    cr_assert_eq(type->code, SL_CQL_MAP);
    cr_assert_eq(type->n_params, 2);
    cr_assert_str_eq(format(type), "map<text, list<int>>");
}

Test(cql_type, reads_udt_and_tuple_options)
{
    const uint8_t udt[] = {
        0x00, 0x30,
        0x00, 0x02, 'k', 's',
        0x00, 0x04, 'a', 'd', 'd', 'r',
        0x00, 0x02,
        0x00, 0x06, 's', 't', 'r', 'e', 'e', 't', 0x00, 0x0D,
        0x00, 0x03, 'z', 'i', 'p', 0x00, 0x22, 0x00, 0x09,
    };
    sl_cql_type *type = read_ok(udt, sizeof udt);
    cr_assert_eq(type->code, SL_CQL_UDT);
    cr_assert(sl_str_eq_cstr(type->udt_keyspace, "ks"));
    cr_assert(sl_str_eq_cstr(type->udt_name, "addr"));
    cr_assert_eq(type->n_params, 2);
    cr_assert(sl_str_eq_cstr(type->field_names[0], "street"));
    cr_assert(sl_str_eq_cstr(type->field_names[1], "zip"));
    cr_assert_eq(type->params[0]->code, SL_CQL_VARCHAR);
    cr_assert_eq(type->params[1]->code, SL_CQL_SET);
    cr_assert_eq(type->params[1]->params[0]->code, SL_CQL_INT);
    cr_assert_str_eq(format(type), "ks.addr");

    const uint8_t tuple[] = { 0x00, 0x31, 0x00, 0x03, 0x00, 0x09, 0x00, 0x0D, 0x00, 0x03 };
    type = read_ok(tuple, sizeof tuple);
    cr_assert_eq(type->n_params, 3);
    cr_assert_str_eq(format(type), "tuple<int, text, blob>");
}

Test(cql_type, reports_bytes_used_when_more_follow)
{
    const uint8_t bytes[] = { 0x00, 0x20, 0x00, 0x09, 0xAA, 0xBB };
    sl_cql_type *type;
    size_t used = 0;
    cr_assert_eq(sl_cql_type_read_option(bytes, sizeof bytes, &used, arena, &type, NULL), SL_OK);
    cr_assert_eq(used, 4);
}

Test(cql_type, refuses_every_truncation_of_an_option)
{
    const uint8_t udt[] = {
        0x00, 0x30, 0x00, 0x02, 'k', 's', 0x00, 0x01, 'u',
        0x00, 0x01, 0x00, 0x01, 'f', 0x00, 0x21, 0x00, 0x0D, 0x00, 0x00, 0x00, 0x01, 'X',
    };
    for (size_t len = 0; len < sizeof udt; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, udt, len);
        sl_cql_type *type = NULL;
        size_t used = 0;
        sl_error err = { 0 };
        int rc = sl_cql_type_read_option(copy, len, &used, arena, &type, &err);
        cr_assert_eq(rc, SL_ECORRUPT, "length %zu gave %d", len, rc);
        cr_assert(strstr(err.message, "truncated") || strstr(err.message, "cannot fit"),
                  "length %zu: %s", len, err.message);
        free(copy);
    }
    read_ok(udt, sizeof udt);
}

Test(cql_type, refuses_unknown_ids_and_endless_nesting)
{
    const uint8_t unknown[] = { 0x00, 0x0A };
    sl_cql_type *type;
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_type_read_option(unknown, 2, NULL, arena, &type, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "unknown type id 0x000a"), "%s", err.message);

    uint8_t deep[200];
    for (size_t i = 0; i < sizeof deep; i += 2) {
        deep[i] = 0x00;
        deep[i + 1] = 0x20;
    }
    cr_assert_eq(sl_cql_type_read_option(deep, sizeof deep, NULL, arena, &type, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "nests deeper"), "%s", err.message);
}

Test(cql_type, refuses_a_udt_field_count_the_bytes_cannot_hold)
{
    const uint8_t udt[] = { 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x09 };
    sl_cql_type *type;
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_type_read_option(udt, sizeof udt, NULL, arena, &type, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "65535 fields"), "%s", err.message);
}

static sl_cql_type *parse_ok(const char *text)
{
    sl_cql_type *type = NULL;
    sl_error err = { 0 };
    int rc = sl_cql_type_parse_name(sl_str_from(text), arena, &type, &err);
    cr_assert_eq(rc, SL_OK, "'%s': %s", text, err.message);
    return type;
}

Test(cql_type, parses_names_case_and_space_insensitively_dropping_frozen)
{
    static const struct { const char *text; const char *formatted; } cases[] = {
        { "text", "text" },
        { "VARCHAR", "text" },
        { "  BigInt ", "bigint" },
        { "list<int>", "list<int>" },
        { "map<text,int>", "map<text, int>" },
        { " map < text , frozen < list < int > > > ", "map<text, list<int>>" },
        { "frozen<set<uuid>>", "set<uuid>" },
        { "tuple<int, text, frozen<map<timeuuid, blob>>>", "tuple<int, text, map<timeuuid, blob>>" },
        { "list<frozen<tuple<smallint,tinyint>>>", "list<tuple<smallint, tinyint>>" },
        { "frozen<ks.address>", "ks.address" },
        { "address", "address" },
        { "\"Address\"", "Address" },
        { "'org.apache.cassandra.db.marshal.BytesType'", "'org.apache.cassandra.db.marshal.BytesType'" },
        { "duration", "duration" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(format(parse_ok(cases[i].text)), cases[i].formatted, "for '%s'", cases[i].text);
}

Test(cql_type, parsed_trees_have_the_right_shape)
{
    sl_cql_type *type = parse_ok("map<text, frozen<list<int>>>");
    cr_assert_eq(type->code, SL_CQL_MAP);
    cr_assert_eq(type->n_params, 2);
    cr_assert_eq(type->params[0]->code, SL_CQL_VARCHAR);
    cr_assert_eq(type->params[1]->code, SL_CQL_LIST);
    cr_assert_eq(type->params[1]->params[0]->code, SL_CQL_INT);

    type = parse_ok("ks.addr");
    cr_assert_eq(type->code, SL_CQL_UDT);
    cr_assert(sl_str_eq_cstr(type->udt_keyspace, "ks"));
    cr_assert(sl_str_eq_cstr(type->udt_name, "addr"));
    cr_assert_eq(type->n_params, 0);

    type = parse_ok("tuple<int,int,int,int,int,int>");
    cr_assert_eq(type->n_params, 6);
}

static void parse_fails(const char *text, const char *expected)
{
    sl_cql_type *type = NULL;
    sl_error err = { 0 };
    int rc = sl_cql_type_parse_name(sl_str_from(text), arena, &type, &err);
    cr_assert_eq(rc, SL_EPARSE, "'%s' gave %d", text, rc);
    cr_assert(strstr(err.message, expected), "'%s': got \"%s\", wanted \"%s\"", text, err.message, expected);
}

Test(cql_type, refuses_bad_names_naming_the_column)
{
    parse_fails("", "expected a type name at end of text");
    parse_fails("map<text>", "map at column 1 takes 2 types, got 1");
    parse_fails("list<int, int>", "list at column 1 takes 1 type, got 2");
    parse_fails("frozen<int, int>", "frozen at column 1 takes 1 type, got 2");
    parse_fails("list<int", "expected ',' or '>' at end of text");
    parse_fails("list<>", "expected a type name at column 6, found '>'");
    parse_fails("map<text,, int>", "expected a type name at column 10, found ','");
    parse_fails("int<text>", "unexpected text after the type at column 4, found '<'");
    parse_fails("list int", "expected '<' at column 6, found 'i'");
    parse_fails("'unterminated", "unterminated quoted custom type at column 1");
    parse_fails("\"Open", "unterminated quoted name at column 1");
    parse_fails("text extra", "unexpected text after the type at column 6");
}

Test(cql_type, refuses_names_nested_without_end)
{
    char text[400] = "";
    for (int i = 0; i < 60; i++) strcat(text, "list<");
    strcat(text, "int");
    for (int i = 0; i < 60; i++) strcat(text, ">");
    parse_fails(text, "type nests too deeply");
}

Test(cql_type, formats_into_a_small_buffer_truncated_and_terminated)
{
    sl_cql_type *type = parse_ok("map<text, int>");
    char small[8];
    cr_assert_eq(sl_cql_type_format(type, small, sizeof small), small);
    cr_assert_str_eq(small, "map<tex");
}

Test(cql_type, names_codes)
{
    cr_assert_str_eq(sl_cql_type_code_name(SL_CQL_VARCHAR), "text");
    cr_assert_str_eq(sl_cql_type_code_name(SL_CQL_TIMEUUID), "timeuuid");
    cr_assert_str_eq(sl_cql_type_code_name(SL_CQL_UDT), "udt");
    cr_assert_str_eq(sl_cql_type_code_name((sl_cql_type_code)0x7777), "custom");
}
