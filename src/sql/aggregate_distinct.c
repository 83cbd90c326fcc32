/* aggregate_distinct.c — count(DISTINCT x)'s set (see aggregate_distinct.h).
 *
 * The exact part is a table of hashes with linear probing, kept at most
 * three quarters full. The hash that would overflow the bound moves the set
 * to a HyperLogLog sketch holding every hash seen, so a set is the same
 * whichever order its hashes (or the sets merged into it) came in.
 */
#include "sql/aggregate_distinct.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/error.h"
#include "sql/aggregate.h"

/* Seeds that keep the types apart: a string and bytes with the same bytes,
 * or a double whose bits read as an int, hash differently. */
enum {
    SEED_NULL = 1,
    SEED_BOOL,
    SEED_INTEGRAL,     /* ints, and doubles with an int's value */
    SEED_FRACTIONAL,   /* other doubles, NaN and the infinities */
    SEED_STRING,
    SEED_BYTES,
    SEED_TIMESTAMP,
    SEED_INTERVAL,
    SEED_ARRAY,
    SEED_OBJECT,
};

static uint64_t hash_word(uint64_t word, uint64_t seed)
{
    return XXH3_64bits_withSeed(&word, sizeof word, seed);
}

static uint64_t hash_double(double number)
{
    if (isnan(number)) return hash_word(0, SEED_FRACTIONAL);   /* every NaN is one value, as in PostgreSQL */
    if (number == trunc(number) && number >= -9223372036854775808.0 && number < 9223372036854775808.0)
        return hash_word((uint64_t)(int64_t)number, SEED_INTEGRAL);   /* -0.0 is 0 too */
    uint64_t bits;
    memcpy(&bits, &number, sizeof bits);
    return hash_word(bits, SEED_FRACTIONAL);
}

uint64_t sl__distinct_hash(const sl_value *value)
{
    uint64_t hash;
    switch (value->type) {
    case SL_TYPE_NULL:
        return hash_word(0, SEED_NULL);
    case SL_TYPE_BOOL:
        return hash_word(value->boolean, SEED_BOOL);
    case SL_TYPE_INT:
        return hash_word((uint64_t)value->integer, SEED_INTEGRAL);
    case SL_TYPE_DOUBLE:
        return hash_double(value->number);
    case SL_TYPE_STRING:
        return XXH3_64bits_withSeed(value->string.ptr, value->string.len, SEED_STRING);
    case SL_TYPE_BYTES:
        return XXH3_64bits_withSeed(value->string.ptr, value->string.len, SEED_BYTES);
    case SL_TYPE_TIMESTAMP:
        return hash_word((uint64_t)value->timestamp, SEED_TIMESTAMP);
    case SL_TYPE_INTERVAL: {
        /* Equal intervals hash alike: PostgreSQL compares them with a month
         * as 30 days and a day as 24 hours. */
        const sl_interval_value *i = &value->interval;
        uint64_t micros = (uint64_t)i->micros + (uint64_t)(int64_t)i->days * 86400000000u +
                          (uint64_t)(int64_t)i->months * 30u * 86400000000u;
        return hash_word(micros, SEED_INTERVAL);
    }
    case SL_TYPE_ARRAY:
        hash = hash_word(value->array.n_items, SEED_ARRAY);
        for (size_t i = 0; i < value->array.n_items; i++)
            hash = hash_word(sl__distinct_hash(&value->array.items[i]), hash);
        return hash;
    case SL_TYPE_OBJECT:
        hash = hash_word(value->object.n_members, SEED_OBJECT);
        for (size_t i = 0; i < value->object.n_members; i++) {
            const sl_member *member = &value->object.members[i];
            hash = XXH3_64bits_withSeed(member->key.ptr, member->key.len, hash);
            hash = hash_word(sl__distinct_hash(&member->value), hash);
        }
        return hash;
    }
    return 0;
}

/* ---- the exact table ---- */

/* The slot holding hash, or the empty slot where it belongs. */
static size_t slot_of(const uint64_t *slots, size_t n_slots, uint64_t hash)
{
    size_t mask = n_slots - 1;
    size_t i = (size_t)(hash ^ (hash >> 32)) & mask;
    while (slots[i] && slots[i] != hash) i = (i + 1) & mask;
    return i;
}

static bool exact_contains(const sl__distinct *set, uint64_t hash)
{
    if (hash == 0) return set->has_zero;
    return set->n_slots && set->slots[slot_of(set->slots, set->n_slots, hash)] == hash;
}

