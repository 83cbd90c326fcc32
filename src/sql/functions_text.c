/* functions_text.c — more SQL string functions (see functions_internal.h),
 * counting characters (UTF-8 code points), never bytes, with PostgreSQL's
 * edge cases: replace with an empty pattern changes nothing; split_part
 * counts fields from 1, or from the end when negative, and 0 is an error;
 * lpad/rpad cut a longer string to the length and repeat the fill as
 * needed (an empty fill pads nothing); strpos is 0 when absent; initcap
 * capitalises each run of letters and digits and lowers the rest, with the
 * same Unicode case mapping as lower and upper.
 */
#include <stdbool.h>
#include <string.h>
#include <wctype.h>

#include "core/error.h"
#include "core/utf8.h"
#include "sql/functions_internal.h"

static int need_string(sl_sql_call *call, const char *name, const sl_value *v)
{
    return v->type == SL_TYPE_STRING ? SL_OK : sl__sql_type_error(call, name, "a string", v);
}

/* replace(s, from, to): every occurrence of from, left to right. */
int sl__sql_fn_replace(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    for (size_t i = 0; i < 3; i++) {
        int rc = need_string(call, "replace", &args[i]);
        if (rc) return rc;
    }
    sl_str s = args[0].string, from = args[1].string, to = args[2].string;
    if (from.len == 0 || from.len > s.len) {
        *out = args[0];
        return SL_OK;
    }
    size_t count = 0;
    for (size_t i = 0; i + from.len <= s.len;) {
        if (memcmp(s.ptr + i, from.ptr, from.len) == 0) {
            count++;
            i += from.len;
        } else {
            i++;
        }
    }
    if (count == 0) {
        *out = args[0];
        return SL_OK;
    }
    size_t len = s.len - count * from.len + count * to.len;
    char *text = sl_arena_alloc(call->arena, len + 1);
    if (!text) return sl__sql_out_of_memory(call, "replace");
    size_t n = 0;
    for (size_t i = 0; i < s.len;) {
        if (i + from.len <= s.len && memcmp(s.ptr + i, from.ptr, from.len) == 0) {
            memcpy(text + n, to.ptr, to.len);
            n += to.len;
            i += from.len;
        } else {
            text[n++] = s.ptr[i++];
        }
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}

/* split_part(s, delimiter, n): the n-th field (from 1; from the end when
 * negative), '' past the last. */
int sl__sql_fn_split_part(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "split_part", &args[0]);
    if (rc == SL_OK) rc = need_string(call, "split_part", &args[1]);
    if (rc) return rc;
    if (args[2].type != SL_TYPE_INT) return sl__sql_type_error(call, "split_part", "an int field", &args[2]);
    int64_t field = args[2].integer;
    if (field == 0) return sl_error_set(call->err, SL_ESQL, "split_part(): field position must not be zero");
    sl_str s = args[0].string, delimiter = args[1].string;
    if (delimiter.len == 0) {   /* the whole string is the one field */
        *out = field == 1 || field == -1 ? args[0] : sl_value_string((sl_str){ "", 0 });
        return SL_OK;
    }
    /* The fields' starts and ends, counted once. */
    size_t n_fields = 1;
    for (size_t i = 0; i + delimiter.len <= s.len;) {
        if (memcmp(s.ptr + i, delimiter.ptr, delimiter.len) == 0) {
            n_fields++;
            i += delimiter.len;
        } else {
            i++;
        }
    }
    int64_t wanted = field > 0 ? field : (int64_t)n_fields + field + 1;
    if (wanted < 1 || wanted > (int64_t)n_fields) {
        *out = sl_value_string((sl_str){ "", 0 });
        return SL_OK;
    }
    size_t start = 0, index = 1;
    for (size_t i = 0; i + delimiter.len <= s.len;) {
        if (memcmp(s.ptr + i, delimiter.ptr, delimiter.len) != 0) {
            i++;
            continue;
        }
        if ((int64_t)index == wanted) {
            *out = sl_value_string((sl_str){ s.ptr + start, i - start });
            return SL_OK;
        }
        index++;
        i += delimiter.len;
        start = i;
    }
    *out = sl_value_string((sl_str){ s.ptr + start, s.len - start });
    return SL_OK;
}

