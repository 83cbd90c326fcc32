/* topic_format.c — compiles kcat-style -f format strings into a list of
 * pieces (literal text or a record field) and renders records with them;
 * also the --metadata JSON line and the escapes -f and -K share (see
 * topic_format.h for the letters). */
#include "cli/topic_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"

typedef enum piece_kind {
    PIECE_TEXT = 0,
    PIECE_VALUE,
    PIECE_VALUE_LENGTH,
    PIECE_VALUE_LENGTH_BINARY,
    PIECE_KEY,
    PIECE_KEY_LENGTH,
    PIECE_TOPIC,
    PIECE_PARTITION,
    PIECE_OFFSET,
    PIECE_TIMESTAMP,
    PIECE_HEADERS,
} piece_kind;

/* The format letters, each once: compile and the help read this table. */
static const struct {
    char letter;
    piece_kind kind;
    const char *help;
} letters[] = {
    { 's', PIECE_VALUE, "value (kcat's letter)" },
    { 'v', PIECE_VALUE, "value" },
    { 'S', PIECE_VALUE_LENGTH, "value length (-1 for a null value)" },
    { 'R', PIECE_VALUE_LENGTH_BINARY, "value length as a 4-byte big-endian signed integer" },
    { 'k', PIECE_KEY, "key (nothing for a null key)" },
    { 'K', PIECE_KEY_LENGTH, "key length (-1 for a null key)" },
    { 't', PIECE_TOPIC, "topic" },
    { 'p', PIECE_PARTITION, "partition" },
    { 'o', PIECE_OFFSET, "offset" },
    { 'T', PIECE_TIMESTAMP, "timestamp, ms since the epoch" },
    { 'h', PIECE_HEADERS, "headers as name=value,name=value (NULL for a null value)" },
};

typedef struct piece {
    piece_kind kind;
    size_t text_at;   /* PIECE_TEXT: its bytes in format->text */
    size_t text_len;
} piece;

struct sl_topic_format {
    bool is_json;
    piece *pieces;
    size_t n_pieces;
    char *text;       /* every literal's decoded bytes, one after the other */
    size_t text_len;
};

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the escape at text[*at] (a backslash) into *byte and moves *at
 * past it; false with why filled when it is not one we know. */
static bool decode_escape(const char *text, size_t *at, char *byte, char *why, size_t why_size)
{
    size_t start = *at;
    char c = text[start + 1];
    switch (c) {
    case 'n': *byte = '\n'; break;
    case 'r': *byte = '\r'; break;
    case 't': *byte = '\t'; break;
    case '\\': *byte = '\\'; break;
    case 'x': {
        int high = hex_digit(text[start + 2]);
        int low = high < 0 ? -1 : hex_digit(text[start + 3]);
        if (low < 0) {
            snprintf(why, why_size, "'\\x' at character %zu needs two hex digits", start + 1);
            return false;
        }
        *byte = (char)(high * 16 + low);
        *at = start + 4;
        return true;
    }
    case '\0':
        snprintf(why, why_size, "a lone '\\' ends it (write \\\\ for a backslash)");
        return false;
    default:
        snprintf(why, why_size, "unknown escape '\\%c' at character %zu (known: \\n \\r \\t \\\\ \\xHH)", c,
                 start + 1);
        return false;
    }
    *at = start + 2;
    return true;
}

char *sl_topic_unescape(const char *text, size_t *len, char *why, size_t why_size)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (!out) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    size_t used = 0;
    for (size_t at = 0; at < n;) {
        if (text[at] != '\\') {
            out[used++] = text[at++];
            continue;
        }
        if (!decode_escape(text, &at, &out[used], why, why_size)) {
            free(out);
            return NULL;
        }
        used++;
    }
    out[used] = '\0';
    *len = used;
    return out;
}

/* A format with room for max_pieces pieces and max_text literal bytes. */
static sl_topic_format *format_new(size_t max_pieces, size_t max_text)
{
    sl_topic_format *format = calloc(1, sizeof *format);
    if (!format) return NULL;
    format->pieces = calloc(max_pieces, sizeof *format->pieces);
    format->text = malloc(max_text + 1);
    if (!format->pieces || !format->text) {
        sl_topic_format_free(format);
        return NULL;
    }
    return format;
}

static void add_field(sl_topic_format *format, piece_kind kind)
{
    format->pieces[format->n_pieces++] = (piece){ .kind = kind };
}

/* Appends a literal byte, extending the literal piece before it if any. */
static void add_byte(sl_topic_format *format, char byte)
{
    piece *last = format->n_pieces ? &format->pieces[format->n_pieces - 1] : NULL;
    if (!last || last->kind != PIECE_TEXT)
        format->pieces[format->n_pieces++] = (piece){ .kind = PIECE_TEXT, .text_at = format->text_len };
    format->pieces[format->n_pieces - 1].text_len++;
    format->text[format->text_len++] = byte;
}

