/* topic_options.c — the option table of `sluice topic` and everything read
 * from it: the getopt tables, the parse into sl_topic_args, the check that
 * each given option applies to the verb, and the options part of --help.
 * Short letters follow kcat where kcat has the option (-b -X -p -o -c -e -f
 * -K -k -H -G). */
#include "cli/topic_options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/option_table.h"
#include "log/compression.h"

typedef enum option_id {
    OPT_DATA_DIR = 0,
    OPT_CONFIG,
    OPT_KAFKA,
    OPT_PROPERTY,
    OPT_PARTITIONS,
    OPT_COMPRESSION,
    OPT_PARTITION,
    OPT_OFFSET,
    OPT_MAX,
    OPT_EXIT,
    OPT_FOLLOW,
    OPT_FORMAT,
    OPT_KEY_DELIMITER,
    OPT_METADATA,
    OPT_GROUP,
    OPT_KEY_PATH,
    OPT_KEY,
    OPT_HEADER,
    OPT_HELP,
    OPT_COUNT,
} option_id;

#define ALL_VERBS ((1u << SL_VERB_COUNT) - 1)
/* The help text wraps before this column. */

static const sl_cli_option options[OPT_COUNT] = {
    [OPT_DATA_DIR] = { "data-dir", 0, "DIR", ALL_VERBS, "the embedded log's data dir (default ./data)" },
    [OPT_CONFIG] = { "config", 0, "FILE", ALL_VERBS, "use the data_dir of config FILE" },
    [OPT_KAFKA] = { "kafka", 'b', "BROKERS", ALL_VERBS,
                    "a Kafka cluster (host:port[,...]) instead of the embedded log" },
    [OPT_PROPERTY] = { "property", 'X', "NAME=VALUE", ALL_VERBS,
                       "librdkafka property for --kafka (SASL, TLS, timeouts...); repeatable" },
    [OPT_PARTITIONS] = { "partitions", 0, "N", (1u << SL_VERB_CREATE) | (1u << SL_VERB_PRODUCE),
                         "partitions of a topic created here, 1..10000 (default 1; Kafka: the broker's "
                         "default); an existing topic with another count is an error" },
    [OPT_COMPRESSION] = { "compression", 0, "CODEC", (1u << SL_VERB_CREATE) | (1u << SL_VERB_PRODUCE),
                          "codec of an embedded topic created here: none, lz4 (default), zstd, gzip, snappy" },
    [OPT_PARTITION] = { "partition", 'p', "P", (1u << SL_VERB_PRODUCE) | (1u << SL_VERB_CONSUME),
                        "consume only partition P; produce every record to P" },
    [OPT_OFFSET] = { "offset", 'o', "OFFSET", 1u << SL_VERB_CONSUME,
                     "where each partition starts: beginning, end (only new records), N (that offset), "
                     "-N (N records before the end), @MS or s@MS (the first record with a timestamp >= MS, "
                     "ms since the epoch); default: the group's committed offsets, else beginning" },
    [OPT_MAX] = { "max", 'c', "N", (1u << SL_VERB_PRODUCE) | (1u << SL_VERB_CONSUME),
                  "stop after N records in all" },
    [OPT_EXIT] = { "exit", 'e', NULL, 1u << SL_VERB_CONSUME,
                   "exit at the end of every partition: the default (kcat's default is to wait; "
                   "sluice waits with --follow)" },
    [OPT_FOLLOW] = { "follow", 0, NULL, 1u << SL_VERB_CONSUME,
                     "at the end, wait for new records until SIGINT/SIGTERM, then exit 0" },
    [OPT_FORMAT] = { "format", 'f', "FMT", 1u << SL_VERB_CONSUME,
                     "print each record as FMT (letters below; default '%s\\n', the value)" },
    [OPT_KEY_DELIMITER] = { "key-delimiter", 'K', "DELIM", (1u << SL_VERB_PRODUCE) | (1u << SL_VERB_CONSUME),
                            "produce: each line is KEY<DELIM>VALUE (a line without DELIM has no key); "
                            "consume: print KEY<DELIM>VALUE; escapes as in FMT, e.g. -K '\\t'" },
    [OPT_METADATA] = { "metadata", 0, NULL, 1u << SL_VERB_CONSUME,
                       "one JSON object per record: partition, offset, timestamp, key, headers, value" },
    [OPT_GROUP] = { "group", 'G', "GROUP", (1u << SL_VERB_DESCRIBE) | (1u << SL_VERB_CONSUME),
                    "consume: start at GROUP's committed offsets and commit what was printed; "
                    "describe: only GROUP" },
    [OPT_KEY_PATH] = { "key-path", 0, "PATH", 1u << SL_VERB_PRODUCE,
                       "the key is the text of PATH (a.b) in each JSON line (strings as they are, "
                       "numbers as written)" },
    [OPT_KEY] = { "key", 'k', "KEY", 1u << SL_VERB_PRODUCE,
                  "the key of every record that gets none from -K or --key-path" },
    [OPT_HEADER] = { "header", 'H', "NAME=VALUE", 1u << SL_VERB_PRODUCE,
                     "add this header to every record; repeatable" },
    [OPT_HELP] = { "help", 'h', NULL, ALL_VERBS, "this help" },
};

