/* plan.c — loading and checking a sluice config (see plan.h).
 *
 * Every block is checked against an option table (plan_settings.c for the
 * file's own blocks, each connector's for its settings) so unknown keys are
 * errors, not warnings. A connector block is a mapping with exactly one
 * key, the connector's name, whose value holds its settings:
 *     source: { topic: { name: user_data } }
 *
 * Checking goes on past a mistake: each pipeline, and each source,
 * transform and sink of a pipeline, is checked on its own, and every
 * mistake goes to the diagnostics, so one `sluice validate` lists them
 * all. Checks that need an earlier part to be right (a sink's key columns
 * against the SQL's output columns) are skipped when that part is wrong.
 * The plan is handed out only when there is no error at all.
 *
 * A top-level `topics: { kafka: { brokers, properties } }` puts every
 * `topic:` block on Kafka: each is checked against the topic connector's
 * own table first (same messages as the embedded case), then loaded as the
 * `kafka` connector with the topics block's brokers and properties. Settings
 * only the embedded log has (segments, retention, fsync) are refused when
 * written out, since Kafka would silently ignore them.
 */
#include "runtime/plan.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/options.h"
#include "core/address.h"
#include "runtime/plan_alerts.h"
#include "runtime/plan_auth.h"
#include "runtime/plan_dags.h"
#include "runtime/plan_settings.h"
#include "sql/lookup.h"
#include "sql/windows.h"

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

/* One load: the plan being built, where topic: blocks go, and where
 * mistakes are reported. */
typedef struct loader {
    sl_plan *plan;
    topics_target topics;
    sl_diagnostics *diags;
} loader;

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
    free(pipeline->lookup_path);
    free(pipeline->lookup_table);
    for (size_t i = 0; i < pipeline->n_sinks; i++) sink_plan_clear(&pipeline->sinks[i]);
    free(pipeline->sinks);
    free(pipeline->dlq_topic);
}

sl_plan *sl_plan_retain(sl_plan *plan)
{
    atomic_fetch_add(&plan->extra_refs, 1);
    return plan;
}

void sl_plan_free(sl_plan *plan)
{
    if (!plan) return;
    if (atomic_fetch_sub(&plan->extra_refs, 1) > 0) return;
    for (size_t i = 0; i < plan->n_pipelines; i++) pipeline_plan_clear(&plan->pipelines[i]);
    free(plan->pipelines);
    free(plan->data_dir);
    free(plan->log_level);
    free(plan->http_listen);
    sl__plan_free_auth(plan);
    free(plan->metadata);
    sl_alerts_conf_free(plan->alerts);
    sl_arena_free(plan->owned_arena);
    sl_plan_free(plan->base);
    free(plan->log_format);
    sl_config_free(plan->doc);
    free(plan);
}

const sl_pipeline_plan *sl_plan_pipeline(const sl_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->n_pipelines; i++)
        if (plan->pipelines[i].name && strcmp(plan->pipelines[i].name, name) == 0) return &plan->pipelines[i];
    return NULL;
}

/* Whether map has key with a value that is not null. */
static bool is_given(const sl_node *map, const char *key)
{
    const sl_node *value = sl_node_get(map, key);
    return value && !(value->kind == SL_NODE_SCALAR && value->is_null);
}

static int out_of_memory(loader *ld)
{
    sl_diag_error_at(ld->diags, NULL, "out of memory");
    return SL_ENOMEM;
}

