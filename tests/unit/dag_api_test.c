/* dag_api_test.c — the DAG endpoints' answers (src/server/dags/dag_api.h) on an
 * SQLite store, without HTTP: the JSON writer's commas, cursors, trigger's
 * checks and default run ids, clear's downstream selection, backfill's
 * existing runs, paging by state, a log outside DATA_DIR/logs refused in
 * favour of the stored tail. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/json.h"
#include "metadata/metadata.h"
#include "runtime/plan.h"
#include "scheduler/dag.h"
#include "server/dags/dag_api.h"
#include "server/dags/dag_json.h"
#include "test_util.h"

#define T0 1704067200000000LL   /* 2024-01-01T00:00:00Z */
#define DAY_US (86400LL * 1000000)

static struct {
    char dir[256];
    sl_plan *plan;
    sl_dag_set *dags;
    sl_metadata *store;
    sl_dag_api api;
    sl_arena *arena;
} fx;

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    test_make_temp_dir(fx.dir, sizeof fx.dir, "dag-api");
    char path[400], text[1200];
    snprintf(path, sizeof path, "%s/dags.yaml", fx.dir);
    snprintf(text, sizeof text,
             "data_dir: %s/data\n"
             "dags:\n"
             "  chain:\n"
             "    tasks:\n"
             "      a: { command: [\"true\"] }\n"
             "      b: { command: [\"true\"], depends_on: [a], retries: 2 }\n"
             "      c: { command: [\"true\"], depends_on: [b] }\n"
             "      lone: { command: [\"true\"] }\n"
             "  daily:\n"
             "    schedule: \"@daily\"\n"
             "    tasks:\n"
             "      load: { command: [\"true\"] }\n",
             fx.dir);
    test_write_text(path, text);
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_plan_load(path, &fx.plan, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_dag_set_build(fx.plan, &fx.dags, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_open(fx.plan->metadata, &fx.store, &err), SL_OK, "%s", err.message);
    fx.api = (sl_dag_api){ .dags = fx.dags, .store = fx.store, .data_dir = fx.plan->data_dir, .now_us = T0 + DAY_US / 2 };
    fx.arena = sl_arena_new(4096);
}

static void teardown(void)
{
    sl_arena_free(fx.arena);
    sl_metadata_close(fx.store);
    sl_dag_set_free(fx.dags);
    sl_plan_free(fx.plan);
    test_remove_tree(fx.dir);
}

TestSuite(dag_api, .init = setup, .fini = teardown);

/* The answer's JSON, parsed (the response's body stays alive in out). */
static sl_value answer(sl_http_response *out, int status)
{
    cr_assert_eq(out->status, status, "status %d, not %d: %.*s", out->status, status, (int)out->body.len,
                 out->body.data);
    sl_value value;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_json_parse(fx.arena, out->body.data, out->body.len, &value, &err), SL_OK, "%s: %.*s",
                 err.message, (int)out->body.len, out->body.data);
    return value;
}

static const char *str(const sl_value *object, const char *key)
{
    const sl_value *value = sl_value_get(object, sl_str_from(key));
    cr_assert(value && value->type == SL_TYPE_STRING, "no string %s", key);
    char *copy = sl_arena_alloc(fx.arena, value->string.len + 1);
    memcpy(copy, value->string.ptr, value->string.len);
    copy[value->string.len] = '\0';
    return copy;
}

static bool contains(const sl_http_response *out, const char *text)
{
    return out->body.data && memmem(out->body.data, out->body.len, text, strlen(text)) != NULL;
}

Test(dag_api, writer_and_cursors)
{
    sl_buffer buf = { 0 };
    sl_json_out json;
    sl_json_out_init(&json, &buf);
    sl_json_begin_object(&json);
    sl_json_key(&json, "a");
    sl_json_begin_array(&json);
    sl_json_int(&json, 1);
    sl_json_string(&json, "x\"y");
    sl_json_begin_object(&json);
    sl_json_end_object(&json);
    sl_json_null(&json);
    sl_json_end_array(&json);
    sl_json_key(&json, "t");
    sl_json_time(&json, T0);
    sl_json_key(&json, "d");
    sl_json_seconds(&json, 1500000);
    sl_json_end_object(&json);
    cr_assert_eq(json.rc, SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&buf, '\0'), SL_OK);
    cr_assert_str_eq(buf.data, "{\"a\":[1,\"x\\\"y\",{},null],\"t\":\"2024-01-01T00:00:00Z\",\"d\":1.500}");
    sl_buffer_free(&buf);

    char cursor[SL_DAG_CURSOR_MAX], back[64];
    sl_dag_cursor_encode('r', "1704067200000000.42", cursor);
    cr_assert(strspn(cursor, "0123456789abcdef") == strlen(cursor), "%s", cursor);
    cr_assert(sl_dag_cursor_decode('r', cursor, back, sizeof back));
    cr_assert_str_eq(back, "1704067200000000.42");
    cr_assert(!sl_dag_cursor_decode('d', cursor, back, sizeof back), "a run cursor taken for a DAG cursor");
    cr_assert(!sl_dag_cursor_decode('r', "zz", back, sizeof back));
    cr_assert(!sl_dag_cursor_decode('r', "7", back, sizeof back));
}

