/* log_readonly_test.c — the read-only open of the embedded log: it takes no
 * lock and changes no file (checked on a tree snapshot, and in a directory
 * the process cannot write), sees a torn or half-written tail as not there
 * yet, follows a writer's appends, rolls and retention, falls back to
 * scanning without index files, and refuses every writing call. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"
#include "log/fs.h"
#include "log/log.h"

static char data_dir[64];

static void make_dir(void)
{
    snprintf(data_dir, sizeof data_dir, "/tmp/sluice-log-ro-test-XXXXXX");
    cr_assert_not_null(mkdtemp(data_dir));
}

static void remove_dir(void)
{
    sl_log_fs_remove_tree(data_dir, NULL);
}

TestSuite(log_readonly, .init = make_dir, .fini = remove_dir);

static sl_log *open_writer(void)
{
    sl_log *log = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "open: %s", err.message);
    return log;
}

static sl_log *open_reader(void)
{
    sl_log *log = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open_readonly(data_dir, &log, &err), SL_OK, "read-only open: %s", err.message);
    return log;
}

static sl_topic *create_topic(sl_log *log, const char *name, sl_topic_config config)
{
    sl_topic *topic = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_topic_create(log, name, &config, &topic, &err), SL_OK, "create: %s", err.message);
    return topic;
}

static sl_topic *open_topic(sl_log *log, const char *name)
{
    sl_topic *topic = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_topic_open(log, name, &topic, &err), SL_OK, "open topic: %s", err.message);
    return topic;
}

/* Appends records "value-<first>".."value-<first+n-1>" as one batch. */
static void append_values(sl_topic *topic, int first, int n)
{
    sl_record *records = calloc((size_t)n, sizeof *records);
    char (*values)[32] = calloc((size_t)n, 32);
    cr_assert(records && values);
    for (int i = 0; i < n; i++) {
        int len = snprintf(values[i], 32, "value-%d", first + i);
        records[i].raw = (sl_str){ values[i], (size_t)len };
        records[i].timestamp_ms = 1000000 + first + i;
    }
    sl_error err = { 0 };
    int64_t first_offset = -1;
    cr_assert_eq(sl_topic_append(topic, 0, records, (size_t)n, &first_offset, &err), SL_OK, "append: %s",
                 err.message);
    cr_assert_eq(first_offset, first);
    free(records);
    free(values);
}

/* Reads partition 0 from offset to the end, checking that every record is
 * value-<its offset> and that offsets only go up by one, except for one
 * jump forward allowed when allow_skip (retention moved the start). Returns
 * the offset after the last record; *n_read counts them, *first the first. */
static int64_t read_to_end(sl_topic *topic, int64_t offset, bool allow_skip, int64_t *n_read, int64_t *first)
{
    sl_batch *batch = sl_batch_new(64);
    int64_t count = 0, expected = offset;
    if (first) *first = -1;
    for (;;) {
        int64_t next = -1;
        sl_error err = { 0 };
        sl_batch_reset(batch);
        cr_assert_eq(sl_topic_read(topic, 0, offset, 1 << 20, batch, &next, &err), SL_OK, "read at %lld: %s",
                     (long long)offset, err.message);
        if (batch->n_records == 0) break;
        for (size_t i = 0; i < batch->n_records; i++) {
            const sl_record *record = &batch->records[i];
            char text[32];
            int len = snprintf(text, sizeof text, "value-%lld", (long long)record->offset);
            cr_assert_eq(record->raw.len, (size_t)len);
            cr_assert_arr_eq(record->raw.ptr, text, (size_t)len);
            if (record->offset != expected) {
                cr_assert(allow_skip && record->offset > expected, "offset %lld after %lld",
                          (long long)record->offset, (long long)expected - 1);
                allow_skip = false;
            }
            if (first && *first < 0) *first = record->offset;
            expected = record->offset + 1;
            count++;
        }
        cr_assert_eq(next, expected);
        offset = next;
    }
    sl_batch_free(batch);
    if (n_read) *n_read = count;
    return offset;
}

