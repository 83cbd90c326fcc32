/* sink_rejects.c — see sink_rejects.h. */
#include "connectors/common/sink_rejects.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_sink_rejects_clear(sl_sink_rejects *rejects)
{
    rejects->n_items = 0;
    sl_buffer_clear(&rejects->reasons);
}

int sl_sink_rejects_add(sl_sink_rejects *rejects, size_t batch, size_t index, const char *format, ...)
{
    if (rejects->n_items == rejects->capacity) {
        size_t capacity = rejects->capacity ? rejects->capacity * 2 : 16;
        sl_sink_reject *grown = realloc(rejects->items, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        rejects->items = grown;
        rejects->capacity = capacity;
    }
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    size_t at = rejects->reasons.len;
    if (sl_buffer_append(&rejects->reasons, reason, strlen(reason) + 1)) return SL_ENOMEM;
    rejects->items[rejects->n_items++] = (sl_sink_reject){ .batch = batch, .index = index, .reason_at = at };
    return SL_OK;
}

void sl_sink_rejects_report(const sl_sink_rejects *rejects, const sl_connector_env *env,
                            const sl_batch *const *batches)
{
    if (!env || !env->reject.reject) return;
    for (size_t i = 0; i < rejects->n_items; i++) {
        const sl_sink_reject *reject = &rejects->items[i];
        env->reject.reject(env->reject.context, &batches[reject->batch]->records[reject->index], "sink",
                           rejects->reasons.data + reject->reason_at);
    }
}

void sl_sink_rejects_free(sl_sink_rejects *rejects)
{
    free(rejects->items);
    sl_buffer_free(&rejects->reasons);
    *rejects = (sl_sink_rejects){ 0 };
}
