/* sensor.h — the topic sensor task of a DAG: wait until a consumer group
 * has read a topic to its end (lag 0 on every partition), or until records
 * with an event time at or past the DAG run's interval end have arrived,
 * poking every poke_interval until the task's timeout. Airflow can only
 * poll an external system for either; here the sensor reads the embedded
 * log directly. The event time is the record's timestamp (Kafka's
 * CreateTime, the time its producer gave it). A topic the file maps onto
 * Kafka (topics.kafka) is watched through librdkafka instead: the group's
 * committed offsets against the partitions' high watermarks, or the
 * brokers' offsets for a time.
 */
#ifndef SL_SENSOR_H
#define SL_SENSOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/batch.h"
#include "core/error.h"
#include "log/log.h"

typedef enum sl_sensor_until {
    SL_SENSOR_LAG_ZERO,           /* group's lag on the topic is 0 */
    SL_SENSOR_EVENT_TIME_PAST,    /* a record with timestamp >= after_ms is in the topic */
} sl_sensor_until;

typedef struct sl_sensor_spec {
    const char *kafka_brokers;    /* the topic is on Kafka (the file's topics.kafka); NULL = the embedded log */
    const sl_node *kafka_properties;   /* topics.kafka.properties (librdkafka's), or NULL */
    const char *topic;
    const char *group;            /* for SL_SENSOR_LAG_ZERO */
    sl_sensor_until until;
    int64_t after_ms;             /* for SL_SENSOR_EVENT_TIME_PAST: the interval end, ms since the epoch */
    int64_t poke_interval_ms;
    int64_t timeout_ms;           /* 0 = no limit */
} sl_sensor_spec;

/* What a sensor remembers between pokes. */
typedef struct sl_sensor_state {
    int64_t *scanned;             /* per partition: where the event-time search goes on */
    int32_t n_partitions;
    sl_batch *batch;
    void *kafka;                  /* the librdkafka handle of a sensor on Kafka (sensor_kafka.c) */
} sl_sensor_state;

/* One look at a topic on Kafka (sensor_kafka.c), for sl_sensor_poke:
 * committed offsets and high watermarks for the lag, offsets for times for
 * the event time. Brokers that cannot be reached are "not met", with what
 * they said in detail. */
int sl__sensor_poke_kafka(const sl_sensor_spec *spec, sl_sensor_state *state, bool *is_met, char *detail,
                          size_t detail_size, sl_error *err);
void sl__sensor_kafka_free(sl_sensor_state *state);

void sl_sensor_state_free(sl_sensor_state *state);

/* One look: *is_met, and in detail what was seen ("lag 12 on 2 of 4
 * partitions", "topic t does not exist yet", "partition 1 offset 40 has
 * timestamp ..."). A missing topic is not met, not an error. */
int sl_sensor_poke(sl_log *log, const sl_sensor_spec *spec, sl_sensor_state *state, bool *is_met, char *detail,
                   size_t detail_size, sl_error *err);

/* Pokes until met (SL_OK), the timeout (SL_ETIMEOUT, err saying what was
 * last seen) or *cancel (SL_ECANCELED; cancel may be NULL). */
int sl_sensor_wait(sl_log *log, const sl_sensor_spec *spec, const atomic_bool *cancel, char *detail,
                   size_t detail_size, sl_error *err);

#endif
