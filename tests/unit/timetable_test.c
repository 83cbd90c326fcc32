/* timetable_test.c — data intervals (scheduler/timetable.c) as Airflow
 * creates them (its docs' "DAG Runs" page: a run covers [start, end), runs
 * once the interval has ended, and catchup=False creates only the latest
 * complete interval), trigger rules, retry delays and a run's outcome
 * (scheduler/task_rules.c), and the previous cron fire time in a fold. */
#include <criterion/criterion.h>

#include <string.h>

#include "core/timefmt.h"
#include "scheduler/task_rules.h"
#include "scheduler/timetable.h"

static int64_t at(const char *text)
{
    int64_t us;
    cr_assert_eq(sl_time_parse_iso(text, strlen(text), &us), SL_OK, "%s", text);
    return us;
}

static sl_tz *zone(const char *name)
{
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_tz_load(name, &tz, &err), SL_OK, "%s", err.message);
    return tz;
}

static sl_timetable cron_table(const char *expression, const sl_tz *tz)
{
    sl_timetable timetable = { .kind = SL_SCHEDULE_CRON, .tz = tz, .start_us = SL_TIMETABLE_NONE,
                               .end_us = SL_TIMETABLE_NONE };
    sl_error err = { 0 };
    cr_assert_eq(sl_cron_parse(expression, &timetable.cron, &err), SL_OK, "%s", err.message);
    return timetable;
}

static void expect_next(const sl_timetable *timetable, const char *last_end, const char *now, const char *start,
                        const char *end)
{
    sl_interval next;
    int64_t last = last_end ? at(last_end) : SL_TIMETABLE_NONE;
    cr_assert_eq(sl_timetable_next(timetable, last, at(now), &next), SL_OK, "after %s at %s", last_end, now);
    cr_assert_eq(next.start_us, at(start), "start after %s at %s", last_end, now);
    cr_assert_eq(next.end_us, at(end), "end after %s at %s", last_end, now);
}

