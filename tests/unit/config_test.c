/* config_test.c — the YAML config loader, `${VAR}` expansion, settings
 * tables and diagnostics: positions, typed application of options with
 * bounds, every mistake of a block in one pass (run plain and under ASan
 * for leaks). Messages of single mistakes in a file are cases in
 * tests/config, run through `sluice validate`. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/interpolate.h"
#include "config/options.h"
#include "core/arena.h"
#include "test_util.h"

/* A flagship example in the shape of examples/users.yaml. */
static const char *const design_example =
    "# examples/users.yaml — the flagship example\n"
    "pipelines:\n"
    "  ingest_users:                      # the Airflow task: generate users, publish them\n"
    "    source:  { generator: { kind: users, count: 100000, rate: 0, seed: 42 } }\n"
    "    sink:    { topic: { name: user_data, partitions: 4, key: login.uuid } }\n"
    "  store_users:                       # the Spark job: parse, map, store\n"
    "    source:  { topic: { name: user_data, group: store_users } }\n"
    "    transform:\n"
    "      sql: |\n"
    "        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,\n"
    "               gender, location.city AS city, location.postcode AS post_code, email,\n"
    "               login.username AS username, registered.date AS registered_date,\n"
    "               phone, picture.thumbnail AS picture\n"
    "        FROM input\n"
    "    sink:    { sqlite: { path: data/users.db, table: created_users, key: [id] } }\n"
    "dags:\n"
    "  user_automation:\n"
    "    schedule: \"@daily\"\n"
    "    tasks:\n"
    "      stream_data: { pipeline: ingest_users, retries: 3, timeout: 10m }\n";

static sl_config_doc *load_ok(const char *text)
{
    sl_config_doc *doc = NULL;
    sl_error err = { 0 };
    int rc = sl_config_load_string("t.yaml", text, strlen(text), &doc, &err);
    cr_assert_eq(rc, SL_OK, "load failed: %s", err.message);
    cr_assert_not_null(doc);
    return doc;
}

/* Loads text that must fail with SL_ECONFIG and returns the message. */
static const char *load_error(const char *text, size_t len)
{
    static sl_error err;
    sl_config_doc *doc = NULL;
    memset(&err, 0, sizeof err);
    int rc = sl_config_load_string("t.yaml", text, len, &doc, &err);
    cr_assert_eq(rc, SL_ECONFIG, "expected SL_ECONFIG, got %d (%s)", rc, err.message);
    cr_assert_null(doc);
    cr_assert_eq(err.code, SL_ECONFIG);
    return err.message;
}

static const sl_node *path(const sl_node *node, const char *a, const char *b, const char *c)
{
    node = sl_node_get(node, a);
    if (b) node = sl_node_get(node, b);
    if (c) node = sl_node_get(node, c);
    cr_assert_not_null(node, "no node at %s.%s.%s", a, b ? b : "", c ? c : "");
    return node;
}

static void assert_at(const sl_node *node, int line, int column)
{
    cr_assert_eq(node->line, line, "line %d, expected %d", node->line, line);
    cr_assert_eq(node->column, column, "column %d, expected %d", node->column, column);
}

Test(config, parses_design_example_and_walks_it)
{
    sl_config_doc *doc = load_ok(design_example);
    const sl_node *root = sl_config_root(doc);
    cr_assert_eq(root->kind, SL_NODE_MAP);
    cr_assert_eq(root->n_pairs, 2);
    cr_assert_str_eq(root->pairs[0].key, "pipelines");
    cr_assert_str_eq(root->pairs[1].key, "dags");
    cr_assert_eq(root->pairs[1].key_line, 16);
    cr_assert_eq(root->pairs[1].key_column, 1);

    const sl_node *pipelines = sl_node_get(root, "pipelines");
    cr_assert_eq(pipelines->n_pairs, 2);
    const sl_node *generator = path(pipelines, "ingest_users", "source", "generator");
    cr_assert_eq(generator->kind, SL_NODE_MAP);
    assert_at(generator, 4, 27);
    const sl_node *count = sl_node_get(generator, "count");
    cr_assert_str_eq(count->scalar, "100000");
    cr_assert_not(count->is_quoted);
    assert_at(count, 4, 49);
    cr_assert_str_eq(sl_node_get(generator, "kind")->scalar, "users");
    cr_assert_str_eq(path(pipelines, "ingest_users", "sink", "topic")->pairs[2].key, "key");
    cr_assert_str_eq(sl_node_get(path(pipelines, "ingest_users", "sink", "topic"), "key")->scalar,
                     "login.uuid");

    const sl_node *sql = path(pipelines, "store_users", "transform", "sql");
    cr_assert_eq(sql->kind, SL_NODE_SCALAR);
    cr_assert(strncmp(sql->scalar, "SELECT uuid(login.uuid) AS id,", 30) == 0);
    cr_assert(strstr(sql->scalar, "\nFROM input\n") != NULL, "block scalar: %s", sql->scalar);
    assert_at(sql, 9, 12);

    const sl_node *key = sl_node_get(path(pipelines, "store_users", "sink", "sqlite"), "key");
    cr_assert_eq(key->kind, SL_NODE_LIST);
    cr_assert_eq(key->n_items, 1);
    cr_assert_str_eq(key->items[0]->scalar, "id");

    const sl_node *automation = path(root, "dags", "user_automation", NULL);
    const sl_node *schedule = sl_node_get(automation, "schedule");
    cr_assert_str_eq(schedule->scalar, "@daily");
    cr_assert(schedule->is_quoted);
    const sl_node_pair *pair = sl_node_get_pair(automation, "schedule");
    cr_assert_eq(pair->key_line, 18);
    cr_assert_eq(pair->key_column, 5);
    assert_at(schedule, 18, 15);
    const sl_node *task = path(automation, "tasks", "stream_data", NULL);
    cr_assert_str_eq(sl_node_get(task, "timeout")->scalar, "10m");
    cr_assert_str_eq(sl_node_get(task, "retries")->scalar, "3");
    cr_assert_str_eq(task->file, "t.yaml");
    sl_config_free(doc);
}

