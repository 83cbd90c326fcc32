/* run.c — running a plan's pipelines until they are done (see run.h).
 *
 * "Done" for a topic-fed pipeline needs to know who else writes its topic:
 * the run counts, per topic, the pipelines of this run with a sink writing
 * it, and a topic source may end once that count reaches zero and it has
 * read every partition to its end.
 */
#include "runtime/run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logger.h"
#include "log/log.h"
#include "runtime/pipeline.h"
#include "runtime/progress.h"

#define PROGRESS_INTERVAL_MS 500

static atomic_bool stop_requested;
static volatile sig_atomic_t stop_signal;  /* the signal that asked, 0 = none */

void sl_run_request_stop(int signal_number)
{
    stop_signal = signal_number;
    atomic_store(&stop_requested, true);
}

int sl_run_stop_signal(void)
{
    return stop_signal;
}

typedef struct topic_writers {
    const char *topic;          /* borrowed from a sink conf */
    atomic_int n_running;       /* writer pipelines not yet finished */
} topic_writers;

typedef struct run_state {
    const sl_plan *plan;
    sl_log *log;
    atomic_bool stopping;
    sl_pipeline **pipelines;
    size_t n_pipelines;
    topic_writers *writers;
    size_t n_writers;
    sl_progress *progress;      /* the progress line's memory; NULL without one */
    sl_progress_sample *samples;
    bool is_timed_out;
    bool is_stopped;            /* options->stop was set */
    bool is_log_owned;          /* opened by the run, not lent by a server */          /* --for elapsed: pipelines cut short are incomplete */
} run_state;

static bool writers_done(void *context, const char *topic)
{
    run_state *run = context;
    for (size_t i = 0; i < run->n_writers; i++)
        if (strcmp(run->writers[i].topic, topic) == 0) return atomic_load(&run->writers[i].n_running) == 0;
    return true;
}

static topic_writers *writers_of(run_state *run, const char *topic)
{
    for (size_t i = 0; i < run->n_writers; i++)
        if (strcmp(run->writers[i].topic, topic) == 0) return &run->writers[i];
    return NULL;
}

static void pipeline_finished(void *context, sl_pipeline *pipeline)
{
    run_state *run = context;
    const sl_pipeline_plan *plan = sl_pipeline_plan_of(pipeline);
    for (size_t s = 0; s < plan->n_sinks; s++) {
        const sl_sink_plan *sink = &plan->sinks[s];
        if (!sink->ops->topic_name) continue;
        topic_writers *writers = writers_of(run, sink->ops->topic_name(sink->conf));
        if (writers) atomic_fetch_sub(&writers->n_running, 1);
    }
}

static bool is_selected(const sl_run_options *options, const sl_pipeline_plan *plan)
{
    return !options->only_pipeline || strcmp(options->only_pipeline, plan->name) == 0;
}

/* Counts, per topic, the selected pipelines that write it. */
static int count_writers(run_state *run, const sl_run_options *options, sl_error *err)
{
    size_t max = 0;
    for (size_t p = 0; p < run->plan->n_pipelines; p++) max += run->plan->pipelines[p].n_sinks;
    run->writers = calloc(max ? max : 1, sizeof *run->writers);
    if (!run->writers) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t p = 0; p < run->plan->n_pipelines; p++) {
        const sl_pipeline_plan *plan = &run->plan->pipelines[p];
        if (!is_selected(options, plan)) continue;
        for (size_t s = 0; s < plan->n_sinks; s++) {
            const sl_sink_plan *sink = &plan->sinks[s];
            if (!sink->ops->topic_name) continue;
            const char *topic = sink->ops->topic_name(sink->conf);
            topic_writers *writers = writers_of(run, topic);
            if (!writers) {
                writers = &run->writers[run->n_writers++];
                writers->topic = topic;
                atomic_init(&writers->n_running, 0);
            }
            atomic_fetch_add(&writers->n_running, 1);
        }
    }
    return SL_OK;
}

