/* aggregator.c — windows, watermarks and held acknowledgements of a
 * grouped pipeline (see aggregator.h).
 *
 * Holds: each folded batch gets a hold counting the windows that took its
 * rows, plus one for the fold itself. A window purged releases its holds
 * into the current round; when the round's rows are durable, each release
 * is applied and a hold that reaches zero acknowledges its batch. Rounds
 * complete in the order they were sent, so the final watermark only moves
 * forward over rows that are stored.
 */
#include "runtime/aggregator.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/paths.h"
#include "core/json.h"
#include "log/fs.h"
#include "sql/windows.h"

/* Up to this many partitions the watermark moves after every record;
 * past it, after every batch. */
#define PER_RECORD_WATERMARK_PARTITIONS 64
/* The state file's largest size read back (partitions × a few bytes). */
#define STATE_FILE_MAX (4 * 1024 * 1024)

typedef struct hold {
    sl_ack_ticket ticket;
    int refs;
} hold;

typedef struct round {
    struct round *next;
    int64_t watermark_us;        /* what is final once the round is durable */
    struct partition_mark *marks; /* what was read when it began: what it makes durable */
    size_t n_marks;
    hold **released;
    size_t n_released, capacity;
    bool is_done;
} round;

typedef struct partition_mark {
    int32_t partition;
    int64_t max_time_us;         /* greatest event time seen */
    int64_t last_seen_ms;        /* monotonic */
    int64_t max_offset;          /* last offset folded */
    int64_t replayed_through;    /* from the state file: offsets at or before were read before a restart */
    bool is_replaying;           /* replayed_through not reached yet */
} partition_mark;

struct sl_aggregator {
    const sl_sql_program *program;
    sl_aggregator_conf conf;
    sl_aggregator_env env;
    sl_sql_windows *windows;
    partition_mark *marks;
    size_t n_marks, marks_capacity;
    atomic_int_fast64_t watermark_us;
    atomic_uint_fast64_t state_bytes;
    round *current;              /* collecting releases while windows fire */
    hold **carried;              /* folds whose rows came out at once (a join's pairs): dropped by the next round */
    size_t n_carried, carried_capacity;
    bool has_emitted;            /* a row came out during this fold */
    round *pending_head, *pending_tail;
    size_t n_pending;
    bool is_closing;             /* freeing: releases drop holds without acknowledging */
    bool has_new_rows;           /* rows folded since the last advance */
    int64_t advanced_us;         /* the watermark of the last advance (INT64_MIN: none) */
    char *state_path;
    int64_t loaded_final_us;     /* from the state file (INT64_MIN: none) */
    size_t n_replaying;          /* partitions of the state file not yet read past their offset */
    pthread_mutex_t checkpoint_mutex;   /* guards the three below (aggregator thread ↔ source thread) */
    int64_t final_us;
    partition_mark *final_marks; /* copies of marks when final_us last moved */
    size_t n_final_marks;
    int64_t written_final_us;    /* source thread: what the file holds */
    sl_arena *output_arena;      /* rows of one firing; the pipeline copies them */
};

/* ---- holds ---- */

static void retain(void *context, void *h)
{
    (void)context;
    ((hold *)h)->refs++;
}

static void drop(sl_aggregator *a, hold *h)
{
    if (--h->refs > 0) return;
    if (!a->is_closing) a->env.ack(a->env.context, h->ticket);
    free(h);
}

static void release(void *context, void *h)
{
    sl_aggregator *a = context;
    round *r = a->current;
    if (a->is_closing || !r) {
        drop(a, h);
        return;
    }
    if (r->n_released == r->capacity) {
        size_t capacity = r->capacity ? r->capacity * 2 : 64;
        hold **grown = realloc(r->released, capacity * sizeof *grown);
        if (!grown) {
            /* Acknowledging early would risk a loss; keeping it held only
             * delays a commit: leak the reference rather than drop it. */
            return;
        }
        r->released = grown;
        r->capacity = capacity;
    }
    r->released[r->n_released++] = h;
}

/* ---- hooks into the windows ---- */

