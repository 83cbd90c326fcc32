/* projection.h — which parts of the input record a compiled statement reads,
 * so the JSON reader can skip building the rest (core/json.h projections). */
#ifndef SL_SQL_PROJECTION_H
#define SL_SQL_PROJECTION_H

#include "core/arena.h"
#include "core/json.h"
#include "sql/eval.h"

/* Builds in arena the projection of every PATH in the n trees exprs (NULL
 * entries allowed). *out is NULL when some path reads the whole record.
 * Returns SL_OK or SL_ENOMEM. */
int sl_sql_build_projection(sl_arena *arena, sl_sql_expr *const *exprs, size_t n,
                            const sl_json_projection **out);

#endif
