/* metrics.c — the metric families and how each is gathered (see
 * metrics.h). One table declares every family; the gathering functions
 * add samples to families of their part only. */
#include "server/metrics/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/histogram.h"
#include "core/logger.h"
#include "metadata/metadata.h"
#include "server/server.h"

typedef enum part { PART_PIPELINE, PART_LOG, PART_DAG, PART_PROCESS } part;

typedef struct family_row {
    part part;
    const char *name;
    sl_metric_type type;
    const char *labels;        /* for the reference */
    const char *help;
} family_row;

static const family_row families[] = {
    { PART_PIPELINE, "sluice_pipeline_up", SL_METRIC_GAUGE, "pipeline", "1 while the pipeline runs, else 0" },
    { PART_PIPELINE, "sluice_pipeline_restarts_total", SL_METRIC_COUNTER, "pipeline",
      "Restarts: after failures, and asked by restart commands" },
    { PART_PIPELINE, "sluice_pipeline_records_in_total", SL_METRIC_COUNTER, "pipeline", "Records read by the source" },
    { PART_PIPELINE, "sluice_pipeline_records_out_total", SL_METRIC_COUNTER, "pipeline",
      "Records stored by the sinks (counted at the first sink)" },
    { PART_PIPELINE, "sluice_pipeline_records_filtered_total", SL_METRIC_COUNTER, "pipeline",
      "Records the SQL's WHERE dropped" },
    { PART_PIPELINE, "sluice_pipeline_dead_letters_total", SL_METRIC_COUNTER, "pipeline",
      "Records sent to the dead-letter topic" },
    { PART_PIPELINE, "sluice_pipeline_errors_total", SL_METRIC_COUNTER, "pipeline",
      "Failures: runs that failed (each a restart's cause) and records that failed in SQL or a sink" },
    { PART_PIPELINE, "sluice_pipeline_bytes_in_total", SL_METRIC_COUNTER, "pipeline",
      "Raw bytes of the records read (0 for sources that produce values, such as generator)" },
    { PART_PIPELINE, "sluice_pipeline_bytes_out_total", SL_METRIC_COUNTER, "pipeline",
      "Raw bytes of the records stored (their input text, or the JSON text made for sinks that store it)" },
    { PART_PIPELINE, "sluice_pipeline_lag_records", SL_METRIC_GAUGE, "pipeline",
      "Records of the source's topics past its position, summed over partitions (topic and kafka sources)" },
    { PART_PIPELINE, "sluice_pipeline_queue_depth_batches", SL_METRIC_GAUGE, "pipeline",
      "Batches read and not yet durable in every sink (at most max_inflight)" },
    { PART_PIPELINE, "sluice_pipeline_batch_duration_seconds", SL_METRIC_HISTOGRAM, "pipeline",
      "A batch's time from the end of its read until every sink made it durable" },
    { PART_PIPELINE, "sluice_source_partition_position", SL_METRIC_GAUGE, "pipeline, topic, partition",
      "The next offset the running pipeline's source reads in the partition (topic and kafka sources)" },
    { PART_PIPELINE, "sluice_source_partition_committed_offset", SL_METRIC_GAUGE, "pipeline, topic, partition",
      "The next offset the source committed (every sink durable below it); no sample before its first commit" },
    { PART_PIPELINE, "sluice_source_partition_end_offset", SL_METRIC_GAUGE, "pipeline, topic, partition",
      "The partition's end as the source last saw it (Kafka: the high watermark of its latest fetch)" },
    { PART_PIPELINE, "sluice_source_partition_lag_records", SL_METRIC_GAUGE, "pipeline, topic, partition",
      "End offset minus position: records of the partition the source has not read yet" },
    { PART_PIPELINE, "sluice_sink_request_duration_seconds", SL_METRIC_HISTOGRAM, "pipeline, sink",
      "A sink's write until durable (SQLite commit, Kafka delivery, CQL batches, topic append), per write; "
      "sink is the connector's name (a second sink of one connector: NAME_2)" },
    { PART_LOG, "sluice_topic_partition_start_offset", SL_METRIC_GAUGE, "topic, partition",
      "First offset still in the embedded log's partition" },
    { PART_LOG, "sluice_topic_partition_end_offset", SL_METRIC_GAUGE, "topic, partition",
      "The offset the next record appended to the partition gets" },
    { PART_LOG, "sluice_topic_partition_bytes", SL_METRIC_GAUGE, "topic, partition",
      "Bytes of the partition's segment files" },
    { PART_LOG, "sluice_consumer_group_committed_offset", SL_METRIC_GAUGE, "group, topic, partition",
      "The next offset an embedded consumer group committed" },
    { PART_LOG, "sluice_consumer_group_lag_records", SL_METRIC_GAUGE, "group, topic, partition",
      "Records of the partition past the group's committed offset" },
    { PART_DAG, "sluice_dag_runs", SL_METRIC_GAUGE, "dag, state",
      "DAG runs in the metadata store in each state (queued, running, success, failed)" },
    { PART_DAG, "sluice_dag_run_duration_seconds", SL_METRIC_HISTOGRAM, "dag",
      "Durations of finished DAG runs (success or failed), start to end" },
    { PART_PROCESS, "process_resident_memory_bytes", SL_METRIC_GAUGE, "", "Resident memory of the process" },
    { PART_PROCESS, "process_cpu_seconds_total", SL_METRIC_COUNTER, "", "User and system CPU time of the process" },
    { PART_PROCESS, "process_open_fds", SL_METRIC_GAUGE, "", "Open file descriptors" },
    { PART_PROCESS, "process_max_fds", SL_METRIC_GAUGE, "", "The limit on open file descriptors (RLIMIT_NOFILE)" },
    { PART_PROCESS, "process_start_time_seconds", SL_METRIC_GAUGE, "", "When the process started, in seconds since the epoch" },
};

