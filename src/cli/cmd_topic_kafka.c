/* cmd_topic_kafka.c — `sluice topic list|describe|produce|consume --kafka
 * BROKERS`: the topic commands against a Kafka cluster through librdkafka,
 * printing the same columns and JSON as the embedded-log commands.
 *
 * Every broker request has a bounded timeout, so an unreachable cluster is
 * an exit 1 naming the brokers and librdkafka's message, never a hang.
 * consume reads by assignment (explicit partitions and start offsets) and,
 * with --group, starts at the group's committed offsets and commits what it
 * printed when it ends. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_topic_kafka.h"
#include "cli/commands.h"
#include "core/arena.h"
#include "core/buffer.h"
#include "core/key_text.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/value.h"

#define KAFKA_CLI_TIMEOUT_MS 10000
#define KAFKA_CLI_MAX_KEY_PARTS 16

static volatile sig_atomic_t interrupted;

static void on_sigint(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

/* librdkafka's own log lines would repeat (and garble) what we report. */
static void drop_log(const rd_kafka_t *client, int level, const char *facility, const char *text)
{
    (void)client, (void)level, (void)facility, (void)text;
}

static int fail(const char *brokers, const char *what, const char *message)
{
    fprintf(stderr, "sluice topic: kafka brokers '%s': %s: %s\n", brokers, what, message);
    return SL_EXIT_FAILURE;
}

/* Delivery accounting of produce (the producer's opaque). */
typedef struct delivery_state {
    int64_t delivered;
    int64_t failed;
    char first_error[256];
} delivery_state;

static void on_delivery(rd_kafka_t *client, const rd_kafka_message_t *message, void *opaque)
{
    (void)client;
    delivery_state *state = opaque;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        state->delivered++;
        return;
    }
    if (state->failed++ == 0)
        snprintf(state->first_error, sizeof state->first_error, "%s", rd_kafka_err2str(message->err));
}

