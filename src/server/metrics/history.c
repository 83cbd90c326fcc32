/* history.c — per-pipeline rings of 5-second samples (see history.h).
 *
 * Each pipeline has an entry: its name, the counters of its previous
 * sample (the baseline of the next rates) and a ring of SL_HISTORY_SAMPLES
 * samples, oldest at head. Entries live in a small array searched by name:
 * a file has tens of pipelines, not thousands.
 */
#include "server/metrics/history.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/logger.h"
#include "core/clock.h"
#include "core/timefmt.h"

typedef struct sample {
    int64_t wall_ms;
    sl_pipeline_rates rates;
    int64_t lag;                      /* -1: unknown */
} sample;

typedef struct counters {
    uint64_t records_in, records_out, bytes_in, bytes_out, dead_letters;
} counters;

typedef struct entry {
    char name[SL_METRICS_NAME_MAX];
    counters last;
    int64_t last_monotonic_ms;
    sample ring[SL_HISTORY_SAMPLES];
    size_t head;                      /* the oldest sample */
    size_t n_samples;
    bool is_seen;                     /* in the latest reading (for forgetting the others) */
} entry;

struct sl_history {
    pthread_mutex_t mutex;            /* guards entries */
    entry **entries;
    size_t n_entries;
    /* the sampler thread: */
    sl_supervisor *supervisor;
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t wake_mutex;
    pthread_cond_t wake;              /* on CLOCK_MONOTONIC */
    bool is_stopping;                 /* under wake_mutex */
};

int sl_history_new(sl_history **out, sl_error *err)
{
    sl_history *history = calloc(1, sizeof *history);
    if (!history) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pthread_mutex_init(&history->mutex, NULL);
    pthread_mutex_init(&history->wake_mutex, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&history->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    *out = history;
    return SL_OK;
}

static entry *find(const sl_history *history, const char *name)
{
    for (size_t i = 0; i < history->n_entries; i++)
        if (strcmp(history->entries[i]->name, name) == 0) return history->entries[i];
    return NULL;
}

/* Per second from before to now over seconds; a counter that went down was reset. */
static double rate(uint64_t before, uint64_t now, double seconds)
{
    uint64_t delta = now >= before ? now - before : now;
    return seconds > 0 ? (double)delta / seconds : 0;
}

static counters counters_of(const sl_pipeline_metrics *metrics)
{
    return (counters){ metrics->records_in, metrics->records_out, metrics->bytes_in, metrics->bytes_out,
                       metrics->records_dead };
}

int sl_history_record(sl_history *history, const sl_supervised_pipeline *pipelines, size_t n, int64_t wall_ms,
                      int64_t monotonic_ms)
{
    int rc = SL_OK;
    pthread_mutex_lock(&history->mutex);
    for (size_t i = 0; i < history->n_entries; i++) history->entries[i]->is_seen = false;
    for (size_t p = 0; p < n; p++) {
        const sl_supervised_pipeline *pipeline = &pipelines[p];
        counters now = counters_of(&pipeline->metrics);
        entry *e = find(history, pipeline->name);
        if (!e) {
            entry **grown = realloc(history->entries, (history->n_entries + 1) * sizeof *grown);
            e = grown ? calloc(1, sizeof *e) : NULL;
            if (grown) history->entries = grown;
            if (!e) {
                rc = SL_ENOMEM;
                continue;
            }
            snprintf(e->name, sizeof e->name, "%s", pipeline->name);
            e->last = now;
            e->last_monotonic_ms = monotonic_ms;
            e->is_seen = true;
            history->entries[history->n_entries++] = e;
            continue;   /* the baseline: its first sample comes next time */
        }
        e->is_seen = true;
        double seconds = (double)(monotonic_ms - e->last_monotonic_ms) / 1000.0;
        sample *at = &e->ring[(e->head + e->n_samples) % SL_HISTORY_SAMPLES];
        if (e->n_samples == SL_HISTORY_SAMPLES) e->head = (e->head + 1) % SL_HISTORY_SAMPLES;
        else e->n_samples++;
        at->wall_ms = wall_ms;
        at->rates = (sl_pipeline_rates){
            .records_in_per_s = rate(e->last.records_in, now.records_in, seconds),
            .records_out_per_s = rate(e->last.records_out, now.records_out, seconds),
            .bytes_in_per_s = rate(e->last.bytes_in, now.bytes_in, seconds),
            .bytes_out_per_s = rate(e->last.bytes_out, now.bytes_out, seconds),
            .dead_letters_per_s = rate(e->last.dead_letters, now.dead_letters, seconds),
        };
        at->lag = pipeline->metrics.lag;
        e->last = now;
        e->last_monotonic_ms = monotonic_ms;
    }
    /* Pipelines gone from the supervisor are forgotten. */
    for (size_t i = 0; i < history->n_entries;) {
        if (history->entries[i]->is_seen) {
            i++;
            continue;
        }
        free(history->entries[i]);
        history->entries[i] = history->entries[--history->n_entries];
    }
    pthread_mutex_unlock(&history->mutex);
    return rc;
}

bool sl_history_rates(void *context, const char *name, sl_pipeline_rates *rates)
{
    sl_history *history = context;
    if (!history) return false;
    pthread_mutex_lock(&history->mutex);
    entry *e = find(history, name);
    bool is_known = e && e->n_samples > 0;
    if (is_known) *rates = e->ring[(e->head + e->n_samples - 1) % SL_HISTORY_SAMPLES].rates;
    pthread_mutex_unlock(&history->mutex);
    return is_known;
}

int sl_history_write_json(sl_history *history, const char *name, sl_buffer *out)
{
    int rc = sl_buffer_append_cstr(out, "{\"pipeline\":");
    if (rc == SL_OK) rc = sl_json_write_string(out, name, strlen(name));
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"interval_s\":%d,\"samples\":[", SL_HISTORY_INTERVAL_S);
    pthread_mutex_lock(&history->mutex);
    entry *e = find(history, name);
    for (size_t i = 0; e && i < e->n_samples && rc == SL_OK; i++) {
        const sample *at = &e->ring[(e->head + i) % SL_HISTORY_SAMPLES];
        char t[SL_TIME_ISO_MAX];
        sl_time_format_iso(at->wall_ms * 1000, t);
        rc = sl_buffer_printf(out, "%s{\"t\":\"%s\",\"records_in_per_s\":%.3f,\"records_out_per_s\":%.3f,"
                              "\"bytes_in_per_s\":%.3f,\"dead_letters_per_s\":%.3f,\"lag\":",
                              i ? "," : "", t, at->rates.records_in_per_s, at->rates.records_out_per_s,
                              at->rates.bytes_in_per_s, at->rates.dead_letters_per_s);
        if (rc == SL_OK)
            rc = at->lag >= 0 ? sl_buffer_printf(out, "%" PRId64 "}", at->lag) : sl_buffer_append_cstr(out, "null}");
    }
    pthread_mutex_unlock(&history->mutex);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "]}\n");
    return rc;
}

