/* key_text.h — the message key a value becomes when a `key:` path (or
 * --key-path) points at it, the way a Kafka user expects:
 *   missing or null        -> null key (no key: ptr NULL)
 *   string, bytes          -> its bytes; "" is an empty key, not a null one
 *   int, double, bool      -> its JSON text: 42, 1.5, true
 *   timestamp              -> its ISO-8601 UTC text, without quotes
 *   object, array          -> its compact JSON text
 * An empty key is a real key: Kafka's partitioner hashes it like any other.
 */
#ifndef SL_KEY_TEXT_H
#define SL_KEY_TEXT_H

#include "core/buffer.h"
#include "core/value.h"

/* Sets *key to the key text of value (NULL = missing). The text points into
 * value's own memory or into scratch (cleared first), so it lives until
 * scratch is reused; copy it to keep it. SL_ENOMEM on a failed append. */
int sl_key_text(const sl_value *value, sl_buffer *scratch, sl_str *key);

#endif
