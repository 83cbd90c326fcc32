/* dlq.c — dead-letter topic writer (see dlq.h). One record per append:
 * dead letters are rare. The pipeline flushes the topic before it commits
 * source positions, so a dead letter is durable before its input is
 * acknowledged, without an fsync per bad record. */
#include "runtime/dlq.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/json.h"

struct sl_dlq {
    sl_log *log;
    char *pipeline;
    char *topic_name;
    sl_topic *topic;            /* opened on first use */
    size_t max_record_bytes;
    pthread_mutex_t mutex;
    atomic_uint_fast64_t count;
};

int sl_dlq_new(sl_log *log, const char *pipeline, const char *topic_name, size_t max_record_bytes,
               sl_dlq **out, sl_error *err)
{
    sl_dlq *dlq = calloc(1, sizeof *dlq);
    if (!dlq) return sl_error_set(err, SL_ENOMEM, "out of memory");
    dlq->log = log;
    dlq->max_record_bytes = max_record_bytes;
    dlq->pipeline = strdup(pipeline);
    dlq->topic_name = strdup(topic_name);
    if (!dlq->pipeline || !dlq->topic_name) {
        sl_dlq_free(dlq);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&dlq->mutex, NULL);
    atomic_init(&dlq->count, 0);
    *out = dlq;
    return SL_OK;
}

void sl_dlq_free(sl_dlq *dlq)
{
    if (!dlq) return;
    if (dlq->topic) sl_topic_flush(dlq->topic, NULL);
    pthread_mutex_destroy(&dlq->mutex);
    free(dlq->pipeline);
    free(dlq->topic_name);
    free(dlq);
}

static int open_topic(sl_dlq *dlq, sl_error *err)
{
    int rc = SL_OK;
    pthread_mutex_lock(&dlq->mutex);
    if (!dlq->topic) {
        sl_topic_config config = { .partitions = 1, .fsync = SL_FSYNC_INTERVAL };
        rc = sl_log_topic_create(dlq->log, dlq->topic_name, &config, &dlq->topic, err);
        if (rc == SL_EEXIST) rc = sl_log_topic_open(dlq->log, dlq->topic_name, &dlq->topic, err);
    }
    pthread_mutex_unlock(&dlq->mutex);
    return rc;
}

/* Bytes of a record as the limit counts them: key, value, header names and values. */
static size_t record_bytes(const sl_record *record)
{
    size_t bytes = record->key.len + record->raw.len;
    for (size_t h = 0; h < record->n_headers; h++)
        bytes += record->headers[h].key.len + record->headers[h].value.len;
    return bytes;
}

int sl_dlq_send(sl_dlq *dlq, const sl_record *record, const char *stage, const char *reason, sl_error *err)
{
    int rc = open_topic(dlq, err);
    if (rc) return rc;
    sl_buffer json = SL_BUFFER_INIT;
    char partition_text[24], offset_text[24];
    snprintf(partition_text, sizeof partition_text, "%" PRId32, record->partition);
    snprintf(offset_text, sizeof offset_text, "%" PRId64, record->offset);
    const sl_header added[6] = {
        { SL_STR_LIT("sluice.error"), sl_str_from(reason) },
        { SL_STR_LIT("sluice.stage"), sl_str_from(stage) },
        { SL_STR_LIT("sluice.pipeline"), sl_str_from(dlq->pipeline) },
        { SL_STR_LIT("sluice.source.partition"), sl_str_from(partition_text) },
        { SL_STR_LIT("sluice.source.offset"), sl_str_from(offset_text) },
        { SL_STR_LIT("sluice.source.topic"), record->topic },
    };
    size_t n_added = record->topic.len ? 6 : 5;
    /* The record's own headers first, so a replay sees them as they were. */
    sl_header *headers = malloc((record->n_headers + n_added) * sizeof *headers);
    if (!headers) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory for a dead letter");
        goto done;
    }
    for (size_t h = 0; h < record->n_headers; h++) headers[h] = record->headers[h];
    memcpy(headers + record->n_headers, added, n_added * sizeof *headers);
    sl_record letter = {
        .key = record->key,
        .raw = record->raw,
        .headers = headers,
        .n_headers = record->n_headers + n_added,
        .timestamp_ms = sl_clock_wall_ms(),
    };
    if (!letter.raw.ptr && record->has_value) {
        rc = sl_json_write(&json, &record->value);
        if (rc) {
            sl_error_set(err, rc, "cannot write the record at partition %" PRId32 " offset %" PRId64 " as JSON",
                         record->partition, record->offset);
            goto done;
        }
        letter.raw = (sl_str){ json.data, json.len };
    }
    size_t bytes = record_bytes(&letter);
    if (bytes > dlq->max_record_bytes) {
        rc = sl_error_set(err, SL_ETOOBIG,
                          "the %s dead letter of partition %" PRId32 " offset %" PRId64 " (%s) is %zu bytes, "
                          "over dlq_max_record_bytes %zu; not storing less than the whole record",
                          stage, record->partition, record->offset, reason, bytes, dlq->max_record_bytes);
        goto done;
    }
    rc = sl_topic_append(dlq->topic, 0, &letter, 1, NULL, err);
    if (rc == SL_OK) atomic_fetch_add(&dlq->count, 1);
done:
    free(headers);
    sl_buffer_free(&json);
    if (rc) sl_error_prefix(err, "dead-letter topic '%s': ", dlq->topic_name);
    return rc;
}

int sl_dlq_flush(sl_dlq *dlq, sl_error *err)
{
    pthread_mutex_lock(&dlq->mutex);
    sl_topic *topic = dlq->topic;
    pthread_mutex_unlock(&dlq->mutex);
    return topic ? sl_topic_flush(topic, err) : SL_OK;
}

uint64_t sl_dlq_count(sl_dlq *dlq)
{
    return atomic_load(&dlq->count);
}

const char *sl_dlq_topic_name(const sl_dlq *dlq)
{
    return dlq->topic_name;
}
