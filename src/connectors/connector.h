/* connector.h — what a source or sink is to the runtime.
 *
 * Each connector lives in its own folder under src/connectors/ (NAME/NAME.h
 * declares its const ops tables; helpers the connector alone uses sit
 * beside it) and registry.c lists them all. Helpers shared by several
 * connectors are in src/connectors/common/. A connector declares its settings
 * as an sl_option table; the runtime applies the config block to a zeroed
 * conf struct of conf_size bytes and hands it to open(). The same table,
 * with the ops' one-line description, is the connector's documentation
 * (`sluice connectors NAME`, docs/connectors.md).
 *
 * A connector may also check its settings before anything runs (`sluice
 * validate` and `sluice run` both call check()): what can be told from the
 * settings alone, or from the pipeline SQL's output columns, is reported
 * there, at the setting's file:line:column, rather than when the run opens
 * the connector.
 *
 * Sources fill batches: every batch holds records of one partition, in
 * order, and sets batch->partition and batch->end_offset (the position to
 * commit once every sink made the batch durable). The runtime calls
 * commit() with positions whose batches are done, in order per partition.
 *
 * Sinks write a batch and return only when it is durable. A record the sink
 * rejects (its own validation or the server's) is passed to env->reject and
 * does not fail the batch; a failure of the whole write is returned, with
 * its class set in err (core/error.h): a transient one (disk full, server
 * gone, database locked) is retried with backoff for the pipeline's
 * retry_limit, a permanent one (table mismatch, permission denied, closed
 * pipe) ends the pipeline at once. Sources likewise: a read error the
 * source marks transient is retried (so a source marks one transient only
 * when asking again loses nothing: it consumed no record of the failed
 * read), any other ends the pipeline.
 *
 * Threads: read(), commit() and progress() of one source run on the
 * source's thread; write() of one sink runs on that sink's thread;
 * open/close on the pipeline's thread. Different pipelines run
 * concurrently.
 */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diagnostics.h"
#include "config/options.h"
#include "core/batch.h"
#include "core/error.h"
#include "log/log.h"

/* Called by a connector for a record it cannot handle; the runtime sends it
 * to the dead-letter topic, whole (key, value, headers), with stage and
 * reason in added headers. A record over max_record_bytes (key + value +
 * headers) cannot be stored whole there and fails the pipeline, so a source
 * holding an oversized record for its dead letter needs at most that much. */
typedef struct sl_reject_handler {
    void (*reject)(void *context, const sl_record *record, const char *stage, const char *reason);
    void *context;
    size_t max_record_bytes;
} sl_reject_handler;

/* What the runtime lends a connector for its lifetime (all borrowed). */
typedef struct sl_connector_env {
    const char *pipeline;          /* pipeline name */
    const char *data_dir;          /* the process's data dir */
    sl_log *log;                   /* the embedded log (topics, groups) */
    sl_reject_handler reject;      /* dead letters */
    const atomic_bool *stopping;   /* set on SIGINT/SIGTERM or end of run */
    bool follow;                   /* `--follow`: topic sources never end */
    /* For topic sources: true once every pipeline of this run that writes
     * `topic` has finished, so catching up with its end means done. */
    bool (*topic_writers_done)(void *context, const char *topic);
    void *topic_context;
    /* Output columns of the pipeline's SQL (NULL/0 when none or SELECT *). */
    const char *const *columns;
    size_t n_columns;
} sl_connector_env;

/* What check() is given (all borrowed). */
typedef struct sl_connector_check {
    const char *pipeline;          /* pipeline name */
    const char *where;             /* the block in messages, e.g. "pipelines.p.sink.sqlite" */
    const sl_node *block;          /* `{ <connector>: ... }`, for a position when settings is NULL */
    const sl_node *settings;       /* the connector's settings mapping; NULL when empty */
    /* Output columns of the pipeline's SQL (NULL/0 when none or SELECT *). */
    const char *const *columns;
    size_t n_columns;
    sl_diagnostics *diags;         /* where errors and warnings go */
} sl_connector_check;

/* The node of setting in the checked block (for a message's position): the
 * setting's value, else the settings mapping, else the whole block. */
static inline const sl_node *sl_connector_check_node(const sl_connector_check *check, const char *setting)
{
    const sl_node *node = setting && check->settings ? sl_node_get(check->settings, setting) : NULL;
    if (node) return node;
    return check->settings ? check->settings : check->block;
}

/* How far a source has got, for the run's progress line: what progress()
 * does not know stays -1 (the runtime sets every field to -1 first). */
typedef struct sl_source_progress {
    int64_t done;    /* how much of total has been read (bytes of files, records of a generator) */
    int64_t total;   /* the whole input in done's unit, when known ahead: a percent and an ETA */
    int64_t lag;     /* records of its topics past what it read, summed over partitions */
} sl_source_progress;

