/* cassandra_schema.c — columns, type mapping and CQL text of the cassandra
 * sink (see cassandra_schema.h for the type table). */
#include "connectors/cassandra/cassandra_schema.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "cql/cql_type.h"

int sl_cassandra_columns_from_node(const sl_node *node, sl_columns *out, sl_error *err)
{
    if (!node || (node->kind == SL_NODE_SCALAR && node->is_null)) return SL_OK;
    if (node->kind != SL_NODE_MAP)
        return sl_node_error(err, node, "cassandra sink: columns must be a mapping of column name to CQL type");
    sl_arena *arena = sl_arena_new(1024);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = SL_OK;
    for (size_t i = 0; i < node->n_pairs && rc == SL_OK; i++) {
        const sl_node_pair *pair = &node->pairs[i];
        const sl_node *value = pair->value;
        if (value->kind != SL_NODE_SCALAR || value->is_null) {
            rc = sl_node_error(err, value, "cassandra sink: column '%s' needs a CQL type such as text or uuid",
                               pair->key);
            break;
        }
        sl_cql_type *type = NULL;
        sl_error type_err;
        if (sl_cql_type_parse_name(sl_str_from(value->scalar), arena, &type, &type_err) != SL_OK) {
            rc = sl_node_error(err, value, "cassandra sink: column '%s': %s", pair->key, type_err.message);
            break;
        }
        if (type->code == SL_CQL_UDT || type->code == SL_CQL_TUPLE || type->code == SL_CQL_CUSTOM) {
            rc = sl_node_error(err, value, "cassandra sink: column '%s': '%s' is not a CQL type the sink writes "
                               "(text, ascii, int, bigint, smallint, tinyint, varint, decimal, float, double, "
                               "boolean, timestamp, date, time, duration, uuid, timeuuid, inet, blob, list, set, map)",
                               pair->key, value->scalar);
            break;
        }
        if (sl_columns_find(out, pair->key, strlen(pair->key)) >= 0) {
            rc = sl_node_error(err, value, "cassandra sink: column '%s' is declared twice", pair->key);
            break;
        }
        char text[256];
        rc = sl_columns_add(out, pair->key, strlen(pair->key), sl_cql_type_format(type, text, sizeof text));
        if (rc) sl_error_set(err, rc, "out of memory");
    }
    sl_arena_free(arena);
    return rc;
}

/* What one value says about its column's type. */
typedef enum seen_type {
    SEEN_NONE = 0,
    SEEN_STRING = 1 << 0,
    SEEN_INT = 1 << 1,
    SEEN_DOUBLE = 1 << 2,
    SEEN_BOOL = 1 << 3,
    SEEN_TIMESTAMP = 1 << 4,
    SEEN_BYTES = 1 << 5,
    SEEN_ARRAY = 1 << 6,
    SEEN_OBJECT = 1 << 7,
} seen_type;

static seen_type seen_of(const sl_value *value)
{
    switch (value->type) {
    case SL_TYPE_STRING:
    case SL_TYPE_INTERVAL: return SEEN_STRING;   /* written as PostgreSQL's text */
    case SL_TYPE_INT: return SEEN_INT;
    case SL_TYPE_DOUBLE: return SEEN_DOUBLE;
    case SL_TYPE_BOOL: return SEEN_BOOL;
    case SL_TYPE_TIMESTAMP: return SEEN_TIMESTAMP;
    case SL_TYPE_BYTES: return SEEN_BYTES;
    case SL_TYPE_ARRAY: return SEEN_ARRAY;
    case SL_TYPE_OBJECT: return SEEN_OBJECT;
    case SL_TYPE_NULL: break;
    }
    return SEEN_NONE;
}

