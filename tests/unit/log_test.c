/* log_test.c — the embedded log end to end on real temp directories:
 * round trips, segment rolls, the index, torn-tail and bit-flip recovery,
 * retention, groups, the data dir lock, topics, murmur2, and faults injected
 * through the fs vtable. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/clock.h"
#include "core/error.h"
#include "log/fs.h"
#include "log/log.h"
#include "log/murmur2.h"
#include "log/record_batch.h"
#include "test_util.h"

static char data_dir[64];

static void make_dir(void)
{
    test_make_temp_dir(data_dir, sizeof data_dir, "log");
}

static void remove_dir(void)
{
    sl_log_fs_set(NULL);
    test_remove_tree(data_dir);
}

TestSuite(log, .init = make_dir, .fini = remove_dir);

static sl_log *open_log(void)
{
    sl_log *log = NULL;
    sl_error err = { 0 };
    int rc = sl_log_open(data_dir, &log, &err);
    cr_assert_eq(rc, SL_OK, "open: %s", err.message);
    return log;
}

static sl_topic *create_topic(sl_log *log, const char *name, sl_topic_config config)
{
    sl_topic *topic = NULL;
    sl_error err = { 0 };
    int rc = sl_log_topic_create(log, name, &config, &topic, &err);
    cr_assert_eq(rc, SL_OK, "create: %s", err.message);
    return topic;
}

/* Appends n records "value-<i>" (keys "key-<i>") in one batch. */
static int64_t append_values(sl_topic *topic, int32_t partition, int first, int n)
{
    sl_record *records = calloc((size_t)n, sizeof *records);
    char (*values)[32] = calloc((size_t)n, 32);
    char (*keys)[32] = calloc((size_t)n, 32);
    for (int i = 0; i < n; i++) {
        int len = snprintf(values[i], 32, "value-%d", first + i);
        records[i].raw = (sl_str){ values[i], (size_t)len };
        len = snprintf(keys[i], 32, "key-%d", first + i);
        records[i].key = (sl_str){ keys[i], (size_t)len };
        records[i].timestamp_ms = 1000000 + first + i;
    }
    int64_t first_offset = -1;
    sl_error err = { 0 };
    int rc = sl_topic_append(topic, partition, records, (size_t)n, &first_offset, &err);
    cr_assert_eq(rc, SL_OK, "append: %s", err.message);
    free(records);
    free(values);
    free(keys);
    return first_offset;
}

/* Reads everything from offset on; checks values are value-<offset>. */
static int64_t read_all_checked(sl_topic *topic, int32_t partition, int64_t offset, int64_t *n_read)
{
    sl_batch *batch = sl_batch_new(100);
    int64_t count = 0;
    for (;;) {
        int64_t next = -1;
        sl_error err = { 0 };
        sl_batch_reset(batch);
        int rc = sl_topic_read(topic, partition, offset, 1 << 20, batch, &next, &err);
        cr_assert_eq(rc, SL_OK, "read: %s", err.message);
        if (batch->n_records == 0) {
            cr_assert_eq(next, offset);
            break;
        }
        for (size_t i = 0; i < batch->n_records; i++) {
            const sl_record *record = &batch->records[i];
            char expected[32];
            int len = snprintf(expected, sizeof expected, "value-%lld", (long long)record->offset);
            cr_assert_eq(record->raw.len, (size_t)len);
            cr_assert_arr_eq(record->raw.ptr, expected, (size_t)len);
            cr_assert_eq(record->partition, partition);
            if (i > 0) cr_assert_eq(record->offset, batch->records[i - 1].offset + 1);
            count++;
        }
        cr_assert_eq(next, batch->records[batch->n_records - 1].offset + 1);
        offset = next;
    }
    sl_batch_free(batch);
    if (n_read) *n_read = count;
    return offset;
}

static char *partition_file(const char *topic, int partition, long long base, const char *suffix)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/topics/%s/%d/%020lld%s", data_dir, topic, partition, base, suffix);
    return path;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

Test(log, round_trips_values_keys_headers_and_timestamps)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "events", (sl_topic_config){ .partitions = 2 });
    sl_header headers[2] = { { SL_STR_LIT("source"), SL_STR_LIT("test") },
                             { SL_STR_LIT("empty"), SL_STR_LIT("") } };
    sl_record records[3] = { 0 };
    records[0] = (sl_record){ .raw = SL_STR_LIT("{\"a\":1}"), .key = SL_STR_LIT("k1"),
                              .headers = headers, .n_headers = 2, .timestamp_ms = 1700000000123 };
    records[1] = (sl_record){ .raw = SL_STR_LIT("second"), .timestamp_ms = 1600000000000 };
    records[2] = (sl_record){ .raw = SL_STR_LIT("third") }; /* timestamp 0: now */
    int64_t before = sl_clock_wall_ms(), first = -1;
    sl_error err = { 0 };
    cr_assert_eq(sl_topic_append(topic, 1, records, 3, &first, &err), SL_OK, "%s", err.message);
    cr_assert_eq(first, 0);
    cr_assert_eq(records[2].offset, 2);
    cr_assert_eq(records[2].partition, 1);
    cr_assert_eq(sl_topic_end_offset(topic, 1), 3);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 0);

    sl_batch *batch = sl_batch_new(10);
    int64_t next = -1;
    cr_assert_eq(sl_topic_read(topic, 1, 0, 1 << 20, batch, &next, &err), SL_OK, "%s", err.message);
    cr_assert_eq(batch->n_records, 3);
    cr_assert_eq(next, 3);
    const sl_record *r = &batch->records[0];
    cr_assert(sl_str_eq_cstr(r->raw, "{\"a\":1}"));
    cr_assert(sl_str_eq_cstr(r->key, "k1"));
    cr_assert_eq(r->timestamp_ms, 1700000000123);
    cr_assert_eq(r->n_headers, 2);
    cr_assert(sl_str_eq_cstr(sl_record_header(r, "source")->value, "test"));
    cr_assert_eq(sl_record_header(r, "empty")->value.len, 0);
    cr_assert_not(r->has_value);
    cr_assert_eq(batch->records[1].key.len, 0);
    cr_assert_eq(batch->records[1].timestamp_ms, 1600000000000);
    cr_assert_geq(batch->records[2].timestamp_ms, before);
    cr_assert_eq(batch->records[2].offset, 2);

    /* Reading at the end gives nothing and keeps the offset. */
    sl_batch_reset(batch);
    cr_assert_eq(sl_topic_read(topic, 1, 3, 1 << 20, batch, &next, &err), SL_OK);
    cr_assert_eq(batch->n_records, 0);
    cr_assert_eq(next, 3);
    /* A partition that does not exist is an error naming it. */
    cr_assert_eq(sl_topic_read(topic, 2, 0, 1 << 20, batch, &next, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "partition 2"), "%s", err.message);
    sl_batch_free(batch);

    /* The data survives a close and reopen. */
    sl_log_close(log);
    log = open_log();
    cr_assert_eq(sl_log_topic_open(log, "events", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 1), 3);
    cr_assert_eq(append_values(topic, 1, 3, 2), 3);
    sl_log_close(log);
}

