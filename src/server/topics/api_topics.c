/* api_topics.c — the topic routes' handlers (see api_topics.h).
 *
 * Every read goes through the server's sl_log, the one its pipelines write
 * to: each partition takes appends and reads from any thread (its mutex is
 * held only to append or to find a segment, reads pread outside it), and
 * the topic registry's mutex guards opening a topic, so an HTTP thread can
 * read a topic a pipeline is writing, and produce into it, with no lock of
 * its own. The server never deletes a topic, so a topic handle stays valid.
 *
 * Lists are by name, paged with an opaque cursor holding the last name of
 * the page before. Producing is api_produce.c's.
 */
#include "server/topics/api_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/compression.h"
#include "scheduler/scheduler.h"
#include "server/topics/api_dead_letters.h"
#include "server/api_params.h"
#include "server/dags/dag_json.h"
#include "server/topics/kafka_admin.h"
#include "server/topics/kafka_browse.h"
#include "server/server.h"
#include "server/topics/topic_browse.h"

#define LIST_LIMIT_DEFAULT 100
#define MESSAGES_LIMIT_DEFAULT 50

/* Writes the members every topic object has (docs/api.md, TOPIC); in a
 * list "partitions" is their count, for one topic (has_count false) the
 * caller writes the list of them instead. */
static void write_topic_members(sl_json_out *out, sl_topic *topic, const sl_plan *plan, bool has_count)
{
    int32_t n = sl_topic_partitions(topic);
    int64_t messages = 0, bytes = 0, start_sum = 0, end_sum = 0;
    for (int32_t p = 0; p < n; p++) {
        int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
        start_sum += start;
        end_sum += end;
        messages += end - start;
        bytes += sl_topic_bytes(topic, p);
    }
    const sl_topic_config *settings = sl_topic_settings(topic);
    sl_json_key(out, "name");
    sl_json_string(out, sl_topic_name(topic));
    if (has_count) {
        sl_json_key(out, "partitions");
        sl_json_int(out, n);
    }
    sl_json_key(out, "messages");
    sl_json_int(out, messages);
    sl_json_key(out, "bytes");
    sl_json_int(out, bytes);
    sl_json_key(out, "start_offset_sum");
    sl_json_int(out, start_sum);
    sl_json_key(out, "end_offset_sum");
    sl_json_int(out, end_sum);
    sl_json_key(out, "retention_ms");
    if (settings->retention_ms > 0) sl_json_int(out, settings->retention_ms);
    else sl_json_null(out);
    sl_json_key(out, "retention_bytes");
    if (settings->retention_bytes > 0) sl_json_int(out, settings->retention_bytes);
    else sl_json_null(out);
    sl_json_key(out, "compression");
    sl_json_string(out, sl_codec_name(settings->compression));
    sl_json_key(out, "is_dead_letter");
    sl_json_bool(out, sl_api_dead_letter_topic(plan, sl_topic_name(topic), NULL, 0));
    sl_json_key(out, "source");
    sl_json_string(out, "embedded");
}

static void answer(sl_http_response *response, sl_json_out *out)
{
    if (out->rc == SL_OK) out->rc = sl_buffer_append_byte(&response->body, '\n');
    if (out->rc) sl_http_error(response, 500, "out of memory");
}

/* Opens the Kafka client when the file maps topics onto Kafka; false after a 5xx. */
static bool open_kafka(const sl_plan *plan, sl_kafka_admin **kafka, sl_http_response *response)
{
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_kafka_admin_open(plan, kafka, &err);
    if (rc == SL_OK) return true;
    sl_http_error(response, rc == SL_ECONFIG ? 500 : 503, "kafka: %s", err.message);
    return false;
}

