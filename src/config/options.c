/* options.c — settings tables applied to config nodes (see options.h).
 *
 * sl_options_apply makes three passes over one mapping: every key must name
 * a row of the table (so typos are errors, not silently ignored settings);
 * then each row takes its value from the file, or its default, or reports a
 * missing required setting. Text is parsed by the same code whether it came
 * from the file or from a table's default_value. A `~`/`null`/empty value
 * counts as absent. On failure everything already stored is freed again, so
 * the caller has nothing to clean; sl_options_free is still safe to call.
 *
 * Value syntax:
 *   bool      true/false, yes/no, on/off, any case
 *   int       [+-]digits, `_` allowed between digits (100_000); no overflow
 *   double    what strtod takes, all of it, finite
 *   duration  number + unit: ms, s, m, h, d; a bare number is milliseconds.
 *             A fraction is allowed ("1.5s" = 1500); below 1 ms it truncates.
 *   size      number + unit, any case: B, KB/MB/GB/TB (powers of 1000),
 *             KiB/MiB/GiB/TiB (powers of 1024); a bare number is bytes.
 *             "1K" is refused: say KB or KiB. Fractions as for durations.
 *   Neither durations nor sizes may be negative. Up to 6 fraction digits
 *   count; further ones are read and ignored.
 */
#include "config/options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct amount_unit {
    const char *name;
    int64_t multiplier;
} amount_unit;

static const amount_unit duration_units[] = {
    { "", 1 },         { "ms", 1 },          { "s", 1000 },  { "m", 60 * 1000 },
    { "h", 3600 * 1000 }, { "d", 86400 * 1000 }, { NULL, 0 },
};

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

/* "<digits>[.<digits>][ ]<unit>" with unit from units; the common part of
 * durations and sizes. */
static int parse_amount(const char *text, const amount_unit *units, bool is_case_blind,
                        int64_t *out)
{
    const char *at = text;
    if (!is_digit(*at)) return SL_EPARSE;
    int64_t whole = 0;
    bool is_too_big = false;
    for (; is_digit(*at); at++)
        if (checked_mul_add(whole, 10, *at - '0', &whole)) is_too_big = true;
    int64_t fraction = 0, scale = 1;
    if (*at == '.') {
        at++;
        if (!is_digit(*at)) return SL_EPARSE;
        for (int n = 0; is_digit(*at); at++, n++) {
            if (n >= AMOUNT_FRACTION_DIGITS) continue;
            fraction = fraction * 10 + (*at - '0');
            scale *= 10;
        }
    }
    while (*at == ' ') at++;
    const amount_unit *unit = units;
    for (; unit->name; unit++) {
        bool is_same = is_case_blind ? strcasecmp(at, unit->name) == 0
                                     : strcmp(at, unit->name) == 0;
        if (is_same) break;
    }
    if (!unit->name) return SL_EPARSE;
    if (is_too_big) return SL_ETOOBIG;
    /* fraction < 10^6 and multiplier < 2^41, so this product cannot overflow. */
    int64_t part = fraction * unit->multiplier / scale;
    return checked_mul_add(whole, unit->multiplier, part, out);
}

int sl_parse_duration(const char *text, int64_t *ms)
{
    return parse_amount(text, duration_units, false, ms);
}

int sl_parse_size(const char *text, int64_t *bytes)
{
    return parse_amount(text, size_units, true, bytes);
}

/* [+-]digits with `_` between digits. */
static int parse_int(const char *text, int64_t *out)
{
    const char *at = text;
    bool is_negative = *at == '-';
    if (*at == '-' || *at == '+') at++;
    if (!is_digit(*at)) return SL_EPARSE;
    uint64_t magnitude = 0;
    uint64_t limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    bool is_too_big = false;
    for (; *at; at++) {
        if (*at == '_') {
            if (!is_digit(at[-1]) || !is_digit(at[1])) return SL_EPARSE;
            continue;
        }
        if (!is_digit(*at)) return SL_EPARSE;
        unsigned digit = (unsigned)(*at - '0');
        if (magnitude > (limit - digit) / 10) is_too_big = true;
        else magnitude = magnitude * 10 + digit;
    }
    if (is_too_big) return SL_ETOOBIG;
    if (is_negative)
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
    else
        *out = (int64_t)magnitude;
    return SL_OK;
}

