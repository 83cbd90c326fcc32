/* supervisor.c — keeping the continuous pipelines running (see
 * supervisor.h).
 *
 * A keeper owns one pipeline's life: its thread builds, opens and runs the
 * pipeline, waits out the backoff after a failure, and ends when told to
 * stop or when the pipeline finished by itself. The keeper's mutex guards
 * what HTTP handlers read (state, the running pipeline's counters, the
 * restart history); the supervisor's mutex guards the list of keepers.
 * A keeper replacing a changed pipeline starts only once the old one has
 * drained, so the two never read the same positions at once.
 *
 * A control command (sl_supervisor_control) stops a keeper and joins its
 * thread, so it returns once the pipeline has drained; the keeper stays in
 * the list, held (stopped, with no thread), until a start puts a new keeper
 * from the current plan in its place, carrying its counters and history.
 */
#include "server/supervisor.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/fingerprint.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/timefmt.h"
#include "runtime/pipeline.h"

#define RESTART_NOTES 8

typedef struct plan_ref {
    sl_plan *plan;
    int n_users;            /* keepers running from it, plus one while it is the current plan */
    struct plan_ref *next;
} plan_ref;

typedef enum keeper_state {
    KEEPER_WAITING,         /* replaces a pipeline that is still draining */
    KEEPER_STARTING,
    KEEPER_RUNNING,
    KEEPER_BACKOFF,         /* failed; starts again at next_start_ms */
    KEEPER_FAILED,          /* gave up after SL_RESTART_GIVE_UP failures */
    KEEPER_FINISHED,        /* its source ended by itself */
    KEEPER_STOPPING,
    KEEPER_STOPPED,         /* drained; in the list only when held by a control command */
} keeper_state;

static const char *const state_names[] = { "waiting", "starting", "running", "backoff",
                                           "failed",  "finished", "stopping", "stopped" };

typedef struct restart_note {
    int64_t wall_ms;
    char reason[300];
} restart_note;

typedef struct totals {
    uint64_t in, out, filtered, dead, bytes_in;
} totals;

typedef struct keeper {
    char *name;
    const sl_pipeline_plan *plan;   /* borrowed from ref's plan */
    plan_ref *ref;
    uint64_t fingerprint;
    sl_log *log;
    pthread_t thread;
    bool has_thread;                /* started and not joined yet (main thread only) */
    bool is_held;                   /* stopped by a control command until started (main thread only) */
    atomic_bool stopping;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    /* under mutex: */
    keeper_state state;
    sl_pipeline *pipeline;          /* the running one, or NULL */
    totals before;                  /* counters of its earlier runs */
    sl_pipeline_metrics carried;    /* metrics of its earlier runs */
    int n_restarts;
    int n_failures;                 /* runs that failed (each a restart's cause) */
    restart_note notes[RESTART_NOTES];
    int n_notes;                    /* all ever written; the last RESTART_NOTES are kept */
    char last_error[512];
    char stopped_by[300];           /* who stopped it, while held */
    sl_error drain_error;           /* how a run told to stop ended, when it failed */
    int64_t next_start_wall_ms;
    bool is_done;                   /* the thread has ended */
    struct keeper *replacement;     /* started when this one has drained */
} keeper;

struct sl_supervisor {
    sl_log *log;
    pthread_mutex_t mutex;          /* guards the lists below */
    keeper **active;
    size_t n_active;
    keeper **retiring;
    size_t n_retiring;
    plan_ref *refs;
    plan_ref *current;
};

/* ---- plans ---- */

static void ref_release(sl_supervisor *supervisor, plan_ref *ref)
{
    if (--ref->n_users > 0) return;
    for (plan_ref **at = &supervisor->refs; *at; at = &(*at)->next) {
        if (*at == ref) {
            *at = ref->next;
            break;
        }
    }
    sl_plan_free(ref->plan);
    free(ref);
}

/* Whether a DAG task of plan runs the pipeline called name (then it is the
 * scheduler's, not a continuous one). */
static bool is_task_pipeline(const sl_plan *plan, const char *name)
{
    const sl_node *dags = sl_node_get(sl_config_root(plan->doc), "dags");
    for (size_t d = 0; dags && dags->kind == SL_NODE_MAP && d < dags->n_pairs; d++) {
        const sl_node *tasks = sl_node_get(dags->pairs[d].value, "tasks");
        for (size_t t = 0; tasks && tasks->kind == SL_NODE_MAP && t < tasks->n_pairs; t++) {
            const sl_node *pipeline = sl_node_get(tasks->pairs[t].value, "pipeline");
            if (pipeline && pipeline->kind == SL_NODE_MAP) pipeline = sl_node_get(pipeline, "name");
            if (pipeline && pipeline->kind == SL_NODE_SCALAR && pipeline->scalar &&
                strcmp(pipeline->scalar, name) == 0)
                return true;
        }
    }
    return false;
}

/* Whether every sink of pipeline writes an embedded topic: opening them
 * reaches no server. */
static bool writes_only_embedded_topics(const sl_pipeline_plan *pipeline)
{
    for (size_t s = 0; s < pipeline->n_sinks; s++)
        if (strcmp(pipeline->sinks[s].ops->name, "topic") != 0) return false;
    return pipeline->n_sinks > 0;
}

