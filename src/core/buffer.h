/* buffer.h — a growable byte buffer with one owner (malloc'ed).
 *
 * Used wherever bytes are assembled before they go out: JSON text, log
 * record batches, CSV lines. Appends grow the buffer geometrically; a failed
 * growth leaves it unchanged and returns SL_ENOMEM.
 */
#ifndef SL_BUFFER_H
#define SL_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_buffer {
    char *data;
    size_t len;
    size_t capacity;
} sl_buffer;

#define SL_BUFFER_INIT { NULL, 0, 0 }

/* Ensures room for `more` bytes past len. */
int sl_buffer_reserve(sl_buffer *buffer, size_t more);
int sl_buffer_append(sl_buffer *buffer, const void *bytes, size_t len);
int sl_buffer_append_cstr(sl_buffer *buffer, const char *text);
int sl_buffer_append_byte(sl_buffer *buffer, char byte);
int sl_buffer_printf(sl_buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Keeps capacity, forgets content. */
static inline void sl_buffer_clear(sl_buffer *buffer) { buffer->len = 0; }
/* Frees the bytes; the buffer may be reused. */
void sl_buffer_free(sl_buffer *buffer);

#endif
