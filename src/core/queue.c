/* queue.c — bounded blocking FIFO (see queue.h): a ring of pointers under
 * one mutex with two condition variables (not empty, not full). */
#include "core/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct sl_queue {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **items;
    size_t capacity;
    size_t head;
    size_t length;
    bool is_closed;
};

sl_queue *sl_queue_new(size_t capacity)
{
    if (capacity == 0) capacity = 1;
    sl_queue *queue = calloc(1, sizeof *queue);
    if (!queue) return NULL;
    queue->items = calloc(capacity, sizeof *queue->items);
    if (!queue->items) {
        free(queue);
        return NULL;
    }
    queue->capacity = capacity;
    pthread_mutex_init(&queue->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&queue->not_empty, &attr);
    pthread_cond_init(&queue->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return queue;
}

void sl_queue_free(sl_queue *queue)
{
    if (!queue) return;
    pthread_mutex_destroy(&queue->mutex);
    pthread_cond_destroy(&queue->not_empty);
    pthread_cond_destroy(&queue->not_full);
    free(queue->items);
    free(queue);
}

bool sl_queue_push(sl_queue *queue, void *item)
{
    pthread_mutex_lock(&queue->mutex);
    while (!queue->is_closed && queue->length == queue->capacity)
        pthread_cond_wait(&queue->not_full, &queue->mutex);
    bool is_pushed = !queue->is_closed;
    if (is_pushed) {
        queue->items[(queue->head + queue->length) % queue->capacity] = item;
        queue->length++;
        pthread_cond_signal(&queue->not_empty);
    }
    pthread_mutex_unlock(&queue->mutex);
    return is_pushed;
}

bool sl_queue_pop(sl_queue *queue, void **item, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    *item = NULL;
    pthread_mutex_lock(&queue->mutex);
    while (queue->length == 0 && !queue->is_closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&queue->not_empty, &queue->mutex);
        } else if (pthread_cond_timedwait(&queue->not_empty, &queue->mutex, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    bool has_item = queue->length > 0;
    if (has_item) {
        *item = queue->items[queue->head];
        queue->head = (queue->head + 1) % queue->capacity;
        queue->length--;
        pthread_cond_signal(&queue->not_full);
    }
    pthread_mutex_unlock(&queue->mutex);
    return has_item;
}

void sl_queue_close(sl_queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    queue->is_closed = true;
    pthread_cond_broadcast(&queue->not_empty);
    pthread_cond_broadcast(&queue->not_full);
    pthread_mutex_unlock(&queue->mutex);
}

bool sl_queue_is_closed(sl_queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    bool is_closed = queue->is_closed;
    pthread_mutex_unlock(&queue->mutex);
    return is_closed;
}

size_t sl_queue_length(sl_queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    size_t length = queue->length;
    pthread_mutex_unlock(&queue->mutex);
    return length;
}
