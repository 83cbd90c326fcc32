/* murmur3.h — Cassandra's partition token (Murmur3Partitioner) and the
 * routing key it is computed from.
 *
 * The CQL sink groups rows by the replica that owns their token, so the
 * token must match the server's bit for bit, quirks included (see murmur3.c).
 */
#ifndef SL_CQL_MURMUR3_H
#define SL_CQL_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "core/value.h"

/* The Murmur3Partitioner token of a routing key: the first 64-bit half of
 * MurmurHash3 x64 128 (seed 0) as Cassandra computes it, with INT64_MIN
 * mapped to INT64_MAX. key may be NULL when len is 0. */
int64_t sl_cql_murmur3_token(const void *key, size_t len);

/* Appends the routing key of a partition key whose columns are already
 * serialized (each part the column's value bytes, without the [bytes]
 * length): one part as is; several as the composite form, each part as
 * [2-byte big-endian length][bytes][0x00]. Returns 0, SL_ETOOBIG when a
 * part of a composite key is longer than 65535 bytes, SL_EINVAL when
 * n_parts is 0, or SL_ENOMEM; out is unchanged on error. */
int sl_cql_routing_key(const sl_str *parts, size_t n_parts, sl_buffer *out);

#endif
