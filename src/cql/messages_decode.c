/* messages_decode.c — CQL native protocol v4 response decoder and error
 * codes (native_protocol_v4.spec §4.2 and §9); see messages.h. The requests
 * are built in messages.c.
 *
 * A bounds-checked reader walks the body; every count read from the wire is
 * checked against the bytes left before anything is allocated for it, and
 * all strings are copied into the arena so a response outlives its frame,
 * except Rows cells (read in place by the row iterator, after the decoder
 * has checked that every cell lies inside the body).
 */
#include "cql/messages.h"

#include <stdio.h>
#include <string.h>

#include "cql/compress.h"

/* ---- error codes ------------------------------------------------------------ */

const char *sl_cql_error_code_name(int32_t code)
{
    switch (code) {
#define SL__CQL_ERROR_NAME(name, value, text) \
    case value: return text;
        SL_CQL_ERROR_CODES(SL__CQL_ERROR_NAME)
#undef SL__CQL_ERROR_NAME
    }
    return "Unknown_error";
}

/* Retryable: the failure says something about the cluster's state at that
 * moment, not about the request, and a replay cannot do harm.
 *   Server_error      an unexpected exception on the coordinator; in practice
 *                     mostly transient (a node starting or stopping, an
 *                     internal timeout surfacing as an exception), and the
 *                     session's retry window bounds the cost when it is not.
 *   Overloaded        the coordinator shed load; back off and retry.
 *   Is_bootstrapping  this node cannot serve yet; another node (or later) can.
 *   Unavailable       too few replicas alive to even try; nothing was done.
 *   Read_timeout      reads have no side effects.
 *   Write_timeout     the write may or may not have been applied; replaying
 *                     is safe for idempotent writes (the upserts by key that
 *                     sinks send), not for COUNTER increments (they would
 *                     count twice) nor CAS (a lightweight transaction with an
 *                     unknown outcome would then report a false failure).
 *   Truncate_error    a truncation that failed on some replica; truncating
 *                     again is idempotent.
 * Not retryable: Read_failure / Write_failure (a replica threw, e.g. too many tombstones:
 * deterministic), Function_failure, and every error about the request or the
 * session itself (protocol, authentication, syntax, unauthorized, invalid,
 * config, already exists). Unprepared is not retryable as is: the statement
 * must be prepared again first, which the caller recognises by its code. */
bool sl_cql_error_is_retryable(const sl_cql_server_error *error)
{
    switch (error->code) {
    case SL_CQL_ERR_SERVER:
    case SL_CQL_ERR_OVERLOADED:
    case SL_CQL_ERR_IS_BOOTSTRAPPING:
    case SL_CQL_ERR_UNAVAILABLE:
    case SL_CQL_ERR_READ_TIMEOUT:
    case SL_CQL_ERR_TRUNCATE:
        return true;
    case SL_CQL_ERR_WRITE_TIMEOUT:
        return !sl_str_eq_cstr(error->write_type, "COUNTER") && !sl_str_eq_cstr(error->write_type, "CAS");
    default:
        return false;
    }
}

/* ---- response decoding ------------------------------------------------------ */

typedef struct decoder {
    sl_cql_reader reader;
    sl_arena *arena;
    sl_error *err;
} decoder;

static int no_memory(decoder *d)
{
    return sl_error_set(d->err, SL_ENOMEM, "out of memory decoding a CQL response");
}

static int copy_str(decoder *d, sl_str in, sl_str *out)
{
    if (!in.ptr) {
        out->ptr = NULL;
        out->len = 0;
        return SL_OK;
    }
    char *copy = sl_arena_strndup(d->arena, in.ptr, in.len);
    if (!copy) return no_memory(d);
    out->ptr = copy;
    out->len = in.len;
    return SL_OK;
}

static int get_string(decoder *d, sl_str *out, const char *what)
{
    sl_str s = { NULL, 0 };
    int rc = sl_cql_get_string(&d->reader, &s, what, d->err);
    return rc ? rc : copy_str(d, s, out);
}

static int get_int(decoder *d, int32_t *out, const char *what)
{
    return sl_cql_get_int(&d->reader, out, what, d->err);
}

/* An [int] count that must be >= 0 and at most left / min_item_size. */
static int get_count(decoder *d, int32_t *out, size_t min_item_size, const char *what)
{
    size_t at = d->reader.pos;
    int rc = get_int(d, out, what);
    if (rc) return rc;
    if (*out < 0 || (size_t)*out > sl_cql_reader_left(&d->reader) / min_item_size)
        return sl_error_set(d->err, SL_ECORRUPT,
                            "%s %d at byte %zu is negative or more than the %zu bytes left can hold",
                            what, (int)*out, at, sl_cql_reader_left(&d->reader));
    return SL_OK;
}

