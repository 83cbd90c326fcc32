/* topic.c — the `topic` connector: read and write embedded log topics,
 * the role Kafka topics play in the classic stack.
 *
 * Source: a consumer group member that owns every partition of one topic.
 * Positions start at the group's committed offsets (or at the start / end of
 * each partition for `start: earliest|latest`), each read returns one batch
 * of one partition, visiting partitions in turn. commit() remembers the
 * next offset of a partition and persist() writes the group file
 * atomically. When it has caught up with every partition and no pipeline of
 * this run still writes the topic, a bounded run ends (SL_EOF). Progress:
 * the lag, each partition's end offset minus the next offset to read,
 * summed.
 *
 * Sink: appends each batch to the partitions chosen by key (Kafka's murmur2
 * partitioner on the record key or on `key:`, a path into the value) as one
 * RecordBatch per partition (an empty key is a key and is hashed, as Kafka
 * does). Records without a key go to one partition per
 * batch, rotating (Kafka's sticky partitioner). Values are the JSON text of
 * the record (its raw bytes when the runtime prepared them).
 */
#include "connectors/topic/topic.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/json.h"
#include "core/key_text.h"

#define TOPIC_MAX_KEY_PARTS 16

typedef struct topic_source_conf {
    char *name;
    char *group;
    char *start;
    int64_t max_batch_bytes;
} topic_source_conf;

static const char *const start_choices[] = { "earliest", "latest", NULL };

static const sl_option topic_source_options[] = {
    { "name", SL_OPT_STRING, offsetof(topic_source_conf, name), .required = true,
      .help = "topic to read" },
    { "group", SL_OPT_STRING, offsetof(topic_source_conf, group),
      .help = "consumer group whose offsets are committed (default: the pipeline's name)" },
    { "start", SL_OPT_STRING, offsetof(topic_source_conf, start), .default_value = "earliest",
      .choices = start_choices, .help = "where a group without offsets starts" },
    { "max_batch_bytes", SL_OPT_SIZE, offsetof(topic_source_conf, max_batch_bytes),
      .default_value = "1MiB", .min = "1", .help = "read at most about this many bytes per batch" },
    { 0 }
};

typedef struct topic_source {
    const sl_connector_env *env;
    sl_topic *topic;
    char *group;
    int32_t n_partitions;
    int64_t *next_offsets;      /* next offset to read, per partition */
    int64_t *commit_offsets;    /* next offset committed, per partition */
    bool is_dirty;              /* commit_offsets changed since persist */
    int32_t next_partition;     /* where the next read starts looking */
    size_t max_batch_bytes;
} topic_source;

static void topic_source_close(void *state)
{
    topic_source *source = state;
    if (!source) return;
    free(source->group);
    free(source->next_offsets);
    free(source->commit_offsets);
    free(source);
}

static int topic_source_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                             sl_error *err)
{
    const topic_source_conf *conf = conf_ptr;
    int rc = SL_ENOMEM;
    topic_source *source = calloc(1, sizeof *source);
    if (!source) goto fail;
    source->env = env;
    source->max_batch_bytes = conf->max_batch_bytes > 0 ? (size_t)conf->max_batch_bytes : 1 << 20;
    source->group = strdup(conf->group ? conf->group : env->pipeline);
    if (!source->group) goto fail;
    rc = sl_log_topic_open(env->log, conf->name, &source->topic, err);
    if (rc == SL_ENOTFOUND) {
        sl_error_set(err, rc, "topic '%s' does not exist and no pipeline of this run writes it",
                     conf->name);
        goto fail;
    }
    if (rc) goto fail;
    source->n_partitions = sl_topic_partitions(source->topic);
    rc = SL_ENOMEM;
    source->next_offsets = calloc((size_t)source->n_partitions, sizeof(int64_t));
    source->commit_offsets = calloc((size_t)source->n_partitions, sizeof(int64_t));
    if (!source->next_offsets || !source->commit_offsets) goto fail;
    rc = sl_log_group_load(env->log, source->group, conf->name, source->commit_offsets,
                           source->n_partitions, err);
    if (rc) goto fail;
    bool is_latest = conf->start && strcmp(conf->start, "latest") == 0;
    for (int32_t p = 0; p < source->n_partitions; p++) {
        int64_t start = sl_topic_start_offset(source->topic, p);
        int64_t offset = source->commit_offsets[p];
        if (offset < 0) offset = is_latest ? sl_topic_end_offset(source->topic, p) : start;
        if (offset < start) offset = start;
        source->next_offsets[p] = offset;
        source->commit_offsets[p] = offset;
    }
    *state = source;
    return SL_OK;
fail:
    topic_source_close(source);
    return rc;
}

