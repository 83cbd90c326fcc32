/* states.c — the names of DAG run states, run types and task instance
 * states: one table each, read by the backends (stored text), by messages
 * and by the parsers below. The schema's CHECKs (migrations.c) list the
 * same names.
 */
#include <stdio.h>
#include <string.h>

#include "metadata/metadata.h"

static const char *const run_state_names[SL_META_RUN_STATE_COUNT] = {
    [SL_META_RUN_QUEUED] = "queued",
    [SL_META_RUN_RUNNING] = "running",
    [SL_META_RUN_SUCCESS] = "success",
    [SL_META_RUN_FAILED] = "failed",
};

static const char *const run_type_names[SL_META_RUN_TYPE_COUNT] = {
    [SL_META_RUN_SCHEDULED] = "scheduled",
    [SL_META_RUN_MANUAL] = "manual",
    [SL_META_RUN_BACKFILL] = "backfill",
};

typedef struct ti_state_entry {
    const char *name;
    bool is_finished;
} ti_state_entry;

static const ti_state_entry ti_states[SL_META_TI_STATE_COUNT] = {
    [SL_META_TI_NONE] = { "none", false },
    [SL_META_TI_SCHEDULED] = { "scheduled", false },
    [SL_META_TI_QUEUED] = { "queued", false },
    [SL_META_TI_RUNNING] = { "running", false },
    [SL_META_TI_SUCCESS] = { "success", true },
    [SL_META_TI_FAILED] = { "failed", true },
    [SL_META_TI_UP_FOR_RETRY] = { "up_for_retry", true },
    [SL_META_TI_UPSTREAM_FAILED] = { "upstream_failed", true },
    [SL_META_TI_SKIPPED] = { "skipped", true },
};

const char *sl_meta_run_state_name(sl_meta_run_state state)
{
    return (unsigned)state < SL_META_RUN_STATE_COUNT ? run_state_names[state] : NULL;
}

const char *sl_meta_run_type_name(sl_meta_run_type type)
{
    return (unsigned)type < SL_META_RUN_TYPE_COUNT ? run_type_names[type] : NULL;
}

const char *sl_meta_ti_state_name(sl_meta_ti_state state)
{
    return (unsigned)state < SL_META_TI_STATE_COUNT ? ti_states[state].name : NULL;
}

bool sl_meta_ti_state_is_finished(sl_meta_ti_state state)
{
    return (unsigned)state < SL_META_TI_STATE_COUNT && ti_states[state].is_finished;
}

/* The index of name among count names given by name_at; SL_EINVAL naming
 * what and the choices when it is none of them. */
static int parse_name(const char *name, const char *what, int count, const char *(*name_at)(int),
                      int *out, sl_error *err)
{
    for (int i = 0; name && i < count; i++) {
        if (strcmp(name, name_at(i)) == 0) {
            *out = i;
            return SL_OK;
        }
    }
    char choices[256] = "";
    size_t used = 0;
    for (int i = 0; i < count && used < sizeof choices; i++) {
        int written = snprintf(choices + used, sizeof choices - used, "%s%s", i ? ", " : "", name_at(i));
        if (written < 0) break;
        used += (size_t)written;
    }
    return sl_error_set_permanent(err, SL_EINVAL, "unknown %s '%s' (one of %s)", what, name ? name : "(null)",
                                  choices);
}

static const char *run_state_at(int i) { return run_state_names[i]; }
static const char *run_type_at(int i) { return run_type_names[i]; }
static const char *ti_state_at(int i) { return ti_states[i].name; }

int sl_meta_run_state_parse(const char *name, sl_meta_run_state *state, sl_error *err)
{
    int i = 0;
    int rc = parse_name(name, "dag run state", SL_META_RUN_STATE_COUNT, run_state_at, &i, err);
    if (!rc) *state = (sl_meta_run_state)i;
    return rc;
}

int sl_meta_run_type_parse(const char *name, sl_meta_run_type *type, sl_error *err)
{
    int i = 0;
    int rc = parse_name(name, "dag run type", SL_META_RUN_TYPE_COUNT, run_type_at, &i, err);
    if (!rc) *type = (sl_meta_run_type)i;
    return rc;
}

int sl_meta_ti_state_parse(const char *name, sl_meta_ti_state *state, sl_error *err)
{
    int i = 0;
    int rc = parse_name(name, "task instance state", SL_META_TI_STATE_COUNT, ti_state_at, &i, err);
    if (!rc) *state = (sl_meta_ti_state)i;
    return rc;
}