/* Opens (and closes again) the topic sinks of the pipelines DAG tasks run,
 * and those of continuous pipelines that write embedded topics only, so
 * the topics exist before a continuous pipeline reads them, as `sluice
 * run` opens every sink before any source. (A continuous pipeline's other
 * sinks are left to it: opening them here would reach their servers before
 * the pipeline's own retries could.) */
static int create_task_topics(sl_log *log, const sl_plan *plan, sl_error *err)
{
    atomic_bool stopping;
    atomic_init(&stopping, true);
    for (size_t p = 0; p < plan->n_pipelines; p++) {
        const sl_pipeline_plan *pipeline = &plan->pipelines[p];
        bool writes_topic = false;
        for (size_t s = 0; s < pipeline->n_sinks; s++) writes_topic |= pipeline->sinks[s].ops->topic_name != NULL;
        if (!writes_topic) continue;
        if (!is_task_pipeline(plan, pipeline->name) && !writes_only_embedded_topics(pipeline)) continue;
        sl_pipeline_context context = { .log = log, .data_dir = plan->data_dir, .stopping = &stopping };
        sl_pipeline *opened = NULL;
        int rc = sl_pipeline_new(pipeline, &context, &opened, err);
        if (rc == SL_OK) rc = sl_pipeline_open_sinks(opened, err);
        sl_pipeline_free(opened);
        if (rc) return rc;
    }
    return SL_OK;
}

static uint64_t fingerprint_of(const sl_plan *plan, const sl_pipeline_plan *pipeline)
{
    uint64_t hash = sl_node_fingerprint(pipeline->node, SL_FINGERPRINT_SEED);
    return sl_node_fingerprint(sl_node_get(sl_config_root(plan->doc), "topics"), hash);
}

/* ---- a keeper's thread ---- */

static bool never_done(void *context, const char *topic)
{
    (void)context;
    (void)topic;
    return false;   /* in a server, a topic may always get more records */
}

static void add_totals(totals *sum, sl_pipeline *pipeline)
{
    sl_pipeline_stats *stats = sl_pipeline_stats_of(pipeline);
    sum->in += atomic_load(&stats->records_in);
    sum->out += atomic_load(&stats->records_out);
    sum->filtered += atomic_load(&stats->records_filtered);
    sum->dead += atomic_load(&stats->records_dead);
    sum->bytes_in += atomic_load(&stats->bytes_in);
}

static void set_state(keeper *k, keeper_state state)
{
    pthread_mutex_lock(&k->mutex);
    k->state = state;
    pthread_mutex_unlock(&k->mutex);
}

/* Builds, opens and runs the pipeline once; SL_OK when it ended because it
 * was stopped or its source ended. */
static int run_once(keeper *k, sl_error *err)
{
    sl_pipeline_context context = {
        .log = k->log,
        .data_dir = k->ref->plan->data_dir,
        .stopping = &k->stopping,
        .follow = true,
        .topic_writers_done = never_done,
    };
    sl_pipeline *pipeline = NULL;
    int rc = sl_pipeline_new(k->plan, &context, &pipeline, err);
    if (rc == SL_OK) rc = sl_pipeline_open_sinks(pipeline, err);
    if (rc == SL_OK) rc = sl_pipeline_open_source(pipeline, err);
    if (rc == SL_OK) rc = sl_pipeline_start(pipeline, err);
    if (rc == SL_OK) {
        pthread_mutex_lock(&k->mutex);
        k->pipeline = pipeline;
        k->state = atomic_load(&k->stopping) ? KEEPER_STOPPING : KEEPER_RUNNING;
        pthread_mutex_unlock(&k->mutex);
        sl_info("server", "pipeline %s: running", k->name);
        rc = sl_pipeline_join(pipeline, err);
        pthread_mutex_lock(&k->mutex);
        add_totals(&k->before, pipeline);
        sl_pipeline_metrics last;
        if (sl_pipeline_read_metrics(pipeline, &last) == SL_OK) {
            if (sl_pipeline_metrics_add(&k->carried, &last))
                sl_warn("server", "pipeline %s: out of memory: its sinks' metrics restart from 0", k->name);
            sl_pipeline_metrics_clear(&last);
        }
        k->pipeline = NULL;
        if (rc && atomic_load(&k->stopping)) k->drain_error = *err;
        pthread_mutex_unlock(&k->mutex);
    }
    sl_pipeline_free(pipeline);
    return rc;
}

static void note_failure(keeper *k, const char *reason, int64_t backoff_ms)
{
    pthread_mutex_lock(&k->mutex);
    restart_note *note = &k->notes[k->n_notes++ % RESTART_NOTES];
    note->wall_ms = sl_clock_wall_ms();
    snprintf(note->reason, sizeof note->reason, "%s", reason);
    snprintf(k->last_error, sizeof k->last_error, "%s", reason);
    k->n_failures++;
    if (backoff_ms >= 0) {
        k->n_restarts++;
        k->state = KEEPER_BACKOFF;
        k->next_start_wall_ms = note->wall_ms + backoff_ms;
    } else {
        k->state = KEEPER_FAILED;
    }
    pthread_mutex_unlock(&k->mutex);
}

/* Sleeps ms unless told to stop first. */
static void wait_or_stop(keeper *k, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&k->mutex);
    while (!atomic_load(&k->stopping))
        if (pthread_cond_timedwait(&k->wake, &k->mutex, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&k->mutex);
}

