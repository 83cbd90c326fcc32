/* cmd_topic_kafka.c — `sluice topic list|describe|create|produce|consume
 * --kafka BROKERS`: the topic verbs against a Kafka cluster through
 * librdkafka, with the options, checks and output of the embedded-log verbs
 * (cmd_topic_log.c; both share topic_common.c and topic_format.c).
 *
 * The client is built by kafka_common (sl_kafka_cli_config), as the kafka
 * connector's are: -X properties on top of sluice's, librdkafka's logs
 * through the sluice logger (errors only, for a command line), and brokers
 * that refuse the credentials reported as such (exit 2). Every broker
 * request has a bounded timeout, so an unreachable cluster is an exit 1
 * naming the brokers and librdkafka's message, never a hang. consume reads
 * by assignment (explicit partitions and start offsets) and, with --group
 * and neither -p nor -o, as a member of the group; with --group it commits
 * what it printed when it ends. */
#include "cli/cmd_topic_kafka.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/topic_common.h"
#include "connectors/kafka/kafka_common.h"
#include "core/arena.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/logger.h"

#define KAFKA_CLI_TIMEOUT_MS 10000

/* One librdkafka client and what its callbacks report. */
typedef struct kafka_client {
    sl_kafka_identity who;      /* first: kafka_common's log and error callbacks read it through the opaque */
    rd_kafka_t *handle;
    bool is_consumer;
    int64_t delivered;          /* producer: delivery reports */
    int64_t failed;
    char first_error[256];
} kafka_client;

static int fail(const char *brokers, const char *what, const char *message)
{
    fprintf(stderr, "sluice topic: kafka brokers '%s': %s: %s\n", brokers, what, message);
    return SL_EXIT_FAILURE;
}

static void on_delivery(rd_kafka_t *handle, const rd_kafka_message_t *message, void *opaque)
{
    (void)handle;
    kafka_client *client = opaque;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        client->delivered++;
        return;
    }
    if (client->failed++ == 0)
        snprintf(client->first_error, sizeof client->first_error, "%s", rd_kafka_err2str(message->err));
}

/* A producer, or a consumer (of args->group for consume). */
static int client_open(kafka_client *client, const sl_topic_args *args, bool is_producer)
{
    memset(client, 0, sizeof *client);
    sl_kafka_identity_init(&client->who, args->kafka, is_producer ? "producer" : "consumer", "sluice topic");
    client->is_consumer = !is_producer;
    /* librdkafka retries and reconnects by itself; a command reports what
     * failed in the end, so only errors reach stderr. */
    sl_logger_configure(SL_LEVEL_ERROR, 0);
    sl_kafka_cli_conf settings = {
        .brokers = args->kafka, .is_producer = is_producer,
        .group = args->verb == SL_VERB_CONSUME ? args->group : NULL,
        .properties = args->properties, .n_properties = args->n_properties,
    };
    rd_kafka_conf_t *conf = NULL;
    sl_error err;
    if (sl_kafka_cli_config(&settings, &conf, &err)) {
        fprintf(stderr, "sluice topic %s: %s\n", sl_topic_verb_name(args->verb), err.message);
        return sl_exit_code_for(err.code);
    }
    rd_kafka_conf_set_opaque(conf, client);
    if (is_producer) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char message[512];
    client->handle = rd_kafka_new(is_producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, message, sizeof message);
    if (client->handle) return SL_EXIT_OK;
    rd_kafka_conf_destroy(conf);
    return fail(args->kafka, "cannot create a client", message);
}

/* Closes the client; a failure the brokers explained by refusing the
 * credentials becomes that explanation and exit 2. */
