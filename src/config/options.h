/* options.h — settings declared as tables and applied from config nodes.
 *
 * A connector (or any configurable part) declares its settings as an array
 * of sl_option ending in { 0 }, each naming a field of its conf struct by
 * offsetof. sl_options_apply checks a mapping node against the table:
 * unknown keys, wrong types, values out of range and missing required
 * settings are errors naming file:line:column; defaults fill what the file
 * leaves out. The same table documents the settings (`sluice connectors`,
 * docs/connectors.md), so every row carries its help text.
 *
 * Field types by option type:
 *   SL_OPT_STRING       char *            (malloc'ed copy; NULL when absent)
 *   SL_OPT_INT          int64_t
 *   SL_OPT_DOUBLE       double
 *   SL_OPT_BOOL         bool
 *   SL_OPT_STR_LIST     sl_str_list       (a YAML list of scalars, or one scalar)
 *   SL_OPT_DURATION     int64_t ms        (amount.h: "250ms", "1h30m"; a bare number is seconds)
 *   SL_OPT_SIZE         int64_t bytes     (amount.h: "512", "64KiB", "1MiB", "2GB", ...)
 *   SL_OPT_MAP          const sl_node *   (a mapping, borrowed from the document)
 *   SL_OPT_LIST         const sl_node *   (a list, borrowed from the document)
 *   SL_OPT_NODE         const sl_node *   (any value, null included: the owner checks it;
 *                                          NULL when absent)
 *   SL_OPT_UNSUPPORTED  no field: a key kept for a feature not built yet;
 *                       giving it is an error saying so (help says what it is for)
 */
#ifndef SL_OPTIONS_H
#define SL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/amount.h"
#include "config/config.h"
#include "config/diagnostics.h"
#include "core/error.h"

typedef enum sl_option_type {
    SL_OPT_END = 0,
    SL_OPT_STRING,
    SL_OPT_INT,
    SL_OPT_DOUBLE,
    SL_OPT_BOOL,
    SL_OPT_STR_LIST,
    SL_OPT_DURATION,
    SL_OPT_SIZE,
    SL_OPT_MAP,
    SL_OPT_LIST,
    SL_OPT_NODE,
    SL_OPT_UNSUPPORTED,
} sl_option_type;

typedef struct sl_str_list {
    char **items;
    size_t n_items;
} sl_str_list;

typedef struct sl_option {
    const char *name;
    sl_option_type type;
    size_t offset;
    bool required;
    const char *default_value;  /* parsed like a scalar from the file; NULL = zero */
    const char *help;           /* one sentence for `sluice connectors` and the docs */
    /* For SL_OPT_STRING and SL_OPT_STR_LIST: when non-NULL, each value must
     * be one of these (NULL-ended). */
    const char *const *choices;
    /* For SL_OPT_INT, SL_OPT_DOUBLE, SL_OPT_DURATION and SL_OPT_SIZE: the
     * smallest and largest value allowed, written as in a file ("1",
     * "1KiB", "15m"); NULL = no bound. */
    const char *min;
    const char *max;
} sl_option;

/* Applies map (NULL = empty) to conf (zeroed by the caller) under table,
 * stopping at the first mistake. `where` names the block in messages, e.g.
 * "pipelines.store_users.sink.sqlite" ("" for the top of the file). On
 * failure nothing is left in conf to free. */
int sl_options_apply(const sl_option *table, const sl_node *map, void *conf,
                     const char *where, sl_error *err);

/* The same, reporting every mistake of the block to diags instead of the
 * first. conf keeps every setting that was valid (a bad value leaves the
 * default in its place) so that checks after it can go on; the caller
 * frees it with sl_options_free either way. Returns SL_ECONFIG when it
 * reported an error, SL_ENOMEM when memory ran out, else SL_OK. */
int sl_options_apply_all(const sl_option *table, const sl_node *map, void *conf,
                         const char *where, sl_diagnostics *diags);

/* Frees strings and lists that sl_options_apply stored in conf. */
void sl_options_free(const sl_option *table, void *conf);

/* The row called name, or NULL. */
const sl_option *sl_option_find(const sl_option *table, const char *name);

/* What a type is called in help and docs: "string", "integer", "duration"... */
const char *sl_option_type_name(sl_option_type type);

void sl_str_list_free(sl_str_list *list);

#endif