const char *sl_cassandra_infer_type(const sl_batch *batch, const char *name)
{
    unsigned seen = SEEN_NONE;
    sl_str key = sl_str_from(name);
    for (size_t i = 0; batch && i < batch->n_records; i++) {
        const sl_record *record = &batch->records[i];
        if (!record->has_value) continue;
        const sl_value *field = sl_value_get(&record->value, key);
        if (field) seen |= seen_of(field);
    }
    switch (seen) {
    case SEEN_INT: return "bigint";
    case SEEN_DOUBLE:
    case SEEN_INT | SEEN_DOUBLE: return "double";
    case SEEN_BOOL: return "boolean";
    case SEEN_TIMESTAMP: return "timestamp";
    case SEEN_BYTES: return "blob";
    case SEEN_ARRAY: return "list<text>";
    case SEEN_OBJECT: return "map<text, text>";
    default: return "text";  /* strings, nothing but nulls, or a mix written as text */
    }
}

int sl_cassandra_columns_plan(const char *const *names, size_t n_names, const sl_columns *declared,
                              const sl_batch *batch, sl_columns *out, sl_error *err)
{
    const sl_value *first = NULL;
    for (size_t i = 0; !names && batch && i < batch->n_records; i++)
        if (batch->records[i].has_value && batch->records[i].value.type == SL_TYPE_OBJECT) {
            first = &batch->records[i].value;
            break;
        }
    size_t n = names ? n_names : first ? first->object.n_members : 0;
    for (size_t i = 0; i < n; i++) {
        sl_str name = names ? sl_str_from(names[i]) : first->object.members[i].key;
        if (sl_columns_find(out, name.ptr, name.len) >= 0) continue;
        long at = declared ? sl_columns_find(declared, name.ptr, name.len) : -1;
        char *copy = strndup(name.ptr, name.len);
        if (!copy) return sl_error_set(err, SL_ENOMEM, "out of memory");
        const char *type = at >= 0 ? declared->types[at] : sl_cassandra_infer_type(batch, copy);
        int rc = sl_columns_add(out, name.ptr, name.len, type);
        free(copy);
        if (rc) return sl_error_set(err, rc, "out of memory");
    }
    /* Declared columns the records do not name are still part of the table. */
    for (size_t i = 0; declared && i < declared->n_columns; i++) {
        const char *name = declared->names[i];
        if (sl_columns_find(out, name, strlen(name)) >= 0) continue;
        int rc = sl_columns_add(out, name, strlen(name), declared->types[i]);
        if (rc) return sl_error_set(err, rc, "out of memory");
    }
    if (out->n_columns == 0)
        return sl_error_set(err, SL_ECONFIG, "cassandra sink: no columns to write (no SQL output columns, "
                                             "no declared columns, and the first record is not an object)");
    return SL_OK;
}

int sl_cassandra_append_identifier(sl_buffer *out, const char *name)
{
    int rc = sl_buffer_append_byte(out, '"');
    for (const char *p = name; *p && rc == SL_OK; p++) {
        if (*p == '"') rc = sl_buffer_append_byte(out, '"');
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, *p);
    }
    return rc ? rc : sl_buffer_append_byte(out, '"');
}

/* Appends 'text' as a CQL string literal (inner quotes doubled). */
static int append_literal(sl_buffer *out, const char *text)
{
    int rc = sl_buffer_append_byte(out, '\'');
    for (const char *p = text; *p && rc == SL_OK; p++) {
        if (*p == '\'') rc = sl_buffer_append_byte(out, '\'');
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, *p);
    }
    return rc ? rc : sl_buffer_append_byte(out, '\'');
}

