/* eval.c — evaluates a compiled expression tree against one record.
 *
 * A plain recursive walk over sl_sql_expr nodes. NULL follows SQL: it
 * propagates through arithmetic, comparison, ||, casts and (non null-safe)
 * functions; AND/OR use three-valued logic and skip their right side when
 * the left decides. Results live in the caller's arena; the program is never
 * written, which is what makes one program safe to share between threads.
 * Errors are reported where they happen, as "line L column C: reason", and
 * passed up unchanged; sl_sql_eval adds which column (or WHERE) failed.
 */
#include "sql/eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/utf8.h"
#include "sql/cast.h"
#include "sql/functions_internal.h"
#include "sql/interval.h"
#include "sql/regex.h"

static int fail(const sl_sql_expr *expr, sl_error *err, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const sl_sql_expr *expr, sl_error *err, const char *format, ...)
{
    char reason[400];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    return sl_error_set(err, SL_ESQL, "line %d column %d: %s", expr->line, expr->column, reason);
}

/* Adds expr's position in front of a reason set by a callee (cast,
 * function); out-of-memory is passed on as it is. */
static int locate(const sl_sql_expr *expr, int rc, sl_error *err)
{
    if (rc != SL_ENOMEM) sl_error_prefix(err, "line %d column %d: ", expr->line, expr->column);
    return rc;
}

static int out_of_memory(sl_error *err)
{
    return sl_error_set(err, SL_ENOMEM, "out of memory evaluating SQL");
}

static bool is_number(const sl_value *v)
{
    return v->type == SL_TYPE_INT || v->type == SL_TYPE_DOUBLE;
}

static double as_double(const sl_value *v)
{
    return v->type == SL_TYPE_INT ? (double)v->integer : v->number;
}

static int type_mismatch(const sl_sql_expr *expr, const sl_value *a, const sl_value *b,
                         sl_error *err)
{
    return fail(expr, err, "cannot apply '%s' to %s and %s", sl_sql_operator_name(expr->op),
                sl_type_name(a->type), sl_type_name(b->type));
}

/* ---- comparison ---- */

static int compare_int_double(int64_t i, double d)
{
    if (isnan(d)) return -1; /* NaN sorts above every number, as in PostgreSQL */
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    int64_t whole = (int64_t)d; /* truncation toward zero, in range */
    if (i != whole) return i < whole ? -1 : 1;
    double fraction = d - (double)whole;
    return fraction > 0 ? -1 : fraction < 0 ? 1 : 0;
}

static int compare_doubles(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return a < b ? -1 : a > b ? 1 : 0;
}

