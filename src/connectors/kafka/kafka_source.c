/* kafka_source.c — the `kafka` source: a consumer group member reading one
 * or more Kafka topics through librdkafka.
 *
 * Offsets are committed only by commit()/persist(), never ahead of the
 * sinks: enable.auto.commit and enable.auto.offset.store are off, and
 * persist() commits synchronously the positions the runtime reported
 * durable. The group uses cooperative-sticky assignment; the rebalance
 * callback (run inside rd_kafka_consumer_poll, so on the source thread) uses
 * incremental assign/unassign under the COOPERATIVE protocol and plain
 * assign otherwise (when a user picks another strategy in `properties:`).
 *
 * Lanes. The runtime tracks acknowledgements per batch->partition, a small
 * int. Each time a (topic, partition) is assigned to this member it gets a
 * fresh lane id, and the lane is retired when the partition is revoked.
 * Batches still in flight when a partition moves away then commit into a
 * retired lane, which is ignored: this member never commits a partition it
 * no longer owns, nor (after it comes back) an offset from before the other
 * owner's commits. On revocation the lane's durable offset is committed
 * (nothing past it) and its staged messages are dropped: the new owner
 * re-reads from the last commit, at-least-once. Records keep their true
 * Kafka partition and offset (what dead letters and messages report); only
 * batch->partition is the lane.
 *
 * Staging. read() polls messages into per-lane rings holding at most about
 * two batches' worth (records and bytes) in all, then emits one batch of
 * one lane in offset order, visiting lanes in turn. When staging is full it
 * stops polling until batches drain; librdkafka's own prefetch queue is
 * bounded by its queued.max.messages.kbytes (settable in `properties:`).
 *
 * Progress: the lag of the partitions assigned here, summed: each one's
 * high watermark as librdkafka last saw it in a fetch (no request) minus
 * the next offset to consume (or the commit, before the first message).
 *
 * Messages whose value is over max_record_bytes go to env->reject (stage
 * "source") instead of a batch. Their offset is committed with the lane's
 * next batch; when one is the last message of a partition, a restart reads
 * and rejects it again (at-least-once, for dead letters too).
 *
 * End of a bounded run. Like the embedded topic source, a Kafka source
 * ends (SL_EOF) once its topics are consumed while no pipeline of this run
 * still writes them, and it ends only when it has verified that: when
 * nothing is staged and not more often than every KAFKA_END_CHECK_MS,
 * read() asks env->topic_writers_done for every subscribed topic FIRST (a
 * writer that finishes after that has its records below the watermarks read
 * next), then asks the brokers for every partition of those topics (not
 * only the ones assigned here: a rebalance may have moved them, or this
 * member may have none) and the group's committed offset of each, and
 * compares it with the partition's watermarks. Every partition committed at
 * its high watermark (or holding nothing past the commit: below the low
 * watermark counts as the low watermark): SL_EOF. Anything it cannot ask or
 * that is not there yet (a broker down, a rebalance under way, a commit
 * still coming) means "not yet": it waits, saying every
 * KAFKA_END_NOTE_REPEAT_MS what it is waiting for; `--for` bounds the wait.
 * A member's own last commits come from persist(), so the run ends at most
 * a commit interval after its last batch is durable. A run without writers
 * of the topic (`--pipeline` on the reader alone) so drains the topic and
 * stops. It never ends by itself with --follow or with a regular expression
 * among its topics (more topics may match later); those end with --for or
 * SIGINT/SIGTERM. With `start: latest`, a partition the group never
 * committed counts as consumed (the group reads only what comes after it
 * joined). A partition ending in transaction markers (which librdkafka
 * never hands out) is committed up to the consumer's position once
 * everything consumed is acknowledged, so it reaches the high watermark
 * too (commit_past_markers).
 */
#include "connectors/kafka/kafka.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_common.h"
#include "core/clock.h"
#include "core/logger.h"

#define KAFKA_WARNING_REPEAT_MS 10000
#define KAFKA_END_CHECK_MS 200            /* how often read() looks for the end of a bounded run */
#define KAFKA_END_NOTE_REPEAT_MS 10000    /* how often it says what the end still waits for */
#define KAFKA_QUERY_TIMEOUT_MS 2000       /* metadata, watermark and committed-offset queries */
#define KAFKA_MISSING_TOPIC_MS 30000      /* a bounded run whose topic stays unknown this long fails */

typedef struct kafka_lane {
    char *topic;
    int32_t partition;
    bool is_assigned;
    bool is_dirty;                  /* commit_offset changed since the last commit */
    int64_t commit_offset;          /* next offset every sink has; -1 = none yet */
    int64_t next_offset;            /* last consumed offset + 1; -1 = nothing consumed yet */
    rd_kafka_message_t **staged;    /* ring of stage_limit messages, oldest at head */
    size_t head;
    size_t n_staged;
} kafka_lane;

