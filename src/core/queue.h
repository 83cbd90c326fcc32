/* queue.h — bounded blocking FIFO of pointers between pipeline threads.
 *
 * Push blocks while the queue is full (backpressure: a slow stage slows the
 * one before it), pop blocks while it is empty. Closing wakes everyone:
 * pushes then fail and pops drain what is left, then report closed.
 */
#ifndef SL_QUEUE_H
#define SL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_queue sl_queue;

/* A queue holding at most capacity items (>= 1). The caller owns it. */
sl_queue *sl_queue_new(size_t capacity);
void sl_queue_free(sl_queue *queue);

/* Appends item, waiting for room. false when the queue is closed. */
bool sl_queue_push(sl_queue *queue, void *item);

/* Takes the oldest item, waiting up to timeout_ms (-1 = forever). false
 * with *item NULL on timeout or when closed and empty. */
bool sl_queue_pop(sl_queue *queue, void **item, int timeout_ms);

/* Closes the queue: pushes fail from now on, pops drain then fail. */
void sl_queue_close(sl_queue *queue);

bool sl_queue_is_closed(sl_queue *queue);
size_t sl_queue_length(sl_queue *queue);

#endif