Test(log, reads_across_segment_rolls)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "rolls", (sl_topic_config){ .partitions = 1, .segment_bytes = 1000 });
    for (int i = 0; i < 40; i++) cr_assert_eq(append_values(topic, 0, i * 5, 5), i * 5);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 200);
    cr_assert_gt(file_size(partition_file("rolls", 0, 0, ".log")), 0);
    cr_assert_leq(file_size(partition_file("rolls", 0, 0, ".log")), 1000);
    int n_segments = 0;
    for (long long base = 0; base < 200; base += 5)
        if (file_size(partition_file("rolls", 0, base, ".log")) >= 0) n_segments++;
    cr_assert_gt(n_segments, 5, "small segments roll: %d", n_segments);

    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 200);
    cr_assert_eq(n_read, 200);
    /* After a reopen the sealed segments are found again. */
    sl_log_close(log);
    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "rolls", &topic, &err), SL_OK);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 200);
    cr_assert_eq(read_all_checked(topic, 0, 37, &n_read), 200);
    cr_assert_eq(n_read, 163);
    sl_log_close(log);
}

Test(log, reads_from_a_middle_offset_through_the_index)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "indexed", (sl_topic_config){ .partitions = 1, .index_interval_bytes = 100 });
    for (int i = 0; i < 100; i++) append_values(topic, 0, i * 3, 3);
    long long index_size = file_size(partition_file("indexed", 0, 0, ".index"));
    cr_assert_gt(index_size, 8 * 50, "an entry about every 100 bytes: %lld bytes of index", index_size);
    cr_assert_eq(index_size % 8, 0);

    sl_batch *batch = sl_batch_new(4);
    int64_t next = -1;
    sl_error err;
    cr_assert_eq(sl_topic_read(topic, 0, 151, 1 << 20, batch, &next, &err), SL_OK, "%s", err.message);
    cr_assert_eq(batch->n_records, 4, "stops when the batch is full");
    cr_assert_eq(batch->records[0].offset, 151);
    cr_assert(sl_str_eq_cstr(batch->records[0].raw, "value-151"));
    cr_assert_eq(next, 155);
    /* max_bytes stops a read early (but never before one record). */
    sl_batch_free(batch);
    batch = sl_batch_new(1000);
    cr_assert_eq(sl_topic_read(topic, 0, 10, 40, batch, &next, &err), SL_OK);
    cr_assert_geq(batch->n_records, 1);
    cr_assert_lt(batch->n_records, 10);
    cr_assert_eq(next, 10 + (int64_t)batch->n_records);
    sl_batch_free(batch);

    /* The index survives a reopen and still finds the right place. */
    sl_log_close(log);
    log = open_log();
    cr_assert_eq(sl_log_topic_open(log, "indexed", &topic, &err), SL_OK);
    cr_assert_eq(file_size(partition_file("indexed", 0, 0, ".index")), index_size);
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 299, &n_read), 300);
    cr_assert_eq(n_read, 1);
    sl_log_close(log);
}

/* ---- the offset index in Kafka's layout ---- */

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_be32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Checks what Kafka's DumpLogSegments --verify-index-only checks: each entry
 * names the last offset of the batch at its position; entries increase.
 * Returns the number of entries. */
static size_t check_kafka_index(const char *topic, long long base)
{
    size_t index_len, log_len;
    uint8_t *index = (uint8_t *)test_read_file(partition_file(topic, 0, base, ".index"), &index_len);
    uint8_t *log = (uint8_t *)test_read_file(partition_file(topic, 0, base, ".log"), &log_len);
    cr_assert_eq(index_len % 8, 0);
    long long previous = -1;
    for (size_t at = 0; at < index_len; at += 8) {
        long long relative = be32(index + at);
        uint32_t position = be32(index + at + 4);
        cr_assert_lt((size_t)position + 61, log_len);
        long long batch_base = (long long)((uint64_t)be32(log + position) << 32 | be32(log + position + 4));
        long long last = batch_base + (int32_t)be32(log + position + 23);
        cr_assert_eq(base + relative, last, "entry %zu: offset %lld, the batch at %u ends at %lld",
                     at / 8, base + relative, position, last);
        cr_assert_gt(relative, previous);
        previous = relative;
    }
    free(index);
    free(log);
    return index_len / 8;
}

Test(log, index_entries_name_the_last_offset_of_their_batch_as_kafka_does)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "kafkaidx", (sl_topic_config){ .partitions = 1, .index_interval_bytes = 100 });
    for (int i = 0; i < 100; i++) append_values(topic, 0, i * 3, 3);
    size_t n_entries = check_kafka_index("kafkaidx", 0);
    cr_assert_gt(n_entries, 30);
    /* Recovery on reopen rebuilds the tail in the same layout. */
    sl_log_close(log);
    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "kafkaidx", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(check_kafka_index("kafkaidx", 0), n_entries);
    for (int64_t offset = 0; offset < 300; offset += 7) {
        int64_t n_read = 0;
        cr_assert_eq(read_all_checked(topic, 0, offset, &n_read), 300);
        cr_assert_eq(n_read, 300 - offset);
    }
    sl_log_close(log);
}

/* Rewrites an index as older sluice wrote it: entries name a batch's base
 * offset (every batch here holds 3 records, so base = last - 2). */
