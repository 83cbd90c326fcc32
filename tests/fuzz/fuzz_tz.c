/* fuzz_tz.c — libFuzzer target for TZif files (core/tz.c): the bytes of a
 * zone file are parsed, and a parsed zone answers offset and wall-time
 * queries over a wide range of instants. Errors must carry a message; an
 * offset outside the RFC's bounds or a wall time that does not map back is
 * a finding, as are crashes and sanitizer reports.
 */
#include "fuzz_util.h"

#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    sl_tz *tz = NULL;
    sl_error err = { 0 };
    if (sl_tz_parse(data, size, "fuzz", &tz, &err) != SL_OK) {
        fuzz_check(err.message[0] != '\0', "a zone error without a message");
        return 0;
    }
    for (int64_t t = -INT64_C(4000000000); t < INT64_C(8000000000); t += INT64_C(86400) * 97 + 3613) {
        int32_t offset = sl_tz_offset(tz, t);
        fuzz_check(offset >= -200 * 3600 && offset <= 200 * 3600, "an offset out of bounds");
        int64_t utc[2];
        size_t n = sl_tz_from_local(tz, t + offset, utc);
        fuzz_check(n <= 2, "more than two instants for a wall time");
        for (size_t i = 0; i < n; i++)
            fuzz_check(utc[i] + sl_tz_offset(tz, utc[i]) == t + offset, "a wall time that does not map back");
    }
    sl_tz_free(tz);
    return 0;
}