static void *keeper_main(void *arg)
{
    keeper *k = arg;
    int failures_in_a_row = 0;
    while (!atomic_load(&k->stopping)) {
        set_state(k, KEEPER_STARTING);
        int64_t started = sl_clock_monotonic_ms();
        sl_error err;
        sl_error_clear(&err);
        int rc = run_once(k, &err);
        if (atomic_load(&k->stopping)) break;
        if (rc == SL_OK) {
            sl_info("server", "pipeline %s: finished (its source ended)", k->name);
            set_state(k, KEEPER_FINISHED);
            break;
        }
        if (sl_clock_monotonic_ms() - started >= SL_RESTART_HEALTHY_MS) failures_in_a_row = 0;
        failures_in_a_row++;
        if (failures_in_a_row >= SL_RESTART_GIVE_UP) {
            sl_error_log("server", "pipeline %s: failed %d times in a row, not restarted until the config is "
                         "reloaded: %s", k->name, failures_in_a_row, err.message);
            note_failure(k, err.message, -1);
            break;
        }
        int64_t backoff = SL_RESTART_FIRST_MS;
        for (int i = 1; i < failures_in_a_row && backoff < SL_RESTART_MAX_MS; i++) backoff *= 2;
        if (backoff > SL_RESTART_MAX_MS) backoff = SL_RESTART_MAX_MS;
        sl_warn("server", "pipeline %s: failed: %s; restarting in %" PRId64 " ms", k->name, err.message, backoff);
        note_failure(k, err.message, backoff);
        wait_or_stop(k, backoff);
    }
    pthread_mutex_lock(&k->mutex);
    if (k->state != KEEPER_FAILED && k->state != KEEPER_FINISHED) k->state = KEEPER_STOPPED;
    k->is_done = true;
    pthread_mutex_unlock(&k->mutex);
    return NULL;
}

/* ---- keepers ---- */

static keeper *keeper_new(sl_supervisor *supervisor, plan_ref *ref, const sl_pipeline_plan *plan)
{
    keeper *k = calloc(1, sizeof *k);
    if (!k || !(k->name = strdup(plan->name))) {
        free(k);
        return NULL;
    }
    k->plan = plan;
    k->ref = ref;
    ref->n_users++;
    k->fingerprint = fingerprint_of(ref->plan, plan);
    k->log = supervisor->log;
    atomic_init(&k->stopping, false);
    pthread_mutex_init(&k->mutex, NULL);
    pthread_cond_init(&k->wake, NULL);
    k->state = KEEPER_WAITING;
    sl_pipeline_metrics_init(&k->carried);
    return k;
}

static int keeper_start(keeper *k, sl_error *err)
{
    int rc = pthread_create(&k->thread, NULL, keeper_main, k);
    if (rc) return sl_error_set(err, SL_EIO, "pipeline %s: cannot start a thread: %s", k->name, strerror(rc));
    k->has_thread = true;
    return SL_OK;
}

static void keeper_stop(keeper *k)
{
    pthread_mutex_lock(&k->mutex);
    atomic_store(&k->stopping, true);
    if (k->state == KEEPER_RUNNING || k->state == KEEPER_STARTING || k->state == KEEPER_BACKOFF)
        k->state = KEEPER_STOPPING;
    pthread_cond_broadcast(&k->wake);
    pthread_mutex_unlock(&k->mutex);
}

static bool keeper_is_done(keeper *k)
{
    if (!k->has_thread) return true;
    pthread_mutex_lock(&k->mutex);
    bool is_done = k->is_done;
    pthread_mutex_unlock(&k->mutex);
    return is_done;
}

/* Waits for the keeper's thread to end (it must have been told to stop,
 * or have ended by itself). */
static void keeper_join(keeper *k)
{
    if (!k->has_thread) return;
    pthread_join(k->thread, NULL);
    k->has_thread = false;
}

static void keeper_free(sl_supervisor *supervisor, keeper *k)
{
    keeper_join(k);
    ref_release(supervisor, k->ref);
    pthread_mutex_destroy(&k->mutex);
    pthread_cond_destroy(&k->wake);
    sl_pipeline_metrics_clear(&k->carried);
    free(k->name);
    free(k);
}

static int push(keeper ***list, size_t *n, keeper *k)
{
    keeper **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) return SL_ENOMEM;
    grown[(*n)++] = k;
    *list = grown;
    return SL_OK;
}

static keeper *find_active(sl_supervisor *supervisor, const char *name, size_t *index)
{
    for (size_t i = 0; i < supervisor->n_active; i++) {
        if (strcmp(supervisor->active[i]->name, name) == 0) {
            *index = i;
            return supervisor->active[i];
        }
    }
    return NULL;
}

/* ---- the supervisor ---- */

int sl_supervisor_new(sl_log *log, sl_supervisor **out, sl_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return sl_error_set(err, SL_ENOMEM, "out of memory");
    (*out)->log = log;
    pthread_mutex_init(&(*out)->mutex, NULL);
    return SL_OK;
}

static int append_name(sl_buffer *list, const char *name)
{
    if (list->len && sl_buffer_append_byte(list, ',')) return SL_ENOMEM;
    return sl_json_write_string(list, name, strlen(name));
}