static bool is_given(const sl_topic_args *args, option_id id)
{
    return (args->given >> id) & 1u;
}

/* "-o/--offset" or "--follow". */
static const char *label(option_id id, char *out, size_t size)
{
    if (options[id].short_name) snprintf(out, size, "-%c/--%s", options[id].short_name, options[id].long_name);
    else snprintf(out, size, "--%s", options[id].long_name);
    return out;
}

static int parse_number(option_id id, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char name[64];
    char *end = NULL;
    errno = 0;
    long long number = strtoll(text, &end, 10);
    if (!*text || *end || errno == ERANGE) {
        fprintf(stderr, "sluice topic: %s '%s' is not an integer\n", label(id, name, sizeof name), text);
        return SL_EXIT_USAGE;
    }
    if (number < min || number > max) {
        fprintf(stderr, "sluice topic: %s %lld is out of range %" PRId64 "..%" PRId64 "\n",
                label(id, name, sizeof name), number, min, max);
        return SL_EXIT_USAGE;
    }
    *out = number;
    return SL_EXIT_OK;
}

static int parse_offset(const char *text, sl_offset_spec *spec)
{
    *spec = (sl_offset_spec){ .text = text };
    if (strcmp(text, "beginning") == 0) {
        spec->kind = SL_OFFSET_BEGINNING;
        return SL_EXIT_OK;
    }
    if (strcmp(text, "end") == 0) {
        spec->kind = SL_OFFSET_END;
        return SL_EXIT_OK;
    }
    const char *digits = text;
    spec->kind = SL_OFFSET_ABSOLUTE;
    if (text[0] == '-') spec->kind = SL_OFFSET_FROM_END, digits = text + 1;
    else if (text[0] == '@') spec->kind = SL_OFFSET_TIMESTAMP, digits = text + 1;
    else if (strncmp(text, "s@", 2) == 0) spec->kind = SL_OFFSET_TIMESTAMP, digits = text + 2;
    char *end = NULL;
    errno = 0;
    long long number = *digits >= '0' && *digits <= '9' ? strtoll(digits, &end, 10) : -1;
    if (number < 0 || *end || errno == ERANGE) {
        fprintf(stderr, "sluice topic: -o/--offset '%s' is not one of beginning, end, N (an offset), -N (N "
                        "records before the end), @MS or s@MS (a timestamp, ms since the epoch)\n", text);
        return SL_EXIT_USAGE;
    }
    spec->value = number;
    return SL_EXIT_OK;
}

