/* partition.c — the segments of one partition: open and recovery, append
 * with roll, reads across segments, retention, and the read-only view that
 * follows another process's writes (see partition.h).
 *
 * Offsets are dense: segment i holds [base_i, base_{i+1}) and the active
 * segment's next_offset is the partition's end. Only the active segment is
 * ever written or truncated; sealed segments are only read or deleted whole.
 * That is what lets a reader follow the writer without its lock: segments
 * only grow at the end, new ones appear after the last, and retention only
 * removes the oldest.
 */
#include "log/partition.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/logger.h"
#include "log/compression.h"
#include "log/fs.h"

#define READ_CHUNK_MIN (64 * 1024)
#define READ_CHUNK_MAX (4 * 1024 * 1024)
#define DEFAULT_READ_BYTES (1024 * 1024)
/* A read-only refresh races the writer's retention (a segment listed and
 * then deleted before it is opened): it starts over this many times. */
#define READ_ONLY_ATTEMPTS 3

static int compare_offsets(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Base offsets of the NNNNNNNNNNNNNNNNNNNN.log files in dir, sorted. */
static int list_segments(const char *dir, int64_t **bases, size_t *n_bases, sl_error *err)
{
    int rc = SL_OK;
    size_t n = 0, capacity = 0;
    int64_t *found = NULL;
    DIR *listing = opendir(dir);
    if (!listing)
        return sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "cannot list %s: %s", dir,
                            strerror(errno));
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        const char *name = entry->d_name;
        if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0) continue;
        if (strspn(name, "0123456789") != 20) continue;
        /* A segment's base must leave room for one record: at or past
         * INT64_MAX (strtoll clamps larger names there) no offset fits. */
        long long base = strtoll(name, NULL, 10);
        if (base >= INT64_MAX) {
            rc = sl_error_set(err, SL_ECORRUPT,
                              "segment %s/%s: base offset out of range (at most %" PRId64 ")", dir,
                              name, INT64_MAX - 1);
            break;
        }
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            int64_t *grown = realloc(found, capacity * sizeof *grown);
            if (!grown) {
                rc = sl_error_set(err, SL_ENOMEM, "out of memory listing %s", dir);
                break;
            }
            found = grown;
        }
        found[n++] = (int64_t)base;
    }
    closedir(listing);
    if (rc) {
        free(found);
        return rc;
    }
    if (n) qsort(found, n, sizeof *found, compare_offsets);
    *bases = found;
    *n_bases = n;
    return SL_OK;
}

static int push_segment(sl_partition *partition, sl_segment *segment, sl_error *err)
{
    if (partition->n_segments == partition->segments_capacity) {
        size_t capacity = partition->segments_capacity ? 2 * partition->segments_capacity : 8;
        sl_segment **grown = realloc(partition->segments, capacity * sizeof *grown);
        if (!grown) return sl_error_set(err, SL_ENOMEM, "out of memory opening %s", partition->dir);
        partition->segments = grown;
        partition->segments_capacity = capacity;
    }
    partition->segments[partition->n_segments++] = segment;
    partition->total_bytes += segment->size;
    return SL_OK;
}

static sl_segment *active_segment(const sl_partition *partition)
{
    return partition->segments[partition->n_segments - 1];
}

static int refresh_locked(sl_partition *partition, sl_error *err);

/* Read-only: the first refresh, retried while it races retention. */
static int refresh_retrying_locked(sl_partition *partition, sl_error *err)
{
    int rc = SL_OK;
    for (int attempt = 1; attempt <= READ_ONLY_ATTEMPTS; attempt++) {
        rc = refresh_locked(partition, err);
        if (rc != SL_ENOTFOUND) break;
    }
    return rc;
}

