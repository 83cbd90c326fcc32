/* topic_args.h — what `sluice topic` parsed from its command line, shared by
 * the embedded-log verbs (cmd_topic_log.c) and the Kafka ones
 * (cmd_topic_kafka.c) so both read the same options the same way.
 * topic_options.c fills it; cmd_topic.c dispatches it. */
#ifndef SL_TOPIC_ARGS_H
#define SL_TOPIC_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/topic_format.h"

/* The verbs, in the order of the verb table (cmd_topic.c). */
typedef enum sl_topic_verb_id {
    SL_VERB_LIST = 0,
    SL_VERB_DESCRIBE,
    SL_VERB_CREATE,
    SL_VERB_DELETE,
    SL_VERB_PRODUCE,
    SL_VERB_CONSUME,
    SL_VERB_COUNT,
} sl_topic_verb_id;

/* The name of a verb (cmd_topic.c's verb table), for help and messages. */
const char *sl_topic_verb_name(sl_topic_verb_id verb);

/* Where consume starts in each partition (-o). */
typedef enum sl_offset_kind {
    SL_OFFSET_DEFAULT = 0,   /* the group's committed offset, else the start */
    SL_OFFSET_BEGINNING,     /* the partition's first record */
    SL_OFFSET_END,           /* after the last record: only new records */
    SL_OFFSET_ABSOLUTE,      /* value: this offset, start..end or an error */
    SL_OFFSET_FROM_END,      /* value: this many records before the end (from the start when fewer) */
    SL_OFFSET_TIMESTAMP,     /* value: the first record with timestamp >= value ms */
} sl_offset_kind;

typedef struct sl_offset_spec {
    sl_offset_kind kind;
    int64_t value;
    const char *text;        /* as given, for messages */
} sl_offset_spec;

/* The most partitions `create`/`produce --partitions` accept (the embedded
 * log's own limit, applied to Kafka topics as well). */
#define SL_TOPIC_MAX_PARTITIONS 10000
/* The most -H headers and -X properties one command takes. */
#define SL_TOPIC_MAX_HEADERS 64
#define SL_TOPIC_MAX_PROPERTIES 64

typedef struct sl_topic_args {
    sl_topic_verb_id verb;
    const char *name;            /* NULL for list */
    const char *data_dir;        /* --data-dir; NULL = ./data */
    const char *config;          /* --config FILE: use FILE's data_dir */
    const char *kafka;           /* -b/--kafka BROKERS: a Kafka cluster instead of the embedded log */
    const char *properties[SL_TOPIC_MAX_PROPERTIES]; /* -X name=value, for --kafka */
    size_t n_properties;
    int64_t partitions;          /* --partitions; 0 = not given */
    int32_t partition;           /* -p; -1 = every partition (consume) / by key (produce) */
    sl_offset_spec offset;       /* -o */
    int64_t max_records;         /* -c; 0 = no limit */
    const char *group;           /* -G/--group */
    const char *key_path;        /* --key-path: key from a path into each JSON line */
    const char *fixed_key;       /* -k: key of records that get none otherwise */
    char *key_delimiter;         /* -K, escapes decoded (owned); NULL = not given */
    size_t key_delimiter_len;
    const char *headers[SL_TOPIC_MAX_HEADERS]; /* -H name=value, checked to have '=' */
    size_t n_headers;
    const char *format_text;     /* -f as given */
    sl_topic_format *format;     /* consume's output, compiled (owned) */
    const char *compression;     /* --compression; NULL = the topic connector's default */
    bool has_metadata;           /* --metadata: one JSON object per record */
    bool is_follow;              /* --follow: wait for new records until SIGINT/SIGTERM */
    bool is_exit;                /* -e: stop at the end of every partition (the default) */
    uint64_t given;              /* bit i: row i of the option table was given (topic_options.c) */
} sl_topic_args;

/* Frees what args owns (the format and the decoded key delimiter). */
void sl_topic_args_free(sl_topic_args *args);

#endif
