/* line_reader.c — bounded line reading for the file and stdio sources
 * (see line_reader.h).
 *
 * The buffer holds data[start..end): bytes read from the fd and not yet
 * handed out; data[start] sits at file position `position`. Its capacity is
 * larger than max_record_bytes + 2, so when a refill leaves no newline in
 * the pending bytes and they exceed max_record_bytes + 1, the line is over
 * the limit whatever ends it (a "\r" may still come before its "\n"). From
 * then on the reader is "skipping": it copies the line's bytes aside into
 * `held` (while they fit max_kept_bytes; past that it frees them and only
 * counts), drops them from the buffer up to the newline, and finally
 * reports the line as too long. A skip may span many reads and, when
 * tailing, many calls.
 */
#include "connectors/common/line_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buffer.h"
#include "core/clock.h"

#define LINE_READER_MIN_BUFFER (1u << 20)
#define LINE_READER_SLACK (64u * 1024)

struct sl_line_reader {
    const char *name;
    int fd;
    size_t max_record_bytes;
    size_t max_kept_bytes;   /* an oversized line is kept whole up to this */
    char *data;
    size_t capacity;
    size_t start, end;       /* pending bytes */
    size_t scanned;          /* pending bytes already known to hold no newline */
    int64_t position;        /* file position of data[start] */
    int64_t line_count;      /* lines handed out or skipped */
    bool is_numbered;        /* attached at 0: line_count is the file's line number */
    bool is_at_eof;          /* the last read() returned 0 */
    /* An oversized line being skipped. */
    bool is_skipping;
    int64_t skip_offset;
    int64_t skip_length;     /* bytes seen so far, line end not included */
    bool skip_ends_with_cr;  /* the last byte seen was '\r' */
    bool is_held_whole;      /* held has every byte seen so far */
    sl_buffer held;          /* the skipped line's bytes */
};

sl_line_reader *sl_line_reader_new(const char *name, size_t max_record_bytes, size_t max_kept_bytes)
{
    if (max_record_bytes == 0) max_record_bytes = 1u << 20;
    sl_line_reader *reader = calloc(1, sizeof *reader);
    if (!reader) return NULL;
    reader->name = name;
    reader->fd = -1;
    reader->max_record_bytes = max_record_bytes;
    reader->max_kept_bytes = max_kept_bytes;
    reader->capacity = max_record_bytes + LINE_READER_SLACK;
    if (reader->capacity < LINE_READER_MIN_BUFFER) reader->capacity = LINE_READER_MIN_BUFFER;
    reader->data = malloc(reader->capacity);
    if (!reader->data) {
        free(reader);
        return NULL;
    }
    return reader;
}

void sl_line_reader_free(sl_line_reader *reader)
{
    if (!reader) return;
    sl_buffer_free(&reader->held);
    free(reader->data);
    free(reader);
}

void sl_line_reader_attach(sl_line_reader *reader, int fd, int64_t position)
{
    reader->fd = fd;
    reader->start = reader->end = reader->scanned = 0;
    reader->position = position;
    reader->line_count = 0;
    reader->is_numbered = position == 0;
    reader->is_at_eof = false;
    reader->is_skipping = false;
    sl_buffer_free(&reader->held);
}

int64_t sl_line_reader_position(const sl_line_reader *reader)
{
    return reader->position;
}

int64_t sl_line_reader_bytes_read(const sl_line_reader *reader)
{
    return reader->position + (int64_t)(reader->end - reader->start);
}

size_t sl_line_reader_pending(const sl_line_reader *reader)
{
    return reader->end - reader->start;
}

/* Drops n pending bytes (handed out or skipped). */
static void consume(sl_line_reader *reader, size_t n)
{
    reader->start += n;
    reader->position += (int64_t)n;
    reader->scanned = 0;
    if (reader->start == reader->end) reader->start = reader->end = 0;
}

