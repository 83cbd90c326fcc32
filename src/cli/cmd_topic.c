/* cmd_topic.c — `sluice topic list|describe|create|delete|produce|consume`
 * on the embedded log of a data dir. list, describe and consume (without
 * --group) open the log read-only and take no lock, so they work beside a
 * running `sluice run` and in a directory they cannot write; create, delete,
 * produce and consume --group (which commits offsets) take the data dir's
 * lock like any writer, and fail clearly while another process holds it. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_topic_kafka.h"
#include "cli/commands.h"
#include "connectors/topic/topic.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/key_text.h"
#include "log/log.h"
#include "runtime/plan.h"

typedef struct topic_args {
    const char *data_dir;
    const char *config;
    int64_t partitions;
    int64_t partition;      /* -1 = all */
    int64_t offset;         /* -1 = from the start (or the group's position) */
    int64_t max_records;    /* 0 = all */
    const char *group;
    const char *key_path;
    const char *kafka;      /* --kafka BROKERS: run against a Kafka cluster */
    const char *compression; /* codec of a topic created here; NULL = the topic connector's default */
    bool has_metadata;
    bool is_follow;
} topic_args;

static void topic_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice topic <list|describe|create|delete|produce|consume> [NAME] [options]\n"
            "\n"
            "  list                       topics with partitions and record counts\n"
            "  describe NAME              partitions, offsets, consumer groups and their lag\n"
            "  create NAME --partitions N [--compression C] create a topic\n"
            "  delete NAME                delete a topic and its data\n"
            "  produce NAME               append stdin's lines (one record each) to NAME\n"
            "      --partitions N         create NAME with N partitions when absent (default 1)\n"
            "      --key-path PATH        message key from a path into each JSON line (else no key)\n"
            "      --compression C        codec when creating: none, lz4 (default), zstd, gzip, snappy\n"
            "  consume NAME               print records, one value per line\n"
            "      --partition P --offset O --max N --metadata (JSON with partition, offset, key, headers)\n"
            "      --group G              start at G's committed offsets and commit what was printed\n"
            "      --follow               keep waiting for new records (until SIGINT)\n"
            "\n"
            "common: --data-dir DIR (default ./data) or -c FILE (use FILE's data_dir)\n"
            "    or --kafka BROKERS (host:port[,...]): list, describe, produce and consume topics of a\n"
            "       Kafka cluster; describe shows every consumer group with offsets for the topic\n"
            "       (--group G: only G); produce creates an absent topic (--partitions N, else the\n"
            "       broker's default)\n"
            "\n"
            "list, describe and consume read a data dir without its lock, beside a running `sluice run`;\n"
            "create, delete, produce and consume --group (it commits offsets) write, so they need it\n");
}

/* Opens the data dir's log: read-only without the lock, or (needs_lock)
 * as its writer. */
static int open_log(const topic_args *args, bool needs_lock, sl_log **log)
{
    sl_error err;
    sl_error_clear(&err);
    const char *dir = args->data_dir;
    sl_plan *plan = NULL;
    if (args->config) {
        if (sl_plan_load(args->config, &plan, &err)) {
            fprintf(stderr, "sluice topic: %s\n", err.message);
            return SL_EXIT_USAGE;
        }
        dir = plan->data_dir;
    }
    dir = dir ? dir : "./data";
    int rc = needs_lock ? sl_log_open(dir, log, &err) : sl_log_open_readonly(dir, log, &err);
    sl_plan_free(plan);
    if (rc == SL_ELOCKED) {
        fprintf(stderr,
                "sluice topic: %s; create, delete, produce and consume --group (which commits the "
                "group's offsets) write, so they need its lock (list, describe and consume without "
                "--group work while it runs)\n",
                err.message);
        return SL_EXIT_FAILURE;
    }
    if (rc) {
        fprintf(stderr, "sluice topic: %s\n", err.message);
        return SL_EXIT_FAILURE;
    }
    return SL_EXIT_OK;
}

static int fail_with(sl_error *err)
{
    fprintf(stderr, "sluice topic: %s\n", err->message);
    return sl_exit_code_for(err->code);
}