Test(dag_api, list_and_get)
{
    sl_http_response out = { .status = 200 };
    sl_dag_api_list_dags(&fx.api, "1", NULL, NULL, NULL, &out);
    sl_value page = answer(&out, 200);
    const sl_value *dags = sl_value_get(&page, SL_STR_LIT("dags"));
    cr_assert_eq(dags->array.n_items, 1);
    cr_assert_str_eq(str(&dags->array.items[0], "dag_id"), "chain");
    const char *next = str(&page, "next_cursor");
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "1", next, NULL, NULL, &out);
    page = answer(&out, 200);
    dags = sl_value_get(&page, SL_STR_LIT("dags"));
    cr_assert_str_eq(str(&dags->array.items[0], "dag_id"), "daily");
    cr_assert_eq(sl_value_get(&page, SL_STR_LIT("next_cursor"))->type, SL_TYPE_NULL);
    const sl_value *interval = sl_value_get(&dags->array.items[0], SL_STR_LIT("next_dagrun_data_interval"));
    /* No run yet, no catchup: the latest interval complete at now. */
    cr_assert_str_eq(str(interval, "start"), "2023-12-31T00:00:00Z");
    sl_buffer_free(&out.body);

    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "0", NULL, NULL, NULL, &out);
    cr_assert_eq(out.status, 400);
    sl_buffer_free(&out.body);
    /* Filtered on the server: by prefix, and by pause. */
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "10", NULL, "da", NULL, &out);
    page = answer(&out, 200);
    dags = sl_value_get(&page, SL_STR_LIT("dags"));
    cr_assert_eq(dags->array.n_items, 1);
    cr_assert_str_eq(str(&dags->array.items[0], "dag_id"), "daily");
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_set_paused(&fx.api, "chain", true, &out);
    cr_assert_eq(out.status, 200);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "10", NULL, NULL, "true", &out);
    page = answer(&out, 200);
    dags = sl_value_get(&page, SL_STR_LIT("dags"));
    cr_assert_eq(dags->array.n_items, 1);
    cr_assert_str_eq(str(&dags->array.items[0], "dag_id"), "chain");
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "10", NULL, NULL, "false", &out);
    page = answer(&out, 200);
    dags = sl_value_get(&page, SL_STR_LIT("dags"));
    cr_assert_eq(dags->array.n_items, 1);
    cr_assert_str_eq(str(&dags->array.items[0], "dag_id"), "daily");
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_list_dags(&fx.api, "10", NULL, NULL, "yes", &out);
    cr_assert_eq(out.status, 400);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_get_dag(&fx.api, "ghost", &out);
    cr_assert_eq(out.status, 404);
    cr_assert(contains(&out, "chain, daily"), "%.*s", (int)out.body.len, out.body.data);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_get_dag(&fx.api, "chain", &out);
    sl_value dag = answer(&out, 200);
    const sl_value *tasks = sl_value_get(&dag, SL_STR_LIT("tasks"));
    cr_assert_eq(tasks->array.n_items, 4);
    cr_assert_str_eq(str(&tasks->array.items[1], "task_id"), "b");
    cr_assert(contains(&out, "\"depends_on\":[\"a\"]"));
    sl_buffer_free(&out.body);
}

static const char *trigger(const char *dag, const char *body, int status)
{
    sl_http_response out = { .status = 200 };
    sl_dag_api_trigger(&fx.api, dag, body, strlen(body), &out);
    const char *run_id = NULL;
    if (status == 201) {
        sl_value run = answer(&out, 201);
        run_id = str(&run, "run_id");
    } else {
        cr_assert_eq(out.status, status, "%.*s", (int)out.body.len, out.body.data);
    }
    sl_buffer_free(&out.body);
    return run_id;
}

