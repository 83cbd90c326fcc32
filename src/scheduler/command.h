/* command.h — running a command task: a program with its arguments (a
 * shell only when the task asks for one), its stdout and stderr captured
 * into the task's log file with the last SL_TASK_LOG_TAIL bytes kept in
 * memory for the metadata store, a timeout, and cancellation.
 *
 * The command runs in its own process group, so a timeout or a cancel
 * ends everything it started: SIGTERM to the group, then SIGKILL after
 * SL_COMMAND_KILL_GRACE_MS if it is still there. While it runs, its group
 * and start time may be kept in a pid file, so that a runner started after
 * a crash can end what the crashed one left running.
 */
#ifndef SL_COMMAND_H
#define SL_COMMAND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SL_TASK_LOG_TAIL (64 * 1024)
#define SL_COMMAND_KILL_GRACE_MS 5000

typedef struct sl_command_spec {
    const char *const *argv;     /* program and arguments, NULL-ended; or NULL with shell */
    const char *shell;           /* a /bin/sh -c script, when argv is NULL */
    const char *const *env;      /* NAME=value entries added to the environment, NULL-ended; may be NULL */
    const char *cwd;             /* NULL = the server's */
    int64_t timeout_ms;          /* 0 = no limit */
    const char *log_path;        /* output appended here; NULL = kept only in the tail */
    const char *pid_path;        /* while it runs, "PGID START" here (sl_command_kill_orphan); NULL = none */
} sl_command_spec;

typedef struct sl_command_result {
    int exit_code;               /* 0..255, or -1 when a signal ended it */
    int term_signal;             /* the signal that ended it, or 0 */
    bool is_timed_out;
    bool is_canceled;
    int64_t duration_ms;
    char *tail;                  /* the last SL_TASK_LOG_TAIL bytes of output (malloc'ed, NUL-ended) */
    size_t tail_len;
} sl_command_result;

/* Runs spec to its end, or until the timeout passes or *cancel is set
 * (cancel may be NULL). SL_OK when the command ran, whatever its exit
 * status (see result); an error when it could not start (a program not
 * found, a log file that cannot be opened), with err naming it. The
 * caller frees result->tail with sl_command_result_free. */
int sl_command_run(const sl_command_spec *spec, const atomic_bool *cancel, sl_command_result *result,
                   sl_error *err);

void sl_command_result_free(sl_command_result *result);

/* A command whose runner died (the server killed with -9) goes on in its
 * process group, and would run beside the try that retries it. Given the
 * pid file such a runner left, kills that group when its leader is still
 * the process that was started (same pid and start time), then removes the
 * file; *killed says whether a group was killed. */
int sl_command_kill_orphan(const char *pid_path, bool *killed, sl_error *err);

/* "exit 0", "exit 3", "killed by SIGKILL", "timed out after 10 s" ... */
void sl_command_describe(const sl_command_result *result, const sl_command_spec *spec, char *out, size_t size);

#endif
