/* sqlite_schema.c — column lists, type mapping and the SQL text of the
 * sqlite sink (see sqlite_schema.h for the type table).
 *
 * The sink never alters a table: it creates one when it is missing (from
 * declared columns, the SQL's output columns or the first record) and
 * otherwise checks that every column it will write exists, naming the
 * first one that does not.
 */
#include "connectors/sqlite/sqlite_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sl_sqlite_type_of(const sl_value *value)
{
    if (!value) return "TEXT";
    switch (value->type) {
    case SL_TYPE_INT:
    case SL_TYPE_BOOL: return "INTEGER";
    case SL_TYPE_DOUBLE: return "REAL";
    case SL_TYPE_BYTES: return "BLOB";
    case SL_TYPE_NULL:
    case SL_TYPE_STRING:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_INTERVAL:
    case SL_TYPE_ARRAY:
    case SL_TYPE_OBJECT: return "TEXT";
    }
    return "TEXT";
}

/* A declared type goes into CREATE TABLE as written, so it may only hold
 * what SQL type names hold: "INTEGER", "VARCHAR(36)", "DECIMAL(10, 2)". */
static bool is_valid_type(const char *type)
{
    if (!type[0]) return false;
    for (const char *c = type; *c; c++) {
        bool is_ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || strchr(" _(),", *c);
        if (!is_ok) return false;
    }
    return true;
}

static int node_error(sl_error *err, const sl_node *node, const char *what, const char *name)
{
    return sl_error_set(err, SL_ECONFIG, "%s:%d:%d: sqlite columns: %s%s%s",
                        node->file ? node->file : "config", node->line, node->column, what,
                        name ? " " : "", name ? name : "");
}

int sl_sqlite_columns_from_node(const sl_node *node, sl_columns *out, sl_error *err)
{
    if (node->kind != SL_NODE_MAP)
        return node_error(err, node, "expected a mapping of column name to SQL type, e.g. "
                                     "{id: TEXT, age: INTEGER}", NULL);
    if (node->n_pairs == 0) return node_error(err, node, "no columns declared", NULL);
    for (size_t i = 0; i < node->n_pairs; i++) {
        const sl_node_pair *pair = &node->pairs[i];
        const sl_node *type = pair->value;
        if (!pair->key || !pair->key[0])
            return node_error(err, node, "a column name is empty", NULL);
        if (!type || type->kind != SL_NODE_SCALAR || type->is_null || !type->scalar)
            return node_error(err, type ? type : node, "expected an SQL type for column",
                              pair->key);
        if (!is_valid_type(type->scalar))
            return node_error(err, type, "not an SQL type name (letters, digits, spaces, "
                                         "parentheses and commas) for column", pair->key);
        if (sl_columns_find(out, pair->key, strlen(pair->key)) >= 0)
            return node_error(err, type, "column declared twice:", pair->key);
        if (sl_columns_add(out, pair->key, strlen(pair->key), type->scalar))
            return sl_error_set(err, SL_ENOMEM, "sqlite columns: no memory");
    }
    return SL_OK;
}

/* The type every non-null value under name maps to, "" when they differ. */
static const char *batch_column_type(const sl_batch *batch, sl_str name)
{
    const char *type = NULL;
    for (size_t r = 0; r < batch->n_records; r++) {
        const sl_record *record = &batch->records[r];
        if (!record->has_value) continue;
        const sl_value *field = sl_value_get(&record->value, name);
        if (!field || field->type == SL_TYPE_NULL) continue;
        const char *field_type = sl_sqlite_type_of(field);
        if (type && strcmp(type, field_type) != 0) return "";
        type = field_type;
    }
    return type ? type : "TEXT";
}

