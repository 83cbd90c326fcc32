/* cql_client_check.c — a small program over sluice's CQL client (src/cql/
 * session.h) for the end-to-end suite tests/e2e/test_cql_client.py, which
 * checks what it writes and reads against the Python cassandra-driver, and
 * for the write ceiling benchmark (the `load` command).
 *
 *   cql_client_check [options] connect
 *   cql_client_check [options] query CQL             rows as JSON lines
 *   cql_client_check [options] insert CQL [--batch N]
 *        stdin: one JSON object per line, keyed by bind variable name;
 *        --batch 1 (default) sends one prepared EXECUTE per row, N > 1
 *        UNLOGGED BATCHes of up to N rows
 *   cql_client_check [options] token TYPE...        stdin: a JSON array of
 *        the partition key's values per line; prints the Murmur3 token
 *   cql_client_check [options] hosts                 what the session learnt of
 *        the cluster: prints "hosts N" (sl_cql_session_host_count), then for
 *        each stdin line holding a token "TOKEN ADDRESS", the node owning it
 *        (sl_cql_session_host_for_token)
 *   cql_client_check [options] load ROWS CONCURRENCY [--batch B] [--round W]
 *        writes ROWS seed-like rows into sluice_bench.users_seed, W writes per
 *        session call (default CONCURRENCY) with CONCURRENCY in flight;
 *        prints one JSON line: rows/s and p50/p99 of the call latency
 *
 * options: --host H:P  --user U  --password P  --lz4  --tls (system CAs)
 *          --tls-ca FILE  --tls-no-verify  --tls-cert FILE --tls-key FILE
 *
 * Output values: blobs as "0x<hex>", timestamps as integer milliseconds,
 * everything else as the codec decodes it. Exit 0 ok, 2 for a configuration
 * error (refused credentials, a statement the server refuses), 1 otherwise;
 * the error goes to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "cql/codec.h"
#include "cql/murmur3.h"
#include "cql/session.h"

typedef struct options {
    sl_cql_session_config config;
    const char *hosts[1];
    size_t batch;
    size_t round;
    char **args;
    int n_args;
} options;

static int fail(int rc, const sl_error *err)
{
    fprintf(stderr, "error: %s\n", err->message);
    /* 2 for what a setting must fix: a refusal by the server is permanent. */
    return rc == SL_ECONFIG || err->error_class == SL_ERROR_PERMANENT ? 2 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: cql_client_check [--host H:P] [--user U --password P] [--lz4] "
                    "connect|query|insert|token|hosts|load ...\n");
    return 2;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->hosts[0] = "127.0.0.1:9042";
    o->config.hosts = o->hosts;
    o->config.n_hosts = 1;
    o->config.tls_verify = true;
    o->config.application_name = "cql_client_check";
    o->batch = 1;
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    if (!o->args) return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--lz4") == 0) o->config.compression = true;
        else if (strcmp(a, "--tls") == 0) o->config.tls = true;
        else if (strcmp(a, "--tls-no-verify") == 0) o->config.tls = true, o->config.tls_verify = false;
        else if (!next && strncmp(a, "--", 2) == 0) return -1;
        else if (strcmp(a, "--host") == 0) o->hosts[0] = argv[++i];
        else if (strcmp(a, "--user") == 0) o->config.username = argv[++i];
        else if (strcmp(a, "--password") == 0) o->config.password = argv[++i];
        else if (strcmp(a, "--tls-ca") == 0) o->config.tls = true, o->config.tls_ca_file = argv[++i];
        else if (strcmp(a, "--tls-cert") == 0) o->config.tls_cert_file = argv[++i];
        else if (strcmp(a, "--tls-key") == 0) o->config.tls_key_file = argv[++i];
        else if (strcmp(a, "--batch") == 0) o->batch = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--round") == 0) o->round = (size_t)strtoul(argv[++i], NULL, 10);
        else o->args[o->n_args++] = argv[i];
    }
    if (o->batch == 0) o->batch = 1;
    return o->n_args ? 0 : -1;
}

/* ---- JSON output ------------------------------------------------------------- */

