/* eval.h — the compiled form of a statement and its evaluator.
 *
 * compile.c turns the AST into a tree of sl_sql_expr nodes: names resolved
 * (paths pre-split into steps, functions looked up in the table, cast types
 * known), constants folded. The tree is read-only once built, so many
 * threads may evaluate one program at once; every result is allocated in the
 * arena the caller passes. A node keeps its line:column so runtime errors can
 * point back into the SQL text.
 */
#ifndef SL_SQL_EVAL_H
#define SL_SQL_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "core/value.h"
#include "sql/functions.h"
#include "sql/parser.h"
#include "sql/sql.h"

typedef enum sl_sql_expr_kind {
    SL_EXPR_CONST,     /* constant */
    SL_EXPR_PATH,      /* steps into the input record */
    SL_EXPR_UNARY,     /* op (NEG, NOT) on args[0] */
    SL_EXPR_BINARY,    /* op on args[0], args[1] (AND/OR short-circuit) */
    SL_EXPR_IS_NULL,   /* args[0] IS [NOT] NULL */
    SL_EXPR_IN,        /* args[0] [NOT] IN (args[1..]) */
    SL_EXPR_LIKE,      /* args[0] [NOT] [I]LIKE args[1] [ESCAPE args[2]] */
    SL_EXPR_CAST,      /* args[0] to cast_type */
    SL_EXPR_CALL,      /* function(args) */
    SL_EXPR_CASE,      /* [operand] WHEN args[0] THEN args[1] ... ELSE args[n-1] */
    SL_EXPR_SLOT,      /* item slot of the input, an array: a grouped statement's group row */
} sl_sql_expr_kind;

typedef struct sl_sql_expr sl_sql_expr;
struct sl_sql_expr {
    sl_sql_expr_kind kind;
    sl_sql_operator op;
    bool is_negated;
    bool is_ilike;                     /* LIKE: ILIKE */
    bool is_try;                       /* CAST: TRY_CAST */
    int line, column;
    sl_sql_expr **args;
    size_t n_args;
    sl_value constant;                 /* CONST */
    bool is_untyped;                   /* CONST of a string literal: takes the type of what it meets */
    const char *fold_error;            /* a constant part that fails: why (compile.c) */
    const sl_sql_path_step *steps;     /* PATH */
    size_t n_steps;
    const sl_sql_function *function;   /* CALL */
    sl_type cast_type;                 /* CAST */
    sl_sql_expr *operand;              /* CASE x WHEN ...: x; NULL for CASE WHEN cond ... */
    size_t slot;                       /* SLOT */
    bool has_base;                     /* PATH: from input's item base_slot (a lookup join's [record, row]) */
    size_t base_slot;
    bool is_base_record;               /* has_base: that item is an input record (a stream join's side) */
};

/* A lookup join: per record, the key expressions (over the record) are
 * looked up in the table's key columns; the statement then reads the
 * array [record, row] (row NULL when nothing matched, for LEFT JOIN). */
typedef struct sl_sql_lookup {
    const char *table;         /* as written in the SQL: a table of transform.tables */
    const char *alias;
    bool is_left;
    const char **key_columns;
    sl_sql_expr **keys;
    size_t n_keys;
    int line, column;
} sl_sql_lookup;

typedef enum sl_sql_window_kind {
    SL_SQL_WINDOW_NONE = 0,   /* GROUP BY without a window: one group set, emitted at the end of input */
    SL_SQL_WINDOW_TUMBLE,     /* size */
    SL_SQL_WINDOW_HOP,        /* slide, size */
    SL_SQL_WINDOW_CUMULATE,   /* step (in slide_us), max size */
    SL_SQL_WINDOW_SESSION,    /* gap, per group key */
} sl_sql_window_kind;

typedef struct sl_sql_window_spec {
    sl_sql_window_kind kind;
    sl_sql_expr *time;        /* DESCRIPTOR(path): the event time, a PATH */
    const char *time_name;    /* that path as written, for messages */
    int64_t size_us;          /* TUMBLE, HOP: size; CUMULATE: max size */
    int64_t slide_us;         /* HOP: slide; CUMULATE: step */
    int64_t gap_us;           /* SESSION */
} sl_sql_window_spec;

/* A join of two streams. Per record, each side's filter says whether the
 * record is one of its rows (a record may be a row of both); the prepared
 * row is [row time, sides bitmask (1 left, 2 right), left time, right
 * time, left keys..., right keys..., record], the row time being the
 * earliest of its sides' (INT64_MIN in a regular join). The statement's
 * columns, WHERE and the rest of ON read the pair [left record, right
 * record, window_start, window_end, and each side's] (join_sides.h), a
 * side NULL when an outer join keeps a row that matched nothing. */
