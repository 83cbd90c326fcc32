/* alerts_sender_test.c — the webhook sender against a small HTTP server
 * on a loopback socket in this test (a thread that answers each request
 * with the next status of a script): transient answers (500, 429) are
 * retried with backoff until a 2xx, a 4xx is final after one try, a closed
 * port is retried then given up, a stop interrupts a retry's wait, and
 * header values that are secrets are recognised. Threaded: also run under
 * TSan. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "server/alerts/alerts_webhook.h"

#define DEADLINE_MS (60 * 1000)

typedef struct script_server {
    int listener;
    int port;
    int statuses[8];
    size_t n_statuses;
    atomic_int n_requests;
    char last_request[4096];
    pthread_mutex_t mutex;
    pthread_t thread;
} script_server;

static void *serve(void *arg)
{
    script_server *server = arg;
    for (;;) {
        int client = accept(server->listener, NULL, NULL);
        if (client < 0) return NULL;
        char request[4096];
        size_t used = 0;
        /* Reads until the body's end: headers, then Content-Length bytes. */
        for (;;) {
            ssize_t got = read(client, request + used, sizeof request - 1 - used);
            if (got <= 0) break;
            used += (size_t)got;
            request[used] = '\0';
            char *end = strstr(request, "\r\n\r\n");
            const char *length = strcasestr(request, "Content-Length:");
            if (end && length && (size_t)(end + 4 - request) + (size_t)atoi(length + 15) <= used) break;
        }
        int index = atomic_fetch_add(&server->n_requests, 1);
        pthread_mutex_lock(&server->mutex);
        snprintf(server->last_request, sizeof server->last_request, "%s", request);
        pthread_mutex_unlock(&server->mutex);
        int status = (size_t)index < server->n_statuses ? server->statuses[index] : 200;
        char answer[200];
        int len = snprintf(answer, sizeof answer, "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                           status);
        if (write(client, answer, (size_t)len) < 0) { /* the test sees the missing answer */ }
        close(client);
    }
}

static void server_start(script_server *server, const int *statuses, size_t n)
{
    memset(server, 0, sizeof *server);
    if (n) memcpy(server->statuses, statuses, n * sizeof *statuses);
    server->n_statuses = n;
    pthread_mutex_init(&server->mutex, NULL);
    server->listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(server->listener >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(server->listener, (struct sockaddr *)&address, sizeof address), 0);
    cr_assert_eq(listen(server->listener, 8), 0);
    socklen_t size = sizeof address;
    getsockname(server->listener, (struct sockaddr *)&address, &size);
    server->port = ntohs(address.sin_port);
    cr_assert_eq(pthread_create(&server->thread, NULL, serve, server), 0);
}

static void server_stop(script_server *server)
{
    shutdown(server->listener, SHUT_RDWR);
    close(server->listener);
    pthread_join(server->thread, NULL);
    pthread_mutex_destroy(&server->mutex);
}

typedef struct outcome {
    pthread_mutex_t mutex;
    int n_results;
    char status[600];
    int attempts;
} outcome;

static void on_result(void *context, const char *rule, bool is_firing, const char *status, int attempts, int64_t at_ms)
{
    (void)at_ms;
    outcome *o = context;
    pthread_mutex_lock(&o->mutex);
    o->n_results++;
    snprintf(o->status, sizeof o->status, "%s %s %s", rule, is_firing ? "firing" : "resolved", status);
    o->attempts = attempts;
    pthread_mutex_unlock(&o->mutex);
}

static void wait_result(outcome *o)
{
    int64_t deadline = sl_clock_monotonic_ms() + DEADLINE_MS;
    for (;;) {
        pthread_mutex_lock(&o->mutex);
        int n = o->n_results;
        pthread_mutex_unlock(&o->mutex);
        if (n) return;
        cr_assert(sl_clock_monotonic_ms() < deadline, "no result within the deadline");
        sl_sleep_ms(10);
    }
}

static sl_alert_webhook webhook_at(char *url, size_t size, int port, int64_t retries)
{
    snprintf(url, size, "http://127.0.0.1:%d/hook", port);
    sl_alert_webhook webhook = { .name = "ops", .url = url, .timeout_ms = 10000, .retries = retries,
                                 .retry_delay_ms = 10, .max_retry_delay_ms = 40, .send_resolved = true };
    webhook.headers[0] = (sl_alert_pair){ "Authorization", "Bearer abc" };
    webhook.headers[1] = (sl_alert_pair){ "X-Team", "data" };
    webhook.n_headers = 2;
    return webhook;
}

static void send_one(const int *statuses, size_t n, int64_t retries, outcome *o, script_server *server,
                     sl_webhook_counters *counters)
{
    server_start(server, statuses, n);
    pthread_mutex_init(&o->mutex, NULL);
    sl_webhook_sender *sender = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_webhook_sender_start(on_result, o, &sender, &err), SL_OK, "%s", err.message);
    char url[100];
    sl_alert_webhook webhook = webhook_at(url, sizeof url, server->port, retries);
    const char *payload = "{\"version\":\"4\"}";
    cr_assert_eq(sl_webhook_sender_post(sender, &webhook, "down", true, payload, strlen(payload)), SL_OK);
    wait_result(o);
    sl_webhook_sender_counters(sender, counters);
    sl_webhook_sender_stop(sender);
    server_stop(server);
}

