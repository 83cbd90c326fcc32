/* dag_body.h — what the DAG endpoints that change the store share
 * (dag_actions.c, dag_mark.c): reading a JSON request body whose every
 * field is checked (an unknown one, a wrong type or a bad date is a 400
 * naming it), choosing tasks by name with their downstream ones, finding a
 * run's row and state, and the status a store failure is answered with.
 * Each function that can refuse fills the response with the 400 and
 * returns false.
 */
#ifndef SL_DAG_BODY_H
#define SL_DAG_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"
#include "metadata/metadata.h"
#include "scheduler/dag.h"
#include "server/http.h"

/* The body as a JSON object (an empty body is {}), every key one of
 * allowed (NULL-ended); values live in arena. */
bool sl_dag_body_parse(sl_arena *arena, const char *body, size_t len, const char *const *allowed, sl_value *object,
                       sl_http_response *out);

/* The member called name, or NULL when absent or null. */
const sl_value *sl_dag_body_field(const sl_value *object, const char *name);

/* A string of 1 to size - 1 bytes copied into text. */
bool sl_dag_body_string(const sl_value *value, const char *name, char *text, size_t size, sl_http_response *out);

/* An ISO 8601 date (UTC without an offset) as µs. */
bool sl_dag_body_date(const sl_value *value, const char *name, int64_t *us, sl_http_response *out);

bool sl_dag_body_bool(const sl_value *value, const char *name, bool *flag, sl_http_response *out);

/* The tasks named in names (a JSON list; NULL: every task), and with
 * downstream every task downstream of them: chosen[t] for dag->tasks[t]. */
bool sl_dag_api_choose_tasks(const sl_dag *dag, const sl_value *names, bool downstream, bool *chosen,
                             sl_http_response *out);

/* Adds to chosen every task downstream of one chosen. */
void sl_dag_add_downstream(const sl_dag *dag, bool *chosen);

/* 400 for bad arguments (SL_EINVAL), else 503 or 500 by the error's class. */
int sl_dag_api_status_of(int rc, const sl_error *err);

/* A run's row and state, filled by sl_dag_keep_run_state (an sl_meta_run_fn). */
typedef struct sl_dag_run_state {
    int64_t row;
    sl_meta_run_state state;
} sl_dag_run_state;

int sl_dag_keep_run_state(void *context, const sl_meta_run *run);

#endif