static int write_json(sl_buffer *out, const sl_value *v)
{
    int rc = SL_OK;
    switch (v->type) {
    case SL_TYPE_BYTES:
        rc = sl_buffer_append_cstr(out, "\"0x");
        for (size_t i = 0; rc == SL_OK && i < v->string.len; i++)
            rc = sl_buffer_printf(out, "%02x", (unsigned char)v->string.ptr[i]);
        return rc ? rc : sl_buffer_append_byte(out, '"');
    case SL_TYPE_TIMESTAMP:
        return sl_buffer_printf(out, "%" PRId64, v->timestamp / 1000);
    case SL_TYPE_ARRAY:
        rc = sl_buffer_append_byte(out, '[');
        for (size_t i = 0; rc == SL_OK && i < v->array.n_items; i++) {
            if (i) rc = sl_buffer_append_byte(out, ',');
            if (rc == SL_OK) rc = write_json(out, &v->array.items[i]);
        }
        return rc ? rc : sl_buffer_append_byte(out, ']');
    case SL_TYPE_OBJECT:
        rc = sl_buffer_append_byte(out, '{');
        for (size_t i = 0; rc == SL_OK && i < v->object.n_members; i++) {
            if (i) rc = sl_buffer_append_byte(out, ',');
            if (rc == SL_OK) rc = sl_json_write_string(out, v->object.members[i].key.ptr, v->object.members[i].key.len);
            if (rc == SL_OK) rc = sl_buffer_append_byte(out, ':');
            if (rc == SL_OK) rc = write_json(out, &v->object.members[i].value);
        }
        return rc ? rc : sl_buffer_append_byte(out, '}');
    default:
        return sl_json_write(out, v);
    }
}

static int print_rows(const sl_cql_response *response, sl_arena *arena, sl_error *err)
{
    if (response->result_kind != SL_CQL_RESULT_ROWS) return SL_OK;
    const sl_cql_rows *rows = &response->rows;
    int32_t n = rows->metadata.n_columns;
    sl_cql_cell *cells = sl_arena_alloc(arena, sizeof *cells * (size_t)(n ? n : 1));
    if (!cells) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sl_buffer line = SL_BUFFER_INIT;
    sl_cql_row_iter iter;
    sl_cql_rows_begin(rows, &iter);
    int rc = SL_OK;
    while (rc == SL_OK && sl_cql_rows_next(&iter, cells, err) == 1) {
        sl_buffer_clear(&line);
        rc = sl_buffer_append_byte(&line, '{');
        for (int32_t c = 0; rc == SL_OK && c < n; c++) {
            const sl_cql_column *column = &rows->metadata.columns[c];
            sl_value value;
            rc = sl_cql_decode_value(column->type, cells[c].ptr, cells[c].len, arena, &value, err);
            if (rc == SL_OK && c) rc = sl_buffer_append_byte(&line, ',');
            if (rc == SL_OK) rc = sl_json_write_string(&line, column->name.ptr, column->name.len);
            if (rc == SL_OK) rc = sl_buffer_append_byte(&line, ':');
            if (rc == SL_OK) rc = write_json(&line, &value);
        }
        if (rc == SL_OK) rc = sl_buffer_append_byte(&line, '}');
        if (rc == SL_OK) printf("%.*s\n", (int)line.len, line.data);
    }
    sl_buffer_free(&line);
    return rc;
}

/* ---- encoding rows -------------------------------------------------------------- */

static const sl_value *member(const sl_value *object, sl_str name)
{
    for (size_t i = 0; object->type == SL_TYPE_OBJECT && i < object->object.n_members; i++)
        if (sl_str_eq(object->object.members[i].key, name)) return &object->object.members[i].value;
    return NULL;
}

