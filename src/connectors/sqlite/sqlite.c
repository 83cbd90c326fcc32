/* sqlite.c — the `sqlite` sink: each batch upserted into one table in one
 * transaction.
 *
 * Opening sets WAL mode and the `synchronous` level, then settles which
 * columns are written, in this order of preference:
 *   1. declared `columns:` (the table is created from them when missing);
 *   2. the pipeline SQL's output columns (env->columns), typed from the
 *      first record of the first batch when the table must be created;
 *   3. with no SQL (or SELECT *): the existing table's columns, or the first
 *      record's top-level keys when the table must be created. Records may
 *      then only carry fields that are columns: one that does not is
 *      rejected (the first record's makes the write fail, naming it).
 * A table is shaped by the first object that has every key column set;
 * records before it that lack one are rejected, as the NOT NULL of the key
 * columns rejects them later.
 * A key column that neither the declared columns nor the SQL's output hold
 * is refused before the run (sqlite_check, also by `sluice validate`).
 * An existing table is never altered: a column it lacks is an error naming
 * the column and the table.
 *
 * Writing: BEGIN IMMEDIATE, one prepared INSERT (an upsert ON CONFLICT(key)
 * DO UPDATE when `key:` is set) stepped per record, COMMIT. Values are
 * bound by type; strings point into the batch (SQLITE_STATIC: the batch
 * outlives the step). A record that breaks a constraint (NULL key, NOT NULL,
 * CHECK, datatype mismatch) is rejected with sqlite's message and the rest
 * of the batch is kept; rejects reach env->reject only after COMMIT, so a
 * retried transaction does not report them twice. SQLITE_BUSY retries the
 * whole transaction with backoff for up to busy_timeout, then fails as a
 * transient error (the runtime retries on, up to the pipeline's
 * retry_limit); any other failure rolls back and returns SL_ESINK with the
 * path and sqlite's message, classed by sl_sqlite_error_class (a read-only
 * database or directory, a missing table or column: permanent).
 */
#include "connectors/sqlite/sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "connectors/common/sink_rejects.h"
#include "connectors/sqlite/sqlite_schema.h"
#include "core/paths.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/interval.h"
#include "core/timefmt.h"

#define SQLITE_BACKOFF_FIRST_MS 10
#define SQLITE_BACKOFF_MAX_MS 1000
/* Returned by one write attempt that met SQLITE_BUSY (never leaves this file). */
#define WRITE_ATTEMPT_BUSY 1

static const char *const synchronous_choices[] = { "off", "normal", "full", NULL };

static const sl_option sqlite_options[] = {
    { "path", SL_OPT_STRING, offsetof(sl_sqlite_conf, path), .required = true,
      .help = "database file (parent directories are created)" },
    { "table", SL_OPT_STRING, offsetof(sl_sqlite_conf, table), .required = true,
      .help = "table the rows go to" },
    { "key", SL_OPT_STR_LIST, offsetof(sl_sqlite_conf, key),
      .help = "primary key columns: rows with the same key are updated (upsert)" },
    { "columns", SL_OPT_MAP, offsetof(sl_sqlite_conf, columns),
      .help = "the columns written, in order, as name: SQL type (default: the SQL's output columns, or the "
              "first record's fields)" },
    { "synchronous", SL_OPT_STRING, offsetof(sl_sqlite_conf, synchronous),
      .default_value = "full", .choices = synchronous_choices,
      .help = "SQLite's synchronous pragma: full (default) makes each commit survive a power "
              "loss before the source position is committed; normal survives a process crash only" },
    { "busy_timeout", SL_OPT_DURATION, offsetof(sl_sqlite_conf, busy_timeout_ms),
      .default_value = "5s", .help = "how long a locked database is waited for" },
    { "create", SL_OPT_BOOL, offsetof(sl_sqlite_conf, create), .default_value = "true",
      .help = "create the table when it does not exist" },
    { 0 }
};

typedef struct sqlite_sink {
    const sl_connector_env *env;
    char *path;
    char *table;
    sqlite3 *db;
    sqlite3_stmt *insert;          /* prepared once columns are known */
    sl_columns key;
    sl_columns columns;     /* written columns, in bind order */
    sl_str *column_names;          /* the same names as sl_str, for matching fields */
    bool is_ready;                 /* table exists and insert is prepared */
    bool is_strict;                /* record fields must all be columns */
    bool is_first_checked;         /* the first record's fields were checked */
    bool may_create;
    bool is_table_missing;
    int64_t busy_timeout_ms;
    sl_buffer sql;
    sl_buffer scratch;             /* JSON and timestamp text being bound */
    sl_sink_rejects rejects;
} sqlite_sink;

