/* cql_frame_test.c — CQL native protocol v4 framing and messages, checked
 * against byte layouts written out by hand from native_protocol_v4.spec:
 * the frame header, the primitive notations and their bounds-checked
 * reader, every request builder, the decoding of every response kind
 * (results, each error's extras, events, warnings and tracing flags), every
 * truncation of every response failing cleanly, the retryable split, and
 * LZ4 body compression (round trip, corrupt and oversized input). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/messages.h"

static sl_arena *arena;

static void setup(void) { arena = sl_arena_new(0); }
static void teardown(void) { sl_arena_free(arena); }

TestSuite(cql_frame, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------- */

static void expect_bytes(const void *got, size_t got_len, const uint8_t *want, size_t want_len)
{
    const uint8_t *g = got;
    size_t n = got_len < want_len ? got_len : want_len;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(g[i], want[i], "byte %zu: got 0x%02x, want 0x%02x", i, g[i], want[i]);
    cr_assert_eq(got_len, want_len, "length: got %zu, want %zu", got_len, want_len);
}

#define EXPECT_BUFFER(buffer, ...)                                             \
    do {                                                                       \
        static const uint8_t want_[] = { __VA_ARGS__ };                        \
        expect_bytes((buffer).data, (buffer).len, want_, sizeof want_);        \
    } while (0)

static sl_str S(const char *text) { return sl_str_from(text); }

/* Test-side body writers (the writers themselves are checked byte by byte
 * in writes_each_primitive_notation). */
static void put_string(sl_buffer *b, const char *text) { cr_assert_eq(sl_cql_put_string(b, S(text)), 0); }
static void put_int(sl_buffer *b, int32_t v) { cr_assert_eq(sl_cql_put_int(b, v), 0); }
static void put_short(sl_buffer *b, uint16_t v) { cr_assert_eq(sl_cql_put_short(b, v), 0); }
static void put_byte(sl_buffer *b, uint8_t v) { cr_assert_eq(sl_cql_put_byte(b, v), 0); }

static int decode(uint8_t opcode, uint8_t flags, const void *body, size_t len, sl_cql_response *out,
                  sl_error *err)
{
    sl_cql_header header = { SL_CQL_VERSION_RESPONSE, flags, 5, opcode, (uint32_t)len };
    return sl_cql_decode_response(&header, body, len, arena, out, err);
}

static void decode_ok(uint8_t opcode, uint8_t flags, const void *body, size_t len, sl_cql_response *out)
{
    sl_error err = { 0 };
    int rc = decode(opcode, flags, body, len, out, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(out->opcode, opcode);
    cr_assert_eq(out->stream, 5);
}

/* Every strict prefix of body must fail with SL_ECORRUPT and a message; each
 * prefix is a fresh allocation of exactly its size so ASan sees overreads. */
static void expect_every_truncation_fails(uint8_t opcode, uint8_t flags, const uint8_t *body, size_t len)
{
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, body, cut);
        sl_cql_response response;
        sl_error err = { 0 };
        int rc = decode(opcode, flags, cut ? copy : NULL, cut, &response, &err);
        cr_assert_eq(rc, SL_ECORRUPT, "%s body cut to %zu of %zu bytes gave %d",
                     sl_cql_opcode_name(opcode), cut, len, rc);
        cr_assert(strstr(err.message, sl_cql_opcode_name(opcode)), "%s", err.message);
        free(copy);
        sl_arena_reset(arena);
    }
}

/* ---- header ---------------------------------------------------------------- */

Test(cql_frame, encodes_a_header_big_endian)
{
    sl_cql_header header = { SL_CQL_VERSION_REQUEST, SL_CQL_FLAG_TRACING, 0x1234, SL_CQL_OP_QUERY, 0x01020304 };
    uint8_t bytes[9];
    sl_cql_header_encode(&header, bytes);
    static const uint8_t want[] = { 0x04, 0x02, 0x12, 0x34, 0x07, 0x01, 0x02, 0x03, 0x04 };
    expect_bytes(bytes, 9, want, 9);
}

Test(cql_frame, decodes_a_response_header_with_negative_stream)
{
    static const uint8_t bytes[] = { 0x84, 0x08, 0xFF, 0xFF, 0x0C, 0x00, 0x00, 0x01, 0x10 };
    sl_cql_header header;
    cr_assert_eq(sl_cql_header_decode(bytes, sizeof bytes, SL_CQL_VERSION_RESPONSE, &header, NULL), 0);
    cr_assert_eq(header.version, 0x84);
    cr_assert_eq(header.flags, SL_CQL_FLAG_WARNING);
    cr_assert_eq(header.stream, -1);
    cr_assert_eq(header.opcode, SL_CQL_OP_EVENT);
    cr_assert_eq(header.length, 0x110);
}

Test(cql_frame, refuses_wrong_version_unknown_opcode_huge_length_and_short_header)
{
    sl_cql_header header;
    sl_error err = { 0 };
    static const uint8_t v3[] = { 0x83, 0, 0, 1, 0x08, 0, 0, 0, 0 };
    cr_assert_eq(sl_cql_header_decode(v3, 9, SL_CQL_VERSION_RESPONSE, &header, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "version byte 0x83, expected 0x84"), "%s", err.message);

    static const uint8_t request[] = { 0x04, 0, 0, 1, 0x08, 0, 0, 0, 0 };
    cr_assert_eq(sl_cql_header_decode(request, 9, SL_CQL_VERSION_RESPONSE, &header, &err), SL_ECORRUPT);
    cr_assert_eq(sl_cql_header_decode(request, 9, SL_CQL_VERSION_REQUEST, &header, &err), SL_OK);

    static const uint8_t op4[] = { 0x84, 0, 0, 1, 0x04, 0, 0, 0, 0 };
    cr_assert_eq(sl_cql_header_decode(op4, 9, SL_CQL_VERSION_RESPONSE, &header, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "unknown opcode 0x04"), "%s", err.message);

    static const uint8_t huge[] = { 0x84, 0, 0, 1, 0x08, 0x10, 0x00, 0x00, 0x01 };
    cr_assert_eq(sl_cql_header_decode(huge, 9, SL_CQL_VERSION_RESPONSE, &header, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "body length 268435457 exceeds the 256 MiB"), "%s", err.message);
    static const uint8_t limit[] = { 0x84, 0, 0, 1, 0x08, 0x10, 0x00, 0x00, 0x00 };
    cr_assert_eq(sl_cql_header_decode(limit, 9, SL_CQL_VERSION_RESPONSE, &header, &err), SL_OK);

    cr_assert_eq(sl_cql_header_decode(limit, 8, SL_CQL_VERSION_RESPONSE, &header, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "8 of 9 bytes"), "%s", err.message);
}

Test(cql_frame, names_opcodes_and_consistencies)
{
    cr_assert_str_eq(sl_cql_opcode_name(SL_CQL_OP_AUTH_SUCCESS), "AUTH_SUCCESS");
    cr_assert_str_eq(sl_cql_opcode_name(4), "UNKNOWN");
    cr_assert_str_eq(sl_cql_consistency_name(SL_CQL_LOCAL_QUORUM), "LOCAL_QUORUM");
    cr_assert_str_eq(sl_cql_consistency_name(11), "UNKNOWN");
}

