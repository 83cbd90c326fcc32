/* amount.h — durations and sizes written as text, for config settings and
 * command-line flags alike (one parser, so `--for 90` and
 * `retry_limit: 90` mean the same).
 *
 *   duration  one or more <number><unit> terms, units ms, s, m, h, d:
 *             "500ms", "10s", "2m", "1h30m", "1.5s", "1h 30m". A bare
 *             number is seconds ("90" = 90s). A fraction is allowed in
 *             any term; below 1 ms it truncates ("0.5ms" = 0).
 *   size      <number><unit>, any case: B, KB/MB/GB/TB (powers of 1000),
 *             KiB/MiB/GiB/TiB (powers of 1024); a bare number is bytes.
 *             "1K" is refused: say KB or KiB.
 * Neither may be negative. Up to 6 fraction digits count; further ones are
 * read and ignored. Errors: SL_EPARSE for text that is not one, SL_ETOOBIG
 * past INT64_MAX milliseconds or bytes.
 */
#ifndef SL_AMOUNT_H
#define SL_AMOUNT_H

#include <stdint.h>

/* "1h30m" → 5400000; "90" → 90000. */
int sl_parse_duration(const char *text, int64_t *ms);

/* "64KiB" → 65536; "512" → 512. */
int sl_parse_size(const char *text, int64_t *bytes);

#endif
