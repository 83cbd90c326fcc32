/* topic_format_test.c — consume's output formats without a topic: every
 * kcat format letter on records with and without key, value and headers,
 * the escapes, the -K shorthand, --metadata JSON, and the mistakes a
 * format string can hold (each refused with what and where). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/topic_format.h"
#include "core/batch.h"
#include "core/buffer.h"
#include "core/error.h"

static sl_header headers[] = {
    { { "a", 1 }, { "1", 1 } },
    { { "b", 1 }, { NULL, 0 } },
};

static sl_record keyed(void)
{
    return (sl_record){ .raw = { "hello", 5 }, .key = { "k", 1 }, .headers = headers, .n_headers = 2,
                        .timestamp_ms = 1700000000123, .partition = 2, .offset = 41 };
}

/* Renders record with text into a NUL-terminated string (static buffer). */
static const char *render(const char *text, const sl_record *record, size_t *len)
{
    static sl_buffer out;
    char why[256] = "";
    sl_topic_format *format = sl_topic_format_compile(text, why, sizeof why);
    cr_assert_not_null(format, "%s: %s", text, why);
    sl_buffer_free(&out);
    cr_assert_eq(sl_topic_format_render(format, "events", record, &out), SL_OK);
    sl_buffer_append_byte(&out, '\0');
    sl_topic_format_free(format);
    if (len) *len = out.len - 1;
    return out.data;
}

Test(topic_format, every_letter_of_a_keyed_record_with_headers)
{
    sl_record record = keyed();
    cr_assert_str_eq(render("%t|%p|%o|%k|%K|%s|%v|%S|%T|%h|%%", &record, NULL),
                     "events|2|41|k|1|hello|hello|5|1700000000123|a=1,b=NULL|%");
}

Test(topic_format, null_key_and_value_print_nothing_and_minus_one)
{
    sl_record record = { .partition = 0, .offset = 0 };
    cr_assert_str_eq(render("[%k][%K][%s][%S][%h]", &record, NULL), "[][-1][][-1][]");
    record.key = (sl_str){ "", 0 };
    record.raw = (sl_str){ "", 0 };
    cr_assert_str_eq(render("[%k][%K][%s][%S]", &record, NULL), "[][0][][0]");
}

Test(topic_format, binary_value_length_is_big_endian)
{
    sl_record record = keyed();
    size_t len = 0;
    const char *out = render("%R", &record, &len);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(out, "\0\0\0\5", 4), 0);
    record.raw = (sl_str){ NULL, 0 };
    out = render("%R", &record, &len);
    cr_assert_eq(memcmp(out, "\xff\xff\xff\xff", 4), 0);
}

Test(topic_format, escapes)
{
    sl_record record = keyed();
    cr_assert_str_eq(render("%k\\t%s\\r\\n\\\\\\x41\\x7e", &record, NULL), "k\thello\r\n\\A~");
    size_t len = 0;
    char why[128];
    char *text = sl_topic_unescape("a\\tb\\x00c", &len, why, sizeof why);
    cr_assert_not_null(text, "%s", why);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(text, "a\tb\0c", 5), 0);
    free(text);
}

Test(topic_format, mistakes_are_refused_saying_what_and_where)
{
    const struct {
        const char *text;
        const char *words;
    } cases[] = {
        { "ab%q", "unknown format letter '%q' at character 3" },
        { "%", "a lone '%' ends it" },
        { "x\\y", "unknown escape '\\y' at character 2" },
        { "\\x4g", "needs two hex digits" },
        { "x\\", "a lone '\\' ends it" },
        { "", "empty" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[256] = "";
        sl_topic_format *format = sl_topic_format_compile(cases[i].text, why, sizeof why);
        cr_assert_null(format, "'%s' was accepted", cases[i].text);
        cr_assert(strstr(why, cases[i].words) != NULL, "'%s': %s", cases[i].text, why);
    }
    char why[256] = "";
    size_t len;
    cr_assert_null(sl_topic_unescape("\\z", &len, why, sizeof why));
    cr_assert(strstr(why, "unknown escape") != NULL, "%s", why);
}

Test(topic_format, keyed_shorthand_and_json)
{
    sl_record record = keyed();
    sl_buffer out = SL_BUFFER_INIT;
    sl_topic_format *format = sl_topic_format_keyed("\t", 1);
    cr_assert_not_null(format);
    cr_assert_eq(sl_topic_format_render(format, "events", &record, &out), SL_OK);
    cr_assert_eq(out.len, strlen("k\thello\n"));
    cr_assert_eq(memcmp(out.data, "k\thello\n", out.len), 0);
    sl_topic_format_free(format);

    sl_buffer_clear(&out);
    format = sl_topic_format_json();
    cr_assert_not_null(format);
    cr_assert_eq(sl_topic_format_render(format, "events", &record, &out), SL_OK);
    sl_buffer_append_byte(&out, '\0');
    cr_assert_str_eq(out.data, "{\"partition\":2,\"offset\":41,\"timestamp\":1700000000123,\"key\":\"k\","
                               "\"headers\":{\"a\":\"1\",\"b\":null},\"value\":\"hello\"}\n");
    sl_topic_format_free(format);
    sl_buffer_free(&out);
}
