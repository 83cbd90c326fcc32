/* cmd_server.c — `sluice server FILE [--listen HOST:PORT]` (server/server.h). */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "server/api.h"
#include "server/server.h"

static void server_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice server FILE [--listen HOST:PORT]\n"
            "\n"
            "Runs FILE's continuous pipelines (every pipeline no DAG task runs) until SIGTERM,\n"
            "restarting a failed one with exponential backoff, runs the scheduler of its DAGs\n"
            "(history in metadata:, DATA_DIR/metadata.db by default), and serves HTTP on\n"
            "http.listen (default 127.0.0.1:8080). SIGHUP or POST /api/v1/reload reloads FILE:\n"
            "changed pipelines restart, unchanged ones keep running, DAGs take the new file for\n"
            "the tries that follow, and a file with mistakes is refused while the old one runs on.\n"
            "\n"
            "  --listen HOST:PORT  serve HTTP here instead of http.listen (port 0: any free port)\n"
            "\n"
            "With auth: in FILE, each route needs a token of its role (viewer < operator < admin;\n"
            "by method: GET viewer, others operator); without it every route is open and the server\n"
            "listens on a loopback address only.\n"
            "\n"
            "endpoints (docs/api.md), with the role each needs:\n");
    for (const sl_http_route *route = sl_api_routes; route->method; route++)
        fprintf(out, "  %-6s %-48s %-8s %s\n", route->method, route->pattern,
                sl_role_name(sl_role_for_route(route->role, route->method)), route->help);
    fprintf(out, "Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 usage or config error.\n");
}

int sl_cmd_server(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    sl_server_options options = { 0 };
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "l:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'l': options.listen = optarg; break;
        case 'h': server_usage(stdout); return SL_EXIT_OK;
        default: server_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        server_usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_server_run(argv[optind], &options, &err);
    if (rc) fprintf(stderr, "sluice server: %s\n", err.message);
    return rc ? sl_exit_code_for(rc) : SL_EXIT_OK;
}
