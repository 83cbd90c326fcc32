/* log.c — the data dir: its LOCK (flock + our pid, so a second writer gets
 * a clear error), the read-only open that readers use without the lock, the
 * registry of open topics, and topic create, open, list and delete (layout
 * in log.h).
 *
 * Topics open lazily on first use and stay open until sl_log_close or their
 * deletion; the registry mutex makes create/open/delete atomic with respect
 * to each other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/fs.h"
#include "log/internal.h"

char *sl__log_path(const char *a, const char *b, const char *suffix)
{
    size_t len = strlen(a) + 1 + strlen(b) + strlen(suffix) + 1;
    char *path = malloc(len);
    if (path) snprintf(path, len, "%s/%s%s", a, b, suffix);
    return path;
}

int sl__log_check_name(const char *what, const char *name, sl_error *err)
{
    size_t len = strlen(name);
    if (len == 0) return sl_error_set(err, SL_EINVAL, "%s name is empty", what);
    if (len > SL_LOG_NAME_MAX)
        return sl_error_set(err, SL_EINVAL, "%s name '%.40s...' is %zu characters; the limit is %d",
                            what, name, len, SL_LOG_NAME_MAX);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sl_error_set(err, SL_EINVAL, "%s name '%s' is not allowed", what, name);
    size_t good = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
    if (good != len)
        return sl_error_set(err, SL_EINVAL,
                            "%s name '%s' has '%c' at position %zu; use only letters, digits, '.', '_' and '-'",
                            what, name, name[good], good + 1);
    return SL_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sl_log_names_free(char **names, size_t n_names)
{
    if (!names) return;
    for (size_t i = 0; i < n_names; i++) free(names[i]);
    free(names);
}

int sl__log_list_dir(const char *dir, const char *inner, char ***names, size_t *n_names,
                     sl_error *err)
{
    int rc = SL_OK;
    char **found = NULL;
    size_t n = 0, capacity = 0;
    *names = NULL;
    *n_names = 0;
    DIR *listing = opendir(dir);
    if (!listing) {
        if (errno == ENOENT) return SL_OK;
        return sl_error_set(err, SL_EIO, "cannot list %s: %s", dir, strerror(errno));
    }
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        if (sl__log_check_name("entry", entry->d_name, NULL)) continue;
        char *sub = sl__log_path(dir, entry->d_name, "");
        char *marker = sub ? sl__log_path(sub, inner, "") : NULL;
        struct stat st;
        bool is_match = marker && stat(marker, &st) == 0;
        free(marker);
        free(sub);
        if (!is_match) continue;
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            char **grown = realloc(found, capacity * sizeof *grown);
            if (!grown) {
                rc = SL_ENOMEM;
                break;
            }
            found = grown;
        }
        found[n] = strdup(entry->d_name);
        if (!found[n]) {
            rc = SL_ENOMEM;
            break;
        }
        n++;
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

/* Takes data_dir/LOCK or names the process that holds it. */
static int take_lock(sl_log *log, sl_error *err)
{
    char *path = sl__log_path(log->data_dir, "LOCK", "");
    if (!path) return sl_error_set(err, SL_ENOMEM, "out of memory opening %s", log->data_dir);
    int rc = sl_log_fs_open(path, O_RDWR | O_CREAT, &log->lock_fd, err);
    if (rc) goto done;
    if (sl_log_fs_get()->flock(log->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) {
            rc = sl_error_set(err, SL_EIO, "cannot lock %s: %s", path, strerror(errno));
            goto done;
        }
        char pid_text[32] = "";
        size_t got = 0;
        sl_log_fs_pread_full(log->lock_fd, pid_text, sizeof pid_text - 1, 0, &got, path, NULL);
        pid_text[got] = '\0';
        pid_text[strcspn(pid_text, "\r\n")] = '\0';
        rc = sl_error_set(err, SL_ELOCKED, "data dir %s is in use by process %s", log->data_dir,
                          pid_text[0] ? pid_text : "(unknown)");
        goto done;
    }
    char pid_text[32];
    int len = snprintf(pid_text, sizeof pid_text, "%ld\n", (long)getpid());
    rc = sl_log_fs_truncate(log->lock_fd, 0, path, err);
    if (rc == SL_OK) rc = sl_log_fs_pwrite_all(log->lock_fd, pid_text, (size_t)len, 0, path, err);
done:
    if (rc) {
        sl_log_fs_close(log->lock_fd);
        log->lock_fd = -1;
    }
    free(path);
    return rc;
}

