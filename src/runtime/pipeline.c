/* pipeline.c — threads, queues and acknowledgement of one pipeline
 * (see pipeline.h for the picture).
 *
 * Ownership: the pipeline owns a fixed pool of `inflight` slots, each with
 * one batch. A slot travels source → worker → sinks and returns to the free
 * queue when the last sink is done with it; nothing else allocates batches,
 * so memory is bounded by max_inflight × batch size.
 */
#include "runtime/pipeline.h"
#include "runtime/pipeline_internal.h"
#include "runtime/pipeline_aggregate.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/queue.h"
#include "runtime/ack.h"
#include "runtime/dlq.h"
#include "runtime/lookup.h"
#include "sql/lookup.h"
#include "sql/windows.h"

/* A transient failure (sl_error_is_transient) of a sink write or source
 * read is retried with exponential backoff from RETRY_BACKOFF_FIRST_MS up
 * to RETRY_BACKOFF_MAX_MS, for at most the plan's retry_limit_ms; then it
 * becomes permanent. A permanent failure ends the pipeline at once; a stop
 * request ends the retries sooner. */
#define RETRY_BACKOFF_FIRST_MS 100
#define RETRY_BACKOFF_MAX_MS 5000
/* How long an idle source waits before asking again. */
#define SOURCE_IDLE_WAIT_MS 5
/* How often the source's progress() is asked, at most. */
#define SOURCE_PROGRESS_MS 200
#define MAX_COMMITS_PER_ROUND 4096
/* A sink with write_many gets up to this many waiting batches at once. */
#define SINK_MAX_COALESCE 16
/* Partitions whose positions a pipeline keeps for the metrics, at most. */
#define MAX_POSITIONS 4096

/* Records the first fatal error and makes every thread wind down. */
void sl_pipeline_fail(sl_pipeline *pipeline, const sl_error *err)
{
    pthread_mutex_lock(&pipeline->error_mutex);
    if (pipeline->error.code == SL_OK) {
        pipeline->error = *err;
        if (pipeline->error.code == SL_OK) pipeline->error.code = SL_EIO;
        sl_error_log("pipeline", "%s: %s", pipeline->plan->name, err->message);
    }
    pthread_mutex_unlock(&pipeline->error_mutex);
    atomic_store(&pipeline->is_failing, true);
}

static bool should_stop(sl_pipeline *pipeline)
{
    return atomic_load(&pipeline->is_failing) || atomic_load(pipeline->context.stopping);
}

void sl_pipeline_dead_letter(sl_pipeline *pipeline, const sl_record *record, const char *stage, const char *reason)
{
    sl_error err;
    sl_error_clear(&err);
    if (sl_dlq_send(pipeline->dlq, record, stage, reason, &err) != SL_OK) {
        /* The record must not be acknowledged unless it is stored somewhere. */
        sl_pipeline_fail(pipeline, &err);
        return;
    }
    atomic_fetch_add(&pipeline->stats.records_dead, 1);
}

/* A record the source rejected before it was ever in a batch (too long,
 * say): it was read all the same, so it counts as input too, keeping
 * in = out + filtered + dlq. */
static void source_reject(void *context, const sl_record *record, const char *stage, const char *reason)
{
    sl_pipeline *pipeline = context;
    atomic_fetch_add(&pipeline->stats.records_in, 1);
    atomic_fetch_add(&pipeline->stats.bytes_in, record->raw.len);
    sl_pipeline_dead_letter(pipeline, record, stage, reason);
}

static void sink_reject(void *context, const sl_record *record, const char *stage, const char *reason)
{
    sink_runner *runner = context;
    atomic_fetch_add(&runner->n_rejected, 1);
    atomic_fetch_add(&runner->pipeline->stats.records_failed, 1);
    sl_pipeline_dead_letter(runner->pipeline, record, stage, reason);
}

/* ---- workers: parse, transform, prepare JSON text ---- */

int sl_pipeline_prepare_raw(sl_buffer *json, sl_batch *batch, sl_record *record)
{
    sl_buffer_clear(json);
    int rc = sl_json_write(json, &record->value);
    if (rc) return rc;
    char *copy = sl_arena_alloc(batch->arena, json->len ? json->len : 1);
    if (!copy) return SL_ENOMEM;
    memcpy(copy, json->data, json->len);
    record->raw = (sl_str){ copy, json->len };
    return SL_OK;
}

/* A statement with a lookup join on one record: 1 a row, 0 filtered (by
 * WHERE, or an inner join without a match), <0 an error. */
static int eval_joined(worker *self, const sl_record *record, sl_arena *arena, sl_value *out, sl_error *err)
{
    const sl_sql_program *program = self->pipeline->plan->program;
    sl_sql_lookup_info info;
    sl_sql_lookup_info_of(program, &info);
    sl_value keys[SL_SQL_LOOKUP_MAX_KEYS];
    int rc = sl_sql_lookup_keys(program, &record->value, arena, keys, err);
    if (rc) return rc;
    sl_value row;
    int found = sl_lookup_find(self->lookup, keys, arena, &row, err);
    if (found < 0) return found;
    if (!found && !info.is_left) return 0;
    return sl_sql_eval_joined(program, &record->value, found ? &row : NULL, arena, out, err);
}

