/* partition.h — one partition of a topic: its ordered segments, appends to
 * the last (active) one, reads across them, rolls and retention.
 *
 * Thread safety: every function takes the partition's mutex itself. Reads
 * hold it only to find a segment and snapshot its size, then pread without
 * it, so reads run alongside appends and see only whole batches whose append
 * returned.
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
    sl_buffer encode_buffer;        /* reused for every append */
    sl_buffer compress_buffer;      /* the same batch compressed, for topics with a codec */
} sl_partition;

/* Opens the partition in dir (creating dir and a first segment when
 * is_create), loading its segments and recovering the active one's tail.
 * topic_name and config are borrowed and must outlive the partition. */
int sl_partition_open(const char *dir, const char *topic_name, int32_t id,
                      const sl_topic_config *config, bool is_create, sl_partition **out,
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

int64_t sl_partition_start_offset(sl_partition *partition);
int64_t sl_partition_end_offset(sl_partition *partition);

#endif
