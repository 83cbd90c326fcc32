/* plan_test.c — config files turned into checked plans: every mistake is
 * reported with file:line:column before anything runs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/kafka/kafka_common.h"
#include "runtime/dlq.h"
#include "runtime/plan.h"
#include "runtime/plan_settings.h"

static char config_path[64];

static int load_text(const char *text, sl_plan **plan, sl_error *err)
{
    strcpy(config_path, "/tmp/sluice-plan-XXXXXX");
    int fd = mkstemp(config_path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_error_clear(err);
    int rc = sl_plan_load(config_path, plan, err);
    unlink(config_path);
    return rc;
}

/* Asserts that text fails to load with a message containing want after
 * the file name. */
static void expect_error(const char *text, const char *want)
{
    sl_plan *plan = NULL;
    sl_error err;
    int rc = load_text(text, &plan, &err);
    cr_assert_neq(rc, SL_OK, "expected an error containing '%s'", want);
    cr_assert_null(plan);
    cr_assert(strncmp(err.message, config_path, strlen(config_path)) == 0,
              "message should start with the file: %s", err.message);
    cr_assert(strstr(err.message, want), "message '%s' should contain '%s'", err.message, want);
}

/* Asserts that text fails with exactly the errors in want (NULL-ended),
 * each found as a substring of one diagnostic, in file order. */
static void expect_all_errors(const char *text, const char *const *want)
{
    strcpy(config_path, "/tmp/sluice-plan-XXXXXX");
    int fd = mkstemp(config_path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, config_path);
    sl_plan *plan = NULL;
    cr_assert_eq(sl_plan_check(config_path, &plan, &diags), SL_ECONFIG);
    unlink(config_path);
    cr_assert_null(plan);
    sl_diagnostics_sort(&diags);
    size_t n_want = 0;
    while (want[n_want]) n_want++;
    cr_assert_eq(diags.n_items, n_want, "%zu diagnostics, expected %zu", diags.n_items, n_want);
    for (size_t i = 0; i < n_want; i++) {
        char message[1200];
        sl_diagnostic_format(&diags.items[i], message, sizeof message);
        cr_assert(strstr(message, want[i]), "diagnostic %zu '%s' should contain '%s'", i, message, want[i]);
    }
    sl_diagnostics_free(&diags);
}

static const char *const seed =
    "pipelines:\n"
    "  ingest_users:\n"
    "    source:  { generator: { kind: users, count: 1000, seed: 42 } }\n"
    "    sink:    { topic: { name: user_data, partitions: 4, key: login.uuid } }\n"
    "  store_users:\n"
    "    source:  { topic: { name: user_data, group: store_users } }\n"
    "    transform:\n"
    "      sql: SELECT uuid(login.uuid) AS id, name.first AS first_name FROM input\n"
    "    sinks:\n"
    "      - { sqlite: { path: data/users.db, table: created_users, key: [id] } }\n"
    "      - { file: { path: data/users.jsonl } }\n"
    "dags:\n"
    "  user_automation:\n"
    "    schedule: \"@daily\"\n"
    "    tasks:\n"
    "      stream_data: { pipeline: ingest_users, retries: 3, timeout: 10m }\n";

Test(plan, loads_the_seed_pipelines_with_their_connectors_and_sql)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(seed, &plan, &err), SL_OK, "%s", err.message);
    cr_assert_eq(plan->n_pipelines, 2);
    cr_assert_eq(plan->n_dags, 1);
    cr_assert_str_eq(plan->data_dir, "./data");
    const sl_pipeline_plan *store = sl_plan_pipeline(plan, "store_users");
    cr_assert_not_null(store);
    cr_assert_str_eq(store->source_ops->name, "topic");
    cr_assert_eq(store->n_sinks, 2);
    cr_assert_str_eq(store->sinks[0].ops->name, "sqlite");
    cr_assert_str_eq(store->sinks[1].ops->name, "file");
    cr_assert_eq(sl_sql_n_columns(store->program), 2);
    cr_assert_str_eq(store->dlq_topic, "store_users.dlq");
    cr_assert_gt(store->workers, 0);
    cr_assert_eq(store->batch_size, 1024);
    sl_plan_free(plan);
}

