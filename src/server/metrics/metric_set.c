/* metric_set.c — samples gathered for /metrics and alert rules (see
 * metric_set.h). Every string lives in the set's arena; the sample and
 * family arrays grow by doubling. Writing the text format walks the
 * families in order and prints each family's samples under it. */
#include "server/metrics/metric_set.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"

struct sl_metric_set {
    sl_arena *arena;
    sl_metric_family *families;
    size_t n_families, families_cap;
    sl_metric_sample *samples;
    size_t n_samples, samples_cap;
};

sl_metric_set *sl_metric_set_new(void)
{
    sl_metric_set *set = calloc(1, sizeof *set);
    if (!set) return NULL;
    set->arena = sl_arena_new(16 * 1024);
    if (!set->arena) {
        free(set);
        return NULL;
    }
    return set;
}

void sl_metric_set_free(sl_metric_set *set)
{
    if (!set) return;
    sl_arena_free(set->arena);
    free(set->families);
    free(set->samples);
    free(set);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels the same without ':'. */
static bool is_valid_name(const char *name, bool allow_colon)
{
    if (!name || !*name) return false;
    for (const char *c = name; *c; c++) {
        bool is_alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                        (allow_colon && *c == ':');
        bool is_digit = *c >= '0' && *c <= '9';
        if (!is_alpha && !(is_digit && c != name)) return false;
    }
    return true;
}

static char *copy_text(sl_metric_set *set, const char *text)
{
    return sl_arena_strndup(set->arena, text ? text : "", text ? strlen(text) : 0);
}

static const sl_metric_family *find_family(const sl_metric_set *set, const char *name, size_t len)
{
    for (size_t i = 0; i < set->n_families; i++)
        if (strlen(set->families[i].name) == len && memcmp(set->families[i].name, name, len) == 0)
            return &set->families[i];
    return NULL;
}

int sl_metric_set_family(sl_metric_set *set, const char *name, sl_metric_type type, const char *help)
{
    if (!is_valid_name(name, true)) return SL_EINVAL;
    const sl_metric_family *known = find_family(set, name, strlen(name));
    if (known) return known->type == type ? SL_OK : SL_EINVAL;
    if (set->n_families == set->families_cap) {
        size_t cap = set->families_cap ? set->families_cap * 2 : 32;
        sl_metric_family *grown = realloc(set->families, cap * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        set->families = grown;
        set->families_cap = cap;
    }
    sl_metric_family family = { .name = copy_text(set, name), .type = type, .help = copy_text(set, help) };
    if (!family.name || !family.help) return SL_ENOMEM;
    set->families[set->n_families++] = family;
    return SL_OK;
}

/* The family a sample name belongs to: itself, or for histograms the name
 * without _bucket, _sum or _count. */
static const sl_metric_family *family_of(const sl_metric_set *set, const char *name)
{
    size_t len = strlen(name);
    const sl_metric_family *family = find_family(set, name, len);
    if (family) return family->type == SL_METRIC_HISTOGRAM ? NULL : family;
    static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
    for (size_t i = 0; i < 3; i++) {
        size_t suffix_len = strlen(suffixes[i]);
        if (len > suffix_len && strcmp(name + len - suffix_len, suffixes[i]) == 0) {
            family = find_family(set, name, len - suffix_len);
            if (family && family->type == SL_METRIC_HISTOGRAM) return family;
        }
    }
    return NULL;
}

int sl_metric_set_add(sl_metric_set *set, const char *name, const sl_metric_label *labels, size_t n_labels,
                      double value)
{
    if (n_labels > SL_METRIC_MAX_LABELS) return SL_EINVAL;
    const sl_metric_family *family = family_of(set, name);
    if (!family) return SL_EINVAL;
    for (size_t i = 0; i < n_labels; i++)
        if (!is_valid_name(labels[i].name, false) || strncmp(labels[i].name, "__", 2) == 0) return SL_EINVAL;
    if (set->n_samples == set->samples_cap) {
        size_t cap = set->samples_cap ? set->samples_cap * 2 : 256;
        sl_metric_sample *grown = realloc(set->samples, cap * sizeof *grown);
        if (!grown) return SL_ENOMEM;
        set->samples = grown;
        set->samples_cap = cap;
    }
    sl_metric_sample sample = { .name = copy_text(set, name), .family = family->name, .n_labels = n_labels,
                                .value = value };
    if (!sample.name) return SL_ENOMEM;
    for (size_t i = 0; i < n_labels; i++) {
        sample.labels[i].name = copy_text(set, labels[i].name);
        sample.labels[i].value = copy_text(set, labels[i].value);
        if (!sample.labels[i].name || !sample.labels[i].value) return SL_ENOMEM;
    }
    set->samples[set->n_samples++] = sample;
    return SL_OK;
}

size_t sl_metric_set_count(const sl_metric_set *set)
{
    return set->n_samples;
}

const sl_metric_sample *sl_metric_set_at(const sl_metric_set *set, size_t index)
{
    return index < set->n_samples ? &set->samples[index] : NULL;
}

size_t sl_metric_set_family_count(const sl_metric_set *set)
{
    return set->n_families;
}

const sl_metric_family *sl_metric_set_family_at(const sl_metric_set *set, size_t index)
{
    return index < set->n_families ? &set->families[index] : NULL;
}

const char *sl_metric_sample_label(const sl_metric_sample *sample, const char *name)
{
    for (size_t i = 0; i < sample->n_labels; i++)
        if (strcmp(sample->labels[i].name, name) == 0) return sample->labels[i].value;
    return NULL;
}

/* ---- the text format ---- */

/* HELP text escapes \ and newline; label values also ". */
static int write_escaped(sl_buffer *out, const char *text, bool is_label_value)
{
    for (const char *c = text; *c; c++) {
        int rc;
        if (*c == '\\') rc = sl_buffer_append_cstr(out, "\\\\");
        else if (*c == '\n') rc = sl_buffer_append_cstr(out, "\\n");
        else if (*c == '"' && is_label_value) rc = sl_buffer_append_cstr(out, "\\\"");
        else rc = sl_buffer_append_byte(out, *c);
        if (rc) return rc;
    }
    return SL_OK;
}

static int write_value(sl_buffer *out, double value)
{
    if (isnan(value)) return sl_buffer_append_cstr(out, "NaN");
    if (isinf(value)) return sl_buffer_append_cstr(out, value > 0 ? "+Inf" : "-Inf");
    if (value == (double)(long long)value && fabs(value) < 9.0e15)
        return sl_buffer_printf(out, "%lld", (long long)value);
    return sl_buffer_printf(out, "%.17g", value);
}

static int write_sample(sl_buffer *out, const sl_metric_sample *sample)
{
    int rc = sl_buffer_append_cstr(out, sample->name);
    if (!rc && sample->n_labels) {
        rc = sl_buffer_append_byte(out, '{');
        for (size_t i = 0; !rc && i < sample->n_labels; i++) {
            rc = sl_buffer_printf(out, "%s%s=\"", i ? "," : "", sample->labels[i].name);
            if (!rc) rc = write_escaped(out, sample->labels[i].value, true);
            if (!rc) rc = sl_buffer_append_byte(out, '"');
        }
        if (!rc) rc = sl_buffer_append_byte(out, '}');
    }
    if (!rc) rc = sl_buffer_append_byte(out, ' ');
    if (!rc) rc = write_value(out, sample->value);
    if (!rc) rc = sl_buffer_append_byte(out, '\n');
    return rc;
}

int sl_metric_set_write_text(const sl_metric_set *set, sl_buffer *out)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    for (size_t f = 0; f < set->n_families; f++) {
        const sl_metric_family *family = &set->families[f];
        int rc = sl_buffer_printf(out, "# HELP %s ", family->name);
        if (!rc) rc = write_escaped(out, family->help, false);
        if (!rc) rc = sl_buffer_printf(out, "\n# TYPE %s %s\n", family->name, type_names[family->type]);
        for (size_t i = 0; !rc && i < set->n_samples; i++)
            if (set->samples[i].family == family->name) rc = write_sample(out, &set->samples[i]);
        if (rc) return rc;
    }
    return SL_OK;
}
