/* clock.c — time helpers (see clock.h). */
#include "core/clock.h"

#include <errno.h>
#include <time.h>

static int64_t read_us(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t sl_clock_monotonic_ms(void) { return read_us(CLOCK_MONOTONIC) / 1000; }
int64_t sl_clock_monotonic_us(void) { return read_us(CLOCK_MONOTONIC); }
int64_t sl_clock_wall_ms(void) { return read_us(CLOCK_REALTIME) / 1000; }
int64_t sl_clock_wall_us(void) { return read_us(CLOCK_REALTIME); }

void sl_sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec delay = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
}
