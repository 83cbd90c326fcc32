/* ack.h — which source positions may be committed.
 *
 * Batches are registered in the order the source produced them; each
 * partition has its own lane. A batch is marked done when every sink made
 * it durable. Batches may finish out of order (different workers, several
 * sinks), so a lane's committable position is the end offset of its longest
 * done prefix: nothing past an unfinished batch is ever committed.
 * Thread-safe: the source registers and takes, sinks mark done.
 */
#ifndef SL_ACK_H
#define SL_ACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_ack_tracker sl_ack_tracker;

typedef struct sl_ack_ticket {
    uint32_t lane;
    uint64_t sequence;
} sl_ack_ticket;

/* A tracker whose lanes start with room for max_inflight batches and grow
 * when done batches wait behind a slow one. */
sl_ack_tracker *sl_ack_new(size_t max_inflight);
void sl_ack_free(sl_ack_tracker *tracker);

/* Registers a batch of partition ending at end_offset; SL_ENOMEM when
 * out of memory. */
int sl_ack_begin(sl_ack_tracker *tracker, int32_t partition, int64_t end_offset, sl_ack_ticket *ticket);

/* Marks the batch of ticket done. */
void sl_ack_done(sl_ack_tracker *tracker, sl_ack_ticket ticket);

/* Removes the done prefix of every lane; for each lane that advanced,
 * writes its partition and newest committable end offset. Returns how many
 * were written (at most max). */
size_t sl_ack_take(sl_ack_tracker *tracker, int32_t *partitions, int64_t *offsets, size_t max);

/* Batches registered and not yet taken (done or not). */
size_t sl_ack_pending(sl_ack_tracker *tracker);

#endif
