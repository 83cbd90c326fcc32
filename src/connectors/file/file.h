/* file.h — the `file` connector: JSON lines from and to a file.
 *
 * Its settings are the tables in file.c (`sluice connectors file`,
 * docs/connectors.md); see file.c for behaviour. The conf structs are
 * public so tests (and the stdio connector) can fill them without the
 * config loader.
 */
#ifndef SL_CONNECTOR_FILE_H
#define SL_CONNECTOR_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "core/buffer.h"

typedef struct sl_file_source_conf {
    char *path;
    char *format;               /* "jsonl" (NULL = jsonl) */
    bool tail;
    int64_t poll_interval_ms;   /* <= 0: 200 ms */
    int64_t max_record_bytes;   /* <= 0: 1 MiB */
    char *start;                /* "resume" (NULL = resume) | "beginning" */
} sl_file_source_conf;

typedef struct sl_file_sink_conf {
    char *path;
    bool fsync;
} sl_file_sink_conf;

extern const sl_source_ops sl_file_source;
extern const sl_sink_ops sl_file_sink;

/* Appends every record of batch to out as one JSON line: its value written
 * as JSON when has_value, else its raw bytes (line breaks in raw, which
 * valid JSON only has as whitespace, become spaces), else `null`.
 * Shared with the stdio sink. */
int sl_file_format_lines(sl_buffer *out, const sl_batch *batch);

#endif
