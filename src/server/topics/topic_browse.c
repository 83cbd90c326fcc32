/* topic_browse.c — a page of messages across partitions (see
 * topic_browse.h). Each partition's records land in a batch of their own;
 * the merge sorts pointers to them, so nothing is copied twice. */
#include "server/topics/topic_browse.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/batch.h"
#include "server/dags/dag_json.h"
#include "server/topics/message_json.h"

#define READ_BYTES_MIN (256 * 1024)

/* The offset reading starts at in partition p. */
static int starting_offset(sl_topic *topic, int32_t p, const sl_browse_request *request, sl_batch *scratch,
                           int64_t *from, sl_error *err)
{
    int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
    if (request->has_offset) {
        *from = request->offset < start ? start : request->offset;
        return SL_OK;
    }
    if (!request->has_time) {
        *from = start;
        return SL_OK;
    }
    int64_t found = -1, scanned = start;
    int rc = sl_topic_offset_for_time(topic, p, start, request->time_ms, scratch, &found, &scanned, err);
    *from = found >= 0 ? found : end;
    return rc;
}

static int read_partition(sl_topic *topic, sl_browse_page *page, size_t budget, sl_error *err)
{
    int64_t at = page->from;
    size_t bytes = 0;
    page->read_next = at;
    while (!sl_batch_is_full(page->batch) && bytes < budget) {
        size_t before = page->batch->n_records;
        int64_t next = at;
        int rc = sl_topic_read(topic, page->partition, at, budget - bytes, page->batch, &next, err);
        if (rc) return rc;
        for (size_t i = before; i < page->batch->n_records; i++) {
            const sl_record *record = &page->batch->records[i];
            bytes += record->raw.len + record->key.len + 64;
        }
        page->read_next = next;
        if (next <= at || page->batch->n_records == before) break;
        at = next;
    }
    /* Cut by this page's bounds, not by the partition's end. */
    page->is_cut = sl_batch_is_full(page->batch) || bytes >= budget;
    return SL_OK;
}

/* Merges the partitions' records by (timestamp, partition), taking each
 * partition's records in offset order (a k-way merge of their heads, so what
 * is taken of a partition is always its first records, even where its
 * timestamps go back in time), up to limit; sets each page's n_taken. */
static size_t merge(sl_browse_page *pages, int32_t n_pages, size_t limit, const sl_record **merged)
{
    size_t n = 0;
    while (n < limit) {
        sl_browse_page *best = NULL;
        for (int32_t i = 0; i < n_pages; i++) {
            sl_browse_page *page = &pages[i];
            if (page->n_taken == page->batch->n_records && page->is_cut) return n;   /* its next is unknown */
            if (page->n_taken == page->batch->n_records) continue;
            const sl_record *head = &page->batch->records[page->n_taken];
            if (!best || head->timestamp_ms < best->batch->records[best->n_taken].timestamp_ms) best = page;
        }
        if (!best) break;
        merged[n++] = &best->batch->records[best->n_taken++];
    }
    return n;
}

static void write_answer(bool is_dead_letter, sl_browse_page *pages, int32_t n_pages,
                         const sl_record **merged, size_t n_taken, sl_buffer *out, int *rc)
{
    sl_arena *scratch = sl_arena_new(0);
    if (!scratch) {
        *rc = SL_ENOMEM;
        return;
    }
    sl_json_out json;
    sl_json_out_init(&json, out);
    sl_json_begin_object(&json);
    sl_json_key(&json, "messages");
    sl_json_begin_array(&json);
    for (size_t i = 0; i < n_taken; i++) {
        sl_message_json_write(&json, merged[i], is_dead_letter, scratch);
        sl_arena_reset(scratch);
    }
    sl_json_end_array(&json);
    sl_json_key(&json, "next");
    sl_json_begin_object(&json);
    sl_json_key(&json, "partition");
    sl_json_begin_object(&json);
    for (int32_t i = 0; i < n_pages; i++) {
        const sl_browse_page *page = &pages[i];
        int64_t next = page->from;
        if (page->n_taken == page->batch->n_records) next = page->read_next;
        else if (page->n_taken > 0) next = page->batch->records[page->n_taken - 1].offset + 1;
        char key[16];
        snprintf(key, sizeof key, "%d", (int)page->partition);
        sl_json_key(&json, key);
        sl_json_int(&json, next);
    }
    sl_json_end_object(&json);
    sl_json_end_object(&json);
    sl_json_end_object(&json);
    if (json.rc == SL_OK) json.rc = sl_buffer_append_byte(out, '\n');
    *rc = json.rc;
    sl_arena_free(scratch);
}

int sl_browse_answer(sl_browse_page *pages, int32_t n_pages, int limit, bool is_dead_letter, sl_buffer *out)
{
    size_t n_read = 0;
    for (int32_t i = 0; i < n_pages; i++) {
        pages[i].n_taken = 0;
        n_read += pages[i].batch->n_records;
    }
    const sl_record **merged = malloc((n_read ? n_read : 1) * sizeof *merged);
    if (!merged) return SL_ENOMEM;
    size_t n_taken = merge(pages, n_pages, (size_t)limit, merged);
    int rc = SL_OK;
    write_answer(is_dead_letter, pages, n_pages, merged, n_taken, out, &rc);
    free(merged);
    return rc;
}

int sl_topic_browse(sl_topic *topic, const sl_browse_request *request, sl_buffer *out, sl_error *err)
{
    int rc = SL_ENOMEM;
    int32_t first = request->partition >= 0 ? request->partition : 0;
    int32_t n_pages = request->partition >= 0 ? 1 : sl_topic_partitions(topic);
    if (n_pages > SL_BROWSE_MERGE_MAX)
        return sl_error_set(err, SL_ETOOBIG,
                            "topic %s has %d partitions: a browse of more than %d at once needs ?partition=",
                            sl_topic_name(topic), (int)n_pages, SL_BROWSE_MERGE_MAX);
    size_t capacity = (size_t)request->limit;
    if (capacity * (size_t)n_pages > SL_BROWSE_RECORDS_MAX) capacity = SL_BROWSE_RECORDS_MAX / (size_t)n_pages;
    if (capacity < 1) capacity = 1;
    sl_batch *scratch = sl_batch_new(256);
    sl_browse_page *pages = calloc((size_t)n_pages, sizeof *pages);
    if (!scratch || !pages) goto done;
    size_t budget = SL_BROWSE_BYTES / (size_t)n_pages;
    if (budget < READ_BYTES_MIN) budget = READ_BYTES_MIN;
    for (int32_t i = 0; i < n_pages; i++) {
        sl_browse_page *page = &pages[i];
        page->partition = first + i;
        page->batch = sl_batch_new(capacity);
        if (!page->batch) {
            rc = SL_ENOMEM;
            goto done;
        }
        rc = starting_offset(topic, page->partition, request, scratch, &page->from, err);
        if (rc == SL_OK) rc = read_partition(topic, page, budget, err);
        if (rc) goto done;
    }
    rc = sl_browse_answer(pages, n_pages, request->limit, request->is_dead_letter, out);
    if (rc) sl_error_set(err, rc, "out of memory writing messages of topic %s", sl_topic_name(topic));
done:
    if (rc == SL_ENOMEM && err && !err->message[0]) sl_error_set(err, rc, "out of memory browsing topic %s",
                                                                   sl_topic_name(topic));
    if (pages)
        for (int32_t i = 0; i < n_pages; i++) sl_batch_free(pages[i].batch);
    free(pages);
    sl_batch_free(scratch);
    return rc;
}
