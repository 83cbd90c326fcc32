/* macros_test.c — run macros of DAG tasks (scheduler/macros.c): each macro
 * of the table, dates in zones with daylight saving time (the local date
 * of a logical date late in the evening is not UTC's), times before 1970
 * and with fractions, the `$${` escape, names that are not macros, long
 * text, the command environment, and a config file's task whose `${ds}`
 * survives loading and is expanded for the command that runs it. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "runtime/plan.h"
#include "scheduler/command.h"
#include "scheduler/macros.h"

static int64_t at(const char *iso)
{
    int64_t us = 0;
    cr_assert_eq(sl_time_parse_iso(iso, strlen(iso), &us), SL_OK, "'%s'", iso);
    return us;
}

static sl_tz *zone(const char *name)
{
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_tz_load(name, &tz, &err), SL_OK, "%s: %s", name, err.message);
    return tz;
}

/* A daily run of 2026-12-03 in UTC, on its second try. */
static sl_macro_context utc_context(void)
{
    return (sl_macro_context){ .dag_id = "nightly", .task_id = "load",
                               .run_id = "scheduled__2026-12-03T00:00:00+00:00",
                               .data_interval_start_us = at("2026-12-03T00:00:00Z"),
                               .data_interval_end_us = at("2026-12-04T00:00:00Z"), .try_number = 2 };
}

