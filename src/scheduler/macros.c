/* macros.c — the run macros of DAG tasks (see macros.h): one table of
 * them, each with how its value is rendered and the environment variable
 * a command task gets it in; expansion of text and the environment both
 * read that table.
 *
 * Times are turned into the zone's wall time with the offset in effect at
 * that instant (sl_tz_offset), then written with timefmt.h's helpers.
 */
#include "scheduler/macros.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/timefmt.h"

#define US_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)

/* ---- rendering ---- */

/* A time as the wall clock of the context's zone shows it. */
typedef struct wall_time {
    int64_t year;
    int month, day, hour, minute, second;
    int32_t offset_seconds;
} wall_time;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int32_t offset_at(const sl_macro_context *context, int64_t us)
{
    return context->tz ? sl_tz_offset(context->tz, floor_div(us, US_PER_SECOND)) : 0;
}

static wall_time wall_time_of(const sl_macro_context *context, int64_t us)
{
    wall_time t;
    t.offset_seconds = offset_at(context, us);
    int64_t local_seconds = floor_div(us, US_PER_SECOND) + t.offset_seconds;
    int64_t days = floor_div(local_seconds, SECONDS_PER_DAY);
    int64_t second_of_day = local_seconds - days * SECONDS_PER_DAY;
    sl_civil_from_days(days, &t.year, &t.month, &t.day);
    t.hour = (int)(second_of_day / 3600);
    t.minute = (int)(second_of_day / 60 % 60);
    t.second = (int)(second_of_day % 60);
    return t;
}

static int append_iso(sl_buffer *out, const sl_macro_context *context, int64_t us)
{
    char text[SL_TIME_ISO_MAX];
    size_t len = sl_time_format_offset(us, offset_at(context, us), text);
    return sl_buffer_append(out, text, len);
}

static int render_ds(const sl_macro_context *context, sl_buffer *out)
{
    wall_time t = wall_time_of(context, context->data_interval_start_us);
    return sl_buffer_printf(out, "%04" PRId64 "-%02d-%02d", t.year, t.month, t.day);
}

static int render_ds_nodash(const sl_macro_context *context, sl_buffer *out)
{
    wall_time t = wall_time_of(context, context->data_interval_start_us);
    return sl_buffer_printf(out, "%04" PRId64 "%02d%02d", t.year, t.month, t.day);
}

static int render_ts_nodash(const sl_macro_context *context, sl_buffer *out)
{
    wall_time t = wall_time_of(context, context->data_interval_start_us);
    return sl_buffer_printf(out, "%04" PRId64 "%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour, t.minute,
                            t.second);
}

static int render_interval_start(const sl_macro_context *context, sl_buffer *out)
{
    return append_iso(out, context, context->data_interval_start_us);
}

static int render_interval_end(const sl_macro_context *context, sl_buffer *out)
{
    return append_iso(out, context, context->data_interval_end_us);
}

static int render_dag_id(const sl_macro_context *context, sl_buffer *out)
{
    return sl_buffer_append_cstr(out, context->dag_id ? context->dag_id : "");
}

static int render_task_id(const sl_macro_context *context, sl_buffer *out)
{
    return sl_buffer_append_cstr(out, context->task_id ? context->task_id : "");
}

static int render_run_id(const sl_macro_context *context, sl_buffer *out)
{
    return sl_buffer_append_cstr(out, context->run_id ? context->run_id : "");
}

static int render_try_number(const sl_macro_context *context, sl_buffer *out)
{
    return sl_buffer_printf(out, "%d", context->try_number);
}

/* ---- the table ---- */

typedef struct macro_row {
    const char *name;
    int (*render)(const sl_macro_context *context, sl_buffer *out);
    const char *env_name;   /* NULL: not in a command's environment */
} macro_row;

static const macro_row macros[] = {
    { "ds", render_ds, "SLUICE_DS" },
    { "ds_nodash", render_ds_nodash, NULL },
    { "ts", render_interval_start, "SLUICE_TS" },
    { "ts_nodash", render_ts_nodash, NULL },
    { "data_interval_start", render_interval_start, "SLUICE_DATA_INTERVAL_START" },
    { "data_interval_end", render_interval_end, "SLUICE_DATA_INTERVAL_END" },
    { "logical_date", render_interval_start, NULL },
    { "run_id", render_run_id, "SLUICE_RUN_ID" },
    { "dag_id", render_dag_id, "SLUICE_DAG_ID" },
    { "task_id", render_task_id, "SLUICE_TASK_ID" },
    { "try_number", render_try_number, "SLUICE_TRY_NUMBER" },
};

