/* parser.h — the SQL abstract syntax tree and the recursive-descent parser
 * that builds it from tokens.
 *
 * Every node carries the line:column of the token that starts it (for an
 * operator, the operator itself), so later stages can point at it. Nodes
 * live in an arena the caller provides; names and literal texts are sl_str
 * views into the SQL text, already unquoted where quoting had escapes.
 * The parser checks shape only: names of functions and types, and literal
 * values, are resolved by the compiler (compile.c).
 *
 * Precedence, loosest first: OR; AND; NOT; comparisons (= != <> < <= > >=,
 * IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN, [NOT] LIKE); ||; + -; * / %;
 * unary + -; postfix ::type; primaries.
 */
#ifndef SL_SQL_PARSER_H
#define SL_SQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"
#include "sql/lexer.h"

typedef enum sl_sql_ast_kind {
    SL_AST_INTEGER,   /* text: digits */
    SL_AST_DECIMAL,   /* text: 4.2e1 */
    SL_AST_STRING,    /* text: unescaped contents */
    SL_AST_TRUE,
    SL_AST_FALSE,
    SL_AST_NULL,
    SL_AST_TIMESTAMP, /* TIMESTAMP 'text': text unescaped */
    SL_AST_INTERVAL,  /* INTERVAL 'text' [qualifier]: text unescaped, interval_fields the qualifier's */
    SL_AST_PATH,      /* steps */
    SL_AST_UNARY,     /* op, args[0] */
    SL_AST_BINARY,    /* op, args[0], args[1] */
    SL_AST_IS_NULL,   /* args[0]; is_negated for IS NOT NULL */
    SL_AST_IN,        /* args[0] IN (args[1..]) */
    SL_AST_BETWEEN,   /* args[0] BETWEEN args[1] AND args[2] */
    SL_AST_LIKE,      /* args[0] [I]LIKE args[1] [ESCAPE args[2]] */
    SL_AST_CAST,      /* CAST(args[0] AS text) or args[0]::text */
    SL_AST_CALL,      /* text(args...) */
    SL_AST_CASE,      /* CASE [args[0]] WHEN args[1] THEN args[2] ... [ELSE args[n-1]] END; args[0],
                         args[n-1] NULL when absent */
} sl_sql_ast_kind;

/* Operators of UNARY and BINARY nodes. */
typedef enum sl_sql_operator {
    SL_OP_NEG, SL_OP_PLUS, SL_OP_NOT,
    SL_OP_ADD, SL_OP_SUB, SL_OP_MUL, SL_OP_DIV, SL_OP_MOD, SL_OP_CONCAT,
    SL_OP_EQ, SL_OP_NE, SL_OP_LT, SL_OP_LE, SL_OP_GT, SL_OP_GE,
    SL_OP_MATCH, SL_OP_IMATCH, SL_OP_NOT_MATCH, SL_OP_NOT_IMATCH,   /* regular expressions: ~ ~* !~ !~* */
    SL_OP_ARROW, SL_OP_ARROW_TEXT,                                  /* JSON: -> ->> */
    SL_OP_AT_TIME_ZONE,                                             /* ts AT TIME ZONE zone */
    SL_OP_AND, SL_OP_OR,
} sl_sql_operator;

/* "+" for SL_OP_ADD, "AND" for SL_OP_AND, ... */
const char *sl_sql_operator_name(sl_sql_operator op);

/* One step of a path: a member name, or an array index after [n]. */
typedef struct sl_sql_path_step {
    sl_str key;        /* when !is_index */
    int64_t index;     /* when is_index, from 0 */
    bool is_index;
    bool is_quoted;    /* "key" or `key` */
} sl_sql_path_step;

