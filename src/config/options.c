/* options.c — settings tables applied to config nodes (see options.h).
 *
 * Applying a table to one mapping makes two passes: every key must name a
 * row of the table (so typos are errors, not silently ignored settings),
 * then each row takes its value from the file, or its default, or reports
 * a missing required setting. Every mistake is reported and the pass goes
 * on, so one run finds them all; a value that is wrong leaves the row's
 * default in its place. Text is parsed by the same code whether it came
 * from the file or from a table's default_value, and bounds (min/max) are
 * parsed like values too. A `~`/`null`/empty value counts as absent.
 * sl_options_apply is the same pass stopped at its first mistake, with
 * everything already stored freed again.
 *
 * Value syntax:
 *   bool      true/false, yes/no, on/off, any case
 *   int       [+-]digits, `_` allowed between digits (100_000); no overflow
 *   double    what strtod takes, all of it, finite
 *   duration, size   see amount.h
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

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
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

const char *sl_option_type_name(sl_option_type type)
{
    switch (type) {
    case SL_OPT_STRING: return "string";
    case SL_OPT_INT: return "integer";
    case SL_OPT_DOUBLE: return "number";
    case SL_OPT_BOOL: return "boolean";
    case SL_OPT_STR_LIST: return "list of strings";
    case SL_OPT_DURATION: return "duration";
    case SL_OPT_SIZE: return "size";
    case SL_OPT_MAP: return "mapping";
    case SL_OPT_LIST: return "list";
    case SL_OPT_NODE: return "value";
    case SL_OPT_UNSUPPORTED: return "not supported yet";
    case SL_OPT_END: break;
    }
    return "setting";
}

static const char *expectation(sl_option_type type)
{
    switch (type) {
    case SL_OPT_INT: return "an integer";
    case SL_OPT_DOUBLE: return "a number";
    case SL_OPT_BOOL: return "a boolean (true/false, yes/no, on/off)";
    case SL_OPT_DURATION: return "a duration (like 500ms, 10s, 1h30m; a bare number is seconds)";
    case SL_OPT_SIZE: return "a size (like 512, 64KiB, 1MiB, 10MB)";
    default: return "a scalar";
    }
}

/* One application of a table to one mapping. */
typedef struct apply_pass {
    const sl_option *table;
    const sl_node *map;          /* NULL when the block is absent or empty */
    void *conf;
    const char *where;           /* "" at the top of the file */
    sl_diagnostics *diags;
    bool is_from_default;        /* the text being applied is the table's */
} apply_pass;

/* "where.name: <what>" at node; node NULL means the text came from the
 * table's default (or a bound), which is then named as the culprit. */
static int setting_error(apply_pass *pass, const sl_node *node, const char *name, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int setting_error(apply_pass *pass, const sl_node *node, const char *name, const char *format, ...)
{
    char what[400];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    return sl_diag_error_at(pass->diags, node, "%s%s%s: %s%s", pass->where, pass->where[0] ? "." : "", name, what,
                            pass->is_from_default ? " (in the settings table's default)" : "");
}

/* Checks text against option->choices; SL_OK when there are none. */
static int check_choice(apply_pass *pass, const sl_option *option, const char *text, const sl_node *node,
                        const char *name)
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
    return setting_error(pass, node, name, "expected one of %s; found '%.80s'", listed, text);
}

/* A number of the option's type, as a double for comparing with bounds
 * (exact for every integer a bound is written with). */
static int parse_number(sl_option_type type, const char *text, void *out)
{
    switch (type) {
    case SL_OPT_INT: return parse_int(text, (int64_t *)out);
    case SL_OPT_DOUBLE: return parse_double(text, (double *)out);
    case SL_OPT_DURATION: return sl_parse_duration(text, (int64_t *)out);
    case SL_OPT_SIZE: return sl_parse_size(text, (int64_t *)out);
    default: return SL_EPARSE;
    }
}

static bool is_numeric(sl_option_type type)
{
    return type == SL_OPT_INT || type == SL_OPT_DOUBLE || type == SL_OPT_DURATION || type == SL_OPT_SIZE;
}

/* Whether the value in field lies on the right side of bound (-1: value
 * >= bound, +1: value <= bound). A bound the parser refuses is a table
 * mistake, reported once it is met. */
static int check_bound(apply_pass *pass, const sl_option *option, const void *field, const char *bound, int side,
                       bool *is_inside)
{
    *is_inside = true;
    if (!bound) return SL_OK;
    int64_t bound_int = 0;
    double bound_double = 0;
    bool is_double = option->type == SL_OPT_DOUBLE;
    if (parse_number(option->type, bound, is_double ? (void *)&bound_double : (void *)&bound_int)) {
        bool was_default = pass->is_from_default;
        pass->is_from_default = false;
        setting_error(pass, NULL, option->name, "the settings table's %s '%s' is not %s", side < 0 ? "min" : "max",
                      bound, expectation(option->type));
        pass->is_from_default = was_default;
        return SL_ECONFIG;
    }
    if (is_double) {
        double value = *(const double *)field;
        *is_inside = side < 0 ? value >= bound_double : value <= bound_double;
    } else {
        int64_t value = *(const int64_t *)field;
        *is_inside = side < 0 ? value >= bound_int : value <= bound_int;
    }
    return SL_OK;
}

