/* windows.c — the windows, groups and aggregate states of a grouped
 * statement (see windows.h for the semantics).
 *
 * Each open window owns an arena holding its groups, their copied keys and
 * their aggregates' fixed states (heap parts belong to the aggregates), and
 * a hash table of its groups by key. A group's key is compared by a
 * canonical encoding of its values (NULL equals NULL as GROUP BY wants, 1
 * equals 1.0), which is also what is hashed. Session windows hold one group
 * each and are found by key through a second table. Windows are few (a
 * size over a slide, or one per active key for sessions), so firing and
 * purging scan them all.
 */
#include "sql/windows.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/buffer.h"
#include "core/value_key.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "sql/aggregate.h"
#include "sql/eval.h"
#include "sql/joins.h"

#define STATE_ALIGN 16
#define FIRST_BUCKETS 16

typedef struct group group;
struct group {
    group *next_in_bucket;
    group *next;                 /* in the window, in the order groups appeared */
    uint64_t hash;
    const unsigned char *key_bytes;
    size_t key_len;
    sl_value *keys;
    unsigned char *states;       /* one per call at the offsets of sl_sql_windows */
    uint64_t n_rows;
    bool is_dirty;               /* rows since the window last fired */
};

typedef struct window window;
struct window {
    window *next;
    window *next_in_session_bucket;
    int64_t start, end;
    uint64_t sequence;           /* creation order, to fire windows of one end in a stable order */
    sl_arena *arena;
    group **buckets;
    size_t n_buckets, n_groups;
    group *first, *last;
    void **holds;
    size_t n_holds, holds_capacity;
    bool is_fired;
};

struct sl_sql_windows {
    sl_sql_joins *joins;         /* a join of two streams: all its state is there */
    const sl_sql_program *program;
    const sl_sql_grouping *grouping;
    sl_sql_windows_conf conf;
    sl_sql_window_hooks hooks;
    size_t *state_offsets;
    size_t states_size;
    window *windows;
    size_t n_windows;
    size_t n_groups;
    uint64_t sequence;
    window **session_buckets;    /* SESSION: windows by their group's key hash */
    size_t n_session_buckets;
    uint64_t bytes;              /* arenas, tables and aggregates' heap parts */
    sl_buffer key;               /* scratch: the canonical key being looked up */
};

/* ---- time arithmetic that saturates instead of overflowing ---- */