static void expect(const sl_macro_context *context, const char *text, const char *want)
{
    char *out = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_macros_expand(text, context, &out, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(out, want, "'%s' gave '%s', expected '%s'", text, out, want);
    free(out);
}

Test(macros, each_macro_of_a_utc_run)
{
    sl_macro_context context = utc_context();
    expect(&context, "${ds}", "2026-12-03");
    expect(&context, "${ds_nodash}", "20261203");
    expect(&context, "${ts}", "2026-12-03T00:00:00+00:00");
    expect(&context, "${ts_nodash}", "20261203T000000");
    expect(&context, "${data_interval_start}", "2026-12-03T00:00:00+00:00");
    expect(&context, "${data_interval_end}", "2026-12-04T00:00:00+00:00");
    expect(&context, "${logical_date}", "2026-12-03T00:00:00+00:00");
    expect(&context, "${run_id}", "scheduled__2026-12-03T00:00:00+00:00");
    expect(&context, "${dag_id}", "nightly");
    expect(&context, "${task_id}", "load");
    expect(&context, "${try_number}", "2");
    expect(&context, "SELECT * FROM t WHERE day = '${ds}' AND at < '${data_interval_end}' -- ${dag_id}.${task_id}",
           "SELECT * FROM t WHERE day = '2026-12-03' AND at < '2026-12-04T00:00:00+00:00' -- nightly.load");
    expect(&context, "${ds}${ds_nodash}", "2026-12-0320261203");
}

Test(macros, every_name_of_the_table_is_expanded)
{
    sl_macro_context context = utc_context();
    size_t n = 0;
    for (const char *name; (name = sl_macros_name(n)) != NULL; n++) {
        char text[64], *out = NULL;
        sl_error err = { 0 };
        snprintf(text, sizeof text, "${%s}", name);
        cr_assert(sl_macros_is_name(name, strlen(name)), "%s", name);
        cr_assert_eq(sl_macros_expand(text, &context, &out, &err), SL_OK, "%s", err.message);
        cr_assert(out[0] != '\0' && !strstr(out, "${"), "%s gave '%s'", text, out);
        free(out);
    }
    cr_assert_eq(n, 11);
    cr_assert(sl_macros_is_name("dsx", 2));
    cr_assert_not(sl_macros_is_name("DS", 2));
    cr_assert_not(sl_macros_is_name("ds_", 3));
    cr_assert_not(sl_macros_is_name("", 0));
}

Test(macros, dates_are_the_wall_time_of_the_zone_with_daylight_saving_time)
{
    sl_tz *new_york = zone("America/New_York");
    /* 02:30 UTC on the 15th is still the evening of the 14th in New York,
     * at -04:00 in summer and at -05:00 in winter. */
    sl_macro_context context = { .data_interval_start_us = at("2026-07-15T02:30:00Z"),
                                 .data_interval_end_us = at("2026-07-16T02:30:00Z"), .tz = new_york };
    expect(&context, "${ds} ${ds_nodash}", "2026-07-14 20260714");
    expect(&context, "${ts} ${ts_nodash}", "2026-07-14T22:30:00-04:00 20260714T223000");
    context.tz = NULL;
    expect(&context, "${ds} ${ts}", "2026-07-15 2026-07-15T02:30:00+00:00");
    context = (sl_macro_context){ .data_interval_start_us = at("2026-01-15T03:00:00Z"),
                                  .data_interval_end_us = at("2026-01-16T03:00:00Z"), .tz = new_york };
    expect(&context, "${ds} ${logical_date}", "2026-01-14 2026-01-14T22:00:00-05:00");
    sl_tz_free(new_york);

    /* A Berlin day crossing the spring change: it starts at +01:00 and
     * ends at +02:00, 23 hours later. */
    sl_tz *berlin = zone("Europe/Berlin");
    context = (sl_macro_context){ .data_interval_start_us = at("2026-03-28T23:00:00Z"),
                                  .data_interval_end_us = at("2026-03-29T22:00:00Z"), .tz = berlin };
    expect(&context, "${ds}", "2026-03-29");
    expect(&context, "${data_interval_start} ${data_interval_end}",
           "2026-03-29T00:00:00+01:00 2026-03-30T00:00:00+02:00");
    sl_tz_free(berlin);
}

Test(macros, times_before_1970_and_with_fractions)
{
    sl_macro_context context = { .data_interval_start_us = -1, .data_interval_end_us = 500000 };
    expect(&context, "${ds} ${ts_nodash} ${ts}", "1969-12-31 19691231T235959 1969-12-31T23:59:59.999999+00:00");
    expect(&context, "${data_interval_end}", "1970-01-01T00:00:00.500000+00:00");
}

Test(macros, escapes_and_names_that_are_not_macros_are_left_alone)
{
    sl_macro_context context = utc_context();
    expect(&context, "$${ds}", "${ds}");
    expect(&context, "$${ds} is ${ds}", "${ds} is 2026-12-03");
    expect(&context, "$${HOME}", "${HOME}");
    const char *const kept[] = { "", "plain", "$", "a$", "$ds", "${", "${ds", "${ds:-x}", "${DS}", "${ds }",
                                 "${ds_nodashx}", "${HOME}", "${}", "$$", "{ds}", "${ ds}" };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) expect(&context, kept[i], kept[i]);
}

Test(macros, ids_not_given_are_empty)
{
    sl_macro_context context = { .try_number = 1 };
    expect(&context, "[${dag_id}|${task_id}|${run_id}|${try_number}]", "[|||1]");
}

Test(macros, long_text_is_expanded_whole)
{
    sl_macro_context context = utc_context();
    const char *chunk = "x${ds}y$${ds}z";
    const char *chunk_out = "x2026-12-03y${ds}z";
    size_t n = 20000;
    char *text = malloc(n * strlen(chunk) + 1);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i++) memcpy(text + i * strlen(chunk), chunk, strlen(chunk));
    text[n * strlen(chunk)] = '\0';
    char *out = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_macros_expand(text, &context, &out, &err), SL_OK, "%s", err.message);
    cr_assert_eq(strlen(out), n * strlen(chunk_out));
    for (size_t i = 0; i < n; i++)
        cr_assert(memcmp(out + i * strlen(chunk_out), chunk_out, strlen(chunk_out)) == 0, "chunk %zu", i);
    free(out);
    free(text);
}

Test(macros, null_arguments_are_refused)
{
    sl_macro_context context = utc_context();
    char *out = NULL, **env = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_macros_expand(NULL, &context, &out, &err), SL_EINVAL);
    cr_assert_eq(sl_macros_expand("x", NULL, &out, &err), SL_EINVAL);
    cr_assert_eq(sl_macros_env(NULL, &env, &err), SL_EINVAL);
    sl_macros_env_free(NULL);
}