typedef struct kafka_source {
    sl_kafka_identity identity;     /* first: librdkafka's opaque (kafka_common.h) */
    const sl_connector_env *env;
    char *brokers;
    char *group;
    rd_kafka_t *consumer;
    kafka_lane *lanes;
    size_t n_lanes;
    size_t lanes_capacity;
    size_t last_lane;               /* cache for lane_find */
    size_t next_lane;               /* where the next emit starts looking */
    size_t stage_limit;             /* messages staged in all, ~2 batches */
    size_t n_staged;
    size_t staged_bytes;
    size_t max_batch_bytes;
    size_t max_record_bytes;
    int poll_timeout_ms;
    bool is_closing;
    char **topics;                  /* subscribed names, for topic_writers_done */
    size_t n_topics;
    bool can_end;                   /* a bounded run may end at the topics' end */
    bool is_start_latest;           /* `start: latest`: uncommitted partitions count as consumed */
    int64_t last_end_check_ms;
    char end_note[256];             /* what the end of the run still waits for */
    int64_t end_note_ms;            /* when that was last said */
    bool is_topic_missing;          /* the last end check found a topic the brokers do not know */
    int64_t topic_missing_since_ms; /* since when, 0 = not missing */
    int callback_rc;                /* failure inside the rebalance callback */
    sl_error callback_error;
    char last_warning[256];
    int64_t last_warning_ms;
} kafka_source;

/* ---- lanes and staging ---- */

static void lane_drop_staged(kafka_source *source, kafka_lane *lane)
{
    size_t capacity = source->stage_limit;
    for (size_t i = 0; i < lane->n_staged; i++) {
        rd_kafka_message_t *message = lane->staged[(lane->head + i) % capacity];
        source->staged_bytes -= message->len + message->key_len;
        rd_kafka_message_destroy(message);
    }
    source->n_staged -= lane->n_staged;
    lane->n_staged = 0;
    lane->head = 0;
}

static kafka_lane *lane_find(kafka_source *source, const char *topic, int32_t partition)
{
    if (source->last_lane < source->n_lanes) {
        kafka_lane *lane = &source->lanes[source->last_lane];
        if (lane->is_assigned && lane->partition == partition && strcmp(lane->topic, topic) == 0) return lane;
    }
    for (size_t i = source->n_lanes; i-- > 0;) {
        kafka_lane *lane = &source->lanes[i];
        if (lane->is_assigned && lane->partition == partition && strcmp(lane->topic, topic) == 0) {
            source->last_lane = i;
            return lane;
        }
    }
    return NULL;
}

/* A new lane for a freshly assigned partition (see the header comment). */
static int lane_open(kafka_source *source, const char *topic, int32_t partition)
{
    if (lane_find(source, topic, partition)) return SL_OK;
    if (source->n_lanes == source->lanes_capacity) {
        size_t capacity = source->lanes_capacity ? source->lanes_capacity * 2 : 16;
        if (capacity > INT32_MAX) return SL_ETOOBIG;
        kafka_lane *lanes = realloc(source->lanes, capacity * sizeof *lanes);
        if (!lanes) return SL_ENOMEM;
        source->lanes = lanes;
        source->lanes_capacity = capacity;
    }
    char *name = strdup(topic);
    if (!name) return SL_ENOMEM;
    source->lanes[source->n_lanes++] = (kafka_lane){
        .topic = name, .partition = partition, .is_assigned = true, .commit_offset = -1, .next_offset = -1,
    };
    return SL_OK;
}

static void lane_retire(kafka_source *source, kafka_lane *lane)
{
    lane_drop_staged(source, lane);
    free(lane->staged);
    lane->staged = NULL;
    lane->is_assigned = false;
    lane->is_dirty = false;
}

/* Warns, but says the same thing at most every KAFKA_WARNING_REPEAT_MS. */
static void source_warn(kafka_source *source, const char *text)
{
    int64_t now = sl_clock_monotonic_ms();
    if (strcmp(text, source->last_warning) == 0 && now - source->last_warning_ms < KAFKA_WARNING_REPEAT_MS)
        return;
    snprintf(source->last_warning, sizeof source->last_warning, "%s", text);
    source->last_warning_ms = now;
    sl_warn("kafka", "%s: source: brokers '%s': %s", source->identity.pipeline, source->brokers, text);
}

/* ---- committing ---- */

/* Errors that stop the pipeline; others (rebalancing, coordinator moving,
 * timeouts) are retried at the next persist. */
