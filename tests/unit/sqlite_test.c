/* sqlite_test.c — the sqlite sink: tables created with inferred or declared
 * columns, upserts on key, clear errors for tables lacking a column,
 * constraint failures sent to reject with sqlite's message, every value
 * type bound and read back with sqlite3 directly, locked databases, and a
 * printed throughput figure for the seed's 11 text columns. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/sqlite/sqlite.h"
#include "core/batch.h"
#include "core/clock.h"
#include "core/logger.h"
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------- */

static char dir[64];
static char db_path[128];
static test_rejects seen;
static sl_connector_env env;

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "sqlite");
    snprintf(db_path, sizeof db_path, "%s/sub/dir/test.db", dir);
    memset(&seen, 0, sizeof seen);
    memset(&env, 0, sizeof env);
    env.pipeline = "test";
    env.reject = (sl_reject_handler){ test_collect_reject, &seen };
    sl_logger_configure(SL_LEVEL_ERROR, 0);
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(sqlite, .init = setup, .fini = teardown);

static sl_sqlite_conf conf_for(const char *table, char **key, size_t n_key)
{
    sl_sqlite_conf conf = { .path = db_path, .table = (char *)table,
                            .key = { key, n_key }, .synchronous = "normal",
                            .busy_timeout_ms = 1000, .create = true };
    return conf;
}

static void *open_sink(const sl_sqlite_conf *conf)
{
    void *sink = NULL;
    sl_error err = { 0 };
    int rc = sl_sqlite_sink.open(conf, &env, &sink, &err);
    cr_assert_eq(rc, SL_OK, "open: %s", err.message);
    return sink;
}

static void write_ok(void *sink, const sl_batch *batch)
{
    sl_error err = { 0 };
    int rc = sl_sqlite_sink.write(sink, batch, &err);
    cr_assert_eq(rc, SL_OK, "write: %s", err.message);
}

/* Starts an object record; add fields with the helpers below. */
static sl_record *begin_record(sl_batch *batch, sl_object_builder *builder, int64_t offset)
{
    sl_record *record = sl_batch_add(batch);
    cr_assert_not_null(record);
    record->offset = offset;
    record->has_value = true;
    sl_object_begin(builder, batch->arena, 4);
    return record;
}

static void add_field(sl_object_builder *builder, const char *key, sl_value value)
{
    cr_assert_eq(sl_object_add(builder, sl_str_from(key), value), SL_OK);
}

static void add_text(sl_object_builder *builder, const char *key, const char *text)
{
    cr_assert_eq(sl_object_add_cstr(builder, key, text), SL_OK);
}

/* { id: <id>, name: <name>, age: <age> } */
static void add_person(sl_batch *batch, const char *id, const char *name, int64_t age)
{
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, (int64_t)batch->n_records);
    if (id) add_text(&builder, "id", id);
    else add_field(&builder, "id", sl_value_null());
    add_text(&builder, "name", name);
    add_field(&builder, "age", sl_value_int(age));
    record->value = sl_object_end(&builder);
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    return db;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(stmt), SQLITE_ROW, "%s", sql);
    int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* The first column of the first row as text ("<null>" for NULL), copied. */
static const char *query_text(sqlite3 *db, const char *sql)
{
    static char text[4][512];
    static int next;
    char *out = text[next++ % 4];
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(stmt), SQLITE_ROW, "%s", sql);
    const char *value = (const char *)sqlite3_column_text(stmt, 0);
    snprintf(out, sizeof text[0], "%s", value ? value : "<null>");
    sqlite3_finalize(stmt);
    return out;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &message), SQLITE_OK, "%s: %s", sql,
                 message ? message : "");
}

/* ---- tables -------------------------------------------------------------- */

