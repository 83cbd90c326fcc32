/* stdio.h — the `stdio` connector: JSON lines on stdin and stdout. */
#ifndef SL_CONNECTOR_STDIO_H
#define SL_CONNECTOR_STDIO_H

#include <stdint.h>

#include "connectors/connector.h"

typedef struct sl_stdio_source_conf {
    int64_t max_record_bytes;   /* <= 0: 1 MiB */
} sl_stdio_source_conf;

extern const sl_source_ops sl_stdio_source;
extern const sl_sink_ops sl_stdio_sink;

#endif
