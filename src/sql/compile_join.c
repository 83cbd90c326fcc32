/* compile_join.c — a join of two streams into the program's stream_join.
 *
 * join_sides.c has rewritten the statement over the two records; here ON
 * is split into its conjuncts (an AND tree) and each is read for what it
 * says:
 *   left_expr = right_expr           a key: rows meet when the keys are equal
 *   L.window_start = R.window_start  (and window_end) a window join
 *   R.ts BETWEEN L.ts AND L.ts + INTERVAL '1' HOUR, or <, <=, >, >= of a
 *   time of each side (± a constant interval)
 *                                    the bounds of an interval join: the
 *                                    first comparison with an interval
 *                                    names the two time columns, and every
 *                                    comparison of those two is a bound
 *   one side's alone                 pushed into that side's filter (if
 *                                    the side keeps no unmatched rows)
 *   anything else                    a condition over the pair
 * WHERE's conjuncts of one side are pushed the same way (when that side is
 * never NULL), so rows that cannot come out are never kept.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/compile_internal.h"
#include "sql/interval.h"
#include "sql/join_sides.h"
#include "sql/projection.h"

#define MAX_KEYS 16
#define MAX_CONJUNCTS 256

enum { MENTIONS_LEFT = 1, MENTIONS_RIGHT = 2, MENTIONS_WINDOW = 4 };

typedef struct join_parts {
    const sl_sql_ast *key_asts[2][MAX_KEYS];
    size_t n_keys;
    const sl_sql_ast *times[2];       /* the time paths the bounds compare */
    bool has_lower, has_upper;
    int64_t lower_us, upper_us;       /* on right's time - left's */
    const sl_sql_ast *bounds[MAX_CONJUNCTS];   /* the conjuncts that gave them */
    size_t n_bounds;
    const sl_sql_ast *candidates[MAX_CONJUNCTS];   /* comparisons of a term of each side */
    size_t n_candidates;
    const sl_sql_ast *anchor;         /* the first of them with an interval: it names the times */
    bool has_start_equality, has_end_equality;
    const sl_sql_ast *rest[MAX_CONJUNCTS];     /* conditions over the pair */
    size_t n_rest;
    const sl_sql_ast *pushed[2][MAX_CONJUNCTS];  /* conditions of one side */
    size_t n_pushed[2];
} join_parts;

static int fail_memory(sl_sql_compiler *c)
{
    if (c->err->code == SL_OK) sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    return c->err->code;
}

static int mentions(const sl_sql_ast *ast)
{
    if (!ast) return 0;
    if (ast->kind == SL_AST_PATH) {
        if (ast->join_side == 1) return MENTIONS_LEFT;
        if (ast->join_side == 2) return MENTIONS_RIGHT;
        return ast->join_side ? MENTIONS_WINDOW : 0;
    }
    int found = 0;
    for (size_t i = 0; i < ast->n_args; i++) found |= mentions(ast->args[i]);
    return found;
}

static int too_many(sl_sql_compiler *c, const sl_sql_ast *at)
{
    return sl_error_set(c->err, SL_ESQL, "line %d column %d: a join's ON has more than %d conditions", at->line,
                        at->column, MAX_CONJUNCTS);
}

/* A constant interval of fixed length, µs; false for anything else. */
static bool constant_interval(sl_sql_compiler *c, const sl_sql_ast *ast, int64_t *out)
{
    if (mentions(ast) || ast->kind == SL_AST_PATH) return false;
    sl_sql_expr *expr = sl_sql_resolve(c, ast, 1);
    if (!expr) {
        sl_error_clear(c->err);
        return false;
    }
    return expr->kind == SL_EXPR_CONST && !expr->fold_error && expr->constant.type == SL_TYPE_INTERVAL &&
           sl_sql_interval_fixed_micros(&expr->constant, out);
}