Test(cql_frame, parses_consistency_from_config_text)
{
    static const struct { const char *text; sl_cql_consistency want; } cases[] = {
        { "local_quorum", SL_CQL_LOCAL_QUORUM }, { "QUORUM", SL_CQL_QUORUM }, { "one", SL_CQL_ONE },
        { "Local-One", SL_CQL_LOCAL_ONE },        { "any", SL_CQL_ANY },       { "EACH_QUORUM", SL_CQL_EACH_QUORUM },
        { "local_serial", SL_CQL_LOCAL_SERIAL },  { "all", SL_CQL_ALL },       { "three", SL_CQL_THREE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_cql_consistency got = SL_CQL_ANY;
        cr_assert_eq(sl_cql_consistency_parse(S(cases[i].text), &got, NULL), 0, "%s", cases[i].text);
        cr_assert_eq(got, cases[i].want, "%s", cases[i].text);
    }
    sl_cql_consistency got;
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_consistency_parse(S("quorom"), &got, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "'quorom'") && strstr(err.message, "local_quorum"), "%s", err.message);
    cr_assert_eq(sl_cql_consistency_parse(S(""), &got, &err), SL_ECONFIG);
}

/* ---- primitives ------------------------------------------------------------ */

Test(cql_frame, writes_each_primitive_notation)
{
    sl_buffer b = SL_BUFFER_INIT;
    static const uint8_t uuid[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    const sl_str list[] = { S("a"), S("bc") };
    const sl_str keys[] = { S("k") }, values[] = { S("v") };
    cr_assert_eq(sl_cql_put_int(&b, -2), 0);
    cr_assert_eq(sl_cql_put_long(&b, 0x0102030405060708LL), 0);
    cr_assert_eq(sl_cql_put_short(&b, 0xABCD), 0);
    cr_assert_eq(sl_cql_put_string(&b, S("hi")), 0);
    cr_assert_eq(sl_cql_put_long_string(&b, S("x")), 0);
    cr_assert_eq(sl_cql_put_uuid(&b, uuid), 0);
    cr_assert_eq(sl_cql_put_string_list(&b, list, 2), 0);
    cr_assert_eq(sl_cql_put_bytes(&b, "\x01\x02", 2), 0);
    cr_assert_eq(sl_cql_put_bytes(&b, NULL, -1), 0);
    cr_assert_eq(sl_cql_put_short_bytes(&b, "\xAA", 1), 0);
    cr_assert_eq(sl_cql_put_string_map(&b, keys, values, 1), 0);
    cr_assert_eq(sl_cql_put_consistency(&b, SL_CQL_LOCAL_ONE), 0);
    cr_assert_eq(sl_cql_put_byte(&b, 0x7F), 0);
    EXPECT_BUFFER(b,
        0xFF, 0xFF, 0xFF, 0xFE,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0xAB, 0xCD,
        0x00, 0x02, 'h', 'i',
        0x00, 0x00, 0x00, 0x01, 'x',
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        0x00, 0x02, 0x00, 0x01, 'a', 0x00, 0x02, 'b', 'c',
        0x00, 0x00, 0x00, 0x02, 0x01, 0x02,
        0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x01, 0xAA,
        0x00, 0x01, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
        0x00, 0x0A,
        0x7F);
    sl_buffer_free(&b);
}

Test(cql_frame, writers_refuse_items_too_long_for_their_length_field)
{
    sl_buffer b = SL_BUFFER_INIT;
    char *big = calloc(70000, 1);
    cr_assert_eq(sl_cql_put_string(&b, (sl_str){ big, 70000 }), SL_ETOOBIG);
    cr_assert_eq(sl_cql_put_short_bytes(&b, big, 65536), SL_ETOOBIG);
    const sl_str items[] = { S("ok"), (sl_str){ big, 70000 } };
    cr_assert_eq(sl_cql_put_string_list(&b, items, 2), SL_ETOOBIG);
    cr_assert_eq(b.len, 0, "a failed list leaves the buffer unchanged");
    cr_assert_eq(sl_cql_put_short_bytes(&b, big, 65535), 0);
    cr_assert_eq(b.len, 65537);
    free(big);
    sl_buffer_free(&b);
}

Test(cql_frame, reader_reads_each_notation)
{
    static const uint8_t bytes[] = {
        0x7F, 0xFF, 0xFE, 0x80, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFD,
        0x00, 0x02, 'h', 'i',
        0x00, 0x00, 0x00, 0x01, 'L',
        0xFF, 0xFF, 0xFF, 0xFB,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x01, 0xEE,
        0x00, 0x02, 0x00, 0x01, 'a', 0x00, 0x00,
        0x04, 10, 0, 0, 1, 0x00, 0x00, 0x23, 0x52,
        0x00, 0x06,
    };
    sl_cql_reader r;
    sl_cql_reader_init(&r, bytes, sizeof bytes);
    uint8_t byte = 0;
    uint16_t u16 = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    sl_str s;
    const uint8_t *p;
    cr_assert_eq(sl_cql_get_byte(&r, &byte, "b", NULL), 0);
    cr_assert_eq(byte, 0x7F);
    cr_assert_eq(sl_cql_get_short(&r, &u16, "s", NULL), 0);
    cr_assert_eq(u16, 0xFFFE);
    cr_assert_eq(sl_cql_get_int(&r, &i32, "i", NULL), 0);
    cr_assert_eq(i32, INT32_MIN);
    cr_assert_eq(sl_cql_get_long(&r, &i64, "l", NULL), 0);
    cr_assert_eq(i64, -3);
    cr_assert_eq(sl_cql_get_string(&r, &s, "str", NULL), 0);
    cr_assert(sl_str_eq_cstr(s, "hi"));
    cr_assert_eq((const uint8_t *)s.ptr, bytes + 17, "strings point into the input");
    cr_assert_eq(sl_cql_get_long_string(&r, &s, "ls", NULL), 0);
    cr_assert(sl_str_eq_cstr(s, "L"));
    cr_assert_eq(sl_cql_get_bytes(&r, &p, &i32, "null", NULL), 0);
    cr_assert_eq(i32, -1, "any negative length is null");
    cr_assert_null(p);
    cr_assert_eq(sl_cql_get_bytes(&r, &p, &i32, "empty", NULL), 0);
    cr_assert_eq(i32, 0);
    cr_assert_not_null(p);
    cr_assert_eq(sl_cql_get_short_bytes(&r, &s, "sb", NULL), 0);
    cr_assert_eq(s.len, 1);
    sl_str *list;
    size_t n;
    cr_assert_eq(sl_cql_get_string_list(&r, arena, &list, &n, "list", NULL), 0);
    cr_assert_eq(n, 2);
    cr_assert(sl_str_eq_cstr(list[0], "a") && sl_str_eq_cstr(list[1], ""));
    sl_cql_inet inet;
    cr_assert_eq(sl_cql_get_inet(&r, &inet, "inet", NULL), 0);
    cr_assert_eq(inet.address_len, 4);
    cr_assert_eq(inet.address[0], 10);
    cr_assert_eq(inet.address[3], 1);
    cr_assert_eq(inet.port, 9042);
    sl_cql_consistency cl;
    cr_assert_eq(sl_cql_get_consistency(&r, &cl, "cl", NULL), 0);
    cr_assert_eq(cl, SL_CQL_LOCAL_QUORUM);
    cr_assert_eq(sl_cql_reader_left(&r), 0);
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_get_byte(&r, &byte, "trailer", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "reading trailer ([byte]) at byte 53: need 1 bytes, 0 left"), "%s", err.message);
}

