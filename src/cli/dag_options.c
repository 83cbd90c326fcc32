/* dag_options.c — the option table of `sluice dag` and what is read from
 * it: the getopt tables, the parse into sl_dag_args, the check that each
 * option given applies to the verb, and the options part of --help. The
 * names follow the airflow CLI's where it has the option (--conf,
 * --logical-date, --run-id, --state, --task-regex is --task here). */
#include "cli/dag_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/option_table.h"

typedef enum option_id {
    OPT_DATA_DIR = 0,
    OPT_CONFIG,
    OPT_SERVER,
    OPT_JSON,
    OPT_CONF,
    OPT_LOGICAL_DATE,
    OPT_RUN_ID,
    OPT_STATE,
    OPT_LIMIT,
    OPT_TRY,
    OPT_TASK,
    OPT_ALL,
    OPT_NO_DOWNSTREAM,
    OPT_DOWNSTREAM,
    OPT_UPSTREAM,
    OPT_FROM,
    OPT_TO,
    OPT_HELP,
    OPT_COUNT,
} option_id;

#define VERB(v) (1u << (v))
#define ALL_VERBS ((1u << SL_DAG_VERB_COUNT) - 1)
/* Every verb that talks to a server (or reads its store): all but test. */
#define SERVER_VERBS (ALL_VERBS & ~VERB(SL_DAG_TEST))

static const sl_cli_option options[OPT_COUNT] = {
    [OPT_DATA_DIR] = { "data-dir", 0, "DIR", SERVER_VERBS,
                       "the data dir whose server.json names the server, and whose metadata.db is read when "
                       "none runs (default ./data)" },
    [OPT_CONFIG] = { "config", 0, "FILE", SERVER_VERBS,
                     "use FILE's data_dir and metadata:, and its DAGs when no server runs" },
    [OPT_SERVER] = { "server", 0, "URL", SERVER_VERBS, "the server's URL (http://HOST:PORT) instead of server.json's" },
    [OPT_JSON] = { "json", 0, NULL, SERVER_VERBS & ~VERB(SL_DAG_LOG), "print the API's JSON as it is" },
    [OPT_CONF] = { "conf", 'c', "JSON", VERB(SL_DAG_TRIGGER) | VERB(SL_DAG_TEST),
                   "the run's conf, a JSON object" },
    [OPT_LOGICAL_DATE] = { "logical-date", 'e', "ISO", VERB(SL_DAG_TRIGGER) | VERB(SL_DAG_TEST),
                           "the run's logical date, a start of an interval of the schedule (default: the latest "
                           "complete interval now); without an offset it is UTC" },
    [OPT_RUN_ID] = { "run-id", 'r', "ID", VERB(SL_DAG_TRIGGER), "the run's id (default manual__ and the time)" },
    [OPT_STATE] = { "state", 's', "STATE", VERB(SL_DAG_RUNS) | VERB(SL_DAG_MARK),
                    "runs: only runs in STATE (queued, running, success, failed); mark: success or failed" },
    [OPT_LIMIT] = { "limit", 'n', "N", VERB(SL_DAG_RUNS), "at most N runs, the newest (1..1000, default 100)" },
    [OPT_TRY] = { "try", 0, "N", VERB(SL_DAG_LOG), "the log of try N (default the latest)" },
    [OPT_TASK] = { "task", 't', "TASK", VERB(SL_DAG_CLEAR) | VERB(SL_DAG_MARK),
                   "clear TASK (repeatable; default every task); mark TASK (one) rather than the whole run" },
    [OPT_ALL] = { "all", 0, NULL, VERB(SL_DAG_CLEAR),
                  "clear tasks that succeeded too, not only failed, upstream_failed and skipped ones" },
    [OPT_NO_DOWNSTREAM] = { "no-downstream", 0, NULL, VERB(SL_DAG_CLEAR),
                            "do not clear the tasks downstream of those named" },
    [OPT_DOWNSTREAM] = { "downstream", 0, NULL, VERB(SL_DAG_MARK), "mark the tasks downstream of --task too" },
    [OPT_UPSTREAM] = { "upstream", 0, NULL, VERB(SL_DAG_MARK), "mark the tasks upstream of --task too" },
    [OPT_FROM] = { "from", 0, "ISO", VERB(SL_DAG_BACKFILL), "the first logical date of the backfill" },
    [OPT_TO] = { "to", 0, "ISO", VERB(SL_DAG_BACKFILL), "the last logical date of the backfill" },
    [OPT_HELP] = { "help", 'h', NULL, ALL_VERBS, "this help" },
};

static bool is_given(const sl_dag_args *args, option_id id)
{
    return (args->given >> id) & 1u;
}

static int parse_count(const char *name, const char *text, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (!*text || *end || errno || value < 1 || value > max) {
        fprintf(stderr, "sluice dag: --%s '%s' is not a number from 1 to %d\n", name, text, max);
        return SL_EXIT_USAGE;
    }
    *out = (int)value;
    return SL_EXIT_OK;
}

