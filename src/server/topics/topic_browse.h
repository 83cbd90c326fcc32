/* topic_browse.h — a page of a topic's messages for the API (GET
 * /api/v1/topics/{topic}/messages and the dead-letter browse): from an
 * offset or a time, in one partition or in all of them merged by time.
 *
 * Every partition chosen is read from its starting point (the offset, the
 * first record at or past the time, or the partition's start) up to limit
 * records (fewer when many partitions share SL_BROWSE_RECORDS_MAX) or a
 * byte budget (SL_BROWSE_BYTES over the partitions, at least one record
 * each); the records are merged by (timestamp, partition) and the first
 * limit answered, with each partition's next offset so the next page
 * continues exactly where this one stopped. The merge stops early when a
 * partition whose read was cut short has given all it read (what it holds
 * next may be older than the other partitions' heads), so a page keeps the
 * time order and may hold fewer than limit. Reads go
 * through the server's sl_log, whose partitions take appends and reads
 * from any thread.
 */
#ifndef SL_TOPIC_BROWSE_H
#define SL_TOPIC_BROWSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"
#include "log/log.h"

#define SL_BROWSE_BYTES (16 * 1024 * 1024)
/* The most partitions one merged browse reads (a batch each). */
#define SL_BROWSE_MERGE_MAX 256
/* The most records a merged browse holds before merging, over its partitions. */
#define SL_BROWSE_RECORDS_MAX 20000

typedef struct sl_browse_request {
    int32_t partition;       /* -1: every partition, merged */
    bool has_offset;
    int64_t offset;
    bool has_time;
    int64_t time_ms;
    int limit;               /* 1..1000 */
    bool is_dead_letter;     /* add error, stage, origin to each message */
} sl_browse_request;

/* What was read of one partition for a page. */
typedef struct sl_browse_page {
    int32_t partition;
    int64_t from;          /* where reading started */
    int64_t read_next;     /* the offset after the last record read (from when none was) */
    bool is_cut;           /* the read stopped at the page's bounds (records or bytes), not at the end */
    sl_batch *batch;       /* the records read, in offset order */
    size_t n_taken;        /* set by sl_browse_answer: records of batch in the answer (its first ones) */
} sl_browse_page;

/* Merges pages[0..n_pages) as described above, at most limit records, and
 * appends the answer to out. SL_ENOMEM when out of memory. */
int sl_browse_answer(sl_browse_page *pages, int32_t n_pages, int limit, bool is_dead_letter, sl_buffer *out);

/* Appends {"messages":[MESSAGE...],"next":{"partition":{"P":offset}}} to
 * out. SL_ETOOBIG for a merged browse of a topic of more than
 * SL_BROWSE_MERGE_MAX partitions; else errors are the log's (a corrupt
 * segment, out of memory). */
int sl_topic_browse(sl_topic *topic, const sl_browse_request *request, sl_buffer *out, sl_error *err);

#endif
