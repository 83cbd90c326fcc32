/* generator.c — the `generator` source (see generator.h).
 *
 * The record builders do the work (users.c for `users`, nexmark.c for
 * `nexmark`, a few lines here for `sequence`); this file counts records,
 * fills batches and paces. The settings of kind nexmark are refused with
 * another kind when they differ from their defaults, so that none is
 * accepted and then ignored.
 *
 * Pacing is a token bucket on CLOCK_MONOTONIC: tokens accrue at `rate` per
 * second, at most one batch's worth, and each record spends one. When a
 * read finds fewer tokens than it wants, it sleeps in steps of at most
 * 10 ms, for at most 50 ms in all, checking env->stopping between steps, and
 * then returns whatever is ready (SL_EAGAIN if nothing), so a slow rate
 * never holds the source thread for long and shutdown stays prompt.
 */
#include "connectors/generator/generator.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/common/positions.h"
#include "connectors/generator/nexmark.h"
#include "connectors/generator/users.h"
#include "core/timefmt.h"

#define PACE_MAX_WAIT_NS INT64_C(50000000)   /* longest sleep of one read */
#define PACE_STEP_NS INT64_C(10000000)       /* longest sleep between stop checks */

typedef enum generator_kind {
    GENERATOR_USERS,
    GENERATOR_SEQUENCE,
    GENERATOR_NEXMARK,
} generator_kind;

static const char *const kind_choices[] = { "users", "sequence", "nexmark", NULL };
static const char *const start_choices[] = { "resume", "beginning", NULL };

/* The generator's entry in the pipeline's positions file. */
#define GENERATOR_POSITION "generator.index"

static const sl_option generator_options[] = {
    { "kind", SL_OPT_STRING, offsetof(sl_generator_conf, kind), .required = true,
      .choices = kind_choices,
      .help = "record shape: users (like randomuser.me), sequence ({id, value}) or nexmark (the "
              "Nexmark benchmark's events: {event_type, person, auction, bid})" },
    { "count", SL_OPT_INT, offsetof(sl_generator_conf, count), .default_value = "0", .min = "0",
      .help = "records to produce over every run of the pipeline; 0 = never ends" },
    { "rate", SL_OPT_DOUBLE, offsetof(sl_generator_conf, rate), .default_value = "0", .min = "0",
      .help = "records per second; 0 = as fast as possible" },
    { "seed", SL_OPT_INT, offsetof(sl_generator_conf, seed), .default_value = "42",
      .help = "the same seed gives the same records" },
    { "first_id", SL_OPT_INT, offsetof(sl_generator_conf, first_id), .default_value = "0",
      .help = "id of the first record of kind sequence" },
    { "start", SL_OPT_STRING, offsetof(sl_generator_conf, start), .default_value = "resume",
      .choices = start_choices,
      .help = "resume: continue after the last record every sink stored (count: N already reached = "
              "nothing more); beginning: from record 0" },
    /* kind nexmark: the model's settings, with the defaults of the Nexmark
     * benchmark's generator (its NexmarkConfiguration), base_time aside:
     * there the wall clock at start, here a fixed instant so that a seed
     * always gives the same events. */
    { "first_event_rate", SL_OPT_INT, offsetof(sl_generator_conf, first_event_rate),
      .default_value = "10000", .min = "1", .max = "2147483647",
      .help = "nexmark: events per second of event time (the spacing of dateTime, whatever "
              "rate the generator runs at)" },
    { "base_time", SL_OPT_STRING, offsetof(sl_generator_conf, base_time),
      .default_value = "2026-01-01T00:00:00Z",
      .help = "nexmark: the dateTime of the first event (ISO 8601)" },
    { "person_proportion", SL_OPT_INT, offsetof(sl_generator_conf, person_proportion),
      .default_value = "1", .min = "1", .max = "2147483647",
      .help = "nexmark: people among every person + auction + bid proportion events" },
    { "auction_proportion", SL_OPT_INT, offsetof(sl_generator_conf, auction_proportion),
      .default_value = "3", .min = "1", .max = "2147483647",
      .help = "nexmark: auctions among them" },
    { "bid_proportion", SL_OPT_INT, offsetof(sl_generator_conf, bid_proportion),
      .default_value = "46", .min = "1", .max = "2147483647",
      .help = "nexmark: bids among them" },
    { "hot_auction_ratio", SL_OPT_INT, offsetof(sl_generator_conf, hot_auction_ratio),
      .default_value = "2", .min = "1", .max = "2147483647",
      .help = "nexmark: 1 bid in this many is on any auction in flight, the others on a hot one" },
    { "hot_sellers_ratio", SL_OPT_INT, offsetof(sl_generator_conf, hot_sellers_ratio),
      .default_value = "4", .min = "1", .max = "2147483647",
      .help = "nexmark: 1 auction in this many has any active seller, the others a hot one" },
    { "hot_bidders_ratio", SL_OPT_INT, offsetof(sl_generator_conf, hot_bidders_ratio),
      .default_value = "4", .min = "1", .max = "2147483647",
      .help = "nexmark: 1 bid in this many has any active bidder, the others a hot one" },
    { "num_active_people", SL_OPT_INT, offsetof(sl_generator_conf, num_active_people),
      .default_value = "1000", .min = "1", .max = "2147483647",
      .help = "nexmark: sellers and bidders are among the latest this many people" },
    { "num_in_flight_auctions", SL_OPT_INT, offsetof(sl_generator_conf, num_in_flight_auctions),
      .default_value = "100", .min = "1", .max = "2147483647",
      .help = "nexmark: bids are on the latest this many auctions" },
    { "avg_person_size", SL_OPT_INT, offsetof(sl_generator_conf, avg_person_size),
      .default_value = "200", .min = "1", .max = "1000000",
      .help = "nexmark: bytes a person is padded to on average (the extra field)" },
    { "avg_auction_size", SL_OPT_INT, offsetof(sl_generator_conf, avg_auction_size),
      .default_value = "500", .min = "1", .max = "1000000",
      .help = "nexmark: bytes an auction is padded to on average" },
    { "avg_bid_size", SL_OPT_INT, offsetof(sl_generator_conf, avg_bid_size),
      .default_value = "100", .min = "1", .max = "1000000",
      .help = "nexmark: bytes a bid is padded to on average" },
    { "out_of_order_group_size", SL_OPT_INT, offsetof(sl_generator_conf, out_of_order_group_size),
      .default_value = "1", .min = "1", .max = "2147483647",
      .help = "nexmark: events are shuffled within groups of this many (1 = in order of dateTime)" },
    { 0 }
};