/* The sl_log struct with its paths; nothing on disk touched yet. */
static int log_new(const char *data_dir, bool is_read_only, sl_log **out, sl_error *err)
{
    sl_log *log = calloc(1, sizeof *log);
    if (!log) return sl_error_set(err, SL_ENOMEM, "out of memory opening %s", data_dir);
    log->lock_fd = -1;
    log->is_read_only = is_read_only;
    pthread_mutex_init(&log->mutex, NULL);
    pthread_mutex_init(&log->groups_mutex, NULL);
    pthread_mutex_init(&log->group_names_mutex, NULL);
    log->data_dir = strdup(data_dir);
    log->topics_dir = sl__log_path(data_dir, "topics", "");
    log->groups_dir = sl__log_path(data_dir, "groups", "");
    if (!log->data_dir || !log->topics_dir || !log->groups_dir) {
        sl_log_close(log);
        return sl_error_set(err, SL_ENOMEM, "out of memory opening %s", data_dir);
    }
    *out = log;
    return SL_OK;
}

int sl_log_open_readonly(const char *data_dir, sl_log **out, sl_error *err)
{
    struct stat st;
    if (stat(data_dir, &st) < 0)
        return sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "data dir %s: %s", data_dir,
                            errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sl_error_set(err, SL_EINVAL, "data dir %s is not a directory", data_dir);
    return log_new(data_dir, true, out, err);
}

int sl__log_check_writable(const sl_log *log, const char *what, sl_error *err)
{
    if (!log->is_read_only) return SL_OK;
    return sl_error_set(err, SL_EINVAL, "cannot %s: data dir %s was opened read-only (without its lock)",
                        what, log->data_dir);
}

int sl_log_open(const char *data_dir, sl_log **out, sl_error *err)
{
    sl_log *log = NULL;
    int rc = log_new(data_dir, false, &log, err);
    if (rc) return rc;
    rc = sl_log_fs_mkdir(data_dir, err);
    if (rc) goto fail;
    rc = take_lock(log, err);
    if (rc) goto fail;
    rc = sl_log_fs_mkdir(log->topics_dir, err);
    if (rc) goto fail;
    rc = sl_log_fs_mkdir(log->groups_dir, err);
    if (rc) goto fail;
    *out = log;
    return SL_OK;
fail:
    sl_log_close(log);
    return rc;
}

void sl_log_close(sl_log *log)
{
    if (!log) return;
    for (size_t i = 0; i < log->n_topics; i++) sl__topic_free(log->topics[i]);
    free(log->topics);
    sl_log_fs_close(log->lock_fd); /* releases the flock */
    free(log->data_dir);
    free(log->topics_dir);
    free(log->groups_dir);
    pthread_mutex_destroy(&log->mutex);
    pthread_mutex_destroy(&log->groups_mutex);
    sl_log_names_free(log->group_names, log->n_group_names);
    pthread_mutex_destroy(&log->group_names_mutex);
    free(log);
}

/* ---- the topic registry (mutex held) ---- */

static size_t registry_find(const sl_log *log, const char *name)
{
    for (size_t i = 0; i < log->n_topics; i++)
        if (strcmp(log->topics[i]->name, name) == 0) return i;
    return SIZE_MAX;
}

static int registry_add(sl_log *log, sl_topic *topic, sl_error *err)
{
    if (log->n_topics == log->topics_capacity) {
        size_t capacity = log->topics_capacity ? 2 * log->topics_capacity : 8;
        sl_topic **grown = realloc(log->topics, capacity * sizeof *grown);
        if (!grown) return sl_error_set(err, SL_ENOMEM, "out of memory opening topic '%s'", topic->name);
        log->topics = grown;
        log->topics_capacity = capacity;
    }
    log->topics[log->n_topics++] = topic;
    return SL_OK;
}

/* The registered topic, or loads it from disk. */
static int topic_get_locked(sl_log *log, const char *name, sl_topic **out, sl_error *err)
{
    size_t at = registry_find(log, name);
    if (at != SIZE_MAX) {
        *out = log->topics[at];
        return SL_OK;
    }
    char *dir = sl__log_path(log->topics_dir, name, "");
    if (!dir) return sl_error_set(err, SL_ENOMEM, "out of memory opening topic '%s'", name);
    sl_topic *topic = NULL;
    int rc = sl__topic_load(dir, name, log->is_read_only, &topic, err);
    free(dir);
    if (rc == SL_OK) rc = registry_add(log, topic, err);
    if (rc) {
        sl__topic_free(topic);
        return rc;
    }
    *out = topic;
    return SL_OK;
}