static int compare_bytes(sl_str a, sl_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int order = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (order) return order < 0 ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

int sl_sql_compare(const sl_value *a, const sl_value *b, int *order)
{
    if (a->type == SL_TYPE_INT && b->type == SL_TYPE_INT) {
        *order = a->integer < b->integer ? -1 : a->integer > b->integer ? 1 : 0;
    } else if (a->type == SL_TYPE_INT && b->type == SL_TYPE_DOUBLE) {
        *order = compare_int_double(a->integer, b->number);
    } else if (a->type == SL_TYPE_DOUBLE && b->type == SL_TYPE_INT) {
        *order = -compare_int_double(b->integer, a->number);
    } else if (a->type == SL_TYPE_DOUBLE && b->type == SL_TYPE_DOUBLE) {
        *order = compare_doubles(a->number, b->number);
    } else if ((a->type == SL_TYPE_STRING && b->type == SL_TYPE_STRING) ||
               (a->type == SL_TYPE_BYTES && b->type == SL_TYPE_BYTES)) {
        *order = compare_bytes(a->string, b->string);
    } else if (a->type == SL_TYPE_BOOL && b->type == SL_TYPE_BOOL) {
        *order = (int)a->boolean - (int)b->boolean;
    } else if (a->type == SL_TYPE_INTERVAL && b->type == SL_TYPE_INTERVAL) {
        *order = sl_sql_interval_compare(a->interval, b->interval);
    } else if (a->type == SL_TYPE_TIMESTAMP || b->type == SL_TYPE_TIMESTAMP) {
        int64_t ta, tb;
        if (a->type == SL_TYPE_TIMESTAMP) ta = a->timestamp;
        else if (a->type != SL_TYPE_STRING || sl_time_parse_iso(a->string.ptr, a->string.len, &ta)) return -1;
        if (b->type == SL_TYPE_TIMESTAMP) tb = b->timestamp;
        else if (b->type != SL_TYPE_STRING || sl_time_parse_iso(b->string.ptr, b->string.len, &tb)) return -1;
        *order = ta < tb ? -1 : ta > tb ? 1 : 0;
    } else {
        return -1;
    }
    return 0;
}

static int compare_or_fail(const sl_sql_expr *expr, const char *what, const sl_value *a,
                           const sl_value *b, int *order, sl_error *err)
{
    if (sl_sql_compare(a, b, order) == 0) return SL_OK;
    return fail(expr, err, "cannot compare %s and %s in %s", sl_type_name(a->type),
                sl_type_name(b->type), what);
}

/* ---- LIKE ---- */

static size_t next_char(sl_str s, size_t pos)
{
    pos++;
    while (pos < s.len && ((unsigned char)s.ptr[pos] & 0xC0) == 0x80) pos++;
    return pos;
}

/* Bytes of the character at s[pos] (1 for a byte that starts none). */
static size_t char_bytes(sl_str s, size_t pos)
{
    return next_char(s, pos) - pos;
}

int sl_sql_like(sl_str text, sl_str pattern, sl_str escape)
{
    size_t t = 0, p = 0, star_p = 0, star_t = 0;
    bool has_star = false;
    while (t < text.len) {
        if (p < pattern.len) {
            bool is_escape = escape.len && p + escape.len <= pattern.len &&
                             memcmp(pattern.ptr + p, escape.ptr, escape.len) == 0;
            char c = pattern.ptr[p];
            if (!is_escape && c == '%') {
                has_star = true;
                star_p = ++p;
                star_t = t;
                continue;
            }
            if (!is_escape && c == '_') {
                p++;
                t = next_char(text, t);
                continue;
            }
            size_t at = p;   /* the character to match literally */
            if (is_escape) {
                at = p + escape.len;
                if (at >= pattern.len) return -1;
            }
            size_t n = char_bytes(pattern, at);
            if (t + n <= text.len && memcmp(text.ptr + t, pattern.ptr + at, n) == 0) {
                t += n;
                p = at + n;
                continue;
            }
        }
        if (!has_star) return 0;
        p = star_p;
        star_t = next_char(text, star_t);
        t = star_t;
    }
    /* The text is used up: only %s may be left (an escape there is no
     * error, as in PostgreSQL, which checks it only where text is left). */
    while (p < pattern.len && pattern.ptr[p] == '%' &&
           !(escape.len && p + escape.len <= pattern.len && memcmp(pattern.ptr + p, escape.ptr, escape.len) == 0))
        p++;
    return p == pattern.len;
}

/* ---- operators ---- */

/* Arithmetic with a timestamp or an interval, as PostgreSQL: ts ± interval
 * and interval + ts are timestamps, ts - ts, interval ± interval, interval
 * times or divided by a number, and a number times an interval are
 * intervals. Anything else is a type mismatch. */
static int eval_time_arithmetic(const sl_sql_expr *expr, const sl_value *a, const sl_value *b, sl_value *out,
                                sl_error *err)
{
    const char *problem = NULL;
    sl_interval_value interval;
    int64_t ts;
    bool is_add = expr->op == SL_OP_ADD, is_sub = expr->op == SL_OP_SUB;
    if (a->type == SL_TYPE_TIMESTAMP && b->type == SL_TYPE_INTERVAL && (is_add || is_sub)) {
        problem = sl_sql_timestamp_add_interval(a->timestamp, b->interval, is_sub, &ts);
        if (!problem) *out = sl_value_timestamp(ts);
    } else if (a->type == SL_TYPE_INTERVAL && b->type == SL_TYPE_TIMESTAMP && is_add) {
        problem = sl_sql_timestamp_add_interval(b->timestamp, a->interval, false, &ts);
        if (!problem) *out = sl_value_timestamp(ts);
    } else if (a->type == SL_TYPE_TIMESTAMP && b->type == SL_TYPE_TIMESTAMP && is_sub) {
        problem = sl_sql_timestamp_diff(a->timestamp, b->timestamp, &interval);
        if (!problem) *out = sl_value_interval(interval.months, interval.days, interval.micros);
    } else if (a->type == SL_TYPE_INTERVAL && b->type == SL_TYPE_INTERVAL && (is_add || is_sub)) {
        problem = sl_sql_interval_add(a->interval, b->interval, is_sub, &interval);
        if (!problem) *out = sl_value_interval(interval.months, interval.days, interval.micros);
    } else if (a->type == SL_TYPE_INTERVAL && is_number(b) && (expr->op == SL_OP_MUL || expr->op == SL_OP_DIV)) {
        problem = sl_sql_interval_scale(a->interval, as_double(b), expr->op == SL_OP_DIV, &interval);
        if (!problem) *out = sl_value_interval(interval.months, interval.days, interval.micros);
    } else if (is_number(a) && b->type == SL_TYPE_INTERVAL && expr->op == SL_OP_MUL) {
        problem = sl_sql_interval_scale(b->interval, as_double(a), false, &interval);
        if (!problem) *out = sl_value_interval(interval.months, interval.days, interval.micros);
    } else {
        return type_mismatch(expr, a, b, err);
    }
    return problem ? fail(expr, err, "%s", problem) : SL_OK;
}

static int eval_arithmetic(const sl_sql_expr *expr, const sl_value *a, const sl_value *b,
                           sl_value *out, sl_error *err)
{
    if (a->type == SL_TYPE_NULL || b->type == SL_TYPE_NULL) {
        *out = sl_value_null();
        return SL_OK;
    }
    if (a->type == SL_TYPE_TIMESTAMP || a->type == SL_TYPE_INTERVAL || b->type == SL_TYPE_TIMESTAMP ||
        b->type == SL_TYPE_INTERVAL)
        return eval_time_arithmetic(expr, a, b, out, err);
    if (!is_number(a) || !is_number(b)) return type_mismatch(expr, a, b, err);
    if (a->type == SL_TYPE_INT && b->type == SL_TYPE_INT) {
        int64_t x = a->integer, y = b->integer, result = 0;
        bool is_overflow = false;
        switch (expr->op) {
        case SL_OP_ADD: is_overflow = __builtin_add_overflow(x, y, &result); break;
        case SL_OP_SUB: is_overflow = __builtin_sub_overflow(x, y, &result); break;
        case SL_OP_MUL: is_overflow = __builtin_mul_overflow(x, y, &result); break;
        case SL_OP_DIV:
        case SL_OP_MOD:
            if (y == 0) return fail(expr, err, "division by zero");
            if (y == -1) { /* INT64_MIN / -1 overflows; x % -1 is always 0 */
                is_overflow = expr->op == SL_OP_DIV && x == INT64_MIN;
                result = expr->op == SL_OP_DIV ? (is_overflow ? 0 : -x) : 0;
            } else {
                result = expr->op == SL_OP_DIV ? x / y : x % y;
            }
            break;
        default: break;
        }
        if (is_overflow)
            return fail(expr, err, "int overflow in %lld %s %lld", (long long)x,
                        sl_sql_operator_name(expr->op), (long long)y);
        *out = sl_value_int(result);
        return SL_OK;
    }
    double x = as_double(a), y = as_double(b), result = 0;
    switch (expr->op) {
    case SL_OP_ADD: result = x + y; break;
    case SL_OP_SUB: result = x - y; break;
    case SL_OP_MUL: result = x * y; break;
    case SL_OP_DIV:
    case SL_OP_MOD:
        if (y == 0) return fail(expr, err, "division by zero");
        result = expr->op == SL_OP_DIV ? x / y : fmod(x, y);
        break;
    default: break;
    }
    /* As PostgreSQL: finite operands with an infinite result overflowed,
     * and a product or quotient that came to 0 from non-zero operands
     * underflowed; both are errors of the record, not Infinity or 0. */
    bool is_finite_in = isfinite(x) && isfinite(y);
    if (isinf(result) && is_finite_in)
        return fail(expr, err, "double overflow in %g %s %g", x, sl_sql_operator_name(expr->op), y);
    bool is_underflow = result == 0 && x != 0 && is_finite_in &&
                        ((expr->op == SL_OP_MUL && y != 0) || expr->op == SL_OP_DIV);
    if (is_underflow)
        return fail(expr, err, "double underflow in %g %s %g", x, sl_sql_operator_name(expr->op), y);
    *out = sl_value_double(result);
    return SL_OK;
}

static int eval_concat(const sl_sql_expr *expr, const sl_value *a, const sl_value *b,
                       sl_arena *arena, sl_value *out, sl_error *err)
{
    if (a->type == SL_TYPE_NULL || b->type == SL_TYPE_NULL) {
        *out = sl_value_null();
        return SL_OK;
    }
    sl_value left, right;
    if (sl_sql_cast(a, SL_TYPE_STRING, arena, &left, NULL) ||
        sl_sql_cast(b, SL_TYPE_STRING, arena, &right, NULL))
        return type_mismatch(expr, a, b, err);
    size_t len = left.string.len + right.string.len;
    char *text = sl_arena_alloc(arena, len + 1);
    if (!text) return out_of_memory(err);
    if (left.string.len) memcpy(text, left.string.ptr, left.string.len);
    if (right.string.len) memcpy(text + left.string.len, right.string.ptr, right.string.len);
    text[len] = '\0';
    *out = sl_value_string((sl_str){ text, len });
    return SL_OK;
}

static int eval_comparison(const sl_sql_expr *expr, const sl_value *a, const sl_value *b,
                           sl_value *out, sl_error *err)
{
    if (a->type == SL_TYPE_NULL || b->type == SL_TYPE_NULL) {
        *out = sl_value_null();
        return SL_OK;
    }
    int order;
    if (sl_sql_compare(a, b, &order)) return type_mismatch(expr, a, b, err);
    bool result = false;
    switch (expr->op) {
    case SL_OP_EQ: result = order == 0; break;
    case SL_OP_NE: result = order != 0; break;
    case SL_OP_LT: result = order < 0; break;
    case SL_OP_LE: result = order <= 0; break;
    case SL_OP_GT: result = order > 0; break;
    case SL_OP_GE: result = order >= 0; break;
    default: break;
    }
    *out = sl_value_bool(result);
    return SL_OK;
}

/* Evaluates a boolean operand of AND/OR/NOT: TRUE, FALSE or NULL. */
static int eval_logic_operand(const sl_sql_expr *expr, const sl_sql_expr *operand,
                              const sl_value *input, sl_arena *arena, sl_value *out, sl_error *err)
{
    int rc = sl_sql_expr_eval(operand, input, arena, out, err);
    if (rc) return rc;
    if (out->type != SL_TYPE_BOOL && out->type != SL_TYPE_NULL)
        return fail(expr, err, "%s expects boolean operands, got %s",
                    sl_sql_operator_name(expr->op), sl_type_name(out->type));
    return SL_OK;
}

/* AND and OR in three-valued logic: the left side decides alone when it is
 * FALSE (AND) or TRUE (OR); otherwise NULL wins over the neutral value. */
static int eval_logic(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                      sl_value *out, sl_error *err)
{
    bool decides = expr->op == SL_OP_OR; /* the value that settles the answer */
    sl_value left, right;
    int rc = eval_logic_operand(expr, expr->args[0], input, arena, &left, err);
    if (rc) return rc;
    if (left.type == SL_TYPE_BOOL && left.boolean == decides) {
        *out = left;
        return SL_OK;
    }
    rc = eval_logic_operand(expr, expr->args[1], input, arena, &right, err);
    if (rc) return rc;
    if (right.type == SL_TYPE_BOOL && right.boolean == decides) *out = right;
    else if (left.type == SL_TYPE_NULL || right.type == SL_TYPE_NULL) *out = sl_value_null();
    else *out = sl_value_bool(!decides);
    return SL_OK;
}

static int eval_unary(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                      sl_value *out, sl_error *err)
{
    sl_value v;
    int rc = expr->op == SL_OP_NOT
                 ? eval_logic_operand(expr, expr->args[0], input, arena, &v, err)
                 : sl_sql_expr_eval(expr->args[0], input, arena, &v, err);
    if (rc) return rc;
    if (v.type == SL_TYPE_NULL) {
        *out = v;
        return SL_OK;
    }
    if (expr->op == SL_OP_NOT) {
        *out = sl_value_bool(!v.boolean);
    } else if (v.type == SL_TYPE_INTERVAL) {
        sl_interval_value negated = v.interval;
        const char *problem = expr->op == SL_OP_NEG ? sl_sql_interval_negate(v.interval, &negated) : NULL;
        if (problem) return fail(expr, err, "%s", problem);
        *out = sl_value_interval(negated.months, negated.days, negated.micros);
    } else if (!is_number(&v)) {
        return fail(expr, err, "cannot apply unary '%s' to %s", sl_sql_operator_name(expr->op),
                    sl_type_name(v.type));
    } else if (expr->op == SL_OP_PLUS) {
        *out = v;
    } else if (v.type == SL_TYPE_DOUBLE) {
        *out = sl_value_double(-v.number);
    } else if (v.integer == INT64_MIN) {
        return fail(expr, err, "int overflow in -(%lld)", (long long)v.integer);
    } else {
        *out = sl_value_int(-v.integer);
    }
    return SL_OK;
}

/* The type an untyped literal takes beside other under op, as PostgreSQL
 * resolves its operators: other's type, except that a timestamp + '...'
 * is an interval (there is no timestamp + timestamp) and an interval
 * times or divided by '...' a number. */
static sl_type untyped_target(sl_sql_operator op, sl_type other)
{
    if (other == SL_TYPE_TIMESTAMP && op == SL_OP_ADD) return SL_TYPE_INTERVAL;
    if (other == SL_TYPE_INTERVAL && (op == SL_OP_MUL || op == SL_OP_DIV)) return SL_TYPE_DOUBLE;
    return other;
}

/* A string literal that meets a number, a boolean, a timestamp or an
 * interval takes a type by it, as PostgreSQL types an unknown literal by
 * what it meets: 1 = '1' is TRUE and '2' * 3 is 6. A literal that does not
 * read as that type is an error at the literal. Strings from the record are
 * never converted. */
static int coerce_untyped(const sl_sql_expr *literal, sl_value *value, sl_sql_operator op, const sl_value *other,
                          sl_arena *arena, sl_error *err)
{
    if (!literal->is_untyped || value->type != SL_TYPE_STRING) return SL_OK;
    if (other->type != SL_TYPE_INT && other->type != SL_TYPE_DOUBLE && other->type != SL_TYPE_BOOL &&
        other->type != SL_TYPE_TIMESTAMP && other->type != SL_TYPE_INTERVAL)
        return SL_OK;
    sl_type target = untyped_target(op, other->type);
    sl_value converted;
    sl_error ignored = { 0 };
    int rc = sl_sql_cast(value, target, arena, &converted, &ignored);
    if (rc == SL_ENOMEM) return sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc) {
        char shown[96];
        sl_sql_value_describe(value, shown, sizeof shown);
        return fail(literal, err, "invalid input syntax for type %s: %s", sl_sql_type_sql_name(target), shown);
    }
    *value = converted;
    return SL_OK;
}

