/* progress.h — the text of `sluice run`'s progress line.
 *
 * One line for the whole run, redrawn in place on a terminal (the logger
 * owns the drawing: core/logger.h, sl_logger_status). Per pipeline:
 *
 *   12.5s store_users 1.2M in 1.2M out 98k rec/s 41% ETA 6s
 *
 * records in and out, the rate of records in since the previous line
 * ("done" once the pipeline has finished),
 * then what the source knows: a percent and an ETA when its size is known
 * (a file, stdin redirected from a file, a generator's count), or its lag
 * when it reads a topic ("lag 12k": records past its position). Counts and
 * rates use k/M/G suffixes. The line fits in `width` columns: a pipeline
 * part that does not fit is shortened (name 1.2M/1.2M 98k/s 41% 6s), and
 * what still does not fit is cut off.
 */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The widest line, whatever the terminal says. */
#define SL_PROGRESS_MAX_WIDTH 80

/* One pipeline as the run sees it now. */
typedef struct sl_progress_sample {
    const char *name;
    uint64_t records_in;
    uint64_t records_out;
    int64_t done;      /* the source's sl_source_progress; -1 = unknown */
    int64_t total;
    int64_t lag;
    bool is_finished;
} sl_progress_sample;

/* What the line remembers between two lines (rates, ETAs). */
typedef struct sl_progress sl_progress;

/* For n_pipelines pipelines; NULL when out of memory. The caller owns it. */
sl_progress *sl_progress_new(size_t n_pipelines);
void sl_progress_free(sl_progress *progress);

/* The line for samples (one per pipeline, in the same order every time)
 * at now_ms (monotonic; the run started at started_ms), into out (size
 * bytes, NUL-terminated), at most width columns (0: SL_PROGRESS_MAX_WIDTH;
 * never more). */
void sl_progress_line(sl_progress *progress, int64_t started_ms, int64_t now_ms,
                      const sl_progress_sample *samples, size_t n, size_t width, char *out, size_t size);

/* value with a k/M/G suffix in at most 4 characters or so: 999, 1.2k, 12k,
 * 123k, 1.2M (into out, size bytes). */
void sl_progress_count(double value, char *out, size_t size);

/* seconds as 45s, 3m05s, 2h04m, 3d04h (into out, size bytes). */
void sl_progress_duration(double seconds, char *out, size_t size);

/* The columns of the terminal on fd, at most SL_PROGRESS_MAX_WIDTH;
 * SL_PROGRESS_MAX_WIDTH when it cannot tell. */
size_t sl_progress_width(int fd);

#endif
