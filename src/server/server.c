/* server.c — the life of `sluice server` (see server.h): load and check the
 * file, take the data dir, start the pipelines and the HTTP port, then wait
 * for signals and reload requests on the main thread, which alone changes
 * what runs.
 *
 * Signals are blocked in every thread (they inherit the mask set before any
 * is started) and taken with sigtimedwait here, so no handler runs at an
 * arbitrary point. What other threads ask of it (a reload over HTTP, a
 * control command from an HTTP handler or a DAG task) is a command queued
 * for the main thread, in order; the asking thread waits for its answer.
 */
#include "server/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config_json.h"
#include "config/diagnostics.h"
#include "core/address.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/pem_pair.h"
#include "log/fs.h"
#include "log/log.h"
#include "metadata/postgres_url.h"
#include "runtime/plan.h"
#include "runtime/plan_auth.h"
#include "server/alerts/alerts.h"
#include "server/api.h"
#include "server/auth/auth.h"
#include "server/metrics/metrics.h"
#include "server/http.h"
#include "scheduler/scheduler.h"
#include "server/metrics/history.h"
#include "server/supervisor.h"

#define LOOP_WAIT_MS 100

/* A command queued for the main thread; its fields are its kind's. */
typedef struct command {
    const struct command_kind *kind;
    sl_buffer *body;                /* reload: the HTTP answer */
    const char *pipeline;           /* control: */
    sl_control_action action;
    const char *reason;
    char *detail;
    size_t detail_size;
    sl_error *err;
    int result;                     /* reload: the HTTP status; control: SL_OK or an SL_E* code */
    bool is_done;
    struct command *next;
} command;

/* What a kind of command does on the main thread, and how it is refused
 * while the server stops. */
typedef struct command_kind {
    const char *name;
    int (*run)(sl_server *server, command *cmd);
    int (*refuse)(command *cmd);
} command_kind;

struct sl_server {
    const char *path;
    char *data_dir;
    char *listen;            /* what the HTTP port was opened on */
    sl_log *log;
    sl_supervisor *supervisor;
    sl_history *history;     /* samples the supervisor's pipelines every 5 s */
    sl_scheduler *scheduler;
    sl_alerts *alerts;       /* the alert evaluator (alerts.h) */
    char *metadata;          /* where the scheduler's store is (a reload cannot move it) */
    sl_http_server *http;
    sl_auth *auth;
    bool is_tls;             /* HTTPS (a reload cannot change it) */
    char *config_json;       /* the file as redacted JSON; guarded by mutex */
    char *info_path;         /* DATA_DIR/server.json */
    pthread_t main_thread;
    pthread_mutex_t mutex;   /* guards config_json and the queue below */
    pthread_cond_t answered;
    command *pending;        /* oldest first */
    command *last_pending;
    bool is_closing;
};

struct sl_supervisor *sl_server_supervisor(sl_server *server)
{
    return server->supervisor;
}

struct sl_alerts *sl_server_alerts(sl_server *server)
{
    return server->alerts;
}

struct sl_log *sl_server_log(sl_server *server)
{
    return server->log;
}

struct sl_scheduler *sl_server_scheduler(sl_server *server)
{
    return server->scheduler;
}

struct sl_history *sl_server_history(sl_server *server)
{
    return server->history;
}

const char *sl_server_metadata(const sl_server *server)
{
    return server->metadata;
}

struct sl_auth *sl_server_auth(sl_server *server)
{
    return server->auth;
}

int sl_server_config_json(sl_server *server, sl_buffer *out)
{
    pthread_mutex_lock(&server->mutex);
    int rc = sl_buffer_append_cstr(out, server->config_json ? server->config_json : "null");
    pthread_mutex_unlock(&server->mutex);
    return rc ? rc : sl_buffer_append_byte(out, '\n');
}

/* Keeps plan's file as redacted JSON for GET /api/v1/config. */
static int keep_config_json(sl_server *server, const sl_plan *plan)
{
    sl_buffer json = { 0 };
    int rc = sl_config_json_write(&json, sl_config_root(plan->doc));
    if (rc == SL_OK) rc = sl_buffer_append_byte(&json, '\0');
    if (rc) {
        sl_buffer_free(&json);
        return rc;
    }
    pthread_mutex_lock(&server->mutex);
    free(server->config_json);
    server->config_json = (char *)json.data;
    pthread_mutex_unlock(&server->mutex);
    return SL_OK;
}