static void make_old_layout_index(const char *topic, long long base)
{
    size_t len;
    uint8_t *index = (uint8_t *)test_read_file(partition_file(topic, 0, base, ".index"), &len);
    cr_assert_gt(len, 0);
    for (size_t at = 0; at < len; at += 8) put_be32(index + at, be32(index + at) - 2);
    test_write_file(partition_file(topic, 0, base, ".index"), "wb", index, len);
    free(index);
}

Test(log, old_base_offset_indexes_still_read_and_the_active_one_is_rewritten_on_open)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "oldidx",
                                   (sl_topic_config){ .partitions = 1, .index_interval_bytes = 100,
                                                      .segment_bytes = 4000 });
    for (int i = 0; i < 100; i++) append_values(topic, 0, i * 3, 3);
    sl_log_close(log);
    /* The first segment is sealed, the last is active: both get old indexes. */
    long long active_base = -1;
    size_t n_segments = 0;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/topics/oldidx/0", data_dir);
    DIR *listing = opendir(dir);
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        if (!strstr(entry->d_name, ".log")) continue;
        long long base = atoll(entry->d_name);
        if (base > active_base) active_base = base;
        n_segments++;
    }
    closedir(listing);
    cr_assert_gt(n_segments, 2);
    make_old_layout_index("oldidx", 0);
    make_old_layout_index("oldidx", active_base);

    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "oldidx", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_gt(check_kafka_index("oldidx", active_base), 0);
    for (int64_t offset = 0; offset < 300; offset += 5) {
        int64_t n_read = 0;
        cr_assert_eq(read_all_checked(topic, 0, offset, &n_read), 300);
        cr_assert_eq(n_read, 300 - offset, "from offset %lld", (long long)offset);
    }
    sl_log_close(log);
}

/* ---- compressed topics ---- */

Test(log, every_codec_round_trips_through_appends_reopen_and_middle_reads)
{
    static const sl_codec codecs[] = { SL_CODEC_GZIP, SL_CODEC_SNAPPY, SL_CODEC_LZ4, SL_CODEC_ZSTD };
    for (size_t c = 0; c < 4; c++) {
        char name[32];
        snprintf(name, sizeof name, "packed-%s", sl_codec_name(codecs[c]));
        sl_log *log = open_log();
        sl_topic *topic = create_topic(log, name, (sl_topic_config){ .partitions = 1, .index_interval_bytes = 100,
                                                                     .compression = codecs[c] });
        for (int i = 0; i < 100; i++) append_values(topic, 0, i * 3, 3);
        /* Batches carry the codec in attributes bits 0-2, as Kafka writes them. */
        size_t len;
        uint8_t *bytes = (uint8_t *)test_read_file(partition_file(name, 0, 0, ".log"), &len);
        cr_assert_eq(bytes[22] & 7, (uint8_t)codecs[c], "%s: attributes %#x", name, bytes[22]);
        free(bytes);
        check_kafka_index(name, 0);
        sl_log_close(log);

        log = open_log();
        sl_error err;
        cr_assert_eq(sl_log_topic_open(log, name, &topic, &err), SL_OK, "%s", err.message);
        for (int64_t offset = 0; offset < 300; offset += 11) {
            int64_t n_read = 0;
            cr_assert_eq(read_all_checked(topic, 0, offset, &n_read), 300, "%s", name);
            cr_assert_eq(n_read, 300 - offset);
        }
        sl_log_close(log);
        /* The codec is a stored setting of the topic. */
        char *conf = NULL;
        size_t conf_len = 0;
        char path[256];
        snprintf(path, sizeof path, "%s/topics/%s/topic.conf", data_dir, name);
        cr_assert_eq(sl_log_fs_read_file(path, 4096, &conf, &conf_len, NULL), SL_OK);
        char line[64];
        snprintf(line, sizeof line, "compression=%s\n", sl_codec_name(codecs[c]));
        cr_assert(strstr(conf, line), "%s", conf);
        free(conf);
    }
}

Test(log, a_corrupt_compressed_batch_is_an_error_naming_the_file_and_offset)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "bomb", (sl_topic_config){ .partitions = 1, .compression = SL_CODEC_LZ4 });
    append_values(topic, 0, 0, 3);
    sl_log_close(log);
    /* Scramble the compressed records, then reseal so the CRC still holds:
     * what a hostile (or buggy) writer could leave. */
    size_t len;
    uint8_t *bytes = (uint8_t *)test_read_file(partition_file("bomb", 0, 0, ".log"), &len);
    for (size_t i = 61 + 7; i < len; i++) bytes[i] ^= 0x5a;
    sl_record_batch_header h;
    sl_record_batch_seal(bytes, len, 3, &h);
    test_write_file(partition_file("bomb", 0, 0, ".log"), "wb", bytes, len);
    free(bytes);

    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "bomb", &topic, &err), SL_OK, "%s", err.message);
    sl_batch *batch = sl_batch_new(10);
    int64_t next = -1;
    cr_assert_eq(sl_topic_read(topic, 0, 0, 1 << 20, batch, &next, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "lz4 batch at offset 0"), "%s", err.message);
    cr_assert(strstr(err.message, "00000000000000000000.log"), "%s", err.message);
    cr_assert_eq(batch->n_records, 0);
    sl_batch_free(batch);
    sl_log_close(log);
}

Test(log, control_batches_a_broker_wrote_are_skipped_as_kafka_consumers_skip_them)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "txn", (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 0, 2);
    append_values(topic, 0, 2, 1); /* becomes a commit marker below */
    append_values(topic, 0, 3, 2);
    sl_log_close(log);
    size_t len;
    uint8_t *bytes = (uint8_t *)test_read_file(partition_file("txn", 0, 0, ".log"), &len);
    size_t second = 12 + be32(bytes + 8);
    sl_record_batch_header h;
    sl_record_batch_seal(bytes + second, 12 + be32(bytes + second + 8), SL_RECORD_BATCH_CONTROL, &h);
    test_write_file(partition_file("txn", 0, 0, ".log"), "wb", bytes, len);
    free(bytes);

    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "txn", &topic, &err), SL_OK, "%s", err.message);
    sl_batch *batch = sl_batch_new(10);
    int64_t next = -1;
    cr_assert_eq(sl_topic_read(topic, 0, 0, 1 << 20, batch, &next, &err), SL_OK, "%s", err.message);
    cr_assert_eq(batch->n_records, 4, "the marker at offset 2 is not a record");
    cr_assert_eq(batch->records[1].offset, 1);
    cr_assert_eq(batch->records[2].offset, 3);
    cr_assert_eq(next, 5);
    sl_batch_free(batch);
    sl_log_close(log);
}

