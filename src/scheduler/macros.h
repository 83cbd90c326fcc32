/* macros.h — Airflow-style run macros in a DAG task's settings.
 *
 * A task's settings may name values known only when the task runs, as
 * Airflow's templates do: `${ds}`, `${ts}`, `${data_interval_start}`,
 * `${run_id}`... (the table in macros.c is the one list of them). The config
 * loader leaves these references as they are written (config/interpolate.c
 * asks sl_macros_is_name), and the scheduler expands them here with the
 * run's context just before the task runs:
 *   ${name}    the macro's value, for a name of the table
 *   $${        a literal "${" (so `$${ds}` gives `${ds}`)
 * Any other `${...}` is left as it is. Dates are rendered in context->tz
 * (the DAG's zone) when it is not NULL, else in UTC: `ds` is the local date
 * of the logical date in that zone, `ts` its ISO 8601 time with the zone's
 * offset (2026-12-03T00:00:00+00:00).
 *
 * Command tasks also get the context as environment variables (SLUICE_DS,
 * SLUICE_TS, SLUICE_RUN_ID...), like Airflow's AIRFLOW_CTX_* variables.
 * Pure functions; thread-safe.
 */
#ifndef SL_MACROS_H
#define SL_MACROS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tz.h"

typedef struct sl_macro_context {
    const char *dag_id, *task_id, *run_id;   /* borrowed; NULL renders as "" */
    int64_t data_interval_start_us;          /* the logical date; µs since the epoch */
    int64_t data_interval_end_us;
    int try_number;                          /* 1 for the first attempt */
    const sl_tz *tz;                         /* borrowed; NULL = UTC */
} sl_macro_context;

/* Whether the len bytes at name are the name of a run macro ("ds"). */
bool sl_macros_is_name(const char *name, size_t len);

/* The name of the index-th run macro, in table order; NULL past the last. */
const char *sl_macros_name(size_t index);

/* text with every run macro replaced, into *out (malloc'ed, NUL-ended; the
 * caller frees it). SL_ENOMEM, or SL_EINVAL for a NULL argument, with err
 * saying so. */
int sl_macros_expand(const char *text, const sl_macro_context *context, char **out, sl_error *err);

/* The context as "SLUICE_DS=2026-12-03"-style entries, NULL-ended, for a
 * command's environment (sl_command_spec.env, through a cast to
 * const char *const *). Free with sl_macros_env_free. */
int sl_macros_env(const sl_macro_context *context, char ***env, sl_error *err);

/* Frees what sl_macros_env made; accepts NULL. */
void sl_macros_env_free(char **env);

#endif
