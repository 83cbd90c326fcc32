/* runtime_test.c — acknowledgement tracking and the bounded queue that
 * carry the runtime's at-least-once guarantee. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "core/error.h"
#include "core/queue.h"
#include "runtime/ack.h"

Test(ack, commits_only_the_contiguous_done_prefix_of_a_partition)
{
    sl_ack_tracker *tracker = sl_ack_new(8);
    sl_ack_ticket tickets[3];
    cr_assert_eq(sl_ack_begin(tracker, 0, 100, &tickets[0]), SL_OK);
    cr_assert_eq(sl_ack_begin(tracker, 0, 200, &tickets[1]), SL_OK);
    cr_assert_eq(sl_ack_begin(tracker, 0, 300, &tickets[2]), SL_OK);
    int32_t partitions[4];
    int64_t offsets[4];
    sl_ack_done(tracker, tickets[1]);
    sl_ack_done(tracker, tickets[2]);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 4), 0, "nothing before the first batch is done");
    sl_ack_done(tracker, tickets[0]);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 4), 1);
    cr_assert_eq(partitions[0], 0);
    cr_assert_eq(offsets[0], 300);
    cr_assert_eq(sl_ack_pending(tracker), 0);
    sl_ack_free(tracker);
}

Test(ack, keeps_partitions_independent)
{
    sl_ack_tracker *tracker = sl_ack_new(4);
    sl_ack_ticket a, b, c;
    sl_ack_begin(tracker, 0, 10, &a);
    sl_ack_begin(tracker, 1, 20, &b);
    sl_ack_begin(tracker, 0, 30, &c);
    sl_ack_done(tracker, b);
    sl_ack_done(tracker, c);
    int32_t partitions[4];
    int64_t offsets[4];
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 4), 1);
    cr_assert_eq(partitions[0], 1);
    cr_assert_eq(offsets[0], 20);
    sl_ack_done(tracker, a);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 4), 1);
    cr_assert_eq(partitions[0], 0);
    cr_assert_eq(offsets[0], 30);
    sl_ack_free(tracker);
}

Test(ack, grows_past_its_first_capacity_without_losing_tickets)
{
    sl_ack_tracker *tracker = sl_ack_new(2);
    sl_ack_ticket tickets[9];
    int32_t partitions[2];
    int64_t offsets[2];
    /* Rotate the ring first so growth has to unroll a wrapped ring. */
    cr_assert_eq(sl_ack_begin(tracker, -1, 1, &tickets[0]), SL_OK);
    sl_ack_done(tracker, tickets[0]);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 2), 1);
    for (int i = 1; i < 9; i++) cr_assert_eq(sl_ack_begin(tracker, -1, 10 * i, &tickets[i]), SL_OK);
    for (int i = 8; i >= 2; i--) sl_ack_done(tracker, tickets[i]);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 2), 0, "batch 1 still holds the prefix");
    sl_ack_done(tracker, tickets[1]);
    cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 2), 1);
    cr_assert_eq(offsets[0], 80);
    cr_assert_eq(sl_ack_pending(tracker), 0);
    sl_ack_free(tracker);
}

Test(ack, reuses_ring_slots_after_take)
{
    sl_ack_tracker *tracker = sl_ack_new(2);
    int32_t partitions[2];
    int64_t offsets[2];
    for (int64_t round = 1; round <= 10; round++) {
        sl_ack_ticket ticket;
        cr_assert_eq(sl_ack_begin(tracker, 3, round, &ticket), SL_OK);
        sl_ack_done(tracker, ticket);
        cr_assert_eq(sl_ack_take(tracker, partitions, offsets, 2), 1);
        cr_assert_eq(offsets[0], round);
    }
    sl_ack_free(tracker);
}

typedef struct producer_args {
    sl_queue *queue;
    int count;
} producer_args;

static void *produce(void *arg)
{
    producer_args *args = arg;
    for (intptr_t i = 1; i <= args->count; i++) sl_queue_push(args->queue, (void *)i);
    sl_queue_close(args->queue);
    return NULL;
}

Test(queue, delivers_in_order_under_backpressure_then_drains_after_close)
{
    sl_queue *queue = sl_queue_new(3);
    producer_args args = { queue, 1000 };
    pthread_t thread;
    pthread_create(&thread, NULL, produce, &args);
    intptr_t expected = 1;
    void *item;
    while (sl_queue_pop(queue, &item, -1)) {
        cr_assert_eq((intptr_t)item, expected);
        expected++;
    }
    pthread_join(thread, NULL);
    cr_assert_eq(expected, 1001);
    cr_assert_not(sl_queue_push(queue, (void *)1), "push after close must fail");
    sl_queue_free(queue);
}

Test(queue, pop_times_out_when_empty)
{
    sl_queue *queue = sl_queue_new(1);
    void *item = (void *)1;
    cr_assert_not(sl_queue_pop(queue, &item, 20));
    cr_assert_null(item);
    sl_queue_free(queue);
}
