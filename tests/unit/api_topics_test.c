/* api_topics_test.c — the pieces of the topic routes that need no server:
 * a record as a MESSAGE (JSON, UTF-8 text or base64, the dead-letter
 * fields), the UTF-8 check, and a browse of a real log in a temporary data
 * dir merged over partitions whose timestamps go back in time (each
 * partition's records still taken in offset order, and the next offsets
 * continuing exactly after what was answered). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/json.h"
#include "log/log.h"
#include "server/topics/message_json.h"
#include "server/topics/topic_browse.h"
#include "test_util.h"

static char *message_text(const sl_record *record, bool is_dead_letter)
{
    sl_buffer buffer = SL_BUFFER_INIT;
    sl_json_out out;
    sl_json_out_init(&out, &buffer);
    sl_arena *arena = sl_arena_new(0);
    sl_message_json_write(&out, record, is_dead_letter, arena);
    sl_arena_free(arena);
    cr_assert_eq(out.rc, SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&buffer, '\0'), SL_OK);
    /* Whatever the bytes, the answer is JSON. */
    sl_arena *check = sl_arena_new(0);
    sl_value parsed;
    sl_error err;
    cr_assert_eq(sl_json_parse(check, buffer.data, buffer.len - 1, &parsed, &err), SL_OK, "%s: %s", buffer.data,
                 err.message);
    sl_arena_free(check);
    return buffer.data;
}

static sl_record record_of(const char *value, size_t len)
{
    return (sl_record){ .raw = { value, len }, .partition = 2, .offset = 7, .timestamp_ms = 1700000000123 };
}

Test(api_topics, values_are_json_text_or_base64)
{
    sl_record json = record_of("{\"a\": [1, 2.50]}", 16);
    char *text = message_text(&json, false);
    cr_assert(strstr(text, "\"value\":{\"a\": [1, 2.50]},\"value_encoding\":\"json\""), "%s", text);
    cr_assert(strstr(text, "\"timestamp\":\"2023-11-14T22:13:20.123"), "%s", text);
    cr_assert(strstr(text, "\"key\":null"), "%s", text);
    cr_assert(strstr(text, "\"partition\":2,\"offset\":7"), "%s", text);
    free(text);

    sl_record plain = record_of("caf\xc3\xa9 \"quoted\"\n", 15);
    text = message_text(&plain, false);
    cr_assert(strstr(text, "\"value\":\"caf\xc3\xa9 \\\"quoted\\\"\\n\",\"value_encoding\":\"utf8\""), "%s", text);
    free(text);

    sl_record binary = record_of("\xff\x00\x01", 3);
    binary.key = (sl_str){ "k\0y", 3 };   /* a NUL in a key: base64 too */
    sl_header header = { SL_STR_LIT("h"), { "\xc0\xaf", 2 } };   /* an overlong '/' */
    binary.headers = &header;
    binary.n_headers = 1;
    text = message_text(&binary, false);
    cr_assert(strstr(text, "\"value\":\"/wAB\",\"value_encoding\":\"base64\""), "%s", text);
    cr_assert(strstr(text, "\"key\":\"awB5\",\"key_encoding\":\"base64\""), "%s", text);
    cr_assert(strstr(text, "{\"key\":\"h\",\"value\":\"wK8=\",\"value_encoding\":\"base64\"}"), "%s", text);
    cr_assert(strstr(text, "\"size\":9"), "%s", text);
    free(text);

    sl_record empty = record_of("", 0);
    text = message_text(&empty, false);
    cr_assert(strstr(text, "\"value\":\"\",\"value_encoding\":\"utf8\""), "%s", text);
    free(text);
}

Test(api_topics, utf8_check_refuses_what_rfc_3629_refuses)
{
    cr_assert(sl_message_is_utf8("plain", 5));
    cr_assert(sl_message_is_utf8("\xe2\x82\xac \xf0\x9f\x98\x80", 8));
    cr_assert_not(sl_message_is_utf8("\xed\xa0\x80", 3), "a surrogate");
    cr_assert_not(sl_message_is_utf8("\xe0\x80\xaf", 3), "overlong");
    cr_assert_not(sl_message_is_utf8("\xf4\x90\x80\x80", 4), "above U+10FFFF");
    cr_assert_not(sl_message_is_utf8("\xe2\x82", 2), "cut short");
    cr_assert_not(sl_message_is_utf8("\x80", 1), "a lone continuation");
}

Test(api_topics, dead_letters_give_error_stage_and_origin)
{
    sl_record letter = record_of("not json", 8);
    sl_header headers[] = {
        { SL_STR_LIT("sluice.error"), SL_STR_LIT("invalid JSON: line 1") },
        { SL_STR_LIT("sluice.stage"), SL_STR_LIT("parse") },
        { SL_STR_LIT("sluice.source.partition"), SL_STR_LIT("3") },
        { SL_STR_LIT("sluice.source.offset"), SL_STR_LIT("1234") },
        { SL_STR_LIT("sluice.source.topic"), SL_STR_LIT("raw") },
    };
    letter.headers = headers;
    letter.n_headers = 5;
    char *text = message_text(&letter, true);
    cr_assert(strstr(text, "\"error\":\"invalid JSON: line 1\",\"stage\":\"parse\","
                           "\"origin\":{\"topic\":\"raw\",\"partition\":3,\"offset\":1234}}"), "%s", text);
    free(text);
    letter.n_headers = 0;
    text = message_text(&letter, true);
    cr_assert(strstr(text, "\"error\":null,\"stage\":null,\"origin\":{}"), "%s", text);
    free(text);
}

/* ---- a browse of a real log ---- */

static char data_dir[64];
/* The answers' texts: the parsed values point into them. */
static char *texts[8];
static int n_texts;

