/* explain.c — a compiled statement as text (see explain.h): each
 * expression node written back as SQL with every operator parenthesised,
 * so the order of evaluation the plan holds is plain to see. In a join,
 * what the statement reads of the pair (or of [record, row]) is named
 * by the sides' aliases. */
#include "sql/explain.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/interval.h"
#include "core/json.h"
#include "sql/aggregate.h"
#include "sql/eval.h"
#include "sql/join_sides.h"

/* How to write the items a joined statement reads: PATH nodes from item
 * base_slot, SLOT nodes of a stream join's pair. NULL: none named. */
typedef struct item_names {
    const char *base[SL_SQL_JOIN_SIDE_LAST];   /* prefix of a path from that item; NULL: none */
    const char *slot[SL_SQL_JOIN_SIDE_LAST];   /* a SLOT node's name; NULL: group[N] */
    char texts[SL_SQL_JOIN_SIDE_LAST][160];
} item_names;

static int write_expr(sl_buffer *out, const sl_sql_expr *expr, const item_names *names);

static int write_args(sl_buffer *out, const sl_sql_expr *expr, size_t from, const char *separator,
                      const item_names *names)
{
    int rc = SL_OK;
    for (size_t i = from; i < expr->n_args && rc == SL_OK; i++) {
        if (i > from) rc = sl_buffer_append_cstr(out, separator);
        if (rc == SL_OK) rc = write_expr(out, expr->args[i], names);
    }
    return rc;
}

static int write_path(sl_buffer *out, const sl_sql_expr *expr, const item_names *names)
{
    int rc = SL_OK;
    const char *base = expr->has_base && names && expr->base_slot < SL_SQL_JOIN_SIDE_LAST ? names->base[expr->base_slot] : NULL;
    if (base) rc = sl_buffer_printf(out, "%s%s", base, expr->n_steps ? "." : "");
    for (size_t i = 0; i < expr->n_steps && rc == SL_OK; i++) {
        const sl_sql_path_step *step = &expr->steps[i];
        if (step->is_index) rc = sl_buffer_printf(out, "[%lld]", (long long)step->index);
        else rc = sl_buffer_printf(out, "%s%.*s", i ? "." : "", (int)step->key.len, step->key.ptr);
    }
    return rc;
}

static int write_constant(sl_buffer *out, const sl_value *value)
{
    if (value->type == SL_TYPE_NULL) return sl_buffer_append_cstr(out, "NULL");
    if (value->type == SL_TYPE_BOOL) return sl_buffer_append_cstr(out, value->boolean ? "TRUE" : "FALSE");
    if (value->type == SL_TYPE_STRING) {
        int rc = sl_buffer_append_byte(out, '\'');
        for (size_t i = 0; i < value->string.len && rc == SL_OK; i++)
            rc = value->string.ptr[i] == '\'' ? sl_buffer_append_cstr(out, "''")
                                              : sl_buffer_append_byte(out, value->string.ptr[i]);
        return rc ? rc : sl_buffer_append_byte(out, '\'');
    }
    if (value->type == SL_TYPE_TIMESTAMP) {
        int rc = sl_buffer_append_cstr(out, "TIMESTAMP ");
        return rc ? rc : sl_json_write(out, value);
    }
    if (value->type == SL_TYPE_INTERVAL) {   /* INTERVAL '1 day 02:00:00', which reads back as the same */
        char text[SL_INTERVAL_TEXT_MAX];
        sl_interval_format(value->interval, text);
        return sl_buffer_printf(out, "INTERVAL '%s'", text);
    }
    return sl_json_write(out, value);
}