bool sl_pipeline_parse_record(sl_pipeline *pipeline, sl_batch *batch, sl_record *record,
                              const sl_json_projection *projection)
{
    if (!pipeline->needs_parse || record->has_value) return true;
    /* With SQL, only what the statement reads is built (the rest is still
     * checked); sinks then see the SQL's rows, not the input. */
    sl_error err;
    sl_error_clear(&err);
    if (sl_json_parse_projected(batch->arena, record->raw.ptr, record->raw.len, projection, &record->value, &err)) {
        char reason[600];
        snprintf(reason, sizeof reason, "invalid JSON: %s", err.message);
        sl_pipeline_dead_letter(pipeline, record, "parse", reason);
        return false;
    }
    record->has_value = true;
    return true;
}

static void process_batch(worker *self, inflight *slot)
{
    if (self->pipeline->aggregate) {
        sl_pipeline_aggregate_prepare(self->pipeline, slot);
        return;
    }
    sl_batch *batch = slot->batch;
    uint64_t bytes_out = 0;
    sl_pipeline *pipeline = self->pipeline;
    const sl_sql_program *program = pipeline->plan->program;
    const sl_json_projection *projection = program ? sl_sql_input_projection(program) : NULL;
    int64_t limit = sl_sql_limit(program);
    size_t kept = 0;
    uint64_t n_filtered = 0;
    sl_error err;
    for (size_t i = 0; i < batch->n_records; i++) {
        sl_record *record = &batch->records[i];
        if (!sl_pipeline_parse_record(pipeline, batch, record, projection)) continue;
        if (program) {
            sl_value row;
            int rc = self->lookup ? eval_joined(self, record, batch->arena, &row, &err)
                                  : sl_sql_eval(program, &record->value, batch->arena, &row, &err);
            if (rc < 0 && err.code != SL_ESQL) {
                /* The table cannot be read: not this record's fault. */
                sl_error_prefix(&err, "lookup join: ");
                sl_pipeline_fail(pipeline, &err);
                return;
            }
            if (rc < 0) {
                atomic_fetch_add(&pipeline->stats.records_failed, 1);
                sl_pipeline_dead_letter(pipeline, record, "transform", err.message);
                continue;
            }
            if (rc == 0) {
                n_filtered++;
                continue;
            }
            if (limit >= 0 && atomic_fetch_add(&pipeline->n_limited, 1) >= (uint_fast64_t)limit) {
                n_filtered++;   /* past LIMIT: read and acknowledged, not passed on */
                continue;
            }
            record->value = row;
            record->raw = (sl_str){ NULL, 0 };
        }
        if (pipeline->needs_raw && !record->raw.ptr && record->has_value) {
            int rc = sl_pipeline_prepare_raw(&self->json, batch, record);
            if (rc) {
                sl_error_set(&err, rc, "cannot write record at partition %" PRId32 " offset %" PRId64 " as JSON",
                             record->partition, record->offset);
                sl_pipeline_fail(pipeline, &err);
                return;
            }
        }
        if (kept != i) batch->records[kept] = *record;
        bytes_out += record->raw.len;
        kept++;
    }
    batch->n_records = kept;
    slot->bytes_out = bytes_out;
    if (n_filtered) atomic_fetch_add(&pipeline->stats.records_filtered, n_filtered);
}

/* A batch every sink made durable (or that needed none). */
static void inflight_release(sl_pipeline *pipeline, inflight *slot)
{
    if (slot->is_output) {
        sl_pipeline_aggregate_output_done(pipeline, slot);
        return;
    }
    int64_t elapsed_us = sl_clock_monotonic_us() - slot->read_us;
    sl_histogram_observe_ns(&pipeline->batch_latency, elapsed_us > 0 ? (uint64_t)elapsed_us * 1000 : 0);
    atomic_fetch_sub(&pipeline->n_in_flight, 1);
    sl_ack_done(pipeline->acks, slot->ticket);
    sl_queue_push(pipeline->free_queue, slot);
}

/* A batch given back without being acknowledged (the pipeline fails). */
static void inflight_drop(sl_pipeline *pipeline, inflight *slot)
{
    if (slot->is_output) {
        sl_pipeline_aggregate_output_done(pipeline, slot);
        return;
    }
    atomic_fetch_sub(&pipeline->n_in_flight, 1);
    sl_queue_push(pipeline->free_queue, slot);
}

