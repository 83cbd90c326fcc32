/* decimal.h — strict reading of unsigned decimal integers from text that
 * sluice wrote and reads back from disk (group offsets, file positions).
 *
 * sscanf("%lld") is undefined when the number does not fit; these read
 * digits only, refuse what overflows, and say where they stopped, so a file
 * with hostile or damaged numbers is refused instead of misread.
 */
#ifndef SL_DECIMAL_H
#define SL_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>

/* Reads one or more digits at *at (no sign, no spaces) as a value at most
 * max; on success stores it in *value, moves *at past the digits and
 * returns true. False (nothing moved) when there is no digit or the number
 * passes max. */
bool sl_decimal_read(const char **at, uint64_t max, uint64_t *value);

#endif
