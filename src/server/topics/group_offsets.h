/* group_offsets.h — a consumer group's positions as the group routes show
 * them, whichever log holds the group: per topic and partition the offset
 * committed (the next to read), the partition's start and end, and from
 * them the lag. Filled by api_groups.c for embedded groups and by
 * kafka_admin.c for Kafka's.
 *
 * Lag: end - committed; for a partition the group has not committed yet,
 * end - start (it would read the whole partition); unknown (null) when the
 * end is (a topic since deleted).
 */
#ifndef SL_GROUP_OFFSETS_H
#define SL_GROUP_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sl_group_offset {
    char *topic;            /* owned */
    int32_t partition;
    int64_t committed;      /* -1: never committed */
    int64_t start_offset;   /* -1: unknown */
    int64_t end_offset;     /* -1: unknown */
} sl_group_offset;

typedef struct sl_group_offsets {
    sl_group_offset *items;
    size_t n_items;
    size_t capacity;
} sl_group_offsets;

/* Appends one (topic copied). SL_ENOMEM when out of memory. */
int sl_group_offsets_add(sl_group_offsets *offsets, const char *topic, int32_t partition, int64_t committed,
                         int64_t start_offset, int64_t end_offset);
void sl_group_offsets_free(sl_group_offsets *offsets);

/* The lag of one, -1 when unknown. */
int64_t sl_group_offset_lag(const sl_group_offset *offset);

/* The sum of the known lags, -1 when none is known. */
int64_t sl_group_offsets_lag(const sl_group_offsets *offsets);

#endif