Test(config, lookups_on_wrong_shapes_return_null)
{
    sl_config_doc *doc = load_ok("a: [1, 2]\nb: x\n");
    const sl_node *root = sl_config_root(doc);
    cr_assert_null(sl_node_get(root, "missing"));
    cr_assert_null(sl_node_get(sl_node_get(root, "a"), "0"));
    cr_assert_null(sl_node_get(sl_node_get(root, "b"), "x"));
    cr_assert_null(sl_node_get_pair(NULL, "a"));
    cr_assert_str_eq(sl_node_kind_name(SL_NODE_SCALAR), "scalar");
    cr_assert_str_eq(sl_node_kind_name(SL_NODE_MAP), "mapping");
    cr_assert_str_eq(sl_node_kind_name(SL_NODE_LIST), "list");
    sl_config_free(doc);
}

Test(config, node_error_prefixes_the_node_position)
{
    sl_config_doc *doc = load_ok("top:\n  inner: 7\n");
    const sl_node *inner = sl_node_get(sl_node_get(sl_config_root(doc), "top"), "inner");
    sl_error err = { 0 };
    cr_assert_eq(sl_node_error(&err, inner, "bad %s %d", "thing", 7), SL_ECONFIG);
    cr_assert_str_eq(err.message, "t.yaml:2:10: bad thing 7");
    cr_assert_eq(err.code, SL_ECONFIG);
    cr_assert_eq(sl_node_error(&err, NULL, "no place"), SL_ECONFIG);
    cr_assert_str_eq(err.message, "no place");
    sl_config_free(doc);
}

Test(config, list_items_and_block_positions)
{
    sl_config_doc *doc = load_ok("hosts:\n  - a:1\n  - \"b\"\n  -\n    x: 1\n");
    const sl_node *hosts = sl_node_get(sl_config_root(doc), "hosts");
    cr_assert_eq(hosts->kind, SL_NODE_LIST);
    assert_at(hosts, 2, 3);
    cr_assert_eq(hosts->n_items, 3);
    assert_at(hosts->items[0], 2, 5);
    cr_assert_str_eq(hosts->items[0]->scalar, "a:1");
    cr_assert(hosts->items[1]->is_quoted);
    cr_assert_eq(hosts->items[2]->kind, SL_NODE_MAP);
    assert_at(hosts->items[2], 5, 5);
    sl_config_free(doc);
}

Test(config, null_is_only_plain_tilde_null_or_empty)
{
    sl_config_doc *doc = load_ok("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: 'null'\ng: \"\"\n"
                                 "h: nULL\ni: |\nj: x\n");
    const sl_node *root = sl_config_root(doc);
    const char *nulls[] = { "a", "b", "c", "d", "e" };
    const char *values[] = { "f", "g", "h", "i", "j" };
    for (size_t i = 0; i < 5; i++) {
        cr_assert(sl_node_get(root, nulls[i])->is_null, "%s should be null", nulls[i]);
        cr_assert_not(sl_node_get(root, values[i])->is_null, "%s should not be null",
                      values[i]);
    }
    cr_assert_str_eq(sl_node_get(root, "f")->scalar, "null");
    cr_assert_str_eq(sl_node_get(root, "e")->scalar, "");
    sl_config_free(doc);
}

Test(config, empty_or_comment_only_file_has_no_root)
{
    const char *texts[] = { "", "# only a comment\n\n", "---\n", "~\n", "--- ~\n...\n" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sl_config_doc *doc = load_ok(texts[i]);
        cr_assert_null(sl_config_root(doc), "text %zu", i);
        sl_config_free(doc);
    }
    cr_assert_null(sl_config_root(NULL));
    sl_config_free(NULL);
}

/* The messages of single mistakes (duplicate keys, YAML syntax, bad
 * bytes, aliases, references) are cases in tests/config, checked through
 * `sluice validate`; what stays here needs more than one small file. */

Test(config, same_keys_at_different_levels_are_not_duplicates)
{
    sl_config_doc *doc = load_ok("a: {x: 1}\nb: {x: 1}\nx: 3\n");
    sl_config_free(doc);
}

Test(config, duplicate_key_reported_is_the_earliest_repeat_among_many_keys)
{
    char text[40000];
    size_t used = 0;
    for (int i = 0; i < 2000; i++) used += (size_t)snprintf(text + used, sizeof text - used,
                                                            "k%d: %d\n", i, i);
    used += (size_t)snprintf(text + used, sizeof text - used, "k1500: again\nk7: again\n");
    cr_assert_str_eq(load_error(text, used),
                     "t.yaml:2001:1: duplicate key 'k1500' (first at line 1501)");
}

Test(config, anchors_and_aliases_share_the_node)
{
    sl_config_doc *doc = load_ok("common: &conn { host: db, port: 5432 }\n"
                                 "a: *conn\n"
                                 "list: [&one x, *one, *conn]\n");
    const sl_node *root = sl_config_root(doc);
    const sl_node *common = sl_node_get(root, "common");
    cr_assert_eq(sl_node_get(root, "a"), common);
    const sl_node *list = sl_node_get(root, "list");
    cr_assert_eq(list->n_items, 3);
    cr_assert_str_eq(list->items[1]->scalar, "x");
    cr_assert_eq(list->items[0], list->items[1]);
    cr_assert_eq(list->items[2], common);
    cr_assert_str_eq(sl_node_get(sl_node_get(root, "a"), "port")->scalar, "5432");
    sl_config_free(doc);
}