static int topic_source_read(void *state, sl_batch *batch, sl_error *err)
{
    topic_source *source = state;
    const sl_connector_env *env = source->env;
    /* Ask before looking at the ends: a writer that finished after this
     * check has its last records below the ends we read next. */
    bool are_writers_done = !env->follow && env->topic_writers_done &&
                            env->topic_writers_done(env->topic_context, sl_topic_name(source->topic));
    for (int32_t i = 0; i < source->n_partitions; i++) {
        int32_t p = (source->next_partition + i) % source->n_partitions;
        if (source->next_offsets[p] >= sl_topic_end_offset(source->topic, p)) continue;
        int64_t next = source->next_offsets[p];
        int rc = sl_topic_read(source->topic, p, source->next_offsets[p], source->max_batch_bytes,
                               batch, &next, err);
        if (rc) return rc;
        source->next_offsets[p] = next;
        if (batch->n_records == 0) continue;
        /* The name lives as long as the log, which outlives every batch. */
        sl_str topic_name = sl_str_from(sl_topic_name(source->topic));
        for (size_t r = 0; r < batch->n_records; r++) batch->records[r].topic = topic_name;
        batch->partition = p;
        batch->end_offset = next;
        source->next_partition = (p + 1) % source->n_partitions;
        return SL_OK;
    }
    return are_writers_done ? SL_EOF : SL_EAGAIN;
}

static int topic_source_commit(void *state, int32_t partition, int64_t next_offset, sl_error *err)
{
    topic_source *source = state;
    if (partition < 0 || partition >= source->n_partitions)
        return sl_error_set(err, SL_EINVAL, "topic '%s' has no partition %" PRId32,
                            sl_topic_name(source->topic), partition);
    if (next_offset > source->commit_offsets[partition]) {
        source->commit_offsets[partition] = next_offset;
        source->is_dirty = true;
    }
    return SL_OK;
}

static int topic_source_persist(void *state, sl_error *err)
{
    topic_source *source = state;
    if (!source->is_dirty) return SL_OK;
    int rc = sl_log_group_commit(source->env->log, source->group, sl_topic_name(source->topic),
                                 source->commit_offsets, source->n_partitions, err);
    if (rc == SL_OK) source->is_dirty = false;
    return rc;
}

static bool topic_source_ends_by_itself(void *state)
{
    const topic_source *source = state;
    return !source->env->follow && source->env->topic_writers_done != NULL;
}

static void topic_source_progress(void *state, sl_source_progress *progress)
{
    const topic_source *source = state;
    int64_t lag = 0;
    for (int32_t p = 0; p < source->n_partitions; p++) {
        int64_t end = sl_topic_end_offset(source->topic, p);
        if (end > source->next_offsets[p]) lag += end - source->next_offsets[p];
    }
    progress->lag = lag;
}

static size_t topic_source_positions(void *state, sl_source_position *out, size_t max)
{
    const topic_source *source = state;
    for (int32_t p = 0; p < source->n_partitions && (size_t)p < max; p++)
        out[p] = (sl_source_position){ .topic = sl_topic_name(source->topic), .partition = p,
                                       .position = source->next_offsets[p], .committed = source->commit_offsets[p],
                                       .end_offset = sl_topic_end_offset(source->topic, p) };
    return (size_t)source->n_partitions;
}