int sl_log_topic_open(sl_log *log, const char *name, sl_topic **out, sl_error *err)
{
    int rc = sl__log_check_name("topic", name, err);
    if (rc) return rc;
    pthread_mutex_lock(&log->mutex);
    rc = topic_get_locked(log, name, out, err);
    pthread_mutex_unlock(&log->mutex);
    return rc;
}

int sl_log_topic_create(sl_log *log, const char *name, const sl_topic_config *config,
                        sl_topic **out, sl_error *err)
{
    int rc = sl__log_check_writable(log, "create a topic", err);
    if (rc == SL_OK) rc = sl__log_check_name("topic", name, err);
    if (rc) return rc;
    sl_topic *topic = NULL;
    char *dir = NULL;
    pthread_mutex_lock(&log->mutex);
    rc = topic_get_locked(log, name, &topic, err);
    if (rc == SL_OK) {
        if (config->partitions > 0 && config->partitions != topic->n_partitions) {
            rc = sl_error_set(err, SL_EEXIST,
                              "topic '%s' exists with %d partitions, not the %d asked for", name,
                              (int)topic->n_partitions, (int)config->partitions);
            goto done;
        }
        *out = topic;
        goto done;
    }
    if (rc != SL_ENOTFOUND) goto done;
    dir = sl__log_path(log->topics_dir, name, "");
    if (!dir) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory creating topic '%s'", name);
        goto done;
    }
    topic = NULL;
    rc = sl__topic_create(dir, name, config, &topic, err);
    if (rc == SL_OK) rc = registry_add(log, topic, err);
    if (rc) {
        sl__topic_free(topic);
        goto done;
    }
    sl_log_fs_fsync_dir(log->topics_dir, NULL);
    *out = topic;
done:
    pthread_mutex_unlock(&log->mutex);
    free(dir);
    return rc;
}

int sl_log_topic_list(sl_log *log, char ***names, size_t *n_names, sl_error *err)
{
    pthread_mutex_lock(&log->mutex);
    int rc = sl__log_list_dir(log->topics_dir, "topic.conf", names, n_names, err);
    pthread_mutex_unlock(&log->mutex);
    return rc;
}

/* Removes groups/<group>/<topic>.offsets of every group. */
static int remove_group_offsets(sl_log *log, const char *topic, sl_error *err)
{
    char **groups = NULL;
    size_t n_groups = 0;
    size_t inner_len = strlen(topic) + sizeof ".offsets";
    char *inner = malloc(inner_len);
    if (inner) snprintf(inner, inner_len, "%s.offsets", topic);
    if (!inner) return sl_error_set(err, SL_ENOMEM, "out of memory deleting topic '%s'", topic);
    pthread_mutex_lock(&log->groups_mutex);
    int rc = sl__log_list_dir(log->groups_dir, inner, &groups, &n_groups, err);
    for (size_t i = 0; rc == SL_OK && i < n_groups; i++) {
        char *group_dir = sl__log_path(log->groups_dir, groups[i], "");
        char *path = group_dir ? sl__log_path(group_dir, topic, ".offsets") : NULL;
        rc = path ? sl_log_fs_unlink(path, err) : sl_error_set(err, SL_ENOMEM, "out of memory");
        free(path);
        free(group_dir);
    }
    pthread_mutex_unlock(&log->groups_mutex);
    sl_log_names_free(groups, n_groups);
    free(inner);
    return rc;
}

int sl_log_topic_delete(sl_log *log, const char *name, sl_error *err)
{
    int rc = sl__log_check_writable(log, "delete a topic", err);
    if (rc == SL_OK) rc = sl__log_check_name("topic", name, err);
    if (rc) return rc;
    sl_topic *topic = NULL;
    char *dir = NULL;
    char *conf = NULL;
    pthread_mutex_lock(&log->mutex);
    rc = topic_get_locked(log, name, &topic, err);
    if (rc) goto done;
    size_t at = registry_find(log, name);
    memmove(log->topics + at, log->topics + at + 1, (log->n_topics - at - 1) * sizeof *log->topics);
    log->n_topics--;
    sl__topic_free(topic);
    dir = sl__log_path(log->topics_dir, name, "");
    conf = dir ? sl__log_path(dir, "topic.conf", "") : NULL;
    if (!conf) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory deleting topic '%s'", name);
        goto done;
    }
    /* Without topic.conf the topic no longer exists, even if a crash stops
     * the removal of the rest half way. */
    rc = sl_log_fs_unlink(conf, err);
    if (rc == SL_OK) rc = sl_log_fs_remove_tree(dir, err);
    if (rc == SL_OK) rc = remove_group_offsets(log, name, err);
done:
    pthread_mutex_unlock(&log->mutex);
    free(conf);
    free(dir);
    return rc;
}
