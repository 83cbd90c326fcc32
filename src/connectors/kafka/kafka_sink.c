/* kafka_sink.c — the `kafka` sink: produces each batch to one Kafka topic
 * through librdkafka and returns only when every record is delivered or
 * dead-lettered.
 *
 * The producer is idempotent when acks=all, so librdkafka's own retries
 * never duplicate or reorder a partition's records within a session. Keys
 * are partitioned with murmur2 (partitioner=murmur2_random: Java's default,
 * so keys land where Java producers put them, as in the `topic` connector);
 * records without a key are spread at random.
 *
 * One write (of one batch, or of several with write_many: one round trip
 * for all): every record is produced with an id as its opaque (ids grow
 * across writes; the current write owns ids [write_base, write_base + n)),
 * then the sink flushes until a delivery report arrived for each. A late
 * report from an abandoned write carries an id outside the current range
 * and is ignored, so no pointer into freed tracking memory is ever kept.
 * Then, per record: delivered → done; a refusal of the record (too large,
 * invalid) → env->reject; a refusal of the topic (missing with the
 * brokers' auto-create off, not authorised, invalid name) → a permanent
 * error that ends the pipeline, since every record would meet it; any
 * error librdkafka gave up on that a retry may fix (message timed out,
 * broker gone) → the whole write fails with a transient SL_EIO and the
 * runtime retries the batch (at-least-once). After a fatal producer error
 * (idempotence broken) the producer is rebuilt on the next write, so that
 * failure is transient too.
 *
 * With `partitions: N` (N > 0) open() makes sure the topic exists first:
 * it asks the brokers to create it with N partitions and the brokers'
 * default replication factor (Admin API on the producer's own handle,
 * before the producer looks the topic up, which could auto-create it with
 * the broker's default partition count). A topic that already exists is
 * left as it is. The sink reports its topic through topic_name, so a
 * `sluice run` counts it as a writer of that topic (kafka sources reading
 * the topic wait for it to finish before they end).
 */
#include "connectors/kafka/kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"

#define KAFKA_STOP_GRACE_MS 10000   /* how long a stopping run still waits for reports */
#define KAFKA_CLOSE_FLUSH_MS 10000
#define KAFKA_CREATE_TOPIC_TIMEOUT_MS 15000

typedef struct kafka_delivery {
    rd_kafka_resp_err_t code;
    bool is_done;
} kafka_delivery;

typedef struct kafka_sink {
    sl_kafka_identity identity;     /* first: librdkafka's opaque (kafka_common.h) */
    const sl_connector_env *env;
    char *brokers;
    char *topic_name;
    int32_t partitions;             /* create the topic with these when absent; 0 = don't */
    bool is_topic_ready;            /* created or found by the first producer */
    rd_kafka_conf_t *template;      /* what each producer is built from */
    rd_kafka_t *producer;           /* NULL after a fatal error until rebuilt */
    rd_kafka_topic_t *topic;
    sl_kafka_key_path key_path;
    kafka_delivery *deliveries;     /* one per record of the current write */
    size_t deliveries_capacity;
    uint64_t next_id;               /* id of the next message produced */
    uint64_t write_base;            /* id of the current write's first message */
    size_t n_write;
    size_t n_pending;               /* produced, report not yet seen */
    sl_buffer key_scratch;
    sl_buffer value_scratch;
    int64_t stop_deadline_ms;       /* set once the run is stopping */
} kafka_sink;

/* ---- producer life cycle ---- */

static void on_delivery(rd_kafka_t *producer, const rd_kafka_message_t *message, void *opaque)
{
    kafka_sink *sink = opaque;
    uint64_t id = (uint64_t)(uintptr_t)message->_private;
    if (id < sink->write_base || id - sink->write_base >= sink->n_write) return;  /* abandoned write */
    kafka_delivery *delivery = &sink->deliveries[id - sink->write_base];
    if (delivery->is_done) return;
    delivery->is_done = true;
    delivery->code = message->err;
    sink->n_pending--;
}

