/* partition.h — one partition of a topic: its ordered segments, appends to
 * the last (active) one, reads across them, rolls and retention.
 *
 * Thread safety: every function takes the partition's mutex itself. Reads
 * hold it only to find a segment and snapshot its size, then pread without
 * it, so reads run alongside appends and see only whole batches whose append
 * returned.
 *
 * A read-only partition (another process may own and write it) writes
 * nothing: it only reads segments, and catches up with the writer's appends,
 * rolls and retention whenever a read reaches the end of what it has seen.
 */
#ifndef SL_LOG_PARTITION_H
#define SL_LOG_PARTITION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"
#include "log/log.h"
#include "log/segment.h"

typedef enum sl_partition_mode {
    SL_PARTITION_OPEN = 0,      /* the writer: recovers the active segment's tail */
    SL_PARTITION_CREATE,        /* the writer, creating the directory and a first segment */
    SL_PARTITION_READ_ONLY,     /* a reader beside the writer: writes and truncates nothing */
} sl_partition_mode;

typedef struct sl_partition {
    pthread_mutex_t mutex;
    char *dir;
    const char *topic_name;         /* borrowed from the topic */
    int32_t id;
    const sl_topic_config *config;  /* borrowed from the topic; defaults resolved */
    sl_segment **segments;          /* by base offset; the last is active */
    size_t n_segments;
    size_t segments_capacity;
    int64_t total_bytes;
    int64_t last_sync_ms;           /* monotonic */
    bool has_unsynced;
    bool is_read_only;              /* opened with SL_PARTITION_READ_ONLY */
    sl_buffer encode_buffer;        /* reused for every append */
    sl_buffer compress_buffer;      /* the same batch compressed, for topics with a codec */
} sl_partition;

/* Opens the partition in dir as mode says: the writer's open loads its
 * segments and recovers the active one's tail (creating dir and a first
 * segment for SL_PARTITION_CREATE); a read-only open loads them as they are
 * and sees the active one up to its last whole, CRC-valid batch.
 * topic_name and config are borrowed and must outlive the partition. */
int sl_partition_open(const char *dir, const char *topic_name, int32_t id,
                      const sl_topic_config *config, sl_partition_mode mode, sl_partition **out,
                      sl_error *err);

/* fsyncs (unless nothing changed) and frees. Accepts NULL. */
void sl_partition_close(sl_partition *partition);

/* See sl_topic_append / sl_topic_read / sl_topic_flush in log.h. */
int sl_partition_append(sl_partition *partition, sl_record *records, size_t n,
                        int64_t *first_offset, sl_error *err);
int sl_partition_read(sl_partition *partition, int64_t offset, size_t max_bytes, sl_batch *batch,
                      int64_t *next_offset, sl_error *err);
int sl_partition_flush(sl_partition *partition, sl_error *err);

/* Deletes the oldest segments (never the active one) while the partition is
 * over retention_bytes or the segment's newest record is older than
 * retention_ms before now_ms. */
int sl_partition_enforce_retention(sl_partition *partition, int64_t now_ms, sl_error *err);

/* First and next offsets; for a read-only partition, as of its open or
 * the last read that reached the end. */
int64_t sl_partition_start_offset(sl_partition *partition);
int64_t sl_partition_end_offset(sl_partition *partition);
/* Bytes of its segments' files, summed. */
int64_t sl_partition_bytes(sl_partition *partition);

/* Where a search for the first record with a timestamp >= ms may start:
 * the base offset of the first segment whose newest record is at or past
 * ms (the segments before it hold only older records), or the end when
 * none is. A sealed segment's newest timestamp is scanned from its batch
 * headers once, then kept. */
int sl_partition_time_floor(sl_partition *partition, int64_t ms, int64_t *offset, sl_error *err);

#endif
