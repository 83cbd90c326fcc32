/* lookup_cache.c — LRU with a TTL over a chained hash table (see
 * lookup_cache.h). Each entry is one allocation: the struct, its key and
 * its row's JSON text. */
#include "runtime/lookup_cache.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/error.h"

typedef struct entry entry;
struct entry {
    entry *next_in_bucket;
    entry *newer, *older;        /* the LRU list */
    uint64_t hash;
    int64_t expires_ms;
    size_t key_len, row_len;
    bool has_row;
    char bytes[];                /* key, then row */
};

struct sl_lookup_cache {
    entry **buckets;
    size_t n_buckets, n_entries, max_rows;
    int64_t ttl_ms;
    entry *newest, *oldest;
};

sl_lookup_cache *sl_lookup_cache_new(size_t max_rows, int64_t ttl_ms)
{
    sl_lookup_cache *cache = calloc(1, sizeof *cache);
    if (!cache) return NULL;
    cache->max_rows = max_rows ? max_rows : 1;
    cache->ttl_ms = ttl_ms;
    cache->n_buckets = 64;
    while (cache->n_buckets < cache->max_rows && cache->n_buckets < ((size_t)1 << 24)) cache->n_buckets *= 2;
    cache->buckets = calloc(cache->n_buckets, sizeof *cache->buckets);
    if (!cache->buckets) {
        free(cache);
        return NULL;
    }
    return cache;
}

static void unlink_lru(sl_lookup_cache *cache, entry *e)
{
    if (e->newer) e->newer->older = e->older;
    else cache->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else cache->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(sl_lookup_cache *cache, entry *e)
{
    e->older = cache->newest;
    e->newer = NULL;
    if (cache->newest) cache->newest->newer = e;
    cache->newest = e;
    if (!cache->oldest) cache->oldest = e;
}

static void remove_entry(sl_lookup_cache *cache, entry *e)
{
    entry **link = &cache->buckets[e->hash & (cache->n_buckets - 1)];
    while (*link != e) link = &(*link)->next_in_bucket;
    *link = e->next_in_bucket;
    unlink_lru(cache, e);
    cache->n_entries--;
    free(e);
}

static entry *find(sl_lookup_cache *cache, const void *key, size_t key_len, uint64_t hash)
{
    for (entry *e = cache->buckets[hash & (cache->n_buckets - 1)]; e; e = e->next_in_bucket)
        if (e->hash == hash && e->key_len == key_len && (key_len == 0 || memcmp(e->bytes, key, key_len) == 0))
            return e;
    return NULL;
}

int sl_lookup_cache_get(sl_lookup_cache *cache, const void *key, size_t key_len, int64_t now_ms,
                        const char **row_json, size_t *row_len)
{
    uint64_t hash = XXH3_64bits(key, key_len);
    entry *e = find(cache, key, key_len, hash);
    if (!e) return 0;
    if (now_ms >= e->expires_ms) {
        remove_entry(cache, e);
        return 0;
    }
    unlink_lru(cache, e);
    push_newest(cache, e);
    *row_json = e->has_row ? e->bytes + e->key_len : NULL;
    *row_len = e->row_len;
    return 1;
}

int sl_lookup_cache_put(sl_lookup_cache *cache, const void *key, size_t key_len, const char *row_json,
                        size_t row_len, int64_t now_ms)
{
    uint64_t hash = XXH3_64bits(key, key_len);
    entry *old = find(cache, key, key_len, hash);
    if (old) remove_entry(cache, old);
    while (cache->n_entries >= cache->max_rows && cache->oldest) remove_entry(cache, cache->oldest);
    size_t stored = row_json ? row_len : 0;
    entry *e = malloc(sizeof *e + key_len + stored + 1);
    if (!e) return SL_ENOMEM;
    *e = (entry){ .hash = hash, .expires_ms = now_ms + cache->ttl_ms, .key_len = key_len, .row_len = stored,
                  .has_row = row_json != NULL };
    if (key_len) memcpy(e->bytes, key, key_len);
    if (stored) memcpy(e->bytes + key_len, row_json, stored);
    e->bytes[key_len + stored] = '\0';
    size_t b = hash & (cache->n_buckets - 1);
    e->next_in_bucket = cache->buckets[b];
    cache->buckets[b] = e;
    push_newest(cache, e);
    cache->n_entries++;
    return SL_OK;
}

size_t sl_lookup_cache_size(const sl_lookup_cache *cache)
{
    return cache->n_entries;
}

void sl_lookup_cache_free(sl_lookup_cache *cache)
{
    if (!cache) return;
    while (cache->oldest) remove_entry(cache, cache->oldest);
    free(cache->buckets);
    free(cache);
}
