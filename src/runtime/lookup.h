/* lookup.h — a worker's side of a lookup join: its own read-only
 * connection to the table (connectors/sqlite/sqlite_lookup.h) behind its
 * own bounded cache with a TTL (lookup_cache.h). */
#ifndef SL_LOOKUP_H
#define SL_LOOKUP_H

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"
#include "runtime/plan.h"

typedef struct sl_lookup sl_lookup;

/* For plan's lookup join (plan->lookup_path set). */
int sl_lookup_open(const sl_pipeline_plan *plan, sl_lookup **out, sl_error *err);
void sl_lookup_close(sl_lookup *lookup);

/* The row of keys (the statement's n_keys of them): 1 with *row (in
 * arena), 0 when the table has none, <0 with err (SL_ESQL: this record's;
 * others transient or not as err says). */
int sl_lookup_find(sl_lookup *lookup, const sl_value *keys, sl_arena *arena, sl_value *row, sl_error *err);

#endif
