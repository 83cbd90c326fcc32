/* sqlite_lookup.c — one row of an SQLite table by key (see sqlite_lookup.h). */
#include "connectors/sqlite/sqlite_lookup.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/timefmt.h"

/* How long a read waits for a writer's lock before it is a transient error. */
#define BUSY_TIMEOUT_MS 5000

struct sl_sqlite_lookup {
    sqlite3 *db;
    sqlite3_stmt *select;
    size_t n_keys;
    char *table;
    char **column_names;         /* the result's, copied once */
    int n_columns;
};

/* "name" with its double quotes doubled, for SQL text. */
static int append_quoted(sl_buffer *out, const char *name)
{
    int rc = sl_buffer_append_byte(out, '"');
    for (const char *c = name; *c && rc == SL_OK; c++) {
        if (*c == '"') rc = sl_buffer_append_byte(out, '"');
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, *c);
    }
    return rc ? rc : sl_buffer_append_byte(out, '"');
}

void sl_sqlite_lookup_close(sl_sqlite_lookup *lookup)
{
    if (!lookup) return;
    sqlite3_finalize(lookup->select);
    sqlite3_close(lookup->db);
    for (int i = 0; i < lookup->n_columns; i++) free(lookup->column_names[i]);
    free(lookup->column_names);
    free(lookup->table);
    free(lookup);
}

int sl_sqlite_lookup_open(const char *path, const char *table, const char *const *key_columns, size_t n_keys,
                          sl_sqlite_lookup **out, sl_error *err)
{
    *out = NULL;
    sl_sqlite_lookup *lookup = calloc(1, sizeof *lookup);
    if (!lookup) return sl_error_set(err, SL_ENOMEM, "out of memory");
    lookup->n_keys = n_keys;
    lookup->table = strdup(table);
    int rc = lookup->table ? SL_OK : SL_ENOMEM;
    if (rc == SL_OK && sqlite3_open_v2(path, &lookup->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = sl_error_set(err, SL_EIO, "lookup table %s: cannot open SQLite database %s: %s", table, path,
                          lookup->db ? sqlite3_errmsg(lookup->db) : "out of memory");
    if (rc == SL_OK) sqlite3_busy_timeout(lookup->db, BUSY_TIMEOUT_MS);
    sl_buffer sql = SL_BUFFER_INIT;
    if (rc == SL_OK) {
        rc = sl_buffer_append_cstr(&sql, "SELECT * FROM ");
        if (rc == SL_OK) rc = append_quoted(&sql, table);
        for (size_t i = 0; i < n_keys && rc == SL_OK; i++) {
            rc = sl_buffer_append_cstr(&sql, i ? " AND " : " WHERE ");
            if (rc == SL_OK) rc = append_quoted(&sql, key_columns[i]);
            if (rc == SL_OK) rc = sl_buffer_printf(&sql, " = ?%zu", i + 1);
        }
        if (rc == SL_OK) rc = sl_buffer_append_cstr(&sql, " LIMIT 2");
        if (rc == SL_OK) rc = sl_buffer_append_byte(&sql, '\0');
        if (rc) sl_error_set(err, rc, "out of memory");
    }
    if (rc == SL_OK && sqlite3_prepare_v2(lookup->db, sql.data, -1, &lookup->select, NULL) != SQLITE_OK)
        rc = sl_error_set(err, SL_ECONFIG, "lookup table %s in %s: %s (the table and its key columns must exist)",
                          table, path, sqlite3_errmsg(lookup->db));
    sl_buffer_free(&sql);
    if (rc == SL_OK) {
        lookup->n_columns = sqlite3_column_count(lookup->select);
        lookup->column_names = calloc((size_t)(lookup->n_columns ? lookup->n_columns : 1), sizeof *lookup->column_names);
        if (!lookup->column_names) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        for (int i = 0; rc == SL_OK && i < lookup->n_columns; i++) {
            lookup->column_names[i] = strdup(sqlite3_column_name(lookup->select, i));
            if (!lookup->column_names[i]) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        }
    }
    if (rc) {
        sl_sqlite_lookup_close(lookup);
        return rc;
    }
    *out = lookup;
    return SL_OK;
}

/* Binds key i; false when it can match nothing (NULL). */
static int bind_key(sl_sqlite_lookup *lookup, int index, const sl_value *key, bool *is_null)
{
    sqlite3_stmt *s = lookup->select;
    char text[SL_TIME_ISO_MAX];
    *is_null = false;
    switch (key->type) {
    case SL_TYPE_NULL: *is_null = true; return SQLITE_OK;
    case SL_TYPE_BOOL: return sqlite3_bind_int64(s, index, key->boolean);
    case SL_TYPE_INT: return sqlite3_bind_int64(s, index, key->integer);
    case SL_TYPE_DOUBLE: return sqlite3_bind_double(s, index, key->number);
    case SL_TYPE_STRING: return sqlite3_bind_text(s, index, key->string.ptr, (int)key->string.len, SQLITE_STATIC);
    case SL_TYPE_BYTES: return sqlite3_bind_blob(s, index, key->string.ptr, (int)key->string.len, SQLITE_STATIC);
    case SL_TYPE_TIMESTAMP: {
        /* As the sqlite sink stores timestamps: ISO 8601 text. */
        size_t len = sl_time_format_iso(key->timestamp, text);
        return sqlite3_bind_text(s, index, text, (int)len, SQLITE_TRANSIENT);
    }
    default: return SQLITE_MISMATCH;
    }
}

static int column_value(sqlite3_stmt *s, int i, sl_arena *arena, sl_value *out)
{
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: *out = sl_value_int(sqlite3_column_int64(s, i)); return SL_OK;
    case SQLITE_FLOAT: *out = sl_value_double(sqlite3_column_double(s, i)); return SL_OK;
    case SQLITE_TEXT:
        return sl_value_string_copy(arena, (const char *)sqlite3_column_text(s, i), (size_t)sqlite3_column_bytes(s, i),
                                    out);
    case SQLITE_BLOB: {
        int rc = sl_value_string_copy(arena, sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i), out);
        out->type = SL_TYPE_BYTES;
        return rc;
    }
    default: *out = sl_value_null(); return SL_OK;
    }
}

