/* parser.c — recursive descent from tokens to the AST (see parser.h).
 *
 * One function per precedence level, each calling the next tighter one, so
 * the grammar in parser.h's comment reads straight off the code. Errors say
 * what was expected and what token was found, at that token's position.
 * Nesting is bounded (MAX_DEPTH) so hostile input cannot exhaust the stack.
 */
#include "sql/parser_internal.h"

#include <string.h>
#include <strings.h>

#include "core/interval.h"

const char *sl_sql_operator_name(sl_sql_operator op)
{
    switch (op) {
    case SL_OP_NEG: return "-";
    case SL_OP_PLUS: return "+";
    case SL_OP_NOT: return "NOT";
    case SL_OP_ADD: return "+";
    case SL_OP_SUB: return "-";
    case SL_OP_MUL: return "*";
    case SL_OP_DIV: return "/";
    case SL_OP_MOD: return "%";
    case SL_OP_CONCAT: return "||";
    case SL_OP_EQ: return "=";
    case SL_OP_NE: return "<>";
    case SL_OP_LT: return "<";
    case SL_OP_LE: return "<=";
    case SL_OP_GT: return ">";
    case SL_OP_GE: return ">=";
    case SL_OP_MATCH: return "~";
    case SL_OP_IMATCH: return "~*";
    case SL_OP_NOT_MATCH: return "!~";
    case SL_OP_NOT_IMATCH: return "!~*";
    case SL_OP_ARROW: return "->";
    case SL_OP_ARROW_TEXT: return "->>";
    case SL_OP_AT_TIME_ZONE: return "AT TIME ZONE";
    case SL_OP_AND: return "AND";
    case SL_OP_OR: return "OR";
    }
    return "?";
}

const sl_sql_token *sl_sql_parser_peek(const sl_sql_parser *p)
{
    return &p->tokens[p->pos];
}

const sl_sql_token *sl_sql_parser_peek_at(const sl_sql_parser *p, size_t ahead)
{
    size_t i = p->pos;
    for (size_t k = 0; k < ahead && p->tokens[i].kind != SL_TOKEN_END; k++) i++;
    return &p->tokens[i];
}

const sl_sql_token *sl_sql_parser_next(sl_sql_parser *p)
{
    const sl_sql_token *token = &p->tokens[p->pos];
    if (token->kind != SL_TOKEN_END) p->pos++;
    return token;
}

bool sl_sql_parser_accept(sl_sql_parser *p, sl_sql_token_kind kind)
{
    if (sl_sql_parser_peek(p)->kind != kind) return false;
    sl_sql_parser_next(p);
    return true;
}

/* Reports "expected <what>, found '<token>'" at the current token. The
 * parser stops at the first error, so err is set only once. */
void *sl_sql_parser_fail_expected(sl_sql_parser *p, const char *what)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    if (p->err && p->err->code) return NULL;
    if (t->kind == SL_TOKEN_END)
        sl_error_set(p->err, SL_ESQL, "line %d column %d: expected %s, found end of input",
                     t->line, t->column, what);
    else
        sl_error_set(p->err, SL_ESQL, "line %d column %d: expected %s, found '%.*s'", t->line,
                     t->column, what, t->len > 40 ? 40 : (int)t->len, t->text);
    return NULL;
}

void *sl_sql_parser_fail_memory(sl_sql_parser *p)
{
    if (!(p->err && p->err->code)) sl_error_set(p->err, SL_ENOMEM, "out of memory parsing SQL");
    return NULL;
}

bool sl_sql_parser_expect(sl_sql_parser *p, sl_sql_token_kind kind, const char *what)
{
    if (sl_sql_parser_accept(p, kind)) return true;
    sl_sql_parser_fail_expected(p, what);
    return false;
}

static sl_sql_ast *node_new(sl_sql_parser *p, sl_sql_ast_kind kind, const sl_sql_token *at, size_t n_args)
{
    sl_sql_ast *node = sl_arena_calloc(p->arena, sizeof *node);
    if (!node) return sl_sql_parser_fail_memory(p);
    node->kind = kind;
    node->line = at->line;
    node->column = at->column;
    if (n_args) {
        node->args = sl_arena_calloc(p->arena, n_args * sizeof *node->args);
        if (!node->args) return sl_sql_parser_fail_memory(p);
        node->n_args = n_args;
    }
    return node;
}