Test(cql_frame, reader_fails_on_short_or_invalid_items_without_consuming)
{
    sl_cql_reader r;
    sl_error err = { 0 };
    int32_t i32;
    sl_str s;

    static const uint8_t three[] = { 0, 0, 0 };
    sl_cql_reader_init(&r, three, 3);
    cr_assert_eq(sl_cql_get_int(&r, &i32, "row count", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "reading row count ([int]) at byte 0: need 4 bytes, 3 left"), "%s", err.message);
    cr_assert_eq(r.pos, 0);

    static const uint8_t short_string[] = { 0x00, 0x05, 'a', 'b', 'c' };
    sl_cql_reader_init(&r, short_string, sizeof short_string);
    cr_assert_eq(sl_cql_get_string(&r, &s, "column name", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "column name ([string]) at byte 0: need 7 bytes, 5 left"), "%s", err.message);
    cr_assert_eq(r.pos, 0);

    static const uint8_t big_bytes[] = { 0x7F, 0xFF, 0xFF, 0xFF, 1 };
    const uint8_t *p;
    sl_cql_reader_init(&r, big_bytes, sizeof big_bytes);
    cr_assert_eq(sl_cql_get_bytes(&r, &p, &i32, "cell", &err), SL_ECORRUPT);
    cr_assert_eq(r.pos, 0);

    static const uint8_t negative[] = { 0xFF, 0xFF, 0xFF, 0xFF };
    sl_cql_reader_init(&r, negative, 4);
    cr_assert_eq(sl_cql_get_long_string(&r, &s, "query", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "negative length -1 reading query"), "%s", err.message);
    cr_assert_eq(r.pos, 0);

    static const uint8_t bad_inet[] = { 0x05, 1, 2, 3, 4, 5, 0, 0, 0, 0 };
    sl_cql_inet inet;
    sl_cql_reader_init(&r, bad_inet, sizeof bad_inet);
    cr_assert_eq(sl_cql_get_inet(&r, &inet, "node", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "address size 5"), "%s", err.message);
    static const uint8_t short_inet[] = { 0x04, 1, 2, 3, 4, 0, 0 };
    sl_cql_reader_init(&r, short_inet, sizeof short_inet);
    cr_assert_eq(sl_cql_get_inet(&r, &inet, "node", &err), SL_ECORRUPT);
    cr_assert_eq(r.pos, 0);

    static const uint8_t bad_cl[] = { 0x00, 0x0B };
    sl_cql_consistency cl;
    sl_cql_reader_init(&r, bad_cl, 2);
    cr_assert_eq(sl_cql_get_consistency(&r, &cl, "cl", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "consistency 0x000b"), "%s", err.message);

    static const uint8_t long_list[] = { 0xFF, 0xFF, 0x00, 0x00 };
    sl_str *list;
    size_t n;
    sl_cql_reader_init(&r, long_list, sizeof long_list);
    cr_assert_eq(sl_cql_get_string_list(&r, arena, &list, &n, "warnings", &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "65535 strings cannot fit in 2 bytes"), "%s", err.message);
    cr_assert_eq(r.pos, 0);
}

/* ---- requests ---------------------------------------------------------------- */

Test(cql_frame, builds_startup_with_and_without_lz4)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_startup(&b, 1, false, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x16,
                  0x00, 0x01,
                  0x00, 0x0B, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
                  0x00, 0x05, '3', '.', '0', '.', '0');
    sl_buffer_clear(&b);
    cr_assert_eq(sl_cql_build_startup(&b, 0, true, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x28,
                  0x00, 0x02,
                  0x00, 0x0B, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
                  0x00, 0x05, '3', '.', '0', '.', '0',
                  0x00, 0x0B, 'C', 'O', 'M', 'P', 'R', 'E', 'S', 'S', 'I', 'O', 'N',
                  0x00, 0x03, 'l', 'z', '4');
    sl_buffer_clear(&b);
    const sl_str keys[] = { S("CQL_VERSION"), S("APPLICATION_NAME") };
    const sl_str values[] = { S("3.0.0"), S("sl") };
    cr_assert_eq(sl_cql_build_startup_options(&b, 2, keys, values, 2, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x2C,
                  0x00, 0x02,
                  0x00, 0x0B, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
                  0x00, 0x05, '3', '.', '0', '.', '0',
                  0x00, 0x10, 'A', 'P', 'P', 'L', 'I', 'C', 'A', 'T', 'I', 'O', 'N', '_', 'N', 'A', 'M', 'E',
                  0x00, 0x02, 's', 'l');
    sl_buffer_free(&b);
}

Test(cql_frame, builds_options_and_plain_auth_response)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_options(&b, 0, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00);

    sl_buffer token = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_plain_token(&token, S("cassandra"), S("pw")), 0);
    EXPECT_BUFFER(token, 0x00, 'c', 'a', 's', 's', 'a', 'n', 'd', 'r', 'a', 0x00, 'p', 'w');
    sl_buffer_clear(&b);
    cr_assert_eq(sl_cql_build_auth_response(&b, 2, token.data, (int64_t)token.len, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x02, 0x0F, 0x00, 0x00, 0x00, 0x11,
                  0x00, 0x00, 0x00, 0x0D,
                  0x00, 'c', 'a', 's', 's', 'a', 'n', 'd', 'r', 'a', 0x00, 'p', 'w');
    sl_buffer_free(&token);
    sl_buffer_free(&b);
}

Test(cql_frame, builds_query_with_every_parameter)
{
    static const uint8_t values[] = { 0x00, 0x00, 0x00, 0x01, 0x2A, 0xFF, 0xFF, 0xFF, 0xFF };
    sl_cql_query_params params = {
        .consistency = SL_CQL_LOCAL_QUORUM,
        .values = values, .values_len = sizeof values, .n_values = 2,
        .skip_metadata = true,
        .page_size = 100,
        .paging_state = { "ps", 2 },
        .has_serial_consistency = true, .serial_consistency = SL_CQL_LOCAL_SERIAL,
        .has_default_timestamp = true, .default_timestamp = 0x0102030405060708LL,
    };
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_query(&b, 3, S("SELECT 1"), &params, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x03, 0x07, 0x00, 0x00, 0x00, 0x2E,
                  0x00, 0x00, 0x00, 0x08, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1',
                  0x00, 0x06,
                  0x3F,
                  0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x2A, 0xFF, 0xFF, 0xFF, 0xFF,
                  0x00, 0x00, 0x00, 0x64,
                  0x00, 0x00, 0x00, 0x02, 'p', 's',
                  0x00, 0x09,
                  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);
    sl_buffer_free(&b);
}

Test(cql_frame, builds_a_plain_query_and_appends_after_other_frames)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_options(&b, 9, NULL), 0);
    sl_cql_query_params params = { .consistency = SL_CQL_ONE };
    cr_assert_eq(sl_cql_build_query(&b, 10, S("USE ks"), &params, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x09, 0x05, 0x00, 0x00, 0x00, 0x00,
                  0x04, 0x00, 0x00, 0x0A, 0x07, 0x00, 0x00, 0x00, 0x0D,
                  0x00, 0x00, 0x00, 0x06, 'U', 'S', 'E', ' ', 'k', 's',
                  0x00, 0x01, 0x00);
    sl_buffer_free(&b);
}

Test(cql_frame, builds_prepare_and_execute)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_prepare(&b, 4, S("INSERT"), NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x04, 0x09, 0x00, 0x00, 0x00, 0x0A,
                  0x00, 0x00, 0x00, 0x06, 'I', 'N', 'S', 'E', 'R', 'T');
    sl_buffer_clear(&b);
    static const uint8_t values[] = { 0x00, 0x00, 0x00, 0x00 };
    sl_cql_query_params params = { .consistency = SL_CQL_QUORUM, .values = values, .values_len = 4, .n_values = 1 };
    cr_assert_eq(sl_cql_build_execute(&b, 5, (sl_str){ "\xAB\xCD", 2 }, &params, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x05, 0x0A, 0x00, 0x00, 0x00, 0x0D,
                  0x00, 0x02, 0xAB, 0xCD,
                  0x00, 0x04, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00);
    sl_buffer_free(&b);
}

