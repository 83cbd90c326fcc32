/* cmd_connectors.c — `sluice connectors [NAME] [--format text|markdown]`:
 * the connectors and their settings, read from the same option tables the
 * config is checked against (connectors/registry.c for the connectors,
 * runtime/plan_settings.c for the config file's own blocks), so the help
 * cannot drift from what the parser accepts. docs/connectors.md is the
 * Markdown form of everything (`make docs`). */
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/settings_doc.h"
#include "connectors/connector.h"
#include "runtime/plan_settings.h"

#define CONNECTORS_NAME_COLUMN 25

static void connectors_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice connectors [NAME] [--format text|markdown]\n"
            "\n"
            "Lists the sources and sinks. With NAME, prints every setting of that connector\n"
            "(or of one of the config file's own blocks: pipeline, transform, top, log,\n"
            "topics, topics.kafka, dag, task): its type, default, allowed values and help.\n"
            "\n"
            "  --format markdown  the same as Markdown; without NAME, the whole reference\n"
            "                     (docs/connectors.md is this output: `make docs`)\n"
            "Exit codes: 0 ok, 2 usage error or unknown NAME.\n");
}

/* The i-th distinct connector name, sources first, in registry order. */
static const char *connector_name_at(size_t i)
{
    size_t n = 0;
    for (size_t s = 0; sl_connector_source_at(s); s++)
        if (n++ == i) return sl_connector_source_at(s)->name;
    for (size_t s = 0; sl_connector_sink_at(s); s++) {
        const char *name = sl_connector_sink_at(s)->name;
        if (sl_connector_source(name)) continue;
        if (n++ == i) return name;
    }
    return NULL;
}

static const sl_plan_block *plan_block(const char *name)
{
    for (const sl_plan_block *block = sl_plan_blocks; block->name; block++)
        if (strcmp(block->name, name) == 0) return block;
    return NULL;
}

/* Levenshtein distance of a and b, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t len_b = strlen(b);
    if (len_b > 63) return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= len_b; j++) row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= len_b; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[len_b];
}

/* The connector or block name nearest to name. */
static const char *nearest_name(const char *name)
{
    const char *best = NULL;
    size_t best_distance = (size_t)-1;
    for (size_t i = 0; connector_name_at(i); i++) {
        size_t distance = edit_distance(name, connector_name_at(i));
        if (distance < best_distance) {
            best = connector_name_at(i);
            best_distance = distance;
        }
    }
    for (const sl_plan_block *block = sl_plan_blocks; block->name; block++) {
        size_t distance = edit_distance(name, block->name);
        if (distance < best_distance) {
            best = block->name;
            best_distance = distance;
        }
    }
    return best;
}

/* ---- text ---- */

static void write_list_entry(FILE *out, const char *name, const char *description)
{
    fprintf(out, "  %-*s", CONNECTORS_NAME_COLUMN - 2, name);
    sl_doc_wrap(out, description ? description : "", CONNECTORS_NAME_COLUMN, 0, CONNECTORS_NAME_COLUMN);
}

static void write_text_list(FILE *out)
{
    fputs("Sources:\n", out);
    for (size_t i = 0; sl_connector_source_at(i); i++)
        write_list_entry(out, sl_connector_source_at(i)->name, sl_connector_source_at(i)->description);
    fputs("\nSinks:\n", out);
    for (size_t i = 0; sl_connector_sink_at(i); i++)
        write_list_entry(out, sl_connector_sink_at(i)->name, sl_connector_sink_at(i)->description);
    fputs("\nBlocks of the config file:\n", out);
    for (const sl_plan_block *block = sl_plan_blocks; block->name; block++)
        write_list_entry(out, block->name, block->description);
    fputs("\n'sluice connectors NAME' prints the settings of one.\n", out);
}

/* One side of a connector, as text; side is also its key in a pipeline. */
static void write_text_side(FILE *out, const char *side, const char *name, const char *description,
                            const sl_option *options)
{
    fprintf(out, "%s %s\n", name, side);
    sl_doc_wrap(out, description ? description : "", 0, 2, 2);
    fprintf(out, "  in a pipeline: %s: { %s: { ... } }\n\n", side, name);
    sl_settings_doc_write(out, SL_DOC_TEXT, options);
}

static void write_text_connector(FILE *out, const char *name)
{
    const sl_source_ops *source = sl_connector_source(name);
    const sl_sink_ops *sink = sl_connector_sink(name);
    if (source) write_text_side(out, "source", name, source->description, source->options);
    if (source && sink) fputc('\n', out);
    if (sink) write_text_side(out, "sink", name, sink->description, sink->options);
}

static void write_text_block(FILE *out, const sl_plan_block *block)
{
    fprintf(out, "%s\n", block->name);
    sl_doc_wrap(out, block->description, 0, 2, 2);
    fprintf(out, "  in the file: %s\n\n", block->path);
    sl_settings_doc_write(out, SL_DOC_TEXT, block->options);
}

/* ---- markdown ---- */

/* description as a sentence: capitalised, with a full stop. */
static void write_markdown_sentence(FILE *out, const char *description)
{
    if (!description || !description[0]) return;
    fputc(toupper((unsigned char)description[0]), out);
    sl_doc_write_markdown_text(out, description + 1);
    fputs(".\n\n", out);
}

