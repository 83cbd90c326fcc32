/* interpolate.c — `${VAR}` / `${VAR:-default}` / `$${` expansion (see
 * interpolate.h).
 *
 * One pass left to right into a scratch sl_buffer. A reference's end is found
 * by counting nested `${ ... }` pairs, so a default may hold references of its
 * own; the default is expanded (recursively, to a bounded depth) only when it
 * is used, so an unset variable inside an unused default is not an error.
 * Run macros (`${ds}`, and their escape `$${ds}`) are copied as they are:
 * scheduler/macros.c holds their names and expands them when a task runs.
 */
#include "config/interpolate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "scheduler/macros.h"

/* Defaults nested deeper than this are refused rather than recursed into. */
#define INTERPOLATE_MAX_DEPTH 16

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool starts_with_escape(const char *text, size_t len, size_t at)
{
    return at + 2 < len && text[at] == '$' && text[at + 1] == '$' && text[at + 2] == '{';
}

static bool starts_reference(const char *text, size_t len, size_t at)
{
    return at + 1 < len && text[at] == '$' && text[at + 1] == '{';
}

/* Index of the `}` closing the reference whose body starts at `from`, or len
 * when there is none. Escapes inside do not count as openings. */
static size_t find_reference_end(const char *text, size_t len, size_t from)
{
    int depth = 1;
    size_t at = from;
    while (at < len) {
        if (starts_with_escape(text, len, at)) {
            at += 3;
        } else if (starts_reference(text, len, at)) {
            depth++;
            at += 2;
        } else if (text[at] == '}') {
            depth--;
            if (depth == 0) return at;
            at++;
        } else {
            at++;
        }
    }
    return len;
}

static int expand(sl_buffer *out, const char *text, size_t len, int depth, sl_error *err);

/* Expands the body of one `${body}` reference into out. */
static int expand_reference(sl_buffer *out, const char *body, size_t body_len, int depth,
                            sl_error *err)
{
    size_t name_len = 0;
    if (body_len > 0 && is_name_start(body[0])) {
        name_len = 1;
        while (name_len < body_len && is_name_char(body[name_len])) name_len++;
    }
    bool has_default = name_len > 0 && body_len - name_len >= 2 && body[name_len] == ':' &&
                       body[name_len + 1] == '-';
    if (name_len == 0 || (name_len < body_len && !has_default))
        return sl_error_set(err, SL_ECONFIG,
                            "malformed reference '${%.*s}' (expected ${NAME} or ${NAME:-default})",
                            (int)body_len, body);

    if (sl_macros_is_name(body, name_len)) {
        if (has_default)
            return sl_error_set(err, SL_ECONFIG,
                                "${%.*s} is a run macro, expanded when the task runs; it takes no default",
                                (int)name_len, body);
        /* Left for the task's run, and the environment never consulted. */
        int rc = sl_buffer_append(out, "${", 2);
        if (!rc) rc = sl_buffer_append(out, body, name_len);
        if (!rc) rc = sl_buffer_append(out, "}", 1);
        return rc;
    }

    char name[256];
    if (name_len >= sizeof name)
        return sl_error_set(err, SL_ECONFIG, "environment variable name '%.40s...' is too long",
                            body);
    memcpy(name, body, name_len);
    name[name_len] = '\0';

    const char *value = getenv(name);
    if (has_default) {
        if (value && value[0]) return sl_buffer_append_cstr(out, value);
        if (depth >= INTERPOLATE_MAX_DEPTH)
            return sl_error_set(err, SL_ECONFIG, "defaults nested more than %d deep",
                                INTERPOLATE_MAX_DEPTH);
        return expand(out, body + name_len + 2, body_len - name_len - 2, depth + 1, err);
    }
    if (!value)
        return sl_error_set(err, SL_ECONFIG,
                            "environment variable %s is not set (use ${%s:-default})", name, name);
    return sl_buffer_append_cstr(out, value);
}

/* Bytes of the escaped run macro `$${name}` at text[at], or 0 when what is
 * there is not one. */
static size_t escaped_macro_span(const char *text, size_t len, size_t at)
{
    size_t end = at + 3;
    while (end < len && is_name_char(text[end])) end++;
    if (end >= len || text[end] != '}' || !sl_macros_is_name(text + at + 3, end - at - 3)) return 0;
    return end + 1 - at;
}

