/* fs.h — the file-system calls of the embedded log, through one small vtable.
 *
 * Every open, read, write, fsync, truncate, rename and unlink the log makes
 * goes through the sl_log_fs table in use, so tests can swap in a table that
 * injects short writes, ENOSPC or "crashes" (SQLite's VFS idea). The table's
 * functions have POSIX semantics: -1 and errno on failure.
 *
 * The sl_log_fs_* helpers below wrap those calls and turn failures into
 * SL_E* codes with the path and strerror in the message.
 */
#ifndef SL_LOG_FS_H
#define SL_LOG_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/error.h"

typedef struct sl_log_fs {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*pread)(int fd, void *bytes, size_t len, off_t offset);
    ssize_t (*pwrite)(int fd, const void *bytes, size_t len, off_t offset);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t len);
    int (*fstat)(int fd, struct stat *st);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*rmdir)(const char *path);
    int (*flock)(int fd, int operation);
} sl_log_fs;

/* The plain POSIX table. */
const sl_log_fs *sl_log_fs_default(void);

/* Makes fs the table every later log call uses (NULL = the default). For
 * tests: set it while no other thread is inside the log. Borrows fs. */
void sl_log_fs_set(const sl_log_fs *fs);

/* The table in use. */
const sl_log_fs *sl_log_fs_get(void);

/* open(2) with O_CLOEXEC; SL_ENOTFOUND when the file is absent (without
 * O_CREAT), SL_EIO otherwise. */
int sl_log_fs_open(const char *path, int flags, int *fd, sl_error *err);

/* Closes fd when >= 0. */
void sl_log_fs_close(int fd);

/* Writes all len bytes at offset; a short write is an error (it means the
 * disk is full), reported as SL_EIO naming path. */
int sl_log_fs_pwrite_all(int fd, const void *bytes, size_t len, int64_t offset, const char *path,
                         sl_error *err);

/* Reads up to len bytes at offset, retrying short reads; *got < len only at
 * end of file. */
int sl_log_fs_pread_full(int fd, void *bytes, size_t len, int64_t offset, size_t *got,
                         const char *path, sl_error *err);

int sl_log_fs_fsync(int fd, const char *path, sl_error *err);
int sl_log_fs_truncate(int fd, int64_t len, const char *path, sl_error *err);
int sl_log_fs_size(int fd, int64_t *size, const char *path, sl_error *err);
int sl_log_fs_unlink(const char *path, sl_error *err);     /* absent is fine */
int sl_log_fs_mkdir(const char *path, sl_error *err);      /* existing is fine */

/* Opens the directory and fsyncs it, so a rename or create in it is durable. */
int sl_log_fs_fsync_dir(const char *path, sl_error *err);

/* Writes bytes to path atomically: path.tmp, fsync, rename, fsync the dir. */
int sl_log_fs_replace_file(const char *path, const void *bytes, size_t len, sl_error *err);

/* Reads a whole small file (at most max_len bytes) into a malloc'ed,
 * NUL-terminated buffer the caller frees; SL_ENOTFOUND when absent. */
int sl_log_fs_read_file(const char *path, size_t max_len, char **text, size_t *len, sl_error *err);

/* Removes path and everything under it; absent is fine. */
int sl_log_fs_remove_tree(const char *path, sl_error *err);

#endif