/* Both sides of operator op, each typed by the other when it is a literal. */
static int coerce_pair(sl_sql_operator op, const sl_sql_expr *left, sl_value *a, const sl_sql_expr *right,
                       sl_value *b, sl_arena *arena, sl_error *err)
{
    int rc = coerce_untyped(left, a, op, b, arena, err);
    return rc ? rc : coerce_untyped(right, b, op, a, arena, err);
}

/* text ~ pattern (~* ignoring case; !~ and !~* negated): a match anywhere. */
static int eval_regex(const sl_sql_expr *expr, const sl_value *a, const sl_value *b, sl_value *out, sl_error *err)
{
    if (a->type == SL_TYPE_NULL || b->type == SL_TYPE_NULL) {
        *out = sl_value_null();
        return SL_OK;
    }
    if (a->type != SL_TYPE_STRING || b->type != SL_TYPE_STRING) return type_mismatch(expr, a, b, err);
    bool is_caseless = expr->op == SL_OP_IMATCH || expr->op == SL_OP_NOT_IMATCH;
    bool is_negated = expr->op == SL_OP_NOT_MATCH || expr->op == SL_OP_NOT_IMATCH;
    bool matched = false;
    int rc = sl_sql_regex_match(a->string, b->string, is_caseless ? "i" : "", &matched, err);
    if (rc) return locate(expr, rc, err);
    *out = sl_value_bool(matched != is_negated);
    return SL_OK;
}

