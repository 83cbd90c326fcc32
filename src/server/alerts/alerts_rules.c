/* alerts_rules.c — one round of alert rules over a metric set (see
 * alerts_rules.h): a value per rule from its samples (a sum, a rate, an
 * increase) or from the caller's DAG fact, then Prometheus's state machine
 * inactive → pending → firing → resolved.
 *
 * The samples a rate needs are kept per rule and per series (the key is
 * the sample's labels written out), pruned to the window every round;
 * series that no longer appear in the set are dropped, as Prometheus's
 * stale series are.
 */
#include "server/alerts/alerts_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

const char *const sl_alert_state_names[] = { "inactive", "pending", "firing", NULL };

typedef struct series {
    char *key;
    int64_t *times_ms;
    double *values;
    size_t n_points, capacity;
    bool is_seen;             /* matched in the current round */
} series;

typedef struct rule_state {
    const sl_alert_rule *rule;
    sl_alert_status status;
    series *series;
    size_t n_series, capacity;
} rule_state;

struct sl_alert_engine {
    rule_state *rules;
    size_t n_rules;
};

sl_alert_engine *sl_alert_engine_new(void)
{
    return calloc(1, sizeof(sl_alert_engine));
}

static void series_clear(series *s)
{
    free(s->key);
    free(s->times_ms);
    free(s->values);
}

static void rule_state_clear(rule_state *state)
{
    for (size_t i = 0; i < state->n_series; i++) series_clear(&state->series[i]);
    free(state->series);
}

void sl_alert_engine_free(sl_alert_engine *engine)
{
    if (!engine) return;
    for (size_t i = 0; i < engine->n_rules; i++) rule_state_clear(&engine->rules[i]);
    free(engine->rules);
    free(engine);
}

int sl_alert_engine_apply(sl_alert_engine *engine, const sl_alerts_conf *conf)
{
    size_t n = conf ? conf->n_rules : 0;
    rule_state *fresh = n ? calloc(n, sizeof *fresh) : NULL;
    if (n && !fresh) return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl_alert_rule *rule = &conf->rules[i];
        fresh[i].rule = rule;
        for (size_t j = 0; j < engine->n_rules; j++) {
            rule_state *old = &engine->rules[j];
            if (!old->rule || strcmp(old->rule->name, rule->name) != 0 || old->rule->fingerprint != rule->fingerprint)
                continue;
            fresh[i].status = old->status;
            fresh[i].series = old->series;
            fresh[i].n_series = old->n_series;
            fresh[i].capacity = old->capacity;
            old->series = NULL;
            old->n_series = old->capacity = 0;
            old->rule = NULL;   /* taken */
            break;
        }
    }
    for (size_t j = 0; j < engine->n_rules; j++) rule_state_clear(&engine->rules[j]);
    free(engine->rules);
    engine->rules = fresh;
    engine->n_rules = n;
    return SL_OK;
}

const sl_alert_status *sl_alert_engine_status(const sl_alert_engine *engine, size_t rule)
{
    return rule < engine->n_rules ? &engine->rules[rule].status : NULL;
}

/* ---- reading samples ---- */

static bool sample_matches(const sl_metric_sample *sample, const sl_alert_rule *rule)
{
    if (strcmp(sample->name, rule->metric) != 0) return false;
    for (size_t m = 0; m < rule->n_matchers; m++) {
        const char *value = sl_metric_sample_label(sample, rule->matchers[m].name);
        if (!value || strcmp(value, rule->matchers[m].value) != 0) return false;
    }
    return true;
}

/* The sum of the matching samples; false when none matches. */
static bool sum_samples(const sl_metric_set *set, const sl_alert_rule *rule, double *sum)
{
    bool has_data = false;
    *sum = 0;
    size_t n = set ? sl_metric_set_count(set) : 0;
    for (size_t i = 0; i < n; i++) {
        const sl_metric_sample *sample = sl_metric_set_at(set, i);
        if (!sample_matches(sample, rule)) continue;
        *sum += sample->value;
        has_data = true;
    }
    return has_data;
}

/* The series' key: its labels as name=value, separated by bytes no label
 * holds unescaped in the text format (0x1f). */
static int series_key(const sl_metric_sample *sample, sl_buffer *key)
{
    sl_buffer_clear(key);
    int rc = SL_OK;
    for (size_t l = 0; l < sample->n_labels && rc == SL_OK; l++)
        rc = sl_buffer_printf(key, "%s=%s\x1f", sample->labels[l].name, sample->labels[l].value);
    return rc == SL_OK ? sl_buffer_append_byte(key, '\0') : rc;
}

static series *find_series(rule_state *state, const char *key, bool *is_full)
{
    *is_full = false;
    for (size_t i = 0; i < state->n_series; i++)
        if (strcmp(state->series[i].key, key) == 0) return &state->series[i];
    if (state->n_series == SL_ALERT_MAX_SERIES) {
        *is_full = true;
        return NULL;
    }
    if (state->n_series == state->capacity) {
        size_t capacity = state->capacity ? state->capacity * 2 : 4;
        series *grown = realloc(state->series, capacity * sizeof *grown);
        if (!grown) return NULL;
        state->series = grown;
        state->capacity = capacity;
    }
    series *s = &state->series[state->n_series];
    memset(s, 0, sizeof *s);
    s->key = strdup(key);
    if (!s->key) return NULL;
    state->n_series++;
    return s;
}