/* side's time path ± a constant interval: *side 0 or 1. */
static bool time_term(sl_sql_compiler *c, const sl_sql_ast *ast, int *side, const sl_sql_ast **path, int64_t *offset,
                      bool *has_interval)
{
    if (ast->kind == SL_AST_PATH && (ast->join_side == 1 || ast->join_side == 2)) {
        *side = ast->join_side - 1;
        *path = ast;
        *offset = 0;
        return true;
    }
    if (ast->kind != SL_AST_BINARY || (ast->op != SL_OP_ADD && ast->op != SL_OP_SUB)) return false;
    int64_t us;
    if (!time_term(c, ast->args[0], side, path, offset, has_interval) || !constant_interval(c, ast->args[1], &us))
        return false;
    *has_interval = true;
    if (ast->op == SL_OP_SUB) us = -us;
    if ((us > 0 && *offset > INT64_MAX - us) || (us < 0 && *offset < INT64_MIN - us)) return false;
    *offset += us;
    return true;
}

static bool same_path(const sl_sql_ast *a, const sl_sql_ast *b)
{
    if (a->join_side != b->join_side || a->n_steps != b->n_steps) return false;
    for (size_t i = 0; i < a->n_steps; i++) {
        const sl_sql_path_step *x = &a->steps[i], *y = &b->steps[i];
        if (x->is_index != y->is_index) return false;
        if (x->is_index ? x->index != y->index : !sl_str_eq(x->key, y->key)) return false;
    }
    return true;
}

static sl_sql_operator mirrored(sl_sql_operator op)
{
    switch (op) {
    case SL_OP_LT: return SL_OP_GT;
    case SL_OP_LE: return SL_OP_GE;
    case SL_OP_GT: return SL_OP_LT;
    case SL_OP_GE: return SL_OP_LE;
    default: return op;
    }
}

/* a op b over one time of each side: a bound on right - left. 1 taken, 0
 * not a bound, <0 an error. */
static int take_bound(sl_sql_compiler *c, join_parts *parts, const sl_sql_ast *at, sl_sql_operator op,
                      const sl_sql_ast *a, const sl_sql_ast *b)
{
    int side_a, side_b;
    const sl_sql_ast *path_a, *path_b;
    int64_t offset_a, offset_b;
    bool has_interval = false;
    if (!time_term(c, a, &side_a, &path_a, &offset_a, &has_interval) ||
        !time_term(c, b, &side_b, &path_b, &offset_b, &has_interval) || side_a == side_b)
        return 0;
    const sl_sql_ast *paths[2] = { side_a ? path_b : path_a, side_a ? path_a : path_b };
    for (int k = 0; k < 2; k++)
        if (parts->times[k] && !same_path(parts->times[k], paths[k])) return 0;   /* other columns: a condition */
    for (int k = 0; k < 2; k++) parts->times[k] = paths[k];
    /* a + oa op b + ob. With d = right - left: left on the left of op
     * means d (mirrored op) oa - ob; right on the left, d op ob - oa. */
    int64_t limit;
    if (side_a == 0) {
        op = mirrored(op);
        if (__builtin_sub_overflow(offset_a, offset_b, &limit)) return 0;
    } else if (__builtin_sub_overflow(offset_b, offset_a, &limit)) {
        return 0;
    }
    switch (op) {
    case SL_OP_GT:
        if (limit == INT64_MAX) return 0;
        limit++;
        /* fall through */
    case SL_OP_GE:
        if (!parts->has_lower || limit > parts->lower_us) parts->lower_us = limit;
        parts->has_lower = true;
        break;
    case SL_OP_LT:
        if (limit == INT64_MIN) return 0;
        limit--;
        /* fall through */
    case SL_OP_LE:
        if (!parts->has_upper || limit < parts->upper_us) parts->upper_us = limit;
        parts->has_upper = true;
        break;
    default: return 0;
    }
    if (parts->n_bounds == MAX_CONJUNCTS) return too_many(c, at);
    parts->bounds[parts->n_bounds++] = at;
    return 1;
}

static bool is_comparison(sl_sql_operator op)
{
    return op == SL_OP_LT || op == SL_OP_LE || op == SL_OP_GT || op == SL_OP_GE;
}

/* A conjunct of ON that is neither a key nor a bound: one side's alone is
 * pushed into that side's filter (a row of a kept side still comes out
 * unmatched, so only a side that keeps nothing is filtered); the rest is a
 * condition over the pair. */
