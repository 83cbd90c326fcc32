/* http.h — the HTTP listener of `sluice server`: libmicrohttpd under a
 * table of routes.
 *
 * A route is a method, a path pattern whose `{name}` segments capture one
 * path segment each ("/api/v1/dags/{dag}/runs"), and a handler. Handlers
 * run on libmicrohttpd's threads, so they must not block on pipelines: they
 * read counters and post commands to the main thread (waiting for its
 * answer, which for a stop comes after the pipeline's drain). Request bodies over SL_HTTP_BODY_MAX are
 * refused with 413 before a handler runs; an unknown path is 404, a known
 * path with another method 405 with an Allow header.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stddef.h>

#include "core/buffer.h"
#include "core/error.h"

#define SL_HTTP_BODY_MAX (1024 * 1024)
#define SL_HTTP_MAX_PARAMS 4
#define SL_HTTP_MAX_HEADERS 6

typedef struct sl_http_request {
    const char *method;
    const char *path;
    const char *body;      /* NUL-terminated; "" without one */
    size_t body_len;
    const char *param_names[SL_HTTP_MAX_PARAMS];
    char *param_values[SL_HTTP_MAX_PARAMS];   /* the captured {name} segments, decoded */
    size_t n_params;
    void *connection;      /* for sl_http_query */
} sl_http_request;

typedef struct sl_http_response {
    int status;
    const char *content_type;   /* default application/json */
    sl_buffer body;
    /* Extra headers (sl_http_add_header); names and values are borrowed
     * and must outlive the request (string literals, the embedded UI's
     * table). Without a Cache-Control among them the answer says no-store. */
    const char *header_names[SL_HTTP_MAX_HEADERS];
    const char *header_values[SL_HTTP_MAX_HEADERS];
    size_t n_headers;
    /* When set, the answer's bytes instead of body: borrowed, never freed
     * or copied (the embedded UI files, which live as long as the process). */
    const void *static_body;
    size_t static_body_len;
} sl_http_response;

typedef void (*sl_http_handler)(void *context, const sl_http_request *request, sl_http_response *response);

typedef struct sl_http_route {
    const char *method;
    const char *pattern;
    sl_http_handler handler;
    const char *help;
} sl_http_route;

typedef struct sl_http_server sl_http_server;

/* Starts serving routes (a table ended by a row with a NULL method) on
 * listen ("HOST:PORT"; port 0 picks a free one). Failing to bind names the
 * address and the reason. */
int sl_http_start(const char *listen, const sl_http_route *routes, void *context, sl_http_server **out,
                  sl_error *err);

/* The port actually bound. */
int sl_http_port(const sl_http_server *server);

/* Stops accepting, finishes the requests in progress and frees. */
void sl_http_stop(sl_http_server *server);

/* The value of a request's ?name=..., or NULL. */
const char *sl_http_query(const sl_http_request *request, const char *name);

/* The value of a request header (case-insensitive name), or NULL. */
const char *sl_http_header(const sl_http_request *request, const char *name);

/* Adds a header to the answer (both strings borrowed, see sl_http_response);
 * SL_EINVAL when SL_HTTP_MAX_HEADERS are set already. */
int sl_http_add_header(sl_http_response *response, const char *name, const char *value);

/* The capture called name, or NULL. */
const char *sl_http_param(const sl_http_request *request, const char *name);

/* Sets status and a JSON body {"error": message}. */
void sl_http_error(sl_http_response *response, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
