/* options.h — settings declared as tables and applied from config nodes.
 *
 * A connector (or any configurable part) declares its settings as an array
 * of sl_option ending in { 0 }, each naming a field of its conf struct by
 * offsetof. sl_options_apply checks a mapping node against the table:
 * unknown keys, wrong types, bad durations and missing required settings are
 * errors naming file:line:column; defaults fill what the file leaves out.
 *
 * Field types by option type:
 *   SL_OPT_STRING    char *            (malloc'ed copy; NULL when absent)
 *   SL_OPT_INT       int64_t
 *   SL_OPT_DOUBLE    double
 *   SL_OPT_BOOL      bool
 *   SL_OPT_STR_LIST  sl_str_list       (a YAML list of scalars, or one scalar)
 *   SL_OPT_DURATION  int64_t ms        ("250ms", "10s", "5m", "2h", "7d", or a number = ms)
 *   SL_OPT_SIZE      int64_t bytes     ("512", "64KiB", "1MiB", "2GB", ...)
 *   SL_OPT_NODE      const sl_node *   (borrowed from the document: any shape)
 */
#ifndef SL_OPTIONS_H
#define SL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
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
    SL_OPT_NODE,
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
    const char *help;           /* one line for `sluice validate` and docs */
    /* For SL_OPT_STRING: when non-NULL, the value must be one of these (NULL-ended). */
    const char *const *choices;
} sl_option;

/* Applies map (NULL = empty) to conf (zeroed by the caller) under table.
 * `where` names the block in messages, e.g. "pipelines.store_users.sink.sqlite". */
int sl_options_apply(const sl_option *table, const sl_node *map, void *conf,
                     const char *where, sl_error *err);

/* Frees strings and lists that sl_options_apply stored in conf. */
void sl_options_free(const sl_option *table, void *conf);

/* Parses "10s" / "250ms" / "5m" / "1h" / "2d" / "1500" (ms) into ms. */
int sl_parse_duration(const char *text, int64_t *ms);

/* Parses "1048576", "64KiB", "1MiB", "1GiB", "10MB", "1KB" into bytes. */
int sl_parse_size(const char *text, int64_t *bytes);

void sl_str_list_free(sl_str_list *list);

#endif