static int get_string_list(decoder *d, sl_str **items, size_t *n_items, const char *what)
{
    int rc = sl_cql_get_string_list(&d->reader, d->arena, items, n_items, what, d->err);
    for (size_t i = 0; !rc && i < *n_items; i++) rc = copy_str(d, (*items)[i], &(*items)[i]);
    return rc;
}

static int get_type(decoder *d, sl_cql_type **out)
{
    size_t used = 0;
    int rc = sl_cql_type_read_option(d->reader.data + d->reader.pos, sl_cql_reader_left(&d->reader),
                                     &used, d->arena, out, d->err);
    if (rc) {
        sl_error_prefix(d->err, "column type at byte %zu: ", d->reader.pos);
        return rc;
    }
    d->reader.pos += used;
    return SL_OK;
}

/* Rows <metadata> (§4.2.5.2), or with is_bind a Prepared <metadata> with
 * its partition-key indexes (§4.2.5.4). */
static int decode_metadata(decoder *d, bool is_bind, sl_cql_metadata *m)
{
    size_t count_at = d->reader.pos;
    int rc = get_int(d, &m->flags, "metadata flags");
    if (!rc) rc = get_int(d, &m->n_columns, "metadata column count");
    if (rc) return rc;
    if (m->n_columns < 0)
        return sl_error_set(d->err, SL_ECORRUPT, "metadata column count %d at byte %zu is negative",
                            (int)m->n_columns, count_at + 4);
    if (is_bind) {
        rc = get_count(d, &m->n_pk_indexes, 2, "partition key index count");
        if (rc) return rc;
        if (m->n_pk_indexes) {
            m->pk_indexes = sl_arena_alloc(d->arena, (size_t)m->n_pk_indexes * sizeof *m->pk_indexes);
            if (!m->pk_indexes) return no_memory(d);
        }
        for (int32_t i = 0; i < m->n_pk_indexes; i++) {
            size_t index_at = d->reader.pos;
            rc = sl_cql_get_short(&d->reader, &m->pk_indexes[i], "partition key index", d->err);
            if (rc) return rc;
            /* Callers index the bind markers with these: a server's word
             * is not enough to read past them. */
            if (m->pk_indexes[i] >= m->n_columns)
                return sl_error_set(d->err, SL_ECORRUPT,
                                    "partition key index %u at byte %zu is not below the column count %d",
                                    (unsigned)m->pk_indexes[i], index_at, (int)m->n_columns);
        }
    } else if (m->flags & SL_CQL_META_HAS_MORE_PAGES) {
        const uint8_t *state = NULL;
        int32_t state_len = 0;
        m->has_more_pages = true;
        rc = sl_cql_get_bytes(&d->reader, &state, &state_len, "paging state", d->err);
        if (!rc && state_len >= 0)
            rc = copy_str(d, (sl_str){ state ? (const char *)state : "", (size_t)state_len }, &m->paging_state);
        if (rc) return rc;
    }
    /* With No_metadata the count still gives the cells per row, but no
     * column specs follow, so it is not bounded by the bytes here. */
    if (!is_bind && (m->flags & SL_CQL_META_NO_METADATA)) return SL_OK;
    /* each spec is at least a 2-byte name length and a 2-byte type id */
    if ((size_t)m->n_columns > sl_cql_reader_left(&d->reader) / 4)
        return sl_error_set(d->err, SL_ECORRUPT,
                            "metadata column count %d at byte %zu is more than the %zu bytes left can hold",
                            (int)m->n_columns, count_at + 4, sl_cql_reader_left(&d->reader));

    bool global = m->flags & SL_CQL_META_GLOBAL_TABLES_SPEC;
    sl_str keyspace = { "", 0 }, table = { "", 0 };
    if (global) {
        rc = get_string(d, &keyspace, "global table spec keyspace");
        if (!rc) rc = get_string(d, &table, "global table spec table");
        if (rc) return rc;
    }
    if (m->n_columns) {
        m->columns = sl_arena_calloc(d->arena, (size_t)m->n_columns * sizeof *m->columns);
        if (!m->columns) return no_memory(d);
    }
    for (int32_t i = 0; i < m->n_columns; i++) {
        sl_cql_column *column = &m->columns[i];
        column->keyspace = keyspace;
        column->table = table;
        if (!global) {
            rc = get_string(d, &column->keyspace, "column spec keyspace");
            if (!rc) rc = get_string(d, &column->table, "column spec table");
        }
        if (!rc) rc = get_string(d, &column->name, "column spec name");
        if (!rc) rc = get_type(d, &column->type);
        if (rc) return rc;
    }
    return SL_OK;
}