/* The contents of a quoted token with its doubled quotes undone. Points into
 * the text when there is nothing to undo. */
bool sl_sql_parser_unquote(sl_sql_parser *p, const sl_sql_token *t, sl_str *out)
{
    char quote = t->text[0];
    const char *body = t->text + 1;
    size_t body_len = t->len - 2;
    if (!memchr(body, quote, body_len)) {
        *out = (sl_str){ body, body_len };
        return true;
    }
    char *copy = sl_arena_alloc(p->arena, body_len + 1);
    if (!copy) {
        sl_sql_parser_fail_memory(p);
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < body_len; i++) {
        copy[n++] = body[i];
        if (body[i] == quote) i++; /* the lexer guarantees it is doubled */
    }
    copy[n] = '\0';
    *out = (sl_str){ copy, n };
    return true;
}

bool sl_sql_parser_is_name_token(const sl_sql_token *t)
{
    return t->kind == SL_TOKEN_IDENT || t->kind == SL_TOKEN_QUOTED_IDENT;
}

/* A path: name ( '.' name | '[' integer ']' )*. A keyword written right
 * after a dot is a member name too (`a.end`); with space between (`a. FROM`)
 * it stays a keyword, so a dangling dot is reported where it is. */
sl_sql_ast *sl_sql_parser_parse_path(sl_sql_parser *p)
{
    const sl_sql_token *first = sl_sql_parser_peek(p);
    sl_sql_ast *node = node_new(p, SL_AST_PATH, first, 0);
    if (!node) return NULL;
    size_t capacity = 0;
    bool is_first = true;
    for (;;) {
        sl_sql_path_step step = { 0 };
        const sl_sql_token *t = sl_sql_parser_peek(p);
        if (is_first || t->kind == SL_TOKEN_DOT) {
            if (!is_first) sl_sql_parser_next(p);
            const sl_sql_token *dot = t;
            t = sl_sql_parser_peek(p);
            bool is_keyword_name = !is_first && sl_sql_token_is_keyword(t->kind) &&
                                   t->text == dot->text + 1;
            if (!sl_sql_parser_is_name_token(t) && !is_keyword_name) return sl_sql_parser_fail_expected(p, "a name");
            sl_sql_parser_next(p);
            step.is_quoted = t->kind == SL_TOKEN_QUOTED_IDENT;
            if (step.is_quoted) {
                if (!sl_sql_parser_unquote(p, t, &step.key)) return NULL;
            } else {
                step.key = (sl_str){ t->text, t->len };
            }
        } else if (t->kind == SL_TOKEN_LBRACKET) {
            sl_sql_parser_next(p);
            const sl_sql_token *index = sl_sql_parser_peek(p);
            if (index->kind != SL_TOKEN_INTEGER) return sl_sql_parser_fail_expected(p, "an array index");
            sl_sql_parser_next(p);
            step.is_index = true;
            step.index = 0;
            for (size_t i = 0; i < index->len; i++) {
                if (step.index > (INT64_MAX - 9) / 10) {
                    sl_error_set(p->err, SL_ESQL, "line %d column %d: array index too large",
                                 index->line, index->column);
                    return NULL;
                }
                step.index = step.index * 10 + (index->text[i] - '0');
            }
            if (!sl_sql_parser_expect(p, SL_TOKEN_RBRACKET, "']'")) return NULL;
        } else {
            break;
        }
        is_first = false;
        if (node->n_steps == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 4;
            sl_sql_path_step *grown =
                sl_arena_realloc(p->arena, node->steps, capacity * sizeof *grown,
                                 grown_capacity * sizeof *grown);
            if (!grown) return sl_sql_parser_fail_memory(p);
            node->steps = grown;
            capacity = grown_capacity;
        }
        node->steps[node->n_steps++] = step;
    }
    return node;
}