static void sqlite_close(void *state)
{
    sqlite_sink *sink = state;
    if (!sink) return;
    sqlite3_finalize(sink->insert);
    sqlite3_close(sink->db);
    sl_columns_free(&sink->key);
    sl_columns_free(&sink->columns);
    free(sink->column_names);
    sl_buffer_free(&sink->sql);
    sl_buffer_free(&sink->scratch);
    sl_sink_rejects_free(&sink->rejects);
    free(sink->path);
    free(sink->table);
    free(sink);
}

/* Runs sql; SL_ESINK with the path and sqlite's message on failure. */
static int sink_exec(sqlite_sink *sink, const char *sql, sl_error *err)
{
    char *message = NULL;
    int sqlite_rc = sqlite3_exec(sink->db, sql, NULL, NULL, &message);
    if (sqlite_rc == SQLITE_OK) return SL_OK;
    int rc = sl_error_set(err, SL_ESINK, "sqlite sink %s: %s: %s", sink->path, sql,
                          message ? message : sqlite3_errmsg(sink->db));
    sl_error_mark(err, sl_sqlite_error_class(sqlite3_extended_errcode(sink->db)));
    sqlite3_free(message);
    return rc;
}

/* sink_exec, retried with backoff for up to busy_timeout while the database
 * is busy: switching to WAL, which needs the database to itself, answers
 * "database is locked" at once, without the busy handler, while another
 * process (a member of the same consumer group) opens it at the same time. */
static int sink_exec_patiently(sqlite_sink *sink, const char *sql, sl_error *err)
{
    int64_t deadline = sl_clock_monotonic_ms() + sink->busy_timeout_ms;
    int64_t backoff = SQLITE_BACKOFF_FIRST_MS;
    for (;;) {
        int rc = sink_exec(sink, sql, err);
        int code = sqlite3_errcode(sink->db);
        if (rc == SL_OK || (code != SQLITE_BUSY && code != SQLITE_LOCKED)) return rc;
        int64_t now = sl_clock_monotonic_ms();
        if (now >= deadline) return rc;
        sl_sleep_ms(backoff < deadline - now ? backoff : deadline - now);
        backoff = backoff * 2 < SQLITE_BACKOFF_MAX_MS ? backoff * 2 : SQLITE_BACKOFF_MAX_MS;
    }
}

/* With the written columns known: checks the key against them and prepares
 * the insert. */
static int sink_prepare(sqlite_sink *sink, sl_error *err)
{
    int rc = sl_sqlite_check_columns(&sink->key, &sink->columns, "key", sink->table, err);
    if (rc) goto fail;
    rc = SL_ENOMEM;
    free(sink->column_names);
    sink->column_names = calloc(sink->columns.n_columns ? sink->columns.n_columns : 1,
                                sizeof *sink->column_names);
    if (!sink->column_names) goto fail;
    for (size_t i = 0; i < sink->columns.n_columns; i++)
        sink->column_names[i] = sl_str_from(sink->columns.names[i]);
    sl_buffer_clear(&sink->sql);
    if (sl_sqlite_build_insert(&sink->sql, sink->table, &sink->columns, &sink->key)) goto fail;
    if (sqlite3_prepare_v3(sink->db, sink->sql.data, -1, SQLITE_PREPARE_PERSISTENT, &sink->insert,
                           NULL) != SQLITE_OK) {
        sl_error_set(err, SL_ESINK, "sqlite sink %s: table %s: %s (%s)", sink->path, sink->table,
                     sqlite3_errmsg(sink->db), sink->sql.data);
        return sl_error_mark(err, sl_sqlite_error_class(sqlite3_extended_errcode(sink->db)));
    }
    sink->is_ready = true;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "sqlite sink %s: no memory", sink->path);
    else sl_error_prefix(err, "sqlite sink %s: ", sink->path);
    return rc;
}

