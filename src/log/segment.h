/* segment.h — one segment of a partition: <base>.log holding whole Kafka
 * record batches back to back, and <base>.index, its sparse index in Kafka's
 * OffsetIndex layout: (relative offset int32, file position int32) pairs, one
 * per index_interval_bytes of log, each naming the LAST offset of the batch
 * that starts at that position.
 *
 * Not thread-safe: the owning partition's mutex guards every field. The fd
 * is only used with pread/pwrite, so readers may use it outside the mutex
 * while they hold a reference (refs), which keeps the fd open even after
 * retention has unlinked the files.
 */
#ifndef SL_LOG_SEGMENT_H
#define SL_LOG_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "log/record_batch.h"

typedef struct sl_index_entry {
    int32_t relative_offset;  /* batch last offset - segment base offset */
    int32_t position;         /* byte position of the batch in the .log */
} sl_index_entry;

typedef struct sl_segment {
    int64_t base_offset;
    int64_t next_offset;       /* offset after the last batch (known for the active segment) */
    int64_t size;              /* bytes of whole, valid batches */
    int64_t max_timestamp;     /* newest record timestamp; -1 when empty */
    bool has_max_timestamp;    /* false until scanned (sealed segments found on disk) */
    int fd;                    /* -1 until opened: sealed segments open on first read */
    int index_fd;              /* open while the segment is active */
    char *log_path;
    char *index_path;
    sl_index_entry *index;
    size_t n_index;
    size_t index_capacity;
    bool is_index_loaded;
    bool needs_truncate;       /* a failed append left bytes past size that truncation missed */
    int64_t bytes_since_index;
    int refs;                  /* the partition's list holds one; each reader holds one */
} sl_segment;

/* Reads the batches of one segment sequentially through a buffer. */
typedef struct sl_segment_reader {
    sl_segment *segment;
    uint8_t *buffer;           /* malloc'ed; grows to the largest batch seen */
    size_t capacity;
    int64_t buffer_position;   /* file position of buffer[0] */
    size_t buffer_len;
    int64_t position;          /* file position of the next batch */
    int64_t limit;             /* stop at this file position */
} sl_segment_reader;

/* Creates the empty files of a new segment (active: fds open). The caller
 * owns *out (release with sl_segment_release). */
int sl_segment_create(const char *dir, int64_t base_offset, sl_segment **out, sl_error *err);

/* Describes an existing sealed segment (size from stat; nothing opened);
 * SL_ENOTFOUND when its file is gone. */
int sl_segment_load(const char *dir, int64_t base_offset, sl_segment **out, sl_error *err);

/* Opens an existing segment as the active one and recovers its tail: scans
 * from the last good index entry (entries are checked against their batches;
 * older base-offset entries are rewritten as Kafka's last-offset ones),
 * validates every batch (bounds, magic, CRC),
 * truncates the first bad or incomplete batch and all after it (logging a
 * warning naming topic and partition), and rebuilds the index tail. */
int sl_segment_recover(sl_segment *segment, const char *topic, int32_t partition,
                       int64_t index_interval, sl_error *err);

/* For a read-only log: opens an existing segment that may still be
 * written by another process, without writing anything. Loads its index
 * file when there is one (as a hint: entries that do not check out against
 * their batches are dropped, a missing file is no index) and scans from the
 * last good entry to the last whole, CRC-valid batch: size and next_offset
 * stop there. Bytes past it (a batch being written, or a torn tail the
 * writer will cut) are not an error, only not visible yet. */
int sl_segment_open_tail(sl_segment *segment, int64_t index_interval, sl_error *err);

/* For a read-only log: extends a segment opened by sl_segment_open_tail
 * over the whole batches appended since (in-memory index entries as an
 * append adds them). SL_ECORRUPT when the file is now shorter than the
 * batches already seen. */
int sl_segment_catch_up(sl_segment *segment, int64_t index_interval, sl_error *err);

/* Opens the log fd of a sealed segment when not open yet. */
int sl_segment_ensure_open(sl_segment *segment, sl_error *err);

/* Loads the index of a sealed segment when not loaded yet (a bad or missing
 * index only costs scanning from the segment start). */
int sl_segment_ensure_index(sl_segment *segment, sl_error *err);

/* Where to start scanning for offset: the position of the indexed batch
 * with the largest last offset <= offset (0 when none). */
int64_t sl_segment_lookup(const sl_segment *segment, int64_t offset);

/* Scans the batch headers of the segment for its newest timestamp. */
int sl_segment_ensure_max_timestamp(sl_segment *segment, sl_error *err);

/* Appends one encoded batch at the end. On failure the file is truncated
 * back to its last good size and the error (SL_EIO) names the file. */
int sl_segment_append(sl_segment *segment, const uint8_t *bytes, size_t len,
                      const sl_record_batch_header *header, int64_t index_interval,
                      sl_error *err);

/* fsyncs the log and, when open, the index. */
int sl_segment_sync(sl_segment *segment, sl_error *err);

/* The segment stops being active: closes its index fd. */
void sl_segment_seal(sl_segment *segment);

/* Unlinks both files (open fds stay usable until released). */
int sl_segment_remove_files(sl_segment *segment, sl_error *err);

/* Drops one reference; frees at zero. Accepts NULL. */
void sl_segment_release(sl_segment *segment);

/* A reader over [position, limit) of segment; buffer_hint sizes the first read. */
void sl_segment_reader_init(sl_segment_reader *reader, sl_segment *segment, int64_t position,
                            int64_t limit, size_t buffer_hint);
void sl_segment_reader_free(sl_segment_reader *reader);

/* Next batch: 1 with *batch (valid until the next call), *size and *header;
 * 0 at limit; SL_EAGAIN when an incomplete batch runs into limit;
 * SL_ECORRUPT with *why; SL_EIO/SL_ENOMEM with err. */
int sl_segment_reader_next(sl_segment_reader *reader, bool verify_crc, const uint8_t **batch,
                           size_t *size, sl_record_batch_header *header, const char **why,
                           sl_error *err);

#endif
