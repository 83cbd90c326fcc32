/* segment.c — one segment file and its sparse index (see segment.h).
 *
 * Invariants: `size` covers whole batches only, each checked (bounds, magic,
 * CRC) when written or recovered; index entries are strictly increasing in
 * both offset and position and point at batch starts below `size`. An index
 * entry is written after its batch, so a crash can lose entries but never
 * leave one pointing past the data; the index is rebuilt from the last good
 * entry on recovery anyway. A read-only open runs the same tail scan as
 * recovery but writes nothing: what recovery would cut is, to a reader, a
 * batch not written yet.
 *
 * The index follows Kafka's OffsetIndex and LogSegment.append: an entry is
 * (last offset of a batch - segment base, file position of that batch), 4+4
 * bytes big-endian, added for a batch once more than index_interval_bytes
 * have been appended since the previous entry. A lookup takes the entry
 * with the largest offset <= the target and scans from its position.
 * Older sluice wrote the batch's base offset instead of its last: the same
 * lookup is still correct for such entries (the batch there starts at or
 * before the target), so readers accept both layouts as they are; recovery
 * of the active segment rewrites old entries in Kafka's layout, and drops
 * from the first entry that matches neither, since an index is derived data.
 */
#include "log/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/logger.h"
#include "log/fs.h"

#define INDEX_ENTRY_SIZE 8
#define SCAN_CHUNK (256 * 1024)

static char *segment_path(const char *dir, int64_t base_offset, const char *suffix)
{
    size_t len = strlen(dir) + 1 + 20 + strlen(suffix) + 1;
    char *path = malloc(len);
    if (path) snprintf(path, len, "%s/%020" PRId64 "%s", dir, base_offset, suffix);
    return path;
}

static int segment_new(const char *dir, int64_t base_offset, sl_segment **out, sl_error *err)
{
    sl_segment *segment = calloc(1, sizeof *segment);
    if (!segment) return sl_error_set(err, SL_ENOMEM, "out of memory opening segment in %s", dir);
    segment->base_offset = base_offset;
    segment->next_offset = base_offset;
    segment->max_timestamp = -1;
    segment->fd = -1;
    segment->index_fd = -1;
    segment->refs = 1;
    segment->log_path = segment_path(dir, base_offset, ".log");
    segment->index_path = segment_path(dir, base_offset, ".index");
    if (!segment->log_path || !segment->index_path) {
        sl_segment_release(segment);
        return sl_error_set(err, SL_ENOMEM, "out of memory opening segment in %s", dir);
    }
    *out = segment;
    return SL_OK;
}

void sl_segment_release(sl_segment *segment)
{
    if (!segment || --segment->refs > 0) return;
    sl_log_fs_close(segment->fd);
    sl_log_fs_close(segment->index_fd);
    free(segment->log_path);
    free(segment->index_path);
    free(segment->index);
    free(segment);
}

int sl_segment_create(const char *dir, int64_t base_offset, sl_segment **out, sl_error *err)
{
    sl_segment *segment = NULL;
    int64_t existing = 0;
    int rc = segment_new(dir, base_offset, &segment, err);
    if (rc) return rc;
    rc = sl_log_fs_open(segment->log_path, O_RDWR | O_CREAT, &segment->fd, err);
    if (rc) goto fail;
    rc = sl_log_fs_size(segment->fd, &existing, segment->log_path, err);
    if (rc) goto fail;
    if (existing > 0) {
        rc = sl_error_set(err, SL_EEXIST, "segment %s already holds %" PRId64 " bytes",
                          segment->log_path, existing);
        goto fail;
    }
    rc = sl_log_fs_open(segment->index_path, O_RDWR | O_CREAT | O_TRUNC, &segment->index_fd, err);
    if (rc) goto fail;
    segment->has_max_timestamp = true;
    segment->is_index_loaded = true;
    *out = segment;
    return SL_OK;
fail:
    sl_segment_release(segment);
    return rc;
}

