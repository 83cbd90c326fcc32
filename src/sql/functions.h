/* functions.h — the table of SQL scalar functions: name → arity → C code.
 *
 * Adding a function is adding a row to the table in functions.c. A function
 * receives its already-evaluated arguments; unless the row says otherwise
 * (SL_SQL_FN_NULL_SAFE) the evaluator returns NULL without calling it when
 * any argument is NULL, so most functions never see NULL. Functions
 * allocate results in the call's arena and must be thread-safe.
 */
#ifndef SL_SQL_FUNCTIONS_H
#define SL_SQL_FUNCTIONS_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

/* What a function may use besides its arguments. */
typedef struct sl_sql_call {
    sl_arena *arena;
    sl_error *err;     /* set the reason only; the evaluator adds where */
} sl_sql_call;

typedef int sl_sql_function_fn(sl_sql_call *call, const sl_value *args, size_t n_args,
                               sl_value *out);

enum {
    SL_SQL_FN_NULL_SAFE = 1 << 0,     /* called even with NULL arguments */
    SL_SQL_FN_VOLATILE = 1 << 1,      /* different result each call: never folded */
    /* COALESCE: the evaluator itself evaluates the arguments in order and
     * stops at the first that is not NULL (the standard defines it as a
     * CASE), so a later argument's error never happens; fn is NULL. */
    SL_SQL_FN_FIRST_NOT_NULL = 1 << 2,
};

typedef struct sl_sql_function {
    const char *name;                 /* lowercase */
    size_t min_args;
    size_t max_args;                  /* SL_SQL_VARIADIC for no limit */
    unsigned flags;
    sl_sql_function_fn *fn;
} sl_sql_function;

#define SL_SQL_VARIADIC ((size_t)-1)

/* The function named name (case-insensitive), or NULL. */
const sl_sql_function *sl_sql_function_find(sl_str name);

/* The i-th function of the table, or NULL past its end (for listings and
 * the test that every function is documented). */
const sl_sql_function *sl_sql_function_at(size_t i);

#endif
