/* supervisor_test.c — control commands on the supervisor's continuous
 * pipelines: a stop returns once the pipeline has drained (its file sink
 * holds a gap-free prefix of the sequence and its position is committed),
 * it stays stopped across reloads, a start resumes from that position with
 * nothing lost or doubled, a restart is counted with its reason, and names
 * that are no continuous pipeline are refused. Also run under TSan. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/logger.h"
#include "log/log.h"
#include "server/supervisor.h"
#include "test_util.h"

#define DEADLINE_MS (120 * 1000)

static char dir[256];
static sl_log *log_;
static sl_supervisor *supervisor;

static sl_plan *plan_of(const char *out_file)
{
    char path[512], text[4096];
    snprintf(path, sizeof path, "%s/server.yaml", dir);
    snprintf(text, sizeof text,
             "data_dir: %s/data\n"
             "pipelines:\n"
             "  feed:\n"
             "    source: { generator: { kind: sequence, count: 0, rate: 5000 } }\n"
             "    sink: { file: { path: %s/%s } }\n"
             "    commit_interval: 50ms\n"
             "  once:\n"
             "    source: { generator: { kind: sequence, count: 5 } }\n"
             "    sink: { file: { path: %s/once.jsonl } }\n"
             "  nightly_load:\n"
             "    source: { generator: { kind: sequence, count: 1 } }\n"
             "    sink: { file: { path: %s/nightly.jsonl } }\n"
             "dags:\n"
             "  nightly:\n"
             "    schedule: \"@daily\"\n"
             "    tasks:\n"
             "      load: { pipeline: nightly_load }\n",
             dir, dir, out_file, dir, dir);
    test_write_text(path, text);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    return plan;
}

static void apply(const char *out_file, const char *expected_changes)
{
    sl_buffer changes = { 0 };
    sl_error err = { 0 };
    cr_assert_eq(sl_supervisor_apply(supervisor, plan_of(out_file), &changes, &err), SL_OK, "%s", err.message);
    if (expected_changes)
        cr_assert_str_eq(changes.data, expected_changes);
    sl_buffer_free(&changes);
}

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "supervisor");
    sl_logger_configure(SL_LEVEL_ERROR, 0);
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(data_dir, &log_, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_supervisor_new(log_, &supervisor, &err), SL_OK, "%s", err.message);
}

static void teardown(void)
{
    sl_error err = { 0 };
    cr_assert_eq(sl_supervisor_free(supervisor, &err), SL_OK, "%s", err.message);
    sl_log_close(log_);
    test_remove_tree(dir);
}

TestSuite(supervisor, .init = setup, .fini = teardown);

/* The snapshot, in a malloc'ed string the caller frees. */
static char *snapshot(void)
{
    sl_buffer out = { 0 };
    cr_assert_eq(sl_supervisor_snapshot(supervisor, &out), SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&out, '\0'), SL_OK);
    return out.data;
}

static bool has_state(const char *name, const char *state)
{
    char needle[200];
    snprintf(needle, sizeof needle, "{\"name\":\"%s\",\"state\":\"%s\"", name, state);
    char *text = snapshot();
    bool found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

static void wait_for_state(const char *name, const char *state)
{
    int64_t deadline = sl_clock_monotonic_ms() + DEADLINE_MS;
    while (!has_state(name, state)) {
        char *text = snapshot();
        cr_assert(sl_clock_monotonic_ms() < deadline, "%s not %s: %s", name, state, text);
        free(text);
        sl_supervisor_tick(supervisor);
        sl_sleep_ms(20);
    }
}

/* The ids of the file's lines {"id":N,...}; checks they are first,
 * first + 1, ... with none missing or doubled, and returns how many (0 for
 * a file not written yet). */
static long gap_free_ids_from(const char *file, long first)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *in = fopen(path, "r");
    if (!in) return 0;
    long n = 0;
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        const char *id = strstr(line, "\"id\":");
        cr_assert(id, "no id in %s: %s", file, line);
        long value = strtol(id + 5, NULL, 10);
        cr_assert_eq(value, first + n, "line %ld of %s has id %ld, not %ld: lost or doubled records", n + 1, file,
                     value, first + n);
        n++;
    }
    fclose(in);
    return n;
}

static long gap_free_ids(const char *file)
{
    return gap_free_ids_from(file, 0);
}

static void wait_for_ids_from(const char *file, long first, long at_least)
{
    int64_t deadline = sl_clock_monotonic_ms() + DEADLINE_MS;
    while (gap_free_ids_from(file, first) < at_least) {
        cr_assert(sl_clock_monotonic_ms() < deadline, "%s has fewer than %ld records", file, at_least);
        sl_supervisor_tick(supervisor);
        sl_sleep_ms(20);
    }
}

static void wait_for_ids(const char *file, long at_least)
{
    wait_for_ids_from(file, 0, at_least);
}

static int control(const char *name, sl_control_action action, char *detail, size_t size, sl_error *err)
{
    return sl_supervisor_control(supervisor, name, action, "test", detail, size, err);
}

