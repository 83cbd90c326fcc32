/* cmd_topic_log.c — `sluice topic list|describe|create|delete|produce|consume`
 * on the embedded log: the same columns, options and checks as the Kafka
 * verbs (cmd_topic_kafka.c), through log.h.
 *
 * produce appends stdin's lines in batches: a keyed record goes to the
 * partition Kafka's murmur2 partitioner picks, unkeyed ones to one
 * partition per batch in turn, all of them to -p P when given. consume reads
 * each partition from its start offset (-o, else the group's committed
 * offset, else the start), prints through the compiled format and, with
 * --group, commits the offset after the last record printed of each
 * partition it printed from. */
#include "cli/cmd_topic_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/topic_common.h"
#include "connectors/topic/topic.h"
#include "core/buffer.h"
#include "core/clock.h"

#define PRODUCE_BATCH 1024
#define READ_BYTES (1 << 20)

static int fail_with(const char *verb, sl_error *err)
{
    fprintf(stderr, "sluice topic %s: %s\n", verb, err->message);
    return sl_exit_code_for(err->code);
}

int sl_topic_log_list(sl_log *log, const sl_topic_args *args)
{
    (void)args;
    sl_error err;
    char **names = NULL;
    size_t n = 0;
    if (sl_log_topic_list(log, &names, &n, &err)) return fail_with("list", &err);
    printf("%-40s %10s %14s\n", "topic", "partitions", "records");
    for (size_t i = 0; i < n; i++) {
        sl_topic *topic;
        if (sl_log_topic_open(log, names[i], &topic, &err)) {
            sl_log_names_free(names, n);
            return fail_with("list", &err);
        }
        int64_t records = 0;
        for (int32_t p = 0; p < sl_topic_partitions(topic); p++)
            records += sl_topic_end_offset(topic, p) - sl_topic_start_offset(topic, p);
        printf("%-40s %10" PRId32 " %14" PRId64 "\n", names[i], sl_topic_partitions(topic), records);
    }
    sl_log_names_free(names, n);
    return SL_EXIT_OK;
}

/* One group's rows of describe: committed offset ("-" where none) and lag. */
static int describe_group(sl_log *log, sl_topic *topic, const char *group, int64_t *offsets, bool *has_header)
{
    sl_error err;
    const char *name = sl_topic_name(topic);
    int32_t n_partitions = sl_topic_partitions(topic);
    if (sl_log_group_load(log, group, name, offsets, n_partitions, &err)) return fail_with("describe", &err);
    if (!*has_header) printf("\n%-30s %10s %16s %12s\n", "group", "partition", "committed", "lag");
    *has_header = true;
    for (int32_t p = 0; p < n_partitions; p++) {
        int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
        if (offsets[p] < 0) printf("%-30s %10" PRId32 " %16s %12" PRId64 "\n", group, p, "-", end - start);
        else printf("%-30s %10" PRId32 " %16" PRId64 " %12" PRId64 "\n", group, p, offsets[p], end - offsets[p]);
    }
    return SL_EXIT_OK;
}

int sl_topic_log_describe(sl_log *log, const sl_topic_args *args)
{
    sl_error err;
    sl_topic *topic;
    if (sl_log_topic_open(log, args->name, &topic, &err)) return fail_with("describe", &err);
    int32_t n_partitions = sl_topic_partitions(topic);
    printf("topic %s: %" PRId32 " partitions, compression %s\n", args->name, n_partitions,
           sl_codec_name(sl_topic_compression(topic)));
    printf("%10s %16s %16s %14s\n", "partition", "start offset", "end offset", "records");
    for (int32_t p = 0; p < n_partitions; p++) {
        int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
        printf("%10" PRId32 " %16" PRId64 " %16" PRId64 " %14" PRId64 "\n", p, start, end, end - start);
    }
    char **groups = NULL;
    size_t n_groups = 0;
    if (!args->group && sl_log_group_list(log, args->name, &groups, &n_groups, &err))
        return fail_with("describe", &err);
    int64_t *offsets = calloc((size_t)n_partitions, sizeof *offsets);
    int code = offsets ? SL_EXIT_OK : SL_EXIT_FAILURE;
    bool has_header = false;
    if (offsets && args->group) code = describe_group(log, topic, args->group, offsets, &has_header);
    for (size_t g = 0; g < n_groups && code == SL_EXIT_OK; g++)
        code = describe_group(log, topic, groups[g], offsets, &has_header);
    free(offsets);
    sl_log_names_free(groups, n_groups);
    return code;
}