/* Encodes one row's bind values (from object, by bind name) into out and its token. */
static int encode_row(const sl_cql_metadata *params, const sl_value *object, sl_buffer *out, int64_t *token,
                      sl_error *err)
{
    size_t starts[64];
    if (params->n_columns > 64) return sl_error_set(err, SL_EINVAL, "more than 64 bind variables");
    for (int32_t c = 0; c < params->n_columns; c++) {
        const sl_value *value = member(object, params->columns[c].name);
        sl_value null = sl_value_null();
        starts[c] = out->len;
        int rc = sl_cql_encode_value(params->columns[c].type, value ? value : &null, out, err);
        if (rc) {
            sl_error_prefix(err, "column %.*s: ", (int)params->columns[c].name.len, params->columns[c].name.ptr);
            return rc;
        }
    }
    sl_str parts[16];
    if (params->n_pk_indexes > 16) return sl_error_set(err, SL_EINVAL, "partition key too long");
    for (int32_t k = 0; k < params->n_pk_indexes; k++) {
        size_t at = starts[params->pk_indexes[k]];
        parts[k] = (sl_str){ out->data + at + 4, 0 };
        int32_t len = (int32_t)(((uint32_t)(uint8_t)out->data[at] << 24) | ((uint32_t)(uint8_t)out->data[at + 1] << 16) |
                                ((uint32_t)(uint8_t)out->data[at + 2] << 8) | (uint8_t)out->data[at + 3]);
        parts[k].len = len > 0 ? (size_t)len : 0;
    }
    sl_buffer key = SL_BUFFER_INIT;
    int rc = params->n_pk_indexes ? sl_cql_routing_key(parts, (size_t)params->n_pk_indexes, &key) : SL_OK;
    *token = sl_cql_murmur3_token(key.data, key.len);
    sl_buffer_free(&key);
    return rc ? sl_error_set(err, rc, "cannot build the routing key") : SL_OK;
}

/* Sends n_rows encoded rows as writes of up to batch rows. */
/* Sends rows as writes of up to batch rows; when request_ms is given, appends
 * each write's latency (ms) at request_ms[*n_requests]. */
static int send_rows(sl_cql_session *session, const sl_cql_statement *statement, const sl_buffer *rows,
                     const int64_t *tokens, size_t n_rows, size_t batch, int concurrency, double *request_ms,
                     size_t *n_requests, sl_error *err)
{
    size_t n_writes = (n_rows + batch - 1) / batch;
    sl_cql_write *writes = calloc(n_writes ? n_writes : 1, sizeof *writes);
    if (!writes) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t w = 0; w < n_writes; w++) {
        size_t first = w * batch;
        writes[w] = (sl_cql_write){ .statement = statement, .rows = &rows[first],
                                    .n_rows = n_rows - first < batch ? n_rows - first : batch,
                                    .token = tokens[first], .has_token = true };
    }
    sl_cql_write_options write_options = { .consistency = SL_CQL_ONE, .max_in_flight = concurrency };
    int rc = sl_cql_session_write(session, writes, n_writes, &write_options, err);
    for (size_t w = 0; rc == SL_OK && w < n_writes; w++) {
        if (writes[w].status == SL_OK) continue;
        *err = writes[w].error;
        rc = writes[w].server_code >= 0 ? SL_ECONFIG : writes[w].status;
    }
    for (size_t w = 0; rc == SL_OK && request_ms && w < n_writes; w++)
        request_ms[(*n_requests)++] = (double)writes[w].latency_us / 1000.0;
    free(writes);
    return rc;
}

/* ---- commands ------------------------------------------------------------------- */

static int run_query(sl_cql_session *session, const char *cql, sl_error *err)
{
    sl_arena *arena = sl_arena_new(0);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sl_cql_response response;
    int rc = sl_cql_session_query(session, cql, NULL, 0, 0, SL_CQL_ONE, arena, &response, err);
    if (rc == SL_OK) rc = print_rows(&response, arena, err);
    sl_arena_free(arena);
    return rc;
}

