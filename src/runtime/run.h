/* run.h — running a plan's pipelines together until they are done
 * (`sluice run`).
 *
 * A run opens the data dir, creates every selected pipeline, opens all
 * sinks before any source (so topics written in the run exist), starts
 * them, and waits. It ends when every pipeline has finished: bounded
 * sources exhausted, and topic-fed pipelines caught up with their topic
 * while no pipeline of the run still writes it (unless `follow`), or when
 * the duration elapses or a stop is requested (SIGINT/SIGTERM), in which
 * case in-flight batches are drained and positions committed.
 *
 * A run reports success only when it has its data: a pipeline whose source
 * ends by itself (a file, a generator with a count, a topic without
 * --follow, a Kafka topic verified consumed) but was stopped before that
 * end is cut short, and the run fails with SL_EINCOMPLETE when --for
 * stopped it ("incomplete" in the summary) or SL_EINTERRUPTED when a signal
 * did ("interrupted"). Sources that never end by themselves (--follow, a
 * generator without a count, `tail`) end normally when stopped.
 * docs/operations.md lists the verdicts and their exit codes.
 */
#ifndef SL_RUN_H
#define SL_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "log/log.h"
#include "runtime/pipeline.h"
#include "runtime/plan.h"

typedef struct sl_run_options {
    const char *only_pipeline;  /* NULL = every pipeline of the file */
    bool follow;                /* topic sources never end */
    int64_t duration_ms;        /* 0 = no limit */
    bool show_progress;         /* the progress line (progress.h) on stderr, through the logger */
    bool show_summary;          /* the closing summary on stderr, in one piece (sl_logger_print) */
    /* For runs inside `sluice server` (a DAG task's pipeline): */
    sl_log *log;                /* the server's open log (borrowed); NULL = open and lock the data dir */
    const atomic_bool *stop;    /* set to stop the run (a timeout, a cancel); NULL = signals only */
    FILE *summary_file;         /* with show_summary: the summary goes here instead of stderr */
    /* Optional (`--metrics-listen`): called with the run's log and its
     * pipelines once they are started, and with NULL, 0 before they are
     * freed, from the run's thread. */
    void (*on_pipelines)(void *context, sl_log *log, sl_pipeline *const *pipelines, size_t n);
    void *pipelines_context;
} sl_run_options;

/* Whether a pipeline the run selects has a sink writing stdout (stdio). */
bool sl_run_writes_stdout(const sl_plan *plan, const sl_run_options *options);

/* Asks a run in progress to stop because of signal_number (async-signal-safe);
 * for `sluice run`: runs with options->log (a server's) leave signals to it. */
void sl_run_request_stop(int signal_number);

/* The signal that asked the last run to stop; 0 when none did. */
int sl_run_stop_signal(void);

/* Runs plan. SL_OK when every pipeline finished with its data; otherwise
 * the first failure, with the pipeline named in err, or SL_EINCOMPLETE / 
 * SL_EINTERRUPTED for pipelines cut short (above). */
int sl_run_plan(const sl_plan *plan, const sl_run_options *options, sl_error *err);

#endif
