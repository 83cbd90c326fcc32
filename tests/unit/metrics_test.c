/* metrics_test.c — gathering metrics into a set: a pipeline's families
 * (histograms cumulative with +Inf, the lag left out while unknown), the
 * embedded log's partitions and groups, DAG runs read from an SQLite
 * store, the process from /proc; the history's rates and its bound; and
 * docs/operations.md holding the reference table the code declares. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/histogram.h"
#include "log/log.h"
#include "metadata/metadata.h"
#include "server/metrics/history.h"
#include "server/metrics/metrics.h"
#include "test_util.h"

/* The value of the sample called name whose labels include every pair of
 * want (NULL-ended name, value...); fails when there is none. */
static double value_of(const sl_metric_set *set, const char *name, const char *const *want)
{
    for (size_t i = 0; i < sl_metric_set_count(set); i++) {
        const sl_metric_sample *sample = sl_metric_set_at(set, i);
        if (strcmp(sample->name, name) != 0) continue;
        bool is_match = true;
        for (size_t w = 0; want && want[w]; w += 2) {
            const char *label = sl_metric_sample_label(sample, want[w]);
            is_match &= label && strcmp(label, want[w + 1]) == 0;
        }
        if (is_match) return sample->value;
    }
    cr_assert_fail("no sample %s%s%s", name, want && want[0] ? " with " : "", want && want[0] ? want[1] : "");
    return -1;
}

static bool has_sample(const sl_metric_set *set, const char *name)
{
    for (size_t i = 0; i < sl_metric_set_count(set); i++)
        if (strcmp(sl_metric_set_at(set, i)->name, name) == 0) return true;
    return false;
}

Test(metrics, a_pipeline_with_its_sinks_and_histograms)
{
    sl_supervised_pipeline pipeline = { .state = "running", .is_up = true, .n_restarts = 2, .n_failures = 1 };
    snprintf(pipeline.name, sizeof pipeline.name, "etl");
    sl_pipeline_metrics_init(&pipeline.metrics);
    pipeline.metrics.records_in = 100;
    pipeline.metrics.records_out = 90;
    pipeline.metrics.records_failed = 4;
    pipeline.metrics.bytes_out = 12345;
    pipeline.metrics.queue_depth = 3;
    sl_histogram_snapshot_observe_ns(&pipeline.metrics.batch, 150000);       /* 150 µs */
    sl_histogram_snapshot_observe_ns(&pipeline.metrics.batch, 5000000000ull); /* 5 s */
    sl_sink_metrics sink = { .name = "sqlite" };
    sl_histogram_snapshot_init(&sink.request, &SL_HISTOGRAM_LATENCY);
    sl_histogram_snapshot_observe_ns(&sink.request, 1000000);
    pipeline.metrics.sinks = &sink;
    pipeline.metrics.n_sinks = 1;

    sl_metric_set *set = sl_metric_set_new();
    sl_error err = { 0 };
    cr_assert_eq(sl_metrics_add_pipelines(set, &pipeline, 1, &err), SL_OK, "%s", err.message);
    const char *etl[] = { "pipeline", "etl", NULL };
    cr_assert_eq(value_of(set, "sluice_pipeline_up", etl), 1);
    cr_assert_eq(value_of(set, "sluice_pipeline_restarts_total", etl), 2);
    cr_assert_eq(value_of(set, "sluice_pipeline_records_in_total", etl), 100);
    cr_assert_eq(value_of(set, "sluice_pipeline_records_out_total", etl), 90);
    cr_assert_eq(value_of(set, "sluice_pipeline_errors_total", etl), 5);   /* 4 records + 1 failed run */
    cr_assert_eq(value_of(set, "sluice_pipeline_bytes_out_total", etl), 12345);
    cr_assert_eq(value_of(set, "sluice_pipeline_queue_depth_batches", etl), 3);
    cr_assert(!has_sample(set, "sluice_pipeline_lag_records"), "an unknown lag has no sample");
    const char *le_1ms[] = { "pipeline", "etl", "le", "0.0001", NULL };
    cr_assert_eq(value_of(set, "sluice_pipeline_batch_duration_seconds_bucket", le_1ms), 0);
    const char *le_2ms[] = { "pipeline", "etl", "le", "0.0002", NULL };
    cr_assert_eq(value_of(set, "sluice_pipeline_batch_duration_seconds_bucket", le_2ms), 1);
    const char *le_inf[] = { "pipeline", "etl", "le", "+Inf", NULL };
    cr_assert_eq(value_of(set, "sluice_pipeline_batch_duration_seconds_bucket", le_inf), 2);
    cr_assert_eq(value_of(set, "sluice_pipeline_batch_duration_seconds_count", etl), 2);
    cr_assert_float_eq(value_of(set, "sluice_pipeline_batch_duration_seconds_sum", etl), 5.00015, 1e-9);
    const char *sqlite[] = { "pipeline", "etl", "sink", "sqlite", NULL };
    cr_assert_eq(value_of(set, "sluice_sink_request_duration_seconds_count", sqlite), 1);

    sl_buffer text = { 0 };
    cr_assert_eq(sl_metric_set_write_text(set, &text), 0);
    cr_assert_eq(sl_buffer_append_byte(&text, '\0'), 0);
    cr_assert(strstr(text.data, "# TYPE sluice_sink_request_duration_seconds histogram\n"));
    cr_assert(strstr(text.data, "sluice_sink_request_duration_seconds_bucket{pipeline=\"etl\",sink=\"sqlite\",le=\"0.0016\"} 1\n"));
    sl_buffer_free(&text);
    sl_metric_set_free(set);
}