/* An error at the position of a mapping's key. */
static int key_error(loader *ld, const sl_node *map, const sl_node_pair *pair, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int key_error(loader *ld, const sl_node *map, const sl_node_pair *pair, const char *format, ...)
{
    char what[600];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    return sl_diag_error_at_position(ld->diags, map->file, pair->key_line, pair->key_column, "%s", what);
}

/* A connector block: { <name>: { settings } }. Finds the connector's name
 * and settings node, or explains what is wrong with the block. */
static int connector_block(loader *ld, const sl_node *block, const char *where, const char *known,
                           const char **name, const sl_node **settings)
{
    if (block->kind != SL_NODE_MAP || block->n_pairs != 1)
        return sl_diag_error_at(ld->diags, block,
                                "%s: expected one connector, as { <connector>: { settings } } (connectors: %s)",
                                where, known);
    *name = block->pairs[0].key;
    *settings = block->pairs[0].value;
    if ((*settings)->kind == SL_NODE_SCALAR && (*settings)->is_null) *settings = NULL;
    else if ((*settings)->kind != SL_NODE_MAP)
        return sl_diag_error_at(ld->diags, *settings, "%s.%s: expected a mapping of settings, found a %s", where,
                                *name, sl_node_kind_name((*settings)->kind));
    return SL_OK;
}

/* Checks a topic: block against the topic connector's own table, so a
 * mistake reads the same whether topics are embedded or on Kafka. */
static int check_topic_settings(loader *ld, const sl_option *table, size_t conf_size, const sl_node *settings,
                                const char *where)
{
    void *conf = calloc(1, conf_size);
    if (!conf) return out_of_memory(ld);
    int rc = sl_options_apply_all(table, settings, conf, where, ld->diags);
    sl_options_free(table, conf);
    free(conf);
    return rc;
}

/* Fills kafka_conf (zeroed, laid out for table) from a checked topic:
 * block. The mapping applied is made of the topics.kafka block's brokers and
 * properties and the block's own settings renamed; its values are the
 * file's nodes, so any message still points into the file. A setting with
 * no Kafka counterpart (segments, retention, fsync) is refused. */
static int apply_on_kafka(loader *ld, const setting_rename *renames, const sl_option *table,
                          const sl_node *settings, void *kafka_conf, const char *where)
{
    const topics_target *topics = &ld->topics;
    sl_node_pair pairs[PLAN_MAX_MAPPED_SETTINGS];
    size_t n = 0;
    int rc = SL_OK;
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
            rc = key_error(ld, settings, pair,
                           "%s: '%s' only applies to embedded topics, and topics are on Kafka here "
                           "(topics.kafka at line %d); remove it",
                           where, pair->key, topics->kafka->line);
            continue;
        }
        if (n == PLAN_MAX_MAPPED_SETTINGS) return sl_diag_error_at(ld->diags, settings, "%s: too many settings", where);
        pairs[n] = *pair;
        pairs[n++].key = rename->kafka_key;
    }
    if (rc) return rc;
    sl_node map = *settings;
    map.pairs = pairs;
    map.n_pairs = n;
    return sl_options_apply_all(table, &map, kafka_conf, where, ld->diags);
}

/* A topic: source on Kafka: { name, group, start, max_batch_bytes } becomes
 * kafka { brokers, topic: name, group, start, max_batch_bytes, properties }. */
static int map_topic_source(loader *ld, sl_pipeline_plan *pipeline, const sl_node *settings, const char *where)
{
    const sl_source_ops *topic_ops = sl_connector_source("topic");
    int rc = check_topic_settings(ld, topic_ops->options, topic_ops->conf_size, settings, where);
    if (rc) return rc;
    pipeline->source_ops = sl_connector_source("kafka");
    pipeline->source_conf = calloc(1, pipeline->source_ops->conf_size);
    if (!pipeline->source_conf) return out_of_memory(ld);
    return apply_on_kafka(ld, source_renames, pipeline->source_ops->options, settings, pipeline->source_conf,
                          where);
}

/* A topic: sink on Kafka: { name, partitions, key } becomes kafka { brokers,
 * topic: name, partitions, key, properties }. */
static int map_topic_sink(loader *ld, sl_sink_plan *sink, const sl_node *settings, const char *where)
{
    const sl_sink_ops *topic_ops = sl_connector_sink("topic");
    int rc = check_topic_settings(ld, topic_ops->options, topic_ops->conf_size, settings, where);
    if (rc) return rc;
    sink->ops = sl_connector_sink("kafka");
    sink->conf = calloc(1, sink->ops->conf_size);
    if (!sink->conf) return out_of_memory(ld);
    return apply_on_kafka(ld, sink_renames, sink->ops->options, settings, sink->conf, where);
}

