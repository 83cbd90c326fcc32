/* regex.c — SQL's regular expressions over PCRE2 (see regex.h).
 *
 * The cache: each thread keeps its last CACHE_SIZE compiled patterns in a
 * small array, replaced round-robin; a pthread key's destructor frees them
 * when the thread ends. Errors name the pattern and PCRE2's reason with
 * its offset, as "invalid regular expression 'a(': missing closing
 * parenthesis at offset 2".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sql/regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SIZE 16
#define PATTERN_MAX (64 * 1024)

typedef struct cached {
    char *pattern;           /* malloc'ed, NUL-terminated */
    size_t len;
    uint32_t options;
    pcre2_code *code;
} cached;

typedef struct cache {
    cached items[CACHE_SIZE];
    size_t next;
} cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void free_cache(void *value)
{
    cache *c = value;
    for (size_t i = 0; c && i < CACHE_SIZE; i++) {
        free(c->items[i].pattern);
        pcre2_code_free(c->items[i].code);
    }
    free(c);
}

static void make_key(void)
{
    pthread_key_create(&cache_key, free_cache);
}

/* PostgreSQL's flag letters as PCRE2 options; *is_global for g. */
static int parse_flags(const char *flags, bool allow_global, uint32_t *options, bool *is_global, sl_error *err)
{
    *options = PCRE2_UTF | PCRE2_UCP | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF;
    *is_global = false;
    for (const char *f = flags ? flags : ""; *f; f++) {
        switch (*f) {
        case 'i': *options |= PCRE2_CASELESS; break;
        case 'c': *options &= ~(uint32_t)PCRE2_CASELESS; break;
        case 'x': *options |= PCRE2_EXTENDED; break;
        case 'g':
            if (allow_global) {
                *is_global = true;
                break;
            }
            /* fall through */
        default:
            return sl_error_set(err, SL_ESQL, "invalid regular expression option '%c' (options: i, c, x%s)", *f,
                                allow_global ? ", g" : "");
        }
    }
    return SL_OK;
}

static int compile(sl_str pattern, uint32_t options, pcre2_code **out, sl_error *err)
{
    pthread_once(&cache_once, make_key);
    if (pattern.len > PATTERN_MAX)
        return sl_error_set(err, SL_ESQL, "regular expression over %d bytes", PATTERN_MAX);
    cache *c = pthread_getspecific(cache_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || pthread_setspecific(cache_key, c) != 0) {
            free(c);
            return sl_error_set(err, SL_ENOMEM, "out of memory compiling a regular expression");
        }
    }
    for (size_t i = 0; i < CACHE_SIZE; i++) {
        cached *item = &c->items[i];
        if (item->code && item->options == options && item->len == pattern.len &&
            memcmp(item->pattern, pattern.ptr, pattern.len) == 0) {
            *out = item->code;
            return SL_OK;
        }
    }
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *compiled = pcre2_compile((PCRE2_SPTR)pattern.ptr, pattern.len, options, &code, &offset, NULL);
    if (!compiled) {
        PCRE2_UCHAR reason[256];
        pcre2_get_error_message(code, reason, sizeof reason);
        return sl_error_set(err, SL_ESQL, "invalid regular expression '%.*s': %s at offset %zu",
                            (int)(pattern.len > 80 ? 80 : pattern.len), pattern.ptr, (const char *)reason,
                            (size_t)offset);
    }
    char *copy = malloc(pattern.len + 1);
    if (!copy) {
        pcre2_code_free(compiled);
        return sl_error_set(err, SL_ENOMEM, "out of memory compiling a regular expression");
    }
    memcpy(copy, pattern.ptr, pattern.len);
    copy[pattern.len] = '\0';
    cached *slot = &c->items[c->next];
    c->next = (c->next + 1) % CACHE_SIZE;
    free(slot->pattern);
    pcre2_code_free(slot->code);
    *slot = (cached){ copy, pattern.len, options, compiled };
    *out = compiled;
    return SL_OK;
}

/* One match from start: 1 found, 0 none, or a negative SL_E*. */
static int match_at(const pcre2_code *code, sl_str text, size_t start, pcre2_match_data *data, sl_error *err)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)text.ptr, text.len, start, 0, data, NULL);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    PCRE2_UCHAR reason[256];
    pcre2_get_error_message(rc, reason, sizeof reason);
    return sl_error_set(err, SL_ESQL, "regular expression match failed: %s", (const char *)reason);
}

int sl_sql_regex_match(sl_str text, sl_str pattern, const char *flags, bool *matched, sl_error *err)
{
    uint32_t options;
    bool is_global;
    pcre2_code *code;
    int rc = parse_flags(flags, false, &options, &is_global, err);
    if (rc == SL_OK) rc = compile(pattern, options, &code, err);
    if (rc) return rc;
    pcre2_match_data *data = pcre2_match_data_create(1, NULL);
    if (!data) return sl_error_set(err, SL_ENOMEM, "out of memory matching a regular expression");
    rc = match_at(code, text, 0, data, err);
    pcre2_match_data_free(data);
    if (rc < 0) return rc;
    *matched = rc == 1;
    return SL_OK;
}

