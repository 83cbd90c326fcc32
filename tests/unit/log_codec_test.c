/* log_codec_test.c — the Kafka RecordBatch v2 byte layout, varints and
 * CRC-32C, checked against bytes assembled by hand field by field; the
 * compression codecs: round trips, the framing Kafka's Java client writes,
 * and bounded, strict decompression. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/error.h"
#include "log/compression.h"
#include "log/crc32c.h"
#include "log/record_batch.h"

/* One record: key "key", value "hello", header h=x, timestamp
 * 1700000000000 ms (0x0000018BCFE56800), stored at offset 5. The CRC was
 * computed independently with a bitwise CRC-32C over bytes 21..79. */
static const uint8_t one_record_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* baseOffset 5 */
    0x00, 0x00, 0x00, 0x44,                         /* batchLength 68 = 80 - 12 */
    0x00, 0x00, 0x00, 0x00,                         /* partitionLeaderEpoch 0 */
    0x02,                                           /* magic 2 */
    0x8b, 0x73, 0x6d, 0xc6,                         /* crc (CRC-32C of the rest) */
    0x00, 0x00,                                     /* attributes: no compression */
    0x00, 0x00, 0x00, 0x00,                         /* lastOffsetDelta 0 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* baseTimestamp */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* maxTimestamp */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
    0xff, 0xff,                                     /* producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                         /* baseSequence -1 */
    0x00, 0x00, 0x00, 0x01,                         /* records count 1 */
    /* record */
    0x24,                                           /* length varint 18 (zigzag 36) */
    0x00,                                           /* attributes */
    0x00,                                           /* timestampDelta 0 */
    0x00,                                           /* offsetDelta 0 */
    0x06, 'k', 'e', 'y',                            /* keyLength 3, key */
    0x0a, 'h', 'e', 'l', 'l', 'o',                  /* valueLength 5, value */
    0x02,                                           /* headers count 1 */
    0x02, 'h',                                      /* header key length 1, key */
    0x02, 'x',                                      /* header value length 1, value */
};

static sl_record hand_record(sl_header *header)
{
    *header = (sl_header){ SL_STR_LIT("h"), SL_STR_LIT("x") };
    sl_record record = { 0 };
    record.raw = SL_STR_LIT("hello");
    record.key = SL_STR_LIT("key");
    record.headers = header;
    record.n_headers = 1;
    record.timestamp_ms = 1700000000000LL;
    return record;
}

