/* parse_statement.c — the statement level of the SQL parser: SELECT's
 * items, FROM with its views, subqueries, window table functions and joins,
 * WHERE, GROUP BY, HAVING, LIMIT, and WITH's views (see parser.h). The
 * expressions inside are parser.c's.
 */
#include "sql/parser_internal.h"

#include <string.h>

static bool parse_select(sl_sql_parser *p, sl_sql_select *out);

static bool parse_select_item(sl_sql_parser *p, sl_sql_select_item *item)
{
    const sl_sql_token *start = sl_sql_parser_peek(p);
    item->line = start->line;
    item->column = start->column;
    item->expr = sl_sql_parser_parse_expr(p);
    if (!item->expr) return false;
    bool has_as = sl_sql_parser_accept(p, SL_TOKEN_AS);
    const sl_sql_token *alias = sl_sql_parser_peek(p);
    if (sl_sql_parser_is_name_token(alias)) {
        sl_sql_parser_next(p);
        item->has_alias = true;
        item->alias_line = alias->line;
        item->alias_column = alias->column;
        if (alias->kind == SL_TOKEN_QUOTED_IDENT) return sl_sql_parser_unquote(p, alias, &item->alias);
        item->alias = (sl_str){ alias->text, alias->len };
    } else if (has_as) {
        sl_sql_parser_fail_expected(p, "a column name after AS");
        return false;
    }
    return true;
}

/* expr (',' expr)*, into an array in the arena. */
static bool parse_expr_list(sl_sql_parser *p, sl_sql_ast ***out, size_t *n_out)
{
    size_t capacity = 0, n = 0;
    sl_sql_ast **items = NULL;
    do {
        if (n == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 8;
            sl_sql_ast **grown = sl_arena_realloc(p->arena, items, capacity * sizeof *grown,
                                                  grown_capacity * sizeof *grown);
            if (!grown) return sl_sql_parser_fail_memory(p), false;
            items = grown;
            capacity = grown_capacity;
        }
        items[n] = sl_sql_parser_parse_expr(p);
        if (!items[n]) return false;
        n++;
    } while (sl_sql_parser_accept(p, SL_TOKEN_COMMA));
    *out = items;
    *n_out = n;
    return true;
}

/* The table name: input, a view, as a bare or quoted name. */
static bool parse_table_name(sl_sql_parser *p, sl_sql_select *out)
{
    const sl_sql_token *from = sl_sql_parser_peek(p);
    if (from->kind == SL_TOKEN_LPAREN && sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_SELECT) {
        /* (SELECT ...): an unnamed view */
        sl_sql_parser_next(p);
        out->from_line = from->line;
        out->from_column = from->column;
        out->from_subquery = sl_arena_calloc(p->arena, sizeof *out->from_subquery);
        if (!out->from_subquery) return sl_sql_parser_fail_memory(p), false;
        if (!parse_select(p, out->from_subquery)) return false;
        return sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')' closing the subquery");
    }
    if (!sl_sql_parser_is_name_token(from)) return sl_sql_parser_fail_expected(p, "a table name"), false;
    sl_sql_parser_next(p);
    out->from = (sl_str){ from->text, from->len };
    if (from->kind == SL_TOKEN_QUOTED_IDENT) out->from = (sl_str){ from->text + 1, from->len - 2 };
    out->from_line = from->line;
    out->from_column = from->column;
    return true;
}

/* [AS] alias after a table. */
static bool parse_table_alias(sl_sql_parser *p, sl_sql_select *out)
{
    bool has_as = sl_sql_parser_accept(p, SL_TOKEN_AS);
    const sl_sql_token *alias = sl_sql_parser_peek(p);
    static const char *const not_aliases[] = { "window", "join", "left", "inner", "right", "full", "cross",
                                               "on", "for", NULL };
    bool is_clause_word = false;
    for (size_t i = 0; not_aliases[i] && !has_as; i++) is_clause_word |= sl_sql_parser_is_word(alias, not_aliases[i]);
    if (!sl_sql_parser_is_name_token(alias) || is_clause_word) {
        if (has_as) return sl_sql_parser_fail_expected(p, "a table alias after AS"), false;
        return true;
    }
    sl_sql_parser_next(p);
    out->from_alias = (sl_str){ alias->text, alias->len };
    return alias->kind != SL_TOKEN_QUOTED_IDENT || sl_sql_parser_unquote(p, alias, &out->from_alias);
}

/* A lookup join's rest after its table's name: FOR SYSTEM_TIME AS OF
 * expr [AS] alias. */
