/* cmd_topic_kafka.h — `sluice topic list|describe|produce|consume --kafka
 * BROKERS`: the topic commands against a Kafka cluster (librdkafka) instead
 * of the embedded log. cmd_topic.c parses the options and dispatches here. */
#ifndef SL_CMD_TOPIC_KAFKA_H
#define SL_CMD_TOPIC_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sl_topic_kafka_args {
    const char *brokers;     /* bootstrap brokers, host:port[,host:port...] */
    int64_t partitions;      /* produce: create an absent topic with N partitions; 0 = broker default */
    int64_t partition;       /* consume: -1 = all */
    int64_t offset;          /* consume: -1 = from the start or the group's committed offsets */
    int64_t max_records;     /* consume: 0 = all */
    const char *group;       /* consume: read and commit as this group; describe: only this group */
    const char *key_path;    /* produce: message key from this path into each JSON line */
    bool has_metadata;       /* consume: JSON objects with partition, offset, key, headers */
    bool is_follow;          /* consume: keep waiting for records until SIGINT */
} sl_topic_kafka_args;

/* Runs verb ("list", "describe", "produce" or "consume"; name NULL for
 * list) against args->brokers; returns the process exit code (0 ok,
 * 1 broker or delivery failure, 2 usage). Errors go to stderr naming the
 * brokers and librdkafka's message. */
int sl_topic_kafka_run(const char *verb, const char *name, const sl_topic_kafka_args *args);

#endif
