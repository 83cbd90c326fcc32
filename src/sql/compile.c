/* compile.c — from SQL text to a program: lex, parse, resolve, fold.
 *
 * The AST lives in a scratch arena that is freed before sl_sql_compile
 * returns; the program gets its own arena holding the expression tree, the
 * column names and every string a constant needs, so it does not borrow the
 * SQL text. Resolving means: a leading `input.` qualifier is dropped from
 * paths, function names are looked up in the function table and their
 * argument counts checked, type names are mapped to sl_type, literal texts
 * become values. A node whose arguments are all constants (and that is not a
 * volatile call like uuid() or now()) is evaluated once here and replaced by
 * its value; if that evaluation fails, the statement does not compile (as
 * PostgreSQL fails at planning: `12345 % 0` is a mistake whatever the
 * records are). Folding also does what PostgreSQL's planner does with
 * constants, so both give the same answers: a strict operator with a NULL
 * argument is NULL, FALSE AND x is FALSE and TRUE OR x TRUE, COALESCE drops
 * NULL constants and stops at its first non-NULL constant.
 */
#include "sql/eval.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/interval.h"
#include "core/timefmt.h"
#include "sql/cast.h"
#include "sql/compile_internal.h"
#include "sql/join_sides.h"
#include "sql/lexer.h"
#include "sql/parser.h"
#include "sql/projection.h"
#include "sql/regex.h"
#include "sql/sql.h"
#include "sql/views.h"

/* Deepest expression tree accepted: bounds the evaluator's recursion. */
#define MAX_TREE_DEPTH 256

typedef sl_sql_compiler compiler;

static sl_sql_expr *resolve(compiler *c, const sl_sql_ast *ast, int depth);

static void *fail_at(compiler *c, int code, int line, int column, const char *what, sl_str name)
{
    sl_error_set(c->err, code, "line %d column %d: %s '%.*s'", line, column, what,
                 (int)(name.len > 60 ? 60 : name.len), name.ptr);
    return NULL;
}

static void *fail_memory(compiler *c)
{
    sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    return NULL;
}

static bool copy_str(compiler *c, sl_str in, sl_str *out)
{
    char *copy = sl_arena_strndup(c->arena, in.ptr ? in.ptr : "", in.len);
    if (!copy) return fail_memory(c), false;
    *out = (sl_str){ copy, in.len };
    return true;
}

static sl_sql_expr *expr_new(compiler *c, sl_sql_expr_kind kind, const sl_sql_ast *ast,
                             size_t n_args)
{
    sl_sql_expr *expr = sl_arena_calloc(c->arena, sizeof *expr);
    if (!expr) return fail_memory(c);
    expr->kind = kind;
    expr->line = ast->line;
    expr->column = ast->column;
    expr->op = ast->op;
    expr->is_negated = ast->is_negated;
    expr->is_ilike = ast->is_ilike;
    expr->is_try = ast->is_try;
    if (n_args) {
        expr->args = sl_arena_calloc(c->arena, n_args * sizeof *expr->args);
        if (!expr->args) return fail_memory(c);
        expr->n_args = n_args;
    }
    return expr;
}

/* An integer literal, negated when is_negative (so the most negative int64
 * is reachable); too large for int64 it becomes the nearest double. */
static sl_value integer_literal(sl_str digits, bool is_negative)
{
    uint64_t value = 0, limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < digits.len; i++) {
        unsigned digit = (unsigned)(digits.ptr[i] - '0');
        if (value > (limit - digit) / 10) {
            char copy[400];
            int n = snprintf(copy, sizeof copy, "%s%.*s", is_negative ? "-" : "",
                             (int)(digits.len > 390 ? 390 : digits.len), digits.ptr);
            (void)n;
            return sl_value_double(strtod(copy, NULL));
        }
        value = value * 10 + digit;
    }
    return sl_value_int(is_negative ? (int64_t)(0 - value) : (int64_t)value);
}

