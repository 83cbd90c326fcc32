/* parser_internal.h — what the expression parser (parser.c) shares with
 * the statement parser (parse_statement.c): the parser's state, the token
 * helpers and the entry points into expressions. Not for anyone else:
 * parser.h is the public face. */
#ifndef SL_SQL_PARSER_INTERNAL_H
#define SL_SQL_PARSER_INTERNAL_H

#include "sql/parser.h"

/* Expressions nest at most this deep, so hostile input cannot exhaust the
 * stack. */
#define MAX_DEPTH 200

typedef struct sl_sql_parser {
    const sl_sql_token *tokens;
    size_t pos;
    sl_arena *arena;
    sl_error *err;
    int depth;
} sl_sql_parser;

const sl_sql_token *sl_sql_parser_peek(const sl_sql_parser *p);
/* The token ahead tokens after the current one (the end stays the end). */
const sl_sql_token *sl_sql_parser_peek_at(const sl_sql_parser *p, size_t ahead);
const sl_sql_token *sl_sql_parser_next(sl_sql_parser *p);
/* Steps over the current token when it is of kind. */
bool sl_sql_parser_accept(sl_sql_parser *p, sl_sql_token_kind kind);
/* accept, or "expected <what>, found '<token>'". */
bool sl_sql_parser_expect(sl_sql_parser *p, sl_sql_token_kind kind, const char *what);
/* Reports "expected <what>, found '<token>'" at the current token (once:
 * the parser stops at the first error). Returns NULL. */
void *sl_sql_parser_fail_expected(sl_sql_parser *p, const char *what);
void *sl_sql_parser_fail_memory(sl_sql_parser *p);
/* A quoted token's contents with doubled quotes undone. */
bool sl_sql_parser_unquote(sl_sql_parser *p, const sl_sql_token *t, sl_str *out);
/* Is t the bare word (any case)? */
bool sl_sql_parser_is_word(const sl_sql_token *t, const char *word);
/* Can t name a column or table (a bare or quoted identifier)? */
bool sl_sql_parser_is_name_token(const sl_sql_token *t);
sl_sql_ast *sl_sql_parser_parse_expr(sl_sql_parser *p);
sl_sql_ast *sl_sql_parser_parse_path(sl_sql_parser *p);

#endif
