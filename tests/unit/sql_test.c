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
#include "sql/interval.h"
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

static void expect_bool(const char *expr, bool expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_BOOL, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert_eq(v.boolean, expected, "%s gave %d", expr, v.boolean);
}

static void expect_str(const char *expr, const char *expected)
{
    sl_value v = eval_expr(expr);
    cr_assert_eq(v.type, SL_TYPE_STRING, "%s gave a %s", expr, sl_type_name(v.type));
    cr_assert(sl_str_eq_cstr(v.string, expected), "%s gave '%.*s', not '%s'", expr,
              (int)v.string.len, v.string.ptr, expected);
}

/* ---- parse errors ---- */

Test(sql, accepts_non_ascii_names)
{
    sl_value input = obj(1, "prénom", str("Zoë"));
    sl_sql_program *program = compile_ok("SELECT prénom, upper(prénom) AS grand FROM input");
    sl_value row;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_eval(program, &input, arena, &row, &err), 1, "%s", err.message);
    cr_assert_str_eq(sl_sql_column_name(program, 0), "prénom");
    cr_assert(sl_str_eq_cstr(row.object.members[0].value.string, "Zoë"));
    cr_assert(sl_str_eq_cstr(row.object.members[1].value.string, "ZOË"));
    sl_sql_free(program);
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
    sl_value t = eval_expr("TIMESTAMP '2024-01-01 00:00:00'");
    cr_assert_eq(t.type, SL_TYPE_TIMESTAMP);
    cr_assert_eq(t.timestamp, 1704067200000000LL);
}

Test(sql, interval_literals_are_folded_to_their_three_fields)
{
    sl_value v = eval_expr("INTERVAL '1-2' YEAR TO MONTH + INTERVAL '3 days 00:00:01.5'");
    cr_assert_eq(v.type, SL_TYPE_INTERVAL);
    cr_assert_eq(v.interval.months, 14);
    cr_assert_eq(v.interval.days, 3);
    cr_assert_eq(v.interval.micros, 1500000);
}

/* What window functions read a constant interval with. */
Test(sql, a_fixed_interval_has_a_length_in_micros_and_one_with_months_has_none)
{
    int64_t micros = 0;
    sl_value ten_seconds = eval_expr("INTERVAL '10' SECOND");
    cr_assert(sl_sql_interval_fixed_micros(&ten_seconds, &micros));
    cr_assert_eq(micros, 10000000);
    sl_value day_and_minute = eval_expr("INTERVAL '1 day 1 minute'");
    cr_assert(sl_sql_interval_fixed_micros(&day_and_minute, &micros));
    cr_assert_eq(micros, 86400000000LL + 60000000);
    sl_value negative = eval_expr("-INTERVAL '1' HOUR");
    cr_assert(sl_sql_interval_fixed_micros(&negative, &micros));
    cr_assert_eq(micros, -3600000000LL);
    sl_value month = eval_expr("INTERVAL '1' MONTH");
    cr_assert_not(sl_sql_interval_fixed_micros(&month, &micros), "a month has no fixed length");
    sl_value too_long = sl_value_interval(0, INT32_MAX, INT64_MAX);
    cr_assert_not(sl_sql_interval_fixed_micros(&too_long, &micros), "past 64 bits of µs");
    sl_value not_interval = sl_value_int(10);
    cr_assert_not(sl_sql_interval_fixed_micros(&not_interval, &micros));
}

/* The one input type JSON cannot carry, so these stay out of tests/sql/. */
Test(sql, compares_and_casts_a_timestamp_column)
{
    expect_bool("\"when\" = TIMESTAMP '2024-01-01T00:00:00Z'", true);
    expect_bool("\"when\" < '2024-01-01 00:00:01'", true);
    expect_bool("\"when\" > TIMESTAMP '2023-12-31 23:59:59.999999'", true);
    expect_str("CAST(\"when\" AS STRING)", "2024-01-01T00:00:00Z");
}