static sl_sql_expr *resolve_literal(compiler *c, const sl_sql_ast *ast)
{
    sl_sql_expr *expr = expr_new(c, SL_EXPR_CONST, ast, 0);
    if (!expr) return NULL;
    switch (ast->kind) {
    case SL_AST_INTEGER: expr->constant = integer_literal(ast->text, false); break;
    case SL_AST_DECIMAL: {
        char copy[128];
        if (ast->text.len >= sizeof copy)
            return fail_at(c, SL_ESQL, ast->line, ast->column, "number too long", ast->text);
        memcpy(copy, ast->text.ptr, ast->text.len);
        copy[ast->text.len] = '\0';
        expr->constant = sl_value_double(strtod(copy, NULL));
        break;
    }
    case SL_AST_STRING: {
        sl_str text;
        if (!copy_str(c, ast->text, &text)) return NULL;
        expr->constant = sl_value_string(text);
        expr->is_untyped = true;   /* PostgreSQL's "unknown" literal: typed by what it meets */
        break;
    }
    case SL_AST_TIMESTAMP: {
        int64_t us;
        if (sl_time_parse_iso(ast->text.ptr, ast->text.len, &us))
            return fail_at(c, SL_ESQL, ast->line, ast->column, "invalid TIMESTAMP literal",
                           ast->text);
        expr->constant = sl_value_timestamp(us);
        break;
    }
    case SL_AST_INTERVAL: {
        sl_interval_value interval;
        sl_error problem = { 0 };
        if (sl_interval_parse(ast->text.ptr, ast->text.len, ast->interval_fields, &interval, &problem)) {
            sl_error_set(c->err, SL_ESQL, "line %d column %d: %s; expected a number and a unit ('5 minutes', "
                         "'1 day 02:00:00'), a qualified literal ('90' SECOND, '1-2' YEAR TO MONTH) or ISO 8601 "
                         "('P1DT2H')", ast->line, ast->column, problem.message);
            return NULL;
        }
        expr->constant = sl_value_interval(interval.months, interval.days, interval.micros);
        break;
    }
    case SL_AST_TRUE: expr->constant = sl_value_bool(true); break;
    case SL_AST_FALSE: expr->constant = sl_value_bool(false); break;
    default: expr->constant = sl_value_null(); break;
    }
    return expr;
}

static sl_sql_expr *resolve_path(compiler *c, const sl_sql_ast *ast)
{
    sl_sql_expr *expr = expr_new(c, SL_EXPR_PATH, ast, 0);
    if (!expr) return NULL;
    const sl_sql_path_step *steps = ast->steps;
    size_t n_steps = ast->n_steps;
    const sl_sql_path_step *first = &steps[0];
    if (n_steps > 1 && !first->is_quoted && first->key.len == 5 &&
        strncasecmp(first->key.ptr, "input", 5) == 0 && !steps[1].is_index) {
        steps++; /* `input.` names the table, not a member */
        n_steps--;
    } else if (c->lookup_alias.len && n_steps > 1 && !steps[1].is_index && sl_str_eq(first->key, c->lookup_alias)) {
        steps++; /* a column of the looked-up row */
        n_steps--;
        expr->has_base = true;
        expr->base_slot = 1;
    }
    if (ast->join_side >= SL_SQL_JOIN_SIDE_WINDOW_START && !c->is_over_record) {
        expr->kind = SL_EXPR_SLOT;   /* the pair's window_start or window_end */
        expr->slot = (size_t)ast->join_side - 1;
        return expr;
    }
    if (ast->join_side && !c->is_over_record) {
        expr->has_base = true;   /* a stream join's left or right record */
        expr->base_slot = (size_t)ast->join_side - 1;
        expr->is_base_record = true;
    }
    if (c->lookup_alias.len && !expr->has_base && !c->is_over_record) {
        expr->has_base = true;   /* the record, beside the looked-up row */
        expr->base_slot = 0;
    }
    sl_sql_path_step *copy = sl_arena_alloc(c->arena, n_steps * sizeof *copy);
    if (!copy) return fail_memory(c);
    for (size_t i = 0; i < n_steps; i++) {
        copy[i] = steps[i];
        if (!steps[i].is_index && !copy_str(c, steps[i].key, &copy[i].key)) return NULL;
    }
    expr->steps = copy;
    expr->n_steps = n_steps;
    return expr;
}

/* Edit distance between a and b (case-insensitive), capped at cap + 1. */
static size_t name_distance(sl_str a, const char *b, size_t cap)
{
    size_t b_len = strlen(b);
    if (a.len > 32 || b_len > 32) return cap + 1;
    size_t row[33];
    for (size_t j = 0; j <= b_len; j++) row[j] = j;
    for (size_t i = 1; i <= a.len; i++) {
        size_t diagonal = row[0], best = row[0] = i;
        for (size_t j = 1; j <= b_len; j++) {
            size_t above = row[j];
            size_t cost = tolower((unsigned char)a.ptr[i - 1]) == b[j - 1] ? 0 : 1;
            size_t value = diagonal + cost;
            if (above + 1 < value) value = above + 1;
            if (row[j - 1] + 1 < value) value = row[j - 1] + 1;
            row[j] = value;
            diagonal = above;
            if (value < best) best = value;
        }
        if (best > cap) return cap + 1;
    }
    return row[b_len];
}

/* "unknown function 'rond' (did you mean round?)": the names of the table
 * within a small edit distance, or that start with what was written. */
