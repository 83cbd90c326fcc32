/* cmd_dag_test.h — `sluice dag test FILE DAG`, like `airflow dags test`:
 * one manual run of DAG, run in the foreground by a scheduler of its own
 * on FILE's data dir and metadata store, with no server. */
#ifndef SL_CMD_DAG_TEST_H
#define SL_CMD_DAG_TEST_H

#include "cli/dag_args.h"
#include "core/buffer.h"

/* Runs it: exit 0 when the run succeeded, 1 when it failed (or could not
 * run: the data dir held by a server, a store error), 2 for a usage or
 * config mistake (unknown DAG, bad --conf or --logical-date), 130/143
 * when SIGINT/SIGTERM stopped it. */
int sl_dag_test(const sl_dag_args *args);

/* --conf's text checked to be a JSON object and appended to out compact;
 * SL_EUSAGE after saying why on stderr (shared with cmd_dag.c). */
int sl_dag_parse_conf(const char *conf, sl_buffer *out);

#endif