/* Runs of one DAG and state read per gathering, at most, a page at a time. */
#define DAG_RUNS_MAX 100000
#define DAG_PAGE 1000

static int declare(sl_metric_set *set, part which, sl_error *err)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        if (families[i].part != which) continue;
        int rc = sl_metric_set_family(set, families[i].name, families[i].type, families[i].help);
        if (rc) return sl_error_set(err, rc, "metric family %s: cannot be declared", families[i].name);
    }
    return SL_OK;
}

static int add(sl_metric_set *set, const char *name, const sl_metric_label *labels, size_t n_labels, double value,
               sl_error *err)
{
    int rc = sl_metric_set_add(set, name, labels, n_labels, value);
    if (rc) return sl_error_set(err, rc, "metric %s: cannot be added", name);
    return SL_OK;
}

/* _bucket (with le), _sum and _count of a histogram family called base. */
static int add_histogram(sl_metric_set *set, const char *base, const sl_metric_label *labels, size_t n_labels,
                         const sl_histogram_snapshot *snapshot, sl_error *err)
{
    char name[200], le[32];
    sl_metric_label with_le[SL_METRIC_MAX_LABELS];
    if (n_labels + 1 > SL_METRIC_MAX_LABELS) return sl_error_set(err, SL_EINVAL, "metric %s: too many labels", base);
    memcpy(with_le, labels, n_labels * sizeof *labels);
    with_le[n_labels] = (sl_metric_label){ "le", le };
    snprintf(name, sizeof name, "%s_bucket", base);
    int rc = SL_OK;
    for (size_t i = 0; i <= snapshot->bounds->n_bounds && rc == SL_OK; i++) {
        if (i < snapshot->bounds->n_bounds) snprintf(le, sizeof le, "%.6g", sl_histogram_bound_seconds(snapshot->bounds, i));
        else snprintf(le, sizeof le, "+Inf");
        rc = add(set, name, with_le, n_labels + 1, (double)snapshot->cumulative[i], err);
    }
    snprintf(name, sizeof name, "%s_sum", base);
    if (rc == SL_OK) rc = add(set, name, labels, n_labels, snapshot->sum_seconds, err);
    snprintf(name, sizeof name, "%s_count", base);
    if (rc == SL_OK) rc = add(set, name, labels, n_labels, (double)snapshot->count, err);
    return rc;
}

/* ---- pipelines ---- */

