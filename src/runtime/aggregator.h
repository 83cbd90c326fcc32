/* aggregator.h — the stage of a pipeline whose SQL is grouped: it folds
 * prepared rows into the statement's windows (sql/windows.h), keeps each
 * partition's watermark, fires windows into output rows, and holds back
 * the input's acknowledgement until every window a batch fed is final and
 * its rows are durable in the sinks.
 *
 * Crash safety is by replay: positions are committed only up to the oldest
 * batch that still feeds an open window, so a restart reads those records
 * again and rebuilds the same windows. What was already final is not fired
 * twice: the state file (DATA_DIR/state/<pipeline>.json, replaced
 * atomically before every commit that follows a new final watermark) keeps
 * that watermark and, per partition, the last offset read by then; a
 * replayed record (at or before that offset) of a final window is skipped,
 * a new one is late.
 *
 * One thread (the pipeline's aggregator thread) calls everything but
 * sl_aggregator_checkpoint, which the source thread calls.
 */
#ifndef SL_AGGREGATOR_H
#define SL_AGGREGATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/error.h"
#include "runtime/ack.h"
#include "sql/sql.h"

typedef struct sl_aggregator sl_aggregator;

typedef struct sl_aggregator_env {
    void *context;
    /* An output row: the pipeline adds it to its current output batch. */
    int (*emit)(void *context, const sl_value *row, sl_error *err);
    /* The rows of one firing are all emitted: the pipeline sends what it
     * holds and calls sl_aggregator_round_done(round) once the sinks have
     * made every one of them durable (at once when there were none). */
    int (*end_round)(void *context, void *round, sl_error *err);
    /* An input batch whose windows are all final and durable. */
    void (*ack)(void *context, sl_ack_ticket ticket);
    int (*dead_letter)(void *context, const sl_record *record, const char *stage, const char *reason);
    int (*dead_group)(void *context, const sl_value *group_row, const char *reason);
} sl_aggregator_env;

typedef struct sl_aggregator_conf {
    const char *pipeline;
    const char *data_dir;        /* NULL: no state file (tests) */
    int64_t delay_ms;
    int64_t allowed_lateness_ms;
    int64_t idle_timeout_ms;
    int64_t max_bytes;
} sl_aggregator_conf;

/* Reads the state file when there is one. */
int sl_aggregator_new(const sl_sql_program *program, const sl_aggregator_conf *conf, const sl_aggregator_env *env,
                      sl_aggregator **out, sl_error *err);
void sl_aggregator_free(sl_aggregator *aggregator);

/* Folds batch: prepared[i] is record i's prepared row (NULL type: the
 * worker dropped or dead-lettered it). The batch may be reused once this
 * returns; its ticket is acknowledged through env->ack later. Errors end
 * the pipeline (state past max_bytes, out of memory, a dead letter that
 * could not be stored). */
int sl_aggregator_fold(sl_aggregator *aggregator, const sl_batch *batch, const sl_value *prepared,
                       sl_ack_ticket ticket, sl_error *err);

/* Recomputes the watermark (now_ms: monotonic, for idle partitions) and
 * fires what it closes; is_end: the input ended, everything fires. */
int sl_aggregator_advance(sl_aggregator *aggregator, int64_t now_ms, bool is_end, sl_error *err);

/* A round's rows are durable (any thread may have noticed; call it on the
 * aggregator's). */
void sl_aggregator_round_done(sl_aggregator *aggregator, void *round);

/* Rounds sent and not yet done. */
size_t sl_aggregator_rounds_pending(const sl_aggregator *aggregator);

/* Source thread, before committing positions taken from the tracker:
 * writes the state file if the final watermark moved. */
int sl_aggregator_checkpoint(sl_aggregator *aggregator, sl_error *err);

/* For the metrics: the current watermark (INT64_MIN before any record),
 * state bytes, open windows. Any thread. */
int64_t sl_aggregator_watermark(const sl_aggregator *aggregator);
uint64_t sl_aggregator_state_bytes(const sl_aggregator *aggregator);

#endif
