/* interval.c — interval text, both ways (see interval.h).
 *
 * Reading follows PostgreSQL's interval_in: the text is cut into fields
 * (numbers, hh:mm:ss times, years-months, unit words), which are read from
 * the right, so a unit word names the number before it and a bare number
 * takes the field the qualifier ends with (seconds without one). A fraction
 * of a unit spills down (1.5 days is 1 day 12:00:00, 1.5 months 1 mon 15
 * days), a unit given twice is an error, "ago" negates the whole. Text that
 * starts with 'P' is ISO 8601's designator form. Hand-written: no Debian
 * library reads PostgreSQL's interval syntax.
 */
#include "core/interval.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

/* " -2 mons", "+3 days" after a negative field, as PostgreSQL's
 * AddPostgresIntField; nothing for 0. */
static size_t put_field(char *out, size_t at, int64_t value, const char *unit, bool *is_zero, bool *is_before)
{
    if (value == 0) return at;
    at += (size_t)snprintf(out + at, SL_INTERVAL_TEXT_MAX - at, "%s%s%" PRId64 " %s%s", *is_zero ? "" : " ",
                           *is_before && value > 0 ? "+" : "", value, unit, value != 1 ? "s" : "");
    *is_zero = false;
    *is_before = value < 0;
    return at;
}

size_t sl_interval_format(sl_interval_value interval, char out[SL_INTERVAL_TEXT_MAX])
{
    bool is_zero = true, is_before = false;
    size_t at = 0;
    out[0] = '\0';
    at = put_field(out, at, interval.months / 12, "year", &is_zero, &is_before);
    at = put_field(out, at, interval.months % 12, "mon", &is_zero, &is_before);
    at = put_field(out, at, interval.days, "day", &is_zero, &is_before);
    int64_t time = interval.micros;
    if (!is_zero && time == 0) return at;
    int64_t hours = time / SL_US_PER_HOUR;
    time -= hours * SL_US_PER_HOUR;
    int64_t minutes = time / SL_US_PER_MINUTE;
    time -= minutes * SL_US_PER_MINUTE;
    int64_t seconds = time / SL_US_PER_SECOND;
    int64_t fraction = time - seconds * SL_US_PER_SECOND;
    bool is_minus = hours < 0 || minutes < 0 || seconds < 0 || fraction < 0;
    uint64_t abs_hours = hours < 0 ? 0 - (uint64_t)hours : (uint64_t)hours;
    at += (size_t)snprintf(out + at, SL_INTERVAL_TEXT_MAX - at, "%s%s%02" PRIu64 ":%02d:%02d", is_zero ? "" : " ",
                           is_minus ? "-" : is_before ? "+" : "", abs_hours, (int)llabs(minutes),
                           (int)llabs(seconds));
    if (fraction != 0) {
        char digits[8];
        snprintf(digits, sizeof digits, "%06d", (int)llabs(fraction));
        size_t n = 6;
        while (n > 1 && digits[n - 1] == '0') n--;
        at += (size_t)snprintf(out + at, SL_INTERVAL_TEXT_MAX - at, ".%.*s", (int)n, digits);
    }
    return at;
}

/* ---- reading ---- */

/* What the fields add up to before they become an sl_interval_value. */
typedef struct parts {
    int64_t months;
    int64_t days;
    int64_t micros;
} parts;

typedef enum unit {
    UNIT_NONE,
    UNIT_MICROSECOND,
    UNIT_MILLISECOND,
    UNIT_SECOND,
    UNIT_MINUTE,
    UNIT_HOUR,
    UNIT_DAY,
    UNIT_WEEK,
    UNIT_MONTH,
    UNIT_YEAR,
    UNIT_DECADE,
    UNIT_CENTURY,
    UNIT_MILLENNIUM,
    UNIT_AGO,
} unit;

