/* cql_ring_test.c — token ring ownership: first token >= t, wrap-around,
 * duplicates, and walking past down hosts. */
#include <criterion/criterion.h>

#include "cql/ring.h"
#include "test_util.h"

static sl_cql_ring ring_of(const int64_t *tokens, const uint32_t *hosts, size_t n)
{
    sl_cql_ring ring = SL_CQL_RING_INIT;
    for (size_t i = 0; i < n; i++) cr_assert_eq(sl_cql_ring_add(&ring, tokens[i], hosts[i]), 0);
    sl_cql_ring_sort(&ring);
    return ring;
}

Test(cql_ring, owner_is_first_token_at_or_after_t)
{
    const int64_t tokens[] = { 100, -100, 0 };
    const uint32_t hosts[] = { 2, 0, 1 };
    sl_cql_ring ring = ring_of(tokens, hosts, 3);
    cr_assert_eq(sl_cql_ring_owner(&ring, -100, NULL, 3), 0);
    cr_assert_eq(sl_cql_ring_owner(&ring, -99, NULL, 3), 1);
    cr_assert_eq(sl_cql_ring_owner(&ring, 0, NULL, 3), 1);
    cr_assert_eq(sl_cql_ring_owner(&ring, 1, NULL, 3), 2);
    cr_assert_eq(sl_cql_ring_owner(&ring, 100, NULL, 3), 2);
    cr_assert_eq(sl_cql_ring_owner(&ring, -5000, NULL, 3), 0);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, tokens_past_the_largest_wrap_to_the_smallest)
{
    const int64_t tokens[] = { -10, 10 };
    const uint32_t hosts[] = { 0, 1 };
    sl_cql_ring ring = ring_of(tokens, hosts, 2);
    cr_assert_eq(sl_cql_ring_owner(&ring, 11, NULL, 2), 0);
    cr_assert_eq(sl_cql_ring_owner(&ring, INT64_MAX, NULL, 2), 0);
    cr_assert_eq(sl_cql_ring_owner(&ring, INT64_MIN, NULL, 2), 0);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, single_token_owns_everything)
{
    const int64_t tokens[] = { 0 };
    const uint32_t hosts[] = { 0 };
    sl_cql_ring ring = ring_of(tokens, hosts, 1);
    cr_assert_eq(sl_cql_ring_owner(&ring, INT64_MIN, NULL, 1), 0);
    cr_assert_eq(sl_cql_ring_owner(&ring, 1, NULL, 1), 0);
    cr_assert_eq(sl_cql_ring_owner(&ring, INT64_MAX, NULL, 1), 0);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, duplicate_pairs_are_dropped_and_shared_tokens_prefer_lower_host)
{
    const int64_t tokens[] = { 5, 5, 5, 50 };
    const uint32_t hosts[] = { 1, 1, 0, 1 };
    sl_cql_ring ring = ring_of(tokens, hosts, 4);
    cr_assert_eq(ring.n_entries, 3);
    cr_assert_eq(sl_cql_ring_owner(&ring, 5, NULL, 2), 0);
    bool down[2] = { true, false };
    cr_assert_eq(sl_cql_ring_owner(&ring, 5, down, 2), 1);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, down_hosts_are_skipped_to_the_next_distinct_live_host)
{
    /* Interleaved vnodes: 0 -> h0, 10 -> h0, 20 -> h1, 30 -> h2. */
    const int64_t tokens[] = { 0, 10, 20, 30 };
    const uint32_t hosts[] = { 0, 0, 1, 2 };
    sl_cql_ring ring = ring_of(tokens, hosts, 4);
    bool down[3] = { true, false, false };
    cr_assert_eq(sl_cql_ring_owner(&ring, -3, down, 3), 1);
    cr_assert_eq(sl_cql_ring_owner(&ring, 25, down, 3), 2);
    down[2] = true;
    cr_assert_eq(sl_cql_ring_owner(&ring, 25, down, 3), 1, "wraps past h0's tokens to h1");
    down[1] = true;
    cr_assert_eq(sl_cql_ring_owner(&ring, 25, down, 3), -1);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, empty_ring_and_unknown_hosts_have_no_owner)
{
    sl_cql_ring ring = SL_CQL_RING_INIT;
    cr_assert_eq(sl_cql_ring_owner(&ring, 0, NULL, 0), -1);
    cr_assert_eq(sl_cql_ring_add(&ring, 7, 4), 0);
    sl_cql_ring_sort(&ring);
    cr_assert_eq(sl_cql_ring_owner(&ring, 0, NULL, 2), -1, "host 4 is not among 2 hosts");
    cr_assert_eq(sl_cql_ring_owner(&ring, 0, NULL, 5), 4);
    sl_cql_ring_free(&ring);
}

Test(cql_ring, many_tokens_match_a_linear_scan)
{
    sl_cql_ring ring = SL_CQL_RING_INIT;
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < 256; i++) {
        test_xorshift64(&x);
        cr_assert_eq(sl_cql_ring_add(&ring, (int64_t)x, i % 4), 0);
    }
    sl_cql_ring_sort(&ring);
    for (int probe = 0; probe < 1000; probe++) {
        int64_t t = (int64_t)test_xorshift64(&x);
        size_t want = 0;
        while (want < ring.n_entries && ring.entries[want].token < t) want++;
        if (want == ring.n_entries) want = 0;
        cr_assert_eq(sl_cql_ring_owner(&ring, t, NULL, 4), (int)ring.entries[want].host);
    }
    sl_cql_ring_free(&ring);
}
