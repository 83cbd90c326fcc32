/* record_batch.h — the Kafka RecordBatch v2 codec: the one place that knows
 * the byte layout of what the log stores.
 *
 * Batch: baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 |
 * magic i8 (2) | crc u32 (CRC-32C of attributes..end) | attributes i16 |
 * lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 | producerId i64 |
 * producerEpoch i16 | baseSequence i32 | record count i32 | records.
 * Fixed-width integers are big-endian; batchLength counts the bytes after it.
 * Record: length varint | attributes i8 | timestampDelta varlong |
 * offsetDelta varint | keyLength varint (-1 null) | key | valueLength varint |
 * value | header count varint | (keyLength varint | key | valueLength varint
 * (-1 null) | value)*. Varints are zigzag base-128, low groups first.
 */
#ifndef SL_LOG_RECORD_BATCH_H
#define SL_LOG_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"

#define SL_RECORD_BATCH_HEADER_SIZE 61  /* fixed part, up to and including the record count */
#define SL_RECORD_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define SL_RECORD_BATCH_MAGIC 2
#define SL_RECORD_BATCH_MAX_SIZE (256 * 1024 * 1024) /* largest whole batch we write or accept */
#define SL_RECORD_BATCH_CONTROL 0x20 /* attributes bit 5: transaction markers, not records */

typedef struct sl_record_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t n_records;
} sl_record_batch_header;

/* One record inside a batch, pointing into the batch bytes (no copies). */
typedef struct sl_record_view {
    int64_t offset;
    int64_t timestamp_ms;
    const uint8_t *key;       /* NULL when key_len is -1 */
    int32_t key_len;          /* -1 = null key */
    const uint8_t *value;
    int32_t value_len;        /* -1 = null value */
    const uint8_t *headers;   /* the encoded headers, already checked */
    size_t headers_len;
    int32_t n_headers;
} sl_record_view;

/* Walks the records of one checked batch. */
typedef struct sl_record_cursor {
    const uint8_t *pos;
    const uint8_t *end;
    int64_t base_offset;
    int64_t base_timestamp;
    int32_t last_offset_delta;
    int32_t remaining;
} sl_record_cursor;

/* Zigzag varint (Kafka varint/varlong): bytes needed, encode (returns bytes
 * written, at most 10), decode (SL_ECORRUPT when truncated or too long;
 * sl_varint_get32 also when outside int32). */
size_t sl_varint_size(int64_t value);
size_t sl_varint_put(uint8_t *out, int64_t value);
int sl_varint_get(const uint8_t **pos, const uint8_t *end, int64_t *value);
int sl_varint_get32(const uint8_t **pos, const uint8_t *end, int32_t *value);

/* The timestamp a record is stored with: its own, or now_ms when 0. */
static inline int64_t sl_record_batch_timestamp(const sl_record *record, int64_t now_ms)
{
    return record->timestamp_ms ? record->timestamp_ms : now_ms;
}

/* Exact bytes of the batch encoding of records[0..n) (n >= 1). A key, raw
 * value or header value with a NULL pointer is stored as null; one with a
 * pointer and length 0 as empty (Kafka tells the two apart). */
size_t sl_record_batch_encoded_size(const sl_record *records, size_t n, int64_t now_ms);

/* Encodes records[0..n) as one batch of offsets base_offset.. into out, which
 * has sl_record_batch_encoded_size() bytes; fills header (may be NULL). */
void sl_record_batch_encode(uint8_t *out, int64_t base_offset, const sl_record *records, size_t n,
                            int64_t now_ms, sl_record_batch_header *header);

/* After the records section of an encoded batch was replaced (compressed)
 * and the batch is now size bytes: rewrites batchLength and attributes and
 * recomputes the CRC, in the bytes and in *header. */
void sl_record_batch_seal(uint8_t *batch, size_t size, int16_t attributes, sl_record_batch_header *header);

/* Decodes the fixed header from bytes[0..61). No checks. */
void sl_record_batch_header_read(const uint8_t *bytes, sl_record_batch_header *header);

/* Checks the batch starting at bytes with `available` bytes present: length
 * bounds, magic, a known codec, record count, offsets (the offset after
 * the last record fits in int64), and the CRC when verify_crc. SL_OK with
 * *size = whole batch bytes; SL_EAGAIN when fewer
 * bytes than the batch needs are present (*size = bytes needed, or
 * SL_RECORD_BATCH_HEADER_SIZE when the length is not known yet);
 * SL_ECORRUPT with *why. */
int sl_record_batch_check(const uint8_t *bytes, size_t available, bool verify_crc,
                          sl_record_batch_header *header, size_t *size, const char **why);

/* Starts walking the records of a checked uncompressed batch of size bytes. */
void sl_record_cursor_init(sl_record_cursor *cursor, const uint8_t *batch, size_t size,
                           const sl_record_batch_header *header);

/* Starts walking a records section on its own: a compressed batch's,
 * decompressed (records[0..len), borrowed while walking). */
void sl_record_cursor_init_records(sl_record_cursor *cursor, const uint8_t *records, size_t len,
                                   const sl_record_batch_header *header);

/* Next record: 1 with *view filled, 0 at the end, SL_ECORRUPT with *why. */
int sl_record_cursor_next(sl_record_cursor *cursor, sl_record_view *view, const char **why);

/* Next header of a record view's headers (call n_headers times, starting with
 * *pos = view->headers, end = view->headers + view->headers_len). value_len
 * -1 = null value. The headers were checked by sl_record_cursor_next, so this
 * cannot fail. */
void sl_record_header_next(const uint8_t **pos, const uint8_t *end, const uint8_t **key,
                           int32_t *key_len, const uint8_t **value, int32_t *value_len);

#endif