/* PostgreSQL's unit words (its deltatktbl), lower case. */
static const struct {
    const char *word;
    unit unit;
} unit_words[] = {
    { "microsecond", UNIT_MICROSECOND }, { "microseconds", UNIT_MICROSECOND }, { "us", UNIT_MICROSECOND },
    { "usec", UNIT_MICROSECOND }, { "usecs", UNIT_MICROSECOND }, { "usecond", UNIT_MICROSECOND },
    { "useconds", UNIT_MICROSECOND }, { "millisecond", UNIT_MILLISECOND }, { "milliseconds", UNIT_MILLISECOND },
    { "ms", UNIT_MILLISECOND }, { "msec", UNIT_MILLISECOND }, { "msecs", UNIT_MILLISECOND },
    { "msecond", UNIT_MILLISECOND }, { "mseconds", UNIT_MILLISECOND }, { "second", UNIT_SECOND },
    { "seconds", UNIT_SECOND }, { "s", UNIT_SECOND }, { "sec", UNIT_SECOND }, { "secs", UNIT_SECOND },
    { "minute", UNIT_MINUTE }, { "minutes", UNIT_MINUTE }, { "m", UNIT_MINUTE }, { "min", UNIT_MINUTE },
    { "mins", UNIT_MINUTE }, { "hour", UNIT_HOUR }, { "hours", UNIT_HOUR }, { "h", UNIT_HOUR },
    { "hr", UNIT_HOUR }, { "hrs", UNIT_HOUR }, { "day", UNIT_DAY }, { "days", UNIT_DAY }, { "d", UNIT_DAY },
    { "week", UNIT_WEEK }, { "weeks", UNIT_WEEK }, { "w", UNIT_WEEK }, { "month", UNIT_MONTH },
    { "months", UNIT_MONTH }, { "mon", UNIT_MONTH }, { "mons", UNIT_MONTH }, { "year", UNIT_YEAR },
    { "years", UNIT_YEAR }, { "y", UNIT_YEAR }, { "yr", UNIT_YEAR }, { "yrs", UNIT_YEAR },
    { "decade", UNIT_DECADE }, { "decades", UNIT_DECADE }, { "dec", UNIT_DECADE }, { "decs", UNIT_DECADE },
    { "century", UNIT_CENTURY }, { "centuries", UNIT_CENTURY }, { "c", UNIT_CENTURY }, { "cent", UNIT_CENTURY },
    { "millennium", UNIT_MILLENNIUM }, { "millennia", UNIT_MILLENNIUM }, { "mil", UNIT_MILLENNIUM },
    { "mils", UNIT_MILLENNIUM }, { "ago", UNIT_AGO },
};

typedef enum field_kind { FIELD_NUMBER, FIELD_TIME, FIELD_YEAR_MONTH, FIELD_WORD } field_kind;

typedef struct field {
    field_kind kind;
    char *text;       /* into the NUL-terminated copy, which reading cuts there; the sign included */
    size_t len;
} field;

#define MAX_FIELDS 64
#define MAX_TEXT 256

typedef struct reader {
    const char *text; /* the caller's, for messages */
    size_t len;
    sl_error *err;
} reader;

static int bad(const reader *r, const char *why)
{
    int shown = (int)(r->len > 60 ? 60 : r->len);
    return sl_error_set(r->err, SL_EPARSE, "invalid input syntax for type interval: '%.*s' (%s)", shown, r->text,
                        why);
}

static int out_of_range(const reader *r)
{
    int shown = (int)(r->len > 60 ? 60 : r->len);
    return sl_error_set(r->err, SL_EPARSE, "interval field value out of range: '%.*s'", shown, r->text);
}

/* Cuts copy into fields as PostgreSQL's ParseDateTime does: other
 * punctuation (',', '@') only separates. */
