/* histogram.h — a lock-free histogram of durations, for the latencies the
 * engine measures on its hot paths (a batch from read to durable, a sink's
 * write) and the durations /metrics reports.
 *
 * Buckets have fixed exponential upper bounds from a const table
 * (sl_histogram_bounds): SL_HISTOGRAM_LATENCY from 100 µs doubling to about
 * 13 s, SL_HISTOGRAM_DURATION from 1 s doubling to about 18 h. An
 * observation is one atomic add on its bucket and one on the sum (relaxed:
 * a reader sees each count whole, not a snapshot of all of them at one
 * instant), so any number of threads may observe at once while others read.
 * Bucket counts are kept per bucket; sl_histogram_read makes them
 * cumulative as Prometheus wants them ("le"), with _count the +Inf bucket,
 * so a reader's count always equals its last bucket.
 *
 * Memory: an sl_histogram is a fixed struct, embedded where it is used; no
 * allocation.
 */
#ifndef SL_HISTOGRAM_H
#define SL_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SL_HISTOGRAM_MAX_BOUNDS 20

typedef struct sl_histogram_bounds {
    const char *name;                  /* for docs: "latency", "duration" */
    size_t n_bounds;                   /* <= SL_HISTOGRAM_MAX_BOUNDS */
    uint64_t bounds_ns[SL_HISTOGRAM_MAX_BOUNDS];   /* ascending upper bounds */
} sl_histogram_bounds;

extern const sl_histogram_bounds SL_HISTOGRAM_LATENCY;
extern const sl_histogram_bounds SL_HISTOGRAM_DURATION;

typedef struct sl_histogram {
    const sl_histogram_bounds *bounds;
    atomic_uint_fast64_t counts[SL_HISTOGRAM_MAX_BOUNDS + 1];   /* the last: above every bound */
    atomic_uint_fast64_t sum_ns;
} sl_histogram;

/* A histogram's values at one read: cumulative counts per bound, then +Inf. */
typedef struct sl_histogram_snapshot {
    const sl_histogram_bounds *bounds;
    uint64_t cumulative[SL_HISTOGRAM_MAX_BOUNDS + 1];
    uint64_t count;                    /* == cumulative[n_bounds] */
    double sum_seconds;
} sl_histogram_snapshot;

void sl_histogram_init(sl_histogram *histogram, const sl_histogram_bounds *bounds);

/* Counts one observation of ns nanoseconds (any thread). */
void sl_histogram_observe_ns(sl_histogram *histogram, uint64_t ns);

/* Reads the counts (any thread). */
void sl_histogram_read(const sl_histogram *histogram, sl_histogram_snapshot *out);

/* An empty snapshot with bounds (for sums of several). */
void sl_histogram_snapshot_init(sl_histogram_snapshot *snapshot, const sl_histogram_bounds *bounds);

/* Adds from's counts and sum into into (same bounds, else nothing is added). */
void sl_histogram_snapshot_add(sl_histogram_snapshot *into, const sl_histogram_snapshot *from);

/* Counts one observation into a snapshot (for histograms built at read
 * time, such as durations read from a store). */
void sl_histogram_snapshot_observe_ns(sl_histogram_snapshot *snapshot, uint64_t ns);

/* The i-th upper bound in seconds. */
double sl_histogram_bound_seconds(const sl_histogram_bounds *bounds, size_t i);

#endif
