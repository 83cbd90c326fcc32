/* kafka_test.c — the kafka connector without a broker: option tables and
 * the librdkafka configuration they build (our settings, then the user's
 * properties on top, refusals with librdkafka's own words and the file
 * position), key extraction, keys partitioned exactly like librdkafka's
 * murmur2 partitioner and the embedded log, the permanent/transient error
 * split, and the paths that need no broker to run: a source with nothing
 * to read, a sink whose record is too large or whose broker never answers.
 * Runs against a real broker live in the end-to-end tests. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/options.h"
#include "connectors/kafka/kafka.h"
#include "connectors/kafka/kafka_common.h"
#include "core/batch.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/logger.h"
#include "log/log.h"
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------- */

static test_rejects seen;
static atomic_bool stopping;
static sl_connector_env env;

static void setup(void)
{
    memset(&seen, 0, sizeof seen);
    atomic_store(&stopping, false);
    memset(&env, 0, sizeof env);
    env.pipeline = "orders_in";
    env.reject = (sl_reject_handler){ test_collect_reject, &seen };
    env.stopping = &stopping;
    sl_logger_configure(SL_LEVEL_OFF, 0);
}

TestSuite(kafka, .init = setup);

/* A connector block parsed from YAML and applied to a fresh conf struct. */
typedef struct block {
    sl_config_doc *doc;
    const sl_option *table;
    void *conf;
} block;

static int block_load(block *b, const sl_option *table, size_t conf_size, const char *yaml, sl_error *err)
{
    memset(b, 0, sizeof *b);
    b->table = table;
    b->conf = calloc(1, conf_size);
    cr_assert_not_null(b->conf);
    int rc = sl_config_load_string("test.yaml", yaml, strlen(yaml), &b->doc, err);
    cr_assert_eq(rc, SL_OK, "%s", err->message);
    return sl_options_apply(table, sl_config_root(b->doc), b->conf, "source.kafka", err);
}

static void block_free(block *b)
{
    sl_options_free(b->table, b->conf);
    free(b->conf);
    sl_config_free(b->doc);
}

static int source_block(block *b, const char *yaml, sl_error *err)
{
    return block_load(b, sl_kafka_source_options, sizeof(sl_kafka_source_conf), yaml, err);
}

static int sink_block(block *b, const char *yaml, sl_error *err)
{
    return block_load(b, sl_kafka_sink_options, sizeof(sl_kafka_sink_conf), yaml, err);
}

static void assert_property(const rd_kafka_conf_t *conf, const char *name, const char *want)
{
    char text[256];
    cr_assert_str_eq(sl_kafka_conf_text(conf, name, text, sizeof text), want, "property %s", name);
}

/* The librdkafka configuration a source block builds; fails the test if
 * the block is refused. */
static rd_kafka_conf_t *source_conf_of(const char *yaml)
{
    block b;
    sl_error err;
    cr_assert_eq(source_block(&b, yaml, &err), SL_OK, "%s", err.message);
    rd_kafka_conf_t *conf = NULL;
    cr_assert_eq(sl_kafka_source_config(b.conf, &env, &conf, &err), SL_OK, "%s", err.message);
    block_free(&b);
    return conf;
}

static int source_conf_error(const char *yaml, sl_error *err)
{
    block b;
    int rc = source_block(&b, yaml, err);
    rd_kafka_conf_t *conf = NULL;
    if (rc == SL_OK) rc = sl_kafka_source_config(b.conf, &env, &conf, err);
    if (conf) rd_kafka_conf_destroy(conf);
    block_free(&b);
    return rc;
}

static rd_kafka_conf_t *sink_conf_of(const char *yaml)
{
    block b;
    sl_error err;
    cr_assert_eq(sink_block(&b, yaml, &err), SL_OK, "%s", err.message);
    rd_kafka_conf_t *conf = NULL;
    cr_assert_eq(sl_kafka_sink_config(b.conf, &conf, &err), SL_OK, "%s", err.message);
    block_free(&b);
    return conf;
}

