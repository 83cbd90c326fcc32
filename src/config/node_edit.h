/* node_edit.h — changed copies of a config subtree: every scalar passed
 * through a function (a DAG task's run macros), and settings replaced at
 * dotted paths (a pipeline task's overrides). The copy keeps each node's
 * file, line and column, so a mistake in it is reported where it was
 * written. Everything is allocated in the caller's arena.
 */
#ifndef SL_NODE_EDIT_H
#define SL_NODE_EDIT_H

#include <stdbool.h>

#include "config/config.h"
#include "core/arena.h"
#include "core/error.h"

/* Rewrites one scalar: *out is text itself when unchanged, else a copy in
 * arena. */
typedef int (*sl_node_scalar_fn)(void *context, sl_arena *arena, const char *text, const char **out, sl_error *err);

/* A copy of node (NULL gives NULL) with each scalar through fn (NULL: as
 * it is); *changed (may be NULL) is set when fn changed one. */
int sl_node_copy(sl_arena *arena, const sl_node *node, sl_node_scalar_fn fn, void *context, sl_node **out,
                 bool *changed, sl_error *err);

/* Sets the setting at path ("sink.file.path": keys of nested maps, dot
 * separated) of the map root to value (borrowed into the tree), creating
 * the maps on the way that are missing. SL_ECONFIG when a step of path is
 * not a map (at its node) or path is empty. */
int sl_node_set_path(sl_arena *arena, sl_node *root, const char *path, sl_node *value, sl_error *err);

#endif
