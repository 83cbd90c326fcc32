/* frame.h — CQL native protocol v4 framing: the 9-byte frame header, the
 * opcodes, the consistency levels, and the protocol's primitive notations
 * ([int] [long] [short] [string] [bytes] ...) as writers that append to an
 * sl_buffer and a bounds-checked reader (native_protocol_v4.spec §1–§3).
 *
 * Everything on the wire is big-endian. The reader never reads past the end
 * of its input: every get_* either consumes a whole item or fails with
 * SL_ECORRUPT and a message naming what it was reading and at which byte,
 * leaving the position where the item began.
 */
#ifndef SL_CQL_FRAME_H
#define SL_CQL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/value.h"

#define SL_CQL_VERSION_REQUEST 0x04
#define SL_CQL_VERSION_RESPONSE 0x84
#define SL_CQL_HEADER_SIZE 9
/* §2.5: "currently a frame is limited to 256MB in length". */
#define SL_CQL_MAX_BODY (256u * 1024u * 1024u)

/* Frame flags (§2.2). */
enum {
    SL_CQL_FLAG_COMPRESSION = 0x01,
    SL_CQL_FLAG_TRACING = 0x02,
    SL_CQL_FLAG_CUSTOM_PAYLOAD = 0x04,
    SL_CQL_FLAG_WARNING = 0x08,
};

/* Opcodes (§2.4); there is no 0x04. */
typedef enum sl_cql_opcode {
    SL_CQL_OP_ERROR = 0x00,
    SL_CQL_OP_STARTUP = 0x01,
    SL_CQL_OP_READY = 0x02,
    SL_CQL_OP_AUTHENTICATE = 0x03,
    SL_CQL_OP_OPTIONS = 0x05,
    SL_CQL_OP_SUPPORTED = 0x06,
    SL_CQL_OP_QUERY = 0x07,
    SL_CQL_OP_RESULT = 0x08,
    SL_CQL_OP_PREPARE = 0x09,
    SL_CQL_OP_EXECUTE = 0x0A,
    SL_CQL_OP_REGISTER = 0x0B,
    SL_CQL_OP_EVENT = 0x0C,
    SL_CQL_OP_BATCH = 0x0D,
    SL_CQL_OP_AUTH_CHALLENGE = 0x0E,
    SL_CQL_OP_AUTH_RESPONSE = 0x0F,
    SL_CQL_OP_AUTH_SUCCESS = 0x10,
} sl_cql_opcode;

/* Consistency levels (§3 [consistency]). */
typedef enum sl_cql_consistency {
    SL_CQL_ANY = 0x0000,
    SL_CQL_ONE = 0x0001,
    SL_CQL_TWO = 0x0002,
    SL_CQL_THREE = 0x0003,
    SL_CQL_QUORUM = 0x0004,
    SL_CQL_ALL = 0x0005,
    SL_CQL_LOCAL_QUORUM = 0x0006,
    SL_CQL_EACH_QUORUM = 0x0007,
    SL_CQL_SERIAL = 0x0008,
    SL_CQL_LOCAL_SERIAL = 0x0009,
    SL_CQL_LOCAL_ONE = 0x000A,
} sl_cql_consistency;

typedef struct sl_cql_header {
    uint8_t version;   /* 0x04 request, 0x84 response */
    uint8_t flags;     /* SL_CQL_FLAG_* */
    int16_t stream;    /* >= 0 for requests; -1 for server events */
    uint8_t opcode;    /* sl_cql_opcode */
    uint32_t length;   /* body bytes after the header */
} sl_cql_header;

/* An [inet]: 4 or 16 address bytes and a port. */
typedef struct sl_cql_inet {
    uint8_t address[16];
    uint8_t address_len;
    int32_t port;
} sl_cql_inet;

/* Writes header as 9 bytes into out. */
void sl_cql_header_encode(const sl_cql_header *header, uint8_t out[SL_CQL_HEADER_SIZE]);

/* Reads a header from the first 9 bytes of bytes. Fails with SL_ECORRUPT
 * when fewer than 9 bytes are given, the version byte is not
 * expected_version (0x84 when reading responses), the opcode is unknown, or
 * the body length exceeds 256 MiB. */
int sl_cql_header_decode(const uint8_t *bytes, size_t len, uint8_t expected_version,
                         sl_cql_header *out, sl_error *err);