/* Runs a connector's own check() and says whether it added errors. */
static int run_check(loader *ld, void (*check)(const void *, const sl_connector_check *), const void *conf,
                     const sl_connector_check *context)
{
    if (!check) return SL_OK;
    size_t errors_before = sl_diag_n_errors(ld->diags);
    check(conf, context);
    if (ld->diags->is_out_of_memory) return SL_ENOMEM;
    return sl_diag_n_errors(ld->diags) > errors_before ? SL_ECONFIG : SL_OK;
}

static int load_source(loader *ld, sl_pipeline_plan *pipeline, const sl_node *block)
{
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s.source", pipeline->name);
    const char *name;
    const sl_node *settings;
    int rc = connector_block(ld, block, where, sl_connector_source_names(), &name, &settings);
    if (rc) return rc;
    snprintf(where, sizeof where, "pipelines.%s.source.%s", pipeline->name, name);
    if (ld->topics.kafka && strcmp(name, "topic") == 0) {
        rc = map_topic_source(ld, pipeline, settings, where);
    } else {
        pipeline->source_ops = sl_connector_source(name);
        if (!pipeline->source_ops)
            return key_error(ld, block, &block->pairs[0], "pipelines.%s.source: unknown source connector '%s' "
                             "(sources: %s)", pipeline->name, name, sl_connector_source_names());
        pipeline->source_conf = calloc(1, pipeline->source_ops->conf_size);
        if (!pipeline->source_conf) return out_of_memory(ld);
        rc = sl_options_apply_all(pipeline->source_ops->options, settings, pipeline->source_conf, where, ld->diags);
    }
    if (rc) return rc;
    sl_connector_check check = { pipeline->name, where, block, settings, NULL, 0, ld->diags };
    return run_check(ld, pipeline->source_ops->check, pipeline->source_conf, &check);
}

static int load_sink(loader *ld, sl_sink_plan *sink, const sl_node *block, const char *where)
{
    const char *name;
    const sl_node *settings;
    int rc = connector_block(ld, block, where, sl_connector_sink_names(), &name, &settings);
    if (rc) return rc;
    char inner[700];
    snprintf(inner, sizeof inner, "%s.%s", where, name);
    sink->node = settings;
    if (ld->topics.kafka && strcmp(name, "topic") == 0) return map_topic_sink(ld, sink, settings, inner);
    sink->ops = sl_connector_sink(name);
    if (!sink->ops)
        return key_error(ld, block, &block->pairs[0], "%s: unknown sink connector '%s' (sinks: %s)", where, name,
                         sl_connector_sink_names());
    sink->conf = calloc(1, sink->ops->conf_size);
    if (!sink->conf) return out_of_memory(ld);
    return sl_options_apply_all(sink->ops->options, settings, sink->conf, inner, ld->diags);
}

/* What a sink can tell from its settings and the SQL's output columns
 * alone (a key column the SQL does not produce), reported here so that
 * `sluice validate` finds it and a run never starts with it. */
static int check_sink(loader *ld, const sl_pipeline_plan *pipeline, const sl_sink_plan *sink, const sl_node *block,
                      const char *where)
{
    if (!sink->ops->check) return SL_OK;
    size_t n_columns = pipeline->program ? sl_sql_n_columns(pipeline->program) : 0;
    const char *stack_columns[64];
    const char **columns = n_columns <= 64 ? stack_columns : calloc(n_columns, sizeof *columns);
    if (!columns) return out_of_memory(ld);
    for (size_t i = 0; i < n_columns; i++) columns[i] = sl_sql_column_name(pipeline->program, i);
    char inner[700];
    snprintf(inner, sizeof inner, "%s.%s", where, block->pairs[0].key);
    sl_connector_check check = { pipeline->name, inner, block, sink->node, columns, n_columns, ld->diags };
    int rc = run_check(ld, sink->ops->check, sink->conf, &check);
    if (columns != stack_columns) free((void *)columns);
    return rc;
}

/* Loads every sink; is_sql_known says whether the SQL's output columns can
 * be trusted for the sinks' checks (no transform, or one that compiled). */