Test(sqlite, creates_table_from_sql_columns_with_inferred_types_and_primary_key)
{
    const char *columns[] = { "id", "age", "score", "active", "name", "tags", "seen", "nothing" };
    env.columns = columns;
    env.n_columns = 8;
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("people", key, 1);
    void *sink = open_sink(&conf);

    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_text(&builder, "id", "u1");
    add_field(&builder, "age", sl_value_int(30));
    add_field(&builder, "score", sl_value_double(1.5));
    add_field(&builder, "active", sl_value_bool(true));
    add_text(&builder, "name", "ada");
    add_field(&builder, "tags", (sl_value){ .type = SL_TYPE_ARRAY });
    add_field(&builder, "seen", sl_value_timestamp(0));
    record->value = sl_object_end(&builder);  /* "nothing" is missing */
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT group_concat(name || ':' || type || ':' || pk, ' ') "
                                    "FROM pragma_table_info('people')"),
                     "id:TEXT:1 age:INTEGER:0 score:REAL:0 active:INTEGER:0 name:TEXT:0 "
                     "tags:TEXT:0 seen:TEXT:0 nothing:TEXT:0");
    cr_assert_eq(query_int(db, "SELECT \"notnull\" FROM pragma_table_info('people') "
                               "WHERE name = 'id'"), 1);
    cr_assert_str_eq(query_text(db, "SELECT journal_mode FROM pragma_journal_mode"), "wal");
    cr_assert_eq(query_int(db, "SELECT count(*) FROM people"), 1);
    cr_assert_str_eq(query_text(db, "SELECT seen FROM people"), "1970-01-01T00:00:00Z");
    cr_assert_str_eq(query_text(db, "SELECT tags FROM people"), "[]");
    cr_assert_eq(query_int(db, "SELECT \"nothing\" IS NULL FROM people"), 1);
    sqlite3_close(db);
}

Test(sqlite, column_with_mixed_types_in_the_first_batch_keeps_values_as_given)
{
    const char *columns[] = { "id", "post_code" };
    env.columns = columns;
    env.n_columns = 2;
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("places", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_text(&builder, "id", "a");
    add_field(&builder, "post_code", sl_value_int(77145));
    record->value = sl_object_end(&builder);
    record = begin_record(batch, &builder, 1);
    add_text(&builder, "id", "b");
    add_text(&builder, "post_code", "0196");
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT post_code || ':' || typeof(post_code) FROM places WHERE id = 'b'"),
                     "0196:text");
    cr_assert_str_eq(query_text(db, "SELECT post_code || ':' || typeof(post_code) FROM places WHERE id = 'a'"),
                     "77145:integer");
    sqlite3_close(db);
}

Test(sqlite, creates_table_from_the_first_records_keys_without_sql)
{
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("t", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    add_person(batch, "a", "ada", 36);
    add_person(batch, "b", "bob", 41);
    /* A later record with a field the table lacks is rejected, not dropped. */
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 7);
    add_text(&builder, "id", "c");
    add_text(&builder, "nickname", "cy");
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    cr_assert_eq(seen.n, 1);
    cr_assert_str_eq(seen.reason[0], "sqlite: field 'nickname' is not a column (table t)");
    cr_assert_eq(seen.offset[0], 7);
    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT group_concat(name || ':' || type, ' ') "
                                    "FROM pragma_table_info('t')"),
                     "id:TEXT name:TEXT age:INTEGER");
    cr_assert_eq(query_int(db, "SELECT count(*) FROM t"), 2);
    sqlite3_close(db);
}

/* Only the data can tell that a record lacks the key: it is rejected (to
 * the dead-letter topic), never the table's model nor a failed write that
 * would be retried with the same data. */
Test(sqlite, a_record_without_the_key_is_rejected_and_the_first_keyed_record_shapes_the_table)
{
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("late", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_text(&builder, "name", "no id");
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    cr_assert_eq(seen.n, 1);
    cr_assert(strstr(seen.reason[0], "key column 'id' is missing"), "%s", seen.reason[0]);

    sl_batch_reset(batch);
    record = begin_record(batch, &builder, 1);
    add_text(&builder, "name", "still no id");
    record->value = sl_object_end(&builder);
    add_person(batch, "a", "ada", 36);
    write_ok(sink, batch);
    cr_assert_eq(seen.n, 2, "the record before the first keyed one is rejected too");
    cr_assert_eq(seen.offset[1], 1);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT group_concat(name, ',') FROM pragma_table_info('late')"),
                     "id,name,age");
    cr_assert_str_eq(query_text(db, "SELECT group_concat(name, ',') FROM late"), "ada");
    sqlite3_close(db);
}

