/* views.h — WITH views and FROM (SELECT ...) subqueries inlined into the
 * statement that reads them (views.c says how). */
#ifndef SL_SQL_VIEWS_H
#define SL_SQL_VIEWS_H

#include "core/arena.h"
#include "core/error.h"
#include "sql/parser.h"

/* Rewrites select (and the views it reads) into one statement over the
 * input; nodes are allocated in arena. Errors: SL_ESQL with line:column. */
int sl_sql_inline_views(sl_sql_select *select, sl_arena *arena, sl_error *err);

#endif