static int load_sinks(loader *ld, sl_pipeline_plan *pipeline, const sl_pipeline_conf *conf, bool is_sql_known)
{
    if (conf->sink && conf->sinks)
        return sl_diag_error_at(ld->diags, conf->sinks, "pipelines.%s: give either sink or sinks, not both",
                                pipeline->name);
    if (!conf->sink && !conf->sinks) {
        /* A sink or sinks of the wrong shape is reported already. */
        if (is_given(pipeline->node, "sink") || is_given(pipeline->node, "sinks")) return SL_ECONFIG;
        return sl_diag_error_at(ld->diags, pipeline->node, "pipelines.%s: missing required setting 'sink'",
                                pipeline->name);
    }
    const sl_node *const *blocks = conf->sink ? &conf->sink : NULL;
    size_t n = 1;
    if (conf->sinks) {
        if (conf->sinks->n_items == 0)
            return sl_diag_error_at(ld->diags, conf->sinks, "pipelines.%s.sinks: expected a non-empty list of sinks",
                                    pipeline->name);
        blocks = (const sl_node *const *)conf->sinks->items;
        n = conf->sinks->n_items;
    }
    pipeline->sinks = calloc(n, sizeof *pipeline->sinks);
    if (!pipeline->sinks) return out_of_memory(ld);
    int rc = SL_OK;
    for (size_t i = 0; i < n; i++) {
        char where[300];
        if (conf->sinks) snprintf(where, sizeof where, "pipelines.%s.sinks[%zu]", pipeline->name, i);
        else snprintf(where, sizeof where, "pipelines.%s.sink", pipeline->name);
        pipeline->n_sinks = i + 1;
        int sink_rc = load_sink(ld, &pipeline->sinks[i], blocks[i], where);
        if (sink_rc == SL_OK && is_sql_known) sink_rc = check_sink(ld, pipeline, &pipeline->sinks[i], blocks[i], where);
        if (sink_rc == SL_ENOMEM) return sink_rc;
        if (sink_rc) rc = sink_rc;
    }
    return rc;
}

/* transform.watermark and transform.state, checked against the statement:
 * they mean something for a grouped one only, and watermark.column must
 * be what DESCRIPTOR(...) names. */
static int load_event_time(loader *ld, sl_pipeline_plan *pipeline, const sl_transform_conf *transform,
                           const sl_node *node, const char *where)
{
    sl_watermark_conf watermark = { 0 };
    sl_state_conf state = { 0 };
    char block[340];
    snprintf(block, sizeof block, "%s.watermark", where);
    int rc = sl_options_apply_all(sl_watermark_options, transform->watermark, &watermark, block, ld->diags);
    snprintf(block, sizeof block, "%s.state", where);
    if (rc == SL_OK) rc = sl_options_apply_all(sl_state_options, transform->state, &state, block, ld->diags);
    if (rc == SL_OK) {
        pipeline->watermark_delay_ms = watermark.delay_ms;
        pipeline->allowed_lateness_ms = watermark.allowed_lateness_ms;
        pipeline->idle_timeout_ms = watermark.idle_timeout_ms;
        pipeline->state_max_bytes = state.max_bytes;
        const char *column = sl_sql_event_time_column(pipeline->program);
        if (transform->watermark && !column)
            rc = sl_diag_error_at(ld->diags, transform->watermark, "%s.watermark: the statement has no event-time "
                                  "window (FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), ...)) and the like) nor "
                                  "a join with time bounds", where);
        else if (transform->state && !sl_sql_is_grouped(pipeline->program))
            rc = sl_diag_error_at(ld->diags, transform->state, "%s.state: the statement keeps no state (no GROUP BY "
                                  "or aggregate)", where);
        else if (watermark.column && column && !sl_sql_is_event_time_column(pipeline->program, watermark.column))
            rc = sl_diag_error_at(ld->diags, sl_node_get(transform->watermark, "column"), "%s.watermark.column is "
                                  "'%s' but the SQL's event time is '%s': they must be the same column", where,
                                  watermark.column, column);
    }
    sl_options_free(sl_watermark_options, &watermark);
    sl_options_free(sl_state_options, &state);
    return rc;
}

