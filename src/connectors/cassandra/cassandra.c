/* cassandra.c — the `cassandra` sink: every record becomes a prepared
 * INSERT (an upsert) into one table, through sluice's CQL client
 * (src/cql/session.h).
 *
 * Set-up happens at the first write, not at open, so a pipeline starts
 * while Cassandra is still coming up: the session connects (contact points,
 * credentials, ring from system.peers); with `create: true` the keyspace
 * (`replication:`) and the table (columns from `columns:`, the SQL's output
 * columns or the first record, typed per cassandra_schema.h; primary key
 * from `key:`/`partition_key:`) are created when missing; then the INSERT
 * of the written columns is prepared. Its bind metadata gives each
 * column's type (the table's truth, created here or not) and which
 * columns form the partition key.
 *
 * Writing a group of batches: each record's fields are encoded to the
 * columns' types (a missing field is sent as `unset`, so it writes no
 * tombstone; null is null); a value that cannot convert rejects the record
 * with the column and the reason. Each row's partition key gives its
 * Murmur3 token; rows are grouped by the node that owns the token and sent
 * as UNLOGGED BATCHes of at most batch_rows rows and CASSANDRA_BATCH_BYTES
 * (one replica, so one coordinator hop), `concurrency` requests in flight.
 * A batch the server refuses as Invalid is split and its rows sent one by
 * one: the rows Cassandra still refuses are rejected with its message, the
 * others are stored. The call returns once Cassandra acknowledged every
 * row at the configured consistency; rejects reach env->reject only then,
 * so a retried write does not report them twice.
 *
 * Failures: timeouts, overload and unreachable nodes are retried by the
 * session within its retry window; past it the write returns a transient
 * error and the runtime retries the whole group later with backoff, up to
 * the pipeline's retry_limit (rows are upserts, so a row stored twice is
 * stored once). Refusals that no retry can fix are permanent and stop the
 * pipeline at once with Cassandra's message: bad credentials or no
 * permission (SL_ECONFIG, exit 2), an unknown keyspace, table or column
 * (SL_ESINK, exit 1); a value Cassandra refuses (Invalid) rejects its row.
 *
 * The conf is borrowed: the plan owns it and outlives the sink.
 */
#include "connectors/cassandra/cassandra.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/cassandra/cassandra_schema.h"
#include "connectors/common/sink_rejects.h"
#include "core/buffer.h"
#include "cql/codec.h"
#include "cql/murmur3.h"
#include "cql/session.h"

/* Cassandra refuses batches over batch_size_fail_threshold (50 KiB by
 * default); staying well under it keeps every batch accepted. */
#define CASSANDRA_BATCH_BYTES (40 * 1024)
#define CASSANDRA_MAX_KEY_PARTS 16

static const char *const compression_choices[] = { "none", "lz4", NULL };
/* The CQL consistency levels (sl_cql_consistency_parse takes them in any case). */
static const char *const consistency_choices[] = {
    "any", "one", "two", "three", "quorum", "all", "local_quorum", "each_quorum", "serial", "local_serial",
    "local_one", NULL,
};