static int check_range(apply_pass *pass, const sl_option *option, const void *field, const char *text,
                       const sl_node *node)
{
    bool is_above_min, is_below_max;
    int rc = check_bound(pass, option, field, option->min, -1, &is_above_min);
    if (rc == SL_OK) rc = check_bound(pass, option, field, option->max, +1, &is_below_max);
    if (rc) return rc;
    if (is_above_min && is_below_max) return SL_OK;
    if (option->min && option->max)
        return setting_error(pass, node, option->name, "must be between %s and %s, found '%.80s'", option->min,
                             option->max, text);
    if (option->min) return setting_error(pass, node, option->name, "must be at least %s, found '%.80s'",
                                          option->min, text);
    return setting_error(pass, node, option->name, "must be at most %s, found '%.80s'", option->max, text);
}

/* Parses one scalar's text into the option's field. */
static int apply_text(apply_pass *pass, const sl_option *option, const char *text, const sl_node *node,
                      void *field)
{
    if (option->type == SL_OPT_STRING) {
        int rc = check_choice(pass, option, text, node, option->name);
        if (rc) return rc;
        char *copy = strdup(text);
        if (!copy) {
            sl_diag_error_at(pass->diags, node, "out of memory");
            return SL_ENOMEM;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return SL_OK;
    }
    int rc;
    /* Parsed aside first, so a bad value leaves the field as it was. */
    union { int64_t i; double d; bool b; } value;
    if (option->type == SL_OPT_BOOL) rc = parse_bool(text, &value.b);
    else if (is_numeric(option->type)) rc = parse_number(option->type, text, &value);
    else return setting_error(pass, node, option->name, "cannot be given as text");
    if (rc)
        return setting_error(pass, node, option->name, "expected %s, found '%.80s'%s", expectation(option->type),
                             text, rc == SL_ETOOBIG ? " (out of range)" : "");
    if (option->type != SL_OPT_BOOL) {
        rc = check_range(pass, option, &value, text, node);
        if (rc) return rc;
    }
    if (option->type == SL_OPT_BOOL) *(bool *)field = value.b;
    else if (option->type == SL_OPT_DOUBLE) *(double *)field = value.d;
    else *(int64_t *)field = value.i;
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
static int apply_str_list(apply_pass *pass, const sl_option *option, const sl_node *value, const char *text,
                          sl_str_list *field)
{
    int rc = SL_OK;
    sl_str_list list = { NULL, 0 };
    if (value && value->kind == SL_NODE_MAP) {
        rc = setting_error(pass, value, option->name, "expected a list or a scalar, found a mapping");
        goto done;
    }
    size_t n_items = value && value->kind == SL_NODE_LIST ? value->n_items : 1;
    for (size_t i = 0; i < n_items; i++) {
        const sl_node *item = value && value->kind == SL_NODE_LIST ? value->items[i] : value;
        const char *item_text = item ? item->scalar : text;
        char item_name[200];
        if (value && value->kind == SL_NODE_LIST) snprintf(item_name, sizeof item_name, "%s[%zu]", option->name, i);
        else snprintf(item_name, sizeof item_name, "%s", option->name);
        if (item && (item->kind != SL_NODE_SCALAR || item->is_null)) {
            rc = setting_error(pass, item, item_name, "expected a scalar, found %s",
                               item->kind == SL_NODE_SCALAR ? "null"
                               : item->kind == SL_NODE_MAP  ? "a mapping"
                                                            : "a list");
            goto done;
        }
        rc = check_choice(pass, option, item_text, item, option->name);
        if (rc) goto done;
        if (str_list_push(&list, item_text)) {
            rc = SL_ENOMEM;
            sl_diag_error_at(pass->diags, item, "out of memory");
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
static int apply_option(apply_pass *pass, const sl_option *option, const sl_node *value, const char *text)
{
    void *field = (char *)pass->conf + option->offset;
    pass->is_from_default = value == NULL;
    if (option->type == SL_OPT_MAP || option->type == SL_OPT_LIST) {
        sl_node_kind wanted = option->type == SL_OPT_MAP ? SL_NODE_MAP : SL_NODE_LIST;
        if (!value) return setting_error(pass, NULL, option->name, "cannot have a default");
        if (value->kind != wanted)
            return setting_error(pass, value, option->name, "expected a %s, found a %s", sl_node_kind_name(wanted),
                                 sl_node_kind_name(value->kind));
        *(const sl_node **)field = value;
        return SL_OK;
    }
    if (option->type == SL_OPT_NODE) {
        if (!value) return setting_error(pass, NULL, option->name, "cannot have a default");
        *(const sl_node **)field = value;
        return SL_OK;
    }
    if (option->type == SL_OPT_STR_LIST) return apply_str_list(pass, option, value, text, (sl_str_list *)field);
    if (value && value->kind != SL_NODE_SCALAR)
        return setting_error(pass, value, option->name, "expected a scalar, found a %s",
                             sl_node_kind_name(value->kind));
    return apply_text(pass, option, value ? value->scalar : text, value, field);
}

const sl_option *sl_option_find(const sl_option *table, const char *name)
{
    for (const sl_option *option = table; option->type != SL_OPT_END; option++)
        if (strcmp(option->name, name) == 0) return option;
    return NULL;
}

static void unknown_key_error(apply_pass *pass, const sl_node_pair *pair)
{
    char known[300] = "";
    size_t used = 0;
    for (const sl_option *option = pass->table; option->type != SL_OPT_END; option++) {
        if (option->type == SL_OPT_UNSUPPORTED) continue;
        int n = snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", option->name);
        if (n > 0 && (size_t)n < sizeof known - used) used += (size_t)n;
    }
    sl_diag_error_at_position(pass->diags, pass->map->file, pair->key_line, pair->key_column,
                              "unknown setting '%.80s' %s%s (%s%s)", pair->key,
                              pass->where[0] ? "in " : "at the top level", pass->where,
                              used ? "known: " : "it takes no settings", known);
}

static void unsupported_key_error(apply_pass *pass, const sl_node_pair *pair, const sl_option *option)
{
    sl_diag_error_at_position(pass->diags, pass->map->file, pair->key_line, pair->key_column,
                              "%s%s%s: not supported yet: %s; remove it", pass->where, pass->where[0] ? "." : "",
                              pair->key, option->help ? option->help : "a planned feature");
}

int sl_options_apply_all(const sl_option *table, const sl_node *map, void *conf, const char *where,
                         sl_diagnostics *diags)
{
    apply_pass pass = { table, map, conf, where ? where : "", diags, false };
    size_t errors_before = sl_diag_n_errors(diags);
    /* `block:` with nothing after it is an empty block. */
    if (map && map->kind == SL_NODE_SCALAR && map->is_null) pass.map = NULL;
    if (pass.map && pass.map->kind != SL_NODE_MAP)
        return sl_diag_error_at(diags, map, "%s: expected a mapping, found a %s",
                                pass.where[0] ? pass.where : "the file", sl_node_kind_name(map->kind));

    for (size_t i = 0; pass.map && i < pass.map->n_pairs; i++) {
        const sl_option *option = sl_option_find(table, pass.map->pairs[i].key);
        if (!option) unknown_key_error(&pass, &pass.map->pairs[i]);
        else if (option->type == SL_OPT_UNSUPPORTED) unsupported_key_error(&pass, &pass.map->pairs[i], option);
    }
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        if (option->type == SL_OPT_UNSUPPORTED) continue;
        const sl_node *value = sl_node_get(pass.map, option->name);
        if (value && value->kind == SL_NODE_SCALAR && value->is_null) value = NULL;
        int rc = SL_OK;
        if (value) rc = apply_option(&pass, option, value, NULL);
        else if (option->required)
            rc = sl_diag_error_at(diags, pass.map, "%s%smissing required setting '%s'", pass.where,
                                  pass.where[0] ? ": " : "", option->name);
        if (rc == SL_ENOMEM) return SL_ENOMEM;
        /* A bad value is replaced by the default so later checks can go on. */
        if ((!value || rc) && !option->required && option->default_value)
            rc = apply_option(&pass, option, NULL, option->default_value);
        if (rc == SL_ENOMEM) return SL_ENOMEM;
    }
    if (diags->is_out_of_memory) return SL_ENOMEM;
    return sl_diag_n_errors(diags) > errors_before ? SL_ECONFIG : SL_OK;
}

int sl_options_apply(const sl_option *table, const sl_node *map, void *conf, const char *where, sl_error *err)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, NULL);
    int rc = sl_options_apply_all(table, map, conf, where, &diags);
    if (rc) {
        /* The first mistake found, in the order the pass met them. */
        for (size_t i = 0; i < diags.n_items; i++) {
            if (diags.items[i].severity != SL_DIAG_ERROR) continue;
            char text[sizeof err->message];
            sl_diagnostic_format(&diags.items[i], text, sizeof text);
            sl_error_set(err, rc, "%s", text);
            break;
        }
        if (rc == SL_ENOMEM || diags.n_items == 0) sl_error_set(err, rc, "out of memory");
        sl_options_free(table, conf);
    }
    sl_diagnostics_free(&diags);
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
