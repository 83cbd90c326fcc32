/* file.c — the `file` connector: JSON lines read from and written to files.
 *
 * Source: each non-empty line of `path` (or of each file its glob matches,
 * one after the other) becomes one raw record (the runtime parses it and
 * sends bad JSON to the dead-letter topic), offset = the byte offset where
 * the line starts; batch->end_offset is the byte offset after the batch's
 * last line. The partition numbers a file generation (below). Lines longer
 * than max_record_bytes go to the dead-letter topic whole, never into a
 * batch (line_reader.c).
 * Without `tail` the source ends (SL_EOF) at the end of the file, and a last
 * line without a newline counts. With `tail` it waits for appended lines,
 * looking every poll_interval, and keeps an unterminated last line until
 * its newline arrives; when the path names a new file (rotation) it reads
 * what is left of the old one, then the new one from its start; when the
 * file shrinks (truncation) it starts again from the beginning.
 *
 * Progress: the bytes read of every input against their sizes when the run
 * started (their sum; none with `tail`, where the files keep growing).
 *
 * Before a run (and in `sluice validate`) a path that matches no file yet
 * is a warning (it may be created before the run starts), a directory an
 * error.
 *
 * Positions: like Filebeat's registry, the source keeps, per file (path and
 * inode), the byte offset up to which every sink has the file's records
 * (commit() takes it from the runtime's acknowledgement, persist() saves it
 * atomically in the data dir, positions.h), and a rerun continues there. A
 * file replaced (another inode) or truncated (smaller than the position)
 * since is read from its start, with a warning; `start: beginning` reads
 * every file again. A crash between a sink's write and the save re-reads
 * lines, never skips them. Each (re)open of a file is a new generation with
 * its own partition number, so a committed offset is always of one known
 * inode. A glob is expanded when the run starts (files created later are
 * not picked up).
 *
 * Sink: appends one JSON line per record with one write() per batch, then
 * fsync()s (when `fsync`, the default) so write() returns only once the
 * batch is durable. A failed write is cut back off the file so a retry
 * does not leave a torn line behind. Failures are classed by errno: a
 * read-only directory or file system and missing permissions (EACCES,
 * EROFS, EPERM) or a missing file (the source) are permanent; ENOSPC and
 * EIO are transient and retried by the runtime.
 */
#include "connectors/file/file.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/common/line_reader.h"
#include "connectors/common/positions.h"
#include "core/paths.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"

#define FILE_BATCH_BYTES (1u << 20)
#define FILE_DEFAULT_POLL_MS 200
#define FILE_STOP_CHECK_MS 50

static const char *const format_choices[] = { "jsonl", NULL };
static const char *const start_choices[] = { "resume", "beginning", NULL };