static int split_fields(const reader *r, char *copy, field *fields, size_t *n_fields)
{
    size_t n = 0;
    char *p = copy;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c) || (ispunct(c) && c != '+' && c != '-' && c != '.')) {
            p++;
            continue;
        }
        if (n == MAX_FIELDS) return bad(r, "too many fields");
        field *f = &fields[n++];
        f->text = p;
        if (isalpha(c)) {
            while (isalpha((unsigned char)*p)) {
                *p = (char)tolower((unsigned char)*p);
                p++;
            }
            f->kind = FIELD_WORD;
        } else {
            if (c == '+' || c == '-') p++;
            if (!isdigit((unsigned char)*p) && *p != '.') return bad(r, "expected a number after the sign");
            f->kind = FIELD_NUMBER;
            while (isdigit((unsigned char)*p) || *p == '.' || *p == ':' || *p == '-') {
                if (*p == ':') f->kind = FIELD_TIME;
                else if (*p == '-' && f->kind == FIELD_NUMBER) f->kind = FIELD_YEAR_MONTH;
                p++;
            }
        }
        f->len = (size_t)(p - f->text);
    }
    *n_fields = n;
    return SL_OK;
}

static unit unit_of(const field *f)
{
    for (size_t i = 0; i < sizeof unit_words / sizeof unit_words[0]; i++)
        if (strlen(unit_words[i].word) == f->len && memcmp(unit_words[i].word, f->text, f->len) == 0)
            return unit_words[i].unit;
    return UNIT_NONE;
}

/* The unit a bare number stands for under a qualifier: its last field. */
static unit rightmost_unit(unsigned fields)
{
    if (fields == SL_INTERVAL_ALL_FIELDS || (fields & SL_INTERVAL_SECOND)) return UNIT_SECOND;
    if (fields & SL_INTERVAL_MINUTE) return UNIT_MINUTE;
    if (fields & SL_INTERVAL_HOUR) return UNIT_HOUR;
    if (fields & SL_INTERVAL_DAY) return UNIT_DAY;
    if (fields & SL_INTERVAL_MONTH) return UNIT_MONTH;
    return UNIT_YEAR;
}

static bool add_checked(int64_t *total, int64_t value, int64_t scale)
{
    int64_t product;
    return !__builtin_mul_overflow(value, scale, &product) && !__builtin_add_overflow(*total, product, total);
}

/* A fraction (|fraction| < 1) of scale µs, rounded to the µs. */
static bool add_fraction_micros(parts *sum, double fraction, int64_t scale)
{
    if (fraction == 0) return true;
    fraction *= (double)scale;
    int64_t us = (int64_t)fraction;
    fraction -= (double)us;
    if (fraction > 0.5) us++;
    else if (fraction < -0.5) us--;
    return !__builtin_add_overflow(sum->micros, us, &sum->micros);
}

/* A fraction of scale days: whole days, the rest in µs. */
static bool add_fraction_days(parts *sum, double fraction, int scale)
{
    if (fraction == 0) return true;
    fraction *= scale;
    int extra = (int)fraction;
    sum->days += extra;
    return add_fraction_micros(sum, fraction - extra, SL_US_PER_DAY);
}

/* A fraction of scale years, in whole months (rounded). */
static void add_fraction_years(parts *sum, double fraction, int scale)
{
    sum->months += (int64_t)rint(fraction * scale * 12);
}

/* value (with its fraction) of a unit into sum; false on overflow. */
static bool add_unit(parts *sum, unit u, int64_t value, double fraction)
{
    bool is_int32 = value >= INT32_MIN && value <= INT32_MAX;
    switch (u) {
    case UNIT_MICROSECOND: return add_checked(&sum->micros, value, 1) && add_fraction_micros(sum, fraction, 1);
    case UNIT_MILLISECOND:
        return add_checked(&sum->micros, value, 1000) && add_fraction_micros(sum, fraction, 1000);
    case UNIT_SECOND:
        return add_checked(&sum->micros, value, SL_US_PER_SECOND) &&
               add_fraction_micros(sum, fraction, SL_US_PER_SECOND);
    case UNIT_MINUTE:
        return add_checked(&sum->micros, value, SL_US_PER_MINUTE) &&
               add_fraction_micros(sum, fraction, SL_US_PER_MINUTE);
    case UNIT_HOUR:
        return add_checked(&sum->micros, value, SL_US_PER_HOUR) && add_fraction_micros(sum, fraction, SL_US_PER_HOUR);
    case UNIT_DAY:
        return is_int32 && add_checked(&sum->days, value, 1) && add_fraction_micros(sum, fraction, SL_US_PER_DAY);
    case UNIT_WEEK: return is_int32 && add_checked(&sum->days, value, 7) && add_fraction_days(sum, fraction, 7);
    case UNIT_MONTH: return is_int32 && add_checked(&sum->months, value, 1) && add_fraction_days(sum, fraction, 30);
    case UNIT_YEAR:
    case UNIT_DECADE:
    case UNIT_CENTURY:
    case UNIT_MILLENNIUM: {
        int scale = u == UNIT_YEAR ? 1 : u == UNIT_DECADE ? 10 : u == UNIT_CENTURY ? 100 : 1000;
        if (!is_int32 || !add_checked(&sum->months, value, 12 * scale)) return false;
        add_fraction_years(sum, fraction, scale);
        return true;
    }
    case UNIT_NONE:
    case UNIT_AGO: break;
    }
    return false;
}