static bool is_commit_error_permanent(rd_kafka_resp_err_t code)
{
    return code == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           code == RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE ||
           code == RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE ||
           code == RD_KAFKA_RESP_ERR_INVALID_GROUP_ID ||
           code == RD_KAFKA_RESP_ERR__FATAL;
}

/* Commits the dirty offsets of assigned lanes (only of those whose topic and
 * partition are in `only`, when given) synchronously. */
static int commit_lanes(kafka_source *source, const rd_kafka_topic_partition_list_t *only, sl_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    if (!list) return sl_error_set(err, SL_ENOMEM, "kafka source: out of memory");
    for (size_t i = 0; i < source->n_lanes; i++) {
        kafka_lane *lane = &source->lanes[i];
        if (!lane->is_assigned || !lane->is_dirty) continue;
        if (only && !rd_kafka_topic_partition_list_find(only, lane->topic, lane->partition)) continue;
        rd_kafka_topic_partition_list_add(list, lane->topic, lane->partition)->offset = lane->commit_offset;
    }
    int rc = SL_OK;
    if (list->cnt == 0) goto done;
    rd_kafka_resp_err_t code = rd_kafka_commit(source->consumer, list, 0);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        /* Per-partition results: a partition that failed stays dirty. */
        for (int i = 0; i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *item = &list->elems[i];
            kafka_lane *lane = lane_find(source, item->topic, item->partition);
            if (item->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (lane && lane->commit_offset == item->offset) lane->is_dirty = false;
                continue;
            }
            code = item->err;
        }
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET) goto done;
    }
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        rc = sl_kafka_check_fatal(source->consumer, source->brokers, "committing offsets", err);
        if (rc) goto done;
    }
    if (is_commit_error_permanent(code)) {
        rc = sl_error_set(err, SL_EIO, "kafka brokers '%s': group '%s': cannot commit offsets: %s",
                          source->brokers, source->group, rd_kafka_err2str(code));
        goto done;
    }
    char text[256];
    snprintf(text, sizeof text, "cannot commit offsets yet (will retry): %s", rd_kafka_err2str(code));
    source_warn(source, text);
done:
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

static void remember_callback_error(kafka_source *source, int code, const char *what, const char *detail)
{
    if (source->callback_rc) return;
    source->callback_rc = sl_error_set(&source->callback_error, code, "kafka brokers '%s': %s: %s",
                                       source->brokers, what, detail);
}

static void on_rebalance(rd_kafka_t *consumer, rd_kafka_resp_err_t code,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    kafka_source *source = opaque;
    bool is_cooperative = strcmp(rd_kafka_rebalance_protocol(consumer), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t assign_code = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < partitions->cnt; i++) {
            const rd_kafka_topic_partition_t *item = &partitions->elems[i];
            int rc = lane_open(source, item->topic, item->partition);
            if (rc) remember_callback_error(source, rc, "assigning partitions", sl_error_message(rc));
            sl_info("kafka", "%s: source: assigned %s [%" PRId32 "]", source->identity.pipeline, item->topic,
                    item->partition);
        }
        if (is_cooperative) error = rd_kafka_incremental_assign(consumer, partitions);
        else assign_code = rd_kafka_assign(consumer, partitions);
    } else if (code == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        if (!source->is_closing && !rd_kafka_assignment_lost(consumer)) {
            sl_error commit_error;
            sl_error_clear(&commit_error);
            if (commit_lanes(source, partitions, &commit_error))
                source_warn(source, commit_error.message);
        }
        for (int i = 0; i < partitions->cnt; i++) {
            const rd_kafka_topic_partition_t *item = &partitions->elems[i];
            kafka_lane *lane = lane_find(source, item->topic, item->partition);
            if (lane) lane_retire(source, lane);
            sl_info("kafka", "%s: source: revoked %s [%" PRId32 "]", source->identity.pipeline, item->topic,
                    item->partition);
        }
        if (is_cooperative) error = rd_kafka_incremental_unassign(consumer, partitions);
        else assign_code = rd_kafka_assign(consumer, NULL);
    } else {
        remember_callback_error(source, SL_EIO, "rebalance failed", rd_kafka_err2str(code));
        for (size_t i = 0; i < source->n_lanes; i++)
            if (source->lanes[i].is_assigned) lane_retire(source, &source->lanes[i]);
        assign_code = rd_kafka_assign(consumer, NULL);
    }
    if (error) {
        remember_callback_error(source, SL_EIO, "incremental rebalance", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    if (assign_code != RD_KAFKA_RESP_ERR_NO_ERROR)
        remember_callback_error(source, SL_EIO, "rebalance", rd_kafka_err2str(assign_code));
}

/* ---- open / close ---- */

static void kafka_source_close(void *state)
{
    kafka_source *source = state;
    if (!source) return;
    source->is_closing = true;
    /* A stop that came before the end was verified: say what was missing. */
    if (source->can_end && source->end_note[0])
        sl_warn("kafka", "%s: source: stopped before group '%s' was verified to have consumed its topics: %s",
                source->identity.pipeline, source->group, source->end_note);
    if (source->consumer) {
        rd_kafka_resp_err_t code = rd_kafka_consumer_close(source->consumer);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
            sl_warn("kafka", "%s: source: brokers '%s': leaving the group: %s", source->identity.pipeline,
                    source->brokers, rd_kafka_err2str(code));
    }
    for (size_t i = 0; i < source->n_lanes; i++) {
        lane_drop_staged(source, &source->lanes[i]);
        free(source->lanes[i].staged);
        free(source->lanes[i].topic);
    }
    if (source->consumer) rd_kafka_destroy(source->consumer);
    free(source->lanes);
    for (size_t i = 0; i < source->n_topics; i++) free(source->topics[i]);
    free(source->topics);
    free(source->brokers);
    free(source->group);
    free(source);
}

static int subscribe(kafka_source *source, const sl_kafka_source_conf *conf, sl_error *err)
{
    size_t n = conf->topic ? 1 : conf->topics.n_items;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    if (!list) return sl_error_set(err, SL_ENOMEM, "kafka source: out of memory");
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, conf->topic ? conf->topic : conf->topics.items[i],
                                          RD_KAFKA_PARTITION_UA);
    int rc = SL_OK;
    rd_kafka_resp_err_t code = rd_kafka_subscribe(source->consumer, list);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': cannot subscribe to %s%s: %s", source->brokers,
                          conf->topic ? conf->topic : conf->topics.items[0], n > 1 ? ", ..." : "",
                          rd_kafka_err2str(code));
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

