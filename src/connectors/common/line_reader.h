/* line_reader.h — newline-delimited records from a file descriptor, with a
 * bound on record size (shared by the file and stdio sources).
 *
 * Reads with large read() calls into one buffer of fixed size (at least
 * 1 MiB, more when max_record_bytes needs it) and hands out lines one at a
 * time without their "\n" or "\r\n". A line longer than max_record_bytes is
 * reported as too long with all its bytes, so its dead letter can be
 * replayed: the reader copies it aside while skipping it, up to
 * max_kept_bytes (the dead-letter topic's limit). A line longer than that
 * too is counted to its newline but not kept (is_whole false), and filling
 * a batch fails on it rather than dead-lettering less than the line, so
 * memory stays bounded whatever the input. Positions are byte offsets from
 * where the fd was attached (the start of the file for the file source).
 */
#ifndef SL_CONNECTOR_LINE_READER_H
#define SL_CONNECTOR_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "core/batch.h"
#include "core/error.h"

typedef struct sl_line_reader sl_line_reader;

/* One line handed out by sl_line_reader_next. text is valid until the next
 * call on the reader. A too-long line has its whole text when is_whole, and
 * an empty text when it was over max_kept_bytes too; length is always its
 * full length. */
typedef struct sl_line {
    sl_str text;
    int64_t offset;       /* byte offset of the line's first byte */
    int64_t end_offset;   /* byte offset just after its newline (or EOF) */
    int64_t number;       /* 1-based line number, empty lines included, counted
                           * from where the reader was attached */
    int64_t length;       /* bytes in the line, without "\n" / "\r\n" */
    bool is_too_long;
    bool is_whole;        /* text holds every byte of the line */
} sl_line;

/* A reader for lines of at most max_record_bytes (0 = 1 MiB) that keeps
 * longer lines whole up to max_kept_bytes for their dead letters. name
 * (e.g. a path or "stdin") is borrowed for the reader's lifetime and used
 * in error messages. No fd is attached until sl_line_reader_attach. The
 * caller owns the result; NULL when out of memory. */
sl_line_reader *sl_line_reader_new(const char *name, size_t max_record_bytes, size_t max_kept_bytes);

void sl_line_reader_free(sl_line_reader *reader);

/* Starts reading fd (borrowed, not closed by the reader) at its current
 * file offset, which the reader takes as byte position `position` (0 for
 * the start of a file), forgetting any buffered bytes, partial line and
 * line count. */
void sl_line_reader_attach(sl_line_reader *reader, int fd, int64_t position);

/* The next line. When wait_for_newline is false, bytes after the last
 * newline at EOF form a final line; when true (tailing) they stay buffered
 * until their newline arrives. Returns SL_OK with *line, SL_EOF when no
 * complete line is available now (a later call reads again, so appended
 * data is seen), SL_EIO on a read error. */
int sl_line_reader_next(sl_line_reader *reader, bool wait_for_newline, sl_line *line,
                        sl_error *err);

/* Byte position after the last line handed out. */
int64_t sl_line_reader_position(const sl_line_reader *reader);

/* Bytes read from the fd so far (handed out or still buffered). */
int64_t sl_line_reader_bytes_read(const sl_line_reader *reader);

/* Bytes buffered after the last line handed out (a partial line). */
size_t sl_line_reader_pending(const sl_line_reader *reader);

/* Fills batch with the next lines as raw records (of partition, offset = the
 * line's byte offset, has_value false, raw copied into batch->arena) until
 * the batch holds its capacity or about max_batch_bytes. Empty lines (only
 * blanks) are skipped; too-long lines go to reject, whole, with stage
 * "source" and a reason naming line, byte, size and limit. Sets
 * batch->partition and batch->end_offset (the position after the last line
 * consumed). Returns SL_OK when it stopped because the
 * batch is full, SL_EOF when no more lines are available now (the batch may
 * hold records), SL_ETOOBIG for a line over max_kept_bytes too (naming it),
 * or another error. */
int sl_line_reader_fill(sl_line_reader *reader, sl_batch *batch, int32_t partition, size_t max_batch_bytes,
                        bool wait_for_newline, const sl_reject_handler *reject, sl_error *err);

#endif