static int write_expr(sl_buffer *out, const sl_sql_expr *expr, const item_names *names)
{
    int rc = SL_OK;
    switch (expr->kind) {
    case SL_EXPR_CONST: return write_constant(out, &expr->constant);
    case SL_EXPR_PATH: return write_path(out, expr, names);
    case SL_EXPR_UNARY:
        rc = sl_buffer_printf(out, "(%s%s", sl_sql_operator_name(expr->op), expr->op == SL_OP_NOT ? " " : "");
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        return rc ? rc : sl_buffer_append_byte(out, ')');
    case SL_EXPR_BINARY:
        rc = sl_buffer_append_byte(out, '(');
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        if (rc == SL_OK) rc = sl_buffer_printf(out, " %s ", sl_sql_operator_name(expr->op));
        if (rc == SL_OK) rc = write_expr(out, expr->args[1], names);
        return rc ? rc : sl_buffer_append_byte(out, ')');
    case SL_EXPR_IS_NULL:
        rc = sl_buffer_append_byte(out, '(');
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, expr->is_negated ? " IS NOT NULL)" : " IS NULL)");
        return rc;
    case SL_EXPR_IN:
        rc = sl_buffer_append_byte(out, '(');
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, expr->is_negated ? " NOT IN (" : " IN (");
        if (rc == SL_OK) rc = write_args(out, expr, 1, ", ", names);
        return rc ? rc : sl_buffer_append_cstr(out, "))");
    case SL_EXPR_LIKE:
        rc = sl_buffer_append_byte(out, '(');
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        if (rc == SL_OK)
            rc = sl_buffer_printf(out, " %s%s ", expr->is_negated ? "NOT " : "", expr->is_ilike ? "ILIKE" : "LIKE");
        if (rc == SL_OK) rc = write_expr(out, expr->args[1], names);
        if (rc == SL_OK && expr->n_args > 2) rc = sl_buffer_append_cstr(out, " ESCAPE ");
        if (rc == SL_OK && expr->n_args > 2) rc = write_expr(out, expr->args[2], names);
        return rc ? rc : sl_buffer_append_byte(out, ')');
    case SL_EXPR_CAST:
        rc = sl_buffer_append_cstr(out, expr->is_try ? "TRY_CAST(" : "CAST(");
        if (rc == SL_OK) rc = write_expr(out, expr->args[0], names);
        return rc ? rc : sl_buffer_printf(out, " AS %s)", sl_type_name(expr->cast_type));
    case SL_EXPR_CALL:
        rc = sl_buffer_printf(out, "%s(", expr->function->name);
        if (rc == SL_OK) rc = write_args(out, expr, 0, ", ", names);
        return rc ? rc : sl_buffer_append_byte(out, ')');
    case SL_EXPR_CASE:
        rc = sl_buffer_append_cstr(out, "CASE ");
        if (rc == SL_OK && expr->operand) rc = write_expr(out, expr->operand, names);
        if (rc == SL_OK && expr->operand) rc = sl_buffer_append_byte(out, ' ');
        for (size_t k = 0; rc == SL_OK && k + 1 < expr->n_args; k += 2) {
            rc = sl_buffer_append_cstr(out, "WHEN ");
            if (rc == SL_OK) rc = write_expr(out, expr->args[k], names);
            if (rc == SL_OK) rc = sl_buffer_append_cstr(out, " THEN ");
            if (rc == SL_OK) rc = write_expr(out, expr->args[k + 1], names);
            if (rc == SL_OK) rc = sl_buffer_append_byte(out, ' ');
        }
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "ELSE ");
        if (rc == SL_OK) rc = write_expr(out, expr->args[expr->n_args - 1], names);
        return rc ? rc : sl_buffer_append_cstr(out, " END");
    case SL_EXPR_SLOT:
        if (names && expr->slot < SL_SQL_JOIN_SIDE_LAST && names->slot[expr->slot])
            return sl_buffer_append_cstr(out, names->slot[expr->slot]);
        return sl_buffer_printf(out, "group[%zu]", expr->slot);
    }
    return SL_OK;
}

static const char *window_name(sl_sql_window_kind kind)
{
    switch (kind) {
    case SL_SQL_WINDOW_TUMBLE: return "TUMBLE";
    case SL_SQL_WINDOW_HOP: return "HOP";
    case SL_SQL_WINDOW_CUMULATE: return "CUMULATE";
    case SL_SQL_WINDOW_SESSION: return "SESSION";
    case SL_SQL_WINDOW_NONE: break;
    }
    return "none";
}

/* The window as "TUMBLE over event time ts, size 60 s". */
static int write_window(sl_buffer *out, const sl_sql_window_spec *window)
{
    if (window->kind == SL_SQL_WINDOW_TUMBLE)
        return sl_buffer_printf(out, "TUMBLE over event time %s, size %g s", window->time_name,
                                (double)window->size_us / 1e6);
    if (window->kind == SL_SQL_WINDOW_SESSION)
        return sl_buffer_printf(out, "SESSION over event time %s, gap %g s, per group key", window->time_name,
                                (double)window->gap_us / 1e6);
    return sl_buffer_printf(out, "%s over event time %s, %s %g s, %s %g s", window_name(window->kind),
                            window->time_name, window->kind == SL_SQL_WINDOW_HOP ? "slide" : "step",
                            (double)window->slide_us / 1e6, window->kind == SL_SQL_WINDOW_HOP ? "size" : "max size",
                            (double)window->size_us / 1e6);
}

