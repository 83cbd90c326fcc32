/* groups_kafka.h — Kafka's consumer groups for the group routes, when the
 * file maps its topics onto Kafka (`topics: { kafka: { brokers,
 * properties } }`): the groups through librdkafka's admin API
 * (rd_kafka_ListConsumerGroups), a group's committed offsets
 * (rd_kafka_ListConsumerGroupOffsets) and each partition's watermarks.
 *
 * Every call is bounded by SL_GROUPS_KAFKA_TIMEOUT_MS; brokers that do not
 * answer in time are SL_ETIMEOUT naming them, never a wait without end.
 * One client per request (rd_kafka_new), configured as the pipelines'
 * (topics.kafka.properties), so SASL and TLS work as for them.
 */
#ifndef SL_GROUPS_KAFKA_H
#define SL_GROUPS_KAFKA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "runtime/plan.h"
#include "server/group_offsets.h"

#define SL_GROUPS_KAFKA_TIMEOUT_MS 5000

typedef struct sl_groups_kafka sl_groups_kafka;

/* A client for the brokers of plan's topics.kafka; *out NULL (and SL_OK)
 * when the file maps no topics onto Kafka. The caller owns *out. */
int sl_groups_kafka_open(const sl_plan *plan, sl_groups_kafka **out, sl_error *err);
void sl_groups_kafka_close(sl_groups_kafka *kafka);

const char *sl_groups_kafka_brokers(const sl_groups_kafka *kafka);

/* The cluster's consumer groups, sorted (free with sl_log_names_free). */
int sl_groups_kafka_list(sl_groups_kafka *kafka, char ***names, size_t *n_names, sl_error *err);

/* group's committed offsets with each partition's watermarks, appended to
 * offsets; *is_found false for a group with no committed offset. */
int sl_groups_kafka_offsets(sl_groups_kafka *kafka, const char *group, sl_group_offsets *offsets, bool *is_found,
                            sl_error *err);

#endif