/* The codec of topics created here when --compression is not given: the
 * default of the topic connector's own `compression` setting. */
static const char *default_compression(void)
{
    for (const sl_option *option = sl_topic_sink.options; option->name; option++)
        if (strcmp(option->name, "compression") == 0) return option->default_value;
    return "none";
}

/* Opens the topic, creating it when absent (--partitions, else 1). An
 * existing topic must match what was asked: partitions and compression. */
static int ensure_topic(sl_log *log, const char *verb, const sl_topic_args *args, sl_topic **out)
{
    sl_error err;
    sl_topic *topic;
    int rc = sl_log_topic_open(log, args->name, &topic, &err);
    if (rc == SL_OK) {
        if (args->partitions > 0 && args->partitions != sl_topic_partitions(topic))
            return sl_topic_partition_mismatch(verb, args->name, sl_topic_partitions(topic), args->partitions);
        sl_codec asked;
        if (args->compression && sl_codec_parse(args->compression, &asked) == SL_OK &&
            asked != sl_topic_compression(topic)) {
            fprintf(stderr, "sluice topic %s: topic '%s' exists with compression %s, not the %s asked for\n", verb,
                    args->name, sl_codec_name(sl_topic_compression(topic)), args->compression);
            return SL_EXIT_USAGE;
        }
        *out = topic;
        return SL_EXIT_OK;
    }
    if (rc != SL_ENOTFOUND) return fail_with(verb, &err);
    sl_topic_config config = { .partitions = args->partitions > 0 ? (int32_t)args->partitions : 1 };
    const char *compression = args->compression ? args->compression : default_compression();
    if (sl_codec_parse(compression, &config.compression)) {
        fprintf(stderr, "sluice topic %s: compression '%s' is not one of none, lz4, zstd, gzip, snappy\n", verb,
                compression);
        return SL_EXIT_USAGE;
    }
    if (sl_log_topic_create(log, args->name, &config, &topic, &err)) return fail_with(verb, &err);
    *out = topic;
    return SL_EXIT_OK;
}

int sl_topic_log_create(sl_log *log, const sl_topic_args *args)
{
    sl_topic *topic;
    return ensure_topic(log, "create", args, &topic);
}

int sl_topic_log_delete(sl_log *log, const sl_topic_args *args)
{
    sl_error err;
    return sl_log_topic_delete(log, args->name, &err) ? fail_with("delete", &err) : SL_EXIT_OK;
}

/* Appends batch's records: to partition (>= 0), else keyed ones by murmur2
 * and the others to sticky; group has room for a whole batch. */
static int append_batch(sl_topic *topic, sl_batch *batch, int32_t partition, int32_t sticky, sl_record *group,
                        sl_error *err)
{
    int32_t n_partitions = sl_topic_partitions(topic);
    for (int32_t p = 0; p < n_partitions; p++) {
        if (partition >= 0 && p != partition) continue;
        size_t n = 0;
        for (size_t i = 0; i < batch->n_records; i++) {
            sl_record *record = &batch->records[i];
            int32_t target = partition >= 0   ? partition
                             : record->key.ptr ? sl_log_partition_for_key(record->key, n_partitions)
                                               : sticky;
            if (target == p) group[n++] = *record;
        }
        if (n && sl_topic_append(topic, p, group, n, NULL, err)) return err->code;
    }
    return SL_OK;
}