/* Moves active[index] to the retiring list (with what replaces it). */
static int retire(sl_supervisor *supervisor, size_t index, keeper *replacement)
{
    keeper *old = supervisor->active[index];
    if (push(&supervisor->retiring, &supervisor->n_retiring, old)) return SL_ENOMEM;
    old->replacement = replacement;
    if (replacement) supervisor->active[index] = replacement;
    else supervisor->active[index] = supervisor->active[--supervisor->n_active];
    keeper_stop(old);
    return SL_OK;
}

int sl_supervisor_apply(sl_supervisor *supervisor, sl_plan *plan, sl_buffer *changes, sl_error *err)
{
    plan_ref *ref = calloc(1, sizeof *ref);
    if (!ref) {
        sl_plan_free(plan);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    ref->plan = plan;
    ref->n_users = 1;   /* as the current plan */
    ref->next = supervisor->refs;
    supervisor->refs = ref;
    sl_buffer started = { 0 }, restarted = { 0 }, stopped = { 0 }, unchanged = { 0 }, left_stopped = { 0 };
    int rc = create_task_topics(supervisor->log, plan, err);
    if (rc) {
        sl_error_prefix(err, "creating the topics the pipelines write: ");
        ref_release(supervisor, ref);   /* what runs stays as it was */
        return rc;
    }
    pthread_mutex_lock(&supervisor->mutex);
    bool *is_kept = calloc(supervisor->n_active + 1, sizeof *is_kept);
    size_t n_before = supervisor->n_active;
    if (!is_kept) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t p = 0; p < plan->n_pipelines && rc == SL_OK; p++) {
        const sl_pipeline_plan *pipeline = &plan->pipelines[p];
        if (is_task_pipeline(plan, pipeline->name)) continue;
        size_t index = 0;
        keeper *old = find_active(supervisor, pipeline->name, &index);
        if (old && index < n_before && old->is_held) {
            /* Stopped by a control command: it stays stopped, changed or
             * not; a start runs the plan current then. */
            is_kept[index] = true;
            if (append_name(&left_stopped, pipeline->name)) rc = SL_ENOMEM;
            continue;
        }
        bool has_failed = false;
        if (old) {
            pthread_mutex_lock(&old->mutex);
            has_failed = old->state == KEEPER_FAILED;
            pthread_mutex_unlock(&old->mutex);
        }
        if (old && index < n_before && old->fingerprint == fingerprint_of(plan, pipeline) && !has_failed) {
            is_kept[index] = true;
            if (append_name(&unchanged, pipeline->name)) rc = SL_ENOMEM;
            continue;
        }
        keeper *k = keeper_new(supervisor, ref, pipeline);
        if (!k) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        if (old) {
            is_kept[index] = true;
            rc = retire(supervisor, index, k);
            if (rc == SL_OK && append_name(&restarted, pipeline->name)) rc = SL_ENOMEM;
        } else {
            rc = push(&supervisor->active, &supervisor->n_active, k);
            if (rc == SL_OK) rc = keeper_start(k, err);
            if (rc == SL_OK && append_name(&started, pipeline->name)) rc = SL_ENOMEM;
        }
    }
    /* Pipelines the new plan no longer runs (from the end: retire moves the last one into the gap). */
    for (size_t i = n_before; rc == SL_OK && i-- > 0;) {
        if (is_kept[i]) continue;
        keeper *old = supervisor->active[i];
        if (append_name(&stopped, old->name)) rc = SL_ENOMEM;
        else rc = retire(supervisor, i, NULL);
    }
    pthread_mutex_unlock(&supervisor->mutex);
    free(is_kept);
    if (supervisor->current) ref_release(supervisor, supervisor->current);
    supervisor->current = ref;
    if (rc == SL_ENOMEM && err && err->code == SL_OK) sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK && changes)
        rc = sl_buffer_printf(changes, "{\"started\":[%.*s],\"restarted\":[%.*s],\"stopped\":[%.*s],"
                              "\"unchanged\":[%.*s],\"left_stopped\":[%.*s]}", (int)started.len,
                              started.data ? started.data : "", (int)restarted.len,
                              restarted.data ? restarted.data : "", (int)stopped.len, stopped.data ? stopped.data : "",
                              (int)unchanged.len, unchanged.data ? unchanged.data : "", (int)left_stopped.len,
                              left_stopped.data ? left_stopped.data : "");
    sl_buffer_free(&started);
    sl_buffer_free(&restarted);
    sl_buffer_free(&stopped);
    sl_buffer_free(&unchanged);
    sl_buffer_free(&left_stopped);
    sl_supervisor_tick(supervisor);
    return rc;
}

void sl_supervisor_tick(sl_supervisor *supervisor)
{
    pthread_mutex_lock(&supervisor->mutex);
    for (size_t i = 0; i < supervisor->n_retiring;) {
        keeper *old = supervisor->retiring[i];
        if (!keeper_is_done(old)) {
            i++;
            continue;
        }
        supervisor->retiring[i] = supervisor->retiring[--supervisor->n_retiring];
        keeper *next = old->replacement;
        keeper_free(supervisor, old);
        if (next) {
            sl_error err;
            sl_error_clear(&err);
            if (keeper_start(next, &err)) {
                sl_error_log("server", "%s", err.message);
                next->state = KEEPER_FAILED;
                snprintf(next->last_error, sizeof next->last_error, "%s", err.message);
            }
        }
    }
    pthread_mutex_unlock(&supervisor->mutex);
}

