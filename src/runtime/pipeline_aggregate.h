/* pipeline_aggregate.h — the aggregator stage of a pipeline whose SQL is
 * grouped: workers prepare rows, one thread folds them into windows
 * (runtime/aggregator.h) and sends the rows windows fire to the sinks in
 * output batches of its own. Called by pipeline.c only. */
#ifndef SL_PIPELINE_AGGREGATE_H
#define SL_PIPELINE_AGGREGATE_H

#include "runtime/pipeline_internal.h"

/* Sets pipeline->aggregate up (reads the state file). */
int sl_pipeline_aggregate_new(sl_pipeline *pipeline, sl_error *err);
void sl_pipeline_aggregate_free(sl_pipeline *pipeline);
int sl_pipeline_aggregate_start(sl_pipeline *pipeline);

/* Worker: prepares slot's records (parse, WHERE, event time, keys,
 * aggregate arguments); failures go to the dead letters. */
void sl_pipeline_aggregate_prepare(sl_pipeline *pipeline, inflight *slot);

/* Worker: hands a prepared slot to the aggregator thread. */
void sl_pipeline_aggregate_push(sl_pipeline *pipeline, inflight *slot);

/* Sink thread: an output slot is written (or dropped, when failing). */
void sl_pipeline_aggregate_output_done(sl_pipeline *pipeline, inflight *slot);

/* Source thread, before committing. */
int sl_pipeline_aggregate_checkpoint(sl_pipeline *pipeline, sl_error *err);

/* After the workers have ended: the aggregator fires what the end of input
 * closes (when the source ended by itself), waits for its rows to be
 * durable, and ends. */
void sl_pipeline_aggregate_join(sl_pipeline *pipeline);

/* pipeline.c: an input slot whose rows are folded goes back to the pool. */
void sl_pipeline_recycle_input(sl_pipeline *pipeline, inflight *slot);

#endif
