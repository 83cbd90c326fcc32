/* task_exec.h — running one try of a DAG task: its body (a bounded
 * pipeline of the file, a command or shell script, SQL statements, a topic
 * sensor, or a control action on a continuous pipeline), with the try's
 * log file written from its first line (what runs, which try, the data
 * interval) to its last (how it ended and how long it took).
 *
 * The scheduler runs each try on a thread of its own and cancels it by
 * setting *cancel (a timeout, a DAG run timeout, the server stopping):
 * every body watches the flag. Macros (${ds}, ${run_id}...) in the task's
 * settings are expanded for this try before it runs.
 */
#ifndef SL_TASK_EXEC_H
#define SL_TASK_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "log/log.h"
#include "runtime/plan.h"
#include "scheduler/dag.h"

/* How a control task reaches the pipelines of the server: start, stop or
 * restart pipeline, saying why (reason); a short result in detail. */
typedef int (*sl_task_control_fn)(void *context, const char *pipeline, const char *action, const char *reason,
                                  char *detail, size_t detail_size, sl_error *err);

typedef struct sl_task_try {
    const sl_plan *plan;             /* the pipelines a pipeline task runs */
    const sl_dag *dag;
    const sl_dag_task *task;
    sl_log *log;                     /* the embedded log (borrowed) */
    const char *run_id;
    int64_t data_interval_start_us;
    int64_t data_interval_end_us;
    int try_number;                  /* 1 for the first */
    int max_tries;
    const char *log_path;            /* the try's log file (created with its directories) */
    const char *pid_path;            /* a command's pid file while it runs (sl_command_kill_orphan); may be NULL */
    const atomic_bool *cancel;
    sl_task_control_fn control;      /* NULL: control tasks fail (no server to control) */
    void *control_context;
} sl_task_try;

typedef struct sl_task_outcome {
    bool is_success;
    bool has_exit_status;            /* a command's exit code */
    int exit_status;
    char summary[512];               /* "exit 0", "12 rows changed", "lag 0 on 4 partitions", the error */
} sl_task_outcome;

/* Runs the try to its end. Never fails itself: whatever goes wrong (a log
 * file that cannot be written, a program not found, a refused statement)
 * is a failed outcome whose summary says what. */
void sl_task_execute(const sl_task_try *try_, sl_task_outcome *outcome);

/* The path of a try's log under data_dir, in Airflow's layout:
 * DATA_DIR/logs/dag_id=D/run_id=R/task_id=T/attempt=N.log. */
int sl_task_log_path(const char *data_dir, const char *dag_id, const char *run_id, const char *task_id,
                     int try_number, char *out, size_t size);

#endif