static int keep_condition(sl_sql_compiler *c, const sl_sql_join *join, join_parts *parts, const sl_sql_ast *ast)
{
    int found = mentions(ast);
    for (int k = 0; k < 2; k++) {
        int only = k ? MENTIONS_RIGHT : MENTIONS_LEFT;
        bool is_kept = k ? join->is_right : join->is_left;
        if (found != only || is_kept) continue;
        if (parts->n_pushed[k] == MAX_CONJUNCTS) return too_many(c, ast);
        parts->pushed[k][parts->n_pushed[k]++] = ast;
        return SL_OK;
    }
    if (parts->n_rest == MAX_CONJUNCTS) return too_many(c, ast);
    parts->rest[parts->n_rest++] = ast;
    return SL_OK;
}

/* A comparison (or BETWEEN) of a side's path ± intervals with the other
 * side's: a bound if it compares the times. */
static bool is_bound_shape(sl_sql_compiler *c, const sl_sql_ast *ast, bool *has_interval)
{
    int sides[3];
    const sl_sql_ast *path;
    int64_t offset;
    if (ast->kind == SL_AST_BINARY && is_comparison(ast->op))
        return time_term(c, ast->args[0], &sides[0], &path, &offset, has_interval) &&
               time_term(c, ast->args[1], &sides[1], &path, &offset, has_interval) && sides[0] != sides[1];
    if (ast->kind != SL_AST_BETWEEN || ast->is_negated) return false;
    for (int k = 0; k < 3; k++)
        if (!time_term(c, ast->args[k], &sides[k], &path, &offset, has_interval)) return false;
    return sides[0] != sides[1] && sides[1] == sides[2];
}

/* One conjunct of ON. */
static int read_on(sl_sql_compiler *c, const sl_sql_join *join, join_parts *parts, const sl_sql_ast *ast)
{
    if (ast->kind == SL_AST_BINARY && ast->op == SL_OP_AND) {
        int rc = read_on(c, join, parts, ast->args[0]);
        return rc ? rc : read_on(c, join, parts, ast->args[1]);
    }
    if (ast->kind == SL_AST_BINARY && ast->op == SL_OP_EQ) {
        int a = mentions(ast->args[0]), b = mentions(ast->args[1]);
        if ((a == MENTIONS_LEFT && b == MENTIONS_RIGHT) || (a == MENTIONS_RIGHT && b == MENTIONS_LEFT)) {
            if (parts->n_keys == MAX_KEYS)
                return sl_error_set(c->err, SL_ESQL, "line %d column %d: a join takes at most %d key equalities",
                                    ast->line, ast->column, MAX_KEYS);
            int left = a == MENTIONS_LEFT ? 0 : 1;
            parts->key_asts[0][parts->n_keys] = ast->args[left];
            parts->key_asts[1][parts->n_keys] = ast->args[1 - left];
            parts->n_keys++;
            return SL_OK;
        }
        const sl_sql_ast *x = ast->args[0], *y = ast->args[1];
        if (a == MENTIONS_WINDOW && b == MENTIONS_WINDOW && x->kind == SL_AST_PATH && y->kind == SL_AST_PATH &&
            sl_sql_join_side_is_window_end(x->join_side) == sl_sql_join_side_is_window_end(y->join_side)) {
            if (sl_sql_join_side_is_window_end(x->join_side)) parts->has_end_equality = true;
            else parts->has_start_equality = true;
            return SL_OK;
        }
    }
    bool has_interval = false;
    if (is_bound_shape(c, ast, &has_interval)) {
        if (parts->n_candidates == MAX_CONJUNCTS) return too_many(c, ast);
        parts->candidates[parts->n_candidates++] = ast;
        if (has_interval && !parts->anchor) parts->anchor = ast;
        return SL_OK;
    }
    return keep_condition(c, join, parts, ast);
}

/* The anchor's two columns are the times; each comparison of those two
 * is a bound (a BETWEEN two), any other a condition over the pair. Without
 * an anchor there are no bounds: a regular join. */
