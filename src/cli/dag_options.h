/* dag_options.h — the options of `sluice dag`, from one table: getopt reads
 * it, the help is printed from it, and each row says which verbs it
 * applies to, so an option a verb would not use is refused, not ignored. */
#ifndef SL_DAG_OPTIONS_H
#define SL_DAG_OPTIONS_H

#include <stdio.h>

#include "cli/dag_args.h"

/* Parses argv (argv[0] = "dag") into args; *verb_text is the first word
 * (NULL when none), the others go to args->words. Returns 0, SL_EXIT_USAGE
 * after printing why, or -1 when --help was asked. */
int sl_dag_options_parse(int argc, char **argv, sl_dag_args *args, const char **verb_text);

/* With args->verb set: refuses options the verb does not take and
 * contradictions. Returns 0 or SL_EXIT_USAGE after printing why. */
int sl_dag_options_check(const sl_dag_args *args);

void sl_dag_options_usage(FILE *out);

#endif
