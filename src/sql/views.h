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

/* The view a FROM item reads (its from or from_subquery), itself inlined
 * into a statement over its table, and the name it goes by; *out NULL when
 * the item names a table (the input or a topic). */
int sl_sql_view_of(sl_sql_select *item, const sl_sql_view *views, size_t n_views, sl_arena *arena, sl_error *err,
                   sl_sql_select **out, sl_str *name);

/* The name a view's item is known by: its alias, else its path's last
 * member; false for an unnamed computed item. */
bool sl_sql_view_item_name(const sl_sql_select_item *item, sl_str *out);

#endif
