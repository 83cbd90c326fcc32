/* batch.c — batches of records with one arena each (see batch.h). */
#include "core/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

sl_batch *sl_batch_new(size_t capacity)
{
    if (capacity == 0) capacity = 1024;
    sl_batch *batch = calloc(1, sizeof *batch);
    if (!batch) return NULL;
    batch->records = calloc(capacity, sizeof *batch->records);
    batch->arena = sl_arena_new(256 * 1024);
    if (!batch->records || !batch->arena) {
        sl_batch_free(batch);
        return NULL;
    }
    batch->capacity = capacity;
    batch->partition = -1;
    batch->end_offset = -1;
    return batch;
}

void sl_batch_free(sl_batch *batch)
{
    if (!batch) return;
    sl_arena_free(batch->arena);
    free(batch->records);
    free(batch);
}

void sl_batch_reset(sl_batch *batch)
{
    sl_arena_reset(batch->arena);
    batch->n_records = 0;
    batch->partition = -1;
    batch->end_offset = -1;
    batch->sequence = 0;
}

sl_record *sl_batch_add(sl_batch *batch)
{
    if (batch->n_records >= batch->capacity) return NULL;
    sl_record *record = &batch->records[batch->n_records++];
    memset(record, 0, sizeof *record);
    record->partition = -1;
    record->offset = -1;
    return record;
}

int sl_record_add_header(sl_batch *batch, sl_record *record, sl_str key, sl_str value)
{
    sl_header *headers = sl_arena_alloc(batch->arena, (record->n_headers + 1) * sizeof *headers);
    char *key_copy = sl_arena_strndup(batch->arena, key.ptr, key.len);
    char *value_copy = sl_arena_strndup(batch->arena, value.ptr, value.len);
    if (!headers || !key_copy || !value_copy) return SL_ENOMEM;
    if (record->n_headers) memcpy(headers, record->headers, record->n_headers * sizeof *headers);
    headers[record->n_headers].key = (sl_str){ key_copy, key.len };
    headers[record->n_headers].value = (sl_str){ value_copy, value.len };
    record->headers = headers;
    record->n_headers++;
    return SL_OK;
}

const sl_header *sl_record_header(const sl_record *record, const char *key)
{
    for (size_t i = 0; i < record->n_headers; i++)
        if (sl_str_eq_cstr(record->headers[i].key, key)) return &record->headers[i];
    return NULL;
}