static bool parse_lookup_rest(sl_sql_parser *p, sl_sql_join *join, const sl_sql_token *table)
{
    join->table = (sl_str){ table->text, table->len };
    if (table->kind == SL_TOKEN_QUOTED_IDENT && !sl_sql_parser_unquote(p, table, &join->table)) return false;
    for (int i = 0; i < 4; i++) sl_sql_parser_next(p);
    if (!sl_sql_parser_parse_expr(p)) return false;   /* the processing time: when the lookup happens, whatever is written */
    sl_sql_parser_accept(p, SL_TOKEN_AS);
    const sl_sql_token *alias = sl_sql_parser_peek(p);
    if (sl_sql_parser_is_name_token(alias) && !sl_sql_parser_is_word(alias, "on")) {
        sl_sql_parser_next(p);
        join->alias = (sl_str){ alias->text, alias->len };
        if (alias->kind == SL_TOKEN_QUOTED_IDENT && !sl_sql_parser_unquote(p, alias, &join->alias)) return false;
    } else {
        join->alias = join->table;
    }
    return true;
}

static bool parse_from_item(sl_sql_parser *p, sl_sql_select *out);

/* ", item" or "CROSS JOIN item": an inner join of two streams whose
 * conditions are all in WHERE. */
static bool parse_cross_join(sl_sql_parser *p, sl_sql_select *out, const sl_sql_token *start)
{
    sl_sql_join *join = sl_arena_calloc(p->arena, sizeof *join);
    join->right = join ? sl_arena_calloc(p->arena, sizeof *join->right) : NULL;
    if (!join || !join->right) return sl_sql_parser_fail_memory(p), false;
    join->line = start->line;
    join->column = start->column;
    join->is_stream = true;
    join->right->is_star = true;
    join->right->limit = -1;
    if (!parse_from_item(p, join->right)) return false;
    join->alias = join->right->from_alias.len ? join->right->from_alias : join->right->from;
    out->join = join;
    return true;
}

/* [INNER | LEFT [OUTER] | RIGHT [OUTER] | FULL [OUTER]] JOIN item ON condition:
 * a lookup join (item is `table FOR SYSTEM_TIME AS OF expr [AS] alias`,
 * Flink's syntax) or a join of two streams (item is a view, a topic, a
 * subquery or a window table function, with an alias); or ", item" and
 * CROSS JOIN item, without ON. */
static bool parse_join(sl_sql_parser *p, sl_sql_select *out)
{
    const sl_sql_token *start = sl_sql_parser_peek(p);
    if (sl_sql_parser_accept(p, SL_TOKEN_COMMA)) return parse_cross_join(p, out, start);
    if (sl_sql_parser_is_word(start, "cross") && sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 1), "join")) {
        sl_sql_parser_next(p);
        sl_sql_parser_next(p);
        return parse_cross_join(p, out, start);
    }
    bool is_left = false, is_right = false, is_full = false;
    if (sl_sql_parser_is_word(start, "left") || sl_sql_parser_is_word(start, "right") ||
        sl_sql_parser_is_word(start, "full")) {
        is_left = sl_sql_parser_is_word(start, "left");
        is_right = sl_sql_parser_is_word(start, "right");
        is_full = sl_sql_parser_is_word(start, "full");
        sl_sql_parser_next(p);
        if (sl_sql_parser_is_word(sl_sql_parser_peek(p), "outer")) sl_sql_parser_next(p);
    } else if (sl_sql_parser_is_word(start, "inner")) {
        sl_sql_parser_next(p);
    }
    if (!sl_sql_parser_is_word(sl_sql_parser_peek(p), "join")) {
        if (start != sl_sql_parser_peek(p)) return sl_sql_parser_fail_expected(p, "JOIN"), false;
        return true;
    }
    sl_sql_parser_next(p);
    sl_sql_join *join = sl_arena_calloc(p->arena, sizeof *join);
    if (!join) return sl_sql_parser_fail_memory(p), false;
    join->is_left = is_left || is_full;
    join->is_right = is_right || is_full;
    join->line = start->line;
    join->column = start->column;
    const sl_sql_token *table = sl_sql_parser_peek(p);
    if (sl_sql_parser_is_name_token(table) && sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 1), "for") &&
        sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 2), "system_time") &&
        sl_sql_parser_peek_at(p, 3)->kind == SL_TOKEN_AS && sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 4), "of")) {
        if (is_right)
            return sl_sql_parser_fail_expected(p, "LEFT or INNER JOIN (a lookup join keeps every record, never "
                                                  "the table's rows alone)"), false;
        sl_sql_parser_next(p);
        if (!parse_lookup_rest(p, join, table)) return false;
    } else {
        join->is_stream = true;
        join->right = sl_arena_calloc(p->arena, sizeof *join->right);
        if (!join->right) return sl_sql_parser_fail_memory(p), false;
        join->right->is_star = true;
        join->right->limit = -1;
        if (!parse_from_item(p, join->right)) return false;
        join->alias = join->right->from_alias.len ? join->right->from_alias : join->right->from;
    }
    if (!sl_sql_parser_is_word(sl_sql_parser_peek(p), "on")) return sl_sql_parser_fail_expected(p, "ON"), false;
    sl_sql_parser_next(p);
    join->on = sl_sql_parser_parse_expr(p);
    if (!join->on) return false;
    out->join = join;
    return true;
}