/* The window, the keys and aggregates per record, and the group row the
 * columns read. */
static int write_grouping(sl_buffer *out, const sl_sql_grouping *grouping, const char *indent)
{
    const sl_sql_window_spec *window = &grouping->window;
    int rc = SL_OK;
    if (window->kind == SL_SQL_WINDOW_NONE) {
        rc = sl_buffer_printf(out, "%swindow: none (groups are emitted when the input ends)\n", indent);
    } else {
        rc = sl_buffer_printf(out, "%swindow: ", indent);
        if (rc == SL_OK) rc = write_window(out, window);
        if (rc == SL_OK) rc = sl_buffer_printf(out, "\n%sgroup[0] = window_start\n%sgroup[1] = window_end\n", indent,
                                               indent);
    }
    for (size_t i = 0; rc == SL_OK && i < grouping->n_keys; i++) {
        rc = sl_buffer_printf(out, "%sgroup[%zu] = key ", indent, SL_SQL_SLOT_FIRST_KEY + i);
        if (rc == SL_OK) rc = write_expr(out, grouping->keys[i], NULL);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    for (size_t i = 0; rc == SL_OK && i < grouping->n_calls; i++) {
        const sl_sql_aggregate_call *call = &grouping->calls[i];
        rc = sl_buffer_printf(out, "%sgroup[%zu] = %s(%s", indent, SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + i,
                              call->aggregate->name, call->is_distinct ? "DISTINCT " : call->arg ? "" : "*");
        if (rc == SL_OK && call->arg) rc = write_expr(out, call->arg, NULL);
        for (size_t k = 0; rc == SL_OK && k < call->n_constants; k++) {
            rc = sl_buffer_append_cstr(out, ", ");
            if (rc == SL_OK) rc = write_constant(out, &call->constants[k]);
        }
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ")\n");
    }
    if (rc == SL_OK && grouping->having) {
        rc = sl_buffer_printf(out, "%shaving: ", indent);
        if (rc == SL_OK) rc = write_expr(out, grouping->having, NULL);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    return rc;
}

/* The pair's items by the sides' aliases: o and s, o.window_start... */
static void name_pair(const sl_sql_stream_join *join, item_names *names)
{
    memset(names, 0, sizeof *names);
    static const char *const window_columns[2] = {"window_start", "window_end"};
    for (int side = 0; side < 2; side++) names->base[side] = join->sides[side].alias;
    for (int k = 0; k < 2; k++) names->slot[SL_SQL_JOIN_SIDE_WINDOW_START - 1 + k] = window_columns[k];
    for (int side = 0; side < 2; side++)
        for (int k = 0; k < 2; k++) {
            size_t slot = (size_t)(SL_SQL_JOIN_SIDE_LEFT_WINDOW_START - 1 + 2 * side + k);
            snprintf(names->texts[slot], sizeof names->texts[slot], "%s.%s", join->sides[side].alias,
                     window_columns[k]);
            names->slot[slot] = names->texts[slot];
        }
}

static const char *join_name(const sl_sql_stream_join *join)
{
    bool left = join->sides[0].is_kept, right = join->sides[1].is_kept;
    return left && right ? "FULL" : left ? "LEFT" : right ? "RIGHT" : "INNER";
}

/* Which records are each side's rows, their time and keys, and what the
 * pair must hold besides. */
static int write_join(sl_buffer *out, const sl_sql_stream_join *join, const item_names *names, const char *indent)
{
    int rc = sl_buffer_printf(out, "%sjoin: %s ", indent, join_name(join));
    if (rc == SL_OK && join->kind == SL_SQL_JOIN_INTERVAL)
        rc = sl_buffer_printf(out, "interval join, %s's time - %s's within [%g s, %g s]\n", join->sides[1].alias,
                              join->sides[0].alias, (double)join->lower_us / 1e6, (double)join->upper_us / 1e6);
    if (rc == SL_OK && join->kind == SL_SQL_JOIN_WINDOW) {
        rc = sl_buffer_append_cstr(out, "window join, both sides in ");
        if (rc == SL_OK) rc = write_window(out, &join->window);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    if (rc == SL_OK && join->kind == SL_SQL_JOIN_REGULAR)
        rc = sl_buffer_append_cstr(out, "regular join, rows kept until the input ends\n");
    for (int side = 0; side < 2 && rc == SL_OK; side++) {
        const sl_sql_join_side *s = &join->sides[side];
        rc = sl_buffer_printf(out, "%s%s %s: rows ", indent, side ? "right" : "left", s->alias);
        if (rc == SL_OK) rc = s->filter ? sl_buffer_append_cstr(out, "where ") : sl_buffer_append_cstr(out, "all");
        if (rc == SL_OK && s->filter) rc = write_expr(out, s->filter, NULL);
        if (rc == SL_OK && s->time) rc = sl_buffer_printf(out, ", time %s", s->time_name);
        for (size_t k = 0; k < join->n_keys && rc == SL_OK; k++) {
            rc = sl_buffer_append_cstr(out, k ? ", " : ", keys ");
            if (rc == SL_OK) rc = write_expr(out, s->keys[k], NULL);
        }
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    if (rc == SL_OK && join->condition) {
        rc = sl_buffer_printf(out, "%son: ", indent);
        if (rc == SL_OK) rc = write_expr(out, join->condition, names);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    return rc;
}

/* The table, and which of its key columns each record's expressions
 * look up. */
static int write_lookup(sl_buffer *out, const sl_sql_lookup *lookup, const char *indent)
{
    int rc = sl_buffer_printf(out, "%slookup: %s %s%s%s by ", indent, lookup->is_left ? "LEFT" : "INNER",
                              lookup->table, lookup->alias ? " AS " : "", lookup->alias ? lookup->alias : "");
    for (size_t k = 0; k < lookup->n_keys && rc == SL_OK; k++) {
        rc = sl_buffer_printf(out, "%s%s = ", k ? ", " : "", lookup->key_columns[k]);
        if (rc == SL_OK) rc = write_expr(out, lookup->keys[k], NULL);
    }
    return rc ? rc : sl_buffer_append_byte(out, '\n');
}

/* The projection tree as "a, b.c, b.d". */
static int write_projection(sl_buffer *out, const sl_json_projection *projection, const char *prefix, bool *first)
{
    int rc = SL_OK;
    for (size_t i = 0; i < projection->n_keys && rc == SL_OK; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s%.*s", prefix, prefix[0] ? "." : "", (int)projection->keys[i].len,
                 projection->keys[i].ptr);
        const sl_json_projection *child = projection->children ? projection->children[i] : NULL;
        if (child) {
            rc = write_projection(out, child, path, first);
            continue;
        }
        rc = sl_buffer_printf(out, "%s%s", *first ? "" : ", ", path);
        *first = false;
    }
    return rc;
}

int sl_sql_explain(const sl_sql_program *program, const char *indent, sl_buffer *out)
{
    int rc = sl_buffer_printf(out, "%sreads: ", indent);
    const sl_json_projection *projection = sl_sql_input_projection(program);
    bool first = true;
    if (rc == SL_OK && !projection) rc = sl_buffer_append_cstr(out, "every field (SELECT * or a whole-record path)");
    if (rc == SL_OK && projection) rc = write_projection(out, projection, "", &first);
    if (rc == SL_OK && projection && first) rc = sl_buffer_append_cstr(out, "nothing");
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    item_names names;
    const item_names *named = NULL;
    if (program->stream_join) {
        name_pair(program->stream_join, &names);
        named = &names;
    } else if (program->lookup) {
        memset(&names, 0, sizeof names);
        names.base[1] = program->lookup->alias ? program->lookup->alias : program->lookup->table;
        named = &names;
    }
    if (rc == SL_OK && program->stream_join) rc = write_join(out, program->stream_join, named, indent);
    if (rc == SL_OK && program->lookup) rc = write_lookup(out, program->lookup, indent);
    if (rc == SL_OK && program->is_star) rc = sl_buffer_printf(out, "%scolumns: every field of the record\n", indent);
    for (size_t i = 0; rc == SL_OK && i < program->n_columns; i++) {
        rc = sl_buffer_printf(out, "%scolumn %s = ", indent, program->column_names[i]);
        if (rc == SL_OK) rc = write_expr(out, program->columns[i], named);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    if (rc == SL_OK && program->where) {
        rc = sl_buffer_printf(out, "%swhere: ", indent);
        if (rc == SL_OK) rc = write_expr(out, program->where, named);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '\n');
    }
    if (rc == SL_OK && program->grouping) rc = write_grouping(out, program->grouping, indent);
    return rc;
}