Test(cql_frame, builds_a_batch_of_prepared_and_text_statements)
{
    static const uint8_t values[] = { 0x00, 0x00, 0x00, 0x01, 0x07 };
    const sl_cql_batch_statement statements[] = {
        { .prepared_id = { "\x01\x02", 2 }, .values = values, .values_len = 5, .n_values = 1 },
        { .query = { "Q", 1 } },
    };
    sl_cql_batch_options options = { .consistency = SL_CQL_LOCAL_ONE, .has_default_timestamp = true,
                                     .default_timestamp = 5 };
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_batch(&b, 6, SL_CQL_BATCH_UNLOGGED, statements, 2, &options, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x06, 0x0D, 0x00, 0x00, 0x00, 0x22,
                  0x01,
                  0x00, 0x02,
                  0x01, 0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07,
                  0x00, 0x00, 0x00, 0x00, 0x01, 'Q', 0x00, 0x00,
                  0x00, 0x0A,
                  0x20,
                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05);
    sl_buffer_clear(&b);
    sl_cql_batch_options serial = { .consistency = SL_CQL_ONE, .has_serial_consistency = true,
                                    .serial_consistency = SL_CQL_SERIAL };
    cr_assert_eq(sl_cql_build_batch(&b, 0, SL_CQL_BATCH_LOGGED, NULL, 0, &serial, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00, 0x08,
                  0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x08);
    sl_buffer_free(&b);
}

Test(cql_frame, builds_register)
{
    const sl_str events[] = { S("STATUS_CHANGE"), S("SCHEMA_CHANGE") };
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_register(&b, 7, events, 2, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x07, 0x0B, 0x00, 0x00, 0x00, 0x20,
                  0x00, 0x02,
                  0x00, 0x0D, 'S', 'T', 'A', 'T', 'U', 'S', '_', 'C', 'H', 'A', 'N', 'G', 'E',
                  0x00, 0x0D, 'S', 'C', 'H', 'E', 'M', 'A', '_', 'C', 'H', 'A', 'N', 'G', 'E');
    sl_buffer_free(&b);
}

Test(cql_frame, failed_builds_leave_the_buffer_unchanged)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_options(&b, 1, NULL), 0);
    sl_error err = { 0 };

    cr_assert_eq(sl_cql_build_options(&b, -1, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "stream id -1"), "%s", err.message);

    sl_cql_query_params lying = { .consistency = SL_CQL_ONE, .values = "", .values_len = 0, .n_values = 1 };
    cr_assert_eq(sl_cql_build_query(&b, 2, S("Q"), &lying, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "CQL QUERY: 1 bound values cannot fit in 0 encoded bytes"), "%s", err.message);

    sl_cql_query_params stray = { .consistency = SL_CQL_ONE, .values = "abcd", .values_len = 4 };
    cr_assert_eq(sl_cql_build_execute(&b, 2, S("id"), &stray, &err), SL_EINVAL);

    sl_cql_query_params past = { .consistency = SL_CQL_ONE, .has_default_timestamp = true, .default_timestamp = -1 };
    cr_assert_eq(sl_cql_build_query(&b, 2, S("Q"), &past, &err), SL_EINVAL);

    char *big = calloc(70000, 1);
    cr_assert_eq(sl_cql_build_execute(&b, 2, (sl_str){ big, 70000 }, &(sl_cql_query_params){ 0 }, &err), SL_ETOOBIG);
    cr_assert(strstr(err.message, "EXECUTE: prepared id is too large"), "%s", err.message);

    const sl_cql_batch_statement statements[] = {
        { .query = S("ok") },
        { .prepared_id = { big, 70000 } },
    };
    sl_cql_batch_options options = { .consistency = SL_CQL_ONE };
    cr_assert_eq(sl_cql_build_batch(&b, 3, SL_CQL_BATCH_LOGGED, statements, 2, &options, &err), SL_ETOOBIG);
    cr_assert(strstr(err.message, "BATCH statement 1"), "%s", err.message);
    cr_assert_eq(sl_cql_build_batch(&b, 3, (sl_cql_batch_type)7, statements, 1, &options, &err), SL_EINVAL);
    free(big);

    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00);
    sl_buffer_free(&b);
}

/* ---- responses ----------------------------------------------------------- */

Test(cql_frame, decodes_ready_authenticate_and_auth_tokens)
{
    sl_cql_response r;
    decode_ok(SL_CQL_OP_READY, 0, NULL, 0, &r);

    static const uint8_t authenticate[] = { 0x00, 0x05, 'P', 'l', 'a', 'i', 'n' };
    decode_ok(SL_CQL_OP_AUTHENTICATE, 0, authenticate, sizeof authenticate, &r);
    cr_assert(sl_str_eq_cstr(r.authenticator, "Plain"));
    cr_assert_neq((const void *)r.authenticator.ptr, (const void *)(authenticate + 2), "copied into the arena");
    expect_every_truncation_fails(SL_CQL_OP_AUTHENTICATE, 0, authenticate, sizeof authenticate);

    static const uint8_t challenge[] = { 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c' };
    decode_ok(SL_CQL_OP_AUTH_CHALLENGE, 0, challenge, sizeof challenge, &r);
    cr_assert(sl_str_eq_cstr(r.token, "abc"));
    expect_every_truncation_fails(SL_CQL_OP_AUTH_CHALLENGE, 0, challenge, sizeof challenge);

    static const uint8_t null_token[] = { 0xFF, 0xFF, 0xFF, 0xFF };
    decode_ok(SL_CQL_OP_AUTH_SUCCESS, 0, null_token, sizeof null_token, &r);
    cr_assert_null(r.token.ptr);
}

Test(cql_frame, decodes_supported_as_a_multimap)
{
    sl_buffer b = SL_BUFFER_INIT;
    put_short(&b, 2);
    put_string(&b, "COMPRESSION");
    put_short(&b, 2);
    put_string(&b, "lz4");
    put_string(&b, "snappy");
    put_string(&b, "CQL_VERSION");
    put_short(&b, 1);
    put_string(&b, "3.4.5");
    sl_cql_response r;
    decode_ok(SL_CQL_OP_SUPPORTED, 0, b.data, b.len, &r);
    cr_assert_eq(r.n_supported, 2);
    cr_assert(sl_str_eq_cstr(r.supported[0].key, "COMPRESSION"));
    cr_assert_eq(r.supported[0].n_values, 2);
    cr_assert(sl_str_eq_cstr(r.supported[0].values[1], "snappy"));
    cr_assert(sl_str_eq_cstr(r.supported[1].values[0], "3.4.5"));
    expect_every_truncation_fails(SL_CQL_OP_SUPPORTED, 0, (const uint8_t *)b.data, b.len);
    sl_buffer_free(&b);
}

/* Rows: global table spec ks.t, has_more_pages with paging state "PS1",
 * columns id int and attrs map<text, int>; rows (1, {'a': 1}) and (2, null). */
static const uint8_t rows_body[] = {
    0x00, 0x00, 0x00, 0x02,                         /* kind Rows */
    0x00, 0x00, 0x00, 0x03,                         /* flags Global_tables_spec | Has_more_pages */
    0x00, 0x00, 0x00, 0x02,                         /* columns */
    0x00, 0x00, 0x00, 0x03, 'P', 'S', '1',          /* paging state */
    0x00, 0x02, 'k', 's', 0x00, 0x01, 't',          /* global table spec */
    0x00, 0x02, 'i', 'd', 0x00, 0x09,               /* id int */
    0x00, 0x05, 'a', 't', 't', 'r', 's', 0x00, 0x21, 0x00, 0x0D, 0x00, 0x09, /* attrs map<text,int> */
    0x00, 0x00, 0x00, 0x02,                         /* rows */
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x11,
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x01, 'a',
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
    0xFF, 0xFF, 0xFF, 0xFF,
};

static void check_rows(const sl_cql_response *r, const uint8_t *body, size_t body_len)
{
    cr_assert_eq(r->result_kind, SL_CQL_RESULT_ROWS);
    const sl_cql_metadata *m = &r->rows.metadata;
    cr_assert(m->has_more_pages);
    cr_assert(sl_str_eq_cstr(m->paging_state, "PS1"));
    cr_assert_eq(m->n_columns, 2);
    cr_assert(sl_str_eq_cstr(m->columns[0].keyspace, "ks"));
    cr_assert(sl_str_eq_cstr(m->columns[1].table, "t"));
    cr_assert(sl_str_eq_cstr(m->columns[0].name, "id"));
    cr_assert_eq(m->columns[0].type->code, SL_CQL_INT);
    char text[64];
    cr_assert_str_eq(sl_cql_type_format(m->columns[1].type, text, sizeof text), "map<text, int>");
    cr_assert_eq(r->rows.n_rows, 2);

    sl_cql_row_iter it;
    sl_cql_cell cells[2];
    sl_cql_rows_begin(&r->rows, &it);
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 1);
    cr_assert_eq(cells[0].len, 4);
    cr_assert_eq(cells[0].ptr[3], 1);
    cr_assert_eq(cells[1].len, 17);
    cr_assert_eq(cells[1].ptr[8], 'a');
    if (body) cr_assert(cells[1].ptr > body && cells[1].ptr < body + body_len, "cells are not copied");
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 1);
    cr_assert_eq(cells[0].ptr[3], 2);
    cr_assert_eq(cells[1].len, -1);
    cr_assert_null(cells[1].ptr);
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 0);
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 0);
}