static void producer_stop(kafka_sink *sink, int flush_ms)
{
    if (!sink->producer) return;
    if (flush_ms > 0 && rd_kafka_flush(sink->producer, flush_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        sl_warn("kafka", "%s: sink: brokers '%s': topic '%s': %d messages undelivered at close",
                sink->identity.pipeline, sink->brokers, sink->topic_name, rd_kafka_outq_len(sink->producer));
    rd_kafka_purge(sink->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (sink->topic) rd_kafka_topic_destroy(sink->topic);
    rd_kafka_destroy(sink->producer);
    sink->topic = NULL;
    sink->producer = NULL;
}

/* The result of a CreateTopics request for our topic: SL_OK when created or
 * already there; the broker's refusal otherwise. */
static int create_topic_result(kafka_sink *sink, rd_kafka_event_t *event, sl_error *err)
{
    if (!event)
        return sl_error_set(err, SL_EIO, "kafka brokers '%s': creating topic '%s': no answer within %d ms",
                            sink->brokers, sink->topic_name, KAFKA_CREATE_TOPIC_TIMEOUT_MS);
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return sl_error_set(err, SL_EIO, "kafka brokers '%s': creating topic '%s': %s", sink->brokers,
                            sink->topic_name, rd_kafka_event_error_string(event));
    const rd_kafka_CreateTopics_result_t *result = rd_kafka_event_CreateTopics_result(event);
    size_t n = 0;
    const rd_kafka_topic_result_t **topics = result ? rd_kafka_CreateTopics_result_topics(result, &n) : NULL;
    if (n != 1)
        return sl_error_set(err, SL_EIO, "kafka brokers '%s': creating topic '%s': the brokers sent no result",
                            sink->brokers, sink->topic_name);
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(topics[0]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return SL_OK;
    const char *message = rd_kafka_topic_result_error_string(topics[0]);
    bool is_config = code == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
                     code == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ||
                     code == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION || code == RD_KAFKA_RESP_ERR_POLICY_VIOLATION ||
                     code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                     code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED;
    return sl_error_set(err, is_config ? SL_ECONFIG : SL_EIO,
                        "kafka brokers '%s': cannot create topic '%s' with %" PRId32 " partitions: %s: %s",
                        sink->brokers, sink->topic_name, sink->partitions, rd_kafka_err2name(code),
                        message && message[0] ? message : rd_kafka_err2str(code));
}

/* Creates the topic with sink->partitions partitions unless it exists. */
static int create_topic(kafka_sink *sink, sl_error *err)
{
    char message[512];
    rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(sink->topic_name, sink->partitions, -1, message,
                                                       sizeof message);
    if (!topic)
        return sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': topic '%s': %s", sink->brokers, sink->topic_name,
                            message);
    int rc = SL_ENOMEM;
    rd_kafka_event_t *event = NULL;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(sink->producer);
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(sink->producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (!queue || !options) {
        sl_error_set(err, rc, "kafka sink: out of memory");
        goto done;
    }
    if (rd_kafka_AdminOptions_set_request_timeout(options, KAFKA_CREATE_TOPIC_TIMEOUT_MS, message, sizeof message) ||
        rd_kafka_AdminOptions_set_operation_timeout(options, KAFKA_CREATE_TOPIC_TIMEOUT_MS, message,
                                                    sizeof message)) {
        rc = sl_error_set(err, SL_EINVAL, "kafka sink: %s", message);
        goto done;
    }
    rd_kafka_CreateTopics(sink->producer, &topic, 1, options, queue);
    event = rd_kafka_queue_poll(queue, KAFKA_CREATE_TOPIC_TIMEOUT_MS + 5000);
    rc = create_topic_result(sink, event, err);
done:
    if (event) rd_kafka_event_destroy(event);
    if (options) rd_kafka_AdminOptions_destroy(options);
    if (queue) rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    return rc;
}

static int producer_start(kafka_sink *sink, sl_error *err)
{
    rd_kafka_conf_t *kconf = rd_kafka_conf_dup(sink->template);
    if (!kconf) return sl_error_set(err, SL_ENOMEM, "kafka sink: out of memory");
    char message[512];
    sink->producer = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, message, sizeof message);
    if (!sink->producer) {
        rd_kafka_conf_destroy(kconf);
        return sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': cannot create a producer: %s", sink->brokers,
                            message);
    }
    if (!sink->is_topic_ready && sink->partitions > 0) {
        int rc = create_topic(sink, err);
        if (rc) {
            producer_stop(sink, 0);
            return rc;
        }
    }
    sink->is_topic_ready = true;
    sink->topic = rd_kafka_topic_new(sink->producer, sink->topic_name, NULL);
    if (!sink->topic) {
        rd_kafka_resp_err_t code = rd_kafka_last_error();
        producer_stop(sink, 0);
        return sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': topic '%s': %s", sink->brokers,
                            sink->topic_name, rd_kafka_err2str(code));
    }
    return SL_OK;
}

static void kafka_sink_close(void *state)
{
    kafka_sink *sink = state;
    if (!sink) return;
    producer_stop(sink, KAFKA_CLOSE_FLUSH_MS);
    if (sink->template) rd_kafka_conf_destroy(sink->template);
    sl_kafka_key_path_free(&sink->key_path);
    sl_buffer_free(&sink->key_scratch);
    sl_buffer_free(&sink->value_scratch);
    free(sink->deliveries);
    free(sink->brokers);
    free(sink->topic_name);
    free(sink);
}

static int kafka_sink_open(const void *conf_ptr, const sl_connector_env *env, void **state, sl_error *err)
{
    const sl_kafka_sink_conf *conf = conf_ptr;
    kafka_sink *sink = NULL;
    rd_kafka_conf_t *kconf = NULL;
    int rc = sl_kafka_sink_config(conf, &kconf, err);
    if (rc) goto fail;
    rc = SL_ENOMEM;
    sink = calloc(1, sizeof *sink);
    if (!sink) goto fail;
    sink->env = env;
    sink->next_id = 1;
    sink->stop_deadline_ms = -1;
    sink->brokers = strdup(conf->brokers);
    sink->topic_name = strdup(conf->topic);
    sink->partitions = (int32_t)conf->partitions;  /* bounded by sl_kafka_sink_config */
    if (!sink->brokers || !sink->topic_name) goto fail;
    sl_kafka_identity_init(&sink->identity, sink->brokers, "sink", env->pipeline);
    rc = sl_kafka_key_path_parse(conf->key, &sink->key_path, err);
    if (rc) goto fail;
    rd_kafka_conf_set_opaque(kconf, sink);
    sl_kafka_conf_set_logging(kconf);
    rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
    sink->template = kconf;
    kconf = NULL;
    rc = producer_start(sink, err);
    if (rc) goto fail;
    *state = sink;
    return SL_OK;
fail:
    if (kconf) rd_kafka_conf_destroy(kconf);
    if (rc == SL_ENOMEM && sink && !sink->template) sl_error_set(err, rc, "kafka sink: out of memory");
    kafka_sink_close(sink);
    return rc;
}

/* ---- writing ---- */

/* True once a stopping run has waited its grace period. */
static bool is_out_of_time(kafka_sink *sink)
{
    if (!sink->env->stopping || !atomic_load(sink->env->stopping)) return false;
    int64_t now = sl_clock_monotonic_ms();
    if (sink->stop_deadline_ms < 0) sink->stop_deadline_ms = now + KAFKA_STOP_GRACE_MS;
    return now >= sink->stop_deadline_ms;
}

static int give_up(kafka_sink *sink, sl_error *err)
{
    return sl_error_set(err, SL_ECANCELED,
                        "kafka brokers '%s': topic '%s': stopping with %zu of %zu records unconfirmed",
                        sink->brokers, sink->topic_name, sink->n_pending, sink->n_write);
}

/* Produces one record as message id; a refusal by librdkafka is recorded as
 * the record's delivery result. */
static int produce_record(kafka_sink *sink, const sl_record *record, uint64_t id, kafka_delivery *delivery,
                          sl_error *err)
{
    sl_str key;
    int rc = sl_kafka_record_key(&sink->key_path, record, &sink->key_scratch, &key);
    sl_str value = record->raw;
    if (rc == SL_OK && !record->raw.ptr && record->has_value) {
        sl_buffer_clear(&sink->value_scratch);
        rc = sl_json_write(&sink->value_scratch, &record->value);
        value = (sl_str){ sink->value_scratch.data, sink->value_scratch.len };
    }
    if (rc)
        return sl_error_set(err, rc, "kafka sink: topic '%s': cannot encode the record at offset %" PRId64,
                            sink->topic_name, record->offset);
    rd_kafka_headers_t *headers = NULL;
    if (record->n_headers) {
        headers = rd_kafka_headers_new(record->n_headers);
        if (!headers) return sl_error_set(err, SL_ENOMEM, "kafka sink: out of memory");
        for (size_t i = 0; i < record->n_headers; i++) {
            const sl_header *header = &record->headers[i];
            rd_kafka_header_add(headers, header->key.ptr, (ssize_t)header->key.len, header->value.ptr,
                                (ssize_t)header->value.len);
        }
    }
    rd_kafka_resp_err_t code;
    for (;;) {
        code = rd_kafka_producev(sink->producer, RD_KAFKA_V_RKT(sink->topic),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key.ptr, key.len),
                                 RD_KAFKA_V_VALUE((void *)value.ptr, value.len),
                                 RD_KAFKA_V_HEADERS(headers),
                                 RD_KAFKA_V_TIMESTAMP(record->timestamp_ms > 0 ? record->timestamp_ms : 0),
                                 RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id), RD_KAFKA_V_END);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(sink->producer, 50);  /* serves reports, making room */
        if (is_out_of_time(sink)) {
            if (headers) rd_kafka_headers_destroy(headers);
            return give_up(sink, err);
        }
    }
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
        sink->n_pending++;  /* headers now belong to the message */
        return SL_OK;
    }
    if (headers) rd_kafka_headers_destroy(headers);
    *delivery = (kafka_delivery){ code, true };
    return SL_OK;
}