/* A producer or consumer for brokers (group: the consumer's group.id). */
static rd_kafka_t *client_new(rd_kafka_type_t type, const char *brokers, const char *group, delivery_state *state)
{
    char message[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *common[][2] = {
        { "bootstrap.servers", brokers },
        { "socket.timeout.ms", "10000" },
    };
    const char *producer[][2] = {
        { "message.timeout.ms", "15000" },
        { "acks", "all" },
        { "partitioner", "murmur2_random" },   /* the Java client's (and the embedded log's) choice */
    };
    const char *consumer[][2] = {
        { "group.id", group ? group : "sluice-topic-cli" },
        { "enable.auto.commit", "false" },
        { "enable.auto.offset.store", "false" },
        { "enable.partition.eof", "true" },
        { "auto.offset.reset", "earliest" },
    };
    bool is_producer = type == RD_KAFKA_PRODUCER;
    const char *(*own)[2] = is_producer ? producer : consumer;
    size_t n_own = is_producer ? sizeof producer / sizeof producer[0] : sizeof consumer / sizeof consumer[0];
    for (size_t i = 0; i < 2 + n_own; i++) {
        const char *const *setting = i < 2 ? common[i] : own[i - 2];
        if (rd_kafka_conf_set(conf, setting[0], setting[1], message, sizeof message) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            fail(brokers, setting[0], message);
            return NULL;
        }
    }
    rd_kafka_conf_set_log_cb(conf, drop_log);
    if (state) {
        rd_kafka_conf_set_opaque(conf, state);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    rd_kafka_t *client = rd_kafka_new(type, conf, message, sizeof message);
    if (!client) {
        rd_kafka_conf_destroy(conf);
        fail(brokers, "cannot create a client", message);
    }
    return client;
}

/* The cluster's metadata (all topics); the caller frees it. */
static int get_metadata(rd_kafka_t *client, const char *brokers, const struct rd_kafka_metadata **metadata)
{
    rd_kafka_resp_err_t code = rd_kafka_metadata(client, 1, NULL, metadata, KAFKA_CLI_TIMEOUT_MS);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(brokers, "cannot get the cluster's metadata", rd_kafka_err2str(code));
    return SL_EXIT_OK;
}

static const struct rd_kafka_metadata_topic *find_topic(const struct rd_kafka_metadata *metadata, const char *name)
{
    for (int i = 0; i < metadata->topic_cnt; i++)
        if (strcmp(metadata->topics[i].topic, name) == 0 && metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return &metadata->topics[i];
    return NULL;
}

static int watermarks(rd_kafka_t *client, const char *brokers, const char *topic, int32_t partition, int64_t *low,
                      int64_t *high)
{
    rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(client, topic, partition, low, high,
                                                                KAFKA_CLI_TIMEOUT_MS);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_EXIT_OK;
    char what[300];
    snprintf(what, sizeof what, "offsets of topic '%s' partition %" PRId32, topic, partition);
    return fail(brokers, what, rd_kafka_err2str(code));
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int kafka_list(rd_kafka_t *client, const char *brokers)
{
    const struct rd_kafka_metadata *metadata = NULL;
    int code = get_metadata(client, brokers, &metadata);
    if (code) return code;
    const char **names = calloc((size_t)metadata->topic_cnt + 1, sizeof *names);
    if (!names) {
        rd_kafka_metadata_destroy(metadata);
        return SL_EXIT_FAILURE;
    }
    size_t n = 0;
    for (int i = 0; i < metadata->topic_cnt; i++)
        if (strncmp(metadata->topics[i].topic, "__", 2) != 0) names[n++] = metadata->topics[i].topic;
    qsort(names, n, sizeof *names, compare_names);
    printf("%-40s %10s %14s\n", "topic", "partitions", "records");
    for (size_t i = 0; i < n && code == SL_EXIT_OK; i++) {
        const struct rd_kafka_metadata_topic *topic = find_topic(metadata, names[i]);
        if (!topic) continue;
        int64_t records = 0;
        for (int p = 0; p < topic->partition_cnt && code == SL_EXIT_OK; p++) {
            int64_t low = 0, high = 0;
            code = watermarks(client, brokers, names[i], topic->partitions[p].id, &low, &high);
            records += high - low;
        }
        if (code == SL_EXIT_OK) printf("%-40s %10d %14" PRId64 "\n", names[i], topic->partition_cnt, records);
    }
    free(names);
    rd_kafka_metadata_destroy(metadata);
    return code;
}

/* The error of the last admin_wait that returned NULL. */
static rd_kafka_resp_err_t last_admin_error;

static bool is_coordinator_busy(rd_kafka_resp_err_t code)
{
    return code == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || code == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
           code == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* Waits for one admin result on queue; NULL on timeout or a request error
 * (reported unless it is a busy coordinator and is_retry_quiet). */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *queue, const char *brokers, const char *what,
                                    bool is_retry_quiet)
{
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, KAFKA_CLI_TIMEOUT_MS + 5000);
    last_admin_error = RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (!event) {
        fail(brokers, what, "no answer in time");
        return NULL;
    }
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        last_admin_error = rd_kafka_event_error(event);
        if (!is_retry_quiet || !is_coordinator_busy(last_admin_error))
            fail(brokers, what, rd_kafka_event_error_string(event));
        rd_kafka_event_destroy(event);
        return NULL;
    }
    return event;
}

/* Group ids of the cluster (groups[] owned by the caller, names by *event). */
static int list_groups(rd_kafka_t *client, const char *brokers, rd_kafka_event_t **event, const char ***groups,
                       size_t *n_groups)
{
    rd_kafka_queue_t *queue = rd_kafka_queue_new(client);
    rd_kafka_ListConsumerGroups(client, NULL, queue);
    *event = admin_wait(queue, brokers, "listing consumer groups", false);
    rd_kafka_queue_destroy(queue);
    if (!*event) return SL_EXIT_FAILURE;
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t **listings =
        rd_kafka_ListConsumerGroups_result_valid(rd_kafka_event_ListConsumerGroups_result(*event), &n);
    *groups = calloc(n + 1, sizeof **groups);
    if (!*groups) return SL_EXIT_FAILURE;
    for (size_t i = 0; i < n; i++) (*groups)[i] = rd_kafka_ConsumerGroupListing_group_id(listings[i]);
    qsort(*groups, n, sizeof **groups, compare_names);
    *n_groups = n;
    return SL_EXIT_OK;
}

/* committed[p] = group's committed offset of topic's partition p (-1 = none). */
static int group_offsets(rd_kafka_t *client, const char *brokers, const char *group, const char *topic,
                         int32_t n_partitions, int64_t *committed)
{
    char what[400];
    snprintf(what, sizeof what, "committed offsets of group '%s'", group);
    rd_kafka_topic_partition_list_t *wanted = rd_kafka_topic_partition_list_new(n_partitions);
    for (int32_t p = 0; p < n_partitions; p++) {
        rd_kafka_topic_partition_list_add(wanted, topic, p);
        committed[p] = -1;
    }
    rd_kafka_ListConsumerGroupOffsets_t *request = rd_kafka_ListConsumerGroupOffsets_new(group, wanted);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(client);
    rd_kafka_event_t *event = NULL;
    const rd_kafka_group_result_t **results = NULL;
    size_t n = 0;
    /* A new cluster answers "not coordinator" until its offsets topic is up. */
    for (int attempt = 0;; attempt++) {
        rd_kafka_ListConsumerGroupOffsets(client, &request, 1, NULL, queue);
        event = admin_wait(queue, brokers, what, attempt < 20);
        if (event) {
            results = rd_kafka_ListConsumerGroupOffsets_result_groups(
                rd_kafka_event_ListConsumerGroupOffsets_result(event), &n);
            const rd_kafka_error_t *busy = n == 1 ? rd_kafka_group_result_error(results[0]) : NULL;
            if (!busy || attempt >= 20 || !is_coordinator_busy(rd_kafka_error_code(busy))) break;
            rd_kafka_event_destroy(event);
        } else if (attempt >= 20 || !is_coordinator_busy(last_admin_error)) {
            break;
        }
        sl_sleep_ms(500);
    }
    int code = SL_EXIT_FAILURE;
    if (!event) goto done;
    if (n != 1) {
        fail(brokers, what, "the brokers sent no result");
        goto done;
    }
    const rd_kafka_error_t *error = rd_kafka_group_result_error(results[0]);
    if (error) {
        fail(brokers, what, rd_kafka_error_string(error));
        goto done;
    }
    const rd_kafka_topic_partition_list_t *offsets = rd_kafka_group_result_partitions(results[0]);
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *entry = &offsets->elems[i];
        if (entry->partition >= 0 && entry->partition < n_partitions && entry->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            committed[entry->partition] = entry->offset >= 0 ? entry->offset : -1;
    }
    code = SL_EXIT_OK;
done:
    if (event) rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    rd_kafka_topic_partition_list_destroy(wanted);
    return code;
}

/* Low/high watermarks of every partition of name (arrays of n owned by the caller). */
static int topic_offsets(rd_kafka_t *client, const char *brokers, const char *name, int32_t *n_partitions,
                         int64_t **low, int64_t **high)
{
    const struct rd_kafka_metadata *metadata = NULL;
    int code = get_metadata(client, brokers, &metadata);
    if (code) return code;
    const struct rd_kafka_metadata_topic *topic = find_topic(metadata, name);
    if (!topic) {
        rd_kafka_metadata_destroy(metadata);
        fprintf(stderr, "sluice topic: kafka brokers '%s': no topic '%s'\n", brokers, name);
        return SL_EXIT_FAILURE;
    }
    int32_t n = topic->partition_cnt;
    rd_kafka_metadata_destroy(metadata);
    *low = calloc((size_t)n + 1, sizeof **low);
    *high = calloc((size_t)n + 1, sizeof **high);
    if (!*low || !*high) return SL_EXIT_FAILURE;
    for (int32_t p = 0; p < n && code == SL_EXIT_OK; p++)
        code = watermarks(client, brokers, name, p, &(*low)[p], &(*high)[p]);
    *n_partitions = n;
    return code;
}

static int kafka_describe(rd_kafka_t *client, const char *name, const sl_topic_kafka_args *args)
{
    int32_t n_partitions = 0;
    int64_t *low = NULL, *high = NULL, *committed = NULL;
    rd_kafka_event_t *listing = NULL;
    const char **groups = NULL;
    size_t n_groups = 0;
    int code = topic_offsets(client, args->brokers, name, &n_partitions, &low, &high);
    if (code) goto done;
    printf("topic %s: %" PRId32 " partitions\n", name, n_partitions);
    printf("%10s %16s %16s %14s\n", "partition", "start offset", "end offset", "records");
    for (int32_t p = 0; p < n_partitions; p++)
        printf("%10" PRId32 " %16" PRId64 " %16" PRId64 " %14" PRId64 "\n", p, low[p], high[p], high[p] - low[p]);
    n_groups = 1;
    if (!args->group && (code = list_groups(client, args->brokers, &listing, &groups, &n_groups))) goto done;
    committed = calloc((size_t)n_partitions + 1, sizeof *committed);
    code = committed ? SL_EXIT_OK : SL_EXIT_FAILURE;
    bool has_header = false;
    for (size_t g = 0; g < n_groups && code == SL_EXIT_OK; g++) {
        const char *group = args->group ? args->group : groups[g];
        code = group_offsets(client, args->brokers, group, name, n_partitions, committed);
        bool has_any = args->group != NULL;
        for (int32_t p = 0; p < n_partitions; p++) has_any |= committed[p] >= 0;
        if (code || !has_any) continue;
        if (!has_header) printf("\n%-30s %10s %16s %12s\n", "group", "partition", "committed", "lag");
        has_header = true;
        for (int32_t p = 0; p < n_partitions; p++) {
            int64_t from = committed[p] < 0 ? low[p] : committed[p];
            if (committed[p] < 0) printf("%-30s %10" PRId32 " %16s %12" PRId64 "\n", group, p, "-", high[p] - from);
            else printf("%-30s %10" PRId32 " %16" PRId64 " %12" PRId64 "\n", group, p, from, high[p] - from);
        }
    }
done:
    free(committed);
    free(groups);
    if (listing) rd_kafka_event_destroy(listing);
    free(low);
    free(high);
    return code;
}

/* Creates name with partitions (-1 = the broker's default) unless it exists. */
static int create_topic(rd_kafka_t *client, const char *brokers, const char *name, int32_t partitions)
{
    char message[512], what[400];
    snprintf(what, sizeof what, "creating topic '%s'", name);
    rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(name, partitions, -1, message, sizeof message);
    if (!topic) return fail(brokers, what, message);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(client);
    rd_kafka_CreateTopics(client, &topic, 1, NULL, queue);
    rd_kafka_event_t *event = admin_wait(queue, brokers, what, false);
    int code = SL_EXIT_FAILURE;
    if (event) {
        size_t n = 0;
        const rd_kafka_topic_result_t **results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
        rd_kafka_resp_err_t error = n == 1 ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            code = SL_EXIT_OK;
        else
            fail(brokers, what, n == 1 && rd_kafka_topic_result_error_string(results[0])
                                    ? rd_kafka_topic_result_error_string(results[0])
                                    : rd_kafka_err2str(error));
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    return code;
}

/* The message key of a JSON line: the text of what path finds (see
 * key_text.h); {NULL, 0} when missing, null or the line is not JSON. */
static sl_str line_key(sl_arena *arena, const char *line, size_t len, const sl_str *path, int n_parts,
                       sl_buffer *scratch)
{
    sl_error err;
    sl_value value;
    sl_str key = { NULL, 0 };
    if (n_parts <= 0 || sl_json_parse(arena, line, len, &value, &err) != SL_OK) return key;
    if (sl_key_text(sl_value_get_path(&value, path, (size_t)n_parts), scratch, &key) != SL_OK)
        return (sl_str){ NULL, 0 };
    return key;
}

static int kafka_produce(const char *name, const sl_topic_kafka_args *args)
{
    sl_str path[KAFKA_CLI_MAX_KEY_PARTS];
    int n_parts = 0;
    if (args->key_path) {
        n_parts = sl_path_split(sl_str_from(args->key_path), path, KAFKA_CLI_MAX_KEY_PARTS);
        if (n_parts <= 0) {
            fprintf(stderr, "sluice topic produce: --key-path '%s' is not a path like a.b\n", args->key_path);
            return SL_EXIT_USAGE;
        }
    }
    delivery_state state = { 0 };
    rd_kafka_t *client = client_new(RD_KAFKA_PRODUCER, args->brokers, NULL, &state);
    if (!client) return SL_EXIT_FAILURE;
    sl_arena *arena = sl_arena_new(4096);
    sl_buffer scratch = SL_BUFFER_INIT;
    char *line = NULL;
    size_t capacity = 0;
    int64_t sent = 0;
    const struct rd_kafka_metadata *metadata = NULL;
    int code = arena ? get_metadata(client, args->brokers, &metadata) : SL_EXIT_FAILURE;
    if (code) goto done;
    bool exists = find_topic(metadata, name) != NULL;
    rd_kafka_metadata_destroy(metadata);
    if (!exists && (code = create_topic(client, args->brokers, name,
                                        args->partitions > 0 ? (int32_t)args->partitions : -1)))
        goto done;
    ssize_t len;
    while ((len = getline(&line, &capacity, stdin)) >= 0 && state.failed == 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        sl_arena_reset(arena);
        sl_str key = line_key(arena, line, (size_t)len, path, n_parts, &scratch);
        rd_kafka_resp_err_t error;
        for (;;) {
            error = rd_kafka_producev(client, RD_KAFKA_V_TOPIC(name), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_VALUE(line, (size_t)len), RD_KAFKA_V_KEY(key.ptr, key.len),
                                      RD_KAFKA_V_END);
            if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            rd_kafka_poll(client, 100);
        }
        if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
            code = fail(args->brokers, "producing", rd_kafka_err2str(error));
            goto done;
        }
        sent++;
        rd_kafka_poll(client, 0);
    }
    while (rd_kafka_outq_len(client) > 0) rd_kafka_flush(client, 1000);
    if (state.failed) {
        char what[300];
        snprintf(what, sizeof what, "%" PRId64 " of %" PRId64 " records to '%s' not delivered", state.failed,
                 sent, name);
        code = fail(args->brokers, what, state.first_error);
        goto done;
    }
    fprintf(stderr, "produced %" PRId64 " records to %s\n", state.delivered, name);
done:
    free(line);
    sl_buffer_free(&scratch);
    if (arena) sl_arena_free(arena);
    rd_kafka_destroy(client);
    return code;
}

static int print_message(const rd_kafka_message_t *message, bool has_metadata, sl_buffer *out)
{
    sl_buffer_clear(out);
    if (!has_metadata) {
        if (message->payload) sl_buffer_append(out, message->payload, message->len);
    } else {
        rd_kafka_timestamp_type_t type;
        sl_buffer_printf(out, "{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"key\":",
                         message->partition, message->offset, rd_kafka_message_timestamp(message, &type));
        if (message->key) sl_json_write_string(out, message->key, message->key_len);
        else sl_buffer_append_cstr(out, "null");
        sl_buffer_append_cstr(out, ",\"headers\":{");
        rd_kafka_headers_t *headers = NULL;
        if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *key;
            const void *value;
            size_t size;
            for (size_t h = 0; rd_kafka_header_get_all(headers, h, &key, &value, &size) == 0; h++) {
                if (h) sl_buffer_append_byte(out, ',');
                sl_json_write_string(out, key, strlen(key));
                sl_buffer_append_byte(out, ':');
                if (value) sl_json_write_string(out, value, size);
                else sl_buffer_append_cstr(out, "null");
            }
        }
        sl_buffer_append_cstr(out, "},\"value\":");
        if (message->payload) sl_json_write_string(out, message->payload, message->len);
        else sl_buffer_append_cstr(out, "null");
        sl_buffer_append_byte(out, '}');
    }
    sl_buffer_append_byte(out, '\n');
    return fwrite(out->data, 1, out->len, stdout) == out->len ? SL_EXIT_OK : SL_EXIT_FAILURE;
}

/* Commits next[p] (the offset after the last printed record) for the
 * partitions something was printed from. */
static int commit_printed(rd_kafka_t *client, const sl_topic_kafka_args *args, const char *name,
                          const int64_t *next, int32_t n_partitions)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(n_partitions);
    for (int32_t p = 0; p < n_partitions; p++)
        if (next[p] >= 0) rd_kafka_topic_partition_list_add(offsets, name, p)->offset = next[p];
    rd_kafka_resp_err_t error = offsets->cnt ? rd_kafka_commit(client, offsets, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(offsets);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_EXIT_OK;
    char what[400];
    snprintf(what, sizeof what, "committing the offsets of group '%s'", args->group);
    return fail(args->brokers, what, rd_kafka_err2str(error));
}

/* True once the group gave us partitions and each has been read to its end. */
static bool member_is_done(rd_kafka_t *client, const bool *is_done, int32_t n_partitions)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(client, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    bool is_all = assigned->cnt > 0;
    for (int i = 0; i < assigned->cnt && is_all; i++) {
        int32_t p = assigned->elems[i].partition;
        is_all = p >= 0 && p < n_partitions && is_done[p];
    }
    rd_kafka_topic_partition_list_destroy(assigned);
    return is_all;
}

static int kafka_consume(rd_kafka_t *client, const char *name, const sl_topic_kafka_args *args)
{
    int32_t n_partitions = 0;
    int64_t *low = NULL, *high = NULL, *committed = NULL, *next = NULL;
    bool *is_done = NULL;
    rd_kafka_topic_partition_list_t *assignment = NULL;
    sl_buffer out = SL_BUFFER_INIT;
    int code = topic_offsets(client, args->brokers, name, &n_partitions, &low, &high);
    if (code) goto done;
    code = SL_EXIT_USAGE;
    if (args->partition >= n_partitions) {
        fprintf(stderr, "sluice topic consume: topic %s has %" PRId32 " partitions; no partition %" PRId64 "\n",
                name, n_partitions, args->partition);
        goto done;
    }
    code = SL_EXIT_FAILURE;
    committed = calloc((size_t)n_partitions, sizeof *committed);
    next = calloc((size_t)n_partitions, sizeof *next);
    is_done = calloc((size_t)n_partitions, sizeof *is_done);
    assignment = rd_kafka_topic_partition_list_new(n_partitions);
    if (!committed || !next || !is_done) goto done;
    for (int32_t p = 0; p < n_partitions; p++) committed[p] = next[p] = -1;
    /* A whole-topic read as a group joins it (the broker's committed offsets
     * and partition share); a --partition or --offset read is assigned. */
    bool is_member = args->group && args->partition < 0 && args->offset < 0;
    if (args->group && !is_member &&
        (code = group_offsets(client, args->brokers, args->group, name, n_partitions, committed)))
        goto done;
    int32_t n_left = 0;
    for (int32_t p = 0; p < n_partitions; p++) {
        is_done[p] = !is_member;
        if (is_member || (args->partition >= 0 && p != args->partition)) continue;
        int64_t start = args->offset >= 0 ? args->offset : committed[p] >= 0 ? committed[p] : low[p];
        rd_kafka_topic_partition_list_add(assignment, name, p)->offset = start;
        is_done[p] = start >= high[p] && !args->is_follow;
        n_left += !is_done[p];
    }
    if (is_member) rd_kafka_topic_partition_list_add(assignment, name, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t error = is_member ? rd_kafka_subscribe(client, assignment) : rd_kafka_assign(client, assignment);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        code = fail(args->brokers, is_member ? "subscribing" : "assigning partitions", rd_kafka_err2str(error));
        goto done;
    }
    struct sigaction action = { .sa_handler = on_sigint }, previous;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);
    int64_t printed = 0;
    code = SL_EXIT_OK;
    while (code == SL_EXIT_OK && !interrupted &&
           (is_member ? !member_is_done(client, is_done, n_partitions) : n_left > 0 || args->is_follow) &&
           !(args->max_records && printed >= args->max_records)) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(client, 200);
        if (!message) {
            fflush(stdout);
            continue;
        }
        int32_t p = message->partition;
        bool is_ours = p >= 0 && p < n_partitions && !is_done[p];
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (is_ours && !args->is_follow) {
                is_done[p] = true;
                n_left--;
            }
        } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            code = fail(args->brokers, "consuming", rd_kafka_message_errstr(message));
        } else if (is_ours && (args->is_follow || message->offset < high[p])) {
            code = print_message(message, args->has_metadata, &out);
            next[p] = message->offset + 1;
            printed++;
            if (!args->is_follow && next[p] >= high[p]) {
                is_done[p] = true;
                n_left--;
            }
        }
        rd_kafka_message_destroy(message);
    }
    sigaction(SIGINT, &previous, NULL);
    fflush(stdout);
    if (code == SL_EXIT_OK && args->group) code = commit_printed(client, args, name, next, n_partitions);
done:
    if (assignment) rd_kafka_topic_partition_list_destroy(assignment);
    sl_buffer_free(&out);
    free(is_done);
    free(next);
    free(committed);
    free(low);
    free(high);
    return code;
}

int sl_topic_kafka_run(const char *verb, const char *name, const sl_topic_kafka_args *args)
{
    if (strcmp(verb, "produce") == 0) return kafka_produce(name, args);
    bool is_consume = strcmp(verb, "consume") == 0;
    if (!is_consume && strcmp(verb, "list") != 0 && strcmp(verb, "describe") != 0) {
        fprintf(stderr, "sluice topic: '%s' is not available with --kafka (list, describe, produce, consume are)\n",
                verb);
        return SL_EXIT_USAGE;
    }
    rd_kafka_t *client = client_new(RD_KAFKA_CONSUMER, args->brokers, is_consume ? args->group : NULL, NULL);
    if (!client) return SL_EXIT_FAILURE;
    int code;
    if (strcmp(verb, "list") == 0) code = kafka_list(client, args->brokers);
    else if (is_consume) code = kafka_consume(client, name, args);
    else code = kafka_describe(client, name, args);
    if (is_consume) rd_kafka_consumer_close(client);
    rd_kafka_destroy(client);
    return code;
}
