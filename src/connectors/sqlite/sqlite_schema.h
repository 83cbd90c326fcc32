/* sqlite_schema.h — tables of the sqlite sink: column lists, type mapping,
 * CREATE TABLE and the upsert statement's text.
 *
 * Type mapping (value → column type when the sink creates a table):
 *   int → INTEGER, double → REAL, bool → INTEGER (0/1), string → TEXT,
 *   timestamp → TEXT (ISO-8601 UTC), interval → TEXT (PostgreSQL's, "1 day
 *   02:00:00"), object/array → TEXT (JSON),
 *   bytes → BLOB, null or missing → TEXT.
 * Identifiers are always double-quoted with "" escaping, so any column name
 * a record can carry is safe in SQL text.
 */
#ifndef SL_CONNECTOR_SQLITE_SCHEMA_H
#define SL_CONNECTOR_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/batch.h"
#include "connectors/common/columns.h"
#include "core/value.h"

/* The column type for a value (see the table above). */
const char *sl_sqlite_type_of(const sl_value *value);

/* Declared columns from a mapping node `name: SQL type`, in order. Errors
 * (SL_ECONFIG) point at the node's file:line:column. */
int sl_sqlite_columns_from_node(const sl_node *node, sl_columns *out, sl_error *err);

/* Columns named names, typed from the values the batch's records hold under
 * each name: one type when every non-null value maps to it (TEXT when all
 * are null or missing), and no declared type when they differ (e.g. ints
 * and strings), so SQLite stores each value as given instead of converting
 * "0196" to 196. */
int sl_sqlite_columns_infer(const char *const *names, size_t n_names, const sl_batch *batch,
                            sl_columns *out);

/* Columns from the top-level members of record (an object), typed by value. */
int sl_sqlite_columns_from_record(const sl_value *record, sl_columns *out);

/* Reads table's columns (PRAGMA table_info) into out; *exists is false and
 * out empty when there is no such table. Errors: SL_ESINK with sqlite's message. */
int sl_sqlite_table_columns(sqlite3 *db, const char *table, sl_columns *out, bool *exists,
                            sl_error *err);

/* CREATE TABLE IF NOT EXISTS with PRIMARY KEY(key) (key columns NOT NULL)
 * when key has columns. Errors: SL_ESINK with sqlite's message. */
int sl_sqlite_create_table(sqlite3 *db, const char *table, const sl_columns *columns,
                           const sl_columns *key, sl_error *err);

/* The insert of one row into columns: an upsert on key (DO UPDATE SET of
 * every other column, DO NOTHING when all are key) or a plain INSERT. */
int sl_sqlite_build_insert(sl_buffer *sql, const char *table, const sl_columns *columns,
                           const sl_columns *key);

/* Appends name as a quoted identifier: "a""b" for a"b. */
int sl_sqlite_append_identifier(sl_buffer *sql, const char *name);

/* The class of a failure with sqlite's (extended) result code sqlite_rc:
 * transient for BUSY and LOCKED (another connection holds the lock), FULL
 * (the disk is full: space may be freed), IOERR (the device failed this
 * time) and NOMEM; permanent for everything else: READONLY and CANTOPEN
 * (permissions, a read-only directory or file system), PERM, AUTH,
 * CORRUPT, NOTADB, and ERROR (no such table or column, SQL mismatch). */
sl_error_class sl_sqlite_error_class(int sqlite_rc);

/* Fails with SL_ESINK naming the first column of wanted that table lacks
 * (a permanent error: the table must change, or the config). */
int sl_sqlite_check_columns(const sl_columns *wanted, const sl_columns *table_columns,
                            const char *what, const char *table, sl_error *err);

#endif