/* ---- reloading ---- */

static int append_diagnostics(sl_buffer *out, sl_diagnostics *diags, sl_diag_severity severity)
{
    int rc = sl_buffer_append_byte(out, '[');
    bool is_first = true;
    for (size_t i = 0; i < diags->n_items && rc == SL_OK; i++) {
        if (diags->items[i].severity != severity) continue;
        char line[1200];
        sl_diagnostic_format(&diags->items[i], line, sizeof line);
        if (!is_first) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = sl_json_write_string(out, line, strlen(line));
        is_first = false;
    }
    return rc == SL_OK ? sl_buffer_append_byte(out, ']') : rc;
}

/* Reloads the file; fills body (when not NULL) with the answer; returns the
 * HTTP status. */
static int reload(sl_server *server, sl_buffer *body)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, server->path);
    sl_plan *plan = NULL;
    int rc = sl_plan_check(server->path, &plan, &diags);
    sl_diagnostics_sort(&diags);
    int status = 200;
    sl_buffer local = { 0 };
    sl_buffer *out = body ? body : &local;
    if (rc) {
        status = 400;
        for (size_t i = 0; i < diags.n_items; i++) {
            char line[1200];
            sl_diagnostic_format(&diags.items[i], line, sizeof line);
            sl_error_log("server", "reload refused, the running config stays: %s", line);
        }
        if (sl_buffer_append_cstr(out, "{\"error\":\"the file has mistakes; the running config stays\",\"errors\":") ||
            append_diagnostics(out, &diags, SL_DIAG_ERROR) || sl_buffer_append_cstr(out, "}\n"))
            status = 500;
    } else if (strcmp(plan->data_dir, server->data_dir) != 0) {
        status = 400;
        char message[700];
        snprintf(message, sizeof message, "data_dir changed from %s to %s: restart the server to move it; "
                 "the running config stays", server->data_dir, plan->data_dir);
        sl_error_log("server", "reload refused: %s", message);
        sl_plan_free(plan);
        if (sl_buffer_append_cstr(out, "{\"error\":") || sl_json_write_string(out, message, strlen(message)) ||
            sl_buffer_append_cstr(out, ",\"errors\":[]}\n"))
            status = 500;
    } else if (!plan->has_auth && !sl_plan_listen_is_loopback(server->listen)) {
        status = 400;
        char message[700];
        snprintf(message, sizeof message, "the file has no auth: but the server listens on %s, which is not a "
                 "loopback address: the running config stays", server->listen);
        sl_error_log("server", "reload refused: %s", message);
        sl_plan_free(plan);
        if (sl_buffer_append_cstr(out, "{\"error\":") || sl_json_write_string(out, message, strlen(message)) ||
            sl_buffer_append_cstr(out, ",\"errors\":[]}\n"))
            status = 500;
    } else {
        if ((plan->http_tls_cert != NULL) != server->is_tls)
            sl_warn("server", "http.tls changed: the port stays %s until the server restarts",
                    server->is_tls ? "HTTPS" : "plain HTTP");
        sl_error auth_err;
        sl_error_clear(&auth_err);
        if (sl_auth_apply(server->auth, plan, &auth_err))
            sl_error_log("server", "reload: reading the stored API tokens: %s", auth_err.message);
        if (keep_config_json(server, plan)) sl_error_log("server", "reload: out of memory keeping the config");
        if (strcmp(plan->metadata, server->metadata) != 0) {
            char *to = sl_pg_url_redact(plan->metadata), *from = sl_pg_url_redact(server->metadata);
            sl_warn("server", "metadata changed to %s: the scheduler keeps %s until the server restarts",
                    to ? to : "another store", from ? from : "its store");
            free(to);
            free(from);
        }
        if (strcmp(plan->http_listen, server->listen) != 0)
            sl_warn("server", "http.listen changed to %s: the port stays %s until the server restarts",
                    plan->http_listen, server->listen);
        sl_buffer changes = { 0 };
        sl_error err;
        sl_error_clear(&err);
        sl_alerts_apply(server->alerts, plan);   /* before the supervisor takes the plan */
        int scheduler_rc = sl_scheduler_apply(server->scheduler, plan, &err);
        if (scheduler_rc) sl_error_log("server", "reload: the scheduler keeps the old DAGs: %s", err.message);
        if (sl_supervisor_apply(server->supervisor, plan, &changes, &err)) {
            status = 500;
            sl_error_log("server", "reload: %s", err.message);
            sl_buffer_clear(out);
            sl_buffer_printf(out, "{\"error\":\"reload failed: out of memory\"}\n");
        } else {
            sl_info("server", "reloaded %s: %.*s", server->path, (int)changes.len, changes.data);
            if (sl_buffer_append_cstr(out, "{\"reloaded\":true,\"changes\":") ||
                sl_buffer_append(out, changes.data, changes.len) || sl_buffer_append_cstr(out, ",\"warnings\":") ||
                append_diagnostics(out, &diags, SL_DIAG_WARNING) || sl_buffer_append_cstr(out, "}\n"))
                status = 500;
        }
        sl_buffer_free(&changes);
    }
    sl_buffer_free(&local);
    sl_diagnostics_free(&diags);
    return status;
}

