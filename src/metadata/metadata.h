/* metadata.h — the scheduler's metadata store: DAGs, DAG runs, task
 * instances and the servers that run them, kept in SQLite (one file, the
 * default: DATA_DIR/metadata.db) or PostgreSQL (`postgres://...`, shared by
 * several servers).
 *
 * sl_metadata_open picks the backend from its argument and brings the
 * schema to this sluice's version with forward-only migrations
 * (migrations.h); a store whose schema is newer than this sluice is refused.
 *
 * Rows:
 *   dags            one per DAG: name, paused flag, hash of its file
 *   dag_runs        one per (dag, run_id); a scheduled run is also unique
 *                   per (dag, data interval start), so two servers that
 *                   create the same scheduled run create one row
 *   task_instances  one per (run, task, try number): state, owning server,
 *                   times, exit status, the log's path and its last 64 KiB
 *   servers         one per server id: its last heartbeat
 *
 * State changes are compare-and-set: the row changes only when it is still
 * in the expected state, and the caller learns whether it did. Claiming
 * hands each scheduled task instance to exactly one server (on PostgreSQL
 * SELECT ... FOR UPDATE SKIP LOCKED, on SQLite a BEGIN IMMEDIATE
 * transaction). Task instances owned by a server whose heartbeat is older
 * than a timeout are failed, or marked up_for_retry when tries are left.
 *
 * Times are µs since the Unix epoch, SL_META_NO_TIME when unset. On
 * PostgreSQL they come from the database's clock (servers on several
 * machines agree on them); on SQLite from this machine's.
 *
 * Errors name the store (its path, or its URL with the password shown as
 * ***) and are classed (core/error.h): an unreachable server, a dropped
 * connection, a busy database are transient; refused credentials, a missing
 * database, a schema too new, bad arguments are permanent.
 *
 * A store is one connection: one thread at a time uses it (a server with
 * several threads opens one store per thread). Callbacks get borrowed rows
 * valid during the call only, and must not use the store; a non-zero
 * return from a callback stops the listing and is returned.
 */
#ifndef SL_METADATA_H
#define SL_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The most of a task's log the store keeps: its last 64 KiB. */
#define SL_METADATA_LOG_TAIL_MAX 65536

/* An unset time (a run not started yet, a task not ended). */
#define SL_META_NO_TIME INT64_MIN

/* Longest DAG, task, run and server id accepted (bytes). */
#define SL_META_NAME_MAX 250

typedef enum sl_meta_run_state {
    SL_META_RUN_QUEUED,
    SL_META_RUN_RUNNING,
    SL_META_RUN_SUCCESS,
    SL_META_RUN_FAILED,
    SL_META_RUN_STATE_COUNT
} sl_meta_run_state;

typedef enum sl_meta_run_type {
    SL_META_RUN_SCHEDULED,
    SL_META_RUN_MANUAL,
    SL_META_RUN_BACKFILL,
    SL_META_RUN_TYPE_COUNT
} sl_meta_run_type;

typedef enum sl_meta_ti_state {
    SL_META_TI_NONE,
    SL_META_TI_SCHEDULED,
    SL_META_TI_QUEUED,
    SL_META_TI_RUNNING,
    SL_META_TI_SUCCESS,
    SL_META_TI_FAILED,
    SL_META_TI_UP_FOR_RETRY,
    SL_META_TI_UPSTREAM_FAILED,
    SL_META_TI_SKIPPED,
    SL_META_TI_STATE_COUNT
} sl_meta_ti_state;

/* The names stored and shown ("queued", "up_for_retry", "backfill"), from
 * one table each (states.c); NULL for a value out of range. */
const char *sl_meta_run_state_name(sl_meta_run_state state);
const char *sl_meta_run_type_name(sl_meta_run_type type);
const char *sl_meta_ti_state_name(sl_meta_ti_state state);

/* The value of a name; SL_EINVAL (naming it and the choices) when unknown. */
int sl_meta_run_state_parse(const char *name, sl_meta_run_state *state, sl_error *err);
int sl_meta_run_type_parse(const char *name, sl_meta_run_type *type, sl_error *err);
int sl_meta_ti_state_parse(const char *name, sl_meta_ti_state *state, sl_error *err);

/* Whether a task instance in state is done with (success, failed,
 * up_for_retry, upstream_failed, skipped): entering it sets its end time. */
