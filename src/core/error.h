/* error.h — every sluice error code, its name and message, from one list.
 *
 * Functions that can fail return int: SL_OK (0) or a negative SL_E* code, and
 * fill an optional sl_error with the detail a user needs (what and where).
 * SL_EOF and SL_EAGAIN are not failures: they tell a caller that a bounded
 * source is exhausted, or that nothing is available right now.
 *
 * An error also has a class, set where the failure is understood (the
 * connector that saw errno, sqlite's result code, the server's answer):
 * transient (a retry may succeed: server down, timeout, overload, a lock
 * held by another process) or permanent (retrying cannot help: a schema or
 * table mismatch, permission denied, a closed pipe, refused credentials).
 * The runtime retries transient failures with backoff, for a bounded time,
 * and ends the pipeline at once on permanent ones (docs/operations.md).
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stdbool.h>
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
    X(SL_EINCOMPLETE, -19, "stopped before the data was complete") \
    X(SL_EINTERRUPTED, -20, "interrupted by a signal")

enum {
#define SL__ERROR_ENUM(name, code, message) name = code,
    SL_ERRORS(SL__ERROR_ENUM)
#undef SL__ERROR_ENUM
};

/* Whether retrying the failed operation can succeed. */
typedef enum sl_error_class {
    SL_ERROR_UNCLASSIFIED = 0,  /* decided by the code: see sl_error_is_transient */
    SL_ERROR_TRANSIENT,
    SL_ERROR_PERMANENT,
} sl_error_class;

/* Error detail filled by a failing function: the code and a message that
 * names what went wrong and where (file:line:column, topic/partition/offset,
 * server and what it said), and its class. */
typedef struct sl_error {
    int code;
    sl_error_class error_class;
    char message[512];
} sl_error;

/* Records code and a printf-style message in err (err may be NULL); returns
 * code so callers can write `return sl_error_set(err, SL_EIO, ...)`. */
int sl_error_set(sl_error *err, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Like sl_error_set, and marks the error transient or permanent. */
int sl_error_set_transient(sl_error *err, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
int sl_error_set_permanent(sl_error *err, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets err's class (err may be NULL); returns err's code, or SL_EIO without
 * err, so callers can write `return sl_error_mark(err, SL_ERROR_PERMANENT)`. */
int sl_error_mark(sl_error *err, sl_error_class error_class);

/* Whether a retry may succeed: the class when one was set; otherwise by
 * code, where only SL_EIO, SL_ETIMEOUT, SL_ESINK and SL_ELOCKED (the codes
 * of outages and contention) count as transient. */
bool sl_error_is_transient(const sl_error *err);

/* The class of a failed system call's errno: transient for EINTR, EAGAIN,
 * ENOSPC, EDQUOT (space may be freed), EIO, EBUSY, ENOMEM and the network's
 * timeouts, resets and unreachable hosts; permanent for everything else
 * (EPIPE: the reader closed the pipe; EACCES, EPERM, EROFS: permissions or
 * a read-only file system; EBADF, ENOENT, ENOTDIR, EISDIR, EFBIG...). */
sl_error_class sl_error_class_of_errno(int errnum);

/* "transient" or "permanent", as sl_error_is_transient decides. */
const char *sl_error_class_name(const sl_error *err);

/* Prefixes err's message with more context ("pipeline x: " + message). */
void sl_error_prefix(sl_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* "SL_EIO" for SL_EIO; "SL_E?" for unknown codes. */
const char *sl_error_name(int code);

/* "i/o error" for SL_EIO. */
const char *sl_error_message(int code);

/* Clears err to SL_OK, unclassified, and an empty message. */
void sl_error_clear(sl_error *err);

#endif
