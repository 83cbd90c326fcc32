/* buffer.c — growable byte buffer (see buffer.h). */
#include "core/buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int sl_buffer_reserve(sl_buffer *buffer, size_t more)
{
    if (buffer->capacity - buffer->len >= more) return SL_OK;
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    while (capacity - buffer->len < more) {
        if (capacity > SIZE_MAX / 2) return SL_ENOMEM;
        capacity *= 2;
    }
    char *grown = realloc(buffer->data, capacity);
    if (!grown) return SL_ENOMEM;
    buffer->data = grown;
    buffer->capacity = capacity;
    return SL_OK;
}

int sl_buffer_append(sl_buffer *buffer, const void *bytes, size_t len)
{
    int rc = sl_buffer_reserve(buffer, len);
    if (rc) return rc;
    if (len) memcpy(buffer->data + buffer->len, bytes, len);
    buffer->len += len;
    return SL_OK;
}

int sl_buffer_append_cstr(sl_buffer *buffer, const char *text)
{
    return sl_buffer_append(buffer, text, strlen(text));
}

int sl_buffer_append_byte(sl_buffer *buffer, char byte)
{
    int rc = sl_buffer_reserve(buffer, 1);
    if (rc) return rc;
    buffer->data[buffer->len++] = byte;
    return SL_OK;
}

int sl_buffer_printf(sl_buffer *buffer, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0) return SL_EINVAL;
    int rc = sl_buffer_reserve(buffer, (size_t)needed + 1);
    if (rc) return rc;
    va_start(args, format);
    vsnprintf(buffer->data + buffer->len, (size_t)needed + 1, format, args);
    va_end(args);
    buffer->len += (size_t)needed;
    return SL_OK;
}

void sl_buffer_free(sl_buffer *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = buffer->capacity = 0;
}
