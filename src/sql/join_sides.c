/* join_sides.c — the two sides of a stream join, and the statement over
 * them rewritten into expressions over the two records.
 *
 * Each side is a table (the input, or a topic of a source reading several)
 * or a plain view over one, perhaps under a window table function
 * (`TABLE(TUMBLE(TABLE person, DESCRIPTOR(ts), INTERVAL '10' SECOND)) P`).
 * A name of the statement qualified by a side's alias, or found in exactly
 * one side's view, becomes that side's expression with every path in it
 * marked as read from that side's record (sl_sql_ast.join_side); a
 * windowed side's window_start and window_end become the pair's window
 * slots. The statement then compiles over [left, right, window_start,
 * window_end] as any other over its input (compile_join.c).
 */
#include "sql/join_sides.h"

#include <string.h>
#include <strings.h>

#include "sql/views.h"

typedef struct joiner {
    sl_arena *arena;
    sl_error *err;
    sl_sql_join_side_ast *sides;
} joiner;

static bool name_eq(sl_str a, sl_str b)
{
    return a.len == b.len && a.len && strncasecmp(a.ptr, b.ptr, a.len) == 0;
}

static bool is_word(sl_str s, const char *word)
{
    return s.len == strlen(word) && strncasecmp(s.ptr, word, s.len) == 0;
}

static int fail_memory(sl_error *err)
{
    if (err->code == SL_OK) sl_error_set(err, SL_ENOMEM, "out of memory compiling SQL");
    return err->code;
}

/* A copy of ast whose paths read side's record (side 1 left, 2 right). */
static sl_sql_ast *mark(joiner *j, const sl_sql_ast *ast, int side, int depth)
{
    if (!ast) return NULL;
    if (depth > 256) {
        sl_error_set(j->err, SL_ESQL, "line %d column %d: expression nested too deeply", ast->line, ast->column);
        return NULL;
    }
    sl_sql_ast *copy = sl_arena_alloc(j->arena, sizeof *copy);
    if (!copy) return NULL;
    *copy = *ast;
    if (ast->kind == SL_AST_PATH) {
        copy->join_side = side;
        return copy;
    }
    if (!ast->n_args) return copy;
    copy->args = sl_arena_alloc(j->arena, ast->n_args * sizeof *copy->args);
    if (!copy->args) return NULL;
    for (size_t i = 0; i < ast->n_args; i++) {
        copy->args[i] = NULL;
        if (ast->args[i] && !(copy->args[i] = mark(j, ast->args[i], side, depth + 1))) return NULL;
    }
    return copy;
}

static const sl_sql_select_item *view_item(const sl_sql_select *view, sl_str name)
{
    for (size_t i = 0; view && !view->is_star && i < view->n_items; i++) {
        sl_str item_name;
        if (sl_sql_view_item_name(&view->items[i], &item_name) && sl_str_eq(item_name, name)) return &view->items[i];
    }
    return NULL;
}

/* The column steps[0] (and members after it) of side, over its record. */
static sl_sql_ast *side_column(joiner *j, const sl_sql_join_side_ast *side, const sl_sql_ast *at,
                               const sl_sql_path_step *steps, size_t n)
{
    if (!side->view || side->view->is_star || steps[0].is_index) {
        sl_sql_ast *copy = sl_arena_alloc(j->arena, sizeof *copy);
        if (!copy) return NULL;
        *copy = *at;
        copy->steps = (sl_sql_path_step *)steps;
        copy->n_steps = n;
        return copy;
    }
    const sl_sql_select_item *item = view_item(side->view, steps[0].key);
    if (!item) {
        sl_error_set(j->err, SL_ESQL, "line %d column %d: column '%.*s' does not exist in %.*s", at->line, at->column,
                     (int)(steps[0].key.len > 60 ? 60 : steps[0].key.len), steps[0].key.ptr, (int)side->alias.len,
                     side->alias.ptr);
        return NULL;
    }
    if (n == 1) return item->expr;
    if (item->expr->kind != SL_AST_PATH) {
        sl_error_set(j->err, SL_ESQL, "line %d column %d: column '%.*s' of %.*s is computed: it has no members to "
                     "follow", at->line, at->column, (int)(steps[0].key.len > 60 ? 60 : steps[0].key.len),
                     steps[0].key.ptr, (int)side->alias.len, side->alias.ptr);
        return NULL;
    }
    sl_sql_ast *copy = sl_arena_alloc(j->arena, sizeof *copy);
    sl_sql_path_step *joined = sl_arena_alloc(j->arena, (item->expr->n_steps + n - 1) * sizeof *joined);
    if (!copy || !joined) return NULL;
    *copy = *item->expr;
    memcpy(joined, item->expr->steps, item->expr->n_steps * sizeof *joined);
    memcpy(joined + item->expr->n_steps, steps + 1, (n - 1) * sizeof *joined);
    copy->steps = joined;
    copy->n_steps = item->expr->n_steps + n - 1;
    return copy;
}