static int set_option(option_id id, const char *value, sl_dag_args *args)
{
    switch (id) {
    case OPT_DATA_DIR: args->data_dir = value; break;
    case OPT_CONFIG: args->config = value; break;
    case OPT_SERVER: args->server = value; break;
    case OPT_JSON: args->is_json = true; break;
    case OPT_CONF: args->conf = value; break;
    case OPT_LOGICAL_DATE: args->logical_date = value; break;
    case OPT_RUN_ID: args->run_id = value; break;
    case OPT_STATE: args->state = value; break;
    case OPT_LIMIT: return parse_count("limit", value, 1000, &args->limit);
    case OPT_TRY: return parse_count("try", value, 1000000, &args->try_number);
    case OPT_TASK:
        if (args->n_tasks == SL_DAG_MAX_TASKS) {
            fprintf(stderr, "sluice dag: at most %d --task options\n", SL_DAG_MAX_TASKS);
            return SL_EXIT_USAGE;
        }
        args->tasks[args->n_tasks++] = value;
        break;
    case OPT_ALL: args->is_all = true; break;
    case OPT_NO_DOWNSTREAM: args->is_no_downstream = true; break;
    case OPT_DOWNSTREAM: args->is_downstream = true; break;
    case OPT_UPSTREAM: args->is_upstream = true; break;
    case OPT_FROM: args->from = value; break;
    case OPT_TO: args->to = value; break;
    case OPT_HELP:
    case OPT_COUNT: break;
    }
    return SL_EXIT_OK;
}

static int set_any(void *args, int id, const char *value)
{
    return set_option((option_id)id, value, args);
}

int sl_dag_options_parse(int argc, char **argv, sl_dag_args *args, const char **verb_text)
{
    *args = (sl_dag_args){ 0 };
    *verb_text = NULL;
    int code = sl_cli_options_scan(argc, argv, options, OPT_COUNT, OPT_HELP, "dag", set_any, args, &args->given);
    if (code) return code;
    if (optind < argc) *verb_text = argv[optind++];
    for (; optind < argc; optind++) {
        if (args->n_words == SL_DAG_MAX_WORDS) {
            fprintf(stderr, "sluice dag: unexpected '%s'; 'sluice dag --help' shows each verb's operands\n",
                    argv[optind]);
            return SL_EXIT_USAGE;
        }
        args->words[args->n_words++] = argv[optind];
    }
    return SL_EXIT_OK;
}

static const char *verb_name(int verb)
{
    return verb >= 0 && verb < SL_DAG_VERB_COUNT ? sl_dag_verb_name((sl_dag_verb_id)verb) : NULL;
}

/* "trigger and test", "runs". */
static const char *verbs_of(unsigned verbs, char *out, size_t size)
{
    return sl_cli_verbs_of(verbs, verb_name, out, size);
}

static int refuse(const sl_dag_args *args, const char *message)
{
    fprintf(stderr, "sluice dag %s: %s\n", sl_dag_verb_name(args->verb), message);
    return SL_EXIT_USAGE;
}

int sl_dag_options_check(const sl_dag_args *args)
{
    unsigned bit = VERB(args->verb);
    for (int i = 0; i < OPT_COUNT; i++) {
        if (!is_given(args, (option_id)i) || (options[i].verbs & bit)) continue;
        char verbs[256], message[400];
        if (options[i].verbs == SERVER_VERBS)
            snprintf(message, sizeof message, "--%s does not apply to test (it reads FILE; the server is not used)",
                     options[i].long_name);
        else
            snprintf(message, sizeof message, "--%s applies to %s, not to %s", options[i].long_name,
                     verbs_of(options[i].verbs, verbs, sizeof verbs), sl_dag_verb_name(args->verb));
        return refuse(args, message);
    }
    if (args->data_dir && args->config) return refuse(args, "--data-dir and --config both name the data dir: give one");
    if (args->verb == SL_DAG_CLEAR && args->n_tasks == 0 && args->is_no_downstream)
        return refuse(args, "--no-downstream needs --task: without one every task is cleared");
    if (args->verb == SL_DAG_MARK && (!args->state || (strcmp(args->state, "success") && strcmp(args->state, "failed"))))
        return refuse(args, "a mark needs --state success or --state failed");
    if (args->verb == SL_DAG_MARK && args->n_tasks > 1)
        return refuse(args, "mark takes one --task (with --downstream or --upstream for the tasks around it)");
    if (args->verb == SL_DAG_MARK && args->n_tasks == 0 && (args->is_downstream || args->is_upstream))
        return refuse(args, "--downstream and --upstream need --task: without one the whole run is marked");
    if (args->verb == SL_DAG_BACKFILL && (!args->from || !args->to))
        return refuse(args, "a backfill needs --from ISO and --to ISO, the first and last logical dates");
    return SL_EXIT_OK;
}

void sl_dag_options_usage(FILE *out)
{
    static const unsigned plain[] = { SERVER_VERBS, ALL_VERBS };
    sl_cli_options_usage(out, "options ([the verbs an option applies to]; the others apply to every verb but test):",
                         options, OPT_COUNT, plain, sizeof plain / sizeof plain[0], verb_name);
}
