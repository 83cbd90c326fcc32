/* fuzz_cron.c — libFuzzer target for cron expressions (scheduler/cron.c):
 * an expression that parses must give fire times that increase and match
 * it; one that does not must say why. The zone is the built-in UTC, so the
 * target needs no tz database.
 */
#include "fuzz_util.h"

#include "core/tz.h"
#include "scheduler/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char text[256];
    if (size >= sizeof text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sl_cron cron;
    sl_error err = { 0 };
    if (sl_cron_parse(text, &cron, &err) != SL_OK) {
        fuzz_check(err.message[0] != '\0', "a cron error without a message");
        return 0;
    }
    static sl_tz *utc;
    if (!utc) {
        setenv("TZDIR", "/nonexistent", 1);   /* the built-in UTC */
        fuzz_check(sl_tz_load("UTC", &utc, &err) == SL_OK, "no UTC zone");
    }
    int64_t after = 1767225600;   /* 2026-01-01 */
    for (int i = 0; i < 20; i++) {
        int64_t next;
        if (sl_cron_next(&cron, utc, after, &next) != SL_OK) break;
        fuzz_check(next > after && next % 60 == 0, "a fire time not after the last or not on a minute");
        fuzz_check(cron.minutes >> (next / 60 % 60) & 1, "a fire time in a minute the expression excludes");
        after = next;
    }
    return 0;
}