/* NAME=VALUE with a non-empty NAME. */
static int check_pair(option_id id, const char *text)
{
    const char *equals = strchr(text, '=');
    if (equals && equals != text) return SL_EXIT_OK;
    char name[64];
    fprintf(stderr, "sluice topic: %s '%s' is not NAME=VALUE\n", label(id, name, sizeof name), text);
    return SL_EXIT_USAGE;
}

static int set_option(option_id id, const char *value, sl_topic_args *args)
{
    int64_t number = 0;
    int code = SL_EXIT_OK;
    switch (id) {
    case OPT_DATA_DIR: args->data_dir = value; break;
    case OPT_CONFIG: args->config = value; break;
    case OPT_KAFKA: args->kafka = value; break;
    case OPT_PROPERTY:
        if ((code = check_pair(id, value))) break;
        if (args->n_properties == SL_TOPIC_MAX_PROPERTIES) {
            fprintf(stderr, "sluice topic: at most %d -X properties\n", SL_TOPIC_MAX_PROPERTIES);
            return SL_EXIT_USAGE;
        }
        args->properties[args->n_properties++] = value;
        break;
    case OPT_PARTITIONS:
        code = parse_number(id, value, 1, SL_TOPIC_MAX_PARTITIONS, &number);
        args->partitions = number;
        break;
    case OPT_COMPRESSION: args->compression = value; break;
    case OPT_PARTITION:
        code = parse_number(id, value, 0, INT32_MAX, &number);
        args->partition = (int32_t)number;
        break;
    case OPT_OFFSET: code = parse_offset(value, &args->offset); break;
    case OPT_MAX: code = parse_number(id, value, 1, INT64_MAX, &args->max_records); break;
    case OPT_EXIT: args->is_exit = true; break;
    case OPT_FOLLOW: args->is_follow = true; break;
    case OPT_FORMAT: args->format_text = value; break;
    case OPT_KEY_DELIMITER: {
        char why[256];
        free(args->key_delimiter);
        args->key_delimiter = sl_topic_unescape(value, &args->key_delimiter_len, why, sizeof why);
        if (!args->key_delimiter) {
            fprintf(stderr, "sluice topic: -K/--key-delimiter '%s': %s\n", value, why);
            return SL_EXIT_USAGE;
        }
        if (args->key_delimiter_len == 0) {
            fprintf(stderr, "sluice topic: -K/--key-delimiter is empty\n");
            return SL_EXIT_USAGE;
        }
        break;
    }
    case OPT_METADATA: args->has_metadata = true; break;
    case OPT_GROUP: args->group = value; break;
    case OPT_KEY_PATH: args->key_path = value; break;
    case OPT_KEY: args->fixed_key = value; break;
    case OPT_HEADER:
        if ((code = check_pair(id, value))) break;
        if (args->n_headers == SL_TOPIC_MAX_HEADERS) {
            fprintf(stderr, "sluice topic: at most %d -H headers\n", SL_TOPIC_MAX_HEADERS);
            return SL_EXIT_USAGE;
        }
        args->headers[args->n_headers++] = value;
        break;
    case OPT_HELP:
    case OPT_COUNT: break;
    }
    return code;
}

static int set_any(void *args, int id, const char *value)
{
    return set_option((option_id)id, value, args);
}

int sl_topic_options_parse(int argc, char **argv, sl_topic_args *args, const char **verb_text)
{
    *args = (sl_topic_args){ .partition = -1 };
    *verb_text = NULL;
    int code = sl_cli_options_scan(argc, argv, options, OPT_COUNT, OPT_HELP, "topic", set_any, args, &args->given);
    if (code) return code;
    if (optind < argc) *verb_text = argv[optind];
    if (optind + 1 < argc) args->name = argv[optind + 1];
    if (optind + 2 < argc) {
        fprintf(stderr, "sluice topic: unexpected '%s' after the topic name\n", argv[optind + 2]);
        return SL_EXIT_USAGE;
    }
    return SL_EXIT_OK;
}