/* ---- commands for the main thread ---- */

static int run_reload(sl_server *server, command *cmd)
{
    return reload(server, cmd->body);
}

static int refuse_reload(command *cmd)
{
    sl_buffer_append_cstr(cmd->body, "{\"error\":\"the server is stopping\"}\n");
    return 503;
}

static int run_control(sl_server *server, command *cmd)
{
    return sl_supervisor_control(server->supervisor, cmd->pipeline, cmd->action, cmd->reason, cmd->detail,
                                 cmd->detail_size, cmd->err);
}

static int refuse_control(command *cmd)
{
    return sl_error_set(cmd->err, SL_ECANCELED, "pipeline %s: not %s: the server is stopping",
                        cmd->pipeline ? cmd->pipeline : "(none)", cmd->action == SL_CONTROL_STOP ? "stopped" : "started");
}

static const command_kind reload_command = { "reload", run_reload, refuse_reload };
static const command_kind control_command = { "control", run_control, refuse_control };

/* Runs cmd on the main thread (at once when called on it) and returns its
 * result; refused while the server stops. */
static int submit(sl_server *server, command *cmd)
{
    if (pthread_equal(pthread_self(), server->main_thread)) return cmd->kind->run(server, cmd);
    pthread_mutex_lock(&server->mutex);
    if (server->is_closing) {
        pthread_mutex_unlock(&server->mutex);
        return cmd->kind->refuse(cmd);
    }
    if (server->last_pending) server->last_pending->next = cmd;
    else server->pending = cmd;
    server->last_pending = cmd;
    while (!cmd->is_done) pthread_cond_wait(&server->answered, &server->mutex);
    pthread_mutex_unlock(&server->mutex);
    return cmd->result;
}

int sl_server_reload_from_http(sl_server *server, sl_buffer *body)
{
    command cmd = { .kind = &reload_command, .body = body };
    return submit(server, &cmd);
}

int sl_server_control(sl_server *server, const char *pipeline, sl_control_action action, const char *reason,
                      char *detail, size_t detail_size, sl_error *err)
{
    if (detail && detail_size) detail[0] = '\0';
    command cmd = { .kind = &control_command, .pipeline = pipeline, .action = action, .reason = reason,
                    .detail = detail, .detail_size = detail_size, .err = err };
    return submit(server, &cmd);
}

/* Answers the queued commands, oldest first: by running them, or by
 * refusing them when closing (and every command queued from then on). */
static void answer_pending(sl_server *server, bool is_closing)
{
    pthread_mutex_lock(&server->mutex);
    if (is_closing) server->is_closing = true;
    command *commands = server->pending;
    server->pending = server->last_pending = NULL;
    pthread_mutex_unlock(&server->mutex);
    for (command *cmd = commands; cmd;) {
        command *next = cmd->next;   /* read first: cmd is gone once answered */
        int result = is_closing ? cmd->kind->refuse(cmd) : cmd->kind->run(server, cmd);
        pthread_mutex_lock(&server->mutex);
        cmd->result = result;
        cmd->is_done = true;
        pthread_cond_broadcast(&server->answered);
        pthread_mutex_unlock(&server->mutex);
        cmd = next;
    }
}

/* A DAG control task's action, from its try's thread (task_exec.h). */
static int control_for_task(void *context, const char *pipeline, const char *action_name, const char *reason,
                            char *detail, size_t detail_size, sl_error *err)
{
    sl_control_action action;
    if (sl_control_action_parse(action_name, &action) != SL_OK)
        return sl_error_set_permanent(err, SL_EINVAL, "unknown control action '%s'", action_name);
    return sl_server_control(context, pipeline, action, reason, detail, detail_size, err);
}

