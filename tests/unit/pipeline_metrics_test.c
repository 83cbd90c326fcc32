/* pipeline_metrics_test.c — what a pipeline's stages count, read with
 * sl_pipeline_read_metrics after real runs: a generator into a topic of 2
 * partitions, then that topic through SQL (a WHERE dropping a third, a
 * division by zero failing some rows) into a file: records in, out,
 * filtered, failed and dead, bytes out, one batch latency per batch, the
 * file sink's writes timed, the topic source's partitions at their end and
 * nothing left in flight; and sums over runs (the supervisor's carry). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logger.h"
#include "runtime/pipeline.h"
#include "test_util.h"

static char dir[256];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "pipeline_metrics");
    sl_logger_configure(SL_LEVEL_ERROR, 0);
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(pipeline_metrics, .init = setup, .fini = teardown);

static bool writers_done(void *context, const char *topic)
{
    (void)context;
    (void)topic;
    return true;
}

/* Runs the plan's pipeline called name to its end and reads its metrics. */
static void run_and_read(const sl_plan *plan, const char *name, sl_log *log, sl_pipeline_metrics *out)
{
    atomic_bool stopping;
    atomic_init(&stopping, false);
    sl_pipeline_context context = { .log = log, .data_dir = plan->data_dir, .stopping = &stopping,
                                    .topic_writers_done = writers_done };
    sl_pipeline *pipeline = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_pipeline_new(sl_plan_pipeline(plan, name), &context, &pipeline, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_pipeline_open_sinks(pipeline, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_pipeline_open_source(pipeline, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_pipeline_start(pipeline, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_pipeline_join(pipeline, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_pipeline_read_metrics(pipeline, out), SL_OK);
    sl_pipeline_free(pipeline);
}

Test(pipeline_metrics, every_stage_counts_and_times_what_it_does)
{
    char path[512], text[2048], data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    snprintf(path, sizeof path, "%s/p.yaml", dir);
    snprintf(text, sizeof text,
             "data_dir: %s\n"
             "pipelines:\n"
             "  feed:\n"
             "    batch_size: 16\n"
             "    source: { generator: { kind: sequence, count: 300 } }\n"
             "    sink: { topic: { name: events, partitions: 2, key: id } }\n"
             "  copy:\n"
             "    batch_size: 16\n"
             "    source: { topic: { name: events } }\n"
             "    transform: { sql: \"SELECT id, 100 / (id %% 5) AS q FROM input WHERE id %% 3 != 0\" }\n"
             "    sink: { file: { path: %s/out.jsonl } }\n",
             data_dir, dir);
    test_write_text(path, text);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    sl_log *log = NULL;
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);

    sl_pipeline_metrics feed;
    run_and_read(plan, "feed", log, &feed);
    cr_assert_eq(feed.records_in, 300);
    cr_assert_eq(feed.records_out, 300);
    cr_assert_gt(feed.bytes_out, 300 * 8, "the topic sink stores JSON text: %llu bytes", (unsigned long long)feed.bytes_out);
    cr_assert_eq(feed.batch.count, feed.batches);
    cr_assert_eq(feed.n_sinks, 1);
    cr_assert_str_eq(feed.sinks[0].name, "topic");
    cr_assert_geq(feed.sinks[0].request.count, 1);
    cr_assert_eq(feed.queue_depth, 0);
    cr_assert_eq(feed.n_partitions, 0, "a generator has no partitions");

    sl_pipeline_metrics copy;
    run_and_read(plan, "copy", log, &copy);
    cr_assert_eq(copy.records_in, 300);
    cr_assert_eq(copy.records_filtered, 100);
    cr_assert_eq(copy.records_failed, 40, "ids divisible by 5 but not 3: %llu", (unsigned long long)copy.records_failed);
    cr_assert_eq(copy.records_dead, 40);
    cr_assert_eq(copy.records_out, 160);
    cr_assert_gt(copy.bytes_in, 0);
    cr_assert_gt(copy.bytes_out, 0);
    cr_assert_lt(copy.bytes_out, copy.bytes_in, "160 two-column rows are smaller than 300 inputs");
    cr_assert_eq(copy.batch.count, copy.batches, "one latency per batch read");
    cr_assert_eq(copy.batch.cumulative[copy.batch.bounds->n_bounds], copy.batch.count);
    cr_assert_str_eq(copy.sinks[0].name, "file");
    cr_assert_geq(copy.sinks[0].request.count, 1);
    cr_assert_eq(copy.queue_depth, 0);
    cr_assert_eq(copy.lag, 0);
    cr_assert_eq(copy.n_partitions, 2);
    int64_t total = 0;
    for (size_t i = 0; i < copy.n_partitions; i++) {
        const sl_partition_position *at = &copy.partitions[i];
        cr_assert_str_eq(at->topic, "events");
        cr_assert_eq(at->partition, (int32_t)i);
        cr_assert_eq(at->position, at->end_offset);
        cr_assert_eq(at->committed, at->end_offset, "committed at the end of the run");
        total += at->end_offset;
    }
    cr_assert_eq(total, 300);

    /* A second run's metrics add to the first's, sinks matched by name. */
    sl_pipeline_metrics sum;
    sl_pipeline_metrics_init(&sum);
    cr_assert_eq(sl_pipeline_metrics_add(&sum, &copy), SL_OK);
    cr_assert_eq(sl_pipeline_metrics_add(&sum, &copy), SL_OK);
    cr_assert_eq(sum.records_in, 600);
    cr_assert_eq(sum.n_sinks, 1);
    cr_assert_eq(sum.sinks[0].request.count, 2 * copy.sinks[0].request.count);
    cr_assert_eq(sum.batch.count, 2 * copy.batch.count);
    cr_assert_eq(sum.n_partitions, 0, "positions are the current run's only");
    sl_pipeline_metrics_clear(&sum);

    sl_pipeline_metrics_clear(&feed);
    sl_pipeline_metrics_clear(&copy);
    sl_log_close(log);
    sl_plan_free(plan);
}

/* A grouped pipeline: 2 workers prepare, the aggregator folds both
 * partitions' rows into 50 ms windows of the ids read as epoch ms, the
 * rows come out once per window and group, and every position is
 * committed at the end (its holds all released). Also run under TSan. */
Test(pipeline_metrics, a_windowed_pipeline_emits_one_row_per_window_and_commits_everything)
{
    char path[512], text[2048], data_dir[300], out_path[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    snprintf(path, sizeof path, "%s/w.yaml", dir);
    snprintf(out_path, sizeof out_path, "%s/windows.jsonl", dir);
    snprintf(text, sizeof text,
             "data_dir: %s\n"
             "pipelines:\n"
             "  feed:\n"
             "    batch_size: 16\n"
             "    source: { generator: { kind: sequence, count: 300 } }\n"
             "    sink: { topic: { name: events, partitions: 2, key: id } }\n"
             "  windows:\n"
             "    batch_size: 7\n"
             "    workers: 2\n"
             "    source: { topic: { name: events } }\n"
             "    transform:\n"
             "      sql: >-\n"
             "        SELECT window_start, id %% 2 AS odd, count(*) AS n, sum(id) AS total\n"
             "        FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(id), INTERVAL '0.05' SECOND))\n"
             "        GROUP BY window_start, window_end, odd\n"
             "      watermark: { delay: 1s }\n"
             "    sink: { file: { path: %s } }\n",
             data_dir, out_path);
    test_write_text(path, text);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_plan_load(path, &plan, &err), SL_OK, "%s", err.message);
    sl_log *log = NULL;
    cr_assert_eq(sl_log_open(data_dir, &log, &err), SL_OK, "%s", err.message);
    sl_pipeline_metrics feed, windows;
    run_and_read(plan, "feed", log, &feed);
    run_and_read(plan, "windows", log, &windows);
    cr_assert_eq(windows.records_in, 300);
    cr_assert_eq(windows.records_dead, 0);
    cr_assert_eq(windows.records_out, 12, "6 windows of 50 ids, odd and even: %llu",
                 (unsigned long long)windows.records_out);
    for (size_t i = 0; i < windows.n_partitions; i++)
        cr_assert_eq(windows.partitions[i].committed, windows.partitions[i].end_offset);
    size_t written_len = 0;
    char *written = test_read_file(out_path, &written_len);
    cr_assert_not_null(written);
    cr_assert(strstr(written, "{\"window_start\":\"1970-01-01T00:00:00Z\",\"odd\":0,\"n\":25,\"total\":600}"), "%s",
              written);
    cr_assert(strstr(written, "{\"window_start\":\"1970-01-01T00:00:00.250000Z\",\"odd\":1,\"n\":25,\"total\":6875}"),
              "%s", written);
    free(written);
    sl_pipeline_metrics_clear(&feed);
    sl_pipeline_metrics_clear(&windows);
    sl_log_close(log);
    sl_plan_free(plan);
}
