/* cassandra_schema.h — the cassandra sink's columns, type mapping and CQL
 * text (CREATE KEYSPACE, CREATE TABLE, INSERT).
 *
 * Type mapping when the sink creates a table (a declared `columns:` type
 * always wins, column by column):
 *
 *   sluice value            CQL type
 *   string                  text
 *   int                     bigint
 *   double                  double
 *   int and double mixed    double
 *   bool                    boolean
 *   timestamp               timestamp
 *   interval                text, PostgreSQL's ("1 day 02:00:00"); a column
 *                           declared (or existing as) duration gets a CQL
 *                           duration, field for field (months, days, µs as
 *                           ns), refused when the fields' signs differ
 *   bytes                   blob
 *   array                   list<text>
 *   object                  map<text, text>
 *   strings and numbers     text (numbers are written as their JSON text,
 *   mixed, or only nulls     e.g. the seed's postcodes: 4061 and "V4Z 2P4")
 *
 * Types are looked at over the whole first batch. Identifiers are always
 * double-quoted, so column names keep their case exactly.
 */
#ifndef SL_CONNECTOR_CASSANDRA_SCHEMA_H
#define SL_CONNECTOR_CASSANDRA_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "connectors/common/columns.h"
#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"

/* Checks a declared `columns:` mapping (name: CQL type) and copies it to
 * out; errors name the file:line:column of the bad entry. */
int sl_cassandra_columns_from_node(const sl_node *node, sl_columns *out, sl_error *err);

/* The CQL type for the values column `name` takes in batch (table above). */
const char *sl_cassandra_infer_type(const sl_batch *batch, const char *name);

/* Columns for a new table: names in order (the SQL's output columns, or the
 * first record's keys when names is NULL), each typed from declared or
 * from batch. */
int sl_cassandra_columns_plan(const char *const *names, size_t n_names, const sl_columns *declared,
                              const sl_batch *batch, sl_columns *out, sl_error *err);

/* Appends "name" (double-quoted, inner quotes doubled). */
int sl_cassandra_append_identifier(sl_buffer *out, const char *name);

/* CREATE KEYSPACE IF NOT EXISTS "ks" WITH replication = {...}; replication
 * is a mapping (class: SimpleStrategy, replication_factor: 1) or NULL for
 * SimpleStrategy with replication_factor 1. */
int sl_cassandra_build_create_keyspace(sl_buffer *out, const char *keyspace, const sl_node *replication,
                                       sl_error *err);

/* CREATE TABLE IF NOT EXISTS "ks"."t" (... PRIMARY KEY ((pk...), ck...)).
 * partition_key: the first n_partition names of key; the rest cluster. */
int sl_cassandra_build_create_table(sl_buffer *out, const char *keyspace, const char *table,
                                    const sl_columns *columns, char *const *key, size_t n_key,
                                    size_t n_partition, sl_error *err);

/* INSERT INTO "ks"."t" ("a", "b") VALUES (?, ?) [USING TTL n]. */
int sl_cassandra_build_insert(sl_buffer *out, const char *keyspace, const char *table,
                              const sl_columns *columns, int64_t ttl_seconds);

#endif
