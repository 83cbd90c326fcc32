/* plan_settings.c — the option tables of a config file's own blocks (see
 * plan_settings.h). Bounds and choices here are the only statement of
 * them: plan.c and the docs both read these rows. */
#include "runtime/plan_settings.h"

#include <stddef.h>

#include "runtime/control.h"

const sl_option sl_top_options[] = {
    { "data_dir", SL_OPT_STRING, offsetof(sl_top_conf, data_dir), .default_value = "./data",
      .help = "directory of the embedded log's topics, consumer groups' offsets and sources' positions" },
    { "pipelines", SL_OPT_MAP, offsetof(sl_top_conf, pipelines),
      .help = "the pipelines, by name (see pipeline); a file needs pipelines or dags" },
    { "dags", SL_OPT_MAP, offsetof(sl_top_conf, dags),
      .help = "scheduled DAGs of tasks, by name (see dag): checked by validate, run by the scheduler "
              "of `sluice server` (or once by `sluice dag test`), never by `sluice run`" },
    { "topics", SL_OPT_MAP, offsetof(sl_top_conf, topics),
      .help = "where topic: blocks live (see topics); without it, on the embedded log" },
    { "log", SL_OPT_MAP, offsetof(sl_top_conf, log), .help = "the diagnostic log on stderr (see log)" },
    { "metadata", SL_OPT_STRING, offsetof(sl_top_conf, metadata), .default_value = "sqlite",
      .help = "where the scheduler keeps DAG runs and task history: sqlite (DATA_DIR/metadata.db), the path of "
              "an SQLite file, or a postgres://user:password@host:port/database URL that several servers share" },
    { "http", SL_OPT_MAP, offsetof(sl_top_conf, http), .help = "the HTTP port of `sluice server` (see http)" },
    { "auth", SL_OPT_MAP, offsetof(sl_top_conf, auth),
      .help = "named tokens and their roles for the HTTP API of `sluice server` (see auth); without it every "
              "route is open and the server listens on a loopback address only" },
    { "alerts", SL_OPT_MAP, offsetof(sl_top_conf, alerts),
      .help = "alert rules over the server's metrics and DAG runs, and the webhooks they notify (see alerts)" },
    { 0 }
};

const sl_option sl_alerts_options[] = {
    { "interval", SL_OPT_DURATION, offsetof(sl_alerts_top_conf, interval_ms), .default_value = "10s",
      .min = "100ms", .max = "1h", .help = "how often `sluice server` evaluates every rule" },
    { "webhooks", SL_OPT_MAP, offsetof(sl_alerts_top_conf, webhooks),
      .help = "receivers of notifications, by name (see webhook): each gets a JSON POST in "
              "Alertmanager's webhook format when an alert fires and when it resolves" },
    { "rules", SL_OPT_LIST, offsetof(sl_alerts_top_conf, rules), .required = true,
      .help = "the rules, each a mapping with a name and one condition (see alerts.rule)" },
    { 0 }
};

const sl_option sl_alert_webhook_options[] = {
    { "url", SL_OPT_STRING, offsetof(sl_alert_webhook_conf, url), .required = true,
      .help = "the http:// or https:// URL notifications are POSTed to" },
    { "headers", SL_OPT_MAP, offsetof(sl_alert_webhook_conf, headers),
      .help = "extra request headers, name: value (values of Authorization, Cookie and names with token, key, "
              "secret or password are logged as ***)" },
    { "timeout", SL_OPT_DURATION, offsetof(sl_alert_webhook_conf, timeout_ms), .default_value = "5s",
      .min = "100ms", .max = "5m", .help = "the longest one attempt may take" },
    { "retries", SL_OPT_INT, offsetof(sl_alert_webhook_conf, retries), .default_value = "5", .min = "0",
      .max = "100",
      .help = "attempts after a failed one, for transient failures only (connection refused, timeout, 5xx, "
              "429); any other 4xx is final" },
    { "retry_delay", SL_OPT_DURATION, offsetof(sl_alert_webhook_conf, retry_delay_ms), .default_value = "1s",
      .min = "10ms", .max = "1h", .help = "wait before the first retry, doubled before each next one" },
    { "max_retry_delay", SL_OPT_DURATION, offsetof(sl_alert_webhook_conf, max_retry_delay_ms),
      .default_value = "1m", .min = "10ms", .max = "1h", .help = "the longest wait between two attempts" },
    { "send_resolved", SL_OPT_BOOL, offsetof(sl_alert_webhook_conf, send_resolved), .default_value = "true",
      .help = "notify also when an alert resolves" },
    { 0 }
};