static int ensure_deliveries(kafka_sink *sink, size_t n)
{
    if (sink->deliveries_capacity >= n) return SL_OK;
    kafka_delivery *deliveries = realloc(sink->deliveries, n * sizeof *deliveries);
    if (!deliveries) return SL_ENOMEM;
    sink->deliveries = deliveries;
    sink->deliveries_capacity = n;
    return SL_OK;
}

/* Fails (and drops the producer, to be rebuilt) after a fatal error. */
static int check_fatal(kafka_sink *sink, sl_error *err)
{
    int rc = sl_kafka_check_refused(&sink->identity, err);
    if (rc) {
        sl_error_prefix(err, "topic '%s': ", sink->topic_name);
        return rc;
    }
    rc = sl_kafka_check_fatal(sink->producer, sink->brokers, "producing", err);
    if (rc) {
        sl_error_prefix(err, "topic '%s': ", sink->topic_name);
        producer_stop(sink, 0);
        sl_error_mark(err, SL_ERROR_TRANSIENT);   /* the next attempt builds a new producer */
    }
    return rc;
}

/* Refusals about the topic, not the record: every record would meet them,
 * so they end the pipeline instead of dead-lettering the whole stream. */
static bool is_topic_refusal(rd_kafka_resp_err_t code)
{
    switch (code) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        return true;
    default:
        return false;
    }
}

