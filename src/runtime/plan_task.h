/* plan_task.h — the plan of a pipeline as a DAG task runs it: the
 * pipeline's block with the task's overrides put in (dotted setting paths
 * to values) and every scalar passed through a function (the scheduler's
 * run macros: ${ds}, ${run_id}...), checked as `sluice validate` checks a
 * pipeline. plan_dags.c builds it without macros to check the overrides;
 * the scheduler builds it for each try.
 */
#ifndef SL_PLAN_TASK_H
#define SL_PLAN_TASK_H

#include "config/node_edit.h"
#include "runtime/plan.h"

/* The plan for the pipeline called name of base with overrides (a map, or
 * NULL) and fn (NULL: scalars as written). When neither changes anything,
 * *out is base itself, shared (sl_plan_retain): either way the caller frees
 * *out with sl_plan_free. A mistake is SL_ECONFIG, err at its position. */
int sl_plan_for_task(sl_plan *base, const char *name, const sl_node *overrides, sl_node_scalar_fn fn, void *context,
                     sl_plan **out, sl_error *err);

#endif