Test(log, truncates_torn_tail_and_keeps_earlier_batches)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "torn", (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 0, 10);
    append_values(topic, 0, 10, 10);
    long long good = file_size(partition_file("torn", 0, 0, ".log"));
    append_values(topic, 0, 20, 10);
    sl_log_close(log);

    char *path = partition_file("torn", 0, 0, ".log");
    long long full = file_size(path);
    cr_assert_eq(truncate(path, full - 7), 0);

    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "torn", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 20);
    cr_assert_eq(file_size(path), good, "the torn batch is cut off");
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 20);
    cr_assert_eq(n_read, 20);
    cr_assert_eq(append_values(topic, 0, 20, 5), 20, "appends continue where the good data ends");
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 25);
    sl_log_close(log);
}

Test(log, catches_a_flipped_bit_in_the_last_batch)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "flipped", (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 0, 10);
    long long good = file_size(partition_file("flipped", 0, 0, ".log"));
    append_values(topic, 0, 10, 10);
    sl_log_close(log);

    char *path = partition_file("flipped", 0, 0, ".log");
    int fd = open(path, O_RDWR);
    unsigned char byte;
    off_t at = (off_t)good + 100; /* inside a record of the second batch */
    cr_assert_eq(pread(fd, &byte, 1, at), 1);
    byte ^= 0x10;
    cr_assert_eq(pwrite(fd, &byte, 1, at), 1);
    close(fd);

    log = open_log();
    sl_error err;
    cr_assert_eq(sl_log_topic_open(log, "flipped", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 10);
    cr_assert_eq(file_size(path), good);
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 10);
    cr_assert_eq(n_read, 10);
    sl_log_close(log);
}

Test(log, retention_by_size_drops_oldest_segments_and_reads_continue_from_start)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "sized", (sl_topic_config){
        .partitions = 1, .segment_bytes = 1000, .retention_bytes = 3000 });
    for (int i = 0; i < 60; i++) append_values(topic, 0, i * 5, 5);
    int64_t start = sl_topic_start_offset(topic, 0);
    cr_assert_gt(start, 0, "old segments were removed at roll");
    cr_assert_eq(file_size(partition_file("sized", 0, 0, ".log")), -1);
    long long total = 0;
    for (long long base = start; base < 300; base += 5) {
        long long size = file_size(partition_file("sized", 0, base, ".log"));
        if (size > 0) total += size;
    }
    cr_assert_leq(total, 3000 + 1000, "about retention_bytes kept: %lld", total);
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 300, "reading below the start begins at it");
    cr_assert_eq(n_read, 300 - start);
    sl_log_close(log);
}

Test(log, retention_by_age_drops_segments_whose_newest_record_is_old)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "aged", (sl_topic_config){
        .partitions = 1, .segment_bytes = 500, .retention_ms = 60 * 60 * 1000 });
    /* Records from 1970 fill segments: each is expired when it rolls. */
    for (int i = 0; i < 20; i++) append_values(topic, 0, i * 5, 5);
    int64_t start = sl_topic_start_offset(topic, 0);
    cr_assert_gt(start, 0, "expired segments are removed at roll");
    cr_assert_eq(file_size(partition_file("aged", 0, 0, ".log")), -1);
    sl_log_close(log);
}

Test(log, retention_by_age_scans_timestamps_of_segments_found_on_disk)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "aged", (sl_topic_config){ .partitions = 1, .segment_bytes = 500 });
    for (int i = 0; i < 20; i++) append_values(topic, 0, i * 5, 5);
    int64_t old_end = sl_topic_end_offset(topic, 0);
    sl_record fresh[5] = { 0 };
    char values[5][32];
    for (int i = 0; i < 5; i++) {
        int len = snprintf(values[i], 32, "value-%lld", (long long)(old_end + i));
        fresh[i].raw = (sl_str){ values[i], (size_t)len };
    }
    sl_error err;
    cr_assert_eq(sl_topic_append(topic, 0, fresh, 5, NULL, &err), SL_OK);
    cr_assert_eq(sl_topic_start_offset(topic, 0), 0, "no retention configured yet");
    sl_log_close(log);

    /* An operator turns on a one-hour retention in topic.conf. */
    char path[256];
    snprintf(path, sizeof path, "%s/topics/aged/topic.conf", data_dir);
    char *text = test_read_file(path, NULL);
    char *at = strstr(text, "retention_ms=0\n");
    cr_assert_not_null(at);
    char changed[1024];
    snprintf(changed, sizeof changed, "%.*sretention_ms=3600000\n%s", (int)(at - text), text,
             at + strlen("retention_ms=0\n"));
    free(text);
    test_write_text(path, changed);

    log = open_log();
    cr_assert_eq(sl_log_topic_open(log, "aged", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_start_offset(topic, 0), 0);
    cr_assert_eq(sl_topic_enforce_retention(topic, &err), SL_OK, "%s", err.message);
    int64_t start = sl_topic_start_offset(topic, 0);
    cr_assert_gt(start, 0);
    cr_assert_leq(start, old_end, "the active segment is never removed");
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), old_end + 5);
    cr_assert_eq(n_read, old_end + 5 - start);
    sl_log_close(log);
}

