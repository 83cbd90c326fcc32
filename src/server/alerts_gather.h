/* alerts_gather.h — the pipeline metrics of a running server as a metric
 * set, from its supervisor's snapshot (see alerts_gather.c), for the alert
 * evaluator. */
#ifndef SL_ALERTS_GATHER_H
#define SL_ALERTS_GATHER_H

#include "core/error.h"
#include "server/metric_set.h"

/* server is the sl_server; *out is the caller's. An sl_alerts_gather_fn. */
int sl_alerts_gather_pipelines(void *server, sl_metric_set **out, sl_error *err);

#endif