static int eval_binary(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                       sl_value *out, sl_error *err)
{
    if (expr->op == SL_OP_AND || expr->op == SL_OP_OR) return eval_logic(expr, input, arena, out, err);
    sl_value a, b;
    int rc = sl_sql_expr_eval(expr->args[0], input, arena, &a, err);
    if (rc) return rc;
    rc = sl_sql_expr_eval(expr->args[1], input, arena, &b, err);
    if (rc) return rc;
    if (expr->op != SL_OP_CONCAT && expr->op != SL_OP_ARROW && expr->op != SL_OP_ARROW_TEXT &&
        expr->op != SL_OP_AT_TIME_ZONE) {
        rc = coerce_pair(expr->op, expr->args[0], &a, expr->args[1], &b, arena, err);
        if (rc) return rc;
    }
    switch (expr->op) {
    case SL_OP_ADD:
    case SL_OP_SUB:
    case SL_OP_MUL:
    case SL_OP_DIV:
    case SL_OP_MOD: return eval_arithmetic(expr, &a, &b, out, err);
    case SL_OP_MATCH:
    case SL_OP_IMATCH:
    case SL_OP_NOT_MATCH:
    case SL_OP_NOT_IMATCH: return eval_regex(expr, &a, &b, out, err);
    case SL_OP_AT_TIME_ZONE: {
        if (a.type == SL_TYPE_NULL || b.type == SL_TYPE_NULL) {
            *out = sl_value_null();
            return SL_OK;
        }
        sl_sql_call call = { arena, err };
        rc = sl__sql_at_time_zone(&call, &a, &b, out);
        return rc ? locate(expr, rc, err) : SL_OK;
    }
    case SL_OP_ARROW:
    case SL_OP_ARROW_TEXT: {
        if (a.type == SL_TYPE_NULL || b.type == SL_TYPE_NULL) {
            *out = sl_value_null();
            return SL_OK;
        }
        sl_sql_call call = { arena, err };
        rc = sl__sql_json_arrow(&call, &a, &b, expr->op == SL_OP_ARROW_TEXT, out);
        return rc ? locate(expr, rc, err) : SL_OK;
    }
    case SL_OP_CONCAT: return eval_concat(expr, &a, &b, arena, out, err);
    default: return eval_comparison(expr, &a, &b, out, err);
    }
}

