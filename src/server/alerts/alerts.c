/* alerts.c — the evaluator thread of `sluice server` (see alerts.h).
 *
 * One round: gather the metric set and read the DAG facts without the
 * lock (they may take a while: a PostgreSQL store far away), then, under
 * the lock, evaluate and turn each event into one payload per webhook the
 * rule notifies; the payloads are handed to the sender after the lock is
 * released (the sender's result callback takes the lock). Only this
 * thread changes the rules (a reload's plan is picked up at the top of a
 * round), so reading them outside the lock is safe; HTTP handlers read
 * states under the lock. A reload resolves the firing alerts of the rules
 * it changes or removes, so a receiver never waits for ever on them.
 */
#include "server/alerts/alerts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/logger.h"
#include "metadata/metadata.h"
#include "runtime/plan_alerts.h"
#include "server/alerts/alerts_json.h"
#include "server/alerts/alerts_rules.h"
#include "server/alerts/alerts_webhook.h"
#include "server/api_params.h"

#define RUNS_LOOKED_AT 50

/* A payload made under the lock, posted after it. */
typedef struct outgoing {
    const sl_alert_webhook *webhook;
    const char *rule;
    bool is_firing;
    sl_buffer payload;
} outgoing;

struct sl_alerts {
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t mutex;          /* guards everything below but the store */
    pthread_cond_t changed;
    bool is_stopping;
    sl_plan *plan;                  /* the rules evaluated (retained); NULL before the first apply */
    sl_plan *next_plan;             /* handed over by a reload, taken by the thread */
    sl_alert_engine *engine;
    sl_alert_note *notes;           /* per rule of plan */
    char *url;
    char *metadata;
    sl_metadata *store;             /* the thread's own connection; opened when a DAG rule needs it */
    sl_alerts_gather_fn gather;
    void *gather_context;
    sl_webhook_sender *sender;
    bool has_logged_gather_error;
};

static const sl_alerts_conf *conf_of(const sl_plan *plan)
{
    return plan ? plan->alerts : NULL;
}

static size_t rule_index(const sl_alerts_conf *conf, const char *name)
{
    for (size_t i = 0; conf && i < conf->n_rules; i++)
        if (strcmp(conf->rules[i].name, name) == 0) return i;
    return (size_t)-1;
}

/* The sender's callback: the last notice of a rule's alert. */
static void on_result(void *context, const char *rule, bool is_firing, const char *status, int attempts, int64_t at_ms)
{
    sl_alerts *alerts = context;
    pthread_mutex_lock(&alerts->mutex);
    size_t i = rule_index(conf_of(alerts->plan), rule);
    if (i != (size_t)-1) {
        sl_alert_note *note = &alerts->notes[i];
        note->is_set = true;
        note->is_firing = is_firing;
        note->at_ms = at_ms;
        note->attempts = attempts;
        snprintf(note->status, sizeof note->status, "%s", status);
    }
    pthread_mutex_unlock(&alerts->mutex);
}

/* Takes next_plan (under the lock): the engine keeps unchanged rules'
 * states, notes follow their rules by name. */
static void take_next_plan(sl_alerts *alerts)
{
    sl_plan *plan = alerts->next_plan;
    alerts->next_plan = NULL;
    const sl_alerts_conf *conf = conf_of(plan), *old_conf = conf_of(alerts->plan);
    size_t n = conf ? conf->n_rules : 0;
    sl_alert_note *notes = n ? calloc(n, sizeof *notes) : NULL;
    if ((n && !notes) || sl_alert_engine_apply(alerts->engine, conf) != SL_OK) {
        free(notes);
        sl_error_log("alerts", "out of memory: the alert rules stay as they were");
        sl_plan_free(plan);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t old = rule_index(old_conf, conf->rules[i].name);
        if (old != (size_t)-1) notes[i] = alerts->notes[old];
    }
    free(alerts->notes);
    alerts->notes = notes;
    sl_plan_free(alerts->plan);
    alerts->plan = plan;
    if (n) sl_info("alerts", "%zu alert rules, evaluated every %lld ms, %zu webhooks", n,
                   (long long)conf->interval_ms, conf->n_webhooks);
}

/* The payloads of one event, one per webhook the rule notifies, into
 * posts (room for conf->n_webhooks); how many. Called with the lock held:
 * the alert's note says the notice is queued. */