Test(plan, rejects_an_unknown_top_level_key_at_its_position)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\nfoo: 1\n", ":3:1: unknown setting 'foo'");
}

Test(plan, rejects_an_unknown_connector_setting)
{
    expect_error("pipelines:\n  p:\n    source: { generator: { kind: users, colour: red } }\n    sink: { stdio: {} }\n",
                 ":3:41: unknown setting 'colour'");
}

Test(plan, rejects_an_unknown_connector_naming_the_known_ones)
{
    expect_error("pipelines:\n  p:\n    source: { kafkaa: { topic: x } }\n    sink: { stdio: {} }\n",
                 "unknown source connector 'kafkaa' (sources: generator, topic");
}

/* At the SQL's own line and column in the file when the file holds it
 * verbatim (one quoted line, a literal block); else at the value, with the
 * SQL's position. */
Test(plan, reports_sql_errors_at_their_place_in_the_file)
{
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n    transform: { sql: \"SELECT FROM input\" }\n"
                 "    sink: { stdio: {} }\n",
                 ":4:31: pipelines.p.transform.sql: expected expression, found 'FROM'");
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n    transform:\n      sql: |\n        SELECT a,\n"
                 "          b c d\n        FROM input\n    sink: { stdio: {} }\n",
                 ":7:15: pipelines.p.transform.sql: expected ',' or FROM, found 'd'");
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n    transform: { sql: \"SELECT \\u0041 FROM input x y\" }\n"
                 "    sink: { stdio: {} }\n",
                 ":4:23: pipelines.p.transform.sql: line 1 column 23: expected end of statement, found 'y'");
}

Test(plan, requires_a_sink)
{
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n", "missing required setting 'sink'");
}

Test(plan, rejects_a_dag_task_naming_an_unknown_pipeline)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\n"
                 "dags:\n  d:\n    schedule: \"@daily\"\n    tasks:\n      t: { pipeline: nope }\n",
                 "no pipeline named 'nope'");
}

Test(plan, rejects_a_missing_required_connector_setting)
{
    expect_error("pipelines:\n  p:\n    source: { topic: { group: g } }\n    sink: { stdio: {} }\n",
                 "missing required setting 'name'");
}

Test(plan, expands_environment_variables_in_settings)
{
    setenv("SLUICE_PLAN_TEST_DIR", "/tmp/elsewhere", 1);
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("data_dir: ${SLUICE_PLAN_TEST_DIR}\n"
                           "pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} }, workers: ${W:-3} }\n",
                           &plan, &err),
                 SL_OK, "%s", err.message);
    cr_assert_str_eq(plan->data_dir, "/tmp/elsewhere");
    cr_assert_eq(plan->pipelines[0].workers, 3);
    sl_plan_free(plan);
}

Test(plan, checks_every_pipeline_and_part_past_the_first_mistake)
{
    expect_all_errors("pipelines:\n"
                      "  a:\n"
                      "    source: { generator: { kind: users, count: -1 } }\n"
                      "    sink: { stdio: { x: 1 } }\n"
                      "    batch_size: 0\n"
                      "  b:\n"
                      "    source: { nope: {} }\n"
                      "    transform: { sql: \"SELECT FROM input\" }\n"
                      "    sink: { sqlite: { path: u.db, table: t, key: [id] } }\n"
                      "auth: {}\n",
                      (const char *[]){ ":3:48: pipelines.a.source.generator.count: must be at least 0",
                                        ":4:22: unknown setting 'x' in pipelines.a.sink.stdio",
                                        ":5:17: pipelines.a.batch_size: must be between 1 and 1000000",
                                        ":7:15: pipelines.b.source: unknown source connector 'nope'",
                                        ":8:31: pipelines.b.transform.sql: expected expression",
                                        ":10:7: auth: missing required setting 'tokens'", NULL });
}

