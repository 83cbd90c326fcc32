/* option_table.h — what the commands with verbs and an option table
 * (`sluice topic`, `sluice dag`) share: an option's row, the getopt_long
 * scan driven by the table, naming the verbs an option applies to, and the
 * options part of --help, wrapped to one width. Each command keeps its own
 * table, ids and checks.
 */
#ifndef SL_CLI_OPTION_TABLE_H
#define SL_CLI_OPTION_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sl_cli_option {
    const char *long_name;
    char short_name;        /* 0 = long only */
    const char *argument;   /* the argument's name in the help; NULL = a flag */
    unsigned verbs;         /* bit (1 << verb) per verb the option applies to */
    const char *help;
} sl_cli_option;

/* A command's verbs by number: its name, or NULL past the last. */
typedef const char *(*sl_cli_verb_name_fn)(int verb);

/* Sets the option of id from value (NULL for a flag) into args: an exit code. */
typedef int (*sl_cli_set_fn)(void *args, int id, const char *value);

/* Scans argv's options with getopt_long by the n rows of options: each one
 * given sets bit id of *given and goes to set. Returns -1 when help_id is
 * given, SL_EXIT_USAGE for an option not in the table (saying so after
 * "sluice COMMAND: "), set's code when not 0, else SL_EXIT_OK with optind
 * at the first operand. */
int sl_cli_options_scan(int argc, char **argv, const sl_cli_option *options, int n, int help_id,
                        const char *command, sl_cli_set_fn set, void *args, uint64_t *given);

/* The verbs of the bit set, as "consume", "produce and consume" or "list,
 * runs and tasks", into out. */
const char *sl_cli_verbs_of(unsigned verbs, sl_cli_verb_name_fn name, char *out, size_t size);

/* The options part of --help: heading, then a line per option ("-c, --max
 * N"), its help wrapped, after "[verbs] " unless its verbs are one of the
 * n_plain sets in plain (those that go without saying). */
void sl_cli_options_usage(FILE *out, const char *heading, const sl_cli_option *options, int n,
                          const unsigned *plain, size_t n_plain, sl_cli_verb_name_fn name);

#endif
