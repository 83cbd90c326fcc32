/* cmd_topic_log.h — the `sluice topic` verbs on the embedded log of a data
 * dir (cmd_topic.c opens the log and dispatches here from its verb table).
 * Each returns the process exit code: 0 ok, 1 failure, 2 usage (a bad
 * partition or offset, a partition count mismatch). */
#ifndef SL_CMD_TOPIC_LOG_H
#define SL_CMD_TOPIC_LOG_H

#include "cli/topic_args.h"
#include "log/log.h"

int sl_topic_log_list(sl_log *log, const sl_topic_args *args);
int sl_topic_log_describe(sl_log *log, const sl_topic_args *args);
int sl_topic_log_create(sl_log *log, const sl_topic_args *args);
int sl_topic_log_delete(sl_log *log, const sl_topic_args *args);
int sl_topic_log_produce(sl_log *log, const sl_topic_args *args);
int sl_topic_log_consume(sl_log *log, const sl_topic_args *args);

#endif
