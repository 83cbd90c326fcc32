/* nexmark_bench.c — the Nexmark queries run by sluice, in events per
 * CPU-second of the sluice process, beside hand-written C loops doing the
 * work of q1 and q5 over the same events (the ceiling), and beside the
 * per-core figures published for Flink as context.
 *
 * For each query of bench/nexmark/ (q0 q1 q2 q3 q4 q5 q7 q8 q11): a
 * pipeline generator (kind nexmark, BENCH_NEXMARK_EVENTS events, default
 * 1,000,000, seed 42) -> the query -> a file sink to /dev/null without
 * fsync (configs and data dirs in bench/out/nexmark/), checked by
 * `sluice validate` first: a query the engine does not
 * run yet is reported "not yet runnable" with validate's reason. A runnable
 * one is timed by `sluice run --quiet`, its CPU time (user + sys) read by
 * wait4, so events / CPU-second counts every thread of the process.
 *
 * The ceilings are one thread, the same generator code linked in
 * (sl_nexmark_event_make, without building sl_value records):
 *   q1  each bid's price * 0.908 and the row written out as JSON (auction,
 *       bidder, price, dateTime as ISO 8601, extra) into a buffer flushed to
 *       /dev/null;
 *   q5  hop windows of 10 s sliding by 2 s: bids counted per auction in
 *       each window (a hash table per open window), and when a window
 *       closes (event time is in order), the auctions with the most bids.
 *
 * Flink's figures (the Nexmark repo's README, Flink 1.13 on 8-core
 * workers: q0 ~155k, q5 ~22k, q7 ~12k, q11 ~40k events/s per core) were
 * not measured here: they are printed for context, with the ratio.
 *
 *   build/nexmark_bench [path to sluice]   (default build/sluice; run from
 *   the repo root, which has bench/nexmark/)
 * Prints figures and ratios; asserts nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connectors/generator/nexmark.h"
#include "core/timefmt.h"

extern char **environ;

#define SEED 42
#define BASE_TIME "2026-01-01T00:00:00Z"
#define BASE_TIME_US INT64_C(1767225600000000)

typedef struct query {
    const char *name;
    double flink_per_core;   /* events/s per core published for Flink; 0 = none quoted */
} query;

static const query queries[] = {
    { "q0", 155000 }, { "q1", 0 }, { "q2", 0 }, { "q3", 0 }, { "q4", 0 },
    { "q5", 22000 }, { "q7", 12000 }, { "q8", 0 }, { "q11", 40000 },
};

/* The reference's defaults, as the generator's option table has them. */
static sl_nexmark_config default_config(void)
{
    sl_nexmark_config c = {
        .first_event_rate = 10000, .base_time_us = BASE_TIME_US,
        .person_proportion = 1, .auction_proportion = 3, .bid_proportion = 46,
        .hot_auction_ratio = 2, .hot_sellers_ratio = 4, .hot_bidders_ratio = 4,
        .num_active_people = 1000, .num_in_flight_auctions = 100,
        .avg_person_size = 200, .avg_auction_size = 500, .avg_bid_size = 100,
        .out_of_order_group_size = 1,
    };
    return c;
}

static double cpu_seconds_of(const struct rusage *usage)
{
    return (double)usage->ru_utime.tv_sec + (double)usage->ru_utime.tv_usec / 1e6 +
           (double)usage->ru_stime.tv_sec + (double)usage->ru_stime.tv_usec / 1e6;
}

static double self_cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return cpu_seconds_of(&usage);
}

/* ---- the sluice runs ----------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
            size_t got = fread(text, 1, (size_t)size, f);
            text[got] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* Writes the pipeline of one query; the SQL as a YAML double-quoted string. */
