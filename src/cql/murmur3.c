/* murmur3.c — Cassandra's Murmur3Partitioner token and composite routing
 * keys (see murmur3.h).
 *
 * The hash is MurmurHash3 x64 128 with seed 0, of which Cassandra keeps the
 * first 64-bit half as a signed long. Cassandra's Java port has one
 * difference from the reference C algorithm that changes results: in the
 * tail (the last len % 16 bytes) every byte is read as a signed Java byte
 * and widened to long before it is shifted into place, so a tail byte of
 * 0x80 or more also sets all the bits above it. We reproduce that by
 * sign-extending each tail byte. The full 16-byte blocks read bytes as
 * unsigned, as the reference does. Finally Long.MIN_VALUE is reserved by
 * the partitioner (it is the minimum token), so it becomes Long.MAX_VALUE.
 *
 * All arithmetic is on uint64_t so that wrap-around is defined; the result
 * is converted to int64_t only at the end (two's complement, as in Java).
 */
#include "cql/murmur3.h"

#include <string.h>

#include "core/error.h"

#define MURMUR_C1 UINT64_C(0x87c37b91114253d5)
#define MURMUR_C2 UINT64_C(0x4cf5ad432745937f)

static uint64_t rotate_left(uint64_t x, int bits)
{
    return (x << bits) | (x >> (64 - bits));
}

/* The final avalanche of one 64-bit lane. */
static uint64_t final_mix(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k *= UINT64_C(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    return k;
}

/* A little-endian 64-bit word of 8 unsigned bytes. */
static uint64_t read_le64(const uint8_t *p)
{
    uint64_t word = 0;
    for (int i = 7; i >= 0; i--) word = (word << 8) | p[i];
    return word;
}

/* A tail byte as Java widens it: signed, so 0x80..0xFF fill the high bits. */
static uint64_t widen_signed_byte(uint8_t byte)
{
    return (uint64_t)(int64_t)(int8_t)byte;
}

static uint64_t mix_k1(uint64_t k1)
{
    k1 *= MURMUR_C1;
    k1 = rotate_left(k1, 31);
    k1 *= MURMUR_C2;
    return k1;
}

static uint64_t mix_k2(uint64_t k2)
{
    k2 *= MURMUR_C2;
    k2 = rotate_left(k2, 33);
    k2 *= MURMUR_C1;
    return k2;
}

int64_t sl_cql_murmur3_token(const void *key, size_t len)
{
    const uint8_t *bytes = key;
    uint64_t h1 = 0, h2 = 0;   /* seed 0 */
    size_t n_blocks = len / 16;

    for (size_t i = 0; i < n_blocks; i++) {
        uint64_t k1 = read_le64(bytes + i * 16);
        uint64_t k2 = read_le64(bytes + i * 16 + 8);

        h1 ^= mix_k1(k1);
        h1 = rotate_left(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;

        h2 ^= mix_k2(k2);
        h2 = rotate_left(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    const uint8_t *tail = bytes + n_blocks * 16;
    size_t n_tail = len % 16;
    uint64_t k1 = 0, k2 = 0;
    for (size_t i = n_tail; i > 8; i--) k2 ^= widen_signed_byte(tail[i - 1]) << ((i - 9) * 8);
    if (n_tail > 8) h2 ^= mix_k2(k2);
    for (size_t i = n_tail < 8 ? n_tail : 8; i > 0; i--)
        k1 ^= widen_signed_byte(tail[i - 1]) << ((i - 1) * 8);
    if (n_tail > 0) h1 ^= mix_k1(k1);

    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = final_mix(h1);
    h2 = final_mix(h2);
    h1 += h2;

    if (h1 == UINT64_C(0x8000000000000000)) return INT64_MAX;
    /* Two's complement reinterpretation, as Java's long; defined via memcpy. */
    int64_t token;
    memcpy(&token, &h1, sizeof token);
    return token;
}

int sl_cql_routing_key(const sl_str *parts, size_t n_parts, sl_buffer *out)
{
    if (n_parts == 0) return SL_EINVAL;
    if (n_parts == 1) return sl_buffer_append(out, parts[0].ptr, parts[0].len);

    size_t total = 0;
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len > 0xFFFF) return SL_ETOOBIG;
        total += 2 + parts[i].len + 1;
    }
    int rc = sl_buffer_reserve(out, total);
    if (rc) return rc;
    for (size_t i = 0; i < n_parts; i++) {
        uint8_t *p = (uint8_t *)out->data + out->len;
        p[0] = (uint8_t)(parts[i].len >> 8);
        p[1] = (uint8_t)parts[i].len;
        if (parts[i].len) memcpy(p + 2, parts[i].ptr, parts[i].len);
        p[2 + parts[i].len] = 0;
        out->len += 2 + parts[i].len + 1;
    }
    return SL_OK;
}