Test(sql, casts_between_types)
{
    sl_value t = eval_expr("CAST('2015-05-23T13:09:36.5+02:00' AS TIMESTAMP)");
    cr_assert_eq(t.type, SL_TYPE_TIMESTAMP);
    cr_assert_eq(t.timestamp, 1432379376500000LL);
    t = eval_expr("'2024-02-29'::timestamp");
    cr_assert_eq(t.timestamp, 1709164800000000LL);
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

/* ---- data-driven tests: the .test files of tests/sql/, and docs/sql.md ----
 *
 * The format is described in tests/sql/README. docs/sql.md holds the same
 * directives inside ```test fences; every function of the table must be
 * used in one of them. The driver needs the working directory to be the
 * repository root, as for `make test` and scripts/run-unit.sh.
 */
#include <ctype.h>
#include <glob.h>

#include "core/buffer.h"
#include "core/json.h"
#include "sql/functions.h"
#include "sql/aggregate.h"
#include "sql/windows.h"

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
    sl_value record;          /* what eval: lines run on ({} until record:) */
    sl_buffer examples;       /* docs/sql.md: the text of its test blocks */
    int n_checks;
    int n_failures;
    /* A grouped statement: its inputs and expected rows, run when it ends. */
    sl_value group_in[256];
    size_t n_group_in;
    sl_buffer group_out;      /* expected rows and dead letters, one per line */
    int group_line;
    int64_t delay_ms, lateness_ms;
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

/* ---- grouped statements: in: lines are fed in order, out: and dead:
 * lines are what must come out, in order, once the input ends ---- */

typedef struct group_run {
    sl_buffer got;
    sl_arena *arena;
} group_run;

static void group_retain(void *context, void *hold) { (void)context; (void)hold; }
static void group_release(void *context, void *hold) { (void)context; (void)hold; }

static int group_emit(void *context, const sl_value *row, sl_error *err)
{
    (void)err;
    group_run *run = context;
    sl_buffer_append_cstr(&run->got, "out: ");
    sl_json_write(&run->got, row);
    return sl_buffer_append_byte(&run->got, '\n');
}

static int group_reject(void *context, const sl_value *group_row, const char *reason, sl_error *err)
{
    (void)err;
    (void)group_row;
    return sl_buffer_printf(&((group_run *)context)->got, "dead: %s\n", reason);
}

static void finish_group(case_runner *r)
{
    if (!r->program || !sl_sql_is_grouped(r->program) || (!r->n_group_in && !r->group_out.len)) return;
    group_run run = { SL_BUFFER_INIT, sl_arena_new(4096) };
    sl_sql_window_hooks hooks = { &run, group_retain, group_release, group_emit, group_reject };
    sl_sql_windows_conf conf = { .allowed_lateness_us = r->lateness_ms * 1000 };
    sl_sql_windows *windows = NULL;
    sl_error err = { 0 };
    r->n_checks++;
    int rc = sl_sql_windows_new(r->program, &conf, &hooks, &windows, &err);
    int64_t max_time = INT64_MIN, watermark = INT64_MIN;
    int hold = 0;
    for (size_t i = 0; rc == SL_OK && i < r->n_group_in; i++) {
        sl_value prepared;
        int is_kept = sl_sql_group_prepare(r->program, &r->group_in[i], run.arena, &prepared, &err);
        if (is_kept < 0) {
            sl_buffer_printf(&run.got, "dead: %s\n", err.message);
            continue;
        }
        if (is_kept == 0) continue;
        int outcome = sl_sql_windows_add(windows, &prepared, &hold, watermark, INT64_MIN, &err);
        if (outcome == SL_SQL_LATE || outcome == SL_ESQL) sl_buffer_printf(&run.got, "dead: %s\n", err.message);
        else if (outcome < 0) rc = outcome;
        int64_t t = sl_sql_prepared_time(&prepared);
        if (outcome == SL_SQL_ADDED && t > max_time) max_time = t;
        if (max_time != INT64_MIN && max_time - r->delay_ms * 1000 > watermark) watermark = max_time - r->delay_ms * 1000;
        if (rc == SL_OK) rc = sl_sql_windows_advance(windows, watermark, run.arena, &err);
    }
    if (rc == SL_OK) rc = sl_sql_windows_advance(windows, INT64_MAX, run.arena, &err);
    int line = r->line;
    r->line = r->group_line;
    if (rc) case_fail(r, "grouped statement failed: %s", err.message);
    else if (run.got.len != r->group_out.len || memcmp(run.got.data, r->group_out.data, run.got.len) != 0)
        case_fail(r, "grouped rows\n  expected:\n%.*s  got:\n%.*s", (int)r->group_out.len, r->group_out.data,
                  (int)run.got.len, run.got.data);
    r->line = line;
    sl_sql_windows_free(windows);
    sl_buffer_free(&run.got);
    sl_arena_free(run.arena);
}

static void reset_group(case_runner *r)
{
    finish_group(r);
    r->n_group_in = 0;
    sl_buffer_clear(&r->group_out);
    r->delay_ms = r->lateness_ms = 0;
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

/* Compares two values as the JSON text they write (so 7 and 7.0 differ). */
static void check_json_equal(case_runner *r, const char *what, const sl_value *expected, const sl_value *got)
{
    sl_buffer want = SL_BUFFER_INIT, have = SL_BUFFER_INIT;
    sl_json_write(&want, expected);
    sl_json_write(&have, got);
    if (want.len != have.len || memcmp(want.data, have.data, want.len) != 0)
        case_fail(r, "%s\n  expected: %.*s\n  got:      %.*s", what, (int)want.len, want.data,
                  (int)have.len, have.data);
    sl_buffer_free(&want);
    sl_buffer_free(&have);
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
    check_json_equal(r, "row", &expected, &r->row);
}

/* `eval: EXPR => RESULT`: SELECT EXPR AS v FROM input on the record; RESULT
 * is v as JSON, `error: MESSAGE` for the exact runtime error, or
 * `compile-error: MESSAGE` when the statement must not compile (a constant
 * that fails, as `CAST('abc' AS INT)`). */
static void check_eval(case_runner *r, const char *text)
{
    const char *arrow = strstr(text, " => ");
    if (!arrow) {
        case_fail(r, "eval: needs 'EXPR => RESULT'");
        return;
    }
    const char *expected = arrow + 4;
    char sql[4096];
    snprintf(sql, sizeof sql, "SELECT %.*s AS v FROM input", (int)(arrow - text), text);
    sl_sql_program *program = NULL;
    sl_error err = { 0 };
    r->n_checks++;
    bool is_compile_error = strncmp(expected, "compile-error: ", 15) == 0;
    if (sl_sql_compile(sql, &program, &err) != SL_OK) {
        if (!is_compile_error)
            case_fail(r, "%.*s does not compile: %s", (int)(arrow - text), text, err.message);
        else if (strcmp(err.message, expected + 15) != 0)
            case_fail(r, "compile error\n  expected: %s\n  got:      %s", expected + 15, err.message);
        return;
    }
    if (is_compile_error) {
        case_fail(r, "%.*s compiles; expected compile-error: %s", (int)(arrow - text), text, expected + 15);
        sl_sql_free(program);
        return;
    }
    sl_value row;
    int rc = sl_sql_eval(program, &r->record, arena, &row, &err);
    if (strncmp(expected, "error: ", 7) == 0) {
        if (rc >= 0) case_fail(r, "%.*s: expected error: %s, got a value", (int)(arrow - text), text, expected + 7);
        else if (strcmp(err.message, expected + 7) != 0)
            case_fail(r, "runtime error\n  expected: %s\n  got:      %s", expected + 7, err.message);
    } else if (rc != 1) {
        case_fail(r, "%.*s: expected %s, got %s", (int)(arrow - text), text, expected,
                  rc == 0 ? "filtered" : err.message);
    } else {
        sl_value want;
        if (parse_json(r, expected, &want)) check_json_equal(r, text, &want, &row.object.members[0].value);
    }
    sl_sql_free(program);
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
        reset_group(r);
        sl_buffer_clear(&r->sql);
        sl_buffer_append_cstr(&r->sql, value);
        r->sql_line = r->line;
        r->is_sql_open = true;
    } else if (r->program && sl_sql_is_grouped(r->program) && strncmp(line, "in:", 3) == 0) {
        if (r->n_group_in == sizeof r->group_in / sizeof r->group_in[0]) {
            case_fail(r, "too many in: lines for one grouped statement");
            return;
        }
        if (!r->n_group_in && !r->group_out.len) r->group_line = r->line;
        if (parse_json(r, value, &r->group_in[r->n_group_in])) r->n_group_in++;
    } else if (r->program && sl_sql_is_grouped(r->program) &&
               (strncmp(line, "out:", 4) == 0 || strncmp(line, "dead:", 5) == 0)) {
        if (!r->n_group_in && !r->group_out.len) r->group_line = r->line;
        if (line[0] == 'o') {
            sl_value row;
            if (!parse_json(r, value, &row)) return;
            sl_buffer_append_cstr(&r->group_out, "out: ");
            sl_json_write(&r->group_out, &row);
            sl_buffer_append_byte(&r->group_out, '\n');
        } else {
            sl_buffer_printf(&r->group_out, "dead: %s\n", value);
        }
    } else if (strncmp(line, "delay:", 6) == 0) {
        r->delay_ms = strtoll(value, NULL, 10);
    } else if (strncmp(line, "lateness:", 9) == 0) {
        r->lateness_ms = strtoll(value, NULL, 10);
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
    } else if (strncmp(line, "record:", 7) == 0) {
        if (!parse_json(r, value, &r->record)) r->record = (sl_value){ .type = SL_TYPE_OBJECT };
    } else if (strncmp(line, "eval:", 5) == 0) {
        check_eval(r, value);
    } else {
        case_fail(r, "unknown directive: %s", line);
    }
}

/* Runs a .test file, or the ```test blocks of a Markdown file. */
static void run_test_file(case_runner *r)
{
    FILE *file = fopen(r->path, "r");
    cr_assert_not_null(file, "cannot open %s", r->path);
    size_t path_len = strlen(r->path);
    bool is_markdown = path_len > 3 && strcmp(r->path + path_len - 3, ".md") == 0;
    bool in_block = !is_markdown;
    char line[4096];
    r->line = 0;
    r->record = (sl_value){ .type = SL_TYPE_OBJECT };
    while (fgets(line, sizeof line, file)) {
        r->line++;
        if (is_markdown && strncmp(line, "```", 3) == 0) {
            if (!in_block && strncmp(line, "```test", 7) != 0) continue;
            close_sql(r, false, NULL);
            reset_group(r);
            in_block = !in_block;
            continue;
        }
        if (!in_block) continue;
        if (is_markdown) sl_buffer_append_cstr(&r->examples, line);
        run_line(r, line);
    }
    r->line++;
    close_sql(r, false, NULL);
    reset_group(r);
    if (is_markdown && in_block) case_fail(r, "```test block not closed");
    fclose(file);
    sl_sql_free(r->program);
    r->program = NULL;
    r->has_input = false;
}

static int run_files(case_runner *r, const char *pattern, int *n_checks)
{
    glob_t files;
    cr_assert_eq(glob(pattern, 0, NULL, &files), 0, "no %s (run from the repository root)", pattern);
    int n_failures = 0;
    for (size_t i = 0; i < files.gl_pathc; i++) {
        r->path = files.gl_pathv[i];
        r->n_checks = r->n_failures = 0;
        run_test_file(r);
        cr_log_info("%s: %d checks, %d failed", r->path, r->n_checks, r->n_failures);
        *n_checks += r->n_checks;
        n_failures += r->n_failures;
    }
    globfree(&files);
    return n_failures;
}

Test(sql, passes_every_case_in_the_test_files)
{
    case_runner r = { 0 };
    int n_checks = 0;
    int n_failures = run_files(&r, "tests/sql/*.test", &n_checks);
    sl_buffer_free(&r.sql);
    sl_buffer_free(&r.examples);
    sl_buffer_free(&r.group_out);
    cr_assert_eq(n_failures, 0, "%d of %d checks failed (see above)", n_failures, n_checks);
    cr_assert_gt(n_checks, 300, "only %d checks found", n_checks);
}

/* True when text uses name( in any case. */
static bool uses_function(const sl_buffer *text, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + n < text->len; i++) {
        if ((i > 0 && (isalnum((unsigned char)text->data[i - 1]) || text->data[i - 1] == '_')) ||
            strncasecmp(text->data + i, name, n) != 0)
            continue;
        size_t k = i + n;
        while (k < text->len && text->data[k] == ' ') k++;
        if (k < text->len && text->data[k] == '(') return true;
    }
    return false;
}

Test(sql, every_example_in_the_reference_runs_and_every_function_has_one)
{
    case_runner r = { 0 };
    int n_checks = 0;
    int n_failures = run_files(&r, "docs/sql.md", &n_checks);
    cr_assert_eq(n_failures, 0, "%d of %d examples in docs/sql.md failed (see above)", n_failures, n_checks);
    cr_assert_gt(n_checks, 40, "only %d examples in docs/sql.md", n_checks);
    for (size_t i = 0; sl_sql_function_at(i); i++) {
        const char *name = sl_sql_function_at(i)->name;
        cr_expect(uses_function(&r.examples, name), "docs/sql.md has no example of %s()", name);
    }
    for (size_t i = 0; sl_sql_aggregate_at(i); i++) {
        const char *name = sl_sql_aggregate_at(i)->name;
        cr_expect(uses_function(&r.examples, name), "docs/sql.md has no example of the aggregate %s()", name);
    }
    sl_buffer_free(&r.sql);
    sl_buffer_free(&r.examples);
    sl_buffer_free(&r.group_out);
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
