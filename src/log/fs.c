/* fs.c — the default POSIX file-system table and the error-reporting helpers
 * the log uses on top of whichever table is set (see fs.h).
 *
 * Directory listing (opendir/readdir) is not in the table: it never writes,
 * and fault injection is about writes, syncs and renames.
 */
#include "log/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int default_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static int default_mkdir(const char *path, mode_t mode)
{
    return mkdir(path, mode);
}

static const sl_log_fs default_fs = {
    .open = default_open,
    .close = close,
    .pread = pread,
    .pwrite = pwrite,
    .fsync = fsync,
    .ftruncate = ftruncate,
    .fstat = fstat,
    .rename = rename,
    .unlink = unlink,
    .mkdir = default_mkdir,
    .rmdir = rmdir,
    .flock = flock,
};

static _Atomic(const sl_log_fs *) current_fs = &default_fs;

const sl_log_fs *sl_log_fs_default(void)
{
    return &default_fs;
}

void sl_log_fs_set(const sl_log_fs *fs)
{
    atomic_store(&current_fs, fs ? fs : &default_fs);
}

const sl_log_fs *sl_log_fs_get(void)
{
    return atomic_load(&current_fs);
}

int sl_log_fs_open(const char *path, int flags, int *fd, sl_error *err)
{
    int result;
    do {
        result = sl_log_fs_get()->open(path, flags | O_CLOEXEC, 0644);
    } while (result < 0 && errno == EINTR);
    if (result < 0) {
        int code = errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
        return sl_error_set(err, code, "cannot open %s: %s", path, strerror(errno));
    }
    *fd = result;
    return SL_OK;
}

void sl_log_fs_close(int fd)
{
    if (fd >= 0) sl_log_fs_get()->close(fd);
}