static int read_lines(sl_arena *arena, sl_value **values, size_t *n_values, sl_error *err)
{
    char *line = NULL;
    size_t capacity = 0, n = 0, cap = 0;
    ssize_t len;
    int rc = SL_OK;
    *values = NULL;
    while (rc == SL_OK && (len = getline(&line, &capacity, stdin)) >= 0) {
        if (len <= 1) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            sl_value *grown = realloc(*values, cap * sizeof *grown);
            if (!grown) {
                rc = sl_error_set(err, SL_ENOMEM, "out of memory");
                break;
            }
            *values = grown;
        }
        char *copy = sl_arena_strndup(arena, line, (size_t)len);
        rc = copy ? sl_json_parse(arena, copy, (size_t)len, &(*values)[n], err) : SL_ENOMEM;
        if (rc == SL_OK) n++;
        else sl_error_prefix(err, "stdin line %zu: ", n + 1);
    }
    free(line);
    *n_values = n;
    return rc;
}

static int run_insert(sl_cql_session *session, const options *o, const char *cql, sl_error *err)
{
    const sl_cql_statement *statement = NULL;
    sl_arena *arena = sl_arena_new(0);
    sl_value *objects = NULL;
    size_t n = 0;
    sl_buffer *rows = NULL;
    int64_t *tokens = NULL;
    int rc = arena ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK) rc = sl_cql_session_prepare(session, cql, &statement, err);
    if (rc == SL_OK) rc = read_lines(arena, &objects, &n, err);
    if (rc) goto done;
    rows = calloc(n ? n : 1, sizeof *rows);
    tokens = calloc(n ? n : 1, sizeof *tokens);
    if (!rows || !tokens) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && rc == SL_OK; i++)
        rc = encode_row(sl_cql_statement_params(statement), &objects[i], &rows[i], &tokens[i], err);
    if (rc == SL_OK) rc = send_rows(session, statement, rows, tokens, n, o->batch, 64, NULL, NULL, err);
    if (rc == SL_OK) printf("inserted %zu\n", n);
done:
    for (size_t i = 0; rows && i < n; i++) sl_buffer_free(&rows[i]);
    free(rows);
    free(tokens);
    free(objects);
    sl_arena_free(arena);
    return rc;
}

static int run_token(char **type_names, int n_types, sl_error *err)
{
    sl_arena *arena = sl_arena_new(0);
    sl_value *keys = NULL;
    size_t n = 0;
    sl_cql_type *types[16];
    int rc = arena ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (n_types < 1 || n_types > 16) rc = sl_error_set(err, SL_EUSAGE, "token needs 1 to 16 types");
    for (int t = 0; t < n_types && rc == SL_OK; t++)
        rc = sl_cql_type_parse_name(sl_str_from(type_names[t]), arena, &types[t], err);
    if (rc == SL_OK) rc = read_lines(arena, &keys, &n, err);
    sl_buffer cells = SL_BUFFER_INIT, key = SL_BUFFER_INIT;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (keys[i].type != SL_TYPE_ARRAY || keys[i].array.n_items != (size_t)n_types) {
            rc = sl_error_set(err, SL_EINVAL, "stdin line %zu: expected an array of %d values", i + 1, n_types);
            break;
        }
        sl_buffer_clear(&cells);
        sl_buffer_clear(&key);
        size_t starts[16];
        for (int t = 0; t < n_types && rc == SL_OK; t++) {
            starts[t] = cells.len;
            rc = sl_cql_encode_value(types[t], &keys[i].array.items[t], &cells, err);
        }
        sl_str parts[16];
        for (int t = 0; t < n_types && rc == SL_OK; t++) {
            size_t end = t + 1 < n_types ? starts[t + 1] : cells.len;
            parts[t] = (sl_str){ cells.data + starts[t] + 4, end - starts[t] - 4 };
        }
        if (rc == SL_OK) rc = sl_cql_routing_key(parts, (size_t)n_types, &key);
        if (rc == SL_OK) printf("%" PRId64 "\n", sl_cql_murmur3_token(key.data, key.len));
    }
    sl_buffer_free(&cells);
    sl_buffer_free(&key);
    free(keys);
    sl_arena_free(arena);
    return rc;
}

