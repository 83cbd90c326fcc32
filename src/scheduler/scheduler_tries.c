/* scheduler_tries.c — the tries this server runs (see scheduler.h):
 * claimed, started on threads of their own, timed out, recorded when they
 * end, cancelled when the scheduler stops. */
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

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "scheduler/command.h"

typedef struct ti_detail {
    int64_t run;
    char dag_id[SL_META_NAME_MAX + 1];
    char run_id[SL_META_NAME_MAX + 1];
    char task_id[SL_META_NAME_MAX + 1];
    int try_number;
    int max_tries;
} ti_detail;

static int keep_ti(void *context, const sl_meta_ti *ti)
{
    ti_detail *detail = context;
    detail->run = ti->run;
    snprintf(detail->dag_id, sizeof detail->dag_id, "%s", ti->dag_id);
    snprintf(detail->run_id, sizeof detail->run_id, "%s", ti->run_id);
    snprintf(detail->task_id, sizeof detail->task_id, "%s", ti->task_id);
    detail->try_number = ti->try_number;
    detail->max_tries = ti->max_tries;
    return SL_OK;
}

void sl__scheduler_cancel_tries_of_run(sl_scheduler *s, int64_t run, const char *reason)
{
    for (running_try *rt = s->running; rt; rt = rt->next) {
        if (rt->run_row != run || atomic_load(&rt->cancel)) continue;
        snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "%s", reason);
        rt->is_final = true;
        atomic_store(&rt->cancel, true);
    }
}

/* ---- tries ---- */

static int keep_state(void *context, const sl_meta_ti *ti)
{
    *(sl_meta_ti_state *)context = ti->state;
    return SL_OK;
}

/* A try whose row is no longer queued or running was marked through the
 * API (or taken for dead by another server): it is cancelled, its process
 * killed, and its end is not recorded over the mark. */
static int cancel_if_marked(sl_scheduler *s, running_try *rt, sl_error *err)
{
    sl_meta_ti_state state = SL_META_TI_RUNNING;
    int rc = sl_metadata_ti_get(s->store, rt->ti_id, keep_state, &state, err);
    if (rc == SL_ENOTFOUND) state = SL_META_TI_NONE;
    else if (rc) return rc;
    if (state == SL_META_TI_RUNNING || state == SL_META_TI_QUEUED) return SL_OK;
    snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "its task instance was marked %s",
             sl_meta_ti_state_name(state));
    rt->is_marked = true;
    rt->is_final = true;
    atomic_store(&rt->cancel, true);
    sl_info("scheduler", "dag %s run %s task %s: try %d cancelled: its task instance was marked %s", rt->dag_id,
            rt->run_id, rt->task_id, rt->try_.try_number, sl_meta_ti_state_name(state));
    return SL_OK;
}

static void *try_main(void *arg)
{
    running_try *rt = arg;
    sl_task_execute(&rt->try_, &rt->outcome);
    sl_scheduler *s = rt->scheduler;
    pthread_mutex_lock(&s->mutex);
    rt->is_done = true;
    s->is_woken = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mutex);
    return NULL;
}

typedef struct run_interval {
    int64_t start_us;
    int64_t end_us;
} run_interval;

static int keep_interval(void *context, const sl_meta_run *run)
{
    run_interval *interval = context;
    interval->start_us = run->data_interval_start_us;
    interval->end_us = run->data_interval_end_us;
    return SL_OK;
}

/* Fails a claimed try that this server cannot run, saying why in its log. */
static int refuse_try(sl_scheduler *s, int64_t id, const char *why, sl_error *err)
{
    sl_warn("scheduler", "task instance %" PRId64 ": %s", id, why);
    int rc = sl_metadata_ti_set_log(s->store, id, NULL, why, strlen(why), err);
    bool changed;
    if (rc == SL_OK) rc = sl__scheduler_set_ti(s, id, SL_META_TI_QUEUED, SL_META_TI_FAILED, &changed, err);
    return rc;
}

