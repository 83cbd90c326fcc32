/* server.h — `sluice server FILE`: one long-running process that owns the
 * data dir, keeps the file's continuous pipelines running (supervisor.h),
 * runs the scheduler of its DAGs (scheduler/scheduler.h) and serves HTTP
 * (api.c's routes) on http.listen.
 *
 * Control: sl_server_control starts, stops or restarts one continuous
 * pipeline (DAG control tasks, the API's start/stop/restart routes).
 *
 * Signals: SIGHUP reloads the file (so does POST /api/v1/reload): changed
 * pipelines restart, unchanged ones keep running, and a file with mistakes
 * is refused with every mistake while the old config keeps running.
 * SIGTERM or SIGINT drains every pipeline and ends the server with 0.
 * While it runs, DATA_DIR/server.json says which process serves which URL,
 * so other commands can find it.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <stddef.h>

#include "core/buffer.h"
#include "core/error.h"
#include "runtime/control.h"

typedef struct sl_server_options {
    const char *listen;      /* overrides http.listen; NULL = the file's */
} sl_server_options;

typedef struct sl_server sl_server;

/* Runs until SIGTERM/SIGINT. SL_ECONFIG for a file with mistakes (printed
 * on stderr), else the failure that stopped it. */
int sl_server_run(const char *path, const sl_server_options *options, sl_error *err);

/* For HTTP handlers. */
struct sl_supervisor *sl_server_supervisor(sl_server *server);
/* The server's open log: its topics take appends and reads from any thread. */
struct sl_alerts *sl_server_alerts(sl_server *server);
struct sl_log *sl_server_log(sl_server *server);
struct sl_scheduler *sl_server_scheduler(sl_server *server);
/* The pipelines' 15-minute history. */
struct sl_history *sl_server_history(sl_server *server);

/* Who may use the HTTP API (server/auth.h). */
struct sl_auth *sl_server_auth(sl_server *server);

/* Appends the loaded config file as JSON, secrets shown as ***
 * (config/config_json.h): the file as of the start or the last reload. */
int sl_server_config_json(sl_server *server, sl_buffer *out);

/* Where the scheduler's metadata store is (a path or a postgres:// URL):
 * handlers open their own connection to it. */
const char *sl_server_metadata(const sl_server *server);

/* Reloads the file on the server's main thread and waits for the result:
 * 200 with the changes as JSON, or 400 with {"error", "errors": [...]}
 * when the file has mistakes. */
int sl_server_reload_from_http(sl_server *server, sl_buffer *body);

/* Starts, stops or restarts a continuous pipeline (sl_supervisor_control)
 * on the server's main thread and waits for the answer: callable from any
 * thread (HTTP handlers, DAG task threads). A stop returns once the
 * pipeline has drained. SL_ECANCELED when the server is stopping. */
int sl_server_control(sl_server *server, const char *pipeline, sl_control_action action, const char *reason,
                      char *detail, size_t detail_size, sl_error *err);

#endif