static size_t make_posts(sl_alerts *alerts, const sl_alerts_conf *conf, size_t rule_index, const sl_alert_status *status,
                         bool is_firing, int64_t now_ms, outgoing *posts)
{
    const sl_alert_rule *rule = &conf->rules[rule_index];
    size_t n = 0;
    for (size_t w = 0; w < conf->n_webhooks; w++) {
        const sl_alert_webhook *webhook = &conf->webhooks[w];
        if (rule->webhook >= 0 && (size_t)rule->webhook != w) continue;
        if (!is_firing && !webhook->send_resolved) continue;
        outgoing *post = &posts[n];
        *post = (outgoing){ webhook, rule->name, is_firing, { 0 } };
        if (sl_alert_payload_write(&post->payload, webhook->name, rule, status, is_firing,
                                   alerts->url ? alerts->url : "", now_ms) != SL_OK) {
            sl_buffer_free(&post->payload);
            sl_error_log("alerts", "out of memory: the notice of %s to %s is lost", rule->name, webhook->name);
            continue;
        }
        n++;
        sl_alert_note *note = &alerts->notes[rule_index];
        *note = (sl_alert_note){ .is_set = true, .is_firing = is_firing, .at_ms = now_ms };
        snprintf(note->status, sizeof note->status, "queued");
    }
    return n;
}

/* Hands the payloads to the sender (without the lock: its callback takes
 * it) and frees them. A full queue or no memory is logged, counted and
 * reported by the sender. */
static void send_posts(sl_alerts *alerts, outgoing *posts, size_t n)
{
    for (size_t p = 0; p < n; p++) {
        (void)sl_webhook_sender_post(alerts->sender, posts[p].webhook, posts[p].rule, posts[p].is_firing,
                                     posts[p].payload.data, posts[p].payload.len);
        sl_buffer_free(&posts[p].payload);
    }
}

/* A reload: the firing alerts of rules that go away or change resolve
 * (their receivers would otherwise wait for ever), then next_plan is
 * taken. Called with the lock held; releases it while sending. */
static void reload(sl_alerts *alerts)
{
    sl_plan *old_plan = alerts->plan ? sl_plan_retain(alerts->plan) : NULL;
    const sl_alerts_conf *old = conf_of(old_plan), *conf = conf_of(alerts->next_plan);
    size_t n_old = old ? old->n_rules : 0, n_posts = 0;
    outgoing *posts = n_old && old->n_webhooks ? calloc(n_old * old->n_webhooks, sizeof *posts) : NULL;
    int64_t now_ms = sl_clock_wall_ms();
    for (size_t i = 0; i < n_old && posts; i++) {
        const sl_alert_status *status = sl_alert_engine_status(alerts->engine, i);
        if (status->state != SL_ALERT_FIRING) continue;
        bool is_kept = false;
        for (size_t j = 0; conf && j < conf->n_rules; j++)
            is_kept |= strcmp(conf->rules[j].name, old->rules[i].name) == 0 &&
                       conf->rules[j].fingerprint == old->rules[i].fingerprint;
        if (is_kept) continue;
        sl_info("alerts", "%s resolved: its rule was changed or removed by a reload", old->rules[i].name);
        sl_alert_status resolved = *status;
        resolved.resolved_at_ms = now_ms;
        n_posts += make_posts(alerts, old, i, &resolved, false, now_ms, posts + n_posts);
    }
    take_next_plan(alerts);
    pthread_mutex_unlock(&alerts->mutex);
    send_posts(alerts, posts, n_posts);   /* the webhooks are the old plan's, still retained */
    free(posts);
    sl_plan_free(old_plan);
    pthread_mutex_lock(&alerts->mutex);
}

/* ---- DAG facts ---- */

typedef struct run_search {
    const sl_alert_rule *rule;
    int64_t cutoff_us;          /* dag_late: runs whose interval ended before this */
    sl_alert_fact *fact;
} run_search;

enum { FOUND = 1 };

static int look_at_run(void *context, const sl_meta_run *run)
{
    run_search *search = context;
    if (search->rule->kind == SL_ALERT_DAG_FAILED) {
        if (run->state != SL_META_RUN_SUCCESS && run->state != SL_META_RUN_FAILED) return SL_OK;
        search->fact->is_true = run->state == SL_META_RUN_FAILED;
    } else {
        if (run->data_interval_end_us > search->cutoff_us) return SL_OK;
        search->fact->is_true = run->state != SL_META_RUN_SUCCESS;
    }
    snprintf(search->fact->run_id, sizeof search->fact->run_id, "%s", run->run_id);
    return FOUND;
}

static void read_fact(sl_alerts *alerts, const sl_alert_rule *rule, int64_t now_ms, sl_alert_fact *fact)
{
    *fact = (sl_alert_fact){ 0 };
    sl_error err;
    sl_error_clear(&err);
    if (!alerts->store && sl_metadata_open(alerts->metadata, &alerts->store, &err) != SL_OK) {
        sl_warn("alerts", "rule %s: the metadata store cannot be read: %s", rule->name, err.message);
        return;
    }
    run_search search = { rule, (now_ms - rule->after_ms) * 1000, fact };
    sl_meta_run_cursor next;
    int rc = sl_metadata_run_list(alerts->store, rule->target, NULL, RUNS_LOOKED_AT, look_at_run, &search, &next, &err);
    if (rc == SL_OK || rc == FOUND) {
        fact->is_known = true;
        return;
    }
    sl_warn("alerts", "rule %s: the runs of DAG %s cannot be read: %s", rule->name, rule->target, err.message);
    sl_metadata_close(alerts->store);   /* opened again next round */
    alerts->store = NULL;
}

