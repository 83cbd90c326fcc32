/* aggregate_hll.c — the HyperLogLog sketch (see aggregate_hll.h).
 *
 * A hash's first p bits choose a register; the register keeps the largest
 * rank seen, the rank being the position of the first 1 bit in the other
 * q = 64 - p bits (q + 1 when they are all 0). The estimate follows Otmar
 * Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017), the improved raw estimator: from the histogram C[k] of register
 * values, z = m·τ(1 − C[q+1]/m), then z = (z + C[k]) / 2 for k = q..1, then
 * z += m·σ(C[0]/m), and the estimate is m² / (2·ln 2 · z). σ and τ are his
 * series, summed until they stop changing.
 */
#include "sql/aggregate_hll.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "sql/aggregate.h"

#define HLL_P SL_SQL_HLL_PRECISION
#define HLL_Q (64 - HLL_P)
#define HLL_M ((size_t)1 << HLL_P)

static int ensure_registers(sl__hll *hll)
{
    if (hll->registers) return SL_OK;
    hll->registers = calloc(HLL_M, 1);
    return hll->registers ? SL_OK : SL_ENOMEM;
}

int sl__hll_add(sl__hll *hll, uint64_t hash)
{
    if (ensure_registers(hll)) return SL_ENOMEM;
    size_t index = (size_t)(hash >> HLL_Q);
    uint64_t rest = hash << HLL_P;      /* the q low bits, at the top */
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(HLL_Q + 1);
    if (rank > hll->registers[index]) hll->registers[index] = rank;
    return SL_OK;
}

int sl__hll_merge(sl__hll *dst, const sl__hll *src)
{
    if (!src->registers) return SL_OK;
    if (ensure_registers(dst)) return SL_ENOMEM;
    for (size_t i = 0; i < HLL_M; i++)
        if (src->registers[i] > dst->registers[i]) dst->registers[i] = src->registers[i];
    return SL_OK;
}

/* σ(x) = x + Σ_{k≥1} x^(2^k) · 2^(k−1). */
static double ertl_sigma(double x)
{
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, previous;
    do {
        x *= x;
        previous = z;
        z += x * y;
        y += y;
    } while (z != previous);
    return z;
}

/* τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² · 2^−k) / 3. */
static double ertl_tau(double x)
{
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, previous;
    do {
        x = sqrt(x);
        previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != previous);
    return z / 3.0;
}

int64_t sl__hll_estimate(const sl__hll *hll)
{
    if (!hll->registers) return 0;
    size_t histogram[HLL_Q + 2] = { 0 };
    for (size_t i = 0; i < HLL_M; i++) histogram[hll->registers[i]]++;
    double m = (double)HLL_M;
    if (histogram[0] == HLL_M) return 0;
    double z = m * ertl_tau(1.0 - (double)histogram[HLL_Q + 1] / m);
    for (int k = HLL_Q; k >= 1; k--) z = 0.5 * (z + (double)histogram[k]);
    z += m * ertl_sigma((double)histogram[0] / m);
    return (int64_t)llround(m * m / (2.0 * log(2.0) * z));
}

size_t sl__hll_heap_bytes(const sl__hll *hll)
{
    return hll->registers ? HLL_M : 0;
}

void sl__hll_release(sl__hll *hll)
{
    free(hll->registers);
    hll->registers = NULL;
}