typedef struct generator {
    const sl_connector_env *env;
    generator_kind kind;
    int64_t count;           /* 0 = unbounded */
    double rate;             /* 0 = unpaced */
    uint64_t seed;
    int64_t first_id;
    sl_nexmark_config nexmark;
    int64_t next_index;      /* index (= offset) of the next record */
    sl_positions *positions; /* NULL without a data dir (unit tests) */
    double tokens;           /* records the rate allows now */
    int64_t refilled_at_ns;  /* monotonic time tokens were last counted */
    bool is_pacing_started;
} generator;

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void sleep_ns(int64_t ns)
{
    struct timespec delay = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    nanosleep(&delay, NULL);   /* an early wake-up only shortens one pacing step */
}

static bool is_stopping(const generator *gen)
{
    return gen->env && gen->env->stopping && atomic_load(gen->env->stopping);
}

static const char *pipeline_name(const sl_connector_env *env)
{
    return env && env->pipeline ? env->pipeline : "?";
}

/* The first option of kind nexmark in the table, and the one past its last. */
static const sl_option *nexmark_options_begin(void)
{
    const sl_option *option = generator_options;
    while (strcmp(option->name, "first_event_rate") != 0) option++;
    return option;
}

/* The name of a nexmark setting that differs from its default, or NULL.
 * Zero (or NULL) is a setting left out of a conf built by hand: the option
 * table's minimum of 1 keeps it out of a config file. */
static const char *nexmark_setting_changed(const sl_generator_conf *conf)
{
    for (const sl_option *option = nexmark_options_begin(); option->name; option++) {
        const char *field = (const char *)conf + option->offset;
        if (option->type == SL_OPT_STRING) {
            const char *text = *(char *const *)(const void *)field;
            if (text && strcmp(text, option->default_value) != 0) return option->name;
        } else {
            int64_t value;
            memcpy(&value, field, sizeof value);
            if (value != 0 && value != strtoll(option->default_value, NULL, 10))
                return option->name;
        }
    }
    return NULL;
}

/* Fills the model's settings from conf (sl_options_apply checked the ranges;
 * a conf built by hand, as in unit tests, is checked again here). */
