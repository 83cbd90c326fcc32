/* fuzz_line_reader.c — libFuzzer target for the line reader shared by the
 * file and stdio sources (connectors/common/line_reader.c).
 *
 * The first input byte picks max_record_bytes (1..256, so that too-long
 * lines are common), the second how much more a too-long line may have to
 * be kept whole for its dead letter; the rest is the file, served from a
 * memfd. Two passes:
 * line by line, where the lines handed out must tile the file exactly (each
 * starts where the last ended, the last ends at the file's size), and in
 * batches through sl_line_reader_fill with a reject handler, the way the
 * sources read (which stops at a line too long to be kept whole).
 */
#include "fuzz_util.h"

#include <sys/mman.h>

#include "connectors/common/line_reader.h"
#include "core/batch.h"

static void count_reject(void *context, const sl_record *record, const char *stage, const char *reason)
{
    fuzz_check(strcmp(stage, "source") == 0 && reason && reason[0], "a reject without stage or reason");
    (*(size_t *)context)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t max_record_bytes = 1 + data[0];
    size_t max_kept_bytes = max_record_bytes + 4 * (size_t)data[1];
    data += 2;
    size -= 2;
    int fd = memfd_create("fuzz_line_reader", 0);
    fuzz_check(fd >= 0, "memfd_create failed");
    fuzz_check(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size, "cannot fill the memfd");
    sl_line_reader *reader = sl_line_reader_new("fuzz", max_record_bytes, max_kept_bytes);
    fuzz_check(reader != NULL, "out of memory");
    sl_error err;

    sl_line_reader_attach(reader, fd, 0);
    sl_line line;
    int64_t expected_offset = 0, number = 0;
    bool has_unkeepable = false;  /* a line too long even to be dead-lettered whole */
    int rc;
    while ((rc = sl_line_reader_next(reader, false, &line, &err)) == SL_OK) {
        fuzz_check(line.offset == expected_offset, "a line does not start where the last ended");
        fuzz_check(line.end_offset > line.offset && line.end_offset <= (int64_t)size, "a line outside the file");
        fuzz_check(line.length <= line.end_offset - line.offset, "a line longer than its bytes");
        fuzz_check(line.number == ++number, "line numbers skip");
        fuzz_check(line.is_too_long == (line.length > (int64_t)max_record_bytes), "too long flag is wrong");
        fuzz_check(line.text.len <= (size_t)line.length, "more text than the line has");
        if (!line.is_too_long) fuzz_check(line.text.len == (size_t)line.length, "a short line lost bytes");
        if (line.is_too_long)
            fuzz_check(line.is_whole == (line.length <= (int64_t)max_kept_bytes) &&
                       line.text.len == (line.is_whole ? (size_t)line.length : 0),
                       "a too-long line is not kept whole up to max_kept_bytes, or kept cut short");
        if (line.is_too_long && !line.is_whole) has_unkeepable = true;
        fuzz_check(line.text.len == 0 || memcmp(line.text.ptr, data + line.offset, line.text.len) == 0,
                   "a line's text is not the file's bytes");
        expected_offset = line.end_offset;
    }
    fuzz_check(rc == SL_EOF, "reading a memfd failed");
    fuzz_check(expected_offset == (int64_t)size, "the lines do not cover the file");

    fuzz_check(lseek(fd, 0, SEEK_SET) == 0, "cannot rewind the memfd");
    sl_line_reader_attach(reader, fd, 0);
    sl_batch *batch = sl_batch_new(8);
    size_t rejected = 0;
    sl_reject_handler reject = { count_reject, &rejected };
    fuzz_check(batch != NULL, "out of memory");
    do {
        sl_batch_reset(batch);
        rc = sl_line_reader_fill(reader, batch, 0, 4096, false, &reject, &err);
    } while (rc == SL_OK);
    /* A line that cannot be dead-lettered whole stops the reading (the run
     * fails loudly rather than store it cut short); otherwise all is read. */
    fuzz_check(rc == SL_EOF || (rc == SL_ETOOBIG && has_unkeepable), "filling from a memfd failed");
    fuzz_check(rc == SL_ETOOBIG || sl_line_reader_position(reader) == (int64_t)size,
               "the batches do not cover the file");

    sl_batch_free(batch);
    sl_line_reader_free(reader);
    close(fd);
    return 0;
}
