/* option_table.c — the option tables of commands with verbs (see
 * option_table.h). */
#include "cli/option_table.h"

#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "cli/commands.h"

/* getopt_long's value of long option i (above every short letter). */
#define LONG_VALUE_BASE 1000
#define OPTIONS_MAX 64
#define HELP_WIDTH 100
#define HELP_INDENT 29

int sl_cli_options_scan(int argc, char **argv, const sl_cli_option *options, int n, int help_id,
                        const char *command, sl_cli_set_fn set, void *args, uint64_t *given)
{
    struct option long_options[OPTIONS_MAX + 1];
    char short_options[2 * OPTIONS_MAX + 2];
    size_t n_short = 0;
    if (n > OPTIONS_MAX) n = OPTIONS_MAX;
    for (int i = 0; i < n; i++) {
        long_options[i] = (struct option){ options[i].long_name, options[i].argument ? required_argument : no_argument,
                                           NULL, LONG_VALUE_BASE + i };
        if (!options[i].short_name) continue;
        short_options[n_short++] = options[i].short_name;
        if (options[i].argument) short_options[n_short++] = ':';
    }
    long_options[n] = (struct option){ 0, 0, 0, 0 };
    short_options[n_short] = '\0';
    optind = 1;
    int value;
    while ((value = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        int id = value - LONG_VALUE_BASE;
        for (int i = 0; i < n && (id < 0 || id >= n); i++)
            if (options[i].short_name && options[i].short_name == value) id = i;
        if (id < 0 || id >= n) {
            fprintf(stderr, "sluice %s: 'sluice %s --help' lists the options\n", command, command);
            return SL_EXIT_USAGE;
        }
        if (id == help_id) return -1;
        *given |= UINT64_C(1) << id;
        int code = set(args, id, optarg);
        if (code) return code;
    }
    return SL_EXIT_OK;
}

const char *sl_cli_verbs_of(unsigned verbs, sl_cli_verb_name_fn name, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    int n = 0, total = 0;
    for (int v = 0; name(v); v++) total += (verbs >> v) & 1u;
    for (int v = 0; name(v) && used < size; v++) {
        if (!((verbs >> v) & 1u)) continue;
        n++;
        const char *glue = n == 1 ? "" : n == total ? " and " : ", ";
        used += (size_t)snprintf(out + used, size - used, "%s%s", glue, name(v));
    }
    return out;
}

/* Prints text from column `indent` on, wrapped at word boundaries before
 * column HELP_WIDTH. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    int column = indent;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (column > indent && column + 1 + (int)word > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            column = indent;
        } else if (column > indent) {
            fputc(' ', out);
            column++;
        }
        fprintf(out, "%.*s", (int)word, text);
        column += (int)word;
        text += word;
        while (*text == ' ') text++;
    }
    fputc('\n', out);
}

void sl_cli_options_usage(FILE *out, const char *heading, const sl_cli_option *options, int n,
                          const unsigned *plain, size_t n_plain, sl_cli_verb_name_fn name)
{
    fprintf(out, "%s\n", heading);
    for (int i = 0; i < n; i++) {
        char left[64], verbs[256], help[768];
        const sl_cli_option *option = &options[i];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", option->short_name ? "-" : " ",
                 option->short_name ? option->short_name : ' ', option->short_name ? ", " : "  ", option->long_name,
                 option->argument ? " " : "", option->argument ? option->argument : "");
        bool is_plain = false;
        for (size_t p = 0; p < n_plain; p++) is_plain |= option->verbs == plain[p];
        if (is_plain) snprintf(help, sizeof help, "%s", option->help);
        else snprintf(help, sizeof help, "[%s] %s", sl_cli_verbs_of(option->verbs, name, verbs, sizeof verbs), option->help);
        fprintf(out, "  %-26s ", left);
        print_wrapped(out, help, HELP_INDENT);
    }
}