const sl_option sl_alert_rule_options[] = {
    { "name", SL_OPT_STRING, offsetof(sl_alert_rule_conf, name), .required = true,
      .help = "the alert's name (its alertname label), unique among the rules" },
    { "metric", SL_OPT_STRING, offsetof(sl_alert_rule_conf, metric),
      .help = "condition: the sum of the samples of this metric (narrowed by labels and pipeline) is above or "
              "below a threshold; a rule has one of metric, rate, lag, pipeline_down, restarting, dag_failed, "
              "dag_late" },
    { "rate", SL_OPT_STRING, offsetof(sl_alert_rule_conf, rate),
      .help = "condition: the per-second rate of this counter over window (counter resets counted as "
              "Prometheus counts them), summed over its samples, is above or below a threshold" },
    { "lag", SL_OPT_MAP, offsetof(sl_alert_rule_conf, lag),
      .help = "condition: the lag in records of a pipeline or a consumer group is above a threshold "
              "(see alerts.lag)" },
    { "pipeline_down", SL_OPT_STRING, offsetof(sl_alert_rule_conf, pipeline_down),
      .help = "condition: this continuous pipeline is not running (stopped, failed, restarting)" },
    { "restarting", SL_OPT_STRING, offsetof(sl_alert_rule_conf, restarting),
      .help = "condition: this continuous pipeline restarted at least `restarts` times within `within`" },
    { "dag_failed", SL_OPT_STRING, offsetof(sl_alert_rule_conf, dag_failed),
      .help = "condition: the latest finished run of this DAG failed (resolved when a later run succeeds)" },
    { "dag_late", SL_OPT_STRING, offsetof(sl_alert_rule_conf, dag_late),
      .help = "condition: the latest run of this DAG whose data interval ended `after` ago or more has not "
              "succeeded" },
    { "pipeline", SL_OPT_STRING, offsetof(sl_alert_rule_conf, pipeline),
      .help = "with metric or rate: only samples with this pipeline label" },
    { "labels", SL_OPT_MAP, offsetof(sl_alert_rule_conf, labels),
      .help = "with metric or rate: only samples with these label values, name: value" },
    { "above", SL_OPT_DOUBLE, offsetof(sl_alert_rule_conf, above),
      .help = "with metric, rate or lag: the condition holds when the value is greater than this" },
    { "below", SL_OPT_DOUBLE, offsetof(sl_alert_rule_conf, below),
      .help = "with metric or rate: the condition holds when the value is less than this" },
    { "window", SL_OPT_DURATION, offsetof(sl_alert_rule_conf, window_ms), .default_value = "1m", .min = "1s",
      .max = "24h", .help = "with rate: the span the rate is taken over" },
    { "restarts", SL_OPT_INT, offsetof(sl_alert_rule_conf, restarts), .default_value = "3", .min = "1",
      .max = "1000000", .help = "with restarting: how many restarts count as flapping" },
    { "within", SL_OPT_DURATION, offsetof(sl_alert_rule_conf, within_ms), .default_value = "10m", .min = "1s",
      .max = "24h", .help = "with restarting: the span the restarts are counted over" },
    { "after", SL_OPT_DURATION, offsetof(sl_alert_rule_conf, after_ms), .default_value = "1h",
      .max = "366d", .help = "with dag_late: how long after its data interval ended a run must have succeeded" },
    { "for", SL_OPT_DURATION, offsetof(sl_alert_rule_conf, for_ms), .default_value = "0", .max = "7d",
      .help = "how long the condition must hold before the alert fires (pending until then), as Prometheus's" },
    { "webhook", SL_OPT_STRING, offsetof(sl_alert_rule_conf, webhook),
      .help = "the webhook notified (a name under alerts.webhooks); without it every webhook is" },
    { "severity", SL_OPT_STRING, offsetof(sl_alert_rule_conf, severity), .default_value = "warning",
      .help = "the alert's severity label" },
    { "summary", SL_OPT_STRING, offsetof(sl_alert_rule_conf, summary),
      .help = "the summary annotation; without it one saying what the condition is" },
    { "description", SL_OPT_STRING, offsetof(sl_alert_rule_conf, description),
      .help = "the description annotation" },
    { 0 }
};

