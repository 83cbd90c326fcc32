/* topic.c — one topic: its topic.conf (partition count and settings, as
 * key=value lines) and its partitions, and the sl_topic_* calls of log.h,
 * which pick the partition and hand over to partition.c.
 *
 * topic.conf is written last and atomically when a topic is created, so a
 * directory without it is a creation that never finished, not a topic.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "log/fs.h"
#include "log/internal.h"

#define TOPIC_CONF "topic.conf"
#define TOPIC_CONF_MAX 16384
#define MAX_PARTITIONS 10000
#define MAX_SEGMENT_BYTES (1024LL * 1024 * 1024)

static const char *fsync_names[] = {
    [SL_FSYNC_INTERVAL] = "interval",
    [SL_FSYNC_ALWAYS] = "always",
    [SL_FSYNC_NEVER] = "never",
};

/* Fills defaults and checks ranges. */
static int config_resolve(const char *name, const sl_topic_config *in, sl_topic_config *out,
                          sl_error *err)
{
    sl_topic_config c = *in;
    if (c.segment_bytes == 0) c.segment_bytes = 64LL * 1024 * 1024;
    if (c.fsync_interval_ms == 0) c.fsync_interval_ms = 100;
    if (c.index_interval_bytes == 0) c.index_interval_bytes = 4096;
    const char *bad = NULL;
    int64_t value = 0;
    if (c.partitions < 1 || c.partitions > MAX_PARTITIONS) bad = "partitions", value = c.partitions;
    else if (c.segment_bytes < 1 || c.segment_bytes > MAX_SEGMENT_BYTES) bad = "segment_bytes", value = c.segment_bytes;
    else if (c.retention_bytes < 0) bad = "retention_bytes", value = c.retention_bytes;
    else if (c.retention_ms < 0) bad = "retention_ms", value = c.retention_ms;
    else if (c.fsync_interval_ms < 0) bad = "fsync_interval_ms", value = c.fsync_interval_ms;
    else if (c.index_interval_bytes < 1 || c.index_interval_bytes > MAX_SEGMENT_BYTES)
        bad = "index_interval_bytes", value = c.index_interval_bytes;
    else if ((unsigned)c.fsync > SL_FSYNC_NEVER) bad = "fsync", value = c.fsync;
    else if ((unsigned)c.compression > SL_CODEC_MAX) bad = "compression", value = c.compression;
    if (bad)
        return sl_error_set(err, SL_EINVAL, "topic '%s': %s %" PRId64 " is out of range", name,
                            bad, value);
    *out = c;
    return SL_OK;
}

static int config_write(const char *dir, const sl_topic_config *c, sl_error *err)
{
    sl_buffer text = SL_BUFFER_INIT;
    char *path = sl__log_path(dir, TOPIC_CONF, "");
    int rc = path ? SL_OK : SL_ENOMEM;
    if (rc == SL_OK)
        rc = sl_buffer_printf(&text,
                              "# sluice topic settings (written at creation)\n"
                              "partitions=%" PRId32 "\nsegment_bytes=%" PRId64 "\n"
                              "retention_bytes=%" PRId64 "\nretention_ms=%" PRId64 "\n"
                              "fsync=%s\nfsync_interval_ms=%" PRId64 "\n"
                              "index_interval_bytes=%" PRId64 "\ncompression=%s\n",
                              c->partitions, c->segment_bytes, c->retention_bytes,
                              c->retention_ms, fsync_names[c->fsync], c->fsync_interval_ms,
                              c->index_interval_bytes, sl_codec_name(c->compression));
    if (rc) sl_error_set(err, rc, "out of memory writing the config of %s", dir);
    else rc = sl_log_fs_replace_file(path, text.data, text.len, err);
    sl_buffer_free(&text);
    free(path);
    return rc;
}

static int parse_int(const char *text, int64_t *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno || end == text || *end) return SL_EPARSE;
    *value = parsed;
    return SL_OK;
}

