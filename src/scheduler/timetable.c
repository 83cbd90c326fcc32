/* timetable.c — data intervals from a schedule (see timetable.h). The
 * functions follow Airflow's CronDataIntervalTimetable: align a time to
 * the schedule (a fire time stays, another moves to the next or previous
 * fire), skip to the latest complete interval when catchup is off, and
 * continue from the last interval's end otherwise. */
#include "scheduler/timetable.h"

#define US_PER_SECOND INT64_C(1000000)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t anchor_of(const sl_timetable *timetable)
{
    return timetable->start_us == SL_TIMETABLE_NONE ? 0 : timetable->start_us;
}

int sl_timetable_fire_after(const sl_timetable *timetable, int64_t t, int64_t *fire)
{
    if (timetable->kind == SL_SCHEDULE_EVERY) {
        int64_t anchor = anchor_of(timetable);
        *fire = anchor + (floor_div(t - anchor, timetable->every_us) + 1) * timetable->every_us;
        return SL_OK;
    }
    if (timetable->kind != SL_SCHEDULE_CRON) return SL_ENOTFOUND;
    int64_t seconds;
    int rc = sl_cron_next(&timetable->cron, timetable->tz, floor_div(t, US_PER_SECOND), &seconds);
    if (rc == SL_OK) *fire = seconds * US_PER_SECOND;
    return rc;
}

int sl_timetable_fire_before(const sl_timetable *timetable, int64_t t, int64_t *fire)
{
    if (timetable->kind == SL_SCHEDULE_EVERY) {
        int64_t anchor = anchor_of(timetable);
        *fire = anchor + (-floor_div(anchor - t, timetable->every_us) - 1) * timetable->every_us;
        return SL_OK;
    }
    if (timetable->kind != SL_SCHEDULE_CRON) return SL_ENOTFOUND;
    int64_t seconds;
    int rc = sl_cron_prev(&timetable->cron, timetable->tz, -floor_div(-t, US_PER_SECOND), &seconds);
    if (rc == SL_OK) *fire = seconds * US_PER_SECOND;
    return rc;
}

bool sl_timetable_is_fire(const sl_timetable *timetable, int64_t t)
{
    int64_t previous;
    return sl_timetable_fire_after(timetable, t - 1, &previous) == SL_OK && previous == t;
}

static int align_next(const sl_timetable *timetable, int64_t t, int64_t *aligned)
{
    if (sl_timetable_is_fire(timetable, t)) {
        *aligned = t;
        return SL_OK;
    }
    return sl_timetable_fire_after(timetable, t, aligned);
}

static int align_prev(const sl_timetable *timetable, int64_t t, int64_t *aligned)
{
    if (sl_timetable_is_fire(timetable, t)) {
        *aligned = t;
        return SL_OK;
    }
    return sl_timetable_fire_before(timetable, t, aligned);
}

/* The start of the latest interval that has ended by now. */
static int latest_complete_start(const sl_timetable *timetable, int64_t now, int64_t *start)
{
    int64_t last_start, next_start;
    int rc = sl_timetable_fire_before(timetable, now, &last_start);
    if (rc == SL_OK) rc = sl_timetable_fire_after(timetable, last_start, &next_start);
    if (rc) return rc;
    if (next_start == now) {   /* now is on a boundary: [last_start, now) has just ended */
        *start = last_start;
        return SL_OK;
    }
    return sl_timetable_fire_before(timetable, last_start, start);
}

int sl_timetable_next(const sl_timetable *timetable, int64_t last_end_us, int64_t now_us, sl_interval *next)
{
    if (timetable->kind == SL_SCHEDULE_NONE) return SL_ENOTFOUND;
    int64_t earliest = SL_TIMETABLE_NONE;
    int rc = SL_OK;
    if (timetable->start_us != SL_TIMETABLE_NONE) rc = align_next(timetable, timetable->start_us, &earliest);
    if (rc) return rc;
    if (!timetable->catchup || earliest == SL_TIMETABLE_NONE) {
        int64_t latest;
        rc = latest_complete_start(timetable, now_us, &latest);
        if (rc) return rc;
        if (earliest == SL_TIMETABLE_NONE || latest > earliest) earliest = latest;
    }
    int64_t start = earliest;
    if (last_end_us != SL_TIMETABLE_NONE) {
        rc = align_prev(timetable, last_end_us, &start);
        if (rc) return rc;
        if (start < earliest) start = earliest;
    }
    if (timetable->end_us != SL_TIMETABLE_NONE && start > timetable->end_us) return SL_ENOTFOUND;
    int64_t end;
    rc = sl_timetable_fire_after(timetable, start, &end);
    if (rc) return rc;
    *next = (sl_interval){ start, end };
    return SL_OK;
}

int sl_timetable_backfill(const sl_timetable *timetable, int64_t from_us, int64_t to_us, sl_interval *out,
                          size_t max, size_t *n)
{
    *n = 0;
    if (timetable->kind == SL_SCHEDULE_NONE) return SL_OK;
    int64_t start;
    int rc = align_next(timetable, from_us, &start);
    while (rc == SL_OK && start <= to_us) {
        int64_t end;
        rc = sl_timetable_fire_after(timetable, start, &end);
        if (rc) break;
        if (*n == max) return SL_ETOOBIG;
        out[(*n)++] = (sl_interval){ start, end };
        start = end;
    }
    return rc == SL_ENOTFOUND ? SL_OK : rc;
}

sl_interval sl_timetable_manual(const sl_timetable *timetable, int64_t run_after_us)
{
    int64_t end, start;
    if (timetable->kind == SL_SCHEDULE_NONE || align_prev(timetable, run_after_us, &end) ||
        sl_timetable_fire_before(timetable, end, &start))
        return (sl_interval){ run_after_us, run_after_us };
    return (sl_interval){ start, end };
}
