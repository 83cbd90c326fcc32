/* frame.c — CQL native protocol v4 frame header and primitive notations
 * (native_protocol_v4.spec §2 and §3); see frame.h.
 *
 * Writers append big-endian bytes to an sl_buffer. The reader checks the
 * room left before every read, so a short or lying length can only produce
 * an SL_ECORRUPT naming the item and the byte offset, never a read past the
 * end. Lengths that fit but exceed what the rest of the input could hold are
 * refused before anything is allocated for them.
 */
#include "cql/frame.h"

#include <ctype.h>
#include <string.h>

/* ---- header ---------------------------------------------------------------- */

void sl_cql_header_encode(const sl_cql_header *header, uint8_t out[SL_CQL_HEADER_SIZE])
{
    uint16_t stream = (uint16_t)header->stream;
    out[0] = header->version;
    out[1] = header->flags;
    out[2] = (uint8_t)(stream >> 8);
    out[3] = (uint8_t)stream;
    out[4] = header->opcode;
    out[5] = (uint8_t)(header->length >> 24);
    out[6] = (uint8_t)(header->length >> 16);
    out[7] = (uint8_t)(header->length >> 8);
    out[8] = (uint8_t)header->length;
}

static bool opcode_is_known(int opcode)
{
    return opcode >= SL_CQL_OP_ERROR && opcode <= SL_CQL_OP_AUTH_SUCCESS && opcode != 0x04;
}

int sl_cql_header_decode(const uint8_t *bytes, size_t len, uint8_t expected_version,
                         sl_cql_header *out, sl_error *err)
{
    if (len < SL_CQL_HEADER_SIZE)
        return sl_error_set(err, SL_ECORRUPT, "CQL frame header truncated: %zu of %d bytes", len,
                            SL_CQL_HEADER_SIZE);
    sl_cql_header header;
    header.version = bytes[0];
    header.flags = bytes[1];
    header.stream = (int16_t)(uint16_t)((bytes[2] << 8) | bytes[3]);
    header.opcode = bytes[4];
    header.length = ((uint32_t)bytes[5] << 24) | ((uint32_t)bytes[6] << 16) |
                    ((uint32_t)bytes[7] << 8) | (uint32_t)bytes[8];
    if (header.version != expected_version)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL frame header: version byte 0x%02x, expected 0x%02x "
                            "(native protocol v4 %s)",
                            header.version, expected_version,
                            (expected_version & 0x80) ? "response" : "request");
    if (!opcode_is_known(header.opcode))
        return sl_error_set(err, SL_ECORRUPT, "CQL frame header: unknown opcode 0x%02x (stream %d)",
                            header.opcode, header.stream);
    if (header.length > SL_CQL_MAX_BODY)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL frame header: body length %u exceeds the 256 MiB frame limit "
                            "(%s, stream %d)",
                            header.length, sl_cql_opcode_name(header.opcode), header.stream);
    *out = header;
    return SL_OK;
}

const char *sl_cql_opcode_name(int opcode)
{
    switch (opcode) {
    case SL_CQL_OP_ERROR: return "ERROR";
    case SL_CQL_OP_STARTUP: return "STARTUP";
    case SL_CQL_OP_READY: return "READY";
    case SL_CQL_OP_AUTHENTICATE: return "AUTHENTICATE";
    case SL_CQL_OP_OPTIONS: return "OPTIONS";
    case SL_CQL_OP_SUPPORTED: return "SUPPORTED";
    case SL_CQL_OP_QUERY: return "QUERY";
    case SL_CQL_OP_RESULT: return "RESULT";
    case SL_CQL_OP_PREPARE: return "PREPARE";
    case SL_CQL_OP_EXECUTE: return "EXECUTE";
    case SL_CQL_OP_REGISTER: return "REGISTER";
    case SL_CQL_OP_EVENT: return "EVENT";
    case SL_CQL_OP_BATCH: return "BATCH";
    case SL_CQL_OP_AUTH_CHALLENGE: return "AUTH_CHALLENGE";
    case SL_CQL_OP_AUTH_RESPONSE: return "AUTH_RESPONSE";
    case SL_CQL_OP_AUTH_SUCCESS: return "AUTH_SUCCESS";
    default: return "UNKNOWN";
    }
}

/* ---- consistency ------------------------------------------------------------ */

