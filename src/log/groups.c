/* groups.c — consumer-group offsets: groups/<group>/<topic>.offsets holds one
 * "partition next-offset" line per partition. Each commit replaces the file
 * atomically (write .tmp, fsync, rename, fsync the dir), so after a crash a
 * group has either its old or its new offsets, never a torn mix, and a
 * reader in another process (a read-only log, without the lock) opens
 * either the old file or the new one, never one half written.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buffer.h"
#include "core/decimal.h"
#include "log/fs.h"
#include "log/internal.h"

#define OFFSETS_FILE_MAX (16 * 1024 * 1024)

/* malloc'ed groups/<group> and groups/<group>/<topic>.offsets. */
static int group_paths(sl_log *log, const char *group, const char *topic, char **dir, char **file,
                       sl_error *err)
{
    int rc = sl__log_check_name("group", group, err);
    if (rc == SL_OK) rc = sl__log_check_name("topic", topic, err);
    if (rc) return rc;
    *dir = sl__log_path(log->groups_dir, group, "");
    *file = *dir ? sl__log_path(*dir, topic, ".offsets") : NULL;
    if (!*file) {
        free(*dir);
        *dir = NULL;
        return sl_error_set(err, SL_ENOMEM, "out of memory for group '%s'", group);
    }
    return SL_OK;
}

int sl_log_group_load(sl_log *log, const char *group, const char *topic, int64_t *offsets,
                      int32_t n_partitions, sl_error *err)
{
    char *dir = NULL, *file = NULL, *text = NULL;
    size_t len = 0;
    for (int32_t p = 0; p < n_partitions; p++) offsets[p] = -1;
    int rc = group_paths(log, group, topic, &dir, &file, err);
    if (rc) return rc;
    pthread_mutex_lock(&log->groups_mutex);
    rc = sl_log_fs_read_file(file, OFFSETS_FILE_MAX, &text, &len, err);
    pthread_mutex_unlock(&log->groups_mutex);
    if (rc == SL_ENOTFOUND) {
        rc = SL_OK; /* the group never committed: -1 everywhere */
        goto done;
    }
    if (rc) goto done;
    int line_no = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        uint64_t partition, offset;
        const char *at = line;
        bool is_valid = sl_decimal_read(&at, INT32_MAX, &partition) && *at++ == ' ' &&
                        sl_decimal_read(&at, INT64_MAX, &offset) && *at == '\0';
        if (!is_valid) {
            rc = sl_error_set(err, SL_ECORRUPT, "%s:%d: expected 'partition offset', got '%.60s'",
                              file, line_no, line);
            goto done;
        }
        if (partition < (uint64_t)n_partitions) offsets[partition] = (int64_t)offset;
    }
done:
    free(text);
    free(file);
    free(dir);
    return rc;
}

int sl_log_group_commit(sl_log *log, const char *group, const char *topic, const int64_t *offsets,
                        int32_t n_partitions, sl_error *err)
{
    char *dir = NULL, *file = NULL;
    sl_buffer text = SL_BUFFER_INIT;
    int rc = sl__log_check_writable(log, "commit offsets", err);
    if (rc == SL_OK) rc = group_paths(log, group, topic, &dir, &file, err);
    if (rc) return rc;
    for (int32_t p = 0; p < n_partitions && rc == SL_OK; p++)
        if (offsets[p] >= 0) rc = sl_buffer_printf(&text, "%" PRId32 " %" PRId64 "\n", p, offsets[p]);
    if (rc) {
        sl_error_set(err, rc, "out of memory committing group '%s'", group);
        goto done;
    }
    pthread_mutex_lock(&log->groups_mutex);
    struct stat st;
    if (stat(dir, &st) < 0) {
        /* A new group directory: make its name durable too. */
        rc = sl_log_fs_mkdir(dir, err);
        if (rc == SL_OK) rc = sl_log_fs_fsync_dir(log->groups_dir, err);
    }
    if (rc == SL_OK) rc = sl_log_fs_replace_file(file, text.data ? text.data : "", text.len, err);
    pthread_mutex_unlock(&log->groups_mutex);
    if (rc) sl_error_prefix(err, "group '%s' topic '%s': ", group, topic);
done:
    sl_buffer_free(&text);
    free(file);
    free(dir);
    return rc;
}

