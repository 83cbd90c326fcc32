/* functions.c — SQL scalar functions and the table that names them.
 *
 * Each function is a small C function over evaluated arguments plus one row
 * in `functions` below. Strings are UTF-8: length and substr count code
 * points, trim strips whole characters, lower and upper map every
 * Unicode letter (the C.UTF-8 locale's simple case mapping). A result that
 * equals an argument is returned without a copy.
 *
 * uuid() draws from a per-thread xoshiro256** generator seeded once from
 * getrandom(2): no lock is shared between worker threads.
 */
#include "sql/functions.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <wctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/utf8.h"
#include "sql/cast.h"
#include "sql/functions_internal.h"

int sl__sql_type_error(sl_sql_call *call, const char *name, const char *expected, const sl_value *got)
{
    return sl_error_set(call->err, SL_ESQL, "%s() expects %s, got %s", name, expected,
                        sl_type_name(got->type));
}

int sl__sql_out_of_memory(sl_sql_call *call, const char *name)
{
    return sl_error_set(call->err, SL_ENOMEM, "out of memory in %s()", name);
}

static int type_error(sl_sql_call *call, const char *name, const char *expected, const sl_value *got)
{
    return sl__sql_type_error(call, name, expected, got);
}

static int out_of_memory(sl_sql_call *call, const char *name)
{
    return sl__sql_out_of_memory(call, name);
}

/* ---- uuid ---- */

typedef struct random_state {
    uint64_t s[4];
    bool is_seeded;
} random_state;

static _Thread_local random_state thread_random;

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void random_seed(random_state *r)
{
    uint64_t seed[4] = { 0 };
    ssize_t got = getrandom(seed, sizeof seed, 0);
    if (got != (ssize_t)sizeof seed) {
        /* No entropy source: mix the clock and this thread's address, which
         * still gives distinct streams per thread and per run. */
        uint64_t mix = (uint64_t)sl_clock_wall_us() ^ (uint64_t)(uintptr_t)r;
        for (int i = 0; i < 4; i++) seed[i] = splitmix_next(&mix);
    }
    if (!(seed[0] | seed[1] | seed[2] | seed[3])) seed[0] = 1; /* all-zero never moves */
    memcpy(r->s, seed, sizeof seed);
    r->is_seeded = true;
}