const sl_source_ops sl_topic_source = {
    .name = "topic",
    .description = "records of a topic on the embedded log, read as a consumer group",
    .options = topic_source_options,
    .conf_size = sizeof(topic_source_conf),
    .open = topic_source_open,
    .read = topic_source_read,
    .commit = topic_source_commit,
    .persist = topic_source_persist,
    .close = topic_source_close,
    .ends_by_itself = topic_source_ends_by_itself,
    .progress = topic_source_progress,
    .positions = topic_source_positions,
    .produces_raw = true,
};

/* ---- sink ---- */

typedef struct topic_sink_conf {
    char *name;
    int64_t partitions;
    char *key;
    int64_t segment_bytes;
    int64_t retention_bytes;
    int64_t retention_ms;
    char *fsync;
    int64_t fsync_interval_ms;
    char *compression;
} topic_sink_conf;

static const char *const fsync_choices[] = { "interval", "always", "never", NULL };

static const sl_option topic_sink_options[] = {
    { "name", SL_OPT_STRING, offsetof(topic_sink_conf, name), .required = true,
      .help = "topic to write (created when absent)" },
    { "partitions", SL_OPT_INT, offsetof(topic_sink_conf, partitions), .default_value = "1", .min = "1",
      .max = "10000", .help = "partitions when the topic is created (an existing topic keeps its own)" },
    { "key", SL_OPT_STRING, offsetof(topic_sink_conf, key),
      .help = "path into the value whose text becomes the message key (default: the record's key)" },
    { "segment_bytes", SL_OPT_SIZE, offsetof(topic_sink_conf, segment_bytes), .default_value = "64MiB",
      .min = "1", .max = "1GiB", .help = "a partition starts a new segment file past this size" },
    { "retention_bytes", SL_OPT_SIZE, offsetof(topic_sink_conf, retention_bytes), .default_value = "0",
      .help = "oldest segments of a partition are deleted past this size; 0 = no limit" },
    { "retention", SL_OPT_DURATION, offsetof(topic_sink_conf, retention_ms), .default_value = "7d",
      .help = "segments older than this are deleted; 0 = keep them" },
    { "fsync", SL_OPT_STRING, offsetof(topic_sink_conf, fsync), .default_value = "interval",
      .choices = fsync_choices,
      .help = "when appends reach the disk: every fsync_interval, after every batch, or when the OS decides" },
    { "fsync_interval", SL_OPT_DURATION, offsetof(topic_sink_conf, fsync_interval_ms),
      .default_value = "100ms", .min = "1ms", .help = "fsync period for fsync: interval" },
    { "compression", SL_OPT_STRING, offsetof(topic_sink_conf, compression),
      .default_value = "lz4", .choices = sl_codec_names,
      .help = "codec of the batches written when the topic is created, as Kafka writes them" },
    { 0 }
};

typedef struct topic_sink {
    const sl_connector_env *env;
    sl_topic *topic;
    int32_t n_partitions;
    sl_str key_path[TOPIC_MAX_KEY_PARTS];
    int n_key_parts;
    char *key_text;            /* owns the strings key_path points into */
    int32_t sticky_partition;
    sl_record *scratch;        /* records with their key and value text */
    sl_record *ordered;        /* the same, grouped by partition */
    size_t scratch_capacity;
    int32_t *partition_of;     /* partition chosen for each record of a batch */
    size_t *counts;            /* records per partition, then where each begins */
    size_t *fill;              /* records placed per partition */
    sl_arena *arena;           /* keys and JSON text made for one batch */
    sl_buffer json;
} topic_sink;

/* Before the run: the key path must be one. */
static void topic_sink_check(const void *conf_ptr, const sl_connector_check *check)
{
    const topic_sink_conf *conf = conf_ptr;
    sl_str parts[TOPIC_MAX_KEY_PARTS];
    if (conf->key && sl_path_split(sl_str_from(conf->key), parts, TOPIC_MAX_KEY_PARTS) < 0)
        sl_diag_error_at(check->diags, sl_connector_check_node(check, "key"), "%s.key: '%s' is not a path like "
                         "a.b.c (at most %d parts)", check->where, conf->key, TOPIC_MAX_KEY_PARTS);
}