/* A type name after AS or ::, e.g. INT, DOUBLE PRECISION, VARCHAR(255). */
static bool parse_type_name(sl_sql_parser *p, sl_sql_ast *cast)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    if (t->kind != SL_TOKEN_IDENT) {
        sl_sql_parser_fail_expected(p, "a type name");
        return false;
    }
    sl_sql_parser_next(p);
    cast->text = (sl_str){ t->text, t->len };
    if (t->len == 6 && strncasecmp(t->text, "double", 6) == 0) {
        const sl_sql_token *precision = sl_sql_parser_peek(p);
        if (precision->kind == SL_TOKEN_IDENT && precision->len == 9 &&
            strncasecmp(precision->text, "precision", 9) == 0)
            sl_sql_parser_next(p);
    }
    if (sl_sql_parser_accept(p, SL_TOKEN_LPAREN)) { /* a length or precision, not enforced */
        if (!sl_sql_parser_expect(p, SL_TOKEN_INTEGER, "a length")) return false;
        if (sl_sql_parser_accept(p, SL_TOKEN_COMMA) && !sl_sql_parser_expect(p, SL_TOKEN_INTEGER, "a scale")) return false;
        if (!sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return false;
    }
    return true;
}

static sl_sql_ast *parse_call(sl_sql_parser *p)
{
    const sl_sql_token *name = sl_sql_parser_next(p);
    sl_sql_parser_next(p); /* '(' */
    sl_sql_ast *args[64];
    size_t n_args = 0;
    bool is_star = false, is_distinct = false;
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_STAR) {
        /* count(*): the compiler says which functions may take it. */
        sl_sql_parser_next(p);
        if (!sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')' after *")) return NULL;
        is_star = true;
    } else if (sl_sql_parser_accept(p, SL_TOKEN_DISTINCT)) {
        is_distinct = true;
        if (sl_sql_parser_peek(p)->kind == SL_TOKEN_RPAREN) return sl_sql_parser_fail_expected(p, "an expression after DISTINCT");
    }
    if (!is_star && !sl_sql_parser_accept(p, SL_TOKEN_RPAREN)) {
        do {
            if (n_args == sizeof args / sizeof args[0]) {
                sl_error_set(p->err, SL_ESQL, "line %d column %d: too many arguments to %.*s()",
                             name->line, name->column, (int)name->len, name->text);
                return NULL;
            }
            args[n_args] = sl_sql_parser_parse_expr(p);
            if (!args[n_args]) return NULL;
            n_args++;
        } while (sl_sql_parser_accept(p, SL_TOKEN_COMMA));
        if (!sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "',' or ')'")) return NULL;
    }
    sl_sql_ast *node = node_new(p, SL_AST_CALL, name, n_args);
    if (!node) return NULL;
    node->text = (sl_str){ name->text, name->len };
    node->is_star = is_star;
    node->is_distinct = is_distinct;
    if (n_args) memcpy(node->args, args, n_args * sizeof *args);
    return node;
}

/* CASE [operand] WHEN w THEN r ... [ELSE e] END. */
static sl_sql_ast *parse_case(sl_sql_parser *p)
{
    const sl_sql_token *start = sl_sql_parser_next(p);
    sl_sql_ast *operand = NULL, *parts[256];
    size_t n_parts = 0;
    if (sl_sql_parser_peek(p)->kind == SL_TOKEN_END_KW) return sl_sql_parser_fail_expected(p, "WHEN");
    if (sl_sql_parser_peek(p)->kind != SL_TOKEN_WHEN) {
        operand = sl_sql_parser_parse_expr(p);
        if (!operand) return NULL;
    }
    while (sl_sql_parser_accept(p, SL_TOKEN_WHEN)) {
        if (n_parts + 2 > sizeof parts / sizeof parts[0]) {
            sl_error_set(p->err, SL_ESQL, "line %d column %d: more than %zu WHEN branches in one CASE", start->line,
                         start->column, sizeof parts / sizeof parts[0] / 2);
            return NULL;
        }
        parts[n_parts] = sl_sql_parser_parse_expr(p);
        if (!parts[n_parts] || !sl_sql_parser_expect(p, SL_TOKEN_THEN, "THEN")) return NULL;
        parts[n_parts + 1] = sl_sql_parser_parse_expr(p);
        if (!parts[n_parts + 1]) return NULL;
        n_parts += 2;
    }
    if (n_parts == 0) return sl_sql_parser_fail_expected(p, "WHEN");
    sl_sql_ast *otherwise = NULL;
    if (sl_sql_parser_accept(p, SL_TOKEN_ELSE)) {
        otherwise = sl_sql_parser_parse_expr(p);
        if (!otherwise) return NULL;
    }
    if (!sl_sql_parser_expect(p, SL_TOKEN_END_KW, "WHEN, ELSE or END")) return NULL;
    sl_sql_ast *node = node_new(p, SL_AST_CASE, start, n_parts + 2);
    if (!node) return NULL;
    node->args[0] = operand;
    memcpy(node->args + 1, parts, n_parts * sizeof *parts);
    node->args[n_parts + 1] = otherwise;
    return node;
}