const sl_option sl_alert_lag_options[] = {
    { "pipeline", SL_OPT_STRING, offsetof(sl_alert_lag_conf, pipeline),
      .help = "a pipeline of this file: its lag (sluice_pipeline_lag_records); give pipeline or group" },
    { "group", SL_OPT_STRING, offsetof(sl_alert_lag_conf, group),
      .help = "a consumer group: its lag summed over partitions (sluice_consumer_group_lag_records)" },
    { "topic", SL_OPT_STRING, offsetof(sl_alert_lag_conf, topic),
      .help = "with group: only this topic's partitions" },
    { 0 }
};

const sl_option sl_topics_options[] = {
    { "kafka", SL_OPT_MAP, offsetof(sl_topics_conf, kafka), .required = true,
      .help = "put every topic: block on Kafka, as { brokers, properties } (see topics.kafka)" },
    { 0 }
};

const sl_option sl_topics_kafka_options[] = {
    { "brokers", SL_OPT_STRING, offsetof(sl_topics_kafka_conf, brokers), .required = true,
      .help = "bootstrap brokers, host:port[,host:port...]" },
    { "properties", SL_OPT_MAP, offsetof(sl_topics_kafka_conf, properties),
      .help = "librdkafka properties for every source and sink moved onto Kafka" },
    { 0 }
};

static const char *const level_choices[] = { "debug", "info", "warn", "error", "off", NULL };
static const char *const format_choices[] = { "text", "json", NULL };

const sl_option sl_log_options[] = {
    { "level", SL_OPT_STRING, offsetof(sl_log_conf, level), .default_value = "info", .choices = level_choices,
      .help = "the least severe messages logged" },
    { "format", SL_OPT_STRING, offsetof(sl_log_conf, format), .default_value = "text", .choices = format_choices,
      .help = "one line of text or one JSON object per message" },
    { 0 }
};

const sl_option sl_http_options[] = {
    { "listen", SL_OPT_STRING, offsetof(sl_http_conf, listen), .default_value = "127.0.0.1:8080",
      .help = "HOST:PORT (or [IPv6]:PORT) `sluice server` serves /healthz, /readyz and /api/v1 on; "
              "port 0 picks a free one" },
    { "tls", SL_OPT_MAP, offsetof(sl_http_conf, tls),
      .help = "serve HTTPS instead of HTTP with { cert, key } (see http.tls)" },
    { 0 }
};

const sl_option sl_http_tls_options[] = {
    { "cert", SL_OPT_STRING, offsetof(sl_http_tls_conf, cert), .required = true,
      .help = "the PEM file of the server's certificate (its chain after it)" },
    { "key", SL_OPT_STRING, offsetof(sl_http_tls_conf, key), .required = true,
      .help = "the PEM file of the certificate's private key (unencrypted)" },
    { 0 }
};

const sl_option sl_auth_options[] = {
    { "tokens", SL_OPT_LIST, offsetof(sl_auth_conf, tokens), .required = true,
      .help = "the tokens, each { name, token or token_hash, role } (see auth.token)" },
    { 0 }
};

static const char *const role_choices[] = { "viewer", "operator", "admin", NULL };

const sl_option sl_auth_token_options[] = {
    { "name", SL_OPT_STRING, offsetof(sl_auth_token_conf, name), .required = true,
      .help = "what logs, 403 answers and GET /api/v1/whoami call the token's holder (letters, digits, . _ -)" },
    { "token", SL_OPT_STRING, offsetof(sl_auth_token_conf, token),
      .help = "the token, usually from the environment: \"${SLUICE_ADMIN_TOKEN}\" (at least 16 characters); "
              "kept in memory only as a salted hash" },
    { "token_hash", SL_OPT_STRING, offsetof(sl_auth_token_conf, token_hash),
      .help = "instead of token, its \"<salt>$<hash>\" as `sluice auth hash-token` prints it" },
    { "role", SL_OPT_STRING, offsetof(sl_auth_token_conf, role), .required = true, .choices = role_choices,
      .help = "viewer reads (GET), operator also changes (start, stop, trigger...), admin also reloads, "
              "manages tokens and reads the config" },
    { 0 }
};

