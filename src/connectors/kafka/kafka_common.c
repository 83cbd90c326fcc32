/* kafka_common.c — the kafka connector's settings and the librdkafka
 * plumbing its source and sink share (see kafka_common.h).
 *
 * Settings flow in two layers: the connector's own options become
 * librdkafka properties first, then the user's `properties:` map is applied
 * on top, so anything librdkafka supports (SASL, TLS, timeouts, fetch
 * sizes) works without new code here. librdkafka's answer to a bad property
 * is passed through word for word, prefixed with where the property stands.
 *
 * The permanent/transient split follows the Kafka protocol guide's error
 * table: errors about the record itself or the topic's existence and
 * rights are permanent (dead-letter the record); timeouts, leadership moves
 * and transport trouble are transient (the runtime retries the batch).
 */
#include "connectors/kafka/kafka_common.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/json.h"
#include "core/key_text.h"
#include "core/logger.h"

#define KAFKA_MAX_POLL_TIMEOUT_MS 60000
#define KAFKA_MAX_LINGER_MS 900000
#define KAFKA_MAX_PARTITIONS 100000

int sl_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, sl_error *err)
{
    char message[512];
    if (rd_kafka_conf_set(conf, name, value, message, sizeof message) != RD_KAFKA_CONF_OK)
        return sl_error_set(err, SL_ECONFIG, "kafka: property '%s': %s", name, message);
    return SL_OK;
}

static bool is_reserved(const char *name, const char *const *reserved)
{
    for (size_t i = 0; reserved && reserved[i]; i++)
        if (strcmp(reserved[i], name) == 0) return true;
    return false;
}

int sl_kafka_conf_apply_properties(rd_kafka_conf_t *conf, const sl_node *properties,
                                   const char *const *reserved, const char *why, sl_error *err)
{
    if (!properties || (properties->kind == SL_NODE_SCALAR && properties->is_null)) return SL_OK;
    if (properties->kind != SL_NODE_MAP)
        return sl_node_error(err, properties,
                             "kafka: properties must be a mapping of librdkafka property to value, not a %s",
                             sl_node_kind_name(properties->kind));
    for (size_t i = 0; i < properties->n_pairs; i++) {
        const sl_node_pair *pair = &properties->pairs[i];
        const sl_node *value = pair->value;
        if (is_reserved(pair->key, reserved))
            return sl_node_error(err, value, "kafka: property '%s' cannot be set: %s", pair->key, why);
        if (value->kind != SL_NODE_SCALAR)
            return sl_node_error(err, value, "kafka: property '%s' must be a scalar, not a %s", pair->key,
                                 sl_node_kind_name(value->kind));
        if (value->is_null)
            return sl_node_error(err, value, "kafka: property '%s' has no value", pair->key);
        char message[512];
        if (rd_kafka_conf_set(conf, pair->key, value->scalar, message, sizeof message) != RD_KAFKA_CONF_OK)
            return sl_node_error(err, value, "kafka: property '%s': %s", pair->key, message);
    }
    return SL_OK;
}

/* librdkafka logs with syslog levels: 0 emerg ... 7 debug. */
static void log_line(const rd_kafka_t *client, int level, const char *facility, const char *text)
{
    const sl_kafka_identity *who = rd_kafka_opaque(client);
    const char *pipeline = who && who->pipeline ? who->pipeline : "?";
    const char *role = who && who->role ? who->role : "client";
    sl_level ours = level <= LOG_ERR ? SL_LEVEL_ERROR : level <= LOG_WARNING ? SL_LEVEL_WARN
                  : level <= LOG_INFO ? SL_LEVEL_INFO : SL_LEVEL_DEBUG;
    sl_logger_write(ours, "kafka", "%s: %s: %s: %s", pipeline, role, facility, text);
}

