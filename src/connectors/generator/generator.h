/* generator.h — the `generator` source: synthetic records for demos,
 * tests and benchmarks.
 *
 * kind `users` gives people shaped like randomuser.me's results (see
 * users.h); kind `sequence` gives {"id": start + i, "value": "value-<id>"};
 * kind `nexmark` gives the Nexmark benchmark's people, auctions and bids
 * (see nexmark.h), with the model's settings below (for that kind only).
 * Record i (offset i, counted from 0 over the run) depends on (seed, i)
 * only, so a run is reproducible whatever the batch boundaries. `count`
 * bounds the run (0 = never ends); `rate` paces it in records per second
 * (0 = as fast as possible). The source has no partitions (-1); the index
 * of the next record is its offset, committed like one once every sink has
 * the records before it and kept in the data dir (positions.h), so a rerun
 * continues from there: with `count: N`, a generator whose index already
 * is N produces nothing more and its run ends ok (running a demo twice
 * stores N records, not 2N). `start: beginning` starts again from record 0.
 *
 * Strings in the records point into the batch arena or at the generator's
 * static word lists, which live as long as the process.
 */
#ifndef SL_GENERATOR_H
#define SL_GENERATOR_H

#include <stdint.h>

#include "connectors/connector.h"

/* The settings, filled by sl_options_apply from the `generator:` block. */
typedef struct sl_generator_conf {
    char *kind;      /* "users" | "sequence" | "nexmark" */
    int64_t count;   /* records to produce; 0 = unbounded */
    double rate;     /* records per second; 0 = as fast as possible */
    int64_t seed;
    int64_t first_id;  /* first id of kind `sequence` */
    char *start;       /* "resume" (default) | "beginning" */
    /* kind nexmark (nexmark.h's sl_nexmark_config, base_time as text) */
    int64_t first_event_rate;
    char *base_time;
    int64_t person_proportion, auction_proportion, bid_proportion;
    int64_t hot_auction_ratio, hot_sellers_ratio, hot_bidders_ratio;
    int64_t num_active_people, num_in_flight_auctions;
    int64_t avg_person_size, avg_auction_size, avg_bid_size;
    int64_t out_of_order_group_size;
} sl_generator_conf;

/* read(): fills the batch up to its capacity (less when count or rate say
 * so), SL_EAGAIN when pacing leaves nothing ready yet, SL_EOF once count
 * records were produced or env->stopping is set. */
extern const sl_source_ops sl_generator_source;

#endif
