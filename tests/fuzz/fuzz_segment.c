/* fuzz_segment.c — libFuzzer target for opening a partition from hostile
 * files: segment listing, tail recovery with its sparse index
 * (log/segment.c), reads across segments and an append after recovery
 * (log/partition.c).
 *
 * The input is up to three parts split by the 4 bytes "\xffSEG": the active
 * segment's log, its index, and an optional sealed segment before it. The
 * active segment is named by the base offset its first 8 bytes announce (so
 * recovery keeps batches), the sealed one is 00000000000000000000.log. The
 * partition is opened (errors are fine), read from 0 to its end, read
 * again from each of the first offsets seen (through the index: each read
 * must start with that offset's record), appended to and read again:
 * offsets must only grow, the end must not move back, and the appended
 * record must come back.
 */
#include "fuzz_util.h"

#include <inttypes.h>

#include "core/batch.h"
#include "log/partition.h"

static const uint8_t separator[4] = { 0xff, 'S', 'E', 'G' };

/* Empties the scratch directory between inputs. */
static void clear_dir(const char *dir)
{
    DIR *listing = opendir(dir);
    fuzz_check(listing != NULL, "cannot list the scratch directory");
    struct dirent *entry;
    char path[512];
    while ((entry = readdir(listing)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        unlink(path);
    }
    closedir(listing);
}

static void write_part(const char *dir, int64_t base, const char *suffix, const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%020" PRId64 "%s", dir, base, suffix);
    fuzz_write_file(path, data, size);
}

#define MAX_SEEN 16

/* Reads everything from offset 0, keeping the first MAX_SEEN record
 * offsets in seen; returns the offset after the last record. */
static int64_t read_all(sl_partition *partition, sl_batch *batch, int64_t *seen, size_t *n_seen)
{
    int64_t offset = 0, end = sl_partition_end_offset(partition);
    for (int round = 0; round < 64 && offset < end; round++) {
        int64_t next = -1;
        sl_error err;
        sl_batch_reset(batch);
        if (sl_partition_read(partition, offset, 4096, batch, &next, &err) != SL_OK) break;
        for (size_t i = 0; i < batch->n_records; i++) {
            fuzz_check(batch->records[i].offset >= offset, "a read went back before its offset");
            fuzz_check(batch->records[i].offset < end, "a read returned a record past the end");
            if (*n_seen < MAX_SEEN) seen[(*n_seen)++] = batch->records[i].offset;
        }
        fuzz_check(next >= offset, "a read moved the offset back");
        if (next == offset) break;
        offset = next;
    }
    return offset;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *dir = fuzz_scratch_dir();
    const uint8_t *parts[3] = { data, NULL, NULL };
    size_t lens[3] = { size, 0, 0 };
    size_t n_parts = 1;
    for (size_t i = 0; n_parts < 3 && i + sizeof separator <= lens[n_parts - 1];) {
        const uint8_t *part = parts[n_parts - 1];
        if (memcmp(part + i, separator, sizeof separator) == 0) {
            parts[n_parts] = part + i + sizeof separator;
            lens[n_parts] = lens[n_parts - 1] - i - sizeof separator;
            lens[n_parts - 1] = i;
            n_parts++;
            i = 0;
        } else {
            i++;
        }
    }
    int64_t base = 0;
    if (lens[0] >= 8) {
        for (int i = 0; i < 8; i++) base = (int64_t)((uint64_t)base << 8 | parts[0][i]);
        if (base < 0) base = 0;
    }
    clear_dir(dir);
    write_part(dir, base, ".log", parts[0], lens[0]);
    if (n_parts > 1) write_part(dir, base, ".index", parts[1], lens[1]);
    if (n_parts > 2 && base > 0) write_part(dir, 0, ".log", parts[2], lens[2]);

    sl_topic_config config = { .partitions = 1, .segment_bytes = 1 << 16, .fsync = SL_FSYNC_NEVER,
                               .index_interval_bytes = 128 };
    sl_partition *partition = NULL;
    sl_error err;
    if (sl_partition_open(dir, "fuzz", 0, &config, SL_PARTITION_OPEN, &partition, &err) != SL_OK) return 0;
    sl_batch *batch = sl_batch_new(64);
    fuzz_check(batch != NULL, "out of memory");
    int64_t end = sl_partition_end_offset(partition);
    fuzz_check(end >= sl_partition_start_offset(partition), "the end is before the start");
    int64_t seen[MAX_SEEN];
    size_t n_seen = 0;
    read_all(partition, batch, seen, &n_seen);
    /* A read that starts at a record's offset (through the index) must
     * begin with that very record: the index may not make it skip any. */
    for (size_t i = 0; i < n_seen; i++) {
        int64_t next = -1;
        sl_batch_reset(batch);
        fuzz_check(sl_partition_read(partition, seen[i], 4096, batch, &next, &err) == SL_OK,
                   "a read at an offset a full read returned fails");
        fuzz_check(batch->n_records > 0 && batch->records[0].offset == seen[i],
                   "a read at an offset does not start with its record");
    }

    sl_record record = { 0 };
    record.raw = (sl_str){ "{\"fuzz\":1}", 10 };
    int64_t first = -1;
    if (sl_partition_append(partition, &record, 1, &first, &err) == SL_OK) {
        fuzz_check(first == end && sl_partition_end_offset(partition) == end + 1, "append misplaced a record");
        int64_t next = -1;
        sl_batch_reset(batch);
        fuzz_check(sl_partition_read(partition, first, 4096, batch, &next, &err) == SL_OK,
                   "the appended record cannot be read");
        fuzz_check(batch->n_records == 1 && batch->records[0].offset == first && next == first + 1,
                   "the appended record did not come back");
    }
    sl_batch_free(batch);
    sl_partition_close(partition);
    return 0;
}