/* The members of a topic on Kafka, as write_topic_members writes an embedded one's. */
static void write_kafka_members(sl_json_out *out, const char *name, const sl_kafka_topic_info *info, bool has_count)
{
    int64_t start_sum = 0, end_sum = 0;
    for (int32_t p = 0; p < info->partitions; p++) {
        start_sum += info->low[p];
        end_sum += info->high[p];
    }
    sl_json_key(out, "name");
    sl_json_string(out, name);
    if (has_count) {
        sl_json_key(out, "partitions");
        sl_json_int(out, info->partitions);
    }
    sl_json_key(out, "messages");
    sl_json_int(out, end_sum - start_sum);
    sl_json_key(out, "bytes");
    sl_json_null(out);   /* the brokers' disks are not ours to measure */
    sl_json_key(out, "start_offset_sum");
    sl_json_int(out, start_sum);
    sl_json_key(out, "end_offset_sum");
    sl_json_int(out, end_sum);
    sl_json_key(out, "retention_ms");
    if (info->retention_ms > 0) sl_json_int(out, info->retention_ms);
    else sl_json_null(out);
    sl_json_key(out, "retention_bytes");
    if (info->retention_bytes > 0) sl_json_int(out, info->retention_bytes);
    else sl_json_null(out);
    sl_json_key(out, "compression");
    sl_json_string(out, info->compression[0] ? info->compression : "producer");   /* Kafka's default */
    sl_json_key(out, "is_dead_letter");
    sl_json_bool(out, false);   /* dead letters are always embedded */
    sl_json_key(out, "source");
    sl_json_string(out, "kafka");
}

/* The cursor text of a listed topic: its source's digit ('0' embedded, '1'
 * Kafka), then its name, so a page ends between the two of one name. */
static void topic_cursor(const char *name, bool is_kafka, char *cursor)
{
    char text[SL_API_NAME_MAX + 2];
    snprintf(text, sizeof text, "%c%s", is_kafka ? '1' : '0', name);
    sl_dag_cursor_encode('t', text, cursor);
}

void sl_api_topics_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    int limit;
    char after[SL_API_NAME_MAX + 2];
    const char *prefix = sl_http_query(request, "prefix");
    if (!sl_api_param_limit(sl_http_query(request, "limit"), LIST_LIMIT_DEFAULT, &limit, response) ||
        !sl_api_param_cursor('t', sl_http_query(request, "cursor"), after, sizeof after, response))
        return;
    if (after[0] && after[0] != '0' && after[0] != '1') {
        sl_http_error(response, 400, "cursor was not given by this list");
        return;
    }
    const char *after_name = after[0] ? after + 1 : NULL;
    bool is_after_kafka = after[0] == '1';
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    sl_log *log = sl_server_log(context);
    char **names = NULL, **remote = NULL;
    int32_t *remote_partitions = NULL;
    size_t n_names = 0, n_remote = 0;
    sl_kafka_admin *kafka = NULL;
    sl_error err;
    sl_error_clear(&err);
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    const sl_plan *plan = sl_scheduler_dags_plan(dags);
    if (!open_kafka(plan, &kafka, response)) goto done;
    if (sl_log_topic_list(log, &names, &n_names, &err)) {
        sl_http_error(response, 500, "listing topics: %s", err.message);
        goto done;
    }
    if (kafka && sl_kafka_admin_topics(kafka, &remote, &remote_partitions, &n_remote, &err)) {
        sl_http_error(response, 503, "%s", err.message);
        goto done;
    }
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    sl_json_key(&out, "topics");
    sl_json_begin_array(&out);
    int n_listed = 0, rc = SL_OK;
    const char *last = NULL;
    bool is_last_kafka = false, has_more = false;
    size_t e = 0, r = 0;
    while ((e < n_names || r < n_remote) && rc == SL_OK && out.rc == SL_OK) {
        /* The next of the two sorted lists, an embedded topic first on a tie. */
        bool is_kafka = e >= n_names || (r < n_remote && strcmp(remote[r], names[e]) < 0);
        const char *name = is_kafka ? remote[r++] : names[e++];
        if (after_name) {
            int by_name = strcmp(name, after_name);
            if (by_name < 0 || (by_name == 0 && (!is_kafka || is_after_kafka))) continue;
        }
        if (prefix_len && strncmp(name, prefix, prefix_len) != 0) continue;
        if (n_listed == limit) {
            has_more = true;
            break;
        }
        if (is_kafka) {
            sl_kafka_topic_info info;
            bool is_found;
            rc = sl_kafka_admin_topic(kafka, name, &info, &is_found, &err);
            if (rc || !is_found) continue;   /* deleted meanwhile, or a failure answered below */
            sl_json_begin_object(&out);
            write_kafka_members(&out, name, &info, true);
            sl_json_end_object(&out);
            sl_kafka_topic_info_free(&info);
        } else {
            sl_topic *topic = NULL;
            if (sl_log_topic_open(log, name, &topic, NULL) != SL_OK) continue;   /* deleted meanwhile */
            sl_json_begin_object(&out);
            write_topic_members(&out, topic, plan, true);
            sl_json_end_object(&out);
        }
        last = name;
        is_last_kafka = is_kafka;
        n_listed++;
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "next_cursor");
    if (has_more && last) {
        char cursor[SL_DAG_CURSOR_MAX];
        topic_cursor(last, is_last_kafka, cursor);
        sl_json_string(&out, cursor);
    } else {
        sl_json_null(&out);
    }
    sl_json_end_object(&out);
    if (rc) sl_http_error(response, 503, "%s", err.message);
    else answer(response, &out);
