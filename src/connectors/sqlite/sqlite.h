/* sqlite.h — the `sqlite` sink: rows upserted into a table of an SQLite
 * database, the embedded stand-in for Cassandra.
 *
 * Its settings are the table in sqlite.c (`sluice connectors sqlite`,
 * docs/connectors.md). See sqlite.c for behaviour and sqlite_schema.h for
 * the type map.
 */
#ifndef SL_CONNECTOR_SQLITE_H
#define SL_CONNECTOR_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "config/options.h"
#include "connectors/connector.h"

typedef struct sl_sqlite_conf {
    char *path;
    char *table;
    sl_str_list key;
    const sl_node *columns;     /* NULL: columns come from the SQL or the first record */
    char *synchronous;          /* "off", "normal", "full" (NULL = normal) */
    int64_t busy_timeout_ms;    /* how long a locked database is retried */
    bool create;                /* create the table when it is missing */
} sl_sqlite_conf;

extern const sl_sink_ops sl_sqlite_sink;

#endif
