/* lookup_cache.h — a bounded cache of a lookup join's rows by key: at most
 * max_rows entries (the least recently used goes first), each for at most
 * ttl_ms (then it is read from the table again, so the join sees changes
 * within the TTL). Misses are cached too: a key absent from the table is
 * not asked again within the TTL. One cache per worker thread. */
#ifndef SL_LOOKUP_CACHE_H
#define SL_LOOKUP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_lookup_cache sl_lookup_cache;

sl_lookup_cache *sl_lookup_cache_new(size_t max_rows, int64_t ttl_ms);
void sl_lookup_cache_free(sl_lookup_cache *cache);

/* 1 when key is cached and fresh at now_ms: *row_json its row as JSON
 * text (owned by the cache, valid until the next put), or NULL for a
 * cached miss. 0 when not cached. */
int sl_lookup_cache_get(sl_lookup_cache *cache, const void *key, size_t key_len, int64_t now_ms,
                        const char **row_json, size_t *row_len);

/* Caches key → row_json (NULL: no row). SL_OK or SL_ENOMEM (then nothing
 * is cached, which is only slower). */
int sl_lookup_cache_put(sl_lookup_cache *cache, const void *key, size_t key_len, const char *row_json,
                        size_t row_len, int64_t now_ms);

size_t sl_lookup_cache_size(const sl_lookup_cache *cache);

#endif