int sl_cassandra_build_create_keyspace(sl_buffer *out, const char *keyspace, const sl_node *replication,
                                       sl_error *err)
{
    int rc = sl_buffer_append_cstr(out, "CREATE KEYSPACE IF NOT EXISTS ");
    if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, keyspace);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, " WITH replication = {");
    if (rc) return sl_error_set(err, rc, "out of memory");
    if (!replication || (replication->kind == SL_NODE_SCALAR && replication->is_null)) {
        rc = sl_buffer_append_cstr(out, "'class': 'SimpleStrategy', 'replication_factor': '1'}");
        return rc ? sl_error_set(err, rc, "out of memory") : SL_OK;
    }
    if (replication->kind != SL_NODE_MAP || replication->n_pairs == 0)
        return sl_node_error(err, replication, "cassandra sink: replication must be a mapping such as "
                                               "{ class: SimpleStrategy, replication_factor: 1 }");
    bool has_class = false;
    for (size_t i = 0; i < replication->n_pairs && rc == SL_OK; i++) {
        const sl_node_pair *pair = &replication->pairs[i];
        if (pair->value->kind != SL_NODE_SCALAR || pair->value->is_null)
            return sl_node_error(err, pair->value, "cassandra sink: replication '%s' needs a value", pair->key);
        has_class = has_class || strcmp(pair->key, "class") == 0;
        if (i) rc = sl_buffer_append_cstr(out, ", ");
        if (rc == SL_OK) rc = append_literal(out, pair->key);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ": ");
        if (rc == SL_OK) rc = append_literal(out, pair->value->scalar);
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, '}');
    if (rc) return sl_error_set(err, rc, "out of memory");
    if (!has_class)
        return sl_node_error(err, replication, "cassandra sink: replication needs a class "
                                               "(SimpleStrategy or NetworkTopologyStrategy)");
    return SL_OK;
}

int sl_cassandra_build_create_table(sl_buffer *out, const char *keyspace, const char *table,
                                    const sl_columns *columns, char *const *key, size_t n_key,
                                    size_t n_partition, sl_error *err)
{
    if (n_key == 0)
        return sl_error_set(err, SL_ECONFIG, "cassandra sink: creating table %s.%s needs `key:` (its primary key "
                                             "columns)", keyspace, table);
    for (size_t i = 0; i < n_key; i++)
        if (sl_columns_find(columns, key[i], strlen(key[i])) < 0)
            return sl_error_set(err, SL_ECONFIG, "cassandra sink: key column '%s' is not among the columns "
                                                 "written to %s.%s", key[i], keyspace, table);
    if (n_partition == 0 || n_partition > n_key) n_partition = 1;
    int rc = sl_buffer_append_cstr(out, "CREATE TABLE IF NOT EXISTS ");
    if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, keyspace);
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, '.');
    if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, table);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, " (");
    for (size_t i = 0; i < columns->n_columns && rc == SL_OK; i++) {
        rc = sl_cassandra_append_identifier(out, columns->names[i]);
        if (rc == SL_OK) rc = sl_buffer_printf(out, " %s, ", columns->types[i]);
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "PRIMARY KEY ((");
    for (size_t i = 0; i < n_key && rc == SL_OK; i++) {
        if (i == n_partition) rc = sl_buffer_append_byte(out, ')');
        if (i && rc == SL_OK) rc = sl_buffer_append_cstr(out, ", ");
        if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, key[i]);
    }
    if (rc == SL_OK && n_partition == n_key) rc = sl_buffer_append_byte(out, ')');
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "))");
    return rc ? sl_error_set(err, rc, "out of memory") : SL_OK;
}

int sl_cassandra_build_insert(sl_buffer *out, const char *keyspace, const char *table,
                              const sl_columns *columns, int64_t ttl_seconds)
{
    int rc = sl_buffer_append_cstr(out, "INSERT INTO ");
    if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, keyspace);
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, '.');
    if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, table);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, " (");
    for (size_t i = 0; i < columns->n_columns && rc == SL_OK; i++) {
        if (i) rc = sl_buffer_append_cstr(out, ", ");
        if (rc == SL_OK) rc = sl_cassandra_append_identifier(out, columns->names[i]);
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ") VALUES (");
    for (size_t i = 0; i < columns->n_columns && rc == SL_OK; i++) rc = sl_buffer_append_cstr(out, i ? ", ?" : "?");
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, ')');
    if (rc == SL_OK && ttl_seconds > 0) rc = sl_buffer_printf(out, " USING TTL %" PRId64, ttl_seconds);
    return rc;
}
