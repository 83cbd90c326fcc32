/* cron_test.c — time zones from TZif files (core/tz.c) and cron expressions
 * (scheduler/cron.c): parse errors name the field and column; names, steps,
 * lists and aliases; the day-of-month/day-of-week rule; month ends and leap
 * days; wall times skipped or repeated by daylight saving time in zones of
 * both hemispheres and with a half-hour change; POSIX rules past the last
 * transition; hostile zone files and names. (tests/e2e/test_cron.py
 * compares thousands of expressions with croniter and a brute-force
 * reference.) */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/tz.h"
#include "scheduler/cron.h"

static sl_tz *zone(const char *name)
{
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_tz_load(name, &tz, &err), SL_OK, "%s: %s", name, err.message);
    return tz;
}

static int64_t utc(const char *text)
{
    int64_t us;
    cr_assert_eq(sl_time_parse_iso(text, strlen(text), &us), SL_OK, "%s", text);
    return us / 1000000;
}

/* The next `n` fire times of expression after `after` in `zone_name`, as
 * wall times with offsets joined by spaces. */
static void expect_fires(const char *expression, const char *zone_name, const char *after, int n,
                         const char *expected)
{
    sl_cron cron;
    sl_error err = { 0 };
    cr_assert_eq(sl_cron_parse(expression, &cron, &err), SL_OK, "%s: %s", expression, err.message);
    sl_tz *tz = zone(zone_name);
    char got[1024] = "";
    int64_t t = utc(after);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(sl_cron_next(&cron, tz, t, &t), SL_OK, "%s: no fire %d", expression, i);
        char text[SL_TIME_ISO_MAX];
        sl_time_format_offset(t * 1000000, sl_tz_offset(tz, t), text);
        strcat(got, i ? " " : "");
        strcat(got, text);
    }
    sl_tz_free(tz);
    cr_assert_str_eq(got, expected, "%s in %s after %s", expression, zone_name, after);
}

static void expect_error(const char *expression, const char *message)
{
    sl_cron cron;
    sl_error err = { 0 };
    cr_assert_eq(sl_cron_parse(expression, &cron, &err), SL_EPARSE, "'%s' parsed", expression);
    cr_assert(strstr(err.message, message), "'%s': got \"%s\", expected \"%s\"", expression, err.message, message);
}

Test(cron, mistakes_name_the_field_and_column)
{
    expect_error("0 25 * * *", "hour at column 3: 25 is out of range 0-23");
    expect_error("61 * * * *", "minute at column 1: 61 is out of range 0-59");
    expect_error("* * 0 * *", "day of month at column 5: 0 is out of range 1-31");
    expect_error("* * * 13 *", "month at column 7: 13 is out of range 1-12");
    expect_error("* * * * 8", "day of week at column 9: 8 is out of range 0-7");
    expect_error("* * * foo *", "month at column 7: 'foo' is not a number or a name (jan..dec)");
    expect_error("* * * * mon-xyz", "day of week at column 13: 'xyz' is not a number or a name (sun..sat)");
    expect_error("*/0 * * * *", "minute at column 3: the step '0' is not a number from 1 to 60");
    expect_error("*/x * * * *", "the step 'x' is not a number");
    expect_error("5-1 * * * *", "the range 5-1 goes backwards");
    expect_error("1,,2 * * * *", "minute at column 3: an empty item in a list");
    expect_error("* * * *", "has 4 fields; it needs 5");
    expect_error("0 * * * * *", "has 6 fields; it needs 5");
    expect_error("", "has 0 fields");
    expect_error("@fortnightly", "unknown alias '@fortnightly'");
    expect_error("@daily 5", "nothing may follow @daily");
    expect_error("0 0 30 2 *", "never fires");
    expect_error("0 0 31 4,6,9,11 *", "never fires");
}

Test(cron, names_steps_lists_and_aliases)
{
    expect_fires("*/20 * * * *", "UTC", "2026-01-01T00:00:00Z", 4,
                 "2026-01-01T00:20:00+00:00 2026-01-01T00:40:00+00:00 2026-01-01T01:00:00+00:00 "
                 "2026-01-01T01:20:00+00:00");
    expect_fires("5/20 9-10 * * *", "UTC", "2026-01-01T00:00:00Z", 4,
                 "2026-01-01T09:05:00+00:00 2026-01-01T09:25:00+00:00 2026-01-01T09:45:00+00:00 "
                 "2026-01-01T10:05:00+00:00");
    expect_fires("0 12 * JAN,jul Sat", "UTC", "2026-01-01T00:00:00Z", 3,
                 "2026-01-03T12:00:00+00:00 2026-01-10T12:00:00+00:00 2026-01-17T12:00:00+00:00");
    expect_fires("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", 1, "2026-01-04T00:00:00+00:00");
    expect_fires("@weekly", "UTC", "2026-01-01T00:00:00Z", 1, "2026-01-04T00:00:00+00:00");
    expect_fires("@monthly", "UTC", "2026-01-15T00:00:00Z", 2, "2026-02-01T00:00:00+00:00 2026-03-01T00:00:00+00:00");
    expect_fires("@yearly", "UTC", "2026-01-01T00:00:00Z", 1, "2027-01-01T00:00:00+00:00");
    expect_fires("@hourly", "UTC", "2026-01-01T00:59:59Z", 1, "2026-01-01T01:00:00+00:00");
    expect_fires("0 9-17/4 * * mon-fri", "UTC", "2026-01-02T10:00:00Z", 3,
                 "2026-01-02T13:00:00+00:00 2026-01-02T17:00:00+00:00 2026-01-05T09:00:00+00:00");
}