/* CAST(x AS type), or TRY_CAST(x AS type): NULL where x does not convert. */
static sl_sql_ast *parse_cast(sl_sql_parser *p, bool is_try)
{
    const sl_sql_token *t = sl_sql_parser_next(p);
    if (!sl_sql_parser_expect(p, SL_TOKEN_LPAREN, "'('")) return NULL;
    sl_sql_ast *node = node_new(p, SL_AST_CAST, t, 1);
    if (!node) return NULL;
    node->is_try = is_try;
    node->args[0] = sl_sql_parser_parse_expr(p);
    if (!node->args[0] || !sl_sql_parser_expect(p, SL_TOKEN_AS, "AS")) return NULL;
    if (!parse_type_name(p, node) || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return NULL;
    return node;
}

static sl_sql_ast *parse_concat(sl_sql_parser *p);

/* POSITION(sub IN s) is strpos(s, sub). */
static sl_sql_ast *parse_position(sl_sql_parser *p)
{
    const sl_sql_token *name = sl_sql_parser_next(p);
    sl_sql_parser_next(p);   /* ( */
    sl_sql_ast *node = node_new(p, SL_AST_CALL, name, 2);
    if (!node) return NULL;
    node->text = SL_STR_LIT("strpos");
    node->args[1] = parse_concat(p);
    if (!node->args[1] || !sl_sql_parser_expect(p, SL_TOKEN_IN, "IN")) return NULL;
    node->args[0] = parse_concat(p);
    if (!node->args[0] || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return NULL;
    return node;
}

/* EXTRACT(field FROM x) is date_part('field', x). */
static sl_sql_ast *parse_extract(sl_sql_parser *p)
{
    const sl_sql_token *name = sl_sql_parser_next(p);
    sl_sql_parser_next(p);   /* ( */
    const sl_sql_token *field = sl_sql_parser_next(p);
    if (field->kind != SL_TOKEN_IDENT) return sl_sql_parser_fail_expected(p, "a field name (year, month, day, hour, epoch...)");
    sl_sql_parser_next(p);   /* FROM */
    sl_sql_ast *node = node_new(p, SL_AST_CALL, name, 2);
    if (!node) return NULL;
    node->text = SL_STR_LIT("date_part");
    node->args[0] = node_new(p, SL_AST_STRING, field, 0);
    if (!node->args[0]) return NULL;
    node->args[0]->text = (sl_str){ field->text, field->len };
    node->args[1] = sl_sql_parser_parse_expr(p);
    if (!node->args[1] || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return NULL;
    return node;
}

/* Whether t is the bare word word (any case): AT, TIME, ZONE are names, not keywords. */
bool sl_sql_parser_is_word(const sl_sql_token *t, const char *word)
{
    size_t len = strlen(word);
    return t->kind == SL_TOKEN_IDENT && t->len == len && strncasecmp(t->text, word, len) == 0;
}

/* The field a word of an interval qualifier names (YEAR ... SECOND), or 0. */
static unsigned interval_field_of(const sl_sql_token *t)
{
    static const struct {
        const char *word;
        unsigned field;
    } words[] = { { "year", SL_INTERVAL_YEAR }, { "month", SL_INTERVAL_MONTH }, { "day", SL_INTERVAL_DAY },
                  { "hour", SL_INTERVAL_HOUR }, { "minute", SL_INTERVAL_MINUTE }, { "second", SL_INTERVAL_SECOND } };
    if (t->kind != SL_TOKEN_IDENT) return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (t->len == strlen(words[i].word) && strncasecmp(t->text, words[i].word, t->len) == 0) return words[i].field;
    return 0;
}

/* INTERVAL 'text' [field [TO field]]: the SQL standard's qualifier names
 * the fields the text gives (INTERVAL '02:30' HOUR TO MINUTE); without one,
 * the text says (INTERVAL '1 day 2 hours', PostgreSQL's free form). The
 * text is read by the compiler, which knows the fields. */
static sl_sql_ast *parse_interval_literal(sl_sql_parser *p)
{
    const sl_sql_token *start = sl_sql_parser_next(p);
    sl_sql_ast *node = node_new(p, SL_AST_INTERVAL, start, 0);
    if (!node || !sl_sql_parser_unquote(p, sl_sql_parser_peek(p), &node->text)) return NULL;
    sl_sql_parser_next(p);
    node->interval_fields = SL_INTERVAL_ALL_FIELDS;
    const sl_sql_token *first = sl_sql_parser_peek(p);
    unsigned from = interval_field_of(first);
    if (!from) return node;
    sl_sql_parser_next(p);
    unsigned to = from;
    if (sl_sql_parser_is_word(sl_sql_parser_peek(p), "to")) {
        sl_sql_parser_next(p);
        to = interval_field_of(sl_sql_parser_peek(p));
        if (to <= from) return sl_sql_parser_fail_expected(p, "a smaller field after TO (MONTH, HOUR, MINUTE or SECOND)");
        sl_sql_parser_next(p);
    }
    unsigned fields = (to << 1) - from;   /* every field from `from` down to `to` */
    if (!sl_interval_fields_valid(fields)) {
        sl_error_set(p->err, SL_ESQL, "line %d column %d: expected an interval qualifier (YEAR, MONTH, DAY, HOUR, "
                     "MINUTE, SECOND, YEAR TO MONTH, DAY TO HOUR/MINUTE/SECOND, HOUR TO MINUTE/SECOND or MINUTE TO "
                     "SECOND), found '%.*s TO %.*s'", first->line, first->column, (int)first->len, first->text,
                     (int)p->tokens[p->pos - 1].len, p->tokens[p->pos - 1].text);
        return NULL;
    }
    node->interval_fields = fields;
    return node;
}

static sl_sql_ast *parse_primary(sl_sql_parser *p)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    sl_sql_ast *node;
    switch (t->kind) {
    case SL_TOKEN_INTEGER:
    case SL_TOKEN_DECIMAL:
        node = node_new(p, t->kind == SL_TOKEN_INTEGER ? SL_AST_INTEGER : SL_AST_DECIMAL, t, 0);
        if (!node) return NULL;
        node->text = (sl_str){ t->text, t->len };
        sl_sql_parser_next(p);
        return node;
    case SL_TOKEN_STRING:
        node = node_new(p, SL_AST_STRING, t, 0);
        if (!node || !sl_sql_parser_unquote(p, t, &node->text)) return NULL;
        sl_sql_parser_next(p);
        return node;
    case SL_TOKEN_TRUE:
    case SL_TOKEN_FALSE:
    case SL_TOKEN_NULL:
        node = node_new(p, t->kind == SL_TOKEN_TRUE    ? SL_AST_TRUE
                           : t->kind == SL_TOKEN_FALSE ? SL_AST_FALSE
                                                       : SL_AST_NULL,
                        t, 0);
        sl_sql_parser_next(p);
        return node;
    case SL_TOKEN_LPAREN:
        sl_sql_parser_next(p);
        node = sl_sql_parser_parse_expr(p);
        if (!node || !sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "')'")) return NULL;
        return node;
    case SL_TOKEN_CAST:
        return parse_cast(p, false);
    case SL_TOKEN_IDENT:
        if (t->len == 8 && strncasecmp(t->text, "try_cast", 8) == 0 && sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_LPAREN)
            return parse_cast(p, true);
        if (t->len == 7 && strncasecmp(t->text, "extract", 7) == 0 && sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_LPAREN &&
            sl_sql_parser_peek_at(p, 3)->kind == SL_TOKEN_FROM)
            return parse_extract(p);
        if (t->len == 8 && strncasecmp(t->text, "position", 8) == 0 && sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_LPAREN)
            return parse_position(p);
        if (sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_LPAREN) return parse_call(p);
        if (t->len == 9 && strncasecmp(t->text, "timestamp", 9) == 0 &&
            sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_STRING) {
            sl_sql_parser_next(p);
            node = node_new(p, SL_AST_TIMESTAMP, t, 0);
            if (!node || !sl_sql_parser_unquote(p, sl_sql_parser_peek(p), &node->text)) return NULL;
            sl_sql_parser_next(p);
            return node;
        }
        if (sl_sql_parser_is_word(t, "interval") && sl_sql_parser_peek_at(p, 1)->kind == SL_TOKEN_STRING) return parse_interval_literal(p);
        return sl_sql_parser_parse_path(p);
    case SL_TOKEN_QUOTED_IDENT:
        return sl_sql_parser_parse_path(p);
    case SL_TOKEN_CASE:
        return parse_case(p);
    default:
        return sl_sql_parser_fail_expected(p, "expression");
    }
}

/* primary ( '::' type )* */
/* Counts one more level of nesting at t; false (with the error set) past
 * MAX_DEPTH, so hostile input cannot exhaust the stack. */
static bool enter_nesting(sl_sql_parser *p, const sl_sql_token *t)
{
    if (++p->depth <= MAX_DEPTH) return true;
    sl_error_set(p->err, SL_ESQL, "line %d column %d: expression nested too deeply", t->line, t->column);
    return false;
}

static sl_sql_ast *binary_new(sl_sql_parser *p, sl_sql_operator op, const sl_sql_token *at, sl_sql_ast *left,
                              sl_sql_ast *right);
static sl_sql_ast *parse_unary(sl_sql_parser *p);


/* x::type, and JSON's x -> key and x ->> key (left to right, binding as
 * tightly as ::, as in PostgreSQL). */
static sl_sql_ast *parse_postfix(sl_sql_parser *p)
{
    sl_sql_ast *node = parse_primary(p);
    for (;;) {
        const sl_sql_token *t = sl_sql_parser_peek(p);
        if (!node) return NULL;
        if (t->kind == SL_TOKEN_DOUBLE_COLON) {
            sl_sql_ast *cast = node_new(p, SL_AST_CAST, sl_sql_parser_next(p), 1);
            if (!cast) return NULL;
            cast->args[0] = node;
            if (!parse_type_name(p, cast)) return NULL;
            node = cast;
        } else if (sl_sql_parser_is_word(t, "at") && sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 1), "time") && sl_sql_parser_is_word(sl_sql_parser_peek_at(p, 2), "zone")) {
            sl_sql_parser_next(p);
            sl_sql_parser_next(p);
            sl_sql_parser_next(p);
            node = binary_new(p, SL_OP_AT_TIME_ZONE, t, node, parse_primary(p));
        } else if (t->kind == SL_TOKEN_ARROW || t->kind == SL_TOKEN_ARROW_TEXT) {
            sl_sql_parser_next(p);
            /* The key: a primary, or a signed index (j -> -1). */
            sl_sql_token_kind sign = sl_sql_parser_peek(p)->kind;
            sl_sql_ast *key = sign == SL_TOKEN_MINUS || sign == SL_TOKEN_PLUS ? parse_unary(p) : parse_primary(p);
            node = binary_new(p, t->kind == SL_TOKEN_ARROW ? SL_OP_ARROW : SL_OP_ARROW_TEXT, t, node, key);
        } else {
            return node;
        }
    }
}