/* Remembers the subscribed topics and whether the run may end at their end
 * (see the header comment). */
static int prepare_end(kafka_source *source, const sl_kafka_source_conf *conf)
{
    const sl_connector_env *env = source->env;
    size_t n = conf->topic ? 1 : conf->topics.n_items;
    source->topics = calloc(n, sizeof *source->topics);
    if (!source->topics) return SL_ENOMEM;
    bool has_regex = false;
    for (size_t i = 0; i < n; i++) {
        const char *name = conf->topic ? conf->topic : conf->topics.items[i];
        has_regex = has_regex || name[0] == '^';
        source->topics[i] = strdup(name);
        if (!source->topics[i]) return SL_ENOMEM;
        source->n_topics = i + 1;
    }
    /* Like the embedded topic source, `start: latest` ends too once it has
     * caught up; `--follow` keeps any source running. */
    source->can_end = !env->follow && env->topic_writers_done && !has_regex;
    source->is_start_latest = conf->start && strcmp(conf->start, "latest") == 0;
    return SL_OK;
}

static int kafka_source_open(const void *conf_ptr, const sl_connector_env *env, void **state, sl_error *err)
{
    const sl_kafka_source_conf *conf = conf_ptr;
    rd_kafka_conf_t *kconf = NULL;
    kafka_source *source = NULL;
    int rc = sl_kafka_source_config(conf, env, &kconf, err);
    if (rc) goto fail;
    rc = SL_ENOMEM;
    source = calloc(1, sizeof *source);
    if (!source) goto fail;
    source->env = env;
    source->brokers = strdup(conf->brokers);
    source->group = strdup(conf->group ? conf->group : env->pipeline);
    if (!source->brokers || !source->group || prepare_end(source, conf)) goto fail;
    sl_kafka_identity_init(&source->identity, source->brokers, "source", env->pipeline);
    source->max_batch_bytes = (size_t)conf->max_batch_bytes;
    source->max_record_bytes = (size_t)conf->max_record_bytes;
    source->poll_timeout_ms = (int)conf->poll_timeout_ms;
    rd_kafka_conf_set_opaque(kconf, source);
    sl_kafka_conf_set_logging(kconf);
    rd_kafka_conf_set_rebalance_cb(kconf, on_rebalance);
    char message[512];
    source->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, message, sizeof message);
    if (!source->consumer) {
        rc = sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': cannot create a consumer: %s", conf->brokers,
                          message);
        goto fail;
    }
    kconf = NULL;  /* the consumer owns it now */
    rd_kafka_poll_set_consumer(source->consumer);
    rc = subscribe(source, conf, err);
    if (rc) goto fail;
    *state = source;
    return SL_OK;
fail:
    if (kconf) rd_kafka_conf_destroy(kconf);
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "kafka source: out of memory");
    kafka_source_close(source);
    return rc;
}

/* ---- reading ---- */