Test(cql_frame, decodes_rows_with_a_map_column_a_null_cell_and_more_pages)
{
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, rows_body, sizeof rows_body, &r);
    check_rows(&r, rows_body, sizeof rows_body);
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, rows_body, sizeof rows_body);
}

Test(cql_frame, decodes_rows_with_per_column_specs_and_with_no_metadata)
{
    sl_buffer b = SL_BUFFER_INIT;
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, 0);
    put_int(&b, 1);
    put_string(&b, "ks1");
    put_string(&b, "tab");
    put_string(&b, "v");
    put_short(&b, 0x0020);
    put_short(&b, 0x000C);
    put_int(&b, 0);
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, b.data, b.len, &r);
    cr_assert_not(r.rows.metadata.has_more_pages);
    cr_assert_null(r.rows.metadata.paging_state.ptr);
    cr_assert(sl_str_eq_cstr(r.rows.metadata.columns[0].keyspace, "ks1"));
    cr_assert(sl_str_eq_cstr(r.rows.metadata.columns[0].table, "tab"));
    cr_assert_eq(r.rows.metadata.columns[0].type->params[0]->code, SL_CQL_UUID);
    cr_assert_eq(r.rows.n_rows, 0);
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, SL_CQL_META_NO_METADATA);
    put_int(&b, 2);
    put_int(&b, 1);
    put_int(&b, 1);
    put_byte(&b, 'x');
    put_int(&b, 0);
    decode_ok(SL_CQL_OP_RESULT, 0, b.data, b.len, &r);
    cr_assert_null(r.rows.metadata.columns);
    cr_assert_eq(r.rows.metadata.n_columns, 2);
    sl_cql_row_iter it;
    sl_cql_cell cells[2];
    sl_cql_rows_begin(&r.rows, &it);
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 1);
    cr_assert_eq(cells[0].len, 1);
    cr_assert_eq(cells[1].len, 0);
    cr_assert_eq(sl_cql_rows_next(&it, cells, NULL), 0);
    sl_buffer_free(&b);
}

Test(cql_frame, decodes_an_empty_page_without_metadata_for_many_columns)
{
    /* EXECUTE with skip_metadata: the server names the column count but sends
     * no specs, and an empty last page has only its row count after it. */
    static const uint8_t body[] = {
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x00,
    };
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, body, sizeof body, &r);
    cr_assert_eq(r.rows.metadata.n_columns, 12);
    cr_assert_eq(r.rows.n_rows, 0);
    sl_cql_row_iter it;
    sl_cql_rows_begin(&r.rows, &it);
    cr_assert_eq(sl_cql_rows_next(&it, NULL, NULL), 0);
}

Test(cql_frame, refuses_rows_counts_the_body_cannot_hold)
{
    sl_buffer b = SL_BUFFER_INIT;
    sl_cql_response r;
    sl_error err = { 0 };
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, SL_CQL_META_GLOBAL_TABLES_SPEC);
    put_int(&b, 0x7FFFFFFF);
    put_string(&b, "ks");
    put_string(&b, "t");
    put_int(&b, 0);
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "metadata column count 2147483647 at byte 8 is more than"), "%s", err.message);

    /* without metadata the count is only bounded by the cells that follow */
    sl_buffer_clear(&b);
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, SL_CQL_META_NO_METADATA);
    put_int(&b, 0x7FFFFFFF);
    put_int(&b, 1);
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "Rows row count 1"), "%s", err.message);

    sl_buffer_clear(&b);
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, SL_CQL_META_NO_METADATA);
    put_int(&b, 1);
    put_int(&b, 1000000);
    put_int(&b, -1);
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "Rows row count 1000000"), "%s", err.message);

    sl_buffer_clear(&b);
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, SL_CQL_META_NO_METADATA);
    put_int(&b, 1);
    put_int(&b, -3);
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "CQL RESULT response (stream 5): "), "%s", err.message);
    sl_buffer_free(&b);
}

/* Found by fuzzing: with no columns a row holds no bytes, so no byte count
 * bounds the rows, and a server's 2 billion empty rows kept the iterator
 * spinning for a minute. */
Test(cql_frame, refuses_rows_without_columns)
{
    sl_buffer b = SL_BUFFER_INIT;
    sl_cql_response r;
    sl_error err = { 0 };
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, 0);
    put_int(&b, 0);
    put_int(&b, 0x7CFFFFF5);
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "Rows row count 2097151989 at byte 12 with no columns"), "%s", err.message);

    sl_buffer_clear(&b); /* no rows and no columns is still fine */
    put_int(&b, SL_CQL_RESULT_ROWS);
    put_int(&b, 0);
    put_int(&b, 0);
    put_int(&b, 0);
    decode_ok(SL_CQL_OP_RESULT, 0, b.data, b.len, &r);
    cr_assert_eq(r.rows.n_rows, 0);
    sl_buffer_free(&b);
}

Test(cql_frame, decodes_void_set_keyspace_and_schema_change_results)
{
    static const uint8_t void_body[] = { 0x00, 0x00, 0x00, 0x01 };
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, void_body, sizeof void_body, &r);
    cr_assert_eq(r.result_kind, SL_CQL_RESULT_VOID);
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, void_body, sizeof void_body);

    static const uint8_t keyspace[] = { 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 'k', 's' };
    decode_ok(SL_CQL_OP_RESULT, 0, keyspace, sizeof keyspace, &r);
    cr_assert(sl_str_eq_cstr(r.keyspace, "ks"));
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, keyspace, sizeof keyspace);

    sl_buffer b = SL_BUFFER_INIT;
    put_int(&b, SL_CQL_RESULT_SCHEMA_CHANGE);
    put_string(&b, "CREATED");
    put_string(&b, "TABLE");
    put_string(&b, "ks");
    put_string(&b, "users");
    decode_ok(SL_CQL_OP_RESULT, 0, b.data, b.len, &r);
    cr_assert(sl_str_eq_cstr(r.schema_change.change_type, "CREATED"));
    cr_assert(sl_str_eq_cstr(r.schema_change.target, "TABLE"));
    cr_assert(sl_str_eq_cstr(r.schema_change.keyspace, "ks"));
    cr_assert(sl_str_eq_cstr(r.schema_change.name, "users"));
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_int(&b, SL_CQL_RESULT_SCHEMA_CHANGE);
    put_string(&b, "DROPPED");
    put_string(&b, "FUNCTION");
    put_string(&b, "ks");
    put_string(&b, "fn");
    put_short(&b, 2);
    put_string(&b, "int");
    put_string(&b, "text");
    decode_ok(SL_CQL_OP_RESULT, 0, b.data, b.len, &r);
    cr_assert_eq(r.schema_change.n_arg_types, 2);
    cr_assert(sl_str_eq_cstr(r.schema_change.arg_types[1], "text"));
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_int(&b, 9);
    sl_error err = { 0 };
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "unknown RESULT kind 0x0009"), "%s", err.message);
    sl_buffer_free(&b);
}

