/* compile_lookup.c — a lookup join's ON condition into key expressions.
 *
 * `JOIN users FOR SYSTEM_TIME AS OF o.proctime AS u ON u.id = o.user_id
 * [AND u.region = o.region]`: each conjunct must equate one column of the
 * table with an expression of the record; those are the keys looked up
 * (the table's columns by name, the record's expressions compiled over the
 * record itself). The rest of the statement then reads u.* as the
 * looked-up row (compile.c's resolve_path).
 */
#include <string.h>

#include "sql/compile_internal.h"
#include "sql/lookup.h"



static bool is_table_column(const sl_sql_ast *ast, sl_str alias)
{
    return ast->kind == SL_AST_PATH && ast->n_steps == 2 && !ast->steps[1].is_index &&
           sl_str_eq(ast->steps[0].key, alias);
}

static bool mentions_table(const sl_sql_ast *ast, sl_str alias)
{
    if (!ast) return false;
    if (ast->kind == SL_AST_PATH) return ast->n_steps > 1 && sl_str_eq(ast->steps[0].key, alias);
    for (size_t i = 0; i < ast->n_args; i++)
        if (mentions_table(ast->args[i], alias)) return true;
    return false;
}

static int shape_error(sl_sql_compiler *c, const sl_sql_ast *at, sl_str alias)
{
    return sl_error_set(c->err, SL_ESQL, "line %d column %d: a lookup join's ON must be equalities of the table's "
                        "columns with expressions of the record, joined by AND: %.*s.id = o.user_id", at->line,
                        at->column, (int)alias.len, alias.ptr);
}

/* Collects the equalities of on (an AND tree). */
static int collect(sl_sql_compiler *c, const sl_sql_ast *on, sl_str alias, const sl_sql_ast **columns,
                   const sl_sql_ast **values, size_t *n)
{
    if (on->kind == SL_AST_BINARY && on->op == SL_OP_AND) {
        int rc = collect(c, on->args[0], alias, columns, values, n);
        return rc ? rc : collect(c, on->args[1], alias, columns, values, n);
    }
    if (on->kind != SL_AST_BINARY || on->op != SL_OP_EQ) return shape_error(c, on, alias);
    const sl_sql_ast *column = on->args[0], *value = on->args[1];
    if (!is_table_column(column, alias)) {
        column = on->args[1];
        value = on->args[0];
    }
    if (!is_table_column(column, alias) || mentions_table(value, alias)) return shape_error(c, on, alias);
    if (*n == SL_SQL_LOOKUP_MAX_KEYS)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: a lookup join takes at most %d key columns",
                            on->line, on->column, SL_SQL_LOOKUP_MAX_KEYS);
    columns[*n] = column;
    values[*n] = value;
    (*n)++;
    return SL_OK;
}

static const char *copy_name(sl_sql_compiler *c, sl_str name)
{
    return sl_arena_strndup(c->arena, name.ptr ? name.ptr : "", name.len);
}

int sl_sql_compile_lookup(sl_sql_compiler *c, sl_sql_program *program, const sl_sql_select *select)
{
    const sl_sql_join *join = select->join;
    if (select->is_star)
        return sl_error_set(c->err, SL_ESQL, "line %d column %d: SELECT * with a lookup join: name the columns "
                            "wanted, from the record and from %.*s", join->line, join->column, (int)join->alias.len,
                            join->alias.ptr);
    const sl_sql_ast *columns[SL_SQL_LOOKUP_MAX_KEYS], *values[SL_SQL_LOOKUP_MAX_KEYS];
    size_t n = 0;
    int rc = collect(c, join->on, join->alias, columns, values, &n);
    if (rc) return rc;
    sl_sql_lookup *lookup = sl_arena_calloc(c->arena, sizeof *lookup);
    if (!lookup) return sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    lookup->table = copy_name(c, join->table);
    lookup->alias = copy_name(c, join->alias);
    lookup->is_left = join->is_left;
    lookup->line = join->line;
    lookup->column = join->column;
    lookup->key_columns = sl_arena_calloc(c->arena, n * sizeof *lookup->key_columns);
    lookup->keys = sl_arena_calloc(c->arena, n * sizeof *lookup->keys);
    if (!lookup->table || !lookup->alias || !lookup->key_columns || !lookup->keys)
        return sl_error_set(c->err, SL_ENOMEM, "out of memory compiling SQL");
    c->is_over_record = true;
    for (size_t i = 0; i < n; i++) {
        lookup->key_columns[i] = copy_name(c, columns[i]->steps[1].key);
        lookup->keys[i] = sl_sql_resolve(c, values[i], 0);
        if (!lookup->key_columns[i] || !lookup->keys[i]) {
            c->is_over_record = false;
            return c->err->code ? c->err->code : SL_ENOMEM;
        }
    }
    c->is_over_record = false;
    lookup->n_keys = n;
    program->lookup = lookup;
    c->lookup_alias = join->alias;
    return SL_OK;
}

bool sl_sql_lookup_info_of(const sl_sql_program *program, sl_sql_lookup_info *out)
{
    const sl_sql_lookup *lookup = program ? program->lookup : NULL;
    if (!lookup) return false;
    *out = (sl_sql_lookup_info){ lookup->table, lookup->is_left, lookup->n_keys, lookup->key_columns, lookup->line,
                                 lookup->column };
    return true;
}

int sl_sql_lookup_keys(const sl_sql_program *program, const sl_value *record, sl_arena *arena, sl_value *keys,
                       sl_error *err)
{
    const sl_sql_lookup *lookup = program->lookup;
    for (size_t i = 0; i < lookup->n_keys; i++) {
        int rc = sl_sql_expr_eval(lookup->keys[i], record, arena, &keys[i], err);
        if (rc) return sl_error_prefix(err, "JOIN %s key %s: ", lookup->alias, lookup->key_columns[i]), rc;
    }
    return SL_OK;
}

int sl_sql_eval_joined(const sl_sql_program *program, const sl_value *record, const sl_value *row, sl_arena *arena,
                       sl_value *out_row, sl_error *err)
{
    sl_value *pair = sl_arena_alloc(arena, 2 * sizeof *pair);
    if (!pair) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pair[0] = *record;
    pair[1] = row ? *row : sl_value_null();
    sl_value both = { .type = SL_TYPE_ARRAY, .array = { pair, 2 } };
    return sl_sql_eval(program, &both, arena, out_row, err);
}
