/* config_json.h — a loaded config file as JSON with its secrets shown as
 * *** (GET /api/v1/config): a value under a key that names a secret
 * (core/redact.h), and URL passwords and registered secrets in any other
 * value. */
#ifndef SL_CONFIG_JSON_H
#define SL_CONFIG_JSON_H

#include "config/config.h"
#include "core/buffer.h"

/* Appends node (NULL: null) as JSON: maps as objects, lists as arrays,
 * unquoted numbers, booleans and nulls as themselves, other scalars as
 * strings (after ${VAR} expansion: what the server runs with). */
int sl_config_json_write(sl_buffer *out, const sl_node *node);

#endif