/* transform.tables: exactly the table the SQL's lookup join reads. */
static int load_lookup_table(loader *ld, sl_pipeline_plan *pipeline, const sl_transform_conf *transform,
                             const sl_node *node, const char *where)
{
    sl_sql_lookup_info lookup;
    bool has_lookup = sl_sql_lookup_info_of(pipeline->program, &lookup);
    const sl_node *tables = transform->tables;
    for (size_t i = 0; tables && i < tables->n_pairs; i++)
        if (!has_lookup || strcmp(tables->pairs[i].key, lookup.table) != 0)
            return sl_diag_error_at(ld->diags, tables->pairs[i].value, "%s.tables.%s: the SQL joins no table of "
                                    "that name", where, tables->pairs[i].key);
    if (!has_lookup) return SL_OK;
    const sl_node *table = tables ? sl_node_get(tables, lookup.table) : NULL;
    if (!table) {
        const sl_node *sql_node = sl_node_get(node, "sql");
        return sl_diag_error_at(ld->diags, sql_node ? sql_node : node, "%s.sql: line %d column %d: JOIN %s: "
                                "transform.tables has no table %s (give tables: { %s: { sqlite: PATH } })", where,
                                lookup.line, lookup.column, lookup.table, lookup.table, lookup.table);
    }
    sl_lookup_table_conf conf = { 0 };
    char block[400];
    snprintf(block, sizeof block, "%s.tables.%s", where, lookup.table);
    int rc = sl_options_apply_all(sl_lookup_table_options, table, &conf, block, ld->diags);
    if (rc == SL_OK) {
        pipeline->lookup_path = conf.sqlite;
        pipeline->lookup_table = conf.table ? conf.table : strdup(lookup.table);
        conf.sqlite = conf.table = NULL;
        pipeline->lookup_cache_rows = conf.cache_rows;
        pipeline->lookup_cache_ttl_ms = conf.cache_ttl_ms;
        if (!pipeline->lookup_table) rc = out_of_memory(ld);
    }
    sl_options_free(sl_lookup_table_options, &conf);
    return rc;
}

static int load_transform(loader *ld, sl_pipeline_plan *pipeline, const sl_node *node)
{
    sl_transform_conf conf = { 0 };
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s.transform", pipeline->name);
    int rc = sl_options_apply_all(sl_transform_options, node, &conf, where, ld->diags);
    if (rc == SL_OK) {
        sl_error err;
        sl_error_clear(&err);
        rc = sl_sql_compile(conf.sql, &pipeline->program, &err);
        if (rc == SL_ENOMEM) {
            rc = out_of_memory(ld);
        } else if (rc) {
            const sl_node *sql_node = sl_node_get(node, "sql");
            int line = 0, column = 0, used = 0, file_line, file_column;
            /* The SQL's "line L column C: " placed in the file when the file
             * holds the statement verbatim, else at the sql: value. */
            if (sscanf(err.message, "line %d column %d: %n", &line, &column, &used) == 2 && used > 0 &&
                sl_node_text_position(sql_node, line, column, &file_line, &file_column))
                rc = sl_diag_error_at_position(ld->diags, sql_node->file, file_line, file_column, "%s.sql: %s",
                                               where, err.message + used);
            else
                rc = sl_diag_error_at(ld->diags, sql_node ? sql_node : node, "%s.sql: %s", where, err.message);
        }
    }
    if (rc == SL_OK) rc = load_event_time(ld, pipeline, &conf, node, where);
    if (rc == SL_OK) rc = load_lookup_table(ld, pipeline, &conf, node, where);
    sl_options_free(sl_transform_options, &conf);
    return rc;
}

/* Worst of two results: out of memory, then an error, then ok. */
static int worse(int a, int b)
{
    if (a == SL_ENOMEM || b == SL_ENOMEM) return SL_ENOMEM;
    return a ? a : b;
}

