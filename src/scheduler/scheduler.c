/* scheduler.c — the scheduler's loop and its interface (see scheduler.h;
 * scheduler_loop.h says how its files share the work). */
#include "scheduler/scheduler.h"

#include <limits.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logger.h"
#include "core/timefmt.h"
#include "scheduler/scheduler_loop.h"

int sl__generation_new(sl_plan *plan, generation **out, sl_error *err)
{
    generation *gen = calloc(1, sizeof *gen);
    if (!gen) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_dag_set_build(plan, &gen->dags, err);
    if (rc) {
        free(gen);
        return rc;
    }
    gen->plan = sl_plan_retain(plan);
    atomic_init(&gen->refs, 1);
    *out = gen;
    return SL_OK;
}

void sl__generation_release(generation *gen)
{
    if (!gen || atomic_fetch_sub(&gen->refs, 1) > 1) return;
    sl_dag_set_free(gen->dags);
    sl_plan_free(gen->plan);
    free(gen);
}

/* A store failure does not stop the scheduler: it is logged (the same one
 * at most every ERROR_REPEAT_MS) and the pass is tried again. */
void sl__scheduler_report(sl_scheduler *s, const char *what, const sl_error *err)
{
    int64_t now = sl_clock_monotonic_ms();
    char message[sizeof s->last_error];
    snprintf(message, sizeof message, "%.80s: %.310s", what, err->message);
    if (strcmp(message, s->last_error) == 0 && now - s->last_error_ms < ERROR_REPEAT_MS) return;
    snprintf(s->last_error, sizeof s->last_error, "%s", message);
    s->last_error_ms = now;
    sl_error_log("scheduler", "%s%s", message, sl_error_is_transient(err) ? " (tried again)" : "");
}

void sl__scheduler_wake_at(sl_scheduler *s, int64_t at_us)
{
    if (at_us < s->next_wake_us) s->next_wake_us = at_us;
}

int sl__scheduler_set_ti(sl_scheduler *s, int64_t id, sl_meta_ti_state from, sl_meta_ti_state to, bool *changed,
                         sl_error *err)
{
    return sl_metadata_ti_set_state(s->store, id, from, to, NULL, changed, err);
}

/* ---- the loop ---- */

static int heartbeat(sl_scheduler *s, sl_error *err)
{
    int64_t now = sl_clock_monotonic_ms();
    if (now < s->next_heartbeat_ms) return SL_OK;
    int rc = sl_metadata_server_heartbeat(s->store, s->server_id, err);
    if (rc == SL_ENOTFOUND) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        rc = sl_metadata_server_register(s->store, s->server_id, host, (int64_t)getpid(), err);
    }
    int64_t ids[64];
    size_t n = 0;
    if (rc == SL_OK) rc = sl_metadata_reap_stale(s->store, (int64_t)SL_SCHEDULER_STALE_MS * 1000, ids, 64, &n, err);
    for (size_t i = 0; i < n; i++)
        sl_warn("scheduler", "task instance %" PRId64 ": its server stopped heartbeating; failed or up for retry",
                ids[i]);
    if (rc == SL_OK) s->next_heartbeat_ms = now + SL_SCHEDULER_HEARTBEAT_MS;
    return rc;
}

/* Takes a reload's generation, when one is waiting. */
static int take_pending(sl_scheduler *s, sl_error *err)
{
    pthread_mutex_lock(&s->mutex);
    generation *pending = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->mutex);
    if (!pending) return SL_OK;
    sl__generation_release(s->current);
    s->current = pending;
    return sl__scheduler_sync_dags(s, err);
}

static int pass(sl_scheduler *s, sl_error *err)
{
    int64_t now_us = sl_clock_wall_us();
    int rc = take_pending(s, err);
    if (rc == SL_OK) rc = sl__scheduler_reap_tries(s, err);
    if (rc == SL_OK) rc = heartbeat(s, err);
    /* Every DAG on a sweep; between sweeps only those that need a look. */
    pthread_mutex_lock(&s->mutex);
    bool is_sweep = s->is_sweep_asked || now_us >= s->next_sweep_us;
    s->is_sweep_asked = false;
    pthread_mutex_unlock(&s->mutex);
    if (rc == SL_OK && is_sweep) rc = sl__scheduler_read_paused(s, err);
    for (size_t d = 0; rc == SL_OK && d < s->current->dags->n_dags; d++) {
        if (!is_sweep && now_us < s->next_check_us[d]) {
            sl__scheduler_wake_at(s, s->next_check_us[d]);
            continue;
        }
        rc = sl__scheduler_schedule_dag(s, d, now_us, err);
    }
    if (rc == SL_OK && is_sweep) s->next_sweep_us = now_us + SWEEP_MS * INT64_C(1000);
    if (rc) {
        pthread_mutex_lock(&s->mutex);
        s->is_sweep_asked = true;   /* the pass failed: look at everything again */
        pthread_mutex_unlock(&s->mutex);
    }
    if (rc == SL_OK) rc = sl__scheduler_claim_tries(s, err);
    return rc;
}