done:
    sl_scheduler_dags_release(dags);
    sl_log_names_free(names, n_names);
    sl_log_names_free(remote, n_remote);
    free(remote_partitions);
    sl_kafka_admin_close(kafka);
}

/* GET /api/v1/topics/{topic} of a topic on Kafka (the embedded log has none
 * of that name); false when Kafka has none either. */
static bool get_kafka_topic(const sl_plan *plan, const char *name, sl_http_response *response)
{
    sl_kafka_admin *kafka = NULL;
    if (!open_kafka(plan, &kafka, response)) return true;
    if (!kafka) return false;
    sl_kafka_topic_info info;
    bool is_found = false;
    sl_error err;
    sl_error_clear(&err);
    if (sl_kafka_admin_topic(kafka, name, &info, &is_found, &err)) {
        sl_http_error(response, 503, "%s", err.message);
        sl_kafka_admin_close(kafka);
        return true;
    }
    sl_kafka_admin_close(kafka);
    if (!is_found) return false;
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    write_kafka_members(&out, name, &info, false);
    sl_json_key(&out, "partitions");
    sl_json_begin_array(&out);
    for (int32_t p = 0; p < info.partitions; p++) {
        sl_json_begin_object(&out);
        sl_json_key(&out, "partition");
        sl_json_int(&out, p);
        sl_json_key(&out, "start_offset");
        sl_json_int(&out, info.low[p]);
        sl_json_key(&out, "end_offset");
        sl_json_int(&out, info.high[p]);
        sl_json_key(&out, "bytes");
        sl_json_null(&out);
        sl_json_end_object(&out);
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "groups");
    sl_json_begin_array(&out);   /* Kafka's groups of a topic: GET /api/v1/groups?topic= */
    sl_json_end_array(&out);
    sl_json_end_object(&out);
    answer(response, &out);
    sl_kafka_topic_info_free(&info);
    return true;
}

void sl_api_topics_get(void *context, const sl_http_request *request, sl_http_response *response)
{
    sl_log *log = sl_server_log(context);
    const char *name = sl_http_param(request, "topic");
    if (!sl_api_param_name("topic", name, response)) return;
    sl_topic *topic = NULL;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_log_topic_open(log, name, &topic, &err);
    if (rc == SL_ENOTFOUND) {
        sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
        bool is_answered = get_kafka_topic(sl_scheduler_dags_plan(dags), name, response);
        sl_scheduler_dags_release(dags);
        if (!is_answered) sl_http_error(response, 404, "no topic called '%s'", name);
        return;
    }
    if (rc) {
        sl_http_error(response, 500, "topic '%s': %s", name, err.message);
        return;
    }
    char **groups = NULL;
    size_t n_groups = 0;
    if (sl_log_group_list(log, sl_topic_name(topic), &groups, &n_groups, &err)) {
        sl_http_error(response, 500, "listing the groups of topic '%s': %s", sl_topic_name(topic), err.message);
        return;
    }
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    write_topic_members(&out, topic, sl_scheduler_dags_plan(dags), false);
    sl_scheduler_dags_release(dags);
    sl_json_key(&out, "partitions");
    sl_json_begin_array(&out);
    for (int32_t p = 0; p < sl_topic_partitions(topic); p++) {
        sl_json_begin_object(&out);
        sl_json_key(&out, "partition");
        sl_json_int(&out, p);
        sl_json_key(&out, "start_offset");
        sl_json_int(&out, sl_topic_start_offset(topic, p));
        sl_json_key(&out, "end_offset");
        sl_json_int(&out, sl_topic_end_offset(topic, p));
        sl_json_key(&out, "bytes");
        sl_json_int(&out, sl_topic_bytes(topic, p));
        sl_json_end_object(&out);
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "groups");
    sl_json_begin_array(&out);
    for (size_t g = 0; g < n_groups; g++) sl_json_string(&out, groups[g]);
    sl_json_end_array(&out);
    sl_json_end_object(&out);
    answer(response, &out);
    sl_log_names_free(groups, n_groups);
}

