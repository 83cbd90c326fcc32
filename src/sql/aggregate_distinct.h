/* aggregate_distinct.h — the set behind count(DISTINCT x): exact up to
 * SL_SQL_DISTINCT_EXACT_MAX distinct values, then a HyperLogLog sketch.
 *
 * Values are kept as 64-bit XXH3 hashes of their type and content
 * (sl__distinct_hash), so the exact part can be wrong only when two of its
 * at most 10,000 values collide in 64 bits (odds below 3·10⁻¹²). Numbers
 * hash by value: 1 and 1.0 are one value, as 1 = 1.0 in SQL; a string and
 * bytes with the same bytes are two.
 */
#ifndef SL_SQL_AGGREGATE_DISTINCT_H
#define SL_SQL_AGGREGATE_DISTINCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/value.h"
#include "sql/aggregate_hll.h"

typedef struct sl__distinct {
    uint64_t *slots;      /* open addressing with linear probing; 0 = empty */
    size_t n_slots;       /* a power of two, or 0 */
    size_t n_hashes;      /* distinct hashes in the exact part, the 0 hash included */
    bool has_zero;        /* the hash 0, which cannot sit in a slot */
    bool is_sketch;       /* past the bound: hll holds everything, slots are freed */
    sl__hll hll;
} sl__distinct;

/* The hash of a value's type and content (NULL inside arrays and objects
 * hashes too; top-level NULLs are the caller's to skip). */
uint64_t sl__distinct_hash(const sl_value *value);

/* Adds hash; SL_ENOMEM leaves the set unchanged. */
int sl__distinct_add(sl__distinct *set, uint64_t hash);
/* Folds src into dst; SL_ENOMEM leaves dst unchanged. */
int sl__distinct_merge(sl__distinct *dst, const sl__distinct *src);
/* How many distinct values: exact below the bound, else the estimate. */
int64_t sl__distinct_count(const sl__distinct *set);
size_t sl__distinct_heap_bytes(const sl__distinct *set);
void sl__distinct_release(sl__distinct *set);

#endif
