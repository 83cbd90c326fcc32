/* alerts_json.c — the webhook payload and the API's alert entries (see
 * alerts_json.h). Both take the labels from sl_alert_labels, so a receiver
 * and the API name an alert alike; times are RFC 3339 UTC, and a firing
 * alert's endsAt is Go's zero time, as Alertmanager sends it. */
#include "server/alerts/alerts_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timefmt.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

static int write_string(sl_buffer *out, const char *text)
{
    return sl_json_write_string(out, text, strlen(text));
}

static int write_time(sl_buffer *out, int64_t ms)
{
    char text[SL_TIME_ISO_MAX];
    sl_time_format_iso(ms * 1000, text);
    return write_string(out, text);
}

static int write_number(sl_buffer *out, double value)
{
    if (!isfinite(value)) return sl_buffer_append_cstr(out, "null");
    return sl_buffer_printf(out, "%.17g", value);
}

static int write_pairs(sl_buffer *out, const sl_alert_pair *pairs, size_t n)
{
    int rc = sl_buffer_append_byte(out, '{');
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (i) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = write_string(out, pairs[i].name);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, ':');
        if (rc == SL_OK) rc = write_string(out, pairs[i].value);
    }
    return rc == SL_OK ? sl_buffer_append_byte(out, '}') : rc;
}

/* summary, description (when given), value, run_id (DAG rules). */
static int write_annotations(sl_buffer *out, const sl_alert_rule *rule, const sl_alert_status *status)
{
    char summary[600], value[64];
    sl_alert_summary(rule, status, summary, sizeof summary);
    snprintf(value, sizeof value, "%g", status->value);
    sl_alert_pair pairs[4];
    size_t n = 0;
    if (rule->description) pairs[n++] = (sl_alert_pair){ "description", rule->description };
    if (status->run_id[0] && (rule->kind == SL_ALERT_DAG_FAILED || rule->kind == SL_ALERT_DAG_LATE))
        pairs[n++] = (sl_alert_pair){ "run_id", status->run_id };
    pairs[n++] = (sl_alert_pair){ "summary", summary };
    pairs[n++] = (sl_alert_pair){ "value", value };
    return write_pairs(out, pairs, n);
}

int sl_alert_payload_write(sl_buffer *out, const char *receiver, const sl_alert_rule *rule,
                           const sl_alert_status *status, bool is_firing, const char *external_url, int64_t now_ms)
{
    sl_alert_pair labels[SL_ALERT_MAX_LABELS];
    size_t n_labels = sl_alert_labels(rule, labels);
    char fingerprint[17];
    sl_alert_fingerprint(labels, n_labels, fingerprint);
    const char *state = is_firing ? "firing" : "resolved";
    sl_alert_pair group = { "alertname", rule->name };
    sl_buffer key = { 0 };
    int rc = sl_buffer_printf(&key, "{}:{alertname=\"%s\"}", rule->name);
    if (rc == SL_OK) rc = sl_buffer_append_byte(&key, '\0');
    if (rc == SL_OK) rc = sl_buffer_printf(out, "{\"version\":\"4\",\"groupKey\":");
    if (rc == SL_OK) rc = write_string(out, key.data);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"truncatedAlerts\":0,\"status\":\"%s\",\"receiver\":", state);
    if (rc == SL_OK) rc = write_string(out, receiver);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"groupLabels\":");
    if (rc == SL_OK) rc = write_pairs(out, &group, 1);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"commonLabels\":");
    if (rc == SL_OK) rc = write_pairs(out, labels, n_labels);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"commonAnnotations\":");
    if (rc == SL_OK) rc = write_annotations(out, rule, status);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"externalURL\":");
    if (rc == SL_OK) rc = write_string(out, external_url);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"alerts\":[{\"status\":\"%s\",\"labels\":", state);
    if (rc == SL_OK) rc = write_pairs(out, labels, n_labels);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"annotations\":");
    if (rc == SL_OK) rc = write_annotations(out, rule, status);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"startsAt\":");
    if (rc == SL_OK) rc = write_time(out, status->fired_at_ms ? status->fired_at_ms : now_ms);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"endsAt\":");
    if (rc == SL_OK) rc = is_firing ? write_string(out, ZERO_TIME) : write_time(out, now_ms);
    sl_buffer_free(&key);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"generatorURL\":");
    sl_buffer url = { 0 };
    if (rc == SL_OK) rc = sl_buffer_printf(&url, "%s/api/v1/alerts", external_url);
    if (rc == SL_OK) rc = sl_json_write_string(out, url.data, url.len);
    sl_buffer_free(&url);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"fingerprint\":\"%s\"}]}", fingerprint);
    return rc;
}