static int add_pipeline(sl_metric_set *set, const sl_supervised_pipeline *pipeline, sl_error *err)
{
    const sl_pipeline_metrics *m = &pipeline->metrics;
    sl_metric_label labels[2] = { { "pipeline", pipeline->name } };
    int rc = add(set, "sluice_pipeline_up", labels, 1, pipeline->is_up ? 1 : 0, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_restarts_total", labels, 1, pipeline->n_restarts, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_records_in_total", labels, 1, (double)m->records_in, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_records_out_total", labels, 1, (double)m->records_out, err);
    if (rc == SL_OK)
        rc = add(set, "sluice_pipeline_records_filtered_total", labels, 1, (double)m->records_filtered, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_dead_letters_total", labels, 1, (double)m->records_dead, err);
    if (rc == SL_OK)
        rc = add(set, "sluice_pipeline_errors_total", labels, 1,
                 (double)(m->records_failed + (uint64_t)pipeline->n_failures), err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_bytes_in_total", labels, 1, (double)m->bytes_in, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_bytes_out_total", labels, 1, (double)m->bytes_out, err);
    if (rc == SL_OK && m->lag >= 0) rc = add(set, "sluice_pipeline_lag_records", labels, 1, (double)m->lag, err);
    if (rc == SL_OK) rc = add(set, "sluice_pipeline_queue_depth_batches", labels, 1, (double)m->queue_depth, err);
    if (rc == SL_OK) rc = add_histogram(set, "sluice_pipeline_batch_duration_seconds", labels, 1, &m->batch, err);
    for (size_t s = 0; s < m->n_sinks && rc == SL_OK; s++) {
        labels[1] = (sl_metric_label){ "sink", m->sinks[s].name };
        rc = add_histogram(set, "sluice_sink_request_duration_seconds", labels, 2, &m->sinks[s].request, err);
    }
    for (size_t i = 0; i < m->n_partitions && rc == SL_OK; i++) {
        const sl_partition_position *at = &m->partitions[i];
        char partition[16];
        snprintf(partition, sizeof partition, "%" PRId32, at->partition);
        sl_metric_label where[] = { { "pipeline", pipeline->name }, { "topic", at->topic }, { "partition", partition } };
        if (at->position >= 0) rc = add(set, "sluice_source_partition_position", where, 3, (double)at->position, err);
        if (rc == SL_OK && at->committed >= 0)
            rc = add(set, "sluice_source_partition_committed_offset", where, 3, (double)at->committed, err);
        if (rc == SL_OK && at->end_offset >= 0)
            rc = add(set, "sluice_source_partition_end_offset", where, 3, (double)at->end_offset, err);
        if (rc == SL_OK && at->end_offset >= 0 && at->position >= 0)
            rc = add(set, "sluice_source_partition_lag_records", where, 3,
                     (double)(at->end_offset > at->position ? at->end_offset - at->position : 0), err);
    }
    return rc;
}

int sl_metrics_add_pipelines(sl_metric_set *set, const sl_supervised_pipeline *pipelines, size_t n, sl_error *err)
{
    int rc = declare(set, PART_PIPELINE, err);
    for (size_t i = 0; i < n && rc == SL_OK; i++) rc = add_pipeline(set, &pipelines[i], err);
    return rc;
}

/* ---- the embedded log ---- */

static int add_groups(sl_metric_set *set, sl_log *log, sl_topic *topic, sl_error *err)
{
    const char *name = sl_topic_name(topic);
    int32_t n_partitions = sl_topic_partitions(topic);
    char **groups = NULL;
    size_t n_groups = 0;
    int rc = sl_log_group_list(log, name, &groups, &n_groups, err);
    if (rc) return rc;
    int64_t *offsets = calloc(n_partitions > 0 ? (size_t)n_partitions : 1, sizeof *offsets);
    if (!offsets) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t g = 0; g < n_groups && rc == SL_OK; g++) {
        rc = sl_log_group_load(log, groups[g], name, offsets, n_partitions, err);
        for (int32_t p = 0; p < n_partitions && rc == SL_OK; p++) {
            if (offsets[p] < 0) continue;
            char partition[16];
            snprintf(partition, sizeof partition, "%" PRId32, p);
            sl_metric_label labels[] = { { "group", groups[g] }, { "topic", name }, { "partition", partition } };
            int64_t end = sl_topic_end_offset(topic, p), start = sl_topic_start_offset(topic, p);
            int64_t from = offsets[p] > start ? offsets[p] : start;
            rc = add(set, "sluice_consumer_group_committed_offset", labels, 3, (double)offsets[p], err);
            if (rc == SL_OK)
                rc = add(set, "sluice_consumer_group_lag_records", labels, 3, (double)(end > from ? end - from : 0), err);
        }
    }
    free(offsets);
    sl_log_names_free(groups, n_groups);
    return rc;
}

int sl_metrics_add_log(sl_metric_set *set, sl_log *log, sl_error *err)
{
    int rc = declare(set, PART_LOG, err);
    if (rc || !log) return rc;
    char **names = NULL;
    size_t n_names = 0;
    rc = sl_log_topic_list(log, &names, &n_names, err);
    for (size_t t = 0; t < n_names && rc == SL_OK; t++) {
        sl_topic *topic = NULL;
        sl_error open_err;
        sl_error_clear(&open_err);
        if (sl_log_topic_open(log, names[t], &topic, &open_err)) continue;   /* deleted meanwhile */
        for (int32_t p = 0; p < sl_topic_partitions(topic) && rc == SL_OK; p++) {
            char partition[16];
            snprintf(partition, sizeof partition, "%" PRId32, p);
            sl_metric_label labels[] = { { "topic", names[t] }, { "partition", partition } };
            rc = add(set, "sluice_topic_partition_start_offset", labels, 2, (double)sl_topic_start_offset(topic, p), err);
            if (rc == SL_OK)
                rc = add(set, "sluice_topic_partition_end_offset", labels, 2, (double)sl_topic_end_offset(topic, p), err);
            if (rc == SL_OK) rc = add(set, "sluice_topic_partition_bytes", labels, 2, (double)sl_topic_bytes(topic, p), err);
        }
        if (rc == SL_OK) rc = add_groups(set, log, topic, err);
    }
    sl_log_names_free(names, n_names);
    return rc;
}

/* ---- DAGs ---- */

typedef struct dag_list {
    char **names;
    size_t n;
    int rc;
} dag_list;

static int collect_dag(void *context, const sl_meta_dag *dag)
{
    dag_list *list = context;
    char **grown = realloc(list->names, (list->n + 1) * sizeof *grown);
    char *copy = grown ? strdup(dag->dag_id) : NULL;
    if (grown) list->names = grown;
    if (!copy) return list->rc = SL_ENOMEM;
    list->names[list->n++] = copy;
    return SL_OK;
}

typedef struct run_count {
    uint64_t n;
    sl_histogram_snapshot *durations;   /* NULL: counted only */
} run_count;

static int count_run(void *context, const sl_meta_run *run)
{
    run_count *count = context;
    count->n++;
    if (count->durations && run->start_us != SL_META_NO_TIME && run->end_us != SL_META_NO_TIME &&
        run->end_us >= run->start_us)
        sl_histogram_snapshot_observe_ns(count->durations, (uint64_t)(run->end_us - run->start_us) * 1000);
    return SL_OK;
}

static int add_dag(sl_metric_set *set, sl_metadata *store, const char *dag, sl_error *err)
{
    sl_histogram_snapshot durations;
    sl_histogram_snapshot_init(&durations, &SL_HISTOGRAM_DURATION);
    int rc = SL_OK;
    for (int state = 0; state < SL_META_RUN_STATE_COUNT && rc == SL_OK; state++) {
        bool is_finished = state == SL_META_RUN_SUCCESS || state == SL_META_RUN_FAILED;
        run_count count = { 0, is_finished ? &durations : NULL };
        sl_meta_run_cursor cursor = { 0 }, next = { 0 };
        do {
            rc = sl_metadata_run_list_state(store, dag, (sl_meta_run_state)state, cursor.is_set ? &cursor : NULL,
                                            DAG_PAGE, count_run, &count, &next, err);
            cursor = next;
        } while (rc == SL_OK && next.is_set && count.n < DAG_RUNS_MAX);
        sl_metric_label labels[] = { { "dag", dag }, { "state", sl_meta_run_state_name((sl_meta_run_state)state) } };
        if (rc == SL_OK) rc = add(set, "sluice_dag_runs", labels, 2, (double)count.n, err);
    }
    sl_metric_label labels[] = { { "dag", dag } };
    if (rc == SL_OK) rc = add_histogram(set, "sluice_dag_run_duration_seconds", labels, 1, &durations, err);
    return rc;
}

int sl_metrics_add_dags(sl_metric_set *set, const char *metadata, sl_error *err)
{
    int rc = declare(set, PART_DAG, err);
    if (rc || !metadata) return rc;
    sl_metadata *store = NULL;
    sl_error store_err;
    sl_error_clear(&store_err);
    dag_list list = { 0 };
    rc = sl_metadata_open(metadata, &store, &store_err);
    if (rc == SL_OK) rc = sl_metadata_dag_list(store, collect_dag, &list, &store_err);
    for (size_t i = 0; i < list.n && rc == SL_OK; i++) rc = add_dag(set, store, list.names[i], &store_err);
    if (rc && rc != SL_ENOMEM && store_err.code != SL_OK) {
        /* The store's trouble leaves the DAG families without samples; the
         * rest of /metrics still answers. */
        sl_warn("metrics", "DAG metrics skipped: %s", store_err.message);
        rc = SL_OK;
    } else if (rc) {
        sl_error_set(err, rc, "DAG metrics: %s", store_err.code != SL_OK ? store_err.message : "out of memory");
    }
    for (size_t i = 0; i < list.n; i++) free(list.names[i]);
    free(list.names);
    sl_metadata_close(store);
    return rc;
}

/* ---- the process ---- */

/* Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in clock ticks. */
static bool read_stat(unsigned long long *utime, unsigned long long *stime, unsigned long long *start)
{
    FILE *file = fopen("/proc/self/stat", "r");
    if (!file) return false;
    char line[2048];
    bool is_read = fgets(line, sizeof line, file) != NULL;
    fclose(file);
    char *after_name = is_read ? strrchr(line, ')') : NULL;   /* the name may hold spaces */
    if (!after_name) return false;
    /* After ") ": field 3 (state) onwards. */
    int n = sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
                   utime, stime, start);
    return n == 3;
}

