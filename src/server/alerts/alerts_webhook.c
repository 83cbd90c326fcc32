/* alerts_webhook.c — the notification sender (see alerts_webhook.h): a
 * FIFO of owned notices under one mutex, one thread taking them in order
 * and POSTing each with a libcurl easy handle, retrying transient failures
 * with exponential backoff. The backoff waits on the queue's condition
 * variable, so a stop is never held up by a receiver that is down.
 *
 * Transient or not is decided here, by libcurl's result and the status:
 * a transport failure (refused, reset, unresolved, timed out) or a 5xx or
 * 429 answer may go better later; any other non-2xx answer will not.
 */
#include "server/alerts/alerts_webhook.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/logger.h"

typedef struct notice {
    char *receiver;
    char *rule;
    bool is_firing;
    char *url;
    char *shown_url;              /* for logs, a user:password@ as ***@ */
    struct curl_slist *headers;   /* Content-Type and the webhook's */
    char *shown_headers;          /* for logs, secrets as *** */
    char *payload;
    size_t payload_len;
    int64_t timeout_ms, retries, retry_delay_ms, max_retry_delay_ms;
    struct notice *next;
} notice;

struct sl_webhook_sender {
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t mutex;        /* guards everything below */
    pthread_cond_t changed;
    notice *first, *last;
    size_t n_queued;
    bool is_stopping;
    sl_webhook_counters counters;
    sl_webhook_result_fn result;
    void *context;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void init_curl(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool sl_webhook_header_is_secret(const char *name)
{
    static const char *const exact[] = { "authorization", "proxy-authorization", "cookie", "set-cookie", NULL };
    static const char *const parts[] = { "token", "key", "secret", "password", "auth", NULL };
    for (size_t i = 0; exact[i]; i++)
        if (strcasecmp(name, exact[i]) == 0) return true;
    for (size_t i = 0; parts[i]; i++)
        if (strcasestr(name, parts[i])) return true;
    return false;
}

/* url with the credentials of its authority (user:password@) as ***@. */
char *sl_webhook_url_redact(const char *url)
{
    const char *authority = strstr(url, "://");
    authority = authority ? authority + 3 : url;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at = memchr(authority, '@', authority_len);
    if (!at) return strdup(url);
    /* The last '@' of the authority ends the credentials. */
    for (const char *c = at; c < authority + authority_len; c++)
        if (*c == '@') at = c;
    sl_buffer shown = { 0 };
    int rc = sl_buffer_printf(&shown, "%.*s***%s", (int)(authority - url), url, at);
    if (rc == SL_OK) rc = sl_buffer_append_byte(&shown, '\0');
    if (rc) {
        sl_buffer_free(&shown);
        return NULL;
    }
    return shown.data;
}

static void notice_free(notice *n)
{
    if (!n) return;
    free(n->receiver);
    free(n->rule);
    free(n->url);
    free(n->shown_url);
    curl_slist_free_all(n->headers);
    free(n->shown_headers);
    free(n->payload);
    free(n);
}

static notice *notice_new(const sl_alert_webhook *webhook, const char *rule, bool is_firing, const char *payload,
                          size_t payload_len)
{
    notice *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->receiver = strdup(webhook->name);
    n->rule = strdup(rule);
    n->url = strdup(webhook->url);
    n->shown_url = sl_webhook_url_redact(webhook->url);
    n->payload = malloc(payload_len + 1);
    if (!n->receiver || !n->rule || !n->url || !n->shown_url || !n->payload) goto fail;
    memcpy(n->payload, payload, payload_len);
    n->payload[payload_len] = '\0';
    n->payload_len = payload_len;
    n->is_firing = is_firing;
    n->timeout_ms = webhook->timeout_ms;
    n->retries = webhook->retries;
    n->retry_delay_ms = webhook->retry_delay_ms;
    n->max_retry_delay_ms = webhook->max_retry_delay_ms;
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    if (!list) goto fail;
    n->headers = list;
    sl_buffer shown = { 0 };
    for (size_t i = 0; i < webhook->n_headers; i++) {
        const sl_alert_pair *h = &webhook->headers[i];
        sl_buffer line = { 0 };
        int rc = sl_buffer_printf(&line, "%s: %s", h->name, h->value);
        if (rc == SL_OK) rc = sl_buffer_append_byte(&line, '\0');
        list = rc == SL_OK ? curl_slist_append(n->headers, line.data) : NULL;
        sl_buffer_free(&line);
        if (!list) {
            sl_buffer_free(&shown);
            goto fail;
        }
        n->headers = list;
        if (sl_buffer_printf(&shown, "%s%s: %s", i ? ", " : "", h->name,
                             sl_webhook_header_is_secret(h->name) ? "***" : h->value)) {
            sl_buffer_free(&shown);
            goto fail;
        }
    }
    if (sl_buffer_append_byte(&shown, '\0')) {
        sl_buffer_free(&shown);
        goto fail;
    }
    n->shown_headers = shown.data;
    return n;
fail:
    notice_free(n);
    return NULL;
}

static void report(sl_webhook_sender *sender, const notice *n, const char *status, int attempts)
{
    if (sender->result) sender->result(sender->context, n->rule, n->is_firing, status, attempts, sl_clock_wall_ms());
}

int sl_webhook_sender_post(sl_webhook_sender *sender, const sl_alert_webhook *webhook, const char *rule,
                           bool is_firing, const char *payload, size_t payload_len)
{
    notice *n = notice_new(webhook, rule, is_firing, payload, payload_len);
    if (!n) return SL_ENOMEM;
    pthread_mutex_lock(&sender->mutex);
    bool is_full = sender->n_queued >= SL_WEBHOOK_QUEUE_MAX || sender->is_stopping;
    if (is_full) {
        sender->counters.dropped++;
    } else {
        if (sender->last) sender->last->next = n;
        else sender->first = n;
        sender->last = n;
        sender->n_queued++;
        pthread_cond_broadcast(&sender->changed);
    }
    pthread_mutex_unlock(&sender->mutex);
    if (!is_full) return SL_OK;
    sl_warn("alerts", "webhook %s: %s notice of %s dropped: %d notices wait already", n->receiver,
            is_firing ? "firing" : "resolved", rule, SL_WEBHOOK_QUEUE_MAX);
    report(sender, n, "dropped: the queue is full", 0);
    notice_free(n);
    return SL_EAGAIN;
}

static size_t discard_body(char *data, size_t size, size_t count, void *context)
{
    (void)data;
    (void)context;
    return size * count;
}

/* One POST. SL_OK for a 2xx; else why in detail and whether a retry may help. */
static int attempt(CURL *curl, const notice *n, char *detail, size_t size, bool *is_transient)
{
    curl_easy_reset(curl);
    char curl_error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, n->url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, n->payload);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)n->payload_len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, n->headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)n->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sluice-alerts");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        snprintf(detail, size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(code));
        /* Bad options, a malformed URL or an unsupported protocol stay so. */
        *is_transient = code != CURLE_URL_MALFORMAT && code != CURLE_UNSUPPORTED_PROTOCOL &&
                        code != CURLE_OUT_OF_MEMORY;
        return SL_EIO;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        snprintf(detail, size, "HTTP %ld", status);
        return SL_OK;
    }
    snprintf(detail, size, "HTTP %ld", status);
    *is_transient = status >= 500 || status == 429;
    return SL_EIO;
}