bool sl_meta_ti_state_is_finished(sl_meta_ti_state state);

typedef struct sl_meta_dag {
    const char *dag_id;
    bool is_paused;
    const char *file_hash;
    int64_t updated_at_us;
} sl_meta_dag;

typedef struct sl_meta_run {
    int64_t id;                      /* the store's row id */
    const char *dag_id;
    const char *run_id;
    sl_meta_run_type run_type;
    sl_meta_run_state state;
    int64_t data_interval_start_us;  /* the logical date */
    int64_t data_interval_end_us;
    const char *conf;                /* JSON object text */
    int64_t queued_at_us;
    int64_t start_us;
    int64_t end_us;
} sl_meta_run;

typedef struct sl_meta_ti {
    int64_t id;                      /* the store's row id */
    int64_t run;                     /* its run's id (sl_meta_run.id) */
    const char *dag_id;
    const char *run_id;
    const char *task_id;
    int try_number;                  /* 1 for the first try */
    int max_tries;                   /* tries allowed in all (retries + 1) */
    sl_meta_ti_state state;
    const char *server_id;           /* the owning server; NULL before a claim */
    int64_t queued_at_us;            /* when a server claimed it */
    int64_t start_us;
    int64_t end_us;
    int64_t duration_us;             /* end - start; SL_META_NO_TIME when either is unset */
    bool has_exit_status;
    int exit_status;
    const char *log_path;            /* the whole log's file; NULL when none */
    const unsigned char *log_tail;   /* its last bytes (<= SL_METADATA_LOG_TAIL_MAX) */
    size_t log_tail_len;
} sl_meta_ti;

typedef struct sl_meta_server {
    const char *server_id;
    const char *hostname;
    int64_t pid;
    int64_t started_at_us;
    int64_t heartbeat_us;
} sl_meta_server;

typedef int (*sl_meta_dag_fn)(void *context, const sl_meta_dag *dag);
typedef int (*sl_meta_run_fn)(void *context, const sl_meta_run *run);
typedef int (*sl_meta_ti_fn)(void *context, const sl_meta_ti *ti);
typedef int (*sl_meta_server_fn)(void *context, const sl_meta_server *server);

/* An API token as the store keeps it: never the token, only its salted
 * hash ("<salt>$<hash>"). role is "viewer", "operator" or "admin". */
typedef struct sl_meta_token {
    const char *name;
    const char *role;
    const char *token_hash;
    int64_t created_at_us;
} sl_meta_token;

typedef int (*sl_meta_token_fn)(void *context, const sl_meta_token *token);

/* What a new run is. */
typedef struct sl_meta_run_spec {
    const char *dag_id;
    const char *run_id;              /* NULL: "<run type>__<start, ISO 8601>", Airflow's form */
    sl_meta_run_type run_type;
    int64_t data_interval_start_us;
    int64_t data_interval_end_us;    /* >= start */
    const char *conf;                /* a JSON object; NULL: {} */
} sl_meta_run_spec;

/* Where a page of runs ends: pass it back to get the next page. Runs come
 * newest first (data interval start, then id, descending). */
typedef struct sl_meta_run_cursor {
    bool is_set;                     /* false: from the newest run */
    int64_t data_interval_start_us;
    int64_t id;
} sl_meta_run_cursor;

typedef struct sl_metadata sl_metadata;

/* ---- opening ---- */

/* Opens the store at target: "postgres://..." or "postgresql://..." is a
 * PostgreSQL connection URL (libpq's), anything else the path of an SQLite
 * file (its parent directories are created). Creates or migrates the schema
 * to the latest version. */
int sl_metadata_open(const char *target, sl_metadata **store, sl_error *err);

/* As sl_metadata_open, migrating no further than version (for tests and
 * tools that look at an older schema); such a store only reports its
 * version: the other operations need the latest one. */
int sl_metadata_open_version(const char *target, int version, sl_metadata **store, sl_error *err);

void sl_metadata_close(sl_metadata *store);

/* "sqlite" or "postgres". */
const char *sl_metadata_backend(const sl_metadata *store);

/* The store as messages name it: the path, or the URL with its password as ***. */
const char *sl_metadata_where(const sl_metadata *store);

/* The schema version the store is at. */
int sl_metadata_version(const sl_metadata *store);

/* The schema version this sluice migrates to (migrations.h). */
int sl_metadata_latest_version(void);