static int run_hosts(const sl_cql_session *session, sl_error *err)
{
    char line[128];
    size_t n = 0;
    printf("hosts %zu\n", sl_cql_session_host_count(session));
    while (fgets(line, sizeof line, stdin)) {
        n++;
        char *start = line, *stop = NULL;
        while (*start == ' ' || *start == '\t') start++;
        if (*start == '\n' || *start == '\0') continue;
        errno = 0;
        long long token = strtoll(start, &stop, 10);
        while (*stop == ' ' || *stop == '\t' || *stop == '\r' || *stop == '\n') stop++;
        if (errno || stop == start || *stop)
            return sl_error_set(err, SL_EINVAL, "stdin line %zu: expected a token (a 64-bit integer)", n);
        const char *owner = sl_cql_session_host_for_token(session, (int64_t)token);
        printf("%lld %s\n", token, owner ? owner : "(none)");
    }
    return SL_OK;
}

static int compare_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *LOAD_TABLE =
    "CREATE TABLE IF NOT EXISTS sluice_bench.users_seed (id uuid PRIMARY KEY, first_name text, last_name text, "
    "gender text, city text, post_code text, email text, username text, registered_date text, "
    "phone text, picture text)";
static const char *LOAD_INSERT =
    "INSERT INTO sluice_bench.users_seed (id, first_name, last_name, gender, city, post_code, email, username, "
    "registered_date, phone, picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* Row i of the load: user-like text, deterministic. */
static int encode_load_row(const sl_cql_metadata *params, size_t i, sl_buffer *out, int64_t *token, sl_error *err)
{
    char text[11][96];
    snprintf(text[0], sizeof text[0], "%08zx-0000-4000-8000-%012zx", i * 2654435761u % 0xffffffffu, i);
    snprintf(text[1], sizeof text[1], "First%zu", i);
    snprintf(text[2], sizeof text[2], "Last%zu", i % 9973);
    snprintf(text[3], sizeof text[3], "%s", i % 2 ? "female" : "male");
    snprintf(text[4], sizeof text[4], "City %zu", i % 500);
    snprintf(text[5], sizeof text[5], "%05zu", i % 100000);
    snprintf(text[6], sizeof text[6], "first%zu.last%zu@example.com", i, i % 9973);
    snprintf(text[7], sizeof text[7], "user%zu", i);
    snprintf(text[8], sizeof text[8], "20%02zu-%02zu-%02zuT%02zu:%02zu:%02zu.%03zuZ", i % 20, i % 12 + 1, i % 28 + 1,
             i % 24, i % 60, (i / 60) % 60, i % 1000);
    snprintf(text[9], sizeof text[9], "(%03zu) %03zu-%04zu", i % 1000, i % 997, i % 10000);
    snprintf(text[10], sizeof text[10], "https://randomuser.me/api/portraits/thumb/men/%zu.jpg", i % 100);
    sl_member members[11];
    const char *names[11] = { "id", "first_name", "last_name", "gender", "city", "post_code", "email", "username",
                              "registered_date", "phone", "picture" };
    for (int c = 0; c < 11; c++) {
        members[c].key = sl_str_from(names[c]);
        members[c].value = sl_value_string(sl_str_from(text[c]));
    }
    sl_value object = { .type = SL_TYPE_OBJECT, .object = { members, 11 } };
    return encode_row(params, &object, out, token, err);
}