int sl_log_group_list(sl_log *log, const char *topic, char ***names, size_t *n_names, sl_error *err)
{
    int rc = sl__log_check_name("topic", topic, err);
    if (rc) return rc;
    size_t inner_len = strlen(topic) + sizeof ".offsets";
    char *inner = malloc(inner_len);
    if (!inner) return sl_error_set(err, SL_ENOMEM, "out of memory listing groups");
    snprintf(inner, inner_len, "%s.offsets", topic);
    pthread_mutex_lock(&log->groups_mutex);
    rc = sl__log_list_dir(log->groups_dir, inner, names, n_names, err);
    pthread_mutex_unlock(&log->groups_mutex);
    free(inner);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries of the given type (DT_DIR or DT_REG) that
 * end in suffix ("" for any), suffix cut off, and pass the name check. */
static int list_entries(const char *dir, unsigned char type, const char *suffix, char ***names, size_t *n_names,
                        sl_error *err)
{
    int rc = SL_OK;
    char **found = NULL;
    size_t n = 0, capacity = 0, suffix_len = strlen(suffix);
    *names = NULL;
    *n_names = 0;
    DIR *listing = opendir(dir);
    if (!listing) {
        if (errno == ENOENT) return SL_OK;
        return sl_error_set(err, SL_EIO, "cannot list %s: %s", dir, strerror(errno));
    }
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len <= suffix_len || strcmp(entry->d_name + len - suffix_len, suffix) != 0) continue;
        unsigned char entry_type = entry->d_type;
        if (entry_type == DT_UNKNOWN) {
            /* Some file systems do not say: ask. */
            char *path = sl__log_path(dir, entry->d_name, "");
            struct stat st;
            if (path && stat(path, &st) == 0) entry_type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
            free(path);
        }
        if (entry_type != type) continue;
        char *name = strndup(entry->d_name, len - suffix_len);
        if (!name) {
            rc = SL_ENOMEM;
            break;
        }
        if (sl__log_check_name("entry", name, NULL)) {
            free(name);
            continue;
        }
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            char **grown = realloc(found, capacity * sizeof *grown);
            if (!grown) {
                free(name);
                rc = SL_ENOMEM;
                break;
            }
            found = grown;
        }
        found[n++] = name;
    }
    closedir(listing);
    if (rc) {
        sl_log_names_free(found, n);
        return sl_error_set(err, rc, "out of memory listing %s", dir);
    }
    if (n) qsort(found, n, sizeof *found, compare_names);
    *names = found;
    *n_names = n;
    return SL_OK;
}

/* The first index of sorted names[0..n) whose name is after `after` (NULL:
 * any) and not before prefix (NULL: any). */
static size_t first_after(char *const *names, size_t n, const char *after, const char *prefix)
{
    size_t low = 0, high = n;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        bool is_before = (after && strcmp(names[middle], after) <= 0) ||
                         (prefix && strcmp(names[middle], prefix) < 0);
        if (is_before) low = middle + 1;
        else high = middle;
    }
    return low;
}

/* Copies of the names of sorted names[0..n) after `after` that start with
 * prefix, at most max, into *out. */
static int copy_page(char *const *names, size_t n, const char *after, const char *prefix, size_t max, char ***out,
                     size_t *n_out)
{
    size_t from = first_after(names, n, after, prefix), prefix_len = prefix ? strlen(prefix) : 0, count = 0;
    while (from + count < n && count < max && (!prefix_len || strncmp(names[from + count], prefix, prefix_len) == 0))
        count++;
    char **copy = malloc((count ? count : 1) * sizeof *copy);
    if (!copy) return SL_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        copy[i] = strdup(names[from + i]);
        if (!copy[i]) {
            sl_log_names_free(copy, i);
            return SL_ENOMEM;
        }
    }
    *out = copy;
    *n_out = count;
    return SL_OK;
}