Test(plan, a_dag_with_every_kind_of_schedule_and_task_is_valid)
{
    static const char *const text =
        "pipelines:\n"
        "  feed: { source: { generator: { kind: sequence, count: 5 } }, sink: { topic: { name: ev } } }\n"
        "  copy: { source: { topic: { name: ev, group: c } }, sink: { file: { path: o.jsonl } } }\n"
        "dags:\n"
        "  a:\n"
        "    schedule: \"*/15 9-17 * * mon-fri\"\n"
        "    timezone: Europe/Berlin\n"
        "    start_date: 2026-01-01\n"
        "    end_date: 2026-12-31T23:00:00+01:00\n"
        "    catchup: true\n"
        "    max_active_runs: 2\n"
        "    dagrun_timeout: 1h\n"
        "    tasks:\n"
        "      load: { pipeline: feed, retries: 3, retry_delay: 10s, retry_exponential_backoff: true, "
        "max_retry_delay: 5m, timeout: 10m }\n"
        "      wait: { sensor: { topic: ev, group: c, poke_interval: 1s }, depends_on: [load] }\n"
        "      sql: { sql: { database: t.db, statement: 'DELETE FROM t' }, depends_on: [wait] }\n"
        "      ls: { command: [ls, -l], depends_on: [load], trigger_rule: all_done }\n"
        "      sh: { shell: 'echo done', depends_on: [sql, ls], trigger_rule: none_failed }\n"
        "      bounce: { control: { action: restart, pipeline: copy } }\n"
        "  b: { schedule: { every: 30s }, tasks: { t: { command: \"true\" } } }\n"
        "  c: { schedule: null, tasks: { t: { command: \"true\" } } }\n"
        "  d: { tasks: { t: { command: \"true\" } } }\n";
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(text, &plan, &err), SL_OK, "%s", err.message);
    cr_assert_eq(plan->n_dags, 4);
    sl_plan_free(plan);
}

Test(plan, run_macros_in_dag_tasks_are_valid_and_kept_for_the_run)
{
    static const char *const text =
        "dags:\n"
        "  nightly:\n"
        "    schedule: \"@daily\"\n"
        "    tasks:\n"
        "      echo: { command: [echo, \"${ds}\"] }\n"
        "      sh: { shell: 'echo ${run_id} ${try_number}' }\n"
        "      sql: { sql: { database: t.db, statement: \"DELETE FROM t WHERE day = '${ds}'\" } }\n";
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(text, &plan, &err), SL_OK, "%s", err.message);
    const sl_node *tasks = sl_node_get(sl_node_get(sl_node_get(sl_config_root(plan->doc), "dags"), "nightly"), "tasks");
    cr_assert_str_eq(sl_node_get(sl_node_get(tasks, "echo"), "command")->items[1]->scalar, "${ds}");
    cr_assert_str_eq(sl_node_get(sl_node_get(tasks, "sh"), "shell")->scalar, "echo ${run_id} ${try_number}");
    cr_assert_str_eq(sl_node_get(sl_node_get(sl_node_get(tasks, "sql"), "sql"), "statement")->scalar,
                     "DELETE FROM t WHERE day = '${ds}'");
    sl_plan_free(plan);
}

Test(plan, a_file_of_dags_alone_is_valid_with_no_pipelines)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("dags:\n  nightly:\n    schedule: \"@daily\"\n    tasks:\n      t: { command: \"true\" }\n",
                           &plan, &err), SL_OK, "%s", err.message);
    cr_assert_eq(plan->n_pipelines, 0);
    cr_assert_eq(plan->n_dags, 1);
    sl_plan_free(plan);
    expect_error("data_dir: d\n", "a config file needs 'pipelines' (or 'dags')");
    expect_error("pipelines:\n", ":1:1: pipelines: expected a mapping of pipelines by name");
}

Test(plan, the_dead_letter_size_bound_is_the_dlq_limit)
{
    const sl_option *option = sl_option_find(sl_pipeline_options, "dlq_max_record_bytes");
    cr_assert_not_null(option);
    int64_t max = 0;
    cr_assert_eq(sl_parse_size(option->max, &max), SL_OK);
    cr_assert_eq(max, SL_DLQ_MAX_RECORD_BYTES_LIMIT);
}