Test(config, interpolates_values_from_the_environment)
{
    setenv("SL_TEST_HOST", "db.internal", 1);
    setenv("SL_TEST_EMPTY", "", 1);
    setenv("SL_TEST_BRACES", "${NOT_EXPANDED}", 1);
    unsetenv("SL_TEST_UNSET");
    sl_config_doc *doc = load_ok("host: ${SL_TEST_HOST}:5432\n"
                                 "fallback: ${SL_TEST_UNSET:-localhost:9092}\n"
                                 "empty: ${SL_TEST_EMPTY:-used}\n"
                                 "set: ${SL_TEST_HOST:-ignored}\n"
                                 "nested: ${SL_TEST_UNSET:-${SL_TEST_HOST}}\n"
                                 "unused_default: ${SL_TEST_HOST:-${SL_TEST_UNSET}}\n"
                                 "literal: $${SL_TEST_HOST} and $$x and $5 and $\n"
                                 "quoted: 'a-${SL_TEST_HOST}'\n"
                                 "from_env_is_not_expanded: ${SL_TEST_BRACES}\n"
                                 "empty_default: x${SL_TEST_UNSET:-}y\n"
                                 "${SL_TEST_HOST}: key stays\n"
                                 "list: [${SL_TEST_HOST}, b]\n");
    const sl_node *root = sl_config_root(doc);
    cr_assert_str_eq(sl_node_get(root, "host")->scalar, "db.internal:5432");
    cr_assert_str_eq(sl_node_get(root, "fallback")->scalar, "localhost:9092");
    cr_assert_str_eq(sl_node_get(root, "empty")->scalar, "used");
    cr_assert_str_eq(sl_node_get(root, "set")->scalar, "db.internal");
    cr_assert_str_eq(sl_node_get(root, "nested")->scalar, "db.internal");
    cr_assert_str_eq(sl_node_get(root, "unused_default")->scalar, "db.internal");
    cr_assert_str_eq(sl_node_get(root, "literal")->scalar,
                     "${SL_TEST_HOST} and $$x and $5 and $");
    cr_assert_str_eq(sl_node_get(root, "quoted")->scalar, "a-db.internal");
    cr_assert_str_eq(sl_node_get(root, "from_env_is_not_expanded")->scalar, "${NOT_EXPANDED}");
    cr_assert_str_eq(sl_node_get(root, "empty_default")->scalar, "xy");
    cr_assert_str_eq(sl_node_get(root, "${SL_TEST_HOST}")->scalar, "key stays");
    cr_assert_str_eq(sl_node_get(root, "list")->items[0]->scalar, "db.internal");
    sl_config_free(doc);
}

Test(config, references_work_inside_flow_collections_and_keep_positions)
{
    setenv("SL_TEST_HOST", "db.internal", 1);
    unsetenv("KAFKA");
    sl_config_doc *doc = load_ok(
        "kafka: { brokers: ${KAFKA:-localhost:9092}, topic: user_data, group: store_users }\n"
        "hosts: [${SL_TEST_HOST}:9042, \"${SL_TEST_HOST}\", $${SL_TEST_HOST}, x]\n"
        "nested: {a: ${SL_TEST_UNSET:-${SL_TEST_HOST:-z}}, b: y}\n"
        "comment: 1 # ${SL_TEST_UNSET} in a comment is never expanded\n");
    const sl_node *root = sl_config_root(doc);
    const sl_node *kafka = sl_node_get(root, "kafka");
    cr_assert_str_eq(sl_node_get(kafka, "brokers")->scalar, "localhost:9092");
    assert_at(sl_node_get(kafka, "brokers"), 1, 19);
    cr_assert_str_eq(sl_node_get(kafka, "topic")->scalar, "user_data");
    cr_assert_eq(sl_node_get_pair(kafka, "topic")->key_column, 45);
    assert_at(sl_node_get(kafka, "group"), 1, 70);
    const sl_node *hosts = sl_node_get(root, "hosts");
    cr_assert_eq(hosts->n_items, 4);
    cr_assert_str_eq(hosts->items[0]->scalar, "db.internal:9042");
    cr_assert_str_eq(hosts->items[1]->scalar, "db.internal");
    cr_assert_str_eq(hosts->items[2]->scalar, "${SL_TEST_HOST}");
    assert_at(hosts->items[3], 2, 68);
    cr_assert_str_eq(sl_node_get(sl_node_get(root, "nested"), "a")->scalar, "db.internal");
    cr_assert_str_eq(sl_node_get(root, "comment")->scalar, "1");
    sl_config_free(doc);
}

Test(config, run_macros_are_left_for_the_task_run_and_never_read_from_the_environment)
{
    setenv("ds", "from-the-environment", 1);
    setenv("run_id", "from-the-environment", 1);
    setenv("SL_TEST_HOST", "db.internal", 1);
    unsetenv("SL_TEST_UNSET");
    unsetenv("DS");
    sl_config_doc *doc = load_ok("plain: ${ds}\n"
                                 "text: 'day ${ds} of ${dag_id}, try ${try_number}'\n"
                                 "escaped: $${ds} and $${SL_TEST_HOST}\n"
                                 "in_a_default: ${SL_TEST_UNSET:-${run_id}}\n"
                                 "unused_default: ${SL_TEST_HOST:-${ds}}\n"
                                 "mixed: ${SL_TEST_HOST}/${ds_nodash}/${ts_nodash}\n"
                                 "flow: [echo, ${ds}, \"${ts}\", $${ds}, x]\n"
                                 "after: {a: ${data_interval_start}, b: ${data_interval_end}, c: y}\n");
    const sl_node *root = sl_config_root(doc);
    cr_assert_str_eq(sl_node_get(root, "plain")->scalar, "${ds}");
    cr_assert_str_eq(sl_node_get(root, "text")->scalar, "day ${ds} of ${dag_id}, try ${try_number}");
    cr_assert_str_eq(sl_node_get(root, "escaped")->scalar, "$${ds} and ${SL_TEST_HOST}");
    cr_assert_str_eq(sl_node_get(root, "in_a_default")->scalar, "${run_id}");
    cr_assert_str_eq(sl_node_get(root, "unused_default")->scalar, "db.internal");
    cr_assert_str_eq(sl_node_get(root, "mixed")->scalar, "db.internal/${ds_nodash}/${ts_nodash}");
    const sl_node *flow = sl_node_get(root, "flow");
    cr_assert_eq(flow->n_items, 5);
    cr_assert_str_eq(flow->items[1]->scalar, "${ds}");
    cr_assert_str_eq(flow->items[2]->scalar, "${ts}");
    cr_assert_str_eq(flow->items[3]->scalar, "$${ds}");
    assert_at(flow->items[1], 7, 14);
    assert_at(flow->items[4], 7, 38);
    const sl_node *after = sl_node_get(root, "after");
    cr_assert_str_eq(sl_node_get(after, "a")->scalar, "${data_interval_start}");
    cr_assert_str_eq(sl_node_get(after, "b")->scalar, "${data_interval_end}");
    assert_at(sl_node_get(after, "c"), 8, 64);
    sl_config_free(doc);

    /* Names are case-sensitive: ${DS} is an environment variable. */
    const char *text = "a: ${DS}\n";
    cr_assert_str_eq(load_error(text, strlen(text)),
                     "t.yaml:1:4: environment variable DS is not set (use ${DS:-default})");
    unsetenv("ds");
    unsetenv("run_id");
}

