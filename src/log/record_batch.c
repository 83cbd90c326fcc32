/* record_batch.c — Kafka RecordBatch v2 encoding and decoding (layout in
 * record_batch.h; reference: the "Record Batch" section of Kafka's protocol
 * guide / message format docs).
 *
 * Encoding is two passes over the records: one to size the batch exactly,
 * one to write it into a buffer of that size, so an append builds its batch
 * with no allocation per record. Decoding never copies: views point into the
 * batch bytes, and every length is checked against the batch end first.
 * Compressed batches (attributes bits 0-2, see compression.h) are checked
 * here as they are; the caller decompresses their records section and walks
 * it with sl_record_cursor_init_records.
 */
#include "log/record_batch.h"

#include <string.h>

#include "core/error.h"
#include "log/compression.h"
#include "log/crc32c.h"

/* ---- fixed-width big-endian integers ---- */

static uint8_t *put_u16(uint8_t *out, uint16_t v)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
    return out + 2;
}

static uint8_t *put_u32(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return out + 4;
}

static uint8_t *put_u64(uint8_t *out, uint64_t v)
{
    put_u32(out, (uint32_t)(v >> 32));
    return put_u32(out + 4, (uint32_t)v);
}

static uint16_t get_u16(const uint8_t *in)
{
    return (uint16_t)((uint16_t)in[0] << 8 | in[1]);
}

