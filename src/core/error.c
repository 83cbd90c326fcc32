/* error.c — names and messages for the SL_ERRORS list, and the sl_error
 * helpers every module uses to report what went wrong and where. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_error_set(sl_error *err, int code, const char *format, ...)
{
    if (err) {
        va_list args;
        va_start(args, format);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, format, args);
        va_end(args);
    }
    return code;
}

void sl_error_prefix(sl_error *err, const char *format, ...)
{
    if (!err) return;
    char prefix[256];
    char old[sizeof err->message];
    va_list args;
    va_start(args, format);
    vsnprintf(prefix, sizeof prefix, format, args);
    va_end(args);
    memcpy(old, err->message, sizeof old);
    size_t prefix_len = strnlen(prefix, sizeof prefix);
    size_t old_len = strnlen(old, sizeof old - 1);
    if (prefix_len > sizeof err->message - 1) prefix_len = sizeof err->message - 1;
    if (old_len > sizeof err->message - 1 - prefix_len) old_len = sizeof err->message - 1 - prefix_len;
    memcpy(err->message, prefix, prefix_len);
    memcpy(err->message + prefix_len, old, old_len);
    err->message[prefix_len + old_len] = '\0';
}

const char *sl_error_name(int code)
{
    switch (code) {
#define SL__ERROR_NAME(name, value, message) \
    case value: return #name;
        SL_ERRORS(SL__ERROR_NAME)
#undef SL__ERROR_NAME
    }
    return "SL_E?";
}

const char *sl_error_message(int code)
{
    switch (code) {
#define SL__ERROR_MESSAGE(name, value, message) \
    case value: return message;
        SL_ERRORS(SL__ERROR_MESSAGE)
#undef SL__ERROR_MESSAGE
    }
    return "unknown error";
}

void sl_error_clear(sl_error *err)
{
    if (!err) return;
    err->code = SL_OK;
    err->message[0] = '\0';
}