static int parse_double(const char *text, double *out)
{
    if (!*text || isspace((unsigned char)*text)) return SL_EPARSE;
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (*end) return SL_EPARSE;
    if (!isfinite(value)) return SL_EPARSE;
    if (errno == ERANGE && fabs(value) > 1.0) return SL_ETOOBIG;
    *out = value;
    return SL_OK;
}

static int parse_bool(const char *text, bool *out)
{
    static const char *const truths[] = { "true", "yes", "on" };
    static const char *const falsehoods[] = { "false", "no", "off" };
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(text, truths[i]) == 0) {
            *out = true;
            return SL_OK;
        }
        if (strcasecmp(text, falsehoods[i]) == 0) {
            *out = false;
            return SL_OK;
        }
    }
    return SL_EPARSE;
}

static const char *expectation(sl_option_type type)
{
    switch (type) {
    case SL_OPT_INT: return "an integer";
    case SL_OPT_DOUBLE: return "a number";
    case SL_OPT_BOOL: return "a boolean (true/false, yes/no, on/off)";
    case SL_OPT_DURATION: return "a duration (like 250ms, 10s, 5m, 2h, 7d)";
    case SL_OPT_SIZE: return "a size (like 512, 64KiB, 1MiB, 10MB)";
    default: return "a scalar";
    }
}

/* "file:L:C: where.name: <what>"; node NULL means the text came from the
 * table's default, which is then named as the culprit. */
static int setting_error(sl_error *err, const sl_node *node, const char *where,
                         const char *name, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

static int setting_error(sl_error *err, const sl_node *node, const char *where,
                         const char *name, const char *format, ...)
{
    char what[400];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    return sl_node_error(err, node, "%s.%s: %s%s", where, name, what,
                         node ? "" : " (in the settings table's default)");
}

/* Checks text against option->choices; SL_OK when there are none. */
static int check_choice(const sl_option *option, const char *text, const sl_node *node,
                        const char *where, sl_error *err)
{
    if (!option->choices) return SL_OK;
    char listed[300] = "";
    size_t used = 0;
    for (const char *const *choice = option->choices; *choice; choice++) {
        if (strcmp(*choice, text) == 0) return SL_OK;
        int n = snprintf(listed + used, sizeof listed - used, "%s%s",
                         choice == option->choices ? "" : ", ", *choice);
        if (n > 0 && (size_t)n < sizeof listed - used) used += (size_t)n;
    }
    return setting_error(err, node, where, option->name, "expected one of %s; found '%.80s'",
                         listed, text);
}

/* Parses one scalar's text into the option's field. */
static int apply_text(const sl_option *option, const char *text, const sl_node *node,
                      void *field, const char *where, sl_error *err)
{
    int rc = SL_OK;
    switch (option->type) {
    case SL_OPT_STRING: {
        rc = check_choice(option, text, node, where, err);
        if (rc) return rc;
        char *copy = strdup(text);
        if (!copy) return sl_error_set(err, SL_ENOMEM, "out of memory");
        free(*(char **)field);
        *(char **)field = copy;
        return SL_OK;
    }
    case SL_OPT_INT: rc = parse_int(text, (int64_t *)field); break;
    case SL_OPT_DOUBLE: rc = parse_double(text, (double *)field); break;
    case SL_OPT_BOOL: rc = parse_bool(text, (bool *)field); break;
    case SL_OPT_DURATION: rc = sl_parse_duration(text, (int64_t *)field); break;
    case SL_OPT_SIZE: rc = sl_parse_size(text, (int64_t *)field); break;
    default:
        return setting_error(err, node, where, option->name, "cannot be given as text");
    }
    if (rc)
        return setting_error(err, node, where, option->name, "expected %s, found '%.80s'%s",
                             expectation(option->type), text,
                             rc == SL_ETOOBIG ? " (out of range)" : "");
    return SL_OK;
}

static int str_list_push(sl_str_list *list, const char *text)
{
    char **grown = realloc(list->items, (list->n_items + 1) * sizeof *grown);
    if (!grown) return SL_ENOMEM;
    list->items = grown;
    list->items[list->n_items] = strdup(text);
    if (!list->items[list->n_items]) return SL_ENOMEM;
    list->n_items++;
    return SL_OK;
}

/* A list of scalars, or one scalar (text, from the file or a default). */
static int apply_str_list(const sl_option *option, const sl_node *value, const char *text,
                          sl_str_list *field, const char *where, sl_error *err)
{
    int rc = SL_OK;
    sl_str_list list = { NULL, 0 };
    if (value && value->kind == SL_NODE_MAP) {
        rc = setting_error(err, value, where, option->name,
                           "expected a list or a scalar, found a mapping");
        goto done;
    }
    size_t n_items = value && value->kind == SL_NODE_LIST ? value->n_items : 1;
    for (size_t i = 0; i < n_items; i++) {
        const sl_node *item = value && value->kind == SL_NODE_LIST ? value->items[i] : value;
        const char *item_text = item ? item->scalar : text;
        if (item && (item->kind != SL_NODE_SCALAR || item->is_null)) {
            rc = sl_node_error(err, item, "%s.%s[%zu]: expected a scalar, found %s", where,
                               option->name, i,
                               item->kind == SL_NODE_SCALAR ? "null"
                               : item->kind == SL_NODE_MAP  ? "a mapping"
                                                            : "a list");
            goto done;
        }
        rc = check_choice(option, item_text, item, where, err);
        if (rc) goto done;
        rc = str_list_push(&list, item_text);
        if (rc) {
            sl_error_set(err, rc, "out of memory");
            goto done;
        }
    }
    sl_str_list_free(field);
    *field = list;
    return SL_OK;
done:
    sl_str_list_free(&list);
    return rc;
}

/* Applies a value from the file (value) or the default text (value NULL). */
static int apply_option(const sl_option *option, const sl_node *value, const char *text,
                        void *conf, const char *where, sl_error *err)
{
    void *field = (char *)conf + option->offset;
    if (option->type == SL_OPT_NODE) {
        *(const sl_node **)field = value;
        return SL_OK;
    }
    if (option->type == SL_OPT_STR_LIST)
        return apply_str_list(option, value, text, (sl_str_list *)field, where, err);
    if (value && value->kind != SL_NODE_SCALAR)
        return setting_error(err, value, where, option->name, "expected a scalar, found a %s",
                             sl_node_kind_name(value->kind));
    return apply_text(option, value ? value->scalar : text, value, field, where, err);
}

static const sl_option *find_option(const sl_option *table, const char *name)
{
    for (const sl_option *option = table; option->type != SL_OPT_END; option++)
        if (strcmp(option->name, name) == 0) return option;
    return NULL;
}

static int unknown_key_error(const sl_option *table, const sl_node_pair *pair,
                             const sl_node *map, const char *where, sl_error *err)
{
    char known[300] = "";
    size_t used = 0;
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        int n = snprintf(known + used, sizeof known - used, "%s%s",
                         option == table ? "" : ", ", option->name);
        if (n > 0 && (size_t)n < sizeof known - used) used += (size_t)n;
    }
    return sl_error_set(err, SL_ECONFIG, "%s:%d:%d: unknown setting '%.80s' in %s (known: %s)",
                        map->file, pair->key_line, pair->key_column, pair->key, where, known);
}

