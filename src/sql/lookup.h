/* lookup.h — running a statement with a lookup join: the runtime computes
 * each record's keys, finds the table's row (runtime/lookup.h), then
 * evaluates the statement over the record and that row. */
#ifndef SL_SQL_LOOKUP_H
#define SL_SQL_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"
#include "sql/sql.h"

/* The most key columns a lookup join equates. */
enum { SL_SQL_LOOKUP_MAX_KEYS = 8 };

typedef struct sl_sql_lookup_info {
    const char *table;               /* the name the SQL joins: a table of transform.tables */
    bool is_left;                    /* LEFT JOIN: a record without a row is kept, the row's columns NULL */
    size_t n_keys;
    const char *const *key_columns;  /* the table's columns the keys are looked up in */
    int line, column;                /* of the JOIN in the SQL */
} sl_sql_lookup_info;

/* Whether program has a lookup join; its description in *out. */
bool sl_sql_lookup_info_of(const sl_sql_program *program, sl_sql_lookup_info *out);

/* The record's keys, n_keys values into keys (in arena). SL_ESQL: the
 * record's mistake. */
int sl_sql_lookup_keys(const sl_sql_program *program, const sl_value *record, sl_arena *arena, sl_value *keys,
                       sl_error *err);

/* sl_sql_eval over the record and its row (NULL: none found). */
int sl_sql_eval_joined(const sl_sql_program *program, const sl_value *record, const sl_value *row, sl_arena *arena,
                       sl_value *out_row, sl_error *err);

#endif
