/* cmd_dag.c — `sluice dag VERB ...`, Airflow's `airflow dags`/`tasks` for
 * the scheduler of `sluice server`: the verb table (name, operands, whether
 * it reads or changes, the request it makes, what it calls with no server,
 * how its answer is printed, its help line), the usage printed from it,
 * and the dispatch that reads it. Options are dag_options.c's table.
 *
 * The server is found through DATA_DIR/server.json (written by the server
 * while it runs: {pid, url, file}), DATA_DIR being --data-dir (default
 * ./data) or --config FILE's data_dir, or given as --server URL. Verbs
 * talk to it over HTTP (dag_client.c) and print its JSON as tables
 * (dag_print.c), or as it is with --json. With no server, the reading
 * verbs answer from the metadata store themselves (the same code the
 * server runs, server/dag_api.h), saying so on stderr; the changing ones
 * need the server, whose scheduler acts on them. `dag test` runs a DAG in
 * the foreground without any server (cmd_dag_test.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmd_dag_test.h"
#include "cli/commands.h"
#include "cli/dag_args.h"
#include "cli/dag_client.h"
#include "cli/dag_options.h"
#include "cli/dag_print.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/json.h"
#include "runtime/plan.h"
#include "scheduler/dag.h"
#include "server/dags/dag_api.h"
#include "server/dags/dag_json.h"

#define URL_MAX 1024
/* Pages a list reads at most (1000 DAGs each). */
#define PAGES_MAX 100

typedef enum verb_kind {
    READS,       /* from the server, or the store when none runs */
    CHANGES,     /* through the server only */
    LOCAL,       /* dag test: no server at all */
} verb_kind;

/* A request: method, path with its query, and a JSON body (len 0: none). */
typedef struct dag_request {
    const char *method;
    sl_buffer path;
    sl_buffer body;
} dag_request;

typedef struct dag_verb {
    const char *name;
    const char *operands;
    size_t n_operands;
    verb_kind kind;
    int (*build)(const sl_dag_args *args, const char *cursor, dag_request *request);
    void (*offline)(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out);
    sl_dag_printer print;        /* NULL: the answer is text, printed as it is */
    const char *help;
} dag_verb;

/* ---- requests ---- */

/* "/api/v1/dags/DAG" + the escaped words after it, "/runs/RUN"... */
static int dag_path(dag_request *request, const sl_dag_args *args, const char *tail)
{
    int rc = sl_buffer_append_cstr(&request->path, "/api/v1/dags/");
    if (rc == SL_OK) rc = sl_dag_client_escape(&request->path, args->words[0]);
    if (rc == SL_OK && tail) rc = sl_buffer_append_cstr(&request->path, tail);
    return rc;
}

static int add_query(dag_request *request, const char *name, const char *value)
{
    if (!value) return SL_OK;
    bool has_query = request->path.len && memchr(request->path.data, '?', request->path.len);
    int rc = sl_buffer_printf(&request->path, "%s%s=", has_query ? "&" : "?", name);
    return rc == SL_OK ? sl_dag_client_escape(&request->path, value) : rc;
}

static int build_list(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)args;
    request->method = "GET";
    int rc = sl_buffer_append_cstr(&request->path, "/api/v1/dags?limit=1000");
    return rc == SL_OK ? add_query(request, "cursor", cursor) : rc;
}

static int build_show(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "GET";
    return dag_path(request, args, NULL);
}

static int build_pause(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "POST";
    return dag_path(request, args, args->verb == SL_DAG_PAUSE ? "/pause" : "/unpause");
}

static int build_trigger(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "POST";
    int rc = dag_path(request, args, "/runs");
    if (rc == SL_OK) rc = sl_buffer_append_byte(&request->body, '{');
    const char *comma = "";
    if (rc == SL_OK && args->conf) {
        rc = sl_buffer_append_cstr(&request->body, "\"conf\":");
        if (rc == SL_OK) rc = sl_dag_parse_conf(args->conf, &request->body);
        comma = ",";
    }
    if (rc == SL_OK && args->logical_date) {
        rc = sl_buffer_printf(&request->body, "%s\"logical_date\":", comma);
        if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->logical_date, strlen(args->logical_date));
        comma = ",";
    }
    if (rc == SL_OK && args->run_id) {
        rc = sl_buffer_printf(&request->body, "%s\"run_id\":", comma);
        if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->run_id, strlen(args->run_id));
    }
    return rc == SL_OK ? sl_buffer_append_byte(&request->body, '}') : rc;
}

