/* cassandra_schema_test.c — the cassandra sink's type inference over a
 * batch, declared columns, and the exact CQL text of CREATE KEYSPACE,
 * CREATE TABLE (single, composite and clustering keys) and INSERT. */
#include <criterion/criterion.h>

#include <string.h>

#include "config/config.h"
#include "connectors/cassandra/cassandra_schema.h"
#include "core/batch.h"
#include "test_util.h"

static sl_batch *batch_of(const char *const *lines, size_t n)
{
    sl_batch *batch = sl_batch_new(16);
    cr_assert_not_null(batch);
    for (size_t i = 0; i < n; i++) test_add_json(batch, lines[i]);
    return batch;
}

static const sl_node *node_at(sl_config_doc **doc, const char *yaml, const char *key)
{
    sl_error err;
    cr_assert_eq(sl_config_load_string("t.yaml", yaml, strlen(yaml), doc, &err), SL_OK, "%s", err.message);
    const sl_node *node = sl_node_get(sl_config_root(*doc), key);
    cr_assert_not_null(node);
    return node;
}

static const char *text_of(sl_buffer *buffer)
{
    cr_assert_eq(sl_buffer_append_byte(buffer, '\0'), SL_OK);
    return buffer->data;
}

Test(cassandra_schema, infers_types_over_the_whole_batch_and_writes_mixed_values_as_text)
{
    const char *lines[] = {
        "{\"s\":\"a\",\"i\":1,\"d\":1.5,\"n\":2,\"b\":true,\"post\":4061,\"nul\":null,\"l\":[1],\"o\":{\"k\":1}}",
        "{\"s\":\"b\",\"i\":2,\"d\":2.5,\"n\":2.5,\"b\":false,\"post\":\"V4Z 2P4\",\"nul\":null,\"l\":[],\"o\":{}}",
    };
    sl_batch *batch = batch_of(lines, 2);
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "s"), "text");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "i"), "bigint");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "d"), "double");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "n"), "double");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "b"), "boolean");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "post"), "text");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "nul"), "text");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "missing"), "text");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "l"), "list<text>");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "o"), "map<text, text>");
    sl_batch_free(batch);
}

Test(cassandra_schema, infers_text_for_intervals_as_for_strings)
{
    const char *lines[] = { "{\"iv\":0,\"mix\":\"a\"}", "{\"iv\":0,\"mix\":0}" };
    sl_batch *batch = batch_of(lines, 2);
    for (size_t i = 0; i < 2; i++) batch->records[i].value.object.members[0].value = sl_value_interval(1, 2, 3);
    batch->records[1].value.object.members[1].value = sl_value_interval(0, 1, 0);
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "iv"), "text", "written as PostgreSQL's text");
    cr_assert_str_eq(sl_cassandra_infer_type(batch, "mix"), "text");
    sl_batch_free(batch);
}

Test(cassandra_schema, declared_types_win_and_the_rest_follow_the_sql_columns)
{
    const char *lines[] = { "{\"id\":\"6a0b4c1e-7b0e-4a53-9f0e-1a2b3c4d5e6f\",\"age\":30,\"city\":\"Oslo\"}" };
    sl_batch *batch = batch_of(lines, 1);
    sl_config_doc *doc = NULL;
    const sl_node *columns = node_at(&doc, "columns: { id: uuid, tags: 'frozen<set<text>>' }\n", "columns");
    sl_columns declared = { 0 }, planned = { 0 };
    sl_error err;
    cr_assert_eq(sl_cassandra_columns_from_node(columns, &declared, &err), SL_OK, "%s", err.message);
    cr_assert_eq(declared.n_columns, 2);
    cr_assert_str_eq(declared.types[1], "set<text>");
    const char *names[] = { "id", "age", "city" };
    cr_assert_eq(sl_cassandra_columns_plan(names, 3, &declared, batch, &planned, &err), SL_OK, "%s", err.message);
    cr_assert_eq(planned.n_columns, 4);
    cr_assert_str_eq(planned.names[0], "id");
    cr_assert_str_eq(planned.types[0], "uuid");
    cr_assert_str_eq(planned.types[1], "bigint");
    cr_assert_str_eq(planned.types[2], "text");
    cr_assert_str_eq(planned.names[3], "tags");
    sl_columns_free(&declared);
    sl_columns_free(&planned);
    sl_config_free(doc);
    sl_batch_free(batch);
}

