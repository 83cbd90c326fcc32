/* nexmark.h — the events of the Nexmark benchmark (people, auctions, bids)
 * for the generator's `nexmark` kind and for bench/nexmark_bench.c.
 *
 * The model is the one of the generator of the Nexmark benchmark for Flink
 * (github.com/nexmark/nexmark, nexmark-flink's GeneratorConfig and the
 * Person/Auction/Bid generators; Beam's sdks/java/testing/nexmark has the
 * same): out of every `person + auction + bid` (1 + 3 + 46 = 50) event ids,
 * the first are people, the next auctions, the rest bids; person and auction
 * ids count from 1000; sellers and bidders are picked among the recent
 * people, often a "hot" one, bids among the auctions in flight, often a hot
 * one; event time is base_time plus the event number times the inter-event
 * delay of first_event_rate (event time, whatever the speed of the run),
 * and events are shuffled within groups of out_of_order_group_size event
 * numbers, as the reference does (1: in order).
 *
 * Event i of a run depends on (seed, i) only: its random draws come from a
 * splitmix64 stream started at a hash of the seed and the event id, and the
 * channels' URLs from streams of (seed, channel number), so any event can
 * be built alone whatever batch it falls into.
 *
 * Record shape (Flink's nexmark table):
 *   {"event_type": 0|1|2, "person": {...}|null, "auction": {...}|null,
 *    "bid": {...}|null}
 *   person:  id, name, emailAddress, creditCard, city, state, dateTime, extra
 *   auction: id, itemName, description, initialBid, reserve, dateTime,
 *            expires, seller, category, extra
 *   bid:     auction, bidder, price, channel, url, dateTime, extra
 * dateTime and expires are SL_TYPE_TIMESTAMP (whole milliseconds, as the
 * reference's TIMESTAMP(3)).
 */
#ifndef SL_GENERATOR_NEXMARK_H
#define SL_GENERATOR_NEXMARK_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/value.h"

#define SL_NEXMARK_FIRST_PERSON_ID 1000
#define SL_NEXMARK_FIRST_AUCTION_ID 1000
#define SL_NEXMARK_FIRST_CATEGORY_ID 10
#define SL_NEXMARK_N_CATEGORIES 5

/* The model's settings (the generator's option table gives their defaults,
 * which are the reference's). Every count and ratio is at least 1. */
typedef struct sl_nexmark_config {
    int64_t first_event_rate;         /* events per second of event time */
    int64_t base_time_us;             /* event time of event number 0 */
    int64_t person_proportion;
    int64_t auction_proportion;
    int64_t bid_proportion;
    int64_t hot_auction_ratio;        /* 1 bid in this many is on any auction, the rest on a hot one */
    int64_t hot_sellers_ratio;
    int64_t hot_bidders_ratio;
    int64_t num_active_people;        /* sellers and bidders are among the latest this many */
    int64_t num_in_flight_auctions;   /* bids are on the latest this many auctions */
    int64_t avg_person_size;          /* bytes the extra field pads people to on average */
    int64_t avg_auction_size;
    int64_t avg_bid_size;
    int64_t out_of_order_group_size;
} sl_nexmark_config;

typedef enum sl_nexmark_event_type {
    SL_NEXMARK_PERSON = 0,
    SL_NEXMARK_AUCTION = 1,
    SL_NEXMARK_BID = 2,
} sl_nexmark_event_type;

typedef struct sl_nexmark_person {
    int64_t id;
    sl_str name, email_address, credit_card, city, state;
    int64_t date_time_us;
    sl_str extra;
} sl_nexmark_person;

typedef struct sl_nexmark_auction {
    int64_t id;
    sl_str item_name, description;
    int64_t initial_bid, reserve;
    int64_t date_time_us, expires_us;
    int64_t seller, category;
    sl_str extra;
} sl_nexmark_auction;

typedef struct sl_nexmark_bid {
    int64_t auction, bidder, price;
    sl_str channel, url;
    int64_t date_time_us;
    sl_str extra;
} sl_nexmark_bid;

/* One event: `type` says which of the three members is filled. */
typedef struct sl_nexmark_event {
    sl_nexmark_event_type type;
    sl_nexmark_person person;
    sl_nexmark_auction auction;
    sl_nexmark_bid bid;
} sl_nexmark_event;

/* The largest number of bytes of text one event of this config needs. */
size_t sl_nexmark_text_capacity(const sl_nexmark_config *config);

/* Builds event `index` (counted from 0 over the run) of the run seeded by
 * `seed` into *out; its strings are written into text (at least
 * sl_nexmark_text_capacity bytes, not NUL-terminated) or point at static
 * lists. Returns the number of bytes of text used. */
size_t sl_nexmark_event_make(const sl_nexmark_config *config, uint64_t seed, uint64_t index,
                             char *text, sl_nexmark_event *out);

/* Builds event `index` as a record (shape above) into *out; members and
 * text live in arena. Returns SL_OK or SL_ENOMEM. */
int sl_nexmark_build_record(sl_arena *arena, const sl_nexmark_config *config, uint64_t seed,
                            uint64_t index, sl_value *out);

#endif