static int build_runs(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "GET";
    char limit[16];
    snprintf(limit, sizeof limit, "%d", args->limit ? args->limit : SL_DAG_API_LIMIT_DEFAULT);
    int rc = dag_path(request, args, "/runs");
    if (rc == SL_OK) rc = add_query(request, "limit", limit);
    if (rc == SL_OK) rc = add_query(request, "state", args->state);
    return rc;
}

static int run_path(dag_request *request, const sl_dag_args *args, const char *tail)
{
    int rc = dag_path(request, args, "/runs/");
    if (rc == SL_OK) rc = sl_dag_client_escape(&request->path, args->words[1]);
    if (rc == SL_OK && tail) rc = sl_buffer_append_cstr(&request->path, tail);
    return rc;
}

static int build_tasks(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "GET";
    return run_path(request, args, NULL);
}

static int build_log(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "GET";
    int rc = run_path(request, args, "/tasks/");
    if (rc == SL_OK) rc = sl_dag_client_escape(&request->path, args->words[2]);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&request->path, "/log");
    if (rc == SL_OK && args->try_number) {
        char try_text[16];
        snprintf(try_text, sizeof try_text, "%d", args->try_number);
        rc = add_query(request, "try", try_text);
    }
    return rc;
}

static int build_clear(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "POST";
    int rc = run_path(request, args, "/clear");
    if (rc == SL_OK)
        rc = sl_buffer_printf(&request->body, "{\"only_failed\":%s,\"downstream\":%s", args->is_all ? "false" : "true",
                              args->is_no_downstream ? "false" : "true");
    if (rc == SL_OK && args->n_tasks) {
        rc = sl_buffer_append_cstr(&request->body, ",\"tasks\":[");
        for (size_t i = 0; rc == SL_OK && i < args->n_tasks; i++) {
            if (i) rc = sl_buffer_append_byte(&request->body, ',');
            if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->tasks[i], strlen(args->tasks[i]));
        }
        if (rc == SL_OK) rc = sl_buffer_append_byte(&request->body, ']');
    }
    return rc == SL_OK ? sl_buffer_append_byte(&request->body, '}') : rc;
}

static int build_backfill(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "POST";
    int rc = dag_path(request, args, "/backfill");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&request->body, "{\"from\":");
    if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->from, strlen(args->from));
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&request->body, ",\"to\":");
    if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->to, strlen(args->to));
    return rc == SL_OK ? sl_buffer_append_byte(&request->body, '}') : rc;
}

static int build_mark(const sl_dag_args *args, const char *cursor, dag_request *request)
{
    (void)cursor;
    request->method = "POST";
    int rc = run_path(request, args, args->n_tasks ? "/tasks/" : "/mark");
    if (rc == SL_OK && args->n_tasks) rc = sl_dag_client_escape(&request->path, args->tasks[0]);
    if (rc == SL_OK && args->n_tasks) rc = sl_buffer_append_cstr(&request->path, "/mark");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&request->body, "{\"state\":");
    if (rc == SL_OK) rc = sl_json_write_string(&request->body, args->state, strlen(args->state));
    if (rc == SL_OK && args->n_tasks)
        rc = sl_buffer_printf(&request->body, ",\"downstream\":%s,\"upstream\":%s",
                              args->is_downstream ? "true" : "false", args->is_upstream ? "true" : "false");
    return rc == SL_OK ? sl_buffer_append_byte(&request->body, '}') : rc;
}

/* ---- the same reads without a server ---- */

static void offline_list(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out)
{
    (void)args;
    sl_dag_api_list_dags(api, "1000", cursor, NULL, NULL, out);
}

static void offline_show(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out)
{
    (void)cursor;
    sl_dag_api_get_dag(api, args->words[0], out);
}

static void offline_runs(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out)
{
    (void)cursor;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", args->limit ? args->limit : SL_DAG_API_LIMIT_DEFAULT);
    sl_dag_api_list_runs(api, args->words[0], args->state, limit, NULL, out);
}