static const sl_option cassandra_options[] = {
    { "hosts", SL_OPT_STR_LIST, offsetof(sl_cassandra_conf, hosts), .required = true,
      .help = "contact points: host or host:port (the rest of the cluster is discovered)" },
    { "port", SL_OPT_INT, offsetof(sl_cassandra_conf, port), .default_value = "9042", .min = "1", .max = "65535",
      .help = "native protocol port for hosts given without one" },
    { "keyspace", SL_OPT_STRING, offsetof(sl_cassandra_conf, keyspace), .required = true,
      .help = "keyspace of the table" },
    { "table", SL_OPT_STRING, offsetof(sl_cassandra_conf, table), .required = true,
      .help = "table the rows are upserted into" },
    { "key", SL_OPT_STR_LIST, offsetof(sl_cassandra_conf, key),
      .help = "primary key columns, partition key first (needed by create)" },
    { "partition_key", SL_OPT_STR_LIST, offsetof(sl_cassandra_conf, partition_key),
      .help = "the partition key columns, a prefix of key (default: key's first column)" },
    { "columns", SL_OPT_MAP, offsetof(sl_cassandra_conf, columns),
      .help = "declared column types, name: CQL type (e.g. id: uuid); others are inferred" },
    { "create", SL_OPT_BOOL, offsetof(sl_cassandra_conf, create), .default_value = "false",
      .help = "create the keyspace and the table when they do not exist" },
    { "replication", SL_OPT_MAP, offsetof(sl_cassandra_conf, replication),
      .help = "replication of a created keyspace (default { class: SimpleStrategy, replication_factor: 1 })" },
    { "consistency", SL_OPT_STRING, offsetof(sl_cassandra_conf, consistency), .default_value = "local_quorum",
      .choices = consistency_choices, .help = "consistency level every write is acknowledged at" },
    { "ttl", SL_OPT_DURATION, offsetof(sl_cassandra_conf, ttl_ms), .default_value = "0",
      .help = "rows expire after this long (0: never)" },
    { "concurrency", SL_OPT_INT, offsetof(sl_cassandra_conf, concurrency), .default_value = "64", .min = "1",
      .max = "32768",
      .help = "write requests in flight at once" },
    { "batch_rows", SL_OPT_INT, offsetof(sl_cassandra_conf, batch_rows), .default_value = "32", .min = "1",
      .max = "1000",
      .help = "rows per unlogged batch, all owned by one node (1: one EXECUTE per row)" },
    { "username", SL_OPT_STRING, offsetof(sl_cassandra_conf, username),
      .help = "user for PasswordAuthenticator" },
    { "password", SL_OPT_STRING, offsetof(sl_cassandra_conf, password),
      .help = "password (use ${ENV} to keep it out of the file)" },
    { "compression", SL_OPT_STRING, offsetof(sl_cassandra_conf, compression), .default_value = "none",
      .choices = compression_choices, .help = "frame compression: none or lz4" },
    { "tls", SL_OPT_BOOL, offsetof(sl_cassandra_conf, tls), .default_value = "false",
      .help = "connect with TLS" },
    { "tls_ca", SL_OPT_STRING, offsetof(sl_cassandra_conf, tls_ca),
      .help = "CA file the server's certificate is checked against (default: the system's)" },
    { "tls_cert", SL_OPT_STRING, offsetof(sl_cassandra_conf, tls_cert),
      .help = "client certificate file (PEM)" },
    { "tls_key", SL_OPT_STRING, offsetof(sl_cassandra_conf, tls_key),
      .help = "client private key file (PEM)" },
    { "tls_verify", SL_OPT_BOOL, offsetof(sl_cassandra_conf, tls_verify), .default_value = "true",
      .help = "check the server's certificate and host name" },
    { "connect_timeout", SL_OPT_DURATION, offsetof(sl_cassandra_conf, connect_timeout_ms),
      .default_value = "5s", .min = "1ms", .help = "how long connecting to one node may take" },
    { "request_timeout", SL_OPT_DURATION, offsetof(sl_cassandra_conf, request_timeout_ms),
      .default_value = "12s", .min = "1ms", .help = "how long one request attempt may take" },
    { 0 }
};

/* One record on its way to Cassandra. */
typedef struct cassandra_row {
    uint32_t batch;           /* index into the batches of this write */
    uint32_t index;           /* record index in that batch */
    int64_t token;
    const char *owner;        /* node owning the token (grouping key) */
} cassandra_row;

typedef struct cassandra_sink {
    const sl_connector_env *env;
    const sl_cassandra_conf *conf;
    sl_cql_consistency consistency;
    sl_cql_session *session;
    const sl_cql_statement *insert;
    sl_columns declared;
    sl_columns columns;      /* written columns, in bind order */
    size_t key_columns[CASSANDRA_MAX_KEY_PARTS];   /* bind indexes of the partition key */
    size_t n_key_columns;
    /* Per write, reused: */
    cassandra_row *rows;
    sl_buffer *values;                 /* values[i]: row i's bound values */
    size_t rows_capacity;
    size_t n_rows;
    size_t *order;                     /* rows grouped by owner */
    sl_buffer *grouped;                /* shallow copies of values in that order */
    sl_cql_write *writes;
    size_t writes_capacity;
    size_t *write_first;               /* first grouped row of each write */
    sl_buffer routing;
    sl_sink_rejects rejects;
    sl_buffer scratch;
} cassandra_sink;