/* Waits ms unless the sender stops first; false when it stops. Called
 * with the mutex held. */
static bool wait_unless_stopping(sl_webhook_sender *sender, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!sender->is_stopping)
        if (pthread_cond_timedwait(&sender->changed, &sender->mutex, &until) != 0) break;
    return !sender->is_stopping;
}

static void deliver(sl_webhook_sender *sender, CURL *curl, const notice *n)
{
    const char *what = n->is_firing ? "firing" : "resolved";
    int64_t delay_ms = n->retry_delay_ms;
    char detail[CURL_ERROR_SIZE + 64];
    for (int tries = 1;; tries++) {
        bool is_transient = false;
        int rc = attempt(curl, n, detail, sizeof detail, &is_transient);
        if (rc == SL_OK) {
            sl_info("alerts", "webhook %s: %s notice of %s sent to %s (%s, try %d; headers: %s)", n->receiver, what,
                    n->rule, n->shown_url, detail, tries, n->shown_headers[0] ? n->shown_headers : "none");
            pthread_mutex_lock(&sender->mutex);
            sender->counters.sent++;
            pthread_mutex_unlock(&sender->mutex);
            report(sender, n, "sent", tries);
            return;
        }
        bool is_last = !is_transient || tries > n->retries;
        if (is_last) {
            sl_warn("alerts", "webhook %s: %s notice of %s to %s not sent: %s (%s, try %d of %lld; headers: %s)",
                    n->receiver, what, n->rule, n->shown_url, detail, is_transient ? "transient" : "permanent", tries,
                    (long long)n->retries + 1, n->shown_headers[0] ? n->shown_headers : "none");
            pthread_mutex_lock(&sender->mutex);
            sender->counters.failed++;
            pthread_mutex_unlock(&sender->mutex);
            char status[sizeof detail + 16];
            snprintf(status, sizeof status, "failed: %s", detail);
            report(sender, n, status, tries);
            return;
        }
        sl_info("alerts", "webhook %s: %s notice of %s to %s: %s; try %d of %lld in %lld ms", n->receiver, what,
                n->rule, n->shown_url, detail, tries + 1, (long long)n->retries + 1, (long long)delay_ms);
        pthread_mutex_lock(&sender->mutex);
        sender->counters.retried++;
        bool goes_on = wait_unless_stopping(sender, delay_ms);
        pthread_mutex_unlock(&sender->mutex);
        if (!goes_on) {
            report(sender, n, "failed: the server stopped before a retry", tries);
            return;
        }
        delay_ms = delay_ms * 2 > n->max_retry_delay_ms ? n->max_retry_delay_ms : delay_ms * 2;
    }
}