Test(log, group_offsets_commit_load_overwrite_and_absence)
{
    sl_log *log = open_log();
    int64_t offsets[3] = { 7, 7, 7 };
    sl_error err;
    cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_OK);
    cr_assert_eq(offsets[0], -1);
    cr_assert_eq(offsets[2], -1);

    int64_t committed[3] = { 10, -1, 42 };
    cr_assert_eq(sl_log_group_commit(log, "readers", "t", committed, 3, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_OK);
    cr_assert_eq(offsets[0], 10);
    cr_assert_eq(offsets[1], -1);
    cr_assert_eq(offsets[2], 42);

    int64_t later[3] = { 11, 5, 43 };
    cr_assert_eq(sl_log_group_commit(log, "readers", "t", later, 3, &err), SL_OK);
    sl_log_close(log);
    log = open_log();
    cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_OK);
    cr_assert_eq(offsets[1], 5);
    cr_assert_eq(offsets[2], 43);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/groups/readers/t.offsets.tmp", data_dir);
    cr_assert_eq(file_size(tmp), -1, "no temp file left behind");

    cr_assert_eq(sl_log_group_commit(log, "writers", "t", later, 3, &err), SL_OK);
    cr_assert_eq(sl_log_group_commit(log, "others", "u", later, 3, &err), SL_OK);
    char **names = NULL;
    size_t n_names = 0;
    cr_assert_eq(sl_log_group_list(log, "t", &names, &n_names, &err), SL_OK);
    cr_assert_eq(n_names, 2);
    cr_assert_str_eq(names[0], "readers");
    cr_assert_str_eq(names[1], "writers");
    sl_log_names_free(names, n_names);

    cr_assert_eq(sl_log_group_commit(log, "../evil", "t", later, 3, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "../evil"), "%s", err.message);

    /* A damaged offsets file is an error naming the file and line. */
    char path[256];
    snprintf(path, sizeof path, "%s/groups/readers/t.offsets", data_dir);
    test_write_text(path, "0 10\nnonsense\n");
    cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "t.offsets:2"), "%s", err.message);
    /* Numbers that do not fit are refused, not clamped or wrapped (sscanf's
     * %lld was undefined there), and so are signs and stray bytes. */
    const char *const damaged[] = { "0 9223372036854775808\n", "0 99999999999999999999\n", "4294967296 1\n",
                                    "0 -1\n", "0 +1\n", "0 1 2\n", "0  1\n" };
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        test_write_text(path, damaged[i]);
        cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_ECORRUPT, "%s", damaged[i]);
    }
    test_write_text(path, "2 9223372036854775807\n");
    cr_assert_eq(sl_log_group_load(log, "readers", "t", offsets, 3, &err), SL_OK, "%s", err.message);
    cr_assert_eq(offsets[2], INT64_MAX);
    sl_log_close(log);
}

Test(log, second_open_of_a_locked_data_dir_names_the_owner_pid)
{
    sl_log *log = open_log();
    sl_log *second = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(data_dir, &second, &err), SL_ELOCKED);
    cr_assert_null(second);
    char expected[64];
    snprintf(expected, sizeof expected, "in use by process %ld", (long)getpid());
    cr_assert(strstr(err.message, expected), "%s", err.message);
    cr_assert(strstr(err.message, data_dir), "%s", err.message);
    sl_log_close(log);
    /* Once closed, the lock is free again. */
    log = open_log();
    sl_log_close(log);
}