static sl_sql_ast *parse_unary(sl_sql_parser *p)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    if (t->kind != SL_TOKEN_MINUS && t->kind != SL_TOKEN_PLUS) return parse_postfix(p);
    if (!enter_nesting(p, t)) return NULL;
    sl_sql_parser_next(p);
    sl_sql_ast *node = node_new(p, SL_AST_UNARY, t, 1);
    if (!node) return NULL;
    node->op = t->kind == SL_TOKEN_MINUS ? SL_OP_NEG : SL_OP_PLUS;
    node->args[0] = parse_unary(p);
    p->depth--;
    return node->args[0] ? node : NULL;
}

static sl_sql_ast *binary_new(sl_sql_parser *p, sl_sql_operator op, const sl_sql_token *at,
                              sl_sql_ast *left, sl_sql_ast *right)
{
    if (!right) return NULL;
    sl_sql_ast *node = node_new(p, SL_AST_BINARY, at, 2);
    if (!node) return NULL;
    node->op = op;
    node->args[0] = left;
    node->args[1] = right;
    return node;
}

static sl_sql_ast *parse_multiplicative(sl_sql_parser *p)
{
    sl_sql_ast *left = parse_unary(p);
    while (left) {
        const sl_sql_token *t = sl_sql_parser_peek(p);
        sl_sql_operator op;
        if (t->kind == SL_TOKEN_STAR) op = SL_OP_MUL;
        else if (t->kind == SL_TOKEN_SLASH) op = SL_OP_DIV;
        else if (t->kind == SL_TOKEN_PERCENT) op = SL_OP_MOD;
        else break;
        sl_sql_parser_next(p);
        left = binary_new(p, op, t, left, parse_unary(p));
    }
    return left;
}

