/* messages.c — CQL native protocol v4 request builders
 * (native_protocol_v4.spec §4.1); see messages.h. The responses are decoded
 * in messages_decode.c.
 *
 * Every frame is begun by appending a header with length 0, filled by the
 * body writers, and closed by patching the length; any failure truncates
 * the buffer back to where the frame began.
 */
#include "cql/messages.h"

#include <stdio.h>
#include <string.h>

/* ---- frame assembly ------------------------------------------------------- */

static int frame_begin(sl_buffer *out, uint8_t opcode, int16_t stream, size_t *start, sl_error *err)
{
    if (stream < 0)
        return sl_error_set(err, SL_EINVAL, "CQL %s: request stream id %d is negative",
                            sl_cql_opcode_name(opcode), stream);
    sl_cql_header header = { SL_CQL_VERSION_REQUEST, 0, stream, opcode, 0 };
    uint8_t bytes[SL_CQL_HEADER_SIZE];
    sl_cql_header_encode(&header, bytes);
    *start = out->len;
    if (sl_buffer_append(out, bytes, sizeof bytes))
        return sl_error_set(err, SL_ENOMEM, "out of memory building a CQL %s frame",
                            sl_cql_opcode_name(opcode));
    return SL_OK;
}

/* Patches the body length into the header at start. */
static int frame_end(sl_buffer *out, size_t start, sl_error *err)
{
    uint8_t *header = (uint8_t *)out->data + start;
    size_t body_len = out->len - start - SL_CQL_HEADER_SIZE;
    if (body_len > SL_CQL_MAX_BODY) {
        out->len = start;
        return sl_error_set(err, SL_ETOOBIG, "CQL %s frame body of %zu bytes exceeds the 256 MiB limit",
                            sl_cql_opcode_name(header[4]), body_len);
    }
    uint32_t n = (uint32_t)body_len;
    header[5] = (uint8_t)(n >> 24);
    header[6] = (uint8_t)(n >> 16);
    header[7] = (uint8_t)(n >> 8);
    header[8] = (uint8_t)n;
    return SL_OK;
}

/* Drops the frame begun at start and reports why a body writer failed
 * (writers return SL_ENOMEM, or SL_ETOOBIG for an item over its length field). */
static int frame_fail(sl_buffer *out, size_t start, uint8_t opcode, int rc, const char *what,
                      sl_error *err)
{
    out->len = start;
    if (rc == SL_ENOMEM) return sl_error_set(err, rc, "out of memory building a CQL %s frame",
                                             sl_cql_opcode_name(opcode));
    return sl_error_set(err, rc, "CQL %s: %s %s", sl_cql_opcode_name(opcode), what,
                        rc == SL_ETOOBIG ? "is too large for its protocol field" : "is invalid");
}

int sl_cql_build_startup_options(sl_buffer *out, int16_t stream, const sl_str *keys,
                                 const sl_str *values, size_t n_options, sl_error *err)
{
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_STARTUP, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_string_map(out, keys, values, n_options);
    if (rc) return frame_fail(out, start, SL_CQL_OP_STARTUP, rc, "options", err);
    return frame_end(out, start, err);
}

int sl_cql_build_startup(sl_buffer *out, int16_t stream, bool lz4, sl_error *err)
{
    const sl_str keys[] = { SL_STR_LIT("CQL_VERSION"), SL_STR_LIT("COMPRESSION") };
    const sl_str values[] = { SL_STR_LIT("3.0.0"), SL_STR_LIT("lz4") };
    return sl_cql_build_startup_options(out, stream, keys, values, lz4 ? 2 : 1, err);
}

int sl_cql_build_options(sl_buffer *out, int16_t stream, sl_error *err)
{
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_OPTIONS, stream, &start, err);
    if (rc) return rc;
    return frame_end(out, start, err);
}

int sl_cql_build_auth_response(sl_buffer *out, int16_t stream, const void *token, int64_t token_len,
                               sl_error *err)
{
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_AUTH_RESPONSE, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_bytes(out, token, token_len);
    if (rc) return frame_fail(out, start, SL_CQL_OP_AUTH_RESPONSE, rc, "token", err);
    return frame_end(out, start, err);
}

int sl_cql_plain_token(sl_buffer *out, sl_str user, sl_str password)
{
    size_t start = out->len;
    int rc = sl_buffer_append_byte(out, '\0');
    if (!rc) rc = sl_buffer_append(out, user.ptr, user.len);
    if (!rc) rc = sl_buffer_append_byte(out, '\0');
    if (!rc) rc = sl_buffer_append(out, password.ptr, password.len);
    if (rc) out->len = start;
    return rc;
}

