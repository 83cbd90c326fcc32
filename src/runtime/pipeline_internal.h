/* pipeline_internal.h — what pipeline.c shares with pipeline_aggregate.c:
 * the pipeline's threads and slots, and the helpers both use. Not for
 * anyone else: pipeline.h is the public face. */
#ifndef SL_PIPELINE_INTERNAL_H
#define SL_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/buffer.h"
#include "core/histogram.h"
#include "core/json.h"
#include "core/queue.h"
#include "runtime/ack.h"
#include "runtime/dlq.h"
#include "runtime/pipeline.h"

typedef struct inflight {
    sl_batch *batch;
    bool is_output;             /* a grouped pipeline's output batch (pipeline_aggregate.c), not the source's */
    void *round;                /* output: the firing it ends, or NULL */
    sl_value *prepared;         /* grouped input: each record's prepared row (in the batch arena) */
    sl_ack_ticket ticket;
    atomic_int pending_sinks;
    int64_t read_us;            /* monotonic, when its read returned (for the batch latency) */
    uint64_t bytes_out;         /* raw bytes of the records left for the sinks */
} inflight;

typedef struct worker {
    sl_pipeline *pipeline;
    sl_queue *queue;
    pthread_t thread;
    bool has_thread;
    sl_buffer json;
    struct sl_lookup *lookup;   /* its own connection and cache for a lookup join (runtime/lookup.h) */
} worker;

typedef struct sink_runner {
    sl_pipeline *pipeline;
    const sl_sink_plan *plan;
    size_t index;
    sl_connector_env env;       /* the pipeline's, with rejects counted here */
    void *state;
    sl_queue *queue;
    pthread_t thread;
    bool has_thread;
    atomic_uint_fast64_t n_rejected;
    char label[64];             /* its name in the metrics */
    sl_histogram request;       /* each write until durable */
} sink_runner;

struct sl_pipeline {
    const sl_pipeline_plan *plan;
    sl_pipeline_context context;
    sl_connector_env env;
    sl_pipeline_stats stats;
    void *source_state;
    sl_dlq *dlq;
    sl_ack_tracker *acks;
    inflight *inflights;
    size_t n_inflights;
    sl_queue *free_queue;
    worker *workers;
    size_t n_workers;
    sink_runner *sinks;
    size_t n_sinks;
    const char **column_names;
    pthread_t source_thread;
    bool has_source_thread;
    bool needs_parse;           /* records arrive as raw JSON and someone needs values */
    bool needs_raw;             /* some sink stores JSON text */
    atomic_bool is_failing;
    pthread_mutex_t error_mutex;
    sl_error error;
    sl_histogram batch_latency;         /* read → every sink durable */
    atomic_int_fast64_t n_in_flight;    /* batches read, not yet done */
    pthread_mutex_t positions_mutex;    /* guards the three below (written by the source thread) */
    sl_partition_position *positions;
    size_t n_positions, positions_capacity;
    struct sl_pipeline_aggregate *aggregate;   /* grouped SQL only (pipeline_aggregate.c) */
    atomic_bool has_reached_end;        /* the source ended by itself (set before the drain) */
    atomic_uint_fast64_t n_limited;     /* rows counted against the SQL's LIMIT */
};

/* Records the first fatal error and makes every thread wind down. */
void sl_pipeline_fail(sl_pipeline *pipeline, const sl_error *err);

/* Sends record to the dead-letter topic (fails the pipeline when it
 * cannot be stored). */
void sl_pipeline_dead_letter(sl_pipeline *pipeline, const sl_record *record, const char *stage, const char *reason);

/* Builds record's value from its raw JSON when the pipeline needs values
 * (only what projection keeps); false when it is not JSON, sent to the
 * dead letters. */
bool sl_pipeline_parse_record(sl_pipeline *pipeline, sl_batch *batch, sl_record *record,
                              const sl_json_projection *projection);

/* Sets record->raw to its value's JSON text, in batch's arena. */
int sl_pipeline_prepare_raw(sl_buffer *json, sl_batch *batch, sl_record *record);

/* Hands slot to every sink. */
void sl_pipeline_send_to_sinks(sl_pipeline *pipeline, inflight *slot);

#endif