static int topic_list(sl_log *log)
{
    sl_error err;
    char **names = NULL;
    size_t n = 0;
    if (sl_log_topic_list(log, &names, &n, &err)) return fail_with(&err);
    printf("%-40s %10s %14s\n", "topic", "partitions", "records");
    for (size_t i = 0; i < n; i++) {
        sl_topic *topic;
        if (sl_log_topic_open(log, names[i], &topic, &err)) {
            sl_log_names_free(names, n);
            return fail_with(&err);
        }
        int64_t records = 0;
        for (int32_t p = 0; p < sl_topic_partitions(topic); p++)
            records += sl_topic_end_offset(topic, p) - sl_topic_start_offset(topic, p);
        printf("%-40s %10" PRId32 " %14" PRId64 "\n", names[i], sl_topic_partitions(topic), records);
    }
    sl_log_names_free(names, n);
    return SL_EXIT_OK;
}

static int topic_describe(sl_log *log, const char *name)
{
    sl_error err;
    sl_topic *topic;
    if (sl_log_topic_open(log, name, &topic, &err)) return fail_with(&err);
    int32_t n_partitions = sl_topic_partitions(topic);
    printf("topic %s: %" PRId32 " partitions, compression %s\n", name, n_partitions,
           sl_codec_name(sl_topic_compression(topic)));
    printf("%10s %16s %16s %14s\n", "partition", "start offset", "end offset", "records");
    for (int32_t p = 0; p < n_partitions; p++) {
        int64_t start = sl_topic_start_offset(topic, p), end = sl_topic_end_offset(topic, p);
        printf("%10" PRId32 " %16" PRId64 " %16" PRId64 " %14" PRId64 "\n", p, start, end, end - start);
    }
    char **groups = NULL;
    size_t n_groups = 0;
    if (sl_log_group_list(log, name, &groups, &n_groups, &err)) return fail_with(&err);
    int64_t *offsets = calloc((size_t)n_partitions, sizeof *offsets);
    if (!offsets) {
        sl_log_names_free(groups, n_groups);
        return SL_EXIT_FAILURE;
    }
    if (n_groups) printf("\n%-30s %10s %16s %12s\n", "group", "partition", "committed", "lag");
    int code = SL_EXIT_OK;
    for (size_t g = 0; g < n_groups && code == SL_EXIT_OK; g++) {
        if (sl_log_group_load(log, groups[g], name, offsets, n_partitions, &err)) {
            code = fail_with(&err);
            break;
        }
        for (int32_t p = 0; p < n_partitions; p++) {
            int64_t committed = offsets[p] < 0 ? sl_topic_start_offset(topic, p) : offsets[p];
            printf("%-30s %10" PRId32 " %16" PRId64 " %12" PRId64 "\n", groups[g], p, committed,
                   sl_topic_end_offset(topic, p) - committed);
        }
    }
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

static int topic_create(sl_log *log, const char *name, const topic_args *args, sl_topic **out)
{
    sl_error err;
    sl_topic_config config = { .partitions = (int32_t)(args->partitions > 0 ? args->partitions : 1) };
    const char *compression = args->compression ? args->compression : default_compression();
    if (sl_codec_parse(compression, &config.compression)) {
        fprintf(stderr, "sluice topic: --compression '%s' is not one of none, lz4, zstd, gzip, snappy\n",
                compression);
        return SL_EXIT_USAGE;
    }
    sl_topic *topic;
    int rc = sl_log_topic_create(log, name, &config, &topic, &err);
    if (rc == SL_EEXIST && out) rc = sl_log_topic_open(log, name, &topic, &err);
    if (rc) return fail_with(&err);
    if (out) *out = topic;
    return SL_EXIT_OK;
}

/* Appends stdin's lines in batches; keys from --key-path when given. */
static int topic_produce(sl_log *log, const char *name, const topic_args *args)
{
    sl_topic *topic;
    int code = topic_create(log, name, args, &topic);
    if (code) return code;
    sl_error err;
    sl_error_clear(&err);
    sl_batch *batch = sl_batch_new(1024);
    if (!batch) return SL_EXIT_FAILURE;
    sl_str key_path[16];
    int n_key_parts = 0;
    if (args->key_path) {
        n_key_parts = sl_path_split(sl_str_from(args->key_path), key_path, 16);
        if (n_key_parts < 0) {
            fprintf(stderr, "sluice topic produce: --key-path '%s' is not a path like a.b\n", args->key_path);
            sl_batch_free(batch);
            return SL_EXIT_USAGE;
        }
    }
    int32_t n_partitions = sl_topic_partitions(topic);
    int32_t sticky = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    ssize_t len;
    int64_t line_number = 0, produced = 0;
    sl_buffer key_scratch = SL_BUFFER_INIT;
    bool is_out_of_memory = false;
    for (;;) {
        len = getline(&line, &line_capacity, stdin);
        bool is_end = len < 0;
        if (!is_end) {
            line_number++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
            if (len == 0) continue;
            sl_record *record = sl_batch_add(batch);
            char *copy = sl_arena_strndup(batch->arena, line, (size_t)len);
            is_out_of_memory = !copy;
            if (is_out_of_memory) break;
            record->raw = (sl_str){ copy, (size_t)len };
            record->timestamp_ms = sl_clock_wall_ms();
            if (n_key_parts > 0) {
                sl_value value;
                const sl_value *found = NULL;
                if (sl_json_parse(batch->arena, copy, (size_t)len, &value, &err) == SL_OK)
                    found = sl_value_get_path(&value, key_path, (size_t)n_key_parts);
                /* A number or other scalar becomes its text, "" an empty key. */
                sl_str key;
                is_out_of_memory = sl_key_text(found, &key_scratch, &key) != SL_OK;
                if (!is_out_of_memory && key.ptr && key.ptr == key_scratch.data) {
                    key.ptr = sl_arena_strndup(batch->arena, key.ptr, key.len);
                    is_out_of_memory = !key.ptr;
                }
                if (is_out_of_memory) break;
                record->key = key;
            }
        }
        if (batch->n_records > 0 && (is_end || sl_batch_is_full(batch))) {
            /* Group by partition: keyed records by murmur2, the rest sticky. */
            for (int32_t p = 0; p < n_partitions; p++) {
                sl_record group[1024];
                size_t n = 0;
                for (size_t i = 0; i < batch->n_records; i++) {
                    sl_record *record = &batch->records[i];
                    int32_t target = record->key.ptr ? sl_log_partition_for_key(record->key, n_partitions) : sticky;
                    if (target == p) group[n++] = *record;
                }
                if (n && sl_topic_append(topic, p, group, n, NULL, &err)) {
                    sl_buffer_free(&key_scratch);
                    free(line);
                    sl_batch_free(batch);
                    return fail_with(&err);
                }
            }
            produced += (int64_t)batch->n_records;
            sticky = (sticky + 1) % n_partitions;
            sl_batch_reset(batch);
        }
        if (is_end) break;
    }
    sl_buffer_free(&key_scratch);
    free(line);
    sl_batch_free(batch);
    if (is_out_of_memory) {
        fprintf(stderr, "sluice topic produce: out of memory at line %" PRId64 " of stdin\n", line_number);
        return SL_EXIT_FAILURE;
    }
    if (sl_topic_flush(topic, &err)) return fail_with(&err);
    fprintf(stderr, "produced %" PRId64 " records to %s\n", produced, name);
    return SL_EXIT_OK;
}

static int print_record(const sl_record *record, bool has_metadata, sl_buffer *out)
{
    sl_buffer_clear(out);
    if (!has_metadata) {
        sl_buffer_append(out, record->raw.ptr, record->raw.len);
    } else {
        sl_buffer_printf(out, "{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"key\":",
                         record->partition, record->offset, record->timestamp_ms);
        if (record->key.ptr) sl_json_write_string(out, record->key.ptr, record->key.len);
        else sl_buffer_append_cstr(out, "null");
        sl_buffer_append_cstr(out, ",\"headers\":{");
        for (size_t h = 0; h < record->n_headers; h++) {
            if (h) sl_buffer_append_byte(out, ',');
            sl_json_write_string(out, record->headers[h].key.ptr, record->headers[h].key.len);
            sl_buffer_append_byte(out, ':');
            sl_json_write_string(out, record->headers[h].value.ptr, record->headers[h].value.len);
        }
        sl_buffer_append_cstr(out, "},\"value\":");
        sl_json_write_string(out, record->raw.ptr, record->raw.len);
        sl_buffer_append_byte(out, '}');
    }
    sl_buffer_append_byte(out, '\n');
    return fwrite(out->data, 1, out->len, stdout) == out->len ? SL_OK : SL_EIO;
}

static int topic_consume(sl_log *log, const char *name, const topic_args *args)
{
    sl_error err;
    sl_topic *topic;
    if (sl_log_topic_open(log, name, &topic, &err)) return fail_with(&err);
    int32_t n_partitions = sl_topic_partitions(topic);
    if (args->partition >= n_partitions) {
        fprintf(stderr, "sluice topic consume: topic %s has %" PRId32 " partitions; no partition %" PRId64 "\n",
                name, n_partitions, args->partition);
        return SL_EXIT_USAGE;
    }
    /* committed: the group's offsets, moved only for partitions something
     * was printed from (so --partition/--offset reads leave the rest alone). */
    int64_t *positions = calloc((size_t)n_partitions, sizeof *positions);
    int64_t *committed = calloc((size_t)n_partitions, sizeof *committed);
    sl_batch *batch = sl_batch_new(1024);
    sl_buffer out = SL_BUFFER_INIT;
    int code = SL_EXIT_FAILURE;
    if (!positions || !committed || !batch) goto done;
    for (int32_t p = 0; p < n_partitions; p++) committed[p] = -1;
    if (args->group && sl_log_group_load(log, args->group, name, committed, n_partitions, &err)) {
        code = fail_with(&err);
        goto done;
    }
    for (int32_t p = 0; p < n_partitions; p++) {
        positions[p] = args->offset >= 0 ? args->offset : committed[p];
        if (positions[p] < 0) positions[p] = sl_topic_start_offset(topic, p);
    }
    int64_t printed = 0;
    for (;;) {
        bool has_read = false;
        for (int32_t p = 0; p < n_partitions; p++) {
            if (args->partition >= 0 && p != args->partition) continue;
            sl_batch_reset(batch);
            int64_t next = positions[p];
            if (sl_topic_read(topic, p, positions[p], 1 << 20, batch, &next, &err)) {
                code = fail_with(&err);
                goto done;
            }
            /* Advance (and later commit) only past what was printed: with
             * --max the rest of the batch stays for the next consume. */
            size_t n_printed = 0;
            for (size_t i = 0; i < batch->n_records; i++) {
                if (args->max_records && printed >= args->max_records) break;
                if (print_record(&batch->records[i], args->has_metadata, &out)) goto done;
                printed++;
                n_printed++;
                has_read = true;
            }
            if (batch->n_records == 0) positions[p] = next;
            if (n_printed == 0) continue;
            positions[p] = n_printed == batch->n_records ? next : batch->records[n_printed - 1].offset + 1;
            committed[p] = positions[p];
        }
        if (args->max_records && printed >= args->max_records) break;
        if (!has_read) {
            if (!args->is_follow) break;
            fflush(stdout);
            /* Poll rather than inotify: a read at the end costs a listing
             * and an fstat, 100 ms keeps a follower close behind the writer,
             * and polling sees another host's writes on a network file
             * system, which inotify does not. */
            sl_sleep_ms(100);
        }
    }
    fflush(stdout);
    if (args->group && sl_log_group_commit(log, args->group, name, committed, n_partitions, &err)) {
        code = fail_with(&err);
        goto done;
    }
    code = SL_EXIT_OK;
done:
    sl_buffer_free(&out);
    sl_batch_free(batch);
    free(committed);
    free(positions);
    return code;
}

int sl_cmd_topic(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "data-dir", required_argument, NULL, 'd' },
        { "config", required_argument, NULL, 'c' },
        { "partitions", required_argument, NULL, 'n' },
        { "partition", required_argument, NULL, 'p' },
        { "offset", required_argument, NULL, 'o' },
        { "max", required_argument, NULL, 'm' },
        { "group", required_argument, NULL, 'g' },
        { "key-path", required_argument, NULL, 'k' },
        { "metadata", no_argument, NULL, 'M' },
        { "follow", no_argument, NULL, 'f' },
        { "kafka", required_argument, NULL, 'K' },
        { "compression", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    topic_args args = { .partition = -1, .offset = -1 };
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "d:c:n:p:o:m:g:k:MfhK:C:", long_options, NULL)) != -1) {
        char *end = NULL;
        switch (option) {
        case 'd': args.data_dir = optarg; break;
        case 'c': args.config = optarg; break;
        case 'g': args.group = optarg; break;
        case 'k': args.key_path = optarg; break;
        case 'K': args.kafka = optarg; break;
        case 'C': args.compression = optarg; break;
        case 'M': args.has_metadata = true; break;
        case 'f': args.is_follow = true; break;
        case 'h': topic_usage(stdout); return SL_EXIT_OK;
        case 'n':
        case 'p':
        case 'o':
        case 'm': {
            long long number = strtoll(optarg, &end, 10);
            if (!*optarg || *end || number < 0) {
                fprintf(stderr, "sluice topic: '%s' is not a non-negative integer\n", optarg);
                return SL_EXIT_USAGE;
            }
            if (option == 'n') args.partitions = number;
            if (option == 'p') args.partition = number;
            if (option == 'o') args.offset = number;
            if (option == 'm') args.max_records = number;
            break;
        }
        default: topic_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        topic_usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *verb = argv[optind];
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool needs_name = strcmp(verb, "list") != 0;
    if (needs_name != (name != NULL) || optind + 2 < argc) {
        topic_usage(stderr);
        return SL_EXIT_USAGE;
    }
    static const char *const verbs[] = { "list", "describe", "create", "delete", "produce", "consume" };
    bool is_known = false;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) is_known |= strcmp(verb, verbs[i]) == 0;
    if (!is_known) {
        fprintf(stderr, "sluice topic: unknown verb '%s'\n", verb);
        topic_usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_codec codec;
    if (args.compression && sl_codec_parse(args.compression, &codec)) {
        fprintf(stderr, "sluice topic: --compression '%s' is not one of none, lz4, zstd, gzip, snappy\n",
                args.compression);
        return SL_EXIT_USAGE;
    }
    if (args.kafka && args.compression) {
        fprintf(stderr, "sluice topic: --compression applies to embedded topics; on Kafka the topic's "
                        "compression.type (or the producer's) decides\n");
        return SL_EXIT_USAGE;
    }
    if (args.kafka) {
        sl_topic_kafka_args kafka = {
            .brokers = args.kafka, .partitions = args.partitions, .partition = args.partition,
            .offset = args.offset, .max_records = args.max_records, .group = args.group,
            .key_path = args.key_path, .has_metadata = args.has_metadata, .is_follow = args.is_follow,
        };
        return sl_topic_kafka_run(verb, name, &kafka);
    }
    sl_log *log = NULL;
    bool is_reading = strcmp(verb, "list") == 0 || strcmp(verb, "describe") == 0 ||
                      (strcmp(verb, "consume") == 0 && !args.group);
    int code = open_log(&args, !is_reading, &log);
    if (code) return code;
    sl_error err;
    if (strcmp(verb, "list") == 0) code = topic_list(log);
    else if (strcmp(verb, "describe") == 0) code = topic_describe(log, name);
    else if (strcmp(verb, "create") == 0) code = topic_create(log, name, &args, NULL);
    else if (strcmp(verb, "delete") == 0) code = sl_log_topic_delete(log, name, &err) ? fail_with(&err) : SL_EXIT_OK;
    else if (strcmp(verb, "produce") == 0) code = topic_produce(log, name, &args);
    else code = topic_consume(log, name, &args);
    sl_log_close(log);
    return code;
}
