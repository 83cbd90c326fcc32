/* cql_type.h — CQL column types: the protocol's [option] type descriptors
 * (native_protocol_v4.spec §4.2.5.2), parsed from result metadata or from
 * a CQL type name ("list<text>", "map<text, int>", "frozen<set<uuid>>").
 *
 * A type tree lives in an arena owned by whoever holds it (a prepared
 * statement's metadata, a sink's table description): nothing is freed alone.
 */
#ifndef SL_CQL_TYPE_H
#define SL_CQL_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

typedef enum sl_cql_type_code {
    SL_CQL_CUSTOM = 0x0000,
    SL_CQL_ASCII = 0x0001,
    SL_CQL_BIGINT = 0x0002,
    SL_CQL_BLOB = 0x0003,
    SL_CQL_BOOLEAN = 0x0004,
    SL_CQL_COUNTER = 0x0005,
    SL_CQL_DECIMAL = 0x0006,
    SL_CQL_DOUBLE = 0x0007,
    SL_CQL_FLOAT = 0x0008,
    SL_CQL_INT = 0x0009,
    SL_CQL_TIMESTAMP = 0x000B,
    SL_CQL_UUID = 0x000C,
    SL_CQL_VARCHAR = 0x000D,   /* also "text" */
    SL_CQL_VARINT = 0x000E,
    SL_CQL_TIMEUUID = 0x000F,
    SL_CQL_INET = 0x0010,
    SL_CQL_DATE = 0x0011,
    SL_CQL_TIME = 0x0012,
    SL_CQL_SMALLINT = 0x0013,
    SL_CQL_TINYINT = 0x0014,
    SL_CQL_DURATION = 0x0015,
    SL_CQL_LIST = 0x0020,
    SL_CQL_MAP = 0x0021,
    SL_CQL_SET = 0x0022,
    SL_CQL_UDT = 0x0030,
    SL_CQL_TUPLE = 0x0031,
} sl_cql_type_code;

typedef struct sl_cql_type sl_cql_type;

struct sl_cql_type {
    sl_cql_type_code code;
    sl_str custom_class;      /* CUSTOM: the Java class name */
    sl_str udt_keyspace;      /* UDT only */
    sl_str udt_name;          /* UDT only */
    sl_cql_type **params;     /* LIST/SET: 1 element type; MAP: key, value; TUPLE/UDT: fields */
    sl_str *field_names;      /* UDT only: n_params names */
    size_t n_params;
};

/* Reads one [option] type descriptor from bytes (big-endian, as in a RESULT
 * metadata); *used gets the bytes consumed. The tree lives in arena. */
int sl_cql_type_read_option(const uint8_t *bytes, size_t len, size_t *used,
                            sl_arena *arena, sl_cql_type **out, sl_error *err);

/* Parses a CQL type name as written in DDL ("text", "list<int>",
 * "map<text, frozen<list<int>>>"); case-insensitive; frozen<> is accepted
 * and dropped. Errors name the text and the position. */
int sl_cql_type_parse_name(sl_str text, sl_arena *arena, sl_cql_type **out, sl_error *err);

/* Writes the type's CQL name ("map<text, int>") into buf (NUL-terminated,
 * truncated to size); returns buf. */
char *sl_cql_type_format(const sl_cql_type *type, char *buf, size_t size);

/* The short name of a code: "text", "bigint", "list", ... ("custom" for unknown). */
const char *sl_cql_type_code_name(sl_cql_type_code code);

#endif
