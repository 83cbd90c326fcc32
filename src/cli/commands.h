/* commands.h — the CLI's subcommands. Each takes the
 * arguments after its name and returns the process exit code:
 * 0 ok, 1 runtime failure, 2 usage or config error. */
#ifndef SL_COMMANDS_H
#define SL_COMMANDS_H

#define SL_EXIT_OK 0
#define SL_EXIT_FAILURE 1
#define SL_EXIT_USAGE 2

int sl_cmd_run(int argc, char **argv);
int sl_cmd_validate(int argc, char **argv);
int sl_cmd_topic(int argc, char **argv);
int sl_cmd_connectors(int argc, char **argv);
int sl_cmd_cron(int argc, char **argv);
int sl_cmd_sql(int argc, char **argv);
int sl_cmd_server(int argc, char **argv);
int sl_cmd_dag(int argc, char **argv);
int sl_cmd_version(int argc, char **argv);
int sl_cmd_auth(int argc, char **argv);

/* The exit code for an sl_error code: 2 for usage/config, else 1. */
int sl_exit_code_for(int rc);

#endif