int sl_sql_regex_extract(sl_str text, sl_str pattern, int64_t group, sl_arena *arena, sl_str *out, bool *found,
                         sl_error *err)
{
    (void)arena;   /* the result points into text */
    uint32_t options;
    bool is_global;
    pcre2_code *code;
    int rc = parse_flags(NULL, false, &options, &is_global, err);
    if (rc == SL_OK) rc = compile(pattern, options, &code, err);
    if (rc) return rc;
    uint32_t n_groups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n_groups);
    if (group < 0 || group > (int64_t)n_groups)
        return sl_error_set(err, SL_ESQL, "regexp_extract(): group %lld of a pattern with %u group%s", (long long)group,
                            n_groups, n_groups == 1 ? "" : "s");
    pcre2_match_data *data = pcre2_match_data_create_from_pattern(code, NULL);
    if (!data) return sl_error_set(err, SL_ENOMEM, "out of memory matching a regular expression");
    rc = match_at(code, text, 0, data, err);
    *found = false;
    if (rc == 1) {
        PCRE2_SIZE *at = pcre2_get_ovector_pointer(data);
        if (at[2 * group] != PCRE2_UNSET) {
            *out = (sl_str){ text.ptr + at[2 * group], at[2 * group + 1] - at[2 * group] };
            *found = true;
        }
    }
    pcre2_match_data_free(data);
    return rc < 0 ? rc : SL_OK;
}

/* Appends bytes to a growing arena string. */
typedef struct builder {
    sl_arena *arena;
    char *text;
    size_t len, capacity;
} builder;

static int append(builder *b, const char *bytes, size_t len)
{
    if (b->len + len + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 64;
        while (capacity < b->len + len + 1) capacity *= 2;
        char *grown = sl_arena_realloc(b->arena, b->text, b->capacity, capacity);
        if (!grown) return SL_ENOMEM;
        b->text = grown;
        b->capacity = capacity;
    }
    memcpy(b->text + b->len, bytes, len);
    b->len += len;
    b->text[b->len] = '\0';
    return SL_OK;
}

/* The replacement for one match, \N and \& expanded. */
static int expand(builder *b, sl_str text, sl_str replacement, const PCRE2_SIZE *at, uint32_t n_pairs)
{
    for (size_t i = 0; i < replacement.len; i++) {
        char c = replacement.ptr[i];
        if (c != '\\' || i + 1 == replacement.len) {
            if (append(b, &c, 1)) return SL_ENOMEM;
            continue;
        }
        char next = replacement.ptr[++i];
        int group = next == '&' ? 0 : next >= '0' && next <= '9' ? next - '0' : -1;
        if (group < 0) {
            if (append(b, &next, 1)) return SL_ENOMEM;   /* \\ is \, \x is x */
            continue;
        }
        if ((uint32_t)group < n_pairs && at[2 * group] != PCRE2_UNSET &&
            append(b, text.ptr + at[2 * group], at[2 * group + 1] - at[2 * group]))
            return SL_ENOMEM;
    }
    return SL_OK;
}

int sl_sql_regex_replace(sl_str text, sl_str pattern, sl_str replacement, const char *flags, sl_arena *arena,
                         sl_str *out, sl_error *err)
{
    uint32_t options;
    bool is_global;
    pcre2_code *code;
    int rc = parse_flags(flags, true, &options, &is_global, err);
    if (rc == SL_OK) rc = compile(pattern, options, &code, err);
    if (rc) return rc;
    pcre2_match_data *data = pcre2_match_data_create_from_pattern(code, NULL);
    if (!data) return sl_error_set(err, SL_ENOMEM, "out of memory matching a regular expression");
    builder b = { arena, NULL, 0, 0 };
    size_t start = 0, copied = 0;
    while (start <= text.len) {
        rc = match_at(code, text, start, data, err);
        if (rc <= 0) break;
        PCRE2_SIZE *at = pcre2_get_ovector_pointer(data);
        if (append(&b, text.ptr + copied, at[0] - copied) ||
            expand(&b, text, replacement, at, pcre2_get_ovector_count(data))) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory in regexp_replace()");
            break;
        }
        copied = at[1];
        if (!is_global) break;
        /* An empty match moves on by one character, so the loop ends. */
        start = at[1] > at[0] ? at[1] : at[1] + 1;
        while (start < text.len && ((unsigned char)text.ptr[start] & 0xC0) == 0x80) start++;
        if (at[1] == at[0] && at[1] < text.len) {
            size_t step = start - at[1];
            if (append(&b, text.ptr + at[1], step)) {
                rc = sl_error_set(err, SL_ENOMEM, "out of memory in regexp_replace()");
                break;
            }
            copied = start;
        }
    }
    pcre2_match_data_free(data);
    if (rc < 0) return rc;
    if (copied == 0 && b.len == 0 && b.text == NULL) {
        *out = text;   /* no match: the text as it was */
        return SL_OK;
    }
    if (append(&b, text.ptr + copied, text.len - copied))
        return sl_error_set(err, SL_ENOMEM, "out of memory in regexp_replace()");
    *out = (sl_str){ b.text, b.len };
    return SL_OK;
}
