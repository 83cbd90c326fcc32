/* sql.h — the SQL transform engine's public face.
 *
 * A statement `SELECT expr [AS name], ... FROM input [WHERE expr]` is
 * compiled once into an expression tree (lexer → parser → resolver) and then
 * evaluated per record. Compile errors name line:column in the SQL text.
 * Evaluation follows SQL's three-valued logic: NULL propagates through
 * operators and functions, WHERE keeps a row only when its condition is TRUE.
 * A runtime error (bad cast, invalid uuid, ...) fails that record only: the
 * caller sends it to the dead-letter topic and goes on. The dialect, with
 * an example of every operator and function, is docs/sql.md.
 */
#ifndef SL_SQL_H
#define SL_SQL_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "core/value.h"

typedef struct sl_sql_program sl_sql_program;

/* Compiles text. Errors are SL_ESQL with "line L column C: what" (and what was
 * found there). The caller owns *out. */
int sl_sql_compile(const char *text, sl_sql_program **out, sl_error *err);

void sl_sql_free(sl_sql_program *program);

/* Output columns in SELECT order. A column without AS is named by its last
 * path part (`location.city` → city) or, for other expressions, `_colN`
 * (N from 1). `SELECT *` gives no fixed columns: n_columns is 0 and each
 * output row is the input object itself. */
size_t sl_sql_n_columns(const sl_sql_program *program);
const char *sl_sql_column_name(const sl_sql_program *program, size_t index);

/* The parts of the input record the statement reads (its columns' and
 * WHERE's paths), for sl_json_parse_projected; NULL when it needs all of
 * it (SELECT *). Owned by the program. */
const sl_json_projection *sl_sql_input_projection(const sl_sql_program *program);

/* Evaluates the program on one input record. Returns 1 and sets *out_row to
 * an object with one member per output column (allocations in arena; the
 * row may point into input) when the row passes WHERE, 0 when WHERE filters
 * it out, or a negative SL_E* with err naming the column/expression and the
 * reason. Safe to call from many threads on the same program at once. */
/* LIMIT n: the most rows the statement gives over the whole run (the
 * runtime counts them across its workers; any n rows, as SQL says without
 * ORDER BY); -1 without LIMIT. */
int64_t sl_sql_limit(const sl_sql_program *program);

int sl_sql_eval(const sl_sql_program *program, const sl_value *input, sl_arena *arena,
                sl_value *out_row, sl_error *err);

#endif
