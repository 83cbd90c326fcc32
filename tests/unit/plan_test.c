/* plan_test.c — config files turned into checked plans: every mistake is
 * reported with file:line:column before anything runs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/plan.h"

static char config_path[64];

static int load_text(const char *text, sl_plan **plan, sl_error *err)
{
    strcpy(config_path, "/tmp/sluice-plan-XXXXXX");
    int fd = mkstemp(config_path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_error_clear(err);
    int rc = sl_plan_load(config_path, plan, err);
    unlink(config_path);
    return rc;
}

/* Asserts that text fails to load with a message containing want after
 * the file name. */
static void expect_error(const char *text, const char *want)
{
    sl_plan *plan = NULL;
    sl_error err;
    int rc = load_text(text, &plan, &err);
    cr_assert_neq(rc, SL_OK, "expected an error containing '%s'", want);
    cr_assert_null(plan);
    cr_assert(strncmp(err.message, config_path, strlen(config_path)) == 0,
              "message should start with the file: %s", err.message);
    cr_assert(strstr(err.message, want), "message '%s' should contain '%s'", err.message, want);
}

static const char *const seed =
    "pipelines:\n"
    "  ingest_users:\n"
    "    source:  { generator: { kind: users, count: 1000, seed: 42 } }\n"
    "    sink:    { topic: { name: user_data, partitions: 4, key: login.uuid } }\n"
    "  store_users:\n"
    "    source:  { topic: { name: user_data, group: store_users } }\n"
    "    transform:\n"
    "      sql: SELECT uuid(login.uuid) AS id, name.first AS first_name FROM input\n"
    "    sinks:\n"
    "      - { sqlite: { path: data/users.db, table: created_users, key: [id] } }\n"
    "      - { file: { path: data/users.jsonl } }\n"
    "dags:\n"
    "  user_automation:\n"
    "    schedule: \"@daily\"\n"
    "    tasks:\n"
    "      stream_data: { pipeline: ingest_users, retries: 3, timeout: 10m }\n";

Test(plan, loads_the_seed_pipelines_with_their_connectors_and_sql)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text(seed, &plan, &err), SL_OK, "%s", err.message);
    cr_assert_eq(plan->n_pipelines, 2);
    cr_assert_eq(plan->n_dags, 1);
    cr_assert_str_eq(plan->data_dir, "./data");
    const sl_pipeline_plan *store = sl_plan_pipeline(plan, "store_users");
    cr_assert_not_null(store);
    cr_assert_str_eq(store->source_ops->name, "topic");
    cr_assert_eq(store->n_sinks, 2);
    cr_assert_str_eq(store->sinks[0].ops->name, "sqlite");
    cr_assert_str_eq(store->sinks[1].ops->name, "file");
    cr_assert_eq(sl_sql_n_columns(store->program), 2);
    cr_assert_str_eq(store->dlq_topic, "store_users.dlq");
    cr_assert_gt(store->workers, 0);
    cr_assert_eq(store->batch_size, 1024);
    sl_plan_free(plan);
}

Test(plan, rejects_an_unknown_top_level_key_at_its_position)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\nfoo: 1\n", ":3:1: unknown setting 'foo'");
}

Test(plan, rejects_an_unknown_connector_setting)
{
    expect_error("pipelines:\n  p:\n    source: { generator: { kind: users, colour: red } }\n    sink: { stdio: {} }\n",
                 ":3:41: unknown setting 'colour'");
}

Test(plan, rejects_an_unknown_connector_naming_the_known_ones)
{
    expect_error("pipelines:\n  p:\n    source: { kafkaa: { topic: x } }\n    sink: { stdio: {} }\n",
                 "unknown source connector 'kafkaa' (sources: generator, topic");
}

Test(plan, reports_sql_errors_with_the_sql_node_position_and_sql_line_column)
{
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n    transform: { sql: \"SELECT FROM input\" }\n"
                 "    sink: { stdio: {} }\n",
                 ":4:23: pipelines.p.transform.sql: line 1 column 8");
}

Test(plan, requires_a_sink)
{
    expect_error("pipelines:\n  p:\n    source: { stdio: {} }\n", "missing required setting 'sink'");
}

Test(plan, rejects_a_dag_task_naming_an_unknown_pipeline)
{
    expect_error("pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} } }\n"
                 "dags:\n  d:\n    schedule: \"@daily\"\n    tasks:\n      t: { pipeline: nope }\n",
                 "no pipeline named 'nope'");
}

Test(plan, rejects_a_missing_required_connector_setting)
{
    expect_error("pipelines:\n  p:\n    source: { topic: { group: g } }\n    sink: { stdio: {} }\n",
                 "missing required setting 'name'");
}

Test(plan, expands_environment_variables_in_settings)
{
    setenv("SLUICE_PLAN_TEST_DIR", "/tmp/elsewhere", 1);
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_eq(load_text("data_dir: ${SLUICE_PLAN_TEST_DIR}\n"
                           "pipelines:\n  p: { source: { stdio: {} }, sink: { stdio: {} }, workers: ${W:-3} }\n",
                           &plan, &err),
                 SL_OK, "%s", err.message);
    cr_assert_str_eq(plan->data_dir, "/tmp/elsewhere");
    cr_assert_eq(plan->pipelines[0].workers, 3);
    sl_plan_free(plan);
}

Test(plan, names_the_file_when_it_cannot_be_read)
{
    sl_plan *plan = NULL;
    sl_error err;
    cr_assert_neq(sl_plan_load("/nonexistent/sluice.yaml", &plan, &err), SL_OK);
    cr_assert(strstr(err.message, "/nonexistent/sluice.yaml"), "%s", err.message);
}