static void *sender_main(void *arg)
{
    sl_webhook_sender *sender = arg;
    CURL *curl = curl_easy_init();
    pthread_mutex_lock(&sender->mutex);
    for (;;) {
        while (!sender->first && !sender->is_stopping) pthread_cond_wait(&sender->changed, &sender->mutex);
        if (sender->is_stopping) break;
        notice *n = sender->first;
        sender->first = n->next;
        if (!sender->first) sender->last = NULL;
        sender->n_queued--;
        pthread_mutex_unlock(&sender->mutex);
        if (curl) {
            deliver(sender, curl, n);
        } else {
            sl_error_log("alerts", "webhook %s: notice of %s not sent: libcurl could not start", n->receiver, n->rule);
            report(sender, n, "failed: libcurl could not start", 0);
        }
        notice_free(n);
        pthread_mutex_lock(&sender->mutex);
    }
    pthread_mutex_unlock(&sender->mutex);
    curl_easy_cleanup(curl);
    return NULL;
}

int sl_webhook_sender_start(sl_webhook_result_fn result, void *context, sl_webhook_sender **out, sl_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK) return sl_error_set(err, SL_EIO, "alerts: libcurl could not start");
    sl_webhook_sender *sender = calloc(1, sizeof *sender);
    if (!sender) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sender->result = result;
    sender->context = context;
    pthread_mutex_init(&sender->mutex, NULL);
    pthread_cond_init(&sender->changed, NULL);
    if (pthread_create(&sender->thread, NULL, sender_main, sender) != 0) {
        sl_webhook_sender_stop(sender);
        return sl_error_set(err, SL_EIO, "alerts: the webhook sender thread could not start");
    }
    sender->has_thread = true;
    *out = sender;
    return SL_OK;
}

void sl_webhook_sender_counters(sl_webhook_sender *sender, sl_webhook_counters *out)
{
    pthread_mutex_lock(&sender->mutex);
    *out = sender->counters;
    out->queued = sender->n_queued;
    pthread_mutex_unlock(&sender->mutex);
}

void sl_webhook_sender_stop(sl_webhook_sender *sender)
{
    if (!sender) return;
    pthread_mutex_lock(&sender->mutex);
    sender->is_stopping = true;
    pthread_cond_broadcast(&sender->changed);
    pthread_mutex_unlock(&sender->mutex);
    if (sender->has_thread) pthread_join(sender->thread, NULL);
    if (sender->n_queued)
        sl_warn("alerts", "%zu webhook notices not sent: the server stops", sender->n_queued);
    for (notice *n = sender->first; n;) {
        notice *next = n->next;
        notice_free(n);
        n = next;
    }
    pthread_mutex_destroy(&sender->mutex);
    pthread_cond_destroy(&sender->changed);
    free(sender);
}
