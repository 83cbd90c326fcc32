/* stdio.c — the `stdio` connector: JSON lines from stdin, to stdout.
 *
 * Source: the file source's line handling (line_reader.c) on fd 0: each
 * non-empty line is a raw record, partition 0, offset = its byte offset in
 * the stream; over-long lines go to the dead-letter topic; the end of stdin
 * ends the source (SL_EOF), a last line without a newline included. Stdin
 * cannot be re-read, so commit() only accepts positions. Progress: bytes
 * read, against the size of the file when stdin is one (`< in.jsonl`).
 *
 * Sink: one JSON line per record (see sl_file_format_lines), the batch
 * written and flushed at once, so a reader of the pipe sees whole batches.
 * It has no settings (conf_size 0). A reader that closes the pipe
 * (`sluice run p.yaml | head -1`) is final: EPIPE (SIGPIPE is ignored) is a
 * permanent error, so the run ends at once with exit 1 and counts only the
 * batches written before. Other errors are classed by errno: ENOSPC, EIO
 * and EINTR are retried, EBADF (stdout closed) and the rest are not.
 */
#include "connectors/stdio/stdio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/file/file.h"
#include "connectors/common/line_reader.h"
#include "core/buffer.h"

#define STDIO_BATCH_BYTES (1u << 20)

static const sl_option stdio_source_options[] = {
    { "max_record_bytes", SL_OPT_SIZE, offsetof(sl_stdio_source_conf, max_record_bytes),
      .default_value = "1MiB", .min = "1", .help = "longer lines go to the dead-letter topic" },
    { 0 }
};

static const sl_option stdio_sink_options[] = {
    { 0 }
};

typedef struct stdio_source {
    const sl_connector_env *env;
    sl_line_reader *reader;
    int64_t size;   /* bytes stdin holds from where it was when opened; -1 = not a file */
} stdio_source;

/* What is left to read of stdin when it is a regular file, else -1. */
static int64_t stdin_size(void)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (at < 0 || at > st.st_size) at = 0;
    return (int64_t)(st.st_size - at);
}

static void stdio_source_close(void *state)
{
    stdio_source *source = state;
    if (!source) return;
    sl_line_reader_free(source->reader);
    free(source);
}

static int stdio_source_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                             sl_error *err)
{
    const sl_stdio_source_conf *conf = conf_ptr;
    stdio_source *source = calloc(1, sizeof *source);
    if (!source) goto fail;
    source->env = env;
    size_t max_record_bytes = conf && conf->max_record_bytes > 0 ? (size_t)conf->max_record_bytes : 0;
    source->reader = sl_line_reader_new("stdin", max_record_bytes, env ? env->reject.max_record_bytes : 0);
    if (!source->reader) goto fail;
    sl_line_reader_attach(source->reader, STDIN_FILENO, 0);
    source->size = stdin_size();
    *state = source;
    return SL_OK;
fail:
    stdio_source_close(source);
    return sl_error_set(err, SL_ENOMEM, "stdio source: no memory");
}

static int stdio_source_read(void *state, sl_batch *batch, sl_error *err)
{
    stdio_source *source = state;
    const sl_reject_handler *reject = source->env ? &source->env->reject : NULL;
    int rc = sl_line_reader_fill(source->reader, batch, 0, STDIO_BATCH_BYTES, false, reject, err);
    if (rc == SL_EOF && batch->n_records > 0) return SL_OK;
    return rc;
}

static int stdio_source_commit(void *state, int32_t partition, int64_t next_offset,
                               sl_error *err)
{
    return SL_OK;
}

/* Stdin ends when its writer closes it. */
static bool stdio_source_ends_by_itself(void *state)
{
    (void)state;
    return true;
}

static void stdio_source_progress(void *state, sl_source_progress *progress)
{
    const stdio_source *source = state;
    progress->done = sl_line_reader_position(source->reader);
    if (source->size >= 0) progress->total = source->size > progress->done ? source->size : progress->done;
}

const sl_source_ops sl_stdio_source = {
    .name = "stdio",
    .description = "JSON lines read from standard input, to its end",
    .options = stdio_source_options,
    .conf_size = sizeof(sl_stdio_source_conf),
    .open = stdio_source_open,
    .read = stdio_source_read,
    .commit = stdio_source_commit,
    .persist = NULL,
    .close = stdio_source_close,
    .ends_by_itself = stdio_source_ends_by_itself,
    .progress = stdio_source_progress,
    .produces_raw = true,
};

typedef struct stdio_sink {
    sl_buffer lines;   /* the batch's text, reused across batches */
} stdio_sink;

static void stdio_sink_close(void *state)
{
    stdio_sink *sink = state;
    if (!sink) return;
    sl_buffer_free(&sink->lines);
    free(sink);
}

static int stdio_sink_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                           sl_error *err)
{
    stdio_sink *sink = calloc(1, sizeof *sink);
    if (!sink) return sl_error_set(err, SL_ENOMEM, "stdio sink: no memory");
    *state = sink;
    return SL_OK;
}

static int stdio_sink_write(void *state, const sl_batch *batch, sl_error *err)
{
    stdio_sink *sink = state;
    sl_buffer_clear(&sink->lines);
    int rc = sl_file_format_lines(&sink->lines, batch);
    if (rc) return sl_error_set(err, rc, "stdio sink: no memory for a batch of %zu records",
                                batch->n_records);
    if (sink->lines.len == 0) return SL_OK;
    /* Through stdout's FILE so lines stay in order with anything else printed there. */
    if (fwrite(sink->lines.data, 1, sink->lines.len, stdout) != sink->lines.len ||
        fflush(stdout) != 0) {
        int saved = errno;
        clearerr(stdout);
        if (saved == EPIPE)
            return sl_error_set_permanent(err, SL_EIO, "stdio sink: stdout was closed by its reader (broken "
                                          "pipe); the batch of %zu records and those after it were not "
                                          "written", batch->n_records);
        sl_error_set(err, SL_EIO, "stdio sink: writing %zu bytes to stdout: %s", sink->lines.len,
                     strerror(saved));
        return sl_error_mark(err, sl_error_class_of_errno(saved));
    }
    return SL_OK;
}

const sl_sink_ops sl_stdio_sink = {
    .name = "stdio",
    .description = "JSON lines written to standard output",
    .options = stdio_sink_options,
    .conf_size = 0,
    .open = stdio_sink_open,
    .write = stdio_sink_write,
    .close = stdio_sink_close,
    .topic_name = NULL,
    .accepts_raw = true,
    .writes_stdout = true,
};
