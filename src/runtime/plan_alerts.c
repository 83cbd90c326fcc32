/* plan_alerts.c — checking and compiling a config file's `alerts:` block
 * (see plan_alerts.h): every setting through the option tables of
 * plan_settings.c, then what the tables cannot say. A rule has exactly one
 * condition key; a setting that belongs to another kind of rule (window on
 * a pipeline_down rule) is an error rather than a value silently ignored;
 * the pipelines, DAGs and webhooks a rule names must exist.
 *
 * The compiled rules borrow their strings from the document's nodes, so
 * nothing but the arrays is allocated.
 */
#include "runtime/plan_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/fingerprint.h"
#include "config/options.h"
#include "runtime/plan_settings.h"

const char *const sl_alert_kind_names[] = { "metric", "rate", "lag", "pipeline_down", "restarting", "dag_failed",
                                            "dag_late", NULL };

#define KIND(k) (1u << (k))
#define METRIC_KINDS (KIND(SL_ALERT_METRIC) | KIND(SL_ALERT_RATE))

/* The settings that only some kinds take. */
typedef struct kind_setting {
    const char *key;
    unsigned kinds;
    const char *which;       /* for messages: "metric and rate rules" */
} kind_setting;

static const kind_setting kind_settings[] = {
    { "pipeline", METRIC_KINDS, "metric and rate rules" },
    { "labels", METRIC_KINDS, "metric and rate rules" },
    { "above", METRIC_KINDS | KIND(SL_ALERT_LAG), "metric, rate and lag rules" },
    { "below", METRIC_KINDS, "metric and rate rules" },
    { "window", KIND(SL_ALERT_RATE), "rate rules" },
    { "restarts", KIND(SL_ALERT_RESTARTING), "restarting rules" },
    { "within", KIND(SL_ALERT_RESTARTING), "restarting rules" },
    { "after", KIND(SL_ALERT_DAG_LATE), "dag_late rules" },
    { NULL, 0, NULL },
};

static int worse(int a, int b)
{
    if (a == SL_ENOMEM || b == SL_ENOMEM) return SL_ENOMEM;
    return a ? a : b;
}

/* Prometheus's metric names ([a-zA-Z_:][a-zA-Z0-9_:]*) and label names
 * (the same without ':'). */
static bool is_prometheus_name(const char *name, bool allow_colon)
{
    if (!name[0]) return false;
    for (const char *c = name; *c; c++) {
        bool is_alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || (allow_colon && *c == ':');
        bool is_digit = *c >= '0' && *c <= '9';
        if (!is_alpha && !(is_digit && c != name)) return false;
    }
    return true;
}

/* RFC 9110's token characters, for header names. */
static bool is_header_name(const char *name)
{
    if (!name[0]) return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("!#$%&'*+-.^_`|~", *c)))
            return false;
    return true;
}

/* The scalar text under key in map (borrowed from the document), or NULL. */
static const char *scalar_of(const sl_node *map, const char *key)
{
    const sl_node *node = sl_node_get(map, key);
    return node && node->kind == SL_NODE_SCALAR && !node->is_null ? node->scalar : NULL;
}

static bool is_dag(const sl_node *dags, const char *name)
{
    return dags && dags->kind == SL_NODE_MAP && sl_node_get(dags, name) != NULL;
}

