/* sql_test.c — the SQL engine: parse errors and their positions, every
 * operator and function, NULL semantics, WHERE, the seed's projection,
 * runtime errors, thread safety, and the data-driven files in tests/sql/
 * (run by the driver at the end of this file).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/value.h"
#include "sql/sql.h"

static sl_arena *arena;

/* Programs made by eval_expr: results may point at their constants and
 * column names, so they live until the test ends. */
static sl_sql_program *kept[256];
static size_t n_kept;

static void setup(void)
{
    arena = sl_arena_new(0);
    n_kept = 0;
}

static void teardown(void)
{
    for (size_t i = 0; i < n_kept; i++) sl_sql_free(kept[i]);
    sl_arena_free(arena);
}

static void keep(sl_sql_program *program)
{
    cr_assert_lt(n_kept, sizeof kept / sizeof kept[0]);
    kept[n_kept++] = program;
}

TestSuite(sql, .init = setup, .fini = teardown);

/* ---- building values by hand ---- */

static sl_value str(const char *text)
{
    return sl_value_string(sl_str_from(text));
}

/* obj(n, "key", value, "key", value, ...) */
static sl_value obj(size_t n, ...)
{
    sl_object_builder builder;
    va_list args;
    sl_object_begin(&builder, arena, n);
    va_start(args, n);
    for (size_t i = 0; i < n; i++) {
        const char *key = va_arg(args, const char *);
        sl_value value = va_arg(args, sl_value);
        cr_assert_eq(sl_object_add(&builder, sl_str_from(key), value), SL_OK);
    }
    va_end(args);
    return sl_object_end(&builder);
}

static sl_value arr(size_t n, ...)
{
    sl_value v = { .type = SL_TYPE_ARRAY };
    va_list args;
    v.array.items = sl_arena_alloc(arena, n * sizeof(sl_value));
    v.array.n_items = n;
    va_start(args, n);
    for (size_t i = 0; i < n; i++) v.array.items[i] = va_arg(args, sl_value);
    va_end(args);
    return v;
}

/* The record most expression tests run against. */
static sl_value sample(void)
{
    return obj(10, "i", sl_value_int(7), "d", sl_value_double(2.5), "s", str("hello"), "n",
               sl_value_null(), "t", sl_value_bool(true), "f", sl_value_bool(false), "arr",
               arr(3, sl_value_int(10), sl_value_int(20), sl_value_int(30)), "nested",
               obj(1, "a", obj(1, "b", sl_value_int(1))), "up", str("MiXeD É"), "when",
               sl_value_timestamp(1704067200000000LL));
}

/* ---- helpers ---- */

static sl_sql_program *compile_ok(const char *sql)
{
    sl_sql_program *program = NULL;
    sl_error err = { 0 };
    int rc = sl_sql_compile(sql, &program, &err);
    cr_assert_eq(rc, SL_OK, "compiling %s: %s", sql, err.message);
    return program;
}

static void expect_compile_error(const char *sql, const char *message)
{
    sl_sql_program *program = NULL;
    sl_error err = { 0 };
    int rc = sl_sql_compile(sql, &program, &err);
    cr_assert_eq(rc, SL_ESQL, "compiling %s gave %d (%s)", sql, rc, err.message);
    cr_assert_null(program);
    cr_assert_str_eq(err.message, message, "compiling %s", sql);
}

/* Evaluates `SELECT <expr> AS v FROM input` on sample() and returns v. */
static sl_value eval_expr(const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s AS v FROM input", expr);
    sl_sql_program *program = compile_ok(sql);
    keep(program);
    sl_value input = sample(), row;
    sl_error err = { 0 };
    int rc = sl_sql_eval(program, &input, arena, &row, &err);
    cr_assert_eq(rc, 1, "evaluating %s: %s", expr, err.message);
    cr_assert_eq(row.type, SL_TYPE_OBJECT);
    cr_assert_eq(row.object.n_members, 1);
    return row.object.members[0].value;
}

static void expect_int(const char *expr, int64_t expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_INT, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert_eq(v.integer, expected, "%s gave %lld, not %lld", expr, (long long)v.integer,
                 (long long)expected);
}

static void expect_double(const char *expr, double expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_DOUBLE, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert_eq(v.number, expected, "%s gave %g, not %g", expr, v.number, expected);
}

static void expect_bool(const char *expr, bool expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_BOOL, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert_eq(v.boolean, expected, "%s gave %d", expr, v.boolean);
}

static void expect_null(const char *expr)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_NULL, "%s gave a %s, not NULL", expr, sl_type_name(v.type));
}

static void expect_str(const char *expr, const char *expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_STRING, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert(sl_str_eq_cstr(v.string, expected), "%s gave '%.*s', not '%s'", expr,
              (int)v.string.len, v.string.ptr, expected);
}

/* Runtime failure of `SELECT <expr> AS v FROM input`, err.message equal. */
static void expect_runtime_error(const char *expr, const char *message)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s AS v FROM input", expr);
    sl_sql_program *program = compile_ok(sql);
    sl_value input = sample(), row;
    sl_error err = { 0 };
    int rc = sl_sql_eval(program, &input, arena, &row, &err);
    sl_sql_free(program);
    cr_assert_eq(rc, SL_ESQL, "%s gave %d, not an error", expr, rc);
    cr_assert_str_eq(err.message, message, "evaluating %s", expr);
}

/* ---- parse errors ---- */

