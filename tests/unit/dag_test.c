/* dag_test.c — a config file's DAGs built into what the scheduler runs:
 * schedules into timetables, dates in the DAG's zone, every task body,
 * retry policies, trigger rules, upstream indexes and leaves. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/plan.h"
#include "scheduler/dag.h"
#include "test_util.h"

static char dir[256];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "dag");
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(dag, .init = setup, .fini = teardown);

static sl_dag_set *build(const char *text, sl_plan **plan)
{
    char path[300];
    snprintf(path, sizeof path, "%s/dags.yaml", dir);
    test_write_text(path, text);
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_plan_load(path, plan, &err), SL_OK, "%s", err.message);
    sl_dag_set *set = NULL;
    cr_assert_eq(sl_dag_set_build(*plan, &set, &err), SL_OK, "%s", err.message);
    return set;
}

static const char *const FILE_TEXT =
    "pipelines:\n"
    "  ingest: { source: { generator: { kind: users, count: 10 } }, sink: { topic: { name: users } } }\n"
    "  keep: { source: { topic: { name: users, group: keep } }, sink: { stdio: {} } }\n"
    "dags:\n"
    "  etl:\n"
    "    schedule: \"30 2 * * *\"\n"
    "    timezone: Europe/Berlin\n"
    "    start_date: 2026-03-01\n"
    "    end_date: 2026-12-31T23:00\n"
    "    catchup: true\n"
    "    max_active_runs: 2\n"
    "    dagrun_timeout: 1h\n"
    "    description: the nightly load\n"
    "    tasks:\n"
    "      wait: { sensor: { topic: users, group: keep, poke_interval: 2s }, timeout: 10m }\n"
    "      load: { pipeline: ingest, depends_on: [wait], retries: 3, retry_delay: 10s,\n"
    "              retry_exponential_backoff: true, max_retry_delay: 1m }\n"
    "      count: { command: [wc, -l, \"/tmp/x\"], depends_on: [load] }\n"
    "      script: { shell: 'echo hi | tr a-z A-Z', depends_on: [load] }\n"
    "      tidy: { sql: { database: /tmp/a.db, statement: 'DELETE FROM t' }, depends_on: [count, script],\n"
    "              trigger_rule: all_done }\n"
    "      stop_keep: { control: { action: stop, pipeline: keep }, depends_on: [tidy] }\n"
    "  every: { schedule: { every: 90s }, paused: true, tasks: { t: { command: [\"true\"] } } }\n"
    "  manual: { tasks: { t: { shell: 'exit 0' } } }\n";

Test(dag, builds_every_setting_of_a_dag)
{
    sl_plan *plan = NULL;
    sl_dag_set *set = build(FILE_TEXT, &plan);
    cr_assert_eq(set->n_dags, 3);
    const sl_dag *etl = sl_dag_set_find(set, "etl");
    cr_assert_not_null(etl);
    cr_assert_str_eq(etl->schedule_text, "30 2 * * *");
    cr_assert_str_eq(sl_tz_name(etl->tz), "Europe/Berlin");
    cr_assert_eq(etl->timetable.kind, SL_SCHEDULE_CRON);
    cr_assert_eq(etl->timetable.tz, etl->tz);
    cr_assert(etl->timetable.catchup);
    /* 2026-03-01 00:00 in Berlin (UTC+1) is 2026-02-28 23:00 UTC. */
    cr_assert_eq(etl->timetable.start_us, INT64_C(1772319600) * 1000000);
    /* 2026-12-31 23:00 in Berlin is 22:00 UTC. */
    cr_assert_eq(etl->timetable.end_us, INT64_C(1798754400) * 1000000);
    cr_assert_eq(etl->max_active_runs, 2);
    cr_assert_eq(etl->dagrun_timeout_ms, 3600000);
    cr_assert_str_eq(etl->description, "the nightly load");
    cr_assert_not(etl->is_paused_at_creation);
    cr_assert_eq(etl->n_tasks, 6);

    const sl_dag_task *wait = &etl->tasks[sl_dag_task_index(etl, "wait")];
    cr_assert_eq(wait->kind, SL_TASK_KIND_SENSOR);
    cr_assert_str_eq(wait->sensor_topic, "users");
    cr_assert_str_eq(wait->sensor_group, "keep");
    cr_assert_eq(wait->sensor_until, SL_SENSOR_LAG_ZERO);
    cr_assert_eq(wait->poke_interval_ms, 2000);
    cr_assert_eq(wait->timeout_ms, 600000);
    cr_assert_eq(wait->n_upstream, 0);
    cr_assert_not(wait->is_leaf);

    const sl_dag_task *load = &etl->tasks[sl_dag_task_index(etl, "load")];
    cr_assert_eq(load->kind, SL_TASK_KIND_PIPELINE);
    cr_assert_str_eq(load->pipeline, "ingest");
    cr_assert_eq(load->retries, 3);
    cr_assert_eq(load->retry_delay_ms, 10000);
    cr_assert(load->retry_exponential_backoff);
    cr_assert_eq(load->max_retry_delay_ms, 60000);
    cr_assert_eq(load->n_upstream, 1);
    cr_assert_str_eq(etl->tasks[load->upstream[0]].name, "wait");
    cr_assert_eq(load->trigger_rule, SL_TRIGGER_ALL_SUCCESS);

    const sl_dag_task *count = &etl->tasks[sl_dag_task_index(etl, "count")];
    cr_assert_eq(count->kind, SL_TASK_KIND_COMMAND);
    cr_assert_eq(count->argc, 3);
    cr_assert_str_eq(count->argv[0], "wc");
    cr_assert_str_eq(count->argv[2], "/tmp/x");
    cr_assert_null(count->argv[3]);

    const sl_dag_task *script = &etl->tasks[sl_dag_task_index(etl, "script")];
    cr_assert_eq(script->kind, SL_TASK_KIND_SHELL);
    cr_assert_str_eq(script->shell, "echo hi | tr a-z A-Z");

    const sl_dag_task *tidy = &etl->tasks[sl_dag_task_index(etl, "tidy")];
    cr_assert_eq(tidy->kind, SL_TASK_KIND_SQL);
    cr_assert_str_eq(tidy->sql_database, "/tmp/a.db");
    cr_assert_str_eq(tidy->sql_statement, "DELETE FROM t");
    cr_assert_eq(tidy->trigger_rule, SL_TRIGGER_ALL_DONE);
    cr_assert_eq(tidy->n_upstream, 2);

    const sl_dag_task *stop = &etl->tasks[sl_dag_task_index(etl, "stop_keep")];
    cr_assert_eq(stop->kind, SL_TASK_KIND_CONTROL);
    cr_assert_str_eq(stop->control_action, "stop");
    cr_assert_str_eq(stop->pipeline, "keep");
    cr_assert(stop->is_leaf);
    cr_assert_eq(sl_dag_task_index(etl, "nope"), (size_t)-1);

    const sl_dag *every = sl_dag_set_find(set, "every");
    cr_assert_eq(every->timetable.kind, SL_SCHEDULE_EVERY);
    cr_assert_eq(every->timetable.every_us, INT64_C(90000000));
    cr_assert_str_eq(every->schedule_text, "every 90s");
    cr_assert(every->is_paused_at_creation);
    cr_assert_str_eq(sl_tz_name(every->tz), "UTC");
    cr_assert_eq(every->timetable.start_us, SL_TIMETABLE_NONE);

    const sl_dag *manual = sl_dag_set_find(set, "manual");
    cr_assert_eq(manual->timetable.kind, SL_SCHEDULE_NONE);
    cr_assert_str_eq(manual->schedule_text, "null");
    cr_assert_eq(manual->tasks[0].kind, SL_TASK_KIND_SHELL);
    cr_assert(manual->tasks[0].is_leaf);
    cr_assert_null(sl_dag_set_find(set, "nope"));

    cr_assert_eq(strlen(etl->fingerprint), 16);
    cr_assert_str_neq(etl->fingerprint, every->fingerprint);
    sl_dag_set_free(set);
    sl_plan_free(plan);
}

