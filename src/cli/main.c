/* main.c — `sluice`: dispatches to a subcommand from one table. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    { "run", sl_cmd_run, "run a config file's pipelines until they are done" },
    { "server", sl_cmd_server, "run the continuous pipelines and serve HTTP until SIGTERM (SIGHUP reloads)" },
    { "dag", sl_cmd_dag, "list, trigger, pause, clear and backfill the server's DAGs, see runs and logs; test one" },
    { "validate", sl_cmd_validate, "check a config file and report every mistake" },
    { "sql", sl_cmd_sql, "explain: the plan of a file's SQL (columns after constant folding, what is read)" },
    { "connectors", sl_cmd_connectors, "list the connectors, or every setting of one (--format markdown)" },
    { "topic", sl_cmd_topic, "list, describe, create, delete, produce to and consume topics (embedded or --kafka)" },
    { "auth", sl_cmd_auth, "make a token_hash for auth: from a token on stdin (hash-token)" },
    { "cron", sl_cmd_cron, "print the next fire times of a cron expression (--timezone, --after, --count)" },
    { "version", sl_cmd_version, "print the version" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n'sluice <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) return sl_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SL_EXIT_USAGE;
}