/* A mapping of scalars into pairs (borrowed), each checked by is_valid. */
static int load_pairs(sl_diagnostics *diags, const sl_node *map, const char *where, sl_alert_pair *pairs,
                      size_t max, size_t *n, bool (*is_valid)(const char *name), const char *what)
{
    *n = 0;
    if (!map) return SL_OK;
    if (map->n_pairs > max)
        return sl_diag_error_at(diags, map, "%s: at most %zu %s, not %zu", where, max, what, map->n_pairs);
    int rc = SL_OK;
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node_pair *pair = &map->pairs[i];
        if (!is_valid(pair->key)) {
            rc = sl_diag_error_at_position(diags, map->file, pair->key_line, pair->key_column,
                                           "%s: '%s' is not a valid %s name", where, pair->key, what);
            continue;
        }
        if (pair->value->kind != SL_NODE_SCALAR || pair->value->is_null) {
            rc = sl_diag_error_at(diags, pair->value, "%s.%s: expected a string value, found a %s", where, pair->key,
                                  pair->value->is_null ? "null" : sl_node_kind_name(pair->value->kind));
            continue;
        }
        if (strpbrk(pair->value->scalar, "\r\n")) {
            rc = sl_diag_error_at(diags, pair->value, "%s.%s: a value cannot hold a line break", where, pair->key);
            continue;
        }
        pairs[*n].name = pair->key;
        pairs[*n].value = pair->value->scalar;
        (*n)++;
    }
    return rc;
}

static bool is_label_name(const char *name)
{
    return is_prometheus_name(name, false) && strncmp(name, "__", 2) != 0;
}

static int load_webhook(sl_diagnostics *diags, const sl_node_pair *pair, sl_alert_webhook *webhook)
{
    char where[400];
    snprintf(where, sizeof where, "alerts.webhooks.%s", pair->key);
    if (pair->value->kind != SL_NODE_MAP)
        return sl_diag_error_at(diags, pair->value, "%s: expected a mapping with url, found a %s", where,
                                sl_node_kind_name(pair->value->kind));
    sl_alert_webhook_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_alert_webhook_options, pair->value, &conf, where, diags);
    if (conf.url && strncmp(conf.url, "http://", 7) != 0 && strncmp(conf.url, "https://", 8) != 0)
        rc = worse(rc, sl_diag_error_at(diags, sl_node_get(pair->value, "url"),
                                        "%s.url: '%.200s' is not an http:// or https:// URL", where, conf.url));
    if (conf.url && strpbrk(conf.url, " \t\r\n"))
        rc = worse(rc, sl_diag_error_at(diags, sl_node_get(pair->value, "url"), "%s.url: a URL cannot hold spaces",
                                        where));
    char headers_where[450];
    snprintf(headers_where, sizeof headers_where, "%s.headers", where);
    rc = worse(rc, load_pairs(diags, conf.headers, headers_where, webhook->headers, SL_ALERT_MAX_HEADERS,
                              &webhook->n_headers, is_header_name, "header"));
    webhook->name = pair->key;
    webhook->url = scalar_of(pair->value, "url");
    webhook->timeout_ms = conf.timeout_ms;
    webhook->retries = conf.retries;
    webhook->retry_delay_ms = conf.retry_delay_ms;
    webhook->max_retry_delay_ms = conf.max_retry_delay_ms;
    webhook->send_resolved = conf.send_resolved;
    sl_options_free(sl_alert_webhook_options, &conf);
    return rc;
}

/* The one condition key of a rule; an error naming them when it has none
 * or several. */
static int find_kind(sl_diagnostics *diags, const sl_node *node, const char *where, sl_alert_kind *kind)
{
    int n = 0;
    char found[200] = "";
    for (int k = 0; sl_alert_kind_names[k]; k++) {
        if (!sl_node_get(node, sl_alert_kind_names[k])) continue;
        if (n++ == 0) *kind = (sl_alert_kind)k;
        size_t used = strlen(found);
        snprintf(found + used, sizeof found - used, "%s%s", used ? ", " : "", sl_alert_kind_names[k]);
    }
    if (n == 1) return SL_OK;
    if (n == 0)
        return sl_diag_error_at(diags, node, "%s: give one condition: metric, rate, lag, pipeline_down, restarting, "
                                "dag_failed or dag_late (it has none)", where);
    return sl_diag_error_at(diags, node, "%s: give exactly one condition of metric, rate, lag, pipeline_down, "
                            "restarting, dag_failed or dag_late (it has %d: %s)", where, n, found);
}