static void append(sl_topic *topic, int32_t partition, int64_t timestamp_ms, const char *value)
{
    sl_record record = { .raw = sl_str_from(value), .timestamp_ms = timestamp_ms };
    sl_error err;
    cr_assert_eq(sl_topic_append(topic, partition, &record, 1, NULL, &err), SL_OK, "%s", err.message);
}

static sl_value browse(sl_topic *topic, sl_browse_request request, sl_arena *arena)
{
    sl_buffer out = SL_BUFFER_INIT;
    sl_error err;
    cr_assert_eq(sl_topic_browse(topic, &request, &out, &err), SL_OK, "%s", err.message);
    char *text = malloc(out.len + 1);
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    sl_buffer_free(&out);
    sl_value value;
    cr_assert_eq(sl_json_parse(arena, text, strlen(text), &value, &err), SL_OK, "%s", text);
    cr_assert_lt(n_texts, 8);
    texts[n_texts++] = text;
    return value;
}

static int64_t member_int(const sl_value *object, const char *key)
{
    const sl_value *v = sl_value_get(object, sl_str_from(key));
    cr_assert(v && v->type == SL_TYPE_INT, "no integer %s", key);
    return v->integer;
}

Test(api_topics, a_merged_browse_takes_each_partition_in_offset_order_and_continues_after_it)
{
    test_make_temp_dir(data_dir, sizeof data_dir, "api-topics");
    sl_log *log;
    sl_topic *topic;
    sl_error err;
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_log_topic_create(log, "t", &(sl_topic_config){ .partitions = 2 }, &topic, &err), SL_OK);
    /* Partition 0's times go back: 100, 50, 300. Partition 1: 60, 200. */
    append(topic, 0, 100, "\"a\"");
    append(topic, 0, 50, "\"b\"");
    append(topic, 0, 300, "\"c\"");
    append(topic, 1, 60, "\"d\"");
    append(topic, 1, 200, "\"e\"");
    sl_arena *arena = sl_arena_new(0);
    sl_value page = browse(topic, (sl_browse_request){ .partition = -1, .limit = 3 }, arena);
    const sl_value *messages = sl_value_get(&page, SL_STR_LIT("messages"));
    cr_assert_eq(messages->array.n_items, 3);
    /* The heads merge by time: p1@0 (60) before p0@0 (100)? No: p0's head is 100 and p1's 60,
     * so d, then a (100) against e (200): a, then p0's b (50) is its head: b. */
    const char *expected[] = { "d", "a", "b" };
    for (size_t i = 0; i < 3; i++) {
        const sl_value *value = sl_value_get(&messages->array.items[i], SL_STR_LIT("value"));
        cr_assert(value && value->type == SL_TYPE_STRING && sl_str_eq_cstr(value->string, expected[i]),
                  "message %zu", i);
    }
    const sl_value *next = sl_value_get(sl_value_get(&page, SL_STR_LIT("next")), SL_STR_LIT("partition"));
    cr_assert_eq(member_int(next, "0"), 2, "after b comes offset 2 of partition 0");
    cr_assert_eq(member_int(next, "1"), 1, "after d comes offset 1 of partition 1");

    page = browse(topic, (sl_browse_request){ .partition = 0, .has_offset = true, .offset = 1, .limit = 1000 }, arena);
    messages = sl_value_get(&page, SL_STR_LIT("messages"));
    cr_assert_eq(messages->array.n_items, 2);
    cr_assert_eq(member_int(&messages->array.items[0], "offset"), 1);
    next = sl_value_get(sl_value_get(&page, SL_STR_LIT("next")), SL_STR_LIT("partition"));
    cr_assert_eq(member_int(next, "0"), 3);

    /* From a time: each partition from its first record at or past it. */
    page = browse(topic, (sl_browse_request){ .partition = -1, .has_time = true, .time_ms = 150, .limit = 10 }, arena);
    messages = sl_value_get(&page, SL_STR_LIT("messages"));
    cr_assert_eq(messages->array.n_items, 2);
    cr_assert_eq(member_int(&messages->array.items[0], "partition"), 1);   /* e at 200 */
    cr_assert_eq(member_int(&messages->array.items[1], "offset"), 2);      /* c at 300 */
    sl_arena_free(arena);
    for (int i = 0; i < n_texts; i++) free(texts[i]);
    sl_log_close(log);
    test_remove_tree(data_dir);
}

Test(api_topics, a_merged_browse_of_too_many_partitions_asks_for_one)
{
    test_make_temp_dir(data_dir, sizeof data_dir, "api-topics-wide");
    sl_log *log;
    sl_topic *topic;
    sl_error err;
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_log_topic_create(log, "wide", &(sl_topic_config){ .partitions = SL_BROWSE_MERGE_MAX + 1 }, &topic,
                                     &err), SL_OK);
    append(topic, SL_BROWSE_MERGE_MAX, 5, "1");
    sl_buffer out = SL_BUFFER_INIT;
    cr_assert_eq(sl_topic_browse(topic, &(sl_browse_request){ .partition = -1, .limit = 10 }, &out, &err), SL_ETOOBIG);
    cr_assert(strstr(err.message, "needs ?partition="), "%s", err.message);
    cr_assert_eq(out.len, 0);
    sl_browse_request one = { .partition = SL_BROWSE_MERGE_MAX, .limit = 10 };
    cr_assert_eq(sl_topic_browse(topic, &one, &out, &err), SL_OK, "%s", err.message);
    cr_assert(out.len > 0 && memmem(out.data, out.len, "\"value\":1", 9), "%.*s", (int)out.len, out.data);
    sl_buffer_free(&out);
    sl_log_close(log);
    test_remove_tree(data_dir);
}