static int stage_message(kafka_source *source, rd_kafka_message_t *message)
{
    kafka_lane *lane = lane_find(source, rd_kafka_topic_name(message->rkt), message->partition);
    if (!lane) {  /* from a partition revoked meanwhile */
        rd_kafka_message_destroy(message);
        return SL_OK;
    }
    if (!lane->staged) {
        lane->staged = malloc(source->stage_limit * sizeof *lane->staged);
        if (!lane->staged) {
            rd_kafka_message_destroy(message);
            return SL_ENOMEM;
        }
    }
    lane->next_offset = message->offset + 1;
    lane->staged[(lane->head + lane->n_staged) % source->stage_limit] = message;
    lane->n_staged++;
    source->n_staged++;
    source->staged_bytes += message->len + message->key_len;
    return SL_OK;
}

/* Polls until staging holds about two batches or nothing more arrives. */
static int stage_messages(kafka_source *source, sl_error *err)
{
    int timeout_ms = source->n_staged == 0 ? source->poll_timeout_ms : 0;
    while (source->n_staged < source->stage_limit && source->staged_bytes < 2 * source->max_batch_bytes) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(source->consumer, timeout_ms);
        timeout_ms = 0;
        if (!message) return SL_OK;
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int rc = stage_message(source, message);
            if (rc) return sl_error_set(err, rc, "kafka source: out of memory staging messages");
            continue;
        }
        rd_kafka_resp_err_t code = message->err;
        char text[256];
        if (message->rkt)
            snprintf(text, sizeof text, "topic '%s' [%" PRId32 "]: %s", rd_kafka_topic_name(message->rkt),
                     message->partition, rd_kafka_message_errstr(message));
        else
            snprintf(text, sizeof text, "%s", rd_kafka_message_errstr(message));
        rd_kafka_message_destroy(message);
        if (code == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        if (code == RD_KAFKA_RESP_ERR__FATAL) {
            int rc = sl_kafka_check_fatal(source->consumer, source->brokers, "consuming", err);
            return rc ? rc : sl_error_set(err, SL_EIO, "kafka brokers '%s': %s", source->brokers, text);
        }
        source_warn(source, text);
    }
    return SL_OK;
}

static int copy_message(sl_batch *batch, sl_str topic, const rd_kafka_message_t *message)
{
    sl_record *record = sl_batch_add(batch);
    if (!record) return SL_ENOMEM;
    char *raw = sl_arena_strndup(batch->arena, message->payload, message->payload ? message->len : 0);
    if (!raw) return SL_ENOMEM;
    record->raw = (sl_str){ raw, message->payload ? message->len : 0 };
    if (message->key) { /* an empty key stays a key, distinct from none */
        char *key = sl_arena_strndup(batch->arena, message->key, message->key_len);
        if (!key) return SL_ENOMEM;
        record->key = (sl_str){ key, message->key_len };
    }
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
        size_t n = rd_kafka_header_cnt(headers);
        record->headers = sl_arena_alloc(batch->arena, n * sizeof *record->headers);
        if (n && !record->headers) return SL_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            const char *name;
            const void *value;
            size_t size;
            if (rd_kafka_header_get_all(headers, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
            size_t name_len = strlen(name);
            char *name_copy = sl_arena_strndup(batch->arena, name, name_len);
            char *value_copy = sl_arena_strndup(batch->arena, value, value ? size : 0);
            if (!name_copy || !value_copy) return SL_ENOMEM;
            record->headers[i] = (sl_header){ { name_copy, name_len }, { value_copy, value ? size : 0 } };
            record->n_headers = i + 1;
        }
    }
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    record->timestamp_ms = timestamp >= 0 ? timestamp : sl_clock_wall_ms();
    record->partition = message->partition;
    record->offset = message->offset;
    record->topic = topic;
    return SL_OK;
}

/* Sends a message over max_record_bytes to the dead-letter topic. */
static int reject_too_large(kafka_source *source, const rd_kafka_message_t *message)
{
    const sl_reject_handler *reject = &source->env->reject;
    char reason[256];
    snprintf(reason, sizeof reason, "kafka: topic '%s' [%" PRId32 "] offset %" PRId64
             ": value is %zu bytes, over max_record_bytes %zu", rd_kafka_topic_name(message->rkt),
             message->partition, (int64_t)message->offset, message->len, source->max_record_bytes);
    if (!reject->reject) {
        source_warn(source, reason);
        return SL_OK;
    }
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    sl_record record = {
        .raw = { message->payload, message->len },
        .key = { message->key, message->key ? message->key_len : 0 },
        .timestamp_ms = timestamp >= 0 ? timestamp : sl_clock_wall_ms(),
        .partition = message->partition,
        .offset = message->offset,
        .topic = sl_str_from(rd_kafka_topic_name(message->rkt)),
    };
    /* The dead letter keeps the message's headers too (borrowed from the
     * message, which outlives the call). */
    rd_kafka_headers_t *headers = NULL;
    sl_header *copies = NULL;
    if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers &&
        rd_kafka_header_cnt(headers) > 0) {
        size_t n = rd_kafka_header_cnt(headers);
        copies = calloc(n, sizeof *copies);
        if (!copies) return SL_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            const char *name;
            const void *value;
            size_t size;
            if (rd_kafka_header_get_all(headers, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
            copies[i] = (sl_header){ sl_str_from(name), { value, value ? size : 0 } };
            record.n_headers = i + 1;
        }
        record.headers = copies;
    }
    reject->reject(reject->context, &record, "source", reason);
    free(copies);
    return SL_OK;
}

