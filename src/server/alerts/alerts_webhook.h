/* alerts_webhook.h — the sender of alert notifications: one thread that
 * POSTs JSON payloads to webhooks with libcurl, so that neither the
 * evaluator nor HTTP handlers ever wait on a receiver.
 *
 * Notices wait in a bounded queue (a full queue drops the new notice,
 * counted and logged). Each is tried, then retried after retry_delay
 * doubled each time up to max_retry_delay, at most `retries` more times,
 * when the failure is transient: no connection, a timeout or another
 * transport error, a 5xx or 429 answer. Any other answer outside 2xx is
 * final. Every outcome is logged, header values that carry secrets
 * (Authorization, Cookie, names with token, key, secret, password, auth)
 * and a URL's user:password@ shown as ***, and counted; the result goes back through a callback.
 *
 * A notice owns copies of everything it needs, so a reload may drop its
 * webhook's config while it waits. Stopping drops the notices still
 * queued (logged with their count) and interrupts a retry's wait.
 */
#ifndef SL_ALERTS_WEBHOOK_H
#define SL_ALERTS_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "runtime/plan_alerts.h"

#define SL_WEBHOOK_QUEUE_MAX 256

typedef struct sl_webhook_counters {
    uint64_t sent;          /* notices a receiver took (2xx) */
    uint64_t failed;        /* notices given up on */
    uint64_t retried;       /* attempts after a first */
    uint64_t dropped;       /* notices refused by a full queue */
    size_t queued;          /* waiting now */
} sl_webhook_counters;

/* Called on the sender's thread after a notice's last attempt, and from
 * sl_webhook_sender_post when the queue is full: status is "sent",
 * "failed: <why>" or "dropped: the queue is full". */
typedef void (*sl_webhook_result_fn)(void *context, const char *rule, bool is_firing, const char *status,
                                     int attempts, int64_t at_ms);

typedef struct sl_webhook_sender sl_webhook_sender;

/* Starts the sender's thread. result (may be NULL) gets each outcome. */
int sl_webhook_sender_start(sl_webhook_result_fn result, void *context, sl_webhook_sender **out, sl_error *err);

/* Queues payload (copied) for webhook (its url, headers and retry settings
 * copied), about rule's alert firing or resolving. Never blocks on the
 * network. SL_EAGAIN when the queue is full (counted as dropped, result
 * called), SL_ENOMEM. */
int sl_webhook_sender_post(sl_webhook_sender *sender, const sl_alert_webhook *webhook, const char *rule,
                           bool is_firing, const char *payload, size_t payload_len);

void sl_webhook_sender_counters(sl_webhook_sender *sender, sl_webhook_counters *out);

/* Stops the thread (dropping what is queued) and frees. NULL is a no-op. */
void sl_webhook_sender_stop(sl_webhook_sender *sender);

/* url as logs show it: the credentials before an '@' of its authority
 * (user:password) replaced by ***. NULL when out of memory; the caller
 * frees. */
char *sl_webhook_url_redact(const char *url);

/* Whether a header's value is a secret to keep out of logs. */
bool sl_webhook_header_is_secret(const char *name);

#endif