static int load_pipeline(loader *ld, sl_pipeline_plan *pipeline, const sl_node_pair *pair)
{
    pipeline->name = pair->key;
    pipeline->node = pair->value;
    sl_pipeline_conf conf = { 0 };
    char where[300];
    snprintf(where, sizeof where, "pipelines.%s", pipeline->name);
    if (pair->value->kind != SL_NODE_MAP)
        return sl_diag_error_at(ld->diags, pair->value, "%s: expected a mapping, found a %s", where,
                                sl_node_kind_name(pair->value->kind));
    /* A mistake in one setting does not stop the source, transform and
     * sinks from being checked: conf keeps what was right. */
    int rc = sl_options_apply_all(sl_pipeline_options, pair->value, &conf, where, ld->diags);
    if (rc == SL_ENOMEM) goto done;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pipeline->workers = conf.workers > 0 ? conf.workers : (cores > 0 ? cores : 1);
    pipeline->batch_size = conf.batch_size;
    pipeline->max_inflight = conf.max_inflight > 0 ? conf.max_inflight : pipeline->workers * 2 + 6;
    pipeline->commit_interval_ms = conf.commit_interval_ms;
    pipeline->retry_limit_ms = conf.retry_limit_ms;
    pipeline->dlq_max_record_bytes = conf.dlq_max_record_bytes;
    if (conf.dlq) {
        pipeline->dlq_topic = conf.dlq;
        conf.dlq = NULL;
    } else {
        size_t len = strlen(pipeline->name) + 5;
        pipeline->dlq_topic = malloc(len);
        if (!pipeline->dlq_topic) {
            rc = out_of_memory(ld);
            goto done;
        }
        snprintf(pipeline->dlq_topic, len, "%s.dlq", pipeline->name);
    }
    /* The dead-letter topic stays embedded even with topics on Kafka: it
     * is the runtime's own (runtime/dlq.c), not a topic: block. */
    if (conf.source) rc = worse(rc, load_source(ld, pipeline, conf.source));
    if (rc == SL_ENOMEM) goto done;
    int transform_rc = conf.transform ? load_transform(ld, pipeline, conf.transform) : SL_OK;
    rc = worse(rc, transform_rc);
    if (rc == SL_ENOMEM) goto done;
    /* With a wrong transform the SQL's output columns are unknown. */
    bool has_bad_transform = transform_rc || (!conf.transform && is_given(pair->value, "transform"));
    rc = worse(rc, load_sinks(ld, pipeline, &conf, !has_bad_transform));
done:
    sl_options_free(sl_pipeline_options, &conf);
    return rc;
}

static int check_dags(loader *ld, const sl_node *dags)
{
    ld->plan->n_dags = dags->n_pairs;
    return sl__plan_check_dags(ld->plan, dags, ld->diags);
}

/* Checks the top-level topics: block: { kafka: { brokers, properties } }. */
static int load_topics(loader *ld, const sl_node *node)
{
    sl_topics_conf conf = { 0 };
    sl_topics_kafka_conf kafka = { 0 };
    int rc = sl_options_apply_all(sl_topics_options, node, &conf, "topics", ld->diags);
    if (rc == SL_OK) rc = sl_options_apply_all(sl_topics_kafka_options, conf.kafka, &kafka, "topics.kafka", ld->diags);
    if (rc == SL_OK && !kafka.brokers[0])
        rc = sl_diag_error_at(ld->diags, sl_node_get(conf.kafka, "brokers"),
                              "topics.kafka.brokers: must name at least one host:port");
    if (rc == SL_OK && (!sl_connector_source("kafka") || !sl_connector_sink("kafka")))
        rc = sl_diag_error_at(ld->diags, conf.kafka, "topics.kafka: this build has no kafka connector");
    if (rc == SL_OK) {
        ld->topics.kafka = conf.kafka;
        ld->topics.brokers = sl_node_get_pair(conf.kafka, "brokers");
        ld->topics.properties = sl_node_get_pair(conf.kafka, "properties");
    }
    sl_options_free(sl_topics_kafka_options, &kafka);
    sl_options_free(sl_topics_options, &conf);
    return rc;
}

