/* explain.h — the plan of a compiled statement as text, for
 * `sluice sql explain`: what each output column computes after constants
 * were folded (so `1 + 2` shows as 3, and an arm a constant rules out is
 * gone), the WHERE condition, and which parts of a record the statement
 * reads (the JSON reader builds only those; "every field" for SELECT *).
 */
#ifndef SL_SQL_EXPLAIN_H
#define SL_SQL_EXPLAIN_H

#include "core/buffer.h"
#include "sql/sql.h"

/* Appends the plan of program, lines indented by indent. SL_ENOMEM only. */
int sl_sql_explain(const sl_sql_program *program, const char *indent, sl_buffer *out);

#endif
