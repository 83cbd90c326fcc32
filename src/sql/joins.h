/* joins.h — the state of a join of two streams: the rows of each side
 * kept for the other side's rows to meet, bounded by the watermark.
 *
 * The caller drives it as it drives windows (windows.h hands the calls
 * over when the program is a join): prepare each record on any thread,
 * then on one thread add the prepared rows and advance the watermark.
 * Semantics, as Flink's:
 *   interval join  rows meet when their keys are equal and right's time -
 *                  left's is within the bounds; a pair comes out as soon
 *                  as its second row is added. A left row is kept until
 *                  the watermark passes its time + upper + allowed_lateness,
 *                  a right row until it passes its time - lower +
 *                  allowed_lateness; a row older than the watermark -
 *                  allowed_lateness is late.
 *   window join    both sides in the same TUMBLE, HOP or CUMULATE window;
 *                  a window's pairs come out once, when it is final (the
 *                  watermark at its end - 1 µs + allowed_lateness).
 *   regular join   no time: rows are kept until the input ends.
 * An outer side's row that met nothing comes out with the other side NULL
 * when it leaves the state. A key that is NULL meets nothing.
 *
 * Holds and replay are as for windows: a kept row retains its hold until
 * it leaves. A row read again after a restart (final_through not
 * INT64_MIN) meets the rows also read again without emitting their pair,
 * which came out before. A row that had left the state before the restart
 * is not kept again, but while the replay lasts it is kept without a hold
 * when the other side is an outer one: a row of that side read again must
 * meet it to know it was matched, and not come out unmatched.
 */
#ifndef SL_SQL_JOINS_H
#define SL_SQL_JOINS_H

#include "sql/windows.h"

/* One input record → *out (in arena): 1 a row of at least one side, 0 of
 * neither, or a negative SL_E* (SL_ESQL: the record's own mistake). */
int sl_sql_join_prepare(const sl_sql_program *program, const sl_value *input, sl_arena *arena, sl_value *out,
                        sl_error *err);

typedef struct sl_sql_joins sl_sql_joins;

int sl_sql_joins_new(const sl_sql_program *program, const sl_sql_windows_conf *conf,
                     const sl_sql_window_hooks *hooks, sl_sql_joins **out, sl_error *err);
void sl_sql_joins_free(sl_sql_joins *joins);

/* As sl_sql_windows_add; pairs it completes come out through hooks->emit
 * (in an arena of the state's own, reset per call). */
int sl_sql_joins_add(sl_sql_joins *joins, const sl_value *prepared, void *hold, int64_t watermark_us,
                     int64_t final_through_us, sl_error *err);

/* As sl_sql_windows_advance: window pairs, and unmatched rows of outer
 * sides that leave. */
int sl_sql_joins_advance(sl_sql_joins *joins, int64_t watermark_us, sl_arena *arena, sl_error *err);

/* Every partition has been read past what it had read before the
 * restart: the rows kept only for the replay go. */
void sl_sql_joins_end_replay(sl_sql_joins *joins);

uint64_t sl_sql_joins_bytes(const sl_sql_joins *joins);
size_t sl_sql_joins_windows(const sl_sql_joins *joins);
size_t sl_sql_joins_rows(const sl_sql_joins *joins);

#endif