Test(sql, reports_parse_errors_at_line_and_column)
{
    expect_compile_error("SELECT a,\n       b,\n       FROM input",
                         "line 3 column 8: expected expression, found 'FROM'");
    expect_compile_error("select name.first,\n  1 + FROM input",
                         "line 2 column 7: expected expression, found 'FROM'");
    expect_compile_error("SELECT 'abc FROM input",
                         "line 1 column 8: unterminated string literal");
    expect_compile_error("SELECT a # b FROM input", "line 1 column 10: unexpected character '#'");
    expect_compile_error("SELECT a", "line 1 column 9: expected ',' or FROM, found end of input");
    expect_compile_error("SELECT a WHERE a = 1",
                         "line 1 column 10: expected ',' or FROM, found 'WHERE'");
    expect_compile_error("SELECT (a + 1 FROM input", "line 1 column 15: expected ')', found 'FROM'");
    expect_compile_error("SELECT a FROM input garbage",
                         "line 1 column 21: expected end of statement, found 'garbage'");
    expect_compile_error("SELECT a FROM input; SELECT b FROM input",
                         "line 1 column 22: expected end of statement, found 'SELECT'");
    expect_compile_error("SELECT /* never closed FROM input", "line 1 column 8: unterminated comment");
    expect_compile_error("SELECT \"abc FROM input", "line 1 column 8: unterminated quoted identifier");
    expect_compile_error("SELECT a IS 3 FROM input",
                         "line 1 column 13: expected NULL or NOT NULL, found '3'");
    expect_compile_error("SELECT a BETWEEN 1 OR 2 FROM input",
                         "line 1 column 20: expected AND, found 'OR'");
    expect_compile_error("", "line 1 column 1: expected SELECT, found end of input");
}

Test(sql, counts_columns_in_characters_not_bytes)
{
    expect_compile_error("SELECT 'é' AS x,\n\t'ü' AS y, ö, # FROM input",
                         "line 2 column 15: unexpected character '#'");
}

Test(sql, accepts_non_ascii_names)
{
    sl_value input = obj(1, "prénom", str("Zoë"));
    sl_sql_program *program = compile_ok("SELECT prénom, upper(prénom) AS grand FROM input");
    sl_value row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert_str_eq(sl_sql_column_name(program, 0), "prénom");
    cr_assert(sl_str_eq_cstr(row.object.members[0].value.string, "Zoë"));
    cr_assert(sl_str_eq_cstr(row.object.members[1].value.string, "ZOë"));
    sl_sql_free(program);
}

Test(sql, reports_resolution_errors_at_their_position)
{
    expect_compile_error("SELECT a FROM users",
                         "line 1 column 15: only FROM input is supported, found 'users'");
    expect_compile_error("SELECT a, foo(1) FROM input", "line 1 column 11: unknown function 'foo'");
    expect_compile_error("SELECT lower(a, b) FROM input",
                         "line 1 column 8: lower() takes 1 argument, got 2");
    expect_compile_error("SELECT substr(a) FROM input",
                         "line 1 column 8: substr() takes 2 to 3 arguments, got 1");
    expect_compile_error("SELECT coalesce() FROM input",
                         "line 1 column 8: coalesce() takes at least 1 argument, got 0");
    expect_compile_error("SELECT CAST(a AS blob) FROM input", "line 1 column 8: unknown type 'blob'");
    expect_compile_error("SELECT a::nope FROM input", "line 1 column 9: unknown type 'nope'");
    expect_compile_error("SELECT TIMESTAMP '2024-13-01' AS t FROM input",
                         "line 1 column 8: invalid TIMESTAMP literal '2024-13-01'");
}

Test(sql, rejects_duplicate_column_names_naming_both)
{
    expect_compile_error("SELECT a AS x,\n  b AS x FROM input",
                         "line 2 column 8: duplicate column name 'x' (first at line 1 column 13)");
    expect_compile_error("SELECT location.city, other.city FROM input",
                         "line 1 column 23: duplicate column name 'city' (first at line 1 column 8)");
}

Test(sql, rejects_absurd_nesting_without_crashing)
{
    static char sql[20000];
    strcpy(sql, "SELECT ");
    for (int i = 0; i < 3000; i++) strcat(sql, "(");
    strcat(sql, "1 FROM input");
    sl_sql_program *program = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_compile(sql, &program, &err), SL_ESQL);
    cr_assert(strstr(err.message, "nested too deeply"), "%s", err.message);

    strcpy(sql, "SELECT 1");
    for (int i = 0; i < 2000; i++) strcat(sql, " + 1");
    strcat(sql, " AS x FROM input");
    cr_assert_eq(sl_sql_compile(sql, &program, &err), SL_ESQL);
    cr_assert(strstr(err.message, "nested too deeply"), "%s", err.message);
}

/* ---- syntax accepted ---- */

Test(sql, accepts_any_keyword_case_comments_quotes_and_semicolon)
{
    sl_sql_program *program = compile_ok("-- leading comment\n"
                                         "sElEcT \"s\" aS \"Quoted Name\", /* inline */ `i` AS b,\n"
                                         "  input.nested.a.b AS c, d x\n"
                                         "FrOm InPuT wHeRe t;");
    cr_assert_eq(sl_sql_n_columns(program), 4);
    cr_assert_str_eq(sl_sql_column_name(program, 0), "Quoted Name");
    cr_assert_str_eq(sl_sql_column_name(program, 1), "b");
    cr_assert_str_eq(sl_sql_column_name(program, 2), "c");
    cr_assert_str_eq(sl_sql_column_name(program, 3), "x");
    cr_assert_null(sl_sql_column_name(program, 4));
    sl_value input = sample(), row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert(sl_str_eq_cstr(row.object.members[0].key, "Quoted Name"));
    cr_assert(sl_str_eq_cstr(row.object.members[0].value.string, "hello"));
    cr_assert_eq(row.object.members[1].value.integer, 7);
    cr_assert_eq(row.object.members[2].value.integer, 1);
    cr_assert_eq(row.object.members[3].value.number, 2.5);
    sl_sql_free(program);
}