static char *segment_path(const char *topic, long long base, const char *suffix)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/topics/%s/0/%020lld%s", data_dir, topic, base, suffix);
    return path;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* How many <base>.log segments partition 0 of topic has on disk. */
static int count_segments(const char *topic)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/topics/%s/0", data_dir, topic);
    DIR *listing = opendir(dir);
    cr_assert_not_null(listing, "%s", dir);
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        size_t len = strlen(entry->d_name);
        n += len > 4 && strcmp(entry->d_name + len - 4, ".log") == 0;
    }
    closedir(listing);
    return n;
}

/* ---- a snapshot of the tree: every path with its type, size and mtime ---- */

static sl_buffer tree;

static int tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    sl_buffer_printf(&tree, "%s %d %lld %lld.%09ld\n", path, type, (long long)st->st_size,
                     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    return 0;
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* malloc'ed, sorted listing of data_dir. */
static char *tree_snapshot(void)
{
    sl_buffer_clear(&tree);
    cr_assert_eq(nftw(data_dir, tree_entry, 16, FTW_PHYS), 0);
    char *text = strndup(tree.data ? tree.data : "", tree.len);
    sl_buffer_free(&tree);
    size_t n = 0;
    char *lines[4096];
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < 4096; line = strtok_r(NULL, "\n", &save))
        lines[n++] = line;
    qsort(lines, n, sizeof *lines, compare_lines);
    sl_buffer sorted = SL_BUFFER_INIT;
    for (size_t i = 0; i < n; i++) sl_buffer_printf(&sorted, "%s\n", lines[i]);
    free(text);
    char *result = strndup(sorted.data ? sorted.data : "", sorted.len);
    sl_buffer_free(&sorted);
    return result;
}

static bool is_writable_mode;

static int chmod_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    mode_t mode = type == FTW_D || type == FTW_DP ? 0755 : 0644;
    return chmod(path, is_writable_mode ? mode : mode & ~(mode_t)0222);
}

/* chmod -R a-w (keeping a+r, and a+x on directories), or back. */
static void set_tree_writable(bool is_writable)
{
    is_writable_mode = is_writable;
    cr_assert_eq(nftw(data_dir, chmod_entry, 16, FTW_PHYS | FTW_DEPTH), 0);
}

/* Three batches of ten; the last one cut short by 7 bytes as a crash
 * mid-append leaves it. Returns the size of the two whole batches. */
static long long write_torn_topic(const char *name)
{
    sl_log *log = open_writer();
    sl_topic *topic = create_topic(log, name, (sl_topic_config){ .partitions = 1 });
    append_values(topic, 0, 10);
    append_values(topic, 10, 10);
    long long good = file_size(segment_path(name, 0, ".log"));
    append_values(topic, 20, 10);
    sl_log_close(log);
    char *path = segment_path(name, 0, ".log");
    cr_assert_eq(truncate(path, file_size(path) - 7), 0);
    return good;
}

Test(log_readonly, a_torn_tail_reads_as_the_whole_batches_before_it_and_nothing_changes)
{
    long long good = write_torn_topic("torn");
    long long torn = file_size(segment_path("torn", 0, ".log"));
    char *before = tree_snapshot();

    sl_log *log = open_reader();
    sl_topic *topic = open_topic(log, "torn");
    cr_assert_eq(sl_topic_start_offset(topic, 0), 0);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 20, "only the whole batches are visible");
    int64_t n_read = 0;
    cr_assert_eq(read_to_end(topic, 0, false, &n_read, NULL), 20);
    cr_assert_eq(n_read, 20);
    cr_assert_eq(read_to_end(topic, 15, false, &n_read, NULL), 20);
    cr_assert_eq(n_read, 5);
    sl_log_close(log);

    char *after = tree_snapshot();
    cr_assert_str_eq(after, before, "a read-only open changed the data dir");
    cr_assert_eq(file_size(segment_path("torn", 0, ".log")), torn, "the torn tail is the writer's to cut");
    cr_assert_neq(torn, good);
    free(before);
    free(after);
}