/* Where a source is in one partition it reads (topic and kafka sources),
 * for the metrics: -1 where unknown. topic is the source's own string,
 * valid during the call. */
typedef struct sl_source_position {
    const char *topic;
    int32_t partition;
    int64_t position;     /* the next offset to read */
    int64_t committed;    /* the next offset committed; -1 none yet */
    int64_t end_offset;   /* the partition's end (Kafka: the high watermark last seen) */
} sl_source_position;

typedef struct sl_source_ops {
    const char *name;
    const char *description;       /* one line for `sluice connectors` */
    const sl_option *options;
    size_t conf_size;
    int (*open)(const void *conf, const sl_connector_env *env, void **state, sl_error *err);
    /* Fills batch (reset by the caller). SL_OK with records; SL_EAGAIN when
     * nothing is there now (the runtime waits a little and asks again);
     * SL_EOF when a bounded source is exhausted; other codes are failures.
     * A batch left without records but with partition and end_offset set
     * (>= 0) says the source moved past input that became no record; the
     * runtime commits that position behind the batches before it. */
    int (*read)(void *state, sl_batch *batch, sl_error *err);
    /* Every record of partition below next_offset is durable in every sink.
     * May only remember it: the runtime calls persist() after a round of
     * commits (NULL when commit() persists by itself or nothing needs it). */
    int (*commit)(void *state, int32_t partition, int64_t next_offset, sl_error *err);
    int (*persist)(void *state, sl_error *err);
    void (*close)(void *state);
    /* Whether read() returns SL_EOF by itself in this run once everything
     * is read (a file without tail, a generator with a count, a topic
     * without --follow). A run stopped before such a source reached its end
     * is incomplete. NULL: the source never ends by itself; being stopped
     * is its normal end. */
    bool (*ends_by_itself)(void *state);
    /* Optional: fills progress (above). Called after open() and between
     * reads, a few times a second at most, so it must be cheap: what the
     * source knows already, or a local lookup (no request to a server). */
    void (*progress)(void *state, sl_source_progress *progress);
    /* Optional: fills up to max positions (above) of the partitions read
     * here and returns how many there are (which may be more than max).
     * Called with progress(), so as cheap: no request to a server. */
    size_t (*positions)(void *state, sl_source_position *out, size_t max);
    /* Optional: checks conf (applied from check->settings) before the run
     * and reports to check->diags: errors for what would fail the run,
     * warnings for what may still be fixed before it starts (an input file
     * not created yet). */
    void (*check)(const void *conf, const sl_connector_check *check);
    /* Whether records need JSON parsing of raw before transforms/sinks use value. */
    bool produces_raw;
} sl_source_ops;

typedef struct sl_sink_ops {
    const char *name;
    const char *description;       /* one line for `sluice connectors` */
    const sl_option *options;
    size_t conf_size;
    int (*open)(const void *conf, const sl_connector_env *env, void **state, sl_error *err);
    /* Writes every record of batch durably (records have value set unless
     * the sink declares accepts_raw and the pipeline has no transform; raw
     * is set too when accepts_raw). The batch is read-only: other sinks may
     * read it at the same time. */
    int (*write)(void *state, const sl_batch *batch, sl_error *err);
    /* Optional: writes several batches at once (one transaction), durable
     * on return. The runtime hands a sink all the batches waiting for it,
     * up to a bound, when it has this op. */
    int (*write_many)(void *state, const sl_batch *const *batches, size_t n_batches, sl_error *err);
    void (*close)(void *state);
    /* Optional: as a source's check(); check->columns are the pipeline
     * SQL's output columns (e.g. a key column the SQL does not produce). */
    void (*check)(const void *conf, const sl_connector_check *check);
    /* Writes into out a command a user can run to look at what the sink
     * stored (e.g. a sqlite3 query); NULL op when there is none. */
    void (*hint)(const void *conf, char *out, size_t size);
    /* Topic names this sink writes (for run-until-idle); NULL when none. */
    const char *(*topic_name)(const void *conf);
    bool accepts_raw;
    /* The sink writes the process's standard output (stdio): `sluice run`
     * then keeps the progress line off when stdout is stderr's terminal. */
    bool writes_stdout;
} sl_sink_ops;

/* Lookup in the registry of built-in connectors; NULL when unknown. */
const sl_source_ops *sl_connector_source(const char *name);
const sl_sink_ops *sl_connector_sink(const char *name);

/* "generator, topic, file, stdio" — for error messages. */
const char *sl_connector_source_names(void);
const char *sl_connector_sink_names(void);

/* The registry in order, for listings: the i-th source or sink, NULL past
 * the last. */
const sl_source_ops *sl_connector_source_at(size_t i);
const sl_sink_ops *sl_connector_sink_at(size_t i);

#endif
