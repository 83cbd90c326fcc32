/* plan.c — loading and checking a sluice config (see plan.h).
 *
 * Every block is checked against an option table so unknown keys are
 * errors, not warnings. A connector block is a mapping with exactly one key,
 * the connector's name, whose value holds its settings:
 *     source: { topic: { name: user_data } }
 *
 * A top-level `topics: { kafka: { brokers, properties } }` puts every
 * `topic:` block on Kafka: each is checked against the topic connector's
 * own table first (same messages as the embedded case), then loaded as the
 * `kafka` connector with the topics block's brokers and properties. Settings
 * only the embedded log has (segments, retention, fsync) are refused when
 * written out, since Kafka would silently ignore them.
 */
#include "runtime/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/options.h"
#include "runtime/dlq.h"

typedef struct top_conf {
    char *data_dir;
    const sl_node *pipelines;
    const sl_node *dags;
    const sl_node *topics;
    const sl_node *metadata;
    const sl_node *http;
    const sl_node *auth;
    const sl_node *alerts;
    const sl_node *log;
} top_conf;

static const sl_option top_options[] = {
    { "data_dir", SL_OPT_STRING, offsetof(top_conf, data_dir), .default_value = "./data",
      .help = "where topics, group offsets and metadata live" },
    { "pipelines", SL_OPT_NODE, offsetof(top_conf, pipelines), .help = "name → pipeline" },
    { "dags", SL_OPT_NODE, offsetof(top_conf, dags), .help = "name → scheduled DAG" },
    { "topics", SL_OPT_NODE, offsetof(top_conf, topics), .help = "where topic: blocks live" },
    { "metadata", SL_OPT_NODE, offsetof(top_conf, metadata), .help = "metadata store" },
    { "http", SL_OPT_NODE, offsetof(top_conf, http), .help = "HTTP listener" },
    { "auth", SL_OPT_NODE, offsetof(top_conf, auth), .help = "API tokens" },
    { "alerts", SL_OPT_NODE, offsetof(top_conf, alerts), .help = "alert rules" },
    { "log", SL_OPT_NODE, offsetof(top_conf, log), .help = "diagnostic log" },
    { 0 }
};

/* topics: where `topic:` blocks live. Only Kafka can replace the embedded
 * log for now; without the block they are embedded. */
typedef struct topics_conf {
    const sl_node *kafka;
} topics_conf;

static const sl_option topics_options[] = {
    { "kafka", SL_OPT_NODE, offsetof(topics_conf, kafka), .required = true,
      .help = "put every topic: block on Kafka: { brokers, properties }" },
    { 0 }
};

typedef struct topics_kafka_conf {
    char *brokers;
    const sl_node *properties;
} topics_kafka_conf;

static const sl_option topics_kafka_options[] = {
    { "brokers", SL_OPT_STRING, offsetof(topics_kafka_conf, brokers), .required = true,
      .help = "bootstrap brokers, host:port[,host:port...]" },
    { "properties", SL_OPT_NODE, offsetof(topics_kafka_conf, properties),
      .help = "librdkafka properties for every mapped source and sink" },
    { 0 }
};

/* The checked topics.kafka block: its nodes, borrowed from the document,
 * become settings of each mapped kafka block. kafka is NULL when topics
 * are embedded. */
typedef struct topics_target {
    const sl_node *kafka;
    const sl_node_pair *brokers;
    const sl_node_pair *properties;     /* NULL when not given */
} topics_target;

/* How a `topic:` setting is spelled in the kafka connector. */
typedef struct setting_rename {
    const char *topic_key;
    const char *kafka_key;
} setting_rename;

static const setting_rename source_renames[] = {
    { "name", "topic" },
    { "group", "group" },
    { "start", "start" },
    { "max_batch_bytes", "max_batch_bytes" },
    { 0 }
};

static const setting_rename sink_renames[] = {
    { "name", "topic" },
    { "partitions", "partitions" },
    { "key", "key" },
    { "compression", "compression" },
    { 0 }
};

#define PLAN_MAX_MAPPED_SETTINGS 16

typedef struct log_conf {
    char *level;
    char *format;
} log_conf;

static const char *const level_choices[] = { "debug", "info", "warn", "error", "off", NULL };
static const char *const format_choices[] = { "text", "json", NULL };

