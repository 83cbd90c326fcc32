/* cmd_topic.c — `sluice topic VERB [NAME] [options]`: the verb table
 * (name, whether it takes a topic name, whether it writes the data dir,
 * its embedded and Kafka handlers, its help line), the usage printed from
 * it and the dispatch that reads it. The options are topic_options.c's
 * table; the verbs are cmd_topic_log.c's (embedded log) and
 * cmd_topic_kafka.c's (--kafka).
 *
 * On the embedded log, verbs that only read (list, describe, consume
 * without --group) open it read-only and take no lock, so they work beside
 * a running `sluice run` and in a directory they cannot write; create,
 * delete, produce and consume --group (it commits offsets) take the data
 * dir's lock like any writer, and say so while another process holds it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd_topic_kafka.h"
#include "cli/cmd_topic_log.h"
#include "cli/commands.h"
#include "cli/topic_format.h"
#include "cli/topic_options.h"
#include "log/log.h"
#include "runtime/plan.h"

/* Whether a verb writes the data dir (and so needs its lock). */
typedef enum verb_writes {
    WRITES_NEVER = 0,
    WRITES_ALWAYS,
    WRITES_WITH_GROUP,   /* consume --group commits the group's offsets */
} verb_writes;

typedef struct topic_verb {
    const char *name;
    bool needs_name;
    verb_writes writes;
    int (*run_log)(sl_log *log, const sl_topic_args *args);
    int (*run_kafka)(const sl_topic_args *args);   /* NULL: not available with --kafka */
    const char *help;
} topic_verb;

static const topic_verb verbs[SL_VERB_COUNT] = {
    [SL_VERB_LIST] = { "list", false, WRITES_NEVER, sl_topic_log_list, sl_topic_kafka_list,
                       "topics with partitions and record counts" },
    [SL_VERB_DESCRIBE] = { "describe", true, WRITES_NEVER, sl_topic_log_describe, sl_topic_kafka_describe,
                           "partitions, offsets, consumer groups and their lag" },
    [SL_VERB_CREATE] = { "create", true, WRITES_ALWAYS, sl_topic_log_create, sl_topic_kafka_create,
                         "create a topic (an existing one must have the --partitions asked for)" },
    [SL_VERB_DELETE] = { "delete", true, WRITES_ALWAYS, sl_topic_log_delete, NULL,
                         "delete a topic and its data" },
    [SL_VERB_PRODUCE] = { "produce", true, WRITES_ALWAYS, sl_topic_log_produce, sl_topic_kafka_produce,
                          "append stdin's lines to NAME, one record each (creates NAME when absent)" },
    [SL_VERB_CONSUME] = { "consume", true, WRITES_WITH_GROUP, sl_topic_log_consume, sl_topic_kafka_consume,
                          "print NAME's records, by default each value on a line, until the end" },
};

const char *sl_topic_verb_name(sl_topic_verb_id verb)
{
    return verb >= 0 && verb < SL_VERB_COUNT ? verbs[verb].name : "?";
}

static void topic_usage(FILE *out)
{
    fprintf(out, "usage: sluice topic VERB [NAME] [options]\n"
                 "\n"
                 "The topics of the embedded log of a data dir, or with -b/--kafka BROKERS those of a Kafka\n"
                 "cluster; options, offsets and formats follow kcat's.\n"
                 "\n"
                 "verbs (K: also with --kafka):\n");
    for (int v = 0; v < SL_VERB_COUNT; v++) {
        char left[32];
        snprintf(left, sizeof left, "%s%s", verbs[v].name, verbs[v].needs_name ? " NAME" : "");
        fprintf(out, "  %-16s %s  %s\n", left, verbs[v].run_kafka ? "K" : " ", verbs[v].help);
    }
    fprintf(out, "\n");
    sl_topic_options_usage(out);
    fprintf(out, "\n");
    sl_topic_format_usage(out);
    fprintf(out, "\n"
                 "list, describe and consume read a data dir without its lock, beside a running `sluice run`;\n"
                 "create, delete, produce and consume --group (it commits offsets) write, so they need it.\n"
                 "consume stops at the end of every partition (as with -e) unless --follow is given; with\n"
                 "--follow, SIGINT or SIGTERM ends it with exit 0 once what it printed is flushed (and, with\n"
                 "--group, committed).\n"
                 "exit codes: 0 ok; 1 failure (I/O, brokers); 2 usage: a bad option, a partition or offset\n"
                 "out of range (the message gives the valid range), a partition count other than an existing\n"
                 "topic's.\n");
}

