/* dag_api.h — what the DAG endpoints of the HTTP API answer (docs/api.md),
 * apart from HTTP itself: each call reads or changes the metadata store and
 * fills a response (a status, JSON or a task's log as text, or
 * {"error": ...} naming what was wrong). api_dags.c calls these from the
 * server's handlers; `sluice dag` calls the reading ones on a store it
 * opens itself when no server runs, and sl_dag_api_create_run for
 * `sluice dag test`.
 *
 * Reads (dag_api.c): the DAGs, one DAG with its tasks and latest runs, a
 * DAG's runs (by state, paged), one run with every try, a try's log.
 * Changes (dag_actions.c): pause and unpause, trigger, clear, backfill;
 * (dag_mark.c) mark a run or its tasks success or failed.
 *
 * Lists are paged in the store's statements: `limit` (default 100, at most
 * 1000) and the opaque `cursor` a page's `next_cursor` gave.
 */
#ifndef SL_DAG_API_H
#define SL_DAG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "metadata/metadata.h"
#include "scheduler/dag.h"
#include "server/http.h"

#define SL_DAG_API_LIMIT_DEFAULT 100
#define SL_DAG_API_LIMIT_MAX 1000
/* The most runs one backfill creates. */
#define SL_DAG_API_BACKFILL_MAX 1000
/* Runs shown with a DAG. */
#define SL_DAG_API_RECENT_RUNS 25
/* A task log file bigger than this is answered with its end only. */
#define SL_DAG_API_LOG_MAX (16 * 1024 * 1024)

typedef struct sl_dag_api {
    const sl_dag_set *dags;      /* the file's DAGs; NULL when no file is known: the store's rows alone */
    sl_metadata *store;
    const char *data_dir;        /* task logs are read from DATA_DIR/logs only */
    int64_t now_us;
} sl_dag_api;

/* ---- reads ---- */

/* prefix: only DAGs whose id starts with it; paused: "true" or "false" to
 * list only paused or unpaused DAGs (NULL: all). */
void sl_dag_api_list_dags(const sl_dag_api *api, const char *limit, const char *cursor, const char *prefix,
                          const char *paused, sl_http_response *out);
void sl_dag_api_get_dag(const sl_dag_api *api, const char *dag_id, sl_http_response *out);
void sl_dag_api_list_runs(const sl_dag_api *api, const char *dag_id, const char *state, const char *limit,
                          const char *cursor, sl_http_response *out);
void sl_dag_api_get_run(const sl_dag_api *api, const char *dag_id, const char *run_id, sl_http_response *out);
/* The grid of a DAG's runs (newest first, limit default 25) × its tasks:
 * each run with "task_states": {task: {state, try_number}} of its latest
 * tries, in one answer (Airflow's grid view). */
void sl_dag_api_grid(const sl_dag_api *api, const char *dag_id, const char *limit, const char *cursor,
                     sl_http_response *out);
/* try_text NULL: the latest try. */
void sl_dag_api_task_log(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *task_id,
                         const char *try_text, sl_http_response *out);

/* ---- changes (they need api->dags) ---- */

void sl_dag_api_set_paused(const sl_dag_api *api, const char *dag_id, bool is_paused, sl_http_response *out);
void sl_dag_api_trigger(const sl_dag_api *api, const char *dag_id, const char *body, size_t len,
                        sl_http_response *out);
void sl_dag_api_clear(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *body, size_t len,
                      sl_http_response *out);
void sl_dag_api_backfill(const sl_dag_api *api, const char *dag_id, const char *body, size_t len,
                         sl_http_response *out);
/* Airflow's mark success / mark failed (dag_mark.c): {"state"} for a run;
 * {"state", "downstream", "upstream"} for a task of a run. */
void sl_dag_api_mark_run(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *body,
                         size_t len, sl_http_response *out);
void sl_dag_api_mark_task(const sl_dag_api *api, const char *dag_id, const char *run_id, const char *task_id,
                          const char *body, size_t len, sl_http_response *out);

/* A manual run, as POST /api/v1/dags/{dag}/runs makes it. */
typedef struct sl_dag_trigger {
    const char *conf;            /* a JSON object's text; NULL: {} */
    bool has_logical_date;       /* else: the latest complete interval at now (sl_timetable_manual) */
    int64_t logical_date_us;
    const char *run_id;          /* NULL: "manual__" + now with µs, made unique */
} sl_dag_trigger;

/* Creates the run (and the DAG's row when the store has none yet) and
 * returns an HTTP status: 201 (*row and run_id set), 400 (a logical date
 * that starts no interval of the schedule, bad conf), 409 (run_id taken),
 * 500 or 503 (the store failed); err says why. */
int sl_dag_api_create_run(sl_metadata *store, const sl_dag *dag, const sl_dag_trigger *trigger, int64_t now_us,
                          int64_t *row, char run_id[SL_META_NAME_MAX + 1], sl_error *err);

/* ---- shared by dag_api.c and dag_actions.c ---- */

/* The DAG called dag_id of api->dags; NULL after a 404 in out. */
const sl_dag *sl_dag_api_find(const sl_dag_api *api, const char *dag_id, sl_http_response *out);

/* The store's failure as an answer: 503 when transient, else 500. */
void sl_dag_api_store_error(sl_http_response *out, const sl_error *err);

/* Writes the DAG object (as GET /api/v1/dags has it) into buf; 0 or an error set in err. */
int sl_dag_api_write_dag(const sl_dag_api *api, const sl_dag *dag, sl_buffer *buf, bool with_details, sl_error *err);

#endif
