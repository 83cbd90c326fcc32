/* topic_options.h — the options of `sluice topic`, from one table: getopt
 * reads it, the help text is printed from it, and each option's row says
 * which verbs it applies to, so an option a verb would not use is refused
 * instead of ignored. */
#ifndef SL_TOPIC_OPTIONS_H
#define SL_TOPIC_OPTIONS_H

#include <stdio.h>

#include "cli/topic_args.h"

/* Parses argv (argv[0] = "topic") into args: *verb_text and args->name
 * are the words after the options (NULL when absent). Returns 0,
 * SL_EXIT_USAGE after printing why, or -1 when --help was asked. */
int sl_topic_options_parse(int argc, char **argv, sl_topic_args *args, const char **verb_text);

/* With args->verb set: refuses options the verb does not take and
 * combinations that contradict each other, and compiles consume's output
 * format. Returns 0 or SL_EXIT_USAGE after printing why. */
int sl_topic_options_check(sl_topic_args *args);

/* Prints the options with their arguments, the verbs they apply to and
 * what they do. */
void sl_topic_options_usage(FILE *out);

#endif