static void offline_tasks(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out)
{
    (void)cursor;
    sl_dag_api_get_run(api, args->words[0], args->words[1], out);
}

static void offline_log(const sl_dag_api *api, const sl_dag_args *args, const char *cursor, sl_http_response *out)
{
    (void)cursor;
    char try_text[16];
    snprintf(try_text, sizeof try_text, "%d", args->try_number);
    sl_dag_api_task_log(api, args->words[0], args->words[1], args->words[2], args->try_number ? try_text : NULL, out);
}

/* ---- the verbs ---- */

static const dag_verb verbs[SL_DAG_VERB_COUNT] = {
    [SL_DAG_LIST] = { "list", "", 0, READS, build_list, offline_list, sl_dag_print_list,
                      "the file's DAGs: schedule, paused, tasks, next data interval" },
    [SL_DAG_SHOW] = { "show", "DAG", 1, READS, build_show, offline_show, sl_dag_print_show,
                      "a DAG's settings, its tasks and its latest runs" },
    [SL_DAG_TRIGGER] = { "trigger", "DAG", 1, CHANGES, build_trigger, NULL, sl_dag_print_triggered,
                         "queue a manual run [--conf JSON] [--logical-date ISO] [--run-id ID]" },
    [SL_DAG_PAUSE] = { "pause", "DAG", 1, CHANGES, build_pause, NULL, sl_dag_print_paused,
                       "stop starting the DAG's runs (the running ones go on)" },
    [SL_DAG_UNPAUSE] = { "unpause", "DAG", 1, CHANGES, build_pause, NULL, sl_dag_print_paused,
                         "schedule the DAG again" },
    [SL_DAG_RUNS] = { "runs", "DAG", 1, READS, build_runs, offline_runs, sl_dag_print_runs,
                      "the DAG's runs, newest first [--state S] [--limit N]" },
    [SL_DAG_TASKS] = { "tasks", "DAG RUN_ID", 2, READS, build_tasks, offline_tasks, sl_dag_print_tasks,
                       "every try of every task of a run: state, times, exit status" },
    [SL_DAG_LOG] = { "log", "DAG RUN_ID TASK", 3, READS, build_log, offline_log, NULL,
                     "a task's log (the latest try, or --try N)" },
    [SL_DAG_CLEAR] = { "clear", "DAG RUN_ID", 2, CHANGES, build_clear, NULL, sl_dag_print_cleared,
                       "run failed tasks (and those downstream) again [--task T ...] [--all] [--no-downstream]" },
    [SL_DAG_BACKFILL] = { "backfill", "DAG", 1, CHANGES, build_backfill, NULL, sl_dag_print_backfill,
                          "create a backfill run per logical date in [--from, --to]" },
    [SL_DAG_MARK] = { "mark", "DAG RUN_ID", 2, CHANGES, build_mark, NULL, sl_dag_print_marked,
                      "mark a run, or --task T, --state success|failed (Airflow's mark success/failed)" },
    [SL_DAG_TEST] = { "test", "FILE DAG", 2, LOCAL, NULL, NULL, NULL,
                      "run one DAG run in the foreground, no server [--logical-date ISO] [--conf JSON]" },
};

const char *sl_dag_verb_name(sl_dag_verb_id verb)
{
    return verb >= 0 && verb < SL_DAG_VERB_COUNT ? verbs[verb].name : "?";
}

