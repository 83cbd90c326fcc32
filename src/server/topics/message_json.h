/* message_json.h — one record of a topic as the API shows it (docs/api.md,
 * MESSAGE): partition, offset, time, key, value and headers, each decoded
 * as far as its bytes allow.
 *
 * A value whose bytes are one JSON value is written as that JSON
 * ("value_encoding":"json"); other valid UTF-8 as a string ("utf8"); any
 * other bytes as base64 ("base64"). Keys and header values are text or
 * base64 the same way (never parsed as JSON). For a dead letter the
 * sluice.* headers are also given as "error", "stage" and "origin" (with
 * "topic", "partition" and "offset" where their headers are).
 */
#ifndef SL_MESSAGE_JSON_H
#define SL_MESSAGE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/batch.h"
#include "server/dags/dag_json.h"

/* Whether bytes[0..len) are valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool sl_message_is_utf8(const char *bytes, size_t len);

/* Writes record as a MESSAGE object; with is_dead_letter also its
 * "error", "stage" and "origin" from the sluice.* headers (null where a
 * header is missing). scratch is an arena for the JSON check (reset by the
 * caller between records as it likes). */
void sl_message_json_write(sl_json_out *out, const sl_record *record, bool is_dead_letter, sl_arena *scratch);

#endif