int sl_partition_open(const char *dir, const char *topic_name, int32_t id,
                      const sl_topic_config *config, sl_partition_mode mode, sl_partition **out,
                      sl_error *err)
{
    int rc = SL_ENOMEM;
    int64_t *bases = NULL;
    size_t n_bases = 0;
    sl_segment *segment = NULL;
    sl_partition *partition = calloc(1, sizeof *partition);
    if (!partition) goto fail;
    pthread_mutex_init(&partition->mutex, NULL);
    partition->topic_name = topic_name;
    partition->id = id;
    partition->config = config;
    partition->last_sync_ms = sl_clock_monotonic_ms();
    partition->dir = strdup(dir);
    if (!partition->dir) goto fail;
    if (mode == SL_PARTITION_READ_ONLY) {
        partition->is_read_only = true;
        rc = refresh_retrying_locked(partition, err);
        if (rc) goto fail;
        *out = partition;
        return SL_OK;
    }
    if (mode == SL_PARTITION_CREATE) {
        rc = sl_log_fs_mkdir(dir, err);
        if (rc) goto fail;
    }
    rc = list_segments(dir, &bases, &n_bases, err);
    if (rc) goto fail;
    for (size_t i = 0; i + 1 < n_bases; i++) {
        rc = sl_segment_load(dir, bases[i], &segment, err);
        if (rc) goto fail;
        rc = push_segment(partition, segment, err);
        if (rc) goto fail;
        segment = NULL;
    }
    if (n_bases) {
        rc = sl_segment_load(dir, bases[n_bases - 1], &segment, err);
        if (rc) goto fail;
        rc = sl_segment_recover(segment, topic_name, id, config->index_interval_bytes, err);
    } else {
        rc = sl_segment_create(dir, 0, &segment, err);
    }
    if (rc) goto fail;
    rc = push_segment(partition, segment, err);
    if (rc) goto fail;
    segment = NULL;
    free(bases);
    *out = partition;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM && err && err->code != SL_ENOMEM)
        sl_error_set(err, SL_ENOMEM, "out of memory opening %s", dir);
    sl_error_prefix(err, "topic %s partition %d: ", topic_name, (int)id);
    sl_segment_release(segment);
    free(bases);
    sl_partition_close(partition);
    return rc;
}

void sl_partition_close(sl_partition *partition)
{
    if (!partition) return;
    if (partition->has_unsynced) {
        sl_error err;
        if (sl_segment_sync(active_segment(partition), &err))
            sl_warn("log", "topic %s partition %d: %s", partition->topic_name, (int)partition->id,
                    err.message);
    }
    for (size_t i = 0; i < partition->n_segments; i++) sl_segment_release(partition->segments[i]);
    free(partition->segments);
    sl_buffer_free(&partition->encode_buffer);
    sl_buffer_free(&partition->compress_buffer);
    free(partition->dir);
    pthread_mutex_destroy(&partition->mutex);
    free(partition);
}

int64_t sl_partition_start_offset(sl_partition *partition)
{
    pthread_mutex_lock(&partition->mutex);
    int64_t start = partition->segments[0]->base_offset;
    pthread_mutex_unlock(&partition->mutex);
    return start;
}

int64_t sl_partition_bytes(sl_partition *partition)
{
    pthread_mutex_lock(&partition->mutex);
    int64_t bytes = partition->total_bytes;
    pthread_mutex_unlock(&partition->mutex);
    return bytes;
}

int sl_partition_time_floor(sl_partition *partition, int64_t ms, int64_t *offset, sl_error *err)
{
    int rc = SL_OK;
    pthread_mutex_lock(&partition->mutex);
    sl_segment *active = active_segment(partition);
    *offset = active->base_offset;
    for (size_t i = 0; i + 1 < partition->n_segments; i++) {
        sl_segment *segment = partition->segments[i];
        rc = sl_segment_ensure_max_timestamp(segment, err);
        if (rc) break;
        if (segment->max_timestamp >= ms) {
            *offset = segment->base_offset;
            break;
        }
    }
    pthread_mutex_unlock(&partition->mutex);
    return rc;
}

int64_t sl_partition_end_offset(sl_partition *partition)
{
    pthread_mutex_lock(&partition->mutex);
    int64_t end = active_segment(partition)->next_offset;
    pthread_mutex_unlock(&partition->mutex);
    return end;
}

