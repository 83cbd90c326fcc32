/* api.h — the HTTP routes of `sluice server`, one table: /healthz, /metrics,
 * /readyz, GET /api/v1/pipelines, POST /api/v1/reload, POST
 * /api/v1/pipelines/{name}/start|stop|restart, the DAG routes of
 * api_dags.h, and the topic, group and dead-letter routes of api_topics.h,
 * api_groups.h and api_dead_letters.h (docs/api.md).
 * The context of every handler is the sl_server. */
#ifndef SL_API_H
#define SL_API_H

#include "server/http.h"

extern const sl_http_route sl_api_routes[];

#endif
