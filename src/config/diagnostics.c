/* diagnostics.c — the mistakes of a config file, collected (see diagnostics.h). */
#include "config/diagnostics.h"

#include "core/redact.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void sl_diagnostics_init(sl_diagnostics *diags, const char *path)
{
    memset(diags, 0, sizeof *diags);
    diags->path = path;
}

void sl_diagnostics_free(sl_diagnostics *diags)
{
    if (!diags) return;
    for (size_t i = 0; i < diags->n_items; i++) {
        free(diags->items[i].file);
        free(diags->items[i].message);
    }
    free(diags->items);
    diags->items = NULL;
    diags->n_items = diags->capacity = 0;
    diags->n_errors = diags->n_warnings = 0;
    diags->is_out_of_memory = false;
}

/* Appends one diagnostic; remembers a failure to allocate instead. */
static void add(sl_diagnostics *diags, sl_diag_severity severity, int code, const char *file, int line,
                int column, const char *message)
{
    if (severity == SL_DIAG_ERROR) diags->n_errors++;
    else diags->n_warnings++;
    if (diags->n_items == diags->capacity) {
        size_t capacity = diags->capacity ? diags->capacity * 2 : 8;
        sl_diagnostic *grown = realloc(diags->items, capacity * sizeof *grown);
        if (!grown) {
            diags->is_out_of_memory = true;
            return;
        }
        diags->items = grown;
        diags->capacity = capacity;
    }
    sl_diagnostic diag = { severity, code, NULL, file ? line : 0, file ? column : 0, strdup(message),
                           diags->n_items };
    if (file) diag.file = strdup(file);
    if (!diag.message || (file && !diag.file)) {
        free(diag.message);
        free(diag.file);
        diags->is_out_of_memory = true;
        return;
    }
    diags->items[diags->n_items++] = diag;
}

int sl_diag_error_at(sl_diagnostics *diags, const sl_node *node, const char *format, ...)
{
    char message[sizeof ((sl_error *)0)->message];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    add(diags, SL_DIAG_ERROR, SL_ECONFIG, node ? node->file : NULL, node ? node->line : 0,
        node ? node->column : 0, message);
    return SL_ECONFIG;
}

void sl_diag_warning_at(sl_diagnostics *diags, const sl_node *node, const char *format, ...)
{
    char message[sizeof ((sl_error *)0)->message];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    add(diags, SL_DIAG_WARNING, SL_OK, node ? node->file : NULL, node ? node->line : 0,
        node ? node->column : 0, message);
}

int sl_diag_error_at_position(sl_diagnostics *diags, const char *file, int line, int column,
                              const char *format, ...)
{
    char message[sizeof ((sl_error *)0)->message];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    add(diags, SL_DIAG_ERROR, SL_ECONFIG, file, line, column, message);
    return SL_ECONFIG;
}

/* Reads "<digits>:" at *at (advancing past it) into *out. */
static bool read_number(const char **at, int *out)
{
    const char *p = *at;
    long value = 0;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        value = value * 10 + (*p - '0');
        if (value > 100000000) return false;
    }
    if (*p != ':') return false;
    *out = (int)value;
    *at = p + 1;
    return true;
}

/* Splits "<path>:<line>:<column>: rest" (path = diags->path); false when
 * message does not start that way. */
static bool split_position(const sl_diagnostics *diags, const char *message, int *line, int *column,
                           const char **rest)
{
    size_t path_len = diags->path ? strlen(diags->path) : 0;
    if (!path_len || strncmp(message, diags->path, path_len) != 0 || message[path_len] != ':') return false;
    const char *at = message + path_len + 1;
    if (!read_number(&at, line) || !read_number(&at, column) || *at != ' ') return false;
    *rest = at + 1;
    return true;
}

int sl_diag_add_error_at(sl_diagnostics *diags, const sl_node *fallback, const char *context, const sl_error *err)
{
    int code = err->code ? err->code : SL_ECONFIG;
    if (code == SL_ENOMEM) diags->is_out_of_memory = true;
    int line = 0, column = 0;
    const char *rest = NULL;
    if (split_position(diags, err->message, &line, &column, &rest)) {
        add(diags, SL_DIAG_ERROR, code, diags->path, line, column, rest);
        return code;
    }
    char message[sizeof err->message + 300];
    snprintf(message, sizeof message, "%s%s%s", context ? context : "", context ? ": " : "", err->message);
    add(diags, SL_DIAG_ERROR, code, fallback ? fallback->file : NULL, fallback ? fallback->line : 0,
        fallback ? fallback->column : 0, message);
    return code;
}

int sl_diag_add_error(sl_diagnostics *diags, const sl_error *err)
{
    return sl_diag_add_error_at(diags, NULL, NULL, err);
}

size_t sl_diag_n_errors(const sl_diagnostics *diags)
{
    return diags->n_errors + (diags->is_out_of_memory && diags->n_errors == 0);
}

static int compare_diagnostics(const void *a, const void *b)
{
    const sl_diagnostic *left = a, *right = b;
    if (left->line != right->line) return left->line < right->line ? -1 : 1;
    if (left->column != right->column) return left->column < right->column ? -1 : 1;
    return left->order < right->order ? -1 : left->order > right->order;
}

void sl_diagnostics_sort(sl_diagnostics *diags)
{
    if (diags->n_items > 1) qsort(diags->items, diags->n_items, sizeof *diags->items, compare_diagnostics);
}

void sl_diagnostic_format(const sl_diagnostic *diag, char *out, size_t size)
{
    const char *severity = diag->severity == SL_DIAG_WARNING ? "warning: " : "";
    if (diag->file)
        snprintf(out, size, "%s:%d:%d: %s%s", diag->file, diag->line, diag->column, severity, diag->message);
    else
        snprintf(out, size, "%s%s", severity, diag->message);
    sl_redact_text(out, size);   /* a value quoted in a message may be a secret of the file */
}

int sl_diag_first_error(sl_diagnostics *diags, sl_error *err)
{
    sl_diagnostics_sort(diags);
    for (size_t i = 0; i < diags->n_items; i++) {
        const sl_diagnostic *diag = &diags->items[i];
        if (diag->severity != SL_DIAG_ERROR) continue;
        char text[sizeof err->message];
        sl_diagnostic_format(diag, text, sizeof text);
        return sl_error_set(err, diag->code, "%s", text);
    }
    if (diags->is_out_of_memory) return sl_error_set(err, SL_ENOMEM, "out of memory checking the config");
    return SL_OK;
}

void sl_diagnostics_print(sl_diagnostics *diags, FILE *out, const char *prefix)
{
    sl_diagnostics_sort(diags);
    for (size_t i = 0; i < diags->n_items; i++) {
        char text[1200];
        sl_diagnostic_format(&diags->items[i], text, sizeof text);
        fprintf(out, "%s%s\n", prefix, text);
    }
    if (diags->is_out_of_memory) fprintf(out, "%sout of memory: some mistakes may not be listed\n", prefix);
}
