/* join_sides.h — a stream join's two sides and the statement over them,
 * rewritten into expressions over the two records (join_sides.c says
 * how). */
#ifndef SL_SQL_JOIN_SIDES_H
#define SL_SQL_JOIN_SIDES_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "sql/parser.h"

/* sl_sql_ast.join_side of the window's window_start and window_end, then
 * the left side's (NULL when it is) and the right's; each reads the
 * pair's item join_side - 1. */
enum {
    SL_SQL_JOIN_SIDE_WINDOW_START = 3, SL_SQL_JOIN_SIDE_WINDOW_END = 4,
    SL_SQL_JOIN_SIDE_LEFT_WINDOW_START = 5, SL_SQL_JOIN_SIDE_RIGHT_WINDOW_START = 7,
    SL_SQL_JOIN_SIDE_LAST = 8
};

/* Is join_side (3 and up) a window_end? */
static inline bool sl_sql_join_side_is_window_end(int join_side)
{
    return (join_side - SL_SQL_JOIN_SIDE_WINDOW_START) % 2 == 1;
}

typedef struct sl_sql_join_side_ast {
    sl_str alias;                     /* how the statement names the side */
    sl_str table;                     /* what its records are: input, or a topic's name */
    int table_line, table_column;
    sl_sql_select *view;              /* the view read, inlined over the table; NULL: the table itself */
    sl_sql_ast *where;                /* the view's WHERE over the record; NULL: every record */
    const sl_sql_window_call *window; /* TABLE(TUMBLE(...)) around the side, or NULL */
    sl_sql_ast *time;                 /* the window's DESCRIPTOR over the record */
} sl_sql_join_side_ast;

/* Fills sides from select's FROM item and select->join->right, and
 * rewrites the statement's items, WHERE, ON, GROUP BY and HAVING into
 * expressions over the two records. Errors: SL_ESQL with line:column (an
 * unknown or ambiguous column, SELECT *, two sides of one name). */
int sl_sql_inline_join(sl_sql_select *select, sl_sql_join_side_ast sides[2], sl_arena *arena, sl_error *err);

#endif