Test(log_codec, crc32c_matches_the_standard_check_value)
{
    cr_assert_eq(sl_crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(sl_crc32c_software(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(sl_crc32c(0, "", 0), 0u);
}

Test(log_codec, crc32c_hardware_and_tables_agree_at_every_length_and_alignment)
{
    uint8_t bytes[300];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 131 + 7);
    for (size_t start = 0; start < 9; start++)
        for (size_t len = 0; len + start <= sizeof bytes; len += 7)
            cr_assert_eq(sl_crc32c(0, bytes + start, len), sl_crc32c_software(0, bytes + start, len),
                         "start %zu len %zu", start, len);
    /* Continuing a checksum equals checksumming the whole. */
    uint32_t part = sl_crc32c(0, bytes, 100);
    cr_assert_eq(sl_crc32c(part, bytes + 100, 200), sl_crc32c(0, bytes, 300));
}

Test(log_codec, varint_edge_cases_encode_to_known_bytes)
{
    static const struct {
        int64_t value;
        uint8_t bytes[10];
        size_t len;
    } cases[] = {
        { 0, { 0x00 }, 1 },
        { -1, { 0x01 }, 1 },
        { 1, { 0x02 }, 1 },
        { 63, { 0x7e }, 1 },
        { -64, { 0x7f }, 1 },
        { 64, { 0x80, 0x01 }, 2 },
        { -65, { 0x81, 0x01 }, 2 },
        { 300, { 0xd8, 0x04 }, 2 },
        { INT32_MAX, { 0xfe, 0xff, 0xff, 0xff, 0x0f }, 5 },
        { INT32_MIN, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
        { INT64_MAX, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
        { INT64_MIN, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[10];
        size_t len = sl_varint_put(out, cases[i].value);
        cr_assert_eq(len, cases[i].len, "case %zu", i);
        cr_assert_eq(sl_varint_size(cases[i].value), cases[i].len, "case %zu", i);
        cr_assert_arr_eq(out, cases[i].bytes, len, "case %zu", i);
        const uint8_t *pos = cases[i].bytes;
        int64_t back = 0;
        cr_assert_eq(sl_varint_get(&pos, cases[i].bytes + len, &back), SL_OK);
        cr_assert_eq(back, cases[i].value, "case %zu", i);
        cr_assert_eq(pos, cases[i].bytes + len);
    }
}

Test(log_codec, varint_rejects_truncated_overlong_and_out_of_range_input)
{
    int64_t value;
    int32_t small;
    const uint8_t truncated[] = { 0x80, 0x80 };
    const uint8_t *pos = truncated;
    cr_assert_eq(sl_varint_get(&pos, truncated + 2, &value), SL_ECORRUPT);
    cr_assert_eq(pos, truncated, "a failed read does not move");
    const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    pos = eleven;
    cr_assert_eq(sl_varint_get(&pos, eleven + sizeof eleven, &value), SL_ECORRUPT);
    const uint8_t tenth_too_big[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    pos = tenth_too_big;
    cr_assert_eq(sl_varint_get(&pos, tenth_too_big + 10, &value), SL_ECORRUPT);
    const uint8_t past_int32[] = { 0x80, 0x80, 0x80, 0x80, 0x10 }; /* 2^31 */
    pos = past_int32;
    cr_assert_eq(sl_varint_get32(&pos, past_int32 + 5, &small), SL_ECORRUPT);
    pos = past_int32;
    cr_assert_eq(sl_varint_get(&pos, past_int32 + 5, &value), SL_OK);
    cr_assert_eq(value, 1LL << 31);
}

Test(log_codec, encodes_one_record_batch_to_the_hand_assembled_bytes)
{
    sl_header header;
    sl_record record = hand_record(&header);
    size_t size = sl_record_batch_encoded_size(&record, 1, 42);
    cr_assert_eq(size, sizeof one_record_batch);
    uint8_t out[sizeof one_record_batch];
    sl_record_batch_header h;
    sl_record_batch_encode(out, 5, &record, 1, 42, &h);
    for (size_t i = 0; i < size; i++)
        cr_assert_eq(out[i], one_record_batch[i], "byte %zu: 0x%02x, expected 0x%02x", i, out[i],
                     one_record_batch[i]);
    cr_assert_eq(h.crc, 0x8b736dc6u);
    cr_assert_eq(h.batch_length, 68);
}

Test(log_codec, decodes_the_hand_assembled_batch)
{
    sl_record_batch_header h;
    size_t size = 0;
    const char *why = NULL;
    cr_assert_eq(sl_record_batch_check(one_record_batch, sizeof one_record_batch, true, &h, &size, &why), SL_OK);
    cr_assert_eq(size, sizeof one_record_batch);
    cr_assert_eq(h.base_offset, 5);
    cr_assert_eq(h.magic, 2);
    cr_assert_eq(h.n_records, 1);
    cr_assert_eq(h.producer_id, -1);
    cr_assert_eq(h.producer_epoch, -1);
    cr_assert_eq(h.base_sequence, -1);
    cr_assert_eq(h.max_timestamp, 1700000000000LL);

    sl_record_cursor cursor;
    sl_record_view view;
    sl_record_cursor_init(&cursor, one_record_batch, size, &h);
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 1);
    cr_assert_eq(view.offset, 5);
    cr_assert_eq(view.timestamp_ms, 1700000000000LL);
    cr_assert_eq(view.key_len, 3);
    cr_assert_arr_eq(view.key, "key", 3);
    cr_assert_eq(view.value_len, 5);
    cr_assert_arr_eq(view.value, "hello", 5);
    cr_assert_eq(view.n_headers, 1);
    const uint8_t *pos = view.headers, *key, *value;
    int32_t key_len, value_len;
    sl_record_header_next(&pos, view.headers + view.headers_len, &key, &key_len, &value, &value_len);
    cr_assert_eq(key_len, 1);
    cr_assert_eq(key[0], 'h');
    cr_assert_eq(value_len, 1);
    cr_assert_eq(value[0], 'x');
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 0);
}

Test(log_codec, check_reports_incomplete_bad_magic_and_flipped_bits)
{
    uint8_t copy[sizeof one_record_batch];
    sl_record_batch_header h;
    size_t size = 0;
    const char *why = NULL;
    cr_assert_eq(sl_record_batch_check(one_record_batch, 30, true, &h, &size, &why), SL_EAGAIN);
    cr_assert_eq(sl_record_batch_check(one_record_batch, 79, true, &h, &size, &why), SL_EAGAIN);
    cr_assert_eq(size, 80, "the length is known once the header is in");

    memcpy(copy, one_record_batch, sizeof copy);
    copy[16] = 1;
    cr_assert_eq(sl_record_batch_check(copy, sizeof copy, true, &h, &size, &why), SL_ECORRUPT);
    cr_assert_str_eq(why, "magic is not 2");

    for (size_t bit = 21 * 8; bit < sizeof copy * 8; bit += 37) {
        memcpy(copy, one_record_batch, sizeof copy);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(sl_record_batch_check(copy, sizeof copy, true, &h, &size, &why), SL_ECORRUPT,
                     "bit %zu", bit);
    }

    memcpy(copy, one_record_batch, sizeof copy);
    copy[11] = 0x10; /* batchLength 16: shorter than the fixed header */
    cr_assert_eq(sl_record_batch_check(copy, sizeof copy, true, &h, &size, &why), SL_ECORRUPT);
}

Test(log_codec, round_trips_null_key_null_value_many_records_and_negative_deltas)
{
    sl_header headers[2] = { { SL_STR_LIT("a"), { NULL, 0 } }, { SL_STR_LIT("b"), SL_STR_LIT("") } };
    sl_record records[300];
    memset(records, 0, sizeof records);
    for (int i = 0; i < 300; i++) {
        records[i].raw = i % 3 == 0 ? (sl_str){ NULL, 0 } : SL_STR_LIT("value");
        records[i].timestamp_ms = 1000 - i; /* decreasing: negative deltas */
        if (i % 2) {
            records[i].key = SL_STR_LIT("k");
            records[i].headers = headers;
            records[i].n_headers = 2;
        }
    }
    size_t size = sl_record_batch_encoded_size(records, 300, 1);
    uint8_t *bytes = malloc(size);
    sl_record_batch_header h;
    sl_record_batch_encode(bytes, 1000, records, 300, 1, &h);
    cr_assert_eq(h.last_offset_delta, 299);
    cr_assert_eq(h.max_timestamp, 1000);
    size_t checked = 0;
    const char *why = NULL;
    cr_assert_eq(sl_record_batch_check(bytes, size, true, &h, &checked, &why), SL_OK);
    sl_record_cursor cursor;
    sl_record_view view;
    sl_record_cursor_init(&cursor, bytes, size, &h);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 1, "record %d: %s", i, why);
        cr_assert_eq(view.offset, 1000 + i);
        cr_assert_eq(view.timestamp_ms, 1000 - i);
        cr_assert_eq(view.value_len, i % 3 == 0 ? -1 : 5);
        cr_assert_eq(view.key_len, i % 2 ? 1 : -1);
        cr_assert_eq(view.n_headers, i % 2 ? 2 : 0);
        if (i % 2) {
            const uint8_t *pos = view.headers, *key, *value;
            int32_t key_len, value_len;
            sl_record_header_next(&pos, view.headers + view.headers_len, &key, &key_len, &value, &value_len);
            cr_assert_eq(value_len, -1);
            sl_record_header_next(&pos, view.headers + view.headers_len, &key, &key_len, &value, &value_len);
            cr_assert_eq(value_len, 0);
        }
    }
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 0);
    free(bytes);
}

Test(log_codec, rejects_a_record_that_runs_past_its_batch)
{
    uint8_t copy[sizeof one_record_batch];
    memcpy(copy, one_record_batch, sizeof copy);
    copy[61] = 0x40; /* record length 32: past the batch end */
    sl_record_batch_header h;
    sl_record_batch_header_read(copy, &h);
    sl_record_cursor cursor;
    sl_record_view view;
    const char *why = NULL;
    sl_record_cursor_init(&cursor, copy, sizeof copy, &h);
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), SL_ECORRUPT);
}

