/* alerts_test.c — alert rules evaluated round by round with a fake clock
 * over metric sets built here: pending until `for` has elapsed, then
 * firing, resolved when the condition stops; rates over a window with
 * counter resets and stale series; restarts within a window; DAG facts; a
 * reload keeping the state of unchanged rules only; labels and
 * fingerprints as Alertmanager computes them. Rules come from a real
 * config file through sl_plan_load. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "runtime/plan.h"
#include "runtime/plan_alerts.h"
#include "server/alerts/alerts_rules.h"
#include "server/metrics/metric_set.h"
#include "test_util.h"

static char dir[256];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "alerts");
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(alerts, .init = setup, .fini = teardown);

/* A plan of a file with two pipelines, a DAG and rules (YAML list items). */
static sl_plan *plan_with_rules(const char *rules)
{
    char path[512], text[8192];
    snprintf(path, sizeof path, "%s/alerts.yaml", dir);
    snprintf(text, sizeof text,
             "data_dir: %s/data\n"
             "pipelines:\n"
             "  p:\n"
             "    source: { generator: { kind: sequence, count: 10 } }\n"
             "    sink: { file: { path: %s/p.jsonl } }\n"
             "  q:\n"
             "    source: { generator: { kind: sequence, count: 10 } }\n"
             "    sink: { file: { path: %s/q.jsonl } }\n"
             "dags:\n"
             "  users:\n"
             "    tasks: { t: { command: [ \"true\" ] } }\n"
             "alerts:\n"
             "  webhooks: { ops: { url: http://127.0.0.1:9/hook } }\n"
             "  rules:\n%s",
             dir, dir, dir, rules);
    test_write_text(path, text);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    cr_assert_not_null(plan->alerts);
    return plan;
}

/* A set with one family holding samples name{pipeline=P} = value. */
static sl_metric_set *set_of(const char *family, sl_metric_type type, const char *const *pipelines,
                             const double *values, size_t n)
{
    sl_metric_set *set = sl_metric_set_new();
    cr_assert_not_null(set);
    cr_assert_eq(sl_metric_set_family(set, family, type, "test"), SL_OK);
    for (size_t i = 0; i < n; i++) {
        sl_metric_label label = { "pipeline", pipelines[i] };
        cr_assert_eq(sl_metric_set_add(set, family, &label, 1, values[i]), SL_OK);
    }
    return set;
}

static sl_metric_set *one(const char *family, sl_metric_type type, const char *pipeline, double value)
{
    const char *pipelines[] = { pipeline };
    double values[] = { value };
    return set_of(family, type, pipelines, values, 1);
}

typedef struct round_result {
    size_t n_events;
    sl_alert_event events[16];
} round_result;

/* One round at t seconds over set (freed here). */
static round_result round_at(sl_alert_engine *engine, sl_metric_set *set, const sl_alert_fact *facts, double t_s)
{
    round_result result = { 0 };
    cr_assert_eq(sl_alert_engine_eval(engine, set, facts, (int64_t)(t_s * 1000), result.events, &result.n_events),
                 SL_OK);
    sl_metric_set_free(set);
    return result;
}

static sl_alert_state state_of(sl_alert_engine *engine, size_t rule)
{
    return sl_alert_engine_status(engine, rule)->state;
}

static sl_alert_engine *engine_for(sl_plan *plan)
{
    sl_alert_engine *engine = sl_alert_engine_new();
    cr_assert_not_null(engine);
    cr_assert_eq(sl_alert_engine_apply(engine, plan->alerts), SL_OK);
    return engine;
}

