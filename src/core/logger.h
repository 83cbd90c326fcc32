/* logger.h — diagnostic log lines on stderr, text or JSON, and the status
 * line below them.
 *
 * One line per call: "2026-11-25T13:57:22.123Z WARN log: message". Thread
 * safe (one write(2) per line, under one lock). The level and format are set
 * once at start from the config's `log:` block.
 *
 * The status line (`sluice run`'s progress on a terminal) is owned here too,
 * so it never runs into a log line: while one is shown, a log line first
 * clears it ("\r", ESC[K), then it is drawn again below the log line, all in
 * the same write(2). Only for a terminal: the caller decides.
 */
#ifndef SL_LOGGER_H
#define SL_LOGGER_H

#include <stddef.h>

typedef enum sl_level {
    SL_LEVEL_DEBUG = 0,
    SL_LEVEL_INFO,
    SL_LEVEL_WARN,
    SL_LEVEL_ERROR,
    SL_LEVEL_OFF,
} sl_level;

void sl_logger_configure(sl_level level, int is_json);
sl_level sl_logger_level(void);
/* Parses "debug"/"info"/"warn"/"error"/"off"; -1 when unknown. */
int sl_level_parse(const char *text);

void sl_logger_write(sl_level level, const char *component, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Shows text (one line, no newline; NULL or "" clears it) as the status
 * line on stderr, in place of the one shown before. */
void sl_logger_status(const char *text);

/* Writes text (len bytes, whole lines) to stderr as it is, in one piece
 * between log lines, clearing the status line before and drawing it after
 * (`sluice run`'s summary, which log lines of threads still winding down
 * must not split). */
void sl_logger_print(const char *text, size_t len);

#define sl_debug(component, ...) sl_logger_write(SL_LEVEL_DEBUG, component, __VA_ARGS__)
#define sl_info(component, ...) sl_logger_write(SL_LEVEL_INFO, component, __VA_ARGS__)
#define sl_warn(component, ...) sl_logger_write(SL_LEVEL_WARN, component, __VA_ARGS__)
#define sl_error_log(component, ...) sl_logger_write(SL_LEVEL_ERROR, component, __VA_ARGS__)

#endif