static const char *const consistency_names[] = {
    "ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL",
    "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};
#define N_CONSISTENCIES (sizeof consistency_names / sizeof consistency_names[0])

const char *sl_cql_consistency_name(int consistency)
{
    if (consistency < 0 || (size_t)consistency >= N_CONSISTENCIES) return "UNKNOWN";
    return consistency_names[consistency];
}

static bool consistency_text_is(sl_str text, const char *name)
{
    size_t name_len = strlen(name);
    if (text.len != name_len) return false;
    for (size_t i = 0; i < name_len; i++) {
        char c = (char)toupper((unsigned char)text.ptr[i]);
        if (c == '-') c = '_';
        if (c != name[i]) return false;
    }
    return true;
}

int sl_cql_consistency_parse(sl_str text, sl_cql_consistency *out, sl_error *err)
{
    for (size_t i = 0; i < N_CONSISTENCIES; i++) {
        if (consistency_text_is(text, consistency_names[i])) {
            *out = (sl_cql_consistency)i;
            return SL_OK;
        }
    }
    return sl_error_set(err, SL_ECONFIG,
                        "unknown consistency level '%.*s': expected one of any, one, two, three, "
                        "quorum, all, local_quorum, each_quorum, serial, local_serial, local_one",
                        (int)(text.len > 64 ? 64 : text.len), text.ptr ? text.ptr : "");
}

/* ---- writers ---------------------------------------------------------------- */

int sl_cql_put_byte(sl_buffer *out, uint8_t value)
{
    return sl_buffer_append_byte(out, (char)value);
}

int sl_cql_put_short(sl_buffer *out, uint16_t value)
{
    uint8_t bytes[2] = { (uint8_t)(value >> 8), (uint8_t)value };
    return sl_buffer_append(out, bytes, sizeof bytes);
}

int sl_cql_put_int(sl_buffer *out, int32_t value)
{
    uint32_t v = (uint32_t)value;
    uint8_t bytes[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return sl_buffer_append(out, bytes, sizeof bytes);
}

int sl_cql_put_long(sl_buffer *out, int64_t value)
{
    uint64_t v = (uint64_t)value;
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(v >> (56 - 8 * i));
    return sl_buffer_append(out, bytes, sizeof bytes);
}

/* A length prefix and the bytes, appended together so a failure leaves out
 * unchanged. */
static int put_prefixed(sl_buffer *out, const uint8_t *prefix, size_t prefix_len,
                        const void *bytes, size_t len)
{
    int rc = sl_buffer_reserve(out, prefix_len + len);
    if (rc) return rc;
    memcpy(out->data + out->len, prefix, prefix_len);
    if (len) memcpy(out->data + out->len + prefix_len, bytes, len);
    out->len += prefix_len + len;
    return SL_OK;
}

int sl_cql_put_string(sl_buffer *out, sl_str text)
{
    return sl_cql_put_short_bytes(out, text.ptr, text.len);
}

int sl_cql_put_long_string(sl_buffer *out, sl_str text)
{
    if (text.len > INT32_MAX) return SL_ETOOBIG;
    return sl_cql_put_bytes(out, text.ptr, (int64_t)text.len);
}

int sl_cql_put_uuid(sl_buffer *out, const uint8_t uuid[16])
{
    return sl_buffer_append(out, uuid, 16);
}

int sl_cql_put_string_list(sl_buffer *out, const sl_str *items, size_t n_items)
{
    if (n_items > UINT16_MAX) return SL_ETOOBIG;
    size_t start = out->len;
    int rc = sl_cql_put_short(out, (uint16_t)n_items);
    for (size_t i = 0; !rc && i < n_items; i++) rc = sl_cql_put_string(out, items[i]);
    if (rc) out->len = start;
    return rc;
}

int sl_cql_put_bytes(sl_buffer *out, const void *bytes, int64_t len)
{
    if (len > INT32_MAX) return SL_ETOOBIG;
    if (len < 0) return sl_cql_put_int(out, -1);
    uint32_t n = (uint32_t)len;
    uint8_t prefix[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    return put_prefixed(out, prefix, sizeof prefix, bytes, (size_t)len);
}

int sl_cql_put_short_bytes(sl_buffer *out, const void *bytes, size_t len)
{
    if (len > UINT16_MAX) return SL_ETOOBIG;
    uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
    return put_prefixed(out, prefix, sizeof prefix, bytes, len);
}

int sl_cql_put_string_map(sl_buffer *out, const sl_str *keys, const sl_str *values, size_t n_pairs)
{
    if (n_pairs > UINT16_MAX) return SL_ETOOBIG;
    size_t start = out->len;
    int rc = sl_cql_put_short(out, (uint16_t)n_pairs);
    for (size_t i = 0; !rc && i < n_pairs; i++) {
        rc = sl_cql_put_string(out, keys[i]);
        if (!rc) rc = sl_cql_put_string(out, values[i]);
    }
    if (rc) out->len = start;
    return rc;
}

int sl_cql_put_consistency(sl_buffer *out, sl_cql_consistency consistency)
{
    return sl_cql_put_short(out, (uint16_t)consistency);
}

/* ---- reader ----------------------------------------------------------------- */

void sl_cql_reader_init(sl_cql_reader *reader, const uint8_t *data, size_t len)
{
    reader->data = data;
    reader->len = data ? len : 0;
    reader->pos = 0;
}

static int short_input(const sl_cql_reader *reader, size_t need, const char *what,
                       const char *notation, sl_error *err)
{
    return sl_error_set(err, SL_ECORRUPT,
                        "CQL message truncated reading %s (%s) at byte %zu: need %zu bytes, %zu left",
                        what, notation, reader->pos, need, sl_cql_reader_left(reader));
}

static uint32_t load_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

int sl_cql_get_byte(sl_cql_reader *reader, uint8_t *out, const char *what, sl_error *err)
{
    if (sl_cql_reader_left(reader) < 1) return short_input(reader, 1, what, "[byte]", err);
    *out = reader->data[reader->pos++];
    return SL_OK;
}

int sl_cql_get_short(sl_cql_reader *reader, uint16_t *out, const char *what, sl_error *err)
{
    if (sl_cql_reader_left(reader) < 2) return short_input(reader, 2, what, "[short]", err);
    const uint8_t *p = reader->data + reader->pos;
    *out = (uint16_t)((p[0] << 8) | p[1]);
    reader->pos += 2;
    return SL_OK;
}

int sl_cql_get_int(sl_cql_reader *reader, int32_t *out, const char *what, sl_error *err)
{
    if (sl_cql_reader_left(reader) < 4) return short_input(reader, 4, what, "[int]", err);
    *out = (int32_t)load_u32(reader->data + reader->pos);
    reader->pos += 4;
    return SL_OK;
}

int sl_cql_get_long(sl_cql_reader *reader, int64_t *out, const char *what, sl_error *err)
{
    if (sl_cql_reader_left(reader) < 8) return short_input(reader, 8, what, "[long]", err);
    const uint8_t *p = reader->data + reader->pos;
    uint64_t v = ((uint64_t)load_u32(p) << 32) | load_u32(p + 4);
    *out = (int64_t)v;
    reader->pos += 8;
    return SL_OK;
}

/* A length-prefixed run whose prefix is prefix_size bytes (2 or 4). */
static int get_prefixed(sl_cql_reader *reader, size_t prefix_size, const char *notation,
                        sl_str *out, int32_t *wire_len, const char *what, sl_error *err)
{
    size_t left = sl_cql_reader_left(reader);
    if (left < prefix_size) return short_input(reader, prefix_size, what, notation, err);
    const uint8_t *p = reader->data + reader->pos;
    int32_t n = prefix_size == 2 ? (int32_t)((p[0] << 8) | p[1]) : (int32_t)load_u32(p);
    *wire_len = n;
    if (n < 0) {
        out->ptr = NULL;
        out->len = 0;
        reader->pos += prefix_size;
        return SL_OK;
    }
    if (left - prefix_size < (size_t)n)
        return short_input(reader, prefix_size + (size_t)n, what, notation, err);
    out->ptr = (const char *)p + prefix_size;
    out->len = (size_t)n;
    reader->pos += prefix_size + (size_t)n;
    return SL_OK;
}

int sl_cql_get_string(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err)
{
    int32_t n = 0;
    return get_prefixed(reader, 2, "[string]", out, &n, what, err);
}

int sl_cql_get_long_string(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err)
{
    size_t start = reader->pos;
    int32_t n = 0;
    int rc = get_prefixed(reader, 4, "[long string]", out, &n, what, err);
    if (rc) return rc;
    if (n < 0) {
        reader->pos = start;
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL message: negative length %d reading %s ([long string]) at byte %zu",
                            (int)n, what, start);
    }
    return SL_OK;
}

int sl_cql_get_uuid(sl_cql_reader *reader, uint8_t out[16], const char *what, sl_error *err)
{
    if (sl_cql_reader_left(reader) < 16) return short_input(reader, 16, what, "[uuid]", err);
    memcpy(out, reader->data + reader->pos, 16);
    reader->pos += 16;
    return SL_OK;
}

int sl_cql_get_bytes(sl_cql_reader *reader, const uint8_t **bytes, int32_t *len,
                     const char *what, sl_error *err)
{
    sl_str s = { NULL, 0 };
    int32_t n = 0;
    int rc = get_prefixed(reader, 4, "[bytes]", &s, &n, what, err);
    if (rc) return rc;
    *bytes = (const uint8_t *)s.ptr;
    *len = n < 0 ? -1 : n;
    return SL_OK;
}

int sl_cql_get_short_bytes(sl_cql_reader *reader, sl_str *out, const char *what, sl_error *err)
{
    int32_t n = 0;
    return get_prefixed(reader, 2, "[short bytes]", out, &n, what, err);
}

int sl_cql_get_string_list(sl_cql_reader *reader, sl_arena *arena, sl_str **items,
                           size_t *n_items, const char *what, sl_error *err)
{
    size_t start = reader->pos;
    uint16_t n = 0;
    int rc = sl_cql_get_short(reader, &n, what, err);
    if (rc) return rc;
    /* Every [string] takes at least its 2-byte length: refuse a count the
     * rest of the input cannot hold before allocating for it. */
    size_t room = sl_cql_reader_left(reader);
    if ((size_t)n * 2 > room) {
        reader->pos = start;
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL message truncated reading %s ([string list]) at byte %zu: "
                            "%u strings cannot fit in %zu bytes",
                            what, start, (unsigned)n, room);
    }
    sl_str *list = NULL;
    if (n) {
        list = sl_arena_alloc(arena, (size_t)n * sizeof *list);
        if (!list) {
            reader->pos = start;
            return sl_error_set(err, SL_ENOMEM, "out of memory reading %s", what);
        }
    }
    for (uint16_t i = 0; i < n; i++) {
        rc = sl_cql_get_string(reader, &list[i], what, err);
        if (rc) {
            reader->pos = start;
            return rc;
        }
    }
    *items = list;
    *n_items = n;
    return SL_OK;
}

int sl_cql_get_inet(sl_cql_reader *reader, sl_cql_inet *out, const char *what, sl_error *err)
{
    size_t start = reader->pos;
    uint8_t n = 0;
    int rc = sl_cql_get_byte(reader, &n, what, err);
    if (rc) return rc;
    if (n != 4 && n != 16) {
        reader->pos = start;
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL message: %s ([inet]) at byte %zu has address size %u, expected 4 or 16",
                            what, start, (unsigned)n);
    }
    if (sl_cql_reader_left(reader) < (size_t)n + 4) {
        reader->pos = start;
        return short_input(reader, 1 + (size_t)n + 4, what, "[inet]", err);
    }
    memset(out->address, 0, sizeof out->address);
    memcpy(out->address, reader->data + reader->pos, n);
    out->address_len = n;
    reader->pos += n;
    int32_t port = 0;
    rc = sl_cql_get_int(reader, &port, what, err);
    if (rc) return rc; /* cannot happen: room was checked */
    out->port = port;
    return SL_OK;
}

int sl_cql_get_consistency(sl_cql_reader *reader, sl_cql_consistency *out, const char *what,
                           sl_error *err)
{
    size_t start = reader->pos;
    uint16_t value = 0;
    int rc = sl_cql_get_short(reader, &value, what, err);
    if (rc) return rc;
    if (value >= N_CONSISTENCIES) {
        reader->pos = start;
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL message: %s at byte %zu is consistency 0x%04x, which v4 does not define",
                            what, start, (unsigned)value);
    }
    *out = (sl_cql_consistency)value;
    return SL_OK;
}