Test(log, topics_create_idempotently_list_reject_mismatches_and_delete)
{
    sl_log *log = open_log();
    sl_error err;
    sl_topic *a = create_topic(log, "alpha", (sl_topic_config){ .partitions = 3 });
    sl_topic *again = create_topic(log, "alpha", (sl_topic_config){ .partitions = 3 });
    cr_assert_eq(a, again);
    cr_assert_str_eq(sl_topic_name(a), "alpha");
    cr_assert_eq(sl_topic_partitions(a), 3);
    sl_topic *any = create_topic(log, "alpha", (sl_topic_config){ .partitions = 0 });
    cr_assert_eq(sl_topic_partitions(any), 3, "the stored count wins");

    sl_topic *other = NULL;
    cr_assert_eq(sl_log_topic_create(log, "alpha", &(sl_topic_config){ .partitions = 5 }, &other, &err), SL_EEXIST);
    cr_assert(strstr(err.message, "3") && strstr(err.message, "5"), "%s", err.message);
    cr_assert_eq(sl_log_topic_create(log, "new", &(sl_topic_config){ .partitions = 0 }, &other, &err), SL_EINVAL);

    static const char *bad_names[] = { "", ".", "..", "a/b", "sp ace", "dollar$" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        cr_assert_eq(sl_log_topic_create(log, bad_names[i], &(sl_topic_config){ .partitions = 1 }, &other, &err),
                     SL_EINVAL, "name '%s'", bad_names[i]);
        if (bad_names[i][0]) cr_assert(strstr(err.message, bad_names[i]), "%s", err.message);
    }
    char long_name[202];
    memset(long_name, 'x', 201);
    long_name[201] = '\0';
    cr_assert_eq(sl_log_topic_create(log, long_name, &(sl_topic_config){ .partitions = 1 }, &other, &err), SL_EINVAL);
    long_name[200] = '\0';
    create_topic(log, long_name, (sl_topic_config){ .partitions = 1 });

    create_topic(log, "beta.v1_x-y", (sl_topic_config){ .partitions = 1 });
    cr_assert_eq(sl_log_topic_open(log, "missing", &other, &err), SL_ENOTFOUND);

    sl_log_close(log);
    log = open_log();
    char **names = NULL;
    size_t n_names = 0;
    cr_assert_eq(sl_log_topic_list(log, &names, &n_names, &err), SL_OK);
    cr_assert_eq(n_names, 3);
    cr_assert_str_eq(names[0], "alpha");
    cr_assert_str_eq(names[1], "beta.v1_x-y");
    cr_assert_str_eq(names[2], long_name);
    sl_log_names_free(names, n_names);
    cr_assert_eq(sl_log_topic_open(log, "alpha", &a, &err), SL_OK);
    cr_assert_eq(sl_topic_partitions(a), 3);
    append_values(a, 2, 0, 3);
    int64_t offsets[3] = { 1, 2, 3 };
    cr_assert_eq(sl_log_group_commit(log, "g", "alpha", offsets, 3, &err), SL_OK);

    cr_assert_eq(sl_log_topic_delete(log, "alpha", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_log_topic_open(log, "alpha", &other, &err), SL_ENOTFOUND);
    cr_assert_eq(sl_log_topic_delete(log, "alpha", &err), SL_ENOTFOUND);
    char path[256];
    snprintf(path, sizeof path, "%s/topics/alpha", data_dir);
    cr_assert_eq(file_size(path), -1, "the topic's files are gone");
    cr_assert_eq(sl_log_group_load(log, "g", "alpha", offsets, 3, &err), SL_OK);
    cr_assert_eq(offsets[0], -1, "a deleted topic's group offsets go with it");
    cr_assert_eq(sl_log_topic_list(log, &names, &n_names, &err), SL_OK);
    cr_assert_eq(n_names, 2);
    sl_log_names_free(names, n_names);
    /* Recreated, it starts empty. */
    a = create_topic(log, "alpha", (sl_topic_config){ .partitions = 1 });
    cr_assert_eq(sl_topic_end_offset(a, 0), 0);
    sl_log_close(log);
}

Test(log, murmur2_matches_kafka_known_values)
{
    static const struct {
        const char *text;
        int32_t hash;
    } cases[] = {
        { "", 275646681 },
        { "21", -973932308 },
        { "foobar", -790332482 },
        { "a-little-bit-long-string", -985981536 },
        { "a-little-bit-longer-string", -1486304829 },
        { "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
        { "abc", 479470107 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(sl_log_murmur2(cases[i].text, strlen(cases[i].text)), cases[i].hash, "'%s'",
                     cases[i].text);
    /* toPositive(murmur2) % n, as Kafka's default partitioner picks. */
    cr_assert_eq(sl_log_partition_for_key(SL_STR_LIT("foobar"), 3),
                 (int32_t)(((uint32_t)-790332482 & 0x7fffffffu) % 3));
    cr_assert_eq(sl_log_partition_for_key(SL_STR_LIT("21"), 7),
                 (int32_t)(((uint32_t)-973932308 & 0x7fffffffu) % 7));
    cr_assert_eq(sl_log_partition_for_key(SL_STR_LIT("abc"), 1), 0);
    /* The empty key is hashed like any other: Kafka puts it on 1 of 4, 3 of 6. */
    cr_assert_eq(sl_log_partition_for_key(SL_STR_LIT(""), 4), 1);
    cr_assert_eq(sl_log_partition_for_key(SL_STR_LIT(""), 6), 3);
}

Test(log, an_empty_key_round_trips_as_empty_and_a_missing_one_as_null)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "keys", (sl_topic_config){ .partitions = 1 });
    sl_record records[2] = { { .raw = SL_STR_LIT("empty"), .key = SL_STR_LIT("") },
                             { .raw = SL_STR_LIT("none") } };
    sl_error err = { 0 };
    cr_assert_eq(sl_topic_append(topic, 0, records, 2, NULL, &err), SL_OK, "%s", err.message);
    sl_batch *batch = sl_batch_new(10);
    int64_t next = -1;
    cr_assert_eq(sl_topic_read(topic, 0, 0, 1 << 20, batch, &next, &err), SL_OK, "%s", err.message);
    cr_assert_eq(batch->n_records, 2);
    cr_assert_not_null(batch->records[0].key.ptr, "the empty key came back as null");
    cr_assert_eq(batch->records[0].key.len, 0);
    cr_assert_null(batch->records[1].key.ptr);
    sl_batch_free(batch);
    sl_log_close(log);
}

/* ---- fault injection ---- */

static int fault_mode;          /* 0 none, 1 ENOSPC, 2 short write, 3 short write + truncate fails */
static int n_fsyncs;

static bool is_segment(int fd)
{
    char link[64], target[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 4) return false;
    target[n] = '\0';
    return strcmp(target + n - 4, ".log") == 0;
}

static ssize_t faulty_pwrite(int fd, const void *bytes, size_t len, off_t offset)
{
    if (fault_mode && is_segment(fd)) {
        if (fault_mode == 1) {
            errno = ENOSPC;
            return -1;
        }
        return sl_log_fs_default()->pwrite(fd, bytes, len / 2, offset);
    }
    return sl_log_fs_default()->pwrite(fd, bytes, len, offset);
}

static int faulty_ftruncate(int fd, off_t len)
{
    if (fault_mode == 3 && is_segment(fd)) {
        errno = EIO;
        return -1;
    }
    return sl_log_fs_default()->ftruncate(fd, len);
}

static int counting_fsync(int fd)
{
    n_fsyncs++;
    return sl_log_fs_default()->fsync(fd);
}

static sl_log_fs faulty_fs(void)
{
    sl_log_fs fs = *sl_log_fs_default();
    fs.pwrite = faulty_pwrite;
    fs.ftruncate = faulty_ftruncate;
    fs.fsync = counting_fsync;
    return fs;
}

static void check_append_fails_then_recovers(int mode)
{
    static sl_log_fs fs;
    fs = faulty_fs();
    sl_log_fs_set(&fs);
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "faulty", (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 0, 10);
    long long good = file_size(partition_file("faulty", 0, 0, ".log"));

    fault_mode = mode;
    sl_record record = { .raw = SL_STR_LIT("lost") };
    sl_error err = { 0 };
    cr_assert_eq(sl_topic_append(topic, 0, &record, 1, NULL, &err), SL_EIO);
    cr_assert(strstr(err.message, "00000000000000000000.log"), "names the file: %s", err.message);
    cr_assert(strstr(err.message, "space"), "says why: %s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 10, "nothing was appended");
    if (mode != 3) cr_assert_eq(file_size(partition_file("faulty", 0, 0, ".log")), good);

    /* The crash: close without healing, then reopen with a working disk. */
    fault_mode = 0;
    sl_log_close(log);
    sl_log_fs_set(NULL);
    log = open_log();
    cr_assert_eq(sl_log_topic_open(log, "faulty", &topic, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 10);
    cr_assert_eq(file_size(partition_file("faulty", 0, 0, ".log")), good);
    cr_assert_eq(append_values(topic, 0, 10, 5), 10);
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 15);
    cr_assert_eq(n_read, 15);
    sl_log_close(log);
}

Test(log, enospc_during_append_is_an_io_error_and_a_reopen_recovers)
{
    check_append_fails_then_recovers(1);
}

Test(log, short_write_during_append_is_an_io_error_and_a_reopen_recovers)
{
    check_append_fails_then_recovers(2);
}

Test(log, torn_write_left_by_a_failed_truncate_is_recovered_on_reopen)
{
    check_append_fails_then_recovers(3);
}

Test(log, append_after_a_failed_write_continues_cleanly_in_the_same_process)
{
    static sl_log_fs fs;
    fs = faulty_fs();
    sl_log_fs_set(&fs);
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "heal", (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 0, 3);
    fault_mode = 3;
    sl_record record = { .raw = SL_STR_LIT("lost") };
    sl_error err;
    cr_assert_eq(sl_topic_append(topic, 0, &record, 1, NULL, &err), SL_EIO);
    fault_mode = 0;
    cr_assert_eq(append_values(topic, 0, 3, 3), 3);
    int64_t n_read = 0;
    cr_assert_eq(read_all_checked(topic, 0, 0, &n_read), 6);
    cr_assert_eq(n_read, 6);
    sl_log_close(log);
}

Test(log, fsync_policy_always_syncs_each_append_and_never_does_not)
{
    static sl_log_fs fs;
    fs = faulty_fs();
    sl_log_fs_set(&fs);
    sl_log *log = open_log();
    sl_topic *always = create_topic(log, "always", (sl_topic_config){ .partitions = 1, .fsync = SL_FSYNC_ALWAYS });
    sl_topic *never = create_topic(log, "never", (sl_topic_config){ .partitions = 1, .fsync = SL_FSYNC_NEVER });
    sl_topic *interval = create_topic(log, "interval", (sl_topic_config){ .partitions = 1, .fsync_interval_ms = 100000 });
    n_fsyncs = 0;
    for (int i = 0; i < 5; i++) append_values(always, 0, i, 1);
    cr_assert_geq(n_fsyncs, 5);
    n_fsyncs = 0;
    for (int i = 0; i < 5; i++) append_values(never, 0, i, 1);
    cr_assert_eq(n_fsyncs, 0);
    for (int i = 0; i < 5; i++) append_values(interval, 0, i, 1);
    cr_assert_eq(n_fsyncs, 0, "within the interval nothing is synced");
    sl_error err;
    cr_assert_eq(sl_topic_flush(interval, &err), SL_OK);
    cr_assert_gt(n_fsyncs, 0, "flush syncs");
    sl_log_close(log);
}

/* ---- concurrency and speed ---- */

typedef struct reader_args {
    sl_topic *topic;
    int64_t target;
    int64_t n_read;
} reader_args;

static void *reader_thread(void *arg)
{
    reader_args *args = arg;
    sl_batch *batch = sl_batch_new(64);
    int64_t offset = 0;
    while (offset < args->target) {
        int64_t next = offset;
        sl_batch_reset(batch);
        if (sl_topic_read(args->topic, 0, offset, 1 << 16, batch, &next, NULL) != SL_OK) break;
        for (size_t i = 0; i < batch->n_records; i++)
            if (batch->records[i].offset != offset + (int64_t)i) goto done;
        args->n_read += (int64_t)batch->n_records;
        offset = next;
    }
done:
    sl_batch_free(batch);
    return NULL;
}

Test(log, reads_run_alongside_appends_and_see_whole_batches)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "busy", (sl_topic_config){ .partitions = 1, .segment_bytes = 4096,
                                                                  .fsync = SL_FSYNC_NEVER });
    reader_args args = { .topic = topic, .target = 2000 };
    pthread_t thread;
    pthread_create(&thread, NULL, reader_thread, &args);
    for (int i = 0; i < 200; i++) append_values(topic, 0, i * 10, 10);
    pthread_join(thread, NULL);
    cr_assert_eq(args.n_read, 2000);
    sl_log_close(log);
}

static double cpu_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

Test(log, appends_and_reads_1024_records_of_1kb)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "fast", (sl_topic_config){ .partitions = 1, .fsync = SL_FSYNC_NEVER });
    char *value = malloc(1000);
    memset(value, 'v', 1000);
    sl_record *records = calloc(1024, sizeof *records);
    for (int i = 0; i < 1024; i++) {
        records[i].raw = (sl_str){ value, 1000 };
        records[i].key = SL_STR_LIT("some-key");
    }
    sl_error err;
    double best_append = 1e9, best_read = 1e9;
    sl_batch *batch = sl_batch_new(1024);
    for (int round = 0; round < 10; round++) {
        double t0 = cpu_ms();
        cr_assert_eq(sl_topic_append(topic, 0, records, 1024, NULL, &err), SL_OK);
        double t1 = cpu_ms();
        int64_t next;
        sl_batch_reset(batch);
        cr_assert_eq(sl_topic_read(topic, 0, round * 1024, 2 << 20, batch, &next, &err), SL_OK);
        double t2 = cpu_ms();
        cr_assert_eq(batch->n_records, 1024);
        if (t1 - t0 < best_append) best_append = t1 - t0;
        if (t2 - t1 < best_read) best_read = t2 - t1;
    }
    fprintf(stderr, "log: 1024 x 1 KB records: append %.3f ms CPU, read %.3f ms CPU (best of 10, with the syscalls)\n",
            best_append, best_read);
    sl_batch_free(batch);
    free(records);
    free(value);
    sl_log_close(log);
}