static void *unknown_function(compiler *c, const sl_sql_ast *ast)
{
    if (sl_sql_is_aggregate_name(ast->text)) {
        sl_error_set(c->err, SL_ESQL, "line %d column %d: %.*s() is an aggregate: it may be used in the SELECT "
                     "list and HAVING of a grouped statement, not in WHERE, GROUP BY or another aggregate's "
                     "arguments", ast->line, ast->column, (int)(ast->text.len > 60 ? 60 : ast->text.len),
                     ast->text.ptr);
        return NULL;
    }
    char names[600] = "";
    size_t used = 0, n_near = 0;
    size_t cap = ast->text.len <= 4 ? 1 : 2;
    for (size_t i = 0; sl_sql_function_at(i) && used < sizeof names; i++) {
        const char *name = sl_sql_function_at(i)->name;
        bool is_prefix = ast->text.len >= 3 && strncasecmp(name, ast->text.ptr, ast->text.len) == 0;
        if (!is_prefix && name_distance(ast->text, name, cap) > cap) continue;
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", n_near++ ? ", " : "", name);
    }
    if (n_near) {
        sl_error_set(c->err, SL_ESQL, "line %d column %d: unknown function '%.*s' (did you mean %s?)", ast->line,
                     ast->column, (int)(ast->text.len > 60 ? 60 : ast->text.len), ast->text.ptr, names);
        return NULL;
    }
    sl_error_set(c->err, SL_ESQL, "line %d column %d: unknown function '%.*s' (none is named like it; docs/sql.md "
                 "lists them all)", ast->line, ast->column, (int)(ast->text.len > 60 ? 60 : ast->text.len),
                 ast->text.ptr);
    return NULL;
}

static sl_sql_expr *resolve_call(compiler *c, const sl_sql_ast *ast)
{
    const sl_sql_function *function = sl_sql_function_find(ast->text);
    if (!function) return unknown_function(c, ast);
    size_t n = ast->n_args, low = function->min_args, high = function->max_args;
    if (n < low || n > high) {
        if (high == SL_SQL_VARIADIC)
            sl_error_set(c->err, SL_ESQL, "line %d column %d: %s() takes at least %zu argument%s, got %zu",
                         ast->line, ast->column, function->name, low, low == 1 ? "" : "s", n);
        else if (low == high)
            sl_error_set(c->err, SL_ESQL, "line %d column %d: %s() takes %zu argument%s, got %zu",
                         ast->line, ast->column, function->name, low, low == 1 ? "" : "s", n);
        else
            sl_error_set(c->err, SL_ESQL, "line %d column %d: %s() takes %zu to %zu arguments, got %zu",
                         ast->line, ast->column, function->name, low, high, n);
        return NULL;
    }
    sl_sql_expr *expr = expr_new(c, SL_EXPR_CALL, ast, n);
    if (expr) expr->function = function;
    return expr;
}

static sl_sql_expr_kind kind_of(sl_sql_ast_kind kind)
{
    switch (kind) {
    case SL_AST_UNARY: return SL_EXPR_UNARY;
    case SL_AST_BINARY: return SL_EXPR_BINARY;
    case SL_AST_IS_NULL: return SL_EXPR_IS_NULL;
    case SL_AST_IN: return SL_EXPR_IN;
    case SL_AST_LIKE: return SL_EXPR_LIKE;
    case SL_AST_CAST: return SL_EXPR_CAST;
    default: return SL_EXPR_CALL;
    }
}

/* Replaces expr by its value when every argument is constant. */
/* Whether expr is NULL whenever one of its arguments is: operators (but
 * AND, OR, IS NULL, IN and BETWEEN), casts, LIKE and the functions not
 * marked NULL-safe. */
static bool is_strict(const sl_sql_expr *expr)
{
    switch (expr->kind) {
    case SL_EXPR_UNARY:
    case SL_EXPR_CAST:
    case SL_EXPR_LIKE: return true;
    case SL_EXPR_BINARY: return expr->op != SL_OP_AND && expr->op != SL_OP_OR;
    case SL_EXPR_CALL: return !(expr->function->flags & SL_SQL_FN_NULL_SAFE);
    default: return false;
    }
}

static bool is_constant(const sl_sql_expr *expr, sl_type type, bool boolean)
{
    return expr->kind == SL_EXPR_CONST && expr->constant.type == type &&
           (type != SL_TYPE_BOOL || expr->constant.boolean == boolean);
}

static sl_sql_expr *fold_to(sl_sql_expr *expr, sl_value value)
{
    expr->kind = SL_EXPR_CONST;
    expr->constant = value;
    expr->n_args = 0;
    return expr;
}

/* expr fails whenever it is evaluated (a constant part that fails): kept
 * so a parent that never evaluates it (COALESCE after a constant, AND after
 * FALSE) can drop it; one that stays in the statement is its compile error. */
static sl_sql_expr *fails(compiler *c, sl_sql_expr *expr, const char *message)
{
    expr->fold_error = sl_arena_strndup(c->arena, message, strlen(message));
    return expr->fold_error ? expr : fail_memory(c);
}

