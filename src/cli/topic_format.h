/* topic_format.h — how `sluice topic consume` prints a record: kcat's -f
 * format strings, the -K key/value shorthand, --metadata JSON, and the
 * backslash escapes -f and -K share.
 *
 * The letters are kcat's (%s value, %k key, %o offset...; the table in
 * topic_format.c, printed by sl_topic_format_usage), plus %v for the value
 * and %% for a percent sign. Escapes: \n \r \t \\ and \xHH. A null key or
 * value prints nothing for %k / %s and -1 for %K / %S. Anything else after
 * % or \ is an error. */
#ifndef SL_TOPIC_FORMAT_H
#define SL_TOPIC_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include "core/batch.h"
#include "core/buffer.h"

typedef struct sl_topic_format sl_topic_format;

/* Compiles a -f format string; on a mistake returns NULL with why (naming
 * the character and its position) filled. The caller frees the result. */
sl_topic_format *sl_topic_format_compile(const char *text, char *why, size_t why_size);

/* "KEY<delimiter>VALUE\n": what -K DELIM prints (delimiter already decoded). */
sl_topic_format *sl_topic_format_keyed(const char *delimiter, size_t len);

/* One JSON object per line: partition, offset, timestamp, key, headers, value. */
sl_topic_format *sl_topic_format_json(void);

void sl_topic_format_free(sl_topic_format *format);

/* Appends record (read from topic) to out as format says. SL_ENOMEM when
 * out cannot grow. */
int sl_topic_format_render(const sl_topic_format *format, const char *topic, const sl_record *record,
                           sl_buffer *out);

/* Prints the format letters and escapes (for --help). */
void sl_topic_format_usage(FILE *out);

/* Decodes text's backslash escapes into a malloc'ed copy (*out, *len;
 * may hold NUL bytes). NULL with why filled on a bad escape or no memory. */
char *sl_topic_unescape(const char *text, size_t *len, char *why, size_t why_size);

#endif