Test(sql, names_columns_by_last_path_part_or_position)
{
    sl_sql_program *program = compile_ok("SELECT nested.a.b, 1 + 1, s, arr[0] FROM input");
    cr_assert_str_eq(sl_sql_column_name(program, 0), "b");
    cr_assert_str_eq(sl_sql_column_name(program, 1), "_col2");
    cr_assert_str_eq(sl_sql_column_name(program, 2), "s");
    cr_assert_str_eq(sl_sql_column_name(program, 3), "_col4");
    sl_sql_free(program);
}

Test(sql, quoted_names_keep_dots_and_keywords_after_dot_are_names)
{
    sl_value input = obj(2, "a.b", sl_value_int(1), "x", obj(1, "from", sl_value_int(2)));
    sl_sql_program *program = compile_ok("SELECT \"a.b\" AS one, x.from AS two FROM input");
    sl_value row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row.object.members[0].value.integer, 1);
    cr_assert_eq(row.object.members[1].value.integer, 2);
    sl_sql_free(program);
}

Test(sql, follows_paths_into_objects_and_arrays)
{
    expect_int("nested.a.b", 1);
    expect_int("input.nested.a.b", 1);
    expect_int("arr[1]", 20);
    expect_null("arr[3]");
    expect_null("nested.a.b.c");
    expect_null("missing.path");
    expect_null("s[0]");
    expect_bool("missing IS NULL", true);
}

Test(sql, select_star_returns_the_input_row_itself)
{
    sl_sql_program *program = compile_ok("SELECT * FROM input WHERE i > 5");
    cr_assert_eq(sl_sql_n_columns(program), 0);
    sl_value input = sample(), row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row.object.members, input.object.members);
    sl_value small = obj(1, "i", sl_value_int(1));
    cr_assert_eq(sl_sql_eval(program, &small, arena, &row, &err), 0);
    sl_sql_free(program);
}

/* ---- literals and operators ---- */

Test(sql, reads_literals)
{
    expect_int("42", 42);
    expect_int("-9223372036854775808", INT64_MIN);
    expect_double("9223372036854775808", 9223372036854775808.0);
    expect_double("1.5", 1.5);
    expect_double("2.5e3", 2500.0);
    expect_double(".5", 0.5);
    expect_double("1E-2", 0.01);
    expect_str("'it''s'", "it's");
    expect_str("''", "");
    expect_bool("TRUE", true);
    expect_bool("false", false);
    expect_null("NULL");
    sl_value t = eval_expr("TIMESTAMP '2024-01-01 00:00:00'");
    cr_assert_eq(t.type, SL_TYPE_TIMESTAMP);
    cr_assert_eq(t.timestamp, 1704067200000000LL);
}

Test(sql, applies_arithmetic_with_precedence_and_promotion)
{
    expect_int("1 + 2 * 3", 7);
    expect_int("(1 + 2) * 3", 9);
    expect_int("2 - 3 - 4", -5);
    expect_int("-2 * 3", -6);
    expect_int("- -i", 7);
    expect_int("+i", 7);
    expect_int("7 / 2", 3);
    expect_int("-7 / 2", -3);
    expect_int("7 % 3", 1);
    expect_int("i * 2 + 1", 15);
    expect_double("7.0 / 2", 3.5);
    expect_double("i + d", 9.5);
    expect_double("d * 2", 5.0);
    expect_double("7.5 % 2", 1.5);
    expect_double("-d", -2.5);
    expect_int("9223372036854775807 % -1", 0);
}

Test(sql, fails_on_division_by_zero_and_overflow)
{
    expect_runtime_error("i / 0", "column 'v': line 1 column 10: division by zero");
    expect_runtime_error("i % (i - 7)", "column 'v': line 1 column 10: division by zero");
    expect_runtime_error("d / 0", "column 'v': line 1 column 10: division by zero");
    expect_runtime_error("9223372036854775807 + i",
                         "column 'v': line 1 column 28: int overflow in 9223372036854775807 + 7");
    expect_runtime_error("-9223372036854775807 - i",
                         "column 'v': line 1 column 29: int overflow in -9223372036854775807 - 7");
    expect_runtime_error("4611686018427387904 * (i - 5)",
                         "column 'v': line 1 column 28: int overflow in 4611686018427387904 * 2");
    expect_runtime_error("(-9223372036854775807 - 1) / (i - 8)",
                         "column 'v': line 1 column 35: int overflow in -9223372036854775808 / -1");
}

Test(sql, names_operator_and_types_on_type_errors)
{
    expect_runtime_error("'a' + 1", "column 'v': line 1 column 12: cannot apply '+' to string and int");
    expect_runtime_error("s * i", "column 'v': line 1 column 10: cannot apply '*' to string and int");
    expect_runtime_error("s = i", "column 'v': line 1 column 10: cannot apply '=' to string and int");
    expect_runtime_error("-s", "column 'v': line 1 column 8: cannot apply unary '-' to string");
    expect_runtime_error("i AND t", "column 'v': line 1 column 10: AND expects boolean operands, got int");
    expect_runtime_error("NOT s", "column 'v': line 1 column 8: NOT expects boolean operands, got string");
    expect_runtime_error("i LIKE 'a'", "column 'v': line 1 column 10: cannot apply 'LIKE' to int and string");
    expect_runtime_error("arr || 'x'", "column 'v': line 1 column 12: cannot apply '||' to array and string");
}

Test(sql, compares_numbers_strings_booleans_and_timestamps)
{
    expect_bool("1 = 1.0", true);
    expect_bool("i < 7.5", true);
    expect_bool("7.5 > i", true);
    expect_bool("9007199254740993 > 9007199254740992.0", true);
    expect_bool("i <> 7", false);
    expect_bool("i != 8", true);
    expect_bool("i <= 7", true);
    expect_bool("i >= 8", false);
    expect_bool("'abc' < 'abd'", true);
    expect_bool("'ab' < 'abc'", true);
    expect_bool("'B' < 'a'", true);
    expect_bool("s = 'hello'", true);
    expect_bool("false < true", true);
    expect_bool("\"when\" = TIMESTAMP '2024-01-01T00:00:00Z'", true);
    expect_bool("\"when\" < '2024-01-01 00:00:01'", true);
    expect_bool("\"when\" > TIMESTAMP '2023-12-31 23:59:59.999999'", true);
}