static int decode_rows(decoder *d, sl_cql_rows *rows)
{
    int rc = decode_metadata(d, false, &rows->metadata);
    if (rc) return rc;
    size_t at = d->reader.pos;
    rc = get_int(d, &rows->n_rows, "Rows row count");
    if (rc) return rc;
    /* Rows of no columns take no bytes, so nothing below would bound them. */
    if (rows->metadata.n_columns == 0 && rows->n_rows > 0)
        return sl_error_set(d->err, SL_ECORRUPT, "Rows row count %d at byte %zu with no columns",
                            (int)rows->n_rows, at);
    uint64_t n_cells = (uint64_t)(rows->n_rows < 0 ? 0 : rows->n_rows) * (uint64_t)rows->metadata.n_columns;
    if (rows->n_rows < 0 || n_cells > sl_cql_reader_left(&d->reader) / 4)
        return sl_error_set(d->err, SL_ECORRUPT,
                            "Rows row count %d at byte %zu is negative or more than the %zu bytes left can hold",
                            (int)rows->n_rows, at, sl_cql_reader_left(&d->reader));
    /* Check every cell now, so that the iterator reads only checked bytes. */
    size_t start = d->reader.pos;
    for (uint64_t i = 0; i < n_cells; i++) {
        const uint8_t *cell = NULL;
        int32_t len = 0;
        rc = sl_cql_get_bytes(&d->reader, &cell, &len, "Rows cell", d->err);
        if (rc) return rc;
    }
    rows->content = d->reader.data + start;
    rows->content_len = d->reader.pos - start;
    return SL_OK;
}

static int decode_schema_change(decoder *d, sl_cql_schema_change *change)
{
    int rc = get_string(d, &change->change_type, "schema change type");
    if (!rc) rc = get_string(d, &change->target, "schema change target");
    if (rc) return rc;
    sl_str target = change->target;
    change->name = (sl_str){ "", 0 };
    if (sl_str_eq_cstr(target, "KEYSPACE")) return get_string(d, &change->keyspace, "schema change keyspace");
    bool is_table = sl_str_eq_cstr(target, "TABLE") || sl_str_eq_cstr(target, "TYPE");
    bool is_function = sl_str_eq_cstr(target, "FUNCTION") || sl_str_eq_cstr(target, "AGGREGATE");
    if (!is_table && !is_function)
        return sl_error_set(d->err, SL_ECORRUPT, "unknown schema change target '%.*s'",
                            (int)(target.len > 64 ? 64 : target.len), target.ptr);
    rc = get_string(d, &change->keyspace, "schema change keyspace");
    if (!rc) rc = get_string(d, &change->name, "schema change name");
    if (!rc && is_function)
        rc = get_string_list(d, &change->arg_types, &change->n_arg_types, "schema change argument types");
    return rc;
}

static int decode_result(decoder *d, sl_cql_response *out)
{
    int rc = get_int(d, &out->result_kind, "RESULT kind");
    if (rc) return rc;
    switch (out->result_kind) {
    case SL_CQL_RESULT_VOID: return SL_OK;
    case SL_CQL_RESULT_ROWS: return decode_rows(d, &out->rows);
    case SL_CQL_RESULT_SET_KEYSPACE: return get_string(d, &out->keyspace, "Set_keyspace keyspace");
    case SL_CQL_RESULT_PREPARED: {
        sl_str id = { NULL, 0 };
        rc = sl_cql_get_short_bytes(&d->reader, &id, "Prepared id", d->err);
        if (!rc) rc = copy_str(d, id, &out->prepared.id);
        if (!rc) rc = decode_metadata(d, true, &out->prepared.bind);
        if (!rc) rc = decode_metadata(d, false, &out->prepared.result);
        return rc;
    }
    case SL_CQL_RESULT_SCHEMA_CHANGE: return decode_schema_change(d, &out->schema_change);
    default:
        return sl_error_set(d->err, SL_ECORRUPT, "unknown RESULT kind 0x%04x", (unsigned)out->result_kind);
    }
}

/* <cl><received><blockfor>, shared by the timeouts and failures. */
static int get_replica_counts(decoder *d, sl_cql_server_error *e)
{
    int rc = sl_cql_get_consistency(&d->reader, &e->consistency, "error consistency", d->err);
    if (!rc) rc = get_int(d, &e->received, "error received count");
    if (!rc) rc = get_int(d, &e->block_for, "error blockfor count");
    return rc;
}