static int emit(void *context, const sl_value *row, sl_error *err)
{
    sl_aggregator *a = context;
    a->has_emitted = true;
    return a->env.emit(a->env.context, row, err);
}

static int reject(void *context, const sl_value *group_row, const char *reason, sl_error *err)
{
    sl_aggregator *a = context;
    int rc = a->env.dead_group(a->env.context, group_row, reason);
    if (rc) sl_error_set(err, rc, "cannot store a dead letter for a group: %s", reason);
    return rc;
}

/* ---- the state file ---- */

static int read_state_file(sl_aggregator *a, sl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    sl_error local;
    sl_error_clear(&local);
    int rc = sl_log_fs_read_file(a->state_path, STATE_FILE_MAX, &text, &len, &local);
    if (rc == SL_ENOTFOUND) return SL_OK;
    if (rc) return sl_error_set(err, rc, "%s", local.message);
    sl_arena *arena = sl_arena_new(4096);
    sl_value doc;
    rc = arena ? sl_json_parse(arena, text, len, &doc, &local) : SL_ENOMEM;
    const sl_value *final = rc == SL_OK ? sl_value_get(&doc, SL_STR_LIT("final_watermark_us")) : NULL;
    const sl_value *read = rc == SL_OK ? sl_value_get(&doc, SL_STR_LIT("read")) : NULL;
    if (rc == SL_OK && (!final || final->type != SL_TYPE_INT || !read || read->type != SL_TYPE_OBJECT))
        rc = SL_ECORRUPT;
    if (rc == SL_OK) {
        a->loaded_final_us = final->integer;
        for (size_t i = 0; i < read->object.n_members && rc == SL_OK; i++) {
            const sl_member *m = &read->object.members[i];
            char number[16];
            snprintf(number, sizeof number, "%.*s", (int)(m->key.len < 15 ? m->key.len : 15), m->key.ptr);
            if (m->value.type != SL_TYPE_INT) {
                rc = SL_ECORRUPT;
                break;
            }
            if (a->n_marks == a->marks_capacity) {
                size_t capacity = a->marks_capacity ? a->marks_capacity * 2 : 8;
                partition_mark *grown = realloc(a->marks, capacity * sizeof *grown);
                if (!grown) {
                    rc = SL_ENOMEM;
                    break;
                }
                a->marks = grown;
                a->marks_capacity = capacity;
            }
            a->marks[a->n_marks++] = (partition_mark){ (int32_t)strtol(number, NULL, 10), INT64_MIN, -1, -1,
                                                       m->value.integer, m->value.integer >= 0 };
            if (m->value.integer >= 0) a->n_replaying++;
        }
    }
    if (rc && rc != SL_ENOMEM)
        sl_error_set(err, SL_ECORRUPT, "%s is not a state file sluice wrote (delete it to start the windows of "
                     "pipeline %s afresh from the committed positions)", a->state_path, a->conf.pipeline);
    else if (rc)
        sl_error_set(err, rc, "out of memory reading %s", a->state_path);
    sl_arena_free(arena);
    free(text);
    return rc;
}

int sl_aggregator_checkpoint(sl_aggregator *a, sl_error *err)
{
    if (!a->state_path) return SL_OK;
    pthread_mutex_lock(&a->checkpoint_mutex);
    int64_t final_us = a->final_us;
    if (final_us == a->written_final_us) {
        pthread_mutex_unlock(&a->checkpoint_mutex);
        return SL_OK;
    }
    sl_buffer text = SL_BUFFER_INIT;
    int rc = sl_buffer_printf(&text, "{\"final_watermark_us\":%" PRId64 ",\"read\":{", final_us);
    for (size_t i = 0; i < a->n_final_marks && rc == SL_OK; i++)
        rc = sl_buffer_printf(&text, "%s\"%" PRId32 "\":%" PRId64, i ? "," : "", a->final_marks[i].partition,
                              a->final_marks[i].max_offset);
    pthread_mutex_unlock(&a->checkpoint_mutex);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(&text, "}}\n");
    if (rc) {
        sl_buffer_free(&text);
        return sl_error_set(err, rc, "out of memory writing %s", a->state_path);
    }
    rc = sl_make_parent_dirs(a->state_path, err);
    if (rc == SL_OK) rc = sl_log_fs_replace_file(a->state_path, text.data, text.len, err);
    sl_buffer_free(&text);
    if (rc == SL_OK) a->written_final_us = final_us;
    return rc;
}