Test(supervisor, the_action_names_parse_and_unknown_ones_are_refused)
{
    sl_control_action action = SL_CONTROL_START;
    cr_assert_eq(sl_control_action_parse("restart", &action), SL_OK);
    cr_assert_eq(action, SL_CONTROL_RESTART);
    cr_assert_str_eq(sl_control_action_names[SL_CONTROL_STOP], "stop");
    cr_assert_eq(sl_control_action_parse("pause", &action), SL_EINVAL);
    cr_assert_eq(sl_control_action_parse(NULL, &action), SL_EINVAL);
}

Test(supervisor, a_stop_drains_and_holds_a_start_resumes_and_a_restart_is_counted)
{
    apply("out.jsonl", NULL);
    wait_for_ids("out.jsonl", 200);
    char detail[300];
    sl_error err = { 0 };
    cr_assert_eq(control("feed", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "stopped: drained, its positions committed");
    cr_assert(has_state("feed", "stopped"));
    char *text = snapshot();
    cr_assert(strstr(text, "\"stopped_by\":\"test\""), "%s", text);
    free(text);
    long at_stop = gap_free_ids("out.jsonl");
    cr_assert_eq(control("feed", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_OK);
    cr_assert_str_eq(detail, "already stopped");
    cr_assert(sl_supervisor_is_ready(supervisor), "a pipeline stopped on purpose leaves the server ready");

    /* The same file again, then a changed one: it stays stopped. */
    apply("out.jsonl", "{\"started\":[],\"restarted\":[],\"stopped\":[],\"unchanged\":[\"once\"],"
                       "\"left_stopped\":[\"feed\"]}");
    apply("second.jsonl", "{\"started\":[],\"restarted\":[],\"stopped\":[],\"unchanged\":[\"once\"],"
                          "\"left_stopped\":[\"feed\"]}");
    cr_assert(has_state("feed", "stopped"));
    cr_assert_eq(gap_free_ids("out.jsonl"), at_stop, "a stopped pipeline wrote");

    /* Started from the current plan: it writes second.jsonl from where it stopped. */
    cr_assert_eq(control("feed", SL_CONTROL_START, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "started");
    wait_for_state("feed", "running");
    cr_assert_eq(control("feed", SL_CONTROL_START, detail, sizeof detail, &err), SL_OK);
    cr_assert_str_eq(detail, "already running");
    wait_for_ids_from("second.jsonl", at_stop, 100);
    cr_assert_eq(control("feed", SL_CONTROL_RESTART, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "restarted: drained, its positions committed, started again");
    wait_for_state("feed", "running");
    text = snapshot();
    cr_assert(strstr(text, "\"restarts\":1,\"restart_history\":[{\"at\":"), "%s", text);
    cr_assert(strstr(text, "\"reason\":\"restarted by test\"}],\"last_error\":null,\"stopped_by\":null"), "%s", text);
    free(text);
    long second_before = gap_free_ids_from("second.jsonl", at_stop);
    wait_for_ids_from("second.jsonl", at_stop, second_before + 100);
    cr_assert_eq(control("feed", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_OK, "%s", err.message);

    /* out.jsonl then second.jsonl: one gap-free sequence, nothing read twice. */
    cr_assert_geq(gap_free_ids_from("second.jsonl", at_stop), second_before + 100);
}

Test(supervisor, a_stop_right_after_a_reload_waits_for_the_old_run_and_never_starts_the_new_one)
{
    apply("out.jsonl", NULL);
    wait_for_ids("out.jsonl", 100);
    apply("second.jsonl", NULL);   /* feed is restarted: its new run waits for the old one's drain */
    char detail[300];
    sl_error err = { 0 };
    cr_assert_eq(control("feed", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert(has_state("feed", "stopped"));
    long first = gap_free_ids("out.jsonl");
    sl_supervisor_tick(supervisor);
    cr_assert(has_state("feed", "stopped"), "a tick started what a stop holds");
    cr_assert_eq(control("feed", SL_CONTROL_START, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    wait_for_state("feed", "running");
    wait_for_ids_from("second.jsonl", first, 50);
}

Test(supervisor, a_finished_pipeline_can_be_stopped_and_started)
{
    apply("out.jsonl", NULL);
    wait_for_state("once", "finished");
    char detail[300];
    sl_error err = { 0 };
    cr_assert_eq(control("once", SL_CONTROL_START, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "started (its source had ended)");
    wait_for_state("once", "finished");   /* its position says it is at its end: nothing more */
    cr_assert_eq(gap_free_ids("once.jsonl"), 5);
    cr_assert_eq(control("once", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "stopped (its source had ended)");
    cr_assert(has_state("once", "stopped"));
}

Test(supervisor, names_that_are_no_continuous_pipeline_are_refused)
{
    apply("out.jsonl", NULL);
    char detail[300];
    sl_error err = { 0 };
    cr_assert_eq(control("nope", SL_CONTROL_STOP, detail, sizeof detail, &err), SL_ENOTFOUND);
    cr_assert_str_eq(err.message, "no pipeline nope in the server's config");
    cr_assert_eq(control("nightly_load", SL_CONTROL_START, detail, sizeof detail, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "pipeline nightly_load is run by DAG tasks"), "%s", err.message);
    cr_assert(!has_state("nightly_load", "stopped"));
}