/* One comparison of x IN (...): sets *is_found on a match and *has_null when
 * x or the item is NULL. */
static int in_compare(const sl_sql_expr *expr, size_t i, const sl_value *x, sl_value *item, sl_arena *arena,
                      bool *is_found, bool *has_null, sl_error *err)
{
    if (x->type == SL_TYPE_NULL || item->type == SL_TYPE_NULL) {
        *has_null = true;
        return SL_OK;
    }
    sl_value left = *x;
    int rc = coerce_pair(SL_OP_EQ, expr->args[0], &left, expr->args[i], item, arena, err);
    if (rc) return rc;
    int order;
    rc = compare_or_fail(expr, "IN", &left, item, &order, err);
    if (rc == SL_OK) *is_found = order == 0;
    return rc;
}

/* x IN (a, b, ...): TRUE on a match; otherwise NULL if x or any item was
 * NULL, else FALSE. NOT IN negates that (NULL stays NULL). Evaluated as
 * PostgreSQL does: with two or more constant items, x is first looked up
 * among the constants (its x = ANY (ARRAY[...])); then the other items are
 * compared in order, x = a OR x = b ..., and an item after a match is not
 * evaluated, so its error never happens. */
static int eval_in(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                   sl_value *out, sl_error *err)
{
    sl_value x;
    int rc = sl_sql_expr_eval(expr->args[0], input, arena, &x, err);
    if (rc) return rc;
    size_t n_constants = 0;
    for (size_t i = 1; i < expr->n_args; i++) n_constants += expr->args[i]->kind == SL_EXPR_CONST;
    bool is_array = n_constants >= 2;
    bool has_null = false, is_found = false;
    for (size_t i = 1; is_array && i < expr->n_args && !is_found && rc == SL_OK; i++) {
        if (expr->args[i]->kind != SL_EXPR_CONST) continue;
        sl_value item = expr->args[i]->constant;
        rc = in_compare(expr, i, &x, &item, arena, &is_found, &has_null, err);
    }
    for (size_t i = 1; i < expr->n_args && !is_found && rc == SL_OK; i++) {
        if (is_array && expr->args[i]->kind == SL_EXPR_CONST) continue;
        sl_value item;
        rc = sl_sql_expr_eval(expr->args[i], input, arena, &item, err);
        if (rc == SL_OK) rc = in_compare(expr, i, &x, &item, arena, &is_found, &has_null, err);
    }
    if (rc) return rc;
    if (!is_found && has_null) *out = sl_value_null();
    else *out = sl_value_bool(is_found != expr->is_negated);
    return SL_OK;
}