static int expand(sl_buffer *out, const char *text, size_t len, int depth, sl_error *err)
{
    size_t at = 0;
    while (at < len) {
        int rc;
        size_t macro_span = 0;
        if (starts_with_escape(text, len, at) && (macro_span = escaped_macro_span(text, len, at)) > 0) {
            /* Kept whole: the task's run turns it into a literal `${name}`. */
            rc = sl_buffer_append(out, text + at, macro_span);
            at += macro_span;
        } else if (starts_with_escape(text, len, at)) {
            rc = sl_buffer_append(out, "${", 2);
            at += 3;
        } else if (starts_reference(text, len, at)) {
            size_t end = find_reference_end(text, len, at + 2);
            if (end == len)
                return sl_error_set(err, SL_ECONFIG, "unterminated '${' (missing '}')");
            rc = expand_reference(out, text + at + 2, end - at - 2, depth, err);
            at = end + 1;
        } else {
            /* Copy the run up to the next '$' in one append. */
            const char *dollar = memchr(text + at + 1, '$', len - at - 1);
            size_t stop = dollar ? (size_t)(dollar - text) : len;
            rc = sl_buffer_append(out, text + at, stop - at);
            at = stop;
        }
        if (rc == SL_ENOMEM) return sl_error_set(err, SL_ENOMEM, "out of memory expanding ${...}");
        if (rc) return rc;
    }
    return SL_OK;
}

int sl_config_interpolate(sl_arena *arena, const char *text, size_t len,
                          char **out, size_t *out_len, sl_error *err)
{
    int rc = SL_OK;
    sl_buffer scratch = SL_BUFFER_INIT;
    char *copy = NULL;
    size_t copy_len = len;

    if (!memchr(text, '$', len)) {
        /* Nothing to expand: the common case copies straight into the arena. */
        copy = sl_arena_strndup(arena, text, len);
    } else {
        rc = expand(&scratch, text, len, 0, err);
        if (rc) goto done;
        copy_len = scratch.len;
        copy = sl_arena_strndup(arena, scratch.data ? scratch.data : "", scratch.len);
    }
    if (!copy) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory copying a configuration value");
        goto done;
    }
    *out = copy;
    *out_len = copy_len;
done:
    sl_buffer_free(&scratch);
    return rc;
}

/* ---- hiding references from the YAML parser ----------------------------
 *
 * A placeholder is as many characters as the reference it replaces (at least
 * four), all from the private-use range U+E000..U+EFFF: the first from
 * U+E000..U+E7FF carries the low 11 bits of the reference's index, the
 * second from U+E800..U+EFFF the next 11 bits, the rest are U+E800. In UTF-8
 * each is 0xEE and two bytes, the first of which tells a start (0x80..0x9F)
 * from a continuation (0xA0..0xBF).
 */
#define PLACEHOLDER_LEAD 0xEE
#define PLACEHOLDER_MAX_REFS ((size_t)1 << 22)

/* Bytes of the well-formed reference (`${...}` or `$${...}`) at text[at],
 * all printable ASCII on one line; 0 when there is none. */
static size_t reference_span(const char *text, size_t len, size_t at)
{
    size_t pos = at;
    if (starts_with_escape(text, len, pos)) pos++;
    if (!starts_reference(text, len, pos)) return 0;
    pos += 2;
    if (pos >= len || !is_name_start(text[pos])) return 0;
    while (pos < len && is_name_char(text[pos])) pos++;
    if (pos < len && text[pos] == '}') return pos + 1 - at;
    if (!(pos + 1 < len && text[pos] == ':' && text[pos + 1] == '-')) return 0;
    pos += 2;
    int depth = 1;
    while (pos < len) {
        unsigned char c = (unsigned char)text[pos];
        if (c < 0x20 || c > 0x7E) return 0;
        if (starts_with_escape(text, len, pos)) {
            pos += 3;
        } else if (starts_reference(text, len, pos)) {
            depth++;
            pos += 2;
        } else {
            if (c == '}' && --depth == 0) return pos + 1 - at;
            pos++;
        }
    }
    return 0;
}

static int append_private_char(sl_buffer *out, unsigned code_point)
{
    char bytes[3] = { (char)PLACEHOLDER_LEAD, (char)(0x80 | ((code_point >> 6) & 0x3F)),
                      (char)(0x80 | (code_point & 0x3F)) };
    return sl_buffer_append(out, bytes, 3);
}

static int append_placeholder(sl_buffer *out, size_t index, size_t n_chars)
{
    int rc = append_private_char(out, 0xE000u + (unsigned)(index & 0x7FF));
    if (!rc) rc = append_private_char(out, 0xE800u + (unsigned)((index >> 11) & 0x7FF));
    for (size_t i = 2; !rc && i < n_chars; i++) rc = append_private_char(out, 0xE800u);
    return rc;
}

