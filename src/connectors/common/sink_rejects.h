/* sink_rejects.h — the records a table sink refused during one write, kept
 * until the write has succeeded and only then passed to env->reject, so a
 * write the runtime retries does not report its rejects twice. */
#ifndef SL_CONNECTOR_SINK_REJECTS_H
#define SL_CONNECTOR_SINK_REJECTS_H

#include <stddef.h>

#include "connectors/connector.h"
#include "core/batch.h"
#include "core/buffer.h"

typedef struct sl_sink_reject {
    size_t batch;          /* index into the write's batches */
    size_t index;          /* record in that batch */
    size_t reason_at;      /* offset of its NUL-terminated reason in reasons */
} sl_sink_reject;

typedef struct sl_sink_rejects {
    sl_sink_reject *items;
    size_t n_items, capacity;
    sl_buffer reasons;
} sl_sink_rejects;

/* Forgets the rejects of the previous write (keeps the memory). */
void sl_sink_rejects_clear(sl_sink_rejects *rejects);

/* Remembers record `index` of batch `batch` with a printf-style reason
 * (cut to 511 bytes); SL_ENOMEM when it cannot. */
int sl_sink_rejects_add(sl_sink_rejects *rejects, size_t batch, size_t index, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Passes every remembered record to env->reject with stage "sink". */
void sl_sink_rejects_report(const sl_sink_rejects *rejects, const sl_connector_env *env,
                            const sl_batch *const *batches);

void sl_sink_rejects_free(sl_sink_rejects *rejects);

#endif