typedef struct sl_sql_ast sl_sql_ast;
struct sl_sql_ast {
    sl_sql_ast_kind kind;
    sl_sql_operator op;
    bool is_negated;           /* NOT IN, NOT BETWEEN, NOT LIKE, IS NOT NULL */
    bool is_ilike;             /* LIKE: ILIKE, case-insensitive */
    bool is_try;               /* CAST: TRY_CAST, NULL where it does not convert */
    bool is_star;              /* CALL: count(*), no args */
    bool is_distinct;          /* CALL: count(DISTINCT x) */
    unsigned interval_fields;  /* INTERVAL: SL_INTERVAL_* of core/interval.h (ALL_FIELDS without a qualifier) */
    int join_side;             /* PATH: read from a stream join's left (1) or right (2) record; 0: the input */
    int line, column;
    sl_str text;               /* literal text, function or type name */
    sl_sql_ast **args;
    size_t n_args;
    sl_sql_path_step *steps;
    size_t n_steps;
};

typedef struct sl_sql_select_item {
    sl_sql_ast *expr;
    sl_str alias;              /* empty when there is no AS */
    bool has_alias;
    int line, column;          /* where the item (or its alias) starts */
    int alias_line, alias_column;
} sl_sql_select_item;

/* FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), size)): a window table
 * function (TUMBLE, HOP, CUMULATE, SESSION) over the input. */
typedef struct sl_sql_window_call {
    sl_str function;           /* as written; empty when FROM names the input directly */
    int line, column;
    sl_sql_ast *descriptor;    /* DESCRIPTOR(path): the PATH */
    sl_sql_ast *args[2];       /* the intervals after the descriptor */
    size_t n_args;
} sl_sql_window_call;

typedef struct sl_sql_select sl_sql_select;

/* [LEFT] JOIN table FOR SYSTEM_TIME AS OF ... AS alias ON condition (a
 * lookup join), or [INNER | LEFT | RIGHT | FULL] JOIN item ON condition (a
 * join of two streams: the FROM item is its left side, right its right). */
typedef struct sl_sql_join {
    sl_str table;              /* lookup: the table */
    sl_str alias;              /* the table's or right side's alias, else its name */
    bool is_left;              /* the left side's rows are kept without a match (LEFT, FULL) */
    bool is_right;             /* the right side's too (RIGHT, FULL; stream joins only) */
    bool is_stream;
    sl_sql_select *right;      /* stream: SELECT * FROM item [AS alias], of which from, from_subquery,
                                  window and from_alias say what the right side is */
    sl_sql_ast *on;            /* NULL: FROM a, b or CROSS JOIN (conditions in WHERE) */
    int line, column;
} sl_sql_join;

/* WITH name AS (SELECT ...): a view the statement reads FROM. */
typedef struct sl_sql_view {
    sl_str name;
    int line, column;
    sl_sql_select *select;
} sl_sql_view;

struct sl_sql_select {
    bool is_star;              /* SELECT * */
    bool is_distinct;          /* SELECT DISTINCT */
    int distinct_line, distinct_column;
    int64_t limit;             /* LIMIT n; -1 without */
    int limit_line, limit_column;
    sl_sql_select_item *items;
    size_t n_items;
    sl_str from;               /* input or a view's name; empty with from_subquery */
    int from_line, from_column;
    sl_sql_select *from_subquery; /* FROM (SELECT ...) */
    sl_str from_alias;         /* FROM x [AS] alias */
    sl_sql_join *join;         /* a lookup join, or NULL */
    sl_sql_view *views;        /* WITH's, on the outermost statement */
    size_t n_views;
    sl_sql_window_call window; /* window.function.len == 0 without one */
    sl_sql_ast *where;         /* NULL without WHERE */
    sl_sql_ast **group_by;     /* GROUP BY's expressions */
    size_t n_group_by;
    bool has_group_by;
    int group_by_line, group_by_column;
    sl_sql_ast *having;        /* NULL without HAVING */
};

/* Parses one statement — SELECT items FROM (input | TABLE(window call))
 * [WHERE expr] [GROUP BY exprs] [HAVING expr] [;] — from tokens,
 * allocating nodes in arena. Errors: SL_ESQL with
 * "line L column C: expected X, found 'T'"; SL_ENOMEM. */
int sl_sql_parse(const sl_sql_tokens *tokens, sl_arena *arena, sl_sql_select *out, sl_error *err);

#endif