Test(config, a_run_macro_with_a_default_is_an_error_at_its_value)
{
    const char *text = "a: 1\nb: [x, \"echo ${ds:-today}\"]\n";
    cr_assert_str_eq(load_error(text, strlen(text)),
                     "t.yaml:2:8: ${ds} is a run macro, expanded when the task runs; it takes no default");
    text = "b: ${SL_TEST_UNSET:-${try_number:-1}}\n";
    unsetenv("SL_TEST_UNSET");
    cr_assert_str_eq(load_error(text, strlen(text)),
                     "t.yaml:1:4: ${try_number} is a run macro, expanded when the task runs; it takes no default");
}

Test(config, text_with_private_use_characters_still_loads)
{
    /* U+E000 in the file turns placeholders off: block references still work. */
    setenv("SL_TEST_HOST", "h", 1);
    sl_config_doc *doc = load_ok("a: \xee\x80\x80x\nb: ${SL_TEST_HOST}\n");
    cr_assert_str_eq(sl_node_get(sl_config_root(doc), "a")->scalar, "\xee\x80\x80x");
    cr_assert_str_eq(sl_node_get(sl_config_root(doc), "b")->scalar, "h");
    sl_config_free(doc);
}

Test(config, interpolate_alone_reports_without_position)
{
    sl_arena *arena = sl_arena_new(0);
    char *out = NULL;
    size_t len = 0;
    sl_error err = { 0 };
    setenv("SL_TEST_HOST", "h", 1);
    cr_assert_eq(sl_config_interpolate(arena, "a${SL_TEST_HOST}b", 17, &out, &len, &err), SL_OK);
    cr_assert_str_eq(out, "ahb");
    cr_assert_eq(len, 3);
    /* Only len bytes count: the reference after them is never seen. */
    cr_assert_eq(sl_config_interpolate(arena, "plain${", 5, &out, &len, &err), SL_OK);
    cr_assert_str_eq(out, "plain");
    cr_assert_eq(sl_config_interpolate(arena, "${", 2, &out, &len, &err), SL_ECONFIG);
    cr_assert_str_eq(err.message, "unterminated '${' (missing '}')");
    /* Run macros pass through as they are written, escape included. */
    cr_assert_eq(sl_config_interpolate(arena, "a${ds}b$${ds}c$${ds_}", 21, &out, &len, &err), SL_OK);
    cr_assert_str_eq(out, "a${ds}b$${ds}c${ds_}");
    cr_assert_eq(len, 20);
    cr_assert_eq(sl_config_interpolate(arena, "${ds:-x}", 8, &out, &len, &err), SL_ECONFIG);
    cr_assert_str_eq(err.message, "${ds} is a run macro, expanded when the task runs; it takes no default");
    sl_arena_free(arena);
}

Test(config, load_file_reads_and_names_the_path)
{
    char dir[64], path[128];
    test_make_temp_dir(dir, sizeof dir, "config");
    snprintf(path, sizeof path, "%s/sluice.yaml", dir);
    test_write_text(path, "a: 1\nb: [x\n");
    sl_config_doc *doc = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_config_load_file(path, &doc, &err), SL_ECONFIG);
    char expected[256];
    snprintf(expected, sizeof expected,
             "%s:3:1: did not find expected ',' or ']' (while parsing a flow sequence)", path);
    cr_assert_str_eq(err.message, expected);

    test_write_text(path, "a: 1\nb: [x]\n");
    cr_assert_eq(sl_config_load_file(path, &doc, &err), SL_OK, "%s", err.message);
    const sl_node *b = sl_node_get(sl_config_root(doc), "b");
    cr_assert_str_eq(b->file, path);
    cr_assert_str_eq(b->items[0]->scalar, "x");
    sl_config_free(doc);
    test_remove_tree(dir);

    doc = NULL;
    cr_assert_eq(sl_config_load_file("/nonexistent/sluice.yaml", &doc, &err), SL_EIO);
    cr_assert_str_eq(err.message, "/nonexistent/sluice.yaml: cannot read: No such file or directory");
    cr_assert_null(doc);
    cr_assert_eq(sl_config_load_file("/tmp", &doc, &err), SL_EIO);
    cr_assert_str_eq(err.message, "/tmp: cannot read: Is a directory");
}

/* ---- settings tables ---------------------------------------------------- */

typedef struct sample_conf {
    char *path;
    int64_t count;
    double ratio;
    bool is_enabled;
    sl_str_list hosts;
    int64_t timeout_ms;
    int64_t max_bytes;
    const sl_node *schema;
    char *format;
} sample_conf;

static const char *const format_choices[] = { "text", "json", NULL };