static int start_try(sl_scheduler *s, int64_t id, sl_error *err)
{
    ti_detail detail = { 0 };
    int rc = sl_metadata_ti_get(s->store, id, keep_ti, &detail, err);
    if (rc) return rc;
    const sl_dag *dag = sl_dag_set_find(s->current->dags, detail.dag_id);
    size_t index = dag ? sl_dag_task_index(dag, detail.task_id) : (size_t)-1;
    if (index == (size_t)-1) {
        char why[700];
        snprintf(why, sizeof why, "dag %s task %s is not in this server's file", detail.dag_id, detail.task_id);
        return refuse_try(s, id, why, err);
    }
    run_interval interval = { 0 };
    rc = sl_metadata_run_get(s->store, detail.run, keep_interval, &interval, err);
    if (rc) return rc;
    running_try *rt = calloc(1, sizeof *rt);
    if (!rt) return sl_error_set(err, SL_ENOMEM, "out of memory");
    rt->scheduler = s;
    rt->ti_id = id;
    rt->run_row = detail.run;
    snprintf(rt->dag_id, sizeof rt->dag_id, "%s", detail.dag_id);
    snprintf(rt->task_id, sizeof rt->task_id, "%s", detail.task_id);
    snprintf(rt->run_id, sizeof rt->run_id, "%s", detail.run_id);
    if (sl_task_log_path(s->data_dir, detail.dag_id, detail.run_id, detail.task_id, detail.try_number, rt->log_path,
                         sizeof rt->log_path)) {
        free(rt);
        return refuse_try(s, id, "its log's path is too long", err);
    }
    snprintf(rt->pid_path, sizeof rt->pid_path, "%s/running/%" PRId64 ".pid", s->data_dir, id);
    bool changed;
    rc = sl__scheduler_set_ti(s, id, SL_META_TI_QUEUED, SL_META_TI_RUNNING, &changed, err);
    if (rc == SL_OK && changed) rc = sl_metadata_ti_set_log(s->store, id, rt->log_path, "", 0, err);
    if (rc || !changed) {
        free(rt);
        return rc;
    }
    const sl_dag_task *task = &dag->tasks[index];
    rt->gen = s->current;
    atomic_fetch_add(&rt->gen->refs, 1);
    atomic_init(&rt->cancel, false);
    rt->deadline_ms = task->timeout_ms > 0 ? sl_clock_monotonic_ms() + task->timeout_ms : 0;
    rt->try_ = (sl_task_try){
        .plan = rt->gen->plan,
        .dag = dag,
        .task = task,
        .log = s->log,
        .run_id = rt->run_id,
        .data_interval_start_us = interval.start_us,
        .data_interval_end_us = interval.end_us,
        .try_number = detail.try_number,
        .max_tries = detail.max_tries,
        .log_path = rt->log_path,
        .pid_path = rt->pid_path,
        .cancel = &rt->cancel,
        .control = s->control,
        .control_context = s->control_context,
    };
    if (pthread_create(&rt->thread, NULL, try_main, rt) != 0) {
        sl__generation_release(rt->gen);
        free(rt);
        bool ignored;
        sl__scheduler_set_ti(s, id, SL_META_TI_RUNNING, SL_META_TI_UP_FOR_RETRY, &ignored, err);
        return sl_error_set(err, SL_ENOMEM, "dag %s task %s: cannot start a thread", detail.dag_id, detail.task_id);
    }
    sl_info("scheduler", "dag %s run %s task %s: try %d of %d started", detail.dag_id, detail.run_id, detail.task_id,
            detail.try_number, detail.max_tries);
    rt->next = s->running;
    s->running = rt;
    s->n_running++;
    return SL_OK;
}

int sl__scheduler_claim_tries(sl_scheduler *s, sl_error *err)
{
    if (s->n_running >= SL_SCHEDULER_MAX_RUNNING) return SL_OK;
    int64_t ids[SL_SCHEDULER_MAX_RUNNING];
    size_t n = 0, room = SL_SCHEDULER_MAX_RUNNING - s->n_running;
    int rc = s->only_run ? sl_metadata_ti_claim_run(s->store, s->server_id, s->only_run, ids, room, &n, err)
                         : sl_metadata_ti_claim(s->store, s->server_id, ids, room, &n, err);
    for (size_t i = 0; i < n && rc == SL_OK; i++) rc = start_try(s, ids[i], err);
    return rc;
}

/* Records how a try ended: its log, then its state. SL_OK once recorded;
 * an error leaves it to be recorded on the next pass. */