/* ---- control commands ---- */

static void inherit_history(keeper *to, keeper *from)
{
    pthread_mutex_lock(&from->mutex);
    to->before = from->before;
    sl_pipeline_metrics_clear(&to->carried);
    if (sl_pipeline_metrics_copy(&to->carried, &from->carried))
        sl_warn("server", "pipeline %s: out of memory: its metrics restart from 0", to->name);
    to->n_restarts = from->n_restarts;
    to->n_failures = from->n_failures;
    memcpy(to->notes, from->notes, sizeof to->notes);
    to->n_notes = from->n_notes;
    memcpy(to->last_error, from->last_error, sizeof to->last_error);
    pthread_mutex_unlock(&from->mutex);
}

/* The retiring keeper that k replaces once it has drained, or NULL. */
static keeper *replaced_by(sl_supervisor *supervisor, const keeper *k)
{
    for (size_t i = 0; i < supervisor->n_retiring; i++)
        if (supervisor->retiring[i]->replacement == k) return supervisor->retiring[i];
    return NULL;
}

/* Stops k, waits until what it ran has drained (or the earlier run a
 * waiting k replaces, which then never starts it) and holds it stopped.
 * Fills drain_err when that run failed while draining. Returns the state
 * k was in. */
static keeper_state hold(sl_supervisor *supervisor, keeper *k, const char *reason, sl_error *drain_err)
{
    pthread_mutex_lock(&k->mutex);
    keeper_state was = k->state;
    pthread_mutex_unlock(&k->mutex);
    keeper *ran = k;
    if (k->has_thread) {
        keeper_stop(k);
        keeper_join(k);
    } else if ((ran = replaced_by(supervisor, k))) {
        ran->replacement = NULL;   /* sl_supervisor_tick frees it, and starts nothing */
        keeper_join(ran);
    }
    if (ran) {
        pthread_mutex_lock(&ran->mutex);
        *drain_err = ran->drain_error;
        pthread_mutex_unlock(&ran->mutex);
    }
    pthread_mutex_lock(&k->mutex);
    k->state = KEEPER_STOPPED;
    snprintf(k->stopped_by, sizeof k->stopped_by, "%s", reason);
    pthread_mutex_unlock(&k->mutex);
    k->is_held = true;
    sl_info("server", "pipeline %s: stopped by %s", k->name, reason);
    return was;
}

static void note_restart(keeper *k, const char *reason)
{
    pthread_mutex_lock(&k->mutex);
    restart_note *note = &k->notes[k->n_notes++ % RESTART_NOTES];
    note->wall_ms = sl_clock_wall_ms();
    snprintf(note->reason, sizeof note->reason, "restarted by %s", reason);
    k->n_restarts++;
    pthread_mutex_unlock(&k->mutex);
}

static int drain_failure(const keeper *k, const sl_error *drain_err, sl_error *err)
{
    if (!err) return drain_err->code;
    *err = *drain_err;
    sl_error_prefix(err, "pipeline %s: stopped, but its run failed while draining (its last positions may not be "
                    "committed): ", k->name);
    return err->code;
}

static int control_stop(sl_supervisor *supervisor, keeper *k, const char *reason, char *detail, size_t detail_size,
                        sl_error *err)
{
    if (k->is_held) {
        snprintf(detail, detail_size, "already stopped");
        return SL_OK;
    }
    sl_error drain_err;
    sl_error_clear(&drain_err);
    keeper_state was = hold(supervisor, k, reason, &drain_err);
    if (drain_err.code != SL_OK) return drain_failure(k, &drain_err, err);
    snprintf(detail, detail_size, "%s",
             was == KEEPER_FAILED     ? "stopped (it had failed and was not running)"
             : was == KEEPER_FINISHED ? "stopped (its source had ended)"
             : was == KEEPER_BACKOFF  ? "stopped (it was waiting to start again after a failure)"
                                      : "stopped: drained, its positions committed");
    return SL_OK;
}

/* Puts a new keeper from the current plan in the place of active[index]
 * (held, failed or finished), with its counters and history, and starts it. */
static int control_start(sl_supervisor *supervisor, size_t index, char *detail, size_t detail_size, sl_error *err)
{
    keeper *old = supervisor->active[index];
    pthread_mutex_lock(&old->mutex);
    keeper_state was = old->state;
    pthread_mutex_unlock(&old->mutex);
    if (!old->is_held && was != KEEPER_FAILED && was != KEEPER_FINISHED) {
        snprintf(detail, detail_size, "%s",
                 was == KEEPER_BACKOFF    ? "already running (waiting out its backoff after a failure; restart "
                                            "starts it now)"
                 : was == KEEPER_WAITING  ? "already running (it starts once its earlier run has drained)"
                                          : "already running");
        return SL_OK;
    }
    const sl_pipeline_plan *plan = supervisor->current ? sl_plan_pipeline(supervisor->current->plan, old->name) : NULL;
    if (!plan) return sl_error_set(err, SL_ENOTFOUND, "pipeline %s: not in the current config", old->name);
    keeper_join(old);   /* a failed or finished keeper's thread has ended, or is ending */
    keeper *k = keeper_new(supervisor, supervisor->current, plan);
    if (!k) return sl_error_set(err, SL_ENOMEM, "out of memory");
    inherit_history(k, old);
    pthread_mutex_lock(&supervisor->mutex);
    supervisor->active[index] = k;
    keeper_free(supervisor, old);
    pthread_mutex_unlock(&supervisor->mutex);
    int rc = keeper_start(k, err);
    if (rc) {
        pthread_mutex_lock(&k->mutex);
        k->state = KEEPER_FAILED;
        if (err) snprintf(k->last_error, sizeof k->last_error, "%s", err->message);
        pthread_mutex_unlock(&k->mutex);
        return rc;
    }
    sl_info("server", "pipeline %s: started", k->name);
    snprintf(detail, detail_size, "%s",
             was == KEEPER_FAILED     ? "started (it had failed)"
             : was == KEEPER_FINISHED ? "started (its source had ended)"
                                      : "started");
    return SL_OK;
}