static void dag_usage(FILE *out)
{
    fprintf(out, "usage: sluice dag VERB [OPERANDS] [options]\n"
                 "\n"
                 "The DAGs of a `sluice server` (found through DATA_DIR/server.json, or --server URL) and\n"
                 "their run history, as Airflow's `airflow dags` and `airflow tasks` commands show them.\n"
                 "\n"
                 "verbs (R: also reads the metadata store directly when no server runs):\n");
    for (int v = 0; v < SL_DAG_VERB_COUNT; v++) {
        char left[40];
        snprintf(left, sizeof left, "%s%s%s", verbs[v].name, verbs[v].n_operands ? " " : "", verbs[v].operands);
        fprintf(out, "  %-22s %s  %s\n", left, verbs[v].kind == READS ? "R" : " ", verbs[v].help);
    }
    fprintf(out, "\n");
    sl_dag_options_usage(out);
    fprintf(out, "\n"
                 "Output is a table; --json prints the API's answer (docs/api.md) as it is. With no server\n"
                 "running, list, show, runs, tasks and log read the file's metadata: (default\n"
                 "DATA_DIR/metadata.db) and say so on stderr; trigger, pause, unpause, clear, backfill and mark need\n"
                 "the server. test runs the DAG itself and needs the data dir free of any server.\n"
                 "A server with auth: takes the token in SLUICE_TOKEN (viewer reads, operator changes); one\n"
                 "with http.tls and a certificate of its own is trusted with SLUICE_CA_CERT=FILE.pem.\n"
                 "exit codes: 0 ok; 1 failure (no server for a change, a store or server error, a run\n"
                 "that failed in test); 2 usage: a bad option, an unknown DAG, run or task.\n");
}

/* ---- where the server and the store are ---- */

typedef struct place {
    sl_plan *plan;               /* --config's, or NULL */
    const char *data_dir;
    char url[URL_MAX];           /* the server's; "" when none runs */
    char why_none[URL_MAX + 64]; /* what was looked at */
} place;

/* The server of DATA_DIR/server.json when its process is alive. */
static void find_server(place *where)
{
    char path[URL_MAX];
    snprintf(path, sizeof path, "%s/server.json", where->data_dir);
    snprintf(where->why_none, sizeof where->why_none, "no %s", path);
    FILE *file = fopen(path, "rb");
    if (!file) return;
    char text[4096];
    size_t len = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[len] = '\0';
    sl_arena *arena = sl_arena_new(4096);
    sl_value info;
    sl_error err;
    sl_error_clear(&err);
    if (arena && sl_json_parse(arena, text, len, &info, &err) == SL_OK) {
        const sl_value *url = sl_value_get(&info, SL_STR_LIT("url"));
        const sl_value *pid = sl_value_get(&info, SL_STR_LIT("pid"));
        bool is_alive = pid && pid->type == SL_TYPE_INT && pid->integer > 0 &&
                        (kill((pid_t)pid->integer, 0) == 0 || errno == EPERM);
        if (url && url->type == SL_TYPE_STRING && url->string.len < sizeof where->url && is_alive)
            snprintf(where->url, sizeof where->url, "%.*s", (int)url->string.len, url->string.ptr);
        else
            snprintf(where->why_none, sizeof where->why_none, "%s names process %lld, which is not running", path,
                     pid && pid->type == SL_TYPE_INT ? (long long)pid->integer : -1LL);
    } else {
        snprintf(where->why_none, sizeof where->why_none, "%s is not the JSON a server writes", path);
    }
    sl_arena_free(arena);
}

static int find_place(const sl_dag_args *args, place *where)
{
    *where = (place){ .data_dir = args->data_dir ? args->data_dir : "./data" };
    if (args->config) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_plan_load(args->config, &where->plan, &err)) {
            fprintf(stderr, "sluice dag: %s\n", err.message);
            return SL_EXIT_USAGE;
        }
        where->data_dir = where->plan->data_dir;
    }
    if (args->server) snprintf(where->url, sizeof where->url, "%s", args->server);
    else find_server(where);
    return SL_EXIT_OK;
}

/* ---- answers ---- */

/* 0 for 2xx; 2 for what the caller got wrong (400, 404); else 1. */
static int exit_code_of(int status)
{
    if (status >= 200 && status < 300) return SL_EXIT_OK;
    return status == 400 || status == 404 ? SL_EXIT_USAGE : SL_EXIT_FAILURE;
}

/* An error answer's message, from {"error": ...} or the body itself. */
static void print_error(const dag_verb *verb, int status, const sl_buffer *body)
{
    sl_arena *arena = sl_arena_new(1024);
    sl_value value;
    sl_error err;
    sl_error_clear(&err);
    const sl_value *message = NULL;
    if (arena && body->len && sl_json_parse(arena, body->data, body->len, &value, &err) == SL_OK)
        message = sl_value_get(&value, SL_STR_LIT("error"));
    if (message && message->type == SL_TYPE_STRING)
        fprintf(stderr, "sluice dag %s: %.*s\n", verb->name, (int)message->string.len, message->string.ptr);
    else
        fprintf(stderr, "sluice dag %s: HTTP %d: %.*s\n", verb->name, status, (int)(body->len > 500 ? 500 : body->len),
                body->data ? body->data : "");
    if (status == 401)
        fprintf(stderr, "sluice dag %s: the server has auth: set SLUICE_TOKEN to one of its tokens\n", verb->name);
    sl_arena_free(arena);
}