/* Creates the table from sink->columns when missing and allowed. */
static int sink_create_table(sqlite_sink *sink, sl_error *err)
{
    if (!sink->is_table_missing) return SL_OK;
    int rc = sl_sqlite_check_columns(&sink->key, &sink->columns, "key", sink->table, err);
    if (!rc) rc = sl_sqlite_create_table(sink->db, sink->table, &sink->columns, &sink->key, err);
    if (rc) {
        sl_error_prefix(err, "sqlite sink %s: ", sink->path);
        return rc;
    }
    sink->is_table_missing = false;
    return SL_OK;
}

/* Decides the written columns at open when it can (see the top of the file). */
static int sink_setup_at_open(sqlite_sink *sink, const sl_sqlite_conf *conf,
                              const sl_connector_env *env, sl_error *err)
{
    sl_columns existing = { 0 };
    bool exists = false;
    int rc = sl_sqlite_table_columns(sink->db, sink->table, &existing, &exists, err);
    if (rc) {
        sl_error_prefix(err, "sqlite sink %s: ", sink->path);
        goto done;
    }
    sink->is_table_missing = !exists;
    if (!exists && !sink->may_create) {
        rc = sl_error_set_permanent(err, SL_ESINK, "sqlite sink %s: table %s does not exist and "
                                    "create is false: create the table or set create: true",
                                    sink->path, sink->table);
        goto done;
    }
    if (conf->columns) {
        rc = sl_sqlite_columns_from_node(conf->columns, &sink->columns, err);
        if (rc) goto done;
        rc = sink_create_table(sink, err);
        if (rc) goto done;
        if (exists) {
            rc = sl_sqlite_check_columns(&sink->columns, &existing, "declared", sink->table, err);
            if (rc) {
                sl_error_prefix(err, "sqlite sink %s: ", sink->path);
                goto done;
            }
        }
        rc = sink_prepare(sink, err);
    } else if (env && env->n_columns > 0) {
        if (!exists) goto done;  /* typed from the first record */
        for (size_t i = 0; i < env->n_columns && !rc; i++)
            rc = sl_columns_add(&sink->columns, env->columns[i], strlen(env->columns[i]),
                                       NULL);
        if (rc) {
            rc = sl_error_set(err, SL_ENOMEM, "sqlite sink %s: no memory", sink->path);
            goto done;
        }
        rc = sl_sqlite_check_columns(&sink->columns, &existing, "output", sink->table, err);
        if (rc) {
            sl_error_prefix(err, "sqlite sink %s: ", sink->path);
            goto done;
        }
        rc = sink_prepare(sink, err);
    } else {
        sink->is_strict = true;
        if (!exists) goto done;  /* from the first record's keys */
        sink->columns = existing;
        existing = (sl_columns){ 0 };
        rc = sink_prepare(sink, err);
    }
done:
    sl_columns_free(&existing);
    return rc;
}

