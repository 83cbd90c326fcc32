/* log.h — the embedded durable log: partitioned, replayable topics on local
 * disk, the role Kafka plays in the classic stack.
 *
 * Layout under the data dir:
 *   LOCK                                   flock'ed by the writing process (holds its pid)
 *   topics/<topic>/topic.conf              partitions and per-topic settings
 *   topics/<topic>/<partition>/<base>.log  segments of Kafka RecordBatch v2 (magic 2, CRC-32C),
 *                                          compressed as Kafka compresses (compression.h)
 *   topics/<topic>/<partition>/<base>.index sparse index in Kafka's layout: (relative last
 *                                          offset of a batch, its file position) pairs
 *   groups/<group>/<topic>.offsets         committed next-offsets, replaced atomically
 *
 * Thread safety: one sl_log is shared by every pipeline of a process. Each
 * partition has its own mutex; appends to a partition serialize, reads run
 * concurrently with appends and see every batch whose append returned.
 *
 * Processes: one writer holds the lock (sl_log_open); any number of readers
 * (sl_log_open_readonly) read beside it without the lock, and see the
 * writer's whole batches as they land. docs/architecture.md describes the
 * layout, recovery and the reader rule.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/error.h"
#include "log/compression.h"

typedef enum sl_fsync_policy {
    SL_FSYNC_INTERVAL = 0,   /* default: fsync at most every fsync_interval_ms */
    SL_FSYNC_ALWAYS,         /* fsync after each append */
    SL_FSYNC_NEVER,          /* leave it to the OS */
} sl_fsync_policy;

typedef struct sl_topic_config {
    int32_t partitions;          /* required at creation, >= 1 */
    int64_t segment_bytes;       /* roll a segment past this size; 0 = 64 MiB */
    int64_t retention_bytes;     /* per partition; 0 = unlimited */
    int64_t retention_ms;        /* by the newest timestamp of a segment; 0 = unlimited */
    sl_fsync_policy fsync;
    int64_t fsync_interval_ms;   /* 0 = 100 */
    int64_t index_interval_bytes;/* a sparse index entry every this many bytes; 0 = 4 KiB */
    sl_codec compression;        /* codec of the batches appended (0 = none); reads take any */
} sl_topic_config;

typedef struct sl_log sl_log;
typedef struct sl_topic sl_topic;

/* Opens (creating if needed) the data dir and takes its lock. A second
 * process gets SL_ELOCKED with "data dir D is in use by process PID".
 * Existing topics are opened lazily. The caller owns *out. */
int sl_log_open(const char *data_dir, sl_log **out, sl_error *err);

/* Opens an existing data dir for reading only, beside a writer or in a
 * directory this process cannot write: takes no lock and creates, writes,
 * truncates and deletes nothing (no recovery, no index rebuilt on disk).
 * Each partition's last segment is seen up to its last whole, CRC-valid
 * batch; a batch still being written is simply not visible yet. Reads that
 * reach the end of what was seen catch up with the writer: batches appended,
 * segments rolled, and segments retention removed (a read below the new
 * start continues from it). Topic create and delete, appends, flushes,
 * retention and group commits are SL_EINVAL. SL_ENOTFOUND when data_dir
 * does not exist. The caller owns *out. */
int sl_log_open_readonly(const char *data_dir, sl_log **out, sl_error *err);

/* Flushes and fsyncs every open partition, closes files, releases the lock
 * (a read-only log only closes its files). */
void sl_log_close(sl_log *log);

/* Creates topic name with config, or opens it if it exists (its stored
 * partition count wins; a differing count is SL_EEXIST with both numbers
 * in the message when config->partitions > 0 and differs). */
int sl_log_topic_create(sl_log *log, const char *name, const sl_topic_config *config,
                        sl_topic **out, sl_error *err);

/* Opens an existing topic; SL_ENOTFOUND when absent. The log owns *out. */
int sl_log_topic_open(sl_log *log, const char *name, sl_topic **out, sl_error *err);

/* Names of existing topics, sorted; *names and each name malloc'ed (caller frees
 * with sl_log_names_free). */
int sl_log_topic_list(sl_log *log, char ***names, size_t *n_names, sl_error *err);
void sl_log_names_free(char **names, size_t n_names);