Test(log_codec, an_empty_key_is_stored_with_length_0_not_as_null)
{
    sl_record records[2] = { { .raw = SL_STR_LIT("v"), .key = SL_STR_LIT("") }, { .raw = SL_STR_LIT("v") } };
    size_t size = sl_record_batch_encoded_size(records, 2, 1);
    uint8_t *bytes = malloc(size);
    sl_record_batch_header h;
    sl_record_batch_encode(bytes, 0, records, 2, 1, &h);
    sl_record_cursor cursor;
    sl_record_view view;
    const char *why = NULL;
    sl_record_cursor_init(&cursor, bytes, size, &h);
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 1);
    cr_assert_eq(view.key_len, 0, "an empty key must stay empty (Kafka hashes it), got %d", view.key_len);
    cr_assert_eq(sl_record_cursor_next(&cursor, &view, &why), 1);
    cr_assert_eq(view.key_len, -1);
    free(bytes);
}

/* ---- compression codecs (compression.h) ---- */

static uint8_t *sample_text(size_t len)
{
    uint8_t *text = malloc(len);
    uint32_t state = 12345;
    for (size_t i = 0; i < len; i++) {
        state = state * 1103515245u + 12345u;
        text[i] = i % 7 == 0 ? (uint8_t)('a' + (state >> 16) % 26) : (uint8_t)"sluice records "[i % 15];
    }
    return text;
}

