/* api_metrics.h — the handlers of GET /metrics (the Prometheus text
 * format, metrics.h) and of the pipeline reads with metrics: GET
 * /api/v1/pipelines, /api/v1/pipelines/{name} and its /history
 * (docs/api.md), listed in api.c's route table. The context of every
 * handler is the sl_server. */
#ifndef SL_API_METRICS_H
#define SL_API_METRICS_H

#include "server/http.h"
#include "server/metrics/metric_set.h"

void sl_api_metrics(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_pipelines_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_pipelines_get(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_pipelines_history(void *context, const sl_http_request *request, sl_http_response *response);

/* The answer of a /metrics gathering (the server's, `sluice run
 * --metrics-listen`'s): 200 with set in the text format, or 500 with what
 * gathering (rc, err) or writing failed. Frees set. */
void sl_api_metrics_answer(sl_metric_set *set, int rc, const sl_error *err, sl_http_response *response);

#endif