Test(sqlite, upsert_replaces_rows_with_the_same_key)
{
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("users", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    add_person(batch, "a", "ada", 36);
    add_person(batch, "b", "bob", 41);
    write_ok(sink, batch);
    sl_batch_reset(batch);
    add_person(batch, "a", "ada lovelace", 37);
    add_person(batch, "b", "bob", 42);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);

    /* Reopening finds the table and keeps upserting into it. */
    sink = open_sink(&conf);
    sl_batch_reset(batch);
    add_person(batch, "b", "bobby", 43);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    sqlite3 *db = open_db();
    cr_assert_eq(query_int(db, "SELECT count(*) FROM users"), 2);
    cr_assert_str_eq(query_text(db, "SELECT name FROM users WHERE id = 'a'"), "ada lovelace");
    cr_assert_eq(query_int(db, "SELECT age FROM users WHERE id = 'a'"), 37);
    cr_assert_str_eq(query_text(db, "SELECT name || age FROM users WHERE id = 'b'"), "bobby43");
    sqlite3_close(db);
    cr_assert_eq(seen.n, 0);
}

Test(sqlite, without_key_every_record_is_a_new_row)
{
    sl_sqlite_conf conf = conf_for("events", NULL, 0);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    add_person(batch, "a", "ada", 1);
    write_ok(sink, batch);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    sqlite3 *db = open_db();
    cr_assert_eq(query_int(db, "SELECT count(*) FROM events"), 2);
    cr_assert_eq(query_int(db, "SELECT sum(pk) FROM pragma_table_info('events')"), 0);
    sqlite3_close(db);
}

static sl_node scalar_node(const char *text, int line)
{
    sl_node node = { .kind = SL_NODE_SCALAR, .file = "pipe.yaml", .line = line, .column = 20,
                     .scalar = text };
    return node;
}

Test(sqlite, creates_table_from_declared_columns_in_order)
{
    sl_node types[3] = { scalar_node("TEXT", 3), scalar_node("VARCHAR(20)", 4),
                         scalar_node("INTEGER", 5) };
    sl_node_pair pairs[3] = { { "id", &types[0], 3, 10 }, { "name", &types[1], 4, 10 },
                              { "age", &types[2], 5, 10 } };
    sl_node columns = { .kind = SL_NODE_MAP, .file = "pipe.yaml", .line = 3, .column = 10,
                        .pairs = pairs, .n_pairs = 3 };
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("declared", key, 1);
    conf.columns = &columns;
    void *sink = open_sink(&conf);

    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT group_concat(name || ':' || type, ' ') "
                                    "FROM pragma_table_info('declared')"),
                     "id:TEXT name:VARCHAR(20) age:INTEGER", "created at open");

    /* Fields come in another order, one extra field is simply not stored. */
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_field(&builder, "age", sl_value_int(5));
    add_text(&builder, "extra", "ignored");
    add_text(&builder, "id", "x");
    add_text(&builder, "name", "xi");
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    cr_assert_str_eq(query_text(db, "SELECT id || name || age FROM declared"), "xxi5");
    sqlite3_close(db);
    cr_assert_eq(seen.n, 0);

    /* A bad declared type points at its place in the file. */
    types[1] = scalar_node("TEXT; DROP TABLE x", 4);
    conf.table = "other";
    sl_error err = { 0 };
    void *bad = NULL;
    cr_assert_eq(sl_sqlite_sink.open(&conf, &env, &bad, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "pipe.yaml:4:20"), "%s", err.message);
    cr_assert(strstr(err.message, "name"), "%s", err.message);
}

Test(sqlite, existing_table_without_a_column_is_a_clear_error)
{
    sl_error err = { 0 };
    void *sink = NULL;
    sl_sqlite_conf conf = conf_for("narrow", NULL, 0);
    sink = open_sink(&conf);  /* creates the directories */
    sl_sqlite_sink.close(sink);
    sqlite3 *db = open_db();
    exec_sql(db, "CREATE TABLE narrow (id TEXT PRIMARY KEY, name TEXT)");

    const char *columns[] = { "id", "name", "city" };
    env.columns = columns;
    env.n_columns = 3;
    sink = NULL;
    cr_assert_eq(sl_sqlite_sink.open(&conf, &env, &sink, &err), SL_ESINK);
    cr_assert(strstr(err.message, "'city'"), "%s", err.message);
    cr_assert(strstr(err.message, "narrow"), "%s", err.message);
    cr_assert(strstr(err.message, db_path), "%s", err.message);

    /* Without SQL the first record's fields are checked at the first write. */
    env.columns = NULL;
    env.n_columns = 0;
    sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_text(&builder, "id", "a");
    add_text(&builder, "zip", "12345");
    record->value = sl_object_end(&builder);
    cr_assert_eq(sl_sqlite_sink.write(sink, batch, &err), SL_ESINK);
    cr_assert(strstr(err.message, "'zip'"), "%s", err.message);
    cr_assert(strstr(err.message, "narrow"), "%s", err.message);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM narrow"), 0);
    sqlite3_close(db);

    /* A missing table with create: false is an error too. */
    conf.table = "absent";
    conf.create = false;
    sink = NULL;
    cr_assert_eq(sl_sqlite_sink.open(&conf, &env, &sink, &err), SL_ESINK);
    cr_assert(strstr(err.message, "absent"), "%s", err.message);
}