Test(cron, fire_times_are_strictly_after_the_start)
{
    expect_fires("0 0 * * *", "UTC", "2026-01-01T00:00:00Z", 1, "2026-01-02T00:00:00+00:00");
    expect_fires("0 0 * * *", "UTC", "2025-12-31T23:59:59Z", 1, "2026-01-01T00:00:00+00:00");
}

Test(cron, both_day_fields_restricted_means_either)
{
    /* The 13th, and every Friday: as cron and croniter do. */
    expect_fires("0 0 13 * fri", "UTC", "2026-02-01T00:00:00Z", 4,
                 "2026-02-06T00:00:00+00:00 2026-02-13T00:00:00+00:00 2026-02-20T00:00:00+00:00 "
                 "2026-02-27T00:00:00+00:00");
    /* Only a "*" item leaves a day field out; a step of 1 or 0-6 lists days. */
    expect_fires("0 0 */1 * fri", "UTC", "2026-02-01T00:00:00Z", 1, "2026-02-02T00:00:00+00:00");
    expect_fires("0 0 8 * 0-6", "UTC", "2026-02-01T00:00:00Z", 1, "2026-02-02T00:00:00+00:00");
    expect_fires("0 0 8 * *", "UTC", "2026-02-01T00:00:00Z", 1, "2026-02-08T00:00:00+00:00");
    expect_fires("0 0 8 * mon,*", "UTC", "2026-02-01T00:00:00Z", 1, "2026-02-08T00:00:00+00:00");
    expect_fires("0 0 */2 * fri", "UTC", "2026-02-01T00:00:00Z", 3,
                 "2026-02-03T00:00:00+00:00 2026-02-05T00:00:00+00:00 2026-02-06T00:00:00+00:00");
}

Test(cron, month_ends_and_leap_days)
{
    expect_fires("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", 3,
                 "2026-03-31T00:00:00+00:00 2026-05-31T00:00:00+00:00 2026-07-31T00:00:00+00:00");
    expect_fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 3,
                 "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00 2036-02-29T00:00:00+00:00");
    /* 2100 is not a leap year. */
    expect_fires("0 0 29 2 *", "UTC", "2097-01-01T00:00:00Z", 1, "2104-02-29T00:00:00+00:00");
}

Test(cron, a_wall_time_skipped_in_spring_does_not_fire)
{
    /* Berlin: 2026-03-29 02:00 CET becomes 03:00 CEST. */
    expect_fires("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 3,
                 "2026-03-28T02:30:00+01:00 2026-03-30T02:30:00+02:00 2026-03-31T02:30:00+02:00");
    expect_fires("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:15:00Z", 3,
                 "2026-03-29T01:30:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:30:00+02:00");
    /* New York: 2026-03-08 02:00 EST becomes 03:00 EDT. */
    expect_fires("0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2,
                 "2026-03-09T02:00:00-04:00 2026-03-10T02:00:00-04:00");
}

Test(cron, a_wall_time_repeated_in_autumn_fires_once)
{
    /* New York: 2026-11-01 02:00 EDT becomes 01:00 EST. */
    expect_fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2,
                 "2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00");
    expect_fires("0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", 3,
                 "2026-11-01T01:00:00-04:00 2026-11-01T02:00:00-05:00 2026-11-01T03:00:00-05:00");
    /* Started inside the second pass of the repeated hour: its times already fired. */
    expect_fires("45 1 * * *", "America/New_York", "2026-11-01T06:10:00Z", 1, "2026-11-02T01:45:00-05:00");
    /* Berlin: 2026-10-25 03:00 CEST becomes 02:00 CET. */
    expect_fires("15 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2,
                 "2026-10-25T02:15:00+02:00 2026-10-26T02:15:00+01:00");
}

Test(cron, southern_and_half_hour_zones)
{
    /* Sydney: DST ends 2026-04-05 03:00 AEDT → 02:00 AEST, starts 2026-10-04 02:00 → 03:00. */
    expect_fires("30 2 * * *", "Australia/Sydney", "2026-04-04T00:00:00Z", 2,
                 "2026-04-05T02:30:00+11:00 2026-04-06T02:30:00+10:00");
    expect_fires("30 2 * * *", "Australia/Sydney", "2026-10-03T00:00:00Z", 2,
                 "2026-10-05T02:30:00+11:00 2026-10-06T02:30:00+11:00");
    /* Lord Howe changes by half an hour: 02:00 → 02:30 on 2026-10-04. */
    expect_fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 2,
                 "2026-10-05T02:15:00+11:00 2026-10-06T02:15:00+11:00");
    expect_fires("45 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 1, "2026-10-04T02:45:00+11:00");
    expect_fires("0 0 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", 1, "2026-01-02T00:00:00+05:30");
}