static void *worker_main(void *arg)
{
    worker *self = arg;
    sl_pipeline *pipeline = self->pipeline;
    void *item;
    while (sl_queue_pop(self->queue, &item, -1)) {
        inflight *slot = item;
        if (!atomic_load(&pipeline->is_failing)) process_batch(self, slot);
        if (atomic_load(&pipeline->is_failing)) {
            inflight_drop(pipeline, slot);   /* never acknowledged */
            continue;
        }
        if (pipeline->aggregate) {
            sl_pipeline_aggregate_push(pipeline, slot);   /* folded into windows there */
            continue;
        }
        if (slot->batch->n_records == 0) {
            inflight_release(pipeline, slot);   /* all filtered or dead-lettered */
            continue;
        }
        sl_pipeline_send_to_sinks(pipeline, slot);
    }
    return NULL;
}

void sl_pipeline_send_to_sinks(sl_pipeline *pipeline, inflight *slot)
{
    atomic_store(&slot->pending_sinks, (int)pipeline->n_sinks);
    for (size_t s = 0; s < pipeline->n_sinks; s++) sl_queue_push(pipeline->sinks[s].queue, slot);
}

/* An input batch of a grouped pipeline, folded: its memory goes back to
 * the pool, its acknowledgement waits for its windows (aggregator.h). */
void sl_pipeline_recycle_input(sl_pipeline *pipeline, inflight *slot)
{
    atomic_fetch_sub(&pipeline->n_in_flight, 1);
    sl_queue_push(pipeline->free_queue, slot);
}

/* ---- retrying transient failures ---- */

typedef struct retry_state {
    int64_t started_ms;
    int64_t backoff_ms;
    int n_attempts;
} retry_state;

static void retry_begin(retry_state *retry)
{
    *retry = (retry_state){ sl_clock_monotonic_ms(), RETRY_BACKOFF_FIRST_MS, 0 };
}

/* After a failed attempt (err filled by what failed, `what` names it):
 * true when the attempt should be made again, after the backoff has been
 * waited; false when err is final, with what was tried said in it. */
static bool retry_again(sl_pipeline *pipeline, retry_state *retry, const char *what, sl_error *err)
{
    retry->n_attempts++;
    if (atomic_load(&pipeline->is_failing)) return false;
    if (!sl_error_is_transient(err)) return false;
    if (atomic_load(pipeline->context.stopping)) {
        sl_error_prefix(err, "stopped while retrying a failed %s: ", what);
        return false;
    }
    int64_t limit = pipeline->plan->retry_limit_ms;
    if (sl_clock_monotonic_ms() - retry->started_ms >= limit) {
        sl_error_prefix(err, "gave up after %d attempts in %" PRId64 " s (retry_limit %" PRId64 " s of pipeline %s: "
                        "raise it to wait longer for an outage): ", retry->n_attempts,
                        (sl_clock_monotonic_ms() - retry->started_ms) / 1000, limit / 1000, pipeline->plan->name);
        sl_error_mark(err, SL_ERROR_PERMANENT);
        return false;
    }
    sl_warn("pipeline", "%s: %s: %s; transient, retrying in %" PRId64 " ms", pipeline->plan->name, what,
            err->message, retry->backoff_ms);
    for (int64_t waited = 0; waited < retry->backoff_ms && !atomic_load(pipeline->context.stopping); waited += 50)
        sl_sleep_ms(50);
    retry->backoff_ms = retry->backoff_ms * 2 > RETRY_BACKOFF_MAX_MS ? RETRY_BACKOFF_MAX_MS : retry->backoff_ms * 2;
    return true;
}

/* ---- sinks ---- */

/* Writes the slots' batches (several at once when the sink can), retrying
 * transient failures with backoff. */
static int sink_write_with_retry(sink_runner *runner, inflight *const *slots, size_t n_slots, sl_error *err)
{
    const sl_sink_ops *ops = runner->plan->ops;
    const sl_batch *batches[SINK_MAX_COALESCE];
    for (size_t i = 0; i < n_slots; i++) batches[i] = slots[i]->batch;
    char what[64];
    snprintf(what, sizeof what, "sink %s write", ops->name);
    retry_state retry;
    retry_begin(&retry);
    for (;;) {
        sl_error_clear(err);
        int rc = SL_OK;
        int64_t started_us = sl_clock_monotonic_us();
        if (ops->write_many) rc = ops->write_many(runner->state, batches, n_slots, err);
        else
            for (size_t i = 0; i < n_slots && rc == SL_OK; i++) rc = ops->write(runner->state, batches[i], err);
        if (rc == SL_OK) {
            /* One request: the whole write, durable on return. */
            int64_t elapsed_us = sl_clock_monotonic_us() - started_us;
            sl_histogram_observe_ns(&runner->request, elapsed_us > 0 ? (uint64_t)elapsed_us * 1000 : 0);
            return SL_OK;
        }
        if (err->code == SL_OK) sl_error_set(err, rc, "%s", sl_error_message(rc));
        if (!retry_again(runner->pipeline, &retry, what, err)) return rc;
    }
}