int sl_sqlite_columns_infer(const char *const *names, size_t n_names, const sl_batch *batch,
                            sl_columns *out)
{
    for (size_t i = 0; i < n_names; i++) {
        const char *type = batch_column_type(batch, sl_str_from(names[i]));
        int rc = sl_columns_add(out, names[i], strlen(names[i]), type);
        if (rc) return rc;
    }
    return SL_OK;
}

int sl_sqlite_columns_from_record(const sl_value *record, sl_columns *out)
{
    if (record->type != SL_TYPE_OBJECT) return SL_ETYPE;
    for (size_t i = 0; i < record->object.n_members; i++) {
        const sl_member *member = &record->object.members[i];
        if (sl_columns_find(out, member->key.ptr, member->key.len) >= 0) continue;
        int rc = sl_columns_add(out, member->key.ptr, member->key.len,
                                       sl_sqlite_type_of(&member->value));
        if (rc) return rc;
    }
    return SL_OK;
}

int sl_sqlite_table_columns(sqlite3 *db, const char *table, sl_columns *out, bool *exists,
                            sl_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = SL_OK;
    *exists = false;
    int sqlite_rc = sqlite3_prepare_v2(
        db, "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid", -1, &stmt, NULL);
    if (sqlite_rc == SQLITE_OK) sqlite_rc = sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    while (sqlite_rc == SQLITE_OK && (sqlite_rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        const char *type = (const char *)sqlite3_column_text(stmt, 1);
        if (!name || sl_columns_add(out, name, strlen(name), type)) {
            rc = sl_error_set(err, SL_ENOMEM, "reading the columns of table %s: no memory", table);
            goto done;
        }
        *exists = true;
        sqlite_rc = SQLITE_OK;
    }
    if (sqlite_rc != SQLITE_DONE) {
        rc = sl_error_set(err, SL_ESINK, "reading the columns of table %s: %s", table,
                          sqlite3_errmsg(db));
        sl_error_mark(err, sl_sqlite_error_class(sqlite_rc));
    }
done:
    sqlite3_finalize(stmt);
    return rc;
}

sl_error_class sl_sqlite_error_class(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM: return SL_ERROR_TRANSIENT;
    default: return SL_ERROR_PERMANENT;
    }
}

int sl_sqlite_append_identifier(sl_buffer *sql, const char *name)
{
    int rc = sl_buffer_append_byte(sql, '"');
    for (const char *c = name; !rc && *c; c++) {
        if (*c == '"') rc = sl_buffer_append_byte(sql, '"');
        if (!rc) rc = sl_buffer_append_byte(sql, *c);
    }
    if (!rc) rc = sl_buffer_append_byte(sql, '"');
    return rc;
}

/* "a", "b", "c" */
static int append_identifier_list(sl_buffer *sql, const sl_columns *columns)
{
    int rc = SL_OK;
    for (size_t i = 0; !rc && i < columns->n_columns; i++) {
        if (i) rc = sl_buffer_append_cstr(sql, ", ");
        if (!rc) rc = sl_sqlite_append_identifier(sql, columns->names[i]);
    }
    return rc;
}