static int retention_locked(sl_partition *partition, int64_t now_ms, sl_error *err);

/* ---- append and roll (mutex held) ---- */

static int sync_locked(sl_partition *partition, sl_error *err)
{
    int rc = sl_segment_sync(active_segment(partition), err);
    if (rc == SL_OK) {
        partition->has_unsynced = false;
        partition->last_sync_ms = sl_clock_monotonic_ms();
    }
    return rc;
}

static int roll_locked(sl_partition *partition, sl_error *err)
{
    sl_segment *old = active_segment(partition);
    sl_segment *fresh = NULL;
    bool is_durable = partition->config->fsync != SL_FSYNC_NEVER;
    int rc = SL_OK;
    if (is_durable) {
        rc = sync_locked(partition, err);
        if (rc) return rc;
    }
    rc = sl_segment_create(partition->dir, old->next_offset, &fresh, err);
    if (rc) return rc;
    rc = push_segment(partition, fresh, err);
    if (rc) {
        sl_segment_remove_files(fresh, NULL);
        sl_segment_release(fresh);
        return rc;
    }
    sl_segment_seal(old);
    if (is_durable) {
        sl_error dir_err;
        if (sl_log_fs_fsync_dir(partition->dir, &dir_err)) sl_warn("log", "%s", dir_err.message);
    }
    return SL_OK;
}

/* Replaces the records section of the encoded batch *bytes (*size bytes) by
 * its compression with the topic's codec, in compress_buffer. */
static int compress_batch(sl_partition *partition, uint8_t **bytes, size_t *size,
                          sl_record_batch_header *header, sl_error *err)
{
    sl_codec codec = partition->config->compression;
    sl_buffer *out = &partition->compress_buffer;
    const char *why = "out of memory";
    sl_buffer_clear(out);
    int rc = sl_buffer_append(out, *bytes, SL_RECORD_BATCH_HEADER_SIZE);
    if (rc == SL_OK)
        rc = sl_codec_compress(codec, *bytes + SL_RECORD_BATCH_HEADER_SIZE, *size - SL_RECORD_BATCH_HEADER_SIZE,
                               out, &why);
    if (rc == SL_OK && out->len > SL_RECORD_BATCH_MAX_SIZE) {
        rc = SL_ETOOBIG;
        why = "the compressed batch is over the size limit";
    }
    if (rc)
        return sl_error_set(err, rc, "%s compression of a batch of %zu bytes: %s", sl_codec_name(codec),
                            *size, why);
    *bytes = (uint8_t *)out->data;
    *size = out->len;
    sl_record_batch_seal(*bytes, *size, (int16_t)(header->attributes | (int16_t)codec), header);
    return SL_OK;
}

