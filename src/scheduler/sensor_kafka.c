/* sensor_kafka.c — the topic sensor on a topic the file maps onto Kafka
 * (see sensor.h), through librdkafka (configured by the kafka connector's
 * kafka_common: sluice's settings, then topics.kafka.properties, so SASL
 * and TLS work as for the pipelines).
 *
 * One consumer handle per sensor, never subscribed: with the group's
 * group.id it reads the group's committed offsets (rd_kafka_committed),
 * the partitions' watermarks (rd_kafka_query_watermark_offsets) and the
 * first offset at or past a time (rd_kafka_offsets_for_times). A partition
 * the group never committed counts from its low watermark. Brokers that do
 * not answer within REQUEST_TIMEOUT_MS make the poke "not met", saying so:
 * the sensor's own timeout decides when to give up.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_common.h"
#include "core/timefmt.h"
#include "scheduler/sensor.h"

#define REQUEST_TIMEOUT_MS 5000

void sl__sensor_kafka_free(sl_sensor_state *state)
{
    if (!state->kafka) return;
    rd_kafka_destroy(state->kafka);
    state->kafka = NULL;
}

static int open_client(const sl_sensor_spec *spec, sl_sensor_state *state, sl_error *err)
{
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = sl_kafka_conf_set(conf, "bootstrap.servers", spec->kafka_brokers, err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "group.id", spec->group ? spec->group : "sluice-sensor", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "enable.auto.commit", "false", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "log.connection.close", "false", err);
    if (rc == SL_OK) rc = sl_kafka_conf_apply_properties(conf, spec->kafka_properties, NULL, NULL, err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_t *client = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!client) {
        rd_kafka_conf_destroy(conf);
        return sl_error_set_permanent(err, SL_ECONFIG, "sensor on %s: kafka brokers '%s': %s", spec->topic,
                                      spec->kafka_brokers, error);
    }
    state->kafka = client;
    return SL_OK;
}

/* The topic's partition count, 0 when the brokers do not know the topic;
 * a broker error in *code. */
static int32_t partition_count(rd_kafka_t *client, const char *topic, rd_kafka_resp_err_t *code)
{
    rd_kafka_topic_t *handle = rd_kafka_topic_new(client, topic, NULL);
    const struct rd_kafka_metadata *metadata = NULL;
    *code = handle ? rd_kafka_metadata(client, 0, handle, &metadata, REQUEST_TIMEOUT_MS)
                   : RD_KAFKA_RESP_ERR__INVALID_ARG;
    int32_t n = 0;
    if (*code == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1) {
        if (metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) n = metadata->topics[0].partition_cnt;
        else if (metadata->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) *code = metadata->topics[0].err;
    }
    if (metadata) rd_kafka_metadata_destroy(metadata);
    if (handle) rd_kafka_topic_destroy(handle);
    return n;
}

static void not_met(const sl_sensor_spec *spec, rd_kafka_resp_err_t code, const char *what, char *detail,
                    size_t size)
{
    snprintf(detail, size, "kafka brokers '%s': %s %s: %s", spec->kafka_brokers, what, spec->topic,
             rd_kafka_err2str(code));
}

static int poke_lag(const sl_sensor_spec *spec, rd_kafka_t *client, int32_t n, bool *is_met, char *detail,
                    size_t size)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int32_t p = 0; p < n; p++) rd_kafka_topic_partition_list_add(list, spec->topic, p);
    rd_kafka_resp_err_t code = rd_kafka_committed(client, list, REQUEST_TIMEOUT_MS);
    int64_t lag = 0;
    int32_t behind = 0;
    for (int32_t p = 0; code == RD_KAFKA_RESP_ERR_NO_ERROR && p < n; p++) {
        int64_t low = 0, high = 0;
        code = rd_kafka_query_watermark_offsets(client, spec->topic, p, &low, &high, REQUEST_TIMEOUT_MS);
        if (code) break;
        int64_t committed = list->elems[p].offset;
        int64_t at = committed < low ? low : committed;
        if (high > at) {
            lag += high - at;
            behind++;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (code) {
        not_met(spec, code, "reading group's offsets on", detail, size);
        return SL_OK;
    }
    *is_met = lag == 0;
    if (lag == 0)
        snprintf(detail, size, "group %s has read all %" PRId32 " partitions of %s (Kafka) to their end", spec->group,
                 n, spec->topic);
    else
        snprintf(detail, size, "group %s has a lag of %" PRId64 " on %" PRId32 " of %" PRId32 " partitions of %s "
                 "(Kafka)", spec->group, lag, behind, n, spec->topic);
    return SL_OK;
}

static int poke_event_time(const sl_sensor_spec *spec, rd_kafka_t *client, int32_t n, bool *is_met, char *detail,
                           size_t size)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int32_t p = 0; p < n; p++) rd_kafka_topic_partition_list_add(list, spec->topic, p)->offset = spec->after_ms;
    rd_kafka_resp_err_t code = rd_kafka_offsets_for_times(client, list, REQUEST_TIMEOUT_MS);
    char when[SL_TIME_ISO_MAX];
    sl_time_format_iso(spec->after_ms * 1000, when);
    if (code) {
        rd_kafka_topic_partition_list_destroy(list);
        not_met(spec, code, "looking up times in", detail, size);
        return SL_OK;
    }
    for (int32_t p = 0; p < n; p++) {
        const rd_kafka_topic_partition_t *at = &list->elems[p];
        if (at->err || at->offset < 0) continue;   /* -1: no record at or past the time */
        *is_met = true;
        snprintf(detail, size, "%s (Kafka) partition %" PRId32 " offset %" PRId64 " has a timestamp at or past %s",
                 spec->topic, at->partition, at->offset, when);
        rd_kafka_topic_partition_list_destroy(list);
        return SL_OK;
    }
    rd_kafka_topic_partition_list_destroy(list);
    snprintf(detail, size, "no record of %s (Kafka) has a timestamp at or past %s yet", spec->topic, when);
    return SL_OK;
}

int sl__sensor_poke_kafka(const sl_sensor_spec *spec, sl_sensor_state *state, bool *is_met, char *detail,
                          size_t detail_size, sl_error *err)
{
    *is_met = false;
    if (!state->kafka) {
        int rc = open_client(spec, state, err);
        if (rc) return rc;
    }
    rd_kafka_resp_err_t code;
    int32_t n = partition_count(state->kafka, spec->topic, &code);
    if (code) {
        not_met(spec, code, "reading the metadata of", detail, detail_size);
        return SL_OK;
    }
    if (n == 0) {
        snprintf(detail, detail_size, "topic %s does not exist on Kafka yet", spec->topic);
        return SL_OK;
    }
    if (spec->until == SL_SENSOR_LAG_ZERO) return poke_lag(spec, state->kafka, n, is_met, detail, detail_size);
    return poke_event_time(spec, state->kafka, n, is_met, detail, detail_size);
}