typedef enum sl_sql_join_kind {
    SL_SQL_JOIN_REGULAR,      /* no time bound: rows are kept until the input ends */
    SL_SQL_JOIN_INTERVAL,     /* right's time - left's time within [lower_us, upper_us] */
    SL_SQL_JOIN_WINDOW,       /* both sides in the same window: pairs come out when it closes */
} sl_sql_join_kind;

typedef struct sl_sql_join_side {
    const char *alias;
    sl_sql_expr *filter;      /* the side's view's WHERE over the record; NULL: every record */
    sl_sql_expr *time;        /* its event time over the record; NULL in a regular join */
    const char *time_name;    /* as written, for messages */
    sl_sql_expr **keys;       /* the join's n_keys equalities, this side's half, over the record */
    bool is_kept;             /* an outer side: a row that matches nothing comes out with NULLs */
} sl_sql_join_side;

typedef struct sl_sql_stream_join {
    sl_sql_join_kind kind;
    sl_sql_join_side sides[2];
    size_t n_keys;
    int64_t lower_us, upper_us;   /* INTERVAL */
    sl_sql_window_spec window;    /* WINDOW: both sides' (its time is the left's) */
    sl_sql_expr *condition;   /* the rest of ON over the pair; NULL: none */
    int line, column;
} sl_sql_stream_join;

enum { SL_SQL_JOINED_TIME = 0, SL_SQL_JOINED_SIDES = 1, SL_SQL_JOINED_LEFT_TIME = 2, SL_SQL_JOINED_FIRST_KEY = 4 };

typedef struct sl_sql_aggregate_call {
    const struct sl_sql_aggregate *aggregate;
    sl_sql_expr *arg;         /* over the input; NULL for count(*) */
    sl_value *constants;      /* the arguments after the first (approx_percentile's fraction) */
    size_t n_constants;
    size_t n_args;            /* every argument: 0 for count(*) */
    bool is_distinct;
} sl_sql_aggregate_call;

/* A grouped statement. Per record, the prepared row is an array
 * [event time, keys..., each call's argument...]; per group, the group row
 * is an array [window_start, window_end, keys..., each call's result...],
 * which the columns and HAVING read through SLOT nodes. */
typedef struct sl_sql_grouping {
    sl_sql_window_spec window;
    sl_sql_expr **keys;        /* GROUP BY's expressions (without window_start/window_end), over the input */
    size_t n_keys;
    sl_sql_aggregate_call *calls;
    size_t n_calls;
    sl_sql_expr *having;       /* over the group row; NULL without HAVING */
} sl_sql_grouping;

enum { SL_SQL_SLOT_WINDOW_START = 0, SL_SQL_SLOT_WINDOW_END = 1, SL_SQL_SLOT_FIRST_KEY = 2 };

struct sl_sql_program {
    sl_arena *arena;          /* owns the tree, names and folded constants */
    bool is_star;
    sl_sql_expr **columns;
    const char **column_names; /* NUL-terminated */
    sl_str *column_keys;       /* the same names as sl_str, for output rows */
    size_t n_columns;
    sl_sql_expr *where;        /* NULL without WHERE */
    sl_sql_grouping *grouping; /* NULL for a per-record statement */
    sl_sql_lookup *lookup;     /* NULL without a lookup join */
    sl_sql_stream_join *stream_join; /* NULL without a join of two streams */
    int64_t limit;             /* LIMIT: rows the statement gives at most; -1 without */
    const sl_json_projection *projection; /* input the statement reads; NULL = all */
};

/* Evaluates expr against input. Errors: SL_ESQL "line L column C: reason";
 * SL_ENOMEM. */
int sl_sql_expr_eval(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                     sl_value *out, sl_error *err);

/* Compares a and b (numbers across int/double, strings by bytes, booleans,
 * timestamps; a string against a timestamp is read as one). Sets *order to
 * <0, 0, >0. Returns -1 when the types do not compare. */
int sl_sql_compare(const sl_value *a, const sl_value *b, int *order);

/* SQL LIKE: % any run, _ one character, escape (one character; empty:
 * none) before a character matches it literally. 1 for a match, 0 for
 * none, -1 for a pattern that ends with the escape. */
int sl_sql_like(sl_str text, sl_str pattern, sl_str escape);

#endif