static const char *topic_sink_topic_name(const void *conf_ptr)
{
    const topic_sink_conf *conf = conf_ptr;
    return conf->name;
}

static void topic_sink_close(void *state)
{
    topic_sink *sink = state;
    if (!sink) return;
    if (sink->topic) sl_topic_flush(sink->topic, NULL);
    free(sink->key_text);
    free(sink->scratch);
    free(sink->ordered);
    free(sink->partition_of);
    free(sink->counts);
    free(sink->fill);
    sl_arena_free(sink->arena);
    sl_buffer_free(&sink->json);
    free(sink);
}

static int fsync_policy(const char *text)
{
    if (text && strcmp(text, "always") == 0) return SL_FSYNC_ALWAYS;
    if (text && strcmp(text, "never") == 0) return SL_FSYNC_NEVER;
    return SL_FSYNC_INTERVAL;
}

static int topic_sink_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                           sl_error *err)
{
    const topic_sink_conf *conf = conf_ptr;
    int rc = SL_ENOMEM;
    topic_sink *sink = calloc(1, sizeof *sink);
    if (!sink) goto fail;
    sink->env = env;
    sink->arena = sl_arena_new(64 * 1024);
    if (!sink->arena) goto fail;
    if (conf->partitions < 1 || conf->partitions > 100000) {
        rc = sl_error_set(err, SL_ECONFIG, "topic '%s': partitions must be between 1 and 100000, not %" PRId64,
                          conf->name, conf->partitions);
        goto fail;
    }
    if (conf->key) {
        sink->key_text = strdup(conf->key);
        if (!sink->key_text) goto fail;
        sink->n_key_parts = sl_path_split(sl_str_from(sink->key_text), sink->key_path, TOPIC_MAX_KEY_PARTS);
        if (sink->n_key_parts < 0) {
            rc = sl_error_set(err, SL_ECONFIG, "topic '%s': key '%s' is not a path like a.b.c",
                              conf->name, conf->key);
            goto fail;
        }
    }
    sl_topic_config topic_config = {
        .partitions = (int32_t)conf->partitions,
        .segment_bytes = conf->segment_bytes,
        .retention_bytes = conf->retention_bytes,
        .retention_ms = conf->retention_ms,
        .fsync = fsync_policy(conf->fsync),
        .fsync_interval_ms = conf->fsync_interval_ms,
    };
    if (!conf->compression || sl_codec_parse(conf->compression, &topic_config.compression)) {
        rc = sl_error_set(err, SL_ECONFIG, "topic '%s': compression '%s' is not one of none, lz4, zstd, gzip, snappy",
                          conf->name, conf->compression ? conf->compression : "");
        goto fail;
    }
    rc = sl_log_topic_create(env->log, conf->name, &topic_config, &sink->topic, err);
    if (rc == SL_EEXIST) {
        /* The stored partition count wins: topics are not repartitioned. */
        rc = sl_log_topic_open(env->log, conf->name, &sink->topic, err);
    }
    if (rc) goto fail;
    sink->n_partitions = sl_topic_partitions(sink->topic);
    rc = SL_ENOMEM;
    sink->counts = calloc((size_t)sink->n_partitions + 1, sizeof *sink->counts);
    sink->fill = calloc((size_t)sink->n_partitions, sizeof *sink->fill);
    if (!sink->counts || !sink->fill) goto fail;
    *state = sink;
    return SL_OK;
fail:
    topic_sink_close(sink);
    return rc;
}

/* The message key of record: `key:` path into its value (see key_text.h),
 * else its own key. A key made here is copied into the sink's arena. */
static int record_key(topic_sink *sink, const sl_record *record, sl_str *key)
{
    *key = record->key;
    if (sink->n_key_parts == 0 || !record->has_value) return SL_OK;
    const sl_value *found = sl_value_get_path(&record->value, sink->key_path, (size_t)sink->n_key_parts);
    int rc = sl_key_text(found, &sink->json, key);
    if (rc || !key->ptr || key->ptr != sink->json.data) return rc;
    char *copy = sl_arena_strndup(sink->arena, key->ptr, key->len);
    if (!copy) return SL_ENOMEM;
    *key = (sl_str){ copy, key->len };
    return SL_OK;
}

