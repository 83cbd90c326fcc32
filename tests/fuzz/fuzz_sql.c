/* fuzz_sql.c — libFuzzer target for the SQL engine: lexer, parser,
 * compiler (sql/compile.c) and evaluator (sql/eval.c, functions, casts).
 *
 * Input: SQL text, then optionally a NUL byte and JSON records separated by
 * NUL bytes. The SQL is compiled; when it compiles, it is evaluated against
 * each JSON record that parses (read through the program's projection, as
 * the runtime does), and always against a fixed sample record and an empty
 * object. Errors are fine; crashes, sanitizer reports and rows that are not
 * objects of the program's column count (or, for SELECT *, not the input)
 * are findings. A grouped statement (GROUP BY, aggregates, windows) is run
 * as the aggregator runs it: each record prepared and added to the
 * windows, the watermark moved to it, then everything fired at the end;
 * every row fired must be an object of the column count.
 */
#include "fuzz_util.h"

#include "core/arena.h"
#include "core/json.h"
#include "sql/sql.h"
#include "sql/windows.h"

static const char sample_json[] =
    "{\"id\":7,\"age\":41,\"name\":{\"first\":\"Ann\",\"last\":\"Lee\"},\"email\":\"Ann@Example.com\","
    "\"score\":2.5,\"ok\":true,\"none\":null,\"tags\":[\"a\",\"b\",3],\"when\":\"2024-01-01T00:00:00Z\","
    "\"login\":{\"uuid\":\"0d6c3f4e-6a3b-4a0e-9a57-8c1f1c7c2c11\"},\"text\":\"ÉtÉ ß\"}";

static void eval_one(const sl_sql_program *program, const sl_value *input, sl_arena *arena)
{
    sl_value row;
    sl_error err;
    int rc = sl_sql_eval(program, input, arena, &row, &err);
    fuzz_check(rc == 0 || rc == 1 || rc < 0, "eval returned an unknown code");
    if (rc != 1) return;
    size_t n_columns = sl_sql_n_columns(program);
    if (n_columns == 0) { /* SELECT *: the input itself, whatever it is (sinks check) */
        fuzz_check(row.type == input->type, "SELECT * changed the record");
        return;
    }
    fuzz_check(row.type == SL_TYPE_OBJECT, "a row that is not an object");
    fuzz_check(row.object.n_members == n_columns, "a row of the wrong width");
}

typedef struct grouped_run {
    const sl_sql_program *program;
    sl_sql_windows *windows;
    int64_t watermark;
    int hold;
} grouped_run;

static void no_hold(void *context, void *hold)
{
    (void)context;
    (void)hold;
}

static int check_row(void *context, const sl_value *row, sl_error *err)
{
    (void)err;
    const grouped_run *run = context;
    fuzz_check(row->type == SL_TYPE_OBJECT, "a grouped row that is not an object");
    fuzz_check(row->object.n_members == sl_sql_n_columns(run->program), "a grouped row of the wrong width");
    return SL_OK;
}

static int check_reject(void *context, const sl_value *group_row, const char *reason, sl_error *err)
{
    (void)context;
    (void)err;
    fuzz_check(group_row->type == SL_TYPE_ARRAY && reason && reason[0], "a group rejected without a reason");
    return SL_OK;
}

static void add_grouped(grouped_run *run, const sl_value *input, sl_arena *arena)
{
    sl_value prepared;
    sl_error err;
    int rc = sl_sql_group_prepare(run->program, input, arena, &prepared, &err);
    if (rc != 1) return;
    rc = sl_sql_windows_add(run->windows, &prepared, &run->hold, run->watermark, INT64_MIN, &err);
    fuzz_check(rc == SL_SQL_ADDED || rc == SL_SQL_LATE || rc == SL_ESQL || rc == SL_ETOOBIG, "add returned an unknown outcome");
    int64_t t = sl_sql_prepared_time(&prepared);
    if (rc == SL_SQL_ADDED && t > run->watermark) run->watermark = t;
    fuzz_check(sl_sql_windows_advance(run->windows, run->watermark, arena, &err) == SL_OK, "advance failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t sql_len = nul ? (size_t)(nul - data) : size;
    char *sql = malloc(sql_len + 1);
    sl_arena *arena = sl_arena_new(0);
    sl_sql_program *program = NULL;
    sl_error err;
    fuzz_check(sql && arena, "out of memory");
    memcpy(sql, data, sql_len);
    sql[sql_len] = '\0';
    if (sl_sql_compile(sql, &program, &err) == SL_OK) {
        const sl_json_projection *projection = sl_sql_input_projection(program);
        sl_value input, empty = { .type = SL_TYPE_OBJECT };
        bool is_grouped = sl_sql_is_grouped(program);
        grouped_run run = { program, NULL, INT64_MIN, 0 };
        if (is_grouped) {
            sl_sql_window_hooks hooks = { &run, no_hold, no_hold, check_row, check_reject };
            sl_sql_windows_conf conf = { .allowed_lateness_us = 1000000, .max_bytes = 16u << 20 };
            fuzz_check(sl_sql_windows_new(program, &conf, &hooks, &run.windows, &err) == SL_OK, "windows_new failed");
        }
        fuzz_check(sl_json_parse(arena, sample_json, sizeof sample_json - 1, &input, &err) == SL_OK,
                   "the sample record does not parse");
        if (is_grouped) {
            add_grouped(&run, &input, arena);
            add_grouped(&run, &empty, arena);
        } else {
            eval_one(program, &input, arena);
            eval_one(program, &empty, arena);
        }
        size_t at = sql_len;
        while (at < size) {
            const char *record = (const char *)data + at + 1;
            const uint8_t *next = memchr(record, 0, size - at - 1);
            size_t len = next ? (size_t)(next - (const uint8_t *)record) : size - at - 1;
            if (sl_json_parse_projected(arena, record, len, projection, &input, &err) == SL_OK) {
                if (is_grouped) add_grouped(&run, &input, arena);
                else eval_one(program, &input, arena);
            }
            at += 1 + len;
        }
        if (is_grouped) {
            fuzz_check(sl_sql_windows_advance(run.windows, INT64_MAX, arena, &err) == SL_OK, "final advance failed");
            sl_sql_windows_free(run.windows);
        }
        sl_sql_free(program);
    }
    sl_arena_free(arena);
    free(sql);
    return 0;
}