int sl_topic_log_produce(sl_log *log, const sl_topic_args *args)
{
    sl_topic_keys keys;
    sl_header headers[SL_TOPIC_MAX_HEADERS];
    size_t n_headers = sl_topic_headers(args, headers);
    int code = sl_topic_keys_init(args, &keys);
    sl_topic *topic = NULL;
    if (code == SL_EXIT_OK) code = ensure_topic(log, "produce", args, &topic);
    if (code == SL_EXIT_OK && args->partition >= 0)
        code = sl_topic_check_partition("produce", args->name, args->partition, sl_topic_partitions(topic));
    if (code) return code;
    sl_error err;
    sl_error_clear(&err);
    sl_batch *batch = sl_batch_new(PRODUCE_BATCH);
    sl_record *group = malloc(PRODUCE_BATCH * sizeof *group);
    if (!batch || !group) {
        sl_batch_free(batch);
        free(group);
        fprintf(stderr, "sluice topic produce: out of memory\n");
        return SL_EXIT_FAILURE;
    }
    int32_t sticky = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    int64_t line_number = 0, produced = 0;
    sl_buffer key_scratch = SL_BUFFER_INIT;
    bool is_out_of_memory = false, is_at_max = false;
    code = SL_EXIT_OK;
    for (;;) {
        ssize_t len = is_at_max ? -1 : getline(&line, &line_capacity, stdin);
        bool is_end = len < 0;
        if (!is_end) {
            line_number++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
            if (len == 0) continue;
            sl_record *record = sl_batch_add(batch);
            char *copy = sl_arena_strndup(batch->arena, line, (size_t)len);
            sl_str key, value;
            is_out_of_memory = !copy || sl_topic_keys_split(&keys, batch->arena, &key_scratch,
                                                            (sl_str){ copy, (size_t)len }, &key, &value) != SL_OK;
            if (!is_out_of_memory && key.ptr && key.ptr == key_scratch.data) {
                key.ptr = sl_arena_strndup(batch->arena, key.ptr, key.len);
                is_out_of_memory = !key.ptr;
            }
            if (is_out_of_memory) break;
            record->raw = value;
            record->key = key;
            record->headers = n_headers ? headers : NULL;
            record->n_headers = n_headers;
            record->timestamp_ms = sl_clock_wall_ms();
            is_at_max = args->max_records && produced + (int64_t)batch->n_records >= args->max_records;
        }
        if (batch->n_records > 0 && (is_end || is_at_max || sl_batch_is_full(batch))) {
            if (append_batch(topic, batch, args->partition, sticky, group, &err)) {
                code = fail_with("produce", &err);
                break;
            }
            produced += (int64_t)batch->n_records;
            sticky = (sticky + 1) % sl_topic_partitions(topic);
            sl_batch_reset(batch);
        }
        if (is_end) break;
    }
    sl_buffer_free(&key_scratch);
    free(line);
    free(group);
    sl_batch_free(batch);
    if (is_out_of_memory) {
        fprintf(stderr, "sluice topic produce: out of memory at line %" PRId64 " of stdin\n", line_number);
        return SL_EXIT_FAILURE;
    }
    if (code) return code;
    if (sl_topic_flush(topic, &err)) return fail_with("produce", &err);
    fprintf(stderr, "produced %" PRId64 " records to %s\n", produced, args->name);
    return SL_EXIT_OK;
}

/* The first offset of partition p whose record has a timestamp >= ms; -1 when none. */
static int offset_for_time(sl_topic *topic, int32_t p, int64_t ms, sl_batch *batch, int64_t *found, sl_error *err)
{
    int64_t scanned;
    return sl_topic_offset_for_time(topic, p, 0, ms, batch, found, &scanned, err);
}