/* Deletes a topic and its files. */
int sl_log_topic_delete(sl_log *log, const char *name, sl_error *err);

const char *sl_topic_name(const sl_topic *topic);
int32_t sl_topic_partitions(const sl_topic *topic);
/* The codec appends use (reads take every codec). */
sl_codec sl_topic_compression(const sl_topic *topic);
/* The topic's settings as stored (defaults resolved); the topic owns them. */
const sl_topic_config *sl_topic_settings(const sl_topic *topic);

/* Appends records[0..n) to one partition as one RecordBatch; assigns offsets
 * (also written back into records[i].offset and .partition) and stores raw as
 * the value, key, headers and timestamp_ms. Returns the first offset through
 * first_offset (may be NULL). Durable per the topic's fsync policy. */
int sl_topic_append(sl_topic *topic, int32_t partition, sl_record *records, size_t n,
                    int64_t *first_offset, sl_error *err);

/* Reads records of one partition from offset on into batch (raw, key,
 * headers, timestamp, partition, offset set; has_value false), until the
 * batch is full or about max_bytes have been read. Sets *next_offset to the
 * offset after the last record read (== offset when nothing new). Offsets
 * below the log start (removed by retention) continue from the start. */
int sl_topic_read(sl_topic *topic, int32_t partition, int64_t offset, size_t max_bytes,
                  sl_batch *batch, int64_t *next_offset, sl_error *err);

/* The first offset at or after `from` in partition p whose record has a
 * timestamp >= ms, in *found (-1 when none yet); *scanned is where a later
 * search for the same ms may start (the end read). batch is scratch space
 * (reset here). */
int sl_topic_offset_for_time(sl_topic *topic, int32_t partition, int64_t from, int64_t ms, sl_batch *batch,
                             int64_t *found, int64_t *scanned, sl_error *err);

/* First and next-to-be-written offsets of a partition (on a read-only log,
 * as of the topic's open or the last read that reached the end). */
int64_t sl_topic_start_offset(sl_topic *topic, int32_t partition);
int64_t sl_topic_end_offset(sl_topic *topic, int32_t partition);
/* Bytes a partition's segments hold on disk (-1 for no such partition). */
int64_t sl_topic_bytes(sl_topic *topic, int32_t partition);

/* fsyncs every partition of the topic now. */
int sl_topic_flush(sl_topic *topic, sl_error *err);

/* Applies retention now (also done on segment roll). */
int sl_topic_enforce_retention(sl_topic *topic, sl_error *err);

/* Consumer-group offsets: next offset to read per partition; -1 where the
 * group has none. offsets has sl_topic_partitions() entries. */
int sl_log_group_load(sl_log *log, const char *group, const char *topic,
                      int64_t *offsets, int32_t n_partitions, sl_error *err);
int sl_log_group_commit(sl_log *log, const char *group, const char *topic,
                        const int64_t *offsets, int32_t n_partitions, sl_error *err);

/* Groups that have committed offsets for topic (sorted; free with sl_log_names_free). */
int sl_log_group_list(sl_log *log, const char *topic, char ***names, size_t *n_names,
                      sl_error *err);

/* Every group that has a directory of offsets (sorted; free with
 * sl_log_names_free). Reads the groups directory once, without a stat per
 * group, so it stays fast with many thousands of groups. */
int sl_log_groups(sl_log *log, char ***names, size_t *n_names, sl_error *err);

/* The groups after `after` (NULL: from the first) whose names start with
 * prefix (NULL: any), at most max of them, sorted (free with
 * sl_log_names_free): a page of sl_log_groups, copying only its names. */
int sl_log_groups_page(sl_log *log, const char *after, const char *prefix, size_t max, char ***names,
                       size_t *n_names, sl_error *err);

/* The topics group has committed offsets for (sorted; free with
 * sl_log_names_free); none for a group that does not exist. */
int sl_log_group_topics(sl_log *log, const char *group, char ***names, size_t *n_names,
                        sl_error *err);

/* Kafka's murmur2-based partitioner (positive hash % n), so keys land in the
 * partitions Java producers would choose. */
int32_t sl_log_partition_for_key(sl_str key, int32_t n_partitions);

#endif
