/* sqlite_lookup.h — reading one row of an SQLite table by key, for a SQL
 * lookup join (JOIN t FOR SYSTEM_TIME AS OF ...). One handle per thread:
 * its own read-only connection and prepared statement. */
#ifndef SL_SQLITE_LOOKUP_H
#define SL_SQLITE_LOOKUP_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

typedef struct sl_sqlite_lookup sl_sqlite_lookup;

/* Opens path read-only and prepares SELECT * FROM table WHERE key = ?...;
 * a missing file, table or column is an error naming it. */
int sl_sqlite_lookup_open(const char *path, const char *table, const char *const *key_columns, size_t n_keys,
                          sl_sqlite_lookup **out, sl_error *err);
void sl_sqlite_lookup_close(sl_sqlite_lookup *lookup);

/* The row whose key columns equal keys: 1 with *row an object (in arena;
 * columns by name, INTEGER → int, REAL → double, TEXT → string, BLOB →
 * bytes), 0 when none (a NULL key matches none, as in SQL), SL_ESQL when
 * more than one does (a lookup key must be unique), SL_EIO (transient when
 * the database is busy past its timeout). */
int sl_sqlite_lookup_get(sl_sqlite_lookup *lookup, const sl_value *keys, sl_arena *arena, sl_value *row,
                         sl_error *err);

#endif
