/* views.c — WITH views and FROM (SELECT ...) subqueries, inlined.
 *
 * A view here is a plain statement over the input: SELECT items FROM
 * input (or another view) [WHERE condition]. Reading FROM it is the same as
 * reading the input with the view's expressions in place of its column
 * names and its WHERE added to the outer one, as PostgreSQL's planner
 * inlines such a view; so a statement over views compiles to one program
 * over the input, and windows and GROUP BY work on views as on the input.
 * The table's name or alias may qualify a column (`B.bidder`). A view that
 * groups or windows, and a column the view has not, are mistakes.
 */
#include "sql/views.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_VIEW_DEPTH 16

typedef struct inliner {
    sl_arena *arena;
    sl_error *err;
    const sl_sql_select *view;     /* what the outer statement reads */
    sl_str view_name;
    sl_str alias;
    bool has_window;               /* window_start and window_end are the outer statement's own */
    sl_str join_alias;             /* a lookup join's table: its columns are not the view's */
} inliner;

static bool name_eq(sl_str a, sl_str b)
{
    return a.len == b.len && a.len && strncasecmp(a.ptr, b.ptr, a.len) == 0;
}

/* The name a view's item is known by: its alias, else its path's last
 * member (as compile.c names columns). */
bool sl_sql_view_item_name(const sl_sql_select_item *item, sl_str *out)
{
    if (item->has_alias) {
        *out = item->alias;
        return true;
    }
    const sl_sql_ast *expr = item->expr;
    if (expr->kind != SL_AST_PATH || expr->steps[expr->n_steps - 1].is_index) return false;
    *out = expr->steps[expr->n_steps - 1].key;
    return true;
}

static bool is_bare(const sl_sql_ast *ast, const char *word)
{
    return ast->kind == SL_AST_PATH && ast->n_steps == 1 && !ast->steps[0].is_quoted &&
           ast->steps[0].key.len == strlen(word) && strncasecmp(ast->steps[0].key.ptr, word, ast->steps[0].key.len) == 0;
}

static sl_sql_ast *rewrite(inliner *in, sl_sql_ast *ast, int depth);

static sl_sql_ast *rewrite_path(inliner *in, sl_sql_ast *ast)
{
    if (in->has_window && (is_bare(ast, "window_start") || is_bare(ast, "window_end"))) return ast;
    if (in->join_alias.len && ast->n_steps > 1 && sl_str_eq(ast->steps[0].key, in->join_alias))
        return ast;   /* a column of the looked-up table */
    const sl_sql_path_step *steps = ast->steps;
    size_t n = ast->n_steps;
    if (n > 1 && !steps[0].is_index && (name_eq(steps[0].key, in->alias) || name_eq(steps[0].key, in->view_name))) {
        steps++;
        n--;
    }
    if (in->view->is_star || steps[0].is_index) {
        /* SELECT * views keep the input's names. */
        if (n == ast->n_steps) return ast;
        sl_sql_ast *copy = sl_arena_alloc(in->arena, sizeof *copy);
        if (!copy) return NULL;
        *copy = *ast;
        copy->steps = (sl_sql_path_step *)steps;
        copy->n_steps = n;
        return copy;
    }
    for (size_t i = 0; i < in->view->n_items; i++) {
        const sl_sql_select_item *item = &in->view->items[i];
        sl_str name;
        if (!sl_sql_view_item_name(item, &name) || !sl_str_eq(name, steps[0].key)) continue;
        if (n == 1) return item->expr;
        if (item->expr->kind != SL_AST_PATH) {
            sl_error_set(in->err, SL_ESQL, "line %d column %d: column '%.*s' of view '%.*s' is computed: it has no "
                         "members to follow", ast->line, ast->column, (int)(name.len > 60 ? 60 : name.len), name.ptr,
                         (int)in->view_name.len, in->view_name.ptr);
            return NULL;
        }
        /* A column that is a path: the outer path continues it. */
        sl_sql_ast *copy = sl_arena_alloc(in->arena, sizeof *copy);
        sl_sql_path_step *joined = sl_arena_alloc(in->arena, (item->expr->n_steps + n - 1) * sizeof *joined);
        if (!copy || !joined) return NULL;
        *copy = *item->expr;
        memcpy(joined, item->expr->steps, item->expr->n_steps * sizeof *joined);
        memcpy(joined + item->expr->n_steps, steps + 1, (n - 1) * sizeof *joined);
        copy->steps = joined;
        copy->n_steps = item->expr->n_steps + n - 1;
        return copy;
    }
    sl_error_set(in->err, SL_ESQL, "line %d column %d: column '%.*s' does not exist in view '%.*s'", ast->line,
                 ast->column, (int)(steps[0].key.len > 60 ? 60 : steps[0].key.len), steps[0].key.ptr,
                 (int)in->view_name.len, in->view_name.ptr);
    return NULL;
}

static sl_sql_ast *rewrite(inliner *in, sl_sql_ast *ast, int depth)
{
    if (!ast) return NULL;
    if (depth > 256) {
        sl_error_set(in->err, SL_ESQL, "line %d column %d: expression nested too deeply", ast->line, ast->column);
        return NULL;
    }
    if (ast->kind == SL_AST_PATH) return rewrite_path(in, ast);
    if (!ast->n_args) return ast;
    sl_sql_ast *copy = sl_arena_alloc(in->arena, sizeof *copy);
    sl_sql_ast **args = sl_arena_alloc(in->arena, ast->n_args * sizeof *args);
    if (!copy || !args) return NULL;
    *copy = *ast;
    copy->args = args;
    for (size_t i = 0; i < ast->n_args; i++) {
        args[i] = ast->args[i];
        if (!args[i]) continue;   /* CASE's absent operand or ELSE */
        args[i] = rewrite(in, ast->args[i], depth + 1);
        if (!args[i]) return NULL;
    }
    return copy;
}