static void error_line(rd_kafka_t *client, int code, const char *reason, void *opaque)
{
    sl_kafka_identity *who = opaque;
    if (who && code == RD_KAFKA_RESP_ERR__AUTHENTICATION && !atomic_load(&who->is_refused)) {
        snprintf(who->refused_reason, sizeof who->refused_reason, "%s", reason ? reason : "");
        atomic_store(&who->is_refused, true);
    }
    const char *pipeline = who && who->pipeline ? who->pipeline : "?";
    const char *role = who && who->role ? who->role : "client";
    const char *brokers = who && who->brokers ? who->brokers : "?";
    sl_warn("kafka", "%s: %s: brokers '%s': %s%s%s", pipeline, role, brokers,
            rd_kafka_err2str((rd_kafka_resp_err_t)code), reason ? ": " : "", reason ? reason : "");
}

void sl_kafka_identity_init(sl_kafka_identity *who, const char *brokers, const char *role, const char *pipeline)
{
    who->brokers = brokers;
    who->role = role;
    who->pipeline = pipeline;
    atomic_init(&who->is_refused, false);
    who->refused_reason[0] = '\0';
}

int sl_kafka_check_refused(const sl_kafka_identity *who, sl_error *err)
{
    if (!atomic_load(&who->is_refused)) return SL_OK;
    sl_error_set(err, SL_ECONFIG,
                 "kafka brokers '%s': authentication refused: %s: check security.protocol, sasl.mechanism, "
                 "sasl.username and sasl.password in the connector's properties", who->brokers, who->refused_reason);
    return sl_error_mark(err, SL_ERROR_PERMANENT);
}

void sl_kafka_conf_set_logging(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, log_line);
    rd_kafka_conf_set_error_cb(conf, error_line);
}

const char *sl_kafka_conf_text(const rd_kafka_conf_t *conf, const char *name, char *out, size_t size)
{
    size_t used = size;
    if (size == 0) return out;
    if (rd_kafka_conf_get(conf, name, out, &used) == RD_KAFKA_CONF_OK) return out;
    /* Topic-level properties (auto.offset.reset, acks...) set on the global
     * conf live in its default topic conf. */
    rd_kafka_topic_conf_t *topic_conf = rd_kafka_conf_get_default_topic_conf((rd_kafka_conf_t *)conf);
    used = size;
    if (!topic_conf || rd_kafka_topic_conf_get(topic_conf, name, out, &used) != RD_KAFKA_CONF_OK) out[0] = '\0';
    return out;
}

bool sl_kafka_error_is_permanent(rd_kafka_resp_err_t code)
{
    switch (code) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return true;
    default:
        return false;
    }
}

int sl_kafka_check_fatal(rd_kafka_t *client, const char *brokers, const char *what, sl_error *err)
{
    char reason[512];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(client, reason, sizeof reason);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_OK;
    return sl_error_set(err, SL_EIO, "kafka brokers '%s': %s: fatal error %s: %s", brokers, what,
                        rd_kafka_err2name(code), reason);
}

int sl_kafka_key_path_parse(const char *text, sl_kafka_key_path *path, sl_error *err)
{
    memset(path, 0, sizeof *path);
    if (!text) return SL_OK;
    path->text = strdup(text);
    if (!path->text) return sl_error_set(err, SL_ENOMEM, "kafka: out of memory");
    path->n_parts = sl_path_split(sl_str_from(path->text), path->parts, SL_KAFKA_MAX_KEY_PARTS);
    if (path->n_parts <= 0) {
        sl_kafka_key_path_free(path);
        return sl_error_set(err, SL_ECONFIG,
                            "kafka: key '%s' is not a path like a.b.c (at most %d parts, none empty)",
                            text, SL_KAFKA_MAX_KEY_PARTS);
    }
    return SL_OK;
}

void sl_kafka_key_path_free(sl_kafka_key_path *path)
{
    free(path->text);
    memset(path, 0, sizeof *path);
}

int sl_kafka_record_key(const sl_kafka_key_path *path, const sl_record *record, sl_buffer *scratch,
                        sl_str *key)
{
    *key = record->key;
    if (path->n_parts == 0) return SL_OK;
    *key = (sl_str){ NULL, 0 };
    if (!record->has_value) return SL_OK;
    const sl_value *found = sl_value_get_path(&record->value, path->parts, (size_t)path->n_parts);
    return sl_key_text(found, scratch, key);
}