int sl_segment_load(const char *dir, int64_t base_offset, sl_segment **out, sl_error *err)
{
    sl_segment *segment = NULL;
    int rc = segment_new(dir, base_offset, &segment, err);
    if (rc) return rc;
    struct stat st;
    if (stat(segment->log_path, &st) < 0) {
        rc = sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "cannot stat %s: %s",
                          segment->log_path, strerror(errno));
        sl_segment_release(segment);
        return rc;
    }
    segment->size = (int64_t)st.st_size;
    *out = segment;
    return SL_OK;
}

int sl_segment_ensure_open(sl_segment *segment, sl_error *err)
{
    if (segment->fd >= 0) return SL_OK;
    return sl_log_fs_open(segment->log_path, O_RDONLY, &segment->fd, err);
}

static int index_push(sl_segment *segment, int32_t relative_offset, int32_t position)
{
    if (segment->n_index == segment->index_capacity) {
        size_t capacity = segment->index_capacity ? 2 * segment->index_capacity : 64;
        sl_index_entry *grown = realloc(segment->index, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        segment->index = grown;
        segment->index_capacity = capacity;
    }
    segment->index[segment->n_index++] = (sl_index_entry){ relative_offset, position };
    return SL_OK;
}

static void index_entry_encode(const sl_index_entry *entry, uint8_t out[INDEX_ENTRY_SIZE])
{
    uint32_t rel = (uint32_t)entry->relative_offset, pos = (uint32_t)entry->position;
    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)(rel >> (24 - 8 * i));
        out[4 + i] = (uint8_t)(pos >> (24 - 8 * i));
    }
}

/* Reads the index file of fd and keeps its longest plausible prefix:
 * increasing entries pointing inside the data. */
static int index_read(sl_segment *segment, int fd, sl_error *err)
{
    int64_t file_size = 0;
    uint8_t *bytes = NULL;
    size_t got = 0;
    segment->n_index = 0;
    int rc = sl_log_fs_size(fd, &file_size, segment->index_path, err);
    if (rc) return rc;
    size_t n_entries = (size_t)file_size / INDEX_ENTRY_SIZE;
    if (n_entries == 0) return SL_OK;
    bytes = malloc(n_entries * INDEX_ENTRY_SIZE);
    if (!bytes) return sl_error_set(err, SL_ENOMEM, "out of memory reading %s", segment->index_path);
    rc = sl_log_fs_pread_full(fd, bytes, n_entries * INDEX_ENTRY_SIZE, 0, &got, segment->index_path, err);
    if (rc) goto done;
    n_entries = got / INDEX_ENTRY_SIZE;
    int32_t last_rel = 0, last_pos = 0;
    for (size_t i = 0; i < n_entries; i++) {
        const uint8_t *e = bytes + i * INDEX_ENTRY_SIZE;
        int32_t rel = (int32_t)((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3]);
        int32_t pos = (int32_t)((uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7]);
        if (rel <= last_rel || pos <= last_pos || pos >= segment->size) break;
        if (index_push(segment, rel, pos)) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory reading %s", segment->index_path);
            goto done;
        }
        last_rel = rel;
        last_pos = pos;
    }
done:
    free(bytes);
    return rc;
}

int sl_segment_ensure_index(sl_segment *segment, sl_error *err)
{
    if (segment->is_index_loaded) return SL_OK;
    int fd = -1;
    int rc = sl_log_fs_open(segment->index_path, O_RDONLY, &fd, err);
    if (rc == SL_ENOTFOUND) {
        rc = SL_OK; /* no index: reads scan from the segment start */
    } else if (rc == SL_OK) {
        rc = index_read(segment, fd, err);
        sl_log_fs_close(fd);
    }
    if (rc == SL_OK) segment->is_index_loaded = true;
    return rc;
}

int64_t sl_segment_lookup(const sl_segment *segment, int64_t offset)
{
    int64_t relative = offset - segment->base_offset;
    size_t low = 0, high = segment->n_index; /* first entry with rel > relative */
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (segment->index[mid].relative_offset <= relative) low = mid + 1;
        else high = mid;
    }
    return low == 0 ? 0 : segment->index[low - 1].position;
}