Test(sqlite, constraint_violation_is_rejected_with_sqlites_message_and_others_are_stored)
{
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("checked", key, 1);
    void *sink = open_sink(&conf);
    sl_sqlite_sink.close(sink);
    sqlite3 *db = open_db();
    exec_sql(db, "CREATE TABLE checked (id TEXT PRIMARY KEY NOT NULL, name TEXT, "
                 "age INTEGER CHECK (age >= 0))");
    sink = open_sink(&conf);

    sl_batch *batch = sl_batch_new(0);
    add_person(batch, "a", "ada", 36);
    add_person(batch, NULL, "nobody", 1);
    add_person(batch, "b", "bob", -5);
    add_person(batch, "c", "cy", 20);
    sl_record *odd = sl_batch_add(batch);  /* a record that is not an object */
    odd->value = sl_value_int(3);
    odd->has_value = true;
    odd->offset = 4;
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    cr_assert_eq(seen.n, 3);
    cr_assert_str_eq(seen.stage[0], "sink");
    cr_assert_str_eq(seen.reason[0], "sqlite: NOT NULL constraint failed: checked.id (table checked)");
    cr_assert_eq(seen.offset[0], 1);
    cr_assert(strstr(seen.reason[1], "CHECK constraint failed"), "%s", seen.reason[1]);
    cr_assert_eq(seen.offset[1], 2);
    cr_assert_str_eq(seen.reason[2], "sqlite: the record is int, not an object (table checked)");
    cr_assert_eq(query_int(db, "SELECT count(*) FROM checked"), 2);
    cr_assert_str_eq(query_text(db, "SELECT group_concat(id, ',') FROM checked"), "a,c");
    sqlite3_close(db);
}

Test(sqlite, binds_values_of_every_type)
{
    char *key[] = { "k" };
    sl_sqlite_conf conf = conf_for("types", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_field(&builder, "k", sl_value_int(INT64_MAX));
    add_field(&builder, "neg", sl_value_int(-42));
    add_field(&builder, "real", sl_value_double(-0.125));
    add_field(&builder, "yes", sl_value_bool(true));
    add_field(&builder, "no", sl_value_bool(false));
    add_field(&builder, "text", sl_value_string((sl_str){ "a\0b", 3 }));
    add_field(&builder, "empty", sl_value_string((sl_str){ NULL, 0 }));
    add_field(&builder, "nil", sl_value_null());
    add_field(&builder, "when", sl_value_timestamp(1700000000123456));
    add_field(&builder, "ms", sl_value_timestamp(-1000));
    add_field(&builder, "span", sl_value_interval(14, -3, 7200000000));
    add_field(&builder, "blob", (sl_value){ .type = SL_TYPE_BYTES, .string = { "\x01\x02", 2 } });
    sl_object_builder inner;
    sl_object_begin(&inner, batch->arena, 2);
    add_text(&inner, "city", "Paris \"IX\"");
    add_field(&inner, "zip", sl_value_int(75009));
    add_field(&builder, "where", sl_object_end(&inner));
    sl_value items[2] = { sl_value_int(1), sl_value_bool(false) };
    add_field(&builder, "list", (sl_value){ .type = SL_TYPE_ARRAY, .array = { items, 2 } });
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);

    sqlite3 *db = open_db();
    cr_assert_eq(query_int(db, "SELECT k = 9223372036854775807 FROM types"), 1);
    cr_assert_eq(query_int(db, "SELECT neg FROM types"), -42);
    cr_assert_eq(query_int(db, "SELECT real = -0.125 AND typeof(real) = 'real' FROM types"), 1);
    cr_assert_eq(query_int(db, "SELECT yes * 10 + no FROM types"), 10);
    cr_assert_eq(query_int(db, "SELECT length(CAST(text AS BLOB)) FROM types"), 3);
    cr_assert_eq(query_int(db, "SELECT CAST(text AS BLOB) = x'610062' FROM types"), 1);
    cr_assert_str_eq(query_text(db, "SELECT typeof(empty) || ':' || length(empty) FROM types"),
                     "text:0");
    cr_assert_str_eq(query_text(db, "SELECT typeof(nil) FROM types"), "null");
    cr_assert_str_eq(query_text(db, "SELECT \"when\" FROM types"), "2023-11-14T22:13:20.123456Z");
    cr_assert_str_eq(query_text(db, "SELECT ms FROM types"), "1969-12-31T23:59:59.999000Z");
    cr_assert_str_eq(query_text(db, "SELECT span FROM types"), "1 year 2 mons -3 days +02:00:00");
    cr_assert_str_eq(query_text(db, "SELECT type FROM pragma_table_info('types') WHERE name = 'span'"), "TEXT");
    cr_assert_eq(query_int(db, "SELECT blob = x'0102' AND typeof(blob) = 'blob' FROM types"), 1);
    cr_assert_str_eq(query_text(db, "SELECT \"where\" FROM types"),
                     "{\"city\":\"Paris \\\"IX\\\"\",\"zip\":75009}");
    cr_assert_str_eq(query_text(db, "SELECT list FROM types"), "[1,false]");
    cr_assert_str_eq(query_text(db, "SELECT type FROM pragma_table_info('types') "
                                    "WHERE name = 'blob'"), "BLOB");
    sqlite3_close(db);
}