static int fail_memory(sl_error *err)
{
    if (err->code == SL_OK) sl_error_set(err, SL_ENOMEM, "out of memory compiling SQL");
    return err->code;
}

static int inline_into(sl_sql_select *select, const sl_sql_view *views, size_t n_views, sl_arena *arena,
                       sl_error *err, int depth);

/* The view select reads FROM, inlined itself first; NULL for the input. */
static int view_of(sl_sql_select *select, const sl_sql_view *views, size_t n_views, sl_arena *arena, sl_error *err,
                   int depth, sl_sql_select **out, sl_str *name)
{
    *out = NULL;
    if (select->from_subquery) {
        *out = select->from_subquery;
        *name = select->from_alias;
    } else {
        for (size_t i = 0; i < n_views && !*out; i++)
            if (name_eq(views[i].name, select->from)) {
                *out = views[i].select;
                *name = views[i].name;
            }
        if (!*out) return SL_OK;
    }
    if (depth >= MAX_VIEW_DEPTH)
        return sl_error_set(err, SL_ESQL, "line %d column %d: views nested more than %d deep (or reading "
                            "themselves)", select->from_line, select->from_column, MAX_VIEW_DEPTH);
    sl_sql_select *view = *out;
    if (view->window.function.len || view->has_group_by || view->having || view->is_distinct || view->limit >= 0)
        return sl_error_set(err, SL_ESQL, "line %d column %d: a view read FROM must be a plain SELECT ... FROM input "
                            "[WHERE ...]: windows, GROUP BY, HAVING, DISTINCT and LIMIT belong to the outer statement",
                            select->from_line, select->from_column);
    return inline_into(view, views, n_views, arena, err, depth + 1);
}

/* Every part of select with in's view in place of its names (the items
 * too unless they are the view's own already). */
static int rewrite_all(inliner *in, sl_sql_select *select, bool rewrites_items)
{
    for (size_t i = 0; rewrites_items && i < select->n_items; i++) {
        sl_sql_select_item *item = &select->items[i];
        sl_str name;
        if (!item->has_alias && sl_sql_view_item_name(item, &name)) {
            /* Named as written, whatever it becomes. */
            item->alias = name;
            item->has_alias = true;
            item->alias_line = item->line;
            item->alias_column = item->column;
        }
        if (!(item->expr = rewrite(in, item->expr, 0))) return fail_memory(in->err);
    }
    if (select->where && !(select->where = rewrite(in, select->where, 0))) return fail_memory(in->err);
    for (size_t i = 0; i < select->n_group_by; i++)
        if (!(select->group_by[i] = rewrite(in, select->group_by[i], 0))) return fail_memory(in->err);
    if (select->having && !(select->having = rewrite(in, select->having, 0))) return fail_memory(in->err);
    if (select->window.descriptor && !(select->window.descriptor = rewrite(in, select->window.descriptor, 0)))
        return fail_memory(in->err);
    if (select->join && select->join->on && !(select->join->on = rewrite(in, select->join->on, 0)))
        return fail_memory(in->err);
    return SL_OK;
}

static int inline_into(sl_sql_select *select, const sl_sql_view *views, size_t n_views, sl_arena *arena,
                       sl_error *err, int depth)
{
    sl_sql_select *view;
    sl_str view_name = { 0 };
    int rc = view_of(select, views, n_views, arena, err, depth, &view, &view_name);
    if (rc) return rc;
    bool has_window = select->window.function.len > 0;
    if (!view) {
        /* The input itself: an alias only qualifies its names. */
        if (!select->from_alias.len) return SL_OK;
        sl_sql_select as_is = { .is_star = true };
        inliner in = { arena, err, &as_is, select->from, select->from_alias, has_window,
                       select->join ? select->join->alias : (sl_str){ 0 } };
        rc = rewrite_all(&in, select, true);
        select->from_alias = (sl_str){ 0 };
        return rc;
    }
    inliner in = { arena, err, view, view_name, select->from_alias, has_window,
                   select->join ? select->join->alias : (sl_str){ 0 } };
    if (select->is_star && !view->is_star) {
        /* SELECT * FROM view: the view's items, already over the input. */
        select->is_star = false;
        select->items = view->items;
        select->n_items = view->n_items;
        rc = rewrite_all(&in, select, false);
    } else {
        rc = rewrite_all(&in, select, true);
    }
    if (rc) return rc;
    if (view->where) {
        if (!select->where) {
            select->where = view->where;
        } else {
            sl_sql_ast *both = sl_arena_calloc(arena, sizeof *both);
            sl_sql_ast **args = sl_arena_alloc(arena, 2 * sizeof *args);
            if (!both || !args) return fail_memory(err);
            both->kind = SL_AST_BINARY;
            both->op = SL_OP_AND;
            both->line = view->where->line;
            both->column = view->where->column;
            args[0] = view->where;
            args[1] = select->where;
            both->args = args;
            both->n_args = 2;
            select->where = both;
        }
    }
    select->from = view->from;
    select->from_line = view->from_line;
    select->from_column = view->from_column;
    select->from_subquery = NULL;
    select->from_alias = (sl_str){ 0 };
    return SL_OK;
}

int sl_sql_view_of(sl_sql_select *item, const sl_sql_view *views, size_t n_views, sl_arena *arena, sl_error *err,
                   sl_sql_select **out, sl_str *name)
{
    return view_of(item, views, n_views, arena, err, 0, out, name);
}

int sl_sql_inline_views(sl_sql_select *select, sl_arena *arena, sl_error *err)
{
    return inline_into(select, select->views, select->n_views, arena, err, 0);
}