/* Rewrites the whole index file from memory (small: 8 bytes per entry). */
static int index_rewrite(sl_segment *segment, sl_error *err)
{
    size_t len = segment->n_index * INDEX_ENTRY_SIZE;
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) return sl_error_set(err, SL_ENOMEM, "out of memory writing %s", segment->index_path);
    for (size_t i = 0; i < segment->n_index; i++)
        index_entry_encode(&segment->index[i], bytes + i * INDEX_ENTRY_SIZE);
    int rc = sl_log_fs_truncate(segment->index_fd, (int64_t)len, segment->index_path, err);
    if (rc == SL_OK && len) rc = sl_log_fs_pwrite_all(segment->index_fd, bytes, len, 0, segment->index_path, err);
    free(bytes);
    return rc;
}

/* Checks every index entry against the batch header at its position: kept
 * when it names the batch's last offset, rewritten when it names its base
 * offset (the older layout), and the index cut at the first that does neither
 * or does not point at a batch. */
static int index_verify(sl_segment *segment, sl_error *err)
{
    size_t kept = 0;
    for (; kept < segment->n_index; kept++) {
        sl_index_entry *entry = &segment->index[kept];
        uint8_t bytes[SL_RECORD_BATCH_HEADER_SIZE];
        size_t got = 0, need = 0;
        const char *why = NULL;
        sl_record_batch_header header;
        int rc = sl_log_fs_pread_full(segment->fd, bytes, sizeof bytes, entry->position, &got,
                                      segment->log_path, err);
        if (rc) return rc;
        if (got < sizeof bytes) break;
        rc = sl_record_batch_check(bytes, sizeof bytes, false, NULL, &need, &why);
        if (rc != SL_OK && rc != SL_EAGAIN) break;
        sl_record_batch_header_read(bytes, &header);
        /* The header is read from disk and only partly checked (its batch
         * may be cut short): compare before subtracting, so that no value
         * in it can overflow the arithmetic. */
        if (header.base_offset < segment->base_offset || header.last_offset_delta < 0) break;
        int64_t base = header.base_offset - segment->base_offset;
        if (base > INT32_MAX) break;
        int64_t last = base + header.last_offset_delta;
        if (last > INT32_MAX) break;
        if (entry->relative_offset != last && entry->relative_offset != base) break;
        entry->relative_offset = (int32_t)last;
        if (kept > 0 && entry->relative_offset <= segment->index[kept - 1].relative_offset) break;
    }
    segment->n_index = kept;
    return SL_OK;
}

/* Where a tail scan starts: the position of the last index entry whose
 * batch checks out (later entries are dropped) and that batch's base
 * offset, else the segment's first byte and base offset. */
static int scan_start(sl_segment *segment, int64_t file_size, int64_t *start, int64_t *expected,
                      sl_error *err)
{
    sl_segment_reader reader = { 0 };
    *start = 0;
    *expected = segment->base_offset;
    while (segment->n_index > 0) {
        const sl_index_entry *entry = &segment->index[segment->n_index - 1];
        const uint8_t *batch;
        size_t size;
        sl_record_batch_header header;
        const char *why = NULL;
        sl_segment_reader_init(&reader, segment, entry->position, file_size, SCAN_CHUNK);
        int rc = sl_segment_reader_next(&reader, true, &batch, &size, &header, &why, err);
        sl_segment_reader_free(&reader);
        if (rc == SL_EIO || rc == SL_ENOMEM) return rc;
        if (rc == 1 && header.base_offset + header.last_offset_delta ==
                           segment->base_offset + entry->relative_offset) {
            *start = entry->position;
            *expected = header.base_offset;
            break;
        }
        segment->n_index--;
    }
    segment->has_max_timestamp = *start == 0;
    segment->max_timestamp = -1;
    segment->bytes_since_index = 0;
    return SL_OK;
}

/* Validates the batches from position start (whose base offset must be
 * expected) up to file_size, adding index entries as an append would, and
 * stops at the first bad or incomplete one: size and next_offset end up at
 * the end of the good batches, and *why says what stopped the scan short of
 * file_size. */
