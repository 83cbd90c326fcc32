/* json.h — strict JSON (RFC 8259) reader and compact writer over sl_value.
 *
 * The reader builds values in an arena. Strings without escapes point into
 * the input text itself (no copy), so the text must live as long as the
 * value: in a pipeline both live in the same batch arena. Malformed input is
 * rejected with the byte offset, line and column of the first bad byte.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/value.h"

/* Deepest nesting of arrays/objects the reader accepts. */
#define SL_JSON_MAX_DEPTH 128

/* Parses exactly one JSON value (surrounding whitespace allowed) from
 * text[0..len) into out. Errors: SL_EPARSE with "line L column C (byte B): what". */
int sl_json_parse(sl_arena *arena, const char *text, size_t len, sl_value *out, sl_error *err);

/* Which members of an object a reader keeps: keys[i] is kept, whole when
 * children[i] is NULL, else narrowed by children[i] if its value is an
 * object. Members not listed are checked as strictly as the rest (bad JSON
 * anywhere is still an error) but are not built, which is what makes a
 * projected parse cheaper. Arrays and scalars are kept whole. */
typedef struct sl_json_projection sl_json_projection;
struct sl_json_projection {
    size_t n_keys;
    const sl_str *keys;
    const sl_json_projection *const *children;
};

/* sl_json_parse keeping only what projection names (NULL = everything). */
int sl_json_parse_projected(sl_arena *arena, const char *text, size_t len,
                            const sl_json_projection *projection, sl_value *out, sl_error *err);

/* Appends value as compact JSON to out. Timestamps are written as
 * ISO-8601 UTC strings, bytes as base64 strings, non-finite doubles as the
 * strings "Infinity", "-Infinity" and "NaN" (as PostgreSQL's to_json). */
int sl_json_write(sl_buffer *out, const sl_value *value);

/* Appends text as a JSON string literal (quotes and escapes included). */
int sl_json_write_string(sl_buffer *out, const char *text, size_t len);

#endif
