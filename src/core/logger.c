/* logger.c — diagnostic lines and the status line on stderr (see logger.h). */
#include "core/logger.h"

#include "core/redact.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2400          /* one log line, cut short past this */
#define STATUS_MAX_BYTES 512         /* the status line as drawn, escapes included */
#define CLEAR_LINE "\r\033[K"        /* back to column 0, erase to the end of the line */
#define CLEAR_LINE_LEN (sizeof CLEAR_LINE - 1)
#define ERASE_REST "\033[K"
#define ERASE_REST_LEN (sizeof ERASE_REST - 1)

static sl_level current_level = SL_LEVEL_INFO;
static int use_json = 0;

/* Held for every write to stderr from here, and for the status line shown
 * there: status holds the bytes that draw it ("\r", text, ESC[K). */
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static char status[STATUS_MAX_BYTES];
static size_t status_len;            /* 0 = none shown */

void sl_logger_configure(sl_level level, int is_json)
{
    current_level = level;
    use_json = is_json;
}

sl_level sl_logger_level(void)
{
    return current_level;
}

int sl_level_parse(const char *text)
{
    static const char *names[] = { "debug", "info", "warn", "error", "off" };
    for (int i = 0; i < 5; i++)
        if (strcmp(text, names[i]) == 0) return i;
    return -1;
}

static const char *level_name(sl_level level)
{
    switch (level) {
    case SL_LEVEL_DEBUG: return "DEBUG";
    case SL_LEVEL_INFO: return "INFO";
    case SL_LEVEL_WARN: return "WARN";
    case SL_LEVEL_ERROR: return "ERROR";
    default: return "?";
    }
}

/* All of bytes to stderr, or as much as it takes: there is nowhere left to
 * report a failed write to stderr. Called with stderr_lock held. */
static void write_stderr(const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, bytes, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes += n;
        len -= (size_t)n;
    }
}

/* The log line for message into out (LINE_MAX_BYTES), newline included;
 * its length. */
static size_t format_line(char *out, sl_level level, const char *component, const char *message)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
    int n;
    if (use_json) {
        char escaped[1100];
        size_t j = 0;
        for (size_t i = 0; message[i] && j + 7 < sizeof escaped; i++) {
            unsigned char c = (unsigned char)message[i];
            if (c == '"' || c == '\\') {
                escaped[j++] = '\\';
                escaped[j++] = (char)c;
            } else if (c < 0x20) {
                j += (size_t)snprintf(escaped + j, sizeof escaped - j, "\\u%04x", c);
            } else {
                escaped[j++] = (char)c;
            }
        }
        escaped[j] = '\0';
        n = snprintf(out, LINE_MAX_BYTES,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"message\":\"%s\"}\n", when,
                     level_name(level), component, escaped);
    } else {
        n = snprintf(out, LINE_MAX_BYTES, "%s %s %s: %s\n", when, level_name(level), component, message);
    }
    if (n < 0) return 0;
    if ((size_t)n >= LINE_MAX_BYTES) {  /* cut short, still one whole line */
        n = LINE_MAX_BYTES - 1;
        out[n - 1] = '\n';
    }
    return (size_t)n;
}

void sl_logger_write(sl_level level, const char *component, const char *format, ...)
{
    if (level < current_level) return;
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    sl_redact_text(message, sizeof message);   /* no secret reaches a log line */

    /* [clear the status line] log line [the status line again] */
    char line[CLEAR_LINE_LEN + LINE_MAX_BYTES + STATUS_MAX_BYTES];
    pthread_mutex_lock(&stderr_lock);
    size_t at = 0;
    if (status_len) {
        memcpy(line, CLEAR_LINE, CLEAR_LINE_LEN);
        at = CLEAR_LINE_LEN;
    }
    size_t n = format_line(line + at, level, component, message);
    if (n) {
        at += n;
        memcpy(line + at, status, status_len);
        write_stderr(line, at + status_len);
    }
    pthread_mutex_unlock(&stderr_lock);
}

void sl_logger_status(const char *text)
{
    size_t len = text ? strnlen(text, STATUS_MAX_BYTES - 1 - ERASE_REST_LEN) : 0;
    char draw[STATUS_MAX_BYTES];
    size_t at = 0;
    if (len) {
        /* Over the old one, then erase what is left of it. */
        draw[at++] = '\r';
        memcpy(draw + at, text, len);
        at += len;
        memcpy(draw + at, ERASE_REST, ERASE_REST_LEN);
        at += ERASE_REST_LEN;
    }
    pthread_mutex_lock(&stderr_lock);
    if (len) write_stderr(draw, at);
    else if (status_len) write_stderr(CLEAR_LINE, CLEAR_LINE_LEN);
    memcpy(status, draw, at);
    status_len = at;
    pthread_mutex_unlock(&stderr_lock);
}

void sl_logger_print(const char *text, size_t len)
{
    pthread_mutex_lock(&stderr_lock);
    if (status_len) write_stderr(CLEAR_LINE, CLEAR_LINE_LEN);
    write_stderr(text, len);
    write_stderr(status, status_len);
    pthread_mutex_unlock(&stderr_lock);
}