static uint32_t get_u32(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static uint64_t get_u64(const uint8_t *in)
{
    return (uint64_t)get_u32(in) << 32 | get_u32(in + 4);
}

/* ---- zigzag varints ---- */

static uint64_t zigzag(int64_t value)
{
    return ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
}

size_t sl_varint_size(int64_t value)
{
    uint64_t u = zigzag(value);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

size_t sl_varint_put(uint8_t *out, int64_t value)
{
    uint64_t u = zigzag(value);
    size_t n = 0;
    while (u >= 0x80) {
        out[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    out[n++] = (uint8_t)u;
    return n;
}

int sl_varint_get(const uint8_t **pos, const uint8_t *end, int64_t *value)
{
    const uint8_t *p = *pos;
    uint64_t u = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return SL_ECORRUPT;
        uint8_t byte = *p++;
        /* The tenth byte may only carry the top bit of 64. */
        if (shift == 63 && byte > 1) return SL_ECORRUPT;
        u |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *value = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            *pos = p;
            return SL_OK;
        }
    }
    return SL_ECORRUPT;
}

int sl_varint_get32(const uint8_t **pos, const uint8_t *end, int32_t *value)
{
    int64_t wide;
    const uint8_t *p = *pos;
    if (sl_varint_get(&p, end, &wide) || wide < INT32_MIN || wide > INT32_MAX) return SL_ECORRUPT;
    *value = (int32_t)wide;
    *pos = p;
    return SL_OK;
}

/* ---- encoding ---- */

/* -1 (null) for a NULL pointer, else the length: "" is not null. */
static int64_t bytes_length(const char *ptr, size_t len)
{
    if (ptr == NULL && len == 0) return -1;
    return (int64_t)len;
}

/* Wrapping subtract, so any pair of caller-given timestamps encodes. */
static int64_t wrapping_delta(int64_t timestamp, int64_t base_timestamp)
{
    return (int64_t)((uint64_t)timestamp - (uint64_t)base_timestamp);
}

/* Bytes of one record after its length prefix. */
static size_t record_body_size(const sl_record *record, int64_t timestamp_delta, int64_t offset_delta)
{
    int64_t key_len = bytes_length(record->key.ptr, record->key.len);
    int64_t value_len = bytes_length(record->raw.ptr, record->raw.len);
    size_t size = 1 + sl_varint_size(timestamp_delta) + sl_varint_size(offset_delta);
    size += sl_varint_size(key_len) + (key_len > 0 ? (size_t)key_len : 0);
    size += sl_varint_size(value_len) + (value_len > 0 ? (size_t)value_len : 0);
    size += sl_varint_size((int64_t)record->n_headers);
    for (size_t h = 0; h < record->n_headers; h++) {
        const sl_header *header = &record->headers[h];
        int64_t hv_len = bytes_length(header->value.ptr, header->value.len);
        size += sl_varint_size((int64_t)header->key.len) + header->key.len;
        size += sl_varint_size(hv_len) + (hv_len > 0 ? (size_t)hv_len : 0);
    }
    return size;
}

size_t sl_record_batch_encoded_size(const sl_record *records, size_t n, int64_t now_ms)
{
    int64_t base_timestamp = sl_record_batch_timestamp(&records[0], now_ms);
    size_t size = SL_RECORD_BATCH_HEADER_SIZE;
    for (size_t i = 0; i < n; i++) {
        int64_t delta = wrapping_delta(sl_record_batch_timestamp(&records[i], now_ms), base_timestamp);
        size_t body = record_body_size(&records[i], delta, (int64_t)i);
        size += sl_varint_size((int64_t)body) + body;
    }
    return size;
}

static uint8_t *put_bytes(uint8_t *out, const char *ptr, int64_t len)
{
    out += sl_varint_put(out, len);
    if (len > 0) {
        memcpy(out, ptr, (size_t)len);
        out += len;
    }
    return out;
}

void sl_record_batch_encode(uint8_t *out, int64_t base_offset, const sl_record *records, size_t n,
                            int64_t now_ms, sl_record_batch_header *header)
{
    int64_t base_timestamp = sl_record_batch_timestamp(&records[0], now_ms);
    int64_t max_timestamp = base_timestamp;
    uint8_t *p = out + SL_RECORD_BATCH_HEADER_SIZE;
    for (size_t i = 0; i < n; i++) {
        const sl_record *record = &records[i];
        int64_t timestamp = sl_record_batch_timestamp(record, now_ms);
        if (timestamp > max_timestamp) max_timestamp = timestamp;
        int64_t delta = wrapping_delta(timestamp, base_timestamp);
        p += sl_varint_put(p, (int64_t)record_body_size(record, delta, (int64_t)i));
        *p++ = 0; /* record attributes: unused */
        p += sl_varint_put(p, delta);
        p += sl_varint_put(p, (int64_t)i);
        p = put_bytes(p, record->key.ptr, bytes_length(record->key.ptr, record->key.len));
        p = put_bytes(p, record->raw.ptr, bytes_length(record->raw.ptr, record->raw.len));
        p += sl_varint_put(p, (int64_t)record->n_headers);
        for (size_t h = 0; h < record->n_headers; h++) {
            const sl_header *hd = &record->headers[h];
            p = put_bytes(p, hd->key.ptr, (int64_t)hd->key.len);
            p = put_bytes(p, hd->value.ptr, bytes_length(hd->value.ptr, hd->value.len));
        }
    }
    size_t size = (size_t)(p - out);

    sl_record_batch_header h = {
        .base_offset = base_offset,
        .batch_length = (int32_t)(size - SL_RECORD_BATCH_LOG_OVERHEAD),
        .partition_leader_epoch = 0,
        .magic = SL_RECORD_BATCH_MAGIC,
        .attributes = 0, /* no compression, CreateTime, not transactional, not control */
        .last_offset_delta = (int32_t)(n - 1),
        .base_timestamp = base_timestamp,
        .max_timestamp = max_timestamp,
        .producer_id = -1,
        .producer_epoch = -1,
        .base_sequence = -1,
        .n_records = (int32_t)n,
    };
    uint8_t *q = out;
    q = put_u64(q, (uint64_t)h.base_offset);
    q = put_u32(q, (uint32_t)h.batch_length);
    q = put_u32(q, (uint32_t)h.partition_leader_epoch);
    *q++ = (uint8_t)h.magic;
    uint8_t *crc_at = q;
    q += 4;
    q = put_u16(q, (uint16_t)h.attributes);
    q = put_u32(q, (uint32_t)h.last_offset_delta);
    q = put_u64(q, (uint64_t)h.base_timestamp);
    q = put_u64(q, (uint64_t)h.max_timestamp);
    q = put_u64(q, (uint64_t)h.producer_id);
    q = put_u16(q, (uint16_t)h.producer_epoch);
    q = put_u32(q, (uint32_t)h.base_sequence);
    put_u32(q, (uint32_t)h.n_records);
    h.crc = sl_crc32c(0, crc_at + 4, size - (size_t)(crc_at + 4 - out));
    put_u32(crc_at, h.crc);
    if (header) *header = h;
}

/* ---- decoding ---- */

void sl_record_batch_header_read(const uint8_t *bytes, sl_record_batch_header *header)
{
    header->base_offset = (int64_t)get_u64(bytes);
    header->batch_length = (int32_t)get_u32(bytes + 8);
    header->partition_leader_epoch = (int32_t)get_u32(bytes + 12);
    header->magic = (int8_t)bytes[16];
    header->crc = get_u32(bytes + 17);
    header->attributes = (int16_t)get_u16(bytes + 21);
    header->last_offset_delta = (int32_t)get_u32(bytes + 23);
    header->base_timestamp = (int64_t)get_u64(bytes + 27);
    header->max_timestamp = (int64_t)get_u64(bytes + 35);
    header->producer_id = (int64_t)get_u64(bytes + 43);
    header->producer_epoch = (int16_t)get_u16(bytes + 51);
    header->base_sequence = (int32_t)get_u32(bytes + 53);
    header->n_records = (int32_t)get_u32(bytes + 57);
}

int sl_record_batch_check(const uint8_t *bytes, size_t available, bool verify_crc,
                          sl_record_batch_header *header, size_t *size, const char **why)
{
    if (available < SL_RECORD_BATCH_HEADER_SIZE) {
        *size = SL_RECORD_BATCH_HEADER_SIZE;
        return SL_EAGAIN;
    }
    sl_record_batch_header h;
    sl_record_batch_header_read(bytes, &h);
    if (h.batch_length < SL_RECORD_BATCH_HEADER_SIZE - SL_RECORD_BATCH_LOG_OVERHEAD ||
        h.batch_length > SL_RECORD_BATCH_MAX_SIZE - SL_RECORD_BATCH_LOG_OVERHEAD) {
        *why = "batch length out of bounds";
        return SL_ECORRUPT;
    }
    if (h.magic != SL_RECORD_BATCH_MAGIC) {
        *why = "magic is not 2";
        return SL_ECORRUPT;
    }
    size_t total = (size_t)h.batch_length + SL_RECORD_BATCH_LOG_OVERHEAD;
    if (available < total) {
        *size = total;
        return SL_EAGAIN;
    }
    if (verify_crc && sl_crc32c(0, bytes + 21, total - 21) != h.crc) {
        *why = "CRC-32C mismatch";
        return SL_ECORRUPT;
    }
    if ((h.attributes & SL_CODEC_ATTRIBUTE_MASK) > SL_CODEC_MAX) {
        *why = "unknown compression codec (attributes bits 0-2 above 4)";
        return SL_ECORRUPT;
    }
    /* The offset after the last record (base + delta + 1) must be
     * representable: every reader and recovery computes it. */
    if (h.n_records < 0 || h.last_offset_delta < 0 || h.base_offset < 0 ||
        h.base_offset > INT64_MAX - 1 - h.last_offset_delta) {
        *why = "bad record count or offsets";
        return SL_ECORRUPT;
    }
    if (header) *header = h;
    *size = total;
    return SL_OK;
}

void sl_record_batch_seal(uint8_t *batch, size_t size, int16_t attributes, sl_record_batch_header *header)
{
    header->batch_length = (int32_t)(size - SL_RECORD_BATCH_LOG_OVERHEAD);
    header->attributes = attributes;
    put_u32(batch + 8, (uint32_t)header->batch_length);
    put_u16(batch + 21, (uint16_t)attributes);
    header->crc = sl_crc32c(0, batch + 21, size - 21);
    put_u32(batch + 17, header->crc);
}

void sl_record_cursor_init(sl_record_cursor *cursor, const uint8_t *batch, size_t size,
                           const sl_record_batch_header *header)
{
    sl_record_cursor_init_records(cursor, batch + SL_RECORD_BATCH_HEADER_SIZE,
                                  size - SL_RECORD_BATCH_HEADER_SIZE, header);
}

void sl_record_cursor_init_records(sl_record_cursor *cursor, const uint8_t *records, size_t len,
                                   const sl_record_batch_header *header)
{
    cursor->pos = records;
    cursor->end = records + len;
    cursor->base_offset = header->base_offset;
    cursor->base_timestamp = header->base_timestamp;
    cursor->last_offset_delta = header->last_offset_delta;
    cursor->remaining = header->n_records;
}

/* Reads a length-prefixed byte string; -1 = null when allowed. */
static int get_bytes(const uint8_t **pos, const uint8_t *end, bool may_be_null,
                     const uint8_t **bytes, int32_t *len)
{
    int32_t n;
    if (sl_varint_get32(pos, end, &n)) return SL_ECORRUPT;
    if (n < 0) {
        if (n != -1 || !may_be_null) return SL_ECORRUPT;
        *bytes = NULL;
        *len = -1;
        return SL_OK;
    }
    if ((size_t)(end - *pos) < (size_t)n) return SL_ECORRUPT;
    *bytes = *pos;
    *len = n;
    *pos += n;
    return SL_OK;
}

int sl_record_cursor_next(sl_record_cursor *cursor, sl_record_view *view, const char **why)
{
    if (cursor->remaining <= 0) return 0;
    const uint8_t *p = cursor->pos;
    int32_t body_len;
    int64_t timestamp_delta;
    int32_t offset_delta;
    *why = "record runs past its batch";
    if (sl_varint_get32(&p, cursor->end, &body_len) || body_len < 0 ||
        (size_t)(cursor->end - p) < (size_t)body_len)
        return SL_ECORRUPT;
    const uint8_t *end = p + body_len;
    *why = "malformed record";
    if (end - p < 1) return SL_ECORRUPT;
    p++; /* record attributes */
    if (sl_varint_get(&p, end, &timestamp_delta) || sl_varint_get32(&p, end, &offset_delta) ||
        offset_delta < 0 || offset_delta > cursor->last_offset_delta)
        return SL_ECORRUPT;
    if (get_bytes(&p, end, true, &view->key, &view->key_len) ||
        get_bytes(&p, end, true, &view->value, &view->value_len) ||
        sl_varint_get32(&p, end, &view->n_headers) || view->n_headers < 0)
        return SL_ECORRUPT;
    view->headers = p;
    for (int32_t h = 0; h < view->n_headers; h++) {
        const uint8_t *bytes;
        int32_t len;
        if (get_bytes(&p, end, false, &bytes, &len) || get_bytes(&p, end, true, &bytes, &len))
            return SL_ECORRUPT;
    }
    if (p != end) return SL_ECORRUPT;
    view->headers_len = (size_t)(p - view->headers);
    view->offset = cursor->base_offset + offset_delta;
    /* Wrapping add: the encoder took the delta with a wrapping subtract. */
    view->timestamp_ms = (int64_t)((uint64_t)cursor->base_timestamp + (uint64_t)timestamp_delta);
    cursor->pos = end;
    cursor->remaining--;
    return 1;
}

void sl_record_header_next(const uint8_t **pos, const uint8_t *end, const uint8_t **key,
                           int32_t *key_len, const uint8_t **value, int32_t *value_len)
{
    get_bytes(pos, end, false, key, key_len);
    get_bytes(pos, end, true, value, value_len);
}
