/* pipeline_aggregate.c — a grouped pipeline's aggregator thread and its
 * output batches (see pipeline_aggregate.h).
 *
 * Threads: workers prepare input batches in parallel and push them to the
 * aggregator's queue; the aggregator thread folds them in order of arrival,
 * gives their memory back at once, advances the watermark after each batch
 * (and every 100 ms when idle, so idle partitions time out), and fills its
 * own output batches with the rows windows fire. An output batch is sent
 * to the sinks when it is full and a newer row needs room, or when a
 * firing ends (it then carries that firing's round). Sinks give output
 * batches back through a queue the aggregator drains; a returned batch
 * carrying a round tells the aggregator that round is durable.
 */
#include "runtime/pipeline_aggregate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "runtime/aggregator.h"
#include "sql/windows.h"

#define OUTPUT_BATCHES 4
#define IDLE_TICK_MS 100

typedef struct sl_pipeline_aggregate {
    sl_pipeline *pipeline;
    sl_aggregator *aggregator;
    sl_queue *input;                    /* prepared input slots, from the workers */
    sl_queue *returned;                 /* output slots, back from the sinks */
    inflight outputs[OUTPUT_BATCHES];
    inflight *free_outputs[OUTPUT_BATCHES];
    size_t n_free;
    inflight *current;                  /* being filled */
    inflight **arrived;                 /* input slots by sequence % n_inflights, waiting for their turn */
    uint64_t next_sequence;             /* the source's order: the next batch to fold */
    sl_buffer json;
    pthread_t thread;
    bool has_thread;
} sl_pipeline_aggregate;

static bool is_failing(const sl_pipeline *pipeline)
{
    return atomic_load(&pipeline->is_failing);
}

/* ---- output batches ---- */

static void take_back(sl_pipeline_aggregate *agg, inflight *slot)
{
    void *round = slot->round;
    slot->round = NULL;
    /* A batch dropped because the pipeline fails was not written: its
     * round must never acknowledge anything. */
    if (round && !is_failing(agg->pipeline)) sl_aggregator_round_done(agg->aggregator, round);
    agg->free_outputs[agg->n_free++] = slot;
}

static void drain_returned(sl_pipeline_aggregate *agg, int timeout_ms)
{
    void *item;
    if (!sl_queue_pop(agg->returned, &item, timeout_ms)) return;
    take_back(agg, item);
    while (sl_queue_pop(agg->returned, &item, 0)) take_back(agg, item);
}

static void send_current(sl_pipeline_aggregate *agg)
{
    inflight *slot = agg->current;
    agg->current = NULL;
    uint64_t bytes = 0;
    for (size_t i = 0; i < slot->batch->n_records; i++) bytes += slot->batch->records[i].raw.len;
    slot->bytes_out = bytes;
    slot->read_us = sl_clock_monotonic_us();
    sl_pipeline_send_to_sinks(agg->pipeline, slot);
}

/* A free output batch, waiting for the sinks to give one back. */
static int ensure_current(sl_pipeline_aggregate *agg, sl_error *err)
{
    if (agg->current && !sl_batch_is_full(agg->current->batch)) return SL_OK;
    if (agg->current) send_current(agg);
    while (!agg->n_free) {
        if (is_failing(agg->pipeline)) return sl_error_set(err, SL_ECANCELED, "pipeline failing");
        drain_returned(agg, IDLE_TICK_MS);
    }
    agg->current = agg->free_outputs[--agg->n_free];
    sl_batch_reset(agg->current->batch);
    agg->current->round = NULL;
    return SL_OK;
}

static int emit(void *context, const sl_value *row, sl_error *err)
{
    sl_pipeline_aggregate *agg = context;
    int rc = ensure_current(agg, err);
    if (rc) return rc;
    sl_batch *batch = agg->current->batch;
    sl_record *record = sl_batch_add(batch);
    if (!record) return sl_error_set(err, SL_ENOMEM, "output batch full");
    rc = sl_value_clone(batch->arena, row, &record->value);
    if (rc) return sl_error_set(err, rc, "out of memory for an output row");
    record->has_value = true;
    record->offset = -1;
    if (agg->pipeline->needs_raw) {
        rc = sl_pipeline_prepare_raw(&agg->json, batch, record);
        if (rc) return sl_error_set(err, rc, "cannot write an output row as JSON");
    }
    return SL_OK;
}

