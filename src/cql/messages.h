/* messages.h — CQL native protocol v4 messages: request builders that
 * append whole frames, and the decoder of response bodies
 * (native_protocol_v4.spec §4, error codes §9).
 *
 * Builders append header + body to an sl_buffer (several frames may share
 * one buffer, for pipelining) with the length filled in; on any error the
 * buffer is left exactly as it was. Values are never encoded here: callers
 * pass an already-encoded run of n [bytes] values (from cql/codec.h).
 *
 * A decoded response lives in the arena given to the decoder, except the
 * cells of a Rows result, which the row iterator reads in place from the
 * body (or, for a compressed frame, from its decompressed copy in the
 * arena): keep body and arena alive while iterating.
 */
#ifndef SL_CQL_MESSAGES_H
#define SL_CQL_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/value.h"
#include "cql/cql_type.h"
#include "cql/frame.h"

/* ---- requests ---------------------------------------------------------------- */

/* The <query_parameters> of QUERY and EXECUTE (§4.1.4). Zero means absent
 * for every optional part. */
typedef struct sl_cql_query_params {
    sl_cql_consistency consistency;
    const void *values;        /* n_values [bytes] already encoded, back to back */
    size_t values_len;
    size_t n_values;           /* at most 65535 */
    bool skip_metadata;
    int32_t page_size;         /* > 0: ask for pages of this many rows */
    sl_str paging_state;       /* ptr != NULL: continue from this state */
    bool has_serial_consistency;
    sl_cql_consistency serial_consistency;
    bool has_default_timestamp;
    int64_t default_timestamp; /* microseconds */
} sl_cql_query_params;

typedef enum sl_cql_batch_type {
    SL_CQL_BATCH_LOGGED = 0,
    SL_CQL_BATCH_UNLOGGED = 1,
    SL_CQL_BATCH_COUNTER = 2,
} sl_cql_batch_type;

/* One statement of a BATCH: a prepared id (when prepared_id.len > 0) or a
 * query text, with n_values pre-encoded [bytes] values. */
typedef struct sl_cql_batch_statement {
    sl_str prepared_id;
    sl_str query;
    const void *values;
    size_t values_len;
    size_t n_values;
} sl_cql_batch_statement;

typedef struct sl_cql_batch_options {
    sl_cql_consistency consistency;
    bool has_serial_consistency;
    sl_cql_consistency serial_consistency;
    bool has_default_timestamp;
    int64_t default_timestamp;
} sl_cql_batch_options;

/* STARTUP with CQL_VERSION 3.0.0, and COMPRESSION lz4 when asked. */
int sl_cql_build_startup(sl_buffer *out, int16_t stream, bool lz4, sl_error *err);
/* STARTUP with the given options (CQL_VERSION must be among them; e.g. add
 * APPLICATION_NAME). */
int sl_cql_build_startup_options(sl_buffer *out, int16_t stream, const sl_str *keys,
                                 const sl_str *values, size_t n_options, sl_error *err);
int sl_cql_build_options(sl_buffer *out, int16_t stream, sl_error *err);
/* AUTH_RESPONSE with a [bytes] token (token_len < 0 sends null). */
int sl_cql_build_auth_response(sl_buffer *out, int16_t stream, const void *token, int64_t token_len,
                               sl_error *err);
/* Appends the SASL PLAIN token "\0user\0password" to out. */
int sl_cql_plain_token(sl_buffer *out, sl_str user, sl_str password);
int sl_cql_build_query(sl_buffer *out, int16_t stream, sl_str query,
                       const sl_cql_query_params *params, sl_error *err);
int sl_cql_build_prepare(sl_buffer *out, int16_t stream, sl_str query, sl_error *err);
int sl_cql_build_execute(sl_buffer *out, int16_t stream, sl_str prepared_id,
                         const sl_cql_query_params *params, sl_error *err);
/* BATCH of n_statements statements. */
int sl_cql_build_batch(sl_buffer *out, int16_t stream, sl_cql_batch_type type,
                       const sl_cql_batch_statement *statements, size_t n_statements,
                       const sl_cql_batch_options *options, sl_error *err);
/* REGISTER for event types ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"). */
int sl_cql_build_register(sl_buffer *out, int16_t stream, const sl_str *event_types,
                          size_t n_event_types, sl_error *err);

/* Incremental BATCH, for callers that encode statements one at a time:
 * begin, add each statement, then end (or cancel, which drops the frame).
 * Between begin and end nothing else may be appended to out. */
typedef struct sl_cql_batch_builder {
    size_t frame_start;
    size_t count_at;
    size_t n_statements;
} sl_cql_batch_builder;