/* positions[p] = where partition p starts (unread partitions untouched). */
static int start_positions(sl_topic *topic, const sl_topic_args *args, const int64_t *committed, sl_batch *batch,
                           int64_t *positions)
{
    sl_error err;
    for (int32_t p = 0; p < sl_topic_partitions(topic); p++) {
        if (args->partition >= 0 && p != args->partition) continue;
        int64_t hint = committed[p];
        if (args->offset.kind == SL_OFFSET_TIMESTAMP && offset_for_time(topic, p, args->offset.value, batch, &hint,
                                                                        &err))
            return fail_with("consume", &err);
        int code = sl_topic_consume_start(&args->offset, args->name, p, sl_topic_start_offset(topic, p),
                                         sl_topic_end_offset(topic, p), hint, &positions[p]);
        if (code) return code;
    }
    return SL_EXIT_OK;
}

int sl_topic_log_consume(sl_log *log, const sl_topic_args *args)
{
    sl_error err;
    sl_topic *topic;
    if (sl_log_topic_open(log, args->name, &topic, &err)) return fail_with("consume", &err);
    int32_t n_partitions = sl_topic_partitions(topic);
    if (args->partition >= 0) {
        int code = sl_topic_check_partition("consume", args->name, args->partition, n_partitions);
        if (code) return code;
    }
    /* committed: the group's offsets, moved only for partitions something
     * was printed from (so -p/-o reads leave the rest alone). */
    int64_t *positions = calloc((size_t)n_partitions, sizeof *positions);
    int64_t *committed = calloc((size_t)n_partitions, sizeof *committed);
    sl_batch *batch = sl_batch_new(1024);
    sl_buffer out = SL_BUFFER_INIT;
    int code = SL_EXIT_FAILURE;
    sl_topic_signals signals;
    bool has_signals = false;
    if (!positions || !committed || !batch) goto done;
    for (int32_t p = 0; p < n_partitions; p++) committed[p] = -1;
    if (args->group && sl_log_group_load(log, args->group, args->name, committed, n_partitions, &err)) {
        code = fail_with("consume", &err);
        goto done;
    }
    if ((code = start_positions(topic, args, committed, batch, positions))) goto done;
    code = SL_EXIT_FAILURE;
    sl_topic_signals_install(&signals);
    has_signals = true;
    int64_t printed = 0;
    bool is_at_max = false;
    while (!is_at_max && !sl_topic_stop_requested()) {
        bool has_read = false;
        for (int32_t p = 0; p < n_partitions && !is_at_max; p++) {
            if (args->partition >= 0 && p != args->partition) continue;
            sl_batch_reset(batch);
            int64_t next = positions[p];
            if (sl_topic_read(topic, p, positions[p], READ_BYTES, batch, &next, &err)) {
                code = fail_with("consume", &err);
                goto done;
            }
            /* Advance (and later commit) only past what was printed: with
             * -c the rest of the batch stays for the next consume. */
            size_t n_printed = 0;
            for (size_t i = 0; i < batch->n_records && !is_at_max; i++) {
                if (sl_topic_write_record(args->format, args->name, &batch->records[i], &out)) goto done;
                n_printed++;
                printed++;
                is_at_max = args->max_records && printed >= args->max_records;
            }
            if (batch->n_records == 0) positions[p] = next;
            if (n_printed == 0) continue;
            has_read = true;
            positions[p] = n_printed == batch->n_records ? next : batch->records[n_printed - 1].offset + 1;
            committed[p] = positions[p];
        }
        if (!has_read && !is_at_max) {
            if (!args->is_follow) break;
            fflush(stdout);
            /* Poll rather than inotify: a read at the end costs a listing
             * and an fstat, 100 ms keeps a follower close behind the writer,
             * and polling sees another host's writes on a network file
             * system, which inotify does not. */
            sl_sleep_ms(100);
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sluice topic consume: writing to stdout failed\n");
        goto done;
    }
    if (args->group && sl_log_group_commit(log, args->group, args->name, committed, n_partitions, &err)) {
        code = fail_with("consume", &err);
        goto done;
    }
    code = SL_EXIT_OK;
done:
    if (has_signals) sl_topic_signals_restore(&signals);
    sl_buffer_free(&out);
    sl_batch_free(batch);
    free(committed);
    free(positions);
    return code;
}