/* One page: from the server, or with api set from the store. */
static int fetch(const dag_verb *verb, const sl_dag_args *args, const place *where, const sl_dag_api *api,
                 const char *cursor, sl_dag_answer *answer)
{
    if (api) {
        sl_http_response response = { .status = 200 };
        verb->offline(api, args, cursor, &response);
        *answer = (sl_dag_answer){ .status = response.status, .body = response.body };
        return SL_EXIT_OK;
    }
    dag_request request = { 0 };
    int rc = verb->build(args, cursor, &request);
    if (rc == SL_OK) rc = sl_buffer_append_byte(&request.path, '\0');
    if (rc == SL_OK && request.body.len) rc = sl_buffer_append_byte(&request.body, '\0');
    if (rc) {
        sl_buffer_free(&request.path);
        sl_buffer_free(&request.body);
        if (rc == SL_EUSAGE) return SL_EXIT_USAGE;
        fprintf(stderr, "sluice dag %s: out of memory\n", verb->name);
        return SL_EXIT_FAILURE;
    }
    sl_error err;
    sl_error_clear(&err);
    rc = sl_dag_client_request(where->url, request.method, request.path.data, request.body.len ? request.body.data : NULL,
                               answer, &err);
    sl_buffer_free(&request.path);
    sl_buffer_free(&request.body);
    if (rc) {
        fprintf(stderr, "sluice dag %s: the server at %s did not answer: %s\n", verb->name, where->url, err.message);
        return SL_EXIT_FAILURE;
    }
    return SL_EXIT_OK;
}

/* The next_cursor of a list's page, copied into out; false when none. */
static bool next_cursor(const sl_value *page, char *out, size_t size)
{
    const sl_value *next = sl_value_get(page, SL_STR_LIT("next_cursor"));
    if (!next || next->type != SL_TYPE_STRING || next->string.len >= size) return false;
    snprintf(out, size, "%.*s", (int)next->string.len, next->string.ptr);
    return true;
}

/* Fetches every page (one but for list), prints them, returns the exit code. */
static int answer_verb(const dag_verb *verb, const sl_dag_args *args, const place *where, const sl_dag_api *api)
{
    sl_arena *arena = sl_arena_new(64 * 1024);
    sl_value pages[PAGES_MAX];
    sl_buffer bodies[PAGES_MAX] = { { 0 } };
    size_t n_pages = 0;
    char cursor[SL_DAG_CURSOR_MAX] = "";
    int code = arena ? SL_EXIT_OK : SL_EXIT_FAILURE;
    while (code == SL_EXIT_OK && n_pages < PAGES_MAX) {
        sl_dag_answer answer;
        code = fetch(verb, args, where, api, cursor[0] ? cursor : NULL, &answer);
        if (code) break;
        bodies[n_pages] = answer.body;
        const sl_buffer *body = &bodies[n_pages++];
        if (answer.status < 200 || answer.status >= 300) {
            print_error(verb, answer.status, body);
            code = exit_code_of(answer.status);
            break;
        }
        if (!verb->print || args->is_json) {
            fwrite(body->data ? body->data : "", 1, body->len, stdout);
            if (!verb->print) break;
        }
        sl_error err;
        sl_error_clear(&err);
        if (sl_json_parse(arena, body->data ? body->data : "", body->len, &pages[n_pages - 1], &err)) {
            fprintf(stderr, "sluice dag %s: the answer is not JSON: %s\n", verb->name, err.message);
            code = SL_EXIT_FAILURE;
            break;
        }
        if (verb != &verbs[SL_DAG_LIST] || !next_cursor(&pages[n_pages - 1], cursor, sizeof cursor)) break;
    }
    if (code == SL_EXIT_OK && verb->print && !args->is_json && verb->print(args, pages, n_pages, stdout)) {
        fprintf(stderr, "sluice dag %s: out of memory\n", verb->name);
        code = SL_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n_pages; i++) sl_buffer_free(&bodies[i]);
    sl_arena_free(arena);
    return code;
}