const sl_option sl_pipeline_options[] = {
    { "source", SL_OPT_MAP, offsetof(sl_pipeline_conf, source), .required = true,
      .help = "where records come from: { <source connector>: { settings } }" },
    { "transform", SL_OPT_MAP, offsetof(sl_pipeline_conf, transform),
      .help = "{ sql: ... }: what each record becomes (see transform); without it records pass as they are" },
    { "sink", SL_OPT_MAP, offsetof(sl_pipeline_conf, sink),
      .help = "where records go: { <sink connector>: { settings } }; give sink or sinks" },
    { "sinks", SL_OPT_LIST, offsetof(sl_pipeline_conf, sinks),
      .help = "several sinks, each { <sink connector>: { settings } }: every record goes to each" },
    { "workers", SL_OPT_INT, offsetof(sl_pipeline_conf, workers), .default_value = "0", .min = "0", .max = "256",
      .help = "threads transforming batches; 0 = one per core" },
    { "batch_size", SL_OPT_INT, offsetof(sl_pipeline_conf, batch_size), .default_value = "1024", .min = "1",
      .max = "1000000", .help = "most records in one batch" },
    { "max_inflight", SL_OPT_INT, offsetof(sl_pipeline_conf, max_inflight), .default_value = "0", .min = "0",
      .max = "100000", .help = "batches in flight at once, which bounds memory; 0 = 2 per worker + 6" },
    { "commit_interval", SL_OPT_DURATION, offsetof(sl_pipeline_conf, commit_interval_ms), .default_value = "1s",
      .help = "how often the positions of what every sink stored are persisted" },
    { "retry_limit", SL_OPT_DURATION, offsetof(sl_pipeline_conf, retry_limit_ms), .default_value = "5m",
      .help = "how long a transient error of a sink or source (server down, timeout, database locked) is "
              "retried, with exponential backoff up to 5 s, before the pipeline fails; 0 = never retry" },
    { "dlq", SL_OPT_STRING, offsetof(sl_pipeline_conf, dlq),
      .help = "dead-letter topic on the embedded log (default: <pipeline>.dlq)" },
    /* The max is runtime/dlq.h's SL_DLQ_MAX_RECORD_BYTES_LIMIT (plan_test checks they agree). */
    { "dlq_max_record_bytes", SL_OPT_SIZE, offsetof(sl_pipeline_conf, dlq_max_record_bytes),
      .default_value = "16MiB", .min = "1KiB", .max = "128MiB",
      .help = "largest dead letter (key + value + headers); a bad record over it fails the run, never "
              "stored cut" },
    { "description", SL_OPT_STRING, offsetof(sl_pipeline_conf, description),
      .help = "what the pipeline is for, for people reading the file" },
    { 0 }
};

const sl_option sl_transform_options[] = {
    { "sql", SL_OPT_STRING, offsetof(sl_transform_conf, sql), .required = true,
      .help = "SELECT <expressions> FROM input [WHERE <condition>]: each output column becomes a field of "
              "the record; rows the WHERE refuses are filtered out. With GROUP BY (over a window table function "
              "such as TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '1' MINUTE))), one row per group "
              "when the watermark passes its window's end (docs/sql.md)" },
    { "watermark", SL_OPT_MAP, offsetof(sl_transform_conf, watermark),
      .help = "event time of a windowed statement (see transform.watermark)" },
    { "state", SL_OPT_MAP, offsetof(sl_transform_conf, state),
      .help = "the memory a grouped statement's windows may hold (see transform.state)" },
    { "tables", SL_OPT_MAP, offsetof(sl_transform_conf, tables),
      .help = "the tables the SQL's lookup joins read (JOIN name FOR SYSTEM_TIME AS OF ...), by name (see "
              "transform.tables.NAME)" },
    { 0 }
};

