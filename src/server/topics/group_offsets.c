/* group_offsets.c — a group's positions and their lag (see group_offsets.h). */
#include "server/topics/group_offsets.h"

#include <stdlib.h>
#include <string.h>

int sl_group_offsets_add(sl_group_offsets *offsets, const char *topic, int32_t partition, int64_t committed,
                         int64_t start_offset, int64_t end_offset)
{
    if (offsets->n_items == offsets->capacity) {
        size_t capacity = offsets->capacity ? 2 * offsets->capacity : 8;
        sl_group_offset *grown = realloc(offsets->items, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        offsets->items = grown;
        offsets->capacity = capacity;
    }
    char *copy = strdup(topic);
    if (!copy) return SL_ENOMEM;
    offsets->items[offsets->n_items++] = (sl_group_offset){ .topic = copy, .partition = partition,
                                                            .committed = committed, .start_offset = start_offset,
                                                            .end_offset = end_offset };
    return SL_OK;
}

void sl_group_offsets_free(sl_group_offsets *offsets)
{
    for (size_t i = 0; i < offsets->n_items; i++) free(offsets->items[i].topic);
    free(offsets->items);
    *offsets = (sl_group_offsets){ 0 };
}

int64_t sl_group_offset_lag(const sl_group_offset *offset)
{
    if (offset->end_offset < 0) return -1;
    int64_t from = offset->committed >= 0 ? offset->committed : offset->start_offset;
    if (from < 0) return -1;
    return offset->end_offset > from ? offset->end_offset - from : 0;
}

int64_t sl_group_offsets_lag(const sl_group_offsets *offsets)
{
    int64_t total = -1;
    for (size_t i = 0; i < offsets->n_items; i++) {
        int64_t lag = sl_group_offset_lag(&offsets->items[i]);
        if (lag >= 0) total = (total < 0 ? 0 : total) + lag;
    }
    return total;
}
