/* api_produce.c — POST /api/v1/topics/{topic}/messages (see api_topics.h):
 * one message appended to an embedded topic through the server's own log,
 * as a pipeline's sink appends a batch (the partition's mutex orders the
 * two; each gets offsets of its own), or, for a topic of the file's Kafka
 * (topics: { kafka: ... }), produced there and acknowledged by the broker.
 *
 * The body is checked whole before anything is written: a JSON object of
 * key, value, headers and partition, each of its type, nothing else. A
 * value that is not a string is stored as its compact JSON text; without a
 * partition the key picks one as Kafka's producers do (murmur2), or, with
 * no key, the next one round-robin.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/json.h"
#include "log/log.h"
#include "server/api_params.h"
#include "scheduler/scheduler.h"
#include "server/topics/api_topics.h"
#include "server/topics/kafka_admin.h"
#include "server/server.h"

#define PRODUCE_HEADERS_MAX 64

typedef struct produce_body {
    sl_record record;
    sl_header headers[PRODUCE_HEADERS_MAX];
    bool has_partition;
    int64_t partition;
    sl_buffer value_text;   /* a value that is not a string, as JSON text */
} produce_body;

static bool string_or_null(const sl_value *value, const char *what, sl_str *out, sl_http_response *response)
{
    if (value->type == SL_TYPE_NULL) {
        *out = (sl_str){ NULL, 0 };
        return true;
    }
    if (value->type != SL_TYPE_STRING) {
        sl_http_error(response, 400, "%s must be a string or null, not %s", what, sl_type_name(value->type));
        return false;
    }
    *out = value->string;
    return true;
}

static bool add_header(produce_body *body, const sl_value *key, const sl_value *value, sl_http_response *response)
{
    if (body->record.n_headers == PRODUCE_HEADERS_MAX) {
        sl_http_error(response, 400, "headers: at most %d", PRODUCE_HEADERS_MAX);
        return false;
    }
    sl_header *header = &body->headers[body->record.n_headers];
    if (key->type != SL_TYPE_STRING || key->string.len == 0) {
        sl_http_error(response, 400, "headers: a header's key must be a non-empty string");
        return false;
    }
    header->key = key->string;
    if (!string_or_null(value, "headers: a header's value", &header->value, response)) return false;
    if (!header->value.ptr) header->value = (sl_str){ "", 0 };
    body->record.n_headers++;
    return true;
}

static bool read_headers(produce_body *body, const sl_value *headers, sl_http_response *response)
{
    if (headers->type == SL_TYPE_OBJECT) {
        for (size_t i = 0; i < headers->object.n_members; i++) {
            sl_value key = sl_value_string(headers->object.members[i].key);
            if (!add_header(body, &key, &headers->object.members[i].value, response)) return false;
        }
        return true;
    }
    if (headers->type == SL_TYPE_ARRAY) {
        for (size_t i = 0; i < headers->array.n_items; i++) {
            const sl_value *item = &headers->array.items[i];
            const sl_value *key = sl_value_get(item, SL_STR_LIT("key"));
            const sl_value *value = sl_value_get(item, SL_STR_LIT("value"));
            if (item->type != SL_TYPE_OBJECT || !key || !value || item->object.n_members != 2) {
                sl_http_error(response, 400, "headers[%zu]: expected {\"key\": ..., \"value\": ...}", i);
                return false;
            }
            if (!add_header(body, key, value, response)) return false;
        }
        return true;
    }
    sl_http_error(response, 400, "headers must be an object {name: value} or an array of {key, value}, not %s",
                  sl_type_name(headers->type));
    return false;
}

/* Fills body from the request's JSON object; false after a 400. */
static bool read_produce_body(const sl_value *root, produce_body *body, sl_http_response *response)
{
    if (root->type != SL_TYPE_OBJECT) {
        sl_http_error(response, 400, "the body must be a JSON object {\"key\", \"value\", \"headers\", \"partition\"}, "
                                     "not %s", sl_type_name(root->type));
        return false;
    }
    bool has_value = false;
    body->record.headers = body->headers;
    for (size_t i = 0; i < root->object.n_members; i++) {
        const sl_member *member = &root->object.members[i];
        if (sl_str_eq_cstr(member->key, "key")) {
            if (!string_or_null(&member->value, "key", &body->record.key, response)) return false;
        } else if (sl_str_eq_cstr(member->key, "value")) {
            has_value = true;
            if (member->value.type == SL_TYPE_STRING) {
                body->record.raw = member->value.string;
            } else {
                if (sl_json_write(&body->value_text, &member->value)) {
                    sl_http_error(response, 500, "out of memory");
                    return false;
                }
                body->record.raw = (sl_str){ body->value_text.data, body->value_text.len };
            }
        } else if (sl_str_eq_cstr(member->key, "headers")) {
            if (!read_headers(body, &member->value, response)) return false;
        } else if (sl_str_eq_cstr(member->key, "partition")) {
            if (member->value.type != SL_TYPE_INT || member->value.integer < 0) {
                sl_http_error(response, 400, "partition must be an integer >= 0");
                return false;
            }
            body->has_partition = true;
            body->partition = member->value.integer;
        } else {
            sl_http_error(response, 400, "unknown field '%.*s' (known: key, value, headers, partition)",
                          (int)(member->key.len > 100 ? 100 : member->key.len), member->key.ptr);
            return false;
        }
    }
    if (!has_value) {
        sl_http_error(response, 400, "value is required (a string, or any JSON, stored as its JSON text)");
        return false;
    }
    if (!body->record.raw.ptr) body->record.raw = (sl_str){ "", 0 };
    return true;
}