Test(dag, a_changed_dag_has_another_fingerprint_and_an_unchanged_one_the_same)
{
    sl_plan *a_plan = NULL, *b_plan = NULL;
    sl_dag_set *a = build(FILE_TEXT, &a_plan);
    char *changed = strdup(FILE_TEXT);
    char *at = strstr(changed, "every: 90s");
    memcpy(at, "every: 91s", 10);
    sl_dag_set *b = build(changed, &b_plan);
    cr_assert_str_eq(sl_dag_set_find(a, "etl")->fingerprint, sl_dag_set_find(b, "etl")->fingerprint);
    cr_assert_str_neq(sl_dag_set_find(a, "every")->fingerprint, sl_dag_set_find(b, "every")->fingerprint);
    free(changed);
    sl_dag_set_free(a);
    sl_dag_set_free(b);
    sl_plan_free(a_plan);
    sl_plan_free(b_plan);
}

Test(dag, a_file_without_dags_builds_an_empty_set)
{
    sl_plan *plan = NULL;
    sl_dag_set *set = build("pipelines:\n  p: { source: { generator: { kind: users, count: 1 } }, sink: { stdio: {} } }\n",
                           &plan);
    cr_assert_eq(set->n_dags, 0);
    cr_assert_null(sl_dag_set_find(set, "x"));
    sl_dag_set_free(set);
    sl_plan_free(plan);
}

Test(dag, kind_names_come_from_one_table)
{
    cr_assert_str_eq(sl_task_kind_name(SL_TASK_KIND_PIPELINE), "pipeline");
    cr_assert_str_eq(sl_task_kind_name(SL_TASK_KIND_CONTROL), "control");
    cr_assert_null(sl_task_kind_name((sl_task_kind)99));
}