static int write_rule(sl_buffer *out, const sl_alert_rule *rule, const sl_alerts_conf *conf)
{
    int rc = sl_buffer_printf(out, "{\"kind\":\"%s\"", sl_alert_kind_names[rule->kind]);
    if (rc == SL_OK && rule->target) rc = sl_buffer_append_cstr(out, ",\"target\":");
    if (rc == SL_OK && rule->target) rc = write_string(out, rule->target);
    if (rc == SL_OK && rule->metric) rc = sl_buffer_append_cstr(out, ",\"metric\":");
    if (rc == SL_OK && rule->metric) rc = write_string(out, rule->metric);
    if (rc == SL_OK && rule->n_matchers) rc = sl_buffer_append_cstr(out, ",\"matchers\":");
    if (rc == SL_OK && rule->n_matchers) rc = write_pairs(out, rule->matchers, rule->n_matchers);
    bool has_threshold = rule->kind == SL_ALERT_METRIC || rule->kind == SL_ALERT_RATE || rule->kind == SL_ALERT_LAG;
    if (rc == SL_OK && has_threshold) rc = sl_buffer_printf(out, ",\"%s\":", rule->has_above ? "above" : "below");
    if (rc == SL_OK && has_threshold) rc = write_number(out, rule->threshold);
    if (rc == SL_OK && rule->kind == SL_ALERT_RATE)
        rc = sl_buffer_printf(out, ",\"window_s\":%g", (double)rule->window_ms / 1000.0);
    if (rc == SL_OK && rule->kind == SL_ALERT_RESTARTING)
        rc = sl_buffer_printf(out, ",\"restarts\":%lld,\"within_s\":%g", (long long)rule->restarts,
                              (double)rule->window_ms / 1000.0);
    if (rc == SL_OK && rule->kind == SL_ALERT_DAG_LATE)
        rc = sl_buffer_printf(out, ",\"after_s\":%g", (double)rule->after_ms / 1000.0);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"for_s\":%g,\"webhooks\":[", (double)rule->for_ms / 1000.0);
    bool is_first = true;
    for (size_t w = 0; w < conf->n_webhooks && rc == SL_OK; w++) {
        if (rule->webhook >= 0 && (size_t)rule->webhook != w) continue;
        if (!is_first) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = write_string(out, conf->webhooks[w].name);
        is_first = false;
    }
    return rc == SL_OK ? sl_buffer_append_cstr(out, "]}") : rc;
}

int sl_alert_entry_write(sl_buffer *out, const sl_alert_rule *rule, const sl_alert_status *status,
                         const sl_alert_note *note, const sl_alerts_conf *conf)
{
    sl_alert_pair labels[SL_ALERT_MAX_LABELS];
    size_t n_labels = sl_alert_labels(rule, labels);
    char summary[600];
    sl_alert_summary(rule, status, summary, sizeof summary);
    int rc = sl_buffer_append_cstr(out, "{\"name\":");
    if (rc == SL_OK) rc = write_string(out, rule->name);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"state\":\"%s\",\"since\":", sl_alert_state_names[status->state]);
    if (rc == SL_OK) {
        int64_t since = status->state == SL_ALERT_FIRING ? status->fired_at_ms
                        : status->state == SL_ALERT_PENDING ? status->active_since_ms : 0;
        rc = since ? write_time(out, since) : sl_buffer_append_cstr(out, "null");
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"value\":");
    if (rc == SL_OK) rc = status->has_value ? write_number(out, status->value) : sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"labels\":");
    if (rc == SL_OK) rc = write_pairs(out, labels, n_labels);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"annotations\":");
    if (rc == SL_OK) rc = write_annotations(out, rule, status);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"summary\":");
    if (rc == SL_OK) rc = write_string(out, summary);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"resolved_at\":");
    if (rc == SL_OK)
        rc = status->resolved_at_ms ? write_time(out, status->resolved_at_ms) : sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"rule\":");
    if (rc == SL_OK) rc = write_rule(out, rule, conf);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"last_notification\":");
    if (rc == SL_OK && !note->is_set) rc = sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK && note->is_set) {
        rc = sl_buffer_append_cstr(out, "{\"at\":");
        if (rc == SL_OK) rc = write_time(out, note->at_ms);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"status\":");
        if (rc == SL_OK) rc = write_string(out, note->status);
        if (rc == SL_OK)
            rc = sl_buffer_printf(out, ",\"attempts\":%d,\"alert_status\":\"%s\"}", note->attempts,
                                  note->is_firing ? "firing" : "resolved");
    }
    return rc == SL_OK ? sl_buffer_append_byte(out, '}') : rc;
}