/* The reads with no server: the store opened here, the file's DAGs with --config. */
static int answer_offline(const dag_verb *verb, const sl_dag_args *args, const place *where)
{
    char target[URL_MAX];
    if (where->plan) snprintf(target, sizeof target, "%s", where->plan->metadata);
    else snprintf(target, sizeof target, "%s/metadata.db", where->data_dir);
    struct stat st;
    bool is_postgres = strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0;
    if (!is_postgres && stat(target, &st) != 0) {
        fprintf(stderr, "sluice dag %s: no server runs (%s) and there is no metadata store at %s: no `sluice "
                        "server` has run with this data dir (--data-dir or --config FILE names another)\n",
                verb->name, where->why_none, target);
        return SL_EXIT_FAILURE;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_dag_set *dags = NULL;
    if (where->plan && sl_dag_set_build(where->plan, &dags, &err)) {
        fprintf(stderr, "sluice dag %s: %s\n", verb->name, err.message);
        return SL_EXIT_USAGE;
    }
    sl_metadata *store = NULL;
    if (sl_metadata_open(target, &store, &err)) {
        fprintf(stderr, "sluice dag %s: %s\n", verb->name, err.message);
        sl_dag_set_free(dags);
        return SL_EXIT_FAILURE;
    }
    fprintf(stderr, "sluice dag: no server runs (%s): reading the metadata store %s directly%s\n", where->why_none,
            sl_metadata_where(store), dags ? "" : " (--config FILE adds the file's DAG settings)");
    sl_dag_api api = { .dags = dags, .store = store, .data_dir = where->data_dir, .now_us = sl_clock_wall_us() };
    int code = answer_verb(verb, args, where, &api);
    sl_metadata_close(store);
    sl_dag_set_free(dags);
    return code;
}

static int dispatch(sl_dag_args *args, const char *verb_text)
{
    if (!verb_text) {
        dag_usage(stderr);
        return SL_EXIT_USAGE;
    }
    const dag_verb *verb = NULL;
    for (int v = 0; v < SL_DAG_VERB_COUNT && !verb; v++)
        if (strcmp(verb_text, verbs[v].name) == 0) verb = &verbs[v], args->verb = (sl_dag_verb_id)v;
    if (!verb) {
        fprintf(stderr, "sluice dag: unknown verb '%s' (", verb_text);
        for (int v = 0; v < SL_DAG_VERB_COUNT; v++) fprintf(stderr, "%s%s", v ? ", " : "", verbs[v].name);
        fprintf(stderr, "); 'sluice dag --help' describes them\n");
        return SL_EXIT_USAGE;
    }
    if (args->n_words != verb->n_operands) {
        fprintf(stderr, "sluice dag %s: %s; usage: sluice dag %s %s\n", verb->name,
                args->n_words < verb->n_operands ? "missing operands" : "too many operands", verb->name,
                verb->operands);
        return SL_EXIT_USAGE;
    }
    int code = sl_dag_options_check(args);
    if (code) return code;
    if (verb->kind == LOCAL) return sl_dag_test(args);
    place where;
    code = find_place(args, &where);
    if (code) return code;
    if (where.url[0]) code = answer_verb(verb, args, &where, NULL);
    else if (verb->kind == READS) code = answer_offline(verb, args, &where);
    else {
        fprintf(stderr, "sluice dag %s: no server runs (%s): %s goes through the scheduler of a running server: "
                        "start `sluice server FILE` (or give --server URL)\n", verb->name, where.why_none, verb->name);
        code = SL_EXIT_FAILURE;
    }
    sl_plan_free(where.plan);
    return code;
}

int sl_cmd_dag(int argc, char **argv)
{
    sl_dag_args args;
    const char *verb_text = NULL;
    int code = sl_dag_options_parse(argc, argv, &args, &verb_text);
    if (code < 0) {
        dag_usage(stdout);
        return SL_EXIT_OK;
    }
    return code == SL_EXIT_OK ? dispatch(&args, verb_text) : code;
}