/* Checks a pre-encoded run of values before anything is written: at most
 * 65535, and at least 4 bytes (a [bytes] length) each. */
static int check_values(size_t values_len, size_t n_values, const char *where, sl_error *err)
{
    if (n_values > UINT16_MAX)
        return sl_error_set(err, SL_ETOOBIG, "%s: %zu bound values, the protocol allows 65535", where,
                            n_values);
    if (n_values * 4 > values_len)
        return sl_error_set(err, SL_EINVAL, "%s: %zu bound values cannot fit in %zu encoded bytes",
                            where, n_values, values_len);
    return SL_OK;
}

static int check_query_params(const sl_cql_query_params *params, const char *where, sl_error *err)
{
    if (params->has_default_timestamp && params->default_timestamp < 0)
        return sl_error_set(err, SL_EINVAL, "%s: default timestamp %lld is negative", where,
                            (long long)params->default_timestamp);
    if (!params->n_values && params->values_len)
        return sl_error_set(err, SL_EINVAL, "%s: %zu value bytes given for 0 values", where,
                            params->values_len);
    return check_values(params->values_len, params->n_values, where, err);
}

/* A checked run of values: [short] n then the [bytes] as given. */
static int put_values(sl_buffer *out, const void *values, size_t values_len, size_t n_values)
{
    int rc = sl_cql_put_short(out, (uint16_t)n_values);
    if (!rc && values_len) rc = sl_buffer_append(out, values, values_len);
    return rc;
}

/* <query_parameters> of checked params (§4.1.4). */
static int put_query_params(sl_buffer *out, const sl_cql_query_params *params)
{
    uint8_t flags = 0;
    if (params->n_values) flags |= 0x01;
    if (params->skip_metadata) flags |= 0x02;
    if (params->page_size > 0) flags |= 0x04;
    if (params->paging_state.ptr) flags |= 0x08;
    if (params->has_serial_consistency) flags |= 0x10;
    if (params->has_default_timestamp) flags |= 0x20;
    int rc = sl_cql_put_consistency(out, params->consistency);
    if (!rc) rc = sl_cql_put_byte(out, flags);
    if (!rc && (flags & 0x01)) rc = put_values(out, params->values, params->values_len, params->n_values);
    if (!rc && (flags & 0x04)) rc = sl_cql_put_int(out, params->page_size);
    if (!rc && (flags & 0x08))
        rc = sl_cql_put_bytes(out, params->paging_state.ptr, (int64_t)params->paging_state.len);
    if (!rc && (flags & 0x10)) rc = sl_cql_put_consistency(out, params->serial_consistency);
    if (!rc && (flags & 0x20)) rc = sl_cql_put_long(out, params->default_timestamp);
    return rc;
}