static const sl_option file_source_options[] = {
    { "path", SL_OPT_STRING, offsetof(sl_file_source_conf, path), .required = true,
      .help = "file of JSON lines to read, or a glob (logs/*.jsonl): the files it matches when the run starts" },
    { "start", SL_OPT_STRING, offsetof(sl_file_source_conf, start), .default_value = "resume",
      .choices = start_choices,
      .help = "resume: each file continues where the last run's sinks had it all (a replaced or truncated "
              "file from its start); beginning: read every file again" },
    { "format", SL_OPT_STRING, offsetof(sl_file_source_conf, format), .default_value = "jsonl",
      .choices = format_choices, .help = "record format: jsonl (one JSON value per line)" },
    { "tail", SL_OPT_BOOL, offsetof(sl_file_source_conf, tail), .default_value = "false",
      .help = "at the end of the file, wait for appended lines instead of ending" },
    { "poll_interval", SL_OPT_DURATION, offsetof(sl_file_source_conf, poll_interval_ms),
      .default_value = "200ms", .min = "1ms", .help = "how often a tailing source looks for new lines" },
    { "max_record_bytes", SL_OPT_SIZE, offsetof(sl_file_source_conf, max_record_bytes),
      .default_value = "1MiB", .min = "1", .help = "longer lines go to the dead-letter topic" },
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

/* SL_EIO "what path: strerror(errno)", classed by errno (EACCES, EROFS,
 * ENOENT: permanent; ENOSPC, EIO: transient). */
static int errno_error(sl_error *err, const char *what, const char *path)
{
    int saved = errno;
    sl_error_set(err, SL_EIO, "%s %s: %s", what, path, strerror(saved));
    return sl_error_mark(err, sl_error_class_of_errno(saved));
}

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

/* One file the source reads; a glob gives several. Each time a file is
 * opened (first, or again after rotation or truncation) it gets a new
 * generation: a partition number of its own for the runtime's
 * acknowledgement, so a committed offset always belongs to one known
 * (path, inode) and never to a file that has since been replaced. */
typedef struct file_input {
    char *path;
    int fd;
    dev_t dev;
    ino_t ino;
    int32_t partition;            /* the current generation */
    int32_t committed_partition;  /* the newest generation committed; -1 = none */
    sl_line_reader *reader;       /* NULL while closed */
    bool is_done;                 /* read to its end (without tail) */
    int64_t size;                 /* bytes when the run started; -1 = could not tell */
    int64_t read_to;              /* byte position after the last line read */
} file_input;

typedef struct file_generation {
    size_t input;
    dev_t dev;
    ino_t ino;
} file_generation;

typedef struct file_source {
    const sl_connector_env *env;
    file_input *inputs;
    size_t n_inputs;
    size_t current;               /* the input read next */
    file_generation *generations; /* indexed by partition */
    size_t n_generations;
    sl_positions *positions;      /* NULL without a data dir (unit tests) */
    bool is_from_beginning;       /* start: beginning */
    bool is_tailing;
    int64_t poll_ms;
    size_t max_record_bytes;
} file_source;

typedef enum file_change {
    FILE_UNCHANGED,
    FILE_REPLACED,  /* path names another file now (rotation) */
    FILE_SHRUNK,    /* smaller than what was read (truncation) */
} file_change;

static void input_close(file_input *input)
{
    if (input->fd >= 0) close(input->fd);
    input->fd = -1;
    sl_line_reader_free(input->reader);
    input->reader = NULL;
}

static void file_source_close(void *state)
{
    file_source *source = state;
    if (!source) return;
    for (size_t i = 0; i < source->n_inputs; i++) {
        input_close(&source->inputs[i]);
        free(source->inputs[i].path);
    }
    free(source->inputs);
    free(source->generations);
    sl_positions_free(source->positions);
    free(source);
}

/* Where a first open of input starts: the stored position when it is this
 * very file (same device and inode) and the file still reaches it; else
 * byte 0, with a warning when the stored position is of a file that was
 * replaced or truncated since. */
static int64_t input_resume_at(const file_source *source, const file_input *input, const struct stat *st)
{
    const sl_position *position = source->positions ? sl_positions_find(source->positions, input->path) : NULL;
    if (!position || source->is_from_beginning) return 0;
    if (position->dev != (uint64_t)st->st_dev || position->ino != (uint64_t)st->st_ino) {
        sl_warn("file", "%s: the file was replaced since the last run (inode %" PRIu64 ", was %" PRIu64
                "); reading it from the start", input->path, (uint64_t)st->st_ino, position->ino);
        return 0;
    }
    if ((int64_t)st->st_size < position->offset) {
        sl_warn("file", "%s: the file was truncated since the last run (%" PRId64 " bytes, was read to byte %"
                PRId64 "); reading it from the start", input->path, (int64_t)st->st_size, position->offset);
        return 0;
    }
    if (position->offset > 0)
        sl_info("file", "%s: continuing at byte %" PRId64 " (start: beginning reads it again)", input->path,
                position->offset);
    return position->offset;
}

/* (Re)opens input's path as a new generation: on its first open from the
 * stored position, afterwards (rotation, truncation) from its start. */
static int input_open(file_source *source, file_input *input, bool is_first, sl_error *err)
{
    input_close(input);
    if (source->n_generations >= INT32_MAX)
        return sl_error_set(err, SL_EINVAL, "file source: %s was reopened too often", input->path);
    file_generation *generations =
        realloc(source->generations, (source->n_generations + 1) * sizeof *generations);
    if (!generations) return sl_error_set(err, SL_ENOMEM, "file source: no memory");
    source->generations = generations;
    size_t max_kept = source->env ? source->env->reject.max_record_bytes : 0;
    input->reader = sl_line_reader_new(input->path, source->max_record_bytes, max_kept);
    if (!input->reader) return sl_error_set(err, SL_ENOMEM, "file source: no memory");
    input->fd = open(input->path, O_RDONLY | O_CLOEXEC);
    if (input->fd < 0) return errno_error(err, "file source: cannot open", input->path);
    struct stat st;
    if (fstat(input->fd, &st) != 0) return errno_error(err, "file source: cannot stat", input->path);
    input->dev = st.st_dev;
    input->ino = st.st_ino;
    int64_t position = is_first ? input_resume_at(source, input, &st) : 0;
    if (position > 0 && lseek(input->fd, (off_t)position, SEEK_SET) != (off_t)position)
        return sl_error_set(err, SL_EIO, "file source: cannot seek %s to byte %" PRId64 ": %s", input->path,
                            position, strerror(errno));
    sl_line_reader_attach(input->reader, input->fd, position);
    input->read_to = position;
    input->partition = (int32_t)source->n_generations;
    source->generations[source->n_generations++] = (file_generation){
        .input = (size_t)(input - source->inputs), .dev = st.st_dev, .ino = st.st_ino,
    };
    return SL_OK;
}

static bool has_glob_chars(const char *path)
{
    return strpbrk(path, "*?[") != NULL;
}

/* The inputs: path itself, or every file its glob matches, sorted. */
static int file_source_list_inputs(file_source *source, const char *path, sl_error *err)
{
    glob_t matches = { 0 };
    size_t n = 1;
    if (has_glob_chars(path)) {
        int glob_rc = glob(path, GLOB_ERR, NULL, &matches);
        if (glob_rc == GLOB_NOMATCH) {
            globfree(&matches);
            return sl_error_set(err, SL_EIO, "file source: no file matches %s", path);
        }
        if (glob_rc != 0) {
            globfree(&matches);
            return sl_error_set(err, SL_EIO, "file source: cannot list the files matching %s", path);
        }
        n = matches.gl_pathc;
    }
    int rc = SL_OK;
    source->inputs = calloc(n, sizeof *source->inputs);
    if (!source->inputs) rc = sl_error_set(err, SL_ENOMEM, "file source: no memory");
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        file_input *input = &source->inputs[i];
        input->fd = -1;
        input->committed_partition = -1;
        input->path = strdup(has_glob_chars(path) ? matches.gl_pathv[i] : path);
        if (!input->path) rc = sl_error_set(err, SL_ENOMEM, "file source: no memory");
        source->n_inputs++;
        struct stat st;
        input->size = input->path && stat(input->path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    }
    globfree(&matches);
    return rc;
}

/* Before the run: an input that is not there is a warning (it may be
 * created before the run starts), a directory an error. */
static void file_source_check(const void *conf_ptr, const sl_connector_check *check)
{
    const sl_file_source_conf *conf = conf_ptr;
    if (!conf->path) return;
    const sl_node *node = sl_connector_check_node(check, "path");
    if (has_glob_chars(conf->path)) {
        glob_t matches = { 0 };
        int glob_rc = glob(conf->path, GLOB_ERR, NULL, &matches);
        globfree(&matches);
        if (glob_rc == GLOB_NOMATCH)
            sl_diag_warning_at(check->diags, node, "%s.path: no file matches '%s' yet; the run fails unless one "
                               "does when it starts", check->where, conf->path);
        return;
    }
    struct stat st;
    if (stat(conf->path, &st) != 0) {
        if (errno == ENOENT)
            sl_diag_warning_at(check->diags, node, "%s.path: '%s' does not exist yet; the run fails unless it "
                               "does when it starts", check->where, conf->path);
        return;
    }
    if (S_ISDIR(st.st_mode))
        sl_diag_error_at(check->diags, node, "%s.path: '%s' is a directory; give a file, or a glob such as "
                         "'%s/*.jsonl'", check->where, conf->path, conf->path);
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
    source->env = env;
    source->is_tailing = conf->tail;
    source->is_from_beginning = conf->start && strcmp(conf->start, "beginning") == 0;
    source->poll_ms = conf->poll_interval_ms > 0 ? conf->poll_interval_ms : FILE_DEFAULT_POLL_MS;
    source->max_record_bytes = conf->max_record_bytes > 0 ? (size_t)conf->max_record_bytes : 0;
    rc = file_source_list_inputs(source, conf->path, err);
    if (rc) goto fail;
    if (env && env->data_dir && env->pipeline) {
        rc = sl_positions_open(env->data_dir, env->pipeline, &source->positions, err);
        if (rc) goto fail;
    }
    /* Without tail the files are read one after the other, each opened
     * when its turn comes; a tailing source watches them all. */
    for (size_t i = 0; i < (source->is_tailing ? source->n_inputs : 1); i++) {
        rc = input_open(source, &source->inputs[i], true, err);
        if (rc) goto fail;
    }
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

static file_change input_change(const file_input *input, int64_t *size)
{
    struct stat st;
    /* Moved away and not yet recreated: keep reading the old file. */
    if (stat(input->path, &st) != 0) return FILE_UNCHANGED;
    *size = (int64_t)st.st_size;
    if (st.st_dev != input->dev || st.st_ino != input->ino) return FILE_REPLACED;
    if ((int64_t)st.st_size < sl_line_reader_bytes_read(input->reader)) return FILE_SHRUNK;
    return FILE_UNCHANGED;
}

/* Fills batch from one input: SL_OK with records, SL_EOF when it has none
 * now. When tailing, follows a rotation (after draining the old file) or a
 * truncation (from the start) of its path. */
static int input_read(file_source *source, file_input *input, sl_batch *batch, sl_error *err)
{
    const sl_reject_handler *reject = source->env ? &source->env->reject : NULL;
    bool is_draining = false;  /* reading the rest of a rotated-away file */
    for (;;) {
        bool wait_for_newline = source->is_tailing && !is_draining;
        int rc = sl_line_reader_fill(input->reader, batch, input->partition, FILE_BATCH_BYTES,
                                     wait_for_newline, reject, err);
        if (rc == SL_OK) return SL_OK;
        if (rc != SL_EOF) return rc;
        if (batch->n_records > 0) return SL_OK;
        if (!source->is_tailing || file_source_is_stopping(source)) return SL_EOF;
        int64_t size = 0;
        file_change change = input_change(input, &size);
        if (change == FILE_UNCHANGED) return SL_EOF;
        if (change == FILE_REPLACED && !is_draining) {
            is_draining = true;
            continue;
        }
        int64_t was = sl_line_reader_bytes_read(input->reader);
        size_t pending = sl_line_reader_pending(input->reader);
        if (change == FILE_REPLACED)
            sl_warn("file", "%s: the file was replaced (rotated) after %" PRId64
                    " bytes; reading the new one from the start", input->path, was);
        else
            sl_warn("file", "%s: the file shrank from %" PRId64 " to %" PRId64
                    " bytes (truncated); reading it again from the start%s", input->path,
                    was, size, pending ? ", dropping an unfinished last line" : "");
        rc = input_open(source, input, false, err);
        if (rc) return rc;
        is_draining = false;
    }
}

static int file_source_read(void *state, sl_batch *batch, sl_error *err)
{
    file_source *source = state;
    bool has_waited = false;
    for (;;) {
        /* One round over the inputs, from the current one, until one has lines. */
        for (size_t tried = 0; tried < source->n_inputs; tried++) {
            file_input *input = &source->inputs[source->current];
            if (!input->is_done) {
                if (!input->reader) {
                    int rc = input_open(source, input, true, err);
                    if (rc) return rc;
                }
                int rc = input_read(source, input, batch, err);
                if (input->reader) input->read_to = sl_line_reader_position(input->reader);
                if (rc == SL_OK) return SL_OK;
                if (rc != SL_EOF) return rc;
                if (!source->is_tailing) {
                    input->is_done = true;
                    input_close(input);   /* its reader's memory goes with it */
                }
            }
            source->current = (source->current + 1) % source->n_inputs;
        }
        if (!source->is_tailing) return SL_EOF;
        if (file_source_is_stopping(source) || has_waited) return SL_EAGAIN;
        file_source_wait(source);
        has_waited = true;
    }
}

/* next_offset is a byte position in the generation `partition` of one
 * input; a late commit of an older generation of it (a rotated-away file)
 * no longer says where its path is. */
static int file_source_commit(void *state, int32_t partition, int64_t next_offset,
                              sl_error *err)
{
    file_source *source = state;
    if (!source->positions || partition < 0 || (size_t)partition >= source->n_generations) return SL_OK;
    const file_generation *generation = &source->generations[partition];
    file_input *input = &source->inputs[generation->input];
    if (partition < input->committed_partition) return SL_OK;
    input->committed_partition = partition;
    return sl_positions_set(source->positions, input->path, (uint64_t)generation->dev,
                            (uint64_t)generation->ino, next_offset, err);
}

static int file_source_persist(void *state, sl_error *err)
{
    file_source *source = state;
    return source->positions ? sl_positions_save(source->positions, err) : SL_OK;
}

static bool file_source_ends_by_itself(void *state)
{
    const file_source *source = state;
    return !source->is_tailing;
}

/* Bytes read of every input against their sizes at the start (a file
 * that grew since counts as read up to what was read). */
static void file_source_progress(void *state, sl_source_progress *progress)
{
    const file_source *source = state;
    int64_t done = 0, total = 0;
    bool is_size_known = !source->is_tailing;
    for (size_t i = 0; i < source->n_inputs; i++) {
        const file_input *input = &source->inputs[i];
        done += input->read_to;
        if (input->size < 0) is_size_known = false;
        total += input->read_to > input->size ? input->read_to : input->size;
    }
    progress->done = done;
    if (is_size_known) progress->total = total;
}

const sl_source_ops sl_file_source = {
    .name = "file",
    .description = "JSON lines read from a file or a glob of files, to their end or tailed",
    .options = file_source_options,
    .conf_size = sizeof(sl_file_source_conf),
    .open = file_source_open,
    .read = file_source_read,
    .commit = file_source_commit,
    .persist = file_source_persist,
    .close = file_source_close,
    .ends_by_itself = file_source_ends_by_itself,
    .progress = file_source_progress,
    .check = file_source_check,
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
        rc = errno_error(err, "file sink: cannot open", sink->path);
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
    if (before < 0) return errno_error(err, "file sink: cannot seek in", sink->path);
    if (write_all(sink->fd, sink->lines.data, sink->lines.len) != 0) {
        int saved = errno;
        /* Cut the partial batch off so a retry does not leave a torn line. */
        if (ftruncate(sink->fd, before) != 0)
            sl_warn("file", "%s: cannot cut a failed write back to %jd bytes: %s", sink->path,
                    (intmax_t)before, strerror(errno));
        sl_error_set(err, SL_EIO, "file sink %s: write of %zu bytes at byte %jd: %s", sink->path,
                     sink->lines.len, (intmax_t)before, strerror(saved));
        return sl_error_mark(err, sl_error_class_of_errno(saved));
    }
    if (sink->is_fsync && fsync(sink->fd) != 0) return errno_error(err, "file sink: fsync of", sink->path);
    return SL_OK;
}

const sl_sink_ops sl_file_sink = {
    .name = "file",
    .description = "JSON lines appended to a file, fsync'ed batch by batch",
    .options = file_sink_options,
    .conf_size = sizeof(sl_file_sink_conf),
    .open = file_sink_open,
    .write = file_sink_write,
    .close = file_sink_close,
    .topic_name = NULL,
    .accepts_raw = true,
};
