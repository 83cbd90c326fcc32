/* dag_print.h — `sluice dag`'s human output: the API's JSON answers (parsed)
 * as aligned tables and short lines on stdout. --json skips all of this. */
#ifndef SL_DAG_PRINT_H
#define SL_DAG_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "cli/dag_args.h"
#include "core/value.h"

/* Each prints one verb's answer, pages[0..n_pages) (list follows next_cursor:
 * its pages are printed as one table; the others have one); 0 or SL_ENOMEM. */
typedef int (*sl_dag_printer)(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);

int sl_dag_print_list(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_show(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_triggered(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_paused(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_runs(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_tasks(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_cleared(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_marked(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);
int sl_dag_print_backfill(const sl_dag_args *args, const sl_value *pages, size_t n_pages, FILE *out);

#endif