Test(metrics, topic_partitions_and_group_lag_from_the_log)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir, "metrics");
    sl_log *log = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_log_open(dir, &log, &err), SL_OK, "%s", err.message);
    sl_topic_config config = { .partitions = 2 };
    sl_topic *topic = NULL;
    cr_assert_eq(sl_log_topic_create(log, "events", &config, &topic, &err), SL_OK, "%s", err.message);
    sl_batch *batch = sl_batch_new(16);
    for (int i = 0; i < 5; i++) test_add_raw(batch, "{\"a\":1}", 7, -1);
    cr_assert_eq(sl_topic_append(topic, 1, batch->records, batch->n_records, NULL, &err), SL_OK, "%s", err.message);
    int64_t committed[2] = { -1, 2 };
    cr_assert_eq(sl_log_group_commit(log, "readers", "events", committed, 2, &err), SL_OK, "%s", err.message);

    sl_metric_set *set = sl_metric_set_new();
    cr_assert_eq(sl_metrics_add_log(set, log, &err), SL_OK, "%s", err.message);
    const char *p1[] = { "topic", "events", "partition", "1", NULL };
    const char *p0[] = { "topic", "events", "partition", "0", NULL };
    cr_assert_eq(value_of(set, "sluice_topic_partition_end_offset", p1), 5);
    cr_assert_eq(value_of(set, "sluice_topic_partition_end_offset", p0), 0);
    cr_assert_eq(value_of(set, "sluice_topic_partition_start_offset", p1), 0);
    cr_assert_gt(value_of(set, "sluice_topic_partition_bytes", p1), 5 * 7);
    const char *g1[] = { "group", "readers", "topic", "events", "partition", "1", NULL };
    cr_assert_eq(value_of(set, "sluice_consumer_group_committed_offset", g1), 2);
    cr_assert_eq(value_of(set, "sluice_consumer_group_lag_records", g1), 3);
    sl_metric_set_free(set);
    sl_batch_free(batch);
    sl_log_close(log);
    test_remove_tree(dir);
}

Test(metrics, dag_runs_by_state_and_durations_from_the_store)
{
    char dir[256], path[300];
    test_make_temp_dir(dir, sizeof dir, "metrics");
    snprintf(path, sizeof path, "%s/metadata.db", dir);
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_metadata_open(path, &store, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_metadata_dag_upsert(store, "nightly", "h", &err), SL_OK, "%s", err.message);
    for (int i = 0; i < 3; i++) {
        sl_meta_run_spec spec = { .dag_id = "nightly", .run_type = SL_META_RUN_MANUAL,
                                  .data_interval_start_us = i * 1000000LL, .data_interval_end_us = i * 1000000LL };
        int64_t id = 0;
        bool created = false, changed = false;
        cr_assert_eq(sl_metadata_run_create(store, &spec, &id, &created, &err), SL_OK, "%s", err.message);
        if (i == 0) continue;   /* stays queued */
        cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_QUEUED, SL_META_RUN_RUNNING, &changed, &err), SL_OK);
        if (i == 2)
            cr_assert_eq(sl_metadata_run_set_state(store, id, SL_META_RUN_RUNNING, SL_META_RUN_SUCCESS, &changed, &err),
                         SL_OK);
    }
    sl_metadata_close(store);

    sl_metric_set *set = sl_metric_set_new();
    cr_assert_eq(sl_metrics_add_dags(set, path, &err), SL_OK, "%s", err.message);
    const char *queued[] = { "dag", "nightly", "state", "queued", NULL };
    const char *running[] = { "dag", "nightly", "state", "running", NULL };
    const char *success[] = { "dag", "nightly", "state", "success", NULL };
    const char *failed[] = { "dag", "nightly", "state", "failed", NULL };
    cr_assert_eq(value_of(set, "sluice_dag_runs", queued), 1);
    cr_assert_eq(value_of(set, "sluice_dag_runs", running), 1);
    cr_assert_eq(value_of(set, "sluice_dag_runs", success), 1);
    cr_assert_eq(value_of(set, "sluice_dag_runs", failed), 0);
    const char *nightly[] = { "dag", "nightly", NULL };
    cr_assert_eq(value_of(set, "sluice_dag_run_duration_seconds_count", nightly), 1);
    const char *le_1s[] = { "dag", "nightly", "le", "1", NULL };
    cr_assert_eq(value_of(set, "sluice_dag_run_duration_seconds_bucket", le_1s), 1);
    sl_metric_set_free(set);
    test_remove_tree(dir);
}