static void *sink_main(void *arg)
{
    sink_runner *runner = arg;
    sl_pipeline *pipeline = runner->pipeline;
    size_t max_slots = runner->plan->ops->write_many ? SINK_MAX_COALESCE : 1;
    void *item;
    while (sl_queue_pop(runner->queue, &item, -1)) {
        inflight *slots[SINK_MAX_COALESCE];
        size_t n_slots = 0;
        slots[n_slots++] = item;
        while (n_slots < max_slots && sl_queue_pop(runner->queue, &item, 0)) slots[n_slots++] = item;
        bool is_written = false;
        if (!atomic_load(&pipeline->is_failing)) {
            sl_error err;
            uint64_t rejected_before = atomic_load(&runner->n_rejected);
            int rc = sink_write_with_retry(runner, slots, n_slots, &err);
            if (rc) {
                sl_error_prefix(&err, "sink %s: ", runner->plan->ops->name);
                sl_pipeline_fail(pipeline, &err);
            } else if (runner->index == 0) {
                uint64_t written = 0, bytes = 0;
                for (size_t i = 0; i < n_slots; i++) {
                    written += slots[i]->batch->n_records;
                    bytes += slots[i]->bytes_out;
                }
                written -= atomic_load(&runner->n_rejected) - rejected_before;
                atomic_fetch_add(&pipeline->stats.records_out, written);
                atomic_fetch_add(&pipeline->stats.bytes_out, bytes);
            }
            is_written = rc == SL_OK;
        }
        for (size_t i = 0; i < n_slots; i++) {
            if (atomic_fetch_sub(&slots[i]->pending_sinks, 1) != 1) continue;
            if (is_written && !atomic_load(&pipeline->is_failing)) inflight_release(pipeline, slots[i]);
            else inflight_drop(pipeline, slots[i]);
        }
    }
    return NULL;
}

/* ---- source thread ---- */

