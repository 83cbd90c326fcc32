/* sql_eval_check.c — evaluates SQL expressions with sluice's engine
 * (src/sql) for tests/e2e/test_sql_differential.py, which asks PostgreSQL
 * the same and compares.
 *
 *   sql_eval_check ROWS.jsonl < EXPRESSIONS > RESULTS.jsonl
 *
 * Each line of EXPRESSIONS is an expression; it is compiled as
 * `SELECT <expression> AS v FROM input` and evaluated on every row of
 * ROWS.jsonl (one JSON object a line). Each result line is
 * {"compile_error": "..."} or {"results": [{"v": VALUE} or {"error": "..."},
 * one per row]}. Exit 0, or 2 when an input cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/json.h"
#include "sql/sql.h"

#define MAX_ROWS 1000

static int read_rows(const char *path, sl_arena *arena, sl_value *rows, size_t *n_rows)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        perror(path);
        return 2;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t len;
    *n_rows = 0;
    while ((len = getline(&line, &capacity, in)) > 0 && *n_rows < MAX_ROWS) {
        sl_error err;
        sl_error_clear(&err);
        /* The parsed row points into its text: each line keeps its own copy. */
        char *text = sl_arena_strndup(arena, line, (size_t)len);
        if (!text || sl_json_parse(arena, text, (size_t)len, &rows[*n_rows], &err)) {
            fprintf(stderr, "%s: row %zu: %s\n", path, *n_rows + 1, err.message);
            free(line);
            fclose(in);
            return 2;
        }
        (*n_rows)++;
    }
    free(line);
    fclose(in);
    return 0;
}

static void print_error(sl_buffer *out, const char *key, const char *message)
{
    sl_buffer_printf(out, "{\"%s\":", key);
    sl_json_write_string(out, message, strlen(message));
    sl_buffer_append_byte(out, '}');
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sql_eval_check ROWS.jsonl < EXPRESSIONS\n");
        return 64;
    }
    sl_arena *rows_arena = sl_arena_new(0), *arena = sl_arena_new(0);
    sl_value *rows = calloc(MAX_ROWS, sizeof *rows);
    size_t n_rows = 0;
    if (!rows_arena || !arena || !rows) return 2;
    int code = read_rows(argv[1], rows_arena, rows, &n_rows);
    char *line = NULL;
    size_t capacity = 0;
    ssize_t len;
    sl_buffer out = { 0 }, sql = { 0 };
    while (code == 0 && (len = getline(&line, &capacity, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        sl_buffer_clear(&sql);
        sl_buffer_clear(&out);
        sl_buffer_printf(&sql, "SELECT %s AS v FROM input", line);
        sl_buffer_append_byte(&sql, '\0');
        sl_sql_program *program = NULL;
        sl_error err;
        sl_error_clear(&err);
        if (sl_sql_compile(sql.data, &program, &err)) {
            print_error(&out, "compile_error", err.message);
        } else {
            sl_buffer_append_cstr(&out, "{\"results\":[");
            for (size_t r = 0; r < n_rows; r++) {
                if (r) sl_buffer_append_byte(&out, ',');
                sl_value row;
                sl_error_clear(&err);
                int rc = sl_sql_eval(program, &rows[r], arena, &row, &err);
                if (rc < 0) {
                    print_error(&out, "error", err.message);
                } else {
                    sl_buffer_append_cstr(&out, "{\"v\":");
                    sl_json_write(&out, &row.object.members[0].value);
                    sl_buffer_append_byte(&out, '}');
                }
                sl_arena_reset(arena);
            }
            sl_buffer_append_cstr(&out, "]}");
        }
        sl_sql_free(program);
        sl_buffer_append_byte(&out, '\n');
        fwrite(out.data, 1, out.len, stdout);
    }
    free(line);
    sl_buffer_free(&out);
    sl_buffer_free(&sql);
    free(rows);
    sl_arena_free(arena);
    sl_arena_free(rows_arena);
    return code;
}
