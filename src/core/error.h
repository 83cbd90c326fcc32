/* error.h — every sluice error code, its name and message, from one list.
 *
 * Functions that can fail return int: SL_OK (0) or a negative SL_E* code, and
 * fill an optional sl_error with the detail a user needs (what and where).
 * SL_EOF and SL_EAGAIN are not failures: they tell a caller that a bounded
 * source is exhausted, or that nothing is available right now.
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stddef.h>

#define SL_ERRORS(X)                                     \
    X(SL_OK, 0, "ok")                                    \
    X(SL_ENOMEM, -1, "out of memory")                    \
    X(SL_EPARSE, -2, "parse error")                      \
    X(SL_EIO, -3, "i/o error")                           \
    X(SL_ECORRUPT, -4, "corrupt data")                   \
    X(SL_ETIMEOUT, -5, "timed out")                      \
    X(SL_ECONFIG, -6, "configuration error")             \
    X(SL_EINVAL, -7, "invalid argument")                 \
    X(SL_ENOTFOUND, -8, "not found")                     \
    X(SL_EEXIST, -9, "already exists")                   \
    X(SL_ELOCKED, -10, "locked by another process")      \
    X(SL_ETYPE, -11, "wrong type")                       \
    X(SL_ETOOBIG, -12, "too big")                        \
    X(SL_ESQL, -13, "sql error")                         \
    X(SL_ESINK, -14, "sink error")                       \
    X(SL_ECANCELED, -15, "canceled")                     \
    X(SL_EOF, -16, "end of input")                       \
    X(SL_EAGAIN, -17, "nothing available now")           \
    X(SL_EUSAGE, -18, "usage error")                     \
    X(SL_EINTERRUPTED, -19, "interrupted by a signal")

enum {
#define SL__ERROR_ENUM(name, code, message) name = code,
    SL_ERRORS(SL__ERROR_ENUM)
#undef SL__ERROR_ENUM
};

/* Error detail filled by a failing function: the code and a message that
 * names what went wrong and where (file:line:column, topic/partition/offset,
 * server and what it said). */
typedef struct sl_error {
    int code;
    char message[512];
} sl_error;

/* Records code and a printf-style message in err (err may be NULL); returns
 * code so callers can write `return sl_error_set(err, SL_EIO, ...)`. */
int sl_error_set(sl_error *err, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message with more context ("pipeline x: " + message). */
void sl_error_prefix(sl_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* "SL_EIO" for SL_EIO; "SL_E?" for unknown codes. */
const char *sl_error_name(int code);

/* "i/o error" for SL_EIO. */
const char *sl_error_message(int code);

/* Clears err to SL_OK and an empty message. */
void sl_error_clear(sl_error *err);

#endif