static void wait_for_work(sl_scheduler *s, int64_t wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = (int64_t)until.tv_nsec + (wait_ms % 1000) * 1000000;
    until.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&s->mutex);
    while (!s->is_woken && !s->is_stopping)
        if (pthread_cond_timedwait(&s->wake, &s->mutex, &until) != 0) break;
    s->is_woken = false;
    pthread_mutex_unlock(&s->mutex);
}

static bool is_stopping(sl_scheduler *s)
{
    pthread_mutex_lock(&s->mutex);
    bool stopping = s->is_stopping;
    pthread_mutex_unlock(&s->mutex);
    return stopping;
}

static void *scheduler_main(void *arg)
{
    sl_scheduler *s = arg;
    int64_t backoff_ms = 0;
    while (!is_stopping(s)) {
        s->next_wake_us = sl_clock_wall_us() + SL_SCHEDULER_IDLE_WAIT_MS * 1000;
        sl_error err;
        sl_error_clear(&err);
        int rc = pass(s, &err);
        int64_t wait_ms = (s->next_wake_us - sl_clock_wall_us()) / 1000;
        if (rc) {
            sl__scheduler_report(s, "a scheduler pass", &err);
            backoff_ms = backoff_ms ? backoff_ms * 2 : 500;
            if (backoff_ms > 30000) backoff_ms = 30000;
            wait_ms = backoff_ms;
        } else {
            backoff_ms = 0;
        }
        if (wait_ms > 0) wait_for_work(s, wait_ms);
    }
    sl__scheduler_drain_tries(s);
    return NULL;
}

/* ---- the interface ---- */

static void make_server_id(char *out, size_t size)
{
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    unsigned random = 0;
    FILE *urandom = fopen("/dev/urandom", "rb");
    if (!urandom || fread(&random, sizeof random, 1, urandom) != 1) random = (unsigned)sl_clock_monotonic_us();
    if (urandom) fclose(urandom);
    snprintf(out, size, "%s-%ld-%08x", host, (long)getpid(), random);
}

int sl_scheduler_start(sl_plan *plan, const sl_scheduler_options *options, sl_scheduler **out, sl_error *err)
{
    *out = NULL;
    sl_scheduler *s = calloc(1, sizeof *s);
    if (!s) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mutex, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->run_ended, NULL);
    s->log = options->log;
    s->control = options->control;
    s->control_context = options->control_context;
    s->only_run = options->only_run;
    make_server_id(s->server_id, sizeof s->server_id);
    /* Log paths are stored absolute, for readers with another working directory. */
    s->data_dir = realpath(options->data_dir, NULL);
    if (!s->data_dir) s->data_dir = strdup(options->data_dir);
    int rc = s->data_dir ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK) rc = sl__generation_new(plan, &s->current, err);
    if (rc == SL_OK) rc = sl_metadata_open(plan->metadata, &s->store, err);
    if (rc == SL_OK) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        rc = sl_metadata_server_register(s->store, s->server_id, host, (int64_t)getpid(), err);
    }
    if (rc == SL_OK) rc = sl__scheduler_kill_orphans(s, err);
    if (rc == SL_OK) rc = sl__scheduler_sync_dags(s, err);
    /* An SQLite store has one server, this one (it holds the data dir):
     * whatever another id left queued or running died with its process. */
    if (rc == SL_OK && strcmp(sl_metadata_backend(s->store), "sqlite") == 0) {
        int64_t ids[64];
        size_t n = 64;
        while (rc == SL_OK && n == 64) rc = sl_metadata_reap_stale(s->store, 0, ids, 64, &n, err);
    }
    s->next_heartbeat_ms = sl_clock_monotonic_ms() + SL_SCHEDULER_HEARTBEAT_MS;
    if (rc == SL_OK && pthread_create(&s->thread, NULL, scheduler_main, s) != 0)
        rc = sl_error_set(err, SL_ENOMEM, "cannot start the scheduler's thread");
    if (rc) {
        sl_metadata_close(s->store);
        sl__generation_release(s->current);
        free(s->is_paused);
        free(s->next_check_us);
        free(s->data_dir);
        pthread_mutex_destroy(&s->mutex);
        pthread_cond_destroy(&s->wake);
        pthread_cond_destroy(&s->run_ended);
        free(s);
        return rc;
    }
    s->has_thread = true;
    s->latest = s->current;
    atomic_fetch_add(&s->latest->refs, 1);
    sl_info("scheduler", "started as %s with metadata in %s (%s), %zu DAGs", s->server_id,
            sl_metadata_where(s->store), sl_metadata_backend(s->store), s->current->dags->n_dags);
    *out = s;
    return SL_OK;
}