static int run_load(sl_cql_session *session, const options *o, size_t n_rows, int concurrency, sl_error *err)
{
    int rc = run_query(session, "CREATE KEYSPACE IF NOT EXISTS sluice_bench WITH replication = "
                                "{'class': 'SimpleStrategy', 'replication_factor': 1}", err);
    if (rc == SL_OK) rc = run_query(session, LOAD_TABLE, err);
    if (rc == SL_OK) rc = run_query(session, "TRUNCATE sluice_bench.users_seed", err);
    const sl_cql_statement *statement = NULL;
    if (rc == SL_OK) rc = sl_cql_session_prepare(session, LOAD_INSERT, &statement, err);
    if (rc) return rc;
    sl_buffer *rows = calloc(n_rows ? n_rows : 1, sizeof *rows);
    int64_t *tokens = calloc(n_rows ? n_rows : 1, sizeof *tokens);
    size_t round = o->round ? o->round : (size_t)concurrency;
    size_t rows_per_round = round * o->batch;
    size_t n_rounds = (n_rows + rows_per_round - 1) / rows_per_round;
    double *latencies = calloc(n_rounds ? n_rounds : 1, sizeof *latencies);
    size_t max_requests = (n_rows + o->batch - 1) / o->batch, n_requests = 0;
    double *request_ms = calloc(max_requests ? max_requests : 1, sizeof *request_ms);
    if (!rows || !tokens || !latencies || !request_ms) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_rows && rc == SL_OK; i++)
        rc = encode_load_row(sl_cql_statement_params(statement), i, &rows[i], &tokens[i], err);
    int64_t start = sl_clock_monotonic_us();
    for (size_t r = 0; r < n_rounds && rc == SL_OK; r++) {
        size_t first = r * rows_per_round;
        size_t n = n_rows - first < rows_per_round ? n_rows - first : rows_per_round;
        int64_t t0 = sl_clock_monotonic_us();
        rc = send_rows(session, statement, &rows[first], &tokens[first], n, o->batch, concurrency, request_ms,
                       &n_requests, err);
        latencies[r] = (double)(sl_clock_monotonic_us() - t0) / 1000.0;
    }
    double seconds = (double)(sl_clock_monotonic_us() - start) / 1e6;
    if (rc == SL_OK) {
        qsort(latencies, n_rounds, sizeof *latencies, compare_ms);
        double p50 = n_rounds ? latencies[n_rounds / 2] : 0;
        double p99 = n_rounds ? latencies[n_rounds * 99 / 100] : 0;
        qsort(request_ms, n_requests, sizeof *request_ms, compare_ms);
        double request_p50 = n_requests ? request_ms[n_requests / 2] : 0;
        double request_p99 = n_requests ? request_ms[n_requests * 99 / 100] : 0;
        printf("{\"rows\": %zu, \"concurrency\": %d, \"batch\": %zu, \"writes_per_call\": %zu, \"lz4\": %s, "
               "\"seconds\": %.3f, \"rows_per_s\": %.0f, \"request_p50_ms\": %.2f, \"request_p99_ms\": %.2f, "
               "\"call_p50_ms\": %.2f, \"call_p99_ms\": %.2f}\n",
               n_rows, concurrency, o->batch, round, o->config.compression ? "true" : "false", seconds,
               (double)n_rows / seconds, request_p50, request_p99, p50, p99);
    }
    for (size_t i = 0; rows && i < n_rows; i++) sl_buffer_free(&rows[i]);
    free(rows);
    free(tokens);
    free(latencies);
    free(request_ms);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o)) {
        free(o.args);
        return usage();
    }
    const char *command = o.args[0];
    sl_error err;
    sl_error_clear(&err);
    int rc = SL_OK;
    if (strcmp(command, "token") == 0) {
        rc = run_token(o.args + 1, o.n_args - 1, &err);
        free(o.args);
        return rc ? fail(rc, &err) : 0;
    }
    sl_cql_session *session = NULL;
    rc = sl_cql_session_open(&o.config, &session, &err);
    if (rc == SL_OK && strcmp(command, "connect") == 0) {
        printf("connected to %zu node(s); token 0 is on %s\n", sl_cql_session_host_count(session),
               sl_cql_session_host_for_token(session, 0));
    } else if (rc == SL_OK && strcmp(command, "hosts") == 0 && o.n_args == 1) {
        rc = run_hosts(session, &err);
    } else if (rc == SL_OK && strcmp(command, "query") == 0 && o.n_args == 2) {
        rc = run_query(session, o.args[1], &err);
    } else if (rc == SL_OK && strcmp(command, "insert") == 0 && o.n_args == 2) {
        rc = run_insert(session, &o, o.args[1], &err);
    } else if (rc == SL_OK && strcmp(command, "load") == 0 && o.n_args == 3) {
        rc = run_load(session, &o, (size_t)strtoul(o.args[1], NULL, 10), atoi(o.args[2]), &err);
    } else if (rc == SL_OK) {
        sl_cql_session_close(session);
        free(o.args);
        return usage();
    }
    sl_cql_session_close(session);
    free(o.args);
    return rc ? fail(rc, &err) : 0;
}