/* ---- settings of the source ---- */

static const char *const start_choices[] = { "earliest", "latest", NULL };

const sl_option sl_kafka_source_options[] = {
    { "brokers", SL_OPT_STRING, offsetof(sl_kafka_source_conf, brokers), .required = true,
      .help = "bootstrap brokers, host:port[,host:port...]" },
    { "topic", SL_OPT_STRING, offsetof(sl_kafka_source_conf, topic),
      .help = "topic to read ('^' starts a regular expression); or use topics" },
    { "topics", SL_OPT_STR_LIST, offsetof(sl_kafka_source_conf, topics),
      .help = "topics to read ('^' starts a regular expression); or use topic" },
    { "group", SL_OPT_STRING, offsetof(sl_kafka_source_conf, group),
      .help = "consumer group id (default: the pipeline's name)" },
    { "start", SL_OPT_STRING, offsetof(sl_kafka_source_conf, start), .default_value = "earliest",
      .choices = start_choices, .help = "where a group without committed offsets starts" },
    { "properties", SL_OPT_MAP, offsetof(sl_kafka_source_conf, properties),
      .help = "librdkafka properties applied after sluice's own (SASL, TLS, ...)" },
    { "max_batch_bytes", SL_OPT_SIZE, offsetof(sl_kafka_source_conf, max_batch_bytes),
      .default_value = "1MiB", .min = "1", .help = "read at most about this many bytes per batch" },
    { "max_record_bytes", SL_OPT_SIZE, offsetof(sl_kafka_source_conf, max_record_bytes),
      .default_value = "1MiB", .min = "1", .help = "messages with larger values go to the dead-letter topic" },
    { "poll_timeout", SL_OPT_DURATION, offsetof(sl_kafka_source_conf, poll_timeout_ms),
      .default_value = "100ms", .max = "60s", .help = "how long a read waits for messages when none are staged" },
    { 0 }
};

/* Properties sluice must own for its acknowledgement guarantee. */
static const char *const source_reserved[] = { "enable.auto.commit", "enable.auto.offset.store", NULL };

int sl_kafka_source_config(const sl_kafka_source_conf *conf, const sl_connector_env *env,
                           rd_kafka_conf_t **out, sl_error *err)
{
    *out = NULL;
    if (!conf->brokers || !conf->brokers[0])
        return sl_error_set(err, SL_ECONFIG, "kafka source: brokers must name at least one host:port");
    bool has_topic = conf->topic != NULL, has_topics = conf->topics.n_items > 0;
    if (has_topic == has_topics)
        return sl_error_set(err, SL_ECONFIG, "kafka source (brokers '%s'): set exactly one of topic and topics",
                            conf->brokers);
    if (has_topic && !conf->topic[0])
        return sl_error_set(err, SL_ECONFIG, "kafka source (brokers '%s'): topic is empty", conf->brokers);
    for (size_t i = 0; i < conf->topics.n_items; i++)
        if (!conf->topics.items[i][0])
            return sl_error_set(err, SL_ECONFIG, "kafka source (brokers '%s'): topics[%zu] is empty",
                                conf->brokers, i);
    if (conf->max_batch_bytes <= 0 || conf->max_record_bytes <= 0)
        return sl_error_set(err, SL_ECONFIG, "kafka source: max_batch_bytes and max_record_bytes must be positive");
    if (conf->poll_timeout_ms < 0 || conf->poll_timeout_ms > KAFKA_MAX_POLL_TIMEOUT_MS)
        return sl_error_set(err, SL_ECONFIG, "kafka source: poll_timeout must be between 0 and %d ms, not %" PRId64,
                            KAFKA_MAX_POLL_TIMEOUT_MS, conf->poll_timeout_ms);
    const char *group = conf->group ? conf->group : env->pipeline;
    if (!group || !group[0]) return sl_error_set(err, SL_ECONFIG, "kafka source: group is empty");

    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    if (!kconf) return sl_error_set(err, SL_ENOMEM, "kafka source: out of memory");
    char client_id[256];
    snprintf(client_id, sizeof client_id, "sluice-%s", env->pipeline ? env->pipeline : "pipeline");
    const char *settings[][2] = {
        { "bootstrap.servers", conf->brokers },
        { "group.id", group },
        { "client.id", client_id },
        { "partition.assignment.strategy", "cooperative-sticky" },
        { "enable.auto.commit", "false" },
        { "enable.auto.offset.store", "false" },
        { "enable.partition.eof", "false" },
        { "auto.offset.reset", conf->start ? conf->start : "earliest" },
        /* librdkafka stops fetching a partition whose local queue is full; a
         * fetch then asks only for partitions at their end, and the broker
         * holds it for fetch.wait.max.ms (500 ms by default) although the
         * others have data waiting: 3x less throughput measured here. A
         * short wait costs an idle consumer a small request every 10 ms.
         * `properties:` may set it back. */
        { "fetch.wait.max.ms", "10" },
        /* librdkafka prefetches up to 64 MiB by default; 16 MiB keeps a
         * reader of 1 KB records near full speed (measured: 163k vs 171k
         * records/s) at 25 MB less RSS. */
        { "queued.max.messages.kbytes", "16384" },
    };
    int rc = SL_OK;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0] && rc == SL_OK; i++)
        rc = sl_kafka_conf_set(kconf, settings[i][0], settings[i][1], err);
    if (rc == SL_OK)
        rc = sl_kafka_conf_apply_properties(kconf, conf->properties, source_reserved,
                                            "sluice commits offsets itself, once every sink has the records", err);
    if (rc) {
        rd_kafka_conf_destroy(kconf);
        return rc;
    }
    *out = kconf;
    return SL_OK;
}