static int scan_batches(sl_segment *segment, int64_t start, int64_t expected, int64_t file_size,
                        int64_t index_interval, const char **why, sl_error *err)
{
    sl_segment_reader reader;
    int64_t good_end = start;
    int rc = SL_OK;
    *why = "incomplete batch";
    sl_segment_reader_init(&reader, segment, start, file_size, SCAN_CHUNK);
    for (;;) {
        const uint8_t *batch;
        size_t size;
        sl_record_batch_header header;
        int64_t position = reader.position;
        rc = sl_segment_reader_next(&reader, true, &batch, &size, &header, why, err);
        if (rc == SL_EIO || rc == SL_ENOMEM) goto done;
        bool is_batch = rc == 1;
        rc = SL_OK;
        if (!is_batch) break; /* the limit, or no whole valid batch here */
        if (header.base_offset != expected) {
            *why = "batch offset out of sequence";
            break;
        }
        if (segment->bytes_since_index > index_interval) {
            int64_t last = header.base_offset + header.last_offset_delta - segment->base_offset;
            if (index_push(segment, (int32_t)last, (int32_t)position)) {
                rc = sl_error_set(err, SL_ENOMEM, "out of memory indexing %s", segment->log_path);
                goto done;
            }
            segment->bytes_since_index = 0;
        }
        segment->bytes_since_index += (int64_t)size;
        if (header.max_timestamp > segment->max_timestamp) segment->max_timestamp = header.max_timestamp;
        expected = header.base_offset + header.last_offset_delta + 1;
        good_end = reader.position;
    }
    segment->next_offset = expected;
    segment->size = good_end;
done:
    sl_segment_reader_free(&reader);
    return rc;
}

/* Loads the index in fd (the writer's own, or one opened read-only) and
 * keeps the entries that check out against their batches. */
static int index_load_verified(sl_segment *segment, int fd, sl_error *err)
{
    int rc = index_read(segment, fd, err);
    if (rc == SL_OK) rc = index_verify(segment, err);
    if (rc == SL_OK) segment->is_index_loaded = true;
    return rc;
}

int sl_segment_recover(sl_segment *segment, const char *topic, int32_t partition,
                       int64_t index_interval, sl_error *err)
{
    int64_t file_size = 0, start = 0, expected = 0;
    const char *why = NULL;
    int rc = sl_log_fs_open(segment->log_path, O_RDWR, &segment->fd, err);
    if (rc == SL_OK) rc = sl_log_fs_size(segment->fd, &file_size, segment->log_path, err);
    if (rc) return rc;
    segment->size = file_size;
    rc = sl_log_fs_open(segment->index_path, O_RDWR | O_CREAT, &segment->index_fd, err);
    if (rc == SL_OK) rc = index_load_verified(segment, segment->index_fd, err);
    if (rc == SL_OK) rc = scan_start(segment, file_size, &start, &expected, err);
    if (rc == SL_OK) rc = scan_batches(segment, start, expected, file_size, index_interval, &why, err);
    if (rc) return rc;
    if (segment->size < file_size) {
        sl_warn("log",
                "topic %s partition %d: truncated %lld bytes of torn/corrupt tail at offset %lld "
                "(%s at position %lld of %s)",
                topic, (int)partition, (long long)(file_size - segment->size),
                (long long)segment->next_offset, why, (long long)segment->size, segment->log_path);
        rc = sl_log_fs_truncate(segment->fd, segment->size, segment->log_path, err);
        if (rc) return rc;
    }
    return index_rewrite(segment, err);
}

int sl_segment_open_tail(sl_segment *segment, int64_t index_interval, sl_error *err)
{
    int64_t file_size = 0, start = 0, expected = 0;
    const char *why = NULL;
    int index_fd = -1;
    int rc = sl_segment_ensure_open(segment, err);
    if (rc == SL_OK) rc = sl_log_fs_size(segment->fd, &file_size, segment->log_path, err);
    if (rc) return rc;
    segment->size = file_size;
    /* The index is only a hint here: missing, stale or cut short, it costs
     * a longer scan, never an error. */
    rc = sl_log_fs_open(segment->index_path, O_RDONLY, &index_fd, err);
    if (rc == SL_OK) {
        rc = index_load_verified(segment, index_fd, err);
        sl_log_fs_close(index_fd);
    } else if (rc == SL_ENOTFOUND) {
        segment->n_index = 0;
        segment->is_index_loaded = true;
        rc = SL_OK;
    }
    if (rc == SL_OK) rc = scan_start(segment, file_size, &start, &expected, err);
    if (rc == SL_OK) rc = scan_batches(segment, start, expected, file_size, index_interval, &why, err);
    return rc;
}