Test(alerts_sender, transient_answers_are_retried_until_a_2xx)
{
    int statuses[] = { 500, 429, 503 };
    outcome o = { 0 };
    script_server server;
    sl_webhook_counters counters;
    send_one(statuses, 3, 5, &o, &server, &counters);
    cr_assert_str_eq(o.status, "down firing sent");
    cr_assert_eq(o.attempts, 4);
    cr_assert_eq(atomic_load(&server.n_requests), 4);
    cr_assert_eq(counters.sent, 1);
    cr_assert_eq(counters.retried, 3);
    cr_assert_eq(counters.failed, 0);
    cr_assert(strstr(server.last_request, "POST /hook HTTP/1.1"), "%s", server.last_request);
    cr_assert(strstr(server.last_request, "Authorization: Bearer abc"), "%s", server.last_request);
    cr_assert(strstr(server.last_request, "Content-Type: application/json"), "%s", server.last_request);
    cr_assert(strstr(server.last_request, "{\"version\":\"4\"}"), "%s", server.last_request);
}

Test(alerts_sender, a_4xx_is_final_after_one_try)
{
    int statuses[] = { 404 };
    outcome o = { 0 };
    script_server server;
    sl_webhook_counters counters;
    send_one(statuses, 1, 5, &o, &server, &counters);
    cr_assert_str_eq(o.status, "down firing failed: HTTP 404");
    cr_assert_eq(o.attempts, 1);
    cr_assert_eq(counters.failed, 1);
    cr_assert_eq(counters.retried, 0);
}

Test(alerts_sender, retries_end_after_the_configured_count)
{
    int statuses[] = { 500, 500, 500, 500 };
    outcome o = { 0 };
    script_server server;
    sl_webhook_counters counters;
    send_one(statuses, 4, 2, &o, &server, &counters);
    cr_assert_str_eq(o.status, "down firing failed: HTTP 500");
    cr_assert_eq(o.attempts, 3, "one try and 2 retries");
    cr_assert_eq(atomic_load(&server.n_requests), 3);
}

Test(alerts_sender, a_closed_port_is_transient_and_a_stop_interrupts_the_backoff)
{
    /* A port bound then closed: connections are refused. */
    script_server server;
    server_start(&server, NULL, 0);
    int port = server.port;
    server_stop(&server);
    outcome o = { 0 };
    pthread_mutex_init(&o.mutex, NULL);
    sl_webhook_sender *sender = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_webhook_sender_start(on_result, &o, &sender, &err), SL_OK, "%s", err.message);
    char url[100];
    sl_alert_webhook webhook = webhook_at(url, sizeof url, port, 100);
    webhook.retry_delay_ms = webhook.max_retry_delay_ms = 3600 * 1000;   /* an hour between tries */
    cr_assert_eq(sl_webhook_sender_post(sender, &webhook, "down", false, "{}", 2), SL_OK);
    int64_t deadline = sl_clock_monotonic_ms() + DEADLINE_MS;
    sl_webhook_counters counters = { 0 };
    while (counters.retried == 0) {
        cr_assert(sl_clock_monotonic_ms() < deadline, "the refused connection was not retried");
        sl_sleep_ms(10);
        sl_webhook_sender_counters(sender, &counters);
    }
    sl_webhook_sender_stop(sender);   /* returns at once, not in an hour */
    cr_assert_eq(o.n_results, 1);
    cr_assert_str_eq(o.status, "down resolved failed: the server stopped before a retry");
}

Test(alerts_sender, credentials_of_a_url_are_kept_out_of_logs)
{
    const char *cases[][2] = {
        { "http://user:pa55@host:9/hook?x=1", "http://***@host:9/hook?x=1" },
        { "https://a@b@host/hook", "https://***@host/hook" },
        { "http://host/hook?to=me@example.com", "http://host/hook?to=me@example.com" },
        { "http://127.0.0.1:9099/hook", "http://127.0.0.1:9099/hook" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *shown = sl_webhook_url_redact(cases[i][0]);
        cr_assert_str_eq(shown, cases[i][1]);
        free(shown);
    }
}

Test(alerts_sender, secret_headers_are_recognised)
{
    cr_assert(sl_webhook_header_is_secret("Authorization"));
    cr_assert(sl_webhook_header_is_secret("cookie"));
    cr_assert(sl_webhook_header_is_secret("X-Api-Key"));
    cr_assert(sl_webhook_header_is_secret("X-Auth-Token"));
    cr_assert(sl_webhook_header_is_secret("Client-Secret"));
    cr_assert_not(sl_webhook_header_is_secret("X-Team"));
    cr_assert_not(sl_webhook_header_is_secret("Content-Language"));
}