Test(plan, names_the_file_when_it_cannot_be_read)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_neq(sl_plan_load("/nonexistent/sluice.yaml", &plan, &err), SL_OK);
    cr_assert(strstr(err.message, "/nonexistent/sluice.yaml"), "%s", err.message);
}

/* ---- topics: { kafka: ... } ---- */

static const char *const seed_on_kafka =
    "pipelines:\n"
    "  ingest_users:\n"
    "    source:  { generator: { kind: users, count: 1000, seed: 42 } }\n"
    "    sink:    { topic: { name: user_data, partitions: 4, key: login.uuid } }\n"
    "  store_users:\n"
    "    source:  { topic: { name: user_data, group: store_users, start: latest } }\n"
    "    sink:    { stdio: {} }\n"
    "topics:\n"
    "  kafka: { brokers: \"${SLUICE_PLAN_TEST_KAFKA:-k1:9092,k2:9092}\", properties: { client.rack: r1 } }\n";

Test(plan, maps_topic_blocks_onto_the_kafka_connector_with_the_topics_brokers)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(seed_on_kafka, &plan, &err), SL_OK, "%s", err.message);
    const sl_pipeline_plan *ingest = sl_plan_pipeline(plan, "ingest_users");
    cr_assert_str_eq(ingest->sinks[0].ops->name, "kafka");
    const sl_kafka_sink_conf *sink = ingest->sinks[0].conf;
    cr_assert_str_eq(sink->brokers, "k1:9092,k2:9092");
    cr_assert_str_eq(sink->topic, "user_data");
    cr_assert_str_eq(sink->key, "login.uuid");
    cr_assert_eq(sink->partitions, 4);
    cr_assert_not_null(sink->properties);
    cr_assert_str_eq(sl_node_get(sink->properties, "client.rack")->scalar, "r1");
    cr_assert_str_eq(ingest->sinks[0].ops->topic_name(sink), "user_data");
    const sl_pipeline_plan *store = sl_plan_pipeline(plan, "store_users");
    cr_assert_str_eq(store->source_ops->name, "kafka");
    const sl_kafka_source_conf *source = store->source_conf;
    cr_assert_str_eq(source->brokers, "k1:9092,k2:9092");
    cr_assert_str_eq(source->topic, "user_data");
    cr_assert_str_eq(source->group, "store_users");
    cr_assert_str_eq(source->start, "latest");
    cr_assert_str_eq(store->sinks[0].ops->name, "stdio");
    cr_assert_str_eq(store->dlq_topic, "store_users.dlq");
    sl_plan_free(plan);
}

Test(plan, leaves_partitions_to_the_broker_when_a_mapped_sink_does_not_set_them)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("pipelines:\n  p:\n    source: { stdio: {} }\n    sink: { topic: { name: t } }\n"
                           "topics: { kafka: { brokers: b:9092 } }\n", &plan, &err),
                 SL_OK, "%s", err.message);
    const sl_kafka_sink_conf *sink = plan->pipelines[0].sinks[0].conf;
    cr_assert_str_eq(plan->pipelines[0].sinks[0].ops->name, "kafka");
    cr_assert_eq(sink->partitions, 0);
    cr_assert_null(sink->properties);
    sl_plan_free(plan);
}

Test(plan, keeps_topic_blocks_embedded_without_a_topics_block)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(seed, &plan, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(sl_plan_pipeline(plan, "ingest_users")->sinks[0].ops->name, "topic");
    sl_plan_free(plan);
}

Test(plan, rejects_an_unknown_key_under_topics_kafka_at_its_position)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\n"
                 "topics:\n  kafka:\n    brokers: b:9092\n    acks: all\n",
                 ":6:5: unknown setting 'acks'");
}

