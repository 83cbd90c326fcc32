/* aggregate.h — the SQL aggregate functions GROUP BY calls: name → arity →
 * the operations on a state.
 *
 * An aggregate is a const table row. Its caller (the windowing runtime)
 * gives each group a state of state_size bytes, 16-aligned, calls init once,
 * add for every row of the group, merge when two groups become one (session
 * windows), result whenever the window emits, and release at the end. A
 * state owns the heap memory it allocates (copies of strings, distinct sets,
 * sketches) and tells its size through heap_bytes, for state.max_bytes.
 *
 * Semantics are PostgreSQL's where it has the aggregate: NULL rows are
 * skipped, and with no non-NULL row the result is NULL (count and count_if
 * give 0); first_value and last_value keep NULLs as values. The dialect and
 * each aggregate's exact behaviour are in docs/sql.md, "Aggregate functions".
 * A state is used by one thread at a time; the table is read-only.
 */
#ifndef SL_SQL_AGGREGATE_H
#define SL_SQL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

typedef struct sl_sql_aggregate {
    const char *name;          /* lower case: "count", "sum", ... */
    int min_args, max_args;    /* count(*) is called with 0 args */
    bool allows_distinct;      /* count(DISTINCT x) */
    size_t state_size;         /* the fixed part; the caller gives state_size bytes, 16-aligned */
    /* Checks a call before any state exists. n_args counts every argument of
     * the call (count(*) has 0, count(x) 1, approx_percentile(x, 0.5) 2);
     * constant_args holds the values of the arguments after the first
     * (n_args - 1 of them, none when n_args <= 1), which the caller has
     * checked are constants. Errors are SL_ESQL naming the aggregate. */
    int (*check)(const sl_value *constant_args, size_t n_args, bool is_distinct, sl_error *err);
    /* Makes an empty state, for a call that check accepted (same arguments).
     * Allocates nothing: a state that never sees a row owns no heap. */
    void (*init)(void *state, const sl_value *constant_args, size_t n_args, bool is_distinct);
    /* One row's first argument (NULL for a call without arguments, count(*);
     * NULL values are passed: each aggregate decides, as SQL says). Strings,
     * arrays and objects in value point into a batch that is freed after the
     * call: what the state keeps it copies into memory it owns. A per-row
     * error (integer overflow in sum, a string given to sum, ...) returns
     * SL_ESQL with a message, SL_ENOMEM when memory runs out; either way
     * the state is as it was before the call. */
    int (*add)(void *state, const sl_value *value, sl_error *err);
    /* Folds src into dst, as if src's rows had been added to dst after dst's
     * own (session windows merge; first_value/last_value read that order).
     * src is unchanged and the caller then releases it; on an error dst is
     * unchanged. */
    int (*merge)(void *dst, const void *src, sl_error *err);
    /* The result, allocated in arena; the state stays usable (a window may
     * emit, then get a late row, then emit again). */
    int (*result)(const void *state, sl_arena *arena, sl_value *out, sl_error *err);
    /* Heap bytes the state owns beyond state_size (for the state.max_bytes bound). */
    size_t (*heap_bytes)(const void *state);
    void (*release)(void *state);   /* frees what the state owns; state_size bytes are the caller's */
} sl_sql_aggregate;

/* The aggregate named name (case-insensitive), or NULL when none. */
const sl_sql_aggregate *sl_sql_aggregate_find(const char *name);

/* The table, for "unknown function" suggestions and docs: how many rows,
 * and the index-th (NULL past the end). */
size_t sl_sql_aggregate_count(void);
const sl_sql_aggregate *sl_sql_aggregate_at(size_t index);

/* The bounds docs/sql.md states, for the tests that hold them to it. */
enum {
    /* count(DISTINCT x) is exact up to this many distinct values in a
     * state, then a HyperLogLog sketch. */
    SL_SQL_DISTINCT_EXACT_MAX = 10000,
    /* HyperLogLog precision: 2^14 registers, standard error 1.04/sqrt(2^14). */
    SL_SQL_HLL_PRECISION = 14,
    /* approx_percentile's KLL sketch: its largest compactor holds this many
     * values, so it is exact up to this many rows. */
    SL_SQL_PERCENTILE_K = 1024,
};

#endif
