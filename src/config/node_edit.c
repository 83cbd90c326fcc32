/* node_edit.c — changed copies of config subtrees (see node_edit.h). */
#include "config/node_edit.h"

#include <string.h>

static int out_of_memory(sl_error *err)
{
    return sl_error_set(err, SL_ENOMEM, "out of memory");
}

int sl_node_copy(sl_arena *arena, const sl_node *node, sl_node_scalar_fn fn, void *context, sl_node **out,
                 bool *changed, sl_error *err)
{
    *out = NULL;
    if (!node) return SL_OK;
    sl_node *copy = sl_arena_calloc(arena, sizeof *copy);
    if (!copy) return out_of_memory(err);
    *copy = *node;
    int rc = SL_OK;
    if (node->kind == SL_NODE_SCALAR && fn && node->scalar) {
        const char *text = NULL;
        rc = fn(context, arena, node->scalar, &text, err);
        if (rc) return rc;
        if (text != node->scalar && changed) *changed = true;
        copy->scalar = text;
    } else if (node->kind == SL_NODE_MAP && node->n_pairs > 0) {
        copy->pairs = sl_arena_calloc(arena, node->n_pairs * sizeof *copy->pairs);
        if (!copy->pairs) return out_of_memory(err);
        for (size_t i = 0; i < node->n_pairs && rc == SL_OK; i++) {
            copy->pairs[i] = node->pairs[i];
            rc = sl_node_copy(arena, node->pairs[i].value, fn, context, &copy->pairs[i].value, changed, err);
        }
    } else if (node->kind == SL_NODE_LIST && node->n_items > 0) {
        copy->items = sl_arena_calloc(arena, node->n_items * sizeof *copy->items);
        if (!copy->items) return out_of_memory(err);
        for (size_t i = 0; i < node->n_items && rc == SL_OK; i++)
            rc = sl_node_copy(arena, node->items[i], fn, context, &copy->items[i], changed, err);
    }
    if (rc == SL_OK) *out = copy;
    return rc;
}

/* The pair of map with key[0..len), or NULL. */
static sl_node_pair *find_pair(sl_node *map, const char *key, size_t len)
{
    for (size_t i = 0; i < map->n_pairs; i++)
        if (strlen(map->pairs[i].key) == len && memcmp(map->pairs[i].key, key, len) == 0) return &map->pairs[i];
    return NULL;
}

/* Adds key[0..len) to map with value; the pairs move to a bigger array. */
static sl_node_pair *add_pair(sl_arena *arena, sl_node *map, const char *key, size_t len, sl_node *value)
{
    sl_node_pair *pairs = sl_arena_calloc(arena, (map->n_pairs + 1) * sizeof *pairs);
    char *name = sl_arena_strndup(arena, key, len);
    if (!pairs || !name) return NULL;
    if (map->n_pairs) memcpy(pairs, map->pairs, map->n_pairs * sizeof *pairs);
    pairs[map->n_pairs] = (sl_node_pair){ .key = name, .value = value, .key_line = value->line,
                                          .key_column = value->column };
    map->pairs = pairs;
    return &map->pairs[map->n_pairs++];
}

int sl_node_set_path(sl_arena *arena, sl_node *root, const char *path, sl_node *value, sl_error *err)
{
    if (!path || !path[0] || path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, ".."))
        return sl_error_set_permanent(err, SL_ECONFIG, "'%s' is not a setting's path (keys separated by dots, "
                                      "like sink.file.path)", path ? path : "");
    sl_node *map = root;
    const char *step = path;
    for (;;) {
        if (!map || map->kind != SL_NODE_MAP)
            return sl_error_set_permanent(err, SL_ECONFIG, "%s: '%.*s' is not a mapping of settings", path,
                                          (int)(step - path - (step > path)), path);
        const char *dot = strchr(step, '.');
        size_t len = dot ? (size_t)(dot - step) : strlen(step);
        sl_node_pair *pair = find_pair(map, step, len);
        if (!dot) {
            if (pair) pair->value = value;
            else if (!add_pair(arena, map, step, len, value)) return out_of_memory(err);
            return SL_OK;
        }
        if (!pair) {
            sl_node *child = sl_arena_calloc(arena, sizeof *child);
            if (!child) return out_of_memory(err);
            *child = (sl_node){ .kind = SL_NODE_MAP, .file = value->file, .line = value->line,
                                .column = value->column };
            pair = add_pair(arena, map, step, len, child);
            if (!pair) return out_of_memory(err);
        }
        map = pair->value;
        step = dot + 1;
    }
}
