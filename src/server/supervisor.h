/* supervisor.h — the continuous pipelines of `sluice server`.
 *
 * Each continuous pipeline (one no DAG task runs: those are the
 * scheduler's) gets a keeper thread that builds it, opens it, runs it with
 * --follow semantics and, when it fails, records the failure and starts it
 * again after an exponential backoff (SL_RESTART_FIRST_MS doubling to
 * SL_RESTART_MAX_MS; a pipeline that ran SL_RESTART_HEALTHY_MS resets it).
 * After SL_RESTART_GIVE_UP failures in a row without a healthy run it is
 * left failed, with its reason, until the config is reloaded or it is
 * started. A pipeline whose source ends by itself is finished, not
 * restarted.
 *
 * Control (sl_supervisor_control): stop drains a pipeline as a reload that
 * removed it would, returns once its positions are committed, and leaves it
 * "stopped" (with who stopped it) until a start or restart; start runs a
 * stopped, failed or finished pipeline again from the current plan, its
 * counters and restart history carried over; restart is a stop and a start,
 * counted as a restart with "restarted by WHO" as its reason.
 *
 * Reload: sl_supervisor_apply compares each pipeline's fingerprint (its
 * config block and the file's topics: block) with the running one's; a
 * changed pipeline is drained and started from the new plan, a removed one
 * drained, a new one started, and an unchanged one keeps running untouched.
 * A stopped pipeline stays stopped across reloads, whether its config
 * changed or not (a later start runs the config current then); it is
 * drained away only when the file no longer has it as a continuous one.
 * Plans are reference-counted: a plan is freed when no pipeline runs from
 * it any more.
 *
 * All functions are called from one thread (the server's main loop), except
 * sl_supervisor_snapshot, which HTTP handlers may call at any time.
 */
#ifndef SL_SUPERVISOR_H
#define SL_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "core/error.h"
#include "log/log.h"
#include "runtime/pipeline_metrics.h"
#include "runtime/plan.h"
#include "runtime/control.h"

#define SL_RESTART_FIRST_MS 1000
#define SL_RESTART_MAX_MS (5 * 60 * 1000)
#define SL_RESTART_HEALTHY_MS (60 * 1000)
#define SL_RESTART_GIVE_UP 10

typedef struct sl_supervisor sl_supervisor;

/* A supervisor of pipelines writing to log (borrowed). */
int sl_supervisor_new(sl_log *log, sl_supervisor **out, sl_error *err);

/* Takes plan (the supervisor owns it from here on, also on failure) and
 * starts, restarts or stops pipelines to match it. Fills `changes` (when
 * not NULL) with a JSON object {"started":[...],"restarted":[...],
 * "stopped":[...],"unchanged":[...],"left_stopped":[...]} (left_stopped:
 * the pipelines a control command stopped, which stay stopped). */
int sl_supervisor_apply(sl_supervisor *supervisor, sl_plan *plan, sl_buffer *changes, sl_error *err);

/* Starts, stops or restarts the continuous pipeline called pipeline;
 * reason says who asks ("the HTTP API (POST ...)", "dag etl run R task T"):
 * a stop records it as the pipeline's stopped_by, a restart in its restart
 * history. Returns once done, a stop once the pipeline has drained and
 * committed its positions (this thread waits for that). Fills detail with
 * what happened ("stopped: drained, ...", "already stopped", "already
 * running", "started", "restarted: ..."). SL_ENOTFOUND for a name that is
 * no pipeline of the file, SL_EINVAL for one DAG tasks run; a stop whose run
 * failed while draining returns that failure (the pipeline is stopped). */
int sl_supervisor_control(sl_supervisor *supervisor, const char *pipeline, sl_control_action action,
                          const char *reason, char *detail, size_t detail_size, sl_error *err);

/* Joins the keepers of pipelines that were drained; call it now and then. */
void sl_supervisor_tick(sl_supervisor *supervisor);

/* Whether every pipeline meant to run is running (for /readyz): running,
 * finished by itself, or stopped by a control command. */
bool sl_supervisor_is_ready(sl_supervisor *supervisor);

/* Appends a JSON array describing each pipeline: name, state, records and
 * bytes in/out, dead letters, restarts with their times and reasons, the
 * last error, who stopped it, and its metrics (bytes out, errors, lag, the
 * source's partitions; rates 0). Safe from any thread. */
int sl_supervisor_snapshot(sl_supervisor *supervisor, sl_buffer *out);

/* Rates of a pipeline per second, over the latest history interval. */
typedef struct sl_pipeline_rates {
    double records_in_per_s, records_out_per_s, bytes_in_per_s, bytes_out_per_s, dead_letters_per_s;
} sl_pipeline_rates;

/* Fills *rates for the pipeline called name; false when not known yet. */
typedef bool (*sl_pipeline_rates_fn)(void *context, const char *name, sl_pipeline_rates *rates);

/* As sl_supervisor_snapshot, with the rates rates gives (NULL: 0); name
 * NULL: the array of every pipeline, else that one's object alone
 * (SL_ENOTFOUND when it is no continuous pipeline). Safe from any thread. */
int sl_supervisor_describe(sl_supervisor *supervisor, const char *name, sl_pipeline_rates_fn rates,
                           void *rates_context, sl_buffer *out);

/* Which pipelines a page of the list holds: by name, those whose name
 * starts with prefix (NULL: any) and whose state is state (NULL: any),
 * after the name after ("" for the first page), at most limit. */
typedef struct sl_pipeline_page {
    const char *prefix;
    const char *state;
    const char *after;
    size_t limit;
    /* Filled: the last name of the page when more follow, else "". */
    char next_after[256];
} sl_pipeline_page;

/* Whether state is one a pipeline object may have ("running", ...). */
bool sl_supervisor_is_state_name(const char *state);

/* A page of the list (see sl_pipeline_page) as a JSON array of pipeline
 * objects, with rates as sl_supervisor_describe. Safe from any thread. */
int sl_supervisor_describe_page(sl_supervisor *supervisor, sl_pipeline_page *page, sl_pipeline_rates_fn rates,
                                void *rates_context, sl_buffer *out);

/* One continuous pipeline's counters, as the metrics read them. */
typedef struct sl_supervised_pipeline {
    char name[SL_METRICS_NAME_MAX];
    const char *state;               /* "running", "backoff"... (static text) */
    bool is_up;                      /* running now */
    int n_restarts;
    int n_failures;                  /* runs that failed */
    sl_pipeline_metrics metrics;     /* every run's counters; the running one's lag (-1 when none runs) and partitions */
} sl_supervised_pipeline;

/* Copies every continuous pipeline's metrics into *out (n_out of them;
 * free with sl_supervised_pipelines_free). Safe from any thread. SL_ENOMEM. */
int sl_supervisor_read_metrics(sl_supervisor *supervisor, sl_supervised_pipeline **out, size_t *n_out);
void sl_supervised_pipelines_free(sl_supervised_pipeline *pipelines, size_t n);

/* Drains every pipeline and frees everything. Returns SL_OK, or the
 * failure of a pipeline that did not drain cleanly (in err). */
int sl_supervisor_free(sl_supervisor *supervisor, sl_error *err);

#endif