static const sl_option log_options[] = {
    { "level", SL_OPT_STRING, offsetof(log_conf, level), .default_value = "info", .choices = level_choices },
    { "format", SL_OPT_STRING, offsetof(log_conf, format), .default_value = "text", .choices = format_choices },
    { 0 }
};

typedef struct pipeline_conf {
    const sl_node *source;
    const sl_node *transform;
    const sl_node *sink;
    const sl_node *sinks;
    int64_t workers;
    int64_t batch_size;
    int64_t max_inflight;
    int64_t commit_interval_ms;
    int64_t retry_limit_ms;
    char *dlq;
    int64_t dlq_max_record_bytes;
    char *description;
} pipeline_conf;

static const sl_option pipeline_options[] = {
    { "source", SL_OPT_NODE, offsetof(pipeline_conf, source), .required = true },
    { "transform", SL_OPT_NODE, offsetof(pipeline_conf, transform) },
    { "sink", SL_OPT_NODE, offsetof(pipeline_conf, sink) },
    { "sinks", SL_OPT_NODE, offsetof(pipeline_conf, sinks) },
    { "workers", SL_OPT_INT, offsetof(pipeline_conf, workers), .default_value = "0",
      .help = "worker threads; 0 = one per core" },
    { "batch_size", SL_OPT_INT, offsetof(pipeline_conf, batch_size), .default_value = "1024" },
    { "max_inflight", SL_OPT_INT, offsetof(pipeline_conf, max_inflight), .default_value = "0",
      .help = "batches in flight at once; 0 = 2 per worker + 6" },
    { "commit_interval", SL_OPT_DURATION, offsetof(pipeline_conf, commit_interval_ms),
      .default_value = "1s", .help = "how often source positions are persisted" },
    { "retry_limit", SL_OPT_DURATION, offsetof(pipeline_conf, retry_limit_ms), .default_value = "5m",
      .help = "how long a transient error of a sink or source (server down, timeout, database locked) "
              "is retried, with exponential backoff up to 5 s, before the pipeline fails; 0 = never retry" },
    { "dlq", SL_OPT_STRING, offsetof(pipeline_conf, dlq), .help = "dead-letter topic (default <pipeline>.dlq)" },
    { "dlq_max_record_bytes", SL_OPT_SIZE, offsetof(pipeline_conf, dlq_max_record_bytes), .default_value = "16MiB",
      .help = "largest dead letter (key + value + headers); a bad record over it fails the run, never stored cut" },
    { "description", SL_OPT_STRING, offsetof(pipeline_conf, description) },
    { 0 }
};

typedef struct transform_conf {
    char *sql;
} transform_conf;

static const sl_option transform_options[] = {
    { "sql", SL_OPT_STRING, offsetof(transform_conf, sql), .required = true,
      .help = "SELECT ... FROM input [WHERE ...]" },
    { 0 }
};

typedef struct dag_conf {
    char *schedule;
    const sl_node *tasks;
    bool catchup;
    bool paused;
    char *description;
} dag_conf;

static const sl_option dag_options[] = {
    { "schedule", SL_OPT_STRING, offsetof(dag_conf, schedule), .required = true,
      .help = "cron expression, @hourly/@daily/@weekly, or an interval" },
    { "tasks", SL_OPT_NODE, offsetof(dag_conf, tasks), .required = true },
    { "catchup", SL_OPT_BOOL, offsetof(dag_conf, catchup), .default_value = "false" },
    { "paused", SL_OPT_BOOL, offsetof(dag_conf, paused), .default_value = "false" },
    { "description", SL_OPT_STRING, offsetof(dag_conf, description) },
    { 0 }
};

typedef struct task_conf {
    char *pipeline;
    char *command;
    int64_t retries;
    int64_t timeout_ms;
    int64_t retry_delay_ms;
    sl_str_list depends_on;
} task_conf;

static const sl_option task_options[] = {
    { "pipeline", SL_OPT_STRING, offsetof(task_conf, pipeline) },
    { "command", SL_OPT_STRING, offsetof(task_conf, command) },
    { "retries", SL_OPT_INT, offsetof(task_conf, retries), .default_value = "0" },
    { "timeout", SL_OPT_DURATION, offsetof(task_conf, timeout_ms), .default_value = "0" },
    { "retry_delay", SL_OPT_DURATION, offsetof(task_conf, retry_delay_ms), .default_value = "30s" },
    { "depends_on", SL_OPT_STR_LIST, offsetof(task_conf, depends_on) },
    { 0 }
};