/* Whether a listing of a directory whose mtime was `mtime`, taken at
 * `listed_at` (both CLOCK_REALTIME), can be trusted while the mtime stays
 * the same: a file system's mtime may be coarser than the time between a
 * listing and an entry made just after it (the "racy git" problem), so only
 * a listing made a clear second after the last change is kept. */
static bool is_listing_settled(struct timespec mtime, struct timespec listed_at)
{
    return listed_at.tv_sec > mtime.tv_sec + 1;
}

int sl_log_groups_page(sl_log *log, const char *after, const char *prefix, size_t max, char ***names,
                       size_t *n_names, sl_error *err)
{
    /* Many thousands of groups cost a few milliseconds to list, and groups
     * are created rarely: the listing is kept while groups/'s mtime (which
     * changes when an entry is added or removed) stays the same, and a page
     * copies only its own names out of it. No lock on the directory:
     * commits only create directories and rename whole files, so a listing
     * sees a group or not, and never stalls a commit. */
    struct stat st;
    bool has_stat = stat(log->groups_dir, &st) == 0;
    *names = NULL;
    *n_names = 0;
    pthread_mutex_lock(&log->group_names_mutex);
    bool is_cached = has_stat && log->has_group_names && st.st_mtim.tv_sec == log->group_names_mtime.tv_sec &&
                     st.st_mtim.tv_nsec == log->group_names_mtime.tv_nsec;
    if (is_cached) {
        int rc = copy_page(log->group_names, log->n_group_names, after, prefix, max, names, n_names);
        pthread_mutex_unlock(&log->group_names_mutex);
        return rc ? sl_error_set(err, rc, "out of memory listing groups") : SL_OK;
    }
    pthread_mutex_unlock(&log->group_names_mutex);
    struct timespec listed_at;
    clock_gettime(CLOCK_REALTIME, &listed_at);
    char **all = NULL;
    size_t n_all = 0;
    int rc = list_entries(log->groups_dir, DT_DIR, "", &all, &n_all, err);
    if (rc) return rc;
    rc = copy_page(all, n_all, after, prefix, max, names, n_names);
    if (rc) {
        sl_log_names_free(all, n_all);
        return sl_error_set(err, rc, "out of memory listing groups");
    }
    if (!has_stat || !is_listing_settled(st.st_mtim, listed_at)) {
        sl_log_names_free(all, n_all);
        return SL_OK;
    }
    pthread_mutex_lock(&log->group_names_mutex);
    sl_log_names_free(log->group_names, log->n_group_names);
    log->group_names = all;   /* kept: the listing is the cache's from here on */
    log->n_group_names = n_all;
    log->group_names_mtime = st.st_mtim;
    log->has_group_names = true;
    pthread_mutex_unlock(&log->group_names_mutex);
    return SL_OK;
}

int sl_log_groups(sl_log *log, char ***names, size_t *n_names, sl_error *err)
{
    return sl_log_groups_page(log, NULL, NULL, SIZE_MAX, names, n_names, err);
}

int sl_log_group_topics(sl_log *log, const char *group, char ***names, size_t *n_names, sl_error *err)
{
    *names = NULL;
    *n_names = 0;
    int rc = sl__log_check_name("group", group, err);
    if (rc) return rc;
    char *dir = sl__log_path(log->groups_dir, group, "");
    if (!dir) return sl_error_set(err, SL_ENOMEM, "out of memory listing group '%s'", group);
    rc = list_entries(dir, DT_REG, ".offsets", names, n_names, err);   /* no lock: as sl_log_groups */
    free(dir);
    return rc;
}