int sl_partition_append(sl_partition *partition, sl_record *records, size_t n,
                        int64_t *first_offset, sl_error *err)
{
    const sl_topic_config *config = partition->config;
    int64_t now_ms = sl_clock_wall_ms();
    int rc = SL_OK;
    if (n == 0) {
        if (first_offset) *first_offset = sl_partition_end_offset(partition);
        return SL_OK;
    }
    size_t size = n > INT32_MAX ? SIZE_MAX : sl_record_batch_encoded_size(records, n, now_ms);
    if (size > SL_RECORD_BATCH_MAX_SIZE)
        return sl_error_set(err, SL_ETOOBIG,
                            "topic %s partition %d: a batch of %zu records would take %zu bytes, "
                            "more than the %d allowed",
                            partition->topic_name, (int)partition->id, n, size,
                            SL_RECORD_BATCH_MAX_SIZE);

    pthread_mutex_lock(&partition->mutex);
    sl_segment *active = active_segment(partition);
    bool is_rolled = false;
    if (active->next_offset > INT64_MAX - (int64_t)n) {
        rc = sl_error_set(err, SL_ETOOBIG,
                          "%s: %zu records after offset %" PRId64 " would pass the largest offset %" PRId64,
                          active->log_path, n, active->next_offset, INT64_MAX);
        goto done;
    }
    rc = sl_buffer_reserve(&partition->encode_buffer, size);
    if (rc) {
        sl_error_set(err, rc, "topic %s partition %d: out of memory for a batch of %zu bytes",
                     partition->topic_name, (int)partition->id, size);
        goto done;
    }
    /* A roll keeps next_offset (the new segment starts there), so the batch
     * can be encoded, and compressed, before the roll is decided on its size. */
    sl_record_batch_header header;
    int64_t base = active->next_offset;
    uint8_t *bytes = (uint8_t *)partition->encode_buffer.data;
    sl_record_batch_encode(bytes, base, records, n, now_ms, &header);
    if (config->compression != SL_CODEC_NONE) {
        rc = compress_batch(partition, &bytes, &size, &header, err);
        if (rc) goto done;
    }
    if (active->size > 0 && (active->size + (int64_t)size > config->segment_bytes ||
                             active->next_offset - active->base_offset + (int64_t)n > INT32_MAX)) {
        rc = roll_locked(partition, err);
        if (rc) goto done;
        active = active_segment(partition);
        is_rolled = true;
    }
    rc = sl_segment_append(active, bytes, size, &header, config->index_interval_bytes, err);
    if (rc) goto done;
    partition->total_bytes += (int64_t)size;
    partition->has_unsynced = true;
    for (size_t i = 0; i < n; i++) {
        records[i].offset = base + (int64_t)i;
        records[i].partition = partition->id;
    }
    if (first_offset) *first_offset = base;
    if (config->fsync == SL_FSYNC_ALWAYS ||
        (config->fsync == SL_FSYNC_INTERVAL &&
         sl_clock_monotonic_ms() - partition->last_sync_ms >= config->fsync_interval_ms))
        rc = sync_locked(partition, err);
    if (is_rolled) {
        sl_error retention_err;
        if (retention_locked(partition, now_ms, &retention_err) != SL_OK)
            sl_warn("log", "%s", retention_err.message);
    }
done:
    pthread_mutex_unlock(&partition->mutex);
    if (rc) sl_error_prefix(err, "topic %s partition %d: ", partition->topic_name, (int)partition->id);
    return rc;
}

int sl_partition_flush(sl_partition *partition, sl_error *err)
{
    int rc = SL_OK;
    pthread_mutex_lock(&partition->mutex);
    if (partition->has_unsynced) rc = sync_locked(partition, err);
    pthread_mutex_unlock(&partition->mutex);
    return rc;
}

/* ---- retention ---- */

/* Mutex held: by append after a roll, or by sl_partition_enforce_retention. */
static int retention_locked(sl_partition *partition, int64_t now_ms, sl_error *err)
{
    const sl_topic_config *config = partition->config;
    while (partition->n_segments > 1) {
        sl_segment *oldest = partition->segments[0];
        bool is_over_size = config->retention_bytes > 0 && partition->total_bytes > config->retention_bytes;
        bool is_expired = false;
        if (!is_over_size && config->retention_ms > 0) {
            int rc = sl_segment_ensure_max_timestamp(oldest, err);
            if (rc) return rc;
            is_expired = oldest->max_timestamp < now_ms - config->retention_ms;
        }
        if (!is_over_size && !is_expired) break;
        int rc = sl_segment_remove_files(oldest, err);
        if (rc) return rc;
        sl_info("log", "topic %s partition %d: retention removed segment %s (%" PRId64 " bytes, %s)",
                partition->topic_name, (int)partition->id, oldest->log_path, oldest->size,
                is_over_size ? "over retention_bytes" : "older than retention_ms");
        partition->total_bytes -= oldest->size;
        memmove(partition->segments, partition->segments + 1,
                (partition->n_segments - 1) * sizeof *partition->segments);
        partition->n_segments--;
        sl_segment_release(oldest);
    }
    return SL_OK;
}

int sl_partition_enforce_retention(sl_partition *partition, int64_t now_ms, sl_error *err)
{
    pthread_mutex_lock(&partition->mutex);
    int rc = retention_locked(partition, now_ms, err);
    pthread_mutex_unlock(&partition->mutex);
    if (rc) sl_error_prefix(err, "topic %s partition %d: retention: ", partition->topic_name, (int)partition->id);
    return rc;
}