Test(sql, implements_three_valued_logic)
{
    static const struct {
        const char *expr;
        int expected; /* 0 false, 1 true, 2 NULL */
    } table[] = {
        { "TRUE AND TRUE", 1 },   { "TRUE AND FALSE", 0 },  { "TRUE AND NULL", 2 },
        { "FALSE AND TRUE", 0 },  { "FALSE AND FALSE", 0 }, { "FALSE AND NULL", 0 },
        { "NULL AND TRUE", 2 },   { "NULL AND FALSE", 0 },  { "NULL AND NULL", 2 },
        { "TRUE OR TRUE", 1 },    { "TRUE OR FALSE", 1 },   { "TRUE OR NULL", 1 },
        { "FALSE OR TRUE", 1 },   { "FALSE OR FALSE", 0 },  { "FALSE OR NULL", 2 },
        { "NULL OR TRUE", 1 },    { "NULL OR FALSE", 2 },   { "NULL OR NULL", 2 },
        { "NOT TRUE", 0 },        { "NOT FALSE", 1 },       { "NOT NULL", 2 },
        { "t AND n", 2 },         { "f AND n", 0 },         { "n OR t", 1 },
        { "NOT f AND t", 1 },     { "f OR t AND f", 0 },    { "NOT i = 8", 1 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].expected == 2) expect_null(table[i].expr);
        else expect_bool(table[i].expr, table[i].expected);
    }
}

Test(sql, short_circuits_and_or)
{
    expect_bool("f AND i / 0 = 1", false);
    expect_bool("t OR i / 0 = 1", true);
}

Test(sql, propagates_null)
{
    expect_null("NULL + 1");
    expect_null("n * 2");
    expect_null("-n");
    expect_null("n = n");
    expect_null("n <> 1");
    expect_null("1 < n");
    expect_null("n || 'a'");
    expect_null("'a' || n");
    expect_null("lower(n)");
    expect_null("uuid(n)");
    expect_null("CAST(n AS INT)");
    expect_null("n LIKE 'a%'");
    expect_bool("n IS NULL", true);
    expect_bool("n IS NOT NULL", false);
    expect_bool("i IS NOT NULL", true);
    expect_bool("NULL IS NULL", true);
}

Test(sql, concatenates_with_pipes_converting_scalars)
{
    expect_str("s || ' ' || 'world'", "hello world");
    expect_str("'n=' || i", "n=7");
    expect_str("d || '|' || t", "2.5|true");
    expect_str("'a' || 1 + 2", "a3");
}

Test(sql, evaluates_in_between_and_like)
{
    expect_bool("i IN (1, 7, 9)", true);
    expect_bool("i IN (1, 2)", false);
    expect_bool("i IN (7.0)", true);
    expect_bool("s IN ('x', 'hello')", true);
    expect_null("i IN (1, NULL)");
    expect_bool("i IN (7, NULL)", true);
    expect_bool("i NOT IN (1, 2)", true);
    expect_null("i NOT IN (1, NULL)");
    expect_null("n IN (1)");
    expect_bool("i BETWEEN 1 AND 7", true);
    expect_bool("i BETWEEN 8 AND 10", false);
    expect_bool("i NOT BETWEEN 8 AND 10", true);
    expect_bool("d BETWEEN 2 AND 3", true);
    expect_bool("i BETWEEN 1 + 1 AND 3 * 3 AND t", true);
    expect_null("i BETWEEN NULL AND 10");
    expect_bool("i BETWEEN NULL AND 5", false);
    expect_bool("s LIKE 'h%'", true);
    expect_bool("s LIKE 'h_llo'", true);
    expect_bool("s LIKE '%l%o'", true);
    expect_bool("s LIKE 'hell'", false);
    expect_bool("s LIKE '%'", true);
    expect_bool("s NOT LIKE 'x%'", true);
    expect_bool("'a%b' LIKE 'a\\%b'", true);
    expect_bool("'axb' LIKE 'a\\%b'", false);
    expect_bool("'é' LIKE '_'", true);
    expect_bool("'' LIKE '%'", true);
    expect_bool("'abcabd' LIKE '%abd'", true);
    expect_runtime_error("i IN ('a')", "column 'v': line 1 column 10: cannot compare int and string in IN");
}

Test(sql, casts_between_types)
{
    expect_int("CAST('42' AS INT)", 42);
    expect_int("CAST(' -7 ' AS BIGINT)", -7);
    expect_int("CAST(2.9 AS INTEGER)", 2);
    expect_int("CAST(-2.9 AS INT)", -2);
    expect_int("CAST(TRUE AS INT)", 1);
    expect_int("'12'::int + 1", 13);
    expect_int("-'5'::int", -5);
    expect_double("CAST('1.5e2' AS DOUBLE)", 150.0);
    expect_double("CAST(i AS FLOAT)", 7.0);
    expect_double("CAST(3 AS DOUBLE PRECISION)", 3.0);
    expect_str("CAST(i AS STRING)", "7");
    expect_str("CAST(d AS TEXT)", "2.5");
    expect_str("CAST(0.1 AS VARCHAR(10))", "0.1");
    expect_str("CAST(f AS STRING)", "false");
    expect_str("CAST(\"when\" AS STRING)", "2024-01-01T00:00:00Z");
    expect_str("CAST(TIMESTAMP '2015-05-23T11:09:36.497Z' AS STRING)", "2015-05-23T11:09:36.497000Z");
    expect_bool("CAST('yes' AS BOOLEAN)", true);
    expect_bool("CAST('F' AS BOOL)", false);
    expect_bool("CAST(0 AS BOOLEAN)", false);
    sl_value t = eval_expr("CAST('2015-05-23T13:09:36.5+02:00' AS TIMESTAMP)");
    cr_assert_eq(t.type, SL_TYPE_TIMESTAMP);
    cr_assert_eq(t.timestamp, 1432379376500000LL);
    t = eval_expr("'2024-02-29'::timestamp");
    cr_assert_eq(t.timestamp, 1709164800000000LL);
}