/* Commits what every sink finished; persists when forced or due. */
static int commit_round(sl_pipeline *pipeline, bool is_forced, int64_t *last_persist_ms, sl_error *err)
{
    int32_t partitions[MAX_COMMITS_PER_ROUND];
    int64_t offsets[MAX_COMMITS_PER_ROUND];
    const sl_source_ops *ops = pipeline->plan->source_ops;
    size_t n = sl_ack_take(pipeline->acks, partitions, offsets, MAX_COMMITS_PER_ROUND);
    /* What these positions were held back for is final: say so in the
     * state file before they are committed. */
    if (n && pipeline->aggregate) {
        int rc = sl_pipeline_aggregate_checkpoint(pipeline, err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = ops->commit(pipeline->source_state, partitions[i], offsets[i], err);
        if (rc) return rc;
    }
    int64_t now = sl_clock_monotonic_ms();
    if (!is_forced && now - *last_persist_ms < pipeline->plan->commit_interval_ms) return SL_OK;
    *last_persist_ms = now;
    int rc = sl_dlq_flush(pipeline->dlq, err);
    if (rc == SL_OK && ops->persist) rc = ops->persist(pipeline->source_state, err);
    return rc;
}

static worker *worker_for(sl_pipeline *pipeline, const sl_batch *batch, size_t *round_robin)
{
    size_t index = batch->partition >= 0 ? (size_t)batch->partition % pipeline->n_workers
                                         : (*round_robin)++ % pipeline->n_workers;
    return &pipeline->workers[index];
}

static void drain_and_join(sl_pipeline *pipeline)
{
    for (size_t w = 0; w < pipeline->n_workers; w++) sl_queue_close(pipeline->workers[w].queue);
    for (size_t w = 0; w < pipeline->n_workers; w++)
        if (pipeline->workers[w].has_thread) pthread_join(pipeline->workers[w].thread, NULL);
    if (pipeline->aggregate) sl_pipeline_aggregate_join(pipeline);
    for (size_t s = 0; s < pipeline->n_sinks; s++) sl_queue_close(pipeline->sinks[s].queue);
    for (size_t s = 0; s < pipeline->n_sinks; s++)
        if (pipeline->sinks[s].has_thread) pthread_join(pipeline->sinks[s].thread, NULL);
}

/* An empty batch with a position: the source moved past input that became
 * no record (lines dead-lettered at read, blank lines). Acknowledged at
 * once, behind the batches before it, so a rerun does not read that input
 * again. */
static int note_position(sl_pipeline *pipeline, const sl_batch *batch, sl_error *err)
{
    sl_ack_ticket ticket;
    int rc = sl_ack_begin(pipeline->acks, batch->partition, batch->end_offset, &ticket);
    if (rc) return sl_error_set(err, rc, "cannot track the position of partition %" PRId32, batch->partition);
    sl_ack_done(pipeline->acks, ticket);
    return SL_OK;
}

/* Copies the source's progress into the stats when due (or when forced:
 * at the start and the end), for the run's progress line. */
/* Copies the source's partition positions for the metrics (source thread). */
static void sample_positions(sl_pipeline *pipeline)
{
    const sl_source_ops *ops = pipeline->plan->source_ops;
    sl_source_position found[64];
    size_t n = ops->positions(pipeline->source_state, found, 64);
    sl_source_position *all = found;
    if (n > 64) {
        if (n > MAX_POSITIONS) n = MAX_POSITIONS;
        all = malloc(n * sizeof *all);
        if (!all) return;   /* the metrics keep the last positions */
        n = ops->positions(pipeline->source_state, all, n);
        if (n > MAX_POSITIONS) n = MAX_POSITIONS;
    }
    pthread_mutex_lock(&pipeline->positions_mutex);
    if (n > pipeline->positions_capacity) {
        sl_partition_position *grown = realloc(pipeline->positions, n * sizeof *grown);
        if (grown) {
            pipeline->positions = grown;
            pipeline->positions_capacity = n;
        }
    }
    if (n > pipeline->positions_capacity) n = pipeline->positions_capacity;
    for (size_t i = 0; i < n; i++) {
        sl_partition_position *to = &pipeline->positions[i];
        snprintf(to->topic, sizeof to->topic, "%s", all[i].topic ? all[i].topic : "");
        to->partition = all[i].partition;
        to->position = all[i].position;
        to->committed = all[i].committed;
        to->end_offset = all[i].end_offset;
    }
    pipeline->n_positions = n;
    pthread_mutex_unlock(&pipeline->positions_mutex);
    if (all != found) free(all);
}

static void sample_progress(sl_pipeline *pipeline, bool is_forced, int64_t *last_ms)
{
    const sl_source_ops *ops = pipeline->plan->source_ops;
    if (!ops->progress && !ops->positions) return;
    int64_t now = sl_clock_monotonic_ms();
    if (!is_forced && now - *last_ms < SOURCE_PROGRESS_MS) return;
    *last_ms = now;
    if (ops->positions) sample_positions(pipeline);
    if (!ops->progress) return;
    sl_source_progress progress = { .done = -1, .total = -1, .lag = -1 };
    ops->progress(pipeline->source_state, &progress);
    atomic_store(&pipeline->stats.source_done, progress.done);
    atomic_store(&pipeline->stats.source_total, progress.total);
    atomic_store(&pipeline->stats.source_lag, progress.lag);
}

static void *source_main(void *arg)
{
    sl_pipeline *pipeline = arg;
    const sl_source_ops *ops = pipeline->plan->source_ops;
    int64_t last_persist_ms = sl_clock_monotonic_ms();
    size_t round_robin = 0;
    uint64_t sequence = 0;
    bool has_reached_end = false;  /* the source said SL_EOF by itself, not because of a stop */
    retry_state read_retry = { 0 };
    int64_t last_progress_ms = sl_clock_monotonic_ms();  /* sampled when the source was opened */
    sl_error err;
    sl_error_clear(&err);
    while (!should_stop(pipeline)) {
        if (commit_round(pipeline, false, &last_persist_ms, &err)) {
            sl_pipeline_fail(pipeline, &err);
            break;
        }
        /* Each round, reading or waiting for a free batch (backpressure). */
        sample_progress(pipeline, false, &last_progress_ms);
        void *item;
        if (!sl_queue_pop(pipeline->free_queue, &item, 100)) continue;
        inflight *slot = item;
        sl_batch_reset(slot->batch);
        int rc = ops->read(pipeline->source_state, slot->batch, &err);
        /* Sampled after the read: an end said while a stop came in counts
         * as the stop's (the run then says incomplete, never the reverse). */
        if (rc == SL_EOF && !atomic_load(pipeline->context.stopping)) has_reached_end = true;
        if (rc != SL_OK && rc != SL_EOF && rc != SL_EAGAIN && err.error_class == SL_ERROR_TRANSIENT) {
            /* Only what the source itself calls transient is retried: a
             * read that failed half-way may not be repeatable otherwise. */
            sl_queue_push(pipeline->free_queue, slot);
            if (!read_retry.n_attempts) retry_begin(&read_retry);
            char what[64];
            snprintf(what, sizeof what, "source %s read", ops->name);
            if (retry_again(pipeline, &read_retry, what, &err)) continue;
            sl_error_prefix(&err, "source %s: ", ops->name);
            sl_pipeline_fail(pipeline, &err);
            break;
        }
        if (rc != SL_EAGAIN) read_retry.n_attempts = 0;
        if ((rc == SL_OK || rc == SL_EOF || rc == SL_EAGAIN) && slot->batch->n_records == 0 &&
            slot->batch->end_offset >= 0 && note_position(pipeline, slot->batch, &err)) {
            sl_queue_push(pipeline->free_queue, slot);
            sl_pipeline_fail(pipeline, &err);
            break;
        }
        if (rc == SL_EAGAIN || (rc == SL_OK && slot->batch->n_records == 0)) {
            sl_queue_push(pipeline->free_queue, slot);
            sl_sleep_ms(SOURCE_IDLE_WAIT_MS);
            continue;
        }
        if (rc == SL_EOF && slot->batch->n_records == 0) {
            sl_queue_push(pipeline->free_queue, slot);
            break;
        }
        if (rc != SL_OK && rc != SL_EOF) {
            sl_queue_push(pipeline->free_queue, slot);
            sl_error_prefix(&err, "source %s: ", ops->name);
            sl_pipeline_fail(pipeline, &err);
            break;
        }
        sl_batch *batch = slot->batch;
        slot->read_us = sl_clock_monotonic_us();
        atomic_fetch_add(&pipeline->n_in_flight, 1);
        batch->sequence = sequence++;
        atomic_fetch_add(&pipeline->stats.records_in, batch->n_records);
        atomic_fetch_add(&pipeline->stats.batches, 1);
        uint64_t bytes = 0;
        for (size_t i = 0; i < batch->n_records; i++) bytes += batch->records[i].raw.len;
        atomic_fetch_add(&pipeline->stats.bytes_in, bytes);
        int ack_rc = sl_ack_begin(pipeline->acks, batch->partition, batch->end_offset, &slot->ticket);
        if (ack_rc) {
            sl_error_set(&err, ack_rc, "cannot track batch of partition %" PRId32, batch->partition);
            inflight_drop(pipeline, slot);
            sl_pipeline_fail(pipeline, &err);
            break;
        }
        sl_queue_push(worker_for(pipeline, batch, &round_robin)->queue, slot);
        if (rc == SL_EOF) break;
    }
    atomic_store(&pipeline->has_reached_end, has_reached_end);
    drain_and_join(pipeline);
    if (!atomic_load(&pipeline->is_failing) && commit_round(pipeline, true, &last_persist_ms, &err))
        sl_pipeline_fail(pipeline, &err);
    sample_progress(pipeline, true, &last_progress_ms);
    pipeline->stats.finished_ms = sl_clock_monotonic_ms();
    bool is_bounded = !pipeline->context.follow && ops->ends_by_itself && ops->ends_by_itself(pipeline->source_state);
    atomic_store(&pipeline->stats.is_short, !has_reached_end && is_bounded);
    atomic_store(&pipeline->stats.state,
                 atomic_load(&pipeline->is_failing) ? SL_PIPELINE_FAILED : SL_PIPELINE_FINISHED);
    if (pipeline->context.on_finished) pipeline->context.on_finished(pipeline->context.finished_context, pipeline);
    return NULL;
}

/* ---- life cycle ---- */

int sl_pipeline_new(const sl_pipeline_plan *plan, const sl_pipeline_context *context,
                    sl_pipeline **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    sl_pipeline *pipeline = calloc(1, sizeof *pipeline);
    if (!pipeline) goto fail;
    pipeline->plan = plan;
    pipeline->context = *context;
    pthread_mutex_init(&pipeline->error_mutex, NULL);
    pthread_mutex_init(&pipeline->positions_mutex, NULL);
    sl_histogram_init(&pipeline->batch_latency, &SL_HISTOGRAM_LATENCY);
    atomic_init(&pipeline->n_in_flight, 0);
    atomic_init(&pipeline->is_failing, false);
    atomic_init(&pipeline->stats.state, SL_PIPELINE_CREATED);
    atomic_init(&pipeline->stats.is_short, false);
    atomic_init(&pipeline->stats.source_done, -1);
    atomic_init(&pipeline->stats.source_total, -1);
    atomic_init(&pipeline->stats.source_lag, -1);

    size_t n_columns = plan->program ? sl_sql_n_columns(plan->program) : 0;
    if (n_columns) {
        pipeline->column_names = calloc(n_columns, sizeof *pipeline->column_names);
        if (!pipeline->column_names) goto fail;
        for (size_t i = 0; i < n_columns; i++)
            pipeline->column_names[i] = sl_sql_column_name(plan->program, i);
    }
    pipeline->env = (sl_connector_env){
        .pipeline = plan->name,
        .data_dir = context->data_dir,
        .log = context->log,
        .reject = { source_reject, pipeline, (size_t)plan->dlq_max_record_bytes },
        .stopping = context->stopping,
        .follow = context->follow,
        .topic_writers_done = context->topic_writers_done,
        .topic_context = context->topic_context,
        .columns = pipeline->column_names,
        .n_columns = n_columns,
    };
    rc = sl_dlq_new(context->log, plan->name, plan->dlq_topic, (size_t)plan->dlq_max_record_bytes,
                    &pipeline->dlq, err);
    if (rc) goto fail;
    rc = SL_ENOMEM;
    pipeline->n_inflights = (size_t)plan->max_inflight;
    pipeline->acks = sl_ack_new(pipeline->n_inflights);
    pipeline->free_queue = sl_queue_new(pipeline->n_inflights);
    pipeline->inflights = calloc(pipeline->n_inflights, sizeof *pipeline->inflights);
    if (!pipeline->acks || !pipeline->free_queue || !pipeline->inflights) goto fail;
    for (size_t i = 0; i < pipeline->n_inflights; i++) {
        pipeline->inflights[i].batch = sl_batch_new((size_t)plan->batch_size);
        if (!pipeline->inflights[i].batch) goto fail;
        sl_queue_push(pipeline->free_queue, &pipeline->inflights[i]);
    }
    pipeline->n_workers = (size_t)plan->workers;
    pipeline->workers = calloc(pipeline->n_workers, sizeof *pipeline->workers);
    if (!pipeline->workers) goto fail;
    for (size_t w = 0; w < pipeline->n_workers; w++) {
        pipeline->workers[w].pipeline = pipeline;
        pipeline->workers[w].queue = sl_queue_new(pipeline->n_inflights);
        if (!pipeline->workers[w].queue) goto fail;
    }
    pipeline->n_sinks = plan->n_sinks;
    pipeline->sinks = calloc(pipeline->n_sinks, sizeof *pipeline->sinks);
    if (!pipeline->sinks) goto fail;
    for (size_t s = 0; s < pipeline->n_sinks; s++) {
        sink_runner *runner = &pipeline->sinks[s];
        runner->pipeline = pipeline;
        runner->plan = &plan->sinks[s];
        runner->index = s;
        runner->env = pipeline->env;
        runner->env.reject = (sl_reject_handler){ sink_reject, runner, (size_t)plan->dlq_max_record_bytes };
        atomic_init(&runner->n_rejected, 0);
        sl_histogram_init(&runner->request, &SL_HISTOGRAM_LATENCY);
        size_t n_same = 1;
        for (size_t before = 0; before < s; before++)
            n_same += strcmp(plan->sinks[before].ops->name, runner->plan->ops->name) == 0;
        if (n_same == 1) snprintf(runner->label, sizeof runner->label, "%s", runner->plan->ops->name);
        else snprintf(runner->label, sizeof runner->label, "%s_%zu", runner->plan->ops->name, n_same);
        runner->queue = sl_queue_new(pipeline->n_inflights);
        if (!runner->queue) goto fail;
        if (runner->plan->ops->accepts_raw) pipeline->needs_raw = true;
    }
    /* Raw input is always parsed, even when a pass-through pipeline could
     * copy it: bad input must reach the dead-letter topic, not the sink. */
    pipeline->needs_parse = plan->source_ops->produces_raw;
    if (sl_sql_is_grouped(plan->program)) {
        rc = sl_pipeline_aggregate_new(pipeline, err);
        if (rc) goto fail;
    }
    *out = pipeline;
    return SL_OK;
fail:
    sl_pipeline_free(pipeline);
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "pipeline %s: out of memory", plan->name);
    return rc;
}