/* ---- the read-only view ---- */

/* Read-only, mutex held: brings the segment list in line with the
 * directory the writer keeps changing. Segments retention removed (all
 * below the oldest listed) are dropped, the last one seen takes in the
 * batches appended to it since, and segments rolled since are added, the
 * new last one scanned to its last whole batch. Nothing changes on an
 * error; SL_ENOTFOUND means a segment vanished mid-way (worth a retry). */
static int refresh_locked(sl_partition *partition, sl_error *err)
{
    int64_t *bases = NULL;
    size_t n_bases = 0;
    sl_segment **fresh = NULL;
    size_t n_fresh = 0;
    int64_t interval = partition->config->index_interval_bytes;
    int rc = list_segments(partition->dir, &bases, &n_bases, err);
    if (rc) return rc;
    if (n_bases == 0) {
        rc = sl_error_set(err, SL_ENOTFOUND, "no segments in %s (was the topic deleted?)", partition->dir);
        goto done;
    }
    size_t n_gone = 0;
    while (n_gone < partition->n_segments && partition->segments[n_gone]->base_offset < bases[0]) n_gone++;
    size_t next = 0; /* the first listed segment not in the list yet */
    if (n_gone < partition->n_segments) {
        sl_segment *last = active_segment(partition);
        int64_t size_before = last->size;
        rc = sl_segment_catch_up(last, interval, err);
        if (rc) goto done;
        partition->total_bytes += last->size - size_before;
        while (next < n_bases && bases[next] <= last->base_offset) next++;
        /* The writer rolls only after its last append to the old segment
         * returned, so that segment is whole by the time the new one shows. */
        if (next < n_bases && last->next_offset != bases[next]) {
            rc = sl_error_set(err, SL_ECORRUPT,
                              "%s ends at offset %" PRId64 " but the next segment starts at %" PRId64,
                              last->log_path, last->next_offset, bases[next]);
            goto done;
        }
    }
    if (next < n_bases) {
        fresh = calloc(n_bases - next, sizeof *fresh);
        if (!fresh) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory opening %s", partition->dir);
            goto done;
        }
    }
    for (size_t i = next; i < n_bases; i++) {
        rc = sl_segment_load(partition->dir, bases[i], &fresh[n_fresh], err);
        if (rc) goto done;
        n_fresh++;
        if (i + 1 == n_bases) rc = sl_segment_open_tail(fresh[n_fresh - 1], interval, err);
        if (rc) goto done;
    }
    if (partition->n_segments - n_gone + n_fresh > partition->segments_capacity) {
        size_t capacity = partition->n_segments - n_gone + n_fresh;
        sl_segment **grown = realloc(partition->segments, capacity * sizeof *grown);
        if (!grown) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory opening %s", partition->dir);
            goto done;
        }
        partition->segments = grown;
        partition->segments_capacity = capacity;
    }
    /* Nothing fails from here on. Readers still holding a dropped segment
     * keep its fd, and so its bytes, until they release it. */
    for (size_t i = 0; i < n_gone; i++) {
        partition->total_bytes -= partition->segments[i]->size;
        sl_segment_release(partition->segments[i]);
    }
    memmove(partition->segments, partition->segments + n_gone,
            (partition->n_segments - n_gone) * sizeof *partition->segments);
    partition->n_segments -= n_gone;
    for (size_t i = 0; i < n_fresh; i++) {
        partition->segments[partition->n_segments++] = fresh[i];
        partition->total_bytes += fresh[i]->size;
    }
    n_fresh = 0;
done:
    for (size_t i = 0; i < n_fresh; i++) sl_segment_release(fresh[i]);
    free(fresh);
    free(bases);
    return rc;
}

/* ---- reads ---- */

/* Index of the segment holding offset: the last with base <= offset. */
static size_t find_segment(const sl_partition *partition, int64_t offset)
{
    size_t low = 0, high = partition->n_segments; /* first with base > offset */
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (partition->segments[mid]->base_offset <= offset) low = mid + 1;
        else high = mid;
    }
    return low == 0 ? 0 : low - 1;
}

