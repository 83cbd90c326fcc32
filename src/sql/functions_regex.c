/* functions_regex.c — the SQL functions over regular expressions
 * (regexp_like, regexp_extract, regexp_replace; the operators ~ ~* !~ !~*
 * are eval.c's), on regex.h's PCRE2 matching. The flags argument is
 * PostgreSQL's letters (regex.h).
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sql/functions_internal.h"
#include "sql/regex.h"

/* A flags argument as a NUL-terminated string in buf. */
static int flags_of(sl_sql_call *call, const char *name, const sl_value *args, size_t n_args, size_t at,
                    char *buf, size_t size)
{
    buf[0] = '\0';
    if (n_args <= at) return SL_OK;
    if (args[at].type != SL_TYPE_STRING) return sl__sql_type_error(call, name, "a string of flags", &args[at]);
    if (args[at].string.len >= size || memchr(args[at].string.ptr, '\0', args[at].string.len))
        return sl_error_set(call->err, SL_ESQL, "%s(): flags longer than %zu letters", name, size - 1);
    memcpy(buf, args[at].string.ptr, args[at].string.len);
    buf[args[at].string.len] = '\0';
    return SL_OK;
}

static int need_strings(sl_sql_call *call, const char *name, const sl_value *args, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (args[i].type != SL_TYPE_STRING) return sl__sql_type_error(call, name, "a string", &args[i]);
    return SL_OK;
}

int sl__sql_fn_regexp_like(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    char flags[16];
    bool matched = false;
    int rc = need_strings(call, "regexp_like", args, 2);
    if (rc == SL_OK) rc = flags_of(call, "regexp_like", args, n_args, 2, flags, sizeof flags);
    if (rc == SL_OK) rc = sl_sql_regex_match(args[0].string, args[1].string, flags, &matched, call->err);
    if (rc == SL_OK) *out = sl_value_bool(matched);
    return rc;
}

int sl__sql_fn_regexp_extract(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    int rc = need_strings(call, "regexp_extract", args, 2);
    if (rc) return rc;
    if (n_args > 2 && args[2].type != SL_TYPE_INT)
        return sl__sql_type_error(call, "regexp_extract", "an int group", &args[2]);
    sl_str found_text;
    bool found = false;
    rc = sl_sql_regex_extract(args[0].string, args[1].string, n_args > 2 ? args[2].integer : 0, call->arena,
                              &found_text, &found, call->err);
    if (rc == SL_OK) *out = found ? sl_value_string(found_text) : sl_value_null();
    return rc;
}

int sl__sql_fn_regexp_replace(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    char flags[16];
    sl_str replaced;
    int rc = need_strings(call, "regexp_replace", args, 3);
    if (rc == SL_OK) rc = flags_of(call, "regexp_replace", args, n_args, 3, flags, sizeof flags);
    if (rc == SL_OK)
        rc = sl_sql_regex_replace(args[0].string, args[1].string, args[2].string, flags, call->arena, &replaced,
                                  call->err);
    if (rc == SL_OK) *out = sl_value_string(replaced);
    return rc;
}
