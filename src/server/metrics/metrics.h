/* metrics.h — gathering what /metrics prints (and alert rules evaluate)
 * into an sl_metric_set (metric_set.h).
 *
 * Every family is declared once, in one table (metrics.c): its name,
 * type, labels and help; docs/operations.md's "Metrics" section is that
 * table (tests/unit/metrics_test.c fails when the two differ). The parts:
 *
 * - pipelines (from the supervisor, or the pipelines of a `sluice run`):
 *   up, restarts, records and bytes in and out, filtered, dead letters,
 *   errors, lag, batches in flight, the batch latency histogram, each
 *   source partition's position, committed offset, end and lag (topic and
 *   kafka sources) and each sink's request latency histogram;
 * - the embedded log: each topic partition's start and end offsets and
 *   bytes, each consumer group's committed offset and lag per partition;
 * - DAGs (from the metadata store, a connection per gathering): runs in
 *   each state, and finished runs' durations;
 * - the process, from /proc/self: RSS, CPU seconds, open and max fds,
 *   start time.
 *
 * Readers only: nothing here waits on a pipeline. Counters are the
 * atomics the stages update (pipeline_metrics.h).
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>

#include "core/buffer.h"
#include "core/error.h"
#include "log/log.h"
#include "server/metrics/metric_set.h"
#include "server/supervisor.h"

struct sl_server;

/* Everything above for a running `sluice server`. The caller frees *out. */
int sl_metrics_gather(struct sl_server *server, sl_metric_set **out, sl_error *err);

/* The parts, for sl_metrics_gather and `sluice run --metrics-listen`
 * (which has no DAGs). Each declares its families, then adds samples. */
int sl_metrics_add_pipelines(sl_metric_set *set, const sl_supervised_pipeline *pipelines, size_t n, sl_error *err);
int sl_metrics_add_log(sl_metric_set *set, sl_log *log, sl_error *err);
/* metadata: a path or postgres:// URL; a store that cannot be read is
 * logged and its families left without samples. */
int sl_metrics_add_dags(sl_metric_set *set, const char *metadata, sl_error *err);
int sl_metrics_add_process(sl_metric_set *set, sl_error *err);

/* The reference table (markdown) of every family, as docs/operations.md has it. */
int sl_metrics_reference(sl_buffer *out);

/* The text format's Content-Type. */
#define SL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