const sl_option sl_lookup_table_options[] = {
    { "sqlite", SL_OPT_STRING, offsetof(sl_lookup_table_conf, sqlite), .required = true,
      .help = "the SQLite database file the table is in (opened read-only by each worker)" },
    { "table", SL_OPT_STRING, offsetof(sl_lookup_table_conf, table),
      .help = "the table's name in the database (default: the name the SQL joins)" },
    { "cache_rows", SL_OPT_INT, offsetof(sl_lookup_table_conf, cache_rows), .default_value = "10000", .min = "1",
      .max = "10000000", .help = "rows (and misses) each worker keeps, the least recently used dropped first" },
    { "cache_ttl", SL_OPT_DURATION, offsetof(sl_lookup_table_conf, cache_ttl_ms), .default_value = "60s",
      .min = "0ms", .max = "30d",
      .help = "how long a cached row is used before it is read again: changes to the table are seen within it "
              "(0 = read the table for every record)" },
    { 0 }
};

const sl_option sl_watermark_options[] = {
    { "column", SL_OPT_STRING, offsetof(sl_watermark_conf, column),
      .help = "the source's event-time column (a timestamp, an ISO 8601 string or epoch milliseconds); the SQL's "
              "DESCRIPTOR(...) must name it. Without it, DESCRIPTOR's column is the event time" },
    { "delay", SL_OPT_DURATION, offsetof(sl_watermark_conf, delay_ms), .default_value = "0s", .min = "0ms",
      .max = "365d", .help = "how far behind the greatest event time seen in a partition its watermark stays: "
              "how much out of order the records may come" },
    { "allowed_lateness", SL_OPT_DURATION, offsetof(sl_watermark_conf, allowed_lateness_ms),
      .default_value = "0s", .min = "0ms", .max = "365d",
      .help = "how long a fired window still takes late records (each re-fires its group's row); later ones go to "
              "the dead-letter topic with the reason" },
    { "idle_timeout", SL_OPT_DURATION, offsetof(sl_watermark_conf, idle_timeout_ms), .default_value = "30s",
      .min = "0ms", .max = "365d",
      .help = "a partition that gave no record for this long stops holding the watermark back (0 = never: a quiet "
              "partition then stalls every window)" },
    { 0 }
};

const sl_option sl_state_options[] = {
    { "max_bytes", SL_OPT_SIZE, offsetof(sl_state_conf, max_bytes), .default_value = "512MiB", .min = "64KiB",
      .max = "1TiB", .help = "the most memory the open windows, groups and aggregates may hold; past it the pipeline "
              "fails, saying so, instead of growing without bound" },
    { 0 }
};

const sl_option sl_dag_options[] = {
    { "schedule", SL_OPT_NODE, offsetof(sl_dag_conf, schedule),
      .help = "when runs are created: a 5-field cron expression or @hourly, @daily, @weekly, @monthly, @yearly "
              "(in timezone), { every: DURATION } (see dag.every), or null for manual runs only (the default)" },
    { "timezone", SL_OPT_STRING, offsetof(sl_dag_conf, timezone), .default_value = "UTC",
      .help = "the tz database zone of the cron schedule and of dates without an offset, like Europe/Berlin" },
    { "start_date", SL_OPT_STRING, offsetof(sl_dag_conf, start_date),
      .help = "no interval starts before this date (2026-01-01 or 2026-01-01T06:00, in timezone unless it "
              "has an offset)" },
    { "end_date", SL_OPT_STRING, offsetof(sl_dag_conf, end_date),
      .help = "no interval starts after this date (as start_date)" },
    { "catchup", SL_OPT_BOOL, offsetof(sl_dag_conf, catchup), .default_value = "false",
      .help = "create a run for every interval since start_date that has none, in order; else only the "
              "latest complete one" },
    { "max_active_runs", SL_OPT_INT, offsetof(sl_dag_conf, max_active_runs), .default_value = "16", .min = "1",
      .max = "10000", .help = "runs of this DAG that may run at once" },
    { "dagrun_timeout", SL_OPT_DURATION, offsetof(sl_dag_conf, dagrun_timeout_ms), .default_value = "0",
      .help = "a run still going after this long fails; 0 = no limit" },
    { "tasks", SL_OPT_MAP, offsetof(sl_dag_conf, tasks), .required = true,
      .help = "the tasks, by name (see task)" },
    { "paused", SL_OPT_BOOL, offsetof(sl_dag_conf, paused), .default_value = "false",
      .help = "defined but not scheduled" },
    { "description", SL_OPT_STRING, offsetof(sl_dag_conf, description),
      .help = "what the DAG is for, for people reading the file" },
    { 0 }
};