Test(log_readonly, without_index_files_reads_scan_from_the_segment_start)
{
    sl_log *log = open_writer();
    sl_topic *topic = create_topic(log, "plain", (sl_topic_config){
        .partitions = 1, .segment_bytes = 2000, .index_interval_bytes = 100 });
    for (int i = 0; i < 40; i++) append_values(topic, i * 5, 5);
    sl_log_close(log);
    cr_assert_gt(file_size(segment_path("plain", 0, ".index")), 0, "the writer indexed the segment");
    for (long long base = 0; base < 200; base++) unlink(segment_path("plain", base, ".index"));

    log = open_reader();
    topic = open_topic(log, "plain");
    cr_assert_eq(sl_topic_end_offset(topic, 0), 200);
    int64_t n_read = 0;
    cr_assert_eq(read_to_end(topic, 0, false, &n_read, NULL), 200);
    cr_assert_eq(n_read, 200);
    cr_assert_eq(read_to_end(topic, 123, false, &n_read, NULL), 200);
    cr_assert_eq(n_read, 77);
    sl_log_close(log);
    cr_assert_eq(file_size(segment_path("plain", 0, ".index")), -1, "a reader writes no index");
}

Test(log_readonly, a_batch_being_written_becomes_visible_only_once_whole)
{
    long long good = write_torn_topic("growing");
    char path[256];
    snprintf(path, sizeof path, "%s", segment_path("growing", 0, ".log"));
    /* Make the torn batch whole again from a second topic written the same way. */
    sl_log *writer = open_writer();
    sl_topic *twin = create_topic(writer, "twin", (sl_topic_config){ .partitions = 1 });
    append_values(twin, 0, 10);
    append_values(twin, 10, 10);
    cr_assert_eq(file_size(segment_path("twin", 0, ".log")), good);
    append_values(twin, 20, 10);
    sl_log_close(writer);
    size_t batch_len = (size_t)(file_size(segment_path("twin", 0, ".log")) - good);
    uint8_t *batch = malloc(batch_len);
    int fd = open(segment_path("twin", 0, ".log"), O_RDONLY);
    cr_assert_eq(pread(fd, batch, batch_len, good), (ssize_t)batch_len);
    close(fd);
    cr_assert_eq(truncate(path, good), 0);

    sl_log *log = open_reader();
    sl_topic *topic = open_topic(log, "growing");
    cr_assert_eq(read_to_end(topic, 0, false, NULL, NULL), 20);

    /* The writer's pwrite seen half done: the header and half the records. */
    fd = open(path, O_WRONLY);
    cr_assert_eq(pwrite(fd, batch, batch_len / 2, good), (ssize_t)(batch_len / 2));
    int64_t n_read = -1;
    cr_assert_eq(read_to_end(topic, 20, false, &n_read, NULL), 20);
    cr_assert_eq(n_read, 0, "half a batch is not visible");
    cr_assert_eq(sl_topic_end_offset(topic, 0), 20);

    cr_assert_eq(pwrite(fd, batch + batch_len / 2, batch_len - batch_len / 2, good + (long long)(batch_len / 2)),
                 (ssize_t)(batch_len - batch_len / 2));
    close(fd);
    cr_assert_eq(read_to_end(topic, 20, false, &n_read, NULL), 30);
    cr_assert_eq(n_read, 10, "the batch shows once it is whole");
    cr_assert_eq(sl_topic_end_offset(topic, 0), 30);
    sl_log_close(log);
    free(batch);
}

Test(log_readonly, a_reader_beside_the_writer_follows_appends_and_rolls)
{
    sl_log *writer = open_writer();
    sl_topic *written = create_topic(writer, "live", (sl_topic_config){
        .partitions = 1, .segment_bytes = 1000, .index_interval_bytes = 200 });
    append_values(written, 0, 5);

    sl_log *log = open_reader(); /* the writer holds the lock: no matter */
    sl_topic *topic = open_topic(log, "live");
    int64_t n_read = 0;
    int64_t at = read_to_end(topic, 0, false, &n_read, NULL);
    cr_assert_eq(at, 5);
    cr_assert_eq(n_read, 5);

    for (int i = 1; i < 100; i++) append_values(written, i * 5, 5);
    cr_assert_gt(count_segments("live"), 10, "the writer rolled new segments");
    cr_assert_eq(sl_topic_end_offset(topic, 0), 5, "the reader has not caught up before a read");
    at = read_to_end(topic, at, false, &n_read, NULL);
    cr_assert_eq(at, 500);
    cr_assert_eq(n_read, 495, "every record appended and rolled after the open");
    cr_assert_eq(sl_topic_end_offset(topic, 0), sl_topic_end_offset(written, 0));

    /* A later reader reads the rolled segments from the middle too. */
    cr_assert_eq(read_to_end(topic, 333, false, &n_read, NULL), 500);
    cr_assert_eq(n_read, 167);
    append_values(written, 500, 5);
    cr_assert_eq(read_to_end(topic, 500, false, &n_read, NULL), 505);
    cr_assert_eq(n_read, 5);
    sl_log_close(log);
    sl_log_close(writer);
}