static int get_data_present(decoder *d, sl_cql_server_error *e)
{
    uint8_t byte = 0;
    int rc = sl_cql_get_byte(&d->reader, &byte, "error data_present", d->err);
    if (!rc) e->data_present = byte != 0;
    return rc;
}

static int decode_error(decoder *d, sl_cql_server_error *e)
{
    int rc = get_int(d, &e->code, "error code");
    if (!rc) rc = get_string(d, &e->message, "error message");
    if (rc) return rc;
    switch (e->code) {
    case SL_CQL_ERR_UNAVAILABLE:
        rc = sl_cql_get_consistency(&d->reader, &e->consistency, "Unavailable consistency", d->err);
        if (!rc) rc = get_int(d, &e->required, "Unavailable required count");
        if (!rc) rc = get_int(d, &e->alive, "Unavailable alive count");
        return rc;
    case SL_CQL_ERR_WRITE_TIMEOUT:
        rc = get_replica_counts(d, e);
        if (!rc) rc = get_string(d, &e->write_type, "Write_timeout write type");
        return rc;
    case SL_CQL_ERR_READ_TIMEOUT:
        rc = get_replica_counts(d, e);
        if (!rc) rc = get_data_present(d, e);
        return rc;
    case SL_CQL_ERR_READ_FAILURE:
        rc = get_replica_counts(d, e);
        if (!rc) rc = get_int(d, &e->n_failures, "Read_failure failure count");
        if (!rc) rc = get_data_present(d, e);
        return rc;
    case SL_CQL_ERR_WRITE_FAILURE:
        rc = get_replica_counts(d, e);
        if (!rc) rc = get_int(d, &e->n_failures, "Write_failure failure count");
        if (!rc) rc = get_string(d, &e->write_type, "Write_failure write type");
        return rc;
    case SL_CQL_ERR_FUNCTION_FAILURE:
        rc = get_string(d, &e->keyspace, "Function_failure keyspace");
        if (!rc) rc = get_string(d, &e->function, "Function_failure function");
        if (!rc) rc = get_string_list(d, &e->arg_types, &e->n_arg_types, "Function_failure argument types");
        return rc;
    case SL_CQL_ERR_ALREADY_EXISTS:
        rc = get_string(d, &e->keyspace, "Already_exists keyspace");
        if (!rc) rc = get_string(d, &e->table, "Already_exists table");
        return rc;
    case SL_CQL_ERR_UNPREPARED: {
        sl_str id = { NULL, 0 };
        rc = sl_cql_get_short_bytes(&d->reader, &id, "Unprepared id", d->err);
        if (!rc) rc = copy_str(d, id, &e->unprepared_id);
        return rc;
    }
    default:
        return SL_OK;
    }
}

static int decode_event(decoder *d, sl_cql_event *event)
{
    int rc = get_string(d, &event->type, "event type");
    if (rc) return rc;
    if (sl_str_eq_cstr(event->type, "TOPOLOGY_CHANGE") || sl_str_eq_cstr(event->type, "STATUS_CHANGE")) {
        rc = get_string(d, &event->change, "event change");
        if (!rc) rc = sl_cql_get_inet(&d->reader, &event->address, "event address", d->err);
        return rc;
    }
    if (sl_str_eq_cstr(event->type, "SCHEMA_CHANGE")) return decode_schema_change(d, &event->schema);
    return sl_error_set(d->err, SL_ECORRUPT, "unknown event type '%.*s'",
                        (int)(event->type.len > 64 ? 64 : event->type.len), event->type.ptr);
}

static int decode_supported(decoder *d, sl_cql_response *out)
{
    uint16_t n = 0;
    int rc = sl_cql_get_short(&d->reader, &n, "SUPPORTED option count", d->err);
    if (rc) return rc;
    if ((size_t)n * 4 > sl_cql_reader_left(&d->reader))
        return sl_error_set(d->err, SL_ECORRUPT, "SUPPORTED option count %u is more than %zu bytes can hold",
                            (unsigned)n, sl_cql_reader_left(&d->reader));
    if (n) {
        out->supported = sl_arena_calloc(d->arena, (size_t)n * sizeof *out->supported);
        if (!out->supported) return no_memory(d);
    }
    out->n_supported = n;
    for (size_t i = 0; i < n; i++) {
        sl_cql_supported *option = &out->supported[i];
        rc = get_string(d, &option->key, "SUPPORTED option name");
        if (!rc) rc = get_string_list(d, &option->values, &option->n_values, "SUPPORTED option values");
        if (rc) return rc;
    }
    return SL_OK;
}

