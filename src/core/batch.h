/* batch.h — records and the batches that carry them.
 *
 * A batch holds up to `capacity` records and one arena that owns every byte
 * they point to: values, raw bytes, keys and headers. A batch is freed or
 * reset as a whole; nothing inside it is freed alone. A batch coming from a
 * partitioned source holds records of one partition only, in offset order,
 * so acknowledging a batch means "every offset up to end_offset is done".
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/value.h"

typedef struct sl_header {
    sl_str key;
    sl_str value;
} sl_header;

typedef struct sl_record {
    sl_value value;        /* parsed value; meaningful when has_value */
    sl_str raw;            /* the value's bytes as received or stored (JSON text) */
    sl_str key;            /* message key; ptr NULL = no key, len 0 with a ptr = empty key */
    sl_header *headers;
    size_t n_headers;
    int64_t timestamp_ms;  /* event or append time, ms since epoch */
    int32_t partition;     /* source partition, -1 when the source has none */
    int64_t offset;        /* source position within that partition */
    sl_str topic;          /* source topic when the source reads topics; else empty */
    bool has_value;        /* value parsed/built; else only raw is set */
} sl_record;

typedef struct sl_batch {
    sl_arena *arena;
    sl_record *records;
    size_t n_records;
    size_t capacity;
    int32_t partition;     /* source partition of every record, -1 if none */
    int64_t end_offset;    /* source position to commit once this batch is durable */
    uint64_t sequence;     /* order number given by the runtime */
} sl_batch;

/* A batch for up to capacity records (0 = 1024). The caller owns it. */
sl_batch *sl_batch_new(size_t capacity);

/* Frees the batch, its records and its arena. Accepts NULL. */
void sl_batch_free(sl_batch *batch);

/* Empties the batch for reuse; keeps its first arena block. */
void sl_batch_reset(sl_batch *batch);

/* A zeroed record slot at the end (partition -1), or NULL when full. */
sl_record *sl_batch_add(sl_batch *batch);

static inline bool sl_batch_is_full(const sl_batch *batch)
{
    return batch->n_records >= batch->capacity;
}

/* Adds a header (copies key and value into the batch arena). */
int sl_record_add_header(sl_batch *batch, sl_record *record, sl_str key, sl_str value);

/* Looks a header up by key; NULL when absent. */
const sl_header *sl_record_header(const sl_record *record, const char *key);

#endif
