/* tz.h — IANA time zones from the system's tz database, per call.
 *
 * The scheduler fires cron schedules in named zones ("Europe/Berlin") while
 * other threads run; the C library only converts through the process-wide
 * TZ variable, so zones are read here from their TZif files
 * (/usr/share/zoneinfo, or $TZDIR) and queried without global state.
 * A loaded zone is immutable and may be shared between threads.
 */
#ifndef SL_TZ_H
#define SL_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sl_tz sl_tz;

/* Loads zone `name` ("UTC", "America/New_York"). An unknown name is
 * SL_ENOTFOUND, a name that is not a zone name (absolute, "..") SL_EINVAL,
 * a damaged file SL_ECORRUPT; err names the zone and the file. */
int sl_tz_load(const char *name, sl_tz **out, sl_error *err);

/* Builds a zone from the bytes of a TZif file (RFC 8536, versions 1 to 4);
 * `name` is kept for messages. Hostile bytes are SL_ECORRUPT. */
int sl_tz_parse(const uint8_t *bytes, size_t len, const char *name, sl_tz **out, sl_error *err);

void sl_tz_free(sl_tz *tz);

const char *sl_tz_name(const sl_tz *tz);

/* Seconds east of UTC in effect at utc_seconds (since the Unix epoch). */
int32_t sl_tz_offset(const sl_tz *tz, int64_t utc_seconds);

/* The instants at which the zone's wall clock shows local_seconds (seconds
 * since 1970-01-01 00:00 of local time): none in a gap (the hour skipped in
 * spring), two in a fold (the hour repeated in autumn), else one. Fills
 * utc[] in increasing order and returns how many. */
size_t sl_tz_from_local(const sl_tz *tz, int64_t local_seconds, int64_t utc[2]);

/* Parses an ISO-8601 date or date-time ("2026-03-29", "2026-03-29T01:30",
 * with or without seconds) into µs since the epoch: with an offset or Z as
 * written, without one as a wall time of tz (the first occurrence of a
 * repeated one). A wall time that does not exist in tz, or text that is
 * not a date, is SL_EPARSE with err saying which. */
int sl_tz_parse_time(const sl_tz *tz, const char *text, int64_t *us, sl_error *err);

#endif