static void sink_plan_clear(sl_sink_plan *sink)
{
    if (sink->conf) {
        sl_options_free(sink->ops->options, sink->conf);
        free(sink->conf);
    }
}

static void pipeline_plan_clear(sl_pipeline_plan *pipeline)
{
    if (pipeline->source_conf) {
        sl_options_free(pipeline->source_ops->options, pipeline->source_conf);
        free(pipeline->source_conf);
    }
    sl_sql_free(pipeline->program);
    for (size_t i = 0; i < pipeline->n_sinks; i++) sink_plan_clear(&pipeline->sinks[i]);
    free(pipeline->sinks);
    free(pipeline->dlq_topic);
}

void sl_plan_free(sl_plan *plan)
{
    if (!plan) return;
    for (size_t i = 0; i < plan->n_pipelines; i++) pipeline_plan_clear(&plan->pipelines[i]);
    free(plan->pipelines);
    free(plan->data_dir);
    free(plan->log_level);
    free(plan->log_format);
    sl_config_free(plan->doc);
    free(plan);
}

const sl_pipeline_plan *sl_plan_pipeline(const sl_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->n_pipelines; i++)
        if (strcmp(plan->pipelines[i].name, name) == 0) return &plan->pipelines[i];
    return NULL;
}

/* A connector block: { <name>: { settings } }. Finds the connector's name
 * and settings node, or explains what is wrong with the block. */
static int connector_block(const sl_node *block, const char *where, const char *known,
                           const char **name, const sl_node **settings, sl_error *err)
{
    if (block->kind != SL_NODE_MAP || block->n_pairs != 1)
        return sl_node_error(err, block, "%s: expected one connector, as { <connector>: { settings } } (connectors: %s)",
                             where, known);
    *name = block->pairs[0].key;
    *settings = block->pairs[0].value;
    if ((*settings)->kind == SL_NODE_SCALAR && (*settings)->is_null) *settings = NULL;
    else if ((*settings)->kind != SL_NODE_MAP)
        return sl_node_error(err, *settings, "%s.%s: expected a mapping of settings, found a %s",
                             where, *name, sl_node_kind_name((*settings)->kind));
    return SL_OK;
}

/* Checks a topic: block against the topic connector's own table, so a
 * mistake reads the same whether topics are embedded or on Kafka. */