static int settle_bounds(sl_sql_compiler *c, const sl_sql_join *join, join_parts *parts)
{
    if (parts->anchor) {
        const sl_sql_ast *a = parts->anchor;
        int rc = take_bound(c, parts, a, a->kind == SL_AST_BETWEEN ? SL_OP_GE : a->op, a->args[0], a->args[1]);
        if (rc < 0) return rc;
        parts->n_bounds = 0;
        parts->has_lower = parts->has_upper = false;   /* it only named the times: counted below, in order */
    }
    for (size_t i = 0; i < parts->n_candidates; i++) {
        const sl_sql_ast *ast = parts->candidates[i];
        int rc = 0;
        if (parts->anchor && ast->kind == SL_AST_BETWEEN) {
            join_parts tried = *parts;
            rc = take_bound(c, &tried, ast, SL_OP_GE, ast->args[0], ast->args[1]);
            if (rc == 1) rc = take_bound(c, &tried, ast, SL_OP_LE, ast->args[0], ast->args[2]);
            if (rc == 1) {
                tried.n_bounds--;   /* one conjunct, counted once */
                *parts = tried;
            }
        } else if (parts->anchor) {
            rc = take_bound(c, parts, ast, ast->op, ast->args[0], ast->args[1]);
        }
        if (rc < 0) return rc;
        if (rc == 0 && (rc = keep_condition(c, join, parts, ast))) return rc;
    }
    return SL_OK;
}

/* WHERE's conjuncts of one side that is never NULL go into its filter;
 * the rest stay. */
static int read_where(sl_sql_compiler *c, const sl_sql_join *join, join_parts *parts, const sl_sql_ast *ast,
                      const sl_sql_ast **kept, size_t *n_kept)
{
    if (ast->kind == SL_AST_BINARY && ast->op == SL_OP_AND) {
        int rc = read_where(c, join, parts, ast->args[0], kept, n_kept);
        return rc ? rc : read_where(c, join, parts, ast->args[1], kept, n_kept);
    }
    int found = mentions(ast);
    for (int k = 0; k < 2; k++) {
        int only = k ? MENTIONS_RIGHT : MENTIONS_LEFT;
        bool is_nullable = k ? join->is_left : join->is_right;
        if (found != only || is_nullable) continue;
        if (parts->n_pushed[k] == MAX_CONJUNCTS) return too_many(c, ast);
        parts->pushed[k][parts->n_pushed[k]++] = ast;
        return SL_OK;
    }
    if (*n_kept == MAX_CONJUNCTS) return too_many(c, ast);
    kept[(*n_kept)++] = ast;
    return SL_OK;
}

/* The AND of asts (in order), or NULL for none. */
static sl_sql_ast *all_of(sl_arena *arena, const sl_sql_ast *const *asts, size_t n, bool *is_failed)
{
    sl_sql_ast *result = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!result) {
            result = (sl_sql_ast *)asts[i];
            continue;
        }
        sl_sql_ast *both = sl_arena_calloc(arena, sizeof *both);
        sl_sql_ast **args = sl_arena_alloc(arena, 2 * sizeof *args);
        if (!both || !args) {
            *is_failed = true;
            return NULL;
        }
        both->kind = SL_AST_BINARY;
        both->op = SL_OP_AND;
        both->line = result->line;
        both->column = result->column;
        args[0] = result;
        args[1] = (sl_sql_ast *)asts[i];
        both->args = args;
        both->n_args = 2;
        result = both;
    }
    return result;
}

static sl_sql_expr *compile_condition(sl_sql_compiler *c, const sl_sql_ast *ast)
{
    sl_sql_expr *expr = sl_sql_resolve(c, ast, 0);
    if (!expr) {
        if (c->err->code == SL_OK) sl_error_set(c->err, SL_ESQL, "cannot compile a join condition");
        return NULL;
    }
    if (expr->fold_error) {
        sl_error_set(c->err, SL_ESQL, "%s", expr->fold_error);
        return NULL;
    }
    return expr;
}

static const char *time_name(sl_sql_compiler *c, const sl_sql_ast *path)
{
    char text[128];
    size_t used = sl_sql_path_text(path, text, sizeof text);
    return sl_arena_strndup(c->arena, text, used);
}

static bool same_window(const sl_sql_window_spec *a, const sl_sql_window_spec *b)
{
    return a->kind == b->kind && a->size_us == b->size_us && a->slide_us == b->slide_us && a->gap_us == b->gap_us;
}

static int refuse(sl_sql_compiler *c, const sl_sql_join *join, const char *what)
{
    return sl_error_set(c->err, SL_ESQL, "line %d column %d: %s with a join of two streams is not supported yet: "
                        "join in one pipeline into a topic, %s in the next", join->line, join->column, what,
                        strcmp(what, "LIMIT") == 0 ? "limit" : "group");
}