static const sl_option sample_options[] = {
    { "path", SL_OPT_STRING, offsetof(sample_conf, path), .required = true },
    { "count", SL_OPT_INT, offsetof(sample_conf, count), .default_value = "10" },
    { "ratio", SL_OPT_DOUBLE, offsetof(sample_conf, ratio), .default_value = "0.5" },
    { "enabled", SL_OPT_BOOL, offsetof(sample_conf, is_enabled), .default_value = "yes" },
    { "hosts", SL_OPT_STR_LIST, offsetof(sample_conf, hosts), .default_value = "localhost" },
    { "timeout", SL_OPT_DURATION, offsetof(sample_conf, timeout_ms), .default_value = "30s" },
    { "max_size", SL_OPT_SIZE, offsetof(sample_conf, max_bytes), .default_value = "1MiB" },
    { "schema", SL_OPT_MAP, offsetof(sample_conf, schema) },
    { "format", SL_OPT_STRING, offsetof(sample_conf, format), .default_value = "text",
      .choices = format_choices },
    { 0 },
};

/* Applies the first root key's value (a mapping) to a fresh conf. */
static int apply_text(const char *text, sample_conf *conf, sl_error *err, sl_config_doc **doc)
{
    *doc = load_ok(text);
    memset(conf, 0, sizeof *conf);
    const sl_node *block = sl_config_root(*doc)->pairs[0].value;
    return sl_options_apply(sample_options, block, conf, "pipelines.p.sink.test", err);
}

static const char *apply_error(const char *text)
{
    static sl_error err;
    sample_conf conf;
    sl_config_doc *doc = NULL;
    memset(&err, 0, sizeof err);
    int rc = apply_text(text, &conf, &err, &doc);
    cr_assert_eq(rc, SL_ECONFIG, "expected SL_ECONFIG, got %d: %s", rc, err.message);
    /* A failed apply leaves nothing behind for the caller to free. */
    cr_assert_null(conf.path);
    cr_assert_null(conf.format);
    cr_assert_null(conf.hosts.items);
    sl_options_free(sample_options, &conf);
    sl_config_free(doc);
    return err.message;
}

#define assert_apply_error(text, expected) cr_assert_str_eq(apply_error(text), expected)

Test(config, options_apply_every_type_from_the_file)
{
    sample_conf conf;
    sl_error err = { 0 };
    sl_config_doc *doc = NULL;
    int rc = apply_text("test:\n"
                        "  path: data/users.db\n"
                        "  count: -100_000\n"
                        "  ratio: 2.5e-1\n"
                        "  enabled: OFF\n"
                        "  hosts: [a:9042, 'b:9042']\n"
                        "  timeout: 1.5s\n"
                        "  max_size: 64KiB\n"
                        "  schema: { type: record, fields: [] }\n"
                        "  format: json\n",
                        &conf, &err, &doc);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_str_eq(conf.path, "data/users.db");
    cr_assert_eq(conf.count, -100000);
    cr_assert_float_eq(conf.ratio, 0.25, 1e-12);
    cr_assert_not(conf.is_enabled);
    cr_assert_eq(conf.hosts.n_items, 2);
    cr_assert_str_eq(conf.hosts.items[0], "a:9042");
    cr_assert_str_eq(conf.hosts.items[1], "b:9042");
    cr_assert_eq(conf.timeout_ms, 1500);
    cr_assert_eq(conf.max_bytes, 65536);
    cr_assert_eq(conf.schema->kind, SL_NODE_MAP);
    cr_assert_str_eq(sl_node_get(conf.schema, "type")->scalar, "record");
    cr_assert_str_eq(conf.format, "json");
    sl_options_free(sample_options, &conf);
    cr_assert_null(conf.path);
    cr_assert_null(conf.hosts.items);
    cr_assert_eq(conf.hosts.n_items, 0);
    sl_options_free(sample_options, &conf);   /* twice is harmless */
    sl_config_free(doc);
}

Test(config, options_defaults_fill_absent_and_null_settings)
{
    sample_conf conf;
    sl_error err = { 0 };
    sl_config_doc *doc = NULL;
    int rc = apply_text("test: { path: p, count: ~, hosts: }\n", &conf, &err, &doc);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_eq(conf.count, 10);
    cr_assert_float_eq(conf.ratio, 0.5, 1e-12);
    cr_assert(conf.is_enabled);
    cr_assert_eq(conf.hosts.n_items, 1);
    cr_assert_str_eq(conf.hosts.items[0], "localhost");
    cr_assert_eq(conf.timeout_ms, 30000);
    cr_assert_eq(conf.max_bytes, 1048576);
    cr_assert_null(conf.schema);
    cr_assert_str_eq(conf.format, "text");
    sl_options_free(sample_options, &conf);
    sl_config_free(doc);
}

Test(config, options_single_scalar_is_a_one_item_list)
{
    sample_conf conf;
    sl_error err = { 0 };
    sl_config_doc *doc = NULL;
    cr_assert_eq(apply_text("test: { path: p, hosts: only:1 }\n", &conf, &err, &doc), SL_OK);
    cr_assert_eq(conf.hosts.n_items, 1);
    cr_assert_str_eq(conf.hosts.items[0], "only:1");
    sl_options_free(sample_options, &conf);
    sl_config_free(doc);
}

Test(config, options_missing_required_names_the_block)
{
    assert_apply_error("test:\n  count: 3\n",
                       "t.yaml:2:3: pipelines.p.sink.test: missing required setting 'path'");
    assert_apply_error("test: { path: ~ }\n",
                       "t.yaml:1:7: pipelines.p.sink.test: missing required setting 'path'");
    sample_conf conf = { 0 };
    sl_error err = { 0 };
    cr_assert_eq(sl_options_apply(sample_options, NULL, &conf, "sink.test", &err), SL_ECONFIG);
    cr_assert_str_eq(err.message, "sink.test: missing required setting 'path'");
}

