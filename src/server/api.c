/* api.c — the handlers of `sluice server`'s HTTP routes (see api.h). They
 * read the supervisor's snapshot and post reloads and control commands to
 * the main thread; only a stop (or restart) waits on a pipeline, for its
 * drain, through the main thread. */
#include "server/api.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "runtime/control.h"
#include "server/alerts/alerts_api.h"
#include "server/auth/api_auth.h"
#include "server/dags/api_dags.h"
#include "server/metrics/api_metrics.h"
#include "server/topics/api_dead_letters.h"
#include "server/topics/api_groups.h"
#include "server/topics/api_topics.h"
#include "server/server.h"
#include "server/supervisor.h"
#include "server/ui/ui.h"

static void healthz(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)context;
    (void)request;
    if (sl_buffer_append_cstr(&response->body, "{\"status\":\"ok\"}\n"))
        sl_http_error(response, 500, "out of memory");
}

static void readyz(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)request;
    sl_supervisor *supervisor = sl_server_supervisor(context);
    bool is_ready = sl_supervisor_is_ready(supervisor);
    response->status = is_ready ? 200 : 503;
    if (sl_buffer_append_cstr(&response->body, is_ready ? "{\"ready\":true,\"pipelines\":" : "{\"ready\":false,\"pipelines\":") ||
        sl_supervisor_snapshot(supervisor, &response->body) || sl_buffer_append_cstr(&response->body, "}\n"))
        sl_http_error(response, 500, "out of memory");
}

static void reload(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)request;
    response->status = sl_server_reload_from_http(context, &response->body);
}

/* 200 {"pipeline","action","detail"}; 404 for an unknown pipeline, 409 for
 * one DAG tasks run, 503 while the server stops. */
static void control(void *context, const sl_http_request *request, sl_http_response *response,
                    sl_control_action action)
{
    const char *name = sl_http_param(request, "name");
    const char *verb = sl_control_action_names[action];
    char reason[400], detail[600];
    snprintf(reason, sizeof reason, "the HTTP API (POST /api/v1/pipelines/%s/%s)%s%s", name, verb,
             request->who.name[0] ? " by token " : "", request->who.name);
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_server_control(context, name, action, reason, detail, sizeof detail, &err);
    if (rc) {
        int status = rc == SL_ENOTFOUND ? 404 : rc == SL_EINVAL ? 409 : rc == SL_ECANCELED ? 503 : 500;
        sl_http_error(response, status, "%s", err.message);
        return;
    }
    if (sl_buffer_append_cstr(&response->body, "{\"pipeline\":") ||
        sl_json_write_string(&response->body, name, strlen(name)) ||
        sl_buffer_printf(&response->body, ",\"action\":\"%s\",\"detail\":", verb) ||
        sl_json_write_string(&response->body, detail, strlen(detail)) || sl_buffer_append_cstr(&response->body, "}\n"))
        sl_http_error(response, 500, "out of memory");
}

static void start_pipeline(void *context, const sl_http_request *request, sl_http_response *response)
{
    control(context, request, response, SL_CONTROL_START);
}

static void stop_pipeline(void *context, const sl_http_request *request, sl_http_response *response)
{
    control(context, request, response, SL_CONTROL_STOP);
}

static void restart_pipeline(void *context, const sl_http_request *request, sl_http_response *response)
{
    control(context, request, response, SL_CONTROL_RESTART);
}

