/* progress_test.c — the progress line's text (counts with k/M suffixes,
 * durations, percent, ETA, lag, fitting in the width) and the logger's
 * status line, which a log line clears and draws again (stderr redirected
 * to a file to read the bytes back). */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logger.h"
#include "runtime/progress.h"

TestSuite(progress);

static const char *count(double value)
{
    static char out[4][32];
    static int next;
    char *text = out[next++ % 4];
    sl_progress_count(value, text, sizeof out[0]);
    return text;
}

static const char *duration(double seconds)
{
    static char out[4][32];
    static int next;
    char *text = out[next++ % 4];
    sl_progress_duration(seconds, text, sizeof out[0]);
    return text;
}

Test(progress, counts_take_k_m_g_suffixes)
{
    cr_assert_str_eq(count(0), "0");
    cr_assert_str_eq(count(999), "999");
    cr_assert_str_eq(count(1000), "1.0k");
    cr_assert_str_eq(count(1234), "1.2k");
    cr_assert_str_eq(count(9949), "9.9k");
    cr_assert_str_eq(count(12345), "12k");
    cr_assert_str_eq(count(999499), "999k");
    cr_assert_str_eq(count(999500), "1.0M");
    cr_assert_str_eq(count(4800000), "4.8M");
    cr_assert_str_eq(count(123456789), "123M");
    cr_assert_str_eq(count(7e9), "7.0G");
    cr_assert_str_eq(count(-5), "0");
}

Test(progress, durations_read_like_a_clock)
{
    cr_assert_str_eq(duration(0), "0s");
    cr_assert_str_eq(duration(44.6), "45s");
    cr_assert_str_eq(duration(185), "3m05s");
    cr_assert_str_eq(duration(7440), "2h04m");
    cr_assert_str_eq(duration(3 * 86400 + 4 * 3600), "3d04h");
}

Test(progress, a_file_source_shows_its_percent_and_then_an_eta)
{
    sl_progress *progress = sl_progress_new(1);
    cr_assert_not_null(progress);
    sl_progress_sample sample = { .name = "copy", .records_in = 0, .done = 0, .total = 1000, .lag = -1 };
    char line[256];
    sl_progress_line(progress, 0, 0, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "0.0s copy 0 in 0 out 0 rec/s 0%");

    /* 250 of 1000 bytes in 1 s: 750 more take 3 s. */
    sample.records_in = 2500;
    sample.records_out = 2000;
    sample.done = 250;
    sl_progress_line(progress, 0, 1000, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "1.0s copy 2.5k in 2.0k out 2.5k rec/s 25% ETA 3s");

    sample.records_in = 10000;
    sample.records_out = 10000;
    sample.done = 1000;
    sample.is_finished = true;
    sl_progress_line(progress, 0, 2000, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "2.0s copy 10k in 10k out done 100%");
    sl_progress_free(progress);
}

Test(progress, a_topic_source_shows_its_lag)
{
    sl_progress *progress = sl_progress_new(1);
    sl_progress_sample sample = { .name = "readers", .records_in = 100, .records_out = 90, .done = -1,
                                  .total = -1, .lag = 5000 };
    char line[256];
    sl_progress_line(progress, 0, 500, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "0.5s readers 100 in 90 out 200 rec/s lag 5.0k");
    sl_progress_free(progress);
}

Test(progress, without_a_size_there_is_no_percent)
{
    sl_progress *progress = sl_progress_new(1);
    sl_progress_sample sample = { .name = "gen", .records_in = 1500000, .done = 1500000, .total = -1, .lag = -1 };
    char line[256];
    sl_progress_line(progress, 0, 90000, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "1m30s gen 1.5M in 0 out 17k rec/s");
    sl_progress_free(progress);
}

