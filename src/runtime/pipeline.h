/* pipeline.h — one running pipeline: source → workers → sinks.
 *
 * Threads: one source thread reads batches and hands each to the worker
 * owning its partition (partition % workers; round robin for sources
 * without partitions), so a partition's batches stay in order. Workers parse
 * raw JSON, run the SQL, prepare JSON text for sinks that store it, and
 * pass the batch to every sink's thread. A sink thread writes durably and
 * marks the batch done; the source thread commits the contiguous done
 * prefix of each partition. A fixed pool of max_inflight batches bounds
 * memory: when every batch is in flight the source waits (backpressure).
 * docs/architecture.md draws the picture.
 */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "core/error.h"
#include "log/log.h"
#include "runtime/pipeline_metrics.h"
#include "runtime/plan.h"

typedef enum sl_pipeline_state {
    SL_PIPELINE_CREATED = 0,
    SL_PIPELINE_RUNNING,
    SL_PIPELINE_FINISHED,   /* source exhausted or stop requested, all drained (see is_short) */
    SL_PIPELINE_FAILED,
} sl_pipeline_state;

typedef struct sl_pipeline_stats {
    atomic_uint_fast64_t records_in;       /* read from the source */
    atomic_uint_fast64_t records_out;      /* stored by the sinks */
    atomic_uint_fast64_t records_filtered; /* dropped by WHERE */
    atomic_uint_fast64_t records_dead;     /* sent to the dead-letter topic */
    atomic_uint_fast64_t bytes_in;         /* raw bytes read */
    atomic_uint_fast64_t bytes_out;        /* raw bytes of the records handed to the sinks, once stored */
    atomic_uint_fast64_t records_failed;   /* failed in SQL or refused by a sink (dead letters too) */
    atomic_uint_fast64_t batches;
    /* The source's last sl_source_progress (-1 = unknown), sampled on the
     * source thread a few times a second. */
    atomic_int_fast64_t source_done;
    atomic_int_fast64_t source_total;
    atomic_int_fast64_t source_lag;
    atomic_int state;                      /* sl_pipeline_state */
    atomic_bool is_short;                  /* FINISHED by a stop before its source's own end */
    int64_t started_ms;                    /* monotonic */
    int64_t finished_ms;
} sl_pipeline_stats;

typedef struct sl_pipeline sl_pipeline;

/* Everything a pipeline borrows from the run that owns it. */
typedef struct sl_pipeline_context {
    sl_log *log;
    const char *data_dir;
    const atomic_bool *stopping;
    bool follow;
    bool (*topic_writers_done)(void *context, const char *topic);
    void *topic_context;
    /* Called from the pipeline's thread when it has finished or failed. */
    void (*on_finished)(void *context, sl_pipeline *pipeline);
    void *finished_context;
} sl_pipeline_context;

/* A pipeline for plan (borrowed: must outlive it). The caller owns *out. */
int sl_pipeline_new(const sl_pipeline_plan *plan, const sl_pipeline_context *context,
                    sl_pipeline **out, sl_error *err);
void sl_pipeline_free(sl_pipeline *pipeline);

/* Opens the sinks (topics written are created here), then the source.
 * All sinks of a run are opened before any source so a topic written by
 * one pipeline exists when another reads it. */
int sl_pipeline_open_sinks(sl_pipeline *pipeline, sl_error *err);
int sl_pipeline_open_source(sl_pipeline *pipeline, sl_error *err);

/* Starts the threads. */
int sl_pipeline_start(sl_pipeline *pipeline, sl_error *err);

/* Waits for every thread to end. Returns SL_OK or the failure that stopped
 * the pipeline, with its message in err. */
int sl_pipeline_join(sl_pipeline *pipeline, sl_error *err);

const char *sl_pipeline_name(const sl_pipeline *pipeline);
const sl_pipeline_plan *sl_pipeline_plan_of(const sl_pipeline *pipeline);
sl_pipeline_stats *sl_pipeline_stats_of(sl_pipeline *pipeline);

/* Copies what the pipeline counted (pipeline_metrics.h) into out, which
 * the caller clears (sl_pipeline_metrics_clear). Any thread, while the
 * pipeline exists. SL_ENOMEM (out left empty). */
int sl_pipeline_read_metrics(sl_pipeline *pipeline, sl_pipeline_metrics *out);

#endif
