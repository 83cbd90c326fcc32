/* joins.c — the rows a join of two streams keeps, the pairs they make,
 * and when they leave (see joins.h for the semantics).
 *
 * Rows meet in cells: one per key (and, in a window join, per window),
 * found through a hash table of the key's canonical bytes (value_key.h:
 * 1 equals 1.0, as SQL's = says). A cell lists each side's rows in the
 * order they came, so pairs come out in a stable order. A row of an
 * interval or regular join owns an arena holding itself and its copied
 * record, and sits in a min-heap by the watermark at which it leaves; a
 * window join's rows live in their window's arena and leave with it.
 */
#include "sql/joins.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/buffer.h"
#include "core/timefmt.h"
#include "core/value_key.h"
#include "sql/eval.h"
#include "sql/join_sides.h"

#define FIRST_BUCKETS 64
#define PAIR_ITEMS SL_SQL_JOIN_SIDE_LAST   /* slots 0 to join_side - 1 */

typedef struct cell cell;
typedef struct join_window join_window;

typedef struct join_row join_row;
struct join_row {
    join_row *next;              /* in its cell, its side's rows in order */
    join_row *prev;
    cell *cell;
    int side;                    /* 0 left, 1 right */
    int64_t time;
    int64_t leaves_at;           /* interval, regular: the watermark that purges it */
    uint64_t sequence;           /* arrival order, to purge ties in a stable order */
    size_t heap_index;
    sl_value record;
    sl_arena *arena;             /* interval, regular: owns the row and its record; window: NULL */
    size_t bytes;
    void *hold;
    bool is_matched;
    bool is_replayed;            /* read again after a restart */
    bool is_ghost;               /* replayed, had left before the restart: kept only to match */
    join_row *next_ghost;
};

struct cell {
    cell *next_in_bucket;
    cell *next_in_window;
    uint64_t hash;
    unsigned char *key;
    size_t key_len;
    bool is_null_key;            /* a key is NULL: its rows meet nothing */
    join_row *first[2], *last[2];
    size_t n_rows;
    join_window *window;         /* a window join's, else NULL */
};

struct join_window {
    join_window *next;
    int64_t start, end;
    sl_arena *arena;             /* its cells, keys, rows and records */
    cell *first_cell, *last_cell;
    void **holds;
    size_t n_holds, holds_capacity;
    size_t n_rows;
};

struct sl_sql_joins {
    const sl_sql_program *program;
    const sl_sql_stream_join *join;
    sl_sql_windows_conf conf;
    sl_sql_window_hooks hooks;
    cell **buckets;
    size_t n_buckets, n_cells;
    join_row **heap;             /* interval, regular: rows by leaves_at */
    size_t n_heap, heap_capacity;
    join_window *windows;
    size_t n_windows;
    size_t n_rows;
    uint64_t sequence;
    uint64_t bytes;
    join_row *ghosts;            /* until the replay is over (sl_sql_joins_end_replay) */
    bool is_replay_over;
    sl_buffer key;               /* scratch: the key being looked up */
    sl_arena *scratch;           /* pairs made while adding */
};

/* ---- per record ---- */

static int side_filter(const sl_sql_join_side *side, const sl_value *input, sl_arena *arena, bool *is_row,
                       sl_error *err)
{
    *is_row = true;
    if (!side->filter) return SL_OK;
    sl_value keep;
    int rc = sl_sql_expr_eval(side->filter, input, arena, &keep, err);
    if (rc) return sl_error_prefix(err, "join side %s: ", side->alias), rc;
    if (keep.type != SL_TYPE_BOOL && keep.type != SL_TYPE_NULL)
        return sl_error_set(err, SL_ESQL, "join side %s: line %d column %d: condition must be boolean, got %s",
                            side->alias, side->filter->line, side->filter->column, sl_type_name(keep.type));
    *is_row = keep.type == SL_TYPE_BOOL && keep.boolean;
    return SL_OK;
}

