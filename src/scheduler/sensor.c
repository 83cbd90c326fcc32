/* sensor.c — the topic sensor (see sensor.h). Lag is the topic's end
 * offsets minus the group's committed ones (a partition the group never
 * committed counts from its start). The event-time search goes on from
 * where the last poke stopped, so each poke reads only what arrived since.
 */
#include "scheduler/sensor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/timefmt.h"

#define SENSOR_BATCH_RECORDS 4096
#define SENSOR_WAIT_STEP_MS 50

void sl_sensor_state_free(sl_sensor_state *state)
{
    sl__sensor_kafka_free(state);
    free(state->scanned);
    sl_batch_free(state->batch);
    memset(state, 0, sizeof *state);
}

static int poke_lag(sl_log *log, const sl_sensor_spec *spec, sl_topic *topic, bool *is_met, char *detail,
                    size_t size, sl_error *err)
{
    int32_t n = sl_topic_partitions(topic);
    int64_t *committed = calloc((size_t)n, sizeof *committed);
    if (!committed) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_log_group_load(log, spec->group, spec->topic, committed, n, err);
    int64_t lag = 0;
    int32_t behind = 0;
    for (int32_t p = 0; rc == SL_OK && p < n; p++) {
        int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
        int64_t at = committed[p] < start ? start : committed[p];
        if (end > at) {
            lag += end - at;
            behind++;
        }
    }
    free(committed);
    if (rc) return rc;
    *is_met = lag == 0;
    if (lag == 0) snprintf(detail, size, "group %s has read all %" PRId32 " partitions of %s to their end", spec->group, n, spec->topic);
    else snprintf(detail, size, "group %s has a lag of %" PRId64 " on %" PRId32 " of %" PRId32 " partitions of %s",
                  spec->group, lag, behind, n, spec->topic);
    return SL_OK;
}

static int poke_event_time(const sl_sensor_spec *spec, sl_topic *topic, sl_sensor_state *state, bool *is_met,
                           char *detail, size_t size, sl_error *err)
{
    int32_t n = sl_topic_partitions(topic);
    if (state->n_partitions != n) {
        free(state->scanned);
        state->scanned = calloc((size_t)n, sizeof *state->scanned);
        state->n_partitions = state->scanned ? n : 0;
        if (!state->scanned) return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    if (!state->batch && !(state->batch = sl_batch_new(SENSOR_BATCH_RECORDS)))
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    char when[SL_TIME_ISO_MAX];
    sl_time_format_iso(spec->after_ms * 1000, when);
    *is_met = false;
    for (int32_t p = 0; p < n; p++) {
        int64_t found;
        int rc = sl_topic_offset_for_time(topic, p, state->scanned[p], spec->after_ms, state->batch, &found,
                                          &state->scanned[p], err);
        if (rc) return rc;
        if (found >= 0) {
            *is_met = true;
            snprintf(detail, size, "%s partition %" PRId32 " offset %" PRId64 " has a timestamp at or past %s",
                     spec->topic, p, found, when);
            return SL_OK;
        }
    }
    snprintf(detail, size, "no record of %s has a timestamp at or past %s yet", spec->topic, when);
    return SL_OK;
}

int sl_sensor_poke(sl_log *log, const sl_sensor_spec *spec, sl_sensor_state *state, bool *is_met, char *detail,
                   size_t detail_size, sl_error *err)
{
    *is_met = false;
    if (spec->kafka_brokers) return sl__sensor_poke_kafka(spec, state, is_met, detail, detail_size, err);
    sl_topic *topic = NULL;
    int rc = sl_log_topic_open(log, spec->topic, &topic, err);
    if (rc == SL_ENOTFOUND) {
        snprintf(detail, detail_size, "topic %s does not exist yet", spec->topic);
        return SL_OK;
    }
    if (rc) return rc;
    if (spec->until == SL_SENSOR_LAG_ZERO) return poke_lag(log, spec, topic, is_met, detail, detail_size, err);
    return poke_event_time(spec, topic, state, is_met, detail, detail_size, err);
}

int sl_sensor_wait(sl_log *log, const sl_sensor_spec *spec, const atomic_bool *cancel, char *detail,
                   size_t detail_size, sl_error *err)
{
    sl_sensor_state state = { 0 };
    int64_t started = sl_clock_monotonic_ms();
    int rc;
    for (;;) {
        bool is_met = false;
        rc = sl_sensor_poke(log, spec, &state, &is_met, detail, detail_size, err);
        if (rc || is_met) break;
        int64_t next = sl_clock_monotonic_ms() + (spec->poke_interval_ms > 0 ? spec->poke_interval_ms : 1000);
        bool is_canceled = false, is_late = false;
        while (sl_clock_monotonic_ms() < next && !is_canceled && !is_late) {
            sl_sleep_ms(SENSOR_WAIT_STEP_MS);
            is_canceled = cancel && atomic_load(cancel);
            is_late = spec->timeout_ms > 0 && sl_clock_monotonic_ms() - started >= spec->timeout_ms;
        }
        if (is_canceled) {
            rc = sl_error_set(err, SL_ECANCELED, "sensor on %s: canceled; last seen: %s", spec->topic, detail);
            break;
        }
        if (is_late) {
            rc = sl_error_set(err, SL_ETIMEOUT, "sensor on %s: not met within %" PRId64 " ms; last seen: %s",
                              spec->topic, spec->timeout_ms, detail);
            break;
        }
    }
    sl_sensor_state_free(&state);
    return rc;
}