Test(dag_api, trigger)
{
    const char *first = trigger("chain", "", 201);
    const char *second = trigger("chain", "{}", 201);
    cr_assert_str_eq(first, "manual__2024-01-01T12:00:00.000000+00:00");
    cr_assert_str_neq(first, second, "two triggers at one instant got one run id");
    trigger("chain", "{\"run_id\": \"mine\", \"conf\": {\"k\": [1, 2]}}", 201);
    trigger("chain", "{\"run_id\": \"mine\"}", 409);
    trigger("chain", "{\"conf\": 3}", 400);
    trigger("chain", "[]", 400);
    trigger("chain", "{\"when\": 1}", 400);
    trigger("daily", "{\"logical_date\": \"2024-01-01T01:00:00Z\"}", 400);
    trigger("daily", "{\"logical_date\": \"2023-12-01\"}", 201);
    trigger("ghost", "", 404);
    /* The DAG's row was made by the trigger: the scheduler had not run. */
    sl_http_response out = { .status = 200 };
    sl_dag_api_list_runs(&fx.api, "daily", NULL, NULL, NULL, &out);
    cr_assert(contains(&out, "\"data_interval_start\":\"2023-12-01T00:00:00Z\",\"data_interval_end\":"
                             "\"2023-12-02T00:00:00Z\""), "%.*s", (int)out.body.len, out.body.data);
    sl_buffer_free(&out.body);
}

static int keep_row(void *context, const sl_meta_run *run)
{
    *(int64_t *)context = run->id;
    return 0;
}

Test(dag_api, clear_takes_downstream)
{
    const char *run_id = trigger("chain", "{\"run_id\": \"r\"}", 201);
    int64_t row = 0;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_run_find(fx.store, "chain", run_id, keep_row, &row, &err), SL_OK, "%s", err.message);
    const char *tasks[] = { "a", "b", "c", "lone" };
    cr_assert_eq(sl_metadata_ti_create(fx.store, row, tasks, 4, 1, NULL, &err), SL_OK, "%s", err.message);
    /* Every try id, by task order a b c lone (ids made in that order). */
    bool changed;
    for (int64_t id = 1; id <= 4; id++)
        cr_assert_eq(sl_metadata_ti_set_state(fx.store, id, SL_META_TI_NONE, SL_META_TI_FAILED, NULL, &changed, &err),
                     SL_OK);
    sl_http_response out = { .status = 200 };
    const char *body = "{\"tasks\": [\"b\"]}";
    sl_dag_api_clear(&fx.api, "chain", "r", body, strlen(body), &out);
    answer(&out, 200);
    cr_assert(contains(&out, "\"cleared\":[\"b\",\"c\"],\"state\":\"queued\""), "%.*s", (int)out.body.len,
              out.body.data);
    sl_buffer_free(&out.body);
    /* b's new try may be retried twice: max tries 2 + 2. */
    sl_http_response run = { .status = 200 };
    sl_dag_api_get_run(&fx.api, "chain", "r", &run);
    cr_assert(contains(&run, "{\"task_id\":\"b\",\"try_number\":2,\"max_tries\":4,\"state\":\"none\""), "%.*s",
              (int)run.body.len, run.body.data);
    sl_buffer_free(&run.body);
    out = (sl_http_response){ .status = 200 };
    body = "{\"tasks\": [\"a\"], \"downstream\": false}";
    sl_dag_api_clear(&fx.api, "chain", "r", body, strlen(body), &out);
    cr_assert(contains(&out, "\"cleared\":[\"a\"]"), "%.*s", (int)out.body.len, out.body.data);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    body = "{\"tasks\": [\"nope\"]}";
    sl_dag_api_clear(&fx.api, "chain", "r", body, strlen(body), &out);
    cr_assert_eq(out.status, 400);
    cr_assert(contains(&out, "a, b, c, lone"));
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_clear(&fx.api, "chain", "missing", "", 0, &out);
    cr_assert_eq(out.status, 404);
    sl_buffer_free(&out.body);
}

static void backfill(const char *body, int status, const char *expect)
{
    sl_http_response out = { .status = 200 };
    sl_dag_api_backfill(&fx.api, "daily", body, strlen(body), &out);
    cr_assert_eq(out.status, status, "%.*s", (int)out.body.len, out.body.data);
    if (expect) cr_assert(contains(&out, expect), "%.*s", (int)out.body.len, out.body.data);
    sl_buffer_free(&out.body);
}