static int control_restart(sl_supervisor *supervisor, size_t index, const char *reason, char *detail,
                           size_t detail_size, sl_error *err)
{
    keeper *k = supervisor->active[index];
    bool was_held = k->is_held;
    sl_error drain_err;
    sl_error_clear(&drain_err);
    if (!was_held) hold(supervisor, k, reason, &drain_err);
    note_restart(k, reason);
    char started[200];
    int rc = control_start(supervisor, index, started, sizeof started, err);
    if (rc) return rc;
    if (was_held) snprintf(detail, detail_size, "started (it was stopped)");
    else if (drain_err.code != SL_OK)
        snprintf(detail, detail_size, "restarted; its earlier run failed while draining: %s", drain_err.message);
    else snprintf(detail, detail_size, "restarted: drained, its positions committed, started again");
    return SL_OK;
}

/* SL_EINVAL for a pipeline of the current plan that DAG tasks run, else
 * SL_ENOTFOUND. */
static int not_continuous(const sl_supervisor *supervisor, const char *name, sl_error *err)
{
    const sl_plan *plan = supervisor->current ? supervisor->current->plan : NULL;
    if (plan && sl_plan_pipeline(plan, name) && is_task_pipeline(plan, name))
        return sl_error_set(err, SL_EINVAL, "pipeline %s is run by DAG tasks, not continuously: only continuous "
                            "pipelines can be started, stopped or restarted", name);
    return sl_error_set(err, SL_ENOTFOUND, "no pipeline %s in the server's config", name);
}

int sl_supervisor_control(sl_supervisor *supervisor, const char *pipeline, sl_control_action action,
                          const char *reason, char *detail, size_t detail_size, sl_error *err)
{
    char ignored[1];
    if (!detail || detail_size == 0) {
        detail = ignored;
        detail_size = sizeof ignored;
    }
    detail[0] = '\0';
    if (!reason || !reason[0]) reason = "an unnamed caller";
    size_t index = 0;
    keeper *k = pipeline ? find_active(supervisor, pipeline, &index) : NULL;
    if (!k) return not_continuous(supervisor, pipeline ? pipeline : "(none)", err);
    switch (action) {
    case SL_CONTROL_STOP: return control_stop(supervisor, k, reason, detail, detail_size, err);
    case SL_CONTROL_START: return control_start(supervisor, index, detail, detail_size, err);
    case SL_CONTROL_RESTART: return control_restart(supervisor, index, reason, detail, detail_size, err);
    }
    return sl_error_set(err, SL_EINVAL, "pipeline %s: unknown control action %d", pipeline, (int)action);
}

bool sl_supervisor_is_ready(sl_supervisor *supervisor)
{
    bool is_ready = true;
    pthread_mutex_lock(&supervisor->mutex);
    for (size_t i = 0; i < supervisor->n_active && is_ready; i++) {
        keeper *k = supervisor->active[i];
        pthread_mutex_lock(&k->mutex);
        is_ready = k->state == KEEPER_RUNNING || k->state == KEEPER_FINISHED || k->state == KEEPER_STOPPED;
        pthread_mutex_unlock(&k->mutex);
    }
    pthread_mutex_unlock(&supervisor->mutex);
    return is_ready;
}

static int append_time(sl_buffer *out, int64_t wall_ms)
{
    char text[SL_TIME_ISO_MAX];
    sl_time_format_iso(wall_ms * 1000, text);
    return sl_json_write_string(out, text, strlen(text));
}

/* The metrics of k's runs so far, the running one's partitions and lag
 * included; k's mutex held. */
static int keeper_metrics(keeper *k, sl_pipeline_metrics *out)
{
    sl_pipeline_metrics_init(out);
    int rc = k->pipeline ? sl_pipeline_read_metrics(k->pipeline, out) : SL_OK;
    if (rc == SL_OK) rc = sl_pipeline_metrics_add(out, &k->carried);
    if (rc) sl_pipeline_metrics_clear(out);
    return rc;
}

static int append_rate(sl_buffer *out, const char *key, double value)
{
    return sl_buffer_printf(out, ",\"%s\":%.3f", key, value);
}

/* The members of the metrics (docs/api.md): rates, bytes out, errors, lag
 * and the source's partitions. */
