/* functions_math.c — the SQL number functions (see functions_internal.h),
 * with PostgreSQL's semantics: round/floor/ceil/trunc keep an int an int
 * and a double a double (round of a double is to the nearest, ties to
 * even, as PostgreSQL's round(double precision); with a number of decimal
 * places, ties away from zero, as its round(numeric, n)); a result out of
 * range, a logarithm of zero or of a negative number, a square root of a
 * negative number, 0 to a negative power or a negative number to a
 * fractional one is an error of the record, never Infinity or NaN;
 * greatest/least skip NULLs and are NULL only when every argument is.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "sql/eval.h"
#include "sql/functions_internal.h"

static bool is_number(const sl_value *v)
{
    return v->type == SL_TYPE_INT || v->type == SL_TYPE_DOUBLE;
}

static double as_double(const sl_value *v)
{
    return v->type == SL_TYPE_INT ? (double)v->integer : v->number;
}

/* A double result of finite arguments: an error when it is not finite. */
static int finite_result(sl_sql_call *call, const char *name, double result, sl_value *out)
{
    if (!isfinite(result)) return sl_error_set(call->err, SL_ESQL, "%s(): value out of range", name);
    *out = sl_value_double(result);
    return SL_OK;
}

static int need_number(sl_sql_call *call, const char *name, const sl_value *v)
{
    return is_number(v) ? SL_OK : sl__sql_type_error(call, name, "a number", v);
}

/* The number of decimal places of round(x, n) and trunc(x, n). */
static int places_of(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args, int64_t *places)
{
    *places = 0;
    if (n_args < 2) return SL_OK;
    if (args[1].type != SL_TYPE_INT) return sl__sql_type_error(call, name, "an int number of places", &args[1]);
    *places = args[1].integer < -400 ? -400 : args[1].integer > 400 ? 400 : args[1].integer;
    return SL_OK;
}

/* x scaled to places decimals, rounded by how (round: ties away from zero;
 * trunc: toward zero), for the two-argument forms. */
static double at_places(double x, int64_t places, double (*how)(double))
{
    if (places > 308) return x;
    double scale = pow(10.0, (double)(places < 0 ? -places : places));
    if (!isfinite(scale)) return places < 0 ? how(0.0) * x : x;
    return places >= 0 ? how(x * scale) / scale : how(x / scale) * scale;
}

/* An int rounded or truncated to places < 0 decimal places (round(1234, -2) is 1200). */
static int int_at_places(sl_sql_call *call, const char *name, int64_t x, int64_t places, bool is_round,
                         sl_value *out)
{
    if (places >= 0) {
        *out = sl_value_int(x);
        return SL_OK;
    }
    if (places < -18) {
        *out = sl_value_int(0);
        return SL_OK;
    }
    int64_t unit = 1;
    for (int64_t i = 0; i < -places; i++) unit *= 10;
    int64_t kept = x / unit * unit, rest = x - kept;
    if (is_round && (rest >= unit / 2 || -rest >= unit / 2)) {   /* ties away from zero */
        int64_t step = rest > 0 ? unit : -unit;
        if (__builtin_add_overflow(kept, step, &kept))
            return sl_error_set(call->err, SL_ESQL, "%s(): int out of range", name);
    }
    *out = sl_value_int(kept);
    return SL_OK;
}

int sl__sql_fn_round(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    int64_t places;
    int rc = need_number(call, "round", &args[0]);
    if (rc == SL_OK) rc = places_of(call, "round", args, n_args, &places);
    if (rc) return rc;
    if (args[0].type == SL_TYPE_INT) return int_at_places(call, "round", args[0].integer, places, true, out);
    if (n_args < 2) return finite_result(call, "round", rint(args[0].number), out);
    return finite_result(call, "round", at_places(args[0].number, places, round), out);
}

int sl__sql_fn_trunc(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    int64_t places;
    int rc = need_number(call, "trunc", &args[0]);
    if (rc == SL_OK) rc = places_of(call, "trunc", args, n_args, &places);
    if (rc) return rc;
    if (args[0].type == SL_TYPE_INT) return int_at_places(call, "trunc", args[0].integer, places, false, out);
    return finite_result(call, "trunc", at_places(args[0].number, places, trunc), out);
}

int sl__sql_fn_floor(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "floor", &args[0]);
    if (rc) return rc;
    if (args[0].type == SL_TYPE_INT) {
        *out = args[0];
        return SL_OK;
    }
    return finite_result(call, "floor", floor(args[0].number), out);
}

int sl__sql_fn_ceil(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "ceil", &args[0]);
    if (rc) return rc;
    if (args[0].type == SL_TYPE_INT) {
        *out = args[0];
        return SL_OK;
    }
    /* ceil(-0.5) is -0 in C; PostgreSQL prints it as -0 too. */
    return finite_result(call, "ceil", ceil(args[0].number), out);
}