const sl_option sl_every_options[] = {
    { "every", SL_OPT_DURATION, offsetof(sl_every_conf, every_ms), .required = true, .min = "1s",
      .help = "the length of each interval; intervals start at start_date (or the Unix epoch) plus a multiple of it" },
    { 0 }
};

static const char *const trigger_rule_choices[] = { "all_success", "all_done", "one_success", "one_failed",
                                                    "none_failed", NULL };

const sl_option sl_task_options[] = {
    { "pipeline", SL_OPT_STRING, offsetof(sl_task_conf, pipeline),
      .help = "a pipeline of this file that the task runs until its source ends; a task has one of pipeline, "
              "command, shell, sql, sensor, control" },
    { "overrides", SL_OPT_MAP, offsetof(sl_task_conf, overrides),
      .help = "with pipeline: settings of the pipeline replaced for this task, by dotted path, like "
              "{ sink.file.path: \"out/${ds}.jsonl\", source.generator.count: 500 }; run macros are expanded "
              "in them and in the pipeline's own settings" },
    { "command", SL_OPT_STR_LIST, offsetof(sl_task_conf, command),
      .help = "a program and its arguments, run without a shell; output goes to the task's log" },
    { "shell", SL_OPT_STRING, offsetof(sl_task_conf, shell),
      .help = "a script run by /bin/sh -c, when a shell is wanted" },
    { "sql", SL_OPT_MAP, offsetof(sl_task_conf, sql), .help = "statements run on a database (see task.sql)" },
    { "sensor", SL_OPT_MAP, offsetof(sl_task_conf, sensor),
      .help = "wait for a topic's consumer group or its event time (see task.sensor)" },
    { "control", SL_OPT_MAP, offsetof(sl_task_conf, control),
      .help = "start, stop or restart a continuous pipeline of the server (see task.control)" },
    { "depends_on", SL_OPT_STR_LIST, offsetof(sl_task_conf, depends_on),
      .help = "tasks of the same DAG this one runs after (see trigger_rule)" },
    { "trigger_rule", SL_OPT_STRING, offsetof(sl_task_conf, trigger_rule), .default_value = "all_success",
      .choices = trigger_rule_choices,
      .help = "what the tasks it depends on must have done: all succeeded, all finished, one succeeded, "
              "one failed, or all finished with none failed" },
    { "retries", SL_OPT_INT, offsetof(sl_task_conf, retries), .default_value = "0", .min = "0", .max = "1000",
      .help = "attempts after a failed one" },
    { "retry_delay", SL_OPT_DURATION, offsetof(sl_task_conf, retry_delay_ms), .default_value = "30s",
      .help = "wait between a failed attempt and the next" },
    { "retry_exponential_backoff", SL_OPT_BOOL, offsetof(sl_task_conf, retry_exponential_backoff),
      .default_value = "false", .help = "double the wait after each failed attempt" },
    { "max_retry_delay", SL_OPT_DURATION, offsetof(sl_task_conf, max_retry_delay_ms), .default_value = "0",
      .help = "the longest wait between attempts; 0 = no limit" },
    { "timeout", SL_OPT_DURATION, offsetof(sl_task_conf, timeout_ms), .default_value = "0",
      .help = "an attempt running longer fails; 0 = no limit" },
    { 0 }
};

const sl_option sl_task_sql_options[] = {
    { "database", SL_OPT_STRING, offsetof(sl_task_sql_conf, database), .required = true,
      .help = "where the statements run: a postgres://user:password@host:port/database URL, or the path of "
              "an SQLite file" },
    { "statement", SL_OPT_STRING, offsetof(sl_task_sql_conf, statement), .required = true,
      .help = "one or more statements, run in one transaction" },
    { 0 }
};