Test(sqlite, quotes_identifiers)
{
    const char *columns[] = { "id", "odd \"name\"", "select" };
    env.columns = columns;
    env.n_columns = 3;
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("my \"table\"", key, 1);
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    sl_object_builder builder;
    sl_record *record = begin_record(batch, &builder, 0);
    add_text(&builder, "id", "1");
    add_text(&builder, "odd \"name\"", "v");
    add_text(&builder, "select", "w");
    record->value = sl_object_end(&builder);
    write_ok(sink, batch);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    sqlite3 *db = open_db();
    cr_assert_str_eq(query_text(db, "SELECT \"odd \"\"name\"\"\" || \"select\" || count(*) "
                                    "FROM \"my \"\"table\"\"\""), "vw1");
    sqlite3_close(db);
}

Test(sqlite, locked_database_fails_after_busy_timeout_then_recovers)
{
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("locked", key, 1);
    conf.busy_timeout_ms = 150;
    void *sink = open_sink(&conf);
    sl_batch *batch = sl_batch_new(0);
    add_person(batch, "a", "ada", 1);
    write_ok(sink, batch);

    sqlite3 *db = open_db();
    exec_sql(db, "BEGIN IMMEDIATE");
    sl_error err = { 0 };
    int64_t started = sl_clock_monotonic_ms();
    cr_assert_eq(sl_sqlite_sink.write(sink, batch, &err), SL_ESINK);
    int64_t waited = sl_clock_monotonic_ms() - started;
    cr_assert_geq(waited, 140, "gave up after %lld ms", (long long)waited);
    cr_assert(strstr(err.message, "locked"), "%s", err.message);
    exec_sql(db, "ROLLBACK");

    sl_batch_reset(batch);
    add_person(batch, "b", "bob", 2);
    write_ok(sink, batch);
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM locked"), 2);
    sqlite3_close(db);
}

/* ---- throughput ---------------------------------------------------------- */

/* The seed's store_users output: 11 text columns, upserted on a uuid id,
 * in batches of 1024 with WAL and synchronous=normal. Printed, not asserted. */
