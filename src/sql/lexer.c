/* lexer.c — SQL text → tokens (see lexer.h).
 *
 * A single forward scan keeps the current line and column; a column counts
 * UTF-8 code points, not bytes, so positions match what an editor shows.
 * Comments (`-- to end of line` and `/ * ... * /`) and whitespace are skipped.
 * Numbers are recognised but not converted: the compiler does that, so an
 * out-of-range literal is reported where it stands.
 */
#include "sql/lexer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct lexer {
    const char *text;
    size_t pos;
    int line;
    int column;
} lexer;

static const struct {
    const char *word;
    sl_sql_token_kind kind;
} keywords[] = {
    { "select", SL_TOKEN_SELECT },   { "from", SL_TOKEN_FROM },     { "where", SL_TOKEN_WHERE },
    { "as", SL_TOKEN_AS },           { "and", SL_TOKEN_AND },       { "or", SL_TOKEN_OR },
    { "not", SL_TOKEN_NOT },         { "null", SL_TOKEN_NULL },     { "true", SL_TOKEN_TRUE },
    { "false", SL_TOKEN_FALSE },     { "is", SL_TOKEN_IS },         { "in", SL_TOKEN_IN },
    { "between", SL_TOKEN_BETWEEN }, { "like", SL_TOKEN_LIKE },     { "cast", SL_TOKEN_CAST },
    { "group", SL_TOKEN_GROUP },     { "by", SL_TOKEN_BY },         { "having", SL_TOKEN_HAVING },
    { "order", SL_TOKEN_ORDER },     { "limit", SL_TOKEN_LIMIT },   { "case", SL_TOKEN_CASE },
    { "when", SL_TOKEN_WHEN },       { "then", SL_TOKEN_THEN },     { "else", SL_TOKEN_ELSE },
    { "end", SL_TOKEN_END_KW },      { "distinct", SL_TOKEN_DISTINCT }, { "ilike", SL_TOKEN_ILIKE },
};

int sl_sql_token_is_keyword(sl_sql_token_kind kind)
{
    return kind >= SL_TOKEN_SELECT;
}

static char peek(const lexer *lx, size_t ahead)
{
    /* The text is NUL-terminated, so reading one past a NUL never happens:
     * callers stop at the first NUL. */
    const char *p = lx->text + lx->pos;
    for (size_t i = 0; i < ahead; i++)
        if (p[i] == '\0') return '\0';
    return p[ahead];
}

static void advance(lexer *lx)
{
    unsigned char c = (unsigned char)lx->text[lx->pos];
    if (c == '\0') return;
    lx->pos++;
    if (c == '\n') {
        lx->line++;
        lx->column = 1;
    } else if ((c & 0xC0) != 0x80) {
        lx->column++;
    }
}

/* Bytes of non-ASCII UTF-8 characters count as letters, so `prénom` is a
 * name as it is in PostgreSQL. */
static int is_word_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (unsigned char)c >= 0x80;
}

static int is_word_char(char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Skips whitespace and comments; an unterminated block comment is an error. */
static int skip_space(lexer *lx, sl_error *err)
{
    for (;;) {
        char c = peek(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx);
        } else if (c == '-' && peek(lx, 1) == '-') {
            while (peek(lx, 0) != '\0' && peek(lx, 0) != '\n') advance(lx);
        } else if (c == '/' && peek(lx, 1) == '*') {
            int line = lx->line, column = lx->column;
            advance(lx);
            advance(lx);
            while (!(peek(lx, 0) == '*' && peek(lx, 1) == '/')) {
                if (peek(lx, 0) == '\0')
                    return sl_error_set(err, SL_ESQL, "line %d column %d: unterminated comment",
                                        line, column);
                advance(lx);
            }
            advance(lx);
            advance(lx);
        } else {
            return SL_OK;
        }
    }
}

/* Scans a quoted token ('string', "ident", `ident`) where a doubled quote
 * stands for one. */
static int scan_quoted(lexer *lx, char quote, sl_error *err)
{
    int line = lx->line, column = lx->column;
    advance(lx);
    for (;;) {
        char c = peek(lx, 0);
        if (c == '\0')
            return sl_error_set(err, SL_ESQL, "line %d column %d: unterminated %s", line, column,
                                quote == '\'' ? "string literal" : "quoted identifier");
        advance(lx);
        if (c == quote) {
            if (peek(lx, 0) != quote) return SL_OK;
            advance(lx);
        }
    }
}

static sl_sql_token_kind scan_number(lexer *lx)
{
    sl_sql_token_kind kind = SL_TOKEN_INTEGER;
    while (is_digit(peek(lx, 0))) advance(lx);
    if (peek(lx, 0) == '.' && is_digit(peek(lx, 1))) {
        kind = SL_TOKEN_DECIMAL;
        advance(lx);
        while (is_digit(peek(lx, 0))) advance(lx);
    } else if (peek(lx, 0) == '.' && !is_word_start(peek(lx, 1))) {
        kind = SL_TOKEN_DECIMAL; /* "1." */
        advance(lx);
    }
    char e = peek(lx, 0);
    if (e == 'e' || e == 'E') {
        char next = peek(lx, 1);
        size_t digits_at = (next == '+' || next == '-') ? 2 : 1;
        if (is_digit(peek(lx, digits_at))) {
            kind = SL_TOKEN_DECIMAL;
            for (size_t i = 0; i < digits_at; i++) advance(lx);
            while (is_digit(peek(lx, 0))) advance(lx);
        }
    }
    return kind;
}