static int describe_metrics(keeper *k, const sl_pipeline_metrics *metrics, const sl_pipeline_rates *rates,
                            sl_buffer *out)
{
    sl_pipeline_rates zero = { 0 };
    if (!rates) rates = &zero;
    int rc = append_rate(out, "records_in_per_s", rates->records_in_per_s);
    if (rc == SL_OK) rc = append_rate(out, "records_out_per_s", rates->records_out_per_s);
    if (rc == SL_OK) rc = append_rate(out, "bytes_in_per_s", rates->bytes_in_per_s);
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"bytes_out\":%" PRIu64, metrics->bytes_out);
    if (rc == SL_OK) rc = append_rate(out, "bytes_out_per_s", rates->bytes_out_per_s);
    if (rc == SL_OK)
        rc = sl_buffer_printf(out, ",\"errors\":%" PRIu64, metrics->records_failed + (uint64_t)k->n_failures);
    if (rc == SL_OK) rc = append_rate(out, "dead_letters_per_s", rates->dead_letters_per_s);
    if (rc == SL_OK)
        rc = k->pipeline && metrics->lag >= 0 ? sl_buffer_printf(out, ",\"lag\":%" PRId64, metrics->lag)
                                              : sl_buffer_append_cstr(out, ",\"lag\":null");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"partitions\":[");
    for (size_t i = 0; i < metrics->n_partitions && rc == SL_OK; i++) {
        const sl_partition_position *at = &metrics->partitions[i];
        if (i) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "{\"topic\":");
        if (rc == SL_OK) rc = sl_json_write_string(out, at->topic, strlen(at->topic));
        if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"partition\":%" PRId32 ",\"position\":", at->partition);
        if (rc == SL_OK)
            rc = at->position >= 0 ? sl_buffer_printf(out, "%" PRId64, at->position) : sl_buffer_append_cstr(out, "null");
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"end_offset\":");
        if (rc == SL_OK)
            rc = at->end_offset >= 0 ? sl_buffer_printf(out, "%" PRId64, at->end_offset)
                                     : sl_buffer_append_cstr(out, "null");
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"lag\":");
        if (rc == SL_OK)
            rc = at->end_offset >= 0 && at->position >= 0
                     ? sl_buffer_printf(out, "%" PRId64, at->end_offset > at->position ? at->end_offset - at->position : 0)
                     : sl_buffer_append_cstr(out, "null");
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '}');
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, ']');
    return rc;
}

static int describe_keeper(keeper *k, sl_pipeline_rates_fn rates_fn, void *rates_context, sl_buffer *out)
{
    sl_pipeline_rates rates;
    bool has_rates = rates_fn && rates_fn(rates_context, k->name, &rates);
    pthread_mutex_lock(&k->mutex);
    totals now = k->before;
    if (k->pipeline) add_totals(&now, k->pipeline);
    sl_pipeline_metrics metrics;
    int metrics_rc = keeper_metrics(k, &metrics);
    int rc = sl_buffer_append_cstr(out, "{\"name\":");
    if (rc == SL_OK) rc = sl_json_write_string(out, k->name, strlen(k->name));
    if (rc == SL_OK)
        rc = sl_buffer_printf(out, ",\"state\":\"%s\",\"records_in\":%" PRIu64 ",\"records_out\":%" PRIu64
                              ",\"records_filtered\":%" PRIu64 ",\"dead_letters\":%" PRIu64 ",\"bytes_in\":%" PRIu64
                              ",\"restarts\":%d,\"restart_history\":[",
                              state_names[k->state], now.in, now.out, now.filtered, now.dead, now.bytes_in,
                              k->n_restarts);
    int first = k->n_notes > RESTART_NOTES ? k->n_notes - RESTART_NOTES : 0;
    for (int i = first; i < k->n_notes && rc == SL_OK; i++) {
        const restart_note *note = &k->notes[i % RESTART_NOTES];
        rc = sl_buffer_append_cstr(out, i > first ? ",{\"at\":" : "{\"at\":");
        if (rc == SL_OK) rc = append_time(out, note->wall_ms);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"reason\":");
        if (rc == SL_OK) rc = sl_json_write_string(out, note->reason, strlen(note->reason));
        if (rc == SL_OK) rc = sl_buffer_append_byte(out, '}');
    }
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "],\"last_error\":");
    if (rc == SL_OK)
        rc = k->last_error[0] ? sl_json_write_string(out, k->last_error, strlen(k->last_error))
                              : sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"stopped_by\":");
    if (rc == SL_OK)
        rc = k->state == KEEPER_STOPPED && k->stopped_by[0]
                 ? sl_json_write_string(out, k->stopped_by, strlen(k->stopped_by))
                 : sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, ",\"next_start_at\":");
    if (rc == SL_OK)
        rc = k->state == KEEPER_BACKOFF ? append_time(out, k->next_start_wall_ms) : sl_buffer_append_cstr(out, "null");
    if (rc == SL_OK) rc = metrics_rc;
    if (rc == SL_OK) rc = describe_metrics(k, &metrics, has_rates ? &rates : NULL, out);
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, '}');
    pthread_mutex_unlock(&k->mutex);
    sl_pipeline_metrics_clear(&metrics);
    return rc;
}

int sl_supervisor_snapshot(sl_supervisor *supervisor, sl_buffer *out)
{
    return sl_supervisor_describe(supervisor, NULL, NULL, NULL, out);
}