/* Bit of a unit in the mask of fields seen (a unit given twice is an error). */
static unsigned unit_bit(unit u)
{
    return 1u << u;
}

#define ALL_SECONDS_BITS ((1u << UNIT_SECOND) | (1u << UNIT_MILLISECOND) | (1u << UNIT_MICROSECOND))
#define TIME_BITS (ALL_SECONDS_BITS | (1u << UNIT_MINUTE) | (1u << UNIT_HOUR))

/* Reads "[+-]digits[.fraction]" from text, stopping after it (*end); the
 * fraction has the number's sign. */
static int read_number(const reader *r, const char *text, int64_t *value, double *fraction, const char **end)
{
    const char *p = text;
    bool is_negative = *p == '-';
    if (*p == '+' || *p == '-') p++;
    uint64_t whole = 0, limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    const char *digits = p;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (whole > (limit - digit) / 10) return out_of_range(r);
        whole = whole * 10 + digit;
    }
    if (p == digits && *p != '.') return bad(r, "expected a number");
    *value = is_negative ? (int64_t)(0 - whole) : (int64_t)whole;
    *fraction = 0;
    if (*p == '.') {
        const char *dot = p++;
        while (isdigit((unsigned char)*p)) p++;
        double f = strtod(dot, NULL);   /* digits only: never Inf or NaN */
        if (p == dot + 1) f = 0;
        *fraction = is_negative ? -f : f;
    }
    *end = p;
    return SL_OK;
}

/* hh:mm, hh:mm:ss[.fraction], or mm:ss under MINUTE TO SECOND and mm:ss.fraction. */
static int read_time(const reader *r, const field *f, unsigned fields, parts *sum)
{
    const char *p = f->text;
    bool is_negative = *p == '-';
    if (*p == '+' || *p == '-') p++;
    char *stop;
    errno = 0;
    long long hours = strtoll(p, &stop, 10);
    if (errno == ERANGE) return out_of_range(r);
    if (*stop != ':') return bad(r, "expected hh:mm:ss");
    long long minutes = strtol(stop + 1, &stop, 10), seconds = 0;
    double fraction = 0;
    if (*stop == '\0' && fields == (SL_INTERVAL_MINUTE | SL_INTERVAL_SECOND)) {
        seconds = minutes;
        minutes = hours;
        hours = 0;
    } else if (*stop == '.') {
        seconds = minutes;
        minutes = hours;
        hours = 0;
        fraction = strtod(stop, &stop);
    } else if (*stop == ':') {
        seconds = strtol(stop + 1, &stop, 10);
        if (*stop == '.') fraction = strtod(stop, &stop);
    }
    if (*stop != '\0') return bad(r, "expected hh:mm:ss");
    if (hours < 0 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 60 || fraction < 0 || fraction > 1)
        return out_of_range(r);
    int64_t us = 0;
    if (!add_checked(&us, hours, SL_US_PER_HOUR) || !add_checked(&us, minutes, SL_US_PER_MINUTE) ||
        !add_checked(&us, seconds, SL_US_PER_SECOND) || !add_checked(&us, (int64_t)rint(fraction * 1e6), 1))
        return out_of_range(r);
    if (!add_checked(&sum->micros, us, is_negative ? -1 : 1)) return out_of_range(r);
    return SL_OK;
}