static bool read_boot_time(unsigned long long *btime)
{
    FILE *file = fopen("/proc/stat", "r");
    if (!file) return false;
    char line[512];
    bool is_found = false;
    while (!is_found && fgets(line, sizeof line, file)) is_found = sscanf(line, "btime %llu", btime) == 1;
    fclose(file);
    return is_found;
}

static long count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    long n = 0;
    for (struct dirent *entry; (entry = readdir(dir));)
        if (entry->d_name[0] != '.') n++;
    closedir(dir);
    return n - 1;   /* the directory's own descriptor */
}

int sl_metrics_add_process(sl_metric_set *set, sl_error *err)
{
    int rc = declare(set, PART_PROCESS, err);
    if (rc) return rc;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long utime = 0, stime = 0, start = 0, btime = 0, size = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%llu %llu", &size, &resident) == 2 && page > 0)
            rc = add(set, "process_resident_memory_bytes", NULL, 0, (double)resident * (double)page, err);
        fclose(statm);
    }
    if (rc == SL_OK && ticks > 0 && read_stat(&utime, &stime, &start)) {
        rc = add(set, "process_cpu_seconds_total", NULL, 0, (double)(utime + stime) / (double)ticks, err);
        if (rc == SL_OK && read_boot_time(&btime))
            rc = add(set, "process_start_time_seconds", NULL, 0, (double)btime + (double)start / (double)ticks, err);
    }
    long n_fds = count_open_fds();
    if (rc == SL_OK && n_fds >= 0) rc = add(set, "process_open_fds", NULL, 0, (double)n_fds, err);
    struct rlimit limit;
    if (rc == SL_OK && getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        rc = add(set, "process_max_fds", NULL, 0, (double)limit.rlim_cur, err);
    return rc;
}

