/* alerts_json.h — the JSON texts of alerts: the webhook payload, in
 * Alertmanager's webhook format (version "4": status, receiver, alerts
 * [{status, labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint}], groupLabels, commonLabels, commonAnnotations, externalURL,
 * groupKey, truncatedAlerts), one alert per notice, grouped by alertname;
 * and one rule's entry of GET /api/v1/alerts. */
#ifndef SL_ALERTS_JSON_H
#define SL_ALERTS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buffer.h"
#include "runtime/plan_alerts.h"
#include "server/alerts/alerts_rules.h"

/* The last notice of a rule's alert, for the API. */
typedef struct sl_alert_note {
    bool is_set;
    bool is_firing;           /* what it said */
    int64_t at_ms;
    int attempts;
    char status[400];         /* "queued", "sent", "failed: HTTP 404", "dropped: ..." */
} sl_alert_note;

/* Appends the payload for receiver about rule's alert firing (is_firing)
 * or resolving, at now_ms; external_url is the server's URL. */
int sl_alert_payload_write(sl_buffer *out, const char *receiver, const sl_alert_rule *rule,
                           const sl_alert_status *status, bool is_firing, const char *external_url, int64_t now_ms);

/* Appends {"name","state","since","value","labels","annotations","summary","rule","last_notification"}. */
int sl_alert_entry_write(sl_buffer *out, const sl_alert_rule *rule, const sl_alert_status *status,
                         const sl_alert_note *note, const sl_alerts_conf *conf);

#endif
