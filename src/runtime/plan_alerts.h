/* plan_alerts.h — the `alerts:` block of a config file, checked and
 * compiled into rules and webhooks (plan.c calls it once pipelines and
 * DAGs are known, so rules can name them; `sluice server`'s evaluator,
 * server/alerts.h, runs what it builds).
 *
 *     alerts:
 *       interval: 10s
 *       webhooks: { ops: { url: http://127.0.0.1:9099/hook, retries: 5 } }
 *       rules:
 *         - { name: dlq, rate: sluice_pipeline_dead_letters_total, pipeline: p, above: 0.5, window: 1m }
 *         - { name: down, pipeline_down: p, for: 30s, webhook: ops }
 *
 * Every string of the compiled form is borrowed from the plan's document
 * (or is a static default): the sl_alerts_conf lives as long as its plan,
 * which owns it (plan->alerts).
 */
#ifndef SL_PLAN_ALERTS_H
#define SL_PLAN_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diagnostics.h"
#include "runtime/plan.h"

/* Most label matchers of one rule, and most webhook headers. */
#define SL_ALERT_MAX_MATCHERS 6
/* Most samples a rate (or restarting) rule keeps per series: its window
 * may span at most this many evaluation intervals. */
#define SL_ALERT_MAX_POINTS 4096
#define SL_ALERT_MAX_HEADERS 16

typedef enum sl_alert_kind {
    SL_ALERT_METRIC,         /* sum of a metric's samples above/below */
    SL_ALERT_RATE,           /* summed per-second rate of a counter over a window */
    SL_ALERT_LAG,            /* a pipeline's or group's lag above */
    SL_ALERT_PIPELINE_DOWN,  /* sluice_pipeline_up{pipeline} is 0 */
    SL_ALERT_RESTARTING,     /* restarts within a window reach a count */
    SL_ALERT_DAG_FAILED,     /* the latest finished run of a DAG failed */
    SL_ALERT_DAG_LATE,       /* a run not succeeded `after` its interval ended */
} sl_alert_kind;

/* The key of each kind in the file ("rate", "pipeline_down"...). */
extern const char *const sl_alert_kind_names[];

typedef struct sl_alert_pair {
    const char *name;
    const char *value;
} sl_alert_pair;

typedef struct sl_alert_webhook {
    const char *name;
    const char *url;
    sl_alert_pair headers[SL_ALERT_MAX_HEADERS];
    size_t n_headers;
    int64_t timeout_ms;
    int64_t retries;
    int64_t retry_delay_ms;
    int64_t max_retry_delay_ms;
    bool send_resolved;
} sl_alert_webhook;

typedef struct sl_alert_rule {
    const char *name;
    sl_alert_kind kind;
    const char *target;      /* the pipeline, group or DAG the condition names; NULL for metric/rate */
    const char *metric;      /* the metric read (NULL for the DAG kinds) */
    sl_alert_pair matchers[SL_ALERT_MAX_MATCHERS];   /* samples must have these label values */
    size_t n_matchers;
    bool has_above;          /* else below */
    double threshold;
    int64_t window_ms;       /* rate: window; restarting: within */
    int64_t restarts;
    int64_t after_ms;
    int64_t for_ms;
    int webhook;             /* index in webhooks, -1 = every webhook */
    const char *severity;
    const char *summary;     /* NULL: made from the condition */
    const char *description; /* NULL: none */
    uint64_t fingerprint;    /* of the rule's block: a reload keeps the state of an unchanged rule */
} sl_alert_rule;

typedef struct sl_alerts_conf {
    int64_t interval_ms;
    sl_alert_webhook *webhooks;
    size_t n_webhooks;
    sl_alert_rule *rules;
    size_t n_rules;
} sl_alerts_conf;

/* Checks alerts (a mapping node of plan's document) against the option
 * tables and what they cannot say (one condition per rule, settings that
 * belong to its kind only, pipelines, DAGs and webhooks that exist, unique
 * names, URLs, label names), reporting every mistake to diags. dags is the
 * file's dags: node (NULL when none). On SL_OK *out is the compiled block
 * (free with sl_alerts_conf_free); SL_ECONFIG, SL_ENOMEM otherwise. */
int sl__plan_check_alerts(const sl_plan *plan, const sl_node *alerts, const sl_node *dags, sl_alerts_conf **out,
                          sl_diagnostics *diags);

void sl_alerts_conf_free(sl_alerts_conf *conf);

#endif