int sl_cql_batch_begin(sl_buffer *out, int16_t stream, sl_cql_batch_type type,
                       sl_cql_batch_builder *builder, sl_error *err);
int sl_cql_batch_add(sl_buffer *out, sl_cql_batch_builder *builder,
                     const sl_cql_batch_statement *statement, sl_error *err);
int sl_cql_batch_end(sl_buffer *out, sl_cql_batch_builder *builder,
                     const sl_cql_batch_options *options, sl_error *err);
void sl_cql_batch_cancel(sl_buffer *out, const sl_cql_batch_builder *builder);

/* ---- error codes (§9) ------------------------------------------------------- */

#define SL_CQL_ERROR_CODES(X)                               \
    X(SL_CQL_ERR_SERVER, 0x0000, "Server_error")            \
    X(SL_CQL_ERR_PROTOCOL, 0x000A, "Protocol_error")        \
    X(SL_CQL_ERR_AUTHENTICATION, 0x0100, "Authentication_error") \
    X(SL_CQL_ERR_UNAVAILABLE, 0x1000, "Unavailable")        \
    X(SL_CQL_ERR_OVERLOADED, 0x1001, "Overloaded")          \
    X(SL_CQL_ERR_IS_BOOTSTRAPPING, 0x1002, "Is_bootstrapping") \
    X(SL_CQL_ERR_TRUNCATE, 0x1003, "Truncate_error")        \
    X(SL_CQL_ERR_WRITE_TIMEOUT, 0x1100, "Write_timeout")    \
    X(SL_CQL_ERR_READ_TIMEOUT, 0x1200, "Read_timeout")      \
    X(SL_CQL_ERR_READ_FAILURE, 0x1300, "Read_failure")      \
    X(SL_CQL_ERR_FUNCTION_FAILURE, 0x1400, "Function_failure") \
    X(SL_CQL_ERR_WRITE_FAILURE, 0x1500, "Write_failure")    \
    X(SL_CQL_ERR_SYNTAX, 0x2000, "Syntax_error")            \
    X(SL_CQL_ERR_UNAUTHORIZED, 0x2100, "Unauthorized")      \
    X(SL_CQL_ERR_INVALID, 0x2200, "Invalid")                \
    X(SL_CQL_ERR_CONFIG, 0x2300, "Config_error")            \
    X(SL_CQL_ERR_ALREADY_EXISTS, 0x2400, "Already_exists")  \
    X(SL_CQL_ERR_UNPREPARED, 0x2500, "Unprepared")

enum {
#define SL__CQL_ERROR_ENUM(name, code, text) name = code,
    SL_CQL_ERROR_CODES(SL__CQL_ERROR_ENUM)
#undef SL__CQL_ERROR_ENUM
};

/* "Overloaded" for 0x1001; "Unknown_error" for a code not in §9. */
const char *sl_cql_error_code_name(int32_t code);

/* An ERROR response with the extras of its code; fields not carried by the
 * code are zero. */
typedef struct sl_cql_server_error {
    int32_t code;
    sl_str message;
    sl_cql_consistency consistency; /* Unavailable, timeouts, failures */
    int32_t required;               /* Unavailable */
    int32_t alive;                  /* Unavailable */
    int32_t received;               /* timeouts, failures */
    int32_t block_for;              /* timeouts, failures */
    int32_t n_failures;             /* Read_failure, Write_failure */
    bool data_present;              /* Read_timeout, Read_failure */
    sl_str write_type;              /* Write_timeout, Write_failure: "SIMPLE", "BATCH", ... */
    sl_str keyspace;                /* Function_failure, Already_exists */
    sl_str table;                   /* Already_exists ("" for a keyspace) */
    sl_str function;                /* Function_failure */
    sl_str *arg_types;              /* Function_failure */
    size_t n_arg_types;
    sl_str unprepared_id;           /* Unprepared */
} sl_cql_server_error;

/* Whether sending the same request again (after a pause, maybe to another
 * node) can succeed; see messages_decode.c for which codes and why. */
bool sl_cql_error_is_retryable(const sl_cql_server_error *error);

/* ---- responses -------------------------------------------------------------- */

typedef enum sl_cql_result_kind {
    SL_CQL_RESULT_VOID = 0x0001,
    SL_CQL_RESULT_ROWS = 0x0002,
    SL_CQL_RESULT_SET_KEYSPACE = 0x0003,
    SL_CQL_RESULT_PREPARED = 0x0004,
    SL_CQL_RESULT_SCHEMA_CHANGE = 0x0005,
} sl_cql_result_kind;

