/* command_test.c — command tasks (scheduler/command.c): exit statuses,
 * stdout and stderr captured in the log file and the tail, the tail keeping
 * the last 64 KiB, a shell only when asked, added environment variables,
 * timeouts and cancels ending the whole process group, and a program that
 * does not exist. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/command.h"
#include "test_util.h"

static sl_command_result run(const sl_command_spec *spec)
{
    sl_command_result result;
    sl_error err = { 0 };
    cr_assert_eq(sl_command_run(spec, NULL, &result, &err), SL_OK, "%s", err.message);
    return result;
}

Test(command, exit_status_and_output_of_argv)
{
    const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
    sl_command_spec spec = { .argv = argv };
    sl_command_result result = run(&spec);
    cr_assert_eq(result.exit_code, 3);
    cr_assert_str_eq(result.tail, "out\nerr\n");
    char text[64];
    sl_command_describe(&result, &spec, text, sizeof text);
    cr_assert_str_eq(text, "exit 3");
    sl_command_result_free(&result);
}

Test(command, argv_is_not_a_shell)
{
    const char *argv[] = { "echo", "$HOME", "*", ";", "ls", NULL };
    sl_command_spec spec = { .argv = argv };
    sl_command_result result = run(&spec);
    cr_assert_eq(result.exit_code, 0);
    cr_assert_str_eq(result.tail, "$HOME * ; ls\n");
    sl_command_result_free(&result);
}

Test(command, a_shell_script_and_added_environment)
{
    const char *env[] = { "SLUICE_DS=2026-12-03", "HOME=/nowhere", NULL };
    sl_command_spec spec = { .shell = "echo \"$SLUICE_DS $HOME\" | tr 0-9 a-j", .env = env };
    sl_command_result result = run(&spec);
    cr_assert_eq(result.exit_code, 0);
    cr_assert_str_eq(result.tail, "cacg-bc-ad /nowhere\n");
    sl_command_result_free(&result);
}

Test(command, output_goes_to_the_log_file_whole_and_the_tail_keeps_the_end)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir, "command");
    char log_path[512];
    snprintf(log_path, sizeof log_path, "%s/task.log", dir);
    /* 200000 numbered lines: about 1.3 MB. */
    sl_command_spec spec = { .shell = "seq 1 200000", .log_path = log_path };
    sl_command_result result = run(&spec);
    cr_assert_eq(result.exit_code, 0);
    size_t len = 0;
    char *whole = test_read_file(log_path, &len);
    cr_assert(len > 1000000, "log has %zu bytes", len);
    cr_assert_eq(strncmp(whole, "1\n2\n3\n", 6), 0);
    cr_assert_eq(result.tail_len, (size_t)SL_TASK_LOG_TAIL);
    cr_assert_eq(memcmp(result.tail, whole + len - SL_TASK_LOG_TAIL, SL_TASK_LOG_TAIL), 0);
    cr_assert(strstr(result.tail, "\n200000\n"));
    free(whole);
    sl_command_result_free(&result);
    test_remove_tree(dir);
}

Test(command, a_timeout_ends_the_whole_process_group)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir, "command");
    char script[700];
    /* A child that ignores nothing and a grandchild in the background. */
    snprintf(script, sizeof script, "sleep 600 & echo $! > %s/grandchild; echo started; sleep 600", dir);
    sl_command_spec spec = { .shell = script, .timeout_ms = 300 };
    sl_command_result result = run(&spec);
    cr_assert(result.is_timed_out);
    cr_assert_eq(result.exit_code, -1);
    cr_assert_eq(result.term_signal, SIGTERM);
    cr_assert_str_eq(result.tail, "started\n");
    char text[64];
    sl_command_describe(&result, &spec, text, sizeof text);
    cr_assert_str_eq(text, "timed out after 300 ms");
    char pid_path[600];
    snprintf(pid_path, sizeof pid_path, "%s/grandchild", dir);
    char *pid_text = test_read_file(pid_path, NULL);
    pid_t grandchild = (pid_t)atoi(pid_text);
    /* The grandchild got the group's SIGTERM too (it may take a moment to be reaped by init). */
    bool is_gone = false;
    for (int i = 0; i < 600 && !is_gone; i++) {
        is_gone = kill(grandchild, 0) != 0;
        if (!is_gone) usleep(10000);
    }
    cr_assert(is_gone, "grandchild %d still runs", (int)grandchild);
    free(pid_text);
    sl_command_result_free(&result);
    test_remove_tree(dir);
}

Test(command, sigterm_ignored_means_sigkill_after_the_grace)
{
    sl_command_spec spec = { .shell = "trap '' TERM; echo ready; while :; do sleep 1; done", .timeout_ms = 200 };
    sl_command_result result = run(&spec);
    cr_assert(result.is_timed_out);
    cr_assert_eq(result.term_signal, SIGKILL);
    cr_assert(result.duration_ms >= SL_COMMAND_KILL_GRACE_MS);
    sl_command_result_free(&result);
}

Test(command, a_cancel_stops_it)
{
    atomic_bool cancel;
    atomic_init(&cancel, true);
    const char *argv[] = { "sleep", "600", NULL };
    sl_command_spec spec = { .argv = argv };
    sl_command_result result;
    sl_error err = { 0 };
    cr_assert_eq(sl_command_run(&spec, &cancel, &result, &err), SL_OK);
    cr_assert(result.is_canceled && !result.is_timed_out);
    sl_command_result_free(&result);
}

Test(command, a_program_that_does_not_exist_is_an_error)
{
    const char *argv[] = { "no-such-program-sluice", NULL };
    sl_command_spec spec = { .argv = argv };
    sl_command_result result;
    sl_error err = { 0 };
    cr_assert_eq(sl_command_run(&spec, NULL, &result, &err), SL_ENOTFOUND);
    cr_assert_str_eq(err.message, "command 'no-such-program-sluice': not found on PATH");
    const char *empty[] = { NULL };
    spec.argv = empty;
    cr_assert_eq(sl_command_run(&spec, NULL, &result, &err), SL_EINVAL);
}

Test(command, a_log_file_that_cannot_be_opened_is_an_error)
{
    const char *argv[] = { "true", NULL };
    sl_command_spec spec = { .argv = argv, .log_path = "/nonexistent-dir/task.log" };
    sl_command_result result;
    sl_error err = { 0 };
    cr_assert_eq(sl_command_run(&spec, NULL, &result, &err), SL_EIO);
    cr_assert(strstr(err.message, "task log /nonexistent-dir/task.log: cannot open it"), "%s", err.message);
}