static sl_sql_expr *fold_logic(compiler *c, sl_sql_expr *expr)
{
    bool decides = expr->op == SL_OP_OR;
    for (size_t i = 0; i < 2; i++) {
        if (expr->args[i]->fold_error) return fails(c, expr, expr->args[i]->fold_error);
        if (is_constant(expr->args[i], SL_TYPE_BOOL, decides)) return fold_to(expr, sl_value_bool(decides));
    }
    return NULL;   /* not decided: the general rules go on */
}

static sl_sql_expr *fold_coalesce(compiler *c, sl_sql_expr *expr)
{
    size_t kept = 0;
    for (size_t i = 0; i < expr->n_args; i++) {
        if (expr->args[i]->fold_error) return fails(c, expr, expr->args[i]->fold_error);
        if (is_constant(expr->args[i], SL_TYPE_NULL, false)) continue;
        expr->args[kept++] = expr->args[i];
        if (expr->args[i]->kind == SL_EXPR_CONST) break;
    }
    if (kept == 0) return fold_to(expr, sl_value_null());
    expr->n_args = kept;
    return kept == 1 ? expr->args[0] : expr;
}

/* x IN (a, b, ...), as the OR of x = a, x = b ...: a constant item equal to
 * a constant x decides it, and what follows is never evaluated. */
static sl_sql_expr *fold_in(compiler *c, sl_sql_expr *expr)
{
    const sl_sql_expr *x = expr->args[0];
    if (x->fold_error) return fails(c, expr, x->fold_error);
    for (size_t i = 1; i < expr->n_args; i++) {
        const sl_sql_expr *item = expr->args[i];
        if (item->fold_error) return fails(c, expr, item->fold_error);
        int order;
        if (x->kind == SL_EXPR_CONST && item->kind == SL_EXPR_CONST && x->constant.type != SL_TYPE_NULL &&
            item->constant.type != SL_TYPE_NULL && sl_sql_compare(&x->constant, &item->constant, &order) == 0 &&
            order == 0)
            return fold_to(expr, sl_value_bool(!expr->is_negated));
    }
    /* x IN (...) with x NULL is NULL; so is x IN (NULL), which is x = NULL. */
    if (is_constant(x, SL_TYPE_NULL, false) || (expr->n_args == 2 && is_constant(expr->args[1], SL_TYPE_NULL, false)))
        return fold_to(expr, sl_value_null());
    return NULL;
}

/* A constant pattern (and constant flags) of ~, ~*, !~, !~* or a
 * regexp_ function is compiled now, so a pattern that cannot compile is a
 * mistake of the statement, whatever the text is. */
static sl_sql_expr *check_pattern(compiler *c, sl_sql_expr *expr)
{
    bool is_operator = expr->kind == SL_EXPR_BINARY && expr->op >= SL_OP_MATCH && expr->op <= SL_OP_NOT_IMATCH;
    bool is_function = expr->kind == SL_EXPR_CALL && strncmp(expr->function->name, "regexp_", 7) == 0;
    if ((!is_operator && !is_function) || expr->n_args < 2 || !is_constant(expr->args[1], SL_TYPE_STRING, false))
        return expr;
    char flags[16] = "";
    size_t flags_at = is_function && strcmp(expr->function->name, "regexp_replace") == 0 ? 3 : 2;
    if (is_operator && (expr->op == SL_OP_IMATCH || expr->op == SL_OP_NOT_IMATCH)) strcpy(flags, "i");
    bool has_flags = is_function && strcmp(expr->function->name, "regexp_extract") != 0 && expr->n_args > flags_at;
    if (has_flags) {
        const sl_sql_expr *given = expr->args[flags_at];
        if (!is_constant(given, SL_TYPE_STRING, false) || given->constant.string.len >= sizeof flags) return expr;
        size_t n = 0;
        for (size_t i = 0; i < given->constant.string.len; i++)   /* g is regexp_replace's, not the pattern's */
            if (!(flags_at == 3 && given->constant.string.ptr[i] == 'g')) flags[n++] = given->constant.string.ptr[i];
        flags[n] = '\0';
    }
    sl_error problem = { 0 };
    bool matched;
    if (sl_sql_regex_match(SL_STR_LIT(""), expr->args[1]->constant.string, flags, &matched, &problem) == SL_OK)
        return expr;
    if (problem.code == SL_ENOMEM) return fail_memory(c);
    char message[600];
    snprintf(message, sizeof message, "line %d column %d: %s", expr->line, expr->column, problem.message);
    return fails(c, expr, message);
}

