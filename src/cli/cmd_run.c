/* cmd_run.c — `sluice run`, `sluice validate` and `sluice version`.
 *
 * `sluice run` keeps stdout for data: only a stdio sink writes there, so
 * `sluice run p.yaml < in.jsonl > out.jsonl` gives exactly the records. The
 * summary, the progress line and the log go to stderr. The progress line
 * is drawn only when stderr is a terminal (and not --quiet), and not when
 * stdout is that same terminal while a pipeline writes stdout: records
 * would run into it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/options.h"
#include "core/logger.h"
#include "runtime/plan.h"
#include "runtime/run.h"
#include "server/metrics/metrics_run.h"

#define SLUICE_VERSION "0.1.0"

int sl_exit_code_for(int rc)
{
    if (rc == SL_OK) return SL_EXIT_OK;
    if (rc == SL_ECONFIG || rc == SL_EUSAGE || rc == SL_EPARSE || rc == SL_ESQL) return SL_EXIT_USAGE;
    return SL_EXIT_FAILURE;
}

static void on_signal(int signal_number)
{
    sl_run_request_stop(signal_number);
}

/* Whether fds a and b are one terminal (the same device). */
static bool is_same_terminal(int a, int b)
{
    struct stat sa, sb;
    if (!isatty(a) || !isatty(b) || fstat(a, &sa) != 0 || fstat(b, &sb) != 0) return false;
    return sa.st_rdev == sb.st_rdev;
}

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice run FILE [--pipeline NAME] [--for DURATION] [--follow]\n"
            "                       [--metrics-listen HOST:PORT]\n"
            "\n"
            "Runs the file's pipelines together. Stops by itself when every bounded source\n"
            "is exhausted and every topic-fed pipeline has caught up with a topic no\n"
            "pipeline of the run still writes; then prints a summary.\n"
            "\n"
            "  --pipeline NAME   run only this pipeline\n"
            "  --for DURATION    stop after this long (e.g. 90s, 5m, 1h30m; a bare number is\n"
            "                    seconds)\n"
            "  --follow          keep consuming topics instead of stopping at their end\n"
            "  --quiet           no progress line and no summary\n"
            "  --metrics-listen HOST:PORT\n"
            "                    serve /metrics (Prometheus text format) and /healthz there\n"
            "                    while the run runs (port 0: any free port, logged)\n"
            "stdout carries only the records of stdio sinks; the summary, the progress\n"
            "line (when stderr is a terminal) and the log go to stderr.\n"
            "SIGINT/SIGTERM drain in-flight batches and commit what is stored.\n"
            "Exit codes: 0 ok (every source read to its end, or --follow); 1 runtime\n"
            "failure, or --for elapsed first (incomplete); 2 usage or config error;\n"
            "130/143 stopped by SIGINT/SIGTERM first (interrupted).\n");
}

/* Loads and checks path, printing every mistake and warning on stderr
 * ("sluice: file:line:column: ...", sorted by position). */
static int check_plan(const char *path, sl_plan **plan)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, path);
    int rc = sl_plan_check(path, plan, &diags);
    sl_diagnostics_print(&diags, stderr, "sluice: ");
    sl_diagnostics_free(&diags);
    if (rc) return rc == SL_EIO ? SL_EXIT_USAGE : sl_exit_code_for(rc);
    int level = sl_level_parse((*plan)->log_level);
    sl_logger_configure(level < 0 ? SL_LEVEL_INFO : (sl_level)level, strcmp((*plan)->log_format, "json") == 0);
    return SL_EXIT_OK;
}

/* check_plan for `run`: DAGs are the scheduler's, so a file of DAGs alone
 * has nothing to run, and the DAGs of a file with pipelines are left out,
 * saying so. */
static int load_plan(const char *path, sl_plan **plan)
{
    int code = check_plan(path, plan);
    if (code || (*plan)->n_dags == 0) return code;
    if ((*plan)->n_pipelines == 0) {
        fprintf(stderr, "sluice run: %s has DAGs but no pipelines: DAGs are run by the scheduler of "
                "`sluice server` (or once by `sluice dag test`), not by `sluice run`\n", path);
        sl_plan_free(*plan);
        *plan = NULL;
        return SL_EXIT_USAGE;
    }
    fprintf(stderr, "sluice run: %s: its %zu DAG%s not run: DAGs are run by the scheduler of `sluice "
            "server`, not by `sluice run`; running the pipelines\n", path, (*plan)->n_dags,
            (*plan)->n_dags == 1 ? " is" : "s are");
    return SL_EXIT_OK;
}

int sl_cmd_run(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "for", required_argument, NULL, 'f' },
        { "follow", no_argument, NULL, 'F' },
        { "quiet", no_argument, NULL, 'q' },
        { "metrics-listen", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    sl_run_options options = { .show_summary = true };
    bool is_quiet = false;
    const char *metrics_listen = NULL;
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "p:f:Fqh", long_options, NULL)) != -1) {
        switch (option) {
        case 'p': options.only_pipeline = optarg; break;
        case 'f':
            if (sl_parse_duration(optarg, &options.duration_ms) || options.duration_ms <= 0) {
                fprintf(stderr, "sluice run: --for: '%s' is not a duration above 0 (like 90s, 5m, 1h30m; a bare "
                        "number is seconds)\n", optarg);
                return SL_EXIT_USAGE;
            }
            break;
        case 'F': options.follow = true; break;
        case 'q': is_quiet = true; break;
        case 'm': metrics_listen = optarg; break;
        case 'h': run_usage(stdout); return SL_EXIT_OK;
        default: run_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        run_usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_plan *plan = NULL;
    int code = load_plan(argv[optind], &plan);
    if (code) return code;
    if (is_quiet) options.show_summary = false;
    else options.show_progress = isatty(STDERR_FILENO) &&
                                 !(is_same_terminal(STDOUT_FILENO, STDERR_FILENO) &&
                                   sl_run_writes_stdout(plan, &options));

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    sl_error err;
    sl_error_clear(&err);
    sl_metrics_run *metrics = NULL;
    int rc = SL_OK;
    if (metrics_listen) {
        rc = sl_metrics_run_start(metrics_listen, &metrics, &err);
        options.on_pipelines = sl_metrics_run_watch;
        options.pipelines_context = metrics;
    }
    if (rc == SL_OK) rc = sl_run_plan(plan, &options, &err);
    if (rc) fprintf(stderr, "sluice: %s\n", err.message);
    sl_metrics_run_stop(metrics);
    sl_plan_free(plan);
    if (rc == SL_EINTERRUPTED) return 128 + sl_run_stop_signal();
    return sl_exit_code_for(rc);
}

int sl_cmd_validate(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: sluice validate FILE\n\nChecks FILE (YAML, connectors' settings, SQL, DAGs) without running it\n"
                "and reports every mistake on stderr, one a line, as file:line:column: what,\n"
                "in the order of the file; warnings (an input file not created yet) too.\n"
                "Exit codes: 0 valid (warnings or not), 2 invalid.\n");
        return argc == 2 ? SL_EXIT_OK : SL_EXIT_USAGE;
    }
    sl_plan *plan = NULL;
    int code = check_plan(argv[1], &plan);
    if (code) return code;
    printf("%s: valid (%zu pipelines, %zu dags)\n", argv[1], plan->n_pipelines, plan->n_dags);
    sl_plan_free(plan);
    return SL_EXIT_OK;
}

int sl_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sluice %s\n", SLUICE_VERSION);
    return SL_EXIT_OK;
}