/* The outcome of a write whose reports all arrived; deliveries run over
 * the records of every batch in order. */
static int settle(kafka_sink *sink, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    size_t n_retry = 0;
    rd_kafka_resp_err_t retry_code = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < sink->n_write; i++) {
        rd_kafka_resp_err_t code = sink->deliveries[i].code;
        if (is_topic_refusal(code))
            return sl_error_set_permanent(err, SL_ESINK, "kafka brokers '%s': topic '%s': %s: create the topic "
                                          "(or set partitions: so the sink creates it), fix its name, or grant "
                                          "this client write access", sink->brokers, sink->topic_name,
                                          rd_kafka_err2str(code));
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR || sl_kafka_error_is_permanent(code)) continue;
        if (n_retry++ == 0) retry_code = code;
    }
    if (n_retry)  /* retried whole; rejects wait for an attempt without transient trouble */
        return sl_error_set_transient(err, SL_EIO, "kafka brokers '%s': topic '%s': %zu of %zu records not "
                                      "delivered: %s", sink->brokers, sink->topic_name, n_retry, sink->n_write,
                                      rd_kafka_err2str(retry_code));
    const sl_reject_handler *reject = &sink->env->reject;
    const kafka_delivery *delivery = sink->deliveries;
    for (size_t b = 0; b < n_batches; b++) {
        for (size_t i = 0; i < batches[b]->n_records; i++, delivery++) {
            if (delivery->code == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
            const sl_record *record = &batches[b]->records[i];
            char reason[256];
            snprintf(reason, sizeof reason, "kafka: %s (topic %s)", rd_kafka_err2str(delivery->code),
                     sink->topic_name);
            if (reject->reject) reject->reject(reject->context, record, "sink", reason);
            else sl_warn("kafka", "%s: sink: dropped record at offset %" PRId64 ": %s", sink->identity.pipeline,
                         record->offset, reason);
        }
    }
    return SL_OK;
}