/* One table: input, a view or topic, (SELECT ...), or
 * TABLE(F(TABLE name, DESCRIPTOR(path), interval [, interval])), each
 * with an optional alias. */
static bool parse_from_item(sl_sql_parser *p, sl_sql_select *out)
{
    if (!(sl_sql_parser_is_word(sl_sql_parser_peek(p), "table") &&
          sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_LPAREN))
        return parse_table_name(p, out) && parse_table_alias(p, out);
    sl_sql_parser_next(p);
    sl_sql_parser_next(p);
    const sl_sql_token *function = sl_sql_parser_peek(p);
    if (function->kind != SL_TOKEN_IDENT || sl_sql_parser_peek_at(p, 1)->kind != SL_TOKEN_LPAREN)
        return sl_sql_parser_fail_expected(p, "a window function (TUMBLE, HOP, CUMULATE or SESSION) and '('"), false;
    sl_sql_parser_next(p);
    sl_sql_parser_next(p);
    sl_sql_window_call *window = &out->window;
    window->function = (sl_str){ function->text, function->len };
    window->line = function->line;
    window->column = function->column;
    if (!sl_sql_parser_is_word(sl_sql_parser_peek(p), "table")) return sl_sql_parser_fail_expected(p, "TABLE input"), false;
    sl_sql_parser_next(p);
    if (!parse_table_name(p, out)) return false;
    if (!sl_sql_parser_expect(p, SL_TOKEN_COMMA, "','")) return false;
    if (!sl_sql_parser_is_word(sl_sql_parser_peek(p), "descriptor") || sl_sql_parser_peek_at(p, 1)->kind != SL_TOKEN_LPAREN)
        return sl_sql_parser_fail_expected(p, "DESCRIPTOR(time column)"), false;
    sl_sql_parser_next(p);
    sl_sql_parser_next(p);
    if (!sl_sql_parser_is_name_token(sl_sql_parser_peek(p))) return sl_sql_parser_fail_expected(p, "the event-time column"), false;
    window->descriptor = sl_sql_parser_parse_path(p);
    if (!window->descriptor || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return false;
    while (sl_sql_parser_accept(p, SL_TOKEN_COMMA)) {
        if (window->n_args == 2) return sl_sql_parser_fail_expected(p, "')': a window function takes at most two intervals"), false;
        window->args[window->n_args] = sl_sql_parser_parse_expr(p);
        if (!window->args[window->n_args]) return false;
        window->n_args++;
    }
    if (!sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "',' or ')'")) return false;
    return sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')' closing TABLE(") && parse_table_alias(p, out);
}

/* FROM item [join]. */
static bool parse_from(sl_sql_parser *p, sl_sql_select *out)
{
    return parse_from_item(p, out) && parse_join(p, out);
}

/* WITH name AS (SELECT ...) [, ...]: the statement's views. */
static bool parse_with(sl_sql_parser *p, sl_sql_select *out)
{
    size_t capacity = 0;
    do {
        const sl_sql_token *name = sl_sql_parser_peek(p);
        if (!sl_sql_parser_is_name_token(name)) return sl_sql_parser_fail_expected(p, "a view name after WITH"), false;
        sl_sql_parser_next(p);
        if (!sl_sql_parser_expect(p, SL_TOKEN_AS, "AS") || !sl_sql_parser_expect(p, SL_TOKEN_LPAREN, "'('")) return false;
        if (out->n_views == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 4;
            sl_sql_view *grown = sl_arena_realloc(p->arena, out->views, capacity * sizeof *grown,
                                                  grown_capacity * sizeof *grown);
            if (!grown) return sl_sql_parser_fail_memory(p), false;
            out->views = grown;
            capacity = grown_capacity;
        }
        sl_sql_view *view = &out->views[out->n_views];
        memset(view, 0, sizeof *view);
        view->line = name->line;
        view->column = name->column;
        view->name = (sl_str){ name->text, name->len };
        if (name->kind == SL_TOKEN_QUOTED_IDENT && !sl_sql_parser_unquote(p, name, &view->name)) return false;
        view->select = sl_arena_calloc(p->arena, sizeof *view->select);
        if (!view->select) return sl_sql_parser_fail_memory(p), false;
        if (!parse_select(p, view->select) || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')' closing the view")) return false;
        out->n_views++;
    } while (sl_sql_parser_accept(p, SL_TOKEN_COMMA));
    return true;
}

static bool parse_select(sl_sql_parser *p, sl_sql_select *out)
{
    memset(out, 0, sizeof *out);
    out->limit = -1;
    if (!sl_sql_parser_expect(p, SL_TOKEN_SELECT, "SELECT")) return false;
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_DISTINCT) {
        const sl_sql_token *distinct = sl_sql_parser_next(p);
        out->is_distinct = true;
        out->distinct_line = distinct->line;
        out->distinct_column = distinct->column;
    }
    if (sl_sql_parser_accept(p, SL_TOKEN_STAR)) {
        out->is_star = true;
    } else {
        size_t capacity = 0;
        do {
            if (out->n_items == capacity) {
                size_t grown_capacity = capacity ? capacity * 2 : 16;
                sl_sql_select_item *grown =
                    sl_arena_realloc(p->arena, out->items, capacity * sizeof *grown,
                                     grown_capacity * sizeof *grown);
                if (!grown) return sl_sql_parser_fail_memory(p), false;
                out->items = grown;
                capacity = grown_capacity;
            }
            sl_sql_select_item *item = &out->items[out->n_items];
            memset(item, 0, sizeof *item);
            if (!parse_select_item(p, item)) return false;
            out->n_items++;
        } while (sl_sql_parser_accept(p, SL_TOKEN_COMMA));
    }
    if (!sl_sql_parser_expect(p, SL_TOKEN_FROM, out->is_star ? "FROM" : "',' or FROM")) return false;
    if (!parse_from(p, out)) return false;
    if (sl_sql_parser_accept(p, SL_TOKEN_WHERE)) {
        out->where = sl_sql_parser_parse_expr(p);
        if (!out->where) return false;
    }
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_GROUP) {
        const sl_sql_token *group = sl_sql_parser_next(p);
        if (!sl_sql_parser_expect(p, SL_TOKEN_BY, "BY after GROUP")) return false;
        out->has_group_by = true;
        out->group_by_line = group->line;
        out->group_by_column = group->column;
        if (!parse_expr_list(p, &out->group_by, &out->n_group_by)) return false;
    }
    if (sl_sql_parser_accept(p, SL_TOKEN_HAVING)) {
        out->having = sl_sql_parser_parse_expr(p);
        if (!out->having) return false;
    }
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_ORDER) {
        const sl_sql_token *order = sl_sql_parser_peek(p);
        sl_error_set(p->err, SL_ESQL, "line %d column %d: ORDER BY is not supported on a stream (it has no end to "
                     "sort up to): sort where the rows are stored, or in a window's sink query", order->line,
                     order->column);
        return false;
    }
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_LIMIT) {
        const sl_sql_token *limit = sl_sql_parser_next(p);
        out->limit_line = limit->line;
        out->limit_column = limit->column;
        const sl_sql_token *count = sl_sql_parser_peek(p);
        if (count->kind != SL_TOKEN_INTEGER || count->len > 18) return sl_sql_parser_fail_expected(p, "a row count after LIMIT"), false;
        sl_sql_parser_next(p);
        out->limit = 0;
        for (size_t i = 0; i < count->len; i++) out->limit = out->limit * 10 + (count->text[i] - '0');
    }
    return true;
}

int sl_sql_parse(const sl_sql_tokens *tokens, sl_arena *arena, sl_sql_select *out, sl_error *err)
{
    sl_error local = { 0 };
    sl_sql_parser p = { tokens->items, 0, arena, err ? err : &local, 0 };
    p.err->code = SL_OK;
    memset(out, 0, sizeof *out);
    sl_sql_view *views = NULL;
    size_t n_views = 0;
    if (sl_sql_parser_is_word(sl_sql_parser_peek(&p), "with")) {
        sl_sql_parser_next(&p);
        sl_sql_select with = { 0 };
        if (!parse_with(&p, &with)) return p.err->code;
        views = with.views;
        n_views = with.n_views;
    }
    if (!parse_select(&p, out)) return p.err->code ? p.err->code : SL_ESQL;
    out->views = views;
    out->n_views = n_views;
    sl_sql_parser_accept(&p, SL_TOKEN_SEMICOLON);
    if (sl_sql_parser_peek(&p)->kind != SL_TOKEN_END) return sl_sql_parser_fail_expected(&p, "end of statement"), p.err->code;
    return SL_OK;
}
