/* metrics_run.h — `sluice run FILE --metrics-listen ADDR`: /metrics and
 * /healthz on ADDR while the run runs, for its pipelines and the data
 * dir's topics and groups (metrics.h's gathering, without DAGs: a run has
 * no scheduler).
 *
 * The run hands its pipelines to sl_metrics_run_watch (an
 * sl_run_options.on_pipelines callback) once they are started, and takes
 * them back (NULL, 0) before it frees them; handlers read them under the
 * listener's mutex, so a scrape never sees a freed pipeline. Before the
 * pipelines start and after they end, /metrics answers with the process
 * families alone.
 */
#ifndef SL_METRICS_RUN_H
#define SL_METRICS_RUN_H

#include <stddef.h>

#include "core/error.h"
#include "log/log.h"
#include "runtime/pipeline.h"

typedef struct sl_metrics_run sl_metrics_run;

/* Starts serving on listen ("HOST:PORT"; port 0 picks one, logged). */
int sl_metrics_run_start(const char *listen, sl_metrics_run **out, sl_error *err);

/* The port bound. */
int sl_metrics_run_port(const sl_metrics_run *listener);

/* The run's callback (context: the listener): its log and started
 * pipelines, or NULL, 0 when they are about to be freed. */
void sl_metrics_run_watch(void *context, sl_log *log, sl_pipeline *const *pipelines, size_t n);

/* Stops serving and frees. */
void sl_metrics_run_stop(sl_metrics_run *listener);

#endif