static void free_row_buffers(cassandra_sink *sink)
{
    for (size_t i = 0; i < sink->rows_capacity; i++) sl_buffer_free(&sink->values[i]);
}

static void cassandra_close(void *state)
{
    cassandra_sink *sink = state;
    if (!sink) return;
    sl_cql_session_close(sink->session);
    sl_columns_free(&sink->declared);
    sl_columns_free(&sink->columns);
    free_row_buffers(sink);
    free(sink->values);
    free(sink->rows);
    free(sink->order);
    free(sink->grouped);
    free(sink->writes);
    free(sink->write_first);
    sl_sink_rejects_free(&sink->rejects);
    sl_buffer_free(&sink->routing);
    sl_buffer_free(&sink->scratch);
    free(sink);
}

/* The first thing wrong with conf that open() would refuse, with in
 * *setting the name of the setting at fault; SL_OK when there is none.
 * check() reports it before the run, open() refuses it. */
static int conf_problem(const sl_cassandra_conf *conf, const char **setting, sl_error *err)
{
    int rc = SL_ECONFIG;
    *setting = NULL;
    sl_cql_consistency consistency;
    if (sl_cql_consistency_parse(sl_str_from(conf->consistency), &consistency, err)) {
        *setting = "consistency";
        return rc;
    }
    *setting = "hosts";
    if (conf->hosts.n_items == 0) return sl_error_set(err, rc, "cassandra sink: hosts needs at least one contact point");
    *setting = "concurrency";
    if (conf->concurrency < 1 || conf->concurrency > 32768)
        return sl_error_set(err, rc, "cassandra sink: concurrency must be between 1 and 32768, not %" PRId64,
                            conf->concurrency);
    *setting = "batch_rows";
    if (conf->batch_rows < 1 || conf->batch_rows > 1000)
        return sl_error_set(err, rc, "cassandra sink: batch_rows must be between 1 and 1000, not %" PRId64,
                            conf->batch_rows);
    *setting = "port";
    if (conf->port < 1 || conf->port > 65535)
        return sl_error_set(err, rc, "cassandra sink: port must be between 1 and 65535, not %" PRId64, conf->port);
    *setting = "create";
    if (conf->create && conf->key.n_items == 0)
        return sl_error_set(err, rc, "cassandra sink: create: true needs key: (the table's primary key columns)");
    *setting = "partition_key";
    if (conf->partition_key.n_items > CASSANDRA_MAX_KEY_PARTS || conf->partition_key.n_items > conf->key.n_items)
        return sl_error_set(err, rc, "cassandra sink: partition_key must be a prefix of key (at most %d columns)",
                            CASSANDRA_MAX_KEY_PARTS);
    for (size_t i = 0; i < conf->partition_key.n_items; i++)
        if (strcmp(conf->partition_key.items[i], conf->key.items[i]) != 0)
            return sl_error_set(err, rc, "cassandra sink: partition_key must be a prefix of key: '%s' is not key's "
                                "column %zu ('%s')", conf->partition_key.items[i], i + 1, conf->key.items[i]);
    *setting = conf->username ? "username" : "password";
    if ((!conf->username) != (!conf->password))
        return sl_error_set(err, rc, "cassandra sink: username and password go together");
    *setting = NULL;
    return SL_OK;
}

static int cassandra_open(const void *conf_ptr, const sl_connector_env *env, void **state, sl_error *err)
{
    const sl_cassandra_conf *conf = conf_ptr;
    const char *setting = NULL;
    int rc = conf_problem(conf, &setting, err);
    if (rc) return rc;
    cassandra_sink *sink = calloc(1, sizeof *sink);
    if (!sink) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sink->env = env;
    sink->conf = conf;
    rc = sl_cql_consistency_parse(sl_str_from(conf->consistency), &sink->consistency, err);
    if (rc == SL_OK) rc = sl_cassandra_columns_from_node(conf->columns, &sink->declared, err);
    if (rc) {
        cassandra_close(sink);
        return rc;
    }
    *state = sink;
    return SL_OK;
}

