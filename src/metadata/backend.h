/* backend.h — what a metadata store backend is to metadata.c: one const ops
 * table per backend (sqlite_store.c, postgres_store.c), like the
 * connectors' tables.
 *
 * metadata.c checks the arguments (names, states, limits, the conf JSON)
 * and the schema version before it calls an op, cuts a log to its tail,
 * and prefixes nothing: a backend's messages name the store themselves.
 * Each op has the meaning of the sl_metadata_* function of the same name
 * (metadata.h).
 */
#ifndef SL_METADATA_BACKEND_H
#define SL_METADATA_BACKEND_H

#include "metadata/metadata.h"

typedef struct sl_metadata_ops {
    const char *name;                /* "sqlite", "postgres" */
    /* Connects to target and migrates its schema up to max_version;
     * *version is where it is after. *where is the store as messages name
     * it (malloc'ed, the caller frees it). */
    int (*open)(const char *target, int max_version, void **state, int *version, char **where, sl_error *err);
    void (*close)(void *state);

    int (*dag_upsert)(void *state, const char *dag_id, const char *file_hash, sl_error *err);
    int (*dag_set_paused)(void *state, const char *dag_id, bool is_paused, sl_error *err);
    int (*dag_list)(void *state, sl_meta_dag_fn fn, void *context, sl_error *err);

    /* spec->run_id and spec->conf are set (metadata.c fills the defaults). */
    int (*run_create)(void *state, const sl_meta_run_spec *spec, int64_t *id, bool *created, sl_error *err);
    int (*run_get)(void *state, int64_t id, sl_meta_run_fn fn, void *context, sl_error *err);
    int (*run_set_state)(void *state, int64_t id, sl_meta_run_state expected, sl_meta_run_state run_state,
                         bool *changed, sl_error *err);
    /* after is NULL for the first page; run_state NULL for runs in any
     * state; *n how many runs fn was given, the last of them in *last
     * (metadata.c makes the cursor). */
    int (*run_list)(void *state, const char *dag_id, const sl_meta_run_state *run_state,
                    const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context, size_t *n,
                    sl_meta_run_cursor *last, sl_error *err);
    int (*run_find)(void *state, const char *dag_id, const char *run_id, sl_meta_run_fn fn, void *context,
                    sl_error *err);
    int (*run_list_active)(void *state, const char *dag_id, int limit, sl_meta_run_fn fn, void *context,
                           sl_error *err);
    int (*run_latest_interval_end)(void *state, const char *dag_id, int64_t *end_us, bool *found, sl_error *err);

    int (*ti_create)(void *state, int64_t run, const char *const *task_ids, size_t n_tasks, int max_tries,
                     size_t *created, sl_error *err);
    int (*ti_get)(void *state, int64_t id, sl_meta_ti_fn fn, void *context, sl_error *err);
    int (*ti_list)(void *state, int64_t run, sl_meta_ti_fn fn, void *context, sl_error *err);
    /* run 0: scheduled task instances of any run. */
    int (*ti_claim)(void *state, const char *server_id, int64_t run, int64_t *ids, size_t max, size_t *n,
                    sl_error *err);
    int (*ti_set_state)(void *state, int64_t id, sl_meta_ti_state expected, sl_meta_ti_state ti_state,
                        const int *exit_status, bool *changed, sl_error *err);
    int (*ti_retry)(void *state, int64_t id, int64_t *new_id, bool *created, sl_error *err);
    /* cleared has n entries, all false on entry. */
    int (*ti_clear)(void *state, int64_t run, const sl_meta_clear_task *tasks, size_t n, bool only_failed,
                    bool *cleared, sl_error *err);
    /* tail is at most SL_METADATA_LOG_TAIL_MAX bytes; log_path NULL leaves the path. */
    int (*ti_set_log)(void *state, int64_t id, const char *log_path, const void *tail, size_t len, sl_error *err);

    int (*server_register)(void *state, const char *server_id, const char *hostname, int64_t pid, sl_error *err);
    int (*server_heartbeat)(void *state, const char *server_id, sl_error *err);
    int (*server_list)(void *state, sl_meta_server_fn fn, void *context, sl_error *err);
    int (*token_create)(void *state, const char *name, const char *role, const char *token_hash, bool *created,
                        sl_error *err);
    int (*token_delete)(void *state, const char *name, bool *found, sl_error *err);
    int (*token_list)(void *state, sl_meta_token_fn fn, void *context, sl_error *err);
    int (*reap_stale)(void *state, int64_t timeout_us, int64_t *ids, size_t max, size_t *n, sl_error *err);
} sl_metadata_ops;

extern const sl_metadata_ops sl_metadata_sqlite_ops;
extern const sl_metadata_ops sl_metadata_postgres_ops;

#endif
