/* plan_task.c — a pipeline's plan as a DAG task runs it (see plan_task.h):
 * copy the block through fn, set each override at its path, and derive a
 * plan of that one pipeline from base. */
#include "runtime/plan_task.h"

#include <stdio.h>

int sl_plan_for_task(sl_plan *base, const char *name, const sl_node *overrides, sl_node_scalar_fn fn, void *context,
                     sl_plan **out, sl_error *err)
{
    *out = NULL;
    const sl_pipeline_plan *pipeline = sl_plan_pipeline(base, name);
    if (!pipeline) return sl_error_set_permanent(err, SL_ENOTFOUND, "no pipeline named '%s' in %s", name, base->path);
    bool has_overrides = overrides && overrides->kind == SL_NODE_MAP && overrides->n_pairs > 0;
    if (!has_overrides && !fn) {
        *out = sl_plan_retain(base);
        return SL_OK;
    }
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    bool changed = false;
    sl_node *node = NULL;
    int rc = sl_node_copy(arena, pipeline->node, fn, context, &node, &changed, err);
    for (size_t i = 0; rc == SL_OK && has_overrides && i < overrides->n_pairs; i++) {
        const sl_node_pair *pair = &overrides->pairs[i];
        sl_node *value = NULL;
        rc = sl_node_copy(arena, pair->value, fn, context, &value, NULL, err);
        if (rc == SL_OK && !value) {
            rc = sl_error_set_permanent(err, SL_ECONFIG, "%s:%d:%d: overrides.%s: give a value", base->path,
                                        pair->key_line, pair->key_column, pair->key);
            break;
        }
        if (rc == SL_OK) rc = sl_node_set_path(arena, node, pair->key, value, err);
        if (rc == SL_ECONFIG) {
            char message[sizeof err->message];
            snprintf(message, sizeof message, "%s", err->message);
            sl_error_set_permanent(err, SL_ECONFIG, "%s:%d:%d: overrides: %s", base->path, pair->key_line,
                                   pair->key_column, message);
        }
        changed = true;
    }
    if (rc == SL_OK && !changed) {
        sl_arena_free(arena);
        *out = sl_plan_retain(base);
        return SL_OK;
    }
    if (rc) {
        sl_arena_free(arena);
        return rc;
    }
    return sl_plan_derive(base, pipeline->name, node, arena, out, err);
}