static sl_sql_expr *fold(compiler *c, sl_sql_expr *expr)
{
    if (!check_pattern(c, expr)) return NULL;
    if (expr->fold_error) return expr;
    sl_sql_expr *decided = NULL;
    if (expr->kind == SL_EXPR_BINARY && (expr->op == SL_OP_AND || expr->op == SL_OP_OR))
        decided = fold_logic(c, expr);
    else if (expr->kind == SL_EXPR_CALL && (expr->function->flags & SL_SQL_FN_FIRST_NOT_NULL))
        return fold_coalesce(c, expr);
    else if (expr->kind == SL_EXPR_IN)
        decided = fold_in(c, expr);
    if (decided) return decided;
    for (size_t i = 0; i < expr->n_args; i++)
        if (expr->args[i]->fold_error) return fails(c, expr, expr->args[i]->fold_error);
    if (expr->kind == SL_EXPR_CALL && (expr->function->flags & SL_SQL_FN_VOLATILE)) return expr;
    /* A strict operator with a NULL constant argument is NULL, whatever its
     * other arguments would do (PostgreSQL's planner folds it so too):
     * (-i) / NULL is NULL even where -i would overflow. */
    for (size_t i = 0; is_strict(expr) && i < expr->n_args; i++) {
        if (is_constant(expr->args[i], SL_TYPE_NULL, false)) return fold_to(expr, sl_value_null());
    }
    for (size_t i = 0; i < expr->n_args; i++)
        if (expr->args[i]->kind != SL_EXPR_CONST) return expr;
    sl_value none = sl_value_null(), value;
    sl_error ignored = { 0 };
    int rc = sl_sql_expr_eval(expr, &none, c->arena, &value, &ignored);
    if (rc == SL_ENOMEM) return fail_memory(c);
    if (rc) return fails(c, expr, ignored.message);
    return fold_to(expr, value);
}

/* A two-argument operator node at ast's position. */
static sl_sql_expr *binary(compiler *c, const sl_sql_ast *ast, sl_sql_operator op, sl_sql_expr *a, sl_sql_expr *b)
{
    sl_sql_expr *expr = expr_new(c, SL_EXPR_BINARY, ast, 2);
    if (!expr) return NULL;
    expr->op = op;
    expr->is_negated = false;
    expr->args[0] = a;
    expr->args[1] = b;
    return fold(c, expr);
}

/* CASE, folded as PostgreSQL's planner does: arms are looked at in order;
 * one whose condition is a constant FALSE or NULL is dropped (its result
 * never evaluated), one whose condition is a constant TRUE is the whole,
 * and a constant part that fails in an arm that stays fails the statement.
 * A simple CASE compares with =, so a NULL constant on either side drops
 * the arm; with no arm left, the ELSE is the whole and the operand is never
 * evaluated. */
static sl_sql_expr *fold_case(compiler *c, sl_sql_expr *expr)
{
    sl_sql_expr *operand = expr->operand;
    if (operand && operand->fold_error) return fails(c, expr, operand->fold_error);
    size_t n_pairs = (expr->n_args - 1) / 2, kept = 0;
    sl_sql_expr *otherwise = expr->args[expr->n_args - 1];
    for (size_t k = 0; k < n_pairs; k++) {
        sl_sql_expr *when = expr->args[2 * k], *then = expr->args[2 * k + 1];
        if (when->fold_error) return fails(c, expr, when->fold_error);
        int decided = -1;   /* 1: this arm is taken, 0: never, -1: known per record */
        bool is_null_test = operand && (is_constant(operand, SL_TYPE_NULL, false) ||
                                        is_constant(when, SL_TYPE_NULL, false));
        if (is_null_test) {
            decided = 0;   /* x = NULL is NULL: the arm is never taken */
        } else if (when->kind == SL_EXPR_CONST && !operand) {
            decided = is_constant(when, SL_TYPE_BOOL, true) ? 1 : 0;
        } else if (when->kind == SL_EXPR_CONST && operand->kind == SL_EXPR_CONST) {
            int order;
            decided = operand->constant.type != SL_TYPE_NULL && when->constant.type != SL_TYPE_NULL &&
                      sl_sql_compare(&operand->constant, &when->constant, &order) == 0 && order == 0;
        }
        if (decided == 0) continue;
        if (then->fold_error) return fails(c, expr, then->fold_error);
        if (decided == 1 && kept == 0) return then;
        if (decided == 1) {
            otherwise = then;   /* the arms before it decide per record; else this */
            break;
        }
        expr->args[2 * kept] = when;
        expr->args[2 * kept + 1] = then;
        kept++;
    }
    if (otherwise->fold_error) return fails(c, expr, otherwise->fold_error);
    if (kept == 0) return otherwise;
    expr->args[2 * kept] = otherwise;
    expr->n_args = 2 * kept + 1;
    return expr;
}