Test(log_readonly, retention_under_a_reader_moves_it_to_the_new_start)
{
    sl_log *writer = open_writer();
    sl_topic *written = create_topic(writer, "kept", (sl_topic_config){
        .partitions = 1, .segment_bytes = 1000, .retention_bytes = 3000 });
    for (int i = 0; i < 20; i++) append_values(written, i * 5, 5);
    cr_assert_eq(sl_topic_start_offset(written, 0), 0, "nothing removed yet");

    /* The reader knows every segment, but has opened none but the last. */
    sl_log *log = open_reader();
    sl_topic *topic = open_topic(log, "kept");
    cr_assert_eq(sl_topic_start_offset(topic, 0), 0);
    cr_assert_eq(sl_topic_end_offset(topic, 0), 100);

    for (int i = 20; i < 100; i++) append_values(written, i * 5, 5);
    int64_t start = sl_topic_start_offset(written, 0);
    cr_assert_gt(start, 100, "retention removed every segment the reader knew");
    cr_assert_eq(file_size(segment_path("kept", 0, ".log")), -1);

    int64_t n_read = 0, first = -1;
    cr_assert_eq(read_to_end(topic, 0, true, &n_read, &first), 500);
    cr_assert_eq(first, start, "the read skipped forward to the new start");
    cr_assert_eq(n_read, 500 - start);
    cr_assert_eq(sl_topic_start_offset(topic, 0), start);

    /* Again with retention removing part of what the reader knows: the
     * next read at the end catches up, and a read below the start then
     * begins at the new one. */
    int64_t before = sl_topic_start_offset(topic, 0);
    for (int i = 100; i < 110; i++) append_values(written, i * 5, 5);
    start = sl_topic_start_offset(written, 0);
    cr_assert_gt(start, before);
    cr_assert_eq(read_to_end(topic, 500, false, &n_read, NULL), 550);
    cr_assert_eq(n_read, 50);
    cr_assert_eq(sl_topic_start_offset(topic, 0), start);
    cr_assert_eq(read_to_end(topic, before, true, &n_read, &first), 550);
    cr_assert_eq(first, start);
    sl_log_close(log);
    sl_log_close(writer);
}