const sl_http_route sl_api_routes[] = {
    { "GET", "/healthz", healthz, "200 while the process runs", SL_ROLE_PUBLIC },
    { "GET", "/readyz", readyz, "200 when every continuous pipeline runs, else 503; with their states",
      SL_ROLE_PUBLIC },
    { "GET", "/api/v1/pipelines", sl_api_pipelines_list,
      "the continuous pipelines: state, counters, rates, lag and partitions, restarts" },
    { "GET", "/api/v1/pipelines/{name}", sl_api_pipelines_get, "one continuous pipeline's object (as in the list)" },
    { "GET", "/api/v1/pipelines/{name}/history", sl_api_pipelines_history,
      "a continuous pipeline's rates and lag every 5 s over the last 15 minutes, oldest first" },
    { "GET", "/metrics", sl_api_metrics, "the metrics in the Prometheus text format (version 0.0.4)" },
    { "POST", "/api/v1/reload", reload, "reload the config file (as SIGHUP), answering with what changed",
      SL_ROLE_ADMIN },
    { "POST", "/api/v1/pipelines/{name}/start", start_pipeline,
      "start a stopped, failed or finished continuous pipeline" },
    { "POST", "/api/v1/pipelines/{name}/stop", stop_pipeline,
      "stop a continuous pipeline, answering once it has drained; it stays stopped until started" },
    { "POST", "/api/v1/pipelines/{name}/restart", restart_pipeline, "stop, then start a continuous pipeline" },
    { "GET", "/api/v1/dags", sl_api_dags_list, "the file's DAGs: schedule, pause, next data interval (paged)" },
    { "GET", "/api/v1/dags/{dag}", sl_api_dags_get, "one DAG with its tasks and its latest runs" },
    { "POST", "/api/v1/dags/{dag}/pause", sl_api_dags_pause,
      "pause a DAG: no new runs start, its runs wait, its tries already running end" },
    { "POST", "/api/v1/dags/{dag}/unpause", sl_api_dags_unpause, "unpause a DAG" },
    { "GET", "/api/v1/dags/{dag}/runs", sl_api_dags_list_runs, "a DAG's runs, newest first (?state=, paged)" },
    { "POST", "/api/v1/dags/{dag}/runs", sl_api_dags_trigger, "trigger a manual run ({conf, logical_date, run_id})" },
    { "GET", "/api/v1/dags/{dag}/grid", sl_api_dags_grid,
      "the latest runs (paged, default 25) with each task's latest state: the grid view in one call" },
    { "GET", "/api/v1/dags/{dag}/runs/{run_id}", sl_api_dags_get_run, "one run with every try of its tasks" },
    { "GET", "/api/v1/dags/{dag}/runs/{run_id}/tasks/{task}/log", sl_api_dags_task_log,
      "a try's log as text (?try=N, default the latest)" },
    { "POST", "/api/v1/dags/{dag}/runs/{run_id}/clear", sl_api_dags_clear,
      "clear tasks of a run so they run again ({tasks, only_failed, downstream})" },
    { "POST", "/api/v1/dags/{dag}/runs/{run_id}/mark", sl_api_dags_mark_run,
      "mark a run success or failed, with its unfinished tries ({state})" },
    { "POST", "/api/v1/dags/{dag}/runs/{run_id}/tasks/{task}/mark", sl_api_dags_mark_task,
      "mark a task's latest try success or failed ({state, downstream, upstream}); failed tasks after it run again" },
    { "POST", "/api/v1/dags/{dag}/backfill", sl_api_dags_backfill, "create backfill runs for logical dates in [from, to]" },
    { "GET", "/api/v1/topics", sl_api_topics_list, "the topics (embedded, and Kafka's for files whose topics are there) with sizes and settings (?prefix=, paged)" },
    { "GET", "/api/v1/topics/{topic}", sl_api_topics_get, "one topic: its partitions' offsets and bytes, the groups reading it" },
    { "GET", "/api/v1/topics/{topic}/messages", sl_api_topics_messages,
      "a page of messages from an offset or a time, one partition or all merged (?partition=&offset=&timestamp=&limit=)" },
    { "POST", "/api/v1/topics/{topic}/messages", sl_api_topics_produce,
      "produce one message ({key, value, headers, partition}) into an embedded topic" },
    { "GET", "/api/v1/groups", sl_api_groups_list,
      "consumer groups, embedded and Kafka's, with their lag (?prefix=&topic=, paged)" },
    { "GET", "/api/v1/groups/{group}", sl_api_groups_get,
      "one group's committed offsets, partition ends and lag (?source=embedded|kafka)" },
    { "GET", "/api/v1/dead-letters", sl_api_dead_letters_list,
      "the dead-letter topics with their counts and latest reasons (paged)" },
    { "GET", "/api/v1/dead-letters/{topic}/messages", sl_api_dead_letters_messages,
      "a page of dead letters with their error, stage and origin (?partition=&offset=&limit=)" },
    { "GET", "/", sl_ui_index, "the web UI (index.html, compiled into the binary)", SL_ROLE_PUBLIC },
    { "GET", "/ui/{file}", sl_ui_file, "a file of the web UI (ETag, If-None-Match answered 304)",
      SL_ROLE_PUBLIC },
    { "GET", "/api/v1/whoami", sl_api_whoami, "the token's name and role (auth: false without auth:)",
      SL_ROLE_VIEWER },
    { "POST", "/api/v1/login", sl_api_login,
      "{token}: a session cookie for the UI, answering {name, role, csrf_token}", SL_ROLE_PUBLIC },
    { "POST", "/api/v1/logout", sl_api_logout, "end the session of the cookie", SL_ROLE_VIEWER },
    { "GET", "/api/v1/tokens", sl_api_tokens_list, "the tokens: name, role, source (file or store)",
      SL_ROLE_ADMIN },
    { "POST", "/api/v1/tokens", sl_api_tokens_create,
      "{name, role}: make a token, answering it once; its salted hash goes to the metadata store", SL_ROLE_ADMIN },
    { "DELETE", "/api/v1/tokens/{name}", sl_api_tokens_delete, "revoke a token made through the API",
      SL_ROLE_ADMIN },
    { "GET", "/api/v1/config", sl_api_config, "the loaded config file as JSON, secrets shown as ***",
      SL_ROLE_ADMIN },
    { "GET", "/api/v1/alerts", sl_api_alerts_list,
      "every alert rule's alert: state (inactive, pending, firing), value, labels, last notification (?state=)" },
    { NULL, NULL, NULL, NULL },
};
