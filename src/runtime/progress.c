/* progress.c — the text of `sluice run`'s progress line (see progress.h). */
#include "runtime/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PART_MAX 256         /* one pipeline's part of the line */
#define LINE_MAX_BYTES 1024  /* the line before it is fitted */

typedef struct pipeline_history {
    uint64_t last_in;        /* records in at the previous line */
    int64_t last_ms;         /* when that was; 0 = no line yet */
    bool is_done_known;      /* first_done is set */
    int64_t first_done;      /* the source's done when first known (for the ETA's rate) */
    int64_t first_done_ms;
} pipeline_history;

struct sl_progress {
    pipeline_history *pipelines;
    size_t n_pipelines;
};

sl_progress *sl_progress_new(size_t n_pipelines)
{
    sl_progress *progress = calloc(1, sizeof *progress);
    if (!progress) return NULL;
    progress->pipelines = calloc(n_pipelines ? n_pipelines : 1, sizeof *progress->pipelines);
    if (!progress->pipelines) {
        free(progress);
        return NULL;
    }
    progress->n_pipelines = n_pipelines;
    return progress;
}

void sl_progress_free(sl_progress *progress)
{
    if (!progress) return;
    free(progress->pipelines);
    free(progress);
}

void sl_progress_count(double value, char *out, size_t size)
{
    static const char suffixes[] = { 'k', 'M', 'G', 'T', 'P' };
    if (value < 0) value = 0;
    if (value < 999.5) {
        snprintf(out, size, "%.0f", value);
        return;
    }
    size_t i = 0;
    value /= 1000.0;
    /* 1.2k up to 9.9k, then 12k up to 999k, then the next suffix. */
    while (value >= 999.5 && i + 1 < sizeof suffixes) {
        value /= 1000.0;
        i++;
    }
    if (value < 9.95) snprintf(out, size, "%.1f%c", value, suffixes[i]);
    else snprintf(out, size, "%.0f%c", value, suffixes[i]);
}