static double seconds_between(int64_t start_ms, int64_t end_ms)
{
    return (double)(end_ms - start_ms) / 1000.0;
}

/* The progress line (progress.h), drawn by the logger below the log. */
static void show_progress(run_state *run, int64_t started_ms)
{
    for (size_t i = 0; i < run->n_pipelines; i++) {
        sl_pipeline_stats *stats = sl_pipeline_stats_of(run->pipelines[i]);
        run->samples[i] = (sl_progress_sample){
            .name = sl_pipeline_name(run->pipelines[i]),
            .records_in = atomic_load(&stats->records_in),
            .records_out = atomic_load(&stats->records_out),
            .done = atomic_load(&stats->source_done),
            .total = atomic_load(&stats->source_total),
            .lag = atomic_load(&stats->source_lag),
            .is_finished = atomic_load(&stats->state) != SL_PIPELINE_RUNNING,
        };
    }
    char line[SL_PROGRESS_MAX_WIDTH * 4 + 1];
    sl_progress_line(run->progress, started_ms, sl_clock_monotonic_ms(), run->samples, run->n_pipelines,
                     sl_progress_width(STDERR_FILENO), line, sizeof line);
    sl_logger_status(line);
}

/* The summary's word for how a pipeline ended. */
static const char *pipeline_outcome(const run_state *run, sl_pipeline *pipeline)
{
    sl_pipeline_stats *stats = sl_pipeline_stats_of(pipeline);
    if (atomic_load(&stats->state) == SL_PIPELINE_FAILED) return "failed";
    if (!atomic_load(&stats->is_short)) return "ok";
    if (run->is_timed_out) return "incomplete";
    return stop_signal ? "interrupted" : "stopped";  /* stopped: another pipeline failed */
}

/* The run's verdict on pipelines a stop cut short (see run.h): SL_OK when
 * none was, else SL_EINCOMPLETE (--for) or SL_EINTERRUPTED (a signal), with
 * the first one named in err. */
static int check_complete(const run_state *run, const sl_run_options *options, sl_error *err)
{
    size_t n_short = 0;
    const char *first = NULL;
    for (size_t i = 0; i < run->n_pipelines; i++) {
        if (!atomic_load(&sl_pipeline_stats_of(run->pipelines[i])->is_short)) continue;
        if (!first) first = sl_pipeline_name(run->pipelines[i]);
        n_short++;
    }
    if (n_short == 0) return SL_OK;
    char others[64] = "", limit[32];
    if (n_short > 1) snprintf(others, sizeof others, " (and %zu more)", n_short - 1);
    if (options->duration_ms % 1000 == 0) snprintf(limit, sizeof limit, "%" PRId64 "s", options->duration_ms / 1000);
    else snprintf(limit, sizeof limit, "%" PRId64 "ms", options->duration_ms);
    if (run->is_timed_out)
        return sl_error_set(err, SL_EINCOMPLETE,
                            "pipeline %s%s: --for %s elapsed before its source had been read to its "
                            "end; what was stored is committed and a rerun continues from there (use --follow "
                            "for a run that --for ends normally)",
                            first, others, limit);
    if (run->is_stopped)
        return sl_error_set(err, SL_EINTERRUPTED,
                            "pipeline %s%s: stopped before its source had been read to its end; what every sink "
                            "stored is committed and the next run continues from there", first, others);
    int signal_number = stop_signal;
    return sl_error_set(err, SL_EINTERRUPTED,
                        "pipeline %s%s: interrupted by %s before its source had been read to its end; what every "
                        "sink stored is committed and a rerun continues from there", first, others,
                        signal_number == SIGTERM ? "SIGTERM" : signal_number == SIGINT ? "SIGINT" : "a signal");
}