/* What a reader needs of one segment, taken under the mutex. */
typedef struct read_snapshot {
    sl_segment *segment;   /* referenced; release when done */
    int64_t position;
    int64_t limit;
    bool is_active;
    int64_t offset;        /* possibly moved up to the log start */
    int64_t end_offset;
    int64_t segment_end;   /* the next segment's base (the end, for the active one) */
} read_snapshot;

/* 1 with a snapshot, 0 when offset is at the end, or an error. */
static int snapshot_locked(sl_partition *partition, int64_t offset, read_snapshot *snap, sl_error *err)
{
    int64_t start = partition->segments[0]->base_offset;
    snap->offset = offset < start ? start : offset;
    snap->end_offset = active_segment(partition)->next_offset;
    if (snap->offset >= snap->end_offset) return 0;
    size_t i = find_segment(partition, snap->offset);
    sl_segment *segment = partition->segments[i];
    int rc = sl_segment_ensure_open(segment, err);
    if (rc == SL_OK) rc = sl_segment_ensure_index(segment, err);
    if (rc) return rc;
    snap->segment = segment;
    snap->position = sl_segment_lookup(segment, snap->offset);
    snap->limit = segment->size;
    snap->is_active = i == partition->n_segments - 1;
    snap->segment_end = snap->is_active ? snap->end_offset : partition->segments[i + 1]->base_offset;
    segment->refs++;
    return 1;
}

/* A read-only partition catches up with the writer when a read reaches the
 * end of what it has seen, or a segment it meant to open is gone (retention
 * removed it: the read goes on from the new start). Catching up is a
 * listing and an fstat, cheap enough to do on every such read, so that
 * followers poll with sl_topic_read and need no refresh call of their own. */
static int take_snapshot(sl_partition *partition, int64_t offset, read_snapshot *snap, sl_error *err)
{
    pthread_mutex_lock(&partition->mutex);
    int rc = snapshot_locked(partition, offset, snap, err);
    if (partition->is_read_only && (rc == 0 || rc == SL_ENOTFOUND)) {
        for (int attempt = 1; attempt <= READ_ONLY_ATTEMPTS; attempt++) {
            rc = refresh_locked(partition, err);
            if (rc == SL_OK) rc = snapshot_locked(partition, offset, snap, err);
            if (rc != SL_ENOTFOUND) break;
        }
    }
    pthread_mutex_unlock(&partition->mutex);
    return rc;
}

static void drop_snapshot(sl_partition *partition, read_snapshot *snap)
{
    if (!snap->segment) return;
    pthread_mutex_lock(&partition->mutex);
    sl_segment_release(snap->segment);
    pthread_mutex_unlock(&partition->mutex);
    snap->segment = NULL;
}

/* Copies one record into the batch arena. */
static int copy_record(sl_batch *batch, int32_t partition_id, const sl_record_view *view)
{
    size_t value_len = view->value_len > 0 ? (size_t)view->value_len : 0;
    size_t key_len = view->key_len > 0 ? (size_t)view->key_len : 0;
    char *blob = sl_arena_alloc(batch->arena, value_len + key_len + view->headers_len + 1);
    sl_header *headers = NULL;
    if (view->n_headers > 0)
        headers = sl_arena_alloc(batch->arena, (size_t)view->n_headers * sizeof *headers);
    if (!blob || (view->n_headers > 0 && !headers)) return SL_ENOMEM;
    sl_record *record = sl_batch_add(batch);
    char *at = blob;
    if (view->value_len >= 0) {
        memcpy(at, view->value, value_len);
        record->raw = (sl_str){ at, value_len };
        at += value_len;
    }
    if (view->key_len >= 0) { /* an empty key keeps a pointer: it is not null */
        memcpy(at, view->key, key_len);
        record->key = (sl_str){ at, key_len };
        at += key_len;
    }
    const uint8_t *pos = view->headers;
    const uint8_t *end = view->headers + view->headers_len;
    for (int32_t h = 0; h < view->n_headers; h++) {
        const uint8_t *key, *value;
        int32_t hk_len, hv_len;
        sl_record_header_next(&pos, end, &key, &hk_len, &value, &hv_len);
        memcpy(at, key, (size_t)hk_len);
        headers[h].key = (sl_str){ at, (size_t)hk_len };
        at += hk_len;
        if (hv_len >= 0) {
            memcpy(at, value, (size_t)hv_len);
            headers[h].value = (sl_str){ at, (size_t)hv_len };
            at += hv_len;
        } else {
            headers[h].value = (sl_str){ NULL, 0 };
        }
    }
    record->headers = headers;
    record->n_headers = (size_t)view->n_headers;
    record->timestamp_ms = view->timestamp_ms;
    record->partition = partition_id;
    record->offset = view->offset;
    record->has_value = false;
    return SL_OK;
}