static int nexmark_config_from(const sl_generator_conf *conf, const sl_connector_env *env,
                               sl_nexmark_config *out, sl_error *err)
{
    sl_nexmark_config c = {
        .first_event_rate = conf->first_event_rate,
        .person_proportion = conf->person_proportion,
        .auction_proportion = conf->auction_proportion,
        .bid_proportion = conf->bid_proportion,
        .hot_auction_ratio = conf->hot_auction_ratio,
        .hot_sellers_ratio = conf->hot_sellers_ratio,
        .hot_bidders_ratio = conf->hot_bidders_ratio,
        .num_active_people = conf->num_active_people,
        .num_in_flight_auctions = conf->num_in_flight_auctions,
        .avg_person_size = conf->avg_person_size,
        .avg_auction_size = conf->avg_auction_size,
        .avg_bid_size = conf->avg_bid_size,
        .out_of_order_group_size = conf->out_of_order_group_size,
    };
    const char *base_time = conf->base_time ? conf->base_time : "2026-01-01T00:00:00Z";
    if (sl_time_parse_iso(base_time, strlen(base_time), &c.base_time_us) != 0)
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: base_time \"%s\" is not "
                            "an ISO 8601 date and time", pipeline_name(env), base_time);
    /* Every count and ratio from 1 to its max (at most 2^31 - 1, so that
     * the model's products stay within 64 bits). */
    for (const sl_option *option = nexmark_options_begin(); option->name; option++) {
        if (option->type != SL_OPT_INT) continue;   /* base_time, checked above */
        int64_t value;
        memcpy(&value, (const char *)conf + option->offset, sizeof value);
        int64_t most = strtoll(option->max, NULL, 10);
        if (value < 1 || value > most)
            return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: %s must be from 1 to "
                                "%" PRId64 ", not %" PRId64, pipeline_name(env), option->name,
                                most, value);
    }
    *out = c;
    return SL_OK;
}

static int generator_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                          sl_error *err)
{
    const sl_generator_conf *conf = conf_ptr;
    generator_kind kind;
    if (!conf->kind)
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: kind is required "
                            "(users, sequence or nexmark)", pipeline_name(env));
    if (strcmp(conf->kind, "users") == 0)
        kind = GENERATOR_USERS;
    else if (strcmp(conf->kind, "sequence") == 0)
        kind = GENERATOR_SEQUENCE;
    else if (strcmp(conf->kind, "nexmark") == 0)
        kind = GENERATOR_NEXMARK;
    else
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: unknown kind \"%s\" "
                            "(expected users, sequence or nexmark)", pipeline_name(env),
                            conf->kind);
    sl_nexmark_config nexmark = { 0 };
    if (kind == GENERATOR_NEXMARK) {
        int rc = nexmark_config_from(conf, env, &nexmark, err);
        if (rc) return rc;
    } else {
        const char *changed = nexmark_setting_changed(conf);
        if (changed)
            return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: %s is a setting of "
                                "kind nexmark, not of kind %s", pipeline_name(env), changed,
                                conf->kind);
    }
    if (conf->count < 0)
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: count must be 0 "
                            "(unbounded) or more, not %" PRId64, pipeline_name(env), conf->count);
    if (!isfinite(conf->rate) || conf->rate < 0)
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: rate must be 0 "
                            "(unpaced) or a positive number of records per second, not %g",
                            pipeline_name(env), conf->rate);
    generator *gen = calloc(1, sizeof *gen);
    if (!gen)
        return sl_error_set(err, SL_ENOMEM, "pipeline %s: generator: out of memory",
                            pipeline_name(env));
    gen->env = env;
    gen->kind = kind;
    gen->count = conf->count;
    gen->rate = conf->rate;
    gen->seed = (uint64_t)conf->seed;
    gen->first_id = conf->first_id;
    gen->nexmark = nexmark;
    if (env && env->data_dir) {
        int rc = sl_positions_open(env->data_dir, pipeline_name(env), &gen->positions, err);
        if (rc) {
            free(gen);
            return rc;
        }
        const sl_position *position = sl_positions_find(gen->positions, GENERATOR_POSITION);
        bool is_from_beginning = conf->start && strcmp(conf->start, "beginning") == 0;
        if (position && !is_from_beginning) gen->next_index = position->offset;
    }
    *state = gen;
    return SL_OK;
}

static void generator_close(void *state)
{
    generator *gen = state;
    if (!gen) return;
    sl_positions_free(gen->positions);
    free(gen);
}

/* next_offset: the index of the first record some sink does not have yet. */
static int generator_commit(void *state, int32_t partition, int64_t next_offset, sl_error *err)
{
    generator *gen = state;
    if (!gen->positions) return SL_OK;
    return sl_positions_set(gen->positions, GENERATOR_POSITION, 0, 0, next_offset, err);
}

static int generator_persist(void *state, sl_error *err)
{
    generator *gen = state;
    if (!gen->positions) return SL_OK;
    int rc = sl_positions_save(gen->positions, err);
    if (rc) sl_error_prefix(err, "pipeline %s: generator: ", pipeline_name(gen->env));
    return rc;
}

/* Counts the tokens earned since the last call, keeping at most `burst`. */
static void pace_refill(generator *gen, size_t burst)
{
    int64_t now = monotonic_ns();
    if (gen->is_pacing_started)
        gen->tokens += (double)(now - gen->refilled_at_ns) * gen->rate / 1e9;
    gen->is_pacing_started = true;
    gen->refilled_at_ns = now;
    if (gen->tokens > (double)burst) gen->tokens = (double)burst;
}