/* ---- all of it, and the reference ---- */

int sl_metrics_gather(struct sl_server *server, sl_metric_set **out, sl_error *err)
{
    *out = NULL;
    sl_metric_set *set = sl_metric_set_new();
    if (!set) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sl_supervised_pipeline *pipelines = NULL;
    size_t n = 0;
    int rc = sl_supervisor_read_metrics(sl_server_supervisor(server), &pipelines, &n);
    if (rc) sl_error_set(err, rc, "reading the pipelines' metrics: out of memory");
    if (rc == SL_OK) rc = sl_metrics_add_pipelines(set, pipelines, n, err);
    sl_supervised_pipelines_free(pipelines, n);
    if (rc == SL_OK) rc = sl_metrics_add_log(set, sl_server_log(server), err);
    if (rc == SL_OK) rc = sl_metrics_add_dags(set, sl_server_metadata(server), err);
    if (rc == SL_OK) rc = sl_metrics_add_process(set, err);
    if (rc) {
        sl_metric_set_free(set);
        return rc;
    }
    *out = set;
    return SL_OK;
}

int sl_metrics_reference(sl_buffer *out)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    int rc = sl_buffer_append_cstr(out, "| metric | type | labels | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof families / sizeof families[0] && rc == SL_OK; i++)
        rc = sl_buffer_printf(out, "| `%s` | %s | %s | %s |\n", families[i].name, type_names[families[i].type],
                              families[i].labels[0] ? families[i].labels : "—", families[i].help);
    return rc;
}
