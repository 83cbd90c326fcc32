/* plan_dags.h — checking the `dags:` block of a config file (plan.c calls
 * it once the pipelines are loaded, so tasks can name them). */
#ifndef SL_PLAN_DAGS_H
#define SL_PLAN_DAGS_H

#include "config/diagnostics.h"
#include "runtime/plan.h"

/* Reports every mistake of dags (a mapping) to diags. SL_OK, SL_ECONFIG
 * when it reported one, SL_ENOMEM. */
int sl__plan_check_dags(const sl_plan *plan, const sl_node *dags, sl_diagnostics *diags);

/* Reports each pipeline no DAG task runs (dags may be NULL) that names a
 * run macro (${ds}...): nothing would ever expand it. */
int sl__plan_check_macros(const sl_plan *plan, const sl_node *dags, sl_diagnostics *diags);

#endif
