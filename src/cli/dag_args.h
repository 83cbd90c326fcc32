/* dag_args.h — what `sluice dag` parsed from its command line, shared by
 * the option table (dag_options.c), the verbs (cmd_dag.c, dag_print.c) and
 * `dag test` (cmd_dag_test.c). */
#ifndef SL_DAG_ARGS_H
#define SL_DAG_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The verbs, in the order of the verb table (cmd_dag.c). */
typedef enum sl_dag_verb_id {
    SL_DAG_LIST = 0,
    SL_DAG_SHOW,
    SL_DAG_TRIGGER,
    SL_DAG_PAUSE,
    SL_DAG_UNPAUSE,
    SL_DAG_RUNS,
    SL_DAG_TASKS,
    SL_DAG_LOG,
    SL_DAG_CLEAR,
    SL_DAG_BACKFILL,
    SL_DAG_MARK,
    SL_DAG_TEST,
    SL_DAG_VERB_COUNT,
} sl_dag_verb_id;

/* The name of a verb (cmd_dag.c's table), for help and messages. */
const char *sl_dag_verb_name(sl_dag_verb_id verb);

#define SL_DAG_MAX_WORDS 3
#define SL_DAG_MAX_TASKS 256

typedef struct sl_dag_args {
    sl_dag_verb_id verb;
    const char *words[SL_DAG_MAX_WORDS];   /* the operands after the verb: DAG, RUN_ID, TASK or FILE, DAG */
    size_t n_words;
    uint64_t given;                        /* bit per option given (dag_options.c's ids) */
    const char *data_dir;
    const char *config;
    const char *server;
    bool is_json;
    const char *conf;
    const char *logical_date;
    const char *run_id;
    const char *state;
    int limit;                             /* 0: the API's default */
    int try_number;                        /* 0: the latest */
    const char *tasks[SL_DAG_MAX_TASKS];
    size_t n_tasks;
    bool is_all;
    bool is_no_downstream;
    bool is_downstream;                    /* mark: the tasks downstream too */
    bool is_upstream;                      /* mark: the tasks upstream too */
    const char *from;
    const char *to;
} sl_dag_args;

#endif