int sl_sqlite_lookup_get(sl_sqlite_lookup *lookup, const sl_value *keys, sl_arena *arena, sl_value *row,
                         sl_error *err)
{
    sqlite3_stmt *s = lookup->select;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (size_t i = 0; i < lookup->n_keys; i++) {
        bool is_null;
        int bound = bind_key(lookup, (int)i + 1, &keys[i], &is_null);
        if (is_null) return 0;
        if (bound != SQLITE_OK)
            return sl_error_set(err, SL_ESQL, "lookup table %s: a key of type %s cannot be looked up", lookup->table,
                                sl_type_name(keys[i].type));
    }
    int step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
        sqlite3_reset(s);   /* ends the read: the next lookup sees newer writes */
        return 0;
    }
    if (step != SQLITE_ROW) {
        sqlite3_reset(s);
        sl_error_set(err, SL_EIO, "lookup table %s: %s", lookup->table, sqlite3_errmsg(sqlite3_db_handle(s)));
        if (step == SQLITE_BUSY || step == SQLITE_LOCKED) sl_error_mark(err, SL_ERROR_TRANSIENT);
        return SL_EIO;
    }
    sl_member *members = sl_arena_alloc(arena, (size_t)(lookup->n_columns ? lookup->n_columns : 1) * sizeof *members);
    if (!members) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < lookup->n_columns; i++) {
        members[i].key = sl_str_from(lookup->column_names[i]);
        if (column_value(s, i, arena, &members[i].value)) return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    bool is_unique = sqlite3_step(s) != SQLITE_ROW;
    sqlite3_reset(s);
    if (!is_unique)
        return sl_error_set(err, SL_ESQL, "lookup table %s: the key matches more than one row (a lookup join needs "
                            "key columns that are unique)", lookup->table);
    row->type = SL_TYPE_OBJECT;
    row->object.members = members;
    row->object.n_members = (size_t)lookup->n_columns;
    return 1;
}