/* The records section of a compressed batch, decompressed into out. Bounded
 * however the data claims to expand: a batch declares no more records than
 * its offsets span, and expands to at most the largest batch we write or
 * accept (every batch this log wrote uncompressed fits). */
static int decompress_records(sl_codec codec, const uint8_t *batch, size_t size,
                              const sl_record_batch_header *header, sl_buffer *out, const char **why)
{
    sl_buffer_clear(out);
    if ((int64_t)header->n_records > (int64_t)header->last_offset_delta + 1) {
        *why = "more records declared than the batch's offsets span";
        return SL_ECORRUPT;
    }
    *why = "out of memory decompressing"; /* the codec names any other failure */
    return sl_codec_decompress(codec, batch + SL_RECORD_BATCH_HEADER_SIZE, size - SL_RECORD_BATCH_HEADER_SIZE,
                               SL_RECORD_BATCH_MAX_SIZE, out, why);
}

/* The index is a hint read from disk. When the first batch read at the
 * position it gave (above the segment's start) does not check out, or
 * starts past the offset wanted, the read starts over from the segment's
 * first byte instead of failing or skipping the records in between.
 * Returns true when it restarted the reader. */
static bool rescan_from_start(read_snapshot *snap, sl_segment_reader *reader, int64_t position, size_t chunk)
{
    if (snap->position == 0 || position != snap->position) return false;
    sl_segment_reader_free(reader);
    snap->position = 0;
    sl_segment_reader_init(reader, snap->segment, 0, snap->limit, chunk);
    return true;
}

