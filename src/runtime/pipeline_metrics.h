/* pipeline_metrics.h — what one pipeline has counted, read at one moment:
 * the copy /metrics, the pipeline objects of the HTTP API and the history
 * sampler work from, so none of them holds a pipeline while it formats.
 *
 * Who writes what (pipeline.c): the source thread counts records and bytes
 * in, samples the source's partitions (topic and kafka sources: the next
 * offset to read, the committed one, the end offset) a few times a second
 * and times nothing; a worker counts filtered records and records that
 * failed in SQL; a sink thread times each write until durable (its request
 * histogram), counts records out and rejects; whoever finishes a batch last
 * observes its latency from the end of its read until every sink made it
 * durable. All of it is atomics (partitions: under a mutex taken a few
 * times a second), so reading never waits on a stage.
 *
 * A supervisor adds the metrics of a pipeline's earlier runs to its current
 * run's (sl_pipeline_metrics_add), so counters keep counting across
 * restarts.
 */
#ifndef SL_PIPELINE_METRICS_H
#define SL_PIPELINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/histogram.h"

#define SL_METRICS_NAME_MAX 256

typedef struct sl_partition_position {
    char topic[SL_METRICS_NAME_MAX];
    int32_t partition;
    int64_t position;       /* next offset to read; -1 unknown */
    int64_t committed;      /* next offset committed; -1 none */
    int64_t end_offset;     /* the partition's end (high watermark); -1 unknown */
} sl_partition_position;

typedef struct sl_sink_metrics {
    char name[64];                      /* the connector's name ("sqlite"; "sqlite_2" for a second one) */
    uint64_t records_rejected;
    sl_histogram_snapshot request;      /* write until durable, per write (SL_HISTOGRAM_LATENCY) */
} sl_sink_metrics;

typedef struct sl_pipeline_metrics {
    uint64_t records_in, records_out, records_filtered, records_dead, records_failed;
    uint64_t bytes_in, bytes_out, batches;
    int64_t lag;                        /* records past the source's position, summed; -1 unknown */
    int64_t queue_depth;                /* batches read and not yet done */
    sl_histogram_snapshot batch;        /* read → every sink durable (SL_HISTOGRAM_LATENCY) */
    sl_sink_metrics *sinks;             /* malloc'ed, owned */
    size_t n_sinks;
    sl_partition_position *partitions;  /* malloc'ed, owned; the current run's only */
    size_t n_partitions;
} sl_pipeline_metrics;

/* Zeroed, lag -1, histograms empty. */
void sl_pipeline_metrics_init(sl_pipeline_metrics *metrics);
void sl_pipeline_metrics_clear(sl_pipeline_metrics *metrics);

/* Adds from's counters and histograms into into (sinks matched by name,
 * those into lacks appended); lag, queue depth and partitions are left.
 * SL_ENOMEM. */
int sl_pipeline_metrics_add(sl_pipeline_metrics *into, const sl_pipeline_metrics *from);

/* Copies from into a cleared into (SL_ENOMEM). */
int sl_pipeline_metrics_copy(sl_pipeline_metrics *into, const sl_pipeline_metrics *from);

#endif
