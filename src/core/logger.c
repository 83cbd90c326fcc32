/* logger.c — diagnostic lines on stderr (see logger.h). */
#include "core/logger.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sl_level current_level = SL_LEVEL_INFO;
static int use_json = 0;

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

void sl_logger_write(sl_level level, const char *component, const char *format, ...)
{
    if (level < current_level) return;
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

    char line[2400];
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
        n = snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"message\":\"%s\"}\n",
                     when, level_name(level), component, escaped);
    } else {
        n = snprintf(line, sizeof line, "%s %s %s: %s\n", when, level_name(level), component, message);
    }
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    ssize_t written = write(STDERR_FILENO, line, (size_t)n);
    (void)written; /* nowhere left to report a failed write to stderr */
}