/* CASE: the result of the first arm whose condition is TRUE (searched) or
 * whose value equals the operand (simple; NULL never equals), else the
 * ELSE's (NULL without one). Only that result is evaluated. */
static int eval_case(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena, sl_value *out,
                     sl_error *err)
{
    sl_value operand;
    int rc = expr->operand ? sl_sql_expr_eval(expr->operand, input, arena, &operand, err) : SL_OK;
    size_t n_pairs = (expr->n_args - 1) / 2;
    for (size_t k = 0; rc == SL_OK && k < n_pairs; k++) {
        const sl_sql_expr *when = expr->args[2 * k];
        sl_value value;
        rc = sl_sql_expr_eval(when, input, arena, &value, err);
        if (rc) break;
        bool is_taken = false;
        if (!expr->operand) {
            if (value.type != SL_TYPE_BOOL && value.type != SL_TYPE_NULL)
                return fail(when, err, "CASE WHEN condition must be boolean, got %s", sl_type_name(value.type));
            is_taken = value.type == SL_TYPE_BOOL && value.boolean;
        } else if (operand.type != SL_TYPE_NULL && value.type != SL_TYPE_NULL) {
            sl_value left = operand;
            rc = coerce_pair(SL_OP_EQ, expr->operand, &left, when, &value, arena, err);
            int order = 0;
            if (rc == SL_OK) rc = compare_or_fail(when, "CASE", &left, &value, &order, err);
            is_taken = rc == SL_OK && order == 0;
        }
        if (is_taken) return sl_sql_expr_eval(expr->args[2 * k + 1], input, arena, out, err);
    }
    return rc ? rc : sl_sql_expr_eval(expr->args[expr->n_args - 1], input, arena, out, err);
}

