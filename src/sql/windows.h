/* windows.h — the state of a grouped statement: event-time windows, the
 * groups in each and their aggregates, fired when the watermark passes a
 * window's end.
 *
 * The caller (the runtime's aggregator) prepares each record on any thread
 * (sl_sql_group_prepare: WHERE, event time, keys, aggregate arguments),
 * then on one thread adds the prepared rows and advances the watermark.
 * Semantics are Flink's: a window [start, end) fires once the watermark W
 * reaches end - 1 µs; it stays open for late rows until W reaches
 * end - 1 µs + allowed_lateness (each late row that lands re-fires its
 * group), then it is purged. A row all of whose windows are purged is late:
 * sl_sql_windows_add says so and the caller sends it to the dead letters.
 *
 * Rows are tied to the caller's holds (opaque pointers; one per input
 * batch): a window retains each hold whose rows it took and releases it
 * when purged, so the caller knows when every window a batch fed is done
 * and may commit the batch's position. After a restart the caller replays
 * from the committed positions and passes, for the rows read again, the
 * watermark that was final: windows purged before it are skipped, not
 * fired twice.
 */
#ifndef SL_SQL_WINDOWS_H
#define SL_SQL_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"
#include "sql/sql.h"

/* Is program grouped (GROUP BY, aggregates or a window) or a join of two
 * streams? Such a program keeps state and is run with the functions here
 * (which hand a join to joins.h), not sl_sql_eval. */
bool sl_sql_is_grouped(const sl_sql_program *program);

/* Has it an event-time window (not only GROUP BY), or a join with times?
 * Its event-time column as written ("bid.dateTime"; a join's left side's),
 * or NULL. */
const char *sl_sql_event_time_column(const sl_sql_program *program);

/* Is column (as written) an event time of program (either side's, for a
 * join)? */
bool sl_sql_is_event_time_column(const sl_sql_program *program, const char *column);

/* value as an event time in µs: a timestamp, an ISO 8601 string, or an
 * integer of milliseconds since the epoch. SL_ESQL naming time_name. */
int sl_sql_event_time(const char *time_name, const sl_value *value, int64_t *out, sl_error *err);

/* One input record → *out (in arena): 1 kept, 0 dropped by WHERE, or a
 * negative SL_E* (SL_ESQL: this record's own mistake, for the dead letters).
 * Any thread. */
int sl_sql_group_prepare(const sl_sql_program *program, const sl_value *input, sl_arena *arena, sl_value *out,
                         sl_error *err);

/* The event time of a prepared row, µs (INT64_MIN without a window). */
int64_t sl_sql_prepared_time(const sl_value *prepared);

/* The windows [starts[i], ends[i]) that a row of time t belongs to under
 * spec (TUMBLE, HOP, CUMULATE; one unbounded window without a window), at
 * most SL_SQL_MAX_WINDOWS_PER_ROW; their number. */
#define SL_SQL_MAX_WINDOWS_PER_ROW 1000
struct sl_sql_window_spec;
size_t sl_sql_window_assign(const struct sl_sql_window_spec *spec, int64_t t, int64_t *starts, int64_t *ends);

typedef struct sl_sql_window_hooks {
    void *context;
    void (*retain)(void *context, void *hold);
    void (*release)(void *context, void *hold);
    /* An output row (allocated in the arena given to advance). */
    int (*emit)(void *context, const sl_value *row, sl_error *err);
    /* A group whose output failed (HAVING or a column: division by zero,
     * say): group_row is its [window_start, window_end, keys..., results...]. */
    int (*reject)(void *context, const sl_value *group_row, const char *reason, sl_error *err);
} sl_sql_window_hooks;

typedef struct sl_sql_windows_conf {
    int64_t allowed_lateness_us;
    uint64_t max_bytes;           /* 0: no bound */
} sl_sql_windows_conf;

typedef struct sl_sql_windows sl_sql_windows;

int sl_sql_windows_new(const sl_sql_program *program, const sl_sql_windows_conf *conf,
                       const sl_sql_window_hooks *hooks, sl_sql_windows **out, sl_error *err);

/* Frees every window; their holds are released (hooks->release). */
void sl_sql_windows_free(sl_sql_windows *windows);

typedef enum sl_sql_add_outcome {
    SL_SQL_ADDED = 0,      /* in at least one open window */
    SL_SQL_LATE = 1,       /* every window it belongs to was purged: err says why */
    SL_SQL_REPLAYED = 2,   /* every window it belongs to was final before a restart */
} sl_sql_add_outcome;

/* Adds a prepared row under hold, with watermark the current one. A row
 * read again after a restart passes the watermark that was final then as
 * final_through: windows final by it are skipped (SL_SQL_REPLAYED); others
 * pass INT64_MIN. Returns an sl_sql_add_outcome, or SL_ESQL (the row's aggregate failed:
 * integer overflow in sum, say; for the dead letters, state unchanged),
 * SL_ETOOBIG (state past max_bytes: the pipeline must stop), SL_ENOMEM. */
int sl_sql_windows_add(sl_sql_windows *windows, const sl_value *prepared, void *hold, int64_t watermark_us,
                       int64_t final_through_us, sl_error *err);

/* Fires what watermark_us closes (rows through hooks->emit, in arena) and
 * purges what it makes final (holds released). INT64_MAX: the input ended,
 * everything fires. */
int sl_sql_windows_advance(sl_sql_windows *windows, int64_t watermark_us, sl_arena *arena, sl_error *err);

/* Bytes the state holds now; windows and groups open. */
/* The replay after a restart is over: every partition read again past
 * what it had read before (state kept only for the replay goes). */
void sl_sql_windows_end_replay(sl_sql_windows *windows);

uint64_t sl_sql_windows_bytes(const sl_sql_windows *windows);
size_t sl_sql_windows_open(const sl_sql_windows *windows);
size_t sl_sql_windows_groups(const sl_sql_windows *windows);

#endif