int sl_supervisor_describe(sl_supervisor *supervisor, const char *name, sl_pipeline_rates_fn rates,
                           void *rates_context, sl_buffer *out)
{
    pthread_mutex_lock(&supervisor->mutex);
    int rc = SL_OK;
    if (name) {
        size_t index = 0;
        keeper *k = find_active(supervisor, name, &index);
        rc = k ? describe_keeper(k, rates, rates_context, out) : SL_ENOTFOUND;
        pthread_mutex_unlock(&supervisor->mutex);
        return rc;
    }
    rc = sl_buffer_append_byte(out, '[');
    for (size_t i = 0; i < supervisor->n_active && rc == SL_OK; i++) {
        if (i) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = describe_keeper(supervisor->active[i], rates, rates_context, out);
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, ']');
    pthread_mutex_unlock(&supervisor->mutex);
    return rc;
}

bool sl_supervisor_is_state_name(const char *state)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(state_names[i], state) == 0) return true;
    return false;
}

static int compare_keepers(const void *a, const void *b)
{
    return strcmp((*(keeper *const *)a)->name, (*(keeper *const *)b)->name);
}

int sl_supervisor_describe_page(sl_supervisor *supervisor, sl_pipeline_page *page, sl_pipeline_rates_fn rates,
                                void *rates_context, sl_buffer *out)
{
    page->next_after[0] = '\0';
    pthread_mutex_lock(&supervisor->mutex);
    size_t n = supervisor->n_active;
    keeper **sorted = malloc((n ? n : 1) * sizeof *sorted);
    int rc = sorted ? sl_buffer_append_byte(out, '[') : SL_ENOMEM;
    if (rc == SL_OK) {
        memcpy(sorted, supervisor->active, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, compare_keepers);
    }
    size_t n_written = 0;
    const char *last = "";
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        keeper *k = sorted[i];
        if (page->after && page->after[0] && strcmp(k->name, page->after) <= 0) continue;
        if (page->prefix && strncmp(k->name, page->prefix, strlen(page->prefix)) != 0) continue;
        pthread_mutex_lock(&k->mutex);
        bool is_state = !page->state || strcmp(state_names[k->state], page->state) == 0;
        pthread_mutex_unlock(&k->mutex);
        if (!is_state) continue;
        if (n_written == page->limit) {   /* one more matches: the page ends before it */
            snprintf(page->next_after, sizeof page->next_after, "%s", last);
            break;
        }
        if (n_written++) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK) rc = describe_keeper(k, rates, rates_context, out);
        last = k->name;
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, ']');
    pthread_mutex_unlock(&supervisor->mutex);
    free(sorted);
    return rc;
}

int sl_supervisor_read_metrics(sl_supervisor *supervisor, sl_supervised_pipeline **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    pthread_mutex_lock(&supervisor->mutex);
    sl_supervised_pipeline *all = calloc(supervisor->n_active ? supervisor->n_active : 1, sizeof *all);
    int rc = all ? SL_OK : SL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < supervisor->n_active && rc == SL_OK; i++) {
        keeper *k = supervisor->active[i];
        sl_supervised_pipeline *to = &all[n];
        pthread_mutex_lock(&k->mutex);
        snprintf(to->name, sizeof to->name, "%s", k->name);
        to->state = state_names[k->state];
        to->is_up = k->state == KEEPER_RUNNING && k->pipeline != NULL;
        to->n_restarts = k->n_restarts;
        to->n_failures = k->n_failures;
        rc = keeper_metrics(k, &to->metrics);   /* lag -1 when no run is going */
        pthread_mutex_unlock(&k->mutex);
        if (rc == SL_OK) n++;
    }
    pthread_mutex_unlock(&supervisor->mutex);
    if (rc) {
        sl_supervised_pipelines_free(all, n);
        return rc;
    }
    *out = all;
    *n_out = n;
    return SL_OK;
}

void sl_supervised_pipelines_free(sl_supervised_pipeline *pipelines, size_t n)
{
    for (size_t i = 0; pipelines && i < n; i++) sl_pipeline_metrics_clear(&pipelines[i].metrics);
    free(pipelines);
}

int sl_supervisor_free(sl_supervisor *supervisor, sl_error *err)
{
    (void)err;
    if (!supervisor) return SL_OK;
    pthread_mutex_lock(&supervisor->mutex);
    for (size_t i = 0; i < supervisor->n_active; i++) keeper_stop(supervisor->active[i]);
    pthread_mutex_unlock(&supervisor->mutex);
    /* Joined without the lock: the HTTP server is stopped by now. A
     * replacement that never started goes with the keeper it replaces. */
    for (size_t i = 0; i < supervisor->n_active; i++) {
        bool is_replacement = false;
        for (size_t r = 0; r < supervisor->n_retiring; r++)
            is_replacement |= supervisor->retiring[r]->replacement == supervisor->active[i];
        if (!is_replacement) keeper_free(supervisor, supervisor->active[i]);
    }
    for (size_t i = 0; i < supervisor->n_retiring; i++) {
        keeper *old = supervisor->retiring[i];
        if (old->replacement) keeper_free(supervisor, old->replacement);
        keeper_free(supervisor, old);
    }
    free(supervisor->active);
    free(supervisor->retiring);
    if (supervisor->current) ref_release(supervisor, supervisor->current);
    pthread_mutex_destroy(&supervisor->mutex);
    free(supervisor);
    return SL_OK;
}
