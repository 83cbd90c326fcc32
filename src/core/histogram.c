/* histogram.c — fixed exponential buckets with atomic counts (see
 * histogram.h). Finding the bucket is a walk over at most 20 bounds: the
 * engine observes once per batch, never per record, so this costs a few
 * nanoseconds beside a batch's milliseconds. */
#include "core/histogram.h"

#define US 1000ull
#define S 1000000000ull

const sl_histogram_bounds SL_HISTOGRAM_LATENCY = {
    "latency", 18,
    { 100 * US, 200 * US, 400 * US, 800 * US, 1600 * US, 3200 * US, 6400 * US, 12800 * US, 25600 * US,
      51200 * US, 102400 * US, 204800 * US, 409600 * US, 819200 * US, 1638400 * US, 3276800 * US, 6553600 * US,
      13107200 * US },
};

const sl_histogram_bounds SL_HISTOGRAM_DURATION = {
    "duration", 17,
    { 1 * S, 2 * S, 4 * S, 8 * S, 16 * S, 32 * S, 64 * S, 128 * S, 256 * S, 512 * S, 1024 * S, 2048 * S, 4096 * S,
      8192 * S, 16384 * S, 32768 * S, 65536 * S },
};

void sl_histogram_init(sl_histogram *histogram, const sl_histogram_bounds *bounds)
{
    histogram->bounds = bounds;
    for (size_t i = 0; i <= SL_HISTOGRAM_MAX_BOUNDS; i++) atomic_init(&histogram->counts[i], 0);
    atomic_init(&histogram->sum_ns, 0);
}

static size_t bucket_of(const sl_histogram_bounds *bounds, uint64_t ns)
{
    size_t i = 0;
    while (i < bounds->n_bounds && ns > bounds->bounds_ns[i]) i++;
    return i;
}

void sl_histogram_observe_ns(sl_histogram *histogram, uint64_t ns)
{
    size_t i = bucket_of(histogram->bounds, ns);
    atomic_fetch_add_explicit(&histogram->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&histogram->sum_ns, ns, memory_order_relaxed);
}

void sl_histogram_snapshot_init(sl_histogram_snapshot *snapshot, const sl_histogram_bounds *bounds)
{
    *snapshot = (sl_histogram_snapshot){ .bounds = bounds };
}

void sl_histogram_read(const sl_histogram *histogram, sl_histogram_snapshot *out)
{
    sl_histogram_snapshot_init(out, histogram->bounds);
    uint64_t running = 0;
    for (size_t i = 0; i <= histogram->bounds->n_bounds; i++) {
        running += atomic_load_explicit(&histogram->counts[i], memory_order_relaxed);
        out->cumulative[i] = running;
    }
    out->count = running;
    out->sum_seconds = (double)atomic_load_explicit(&histogram->sum_ns, memory_order_relaxed) / (double)S;
}

void sl_histogram_snapshot_add(sl_histogram_snapshot *into, const sl_histogram_snapshot *from)
{
    if (into->bounds != from->bounds) return;
    for (size_t i = 0; i <= into->bounds->n_bounds; i++) into->cumulative[i] += from->cumulative[i];
    into->count += from->count;
    into->sum_seconds += from->sum_seconds;
}

void sl_histogram_snapshot_observe_ns(sl_histogram_snapshot *snapshot, uint64_t ns)
{
    for (size_t i = bucket_of(snapshot->bounds, ns); i <= snapshot->bounds->n_bounds; i++) snapshot->cumulative[i]++;
    snapshot->count++;
    snapshot->sum_seconds += (double)ns / (double)S;
}

double sl_histogram_bound_seconds(const sl_histogram_bounds *bounds, size_t i)
{
    return (double)bounds->bounds_ns[i] / (double)S;
}