/* [bytes map]: skipped, the default query handler sends none. */
static int skip_custom_payload(decoder *d)
{
    uint16_t n = 0;
    int rc = sl_cql_get_short(&d->reader, &n, "custom payload count", d->err);
    for (uint16_t i = 0; !rc && i < n; i++) {
        sl_str key = { NULL, 0 };
        const uint8_t *value = NULL;
        int32_t len = 0;
        rc = sl_cql_get_string(&d->reader, &key, "custom payload key", d->err);
        if (!rc) rc = sl_cql_get_bytes(&d->reader, &value, &len, "custom payload value", d->err);
    }
    return rc;
}

static int decode_body(decoder *d, uint8_t flags, sl_cql_response *out)
{
    int rc = SL_OK;
    if (flags & SL_CQL_FLAG_TRACING) {
        rc = sl_cql_get_uuid(&d->reader, out->tracing_id, "tracing id", d->err);
        if (rc) return rc;
        out->has_tracing_id = true;
    }
    if (flags & SL_CQL_FLAG_WARNING) {
        rc = get_string_list(d, &out->warnings, &out->n_warnings, "warnings");
        if (rc) return rc;
    }
    if (flags & SL_CQL_FLAG_CUSTOM_PAYLOAD) {
        rc = skip_custom_payload(d);
        if (rc) return rc;
    }
    switch (out->opcode) {
    case SL_CQL_OP_ERROR: return decode_error(d, &out->error);
    case SL_CQL_OP_READY: return SL_OK;
    case SL_CQL_OP_AUTHENTICATE: return get_string(d, &out->authenticator, "authenticator class");
    case SL_CQL_OP_SUPPORTED: return decode_supported(d, out);
    case SL_CQL_OP_RESULT: return decode_result(d, out);
    case SL_CQL_OP_EVENT: return decode_event(d, &out->event);
    case SL_CQL_OP_AUTH_CHALLENGE:
    case SL_CQL_OP_AUTH_SUCCESS: {
        const uint8_t *token = NULL;
        int32_t len = 0;
        rc = sl_cql_get_bytes(&d->reader, &token, &len, "authentication token", d->err);
        if (!rc && len >= 0)
            rc = copy_str(d, (sl_str){ token ? (const char *)token : "", (size_t)len }, &out->token);
        return rc;
    }
    default:
        return sl_error_set(d->err, SL_ECORRUPT, "opcode 0x%02x is not a response", out->opcode);
    }
}

int sl_cql_decode_response(const sl_cql_header *header, const uint8_t *body, size_t len,
                           sl_arena *arena, sl_cql_response *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    out->opcode = header->opcode;
    out->stream = header->stream;
    int rc = SL_OK;
    if (header->flags & SL_CQL_FLAG_COMPRESSION) {
        size_t plain_len = 0;
        rc = sl_cql_uncompressed_length(body, len, &plain_len, err);
        if (rc) goto fail;
        uint8_t *plain = sl_arena_alloc(arena, plain_len ? plain_len : 1);
        if (!plain) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory decompressing %zu bytes", plain_len);
            goto fail;
        }
        rc = sl_cql_decompress_body(body, len, plain, plain_len, &plain_len, err);
        if (rc) goto fail;
        body = plain;
        len = plain_len;
    }
    decoder d = { .arena = arena, .err = err };
    sl_cql_reader_init(&d.reader, body, len);
    rc = decode_body(&d, header->flags, out);
    if (rc) goto fail;
    return SL_OK;
fail:
    sl_error_prefix(err, "CQL %s response (stream %d): ", sl_cql_opcode_name(header->opcode), header->stream);
    return rc;
}

void sl_cql_rows_begin(const sl_cql_rows *rows, sl_cql_row_iter *iter)
{
    sl_cql_reader_init(&iter->reader, rows->content, rows->content_len);
    iter->n_columns = rows->metadata.n_columns;
    iter->rows_left = rows->n_rows;
}

int sl_cql_rows_next(sl_cql_row_iter *iter, sl_cql_cell *cells, sl_error *err)
{
    if (iter->rows_left <= 0) return 0;
    for (int32_t i = 0; i < iter->n_columns; i++) {
        int rc = sl_cql_get_bytes(&iter->reader, &cells[i].ptr, &cells[i].len, "Rows cell", err);
        if (rc) return rc;
    }
    iter->rows_left--;
    return 1;
}
