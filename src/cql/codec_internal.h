/* codec_internal.h — what codec.c (encoding) and codec_decode.c share:
 * the date/time constants and calendar, byte
 * order and the shortest round-tripping text of a double. Not for use
 * outside src/cql/codec*.c. */
#ifndef SL_CQL_CODEC_INTERNAL_H
#define SL_CQL_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cql/cql_type.h"

#define NS_PER_DAY INT64_C(86400000000000)
#define DATE_EPOCH (UINT32_C(1) << 31)

/* The fewest significant digits (15 to 17) that read back as d, as %g text. */
void sl_cql_codec_shortest_double(double d, char text[32]);

uint32_t sl_cql_codec_get_be32(const uint8_t *p);

/* A collection's i-th type parameter, or NULL. */
const sl_cql_type *sl_cql_codec_param(const sl_cql_type *type, size_t i);

#endif