static int read_free_form(const reader *r, char *copy, unsigned fields, parts *sum)
{
    field list[MAX_FIELDS];
    size_t n_fields = 0;
    int rc = split_fields(r, copy, list, &n_fields);
    if (rc) return rc;
    unit next = UNIT_NONE;   /* what the number to the left is: named by a word, or implied */
    unsigned seen = 0;
    bool is_ago = false;
    for (size_t k = n_fields; k-- > 0;) {
        field *f = &list[k];
        unsigned bits = 0;
        if (f->kind == FIELD_WORD) {
            unit u = unit_of(f);
            if (u == UNIT_NONE) {
                char why[80];
                snprintf(why, sizeof why, "unknown unit '%.*s'", (int)(f->len > 20 ? 20 : f->len), f->text);
                return bad(r, why);
            }
            if (u == UNIT_AGO) is_ago = true;
            else next = u;
            continue;
        }
        if (f->kind == FIELD_TIME) {
            rc = read_time(r, f, fields, sum);
            if (rc) return rc;
            bits = TIME_BITS;
            next = UNIT_DAY;
        } else {
            unit u = next == UNIT_NONE ? rightmost_unit(fields) : next;
            int64_t value = 0;
            double fraction = 0;
            const char *end = f->text;
            char saved = f->text[f->len];
            f->text[f->len] = '\0';
            rc = read_number(r, f->text, &value, &fraction, &end);
            if (rc == SL_OK && f->kind == FIELD_YEAR_MONTH) {
                /* The SQL standard's years-months: "1-2" is 1 year 2 months. */
                char *stop;
                long months = strtol(end + 1, &stop, 10);
                if (*end != '-' || stop == end + 1 || *stop != '\0') rc = bad(r, "expected years-months");
                else if (fraction != 0) rc = bad(r, "expected whole years-months");
                else if (months < 0 || months > 11) rc = out_of_range(r);
                else if (__builtin_mul_overflow(value, 12, &value) ||
                         __builtin_add_overflow(value, f->text[0] == '-' ? -months : months, &value))
                    rc = out_of_range(r);
                u = UNIT_MONTH;
            } else if (rc == SL_OK && *end != '\0') {
                rc = bad(r, "expected a number");
            }
            f->text[f->len] = saved;
            if (rc) return rc;
            if (!add_unit(sum, u, value, fraction)) return out_of_range(r);
            bits = u == UNIT_SECOND && fraction != 0 ? ALL_SECONDS_BITS : unit_bit(u);
            if (u == UNIT_HOUR) next = UNIT_DAY;
        }
        if (bits & seen) return bad(r, "a field is given twice");
        seen |= bits;
    }
    if (seen == 0) return bad(r, "expected a number and a unit, e.g. '5 minutes'");
    if (is_ago) {
        sum->months = -sum->months;
        sum->days = -sum->days;
        if (sum->micros == INT64_MIN) return out_of_range(r);
        sum->micros = -sum->micros;
    }
    return SL_OK;
}

/* ISO 8601 durations with designators: P[nY][nM][nW][nD][T[nH][nM][nS]],
 * each n signed and with a fraction if wanted (PostgreSQL's reading). */
static int read_iso(const reader *r, const char *copy, parts *sum)
{
    const char *p = copy + 1;
    bool is_date_part = true;
    if (*p == '\0') return bad(r, "expected a number after P");
    while (*p) {
        if (*p == 'T') {
            is_date_part = false;
            p++;
            continue;
        }
        if (!(isdigit((unsigned char)*p) || *p == '-' || *p == '.')) return bad(r, "expected a number in ISO 8601");
        char *stop;
        errno = 0;
        double number = strtod(p, &stop);
        if (stop == p || errno != 0) return bad(r, "expected a number in ISO 8601");
        if (isnan(number) || number < -1.0e15 || number > 1.0e15) return out_of_range(r);
        int64_t value = number >= 0 ? (int64_t)floor(number) : -(int64_t)floor(-number);
        double fraction = number - (double)value;
        char designator = *stop;
        p = stop + (designator != '\0');
        unit u = UNIT_NONE;
        if (is_date_part) {
            u = designator == 'Y' ? UNIT_YEAR : designator == 'M' ? UNIT_MONTH : designator == 'W' ? UNIT_WEEK
                : designator == 'D' ? UNIT_DAY : UNIT_NONE;
        } else {
            u = designator == 'H' ? UNIT_HOUR : designator == 'M' ? UNIT_MINUTE : designator == 'S' ? UNIT_SECOND
                : UNIT_NONE;
        }
        if (u == UNIT_NONE)
            return bad(r, is_date_part ? "expected Y, M, W or D after a number in ISO 8601 (the alternative "
                                         "format P0001-02-03 is not read)"
                                       : "expected H, M or S after a number in ISO 8601");
        if (!add_unit(sum, u, value, fraction)) return out_of_range(r);
    }
    return SL_OK;
}

