/* decimal.c — strict unsigned decimal integers (see decimal.h). */
#include "core/decimal.h"

bool sl_decimal_read(const char **at, uint64_t max, uint64_t *value)
{
    const char *p = *at;
    uint64_t result = 0;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (result > (max - digit) / 10) return false;
        result = result * 10 + digit;
    }
    *value = result;
    *at = p;
    return true;
}
