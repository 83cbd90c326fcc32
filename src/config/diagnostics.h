/* diagnostics.h — every mistake found in a config file, kept in order.
 *
 * Checking a config goes on past its first mistake so that `sluice validate`
 * reports them all in one pass. Each diagnostic is an error (the file cannot
 * run as written) or a warning (it may be fine by the time it runs, e.g. an
 * input file not created yet), with the file:line:column it points at.
 * Printing sorts them by position (line, then column; those without a
 * position first), keeping the order they were found in among equals.
 *
 * The collection owns copies of its texts, so it outlives the document the
 * positions came from. Out of memory while adding is remembered and counts
 * as an error.
 */
#ifndef SL_DIAGNOSTICS_H
#define SL_DIAGNOSTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "core/error.h"

typedef enum sl_diag_severity {
    SL_DIAG_ERROR,
    SL_DIAG_WARNING,
} sl_diag_severity;

typedef struct sl_diagnostic {
    sl_diag_severity severity;
    int code;              /* SL_ECONFIG, or the code of an added sl_error */
    char *file;            /* NULL when the mistake has no position */
    int line, column;      /* 1-based; 0 without a position */
    char *message;         /* without the position */
    size_t order;          /* when it was found, for a stable sort */
} sl_diagnostic;

typedef struct sl_diagnostics {
    const char *path;      /* the config file's name (borrowed), see sl_diag_add_error */
    sl_diagnostic *items;
    size_t n_items, capacity;
    size_t n_errors, n_warnings;
    bool is_out_of_memory;
} sl_diagnostics;

/* path (borrowed; may be NULL) is the file whose "path:line:column: "
 * prefix sl_diag_add_error recognises. */
void sl_diagnostics_init(sl_diagnostics *diags, const char *path);
void sl_diagnostics_free(sl_diagnostics *diags);

/* An error or warning at node's position (node NULL: none). The error
 * form returns SL_ECONFIG so callers can `return sl_diag_error_at(...)`. */
int sl_diag_error_at(sl_diagnostics *diags, const sl_node *node, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void sl_diag_warning_at(sl_diagnostics *diags, const sl_node *node, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The same at an explicit position (file NULL: none), e.g. a mapping key's. */
int sl_diag_error_at_position(sl_diagnostics *diags, const char *file, int line, int column,
                              const char *format, ...) __attribute__((format(printf, 5, 6)));

/* Adds err as an error and returns its code. A message that starts with
 * "<path>:<line>:<column>: " (as sl_node_error writes them) is split into
 * that position and the rest. */
int sl_diag_add_error(sl_diagnostics *diags, const sl_error *err);

/* The same, for an error that may not carry a position: one without is
 * put at fallback's position, as "<context>: <message>" (context NULL: the
 * message alone). */
int sl_diag_add_error_at(sl_diagnostics *diags, const sl_node *fallback, const char *context, const sl_error *err);

/* Errors found so far (out of memory counts as one). */
size_t sl_diag_n_errors(const sl_diagnostics *diags);

/* Sorts by position (see above). */
void sl_diagnostics_sort(sl_diagnostics *diags);

/* "file:line:column: message" (or "message"), with "warning: " before the
 * message of a warning, into out. */
void sl_diagnostic_format(const sl_diagnostic *diag, char *out, size_t size);

/* The first error in sorted order into err, formatted as above, with its
 * code (SL_ENOMEM when memory ran out); returns that code, SL_OK when
 * there is none. */
int sl_diag_first_error(sl_diagnostics *diags, sl_error *err);

/* Sorts, then prints every diagnostic, one a line, each after prefix
 * (e.g. "sluice: "). */
void sl_diagnostics_print(sl_diagnostics *diags, FILE *out, const char *prefix);

#endif
