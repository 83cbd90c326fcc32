/* histogram_test.c — the lock-free histogram: which bucket an observation
 * lands in (bounds are upper bounds, inclusive), cumulative counts, sums of
 * snapshots, and observers on several threads at once (run under TSan:
 * TSAN_UNIT in the Makefile) losing no count. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "core/histogram.h"

Test(histogram, bounds_are_inclusive_upper_bounds_and_counts_cumulative)
{
    sl_histogram h;
    sl_histogram_init(&h, &SL_HISTOGRAM_LATENCY);
    sl_histogram_observe_ns(&h, 0);             /* first bucket */
    sl_histogram_observe_ns(&h, 100000);        /* exactly 100 µs: first bucket */
    sl_histogram_observe_ns(&h, 100001);        /* second */
    sl_histogram_observe_ns(&h, 60ull * 1000000000ull);   /* above every bound: +Inf only */
    sl_histogram_snapshot s;
    sl_histogram_read(&h, &s);
    cr_assert_eq(s.cumulative[0], 2);
    cr_assert_eq(s.cumulative[1], 3);
    cr_assert_eq(s.cumulative[SL_HISTOGRAM_LATENCY.n_bounds - 1], 3);
    cr_assert_eq(s.cumulative[SL_HISTOGRAM_LATENCY.n_bounds], 4);
    cr_assert_eq(s.count, 4);
    cr_assert_float_eq(s.sum_seconds, 60.000200001, 1e-9);
    cr_assert_float_eq(sl_histogram_bound_seconds(&SL_HISTOGRAM_LATENCY, 0), 0.0001, 1e-12);
    for (size_t i = 1; i < SL_HISTOGRAM_LATENCY.n_bounds; i++)
        cr_assert_eq(SL_HISTOGRAM_LATENCY.bounds_ns[i], 2 * SL_HISTOGRAM_LATENCY.bounds_ns[i - 1]);
    for (size_t i = 1; i < SL_HISTOGRAM_DURATION.n_bounds; i++)
        cr_assert_eq(SL_HISTOGRAM_DURATION.bounds_ns[i], 2 * SL_HISTOGRAM_DURATION.bounds_ns[i - 1]);
}

Test(histogram, snapshots_add_and_observe)
{
    sl_histogram_snapshot a, b;
    sl_histogram_snapshot_init(&a, &SL_HISTOGRAM_DURATION);
    sl_histogram_snapshot_init(&b, &SL_HISTOGRAM_DURATION);
    sl_histogram_snapshot_observe_ns(&a, 3000000000ull);     /* 3 s: the 4 s bucket (index 2) */
    sl_histogram_snapshot_observe_ns(&b, 500000000ull);      /* 0.5 s: the 1 s bucket */
    sl_histogram_snapshot_add(&a, &b);
    cr_assert_eq(a.cumulative[0], 1);
    cr_assert_eq(a.cumulative[1], 1);
    cr_assert_eq(a.cumulative[2], 2);
    cr_assert_eq(a.cumulative[SL_HISTOGRAM_DURATION.n_bounds], 2);
    cr_assert_eq(a.count, 2);
    cr_assert_float_eq(a.sum_seconds, 3.5, 1e-9);
    sl_histogram_snapshot other;
    sl_histogram_snapshot_init(&other, &SL_HISTOGRAM_LATENCY);
    sl_histogram_snapshot_add(&a, &other);   /* other bounds: nothing added */
    cr_assert_eq(a.count, 2);
}

#define THREADS 4
#define PER_THREAD 100000

static sl_histogram shared;

static void *observe_many(void *arg)
{
    uint64_t ns = (uint64_t)(uintptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) sl_histogram_observe_ns(&shared, ns);
    return NULL;
}

Test(histogram, concurrent_observers_lose_no_count_while_read)
{
    sl_histogram_init(&shared, &SL_HISTOGRAM_LATENCY);
    pthread_t threads[THREADS];
    for (uintptr_t t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, observe_many, (void *)(t * 1000000 + 50000)), 0);
    uint64_t last = 0;
    for (int i = 0; i < 1000; i++) {
        sl_histogram_snapshot s;
        sl_histogram_read(&shared, &s);
        cr_assert_geq(s.count, last);   /* counts only grow */
        cr_assert_eq(s.count, s.cumulative[SL_HISTOGRAM_LATENCY.n_bounds]);
        last = s.count;
    }
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    sl_histogram_snapshot s;
    sl_histogram_read(&shared, &s);
    cr_assert_eq(s.count, (uint64_t)THREADS * PER_THREAD);
    /* 50 µs, 1.05 ms, 2.05 ms, 3.05 ms: buckets 0 (≤100µs), 4 (≤1.6ms), 5 (≤3.2ms), 5 */
    cr_assert_eq(s.cumulative[0], PER_THREAD);
    cr_assert_eq(s.cumulative[3], PER_THREAD);
    cr_assert_eq(s.cumulative[4], 2 * PER_THREAD);
    cr_assert_eq(s.cumulative[5], 4 * PER_THREAD);
    cr_assert_float_eq(s.sum_seconds, PER_THREAD * (0.00005 + 0.00105 + 0.00205 + 0.00305), 1e-6);
}