/* Before the run: what open() would refuse, the declared columns' types,
 * and, when the sink creates the table from the SQL's output columns, key
 * columns that are not among them (nor declared). */
static void cassandra_check(const void *conf_ptr, const sl_connector_check *check)
{
    const sl_cassandra_conf *conf = conf_ptr;
    sl_error err;
    sl_error_clear(&err);
    const char *setting = NULL;
    if (conf_problem(conf, &setting, &err)) {
        /* The message names the sink already: keep the setting's path only. */
        const char *text = strncmp(err.message, "cassandra sink: ", 16) == 0 ? err.message + 16 : err.message;
        sl_diag_error_at(check->diags, sl_connector_check_node(check, setting), "%s.%s: %s", check->where, setting,
                         text);
    }
    sl_columns declared = { 0 };
    sl_error_clear(&err);
    if (sl_cassandra_columns_from_node(conf->columns, &declared, &err))
        sl_diag_add_error_at(check->diags, sl_connector_check_node(check, "columns"), check->where, &err);
    for (size_t k = 0; conf->create && check->n_columns > 0 && k < conf->key.n_items; k++) {
        const char *name = conf->key.items[k];
        bool is_written = sl_columns_find(&declared, name, strlen(name)) >= 0;
        for (size_t c = 0; c < check->n_columns && !is_written; c++) is_written = strcmp(check->columns[c], name) == 0;
        if (!is_written)
            sl_diag_error_at(check->diags, sl_connector_check_node(check, "key"), "%s.key: key column '%s' is "
                             "neither an output column of the pipeline's SQL nor declared in columns, so the "
                             "table created would lack it: select it (... AS %s) or change key", check->where,
                             name, name);
    }
    sl_columns_free(&declared);
}

/* ---- set-up at the first write ---- */

static int connect_session(cassandra_sink *sink, sl_error *err)
{
    const sl_cassandra_conf *conf = sink->conf;
    sl_cql_session_config config = {
        .hosts = (const char *const *)conf->hosts.items,
        .n_hosts = conf->hosts.n_items,
        .port = (int)conf->port,
        .username = conf->username,
        .password = conf->password,
        .compression = conf->compression && strcmp(conf->compression, "lz4") == 0,
        .tls = conf->tls,
        .tls_ca_file = conf->tls_ca,
        .tls_verify = conf->tls_verify,
        .tls_cert_file = conf->tls_cert,
        .tls_key_file = conf->tls_key,
        .connect_timeout_ms = (int)conf->connect_timeout_ms,
        .request_timeout_ms = (int)conf->request_timeout_ms,
        .application_name = "sluice",
    };
    int rc = sl_cql_session_open(&config, &sink->session, err);
    if (rc) sl_error_prefix(err, "cassandra sink: ");
    return rc;
}

static int run_ddl(cassandra_sink *sink, const char *cql, sl_error *err)
{
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sl_cql_response result;
    int rc = sl_cql_session_query(sink->session, cql, NULL, 0, 0, sink->consistency, arena, &result, err);
    sl_arena_free(arena);
    if (rc) sl_error_prefix(err, "cassandra sink: %s: ", cql);
    return rc;
}

static const sl_batch *first_batch_with_records(const sl_batch *const *batches, size_t n_batches)
{
    for (size_t b = 0; b < n_batches; b++)
        if (batches[b]->n_records) return batches[b];
    return NULL;
}

/* The written columns: SQL output, declared, or the first record's keys. */
static int plan_columns(cassandra_sink *sink, const sl_batch *batch, sl_error *err)
{
    const sl_connector_env *env = sink->env;
    const char *const *names = env && env->n_columns ? env->columns : NULL;
    size_t n_names = names ? env->n_columns : 0;
    return sl_cassandra_columns_plan(names, n_names, &sink->declared, batch, &sink->columns, err);
}