static sl_sql_expr *resolve_case(compiler *c, const sl_sql_ast *ast, int depth)
{
    size_t n_pairs = (ast->n_args - 2) / 2;
    sl_sql_expr *expr = expr_new(c, SL_EXPR_CASE, ast, 2 * n_pairs + 1);
    if (!expr) return NULL;
    if (ast->args[0] && !(expr->operand = resolve(c, ast->args[0], depth + 1))) return NULL;
    for (size_t i = 0; i < 2 * n_pairs; i++)
        if (!(expr->args[i] = resolve(c, ast->args[i + 1], depth + 1))) return NULL;
    const sl_sql_ast *otherwise = ast->args[ast->n_args - 1];
    if (otherwise) {
        expr->args[2 * n_pairs] = resolve(c, otherwise, depth + 1);
    } else {
        expr->args[2 * n_pairs] = expr_new(c, SL_EXPR_CONST, ast, 0);
        if (expr->args[2 * n_pairs]) expr->args[2 * n_pairs]->constant = sl_value_null();
    }
    return expr->args[2 * n_pairs] ? fold_case(c, expr) : NULL;
}

/* x BETWEEN low AND high is x >= low AND x <= high, and NOT BETWEEN is
 * x < low OR x > high, as the standard and PostgreSQL define them: the
 * high side is not evaluated when the low side decides, and a constant
 * side folds the whole (x NOT BETWEEN ... AND 0 with x = 5 is TRUE without
 * evaluating the rest). x is one node, evaluated for each comparison. */
static sl_sql_expr *resolve_between(compiler *c, const sl_sql_ast *ast, int depth)
{
    sl_sql_expr *x = resolve(c, ast->args[0], depth + 1);
    sl_sql_expr *low = x ? resolve(c, ast->args[1], depth + 1) : NULL;
    sl_sql_expr *high = low ? resolve(c, ast->args[2], depth + 1) : NULL;
    if (!high) return NULL;
    bool is_not = ast->is_negated;
    sl_sql_expr *low_side = binary(c, ast, is_not ? SL_OP_LT : SL_OP_GE, x, low);
    sl_sql_expr *high_side = low_side ? binary(c, ast, is_not ? SL_OP_GT : SL_OP_LE, x, high) : NULL;
    return high_side ? binary(c, ast, is_not ? SL_OP_OR : SL_OP_AND, low_side, high_side) : NULL;
}

static sl_sql_expr *resolve(compiler *c, const sl_sql_ast *ast, int depth)
{
    if (depth > MAX_TREE_DEPTH) {
        sl_error_set(c->err, SL_ESQL, "line %d column %d: expression nested too deeply",
                     ast->line, ast->column);
        return NULL;
    }
    if (c->group) {
        bool is_handled = false;
        sl_sql_expr *slot = sl_sql_resolve_grouped(c, ast, depth, &is_handled);
        if (is_handled) return slot;
    }
    if (ast->kind == SL_AST_CALL && (ast->is_star || ast->is_distinct)) {
        if (sl_sql_is_aggregate_name(ast->text)) return unknown_function(c, ast);
        sl_error_set(c->err, SL_ESQL, "line %d column %d: %s is only for aggregates such as count(%s)",
                     ast->line, ast->column, ast->is_star ? "*" : "DISTINCT",
                     ast->is_star ? "*" : "DISTINCT x");
        return NULL;
    }
    switch (ast->kind) {
    case SL_AST_INTEGER:
    case SL_AST_DECIMAL:
    case SL_AST_STRING:
    case SL_AST_TRUE:
    case SL_AST_FALSE:
    case SL_AST_NULL:
    case SL_AST_TIMESTAMP:
    case SL_AST_INTERVAL: return resolve_literal(c, ast);
    case SL_AST_PATH: return resolve_path(c, ast);
    default: break;
    }
    if (ast->kind == SL_AST_UNARY && ast->op == SL_OP_NEG && ast->args[0]->kind == SL_AST_INTEGER) {
        sl_sql_expr *expr = expr_new(c, SL_EXPR_CONST, ast, 0);
        if (expr) expr->constant = integer_literal(ast->args[0]->text, true);
        return expr;
    }
    if (ast->kind == SL_AST_BETWEEN) return resolve_between(c, ast, depth);
    if (ast->kind == SL_AST_CASE) return resolve_case(c, ast, depth);
    sl_sql_expr *expr = ast->kind == SL_AST_CALL ? resolve_call(c, ast)
                                                 : expr_new(c, kind_of(ast->kind), ast, ast->n_args);
    if (!expr) return NULL;
    if (ast->kind == SL_AST_CAST && sl_sql_type_from_name(ast->text, &expr->cast_type))
        return fail_at(c, SL_ESQL, ast->line, ast->column, "unknown type", ast->text);
    for (size_t i = 0; i < ast->n_args; i++) {
        expr->args[i] = resolve(c, ast->args[i], depth + 1);
        if (!expr->args[i]) return NULL;
    }
    return fold(c, expr);
}

sl_sql_expr *sl_sql_resolve(sl_sql_compiler *c, const sl_sql_ast *ast, int depth)
{
    return resolve(c, ast, depth);
}

