/* fuzz_config.c — libFuzzer target for the YAML configuration: loading
 * with `${VAR}` interpolation (config/config.c, config/interpolate.c), the
 * option tables (config/options.c) and the plan builder that checks every
 * pipeline, connector block, SQL transform and DAG (runtime/plan.c).
 *
 * The input is a config file, written to a scratch file and loaded with
 * sl_plan_load exactly as `sluice validate` does. Errors must carry a
 * message; crashes, leaks and sanitizer reports are findings.
 */
#include "fuzz_util.h"

#include "runtime/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    static char path[300];
    if (!path[0]) snprintf(path, sizeof path, "%s/config.yaml", fuzz_scratch_dir());
    fuzz_write_file(path, data, size);
    sl_plan *plan = NULL;
    sl_error err = { 0 };
    int rc = sl_plan_load(path, &plan, &err);
    if (rc == SL_OK) {
        fuzz_check(plan != NULL && plan->n_pipelines > 0, "a plan without pipelines");
        for (size_t i = 0; i < plan->n_pipelines; i++)
            fuzz_check(sl_plan_pipeline(plan, plan->pipelines[i].name) != NULL, "a pipeline not found by name");
        sl_plan_free(plan);
    } else {
        fuzz_check(err.message[0] != '\0', "a config error without a message");
    }
    return 0;
}