static void print_summary(run_state *run, FILE *out, int64_t started_ms)
{
    fprintf(out, "%-24s %12s %12s %10s %8s %9s %12s  %s\n", "pipeline", "in", "out", "filtered", "dlq",
            "elapsed", "records/s", "state");
    for (size_t i = 0; i < run->n_pipelines; i++) {
        sl_pipeline_stats *stats = sl_pipeline_stats_of(run->pipelines[i]);
        uint64_t in = atomic_load(&stats->records_in);
        int64_t end = stats->finished_ms ? stats->finished_ms : sl_clock_monotonic_ms();
        double seconds = seconds_between(stats->started_ms, end);
        fprintf(out, "%-24s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8.2fs %12.0f  %s\n",
                sl_pipeline_name(run->pipelines[i]), in, (uint64_t)atomic_load(&stats->records_out),
                (uint64_t)atomic_load(&stats->records_filtered), (uint64_t)atomic_load(&stats->records_dead),
                seconds, seconds > 0 ? (double)in / seconds : 0.0, pipeline_outcome(run, run->pipelines[i]));
    }
    fprintf(out, "total elapsed %.2fs\n", seconds_between(started_ms, sl_clock_monotonic_ms()));
    for (size_t i = 0; i < run->n_pipelines; i++) {
        const sl_pipeline_plan *plan = sl_pipeline_plan_of(run->pipelines[i]);
        sl_pipeline_stats *stats = sl_pipeline_stats_of(run->pipelines[i]);
        if (atomic_load(&stats->records_dead))
            fprintf(out, "%s: %" PRIu64 " dead letters in topic %s (see: sluice topic consume %s --data-dir %s)\n",
                    plan->name, (uint64_t)atomic_load(&stats->records_dead), plan->dlq_topic, plan->dlq_topic,
                    run->plan->data_dir);
        for (size_t s = 0; s < plan->n_sinks; s++) {
            if (!plan->sinks[s].ops->hint) continue;
            char hint[512];
            plan->sinks[s].ops->hint(plan->sinks[s].conf, hint, sizeof hint);
            fprintf(out, "%s: query the result with: %s\n", plan->name, hint);
        }
    }
    fflush(out);
}

bool sl_run_writes_stdout(const sl_plan *plan, const sl_run_options *options)
{
    for (size_t p = 0; p < plan->n_pipelines; p++) {
        const sl_pipeline_plan *pipeline = &plan->pipelines[p];
        if (!is_selected(options, pipeline)) continue;
        for (size_t s = 0; s < pipeline->n_sinks; s++)
            if (pipeline->sinks[s].ops->writes_stdout) return true;
    }
    return false;
}

/* The summary on stderr in one piece (built in memory first); straight to
 * stderr when there is no memory for that. */
static void show_summary(run_state *run, int64_t started_ms)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        print_summary(run, stderr, started_ms);
        return;
    }
    print_summary(run, out, started_ms);
    if (fclose(out) == 0) sl_logger_print(text, len);
    else print_summary(run, stderr, started_ms);
    free(text);
}

static void run_state_clear(run_state *run)
{
    for (size_t i = 0; i < run->n_pipelines; i++) sl_pipeline_free(run->pipelines[i]);
    free(run->pipelines);
    sl_progress_free(run->progress);
    free(run->samples);
    free(run->writers);
    if (run->is_log_owned) sl_log_close(run->log);
}