Test(sql, fails_invalid_casts_naming_value_and_type)
{
    expect_runtime_error("CAST('abc' AS INT)", "column 'v': line 1 column 8: cannot cast 'abc' to INT");
    expect_runtime_error("CAST('1.5' AS INT)", "column 'v': line 1 column 8: cannot cast '1.5' to INT");
    expect_runtime_error("CAST('99999999999999999999' AS INT)",
                         "column 'v': line 1 column 8: cannot cast '99999999999999999999' to INT");
    expect_runtime_error("CAST(1e300 AS INT)",
                         "column 'v': line 1 column 8: cannot cast 1.0000000000000001e+300 to INT (out of range)");
    expect_runtime_error("s::double", "column 'v': line 1 column 9: cannot cast 'hello' to DOUBLE");
    expect_runtime_error("CAST('maybe' AS BOOLEAN)",
                         "column 'v': line 1 column 8: cannot cast 'maybe' to BOOLEAN");
    expect_runtime_error("CAST('2024-02-30' AS TIMESTAMP)",
                         "column 'v': line 1 column 8: cannot cast '2024-02-30' to TIMESTAMP");
    expect_runtime_error("CAST(arr AS STRING)", "column 'v': line 1 column 8: cannot cast an array to STRING");
}

/* ---- functions ---- */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

Test(sql, uuid_without_arguments_makes_distinct_v4_uuids)
{
    sl_sql_program *program = compile_ok("SELECT uuid() AS a, UUID() AS b FROM input");
    sl_value input = sample(), row;
    sl_error err = { 0 };
    for (int round = 0; round < 100; round++) {
        cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
        for (int k = 0; k < 2; k++) {
            sl_str u = row.object.members[k].value.string;
            cr_assert_eq(u.len, 36);
            for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) cr_assert_eq(u.ptr[i], '-');
                else cr_assert(is_hex(u.ptr[i]), "%.36s", u.ptr);
            }
            cr_assert_eq(u.ptr[14], '4', "version nibble in %.36s", u.ptr);
            cr_assert(strchr("89ab", u.ptr[19]), "variant nibble in %.36s", u.ptr);
        }
        cr_assert(!sl_str_eq(row.object.members[0].value.string, row.object.members[1].value.string));
    }
    sl_sql_free(program);
}

Test(sql, uuid_with_argument_validates_and_lowercases)
{
    expect_str("uuid('5F2B1C3E-9A4D-4E6F-8B7A-0C1D2E3F4A5B')", "5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5b");
    expect_str("uuid('5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5b')", "5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5b");
    expect_runtime_error("uuid('not-a-uuid')", "column 'v': line 1 column 8: invalid uuid 'not-a-uuid'");
    expect_runtime_error("uuid('5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5g')",
                         "column 'v': line 1 column 8: invalid uuid '5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5g'");
    expect_runtime_error("uuid('5f2b1c3e9a4d-4e6f-8b7a-0c1d2e3f4a5b1')",
                         "column 'v': line 1 column 8: invalid uuid '5f2b1c3e9a4d-4e6f-8b7a-0c1d2e3f4a5b1'");
    expect_runtime_error("uuid(i)", "column 'v': line 1 column 8: uuid() expects a string, got int");
}

Test(sql, string_functions)
{
    expect_str("lower(up)", "mixed É");
    expect_str("upper(up)", "MIXED É");
    expect_str("upper(s)", "HELLO");
    expect_str("lower(s)", "hello");
    expect_str("concat(s, ' ', i, n, '!')", "hello 7!");
    expect_str("concat(n)", "");
    expect_int("length(s)", 5);
    expect_int("length('héllo')", 5);
    expect_int("char_length('')", 0);
    expect_str("trim('  a b  ')", "a b");
    expect_str("ltrim('  a  ')", "a  ");
    expect_str("rtrim('  a  ')", "  a");
    expect_str("trim('xxaxx', 'x')", "a");
    expect_str("substr(s, 2)", "ello");
    expect_str("substr(s, 2, 3)", "ell");
    expect_str("substring(s, 0, 3)", "he");
    expect_str("substr(s, 10)", "");
    expect_str("substr('héllo', 2, 2)", "él");
    expect_str("substr(s, -5, 3)", "");
    expect_runtime_error("substr(s, 1, -1)",
                         "column 'v': line 1 column 8: substr() length must not be negative");
    expect_runtime_error("lower(i)", "column 'v': line 1 column 8: lower() expects a string, got int");
}

Test(sql, coalesce_and_abs)
{
    expect_int("coalesce(n, NULL, i, 3)", 7);
    expect_null("coalesce(n, NULL)");
    expect_str("coalesce(missing, 'default')", "default");
    expect_int("abs(-3)", 3);
    expect_double("abs(-d)", 2.5);
    expect_runtime_error("abs(s)", "column 'v': line 1 column 8: abs() expects a number, got string");
}

Test(sql, now_returns_the_current_timestamp)
{
    int64_t before = sl_clock_wall_us();
    sl_value v = eval_expr("now()");
    int64_t after = sl_clock_wall_us();
    cr_assert_eq(v.type, SL_TYPE_TIMESTAMP);
    cr_assert(v.timestamp >= before && v.timestamp <= after);
}

/* ---- WHERE and whole statements ---- */