Test(alerts, metric_rule_is_pending_until_for_elapses_then_fires_and_resolves)
{
    sl_plan *plan = plan_with_rules("    - { name: deep, metric: sluice_pipeline_queue_depth_batches, pipeline: p, "
                                    "above: 10, for: 30s }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *g = "sluice_pipeline_queue_depth_batches";

    round_result r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 5), NULL, 0);
    cr_assert_eq(r.n_events, 0);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);

    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 20), NULL, 10);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_PENDING);
    cr_assert_eq(sl_alert_engine_status(engine, 0)->active_since_ms, 10000);
    cr_assert_eq(r.n_events, 0);

    /* Another pipeline's samples do not count. */
    r = round_at(engine, one(g, SL_METRIC_GAUGE, "q", 1), NULL, 20);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE, "no data for p: the condition does not hold");

    round_at(engine, one(g, SL_METRIC_GAUGE, "p", 20), NULL, 30);
    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 21), NULL, 59);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_PENDING, "29 s of 30");
    cr_assert_eq(r.n_events, 0);
    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 22), NULL, 60);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING);
    cr_assert_eq(r.n_events, 1);
    cr_assert(r.events[0].is_firing);
    cr_assert_eq(sl_alert_engine_status(engine, 0)->fired_at_ms, 60000);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 22, 1e-9);

    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 23), NULL, 70);
    cr_assert_eq(r.n_events, 0, "firing stays firing without a second event");

    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 3), NULL, 80);
    cr_assert_eq(r.n_events, 1);
    cr_assert_not(r.events[0].is_firing, "resolved");
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    cr_assert_eq(sl_alert_engine_status(engine, 0)->resolved_at_ms, 80000);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, for_zero_fires_in_the_first_round_and_below_compares_down)
{
    sl_plan *plan = plan_with_rules("    - { name: slow, metric: sluice_pipeline_records_out_total, below: 1 }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *c = "sluice_pipeline_records_out_total";
    const char *pipelines[] = { "p", "q" };
    double values[] = { 0, 0.5 };
    round_result r = round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 0);
    cr_assert_eq(r.n_events, 1, "0 + 0.5 is below 1");
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING);
    values[1] = 1;
    r = round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 1);
    cr_assert_eq(r.n_events, 1, "the sum is 1, not below 1");
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, rate_is_taken_over_the_window_and_needs_two_samples)
{
    sl_plan *plan = plan_with_rules("    - { name: dlq, rate: sluice_pipeline_dead_letters_total, pipeline: p, "
                                    "above: 0.5, window: 30s }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *c = "sluice_pipeline_dead_letters_total";

    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 100), NULL, 0);
    cr_assert_not(sl_alert_engine_status(engine, 0)->has_value, "one sample has no rate");
    /* 10 more in 10 s: 1/s. */
    round_result r = round_at(engine, one(c, SL_METRIC_COUNTER, "p", 110), NULL, 10);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 1.0, 1e-9);
    cr_assert_eq(r.n_events, 1);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING);
    /* Flat from here: 10 over the 20 s of [0, 20] is 0.5/s, not above 0.5. */
    r = round_at(engine, one(c, SL_METRIC_COUNTER, "p", 110), NULL, 20);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 0.5, 1e-9, "10 over 20 s");
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    cr_assert_eq(r.n_events, 1);
    cr_assert_not(r.events[0].is_firing, "resolved");
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, rate_counts_a_counter_reset_as_prometheus_does)
{
    sl_plan *plan = plan_with_rules("    - { name: dlq, rate: sluice_pipeline_dead_letters_total, above: 100, "
                                    "window: 1m }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *c = "sluice_pipeline_dead_letters_total";
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 100), NULL, 0);
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 110), NULL, 10);
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 5), NULL, 20);   /* restarted: 5 new */
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 15), NULL, 30);
    /* 10 + 5 + 10 over 30 s. */
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 25.0 / 30.0, 1e-9);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, rate_forgets_samples_older_than_the_window_and_stale_series)
{
    sl_plan *plan = plan_with_rules("    - { name: dlq, rate: sluice_pipeline_dead_letters_total, above: 0.5, "
                                    "window: 20s, for: 0s }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *c = "sluice_pipeline_dead_letters_total";
    const char *pipelines[] = { "p", "q" };
    double values[] = { 0, 0 };
    round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 0);
    values[0] = 30;   /* p: 30 in 10 s = 3/s; q flat */
    round_result r = round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 10);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 3.0, 1e-9, "summed over both series");
    cr_assert_eq(r.n_events, 1);
    round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 20);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 1.5, 1e-9, "30 over [0, 20]");
    /* At 31 s the window [11, 31] holds the samples of 20 and 31 only: flat. */
    r = round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, values, 2), NULL, 31);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 0.0, 1e-9);
    cr_assert_eq(r.n_events, 1);
    cr_assert_not(r.events[0].is_firing);

    /* q goes away and comes back at 1000: a new series, no jump counted. */
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 30), NULL, 40);
    round_at(engine, set_of(c, SL_METRIC_COUNTER, pipelines, (double[]){ 30, 1000 }, 2), NULL, 50);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 0.0, 1e-9, "q's 1000 is one sample of a new series");
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, pipeline_down_fires_when_up_is_zero_and_resolves_when_it_runs)
{
    sl_plan *plan = plan_with_rules("    - { name: down, pipeline_down: p, for: 20s }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *g = "sluice_pipeline_up";
    round_at(engine, one(g, SL_METRIC_GAUGE, "p", 1), NULL, 0);
    round_at(engine, one(g, SL_METRIC_GAUGE, "p", 0), NULL, 10);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_PENDING);
    round_result r = round_at(engine, one(g, SL_METRIC_GAUGE, "q", 0), NULL, 20);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE, "q's state is not p's");
    round_at(engine, one(g, SL_METRIC_GAUGE, "p", 0), NULL, 30);
    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 0), NULL, 50);
    cr_assert_eq(r.n_events, 1);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING);
    char summary[200];
    sl_alert_summary(&plan->alerts->rules[0], sl_alert_engine_status(engine, 0), summary, sizeof summary);
    cr_assert_str_eq(summary, "pipeline p is not running");
    r = round_at(engine, one(g, SL_METRIC_GAUGE, "p", 1), NULL, 60);
    cr_assert_eq(r.n_events, 1);
    cr_assert_not(r.events[0].is_firing);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, restarting_counts_restarts_within_the_window)
{
    sl_plan *plan = plan_with_rules("    - { name: flapping, restarting: p, restarts: 3, within: 1m }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *c = "sluice_pipeline_restarts_total";
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 0), NULL, 0);
    round_at(engine, one(c, SL_METRIC_COUNTER, "p", 2), NULL, 10);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    round_result r = round_at(engine, one(c, SL_METRIC_COUNTER, "p", 3), NULL, 20);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING);
    cr_assert_eq(r.n_events, 1);
    /* 70 s: the window [10, 70] holds 2 → 3: one restart. */
    r = round_at(engine, one(c, SL_METRIC_COUNTER, "p", 3), NULL, 70);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    cr_assert_eq(r.n_events, 1);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, lag_of_a_group_sums_its_partitions)
{
    sl_plan *plan = plan_with_rules("    - { name: lagging, lag: { group: g, topic: t }, above: 10 }\n");
    sl_alert_engine *engine = engine_for(plan);
    sl_metric_set *set = sl_metric_set_new();
    const char *f = "sluice_consumer_group_lag_records";
    cr_assert_eq(sl_metric_set_family(set, f, SL_METRIC_GAUGE, "lag"), SL_OK);
    sl_metric_label a[] = { { "group", "g" }, { "topic", "t" }, { "partition", "0" } };
    sl_metric_label b[] = { { "group", "g" }, { "topic", "t" }, { "partition", "1" } };
    sl_metric_label other[] = { { "group", "h" }, { "topic", "t" }, { "partition", "0" } };
    cr_assert_eq(sl_metric_set_add(set, f, a, 3, 6), SL_OK);
    cr_assert_eq(sl_metric_set_add(set, f, b, 3, 5), SL_OK);
    cr_assert_eq(sl_metric_set_add(set, f, other, 3, 100), SL_OK);
    round_result r = round_at(engine, set, NULL, 0);
    cr_assert_eq(r.n_events, 1);
    cr_assert_float_eq(sl_alert_engine_status(engine, 0)->value, 11, 1e-9);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, dag_rules_follow_the_facts_and_keep_their_state_when_the_store_is_unread)
{
    sl_plan *plan = plan_with_rules("    - { name: report_failed, dag_failed: users }\n");
    sl_alert_engine *engine = engine_for(plan);
    sl_alert_fact fact = { .is_known = true, .is_true = true };
    snprintf(fact.run_id, sizeof fact.run_id, "manual__1");
    round_result r = round_at(engine, NULL, &fact, 0);
    cr_assert_eq(r.n_events, 1);
    cr_assert_str_eq(sl_alert_engine_status(engine, 0)->run_id, "manual__1");
    fact.is_known = false;
    fact.is_true = false;
    r = round_at(engine, NULL, &fact, 10);
    cr_assert_eq(r.n_events, 0);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_FIRING, "an unread store changes nothing");
    fact.is_known = true;
    r = round_at(engine, NULL, &fact, 20);
    cr_assert_eq(r.n_events, 1);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE);
    sl_alert_engine_free(engine);
    sl_plan_free(plan);
}