int sl_sql_join_prepare(const sl_sql_program *program, const sl_value *input, sl_arena *arena, sl_value *out,
                        sl_error *err)
{
    const sl_sql_stream_join *join = program->stream_join;
    size_t n = SL_SQL_JOINED_FIRST_KEY + 2 * join->n_keys + 1;
    sl_value *items = sl_arena_alloc(arena, n * sizeof *items);
    if (!items) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int sides = 0;
    int64_t row_time = INT64_MAX;
    for (int k = 0; k < 2; k++) {
        const sl_sql_join_side *side = &join->sides[k];
        sl_value *keys = &items[SL_SQL_JOINED_FIRST_KEY + (size_t)k * join->n_keys];
        items[SL_SQL_JOINED_LEFT_TIME + k] = sl_value_timestamp(INT64_MIN);
        for (size_t i = 0; i < join->n_keys; i++) keys[i] = sl_value_null();
        bool is_row;
        int rc = side_filter(side, input, arena, &is_row, err);
        if (rc) return rc;
        if (!is_row) continue;
        sides |= 1 << k;
        if (side->time) {
            sl_value time;
            rc = sl_sql_expr_eval(side->time, input, arena, &time, err);
            int64_t *t = &items[SL_SQL_JOINED_LEFT_TIME + k].timestamp;
            if (rc == SL_OK) rc = sl_sql_event_time(side->time_name, &time, t, err);
            if (rc) return rc;
            if (*t < row_time) row_time = *t;
        }
        for (size_t i = 0; i < join->n_keys; i++) {
            rc = sl_sql_expr_eval(side->keys[i], input, arena, &keys[i], err);
            if (rc) return sl_error_prefix(err, "join key %zu of %s: ", i + 1, side->alias), rc;
        }
    }
    if (!sides) return 0;
    items[SL_SQL_JOINED_TIME] = sl_value_timestamp(row_time == INT64_MAX ? INT64_MIN : row_time);
    items[SL_SQL_JOINED_SIDES] = sl_value_int(sides);
    items[n - 1] = *input;
    out->type = SL_TYPE_ARRAY;
    out->array.items = items;
    out->array.n_items = n;
    return 1;
}

/* ---- time arithmetic that saturates ---- */

