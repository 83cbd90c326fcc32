/* positions.h — where a source without consumer groups (file, generator)
 * got to, kept in the data dir so a rerun continues there instead of
 * repeating itself, as Filebeat's registry or Fluent Bit's DB do.
 *
 * One text file per pipeline, <data_dir>/positions/<pipeline>.positions,
 * one line per entry: "<offset> <dev> <ino> <name>\n", where name is a file
 * path (the file source keeps one entry per file, identified by path and
 * inode) or a fixed word (the generator's "generator.index"). The sources
 * set entries only for what every sink has acknowledged (their commit()),
 * and save them from persist(): the whole file is replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a crash leaves
 * either the old positions or the new ones, and a crash between a sink's
 * write and the save re-reads (at-least-once), never skips.
 *
 * Not thread-safe: a source uses its store from its own thread only.
 */
#ifndef SL_CONNECTOR_POSITIONS_H
#define SL_CONNECTOR_POSITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sl_position {
    char *name;
    uint64_t dev;
    uint64_t ino;
    int64_t offset;
} sl_position;

typedef struct sl_positions sl_positions;

/* Loads the positions of pipeline under data_dir (none yet is an empty
 * store). A malformed file is SL_ECORRUPT naming it and the line. The
 * caller owns *out. */
int sl_positions_open(const char *data_dir, const char *pipeline, sl_positions **out, sl_error *err);
void sl_positions_free(sl_positions *positions);

/* The entry called name, or NULL. Valid until the next set. */
const sl_position *sl_positions_find(const sl_positions *positions, const char *name);

/* Sets (or adds) the entry called name; remembered in memory until save.
 * A name with a newline is SL_EINVAL. */
int sl_positions_set(sl_positions *positions, const char *name, uint64_t dev, uint64_t ino, int64_t offset,
                     sl_error *err);

/* Writes the entries to disk atomically when any changed since the last save. */
int sl_positions_save(sl_positions *positions, sl_error *err);

/* The file the store lives in (for messages). */
const char *sl_positions_path(const sl_positions *positions);

#endif
