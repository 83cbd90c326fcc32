/* settings_test.c — every settings table sluice documents is complete:
 * each row of every connector and of the config file's own blocks has a
 * type and help text, its default parses and lies within its bounds, its
 * bounds parse, and every connector says in one line what it is. These
 * tables are the documentation (`sluice connectors`, docs/connectors.md),
 * so a row without help would be an undocumented setting. */
#include <criterion/criterion.h>
#include <string.h>

#include "config/options.h"
#include "connectors/connector.h"
#include "runtime/plan_settings.h"

/* Big enough for any conf struct of the tables checked here. */
#define CONF_BYTES 4096

static void check_table(const char *what, const sl_option *table)
{
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        cr_assert(option->name && option->name[0], "%s: a row without a name", what);
        cr_assert(option->help && strlen(option->help) > 10, "%s.%s: no help text", what, option->name);
        cr_assert(option->offset + sizeof(int64_t) <= CONF_BYTES, "%s.%s: offset past the test's buffer", what,
                  option->name);
        cr_assert(!option->required || !option->default_value, "%s.%s: required with a default", what,
                  option->name);
        if (option->min || option->max)
            cr_assert(option->type == SL_OPT_INT || option->type == SL_OPT_DOUBLE ||
                          option->type == SL_OPT_DURATION || option->type == SL_OPT_SIZE,
                      "%s.%s: bounds on a type without numbers", what, option->name);
        if (option->choices)
            cr_assert(option->type == SL_OPT_STRING || option->type == SL_OPT_STR_LIST,
                      "%s.%s: choices on a type without text", what, option->name);
    }
    /* Applying nothing uses every default: each must parse and be in range
     * (so must the bounds); the only complaints are required settings. */
    static char conf[CONF_BYTES];
    memset(conf, 0, sizeof conf);
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, NULL);
    sl_options_apply_all(table, NULL, conf, what, &diags);
    for (size_t i = 0; i < diags.n_items; i++)
        cr_assert(strstr(diags.items[i].message, "missing required setting"), "%s: %s", what,
                  diags.items[i].message);
    sl_diagnostics_free(&diags);
    sl_options_free(table, conf);
}

Test(settings, every_connector_table_is_complete)
{
    size_t n = 0;
    for (size_t i = 0; sl_connector_source_at(i); i++, n++) {
        const sl_source_ops *ops = sl_connector_source_at(i);
        cr_assert(ops->description && strlen(ops->description) > 10, "source %s: no description", ops->name);
        cr_assert(ops->conf_size <= CONF_BYTES);
        check_table(ops->name, ops->options);
    }
    for (size_t i = 0; sl_connector_sink_at(i); i++, n++) {
        const sl_sink_ops *ops = sl_connector_sink_at(i);
        cr_assert(ops->description && strlen(ops->description) > 10, "sink %s: no description", ops->name);
        cr_assert(ops->conf_size <= CONF_BYTES);
        check_table(ops->name, ops->options);
    }
    cr_assert_geq(n, 11, "the registry lists %zu connectors", n);
    cr_assert_null(sl_connector_source_at(n));
}

Test(settings, every_block_of_the_config_file_is_complete)
{
    size_t n = 0;
    for (const sl_plan_block *block = sl_plan_blocks; block->name; block++, n++) {
        cr_assert(block->path && block->description && block->options, "block %s", block->name);
        check_table(block->name, block->options);
    }
    cr_assert_eq(n, 23);
}

Test(settings, a_bound_that_does_not_parse_is_reported)
{
    static const sl_option broken[] = { { "n", SL_OPT_INT, 0, .default_value = "1", .min = "one" }, { 0 } };
    int64_t n = 0;
    sl_error err = { 0 };
    cr_assert_eq(sl_options_apply(broken, NULL, &n, "x", &err), SL_ECONFIG);
    cr_assert_str_eq(err.message, "x.n: the settings table's min 'one' is not an integer");
}