/* Moves the staged messages of the next lane that has some into batch. */
static int emit_batch(kafka_source *source, sl_batch *batch, sl_error *err)
{
    size_t index = source->n_lanes;
    for (size_t i = 0; i < source->n_lanes; i++) {
        size_t candidate = (source->next_lane + i) % source->n_lanes;
        if (source->lanes[candidate].n_staged) {
            index = candidate;
            break;
        }
    }
    if (index == source->n_lanes) return SL_EAGAIN;
    kafka_lane *lane = &source->lanes[index];
    char *topic_copy = sl_arena_strndup(batch->arena, lane->topic, strlen(lane->topic));
    if (!topic_copy) return sl_error_set(err, SL_ENOMEM, "kafka source: out of memory");
    sl_str topic = { topic_copy, strlen(topic_copy) };
    size_t bytes = 0;
    int64_t last_offset = -1;
    while (lane->n_staged && !sl_batch_is_full(batch)) {
        rd_kafka_message_t *message = lane->staged[lane->head];
        size_t size = message->len + message->key_len;
        if (batch->n_records && bytes + size > source->max_batch_bytes) break;
        bool is_too_large = message->len > source->max_record_bytes;
        int rc = is_too_large ? reject_too_large(source, message) : copy_message(batch, topic, message);
        if (rc)
            return sl_error_set(err, rc, "kafka source: out of memory copying %s [%" PRId32 "] offset %" PRId64,
                                lane->topic, lane->partition, (int64_t)message->offset);
        last_offset = message->offset;
        if (!is_too_large) bytes += size;
        lane->head = (lane->head + 1) % source->stage_limit;
        lane->n_staged--;
        source->n_staged--;
        source->staged_bytes -= size;
        rd_kafka_message_destroy(message);
    }
    batch->partition = (int32_t)index;
    batch->end_offset = last_offset + 1;
    source->next_lane = index + 1;
    return SL_OK;
}

/* Remembers what the end of the run waits for; says it every
 * KAFKA_END_NOTE_REPEAT_MS. Returns false (not done), for the callers' tail. */
static bool end_not_yet(kafka_source *source, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(source->end_note, sizeof source->end_note, format, args);
    va_end(args);
    int64_t now = sl_clock_monotonic_ms();
    if (source->end_note_ms == 0) source->end_note_ms = now;  /* the first moments are normal */
    if (now - source->end_note_ms >= KAFKA_END_NOTE_REPEAT_MS) {
        source->end_note_ms = now;
        sl_warn("kafka", "%s: source: brokers '%s': the run ends once group '%s' has consumed its topics; "
                "waiting: %s", source->identity.pipeline, source->brokers, source->group, source->end_note);
    }
    return false;
}

/* Adds every partition of topic to list, as the brokers' metadata says. */
static bool add_topic_partitions(kafka_source *source, const char *topic, rd_kafka_topic_partition_list_t *list)
{
    rd_kafka_topic_t *handle = rd_kafka_topic_new(source->consumer, topic, NULL);
    if (!handle) return end_not_yet(source, "topic '%s': %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t code = rd_kafka_metadata(source->consumer, 0, handle, &metadata, KAFKA_QUERY_TIMEOUT_MS);
    rd_kafka_topic_destroy(handle);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
        return end_not_yet(source, "topic '%s': cannot read its partitions: %s", topic, rd_kafka_err2str(code));
    bool is_known = false;
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        metadata->topics[0].partition_cnt > 0) {
        is_known = true;
        for (int i = 0; i < metadata->topics[0].partition_cnt; i++)
            rd_kafka_topic_partition_list_add(list, topic, metadata->topics[0].partitions[i].id);
    } else {
        code = metadata->topic_cnt == 1 ? metadata->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    }
    rd_kafka_metadata_destroy(metadata);
    if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || code == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        source->is_topic_missing = true;
    if (!is_known)
        return end_not_yet(source, "topic '%s': %s", topic,
                           code ? rd_kafka_err2str(code) : "the brokers list no partitions");
    return true;
}