int sl_sqlite_create_table(sqlite3 *db, const char *table, const sl_columns *columns,
                           const sl_columns *key, sl_error *err)
{
    sl_buffer sql = SL_BUFFER_INIT;
    int rc = sl_buffer_append_cstr(&sql, "CREATE TABLE IF NOT EXISTS ");
    if (!rc) rc = sl_sqlite_append_identifier(&sql, table);
    if (!rc) rc = sl_buffer_append_cstr(&sql, " (");
    for (size_t i = 0; !rc && i < columns->n_columns; i++) {
        if (i) rc = sl_buffer_append_cstr(&sql, ", ");
        if (!rc) rc = sl_sqlite_append_identifier(&sql, columns->names[i]);
        if (!rc && columns->types[i][0]) rc = sl_buffer_printf(&sql, " %s", columns->types[i]);
        /* SQLite lets NULL into a non-INTEGER primary key unless told not to. */
        bool is_key = sl_columns_find(key, columns->names[i], strlen(columns->names[i])) >= 0;
        if (!rc && is_key) rc = sl_buffer_append_cstr(&sql, " NOT NULL");
    }
    if (!rc && key->n_columns) {
        rc = sl_buffer_append_cstr(&sql, ", PRIMARY KEY (");
        if (!rc) rc = append_identifier_list(&sql, key);
        if (!rc) rc = sl_buffer_append_byte(&sql, ')');
    }
    if (!rc) rc = sl_buffer_append_byte(&sql, ')');
    if (!rc) rc = sl_buffer_append_byte(&sql, '\0');
    if (rc) {
        rc = sl_error_set(err, SL_ENOMEM, "creating table %s: no memory", table);
        goto done;
    }
    char *message = NULL;
    int sqlite_rc = sqlite3_exec(db, sql.data, NULL, NULL, &message);
    if (sqlite_rc != SQLITE_OK) {
        rc = sl_error_set(err, SL_ESINK, "creating table %s: %s (%s)", table,
                          message ? message : sqlite3_errmsg(db), sql.data);
        sl_error_mark(err, sl_sqlite_error_class(sqlite3_extended_errcode(db)));
        sqlite3_free(message);
    }
done:
    sl_buffer_free(&sql);
    return rc;
}

int sl_sqlite_build_insert(sl_buffer *sql, const char *table, const sl_columns *columns,
                           const sl_columns *key)
{
    int rc = sl_buffer_append_cstr(sql, "INSERT INTO ");
    if (!rc) rc = sl_sqlite_append_identifier(sql, table);
    if (!rc) rc = sl_buffer_append_cstr(sql, " (");
    if (!rc) rc = append_identifier_list(sql, columns);
    if (!rc) rc = sl_buffer_append_cstr(sql, ") VALUES (");
    for (size_t i = 0; !rc && i < columns->n_columns; i++)
        rc = sl_buffer_append_cstr(sql, i ? ", ?" : "?");
    if (!rc) rc = sl_buffer_append_byte(sql, ')');
    if (!rc && key->n_columns) {
        rc = sl_buffer_append_cstr(sql, " ON CONFLICT (");
        if (!rc) rc = append_identifier_list(sql, key);
        if (!rc) rc = sl_buffer_append_cstr(sql, ") DO ");
        size_t n_set = 0;
        for (size_t i = 0; !rc && i < columns->n_columns; i++) {
            const char *name = columns->names[i];
            if (sl_columns_find(key, name, strlen(name)) >= 0) continue;
            rc = sl_buffer_append_cstr(sql, n_set++ ? ", " : "UPDATE SET ");
            if (!rc) rc = sl_sqlite_append_identifier(sql, name);
            if (!rc) rc = sl_buffer_append_cstr(sql, " = excluded.");
            if (!rc) rc = sl_sqlite_append_identifier(sql, name);
        }
        if (!rc && n_set == 0) rc = sl_buffer_append_cstr(sql, "NOTHING");
    }
    if (!rc) rc = sl_buffer_append_byte(sql, '\0');
    return rc;
}

int sl_sqlite_check_columns(const sl_columns *wanted, const sl_columns *table_columns,
                            const char *what, const char *table, sl_error *err)
{
    for (size_t i = 0; i < wanted->n_columns; i++) {
        const char *name = wanted->names[i];
        if (sl_columns_find(table_columns, name, strlen(name)) >= 0) continue;
        char have[256] = "";
        size_t used = 0;
        for (size_t j = 0; j < table_columns->n_columns && used + 1 < sizeof have; j++)
            used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", j ? ", " : "",
                                     table_columns->names[j]);
        return sl_error_set_permanent(err, SL_ESINK,
                            "%s column '%s' is not a column of table %s (it has: %s); the sink "
                            "does not alter tables: add the column or use another table",
                            what, name, table, have);
    }
    return SL_OK;
}