static int load_pipelines(loader *ld, const sl_node *root, const sl_top_conf *top)
{
    if (!top->pipelines) {
        /* A file of DAGs alone is valid (`sluice run` refuses it); pipelines
         * of the wrong shape are reported already. */
        if (top->dags) return SL_OK;
        if (is_given(root, "pipelines")) return SL_ECONFIG;
        const sl_node_pair *pair = sl_node_get_pair(root, "pipelines");
        if (pair) return key_error(ld, root, pair, "pipelines: expected a mapping of pipelines by name, found nothing");
        return sl_diag_error_at(ld->diags, root, "a config file needs 'pipelines' (or 'dags'); it has neither");
    }
    if (top->pipelines->n_pairs == 0)
        return sl_diag_error_at(ld->diags, top->pipelines, "pipelines: expected at least one pipeline, by name");
    ld->plan->pipelines = calloc(top->pipelines->n_pairs, sizeof *ld->plan->pipelines);
    if (!ld->plan->pipelines) return out_of_memory(ld);
    /* Every name first, so DAG tasks and messages can refer to any of them. */
    for (size_t i = 0; i < top->pipelines->n_pairs; i++) ld->plan->pipelines[i].name = top->pipelines->pairs[i].key;
    ld->plan->n_pipelines = top->pipelines->n_pairs;
    int rc = SL_OK;
    for (size_t i = 0; i < top->pipelines->n_pairs && rc != SL_ENOMEM; i++)
        rc = worse(rc, load_pipeline(ld, &ld->plan->pipelines[i], &top->pipelines->pairs[i]));
    return rc;
}

/* metadata: "sqlite" means DATA_DIR/metadata.db; a URL must say postgres://
 * or postgresql:// in full (a typo would otherwise become a file name). */
static int resolve_metadata(loader *ld, sl_top_conf *top)
{
    const char *text = top->metadata ? top->metadata : "sqlite";
    const sl_node *node = sl_node_get(sl_config_root(ld->plan->doc), "metadata");
    if (text[0] == '\0') return sl_diag_error_at(ld->diags, node, "metadata: empty; give sqlite, a path or a postgres:// URL");
    if (strncmp(text, "postgres", 8) == 0 && strncmp(text, "postgres://", 11) != 0 &&
        strncmp(text, "postgresql://", 13) != 0)
        return sl_diag_error_at(ld->diags, node, "metadata: '%.40s' is not a postgres:// or postgresql:// URL", text);
    size_t size = strlen(ld->plan->data_dir ? ld->plan->data_dir : ".") + sizeof "/metadata.db";
    if (strcmp(text, "sqlite") == 0) {
        ld->plan->metadata = malloc(size);
        if (ld->plan->metadata)
            snprintf(ld->plan->metadata, size, "%s/metadata.db", ld->plan->data_dir ? ld->plan->data_dir : ".");
    } else {
        ld->plan->metadata = strdup(text);
    }
    return ld->plan->metadata ? SL_OK : out_of_memory(ld);
}

static int load_document(loader *ld, const char *path)
{
    sl_plan *plan = ld->plan;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_config_load_file(path, &plan->doc, &err);
    if (rc) return sl_diag_add_error(ld->diags, &err);
    const sl_node *root = sl_config_root(plan->doc);
    if (!root)
        return sl_diag_error_at(ld->diags, NULL, "%s: the file is empty; expected a mapping with 'pipelines'", path);
    if (root->kind != SL_NODE_MAP)
        return sl_diag_error_at(ld->diags, root, "expected a mapping at the top of the file, found a %s",
                                sl_node_kind_name(root->kind));
    sl_top_conf top = { 0 };
    sl_log_conf log = { 0 };
    sl_http_conf http = { 0 };
    rc = sl_options_apply_all(sl_top_options, root, &top, "", ld->diags);
    if (rc != SL_ENOMEM) rc = worse(rc, sl_options_apply_all(sl_log_options, top.log, &log, "log", ld->diags));
    if (rc != SL_ENOMEM) rc = worse(rc, sl_options_apply_all(sl_http_options, top.http, &http, "http", ld->diags));
    if (http.listen) {
        char host[256];
        int port;
        sl_error address_err;
        if (sl_address_parse(http.listen, -1, true, host, sizeof host, &port, &address_err))
            rc = worse(rc, sl_diag_error_at(ld->diags, sl_node_get(top.http, "listen"), "http.listen: %s",
                                            address_err.message));
    }
    plan->http_listen = http.listen;
    http.listen = NULL;
    if (rc != SL_ENOMEM)
        rc = worse(rc, sl__plan_load_auth(plan, top.auth, http.tls, sl_node_get(top.http, "listen"), ld->diags));
    plan->data_dir = top.data_dir;
    rc = worse(rc, resolve_metadata(ld, &top));
    plan->log_level = log.level;
    plan->log_format = log.format;
    top.data_dir = log.level = log.format = NULL;
    if (rc != SL_ENOMEM && top.topics) rc = worse(rc, load_topics(ld, top.topics));
    if (rc != SL_ENOMEM) rc = worse(rc, load_pipelines(ld, root, &top));
    if (rc != SL_ENOMEM && top.dags) rc = worse(rc, check_dags(ld, top.dags));
    if (rc != SL_ENOMEM) rc = worse(rc, sl__plan_check_macros(ld->plan, top.dags, ld->diags));
    if (rc != SL_ENOMEM && top.alerts)
        rc = worse(rc, sl__plan_check_alerts(ld->plan, top.alerts, top.dags, &ld->plan->alerts, ld->diags));
    sl_options_free(sl_top_options, &top);
    sl_options_free(sl_log_options, &log);
    sl_options_free(sl_http_options, &http);
    return rc;
}

