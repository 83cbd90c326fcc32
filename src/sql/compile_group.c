/* compile_group.c — the grouped parts of a statement: the window table
 * function, GROUP BY, the aggregate calls and HAVING.
 *
 * GROUP BY's expressions are resolved over the input. Then the SELECT list
 * and HAVING are resolved with c->group set: a subexpression written as one
 * of GROUP BY's (or GROUP BY naming a SELECT alias) becomes a slot of the
 * group row, an aggregate call becomes a slot holding its result (its
 * argument resolved over the input; the same call written twice shares one
 * slot), window_start and window_end become the window's slots, and any
 * other column is PostgreSQL's mistake "must appear in the GROUP BY clause
 * or be used in an aggregate function". The layout of the rows is in
 * eval.h (sl_sql_grouping).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/aggregate.h"
#include "sql/compile_internal.h"
#include "sql/windows.h"
#include "sql/interval.h"

struct sl_sql_group_context {
    const sl_sql_select *select;
    sl_sql_grouping *grouping;
    const sl_sql_ast **key_asts;       /* GROUP BY's expressions (aliases replaced), per key */
    const sl_sql_ast **call_asts;      /* per call, for sharing a slot */
    size_t calls_capacity;
};

bool sl_sql_is_aggregate_name(sl_str name)
{
    char lower[32];
    if (name.len == 0 || name.len >= sizeof lower) return false;
    for (size_t i = 0; i < name.len; i++)
        lower[i] = (char)(name.ptr[i] >= 'A' && name.ptr[i] <= 'Z' ? name.ptr[i] + 32 : name.ptr[i]);
    lower[name.len] = '\0';
    return sl_sql_aggregate_find(lower) != NULL;
}

bool sl_sql_ast_has_aggregate(const sl_sql_ast *ast)
{
    if (!ast) return false;
    if (ast->kind == SL_AST_CALL && sl_sql_is_aggregate_name(ast->text)) return true;
    for (size_t i = 0; i < ast->n_args; i++)
        if (sl_sql_ast_has_aggregate(ast->args[i])) return true;
    return false;
}

static bool str_eq_nocase(sl_str a, sl_str b)
{
    return a.len == b.len && strncasecmp(a.ptr ? a.ptr : "", b.ptr ? b.ptr : "", a.len) == 0;
}

/* Written the same way (names of functions and keywords in any case;
 * member names exactly). */
static bool ast_equal(const sl_sql_ast *a, const sl_sql_ast *b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->op != b->op || a->is_negated != b->is_negated || a->is_ilike != b->is_ilike ||
        a->is_try != b->is_try || a->is_star != b->is_star || a->is_distinct != b->is_distinct ||
        a->n_args != b->n_args || a->n_steps != b->n_steps)
        return false;
    bool is_name = a->kind == SL_AST_CALL || a->kind == SL_AST_CAST;
    if (is_name ? !str_eq_nocase(a->text, b->text) : !sl_str_eq(a->text, b->text)) return false;
    for (size_t i = 0; i < a->n_steps; i++) {
        const sl_sql_path_step *x = &a->steps[i], *y = &b->steps[i];
        if (x->is_index != y->is_index || (x->is_index ? x->index != y->index : !sl_str_eq(x->key, y->key)))
            return false;
    }
    for (size_t i = 0; i < a->n_args; i++)
        if (!ast_equal(a->args[i], b->args[i])) return false;
    return true;
}

/* A bare one-part name (not quoted) equal to word in any case. */
static bool is_bare_name(const sl_sql_ast *ast, const char *word)
{
    return ast->kind == SL_AST_PATH && ast->n_steps == 1 && !ast->steps[0].is_quoted &&
           !ast->steps[0].is_index && ast->steps[0].key.len == strlen(word) &&
           strncasecmp(ast->steps[0].key.ptr, word, ast->steps[0].key.len) == 0;
}

size_t sl_sql_path_text(const sl_sql_ast *path, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < path->n_steps && used + 24 < size; i++) {
        const sl_sql_path_step *step = &path->steps[i];
        if (step->is_index) used += (size_t)snprintf(out + used, size - used, "[%lld]", (long long)step->index);
        else used += (size_t)snprintf(out + used, size - used, "%s%.*s", i ? "." : "",
                                      (int)(step->key.len > 60 ? 60 : step->key.len), step->key.ptr);
    }
    return used < size ? used : size - 1;
}

static sl_sql_expr *slot_new(sl_sql_compiler *c, const sl_sql_ast *ast, size_t slot)
{
    sl_sql_expr *expr = sl_arena_calloc(c->arena, sizeof *expr);
    if (!expr) {
        sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
        return NULL;
    }
    expr->kind = SL_EXPR_SLOT;
    expr->line = ast->line;
    expr->column = ast->column;
    expr->slot = slot;
    return expr;
}