static int client_close(kafka_client *client, int code)
{
    sl_error err;
    if (code != SL_EXIT_OK && sl_kafka_check_refused(&client->who, &err)) {
        fprintf(stderr, "sluice topic: %s\n", err.message);
        code = SL_EXIT_USAGE;
    }
    if (!client->handle) return code;
    if (client->is_consumer) rd_kafka_consumer_close(client->handle);
    rd_kafka_destroy(client->handle);
    client->handle = NULL;
    return code;
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

static int kafka_describe(rd_kafka_t *client, const sl_topic_args *args)
{
    const char *name = args->name;
    int32_t n_partitions = 0;
    int64_t *low = NULL, *high = NULL, *committed = NULL;
    rd_kafka_event_t *listing = NULL;
    const char **groups = NULL;
    size_t n_groups = 0;
    int code = topic_offsets(client, args->kafka, name, &n_partitions, &low, &high);
    if (code) goto done;
    printf("topic %s: %" PRId32 " partitions\n", name, n_partitions);
    printf("%10s %16s %16s %14s\n", "partition", "start offset", "end offset", "records");
    for (int32_t p = 0; p < n_partitions; p++)
        printf("%10" PRId32 " %16" PRId64 " %16" PRId64 " %14" PRId64 "\n", p, low[p], high[p], high[p] - low[p]);
    n_groups = 1;
    if (!args->group && (code = list_groups(client, args->kafka, &listing, &groups, &n_groups))) goto done;
    committed = calloc((size_t)n_partitions + 1, sizeof *committed);
    code = committed ? SL_EXIT_OK : SL_EXIT_FAILURE;
    bool has_header = false;
    for (size_t g = 0; g < n_groups && code == SL_EXIT_OK; g++) {
        const char *group = args->group ? args->group : groups[g];
        code = group_offsets(client, args->kafka, group, name, n_partitions, committed);
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

/* The topic's partition count; 0 when the cluster does not have it. */
static int partition_count(rd_kafka_t *client, const char *brokers, const char *name, int32_t *n)
{
    const struct rd_kafka_metadata *metadata = NULL;
    int code = get_metadata(client, brokers, &metadata);
    if (code) return code;
    const struct rd_kafka_metadata_topic *topic = find_topic(metadata, name);
    *n = topic ? topic->partition_cnt : 0;
    rd_kafka_metadata_destroy(metadata);
    return SL_EXIT_OK;
}

/* The partition count of a topic just created (the brokers' metadata
 * shows it after a moment). */
static int created_partition_count(rd_kafka_t *client, const char *brokers, const char *name, int32_t *n)
{
    int64_t deadline = sl_clock_wall_ms() + KAFKA_CLI_TIMEOUT_MS;
    for (;;) {
        int code = partition_count(client, brokers, name, n);
        if (code || *n > 0) return code;
        if (sl_clock_wall_ms() > deadline) {
            char what[300];
            snprintf(what, sizeof what, "topic '%s'", name);
            return fail(brokers, what, "created, but not in the brokers' metadata in time");
        }
        sl_sleep_ms(200);
    }
}

/* Creates args->name unless it exists (--partitions, else the broker's
 * default); an existing topic must have the --partitions asked for.
 * *n_partitions: its count (0 when created with the broker's default). */
static int ensure_topic(rd_kafka_t *client, const sl_topic_args *args, int32_t *n_partitions)
{
    const char *verb = sl_topic_verb_name(args->verb);
    int code = partition_count(client, args->kafka, args->name, n_partitions);
    if (code) return code;
    if (*n_partitions > 0) {
        if (args->partitions > 0 && args->partitions != *n_partitions)
            return sl_topic_partition_mismatch(verb, args->name, *n_partitions, args->partitions);
        return SL_EXIT_OK;
    }
    *n_partitions = (int32_t)args->partitions;
    return create_topic(client, args->kafka, args->name, args->partitions > 0 ? (int32_t)args->partitions : -1);
}

int sl_topic_kafka_list(const sl_topic_args *args)
{
    kafka_client client;
    int code = client_open(&client, args, false);
    if (code == SL_EXIT_OK) code = kafka_list(client.handle, args->kafka);
    return client_close(&client, code);
}

int sl_topic_kafka_describe(const sl_topic_args *args)
{
    kafka_client client;
    int code = client_open(&client, args, false);
    if (code == SL_EXIT_OK) code = kafka_describe(client.handle, args);
    return client_close(&client, code);
}

int sl_topic_kafka_create(const sl_topic_args *args)
{
    kafka_client client;
    int32_t n_partitions = 0;
    int code = client_open(&client, args, false);
    if (code == SL_EXIT_OK) code = ensure_topic(client.handle, args, &n_partitions);
    return client_close(&client, code);
}

/* Produces one message (retrying while librdkafka's queue is full); the
 * headers are the message's once it is queued. */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *handle, const sl_topic_args *args, sl_str key, sl_str value,
                                       const sl_header *headers, size_t n_headers)
{
    for (;;) {
        rd_kafka_headers_t *list = n_headers ? rd_kafka_headers_new(n_headers) : NULL;
        for (size_t h = 0; h < n_headers; h++)
            rd_kafka_header_add(list, headers[h].key.ptr, (ssize_t)headers[h].key.len, headers[h].value.ptr,
                                (ssize_t)headers[h].value.len);
        rd_kafka_resp_err_t error = rd_kafka_producev(
            handle, RD_KAFKA_V_TOPIC(args->name), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_PARTITION(args->partition >= 0 ? args->partition : RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_VALUE((void *)value.ptr, value.len), RD_KAFKA_V_KEY(key.ptr, key.len),
            RD_KAFKA_V_HEADERS(list), RD_KAFKA_V_END);
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return error;
        if (list) rd_kafka_headers_destroy(list);
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) return error;
        rd_kafka_poll(handle, 100);
    }
}

int sl_topic_kafka_produce(const sl_topic_args *args)
{
    sl_topic_keys keys;
    sl_header headers[SL_TOPIC_MAX_HEADERS];
    size_t n_headers = sl_topic_headers(args, headers);
    int code = sl_topic_keys_init(args, &keys);
    if (code) return code;
    kafka_client client;
    code = client_open(&client, args, true);
    if (code) return client_close(&client, code);
    sl_arena *arena = sl_arena_new(4096);
    sl_buffer scratch = SL_BUFFER_INIT;
    char *line = NULL;
    size_t capacity = 0;
    int64_t sent = 0;
    int32_t n_partitions = 0;
    code = arena ? ensure_topic(client.handle, args, &n_partitions) : SL_EXIT_FAILURE;
    if (code == SL_EXIT_OK && args->partition >= 0 && n_partitions == 0)
        code = created_partition_count(client.handle, args->kafka, args->name, &n_partitions);
    if (code == SL_EXIT_OK && args->partition >= 0)
        code = sl_topic_check_partition("produce", args->name, args->partition, n_partitions);
    if (code) goto done;
    ssize_t len;
    while ((!args->max_records || sent < args->max_records) && client.failed == 0 &&
           (len = getline(&line, &capacity, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        sl_arena_reset(arena);
        sl_str key, value;
        if (sl_topic_keys_split(&keys, arena, &scratch, (sl_str){ line, (size_t)len }, &key, &value)) {
            fprintf(stderr, "sluice topic produce: out of memory\n");
            code = SL_EXIT_FAILURE;
            goto done;
        }
        rd_kafka_resp_err_t error = produce_one(client.handle, args, key, value, headers, n_headers);
        if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
            code = fail(args->kafka, "producing", rd_kafka_err2str(error));
            goto done;
        }
        sent++;
        rd_kafka_poll(client.handle, 0);
    }
    while (rd_kafka_outq_len(client.handle) > 0) rd_kafka_flush(client.handle, 1000);
    if (client.failed) {
        char what[300];
        snprintf(what, sizeof what, "%" PRId64 " of %" PRId64 " records to '%s' not delivered", client.failed,
                 sent, args->name);
        code = fail(args->kafka, what, client.first_error);
        goto done;
    }
    fprintf(stderr, "produced %" PRId64 " records to %s\n", client.delivered, args->name);
done:
    free(line);
    sl_buffer_free(&scratch);
    if (arena) sl_arena_free(arena);
    return client_close(&client, code);
}

/* message as a record (pointing into it; headers into *headers, grown as
 * needed and owned by the caller). */
static int message_record(const rd_kafka_message_t *message, sl_header **headers, size_t *capacity,
                          sl_record *record)
{
    rd_kafka_timestamp_type_t type;
    *record = (sl_record){
        .raw = { message->payload, message->payload ? message->len : 0 },
        .key = { message->key, message->key ? message->key_len : 0 },
        .timestamp_ms = rd_kafka_message_timestamp(message, &type),
        .partition = message->partition,
        .offset = message->offset,
    };
    rd_kafka_headers_t *list = NULL;
    if (rd_kafka_message_headers(message, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return SL_EXIT_OK;
    size_t n = rd_kafka_header_cnt(list);
    if (n > *capacity) {
        sl_header *grown = realloc(*headers, n * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "sluice topic consume: out of memory\n");
            return SL_EXIT_FAILURE;
        }
        *headers = grown;
        *capacity = n;
    }
    for (size_t h = 0; h < n; h++) {
        const char *name;
        const void *value;
        size_t size;
        if (rd_kafka_header_get_all(list, h, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
        (*headers)[h] = (sl_header){ { name, strlen(name) }, { value, value ? size : 0 } };
        record->n_headers = h + 1;
    }
    record->headers = *headers;
    return SL_EXIT_OK;
}

/* Commits next[p] (the offset after the last printed record) for the
 * partitions something was printed from. */
static int commit_printed(rd_kafka_t *client, const sl_topic_args *args, const int64_t *next, int32_t n_partitions)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(n_partitions);
    for (int32_t p = 0; p < n_partitions; p++)
        if (next[p] >= 0) rd_kafka_topic_partition_list_add(offsets, args->name, p)->offset = next[p];
    rd_kafka_resp_err_t error = offsets->cnt ? rd_kafka_commit(client, offsets, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(offsets);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_EXIT_OK;
    char what[400];
    snprintf(what, sizeof what, "committing the offsets of group '%s'", args->group);
    return fail(args->kafka, what, rd_kafka_err2str(error));
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

/* found[p] = the first offset of partition p with a timestamp >= ms (-1 = none). */
static int offsets_for_time(rd_kafka_t *client, const sl_topic_args *args, int32_t n_partitions, int64_t *found)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n_partitions);
    for (int32_t p = 0; p < n_partitions; p++) {
        found[p] = -1;
        if (args->partition < 0 || p == args->partition)
            rd_kafka_topic_partition_list_add(list, args->name, p)->offset = args->offset.value;
    }
    rd_kafka_resp_err_t error = rd_kafka_offsets_for_times(client, list, KAFKA_CLI_TIMEOUT_MS);
    for (int i = 0; i < list->cnt && error == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        const rd_kafka_topic_partition_t *entry = &list->elems[i];
        if (entry->err != RD_KAFKA_RESP_ERR_NO_ERROR) error = entry->err;
        else if (entry->partition >= 0 && entry->partition < n_partitions) found[entry->partition] = entry->offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_EXIT_OK;
    char what[400];
    snprintf(what, sizeof what, "offsets of topic '%s' at timestamp %" PRId64, args->name, args->offset.value);
    return fail(args->kafka, what, rd_kafka_err2str(error));
}

static int kafka_consume(kafka_client *kafka, const sl_topic_args *args)
{
    rd_kafka_t *client = kafka->handle;
    const char *name = args->name;
    int32_t n_partitions = 0;
    int64_t *low = NULL, *high = NULL, *committed = NULL, *next = NULL;
    bool *is_done = NULL;
    sl_header *headers = NULL;
    size_t header_capacity = 0;
    rd_kafka_topic_partition_list_t *assignment = NULL;
    sl_buffer out = SL_BUFFER_INIT;
    int code = topic_offsets(client, args->kafka, name, &n_partitions, &low, &high);
    if (code) goto done;
    if (args->partition >= 0 && (code = sl_topic_check_partition("consume", name, args->partition, n_partitions)))
        goto done;
    code = SL_EXIT_FAILURE;
    committed = calloc((size_t)n_partitions, sizeof *committed);
    next = calloc((size_t)n_partitions, sizeof *next);
    is_done = calloc((size_t)n_partitions, sizeof *is_done);
    assignment = rd_kafka_topic_partition_list_new(n_partitions);
    if (!committed || !next || !is_done) goto done;
    for (int32_t p = 0; p < n_partitions; p++) committed[p] = next[p] = -1;
    /* A whole-topic read as a group joins it (the broker's committed offsets
     * and partition share); a -p or -o read is assigned. */
    bool is_member = args->group && args->partition < 0 && args->offset.kind == SL_OFFSET_DEFAULT;
    if (args->group && !is_member &&
        (code = group_offsets(client, args->kafka, args->group, name, n_partitions, committed)))
        goto done;
    if (args->offset.kind == SL_OFFSET_TIMESTAMP && (code = offsets_for_time(client, args, n_partitions, committed)))
        goto done;
    int32_t n_left = 0;
    for (int32_t p = 0; p < n_partitions; p++) {
        is_done[p] = !is_member;
        if (is_member || (args->partition >= 0 && p != args->partition)) continue;
        int64_t start;
        if ((code = sl_topic_consume_start(&args->offset, name, p, low[p], high[p], committed[p], &start))) goto done;
        rd_kafka_topic_partition_list_add(assignment, name, p)->offset = start;
        is_done[p] = start >= high[p] && !args->is_follow;
        n_left += !is_done[p];
    }
    if (is_member) rd_kafka_topic_partition_list_add(assignment, name, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t error = is_member ? rd_kafka_subscribe(client, assignment) : rd_kafka_assign(client, assignment);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        code = fail(args->kafka, is_member ? "subscribing" : "assigning partitions", rd_kafka_err2str(error));
        goto done;
    }
    sl_topic_signals signals;
    sl_topic_signals_install(&signals);
    int64_t printed = 0;
    code = SL_EXIT_OK;
    while (code == SL_EXIT_OK && !sl_topic_stop_requested() && !atomic_load(&kafka->who.is_refused) &&
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
            code = fail(args->kafka, "consuming", rd_kafka_message_errstr(message));
        } else if (is_ours && (args->is_follow || message->offset < high[p])) {
            sl_record record;
            code = message_record(message, &headers, &header_capacity, &record);
            if (code == SL_EXIT_OK) code = sl_topic_write_record(args->format, name, &record, &out);
            next[p] = message->offset + 1;
            printed++;
            if (!args->is_follow && next[p] >= high[p]) {
                is_done[p] = true;
                n_left--;
            }
        }
        rd_kafka_message_destroy(message);
    }
    sl_topic_signals_restore(&signals);
    if (atomic_load(&kafka->who.is_refused)) code = SL_EXIT_FAILURE;
    if (fflush(stdout) != 0 && code == SL_EXIT_OK) {
        fprintf(stderr, "sluice topic consume: writing to stdout failed\n");
        code = SL_EXIT_FAILURE;
    }
    if (code == SL_EXIT_OK && args->group) code = commit_printed(client, args, next, n_partitions);
done:
    if (assignment) rd_kafka_topic_partition_list_destroy(assignment);
    sl_buffer_free(&out);
    free(headers);
    free(is_done);
    free(next);
    free(committed);
    free(low);
    free(high);
    return code;
}

int sl_topic_kafka_consume(const sl_topic_args *args)
{
    kafka_client client;
    int code = client_open(&client, args, false);
    if (code == SL_EXIT_OK) code = kafka_consume(&client, args);
    return client_close(&client, code);
}