static int write_config(const char *path, const char *data_dir, const char *sql, long events)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "data_dir: \"%s\"\npipelines:\n  nexmark:\n"
               "    source: { generator: { kind: nexmark, count: %ld, seed: %d, "
               "base_time: \"%s\", start: beginning } }\n    transform: { sql: \"",
            data_dir, events, SEED, BASE_TIME);
    for (const char *c = sql; *c; c++) {
        if (*c == '"' || *c == '\\') fputc('\\', f);
        if (*c == '\n') fputs("\\n", f);
        else fputc(*c, f);
    }
    /* Windowed queries: the bids are out of order by well under 10 s. */
    fputs(strstr(sql, "TABLE(") ? "\", watermark: { delay: 10s } }\n" : "\" }\n", f);
    fputs("    sink: { file: { path: /dev/null, fsync: false } }\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* Runs sluice with args; its exit status, CPU time and (when asked) the
 * first line of what it wrote on stderr. */
static int run_sluice(char **argv, double *cpu_seconds, char *first_error, size_t error_size)
{
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (rc != 0) {
        close(pipe_fds[0]);
        errno = rc;
        return -1;
    }
    char text[4096];
    size_t used = 0;
    ssize_t got;
    while ((got = read(pipe_fds[0], text + used, sizeof text - 1 - used)) > 0) {
        used += (size_t)got;
        if (used == sizeof text - 1) used = 0;   /* keep reading; only the start matters */
    }
    close(pipe_fds[0]);
    text[used] = '\0';
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) return -1;
    if (cpu_seconds) *cpu_seconds = cpu_seconds_of(&usage);
    if (first_error) {
        size_t n = strcspn(text, "\n");
        if (n >= error_size) n = error_size - 1;
        memcpy(first_error, text, n);
        first_error[n] = '\0';
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Events per CPU-second of sluice for one query, 0 when it does not run
 * (why in reason), -1 when the run failed. */
static double measure_query(const char *sluice, const char *dir, const char *name, long events,
                            char *reason, size_t reason_size)
{
    char sql_path[256], config[256], data_dir[256];
    snprintf(sql_path, sizeof sql_path, "bench/nexmark/%s.sql", name);
    snprintf(config, sizeof config, "%s/%s.yaml", dir, name);
    snprintf(data_dir, sizeof data_dir, "%s/data-%s", dir, name);
    char *sql = read_file(sql_path);
    if (!sql) {
        snprintf(reason, reason_size, "cannot read %s: %s", sql_path, strerror(errno));
        return -1;
    }
    int rc = write_config(config, data_dir, sql, events);
    free(sql);
    if (rc) {
        snprintf(reason, reason_size, "cannot write %s", config);
        return -1;
    }
    char *validate[] = { (char *)sluice, "validate", config, NULL };
    if (run_sluice(validate, NULL, reason, reason_size) != 0) return 0;
    char *run[] = { (char *)sluice, "run", config, "--quiet", NULL };
    double cpu = 0;
    rc = run_sluice(run, &cpu, reason, reason_size);
    if (rc != 0) return -1;
    return cpu > 0 ? (double)events / cpu : -1;
}

/* ---- the ceilings ------------------------------------------------------- */

typedef struct out_buffer {
    FILE *sink;
    char bytes[1 << 16];
    size_t used;
} out_buffer;

static void out_flush(out_buffer *out)
{
    if (out->used) fwrite(out->bytes, 1, out->used, out->sink);
    out->used = 0;
}

static void out_text(out_buffer *out, const char *text, size_t len)
{
    if (out->used + len > sizeof out->bytes) out_flush(out);
    memcpy(out->bytes + out->used, text, len);
    out->used += len;
}

/* q1's work: the bids, price * 0.908, one JSON row each. Events per CPU-second. */
static double q1_ceiling(long events, long *n_rows)
{
    sl_nexmark_config config = default_config();
    char *text = malloc(sl_nexmark_text_capacity(&config));
    out_buffer *out = malloc(sizeof *out);
    if (!text || !out) {
        free(text);
        free(out);
        return -1;
    }
    out->sink = fopen("/dev/null", "w");
    out->used = 0;
    *n_rows = 0;
    double began = self_cpu_seconds();
    for (long i = 0; i < events; i++) {
        sl_nexmark_event event;
        sl_nexmark_event_make(&config, SEED, (uint64_t)i, text, &event);
        if (event.type != SL_NEXMARK_BID) continue;
        char row[512], date[SL_TIME_ISO_MAX];
        sl_time_format_iso(event.bid.date_time_us, date);
        int len = snprintf(row, sizeof row, "{\"auction\":%lld,\"bidder\":%lld,\"price\":%.17g,"
                           "\"dateTime\":\"%s\",\"extra\":\"",
                           (long long)event.bid.auction, (long long)event.bid.bidder,
                           0.908 * (double)event.bid.price, date);
        out_text(out, row, (size_t)len);
        out_text(out, event.bid.extra.ptr, event.bid.extra.len);   /* letters: nothing to escape */
        out_text(out, "\"}\n", 3);
        (*n_rows)++;
    }
    out_flush(out);
    double cpu = self_cpu_seconds() - began;
    if (out->sink) fclose(out->sink);
    free(out);
    free(text);
    return cpu > 0 ? (double)events / cpu : -1;
}

/* q5's work. A window [start, start + 10 s) for every start a multiple of
 * 2 s; at most 5 hold a given instant, so 6 tables are enough: the oldest
 * is closed (its hottest auctions counted out) before its slot is reused. */
#define HOP_SLIDE_US INT64_C(2000000)
#define HOP_SIZE_US INT64_C(10000000)
#define HOP_OPEN 6
#define WINDOW_SLOTS 32768   /* a power of 2 above the auctions of a 10 s window (~6,000) */

typedef struct window {
    int64_t start_us;        /* -1: slot unused */
    int64_t auctions[WINDOW_SLOTS];   /* 0: empty slot (auction ids are from 1000) */
    int64_t counts[WINDOW_SLOTS];
    size_t n_auctions;
} window;

static void window_reset(window *w, int64_t start_us)
{
    memset(w->auctions, 0, sizeof w->auctions);
    w->start_us = start_us;
    w->n_auctions = 0;
}

static int window_count(window *w, int64_t auction)
{
    size_t slot = (size_t)((uint64_t)auction * UINT64_C(0x9e3779b97f4a7c15) >> 49) &
                  (WINDOW_SLOTS - 1);
    while (w->auctions[slot] != 0 && w->auctions[slot] != auction)
        slot = (slot + 1) & (WINDOW_SLOTS - 1);
    if (w->auctions[slot] == 0) {
        if (w->n_auctions + 1 >= WINDOW_SLOTS / 2) return -1;   /* would be too full */
        w->auctions[slot] = auction;
        w->counts[slot] = 0;
        w->n_auctions++;
    }
    w->counts[slot]++;
    return 0;
}

/* The rows a closing window gives: its auctions with the most bids. */
static long window_close(window *w)
{
    int64_t most = 0;
    long n_rows = 0;
    for (size_t s = 0; s < WINDOW_SLOTS; s++)
        if (w->auctions[s] && w->counts[s] > most) most = w->counts[s];
    for (size_t s = 0; s < WINDOW_SLOTS; s++)
        if (w->auctions[s] && w->counts[s] == most) n_rows++;
    w->start_us = -1;
    return n_rows;
}

static double q5_ceiling(long events, long *n_rows)
{
    sl_nexmark_config config = default_config();
    char *text = malloc(sl_nexmark_text_capacity(&config));
    window *windows = calloc(HOP_OPEN, sizeof *windows);
    if (!text || !windows) {
        free(text);
        free(windows);
        return -1;
    }
    for (int k = 0; k < HOP_OPEN; k++) windows[k].start_us = -1;
    *n_rows = 0;
    double began = self_cpu_seconds();
    for (long i = 0; i < events; i++) {
        sl_nexmark_event event;
        sl_nexmark_event_make(&config, SEED, (uint64_t)i, text, &event);
        if (event.type != SL_NEXMARK_BID) continue;
        int64_t t = event.bid.date_time_us;
        int64_t last_start = t / HOP_SLIDE_US * HOP_SLIDE_US;
        /* close the windows that ended at or before t (event time is in order) */
        for (int k = 0; k < HOP_OPEN; k++)
            if (windows[k].start_us >= 0 && windows[k].start_us + HOP_SIZE_US <= t)
                *n_rows += window_close(&windows[k]);
        for (int64_t start = last_start - HOP_SIZE_US + HOP_SLIDE_US; start <= last_start;
             start += HOP_SLIDE_US) {
            window *w = &windows[(uint64_t)(start / HOP_SLIDE_US) % HOP_OPEN];
            if (w->start_us != start) window_reset(w, start);
            if (window_count(w, event.bid.auction) != 0) {
                fprintf(stderr, "nexmark_bench: more auctions in a window than its table holds\n");
                free(windows);
                free(text);
                return -1;
            }
        }
    }
    for (int k = 0; k < HOP_OPEN; k++)
        if (windows[k].start_us >= 0) *n_rows += window_close(&windows[k]);
    double cpu = self_cpu_seconds() - began;
    free(windows);
    free(text);
    return cpu > 0 ? (double)events / cpu : -1;
}

/* ---- main ------------------------------------------------------------------ */

static void print_rate(const char *label, double rate)
{
    if (rate > 0)
        printf("  %-34s %12.0f events/CPU-s\n", label, rate);
    else
        printf("  %-34s %12s\n", label, "failed");
}

int main(int argc, char **argv)
{
    const char *sluice = argc > 1 ? argv[1] : "build/sluice";
    const char *events_text = getenv("BENCH_NEXMARK_EVENTS");
    long events = events_text && *events_text ? strtol(events_text, NULL, 10) : 1000000;
    if (events <= 0) {
        fprintf(stderr, "nexmark_bench: BENCH_NEXMARK_EVENTS must be a positive number\n");
        return 2;
    }
    if (access(sluice, X_OK) != 0 || access("bench/nexmark/q0.sql", R_OK) != 0) {
        fprintf(stderr, "nexmark_bench: needs %s and bench/nexmark/ (run from the repo root)\n",
                sluice);
        return 2;
    }
    /* Outputs stay in bench/out/ (ignored by git) until the next run; the
     * generator starts at event 0 every run (start: beginning). */
    const char *dir = "bench/out/nexmark";
    if ((mkdir("bench/out", 0777) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0777) != 0 && errno != EEXIST)) {
        fprintf(stderr, "nexmark_bench: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    printf("nexmark: %ld events (seed %d, first_event_rate 10000, the reference's defaults), "
           "generator -> query -> file /dev/null; events per CPU-second of the whole sluice "
           "process (user + sys, every thread)\n", events, SEED);
    long q1_rows = 0, q5_rows = 0;
    double q1_top = q1_ceiling(events, &q1_rows);
    double q5_top = q5_ceiling(events, &q5_rows);
    printf("ceilings (one thread, the same generator code, no records built):\n");
    print_rate("q1 loop (price * 0.908, JSON rows)", q1_top);
    printf("  %-34s %12ld rows\n", "", q1_rows);
    print_rate("q5 loop (hop 10 s / 2 s, max count)", q5_top);
    printf("  %-34s %12ld rows\n", "", q5_rows);
    printf("queries:\n");
    printf("  %-5s %14s %16s %16s\n", "query", "sluice ev/CPU-s", "vs ceiling", "vs Flink/core");
    int failed = 0;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        const query *q = &queries[i];
        char reason[512] = "";
        double rate = measure_query(sluice, dir, q->name, events, reason, sizeof reason);
        if (rate == 0) {
            printf("  %-5s not yet runnable (%s)\n", q->name, reason);
            continue;
        }
        if (rate < 0) {
            printf("  %-5s FAILED: %s\n", q->name, reason);
            failed = 1;
            continue;
        }
        double ceiling = strcmp(q->name, "q1") == 0 ? q1_top : strcmp(q->name, "q5") == 0 ? q5_top : 0;
        char vs_ceiling[32] = "-", vs_flink[48] = "-";
        if (ceiling > 0) snprintf(vs_ceiling, sizeof vs_ceiling, "%.2fx", rate / ceiling);
        if (q->flink_per_core > 0)
            snprintf(vs_flink, sizeof vs_flink, "%.1fx of %.0fk", rate / q->flink_per_core,
                     q->flink_per_core / 1000);
        printf("  %-5s %14.0f %16s %16s\n", q->name, rate, vs_ceiling, vs_flink);
    }
    printf("Flink's figures: the Nexmark repo's published results (Flink 1.13, 8-core workers), "
           "events/s per core; not measured here, for context only\n");
    printf("(configs and data dirs in %s)\n", dir);
    return failed;
}