/* ---- settings of the sink ---- */

static const char *const compression_choices[] = { "none", "lz4", "zstd", "gzip", "snappy", NULL };
static const char *const acks_choices[] = { "all", "1", "0", NULL };

const sl_option sl_kafka_sink_options[] = {
    { "brokers", SL_OPT_STRING, offsetof(sl_kafka_sink_conf, brokers), .required = true,
      .help = "bootstrap brokers, host:port[,host:port...]" },
    { "topic", SL_OPT_STRING, offsetof(sl_kafka_sink_conf, topic), .required = true,
      .help = "topic to write" },
    { "key", SL_OPT_STRING, offsetof(sl_kafka_sink_conf, key),
      .help = "path into the value whose text becomes the message key (default: the record's key)" },
    { "partitions", SL_OPT_INT, offsetof(sl_kafka_sink_conf, partitions), .default_value = "0", .min = "0",
      .max = "100000",
      .help = "partitions of the topic when the sink creates it; 0 = leave the topic to the broker" },
    { "compression", SL_OPT_STRING, offsetof(sl_kafka_sink_conf, compression), .default_value = "none",
      .choices = compression_choices, .help = "compression of produced batches" },
    { "acks", SL_OPT_STRING, offsetof(sl_kafka_sink_conf, acks), .default_value = "all",
      .choices = acks_choices, .help = "replicas that must have a record before it counts as written" },
    { "linger", SL_OPT_DURATION, offsetof(sl_kafka_sink_conf, linger_ms), .default_value = "5ms", .max = "15m",
      .help = "how long librdkafka waits to fill a request" },
    { "properties", SL_OPT_MAP, offsetof(sl_kafka_sink_conf, properties),
      .help = "librdkafka properties applied after sluice's own (SASL, TLS, ...)" },
    { 0 }
};