/* One read() into the free space after compacting; sets is_at_eof on 0. */
static int fill(sl_line_reader *reader, sl_error *err)
{
    if (reader->start > 0) {
        size_t pending = reader->end - reader->start;
        memmove(reader->data, reader->data + reader->start, pending);
        reader->start = 0;
        reader->end = pending;
    }
    for (;;) {
        ssize_t n = read(reader->fd, reader->data + reader->end, reader->capacity - reader->end);
        if (n > 0) {
            reader->end += (size_t)n;
            return SL_OK;
        }
        if (n == 0) {
            reader->is_at_eof = true;
            return SL_OK;
        }
        if (errno == EINTR) continue;
        return sl_error_set(err, SL_EIO, "%s: read at byte %" PRId64 ": %s", reader->name,
                            sl_line_reader_bytes_read(reader), strerror(errno));
    }
}

/* Takes bytes[0..n) of the line being skipped into the count and, while
 * they fit max_kept_bytes (a "\r" before the newline may make it one more),
 * into held. */
static int skip_absorb(sl_line_reader *reader, const char *bytes, size_t n, sl_error *err)
{
    if (n == 0) return SL_OK;
    if (reader->is_held_whole && reader->held.len + n > reader->max_kept_bytes + 1) {
        reader->is_held_whole = false;
        sl_buffer_free(&reader->held);
    }
    if (reader->is_held_whole && sl_buffer_append(&reader->held, bytes, n))
        return sl_error_set(err, SL_ENOMEM, "%s: no memory to keep the %" PRId64 "-byte line at byte %" PRId64
                            " for its dead letter", reader->name, reader->skip_length + (int64_t)n,
                            reader->skip_offset);
    reader->skip_length += (int64_t)n;
    reader->skip_ends_with_cr = bytes[n - 1] == '\r';
    return SL_OK;
}

/* Reports the skipped line (end_offset = current position) and stops skipping. */
static void skip_finish(sl_line_reader *reader, sl_line *line)
{
    int64_t length = reader->skip_length - (reader->skip_ends_with_cr ? 1 : 0);
    line->is_whole = reader->is_held_whole && (uint64_t)length <= reader->max_kept_bytes;
    line->text = line->is_whole ? (sl_str){ reader->held.data, (size_t)length } : (sl_str){ "", 0 };
    line->offset = reader->skip_offset;
    line->end_offset = reader->position;
    line->number = ++reader->line_count;
    line->length = length;
    line->is_too_long = true;
    reader->is_skipping = false;
}

/* Starts skipping the pending bytes as the beginning of an oversized line. */
static void skip_begin(sl_line_reader *reader)
{
    reader->is_skipping = true;
    reader->skip_offset = reader->position;
    reader->skip_length = 0;
    reader->skip_ends_with_cr = false;
    reader->is_held_whole = true;
    sl_buffer_clear(&reader->held);
}

/* Hands out data[start..start+n) as a line whose newline is at start+n
 * (has_newline) or which ends at EOF. */
static void take_line(sl_line_reader *reader, size_t n, bool has_newline, sl_line *line)
{
    const char *text = reader->data + reader->start;
    size_t len = n;
    if (len > 0 && text[len - 1] == '\r') len--;
    line->offset = reader->position;
    line->number = ++reader->line_count;
    line->length = (int64_t)len;
    /* A line over the limit that still fit the buffer is handed out whole
     * too: its bytes stay in place until the next call. */
    line->is_too_long = len > reader->max_record_bytes;
    line->is_whole = !line->is_too_long || len <= reader->max_kept_bytes;
    line->text = line->is_whole ? (sl_str){ text, len } : (sl_str){ "", 0 };
    consume(reader, n + (has_newline ? 1 : 0));
    line->end_offset = reader->position;
}