static int sqlite_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                       sl_error *err)
{
    const sl_sqlite_conf *conf = conf_ptr;
    int rc = SL_ECONFIG;
    sqlite_sink *sink = NULL;
    if (!conf->path || !conf->table) {
        sl_error_set(err, rc, "sqlite sink: %s is required", conf->path ? "table" : "path");
        goto fail;
    }
    const char *synchronous = conf->synchronous ? conf->synchronous : "normal";
    const char *pragma = NULL;
    if (strcmp(synchronous, "off") == 0) pragma = "PRAGMA synchronous = OFF";
    else if (strcmp(synchronous, "normal") == 0) pragma = "PRAGMA synchronous = NORMAL";
    else if (strcmp(synchronous, "full") == 0) pragma = "PRAGMA synchronous = FULL";
    if (!pragma) {
        sl_error_set(err, rc, "sqlite sink %s: synchronous must be off, normal or full, not '%s'",
                     conf->path, synchronous);
        goto fail;
    }
    rc = SL_ENOMEM;
    sink = calloc(1, sizeof *sink);
    if (!sink) goto fail;
    sink->env = env;
    sink->may_create = conf->create;
    sink->busy_timeout_ms = conf->busy_timeout_ms > 0 ? conf->busy_timeout_ms : 0;
    sink->path = strdup(conf->path);
    sink->table = strdup(conf->table);
    if (!sink->path || !sink->table) goto fail;
    for (size_t i = 0; i < conf->key.n_items; i++) {
        const char *name = conf->key.items[i];
        if (sl_columns_find(&sink->key, name, strlen(name)) >= 0) continue;
        if (sl_columns_add(&sink->key, name, strlen(name), NULL)) goto fail;
    }
    if (strcmp(sink->path, ":memory:") != 0) {
        rc = sl_make_parent_dirs(sink->path, err);
        if (rc) goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int sqlite_rc = sqlite3_open_v2(sink->path, &sink->db, flags, NULL);
    if (sqlite_rc != SQLITE_OK) {
        rc = sl_error_set(err, SL_ESINK, "sqlite sink: cannot open %s: %s", sink->path,
                          sink->db ? sqlite3_errmsg(sink->db) : sqlite3_errstr(sqlite_rc));
        sl_error_mark(err, sl_sqlite_error_class(sqlite_rc));
        goto fail;
    }
    sqlite3_extended_result_codes(sink->db, 1);
    int busy_ms = sink->busy_timeout_ms > INT_MAX ? INT_MAX : (int)sink->busy_timeout_ms;
    sqlite3_busy_timeout(sink->db, busy_ms);
    rc = sink_exec_patiently(sink, "PRAGMA journal_mode = WAL", err);
    if (!rc) rc = sink_exec_patiently(sink, pragma, err);
    /* Random keys (uuids) dirty about one index page per row: a 64 MiB page
     * cache saves re-reading them, and checkpointing every 64 MiB of WAL
     * instead of every 4 MiB copies each hot page once per many commits. */
    if (!rc) rc = sink_exec(sink, "PRAGMA cache_size = -65536", err);
    if (!rc) rc = sink_exec(sink, "PRAGMA wal_autocheckpoint = 16384", err);
    if (!rc) rc = sink_setup_at_open(sink, conf, env, err);
    if (rc) goto fail;
    *state = sink;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "sqlite sink %s: no memory", conf->path);
    sqlite_close(sink);
    return rc;
}

/* The key column record (an object) lacks or holds null in, or NULL. */
static const char *missing_key(const sqlite_sink *sink, const sl_value *record)
{
    for (size_t k = 0; k < sink->key.n_columns; k++) {
        const sl_value *field = sl_value_get(record, sl_str_from(sink->key.names[k]));
        if (!field || field->type == SL_TYPE_NULL) return sink->key.names[k];
    }
    return NULL;
}

/* The first record of the batch that can shape a table: an object with
 * every key column set (one without is rejected, never the table's
 * model), or NULL. */
static const sl_value *first_object(const sqlite_sink *sink, const sl_batch *batch)
{
    for (size_t i = 0; i < batch->n_records; i++) {
        const sl_record *record = &batch->records[i];
        if (record->has_value && record->value.type == SL_TYPE_OBJECT && !missing_key(sink, &record->value))
            return &record->value;
    }
    return NULL;
}

/* A field of object that is not a written column, or NULL. Cheap when the
 * fields come in column order, as SQL output and recreated records do. */
static const sl_str *unknown_field(const sqlite_sink *sink, const sl_value *object)
{
    const sl_member *members = object->object.members;
    for (size_t i = 0; i < object->object.n_members; i++) {
        if (i < sink->columns.n_columns && sl_str_eq(members[i].key, sink->column_names[i]))
            continue;
        if (sl_columns_find(&sink->columns, members[i].key.ptr, members[i].key.len) < 0)
            return &members[i].key;
    }
    return NULL;
}

/* At the first write: settles columns the open could not (they need a
 * record), and checks the first record's fields in strict mode. */
static int sink_setup_at_write(sqlite_sink *sink, const sl_batch *batch, sl_error *err)
{
    const sl_value *first = first_object(sink, batch);
    if (!first) return SL_OK;  /* nothing to learn from: every record is rejected */
    int rc = SL_OK;
    if (!sink->is_ready) {
        const sl_connector_env *env = sink->env;
        if (env && env->n_columns > 0)
            rc = sl_sqlite_columns_infer(env->columns, env->n_columns, batch, &sink->columns);
        else rc = sl_sqlite_columns_from_record(first, &sink->columns);
        if (rc) return sl_error_set(err, SL_ENOMEM, "sqlite sink %s: no memory", sink->path);
        if (sink->columns.n_columns == 0)
            return sl_error_set_permanent(err, SL_ESINK, "sqlite sink %s: cannot create table %s: "
                                          "the first record has no fields; declare columns",
                                          sink->path, sink->table);
        rc = sink_create_table(sink, err);
        if (!rc) rc = sink_prepare(sink, err);
        if (rc) {
            sl_columns_free(&sink->columns);  /* the retry infers them again */
            return rc;
        }
    }
    if (sink->is_strict && !sink->is_first_checked) {
        const sl_str *field = unknown_field(sink, first);
        if (field)
            return sl_error_set_permanent(err, SL_ESINK, "sqlite sink %s: field '%.*s' of the first "
                                "record is not a column of table %s; the sink does not alter tables: "
                                "add the column, declare columns, or select the fields",
                                sink->path, (int)field->len, field->ptr, sink->table);
        sink->is_first_checked = true;
    }
    return SL_OK;
}

