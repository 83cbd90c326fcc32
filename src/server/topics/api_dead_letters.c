/* api_dead_letters.c — the dead-letter routes' handlers (see
 * api_dead_letters.h).
 *
 * The reasons of a topic are counted over its latest dead letters (at most
 * REASONS_SAMPLE, by timestamp over every partition): each one's
 * sluice.error header cut at its first ':' (the kind of failure, e.g.
 * "invalid JSON", without the position that follows), at most
 * REASON_PREFIX_MAX bytes. Letters are read in small batches and only
 * their reasons kept, so a topic of big letters costs no more memory than
 * one letter.
 */
#include "server/topics/api_dead_letters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "scheduler/scheduler.h"
#include "server/api_params.h"
#include "server/topics/api_topics.h"
#include "server/dags/dag_json.h"
#include "server/topics/message_json.h"
#include "server/server.h"

#define LIST_LIMIT_DEFAULT 100
#define REASONS_SAMPLE 1000
#define REASON_PREFIX_MAX 96
#define READ_BYTES (1024 * 1024)

static const char DLQ_SUFFIX[] = ".dlq";

bool sl_api_dead_letter_topic(const sl_plan *plan, const char *topic, char *pipeline, size_t size)
{
    for (size_t i = 0; plan && i < plan->n_pipelines; i++) {
        if (!plan->pipelines[i].dlq_topic || strcmp(plan->pipelines[i].dlq_topic, topic) != 0) continue;
        if (pipeline) snprintf(pipeline, size, "%s", plan->pipelines[i].name);
        return true;
    }
    size_t len = strlen(topic), suffix_len = sizeof DLQ_SUFFIX - 1;
    if (len <= suffix_len || strcmp(topic + len - suffix_len, DLQ_SUFFIX) != 0) return false;
    if (pipeline) snprintf(pipeline, size, "%.*s", (int)(len - suffix_len), topic);
    return true;
}

/* ---- reasons ---- */

typedef struct reason {
    int64_t timestamp_ms;
    char prefix[REASON_PREFIX_MAX + 1];
} reason;

typedef struct reason_count {
    const char *prefix;
    int64_t count;
} reason_count;

static void reason_of(const sl_record *record, char *prefix)
{
    const sl_header *error = sl_record_header(record, "sluice.error");
    if (!error) {
        snprintf(prefix, REASON_PREFIX_MAX + 1, "(no sluice.error header)");
        return;
    }
    size_t len = 0;
    while (len < error->value.len && len < REASON_PREFIX_MAX && error->value.ptr[len] != ':') len++;
    /* Never cut a UTF-8 sequence in two. */
    while (len > 0 && len < error->value.len && ((unsigned char)error->value.ptr[len] & 0xC0) == 0x80) len--;
    if (!sl_message_is_utf8(error->value.ptr, len) || memchr(error->value.ptr, 0, len)) {
        snprintf(prefix, REASON_PREFIX_MAX + 1, "(not UTF-8)");
        return;
    }
    memcpy(prefix, error->value.ptr, len);
    prefix[len] = '\0';
}

static int newest_first(const void *a, const void *b)
{
    const reason *x = a, *y = b;
    return (x->timestamp_ms < y->timestamp_ms) - (x->timestamp_ms > y->timestamp_ms);
}

static int by_prefix(const void *a, const void *b)
{
    return strcmp(((const reason *)a)->prefix, ((const reason *)b)->prefix);
}

/* The reasons of the latest REASONS_SAMPLE letters of topic, newest first
 * in *out (malloc'ed, *n_out of them). */
static int collect_reasons(sl_topic *topic, reason **out, size_t *n_out, sl_error *err)
{
    int rc = SL_ENOMEM;
    int32_t n_partitions = sl_topic_partitions(topic);
    size_t n = 0, capacity = 0;
    reason *reasons = NULL;
    sl_batch *batch = sl_batch_new(64);
    if (!batch) goto done;
    rc = SL_OK;
    for (int32_t p = 0; p < n_partitions && rc == SL_OK; p++) {
        int64_t end = sl_topic_end_offset(topic, p), start = sl_topic_start_offset(topic, p);
        int64_t at = end - REASONS_SAMPLE > start ? end - REASONS_SAMPLE : start;
        while (at < end && rc == SL_OK) {
            sl_batch_reset(batch);
            int64_t next = at;
            rc = sl_topic_read(topic, p, at, READ_BYTES, batch, &next, err);
            if (rc || next <= at) break;
            for (size_t i = 0; i < batch->n_records; i++) {
                if (n == capacity) {
                    capacity = capacity ? 2 * capacity : 256;
                    reason *grown = realloc(reasons, capacity * sizeof *grown);
                    if (!grown) {
                        rc = sl_error_set(err, SL_ENOMEM, "out of memory counting dead letters");
                        break;
                    }
                    reasons = grown;
                }
                reasons[n].timestamp_ms = batch->records[i].timestamp_ms;
                reason_of(&batch->records[i], reasons[n].prefix);
                n++;
            }
            at = next;
        }
    }
done:
    sl_batch_free(batch);
    if (rc) {
        free(reasons);
        return rc;
    }
    if (n) qsort(reasons, n, sizeof *reasons, newest_first);
    *out = reasons;
    *n_out = n < REASONS_SAMPLE ? n : REASONS_SAMPLE;
    return SL_OK;
}