Test(sqlite, measures_upsert_throughput_of_eleven_text_columns)
{
    static const char *columns[] = { "id", "first_name", "last_name", "gender", "city",
                                     "post_code", "email", "username", "registered_date",
                                     "phone", "picture" };
    env.columns = columns;
    env.n_columns = 11;
    char *key[] = { "id" };
    sl_sqlite_conf conf = conf_for("created_users", key, 1);
    void *sink = open_sink(&conf);
#ifdef __SANITIZE_ADDRESS__
    const size_t n_rows = 20000, per_batch = 1024;  /* keeps the sanitizer run short */
#else
    const size_t n_rows = 100000, per_batch = 1024;
#endif
    sl_batch *batch = sl_batch_new(per_batch);
    uint64_t state = 42;
    int64_t busy_us = 0;
    for (size_t row = 0; row < n_rows;) {
        sl_batch_reset(batch);
        for (size_t i = 0; i < per_batch && row < n_rows; i++, row++) {
            sl_object_builder builder;
            sl_record *record = begin_record(batch, &builder, (int64_t)row);
            char text[11][64];
            state = state * 6364136223846793005u + 1442695040888963407u;
            snprintf(text[0], sizeof text[0], "%08x-%04x-4%03x-a%03x-%012llx",
                     (unsigned)(state >> 32), (unsigned)(row & 0xffff), (unsigned)(row % 4096),
                     (unsigned)(state & 0xfff), (unsigned long long)row);
            snprintf(text[1], sizeof text[1], "First%zu", row % 997);
            snprintf(text[2], sizeof text[2], "Lastname%zu", row % 1999);
            snprintf(text[3], sizeof text[3], "%s", row % 2 ? "female" : "male");
            snprintf(text[4], sizeof text[4], "City %zu", row % 500);
            snprintf(text[5], sizeof text[5], "%05zu", row % 100000);
            snprintf(text[6], sizeof text[6], "first%zu.last%zu@example.com", row % 997, row);
            snprintf(text[7], sizeof text[7], "user%zu", row);
            snprintf(text[8], sizeof text[8], "2015-%02zu-%02zuT10:11:12.345Z", row % 12 + 1,
                     row % 28 + 1);
            snprintf(text[9], sizeof text[9], "(0%zu)-555-%04zu", row % 10, row % 10000);
            snprintf(text[10], sizeof text[10], "https://randomuser.me/api/portraits/thumb/"
                     "%zu.jpg", row % 100);
            for (int c = 0; c < 11; c++) add_text(&builder, columns[c], text[c]);
            record->value = sl_object_end(&builder);
        }
        int64_t started = sl_clock_monotonic_us();
        write_ok(sink, batch);
        busy_us += sl_clock_monotonic_us() - started;
    }
    sl_sqlite_sink.close(sink);
    sl_batch_free(batch);
    double seconds = (double)busy_us / 1e6;
    fprintf(stderr, "sqlite sink: %zu rows of 11 text columns in %.3f s of write(): "
            "%.0f rows/s\n", n_rows, seconds, (double)n_rows / seconds);

    sqlite3 *db = open_db();
    cr_assert_eq(query_int(db, "SELECT count(*) FROM created_users"), (int64_t)n_rows);
    sqlite3_close(db);
}

/* Sinks opening one new database at the same moment (the members of a
 * consumer group starting together): each switches it to WAL, which needs
 * the database to itself and answers "database is locked" at once,
 * without the busy handler, when two try together. The switch is retried
 * within busy_timeout, so every open succeeds. */
#define RACERS 6

typedef struct racer {
    sl_sqlite_conf conf;
    pthread_barrier_t *start;
    int rc;
    char message[512];
} racer;

static void *open_at_once(void *arg)
{
    racer *r = arg;
    void *sink = NULL;
    sl_error err = { 0 };
    pthread_barrier_wait(r->start);
    r->rc = sl_sqlite_sink.open(&r->conf, &env, &sink, &err);
    snprintf(r->message, sizeof r->message, "%s", err.message);
    if (sink) sl_sqlite_sink.close(sink);
    return NULL;
}

Test(sqlite, sinks_opening_one_new_database_at_once_all_open)
{
    for (int round = 0; round < 20; round++) {
        char path[160];
        snprintf(path, sizeof path, "%s/race-%d.db", dir, round);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, RACERS);
        racer racers[RACERS];
        pthread_t threads[RACERS];
        for (int i = 0; i < RACERS; i++) {
            racers[i] = (racer){ .conf = conf_for("people", NULL, 0), .start = &start };
            racers[i].conf.path = path;
            racers[i].conf.busy_timeout_ms = 30000;
            cr_assert_eq(pthread_create(&threads[i], NULL, open_at_once, &racers[i]), 0);
        }
        for (int i = 0; i < RACERS; i++) pthread_join(threads[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < RACERS; i++)
            cr_assert_eq(racers[i].rc, SL_OK, "round %d, sink %d: %s", round, i, racers[i].message);
    }
}