/* Produces every record of the batches, then waits for all their reports:
 * one round trip for several batches. */
static int kafka_sink_write_many(void *state, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    kafka_sink *sink = state;
    size_t n = 0;
    for (size_t b = 0; b < n_batches; b++) n += batches[b]->n_records;
    if (n == 0) return SL_OK;
    int rc = sink->producer ? SL_OK : producer_start(sink, err);
    if (rc) return rc;
    if (ensure_deliveries(sink, n)) return sl_error_set(err, SL_ENOMEM, "kafka sink: out of memory");
    memset(sink->deliveries, 0, n * sizeof *sink->deliveries);
    sink->write_base = sink->next_id;
    sink->n_write = n;
    sink->next_id += n;
    sink->n_pending = 0;
    size_t index = 0;
    for (size_t b = 0; b < n_batches; b++) {
        for (size_t i = 0; i < batches[b]->n_records; i++, index++) {
            rc = produce_record(sink, &batches[b]->records[i], sink->write_base + index, &sink->deliveries[index],
                                err);
            if (rc) return rc;
        }
    }
    /* flush() sends at once, ignoring linger, and serves the reports. */
    while (sink->n_pending > 0) {
        rd_kafka_flush(sink->producer, 100);
        if (sink->n_pending == 0) break;
        rc = check_fatal(sink, err);
        if (rc) return rc;
        if (is_out_of_time(sink)) return give_up(sink, err);
    }
    rc = check_fatal(sink, err);
    if (rc) return rc;
    return settle(sink, batches, n_batches, err);
}

static int kafka_sink_write(void *state, const sl_batch *batch, sl_error *err)
{
    return kafka_sink_write_many(state, &batch, 1, err);
}

/* Before the run: the key path, and the producer's configuration as
 * librdkafka takes it (so a misspelt property is found by validate). */
static void kafka_sink_check(const void *conf_ptr, const sl_connector_check *check)
{
    const sl_kafka_sink_conf *conf = conf_ptr;
    sl_error err;
    sl_error_clear(&err);
    sl_kafka_key_path path = { 0 };
    if (sl_kafka_key_path_parse(conf->key, &path, &err))
        sl_diag_add_error_at(check->diags, sl_connector_check_node(check, "key"), check->where, &err);
    sl_kafka_key_path_free(&path);
    rd_kafka_conf_t *kconf = NULL;
    sl_error_clear(&err);
    if (sl_kafka_sink_config(conf, &kconf, &err))
        sl_diag_add_error_at(check->diags, sl_connector_check_node(check, NULL), check->where, &err);
    if (kconf) rd_kafka_conf_destroy(kconf);
}

static void kafka_sink_hint(const void *conf_ptr, char *out, size_t size)
{
    const sl_kafka_sink_conf *conf = conf_ptr;
    snprintf(out, size, "kcat -C -b %s -t %s -o beginning -e", conf->brokers, conf->topic);
}

static const char *kafka_sink_topic_name(const void *conf_ptr)
{
    const sl_kafka_sink_conf *conf = conf_ptr;
    return conf->topic;
}

const sl_sink_ops sl_kafka_sink = {
    .name = "kafka",
    .description = "records produced to a Kafka topic by an idempotent producer (librdkafka)",
    .options = sl_kafka_sink_options,
    .conf_size = sizeof(sl_kafka_sink_conf),
    .open = kafka_sink_open,
    .write = kafka_sink_write,
    .write_many = kafka_sink_write_many,
    .close = kafka_sink_close,
    .check = kafka_sink_check,
    .hint = kafka_sink_hint,
    .topic_name = kafka_sink_topic_name,
    .accepts_raw = true,
};