/* The name of a column without AS: the last member of a path, else _colN. */
static bool column_name(compiler *c, const sl_sql_select_item *item, size_t index, sl_str *out)
{
    if (item->has_alias) return copy_str(c, item->alias, out);
    const sl_sql_ast *expr = item->expr;
    if (expr->kind == SL_AST_PATH && !expr->steps[expr->n_steps - 1].is_index)
        return copy_str(c, expr->steps[expr->n_steps - 1].key, out);
    char generated[32];
    int n = snprintf(generated, sizeof generated, "_col%zu", index + 1);
    return copy_str(c, (sl_str){ generated, (size_t)n }, out);
}

int sl_sql_build_columns(compiler *c, sl_sql_program *program, const sl_sql_select *select)
{
    size_t n = select->n_items;
    program->columns = sl_arena_calloc(c->arena, n * sizeof *program->columns);
    program->column_names = sl_arena_calloc(c->arena, n * sizeof *program->column_names);
    program->column_keys = sl_arena_calloc(c->arena, n * sizeof *program->column_keys);
    if (!program->columns || !program->column_names || !program->column_keys)
        return fail_memory(c), SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl_sql_select_item *item = &select->items[i];
        program->columns[i] = resolve(c, item->expr, 0);
        if (!program->columns[i]) return c->err->code;
        if (program->columns[i]->fold_error)
            return sl_error_set(c->err, SL_ESQL, "%s", program->columns[i]->fold_error);
        if (!column_name(c, item, i, &program->column_keys[i])) return SL_ENOMEM;
        program->column_names[i] = program->column_keys[i].ptr;
        for (size_t k = 0; k < i; k++) {
            if (!sl_str_eq(program->column_keys[k], program->column_keys[i])) continue;
            const sl_sql_select_item *first = &select->items[k];
            int line = item->has_alias ? item->alias_line : item->line;
            int column = item->has_alias ? item->alias_column : item->column;
            return sl_error_set(c->err, SL_ESQL,
                                "line %d column %d: duplicate column name '%s' (first at line %d "
                                "column %d)", line, column, program->column_names[i],
                                first->has_alias ? first->alias_line : first->line,
                                first->has_alias ? first->alias_column : first->column);
        }
    }
    program->n_columns = n;
    return SL_OK;
}

/* The input the statement reads (columns and WHERE; for a grouped one, the
 * event time, keys and aggregates' arguments), so the JSON reader skips
 * the rest; a lookup join's keys too. */
static int build_projection(sl_sql_program *program)
{
    const sl_sql_grouping *grouping = program->grouping;
    size_t n = program->n_columns + 1;
    if (grouping) n += 1 + grouping->n_keys + grouping->n_calls;
    if (program->lookup) n += program->lookup->n_keys;
    sl_sql_expr **exprs = sl_arena_alloc(program->arena, n * sizeof *exprs);
    if (!exprs) return SL_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < program->n_columns; i++) exprs[used++] = program->columns[i];
    exprs[used++] = program->where;
    if (grouping) {
        exprs[used++] = grouping->window.time;
        for (size_t i = 0; i < grouping->n_keys; i++) exprs[used++] = grouping->keys[i];
        for (size_t i = 0; i < grouping->n_calls; i++) exprs[used++] = grouping->calls[i].arg;
    }
    for (size_t i = 0; program->lookup && i < program->lookup->n_keys; i++) exprs[used++] = program->lookup->keys[i];
    return sl_sql_build_projection(program->arena, exprs, used, &program->projection);
}

/* SELECT DISTINCT items = GROUP BY items (with window_start and
 * window_end over a window), which is what it means in SQL: one row per
 * distinct combination, emitted as GROUP BY emits. */
static int distinct_as_group_by(compiler *c, sl_sql_select *select, sl_arena *scratch)
{
    bool has_aggregate = false;
    for (size_t i = 0; i < select->n_items; i++) has_aggregate |= sl_sql_ast_has_aggregate(select->items[i].expr);
    if (select->is_star)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: SELECT DISTINCT * is not supported: name the columns",
                            select->distinct_line, select->distinct_column);
    if (select->has_group_by || has_aggregate)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: DISTINCT with GROUP BY or aggregates is not "
                            "supported: GROUP BY already gives one row per group", select->distinct_line,
                            select->distinct_column);
    bool has_window = select->window.function.len > 0;
    size_t n = select->n_items + (has_window ? 2 : 0);
    sl_sql_ast **keys = sl_arena_calloc(scratch, n * sizeof *keys);
    if (!keys) return fail_memory(c), SL_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < select->n_items; i++) keys[used++] = select->items[i].expr;
    for (int k = 0; has_window && k < 2; k++) {
        /* GROUP BY over a window needs both; naming them twice is harmless. */
        sl_sql_ast *name = sl_arena_calloc(scratch, sizeof *name);
        sl_sql_path_step *step = sl_arena_calloc(scratch, sizeof *step);
        if (!name || !step) return fail_memory(c), SL_ENOMEM;
        step->key = k ? SL_STR_LIT("window_end") : SL_STR_LIT("window_start");
        name->kind = SL_AST_PATH;
        name->steps = step;
        name->n_steps = 1;
        name->line = select->distinct_line;
        name->column = select->distinct_column;
        keys[used++] = name;
    }
    select->group_by = keys;
    select->n_group_by = used;
    select->has_group_by = true;
    select->group_by_line = select->distinct_line;
    select->group_by_column = select->distinct_column;
    return SL_OK;
}

