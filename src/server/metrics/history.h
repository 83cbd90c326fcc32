/* history.h — the last 15 minutes of each continuous pipeline, for
 * GET /api/v1/pipelines/{name}/history and the rates of the pipeline
 * objects.
 *
 * A sampler thread reads the supervisor's metrics every
 * SL_HISTORY_INTERVAL_S seconds and appends one sample per pipeline to
 * that pipeline's ring of SL_HISTORY_SAMPLES (the oldest is overwritten):
 * records in and out, bytes in and out and dead letters per second over
 * the interval, and the lag at its end. A pipeline's first sample comes
 * one interval after it is first seen (its counters then are the
 * baseline); a counter lower than at the previous sample (a pipeline
 * rebuilt by a reload starts from 0) counts as reset, as Prometheus reads
 * counters. A pipeline the supervisor no longer has is forgotten, so
 * memory is bounded by the file's pipelines × 180 samples.
 *
 * Threads: one mutex guards the rings; readers (HTTP handlers) copy out
 * under it and never wait on the sampler's reading of the supervisor.
 */
#ifndef SL_HISTORY_H
#define SL_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buffer.h"
#include "core/error.h"
#include "server/supervisor.h"

#define SL_HISTORY_INTERVAL_S 5
#define SL_HISTORY_SAMPLES 180

typedef struct sl_history sl_history;

/* An empty history without a thread (sl_history_record feeds it). */
int sl_history_new(sl_history **out, sl_error *err);

/* Starts the sampler thread on supervisor (borrowed: it must outlive the
 * thread, which sl_history_free stops). */
int sl_history_start(sl_history *history, sl_supervisor *supervisor, sl_error *err);

/* Stops the thread (if any) and frees. */
void sl_history_free(sl_history *history);

/* Takes one sample of pipelines at wall_ms (the sample's time) and
 * monotonic_ms (for the interval): what the thread does every interval.
 * SL_ENOMEM. */
int sl_history_record(sl_history *history, const sl_supervised_pipeline *pipelines, size_t n, int64_t wall_ms,
                      int64_t monotonic_ms);

/* The latest sample's rates of the pipeline called name (an
 * sl_pipeline_rates_fn; context is the history). */
bool sl_history_rates(void *history, const char *name, sl_pipeline_rates *rates);

/* Appends {"pipeline","interval_s","samples":[...]} for name, oldest
 * sample first (none yet: []). SL_ENOMEM. */
int sl_history_write_json(sl_history *history, const char *name, sl_buffer *out);

#endif
