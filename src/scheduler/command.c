/* command.c — running a command task (see command.h).
 *
 * posix_spawn starts the program in a new process group with the signal
 * mask and dispositions reset (the server blocks and ignores signals the
 * command must see). Its stdout and stderr share one pipe, read here in
 * slices of POLL_MS so the timeout and the cancel flag are checked while it
 * runs; every byte goes to the log file and into the tail.
 */
#include "scheduler/command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"

#define POLL_MS 100

extern char **environ;

/* ---- the tail ---- */

typedef struct tail {
    char *bytes;      /* up to 2 * SL_TASK_LOG_TAIL, the last SL_TASK_LOG_TAIL kept on overflow */
    size_t len;
} tail;

static int tail_add(tail *t, const char *bytes, size_t len)
{
    if (len >= SL_TASK_LOG_TAIL) {
        bytes += len - SL_TASK_LOG_TAIL;
        len = SL_TASK_LOG_TAIL;
        t->len = 0;
    }
    if (!t->bytes && !(t->bytes = malloc(2 * SL_TASK_LOG_TAIL + 1))) return SL_ENOMEM;
    if (t->len + len > 2 * SL_TASK_LOG_TAIL) {
        size_t keep = SL_TASK_LOG_TAIL - len;
        memmove(t->bytes, t->bytes + t->len - keep, keep);
        t->len = keep;
    }
    memcpy(t->bytes + t->len, bytes, len);
    t->len += len;
    return SL_OK;
}

/* Leaves the last SL_TASK_LOG_TAIL bytes, NUL-ended, in result. */
static int tail_finish(tail *t, sl_command_result *result)
{
    if (!t->bytes && !(t->bytes = malloc(1))) return SL_ENOMEM;
    size_t start = t->len > SL_TASK_LOG_TAIL ? t->len - SL_TASK_LOG_TAIL : 0;
    memmove(t->bytes, t->bytes + start, t->len - start);
    result->tail_len = t->len - start;
    t->bytes[result->tail_len] = '\0';
    result->tail = t->bytes;
    t->bytes = NULL;
    return SL_OK;
}

/* ---- the environment ---- */

static bool same_name(const char *a, const char *b)
{
    size_t len = strcspn(a, "=");
    return strncmp(a, b, len) == 0 && b[len] == '=';
}

/* environ with extra's entries replacing or added; frees with free(). */
static char **build_env(const char *const *extra)
{
    size_t n_environ = 0, n_extra = 0;
    while (environ[n_environ]) n_environ++;
    while (extra && extra[n_extra]) n_extra++;
    char **env = calloc(n_environ + n_extra + 1, sizeof *env);
    if (!env) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_environ; i++) {
        bool is_replaced = false;
        for (size_t e = 0; e < n_extra && !is_replaced; e++) is_replaced = same_name(extra[e], environ[i]);
        if (!is_replaced) env[n++] = environ[i];
    }
    for (size_t e = 0; e < n_extra; e++) env[n++] = (char *)extra[e];
    return env;
}

/* ---- running ---- */

