/* ring.c — token ring lookups; see ring.h.
 *
 * Lookup is a binary search for the first entry >= token; from there the
 * walk past down hosts is linear, at most one lap of the ring.
 */
#include "cql/ring.h"

#include <stdlib.h>

#include "core/error.h"

int sl_cql_ring_add(sl_cql_ring *ring, int64_t token, uint32_t host)
{
    if (ring->n_entries == ring->capacity) {
        size_t capacity = ring->capacity ? ring->capacity * 2 : 16;
        sl_cql_ring_entry *entries = realloc(ring->entries, capacity * sizeof *entries);
        if (!entries) return SL_ENOMEM;
        ring->entries = entries;
        ring->capacity = capacity;
    }
    ring->entries[ring->n_entries++] = (sl_cql_ring_entry){ token, host };
    return SL_OK;
}

static int compare_entries(const void *a, const void *b)
{
    const sl_cql_ring_entry *x = a, *y = b;
    if (x->token != y->token) return x->token < y->token ? -1 : 1;
    if (x->host != y->host) return x->host < y->host ? -1 : 1;
    return 0;
}

void sl_cql_ring_sort(sl_cql_ring *ring)
{
    if (ring->n_entries == 0) return;
    qsort(ring->entries, ring->n_entries, sizeof *ring->entries, compare_entries);
    size_t kept = 1;
    for (size_t i = 1; i < ring->n_entries; i++) {
        if (compare_entries(&ring->entries[i], &ring->entries[kept - 1]) == 0) continue;
        ring->entries[kept++] = ring->entries[i];
    }
    ring->n_entries = kept;
}

static bool host_is_down(uint32_t host, const bool *is_down, size_t n_hosts)
{
    if (host >= n_hosts) return true;
    return is_down && is_down[host];
}

int sl_cql_ring_owner(const sl_cql_ring *ring, int64_t token, const bool *is_down, size_t n_hosts)
{
    size_t n = ring->n_entries;
    if (n == 0) return -1;
    /* First entry with entry.token >= token; n when every token is smaller. */
    size_t low = 0, high = n;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (ring->entries[mid].token < token) low = mid + 1;
        else high = mid;
    }
    for (size_t step = 0; step < n; step++) {
        uint32_t host = ring->entries[(low + step) % n].host;
        if (!host_is_down(host, is_down, n_hosts)) return (int)host;
    }
    return -1;
}

void sl_cql_ring_free(sl_cql_ring *ring)
{
    free(ring->entries);
    ring->entries = NULL;
    ring->n_entries = 0;
    ring->capacity = 0;
}