/* PostgreSQL's AdjustIntervalForTypmod: the fields below the qualifier's
 * last go (toward zero); those above it stay, whatever it says. */
static void cut_to_fields(parts *sum, unsigned fields)
{
    if (fields & SL_INTERVAL_SECOND) return;   /* every field kept (and SL_INTERVAL_ALL_FIELDS) */
    if (fields & SL_INTERVAL_MINUTE) {
        sum->micros = sum->micros / SL_US_PER_MINUTE * SL_US_PER_MINUTE;
    } else if (fields & SL_INTERVAL_HOUR) {
        sum->micros = sum->micros / SL_US_PER_HOUR * SL_US_PER_HOUR;
    } else if (fields & SL_INTERVAL_DAY) {
        sum->micros = 0;
    } else {
        if (fields == SL_INTERVAL_YEAR) sum->months = sum->months / 12 * 12;
        sum->days = 0;
        sum->micros = 0;
    }
}

bool sl_interval_fields_valid(unsigned fields)
{
    static const unsigned allowed[] = {
        SL_INTERVAL_ALL_FIELDS, SL_INTERVAL_YEAR, SL_INTERVAL_MONTH, SL_INTERVAL_DAY, SL_INTERVAL_HOUR,
        SL_INTERVAL_MINUTE, SL_INTERVAL_SECOND, SL_INTERVAL_YEAR | SL_INTERVAL_MONTH,
        SL_INTERVAL_DAY | SL_INTERVAL_HOUR, SL_INTERVAL_DAY | SL_INTERVAL_HOUR | SL_INTERVAL_MINUTE,
        SL_INTERVAL_DAY | SL_INTERVAL_HOUR | SL_INTERVAL_MINUTE | SL_INTERVAL_SECOND,
        SL_INTERVAL_HOUR | SL_INTERVAL_MINUTE, SL_INTERVAL_HOUR | SL_INTERVAL_MINUTE | SL_INTERVAL_SECOND,
        SL_INTERVAL_MINUTE | SL_INTERVAL_SECOND,
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (allowed[i] == fields) return true;
    return false;
}

int sl_interval_parse(const char *text, size_t len, unsigned fields, sl_interval_value *out, sl_error *err)
{
    reader r = { text, len, err };
    char copy[MAX_TEXT];
    while (len && isspace((unsigned char)*text)) text++, len--;
    while (len && isspace((unsigned char)text[len - 1])) len--;
    if (len == 0) return bad(&r, "empty");
    if (len >= sizeof copy) return bad(&r, "longer than 255 bytes");
    if (memchr(text, '\0', len)) return bad(&r, "a NUL byte");
    memcpy(copy, text, len);
    copy[len] = '\0';
    parts sum = { 0, 0, 0 };
    int rc = copy[0] == 'P' ? read_iso(&r, copy, &sum) : read_free_form(&r, copy, fields, &sum);
    if (rc) return rc;
    if (sum.months < INT32_MIN || sum.months > INT32_MAX || sum.days < INT32_MIN || sum.days > INT32_MAX)
        return out_of_range(&r);
    cut_to_fields(&sum, fields);
    *out = (sl_interval_value){ (int32_t)sum.months, (int32_t)sum.days, sum.micros };
    return SL_OK;
}
