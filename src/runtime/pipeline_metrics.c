/* pipeline_metrics.c — the copy of a pipeline's metrics and the sums of
 * several runs' (see pipeline_metrics.h); pipeline.c fills it. */
#include "runtime/pipeline_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void sl_pipeline_metrics_init(sl_pipeline_metrics *metrics)
{
    *metrics = (sl_pipeline_metrics){ .lag = -1 };
    sl_histogram_snapshot_init(&metrics->batch, &SL_HISTOGRAM_LATENCY);
}

void sl_pipeline_metrics_clear(sl_pipeline_metrics *metrics)
{
    free(metrics->sinks);
    free(metrics->partitions);
    sl_pipeline_metrics_init(metrics);
}

int sl_pipeline_metrics_add(sl_pipeline_metrics *into, const sl_pipeline_metrics *from)
{
    into->records_in += from->records_in;
    into->records_out += from->records_out;
    into->records_filtered += from->records_filtered;
    into->records_dead += from->records_dead;
    into->records_failed += from->records_failed;
    into->bytes_in += from->bytes_in;
    into->bytes_out += from->bytes_out;
    into->batches += from->batches;
    sl_histogram_snapshot_add(&into->batch, &from->batch);
    for (size_t s = 0; s < from->n_sinks; s++) {
        const sl_sink_metrics *sink = &from->sinks[s];
        sl_sink_metrics *same = NULL;
        for (size_t i = 0; i < into->n_sinks && !same; i++)
            if (strcmp(into->sinks[i].name, sink->name) == 0) same = &into->sinks[i];
        if (!same) {
            sl_sink_metrics *grown = realloc(into->sinks, (into->n_sinks + 1) * sizeof *grown);
            if (!grown) return SL_ENOMEM;
            into->sinks = grown;
            same = &into->sinks[into->n_sinks++];
            memset(same, 0, sizeof *same);
            memcpy(same->name, sink->name, sizeof same->name);
            sl_histogram_snapshot_init(&same->request, sink->request.bounds);
        }
        same->records_rejected += sink->records_rejected;
        sl_histogram_snapshot_add(&same->request, &sink->request);
    }
    return SL_OK;
}

int sl_pipeline_metrics_copy(sl_pipeline_metrics *into, const sl_pipeline_metrics *from)
{
    *into = *from;
    into->sinks = NULL;
    into->partitions = NULL;
    if (from->n_sinks) {
        into->sinks = malloc(from->n_sinks * sizeof *into->sinks);
        if (!into->sinks) goto fail;
        memcpy(into->sinks, from->sinks, from->n_sinks * sizeof *into->sinks);
    }
    if (from->n_partitions) {
        into->partitions = malloc(from->n_partitions * sizeof *into->partitions);
        if (!into->partitions) goto fail;
        memcpy(into->partitions, from->partitions, from->n_partitions * sizeof *into->partitions);
    }
    return SL_OK;
fail:
    sl_pipeline_metrics_clear(into);
    return SL_ENOMEM;
}
