/* fuzz_util.h — what several libFuzzer targets share: a private scratch
 * directory, writing an input to a file in it, and a check that aborts
 * (so libFuzzer records the input as a crash) when an invariant breaks.
 * Header-only: each target is one translation unit linked on its own.
 */
#ifndef SL_FUZZ_UTIL_H
#define SL_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logger.h"

/* Aborts with a message when cond is false: a broken invariant is a finding. */
static inline void fuzz_check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz invariant broken: %s\n", what);
        abort();
    }
}

static char fuzz_dir[256];

/* Removes the scratch directory and the files in it (at exit). */
static inline void fuzz_scratch_remove(void)
{
    DIR *listing = opendir(fuzz_dir);
    if (!listing) return;
    struct dirent *entry;
    char path[512];
    while ((entry = readdir(listing)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, entry->d_name);
        unlink(path);
    }
    closedir(listing);
    rmdir(fuzz_dir);
}

/* A directory of this process's own, made once and removed at exit: it is
 * under /dev/shm (or TMPDIR, or /tmp) and holds a few small files at a time. */
static inline const char *fuzz_scratch_dir(void)
{
    if (fuzz_dir[0]) return fuzz_dir;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/sluice-fuzz-XXXXXX", base);
    fuzz_check(mkdtemp(fuzz_dir) != NULL, "cannot make a scratch directory");
    atexit(fuzz_scratch_remove);
    return fuzz_dir;
}

/* Writes data[0..size) to path (truncating); aborts when it cannot. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    fuzz_check(file != NULL, "cannot create a scratch file");
    fuzz_check(size == 0 || fwrite(data, 1, size, file) == size, "cannot write a scratch file");
    fuzz_check(fclose(file) == 0, "cannot close a scratch file");
}

/* Diagnostics would drown the fuzzer's own output: keep errors only. */
static inline void fuzz_quiet(void)
{
    static int done;
    if (!done) sl_logger_configure(SL_LEVEL_OFF, 0);
    done = 1;
}

#endif