/* window_start or window_end of the window (side < 0) or of a side: a
 * path the compiler reads as a slot of the pair. */
static sl_sql_ast *window_column(joiner *j, const sl_sql_ast *at, bool is_end, int side)
{
    sl_sql_ast *copy = sl_arena_alloc(j->arena, sizeof *copy);
    if (!copy) return NULL;
    *copy = *at;
    copy->join_side = SL_SQL_JOIN_SIDE_WINDOW_START + (is_end ? 1 : 0) + (side >= 0 ? 2 + 2 * side : 0);
    return copy;
}

static sl_sql_ast *rewrite_path(joiner *j, const sl_sql_ast *ast)
{
    const sl_sql_path_step *steps = ast->steps;
    size_t n = ast->n_steps;
    int side = -1;
    for (int k = 0; k < 2 && side < 0 && n > 1 && !steps[0].is_index && !steps[0].is_quoted; k++)
        if (name_eq(steps[0].key, j->sides[k].alias)) side = k;
    for (int k = 0; k < 2 && side < 0 && n > 1 && !steps[0].is_index; k++)
        if (sl_str_eq(steps[0].key, j->sides[k].alias)) side = k;
    if (side >= 0) {
        steps++;
        n--;
    }
    bool is_window_name = n == 1 && !steps[0].is_index && !steps[0].is_quoted &&
                          (is_word(steps[0].key, "window_start") || is_word(steps[0].key, "window_end"));
    if (is_window_name && (side >= 0 ? j->sides[side].window != NULL : j->sides[0].window && j->sides[1].window))
        return window_column(j, ast, is_word(steps[0].key, "window_end"), side);
    if (side < 0) {
        int found = -1, n_found = 0, n_open = 0;
        for (int k = 0; k < 2; k++) {
            const sl_sql_join_side_ast *s = &j->sides[k];
            if (!s->view || s->view->is_star) n_open++;
            else if (view_item(s->view, steps[0].key)) {
                found = k;
                n_found++;
            }
        }
        int len = (int)(steps[0].key.len > 60 ? 60 : steps[0].key.len);
        if (n_found == 2 || (n_found == 1 && n_open)) {
            sl_error_set(j->err, SL_ESQL, "line %d column %d: column '%.*s' is ambiguous: write %.*s.%.*s or "
                         "%.*s.%.*s", ast->line, ast->column, len, steps[0].key.ptr, (int)j->sides[0].alias.len,
                         j->sides[0].alias.ptr, len, steps[0].key.ptr, (int)j->sides[1].alias.len,
                         j->sides[1].alias.ptr, len, steps[0].key.ptr);
            return NULL;
        }
        if (n_found == 0) {
            if (n_open)
                sl_error_set(j->err, SL_ESQL, "line %d column %d: column '%.*s' of a join: write which side it is "
                             "from, %.*s.%.*s or %.*s.%.*s", ast->line, ast->column, len, steps[0].key.ptr,
                             (int)j->sides[0].alias.len, j->sides[0].alias.ptr, len, steps[0].key.ptr,
                             (int)j->sides[1].alias.len, j->sides[1].alias.ptr, len, steps[0].key.ptr);
            else
                sl_error_set(j->err, SL_ESQL, "line %d column %d: column '%.*s' does not exist in %.*s or %.*s",
                             ast->line, ast->column, len, steps[0].key.ptr, (int)j->sides[0].alias.len,
                             j->sides[0].alias.ptr, (int)j->sides[1].alias.len, j->sides[1].alias.ptr);
            return NULL;
        }
        side = found;
    }
    sl_sql_ast *column = side_column(j, &j->sides[side], ast, steps, n);
    return column ? mark(j, column, side + 1, 0) : NULL;
}