void sl_pipeline_free(sl_pipeline *pipeline)
{
    if (!pipeline) return;
    sl_pipeline_aggregate_free(pipeline);
    for (size_t s = 0; s < pipeline->n_sinks; s++) {
        sink_runner *runner = &pipeline->sinks[s];
        if (runner->state) runner->plan->ops->close(runner->state);
        sl_queue_free(runner->queue);
    }
    free(pipeline->sinks);
    if (pipeline->source_state) pipeline->plan->source_ops->close(pipeline->source_state);
    for (size_t w = 0; w < pipeline->n_workers; w++) {
        sl_queue_free(pipeline->workers[w].queue);
        sl_buffer_free(&pipeline->workers[w].json);
        sl_lookup_close(pipeline->workers[w].lookup);
    }
    free(pipeline->workers);
    for (size_t i = 0; i < pipeline->n_inflights; i++) sl_batch_free(pipeline->inflights[i].batch);
    free(pipeline->inflights);
    sl_queue_free(pipeline->free_queue);
    sl_ack_free(pipeline->acks);
    sl_dlq_free(pipeline->dlq);
    free(pipeline->column_names);
    free(pipeline->positions);
    pthread_mutex_destroy(&pipeline->error_mutex);
    pthread_mutex_destroy(&pipeline->positions_mutex);
    free(pipeline);
}