int sl_run_plan(const sl_plan *plan, const sl_run_options *options, sl_error *err)
{
    run_state run = { .plan = plan };
    atomic_init(&run.stopping, false);
    bool is_cli = options->log == NULL;
    if (is_cli) {
        atomic_store(&stop_requested, false);
        stop_signal = 0;
    }
    int rc = SL_OK;
    bool is_watched = false;
    if (options->only_pipeline && !sl_plan_pipeline(plan, options->only_pipeline))
        return sl_error_set(err, SL_EUSAGE, "%s: no pipeline named '%s'", plan->path, options->only_pipeline);
    if (is_cli) {
        rc = sl_log_open(plan->data_dir, &run.log, err);
        if (rc) return rc;
        run.is_log_owned = true;
    } else {
        run.log = options->log;
    }
    rc = count_writers(&run, options, err);
    if (rc) goto done;
    run.pipelines = calloc(plan->n_pipelines, sizeof *run.pipelines);
    run.samples = calloc(plan->n_pipelines ? plan->n_pipelines : 1, sizeof *run.samples);
    if (options->show_progress) run.progress = sl_progress_new(plan->n_pipelines);
    if (!run.pipelines || !run.samples || (options->show_progress && !run.progress)) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    sl_pipeline_context context = {
        .log = run.log,
        .data_dir = plan->data_dir,
        .stopping = &run.stopping,
        .follow = options->follow,
        .topic_writers_done = writers_done,
        .topic_context = &run,
        .on_finished = pipeline_finished,
        .finished_context = &run,
    };
    for (size_t p = 0; p < plan->n_pipelines; p++) {
        if (!is_selected(options, &plan->pipelines[p])) continue;
        rc = sl_pipeline_new(&plan->pipelines[p], &context, &run.pipelines[run.n_pipelines], err);
        if (rc) goto done;
        run.n_pipelines++;
    }
    for (size_t i = 0; i < run.n_pipelines && rc == SL_OK; i++) rc = sl_pipeline_open_sinks(run.pipelines[i], err);
    for (size_t i = 0; i < run.n_pipelines && rc == SL_OK; i++) rc = sl_pipeline_open_source(run.pipelines[i], err);
    if (rc) goto done;

    int64_t started_ms = sl_clock_monotonic_ms();
    size_t n_started = 0;
    for (; n_started < run.n_pipelines && rc == SL_OK; n_started++)
        rc = sl_pipeline_start(run.pipelines[n_started], err);
    if (options->on_pipelines) {
        options->on_pipelines(options->pipelines_context, run.log, run.pipelines, n_started);
        is_watched = true;
    }
    int64_t last_progress = 0;
    for (;;) {
        size_t n_running = 0;
        for (size_t i = 0; i < n_started; i++) {
            int state = atomic_load(&sl_pipeline_stats_of(run.pipelines[i])->state);
            if (state == SL_PIPELINE_RUNNING) n_running++;
            if (state == SL_PIPELINE_FAILED) atomic_store(&run.stopping, true);
        }
        int64_t now = sl_clock_monotonic_ms();
        /* Before the end check: a terminal sees at least one line. */
        if (run.progress && now - last_progress >= PROGRESS_INTERVAL_MS) {
            show_progress(&run, started_ms);
            last_progress = now;
        }
        if (n_running == 0) break;
        if (is_cli && atomic_load(&stop_requested)) atomic_store(&run.stopping, true);
        if (options->stop && atomic_load(options->stop) && !atomic_load(&run.stopping)) {
            run.is_stopped = true;
            atomic_store(&run.stopping, true);
        }
        if (options->duration_ms > 0 && now - started_ms >= options->duration_ms && !atomic_load(&run.stopping)) {
            run.is_timed_out = true;
            atomic_store(&run.stopping, true);
        }
        sl_sleep_ms(20);
    }
    if (run.progress) sl_logger_status(NULL);
    for (size_t i = 0; i < n_started; i++) {
        sl_error pipeline_err;
        int pipeline_rc = sl_pipeline_join(run.pipelines[i], &pipeline_err);
        if (pipeline_rc && rc == SL_OK) {
            rc = pipeline_rc;
            if (err) {
                *err = pipeline_err;
                sl_error_prefix(err, "pipeline %s: ", sl_pipeline_name(run.pipelines[i]));
            }
        }
    }
    if (rc == SL_OK) rc = check_complete(&run, options, err);
    if (options->show_summary && options->summary_file) print_summary(&run, options->summary_file, started_ms);
    else if (options->show_summary) show_summary(&run, started_ms);
done:
    if (is_watched) options->on_pipelines(options->pipelines_context, NULL, NULL, 0);
    run_state_clear(&run);
    return rc;
}