void sl_progress_duration(double seconds, char *out, size_t size)
{
    if (seconds < 0) seconds = 0;
    uint64_t s = (uint64_t)(seconds + 0.5);
    if (s < 60) snprintf(out, size, "%" PRIu64 "s", s);
    else if (s < 3600) snprintf(out, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400) snprintf(out, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    else snprintf(out, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

size_t sl_progress_width(int fd)
{
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return SL_PROGRESS_MAX_WIDTH;
    return size.ws_col < SL_PROGRESS_MAX_WIDTH ? size.ws_col : SL_PROGRESS_MAX_WIDTH;
}

/* Appends text to out (size bytes) at *len, as much as fits. */
static void append(char *out, size_t size, size_t *len, const char *text)
{
    int n = snprintf(out + *len, size - *len, "%s", text);
    if (n < 0) return;
    *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

/* A name as one line of printable text: control characters become '?'. */
static void copy_name(const char *name, char *out, size_t size)
{
    size_t i = 0;
    for (; name && name[i] && i + 1 < size; i++)
        out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    out[i] = '\0';
}

/* What the source knows, for one pipeline: " 41% ETA 6s", " lag 12k", or "". */
static void source_part(const sl_progress_sample *sample, const pipeline_history *history, int64_t now_ms,
                        bool is_compact, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    char text[64];
    if (sample->total > 0 && sample->done >= 0) {
        int64_t done = sample->done < sample->total ? sample->done : sample->total;
        snprintf(text, sizeof text, " %d%%", (int)(done * 100 / sample->total));
        append(out, size, &len, text);
        int64_t remaining = sample->total - done;
        double seconds = (double)(now_ms - history->first_done_ms) / 1000.0;
        double rate = history->is_done_known && seconds > 0 ? (double)(done - history->first_done) / seconds : 0;
        if (!sample->is_finished && remaining > 0 && rate > 0) {
            char eta[32];
            sl_progress_duration((double)remaining / rate, eta, sizeof eta);
            snprintf(text, sizeof text, is_compact ? " %s" : " ETA %s", eta);
            append(out, size, &len, text);
        }
    } else if (sample->lag >= 0) {
        char lag[32];
        sl_progress_count((double)sample->lag, lag, sizeof lag);
        snprintf(text, sizeof text, " lag %s", lag);
        append(out, size, &len, text);
    }
}

/* One pipeline's part: "name 1.2M in 1.2M out 98k rec/s 41% ETA 6s", or
 * compact "name 1.2M/1.2M 98k/s 41% 6s"; "done" in place of the rate once
 * the pipeline has finished. */
static void pipeline_part(const sl_progress_sample *sample, const pipeline_history *history, double rate,
                          int64_t now_ms, bool is_compact, char *out, size_t size)
{
    char name[PART_MAX / 2], in[32], records_out[32], per_second[32], source[96];
    copy_name(sample->name, name, sizeof name);
    sl_progress_count((double)sample->records_in, in, sizeof in);
    sl_progress_count((double)sample->records_out, records_out, sizeof records_out);
    sl_progress_count(rate, per_second, sizeof per_second);
    source_part(sample, history, now_ms, is_compact, source, sizeof source);
    char speed[48];
    if (sample->is_finished) snprintf(speed, sizeof speed, "done");
    else snprintf(speed, sizeof speed, is_compact ? "%s/s" : "%s rec/s", per_second);
    if (is_compact)
        snprintf(out, size, "%s %s/%s %s%s", name, in, records_out, speed, source);
    else
        snprintf(out, size, "%s %s in %s out %s%s", name, in, records_out, speed, source);
}

/* Columns of UTF-8 text (one per character; no double-width ones). */
static size_t columns_of(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80) n++;
    return n;
}

/* Cuts text after `columns` characters, and the blanks it then ends with. */
static void cut_to_columns(char *text, size_t columns)
{
    size_t n = 0;
    for (unsigned char *p = (unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80 && n++ == columns) {
            *p = '\0';
            break;
        }
    }
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == ' ') text[--len] = '\0';
}

/* The line with every pipeline's part full or compact, into out. */
static void build_line(const char *prefix, char parts[][PART_MAX], size_t n, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    append(out, size, &len, prefix);
    for (size_t i = 0; i < n; i++) {
        append(out, size, &len, i ? "  " : " ");
        append(out, size, &len, parts[i]);
    }
}

void sl_progress_line(sl_progress *progress, int64_t started_ms, int64_t now_ms,
                      const sl_progress_sample *samples, size_t n, size_t width, char *out, size_t size)
{
    if (size == 0) return;
    out[0] = '\0';
    if (n > progress->n_pipelines) n = progress->n_pipelines;
    if (width == 0 || width > SL_PROGRESS_MAX_WIDTH) width = SL_PROGRESS_MAX_WIDTH;
    /* The last column stays empty: a terminal wraps, or erases, at it. */
    size_t columns = width - 1;

    char prefix[32];
    double elapsed = (double)(now_ms - started_ms) / 1000.0;
    if (elapsed < 60) snprintf(prefix, sizeof prefix, "%.1fs", elapsed < 0 ? 0.0 : elapsed);
    else sl_progress_duration(elapsed, prefix, sizeof prefix);

    char (*full)[PART_MAX] = calloc(n ? n : 1, sizeof *full);
    char (*compact)[PART_MAX] = calloc(n ? n : 1, sizeof *compact);
    char *line = malloc(LINE_MAX_BYTES);
    if (!full || !compact || !line) {
        snprintf(out, size, "%s", prefix);  /* no memory for more: still a line */
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        pipeline_history *history = &progress->pipelines[i];
        const sl_progress_sample *sample = &samples[i];
        int64_t since_ms = history->last_ms ? history->last_ms : started_ms;
        double seconds = (double)(now_ms - since_ms) / 1000.0;
        uint64_t new_in = sample->records_in > history->last_in ? sample->records_in - history->last_in : 0;
        double rate = seconds > 0 ? (double)new_in / seconds : 0.0;
        if (sample->is_finished) rate = 0;
        history->last_in = sample->records_in;
        history->last_ms = now_ms;
        if (!history->is_done_known && sample->done >= 0) {
            history->is_done_known = true;
            history->first_done = sample->done;
            history->first_done_ms = now_ms;
        }
        pipeline_part(sample, history, rate, now_ms, false, full[i], PART_MAX);
        pipeline_part(sample, history, rate, now_ms, true, compact[i], PART_MAX);
    }
    build_line(prefix, full, n, line, LINE_MAX_BYTES);
    if (columns_of(line) > columns) build_line(prefix, compact, n, line, LINE_MAX_BYTES);
    cut_to_columns(line, columns);
    snprintf(out, size, "%s", line);
done:
    free(full);
    free(compact);
    free(line);
}