static void *fail(sl_sql_compiler *c, const sl_sql_ast *ast, const char *format, const char *what)
{
    char message[300];
    snprintf(message, sizeof message, format, what);
    sl_error_set(c->err, SL_ESQL, "line %d column %d: %s", ast->line, ast->column, message);
    return NULL;
}

static sl_sql_expr *resolve_aggregate(sl_sql_compiler *c, const sl_sql_ast *ast, int depth)
{
    sl_sql_group_context *group = c->group;
    sl_sql_grouping *grouping = group->grouping;
    for (size_t i = 0; i < grouping->n_calls; i++)
        if (ast_equal(group->call_asts[i], ast)) return slot_new(c, ast, SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + i);
    char name[32];
    size_t len = ast->text.len;
    for (size_t i = 0; i < len; i++)
        name[i] = (char)(ast->text.ptr[i] >= 'A' && ast->text.ptr[i] <= 'Z' ? ast->text.ptr[i] + 32 : ast->text.ptr[i]);
    name[len] = '\0';
    const sl_sql_aggregate *aggregate = sl_sql_aggregate_find(name);
    size_t n_args = ast->n_args;
    if (ast->is_star && aggregate->min_args != 0)
        return fail(c, ast, "%s(*) is not an aggregate: only count(*) takes *", name);
    if (!ast->is_star && ((int)n_args < aggregate->min_args || (int)n_args > aggregate->max_args || n_args == 0)) {
        char message[128];
        snprintf(message, sizeof message, "%s() takes %d to %d argument%s, got %zu", name,
                 aggregate->min_args ? aggregate->min_args : 1, aggregate->max_args,
                 aggregate->max_args == 1 ? "" : "s", n_args);
        return fail(c, ast, "%s", message);
    }
    if (ast->is_distinct && !aggregate->allows_distinct)
        return fail(c, ast, "DISTINCT is not supported in %s(): only count(DISTINCT x)", name);
    if (grouping->n_calls == group->calls_capacity) {
        size_t capacity = group->calls_capacity, grown_capacity = capacity ? capacity * 2 : 8;
        sl_sql_aggregate_call *calls = sl_arena_realloc(c->arena, grouping->calls, capacity * sizeof *calls,
                                                        grown_capacity * sizeof *calls);
        const sl_sql_ast **asts = sl_arena_realloc(c->arena, group->call_asts, capacity * sizeof *asts,
                                                   grown_capacity * sizeof *asts);
        if (!calls || !asts) return fail(c, ast, "%s", "out of memory compiling SQL");
        grouping->calls = calls;
        group->call_asts = asts;
        group->calls_capacity = grown_capacity;
    }
    sl_sql_aggregate_call *call = &grouping->calls[grouping->n_calls];
    memset(call, 0, sizeof *call);
    call->aggregate = aggregate;
    call->is_distinct = ast->is_distinct;
    /* Arguments are over the input: an aggregate inside one is a mistake
     * (unknown_function says so), as is a column of the group row. */
    c->group = NULL;
    if (n_args) {
        call->arg = sl_sql_resolve(c, ast->args[0], depth + 1);
        if (!call->arg) goto fail;
        if (call->arg->fold_error) {
            sl_error_set(c->err, SL_ESQL, "%s", call->arg->fold_error);
            goto fail;
        }
    }
    if (n_args > 1) {
        call->n_constants = n_args - 1;
        call->constants = sl_arena_calloc(c->arena, call->n_constants * sizeof *call->constants);
        if (!call->constants) goto fail;
        for (size_t i = 1; i < n_args; i++) {
            sl_sql_expr *constant = sl_sql_resolve(c, ast->args[i], depth + 1);
            if (!constant) goto fail;
            if (constant->kind != SL_EXPR_CONST) {
                fail(c, ast->args[i], "argument %s must be a constant", i == 1 ? "2" : "3");
                goto fail;
            }
            call->constants[i - 1] = constant->constant;
        }
    }
    call->n_args = n_args;
    if (aggregate->check && aggregate->check(call->constants, call->n_args, call->is_distinct, c->err)) {
        sl_error_prefix(c->err, "line %d column %d: %s: ", ast->line, ast->column, name);
        goto fail;
    }
    c->group = group;
    group->call_asts[grouping->n_calls] = ast;
    grouping->n_calls++;
    return slot_new(c, ast, SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + grouping->n_calls - 1);
fail:
    c->group = group;
    if (c->err->code == SL_OK) sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    return NULL;
}

