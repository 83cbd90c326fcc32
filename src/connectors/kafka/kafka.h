/* kafka.h — the `kafka` connector: a consumer-group source and a producer
 * sink on Apache Kafka through librdkafka (link with -lrdkafka).
 *
 * Their settings are the tables in kafka_common.c (`sluice connectors
 * kafka`, docs/connectors.md); `properties:` goes to librdkafka as it is,
 * applied after sluice's own. A bounded `sluice run` ends a kafka source
 * once it has caught up with topics no pipeline of the run still writes
 * (kafka_source.c). See kafka_source.c and kafka_sink.c for behaviour.
 */
#ifndef SL_CONNECTOR_KAFKA_H
#define SL_CONNECTOR_KAFKA_H

#include "connectors/connector.h"

extern const sl_source_ops sl_kafka_source;
extern const sl_sink_ops sl_kafka_sink;

#endif