Test(timetable, catchup_creates_every_missed_interval_in_order)
{
    sl_tz *utc = zone("UTC");
    sl_timetable daily = cron_table("@daily", utc);
    daily.catchup = true;
    daily.start_us = at("2026-01-01T00:00:00Z");
    expect_next(&daily, NULL, "2026-01-04T12:00:00Z", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    expect_next(&daily, "2026-01-02T00:00:00Z", "2026-01-04T12:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z");
    expect_next(&daily, "2026-01-03T00:00:00Z", "2026-01-04T12:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
    /* The next one is not due yet: its end is after now. */
    expect_next(&daily, "2026-01-04T00:00:00Z", "2026-01-04T12:00:00Z", "2026-01-04T00:00:00Z", "2026-01-05T00:00:00Z");
    sl_tz_free(utc);
}

Test(timetable, without_catchup_only_the_latest_complete_interval)
{
    sl_tz *utc = zone("UTC");
    sl_timetable daily = cron_table("@daily", utc);
    daily.start_us = at("2025-06-01T00:00:00Z");
    expect_next(&daily, NULL, "2026-01-04T12:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
    /* Exactly on a boundary, the interval that just ended. */
    expect_next(&daily, NULL, "2026-01-04T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
    /* After downtime, the missed days are skipped. */
    expect_next(&daily, "2026-01-02T00:00:00Z", "2026-01-10T05:00:00Z", "2026-01-09T00:00:00Z", "2026-01-10T00:00:00Z");
    /* Without downtime, the following one. */
    expect_next(&daily, "2026-01-10T00:00:00Z", "2026-01-10T05:00:00Z", "2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z");
    sl_tz_free(utc);
}

Test(timetable, start_and_end_dates_bound_the_intervals)
{
    sl_tz *utc = zone("UTC");
    sl_timetable daily = cron_table("@daily", utc);
    daily.catchup = true;
    daily.start_us = at("2026-01-01T10:30:00Z");   /* aligned to the next fire */
    daily.end_us = at("2026-01-03T00:00:00Z");
    expect_next(&daily, NULL, "2026-02-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z");
    expect_next(&daily, "2026-01-03T00:00:00Z", "2026-02-01T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
    sl_interval next;
    cr_assert_eq(sl_timetable_next(&daily, at("2026-01-04T00:00:00Z"), at("2026-02-01T00:00:00Z"), &next), SL_ENOTFOUND);
    /* A start in the future: nothing before it, even without catchup. */
    daily.catchup = false;
    daily.start_us = at("2027-01-01T00:00:00Z");
    daily.end_us = SL_TIMETABLE_NONE;
    expect_next(&daily, NULL, "2026-02-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z");
    sl_tz_free(utc);
}

Test(timetable, every_is_anchored_at_the_start_date_or_the_epoch)
{
    sl_timetable every = { .kind = SL_SCHEDULE_EVERY, .every_us = 30 * INT64_C(1000000), .catchup = true,
                           .start_us = at("2026-01-01T00:00:10Z"), .end_us = SL_TIMETABLE_NONE };
    expect_next(&every, NULL, "2026-01-01T00:05:00Z", "2026-01-01T00:00:10Z", "2026-01-01T00:00:40Z");
    expect_next(&every, "2026-01-01T00:00:40Z", "2026-01-01T00:05:00Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:10Z");
    every.catchup = false;
    expect_next(&every, "2026-01-01T00:00:40Z", "2026-01-01T00:05:00Z", "2026-01-01T00:04:10Z", "2026-01-01T00:04:40Z");
    every.start_us = SL_TIMETABLE_NONE;
    every.every_us = 3600 * INT64_C(1000000);
    expect_next(&every, NULL, "2026-01-01T05:20:00Z", "2026-01-01T04:00:00Z", "2026-01-01T05:00:00Z");
}

Test(timetable, daily_intervals_in_a_zone_span_23_and_25_hours_across_dst)
{
    sl_tz *berlin = zone("Europe/Berlin");
    sl_timetable daily = cron_table("@daily", berlin);
    daily.catchup = true;
    daily.start_us = at("2026-03-28T23:00:00Z");   /* midnight in Berlin, 29 March */
    sl_interval next;
    cr_assert_eq(sl_timetable_next(&daily, SL_TIMETABLE_NONE, at("2026-04-01T00:00:00Z"), &next), SL_OK);
    cr_assert_eq(next.end_us - next.start_us, 23 * 3600 * INT64_C(1000000));
    cr_assert_eq(sl_timetable_next(&daily, at("2026-10-24T22:00:00Z"), at("2026-11-01T00:00:00Z"), &next), SL_OK);
    cr_assert_eq(next.start_us, at("2026-10-24T22:00:00Z"));
    cr_assert_eq(next.end_us - next.start_us, 25 * 3600 * INT64_C(1000000));
    sl_tz_free(berlin);
}

Test(timetable, backfill_and_manual_runs)
{
    sl_tz *utc = zone("UTC");
    sl_timetable daily = cron_table("@daily", utc);
    sl_interval out[8];
    size_t n;
    cr_assert_eq(sl_timetable_backfill(&daily, at("2026-01-01T00:00:00Z"), at("2026-01-03T00:00:00Z"), out, 8, &n), SL_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[0].start_us, at("2026-01-01T00:00:00Z"));
    cr_assert_eq(out[2].end_us, at("2026-01-04T00:00:00Z"));
    cr_assert_eq(sl_timetable_backfill(&daily, at("2026-01-01T06:00:00Z"), at("2026-01-03T00:00:00Z"), out, 8, &n), SL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(sl_timetable_backfill(&daily, at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"), out, 8, &n),
                 SL_ETOOBIG);
    sl_interval manual = sl_timetable_manual(&daily, at("2026-01-04T12:00:00Z"));
    cr_assert_eq(manual.start_us, at("2026-01-03T00:00:00Z"));
    cr_assert_eq(manual.end_us, at("2026-01-04T00:00:00Z"));
    sl_timetable none = { .kind = SL_SCHEDULE_NONE };
    manual = sl_timetable_manual(&none, at("2026-01-04T12:00:00Z"));
    cr_assert_eq(manual.start_us, manual.end_us);
    cr_assert_eq(sl_timetable_next(&none, SL_TIMETABLE_NONE, at("2026-01-04T12:00:00Z"), &manual), SL_ENOTFOUND);
    sl_tz_free(utc);
}

Test(timetable, previous_fire_time_takes_the_first_pass_of_a_repeated_hour)
{
    sl_tz *new_york = zone("America/New_York");
    sl_cron cron;
    sl_error err = { 0 };
    cr_assert_eq(sl_cron_parse("30 1 * * *", &cron, &err), SL_OK);
    int64_t previous;
    /* 2026-11-01 06:40Z is 01:40 EST, in the second pass; 01:30 first fired at 05:30Z. */
    cr_assert_eq(sl_cron_prev(&cron, new_york, at("2026-11-01T06:40:00Z") / 1000000, &previous), SL_OK);
    cr_assert_eq(previous, at("2026-11-01T05:30:00Z") / 1000000);
    cr_assert_eq(sl_cron_prev(&cron, new_york, at("2026-11-01T05:30:00Z") / 1000000, &previous), SL_OK);
    cr_assert_eq(previous, at("2026-10-31T05:30:00Z") / 1000000);
    sl_tz_free(new_york);
}

static sl_trigger_decision decide(sl_trigger_rule rule, sl_task_state a, sl_task_state b)
{
    sl_task_state upstream[2] = { a, b };
    return sl_trigger_decide(rule, upstream, 2);
}

Test(task_rules, trigger_rules_decide_as_airflow_does)
{
    const sl_task_state S = SL_TASK_SUCCESS, F = SL_TASK_FAILED, K = SL_TASK_SKIPPED, R = SL_TASK_RUNNING,
                        U = SL_TASK_UPSTREAM_FAILED;
    cr_assert_eq(decide(SL_TRIGGER_ALL_SUCCESS, S, S), SL_TRIGGER_RUN);
    cr_assert_eq(decide(SL_TRIGGER_ALL_SUCCESS, S, R), SL_TRIGGER_WAIT);
    cr_assert_eq(decide(SL_TRIGGER_ALL_SUCCESS, F, R), SL_TRIGGER_UPSTREAM_FAILED);
    cr_assert_eq(decide(SL_TRIGGER_ALL_SUCCESS, U, S), SL_TRIGGER_UPSTREAM_FAILED);
    cr_assert_eq(decide(SL_TRIGGER_ALL_SUCCESS, K, S), SL_TRIGGER_SKIP);
    cr_assert_eq(decide(SL_TRIGGER_ALL_DONE, F, K), SL_TRIGGER_RUN);
    cr_assert_eq(decide(SL_TRIGGER_ALL_DONE, F, R), SL_TRIGGER_WAIT);
    cr_assert_eq(decide(SL_TRIGGER_ONE_SUCCESS, S, R), SL_TRIGGER_RUN);
    cr_assert_eq(decide(SL_TRIGGER_ONE_SUCCESS, F, R), SL_TRIGGER_WAIT);
    cr_assert_eq(decide(SL_TRIGGER_ONE_SUCCESS, F, K), SL_TRIGGER_UPSTREAM_FAILED);
    cr_assert_eq(decide(SL_TRIGGER_ONE_SUCCESS, K, K), SL_TRIGGER_SKIP);
    cr_assert_eq(decide(SL_TRIGGER_ONE_FAILED, F, R), SL_TRIGGER_RUN);
    cr_assert_eq(decide(SL_TRIGGER_ONE_FAILED, S, R), SL_TRIGGER_WAIT);
    cr_assert_eq(decide(SL_TRIGGER_ONE_FAILED, S, K), SL_TRIGGER_SKIP);
    cr_assert_eq(decide(SL_TRIGGER_NONE_FAILED, S, K), SL_TRIGGER_RUN);
    cr_assert_eq(decide(SL_TRIGGER_NONE_FAILED, S, U), SL_TRIGGER_UPSTREAM_FAILED);
    cr_assert_eq(decide(SL_TRIGGER_NONE_FAILED, S, R), SL_TRIGGER_WAIT);
    cr_assert_eq(sl_trigger_decide(SL_TRIGGER_ALL_SUCCESS, NULL, 0), SL_TRIGGER_RUN);
    cr_assert_eq(sl_trigger_rule_parse("none_failed"), SL_TRIGGER_NONE_FAILED);
    cr_assert_eq(sl_trigger_rule_parse("all_failed"), -1);
    cr_assert_str_eq(sl_task_state_name(SL_TASK_UP_FOR_RETRY), "up_for_retry");
}

Test(task_rules, retry_delays_double_up_to_the_cap)
{
    cr_assert_eq(sl_retry_delay_ms(30000, 0, 0, 3), 30000);
    cr_assert_eq(sl_retry_delay_ms(1000, 1, 0, 1), 1000);
    cr_assert_eq(sl_retry_delay_ms(1000, 1, 0, 2), 2000);
    cr_assert_eq(sl_retry_delay_ms(1000, 1, 0, 4), 8000);
    cr_assert_eq(sl_retry_delay_ms(1000, 1, 5000, 4), 5000);
    cr_assert_eq(sl_retry_delay_ms(1000, 1, 0, 200), INT64_MAX);
}

Test(task_rules, a_run_fails_when_a_leaf_did_not_succeed)
{
    sl_task_state states[3] = { SL_TASK_FAILED, SL_TASK_SUCCESS, SL_TASK_SKIPPED };
    int leaves[3] = { 0, 1, 1 };
    /* A failed task whose dependent was set to run anyway (all_done) does not fail the run. */
    cr_assert_eq(sl_dag_run_outcome(states, leaves, 3), SL_TASK_SUCCESS);
    states[1] = SL_TASK_UPSTREAM_FAILED;
    cr_assert_eq(sl_dag_run_outcome(states, leaves, 3), SL_TASK_FAILED);
    states[2] = SL_TASK_RUNNING;
    cr_assert_eq(sl_dag_run_outcome(states, leaves, 3), SL_TASK_RUNNING);
}
