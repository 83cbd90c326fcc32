/* cmd_sql.c — `sluice sql explain FILE [--pipeline NAME]`: the plan of each
 * pipeline's SQL (sql/explain.h), after the file is checked as `sluice
 * validate` checks it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/buffer.h"
#include "runtime/plan.h"
#include "sql/explain.h"

static void sql_usage(FILE *out)
{
    fprintf(out, "usage: sluice sql explain FILE [--pipeline NAME]\n"
                 "\n"
                 "Prints the plan of the SQL of FILE's pipelines (or of NAME's): what each\n"
                 "output column computes once constants are folded, the WHERE condition, and\n"
                 "which parts of a record the statement reads. A file with mistakes is\n"
                 "reported as `sluice validate` reports it.\n"
                 "Exit codes: 0 ok, 2 usage or config error (an unknown pipeline).\n");
}

int sl_cmd_sql(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *only = NULL;
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "p:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'p': only = optarg; break;
        case 'h': sql_usage(stdout); return SL_EXIT_OK;
        default: sql_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "explain") != 0) {
        sql_usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *path = argv[optind + 1];
    sl_plan *plan = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_plan_load(path, &plan, &err)) {
        fprintf(stderr, "sluice sql: %s\n", err.message);
        return SL_EXIT_USAGE;
    }
    if (only && !sl_plan_pipeline(plan, only)) {
        fprintf(stderr, "sluice sql: %s has no pipeline called '%s'\n", path, only);
        sl_plan_free(plan);
        return SL_EXIT_USAGE;
    }
    sl_buffer out = { 0 };
    int rc = SL_OK;
    for (size_t i = 0; i < plan->n_pipelines && rc == SL_OK; i++) {
        const sl_pipeline_plan *pipeline = &plan->pipelines[i];
        if (only && strcmp(pipeline->name, only) != 0) continue;
        rc = sl_buffer_printf(&out, "pipeline %s:\n", pipeline->name);
        if (rc == SL_OK && !pipeline->program) rc = sl_buffer_append_cstr(&out, "  no SQL: records pass as they are\n");
        if (rc == SL_OK && pipeline->program) rc = sl_sql_explain(pipeline->program, "  ", &out);
    }
    if (rc == SL_OK) fwrite(out.data, 1, out.len, stdout);
    else fprintf(stderr, "sluice sql: out of memory\n");
    sl_buffer_free(&out);
    sl_plan_free(plan);
    return rc ? SL_EXIT_FAILURE : SL_EXIT_OK;
}