/* "QUERY", "RESULT", ...; "UNKNOWN" for an unknown opcode. */
const char *sl_cql_opcode_name(int opcode);

/* "LOCAL_QUORUM", ...; "UNKNOWN" for an unknown level. */
const char *sl_cql_consistency_name(int consistency);

/* Parses a level from config text, case-insensitive, '-' read as '_'
 * ("local_quorum", "QUORUM", "one"). SL_ECONFIG naming the text and the
 * accepted names otherwise. */
int sl_cql_consistency_parse(sl_str text, sl_cql_consistency *out, sl_error *err);

/* ---- writers: append one item to out; SL_ENOMEM leaves out unchanged ---- */

int sl_cql_put_byte(sl_buffer *out, uint8_t value);
int sl_cql_put_short(sl_buffer *out, uint16_t value);
int sl_cql_put_int(sl_buffer *out, int32_t value);
int sl_cql_put_long(sl_buffer *out, int64_t value);
/* [string]: SL_ETOOBIG over 65535 bytes. */
int sl_cql_put_string(sl_buffer *out, sl_str text);
/* [long string]: SL_ETOOBIG over INT32_MAX bytes. */
int sl_cql_put_long_string(sl_buffer *out, sl_str text);
int sl_cql_put_uuid(sl_buffer *out, const uint8_t uuid[16]);
/* [string list]: SL_ETOOBIG over 65535 items or for an item over 65535 bytes. */
int sl_cql_put_string_list(sl_buffer *out, const sl_str *items, size_t n_items);
/* [bytes]: len < 0 writes null (bytes may then be NULL); SL_ETOOBIG past INT32_MAX. */
int sl_cql_put_bytes(sl_buffer *out, const void *bytes, int64_t len);
/* [short bytes]: SL_ETOOBIG over 65535 bytes. */
int sl_cql_put_short_bytes(sl_buffer *out, const void *bytes, size_t len);
/* [string map] of n pairs keys[i] -> values[i]. */
int sl_cql_put_string_map(sl_buffer *out, const sl_str *keys, const sl_str *values, size_t n_pairs);
int sl_cql_put_consistency(sl_buffer *out, sl_cql_consistency consistency);

/* ---- reader: borrows data; strings and bytes it returns point into it ---- */

typedef struct sl_cql_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
} sl_cql_reader;

void sl_cql_reader_init(sl_cql_reader *reader, const uint8_t *data, size_t len);

/* Bytes left to read. */
static inline size_t sl_cql_reader_left(const sl_cql_reader *reader)
{
    return reader->len - reader->pos;
}

/* Each reads one item; `what` names it in the error ("Rows column count").
 * On failure (SL_ECORRUPT) nothing is consumed. */
int sl_cql_get_byte(sl_cql_reader *reader, uint8_t *out, const char *what, sl_error *err);
int sl_cql_get_short(sl_cql_reader *reader, uint16_t *out, const char *what, sl_error *err);
int sl_cql_get_int(sl_cql_reader *reader, int32_t *out, const char *what, sl_error *err);
int sl_cql_get_long(sl_cql_reader *reader, int64_t *out, const char *what, sl_error *err);
int sl_cql_get_string(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err);
/* [long string]: a negative length is corrupt. */
int sl_cql_get_long_string(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err);
/* 16 bytes copied into out. */
int sl_cql_get_uuid(sl_cql_reader *reader, uint8_t out[16], const char *what, sl_error *err);
/* [bytes]: *len is the length, or -1 for null (any negative length on the
 * wire) with *bytes NULL. */
int sl_cql_get_bytes(sl_cql_reader *reader, const uint8_t **bytes, int32_t *len,
                     const char *what, sl_error *err);
int sl_cql_get_short_bytes(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err);
/* [string list]: the array lives in arena, the strings point into the input. */
int sl_cql_get_string_list(sl_cql_reader *reader, sl_arena *arena, sl_str **items,
                           size_t *n_items, const char *what, sl_error *err);
int sl_cql_get_inet(sl_cql_reader *reader, sl_cql_inet *out, const char *what, sl_error *err);
/* Fails on a level this protocol version does not define. */
int sl_cql_get_consistency(sl_cql_reader *reader, sl_cql_consistency *out, const char *what,
                           sl_error *err);

#endif