static int sink_conf_error(const char *yaml, sl_error *err)
{
    block b;
    int rc = sink_block(&b, yaml, err);
    rd_kafka_conf_t *conf = NULL;
    if (rc == SL_OK) rc = sl_kafka_sink_config(b.conf, &conf, err);
    if (conf) rd_kafka_conf_destroy(conf);
    block_free(&b);
    return rc;
}

/* ---- source configuration ------------------------------------------------ */

Test(kafka, source_config_commits_only_by_hand_with_cooperative_assignment)
{
    rd_kafka_conf_t *conf = source_conf_of("brokers: 127.0.0.1:9092,127.0.0.2:9092\ntopic: orders\n");
    assert_property(conf, "bootstrap.servers", "127.0.0.1:9092,127.0.0.2:9092");
    assert_property(conf, "group.id", "orders_in");
    assert_property(conf, "enable.auto.commit", "false");
    assert_property(conf, "enable.auto.offset.store", "false");
    assert_property(conf, "partition.assignment.strategy", "cooperative-sticky");
    assert_property(conf, "auto.offset.reset", "smallest");  /* librdkafka's name for earliest */
    rd_kafka_conf_destroy(conf);
}

Test(kafka, source_config_takes_group_and_start_from_settings)
{
    rd_kafka_conf_t *conf = source_conf_of("brokers: k:9092\ntopics: [a, '^b.*']\ngroup: g1\nstart: latest\n");
    assert_property(conf, "group.id", "g1");
    assert_property(conf, "auto.offset.reset", "largest");
    rd_kafka_conf_destroy(conf);
}

Test(kafka, properties_apply_after_our_settings)
{
    rd_kafka_conf_t *conf = source_conf_of("brokers: k:9092\ntopic: t\n"
                                           "properties:\n"
                                           "  auto.offset.reset: latest\n"
                                           "  fetch.wait.max.ms: 50\n"
                                           "  socket.keepalive.enable: true\n"
                                           "  client.id: custom\n");
    assert_property(conf, "auto.offset.reset", "largest");
    assert_property(conf, "fetch.wait.max.ms", "50");
    assert_property(conf, "socket.keepalive.enable", "true");
    assert_property(conf, "client.id", "custom");
    rd_kafka_conf_destroy(conf);
}

Test(kafka, source_refuses_properties_that_would_commit_ahead_of_sinks)
{
    sl_error err;
    int rc = source_conf_error("brokers: k:9092\ntopic: t\nproperties:\n  enable.auto.commit: true\n", &err);
    cr_assert_eq(rc, SL_ECONFIG);
    cr_assert(strstr(err.message, "test.yaml:4:") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "'enable.auto.commit' cannot be set") != NULL, "%s", err.message);
}

Test(kafka, unknown_property_is_refused_with_position_and_librdkafka_message)
{
    sl_error err;
    int rc = source_conf_error("brokers: k:9092\ntopic: t\nproperties:\n  no.such.thing: 1\n", &err);
    cr_assert_eq(rc, SL_ECONFIG);
    cr_assert(strstr(err.message, "test.yaml:4:") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "kafka: property 'no.such.thing': No such configuration property") != NULL,
              "%s", err.message);
}

Test(kafka, bad_property_value_is_refused_with_librdkafka_message)
{
    sl_error err;
    int rc = sink_conf_error("brokers: k:9092\ntopic: t\nproperties:\n  message.timeout.ms: soon\n", &err);
    cr_assert_eq(rc, SL_ECONFIG);
    cr_assert(strstr(err.message, "kafka: property 'message.timeout.ms': Invalid value") != NULL, "%s",
              err.message);
}

Test(kafka, properties_must_be_a_mapping_of_scalars)
{
    sl_error err;
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nproperties: [a, b]\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "test.yaml:3:13: source.kafka.properties: expected a mapping, found a list") != NULL,
              "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nproperties:\n  debug: [a]\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "property 'debug' must be a scalar") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nproperties:\n  debug:\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "property 'debug' has no value") != NULL, "%s", err.message);
}

