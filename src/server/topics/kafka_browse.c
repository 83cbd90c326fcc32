/* kafka_browse.c — a page of a Kafka topic's messages (see kafka_browse.h).
 *
 * The messages are copied into one batch per partition, as the embedded
 * browse reads them, so the merge and the JSON are topic_browse.c's. A
 * partition is done when it reached the high watermark taken at the start
 * (or librdkafka says it is at its end), filled its share of the page, or
 * used its byte budget; a page whose partitions are not all done by the
 * deadline is SL_ETIMEOUT.
 */
#include "server/topics/kafka_browse.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/clock.h"

#define POLL_MS 100
#define BYTES_MIN (256 * 1024)

typedef struct kafka_page {
    sl_browse_page page;
    int64_t end;          /* the high watermark when the page began */
    size_t bytes;
    bool is_done;
} kafka_page;

/* Copies msg into the page's batch (key, value, headers into its arena). */
static int copy_message(sl_batch *batch, const rd_kafka_message_t *msg)
{
    sl_record *record = sl_batch_add(batch);
    if (!record) return SL_ETOOBIG;
    record->partition = msg->partition;
    record->offset = msg->offset;
    record->timestamp_ms = rd_kafka_message_timestamp(msg, NULL);
    if (msg->key) {
        char *key = sl_arena_strndup(batch->arena, msg->key, msg->key_len);
        if (!key) return SL_ENOMEM;
        record->key = (sl_str){ key, msg->key_len };
    }
    if (msg->payload) {
        char *value = sl_arena_strndup(batch->arena, msg->payload, msg->len);
        if (!value) return SL_ENOMEM;
        record->raw = (sl_str){ value, msg->len };
    }
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return SL_OK;
    size_t n = rd_kafka_header_cnt(headers);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const void *value;
        size_t size;
        if (rd_kafka_header_get_all(headers, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        char *name_copy = sl_arena_strndup(batch->arena, name, strlen(name));
        char *value_copy = sl_arena_strndup(batch->arena, value ? value : "", value ? size : 0);
        if (!name_copy || !value_copy ||
            sl_record_add_header(batch, record, (sl_str){ name_copy, strlen(name) },
                                 (sl_str){ value_copy, value ? size : 0 }))
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* Where each page starts: the offset (not below the low watermark), the
 * first offset at or past the time, or the low watermark. */
static int starting_offsets(sl_kafka_admin *kafka, rd_kafka_t *consumer, const char *topic,
                            const sl_browse_request *request, kafka_page *pages, int32_t n_pages, sl_error *err)
{
    rd_kafka_topic_partition_list_t *times = request->has_time ? rd_kafka_topic_partition_list_new(n_pages) : NULL;
    int rc = SL_OK;
    for (int32_t i = 0; i < n_pages && rc == SL_OK; i++) {
        int64_t low = 0, high = 0;
        rc = sl_kafka_admin_watermarks(kafka, topic, pages[i].page.partition, &low, &high, err);
        pages[i].end = high;
        pages[i].page.from = request->has_offset ? (request->offset > low ? request->offset : low) : low;
        if (times) rd_kafka_topic_partition_list_add(times, topic, pages[i].page.partition)->offset = request->time_ms;
    }
    if (rc == SL_OK && times) {
        rd_kafka_resp_err_t code = rd_kafka_offsets_for_times(consumer, times, SL_KAFKA_ADMIN_TIMEOUT_MS);
        if (code) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': offsets of %s for a time: %s",
                              sl_kafka_admin_brokers(kafka), topic, rd_kafka_err2str(code));
        } else {
            for (int32_t i = 0; i < n_pages; i++) {
                int64_t found = times->elems[i].offset;
                pages[i].page.from = found >= 0 ? found : pages[i].end;   /* none that late: the end */
            }
        }
    }
    if (times) rd_kafka_topic_partition_list_destroy(times);
    return rc;
}

/* Consumes until every page is done or the deadline passes. */
static int consume_pages(sl_kafka_admin *kafka, rd_kafka_t *consumer, const char *topic, kafka_page *pages,
                         int32_t n_pages, size_t budget, sl_error *err)
{
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(n_pages);
    int32_t n_left = 0;
    for (int32_t i = 0; i < n_pages; i++) {
        pages[i].page.read_next = pages[i].page.from;
        pages[i].is_done = pages[i].page.from >= pages[i].end;
        if (pages[i].is_done) continue;
        rd_kafka_topic_partition_list_add(assignment, topic, pages[i].page.partition)->offset = pages[i].page.from;
        n_left++;
    }
    rd_kafka_resp_err_t code = n_left ? rd_kafka_assign(consumer, assignment) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(assignment);
    if (code)
        return sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': assigning %s: %s", sl_kafka_admin_brokers(kafka),
                            topic, rd_kafka_err2str(code));
    int64_t deadline = sl_clock_monotonic_ms() + SL_KAFKA_ADMIN_TIMEOUT_MS;
    char last_error[256] = "no messages within the time";
    int rc = SL_OK;
    while (n_left > 0 && rc == SL_OK) {
        int64_t left = deadline - sl_clock_monotonic_ms();
        if (left <= 0) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': reading %s: %s (within %d ms)",
                              sl_kafka_admin_brokers(kafka), topic, last_error, SL_KAFKA_ADMIN_TIMEOUT_MS);
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, left < POLL_MS ? (int)left : POLL_MS);
        if (!msg) continue;
        kafka_page *page = NULL;
        for (int32_t i = 0; i < n_pages && !page; i++)
            if (pages[i].page.partition == msg->partition) page = &pages[i];
        if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(last_error, sizeof last_error, "%s", rd_kafka_message_errstr(msg));
        } else if (page && !page->is_done && msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            page->is_done = true;   /* at the end: nothing more now */
            n_left--;
        } else if (page && !page->is_done && msg->offset >= page->page.read_next) {
            rc = copy_message(page->page.batch, msg);
            if (rc) sl_error_set(err, rc, "out of memory reading %s", topic);
            page->page.read_next = msg->offset + 1;
            page->bytes += msg->len + msg->key_len + 64;
            bool is_full = sl_batch_is_full(page->page.batch) || page->bytes >= budget;
            if (is_full || page->page.read_next >= page->end) {
                page->page.is_cut = is_full && page->page.read_next < page->end;
                page->is_done = true;
                n_left--;
            }
        }
        rd_kafka_message_destroy(msg);
    }
    return rc;
}