static int write_dead_letter_topic(sl_json_out *out, sl_topic *topic, const char *pipeline, sl_error *err)
{
    reason *reasons = NULL;
    size_t n_reasons = 0;
    int rc = collect_reasons(topic, &reasons, &n_reasons, err);
    if (rc) return rc;
    int64_t messages = 0;
    for (int32_t p = 0; p < sl_topic_partitions(topic); p++)
        messages += sl_topic_end_offset(topic, p) - sl_topic_start_offset(topic, p);
    sl_json_begin_object(out);
    sl_json_key(out, "topic");
    sl_json_string(out, sl_topic_name(topic));
    sl_json_key(out, "pipeline");
    sl_json_string(out, pipeline);
    sl_json_key(out, "messages");
    sl_json_int(out, messages);
    sl_json_key(out, "reasons");
    sl_json_begin_object(out);
    if (n_reasons) qsort(reasons, n_reasons, sizeof *reasons, by_prefix);
    for (size_t i = 0; i < n_reasons;) {
        size_t j = i;
        while (j < n_reasons && strcmp(reasons[j].prefix, reasons[i].prefix) == 0) j++;
        sl_json_key(out, reasons[i].prefix);
        sl_json_int(out, (int64_t)(j - i));
        i = j;
    }
    sl_json_end_object(out);
    sl_json_end_object(out);
    free(reasons);
    return SL_OK;
}

void sl_api_dead_letters_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    int limit;
    char after[SL_API_NAME_MAX + 1];
    if (!sl_api_param_limit(sl_http_query(request, "limit"), LIST_LIMIT_DEFAULT, &limit, response) ||
        !sl_api_param_cursor('d', sl_http_query(request, "cursor"), after, sizeof after, response))
        return;
    sl_log *log = sl_server_log(context);
    char **names = NULL;
    size_t n_names = 0;
    sl_error err;
    sl_error_clear(&err);
    if (sl_log_topic_list(log, &names, &n_names, &err)) {
        sl_http_error(response, 500, "listing topics: %s", err.message);
        return;
    }
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    const sl_plan *plan = sl_scheduler_dags_plan(dags);
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    sl_json_key(&out, "dead_letter_topics");
    sl_json_begin_array(&out);
    int n_listed = 0, rc = SL_OK;
    const char *last = NULL;
    bool has_more = false;
    for (size_t i = 0; i < n_names && rc == SL_OK && out.rc == SL_OK; i++) {
        char pipeline[SL_API_NAME_MAX + 1];
        if (after[0] && strcmp(names[i], after) <= 0) continue;
        if (!sl_api_dead_letter_topic(plan, names[i], pipeline, sizeof pipeline)) continue;
        if (n_listed == limit) {
            has_more = true;
            break;
        }
        sl_topic *topic = NULL;
        if (sl_log_topic_open(log, names[i], &topic, &err) != SL_OK) continue;   /* deleted meanwhile */
        rc = write_dead_letter_topic(&out, topic, pipeline, &err);
        last = names[i];
        n_listed++;
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "next_cursor");
    if (has_more && last) {
        char cursor[SL_DAG_CURSOR_MAX];
        sl_dag_cursor_encode('d', last, cursor);
        sl_json_string(&out, cursor);
    } else {
        sl_json_null(&out);
    }
    sl_json_end_object(&out);
    if (out.rc == SL_OK) out.rc = sl_buffer_append_byte(&response->body, '\n');
    if (rc) sl_http_error(response, 500, "%s", err.message);
    else if (out.rc) sl_http_error(response, 500, "out of memory");
    sl_scheduler_dags_release(dags);
    sl_log_names_free(names, n_names);
}

void sl_api_dead_letters_messages(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *name = sl_http_param(request, "topic");
    sl_topic *topic;
    if (!sl_api_topic_open(sl_server_log(context), name, &topic, response)) return;
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    bool is_dead_letter = sl_api_dead_letter_topic(sl_scheduler_dags_plan(dags), name, NULL, 0);
    sl_scheduler_dags_release(dags);
    if (!is_dead_letter) {
        sl_http_error(response, 404, "topic '%s' is no dead-letter topic (no pipeline names it in dlq, and its name "
                                     "does not end in .dlq)", name);
        return;
    }
    sl_api_topics_browse_dead_letters(topic, request, response);
}
