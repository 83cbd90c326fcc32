/* alerts.h — the alert evaluator of `sluice server`: a thread that every
 * alerts.interval gathers the metric set, reads the DAG runs its DAG rules
 * need from the metadata store, evaluates every rule (alerts_rules.h) and
 * hands a notice per fired or resolved alert to the webhook sender
 * (alerts_webhook.h); what it knows is served by GET /api/v1/alerts.
 *
 * A reload hands it the new plan (sl_alerts_apply); the thread takes it at
 * once, keeping the state of every rule whose block did not change. The
 * plan is retained (its document holds the rules' strings) and released
 * when replaced or at stop. A rule whose block changed or went away loses
 * its state; when its alert was firing, the reload resolves it (a notice).
 *
 * sl_alerts_apply and sl_alerts_stop are called from the server's main
 * thread; sl_alerts_write_json from any (HTTP handlers).
 */
#ifndef SL_ALERTS_H
#define SL_ALERTS_H

#include "core/buffer.h"
#include "core/error.h"
#include "runtime/plan.h"
#include "server/metrics/metric_set.h"

/* Fills *out with a fresh metric set (the caller frees it). */
typedef int (*sl_alerts_gather_fn)(void *context, sl_metric_set **out, sl_error *err);

typedef struct sl_alerts_options {
    sl_alerts_gather_fn gather;
    void *gather_context;
    const char *metadata;    /* the store DAG rules read (a path or postgres:// URL), copied */
} sl_alerts_options;

typedef struct sl_alerts sl_alerts;

/* Starts the evaluator and the sender with plan's alerts: (none is fine:
 * the thread waits for a reload that brings some). */
int sl_alerts_start(sl_plan *plan, const sl_alerts_options *options, sl_alerts **out, sl_error *err);

/* The server's URL (externalURL and generatorURL of payloads), copied. */
void sl_alerts_set_url(sl_alerts *alerts, const char *url);

/* Takes plan's alerts: from the next round on (which starts now). */
void sl_alerts_apply(sl_alerts *alerts, sl_plan *plan);

/* Appends {"alerts":[...],"next_cursor","interval_s","notifications":{sent,failed,retried,dropped,queued}},
 * the alerts in state only (an sl_alert_state) unless state is -1, by rule
 * name after `after` ("" or NULL: from the first), at most limit. */
int sl_alerts_write_json(sl_alerts *alerts, int state, const char *after, size_t limit, sl_buffer *out);

/* Stops both threads and frees. NULL is a no-op. */
void sl_alerts_stop(sl_alerts *alerts);

#endif