/* Makes room for one more non-zero hash (n_hashes + 1 at most 3/4 of the
 * slots). */
static int exact_reserve(sl__distinct *set)
{
    if ((set->n_hashes + 1) * 4 <= set->n_slots * 3) return SL_OK;
    size_t n_slots = set->n_slots ? set->n_slots * 2 : 16;
    uint64_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return SL_ENOMEM;
    for (size_t i = 0; i < set->n_slots; i++)
        if (set->slots[i]) slots[slot_of(slots, n_slots, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->n_slots = n_slots;
    return SL_OK;
}

/* Adds the hashes of set's exact part (none once it is a sketch) to hll. */
static int exact_into_sketch(const sl__distinct *set, sl__hll *hll)
{
    int rc = set->has_zero ? sl__hll_add(hll, 0) : SL_OK;
    for (size_t i = 0; i < set->n_slots && rc == SL_OK; i++)
        if (set->slots[i]) rc = sl__hll_add(hll, set->slots[i]);
    return rc;
}

/* Makes set a sketch of its exact hashes and extra. */
static int exact_to_sketch(sl__distinct *set, uint64_t extra)
{
    sl__hll hll = { 0 };
    int rc = sl__hll_add(&hll, extra);
    if (rc == SL_OK) rc = exact_into_sketch(set, &hll);
    if (rc) {
        sl__hll_release(&hll);
        return rc;
    }
    free(set->slots);
    *set = (sl__distinct){ .is_sketch = true, .hll = hll };
    return SL_OK;
}

int sl__distinct_add(sl__distinct *set, uint64_t hash)
{
    if (set->is_sketch) return sl__hll_add(&set->hll, hash);
    if (exact_contains(set, hash)) return SL_OK;
    if (set->n_hashes + 1 > SL_SQL_DISTINCT_EXACT_MAX) return exact_to_sketch(set, hash);
    if (hash == 0) {
        set->has_zero = true;
    } else {
        if (exact_reserve(set)) return SL_ENOMEM;
        set->slots[slot_of(set->slots, set->n_slots, hash)] = hash;
    }
    set->n_hashes++;
    return SL_OK;
}

static int distinct_clone(const sl__distinct *set, sl__distinct *out)
{
    *out = *set;
    out->slots = NULL;
    if (set->slots) {
        out->slots = malloc(set->n_slots * sizeof *set->slots);
        if (!out->slots) return SL_ENOMEM;
        memcpy(out->slots, set->slots, set->n_slots * sizeof *set->slots);
    }
    return SL_OK;
}

int sl__distinct_merge(sl__distinct *dst, const sl__distinct *src)
{
    if (dst->is_sketch || src->is_sketch) {
        /* One sketch of everything both hold. */
        sl__hll hll = { 0 };
        int rc = sl__hll_merge(&hll, &dst->hll);
        if (rc == SL_OK) rc = sl__hll_merge(&hll, &src->hll);
        if (rc == SL_OK) rc = exact_into_sketch(dst, &hll);
        if (rc == SL_OK) rc = exact_into_sketch(src, &hll);
        if (rc) {
            sl__hll_release(&hll);
            return rc;
        }
        sl__distinct_release(dst);
        *dst = (sl__distinct){ .is_sketch = true, .hll = hll };
        return SL_OK;
    }
    /* Both exact: src's hashes added to a copy of dst, which replaces dst
     * only once all are in (the copy may itself become a sketch). */
    sl__distinct merged;
    int rc = distinct_clone(dst, &merged);
    if (rc == SL_OK && src->has_zero) rc = sl__distinct_add(&merged, 0);
    for (size_t i = 0; i < src->n_slots && rc == SL_OK; i++)
        if (src->slots[i]) rc = sl__distinct_add(&merged, src->slots[i]);
    if (rc) {
        sl__distinct_release(&merged);
        return rc;
    }
    sl__distinct_release(dst);
    *dst = merged;
    return SL_OK;
}

int64_t sl__distinct_count(const sl__distinct *set)
{
    return set->is_sketch ? sl__hll_estimate(&set->hll) : (int64_t)set->n_hashes;
}

size_t sl__distinct_heap_bytes(const sl__distinct *set)
{
    return set->n_slots * sizeof *set->slots + sl__hll_heap_bytes(&set->hll);
}

void sl__distinct_release(sl__distinct *set)
{
    free(set->slots);
    sl__hll_release(&set->hll);
    *set = (sl__distinct){ 0 };
}
