/* settings_doc.c — option tables written as text or Markdown (see settings_doc.h).
 *
 * Text, one entry per setting:
 *     name (type, required | default: X; A to B; one of: a, b)
 *         help, wrapped to 80 columns
 * Markdown: one table row per setting, | setting | type | default |
 * allowed | description |, with `|`, `<` and `>` in texts escaped.
 */
#include "cli/settings_doc.h"

#include <string.h>

#define DOC_SETTING_INDENT 2
#define DOC_HELP_INDENT 6

void sl_doc_wrap(FILE *out, const char *text, int at_column, int first_indent, int indent)
{
    int column = at_column + first_indent;
    fprintf(out, "%*s", first_indent, "");
    bool is_line_start = true;
    const char *at = text;
    while (*at) {
        while (*at == ' ') at++;
        if (!*at) break;
        size_t word = strcspn(at, " ");
        if (!is_line_start && column + 1 + (int)word > SL_DOC_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            column = indent;
            is_line_start = true;
        }
        if (!is_line_start) {
            fputc(' ', out);
            column++;
        }
        fwrite(at, 1, word, out);
        column += (int)word;
        is_line_start = false;
        at += word;
    }
    fputc('\n', out);
}

/* "1 to 256", "at least 0", "at most 60s", or "" without bounds. */
static void bounds_text(const sl_option *option, char *out, size_t size)
{
    if (option->min && option->max) snprintf(out, size, "%s to %s", option->min, option->max);
    else if (option->min) snprintf(out, size, "at least %s", option->min);
    else if (option->max) snprintf(out, size, "at most %s", option->max);
    else out[0] = '\0';
}

/* "a, b, c" (each wrapped in `quote`), or "" without choices. */
static void choices_text(const sl_option *option, const char *quote, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *const *choice = option->choices; choice && *choice; choice++) {
        int n = snprintf(out + used, size - used, "%s%s%s%s", used ? ", " : "", quote, *choice, quote);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
}

static void write_text_setting(FILE *out, const sl_option *option)
{
    char attributes[600], bounds[100], choices[300];
    bounds_text(option, bounds, sizeof bounds);
    choices_text(option, "", choices, sizeof choices);
    size_t used = (size_t)snprintf(attributes, sizeof attributes, "(%s", sl_option_type_name(option->type));
    if (option->required) used += (size_t)snprintf(attributes + used, sizeof attributes - used, ", required");
    else if (option->default_value)
        used += (size_t)snprintf(attributes + used, sizeof attributes - used, ", default: %s", option->default_value);
    if (bounds[0]) used += (size_t)snprintf(attributes + used, sizeof attributes - used, "; %s", bounds);
    if (choices[0]) used += (size_t)snprintf(attributes + used, sizeof attributes - used, "; one of: %s", choices);
    snprintf(attributes + used, sizeof attributes - used, ")");

    char head[700];
    snprintf(head, sizeof head, "%s %s", option->name, attributes);
    sl_doc_wrap(out, head, 0, DOC_SETTING_INDENT, DOC_SETTING_INDENT + 2);
    sl_doc_wrap(out, option->help ? option->help : "", 0, DOC_HELP_INDENT, DOC_HELP_INDENT);
}

void sl_doc_write_markdown_text(FILE *out, const char *text)
{
    for (const char *at = text; *at; at++) {
        if (*at == '|') fputs("\\|", out);
        else if (*at == '<') fputs("&lt;", out);
        else if (*at == '>') fputs("&gt;", out);
        else if (*at == '\n') fputc(' ', out);
        else fputc(*at, out);
    }
}

static void write_cell(FILE *out, const char *text)
{
    sl_doc_write_markdown_text(out, text);
}

static void write_markdown_setting(FILE *out, const sl_option *option)
{
    char bounds[100], choices[300];
    bounds_text(option, bounds, sizeof bounds);
    choices_text(option, "`", choices, sizeof choices);
    fprintf(out, "| `%s` | %s | ", option->name, sl_option_type_name(option->type));
    if (option->required) fputs("required", out);
    else if (option->default_value) {
        fputc('`', out);
        write_cell(out, option->default_value);
        fputc('`', out);
    }
    fputs(" | ", out);
    write_cell(out, bounds);
    if (bounds[0] && choices[0]) fputs("; ", out);
    write_cell(out, choices);
    fputs(" | ", out);
    write_cell(out, option->help ? option->help : "");
    fputs(" |\n", out);
}

void sl_settings_doc_write(FILE *out, sl_doc_format format, const sl_option *table)
{
    size_t n = 0;
    for (const sl_option *option = table; option->type != SL_OPT_END; option++)
        if (option->type != SL_OPT_UNSUPPORTED) n++;
    if (n == 0) {
        if (format == SL_DOC_MARKDOWN) fputs("No settings.\n", out);
        else sl_doc_wrap(out, "No settings.", 0, DOC_SETTING_INDENT, DOC_SETTING_INDENT);
        return;
    }
    if (format == SL_DOC_MARKDOWN) {
        fputs("| setting | type | default | allowed | description |\n", out);
        fputs("|---|---|---|---|---|\n", out);
    }
    for (const sl_option *option = table; option->type != SL_OPT_END; option++) {
        if (option->type == SL_OPT_UNSUPPORTED) continue;
        if (format == SL_DOC_MARKDOWN) write_markdown_setting(out, option);
        else write_text_setting(out, option);
    }
}