static sl_sql_ast *parse_additive(sl_sql_parser *p)
{
    sl_sql_ast *left = parse_multiplicative(p);
    while (left) {
        const sl_sql_token *t = sl_sql_parser_peek(p);
        if (t->kind != SL_TOKEN_PLUS && t->kind != SL_TOKEN_MINUS) break;
        sl_sql_parser_next(p);
        left = binary_new(p, t->kind == SL_TOKEN_PLUS ? SL_OP_ADD : SL_OP_SUB, t, left,
                          parse_multiplicative(p));
    }
    return left;
}

static sl_sql_ast *parse_concat(sl_sql_parser *p)
{
    sl_sql_ast *left = parse_additive(p);
    while (left && sl_sql_parser_peek(p)->kind == SL_TOKEN_CONCAT) {
        const sl_sql_token *t = sl_sql_parser_next(p);
        left = binary_new(p, SL_OP_CONCAT, t, left, parse_additive(p));
    }
    return left;
}

/* [NOT] IN (list), [NOT] BETWEEN a AND b, [NOT] LIKE pattern; the NOT (if
 * any) has been consumed and `at` is the keyword that names the test. */
static sl_sql_ast *parse_predicate(sl_sql_parser *p, sl_sql_ast *left, bool is_negated)
{
    const sl_sql_token *t = sl_sql_parser_next(p);
    sl_sql_ast *node;
    if (t->kind == SL_TOKEN_IN) {
        sl_sql_ast *items[256];
        size_t n_items = 0;
        if (!sl_sql_parser_expect(p, SL_TOKEN_LPAREN, "'('")) return NULL;
        do {
            if (n_items == sizeof items / sizeof items[0]) {
                sl_error_set(p->err, SL_ESQL, "line %d column %d: IN list longer than %zu items",
                             t->line, t->column, sizeof items / sizeof items[0]);
                return NULL;
            }
            items[n_items] = sl_sql_parser_parse_expr(p);
            if (!items[n_items]) return NULL;
            n_items++;
        } while (sl_sql_parser_accept(p, SL_TOKEN_COMMA));
        if (!sl_sql_parser_expect(p, SL_TOKEN_RPAREN, "',' or ')'")) return NULL;
        node = node_new(p, SL_AST_IN, t, n_items + 1);
        if (!node) return NULL;
        memcpy(node->args + 1, items, n_items * sizeof *items);
    } else if (t->kind == SL_TOKEN_BETWEEN) {
        node = node_new(p, SL_AST_BETWEEN, t, 3);
        if (!node) return NULL;
        node->args[1] = parse_concat(p);
        if (!node->args[1] || !sl_sql_parser_expect(p, SL_TOKEN_AND, "AND")) return NULL;
        node->args[2] = parse_concat(p);
        if (!node->args[2]) return NULL;
    } else {
        sl_sql_ast *pattern = parse_concat(p), *escape = NULL;
        if (!pattern) return NULL;
        const sl_sql_token *word = sl_sql_parser_peek(p);
        if (word->kind == SL_TOKEN_IDENT && word->len == 6 && strncasecmp(word->text, "escape", 6) == 0) {
            sl_sql_parser_next(p);
            escape = parse_concat(p);
            if (!escape) return NULL;
        }
        node = node_new(p, SL_AST_LIKE, t, escape ? 3 : 2);
        if (!node) return NULL;
        node->is_ilike = t->kind == SL_TOKEN_ILIKE;
        node->args[1] = pattern;
        if (escape) node->args[2] = escape;
    }
    node->args[0] = left;
    node->is_negated = is_negated;
    return node;
}