/* lpad/rpad(s, length [, fill]): s cut or padded to length characters. */
static int pad(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args, bool is_left,
               sl_value *out)
{
    int rc = need_string(call, name, &args[0]);
    if (rc == SL_OK && n_args > 2) rc = need_string(call, name, &args[2]);
    if (rc) return rc;
    if (args[1].type != SL_TYPE_INT) return sl__sql_type_error(call, name, "an int length", &args[1]);
    sl_str s = args[0].string, fill = n_args > 2 ? args[2].string : (sl_str){ " ", 1 };
    int64_t length = args[1].integer < 0 ? 0 : args[1].integer, have = sl_utf8_count(s.ptr, s.len);
    if (length > 10 * 1000 * 1000) return sl_error_set(call->err, SL_ESQL, "%s(): length over 10,000,000", name);
    if (have >= length || fill.len == 0) {
        size_t cut = sl_utf8_offset(s.ptr, s.len, have >= length ? length : have);
        *out = sl_value_string((sl_str){ s.ptr, cut });
        return SL_OK;
    }
    int64_t missing = length - have, fill_chars = sl_utf8_count(fill.ptr, fill.len);
    size_t fill_bytes = (size_t)(missing / fill_chars) * fill.len + sl_utf8_offset(fill.ptr, fill.len, missing % fill_chars);
    char *text = sl_arena_alloc(call->arena, s.len + fill_bytes + 1);
    if (!text) return sl__sql_out_of_memory(call, name);
    size_t n = is_left ? 0 : s.len;
    if (!is_left) memcpy(text, s.ptr, s.len);
    for (int64_t i = 0; i < missing / fill_chars; i++, n += fill.len) memcpy(text + n, fill.ptr, fill.len);
    size_t rest = sl_utf8_offset(fill.ptr, fill.len, missing % fill_chars);
    memcpy(text + n, fill.ptr, rest);
    n += rest;
    if (is_left) {
        memcpy(text + n, s.ptr, s.len);
        n += s.len;
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}

int sl__sql_fn_lpad(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return pad(call, "lpad", args, n_args, true, out);
}

int sl__sql_fn_rpad(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return pad(call, "rpad", args, n_args, false, out);
}

int sl__sql_fn_starts_with(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "starts_with", &args[0]);
    if (rc == SL_OK) rc = need_string(call, "starts_with", &args[1]);
    if (rc) return rc;
    sl_str s = args[0].string, prefix = args[1].string;
    *out = sl_value_bool(prefix.len <= s.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
    return SL_OK;
}

int sl__sql_fn_ends_with(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "ends_with", &args[0]);
    if (rc == SL_OK) rc = need_string(call, "ends_with", &args[1]);
    if (rc) return rc;
    sl_str s = args[0].string, suffix = args[1].string;
    *out = sl_value_bool(suffix.len <= s.len && memcmp(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len) == 0);
    return SL_OK;
}

/* strpos(s, sub): the character position (from 1) of sub's first place in s, 0 when absent. */
int sl__sql_fn_strpos(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "strpos", &args[0]);
    if (rc == SL_OK) rc = need_string(call, "strpos", &args[1]);
    if (rc) return rc;
    sl_str s = args[0].string, sub = args[1].string;
    for (size_t i = 0; i + sub.len <= s.len; i++) {
        if (memcmp(s.ptr + i, sub.ptr, sub.len) != 0) continue;
        *out = sl_value_int(sl_utf8_count(s.ptr, i) + 1);
        return SL_OK;
    }
    *out = sl_value_int(0);
    return SL_OK;
}

/* reverse(s): its characters in reverse order. */
int sl__sql_fn_reverse(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "reverse", &args[0]);
    if (rc) return rc;
    sl_str s = args[0].string;
    char *text = sl_arena_alloc(call->arena, s.len + 1);
    if (!text) return sl__sql_out_of_memory(call, "reverse");
    size_t end = s.len;
    for (size_t pos = 0; pos < s.len;) {
        size_t at = pos;
        sl_utf8_decode(s.ptr, s.len, &pos);
        end -= pos - at;
        memcpy(text + end, s.ptr + at, pos - at);
    }
    text[s.len] = '\0';
    *out = sl_value_string((sl_str){ text, s.len });
    return SL_OK;
}

/* initcap(s): the first letter or digit of each run of them upper case, the others lower. */
int sl__sql_fn_initcap(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    int rc = need_string(call, "initcap", &args[0]);
    if (rc) return rc;
    locale_t utf8_locale = sl__sql_utf8_locale();
    if (utf8_locale == (locale_t)0)
        return sl_error_set(call->err, SL_ESQL, "initcap(): the C.UTF-8 locale is missing on this machine");
    sl_str s = args[0].string;
    char *text = sl_arena_alloc(call->arena, s.len * 2 + 1);
    if (!text) return sl__sql_out_of_memory(call, "initcap");
    size_t n = 0;
    bool is_in_word = false;
    for (size_t pos = 0; pos < s.len;) {
        size_t at = pos;
        int32_t code = sl_utf8_decode(s.ptr, s.len, &pos);
        if (code < 0) {
            memcpy(text + n, s.ptr + at, pos - at);
            n += pos - at;
            is_in_word = false;
            continue;
        }
        bool is_alnum = iswalnum_l((wint_t)code, utf8_locale);
        wint_t mapped = !is_alnum ? (wint_t)code
                        : is_in_word ? towlower_l((wint_t)code, utf8_locale) : towupper_l((wint_t)code, utf8_locale);
        if (mapped > 0x10FFFF) mapped = (wint_t)code;
        n += sl_utf8_encode((int32_t)mapped, text + n);
        is_in_word = is_alnum;
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}