/* Opens the data dir's log: read-only without the lock, or (needs_lock)
 * as its writer. */
static int open_log(const sl_topic_args *args, bool needs_lock, sl_log **log)
{
    sl_error err;
    sl_error_clear(&err);
    const char *dir = args->data_dir;
    sl_plan *plan = NULL;
    if (args->config) {
        if (sl_plan_load(args->config, &plan, &err)) {
            fprintf(stderr, "sluice topic: %s\n", err.message);
            return SL_EXIT_USAGE;
        }
        dir = plan->data_dir;
    }
    dir = dir ? dir : "./data";
    int rc = needs_lock ? sl_log_open(dir, log, &err) : sl_log_open_readonly(dir, log, &err);
    sl_plan_free(plan);
    if (rc == SL_ELOCKED) {
        fprintf(stderr,
                "sluice topic: %s; create, delete, produce and consume --group (which commits the "
                "group's offsets) write, so they need its lock (list, describe and consume without "
                "--group work while it runs)\n",
                err.message);
        return SL_EXIT_FAILURE;
    }
    if (rc) {
        fprintf(stderr, "sluice topic: %s\n", err.message);
        return SL_EXIT_FAILURE;
    }
    return SL_EXIT_OK;
}

static int run_log(const topic_verb *verb, const sl_topic_args *args)
{
    bool needs_lock = verb->writes == WRITES_ALWAYS || (verb->writes == WRITES_WITH_GROUP && args->group);
    sl_log *log = NULL;
    int code = open_log(args, needs_lock, &log);
    if (code) return code;
    code = verb->run_log(log, args);
    sl_log_close(log);
    return code;
}

static int run_kafka(const topic_verb *verb, const sl_topic_args *args)
{
    if (verb->run_kafka) return verb->run_kafka(args);
    char available[128] = "";
    size_t used = 0;
    for (int v = 0; v < SL_VERB_COUNT && used < sizeof available; v++)
        if (verbs[v].run_kafka)
            used += (size_t)snprintf(available + used, sizeof available - used, "%s%s", used ? ", " : "",
                                     verbs[v].name);
    fprintf(stderr, "sluice topic %s: not available with --kafka (%s are)\n", verb->name, available);
    return SL_EXIT_USAGE;
}

static int dispatch(sl_topic_args *args, const char *verb_text)
{
    if (!verb_text) {
        topic_usage(stderr);
        return SL_EXIT_USAGE;
    }
    const topic_verb *verb = NULL;
    for (int v = 0; v < SL_VERB_COUNT && !verb; v++)
        if (strcmp(verb_text, verbs[v].name) == 0) verb = &verbs[v], args->verb = (sl_topic_verb_id)v;
    if (!verb) {
        fprintf(stderr, "sluice topic: unknown verb '%s' (", verb_text);
        for (int v = 0; v < SL_VERB_COUNT; v++) fprintf(stderr, "%s%s", v ? ", " : "", verbs[v].name);
        fprintf(stderr, "); 'sluice topic --help' describes them\n");
        return SL_EXIT_USAGE;
    }
    if (verb->needs_name && !args->name) {
        fprintf(stderr, "sluice topic %s: which topic? usage: sluice topic %s NAME [options]\n", verb->name,
                verb->name);
        return SL_EXIT_USAGE;
    }
    if (!verb->needs_name && args->name) {
        fprintf(stderr, "sluice topic %s: takes no topic name (got '%s')\n", verb->name, args->name);
        return SL_EXIT_USAGE;
    }
    int code = sl_topic_options_check(args);
    if (code) return code;
    return args->kafka ? run_kafka(verb, args) : run_log(verb, args);
}

int sl_cmd_topic(int argc, char **argv)
{
    sl_topic_args args;
    const char *verb_text = NULL;
    int code = sl_topic_options_parse(argc, argv, &args, &verb_text);
    if (code < 0) {
        topic_usage(stdout);
        code = SL_EXIT_OK;
    } else if (code == SL_EXIT_OK) {
        code = dispatch(&args, verb_text);
    }
    sl_topic_args_free(&args);
    return code;
}