Test(sql, where_keeps_only_rows_whose_condition_is_true)
{
    sl_sql_program *program = compile_ok("SELECT name FROM input WHERE age >= 18 AND name <> 'x'");
    static const struct {
        int64_t age;
        bool has_age;
        int expected;
    } cases[] = { { 30, true, 1 }, { 18, true, 1 }, { 17, true, 0 }, { 0, false, 0 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_value input = cases[i].has_age ? obj(2, "name", str("ann"), "age", sl_value_int(cases[i].age))
                                          : obj(1, "name", str("ann"));
        sl_value row = sl_value_null();
        sl_error err = { 0 };
        cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), cases[i].expected,
                     "case %zu: %s", i, err.message);
    }
    sl_sql_free(program);
}

Test(sql, where_must_be_boolean)
{
    sl_sql_program *program = compile_ok("SELECT i FROM input\nWHERE i + 1");
    sl_value input = sample(), row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), SL_ESQL);
    cr_assert_str_eq(err.message, "WHERE: line 2 column 9: condition must be boolean, got int");
    sl_sql_free(program);
    program = compile_ok("SELECT i FROM input WHERE i / 0 = 1");
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), SL_ESQL);
    cr_assert_str_eq(err.message, "WHERE: line 1 column 29: division by zero");
    sl_sql_free(program);
}

static sl_value seed_user(void)
{
    return obj(
        12, "gender", str("female"), "name",
        obj(3, "title", str("Ms"), "first", str("Jane"), "last", str("Doe")), "location",
        obj(7, "street", obj(2, "number", sl_value_int(4210), "name", str("Main Street")), "city",
            str("Leeds"), "state", str("West Yorkshire"), "country", str("United Kingdom"),
            "postcode", str("LS1 4AB"), "coordinates",
            obj(2, "latitude", str("53.8008"), "longitude", str("-1.5491")), "timezone",
            obj(2, "offset", str("+1:00"), "description", str("Brussels, Copenhagen"))),
        "email", str("jane.doe@example.com"), "login",
        obj(7, "uuid", str("5F2B1C3E-9A4D-4E6F-8B7A-0C1D2E3F4A5B"), "username", str("bluebird42"),
            "password", str("hunter2"), "salt", str("abc"), "md5", str("m"), "sha1", str("s1"),
            "sha256", str("s256")),
        "dob", obj(2, "date", str("1984-03-02T10:00:00.000Z"), "age", sl_value_int(40)),
        "registered", obj(2, "date", str("2015-05-23T11:09:36.497Z"), "age", sl_value_int(9)),
        "phone", str("017684 12345"), "cell", str("07700 900123"), "id",
        obj(2, "name", str("NINO"), "value", str("AB 12 34 56 C")), "picture",
        obj(3, "large", str("https://x/l.jpg"), "medium", str("https://x/m.jpg"), "thumbnail",
            str("https://x/t.jpg")),
        "nat", str("GB"));
}

static const char seed_sql[] =
    "SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,\n"
    "       gender, location.city AS city, location.postcode AS post_code, email,\n"
    "       login.username AS username, registered.date AS registered_date,\n"
    "       phone, picture.thumbnail AS picture\n"
    "FROM input\n";

Test(sql, runs_the_seed_projection)
{
    static const char *expected[][2] = {
        { "id", "5f2b1c3e-9a4d-4e6f-8b7a-0c1d2e3f4a5b" },
        { "first_name", "Jane" },
        { "last_name", "Doe" },
        { "gender", "female" },
        { "city", "Leeds" },
        { "post_code", "LS1 4AB" },
        { "email", "jane.doe@example.com" },
        { "username", "bluebird42" },
        { "registered_date", "2015-05-23T11:09:36.497Z" },
        { "phone", "017684 12345" },
        { "picture", "https://x/t.jpg" },
    };
    sl_sql_program *program = compile_ok(seed_sql);
    cr_assert_eq(sl_sql_n_columns(program), 11);
    sl_value input = seed_user(), row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row.type, SL_TYPE_OBJECT);
    cr_assert_eq(row.object.n_members, 11);
    for (size_t i = 0; i < 11; i++) {
        const sl_member *m = &row.object.members[i];
        cr_assert_str_eq(sl_sql_column_name(program, i), expected[i][0]);
        cr_assert(sl_str_eq_cstr(m->key, expected[i][0]), "key %zu", i);
        cr_assert_eq(m->value.type, SL_TYPE_STRING, "column %s", expected[i][0]);
        cr_assert(sl_str_eq_cstr(m->value.string, expected[i][1]), "column %s = '%.*s'",
                  expected[i][0], (int)m->value.string.len, m->value.string.ptr);
    }
    sl_sql_free(program);
}

Test(sql, seed_projection_sends_a_bad_uuid_to_an_error_naming_the_column)
{
    sl_sql_program *program = compile_ok(seed_sql);
    sl_value input = seed_user(), row;
    input.object.members[4].value.object.members[0].value = str("oops");
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), SL_ESQL);
    cr_assert_str_eq(err.message, "column 'id': line 1 column 8: invalid uuid 'oops'");
    sl_sql_free(program);
}

Test(sql, folds_constants_at_compile_time)
{
    /* A folded column gives the same value for any input, even a non-object. */
    sl_sql_program *program = compile_ok("SELECT 1 + 2 * 3 AS a, upper('x' || 'y') AS b FROM input");
    sl_value input = sl_value_int(5), row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1);
    cr_assert_eq(row.object.members[0].value.integer, 7);
    cr_assert(sl_str_eq_cstr(row.object.members[1].value.string, "XY"));
    sl_sql_free(program);
}

/* ---- threads ---- */

typedef struct thread_job {
    const sl_sql_program *program;
    int failures;
} thread_job;