static int table_push(sl_reference_table *table, size_t *capacity, size_t start, size_t length)
{
    if (table->n_refs == *capacity) {
        size_t grown_capacity = *capacity ? *capacity * 2 : 16;
        size_t *starts = realloc(table->starts, grown_capacity * sizeof *starts);
        if (!starts) return SL_ENOMEM;
        table->starts = starts;
        size_t *lengths = realloc(table->lengths, grown_capacity * sizeof *lengths);
        if (!lengths) return SL_ENOMEM;
        table->lengths = lengths;
        *capacity = grown_capacity;
    }
    table->starts[table->n_refs] = start;
    table->lengths[table->n_refs] = length;
    table->n_refs++;
    return SL_OK;
}

int sl_config_hide_references(const char *text, size_t len, sl_reference_table *table)
{
    int rc = SL_OK;
    sl_buffer out = SL_BUFFER_INIT;
    size_t capacity = 0;
    memset(table, 0, sizeof *table);
    table->original = text;
    if (!memchr(text, '$', len) || memchr(text, PLACEHOLDER_LEAD, len)) return SL_OK;

    size_t copied = 0;   /* text[0..copied) is in out */
    for (size_t at = 0; at < len; at++) {
        if (text[at] != '$' || table->n_refs >= PLACEHOLDER_MAX_REFS) continue;
        size_t span = reference_span(text, len, at);
        if (span == 0) continue;
        rc = sl_buffer_append(&out, text + copied, at - copied);
        if (!rc) rc = append_placeholder(&out, table->n_refs, span);
        if (!rc) rc = table_push(table, &capacity, at, span);
        if (rc) goto fail;
        at += span - 1;
        copied = at + 1;
    }
    if (table->n_refs == 0) return SL_OK;
    rc = sl_buffer_append(&out, text + copied, len - copied);
    if (rc) goto fail;
    table->text = out.data;
    table->len = out.len;
    return SL_OK;
fail:
    sl_buffer_free(&out);
    sl_reference_table_free(table);
    return rc;
}

/* The private-use character at bytes[0..3): its 11-bit value, and whether
 * it starts a placeholder; -1 when it is not one of ours. */
static int placeholder_char(const unsigned char *bytes, bool *is_start)
{
    if (bytes[0] != PLACEHOLDER_LEAD || bytes[1] < 0x80 || bytes[1] > 0xBF ||
        (bytes[2] & 0xC0) != 0x80)
        return -1;
    *is_start = bytes[1] < 0xA0;
    return ((bytes[1] & 0x1F) << 6) | (bytes[2] & 0x3F);
}

int sl_config_restore_references(const sl_reference_table *table, sl_arena *arena,
                                 const char *scalar, size_t len,
                                 const char **out, size_t *out_len)
{
    int rc = SL_OK;
    sl_buffer restored = SL_BUFFER_INIT;
    *out = scalar;
    *out_len = len;
    if (table->n_refs == 0 || !memchr(scalar, PLACEHOLDER_LEAD, len)) return SL_OK;

    const unsigned char *bytes = (const unsigned char *)scalar;
    size_t at = 0;
    while (at < len) {
        bool is_start = false, is_next_start = true;
        int low = at + 6 <= len ? placeholder_char(bytes + at, &is_start) : -1;
        int high = low >= 0 ? placeholder_char(bytes + at + 3, &is_next_start) : -1;
        size_t index = (size_t)low | ((size_t)high << 11);
        if (low >= 0 && high >= 0 && is_start && !is_next_start && index < table->n_refs &&
            at + 3 * table->lengths[index] <= len) {
            rc = sl_buffer_append(&restored, table->original + table->starts[index],
                                  table->lengths[index]);
            at += 3 * table->lengths[index];
        } else {
            rc = sl_buffer_append(&restored, scalar + at, 1);
            at++;
        }
        if (rc) goto done;
    }
    char *copy = sl_arena_strndup(arena, restored.data, restored.len);
    if (!copy) {
        rc = SL_ENOMEM;
        goto done;
    }
    *out = copy;
    *out_len = restored.len;
done:
    sl_buffer_free(&restored);
    return rc;
}

void sl_reference_table_free(sl_reference_table *table)
{
    if (!table) return;
    free(table->text);
    free(table->starts);
    free(table->lengths);
    table->text = NULL;
    table->starts = NULL;
    table->lengths = NULL;
    table->n_refs = 0;
}