static sl_sql_ast *rewrite(joiner *j, sl_sql_ast *ast, int depth)
{
    if (!ast) return NULL;
    if (depth > 256) {
        sl_error_set(j->err, SL_ESQL, "line %d column %d: expression nested too deeply", ast->line, ast->column);
        return NULL;
    }
    if (ast->kind == SL_AST_PATH) return rewrite_path(j, ast);
    if (!ast->n_args) return ast;
    sl_sql_ast *copy = sl_arena_alloc(j->arena, sizeof *copy);
    sl_sql_ast **args = sl_arena_alloc(j->arena, ast->n_args * sizeof *args);
    if (!copy || !args) return NULL;
    *copy = *ast;
    copy->args = args;
    for (size_t i = 0; i < ast->n_args; i++) {
        args[i] = ast->args[i];
        if (args[i] && !(args[i] = rewrite(j, ast->args[i], depth + 1))) return NULL;
    }
    return copy;
}

/* One side: what item reads, inlined. */
static int load_side(sl_sql_select *select, sl_sql_select *item, const sl_sql_window_call *window,
                     sl_sql_join_side_ast *side, sl_arena *arena, sl_error *err)
{
    sl_str name = { 0 };
    int rc = sl_sql_view_of(item, select->views, select->n_views, arena, err, &side->view, &name);
    if (rc) return rc;
    side->alias = item->from_alias.len ? item->from_alias : side->view ? name : item->from;
    side->window = window->function.len ? window : NULL;
    if (side->view) {
        side->table = side->view->from;
        side->table_line = side->view->from_line;
        side->table_column = side->view->from_column;
        side->where = side->view->where;
    } else {
        side->table = item->from;
        side->table_line = item->from_line;
        side->table_column = item->from_column;
    }
    if (!side->alias.len)
        return sl_error_set(err, SL_ESQL, "line %d column %d: a subquery in a join needs an alias: (SELECT ...) AS b",
                            item->from_line, item->from_column);
    if (side->window) {
        /* DESCRIPTOR names a column of the side, over its record. */
        joiner j = { arena, err, side };
        const sl_sql_ast *d = window->descriptor;
        side->time = side_column(&j, side, d, d->steps, d->n_steps);
        if (!side->time) return fail_memory(err);
    }
    return SL_OK;
}

int sl_sql_inline_join(sl_sql_select *select, sl_sql_join_side_ast sides[2], sl_arena *arena, sl_error *err)
{
    memset(sides, 0, 2 * sizeof *sides);
    sl_sql_join *join = select->join;
    sl_sql_window_call left_window = select->window;
    select->window = (sl_sql_window_call){ 0 };
    sl_sql_window_call *kept = sl_arena_alloc(arena, sizeof *kept);
    if (!kept) return fail_memory(err);
    *kept = left_window;
    int rc = load_side(select, select, kept, &sides[0], arena, err);
    if (rc == SL_OK) rc = load_side(select, join->right, &join->right->window, &sides[1], arena, err);
    if (rc) return rc;
    if (name_eq(sides[0].alias, sides[1].alias))
        return sl_error_set(err, SL_ESQL, "line %d column %d: both sides of the join are called '%.*s': give one "
                            "an alias", join->line, join->column, (int)sides[0].alias.len, sides[0].alias.ptr);
    if (select->is_star)
        return sl_error_set(err, SL_ESQL, "line %d column %d: SELECT * with a join: name the columns wanted, from "
                            "%.*s and from %.*s", join->line, join->column, (int)sides[0].alias.len,
                            sides[0].alias.ptr, (int)sides[1].alias.len, sides[1].alias.ptr);
    joiner j = { arena, err, sides };
    for (size_t i = 0; i < select->n_items; i++) {
        sl_sql_select_item *item = &select->items[i];
        sl_str name;
        if (!item->has_alias && item->expr->kind == SL_AST_PATH && sl_sql_view_item_name(item, &name)) {
            /* Named as written (P.name is "name"), whatever it becomes. */
            item->alias = name;
            item->has_alias = true;
            item->alias_line = item->line;
            item->alias_column = item->column;
        }
        if (!(item->expr = rewrite(&j, item->expr, 0))) return fail_memory(err);
    }
    if (select->where && !(select->where = rewrite(&j, select->where, 0))) return fail_memory(err);
    if (join->on && !(join->on = rewrite(&j, join->on, 0))) return fail_memory(err);
    for (size_t i = 0; i < select->n_group_by; i++)
        if (!(select->group_by[i] = rewrite(&j, select->group_by[i], 0))) return fail_memory(err);
    if (select->having && !(select->having = rewrite(&j, select->having, 0))) return fail_memory(err);
    return SL_OK;
}