uint64_t sl__sql_random_next(void)
{
    random_state *r = &thread_random;
    if (!r->is_seeded) random_seed(r);
    uint64_t *s = r->s;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

static const char hex_digits[] = "0123456789abcdef";

static int fn_uuid_random(sl_sql_call *call, sl_value *out)
{
    unsigned char bytes[16];
    uint64_t high = sl__sql_random_next(), low = sl__sql_random_next();
    memcpy(bytes, &high, 8);
    memcpy(bytes + 8, &low, 8);
    bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char *text = sl_arena_alloc(call->arena, 37);
    if (!text) return out_of_memory(call, "uuid");
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[n++] = '-';
        text[n++] = hex_digits[bytes[i] >> 4];
        text[n++] = hex_digits[bytes[i] & 0x0F];
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}

/* 0..15 for a hex digit, -1 otherwise; a table because uuid(x) checks every
 * byte of every record's key. */
static const signed char hex_values[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
    ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_value(char c)
{
    return hex_values[(unsigned char)c] - 1; /* stored +1 so 0 means "not hex" */
}

/* uuid() makes a random version-4 uuid; uuid(x) checks that x is one
 * (8-4-4-4-12 hex digits) and returns it in lowercase. */
static int fn_uuid(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (n_args == 0) return fn_uuid_random(call, out);
    if (args[0].type != SL_TYPE_STRING) return type_error(call, "uuid", "a string", &args[0]);
    sl_str s = args[0].string;
    bool is_valid = s.len == 36, is_lower = true;
    for (size_t i = 0; is_valid && i < s.len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            is_valid = s.ptr[i] == '-';
        else if (hex_value(s.ptr[i]) < 0)
            is_valid = false;
        else if (s.ptr[i] >= 'A' && s.ptr[i] <= 'F')
            is_lower = false;
    }
    if (!is_valid) {
        char shown[96];
        sl_sql_value_describe(&args[0], shown, sizeof shown);
        return sl_error_set(call->err, SL_ESQL, "invalid uuid %s", shown);
    }
    if (is_lower) {
        *out = args[0];
        return SL_OK;
    }
    char *text = sl_arena_alloc(call->arena, 37);
    if (!text) return out_of_memory(call, "uuid");
    for (size_t i = 0; i < 36; i++) {
        int digit = hex_value(s.ptr[i]);
        text[i] = digit < 0 ? '-' : hex_digits[digit];
    }
    text[36] = '\0';
    *out = sl_value_string((sl_str){ text, 36 });
    return SL_OK;
}

/* ---- strings ---- */

/* The C.UTF-8 locale, whose towlower/towupper know every Unicode letter's
 * simple case mapping (as PostgreSQL's lower() and upper() on glibc).
 * Made once; a locale_t is read-only, so worker threads share it. */
static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void make_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t sl__sql_utf8_locale(void)
{
    pthread_once(&utf8_locale_once, make_utf8_locale);
    return utf8_locale;
}

/* lower/upper: every letter's simple Unicode case mapping; bytes that are
 * not valid UTF-8 are kept as they are. A result that changes nothing is
 * the argument itself. */
int sl__sql_change_case(sl_sql_call *call, const char *name, const sl_value *arg, bool is_upper, sl_value *out)
{
    if (arg->type != SL_TYPE_STRING) return type_error(call, name, "a string", arg);
    if (sl__sql_utf8_locale() == (locale_t)0)
        return sl_error_set(call->err, SL_ESQL, "%s(): the C.UTF-8 locale is missing on this machine", name);
    sl_str s = arg->string;
    /* A mapped character takes at most one byte more than it had (ɐ, 2
     * bytes, is Ɐ, 3). */
    char *text = sl_arena_alloc(call->arena, s.len * 2 + 1);
    if (!text) return out_of_memory(call, name);
    size_t n = 0;
    bool is_changed = false;
    for (size_t pos = 0; pos < s.len;) {
        size_t at = pos;
        int32_t code = sl_utf8_decode(s.ptr, s.len, &pos);
        wint_t mapped = code < 0 ? WEOF : is_upper ? towupper_l((wint_t)code, utf8_locale)
                                                 : towlower_l((wint_t)code, utf8_locale);
        if (code < 0 || mapped == (wint_t)code || mapped == WEOF || mapped > 0x10FFFF) {
            memcpy(text + n, s.ptr + at, pos - at);
            n += pos - at;
            continue;
        }
        n += sl_utf8_encode((int32_t)mapped, text + n);
        is_changed = true;
    }
    if (!is_changed) {
        *out = *arg;
        return SL_OK;
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}

static int fn_lower(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return sl__sql_change_case(call, "lower", &args[0], false, out);
}

static int fn_upper(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return sl__sql_change_case(call, "upper", &args[0], true, out);
}

/* concat(a, b, ...): the arguments as text, NULLs skipped (as PostgreSQL). */
static int fn_concat(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    sl_value texts[16];
    sl_value *parts = texts;
    if (n_args > sizeof texts / sizeof texts[0]) {
        parts = sl_arena_alloc(call->arena, n_args * sizeof *parts);
        if (!parts) return out_of_memory(call, "concat");
    }
    size_t total = 0;
    for (size_t i = 0; i < n_args; i++) {
        int rc = sl_sql_cast(&args[i], SL_TYPE_STRING, call->arena, &parts[i], call->err);
        if (rc) return rc;
        if (parts[i].type == SL_TYPE_STRING) total += parts[i].string.len;
    }
    char *text = sl_arena_alloc(call->arena, total + 1);
    if (!text) return out_of_memory(call, "concat");
    size_t n = 0;
    for (size_t i = 0; i < n_args; i++) {
        if (parts[i].type != SL_TYPE_STRING || parts[i].string.len == 0) continue;
        memcpy(text + n, parts[i].string.ptr, parts[i].string.len);
        n += parts[i].string.len;
    }
    text[n] = '\0';
    *out = sl_value_string((sl_str){ text, n });
    return SL_OK;
}

static bool is_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static int fn_length(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (args[0].type != SL_TYPE_STRING) return type_error(call, "length", "a string", &args[0]);
    *out = sl_value_int(sl_utf8_count(args[0].string.ptr, args[0].string.len));
    return SL_OK;
}

/* The length in bytes of the UTF-8 character that starts at s[pos] (1 for
 * a byte that starts none) and of the one that ends at s[end - 1]. */
static size_t char_len_at(sl_str s, size_t pos)
{
    size_t n = 1;
    while (pos + n < s.len && is_continuation(s.ptr[pos + n]) && n < 4) n++;
    return n;
}

static size_t char_len_before(sl_str s, size_t end)
{
    size_t n = 1;
    while (n < end && n < 4 && is_continuation(s.ptr[end - n])) n++;
    return n;
}

/* Whether the character ch (len bytes) is one of the characters of set. */
static bool set_has(sl_str set, const char *ch, size_t len)
{
    for (size_t pos = 0; pos < set.len;) {
        size_t n = char_len_at(set, pos);
        if (n == len && memcmp(set.ptr + pos, ch, len) == 0) return true;
        pos += n;
    }
    return false;
}

/* trim/ltrim/rtrim(s [, characters]): strips spaces, or any character of
 * characters (whole UTF-8 characters, never bytes of one), from the chosen
 * ends. */
static int trim_ends(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args,
                     bool is_left, bool is_right, sl_value *out)
{
    if (args[0].type != SL_TYPE_STRING) return type_error(call, name, "a string", &args[0]);
    sl_str set = SL_STR_LIT(" ");
    if (n_args > 1) {
        if (args[1].type != SL_TYPE_STRING) return type_error(call, name, "a string", &args[1]);
        set = args[1].string;
    }
    sl_str s = args[0].string;
    while (is_left && s.len) {
        size_t n = char_len_at(s, 0);
        if (!set_has(set, s.ptr, n)) break;
        s.ptr += n;
        s.len -= n;
    }
    while (is_right && s.len) {
        size_t n = char_len_before(s, s.len);
        if (!set_has(set, s.ptr + s.len - n, n)) break;
        s.len -= n;
    }
    *out = sl_value_string(s);
    return SL_OK;
}

static int fn_trim(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return trim_ends(call, "trim", args, n_args, true, true, out);
}

static int fn_ltrim(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return trim_ends(call, "ltrim", args, n_args, true, false, out);
}

static int fn_rtrim(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    return trim_ends(call, "rtrim", args, n_args, false, true, out);
}

/* substr(s, start [, count]): characters from position start (from 1), as
 * PostgreSQL: a start before 1 eats into count. */
static int fn_substr(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (args[0].type != SL_TYPE_STRING) return type_error(call, "substr", "a string", &args[0]);
    if (args[1].type != SL_TYPE_INT) return type_error(call, "substr", "an int start", &args[1]);
    int64_t start = args[1].integer, end = INT64_MAX;
    if (n_args > 2) {
        if (args[2].type != SL_TYPE_INT)
            return type_error(call, "substr", "an int length", &args[2]);
        if (args[2].integer < 0)
            return sl_error_set(call->err, SL_ESQL, "substr() length must not be negative");
        end = start > INT64_MAX - args[2].integer ? INT64_MAX : start + args[2].integer;
    }
    if (start < 1) start = 1;
    sl_str s = args[0].string;
    size_t from = end <= start ? s.len : sl_utf8_offset(s.ptr, s.len, start - 1);
    size_t to = end == INT64_MAX || end <= start ? s.len : sl_utf8_offset(s.ptr, s.len, end - 1);
    if (to < from) to = from;
    *out = sl_value_string((sl_str){ s.ptr + from, to - from });
    return SL_OK;
}

/* ---- numbers and time ---- */

static int fn_abs(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (args[0].type == SL_TYPE_INT) {
        if (args[0].integer == INT64_MIN)
            return sl_error_set(call->err, SL_ESQL, "abs(): int out of range");
        *out = sl_value_int(args[0].integer < 0 ? -args[0].integer : args[0].integer);
    } else if (args[0].type == SL_TYPE_DOUBLE) {
        *out = sl_value_double(fabs(args[0].number));   /* abs(-0.0) is 0, not -0 */
    } else {
        return type_error(call, "abs", "a number", &args[0]);
    }
    return SL_OK;
}

static int fn_now(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    *out = sl_value_timestamp(sl_clock_wall_us());
    return SL_OK;
}

static const sl_sql_function functions[] = {
    { "uuid", 0, 1, SL_SQL_FN_VOLATILE, fn_uuid },
    { "lower", 1, 1, 0, fn_lower },
    { "upper", 1, 1, 0, fn_upper },
    { "concat", 1, SL_SQL_VARIADIC, SL_SQL_FN_NULL_SAFE, fn_concat },
    { "coalesce", 1, SL_SQL_VARIADIC, SL_SQL_FN_NULL_SAFE | SL_SQL_FN_FIRST_NOT_NULL, NULL },
    { "length", 1, 1, 0, fn_length },
    { "char_length", 1, 1, 0, fn_length },
    { "trim", 1, 2, 0, fn_trim },
    { "ltrim", 1, 2, 0, fn_ltrim },
    { "rtrim", 1, 2, 0, fn_rtrim },
    { "substr", 2, 3, 0, fn_substr },
    { "substring", 2, 3, 0, fn_substr },
    { "abs", 1, 1, 0, fn_abs },
    { "now", 0, 0, SL_SQL_FN_VOLATILE, fn_now },
    { "current_timestamp", 0, 0, SL_SQL_FN_VOLATILE, fn_now },
    /* numbers: functions_math.c */
    { "round", 1, 2, 0, sl__sql_fn_round },
    { "floor", 1, 1, 0, sl__sql_fn_floor },
    { "ceil", 1, 1, 0, sl__sql_fn_ceil },
    { "ceiling", 1, 1, 0, sl__sql_fn_ceil },
    { "trunc", 1, 2, 0, sl__sql_fn_trunc },
    { "power", 2, 2, 0, sl__sql_fn_power },
    { "pow", 2, 2, 0, sl__sql_fn_power },
    { "sqrt", 1, 1, 0, sl__sql_fn_sqrt },
    { "exp", 1, 1, 0, sl__sql_fn_exp },
    { "ln", 1, 1, 0, sl__sql_fn_ln },
    { "log", 1, 2, 0, sl__sql_fn_log },
    { "mod", 2, 2, 0, sl__sql_fn_mod },
    { "sign", 1, 1, 0, sl__sql_fn_sign },
    { "greatest", 1, SL_SQL_VARIADIC, SL_SQL_FN_NULL_SAFE, sl__sql_fn_greatest },
    { "least", 1, SL_SQL_VARIADIC, SL_SQL_FN_NULL_SAFE, sl__sql_fn_least },
    { "random", 0, 0, SL_SQL_FN_VOLATILE, sl__sql_fn_random },
    /* more strings: functions_text.c */
    { "replace", 3, 3, 0, sl__sql_fn_replace },
    { "split_part", 3, 3, 0, sl__sql_fn_split_part },
    { "lpad", 2, 3, 0, sl__sql_fn_lpad },
    { "rpad", 2, 3, 0, sl__sql_fn_rpad },
    { "starts_with", 2, 2, 0, sl__sql_fn_starts_with },
    { "ends_with", 2, 2, 0, sl__sql_fn_ends_with },
    { "strpos", 2, 2, 0, sl__sql_fn_strpos },
    { "reverse", 1, 1, 0, sl__sql_fn_reverse },
    { "initcap", 1, 1, 0, sl__sql_fn_initcap },
    /* regular expressions: functions_regex.c */
    { "regexp_like", 2, 3, 0, sl__sql_fn_regexp_like },
    { "regexp_extract", 2, 3, 0, sl__sql_fn_regexp_extract },
    { "regexp_replace", 3, 4, 0, sl__sql_fn_regexp_replace },
    /* JSON, arrays and objects: functions_json.c */
    { "parse_json", 1, 1, 0, sl__sql_fn_parse_json },
    { "to_json", 1, 1, 0, sl__sql_fn_to_json },
    { "json_extract", 2, 2, 0, sl__sql_fn_json_extract },
    { "json_array_length", 1, 1, 0, sl__sql_fn_json_array_length },
    { "cardinality", 1, 1, 0, sl__sql_fn_cardinality },
    { "element_at", 2, 2, 0, sl__sql_fn_element_at },
    /* dates and times: functions_time.c */
    { "date_trunc", 2, 3, 0, sl__sql_fn_date_trunc },
    { "date_part", 2, 2, 0, sl__sql_fn_date_part },
    { "to_timestamp", 1, 2, 0, sl__sql_fn_to_timestamp },
    { "from_unixtime", 1, 1, 0, sl__sql_fn_from_unixtime },
    { "to_unixtime", 1, 1, 0, sl__sql_fn_to_unixtime },
    { "date_add", 2, 3, 0, sl__sql_fn_date_add },
    { "justify_hours", 1, 1, 0, sl__sql_fn_justify_hours },
    { "justify_days", 1, 1, 0, sl__sql_fn_justify_days },
    { "justify_interval", 1, 1, 0, sl__sql_fn_justify_interval },
    { "make_interval", 0, 7, 0, sl__sql_fn_make_interval },
    { "date_diff", 3, 3, 0, sl__sql_fn_date_diff },
    /* digests: functions_hash.c */
    { "md5", 1, 1, 0, sl__sql_fn_md5 },
    { "sha1", 1, 1, 0, sl__sql_fn_sha1 },
    { "sha256", 1, 1, 0, sl__sql_fn_sha256 },
    { "murmur3", 1, 2, 0, sl__sql_fn_murmur3 },
    { "hash64", 1, 1, 0, sl__sql_fn_hash64 },
};

const sl_sql_function *sl_sql_function_find(sl_str name)
{
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        if (strlen(functions[i].name) == name.len &&
            strncasecmp(functions[i].name, name.ptr, name.len) == 0)
            return &functions[i];
    return NULL;
}

const sl_sql_function *sl_sql_function_at(size_t i)
{
    return i < sizeof functions / sizeof functions[0] ? &functions[i] : NULL;
}