Test(tz, rules_apply_past_the_last_transition)
{
    sl_tz *berlin = zone("Europe/Berlin");
    cr_assert_eq(sl_tz_offset(berlin, utc("2150-07-01T00:00:00Z")), 7200);
    cr_assert_eq(sl_tz_offset(berlin, utc("2150-01-01T00:00:00Z")), 3600);
    /* The last Sunday of March 2150 is the 29th; the change is at 01:00 UTC. */
    cr_assert_eq(sl_tz_offset(berlin, utc("2150-03-29T00:59:59Z")), 3600);
    cr_assert_eq(sl_tz_offset(berlin, utc("2150-03-29T01:00:00Z")), 7200);
    sl_tz_free(berlin);
    sl_tz *sydney = zone("Australia/Sydney");
    cr_assert_eq(sl_tz_offset(sydney, utc("2150-01-01T00:00:00Z")), 39600);
    cr_assert_eq(sl_tz_offset(sydney, utc("2150-07-01T00:00:00Z")), 36000);
    sl_tz_free(sydney);
}

Test(tz, gaps_and_folds_of_wall_times)
{
    sl_tz *tz = zone("America/New_York");
    int64_t instants[2];
    cr_assert_eq(sl_tz_from_local(tz, utc("2026-03-08T02:30:00Z"), instants), 0);
    cr_assert_eq(sl_tz_from_local(tz, utc("2026-11-01T01:30:00Z"), instants), 2);
    cr_assert_eq(instants[0], utc("2026-11-01T05:30:00Z"));
    cr_assert_eq(instants[1], utc("2026-11-01T06:30:00Z"));
    cr_assert_eq(sl_tz_from_local(tz, utc("2026-07-01T12:00:00Z"), instants), 1);
    cr_assert_eq(instants[0], utc("2026-07-01T16:00:00Z"));
    sl_tz_free(tz);
}

Test(tz, names_that_are_not_zones_are_refused)
{
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_tz_load("Mars/Olympus", &tz, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, "unknown time zone 'Mars/Olympus'"), "%s", err.message);
    const char *bad[] = { "../../etc/passwd", "/etc/localtime", "Europe/../UTC", "", "Europe/", "a b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(sl_tz_load(bad[i], &tz, &err), SL_EINVAL, "'%s'", bad[i]);
        cr_assert_null(tz);
    }
    /* A directory of the database is not a zone. */
    cr_assert_neq(sl_tz_load("Europe", &tz, &err), SL_OK);
}

Test(tz, utc_works_without_a_database)
{
    const char *saved = getenv("TZDIR");
    setenv("TZDIR", "/nonexistent-tz-dir", 1);
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_tz_load("UTC", &tz, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_tz_offset(tz, 0), 0);
    sl_tz_free(tz);
    cr_assert_eq(sl_tz_load("Europe/Berlin", &tz, &err), SL_ENOTFOUND);
    if (saved) setenv("TZDIR", saved, 1);
    else unsetenv("TZDIR");
}

static uint8_t *read_zone_file(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *file = fopen(path, "rb");
    cr_assert_not_null(file, "%s", path);
    uint8_t *bytes = malloc(1 << 20);
    cr_assert_not_null(bytes);
    *len = fread(bytes, 1, 1 << 20, file);
    fclose(file);
    return bytes;
}

Test(tz, damaged_files_are_errors_not_crashes)
{
    size_t len;
    uint8_t *bytes = read_zone_file("Europe/Berlin", &len);
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    /* Every truncation of a real file is refused or parses; none crashes. */
    for (size_t cut = 0; cut < len; cut++) {
        if (sl_tz_parse(bytes, cut, "Europe/Berlin", &tz, &err) == SL_OK) sl_tz_free(tz);
        else cr_assert(err.message[0] != '\0');
    }
    cr_assert_eq(sl_tz_parse(bytes, 43, "cut", &tz, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "not a TZif file"), "%s", err.message);
    /* A header claiming huge counts. */
    uint8_t *copy = malloc(len);
    memcpy(copy, bytes, len);
    memset(copy + 32, 0xff, 4);
    cr_assert_eq(sl_tz_parse(copy, len, "huge", &tz, &err), SL_ECORRUPT);
    /* A footer that is not a POSIX rule. */
    memcpy(copy, bytes, len);
    size_t footer = len - 2;
    while (copy[footer - 1] != '\n') footer--;
    copy[footer] = '!';
    cr_assert_eq(sl_tz_parse(copy, len, "footer", &tz, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "is not a POSIX TZ rule"), "%s", err.message);
    free(copy);
    free(bytes);
}