static int create_schema(cassandra_sink *sink, sl_error *err)
{
    const sl_cassandra_conf *conf = sink->conf;
    sl_buffer *cql = &sink->scratch;
    sl_buffer_clear(cql);
    int rc = sl_cassandra_build_create_keyspace(cql, conf->keyspace, conf->replication, err);
    if (rc == SL_OK) rc = sl_buffer_append_byte(cql, '\0');
    if (rc == SL_OK) rc = run_ddl(sink, cql->data, err);
    if (rc) return rc;
    sl_buffer_clear(cql);
    size_t n_partition = conf->partition_key.n_items ? conf->partition_key.n_items : 1;
    rc = sl_cassandra_build_create_table(cql, conf->keyspace, conf->table, &sink->columns, conf->key.items,
                                         conf->key.n_items, n_partition, err);
    if (rc == SL_OK) rc = sl_buffer_append_byte(cql, '\0');
    if (rc == SL_OK) rc = run_ddl(sink, cql->data, err);
    return rc;
}

/* Prepares the INSERT and learns the types and the partition key from it. */
static int prepare_insert(cassandra_sink *sink, sl_error *err)
{
    const sl_cassandra_conf *conf = sink->conf;
    sl_buffer *cql = &sink->scratch;
    sl_buffer_clear(cql);
    int64_t ttl_s = conf->ttl_ms > 0 ? (conf->ttl_ms + 999) / 1000 : 0;
    int rc = sl_cassandra_build_insert(cql, conf->keyspace, conf->table, &sink->columns, ttl_s);
    if (rc == SL_OK) rc = sl_buffer_append_byte(cql, '\0');
    if (rc) return sl_error_set(err, SL_ENOMEM, "out of memory");
    rc = sl_cql_session_prepare(sink->session, cql->data, &sink->insert, err);
    if (rc) {
        sl_error_prefix(err, "cassandra sink: preparing %s: ", cql->data);
        if (!conf->create && !sl_error_is_transient(err))
            sl_error_prefix(err, "(the sink creates nothing without create: true) ");
        return rc;
    }
    const sl_cql_metadata *params = sl_cql_statement_params(sink->insert);
    if ((size_t)params->n_columns != sink->columns.n_columns)
        return sl_error_set(err, SL_ESINK, "cassandra sink: the prepared INSERT into %s.%s has %zu bind "
                            "variables, expected %zu", conf->keyspace, conf->table, (size_t)params->n_columns,
                            sink->columns.n_columns);
    if (params->n_pk_indexes > CASSANDRA_MAX_KEY_PARTS)
        return sl_error_set(err, SL_ECONFIG, "cassandra sink: %s.%s has a partition key of %zu columns "
                            "(at most %d supported)", conf->keyspace, conf->table, (size_t)params->n_pk_indexes,
                            CASSANDRA_MAX_KEY_PARTS);
    sink->n_key_columns = params->n_pk_indexes;
    for (size_t i = 0; i < sink->n_key_columns; i++) sink->key_columns[i] = params->pk_indexes[i];
    return SL_OK;
}

static int setup(cassandra_sink *sink, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    int rc = SL_OK;
    if (!sink->session) {
        rc = connect_session(sink, err);
        if (rc) return rc;
    }
    if (sink->insert) return SL_OK;
    const sl_batch *batch = first_batch_with_records(batches, n_batches);
    if (sink->columns.n_columns == 0) {
        rc = plan_columns(sink, batch, err);
        if (rc) return rc;
    }
    if (sink->conf->create) {
        rc = create_schema(sink, err);
        if (rc) return rc;
    }
    return prepare_insert(sink, err);
}

/* ---- encoding ---- */

static int reserve_rows(cassandra_sink *sink, size_t n, sl_error *err)
{
    if (n <= sink->rows_capacity) return SL_OK;
    size_t capacity = sink->rows_capacity ? sink->rows_capacity : 1024;
    while (capacity < n) capacity *= 2;
    cassandra_row *rows = realloc(sink->rows, capacity * sizeof *rows);
    if (rows) sink->rows = rows;
    sl_buffer *values = realloc(sink->values, capacity * sizeof *values);
    if (values) {
        sink->values = values;
        for (size_t i = sink->rows_capacity; i < capacity; i++) values[i] = (sl_buffer)SL_BUFFER_INIT;
    }
    size_t *order = realloc(sink->order, capacity * sizeof *order);
    if (order) sink->order = order;
    sl_buffer *grouped = realloc(sink->grouped, capacity * sizeof *grouped);
    if (grouped) sink->grouped = grouped;
    if (!rows || !values || !order || !grouped) return sl_error_set(err, SL_ENOMEM, "cassandra sink: out of memory");
    sink->rows_capacity = capacity;
    return SL_OK;
}