/* [NOT] LIKE and ILIKE: % any run, _ one character, the escape (a
 * backslash unless ESCAPE says; ESCAPE '' has none) before a character
 * matches it literally. ILIKE lowers both sides first, with the Unicode
 * case mapping of lower(). */
static int eval_like(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                     sl_value *out, sl_error *err)
{
    const char *name = expr->is_ilike ? "ILIKE" : "LIKE";
    sl_value text, pattern, escape = sl_value_string(SL_STR_LIT("\\"));
    int rc = sl_sql_expr_eval(expr->args[0], input, arena, &text, err);
    if (rc == SL_OK) rc = sl_sql_expr_eval(expr->args[1], input, arena, &pattern, err);
    if (rc == SL_OK && expr->n_args > 2) rc = sl_sql_expr_eval(expr->args[2], input, arena, &escape, err);
    if (rc) return rc;
    if (text.type == SL_TYPE_NULL || pattern.type == SL_TYPE_NULL || escape.type == SL_TYPE_NULL) {
        *out = sl_value_null();
        return SL_OK;
    }
    if (text.type != SL_TYPE_STRING || pattern.type != SL_TYPE_STRING)
        return fail(expr, err, "cannot apply '%s' to %s and %s", name, sl_type_name(text.type),
                    sl_type_name(pattern.type));
    if (escape.type != SL_TYPE_STRING || sl_utf8_cut(escape.string.ptr, escape.string.len, 4) != escape.string.len ||
        (escape.string.len && next_char(escape.string, 0) != escape.string.len))
        return fail(expr, err, "%s ... ESCAPE must be one character or ''", name);
    if (expr->is_ilike) {
        sl_sql_call call = { arena, err };
        rc = sl__sql_change_case(&call, "ILIKE", &text, false, &text);
        if (rc == SL_OK) rc = sl__sql_change_case(&call, "ILIKE", &pattern, false, &pattern);
        if (rc) return locate(expr, rc, err);
    }
    int match = sl_sql_like(text.string, pattern.string, escape.string);
    if (match < 0) return fail(expr, err, "%s pattern must not end with the escape character", name);
    *out = sl_value_bool((match == 1) != expr->is_negated);
    return SL_OK;
}

/* COALESCE: the first argument that is not NULL, the later ones never
 * evaluated (coalesce(i, i / 0) is i wherever i is not NULL). */
static int eval_first_not_null(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena, sl_value *out,
                               sl_error *err)
{
    *out = sl_value_null();
    for (size_t i = 0; i < expr->n_args; i++) {
        int rc = sl_sql_expr_eval(expr->args[i], input, arena, out, err);
        if (rc || out->type != SL_TYPE_NULL) return rc;
    }
    return SL_OK;
}

static int eval_call(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                     sl_value *out, sl_error *err)
{
    if (expr->function->flags & SL_SQL_FN_FIRST_NOT_NULL) return eval_first_not_null(expr, input, arena, out, err);
    sl_value local[8];
    sl_value *args = local;
    if (expr->n_args > sizeof local / sizeof local[0]) {
        args = sl_arena_alloc(arena, expr->n_args * sizeof *args);
        if (!args) return out_of_memory(err);
    }
    bool has_null = false;
    for (size_t i = 0; i < expr->n_args; i++) {
        int rc = sl_sql_expr_eval(expr->args[i], input, arena, &args[i], err);
        if (rc) return rc;
        has_null |= args[i].type == SL_TYPE_NULL;
    }
    if (has_null && !(expr->function->flags & SL_SQL_FN_NULL_SAFE)) {
        *out = sl_value_null();
        return SL_OK;
    }
    sl_sql_call call = { arena, err };
    int rc = expr->function->fn(&call, args, expr->n_args, out);
    return rc ? locate(expr, rc, err) : SL_OK;
}

/* The member named key, or NULL. Same as sl_value_get, but comparing the
 * length and first byte before memcmp: most keys differ there, and this is
 * the evaluator's hottest loop. Indexed, not a pointer range: an empty
 * object's members may be NULL, and NULL + 0 is undefined in C. */