sl_sql_expr *sl_sql_resolve_grouped(sl_sql_compiler *c, const sl_sql_ast *ast, int depth, bool *is_handled)
{
    sl_sql_group_context *group = c->group;
    sl_sql_grouping *grouping = group->grouping;
    *is_handled = true;
    for (size_t i = 0; i < grouping->n_keys; i++)
        if (ast_equal(group->key_asts[i], ast)) return slot_new(c, ast, SL_SQL_SLOT_FIRST_KEY + i);
    if (ast->kind == SL_AST_CALL && sl_sql_is_aggregate_name(ast->text)) return resolve_aggregate(c, ast, depth);
    if (grouping->window.kind != SL_SQL_WINDOW_NONE && is_bare_name(ast, "window_start"))
        return slot_new(c, ast, SL_SQL_SLOT_WINDOW_START);
    if (grouping->window.kind != SL_SQL_WINDOW_NONE && is_bare_name(ast, "window_end"))
        return slot_new(c, ast, SL_SQL_SLOT_WINDOW_END);
    if (ast->kind == SL_AST_PATH) {
        char name[128];
        sl_sql_path_text(ast, name, sizeof name);
        return fail(c, ast, "column '%s' must appear in the GROUP BY clause or be used in an aggregate function",
                    name);
    }
    *is_handled = false;
    return NULL;
}

/* A GROUP BY written as a SELECT alias means that item's expression
 * (PostgreSQL would first look for an input column of that name; records
 * have no declared columns, so the alias is what was meant). */
static const sl_sql_ast *key_ast(const sl_sql_select *select, const sl_sql_ast *ast)
{
    if (ast->kind != SL_AST_PATH || ast->n_steps != 1 || ast->steps[0].is_index) return ast;
    for (size_t i = 0; i < select->n_items; i++)
        if (select->items[i].has_alias && sl_str_eq(select->items[i].alias, ast->steps[0].key))
            return select->items[i].expr;
    return ast;
}

/* An interval argument of the window function, as a fixed number of
 * microseconds > 0. */
static int interval_argument(sl_sql_compiler *c, const sl_sql_ast *ast, const char *what, int64_t *out)
{
    sl_sql_expr *expr = sl_sql_resolve(c, ast, 1);
    if (!expr) return c->err->code ? c->err->code : SL_ESQL;
    int64_t us = 0;
    if (expr->kind != SL_EXPR_CONST || expr->fold_error || expr->constant.type != SL_TYPE_INTERVAL)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: the %s must be an INTERVAL constant such as "
                            "INTERVAL '10' SECOND", ast->line, ast->column, what);
    if (!sl_sql_interval_fixed_micros(&expr->constant, &us))
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: the %s must have a fixed length: months and "
                            "years do not (write days)", ast->line, ast->column, what);
    if (us <= 0)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: the %s must be positive", ast->line, ast->column,
                            what);
    *out = us;
    return SL_OK;
}

typedef struct window_function {
    const char *name;
    sl_sql_window_kind kind;
    size_t n_args;
    const char *arguments[2];   /* what each interval is, for messages */
    const char *usage;
} window_function;

static const window_function window_functions[] = {
    { "tumble", SL_SQL_WINDOW_TUMBLE, 1, { "window size", NULL }, "TUMBLE(TABLE input, DESCRIPTOR(ts), size)" },
    { "hop", SL_SQL_WINDOW_HOP, 2, { "slide", "window size" }, "HOP(TABLE input, DESCRIPTOR(ts), slide, size)" },
    { "cumulate", SL_SQL_WINDOW_CUMULATE, 2, { "step", "maximum size" },
      "CUMULATE(TABLE input, DESCRIPTOR(ts), step, max size)" },
    { "session", SL_SQL_WINDOW_SESSION, 1, { "gap", NULL }, "SESSION(TABLE input, DESCRIPTOR(ts), gap)" },
};