Test(config, options_unknown_key_lists_known_settings)
{
    assert_apply_error("test:\n  path: p\n  tiemout: 5s\n",
                       "t.yaml:3:3: unknown setting 'tiemout' in pipelines.p.sink.test (known: "
                       "path, count, ratio, enabled, hosts, timeout, max_size, schema, format)");
}

Test(config, options_wrong_types_name_setting_and_value)
{
    assert_apply_error("test: { path: p, count: abc }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.count: expected an integer, found 'abc'");
    assert_apply_error("test: { path: p, count: 12x }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.count: expected an integer, found '12x'");
    assert_apply_error("test: { path: p, count: 1__0 }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.count: expected an integer, found '1__0'");
    assert_apply_error("test: { path: p, count: 9223372036854775808 }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.count: expected an integer, "
                       "found '9223372036854775808' (out of range)");
    assert_apply_error("test: { path: p, ratio: 1.5.2 }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.ratio: expected a number, found '1.5.2'");
    assert_apply_error("test: { path: p, ratio: nan }\n",
                       "t.yaml:1:25: pipelines.p.sink.test.ratio: expected a number, found 'nan'");
    assert_apply_error("test: { path: p, enabled: maybe }\n",
                       "t.yaml:1:27: pipelines.p.sink.test.enabled: expected a boolean "
                       "(true/false, yes/no, on/off), found 'maybe'");
    assert_apply_error("test: { path: p, timeout: -5s }\n",
                       "t.yaml:1:27: pipelines.p.sink.test.timeout: expected a duration "
                       "(like 500ms, 10s, 1h30m; a bare number is seconds), found '-5s'");
    assert_apply_error("test: { path: p, max_size: 1K }\n",
                       "t.yaml:1:28: pipelines.p.sink.test.max_size: expected a size "
                       "(like 512, 64KiB, 1MiB, 10MB), found '1K'");
    assert_apply_error("test: { path: p, max_size: 9000000TiB }\n",
                       "t.yaml:1:28: pipelines.p.sink.test.max_size: expected a size "
                       "(like 512, 64KiB, 1MiB, 10MB), found '9000000TiB' (out of range)");
}

Test(config, options_shape_mismatches_are_errors)
{
    assert_apply_error("test:\n  path: { a: 1 }\n",
                       "t.yaml:2:9: pipelines.p.sink.test.path: expected a scalar, found a mapping");
    assert_apply_error("test:\n  path: p\n  count: [1]\n",
                       "t.yaml:3:10: pipelines.p.sink.test.count: expected a scalar, found a list");
    assert_apply_error("test:\n  path: p\n  hosts: { a: 1 }\n",
                       "t.yaml:3:10: pipelines.p.sink.test.hosts: expected a list or a scalar, "
                       "found a mapping");
    assert_apply_error("test:\n  path: p\n  hosts: [a, [b]]\n",
                       "t.yaml:3:14: pipelines.p.sink.test.hosts[1]: expected a scalar, found a list");
    assert_apply_error("test:\n  path: p\n  hosts: [a, ~]\n",
                       "t.yaml:3:14: pipelines.p.sink.test.hosts[1]: expected a scalar, found null");
    assert_apply_error("test: [1, 2]\n",
                       "t.yaml:1:7: pipelines.p.sink.test: expected a mapping, found a list");
}

Test(config, options_choices_are_enforced)
{
    assert_apply_error("test: { path: p, format: xml }\n",
                       "t.yaml:1:26: pipelines.p.sink.test.format: expected one of text, json; "
                       "found 'xml'");
}

Test(config, options_values_come_after_interpolation)
{
    setenv("SL_TEST_COUNT", "77", 1);
    unsetenv("SL_TEST_UNSET");
    sample_conf conf;
    sl_error err = { 0 };
    sl_config_doc *doc = NULL;
    int rc = apply_text("test: { path: \"${SL_TEST_UNSET:-/tmp/x}\", count: ${SL_TEST_COUNT}, "
                        "timeout: ${SL_TEST_UNSET:-250ms} }\n",
                        &conf, &err, &doc);
    cr_assert_eq(rc, SL_OK, "%s", err.message);
    cr_assert_str_eq(conf.path, "/tmp/x");
    cr_assert_eq(conf.count, 77);
    cr_assert_eq(conf.timeout_ms, 250);
    sl_options_free(sample_options, &conf);
    sl_config_free(doc);
}

/* ---- bounds, planned settings, every mistake in one pass ---- */

typedef struct bounded_conf {
    int64_t workers;
    double rate;
    int64_t timeout_ms;
    int64_t max_bytes;
    int64_t offset;
} bounded_conf;

static const sl_option bounded_options[] = {
    { "workers", SL_OPT_INT, offsetof(bounded_conf, workers), .default_value = "2", .min = "1", .max = "8" },
    { "rate", SL_OPT_DOUBLE, offsetof(bounded_conf, rate), .default_value = "0", .min = "0" },
    { "timeout", SL_OPT_DURATION, offsetof(bounded_conf, timeout_ms), .default_value = "1s", .max = "1m" },
    { "max_bytes", SL_OPT_SIZE, offsetof(bounded_conf, max_bytes), .default_value = "1KiB", .min = "1KiB",
      .max = "1MiB" },
    { "offset", SL_OPT_INT, offsetof(bounded_conf, offset) },
    { "http", SL_OPT_UNSUPPORTED, .help = "the HTTP API, which is not built yet" },
    { 0 },
};

static const char *bounded_error(const char *text)
{
    static sl_error err;
    bounded_conf conf = { 0 };
    sl_config_doc *doc = load_ok(text);
    memset(&err, 0, sizeof err);
    int rc = sl_options_apply(bounded_options, sl_config_root(doc), &conf, "b", &err);
    cr_assert_eq(rc, SL_ECONFIG, "%s: expected SL_ECONFIG, got %d", text, rc);
    sl_config_free(doc);
    return err.message;
}

