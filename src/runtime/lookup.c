/* lookup.c — a lookup join's rows through a per-worker cache (see
 * lookup.h). Cached rows are kept as JSON text and read back into the
 * batch's arena on a hit, so the cache owns plain bytes and its size is
 * what it holds; a row read from the table takes the same way back, so
 * its values are the same cached or not. */
#include "runtime/lookup.h"

#include <stdlib.h>
#include <string.h>

#include "connectors/sqlite/sqlite_lookup.h"
#include "core/buffer.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/value_key.h"
#include "runtime/lookup_cache.h"
#include "sql/lookup.h"

struct sl_lookup {
    sl_sqlite_lookup *table;
    sl_lookup_cache *cache;
    size_t n_keys;
    sl_buffer key;
    sl_buffer json;
};

int sl_lookup_open(const sl_pipeline_plan *plan, sl_lookup **out, sl_error *err)
{
    *out = NULL;
    sl_sql_lookup_info info;
    if (!sl_sql_lookup_info_of(plan->program, &info) || !plan->lookup_path)
        return sl_error_set(err, SL_EINVAL, "pipeline %s has no lookup join", plan->name);
    sl_lookup *lookup = calloc(1, sizeof *lookup);
    if (!lookup) return sl_error_set(err, SL_ENOMEM, "out of memory");
    lookup->n_keys = info.n_keys;
    lookup->cache = sl_lookup_cache_new((size_t)plan->lookup_cache_rows, plan->lookup_cache_ttl_ms);
    int rc = lookup->cache ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK)
        rc = sl_sqlite_lookup_open(plan->lookup_path, plan->lookup_table, info.key_columns, info.n_keys,
                                   &lookup->table, err);
    if (rc) {
        sl_lookup_close(lookup);
        return rc;
    }
    *out = lookup;
    return SL_OK;
}

void sl_lookup_close(sl_lookup *lookup)
{
    if (!lookup) return;
    sl_sqlite_lookup_close(lookup->table);
    sl_lookup_cache_free(lookup->cache);
    sl_buffer_free(&lookup->key);
    sl_buffer_free(&lookup->json);
    free(lookup);
}

/* Reads JSON text into row, from a copy in arena (values point into the
 * text they were read from). */
static int read_row(sl_arena *arena, const char *text, size_t len, sl_value *row, sl_error *err)
{
    char *copy = sl_arena_alloc(arena, len ? len : 1);
    if (!copy) return sl_error_set(err, SL_ENOMEM, "out of memory");
    if (len) memcpy(copy, text, len);
    return sl_json_parse(arena, copy, len, row, err);
}

int sl_lookup_find(sl_lookup *lookup, const sl_value *keys, sl_arena *arena, sl_value *row, sl_error *err)
{
    sl_buffer_clear(&lookup->key);
    for (size_t i = 0; i < lookup->n_keys; i++)
        if (sl_value_append_key(&lookup->key, &keys[i])) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int64_t now_ms = sl_clock_monotonic_ms();
    const char *cached = NULL;
    size_t cached_len = 0;
    if (sl_lookup_cache_get(lookup->cache, lookup->key.data, lookup->key.len, now_ms, &cached, &cached_len)) {
        if (!cached) return 0;
        int rc = read_row(arena, cached, cached_len, row, err);
        return rc ? rc : 1;
    }
    int found = sl_sqlite_lookup_get(lookup->table, keys, arena, row, err);
    if (found < 0) return found;
    if (!found) {
        sl_lookup_cache_put(lookup->cache, lookup->key.data, lookup->key.len, NULL, 0, now_ms);
        return 0;
    }
    /* The row as a hit will give it (its JSON read back: BLOBs become their
     * text form), so a record sees the same values cached or not. */
    sl_buffer_clear(&lookup->json);
    int rc = sl_json_write(&lookup->json, row);
    if (rc == SL_OK) rc = read_row(arena, lookup->json.data, lookup->json.len, row, err);
    else sl_error_set(err, rc, "lookup: cannot write the row as JSON");
    if (rc) return rc;
    sl_lookup_cache_put(lookup->cache, lookup->key.data, lookup->key.len, lookup->json.data, lookup->json.len, now_ms);
    return 1;
}