/* Remembers that record index is rejected for reason (reported after COMMIT). */
/* Binds field (NULL = missing) to parameter; returns sqlite's code or
 * SQLITE_NOMEM when the JSON text cannot be built. */
static int bind_field(sqlite_sink *sink, int parameter, const sl_value *field)
{
    sqlite3_stmt *stmt = sink->insert;
    if (!field) return sqlite3_bind_null(stmt, parameter);
    switch (field->type) {
    case SL_TYPE_NULL: return sqlite3_bind_null(stmt, parameter);
    case SL_TYPE_BOOL: return sqlite3_bind_int(stmt, parameter, field->boolean ? 1 : 0);
    case SL_TYPE_INT: return sqlite3_bind_int64(stmt, parameter, field->integer);
    case SL_TYPE_DOUBLE: return sqlite3_bind_double(stmt, parameter, field->number);
    case SL_TYPE_STRING:
        /* A NULL pointer would bind SQL NULL; an empty string stays a string. */
        return sqlite3_bind_text64(stmt, parameter, field->string.ptr ? field->string.ptr : "",
                                   field->string.len, SQLITE_STATIC, SQLITE_UTF8);
    case SL_TYPE_BYTES:
        if (!field->string.ptr) return sqlite3_bind_zeroblob(stmt, parameter, 0);
        return sqlite3_bind_blob64(stmt, parameter, field->string.ptr, field->string.len,
                                   SQLITE_STATIC);
    case SL_TYPE_TIMESTAMP: {
        char text[SL_TIME_ISO_MAX];
        size_t len = sl_time_format_iso(field->timestamp, text);
        return sqlite3_bind_text(stmt, parameter, text, (int)len, SQLITE_TRANSIENT);
    }
    case SL_TYPE_INTERVAL: {   /* PostgreSQL's text: SQLite has no interval type */
        char text[SL_INTERVAL_TEXT_MAX];
        size_t len = sl_interval_format(field->interval, text);
        return sqlite3_bind_text(stmt, parameter, text, (int)len, SQLITE_TRANSIENT);
    }
    case SL_TYPE_ARRAY:
    case SL_TYPE_OBJECT:
        sl_buffer_clear(&sink->scratch);
        if (sl_json_write(&sink->scratch, field)) return SQLITE_NOMEM;
        return sqlite3_bind_text64(stmt, parameter, sink->scratch.data ? sink->scratch.data : "",
                                   sink->scratch.len, SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    return sqlite3_bind_null(stmt, parameter);
}

static int bind_record(sqlite_sink *sink, const sl_value *object)
{
    const sl_member *members = object->object.members;
    size_t n_members = object->object.n_members;
    for (size_t c = 0; c < sink->columns.n_columns; c++) {
        const sl_value *field;
        if (c < n_members && sl_str_eq(members[c].key, sink->column_names[c]))
            field = &members[c].value;
        else field = sl_value_get(object, sink->column_names[c]);
        int sqlite_rc = bind_field(sink, (int)c + 1, field);
        if (sqlite_rc != SQLITE_OK) return sqlite_rc;
    }
    return SQLITE_OK;
}

/* Errors that belong to one record, not to the database. */
static bool is_record_error(int sqlite_rc)
{
    int primary = sqlite_rc & 0xff;
    return primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH ||
           primary == SQLITE_TOOBIG || primary == SQLITE_RANGE;
}

static bool is_busy(int sqlite_rc)
{
    int primary = sqlite_rc & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

static void sink_rollback(sqlite_sink *sink)
{
    if (!sqlite3_get_autocommit(sink->db)) sqlite3_exec(sink->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Fails the attempt with sqlite's message after rolling back. */
static int attempt_fail(sqlite_sink *sink, int sqlite_rc, const char *during, sl_error *err)
{
    char message[256];
    snprintf(message, sizeof message, "%s", sqlite3_errmsg(sink->db));
    sqlite3_reset(sink->insert);
    sink_rollback(sink);
    if (is_busy(sqlite_rc)) return WRITE_ATTEMPT_BUSY;
    sl_error_set(err, SL_ESINK, "sqlite sink %s: %s (table %s): %s", sink->path, during, sink->table,
                 message);
    return sl_error_mark(err, sl_sqlite_error_class(sqlite_rc));
}

/* Steps the insert for every record of one batch inside the open
 * transaction. SL_OK, WRITE_ATTEMPT_BUSY, or an error (rolled back). */
static int insert_batch(sqlite_sink *sink, size_t batch_index, const sl_batch *batch, sl_error *err)
{
    for (size_t i = 0; i < batch->n_records; i++) {
        const sl_record *record = &batch->records[i];
        int rc = SL_OK;
        if (!record->has_value || record->value.type != SL_TYPE_OBJECT) {
            rc = sl_sink_rejects_add(&sink->rejects, batch_index, i, "sqlite: the record is %s, not an object (table %s)",
                            record->has_value ? sl_type_name(record->value.type) : "not parsed",
                            sink->table);
        } else if (sink->is_strict && unknown_field(sink, &record->value)) {
            const sl_str *field = unknown_field(sink, &record->value);
            rc = sl_sink_rejects_add(&sink->rejects, batch_index, i, "sqlite: field '%.*s' is not a column (table %s)",
                            (int)field->len, field->ptr, sink->table);
        } else {
            int sqlite_rc = bind_record(sink, &record->value);
            if (sqlite_rc == SQLITE_OK) sqlite_rc = sqlite3_step(sink->insert);
            if (sqlite_rc != SQLITE_DONE && is_record_error(sqlite_rc))
                rc = sl_sink_rejects_add(&sink->rejects, batch_index, i, "sqlite: %s (table %s)", sqlite3_errmsg(sink->db),
                                sink->table);
            else if (sqlite_rc != SQLITE_DONE)
                return attempt_fail(sink, sqlite_rc, "insert", err);
            sqlite3_reset(sink->insert);
        }
        if (rc) {
            sink_rollback(sink);
            return sl_error_set(err, SL_ENOMEM, "sqlite sink %s: no memory", sink->path);
        }
    }
    return SL_OK;
}

/* One transaction over all the batches: with random keys (uuids) each
 * commit rewrites every index page it touched, so fewer, larger
 * transactions write far fewer pages per row. */
static int write_attempt(sqlite_sink *sink, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    sl_sink_rejects_clear(&sink->rejects);
    int sqlite_rc = sqlite3_exec(sink->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (sqlite_rc != SQLITE_OK) return attempt_fail(sink, sqlite_rc, "BEGIN", err);
    for (size_t b = 0; b < n_batches; b++) {
        int rc = insert_batch(sink, b, batches[b], err);
        if (rc) return rc;
    }
    sqlite_rc = sqlite3_exec(sink->db, "COMMIT", NULL, NULL, NULL);
    if (sqlite_rc != SQLITE_OK) return attempt_fail(sink, sqlite_rc, "COMMIT", err);
    return SL_OK;
}

/* Rejects every record of the batches: no record could tell the columns
 * (none is an object with every key column set). */
static int reject_all(sqlite_sink *sink, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    sl_sink_rejects_clear(&sink->rejects);
    for (size_t b = 0; b < n_batches; b++) {
        for (size_t i = 0; i < batches[b]->n_records; i++) {
            const sl_record *record = &batches[b]->records[i];
            int rc;
            if (record->has_value && record->value.type == SL_TYPE_OBJECT)
                rc = sl_sink_rejects_add(&sink->rejects, b, i, "sqlite: key column '%s' is missing or null "
                                         "(table %s)", missing_key(sink, &record->value), sink->table);
            else
                rc = sl_sink_rejects_add(&sink->rejects, b, i, "sqlite: the record is %s, not an object (table %s)",
                                         record->has_value ? sl_type_name(record->value.type) : "not parsed",
                                         sink->table);
            if (rc) return sl_error_set(err, SL_ENOMEM, "sqlite sink %s: no memory", sink->path);
        }
    }
    sl_sink_rejects_report(&sink->rejects, sink->env, batches);
    return SL_OK;
}

static int sqlite_write_many(void *state, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    sqlite_sink *sink = state;
    int rc = SL_OK;
    /* Cheap once settled: the table and first-record checks run once. */
    for (size_t b = 0; b < n_batches; b++) {
        rc = sink_setup_at_write(sink, batches[b], err);
        if (rc) return rc;
    }
    if (!sink->is_ready) return reject_all(sink, batches, n_batches, err);
    int64_t deadline = sl_clock_monotonic_ms() + sink->busy_timeout_ms;
    int64_t backoff = SQLITE_BACKOFF_FIRST_MS;
    for (;;) {
        rc = write_attempt(sink, batches, n_batches, err);
        if (rc != WRITE_ATTEMPT_BUSY) break;
        int64_t now = sl_clock_monotonic_ms();
        if (now >= deadline)
            return sl_error_set_transient(err, SL_ESINK, "sqlite sink %s: table %s: the database "
                                          "stayed locked (busy) for %" PRId64 " ms", sink->path,
                                          sink->table, sink->busy_timeout_ms);
        sl_sleep_ms(backoff < deadline - now ? backoff : deadline - now);
        backoff = backoff * 2 < SQLITE_BACKOFF_MAX_MS ? backoff * 2 : SQLITE_BACKOFF_MAX_MS;
    }
    if (rc) return rc;
    sl_sink_rejects_report(&sink->rejects, sink->env, batches);
    return SL_OK;
}

static int sqlite_write(void *state, const sl_batch *batch, sl_error *err)
{
    if (batch->n_records == 0) return SL_OK;
    return sqlite_write_many(state, &batch, 1, err);
}

/* Before the run: the declared columns must be well formed, and every key
 * column written: declared in columns:, or produced by the pipeline's SQL
 * when columns come from it. */
static void sqlite_check(const void *conf_ptr, const sl_connector_check *check)
{
    const sl_sqlite_conf *conf = conf_ptr;
    const sl_node *key_node = sl_connector_check_node(check, "key");
    if (conf->columns) {
        sl_columns declared = { 0 };
        sl_error err;
        sl_error_clear(&err);
        if (sl_sqlite_columns_from_node(conf->columns, &declared, &err))
            sl_diag_add_error_at(check->diags, conf->columns, check->where, &err);
        sl_columns_free(&declared);
        for (size_t k = 0; k < conf->key.n_items; k++)
            if (!sl_node_get(conf->columns, conf->key.items[k]))
                sl_diag_error_at(check->diags, key_node, "%s.key: key column '%s' is not one of the declared "
                                 "columns: declare it in columns or change key", check->where, conf->key.items[k]);
        return;
    }
    if (check->n_columns == 0) return;  /* columns come from the records: only they can tell */
    for (size_t k = 0; k < conf->key.n_items; k++) {
        const char *name = conf->key.items[k];
        bool is_produced = false;
        for (size_t c = 0; c < check->n_columns && !is_produced; c++) is_produced = strcmp(check->columns[c], name) == 0;
        if (is_produced) continue;
        char have[256] = "";
        size_t used = 0;
        for (size_t c = 0; c < check->n_columns && used + 1 < sizeof have; c++)
            used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", c ? ", " : "", check->columns[c]);
        sl_diag_error_at(check->diags, key_node, "%s.key: key column '%s' is not an output column of the "
                         "pipeline's SQL (it has: %s): select it (... AS %s) or change key", check->where, name,
                         have, name);
    }
}

static void sqlite_hint(const void *conf_ptr, char *out, size_t size)
{
    const sl_sqlite_conf *conf = conf_ptr;
    snprintf(out, size, "sqlite3 %s 'SELECT count(*) FROM \"%s\"'", conf->path, conf->table);
}

const sl_sink_ops sl_sqlite_sink = {
    .name = "sqlite",
    .description = "rows upserted into a table of an SQLite database, one transaction per batch",
    .options = sqlite_options,
    .conf_size = sizeof(sl_sqlite_conf),
    .open = sqlite_open,
    .write = sqlite_write,
    .write_many = sqlite_write_many,
    .close = sqlite_close,
    .check = sqlite_check,
    .hint = sqlite_hint,
    .topic_name = NULL,
    .accepts_raw = false,
};