/* ---- life ---- */

int sl_aggregator_new(const sl_sql_program *program, const sl_aggregator_conf *conf, const sl_aggregator_env *env,
                      sl_aggregator **out, sl_error *err)
{
    *out = NULL;
    sl_aggregator *a = calloc(1, sizeof *a);
    if (!a) return sl_error_set(err, SL_ENOMEM, "out of memory");
    a->program = program;
    a->conf = *conf;
    a->env = *env;
    a->loaded_final_us = INT64_MIN;
    a->final_us = INT64_MIN;
    a->written_final_us = INT64_MIN;
    a->advanced_us = INT64_MIN;
    atomic_init(&a->watermark_us, INT64_MIN);
    atomic_init(&a->state_bytes, 0);
    pthread_mutex_init(&a->checkpoint_mutex, NULL);
    int rc = SL_OK;
    a->output_arena = sl_arena_new(64 * 1024);
    if (!a->output_arena) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK && conf->data_dir) {
        size_t len = strlen(conf->data_dir) + strlen(conf->pipeline) + 32;
        a->state_path = malloc(len);
        if (!a->state_path) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
        else snprintf(a->state_path, len, "%s/state/%s.json", conf->data_dir, conf->pipeline);
        if (rc == SL_OK) rc = read_state_file(a, err);
        a->final_us = a->written_final_us = a->loaded_final_us;
    }
    sl_sql_windows_conf windows_conf = {
        .allowed_lateness_us = conf->allowed_lateness_ms * 1000,
        .max_bytes = conf->max_bytes > 0 ? (uint64_t)conf->max_bytes : 0,
    };
    sl_sql_window_hooks hooks = { a, retain, release, emit, reject };
    if (rc == SL_OK) rc = sl_sql_windows_new(program, &windows_conf, &hooks, &a->windows, err);
    if (rc) {
        sl_aggregator_free(a);
        return rc;
    }
    /* Replayed records are judged against what was final: the watermark
     * starts there. */
    if (a->loaded_final_us != INT64_MIN) atomic_store(&a->watermark_us, a->loaded_final_us);
    *out = a;
    return SL_OK;
}

static void round_free(round *r)
{
    free(r->marks);
    free(r->released);
    free(r);
}

void sl_aggregator_free(sl_aggregator *a)
{
    if (!a) return;
    a->is_closing = true;
    sl_sql_windows_free(a->windows);
    for (round *r = a->pending_head; r;) {
        round *next = r->next;
        for (size_t i = 0; i < r->n_released; i++) drop(a, r->released[i]);
        round_free(r);
        r = next;
    }
    for (size_t i = 0; i < a->n_carried; i++) drop(a, a->carried[i]);
    free(a->carried);
    pthread_mutex_destroy(&a->checkpoint_mutex);
    sl_arena_free(a->output_arena);
    free(a->marks);
    free(a->final_marks);
    free(a->state_path);
    free(a);
}

/* ---- folding ---- */

static int64_t compute_watermark(sl_aggregator *a, int64_t now_ms);

static partition_mark *mark_of(sl_aggregator *a, int32_t partition, int64_t now_ms)
{
    for (size_t i = 0; i < a->n_marks; i++)
        if (a->marks[i].partition == partition) return &a->marks[i];
    if (a->n_marks == a->marks_capacity) {
        size_t capacity = a->marks_capacity ? a->marks_capacity * 2 : 8;
        partition_mark *grown = realloc(a->marks, capacity * sizeof *grown);
        if (!grown) return NULL;
        a->marks = grown;
        a->marks_capacity = capacity;
    }
    partition_mark *mark = &a->marks[a->n_marks++];
    *mark = (partition_mark){ partition, INT64_MIN, now_ms, -1, -1, false };
    return mark;
}

/* The watermark rows are judged against: the current one, never behind
 * what was final before a restart. */