static int64_t add_saturated(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static int64_t window_final_time(const sl_sql_joins *j, int64_t end)
{
    return end == INT64_MAX ? INT64_MAX : add_saturated(end - 1, j->conf.allowed_lateness_us);
}

/* ---- the heap of rows by when they leave ---- */

static bool leaves_before(const join_row *a, const join_row *b)
{
    return a->leaves_at != b->leaves_at ? a->leaves_at < b->leaves_at : a->sequence < b->sequence;
}

static void heap_set(sl_sql_joins *j, size_t i, join_row *row)
{
    j->heap[i] = row;
    row->heap_index = i;
}

static int heap_push(sl_sql_joins *j, join_row *row)
{
    if (j->n_heap == j->heap_capacity) {
        size_t capacity = j->heap_capacity ? j->heap_capacity * 2 : 256;
        join_row **grown = realloc(j->heap, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        j->bytes += (capacity - j->heap_capacity) * sizeof *grown;
        j->heap = grown;
        j->heap_capacity = capacity;
    }
    size_t i = j->n_heap++;
    while (i > 0 && leaves_before(row, j->heap[(i - 1) / 2])) {
        heap_set(j, i, j->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(j, i, row);
    return SL_OK;
}

static join_row *heap_pop(sl_sql_joins *j)
{
    join_row *top = j->heap[0];
    join_row *last = j->heap[--j->n_heap];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= j->n_heap) break;
        if (child + 1 < j->n_heap && leaves_before(j->heap[child + 1], j->heap[child])) child++;
        if (!leaves_before(j->heap[child], last)) break;
        heap_set(j, i, j->heap[child]);
        i = child;
    }
    if (j->n_heap) heap_set(j, i, last);
    return top;
}

/* ---- cells ---- */

static int encode_key(sl_sql_joins *j, const sl_value *prepared, int side, const join_window *window,
                      bool *is_null)
{
    sl_buffer_clear(&j->key);
    *is_null = false;
    int rc = sl_buffer_append(&j->key, window ? (const void *)&window->start : (const void *)"", window ? 8 : 0);
    const sl_value *keys = &prepared->array.items[SL_SQL_JOINED_FIRST_KEY + (size_t)side * j->join->n_keys];
    for (size_t i = 0; i < j->join->n_keys && rc == SL_OK; i++) {
        if (keys[i].type == SL_TYPE_NULL) *is_null = true;
        rc = sl_value_append_key(&j->key, &keys[i]);
    }
    return rc;
}

static int grow_buckets(sl_sql_joins *j)
{
    size_t n = j->n_buckets ? j->n_buckets * 2 : FIRST_BUCKETS;
    cell **buckets = calloc(n, sizeof *buckets);
    if (!buckets) return SL_ENOMEM;
    for (size_t b = 0; b < j->n_buckets; b++)
        for (cell *c = j->buckets[b]; c;) {
            cell *next = c->next_in_bucket;
            c->next_in_bucket = buckets[c->hash & (n - 1)];
            buckets[c->hash & (n - 1)] = c;
            c = next;
        }
    j->bytes += (n - j->n_buckets) * sizeof *buckets;
    free(j->buckets);
    j->buckets = buckets;
    j->n_buckets = n;
    return SL_OK;
}

/* The cell of the key in j->key, made if absent (in window's arena, or on
 * the heap). */
static cell *find_cell(sl_sql_joins *j, bool is_null_key, join_window *window)
{
    uint64_t hash = XXH3_64bits(j->key.data, j->key.len) ^ (is_null_key ? 0x9e3779b97f4a7c15ull : 0);
    if (j->n_buckets)
        for (cell *c = j->buckets[hash & (j->n_buckets - 1)]; c; c = c->next_in_bucket)
            if (c->hash == hash && c->is_null_key == is_null_key && c->window == window &&
                c->key_len == j->key.len && (!j->key.len || memcmp(c->key, j->key.data, j->key.len) == 0))
                return c;
    if (j->n_cells >= j->n_buckets && grow_buckets(j)) return NULL;
    cell *c;
    if (window) {
        c = sl_arena_calloc(window->arena, sizeof *c);
        if (c && !(c->key = sl_arena_alloc(window->arena, j->key.len ? j->key.len : 1))) c = NULL;
    } else {
        c = calloc(1, sizeof *c);
        if (c && !(c->key = malloc(j->key.len ? j->key.len : 1))) {
            free(c);
            c = NULL;
        }
        if (c) j->bytes += sizeof *c + j->key.len;
    }
    if (!c) return NULL;
    if (j->key.len) memcpy(c->key, j->key.data, j->key.len);   /* a join without keys: one empty key */
    c->key_len = j->key.len;
    c->hash = hash;
    c->is_null_key = is_null_key;
    c->window = window;
    c->next_in_bucket = j->buckets[hash & (j->n_buckets - 1)];
    j->buckets[hash & (j->n_buckets - 1)] = c;
    j->n_cells++;
    if (window) {
        if (window->last_cell) window->last_cell->next_in_window = c;
        else window->first_cell = c;
        window->last_cell = c;
    }
    return c;
}

static void unlink_cell(sl_sql_joins *j, cell *c)
{
    for (cell **link = &j->buckets[c->hash & (j->n_buckets - 1)]; *link; link = &(*link)->next_in_bucket)
        if (*link == c) {
            *link = c->next_in_bucket;
            break;
        }
    j->n_cells--;
}

static void append_row(cell *c, join_row *row)
{
    row->cell = c;
    row->prev = c->last[row->side];
    row->next = NULL;
    if (c->last[row->side]) c->last[row->side]->next = row;
    else c->first[row->side] = row;
    c->last[row->side] = row;
    c->n_rows++;
}

static void remove_row(cell *c, join_row *row)
{
    if (row->prev) row->prev->next = row->next;
    else c->first[row->side] = row->next;
    if (row->next) row->next->prev = row->prev;
    else c->last[row->side] = row->prev;
    c->n_rows--;
}

/* ---- pairs ---- */

static int check_bound(const sl_sql_joins *j, sl_error *err)
{
    if (!j->conf.max_bytes || j->bytes <= j->conf.max_bytes) return SL_OK;
    return sl_error_set(err, SL_ETOOBIG, "join state holds %" PRIu64 " bytes in %zu rows, past state.max_bytes "
                        "(%" PRIu64 "): raise state.max_bytes, bound the join's time more tightly or filter its "
                        "sides", j->bytes, j->n_rows, j->conf.max_bytes);
}

/* [left, right, window_start, window_end, left's window_start and
 * window_end, right's] of two rows (either NULL), as join_sides.h lays it
 * out. */
static sl_value pair_of(sl_value *items, const join_row *left, const join_row *right, const join_window *window)
{
    sl_value start = window ? sl_value_timestamp(window->start) : sl_value_null();
    sl_value end = window ? sl_value_timestamp(window->end) : sl_value_null();
    items[0] = left ? left->record : sl_value_null();
    items[1] = right ? right->record : sl_value_null();
    items[2] = start;
    items[3] = end;
    items[4] = left ? start : sl_value_null();
    items[5] = left ? end : sl_value_null();
    items[6] = right ? start : sl_value_null();
    items[7] = right ? end : sl_value_null();
    return (sl_value){ .type = SL_TYPE_ARRAY, .array = { items, PAIR_ITEMS } };
}

static int reject(sl_sql_joins *j, const sl_value *pair, const char *what, sl_error *err)
{
    char reason[sizeof err->message + 320];
    snprintf(reason, sizeof reason, "%s%s", what, err->message);
    return j->hooks.reject(j->hooks.context, pair, reason, err);
}

/* Is condition (NULL: none) true of pair? A pair it fails on goes to the
 * dead letters (hooks->reject) and counts as false. */
static int test(sl_sql_joins *j, const sl_sql_expr *condition, const char *what, const sl_value *pair,
                sl_arena *arena, bool *is_true, sl_error *err)
{
    *is_true = true;
    if (!condition) return SL_OK;
    sl_value keep;
    int rc = sl_sql_expr_eval(condition, pair, arena, &keep, err);
    if (rc == SL_ENOMEM) return rc;
    if (rc == SL_OK && keep.type != SL_TYPE_BOOL && keep.type != SL_TYPE_NULL)
        rc = sl_error_set(err, SL_ESQL, "line %d column %d: condition must be boolean, got %s", condition->line,
                          condition->column, sl_type_name(keep.type));
    *is_true = rc == SL_OK && keep.type == SL_TYPE_BOOL && keep.boolean;
    return rc ? reject(j, pair, what, err) : SL_OK;
}

/* The statement's row of pair (its WHERE and columns), out. */
static int emit_pair(sl_sql_joins *j, const sl_value *pair, sl_arena *arena, sl_error *err)
{
    const sl_sql_program *program = j->program;
    bool is_kept;
    int rc = test(j, program->where, "WHERE: ", pair, arena, &is_kept, err);
    if (rc || !is_kept) return rc;
    sl_member *members = sl_arena_alloc(arena, (program->n_columns ? program->n_columns : 1) * sizeof *members);
    if (!members) return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    for (size_t i = 0; i < program->n_columns; i++) {
        members[i].key = program->column_keys[i];
        rc = sl_sql_expr_eval(program->columns[i], pair, arena, &members[i].value, err);
        if (rc == SL_ENOMEM) return rc;
        if (rc) {
            char what[300];
            snprintf(what, sizeof what, "column '%s': ", program->column_names[i]);
            return reject(j, pair, what, err);
        }
    }
    sl_value row = { .type = SL_TYPE_OBJECT, .object = { members, program->n_columns } };
    return j->hooks.emit(j->hooks.context, &row, err);
}

/* left and right meet: 1 if the rest of ON holds (then they are matched
 * and, unless both were read before a restart, their row comes out). */
static int meet(sl_sql_joins *j, join_row *left, join_row *right, const join_window *window, sl_arena *arena,
                sl_error *err)
{
    const sl_sql_stream_join *join = j->join;
    if (join->kind == SL_SQL_JOIN_INTERVAL) {
        int64_t d;
        if (__builtin_sub_overflow(right->time, left->time, &d) || d < join->lower_us || d > join->upper_us)
            return SL_OK;
    }
    sl_value items[PAIR_ITEMS];
    sl_value pair = pair_of(items, left, right, window);
    bool holds;
    int rc = test(j, join->condition, "ON: ", &pair, arena, &holds, err);
    if (rc || !holds) return rc;
    left->is_matched = right->is_matched = true;
    if (left->is_replayed && right->is_replayed) return SL_OK;
    return emit_pair(j, &pair, arena, err);
}

/* A row of an outer side that met nothing, with the other side NULL. */
static int emit_unmatched(sl_sql_joins *j, const join_row *row, const join_window *window, sl_arena *arena,
                          sl_error *err)
{
    if (row->is_matched || !j->join->sides[row->side].is_kept) return SL_OK;
    sl_value items[PAIR_ITEMS];
    sl_value pair = pair_of(items, row->side == 0 ? row : NULL, row->side == 1 ? row : NULL, window);
    return emit_pair(j, &pair, arena, err);
}

/* ---- interval and regular joins ---- */

static void free_row(sl_sql_joins *j, join_row *row)
{
    j->bytes -= row->bytes;
    j->n_rows--;
    sl_arena_free(row->arena);
}

static int late(const sl_sql_joins *j, int side, int64_t t, int64_t watermark, const char *why, sl_error *err)
{
    char time_text[SL_TIME_ISO_MAX], watermark_text[SL_TIME_ISO_MAX];
    sl_time_format_iso(t, time_text);
    sl_time_format_iso(watermark, watermark_text);
    sl_error_set(err, SL_ESQL, "late: event time %s = %s is behind the watermark %s by more than allowed_lateness "
                 "(%" PRId64 " ms); %s", j->join->sides[side].time_name, time_text, watermark_text,
                 j->conf.allowed_lateness_us / 1000, why);
    return SL_SQL_LATE;
}

/* When a row of side at time t can meet no row still to come. */
static int64_t leaves_at(const sl_sql_joins *j, int side, int64_t t)
{
    const sl_sql_stream_join *join = j->join;
    if (join->kind == SL_SQL_JOIN_REGULAR) return INT64_MAX;
    /* Rows to come are at or past watermark - lateness: a left row meets
     * right rows up to t + upper, a right row left rows from t - lower. */
    int64_t reach = side == 0 ? add_saturated(t, join->upper_us)
                              : (join->lower_us == INT64_MIN ? INT64_MAX : add_saturated(t, -join->lower_us));
    return add_saturated(add_saturated(reach, j->conf.allowed_lateness_us), 1);
}

static int add_streaming(sl_sql_joins *j, const sl_value *prepared, int side, void *hold, int64_t watermark,
                         int64_t final_through, sl_error *err)
{
    const sl_sql_stream_join *join = j->join;
    bool is_replay = final_through != INT64_MIN;
    int64_t t = prepared->array.items[SL_SQL_JOINED_LEFT_TIME + side].timestamp;
    int64_t leaves = leaves_at(j, side, t);
    /* A row that had left before the restart met what it met then; an
     * outer side's row read again must meet it again to know it was
     * matched, so while the replay lasts it is kept as a ghost: no hold,
     * never purged by the watermark, never out unmatched. */
    bool is_ghost = false;
    if (join->kind == SL_SQL_JOIN_INTERVAL) {
        if (is_replay && leaves <= final_through) {
            if (j->is_replay_over || !join->sides[1 - side].is_kept) return SL_SQL_REPLAYED;
            is_ghost = true;
        }
        if (!is_replay && watermark != INT64_MIN && t < add_saturated(watermark, -j->conf.allowed_lateness_us))
            return late(j, side, t, watermark, "the rows it could meet are gone", err);
    }
    bool is_null_key;
    if (encode_key(j, prepared, side, NULL, &is_null_key)) return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    if (is_null_key && !join->sides[side].is_kept) return SL_SQL_ADDED;   /* meets nothing, never comes out */
    const sl_value *record = &prepared->array.items[prepared->array.n_items - 1];
    sl_arena *arena = sl_arena_new(512);
    join_row *row = arena ? sl_arena_calloc(arena, sizeof *row) : NULL;
    if (!row || sl_value_clone(arena, record, &row->record) != SL_OK) {
        sl_arena_free(arena);
        return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    }
    row->arena = arena;
    row->side = side;
    row->time = t;
    row->leaves_at = leaves;
    row->sequence = j->sequence++;
    row->hold = hold;
    row->is_replayed = is_replay;
    row->is_ghost = is_ghost;
    if (is_ghost) row->hold = NULL;
    cell *c = find_cell(j, is_null_key, NULL);
    if (!c || (!is_ghost && heap_push(j, row))) {
        if (c && !c->n_rows) {
            unlink_cell(j, c);
            j->bytes -= sizeof *c + c->key_len;
            free(c->key);
            free(c);
        }
        sl_arena_free(arena);
        return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    }
    /* The other side's rows of the key meet it, oldest first. */
    sl_arena_reset(j->scratch);
    int rc = SL_OK;
    for (join_row *other = is_null_key ? NULL : c->first[1 - side]; other && rc == SL_OK; other = other->next)
        rc = side == 0 ? meet(j, row, other, NULL, j->scratch, err) : meet(j, other, row, NULL, j->scratch, err);
    append_row(c, row);
    row->bytes = sl_arena_bytes_used(arena);
    j->bytes += row->bytes;
    j->n_rows++;
    if (is_ghost) {
        row->next_ghost = j->ghosts;
        j->ghosts = row;
    } else {
        j->hooks.retain(j->hooks.context, hold);
    }
    if (rc) return rc;
    rc = check_bound(j, err);
    return rc ? rc : is_ghost ? SL_SQL_REPLAYED : SL_OK;
}

/* The row out of its cell (and the cell out of the state when it was its
 * last), then freed. */
static void drop_row(sl_sql_joins *j, join_row *row)
{
    cell *c = row->cell;
    remove_row(c, row);
    if (!c->n_rows) {
        unlink_cell(j, c);
        j->bytes -= sizeof *c + c->key_len;
        free(c->key);
        free(c);
    }
    free_row(j, row);
}

void sl_sql_joins_end_replay(sl_sql_joins *j)
{
    j->is_replay_over = true;
    while (j->ghosts) {
        join_row *row = j->ghosts;
        j->ghosts = row->next_ghost;
        drop_row(j, row);
    }
}

static int advance_streaming(sl_sql_joins *j, int64_t watermark, sl_arena *arena, sl_error *err)
{
    int rc = SL_OK;
    while (j->n_heap && j->heap[0]->leaves_at <= watermark && rc == SL_OK) {
        join_row *row = heap_pop(j);
        rc = emit_unmatched(j, row, NULL, arena, err);
        void *hold = row->hold;
        drop_row(j, row);
        j->hooks.release(j->hooks.context, hold);
    }
    return rc;
}

/* ---- window joins ---- */

static join_window *find_window(sl_sql_joins *j, int64_t start, int64_t end)
{
    for (join_window *w = j->windows; w; w = w->next)
        if (w->start == start && w->end == end) return w;
    join_window *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (!(w->arena = sl_arena_new(4096))) {
        free(w);
        return NULL;
    }
    w->start = start;
    w->end = end;
    w->next = j->windows;
    j->windows = w;
    j->n_windows++;
    j->bytes += sizeof *w + sl_arena_bytes_used(w->arena);
    return w;
}

static int retain_in_window(sl_sql_joins *j, join_window *w, void *hold)
{
    if (w->n_holds && w->holds[w->n_holds - 1] == hold) return SL_OK;
    if (w->n_holds == w->holds_capacity) {
        size_t capacity = w->holds_capacity ? w->holds_capacity * 2 : 8;
        void **grown = realloc(w->holds, capacity * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        j->bytes += (capacity - w->holds_capacity) * sizeof *grown;
        w->holds = grown;
        w->holds_capacity = capacity;
    }
    w->holds[w->n_holds++] = hold;
    j->hooks.retain(j->hooks.context, hold);
    return SL_OK;
}

static int add_to_window(sl_sql_joins *j, join_window *w, const sl_value *prepared, int side, void *hold,
                         sl_error *err)
{
    bool is_null_key;
    if (encode_key(j, prepared, side, w, &is_null_key)) return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    if (is_null_key && !j->join->sides[side].is_kept) return SL_OK;
    size_t before = sl_arena_bytes_used(w->arena);
    cell *c = find_cell(j, is_null_key, w);
    join_row *row = c ? sl_arena_calloc(w->arena, sizeof *row) : NULL;
    const sl_value *record = &prepared->array.items[prepared->array.n_items - 1];
    if (!row || sl_value_clone(w->arena, record, &row->record) != SL_OK || retain_in_window(j, w, hold))
        return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    row->side = side;
    row->time = prepared->array.items[SL_SQL_JOINED_LEFT_TIME + side].timestamp;
    row->sequence = j->sequence++;
    append_row(c, row);
    w->n_rows++;
    j->n_rows++;
    j->bytes += sl_arena_bytes_used(w->arena) - before;
    return check_bound(j, err);
}

static int add_windowed(sl_sql_joins *j, const sl_value *prepared, int side, void *hold, int64_t watermark,
                        int64_t final_through, sl_error *err)
{
    int64_t t = prepared->array.items[SL_SQL_JOINED_LEFT_TIME + side].timestamp;
    int64_t starts[SL_SQL_MAX_WINDOWS_PER_ROW], ends[SL_SQL_MAX_WINDOWS_PER_ROW];
    size_t n = sl_sql_window_assign(&j->join->window, t, starts, ends);
    size_t n_added = 0, n_replayed = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t final_at = window_final_time(j, ends[i]);
        if (final_at <= final_through) {
            n_replayed++;
            continue;
        }
        if (final_at <= watermark) continue;
        join_window *w = find_window(j, starts[i], ends[i]);
        if (!w) return sl_error_set(err, SL_ENOMEM, "out of memory joining");
        int rc = add_to_window(j, w, prepared, side, hold, err);
        if (rc) return rc;
        n_added++;
    }
    if (n_added) return SL_SQL_ADDED;
    if (n_replayed) return SL_SQL_REPLAYED;
    return late(j, side, t, watermark, "its window is already final", err);
}

static void window_free(sl_sql_joins *j, join_window *w)
{
    for (cell *c = w->first_cell; c; c = c->next_in_window) unlink_cell(j, c);
    for (size_t i = 0; i < w->n_holds; i++) j->hooks.release(j->hooks.context, w->holds[i]);
    j->bytes -= sizeof *w + sl_arena_bytes_used(w->arena) + w->holds_capacity * sizeof *w->holds;
    j->n_rows -= w->n_rows;
    j->n_windows--;
    free(w->holds);
    sl_arena_free(w->arena);
    free(w);
}

/* Every pair of the window, cell by cell, then its outer sides' rows that
 * met nothing. */
static int fire(sl_sql_joins *j, join_window *w, sl_arena *arena, sl_error *err)
{
    int rc = SL_OK;
    for (cell *c = w->first_cell; c && rc == SL_OK; c = c->next_in_window) {
        if (c->is_null_key) continue;
        for (join_row *left = c->first[0]; left && rc == SL_OK; left = left->next)
            for (join_row *right = c->first[1]; right && rc == SL_OK; right = right->next)
                rc = meet(j, left, right, w, arena, err);
    }
    for (cell *c = w->first_cell; c && rc == SL_OK; c = c->next_in_window)
        for (int side = 0; side < 2; side++)
            for (join_row *row = c->first[side]; row && rc == SL_OK; row = row->next)
                rc = emit_unmatched(j, row, w, arena, err);
    return rc;
}

static int by_end(const void *a, const void *b)
{
    const join_window *x = *(join_window *const *)a, *y = *(join_window *const *)b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int advance_windowed(sl_sql_joins *j, int64_t watermark, sl_arena *arena, sl_error *err)
{
    size_t n_due = 0;
    for (join_window *w = j->windows; w; w = w->next)
        if (window_final_time(j, w->end) <= watermark) n_due++;
    if (!n_due) return SL_OK;
    join_window **due = malloc(n_due * sizeof *due);
    if (!due) return sl_error_set(err, SL_ENOMEM, "out of memory joining");
    size_t n = 0;
    for (join_window **link = &j->windows; *link;) {
        join_window *w = *link;
        if (window_final_time(j, w->end) <= watermark) {
            *link = w->next;
            due[n++] = w;
        } else {
            link = &w->next;
        }
    }
    qsort(due, n, sizeof *due, by_end);
    int rc = SL_OK;
    for (size_t i = 0; i < n; i++) {
        if (rc == SL_OK) rc = fire(j, due[i], arena, err);
        window_free(j, due[i]);
    }
    free(due);
    return rc;
}

/* ---- the state ---- */

int sl_sql_joins_new(const sl_sql_program *program, const sl_sql_windows_conf *conf,
                     const sl_sql_window_hooks *hooks, sl_sql_joins **out, sl_error *err)
{
    *out = NULL;
    sl_sql_joins *j = calloc(1, sizeof *j);
    if (!j || !(j->scratch = sl_arena_new(16 * 1024))) {
        free(j);
        return sl_error_set(err, SL_ENOMEM, "out of memory for join state");
    }
    j->program = program;
    j->join = program->stream_join;
    j->conf = *conf;
    j->hooks = *hooks;
    j->key = (sl_buffer)SL_BUFFER_INIT;
    *out = j;
    return SL_OK;
}

void sl_sql_joins_free(sl_sql_joins *j)
{
    if (!j) return;
    sl_sql_joins_end_replay(j);
    while (j->n_heap) {
        join_row *row = heap_pop(j);
        cell *c = row->cell;
        remove_row(c, row);
        if (!c->n_rows) {
            free(c->key);
            free(c);
        }
        void *hold = row->hold;
        sl_arena_free(row->arena);
        j->hooks.release(j->hooks.context, hold);
    }
    while (j->windows) {
        join_window *w = j->windows;
        j->windows = w->next;
        window_free(j, w);
    }
    free(j->heap);
    free(j->buckets);
    sl_buffer_free(&j->key);
    sl_arena_free(j->scratch);
    free(j);
}

int sl_sql_joins_add(sl_sql_joins *j, const sl_value *prepared, void *hold, int64_t watermark_us,
                     int64_t final_through_us, sl_error *err)
{
    int64_t sides = prepared->array.items[SL_SQL_JOINED_SIDES].integer;
    int outcome = SL_SQL_REPLAYED;
    bool is_added = false, is_late = false;
    for (int side = 0; side < 2; side++) {
        if (!(sides & (1 << side))) continue;
        int rc = j->join->kind == SL_SQL_JOIN_WINDOW
                     ? add_windowed(j, prepared, side, hold, watermark_us, final_through_us, err)
                     : add_streaming(j, prepared, side, hold, watermark_us, final_through_us, err);
        if (rc < 0) return rc;
        if (rc == SL_SQL_ADDED) is_added = true;
        if (rc == SL_SQL_LATE) is_late = true;
    }
    if (is_added) outcome = SL_SQL_ADDED;
    else if (is_late) outcome = SL_SQL_LATE;
    return outcome;
}

int sl_sql_joins_advance(sl_sql_joins *j, int64_t watermark_us, sl_arena *arena, sl_error *err)
{
    if (watermark_us == INT64_MIN) return SL_OK;
    if (j->join->kind == SL_SQL_JOIN_WINDOW) return advance_windowed(j, watermark_us, arena, err);
    return advance_streaming(j, watermark_us, arena, err);
}

uint64_t sl_sql_joins_bytes(const sl_sql_joins *j)
{
    return j->bytes;
}

size_t sl_sql_joins_windows(const sl_sql_joins *j)
{
    return j->n_windows;
}

size_t sl_sql_joins_rows(const sl_sql_joins *j)
{
    return j->n_rows;
}