/* Each side: its filter (its view's WHERE and what was pushed to it), its
 * keys and its time, compiled over its record. */
static int compile_sides(sl_sql_compiler *c, sl_sql_stream_join *sj, const sl_sql_join_side_ast *asts,
                         join_parts *parts, sl_arena *scratch)
{
    bool is_failed = false;
    c->is_over_record = true;
    for (int k = 0; k < 2; k++) {
        sl_sql_join_side *side = &sj->sides[k];
        const sl_sql_join_side_ast *ast = &asts[k];
        side->alias = sl_arena_strndup(c->arena, ast->alias.ptr, ast->alias.len);
        if (!side->alias) return fail_memory(c);
        if (!(ast->table.len == 5 && strncasecmp(ast->table.ptr, "input", 5) == 0))
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: a join reads views over the input (one topic "
                                "whose records both sides filter): '%.*s' is not the input", ast->table_line,
                                ast->table_column, (int)(ast->table.len > 60 ? 60 : ast->table.len), ast->table.ptr);
        const sl_sql_ast *filters[MAX_CONJUNCTS + 1];
        size_t n = 0;
        if (ast->where) filters[n++] = ast->where;
        for (size_t i = 0; i < parts->n_pushed[k]; i++) filters[n++] = parts->pushed[k][i];
        sl_sql_ast *filter = all_of(scratch, filters, n, &is_failed);
        if (is_failed) return fail_memory(c);
        if (filter && !(side->filter = compile_condition(c, filter))) return c->err->code;
        side->keys = sl_arena_calloc(c->arena, (parts->n_keys ? parts->n_keys : 1) * sizeof *side->keys);
        if (!side->keys) return fail_memory(c);
        for (size_t i = 0; i < parts->n_keys; i++)
            if (!(side->keys[i] = compile_condition(c, parts->key_asts[k][i]))) return c->err->code;
    }
    sj->n_keys = parts->n_keys;
    if (sj->kind == SL_SQL_JOIN_WINDOW) {
        sl_sql_window_spec windows[2];
        for (int k = 0; k < 2; k++) {
            memset(&windows[k], 0, sizeof windows[k]);
            int rc = sl_sql_build_window(c, asts[k].window, asts[k].time, &windows[k]);
            if (rc) return rc;
            sj->sides[k].time = windows[k].time;
            sj->sides[k].time_name = windows[k].time_name;
        }
        if (!same_window(&windows[0], &windows[1]) || windows[0].kind == SL_SQL_WINDOW_SESSION)
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: a window join needs the same TUMBLE, HOP or "
                                "CUMULATE window on both sides", asts[1].window->line, asts[1].window->column);
        sj->window = windows[0];
    } else if (sj->kind == SL_SQL_JOIN_INTERVAL) {
        for (int k = 0; k < 2; k++) {
            sj->sides[k].time = compile_condition(c, parts->times[k]);
            sj->sides[k].time_name = sj->sides[k].time ? time_name(c, parts->times[k]) : NULL;
            if (!sj->sides[k].time_name) return c->err->code ? c->err->code : fail_memory(c);
        }
    }
    c->is_over_record = false;
    return SL_OK;
}

static int build_projection(sl_sql_program *program, const sl_sql_stream_join *sj)
{
    size_t n = program->n_columns + 2 + 2 * (2 + sj->n_keys);
    sl_sql_expr **exprs = sl_arena_alloc(program->arena, n * sizeof *exprs);
    if (!exprs) return SL_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < program->n_columns; i++) exprs[used++] = program->columns[i];
    exprs[used++] = program->where;
    exprs[used++] = sj->condition;
    for (int k = 0; k < 2; k++) {
        exprs[used++] = sj->sides[k].filter;
        exprs[used++] = sj->sides[k].time;
        for (size_t i = 0; i < sj->n_keys; i++) exprs[used++] = sj->sides[k].keys[i];
    }
    return sl_sql_build_projection(program->arena, exprs, used, &program->projection);
}

