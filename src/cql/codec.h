/* codec.h — CQL values: sluice values to and from the protocol's [bytes]
 * serialization (native_protocol_v4.spec §6).
 *
 * Encoding converts a record's value to a column's CQL type, strictly but
 * with the conversions JSON input needs (numbers into text columns, ISO-8601
 * text into timestamps, decimal text into varint/decimal, objects into maps).
 * It runs once per column per row, so it appends straight into the request
 * buffer and allocates nothing else. Decoding turns a RESULT cell back into a
 * value living in an arena.
 */
#ifndef SL_CQL_CODEC_H
#define SL_CQL_CODEC_H

#include <stdint.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/value.h"
#include "cql/cql_type.h"

/* Appends value as type's [bytes]: a 4-byte big-endian length, then the
 * content; a null value appends length -1. Returns 0; SL_ETYPE when the value
 * cannot be converted to the type (err says why, quoting the value, e.g.
 * `cannot convert string "abc" to int`; callers prefix the column name), or
 * for types not supported (udt, tuple, custom); SL_ENOMEM. An interval goes
 * into a duration field for field (text is read as an interval), and into
 * text as PostgreSQL's text. On any
 * error out is left as it was. */
int sl_cql_encode_value(const sl_cql_type *type, const sl_value *value, sl_buffer *out,
                        sl_error *err);

/* Appends the "unset" marker (length -2): the column keeps its stored value. */
int sl_cql_encode_unset(sl_buffer *out);

/* Decodes one cell of len bytes (len < 0: null) as type into out; strings,
 * bytes, arrays and objects are copied into arena. Results: text, ascii,
 * date ("YYYY-MM-DD"), time ("HH:MM:SS.nnnnnnnnn"), uuid, timeuuid, inet and
 * decimal (exact text) → STRING; integer types → INT; varint → INT, or
 * STRING of its digits past 64 bits; float/double → DOUBLE; boolean → BOOL;
 * timestamp → TIMESTAMP (µs); blob → BYTES; list/set → ARRAY; map → OBJECT
 * with keys as text. An empty (0-byte) cell of a non-text type decodes as
 * null, as the protocol allows for legacy reasons. Types without a value
 * mapping (duration, udt, tuple, custom) decode as their raw BYTES.
 * Returns 0; SL_ECORRUPT when the bytes do not fit the type (err names the
 * type and the length); SL_ENOMEM. */
int sl_cql_decode_value(const sl_cql_type *type, const uint8_t *bytes, int32_t len,
                        sl_arena *arena, sl_value *out, sl_error *err);

#endif
