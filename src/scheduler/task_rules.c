/* task_rules.c — trigger rules, retry delays and a run's outcome (see
 * task_rules.h), following Airflow's TriggerRuleDep: a rule that cannot be
 * met any more decides at once (upstream_failed or skipped), one that can
 * waits. Retry delays grow without Airflow's hash-based jitter (which adds
 * up to as much again), so the waits are predictable. */
#include "scheduler/task_rules.h"

#include <string.h>

static const char *const state_names[] = { "none",   "scheduled",    "queued",          "running", "success",
                                           "failed", "up_for_retry", "upstream_failed", "skipped", NULL };
static const char *const rule_names[] = { "all_success", "all_done", "one_success", "one_failed", "none_failed",
                                          NULL };

const char *sl_task_state_name(sl_task_state state)
{
    return state >= SL_TASK_NONE && state <= SL_TASK_SKIPPED ? state_names[state] : NULL;
}

const char *sl_trigger_rule_name(sl_trigger_rule rule)
{
    return rule >= SL_TRIGGER_ALL_SUCCESS && rule <= SL_TRIGGER_NONE_FAILED ? rule_names[rule] : NULL;
}

int sl_trigger_rule_parse(const char *name)
{
    for (int i = 0; rule_names[i]; i++)
        if (strcmp(rule_names[i], name) == 0) return i;
    return -1;
}

int sl_task_state_is_done(sl_task_state state)
{
    return state == SL_TASK_SUCCESS || state == SL_TASK_FAILED || state == SL_TASK_UPSTREAM_FAILED ||
           state == SL_TASK_SKIPPED;
}

sl_trigger_decision sl_trigger_decide(sl_trigger_rule rule, const sl_task_state *upstream, size_t n_upstream)
{
    size_t success = 0, failed = 0, skipped = 0, done = 0;
    for (size_t i = 0; i < n_upstream; i++) {
        success += upstream[i] == SL_TASK_SUCCESS;
        failed += upstream[i] == SL_TASK_FAILED || upstream[i] == SL_TASK_UPSTREAM_FAILED;
        skipped += upstream[i] == SL_TASK_SKIPPED;
        done += (size_t)sl_task_state_is_done(upstream[i]);
    }
    int is_all_done = done == n_upstream;
    switch (rule) {
    case SL_TRIGGER_ALL_SUCCESS:
        if (failed) return SL_TRIGGER_UPSTREAM_FAILED;
        if (skipped) return SL_TRIGGER_SKIP;
        return is_all_done ? SL_TRIGGER_RUN : SL_TRIGGER_WAIT;
    case SL_TRIGGER_ALL_DONE:
        return is_all_done ? SL_TRIGGER_RUN : SL_TRIGGER_WAIT;
    case SL_TRIGGER_ONE_SUCCESS:
        if (success || n_upstream == 0) return SL_TRIGGER_RUN;
        if (!is_all_done) return SL_TRIGGER_WAIT;
        return skipped == n_upstream ? SL_TRIGGER_SKIP : SL_TRIGGER_UPSTREAM_FAILED;
    case SL_TRIGGER_ONE_FAILED:
        if (failed || n_upstream == 0) return SL_TRIGGER_RUN;
        return is_all_done ? SL_TRIGGER_SKIP : SL_TRIGGER_WAIT;
    case SL_TRIGGER_NONE_FAILED:
        if (failed) return SL_TRIGGER_UPSTREAM_FAILED;
        return is_all_done ? SL_TRIGGER_RUN : SL_TRIGGER_WAIT;
    }
    return SL_TRIGGER_WAIT;
}

int64_t sl_retry_delay_ms(int64_t retry_delay_ms, int exponential_backoff, int64_t max_delay_ms, int try_number)
{
    int64_t delay = retry_delay_ms;
    for (int i = 1; exponential_backoff && i < try_number; i++) {
        if (delay > INT64_MAX / 2) {
            delay = INT64_MAX;
            break;
        }
        delay *= 2;
    }
    if (max_delay_ms > 0 && delay > max_delay_ms) delay = max_delay_ms;
    return delay;
}

sl_task_state sl_dag_run_outcome(const sl_task_state *states, const int *is_leaf, size_t n_tasks)
{
    sl_task_state outcome = SL_TASK_SUCCESS;
    for (size_t i = 0; i < n_tasks; i++) {
        if (!sl_task_state_is_done(states[i])) return SL_TASK_RUNNING;
        if (is_leaf[i] && states[i] != SL_TASK_SUCCESS && states[i] != SL_TASK_SKIPPED) outcome = SL_TASK_FAILED;
    }
    return outcome;
}

sl_task_state sl_task_state_of_meta(sl_meta_ti_state state)
{
    static const sl_task_state states[SL_META_TI_STATE_COUNT] = {
        [SL_META_TI_NONE] = SL_TASK_NONE,
        [SL_META_TI_SCHEDULED] = SL_TASK_SCHEDULED,
        [SL_META_TI_QUEUED] = SL_TASK_QUEUED,
        [SL_META_TI_RUNNING] = SL_TASK_RUNNING,
        [SL_META_TI_SUCCESS] = SL_TASK_SUCCESS,
        [SL_META_TI_FAILED] = SL_TASK_FAILED,
        [SL_META_TI_UP_FOR_RETRY] = SL_TASK_UP_FOR_RETRY,
        [SL_META_TI_UPSTREAM_FAILED] = SL_TASK_UPSTREAM_FAILED,
        [SL_META_TI_SKIPPED] = SL_TASK_SKIPPED,
    };
    return (size_t)state < SL_META_TI_STATE_COUNT ? states[state] : SL_TASK_NONE;
}