/* Parses topic.conf text; unknown keys and bad values are errors naming the line. */
static int config_parse(const char *path, char *text, sl_topic_config *c, sl_error *err)
{
    memset(c, 0, sizeof *c);
    int line_no = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        if (line[0] == '#' || line[0] == '\0') continue;
        char *equals = strchr(line, '=');
        if (!equals) return sl_error_set(err, SL_ECORRUPT, "%s:%d: expected key=value", path, line_no);
        *equals = '\0';
        const char *key = line, *value = equals + 1;
        int64_t number = 0;
        int rc = SL_OK;
        if (strcmp(key, "fsync") == 0) {
            rc = SL_EPARSE;
            for (int p = 0; p <= SL_FSYNC_NEVER; p++)
                if (strcmp(value, fsync_names[p]) == 0) c->fsync = (sl_fsync_policy)p, rc = SL_OK;
        } else if (strcmp(key, "compression") == 0) {
            /* Absent in topics created before compression existed: none. */
            rc = sl_codec_parse(value, &c->compression) ? SL_EPARSE : SL_OK;
        } else {
            rc = parse_int(value, &number);
            if (strcmp(key, "partitions") == 0) c->partitions = number > INT32_MAX ? -1 : (int32_t)number;
            else if (strcmp(key, "segment_bytes") == 0) c->segment_bytes = number;
            else if (strcmp(key, "retention_bytes") == 0) c->retention_bytes = number;
            else if (strcmp(key, "retention_ms") == 0) c->retention_ms = number;
            else if (strcmp(key, "fsync_interval_ms") == 0) c->fsync_interval_ms = number;
            else if (strcmp(key, "index_interval_bytes") == 0) c->index_interval_bytes = number;
            else return sl_error_set(err, SL_ECORRUPT, "%s:%d: unknown key '%s'", path, line_no, key);
        }
        if (rc) return sl_error_set(err, SL_ECORRUPT, "%s:%d: bad value '%s' for %s", path, line_no, value, key);
    }
    return SL_OK;
}

void sl__topic_free(sl_topic *topic)
{
    if (!topic) return;
    for (int32_t p = 0; p < topic->n_partitions; p++) sl_partition_close(topic->partitions[p]);
    free(topic->partitions);
    free(topic->name);
    free(topic->dir);
    free(topic);
}

/* Allocates the topic and opens (or creates) its partitions. */
static int topic_open_partitions(const char *dir, const char *name, const sl_topic_config *config,
                                 sl_partition_mode mode, sl_topic **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    sl_topic *topic = calloc(1, sizeof *topic);
    if (!topic) goto fail;
    topic->name = strdup(name);
    topic->dir = strdup(dir);
    topic->config = *config;
    topic->is_read_only = mode == SL_PARTITION_READ_ONLY;
    topic->partitions = calloc((size_t)config->partitions, sizeof *topic->partitions);
    if (!topic->name || !topic->dir || !topic->partitions) goto fail;
    for (int32_t p = 0; p < config->partitions; p++) {
        char number[16];
        snprintf(number, sizeof number, "%" PRId32, p);
        char *partition_dir = sl__log_path(dir, number, "");
        if (!partition_dir) goto fail;
        rc = sl_partition_open(partition_dir, topic->name, p, &topic->config, mode,
                               &topic->partitions[p], err);
        free(partition_dir);
        if (rc) goto fail;
        topic->n_partitions = p + 1;
        rc = SL_ENOMEM;
    }
    *out = topic;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "topic '%s': out of memory", name);
    sl__topic_free(topic);
    return rc;
}

int sl__topic_load(const char *dir, const char *name, bool is_read_only, sl_topic **out,
                   sl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    sl_topic_config stored, config;
    char *path = sl__log_path(dir, TOPIC_CONF, "");
    if (!path) return sl_error_set(err, SL_ENOMEM, "topic '%s': out of memory", name);
    int rc = sl_log_fs_read_file(path, TOPIC_CONF_MAX, &text, &len, err);
    if (rc == SL_ENOTFOUND) rc = sl_error_set(err, SL_ENOTFOUND, "topic '%s' does not exist", name);
    if (rc) goto done;
    rc = config_parse(path, text, &stored, err);
    if (rc) goto done;
    rc = config_resolve(name, &stored, &config, err);
    if (rc) {
        sl_error_prefix(err, "%s: ", path);
        rc = SL_ECORRUPT;
        if (err) err->code = rc;
        goto done;
    }
    rc = topic_open_partitions(dir, name, &config,
                               is_read_only ? SL_PARTITION_READ_ONLY : SL_PARTITION_OPEN, out, err);
done:
    free(text);
    free(path);
    return rc;
}