int sl_kafka_sink_config(const sl_kafka_sink_conf *conf, rd_kafka_conf_t **out, sl_error *err)
{
    *out = NULL;
    if (!conf->brokers || !conf->brokers[0])
        return sl_error_set(err, SL_ECONFIG, "kafka sink: brokers must name at least one host:port");
    if (!conf->topic || !conf->topic[0])
        return sl_error_set(err, SL_ECONFIG, "kafka sink (brokers '%s'): topic is empty", conf->brokers);
    if (conf->partitions < 0 || conf->partitions > KAFKA_MAX_PARTITIONS)
        return sl_error_set(err, SL_ECONFIG, "kafka sink (brokers '%s'): partitions must be between 0 and %d, not %"
                            PRId64, conf->brokers, KAFKA_MAX_PARTITIONS, conf->partitions);
    if (conf->linger_ms < 0 || conf->linger_ms > KAFKA_MAX_LINGER_MS)
        return sl_error_set(err, SL_ECONFIG, "kafka sink: linger must be between 0 and %d ms, not %" PRId64,
                            KAFKA_MAX_LINGER_MS, conf->linger_ms);
    const char *acks = conf->acks ? conf->acks : "all";
    char linger[32];
    snprintf(linger, sizeof linger, "%" PRId64, conf->linger_ms);
    const char *settings[][2] = {
        { "bootstrap.servers", conf->brokers },
        { "client.id", "sluice" },
        { "acks", acks },
        { "enable.idempotence", strcmp(acks, "all") == 0 ? "true" : "false" },
        { "compression.type", conf->compression ? conf->compression : "none" },
        { "linger.ms", linger },
        { "partitioner", "murmur2_random" },
    };
    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    if (!kconf) return sl_error_set(err, SL_ENOMEM, "kafka sink: out of memory");
    int rc = SL_OK;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0] && rc == SL_OK; i++)
        rc = sl_kafka_conf_set(kconf, settings[i][0], settings[i][1], err);
    if (rc == SL_OK) rc = sl_kafka_conf_apply_properties(kconf, conf->properties, NULL, NULL, err);
    if (rc) {
        rd_kafka_conf_destroy(kconf);
        return rc;
    }
    *out = kconf;
    return SL_OK;
}

/* ---- the CLI's client (`sluice topic --kafka`) ---- */

int sl_kafka_cli_config(const sl_kafka_cli_conf *conf, rd_kafka_conf_t **out, sl_error *err)
{
    *out = NULL;
    if (!conf->brokers || !conf->brokers[0])
        return sl_error_set(err, SL_ECONFIG, "kafka: --kafka must name at least one host:port");
    const char *common[][2] = {
        { "bootstrap.servers", conf->brokers },
        { "client.id", "sluice-topic" },
        { "socket.timeout.ms", "10000" },
    };
    const char *producer[][2] = {
        { "message.timeout.ms", "15000" },
        { "acks", "all" },
        { "partitioner", "murmur2_random" },   /* the Java client's (and the embedded log's) choice */
    };
    const char *consumer[][2] = {
        { "group.id", conf->group ? conf->group : "sluice-topic-cli" },
        { "enable.auto.commit", "false" },
        { "enable.auto.offset.store", "false" },
        { "enable.partition.eof", "true" },
        { "auto.offset.reset", "earliest" },
    };
    const char *(*own)[2] = conf->is_producer ? producer : consumer;
    size_t n_own = conf->is_producer ? sizeof producer / sizeof producer[0] : sizeof consumer / sizeof consumer[0];
    size_t n_common = sizeof common / sizeof common[0];
    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    if (!kconf) return sl_error_set(err, SL_ENOMEM, "kafka: out of memory");
    int rc = SL_OK;
    for (size_t i = 0; i < n_common + n_own && rc == SL_OK; i++) {
        const char *const *setting = i < n_common ? common[i] : own[i - n_common];
        rc = sl_kafka_conf_set(kconf, setting[0], setting[1], err);
    }
    for (size_t i = 0; i < conf->n_properties && rc == SL_OK; i++) {
        const char *text = conf->properties[i];
        const char *equals = strchr(text, '=');
        if (!equals || equals == text) {
            rc = sl_error_set(err, SL_ECONFIG, "kafka: property '%s' is not name=value", text);
            break;
        }
        char *name = strndup(text, (size_t)(equals - text));
        if (!name) {
            rc = sl_error_set(err, SL_ENOMEM, "kafka: out of memory");
            break;
        }
        rc = sl_kafka_conf_set(kconf, name, equals + 1, err);
        free(name);
    }
    if (rc) {
        rd_kafka_conf_destroy(kconf);
        return rc;
    }
    sl_kafka_conf_set_logging(kconf);
    *out = kconf;
    return SL_OK;
}