/* The alert evaluator's metric set: what /metrics shows. */
static int gather_metrics(void *context, sl_metric_set **out, sl_error *err)
{
    return sl_metrics_gather(context, out, err);
}

/* ---- starting and stopping ---- */

/* "http://HOST:PORT" of the bound port, a wildcard host read as loopback. */
static void server_url(const char *listen, int port, bool is_tls, char *url, size_t size)
{
    char host[256] = "127.0.0.1";
    int ignored;
    if (sl_address_parse(listen, -1, true, host, sizeof host, &ignored, NULL) != SL_OK) snprintf(host, sizeof host, "127.0.0.1");
    if (strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (strcmp(host, "::") == 0) snprintf(host, sizeof host, "::1");
    snprintf(url, size, strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d", is_tls ? "https" : "http", host, port);
}

static int write_info(sl_server *server, const char *url, sl_error *err)
{
    size_t len = strlen(server->data_dir) + sizeof "/server.json";
    server->info_path = malloc(len);
    if (!server->info_path) return sl_error_set(err, SL_ENOMEM, "out of memory");
    snprintf(server->info_path, len, "%s/server.json", server->data_dir);
    sl_buffer text = { 0 };
    int rc = sl_buffer_printf(&text, "{\"pid\":%ld,\"url\":", (long)getpid());
    if (rc == SL_OK) rc = sl_json_write_string(&text, url, strlen(url));
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&text, ",\"file\":");
    if (rc == SL_OK) rc = sl_json_write_string(&text, server->path, strlen(server->path));
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&text, "}\n");
    if (rc == SL_OK) rc = sl_log_fs_replace_file(server->info_path, text.data, text.len, err);
    else sl_error_set(err, rc, "out of memory");
    sl_buffer_free(&text);
    return rc;
}

static int load(const char *path, sl_plan **plan)
{
    sl_diagnostics diags;
    sl_diagnostics_init(&diags, path);
    int rc = sl_plan_check(path, plan, &diags);
    sl_diagnostics_print(&diags, stderr, "sluice: ");
    sl_diagnostics_free(&diags);
    if (rc) return rc;
    int level = sl_level_parse((*plan)->log_level);
    sl_logger_configure(level < 0 ? SL_LEVEL_INFO : (sl_level)level, strcmp((*plan)->log_format, "json") == 0);
    return SL_OK;
}