static const sl_codec all_codecs[] = { SL_CODEC_GZIP, SL_CODEC_SNAPPY, SL_CODEC_LZ4, SL_CODEC_ZSTD };

Test(log_codec, every_codec_round_trips_small_and_multi_block_inputs)
{
    static const size_t lengths[] = { 1, 100, 32 * 1024, 32 * 1024 + 1, 200 * 1024 + 7 };
    for (size_t c = 0; c < 4; c++) {
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            uint8_t *text = sample_text(lengths[l]);
            sl_buffer packed = SL_BUFFER_INIT, unpacked = SL_BUFFER_INIT;
            const char *why = NULL;
            cr_assert_eq(sl_codec_compress(all_codecs[c], text, lengths[l], &packed, &why), SL_OK, "%s",
                         sl_codec_name(all_codecs[c]));
            cr_assert_eq(sl_codec_decompress(all_codecs[c], (uint8_t *)packed.data, packed.len, lengths[l],
                                             &unpacked, &why),
                         SL_OK, "%s %zu: %s", sl_codec_name(all_codecs[c]), lengths[l], why);
            cr_assert_eq(unpacked.len, lengths[l]);
            cr_assert_arr_eq(unpacked.data, text, lengths[l]);
            sl_buffer_free(&packed);
            sl_buffer_free(&unpacked);
            free(text);
        }
    }
}