static int check_topic_settings(const sl_option *table, size_t conf_size, const sl_node *settings,
                                const char *where, sl_error *err)
{
    void *conf = calloc(1, conf_size);
    if (!conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_options_apply(table, settings, conf, where, err);
    sl_options_free(table, conf);
    free(conf);
    return rc;
}

/* Fills kafka_conf (zeroed, laid out for table) from a checked topic:
 * block. The mapping applied is made of the topics.kafka block's brokers and
 * properties and the block's own settings renamed; its values are the
 * file's nodes, so any message still points into the file. A setting with
 * no Kafka counterpart (segments, retention, fsync) is refused. */
static int apply_on_kafka(const topics_target *topics, const setting_rename *renames, const sl_option *table,
                          const sl_node *settings, void *kafka_conf, const char *where, sl_error *err)
{
    sl_node_pair pairs[PLAN_MAX_MAPPED_SETTINGS];
    size_t n = 0;
    pairs[n] = *topics->brokers;
    pairs[n++].key = "brokers";
    if (topics->properties) {
        pairs[n] = *topics->properties;
        pairs[n++].key = "properties";
    }
    for (size_t i = 0; i < settings->n_pairs; i++) {
        const sl_node_pair *pair = &settings->pairs[i];
        const setting_rename *rename = renames;
        while (rename->topic_key && strcmp(rename->topic_key, pair->key) != 0) rename++;
        if (!rename->topic_key) {
            sl_node key_node = *pair->value;
            key_node.line = pair->key_line;
            key_node.column = pair->key_column;
            return sl_node_error(err, &key_node,
                                 "%s: '%s' only applies to embedded topics, and topics are on Kafka here "
                                 "(topics.kafka at line %d); remove it",
                                 where, pair->key, topics->kafka->line);
        }
        if (n == PLAN_MAX_MAPPED_SETTINGS) return sl_node_error(err, settings, "%s: too many settings", where);
        pairs[n] = *pair;
        pairs[n++].key = rename->kafka_key;
    }
    sl_node map = *settings;
    map.pairs = pairs;
    map.n_pairs = n;
    return sl_options_apply(table, &map, kafka_conf, where, err);
}

/* A topic: source on Kafka: { name, group, start, max_batch_bytes } becomes
 * kafka { brokers, topic: name, group, start, max_batch_bytes, properties }. */
static int map_topic_source(sl_pipeline_plan *pipeline, const topics_target *topics, const sl_node *settings,
                            const char *where, sl_error *err)
{
    const sl_source_ops *topic_ops = sl_connector_source("topic");
    int rc = check_topic_settings(topic_ops->options, topic_ops->conf_size, settings, where, err);
    if (rc) return rc;
    pipeline->source_ops = sl_connector_source("kafka");
    pipeline->source_conf = calloc(1, pipeline->source_ops->conf_size);
    if (!pipeline->source_conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    return apply_on_kafka(topics, source_renames, pipeline->source_ops->options, settings,
                          pipeline->source_conf, where, err);
}

/* A topic: sink on Kafka: { name, partitions, key } becomes kafka { brokers,
 * topic: name, partitions, key, properties }. */
static int map_topic_sink(sl_sink_plan *sink, const topics_target *topics, const sl_node *settings,
                          const char *where, sl_error *err)
{
    const sl_sink_ops *topic_ops = sl_connector_sink("topic");
    int rc = check_topic_settings(topic_ops->options, topic_ops->conf_size, settings, where, err);
    if (rc) return rc;
    sink->ops = sl_connector_sink("kafka");
    sink->conf = calloc(1, sink->ops->conf_size);
    if (!sink->conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    return apply_on_kafka(topics, sink_renames, sink->ops->options, settings, sink->conf, where, err);
}

static int load_source(sl_pipeline_plan *pipeline, const topics_target *topics, const sl_node *block,
                       sl_error *err)
{
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s.source", pipeline->name);
    const char *name;
    const sl_node *settings;
    int rc = connector_block(block, where, sl_connector_source_names(), &name, &settings, err);
    if (rc) return rc;
    if (topics->kafka && strcmp(name, "topic") == 0) {
        snprintf(where, sizeof where, "pipelines.%s.source.topic", pipeline->name);
        return map_topic_source(pipeline, topics, settings, where, err);
    }
    pipeline->source_ops = sl_connector_source(name);
    if (!pipeline->source_ops) {
        const sl_node_pair *pair = &block->pairs[0];
        sl_node key_node = *block;
        key_node.line = pair->key_line;
        key_node.column = pair->key_column;
        return sl_node_error(err, &key_node, "%s: unknown source connector '%s' (sources: %s)", where,
                             name, sl_connector_source_names());
    }
    pipeline->source_conf = calloc(1, pipeline->source_ops->conf_size);
    if (!pipeline->source_conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    snprintf(where, sizeof where, "pipelines.%s.source.%s", pipeline->name, name);
    return sl_options_apply(pipeline->source_ops->options, settings, pipeline->source_conf, where, err);
}

static int load_sink(const topics_target *topics, sl_sink_plan *sink, const sl_node *block, const char *where,
                     sl_error *err)
{
    const char *name;
    const sl_node *settings;
    int rc = connector_block(block, where, sl_connector_sink_names(), &name, &settings, err);
    if (rc) return rc;
    char inner[700];
    snprintf(inner, sizeof inner, "%s.%s", where, name);
    sink->node = settings;
    if (topics->kafka && strcmp(name, "topic") == 0) return map_topic_sink(sink, topics, settings, inner, err);
    sink->ops = sl_connector_sink(name);
    if (!sink->ops) {
        sl_node key_node = *block;
        key_node.line = block->pairs[0].key_line;
        key_node.column = block->pairs[0].key_column;
        return sl_node_error(err, &key_node, "%s: unknown sink connector '%s' (sinks: %s)", where, name,
                             sl_connector_sink_names());
    }
    sink->conf = calloc(1, sink->ops->conf_size);
    if (!sink->conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    return sl_options_apply(sink->ops->options, settings, sink->conf, inner, err);
}

/* What a sink can tell from its settings and the SQL's output columns
 * alone (a key column the SQL does not produce), reported here so that
 * `sluice validate` finds it and a run never starts with it. */
static int check_sink(const sl_pipeline_plan *pipeline, const sl_sink_plan *sink, const char *where, sl_error *err)
{
    if (!sink->ops->check) return SL_OK;
    size_t n_columns = pipeline->program ? sl_sql_n_columns(pipeline->program) : 0;
    const char *stack_columns[64];
    const char **columns = n_columns <= 64 ? stack_columns : calloc(n_columns, sizeof *columns);
    if (!columns) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_columns; i++) columns[i] = sl_sql_column_name(pipeline->program, i);
    const char *setting = NULL;
    sl_error why;
    sl_error_clear(&why);
    int rc = sink->ops->check(sink->conf, columns, n_columns, &setting, &why);
    if (columns != stack_columns) free((void *)columns);
    if (rc == SL_OK) return SL_OK;
    const sl_node *node = setting ? sl_node_get(sink->node, setting) : NULL;
    return sl_node_error(err, node ? node : sink->node, "%s.%s%s%s: %s", where, sink->ops->name, setting ? "." : "",
                         setting ? setting : "", why.message);
}

static int load_sinks(sl_pipeline_plan *pipeline, const topics_target *topics, const pipeline_conf *conf,
                      sl_error *err)
{
    if (conf->sink && conf->sinks)
        return sl_node_error(err, conf->sinks, "pipelines.%s: give either sink or sinks, not both",
                             pipeline->name);
    if (!conf->sink && !conf->sinks)
        return sl_node_error(err, pipeline->node, "pipelines.%s: missing required setting 'sink'",
                             pipeline->name);
    const sl_node *const *blocks = conf->sink ? &conf->sink : NULL;
    size_t n = 1;
    if (conf->sinks) {
        if (conf->sinks->kind != SL_NODE_LIST || conf->sinks->n_items == 0)
            return sl_node_error(err, conf->sinks, "pipelines.%s.sinks: expected a non-empty list of sinks",
                                 pipeline->name);
        blocks = (const sl_node *const *)conf->sinks->items;
        n = conf->sinks->n_items;
    }
    pipeline->sinks = calloc(n, sizeof *pipeline->sinks);
    if (!pipeline->sinks) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char where[300];
        if (conf->sinks) snprintf(where, sizeof where, "pipelines.%s.sinks[%zu]", pipeline->name, i);
        else snprintf(where, sizeof where, "pipelines.%s.sink", pipeline->name);
        pipeline->n_sinks = i + 1;
        int rc = load_sink(topics, &pipeline->sinks[i], blocks[i], where, err);
        if (rc == SL_OK) rc = check_sink(pipeline, &pipeline->sinks[i], where, err);
        if (rc) return rc;
    }
    return SL_OK;
}

static int load_transform(const sl_plan *plan, sl_pipeline_plan *pipeline, const sl_node *node,
                          sl_error *err)
{
    transform_conf conf = { 0 };
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s.transform", pipeline->name);
    int rc = sl_options_apply(transform_options, node, &conf, where, err);
    if (rc == SL_OK) {
        rc = sl_sql_compile(conf.sql, &pipeline->program, err);
        if (rc) {
            const sl_node *sql_node = sl_node_get(node, "sql");
            char detail[sizeof err->message];
            snprintf(detail, sizeof detail, "%s", err->message);
            sl_node_error(err, sql_node ? sql_node : node, "%s.sql: %s", where, detail);
            rc = SL_ECONFIG;
        }
    }
    sl_options_free(transform_options, &conf);
    (void)plan;
    return rc;
}

static int load_pipeline(sl_plan *plan, sl_pipeline_plan *pipeline, const topics_target *topics,
                         const sl_node_pair *pair, sl_error *err)
{
    pipeline->name = pair->key;
    pipeline->node = pair->value;
    pipeline_conf conf = { 0 };
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s", pipeline->name);
    if (pair->value->kind != SL_NODE_MAP)
        return sl_node_error(err, pair->value, "%s: expected a mapping, found a %s", where,
                             sl_node_kind_name(pair->value->kind));
    int rc = sl_options_apply(pipeline_options, pair->value, &conf, where, err);
    if (rc) goto done;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pipeline->workers = conf.workers > 0 ? conf.workers : (cores > 0 ? cores : 1);
    if (conf.workers < 0 || conf.workers > 256) {
        rc = sl_node_error(err, sl_node_get(pair->value, "workers"), "%s.workers: must be between 0 and 256", where);
        goto done;
    }
    if (conf.batch_size < 1 || conf.batch_size > 1000000) {
        rc = sl_node_error(err, pair->value, "%s.batch_size: must be between 1 and 1000000", where);
        goto done;
    }
    pipeline->batch_size = conf.batch_size;
    pipeline->max_inflight = conf.max_inflight > 0 ? conf.max_inflight : pipeline->workers * 2 + 6;
    pipeline->commit_interval_ms = conf.commit_interval_ms;
    if (conf.retry_limit_ms < 0) {
        rc = sl_node_error(err, sl_node_get(pair->value, "retry_limit"), "%s.retry_limit: must not be negative", where);
        goto done;
    }
    pipeline->retry_limit_ms = conf.retry_limit_ms;
    if (conf.dlq_max_record_bytes < 1024 || conf.dlq_max_record_bytes > SL_DLQ_MAX_RECORD_BYTES_LIMIT) {
        rc = sl_node_error(err, sl_node_get(pair->value, "dlq_max_record_bytes"),
                           "%s.dlq_max_record_bytes: must be between 1KiB and %d bytes", where,
                           SL_DLQ_MAX_RECORD_BYTES_LIMIT);
        goto done;
    }
    pipeline->dlq_max_record_bytes = conf.dlq_max_record_bytes;
    if (conf.dlq) {
        pipeline->dlq_topic = conf.dlq;
        conf.dlq = NULL;
    } else {
        size_t len = strlen(pipeline->name) + 5;
        pipeline->dlq_topic = malloc(len);
        if (!pipeline->dlq_topic) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(pipeline->dlq_topic, len, "%s.dlq", pipeline->name);
    }
    /* The dead-letter topic stays embedded even with topics on Kafka: it
     * is the runtime's own (runtime/dlq.c), not a topic: block. */
    rc = load_source(pipeline, topics, conf.source, err);
    if (rc) goto done;
    if (conf.transform) {
        rc = load_transform(plan, pipeline, conf.transform, err);
        if (rc) goto done;
    }
    rc = load_sinks(pipeline, topics, &conf, err);
done:
    sl_options_free(pipeline_options, &conf);
    return rc;
}

static int check_dags(sl_plan *plan, const sl_node *dags, sl_error *err)
{
    if (dags->kind != SL_NODE_MAP)
        return sl_node_error(err, dags, "dags: expected a mapping of DAG names to DAGs");
    for (size_t i = 0; i < dags->n_pairs; i++) {
        const sl_node_pair *pair = &dags->pairs[i];
        dag_conf dag = { 0 };
        char where[300];
        snprintf(where, sizeof where, "dags.%s", pair->key);
        int rc = sl_options_apply(dag_options, pair->value, &dag, where, err);
        if (rc == SL_OK && dag.tasks->kind != SL_NODE_MAP)
            rc = sl_node_error(err, dag.tasks, "%s.tasks: expected a mapping of task names to tasks", where);
        for (size_t t = 0; rc == SL_OK && t < dag.tasks->n_pairs; t++) {
            const sl_node_pair *task_pair = &dag.tasks->pairs[t];
            task_conf task = { 0 };
            char task_where[700];
            snprintf(task_where, sizeof task_where, "%s.tasks.%s", where, task_pair->key);
            rc = sl_options_apply(task_options, task_pair->value, &task, task_where, err);
            if (rc == SL_OK && !task.pipeline == !task.command)
                rc = sl_node_error(err, task_pair->value, "%s: give exactly one of 'pipeline' or 'command'",
                                   task_where);
            if (rc == SL_OK && task.pipeline && !sl_plan_pipeline(plan, task.pipeline))
                rc = sl_node_error(err, sl_node_get(task_pair->value, "pipeline"),
                                   "%s: no pipeline named '%s' in this file", task_where, task.pipeline);
            for (size_t d = 0; rc == SL_OK && d < task.depends_on.n_items; d++)
                if (!sl_node_get(dag.tasks, task.depends_on.items[d]))
                    rc = sl_node_error(err, sl_node_get(task_pair->value, "depends_on"),
                                       "%s: depends on unknown task '%s'", task_where, task.depends_on.items[d]);
            sl_options_free(task_options, &task);
        }
        sl_options_free(dag_options, &dag);
        if (rc) return rc;
    }
    plan->n_dags = dags->n_pairs;
    return SL_OK;
}

/* Checks the top-level topics: block: { kafka: { brokers, properties } }. */
static int load_topics(const sl_node *node, topics_target *topics, sl_error *err)
{
    topics_conf conf = { 0 };
    topics_kafka_conf kafka = { 0 };
    int rc = sl_options_apply(topics_options, node, &conf, "topics", err);
    if (rc == SL_OK) rc = sl_options_apply(topics_kafka_options, conf.kafka, &kafka, "topics.kafka", err);
    if (rc == SL_OK && !kafka.brokers[0])
        rc = sl_node_error(err, sl_node_get(conf.kafka, "brokers"),
                           "topics.kafka.brokers: must name at least one host:port");
    if (rc == SL_OK && (!sl_connector_source("kafka") || !sl_connector_sink("kafka")))
        rc = sl_node_error(err, conf.kafka, "topics.kafka: this build has no kafka connector");
    if (rc == SL_OK) {
        topics->kafka = conf.kafka;
        topics->brokers = sl_node_get_pair(conf.kafka, "brokers");
        topics->properties = sl_node_get_pair(conf.kafka, "properties");
    }
    sl_options_free(topics_kafka_options, &kafka);
    sl_options_free(topics_options, &conf);
    return rc;
}

int sl_plan_load(const char *path, sl_plan **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    top_conf top = { 0 };
    log_conf log = { 0 };
    topics_target topics = { 0 };
    sl_plan *plan = calloc(1, sizeof *plan);
    if (!plan) goto fail;
    plan->path = path;
    rc = sl_config_load_file(path, &plan->doc, err);
    if (rc) goto fail;
    const sl_node *root = sl_config_root(plan->doc);
    if (!root) {
        rc = sl_error_set(err, SL_ECONFIG, "%s: the file is empty; expected a mapping with 'pipelines'", path);
        goto fail;
    }
    if (root->kind != SL_NODE_MAP) {
        rc = sl_node_error(err, root, "expected a mapping at the top of the file, found a %s",
                           sl_node_kind_name(root->kind));
        goto fail;
    }
    rc = sl_options_apply(top_options, root, &top, "the top level", err);
    if (rc) goto fail;
    plan->data_dir = top.data_dir;
    top.data_dir = NULL;
    rc = sl_options_apply(log_options, top.log, &log, "log", err);
    if (rc) goto fail;
    plan->log_level = log.level;
    plan->log_format = log.format;
    log.level = log.format = NULL;
    if (top.topics) {
        rc = load_topics(top.topics, &topics, err);
        if (rc) goto fail;
    }
    if (!top.pipelines || top.pipelines->kind != SL_NODE_MAP || top.pipelines->n_pairs == 0) {
        rc = sl_node_error(err, top.pipelines ? top.pipelines : root,
                           "pipelines: expected a mapping of pipeline names to pipelines");
        goto fail;
    }
    rc = SL_ENOMEM;
    plan->pipelines = calloc(top.pipelines->n_pairs, sizeof *plan->pipelines);
    if (!plan->pipelines) goto fail;
    for (size_t i = 0; i < top.pipelines->n_pairs; i++) {
        plan->n_pipelines = i + 1;
        rc = load_pipeline(plan, &plan->pipelines[i], &topics, &top.pipelines->pairs[i], err);
        if (rc) goto fail;
    }
    if (top.dags) {
        rc = check_dags(plan, top.dags, err);
        if (rc) goto fail;
    }
    sl_options_free(top_options, &top);
    *out = plan;
    return SL_OK;
fail:
    sl_options_free(top_options, &top);
    sl_options_free(log_options, &log);
    sl_plan_free(plan);
    if (rc == SL_ENOMEM && err && err->code != SL_ENOMEM) sl_error_set(err, rc, "out of memory");
    return rc;
}