static int check_pipeline(sl_diagnostics *diags, const sl_plan *plan, const sl_node *node, const char *where,
                          const char *name)
{
    if (sl_plan_pipeline(plan, name)) return SL_OK;
    return sl_diag_error_at(diags, node, "%s: no pipeline named '%s' in this file", where, name);
}

static int load_lag(sl_diagnostics *diags, const sl_plan *plan, const sl_node *lag, const char *where,
                    sl_alert_rule *rule)
{
    char lag_where[450];
    snprintf(lag_where, sizeof lag_where, "%s.lag", where);
    sl_alert_lag_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_alert_lag_options, lag, &conf, lag_where, diags);
    if (rc == SL_OK && (conf.pipeline != NULL) == (conf.group != NULL))
        rc = sl_diag_error_at(diags, lag, "%s: give pipeline or group (not both)", lag_where);
    else if (rc == SL_OK && conf.topic && !conf.group)
        rc = sl_diag_error_at(diags, sl_node_get(lag, "topic"), "%s.topic: only a group's lag takes a topic",
                              lag_where);
    if (rc == SL_OK && conf.pipeline) {
        rc = check_pipeline(diags, plan, sl_node_get(lag, "pipeline"), lag_where, conf.pipeline);
        rule->metric = "sluice_pipeline_lag_records";
        rule->target = scalar_of(lag, "pipeline");
        rule->matchers[rule->n_matchers++] = (sl_alert_pair){ "pipeline", rule->target };
    } else if (rc == SL_OK) {
        rule->metric = "sluice_consumer_group_lag_records";
        rule->target = scalar_of(lag, "group");
        rule->matchers[rule->n_matchers++] = (sl_alert_pair){ "group", rule->target };
        if (conf.topic) rule->matchers[rule->n_matchers++] = (sl_alert_pair){ "topic", scalar_of(lag, "topic") };
    }
    sl_options_free(sl_alert_lag_options, &conf);
    return rc;
}

/* What the condition of a rule reads: its metric, target and matchers. */
static int load_condition(sl_diagnostics *diags, const sl_plan *plan, const sl_node *dags, const sl_node *node,
                          const sl_alert_rule_conf *conf, const char *where, sl_alert_rule *rule)
{
    const char *key = sl_alert_kind_names[rule->kind];
    const sl_node *value = sl_node_get(node, key);
    char key_where[450];
    snprintf(key_where, sizeof key_where, "%s.%s", where, key);
    int rc = SL_OK;
    switch (rule->kind) {
    case SL_ALERT_METRIC:
    case SL_ALERT_RATE:
        rule->metric = scalar_of(node, key);
        if (!rule->metric) break;   /* reported by the table */
        if (!is_prometheus_name(rule->metric, true))
            rc = sl_diag_error_at(diags, value, "%s: '%s' is not a Prometheus metric name", key_where, rule->metric);
        if (conf->labels) {
            char labels_where[460];
            snprintf(labels_where, sizeof labels_where, "%s.labels", where);
            size_t max = SL_ALERT_MAX_MATCHERS - (conf->pipeline ? 1 : 0);
            rc = worse(rc, load_pairs(diags, conf->labels, labels_where, rule->matchers, max, &rule->n_matchers,
                                      is_label_name, "label"));
            if (conf->pipeline && sl_node_get(conf->labels, "pipeline"))
                rc = worse(rc, sl_diag_error_at(diags, conf->labels, "%s: give the pipeline label as pipeline: "
                                                "or in labels:, not both", labels_where));
        }
        if (conf->pipeline) {
            rc = worse(rc, check_pipeline(diags, plan, sl_node_get(node, "pipeline"), where, conf->pipeline));
            rule->matchers[rule->n_matchers++] = (sl_alert_pair){ "pipeline", scalar_of(node, "pipeline") };
        }
        break;
    case SL_ALERT_LAG:
        if (conf->lag) rc = load_lag(diags, plan, conf->lag, where, rule);
        break;
    case SL_ALERT_PIPELINE_DOWN:
    case SL_ALERT_RESTARTING:
        rule->target = scalar_of(node, key);
        if (!rule->target) break;
        rc = check_pipeline(diags, plan, value, key_where, rule->target);
        rule->metric = rule->kind == SL_ALERT_PIPELINE_DOWN ? "sluice_pipeline_up" : "sluice_pipeline_restarts_total";
        rule->matchers[rule->n_matchers++] = (sl_alert_pair){ "pipeline", rule->target };
        break;
    case SL_ALERT_DAG_FAILED:
    case SL_ALERT_DAG_LATE:
        rule->target = scalar_of(node, key);
        if (rule->target && !is_dag(dags, rule->target))
            rc = sl_diag_error_at(diags, value, "%s: no DAG named '%s' in this file", key_where, rule->target);
        break;
    }
    return rc;
}