static void *evaluate_many(void *arg)
{
    thread_job *job = arg;
    sl_arena *own = sl_arena_new(0);
    for (int i = 0; i < 20000; i++) {
        sl_object_builder builder;
        sl_object_begin(&builder, own, 2);
        sl_object_add(&builder, SL_STR_LIT("n"), sl_value_int(i));
        sl_object_add(&builder, SL_STR_LIT("s"), sl_value_string(SL_STR_LIT("ab")));
        sl_value input = sl_object_end(&builder), row;
        sl_error err = { 0 };
        int rc = sl_sql_eval(job->program, &input, own, &row, &err);
        if (rc != (i % 2 == 0 ? 1 : 0)) job->failures++;
        else if (rc == 1 && (row.object.members[0].value.integer != i * 3 ||
                             row.object.members[1].value.string.len != 36 ||
                             !sl_str_eq_cstr(row.object.members[2].value.string, "AB")))
            job->failures++;
        if (i % 256 == 0) sl_arena_reset(own);
    }
    sl_arena_free(own);
    return NULL;
}

Test(sql, evaluates_one_program_from_two_threads)
{
    sl_sql_program *program =
        compile_ok("SELECT n * 3 AS x, uuid() AS u, upper(s) AS s FROM input WHERE n % 2 = 0");
    thread_job jobs[2] = { { program, 0 }, { program, 0 } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&threads[i], NULL, evaluate_many, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    cr_assert_eq(jobs[0].failures + jobs[1].failures, 0);
    sl_sql_free(program);
}

/* ---- data-driven tests: the .test files in tests/sql/ ----
 *
 * A file holds cases, one directive per line:
 *   # comment                       (also blank lines)
 *   sql: SELECT ...                 a statement; lines that start with a
 *        FROM input                 space or tab continue it, verbatim
 *   compile-error: line 1 ...       the statement must fail to compile so
 *   in: {"a": 1}                    an input record for the last statement
 *   out: {"b": 2}                   ... its output row (compared as JSON text)
 *   filtered                        ... or: WHERE drops it
 *   error: column 'b': ...          ... or: this runtime error, exactly
 * The driver needs the working directory to be the repository root, as for
 * `make test` and scripts/unit-one.sh.
 */
#include <glob.h>

#include "core/buffer.h"
#include "core/json.h"

typedef struct case_runner {
    const char *path;
    int line;                 /* of the directive being checked */
    sl_buffer sql;
    int sql_line;
    bool is_sql_open;         /* still collecting continuation lines */
    sl_sql_program *program;
    bool has_input;
    sl_value input;
    int rc;                   /* of evaluating input */
    sl_value row;
    sl_error err;
    int n_checks;
    int n_failures;
} case_runner;

static void case_fail(case_runner *r, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void case_fail(case_runner *r, const char *format, ...)
{
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    cr_log_error("%s:%d: %s", r->path, r->line, message);
    r->n_failures++;
}

static bool parse_json(case_runner *r, const char *text, sl_value *out)
{
    sl_error err = { 0 };
    char *copy = sl_arena_strndup(arena, text, strlen(text));
    if (sl_json_parse(arena, copy, strlen(copy), out, &err) == SL_OK) return true;
    case_fail(r, "bad JSON in test file: %s", err.message);
    return false;
}

/* Ends a `sql:` block: compiles it (a later compile-error line checks the
 * failure; anything else needs success). */
static void close_sql(case_runner *r, bool is_error_expected, const char *expected_error)
{
    if (!r->is_sql_open) return;
    r->is_sql_open = false;
    sl_sql_free(r->program);
    r->program = NULL;
    r->has_input = false;
    sl_error err = { 0 };
    sl_buffer_append_byte(&r->sql, '\0');
    int rc = sl_sql_compile(r->sql.data, &r->program, &err);
    r->n_checks++;
    if (is_error_expected) {
        if (rc == SL_OK) case_fail(r, "compiled, expected error: %s", expected_error);
        else if (strcmp(err.message, expected_error) != 0)
            case_fail(r, "compile error\n  expected: %s\n  got:      %s", expected_error, err.message);
    } else if (rc != SL_OK) {
        int line = r->line;
        r->line = r->sql_line;
        case_fail(r, "does not compile: %s", err.message);
        r->line = line;
    }
}

static bool need_input(case_runner *r, const char *directive)
{
    if (r->program && r->has_input) return true;
    case_fail(r, "'%s' without a compiled statement and an 'in:' before it", directive);
    return false;
}

static void check_out(case_runner *r, const char *expected_json)
{
    sl_value expected;
    if (!need_input(r, "out") || !parse_json(r, expected_json, &expected)) return;
    r->n_checks++;
    if (r->rc != 1) {
        case_fail(r, "expected a row, got %s", r->rc == 0 ? "filtered" : r->err.message);
        return;
    }
    sl_buffer want = SL_BUFFER_INIT, got = SL_BUFFER_INIT;
    sl_json_write(&want, &expected);
    sl_json_write(&got, &r->row);
    if (want.len != got.len || memcmp(want.data, got.data, want.len) != 0)
        case_fail(r, "row\n  expected: %.*s\n  got:      %.*s", (int)want.len, want.data,
                  (int)got.len, got.data);
    sl_buffer_free(&want);
    sl_buffer_free(&got);
}

static void run_line(case_runner *r, char *line)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (r->is_sql_open && (line[0] == ' ' || line[0] == '\t')) {
        sl_buffer_append_byte(&r->sql, '\n');
        sl_buffer_append(&r->sql, line, len);
        return;
    }
    const char *value = strchr(line, ':');
    value = value ? value + 1 : line + len;
    while (*value == ' ') value++;
    if (strncmp(line, "compile-error:", 14) == 0) {
        if (!r->is_sql_open) case_fail(r, "compile-error without sql:");
        close_sql(r, true, value);
        return;
    }
    close_sql(r, false, NULL);
    if (len == 0 || line[0] == '#') return;
    if (strncmp(line, "sql:", 4) == 0) {
        sl_buffer_clear(&r->sql);
        sl_buffer_append_cstr(&r->sql, value);
        r->sql_line = r->line;
        r->is_sql_open = true;
    } else if (strncmp(line, "in:", 3) == 0) {
        r->has_input = false;
        if (!r->program) {
            case_fail(r, "'in' without a compiled statement");
            return;
        }
        if (!parse_json(r, value, &r->input)) return;
        r->has_input = true;
        sl_error_clear(&r->err);
        r->rc = sl_sql_eval(r->program, &r->input, arena, &r->row, &r->err);
    } else if (strncmp(line, "out:", 4) == 0) {
        check_out(r, value);
    } else if (strcmp(line, "filtered") == 0) {
        if (!need_input(r, "filtered")) return;
        r->n_checks++;
        if (r->rc != 0) case_fail(r, "expected filtered, got %s", r->rc == 1 ? "a row" : r->err.message);
    } else if (strncmp(line, "error:", 6) == 0) {
        if (!need_input(r, "error")) return;
        r->n_checks++;
        if (r->rc >= 0) case_fail(r, "expected error: %s, got %s", value, r->rc ? "a row" : "filtered");
        else if (strcmp(r->err.message, value) != 0)
            case_fail(r, "runtime error\n  expected: %s\n  got:      %s", value, r->err.message);
    } else {
        case_fail(r, "unknown directive: %s", line);
    }
}

static void run_test_file(case_runner *r)
{
    FILE *file = fopen(r->path, "r");
    cr_assert_not_null(file, "cannot open %s", r->path);
    char line[4096];
    r->line = 0;
    while (fgets(line, sizeof line, file)) {
        r->line++;
        run_line(r, line);
    }
    r->line++;
    close_sql(r, false, NULL);
    fclose(file);
    sl_sql_free(r->program);
    r->program = NULL;
    r->has_input = false;
}

Test(sql, passes_every_case_in_the_test_files)
{
    glob_t files;
    cr_assert_eq(glob("tests/sql/*.test", 0, NULL, &files), 0,
                 "no tests/sql/*.test (run from the repository root)");
    case_runner r = { 0 };
    int n_checks = 0, n_failures = 0;
    for (size_t i = 0; i < files.gl_pathc; i++) {
        r.path = files.gl_pathv[i];
        r.n_checks = r.n_failures = 0;
        run_test_file(&r);
        cr_log_info("%s: %d checks, %d failed", r.path, r.n_checks, r.n_failures);
        n_checks += r.n_checks;
        n_failures += r.n_failures;
    }
    sl_buffer_free(&r.sql);
    globfree(&files);
    cr_assert_eq(n_failures, 0, "%d of %d checks failed (see above)", n_failures, n_checks);
    cr_assert_gt(n_checks, 50, "only %d checks found", n_checks);
}

/* ---- input projection ---- */

static const sl_json_projection *child_of(const sl_json_projection *projection, const char *key)
{
    for (size_t i = 0; i < projection->n_keys; i++)
        if (sl_str_eq_cstr(projection->keys[i], key)) return projection->children[i];
    cr_assert_fail("projection has no key '%s'", key);
    return NULL;
}

static bool has_key(const sl_json_projection *projection, const char *key)
{
    for (size_t i = 0; i < projection->n_keys; i++)
        if (sl_str_eq_cstr(projection->keys[i], key)) return true;
    return false;
}

Test(sql, input_projection_names_the_paths_of_columns_and_where)
{
    sl_sql_program *program = NULL;
    sl_error err;
    cr_assert_eq(sl_sql_compile("SELECT uuid(login.uuid) AS id, name.first, gender, location AS l, "
                                "location.city AS city FROM input WHERE dob.age > 30",
                                &program, &err),
                 SL_OK, "%s", err.message);
    const sl_json_projection *projection = sl_sql_input_projection(program);
    cr_assert_not_null(projection);
    cr_assert_eq(projection->n_keys, 5);
    const sl_json_projection *login = child_of(projection, "login");
    cr_assert_not_null(login);
    cr_assert_eq(login->n_keys, 1);
    cr_assert_null(child_of(login, "uuid"), "a path's end is kept whole");
    cr_assert_null(child_of(projection, "gender"));
    cr_assert_null(child_of(projection, "location"), "location is read whole, so city adds nothing");
    cr_assert(has_key(child_of(projection, "dob"), "age"));
    cr_assert_not(has_key(projection, "email"));
    sl_sql_free(program);
}

Test(sql, select_star_reads_the_whole_input)
{
    sl_sql_program *program = NULL;
    sl_error err;
    cr_assert_eq(sl_sql_compile("SELECT * FROM input WHERE a = 1", &program, &err), SL_OK, "%s", err.message);
    cr_assert_null(sl_sql_input_projection(program));
    sl_sql_free(program);
}

/* Found by fuzzing: an empty object (as the JSON reader gives `{}`: no
 * members, a NULL member array) made the path lookup do arithmetic on a
 * NULL pointer. Every path into it is NULL, and WHERE NULL drops the row. */
Test(sql, paths_into_an_empty_object_are_null)
{
    sl_sql_program *program = compile_ok("SELECT id, a.b AS ab FROM input WHERE age IS NULL");
    sl_value empty = { .type = SL_TYPE_OBJECT }, row;
    sl_error err = { 0 };
    cr_assert_null(empty.object.members);
    cr_assert_eq(sl_sql_eval(program, &empty, arena, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row.object.n_members, 2);
    cr_assert_eq(row.object.members[0].value.type, SL_TYPE_NULL);
    cr_assert_eq(row.object.members[1].value.type, SL_TYPE_NULL);
    sl_sql_free(program);

    program = compile_ok("SELECT id FROM input WHERE age");
    cr_assert_eq(sl_sql_eval(program, &empty, arena, &row, &err), 0, "%s", err.message);
    sl_sql_free(program);
}