#define N_MACROS (sizeof macros / sizeof macros[0])

static const macro_row *find_macro(const char *name, size_t len)
{
    for (size_t i = 0; i < N_MACROS; i++)
        if (strlen(macros[i].name) == len && memcmp(macros[i].name, name, len) == 0) return &macros[i];
    return NULL;
}

bool sl_macros_is_name(const char *name, size_t len)
{
    return find_macro(name, len) != NULL;
}

const char *sl_macros_name(size_t index)
{
    return index < N_MACROS ? macros[index].name : NULL;
}

/* ---- expansion ---- */

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* The macro of the `${name}` starting at text[at] (bytes of it in *span),
 * or NULL when there is none there. */
static const macro_row *macro_at(const char *text, size_t len, size_t at, size_t *span)
{
    if (at + 1 >= len || text[at] != '$' || text[at + 1] != '{') return NULL;
    size_t end = at + 2;
    while (end < len && is_name_char(text[end])) end++;
    if (end >= len || text[end] != '}') return NULL;
    *span = end + 1 - at;
    return find_macro(text + at + 2, end - at - 2);
}

int sl_macros_expand(const char *text, const sl_macro_context *context, char **out, sl_error *err)
{
    if (!text || !context || !out) return sl_error_set(err, SL_EINVAL, "sl_macros_expand: a NULL argument");
    *out = NULL;
    sl_buffer expanded = SL_BUFFER_INIT;
    size_t len = strlen(text);
    size_t at = 0;
    int rc = SL_OK;
    while (rc == SL_OK && at < len) {
        size_t span = 0;
        const macro_row *macro = NULL;
        if (at + 2 < len && text[at] == '$' && text[at + 1] == '$' && text[at + 2] == '{') {
            rc = sl_buffer_append(&expanded, "${", 2);
            at += 3;
        } else if ((macro = macro_at(text, len, at, &span)) != NULL) {
            rc = macro->render(context, &expanded);
            at += span;
        } else {
            /* Copy up to the next '$' after this byte in one append. */
            const char *dollar = memchr(text + at + 1, '$', len - at - 1);
            size_t stop = dollar ? (size_t)(dollar - text) : len;
            rc = sl_buffer_append(&expanded, text + at, stop - at);
            at = stop;
        }
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(&expanded, '\0');
    if (rc) {
        sl_buffer_free(&expanded);
        return sl_error_set(err, SL_ENOMEM, "out of memory expanding run macros");
    }
    *out = expanded.data;
    return SL_OK;
}

/* ---- a command's environment ---- */

int sl_macros_env(const sl_macro_context *context, char ***env, sl_error *err)
{
    if (!context || !env) return sl_error_set(err, SL_EINVAL, "sl_macros_env: a NULL argument");
    *env = NULL;
    char **entries = calloc(N_MACROS + 1, sizeof *entries);
    if (!entries) return sl_error_set(err, SL_ENOMEM, "out of memory building a task's environment");
    size_t n = 0;
    for (size_t i = 0; i < N_MACROS; i++) {
        if (!macros[i].env_name) continue;
        sl_buffer entry = SL_BUFFER_INIT;
        int rc = sl_buffer_printf(&entry, "%s=", macros[i].env_name);
        if (rc == SL_OK) rc = macros[i].render(context, &entry);
        if (rc == SL_OK) rc = sl_buffer_append_byte(&entry, '\0');
        if (rc) {
            sl_buffer_free(&entry);
            sl_macros_env_free(entries);
            return sl_error_set(err, SL_ENOMEM, "out of memory building a task's environment");
        }
        entries[n++] = entry.data;
    }
    *env = entries;
    return SL_OK;
}

void sl_macros_env_free(char **env)
{
    if (!env) return;
    for (size_t i = 0; env[i]; i++) free(env[i]);
    free(env);
}
