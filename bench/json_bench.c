/* json_bench.c — throughput of the JSON reader and writer on JSON lines.
 *
 *   json_bench FILE [ROUNDS]
 *
 * Loads FILE (one JSON value per line) into memory and parses every line,
 * ROUNDS times over the file (default: as many rounds as fit in 2 CPU seconds),
 * resetting the arena every 1024 lines as a batch would. Then, batch by
 * batch, it parses 1024 lines (untimed) and times writing their values back
 * as JSON, for the same number of rounds (or 2 CPU seconds of writing). Prints
 *   json_parse: <MB/s> MB/s <records/s> records/s
 *   json_write: <MB/s> MB/s
 * where MB is 10^6 bytes of JSON text (input for parse, output for write) and
 * seconds are CPU seconds of this (single-threaded) process.
 *
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/json_bench.c src/core/ *.c -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/json.h"

#define LINES_PER_BATCH 1024
#define MIN_SECONDS 2.0

typedef struct bench_lines {
    char *text;            /* the whole file */
    size_t *starts;        /* offset of each line */
    size_t *lens;          /* length of each line, without '\n' */
    size_t n_lines;
    size_t n_bytes;        /* sum of lens */
} bench_lines;

/* CPU seconds of this process: the machine is shared, and what we want is
 * the throughput of one core, not of the time slices we happened to get. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lines_free(bench_lines *lines)
{
    free(lines->text);
    free(lines->starts);
    free(lines->lens);
}

/* Reads the file at path and indexes its non-empty lines. */
static int lines_load(const char *path, bench_lines *lines)
{
    int rc = -1;
    size_t capacity = 1 << 20, len = 0, got;
    FILE *file = fopen(path, "rb");
    if (!file) {
        perror(path);
        goto done;
    }
    lines->text = malloc(capacity);
    if (!lines->text) goto done;
    while ((got = fread(lines->text + len, 1, capacity - len, file)) > 0) {
        len += got;
        if (len < capacity) continue;
        char *grown = realloc(lines->text, capacity * 2);
        if (!grown) goto done;
        lines->text = grown;
        capacity *= 2;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += lines->text[i] == '\n';
    lines->starts = malloc((n + 1) * sizeof *lines->starts);
    lines->lens = malloc((n + 1) * sizeof *lines->lens);
    if (!lines->starts || !lines->lens) goto done;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && lines->text[i] != '\n') continue;
        if (i > start) {
            lines->starts[lines->n_lines] = start;
            lines->lens[lines->n_lines] = i - start;
            lines->n_lines++;
            lines->n_bytes += i - start;
        }
        start = i + 1;
    }
    rc = lines->n_lines ? 0 : -1;
done:
    if (file) fclose(file);
    return rc;
}

static int parse_line(sl_arena *arena, const bench_lines *lines, size_t i, sl_value *value)
{
    sl_error err;
    if (sl_json_parse(arena, lines->text + lines->starts[i], lines->lens[i], value, &err) == SL_OK)
        return 0;
    fprintf(stderr, "line %zu: %s\n", i + 1, err.message);
    return -1;
}

/* Parses every line, rounds times (0: until MIN_SECONDS), a fresh arena per
 * batch of lines. */
static int bench_parse(const bench_lines *lines, sl_arena *arena, long rounds)
{
    sl_value value;
    long done = 0;
    double began = now_seconds(), elapsed = 0;
    do {
        for (size_t i = 0; i < lines->n_lines; i++) {
            if (i % LINES_PER_BATCH == 0) sl_arena_reset(arena);
            if (parse_line(arena, lines, i, &value)) return -1;
        }
        done++;
        elapsed = now_seconds() - began;
    } while (rounds ? done < rounds : elapsed < MIN_SECONDS);
    printf("json_parse: %.1f MB/s %.0f records/s\n",
           (double)lines->n_bytes * (double)done / elapsed / 1e6,
           (double)lines->n_lines * (double)done / elapsed);
    return 0;
}

/* Per batch: parses the lines (untimed), then times writing the values
 * back, as a pipeline does while the batch is still warm in the cache. */
static int bench_write(const bench_lines *lines, sl_arena *arena, long rounds)
{
    int rc = -1;
    sl_buffer out = SL_BUFFER_INIT;
    sl_value *values = malloc(LINES_PER_BATCH * sizeof *values);
    double written = 0, elapsed = 0;
    long done = 0;
    if (!values) goto done;
    do {
        for (size_t first = 0; first < lines->n_lines; first += LINES_PER_BATCH) {
            size_t n = lines->n_lines - first;
            if (n > LINES_PER_BATCH) n = LINES_PER_BATCH;
            sl_arena_reset(arena);
            for (size_t i = 0; i < n; i++)
                if (parse_line(arena, lines, first + i, &values[i])) goto done;
            sl_buffer_clear(&out);
            double began = now_seconds();
            for (size_t i = 0; i < n; i++)
                if (sl_json_write(&out, &values[i]) || sl_buffer_append_byte(&out, '\n')) goto done;
            elapsed += now_seconds() - began;
            written += (double)out.len;
        }
        done++;
    } while (rounds ? done < rounds : elapsed < MIN_SECONDS);
    printf("json_write: %.1f MB/s\n", written / elapsed / 1e6);
    rc = 0;
done:
    sl_buffer_free(&out);
    free(values);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.jsonl [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rc = 1;
    bench_lines lines = { 0 };
    long rounds = argc > 2 ? atol(argv[2]) : 0;
    sl_arena *arena = sl_arena_new(256 * 1024);   /* as sl_batch_new makes */
    if (!arena) goto done;
    if (lines_load(argv[1], &lines)) {
        fprintf(stderr, "%s: no JSON lines loaded\n", argv[1]);
        goto done;
    }
    if (bench_parse(&lines, arena, rounds) || bench_write(&lines, arena, rounds)) goto done;
    rc = 0;
done:
    sl_arena_free(arena);
    lines_free(&lines);
    return rc;
}
