/* murmur2.c — Kafka's default partitioner for keyed records: murmur2 with
 * seed 0x9747b28c over the key bytes, made positive by masking the sign bit
 * (Utils.toPositive), modulo the partition count. Matching it means a key
 * lands in the same partition here as from a Java producer.
 *
 * Java does this in signed ints with >>> shifts; uint32_t arithmetic gives
 * the same bits.
 */
#include "log/log.h"
#include "log/murmur2.h"

int32_t sl_log_murmur2(const void *bytes, size_t len)
{
    const unsigned char *data = bytes;
    const uint32_t m = 0x5bd1e995u;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t n_words = len / 4;
    for (size_t i = 0; i < n_words; i++) {
        const unsigned char *w = data + 4 * i;
        uint32_t k = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    /* Only touched when there is a tail, so a NULL empty key is fine. */
    const unsigned char *tail = len % 4 ? data + (len & ~(size_t)3) : data;
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t sl_log_partition_for_key(sl_str key, int32_t n_partitions)
{
    if (n_partitions <= 1) return 0;
    uint32_t positive = (uint32_t)sl_log_murmur2(key.ptr, key.len) & 0x7fffffffu;
    return (int32_t)(positive % (uint32_t)n_partitions);
}