static int end_round(void *context, void *round, sl_error *err)
{
    (void)err;
    sl_pipeline_aggregate *agg = context;
    if (agg->current && agg->current->batch->n_records) {
        agg->current->round = round;
        send_current(agg);
    } else {
        sl_aggregator_round_done(agg->aggregator, round);
    }
    return SL_OK;
}

static void ack(void *context, sl_ack_ticket ticket)
{
    sl_pipeline_aggregate *agg = context;
    sl_ack_done(agg->pipeline->acks, ticket);
}

static int dead_letter(void *context, const sl_record *record, const char *stage, const char *reason)
{
    sl_pipeline_aggregate *agg = context;
    sl_pipeline_dead_letter(agg->pipeline, record, stage, reason);
    return is_failing(agg->pipeline) ? SL_EIO : SL_OK;
}

static int dead_group(void *context, const sl_value *group_row, const char *reason)
{
    sl_pipeline_aggregate *agg = context;
    sl_record record = { .value = *group_row, .has_value = true, .partition = -1, .offset = -1 };
    atomic_fetch_add(&agg->pipeline->stats.records_failed, 1);
    sl_pipeline_dead_letter(agg->pipeline, &record, "aggregate", reason);
    return is_failing(agg->pipeline) ? SL_EIO : SL_OK;
}

/* ---- workers ---- */

void sl_pipeline_aggregate_prepare(sl_pipeline *pipeline, inflight *slot)
{
    sl_batch *batch = slot->batch;
    const sl_sql_program *program = pipeline->plan->program;
    const sl_json_projection *projection = sl_sql_input_projection(program);
    slot->prepared = sl_arena_calloc(batch->arena, (batch->n_records ? batch->n_records : 1) * sizeof *slot->prepared);
    sl_error err;
    sl_error_clear(&err);
    if (!slot->prepared) {
        sl_error_set(&err, SL_ENOMEM, "out of memory preparing a batch");
        sl_pipeline_fail(pipeline, &err);
        return;
    }
    uint64_t n_filtered = 0;
    for (size_t i = 0; i < batch->n_records; i++) {
        sl_record *record = &batch->records[i];
        if (!sl_pipeline_parse_record(pipeline, batch, record, projection)) continue;
        int rc = sl_sql_group_prepare(program, &record->value, batch->arena, &slot->prepared[i], &err);
        if (rc < 0) {
            slot->prepared[i] = sl_value_null();
            atomic_fetch_add(&pipeline->stats.records_failed, 1);
            sl_pipeline_dead_letter(pipeline, record, "transform", err.message);
        } else if (rc == 0) {
            slot->prepared[i] = sl_value_null();
            n_filtered++;
        }
    }
    if (n_filtered) atomic_fetch_add(&pipeline->stats.records_filtered, n_filtered);
}

void sl_pipeline_aggregate_push(sl_pipeline *pipeline, inflight *slot)
{
    if (!sl_queue_push(pipeline->aggregate->input, slot)) sl_pipeline_recycle_input(pipeline, slot);
}

/* ---- the aggregator thread ---- */

static void *aggregator_main(void *arg)
{
    sl_pipeline_aggregate *agg = arg;
    sl_pipeline *pipeline = agg->pipeline;
    sl_error err;
    sl_error_clear(&err);
    int rc = SL_OK;
    for (;;) {
        void *item;
        bool has_item = sl_queue_pop(agg->input, &item, IDLE_TICK_MS);
        drain_returned(agg, 0);
        if (has_item) {
            /* Workers finish batches out of order; windows and watermarks
             * see them in the source's order, so results do not depend on
             * which worker was faster. */
            inflight *slot = item;
            agg->arrived[slot->batch->sequence % pipeline->n_inflights] = slot;
            for (;;) {
                inflight **turn = &agg->arrived[agg->next_sequence % pipeline->n_inflights];
                if (!*turn || (*turn)->batch->sequence != agg->next_sequence) break;
                slot = *turn;
                *turn = NULL;
                agg->next_sequence++;
                if (!is_failing(pipeline) && rc == SL_OK)
                    rc = sl_aggregator_fold(agg->aggregator, slot->batch, slot->prepared, slot->ticket, &err);
                sl_pipeline_recycle_input(pipeline, slot);
            }
        } else if (sl_queue_is_closed(agg->input)) {
            break;
        }
        if (rc == SL_OK && !is_failing(pipeline))
            rc = sl_aggregator_advance(agg->aggregator, sl_clock_monotonic_ms(), false, &err);
        if (rc && !is_failing(pipeline)) sl_pipeline_fail(pipeline, &err);
    }
    if (rc == SL_OK && !is_failing(pipeline) && atomic_load(&pipeline->has_reached_end)) {
        /* A bounded input ended: every window fires, as when a batch job ends. */
        rc = sl_aggregator_advance(agg->aggregator, sl_clock_monotonic_ms(), true, &err);
        if (rc) sl_pipeline_fail(pipeline, &err);
    }
    for (size_t i = 0; i < pipeline->n_inflights; i++)   /* a failing pipeline's leftovers */
        if (agg->arrived[i]) {
            sl_pipeline_recycle_input(pipeline, agg->arrived[i]);
            agg->arrived[i] = NULL;
        }
    while (sl_aggregator_rounds_pending(agg->aggregator) && !is_failing(pipeline)) drain_returned(agg, IDLE_TICK_MS);
    return NULL;
}

