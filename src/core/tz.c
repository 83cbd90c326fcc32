/* tz.c — time zones read from TZif files (see tz.h).
 *
 * Written by hand because no Debian C library converts through a named zone
 * without the process-wide TZ variable (glibc's localtime_r reads TZ; ICU
 * carries its own copy of the database). The format is RFC 8536: a header,
 * transition times with the local time type each starts, and, from version
 * 2 on, a footer holding a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3")
 * for the instants after the last transition. Everything read from the file
 * is checked against the file's length and the RFC's limits before use.
 */
#include "core/tz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_FILE_MAX (1024 * 1024)
#define TZ_MAX_TRANSITIONS 100000
#define TZ_NAME_MAX 255
#define SECONDS_PER_DAY INT64_C(86400)

/* A date of a POSIX TZ rule. */
typedef enum rule_date_kind { DATE_JULIAN_NO_LEAP, DATE_DAY_OF_YEAR, DATE_MONTH_WEEK_DAY } rule_date_kind;

typedef struct rule_date {
    rule_date_kind kind;
    int day;      /* J: 1..365; n: 0..365; M: weekday 0 (Sunday)..6 */
    int month;    /* M: 1..12 */
    int week;     /* M: 1..5, 5 = the last */
    int32_t time; /* seconds after local midnight the change happens, -167h..167h */
} rule_date;

typedef struct posix_rule {
    int32_t std_offset;   /* seconds east of UTC */
    bool has_dst;
    int32_t dst_offset;
    rule_date start, end;
} posix_rule;

struct sl_tz {
    char *name;
    size_t n_transitions;
    int64_t *times;        /* ascending UTC seconds */
    uint8_t *type_of;      /* the local time type each transition starts */
    size_t n_types;
    int32_t *type_offset;  /* seconds east of UTC, per type */
    bool has_rule;
    posix_rule rule;
};

/* ---- reading the file ---- */

typedef struct reader {
    const uint8_t *bytes;
    size_t len, pos;
} reader;