int sl_sql_compile_stream_join(sl_sql_compiler *c, sl_sql_program *program, sl_sql_select *select,
                               sl_arena *scratch)
{
    const sl_sql_join *join = select->join;
    bool has_aggregate = false;
    for (size_t i = 0; i < select->n_items; i++) has_aggregate |= sl_sql_ast_has_aggregate(select->items[i].expr);
    if (select->has_group_by || select->having || has_aggregate) return refuse(c, join, "GROUP BY or an aggregate");
    if (select->is_distinct) return refuse(c, join, "DISTINCT");
    if (select->limit >= 0) return refuse(c, join, "LIMIT");
    sl_sql_join_side_ast asts[2];
    int rc = sl_sql_inline_join(select, asts, scratch, c->err);
    if (rc) return rc;
    join_parts *parts = sl_arena_calloc(scratch, sizeof *parts);
    sl_sql_stream_join *sj = sl_arena_calloc(c->arena, sizeof *sj);
    if (!parts || !sj) return fail_memory(c);
    sj->line = join->line;
    sj->column = join->column;
    sj->sides[0].is_kept = join->is_left;
    sj->sides[1].is_kept = join->is_right;
    rc = join->on ? read_on(c, join, parts, join->on) : SL_OK;
    /* An inner join's WHERE says what its ON would: its keys and bounds
     * count too (FROM a, b WHERE a.k = b.k is a join on k). */
    const sl_sql_ast *kept[MAX_CONJUNCTS];
    size_t n_kept = 0;
    bool is_inner = !join->is_left && !join->is_right;
    if (rc == SL_OK && select->where)
        rc = is_inner ? read_on(c, join, parts, select->where) : read_where(c, join, parts, select->where, kept, &n_kept);
    if (rc == SL_OK) rc = settle_bounds(c, join, parts);
    if (rc) return rc;
    bool has_windows[2] = { asts[0].window != NULL, asts[1].window != NULL };
    if (has_windows[0] != has_windows[1])
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: a window join needs a window on both sides (%.*s has "
                            "none)", join->line, join->column, (int)asts[has_windows[0] ? 1 : 0].alias.len,
                            asts[has_windows[0] ? 1 : 0].alias.ptr);
    if (has_windows[0]) {
        if (!parts->has_start_equality || !parts->has_end_equality)
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: a window join's ON must say L.window_start = "
                                "R.window_start AND L.window_end = R.window_end", join->line, join->column);
        sj->kind = SL_SQL_JOIN_WINDOW;
        /* Time bounds in a window join are plain conditions. */
        for (size_t i = 0; i < parts->n_bounds; i++) {
            if (parts->n_rest == MAX_CONJUNCTS) return too_many(c, parts->bounds[i]);
            parts->rest[parts->n_rest++] = parts->bounds[i];
        }
    } else if (parts->has_start_equality || parts->has_end_equality) {
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: window_start and window_end belong to a window "
                            "join: put both sides in TABLE(TUMBLE(...))", join->line, join->column);
    } else if (parts->has_lower && parts->has_upper) {
        if (parts->lower_us > parts->upper_us)
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: the join's time bounds admit no pair (the "
                                "lower is past the upper)", join->line, join->column);
        sj->kind = SL_SQL_JOIN_INTERVAL;
        sj->lower_us = parts->lower_us;
        sj->upper_us = parts->upper_us;
    } else if (parts->has_lower || parts->has_upper) {
        const sl_sql_ast *at = parts->bounds[0];
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: an interval join needs a lower and an upper bound "
                            "(R.ts BETWEEN L.ts - INTERVAL '1' MINUTE AND L.ts + INTERVAL '1' MINUTE): with one "
                            "its state would grow without end", at->line, at->column);
    } else {
        sj->kind = SL_SQL_JOIN_REGULAR;
    }
    rc = compile_sides(c, sj, asts, parts, scratch);
    if (rc) return rc;
    bool is_failed = false;
    sl_sql_ast *condition = all_of(scratch, parts->rest, parts->n_rest, &is_failed);
    sl_sql_ast *where = all_of(scratch, kept, n_kept, &is_failed);
    if (is_failed) return fail_memory(c);
    if (condition && !(sj->condition = compile_condition(c, condition))) return c->err->code;
    if (where && !(program->where = compile_condition(c, where))) return c->err->code;
    rc = sl_sql_build_columns(c, program, select);
    if (rc) return rc;
    program->stream_join = sj;
    if (build_projection(program, sj)) return fail_memory(c);
    return SL_OK;
}
