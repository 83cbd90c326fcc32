/* task_rules.h — the rules a scheduler applies to task instances, as
 * Airflow's users know them, in pure functions: what a task's trigger
 * rule makes of its upstream tasks' states, how long a retry waits, and
 * the state a DAG run ends in (and the rules' view of a stored state).
 */
#ifndef SL_TASK_RULES_H
#define SL_TASK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "metadata/metadata.h"

typedef enum sl_task_state {
    SL_TASK_NONE,
    SL_TASK_SCHEDULED,
    SL_TASK_QUEUED,
    SL_TASK_RUNNING,
    SL_TASK_SUCCESS,
    SL_TASK_FAILED,
    SL_TASK_UP_FOR_RETRY,
    SL_TASK_UPSTREAM_FAILED,
    SL_TASK_SKIPPED,
} sl_task_state;

typedef enum sl_trigger_rule {
    SL_TRIGGER_ALL_SUCCESS,   /* the default: every upstream succeeded */
    SL_TRIGGER_ALL_DONE,      /* every upstream finished, however */
    SL_TRIGGER_ONE_SUCCESS,   /* at least one upstream succeeded (runs at once) */
    SL_TRIGGER_ONE_FAILED,    /* at least one upstream failed (runs at once) */
    SL_TRIGGER_NONE_FAILED,   /* every upstream finished and none failed (skips are fine) */
} sl_trigger_rule;

/* What the rule decides for a task not started yet. */
typedef enum sl_trigger_decision {
    SL_TRIGGER_WAIT,          /* not decided until more upstream tasks finish */
    SL_TRIGGER_RUN,
    SL_TRIGGER_SKIP,          /* the task becomes skipped */
    SL_TRIGGER_UPSTREAM_FAILED,
} sl_trigger_decision;

/* Names as written in the file and shown in the API; NULL past the end. */
/* The rules' view of a task instance's stored state. */
sl_task_state sl_task_state_of_meta(sl_meta_ti_state state);

const char *sl_task_state_name(sl_task_state state);
const char *sl_trigger_rule_name(sl_trigger_rule rule);
int sl_trigger_rule_parse(const char *name);   /* -1 for an unknown name */

/* Whether a task in state is finished for its dependents (success,
 * failed, upstream_failed, skipped). */
int sl_task_state_is_done(sl_task_state state);

sl_trigger_decision sl_trigger_decide(sl_trigger_rule rule, const sl_task_state *upstream, size_t n_upstream);

/* The wait before try number try_number + 1 after try try_number (1 =
 * the first) failed: retry_delay_ms, doubled per earlier try with
 * exponential backoff, never above max_delay_ms (0 = no cap). */
int64_t sl_retry_delay_ms(int64_t retry_delay_ms, int exponential_backoff, int64_t max_delay_ms, int try_number);

/* A DAG run whose tasks are all done: success when every leaf task (one
 * no task depends on) succeeded or was skipped, else failed. Returns
 * SL_TASK_SUCCESS or SL_TASK_FAILED, or SL_TASK_RUNNING while a task is
 * not done. */
sl_task_state sl_dag_run_outcome(const sl_task_state *states, const int *is_leaf, size_t n_tasks);

#endif
