/* fuzz_record_batch.c — libFuzzer target for the Kafka RecordBatch v2
 * codec (log/record_batch.c): batch checks, record cursors, headers.
 *
 * The input is a run of batches, as in a segment file. Each is checked both
 * with and without its CRC; a batch that passes has its records walked and
 * their headers read, and every record's offset must lie in the batch's
 * range, whose end (base + lastOffsetDelta + 1) must not overflow. A batch
 * that checks out is also re-encoded from its records, which must check out
 * again with the same offsets.
 */
#include "fuzz_util.h"

#include "core/arena.h"
#include "core/error.h"
#include "core/batch.h"
#include "log/record_batch.h"

/* Walks the records of one checked batch; 0 when all were well formed. */
static int walk(const uint8_t *bytes, size_t size, const sl_record_batch_header *header, sl_batch *copy)
{
    sl_record_cursor cursor;
    sl_record_view view;
    const char *why = NULL;
    int rc;
    int64_t previous = -1;
    fuzz_check(header->base_offset >= 0 && header->last_offset_delta >= 0 &&
                   header->base_offset <= INT64_MAX - 1 - header->last_offset_delta,
               "a checked batch whose next offset overflows");
    sl_record_cursor_init(&cursor, bytes, size, header);
    while ((rc = sl_record_cursor_next(&cursor, &view, &why)) == 1) {
        fuzz_check(view.offset >= header->base_offset &&
                       view.offset <= header->base_offset + header->last_offset_delta,
                   "a record offset outside its batch");
        const uint8_t *pos = view.headers, *end = view.headers + view.headers_len;
        for (int32_t h = 0; h < view.n_headers; h++) {
            const uint8_t *key, *value;
            int32_t key_len, value_len;
            sl_record_header_next(&pos, end, &key, &key_len, &value, &value_len);
            fuzz_check(key_len >= 0 && value_len >= -1, "a header of negative length");
        }
        fuzz_check(pos == end, "headers do not fill their bytes");
        if (copy && !sl_batch_is_full(copy) && view.offset > previous) {
            sl_record *record = sl_batch_add(copy);
            if (view.key_len > 0) record->key = (sl_str){ (const char *)view.key, (size_t)view.key_len };
            if (view.value_len >= 0)
                record->raw = (sl_str){ view.value_len ? (const char *)view.value : "", (size_t)view.value_len };
            record->timestamp_ms = view.timestamp_ms;
        }
        previous = view.offset;
    }
    fuzz_check(rc == 0 || (rc == SL_ECORRUPT && why != NULL), "a cursor error without a reason");
    return rc;
}

/* Encodes copy's records again at the batch's base offset and checks them. */
static void reencode(const sl_batch *copy, int64_t base_offset)
{
    if (copy->n_records == 0 || base_offset > INT64_MAX - 1 - (int64_t)copy->n_records) return;
    size_t size = sl_record_batch_encoded_size(copy->records, copy->n_records, 1);
    if (size > SL_RECORD_BATCH_MAX_SIZE) return;
    uint8_t *bytes = malloc(size);
    sl_record_batch_header header;
    size_t checked = 0;
    const char *why = NULL;
    fuzz_check(bytes != NULL, "out of memory");
    sl_record_batch_encode(bytes, base_offset, copy->records, copy->n_records, 1, NULL);
    fuzz_check(sl_record_batch_check(bytes, size, true, &header, &checked, &why) == SL_OK,
               "a re-encoded batch does not check out");
    fuzz_check(checked == size && header.base_offset == base_offset &&
                   header.n_records == (int32_t)copy->n_records,
               "a re-encoded batch has other bounds");
    fuzz_check(walk(bytes, size, &header, NULL) == 0, "a re-encoded batch has bad records");
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_batch *copy = sl_batch_new(64);
    fuzz_check(copy != NULL, "out of memory");
    size_t at = 0;
    while (at < size) {
        sl_record_batch_header header;
        size_t batch_size = 0;
        const char *why = NULL;
        int rc = sl_record_batch_check(data + at, size - at, false, &header, &batch_size, &why);
        if (rc == SL_EAGAIN) fuzz_check(batch_size > size - at, "EAGAIN with the bytes present");
        if (rc != SL_OK) break;
        fuzz_check(batch_size >= SL_RECORD_BATCH_HEADER_SIZE && batch_size <= size - at,
                   "a checked batch past the bytes");
        int crc_rc = sl_record_batch_check(data + at, size - at, true, &header, &batch_size, &why);
        sl_batch_reset(copy);
        if (walk(data + at, batch_size, &header, copy) == 0 && crc_rc == SL_OK)
            reencode(copy, header.base_offset);
        at += batch_size;
    }
    sl_batch_free(copy);
    return 0;
}
