/* cql_murmur3_test.c — Cassandra's Murmur3Partitioner token and routing
 * keys, checked against tokens computed by an independent implementation.
 *
 * The expected tokens below were generated with the Python cassandra-driver
 * 3.30.1 (PyPI), `cassandra.murmur3.murmur3(key)`, which is what the driver's
 * Murmur3Token uses for token-aware routing. They were computed once and
 * hard-coded here; the keys cover every tail length, tail bytes >= 0x80 in
 * both halves of the tail (where Cassandra's signed-byte quirk shows), keys
 * of several whole blocks, and a 16-byte uuid.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buffer.h"
#include "core/error.h"
#include "cql/murmur3.h"
#include "test_util.h"

TestSuite(cql_murmur3);

typedef struct token_case {
    const char *hex;
    size_t len;
    int64_t token;
} token_case;

static const token_case token_cases[] = {
    { "", 0, INT64_C(0) },
    { "61", 1, INT64_C(-8839064797231613815) },
    { "616263", 3, INT64_C(-5434086359492102041) },
    { "68656c6c6f", 5, INT64_C(-3758069500696749310) },
    { "3132333435363738", 8, INT64_C(4272337174398058908) },
    { "313233343536373839", 9, INT64_C(4360720697772133540) },
    { "6162636465666768696a6b6c6d6e6f", 15, INT64_C(-8449275918290243589) },
    { "6162636465666768696a6b6c6d6e6f70", 16, INT64_C(-4266531025627334877) },
    { "6162636465666768696a6b6c6d6e6f7071", 17, INT64_C(8459014091212432983) },
    { "80", 1, INT64_C(-5284281814142962636) },
    { "ff", 1, INT64_C(-4442228696663692417) },
    { "018203f405a607", 7, INT64_C(-8383672970356894394) },
    { "f0f1f2f3f4f5f6f7f8", 9, INT64_C(-6602143071428848777) },
    { "7f8081feff0090a0b0c0d0e0f09988", 15, INT64_C(-8407947241290945238) },
    { "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2", 31,
      INT64_C(3808212200132775966) },
    { "c8fd32679cd1063b70a5da0f4479aee3184d82b7ec21568bc0f52a5f94c9fe3368", 33,
      INT64_C(-611916738127509710) },
    { "809dbad7f4112e4b6885a2bfdcf91633506d8aa7c4e1fe1b3855728facc9e603203d5a7794b1ceeb", 40,
      INT64_C(-7593968257079107390) },
    { "c8cf0a4b4d3e4b419a1f8e1b2a3c4d5e", 16, INT64_C(-1231397196978818546) },   /* a uuid */
    { "0000002a", 4, INT64_C(-7160136740246525330) },                           /* int 42 */
    { "ffffffffffffffff", 8, INT64_C(7071048584287372947) },                    /* bigint -1 */
    { "757365725f646174617c73746f72655f7573657273", 21, INT64_C(-523662846728239930) },
};

Test(cql_murmur3, tokens_match_the_python_driver_for_every_tail_length)
{
    for (size_t i = 0; i < sizeof token_cases / sizeof token_cases[0]; i++) {
        uint8_t key[64];
        size_t len = test_hex_decode(token_cases[i].hex, key, sizeof key);
        cr_assert_eq(len, token_cases[i].len, "case %zu: hex length", i);
        int64_t token = sl_cql_murmur3_token(len ? key : NULL, len);
        cr_assert_eq(token, token_cases[i].token, "key %s: got %lld, want %lld",
                     token_cases[i].hex, (long long)token, (long long)token_cases[i].token);
    }
}

Test(cql_murmur3, tail_bytes_are_sign_extended_as_in_java)
{
    /* The unquirked reference algorithm would give the same token for a
     * high tail byte only by accident: flipping one tail byte from 0x7f to
     * 0x80 must change the token to the driver's value for 0x80. */
    uint8_t key_low[1] = { 0x7f }, key_high[1] = { 0x80 };
    cr_assert_neq(sl_cql_murmur3_token(key_low, 1), sl_cql_murmur3_token(key_high, 1));
    cr_assert_eq(sl_cql_murmur3_token(key_high, 1), INT64_C(-5284281814142962636));
}

Test(cql_murmur3, single_part_routing_key_is_the_part_itself)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_str part = { "\x00\x00\x00\x2a", 4 };
    cr_assert_eq(sl_cql_routing_key(&part, 1, &out), SL_OK);
    cr_assert_eq(out.len, 4);
    cr_assert_eq(memcmp(out.data, "\x00\x00\x00\x2a", 4), 0);
    cr_assert_eq(sl_cql_murmur3_token(out.data, out.len), INT64_C(-7160136740246525330));
    sl_buffer_free(&out);
}

Test(cql_murmur3, composite_routing_key_frames_each_part_and_hashes_like_the_driver)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_str parts[2] = { { "\x00\x00\x00\x2a", 4 }, { "abc", 3 } };
    cr_assert_eq(sl_cql_routing_key(parts, 2, &out), SL_OK);
    uint8_t want[13];
    size_t n = test_hex_decode("00040000002a00000361626300", want, sizeof want);
    cr_assert_eq(out.len, n);
    cr_assert_eq(memcmp(out.data, want, n), 0);
    /* Token of that composite key from cassandra.murmur3.murmur3 (driver 3.30.1). */
    cr_assert_eq(sl_cql_murmur3_token(out.data, out.len), INT64_C(6029297926791514089));
    sl_buffer_free(&out);
}

Test(cql_murmur3, routing_key_appends_after_existing_content_and_rejects_bad_parts)
{
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_buffer_append(&out, "xy", 2), SL_OK);
    sl_str parts[2] = { { "", 0 }, { "q", 1 } };
    cr_assert_eq(sl_cql_routing_key(parts, 2, &out), SL_OK);
    cr_assert_eq(out.len, 2 + 3 + 4);
    cr_assert_eq(memcmp(out.data, "xy\x00\x00\x00\x00\x01q\x00", 9), 0);

    cr_assert_eq(sl_cql_routing_key(parts, 0, &out), SL_EINVAL);
    static char big[70000];
    sl_str too_long[2] = { { big, sizeof big }, { "q", 1 } };
    cr_assert_eq(sl_cql_routing_key(too_long, 2, &out), SL_ETOOBIG);
    cr_assert_eq(out.len, 9, "a rejected key leaves the buffer as it was");
    /* A single part has no 2-byte length, so it may be longer. */
    cr_assert_eq(sl_cql_routing_key(too_long, 1, &out), SL_OK);
    cr_assert_eq(out.len, 9 + sizeof big);
    sl_buffer_free(&out);
}