/* ---- dags ---- */

/* Creates the DAG's row (not paused) or updates its file hash. */
int sl_metadata_dag_upsert(sl_metadata *store, const char *dag_id, const char *file_hash, sl_error *err);

/* Pauses or unpauses a DAG; SL_ENOTFOUND when it has no row. */
int sl_metadata_dag_set_paused(sl_metadata *store, const char *dag_id, bool is_paused, sl_error *err);

/* Every DAG, by name. */
int sl_metadata_dag_list(sl_metadata *store, sl_meta_dag_fn fn, void *context, sl_error *err);

/* ---- dag runs ---- */

/* Creates the run in state queued unless it exists (the same run_id, or
 * for a scheduled run the same data interval start): *id is the run's row
 * either way, *created whether this call made it. The DAG must have a row. */
int sl_metadata_run_create(sl_metadata *store, const sl_meta_run_spec *spec, int64_t *id, bool *created,
                           sl_error *err);

/* Calls fn with the run of row id; SL_ENOTFOUND when there is none. */
int sl_metadata_run_get(sl_metadata *store, int64_t id, sl_meta_run_fn fn, void *context, sl_error *err);

/* Moves run id from expected to state (compare-and-set): *changed is false
 * when the run was not in expected. Entering running sets its start time,
 * success or failed its end time. */
int sl_metadata_run_set_state(sl_metadata *store, int64_t id, sl_meta_run_state expected, sl_meta_run_state state,
                              bool *changed, sl_error *err);

/* Up to limit (1..1000) runs of dag_id after cursor *after (NULL or unset:
 * from the newest), newest first; *next is where the page ended (unset when
 * it held fewer than limit runs: there are no more). */
int sl_metadata_run_list(sl_metadata *store, const char *dag_id, const sl_meta_run_cursor *after, int limit,
                         sl_meta_run_fn fn, void *context, sl_meta_run_cursor *next, sl_error *err);

/* As sl_metadata_run_list, only the runs in state (the filter is the
 * statement's: a page holds limit runs in state when there are so many). */
int sl_metadata_run_list_state(sl_metadata *store, const char *dag_id, sl_meta_run_state state,
                               const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context,
                               sl_meta_run_cursor *next, sl_error *err);

/* Calls fn with dag_id's run called run_id; SL_ENOTFOUND when there is none. */
int sl_metadata_run_find(sl_metadata *store, const char *dag_id, const char *run_id, sl_meta_run_fn fn,
                         void *context, sl_error *err);

/* The queued and running runs of dag_id, oldest first (data interval start,
 * then id), up to limit (1..1000). */
int sl_metadata_run_list_active(sl_metadata *store, const char *dag_id, int limit, sl_meta_run_fn fn, void *context,
                                sl_error *err);

/* The latest data interval end of dag_id's scheduled and backfill runs (what
 * the next scheduled run follows); *found false when it has none. */
int sl_metadata_run_latest_interval_end(sl_metadata *store, const char *dag_id, int64_t *end_us, bool *found,
                                        sl_error *err);

/* ---- task instances ---- */

/* Creates try 1 of each task of run in state none, with max_tries (>= 1)
 * tries allowed; tasks that have a row already are left alone. *created
 * (may be NULL) is how many rows this call made. */
int sl_metadata_ti_create(sl_metadata *store, int64_t run, const char *const *task_ids, size_t n_tasks,
                          int max_tries, size_t *created, sl_error *err);

/* Calls fn with the task instance of row id; SL_ENOTFOUND when none. */
int sl_metadata_ti_get(sl_metadata *store, int64_t id, sl_meta_ti_fn fn, void *context, sl_error *err);

/* Every try of every task of run, by task id then try number. */
int sl_metadata_ti_list(sl_metadata *store, int64_t run, sl_meta_ti_fn fn, void *context, sl_error *err);

/* Claims up to max (>= 1) scheduled task instances of DAGs not paused
 * (Airflow queues nothing of a paused DAG), oldest run first, for
 * server_id: each moves to queued, owned by server_id, and goes to exactly
 * one claimer however many servers claim at once. Their ids in ids[], how
 * many in *n (0 when none is scheduled). */
int sl_metadata_ti_claim(sl_metadata *store, const char *server_id, int64_t *ids, size_t max, size_t *n,
                         sl_error *err);