static const sl_value *member_get(const sl_value *object, sl_str key)
{
    if (object->type != SL_TYPE_OBJECT || key.len == 0) return sl_value_get(object, key);
    const sl_member *members = object->object.members;
    for (size_t i = 0; i < object->object.n_members; i++) {
        const sl_member *m = &members[i];
        if (m->key.len == key.len && m->key.ptr[0] == key.ptr[0] &&
            memcmp(m->key.ptr, key.ptr, key.len) == 0)
            return &m->value;
    }
    return NULL;
}

static int eval_path(const sl_sql_expr *expr, const sl_value *input, sl_value *out)
{
    const sl_value *v = input;
    if (expr->has_base)
        v = input->type == SL_TYPE_ARRAY && expr->base_slot < input->array.n_items ? &input->array.items[expr->base_slot]
                                                                                   : NULL;
    for (size_t i = 0; i < expr->n_steps && v; i++) {
        const sl_sql_path_step *step = &expr->steps[i];
        if (!step->is_index)
            v = member_get(v, step->key);
        else if (v->type == SL_TYPE_ARRAY && (uint64_t)step->index < v->array.n_items)
            v = &v->array.items[step->index];
        else
            v = NULL;
    }
    *out = v ? *v : sl_value_null();
    return SL_OK;
}

int sl_sql_expr_eval(const sl_sql_expr *expr, const sl_value *input, sl_arena *arena,
                     sl_value *out, sl_error *err)
{
    switch (expr->kind) {
    case SL_EXPR_CONST: *out = expr->constant; return SL_OK;
    case SL_EXPR_PATH: return eval_path(expr, input, out);
    case SL_EXPR_UNARY: return eval_unary(expr, input, arena, out, err);
    case SL_EXPR_BINARY: return eval_binary(expr, input, arena, out, err);
    case SL_EXPR_IS_NULL: {
        sl_value v;
        int rc = sl_sql_expr_eval(expr->args[0], input, arena, &v, err);
        if (rc) return rc;
        *out = sl_value_bool((v.type == SL_TYPE_NULL) != expr->is_negated);
        return SL_OK;
    }
    case SL_EXPR_IN: return eval_in(expr, input, arena, out, err);
    case SL_EXPR_LIKE: return eval_like(expr, input, arena, out, err);
    case SL_EXPR_CAST: {
        sl_value v;
        int rc = sl_sql_expr_eval(expr->args[0], input, arena, &v, err);
        if (rc) return rc;
        rc = sl_sql_cast(&v, expr->cast_type, arena, out, err);
        if (rc && rc != SL_ENOMEM && expr->is_try) {   /* TRY_CAST: NULL where it does not convert */
            *out = sl_value_null();
            return SL_OK;
        }
        return rc ? locate(expr, rc, err) : SL_OK;
    }
    case SL_EXPR_CALL: return eval_call(expr, input, arena, out, err);
    case SL_EXPR_CASE: return eval_case(expr, input, arena, out, err);
    case SL_EXPR_SLOT:
        if (input->type != SL_TYPE_ARRAY || expr->slot >= input->array.n_items)
            return fail(expr, err, "group row has no slot %zu", expr->slot);
        *out = input->array.items[expr->slot];
        return SL_OK;
    }
    return fail(expr, err, "unknown expression kind %d", (int)expr->kind);
}

int sl_sql_eval(const sl_sql_program *program, const sl_value *input, sl_arena *arena,
                sl_value *out_row, sl_error *err)
{
    if (program->where) {
        sl_value keep;
        int rc = sl_sql_expr_eval(program->where, input, arena, &keep, err);
        if (rc) {
            sl_error_prefix(err, "WHERE: ");
            return rc;
        }
        if (keep.type != SL_TYPE_BOOL && keep.type != SL_TYPE_NULL)
            return sl_error_set(err, SL_ESQL, "WHERE: line %d column %d: condition must be "
                                "boolean, got %s", program->where->line,
                                program->where->column, sl_type_name(keep.type));
        if (keep.type == SL_TYPE_NULL || !keep.boolean) return 0;
    }
    if (program->is_star) {
        *out_row = *input;
        return 1;
    }
    sl_member *members = sl_arena_alloc(arena, program->n_columns * sizeof *members);
    if (!members) return out_of_memory(err);
    for (size_t i = 0; i < program->n_columns; i++) {
        members[i].key = program->column_keys[i];
        int rc = sl_sql_expr_eval(program->columns[i], input, arena, &members[i].value, err);
        if (rc) {
            sl_error_prefix(err, "column '%s': ", program->column_names[i]);
            return rc;
        }
    }
    out_row->type = SL_TYPE_OBJECT;
    out_row->object.members = members;
    out_row->object.n_members = program->n_columns;
    return 1;
}