int sl__sql_fn_power(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "power", &args[0]);
    if (rc == SL_OK) rc = need_number(call, "power", &args[1]);
    if (rc) return rc;
    double x = as_double(&args[0]), y = as_double(&args[1]);
    if (x == 0 && y < 0) return sl_error_set(call->err, SL_ESQL, "power(): zero raised to a negative power is undefined");
    if (x < 0 && y != floor(y))
        return sl_error_set(call->err, SL_ESQL, "power(): a negative number raised to a non-integer power yields a "
                            "complex result");
    double result = pow(x, y);
    if (result == 0 && x != 0 && isfinite(x) && isfinite(y))
        return sl_error_set(call->err, SL_ESQL, "power(): value out of range: underflow");
    return finite_result(call, "power", result, out);
}

int sl__sql_fn_sqrt(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "sqrt", &args[0]);
    if (rc) return rc;
    double x = as_double(&args[0]);
    if (x < 0) return sl_error_set(call->err, SL_ESQL, "sqrt(): cannot take the square root of a negative number");
    return finite_result(call, "sqrt", sqrt(x), out);
}

int sl__sql_fn_exp(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "exp", &args[0]);
    if (rc) return rc;
    double x = as_double(&args[0]), result = exp(x);
    if (result == 0 && isfinite(x)) return sl_error_set(call->err, SL_ESQL, "exp(): value out of range: underflow");
    return finite_result(call, "exp", result, out);
}

static int logarithm(sl_sql_call *call, const char *name, double x, double *out)
{
    if (x == 0) return sl_error_set(call->err, SL_ESQL, "%s(): cannot take the logarithm of zero", name);
    if (x < 0) return sl_error_set(call->err, SL_ESQL, "%s(): cannot take the logarithm of a negative number", name);
    *out = log(x);
    return SL_OK;
}

int sl__sql_fn_ln(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    double result;
    int rc = need_number(call, "ln", &args[0]);
    if (rc == SL_OK) rc = logarithm(call, "ln", as_double(&args[0]), &result);
    return rc ? rc : finite_result(call, "ln", result, out);
}

/* log(x): base 10; log(b, x): base b, as PostgreSQL's. */
int sl__sql_fn_log(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    const sl_value *x = &args[n_args - 1];
    int rc = need_number(call, "log", x);
    if (rc == SL_OK && n_args == 2) rc = need_number(call, "log", &args[0]);
    if (rc) return rc;
    if (n_args == 1) {
        double natural;
        rc = logarithm(call, "log", as_double(x), &natural);
        return rc ? rc : finite_result(call, "log", log10(as_double(x)), out);
    }
    double of_x, of_base;
    rc = logarithm(call, "log", as_double(x), &of_x);
    if (rc == SL_OK) rc = logarithm(call, "log", as_double(&args[0]), &of_base);
    if (rc) return rc;
    if (of_base == 0) return sl_error_set(call->err, SL_ESQL, "log(): division by zero (a base of 1)");
    return finite_result(call, "log", of_x / of_base, out);
}

int sl__sql_fn_mod(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type != SL_TYPE_INT) return sl__sql_type_error(call, "mod", "an int", &args[0]);
    if (args[1].type != SL_TYPE_INT) return sl__sql_type_error(call, "mod", "an int", &args[1]);
    if (args[1].integer == 0) return sl_error_set(call->err, SL_ESQL, "mod(): division by zero");
    *out = sl_value_int(args[1].integer == -1 ? 0 : args[0].integer % args[1].integer);
    return SL_OK;
}

int sl__sql_fn_sign(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_number(call, "sign", &args[0]);
    if (rc) return rc;
    if (args[0].type == SL_TYPE_INT) {
        *out = sl_value_int((args[0].integer > 0) - (args[0].integer < 0));
        return SL_OK;
    }
    double x = args[0].number;
    *out = sl_value_double(isnan(x) ? x : (double)((x > 0) - (x < 0)));
    return SL_OK;
}

/* greatest/least: the extreme of the arguments that are not NULL, by SQL's
 * comparison; an int and a double give a double. */
static int extreme(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args, int sign,
                   sl_value *out)
{
    *out = sl_value_null();
    bool is_double = false;
    for (size_t i = 0; i < n_args; i++) {
        if (args[i].type == SL_TYPE_NULL) continue;
        is_double |= args[i].type == SL_TYPE_DOUBLE;
        int order = 0;
        if (out->type != SL_TYPE_NULL && sl_sql_compare(&args[i], out, &order) != 0)
            return sl_error_set(call->err, SL_ESQL, "%s(): cannot compare %s and %s", name,
                                sl_type_name(args[i].type), sl_type_name(out->type));
        if (out->type == SL_TYPE_NULL || order * sign > 0) *out = args[i];
    }
    if (is_double && out->type == SL_TYPE_INT) *out = sl_value_double((double)out->integer);
    return SL_OK;
}

int sl__sql_fn_greatest(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return extreme(call, "greatest", args, n_args, 1, out);
}

int sl__sql_fn_least(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return extreme(call, "least", args, n_args, -1, out);
}

/* random(): a double in [0, 1) from 53 random bits. */
int sl__sql_fn_random(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)call;
    (void)args;
    (void)n_args;
    *out = sl_value_double((double)(sl__sql_random_next() >> 11) * 0x1.0p-53);
    return SL_OK;
}
