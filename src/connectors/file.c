/* file.c — the `file` connector: JSON lines read from and written to files
 * (DESIGN §6).
 *
 * Source: each non-empty line of `path` becomes one raw record (the runtime
 * parses it and sends bad JSON to the dead-letter topic), partition 0,
 * offset = the byte offset where the line starts; batch->end_offset is the
 * byte offset after the batch's last line. Lines longer than
 * max_record_bytes are rejected without being loaded (line_reader.c).
 * Without `tail` the source ends (SL_EOF) at the end of the file, and a last
 * line without a newline counts. With `tail` it waits for appended lines,
 * looking every poll_interval, and keeps an unterminated last line until
 * its newline arrives; when the path names a new file (rotation) it reads
 * what is left of the old one, then the new one from its start; when the
 * file shrinks (truncation) it starts again from the beginning.
 *
 * The source does not persist its position: commit() only accepts it.
 * Reading the file again replays it from the start, which keyed sinks make
 * idempotent (DESIGN §4).
 *
 * Sink: appends one JSON line per record with one write() per batch, then
 * fsync()s (when `fsync`, the default) so write() returns only once the
 * batch is durable. A failed write is cut back off the file so a retry
 * does not leave a torn line behind.
 */
#include "connectors/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/line_reader.h"
#include "core/paths.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"

#define FILE_BATCH_BYTES (1u << 20)
#define FILE_DEFAULT_POLL_MS 200
#define FILE_STOP_CHECK_MS 50

static const char *const format_choices[] = { "jsonl", NULL };

static const sl_option file_source_options[] = {
    { "path", SL_OPT_STRING, offsetof(sl_file_source_conf, path), .required = true,
      .help = "file of JSON lines to read" },
    { "format", SL_OPT_STRING, offsetof(sl_file_source_conf, format), .default_value = "jsonl",
      .choices = format_choices, .help = "record format: jsonl (one JSON value per line)" },
    { "tail", SL_OPT_BOOL, offsetof(sl_file_source_conf, tail), .default_value = "false",
      .help = "at the end of the file, wait for appended lines instead of ending" },
    { "poll_interval", SL_OPT_DURATION, offsetof(sl_file_source_conf, poll_interval_ms),
      .default_value = "200ms", .help = "how often a tailing source looks for new lines" },
    { "max_record_bytes", SL_OPT_SIZE, offsetof(sl_file_source_conf, max_record_bytes),
      .default_value = "1MiB", .help = "longer lines go to the dead-letter topic" },
    { 0 }
};

static const sl_option file_sink_options[] = {
    { "path", SL_OPT_STRING, offsetof(sl_file_sink_conf, path), .required = true,
      .help = "file the JSON lines are appended to (parent directories are created)" },
    { "fsync", SL_OPT_BOOL, offsetof(sl_file_sink_conf, fsync), .default_value = "true",
      .help = "fsync after each batch so a written batch survives a crash" },
    { 0 }
};

/* ---- shared helpers ---------------------------------------------------- */

/* fsync of the directory holding path, so a newly created entry is durable. */
static int sync_parent_dir(const char *path, sl_error *err)
{
    int rc = SL_OK;
    char *dir = strdup(path);
    if (!dir) return sl_error_set(err, SL_ENOMEM, "%s: no memory", path);
    char *slash = strrchr(dir, '/');
    const char *name = ".";
    if (slash == dir) name = "/";
    else if (slash) {
        *slash = '\0';
        name = dir;
    }
    int fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = sl_error_set(err, SL_EIO, "cannot sync directory %s of %s: %s", name, path,
                          strerror(errno));
    if (fd >= 0) close(fd);
    free(dir);
    return rc;
}

/* Raw bytes as one line: line breaks (only whitespace in valid JSON) become spaces. */
static int append_raw_line(sl_buffer *out, sl_str raw)
{
    size_t at = out->len;
    int rc = sl_buffer_append(out, raw.ptr, raw.len);
    if (rc) return rc;
    if (memchr(raw.ptr, '\n', raw.len) || memchr(raw.ptr, '\r', raw.len)) {
        for (size_t i = at; i < out->len; i++)
            if (out->data[i] == '\n' || out->data[i] == '\r') out->data[i] = ' ';
    }
    return SL_OK;
}

int sl_file_format_lines(sl_buffer *out, const sl_batch *batch)
{
    for (size_t i = 0; i < batch->n_records; i++) {
        const sl_record *record = &batch->records[i];
        int rc;
        if (record->has_value) rc = sl_json_write(out, &record->value);
        else if (record->raw.ptr && record->raw.len > 0) rc = append_raw_line(out, record->raw);
        else rc = sl_buffer_append_cstr(out, "null");
        if (!rc) rc = sl_buffer_append_byte(out, '\n');
        if (rc) return rc;
    }
    return SL_OK;
}