/* ---- one round ---- */

static void evaluate(sl_alerts *alerts, const sl_alerts_conf *conf)
{
    int64_t now_ms = sl_clock_wall_ms();
    sl_metric_set *set = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (alerts->gather(alerts->gather_context, &set, &err) != SL_OK) {
        if (!alerts->has_logged_gather_error)
            sl_warn("alerts", "metrics could not be gathered (rules over them see no data): %s", err.message);
        alerts->has_logged_gather_error = true;
        set = NULL;
    } else {
        alerts->has_logged_gather_error = false;
    }
    sl_alert_fact *facts = calloc(conf->n_rules, sizeof *facts);
    sl_alert_event *events = calloc(conf->n_rules, sizeof *events);
    outgoing *posts = calloc(conf->n_rules * (conf->n_webhooks ? conf->n_webhooks : 1), sizeof *posts);
    size_t n_posts = 0, n_events = 0;
    if (!facts || !events || !posts) {
        sl_error_log("alerts", "out of memory: a round of alert rules skipped");
        goto done;
    }
    for (size_t i = 0; i < conf->n_rules; i++)
        if (conf->rules[i].kind == SL_ALERT_DAG_FAILED || conf->rules[i].kind == SL_ALERT_DAG_LATE)
            read_fact(alerts, &conf->rules[i], now_ms, &facts[i]);

    pthread_mutex_lock(&alerts->mutex);
    if (sl_alert_engine_eval(alerts->engine, set, facts, now_ms, events, &n_events) != SL_OK)
        sl_error_log("alerts", "out of memory while evaluating: some rules kept their state");
    for (size_t e = 0; e < n_events; e++) {
        const sl_alert_rule *rule = &conf->rules[events[e].rule];
        const sl_alert_status *status = sl_alert_engine_status(alerts->engine, events[e].rule);
        char summary[600];
        sl_alert_summary(rule, status, summary, sizeof summary);
        sl_info("alerts", "%s %s: %s", rule->name, events[e].is_firing ? "fires" : "resolved", summary);
        n_posts += make_posts(alerts, conf, events[e].rule, status, events[e].is_firing, now_ms, posts + n_posts);
    }
    pthread_mutex_unlock(&alerts->mutex);
    send_posts(alerts, posts, n_posts);
done:
    free(posts);
    free(events);
    free(facts);
    sl_metric_set_free(set);
}

/* Waits up to ms (or for ever when ms < 0) unless something changes.
 * Called with the lock held. */
static void wait_for(sl_alerts *alerts, int64_t ms)
{
    if (ms < 0) {
        pthread_cond_wait(&alerts->changed, &alerts->mutex);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&alerts->changed, &alerts->mutex, &until);
}

static void *evaluator_main(void *arg)
{
    sl_alerts *alerts = arg;
    int64_t next_round_ms = 0;
    pthread_mutex_lock(&alerts->mutex);
    while (!alerts->is_stopping) {
        if (alerts->next_plan) reload(alerts);
        const sl_alerts_conf *conf = conf_of(alerts->plan);
        if (!conf || conf->n_rules == 0) {
            wait_for(alerts, -1);
            continue;
        }
        int64_t now_ms = sl_clock_monotonic_ms();
        /* The first round comes one interval after the start, as
         * Prometheus's does: pipelines still starting are not down. A
         * reload keeps the rounds' pace. */
        if (next_round_ms == 0) next_round_ms = now_ms + conf->interval_ms;
        if (now_ms < next_round_ms) {
            wait_for(alerts, next_round_ms - now_ms);
            continue;
        }
        next_round_ms = now_ms + conf->interval_ms;
        pthread_mutex_unlock(&alerts->mutex);
        evaluate(alerts, conf);
        pthread_mutex_lock(&alerts->mutex);
    }
    pthread_mutex_unlock(&alerts->mutex);
    return NULL;
}