/* The stored value of record: its raw text, or its value written as JSON. */
static int record_raw(topic_sink *sink, const sl_record *record, sl_str *raw)
{
    if (record->raw.ptr || !record->has_value) {
        *raw = record->raw;
        return SL_OK;
    }
    sl_buffer_clear(&sink->json);
    int rc = sl_json_write(&sink->json, &record->value);
    if (rc) return rc;
    char *copy = sl_arena_strndup(sink->arena, sink->json.data, sink->json.len);
    if (!copy) return SL_ENOMEM;
    *raw = (sl_str){ copy, sink->json.len };
    return SL_OK;
}

static int ensure_scratch(topic_sink *sink, size_t n)
{
    if (sink->scratch_capacity >= n) return SL_OK;
    sl_record *scratch = realloc(sink->scratch, n * sizeof *scratch);
    if (!scratch) return SL_ENOMEM;
    sink->scratch = scratch;
    sl_record *ordered = realloc(sink->ordered, n * sizeof *ordered);
    if (!ordered) return SL_ENOMEM;
    sink->ordered = ordered;
    int32_t *partition_of = realloc(sink->partition_of, n * sizeof *partition_of);
    if (!partition_of) return SL_ENOMEM;
    sink->partition_of = partition_of;
    sink->scratch_capacity = n;
    return SL_OK;
}

static int topic_sink_write(void *state, const sl_batch *batch, sl_error *err)
{
    topic_sink *sink = state;
    size_t n = batch->n_records;
    if (n == 0) return SL_OK;
    int rc = ensure_scratch(sink, n);
    if (rc) return sl_error_set(err, rc, "topic '%s': out of memory", sl_topic_name(sink->topic));
    sl_arena_reset(sink->arena);
    memset(sink->counts, 0, ((size_t)sink->n_partitions + 1) * sizeof *sink->counts);

    /* Choose a partition per record and count them, then place records
     * partition by partition (a counting sort keeps each one's order). */
    for (size_t i = 0; i < n; i++) {
        const sl_record *record = &batch->records[i];
        sl_record *copy = &sink->scratch[i];
        *copy = *record;
        rc = record_key(sink, record, &copy->key);
        if (!rc) rc = record_raw(sink, record, &copy->raw);
        if (rc) return sl_error_set(err, rc, "topic '%s': cannot encode record", sl_topic_name(sink->topic));
        int32_t p = copy->key.ptr ? sl_log_partition_for_key(copy->key, sink->n_partitions)
                                  : sink->sticky_partition;
        sink->partition_of[i] = p;
        sink->counts[p + 1]++;
    }
    sink->sticky_partition = (sink->sticky_partition + 1) % sink->n_partitions;
    for (int32_t p = 0; p < sink->n_partitions; p++) sink->counts[p + 1] += sink->counts[p];
    /* counts[p] is now where partition p's records begin; sort into place. */
    memset(sink->fill, 0, (size_t)sink->n_partitions * sizeof *sink->fill);
    for (size_t i = 0; i < n; i++) {
        int32_t p = sink->partition_of[i];
        sink->ordered[sink->counts[p] + sink->fill[p]++] = sink->scratch[i];
    }
    for (int32_t p = 0; p < sink->n_partitions && rc == SL_OK; p++) {
        size_t begin = sink->counts[p], count = sink->fill[p];
        if (count) rc = sl_topic_append(sink->topic, p, sink->ordered + begin, count, NULL, err);
    }
    return rc;
}

const sl_sink_ops sl_topic_sink = {
    .name = "topic",
    .description = "records appended to a topic on the embedded log (created when absent)",
    .options = topic_sink_options,
    .conf_size = sizeof(topic_sink_conf),
    .open = topic_sink_open,
    .write = topic_sink_write,
    .close = topic_sink_close,
    .check = topic_sink_check,
    .topic_name = topic_sink_topic_name,
    .accepts_raw = true,
};
