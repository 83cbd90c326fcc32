/* scheduler_loop.h — what the scheduler's files share (scheduler.c the
 * loop and the interface, scheduler_runs.c the runs of each DAG,
 * scheduler_tries.c the tries running here): the scheduler's state and the
 * functions one file calls in another. Not for use outside them.
 *
 * Threads: the loop runs on one thread, which alone uses the metadata store
 * (a store is one connection); each try runs on a thread of its own and
 * touches nothing shared but its own running_try, whose is_done flag it
 * sets under the mutex when it ends. The server's main thread calls apply,
 * wake and stop, which only hand things to the loop under the mutex.
 *
 * A reload makes a new generation (a plan and its DAGs); a try keeps a
 * reference to the generation it started in, so its task's definition
 * stays valid until it ends.
 */
#ifndef SL_SCHEDULER_LOOP_H
#define SL_SCHEDULER_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "scheduler/dag.h"
#include "scheduler/scheduler.h"

#define LOG_PATH_MAX 4096
#define ERROR_REPEAT_MS 30000
#define ACTIVE_RUNS_MAX 1000
#define RUNS_CREATED_PER_PASS 100
/* How often every DAG is looked at, whatever the loop expects of it (what
 * another server, or a client writing to the store, may have changed). */
#define SWEEP_MS 10000

/* ---- generations ---- */

/* A generation is what sl_scheduler_dags_acquire hands out. */
struct sl_scheduler_dags {
    sl_plan *plan;
    sl_dag_set *dags;
    atomic_int refs;
};
typedef struct sl_scheduler_dags generation;

/* ---- a try running here ---- */

typedef struct running_try {
    struct running_try *next;
    struct sl_scheduler *scheduler;
    generation *gen;
    int64_t ti_id;
    int64_t run_row;
    char dag_id[SL_META_NAME_MAX + 1];
    char task_id[SL_META_NAME_MAX + 1];
    char run_id[SL_META_NAME_MAX + 1];
    char log_path[LOG_PATH_MAX];
    char pid_path[LOG_PATH_MAX];   /* DATA_DIR/running/TI.pid while a command runs */
    sl_task_try try_;
    sl_task_outcome outcome;
    atomic_bool cancel;
    char cancel_reason[300];     /* why the loop cancelled it; "" when it did not */
    bool is_final;               /* no retry whatever tries are left (the run timed out) */
    bool is_marked;              /* cancelled because its row was marked through the API */
    int64_t deadline_ms;         /* monotonic; 0 = no timeout */
    pthread_t thread;
    bool is_done;                /* under the scheduler's mutex */
    bool is_joined;
} running_try;

struct sl_scheduler {
    sl_metadata *store;
    char server_id[160];
    sl_log *log;
    char *data_dir;
    sl_task_control_fn control;
    void *control_context;
    int64_t only_run;
    pthread_t thread;
    bool has_thread;

    pthread_mutex_t mutex;       /* guards what follows, up to `running` */
    pthread_cond_t wake;         /* the loop waits on it */
    pthread_cond_t run_ended;    /* wait_run waits on it */
    bool is_woken;
    bool is_sweep_asked;         /* sl_scheduler_wake: look at every DAG on the next pass */
    bool is_stopping;
    generation *pending;         /* a reload's generation, not taken by the loop yet */
    generation *latest;          /* the last one given (start or apply), for sl_scheduler_dags_acquire */
    bool is_only_run_ended;
    sl_meta_run_state only_run_state;

    /* The loop's own, no lock needed: */
    generation *current;
    bool *is_paused;             /* per DAG of current */
    int64_t *next_check_us;      /* per DAG of current: when it needs a look (0: every pass) */
    int64_t next_sweep_us;
    running_try *running;
    size_t n_running;
    int64_t next_heartbeat_ms;
    int64_t next_wake_us;
    char last_error[400];
    int64_t last_error_ms;
};

/* ---- scheduler.c ---- */

int sl__generation_new(sl_plan *plan, generation **out, sl_error *err);
void sl__generation_release(generation *gen);

/* A store failure does not stop the scheduler: it is logged (the same one
 * at most every ERROR_REPEAT_MS) and the pass is tried again. */
void sl__scheduler_report(sl_scheduler *s, const char *what, const sl_error *err);

/* Makes the loop's next pass no later than at_us (wall clock). */
void sl__scheduler_wake_at(sl_scheduler *s, int64_t at_us);

/* Moves a task instance from one state to another (compare-and-set). */
int sl__scheduler_set_ti(sl_scheduler *s, int64_t id, sl_meta_ti_state from, sl_meta_ti_state to, bool *changed,
                         sl_error *err);

/* ---- scheduler_runs.c ---- */

/* Records the DAGs of the current generation in the store. */
int sl__scheduler_sync_dags(sl_scheduler *s, sl_error *err);

/* Reads each DAG's pause flag into s->is_paused. */
int sl__scheduler_read_paused(sl_scheduler *s, sl_error *err);

/* One pass over the DAG of index: due runs, queued runs started, running
 * runs advanced; then when it needs the next look (next_check_us[index]):
 * every pass while it has active runs, else when its next interval ends. */
int sl__scheduler_schedule_dag(sl_scheduler *s, size_t index, int64_t now_us, sl_error *err);

/* ---- scheduler_tries.c ---- */

/* Claims scheduled tries up to SL_SCHEDULER_MAX_RUNNING and starts them. */
int sl__scheduler_claim_tries(sl_scheduler *s, sl_error *err);

/* Records the tries that ended, cancels those past their timeout. */
int sl__scheduler_reap_tries(sl_scheduler *s, sl_error *err);

/* Cancels every try of run running here, for reason, with no retry. */
void sl__scheduler_cancel_tries_of_run(sl_scheduler *s, int64_t run, const char *reason);

/* Cancels what runs here and records each try as it ends. */
void sl__scheduler_drain_tries(sl_scheduler *s);

/* Kills what the commands of an earlier process on this data dir left
 * running when it died (their pid files in DATA_DIR/running), so a retry
 * never runs beside them. */
int sl__scheduler_kill_orphans(sl_scheduler *s, sl_error *err);

#endif
