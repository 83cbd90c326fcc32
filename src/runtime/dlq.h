/* dlq.h — a pipeline's dead-letter topic.
 *
 * A record that cannot be parsed, evaluated or stored is appended to the
 * pipeline's dead-letter topic (an embedded topic, `<pipeline>.dlq` by
 * default) whole: its key, its value (the original bytes when it has them,
 * else its value as JSON) and its own headers, followed by headers naming
 * the error, the stage and its original position, so nothing is silently
 * dropped and it can be replayed. A dead letter over the pipeline's
 * dlq_max_record_bytes is an error (SL_ETOOBIG) that fails the pipeline:
 * storing less than the record would lose it quietly. The topic is created
 * on the first dead letter. Thread-safe.
 *
 * Added headers: sluice.error, sluice.stage (source|parse|transform|sink),
 * sluice.pipeline, sluice.source.partition, sluice.source.offset, and
 * sluice.source.topic when the source reads topics (kafka, topic).
 */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stdint.h>

#include "core/batch.h"
#include "core/error.h"
#include "log/log.h"

/* The largest dlq_max_record_bytes a pipeline may set (well inside the
 * log's largest batch). */
#define SL_DLQ_MAX_RECORD_BYTES_LIMIT (128 * 1024 * 1024)

typedef struct sl_dlq sl_dlq;

/* A dead-letter writer for pipeline into topic_name (both copied) that
 * stores records of at most max_record_bytes (key + value + headers). */
int sl_dlq_new(sl_log *log, const char *pipeline, const char *topic_name, size_t max_record_bytes,
               sl_dlq **out, sl_error *err);
void sl_dlq_free(sl_dlq *dlq);

/* Appends record with its reason. Returns SL_OK or the append's error (the
 * caller must then fail the batch so the record is not acknowledged). */
int sl_dlq_send(sl_dlq *dlq, const sl_record *record, const char *stage, const char *reason, sl_error *err);

/* fsyncs dead letters written so far; called before source positions are
 * committed, so a committed record is either stored or in the DLQ. */
int sl_dlq_flush(sl_dlq *dlq, sl_error *err);

/* Dead letters written so far. */
uint64_t sl_dlq_count(sl_dlq *dlq);

const char *sl_dlq_topic_name(const sl_dlq *dlq);

#endif
