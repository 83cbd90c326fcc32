/* aggregate_hll.h — a HyperLogLog sketch of 64-bit hashes, for
 * count(DISTINCT x) past its exact bound and approx_count_distinct.
 *
 * 2^SL_SQL_HLL_PRECISION one-byte registers (16 KiB), allocated on the first
 * hash; the estimate is Ertl's improved estimator, accurate from 0 to
 * billions without bias-correction tables, with a standard error of
 * 1.04 / sqrt(2^14) ≈ 0.81%. Merging is the registers' maximum, so a merged
 * sketch is exactly the sketch of all the hashes.
 */
#ifndef SL_SQL_AGGREGATE_HLL_H
#define SL_SQL_AGGREGATE_HLL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl__hll {
    uint8_t *registers;   /* NULL until the first hash */
} sl__hll;

/* Adds hash; SL_ENOMEM (and hll unchanged) when the registers cannot be made. */
int sl__hll_add(sl__hll *hll, uint64_t hash);
/* Folds src into dst; SL_ENOMEM leaves dst unchanged. */
int sl__hll_merge(sl__hll *dst, const sl__hll *src);
/* The estimated number of distinct hashes added. */
int64_t sl__hll_estimate(const sl__hll *hll);
size_t sl__hll_heap_bytes(const sl__hll *hll);
void sl__hll_release(sl__hll *hll);

#endif
