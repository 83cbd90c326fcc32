/* supervisor.h — the continuous pipelines of `sluice server`.
 *
 * Each continuous pipeline (one no DAG task runs: those are the
 * scheduler's) gets a keeper thread that builds it, opens it, runs it with
 * --follow semantics and, when it fails, records the failure and starts it
 * again after an exponential backoff (SL_RESTART_FIRST_MS doubling to
 * SL_RESTART_MAX_MS; a pipeline that ran SL_RESTART_HEALTHY_MS resets it).
 * After SL_RESTART_GIVE_UP failures in a row without a healthy run it is
 * left failed, with its reason, until the config is reloaded. A pipeline
 * whose source ends by itself is finished, not restarted.
 *
 * Reload: sl_supervisor_apply compares each pipeline's fingerprint (its
 * config block and the file's topics: block) with the running one's; a
 * changed pipeline is drained and started from the new plan, a removed one
 * drained, a new one started, and an unchanged one keeps running untouched.
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
#include "runtime/plan.h"

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
 * "stopped":[...],"unchanged":[...]}. */
int sl_supervisor_apply(sl_supervisor *supervisor, sl_plan *plan, sl_buffer *changes, sl_error *err);

/* Joins the keepers of pipelines that were drained; call it now and then. */
void sl_supervisor_tick(sl_supervisor *supervisor);

/* Whether every pipeline meant to run is running (for /readyz). */
bool sl_supervisor_is_ready(sl_supervisor *supervisor);

/* Appends a JSON array describing each pipeline: name, state, records and
 * bytes in/out, dead letters, restarts with their times and reasons, the
 * last error. Safe from any thread. */
int sl_supervisor_snapshot(sl_supervisor *supervisor, sl_buffer *out);

/* Drains every pipeline and frees everything. Returns SL_OK, or the
 * failure of a pipeline that did not drain cleanly (in err). */
int sl_supervisor_free(sl_supervisor *supervisor, sl_error *err);

#endif
