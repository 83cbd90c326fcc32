/* value_key.h — a value as the bytes of a key that compare equal exactly
 * when SQL's GROUP BY puts two values in one group: NULL equals NULL, 1
 * equals 1.0, -0.0 equals 0, an interval equals another of the same length
 * (a month as 30 days, a day as 24 hours, as PostgreSQL compares them);
 * strings and bytes by their bytes, arrays and objects by their JSON text.
 * Used to hash and compare the keys of window groups and lookup caches. */
#ifndef SL_VALUE_KEY_H
#define SL_VALUE_KEY_H

#include "core/buffer.h"
#include "core/value.h"

/* Appends v's key bytes to out. SL_OK or SL_ENOMEM. */
int sl_value_append_key(sl_buffer *out, const sl_value *v);

#endif