static int start(const sl_command_spec *spec, int output_fd, pid_t *pid, sl_error *err)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output_fd, STDERR_FILENO);
    if (spec->cwd) posix_spawn_file_actions_addchdir_np(&actions, spec->cwd);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int reset[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD };
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const char *shell_argv[] = { "/bin/sh", "-c", spec->shell, NULL };
    const char *const *argv = spec->argv ? spec->argv : shell_argv;
    char **env = build_env(spec->env);
    int rc = SL_OK;
    if (!env) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    } else {
        int spawn_rc = posix_spawnp(pid, argv[0], &actions, &attr, (char *const *)argv, env);
        if (spawn_rc == ENOENT)
            rc = sl_error_set_permanent(err, SL_ENOTFOUND, "command '%s': not found%s", argv[0],
                                        strchr(argv[0], '/') ? "" : " on PATH");
        else if (spawn_rc)
            rc = sl_error_set_permanent(err, SL_EIO, "command '%s': cannot start it: %s", argv[0],
                                        strerror(spawn_rc));
    }
    free(env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* ---- pid files ---- */

/* The start time of process pid (clock ticks since boot, /proc/PID/stat's
 * 22nd field), or -1 when there is no such process. */
static long long process_start_time(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = '\0';
    const char *at = strrchr(text, ')');   /* the name may hold spaces and parentheses */
    if (!at) return -1;
    long long start = -1;
    /* After ") ": state, then fields 4..21, then the start time. */
    if (sscanf(at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %lld",
               &start) != 1)
        return -1;
    return start;
}

static void write_pid_file(const char *path, pid_t pid)
{
    char text[64];
    int len = snprintf(text, sizeof text, "%ld %lld\n", (long)pid, process_start_time(pid));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;   /* only a crash would have needed it */
    if (write(fd, text, (size_t)len) != len) {
        close(fd);
        unlink(path);
        return;
    }
    close(fd);
}

int sl_command_kill_orphan(const char *pid_path, bool *killed, sl_error *err)
{
    *killed = false;
    FILE *file = fopen(pid_path, "r");
    if (!file) {
        if (errno == ENOENT) return SL_OK;
        return sl_error_set(err, SL_EIO, "pid file %s: %s", pid_path, strerror(errno));
    }
    long pid = 0;
    long long start = -1;
    int fields = fscanf(file, "%ld %lld", &pid, &start);
    fclose(file);
    if (fields == 2 && pid > 1 && start >= 0 && process_start_time((pid_t)pid) == start) {
        kill(-(pid_t)pid, SIGKILL);
        *killed = true;
    }
    if (unlink(pid_path) != 0 && errno != ENOENT)
        return sl_error_set(err, SL_EIO, "pid file %s: cannot remove it: %s", pid_path, strerror(errno));
    return SL_OK;
}

static int write_all(int fd, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

int sl_command_run(const sl_command_spec *spec, const atomic_bool *cancel, sl_command_result *result,
                   sl_error *err)
{
    memset(result, 0, sizeof *result);
    if (!spec->argv && !spec->shell) return sl_error_set(err, SL_EINVAL, "a command task needs argv or a shell script");
    if (spec->argv && !spec->argv[0]) return sl_error_set(err, SL_EINVAL, "a command task's argv is empty");
    int log_fd = -1;
    if (spec->log_path) {
        log_fd = open(spec->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0)
            return sl_error_set(err, SL_EIO, "task log %s: cannot open it: %s", spec->log_path, strerror(errno));
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        int rc = sl_error_set(err, SL_EIO, "command: pipe: %s", strerror(errno));
        if (log_fd >= 0) close(log_fd);
        return rc;
    }
    int64_t started = sl_clock_monotonic_ms();
    pid_t pid;
    int rc = start(spec, fds[1], &pid, err);
    close(fds[1]);
    if (rc) {
        close(fds[0]);
        if (log_fd >= 0) close(log_fd);
        return rc;
    }
    if (spec->pid_path) write_pid_file(spec->pid_path, pid);
    tail output = { 0 };
    bool is_open = true, has_exited = false, has_log_failed = false;
    int status = 0;
    int64_t kill_at = 0;   /* when SIGKILL follows the SIGTERM already sent */
    char chunk[8192];
    while (!has_exited || is_open) {
        if (is_open) {
            struct pollfd poller = { .fd = fds[0], .events = POLLIN };
            int ready = poll(&poller, 1, POLL_MS);
            if (ready > 0) {
                ssize_t n = read(fds[0], chunk, sizeof chunk);
                if (n > 0) {
                    if (tail_add(&output, chunk, (size_t)n) && rc == SL_OK) rc = SL_ENOMEM;
                    if (log_fd >= 0 && !has_log_failed && write_all(log_fd, chunk, (size_t)n) != 0) has_log_failed = true;
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    is_open = false;
                }
            }
        } else {
            sl_sleep_ms(POLL_MS / 4);
        }
        if (!has_exited) {
            pid_t waited = waitpid(pid, &status, WNOHANG);
            if (waited == pid) has_exited = true;
        }
        /* A background child of the command may hold the pipe open: once
         * the command itself is gone, read what is there and stop. */
        if (has_exited && is_open) {
            struct pollfd poller = { .fd = fds[0], .events = POLLIN };
            if (poll(&poller, 1, 0) <= 0) is_open = false;
        }
        int64_t now = sl_clock_monotonic_ms();
        if (!has_exited && !kill_at) {
            bool is_late = spec->timeout_ms > 0 && now - started >= spec->timeout_ms;
            bool is_canceled = cancel && atomic_load(cancel);
            if (is_late || is_canceled) {
                result->is_timed_out = is_late;
                result->is_canceled = !is_late;
                kill(-pid, SIGTERM);
                kill_at = now + SL_COMMAND_KILL_GRACE_MS;
            }
        } else if (!has_exited && now >= kill_at) {
            kill(-pid, SIGKILL);
        }
    }
    close(fds[0]);
    if (spec->pid_path) unlink(spec->pid_path);
    if (log_fd >= 0 && close(log_fd) != 0) has_log_failed = true;
    result->duration_ms = sl_clock_monotonic_ms() - started;
    if (WIFEXITED(status)) {
        result->exit_code = WEXITSTATUS(status);
    } else {
        result->exit_code = -1;
        result->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (tail_finish(&output, result) && rc == SL_OK) rc = SL_ENOMEM;
    free(output.bytes);
    if (rc == SL_ENOMEM) return sl_error_set(err, SL_ENOMEM, "out of memory");
    if (has_log_failed)
        return sl_error_set(err, SL_EIO, "task log %s: writing the command's output failed: %s", spec->log_path,
                            strerror(errno));
    return SL_OK;
}

void sl_command_result_free(sl_command_result *result)
{
    free(result->tail);
    result->tail = NULL;
    result->tail_len = 0;
}

void sl_command_describe(const sl_command_result *result, const sl_command_spec *spec, char *out, size_t size)
{
    if (result->is_timed_out)
        snprintf(out, size, "timed out after %lld ms", (long long)spec->timeout_ms);
    else if (result->is_canceled)
        snprintf(out, size, "canceled");
    else if (result->exit_code >= 0)
        snprintf(out, size, "exit %d", result->exit_code);
    else
        snprintf(out, size, "killed by SIG%s", result->term_signal ? sigabbrev_np(result->term_signal) : "?");
}
