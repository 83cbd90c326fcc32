/* sensor_test.c — the topic sensor (scheduler/sensor.c): a group's lag
 * reaching 0, a record past the interval end arriving (found again only in
 * what arrived since the last poke), a topic that does not exist yet, and
 * waiting until a timeout or a cancel. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/logger.h"
#include "scheduler/sensor.h"
#include "test_util.h"

static char dir[256];
static sl_log *log_;

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "sensor");
    sl_logger_configure(SL_LEVEL_ERROR, 0);
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(dir, &log_, &err), SL_OK, "%s", err.message);
}

static void teardown(void)
{
    sl_log_close(log_);
    test_remove_tree(dir);
}

TestSuite(sensor, .init = setup, .fini = teardown);

static sl_topic *make_topic(const char *name, int32_t partitions)
{
    sl_topic_config config = { .partitions = partitions };
    sl_topic *topic = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_topic_create(log_, name, &config, &topic, &err), SL_OK, "%s", err.message);
    return topic;
}

static void append(sl_topic *topic, int32_t partition, int64_t timestamp_ms, size_t n)
{
    sl_record records[16];
    cr_assert(n <= 16);
    memset(records, 0, sizeof records);
    for (size_t i = 0; i < n; i++) {
        records[i].raw = (sl_str){ "{}", 2 };
        records[i].timestamp_ms = timestamp_ms;
    }
    sl_error err = { 0 };
    cr_assert_eq(sl_topic_append(topic, partition, records, n, NULL, &err), SL_OK, "%s", err.message);
}

static bool poke(const sl_sensor_spec *spec, sl_sensor_state *state, char *detail)
{
    bool is_met = false;
    sl_error err = { 0 };
    cr_assert_eq(sl_sensor_poke(log_, spec, state, &is_met, detail, 256, &err), SL_OK, "%s", err.message);
    return is_met;
}

Test(sensor, lag_zero_when_the_group_has_read_every_partition)
{
    sl_topic *topic = make_topic("events", 2);
    append(topic, 0, 1000, 5);
    append(topic, 1, 1000, 3);
    sl_sensor_spec spec = { .topic = "events", .group = "loader", .until = SL_SENSOR_LAG_ZERO };
    sl_sensor_state state = { 0 };
    char detail[256];
    cr_assert_not(poke(&spec, &state, detail));
    cr_assert_str_eq(detail, "group loader has a lag of 8 on 2 of 2 partitions of events");
    sl_error err = { 0 };
    int64_t offsets[2] = { 5, 1 };
    cr_assert_eq(sl_log_group_commit(log_, "loader", "events", offsets, 2, &err), SL_OK);
    cr_assert_not(poke(&spec, &state, detail));
    cr_assert_str_eq(detail, "group loader has a lag of 2 on 1 of 2 partitions of events");
    offsets[1] = 3;
    cr_assert_eq(sl_log_group_commit(log_, "loader", "events", offsets, 2, &err), SL_OK);
    cr_assert(poke(&spec, &state, detail));
    sl_sensor_state_free(&state);
}

Test(sensor, event_time_past_the_interval_end)
{
    sl_topic *topic = make_topic("clicks", 2);
    append(topic, 0, 1000, 4);
    append(topic, 1, 1999, 2);
    sl_sensor_spec spec = { .topic = "clicks", .until = SL_SENSOR_EVENT_TIME_PAST, .after_ms = 2000 };
    sl_sensor_state state = { 0 };
    char detail[256];
    cr_assert_not(poke(&spec, &state, detail));
    cr_assert_str_eq(detail, "no record of clicks has a timestamp at or past 1970-01-01T00:00:02Z yet");
    cr_assert_eq(state.scanned[0], 4);
    cr_assert_eq(state.scanned[1], 2);
    append(topic, 1, 2000, 1);
    cr_assert(poke(&spec, &state, detail));
    cr_assert_str_eq(detail, "clicks partition 1 offset 2 has a timestamp at or past 1970-01-01T00:00:02Z");
    sl_sensor_state_free(&state);
}

Test(sensor, a_missing_topic_is_waited_for)
{
    sl_sensor_spec spec = { .topic = "later", .group = "g", .until = SL_SENSOR_LAG_ZERO };
    sl_sensor_state state = { 0 };
    char detail[256];
    cr_assert_not(poke(&spec, &state, detail));
    cr_assert_str_eq(detail, "topic later does not exist yet");
}

Test(sensor, waiting_ends_at_the_timeout_or_a_cancel_saying_what_was_seen)
{
    sl_topic *topic = make_topic("slow", 1);
    append(topic, 0, 1000, 1);
    sl_sensor_spec spec = { .topic = "slow", .group = "g", .until = SL_SENSOR_LAG_ZERO, .poke_interval_ms = 20,
                            .timeout_ms = 200 };
    char detail[256];
    sl_error err = { 0 };
    cr_assert_eq(sl_sensor_wait(log_, &spec, NULL, detail, sizeof detail, &err), SL_ETIMEOUT);
    cr_assert_str_eq(err.message, "sensor on slow: not met within 200 ms; last seen: group g has a lag of 1 on 1 of 1 "
                                  "partitions of slow");
    atomic_bool cancel;
    atomic_init(&cancel, true);
    spec.timeout_ms = 0;
    cr_assert_eq(sl_sensor_wait(log_, &spec, &cancel, detail, sizeof detail, &err), SL_ECANCELED);
    int64_t offsets[1] = { 1 };
    cr_assert_eq(sl_log_group_commit(log_, "g", "slow", offsets, 1, &err), SL_OK);
    cr_assert_eq(sl_sensor_wait(log_, &spec, NULL, detail, sizeof detail, &err), SL_OK);
}