Test(kafka, source_needs_exactly_one_of_topic_and_topics)
{
    sl_error err;
    cr_assert_eq(source_conf_error("brokers: k:9092\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "exactly one of topic and topics") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: a\ntopics: [b]\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "exactly one of topic and topics") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "k:9092") != NULL, "%s", err.message);
}

Test(kafka, option_tables_refuse_bad_settings)
{
    cr_assert_eq(sl_kafka_source.options, sl_kafka_source_options);
    cr_assert_eq(sl_kafka_source.conf_size, sizeof(sl_kafka_source_conf));
    cr_assert_eq(sl_kafka_sink.options, sl_kafka_sink_options);
    cr_assert_eq(sl_kafka_sink.conf_size, sizeof(sl_kafka_sink_conf));
    sl_error err;
    cr_assert_eq(source_conf_error("topic: t\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "missing required setting 'brokers'") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nstart: middle\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "earliest") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\npoll_timeout: 2h\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "poll_timeout") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nmax_batch_bytes: 0\n", &err), SL_ECONFIG);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\nmax_record_bytes: 0\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "max_record_bytes") != NULL, "%s", err.message);
    cr_assert_eq(source_conf_error("brokers: k:9092\ntopic: t\ntopicz: u\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "topicz") != NULL, "%s", err.message);
    cr_assert_eq(sink_conf_error("brokers: k:9092\ntopic: t\nacks: 2\n", &err), SL_ECONFIG);
    cr_assert_eq(sink_conf_error("brokers: k:9092\ntopic: t\ncompression: brotli\n", &err), SL_ECONFIG);
    cr_assert_eq(sink_conf_error("brokers: k:9092\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "missing required setting 'topic'") != NULL, "%s", err.message);
    cr_assert_eq(sink_conf_error("brokers: k:9092\ntopic: t\nlinger: 1h\n", &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "test.yaml:3:9: source.kafka.linger: must be at most 15m, found '1h'") != NULL, "%s",
              err.message);
}

/* ---- sink configuration -------------------------------------------------- */

Test(kafka, sink_defaults_are_idempotent_acks_all_and_java_partitioning)
{
    rd_kafka_conf_t *conf = sink_conf_of("brokers: k:9092\ntopic: t\n");
    assert_property(conf, "bootstrap.servers", "k:9092");
    assert_property(conf, "acks", "-1");  /* librdkafka spells "all" as -1 */
    assert_property(conf, "enable.idempotence", "true");
    assert_property(conf, "compression.type", "none");
    assert_property(conf, "linger.ms", "5");
    assert_property(conf, "partitioner", "murmur2_random");
    rd_kafka_conf_destroy(conf);
}

Test(kafka, sink_settings_reach_the_producer)
{
    rd_kafka_conf_t *conf = sink_conf_of("brokers: k:9092\ntopic: t\nacks: 1\ncompression: zstd\nlinger: 250ms\n"
                                         "properties:\n  batch.size: 65536\n");
    assert_property(conf, "acks", "1");
    assert_property(conf, "enable.idempotence", "false");
    assert_property(conf, "compression.type", "zstd");
    assert_property(conf, "linger.ms", "250");
    assert_property(conf, "batch.size", "65536");
    rd_kafka_conf_destroy(conf);
}

/* ---- keys and partitions ------------------------------------------------- */

static sl_record record_from_json(sl_arena *arena, const char *json)
{
    sl_record record = { .partition = -1 };
    record.value = test_parse_json(arena, json);
    record.has_value = true;
    record.key = SL_STR_LIT("own");
    return record;
}

static void assert_key(const sl_kafka_key_path *path, const sl_record *record, const char *want)
{
    sl_buffer scratch = SL_BUFFER_INIT;
    sl_str key;
    cr_assert_eq(sl_kafka_record_key(path, record, &scratch, &key), SL_OK);
    if (!want) cr_assert_eq(key.len, 0, "expected no key, got %.*s", (int)key.len, key.ptr);
    else cr_assert(sl_str_eq_cstr(key, want), "expected %s, got %.*s", want, (int)key.len, key.ptr);
    sl_buffer_free(&scratch);
}

Test(kafka, key_comes_from_path_as_text_or_json_else_record_key)
{
    sl_arena *arena = sl_arena_new(0);
    sl_record record = record_from_json(arena, "{\"id\":42,\"user\":{\"name\":\"ana\",\"tags\":[1,2]},\"n\":null}");
    sl_kafka_key_path path;
    sl_error err;

    cr_assert_eq(sl_kafka_key_path_parse(NULL, &path, &err), SL_OK);
    assert_key(&path, &record, "own");
    sl_kafka_key_path_free(&path);

    const char *cases[][2] = {
        { "id", "42" },
        { "user.name", "ana" },
        { "user.tags", "[1,2]" },
        { "user", "{\"name\":\"ana\",\"tags\":[1,2]}" },
        { "n", NULL },
        { "missing", NULL },
        { "id.deeper", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(sl_kafka_key_path_parse(cases[i][0], &path, &err), SL_OK, "%s", err.message);
        assert_key(&path, &record, cases[i][1]);
        sl_kafka_key_path_free(&path);
    }
    sl_arena_free(arena);
}

Test(kafka, bad_key_path_is_a_config_error)
{
    sl_kafka_key_path path;
    sl_error err;
    cr_assert_eq(sl_kafka_key_path_parse("a..b", &path, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "key 'a..b' is not a path") != NULL, "%s", err.message);
    cr_assert_null(path.text);

    void *state = NULL;
    block b;
    cr_assert_eq(sink_block(&b, "brokers: 127.0.0.1:1\ntopic: t\nkey: '.x'\n", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_kafka_sink.open(b.conf, &env, &state, &err), SL_ECONFIG);
    cr_assert_null(state);
    block_free(&b);
}

/* The producer's partitioner puts keyed records where Java producers and
 * the embedded log's topic sink put them. */
Test(kafka, keys_partition_like_java_and_the_embedded_log)
{
    char message[256];
    rd_kafka_conf_t *conf = sink_conf_of("brokers: 127.0.0.1:1\ntopic: t\n");
    sl_kafka_conf_set_logging(conf);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, message, sizeof message);
    cr_assert_not_null(producer, "%s", message);
    rd_kafka_topic_t *topic = rd_kafka_topic_new(producer, "t", NULL);
    cr_assert_not_null(topic);
    int32_t counts[7] = { 0 };
    for (int i = 0; i < 2000; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%d", i * 7919);
        for (int32_t n = 1; n <= 64; n *= 4) {
            int32_t theirs = rd_kafka_msg_partitioner_murmur2_random(topic, key, (size_t)len, n, NULL, NULL);
            int32_t ours = sl_log_partition_for_key((sl_str){ key, (size_t)len }, n);
            cr_assert_eq(ours, theirs, "key %s over %d partitions", key, n);
        }
        counts[sl_log_partition_for_key((sl_str){ key, (size_t)len }, 7)]++;
    }
    for (int p = 0; p < 7; p++) cr_assert_gt(counts[p], 200, "partition %d got %d keys", p, counts[p]);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer);
}

Test(kafka, delivery_errors_split_into_permanent_and_retriable)
{
    rd_kafka_resp_err_t permanent[] = {
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_INVALID_MSG,
    };
    rd_kafka_resp_err_t retriable[] = {
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__FATAL,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
    };
    for (size_t i = 0; i < sizeof permanent / sizeof permanent[0]; i++)
        cr_assert(sl_kafka_error_is_permanent(permanent[i]), "%s", rd_kafka_err2name(permanent[i]));
    for (size_t i = 0; i < sizeof retriable / sizeof retriable[0]; i++)
        cr_assert(!sl_kafka_error_is_permanent(retriable[i]), "%s", rd_kafka_err2name(retriable[i]));
}

/* ---- without a broker ---------------------------------------------------- */

static void *open_source(const char *yaml, block *b)
{
    sl_error err;
    cr_assert_eq(source_block(b, yaml, &err), SL_OK, "%s", err.message);
    void *state = NULL;
    cr_assert_eq(sl_kafka_source.open(b->conf, &env, &state, &err), SL_OK, "%s", err.message);
    return state;
}

Test(kafka, source_without_messages_says_eagain_and_ends_only_when_stopping)
{
    block b;
    void *source = open_source("brokers: 127.0.0.1:1\ntopic: t\npoll_timeout: 20ms\n", &b);
    sl_batch *batch = sl_batch_new(16);
    sl_error err;
    for (int i = 0; i < 3; i++) {
        sl_batch_reset(batch);
        cr_assert_eq(sl_kafka_source.read(source, batch, &err), SL_EAGAIN);
        cr_assert_eq(batch->n_records, 0);
    }
    cr_assert_eq(sl_kafka_source.commit(source, 3, 10, &err), SL_EINVAL, "no such lane yet");
    cr_assert_eq(sl_kafka_source.persist(source, &err), SL_OK, "nothing to commit is not an error");
    atomic_store(&stopping, true);
    cr_assert_eq(sl_kafka_source.read(source, batch, &err), SL_EOF);
    int64_t started = sl_clock_monotonic_ms();
    sl_kafka_source.close(source);
    cr_assert_lt(sl_clock_monotonic_ms() - started, 5000, "close must not hang without a broker");
    sl_batch_free(batch);
    block_free(&b);
}

Test(kafka, source_regex_subscription_is_accepted)
{
    block b;
    void *source = open_source("brokers: 127.0.0.1:1\ntopics: ['^orders\\..*', audit]\npoll_timeout: 0\n", &b);
    sl_batch *batch = sl_batch_new(4);
    sl_error err;
    cr_assert_eq(sl_kafka_source.read(source, batch, &err), SL_EAGAIN);
    sl_kafka_source.close(source);
    sl_batch_free(batch);
    block_free(&b);
}

static void *open_sink(const char *yaml, block *b)
{
    sl_error err;
    cr_assert_eq(sink_block(b, yaml, &err), SL_OK, "%s", err.message);
    void *state = NULL;
    cr_assert_eq(sl_kafka_sink.open(b->conf, &env, &state, &err), SL_OK, "%s", err.message);
    return state;
}

Test(kafka, sink_rejects_a_record_librdkafka_refuses_as_too_large)
{
    block b;
    void *sink = open_sink("brokers: 127.0.0.1:1\ntopic: big\nproperties:\n  message.max.bytes: 1000\n", &b);
    sl_batch *batch = sl_batch_new(4);
    char *text = malloc(5000);
    memset(text, 'x', 5000);
    test_add_raw(batch, text, 5000, 77);
    sl_error err;
    cr_assert_eq(sl_kafka_sink.write(sink, batch, &err), SL_OK, "%s", err.message);
    cr_assert_eq(seen.n, 1);
    cr_assert_str_eq(seen.stage[0], "sink");
    cr_assert_eq(seen.offset[0], 77);
    cr_assert(strstr(seen.reason[0], "kafka: ") == seen.reason[0], "%s", seen.reason[0]);
    cr_assert(strstr(seen.reason[0], "too large") != NULL, "%s", seen.reason[0]);
    cr_assert(strstr(seen.reason[0], "(topic big)") != NULL, "%s", seen.reason[0]);
    free(text);
    sl_kafka_sink.close(sink);
    sl_batch_free(batch);
    block_free(&b);
}

Test(kafka, sink_write_many_settles_each_batchs_records)
{
    block b;
    void *sink = open_sink("brokers: 127.0.0.1:1\ntopic: big\nproperties:\n  message.max.bytes: 1000\n", &b);
    sl_batch *first = sl_batch_new(4), *second = sl_batch_new(4);
    char *text = calloc(1, 3000);
    memset(text, 'y', 2999);
    test_add_raw(first, text, 2000, 5);
    test_add_raw(second, text, 2999, 9);
    test_add_raw(second, text, 1500, 10);
    const sl_batch *batches[] = { first, second };
    sl_error err;
    cr_assert_eq(sl_kafka_sink.write_many(sink, batches, 2, &err), SL_OK, "%s", err.message);
    cr_assert_eq(seen.n, 3);
    cr_assert_eq(seen.offset[0], 5);
    cr_assert_eq(seen.offset[1], 9);
    cr_assert_eq(seen.offset[2], 10);
    free(text);
    sl_kafka_sink.close(sink);
    sl_batch_free(first);
    sl_batch_free(second);
    block_free(&b);
}

Test(kafka, sink_write_fails_whole_with_eio_when_no_broker_confirms)
{
    block b;
    void *sink = open_sink("brokers: 127.0.0.1:1\ntopic: t\nproperties:\n  message.timeout.ms: 300\n", &b);
    sl_batch *batch = sl_batch_new(4);
    test_add_raw(batch, "{\"a\":1}", 7, 0);
    test_add_raw(batch, "{\"a\":2}", 7, 1);
    sl_error err;
    int64_t started = sl_clock_monotonic_ms();
    cr_assert_eq(sl_kafka_sink.write(sink, batch, &err), SL_EIO);
    cr_assert_lt(sl_clock_monotonic_ms() - started, 5000);
    cr_assert(strstr(err.message, "kafka brokers '127.0.0.1:1'") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "2 of 2 records not delivered") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "timed out") != NULL, "%s", err.message);
    cr_assert_eq(seen.n, 0, "a retriable failure dead-letters nothing");
    sl_kafka_sink.close(sink);
    sl_batch_free(batch);
    block_free(&b);
}

Test(kafka, sink_hint_names_a_command_to_read_the_topic)
{
    block b;
    sl_error err;
    cr_assert_eq(sink_block(&b, "brokers: k:9092\ntopic: out\n", &err), SL_OK, "%s", err.message);
    char hint[256];
    sl_kafka_sink.hint(b.conf, hint, sizeof hint);
    cr_assert_str_eq(hint, "kcat -C -b k:9092 -t out -o beginning -e");
    block_free(&b);
}

/* ---- the client of `sluice topic --kafka` ---------------------------------- */

Test(kafka, cli_consumer_commits_by_hand_and_takes_properties_after_ours)
{
    const char *properties[] = { "auto.offset.reset=latest", "client.id=mine", "security.protocol=plaintext" };
    sl_kafka_cli_conf settings = { .brokers = "k:9092", .group = "g", .properties = properties, .n_properties = 3 };
    rd_kafka_conf_t *conf = NULL;
    sl_error err;
    cr_assert_eq(sl_kafka_cli_config(&settings, &conf, &err), SL_OK, "%s", err.message);
    assert_property(conf, "bootstrap.servers", "k:9092");
    assert_property(conf, "group.id", "g");
    assert_property(conf, "enable.auto.commit", "false");
    assert_property(conf, "enable.partition.eof", "true");
    assert_property(conf, "auto.offset.reset", "largest");
    assert_property(conf, "client.id", "mine");
    assert_property(conf, "security.protocol", "plaintext");
    rd_kafka_conf_destroy(conf);
}

Test(kafka, cli_producer_is_acks_all_with_java_partitioning)
{
    sl_kafka_cli_conf settings = { .brokers = "k:9092", .is_producer = true };
    rd_kafka_conf_t *conf = NULL;
    sl_error err;
    cr_assert_eq(sl_kafka_cli_config(&settings, &conf, &err), SL_OK, "%s", err.message);
    assert_property(conf, "acks", "-1");
    assert_property(conf, "partitioner", "murmur2_random");
    rd_kafka_conf_destroy(conf);
}

Test(kafka, cli_refuses_unknown_and_malformed_properties_naming_them)
{
    const char *unknown[] = { "no.such.thing=1" };
    const char *malformed[] = { "=1" };
    const struct {
        const char *const *properties;
        const char *words;
    } cases[] = {
        { unknown, "kafka: property 'no.such.thing': No such configuration property" },
        { malformed, "kafka: property '=1' is not name=value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_kafka_cli_conf settings = { .brokers = "k:9092", .properties = cases[i].properties, .n_properties = 1 };
        rd_kafka_conf_t *conf = NULL;
        sl_error err;
        cr_assert_eq(sl_kafka_cli_config(&settings, &conf, &err), SL_ECONFIG);
        cr_assert_null(conf);
        cr_assert(strstr(err.message, cases[i].words) != NULL, "%s", err.message);
    }
    sl_kafka_cli_conf empty = { .brokers = "" };
    rd_kafka_conf_t *conf = NULL;
    sl_error err;
    cr_assert_eq(sl_kafka_cli_config(&empty, &conf, &err), SL_ECONFIG);
}
