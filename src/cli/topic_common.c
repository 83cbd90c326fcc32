/* topic_common.c — the checks, the stop signal and the record output both
 * topic backends share (see topic_common.h). */
#include "cli/topic_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json.h"
#include "core/key_text.h"
#include "core/value.h"

static volatile sig_atomic_t stop_requested;

int sl_topic_check_partition(const char *verb, const char *topic, int32_t partition, int32_t n_partitions)
{
    if (partition >= 0 && partition < n_partitions) return SL_EXIT_OK;
    fprintf(stderr, "sluice topic %s: topic %s has %" PRId32 " partition%s (0..%" PRId32 "); no partition %" PRId32
            "\n", verb, topic, n_partitions, n_partitions == 1 ? "" : "s", n_partitions - 1, partition);
    return SL_EXIT_USAGE;
}

int sl_topic_partition_mismatch(const char *verb, const char *topic, int32_t have, int64_t asked)
{
    fprintf(stderr, "sluice topic %s: topic '%s' exists with %" PRId32 " partitions, not the %" PRId64
            " asked for\n", verb, topic, have, asked);
    return SL_EXIT_USAGE;
}

int sl_topic_consume_start(const sl_offset_spec *spec, const char *topic, int32_t partition, int64_t low,
                          int64_t high, int64_t hint, int64_t *start)
{
    switch (spec->kind) {
    case SL_OFFSET_DEFAULT: *start = hint < low ? low : hint; break;
    case SL_OFFSET_BEGINNING: *start = low; break;
    case SL_OFFSET_END: *start = high; break;
    case SL_OFFSET_FROM_END: *start = spec->value >= high - low ? low : high - spec->value; break;
    case SL_OFFSET_TIMESTAMP: *start = hint < 0 ? high : hint; break;
    case SL_OFFSET_ABSOLUTE:
        if (spec->value < low || spec->value > high) {
            fprintf(stderr, "sluice topic consume: topic %s partition %" PRId32 ": offset %" PRId64
                    " is out of range %" PRId64 "..%" PRId64 " (%" PRId64 " = the end: only new records)\n",
                    topic, partition, spec->value, low, high, high);
            return SL_EXIT_USAGE;
        }
        *start = spec->value;
        break;
    }
    return SL_EXIT_OK;
}

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

void sl_topic_signals_install(sl_topic_signals *saved)
{
    struct sigaction action = { .sa_handler = on_stop_signal };
    sigemptyset(&action.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &action, &saved->previous_int);
    sigaction(SIGTERM, &action, &saved->previous_term);
}

void sl_topic_signals_restore(const sl_topic_signals *saved)
{
    sigaction(SIGINT, &saved->previous_int, NULL);
    sigaction(SIGTERM, &saved->previous_term, NULL);
}

bool sl_topic_stop_requested(void)
{
    return stop_requested != 0;
}

int sl_topic_write_record(const sl_topic_format *format, const char *topic, const sl_record *record,
                          sl_buffer *scratch)
{
    sl_buffer_clear(scratch);
    if (sl_topic_format_render(format, topic, record, scratch) != SL_OK) {
        fprintf(stderr, "sluice topic consume: out of memory printing offset %" PRId64 " of partition %" PRId32
                "\n", record->offset, record->partition);
        return SL_EXIT_FAILURE;
    }
    if (scratch->len == 0 || fwrite(scratch->data, 1, scratch->len, stdout) == scratch->len) return SL_EXIT_OK;
    fprintf(stderr, "sluice topic consume: writing to stdout: %s\n", strerror(errno));
    return SL_EXIT_FAILURE;
}

int sl_topic_keys_init(const sl_topic_args *args, sl_topic_keys *keys)
{
    *keys = (sl_topic_keys){ .n_path = 0 };
    if (args->key_delimiter) keys->delimiter = (sl_str){ args->key_delimiter, args->key_delimiter_len };
    if (args->fixed_key) keys->fixed = sl_str_from(args->fixed_key);
    if (!args->key_path) return SL_EXIT_OK;
    keys->n_path = sl_path_split(sl_str_from(args->key_path), keys->path, SL_TOPIC_MAX_KEY_PARTS);
    if (keys->n_path > 0) return SL_EXIT_OK;
    fprintf(stderr, "sluice topic produce: --key-path '%s' is not a path like a.b (at most %d parts, none empty)\n",
            args->key_path, SL_TOPIC_MAX_KEY_PARTS);
    return SL_EXIT_USAGE;
}

int sl_topic_keys_split(const sl_topic_keys *keys, sl_arena *arena, sl_buffer *scratch, sl_str line, sl_str *key,
                        sl_str *value)
{
    *key = (sl_str){ NULL, 0 };
    *value = line;
    if (keys->delimiter.ptr) {
        const char *at = memmem(line.ptr, line.len, keys->delimiter.ptr, keys->delimiter.len);
        if (at) {
            size_t key_len = (size_t)(at - line.ptr);
            *key = (sl_str){ line.ptr, key_len };
            *value = (sl_str){ at + keys->delimiter.len, line.len - key_len - keys->delimiter.len };
        }
    } else if (keys->n_path > 0) {
        sl_value parsed;
        sl_error err;
        const sl_value *found = NULL;
        if (sl_json_parse(arena, line.ptr, line.len, &parsed, &err) == SL_OK)
            found = sl_value_get_path(&parsed, keys->path, (size_t)keys->n_path);
        if (sl_key_text(found, scratch, key) != SL_OK) return SL_ENOMEM;
    }
    if (!key->ptr) *key = keys->fixed;
    return SL_OK;
}

size_t sl_topic_headers(const sl_topic_args *args, sl_header headers[SL_TOPIC_MAX_HEADERS])
{
    for (size_t i = 0; i < args->n_headers; i++) {
        const char *text = args->headers[i];
        const char *equals = strchr(text, '=');
        headers[i].key = (sl_str){ text, (size_t)(equals - text) };
        headers[i].value = sl_str_from(equals + 1);
    }
    return args->n_headers;
}
