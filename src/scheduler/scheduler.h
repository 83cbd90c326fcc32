/* scheduler.h — the scheduler of `sluice server` (and of `sluice dag
 * test`): one thread that turns the file's DAGs into DAG runs and task
 * tries in the metadata store (metadata.h) and runs the tries this server
 * claims, each on a thread of its own (task_exec.h).
 *
 * Each pass of the loop, for every DAG of the file:
 *   - creates the scheduled runs that are due (timetable.h: an interval's
 *     run once it has ended; catchup's missed ones in order), never more
 *     than max_active_runs active at once; none while the DAG is paused,
 *     whose runs wait as they are and whose scheduled tries are not
 *     claimed (Airflow's pause: tries already running end normally);
 *   - starts queued runs (scheduled, manual, backfill) up to
 *     max_active_runs, creating their task instances;
 *   - in each running run, applies the trigger rules to tasks whose
 *     upstream tasks have finished (scheduled, skipped, upstream_failed),
 *     turns an up_for_retry try whose retry delay has passed into the next
 *     try, fails the run past dagrun_timeout, and ends the run (success or
 *     failed, task_rules.h) when every task is done;
 * then it claims scheduled tries (up to SL_SCHEDULER_MAX_RUNNING running
 * here at once) and starts them. A try's end wakes the loop at once, so a
 * dependent task starts the moment its upstream ends; otherwise the loop
 * sleeps until the next interval ends, a retry is due or a second passes.
 *
 * Several servers may share one PostgreSQL store: every change is a
 * compare-and-set or a claim that hands a row to one server, each server
 * heartbeats every SL_SCHEDULER_HEARTBEAT_MS, and the tries of a server
 * silent for SL_SCHEDULER_STALE_MS are failed or retried by the others.
 *
 * A try past its task's timeout is cancelled, so is every try of a run past
 * dagrun_timeout; stopping the scheduler cancels the tries running here and
 * records them failed (or up_for_retry when tries are left), as Airflow does
 * for a task whose worker is stopped.
 */
#ifndef SL_SCHEDULER_H
#define SL_SCHEDULER_H

#include <stdint.h>

#include "core/error.h"
#include "log/log.h"
#include "metadata/metadata.h"
#include "runtime/plan.h"
#include "scheduler/task_exec.h"

#define SL_SCHEDULER_MAX_RUNNING 16
#define SL_SCHEDULER_HEARTBEAT_MS 5000
#define SL_SCHEDULER_STALE_MS 30000
#define SL_SCHEDULER_IDLE_WAIT_MS 1000

typedef struct sl_scheduler_options {
    sl_log *log;                     /* the data dir's log (borrowed) */
    const char *data_dir;            /* task logs go under DATA_DIR/logs */
    sl_task_control_fn control;      /* how control tasks reach the pipelines; NULL: they fail */
    void *control_context;
    int64_t only_run;                /* non-zero: run this run alone (dag test): no scheduled runs are
                                      * created and only its tries are claimed */
} sl_scheduler_options;

typedef struct sl_scheduler sl_scheduler;

/* Opens plan->metadata, registers this server, records the file's DAGs and
 * starts the loop. Shares plan (sl_plan_retain). */
int sl_scheduler_start(sl_plan *plan, const sl_scheduler_options *options, sl_scheduler **out, sl_error *err);

/* Switches to the DAGs of plan (a reload): runs in progress keep their
 * tasks' definitions until their tries end; new tries use the new file.
 * Shares plan. */
int sl_scheduler_apply(sl_scheduler *scheduler, sl_plan *plan, sl_error *err);

/* Makes the loop take a pass now (a run triggered, a DAG unpaused). */
void sl_scheduler_wake(sl_scheduler *scheduler);

/* This server's id in the store ("HOST-PID-RANDOM"). */
const char *sl_scheduler_server_id(const sl_scheduler *scheduler);

/* Waits until the run of row id has ended (success or failed), or the
 * scheduler stopped; *state is the run's last state. */
int sl_scheduler_wait_run(sl_scheduler *scheduler, int64_t id, sl_meta_run_state *state, sl_error *err);

/* The DAGs of the file the scheduler was last given (at start or by a
 * reload), for readers on other threads (the HTTP API): shared with the
 * scheduler until released; each acquire is released once. */
typedef struct sl_scheduler_dags sl_scheduler_dags;
sl_scheduler_dags *sl_scheduler_dags_acquire(sl_scheduler *scheduler);
const sl_dag_set *sl_scheduler_dags_set(const sl_scheduler_dags *dags);
const sl_plan *sl_scheduler_dags_plan(const sl_scheduler_dags *dags);
void sl_scheduler_dags_release(sl_scheduler_dags *dags);

/* Makes the loop end (cancelling the tries running here) and
 * sl_scheduler_wait_run return SL_ECANCELED, without waiting for either:
 * for the thread that takes SIGINT/SIGTERM. sl_scheduler_stop is still
 * called, once no thread waits in sl_scheduler_wait_run. */
void sl_scheduler_interrupt(sl_scheduler *scheduler);

/* Cancels the tries running here, records how they ended, stops the loop
 * and frees everything. */
void sl_scheduler_stop(sl_scheduler *scheduler);

#endif
