/* interpolate.h — `${VAR}` expansion of configuration values.
 *
 * The YAML loader (config.c) runs every scalar value through this before
 * anything parses it as a number, duration or list:
 *   ${NAME}            the environment variable NAME; unset is an error
 *   ${NAME:-default}   NAME when set and not empty, else default (which may
 *                      itself hold ${...} references)
 *   $${                a literal "${" (nothing after it is expanded)
 * A `$` anywhere else is an ordinary character. Values taken from the
 * environment are used as they are, never expanded again.
 *
 * Run macros are the exception: a reference whose NAME is one of them
 * (`${ds}`, `${run_id}`...: the table of scheduler/macros.c) stays in the
 * value as it is written, to be expanded by the scheduler when the task
 * runs, and the environment variable of that name is never read. So does
 * its escape `$${ds}`, which that later expansion turns into a literal
 * `${ds}`. A run macro with a default (`${ds:-x}`) is an error.
 *
 * `{` and `}` end a plain scalar inside a YAML flow collection, so
 * `{ brokers: ${KAFKA:-localhost:9092} }` would not even parse. Before the
 * text reaches libyaml, sl_config_hide_references swaps every well-formed
 * reference (ASCII, on one line) for a placeholder of private-use characters
 * with the same number of characters, so every line:column stays true; the
 * loader puts the original text back into each scalar with
 * sl_config_restore_references before expanding it.
 */
#ifndef SL_CONFIG_INTERPOLATE_H
#define SL_CONFIG_INTERPOLATE_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

/* Expands len bytes of text into a NUL-terminated copy allocated in arena
 * (*out, *out_len). Fails with SL_ECONFIG for an unset variable, a malformed
 * or unterminated reference, a run macro with a default; err's message then
 * says what without a position (the caller prefixes "file:line:column: ").
 * SL_ENOMEM when the arena or the scratch buffer cannot grow. */
int sl_config_interpolate(sl_arena *arena, const char *text, size_t len,
                          char **out, size_t *out_len, sl_error *err);

/* The input with its references hidden (see above). */
typedef struct sl_reference_table {
    const char *original;   /* borrowed: the text given to hide_references */
    char *text;             /* malloc'ed copy with placeholders, or NULL */
    size_t len;
    size_t *starts;         /* malloc'ed: each reference's byte span in original */
    size_t *lengths;
    size_t n_refs;
} sl_reference_table;

/* Fills table for text. When nothing is hidden (no reference, or the text
 * already holds private-use characters of the placeholder range) table->text
 * is NULL and the original is to be parsed as it is. SL_ENOMEM on failure. */
int sl_config_hide_references(const char *text, size_t len, sl_reference_table *table);

/* scalar (len bytes, from the hidden text) with its placeholders replaced by
 * the references they stand for: scalar itself when it holds none, else a
 * NUL-terminated copy in arena. SL_ENOMEM on failure. */
int sl_config_restore_references(const sl_reference_table *table, sl_arena *arena,
                                 const char *scalar, size_t len,
                                 const char **out, size_t *out_len);

/* Frees what hide_references allocated; accepts a zeroed table. */
void sl_reference_table_free(sl_reference_table *table);

#endif