static bool is_predicate_keyword(sl_sql_token_kind kind)
{
    return kind == SL_TOKEN_IN || kind == SL_TOKEN_BETWEEN || kind == SL_TOKEN_LIKE || kind == SL_TOKEN_ILIKE;
}

static sl_sql_ast *parse_comparison(sl_sql_parser *p)
{
    sl_sql_ast *left = parse_concat(p);
    while (left) {
        const sl_sql_token *t = sl_sql_parser_peek(p);
        sl_sql_operator op;
        switch (t->kind) {
        case SL_TOKEN_EQ: op = SL_OP_EQ; break;
        case SL_TOKEN_NE: op = SL_OP_NE; break;
        case SL_TOKEN_LT: op = SL_OP_LT; break;
        case SL_TOKEN_LE: op = SL_OP_LE; break;
        case SL_TOKEN_GT: op = SL_OP_GT; break;
        case SL_TOKEN_GE: op = SL_OP_GE; break;
        case SL_TOKEN_MATCH: op = SL_OP_MATCH; break;
        case SL_TOKEN_IMATCH: op = SL_OP_IMATCH; break;
        case SL_TOKEN_NOT_MATCH: op = SL_OP_NOT_MATCH; break;
        case SL_TOKEN_NOT_IMATCH: op = SL_OP_NOT_IMATCH; break;
        case SL_TOKEN_IS: {
            sl_sql_parser_next(p);
            sl_sql_ast *node = node_new(p, SL_AST_IS_NULL, t, 1);
            if (!node) return NULL;
            node->is_negated = sl_sql_parser_accept(p, SL_TOKEN_NOT);
            if (!sl_sql_parser_expect(p, SL_TOKEN_NULL, node->is_negated ? "NULL" : "NULL or NOT NULL"))
                return NULL;
            node->args[0] = left;
            left = node;
            continue;
        }
        case SL_TOKEN_NOT:
            if (!is_predicate_keyword(sl_sql_parser_peek_at(p, 1)->kind)) return left;
            sl_sql_parser_next(p);
            left = parse_predicate(p, left, true);
            continue;
        default:
            if (!is_predicate_keyword(t->kind)) return left;
            left = parse_predicate(p, left, false);
            continue;
        }
        sl_sql_parser_next(p);
        left = binary_new(p, op, t, left, parse_concat(p));
    }
    return left;
}