/* What `sluice server` does to its log from HTTP threads while pipelines
 * write: a second appender to the same partition (a produce), a reader
 * browsing it, and topic and group listings with group commits, all at once.
 * Every append gets its own offsets (dense, none twice), every record is
 * read back whole, and (under TSan, which runs this suite) nothing races. */
typedef struct http_side {
    sl_log *log;
    sl_topic *topic;
    int n_produced;
    int64_t produced_offsets[200];
    bool has_failed;
} http_side;

static void *produce_thread(void *arg)
{
    http_side *side = arg;
    for (int i = 0; i < 200; i++) {
        char value[32];
        int len = snprintf(value, sizeof value, "{\"http\":%d}", i);
        sl_record record = { .raw = { value, (size_t)len }, .key = SL_STR_LIT("k"), .timestamp_ms = 5 };
        int64_t offset = -1;
        if (sl_topic_append(side->topic, 0, &record, 1, &offset, NULL) != SL_OK) side->has_failed = true;
        side->produced_offsets[side->n_produced++] = offset;
    }
    return NULL;
}

static void *list_thread(void *arg)
{
    http_side *side = arg;
    for (int i = 0; i < 50 && !side->has_failed; i++) {
        char **names = NULL;
        size_t n = 0;
        sl_topic *topic = NULL;
        if (sl_log_topic_list(side->log, &names, &n, NULL) != SL_OK || n != 1 ||
            sl_log_topic_open(side->log, "shared", &topic, NULL) != SL_OK || topic != side->topic)
            side->has_failed = true;
        sl_log_names_free(names, n);
        char group[32];
        snprintf(group, sizeof group, "g%d", i % 5);
        int64_t offsets[1] = { i };
        if (sl_log_group_commit(side->log, group, "shared", offsets, 1, NULL) != SL_OK) side->has_failed = true;
        if (sl_log_groups(side->log, &names, &n, NULL) != SL_OK || n < 1) side->has_failed = true;
        sl_log_names_free(names, n);
        if (sl_log_group_topics(side->log, group, &names, &n, NULL) != SL_OK || n != 1) side->has_failed = true;
        sl_log_names_free(names, n);
        (void)sl_topic_bytes(side->topic, 0);
    }
    return NULL;
}

