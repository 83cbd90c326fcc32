/* amount.c — durations and sizes parsed from text (see amount.h). */
#include "config/amount.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

typedef struct amount_unit {
    const char *name;
    int64_t multiplier;
} amount_unit;

/* Milliseconds per unit. */
static const amount_unit duration_units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 }, { "d", 86400 * 1000 }, { NULL, 0 },
};

#define DURATION_BARE_MULTIPLIER 1000   /* a bare number is seconds */

static const amount_unit size_units[] = {
    { "", 1 },
    { "b", 1 },
    { "kb", 1000 },
    { "mb", 1000 * 1000 },
    { "gb", 1000 * 1000 * 1000 },
    { "tb", INT64_C(1000) * 1000 * 1000 * 1000 },
    { "kib", 1024 },
    { "mib", 1024 * 1024 },
    { "gib", 1024 * 1024 * 1024 },
    { "tib", INT64_C(1024) * 1024 * 1024 * 1024 },
    { NULL, 0 },
};

#define AMOUNT_FRACTION_DIGITS 6

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* a * b + c for non-negative operands, SL_ETOOBIG past INT64_MAX. */
static int checked_mul_add(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    if (b != 0 && a > (INT64_MAX - c) / b) return SL_ETOOBIG;
    *out = a * b + c;
    return SL_OK;
}

/* A number "<digits>[.<digits>]" read at *at. */
typedef struct amount_number {
    int64_t whole;
    int64_t fraction, scale;    /* fraction / scale, scale <= 10^6 */
    bool is_too_big;
} amount_number;

static int read_number(const char **at, amount_number *number)
{
    const char *p = *at;
    *number = (amount_number){ 0, 0, 1, false };
    if (!is_digit(*p)) return SL_EPARSE;
    for (; is_digit(*p); p++)
        if (checked_mul_add(number->whole, 10, *p - '0', &number->whole)) number->is_too_big = true;
    if (*p == '.') {
        p++;
        if (!is_digit(*p)) return SL_EPARSE;
        for (int n = 0; is_digit(*p); p++, n++) {
            if (n >= AMOUNT_FRACTION_DIGITS) continue;
            number->fraction = number->fraction * 10 + (*p - '0');
            number->scale *= 10;
        }
    }
    *at = p;
    return SL_OK;
}

/* number × multiplier into *out. */
static int scale_number(const amount_number *number, int64_t multiplier, int64_t *out)
{
    if (number->is_too_big) return SL_ETOOBIG;
    /* fraction < 10^6 and multiplier < 2^41, so this product cannot overflow. */
    int64_t part = number->fraction * multiplier / number->scale;
    return checked_mul_add(number->whole, multiplier, part, out);
}

int sl_parse_duration(const char *text, int64_t *ms)
{
    const char *at = text;
    int64_t total = 0;
    int n_terms = 0;
    bool is_too_big = false;
    while (*at) {
        if (n_terms > 0 && *at == ' ') at++;
        amount_number number;
        if (read_number(&at, &number)) return SL_EPARSE;
        while (*at == ' ') at++;
        const char *word = at;
        while (*at >= 'a' && *at <= 'z') at++;
        size_t word_len = (size_t)(at - word);
        int64_t multiplier = 0;
        if (word_len == 0) {
            /* A bare number: only as the whole text. */
            if (n_terms > 0 || *at) return SL_EPARSE;
            multiplier = DURATION_BARE_MULTIPLIER;
        }
        for (const amount_unit *unit = duration_units; word_len && unit->name; unit++)
            if (strlen(unit->name) == word_len && strncmp(word, unit->name, word_len) == 0)
                multiplier = unit->multiplier;
        if (!multiplier) return SL_EPARSE;
        int64_t term = 0;
        if (scale_number(&number, multiplier, &term) || checked_mul_add(total, 1, term, &total))
            is_too_big = true;
        n_terms++;
    }
    if (n_terms == 0) return SL_EPARSE;
    if (is_too_big) return SL_ETOOBIG;
    *ms = total;
    return SL_OK;
}

int sl_parse_size(const char *text, int64_t *bytes)
{
    const char *at = text;
    amount_number number;
    if (read_number(&at, &number)) return SL_EPARSE;
    while (*at == ' ') at++;
    const amount_unit *unit = size_units;
    while (unit->name && strcasecmp(at, unit->name) != 0) unit++;
    if (!unit->name) return SL_EPARSE;
    return scale_number(&number, unit->multiplier, bytes);
}