/* Whether the group has committed every partition of every subscribed
 * topic at its high watermark, as the brokers answer now (see the header
 * comment). */
static bool is_group_at_end(kafka_source *source)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    if (!list) return end_not_yet(source, "out of memory");
    source->is_topic_missing = false;
    bool is_done = false;
    for (size_t i = 0; i < source->n_topics; i++)
        if (!add_topic_partitions(source, source->topics[i], list)) goto done;
    rd_kafka_resp_err_t code = rd_kafka_committed(source->consumer, list, KAFKA_QUERY_TIMEOUT_MS);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
        end_not_yet(source, "cannot read the group's committed offsets: %s", rd_kafka_err2str(code));
        goto done;
    }
    for (int i = 0; i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *item = &list->elems[i];
        if (item->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            end_not_yet(source, "topic '%s' [%" PRId32 "]: cannot read the committed offset: %s", item->topic,
                        item->partition, rd_kafka_err2str(item->err));
            goto done;
        }
        if (item->offset < 0 && source->is_start_latest) continue;
        int64_t low = 0, high = 0;
        code = rd_kafka_query_watermark_offsets(source->consumer, item->topic, item->partition, &low, &high,
                                                KAFKA_QUERY_TIMEOUT_MS);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            end_not_yet(source, "topic '%s' [%" PRId32 "]: cannot read its end: %s", item->topic, item->partition,
                        rd_kafka_err2str(code));
            goto done;
        }
        int64_t position = item->offset >= low ? item->offset : low;  /* none, or deleted by retention */
        if (position < high) {
            end_not_yet(source, "topic '%s' [%" PRId32 "]: committed %" PRId64 " of %" PRId64, item->topic,
                        item->partition, item->offset >= 0 ? item->offset : low, high);
            goto done;
        }
    }
    is_done = true;
done:
    rd_kafka_topic_partition_list_destroy(list);
    return is_done;
}

/* Moves the commit of every assigned lane with nothing staged or unacked
 * up to the consumer's position, when that is further: past what was
 * consumed lie only records librdkafka does not hand out (the transaction
 * markers a transactional producer leaves at a partition's end), and
 * without this the group would stand one short of the high watermark for
 * ever. Commits at once: no more batches are coming to trigger persist(). */
