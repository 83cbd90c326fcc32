/* api_dags.h — the handlers of the DAG routes of `sluice server`
 * (/api/v1/dags...; docs/api.md), listed in api.c's route table. The
 * context of every handler is the sl_server. */
#ifndef SL_API_DAGS_H
#define SL_API_DAGS_H

#include "server/http.h"

void sl_api_dags_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_get(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_pause(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_unpause(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_list_runs(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_trigger(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_get_run(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_grid(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_task_log(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_clear(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_mark_run(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_mark_task(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dags_backfill(void *context, const sl_http_request *request, sl_http_response *response);

#endif
