/* metrics_run.c — the metrics listener of `sluice run` (see
 * metrics_run.h): two routes over http.c, and the run's pipelines behind a
 * mutex. */
#include "server/metrics/metrics_run.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/logger.h"
#include "server/metrics/api_metrics.h"
#include "server/http.h"
#include "server/metrics/metrics.h"

struct sl_metrics_run {
    sl_http_server *http;
    pthread_mutex_t mutex;       /* guards the three below */
    sl_log *log;
    sl_pipeline **pipelines;     /* a copy of the run's array; the pipelines are the run's */
    size_t n_pipelines;
};

static const char *state_name(int state)
{
    switch (state) {
    case SL_PIPELINE_CREATED: return "starting";
    case SL_PIPELINE_RUNNING: return "running";
    case SL_PIPELINE_FINISHED: return "finished";
    default: return "failed";
    }
}

/* The pipelines' metrics and the log's, under the mutex. */
static int gather_run(sl_metrics_run *listener, sl_metric_set *set, sl_error *err)
{
    pthread_mutex_lock(&listener->mutex);
    size_t n = listener->n_pipelines;
    sl_supervised_pipeline *pipelines = calloc(n ? n : 1, sizeof *pipelines);
    int rc = pipelines ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    size_t n_read = 0;   /* entries holding metrics to free */
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        sl_pipeline *pipeline = listener->pipelines[i];
        sl_supervised_pipeline *to = &pipelines[i];
        int state = atomic_load(&sl_pipeline_stats_of(pipeline)->state);
        snprintf(to->name, sizeof to->name, "%s", sl_pipeline_name(pipeline));
        to->state = state_name(state);
        to->is_up = state == SL_PIPELINE_RUNNING;
        to->n_failures = state == SL_PIPELINE_FAILED;
        rc = sl_pipeline_read_metrics(pipeline, &to->metrics);   /* left empty when it fails */
        if (rc) sl_error_set(err, rc, "out of memory");
        else n_read++;
    }
    if (rc == SL_OK) rc = sl_metrics_add_pipelines(set, pipelines, n, err);
    if (rc == SL_OK) rc = sl_metrics_add_log(set, listener->log, err);
    pthread_mutex_unlock(&listener->mutex);
    sl_supervised_pipelines_free(pipelines, n_read);
    return rc;
}

static void metrics(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)request;
    sl_error err;
    sl_error_clear(&err);
    sl_metric_set *set = sl_metric_set_new();
    int rc = set ? gather_run(context, set, &err) : sl_error_set(&err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK) rc = sl_metrics_add_process(set, &err);
    sl_api_metrics_answer(set, rc, &err, response);
}

static void healthz(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)context;
    (void)request;
    if (sl_buffer_append_cstr(&response->body, "{\"status\":\"ok\"}\n")) sl_http_error(response, 500, "out of memory");
}

static const sl_http_route routes[] = {
    { "GET", "/healthz", healthz, "200 while the run runs" },
    { "GET", "/metrics", metrics, "the run's metrics in the Prometheus text format" },
    { NULL, NULL, NULL, NULL },
};

int sl_metrics_run_start(const char *listen, sl_metrics_run **out, sl_error *err)
{
    sl_metrics_run *listener = calloc(1, sizeof *listener);
    if (!listener) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pthread_mutex_init(&listener->mutex, NULL);
    int rc = sl_http_start(listen, routes, listener, &listener->http, err);
    if (rc) {
        sl_error_prefix(err, "--metrics-listen: ");
        sl_metrics_run_stop(listener);
        return rc;
    }
    sl_info("metrics", "serving /metrics on %s (port %d)", listen, sl_http_port(listener->http));
    *out = listener;
    return SL_OK;
}

int sl_metrics_run_port(const sl_metrics_run *listener)
{
    return sl_http_port(listener->http);
}

void sl_metrics_run_watch(void *context, sl_log *log, sl_pipeline *const *pipelines, size_t n)
{
    sl_metrics_run *listener = context;
    sl_pipeline **copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy) memcpy(copy, pipelines, n * sizeof *copy);
    else if (n) sl_warn("metrics", "out of memory: /metrics leaves the run's pipelines out");
    pthread_mutex_lock(&listener->mutex);
    free(listener->pipelines);
    listener->pipelines = copy;
    listener->n_pipelines = copy ? n : 0;
    listener->log = copy ? log : NULL;
    pthread_mutex_unlock(&listener->mutex);
}

void sl_metrics_run_stop(sl_metrics_run *listener)
{
    if (!listener) return;
    sl_http_stop(listener->http);
    free(listener->pipelines);
    pthread_mutex_destroy(&listener->mutex);
    free(listener);
}