/* The Kafka client of the file's topics: block when its topics are on
 * Kafka and name has partitions there; NULL otherwise. The caller closes it. */
static sl_kafka_admin *kafka_topic(void *context, const char *name, int32_t *n_partitions)
{
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    sl_kafka_admin *kafka = NULL;
    sl_error err;
    sl_error_clear(&err);
    bool has_kafka = sl_kafka_admin_open(sl_scheduler_dags_plan(dags), &kafka, &err) == SL_OK && kafka;
    sl_scheduler_dags_release(dags);
    *n_partitions = 0;
    if (has_kafka && sl_kafka_admin_partitions(kafka, name, n_partitions, &err) == SL_OK && *n_partitions > 0)
        return kafka;
    sl_kafka_admin_close(kafka);
    return NULL;
}

void sl_api_topics_produce(void *context, const sl_http_request *request, sl_http_response *response)
{
    static atomic_uint round_robin;
    const char *name = sl_http_param(request, "topic");
    sl_topic *topic = NULL;
    sl_kafka_admin *kafka = NULL;
    int32_t n_partitions = 0;
    if (!sl_api_topic_open(sl_server_log(context), name, &topic, response)) {
        /* Not embedded: a topic of the file's Kafka, produced there. */
        if (response->status != 404 || !(kafka = kafka_topic(context, name, &n_partitions))) return;
        response->status = 200;
        sl_buffer_clear(&response->body);
    } else {
        n_partitions = sl_topic_partitions(topic);
    }
    sl_arena *arena = sl_arena_new(0);
    produce_body body = { .value_text = SL_BUFFER_INIT };
    sl_error err;
    sl_error_clear(&err);
    if (!arena) {
        sl_http_error(response, 500, "out of memory");
        goto done;
    }
    sl_value root;
    if (sl_json_parse(arena, request->body, request->body_len, &root, &err)) {
        sl_http_error(response, 400, "the body is not JSON: %s", err.message);
        goto done;
    }
    if (!read_produce_body(&root, &body, response)) goto done;
    int32_t partition;
    if (body.has_partition && body.partition >= n_partitions) {
        sl_http_error(response, 404, "topic '%s' has no partition %lld (it has %d: 0 to %d)", name,
                      (long long)body.partition, (int)n_partitions, (int)n_partitions - 1);
        goto done;
    }
    int64_t offset = -1;
    if (kafka) {
        partition = body.has_partition ? (int32_t)body.partition : -1;
        if (sl_kafka_admin_produce(kafka, name, partition, &body.record, &partition, &offset, &err)) {
            sl_http_error(response, sl_error_is_transient(&err) ? 503 : 502, "%s", err.message);
            goto done;
        }
    } else {
        if (body.has_partition) partition = (int32_t)body.partition;
        else if (body.record.key.ptr) partition = sl_log_partition_for_key(body.record.key, n_partitions);
        else partition = (int32_t)(atomic_fetch_add(&round_robin, 1) % (unsigned)n_partitions);
        body.record.timestamp_ms = sl_clock_wall_ms();
        if (sl_topic_append(topic, partition, &body.record, 1, &offset, &err)) {
            sl_http_error(response, err.code == SL_ETOOBIG ? 413 : 500, "%s", err.message);
            goto done;
        }
    }
    response->status = 201;
    if (sl_buffer_printf(&response->body, "{\"partition\":%d,\"offset\":%lld}\n", (int)partition, (long long)offset))
        sl_http_error(response, 500, "out of memory");
done:
    sl_kafka_admin_close(kafka);
    sl_buffer_free(&body.value_text);
    sl_arena_free(arena);
}
