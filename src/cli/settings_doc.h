/* settings_doc.h — an option table (config/options.h) written out as help
 * text that fits 80 columns, or as a Markdown table, for `sluice
 * connectors` and docs/connectors.md. Everything shown comes from the
 * table's rows: type, required or default, bounds, choices and help. */
#ifndef SL_SETTINGS_DOC_H
#define SL_SETTINGS_DOC_H

#include <stdio.h>

#include "config/options.h"

typedef enum sl_doc_format {
    SL_DOC_TEXT,
    SL_DOC_MARKDOWN,
} sl_doc_format;

/* Lines of text are at most this long. */
#define SL_DOC_WIDTH 80

/* Writes text wrapped at spaces to SL_DOC_WIDTH columns: the first line
 * after first_indent spaces (the caller may have written that much
 * already: then pass 0 and the column it is at as at_column), the others
 * after indent spaces. A word longer than a line stands alone. */
void sl_doc_wrap(FILE *out, const char *text, int at_column, int first_indent, int indent);

/* text as Markdown that shows it as written: `|` escaped (it may stand in
 * a table cell), `<` and `>` as entities, line breaks as spaces. */
void sl_doc_write_markdown_text(FILE *out, const char *text);

/* Every setting of table (rows of SL_OPT_UNSUPPORTED left out) in format;
 * "No settings." for a table without any. */
void sl_settings_doc_write(FILE *out, sl_doc_format format, const sl_option *table);

#endif
