/* metric_set_test.c — the metric sample set: declaring families, adding
 * samples, refusing bad names, and the Prometheus text it writes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "server/metrics/metric_set.h"

Test(metric_set, writes_families_in_order_with_escaped_labels)
{
    sl_metric_set *set = sl_metric_set_new();
    cr_assert(set);
    cr_assert_eq(sl_metric_set_family(set, "sluice_records_in_total", SL_METRIC_COUNTER, "Records read\nby a source"), 0);
    cr_assert_eq(sl_metric_set_family(set, "sluice_lag", SL_METRIC_GAUGE, "Lag in \\ records"), 0);
    sl_metric_label labels[] = { { "pipeline", "a\"b\\c\nd" } };
    cr_assert_eq(sl_metric_set_add(set, "sluice_lag", labels, 1, 12), 0);
    cr_assert_eq(sl_metric_set_add(set, "sluice_records_in_total", labels, 1, 1.5), 0);
    cr_assert_eq(sl_metric_set_add(set, "sluice_records_in_total", NULL, 0, INFINITY), 0);
    sl_buffer out = { 0 };
    cr_assert_eq(sl_metric_set_write_text(set, &out), 0);
    cr_assert_eq(sl_buffer_append_byte(&out, '\0'), 0);
    cr_assert_str_eq(out.data,
                     "# HELP sluice_records_in_total Records read\\nby a source\n"
                     "# TYPE sluice_records_in_total counter\n"
                     "sluice_records_in_total{pipeline=\"a\\\"b\\\\c\\nd\"} 1.5\n"
                     "sluice_records_in_total +Inf\n"
                     "# HELP sluice_lag Lag in \\\\ records\n"
                     "# TYPE sluice_lag gauge\n"
                     "sluice_lag{pipeline=\"a\\\"b\\\\c\\nd\"} 12\n");
    sl_buffer_free(&out);
    sl_metric_set_free(set);
}

Test(metric_set, histogram_samples_belong_to_their_family)
{
    sl_metric_set *set = sl_metric_set_new();
    cr_assert_eq(sl_metric_set_family(set, "sluice_batch_seconds", SL_METRIC_HISTOGRAM, "Batch latency"), 0);
    sl_metric_label le[] = { { "le", "0.1" } };
    cr_assert_eq(sl_metric_set_add(set, "sluice_batch_seconds_bucket", le, 1, 3), 0);
    cr_assert_eq(sl_metric_set_add(set, "sluice_batch_seconds_sum", NULL, 0, 0.25), 0);
    cr_assert_eq(sl_metric_set_add(set, "sluice_batch_seconds_count", NULL, 0, 3), 0);
    cr_assert_eq(sl_metric_set_add(set, "sluice_batch_seconds", NULL, 0, 3), SL_EINVAL);
    cr_assert_eq(sl_metric_set_count(set), 3);
    cr_assert_str_eq(sl_metric_set_at(set, 0)->family, "sluice_batch_seconds");
    cr_assert_str_eq(sl_metric_sample_label(sl_metric_set_at(set, 0), "le"), "0.1");
    cr_assert_null(sl_metric_sample_label(sl_metric_set_at(set, 0), "pipeline"));
    sl_metric_set_free(set);
}

Test(metric_set, refuses_bad_names_and_undeclared_families)
{
    sl_metric_set *set = sl_metric_set_new();
    cr_assert_eq(sl_metric_set_family(set, "9lives", SL_METRIC_GAUGE, ""), SL_EINVAL);
    cr_assert_eq(sl_metric_set_family(set, "has-dash", SL_METRIC_GAUGE, ""), SL_EINVAL);
    cr_assert_eq(sl_metric_set_family(set, "ok:name", SL_METRIC_GAUGE, ""), 0);
    cr_assert_eq(sl_metric_set_family(set, "ok:name", SL_METRIC_GAUGE, "again"), 0);
    cr_assert_eq(sl_metric_set_family(set, "ok:name", SL_METRIC_COUNTER, ""), SL_EINVAL);
    cr_assert_eq(sl_metric_set_add(set, "undeclared", NULL, 0, 1), SL_EINVAL);
    sl_metric_label bad[] = { { "a:b", "x" } };
    cr_assert_eq(sl_metric_set_add(set, "ok:name", bad, 1, 1), SL_EINVAL);
    sl_metric_label reserved[] = { { "__name__", "x" } };
    cr_assert_eq(sl_metric_set_add(set, "ok:name", reserved, 1, 1), SL_EINVAL);
    cr_assert_eq(sl_metric_set_family_count(set), 1);
    sl_metric_set_free(set);
}
