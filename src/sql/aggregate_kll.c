/* aggregate_kll.c — the KLL sketch (see aggregate_kll.h).
 *
 * Memory is reserved before anything moves: compress_plan replays the
 * compactions an add or merge will cause on the levels' sizes alone (they
 * do not depend on the values), every level is grown to the largest size
 * it will reach, and only then are values moved. An allocation that fails
 * thus leaves the values untouched, as add's contract asks.
 */
#include "sql/aggregate_kll.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sql/aggregate.h"

#define KLL_MIN_CAPACITY 8

void sl__kll_init(sl__kll *kll)
{
    memset(kll, 0, sizeof *kll);
    kll->coin = 0x9e3779b97f4a7c15u;
}

/* How many values level h may hold when there are n_levels levels. */
static uint32_t level_capacity(uint32_t h, uint32_t n_levels)
{
    double capacity = SL_SQL_PERCENTILE_K;
    for (uint32_t depth = n_levels - 1 - h; depth > 0; depth--) capacity = capacity * 2.0 / 3.0;
    uint32_t whole = (uint32_t)ceil(capacity);
    return whole < KLL_MIN_CAPACITY ? KLL_MIN_CAPACITY : whole;
}

/* Replays compress on sizes (n_levels of them, grown as levels appear):
 * peaks[h] becomes the largest size level h reaches. */