/* Prepared: id 11 22 33; bind markers a int, b text, c bigint in ks.t with
 * partition key indexes [2, 0]; result metadata empty (No_metadata). */
static const uint8_t prepared_body[] = {
    0x00, 0x00, 0x00, 0x04,
    0x00, 0x03, 0x11, 0x22, 0x33,
    0x00, 0x00, 0x00, 0x01,                 /* flags Global_tables_spec */
    0x00, 0x00, 0x00, 0x03,                 /* columns */
    0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, /* pk count and indexes */
    0x00, 0x02, 'k', 's', 0x00, 0x01, 't',
    0x00, 0x01, 'a', 0x00, 0x09,
    0x00, 0x01, 'b', 0x00, 0x0D,
    0x00, 0x01, 'c', 0x00, 0x02,
    0x00, 0x00, 0x00, 0x04,                 /* result flags No_metadata */
    0x00, 0x00, 0x00, 0x00,                 /* result columns */
};

Test(cql_frame, decodes_prepared_with_partition_key_indexes)
{
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, prepared_body, sizeof prepared_body, &r);
    cr_assert_eq(r.result_kind, SL_CQL_RESULT_PREPARED);
    cr_assert_eq(r.prepared.id.len, 3);
    cr_assert(memcmp(r.prepared.id.ptr, "\x11\x22\x33", 3) == 0);
    const sl_cql_metadata *bind = &r.prepared.bind;
    cr_assert_eq(bind->n_columns, 3);
    cr_assert_eq(bind->n_pk_indexes, 2);
    cr_assert_eq(bind->pk_indexes[0], 2);
    cr_assert_eq(bind->pk_indexes[1], 0);
    cr_assert(sl_str_eq_cstr(bind->columns[2].name, "c"));
    cr_assert(sl_str_eq_cstr(bind->columns[2].keyspace, "ks"));
    cr_assert_eq(bind->columns[2].type->code, SL_CQL_BIGINT);
    cr_assert_eq(bind->columns[1].type->code, SL_CQL_VARCHAR);
    cr_assert_eq(r.prepared.result.n_columns, 0);
    cr_assert_null(r.prepared.result.columns);
    expect_every_truncation_fails(SL_CQL_OP_RESULT, 0, prepared_body, sizeof prepared_body);
}

/* A misbehaving server's partition key index past the bind markers would
 * have the cassandra sink read past its column array: the decode refuses it. */
Test(cql_frame, rejects_a_partition_key_index_past_the_columns)
{
    uint8_t body[sizeof prepared_body];
    memcpy(body, prepared_body, sizeof body);
    body[22] = 0x03; /* first pk index 2 -> 3, with 3 columns */
    sl_cql_response r;
    sl_error err = { 0 };
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, body, sizeof body, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "partition key index 3 at byte 21 is not below the column count 3"), "%s",
              err.message);
    body[22] = 0x02;
    body[23] = 0xFF; /* second pk index 0 -> 65280 */
    cr_assert_eq(decode(SL_CQL_OP_RESULT, 0, body, sizeof body, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "partition key index 65280 at byte 23"), "%s", err.message);
}

static void error_head(sl_buffer *b, int32_t code, const char *message)
{
    sl_buffer_clear(b);
    put_int(b, code);
    put_string(b, message);
}

static const sl_cql_server_error *decode_error_ok(sl_buffer *b, sl_cql_response *r)
{
    decode_ok(SL_CQL_OP_ERROR, 0, b->data, b->len, r);
    expect_every_truncation_fails(SL_CQL_OP_ERROR, 0, (const uint8_t *)b->data, b->len);
    decode_ok(SL_CQL_OP_ERROR, 0, b->data, b->len, r); /* again: the loop reset the arena */
    return &r->error;
}

Test(cql_frame, decodes_each_error_with_its_extras)
{
    sl_buffer b = SL_BUFFER_INIT;
    sl_cql_response r;
    const sl_cql_server_error *e;

    error_head(&b, SL_CQL_ERR_UNAVAILABLE, "down");
    put_short(&b, SL_CQL_QUORUM);
    put_int(&b, 3);
    put_int(&b, 1);
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->code, 0x1000);
    cr_assert(sl_str_eq_cstr(e->message, "down"));
    cr_assert_eq(e->consistency, SL_CQL_QUORUM);
    cr_assert_eq(e->required, 3);
    cr_assert_eq(e->alive, 1);
    cr_assert(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_WRITE_TIMEOUT, "slow");
    put_short(&b, SL_CQL_LOCAL_QUORUM);
    put_int(&b, 1);
    put_int(&b, 2);
    put_string(&b, "BATCH_LOG");
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->consistency, SL_CQL_LOCAL_QUORUM);
    cr_assert_eq(e->received, 1);
    cr_assert_eq(e->block_for, 2);
    cr_assert(sl_str_eq_cstr(e->write_type, "BATCH_LOG"));
    cr_assert(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_WRITE_TIMEOUT, "slow counter");
    put_short(&b, SL_CQL_ONE);
    put_int(&b, 0);
    put_int(&b, 1);
    put_string(&b, "COUNTER");
    e = decode_error_ok(&b, &r);
    cr_assert_not(sl_cql_error_is_retryable(e), "a counter write must not be replayed");

    error_head(&b, SL_CQL_ERR_READ_TIMEOUT, "slow read");
    put_short(&b, SL_CQL_ONE);
    put_int(&b, 0);
    put_int(&b, 1);
    put_byte(&b, 0);
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->block_for, 1);
    cr_assert_not(e->data_present);
    cr_assert(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_READ_FAILURE, "tombstones");
    put_short(&b, SL_CQL_ALL);
    put_int(&b, 1);
    put_int(&b, 3);
    put_int(&b, 2);
    put_byte(&b, 1);
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->consistency, SL_CQL_ALL);
    cr_assert_eq(e->n_failures, 2);
    cr_assert(e->data_present);
    cr_assert_not(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_WRITE_FAILURE, "disk");
    put_short(&b, SL_CQL_QUORUM);
    put_int(&b, 1);
    put_int(&b, 2);
    put_int(&b, 1);
    put_string(&b, "SIMPLE");
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->n_failures, 1);
    cr_assert(sl_str_eq_cstr(e->write_type, "SIMPLE"));
    cr_assert_not(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_FUNCTION_FAILURE, "boom");
    put_string(&b, "ks");
    put_string(&b, "fn");
    put_short(&b, 1);
    put_string(&b, "int");
    e = decode_error_ok(&b, &r);
    cr_assert(sl_str_eq_cstr(e->keyspace, "ks"));
    cr_assert(sl_str_eq_cstr(e->function, "fn"));
    cr_assert_eq(e->n_arg_types, 1);
    cr_assert(sl_str_eq_cstr(e->arg_types[0], "int"));

    error_head(&b, SL_CQL_ERR_ALREADY_EXISTS, "exists");
    put_string(&b, "ks");
    put_string(&b, "");
    e = decode_error_ok(&b, &r);
    cr_assert(sl_str_eq_cstr(e->keyspace, "ks"));
    cr_assert_eq(e->table.len, 0);
    cr_assert_not(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_UNPREPARED, "unknown id");
    cr_assert_eq(sl_cql_put_short_bytes(&b, "\xAB\xCD", 2), 0);
    e = decode_error_ok(&b, &r);
    cr_assert_eq(e->unprepared_id.len, 2);
    cr_assert(memcmp(e->unprepared_id.ptr, "\xAB\xCD", 2) == 0);
    cr_assert_not(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_OVERLOADED, "busy");
    e = decode_error_ok(&b, &r);
    cr_assert(sl_cql_error_is_retryable(e));

    error_head(&b, SL_CQL_ERR_SYNTAX, "line 1:0 no viable alternative");
    e = decode_error_ok(&b, &r);
    cr_assert(sl_str_eq_cstr(e->message, "line 1:0 no viable alternative"));
    cr_assert_not(sl_cql_error_is_retryable(e));
    sl_buffer_free(&b);
}