static int64_t judging_watermark(const sl_aggregator *a)
{
    int64_t w = atomic_load(&a->watermark_us);
    return w > a->loaded_final_us ? w : a->loaded_final_us;
}

/* Rows that came out while folding h are not durable yet: h's own
 * reference goes to the next round, which drops it once they are. */
static bool carry(sl_aggregator *a, hold *h)
{
    if (a->n_carried == a->carried_capacity) {
        size_t capacity = a->carried_capacity ? a->carried_capacity * 2 : 16;
        hold **grown = realloc(a->carried, capacity * sizeof *grown);
        if (!grown) return true;   /* kept held: a commit delayed, nothing lost */
        a->carried = grown;
        a->carried_capacity = capacity;
    }
    a->carried[a->n_carried++] = h;
    return true;
}

int sl_aggregator_fold(sl_aggregator *a, const sl_batch *batch, const sl_value *prepared, sl_ack_ticket ticket,
                       sl_error *err)
{
    hold *h = malloc(sizeof *h);
    if (!h) return sl_error_set(err, SL_ENOMEM, "out of memory");
    *h = (hold){ ticket, 1 };
    int64_t now_ms = sl_clock_monotonic_ms();
    partition_mark *mark = mark_of(a, batch->partition, now_ms);
    if (!mark) {
        free(h);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    mark->last_seen_ms = now_ms;
    a->has_emitted = false;
    int rc = SL_OK;
    for (size_t i = 0; i < batch->n_records && rc == SL_OK; i++) {
        if (prepared[i].type == SL_TYPE_NULL) continue;
        const sl_record *record = &batch->records[i];
        bool is_replay = record->offset <= mark->replayed_through;
        sl_error row_err;
        sl_error_clear(&row_err);
        int outcome = sl_sql_windows_add(a->windows, &prepared[i], h, judging_watermark(a),
                                         is_replay ? a->loaded_final_us : INT64_MIN, &row_err);
        if (record->offset > mark->max_offset) mark->max_offset = record->offset;
        if (outcome == SL_SQL_ADDED || outcome == SL_SQL_REPLAYED) {
            int64_t t = sl_sql_prepared_time(&prepared[i]);
            if (t != INT64_MIN && t > mark->max_time_us) {
                mark->max_time_us = t;
                /* The next record is judged by the watermark this one
                 * moved, whatever the batch boundaries (with many
                 * partitions, once per batch: advance does it). */
                if (a->n_marks <= PER_RECORD_WATERMARK_PARTITIONS)
                    atomic_store(&a->watermark_us, compute_watermark(a, now_ms));
            }
            continue;
        }
        if (outcome == SL_SQL_LATE && is_replay) continue;   /* judged before the restart */
        if (outcome == SL_SQL_LATE || outcome == SL_ESQL) {
            rc = a->env.dead_letter(a->env.context, record, outcome == SL_SQL_LATE ? "window" : "aggregate",
                                    row_err.message);
            if (rc) sl_error_set(err, rc, "cannot store a dead letter: %s", row_err.message);
            continue;
        }
        *err = row_err;
        sl_error_prefix(err, "pipeline %s: ", a->conf.pipeline);
        rc = outcome;
    }
    if (mark->is_replaying && mark->max_offset >= mark->replayed_through) {
        mark->is_replaying = false;
        if (--a->n_replaying == 0) sl_sql_windows_end_replay(a->windows);
    }
    atomic_store(&a->state_bytes, sl_sql_windows_bytes(a->windows));
    a->has_new_rows = true;
    if (a->has_emitted && carry(a, h)) return rc;
    drop(a, h);   /* the fold's own reference */
    return rc;
}

/* ---- firing ---- */

static int64_t compute_watermark(sl_aggregator *a, int64_t now_ms)
{
    int64_t delay_us = a->conf.delay_ms * 1000;
    int64_t active = INT64_MAX, any = INT64_MIN;
    bool has_active = false;
    for (size_t i = 0; i < a->n_marks; i++) {
        const partition_mark *mark = &a->marks[i];
        if (mark->max_time_us == INT64_MIN) continue;
        int64_t w = mark->max_time_us - delay_us;
        if (w > any) any = w;
        bool is_idle = a->conf.idle_timeout_ms > 0 && now_ms - mark->last_seen_ms >= a->conf.idle_timeout_ms;
        if (is_idle) continue;
        has_active = true;
        if (w < active) active = w;
    }
    /* Every partition idle: nothing older is on its way, the greatest
     * counts. No partition with records yet: no watermark. */
    int64_t w = has_active ? active : any;
    int64_t before = atomic_load(&a->watermark_us);
    return w > before ? w : before;
}

int sl_aggregator_advance(sl_aggregator *a, int64_t now_ms, bool is_end, sl_error *err)
{
    int64_t watermark = compute_watermark(a, now_ms);
    atomic_store(&a->watermark_us, watermark);
    int64_t firing = is_end ? INT64_MAX : watermark;
    /* Nothing fires that did not before unless the watermark moved or rows
     * came (a late one re-fires its window): idle ticks cost nothing. Rows
     * that came out while folding need a round to be durable in. */
    bool is_idle = firing == INT64_MIN || (firing == a->advanced_us && !a->has_new_rows);
    if (is_idle && !a->n_carried) return SL_OK;
    a->advanced_us = firing;
    a->has_new_rows = false;
    round *r = calloc(1, sizeof *r);
    if (!r) return sl_error_set(err, SL_ENOMEM, "out of memory");
    r->watermark_us = watermark;
    r->marks = malloc((a->n_marks ? a->n_marks : 1) * sizeof *r->marks);
    r->released = malloc((a->n_carried ? a->n_carried : 1) * sizeof *r->released);
    if (!r->marks || !r->released) {
        free(r->marks);
        free(r->released);
        free(r);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    if (a->n_marks) memcpy(r->marks, a->marks, a->n_marks * sizeof *r->marks);
    r->n_marks = a->n_marks;
    if (a->n_carried) memcpy(r->released, a->carried, a->n_carried * sizeof *r->released);
    r->n_released = r->capacity = a->n_carried;
    a->n_carried = 0;
    a->current = r;
    sl_arena_reset(a->output_arena);
    int rc = is_idle ? SL_OK : sl_sql_windows_advance(a->windows, firing, a->output_arena, err);
    a->current = NULL;
    atomic_store(&a->state_bytes, sl_sql_windows_bytes(a->windows));
    if (rc) {
        for (size_t i = 0; i < r->n_released; i++) drop(a, r->released[i]);
        round_free(r);
        return rc;
    }
    if (a->pending_tail) a->pending_tail->next = r;
    else a->pending_head = r;
    a->pending_tail = r;
    a->n_pending++;
    return a->env.end_round(a->env.context, r, err);
}

/* Applies the rounds that are done, oldest first. */
static void complete_rounds(sl_aggregator *a)
{
    while (a->pending_head && a->pending_head->is_done) {
        round *r = a->pending_head;
        a->pending_head = r->next;
        if (!a->pending_head) a->pending_tail = NULL;
        a->n_pending--;
        if (r->watermark_us > a->final_us && r->watermark_us != INT64_MIN) {
            /* Published before the holds are dropped, so a commit of what
             * they acknowledge finds the watermark that makes it safe. */
            pthread_mutex_lock(&a->checkpoint_mutex);
            free(a->final_marks);
            a->final_marks = r->marks;   /* what was read before the round began is durable */
            a->n_final_marks = r->n_marks;
            r->marks = NULL;
            a->final_us = r->watermark_us;
            pthread_mutex_unlock(&a->checkpoint_mutex);
        }
        for (size_t i = 0; i < r->n_released; i++) drop(a, r->released[i]);
        round_free(r);
    }
}

void sl_aggregator_round_done(sl_aggregator *a, void *token)
{
    ((round *)token)->is_done = true;
    complete_rounds(a);
}

size_t sl_aggregator_rounds_pending(const sl_aggregator *a)
{
    return a->n_pending;
}

int64_t sl_aggregator_watermark(const sl_aggregator *a)
{
    return atomic_load(&a->watermark_us);
}

uint64_t sl_aggregator_state_bytes(const sl_aggregator *a)
{
    return atomic_load(&a->state_bytes);
}
