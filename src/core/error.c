/* error.c — names and messages for the SL_ERRORS list, and the sl_error
 * helpers every module uses to report what went wrong and where. */
#include "core/error.h"

#include "core/redact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"

static int error_set(sl_error *err, int code, sl_error_class error_class, const char *format, va_list args)
{
    if (err) {
        err->code = code;
        err->error_class = error_class;
        int n = vsnprintf(err->message, sizeof err->message, format, args);
        /* Cut short: never in the middle of a character, so the message
         * stays valid UTF-8 wherever it goes (a dead letter's header). */
        if (n >= (int)sizeof err->message)
            err->message[sl_utf8_complete_len(err->message, sizeof err->message - 1)] = '\0';
        sl_redact_text(err->message, sizeof err->message);   /* a message never carries a secret onward */
    }
    return code;
}

int sl_error_set(sl_error *err, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    error_set(err, code, SL_ERROR_UNCLASSIFIED, format, args);
    va_end(args);
    return code;
}

int sl_error_set_transient(sl_error *err, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    error_set(err, code, SL_ERROR_TRANSIENT, format, args);
    va_end(args);
    return code;
}

int sl_error_set_permanent(sl_error *err, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    error_set(err, code, SL_ERROR_PERMANENT, format, args);
    va_end(args);
    return code;
}

int sl_error_mark(sl_error *err, sl_error_class error_class)
{
    if (!err) return SL_EIO;
    err->error_class = error_class;
    return err->code;
}

bool sl_error_is_transient(const sl_error *err)
{
    if (err->error_class == SL_ERROR_TRANSIENT) return true;
    if (err->error_class == SL_ERROR_PERMANENT) return false;
    return err->code == SL_EIO || err->code == SL_ETIMEOUT || err->code == SL_ESINK || err->code == SL_ELOCKED;
}

sl_error_class sl_error_class_of_errno(int errnum)
{
    switch (errnum) {
    case EINTR:
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EBUSY:
    case ENOMEM:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN: return SL_ERROR_TRANSIENT;
    default: return SL_ERROR_PERMANENT;
    }
}

const char *sl_error_class_name(const sl_error *err)
{
    return sl_error_is_transient(err) ? "transient" : "permanent";
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
    prefix_len = sl_utf8_complete_len(prefix, prefix_len);
    if (old_len > sizeof err->message - 1 - prefix_len)
        old_len = sl_utf8_complete_len(old, sizeof err->message - 1 - prefix_len);
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
    err->error_class = SL_ERROR_UNCLASSIFIED;
    err->message[0] = '\0';
}