static const char *verb_name(int verb)
{
    return verb >= 0 && verb < SL_VERB_COUNT ? sl_topic_verb_name((sl_topic_verb_id)verb) : NULL;
}

/* "consume" or "produce and consume". */
static const char *verbs_of(unsigned verbs, char *out, size_t size)
{
    return sl_cli_verbs_of(verbs, verb_name, out, size);
}

static int refuse(const sl_topic_args *args, const char *message)
{
    fprintf(stderr, "sluice topic %s: %s\n", sl_topic_verb_name(args->verb), message);
    return SL_EXIT_USAGE;
}

static int compile_format(sl_topic_args *args)
{
    char why[256] = "out of memory";
    if (args->has_metadata) args->format = sl_topic_format_json();
    else if (args->format_text) args->format = sl_topic_format_compile(args->format_text, why, sizeof why);
    else if (args->key_delimiter) args->format = sl_topic_format_keyed(args->key_delimiter, args->key_delimiter_len);
    else args->format = sl_topic_format_compile("%s\n", why, sizeof why);
    if (args->format) return SL_EXIT_OK;
    if (args->format_text) {
        fprintf(stderr, "sluice topic consume: -f/--format '%s': %s\n", args->format_text, why);
        return SL_EXIT_USAGE;
    }
    fprintf(stderr, "sluice topic consume: %s\n", why);
    return SL_EXIT_FAILURE;
}

int sl_topic_options_check(sl_topic_args *args)
{
    unsigned bit = 1u << args->verb;
    for (int i = 0; i < OPT_COUNT; i++) {
        if (!is_given(args, (option_id)i) || (options[i].verbs & bit)) continue;
        char name[64], verbs[128], message[256];
        snprintf(message, sizeof message, "%s applies to %s, not to %s", label((option_id)i, name, sizeof name),
                 verbs_of(options[i].verbs, verbs, sizeof verbs), sl_topic_verb_name(args->verb));
        return refuse(args, message);
    }
    if (args->kafka && (args->data_dir || args->config))
        return refuse(args, "--kafka and --data-dir/--config name different places to work on: give one");
    if (args->data_dir && args->config)
        return refuse(args, "--data-dir and --config both name the data dir: give one");
    if (!args->kafka && args->n_properties)
        return refuse(args, "-X/--property sets librdkafka properties: it needs --kafka");
    if (args->kafka && args->compression)
        return refuse(args, "--compression applies to embedded topics; on Kafka the topic's compression.type "
                            "(or the producer's, -X compression.type=...) decides");
    if (args->compression) {
        sl_codec codec;
        if (sl_codec_parse(args->compression, &codec)) {
            char message[256];
            snprintf(message, sizeof message, "--compression '%s' is not one of none, lz4, zstd, gzip, snappy",
                     args->compression);
            return refuse(args, message);
        }
    }
    if (args->is_follow && args->is_exit)
        return refuse(args, "-e/--exit (stop at the end) and --follow (wait at the end) contradict each other");
    int n_outputs = (args->format_text != NULL) + args->has_metadata +
                    (args->verb == SL_VERB_CONSUME && args->key_delimiter != NULL);
    if (n_outputs > 1)
        return refuse(args, "-f/--format, --metadata and -K/--key-delimiter each choose the output: give one");
    if (args->key_delimiter && args->key_path)
        return refuse(args, "-K/--key-delimiter and --key-path each choose where keys come from: give one");
    return args->verb == SL_VERB_CONSUME ? compile_format(args) : SL_EXIT_OK;
}

void sl_topic_options_usage(FILE *out)
{
    static const unsigned plain[] = { ALL_VERBS };
    sl_cli_options_usage(out, "options ([the verbs an option applies to]; the others apply to every verb):", options,
                         OPT_COUNT, plain, sizeof plain / sizeof plain[0], verb_name);
}

void sl_topic_args_free(sl_topic_args *args)
{
    sl_topic_format_free(args->format);
    args->format = NULL;
    free(args->key_delimiter);
    args->key_delimiter = NULL;
}