Test(config, options_bounds_are_checked_with_the_position)
{
    cr_assert_str_eq(bounded_error("workers: 0\n"), "t.yaml:1:10: b.workers: must be between 1 and 8, found '0'");
    cr_assert_str_eq(bounded_error("workers: 9\n"), "t.yaml:1:10: b.workers: must be between 1 and 8, found '9'");
    cr_assert_str_eq(bounded_error("rate: -0.5\n"), "t.yaml:1:7: b.rate: must be at least 0, found '-0.5'");
    cr_assert_str_eq(bounded_error("timeout: 1m1ms\n"), "t.yaml:1:10: b.timeout: must be at most 1m, found '1m1ms'");
    cr_assert_str_eq(bounded_error("max_bytes: 1023\n"),
                     "t.yaml:1:12: b.max_bytes: must be between 1KiB and 1MiB, found '1023'");
    /* The bounds themselves are allowed; a setting without bounds takes anything. */
    bounded_conf conf = { 0 };
    sl_error err = { 0 };
    sl_config_doc *doc = load_ok("workers: 8\nrate: 0\ntimeout: 60s\nmax_bytes: 1MiB\noffset: -9\n");
    cr_assert_eq(sl_options_apply(bounded_options, sl_config_root(doc), &conf, "b", &err), SL_OK, "%s", err.message);
    cr_assert_eq(conf.workers, 8);
    cr_assert_eq(conf.timeout_ms, 60000);
    cr_assert_eq(conf.max_bytes, 1048576);
    cr_assert_eq(conf.offset, -9);
    sl_config_free(doc);
}

Test(config, options_unsupported_settings_are_errors_saying_so)
{
    cr_assert_str_eq(bounded_error("workers: 2\nhttp: { port: 80 }\n"),
                     "t.yaml:2:1: b.http: not supported yet: the HTTP API, which is not built yet; remove it");
    /* ...and are not offered as known settings. */
    cr_assert_str_eq(bounded_error("htp: 1\n"),
                     "t.yaml:1:1: unknown setting 'htp' in b (known: workers, rate, timeout, max_bytes, offset)");
}

Test(config, options_apply_all_reports_every_mistake_and_keeps_defaults)
{
    sl_config_doc *doc = load_ok("workers: 99\ncolour: red\nrate: fast\ntimeout: 2s\nhttp: {}\n");
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, "t.yaml");
    bounded_conf conf = { 0 };
    cr_assert_eq(sl_options_apply_all(bounded_options, sl_config_root(doc), &conf, "", &diags), SL_ECONFIG);
    cr_assert_eq(sl_diag_n_errors(&diags), 4);
    /* A bad value leaves the default; good values are kept. */
    cr_assert_eq(conf.workers, 2);
    cr_assert_float_eq(conf.rate, 0.0, 1e-12);
    cr_assert_eq(conf.timeout_ms, 2000);
    sl_diagnostics_sort(&diags);
    const char *want[] = {
        "t.yaml:1:10: workers: must be between 1 and 8, found '99'",
        "t.yaml:2:1: unknown setting 'colour' at the top level (known: workers, rate, timeout, max_bytes, offset)",
        "t.yaml:3:7: rate: expected a number, found 'fast'",
        "t.yaml:5:1: http: not supported yet: the HTTP API, which is not built yet; remove it",
    };
    cr_assert_eq(diags.n_items, 4);
    for (size_t i = 0; i < 4; i++) {
        char text[600];
        sl_diagnostic_format(&diags.items[i], text, sizeof text);
        cr_assert_str_eq(text, want[i]);
    }
    sl_options_free(bounded_options, &conf);
    sl_diagnostics_free(&diags);
    sl_config_free(doc);
}

Test(config, diagnostics_sort_by_position_and_split_positions_from_errors)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, "a:b.yaml");
    sl_error err = { 0 };
    sl_error_set(&err, SL_ECONFIG, "a:b.yaml:7:3: late");
    cr_assert_eq(sl_diag_add_error(&diags, &err), SL_ECONFIG);
    sl_diag_error_at_position(&diags, "a:b.yaml", 2, 9, "early %d", 1);
    sl_diag_error_at_position(&diags, "a:b.yaml", 2, 9, "early %d", 2);
    sl_error_set(&err, SL_EIO, "a:b.yaml: cannot read");
    cr_assert_eq(sl_diag_add_error(&diags, &err), SL_EIO);
    sl_node node = { .file = "a:b.yaml", .line = 2, .column = 1 };
    sl_diag_warning_at(&diags, &node, "careful");
    sl_error_set(&err, SL_ECONFIG, "no position here");
    sl_diag_add_error_at(&diags, &node, "ctx", &err);
    cr_assert_eq(sl_diag_n_errors(&diags), 5);
    cr_assert_eq(diags.n_warnings, 1);
    sl_diagnostics_sort(&diags);
    const char *want[] = {
        "a:b.yaml: cannot read", "a:b.yaml:2:1: warning: careful", "a:b.yaml:2:1: ctx: no position here",
        "a:b.yaml:2:9: early 1", "a:b.yaml:2:9: early 2", "a:b.yaml:7:3: late",
    };
    cr_assert_eq(diags.n_items, 6);
    for (size_t i = 0; i < 6; i++) {
        char text[600];
        sl_diagnostic_format(&diags.items[i], text, sizeof text);
        cr_assert_str_eq(text, want[i]);
    }
    cr_assert_eq(sl_diag_first_error(&diags, &err), SL_EIO);
    cr_assert_str_eq(err.message, "a:b.yaml: cannot read");
    sl_diagnostics_free(&diags);
}

Test(config, options_bad_default_in_table_is_reported)
{
    static const sl_option broken[] = {
        { "n", SL_OPT_INT, 0, .default_value = "ten" },
        { 0 },
    };
    int64_t n = 0;
    sl_error err = { 0 };
    cr_assert_eq(sl_options_apply(broken, NULL, &n, "x", &err), SL_ECONFIG);
    cr_assert_str_eq(err.message,
                     "x.n: expected an integer, found 'ten' (in the settings table's default)");
}