Test(cql_frame, names_error_codes_and_splits_retryable_ones)
{
    cr_assert_str_eq(sl_cql_error_code_name(0x1001), "Overloaded");
    cr_assert_str_eq(sl_cql_error_code_name(0x1000), "Unavailable");
    cr_assert_str_eq(sl_cql_error_code_name(0x2500), "Unprepared");
    cr_assert_str_eq(sl_cql_error_code_name(0x000A), "Protocol_error");
    cr_assert_str_eq(sl_cql_error_code_name(0x7777), "Unknown_error");
    static const struct { int32_t code; bool retryable; } cases[] = {
        { SL_CQL_ERR_SERVER, true },        { SL_CQL_ERR_PROTOCOL, false },
        { SL_CQL_ERR_AUTHENTICATION, false }, { SL_CQL_ERR_UNAVAILABLE, true },
        { SL_CQL_ERR_OVERLOADED, true },    { SL_CQL_ERR_IS_BOOTSTRAPPING, true },
        { SL_CQL_ERR_TRUNCATE, true },      { SL_CQL_ERR_WRITE_TIMEOUT, true },
        { SL_CQL_ERR_READ_TIMEOUT, true },  { SL_CQL_ERR_READ_FAILURE, false },
        { SL_CQL_ERR_FUNCTION_FAILURE, false }, { SL_CQL_ERR_WRITE_FAILURE, false },
        { SL_CQL_ERR_SYNTAX, false },       { SL_CQL_ERR_UNAUTHORIZED, false },
        { SL_CQL_ERR_INVALID, false },      { SL_CQL_ERR_CONFIG, false },
        { SL_CQL_ERR_ALREADY_EXISTS, false }, { SL_CQL_ERR_UNPREPARED, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_cql_server_error e = { .code = cases[i].code, .write_type = S("SIMPLE") };
        cr_assert_eq(sl_cql_error_is_retryable(&e), cases[i].retryable, "%s", sl_cql_error_code_name(cases[i].code));
    }
    sl_cql_server_error cas = { .code = SL_CQL_ERR_WRITE_TIMEOUT, .write_type = S("CAS") };
    cr_assert_not(sl_cql_error_is_retryable(&cas));
}

Test(cql_frame, decodes_topology_status_and_schema_events)
{
    sl_buffer b = SL_BUFFER_INIT;
    sl_cql_response r;
    put_string(&b, "TOPOLOGY_CHANGE");
    put_string(&b, "NEW_NODE");
    put_byte(&b, 4);
    put_byte(&b, 127);
    put_byte(&b, 0);
    put_byte(&b, 0);
    put_byte(&b, 1);
    put_int(&b, 9042);
    decode_ok(SL_CQL_OP_EVENT, 0, b.data, b.len, &r);
    cr_assert(sl_str_eq_cstr(r.event.type, "TOPOLOGY_CHANGE"));
    cr_assert(sl_str_eq_cstr(r.event.change, "NEW_NODE"));
    cr_assert_eq(r.event.address.address_len, 4);
    cr_assert_eq(r.event.address.address[0], 127);
    cr_assert_eq(r.event.address.port, 9042);
    expect_every_truncation_fails(SL_CQL_OP_EVENT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_string(&b, "STATUS_CHANGE");
    put_string(&b, "DOWN");
    put_byte(&b, 16);
    for (int i = 0; i < 15; i++) put_byte(&b, 0);
    put_byte(&b, 1);
    put_int(&b, 9043);
    decode_ok(SL_CQL_OP_EVENT, 0, b.data, b.len, &r);
    cr_assert(sl_str_eq_cstr(r.event.change, "DOWN"));
    cr_assert_eq(r.event.address.address_len, 16);
    cr_assert_eq(r.event.address.address[15], 1);
    expect_every_truncation_fails(SL_CQL_OP_EVENT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_string(&b, "SCHEMA_CHANGE");
    put_string(&b, "UPDATED");
    put_string(&b, "KEYSPACE");
    put_string(&b, "ks");
    decode_ok(SL_CQL_OP_EVENT, 0, b.data, b.len, &r);
    cr_assert(sl_str_eq_cstr(r.event.schema.target, "KEYSPACE"));
    cr_assert(sl_str_eq_cstr(r.event.schema.keyspace, "ks"));
    cr_assert_eq(r.event.schema.name.len, 0);
    expect_every_truncation_fails(SL_CQL_OP_EVENT, 0, (const uint8_t *)b.data, b.len);

    sl_buffer_clear(&b);
    put_string(&b, "GOSSIP");
    sl_error err = { 0 };
    cr_assert_eq(decode(SL_CQL_OP_EVENT, 0, b.data, b.len, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "unknown event type 'GOSSIP'"), "%s", err.message);
    sl_buffer_free(&b);
}

Test(cql_frame, keeps_tracing_id_and_warnings_and_skips_custom_payload)
{
    sl_buffer b = SL_BUFFER_INIT;
    for (int i = 0; i < 16; i++) put_byte(&b, (uint8_t)(0xA0 + i));
    put_short(&b, 2);
    put_string(&b, "Batch is large");
    put_string(&b, "w2");
    put_short(&b, 1);
    put_string(&b, "k");
    cr_assert_eq(sl_cql_put_bytes(&b, "vv", 2), 0);
    put_int(&b, SL_CQL_RESULT_VOID);
    uint8_t flags = SL_CQL_FLAG_TRACING | SL_CQL_FLAG_WARNING | SL_CQL_FLAG_CUSTOM_PAYLOAD;
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, flags, b.data, b.len, &r);
    cr_assert(r.has_tracing_id);
    cr_assert_eq(r.tracing_id[0], 0xA0);
    cr_assert_eq(r.tracing_id[15], 0xAF);
    cr_assert_eq(r.n_warnings, 2);
    cr_assert(sl_str_eq_cstr(r.warnings[0], "Batch is large"));
    cr_assert(sl_str_eq_cstr(r.warnings[1], "w2"));
    cr_assert_eq(r.result_kind, SL_CQL_RESULT_VOID);
    expect_every_truncation_fails(SL_CQL_OP_RESULT, flags, (const uint8_t *)b.data, b.len);

    /* warnings alone come first in the body */
    sl_buffer_clear(&b);
    put_short(&b, 1);
    put_string(&b, "only");
    put_int(&b, SL_CQL_RESULT_VOID);
    decode_ok(SL_CQL_OP_RESULT, SL_CQL_FLAG_WARNING, b.data, b.len, &r);
    cr_assert_not(r.has_tracing_id);
    cr_assert_eq(r.n_warnings, 1);
    sl_buffer_free(&b);
}

Test(cql_frame, refuses_request_opcodes_as_responses)
{
    static const uint8_t body[] = { 0 };
    sl_cql_response r;
    sl_error err = { 0 };
    cr_assert_eq(decode(SL_CQL_OP_QUERY, 0, body, 1, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "opcode 0x07 is not a response"), "%s", err.message);
}

Test(cql_frame, ignores_bytes_after_a_complete_body)
{
    uint8_t body[sizeof prepared_body + 3];
    memcpy(body, prepared_body, sizeof prepared_body);
    memset(body + sizeof prepared_body, 0xEE, 3);
    sl_cql_response r;
    decode_ok(SL_CQL_OP_RESULT, 0, body, sizeof body, &r);
    cr_assert_eq(r.prepared.bind.n_pk_indexes, 2);
}

/* ---- compression ----------------------------------------------------------- */

static void repetitive_query(sl_buffer *out, int16_t stream)
{
    char text[2048];
    size_t n = 0;
    while (n + 40 < sizeof text) n += (size_t)snprintf(text + n, sizeof text - n, "INSERT INTO ks.t (a) VALUES (%zu); ", n % 7);
    sl_cql_query_params params = { .consistency = SL_CQL_ONE };
    cr_assert_eq(sl_cql_build_query(out, stream, (sl_str){ text, n }, &params, NULL), 0);
}

Test(cql_frame, lz4_compresses_a_frame_in_place_and_round_trips)
{
    sl_buffer plain = SL_BUFFER_INIT, b = SL_BUFFER_INIT;
    repetitive_query(&plain, 1);
    cr_assert_eq(sl_cql_build_options(&b, 0, NULL), 0);
    size_t start = b.len;
    cr_assert_eq(sl_buffer_append(&b, plain.data, plain.len), 0);
    cr_assert_eq(sl_cql_compress_frame(&b, start, NULL), 0);

    static const uint8_t options_frame[] = { 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00 };
    expect_bytes(b.data, 9, options_frame, 9); /* the frame before is untouched */
    sl_cql_header header;
    cr_assert_eq(sl_cql_header_decode((uint8_t *)b.data + start, b.len - start, SL_CQL_VERSION_REQUEST, &header, NULL), 0);
    cr_assert_eq(header.flags, SL_CQL_FLAG_COMPRESSION);
    cr_assert_eq(header.opcode, SL_CQL_OP_QUERY);
    cr_assert_eq(header.length, b.len - start - 9);
    size_t plain_body = plain.len - 9;
    cr_assert_lt(header.length, plain_body / 2, "compressed %u of %zu", header.length, plain_body);
    const uint8_t *body = (uint8_t *)b.data + start + 9;
    cr_assert_eq(((size_t)body[0] << 24 | (size_t)body[1] << 16 | (size_t)body[2] << 8 | body[3]), plain_body);

    uint8_t *out = malloc(plain_body);
    size_t out_len = 0;
    cr_assert_eq(sl_cql_decompress_body(body, header.length, out, plain_body, &out_len, NULL), 0);
    expect_bytes(out, out_len, (uint8_t *)plain.data + 9, plain_body);
    free(out);
    sl_buffer_free(&plain);
    sl_buffer_free(&b);
}

Test(cql_frame, lz4_leaves_empty_and_incompressible_bodies_alone)
{
    sl_buffer b = SL_BUFFER_INIT;
    cr_assert_eq(sl_cql_build_options(&b, 0, NULL), 0);
    cr_assert_eq(sl_cql_compress_frame(&b, 0, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00);
    sl_buffer_clear(&b);
    cr_assert_eq(sl_cql_build_prepare(&b, 0, S("x"), NULL), 0);
    cr_assert_eq(sl_cql_compress_frame(&b, 0, NULL), 0);
    EXPECT_BUFFER(b, 0x04, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 'x');
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_compress_frame(&b, 10, &err), SL_EINVAL);
    sl_buffer_free(&b);
}

Test(cql_frame, decodes_a_compressed_rows_response)
{
    sl_buffer b = SL_BUFFER_INIT;
    sl_cql_header header = { SL_CQL_VERSION_RESPONSE, 0, 5, SL_CQL_OP_RESULT, 0 };
    uint8_t bytes[9];
    sl_cql_header_encode(&header, bytes);
    cr_assert_eq(sl_buffer_append(&b, bytes, 9), 0);
    cr_assert_eq(sl_buffer_append(&b, rows_body, sizeof rows_body), 0);
    /* pad with a repetitive tail (ignored after the body, §1) so LZ4 shrinks it */
    for (int i = 0; i < 200; i++) cr_assert_eq(sl_buffer_append_byte(&b, 'z'), 0);
    cr_assert_eq(sl_cql_compress_frame(&b, 0, NULL), 0);
    cr_assert_eq(sl_cql_header_decode((uint8_t *)b.data, b.len, SL_CQL_VERSION_RESPONSE, &header, NULL), 0);
    cr_assert_eq(header.flags, SL_CQL_FLAG_COMPRESSION);

    sl_cql_response r;
    sl_error err = { 0 };
    cr_assert_eq(sl_cql_decode_response(&header, (uint8_t *)b.data + 9, header.length, arena, &r, &err), 0, "%s", err.message);
    check_rows(&r, NULL, 0);

    /* the same frame cut short must fail cleanly */
    for (size_t cut = 0; cut < header.length; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.data + 9, cut);
        int rc = sl_cql_decode_response(&header, copy, cut, arena, &r, &err);
        cr_assert_eq(rc, SL_ECORRUPT, "cut to %zu gave %d", cut, rc);
        free(copy);
    }
    sl_buffer_free(&b);
}

Test(cql_frame, lz4_refuses_corrupt_oversized_and_short_bodies)
{
    sl_buffer b = SL_BUFFER_INIT;
    repetitive_query(&b, 1);
    size_t plain_body = b.len - 9;
    cr_assert_eq(sl_cql_compress_frame(&b, 0, NULL), 0);
    uint8_t *body = (uint8_t *)b.data + 9;
    size_t body_len = b.len - 9;
    uint8_t *out = malloc(plain_body + 16);
    size_t out_len = 0;
    sl_error err = { 0 };

    cr_assert_eq(sl_cql_decompress_body(body, body_len - 5, out, plain_body, &out_len, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "corrupt"), "%s", err.message);

    cr_assert_eq(sl_cql_decompress_body(body, body_len, out, plain_body - 1, &out_len, &err), SL_ETOOBIG);

    body[3] += 1; /* announce one byte more than the block holds */
    cr_assert_eq(sl_cql_decompress_body(body, body_len, out, plain_body + 16, &out_len, &err), SL_ECORRUPT);
    body[3] -= 1;
    cr_assert_eq(sl_cql_decompress_body(body, body_len, out, plain_body, &out_len, &err), SL_OK);

    static const uint8_t garbage[] = { 0x00, 0x00, 0x00, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    cr_assert_eq(sl_cql_decompress_body(garbage, sizeof garbage, out, 16, &out_len, &err), SL_ECORRUPT);

    static const uint8_t huge[] = { 0x10, 0x00, 0x00, 0x01, 0x00 };
    cr_assert_eq(sl_cql_decompress_body(huge, sizeof huge, out, 16, &out_len, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "268435457") && strstr(err.message, "256 MiB"), "%s", err.message);

    static const uint8_t bomb[] = { 0x00, 0x10, 0x00, 0x00, 0x1F, 0x00, 0x00, 0xFF, 0xFF };
    cr_assert_eq(sl_cql_uncompressed_length(bomb, sizeof bomb, &out_len, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "1048576 uncompressed bytes, more than an LZ4 block of 5 bytes"), "%s", err.message);

    static const uint8_t tiny[] = { 0x00, 0x00 };
    cr_assert_eq(sl_cql_decompress_body(tiny, sizeof tiny, out, 16, &out_len, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "too short"), "%s", err.message);

    sl_cql_header header = { SL_CQL_VERSION_RESPONSE, SL_CQL_FLAG_COMPRESSION, 5, SL_CQL_OP_RESULT, sizeof garbage };
    sl_cql_response r;
    cr_assert_eq(sl_cql_decode_response(&header, garbage, sizeof garbage, arena, &r, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "CQL RESULT response (stream 5): CQL compressed body is corrupt"), "%s", err.message);
    free(out);
    sl_buffer_free(&b);
}