static sl_sql_token_kind word_kind(const char *word, size_t len)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == len && strncasecmp(keywords[i].word, word, len) == 0)
            return keywords[i].kind;
    return SL_TOKEN_IDENT;
}

/* Operators and punctuation, longest first. */
static const struct {
    const char *text;
    sl_sql_token_kind kind;
} symbols[] = {
    { "->>", SL_TOKEN_ARROW_TEXT }, { "->", SL_TOKEN_ARROW },
    { "!~*", SL_TOKEN_NOT_IMATCH }, { "!~", SL_TOKEN_NOT_MATCH }, { "~*", SL_TOKEN_IMATCH }, { "~", SL_TOKEN_MATCH },
    { "||", SL_TOKEN_CONCAT }, { "!=", SL_TOKEN_NE },  { "<>", SL_TOKEN_NE },
    { "<=", SL_TOKEN_LE },     { ">=", SL_TOKEN_GE },  { "::", SL_TOKEN_DOUBLE_COLON },
    { "==", SL_TOKEN_EQ },     { ",", SL_TOKEN_COMMA }, { "(", SL_TOKEN_LPAREN },
    { ")", SL_TOKEN_RPAREN },  { "[", SL_TOKEN_LBRACKET }, { "]", SL_TOKEN_RBRACKET },
    { ".", SL_TOKEN_DOT },     { ";", SL_TOKEN_SEMICOLON }, { "*", SL_TOKEN_STAR },
    { "+", SL_TOKEN_PLUS },    { "-", SL_TOKEN_MINUS },   { "/", SL_TOKEN_SLASH },
    { "%", SL_TOKEN_PERCENT }, { "=", SL_TOKEN_EQ },      { "<", SL_TOKEN_LT },
    { ">", SL_TOKEN_GT },
};

/* Scans one token starting at the current position into token. */
static int scan_token(lexer *lx, sl_sql_token *token, sl_error *err)
{
    const char *start = lx->text + lx->pos;
    char c = *start;
    token->text = start;
    token->line = lx->line;
    token->column = lx->column;
    int rc = SL_OK;
    if (c == '\0') {
        token->kind = SL_TOKEN_END;
    } else if (is_word_start(c)) {
        while (is_word_char(peek(lx, 0))) advance(lx);
        token->kind = word_kind(start, (size_t)(lx->text + lx->pos - start));
    } else if (is_digit(c) || (c == '.' && is_digit(peek(lx, 1)))) {
        token->kind = scan_number(lx);
        if (is_word_char(peek(lx, 0))) {
            /* "12abc" or "1e": no space between a number and a name, as
             * PostgreSQL and SQLite refuse it too (not "12 AS abc"). */
            size_t n = (size_t)(lx->text + lx->pos - start);
            while (is_word_char(start[n])) n++;
            return sl_error_set(err, SL_ESQL, "line %d column %d: trailing junk after numeric literal '%.*s'",
                                token->line, token->column, (int)(n > 40 ? 40 : n), start);
        }
    } else if (c == '\'') {
        token->kind = SL_TOKEN_STRING;
        rc = scan_quoted(lx, c, err);
    } else if (c == '"' || c == '`') {
        token->kind = SL_TOKEN_QUOTED_IDENT;
        rc = scan_quoted(lx, c, err);
    } else {
        size_t i;
        for (i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
            size_t n = strlen(symbols[i].text);
            if (strncmp(start, symbols[i].text, n) == 0) {
                for (size_t k = 0; k < n; k++) advance(lx);
                token->kind = symbols[i].kind;
                break;
            }
        }
        if (i == sizeof symbols / sizeof symbols[0]) {
            /* Show the whole UTF-8 sequence of the character. */
            size_t n = 1;
            while (n < 4 && ((unsigned char)start[n] & 0xC0) == 0x80) n++;
            return sl_error_set(err, SL_ESQL, "line %d column %d: unexpected character '%.*s'",
                                lx->line, lx->column, (int)n, start);
        }
    }
    token->len = (size_t)(lx->text + lx->pos - start);
    return rc;
}

int sl_sql_lex(const char *text, sl_sql_tokens *out, sl_error *err)
{
    lexer lx = { text, 0, 1, 1 };
    sl_sql_token *items = NULL;
    size_t n_items = 0, capacity = 0;
    int rc;
    for (;;) {
        rc = skip_space(&lx, err);
        if (rc) goto fail;
        if (n_items == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 64;
            sl_sql_token *grown = realloc(items, grown_capacity * sizeof *grown);
            if (!grown) {
                rc = sl_error_set(err, SL_ENOMEM, "out of memory tokenising SQL");
                goto fail;
            }
            items = grown;
            capacity = grown_capacity;
        }
        rc = scan_token(&lx, &items[n_items], err);
        if (rc) goto fail;
        if (items[n_items++].kind == SL_TOKEN_END) break;
    }
    out->items = items;
    out->n_items = n_items;
    return SL_OK;
fail:
    free(items);
    out->items = NULL;
    out->n_items = 0;
    return rc;
}

void sl_sql_tokens_free(sl_sql_tokens *tokens)
{
    if (!tokens) return;
    free(tokens->items);
    tokens->items = NULL;
    tokens->n_items = 0;
}