static int record_try(sl_scheduler *s, running_try *rt, sl_error *err)
{
    if (!rt->is_joined) {
        pthread_join(rt->thread, NULL);
        rt->is_joined = true;
        if (rt->cancel_reason[0]) {
            FILE *log = fopen(rt->log_path, "a");
            if (log) {
                char now[SL_TIME_ISO_MAX];
                sl_time_format_iso(sl_clock_wall_us(), now);
                fprintf(log, "[%s] cancelled: %s\n", now, rt->cancel_reason);
                fclose(log);
            }
            char summary[sizeof rt->outcome.summary];
            snprintf(summary, sizeof summary, "%.200s (%.300s)", rt->cancel_reason, rt->outcome.summary);
            memcpy(rt->outcome.summary, summary, sizeof summary);
            rt->outcome.is_success = false;
        }
    }
    const sl_task_outcome *outcome = &rt->outcome;
    sl_meta_ti_state state = outcome->is_success ? SL_META_TI_SUCCESS
                             : !rt->is_final && rt->try_.try_number < rt->try_.max_tries ? SL_META_TI_UP_FOR_RETRY
                                                                                        : SL_META_TI_FAILED;
    int rc = sl_metadata_ti_set_log_file(s->store, rt->ti_id, rt->log_path, err);
    bool changed = false;
    if (rc == SL_OK)
        rc = sl_metadata_ti_set_state(s->store, rt->ti_id, SL_META_TI_RUNNING, state,
                                      outcome->has_exit_status ? &outcome->exit_status : NULL, &changed, err);
    if (rc) return rc;
    if (!changed && rt->is_marked)
        sl_info("scheduler", "dag %s run %s task %s: try %d ended (%s); its mark stands", rt->dag_id, rt->run_id,
                rt->task_id, rt->try_.try_number, outcome->summary);
    else if (changed)
        sl_info("scheduler", "dag %s run %s task %s: try %d %s: %s", rt->dag_id, rt->run_id, rt->task_id,
                rt->try_.try_number, sl_meta_ti_state_name(state), outcome->summary);
    else
        sl_warn("scheduler", "dag %s run %s task %s: try %d ended (%s) but its row had been moved on (the server "
                "was taken for dead?)", rt->dag_id, rt->run_id, rt->task_id, rt->try_.try_number, outcome->summary);
    return SL_OK;
}

/* Records the tries that ended, cancels those past their timeout. */
int sl__scheduler_reap_tries(sl_scheduler *s, sl_error *err)
{
    int64_t now_ms = sl_clock_monotonic_ms();
    int rc = SL_OK;
    for (running_try **at = &s->running; *at;) {
        running_try *rt = *at;
        pthread_mutex_lock(&s->mutex);
        bool is_done = rt->is_done;
        pthread_mutex_unlock(&s->mutex);
        if (!is_done && !atomic_load(&rt->cancel) && rc == SL_OK) rc = cancel_if_marked(s, rt, err);
        if (!is_done) {
            if (rt->deadline_ms && now_ms >= rt->deadline_ms && !atomic_load(&rt->cancel)) {
                snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "timed out after %" PRId64 " s (timeout)",
                         rt->try_.task->timeout_ms / 1000);
                atomic_store(&rt->cancel, true);
            } else if (rt->deadline_ms && !atomic_load(&rt->cancel)) {
                sl__scheduler_wake_at(s, sl_clock_wall_us() + (rt->deadline_ms - now_ms) * 1000);
            }
            at = &rt->next;
            continue;
        }
        if (rc == SL_OK) rc = record_try(s, rt, err);
        if (rc) {
            at = &rt->next;
            continue;
        }
        *at = rt->next;
        s->n_running--;
        sl__generation_release(rt->gen);
        free(rt);
    }
    return rc;
}

/* Cancels what runs here and records each try as it ends. */
void sl__scheduler_drain_tries(sl_scheduler *s)
{
    for (running_try *rt = s->running; rt; rt = rt->next) {
        if (atomic_load(&rt->cancel)) continue;
        snprintf(rt->cancel_reason, sizeof rt->cancel_reason, "the server stopped");
        atomic_store(&rt->cancel, true);
    }
    int64_t give_up = sl_clock_monotonic_ms() + 60000;
    while (s->running) {
        sl_error err;
        sl_error_clear(&err);
        if (sl__scheduler_reap_tries(s, &err) && sl_clock_monotonic_ms() > give_up) {
            sl__scheduler_report(s, "recording the tries cancelled at stop", &err);
            break;
        }
        if (s->running) sl_sleep_ms(20);
    }
    while (s->running) {   /* not recorded: the store is gone; another server's reaper will see them */
        running_try *rt = s->running;
        s->running = rt->next;
        if (!rt->is_joined) pthread_join(rt->thread, NULL);
        sl__generation_release(rt->gen);
        free(rt);
    }
}


int sl__scheduler_kill_orphans(sl_scheduler *s, sl_error *err)
{
    char dir_path[LOG_PATH_MAX];
    snprintf(dir_path, sizeof dir_path, "%s/running", s->data_dir);
    if (mkdir(dir_path, 0755) != 0 && errno != EEXIST)
        return sl_error_set(err, SL_EIO, "%s: cannot create it: %s", dir_path, strerror(errno));
    DIR *dir = opendir(dir_path);
    if (!dir) return sl_error_set(err, SL_EIO, "%s: cannot read it: %s", dir_path, strerror(errno));
    int rc = SL_OK;
    struct dirent *entry;
    while (rc == SL_OK && (entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 5 || strcmp(entry->d_name + len - 4, ".pid") != 0) continue;
        char path[LOG_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
        bool killed = false;
        rc = sl_command_kill_orphan(path, &killed, err);
        if (rc == SL_OK && killed)
            sl_warn("scheduler", "killed what task instance %.*s left running when its server died (%s)",
                    (int)(len - 4), entry->d_name, path);
    }
    closedir(dir);
    return rc;
}