int sl_sql_build_window(sl_sql_compiler *c, const sl_sql_window_call *call, const sl_sql_ast *time,
                        sl_sql_window_spec *window)
{
    const window_function *function = NULL;
    for (size_t i = 0; i < sizeof window_functions / sizeof window_functions[0]; i++)
        if (str_eq_nocase(call->function, (sl_str){ window_functions[i].name, strlen(window_functions[i].name) }))
            function = &window_functions[i];
    if (!function)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: unknown window function '%.*s' (TUMBLE, HOP, "
                            "CUMULATE or SESSION)", call->line, call->column,
                            (int)(call->function.len > 40 ? 40 : call->function.len), call->function.ptr);
    if (call->n_args != function->n_args)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: %.*s takes %zu interval%s after the descriptor: %s",
                            call->line, call->column, (int)call->function.len, call->function.ptr, function->n_args,
                            function->n_args == 1 ? "" : "s", function->usage);
    window->kind = function->kind;
    window->time = sl_sql_resolve(c, time, 0);
    if (!window->time) return c->err->code;
    char name[128];
    size_t used = sl_sql_path_text(time, name, sizeof name);
    window->time_name = sl_arena_strndup(c->arena, name, used);
    if (!window->time_name) return sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    int64_t values[2] = { 0, 0 };
    for (size_t i = 0; i < function->n_args; i++) {
        int rc = interval_argument(c, call->args[i], function->arguments[i], &values[i]);
        if (rc) return rc;
    }
    switch (window->kind) {
    case SL_SQL_WINDOW_TUMBLE: window->size_us = values[0]; break;
    case SL_SQL_WINDOW_HOP:
    case SL_SQL_WINDOW_CUMULATE:
        window->slide_us = values[0];
        window->size_us = values[1];
        if (window->size_us % window->slide_us)
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: the %s must be a whole multiple of the %s",
                                call->args[1]->line, call->args[1]->column, function->arguments[1],
                                function->arguments[0]);
        if (window->size_us / window->slide_us > SL_SQL_MAX_WINDOWS_PER_ROW)
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: %s puts each record in more than %d "
                                "windows: make the %s larger", call->line, call->column, function->name,
                                SL_SQL_MAX_WINDOWS_PER_ROW, function->arguments[0]);
        break;
    case SL_SQL_WINDOW_SESSION: window->gap_us = values[0]; break;
    case SL_SQL_WINDOW_NONE: break;
    }
    return SL_OK;
}

/* GROUP BY's keys; a window's window_start and window_end must be there
 * (both), as in Flink, and are not keys of their own. */
static int build_keys(sl_sql_compiler *c, sl_sql_group_context *group, const sl_sql_select *select)
{
    sl_sql_grouping *grouping = group->grouping;
    bool has_window = grouping->window.kind != SL_SQL_WINDOW_NONE;
    bool has_start = false, has_end = false;
    size_t n = select->n_group_by;
    grouping->keys = n ? sl_arena_calloc(c->arena, n * sizeof *grouping->keys) : NULL;
    group->key_asts = n ? sl_arena_calloc(c->arena, n * sizeof *group->key_asts) : NULL;
    if (n && (!grouping->keys || !group->key_asts)) return sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    for (size_t i = 0; i < n; i++) {
        const sl_sql_ast *ast = select->group_by[i];
        if (has_window && is_bare_name(ast, "window_start")) {
            has_start = true;
            continue;
        }
        if (has_window && is_bare_name(ast, "window_end")) {
            has_end = true;
            continue;
        }
        const sl_sql_ast *meant = key_ast(select, ast);
        if (sl_sql_ast_has_aggregate(meant))
            return sl_error_set(c->err, SL_ESQL, "line %d column %d: aggregates are not allowed in GROUP BY",
                                ast->line, ast->column);
        sl_sql_expr *key = sl_sql_resolve(c, meant, 0);
        if (!key) return c->err->code;
        if (key->fold_error) return sl_error_set(c->err, SL_ESQL, "%s", key->fold_error);
        group->key_asts[grouping->n_keys] = meant;
        grouping->keys[grouping->n_keys++] = key;
    }
    if (has_window && (!has_start || !has_end)) {
        int line = select->has_group_by ? select->group_by_line : select->window.line;
        int column = select->has_group_by ? select->group_by_column : select->window.column;
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: a statement over %.*s must GROUP BY window_start, "
                            "window_end (and any other keys)", line, column, (int)select->window.function.len,
                            select->window.function.ptr);
    }
    return SL_OK;
}

int sl_sql_compile_grouped(sl_sql_compiler *c, sl_sql_program *program, const sl_sql_select *select)
{
    if (select->is_star)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: SELECT * cannot be grouped: name the GROUP BY "
                            "keys, window_start, window_end and aggregates", select->from_line, select->from_column);
    sl_sql_grouping *grouping = sl_arena_calloc(c->arena, sizeof *grouping);
    if (!grouping) return sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    sl_sql_group_context group = { .select = select, .grouping = grouping };
    int rc = SL_OK;
    if (select->window.function.len)
        rc = sl_sql_build_window(c, &select->window, select->window.descriptor, &grouping->window);
    if (rc == SL_OK) rc = build_keys(c, &group, select);
    if (rc) return rc;
    c->group = &group;
    rc = sl_sql_build_columns(c, program, select);
    if (rc == SL_OK && select->having) {
        grouping->having = sl_sql_resolve(c, select->having, 0);
        if (!grouping->having) rc = c->err->code ? c->err->code : SL_ESQL;
        else if (grouping->having->fold_error) rc = sl_error_set(c->err, SL_ESQL, "%s", grouping->having->fold_error);
    }
    c->group = NULL;
    if (rc) return rc;
    program->grouping = grouping;
    return SL_OK;
}
