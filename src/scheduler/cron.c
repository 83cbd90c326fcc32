/* cron.c — parsing cron expressions and finding their next fire time (see
 * cron.h).
 *
 * A parsed expression is one bit set per field. The next fire time is found
 * by walking the zone's local calendar a day at a time from the local time
 * of `after`: on a matching day each matching hour and minute is turned
 * into an instant with sl_tz_from_local, which says whether that wall time
 * exists and when it first occurs. First occurrences grow with the wall
 * time, so the first candidate past `after` is the answer.
 */
#include "scheduler/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/timefmt.h"

#define SEARCH_YEARS 30
#define SECONDS_PER_DAY INT64_C(86400)

typedef struct field_spec {
    const char *name;
    int min, max;
    const char *const *names;   /* names[i] is value min + i; NULL = none */
} field_spec;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const weekday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const field_spec fields[5] = {
    { "minute", 0, 59, NULL },
    { "hour", 0, 23, NULL },
    { "day of month", 1, 31, NULL },
    { "month", 1, 12, month_names },
    { "day of week", 0, 7, weekday_names },   /* 7 is Sunday as well as 0 */
};

typedef struct alias {
    const char *name;
    const char *expression;
} alias;

static const alias aliases[] = {
    { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

typedef struct parse_state {
    const char *text;     /* the whole expression, for messages */
    const char *source;   /* what is parsed: text, or an alias's expansion */
    sl_error *err;
    size_t column;        /* where the mistake is (1-based), 0 = the whole expression */
} parse_state;

static int fail(parse_state *state, const field_spec *field, size_t column, const char *format,
                const char *detail)
{
    if (state->source == state->text) state->column = column;
    char what[160];
    snprintf(what, sizeof what, format, detail);
    if (state->source != state->text)
        return sl_error_set(state->err, SL_EPARSE, "cron expression '%s': %s", state->text, what);
    return sl_error_set(state->err, SL_EPARSE, "cron expression '%s': %s at column %zu: %s", state->text,
                        field->name, column, what);
}

/* A number or (where the field has names) a three-letter name at s[0..len). */
static int read_value(parse_state *state, const field_spec *field, const char *s, size_t len,
                      size_t column, int *value)
{
    char piece[32];
    snprintf(piece, sizeof piece, "%.*s", (int)(len > 20 ? 20 : len), s);
    if (len == 0) return fail(state, field, column, "a value is missing%s", "");
    if (s[0] >= '0' && s[0] <= '9') {
        int n = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') return fail(state, field, column, "'%s' is not a number", piece);
            n = n * 10 + (s[i] - '0');
            if (n > 1000) break;
        }
        if (n < field->min || n > field->max) {
            char detail[96];
            snprintf(detail, sizeof detail, "%s is out of range %d-%d", piece, field->min, field->max);
            return fail(state, field, column, "%s", detail);
        }
        *value = n;
        return SL_OK;
    }
    if (field->names && len == 3) {
        for (int i = 0; field->names[i]; i++) {
            if (strncasecmp(s, field->names[i], 3) == 0) {
                *value = field->min + i;
                return SL_OK;
            }
        }
    }
    char detail[160];
    if (field->names)
        snprintf(detail, sizeof detail, "'%s' is not a number or a name (%s)", piece,
                 field->names == month_names ? "jan..dec" : "sun..sat");
    else snprintf(detail, sizeof detail, "'%s' is not a number", piece);
    return fail(state, field, column, "%s", detail);
}

/* One comma-separated item: *, v, a-b, with an optional /step. */
static int parse_item(parse_state *state, const field_spec *field, const char *s, size_t len,
                      size_t column, uint64_t *bits)
{
    const char *slash = memchr(s, '/', len);
    size_t base_len = slash ? (size_t)(slash - s) : len;
    int low, high, step = 1;
    bool is_star = base_len == 1 && s[0] == '*';
    int rc;
    if (is_star) {
        low = field->min;
        high = field->max == 7 ? 6 : field->max;
    } else {
        const char *dash = memchr(s, '-', base_len);
        if (dash) {
            if ((rc = read_value(state, field, s, (size_t)(dash - s), column, &low))) return rc;
            size_t high_at = (size_t)(dash - s) + 1;
            if ((rc = read_value(state, field, dash + 1, base_len - high_at, column + high_at, &high))) return rc;
            if (high < low) {
                char detail[64];
                snprintf(detail, sizeof detail, "the range %d-%d goes backwards", low, high);
                return fail(state, field, column, "%s", detail);
            }
        } else {
            if ((rc = read_value(state, field, s, base_len, column, &low))) return rc;
            /* a/n runs from a to the field's end, as in croniter */
            high = slash ? (field->max == 7 ? 6 : field->max) : low;
            if (slash && low > high) high = low;
        }
    }
    if (slash) {
        size_t step_at = base_len + 1;
        const char *digits = s + step_at;
        size_t n_digits = len - step_at;
        step = 0;
        bool is_number = n_digits > 0;
        for (size_t i = 0; i < n_digits && is_number; i++) {
            is_number = digits[i] >= '0' && digits[i] <= '9';
            if (is_number && step <= 1000) step = step * 10 + (digits[i] - '0');
        }
        int span = field->max - field->min + 1;
        if (!is_number || step < 1 || step > span) {
            char detail[96];
            snprintf(detail, sizeof detail, "the step '%.*s' is not a number from 1 to %d",
                     (int)(n_digits > 20 ? 20 : n_digits), digits, span);
            return fail(state, field, column + step_at, "%s", detail);
        }
    }
    for (int v = low; v <= high; v += step) *bits |= UINT64_C(1) << (v == 7 && field->max == 7 ? 0 : v);
    return SL_OK;
}

/* *has_star: one of the field's items is a bare "*". */
static int parse_field(parse_state *state, const field_spec *field, const char *s, size_t len,
                       size_t column, uint64_t *bits, bool *has_star)
{
    *bits = 0;
    *has_star = false;
    size_t at = 0;
    for (;;) {
        const char *comma = memchr(s + at, ',', len - at);
        size_t item_len = comma ? (size_t)(comma - (s + at)) : len - at;
        if (item_len == 0) return fail(state, field, column + at, "an empty item in a list%s", "");
        int rc = parse_item(state, field, s + at, item_len, column + at, bits);
        if (rc) return rc;
        if (item_len == 1 && s[at] == '*') *has_star = true;
        if (!comma) return SL_OK;
        at += item_len + 1;
    }
}

/* Whether some chosen month has one of the chosen days of the month. */
static bool can_fire(const sl_cron *cron)
{
    if (cron->is_either_day) return true;
    static const int longest[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    for (int month = 1; month <= 12; month++)
        if (cron->months >> month & 1)
            for (int day = 1; day <= longest[month]; day++)
                if (cron->days >> day & 1) return true;
    return false;
}

static int parse_expression(parse_state *state, sl_cron *cron)
{
    const char *text = state->text;
    sl_error *err = state->err;
    memset(cron, 0, sizeof *cron);
    size_t start = strspn(text, " \t");
    if (text[start] == '@') {
        size_t len = strcspn(text + start, " \t");
        if (text[start + len + strspn(text + start + len, " \t")] != '\0')
            return sl_error_set(err, SL_EPARSE, "cron expression '%s': nothing may follow %.*s", text, (int)len,
                                text + start);
        for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
            if (strlen(aliases[i].name) == len && strncasecmp(text + start, aliases[i].name, len) == 0)
                state->source = aliases[i].expression;
        if (state->source == text)
            return sl_error_set(err, SL_EPARSE, "cron expression '%s': unknown alias '%.*s' (use @yearly, "
                                "@annually, @monthly, @weekly, @daily, @midnight or @hourly)", text,
                                (int)(len > 20 ? 20 : len), text + start);
    }
    const char *s = state->source;
    uint64_t bits[5];
    bool is_star[5] = { false };
    size_t at = 0, n_fields = 0;
    for (;;) {
        at += strspn(s + at, " \t");
        if (s[at] == '\0') break;
        size_t len = strcspn(s + at, " \t");
        if (n_fields < 5) {
            int rc = parse_field(state, &fields[n_fields], s + at, len, at + 1, &bits[n_fields],
                                 &is_star[n_fields]);
            if (rc) return rc;
        }
        n_fields++;
        at += len;
    }
    if (n_fields != 5)
        return sl_error_set(err, SL_EPARSE, "cron expression '%s' has %zu field%s; it needs 5: minute, hour, "
                            "day of month, month, day of week (or an alias like @daily)", text, n_fields,
                            n_fields == 1 ? "" : "s");
    cron->minutes = bits[0];
    cron->hours = (uint32_t)bits[1];
    cron->days = (uint32_t)bits[2];
    cron->months = (uint16_t)bits[3];
    cron->weekdays = (uint8_t)bits[4];
    cron->is_either_day = !is_star[2] && !is_star[4];
    if (!can_fire(cron))
        return sl_error_set(err, SL_EPARSE, "cron expression '%s' never fires: none of its months has any of its "
                            "days of the month", text);
    return SL_OK;
}

int sl_cron_parse_at(const char *text, sl_cron *cron, size_t *column, sl_error *err)
{
    parse_state state = { text, text, err, 0 };
    int rc = parse_expression(&state, cron);
    *column = state.column;
    return rc;
}

int sl_cron_parse(const char *text, sl_cron *cron, sl_error *err)
{
    size_t column;
    return sl_cron_parse_at(text, cron, &column, err);
}

static bool day_matches(const sl_cron *cron, int64_t days)
{
    int64_t year;
    int month, day;
    sl_civil_from_days(days, &year, &month, &day);
    if (!(cron->months >> month & 1)) return false;
    bool is_day = cron->days >> day & 1;
    bool is_weekday = cron->weekdays >> sl_weekday_from_days(days) & 1;
    return cron->is_either_day ? is_day || is_weekday : is_day && is_weekday;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int sl_cron_next(const sl_cron *cron, const sl_tz *tz, int64_t after_utc, int64_t *next)
{
    int64_t after_local = after_utc + sl_tz_offset(tz, after_utc);
    int64_t first_day = floor_div(after_local, SECONDS_PER_DAY);
    for (int64_t day = first_day; day < first_day + SEARCH_YEARS * 366; day++) {
        if (!day_matches(cron, day)) continue;
        for (int hour = 0; hour < 24; hour++) {
            if (!(cron->hours >> hour & 1)) continue;
            int64_t hour_start = day * SECONDS_PER_DAY + hour * 3600;
            /* Wall times before after's own have their first occurrence
             * at or before it. */
            if (hour_start + 3600 <= after_local) continue;
            for (int minute = 0; minute < 60; minute++) {
                if (!(cron->minutes >> minute & 1)) continue;
                int64_t instants[2];
                if (sl_tz_from_local(tz, hour_start + minute * 60, instants) == 0) continue;
                if (instants[0] > after_utc) {
                    *next = instants[0];
                    return SL_OK;
                }
            }
        }
    }
    return SL_ENOTFOUND;
}

/* Walks back from a day after before's local day (a repeated hour may put
 * wall times later than before's own at instants before it): fire times
 * grow with the wall time, so the first one found before `before` is the
 * last. */
int sl_cron_prev(const sl_cron *cron, const sl_tz *tz, int64_t before_utc, int64_t *previous)
{
    int64_t before_local = before_utc + sl_tz_offset(tz, before_utc);
    int64_t last_day = floor_div(before_local, SECONDS_PER_DAY) + 1;
    for (int64_t day = last_day; day > last_day - SEARCH_YEARS * 366; day--) {
        if (!day_matches(cron, day)) continue;
        for (int hour = 23; hour >= 0; hour--) {
            if (!(cron->hours >> hour & 1)) continue;
            int64_t hour_start = day * SECONDS_PER_DAY + hour * 3600;
            for (int minute = 59; minute >= 0; minute--) {
                if (!(cron->minutes >> minute & 1)) continue;
                int64_t instants[2];
                if (sl_tz_from_local(tz, hour_start + minute * 60, instants) == 0) continue;
                if (instants[0] < before_utc) {
                    *previous = instants[0];
                    return SL_OK;
                }
            }
        }
    }
    return SL_ENOTFOUND;
}