/* Drops the points before since_ms, then appends (now_ms, value); the
 * oldest point goes when the series holds SL_ALERT_MAX_POINTS. */
static int series_add(series *s, int64_t since_ms, int64_t now_ms, double value)
{
    size_t drop = 0;
    while (drop < s->n_points && s->times_ms[drop] < since_ms) drop++;
    if (s->n_points - drop == SL_ALERT_MAX_POINTS) drop++;
    if (drop) {
        memmove(s->times_ms, s->times_ms + drop, (s->n_points - drop) * sizeof *s->times_ms);
        memmove(s->values, s->values + drop, (s->n_points - drop) * sizeof *s->values);
        s->n_points -= drop;
    }
    if (s->n_points == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 8;
        if (capacity > SL_ALERT_MAX_POINTS) capacity = SL_ALERT_MAX_POINTS;
        int64_t *times = realloc(s->times_ms, capacity * sizeof *times);
        if (!times) return SL_ENOMEM;
        s->times_ms = times;
        double *values = realloc(s->values, capacity * sizeof *values);
        if (!values) return SL_ENOMEM;
        s->values = values;
        s->capacity = capacity;
    }
    s->times_ms[s->n_points] = now_ms;
    s->values[s->n_points] = value;
    s->n_points++;
    return SL_OK;
}

/* The increase over the points kept, a drop read as a reset. */
static double series_increase(const series *s)
{
    double increase = 0;
    for (size_t i = 1; i < s->n_points; i++) {
        double delta = s->values[i] - s->values[i - 1];
        increase += delta >= 0 ? delta : s->values[i];
    }
    return increase;
}

/* Follows the matching series over the window; *value is the summed rate
 * (per second) or, for is_increase, the summed increase. False when no
 * series has two points yet. */
static int follow_series(rule_state *state, const sl_metric_set *set, int64_t now_ms, bool is_increase, double *value,
                         bool *has_data)
{
    const sl_alert_rule *rule = state->rule;
    int64_t since_ms = now_ms - rule->window_ms;
    sl_buffer key = { 0 };
    int rc = SL_OK;
    for (size_t i = 0; i < state->n_series; i++) state->series[i].is_seen = false;
    size_t n = set ? sl_metric_set_count(set) : 0;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        const sl_metric_sample *sample = sl_metric_set_at(set, i);
        if (!sample_matches(sample, rule)) continue;
        rc = series_key(sample, &key);
        if (rc) break;
        bool is_full;
        series *s = find_series(state, key.data, &is_full);
        if (is_full) continue;   /* bounded: series past the limit are not followed */
        if (!s) {
            rc = SL_ENOMEM;
            break;
        }
        s->is_seen = true;
        rc = series_add(s, since_ms, now_ms, sample->value);
    }
    sl_buffer_free(&key);
    /* Series gone from the set are stale: dropped. */
    size_t kept = 0;
    for (size_t i = 0; i < state->n_series; i++) {
        if (state->series[i].is_seen) state->series[kept++] = state->series[i];
        else series_clear(&state->series[i]);
    }
    state->n_series = kept;
    *value = 0;
    *has_data = false;
    for (size_t i = 0; i < state->n_series && rc == SL_OK; i++) {
        const series *s = &state->series[i];
        if (s->n_points < 2) continue;
        double span_s = (double)(s->times_ms[s->n_points - 1] - s->times_ms[0]) / 1000.0;
        if (span_s <= 0) continue;
        double increase = series_increase(s);
        *value += is_increase ? increase : increase / span_s;
        *has_data = true;
    }
    return rc;
}

/* ---- the state machine ---- */

static void step(rule_state *state, bool holds, int64_t now_ms, size_t index, sl_alert_event *events, size_t *n_events)
{
    sl_alert_status *status = &state->status;
    if (holds) {
        if (status->state == SL_ALERT_INACTIVE) {
            status->state = SL_ALERT_PENDING;
            status->active_since_ms = now_ms;
        }
        if (status->state == SL_ALERT_PENDING && now_ms - status->active_since_ms >= state->rule->for_ms) {
            status->state = SL_ALERT_FIRING;
            status->fired_at_ms = now_ms;
            events[(*n_events)++] = (sl_alert_event){ index, true };
        }
        return;
    }
    if (status->state == SL_ALERT_FIRING) {
        status->resolved_at_ms = now_ms;
        events[(*n_events)++] = (sl_alert_event){ index, false };
    }
    status->state = SL_ALERT_INACTIVE;
    status->active_since_ms = 0;
}

