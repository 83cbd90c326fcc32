/* api_params.c — checks of the query parameters and names the topic, group
 * and dead-letter routes take (see api_params.h). Cursors are the DAG
 * routes' opaque hex cursors (dag_json.h), so every list pages alike. */
#include "server/api_params.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "server/dags/dag_json.h"

/* A decimal integer filling the whole of text, or false. */
static bool read_integer(const char *text, int64_t *value)
{
    if (!text[0] || isspace((unsigned char)text[0])) return false;
    errno = 0;
    char *end = NULL;
    long long parsed = strtoll(text, &end, 10);
    if (errno || *end != '\0') return false;
    *value = (int64_t)parsed;
    return true;
}

bool sl_api_param_limit(const char *text, int default_limit, int *limit, sl_http_response *response)
{
    *limit = default_limit;
    if (!text) return true;
    int64_t value;
    if (!read_integer(text, &value) || value < 1 || value > SL_API_LIMIT_MAX) {
        sl_http_error(response, 400, "limit '%.100s' is not a number from 1 to %d", text, SL_API_LIMIT_MAX);
        return false;
    }
    *limit = (int)value;
    return true;
}

bool sl_api_param_int(const char *name, const char *text, int64_t min, int64_t max, int64_t *value,
                      bool *is_set, sl_http_response *response)
{
    *is_set = false;
    if (!text) return true;
    int64_t parsed;
    if (!read_integer(text, &parsed) || parsed < min || parsed > max) {
        sl_http_error(response, 400, "%s '%.100s' is not an integer from %" PRId64 " to %" PRId64, name, text, min,
                      max);
        return false;
    }
    *value = parsed;
    *is_set = true;
    return true;
}

bool sl_api_param_time(const char *name, const char *text, int64_t *ms, sl_http_response *response)
{
    int64_t value, us;
    if (read_integer(text, &value) && value >= 0) {
        *ms = value;
        return true;
    }
    if (sl_time_parse_iso(text, strlen(text), &us) == 0) {
        *ms = us / 1000;
        return true;
    }
    sl_http_error(response, 400,
                  "%s '%.100s' is neither an ISO-8601 time (2024-01-01T00:00:00Z) nor milliseconds since the epoch",
                  name, text);
    return false;
}

bool sl_api_param_name(const char *what, const char *name, sl_http_response *response)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > SL_API_NAME_MAX) {
        sl_http_error(response, 400, "%s name must have 1 to %d characters (got %zu)", what, SL_API_NAME_MAX, len);
        return false;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        sl_http_error(response, 400, "%s name '%s' is not allowed", what, name);
        return false;
    }
    size_t good = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
    if (good != len) {
        sl_http_error(response, 400, "%s name '%.100s' has a character other than A-Z a-z 0-9 . _ - (at %zu)", what,
                      name, good + 1);
        return false;
    }
    return true;
}

bool sl_api_param_cursor(char kind, const char *cursor, char *after, size_t size, sl_http_response *response)
{
    after[0] = '\0';
    if (!cursor || !cursor[0]) return true;
    if (sl_dag_cursor_decode(kind, cursor, after, size)) return true;
    sl_http_error(response, 400, "cursor '%.100s' was not given by this list", cursor);
    return false;
}

bool sl_api_topic_open(sl_log *log, const char *name, sl_topic **topic, sl_http_response *response)
{
    if (!sl_api_param_name("topic", name, response)) return false;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_log_topic_open(log, name, topic, &err);
    if (rc == SL_OK) return true;
    if (rc == SL_ENOTFOUND) sl_http_error(response, 404, "no topic called '%s'", name);
    else sl_http_error(response, 500, "topic '%s': %s", name, err.message);
    return false;
}

bool sl_api_param_partition(sl_topic *topic, const char *text, int32_t *partition, sl_http_response *response)
{
    *partition = -1;
    int64_t value;
    bool is_set;
    if (!sl_api_param_int("partition", text, 0, INT32_MAX, &value, &is_set, response)) return false;
    if (!is_set) return true;
    int32_t n = sl_topic_partitions(topic);
    if (value >= n) {
        sl_http_error(response, 404, "topic '%s' has no partition %" PRId64 " (it has %d: 0 to %d)",
                      sl_topic_name(topic), value, (int)n, (int)n - 1);
        return false;
    }
    *partition = (int32_t)value;
    return true;
}

typedef struct named {
    const char *name;
    size_t index;
} named;

static int compare_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

int sl_api_page_by_name(const char *const *names, size_t n, const char *after, size_t limit, size_t **page,
                        size_t *n_page, char *next_after, size_t next_size)
{
    next_after[0] = '\0';
    *n_page = 0;
    named *kept = malloc((n ? n : 1) * sizeof *kept);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!kept || !order) {
        free(kept);
        free(order);
        return SL_ENOMEM;
    }
    size_t n_kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!after || !after[0] || strcmp(names[i], after) > 0) kept[n_kept++] = (named){ names[i], i };
    qsort(kept, n_kept, sizeof *kept, compare_named);
    *n_page = n_kept < limit ? n_kept : limit;
    for (size_t i = 0; i < *n_page; i++) order[i] = kept[i].index;
    if (n_kept > limit) snprintf(next_after, next_size, "%s", kept[limit - 1].name);
    free(kept);
    *page = order;
    return SL_OK;
}

int sl_api_write_next_cursor(sl_buffer *out, char kind, const char *next_after)
{
    if (!next_after[0]) return sl_buffer_append_cstr(out, ",\"next_cursor\":null");
    char cursor[SL_DAG_CURSOR_MAX];
    sl_dag_cursor_encode(kind, next_after, cursor);
    return sl_buffer_printf(out, ",\"next_cursor\":\"%s\"", cursor);
}