int sl__topic_create(const char *dir, const char *name, const sl_topic_config *given,
                     sl_topic **out, sl_error *err)
{
    sl_topic_config config;
    int rc = config_resolve(name, given, &config, err);
    if (rc) return rc;
    rc = sl_log_fs_mkdir(dir, err);
    if (rc) return rc;
    rc = topic_open_partitions(dir, name, &config, SL_PARTITION_CREATE, out, err);
    if (rc) return rc;
    rc = config_write(dir, &config, err);
    if (rc) {
        sl__topic_free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- the public per-topic calls ---- */

const char *sl_topic_name(const sl_topic *topic)
{
    return topic->name;
}

int32_t sl_topic_partitions(const sl_topic *topic)
{
    return topic->n_partitions;
}

sl_codec sl_topic_compression(const sl_topic *topic)
{
    return topic->config.compression;
}

const sl_topic_config *sl_topic_settings(const sl_topic *topic)
{
    return &topic->config;
}

/* The writing calls refuse a topic of a read-only log. */
static int check_writable(const sl_topic *topic, const char *what, sl_error *err)
{
    if (!topic->is_read_only) return SL_OK;
    return sl_error_set(err, SL_EINVAL, "topic '%s': cannot %s: the data dir was opened read-only",
                        topic->name, what);
}

static int check_partition(const sl_topic *topic, int32_t partition, sl_error *err)
{
    if (partition < 0 || partition >= topic->n_partitions)
        return sl_error_set(err, SL_EINVAL, "topic '%s' has no partition %" PRId32 " (it has %" PRId32 ")",
                            topic->name, partition, topic->n_partitions);
    return SL_OK;
}

int sl_topic_append(sl_topic *topic, int32_t partition, sl_record *records, size_t n,
                    int64_t *first_offset, sl_error *err)
{
    int rc = check_writable(topic, "append", err);
    if (rc == SL_OK) rc = check_partition(topic, partition, err);
    if (rc) return rc;
    return sl_partition_append(topic->partitions[partition], records, n, first_offset, err);
}

int sl_topic_read(sl_topic *topic, int32_t partition, int64_t offset, size_t max_bytes,
                  sl_batch *batch, int64_t *next_offset, sl_error *err)
{
    int rc = check_partition(topic, partition, err);
    if (rc) return rc;
    return sl_partition_read(topic->partitions[partition], offset, max_bytes, batch, next_offset, err);
}

int64_t sl_topic_start_offset(sl_topic *topic, int32_t partition)
{
    if (check_partition(topic, partition, NULL)) return -1;
    return sl_partition_start_offset(topic->partitions[partition]);
}

int64_t sl_topic_end_offset(sl_topic *topic, int32_t partition)
{
    if (check_partition(topic, partition, NULL)) return -1;
    return sl_partition_end_offset(topic->partitions[partition]);
}

int64_t sl_topic_bytes(sl_topic *topic, int32_t partition)
{
    if (check_partition(topic, partition, NULL)) return -1;
    return sl_partition_bytes(topic->partitions[partition]);
}

int sl_topic_flush(sl_topic *topic, sl_error *err)
{
    int first_rc = check_writable(topic, "flush", err);
    if (first_rc) return first_rc;
    for (int32_t p = 0; p < topic->n_partitions; p++) {
        sl_error partition_err;
        int rc = sl_partition_flush(topic->partitions[p], &partition_err);
        if (rc && !first_rc) {
            first_rc = rc;
            sl_error_set(err, rc, "topic '%s' partition %" PRId32 ": %s", topic->name, p,
                         partition_err.message);
        }
    }
    return first_rc;
}

int sl_topic_enforce_retention(sl_topic *topic, sl_error *err)
{
    int64_t now_ms = sl_clock_wall_ms();
    int rc = check_writable(topic, "apply retention", err);
    if (rc) return rc;
    for (int32_t p = 0; p < topic->n_partitions; p++) {
        rc = sl_partition_enforce_retention(topic->partitions[p], now_ms, err);
        if (rc) return rc;
    }
    return SL_OK;
}

int sl_topic_offset_for_time(sl_topic *topic, int32_t partition, int64_t from, int64_t ms, sl_batch *batch,
                             int64_t *found, int64_t *scanned, sl_error *err)
{
    *found = -1;
    int64_t at = from > sl_topic_start_offset(topic, partition) ? from : sl_topic_start_offset(topic, partition);
    int rc = check_partition(topic, partition, err);
    if (rc) return rc;
    /* Segments whose newest record is older than ms are skipped whole. That
     * is a shortcut only: when it fails (a read-only log racing the
     * writer's retention) the scan starts where it would have anyway. */
    int64_t floor = 0;
    if (sl_partition_time_floor(topic->partitions[partition], ms, &floor, NULL) == SL_OK && floor > at) at = floor;
    int64_t end = sl_topic_end_offset(topic, partition);
    while (at < end) {
        sl_batch_reset(batch);
        int64_t next = at;
        rc = sl_topic_read(topic, partition, at, 1 << 20, batch, &next, err);
        if (rc) return rc;
        for (size_t i = 0; i < batch->n_records; i++) {
            if (batch->records[i].timestamp_ms < ms) continue;
            *found = batch->records[i].offset;
            *scanned = *found;
            return SL_OK;
        }
        if (batch->n_records == 0 || next <= at) break;
        at = next;
    }
    *scanned = at;
    return SL_OK;
}