Test(cassandra_schema, a_bad_declared_type_names_its_place_in_the_file)
{
    sl_config_doc *doc = NULL;
    const sl_node *columns = node_at(&doc, "columns:\n  id: uuid\n  n: lisst<int>\n", "columns");
    sl_columns declared = { 0 };
    sl_error err;
    cr_assert_eq(sl_cassandra_columns_from_node(columns, &declared, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "t.yaml:3:6") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "column 'n'") != NULL, "%s", err.message);
    sl_columns_free(&declared);
    sl_config_free(doc);
    /* An unknown word would parse as a user type's name: a typo must not. */
    columns = node_at(&doc, "columns: { age: integer }\n", "columns");
    cr_assert_eq(sl_cassandra_columns_from_node(columns, &declared, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "'integer' is not a CQL type") != NULL, "%s", err.message);
    sl_columns_free(&declared);
    sl_config_free(doc);
}

Test(cassandra_schema, create_statements_quote_names_and_shape_the_primary_key)
{
    sl_columns columns = { 0 };
    cr_assert_eq(sl_columns_add(&columns, "id", 2, "uuid"), SL_OK);
    cr_assert_eq(sl_columns_add(&columns, "day", 3, "date"), SL_OK);
    cr_assert_eq(sl_columns_add(&columns, "we\"ird", 6, "text"), SL_OK);
    sl_buffer cql = SL_BUFFER_INIT;
    sl_error err;
    char *one[] = { "id" };
    cr_assert_eq(sl_cassandra_build_create_table(&cql, "ks", "t", &columns, one, 1, 1, &err), SL_OK);
    cr_assert_str_eq(text_of(&cql), "CREATE TABLE IF NOT EXISTS \"ks\".\"t\" (\"id\" uuid, \"day\" date, "
                                    "\"we\"\"ird\" text, PRIMARY KEY ((\"id\")))");
    sl_buffer_clear(&cql);
    char *two[] = { "id", "day" };
    cr_assert_eq(sl_cassandra_build_create_table(&cql, "ks", "t", &columns, two, 2, 1, &err), SL_OK);
    cr_assert(strstr(text_of(&cql), "PRIMARY KEY ((\"id\"), \"day\"))") != NULL, "%s", cql.data);
    sl_buffer_clear(&cql);
    cr_assert_eq(sl_cassandra_build_create_table(&cql, "ks", "t", &columns, two, 2, 2, &err), SL_OK);
    cr_assert(strstr(text_of(&cql), "PRIMARY KEY ((\"id\", \"day\")))") != NULL, "%s", cql.data);
    sl_buffer_clear(&cql);
    char *bad[] = { "nope" };
    cr_assert_eq(sl_cassandra_build_create_table(&cql, "ks", "t", &columns, bad, 1, 1, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "'nope'") != NULL, "%s", err.message);
    sl_buffer_clear(&cql);
    cr_assert_eq(sl_cassandra_build_insert(&cql, "ks", "t", &columns, 0), SL_OK);
    cr_assert_str_eq(text_of(&cql), "INSERT INTO \"ks\".\"t\" (\"id\", \"day\", \"we\"\"ird\") VALUES (?, ?, ?)");
    sl_buffer_clear(&cql);
    cr_assert_eq(sl_cassandra_build_insert(&cql, "ks", "t", &columns, 3600), SL_OK);
    cr_assert(strstr(text_of(&cql), "VALUES (?, ?, ?) USING TTL 3600") != NULL, "%s", cql.data);
    sl_buffer_free(&cql);
    sl_columns_free(&columns);
}

Test(cassandra_schema, keyspace_replication_comes_from_config_or_defaults_to_one_replica)
{
    sl_buffer cql = SL_BUFFER_INIT;
    sl_error err;
    cr_assert_eq(sl_cassandra_build_create_keyspace(&cql, "spark_streams", NULL, &err), SL_OK);
    cr_assert_str_eq(text_of(&cql), "CREATE KEYSPACE IF NOT EXISTS \"spark_streams\" WITH replication = "
                                    "{'class': 'SimpleStrategy', 'replication_factor': '1'}");
    sl_buffer_clear(&cql);
    sl_config_doc *doc = NULL;
    const sl_node *replication = node_at(&doc, "replication: { class: NetworkTopologyStrategy, dc1: 3 }\n",
                                         "replication");
    cr_assert_eq(sl_cassandra_build_create_keyspace(&cql, "k", replication, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(text_of(&cql), "CREATE KEYSPACE IF NOT EXISTS \"k\" WITH replication = "
                                    "{'class': 'NetworkTopologyStrategy', 'dc1': '3'}");
    sl_config_free(doc);
    sl_buffer_clear(&cql);
    replication = node_at(&doc, "replication: { replication_factor: 3 }\n", "replication");
    cr_assert_eq(sl_cassandra_build_create_keyspace(&cql, "k", replication, &err), SL_ECONFIG);
    cr_assert(strstr(err.message, "needs a class") != NULL, "%s", err.message);
    sl_config_free(doc);
    sl_buffer_free(&cql);
}