int sl_pipeline_open_sinks(sl_pipeline *pipeline, sl_error *err)
{
    for (size_t s = 0; s < pipeline->n_sinks; s++) {
        sink_runner *runner = &pipeline->sinks[s];
        int rc = runner->plan->ops->open(runner->plan->conf, &runner->env, &runner->state, err);
        if (rc) {
            sl_error_prefix(err, "pipeline %s: sink %s: ", pipeline->plan->name, runner->plan->ops->name);
            return rc;
        }
    }
    return SL_OK;
}

int sl_pipeline_open_source(sl_pipeline *pipeline, sl_error *err)
{
    const sl_source_ops *ops = pipeline->plan->source_ops;
    for (size_t w = 0; pipeline->plan->lookup_path && w < pipeline->n_workers; w++) {
        int rc = sl_lookup_open(pipeline->plan, &pipeline->workers[w].lookup, err);
        if (rc) {
            sl_error_prefix(err, "pipeline %s: ", pipeline->plan->name);
            return rc;
        }
    }
    int rc = ops->open(pipeline->plan->source_conf, &pipeline->env, &pipeline->source_state, err);
    if (rc) {
        sl_error_prefix(err, "pipeline %s: source %s: ", pipeline->plan->name, ops->name);
        return rc;
    }
    int64_t progress_ms = 0;
    sample_progress(pipeline, true, &progress_ms);  /* known before the first read */
    return SL_OK;
}

