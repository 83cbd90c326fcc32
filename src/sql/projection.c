/* projection.c — the input paths a statement reads, as a JSON projection.
 *
 * Every PATH node contributes its leading member names; the value where a
 * path stops (or meets an array index) is needed whole. The paths are merged
 * into a tree, and a node needed whole swallows anything deeper under it.
 * `SELECT location, location.city` keeps all of location. A path with no
 * member name (the whole record) makes the projection NULL: keep everything.
 */
#include "sql/projection.h"

#include <stdbool.h>
#include <string.h>

#include "core/error.h"

typedef struct tree_node tree_node;
struct tree_node {
    sl_str key;
    bool is_whole;
    tree_node *first_child;
    tree_node *next_sibling;
};

typedef struct builder {
    sl_arena *arena;
    tree_node root;
    bool is_whole_record;
} builder;

static tree_node *child_named(builder *b, tree_node *parent, sl_str key)
{
    for (tree_node *child = parent->first_child; child; child = child->next_sibling)
        if (sl_str_eq(child->key, key)) return child;
    tree_node *child = sl_arena_calloc(b->arena, sizeof *child);
    char *copy = sl_arena_strndup(b->arena, key.ptr, key.len);
    if (!child || !copy) return NULL;
    child->key = (sl_str){ copy, key.len };
    child->next_sibling = parent->first_child;
    parent->first_child = child;
    return child;
}

static int add_path(builder *b, const sl_sql_expr *path)
{
    size_t n_keys = 0;
    while (n_keys < path->n_steps && !path->steps[n_keys].is_index) n_keys++;
    if (n_keys == 0) {
        b->is_whole_record = true;
        return SL_OK;
    }
    tree_node *node = &b->root;
    for (size_t i = 0; i < n_keys; i++) {
        if (node->is_whole) return SL_OK;
        node = child_named(b, node, path->steps[i].key);
        if (!node) return SL_ENOMEM;
    }
    node->is_whole = true;
    return SL_OK;
}

static int collect(builder *b, const sl_sql_expr *expr)
{
    if (!expr) return SL_OK;
    if (expr->kind == SL_EXPR_PATH)   /* a looked-up row's columns are not the record's */
        return expr->has_base && expr->base_slot != 0 && !expr->is_base_record ? SL_OK : add_path(b, expr);
    int rc = collect(b, expr->operand);   /* CASE x WHEN ...: x */
    if (rc) return rc;
    for (size_t i = 0; i < expr->n_args && rc == SL_OK; i++) rc = collect(b, expr->args[i]);
    return rc;
}

static int freeze(builder *b, const tree_node *node, const sl_json_projection **out)
{
    if (node->is_whole) {
        *out = NULL;
        return SL_OK;
    }
    size_t n = 0;
    for (const tree_node *child = node->first_child; child; child = child->next_sibling) n++;
    sl_json_projection *projection = sl_arena_calloc(b->arena, sizeof *projection);
    sl_str *keys = n ? sl_arena_alloc(b->arena, n * sizeof *keys) : NULL;
    const sl_json_projection **children = n ? sl_arena_alloc(b->arena, n * sizeof *children) : NULL;
    if (!projection || (n && (!keys || !children))) return SL_ENOMEM;
    size_t i = 0;
    for (const tree_node *child = node->first_child; child; child = child->next_sibling, i++) {
        keys[i] = child->key;
        int rc = freeze(b, child, &children[i]);
        if (rc) return rc;
    }
    projection->n_keys = n;
    projection->keys = keys;
    projection->children = children;
    *out = projection;
    return SL_OK;
}

int sl_sql_build_projection(sl_arena *arena, sl_sql_expr *const *exprs, size_t n,
                            const sl_json_projection **out)
{
    builder b = { .arena = arena };
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        int rc = collect(&b, exprs[i]);
        if (rc) return rc;
    }
    if (b.is_whole_record) return SL_OK;
    return freeze(&b, &b.root, out);
}
