/* generator.c — the `generator` source (see generator.h).
 *
 * The record builders do the work (users.c for `users`, a few lines
 * here for `sequence`); this file counts records, fills batches and paces.
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
#include "connectors/generator/users.h"

#define PACE_MAX_WAIT_NS INT64_C(50000000)   /* longest sleep of one read */
#define PACE_STEP_NS INT64_C(10000000)       /* longest sleep between stop checks */

typedef enum generator_kind {
    GENERATOR_USERS,
    GENERATOR_SEQUENCE,
} generator_kind;

static const char *const kind_choices[] = { "users", "sequence", NULL };
static const char *const start_choices[] = { "resume", "beginning", NULL };

/* The generator's entry in the pipeline's positions file. */
#define GENERATOR_POSITION "generator.index"

static const sl_option generator_options[] = {
    { "kind", SL_OPT_STRING, offsetof(sl_generator_conf, kind), .required = true,
      .choices = kind_choices,
      .help = "record shape: users (like randomuser.me) or sequence ({id, value})" },
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
    { 0 }
};

typedef struct generator {
    const sl_connector_env *env;
    generator_kind kind;
    int64_t count;           /* 0 = unbounded */
    double rate;             /* 0 = unpaced */
    uint64_t seed;
    int64_t first_id;
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

static int generator_open(const void *conf_ptr, const sl_connector_env *env, void **state,
                          sl_error *err)
{
    const sl_generator_conf *conf = conf_ptr;
    generator_kind kind;
    if (!conf->kind)
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: kind is required "
                            "(users or sequence)", pipeline_name(env));
    if (strcmp(conf->kind, "users") == 0)
        kind = GENERATOR_USERS;
    else if (strcmp(conf->kind, "sequence") == 0)
        kind = GENERATOR_SEQUENCE;
    else
        return sl_error_set(err, SL_ECONFIG, "pipeline %s: generator: unknown kind \"%s\" "
                            "(expected users or sequence)", pipeline_name(env), conf->kind);
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
    .description = "synthetic records: people shaped like randomuser.me's, or a numbered sequence",
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
