/* run_test.c — sl_run_plan as a server's DAG task uses it: on the server's
 * open log (the data dir's lock is the server's; the run neither takes nor
 * releases it), stopped through its own flag with a verdict that names no
 * signal, and with the summary written to the task's log file. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logger.h"
#include "runtime/run.h"
#include "test_util.h"

static char dir[256];

static sl_plan *plan_of(const char *pipelines)
{
    char path[512], text[2048];
    snprintf(path, sizeof path, "%s/task.yaml", dir);
    snprintf(text, sizeof text, "data_dir: %s/data\npipelines:\n%s", dir, pipelines);
    test_write_text(path, text);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    return plan;
}

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "run");
    sl_logger_configure(SL_LEVEL_ERROR, 0);
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(run, .init = setup, .fini = teardown);

Test(run, a_task_runs_on_the_servers_log_and_writes_its_summary_to_the_task_log)
{
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    sl_log *log = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);
    sl_plan *plan = plan_of("  load:\n    source: { generator: { kind: sequence, count: 50 } }\n"
                            "    sink: { topic: { name: loaded } }\n");
    char summary_path[400];
    snprintf(summary_path, sizeof summary_path, "%s/task.log", dir);
    FILE *summary = fopen(summary_path, "w");
    sl_run_options options = { .log = log, .show_summary = true, .summary_file = summary };
    cr_assert_eq(sl_run_plan(plan, &options, &err), SL_OK, "%s", err.message);
    fclose(summary);
    char *text = test_read_file(summary_path, NULL);
    cr_assert(strstr(text, "load ") && strstr(text, " 50 "), "%s", text);
    free(text);
    /* The log is still open and still the server's: the run wrote to it and left it. */
    sl_topic *topic = NULL;
    cr_assert_eq(sl_log_topic_open(log, "loaded", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 50);
    sl_log *second = NULL;
    cr_assert_eq(sl_log_open(data_dir, &second, &err), SL_ELOCKED);
    sl_plan_free(plan);
    sl_log_close(log);
}

Test(run, a_stopped_task_run_is_interrupted_without_naming_a_signal)
{
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    sl_log *log = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);
    sl_plan *plan = plan_of("  slow:\n    source: { generator: { kind: sequence, count: 100000, rate: 100 } }\n"
                            "    sink: { topic: { name: slow } }\n");
    atomic_bool stop;
    atomic_init(&stop, true);
    sl_run_options options = { .log = log, .stop = &stop };
    cr_assert_eq(sl_run_plan(plan, &options, &err), SL_EINTERRUPTED);
    cr_assert(strstr(err.message, "pipeline slow: stopped before its source had been read to its end"),
              "%s", err.message);
    cr_assert_null(strstr(err.message, "signal"), "%s", err.message);
    sl_plan_free(plan);
    sl_log_close(log);
}