Test(metrics, the_process_from_proc)
{
    sl_metric_set *set = sl_metric_set_new();
    sl_error err = { 0 };
    cr_assert_eq(sl_metrics_add_process(set, &err), SL_OK, "%s", err.message);
    cr_assert_gt(value_of(set, "process_resident_memory_bytes", NULL), 1024 * 1024);
    cr_assert_geq(value_of(set, "process_open_fds", NULL), 3);
    cr_assert_gt(value_of(set, "process_max_fds", NULL), 0);
    cr_assert_geq(value_of(set, "process_cpu_seconds_total", NULL), 0);
    double start = value_of(set, "process_start_time_seconds", NULL);
    double now = (double)time(NULL);
    cr_assert(start <= now + 2 && start > now - 24 * 3600, "start %f now %f", start, now);
    sl_metric_set_free(set);
}

static sl_supervised_pipeline sampled(const char *name, uint64_t in, int64_t lag)
{
    sl_supervised_pipeline pipeline = { .state = "running" };
    snprintf(pipeline.name, sizeof pipeline.name, "%s", name);
    sl_pipeline_metrics_init(&pipeline.metrics);
    pipeline.metrics.records_in = in;
    pipeline.metrics.lag = lag;
    return pipeline;
}

Test(history, rates_per_interval_a_bounded_ring_and_forgotten_pipelines)
{
    sl_history *history = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_history_new(&history, &err), SL_OK);
    sl_pipeline_rates rates;
    sl_supervised_pipeline p = sampled("a", 1000, 7);
    cr_assert_eq(sl_history_record(history, &p, 1, 1000000, 0), SL_OK);   /* the baseline */
    cr_assert(!sl_history_rates(history, "a", &rates));
    for (int i = 1; i <= SL_HISTORY_SAMPLES + 20; i++) {
        p = sampled("a", 1000 + (uint64_t)i * 500, i);
        cr_assert_eq(sl_history_record(history, &p, 1, 1000000 + i * 5000, i * 5000), SL_OK);
    }
    cr_assert(sl_history_rates(history, "a", &rates));
    cr_assert_float_eq(rates.records_in_per_s, 100.0, 1e-9);
    sl_buffer out = { 0 };
    cr_assert_eq(sl_history_write_json(history, "a", &out), SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&out, '\0'), 0);
    size_t n = 0;
    for (const char *at = out.data; (at = strstr(at, "\"t\":")); at++) n++;
    cr_assert_eq(n, SL_HISTORY_SAMPLES);
    cr_assert(strstr(out.data, "\"lag\":21}"), "the oldest kept is the 21st: %.200s", out.data);
    sl_buffer_free(&out);
    /* A counter that went down was reset (a reload rebuilt the pipeline). */
    p = sampled("a", 250, -1);
    cr_assert_eq(sl_history_record(history, &p, 1, 2000000, (SL_HISTORY_SAMPLES + 21) * 5000), SL_OK);
    cr_assert(sl_history_rates(history, "a", &rates));
    cr_assert_float_eq(rates.records_in_per_s, 50.0, 1e-9);
    /* Gone from the supervisor: forgotten. */
    cr_assert_eq(sl_history_record(history, NULL, 0, 3000000, (SL_HISTORY_SAMPLES + 22) * 5000), SL_OK);
    cr_assert(!sl_history_rates(history, "a", &rates));
    sl_history_free(history);
}

Test(metrics, operations_md_holds_the_reference_table)
{
    sl_buffer table = { 0 };
    cr_assert_eq(sl_metrics_reference(&table), SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&table, '\0'), 0);
    char *doc = test_read_file("docs/operations.md", NULL);
    cr_assert(strstr(doc, table.data),
              "docs/operations.md lacks the metrics table as src/server/metrics/metrics.c declares it; put this in its "
              "Metrics section:\n%s", table.data);
    free(doc);
    sl_buffer_free(&table);
}