int sl_alert_engine_eval(sl_alert_engine *engine, const sl_metric_set *set, const sl_alert_fact *facts,
                         int64_t now_ms, sl_alert_event *events, size_t *n_events)
{
    *n_events = 0;
    int rc = SL_OK;
    for (size_t i = 0; i < engine->n_rules; i++) {
        rule_state *state = &engine->rules[i];
        const sl_alert_rule *rule = state->rule;
        double value = 0;
        bool has_data = false, holds = false;
        switch (rule->kind) {
        case SL_ALERT_METRIC:
        case SL_ALERT_LAG:
            has_data = sum_samples(set, rule, &value);
            holds = has_data && (rule->has_above ? value > rule->threshold : value < rule->threshold);
            break;
        case SL_ALERT_RATE: {
            int follow_rc = follow_series(state, set, now_ms, false, &value, &has_data);
            if (follow_rc) {
                rc = follow_rc;
                continue;   /* the state stays as it was */
            }
            holds = has_data && (rule->has_above ? value > rule->threshold : value < rule->threshold);
            break;
        }
        case SL_ALERT_RESTARTING: {
            int follow_rc = follow_series(state, set, now_ms, true, &value, &has_data);
            if (follow_rc) {
                rc = follow_rc;
                continue;
            }
            holds = has_data && value >= (double)rule->restarts;
            break;
        }
        case SL_ALERT_PIPELINE_DOWN:
            has_data = sum_samples(set, rule, &value);
            holds = has_data && value < 0.5;
            break;
        case SL_ALERT_DAG_FAILED:
        case SL_ALERT_DAG_LATE:
            if (!facts || !facts[i].is_known) continue;
            has_data = true;
            holds = facts[i].is_true;
            value = holds ? 1 : 0;
            if (holds) snprintf(state->status.run_id, sizeof state->status.run_id, "%s", facts[i].run_id);
            break;
        }
        state->status.has_value = has_data;
        state->status.value = has_data ? value : 0;
        step(state, holds, now_ms, i, events, n_events);
    }
    return rc;
}

/* ---- labels, fingerprints, summaries ---- */

static int compare_pairs(const void *a, const void *b)
{
    return strcmp(((const sl_alert_pair *)a)->name, ((const sl_alert_pair *)b)->name);
}

size_t sl_alert_labels(const sl_alert_rule *rule, sl_alert_pair *pairs)
{
    size_t n = 0;
    pairs[n++] = (sl_alert_pair){ "alertname", rule->name };
    pairs[n++] = (sl_alert_pair){ "severity", rule->severity };
    if (rule->kind == SL_ALERT_DAG_FAILED || rule->kind == SL_ALERT_DAG_LATE)
        pairs[n++] = (sl_alert_pair){ "dag", rule->target };
    for (size_t m = 0; m < rule->n_matchers; m++) {
        bool is_taken = false;
        for (size_t j = 0; j < n; j++) is_taken |= strcmp(pairs[j].name, rule->matchers[m].name) == 0;
        if (!is_taken) pairs[n++] = rule->matchers[m];
    }
    qsort(pairs, n, sizeof *pairs, compare_pairs);
    return n;
}

void sl_alert_fingerprint(const sl_alert_pair *pairs, size_t n, char out[17])
{
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        for (const char *text = pairs[i].name;; text = pairs[i].value) {
            for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
                hash ^= *c;
                hash *= UINT64_C(0x100000001b3);
            }
            hash ^= 0xff;
            hash *= UINT64_C(0x100000001b3);
            if (text == pairs[i].value) break;
        }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)hash);
}

void sl_alert_summary(const sl_alert_rule *rule, const sl_alert_status *status, char *out, size_t size)
{
    if (rule->summary) {
        snprintf(out, size, "%s", rule->summary);
        return;
    }
    const char *relation = rule->has_above ? "above" : "below";
    switch (rule->kind) {
    case SL_ALERT_METRIC:
        snprintf(out, size, "%s is %g, %s %g", rule->metric, status->value, relation, rule->threshold);
        break;
    case SL_ALERT_RATE:
        snprintf(out, size, "rate of %s over %llds is %g/s, %s %g", rule->metric, (long long)(rule->window_ms / 1000),
                 status->value, relation, rule->threshold);
        break;
    case SL_ALERT_LAG:
        snprintf(out, size, "%s %s lags %g records, above %g", strcmp(rule->metric, "sluice_pipeline_lag_records") == 0
                 ? "pipeline" : "group", rule->target, status->value, rule->threshold);
        break;
    case SL_ALERT_PIPELINE_DOWN:
        snprintf(out, size, "pipeline %s is not running", rule->target);
        break;
    case SL_ALERT_RESTARTING:
        snprintf(out, size, "pipeline %s restarted %g times within %llds (%lld or more is flapping)", rule->target,
                 status->value, (long long)(rule->window_ms / 1000), (long long)rule->restarts);
        break;
    case SL_ALERT_DAG_FAILED:
        snprintf(out, size, "DAG %s: run %s failed", rule->target, status->run_id[0] ? status->run_id : "?");
        break;
    case SL_ALERT_DAG_LATE:
        snprintf(out, size, "DAG %s: run %s has not succeeded %llds after its data interval ended", rule->target,
                 status->run_id[0] ? status->run_id : "?", (long long)(rule->after_ms / 1000));
        break;
    }
}
