/* columns.h — an ordered list of table columns with their type text, as
 * the table sinks (sqlite, cassandra) plan, create and write them. Owns
 * its strings (malloc'ed). */
#ifndef SL_CONNECTOR_COLUMNS_H
#define SL_CONNECTOR_COLUMNS_H

#include <stddef.h>

typedef struct sl_columns {
    char **names;
    char **types;      /* the sink's type text ("TEXT", "list<text>"; "" when none) */
    size_t n_columns;
} sl_columns;

/* Frees the strings and empties the list. */
void sl_columns_free(sl_columns *columns);

/* Appends name (len bytes) with type (NULL = ""); SL_ENOMEM. */
int sl_columns_add(sl_columns *columns, const char *name, size_t len, const char *type);

/* Index of the column named name (len bytes), or -1. */
long sl_columns_find(const sl_columns *columns, const char *name, size_t len);

#endif
