/* alerts_rules.h — evaluating alert rules (runtime/plan_alerts.h) over a
 * gathered metric set and what the DAG runs say, one round at a time, with
 * the clock given by the caller (so tests drive it).
 *
 * Each rule has one alert whose state moves as Prometheus's does:
 * inactive → pending (the condition holds, `for` has not elapsed since it
 * began to) → firing; when the condition stops holding a firing alert
 * resolves (an event) and is inactive again, a pending one just goes
 * inactive. A rule with for: 0 fires in the round its condition first
 * holds. No matching sample means no data: the condition does not hold.
 *
 * Rates keep, per matching series (one set of label values), the samples
 * seen within the window; the increase between them counts a drop as a
 * counter reset (the value after the drop is all new), as Prometheus's
 * rate() does, and is divided by the time between the first and last
 * sample kept (no extrapolation). A series needs two samples in the window
 * before it has a rate. restarting rules use the same increase over
 * `within`.
 *
 * The engine borrows the conf given to sl_alert_engine_apply until the
 * next apply or its free; one thread uses it at a time (alerts.c holds a
 * lock around it).
 */
#ifndef SL_ALERTS_RULES_H
#define SL_ALERTS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "runtime/plan_alerts.h"
#include "server/metrics/metric_set.h"

/* Most series one rule follows (samples per series: plan_alerts.h's
 * SL_ALERT_MAX_POINTS, which the config check holds windows to). */
#define SL_ALERT_MAX_SERIES 1000
#define SL_ALERT_RUN_ID_MAX 256

typedef enum sl_alert_state {
    SL_ALERT_INACTIVE,
    SL_ALERT_PENDING,
    SL_ALERT_FIRING,
} sl_alert_state;

extern const char *const sl_alert_state_names[];

/* What the caller read for a DAG rule this round. */
typedef struct sl_alert_fact {
    bool is_known;            /* false: the store could not be read; the alert keeps its state */
    bool is_true;
    char run_id[SL_ALERT_RUN_ID_MAX];   /* the run the condition is about */
} sl_alert_fact;

/* The state of one rule's alert. */
typedef struct sl_alert_status {
    sl_alert_state state;
    int64_t active_since_ms;  /* when the condition began to hold (pending or firing); 0 when inactive */
    int64_t fired_at_ms;      /* when it last fired */
    int64_t resolved_at_ms;   /* when it last resolved; 0 never */
    bool has_value;           /* the last round had data */
    double value;             /* the value the condition was judged on */
    char run_id[SL_ALERT_RUN_ID_MAX];   /* DAG rules: the run */
} sl_alert_status;

typedef struct sl_alert_event {
    size_t rule;              /* index in the conf's rules */
    bool is_firing;           /* else resolved */
} sl_alert_event;

typedef struct sl_alert_engine sl_alert_engine;

/* NULL when out of memory. */
sl_alert_engine *sl_alert_engine_new(void);
void sl_alert_engine_free(sl_alert_engine *engine);

/* Takes conf's rules (borrowed): a rule with the name and fingerprint of
 * one of the previous conf keeps its state and its samples; others start
 * inactive. SL_ENOMEM leaves the previous rules in place. */
int sl_alert_engine_apply(sl_alert_engine *engine, const sl_alerts_conf *conf);

/* One round at now_ms over set (may be NULL: no data) and facts (one per
 * rule, read for DAG rules only; may be NULL when there are none). Appends
 * to events (room for one per rule) the alerts that fired or resolved in
 * this round, *n_events how many. SL_ENOMEM (the round's samples are lost,
 * states are kept). */
int sl_alert_engine_eval(sl_alert_engine *engine, const sl_metric_set *set, const sl_alert_fact *facts,
                         int64_t now_ms, sl_alert_event *events, size_t *n_events);

const sl_alert_status *sl_alert_engine_status(const sl_alert_engine *engine, size_t rule);

/* The labels of rule's alert: alertname, severity, and what the condition
 * names (pipeline, group, topic, dag, the metric's label matchers), sorted
 * by name. pairs has room for SL_ALERT_MAX_LABELS. */
#define SL_ALERT_MAX_LABELS (SL_ALERT_MAX_MATCHERS + 3)
size_t sl_alert_labels(const sl_alert_rule *rule, sl_alert_pair *pairs);

/* Alertmanager's fingerprint of a label set: 16 hex digits of a 64-bit
 * FNV-1a hash of the sorted labels. */
void sl_alert_fingerprint(const sl_alert_pair *pairs, size_t n, char out[17]);

/* The summary annotation: the rule's, or one made from its condition and
 * status ("pipeline stream_data is not running"). */
void sl_alert_summary(const sl_alert_rule *rule, const sl_alert_status *status, char *out, size_t size);

#endif