/* ---- source -------------------------------------------------------------- */

typedef struct file_source {
    const sl_connector_env *env;
    char *path;
    int fd;
    dev_t dev;
    ino_t ino;
    sl_line_reader *reader;
    bool is_tailing;
    int64_t poll_ms;
} file_source;

typedef enum file_change {
    FILE_UNCHANGED,
    FILE_REPLACED,  /* path names another file now (rotation) */
    FILE_SHRUNK,    /* smaller than what was read (truncation) */
} file_change;

static void file_source_close(void *state)
{
    file_source *source = state;
    if (!source) return;
    if (source->fd >= 0) close(source->fd);
    sl_line_reader_free(source->reader);
    free(source->path);
    free(source);
}

/* (Re)opens path and reads it from the start. */
static int file_source_reopen(file_source *source, sl_error *err)
{
    if (source->fd >= 0) close(source->fd);
    source->fd = open(source->path, O_RDONLY | O_CLOEXEC);
    if (source->fd < 0)
        return sl_error_set(err, SL_EIO, "file source: cannot open %s: %s", source->path,
                            strerror(errno));
    struct stat st;
    if (fstat(source->fd, &st) != 0)
        return sl_error_set(err, SL_EIO, "file source: cannot stat %s: %s", source->path,
                            strerror(errno));
    source->dev = st.st_dev;
    source->ino = st.st_ino;
    sl_line_reader_attach(source->reader, source->fd, 0);
    return SL_OK;
}

static int file_source_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                            sl_error *err)
{
    const sl_file_source_conf *conf = conf_ptr;
    int rc = SL_ECONFIG;
    file_source *source = NULL;
    if (!conf->path) {
        sl_error_set(err, rc, "file source: path is required");
        goto fail;
    }
    if (conf->format && strcmp(conf->format, "jsonl") != 0) {
        sl_error_set(err, rc, "file source %s: format '%s' is not supported (supported: jsonl)",
                     conf->path, conf->format);
        goto fail;
    }
    rc = SL_ENOMEM;
    source = calloc(1, sizeof *source);
    if (!source) goto fail;
    source->fd = -1;
    source->env = env;
    source->is_tailing = conf->tail;
    source->poll_ms = conf->poll_interval_ms > 0 ? conf->poll_interval_ms : FILE_DEFAULT_POLL_MS;
    source->path = strdup(conf->path);
    if (!source->path) goto fail;
    size_t max_record_bytes = conf->max_record_bytes > 0 ? (size_t)conf->max_record_bytes : 0;
    source->reader = sl_line_reader_new(source->path, max_record_bytes, env ? env->reject.max_record_bytes : 0);
    if (!source->reader) goto fail;
    rc = file_source_reopen(source, err);
    if (rc) goto fail;
    *state = source;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "file source: no memory");
    file_source_close(source);
    return rc;
}

static bool file_source_is_stopping(const file_source *source)
{
    return source->env && source->env->stopping && atomic_load(source->env->stopping);
}

/* Sleeps one poll interval, waking early when the run is stopping. */
static void file_source_wait(const file_source *source)
{
    int64_t remaining = source->poll_ms;
    while (remaining > 0 && !file_source_is_stopping(source)) {
        int64_t step = remaining < FILE_STOP_CHECK_MS ? remaining : FILE_STOP_CHECK_MS;
        sl_sleep_ms(step);
        remaining -= step;
    }
}

static file_change file_source_change(const file_source *source, int64_t *size)
{
    struct stat st;
    /* Moved away and not yet recreated: keep reading the old file. */
    if (stat(source->path, &st) != 0) return FILE_UNCHANGED;
    *size = (int64_t)st.st_size;
    if (st.st_dev != source->dev || st.st_ino != source->ino) return FILE_REPLACED;
    if ((int64_t)st.st_size < sl_line_reader_bytes_read(source->reader)) return FILE_SHRUNK;
    return FILE_UNCHANGED;
}

static int file_source_read(void *state, sl_batch *batch, sl_error *err)
{
    file_source *source = state;
    const sl_reject_handler *reject = source->env ? &source->env->reject : NULL;
    bool has_waited = false;
    bool is_draining = false;  /* reading the rest of a rotated-away file */
    for (;;) {
        bool wait_for_newline = source->is_tailing && !is_draining;
        int rc = sl_line_reader_fill(source->reader, batch, 0, FILE_BATCH_BYTES, wait_for_newline,
                                     reject, err);
        if (rc == SL_OK) return SL_OK;
        if (rc != SL_EOF) return rc;
        if (batch->n_records > 0) return SL_OK;
        if (!source->is_tailing) return SL_EOF;
        if (file_source_is_stopping(source)) return SL_EAGAIN;
        int64_t size = 0;
        file_change change = file_source_change(source, &size);
        if (change == FILE_REPLACED && !is_draining) {
            is_draining = true;
            continue;
        }
        if (change != FILE_UNCHANGED) {
            int64_t was = sl_line_reader_bytes_read(source->reader);
            size_t pending = sl_line_reader_pending(source->reader);
            if (change == FILE_REPLACED)
                sl_warn("file", "%s: the file was replaced (rotated) after %" PRId64
                        " bytes; reading the new one from the start", source->path, was);
            else
                sl_warn("file", "%s: the file shrank from %" PRId64 " to %" PRId64
                        " bytes (truncated); reading it again from the start%s", source->path,
                        was, size, pending ? ", dropping an unfinished last line" : "");
            rc = file_source_reopen(source, err);
            if (rc) return rc;
            batch->end_offset = 0;
            is_draining = false;
            continue;
        }
        if (has_waited) return SL_EAGAIN;
        file_source_wait(source);
        has_waited = true;
    }
}

