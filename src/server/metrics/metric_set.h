/* metric_set.h — a gathered set of metric samples: what /metrics prints
 * and what alert rules are evaluated over.
 *
 * A sample is a Prometheus sample: a metric name
 * ("sluice_pipeline_records_in_total"), up to SL_METRIC_MAX_LABELS
 * label pairs and a value. A family (one name) has one type and one help
 * line, declared once with sl_metric_set_family before its samples are
 * added. Histograms are added as their _bucket (with "le"), _sum and
 * _count samples under the family of their base name.
 *
 * The set owns copies of every name, label and help text: callers may pass
 * stack buffers. Samples keep the order they were added in; families keep
 * the order they were declared in.
 */
#ifndef SL_METRIC_SET_H
#define SL_METRIC_SET_H

#include <stddef.h>

#include "core/buffer.h"

#define SL_METRIC_MAX_LABELS 6

typedef enum sl_metric_type {
    SL_METRIC_COUNTER,
    SL_METRIC_GAUGE,
    SL_METRIC_HISTOGRAM,
} sl_metric_type;

typedef struct sl_metric_label {
    const char *name;
    const char *value;
} sl_metric_label;

typedef struct sl_metric_sample {
    const char *name;            /* the sample's own name: base, or base_bucket/_sum/_count */
    const char *family;          /* the declared family it belongs to */
    sl_metric_label labels[SL_METRIC_MAX_LABELS];
    size_t n_labels;
    double value;
} sl_metric_sample;

typedef struct sl_metric_family {
    const char *name;
    sl_metric_type type;
    const char *help;
} sl_metric_family;

typedef struct sl_metric_set sl_metric_set;

/* An empty set; NULL when out of memory. */
sl_metric_set *sl_metric_set_new(void);
void sl_metric_set_free(sl_metric_set *set);

/* Declares a family; declaring one again with the same type is a no-op.
 * SL_EINVAL for a name that is not a Prometheus metric name or a second
 * declaration with another type; SL_ENOMEM. */
int sl_metric_set_family(sl_metric_set *set, const char *name, sl_metric_type type, const char *help);

/* Adds a sample named name (the family, or for a histogram the family with
 * _bucket, _sum or _count) with n_labels label pairs. SL_EINVAL when no
 * family was declared for it, a label name is not a Prometheus label name,
 * or n_labels is over SL_METRIC_MAX_LABELS; SL_ENOMEM. */
int sl_metric_set_add(sl_metric_set *set, const char *name, const sl_metric_label *labels, size_t n_labels,
                      double value);

size_t sl_metric_set_count(const sl_metric_set *set);
const sl_metric_sample *sl_metric_set_at(const sl_metric_set *set, size_t index);
size_t sl_metric_set_family_count(const sl_metric_set *set);
const sl_metric_family *sl_metric_set_family_at(const sl_metric_set *set, size_t index);

/* The value of a label of a sample, or NULL. */
const char *sl_metric_sample_label(const sl_metric_sample *sample, const char *name);

/* Appends the set in the Prometheus text exposition format (version 0.0.4):
 * per family its # HELP and # TYPE lines, then its samples, label values
 * and help text escaped as the format says, +Inf/-Inf/NaN spelled as it
 * spells them. */
int sl_metric_set_write_text(const sl_metric_set *set, sl_buffer *out);

#endif