Test(log_codec, codecs_write_the_framing_kafkas_java_client_writes)
{
    uint8_t *text = sample_text(70000);
    sl_buffer out = SL_BUFFER_INIT;
    const char *why = NULL;
    /* Xerial snappy: magic, version 1, compatible 1, then a 32 KiB block's length. */
    static const uint8_t xerial[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
    cr_assert_eq(sl_codec_compress(SL_CODEC_SNAPPY, text, 70000, &out, &why), SL_OK);
    cr_assert_arr_eq(out.data, xerial, 16);
    uint32_t first_block = (uint32_t)(uint8_t)out.data[16] << 24 | (uint32_t)(uint8_t)out.data[17] << 16 |
                           (uint32_t)(uint8_t)out.data[18] << 8 | (uint8_t)out.data[19];
    cr_assert_lt(first_block, 32 * 1024 + 2000);
    /* LZ4 frame: magic, FLG 0x60 (version 1, independent blocks, no checksums), BD 0x40 (64 KiB). */
    sl_buffer_clear(&out);
    cr_assert_eq(sl_codec_compress(SL_CODEC_LZ4, text, 70000, &out, &why), SL_OK);
    static const uint8_t lz4_head[6] = { 0x04, 0x22, 0x4d, 0x18, 0x60, 0x40 };
    cr_assert_arr_eq(out.data, lz4_head, 6);
    /* gzip member header; zstd frame magic. */
    sl_buffer_clear(&out);
    cr_assert_eq(sl_codec_compress(SL_CODEC_GZIP, text, 70000, &out, &why), SL_OK);
    cr_assert_arr_eq(out.data, ((uint8_t[]){ 0x1f, 0x8b, 0x08 }), 3);
    sl_buffer_clear(&out);
    cr_assert_eq(sl_codec_compress(SL_CODEC_ZSTD, text, 70000, &out, &why), SL_OK);
    cr_assert_arr_eq(out.data, ((uint8_t[]){ 0x28, 0xb5, 0x2f, 0xfd }), 4);
    sl_buffer_free(&out);
    free(text);
}

Test(log_codec, decompression_stops_at_the_limit_and_rejects_truncated_or_garbage_input)
{
    size_t big = 8 * 1024 * 1024, limit = 1024 * 1024;
    uint8_t *zeros = calloc(1, big);
    for (size_t c = 0; c < 4; c++) {
        const char *name = sl_codec_name(all_codecs[c]);
        sl_buffer packed = SL_BUFFER_INIT, out = SL_BUFFER_INIT;
        const char *why = NULL;
        cr_assert_eq(sl_codec_compress(all_codecs[c], zeros, big, &packed, &why), SL_OK);
        /* A bomb: 8 MiB of zeros, allowed 1 MiB. */
        cr_assert_eq(sl_codec_decompress(all_codecs[c], (uint8_t *)packed.data, packed.len, limit, &out, &why),
                     SL_ECORRUPT, "%s", name);
        cr_assert(strstr(why, "limit"), "%s: %s", name, why);
        cr_assert_eq(out.len, 0, "%s left %zu bytes behind", name, out.len);
        cr_assert_leq(out.capacity, 2 * (limit + 1), "%s grew to %zu for a %zu limit", name, out.capacity, limit);
        /* Exactly at the limit is fine. */
        sl_buffer_clear(&out);
        cr_assert_eq(sl_codec_decompress(all_codecs[c], (uint8_t *)packed.data, packed.len, big, &out, &why),
                     SL_OK, "%s at the limit: %s", name, why);
        cr_assert_eq(out.len, big);
        /* Cut short. */
        sl_buffer_clear(&out);
        cr_assert_eq(sl_codec_decompress(all_codecs[c], (uint8_t *)packed.data, packed.len / 2, big, &out, &why),
                     SL_ECORRUPT, "%s truncated", name);
        /* Not the codec's data at all. */
        sl_buffer_clear(&out);
        static const uint8_t garbage[] = "this is not compressed data, not at all, not in any codec";
        cr_assert_eq(sl_codec_decompress(all_codecs[c], garbage, sizeof garbage, big, &out, &why), SL_ECORRUPT,
                     "%s garbage", name);
        sl_buffer_free(&packed);
        sl_buffer_free(&out);
    }
    free(zeros);
}

Test(log_codec, snappy_reads_unframed_blocks_as_other_clients_write_them)
{
    /* Raw snappy of "hello hello hello": length 17, a 6-byte literal "hello ",
     * then a copy of 11 bytes from 6 back (tag 0x1d = copy-1, length 11). */
    static const uint8_t raw[] = { 0x11, 0x14, 'h', 'e', 'l', 'l', 'o', ' ', 0x1d, 0x06 };
    sl_buffer out = SL_BUFFER_INIT;
    const char *why = NULL;
    cr_assert_eq(sl_codec_decompress(SL_CODEC_SNAPPY, raw, sizeof raw, 100, &out, &why), SL_OK, "%s", why);
    cr_assert_eq(out.len, 17);
    cr_assert_arr_eq(out.data, "hello hello hello", 17);
    sl_buffer_free(&out);
}

Test(log_codec, check_accepts_kafkas_codecs_and_rejects_unknown_ones)
{
    uint8_t copy[sizeof one_record_batch];
    sl_record_batch_header h;
    size_t size = 0;
    const char *why = NULL;
    for (int codec = 1; codec <= 7; codec++) {
        memcpy(copy, one_record_batch, sizeof copy);
        sl_record_batch_seal(copy, sizeof copy, (int16_t)codec, &h);
        int rc = sl_record_batch_check(copy, sizeof copy, true, &h, &size, &why);
        if (codec <= 4) {
            cr_assert_eq(rc, SL_OK, "codec %d: %s", codec, why);
        } else {
            cr_assert_eq(rc, SL_ECORRUPT, "codec %d", codec);
            cr_assert(strstr(why, "unknown compression codec"), "%s", why);
        }
    }
}

/* Found by fuzzing: a CRC-valid batch whose last offset is INT64_MAX passed
 * the check, and every reader then overflowed computing the next offset. */
Test(log_codec, check_rejects_a_batch_whose_next_offset_does_not_fit)
{
    sl_record_batch_header h;
    size_t size = 0;
    const char *why = NULL;
    sl_header header;
    sl_record records[2] = { hand_record(&header), hand_record(&header) };
    size_t encoded = sl_record_batch_encoded_size(records, 2, 0);
    uint8_t *bytes = malloc(encoded);
    cr_assert_not_null(bytes);

    sl_record_batch_encode(bytes, INT64_MAX - 2, records, 2, 0, NULL); /* last offset INT64_MAX - 1 */
    cr_assert_eq(sl_record_batch_check(bytes, encoded, true, &h, &size, &why), SL_OK);
    cr_assert_eq(h.base_offset + h.last_offset_delta + 1, INT64_MAX);

    sl_record_batch_encode(bytes, INT64_MAX - 1, records, 2, 0, NULL); /* last offset INT64_MAX */
    cr_assert_eq(sl_record_batch_check(bytes, encoded, true, &h, &size, &why), SL_ECORRUPT);
    cr_assert_str_eq(why, "bad record count or offsets");

    sl_record_batch_encode(bytes, INT64_MAX, records, 1, 0, NULL);
    cr_assert_eq(sl_record_batch_check(bytes, sl_record_batch_encoded_size(records, 1, 0), true, &h,
                                       &size, &why), SL_ECORRUPT);
    free(bytes);
}