int sl_sql_compile(const char *text, sl_sql_program **out, sl_error *err)
{
    sl_error local = { 0 };
    compiler c = { NULL, err ? err : &local, NULL };
    sl_sql_tokens tokens = { 0 };
    sl_arena *scratch = NULL;
    sl_sql_program *program = NULL;
    sl_sql_select select;
    int rc = SL_ENOMEM;
    *out = NULL;
    c.err->code = SL_OK;
    if (!text) {
        rc = sl_error_set(c.err, SL_EINVAL, "no SQL text");
        goto fail;
    }
    rc = sl_sql_lex(text, &tokens, c.err);
    if (rc) goto fail;
    scratch = sl_arena_new(16 * 1024);
    program = calloc(1, sizeof *program);
    if (!scratch || !program || !(program->arena = sl_arena_new(8 * 1024))) {
        rc = sl_error_set(c.err, SL_ENOMEM, "out of memory compiling SQL");
        goto fail;
    }
    c.arena = program->arena;
    rc = sl_sql_parse(&tokens, scratch, &select, c.err);
    if (rc) goto fail;
    if (select.join && select.join->is_stream) {
        rc = sl_sql_compile_stream_join(&c, program, &select, scratch);
        if (rc) goto fail;
        goto done;
    }
    rc = sl_sql_inline_views(&select, scratch, c.err);
    if (rc) goto fail;
    if (!(select.from.len == 5 && strncasecmp(select.from.ptr, "input", 5) == 0)) {
        fail_at(&c, SL_ESQL, select.from_line, select.from_column,
                "only FROM input is supported, found", select.from);
        rc = SL_ESQL;
        goto fail;
    }
    program->is_star = select.is_star;
    if (select.is_distinct) {
        rc = distinct_as_group_by(&c, &select, scratch);
        if (rc) goto fail;
    }
    bool is_grouped = select.window.function.len || select.has_group_by || select.having;
    for (size_t i = 0; i < select.n_items && !is_grouped; i++)
        is_grouped = sl_sql_ast_has_aggregate(select.items[i].expr);
    if (select.join) {
        if (is_grouped) {
            rc = sl_error_set(c.err, SL_ESQL, "line %d column %d: a lookup join with GROUP BY or windows is not "
                              "supported yet: join in one pipeline into a topic, group in the next",
                              select.join->line, select.join->column);
            goto fail;
        }
        rc = sl_sql_compile_lookup(&c, program, &select);
        if (rc) goto fail;
    }
    if (select.where) {
        program->where = resolve(&c, select.where, 0);
        if (!program->where) {
            rc = c.err->code ? c.err->code : SL_ESQL;
            goto fail;
        }
        if (program->where->fold_error) {
            rc = sl_error_set(c.err, SL_ESQL, "%s", program->where->fold_error);
            goto fail;
        }
    }
    program->limit = select.limit;
    if (select.limit >= 0 && is_grouped) {
        rc = sl_error_set(c.err, SL_ESQL, "line %d column %d: LIMIT on a grouped statement is not supported: its rows "
                          "come out window by window", select.limit_line, select.limit_column);
        goto fail;
    }
    if (is_grouped) {
        rc = sl_sql_compile_grouped(&c, program, &select);
        if (rc) goto fail;
    } else if (!select.is_star) {
        rc = sl_sql_build_columns(&c, program, &select);
        if (rc) goto fail;
    }
    if (!program->is_star || program->grouping) {
        rc = build_projection(program);
        if (rc) {
            sl_error_set(c.err, rc, "out of memory compiling SQL");
            goto fail;
        }
    }
done:
    sl_arena_free(scratch);
    sl_sql_tokens_free(&tokens);
    *out = program;
    return SL_OK;
fail:
    sl_arena_free(scratch);
    sl_sql_tokens_free(&tokens);
    sl_sql_free(program);
    return rc;
}

const sl_json_projection *sl_sql_input_projection(const sl_sql_program *program)
{
    return program->projection;
}

void sl_sql_free(sl_sql_program *program)
{
    if (!program) return;
    sl_arena_free(program->arena);
    free(program);
}

size_t sl_sql_n_columns(const sl_sql_program *program)
{
    return program->n_columns;
}

const char *sl_sql_column_name(const sl_sql_program *program, size_t index)
{
    return index < program->n_columns ? program->column_names[index] : NULL;
}

int64_t sl_sql_limit(const sl_sql_program *program)
{
    return program ? program->limit : -1;
}