int sl_line_reader_next(sl_line_reader *reader, bool wait_for_newline, sl_line *line,
                        sl_error *err)
{
    for (;;) {
        size_t pending = reader->end - reader->start;
        const char *base = reader->data + reader->start;
        if (reader->is_skipping) {
            const char *newline = memchr(base, '\n', pending);
            if (newline) {
                size_t n = (size_t)(newline - base);
                int rc = skip_absorb(reader, base, n, err);
                if (rc) return rc;
                consume(reader, n + 1);
                skip_finish(reader, line);
                return SL_OK;
            }
            int rc = skip_absorb(reader, base, pending, err);
            if (rc) return rc;
            consume(reader, pending);
            if (reader->is_at_eof) {
                reader->is_at_eof = false;
                if (wait_for_newline) return SL_EOF;
                skip_finish(reader, line);
                return SL_OK;
            }
        } else {
            const char *newline = memchr(base + reader->scanned, '\n', pending - reader->scanned);
            if (newline) {
                take_line(reader, (size_t)(newline - base), true, line);
                return SL_OK;
            }
            reader->scanned = pending;
            if (pending > reader->max_record_bytes + 1) {
                skip_begin(reader);
                continue;
            }
            if (reader->is_at_eof) {
                reader->is_at_eof = false;
                if (pending == 0 || wait_for_newline) return SL_EOF;
                take_line(reader, pending, false, line);
                return SL_OK;
            }
        }
        int rc = fill(reader, err);
        if (rc) return rc;
    }
}

/* A line of only blanks carries no record. */
static bool is_blank(sl_str text)
{
    for (size_t i = 0; i < text.len; i++)
        if (text.ptr[i] != ' ' && text.ptr[i] != '\t' && text.ptr[i] != '\r') return false;
    return true;
}

/* Dead-letters a too-long line whole, or fails when it cannot be kept
 * whole: a dead letter holding less than the line could not be replayed. */
static int reject_too_long(const sl_line_reader *reader, const sl_line *line, int32_t partition,
                           const sl_reject_handler *reject, sl_error *err)
{
    /* Resumed mid-file, the reader does not know the line's number. */
    char which[40] = "the line";
    if (reader->is_numbered) snprintf(which, sizeof which, "line %" PRId64, line->number);
    char reason[256];
    snprintf(reason, sizeof reason, "%s at byte %" PRId64 " is %" PRId64 " bytes, over max_record_bytes %zu",
             which, line->offset, line->length, reader->max_record_bytes);
    if (!line->is_whole)
        return sl_error_set(err, SL_ETOOBIG, "%s: %s, and over the dead-letter topic's limit "
                            "(dlq_max_record_bytes %zu): it can be neither processed nor dead-lettered whole",
                            reader->name, reason, reader->max_kept_bytes);
    if (!reject || !reject->reject) return SL_OK;
    sl_record record;
    memset(&record, 0, sizeof record);
    record.raw = line->text;
    record.partition = partition;
    record.offset = line->offset;
    record.timestamp_ms = sl_clock_wall_ms();
    reject->reject(reject->context, &record, "source", reason);
    return SL_OK;
}

int sl_line_reader_fill(sl_line_reader *reader, sl_batch *batch, int32_t partition, size_t max_batch_bytes,
                        bool wait_for_newline, const sl_reject_handler *reject, sl_error *err)
{
    batch->partition = partition;
    if (batch->n_records == 0) batch->end_offset = reader->position;
    int64_t now_ms = sl_clock_wall_ms();
    while (!sl_batch_is_full(batch) && sl_arena_bytes_used(batch->arena) < max_batch_bytes) {
        sl_line line;
        int rc = sl_line_reader_next(reader, wait_for_newline, &line, err);
        if (rc) return rc;
        batch->end_offset = line.end_offset;
        if (line.is_too_long) {
            rc = reject_too_long(reader, &line, partition, reject, err);
            if (rc) return rc;
            continue;
        }
        if (is_blank(line.text)) continue;
        char *copy = sl_arena_strndup(batch->arena, line.text.ptr, line.text.len);
        if (!copy) return sl_error_set(err, SL_ENOMEM, "%s: no memory for line %" PRId64,
                                       reader->name, line.number);
        sl_record *record = sl_batch_add(batch);
        record->raw = (sl_str){ copy, line.text.len };
        record->partition = partition;
        record->offset = line.offset;
        record->timestamp_ms = now_ms;
        record->has_value = false;
    }
    return SL_OK;
}
