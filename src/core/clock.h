/* clock.h — monotonic and wall-clock time in the units sluice uses. */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

int64_t sl_clock_monotonic_ms(void);
int64_t sl_clock_monotonic_us(void);
int64_t sl_clock_wall_ms(void);     /* ms since the Unix epoch */
int64_t sl_clock_wall_us(void);     /* µs since the Unix epoch */
void sl_sleep_ms(int64_t ms);

#endif
