/* timetable.h — which data intervals a DAG's schedule creates runs for,
 * with Airflow's semantics, as pure functions of the schedule and "now".
 *
 * A schedule's fire times split time into data intervals [start, end); the
 * run for an interval is due when the interval has ended, and its logical
 * date is the start. A cron schedule fires at its cron times in the DAG's
 * zone; `every: P` fires at anchor + k·P, the anchor being start_date, or
 * the Unix epoch without one (Airflow's delta timetable does not align;
 * sluice does, so servers that restart agree on the intervals). A schedule
 * of none (null) creates no runs: they are triggered by hand.
 *
 * The next interval after the last one created (Airflow's
 * next_dagrun_info): with catchup, the one that follows it (or, with none
 * yet, the first at or after start_date); without catchup, never earlier
 * than the latest interval that has completed by now, so intervals missed
 * while no scheduler ran are skipped. Never one starting after end_date.
 *
 * Times are µs since the Unix epoch; SL_TIMETABLE_NONE where unset.
 */
#ifndef SL_TIMETABLE_H
#define SL_TIMETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tz.h"
#include "scheduler/cron.h"

#define SL_TIMETABLE_NONE INT64_MIN

typedef enum sl_schedule_kind {
    SL_SCHEDULE_NONE,     /* manual runs only */
    SL_SCHEDULE_CRON,
    SL_SCHEDULE_EVERY,
} sl_schedule_kind;

typedef struct sl_timetable {
    sl_schedule_kind kind;
    sl_cron cron;
    const sl_tz *tz;          /* borrowed; for SL_SCHEDULE_CRON */
    int64_t every_us;         /* for SL_SCHEDULE_EVERY, > 0 */
    int64_t start_us;         /* start_date, or SL_TIMETABLE_NONE */
    int64_t end_us;           /* end_date, or SL_TIMETABLE_NONE */
    bool catchup;
} sl_timetable;

typedef struct sl_interval {
    int64_t start_us;         /* the logical date */
    int64_t end_us;
} sl_interval;

/* The schedule's first fire time strictly after / before t, and whether t
 * is one. SL_ENOTFOUND when there is none (no schedule, or none in 30
 * years). */
int sl_timetable_fire_after(const sl_timetable *timetable, int64_t t, int64_t *fire);
int sl_timetable_fire_before(const sl_timetable *timetable, int64_t t, int64_t *fire);
bool sl_timetable_is_fire(const sl_timetable *timetable, int64_t t);

/* The next interval to create a run for, given the end of the last
 * scheduled interval created (SL_TIMETABLE_NONE when none) and now. The
 * run is due once now >= next->end_us. SL_ENOTFOUND when the schedule
 * creates no more runs. */
int sl_timetable_next(const sl_timetable *timetable, int64_t last_end_us, int64_t now_us, sl_interval *next);

/* The intervals whose logical date falls in [from_us, to_us], in order,
 * into out, *n of them; SL_ETOOBIG when there are more than max. */
int sl_timetable_backfill(const sl_timetable *timetable, int64_t from_us, int64_t to_us, sl_interval *out,
                          size_t max, size_t *n);

/* The data interval of a run triggered by hand at run_after: the latest
 * complete interval at that time (Airflow's infer_manual_data_interval),
 * or [run_after, run_after] for a schedule of none. */
sl_interval sl_timetable_manual(const sl_timetable *timetable, int64_t run_after_us);

#endif