int sl_log_fs_pwrite_all(int fd, const void *bytes, size_t len, int64_t offset, const char *path,
                         sl_error *err)
{
    ssize_t n;
    do {
        n = sl_log_fs_get()->pwrite(fd, bytes, len, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return sl_error_set(err, SL_EIO, "cannot write %zu bytes to %s at %lld: %s", len, path,
                            (long long)offset, strerror(errno));
    if ((size_t)n != len)
        return sl_error_set(err, SL_EIO, "short write to %s at %lld: %zd of %zu bytes (%s)", path,
                            (long long)offset, n, len, strerror(ENOSPC));
    return SL_OK;
}

int sl_log_fs_pread_full(int fd, void *bytes, size_t len, int64_t offset, size_t *got,
                         const char *path, sl_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = sl_log_fs_get()->pread(fd, (char *)bytes + done, len - done,
                                           (off_t)(offset + (int64_t)done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return sl_error_set(err, SL_EIO, "cannot read %s at %lld: %s", path,
                                (long long)(offset + (int64_t)done), strerror(errno));
        if (n == 0) break;
        done += (size_t)n;
    }
    *got = done;
    return SL_OK;
}

int sl_log_fs_fsync(int fd, const char *path, sl_error *err)
{
    if (sl_log_fs_get()->fsync(fd) < 0)
        return sl_error_set(err, SL_EIO, "cannot fsync %s: %s", path, strerror(errno));
    return SL_OK;
}

int sl_log_fs_truncate(int fd, int64_t len, const char *path, sl_error *err)
{
    if (sl_log_fs_get()->ftruncate(fd, (off_t)len) < 0)
        return sl_error_set(err, SL_EIO, "cannot truncate %s to %lld bytes: %s", path,
                            (long long)len, strerror(errno));
    return SL_OK;
}

int sl_log_fs_size(int fd, int64_t *size, const char *path, sl_error *err)
{
    struct stat st;
    if (sl_log_fs_get()->fstat(fd, &st) < 0)
        return sl_error_set(err, SL_EIO, "cannot stat %s: %s", path, strerror(errno));
    *size = (int64_t)st.st_size;
    return SL_OK;
}

int sl_log_fs_unlink(const char *path, sl_error *err)
{
    if (sl_log_fs_get()->unlink(path) < 0 && errno != ENOENT)
        return sl_error_set(err, SL_EIO, "cannot remove %s: %s", path, strerror(errno));
    return SL_OK;
}

int sl_log_fs_mkdir(const char *path, sl_error *err)
{
    if (sl_log_fs_get()->mkdir(path, 0755) < 0 && errno != EEXIST)
        return sl_error_set(err, SL_EIO, "cannot create directory %s: %s", path, strerror(errno));
    return SL_OK;
}

int sl_log_fs_fsync_dir(const char *path, sl_error *err)
{
    int fd = -1;
    int rc = sl_log_fs_open(path, O_RDONLY | O_DIRECTORY, &fd, err);
    if (rc) return rc;
    rc = sl_log_fs_fsync(fd, path, err);
    sl_log_fs_close(fd);
    return rc;
}

int sl_log_fs_replace_file(const char *path, const void *bytes, size_t len, sl_error *err)
{
    char tmp[PATH_MAX];
    char dir[PATH_MAX];
    int fd = -1;
    int rc;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return sl_error_set(err, SL_EINVAL, "path too long: %s", path);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");

    rc = sl_log_fs_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, &fd, err);
    if (rc) goto done;
    rc = sl_log_fs_pwrite_all(fd, bytes, len, 0, tmp, err);
    if (rc) goto done;
    rc = sl_log_fs_fsync(fd, tmp, err);
    if (rc) goto done;
    sl_log_fs_close(fd);
    fd = -1;
    if (sl_log_fs_get()->rename(tmp, path) < 0) {
        rc = sl_error_set(err, SL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto done;
    }
    rc = sl_log_fs_fsync_dir(dir, err);
done:
    sl_log_fs_close(fd);
    if (rc) sl_log_fs_get()->unlink(tmp);
    return rc;
}

int sl_log_fs_read_file(const char *path, size_t max_len, char **text, size_t *len, sl_error *err)
{
    int fd = -1;
    char *bytes = NULL;
    int64_t size = 0;
    size_t got = 0;
    int rc = sl_log_fs_open(path, O_RDONLY, &fd, err);
    if (rc) goto done;
    rc = sl_log_fs_size(fd, &size, path, err);
    if (rc) goto done;
    if ((uint64_t)size > max_len) {
        rc = sl_error_set(err, SL_ETOOBIG, "%s is %lld bytes, more than the %zu expected", path,
                          (long long)size, max_len);
        goto done;
    }
    rc = SL_ENOMEM;
    bytes = malloc((size_t)size + 1);
    if (!bytes) goto done;
    rc = sl_log_fs_pread_full(fd, bytes, (size_t)size, 0, &got, path, err);
    if (rc) goto done;
    bytes[got] = '\0';
    *text = bytes;
    *len = got;
    bytes = NULL;
done:
    free(bytes);
    sl_log_fs_close(fd);
    return rc;
}

int sl_log_fs_remove_tree(const char *path, sl_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT) return SL_OK;
        return sl_error_set(err, SL_EIO, "cannot stat %s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) return sl_log_fs_unlink(path, err);

    int rc = SL_OK;
    DIR *dir = opendir(path);
    if (!dir) return sl_error_set(err, SL_EIO, "cannot list %s: %s", path, strerror(errno));
    struct dirent *entry;
    while (rc == SL_OK && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        size_t child_len = strlen(path) + 1 + strlen(entry->d_name) + 1;
        char *child = malloc(child_len);
        if (!child) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory removing %s", path);
            break;
        }
        snprintf(child, child_len, "%s/%s", path, entry->d_name);
        rc = sl_log_fs_remove_tree(child, err);
        free(child);
    }
    closedir(dir);
    if (rc) return rc;
    if (sl_log_fs_get()->rmdir(path) < 0 && errno != ENOENT)
        return sl_error_set(err, SL_EIO, "cannot remove directory %s: %s", path, strerror(errno));
    return SL_OK;
}