int sl_partition_read(sl_partition *partition, int64_t offset, size_t max_bytes, sl_batch *batch,
                      int64_t *next_offset, sl_error *err)
{
    read_snapshot snap = { 0 };
    sl_segment_reader reader = { 0 };
    sl_buffer records = SL_BUFFER_INIT; /* a compressed batch's records, decompressed */
    size_t bytes_read = 0;
    int64_t next = offset;
    if (max_bytes == 0) max_bytes = DEFAULT_READ_BYTES;
    size_t chunk = max_bytes < READ_CHUNK_MIN ? READ_CHUNK_MIN : max_bytes > READ_CHUNK_MAX ? READ_CHUNK_MAX : max_bytes;

    int rc = take_snapshot(partition, offset, &snap, err);
    if (rc <= 0) {
        if (rc == 0) *next_offset = snap.offset;
        goto done;
    }
    next = snap.offset;
    sl_segment_reader_init(&reader, snap.segment, snap.position, snap.limit, chunk);
    bool is_done = false;
    while (!is_done) {
        const uint8_t *bytes;
        size_t size;
        sl_record_batch_header header;
        const char *why = "corrupt batch";
        int64_t position = reader.position;
        rc = sl_segment_reader_next(&reader, true, &bytes, &size, &header, &why, err);
        if (rc == 0) {
            /* End of this segment as snapshotted: go on into the next one. */
            sl_segment *finished = snap.segment;
            if (snap.is_active || next >= snap.end_offset) break;
            sl_segment_reader_free(&reader);
            drop_snapshot(partition, &snap);
            rc = take_snapshot(partition, next, &snap, err);
            if (rc <= 0) break;
            if (snap.segment == finished) break; /* nothing more in sight */
            next = snap.offset;
            sl_segment_reader_init(&reader, snap.segment, snap.position, snap.limit, chunk);
            continue;
        }
        if ((rc == SL_EAGAIN || rc == SL_ECORRUPT) && rescan_from_start(&snap, &reader, position, chunk)) continue;
        if (rc < 0) {
            if (rc == SL_EAGAIN || rc == SL_ECORRUPT)
                rc = sl_error_set(err, SL_ECORRUPT, "%s at position %" PRId64 " of %s", why,
                                  position, snap.segment->log_path);
            break;
        }
        /* Sealed segments are not re-checked on open: a batch reaching into
         * the next segment's offsets would hand out records past the end. */
        if (header.base_offset + header.last_offset_delta >= snap.segment_end) {
            rc = sl_error_set(err, SL_ECORRUPT,
                              "batch offsets %" PRId64 "..%" PRId64 " reach past the segment's end %" PRId64
                              " at position %" PRId64 " of %s",
                              header.base_offset, header.base_offset + header.last_offset_delta,
                              snap.segment_end, position, snap.segment->log_path);
            break;
        }
        if (header.base_offset > next && rescan_from_start(&snap, &reader, position, chunk)) continue;
        if (header.base_offset + header.last_offset_delta < next) continue;
        if (header.attributes & SL_RECORD_BATCH_CONTROL) {
            /* Transaction markers a broker wrote: Kafka consumers never see them. */
            next = header.base_offset + header.last_offset_delta + 1;
            continue;
        }
        sl_record_cursor cursor;
        sl_record_view view;
        sl_codec codec = (sl_codec)(header.attributes & SL_CODEC_ATTRIBUTE_MASK);
        if (codec == SL_CODEC_NONE) {
            sl_record_cursor_init(&cursor, bytes, size, &header);
        } else {
            rc = decompress_records(codec, bytes, size, &header, &records, &why);
            if (rc) {
                sl_error_set(err, rc, "%s batch at offset %" PRId64 ", position %" PRId64 " of %s: %s",
                             sl_codec_name(codec), header.base_offset, position, snap.segment->log_path,
                             why);
                break;
            }
            sl_record_cursor_init_records(&cursor, (const uint8_t *)records.data, records.len, &header);
        }
        while ((rc = sl_record_cursor_next(&cursor, &view, &why)) == 1) {
            if (view.offset < next) continue;
            if (sl_batch_is_full(batch)) {
                is_done = true;
                break;
            }
            rc = copy_record(batch, partition->id, &view);
            if (rc) {
                sl_error_set(err, rc, "out of memory reading into a batch");
                break;
            }
            next = view.offset + 1;
            bytes_read += (size_t)(view.value_len > 0 ? view.value_len : 0) +
                          (size_t)(view.key_len > 0 ? view.key_len : 0) + view.headers_len;
            if (bytes_read >= max_bytes) {
                is_done = true;
                break;
            }
        }
        if (rc == 0 && !is_done && cursor.pos != cursor.end) {
            rc = SL_ECORRUPT;
            why = "bytes past the batch's declared record count";
        }
        if (rc < 0) {
            if (rc == SL_ECORRUPT)
                sl_error_set(err, rc, "%s in batch at offset %" PRId64 ", position %" PRId64 " of %s", why,
                             header.base_offset, position, snap.segment->log_path);
            break;
        }
        /* Offsets past a batch's last record (none today) still advance. */
        if (!is_done && header.base_offset + header.last_offset_delta + 1 > next)
            next = header.base_offset + header.last_offset_delta + 1;
    }
    if (rc >= 0) {
        rc = SL_OK;
        *next_offset = next;
    }
done:
    sl_buffer_free(&records);
    sl_segment_reader_free(&reader);
    drop_snapshot(partition, &snap);
    if (rc) sl_error_prefix(err, "topic %s partition %d: ", partition->topic_name, (int)partition->id);
    return rc;
}