static int commit_past_markers(kafka_source *source, sl_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    if (!list) return sl_error_set(err, SL_ENOMEM, "kafka source: out of memory");
    for (size_t i = 0; i < source->n_lanes; i++) {
        const kafka_lane *lane = &source->lanes[i];
        if (lane->is_assigned && lane->n_staged == 0 && lane->next_offset >= 0 &&
            lane->commit_offset == lane->next_offset)
            rd_kafka_topic_partition_list_add(list, lane->topic, lane->partition);
    }
    bool is_moved = false;
    if (list->cnt > 0 && rd_kafka_position(source->consumer, list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *item = &list->elems[i];
            kafka_lane *lane = lane_find(source, item->topic, item->partition);
            if (!lane || item->err != RD_KAFKA_RESP_ERR_NO_ERROR || item->offset <= lane->commit_offset) continue;
            lane->commit_offset = item->offset;
            lane->next_offset = item->offset;
            lane->is_dirty = true;
            is_moved = true;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return is_moved ? commit_lanes(source, NULL, err) : SL_OK;
}

/* Whether a bounded run ends here (see the header comment); called when
 * nothing is staged. */
static bool is_run_done(kafka_source *source)
{
    if (!source->can_end) return false;
    int64_t now = sl_clock_monotonic_ms();
    if (now - source->last_end_check_ms < KAFKA_END_CHECK_MS) return false;
    source->last_end_check_ms = now;
    const sl_connector_env *env = source->env;
    for (size_t i = 0; i < source->n_topics; i++)
        if (!env->topic_writers_done(env->topic_context, source->topics[i])) {
            source->end_note_ms = 0;
            return end_not_yet(source, "pipelines of this run still write topic '%s'", source->topics[i]);
        }
    sl_error err;
    sl_error_clear(&err);
    if (commit_past_markers(source, &err)) return end_not_yet(source, "%s", err.message);
    return is_group_at_end(source);
}

static int kafka_source_read(void *state, sl_batch *batch, sl_error *err)
{
    kafka_source *source = state;
    if (source->env->stopping && atomic_load(source->env->stopping)) return SL_EOF;
    if (source->stage_limit == 0) source->stage_limit = batch->capacity >= 1 ? 2 * batch->capacity : 2;
    int rc = stage_messages(source, err);
    if (rc == SL_OK) rc = sl_kafka_check_refused(&source->identity, err);
    if (rc == SL_OK && source->callback_rc) {
        rc = source->callback_rc;
        if (err) *err = source->callback_error;
        source->callback_rc = SL_OK;
    }
    if (rc) return rc;
    rc = emit_batch(source, batch, err);
    if (rc != SL_EAGAIN) return rc;
    if (is_run_done(source)) {
        source->end_note[0] = '\0';
        return SL_EOF;
    }
    /* Nothing writes a topic that does not exist, in a run that would end
     * once it is consumed: waiting for it would never end. */
    if (!source->is_topic_missing) {
        source->topic_missing_since_ms = 0;
    } else if (source->topic_missing_since_ms == 0) {
        source->topic_missing_since_ms = sl_clock_monotonic_ms();
    } else if (sl_clock_monotonic_ms() - source->topic_missing_since_ms >= KAFKA_MISSING_TOPIC_MS) {
        return sl_error_set(err, SL_ENOTFOUND,
                            "kafka brokers '%s': %s for %d s, and no pipeline of this run writes it: check the "
                            "topic name, create the topic, or run with --follow to wait for it",
                            source->brokers, source->end_note, KAFKA_MISSING_TOPIC_MS / 1000);
    }
    return SL_EAGAIN;
}

static int kafka_source_commit(void *state, int32_t lane_id, int64_t next_offset, sl_error *err)
{
    kafka_source *source = state;
    if (lane_id < 0 || (size_t)lane_id >= source->n_lanes)
        return sl_error_set(err, SL_EINVAL, "kafka source: no partition lane %" PRId32, lane_id);
    kafka_lane *lane = &source->lanes[lane_id];
    if (!lane->is_assigned) return SL_OK;  /* revoked: the new owner commits it */
    if (next_offset > lane->commit_offset) {
        lane->commit_offset = next_offset;
        lane->is_dirty = true;
    }
    return SL_OK;
}

static int kafka_source_persist(void *state, sl_error *err)
{
    return commit_lanes(state, NULL, err);
}

/* Before the run: the consumer's configuration as librdkafka takes it
 * (exactly one of topic and topics, properties it knows). */
static void kafka_source_check(const void *conf_ptr, const sl_connector_check *check)
{
    const sl_kafka_source_conf *conf = conf_ptr;
    sl_connector_env env = { .pipeline = check->pipeline };
    rd_kafka_conf_t *kconf = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_kafka_source_config(conf, &env, &kconf, &err))
        sl_diag_add_error_at(check->diags, sl_connector_check_node(check, NULL), check->where, &err);
    if (kconf) rd_kafka_conf_destroy(kconf);
}

static bool kafka_source_ends_by_itself(void *state)
{
    const kafka_source *source = state;
    return source->can_end;
}

static void kafka_source_progress(void *state, sl_source_progress *progress)
{
    kafka_source *source = state;
    int64_t lag = 0;
    bool is_known = false;
    for (size_t i = 0; i < source->n_lanes; i++) {
        const kafka_lane *lane = &source->lanes[i];
        if (!lane->is_assigned) continue;
        int64_t position = lane->next_offset >= 0 ? lane->next_offset : lane->commit_offset;
        int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
        if (position < 0 ||
            rd_kafka_get_watermark_offsets(source->consumer, lane->topic, lane->partition, &low, &high) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0)
            continue;
        is_known = true;
        if (high > position) lag += high - position;
    }
    if (is_known) progress->lag = lag;
}

/* The assigned partitions, their ends the high watermarks librdkafka last
 * saw in a fetch (no request). */
static size_t kafka_source_positions(void *state, sl_source_position *out, size_t max)
{
    kafka_source *source = state;
    size_t n = 0;
    for (size_t i = 0; i < source->n_lanes; i++) {
        const kafka_lane *lane = &source->lanes[i];
        if (!lane->is_assigned) continue;
        if (n < max) {
            int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
            if (rd_kafka_get_watermark_offsets(source->consumer, lane->topic, lane->partition, &low, &high) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
                high = -1;
            out[n] = (sl_source_position){ .topic = lane->topic, .partition = lane->partition,
                                           .position = lane->next_offset >= 0 ? lane->next_offset : lane->commit_offset,
                                           .committed = lane->commit_offset, .end_offset = high };
        }
        n++;
    }
    return n;
}

const sl_source_ops sl_kafka_source = {
    .name = "kafka",
    .description = "records of Kafka topics, read as a consumer group (librdkafka)",
    .options = sl_kafka_source_options,
    .conf_size = sizeof(sl_kafka_source_conf),
    .open = kafka_source_open,
    .read = kafka_source_read,
    .commit = kafka_source_commit,
    .persist = kafka_source_persist,
    .close = kafka_source_close,
    .ends_by_itself = kafka_source_ends_by_itself,
    .progress = kafka_source_progress,
    .positions = kafka_source_positions,
    .check = kafka_source_check,
    .produces_raw = true,
};