Test(macros, the_environment_of_a_command_task)
{
    sl_tz *berlin = zone("Europe/Berlin");
    sl_macro_context context = utc_context();
    context.tz = berlin;
    char **env = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_macros_env(&context, &env, &err), SL_OK, "%s", err.message);
    const char *const want[] = { "SLUICE_DS=2026-12-03",
                                 "SLUICE_TS=2026-12-03T01:00:00+01:00",
                                 "SLUICE_DATA_INTERVAL_START=2026-12-03T01:00:00+01:00",
                                 "SLUICE_DATA_INTERVAL_END=2026-12-04T01:00:00+01:00",
                                 "SLUICE_RUN_ID=scheduled__2026-12-03T00:00:00+00:00",
                                 "SLUICE_DAG_ID=nightly",
                                 "SLUICE_TASK_ID=load",
                                 "SLUICE_TRY_NUMBER=2",
                                 NULL };
    size_t n = 0;
    for (; env[n]; n++) {
        cr_assert_not_null(want[n], "extra entry '%s'", env[n]);
        cr_assert_str_eq(env[n], want[n]);
    }
    cr_assert_null(want[n], "missing '%s'", want[n]);

    /* What a command task sees. */
    sl_command_spec spec = { .shell = "printf '%s %s %s' \"$SLUICE_DS\" \"$SLUICE_TASK_ID\" \"$SLUICE_TRY_NUMBER\"",
                             .env = (const char *const *)env };
    sl_command_result result;
    cr_assert_eq(sl_command_run(&spec, NULL, &result, &err), SL_OK, "%s", err.message);
    cr_assert_eq(result.exit_code, 0);
    cr_assert_str_eq(result.tail, "2026-12-03 load 2");
    sl_command_result_free(&result);
    sl_macros_env_free(env);
    sl_tz_free(berlin);
}

Test(macros, a_task_of_a_config_file_keeps_its_macros_until_it_runs)
{
    static const char *const text =
        "dags:\n"
        "  nightly:\n"
        "    schedule: \"@daily\"\n"
        "    tasks:\n"
        "      report: { command: [echo, \"${ds}\", $${ds}, \"${SL_MACROS_TEST_UNSET:-${run_id}}\"] }\n";
    char path[] = "/tmp/sluice-macros-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("ds", "not-from-the-environment", 1);
    unsetenv("SL_MACROS_TEST_UNSET");
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    int rc = sl_plan_load(path, &plan, &err);
    unlink(path);
    unsetenv("ds");
    cr_assert_eq(rc, SL_OK, "%s", err.message);

    const sl_node *tasks = sl_node_get(sl_node_get(sl_node_get(sl_config_root(plan->doc), "dags"), "nightly"), "tasks");
    const sl_node *command = sl_node_get(sl_node_get(tasks, "report"), "command");
    cr_assert_not_null(command);
    cr_assert_eq(command->n_items, 4);
    cr_assert_str_eq(command->items[1]->scalar, "${ds}");
    cr_assert_str_eq(command->items[2]->scalar, "$${ds}");
    cr_assert_str_eq(command->items[3]->scalar, "${run_id}");

    /* When the task runs: each argument expanded, then the program run. */
    sl_macro_context context = utc_context();
    char *argv[5] = { 0 };
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(sl_macros_expand(command->items[i]->scalar, &context, &argv[i], &err), SL_OK, "%s",
                     err.message);
    sl_command_spec spec = { .argv = (const char *const *)argv };
    sl_command_result result;
    cr_assert_eq(sl_command_run(&spec, NULL, &result, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(result.tail, "2026-12-03 ${ds} scheduled__2026-12-03T00:00:00+00:00\n");
    sl_command_result_free(&result);
    for (size_t i = 0; i < 4; i++) free(argv[i]);
    sl_plan_free(plan);
}
