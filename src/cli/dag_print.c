/* dag_print.c — the human output of `sluice dag` (see dag_print.h): a small
 * table that sizes its columns to their widest cell, and one printer per
 * verb reading the fields docs/api.md describes. A missing or null field
 * prints as "-". */
#include "cli/dag_print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define CELL_MAX 512
#define COLUMNS_MAX 8

/* ---- fields ---- */

/* The field as text into buf: strings as they are, numbers, yes/no, "-"
 * for null or missing. */
static const char *text_of(const sl_value *object, const char *key, char *buf, size_t size)
{
    const sl_value *value = sl_value_get(object, sl_str_from(key));
    if (!value) return "-";
    switch (value->type) {
    case SL_TYPE_STRING: snprintf(buf, size, "%.*s", (int)value->string.len, value->string.ptr); break;
    case SL_TYPE_INT: snprintf(buf, size, "%" PRId64, value->integer); break;
    case SL_TYPE_DOUBLE: snprintf(buf, size, "%.3f", value->number); break;
    case SL_TYPE_BOOL: snprintf(buf, size, "%s", value->boolean ? "yes" : "no"); break;
    default: snprintf(buf, size, "-"); break;
    }
    return buf;
}

static const sl_value *array_of(const sl_value *object, const char *key)
{
    const sl_value *value = sl_value_get(object, sl_str_from(key));
    return value && value->type == SL_TYPE_ARRAY ? value : NULL;
}

/* ---- a table ---- */

typedef struct table {
    size_t n_columns;
    char **cells;                /* row-major */
    size_t n_rows, capacity;
    int rc;
} table;

static void table_row(table *t, const char *const *cells)
{
    if (t->rc) return;
    if (t->n_rows == t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 16;
        char **grown = realloc(t->cells, capacity * t->n_columns * sizeof *grown);
        if (!grown) {
            t->rc = SL_ENOMEM;
            return;
        }
        t->cells = grown;
        t->capacity = capacity;
    }
    for (size_t c = 0; c < t->n_columns; c++) {
        char *copy = strdup(cells[c] ? cells[c] : "-");
        if (!copy) t->rc = SL_ENOMEM;
        t->cells[t->n_rows * t->n_columns + c] = copy;
    }
    t->n_rows++;
}

/* Prints the rows, each column as wide as its widest cell, indented; frees the table. */
static int table_print(table *t, FILE *out, const char *indent)
{
    size_t widths[COLUMNS_MAX] = { 0 };
    for (size_t r = 0; !t->rc && r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_columns; c++) {
            const char *cell = t->cells[r * t->n_columns + c];
            size_t len = cell ? strlen(cell) : 0;
            if (len > widths[c]) widths[c] = len;
        }
    for (size_t r = 0; !t->rc && r < t->n_rows; r++) {
        fputs(indent, out);
        for (size_t c = 0; c < t->n_columns; c++) {
            const char *cell = t->cells[r * t->n_columns + c];
            if (c + 1 == t->n_columns) fprintf(out, "%s\n", cell);
            else fprintf(out, "%-*s  ", (int)widths[c], cell);
        }
    }
    for (size_t i = 0; i < t->n_rows * t->n_columns; i++) free(t->cells[i]);
    free(t->cells);
    return t->rc;
}

/* ---- runs ---- */

static void run_header(table *t)
{
    static const char *const header[] = { "RUN_ID", "TYPE", "STATE", "LOGICAL_DATE", "START", "END" };
    *t = (table){ .n_columns = 6 };
    table_row(t, header);
}

static void run_row(table *t, const sl_value *run)
{
    static const char *const keys[] = { "run_id", "run_type", "state", "logical_date", "start_date", "end_date" };
    char buffers[6][CELL_MAX];
    const char *cells[6];
    for (int c = 0; c < 6; c++) cells[c] = text_of(run, keys[c], buffers[c], CELL_MAX);
    table_row(t, cells);
}

/* ---- the printers ---- */

int sl_dag_print_list(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    static const char *const header[] = { "DAG_ID", "SCHEDULE", "PAUSED", "TASKS", "NEXT_INTERVAL_START" };
    table t = { .n_columns = 5 };
    table_row(&t, header);
    for (size_t p = 0; p < n_pages; p++) {
        const sl_value *dags = array_of(&pages[p], "dags");
        for (size_t i = 0; dags && i < dags->array.n_items; i++) {
            const sl_value *dag = &dags->array.items[i];
            char b[5][CELL_MAX];
            const sl_value *next = sl_value_get(dag, SL_STR_LIT("next_dagrun_data_interval"));
            const char *cells[5] = { text_of(dag, "dag_id", b[0], CELL_MAX), text_of(dag, "schedule", b[1], CELL_MAX),
                                     text_of(dag, "is_paused", b[2], CELL_MAX),
                                     text_of(dag, "task_count", b[3], CELL_MAX),
                                     next && next->type == SL_TYPE_OBJECT ? text_of(next, "start", b[4], CELL_MAX)
                                                                          : "-" };
            table_row(&t, cells);
        }
    }
    return table_print(&t, out, "");
}

