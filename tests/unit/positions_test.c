/* positions_test.c — the position store of the file and generator sources:
 * entries survive a save and a reopen, a save that fails before its rename
 * (a crash between write and rename) leaves the old positions whole, a
 * malformed file is an error naming its line, and the file source resumes
 * from a saved position only for the same inode. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/file/file.h"
#include "connectors/common/positions.h"
#include "core/logger.h"
#include "log/fs.h"
#include "test_util.h"

static char dir[64];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "positions");
    sl_logger_configure(SL_LEVEL_ERROR, 0);
}

static void teardown(void)
{
    sl_log_fs_set(NULL);
    test_remove_tree(dir);
}

TestSuite(positions, .init = setup, .fini = teardown);

static sl_positions *open_store(void)
{
    sl_positions *positions = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_positions_open(dir, "pipe", &positions, &err), SL_OK, "%s", err.message);
    return positions;
}

Test(positions, entries_survive_a_save_and_a_reopen)
{
    sl_positions *positions = open_store();
    cr_assert_null(sl_positions_find(positions, "logs/a b.jsonl"));
    sl_error err = { 0 };
    cr_assert_eq(sl_positions_set(positions, "logs/a b.jsonl", 7, 42, 1234, &err), SL_OK);
    cr_assert_eq(sl_positions_set(positions, "generator.index", 0, 0, 99, &err), SL_OK);
    cr_assert_eq(sl_positions_set(positions, "logs/a b.jsonl", 7, 42, 2000, &err), SL_OK);
    cr_assert_eq(sl_positions_save(positions, &err), SL_OK, "%s", err.message);
    sl_positions_free(positions);

    positions = open_store();
    const sl_position *a = sl_positions_find(positions, "logs/a b.jsonl");
    cr_assert_not_null(a);
    cr_assert_eq(a->dev, 7);
    cr_assert_eq(a->ino, 42);
    cr_assert_eq(a->offset, 2000);
    cr_assert_eq(sl_positions_find(positions, "generator.index")->offset, 99);
    cr_assert_eq(sl_positions_set(positions, "bad\nname", 0, 0, 1, &err), SL_EINVAL);
    sl_positions_free(positions);
}

static int failing_rename(const char *from, const char *to)
{
    errno = EIO;
    return -1;
}

Test(positions, a_save_that_fails_before_its_rename_keeps_the_old_positions)
{
    sl_positions *positions = open_store();
    sl_error err = { 0 };
    cr_assert_eq(sl_positions_set(positions, "in.jsonl", 1, 2, 100, &err), SL_OK);
    cr_assert_eq(sl_positions_save(positions, &err), SL_OK, "%s", err.message);

    static sl_log_fs fs;
    fs = *sl_log_fs_default();
    fs.rename = failing_rename;
    sl_log_fs_set(&fs);
    cr_assert_eq(sl_positions_set(positions, "in.jsonl", 1, 2, 500, &err), SL_OK);
    cr_assert_eq(sl_positions_save(positions, &err), SL_EIO);
    cr_assert(strstr(err.message, "pipe.positions"), "names the file: %s", err.message);
    sl_log_fs_set(NULL);
    sl_positions_free(positions);

    positions = open_store();
    cr_assert_eq(sl_positions_find(positions, "in.jsonl")->offset, 100, "a torn or newer position was read");
    sl_positions_free(positions);
}

Test(positions, a_malformed_file_is_an_error_naming_its_line)
{
    char path[128];
    snprintf(path, sizeof path, "%s/positions", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/positions/pipe.positions", dir);
    test_write_text(path, "10 1 2 a.jsonl\nnonsense\n");
    sl_positions *positions = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_positions_open(dir, "pipe", &positions, &err), SL_ECORRUPT);
    cr_assert(strstr(err.message, "pipe.positions:2:"), "%s", err.message);
    /* An offset past INT64_MAX or a negative one is refused, not clamped. */
    const char *const damaged[] = { "9223372036854775808 1 2 a.jsonl\n", "-5 1 2 a.jsonl\n",
                                    "1 18446744073709551616 2 a.jsonl\n", "1 1 2\n" };
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        test_write_text(path, damaged[i]);
        cr_assert_eq(sl_positions_open(dir, "pipe", &positions, &err), SL_ECORRUPT, "%s", damaged[i]);
    }
}

/* ---- the file source over the store ---- */

static atomic_bool stopping;

static int read_all(const char *path, const char *start, int64_t *first_offset)
{
    sl_connector_env env = { .pipeline = "pipe", .data_dir = dir, .stopping = &stopping };
    sl_file_source_conf conf = { .path = (char *)path, .format = "jsonl", .start = (char *)start };
    void *source = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_file_source.open(&conf, &env, &source, &err), SL_OK, "%s", err.message);
    sl_batch *batch = sl_batch_new(0);
    int n = 0, rc;
    *first_offset = -1;
    while ((rc = sl_file_source.read(source, batch, &err)) == SL_OK) {
        if (*first_offset < 0 && batch->n_records) *first_offset = batch->records[0].offset;
        n += (int)batch->n_records;
        cr_assert_eq(sl_file_source.commit(source, batch->partition, batch->end_offset, &err), SL_OK);
        sl_batch_reset(batch);
    }
    cr_assert_eq(rc, SL_EOF, "%s", err.message);
    cr_assert_eq(sl_file_source.persist(source, &err), SL_OK, "%s", err.message);
    sl_batch_free(batch);
    sl_file_source.close(source);
    return n;
}

Test(positions, the_file_source_resumes_only_the_same_file)
{
    char path[128], other[128];
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    snprintf(other, sizeof other, "%s/other.jsonl", dir);
    test_write_text(path, "{\"a\":1}\n{\"a\":2}\n");
    int64_t first;
    cr_assert_eq(read_all(path, NULL, &first), 2);
    cr_assert_eq(read_all(path, NULL, &first), 0);
    test_write_file(path, "a", "{\"a\":3}\n", 8);
    cr_assert_eq(read_all(path, NULL, &first), 1);
    cr_assert_eq(first, 16);
    cr_assert_eq(read_all(path, "beginning", &first), 3);
    /* Replaced by a longer file (another inode): from its start. */
    test_write_text(other, "{\"b\":1}\n{\"b\":2}\n{\"b\":3}\n{\"b\":4}\n");
    cr_assert_eq(rename(other, path), 0);
    cr_assert_eq(read_all(path, NULL, &first), 4);
    cr_assert_eq(first, 0);
}