/* Encodes one record into values; SL_ETYPE with the reason in err when a
 * value does not convert (the record is rejected). */
static int encode_record(cassandra_sink *sink, const sl_record *record, sl_buffer *values, int64_t *token,
                         sl_error *err)
{
    sl_buffer_clear(values);
    if (!record->has_value || record->value.type != SL_TYPE_OBJECT)
        return sl_error_set(err, SL_ETYPE, "cassandra: the record is %s, not an object",
                            record->has_value ? sl_type_name(record->value.type) : "not parsed");
    const sl_cql_metadata *params = sl_cql_statement_params(sink->insert);
    size_t starts[CASSANDRA_MAX_KEY_PARTS] = { 0 };
    for (size_t c = 0; c < sink->columns.n_columns; c++) {
        const char *name = sink->columns.names[c];
        const sl_value *field = sl_value_get(&record->value, sl_str_from(name));
        for (size_t k = 0; k < sink->n_key_columns; k++)
            if (sink->key_columns[k] == c) {
                starts[k] = values->len;
                if (!field || field->type == SL_TYPE_NULL)
                    return sl_error_set(err, SL_ETYPE, "cassandra: key column '%s' is %s", name,
                                        field ? "null" : "missing");
            }
        int rc = field ? sl_cql_encode_value(params->columns[c].type, field, values, err)
                       : sl_cql_encode_unset(values);
        if (rc == SL_ETYPE) {
            sl_error_prefix(err, "cassandra: column '%s': ", name);
            return rc;
        }
        if (rc) return sl_error_set(err, rc, "cassandra sink: out of memory");
    }
    /* The routing key: each partition key column's value bytes (after its
     * 4-byte [bytes] length). */
    sl_str parts[CASSANDRA_MAX_KEY_PARTS];
    for (size_t k = 0; k < sink->n_key_columns; k++) {
        const uint8_t *at = (const uint8_t *)values->data + starts[k];
        uint32_t len = (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
        parts[k] = (sl_str){ (const char *)at + 4, len };
    }
    sl_buffer_clear(&sink->routing);
    if (sink->n_key_columns && sl_cql_routing_key(parts, sink->n_key_columns, &sink->routing) == SL_OK)
        *token = sl_cql_murmur3_token(sink->routing.data, sink->routing.len);
    else
        *token = 0;
    return SL_OK;
}

static int encode_all(cassandra_sink *sink, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    size_t total = 0;
    for (size_t b = 0; b < n_batches; b++) total += batches[b]->n_records;
    int rc = reserve_rows(sink, total, err);
    if (rc) return rc;
    sink->n_rows = 0;
    for (size_t b = 0; b < n_batches; b++) {
        for (size_t i = 0; i < batches[b]->n_records; i++) {
            cassandra_row *row = &sink->rows[sink->n_rows];
            sl_error why;
            rc = encode_record(sink, &batches[b]->records[i], &sink->values[sink->n_rows], &row->token, &why);
            if (rc == SL_ETYPE) {
                if (sl_sink_rejects_add(&sink->rejects, (uint32_t)b, (uint32_t)i, "%s", why.message))
                    return sl_error_set(err, SL_ENOMEM, "cassandra sink: out of memory");
                continue;
            }
            if (rc) return sl_error_set(err, rc, "%s", why.message);
            row->batch = (uint32_t)b;
            row->index = (uint32_t)i;
            row->owner = sink->n_key_columns ? sl_cql_session_host_for_token(sink->session, row->token) : NULL;
            sink->n_rows++;
        }
    }
    return SL_OK;
}

/* ---- grouping and sending ---- */

static int reserve_writes(cassandra_sink *sink, size_t n, sl_error *err)
{
    if (n <= sink->writes_capacity) return SL_OK;
    size_t capacity = sink->writes_capacity ? sink->writes_capacity : 64;
    while (capacity < n) capacity *= 2;
    sl_cql_write *writes = realloc(sink->writes, capacity * sizeof *writes);
    if (writes) sink->writes = writes;
    size_t *first = realloc(sink->write_first, capacity * sizeof *first);
    if (first) sink->write_first = first;
    if (!writes || !first) return sl_error_set(err, SL_ENOMEM, "cassandra sink: out of memory");
    sink->writes_capacity = capacity;
    return SL_OK;
}

/* Orders rows by owner (stable) into sink->order / sink->grouped. Few
 * owners (the cluster's nodes), so one pass per distinct owner. */
static void group_rows(cassandra_sink *sink)
{
    size_t placed = 0;
    const char *owners[64];
    size_t n_owners = 0;
    for (size_t i = 0; i < sink->n_rows; i++) {
        bool known = false;
        for (size_t o = 0; o < n_owners && !known; o++) known = owners[o] == sink->rows[i].owner;
        if (!known && n_owners < 64) owners[n_owners++] = sink->rows[i].owner;
    }
    for (size_t o = 0; o < n_owners; o++)
        for (size_t i = 0; i < sink->n_rows; i++)
            if (sink->rows[i].owner == owners[o]) sink->order[placed++] = i;
    /* Owners past the 64th (a very large cluster) go last, unordered. */
    for (size_t i = 0; i < sink->n_rows && placed < sink->n_rows; i++) {
        bool listed = false;
        for (size_t o = 0; o < n_owners && !listed; o++) listed = owners[o] == sink->rows[i].owner;
        if (!listed) sink->order[placed++] = i;
    }
    for (size_t i = 0; i < sink->n_rows; i++) sink->grouped[i] = sink->values[sink->order[i]];
}

/* Cuts the grouped rows [from, to) into writes of one owner, at most
 * max_rows rows and CASSANDRA_BATCH_BYTES each. */
static int build_writes(cassandra_sink *sink, size_t max_rows, size_t *n_writes, sl_error *err)
{
    *n_writes = 0;
    size_t i = 0;
    while (i < sink->n_rows) {
        int rc = reserve_writes(sink, *n_writes + 1, err);
        if (rc) return rc;
        const cassandra_row *head = &sink->rows[sink->order[i]];
        size_t n = 0, bytes = 0;
        while (i + n < sink->n_rows && n < max_rows) {
            const cassandra_row *row = &sink->rows[sink->order[i + n]];
            size_t row_bytes = sink->grouped[i + n].len;
            if (row->owner != head->owner || (n && bytes + row_bytes > CASSANDRA_BATCH_BYTES)) break;
            bytes += row_bytes;
            n++;
        }
        sink->writes[*n_writes] = (sl_cql_write){
            .statement = sink->insert,
            .rows = &sink->grouped[i],
            .n_rows = n,
            .token = head->token,
            .has_token = sink->n_key_columns > 0,
        };
        sink->write_first[*n_writes] = i;
        (*n_writes)++;
        i += n;
    }
    return SL_OK;
}

static bool is_row_refusal(const sl_cql_write *write)
{
    return write->status != SL_OK && write->server_code == SL_CQL_ERR_INVALID;
}

static int send_writes(cassandra_sink *sink, size_t n_writes, sl_error *err)
{
    sl_cql_write_options options = { .consistency = sink->consistency, .max_in_flight = (int)sink->conf->concurrency };
    int rc = sl_cql_session_write(sink->session, sink->writes, n_writes, &options, err);
    if (rc) sl_error_prefix(err, "cassandra sink: %s.%s: ", sink->conf->keyspace, sink->conf->table);
    return rc;
}

/* A write that failed for good and is not about its rows' values. */
static int write_failure(cassandra_sink *sink, const sl_cql_write *write, sl_error *err)
{
    int rc = write->status ? write->status : SL_ESINK;
    if (write->server_code == SL_CQL_ERR_UNAUTHORIZED || write->server_code == SL_CQL_ERR_AUTHENTICATION)
        rc = SL_ECONFIG;
    sl_error_set(err, rc, "cassandra sink: %s.%s: %s", sink->conf->keyspace, sink->conf->table,
                 write->error.message);
    /* A server's refusal is final; a failure without one keeps its own class. */
    return sl_error_mark(err, write->server_code >= 0 ? SL_ERROR_PERMANENT : write->error.error_class);
}

/* Sends the grouped rows; batches refused as Invalid are retried row by
 * row and the rows still refused are rejected. */
static int send_rows(cassandra_sink *sink, sl_error *err)
{
    size_t n_writes = 0;
    int rc = build_writes(sink, (size_t)sink->conf->batch_rows, &n_writes, err);
    if (rc == SL_OK && n_writes) rc = send_writes(sink, n_writes, err);
    if (rc) return rc;
    /* Collect the grouped positions of refused multi-row writes, then resend those rows singly. */
    size_t n_single = 0;
    for (size_t w = 0; w < n_writes; w++) {
        const sl_cql_write *write = &sink->writes[w];
        if (write->status == SL_OK) continue;
        if (!is_row_refusal(write)) return write_failure(sink, write, err);
        if (write->n_rows == 1) {
            const cassandra_row *row = &sink->rows[sink->order[sink->write_first[w]]];
            if (sl_sink_rejects_add(&sink->rejects, row->batch, row->index, "cassandra: %s", write->error.message))
                return sl_error_set(err, SL_ENOMEM, "cassandra sink: out of memory");
            continue;
        }
        n_single += write->n_rows;
    }
    if (n_single == 0) return SL_OK;
    /* Keep the refused batches' rows, in order, at the front of order/grouped. */
    size_t kept = 0;
    for (size_t w = 0; w < n_writes; w++) {
        const sl_cql_write *write = &sink->writes[w];
        if (!is_row_refusal(write) || write->n_rows == 1) continue;
        for (size_t r = 0; r < write->n_rows; r++) {
            size_t from = sink->write_first[w] + r;
            sink->order[kept] = sink->order[from];
            sink->grouped[kept] = sink->grouped[from];
            kept++;
        }
    }
    sink->n_rows = kept;
    rc = build_writes(sink, 1, &n_writes, err);
    if (rc == SL_OK) rc = send_writes(sink, n_writes, err);
    if (rc) return rc;
    for (size_t w = 0; w < n_writes; w++) {
        const sl_cql_write *write = &sink->writes[w];
        if (write->status == SL_OK) continue;
        if (!is_row_refusal(write)) return write_failure(sink, write, err);
        const cassandra_row *row = &sink->rows[sink->order[sink->write_first[w]]];
        if (sl_sink_rejects_add(&sink->rejects, row->batch, row->index, "cassandra: %s", write->error.message))
            return sl_error_set(err, SL_ENOMEM, "cassandra sink: out of memory");
    }
    return SL_OK;
}

static int cassandra_write_many(void *state, const sl_batch *const *batches, size_t n_batches, sl_error *err)
{
    cassandra_sink *sink = state;
    if (!first_batch_with_records(batches, n_batches)) return SL_OK;
    int rc = setup(sink, batches, n_batches, err);
    if (rc) return rc;
    sl_sink_rejects_clear(&sink->rejects);
    rc = encode_all(sink, batches, n_batches, err);
    if (rc) return rc;
    group_rows(sink);
    rc = send_rows(sink, err);
    if (rc) return rc;
    sl_sink_rejects_report(&sink->rejects, sink->env, batches);
    return SL_OK;
}

static int cassandra_write(void *state, const sl_batch *batch, sl_error *err)
{
    return cassandra_write_many(state, &batch, 1, err);
}

static void cassandra_hint(const void *conf_ptr, char *out, size_t size)
{
    const sl_cassandra_conf *conf = conf_ptr;
    snprintf(out, size, "cqlsh %s -e 'SELECT count(*) FROM \"%s\".\"%s\"'",
             conf->hosts.n_items ? conf->hosts.items[0] : "localhost", conf->keyspace, conf->table);
}

const sl_sink_ops sl_cassandra_sink = {
    .name = "cassandra",
    .description = "rows upserted into a Cassandra table through sluice's own CQL client",
    .options = cassandra_options,
    .conf_size = sizeof(sl_cassandra_conf),
    .open = cassandra_open,
    .write = cassandra_write,
    .write_many = cassandra_write_many,
    .close = cassandra_close,
    .check = cassandra_check,
    .hint = cassandra_hint,
    .topic_name = NULL,
    .accepts_raw = false,
};