int sl_pipeline_aggregate_start(sl_pipeline *pipeline)
{
    sl_pipeline_aggregate *agg = pipeline->aggregate;
    if (pthread_create(&agg->thread, NULL, aggregator_main, agg)) return SL_ENOMEM;
    agg->has_thread = true;
    return SL_OK;
}

void sl_pipeline_aggregate_join(sl_pipeline *pipeline)
{
    sl_pipeline_aggregate *agg = pipeline->aggregate;
    sl_queue_close(agg->input);
    if (agg->has_thread) pthread_join(agg->thread, NULL);
    agg->has_thread = false;
}

void sl_pipeline_aggregate_output_done(sl_pipeline *pipeline, inflight *slot)
{
    sl_queue_push(pipeline->aggregate->returned, slot);
}

int sl_pipeline_aggregate_checkpoint(sl_pipeline *pipeline, sl_error *err)
{
    return sl_aggregator_checkpoint(pipeline->aggregate->aggregator, err);
}

/* ---- life ---- */

int sl_pipeline_aggregate_new(sl_pipeline *pipeline, sl_error *err)
{
    const sl_pipeline_plan *plan = pipeline->plan;
    sl_pipeline_aggregate *agg = calloc(1, sizeof *agg);
    if (!agg) return sl_error_set(err, SL_ENOMEM, "pipeline %s: out of memory", plan->name);
    pipeline->aggregate = agg;
    agg->pipeline = pipeline;
    agg->input = sl_queue_new(pipeline->n_inflights);
    agg->returned = sl_queue_new(OUTPUT_BATCHES);
    agg->arrived = calloc(pipeline->n_inflights, sizeof *agg->arrived);
    if (!agg->input || !agg->returned || !agg->arrived) return sl_error_set(err, SL_ENOMEM, "pipeline %s: out of memory", plan->name);
    for (size_t i = 0; i < OUTPUT_BATCHES; i++) {
        agg->outputs[i].is_output = true;
        agg->outputs[i].batch = sl_batch_new((size_t)plan->batch_size);
        if (!agg->outputs[i].batch) return sl_error_set(err, SL_ENOMEM, "pipeline %s: out of memory", plan->name);
        agg->free_outputs[agg->n_free++] = &agg->outputs[i];
    }
    sl_aggregator_conf conf = {
        .pipeline = plan->name,
        .data_dir = pipeline->context.data_dir,
        .delay_ms = plan->watermark_delay_ms,
        .allowed_lateness_ms = plan->allowed_lateness_ms,
        .idle_timeout_ms = plan->idle_timeout_ms,
        .max_bytes = plan->state_max_bytes,
    };
    sl_aggregator_env env = { agg, emit, end_round, ack, dead_letter, dead_group };
    int rc = sl_aggregator_new(plan->program, &conf, &env, &agg->aggregator, err);
    if (rc) sl_error_prefix(err, "pipeline %s: ", plan->name);
    return rc;
}

void sl_pipeline_aggregate_free(sl_pipeline *pipeline)
{
    sl_pipeline_aggregate *agg = pipeline->aggregate;
    if (!agg) return;
    sl_aggregator_free(agg->aggregator);
    sl_queue_free(agg->input);
    sl_queue_free(agg->returned);
    free(agg->arrived);
    for (size_t i = 0; i < OUTPUT_BATCHES; i++) sl_batch_free(agg->outputs[i].batch);
    sl_buffer_free(&agg->json);
    free(agg);
    pipeline->aggregate = NULL;
}
