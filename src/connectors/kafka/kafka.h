/* kafka.h — the `kafka` connector: a consumer-group source and a producer
 * sink on Apache Kafka through librdkafka (link with -lrdkafka).
 *
 * Source settings: brokers, topic | topics ('^' = regex), group (default:
 * the pipeline's name), start (earliest|latest), max_batch_bytes,
 * max_record_bytes, poll_timeout, properties (librdkafka's, applied last).
 * Sink settings: brokers, topic, key (path into the value), partitions
 * (create the topic with this many when absent), compression, acks, linger,
 * properties. A bounded `sluice run` ends a kafka source once it has caught
 * up with topics no pipeline of the run still writes (kafka_source.c).
 * See kafka_source.c and kafka_sink.c for behaviour, kafka_common.c for the
 * settings tables.
 */
#ifndef SL_CONNECTOR_KAFKA_H
#define SL_CONNECTOR_KAFKA_H

#include "connectors/connector.h"

extern const sl_source_ops sl_kafka_source;
extern const sl_sink_ops sl_kafka_sink;

#endif