static bool take(reader *r, size_t n, const uint8_t **out)
{
    if (n > r->len - r->pos) return false;
    *out = r->bytes + r->pos;
    r->pos += n;
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header;

static int read_header(reader *r, header *h, const char *name, sl_error *err)
{
    const uint8_t *p;
    if (!take(r, 44, &p) || memcmp(p, "TZif", 4) != 0)
        return sl_error_set(err, SL_ECORRUPT, "time zone %s: not a TZif file", name);
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 || h->timecnt > TZ_MAX_TRANSITIONS ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return sl_error_set(err, SL_ECORRUPT, "time zone %s: the TZif header's counts are invalid", name);
    if (h->leapcnt != 0)
        return sl_error_set(err, SL_EINVAL, "time zone %s counts leap seconds (a right/ zone); use the zone "
                            "without the right/ prefix", name);
    return SL_OK;
}

/* Skips a data block whose times are `time_size` bytes wide. */
static bool skip_block(reader *r, const header *h, size_t time_size)
{
    size_t size = (size_t)h->timecnt * (time_size + 1) + (size_t)h->typecnt * 6 + h->charcnt +
                  (size_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
    const uint8_t *p;
    return take(r, size, &p);
}

static int read_block(reader *r, const header *h, size_t time_size, sl_tz *tz, sl_error *err)
{
    const uint8_t *times, *indices, *types, *rest;
    if (!take(r, (size_t)h->timecnt * time_size, &times) || !take(r, h->timecnt, &indices) ||
        !take(r, (size_t)h->typecnt * 6, &types) ||
        !take(r, (size_t)h->charcnt + h->isstdcnt + h->isutcnt, &rest))
        return sl_error_set(err, SL_ECORRUPT, "time zone %s: the TZif file ends inside its data", tz->name);
    tz->n_transitions = h->timecnt;
    tz->n_types = h->typecnt;
    tz->times = malloc((h->timecnt ? h->timecnt : 1) * sizeof *tz->times);
    tz->type_of = malloc(h->timecnt ? h->timecnt : 1);
    tz->type_offset = malloc(h->typecnt * sizeof *tz->type_offset);
    if (!tz->times || !tz->type_of || !tz->type_offset) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *type = types + 6 * i;
        int32_t offset = (int32_t)be32(type);
        if (offset < -89999 || offset > 93599 || type[4] > 1 || type[5] >= h->charcnt)
            return sl_error_set(err, SL_ECORRUPT, "time zone %s: local time type %u is invalid", tz->name, i);
        tz->type_offset[i] = offset;
    }
    for (uint32_t i = 0; i < h->timecnt; i++) {
        tz->times[i] = time_size == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        tz->type_of[i] = indices[i];
        if (indices[i] >= h->typecnt || (i > 0 && tz->times[i] <= tz->times[i - 1]))
            return sl_error_set(err, SL_ECORRUPT, "time zone %s: transition %u is invalid", tz->name, i);
    }
    return SL_OK;
}

/* ---- the POSIX TZ rule of the footer ---- */

typedef struct rule_text {
    const char *s;
    size_t pos, len;
} rule_text;

static bool at(const rule_text *t, char c)
{
    return t->pos < t->len && t->s[t->pos] == c;
}

static bool read_number(rule_text *t, int max, int *out)
{
    int value = 0;
    size_t began = t->pos;
    while (t->pos < t->len && t->s[t->pos] >= '0' && t->s[t->pos] <= '9') {
        value = value * 10 + (t->s[t->pos++] - '0');
        if (value > max) return false;
    }
    *out = value;
    return t->pos > began;
}

/* A zone abbreviation: letters, or anything but '>' between '<' and '>'. */
static bool read_abbreviation(rule_text *t)
{
    size_t began = t->pos;
    if (at(t, '<')) {
        while (t->pos < t->len && t->s[t->pos] != '>') t->pos++;
        if (!at(t, '>')) return false;
        t->pos++;
        return t->pos - began >= 3;
    }
    while (t->pos < t->len && ((t->s[t->pos] | 0x20) >= 'a' && (t->s[t->pos] | 0x20) <= 'z')) t->pos++;
    return t->pos - began >= 3;
}

/* [+-]hh[:mm[:ss]] with hours up to 167 (RFC 8536's extension), in seconds. */
static bool read_clock(rule_text *t, int32_t *seconds)
{
    int sign = 1;
    if (at(t, '+') || at(t, '-')) sign = t->s[t->pos++] == '-' ? -1 : 1;
    int hours, minutes = 0, secs = 0;
    if (!read_number(t, 167, &hours)) return false;
    if (at(t, ':')) {
        t->pos++;
        if (!read_number(t, 59, &minutes)) return false;
        if (at(t, ':')) {
            t->pos++;
            if (!read_number(t, 59, &secs)) return false;
        }
    }
    *seconds = sign * (hours * 3600 + minutes * 60 + secs);
    return true;
}

static bool read_rule_date(rule_text *t, rule_date *date)
{
    *date = (rule_date){ .time = 2 * 3600 };
    if (at(t, 'J')) {
        t->pos++;
        date->kind = DATE_JULIAN_NO_LEAP;
        if (!read_number(t, 365, &date->day) || date->day < 1) return false;
    } else if (at(t, 'M')) {
        t->pos++;
        date->kind = DATE_MONTH_WEEK_DAY;
        if (!read_number(t, 12, &date->month) || date->month < 1 || !at(t, '.')) return false;
        t->pos++;
        if (!read_number(t, 5, &date->week) || date->week < 1 || !at(t, '.')) return false;
        t->pos++;
        if (!read_number(t, 6, &date->day)) return false;
    } else {
        date->kind = DATE_DAY_OF_YEAR;
        if (!read_number(t, 365, &date->day)) return false;
    }
    if (at(t, '/')) {
        t->pos++;
        if (!read_clock(t, &date->time)) return false;
    }
    return true;
}

static int parse_rule(const char *s, size_t len, sl_tz *tz, sl_error *err)
{
    rule_text t = { s, 0, len };
    posix_rule *rule = &tz->rule;
    int32_t west;
    if (!read_abbreviation(&t) || !read_clock(&t, &west)) goto bad;
    rule->std_offset = -west;
    if (t.pos < t.len) {
        if (!read_abbreviation(&t)) goto bad;
        rule->has_dst = true;
        rule->dst_offset = rule->std_offset + 3600;
        if (t.pos < t.len && !at(&t, ',')) {
            if (!read_clock(&t, &west)) goto bad;
            rule->dst_offset = -west;
        }
        /* TZif footers always say when daylight time starts and ends. */
        if (!at(&t, ',')) goto bad;
        t.pos++;
        if (!read_rule_date(&t, &rule->start) || !at(&t, ',')) goto bad;
        t.pos++;
        if (!read_rule_date(&t, &rule->end)) goto bad;
    }
    if (t.pos != t.len) goto bad;
    tz->has_rule = true;
    return SL_OK;
bad:
    return sl_error_set(err, SL_ECORRUPT, "time zone %s: its rule '%.*s' is not a POSIX TZ rule", tz->name,
                        (int)(len > 80 ? 80 : len), s);
}

static int read_footer(reader *r, sl_tz *tz, sl_error *err)
{
    const uint8_t *p;
    if (!take(r, 1, &p) || *p != '\n')
        return sl_error_set(err, SL_ECORRUPT, "time zone %s: the TZif footer is missing", tz->name);
    const char *begin = (const char *)r->bytes + r->pos;
    const char *newline = memchr(begin, '\n', r->len - r->pos);
    if (!newline) return sl_error_set(err, SL_ECORRUPT, "time zone %s: the TZif footer is not ended", tz->name);
    size_t len = (size_t)(newline - begin);
    if (len == 0) return SL_OK;
    return parse_rule(begin, len, tz, err);
}

int sl_tz_parse(const uint8_t *bytes, size_t len, const char *name, sl_tz **out, sl_error *err)
{
    *out = NULL;
    sl_tz *tz = calloc(1, sizeof *tz);
    if (!tz || !(tz->name = strdup(name))) {
        free(tz);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    reader r = { bytes, len, 0 };
    header h;
    int rc = read_header(&r, &h, tz->name, err);
    if (rc == SL_OK && h.version >= '2') {
        if (!skip_block(&r, &h, 4)) {
            rc = sl_error_set(err, SL_ECORRUPT, "time zone %s: the TZif file ends inside its data", tz->name);
        } else {
            rc = read_header(&r, &h, tz->name, err);
            if (rc == SL_OK) rc = read_block(&r, &h, 8, tz, err);
            if (rc == SL_OK) rc = read_footer(&r, tz, err);
        }
    } else if (rc == SL_OK) {
        rc = read_block(&r, &h, 4, tz, err);
    }
    if (rc) {
        sl_tz_free(tz);
        return rc;
    }
    *out = tz;
    return SL_OK;
}

/* ---- loading by name ---- */

static int check_name(const char *name, sl_error *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || name[len - 1] == '/')
        return sl_error_set(err, SL_EINVAL, "'%.60s' is not a time zone name (like UTC or Europe/Berlin)", name);
    for (const char *component = name; *component;) {
        size_t n = strcspn(component, "/");
        if (n == 0 || (n == 1 && component[0] == '.') || (n == 2 && component[0] == '.' && component[1] == '.'))
            return sl_error_set(err, SL_EINVAL, "'%.60s' is not a time zone name (like UTC or Europe/Berlin)", name);
        component += n + (component[n] == '/');
    }
    size_t good = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.");
    if (good != len)
        return sl_error_set(err, SL_EINVAL, "time zone name '%.60s' has '%c' at position %zu", name, name[good],
                            good + 1);
    return SL_OK;
}

static sl_tz *builtin_utc(void)
{
    sl_tz *tz = calloc(1, sizeof *tz);
    if (!tz) return NULL;
    tz->name = strdup("UTC");
    tz->n_types = 1;
    tz->type_offset = calloc(1, sizeof *tz->type_offset);
    if (!tz->name || !tz->type_offset) {
        sl_tz_free(tz);
        return NULL;
    }
    return tz;
}

int sl_tz_load(const char *name, sl_tz **out, sl_error *err)
{
    *out = NULL;
    int rc = check_name(name, err);
    if (rc) return rc;
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = TZ_DEFAULT_DIR;
    size_t path_len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(path_len);
    if (!path) return sl_error_set(err, SL_ENOMEM, "out of memory");
    snprintf(path, path_len, "%s/%s", dir, name);
    FILE *file = fopen(path, "rb");
    if (!file) {
        int saved = errno;
        if (saved == ENOENT && strcmp(name, "UTC") == 0) {
            free(path);
            *out = builtin_utc();
            return *out ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
        }
        rc = sl_error_set(err, saved == ENOENT || saved == ENOTDIR ? SL_ENOTFOUND : SL_EIO,
                          "unknown time zone '%s' (%s: %s); names are those of the tz database, like "
                          "Europe/Berlin or America/New_York", name, path, strerror(saved));
        free(path);
        return rc;
    }
    uint8_t *bytes = malloc(TZ_FILE_MAX + 1);
    size_t len = bytes ? fread(bytes, 1, TZ_FILE_MAX + 1, file) : 0;
    bool is_read_error = ferror(file);
    fclose(file);
    if (!bytes) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    else if (is_read_error) rc = sl_error_set(err, SL_EIO, "time zone %s: cannot read %s", name, path);
    else if (len > TZ_FILE_MAX)
        rc = sl_error_set(err, SL_ECORRUPT, "time zone %s: %s is over %d bytes", name, path, TZ_FILE_MAX);
    else rc = sl_tz_parse(bytes, len, name, out, err);
    if (rc && err && err->code == SL_ECORRUPT) sl_error_prefix(err, "%s: ", path);
    free(bytes);
    free(path);
    return rc;
}

void sl_tz_free(sl_tz *tz)
{
    if (!tz) return;
    free(tz->name);
    free(tz->times);
    free(tz->type_of);
    free(tz->type_offset);
    free(tz);
}

const char *sl_tz_name(const sl_tz *tz)
{
    return tz->name;
}

/* ---- queries ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The day (since the epoch) a rule date falls on in `year`. */
static int64_t rule_day(const rule_date *date, int64_t year)
{
    int64_t january_first = sl_days_from_civil(year, 1, 1);
    switch (date->kind) {
    case DATE_JULIAN_NO_LEAP:
        return january_first + date->day - 1 + (sl_is_leap_year(year) && date->day >= 60);
    case DATE_DAY_OF_YEAR:
        return january_first + date->day;
    case DATE_MONTH_WEEK_DAY: {
        int64_t first = sl_days_from_civil(year, date->month, 1);
        int64_t day = first + (date->day - sl_weekday_from_days(first) + 7) % 7 + (int64_t)(date->week - 1) * 7;
        while (day >= first + sl_days_in_month(year, date->month)) day -= 7;
        return day;
    }
    }
    return january_first;
}

static int32_t rule_offset(const posix_rule *rule, int64_t utc_seconds)
{
    if (!rule->has_dst) return rule->std_offset;
    int64_t year;
    int month, day;
    sl_civil_from_days(floor_div(utc_seconds + rule->std_offset, SECONDS_PER_DAY), &year, &month, &day);
    /* The start is said in standard time, the end in daylight time. */
    int64_t start = rule_day(&rule->start, year) * SECONDS_PER_DAY + rule->start.time - rule->std_offset;
    int64_t end = rule_day(&rule->end, year) * SECONDS_PER_DAY + rule->end.time - rule->dst_offset;
    bool is_dst = start < end ? (utc_seconds >= start && utc_seconds < end)
                              : !(utc_seconds >= end && utc_seconds < start);
    return is_dst ? rule->dst_offset : rule->std_offset;
}

int32_t sl_tz_offset(const sl_tz *tz, int64_t utc_seconds)
{
    size_t n = tz->n_transitions;
    if (n == 0 || utc_seconds >= tz->times[n - 1]) {
        if (tz->has_rule) return rule_offset(&tz->rule, utc_seconds);
        return tz->type_offset[n == 0 ? 0 : tz->type_of[n - 1]];
    }
    if (utc_seconds < tz->times[0]) return tz->type_offset[0];
    size_t low = 0, high = n - 1;   /* times[low] <= t < times[high] */
    while (high - low > 1) {
        size_t middle = low + (high - low) / 2;
        if (tz->times[middle] <= utc_seconds) low = middle;
        else high = middle;
    }
    return tz->type_offset[tz->type_of[low]];
}

/* The offsets a day either side of the wall time are the only candidates:
 * zones change their offset at most once in such a window. */
size_t sl_tz_from_local(const sl_tz *tz, int64_t local_seconds, int64_t utc[2])
{
    int32_t candidates[2] = { sl_tz_offset(tz, local_seconds - SECONDS_PER_DAY),
                              sl_tz_offset(tz, local_seconds + SECONDS_PER_DAY) };
    size_t n = 0;
    for (size_t i = 0; i < 2; i++) {
        if (i == 1 && candidates[1] == candidates[0]) break;
        int64_t instant = local_seconds - candidates[i];
        if (sl_tz_offset(tz, instant) == candidates[i]) utc[n++] = instant;
    }
    if (n == 2 && utc[0] > utc[1]) {
        int64_t first = utc[1];
        utc[1] = utc[0];
        utc[0] = first;
    }
    return n;
}

/* Whether the text after its date part names an offset (Z, +hh:mm, -hh:mm). */
static bool has_offset(const char *text)
{
    size_t len = strlen(text);
    if (len > 0 && (text[len - 1] == 'Z' || text[len - 1] == 'z')) return true;
    return len > 10 && strpbrk(text + 10, "+-") != NULL;
}

int sl_tz_parse_time(const sl_tz *tz, const char *text, int64_t *us, sl_error *err)
{
    /* Seconds may be left out: 2026-03-29T01:30 is 01:30:00. */
    char full[80];
    size_t len = strlen(text);
    if (len >= 16 && len < 60 && text[13] == ':' && (len == 16 || text[16] != ':'))
        snprintf(full, sizeof full, "%.16s:00%s", text, text + 16);
    else snprintf(full, sizeof full, "%.79s", text);
    int64_t parsed;
    if (sl_time_parse_iso(full, strlen(full), &parsed))
        return sl_error_set(err, SL_EPARSE, "'%.60s' is not a date or date-time like 2026-03-29, 2026-03-29T01:30 "
                            "or 2026-03-29T01:30:00Z", text);
    if (has_offset(text)) {
        *us = parsed;
        return SL_OK;
    }
    int64_t fraction = parsed % 1000000;
    if (fraction < 0) fraction += 1000000;
    int64_t instants[2];
    if (sl_tz_from_local(tz, (parsed - fraction) / 1000000, instants) == 0)
        return sl_error_set(err, SL_EPARSE, "%.60s does not exist in %s (the clocks skip it); give an offset, like "
                            "%.60sZ", text, tz->name, text);
    *us = instants[0] * 1000000 + fraction;
    return SL_OK;
}