int sl_plan_check(const char *path, sl_plan **out, sl_diagnostics *diags)
{
    *out = NULL;
    loader ld = { calloc(1, sizeof(sl_plan)), { 0 }, diags };
    if (!ld.plan) return out_of_memory(&ld);
    ld.plan->path = path;
    size_t errors_before = sl_diag_n_errors(diags);
    int rc = load_document(&ld, path);
    if (rc == SL_OK && sl_diag_n_errors(diags) > errors_before) rc = SL_ECONFIG;
    if (rc) {
        sl_plan_free(ld.plan);
        return rc;
    }
    *out = ld.plan;
    return SL_OK;
}

static int copy_setting(char **to, const char *from)
{
    *to = from ? strdup(from) : NULL;
    return from && !*to ? SL_ENOMEM : SL_OK;
}

int sl_plan_derive(sl_plan *base, const char *name, const sl_node *node, sl_arena *arena, sl_plan **out,
                   sl_error *err)
{
    *out = NULL;
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, base->path);
    loader ld = { calloc(1, sizeof(sl_plan)), { 0 }, &diags };
    if (!ld.plan) {
        sl_arena_free(arena);
        sl_diagnostics_free(&diags);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    sl_plan *plan = ld.plan;
    plan->path = base->path;
    plan->base = sl_plan_retain(base);
    plan->owned_arena = arena;
    int rc = copy_setting(&plan->data_dir, base->data_dir);
    if (rc == SL_OK) rc = copy_setting(&plan->log_level, base->log_level);
    if (rc == SL_OK) rc = copy_setting(&plan->log_format, base->log_format);
    if (rc == SL_OK) rc = copy_setting(&plan->http_listen, base->http_listen);
    if (rc == SL_OK) rc = copy_setting(&plan->metadata, base->metadata);
    plan->pipelines = calloc(1, sizeof *plan->pipelines);
    if (rc == SL_OK && !plan->pipelines) rc = SL_ENOMEM;
    const sl_node *topics = sl_node_get(sl_config_root(base->doc), "topics");
    if (rc == SL_OK && topics) rc = load_topics(&ld, topics);
    if (rc == SL_OK) {
        plan->n_pipelines = 1;
        sl_node_pair pair = { .key = name, .value = (sl_node *)node, .key_line = node->line,
                              .key_column = node->column };
        rc = load_pipeline(&ld, &plan->pipelines[0], &pair);
        plan->pipelines[0].name = name;   /* the pair was this call's: name outlives it */
    }
    if (rc == SL_OK && sl_diag_n_errors(&diags) > 0) rc = SL_ECONFIG;
    if (rc == SL_ENOMEM) sl_error_set(err, SL_ENOMEM, "out of memory");
    else if (rc && sl_diag_first_error(&diags, err) == SL_OK) sl_error_set(err, SL_ECONFIG, "pipeline %s: refused", name);
    sl_diagnostics_free(&diags);
    if (rc) {
        sl_plan_free(plan);
        return rc;
    }
    *out = plan;
    return SL_OK;
}

int sl_plan_load(const char *path, sl_plan **out, sl_error *err)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, path);
    int rc = sl_plan_check(path, out, &diags);
    if (rc) {
        sl_error local;
        rc = sl_diag_first_error(&diags, err ? err : &local);
        if (rc == SL_OK) rc = SL_ECONFIG;
    }
    sl_diagnostics_free(&diags);
    return rc;
}
