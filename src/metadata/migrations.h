/* migrations.h — the metadata store's schema, as an ordered table of
 * forward-only migration steps (migrations.c).
 *
 * Step i (from 0) takes a store from version i to version i + 1; each
 * backend runs a step's SQL and records it in schema_migrations in one
 * transaction, so a store is always at a whole version. The version of a
 * store is the largest version in its schema_migrations (0 when it has no
 * such table). A step, once released, never changes: a change of schema is
 * a new step at the end.
 */
#ifndef SL_METADATA_MIGRATIONS_H
#define SL_METADATA_MIGRATIONS_H

#include <stddef.h>

typedef struct sl_meta_migration {
    int version;                     /* the version the step brings a store to */
    const char *name;                /* recorded in schema_migrations.name */
    const char *sqlite_sql;          /* statements separated by ';' */
    const char *postgres_sql;
} sl_meta_migration;

extern const sl_meta_migration sl_meta_migrations[];
extern const size_t sl_meta_n_migrations;

/* The version table, created before the first step (IF NOT EXISTS). */
extern const char sl_meta_sqlite_version_table[];
extern const char sl_meta_postgres_version_table[];

#endif