int sl_dag_print_show(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    const sl_value *dag = &pages[0];
    static const char *const fields[][2] = {
        { "dag_id", "dag" },           { "description", "description" }, { "schedule", "schedule" },
        { "timezone", "timezone" },    { "is_paused", "paused" },        { "catchup", "catchup" },
        { "max_active_runs", "max active runs" }, { "task_count", "tasks" },
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        char buf[CELL_MAX];
        fprintf(out, "%-16s %s\n", fields[f][1], text_of(dag, fields[f][0], buf, sizeof buf));
    }
    const sl_value *next = sl_value_get(dag, SL_STR_LIT("next_dagrun_data_interval"));
    if (next && next->type == SL_TYPE_OBJECT) {
        char start[CELL_MAX], end[CELL_MAX];
        fprintf(out, "%-16s [%s, %s)\n", "next interval", text_of(next, "start", start, sizeof start),
                text_of(next, "end", end, sizeof end));
    } else {
        fprintf(out, "%-16s -\n", "next interval");
    }
    static const char *const task_header[] = { "TASK", "KIND", "DEPENDS_ON", "TRIGGER_RULE", "RETRIES", "TIMEOUT_S" };
    table t = { .n_columns = 6 };
    table_row(&t, task_header);
    const sl_value *tasks = array_of(dag, "tasks");
    for (size_t i = 0; tasks && i < tasks->array.n_items; i++) {
        const sl_value *task = &tasks->array.items[i];
        char b[6][CELL_MAX], depends[CELL_MAX] = "";
        const sl_value *upstream = array_of(task, "depends_on");
        size_t used = 0;
        for (size_t u = 0; upstream && u < upstream->array.n_items && used < sizeof depends; u++) {
            const sl_value *name = &upstream->array.items[u];
            if (name->type == SL_TYPE_STRING)
                used += (size_t)snprintf(depends + used, sizeof depends - used, "%s%.*s", u ? "," : "",
                                         (int)name->string.len, name->string.ptr);
        }
        const char *cells[6] = { text_of(task, "task_id", b[0], CELL_MAX), text_of(task, "kind", b[1], CELL_MAX),
                                 used ? depends : "-", text_of(task, "trigger_rule", b[3], CELL_MAX),
                                 text_of(task, "retries", b[4], CELL_MAX), text_of(task, "timeout_s", b[5], CELL_MAX) };
        table_row(&t, cells);
    }
    fprintf(out, "\ntasks:\n");
    int rc = table_print(&t, out, "  ");
    const sl_value *runs = array_of(dag, "recent_runs");
    fprintf(out, "\nrecent runs:%s\n", runs && runs->array.n_items ? "" : " none");
    if (rc || !runs || !runs->array.n_items) return rc;
    run_header(&t);
    for (size_t i = 0; i < runs->array.n_items; i++) run_row(&t, &runs->array.items[i]);
    return table_print(&t, out, "  ");
}

int sl_dag_print_triggered(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    char dag[CELL_MAX], run[CELL_MAX], state[CELL_MAX], date[CELL_MAX];
    fprintf(out, "dag %s: run %s %s (logical date %s)\n", text_of(&pages[0], "dag_id", dag, sizeof dag),
            text_of(&pages[0], "run_id", run, sizeof run), text_of(&pages[0], "state", state, sizeof state),
            text_of(&pages[0], "logical_date", date, sizeof date));
    return SL_OK;
}

int sl_dag_print_paused(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)n_pages;
    char dag[CELL_MAX];
    const sl_value *paused = sl_value_get(&pages[0], SL_STR_LIT("is_paused"));
    bool is_paused = paused && paused->type == SL_TYPE_BOOL && paused->boolean;
    fprintf(out, "dag %s: %s%s\n", text_of(&pages[0], "dag_id", dag, sizeof dag), is_paused ? "paused" : "unpaused",
            is_paused ? " (no new runs start until it is unpaused)" : "");
    (void)args;
    return SL_OK;
}

int sl_dag_print_runs(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    table t;
    run_header(&t);
    const sl_value *runs = array_of(&pages[0], "dag_runs");
    for (size_t i = 0; runs && i < runs->array.n_items; i++) run_row(&t, &runs->array.items[i]);
    int rc = table_print(&t, out, "");
    const sl_value *next = sl_value_get(&pages[0], SL_STR_LIT("next_cursor"));
    if (next && next->type == SL_TYPE_STRING)
        fprintf(stderr, "sluice dag runs: older runs are not shown (--limit N shows up to 1000)\n");
    return rc;
}