/* As sl_metadata_ti_claim, taking only task instances of run, paused or
 * not (for a run tested in the foreground: `sluice dag test`). */
int sl_metadata_ti_claim_run(sl_metadata *store, const char *server_id, int64_t run, int64_t *ids, size_t max,
                             size_t *n, sl_error *err);

/* Moves task instance id from expected to state (compare-and-set);
 * *changed false when it was not in expected (another server or the reaper
 * moved it first). Entering running sets the start time; entering a
 * finished state the end time, the duration and, when exit_status is not
 * NULL, the exit status. */
int sl_metadata_ti_set_state(sl_metadata *store, int64_t id, sl_meta_ti_state expected, sl_meta_ti_state state,
                             const int *exit_status, bool *changed, sl_error *err);

/* The next try of task instance id, which must be up_for_retry: a row with
 * try number + 1 in state scheduled (the same max_tries), once however many
 * servers ask. *new_id is that row, *created whether this call made it.
 * SL_EINVAL when id is not up_for_retry or has no tries left. */
int sl_metadata_ti_retry(sl_metadata *store, int64_t id, int64_t *new_id, bool *created, sl_error *err);

/* A task to clear (sl_metadata_ti_clear) and the retries its new try gets. */
typedef struct sl_meta_clear_task {
    const char *task_id;
    int retries;                     /* >= 0: the new try may be retried this many times */
} sl_meta_clear_task;

/* Airflow's clear, for the tasks of run in tasks[0..n): each task whose
 * latest try has finished as failed, upstream_failed or skipped (or, when
 * only_failed is false, also success) gets a new try, try number + 1, in
 * state none with max_tries = its try number + retries, so the scheduler
 * decides it again by its trigger rule. When any task was cleared, the run
 * goes back to queued (its start and end times unset, queued now), whatever
 * its state was, so the scheduler starts it again and no pass that read
 * the old tries can end it. One transaction: all of it or none.
 * cleared[i] (cleared may be NULL) says whether tasks[i] was; *n_cleared
 * (may be NULL) how many were. A task without a row is left alone. */
int sl_metadata_ti_clear(sl_metadata *store, int64_t run, const sl_meta_clear_task *tasks, size_t n,
                         bool only_failed, bool *cleared, size_t *n_cleared, sl_error *err);

/* Records the task's log: log_path (NULL: leaves it) and the last
 * SL_METADATA_LOG_TAIL_MAX bytes of log[0..len) (a UTF-8 character cut at
 * the front is dropped whole). */
int sl_metadata_ti_set_log(sl_metadata *store, int64_t id, const char *log_path, const void *log, size_t len,
                           sl_error *err);

/* As sl_metadata_ti_set_log with the end of the file at log_path. */
int sl_metadata_ti_set_log_file(sl_metadata *store, int64_t id, const char *log_path, sl_error *err);

/* ---- servers ---- */

/* Creates or renews server_id's row, its heartbeat now. */
int sl_metadata_server_register(sl_metadata *store, const char *server_id, const char *hostname, int64_t pid,
                                sl_error *err);

/* Sets server_id's heartbeat to now; SL_ENOTFOUND when it is not registered. */
int sl_metadata_server_heartbeat(sl_metadata *store, const char *server_id, sl_error *err);

/* Every server, by id. */
int sl_metadata_server_list(sl_metadata *store, sl_meta_server_fn fn, void *context, sl_error *err);

/* ---- API tokens ---- */

/* Stores a token's hash under name; *created false (and nothing changed)
 * when a token of that name exists. */
int sl_metadata_token_create(sl_metadata *store, const char *name, const char *role, const char *token_hash,
                             bool *created, sl_error *err);

/* Removes the token called name; *found false when there was none. */
int sl_metadata_token_delete(sl_metadata *store, const char *name, bool *found, sl_error *err);

/* Every token, by name. */
int sl_metadata_token_list(sl_metadata *store, sl_meta_token_fn fn, void *context, sl_error *err);

/* Finds the queued and running task instances whose server's heartbeat is
 * older than timeout_us (or whose server has no row) and moves each,
 * compare-and-set, to up_for_retry when it has tries left, else to failed.
 * Their ids in ids[] (up to max), how many in *n. */
int sl_metadata_reap_stale(sl_metadata *store, int64_t timeout_us, int64_t *ids, size_t max, size_t *n,
                           sl_error *err);

#endif