int sl_cql_build_query(sl_buffer *out, int16_t stream, sl_str query,
                       const sl_cql_query_params *params, sl_error *err)
{
    int rc = check_query_params(params, "CQL QUERY", err);
    if (rc) return rc;
    size_t start = 0;
    rc = frame_begin(out, SL_CQL_OP_QUERY, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_long_string(out, query);
    if (rc) return frame_fail(out, start, SL_CQL_OP_QUERY, rc, "query text", err);
    rc = put_query_params(out, params);
    if (rc) return frame_fail(out, start, SL_CQL_OP_QUERY, rc, "query parameters", err);
    return frame_end(out, start, err);
}

int sl_cql_build_prepare(sl_buffer *out, int16_t stream, sl_str query, sl_error *err)
{
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_PREPARE, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_long_string(out, query);
    if (rc) return frame_fail(out, start, SL_CQL_OP_PREPARE, rc, "query text", err);
    return frame_end(out, start, err);
}

int sl_cql_build_execute(sl_buffer *out, int16_t stream, sl_str prepared_id,
                         const sl_cql_query_params *params, sl_error *err)
{
    int rc = check_query_params(params, "CQL EXECUTE", err);
    if (rc) return rc;
    size_t start = 0;
    rc = frame_begin(out, SL_CQL_OP_EXECUTE, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_short_bytes(out, prepared_id.ptr, prepared_id.len);
    if (rc) return frame_fail(out, start, SL_CQL_OP_EXECUTE, rc, "prepared id", err);
    rc = put_query_params(out, params);
    if (rc) return frame_fail(out, start, SL_CQL_OP_EXECUTE, rc, "query parameters", err);
    return frame_end(out, start, err);
}

int sl_cql_batch_begin(sl_buffer *out, int16_t stream, sl_cql_batch_type type,
                       sl_cql_batch_builder *builder, sl_error *err)
{
    if (type != SL_CQL_BATCH_LOGGED && type != SL_CQL_BATCH_UNLOGGED && type != SL_CQL_BATCH_COUNTER)
        return sl_error_set(err, SL_EINVAL, "CQL BATCH: unknown batch type %d", (int)type);
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_BATCH, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_byte(out, (uint8_t)type);
    if (!rc) rc = sl_cql_put_short(out, 0); /* statement count, patched by end */
    if (rc) return frame_fail(out, start, SL_CQL_OP_BATCH, rc, "header", err);
    builder->frame_start = start;
    builder->count_at = out->len - 2;
    builder->n_statements = 0;
    return SL_OK;
}

int sl_cql_batch_add(sl_buffer *out, sl_cql_batch_builder *builder,
                     const sl_cql_batch_statement *statement, sl_error *err)
{
    if (builder->n_statements == UINT16_MAX)
        return sl_error_set(err, SL_ETOOBIG, "CQL BATCH: more than 65535 statements");
    char where[48];
    snprintf(where, sizeof where, "CQL BATCH statement %zu", builder->n_statements);
    int rc = check_values(statement->values_len, statement->n_values, where, err);
    if (rc) return rc;
    size_t mark = out->len;
    if (statement->prepared_id.len) {
        rc = sl_cql_put_byte(out, 1);
        if (!rc) rc = sl_cql_put_short_bytes(out, statement->prepared_id.ptr, statement->prepared_id.len);
    } else {
        rc = sl_cql_put_byte(out, 0);
        if (!rc) rc = sl_cql_put_long_string(out, statement->query);
    }
    if (!rc) rc = put_values(out, statement->values, statement->values_len, statement->n_values);
    if (rc) {
        out->len = mark;
        return sl_error_set(err, rc, "%s: %s", where,
                            rc == SL_ENOMEM ? "out of memory" : "prepared id or query is too large");
    }
    builder->n_statements++;
    return SL_OK;
}

int sl_cql_batch_end(sl_buffer *out, sl_cql_batch_builder *builder,
                     const sl_cql_batch_options *options, sl_error *err)
{
    size_t start = builder->frame_start;
    uint8_t flags = 0;
    if (options->has_serial_consistency) flags |= 0x10;
    if (options->has_default_timestamp) flags |= 0x20;
    uint8_t *count = (uint8_t *)out->data + builder->count_at;
    count[0] = (uint8_t)(builder->n_statements >> 8);
    count[1] = (uint8_t)builder->n_statements;
    int rc = sl_cql_put_consistency(out, options->consistency);
    if (!rc) rc = sl_cql_put_byte(out, flags);
    if (!rc && (flags & 0x10)) rc = sl_cql_put_consistency(out, options->serial_consistency);
    if (!rc && (flags & 0x20)) rc = sl_cql_put_long(out, options->default_timestamp);
    if (rc) return frame_fail(out, start, SL_CQL_OP_BATCH, rc, "options", err);
    return frame_end(out, start, err);
}

void sl_cql_batch_cancel(sl_buffer *out, const sl_cql_batch_builder *builder)
{
    out->len = builder->frame_start;
}

int sl_cql_build_batch(sl_buffer *out, int16_t stream, sl_cql_batch_type type,
                       const sl_cql_batch_statement *statements, size_t n_statements,
                       const sl_cql_batch_options *options, sl_error *err)
{
    sl_cql_batch_builder builder;
    int rc = sl_cql_batch_begin(out, stream, type, &builder, err);
    if (rc) return rc;
    for (size_t i = 0; i < n_statements; i++) {
        rc = sl_cql_batch_add(out, &builder, &statements[i], err);
        if (rc) {
            sl_cql_batch_cancel(out, &builder);
            return rc;
        }
    }
    return sl_cql_batch_end(out, &builder, options, err);
}

int sl_cql_build_register(sl_buffer *out, int16_t stream, const sl_str *event_types,
                          size_t n_event_types, sl_error *err)
{
    size_t start = 0;
    int rc = frame_begin(out, SL_CQL_OP_REGISTER, stream, &start, err);
    if (rc) return rc;
    rc = sl_cql_put_string_list(out, event_types, n_event_types);
    if (rc) return frame_fail(out, start, SL_CQL_OP_REGISTER, rc, "event type list", err);
    return frame_end(out, start, err);
}
