/* api_metrics.c — GET /metrics and the pipeline reads (see
 * api_metrics.h). /metrics gathers a fresh set per request (metrics.c);
 * the pipeline objects come from the supervisor, their rates from the
 * history's latest sample. */
#include "server/metrics/api_metrics.h"

#include "server/api_params.h"
#include "server/dags/dag_json.h"
#include "server/metrics/history.h"
#include "server/metrics/metrics.h"
#include "server/server.h"
#include "server/supervisor.h"

void sl_api_metrics_answer(sl_metric_set *set, int rc, const sl_error *err, sl_http_response *response)
{
    if (rc == SL_OK && sl_metric_set_write_text(set, &response->body)) {
        sl_buffer_clear(&response->body);
        rc = SL_ENOMEM;
    }
    sl_metric_set_free(set);
    if (rc) {
        sl_http_error(response, 500, "gathering the metrics failed: %s",
                      err && err->code != SL_OK ? err->message : sl_error_message(rc));
        return;
    }
    response->content_type = SL_METRICS_CONTENT_TYPE;
}

void sl_api_metrics(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)request;
    sl_metric_set *set = NULL;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_metrics_gather(context, &set, &err);
    sl_api_metrics_answer(set, rc, &err, response);
}

/* Paged and filtered on the server, by name: ?prefix=, ?state=, ?limit=
 * (default 100), ?cursor=. */
void sl_api_pipelines_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    int limit;
    char after[256];
    const char *state = sl_http_query(request, "state");
    if (!sl_api_param_limit(sl_http_query(request, "limit"), 100, &limit, response) ||
        !sl_api_param_cursor('p', sl_http_query(request, "cursor"), after, sizeof after, response))
        return;
    if (state && !sl_supervisor_is_state_name(state)) {
        sl_http_error(response, 400, "state '%.40s' is not one of waiting, starting, running, backoff, failed, "
                      "finished, stopping, stopped", state);
        return;
    }
    sl_pipeline_page page = { .prefix = sl_http_query(request, "prefix"), .state = state, .after = after,
                              .limit = (size_t)limit };
    int rc = sl_buffer_append_cstr(&response->body, "{\"pipelines\":");
    if (rc == SL_OK)
        rc = sl_supervisor_describe_page(sl_server_supervisor(context), &page, sl_history_rates,
                                         sl_server_history(context), &response->body);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&response->body, ",\"next_cursor\":");
    if (rc == SL_OK && page.next_after[0]) {
        char cursor[SL_DAG_CURSOR_MAX];
        sl_dag_cursor_encode('p', page.next_after, cursor);
        rc = sl_buffer_printf(&response->body, "\"%s\"", cursor);
    } else if (rc == SL_OK) {
        rc = sl_buffer_append_cstr(&response->body, "null");
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&response->body, "}\n");
    if (rc) sl_http_error(response, 500, "out of memory");
}

static void not_found(sl_http_response *response, const char *name)
{
    sl_http_error(response, 404, "no continuous pipeline %s in the server's config (a pipeline DAG tasks run has "
                  "no object here)", name);
}

void sl_api_pipelines_get(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *name = sl_http_param(request, "name");
    int rc = sl_supervisor_describe(sl_server_supervisor(context), name, sl_history_rates,
                                    sl_server_history(context), &response->body);
    if (rc == SL_ENOTFOUND) not_found(response, name);
    else if (rc || sl_buffer_append_byte(&response->body, '\n')) sl_http_error(response, 500, "out of memory");
}

void sl_api_pipelines_history(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *name = sl_http_param(request, "name");
    sl_buffer scratch = { 0 };
    int rc = sl_supervisor_describe(sl_server_supervisor(context), name, NULL, NULL, &scratch);
    sl_buffer_free(&scratch);
    if (rc == SL_ENOTFOUND) not_found(response, name);
    else if (rc || sl_history_write_json(sl_server_history(context), name, &response->body))
        sl_http_error(response, 500, "out of memory");
}