static int64_t add_saturated(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

/* When a window ending at end fires (Flink: its last µs, end - 1). */
static int64_t fire_time(int64_t end)
{
    return end == INT64_MAX ? INT64_MAX : end - 1;
}

/* When it is final and purged. */
static int64_t final_time(const sl_sql_windows *w, int64_t end)
{
    return end == INT64_MAX ? INT64_MAX : add_saturated(end - 1, w->conf.allowed_lateness_us);
}

static int64_t floor_to(int64_t t, int64_t unit)
{
    int64_t q = t / unit;
    if (t % unit < 0) q--;
    return q * unit;
}

/* ---- keys ---- */

static int encode_key(sl_sql_windows *w, const sl_value *prepared)
{
    sl_buffer_clear(&w->key);
    for (size_t i = 0; i < w->grouping->n_keys; i++) {
        int rc = sl_value_append_key(&w->key, &prepared->array.items[1 + i]);
        if (rc) return rc;
    }
    return SL_OK;
}

/* ---- windows and groups ---- */

static void release_states(sl_sql_windows *w, group *g)
{
    for (size_t i = 0; i < w->grouping->n_calls; i++) {
        const struct sl_sql_aggregate *aggregate = w->grouping->calls[i].aggregate;
        void *state = g->states + w->state_offsets[i];
        w->bytes -= aggregate->heap_bytes(state);
        aggregate->release(state);
    }
}

/* Frees win (its holds released unless they were handed on). */
static void window_free(sl_sql_windows *w, window *win, bool releases_holds)
{
    for (group *g = win->first; g; g = g->next) release_states(w, g);
    w->n_groups -= win->n_groups;
    if (releases_holds)
        for (size_t i = 0; i < win->n_holds; i++) w->hooks.release(w->hooks.context, win->holds[i]);
    w->bytes -= sl_arena_bytes_used(win->arena) + win->n_buckets * sizeof *win->buckets +
                win->holds_capacity * sizeof *win->holds + sizeof *win;
    free(win->holds);
    free(win->buckets);
    sl_arena_free(win->arena);
    free(win);
    w->n_windows--;
}

static window *window_new(sl_sql_windows *w, int64_t start, int64_t end)
{
    window *win = calloc(1, sizeof *win);
    if (!win) return NULL;
    win->arena = sl_arena_new(4096);
    win->buckets = calloc(FIRST_BUCKETS, sizeof *win->buckets);
    if (!win->arena || !win->buckets) {
        sl_arena_free(win->arena);
        free(win->buckets);
        free(win);
        return NULL;
    }
    win->n_buckets = FIRST_BUCKETS;
    win->start = start;
    win->end = end;
    win->sequence = w->sequence++;
    win->next = w->windows;
    w->windows = win;
    w->n_windows++;
    w->bytes += sl_arena_bytes_used(win->arena) + FIRST_BUCKETS * sizeof *win->buckets + sizeof *win;
    return win;
}

static window *find_window(sl_sql_windows *w, int64_t start, int64_t end)
{
    for (window *win = w->windows; win; win = win->next)
        if (win->start == start && win->end == end) return win;
    return window_new(w, start, end);
}

static int retain_hold(sl_sql_windows *w, window *win, void *hold)
{
    if (win->n_holds && win->holds[win->n_holds - 1] == hold) return SL_OK;
    if (win->n_holds == win->holds_capacity) {
        size_t capacity = win->holds_capacity ? win->holds_capacity * 2 : 8;
        void **grown = realloc(win->holds, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        w->bytes += (capacity - win->holds_capacity) * sizeof *grown;
        win->holds = grown;
        win->holds_capacity = capacity;
    }
    win->holds[win->n_holds++] = hold;
    w->hooks.retain(w->hooks.context, hold);
    return SL_OK;
}

static int grow_buckets(sl_sql_windows *w, window *win)
{
    size_t n = win->n_buckets * 2;
    group **buckets = calloc(n, sizeof *buckets);
    if (!buckets) return SL_ENOMEM;
    for (group *g = win->first; g; g = g->next) {
        size_t b = g->hash & (n - 1);
        g->next_in_bucket = buckets[b];
        buckets[b] = g;
    }
    w->bytes += (n - win->n_buckets) * sizeof *buckets;
    free(win->buckets);
    win->buckets = buckets;
    win->n_buckets = n;
    return SL_OK;
}

/* Is g's key the one in w->key? */
static bool is_key(const sl_sql_windows *w, const group *g, uint64_t hash)
{
    return g->hash == hash && g->key_len == w->key.len &&
           (g->key_len == 0 || memcmp(g->key_bytes, w->key.data, g->key_len) == 0);
}

/* The group of the key in w->key (hash), created with the row's keys. */
static group *find_group(sl_sql_windows *w, window *win, uint64_t hash, const sl_value *prepared)
{
    size_t b = hash & (win->n_buckets - 1);
    for (group *g = win->buckets[b]; g; g = g->next_in_bucket)
        if (is_key(w, g, hash)) return g;
    size_t used_before = sl_arena_bytes_used(win->arena);
    group *g = sl_arena_calloc(win->arena, sizeof *g);
    unsigned char *key_bytes = sl_arena_alloc(win->arena, w->key.len ? w->key.len : 1);
    size_t n_keys = w->grouping->n_keys;
    sl_value *keys = n_keys ? sl_arena_alloc(win->arena, n_keys * sizeof *keys) : NULL;
    unsigned char *states = w->states_size ? sl_arena_alloc(win->arena, w->states_size + STATE_ALIGN) : NULL;
    if (!g || !key_bytes || (n_keys && !keys) || (w->states_size && !states)) return NULL;
    for (size_t i = 0; i < n_keys; i++)
        if (sl_value_clone(win->arena, &prepared->array.items[1 + i], &keys[i])) return NULL;
    if (w->key.len) memcpy(key_bytes, w->key.data, w->key.len);
    if (states) states += (STATE_ALIGN - (uintptr_t)states % STATE_ALIGN) % STATE_ALIGN;
    g->hash = hash;
    g->key_bytes = key_bytes;
    g->key_len = w->key.len;
    g->keys = keys;
    g->states = states;
    for (size_t i = 0; i < w->grouping->n_calls; i++) {
        const sl_sql_aggregate_call *call = &w->grouping->calls[i];
        call->aggregate->init(states + w->state_offsets[i], call->constants, call->n_args, call->is_distinct);
        w->bytes += call->aggregate->heap_bytes(states + w->state_offsets[i]);
    }
    g->next_in_bucket = win->buckets[b];
    win->buckets[b] = g;
    if (win->last) win->last->next = g;
    else win->first = g;
    win->last = g;
    win->n_groups++;
    w->n_groups++;
    w->bytes += sl_arena_bytes_used(win->arena) - used_before;
    if (win->n_groups > win->n_buckets && grow_buckets(w, win)) return NULL;
    return g;
}

/* Does aggregate take any value (so a row can never fail in it)? */
static bool takes_anything(const struct sl_sql_aggregate *aggregate)
{
    static const char *const names[] = { "count", "approx_count_distinct", "first_value", "last_value" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(aggregate->name, names[i]) == 0) return true;
    return false;
}

/* Whether the row's value of call is refused whatever the state (a type
 * error): tried on a fresh state, so that a row that fails in a later call
 * has not already been counted by an earlier one. What only a state can
 * refuse (sum past int64) may still fail after earlier calls took the row. */
static int probe(const sl_sql_aggregate_call *call, const sl_value *arg, sl_error *err)
{
    const struct sl_sql_aggregate *aggregate = call->aggregate;
    unsigned char local[256] __attribute__((aligned(STATE_ALIGN)));
    void *state = aggregate->state_size <= sizeof local ? (void *)local : aligned_alloc(STATE_ALIGN,
        (aggregate->state_size + STATE_ALIGN - 1) / STATE_ALIGN * STATE_ALIGN);
    if (!state) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
    aggregate->init(state, call->constants, call->n_args, call->is_distinct);
    int rc = aggregate->add(state, call->arg ? arg : NULL, err);
    aggregate->release(state);
    if (state != (void *)local) free(state);
    return rc;
}

/* Folds the row's arguments into g. */
static int fold_row(sl_sql_windows *w, group *g, const sl_value *prepared, sl_error *err)
{
    size_t n_calls = w->grouping->n_calls;
    const sl_value *args = &prepared->array.items[1 + w->grouping->n_keys];
    for (size_t i = 1; i < n_calls; i++) {   /* the first one fails before anything changed */
        if (takes_anything(w->grouping->calls[i].aggregate)) continue;
        int rc = probe(&w->grouping->calls[i], &args[i], err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n_calls; i++) {
        const sl_sql_aggregate_call *call = &w->grouping->calls[i];
        void *state = g->states + w->state_offsets[i];
        size_t heap_before = call->aggregate->heap_bytes(state);
        int rc = call->aggregate->add(state, call->arg ? &args[i] : NULL, err);
        w->bytes += call->aggregate->heap_bytes(state) - heap_before;
        if (rc) return rc;   /* the aggregate's message names it */
    }
    g->n_rows++;
    g->is_dirty = true;
    return SL_OK;
}

static int check_bound(const sl_sql_windows *w, sl_error *err)
{
    if (!w->conf.max_bytes || w->bytes <= w->conf.max_bytes) return SL_OK;
    return sl_error_set(err, SL_ETOOBIG, "window state holds %" PRIu64 " bytes in %zu windows and %zu groups, past "
                        "state.max_bytes (%" PRIu64 "): raise state.max_bytes, shorten the windows or group by "
                        "fewer keys", w->bytes, w->n_windows, w->n_groups, w->conf.max_bytes);
}

static int add_to_window(sl_sql_windows *w, window *win, uint64_t hash, const sl_value *prepared, void *hold,
                         sl_error *err)
{
    group *g = find_group(w, win, hash, prepared);
    if (!g) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
    int rc = fold_row(w, g, prepared, err);
    if (rc) return rc;
    if (retain_hold(w, win, hold)) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
    return check_bound(w, err);
}

static int late(const sl_sql_windows *w, int64_t t, int64_t end, int64_t watermark, sl_error *err)
{
    char time_text[SL_TIME_ISO_MAX], watermark_text[SL_TIME_ISO_MAX];
    sl_time_format_iso(t, time_text);
    sl_time_format_iso(watermark, watermark_text);
    (void)end;
    sl_error_set(err, SL_ESQL, "late: event time %s = %s is behind the watermark %s by more than allowed_lateness "
                 "(%" PRId64 " ms); its window is already final", w->grouping->window.time_name, time_text,
                 watermark_text, w->conf.allowed_lateness_us / 1000);
    return SL_SQL_LATE;
}

size_t sl_sql_window_assign(const sl_sql_window_spec *spec, int64_t t, int64_t *starts, int64_t *ends)
{
    size_t n = 0;
    switch (spec->kind) {
    case SL_SQL_WINDOW_NONE:
        starts[n] = INT64_MIN;
        ends[n++] = INT64_MAX;
        break;
    case SL_SQL_WINDOW_TUMBLE:
        starts[n] = floor_to(t, spec->size_us);
        ends[n] = add_saturated(starts[n], spec->size_us);
        n++;
        break;
    case SL_SQL_WINDOW_HOP:
        for (int64_t start = floor_to(t, spec->slide_us);
             start > t - spec->size_us && n < SL_SQL_MAX_WINDOWS_PER_ROW; start -= spec->slide_us) {
            starts[n] = start;
            ends[n++] = add_saturated(start, spec->size_us);
        }
        break;
    case SL_SQL_WINDOW_CUMULATE: {
        int64_t start = floor_to(t, spec->size_us);
        for (int64_t end = start + spec->slide_us;
             end <= start + spec->size_us && n < SL_SQL_MAX_WINDOWS_PER_ROW; end += spec->slide_us) {
            if (t >= end) continue;
            starts[n] = start;
            ends[n++] = end;
        }
        break;
    }
    case SL_SQL_WINDOW_SESSION: break;
    }
    return n;
}

/* TUMBLE, HOP, CUMULATE and no window: the row's windows are known from
 * its time alone. */
static int add_fixed(sl_sql_windows *w, const sl_value *prepared, void *hold, int64_t watermark, int64_t final_through,
                     sl_error *err)
{
    int64_t t = sl_sql_prepared_time(prepared);
    int64_t starts[SL_SQL_MAX_WINDOWS_PER_ROW], ends[SL_SQL_MAX_WINDOWS_PER_ROW];
    size_t n = sl_sql_window_assign(&w->grouping->window, t, starts, ends);
    int rc = encode_key(w, prepared);
    if (rc) return sl_error_set(err, rc, "out of memory in window state");
    uint64_t hash = XXH3_64bits(w->key.data, w->key.len);
    size_t n_added = 0, n_replayed = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t final_at = final_time(w, ends[i]);
        if (final_at <= final_through) {
            n_replayed++;
            continue;
        }
        if (final_at <= watermark) continue;
        window *win = find_window(w, starts[i], ends[i]);
        if (!win) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
        rc = add_to_window(w, win, hash, prepared, hold, err);
        if (rc) return rc;
        n_added++;
    }
    if (n_added) return SL_SQL_ADDED;
    if (n_replayed) return SL_SQL_REPLAYED;
    return late(w, t, n ? ends[0] : t, watermark, err);
}

/* SESSION: the row's session is [t, t + gap), merged with the sessions of
 * its key it overlaps. */
static int add_session(sl_sql_windows *w, const sl_value *prepared, void *hold, int64_t watermark,
                       int64_t final_through, sl_error *err)
{
    int64_t t = sl_sql_prepared_time(prepared);
    int64_t end = add_saturated(t, w->grouping->window.gap_us);
    int rc = encode_key(w, prepared);
    if (rc) return sl_error_set(err, rc, "out of memory in window state");
    uint64_t hash = XXH3_64bits(w->key.data, w->key.len);
    size_t b = hash & (w->n_session_buckets - 1);
    window *into = NULL;
    int64_t start = t;
    for (window **link = &w->session_buckets[b]; *link;) {
        window *win = *link;
        group *g = win->first;
        bool is_same_key = g && is_key(w, g, hash);
        if (!is_same_key || !(win->start < end && t < win->end)) {
            link = &win->next_in_session_bucket;
            continue;
        }
        if (!into) {
            into = win;
            link = &win->next_in_session_bucket;
            continue;
        }
        /* A second session the row bridges: fold it into the first. */
        for (size_t i = 0; i < w->grouping->n_calls; i++) {
            const struct sl_sql_aggregate *aggregate = w->grouping->calls[i].aggregate;
            void *to = into->first->states + w->state_offsets[i];
            size_t heap_before = aggregate->heap_bytes(to);
            rc = aggregate->merge(to, win->first->states + w->state_offsets[i], err);
            w->bytes += aggregate->heap_bytes(to) - heap_before;
            if (rc) return rc;
        }
        into->first->n_rows += win->first->n_rows;
        into->first->is_dirty = true;
        if (win->start < into->start) into->start = win->start;
        if (win->end > into->end) into->end = win->end;
        for (size_t i = 0; i < win->n_holds; i++) {
            /* Its holds move over: retain once more for into, then let
             * window_free release the old reference. */
            void *moved = win->holds[i];
            if (retain_hold(w, into, moved)) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
        }
        *link = win->next_in_session_bucket;
        for (window **all = &w->windows; *all; all = &(*all)->next)
            if (*all == win) {
                *all = win->next;
                break;
            }
        window_free(w, win, true);
    }
    if (into) {
        if (end > into->end) into->end = end;
        if (start < into->start) into->start = start;
        rc = add_to_window(w, into, hash, prepared, hold, err);
        return rc ? rc : SL_SQL_ADDED;
    }
    int64_t final_at = final_time(w, end);
    if (final_at <= final_through) return SL_SQL_REPLAYED;
    if (final_at <= watermark) return late(w, t, end, watermark, err);
    window *win = window_new(w, start, end);
    if (!win) return sl_error_set(err, SL_ENOMEM, "out of memory in window state");
    win->next_in_session_bucket = w->session_buckets[b];
    w->session_buckets[b] = win;
    rc = add_to_window(w, win, hash, prepared, hold, err);
    return rc ? rc : SL_SQL_ADDED;
}

int sl_sql_windows_add(sl_sql_windows *w, const sl_value *prepared, void *hold, int64_t watermark_us,
                       int64_t final_through_us, sl_error *err)
{
    if (w->joins) return sl_sql_joins_add(w->joins, prepared, hold, watermark_us, final_through_us, err);
    if (w->grouping->window.kind == SL_SQL_WINDOW_SESSION)
        return add_session(w, prepared, hold, watermark_us, final_through_us, err);
    return add_fixed(w, prepared, hold, watermark_us, final_through_us, err);
}

/* ---- firing and purging ---- */

static int emit_group(sl_sql_windows *w, const window *win, const group *g, sl_arena *arena, sl_error *err)
{
    const sl_sql_grouping *grouping = w->grouping;
    size_t n = SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + grouping->n_calls;
    sl_value *items = sl_arena_alloc(arena, n * sizeof *items);
    if (!items) return sl_error_set(err, SL_ENOMEM, "out of memory firing a window");
    bool has_window = grouping->window.kind != SL_SQL_WINDOW_NONE;
    items[SL_SQL_SLOT_WINDOW_START] = has_window ? sl_value_timestamp(win->start) : sl_value_null();
    items[SL_SQL_SLOT_WINDOW_END] = has_window ? sl_value_timestamp(win->end) : sl_value_null();
    for (size_t i = 0; i < grouping->n_keys; i++) items[SL_SQL_SLOT_FIRST_KEY + i] = g->keys[i];
    sl_value group_row = { .type = SL_TYPE_ARRAY, .array = { items, n } };
    char reason[700];
    for (size_t i = 0; i < grouping->n_calls; i++) {
        const sl_sql_aggregate_call *call = &grouping->calls[i];
        sl_value *result = &items[SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + i];
        int rc = call->aggregate->result(g->states + w->state_offsets[i], arena, result, err);
        if (rc == SL_ENOMEM) return rc;
        if (rc) {
            snprintf(reason, sizeof reason, "%s", err->message);   /* it names the aggregate */
            for (size_t k = i; k < grouping->n_calls; k++) items[SL_SQL_SLOT_FIRST_KEY + grouping->n_keys + k] = sl_value_null();
            return w->hooks.reject(w->hooks.context, &group_row, reason, err);
        }
    }
    if (grouping->having) {
        sl_value keep;
        int rc = sl_sql_expr_eval(grouping->having, &group_row, arena, &keep, err);
        if (rc == SL_ENOMEM) return rc;
        if (rc == SL_OK && keep.type != SL_TYPE_BOOL && keep.type != SL_TYPE_NULL)
            rc = sl_error_set(err, SL_ESQL, "line %d column %d: condition must be boolean, got %s",
                              grouping->having->line, grouping->having->column, sl_type_name(keep.type));
        if (rc) {
            snprintf(reason, sizeof reason, "HAVING: %s", err->message);
            return w->hooks.reject(w->hooks.context, &group_row, reason, err);
        }
        if (keep.type == SL_TYPE_NULL || !keep.boolean) return SL_OK;
    }
    const sl_sql_program *program = w->program;
    sl_member *members = sl_arena_alloc(arena, program->n_columns * sizeof *members);
    if (!members) return sl_error_set(err, SL_ENOMEM, "out of memory firing a window");
    for (size_t i = 0; i < program->n_columns; i++) {
        members[i].key = program->column_keys[i];
        int rc = sl_sql_expr_eval(program->columns[i], &group_row, arena, &members[i].value, err);
        if (rc == SL_ENOMEM) return rc;
        if (rc) {
            snprintf(reason, sizeof reason, "column '%s': %s", program->column_names[i], err->message);
            return w->hooks.reject(w->hooks.context, &group_row, reason, err);
        }
    }
    sl_value row = { .type = SL_TYPE_OBJECT, .object = { members, program->n_columns } };
    return w->hooks.emit(w->hooks.context, &row, err);
}

static int fire(sl_sql_windows *w, window *win, sl_arena *arena, sl_error *err)
{
    for (group *g = win->first; g; g = g->next) {
        if (!g->is_dirty || !g->n_rows) continue;
        g->is_dirty = false;
        int rc = emit_group(w, win, g, arena, err);
        if (rc) return rc;
    }
    win->is_fired = true;
    return SL_OK;
}

static int by_end(const void *a, const void *b)
{
    const window *x = *(window *const *)a, *y = *(window *const *)b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static void unlink_session(sl_sql_windows *w, window *win)
{
    for (size_t b = 0; b < w->n_session_buckets; b++)
        for (window **link = &w->session_buckets[b]; *link; link = &(*link)->next_in_session_bucket)
            if (*link == win) {
                *link = win->next_in_session_bucket;
                return;
            }
}

int sl_sql_windows_advance(sl_sql_windows *w, int64_t watermark_us, sl_arena *arena, sl_error *err)
{
    if (w->joins) return sl_sql_joins_advance(w->joins, watermark_us, arena, err);
    size_t n_due = 0;
    for (window *win = w->windows; win; win = win->next)
        if (fire_time(win->end) <= watermark_us) n_due++;
    if (!n_due) return SL_OK;
    window **due = malloc(n_due * sizeof *due);
    if (!due) return sl_error_set(err, SL_ENOMEM, "out of memory firing windows");
    size_t n = 0;
    for (window *win = w->windows; win; win = win->next)
        if (fire_time(win->end) <= watermark_us) due[n++] = win;
    qsort(due, n, sizeof *due, by_end);
    int rc = SL_OK;
    for (size_t i = 0; i < n && rc == SL_OK; i++) rc = fire(w, due[i], arena, err);
    if (rc == SL_OK) {
        for (size_t i = 0; i < n; i++) {
            window *win = due[i];
            if (final_time(w, win->end) > watermark_us) continue;
            for (window **link = &w->windows; *link; link = &(*link)->next)
                if (*link == win) {
                    *link = win->next;
                    break;
                }
            if (w->session_buckets) unlink_session(w, win);
            window_free(w, win, true);
        }
    }
    free(due);
    return rc;
}

/* ---- life ---- */

int sl_sql_windows_new(const sl_sql_program *program, const sl_sql_windows_conf *conf,
                       const sl_sql_window_hooks *hooks, sl_sql_windows **out, sl_error *err)
{
    *out = NULL;
    sl_sql_windows *w = calloc(1, sizeof *w);
    if (!w) return sl_error_set(err, SL_ENOMEM, "out of memory for window state");
    if (program->stream_join) {
        int rc = sl_sql_joins_new(program, conf, hooks, &w->joins, err);
        if (rc) free(w);
        else *out = w;
        return rc;
    }
    w->program = program;
    w->grouping = program->grouping;
    w->conf = *conf;
    w->hooks = *hooks;
    size_t n_calls = w->grouping->n_calls;
    w->state_offsets = calloc(n_calls ? n_calls : 1, sizeof *w->state_offsets);
    if (!w->state_offsets) {
        free(w);
        return sl_error_set(err, SL_ENOMEM, "out of memory for window state");
    }
    for (size_t i = 0; i < n_calls; i++) {
        w->state_offsets[i] = w->states_size;
        size_t size = w->grouping->calls[i].aggregate->state_size;
        w->states_size += (size + STATE_ALIGN - 1) / STATE_ALIGN * STATE_ALIGN;
    }
    if (w->grouping->window.kind == SL_SQL_WINDOW_SESSION) {
        w->n_session_buckets = 4096;
        w->session_buckets = calloc(w->n_session_buckets, sizeof *w->session_buckets);
        if (!w->session_buckets) {
            free(w->state_offsets);
            free(w);
            return sl_error_set(err, SL_ENOMEM, "out of memory for window state");
        }
    }
    *out = w;
    return SL_OK;
}

void sl_sql_windows_free(sl_sql_windows *w)
{
    if (!w) return;
    sl_sql_joins_free(w->joins);
    while (w->windows) {
        window *win = w->windows;
        w->windows = win->next;
        window_free(w, win, true);
    }
    free(w->session_buckets);
    free(w->state_offsets);
    sl_buffer_free(&w->key);
    free(w);
}

void sl_sql_windows_end_replay(sl_sql_windows *w)
{
    if (w->joins) sl_sql_joins_end_replay(w->joins);   /* windows keep nothing for a replay */
}

uint64_t sl_sql_windows_bytes(const sl_sql_windows *w)
{
    return w->joins ? sl_sql_joins_bytes(w->joins) : w->bytes;
}

size_t sl_sql_windows_open(const sl_sql_windows *w)
{
    return w->joins ? sl_sql_joins_windows(w->joins) : w->n_windows;
}

size_t sl_sql_windows_groups(const sl_sql_windows *w)
{
    return w->joins ? sl_sql_joins_rows(w->joins) : w->n_groups;
}