static void wait_for_signals(sl_server *server, const sigset_t *signals)
{
    struct timespec wait = { 0, LOOP_WAIT_MS * 1000000L };
    for (;;) {
        int signal_number = sigtimedwait(signals, NULL, &wait);
        if (signal_number == SIGTERM || signal_number == SIGINT) {
            sl_info("server", "%s: draining the pipelines", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (signal_number == SIGHUP) {
            sl_info("server", "SIGHUP: reloading %s", server->path);
            reload(server, NULL);
        }
        answer_pending(server, false);
        sl_supervisor_tick(server->supervisor);
    }
}

/* The guard of the HTTP API, from plan's auth:; the redacted config. A
 * --listen off loopback needs auth: as http.listen does (plan_auth.c). */
static int start_guard(sl_server *server, const sl_plan *plan, sl_error *err)
{
    if (!plan->has_auth && !sl_plan_listen_is_loopback(server->listen))
        return sl_error_set_permanent(err, SL_ECONFIG, "--listen %s: without auth: the HTTP API is open to anyone "
                                      "who reaches it, so it listens on a loopback address only (127.0.0.1, ::1, "
                                      "localhost); add auth: tokens to the file to listen there", server->listen);
    int rc = sl_auth_new(server->metadata, &server->auth, err);
    if (rc) return rc;
    sl_error store_err;
    sl_error_clear(&store_err);
    /* The file's tokens are in either way; the store's are read again on
     * the first unknown token, so a store down at start is not fatal. */
    rc = sl_auth_apply(server->auth, plan, &store_err);
    if (rc == SL_ENOMEM) return sl_error_set(err, rc, "out of memory");
    if (rc) sl_warn("server", "the API tokens of the metadata store are not read yet: %s", store_err.message);
    if (keep_config_json(server, plan)) return sl_error_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* The HTTP port; HTTPS with the PEM texts of http.tls (read again at
 * start: they were checked when the file was loaded, but may have changed
 * since), else both NULL. */
static int start_http(sl_server *server, const char *cert, const char *key, sl_error *err)
{
    server->is_tls = cert != NULL;
    sl_http_config config = { .listen = server->listen, .tls_cert_pem = cert, .tls_key_pem = key,
                              .authorize = sl_auth_authorize, .authorize_context = server->auth };
    return sl_http_start_config(&config, sl_api_routes, server, &server->http, err);
}

int sl_server_run(const char *path, const sl_server_options *options, sl_error *err)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    sl_plan *plan = NULL;
    int rc = load(path, &plan);
    if (rc) return sl_error_set(err, rc == SL_EIO ? SL_ECONFIG : rc, "%s: not started", path);
    sl_server server = { .path = path, .main_thread = pthread_self() };
    pthread_mutex_init(&server.mutex, NULL);
    pthread_cond_init(&server.answered, NULL);
    server.data_dir = strdup(plan->data_dir);
    server.listen = strdup(options && options->listen ? options->listen : plan->http_listen);
    server.metadata = strdup(plan->metadata);
    if (!server.data_dir || !server.listen || !server.metadata) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        sl_plan_free(plan);
        goto done;
    }
    rc = sl_log_open(server.data_dir, &server.log, err);
    if (rc == SL_OK) rc = sl_supervisor_new(server.log, &server.supervisor, err);
    if (rc) {
        sl_plan_free(plan);
        goto done;
    }
    sl_scheduler_options scheduler_options = { .log = server.log, .data_dir = server.data_dir,
                                               .control = control_for_task, .control_context = &server };
    rc = sl_scheduler_start(plan, &scheduler_options, &server.scheduler, err);
    if (rc) {
        sl_plan_free(plan);
        goto done;
    }
    bool has_auth = plan->has_auth;
    char *cert = NULL, *key = NULL;
    rc = start_guard(&server, plan, err);
    sl_alerts_options alerts_options = { .gather = gather_metrics, .gather_context = &server,
                                         .metadata = server.metadata };
    if (rc == SL_OK) rc = sl_alerts_start(plan, &alerts_options, &server.alerts, err);
    if (rc == SL_OK && plan->http_tls_cert)
        rc = sl_pem_pair_load(plan->http_tls_cert, plan->http_tls_key, &cert, &key, err);
    if (rc) {
        sl_plan_free(plan);
        goto done;
    }
    rc = sl_supervisor_apply(server.supervisor, plan, NULL, err);   /* takes plan */
    if (rc == SL_OK) rc = sl_history_new(&server.history, err);
    if (rc == SL_OK) rc = sl_history_start(server.history, server.supervisor, err);
    if (rc == SL_OK) rc = start_http(&server, cert, key, err);
    free(cert);
    sl_pem_free_secret(key);
    if (rc) goto done;
    char url[300];
    server_url(server.listen, sl_http_port(server.http), server.is_tls, url, sizeof url);
    sl_alerts_set_url(server.alerts, url);
    rc = write_info(&server, url, err);
    if (rc) goto done;
    sl_info("server", "serving %s on %s (data dir %s)", path, url, server.data_dir);
    fprintf(stderr, "sluice server: %s on %s; SIGHUP reloads, SIGTERM stops\n", path, url);
    if (!has_auth) {
        sl_warn("server", "no auth: configured; serving on %s only (a loopback address), every route open",
                server.listen);
        fprintf(stderr, "sluice server: no auth: configured; serving on 127.0.0.1 only\n");
    }
    wait_for_signals(&server, &signals);
done:
    answer_pending(&server, true);
    sl_http_stop(server.http);
    sl_alerts_stop(server.alerts);   /* before the supervisor it reads goes */
    sl_history_free(server.history);
    sl_auth_free(server.auth);
    free(server.config_json);
    sl_scheduler_stop(server.scheduler);
    if (server.supervisor) {
        sl_error drain_err;
        sl_error_clear(&drain_err);
        int drain_rc = sl_supervisor_free(server.supervisor, &drain_err);
        if (drain_rc && rc == SL_OK) {
            rc = drain_rc;
            if (err) *err = drain_err;
        }
    }
    if (server.info_path) {
        sl_log_fs_unlink(server.info_path, NULL);
        free(server.info_path);
    }
    sl_log_close(server.log);
    free(server.data_dir);
    free(server.listen);
    free(server.metadata);
    pthread_mutex_destroy(&server.mutex);
    pthread_cond_destroy(&server.answered);
    return rc;
}
