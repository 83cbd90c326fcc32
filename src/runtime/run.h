/* run.h — running a plan's pipelines together until they are done
 * (`sluice run`, DESIGN §11).
 *
 * A run opens the data dir, creates every selected pipeline, opens all
 * sinks before any source (so topics written in the run exist), starts
 * them, and waits. It ends when every pipeline has finished: bounded
 * sources exhausted, and topic-fed pipelines caught up with their topic
 * while no pipeline of the run still writes it (unless `follow`), or when
 * the duration elapses or a stop is requested (SIGINT/SIGTERM), in which
 * case in-flight batches are drained and positions committed. A signal
 * that stops pipelines of a bounded run before they finished interrupts
 * the run: those pipelines end in state `interrupted` and the run returns
 * SL_EINTERRUPTED (a `follow` run has no end of its own: a signal ends it
 * ok).
 */
#ifndef SL_RUN_H
#define SL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "runtime/plan.h"

typedef struct sl_run_options {
    const char *only_pipeline;  /* NULL = every pipeline of the file */
    bool follow;                /* topic sources never end */
    int64_t duration_ms;        /* 0 = no limit */
    FILE *progress;             /* live progress line goes here; NULL = none */
    FILE *summary;              /* the closing summary; NULL = none */
} sl_run_options;

/* Asks a run in progress to stop (async-signal-safe); signal_number is the
 * signal that asked (SIGINT, SIGTERM). */
void sl_run_request_stop(int signal_number);

/* The signal of the last stop request (0 = none). */
int sl_run_stop_signal(void);

/* Runs plan. SL_OK when every pipeline finished; SL_EINTERRUPTED when a
 * signal stopped a bounded run before it finished (see above); otherwise
 * the first failure, with the pipeline named in err. */
int sl_run_plan(const sl_plan *plan, const sl_run_options *options, sl_error *err);

#endif
