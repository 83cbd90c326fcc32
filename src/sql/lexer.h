/* lexer.h — turns SQL text into tokens with line:column positions.
 *
 * The whole statement is tokenised up front into an array the parser walks
 * with arbitrary lookahead. Tokens point into the text (no copies); string
 * literals and quoted identifiers keep their quotes and doubled-quote escapes,
 * which the parser undoes. Bare words that are reserved keywords get their own
 * kind, matched case-insensitively; other words are identifiers and keep
 * their case (JSON keys are case-sensitive).
 */
#ifndef SL_SQL_LEXER_H
#define SL_SQL_LEXER_H

#include <stddef.h>

#include "core/error.h"

typedef enum sl_sql_token_kind {
    SL_TOKEN_END = 0,      /* end of input */
    SL_TOKEN_IDENT,        /* bare word that is not a keyword */
    SL_TOKEN_QUOTED_IDENT, /* "name" or `name` */
    SL_TOKEN_INTEGER,      /* 42 */
    SL_TOKEN_DECIMAL,      /* 4.2, 1e9, .5 */
    SL_TOKEN_STRING,       /* 'text' */
    /* punctuation and operators */
    SL_TOKEN_COMMA, SL_TOKEN_LPAREN, SL_TOKEN_RPAREN, SL_TOKEN_LBRACKET, SL_TOKEN_RBRACKET,
    SL_TOKEN_DOT, SL_TOKEN_SEMICOLON, SL_TOKEN_STAR, SL_TOKEN_PLUS, SL_TOKEN_MINUS,
    SL_TOKEN_SLASH, SL_TOKEN_PERCENT, SL_TOKEN_CONCAT, SL_TOKEN_EQ, SL_TOKEN_NE,
    SL_TOKEN_LT, SL_TOKEN_LE, SL_TOKEN_GT, SL_TOKEN_GE, SL_TOKEN_DOUBLE_COLON,
    SL_TOKEN_MATCH, SL_TOKEN_IMATCH, SL_TOKEN_NOT_MATCH, SL_TOKEN_NOT_IMATCH, /* ~ ~* !~ !~* */
    SL_TOKEN_ARROW, SL_TOKEN_ARROW_TEXT, /* -> ->> */
    /* reserved keywords */
    SL_TOKEN_SELECT, SL_TOKEN_FROM, SL_TOKEN_WHERE, SL_TOKEN_AS, SL_TOKEN_AND, SL_TOKEN_OR,
    SL_TOKEN_NOT, SL_TOKEN_NULL, SL_TOKEN_TRUE, SL_TOKEN_FALSE, SL_TOKEN_IS, SL_TOKEN_IN,
    SL_TOKEN_BETWEEN, SL_TOKEN_LIKE, SL_TOKEN_CAST, SL_TOKEN_GROUP, SL_TOKEN_BY,
    SL_TOKEN_HAVING, SL_TOKEN_ORDER, SL_TOKEN_LIMIT, SL_TOKEN_CASE, SL_TOKEN_WHEN,
    SL_TOKEN_THEN, SL_TOKEN_ELSE, SL_TOKEN_END_KW, SL_TOKEN_DISTINCT, SL_TOKEN_ILIKE,
} sl_sql_token_kind;

typedef struct sl_sql_token {
    sl_sql_token_kind kind;
    const char *text; /* into the SQL text; for SL_TOKEN_END, its end */
    size_t len;
    int line;         /* from 1 */
    int column;       /* from 1, in characters (UTF-8 code points) */
} sl_sql_token;

typedef struct sl_sql_tokens {
    sl_sql_token *items; /* malloc'ed; the last one is SL_TOKEN_END */
    size_t n_items;
} sl_sql_tokens;

/* Tokenises text into out (the caller frees with sl_sql_tokens_free).
 * Errors: SL_ESQL "line L column C: unterminated string literal", unknown
 * character, unterminated comment or quoted identifier; SL_ENOMEM. */
int sl_sql_lex(const char *text, sl_sql_tokens *out, sl_error *err);

void sl_sql_tokens_free(sl_sql_tokens *tokens);

/* Is kind a reserved keyword (SELECT, FROM, ...)? */
int sl_sql_token_is_keyword(sl_sql_token_kind kind);

#endif