Test(progress, many_pipelines_are_shortened_then_cut_to_the_width)
{
    sl_progress *progress = sl_progress_new(3);
    sl_progress_sample samples[3] = {
        { .name = "first_pipeline", .records_in = 1000, .records_out = 1000, .done = 10, .total = 100, .lag = -1 },
        { .name = "second_pipeline", .records_in = 2000, .records_out = 1900, .done = -1, .total = -1, .lag = 300 },
        { .name = "third_pipeline", .records_in = 3000, .records_out = 0, .done = -1, .total = -1, .lag = -1 },
    };
    char line[512];
    sl_progress_line(progress, 0, 1000, samples, 3, 80, line, sizeof line);
    /* The full parts take too many columns: compact ones, cut at 79 and
     * the blank it then ends with. */
    cr_assert_str_eq(line, "1.0s first_pipeline 1.0k/1.0k 1.0k/s 10%  second_pipeline 2.0k/1.9k 2.0k/s lag");
    cr_assert_eq(strlen(line), 78);

    sl_progress_line(progress, 0, 2000, samples, 3, 30, line, sizeof line);
    cr_assert_eq(strlen(line), 29, "'%s'", line);
    cr_assert_str_eq(line, "2.0s first_pipeline 1.0k/1.0k");

    /* Never wider than 80 columns, whatever the terminal. */
    samples[1].lag = 12;
    sl_progress_line(progress, 0, 3000, samples, 3, 300, line, sizeof line);
    cr_assert_eq(strlen(line), 79, "'%s'", line);
    sl_progress_free(progress);
}

Test(progress, control_characters_of_a_name_cannot_break_the_line)
{
    sl_progress *progress = sl_progress_new(1);
    sl_progress_sample sample = { .name = "a\nb\rc\033", .done = -1, .total = -1, .lag = -1 };
    char line[256];
    sl_progress_line(progress, 0, 0, &sample, 1, 80, line, sizeof line);
    cr_assert_str_eq(line, "0.0s a?b?c? 0 in 0 out 0 rec/s");
    sl_progress_free(progress);
}

/* Runs body with stderr going to a file; what was written there. */
static char *capture_stderr(void (*body)(void))
{
    char path[] = "/tmp/sluice-progress-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    body();
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    cr_assert_eq(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    return text;
}

static void status_then_log(void)
{
    sl_logger_configure(SL_LEVEL_INFO, 0);
    sl_logger_status("1.0s copy 10 in");
    sl_logger_status("1.5s copy 20 in");
    sl_warn("test", "something happened");
    sl_logger_status(NULL);
    sl_warn("test", "after it");
}

Test(progress, a_log_line_clears_the_status_line_and_draws_it_again)
{
    char *text = capture_stderr(status_then_log);
    /* Each status drawn over the last; the log line after a clear, then
     * the status again; cleared for good; a log line alone. */
    const char *draw1 = "\r1.0s copy 10 in\033[K";
    const char *draw2 = "\r1.5s copy 20 in\033[K";
    cr_assert_eq(strncmp(text, draw1, strlen(draw1)), 0, "%s", text);
    const char *at = text + strlen(draw1);
    cr_assert_eq(strncmp(at, draw2, strlen(draw2)), 0);
    at += strlen(draw2);
    cr_assert_eq(strncmp(at, "\r\033[K", 4), 0);
    at += 4;
    const char *newline = strchr(at, '\n');
    cr_assert_not_null(newline);
    cr_assert_not_null(strstr(at, " WARN test: something happened\n"));
    at = newline + 1;
    cr_assert_eq(strncmp(at, draw2, strlen(draw2)), 0, "the status is not drawn again: '%s'", at);
    at += strlen(draw2);
    cr_assert_eq(strncmp(at, "\r\033[K", 4), 0);
    at += 4;
    cr_assert_not_null(strstr(at, " WARN test: after it\n"));
    cr_assert_null(strchr(at, '\r'), "a log line without a status line has no escapes: '%s'", at);
    free(text);
}

static void status_then_print(void)
{
    sl_logger_status("2.0s copy 30 in");
    sl_logger_print("pipeline in\ncopy 30\n", 20);
    sl_logger_status(NULL);
}

Test(progress, printed_text_comes_in_one_piece_between_clearing_and_redrawing)
{
    char *text = capture_stderr(status_then_print);
    const char *want = "\r2.0s copy 30 in\033[K" "\r\033[K" "pipeline in\ncopy 30\n" "\r2.0s copy 30 in\033[K"
                       "\r\033[K";
    cr_assert_str_eq(text, want);
    free(text);
}
