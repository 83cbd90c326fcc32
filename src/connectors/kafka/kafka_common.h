/* kafka_common.h — what the kafka source and sink (and `sluice topic
 * --kafka`) share:
 * the settings tables of both and the librdkafka configuration they
 * build (sluice's settings first, then a user's `properties:` map), librdkafka's logs routed to the sluice logger, the
 * split of broker errors into "this record can never be written" and "try
 * again", and the message key a record gets from a `key:` path.
 *
 * Internal to the kafka connector (kafka_source.c, kafka_sink.c, their
 * unit test) and the CLI's topic commands (cmd_topic_kafka.c); the runtime
 * only sees the ops tables in kafka.h.
 */
#ifndef SL_CONNECTOR_KAFKA_COMMON_H
#define SL_CONNECTOR_KAFKA_COMMON_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"

#define SL_KAFKA_MAX_KEY_PARTS 16

/* Sets one librdkafka property; a refusal is SL_ECONFIG
 * "kafka: property 'name': <librdkafka's message>". */
int sl_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, sl_error *err);

/* Applies a `properties:` node (NULL = none): a mapping of librdkafka
 * property → scalar. Errors are SL_ECONFIG naming file:line:column and the
 * property. Names in `reserved` (NULL-ended, may be NULL) are refused with
 * `why`, for properties sluice must own to keep its guarantees. */
int sl_kafka_conf_apply_properties(rd_kafka_conf_t *conf, const sl_node *properties,
                                   const char *const *reserved, const char *why, sl_error *err);

/* Who a client is, for its log lines and warnings, and whether the
 * brokers refused its credentials (set by the error callback, which runs
 * inside the client's poll calls). */
typedef struct sl_kafka_identity {
    const char *brokers;   /* the `brokers:` setting */
    const char *role;      /* "source" or "sink" */
    const char *pipeline;
    atomic_bool is_refused;       /* the brokers refused authentication */
    char refused_reason[384];     /* librdkafka's words, written before is_refused */
} sl_kafka_identity;

/* Sets up who (zeroing the refusal) before the client exists. */
void sl_kafka_identity_init(sl_kafka_identity *who, const char *brokers, const char *role, const char *pipeline);

/* SL_OK, or, once the brokers refused authentication (SASL credentials or
 * mechanism), a permanent SL_ECONFIG naming the brokers and what to change:
 * retrying cannot make refused credentials good (Kafka's own clients treat
 * an AuthenticationException as fatal too). */
int sl_kafka_check_refused(const sl_kafka_identity *who, sl_error *err);

/* Routes librdkafka's log lines (from its own threads) to the sluice logger
 * and its error callback to warnings naming the brokers. The conf's opaque
 * must point at a struct whose first member is an sl_kafka_identity (both
 * kafka connectors' state structs start that way, so the same opaque also
 * serves their rebalance and delivery callbacks). */
void sl_kafka_conf_set_logging(rd_kafka_conf_t *conf);

/* Reads a property back as text ("" when unset/unknown); for tests and
 * messages. */
const char *sl_kafka_conf_text(const rd_kafka_conf_t *conf, const char *name, char *out, size_t size);

/* True for delivery errors no retry can fix (record too large, invalid
 * record, topic missing or not authorised...): such a record goes to the
 * dead-letter topic. False for errors a later attempt may get past. */
bool sl_kafka_error_is_permanent(rd_kafka_resp_err_t code);

/* Fills err with SL_EIO and "kafka brokers 'b': <what>: <librdkafka's
 * fatal error text>" when the client hit a fatal error; else returns SL_OK. */
int sl_kafka_check_fatal(rd_kafka_t *client, const char *brokers, const char *what, sl_error *err);

/* A parsed `key:` path into record values. */
typedef struct sl_kafka_key_path {
    char *text;                                  /* owns what parts point into */
    sl_str parts[SL_KAFKA_MAX_KEY_PARTS];
    int n_parts;                                 /* 0 = use the record's own key */
} sl_kafka_key_path;

/* Parses "a.b.c" (NULL = no path); SL_ECONFIG for empty parts or too many. */
int sl_kafka_key_path_parse(const char *text, sl_kafka_key_path *path, sl_error *err);
void sl_kafka_key_path_free(sl_kafka_key_path *path);

/* The message key of record: with a path, the text of what it finds
 * (sl_key_text: may point into scratch; "" is an empty key, distinct from
 * none); without a path, the record's own key. {NULL, 0} means "no key". */
int sl_kafka_record_key(const sl_kafka_key_path *path, const sl_record *record, sl_buffer *scratch,
                        sl_str *key);

/* The settings of a `kafka` source block (filled by sl_options_apply). */
typedef struct sl_kafka_source_conf {
    char *brokers;
    char *topic;
    sl_str_list topics;
    char *group;
    char *start;
    const sl_node *properties;      /* borrowed from the config document */
    int64_t max_batch_bytes;
    int64_t max_record_bytes;
    int64_t poll_timeout_ms;
} sl_kafka_source_conf;

/* The settings of a `kafka` sink block. */
typedef struct sl_kafka_sink_conf {
    char *brokers;
    char *topic;
    char *key;
    int64_t partitions;             /* for a topic the sink creates; 0 = the broker's default */
    char *compression;
    char *acks;
    int64_t linger_ms;
    const sl_node *properties;      /* borrowed from the config document */
} sl_kafka_sink_conf;

extern const sl_option sl_kafka_source_options[];
extern const sl_option sl_kafka_sink_options[];

/* Checks a source block and builds its consumer's configuration without
 * callbacks (the caller owns *out): our settings, then `properties:`.
 * Bad settings are SL_ECONFIG naming the setting and the brokers. */
int sl_kafka_source_config(const sl_kafka_source_conf *conf, const sl_connector_env *env,
                           rd_kafka_conf_t **out, sl_error *err);

/* The same for a sink block and its producer. */
int sl_kafka_sink_config(const sl_kafka_sink_conf *conf, rd_kafka_conf_t **out, sl_error *err);

/* The client of `sluice topic ... --kafka`. */
typedef struct sl_kafka_cli_conf {
    const char *brokers;
    bool is_producer;
    const char *group;                  /* consumer: group.id; NULL = "sluice-topic-cli" */
    const char *const *properties;      /* "name=value" (-X), applied after sluice's own */
    size_t n_properties;
} sl_kafka_cli_conf;

/* Builds the CLI client's configuration (the caller owns *out): bounded
 * socket timeouts; a producer with acks=all and the Java client's murmur2
 * partitioner; a consumer with manual commits, partition-EOF events and
 * earliest as the reset; then the properties. librdkafka's logs and errors
 * go through sl_kafka_conf_set_logging (so the caller's opaque must start
 * with an sl_kafka_identity). A property librdkafka refuses, or one with
 * no '=', is SL_ECONFIG naming it. */
int sl_kafka_cli_config(const sl_kafka_cli_conf *conf, rd_kafka_conf_t **out, sl_error *err);

#endif
