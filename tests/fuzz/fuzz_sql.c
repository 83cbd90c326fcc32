/* fuzz_sql.c — libFuzzer target for the SQL engine: lexer, parser,
 * compiler (sql/compile.c) and evaluator (sql/eval.c, functions, casts).
 *
 * Input: SQL text, then optionally a NUL byte and JSON records separated by
 * NUL bytes. The SQL is compiled; when it compiles, it is evaluated against
 * each JSON record that parses (read through the program's projection, as
 * the runtime does), and always against a fixed sample record and an empty
 * object. Errors are fine; crashes, sanitizer reports and rows that are not
 * objects of the program's column count (or, for SELECT *, not the input)
 * are findings.
 */
#include "fuzz_util.h"

#include "core/arena.h"
#include "core/json.h"
#include "sql/sql.h"

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
        fuzz_check(sl_json_parse(arena, sample_json, sizeof sample_json - 1, &input, &err) == SL_OK,
                   "the sample record does not parse");
        eval_one(program, &input, arena);
        eval_one(program, &empty, arena);
        size_t at = sql_len;
        while (at < size) {
            const char *record = (const char *)data + at + 1;
            const uint8_t *next = memchr(record, 0, size - at - 1);
            size_t len = next ? (size_t)(next - (const uint8_t *)record) : size - at - 1;
            if (sl_json_parse_projected(arena, record, len, projection, &input, &err) == SL_OK)
                eval_one(program, &input, arena);
            at += 1 + len;
        }
        sl_sql_free(program);
    }
    sl_arena_free(arena);
    free(sql);
    return 0;
}
