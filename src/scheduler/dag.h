/* dag.h — the DAGs of a config file as the scheduler runs them: each DAG's
 * timetable (timetable.h), limits and tasks, each task's body, retry
 * policy, trigger rule and upstream tasks by index, built from a checked
 * plan (runtime/plan.h has already reported every mistake, so building
 * only fails for memory or a zone that vanished since the check).
 *
 * A task body is one of: a bounded pipeline of the file, a command (argv,
 * or a /bin/sh script when the file says shell:), SQL statements on a
 * database, a topic sensor, or a control action on a continuous pipeline.
 * Strings may hold run macros (${ds}, ${run_id}...), expanded per try by
 * the executor.
 *
 * A set owns everything in it, and keeps the DAGs in the file's order.
 */
#ifndef SL_DAG_H
#define SL_DAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tz.h"
#include "runtime/plan.h"
#include "scheduler/sensor.h"
#include "scheduler/task_rules.h"
#include "scheduler/timetable.h"

typedef enum sl_task_kind {
    SL_TASK_KIND_PIPELINE,
    SL_TASK_KIND_COMMAND,
    SL_TASK_KIND_SHELL,
    SL_TASK_KIND_SQL,
    SL_TASK_KIND_SENSOR,
    SL_TASK_KIND_CONTROL,
} sl_task_kind;

/* "pipeline", "command", "shell", "sql", "sensor", "control". */
const char *sl_task_kind_name(sl_task_kind kind);

typedef struct sl_dag_task {
    char *name;
    sl_task_kind kind;
    char *pipeline;              /* PIPELINE: the pipeline run; CONTROL: the pipeline acted on */
    const sl_node *overrides;    /* PIPELINE: its settings replaced, by dotted path (borrowed from the plan) */
    char **argv;                 /* COMMAND: NULL-ended */
    size_t argc;
    char *shell;                 /* SHELL: the script */
    char *sql_database;          /* SQL */
    char *sql_statement;
    char *sensor_topic;          /* SENSOR */
    char *sensor_group;          /* NULL when until is the event time */
    sl_sensor_until sensor_until;
    int64_t poke_interval_ms;
    char *control_action;        /* CONTROL: "start", "stop" or "restart" */
    size_t *upstream;            /* indexes of the tasks it depends on */
    size_t n_upstream;
    bool is_leaf;                /* no task depends on it */
    sl_trigger_rule trigger_rule;
    int retries;
    int64_t retry_delay_ms;
    bool retry_exponential_backoff;
    int64_t max_retry_delay_ms;  /* 0 = no cap */
    int64_t timeout_ms;          /* 0 = no limit */
} sl_dag_task;

typedef struct sl_dag {
    char *name;
    char *description;           /* NULL when none */
    char *schedule_text;         /* as written ("@daily", "every 30s"), "null" for manual */
    sl_tz *tz;
    sl_timetable timetable;      /* its tz points at the DAG's */
    int64_t max_active_runs;
    int64_t dagrun_timeout_ms;   /* 0 = no limit */
    bool is_paused_at_creation;  /* the file's paused: (applies when the store has no row yet) */
    char fingerprint[17];        /* hex digest of its block: a changed DAG has another */
    sl_dag_task *tasks;
    size_t n_tasks;
} sl_dag;

typedef struct sl_dag_set {
    sl_dag *dags;
    size_t n_dags;
} sl_dag_set;

/* The DAGs of a plan (an empty set for a file without dags:). */
int sl_dag_set_build(const sl_plan *plan, sl_dag_set **out, sl_error *err);

void sl_dag_set_free(sl_dag_set *set);

/* The DAG called name, or NULL. */
const sl_dag *sl_dag_set_find(const sl_dag_set *set, const char *name);

/* The index of the task called name, or (size_t)-1. */
size_t sl_dag_task_index(const sl_dag *dag, const char *name);

#endif