/* How many of `wanted` records the rate allows now, after waiting a little
 * (at most PACE_MAX_WAIT_NS) for the rest. */
static size_t pace(generator *gen, size_t wanted)
{
    pace_refill(gen, wanted);
    int64_t began = monotonic_ns();
    while (gen->tokens < (double)wanted && !is_stopping(gen)) {
        int64_t waited = monotonic_ns() - began;
        if (waited >= PACE_MAX_WAIT_NS) break;
        double missing_ns = ((double)wanted - gen->tokens) / gen->rate * 1e9;
        int64_t step = PACE_STEP_NS;
        if (missing_ns < (double)step) step = (int64_t)missing_ns + 1;
        if (step > PACE_MAX_WAIT_NS - waited) step = PACE_MAX_WAIT_NS - waited;
        sleep_ns(step);
        pace_refill(gen, wanted);
    }
    size_t ready = gen->tokens >= (double)wanted ? wanted : (size_t)gen->tokens;
    gen->tokens -= (double)ready;
    return ready;
}

/* {"id": id, "value": "value-<id>"} */
static int sequence_build(sl_arena *arena, int64_t id, sl_value *out)
{
    sl_member *members = sl_arena_alloc(arena, 2 * sizeof *members);
    char *text = sl_arena_alloc(arena, 32);
    if (!members || !text) return SL_ENOMEM;
    memcpy(text, "value-", 6);
    size_t len = 6;
    uint64_t magnitude = id < 0 ? (uint64_t)0 - (uint64_t)id : (uint64_t)id;
    if (id < 0) text[len++] = '-';
    char digits[20];
    int n_digits = 0;
    do {
        digits[n_digits++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    while (n_digits) text[len++] = digits[--n_digits];
    members[0].key = SL_STR_LIT("id");
    members[0].value = sl_value_int(id);
    members[1].key = SL_STR_LIT("value");
    members[1].value = sl_value_string((sl_str){ text, len });
    sl_value value = { .type = SL_TYPE_OBJECT };
    value.object.members = members;
    value.object.n_members = 2;
    *out = value;
    return SL_OK;
}

static int generator_read(void *state, sl_batch *batch, sl_error *err)
{
    generator *gen = state;
    if (is_stopping(gen)) return SL_EOF;
    if (gen->count > 0 && gen->next_index >= gen->count) return SL_EOF;
    size_t wanted = batch->capacity - batch->n_records;
    if (gen->count > 0 && (uint64_t)(gen->count - gen->next_index) < wanted)
        wanted = (size_t)(gen->count - gen->next_index);
    if (gen->rate > 0) wanted = pace(gen, wanted);
    if (wanted == 0) return is_stopping(gen) ? SL_EOF : SL_EAGAIN;

    int64_t now_ms = wall_ms();
    for (size_t i = 0; i < wanted; i++) {
        int64_t index = gen->next_index;
        sl_record *record = sl_batch_add(batch);
        if (!record) break;   /* not reached: wanted fits the room left */
        int rc;
        if (gen->kind == GENERATOR_USERS)
            rc = sl_users_build_record(batch->arena, gen->seed, (uint64_t)index, &record->value);
        else if (gen->kind == GENERATOR_NEXMARK)
            rc = sl_nexmark_build_record(batch->arena, &gen->nexmark, gen->seed, (uint64_t)index,
                                         &record->value);
        else
            rc = sequence_build(batch->arena, (int64_t)((uint64_t)gen->first_id + (uint64_t)index),
                                &record->value);
        if (rc) {
            batch->n_records--;
            return sl_error_set(err, rc, "pipeline %s: generator: record %" PRId64 ": %s",
                                pipeline_name(gen->env), index, sl_error_message(rc));
        }
        record->has_value = true;
        record->partition = -1;
        record->offset = index;
        record->timestamp_ms = now_ms;
        gen->next_index++;
    }
    batch->partition = -1;
    batch->end_offset = gen->next_index;
    return SL_OK;
}

static bool generator_ends_by_itself(void *state)
{
    const generator *gen = state;
    return gen->count > 0;
}

/* Records made against count (over every run, as count is). */
static void generator_progress(void *state, sl_source_progress *progress)
{
    const generator *gen = state;
    progress->done = gen->next_index;
    if (gen->count > 0) progress->total = gen->count;
}

const sl_source_ops sl_generator_source = {
    .name = "generator",
    .description = "synthetic records: people shaped like randomuser.me's, a numbered sequence, "
                   "or the Nexmark benchmark's events",
    .options = generator_options,
    .conf_size = sizeof(sl_generator_conf),
    .open = generator_open,
    .read = generator_read,
    .commit = generator_commit,
    .persist = generator_persist,
    .close = generator_close,
    .ends_by_itself = generator_ends_by_itself,
    .progress = generator_progress,
    .produces_raw = false,
};