int sl_segment_catch_up(sl_segment *segment, int64_t index_interval, sl_error *err)
{
    int64_t file_size = 0;
    const char *why = NULL;
    int rc = sl_segment_ensure_open(segment, err);
    if (rc == SL_OK) rc = sl_log_fs_size(segment->fd, &file_size, segment->log_path, err);
    if (rc) return rc;
    if (file_size < segment->size)
        return sl_error_set(err, SL_ECORRUPT,
                            "%s shrank from %" PRId64 " to %" PRId64 " bytes while it was read "
                            "(deleted and created again?)",
                            segment->log_path, segment->size, file_size);
    if (file_size == segment->size) return SL_OK;
    return scan_batches(segment, segment->size, segment->next_offset, file_size, index_interval, &why, err);
}

int sl_segment_ensure_max_timestamp(sl_segment *segment, sl_error *err)
{
    if (segment->has_max_timestamp) return SL_OK;
    int rc = sl_segment_ensure_open(segment, err);
    if (rc) return rc;
    sl_segment_reader reader;
    int64_t newest = -1;
    sl_segment_reader_init(&reader, segment, 0, segment->size, SCAN_CHUNK);
    for (;;) {
        const uint8_t *batch;
        size_t size;
        sl_record_batch_header header;
        const char *why = NULL;
        rc = sl_segment_reader_next(&reader, false, &batch, &size, &header, &why, err);
        if (rc != 1) break;
        if (header.max_timestamp > newest) newest = header.max_timestamp;
    }
    sl_segment_reader_free(&reader);
    if (rc == SL_ECORRUPT || rc == SL_EAGAIN)
        return sl_error_set(err, SL_ECORRUPT, "%s: %s", segment->log_path,
                            rc == SL_EAGAIN ? "incomplete batch" : "corrupt batch");
    if (rc) return rc;
    segment->max_timestamp = newest;
    segment->has_max_timestamp = true;
    return SL_OK;
}

int sl_segment_append(sl_segment *segment, const uint8_t *bytes, size_t len,
                      const sl_record_batch_header *header, int64_t index_interval, sl_error *err)
{
    int64_t position = segment->size;
    int rc;
    if (segment->needs_truncate) {
        rc = sl_log_fs_truncate(segment->fd, position, segment->log_path, err);
        if (rc) return rc;
        segment->needs_truncate = false;
    }
    rc = sl_log_fs_pwrite_all(segment->fd, bytes, len, position, segment->log_path, err);
    if (rc) {
        /* Leave no partial batch behind; if even that fails, retry next time
         * (and recovery on open would drop it anyway). */
        if (segment->fd >= 0 && sl_log_fs_truncate(segment->fd, position, segment->log_path, NULL))
            segment->needs_truncate = true;
        return rc;
    }
    if (segment->bytes_since_index > index_interval) {
        int64_t last = header->base_offset + header->last_offset_delta - segment->base_offset;
        sl_index_entry entry = { (int32_t)last, (int32_t)position };
        if (index_push(segment, entry.relative_offset, entry.position) == SL_OK) {
            uint8_t encoded[INDEX_ENTRY_SIZE];
            index_entry_encode(&entry, encoded);
            sl_error index_err;
            /* The index is a hint rebuilt on recovery: a failed write costs a
             * longer scan later, not data, so it does not fail the append. */
            if (sl_log_fs_pwrite_all(segment->index_fd, encoded, INDEX_ENTRY_SIZE,
                                     (int64_t)(segment->n_index - 1) * INDEX_ENTRY_SIZE,
                                     segment->index_path, &index_err))
                sl_warn("log", "%s", index_err.message);
            segment->bytes_since_index = 0;
        }
    }
    segment->size = position + (int64_t)len;
    segment->bytes_since_index += (int64_t)len;
    segment->next_offset = header->base_offset + header->last_offset_delta + 1;
    if (header->max_timestamp > segment->max_timestamp) segment->max_timestamp = header->max_timestamp;
    return SL_OK;
}