Test(plan, rejects_a_topics_block_naming_something_other_than_kafka)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\n"
                 "topics: { pulsar: { url: x } }\n",
                 ":3:9: topics: missing required setting 'kafka'");
    expect_all_errors("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\n"
                      "topics: { pulsar: { url: x } }\n",
                      (const char *[]){ ":3:9: topics: missing required setting 'kafka'",
                                        ":3:11: unknown setting 'pulsar' in topics", NULL });
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\ntopics: {}\n",
                 "missing required setting 'kafka'");
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\ntopics: { kafka: {} }\n",
                 "topics.kafka: missing required setting 'brokers'");
}

Test(plan, checks_mapped_topic_blocks_with_the_topic_connectors_own_messages)
{
    expect_error("pipelines:\n  p:\n    source: { topic: { name: t, colour: red } }\n    sink: { stdio: {} }\n"
                 "topics: { kafka: { brokers: b:9092 } }\n",
                 ":3:33: unknown setting 'colour'");
    expect_error("pipelines:\n  p:\n    source: { topic: { group: g } }\n    sink: { stdio: {} }\n"
                 "topics: { kafka: { brokers: b:9092 } }\n",
                 "pipelines.p.source.topic: missing required setting 'name'");
}

Test(plan, refuses_embedded_only_sink_settings_when_topics_are_on_kafka)
{
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n"
                 "    sink: { topic: { name: t, retention: 1d } }\n"
                 "topics: { kafka: { brokers: b:9092 } }\n",
                 ":4:31: pipelines.p.sink.topic: 'retention' only applies to embedded topics");
}

Test(plan, a_sqlite_key_the_sql_does_not_produce_is_refused_at_the_key)
{
    expect_error("pipelines:\n"
                 "  p:\n"
                 "    source: { generator: { kind: users, count: 1 } }\n"
                 "    transform: { sql: \"SELECT login.uuid AS uid, name.first AS first FROM input\" }\n"
                 "    sink: { sqlite: { path: u.db, table: t, key: [uid, id] } }\n",
                 ":5:50: pipelines.p.sink.sqlite.key: key column 'id' is not an output column of the "
                 "pipeline's SQL (it has: uid, first)");
    expect_error("pipelines:\n"
                 "  p:\n"
                 "    source: { generator: { kind: users, count: 1 } }\n"
                 "    sink: { sqlite: { path: u.db, table: t, key: [id], columns: { uid: TEXT } } }\n",
                 "pipelines.p.sink.sqlite.key: key column 'id' is not one of the declared columns");
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("pipelines:\n"
                           "  p:\n"
                           "    source: { generator: { kind: users, count: 1 } }\n"
                           "    transform: { sql: SELECT * FROM input }\n"
                           "    sink: { sqlite: { path: u.db, table: t, key: [id], retry_limit: 1s } }\n",
                           &plan, &err), SL_ECONFIG, "retry_limit belongs to the pipeline, not the sink");
    cr_assert_eq(load_text("pipelines:\n"
                           "  p:\n"
                           "    source: { generator: { kind: users, count: 1 } }\n"
                           "    transform: { sql: SELECT * FROM input }\n"
                           "    sink: { sqlite: { path: u.db, table: t, key: [id] } }\n"
                           "    retry_limit: 30s\n",
                           &plan, &err), SL_OK, "with SELECT * only the records can tell: %s", err.message);
    cr_assert_eq(plan->pipelines[0].retry_limit_ms, 30000);
    sl_plan_free(plan);
}

Test(plan, a_topic_blocks_compression_maps_onto_the_kafka_sinks_and_is_checked_as_one_of_the_codecs)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("pipelines:\n  p:\n    source: { stdio: {} }\n"
                           "    sink: { topic: { name: t, compression: zstd } }\n"
                           "topics: { kafka: { brokers: b:9092 } }\n", &plan, &err),
                 SL_OK, "%s", err.message);
    const sl_kafka_sink_conf *sink = plan->pipelines[0].sinks[0].conf;
    cr_assert_str_eq(sink->compression, "zstd");
    sl_plan_free(plan);
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n"
                 "    sink: { topic: { name: t, compression: brotli } }\n",
                 ":4:44: pipelines.p.sink.topic.compression: expected one of none, lz4, zstd, gzip, snappy; "
                 "found 'brotli'");
}