/* Reads ?partition=&offset=&timestamp=&limit= of a browse of topic (NULL:
 * a topic on Kafka, whose browse checks the partition); false after a 4xx. */
static bool parse_browse(const sl_http_request *request, sl_topic *topic, sl_browse_request *browse,
                         sl_http_response *response)
{
    *browse = (sl_browse_request){ .partition = -1 };
    const char *offset = sl_http_query(request, "offset"), *timestamp = sl_http_query(request, "timestamp");
    if (offset && timestamp) {
        sl_http_error(response, 400, "give offset or timestamp, not both");
        return false;
    }
    int64_t partition = -1;
    bool has_partition = false;
    bool is_good = topic ? sl_api_param_partition(topic, sl_http_query(request, "partition"), &browse->partition,
                                                  response)
                         : sl_api_param_int("partition", sl_http_query(request, "partition"), 0, INT32_MAX, &partition,
                                            &has_partition, response);
    if (!topic && has_partition) browse->partition = (int32_t)partition;
    if (!is_good ||
        !sl_api_param_limit(sl_http_query(request, "limit"), MESSAGES_LIMIT_DEFAULT, &browse->limit, response) ||
        !sl_api_param_int("offset", offset, 0, INT64_MAX, &browse->offset, &browse->has_offset, response))
        return false;
    if (timestamp) {
        if (!sl_api_param_time("timestamp", timestamp, &browse->time_ms, response)) return false;
        browse->has_time = true;
    }
    return true;
}

/* Answers a browse of topic (also the dead-letter route's). */
static void browse_topic(sl_topic *topic, const sl_http_request *request, bool is_dead_letter,
                         sl_http_response *response)
{
    sl_browse_request browse;
    if (!parse_browse(request, topic, &browse, response)) return;
    browse.is_dead_letter = is_dead_letter;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_topic_browse(topic, &browse, &response->body, &err);
    if (rc) sl_http_error(response, rc == SL_ETOOBIG ? 400 : 500, "%s", err.message);
}

/* A browse of topic on Kafka when the embedded log has none of that name
 * and the file's topics are on Kafka; false (nothing answered) when they
 * are not, or Kafka has no such topic either. */
static bool browse_kafka_topic(void *context, const char *name, const sl_http_request *request,
                               sl_http_response *response)
{
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    sl_kafka_admin *kafka = NULL;
    bool is_open = open_kafka(sl_scheduler_dags_plan(dags), &kafka, response);
    sl_scheduler_dags_release(dags);
    if (!is_open) return true;
    if (!kafka) return false;
    bool is_answered = true;
    sl_browse_request browse;
    if (parse_browse(request, NULL, &browse, response)) {
        sl_error err;
        sl_error_clear(&err);
        sl_buffer_clear(&response->body);
        int rc = sl_kafka_browse(kafka, name, &browse, &response->body, &err);
        if (rc == SL_ENOTFOUND) is_answered = false;
        else if (rc) sl_http_error(response, rc == SL_EINVAL ? 404 : rc == SL_ETOOBIG ? 400 : rc == SL_ENOMEM ? 500 : 503,
                                   "%s", err.message);
    }
    sl_kafka_admin_close(kafka);
    return is_answered;
}

void sl_api_topics_messages(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *name = sl_http_param(request, "topic");
    sl_topic *topic;
    if (sl_api_topic_open(sl_server_log(context), name, &topic, response)) {
        browse_topic(topic, request, false, response);
        return;
    }
    if (response->status != 404) return;
    sl_http_response kafka_answer = { .status = 200 };
    if (browse_kafka_topic(context, name, request, &kafka_answer)) {
        sl_buffer_free(&response->body);
        *response = kafka_answer;
    } else {
        sl_buffer_free(&kafka_answer.body);
    }
}

void sl_api_topics_browse_dead_letters(sl_topic *topic, const sl_http_request *request, sl_http_response *response)
{
    browse_topic(topic, request, true, response);
}
