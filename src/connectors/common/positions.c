/* positions.c — the position store of the file and generator sources (see
 * positions.h). A handful of entries per pipeline: a linear scan finds one. */
#include "connectors/common/positions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/decimal.h"
#include "core/paths.h"
#include "log/fs.h"

#define POSITIONS_MAX_FILE_BYTES (16u << 20)

struct sl_positions {
    char *data_dir;
    char *path;             /* <data_dir>/positions/<pipeline>.positions */
    sl_position *entries;
    size_t n_entries;
    size_t capacity;
    bool is_dirty;          /* changed since the last save */
    bool is_dir_synced;     /* the positions directory is known durable */
};

void sl_positions_free(sl_positions *positions)
{
    if (!positions) return;
    for (size_t i = 0; i < positions->n_entries; i++) free(positions->entries[i].name);
    free(positions->entries);
    free(positions->path);
    free(positions->data_dir);
    free(positions);
}

static int add_entry(sl_positions *positions, const char *name, size_t name_len, uint64_t dev, uint64_t ino,
                     int64_t offset)
{
    if (positions->n_entries == positions->capacity) {
        size_t capacity = positions->capacity ? positions->capacity * 2 : 4;
        sl_position *grown = realloc(positions->entries, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        positions->entries = grown;
        positions->capacity = capacity;
    }
    char *copy = strndup(name, name_len);
    if (!copy) return SL_ENOMEM;
    positions->entries[positions->n_entries++] = (sl_position){ copy, dev, ino, offset };
    return SL_OK;
}

/* Parses "<offset> <dev> <ino> <name>" lines. */
static int parse(sl_positions *positions, const char *text, size_t len, sl_error *err)
{
    size_t line_number = 0;
    const char *at = text, *end = text + len;
    while (at < end) {
        const char *newline = memchr(at, '\n', (size_t)(end - at));
        const char *line_end = newline ? newline : end;
        line_number++;
        uint64_t offset, dev, ino;
        char line[80];  /* the three numbers and their spaces fit */
        size_t head = (size_t)(line_end - at) < sizeof line - 1 ? (size_t)(line_end - at) : sizeof line - 1;
        memcpy(line, at, head);
        line[head] = '\0';
        const char *p = line;
        bool is_valid = sl_decimal_read(&p, INT64_MAX, &offset) && *p++ == ' ' &&
                        sl_decimal_read(&p, UINT64_MAX, &dev) && *p++ == ' ' &&
                        sl_decimal_read(&p, UINT64_MAX, &ino) && *p++ == ' ';
        size_t consumed = (size_t)(p - line);
        if (!is_valid || at + consumed >= line_end)
            return sl_error_set(err, SL_ECORRUPT, "%s:%zu: expected '<offset> <dev> <inode> <name>'",
                                positions->path, line_number);
        if (add_entry(positions, at + consumed, (size_t)(line_end - at - consumed), dev, ino, (int64_t)offset))
            return sl_error_set(err, SL_ENOMEM, "out of memory loading %s", positions->path);
        at = newline ? newline + 1 : end;
    }
    return SL_OK;
}

int sl_positions_open(const char *data_dir, const char *pipeline, sl_positions **out, sl_error *err)
{
    if (!pipeline[0] || strchr(pipeline, '/') || pipeline[0] == '.')
        return sl_error_set(err, SL_ECONFIG, "pipeline '%s': a name with '/' or a leading '.' cannot name "
                            "its positions file", pipeline);
    sl_positions *positions = calloc(1, sizeof *positions);
    if (!positions) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = SL_ENOMEM;
    size_t len = strlen(data_dir) + strlen(pipeline) + sizeof "/positions/.positions";
    positions->data_dir = strdup(data_dir);
    positions->path = malloc(len);
    if (!positions->data_dir || !positions->path) {
        sl_error_set(err, rc, "out of memory");
        goto fail;
    }
    snprintf(positions->path, len, "%s/positions/%s.positions", data_dir, pipeline);
    char *text = NULL;
    size_t text_len = 0;
    rc = sl_log_fs_read_file(positions->path, POSITIONS_MAX_FILE_BYTES, &text, &text_len, err);
    if (rc == SL_ENOTFOUND) {
        *out = positions;
        return SL_OK;
    }
    if (rc) goto fail;
    rc = parse(positions, text, text_len, err);
    free(text);
    if (rc) goto fail;
    *out = positions;
    return SL_OK;
fail:
    sl_positions_free(positions);
    return rc;
}

const sl_position *sl_positions_find(const sl_positions *positions, const char *name)
{
    for (size_t i = 0; i < positions->n_entries; i++)
        if (strcmp(positions->entries[i].name, name) == 0) return &positions->entries[i];
    return NULL;
}

int sl_positions_set(sl_positions *positions, const char *name, uint64_t dev, uint64_t ino, int64_t offset,
                     sl_error *err)
{
    if (strchr(name, '\n'))
        return sl_error_set(err, SL_EINVAL, "%s: cannot keep a position for a name with a newline",
                            positions->path);
    for (size_t i = 0; i < positions->n_entries; i++) {
        sl_position *entry = &positions->entries[i];
        if (strcmp(entry->name, name) != 0) continue;
        if (entry->dev != dev || entry->ino != ino || entry->offset != offset) positions->is_dirty = true;
        entry->dev = dev;
        entry->ino = ino;
        entry->offset = offset;
        return SL_OK;
    }
    if (add_entry(positions, name, strlen(name), dev, ino, offset))
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    positions->is_dirty = true;
    return SL_OK;
}

int sl_positions_save(sl_positions *positions, sl_error *err)
{
    if (!positions->is_dirty) return SL_OK;
    int rc = SL_OK;
    if (!positions->is_dir_synced) {
        /* A new positions directory must be durable before the file in it. */
        rc = sl_make_parent_dirs(positions->path, err);
        if (rc == SL_OK) rc = sl_log_fs_fsync_dir(positions->data_dir, err);
        if (rc) return rc;
        positions->is_dir_synced = true;
    }
    sl_buffer text = SL_BUFFER_INIT;
    for (size_t i = 0; i < positions->n_entries && rc == SL_OK; i++) {
        const sl_position *entry = &positions->entries[i];
        rc = sl_buffer_printf(&text, "%" PRId64 " %" PRIu64 " %" PRIu64 " %s\n", entry->offset, entry->dev,
                              entry->ino, entry->name);
    }
    if (rc) rc = sl_error_set(err, SL_ENOMEM, "out of memory saving %s", positions->path);
    else rc = sl_log_fs_replace_file(positions->path, text.data ? text.data : "", text.len, err);
    sl_buffer_free(&text);
    if (rc == SL_OK) positions->is_dirty = false;
    return rc;
}

const char *sl_positions_path(const sl_positions *positions)
{
    return positions->path;
}