Test(log_readonly, reads_groups_takes_no_lock_and_refuses_every_write)
{
    sl_log *writer = open_writer();
    sl_topic *written = create_topic(writer, "t", (sl_topic_config){ .partitions = 2 });
    append_values(written, 0, 3);
    sl_error err = { 0 };
    int64_t committed[2] = { 2, -1 };
    cr_assert_eq(sl_log_group_commit(writer, "g", "t", committed, 2, &err), SL_OK, "%s", err.message);

    sl_log *log = open_reader();
    sl_topic *topic = open_topic(log, "t");
    char **names = NULL;
    size_t n_names = 0;
    cr_assert_eq(sl_log_topic_list(log, &names, &n_names, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n_names, 1);
    cr_assert_str_eq(names[0], "t");
    sl_log_names_free(names, n_names);
    cr_assert_eq(sl_log_group_list(log, "t", &names, &n_names, &err), SL_OK, "%s", err.message);
    cr_assert_eq(n_names, 1);
    cr_assert_str_eq(names[0], "g");
    sl_log_names_free(names, n_names);
    int64_t loaded[2] = { 0, 0 };
    cr_assert_eq(sl_log_group_load(log, "g", "t", loaded, 2, &err), SL_OK, "%s", err.message);
    cr_assert_eq(loaded[0], 2);
    cr_assert_eq(loaded[1], -1);

    /* A second writer is still refused: the reader did not take the lock,
     * and the writer still holds it. */
    sl_log *second = NULL;
    cr_assert_eq(sl_log_open(data_dir, &second, &err), SL_ELOCKED);

    sl_record record = { .raw = { "x", 1 } };
    cr_assert_eq(sl_topic_append(topic, 0, &record, 1, NULL, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "read-only"), "%s", err.message);
    cr_assert_eq(sl_topic_flush(topic, &err), SL_EINVAL);
    cr_assert_eq(sl_topic_enforce_retention(topic, &err), SL_EINVAL);
    sl_topic *created = NULL;
    sl_topic_config config = { .partitions = 1 };
    cr_assert_eq(sl_log_topic_create(log, "new", &config, &created, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "create a topic") && strstr(err.message, data_dir), "%s", err.message);
    cr_assert_eq(sl_log_topic_delete(log, "t", &err), SL_EINVAL);
    cr_assert_eq(sl_log_group_commit(log, "g", "t", committed, 2, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "commit offsets"), "%s", err.message);
    sl_log_close(log);
    sl_log_close(writer);

    /* Not there at all: an error, and nothing created. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/absent", data_dir);
    cr_assert_eq(sl_log_open_readonly(missing, &log, &err), SL_ENOTFOUND);
    cr_assert(strstr(err.message, missing) && strstr(err.message, "does not exist"), "%s", err.message);
    cr_assert_eq(file_size(missing), -1);
}

Test(log_readonly, opens_and_reads_a_data_dir_the_process_cannot_write)
{
    write_torn_topic("frozen");
    sl_log *writer = open_writer();
    sl_error err = { 0 };
    int64_t committed[1] = { 7 };
    cr_assert_eq(sl_log_group_commit(writer, "g", "frozen", committed, 1, &err), SL_OK, "%s", err.message);
    sl_log_close(writer);
    char *before = tree_snapshot();

    set_tree_writable(false);
    /* root ignores permissions: drop to nobody's uid (the saved uid lets the
     * test come back) so that the directory is really read-only to the log. */
    bool is_root = geteuid() == 0;
    if (is_root) cr_assert_eq(seteuid(65534), 0, "seteuid: %s", strerror(errno));
    char probe[128];
    snprintf(probe, sizeof probe, "%s/probe", data_dir);
    int fd = open(probe, O_WRONLY | O_CREAT, 0644);
    int open_errno = errno;
    if (fd >= 0) close(fd);

    sl_log *log = NULL;
    int rc = sl_log_open_readonly(data_dir, &log, &err);
    int64_t end = -1, n_read = -1, loaded[1] = { -1 };
    char **names = NULL;
    size_t n_names = 0;
    if (rc == SL_OK) rc = sl_log_topic_list(log, &names, &n_names, &err);
    sl_topic *topic = NULL;
    if (rc == SL_OK) rc = sl_log_topic_open(log, "frozen", &topic, &err);
    if (rc == SL_OK) end = read_to_end(topic, 0, false, &n_read, NULL);
    if (rc == SL_OK) rc = sl_log_group_load(log, "g", "frozen", loaded, 1, &err);
    sl_log_close(log);
    sl_log *locked = NULL;
    int writer_rc = sl_log_open(data_dir, &locked, NULL);
    sl_log_close(locked);

    if (is_root) cr_assert_eq(seteuid(0), 0, "seteuid back: %s", strerror(errno));
    set_tree_writable(true);
    cr_assert_lt(fd, 0, "the directory is writable after all (errno %d)", open_errno);
    cr_assert_neq(writer_rc, SL_OK, "a writer cannot open it: the test is real");
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(n_names, 1);
    sl_log_names_free(names, n_names);
    cr_assert_eq(end, 20);
    cr_assert_eq(n_read, 20);
    cr_assert_eq(loaded[0], 7);
    char *after = tree_snapshot();
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
}