int sl_dag_print_tasks(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    const sl_value *run = &pages[0];
    char id[CELL_MAX], state[CELL_MAX], date[CELL_MAX];
    fprintf(out, "run %s: %s (logical date %s)\n", text_of(run, "run_id", id, sizeof id),
            text_of(run, "state", state, sizeof state), text_of(run, "logical_date", date, sizeof date));
    static const char *const header[] = { "TASK", "TRY", "STATE", "START", "END", "DURATION_S", "EXIT" };
    static const char *const keys[] = { "task_id", "try_number", "state", "start_date", "end_date", "duration_s",
                                        "exit_status" };
    table t = { .n_columns = 7 };
    table_row(&t, header);
    const sl_value *tries = array_of(run, "task_instances");
    for (size_t i = 0; tries && i < tries->array.n_items; i++) {
        char b[7][CELL_MAX], try_text[CELL_MAX * 2 + 2];
        const char *cells[7];
        for (int c = 0; c < 7; c++) cells[c] = text_of(&tries->array.items[i], keys[c], b[c], CELL_MAX);
        char max[CELL_MAX];
        snprintf(try_text, sizeof try_text, "%s/%s", cells[1], text_of(&tries->array.items[i], "max_tries", max,
                                                                         sizeof max));
        cells[1] = try_text;
        table_row(&t, cells);
    }
    return table_print(&t, out, "");
}

int sl_dag_print_cleared(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    char run[CELL_MAX], state[CELL_MAX];
    const sl_value *cleared = array_of(&pages[0], "cleared");
    text_of(&pages[0], "run_id", run, sizeof run);
    if (!cleared || cleared->array.n_items == 0) {
        fprintf(out, "run %s: nothing to clear (no task asked for has finished%s); the run stays %s\n", run,
                args->is_all ? "" : " as failed, upstream_failed or skipped: --all clears successes too",
                text_of(&pages[0], "state", state, sizeof state));
        return SL_OK;
    }
    fprintf(out, "run %s: cleared", run);
    for (size_t i = 0; i < cleared->array.n_items; i++) {
        const sl_value *name = &cleared->array.items[i];
        if (name->type == SL_TYPE_STRING)
            fprintf(out, "%s %.*s", i ? "," : "", (int)name->string.len, name->string.ptr);
    }
    fprintf(out, "; the run is %s and runs them again\n", text_of(&pages[0], "state", state, sizeof state));
    return SL_OK;
}

int sl_dag_print_marked(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)n_pages;
    char run[CELL_MAX], state[CELL_MAX];
    text_of(&pages[0], "run_id", run, sizeof run);
    const sl_value *lists[] = { array_of(&pages[0], "marked"), array_of(&pages[0], "cleared") };
    static const char *const verbs[] = { "marked", "cleared to run again" };
    fprintf(out, "run %s:", run);
    for (size_t l = 0; l < 2; l++) {
        if (!lists[l] || lists[l]->array.n_items == 0) continue;
        fprintf(out, "%s%s", l ? "; " : " ", verbs[l]);
        for (size_t i = 0; i < lists[l]->array.n_items; i++) {
            const sl_value *name = &lists[l]->array.items[i];
            if (name->type == SL_TYPE_STRING)
                fprintf(out, "%s %.*s", i ? "," : "", (int)name->string.len, name->string.ptr);
        }
    }
    if (!lists[0] || lists[0]->array.n_items == 0) fprintf(out, " nothing to mark (already %s)", args->state);
    fprintf(out, "; the run is %s\n", text_of(&pages[0], "state", state, sizeof state));
    return SL_OK;
}

int sl_dag_print_backfill(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out)
{
    (void)args;
    (void)n_pages;
    char dag[CELL_MAX];
    const sl_value *made = array_of(&pages[0], "run_ids"), *existing = array_of(&pages[0], "existing");
    size_t n_made = made ? made->array.n_items : 0, n_existing = existing ? existing->array.n_items : 0;
    fprintf(out, "dag %s: %zu backfill run%s created, %zu interval%s had a run already\n",
            text_of(&pages[0], "dag_id", dag, sizeof dag), n_made, n_made == 1 ? "" : "s", n_existing,
            n_existing == 1 ? "" : "s");
    for (size_t i = 0; i < n_made; i++) {
        const sl_value *id = &made->array.items[i];
        if (id->type == SL_TYPE_STRING) fprintf(out, "  %.*s\n", (int)id->string.len, id->string.ptr);
    }
    return SL_OK;
}