static int load_rule(sl_diagnostics *diags, const sl_plan *plan, const sl_node *dags, const sl_alerts_conf *alerts,
                     const sl_node *node, size_t index, sl_alert_rule *rule)
{
    char where[400];
    snprintf(where, sizeof where, "alerts.rules[%zu]", index);
    if (node->kind != SL_NODE_MAP)
        return sl_diag_error_at(diags, node, "%s: expected a mapping with a name and a condition, found a %s", where,
                                sl_node_kind_name(node->kind));
    sl_alert_rule_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_alert_rule_options, node, &conf, where, diags);
    if (rc == SL_ENOMEM) goto done;
    if (conf.name) {
        if (!conf.name[0]) rc = worse(rc, sl_diag_error_at(diags, sl_node_get(node, "name"), "%s.name: empty", where));
        snprintf(where, sizeof where, "alerts.rules[%zu] (%.200s)", index, conf.name);
    }
    int kind_rc = find_kind(diags, node, where, &rule->kind);
    rc = worse(rc, kind_rc);
    if (kind_rc) goto done;
    for (const kind_setting *setting = kind_settings; setting->key; setting++) {
        const sl_node_pair *pair = sl_node_get_pair(node, setting->key);
        if (pair && !(setting->kinds & KIND(rule->kind)))
            rc = worse(rc, sl_diag_error_at_position(diags, node->file, pair->key_line, pair->key_column,
                                                     "%s: %s belongs to %s, not to a %s rule", where, setting->key,
                                                     setting->which, sl_alert_kind_names[rule->kind]));
    }
    bool has_above = sl_node_get(node, "above") != NULL, has_below = sl_node_get(node, "below") != NULL;
    if (rule->kind == SL_ALERT_METRIC || rule->kind == SL_ALERT_RATE || rule->kind == SL_ALERT_LAG) {
        if (has_above && has_below)
            rc = worse(rc, sl_diag_error_at(diags, node, "%s: give above or below, not both", where));
        else if (!has_above && !has_below)
            rc = worse(rc, sl_diag_error_at(diags, node, "%s: a %s rule needs a threshold: above%s", where,
                                            sl_alert_kind_names[rule->kind],
                                            rule->kind == SL_ALERT_LAG ? "" : " or below"));
    }
    rc = worse(rc, load_condition(diags, plan, dags, node, &conf, where, rule));
    rule->webhook = -1;
    if (conf.webhook) {
        for (size_t w = 0; w < alerts->n_webhooks; w++)
            if (strcmp(alerts->webhooks[w].name, conf.webhook) == 0) rule->webhook = (int)w;
        if (rule->webhook < 0)
            rc = worse(rc, sl_diag_error_at(diags, sl_node_get(node, "webhook"),
                                            "%s.webhook: no webhook named '%s' under alerts.webhooks", where,
                                            conf.webhook));
    }
    rule->name = scalar_of(node, "name");
    rule->has_above = has_above;
    rule->threshold = has_above ? conf.above : conf.below;
    if (rule->kind == SL_ALERT_RESTARTING) rule->window_ms = conf.within_ms;
    else rule->window_ms = conf.window_ms;
    rule->restarts = conf.restarts;
    rule->after_ms = conf.after_ms;
    rule->for_ms = conf.for_ms;
    rule->severity = scalar_of(node, "severity");
    if (!rule->severity) rule->severity = "warning";
    rule->summary = scalar_of(node, "summary");
    rule->description = scalar_of(node, "description");
    rule->fingerprint = sl_node_fingerprint(node, SL_FINGERPRINT_SEED);
