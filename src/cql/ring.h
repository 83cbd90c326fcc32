/* ring.h — the token ring of a Cassandra cluster (Murmur3Partitioner):
 * every node's tokens as sorted (token, host index) pairs.
 *
 * The node owning a token t (its primary replica) holds the first ring
 * token >= t, wrapping past the largest to the smallest. When that node is
 * down, the ring is walked onward to the next entry of a live node, so a
 * write still goes to a replica's neighbour rather than nowhere.
 */
#ifndef SL_CQL_RING_H
#define SL_CQL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_cql_ring_entry {
    int64_t token;
    uint32_t host;
} sl_cql_ring_entry;

/* Entries sorted by token (then host); owned by the ring. */
typedef struct sl_cql_ring {
    sl_cql_ring_entry *entries;
    size_t n_entries;
    size_t capacity;
} sl_cql_ring;

#define SL_CQL_RING_INIT { NULL, 0, 0 }

/* Adds one (token, host) pair; call sl_cql_ring_sort after the last.
 * SL_ENOMEM leaves the ring as it was. */
int sl_cql_ring_add(sl_cql_ring *ring, int64_t token, uint32_t host);

/* Sorts the entries and drops exact duplicates (the same token given twice
 * for the same host). When two hosts claim one token, the lower index wins
 * the lookup and the other follows it. */
void sl_cql_ring_sort(sl_cql_ring *ring);

/* The host owning token: the first entry >= token (wrapping) whose host is
 * not down (is_down[host], or all up when is_down is NULL; hosts at or past
 * n_hosts count as down). -1 when the ring is empty or every host is down. */
int sl_cql_ring_owner(const sl_cql_ring *ring, int64_t token, const bool *is_down, size_t n_hosts);

/* Frees the entries; the ring may be reused. */
void sl_cql_ring_free(sl_cql_ring *ring);

#endif