Test(config, options_integer_edges)
{
    static const sl_option ints[] = { { "n", SL_OPT_INT, 0 }, { 0 } };
    struct { const char *text; int64_t value; } good[] = {
        { "0", 0 },
        { "+7", 7 },
        { "-0", 0 },
        { "100_000", 100000 },
        { "9223372036854775807", INT64_MAX },
        { "-9223372036854775808", INT64_MIN },
        { "007", 7 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "n: %s\n", good[i].text);
        sl_config_doc *doc = load_ok(text);
        int64_t n = -1;
        sl_error err = { 0 };
        cr_assert_eq(sl_options_apply(ints, sl_config_root(doc), &n, "x", &err), SL_OK,
                     "%s: %s", good[i].text, err.message);
        cr_assert_eq(n, good[i].value, "%s gave %lld", good[i].text, (long long)n);
        sl_config_free(doc);
    }
    const char *bad[] = { "-9223372036854775809", "_1", "1_", "--1", "1 0", "0x10", "''", "1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "n: %s\n", bad[i]);
        sl_config_doc *doc = load_ok(text);
        int64_t n = 0;
        sl_error err = { 0 };
        cr_assert_eq(sl_options_apply(ints, sl_config_root(doc), &n, "x", &err), SL_ECONFIG,
                     "%s accepted", bad[i]);
        sl_config_free(doc);
    }
}

Test(config, parse_duration_units_and_rejections)
{
    struct { const char *text; int64_t ms; } good[] = {
        { "250ms", 250 },    { "10s", 10000 },      { "5m", 300000 },
        { "2h", 7200000 },   { "7d", 604800000 },   { "1.5s", 1500 },
        { "0.25m", 15000 },  { "0", 0 },            { "10 s", 10000 },
        { "0.5ms", 0 },      { "1.0000009s", 1000 },
        /* A bare number is seconds, as on the command line (--for 3). */
        { "3", 3000 },       { "1500", 1500000 },   { "1.5", 1500 },
        /* Several terms add up. */
        { "1h30m", 5400000 }, { "2m30s", 150000 },  { "1h 30m", 5400000 },
        { "1d2h3m4s5ms", 93784005 }, { "1m1m", 120000 },
        { "106751991167d", INT64_C(106751991167) * 86400000 },
        { "9223372036854775807ms", INT64_MAX },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        cr_assert_eq(sl_parse_duration(good[i].text, &ms), SL_OK, "%s", good[i].text);
        cr_assert_eq(ms, good[i].ms, "%s gave %lld", good[i].text, (long long)ms);
    }
    const char *junk[] = { "", "-5s", "+5s", "s", "5x", "5S", "1.s", ".5s", "5 ms x", "5sec", "1e3",
                           "1h30", "30 1h", "1h  30m", "1h30m ", " 1h", "h1", "1,5s", "xyz", "1.5.2s" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int64_t ms = 0;
        cr_assert_eq(sl_parse_duration(junk[i], &ms), SL_EPARSE, "%s", junk[i]);
    }
    int64_t ms = 0;
    cr_assert_eq(sl_parse_duration("106751991168d", &ms), SL_ETOOBIG);
    cr_assert_eq(sl_parse_duration("99999999999999999999", &ms), SL_ETOOBIG);
    cr_assert_eq(sl_parse_duration("9223372036854775807", &ms), SL_ETOOBIG, "a bare number is seconds");
    cr_assert_eq(sl_parse_duration("106751991167d106751991167d", &ms), SL_ETOOBIG);
    cr_assert_eq(sl_parse_duration("9223372036854775807.9ms", &ms), SL_OK);
    cr_assert_eq(sl_parse_duration("9223372036854775807.9s", &ms), SL_ETOOBIG);
}

Test(config, parse_size_units_and_rejections)
{
    struct { const char *text; int64_t bytes; } good[] = {
        { "512", 512 },
        { "0", 0 },
        { "64KiB", 65536 },
        { "1MiB", 1048576 },
        { "1GiB", INT64_C(1073741824) },
        { "2TiB", INT64_C(2199023255552) },
        { "10MB", 10000000 },
        { "1KB", 1000 },
        { "3GB", INT64_C(3000000000) },
        { "1tb", INT64_C(1000000000000) },
        { "1.5KiB", 1536 },
        { "100B", 100 },
        { "16 mib", 16777216 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t bytes = -1;
        cr_assert_eq(sl_parse_size(good[i].text, &bytes), SL_OK, "%s", good[i].text);
        cr_assert_eq(bytes, good[i].bytes, "%s gave %lld", good[i].text, (long long)bytes);
    }
    const char *junk[] = { "", "-1", "1K", "1M", "KiB", "1 KiB B", "1kibb", "1,5MB" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int64_t bytes = 0;
        cr_assert_eq(sl_parse_size(junk[i], &bytes), SL_EPARSE, "%s", junk[i]);
    }
    int64_t bytes = 0;
    cr_assert_eq(sl_parse_size("8388608TiB", &bytes), SL_ETOOBIG);
    cr_assert_eq(sl_parse_size("8388607TiB", &bytes), SL_OK);
    cr_assert_eq(bytes, INT64_C(8388607) * 1024 * 1024 * 1024 * 1024);
}

Test(config, str_list_free_accepts_empty_and_null)
{
    sl_str_list list = { NULL, 0 };
    sl_str_list_free(&list);
    sl_str_list_free(NULL);
    list.items = malloc(2 * sizeof *list.items);
    list.items[0] = strdup("a");
    list.items[1] = strdup("b");
    list.n_items = 2;
    sl_str_list_free(&list);
    cr_assert_null(list.items);
    cr_assert_eq(list.n_items, 0);
}
