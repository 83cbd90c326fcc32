/* ack.c — contiguous-prefix acknowledgement per partition (see ack.h).
 *
 * Each lane is a ring of slots in registration order. A ticket names its
 * batch by the lane's running sequence number, not by a slot index, so the
 * ring can grow (it doubles when full) without invalidating tickets: the
 * slot of sequence s is (head + s - head_sequence) % capacity. The ring
 * holds batches in flight plus done batches waiting behind an unfinished
 * older one, so it grows only while a batch is slow. Lanes are found by a
 * linear scan: a pipeline has a handful of partitions, and the scan runs
 * once per batch, not per record.
 */
#include "runtime/ack.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/error.h"

typedef struct ack_slot {
    int64_t end_offset;
    bool is_done;
} ack_slot;

typedef struct ack_lane {
    int32_t partition;
    size_t head;             /* slot index of the oldest batch */
    uint64_t head_sequence;  /* its sequence number */
    size_t length;
    size_t capacity;
    ack_slot *slots;
} ack_lane;

struct sl_ack_tracker {
    pthread_mutex_t mutex;
    size_t first_capacity;
    ack_lane *lanes;
    size_t n_lanes;
};

sl_ack_tracker *sl_ack_new(size_t max_inflight)
{
    sl_ack_tracker *tracker = calloc(1, sizeof *tracker);
    if (!tracker) return NULL;
    tracker->first_capacity = max_inflight ? max_inflight : 1;
    pthread_mutex_init(&tracker->mutex, NULL);
    return tracker;
}

void sl_ack_free(sl_ack_tracker *tracker)
{
    if (!tracker) return;
    for (size_t i = 0; i < tracker->n_lanes; i++) free(tracker->lanes[i].slots);
    free(tracker->lanes);
    pthread_mutex_destroy(&tracker->mutex);
    free(tracker);
}

static int find_lane(sl_ack_tracker *tracker, int32_t partition, size_t *index)
{
    for (size_t i = 0; i < tracker->n_lanes; i++) {
        if (tracker->lanes[i].partition == partition) {
            *index = i;
            return SL_OK;
        }
    }
    ack_slot *slots = calloc(tracker->first_capacity, sizeof *slots);
    if (!slots) return SL_ENOMEM;
    ack_lane *lanes = realloc(tracker->lanes, (tracker->n_lanes + 1) * sizeof *lanes);
    if (!lanes) {
        free(slots);
        return SL_ENOMEM;
    }
    tracker->lanes = lanes;
    lanes[tracker->n_lanes] = (ack_lane){
        .partition = partition,
        .capacity = tracker->first_capacity,
        .slots = slots,
    };
    *index = tracker->n_lanes++;
    return SL_OK;
}

/* Doubles a full ring, unrolling it so the oldest batch sits at index 0. */
static int lane_grow(ack_lane *lane)
{
    size_t capacity = lane->capacity * 2;
    ack_slot *slots = calloc(capacity, sizeof *slots);
    if (!slots) return SL_ENOMEM;
    for (size_t i = 0; i < lane->length; i++) slots[i] = lane->slots[(lane->head + i) % lane->capacity];
    free(lane->slots);
    lane->slots = slots;
    lane->head = 0;
    lane->capacity = capacity;
    return SL_OK;
}

int sl_ack_begin(sl_ack_tracker *tracker, int32_t partition, int64_t end_offset, sl_ack_ticket *ticket)
{
    pthread_mutex_lock(&tracker->mutex);
    size_t index;
    int rc = find_lane(tracker, partition, &index);
    if (rc == SL_OK) {
        ack_lane *lane = &tracker->lanes[index];
        if (lane->length == lane->capacity) rc = lane_grow(lane);
        if (rc == SL_OK) {
            size_t slot = (lane->head + lane->length) % lane->capacity;
            lane->slots[slot].end_offset = end_offset;
            lane->slots[slot].is_done = false;
            ticket->lane = (uint32_t)index;
            ticket->sequence = lane->head_sequence + lane->length;
            lane->length++;
        }
    }
    pthread_mutex_unlock(&tracker->mutex);
    return rc;
}

void sl_ack_done(sl_ack_tracker *tracker, sl_ack_ticket ticket)
{
    pthread_mutex_lock(&tracker->mutex);
    ack_lane *lane = &tracker->lanes[ticket.lane];
    size_t slot = (lane->head + (size_t)(ticket.sequence - lane->head_sequence)) % lane->capacity;
    lane->slots[slot].is_done = true;
    pthread_mutex_unlock(&tracker->mutex);
}

size_t sl_ack_take(sl_ack_tracker *tracker, int32_t *partitions, int64_t *offsets, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&tracker->mutex);
    for (size_t i = 0; i < tracker->n_lanes && n < max; i++) {
        ack_lane *lane = &tracker->lanes[i];
        bool has_advanced = false;
        int64_t offset = 0;
        while (lane->length > 0 && lane->slots[lane->head].is_done) {
            offset = lane->slots[lane->head].end_offset;
            lane->head = (lane->head + 1) % lane->capacity;
            lane->head_sequence++;
            lane->length--;
            has_advanced = true;
        }
        if (has_advanced) {
            partitions[n] = lane->partition;
            offsets[n] = offset;
            n++;
        }
    }
    pthread_mutex_unlock(&tracker->mutex);
    return n;
}

size_t sl_ack_pending(sl_ack_tracker *tracker)
{
    size_t pending = 0;
    pthread_mutex_lock(&tracker->mutex);
    for (size_t i = 0; i < tracker->n_lanes; i++) pending += tracker->lanes[i].length;
    pthread_mutex_unlock(&tracker->mutex);
    return pending;
}