done:
    sl_options_free(sl_alert_rule_options, &conf);
    return rc;
}

void sl_alerts_conf_free(sl_alerts_conf *conf)
{
    if (!conf) return;
    free(conf->webhooks);
    free(conf->rules);
    free(conf);
}

int sl__plan_check_alerts(const sl_plan *plan, const sl_node *alerts, const sl_node *dags, sl_alerts_conf **out,
                          sl_diagnostics *diags)
{
    *out = NULL;
    sl_alerts_top_conf top = { 0 };
    int rc = sl_options_apply_all(sl_alerts_options, alerts, &top, "alerts", diags);
    if (rc == SL_ENOMEM) return rc;
    sl_alerts_conf *conf = calloc(1, sizeof *conf);
    if (!conf) goto out_of_memory;
    conf->interval_ms = top.interval_ms;
    if (top.webhooks && top.webhooks->n_pairs) {
        conf->webhooks = calloc(top.webhooks->n_pairs, sizeof *conf->webhooks);
        if (!conf->webhooks) goto out_of_memory;
        for (size_t i = 0; i < top.webhooks->n_pairs; i++)
            rc = worse(rc, load_webhook(diags, &top.webhooks->pairs[i], &conf->webhooks[conf->n_webhooks++]));
    }
    if (top.rules && top.rules->n_items) {
        conf->rules = calloc(top.rules->n_items, sizeof *conf->rules);
        if (!conf->rules) goto out_of_memory;
        for (size_t i = 0; i < top.rules->n_items && rc != SL_ENOMEM; i++) {
            sl_alert_rule *rule = &conf->rules[conf->n_rules++];
            int rule_rc = load_rule(diags, plan, dags, conf, top.rules->items[i], i, rule);
            rc = worse(rc, rule_rc);
            bool has_window = rule->kind == SL_ALERT_RATE || rule->kind == SL_ALERT_RESTARTING;
            if (rule_rc == SL_OK && has_window && rule->window_ms / conf->interval_ms > SL_ALERT_MAX_POINTS)
                rc = worse(rc, sl_diag_error_at(diags, top.rules->items[i],
                                                "alerts.rules[%zu] (%s): a %s of %lld ms spans %lld evaluations at "
                                                "alerts.interval %lld ms; at most %d fit: lengthen the interval or "
                                                "shorten the window", i, rule->name,
                                                rule->kind == SL_ALERT_RATE ? "window" : "within",
                                                (long long)rule->window_ms,
                                                (long long)(rule->window_ms / conf->interval_ms),
                                                (long long)conf->interval_ms, SL_ALERT_MAX_POINTS));
            for (size_t j = 0; j + 1 < conf->n_rules && rule->name; j++)
                if (conf->rules[j].name && strcmp(conf->rules[j].name, rule->name) == 0) {
                    rc = worse(rc, sl_diag_error_at(diags, sl_node_get(top.rules->items[i], "name"),
                                                    "alerts.rules[%zu]: a second rule named '%s' (the first is "
                                                    "alerts.rules[%zu])", i, rule->name, j));
                    break;
                }
        }
    }
    sl_options_free(sl_alerts_options, &top);
    if (rc) {
        sl_alerts_conf_free(conf);
        return rc;
    }
    *out = conf;
    return SL_OK;
out_of_memory:
    sl_options_free(sl_alerts_options, &top);
    sl_alerts_conf_free(conf);
    sl_diag_error_at(diags, alerts, "out of memory");
    return SL_ENOMEM;
}
