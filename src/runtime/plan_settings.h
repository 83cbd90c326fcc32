/* plan_settings.h — the settings of a config file's own blocks (the top
 * level, pipelines, transforms, log, topics, DAGs and their tasks) as
 * option tables, with the conf structs they fill.
 *
 * plan.c applies them; `sluice connectors` and docs/connectors.md document
 * them from the same tables, listed in sl_plan_blocks.
 */
#ifndef SL_PLAN_SETTINGS_H
#define SL_PLAN_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "config/options.h"

typedef struct sl_top_conf {
    char *data_dir;
    const sl_node *pipelines;
    const sl_node *dags;
    const sl_node *topics;
    const sl_node *log;
    const sl_node *http;
    char *metadata;
    const sl_node *auth;
    const sl_node *alerts;
} sl_top_conf;

typedef struct sl_http_conf {
    char *listen;
    const sl_node *tls;
} sl_http_conf;

typedef struct sl_http_tls_conf {
    char *cert;
    char *key;
} sl_http_tls_conf;

/* auth: the named tokens of the HTTP API. */
typedef struct sl_auth_conf {
    const sl_node *tokens;
} sl_auth_conf;

typedef struct sl_auth_token_conf {
    char *name;
    char *token;         /* the token itself (usually "${SLUICE_..._TOKEN}"), or */
    char *token_hash;    /* its "<salt>$<hash>" (`sluice auth hash-token`) */
    char *role;
} sl_auth_token_conf;

/* topics: where `topic:` blocks live. Only Kafka can replace the embedded
 * log for now; without the block they are embedded. */
typedef struct sl_topics_conf {
    const sl_node *kafka;
} sl_topics_conf;

typedef struct sl_topics_kafka_conf {
    char *brokers;
    const sl_node *properties;
} sl_topics_kafka_conf;

typedef struct sl_log_conf {
    char *level;
    char *format;
} sl_log_conf;

typedef struct sl_pipeline_conf {
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
} sl_pipeline_conf;

typedef struct sl_transform_conf {
    char *sql;
    const sl_node *watermark;
    const sl_node *state;
    const sl_node *tables;
} sl_transform_conf;

typedef struct sl_lookup_table_conf {
    char *sqlite;
    char *table;
    int64_t cache_rows;
    int64_t cache_ttl_ms;
} sl_lookup_table_conf;

typedef struct sl_watermark_conf {
    char *column;
    int64_t delay_ms;
    int64_t allowed_lateness_ms;
    int64_t idle_timeout_ms;
} sl_watermark_conf;

typedef struct sl_state_conf {
    int64_t max_bytes;
} sl_state_conf;

typedef struct sl_dag_conf {
    const sl_node *schedule;    /* a cron string or alias, { every: DURATION }, or absent/null (manual) */
    char *timezone;
    char *start_date;
    char *end_date;
    const sl_node *tasks;
    bool catchup;
    bool paused;
    int64_t max_active_runs;
    int64_t dagrun_timeout_ms;
    char *description;
} sl_dag_conf;

typedef struct sl_every_conf {
    int64_t every_ms;
} sl_every_conf;

typedef struct sl_task_conf {
    char *pipeline;
    const sl_node *overrides;   /* with pipeline: dotted setting paths -> values */
    sl_str_list command;        /* argv */
    char *shell;                /* a /bin/sh -c script */
    const sl_node *sql;
    const sl_node *sensor;
    const sl_node *control;
    char *trigger_rule;
    int64_t retries;
    int64_t timeout_ms;
    int64_t retry_delay_ms;
    bool retry_exponential_backoff;
    int64_t max_retry_delay_ms;
    sl_str_list depends_on;
} sl_task_conf;

typedef struct sl_task_sql_conf {
    char *database;
    char *statement;
} sl_task_sql_conf;

typedef struct sl_task_sensor_conf {
    char *topic;
    char *group;
    char *until;
    int64_t poke_interval_ms;
} sl_task_sensor_conf;

typedef struct sl_task_control_conf {
    char *action;
    char *pipeline;
} sl_task_control_conf;

/* alerts: webhook receivers and rules (plan_alerts.h compiles them). */
typedef struct sl_alerts_top_conf {
    int64_t interval_ms;
    const sl_node *webhooks;
    const sl_node *rules;
} sl_alerts_top_conf;

typedef struct sl_alert_webhook_conf {
    char *url;
    const sl_node *headers;
    int64_t timeout_ms;
    int64_t retries;
    int64_t retry_delay_ms;
    int64_t max_retry_delay_ms;
    bool send_resolved;
} sl_alert_webhook_conf;

typedef struct sl_alert_rule_conf {
    char *name;
    /* the condition: exactly one of these */
    char *metric;
    char *rate;
    const sl_node *lag;
    char *pipeline_down;
    char *restarting;
    char *dag_failed;
    char *dag_late;
    /* its parameters */
    char *pipeline;
    const sl_node *labels;
    double above;
    double below;
    int64_t window_ms;
    int64_t restarts;
    int64_t within_ms;
    int64_t after_ms;
    int64_t for_ms;
    /* where it goes and what it says */
    char *webhook;
    char *severity;
    char *summary;
    char *description;
} sl_alert_rule_conf;

typedef struct sl_alert_lag_conf {
    char *pipeline;
    char *group;
    char *topic;
} sl_alert_lag_conf;

extern const sl_option sl_top_options[];
extern const sl_option sl_alerts_options[];
extern const sl_option sl_alert_webhook_options[];
extern const sl_option sl_alert_rule_options[];
extern const sl_option sl_alert_lag_options[];
extern const sl_option sl_topics_options[];
extern const sl_option sl_topics_kafka_options[];
extern const sl_option sl_log_options[];
extern const sl_option sl_http_options[];
extern const sl_option sl_http_tls_options[];
extern const sl_option sl_auth_options[];
extern const sl_option sl_auth_token_options[];
extern const sl_option sl_pipeline_options[];
extern const sl_option sl_transform_options[];
extern const sl_option sl_watermark_options[];
extern const sl_option sl_state_options[];
extern const sl_option sl_lookup_table_options[];
extern const sl_option sl_dag_options[];
extern const sl_option sl_task_options[];
extern const sl_option sl_every_options[];
extern const sl_option sl_task_sql_options[];
extern const sl_option sl_task_sensor_options[];
extern const sl_option sl_task_control_options[];

/* One documented block of the config file. */
typedef struct sl_plan_block {
    const char *name;          /* what `sluice connectors NAME` takes: "pipeline" */
    const char *path;          /* where it stands in the file: "pipelines.NAME" */
    const char *description;   /* one line */
    const sl_option *options;
} sl_plan_block;

/* Every block, top level first; ends with a { NULL } entry. */
extern const sl_plan_block sl_plan_blocks[];

#endif