Test(log, http_threads_append_read_and_list_beside_a_writing_pipeline)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "shared", (sl_topic_config){ .partitions = 1, .segment_bytes = 8192,
                                                                    .fsync = SL_FSYNC_NEVER });
    http_side side = { .log = log, .topic = topic };
    reader_args reader = { .topic = topic, .target = 200 * 10 + 200 };
    pthread_t threads[3];
    pthread_create(&threads[0], NULL, produce_thread, &side);
    pthread_create(&threads[1], NULL, list_thread, &side);
    pthread_create(&threads[2], NULL, reader_thread, &reader);
    for (int i = 0; i < 200; i++) append_values(topic, 0, i * 10, 10);
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
    cr_assert(!side.has_failed);
    cr_assert_eq(reader.n_read, 2200, "read %lld of 2200", (long long)reader.n_read);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 2200);
    /* The produced records have offsets of their own, and hold what was produced. */
    sl_batch *batch = sl_batch_new(1);
    for (int i = 0; i < side.n_produced; i++) {
        int64_t next;
        sl_batch_reset(batch);
        cr_assert_eq(sl_topic_read(topic, 0, side.produced_offsets[i], 1 << 16, batch, &next, NULL), SL_OK);
        char value[32];
        int len = snprintf(value, sizeof value, "{\"http\":%d}", i);
        cr_assert_eq(batch->records[0].offset, side.produced_offsets[i]);
        cr_assert(batch->records[0].raw.len == (size_t)len && memcmp(batch->records[0].raw.ptr, value, (size_t)len) == 0);
        if (i > 0) cr_assert_gt(side.produced_offsets[i], side.produced_offsets[i - 1]);
    }
    sl_batch_free(batch);
    char **names = NULL;
    size_t n = 0;
    cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(names[0], "g0");
    cr_assert_str_eq(names[4], "g4");
    sl_log_names_free(names, n);
    sl_log_close(log);
}

Test(log, group_listings_see_groups_made_after_a_kept_listing)
{
    sl_log *log = open_log();
    create_topic(log, "t", (sl_topic_config){ .partitions = 1 });
    int64_t offsets[1] = { 3 };
    char **names = NULL;
    size_t n = 0;
    char path[128];
    for (int i = 0; i < 3; i++) {
        char group[16];
        snprintf(group, sizeof group, "grp-%d", i);
        cr_assert_eq(sl_log_group_commit(log, group, "t", offsets, 1, NULL), SL_OK);
        cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);
        cr_assert_eq(n, (size_t)i + 1, "after %d commits: %zu groups", i + 1, n);
        sl_log_names_free(names, n);
    }
    /* A listing kept (groups/ last changed long ago) is dropped when a group is made. */
    snprintf(path, sizeof path, "%s/groups", data_dir);
    struct timespec long_ago[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
    cr_assert_eq(utimensat(AT_FDCWD, path, long_ago, 0), 0);
    cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 3);
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);   /* from the kept listing */
    cr_assert_eq(n, 3);
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_group_commit(log, "grp-new", "t", offsets, 1, NULL), SL_OK);
    cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(names[3], "grp-new");
    sl_log_names_free(names, n);
    /* Pages of the kept listing: after a name, with a prefix, at most max. */
    cr_assert_eq(sl_log_groups_page(log, "grp-0", "grp-", 2, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "grp-1");
    cr_assert_str_eq(names[1], "grp-2");
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_groups_page(log, NULL, "grp-n", 10, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(names[0], "grp-new");
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_groups_page(log, "grp-new", NULL, 10, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 0);
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_groups_page(log, "a", "zzz", 10, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 0);
    sl_log_names_free(names, n);
    /* A directory that is not a group's, and a file, are not groups. */
    snprintf(path, sizeof path, "%s/groups/bad name", data_dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/groups/stray-file", data_dir);
    test_write_text(path, "x");
    cr_assert_eq(sl_log_groups(log, &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 4);
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_group_topics(log, "grp-1", &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(names[0], "t");
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_group_topics(log, "nobody", &names, &n, NULL), SL_OK);
    cr_assert_eq(n, 0);
    sl_log_names_free(names, n);
    cr_assert_eq(sl_log_group_topics(log, "..", &names, &n, NULL), SL_EINVAL);
    sl_log_close(log);
}

/* A search by time skips sealed segments whose newest record is older, and
 * finds what a scan of every record finds, timestamps going back included. */
Test(log, offset_for_time_across_segments_matches_a_full_scan)
{
    sl_log *log = open_log();
    sl_topic *topic = create_topic(log, "timed", (sl_topic_config){ .partitions = 1, .segment_bytes = 2048 });
    int64_t times[600];
    uint64_t seed = 7;
    for (int i = 0; i < 600; i++) {
        times[i] = 1000 + i * 10 - (int64_t)(test_xorshift64(&seed) % 40);   /* mostly rising, sometimes back */
        char value[32];
        int len = snprintf(value, sizeof value, "{\"i\":%d}", i);
        sl_record record = { .raw = { value, (size_t)len }, .timestamp_ms = times[i] };
        cr_assert_eq(sl_topic_append(topic, 0, &record, 1, NULL, NULL), SL_OK);
    }
    sl_batch *batch = sl_batch_new(256);
    for (int64_t ms = 900; ms <= 7100; ms += 97) {
        int64_t expected = -1;
        for (int i = 0; i < 600 && expected < 0; i++)
            if (times[i] >= ms) expected = i;
        int64_t found = -2, scanned = 0;
        sl_error err;
        cr_assert_eq(sl_topic_offset_for_time(topic, 0, 0, ms, batch, &found, &scanned, &err), SL_OK, "%s", err.message);
        cr_assert_eq(found, expected, "ms %lld: found %lld, a scan finds %lld", (long long)ms, (long long)found,
                     (long long)expected);
    }
    sl_batch_free(batch);
    sl_log_close(log);
}