static sl_sql_ast *parse_not(sl_sql_parser *p)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    if (t->kind != SL_TOKEN_NOT) return parse_comparison(p);
    if (!enter_nesting(p, t)) return NULL;
    sl_sql_parser_next(p);
    sl_sql_ast *node = node_new(p, SL_AST_UNARY, t, 1);
    if (!node) return NULL;
    node->op = SL_OP_NOT;
    node->args[0] = parse_not(p);
    p->depth--;
    return node->args[0] ? node : NULL;
}

static sl_sql_ast *parse_and(sl_sql_parser *p)
{
    sl_sql_ast *left = parse_not(p);
    while (left && sl_sql_parser_peek(p)->kind == SL_TOKEN_AND) {
        const sl_sql_token *t = sl_sql_parser_next(p);
        left = binary_new(p, SL_OP_AND, t, left, parse_not(p));
    }
    return left;
}

sl_sql_ast *sl_sql_parser_parse_expr(sl_sql_parser *p)
{
    const sl_sql_token *t = sl_sql_parser_peek(p);
    if (!enter_nesting(p, t)) return NULL;
    sl_sql_ast *left = parse_and(p);
    while (left && sl_sql_parser_peek(p)->kind == SL_TOKEN_OR) {
        const sl_sql_token *op = sl_sql_parser_next(p);
        left = binary_new(p, SL_OP_OR, op, left, parse_and(p));
    }
    p->depth--;
    return left;
}