sl_topic_format *sl_topic_format_compile(const char *text, char *why, size_t why_size)
{
    size_t n = strlen(text);
    if (n == 0) {
        snprintf(why, why_size, "it is empty");
        return NULL;
    }
    sl_topic_format *format = format_new(n, n);
    if (!format) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    for (size_t at = 0; at < n;) {
        char c = text[at];
        if (c == '\\') {
            char byte;
            if (!decode_escape(text, &at, &byte, why, why_size)) goto bad;
            add_byte(format, byte);
            continue;
        }
        if (c != '%') {
            add_byte(format, c);
            at++;
            continue;
        }
        char letter = text[at + 1];
        if (letter == '%') {
            add_byte(format, '%');
            at += 2;
            continue;
        }
        bool is_known = false;
        for (size_t i = 0; i < sizeof letters / sizeof letters[0] && !is_known; i++) {
            if (letters[i].letter != letter) continue;
            add_field(format, letters[i].kind);
            is_known = true;
        }
        if (!is_known) {
            if (letter == '\0') snprintf(why, why_size, "a lone '%%' ends it (write %%%% for a percent sign)");
            else snprintf(why, why_size, "unknown format letter '%%%c' at character %zu ('sluice topic --help' "
                          "lists them)", letter, at + 1);
            goto bad;
        }
        at += 2;
    }
    return format;
bad:
    sl_topic_format_free(format);
    return NULL;
}

sl_topic_format *sl_topic_format_keyed(const char *delimiter, size_t len)
{
    sl_topic_format *format = format_new(4, len + 1);
    if (!format) return NULL;
    add_field(format, PIECE_KEY);
    for (size_t i = 0; i < len; i++) add_byte(format, delimiter[i]);
    add_field(format, PIECE_VALUE);
    add_byte(format, '\n');
    return format;
}

sl_topic_format *sl_topic_format_json(void)
{
    sl_topic_format *format = format_new(1, 0);
    if (format) format->is_json = true;
    return format;
}

void sl_topic_format_free(sl_topic_format *format)
{
    if (!format) return;
    free(format->pieces);
    free(format->text);
    free(format);
}

static int append_bytes(sl_buffer *out, const char *bytes, size_t len)
{
    return len ? sl_buffer_append(out, bytes, len) : SL_OK;
}

/* A JSON string, or null for a NULL pointer. */
static int append_json_or_null(sl_buffer *out, sl_str text)
{
    return text.ptr ? sl_json_write_string(out, text.ptr, text.len) : sl_buffer_append_cstr(out, "null");
}

static int render_json(const sl_record *record, sl_buffer *out)
{
    int rc = sl_buffer_printf(out, "{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64
                              ",\"key\":", record->partition, record->offset, record->timestamp_ms);
    if (rc == SL_OK) rc = append_json_or_null(out, record->key);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"headers\":{");
    for (size_t h = 0; h < record->n_headers && rc == SL_OK; h++) {
        if (h) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = sl_json_write_string(out, record->headers[h].key.ptr, record->headers[h].key.len);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, ':');
        if (rc == SL_OK) rc = append_json_or_null(out, record->headers[h].value);
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "},\"value\":");
    if (rc == SL_OK) rc = append_json_or_null(out, record->raw);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "}\n");
    return rc;
}

static int render_headers(const sl_record *record, sl_buffer *out)
{
    int rc = SL_OK;
    for (size_t h = 0; h < record->n_headers && rc == SL_OK; h++) {
        const sl_header *header = &record->headers[h];
        if (h) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = append_bytes(out, header->key.ptr, header->key.len);
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '=');
        if (rc == SL_OK)
            rc = header->value.ptr ? append_bytes(out, header->value.ptr, header->value.len)
                                   : sl_buffer_append_cstr(out, "NULL");
    }
    return rc;
}

static int64_t length_or_null(sl_str text)
{
    return text.ptr ? (int64_t)text.len : -1;
}

static int render_piece(const sl_topic_format *format, const piece *item, const char *topic,
                        const sl_record *record, sl_buffer *out)
{
    switch (item->kind) {
    case PIECE_TEXT: return append_bytes(out, format->text + item->text_at, item->text_len);
    case PIECE_VALUE: return append_bytes(out, record->raw.ptr, record->raw.len);
    case PIECE_VALUE_LENGTH: return sl_buffer_printf(out, "%" PRId64, length_or_null(record->raw));
    case PIECE_VALUE_LENGTH_BINARY: {
        uint32_t length = (uint32_t)(int32_t)length_or_null(record->raw);
        char bytes[4] = { (char)(length >> 24), (char)(length >> 16), (char)(length >> 8), (char)length };
        return sl_buffer_append(out, bytes, sizeof bytes);
    }
    case PIECE_KEY: return append_bytes(out, record->key.ptr, record->key.len);
    case PIECE_KEY_LENGTH: return sl_buffer_printf(out, "%" PRId64, length_or_null(record->key));
    case PIECE_TOPIC: return sl_buffer_append_cstr(out, topic);
    case PIECE_PARTITION: return sl_buffer_printf(out, "%" PRId32, record->partition);
    case PIECE_OFFSET: return sl_buffer_printf(out, "%" PRId64, record->offset);
    case PIECE_TIMESTAMP: return sl_buffer_printf(out, "%" PRId64, record->timestamp_ms);
    case PIECE_HEADERS: return render_headers(record, out);
    }
    return SL_EINVAL;
}

int sl_topic_format_render(const sl_topic_format *format, const char *topic, const sl_record *record,
                           sl_buffer *out)
{
    if (format->is_json) return render_json(record, out);
    int rc = SL_OK;
    for (size_t i = 0; i < format->n_pieces && rc == SL_OK; i++)
        rc = render_piece(format, &format->pieces[i], topic, record, out);
    return rc;
}

void sl_topic_format_usage(FILE *out)
{
    fprintf(out, "format letters (-f FMT), kcat's:\n");
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
        fprintf(out, "  %%%c  %s\n", letters[i].letter, letters[i].help);
    fprintf(out, "  %%%%  a percent sign\n"
                 "  escapes: \\n \\r \\t \\\\ and \\xHH (one byte); e.g. -f '%%t [%%p] @%%o %%k: %%s\\n'\n");
}
