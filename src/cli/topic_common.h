/* topic_common.h — what the embedded-log and the Kafka topic verbs do the
 * same way, so both answer alike: the partition and offset range checks
 * (exit 2 giving the valid range), the partition-count mismatch, the
 * SIGINT/SIGTERM stop of consume --follow, writing a record to stdout, and
 * how produce takes a key, a value and headers from its input. */
#ifndef SL_TOPIC_COMMON_H
#define SL_TOPIC_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/topic_args.h"
#include "cli/topic_format.h"
#include "core/arena.h"
#include "core/batch.h"
#include "core/buffer.h"

/* SL_EXIT_OK when 0 <= partition < n_partitions; else SL_EXIT_USAGE after
 * "sluice topic VERB: topic T has N partitions (0..N-1); no partition P". */
int sl_topic_check_partition(const char *verb, const char *topic, int32_t partition, int32_t n_partitions);

/* SL_EXIT_USAGE after "sluice topic VERB: topic 'T' exists with N
 * partitions, not the M asked for". */
int sl_topic_partition_mismatch(const char *verb, const char *topic, int32_t have, int64_t asked);

/* Where consume starts in a partition holding offsets low..high-1:
 * spec resolved against low/high; hint is the group's committed offset
 * for SL_OFFSET_DEFAULT and the backend's first offset at or after the
 * timestamp for SL_OFFSET_TIMESTAMP (-1 = none: high). An absolute offset
 * outside low..high is SL_EXIT_USAGE after a message giving that range. */
int sl_topic_consume_start(const sl_offset_spec *spec, const char *topic, int32_t partition, int64_t low,
                          int64_t high, int64_t hint, int64_t *start);

/* SIGINT and SIGTERM set the stop flag (installed for consume; restored
 * after), so a --follow read ends cleanly: output flushed, group committed,
 * exit 0. */
typedef struct sl_topic_signals {
    struct sigaction previous_int;
    struct sigaction previous_term;
} sl_topic_signals;

void sl_topic_signals_install(sl_topic_signals *saved);
void sl_topic_signals_restore(const sl_topic_signals *saved);
bool sl_topic_stop_requested(void);

/* Renders record with format into scratch and writes it to stdout.
 * SL_EXIT_OK, or SL_EXIT_FAILURE after saying why. */
int sl_topic_write_record(const sl_topic_format *format, const char *topic, const sl_record *record,
                          sl_buffer *scratch);

/* Where produce's keys come from: -K splits each line at the first
 * delimiter (no delimiter: no key), --key-path takes the text of a path
 * into the JSON line (see key_text.h), -k is the key of a line that gets
 * none from those. */
#define SL_TOPIC_MAX_KEY_PARTS 16

typedef struct sl_topic_keys {
    sl_str path[SL_TOPIC_MAX_KEY_PARTS];
    int n_path;                  /* 0 = no --key-path */
    sl_str delimiter;            /* ptr NULL = no -K */
    sl_str fixed;                /* ptr NULL = no -k */
} sl_topic_keys;

/* SL_EXIT_OK, or SL_EXIT_USAGE after naming a --key-path that is no path. */
int sl_topic_keys_init(const sl_topic_args *args, sl_topic_keys *keys);

/* Splits one input line into key (ptr NULL = none) and value. The key may
 * point into line, into arena (a --key-path's parse of line) or into
 * scratch; copy it to keep it past the next call. SL_ENOMEM on no memory. */
int sl_topic_keys_split(const sl_topic_keys *keys, sl_arena *arena, sl_buffer *scratch, sl_str line, sl_str *key,
                        sl_str *value);

/* The -H headers as (name, value) pairs pointing into args' strings;
 * returns their count. */
size_t sl_topic_headers(const sl_topic_args *args, sl_header headers[SL_TOPIC_MAX_HEADERS]);

#endif