int sl_alerts_start(sl_plan *plan, const sl_alerts_options *options, sl_alerts **out, sl_error *err)
{
    *out = NULL;
    sl_alerts *alerts = calloc(1, sizeof *alerts);
    if (!alerts) return sl_error_set(err, SL_ENOMEM, "out of memory");
    pthread_mutex_init(&alerts->mutex, NULL);
    pthread_cond_init(&alerts->changed, NULL);
    alerts->gather = options->gather;
    alerts->gather_context = options->gather_context;
    alerts->metadata = strdup(options->metadata);
    alerts->engine = sl_alert_engine_new();
    int rc = alerts->metadata && alerts->engine ? SL_OK : sl_error_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK) rc = sl_webhook_sender_start(on_result, alerts, &alerts->sender, err);
    if (rc) goto fail;
    alerts->next_plan = sl_plan_retain(plan);
    if (pthread_create(&alerts->thread, NULL, evaluator_main, alerts) != 0) {
        rc = sl_error_set(err, SL_EIO, "alerts: the evaluator thread could not start");
        goto fail;
    }
    alerts->has_thread = true;
    *out = alerts;
    return SL_OK;
fail:
    sl_alerts_stop(alerts);
    return rc;
}

void sl_alerts_set_url(sl_alerts *alerts, const char *url)
{
    char *copy = strdup(url);
    pthread_mutex_lock(&alerts->mutex);
    free(alerts->url);
    alerts->url = copy;
    pthread_mutex_unlock(&alerts->mutex);
}

void sl_alerts_apply(sl_alerts *alerts, sl_plan *plan)
{
    sl_plan_retain(plan);
    pthread_mutex_lock(&alerts->mutex);
    sl_plan *replaced = alerts->next_plan;
    alerts->next_plan = plan;
    pthread_cond_broadcast(&alerts->changed);
    pthread_mutex_unlock(&alerts->mutex);
    sl_plan_free(replaced);
}

int sl_alerts_write_json(sl_alerts *alerts, int state, const char *after, size_t limit, sl_buffer *out)
{
    sl_webhook_counters counters;
    sl_webhook_sender_counters(alerts->sender, &counters);
    pthread_mutex_lock(&alerts->mutex);
    const sl_alerts_conf *conf = conf_of(alerts->plan);
    size_t n_rules = conf ? conf->n_rules : 0, n_chosen = 0, n_page = 0, *page = NULL;
    const char **names = calloc(n_rules ? n_rules : 1, sizeof *names);
    size_t *rule_of = calloc(n_rules ? n_rules : 1, sizeof *rule_of);
    char next_after[256];
    int rc = names && rule_of ? SL_OK : SL_ENOMEM;
    for (size_t i = 0; i < n_rules && rc == SL_OK; i++) {
        const sl_alert_status *status = sl_alert_engine_status(alerts->engine, i);
        if (state >= 0 && (int)status->state != state) continue;
        names[n_chosen] = conf->rules[i].name;
        rule_of[n_chosen++] = i;
    }
    if (rc == SL_OK) rc = sl_api_page_by_name(names, n_chosen, after, limit, &page, &n_page, next_after, sizeof next_after);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(out, "{\"alerts\":[");
    for (size_t p = 0; p < n_page && rc == SL_OK; p++) {
        size_t i = rule_of[page[p]];
        if (p) rc = sl_buffer_append_byte(out, ',');
        if (rc == SL_OK)
            rc = sl_alert_entry_write(out, &conf->rules[i], sl_alert_engine_status(alerts->engine, i), &alerts->notes[i],
                                      conf);
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(out, ']');
    if (rc == SL_OK) rc = sl_api_write_next_cursor(out, 'a', next_after);
    free(names);
    free(rule_of);
    free(page);
    if (rc == SL_OK)
        rc = sl_buffer_printf(out, ",\"interval_s\":%g,\"notifications\":{\"sent\":%llu,\"failed\":%llu,"
                              "\"retried\":%llu,\"dropped\":%llu,\"queued\":%zu}}\n",
                              conf ? (double)conf->interval_ms / 1000.0 : 0.0, (unsigned long long)counters.sent,
                              (unsigned long long)counters.failed, (unsigned long long)counters.retried,
                              (unsigned long long)counters.dropped, counters.queued);
    pthread_mutex_unlock(&alerts->mutex);
    return rc;
}

void sl_alerts_stop(sl_alerts *alerts)
{
    if (!alerts) return;
    pthread_mutex_lock(&alerts->mutex);
    alerts->is_stopping = true;
    pthread_cond_broadcast(&alerts->changed);
    pthread_mutex_unlock(&alerts->mutex);
    if (alerts->has_thread) pthread_join(alerts->thread, NULL);
    sl_webhook_sender_stop(alerts->sender);
    sl_metadata_close(alerts->store);
    sl_alert_engine_free(alerts->engine);
    free(alerts->notes);
    sl_plan_free(alerts->plan);
    sl_plan_free(alerts->next_plan);
    free(alerts->url);
    free(alerts->metadata);
    pthread_mutex_destroy(&alerts->mutex);
    pthread_cond_destroy(&alerts->changed);
    free(alerts);
}