static void compress_plan(uint32_t *sizes, uint32_t *n_levels, uint32_t *peaks)
{
    for (uint32_t h = 0; h < *n_levels; h++) {
        if (sizes[h] > peaks[h]) peaks[h] = sizes[h];
        if (sizes[h] <= level_capacity(h, *n_levels) || h + 1 == SL__KLL_MAX_LEVELS) continue;
        if (h + 1 == *n_levels) {
            sizes[h + 1] = 0;
            (*n_levels)++;
        }
        sizes[h + 1] += sizes[h] / 2;
        sizes[h] %= 2;
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return x < y ? -1 : x > y;
}

static bool flip_coin(sl__kll *kll)
{
    uint64_t x = kll->coin;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    kll->coin = x;
    return (x >> 32) & 1;
}

/* Level h's values sorted, every other one (from a coin's offset) moved up
 * with twice the weight; an odd one out stays. Room is reserved. */
static void compact(sl__kll *kll, uint32_t h)
{
    sl__kll_level *level = &kll->levels[h];
    sl__kll_level *above = &kll->levels[h + 1];
    qsort(level->items, level->n_items, sizeof(double), compare_doubles);
    uint32_t n_pairs = level->n_items / 2;
    uint32_t offset = flip_coin(kll) ? 1 : 0;
    for (uint32_t i = 0; i < n_pairs; i++) above->items[above->n_items++] = level->items[2 * i + offset];
    if (level->n_items % 2) level->items[0] = level->items[level->n_items - 1];
    level->n_items %= 2;
}

/* The values level h is given room for: its capacity and half as many
 * again, for what the level below moves up before this one compacts. */
static uint32_t level_room(uint32_t h, uint32_t n_levels)
{
    uint32_t capacity = level_capacity(h, n_levels);
    return capacity + capacity / 2 + 2;
}

/* Grows the levels to hold peaks[h] values each (and at least their room,
 * so a level grows once rather than value by value); a failure leaves every
 * level's values as they were. */
static int reserve(sl__kll *kll, const uint32_t *peaks, uint32_t n_levels)
{
    for (uint32_t h = 0; h < n_levels; h++) {
        sl__kll_level *level = &kll->levels[h];
        if (peaks[h] <= level->capacity) continue;
        uint32_t capacity = level_room(h, n_levels);
        if (capacity < peaks[h]) capacity = peaks[h];
        double *items = realloc(level->items, capacity * sizeof(double));
        if (!items) return SL_ENOMEM;
        level->items = items;
        level->capacity = capacity;
    }
    return SL_OK;
}

/* A level's array shrinks once its capacity has fallen well below what it
 * was given room for (a level is given less as levels are added above it),
 * so the sketch keeps memory for about 1.5 · 3 · K values. A failed shrink keeps
 * the larger array, which is still correct. */
static void shrink(sl__kll *kll, uint32_t h)
{
    sl__kll_level *level = &kll->levels[h];
    uint32_t room = level_room(h, kll->n_levels);
    if (level->capacity <= 2 * room || level->n_items > room) return;
    double *items = realloc(level->items, room * sizeof(double));
    if (!items) return;
    level->items = items;
    level->capacity = room;
}

static void compress(sl__kll *kll)
{
    for (uint32_t h = 0; h < kll->n_levels; h++) {
        if (kll->levels[h].n_items <= level_capacity(h, kll->n_levels) || h + 1 == SL__KLL_MAX_LEVELS) continue;
        if (h + 1 == kll->n_levels) kll->n_levels++;
        compact(kll, h);
        shrink(kll, h);
    }
}

/* Reserves room for the levels to take extra[h] more values each (over
 * n_extra levels) and then compress. */
static int reserve_for(sl__kll *kll, const uint32_t *extra, uint32_t n_extra)
{
    uint32_t sizes[SL__KLL_MAX_LEVELS] = { 0 }, peaks[SL__KLL_MAX_LEVELS] = { 0 };
    uint32_t n_levels = kll->n_levels > n_extra ? kll->n_levels : n_extra;
    if (n_levels == 0) n_levels = 1;
    for (uint32_t h = 0; h < n_levels; h++) sizes[h] = kll->levels[h].n_items + (h < n_extra ? extra[h] : 0);
    compress_plan(sizes, &n_levels, peaks);
    return reserve(kll, peaks, n_levels);
}

int sl__kll_add(sl__kll *kll, double x)
{
    uint32_t one = 1;
    if (reserve_for(kll, &one, 1)) return SL_ENOMEM;
    if (kll->n_levels == 0) kll->n_levels = 1;
    kll->levels[0].items[kll->levels[0].n_items++] = x;
    kll->n++;
    compress(kll);
    return SL_OK;
}

int sl__kll_merge(sl__kll *dst, const sl__kll *src)
{
    uint32_t extra[SL__KLL_MAX_LEVELS];
    if (src->n == 0) return SL_OK;
    for (uint32_t h = 0; h < src->n_levels; h++) extra[h] = src->levels[h].n_items;
    if (reserve_for(dst, extra, src->n_levels)) return SL_ENOMEM;
    if (src->n_levels > dst->n_levels) dst->n_levels = src->n_levels;
    for (uint32_t h = 0; h < src->n_levels; h++) {
        sl__kll_level *level = &dst->levels[h];
        if (extra[h]) memcpy(level->items + level->n_items, src->levels[h].items, extra[h] * sizeof(double));
        level->n_items += extra[h];
    }
    dst->n += src->n;
    compress(dst);
    return SL_OK;
}

typedef struct weighted {
    double value;
    uint64_t weight;
} weighted;

static int compare_weighted(const void *a, const void *b)
{
    return compare_doubles(&((const weighted *)a)->value, &((const weighted *)b)->value);
}

int sl__kll_quantile(const sl__kll *kll, double fraction, sl_arena *arena, double *out)
{
    size_t n_items = 0;
    for (uint32_t h = 0; h < kll->n_levels; h++) n_items += kll->levels[h].n_items;
    weighted *all = sl_arena_alloc(arena, n_items * sizeof *all + 1);
    if (!all) return SL_ENOMEM;
    size_t next = 0;
    for (uint32_t h = 0; h < kll->n_levels; h++)
        for (uint32_t i = 0; i < kll->levels[h].n_items; i++)
            all[next++] = (weighted){ kll->levels[h].items[i], (uint64_t)1 << h };
    qsort(all, n_items, sizeof *all, compare_weighted);
    double target = fraction * (double)kll->n;
    uint64_t so_far = 0;
    for (size_t i = 0; i < n_items; i++) {
        so_far += all[i].weight;
        if ((double)so_far >= target) {
            *out = all[i].value;
            return SL_OK;
        }
    }
    *out = all[n_items - 1].value;   /* rounding of target at fraction 1 */
    return SL_OK;
}

size_t sl__kll_heap_bytes(const sl__kll *kll)
{
    size_t bytes = 0;
    for (uint32_t h = 0; h < SL__KLL_MAX_LEVELS; h++) bytes += kll->levels[h].capacity * sizeof(double);
    return bytes;
}

void sl__kll_release(sl__kll *kll)
{
    for (uint32_t h = 0; h < SL__KLL_MAX_LEVELS; h++) free(kll->levels[h].items);
    sl__kll_init(kll);
}