/* Positions are not persisted (see the top of this file). */
static int file_source_commit(void *state, int32_t partition, int64_t next_offset,
                              sl_error *err)
{
    return SL_OK;
}

const sl_source_ops sl_file_source = {
    .name = "file",
    .options = file_source_options,
    .conf_size = sizeof(sl_file_source_conf),
    .open = file_source_open,
    .read = file_source_read,
    .commit = file_source_commit,
    .persist = NULL,
    .close = file_source_close,
    .produces_raw = true,
};

/* ---- sink ---------------------------------------------------------------- */

typedef struct file_sink {
    char *path;
    int fd;
    bool is_fsync;
    sl_buffer lines;   /* the batch's text, reused across batches */
} file_sink;

static void file_sink_close(void *state)
{
    file_sink *sink = state;
    if (!sink) return;
    if (sink->fd >= 0) close(sink->fd);
    sl_buffer_free(&sink->lines);
    free(sink->path);
    free(sink);
}

static int file_sink_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                          sl_error *err)
{
    const sl_file_sink_conf *conf = conf_ptr;
    int rc = SL_ECONFIG;
    file_sink *sink = NULL;
    if (!conf->path) {
        sl_error_set(err, rc, "file sink: path is required");
        goto fail;
    }
    rc = SL_ENOMEM;
    sink = calloc(1, sizeof *sink);
    if (!sink) {
        sl_error_set(err, rc, "file sink: no memory");
        goto fail;
    }
    sink->fd = -1;
    sink->is_fsync = conf->fsync;
    sink->path = strdup(conf->path);
    if (!sink->path) {
        sl_error_set(err, rc, "file sink: no memory");
        goto fail;
    }
    rc = sl_make_parent_dirs(sink->path, err);
    if (rc) goto fail;
    sink->fd = open(sink->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (sink->fd < 0) {
        rc = sl_error_set(err, SL_EIO, "file sink: cannot open %s: %s", sink->path,
                          strerror(errno));
        goto fail;
    }
    if (sink->is_fsync) {
        rc = sync_parent_dir(sink->path, err);
        if (rc) goto fail;
    }
    *state = sink;
    return SL_OK;
fail:
    file_sink_close(sink);
    return rc;
}

static int write_all(int fd, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_sink_write(void *state, const sl_batch *batch, sl_error *err)
{
    file_sink *sink = state;
    sl_buffer_clear(&sink->lines);
    int rc = sl_file_format_lines(&sink->lines, batch);
    if (rc) return sl_error_set(err, rc, "file sink %s: no memory for a batch of %zu records",
                                sink->path, batch->n_records);
    if (sink->lines.len == 0) return SL_OK;
    off_t before = lseek(sink->fd, 0, SEEK_END);
    if (before < 0)
        return sl_error_set(err, SL_EIO, "file sink %s: %s", sink->path, strerror(errno));
    if (write_all(sink->fd, sink->lines.data, sink->lines.len) != 0) {
        int saved = errno;
        /* Cut the partial batch off so a retry does not leave a torn line. */
        if (ftruncate(sink->fd, before) != 0)
            sl_warn("file", "%s: cannot cut a failed write back to %jd bytes: %s", sink->path,
                    (intmax_t)before, strerror(errno));
        return sl_error_set(err, SL_EIO, "file sink %s: write of %zu bytes at byte %jd: %s",
                            sink->path, sink->lines.len, (intmax_t)before, strerror(saved));
    }
    if (sink->is_fsync && fsync(sink->fd) != 0)
        return sl_error_set(err, SL_EIO, "file sink %s: fsync: %s", sink->path, strerror(errno));
    return SL_OK;
}

const sl_sink_ops sl_file_sink = {
    .name = "file",
    .options = file_sink_options,
    .conf_size = sizeof(sl_file_sink_conf),
    .open = file_sink_open,
    .write = file_sink_write,
    .close = file_sink_close,
    .topic_name = NULL,
    .accepts_raw = true,
};