int sl_pipeline_start(sl_pipeline *pipeline, sl_error *err)
{
    pipeline->stats.started_ms = sl_clock_monotonic_ms();
    atomic_store(&pipeline->stats.state, SL_PIPELINE_RUNNING);
    for (size_t s = 0; s < pipeline->n_sinks; s++) {
        if (pthread_create(&pipeline->sinks[s].thread, NULL, sink_main, &pipeline->sinks[s]))
            goto fail;
        pipeline->sinks[s].has_thread = true;
    }
    if (pipeline->aggregate && sl_pipeline_aggregate_start(pipeline)) goto fail;
    for (size_t w = 0; w < pipeline->n_workers; w++) {
        if (pthread_create(&pipeline->workers[w].thread, NULL, worker_main, &pipeline->workers[w]))
            goto fail;
        pipeline->workers[w].has_thread = true;
    }
    if (pthread_create(&pipeline->source_thread, NULL, source_main, pipeline)) goto fail;
    pipeline->has_source_thread = true;
    return SL_OK;
fail:
    drain_and_join(pipeline);
    return sl_error_set(err, SL_ENOMEM, "pipeline %s: cannot start threads", pipeline->plan->name);
}

int sl_pipeline_join(sl_pipeline *pipeline, sl_error *err)
{
    if (pipeline->has_source_thread) {
        pthread_join(pipeline->source_thread, NULL);
        pipeline->has_source_thread = false;
    }
    pthread_mutex_lock(&pipeline->error_mutex);
    int rc = pipeline->error.code;
    if (rc && err) *err = pipeline->error;
    pthread_mutex_unlock(&pipeline->error_mutex);
    return rc;
}

const char *sl_pipeline_name(const sl_pipeline *pipeline)
{
    return pipeline->plan->name;
}

const sl_pipeline_plan *sl_pipeline_plan_of(const sl_pipeline *pipeline)
{
    return pipeline->plan;
}

sl_pipeline_stats *sl_pipeline_stats_of(sl_pipeline *pipeline)
{
    return &pipeline->stats;
}

int sl_pipeline_read_metrics(sl_pipeline *pipeline, sl_pipeline_metrics *out)
{
    sl_pipeline_metrics_init(out);
    sl_pipeline_stats *stats = &pipeline->stats;
    out->records_in = atomic_load(&stats->records_in);
    out->records_out = atomic_load(&stats->records_out);
    out->records_filtered = atomic_load(&stats->records_filtered);
    out->records_dead = atomic_load(&stats->records_dead);
    out->records_failed = atomic_load(&stats->records_failed);
    out->bytes_in = atomic_load(&stats->bytes_in);
    out->bytes_out = atomic_load(&stats->bytes_out);
    out->batches = atomic_load(&stats->batches);
    out->lag = atomic_load(&stats->source_lag);
    int64_t depth = atomic_load(&pipeline->n_in_flight);
    out->queue_depth = depth > 0 ? depth : 0;
    sl_histogram_read(&pipeline->batch_latency, &out->batch);
    if (pipeline->n_sinks) {
        out->sinks = calloc(pipeline->n_sinks, sizeof *out->sinks);
        if (!out->sinks) return SL_ENOMEM;
        out->n_sinks = pipeline->n_sinks;
        for (size_t s = 0; s < pipeline->n_sinks; s++) {
            const sink_runner *runner = &pipeline->sinks[s];
            memcpy(out->sinks[s].name, runner->label, sizeof out->sinks[s].name);
            out->sinks[s].records_rejected = atomic_load(&runner->n_rejected);
            sl_histogram_read(&runner->request, &out->sinks[s].request);
        }
    }
    int rc = SL_OK;
    pthread_mutex_lock(&pipeline->positions_mutex);
    if (pipeline->n_positions) {
        out->partitions = malloc(pipeline->n_positions * sizeof *out->partitions);
        if (out->partitions) {
            memcpy(out->partitions, pipeline->positions, pipeline->n_positions * sizeof *out->partitions);
            out->n_partitions = pipeline->n_positions;
        } else {
            rc = SL_ENOMEM;
        }
    }
    pthread_mutex_unlock(&pipeline->positions_mutex);
    if (rc) sl_pipeline_metrics_clear(out);
    return rc;
}