/* ---- the sampler thread ---- */

static void take_sample(sl_history *history)
{
    sl_supervised_pipeline *pipelines = NULL;
    size_t n = 0;
    if (sl_supervisor_read_metrics(history->supervisor, &pipelines, &n) ||
        sl_history_record(history, pipelines, n, sl_clock_wall_ms(), sl_clock_monotonic_ms()))
        sl_warn("server", "pipeline history: out of memory: a sample was skipped");
    sl_supervised_pipelines_free(pipelines, n);
}

static void *sampler_main(void *arg)
{
    sl_history *history = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    take_sample(history);   /* the baselines */
    pthread_mutex_lock(&history->wake_mutex);
    while (!history->is_stopping) {
        next.tv_sec += SL_HISTORY_INTERVAL_S;
        while (!history->is_stopping &&
               pthread_cond_timedwait(&history->wake, &history->wake_mutex, &next) != ETIMEDOUT) {
        }
        if (history->is_stopping) break;
        pthread_mutex_unlock(&history->wake_mutex);
        take_sample(history);
        pthread_mutex_lock(&history->wake_mutex);
    }
    pthread_mutex_unlock(&history->wake_mutex);
    return NULL;
}

int sl_history_start(sl_history *history, sl_supervisor *supervisor, sl_error *err)
{
    history->supervisor = supervisor;
    int rc = pthread_create(&history->thread, NULL, sampler_main, history);
    if (rc) return sl_error_set(err, SL_EIO, "cannot start the pipeline history's thread: %s", strerror(rc));
    history->has_thread = true;
    return SL_OK;
}

void sl_history_free(sl_history *history)
{
    if (!history) return;
    if (history->has_thread) {
        pthread_mutex_lock(&history->wake_mutex);
        history->is_stopping = true;
        pthread_cond_broadcast(&history->wake);
        pthread_mutex_unlock(&history->wake_mutex);
        pthread_join(history->thread, NULL);
    }
    for (size_t i = 0; i < history->n_entries; i++) free(history->entries[i]);
    free(history->entries);
    pthread_mutex_destroy(&history->mutex);
    pthread_mutex_destroy(&history->wake_mutex);
    pthread_cond_destroy(&history->wake);
    free(history);
}