static const char *const sensor_until_choices[] = { "lag_zero", "event_time_past_interval_end", NULL };

const sl_option sl_task_sensor_options[] = {
    { "topic", SL_OPT_STRING, offsetof(sl_task_sensor_conf, topic), .required = true,
      .help = "the embedded topic watched" },
    { "group", SL_OPT_STRING, offsetof(sl_task_sensor_conf, group),
      .help = "the consumer group whose lag is watched (for until: lag_zero)" },
    { "until", SL_OPT_STRING, offsetof(sl_task_sensor_conf, until), .default_value = "lag_zero",
      .choices = sensor_until_choices,
      .help = "done when the group has read the topic to its end, or when a record with a timestamp at or "
              "past the run's interval end is in the topic" },
    { "poke_interval", SL_OPT_DURATION, offsetof(sl_task_sensor_conf, poke_interval_ms), .default_value = "5s",
      .min = "10ms", .help = "how often the topic is looked at" },
    { 0 }
};

const sl_option sl_task_control_options[] = {
    { "action", SL_OPT_STRING, offsetof(sl_task_control_conf, action), .required = true,
      .choices = sl_control_action_names, .help = "what to do to the pipeline" },
    { "pipeline", SL_OPT_STRING, offsetof(sl_task_control_conf, pipeline), .required = true,
      .help = "a continuous pipeline of this file (one no task runs)" },
    { 0 }
};

const sl_plan_block sl_plan_blocks[] = {
    { "top", "(top level)", "the keys at the top of a config file", sl_top_options },
    { "pipeline", "pipelines.NAME", "a pipeline: a source, an optional transform, one or more sinks",
      sl_pipeline_options },
    { "transform", "pipelines.NAME.transform", "a pipeline's SQL", sl_transform_options },
    { "transform.watermark", "pipelines.NAME.transform.watermark", "event time and watermarks of a windowed "
      "statement", sl_watermark_options },
    { "transform.state", "pipelines.NAME.transform.state", "the memory bound of a grouped statement",
      sl_state_options },
    { "transform.tables.NAME", "pipelines.NAME.transform.tables.NAME", "a table a lookup join reads",
      sl_lookup_table_options },
    { "log", "log", "the diagnostic log", sl_log_options },
    { "http", "http", "the HTTP port of `sluice server`", sl_http_options },
    { "http.tls", "http.tls", "HTTPS for `sluice server`", sl_http_tls_options },
    { "auth", "auth", "who may use the HTTP API of `sluice server`", sl_auth_options },
    { "auth.token", "auth.tokens[N]", "a named token with a role", sl_auth_token_options },
    { "topics", "topics", "where topic: blocks live", sl_topics_options },
    { "topics.kafka", "topics.kafka", "the Kafka cluster that topic: blocks are moved onto",
      sl_topics_kafka_options },
    { "dag", "dags.NAME", "a scheduled DAG of tasks (run by the scheduler of `sluice server`)", sl_dag_options },
    { "dag.every", "dags.NAME.schedule", "an interval schedule: { every: DURATION }", sl_every_options },
    { "task", "dags.NAME.tasks.NAME",
      "a task of a DAG; run macros like `${ds}` in its settings are expanded when it runs: see docs/operations.md",
      sl_task_options },
    { "task.sql", "dags.NAME.tasks.NAME.sql", "a task's SQL statements", sl_task_sql_options },
    { "task.sensor", "dags.NAME.tasks.NAME.sensor", "a task that waits for a topic", sl_task_sensor_options },
    { "task.control", "dags.NAME.tasks.NAME.control", "a task that controls a continuous pipeline",
      sl_task_control_options },
    { "alerts", "alerts", "alert rules and the webhooks they notify (evaluated by `sluice server`)",
      sl_alerts_options },
    { "webhook", "alerts.webhooks.NAME", "a webhook receiver of notifications", sl_alert_webhook_options },
    { "alerts.rule", "alerts.rules[N]", "an alert rule: a name, one condition and its parameters",
      sl_alert_rule_options },
    { "alerts.lag", "alerts.rules[N].lag", "a lag condition: { pipeline } or { group, topic }",
      sl_alert_lag_options },
    { NULL, NULL, NULL, NULL },
};