int sl_segment_sync(sl_segment *segment, sl_error *err)
{
    if (segment->fd < 0) return SL_OK;
    int rc = sl_log_fs_fsync(segment->fd, segment->log_path, err);
    if (rc == SL_OK && segment->index_fd >= 0)
        rc = sl_log_fs_fsync(segment->index_fd, segment->index_path, err);
    return rc;
}

void sl_segment_seal(sl_segment *segment)
{
    sl_log_fs_close(segment->index_fd);
    segment->index_fd = -1;
}

int sl_segment_remove_files(sl_segment *segment, sl_error *err)
{
    int rc = sl_log_fs_unlink(segment->log_path, err);
    if (rc == SL_OK) rc = sl_log_fs_unlink(segment->index_path, err);
    return rc;
}

void sl_segment_reader_init(sl_segment_reader *reader, sl_segment *segment, int64_t position,
                            int64_t limit, size_t buffer_hint)
{
    memset(reader, 0, sizeof *reader);
    reader->segment = segment;
    reader->position = position;
    reader->limit = limit;
    reader->capacity = buffer_hint < SL_RECORD_BATCH_HEADER_SIZE ? 4096 : buffer_hint;
}

void sl_segment_reader_free(sl_segment_reader *reader)
{
    free(reader->buffer);
    reader->buffer = NULL;
    reader->buffer_len = 0;
}

/* Reads at least need bytes from reader->position into the buffer. */
static int reader_fill(sl_segment_reader *reader, size_t need, sl_error *err)
{
    size_t want = need > reader->capacity ? need : reader->capacity;
    int64_t left = reader->limit - reader->position;
    if ((int64_t)want > left) want = (size_t)left;
    if (!reader->buffer || want > reader->capacity) {
        size_t capacity = want > reader->capacity ? want : reader->capacity;
        uint8_t *grown = realloc(reader->buffer, capacity);
        if (!grown) return sl_error_set(err, SL_ENOMEM, "out of memory reading %s", reader->segment->log_path);
        reader->buffer = grown;
        reader->capacity = capacity;
    }
    size_t got = 0;
    int rc = sl_log_fs_pread_full(reader->segment->fd, reader->buffer, want, reader->position, &got,
                                  reader->segment->log_path, err);
    if (rc) return rc;
    reader->buffer_position = reader->position;
    reader->buffer_len = got;
    return SL_OK;
}

int sl_segment_reader_next(sl_segment_reader *reader, bool verify_crc, const uint8_t **batch,
                           size_t *size, sl_record_batch_header *header, const char **why,
                           sl_error *err)
{
    if (reader->position >= reader->limit) return 0;
    for (int attempt = 0;; attempt++) {
        const uint8_t *at = NULL;
        size_t available = 0;
        if (reader->buffer && reader->position >= reader->buffer_position &&
            reader->position < reader->buffer_position + (int64_t)reader->buffer_len) {
            at = reader->buffer + (reader->position - reader->buffer_position);
            available = reader->buffer_len - (size_t)(reader->position - reader->buffer_position);
        }
        size_t need = 0;
        int rc = at ? sl_record_batch_check(at, available, verify_crc, header, &need, why) : SL_EAGAIN;
        if (!at) need = SL_RECORD_BATCH_HEADER_SIZE;
        if (rc == SL_OK) {
            *batch = at;
            *size = need;
            reader->position += (int64_t)need;
            return 1;
        }
        if (rc != SL_EAGAIN) return rc;
        if (reader->position + (int64_t)need > reader->limit || attempt >= 2) {
            *why = "incomplete batch";
            return SL_EAGAIN;
        }
        rc = reader_fill(reader, need, err);
        if (rc) return rc;
    }
}