int sl_kafka_browse(sl_kafka_admin *kafka, const char *topic, const sl_browse_request *request, sl_buffer *out,
                    sl_error *err)
{
    int32_t n_partitions = 0;
    int rc = sl_kafka_admin_partitions(kafka, topic, &n_partitions, err);
    if (rc) return rc;
    if (n_partitions <= 0) return sl_error_set(err, SL_ENOTFOUND, "Kafka has no topic called '%s'", topic);
    if (request->partition >= n_partitions)
        return sl_error_set(err, SL_EINVAL, "topic '%s' has no partition %d (it has %d: 0 to %d)", topic,
                            (int)request->partition, (int)n_partitions, (int)n_partitions - 1);
    int32_t first = request->partition >= 0 ? request->partition : 0;
    int32_t n_pages = request->partition >= 0 ? 1 : n_partitions;
    if (n_pages > SL_BROWSE_MERGE_MAX)
        return sl_error_set(err, SL_ETOOBIG, "topic %s has %d partitions: a browse of more than %d at once needs "
                                             "?partition=", topic, (int)n_pages, SL_BROWSE_MERGE_MAX);
    size_t capacity = (size_t)request->limit;
    if (capacity * (size_t)n_pages > SL_BROWSE_RECORDS_MAX) capacity = SL_BROWSE_RECORDS_MAX / (size_t)n_pages;
    if (capacity < 1) capacity = 1;
    size_t budget = SL_BROWSE_BYTES / (size_t)n_pages;
    if (budget < BYTES_MIN) budget = BYTES_MIN;

    rc = SL_ENOMEM;
    rd_kafka_t *consumer = NULL;
    sl_browse_page *merged_pages = NULL;
    kafka_page *pages = calloc((size_t)n_pages, sizeof *pages);
    if (!pages) goto done;
    for (int32_t i = 0; i < n_pages; i++) {
        pages[i].page.partition = first + i;
        pages[i].page.batch = sl_batch_new(capacity);
        if (!pages[i].page.batch) goto done;
    }
    consumer = sl_kafka_admin_consumer(kafka, err);
    if (!consumer) {
        rc = err ? err->code : SL_ECONFIG;
        goto done;
    }
    rc = starting_offsets(kafka, consumer, topic, request, pages, n_pages, err);
    if (rc == SL_OK) rc = consume_pages(kafka, consumer, topic, pages, n_pages, budget, err);
    if (rc) goto done;
    merged_pages = calloc((size_t)n_pages, sizeof *merged_pages);
    rc = merged_pages ? SL_OK : SL_ENOMEM;
    for (int32_t i = 0; i < n_pages && rc == SL_OK; i++) merged_pages[i] = pages[i].page;
    if (rc == SL_OK) rc = sl_browse_answer(merged_pages, n_pages, request->limit, request->is_dead_letter, out);
    if (rc) sl_error_set(err, rc, "out of memory writing messages of topic %s", topic);
done:
    if (rc == SL_ENOMEM && err && !err->message[0]) sl_error_set(err, rc, "out of memory browsing topic %s", topic);
    if (consumer) {
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
    }
    for (int32_t i = 0; pages && i < n_pages; i++) sl_batch_free(pages[i].page.batch);
    free(pages);
    free(merged_pages);
    return rc;
}