/* Rows metadata flags (§4.2.5.2). */
enum {
    SL_CQL_META_GLOBAL_TABLES_SPEC = 0x0001,
    SL_CQL_META_HAS_MORE_PAGES = 0x0002,
    SL_CQL_META_NO_METADATA = 0x0004,
};

typedef struct sl_cql_column {
    sl_str keyspace;
    sl_str table;
    sl_str name;
    sl_cql_type *type;
} sl_cql_column;

/* Rows <metadata>, a Prepared's <metadata> (bind markers, with pk indexes)
 * or its <result_metadata>. */
typedef struct sl_cql_metadata {
    int32_t flags;
    int32_t n_columns;
    bool has_more_pages;
    sl_str paging_state;        /* ptr NULL when absent */
    sl_cql_column *columns;     /* NULL with No_metadata, else n_columns */
    uint16_t *pk_indexes;       /* Prepared bind-marker metadata only */
    int32_t n_pk_indexes;
} sl_cql_metadata;

typedef struct sl_cql_rows {
    sl_cql_metadata metadata;
    int32_t n_rows;
    const uint8_t *content;     /* the <rows_content>, checked whole at decode */
    size_t content_len;
} sl_cql_rows;

typedef struct sl_cql_prepared {
    sl_str id;
    sl_cql_metadata bind;       /* the bind markers and partition-key indexes */
    sl_cql_metadata result;     /* the rows an EXECUTE will return (may be empty) */
} sl_cql_prepared;

/* A Schema_change result or SCHEMA_CHANGE event (§4.2.6). */
typedef struct sl_cql_schema_change {
    sl_str change_type;         /* "CREATED", "UPDATED", "DROPPED" */
    sl_str target;              /* "KEYSPACE", "TABLE", "TYPE", "FUNCTION", "AGGREGATE" */
    sl_str keyspace;
    sl_str name;                /* table, type, function or aggregate; "" for KEYSPACE */
    sl_str *arg_types;          /* FUNCTION, AGGREGATE */
    size_t n_arg_types;
} sl_cql_schema_change;

typedef struct sl_cql_event {
    sl_str type;                /* "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE" */
    sl_str change;              /* "NEW_NODE", "REMOVED_NODE", "UP", "DOWN" */
    sl_cql_inet address;        /* topology and status changes */
    sl_cql_schema_change schema;
} sl_cql_event;

/* One SUPPORTED option and its values. */
typedef struct sl_cql_supported {
    sl_str key;
    sl_str *values;
    size_t n_values;
} sl_cql_supported;

/* A decoded response; the fields for its opcode (and result kind) are set,
 * the others are zero. */
typedef struct sl_cql_response {
    uint8_t opcode;
    int16_t stream;
    bool has_tracing_id;
    uint8_t tracing_id[16];
    sl_str *warnings;
    size_t n_warnings;

    sl_cql_server_error error;       /* ERROR */
    sl_str authenticator;            /* AUTHENTICATE */
    sl_str token;                    /* AUTH_CHALLENGE, AUTH_SUCCESS (ptr NULL: null) */
    sl_cql_supported *supported;     /* SUPPORTED */
    size_t n_supported;
    int32_t result_kind;             /* RESULT: sl_cql_result_kind */
    sl_cql_rows rows;                /* Rows */
    sl_str keyspace;                 /* Set_keyspace */
    sl_cql_prepared prepared;        /* Prepared */
    sl_cql_schema_change schema_change; /* Schema_change */
    sl_cql_event event;              /* EVENT */
} sl_cql_response;

/* Decodes the body of a response frame whose header was read with
 * sl_cql_header_decode; a compressed body is decompressed into arena first.
 * Fails with SL_ECORRUPT naming the opcode, the item and the byte for a body
 * that is short or malformed; extra bytes at the end are ignored (§1). */
int sl_cql_decode_response(const sl_cql_header *header, const uint8_t *body, size_t len,
                           sl_arena *arena, sl_cql_response *out, sl_error *err);

/* A cell of a row: len -1 for null, else len bytes at ptr. */
typedef struct sl_cql_cell {
    const uint8_t *ptr;
    int32_t len;
} sl_cql_cell;

typedef struct sl_cql_row_iter {
    sl_cql_reader reader;
    int32_t n_columns;
    int32_t rows_left;
} sl_cql_row_iter;

void sl_cql_rows_begin(const sl_cql_rows *rows, sl_cql_row_iter *iter);

/* Fills cells[0 .. n_columns) with the next row. Returns 1 for a row, 0 at
 * the end, SL_ECORRUPT if the rows are malformed (never after a successful
 * decode). No bytes are copied. */
int sl_cql_rows_next(sl_cql_row_iter *iter, sl_cql_cell *cells, sl_error *err);

#endif
