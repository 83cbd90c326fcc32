/* api_dags.c — the DAG routes' handlers (see api_dags.h): each takes the
 * scheduler's current DAGs (sl_scheduler_dags_acquire), opens a connection
 * of its own to the metadata store (a store is one connection for one
 * thread; libmicrohttpd runs handlers on several), answers through
 * dag_api.h, closes the connection, and after a change that succeeded
 * wakes the scheduler so it acts on it at once.
 */
#include "server/dags/api_dags.h"

#include <stdbool.h>

#include "core/clock.h"
#include "scheduler/scheduler.h"
#include "server/dags/dag_api.h"
#include "server/server.h"

typedef struct call {
    sl_server *server;
    sl_scheduler_dags *dags;
    sl_dag_api api;
} call;

/* false after a 503 in response: the store cannot be opened now. */
static bool call_begin(void *context, sl_http_response *response, call *c)
{
    c->server = context;
    c->dags = sl_scheduler_dags_acquire(sl_server_scheduler(c->server));
    const sl_plan *plan = sl_scheduler_dags_plan(c->dags);
    c->api = (sl_dag_api){ .dags = sl_scheduler_dags_set(c->dags), .data_dir = plan->data_dir,
                           .now_us = sl_clock_wall_us() };
    sl_error err;
    sl_error_clear(&err);
    if (sl_metadata_open(sl_server_metadata(c->server), &c->api.store, &err) == SL_OK) return true;
    sl_http_error(response, 503, "%s", err.message);
    sl_scheduler_dags_release(c->dags);
    return false;
}

static void call_end(call *c, const sl_http_response *response, bool is_change)
{
    sl_metadata_close(c->api.store);
    sl_scheduler_dags_release(c->dags);
    if (is_change && response->status >= 200 && response->status < 300)
        sl_scheduler_wake(sl_server_scheduler(c->server));
}

void sl_api_dags_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_list_dags(&c.api, sl_http_query(request, "limit"), sl_http_query(request, "cursor"),
                         sl_http_query(request, "prefix"), sl_http_query(request, "paused"), response);
    call_end(&c, response, false);
}

void sl_api_dags_get(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_get_dag(&c.api, sl_http_param(request, "dag"), response);
    call_end(&c, response, false);
}

static void set_paused(void *context, const sl_http_request *request, sl_http_response *response, bool is_paused)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_set_paused(&c.api, sl_http_param(request, "dag"), is_paused, response);
    call_end(&c, response, true);
}

void sl_api_dags_pause(void *context, const sl_http_request *request, sl_http_response *response)
{
    set_paused(context, request, response, true);
}

void sl_api_dags_unpause(void *context, const sl_http_request *request, sl_http_response *response)
{
    set_paused(context, request, response, false);
}

void sl_api_dags_list_runs(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_list_runs(&c.api, sl_http_param(request, "dag"), sl_http_query(request, "state"),
                         sl_http_query(request, "limit"), sl_http_query(request, "cursor"), response);
    call_end(&c, response, false);
}

void sl_api_dags_trigger(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_trigger(&c.api, sl_http_param(request, "dag"), request->body, request->body_len, response);
    call_end(&c, response, true);
}

void sl_api_dags_get_run(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_get_run(&c.api, sl_http_param(request, "dag"), sl_http_param(request, "run_id"), response);
    call_end(&c, response, false);
}

void sl_api_dags_grid(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_grid(&c.api, sl_http_param(request, "dag"), sl_http_query(request, "limit"),
                    sl_http_query(request, "cursor"), response);
    call_end(&c, response, false);
}

void sl_api_dags_task_log(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_task_log(&c.api, sl_http_param(request, "dag"), sl_http_param(request, "run_id"),
                        sl_http_param(request, "task"), sl_http_query(request, "try"), response);
    call_end(&c, response, false);
}

void sl_api_dags_clear(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_clear(&c.api, sl_http_param(request, "dag"), sl_http_param(request, "run_id"), request->body,
                     request->body_len, response);
    call_end(&c, response, true);
}

void sl_api_dags_mark_run(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_mark_run(&c.api, sl_http_param(request, "dag"), sl_http_param(request, "run_id"), request->body,
                        request->body_len, response);
    call_end(&c, response, true);
}

void sl_api_dags_mark_task(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_mark_task(&c.api, sl_http_param(request, "dag"), sl_http_param(request, "run_id"),
                         sl_http_param(request, "task"), request->body, request->body_len, response);
    call_end(&c, response, true);
}

void sl_api_dags_backfill(void *context, const sl_http_request *request, sl_http_response *response)
{
    call c;
    if (!call_begin(context, response, &c)) return;
    sl_dag_api_backfill(&c.api, sl_http_param(request, "dag"), request->body, request->body_len, response);
    call_end(&c, response, true);
}