Test(dag_api, backfill_and_state_pages)
{
    trigger("daily", "{\"logical_date\": \"2023-12-02\", \"run_id\": \"by-hand\"}", 201);
    backfill("{\"from\": \"2023-12-01\", \"to\": \"2023-12-03\"}", 201,
             "\"run_ids\":[\"backfill__2023-12-01T00:00:00+00:00\",\"backfill__2023-12-03T00:00:00+00:00\"],"
             "\"existing\":[\"by-hand\"]");
    backfill("{\"from\": \"2023-12-01\", \"to\": \"2023-12-03\"}", 200, "\"run_ids\":[]");
    backfill("{\"from\": \"2020-01-01\", \"to\": \"2023-01-01\"}", 400, "more than 1000");
    backfill("{\"from\": \"2023-12-03\", \"to\": \"2023-12-01\"}", 400, "after");
    backfill("{\"from\": \"2023-12-03\"}", 400, "\\\"to\\\"");
    sl_http_response out = { .status = 200 };
    const char *body = "{\"from\": \"2023-12-01\", \"to\": \"2023-12-03\"}";
    sl_dag_api_backfill(&fx.api, "chain", body, strlen(body), &out);
    cr_assert_eq(out.status, 400);
    cr_assert(contains(&out, "no schedule"));
    sl_buffer_free(&out.body);
    /* Pages of one queued run each, the filter in the statement. */
    int64_t row = 0;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_run_find(fx.store, "daily", "by-hand", keep_row, &row, &err), SL_OK);
    bool changed;
    cr_assert_eq(sl_metadata_run_set_state(fx.store, row, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err),
                 SL_OK);
    const char *cursor = NULL;
    int pages = 0;
    do {
        out = (sl_http_response){ .status = 200 };
        sl_dag_api_list_runs(&fx.api, "daily", "queued", "1", cursor, &out);
        sl_value page = answer(&out, 200);
        cr_assert(!contains(&out, "by-hand"));
        const sl_value *next = sl_value_get(&page, SL_STR_LIT("next_cursor"));
        cursor = next->type == SL_TYPE_STRING ? str(&page, "next_cursor") : NULL;
        pages++;
        sl_buffer_free(&out.body);
    } while (cursor);
    cr_assert_eq(pages, 3, "2 queued runs in pages of 1, then an empty one: %d pages", pages);
}

Test(dag_api, log_outside_the_data_dir_is_not_read)
{
    trigger("chain", "{\"run_id\": \"r\"}", 201);
    int64_t row = 0;
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(sl_metadata_run_find(fx.store, "chain", "r", keep_row, &row, &err), SL_OK);
    const char *task = "a";
    cr_assert_eq(sl_metadata_ti_create(fx.store, row, &task, 1, 1, NULL, &err), SL_OK);
    char outside[400];
    snprintf(outside, sizeof outside, "%s/secret.txt", fx.dir);
    test_write_text(outside, "the whole secret file\n");
    cr_assert_eq(sl_metadata_ti_set_log(fx.store, 1, outside, "the stored tail\n", 16, &err), SL_OK);
    sl_http_response out = { .status = 200 };
    sl_dag_api_task_log(&fx.api, "chain", "r", "a", NULL, &out);
    cr_assert_eq(out.status, 200);
    cr_assert(contains(&out, "the stored tail") && !contains(&out, "secret"), "%.*s", (int)out.body.len,
              out.body.data);
    sl_buffer_free(&out.body);
    /* Under DATA_DIR/logs the whole file is read. */
    char inside[400];
    snprintf(inside, sizeof inside, "%s/data/logs/a.log", fx.dir);
    char logs[400];
    snprintf(logs, sizeof logs, "%s/data/logs", fx.dir);
    cr_assert_eq(mkdir(logs, 0755), 0);
    test_write_text(inside, "the whole log\n");
    cr_assert_eq(sl_metadata_ti_set_log(fx.store, 1, inside, "tail\n", 5, &err), SL_OK);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_task_log(&fx.api, "chain", "r", "a", NULL, &out);
    cr_assert(contains(&out, "the whole log"), "%.*s", (int)out.body.len, out.body.data);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_task_log(&fx.api, "chain", "r", "a", "2", &out);
    cr_assert_eq(out.status, 404);
    sl_buffer_free(&out.body);
    out = (sl_http_response){ .status = 200 };
    sl_dag_api_task_log(&fx.api, "chain", "r", "zz", NULL, &out);
    cr_assert_eq(out.status, 404);
    sl_buffer_free(&out.body);
}
