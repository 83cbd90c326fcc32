/* aggregate_kll.h — a KLL quantile sketch of doubles, for approx_percentile.
 *
 * Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams"
 * (2016): levels of compactors, level h holding values of weight 2^h; a
 * level over its capacity is sorted and every other value (odd or even
 * ones, by a coin) moves up a level with twice the weight. The top level
 * holds SL_SQL_PERCENTILE_K values and each lower one 2/3 of the one above
 * (at least 8), so the sketch keeps about 3·K values whatever n is, and is
 * exact while n <= K. The coin is a generator seeded the same in every
 * sketch, so results are reproducible. docs/sql.md states the rank error
 * measured by tests/unit/aggregate_test.c.
 */
#ifndef SL_SQL_AGGREGATE_KLL_H
#define SL_SQL_AGGREGATE_KLL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define SL__KLL_MAX_LEVELS 56

typedef struct sl__kll_level {
    double *items;         /* malloc'ed; unsorted */
    uint32_t n_items;
    uint32_t capacity;     /* items allocated */
} sl__kll_level;

typedef struct sl__kll {
    uint64_t n;            /* values added: the total weight of the items */
    uint64_t coin;         /* xorshift64 state */
    uint32_t n_levels;
    sl__kll_level levels[SL__KLL_MAX_LEVELS];
} sl__kll;

void sl__kll_init(sl__kll *kll);
/* Adds x; SL_ENOMEM leaves the sketch as it was. */
int sl__kll_add(sl__kll *kll, double x);
/* Folds src into dst; SL_ENOMEM leaves dst's values as they were. */
int sl__kll_merge(sl__kll *dst, const sl__kll *src);
/* The value whose rank is the fraction's, as percentile_disc picks it: the
 * first value (in order, NaN last) at which the weight so far reaches
 * fraction · n. kll holds at least one value; scratch memory comes from
 * arena (SL_ENOMEM when it cannot). */
int sl__kll_quantile(const sl__kll *kll, double fraction, sl_arena *arena, double *out);
size_t sl__kll_heap_bytes(const sl__kll *kll);
void sl__kll_release(sl__kll *kll);

#endif
