/* message_json.c — a record as the API's MESSAGE object (see
 * message_json.h). The value is tried as JSON first, with the JSON reader
 * the pipelines use; the bytes go out verbatim when they parse (so numbers
 * keep every digit), which is safe because the reader accepts only valid
 * UTF-8 and no raw control bytes. */
#include "server/topics/message_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json.h"

/* Length of the UTF-8 sequence at p that fits in [p, end), 0 when invalid. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    if (p[0] < 0x80) return 1;
    size_t n;
    uint32_t code;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) n = 2, code = p[0] & 0x1F;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) n = 3, code = p[0] & 0x0F;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4) n = 4, code = p[0] & 0x07;
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        code = (code << 6) | (p[i] & 0x3F);
    }
    bool is_overlong = (n == 3 && code < 0x800) || (n == 4 && code < 0x10000);
    bool is_surrogate = code >= 0xD800 && code <= 0xDFFF;
    return is_overlong || is_surrogate || code > 0x10FFFF ? 0 : n;
}

bool sl_message_is_utf8(const char *bytes, size_t len)
{
    if (len == 0) return true;
    const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
    while (p < end) {
        size_t n = utf8_sequence(p, end);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

/* Writes bytes as a JSON string: as text when they are UTF-8 without NUL
 * bytes, else as base64; returns the encoding's name. */
static const char *write_text_or_base64(sl_json_out *out, sl_str bytes)
{
    bool is_text = bytes.len == 0 || (sl_message_is_utf8(bytes.ptr, bytes.len) && !memchr(bytes.ptr, 0, bytes.len));
    size_t size = is_text ? bytes.len + 1 : sl_base64_encoded_len(bytes.len) + 1;
    char *text = malloc(size);
    if (!text) {
        out->rc = SL_ENOMEM;
        return "base64";
    }
    if (is_text) {
        if (bytes.len) memcpy(text, bytes.ptr, bytes.len);
        text[bytes.len] = '\0';
    } else {
        text[sl_base64_encode(bytes.ptr, bytes.len, text)] = '\0';
    }
    sl_json_string(out, text);
    free(text);
    return is_text ? "utf8" : "base64";
}

/* Writes the value: its JSON when it is JSON; returns the encoding. */
static const char *write_value(sl_json_out *out, sl_str raw, sl_arena *scratch)
{
    sl_value parsed;
    if (raw.len > 0 && sl_json_parse(scratch, raw.ptr, raw.len, &parsed, NULL) == SL_OK) {
        char *copy = malloc(raw.len + 1);
        if (!copy) {
            out->rc = SL_ENOMEM;
            return "json";
        }
        memcpy(copy, raw.ptr, raw.len);
        copy[raw.len] = '\0';
        sl_json_raw(out, copy);
        free(copy);
        return "json";
    }
    return write_text_or_base64(out, raw);
}

static const char *header_text(const sl_record *record, const char *key, char *text, size_t size)
{
    const sl_header *header = sl_record_header(record, key);
    if (!header || header->value.len >= size) return NULL;
    memcpy(text, header->value.ptr, header->value.len);
    text[header->value.len] = '\0';
    return text;
}

static void write_dead_letter_fields(sl_json_out *out, const sl_record *record)
{
    const sl_header *error = sl_record_header(record, "sluice.error");
    sl_json_key(out, "error");
    if (error) write_text_or_base64(out, error->value);
    else sl_json_null(out);
    char stage[64], topic[256], partition[32], offset[32];
    sl_json_key(out, "stage");
    sl_json_string(out, header_text(record, "sluice.stage", stage, sizeof stage));
    /* origin: each member only when its header is there (topic only for
     * sources that read topics). */
    sl_json_key(out, "origin");
    sl_json_begin_object(out);
    const char *topic_text = header_text(record, "sluice.source.topic", topic, sizeof topic);
    if (topic_text && topic_text[0]) {
        sl_json_key(out, "topic");
        sl_json_string(out, topic_text);
    }
    const char *numbers[2] = { header_text(record, "sluice.source.partition", partition, sizeof partition),
                               header_text(record, "sluice.source.offset", offset, sizeof offset) };
    const char *names[2] = { "partition", "offset" };
    for (int i = 0; i < 2; i++) {
        char *end = NULL;
        long long value = numbers[i] ? strtoll(numbers[i], &end, 10) : 0;
        if (!numbers[i] || !numbers[i][0] || !end || *end != '\0') continue;
        sl_json_key(out, names[i]);
        sl_json_int(out, value);
    }
    sl_json_end_object(out);
}

void sl_message_json_write(sl_json_out *out, const sl_record *record, bool is_dead_letter, sl_arena *scratch)
{
    sl_json_begin_object(out);
    sl_json_key(out, "partition");
    sl_json_int(out, record->partition);
    sl_json_key(out, "offset");
    sl_json_int(out, record->offset);
    sl_json_key(out, "timestamp");
    sl_json_time(out, record->timestamp_ms * 1000);
    sl_json_key(out, "key");
    const char *key_encoding = "utf8";
    if (record->key.ptr) key_encoding = write_text_or_base64(out, record->key);
    else sl_json_null(out);
    sl_json_key(out, "key_encoding");
    sl_json_string(out, key_encoding);
    sl_json_key(out, "value");
    const char *value_encoding = write_value(out, record->raw, scratch);
    sl_json_key(out, "value_encoding");
    sl_json_string(out, value_encoding);
    sl_json_key(out, "headers");
    sl_json_begin_array(out);
    size_t size = record->key.len + record->raw.len;
    for (size_t h = 0; h < record->n_headers; h++) {
        const sl_header *header = &record->headers[h];
        size += header->key.len + header->value.len;
        sl_json_begin_object(out);
        sl_json_key(out, "key");
        write_text_or_base64(out, header->key);
        sl_json_key(out, "value");
        const char *encoding = write_text_or_base64(out, header->value);
        sl_json_key(out, "value_encoding");
        sl_json_string(out, encoding);
        sl_json_end_object(out);
    }
    sl_json_end_array(out);
    sl_json_key(out, "size");
    sl_json_int(out, (int64_t)size);
    if (is_dead_letter) write_dead_letter_fields(out, record);
    sl_json_end_object(out);
}
