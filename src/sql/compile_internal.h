/* compile_internal.h — what compile.c shares with compile_group.c,
 * compile_lookup.c and compile_join.c: the compiler's state and the
 * resolver of one AST node. */
#ifndef SL_SQL_COMPILE_INTERNAL_H
#define SL_SQL_COMPILE_INTERNAL_H

#include <stdbool.h>

#include "sql/eval.h"
#include "sql/parser.h"

typedef struct sl_sql_group_context sl_sql_group_context;

typedef struct sl_sql_compiler {
    sl_arena *arena;               /* the program's */
    sl_error *err;
    sl_sql_group_context *group;   /* set while resolving what is computed per group */
    sl_str lookup_alias;           /* a lookup join's table alias: paths under it read the looked-up row */
    bool is_over_record;           /* resolving the join's keys: paths read the record itself */
} sl_sql_compiler;

/* Resolves ast into an expression tree in the program's arena; NULL with
 * err set on a mistake. */
sl_sql_expr *sl_sql_resolve(sl_sql_compiler *c, const sl_sql_ast *ast, int depth);

/* While c->group is set, sl_sql_resolve asks this first: an aggregate call,
 * a GROUP BY expression or window_start/window_end becomes a slot of the
 * group row, any other column is a mistake. *is_handled false: resolve ast
 * as usual. */
sl_sql_expr *sl_sql_resolve_grouped(sl_sql_compiler *c, const sl_sql_ast *ast, int depth, bool *is_handled);

/* The SELECT list of a per-record statement, or (with c->group set) of a
 * grouped one, into program's columns. */
int sl_sql_build_columns(sl_sql_compiler *c, sl_sql_program *program, const sl_sql_select *select);

/* Is name (any case) an aggregate function? */
bool sl_sql_is_aggregate_name(sl_str name);

/* Compiles the grouped parts of select (window, GROUP BY, aggregates,
 * HAVING, and the columns over the group row) into program. */
int sl_sql_compile_grouped(sl_sql_compiler *c, sl_sql_program *program, const sl_sql_select *select);

/* A lookup join (select->join): its keys into program->lookup, and from
 * then on paths read [record, looked-up row] (c->lookup_alias set). */
int sl_sql_compile_lookup(sl_sql_compiler *c, sl_sql_program *program, const sl_sql_select *select);

/* call's window (TUMBLE, HOP, CUMULATE, SESSION) into window, its event
 * time being time (the DESCRIPTOR's path, perhaps rewritten). */
int sl_sql_build_window(sl_sql_compiler *c, const sl_sql_window_call *call, const sl_sql_ast *time,
                        sl_sql_window_spec *window);

/* A path as written ("bid.dateTime", "tags[0]"), for messages, into out;
 * its length. */
size_t sl_sql_path_text(const sl_sql_ast *path, char *out, size_t size);

/* A join of two streams (select->join->is_stream): its sides, keys, time
 * bounds or window, and the statement over the pair, into program. */
int sl_sql_compile_stream_join(sl_sql_compiler *c, sl_sql_program *program, sl_sql_select *select,
                               sl_arena *scratch);

/* Does ast call an aggregate anywhere? */
bool sl_sql_ast_has_aggregate(const sl_sql_ast *ast);

#endif
