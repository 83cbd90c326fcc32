/* regex.h — regular expressions for SQL (`~`, `~*`, regexp_like,
 * regexp_extract, regexp_replace), through PCRE2 from Debian.
 *
 * Patterns are compiled as UTF-8 with Unicode properties, `.` matching a
 * newline and `$` only the very end (PostgreSQL's default, not
 * newline-sensitive, mode), and kept in a small per-thread cache keyed by
 * pattern and flags, so a statement's constant pattern is compiled once
 * per worker thread, not per record. Subjects that are not valid UTF-8 are
 * matched without failing (PCRE2_MATCH_INVALID_UTF).
 *
 * Flags are PostgreSQL's letters: i (ignore case), c (case-sensitive,
 * the default), g (replace every match; regexp_replace only), x (extended:
 * spaces and # comments in the pattern ignored). Another letter is an error.
 */
#ifndef SL_SQL_REGEX_H
#define SL_SQL_REGEX_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/value.h"

/* Whether pattern matches somewhere in text. */
int sl_sql_regex_match(sl_str text, sl_str pattern, const char *flags, bool *matched, sl_error *err);

/* The text of capture group (0: the whole match) of the first match, or
 * found false when there is none or that group took no part. */
int sl_sql_regex_extract(sl_str text, sl_str pattern, int64_t group, sl_arena *arena, sl_str *out, bool *found,
                         sl_error *err);

/* text with the first match (every one with flag g) replaced by
 * replacement, in which \1 .. \9 stand for a group, \& and \0 for the
 * whole match, \\ for a backslash. */
int sl_sql_regex_replace(sl_str text, sl_str pattern, sl_str replacement, const char *flags, sl_arena *arena,
                         sl_str *out, sl_error *err);

#endif