static void write_markdown_side(FILE *out, const char *side, const char *name, const char *description,
                                const sl_option *options)
{
    fprintf(out, "### %s %s\n\n", name, side);
    write_markdown_sentence(out, description);
    fprintf(out, "`%s: { %s: { ... } }`\n\n", side, name);
    sl_settings_doc_write(out, SL_DOC_MARKDOWN, options);
    fputc('\n', out);
}

static void write_markdown_connector(FILE *out, const char *name)
{
    fprintf(out, "## %s\n\n", name);
    const sl_source_ops *source = sl_connector_source(name);
    const sl_sink_ops *sink = sl_connector_sink(name);
    if (source) write_markdown_side(out, "source", name, source->description, source->options);
    if (sink) write_markdown_side(out, "sink", name, sink->description, sink->options);
}

static void write_markdown_block(FILE *out, const sl_plan_block *block)
{
    fprintf(out, "### %s\n\n", block->name);
    write_markdown_sentence(out, block->description);
    fprintf(out, "`%s`\n\n", block->path);
    sl_settings_doc_write(out, SL_DOC_MARKDOWN, block->options);
    fputc('\n', out);
}

static void write_markdown_reference(FILE *out)
{
    fputs("# Connectors and settings\n\n"
          "<!-- Generated by `sluice connectors --format markdown` (`make docs`) from the option tables the\n"
          "     config is checked against; do not edit by hand. tests/e2e/test_connectors.py fails when it\n"
          "     is stale. -->\n\n"
          "Every setting sluice accepts, with its type, default and allowed values; `sluice connectors NAME`\n"
          "prints the same in a terminal. A key not listed here is an error, and `sluice validate FILE`\n"
          "reports every mistake of a file with its line and column.\n\n"
          "Durations are one or more terms of a number and a unit, `ms`, `s`, `m`, `h` or `d` (`500ms`,\n"
          "`1.5s`, `1h30m`); a bare number is seconds. Sizes are a number and a unit, `B`, `KB`, `MB`, `GB`,\n"
          "`TB` (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024); a bare number is bytes.\n"
          "`${VAR}` and `${VAR:-default}` are replaced from the environment in every value, except the run\n"
          "macros of DAG tasks (`${ds}`, `${ts}`, `${run_id}`...), replaced when the task runs\n"
          "([operations.md](operations.md#run-macros) lists them).\n\n",
          out);
    fputs("## Sources\n\n| connector | what it reads |\n|---|---|\n", out);
    for (size_t i = 0; sl_connector_source_at(i); i++) {
        const sl_source_ops *source = sl_connector_source_at(i);
        fprintf(out, "| [`%s`](#%s) | ", source->name, source->name);
        sl_doc_write_markdown_text(out, source->description);
        fputs(" |\n", out);
    }
    fputs("\n## Sinks\n\n| connector | what it writes |\n|---|---|\n", out);
    for (size_t i = 0; sl_connector_sink_at(i); i++) {
        const sl_sink_ops *sink = sl_connector_sink_at(i);
        fprintf(out, "| [`%s`](#%s) | ", sink->name, sink->name);
        sl_doc_write_markdown_text(out, sink->description);
        fputs(" |\n", out);
    }
    fputc('\n', out);
    for (size_t i = 0; connector_name_at(i); i++) write_markdown_connector(out, connector_name_at(i));
    fputs("## The config file's own blocks\n\n", out);
    for (const sl_plan_block *block = sl_plan_blocks; block->name; block++) write_markdown_block(out, block);
}

int sl_cmd_connectors(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    sl_doc_format format = SL_DOC_TEXT;
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "f:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'f':
            if (strcmp(optarg, "text") == 0) format = SL_DOC_TEXT;
            else if (strcmp(optarg, "markdown") == 0) format = SL_DOC_MARKDOWN;
            else {
                fprintf(stderr, "sluice connectors: --format: '%s' is not one of text, markdown\n", optarg);
                return SL_EXIT_USAGE;
            }
            break;
        case 'h': connectors_usage(stdout); return SL_EXIT_OK;
        default: connectors_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind < argc - 1) {
        connectors_usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (optind == argc) {
        if (format == SL_DOC_MARKDOWN) write_markdown_reference(stdout);
        else write_text_list(stdout);
        return SL_EXIT_OK;
    }
    const char *name = argv[optind];
    const sl_plan_block *block = plan_block(name);
    bool is_connector = sl_connector_source(name) || sl_connector_sink(name);
    if (!is_connector && !block) {
        fprintf(stderr, "sluice connectors: unknown connector '%s'; did you mean '%s'? "
                "('sluice connectors' lists them)\n", name, nearest_name(name));
        return SL_EXIT_USAGE;
    }
    if (is_connector && format == SL_DOC_MARKDOWN) write_markdown_connector(stdout, name);
    else if (is_connector) write_text_connector(stdout, name);
    else if (format == SL_DOC_MARKDOWN) write_markdown_block(stdout, block);
    else write_text_block(stdout, block);
    return SL_EXIT_OK;
}