int sl_scheduler_apply(sl_scheduler *scheduler, sl_plan *plan, sl_error *err)
{
    generation *gen = NULL;
    int rc = sl__generation_new(plan, &gen, err);
    if (rc) return rc;
    pthread_mutex_lock(&scheduler->mutex);
    generation *old = scheduler->pending;
    generation *old_latest = scheduler->latest;
    scheduler->pending = gen;
    atomic_fetch_add(&gen->refs, 1);
    scheduler->latest = gen;
    scheduler->is_woken = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_mutex_unlock(&scheduler->mutex);
    sl__generation_release(old);
    sl__generation_release(old_latest);
    return SL_OK;
}

void sl_scheduler_wake(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    scheduler->is_woken = true;
    scheduler->is_sweep_asked = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_mutex_unlock(&scheduler->mutex);
}

const char *sl_scheduler_server_id(const sl_scheduler *scheduler)
{
    return scheduler->server_id;
}

int sl_scheduler_wait_run(sl_scheduler *scheduler, int64_t id, sl_meta_run_state *state, sl_error *err)
{
    if (id != scheduler->only_run)
        return sl_error_set_permanent(err, SL_EINVAL, "the scheduler waits only for the run it was started for");
    pthread_mutex_lock(&scheduler->mutex);
    while (!scheduler->is_only_run_ended && !scheduler->is_stopping)
        pthread_cond_wait(&scheduler->run_ended, &scheduler->mutex);
    bool is_ended = scheduler->is_only_run_ended;
    *state = scheduler->only_run_state;
    pthread_mutex_unlock(&scheduler->mutex);
    return is_ended ? SL_OK : sl_error_set(err, SL_ECANCELED, "the scheduler stopped before the run ended");
}

sl_scheduler_dags *sl_scheduler_dags_acquire(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    generation *gen = scheduler->latest;
    atomic_fetch_add(&gen->refs, 1);
    pthread_mutex_unlock(&scheduler->mutex);
    return gen;
}

const sl_dag_set *sl_scheduler_dags_set(const sl_scheduler_dags *dags)
{
    return dags->dags;
}

const sl_plan *sl_scheduler_dags_plan(const sl_scheduler_dags *dags)
{
    return dags->plan;
}

void sl_scheduler_dags_release(sl_scheduler_dags *dags)
{
    sl__generation_release(dags);
}

void sl_scheduler_interrupt(sl_scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->mutex);
    scheduler->is_stopping = true;
    pthread_cond_broadcast(&scheduler->wake);
    pthread_cond_broadcast(&scheduler->run_ended);
    pthread_mutex_unlock(&scheduler->mutex);
}

void sl_scheduler_stop(sl_scheduler *scheduler)
{
    if (!scheduler) return;
    sl_scheduler_interrupt(scheduler);
    if (scheduler->has_thread) pthread_join(scheduler->thread, NULL);
    sl_metadata_close(scheduler->store);
    sl__generation_release(scheduler->current);
    sl__generation_release(scheduler->pending);
    sl__generation_release(scheduler->latest);
    free(scheduler->is_paused);
    free(scheduler->next_check_us);
    free(scheduler->data_dir);
    pthread_mutex_destroy(&scheduler->mutex);
    pthread_cond_destroy(&scheduler->wake);
    pthread_cond_destroy(&scheduler->run_ended);
    free(scheduler);
}

