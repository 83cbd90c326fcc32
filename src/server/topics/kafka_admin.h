/* kafka_admin.h — Kafka's topics and consumer groups for the topic and
 * group routes, when the file maps its topics onto Kafka (`topics: { kafka:
 * { brokers, properties } }`): topics from the cluster's metadata with each
 * partition's watermarks and their retention and compression settings
 * (rd_kafka_DescribeConfigs); the groups through librdkafka's admin API
 * (rd_kafka_ListConsumerGroups), a group's committed offsets
 * (rd_kafka_ListConsumerGroupOffsets) and each partition's watermarks.
 *
 * Every call is bounded by SL_KAFKA_ADMIN_TIMEOUT_MS; brokers that do not
 * answer in time are SL_ETIMEOUT naming them, never a wait without end.
 * One client per request (rd_kafka_new), configured as the pipelines'
 * (topics.kafka.properties), so SASL and TLS work as for them.
 */
#ifndef SL_KAFKA_ADMIN_H
#define SL_KAFKA_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "core/error.h"
#include "runtime/plan.h"
#include "server/topics/group_offsets.h"

#define SL_KAFKA_ADMIN_TIMEOUT_MS 5000

typedef struct sl_kafka_admin sl_kafka_admin;

/* A client for the brokers of plan's topics.kafka; *out NULL (and SL_OK)
 * when the file maps no topics onto Kafka. The caller owns *out. */
int sl_kafka_admin_open(const sl_plan *plan, sl_kafka_admin **out, sl_error *err);
void sl_kafka_admin_close(sl_kafka_admin *kafka);

const char *sl_kafka_admin_brokers(const sl_kafka_admin *kafka);

/* The cluster's consumer groups, sorted (free with sl_log_names_free). */
int sl_kafka_admin_groups(sl_kafka_admin *kafka, char ***names, size_t *n_names, sl_error *err);

/* Asks the committed offsets of groups[0..n) at once, for the
 * sl_kafka_admin_group_offsets calls that follow on this client (each
 * takes its group's answer; a group whose answer failed is asked again
 * then). A failure is returned, naming the brokers, after the answers that
 * came were kept. */
int sl_kafka_admin_prefetch_groups(sl_kafka_admin *kafka, const char *const *groups, size_t n, sl_error *err);

/* group's committed offsets with each partition's watermarks, appended to
 * offsets; *is_found false for a group with no committed offset. */
int sl_kafka_admin_group_offsets(sl_kafka_admin *kafka, const char *group, sl_group_offsets *offsets, bool *is_found,
                            sl_error *err);

/* The cluster's topics (internal ones, named "__...", left out), sorted,
 * with their partition counts (both malloc'ed; free names with
 * sl_log_names_free and counts with free). */
int sl_kafka_admin_topics(sl_kafka_admin *kafka, char ***names, int32_t **partitions, size_t *n_topics,
                          sl_error *err);

/* One topic as the topic routes show it. */
typedef struct sl_kafka_topic_info {
    int32_t partitions;
    int64_t *low;              /* per partition, malloc'ed */
    int64_t *high;
    int64_t retention_ms;      /* -1: none */
    int64_t retention_bytes;   /* -1: none */
    char compression[32];      /* compression.type ("producer", "lz4", ...); "" when unknown */
} sl_kafka_topic_info;

/* topic's partitions, watermarks and settings; *is_found false when the
 * cluster has no such topic. */
int sl_kafka_admin_topic(sl_kafka_admin *kafka, const char *topic, sl_kafka_topic_info *info, bool *is_found,
                         sl_error *err);
void sl_kafka_topic_info_free(sl_kafka_topic_info *info);

/* ---- for browsing (kafka_browse.c) ---- */

/* topic's partition count, 0 when the cluster has no such topic. */
int sl_kafka_admin_partitions(sl_kafka_admin *kafka, const char *topic, int32_t *n, sl_error *err);

/* Produces record (its key, raw value and headers) to topic's partition
 * (-1: the partition its key picks by murmur2, as Java producers and
 * sluice's log do, or any without a key) and waits up to 30 s for the
 * broker to acknowledge it: where it was stored in *partition and *offset.
 * A failure names the brokers and what they said. */
int sl_kafka_admin_produce(sl_kafka_admin *kafka, const char *topic, int32_t partition, const sl_record *record,
                           int32_t *stored_partition, int64_t *stored_offset, sl_error *err);

/* A partition's low and high watermarks (asked once per client). */
int sl_kafka_admin_watermarks(sl_kafka_admin *kafka, const char *topic, int32_t partition, int64_t *low,
                              int64_t *high, sl_error *err);

/* A consumer with the client's settings that only ever assigns partitions
 * and commits nothing; the caller closes and destroys it. NULL with err set
 * when librdkafka refuses. */
rd_kafka_t *sl_kafka_admin_consumer(sl_kafka_admin *kafka, sl_error *err);

#endif
