/* cmd_topic_kafka.h — `sluice topic list|describe|create|produce|consume
 * --kafka BROKERS`: the topic verbs against a Kafka cluster (librdkafka)
 * instead of the embedded log. cmd_topic.c parses the options and
 * dispatches here from its verb table. Each returns the process exit code
 * (0 ok, 1 broker or delivery failure, 2 usage: a bad partition or offset,
 * a partition count mismatch, a property or credentials refused); errors go
 * to stderr naming the brokers and librdkafka's message. */
#ifndef SL_CMD_TOPIC_KAFKA_H
#define SL_CMD_TOPIC_KAFKA_H

#include "cli/topic_args.h"

int sl_topic_kafka_list(const sl_topic_args *args);
int sl_topic_kafka_describe(const sl_topic_args *args);
int sl_topic_kafka_create(const sl_topic_args *args);
int sl_topic_kafka_produce(const sl_topic_args *args);
int sl_topic_kafka_consume(const sl_topic_args *args);

#endif