int sl_options_apply(const sl_option *table, const sl_node *map, void *conf,
                     const char *where, sl_error *err)
{
    int rc = SL_OK;
    if (!where) where = "settings";
    /* `block:` with nothing after it is an empty block. */
    bool is_empty = !map || (map->kind == SL_NODE_SCALAR && map->is_null);
    if (!is_empty && map->kind != SL_NODE_MAP)
        return sl_node_error(err, map, "%s: expected a mapping, found a %s", where,
                             sl_node_kind_name(map->kind));

    for (size_t i = 0; !is_empty && i < map->n_pairs; i++) {
        if (!find_option(table, map->pairs[i].key)) {
            rc = unknown_key_error(table, &map->pairs[i], map, where, err);
            goto fail;
        }
    }
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        const sl_node *value = is_empty ? NULL : sl_node_get(map, option->name);
        if (value && value->kind == SL_NODE_SCALAR && value->is_null) value = NULL;
        if (value) {
            rc = apply_option(option, value, NULL, conf, where, err);
        } else if (option->required) {
            rc = sl_node_error(err, map, "%s: missing required setting '%s'", where,
                               option->name);
        } else if (option->default_value) {
            rc = apply_option(option, NULL, option->default_value, conf, where, err);
        }
        if (rc) goto fail;
    }
    return SL_OK;
fail:
    sl_options_free(table, conf);
    return rc;
}

void sl_str_list_free(sl_str_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->n_items; i++) free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n_items = 0;
}

void sl_options_free(const sl_option *table, void *conf)
{
    if (!table || !conf) return;
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        void *field = (char *)conf + option->offset;
        if (option->type == SL_OPT_STRING) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (option->type == SL_OPT_STR_LIST) {
            sl_str_list_free((sl_str_list *)field);
        }
    }
}