Test(alerts, a_reload_keeps_the_state_of_unchanged_rules_only)
{
    sl_plan *plan = plan_with_rules("    - { name: down, pipeline_down: p }\n"
                                    "    - { name: down_q, pipeline_down: q }\n");
    sl_alert_engine *engine = engine_for(plan);
    const char *pipelines[] = { "p", "q" };
    double values[] = { 0, 0 };
    round_result r = round_at(engine, set_of("sluice_pipeline_up", SL_METRIC_GAUGE, pipelines, values, 2), NULL, 0);
    cr_assert_eq(r.n_events, 2);

    sl_plan *changed = plan_with_rules("    - { name: down_q, pipeline_down: q, for: 1h }\n"
                                       "    - { name: down, pipeline_down: p }\n");
    cr_assert_eq(sl_alert_engine_apply(engine, changed->alerts), SL_OK);
    sl_plan_free(plan);
    cr_assert_eq(state_of(engine, 1), SL_ALERT_FIRING, "down is unchanged (it moved: same name, same block)");
    cr_assert_eq(sl_alert_engine_status(engine, 1)->fired_at_ms, 0);
    cr_assert_eq(state_of(engine, 0), SL_ALERT_INACTIVE, "down_q changed: it starts again");
    r = round_at(engine, set_of("sluice_pipeline_up", SL_METRIC_GAUGE, pipelines, values, 2), NULL, 10);
    cr_assert_eq(r.n_events, 0, "down fired already; down_q is pending for an hour");
    cr_assert_eq(state_of(engine, 0), SL_ALERT_PENDING);
    sl_alert_engine_free(engine);
    sl_plan_free(changed);
}

Test(alerts, labels_are_sorted_and_the_fingerprint_depends_on_them)
{
    sl_plan *plan = plan_with_rules("    - { name: any, metric: sluice_consumer_group_lag_records, "
                                    "labels: { group: g, topic: t }, above: 10, severity: critical }\n"
                                    "    - { name: late, dag_late: users, after: 2h }\n");
    sl_alert_pair pairs[SL_ALERT_MAX_LABELS];
    size_t n = sl_alert_labels(&plan->alerts->rules[0], pairs);
    cr_assert_eq(n, 4);
    const char *names[] = { "alertname", "group", "severity", "topic" };
    const char *values[] = { "any", "g", "critical", "t" };
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(pairs[i].name, names[i]);
        cr_assert_str_eq(pairs[i].value, values[i]);
    }
    char first[17], second[17];
    sl_alert_fingerprint(pairs, n, first);
    cr_assert_eq(strlen(first), 16);
    n = sl_alert_labels(&plan->alerts->rules[1], pairs);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(pairs[1].name, "dag");
    sl_alert_fingerprint(pairs, n, second);
    cr_assert_str_neq(first, second);
    cr_assert_eq(plan->alerts->rules[1].after_ms, 2 * 3600 * 1000);
    sl_plan_free(plan);
}
